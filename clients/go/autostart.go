package nxuskit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Starting the daemon on demand, as docs/protocol.md section 1 says and the Python
// client does (client/nxuskit/autostart.py): create the socket's directory 0700 (the
// chain checked), take an exclusive flock on <socket>.start.lock (opened with
// O_NOFOLLOW, a regular file of ours), look again, start `nxuskitd` from PATH detached
// in its own session with a clean environment and its log in the state directory, and
// wait until it answers. The same lock file as the Python client's, so that clients of
// both languages together start exactly one daemon.

// daemonEnvironment lists the variables an autostarted daemon keeps, besides every XDG_*,
// LC_* and NXUSKIT_* one: never an app's provider keys.
var daemonEnvironment = map[string]bool{
	"HOME": true, "USER": true, "LOGNAME": true, "PATH": true, "SHELL": true, "TMPDIR": true,
	"TZ": true, "LANG": true, "LANGUAGE": true,
	// the session bus and a display: the OS keyring and its unlock prompt need them
	"DBUS_SESSION_BUS_ADDRESS": true, "DISPLAY": true, "WAYLAND_DISPLAY": true, "XAUTHORITY": true,
	// OAuth refreshes go out over HTTPS: proxies and CA bundles must still apply
	"HTTPS_PROXY": true, "HTTP_PROXY": true, "NO_PROXY": true, "ALL_PROXY": true,
	"https_proxy": true, "http_proxy": true, "no_proxy": true, "all_proxy": true,
	"SSL_CERT_FILE": true, "SSL_CERT_DIR": true, "PYTHON_KEYRING_BACKEND": true,
}

// cleanEnvironment is what the daemon gets of environ (KEY=VALUE entries).
func cleanEnvironment(environ []string) []string {
	var kept []string
	for _, entry := range environ {
		name, _, _ := strings.Cut(entry, "=")
		if daemonEnvironment[name] || strings.HasPrefix(name, "XDG_") ||
			strings.HasPrefix(name, "LC_") || strings.HasPrefix(name, "NXUSKIT_") {
			kept = append(kept, entry)
		}
	}
	return kept
}

// answers reports whether something accepts connections at path (nothing is sent).
func answers(path string) bool {
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func openStartLock(socket string) (*os.File, error) {
	path := startLockPath(socket)
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, newError(KindPermissionDenied, "cannot open "+path+": "+err.Error())
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Uid != uint32(os.Geteuid()) ||
		st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, newError(KindPermissionDenied, path+" is not a file of yours")
	}
	return os.NewFile(uintptr(fd), path), nil
}

// lockExclusive waits for the start lock, giving up when ctx ends.
func lockExclusive(ctx context.Context, lock *os.File) error {
	delay := time.Millisecond
	for {
		err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return newError(KindDaemonUnavailable, "cannot lock "+lock.Name()+": "+err.Error())
		}
		select {
		case <-ctx.Done():
			return wrapError(KindDaemonUnavailable, "stopped waiting for another client to start nxuskitd: "+
				ctx.Err().Error(), ctx.Err())
		case <-time.After(delay):
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// startDaemon starts nxuskitd for socket unless one answers there, and returns once it
// answers. Errors: permission_denied (an unsafe directory on the way), daemon_unavailable.
func startDaemon(ctx context.Context, socket string, getenv func(string) string) error {
	if err := makePrivateDirectory(filepath.Dir(socket), uint32(os.Geteuid())); err != nil {
		return err
	}
	lock, err := openStartLock(socket)
	if err != nil {
		return err
	}
	defer lock.Close() // closing releases the flock
	if err := lockExclusive(ctx, lock); err != nil {
		return err
	}
	if answers(socket) {
		return nil
	}
	log := daemonLogPath(getenv)
	exited, err := spawn(socket, log)
	if err != nil {
		return err
	}
	return awaitDaemon(ctx, socket, log, exited)
}

// spawn runs nxuskitd detached; the channel gets its exit status, should it end.
func spawn(socket, log string) (<-chan error, error) {
	program, err := exec.LookPath("nxuskitd")
	if err != nil {
		return nil, newError(KindDaemonUnavailable, "nxuskitd is not on PATH, so it cannot be "+
			"started: install it with pip install 'nxuskit[daemon]' (or run it as a service: "+
			"nxuskit-cli daemon install)")
	}
	if err := os.MkdirAll(filepath.Dir(log), 0o700); err != nil {
		return nil, newError(KindDaemonUnavailable, "cannot create "+filepath.Dir(log)+": "+reason(err))
	}
	output, err := os.OpenFile(log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, newError(KindDaemonUnavailable, "cannot open "+log+": "+reason(err))
	}
	defer output.Close()
	command := exec.Command(program, "--socket", socket, "--started-by", "autostart")
	command.Env = cleanEnvironment(os.Environ())
	command.Stdout, command.Stderr = output, output // stdin: /dev/null
	command.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := command.Start(); err != nil {
		return nil, newError(KindDaemonUnavailable, "cannot start "+program+": "+reason(err))
	}
	exited := make(chan error, 1)
	go func() { exited <- command.Wait() }() // reaps it whenever it ends
	return exited, nil
}

func awaitDaemon(ctx context.Context, socket, log string, exited <-chan error) error {
	deadline := time.Now().Add(startTimeout)
	delay := 5 * time.Millisecond
	for time.Now().Before(deadline) {
		if answers(socket) {
			return nil
		}
		select {
		case err := <-exited:
			// nxuskitd leaves the process we started once it serves, and that process
			// then exits 0: the daemon goes on in a process of its own.
			if err == nil && answers(socket) {
				return nil
			}
			detail := lastLine(log)
			if detail != "" {
				detail = ": " + detail
			}
			return newError(KindDaemonUnavailable, fmt.Sprintf("nxuskitd exited at start (%v)%s; its log is %s",
				err, detail, log))
		case <-ctx.Done():
			return wrapError(KindDaemonUnavailable, "stopped waiting for nxuskitd to start: "+ctx.Err().Error(), ctx.Err())
		case <-time.After(delay):
		}
		if delay < 100*time.Millisecond {
			delay *= 2
		}
	}
	return newError(KindDaemonUnavailable, fmt.Sprintf("nxuskitd did not answer at %s within %s; its log is %s",
		socket, startTimeout, log))
}

// lastLine is the log's last line (of its last 2 KiB), to say why a start failed.
func lastLine(log string) string {
	file, err := os.Open(log)
	if err != nil {
		return ""
	}
	defer file.Close()
	if info, err := file.Stat(); err == nil && info.Size() > 2048 {
		_, _ = file.Seek(-2048, io.SeekEnd)
	}
	tail, _ := io.ReadAll(file)
	lines := strings.Split(strings.TrimSpace(strings.ToValidUTF8(string(tail), "\uFFFD")), "\n")
	return lines[len(lines)-1]
}
