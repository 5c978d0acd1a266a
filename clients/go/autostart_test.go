package nxuskit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestConcurrentClientsAutostartExactlyOneDaemonWithACleanEnvironment(t *testing.T) {
	command := daemonCommand(t)
	box := newSandbox(t)
	if program, err := filepath.Abs(command[0]); err == nil && strings.Contains(command[0], "/") {
		t.Setenv("PATH", filepath.Dir(program)+":"+os.Getenv("PATH")) // autostart runs nxuskitd from PATH
	}
	t.Setenv("NXUSKIT_AUTOSTART", "1")
	t.Setenv("NXUSKIT_STORE", "file")
	appSecret := "sk-app-env-must-not-reach-the-daemon"
	t.Setenv("OPENAI_API_KEY", appSecret)
	t.Setenv("AWS_SECRET_ACCESS_KEY", appSecret)
	const clients = 8
	pids := make([]int, clients)
	var wait sync.WaitGroup
	for i := range pids {
		wait.Add(1)
		go func(i int) {
			defer wait.Done()
			client := NewClient(Options{}) // each its own connection and its own lock file
			defer client.Close()
			if _, err := client.AuthStatus(testContext(t), "groq", ""); err != nil {
				t.Error(err)
				return
			}
			pids[i] = daemonPID(t, client)
		}(i)
	}
	wait.Wait()
	running := daemonPIDs(box.root)
	if len(running) != 1 {
		t.Fatalf("%d daemons run: %v (clients saw %v)", len(running), running, pids)
	}
	for _, pid := range pids {
		if pid != running[0] {
			t.Fatalf("clients reached different daemons: %v, running %v", pids, running)
		}
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", running[0]))
	if err != nil || bytes.Contains(environ, []byte(appSecret)) || !bytes.Contains(environ, []byte("XDG_RUNTIME_DIR="+box.root)) {
		t.Fatalf("the daemon's environment: %q, %v", environ, err)
	}
	log, _ := os.ReadFile(filepath.Join(box.root, "state", "nxuskit", "nxuskitd.log"))
	if bytes.Count(log, []byte("serving unix:")) != 1 {
		t.Fatalf("the log should show one start:\n%s", log)
	}
	info, err := os.Lstat(startLockPath(box.socket))
	if err != nil || !info.Mode().IsRegular() || info.Mode().Perm() != 0o600 {
		t.Fatalf("the start lock: %v, %v", info, err)
	}
	_ = syscall.Kill(running[0], syscall.SIGTERM)
}

func TestTheStartLockNeverFollowsASymlink(t *testing.T) {
	box := newSandbox(t)
	if err := os.MkdirAll(filepath.Dir(box.socket), 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(box.root, "elsewhere")
	if err := os.Symlink(target, startLockPath(box.socket)); err != nil {
		t.Fatal(err)
	}
	_, err := NewClient(Options{Autostart: AutostartAlways}).AuthResolve(testContext(t), "openai", "")
	if kindOf(err) != KindPermissionDenied || !strings.Contains(err.Error(), startLockPath(box.socket)) {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Lstat(target); err == nil {
		t.Fatal("the lock was created through the symlink")
	}
}
