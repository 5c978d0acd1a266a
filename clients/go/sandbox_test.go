package nxuskit

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A private XDG sandbox and a real nxuskitd in it, as the Python suite's fixtures make
// them (tests/conftest.py). The daemon is the NXUSKITD command (default: nxuskitd on
// PATH); without one the daemon tests skip, unless CI=true, where that is a failure.

const fakeDaemonMode = "NXUSKIT_GO_TEST_FAKE_DAEMON"

func TestMain(m *testing.M) {
	if path := os.Getenv(fakeDaemonMode); path != "" {
		runFakeDaemon(path) // as another user, for the peer check; never returns
	}
	for _, p := range builtins { // the test process sees no provider variable of its own
		os.Unsetenv(p.Env)
		os.Unsetenv(p.HostEnv)
	}
	for _, name := range []string{"NXUSKIT_SOCKET", "NXUSKIT_STORE", "NXUSKIT_TIMEOUT", "DBUS_SESSION_BUS_ADDRESS"} {
		os.Unsetenv(name)
	}
	os.Exit(m.Run())
}

type sandbox struct {
	root   string
	socket string
	env    []string // the daemon's environment
}

// newSandbox makes /tmp/nxg-XXXX with run/ (0700), data/, config/, state/ and points
// this process's XDG variables at it (so tests using it do not run in parallel).
func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	root, err := os.MkdirTemp("/tmp", "nxg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		reapDaemons(root)
		os.RemoveAll(root)
	})
	if err := os.Mkdir(filepath.Join(root, "run"), 0o700); err != nil {
		t.Fatal(err)
	}
	box := &sandbox{root: root, socket: filepath.Join(root, "run", "nxuskit", "nxuskitd.sock")}
	vars := map[string]string{
		"XDG_RUNTIME_DIR": filepath.Join(root, "run"), "XDG_DATA_HOME": filepath.Join(root, "data"),
		"XDG_CONFIG_HOME": filepath.Join(root, "config"), "XDG_STATE_HOME": filepath.Join(root, "state"),
		"NXUSKIT_AUTOSTART": "0",
	}
	for _, entry := range os.Environ() {
		name, _, _ := strings.Cut(entry, "=")
		if _, ours := vars[name]; !ours {
			box.env = append(box.env, entry)
		}
	}
	for name, value := range vars {
		t.Setenv(name, value)
		box.env = append(box.env, name+"="+value)
	}
	return box
}

// daemonCommand is NXUSKITD split into words, or a skip (a failure under CI).
func daemonCommand(t *testing.T) []string {
	t.Helper()
	command := strings.Fields(os.Getenv("NXUSKITD"))
	if len(command) == 0 {
		command = []string{"nxuskitd"}
	}
	if _, err := exec.LookPath(command[0]); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no nxuskitd to test against (%v): set NXUSKITD", err)
		}
		t.Skipf("no nxuskitd to test against (%v): set NXUSKITD to run the daemon tests", err)
	}
	return command
}

type daemon struct {
	process *exec.Cmd
	exited  chan struct{}
	log     string
}

// startDaemonProcess runs nxuskitd --store file ARGS in box and waits until it answers.
func (box *sandbox) start(t *testing.T, args ...string) *daemon {
	t.Helper()
	command := daemonCommand(t)
	log := filepath.Join(box.root, fmt.Sprintf("nxuskitd-%d.log", time.Now().UnixNano()))
	output, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer output.Close()
	argv := append(append(command[1:], "--store", "file"), args...)
	process := exec.Command(command[0], argv...)
	process.Env, process.Stdout, process.Stderr = box.env, output, output
	if err := process.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{process: process, exited: make(chan struct{}), log: log}
	go func() { _ = process.Wait(); close(d.exited) }()
	t.Cleanup(func() { d.stop(syscall.SIGKILL) })
	waitUntil(t, "nxuskitd answers", func() bool {
		select {
		case <-d.exited:
			text, _ := os.ReadFile(log)
			t.Fatalf("nxuskitd exited at start:\n%s", text)
		default:
		}
		return answers(box.socket)
	})
	return d
}

func (d *daemon) stop(signal syscall.Signal) {
	select {
	case <-d.exited:
		return
	default:
	}
	_ = d.process.Process.Signal(signal)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		_ = d.process.Process.Kill()
		<-d.exited
	}
}

// waitUntil polls check until it holds, for at most 15 s.
func waitUntil(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// daemonPIDs lists the live nxuskitd processes whose argv or environment names root.
func daemonPIDs(root string) []int {
	entries, _ := os.ReadDir("/proc")
	var found []int
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if !bytes.Contains(cmdline, []byte("nxuskitd")) || bytes.Contains(status, []byte("State:\tZ")) {
			continue
		}
		environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if bytes.Contains(cmdline, []byte(root)) || bytes.Contains(environ, []byte(root)) {
			found = append(found, pid)
		}
	}
	return found
}

func reapDaemons(root string) {
	for _, pid := range daemonPIDs(root) {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(daemonPIDs(root)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, pid := range daemonPIDs(root) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// fakeServer serves a Unix socket in box's socket directory with handle, one goroutine
// per connection, until the test ends: a stand-in daemon of this same user.
func (box *sandbox) fakeServer(t *testing.T, handle func(net.Conn)) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(box.socket), 0o700); err != nil {
		t.Fatal(err)
	}
	listener, err := net.Listen("unix", box.socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close() })
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			go func() { defer conn.Close(); handle(conn) }()
		}
	}()
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// runFakeDaemon is the other user's fake daemon: it records every byte it receives in
// <dir>/received and answers every line with a forged key.
func runFakeDaemon(path string) {
	listener, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Chmod(path, 0o777)
	fmt.Println("listening")
	record := filepath.Join(filepath.Dir(path), "received")
	for {
		conn, err := listener.Accept()
		if err != nil {
			os.Exit(1)
		}
		buffer := make([]byte, 65536)
		for {
			n, err := conn.Read(buffer)
			if n > 0 {
				out, _ := os.OpenFile(record, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
				_, _ = out.Write(buffer[:n])
				out.Close()
				_, _ = conn.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{"protocol":1,"provider":"openai",` +
					`"secret":"sk-forged-by-the-attacker","source":"store","auth_method":"api_key"}}` + "\n"))
			}
			if err != nil {
				break
			}
		}
		conn.Close()
	}
}
