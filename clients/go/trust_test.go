package nxuskit

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Attacks by another local user, run as that user (uid 65534, through setpriv).

const nobody = 65534

func needNobody(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("running as another user (uid 65534) needs root: not root here")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is not installed")
	}
}

// asNobody starts argv as uid/gid 65534; it is killed when the test ends.
func asNobody(t *testing.T, env []string, argv ...string) *bufio.Reader {
	t.Helper()
	command := exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups"}, argv...)...)
	command.Env = env
	command.Stderr = os.Stderr
	out, err := command.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := command.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = command.Process.Kill(); _ = command.Wait() })
	return bufio.NewReader(out)
}

// copyFile copies the running test binary where uid 65534 can run it.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

func TestADaemonOfAnotherUserBehindOurOwnDirectoryGetsNothing(t *testing.T) {
	needNobody(t)
	box := newSandbox(t)
	// The attacker's directory, in a place uid 65534 can reach, with this test binary
	// (which serves as its fake daemon) beside it.
	shared, err := os.MkdirTemp("/tmp", "nxg-other-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(shared) })
	attacker := filepath.Join(shared, "attacker")
	if err := os.Chmod(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(attacker, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(attacker, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	program := filepath.Join(shared, "fake-daemon")
	copyFile(t, self, program)
	listening := filepath.Join(attacker, "s.sock")
	output := asNobody(t, []string{fakeDaemonMode + "=" + listening}, program)
	if line, err := output.ReadString('\n'); err != nil || line != "listening\n" {
		t.Fatalf("the fake daemon did not start: %q, %v", line, err)
	}
	// A socket file moved into our private directory still leads to the attacker's
	// listener: the directory checks pass, and only the peer check can refuse it.
	if err := os.MkdirAll(filepath.Dir(box.socket), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(listening, box.socket); err != nil {
		t.Fatal(err)
	}
	if !answers(box.socket) {
		t.Fatal("the moved socket does not answer")
	}
	client := NewClient(Options{})
	secret := "sk-victim-key-must-stay-home"
	errSet := client.AuthSetCredential(testContext(t), "openai", secret)
	r, errResolve := client.AuthResolve(testContext(t), "openai", "")
	for _, err := range []error{errSet, errResolve} {
		if !errors.Is(err, ErrPermissionDenied) || !strings.Contains(err.Error(), "served by uid 65534") ||
			!strings.Contains(err.Error(), box.socket) || !strings.Contains(err.Error(), "nothing was sent") {
			t.Fatalf("got %v", err)
		}
	}
	if r.Secret != "" {
		t.Fatalf("took a key from another user's daemon: %q", r.Secret)
	}
	if received, err := os.ReadFile(filepath.Join(attacker, "received")); err == nil && len(received) > 0 {
		t.Fatalf("the other user's daemon received %q", received)
	}
}

func TestAnotherUsersSocketDirectoryIsRefused(t *testing.T) {
	needNobody(t)
	box := newSandbox(t)
	directory := filepath.Dir(box.socket)
	if err := os.Mkdir(directory, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(directory, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	_, err := NewClient(Options{Autostart: AutostartAlways}).AuthResolve(testContext(t), "openai", "")
	if !errors.Is(err, ErrPermissionDenied) || !strings.Contains(err.Error(), directory) ||
		!strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("got %v", err)
	}
}
