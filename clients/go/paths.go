package nxuskit

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Where nxuskit keeps its socket and reads its configuration, by the rules of
// docs/protocol.md section 1 (client/nxuskit/paths.py). getenv is the environment to
// read: os.Getenv, or a test's own.

const appName = "nxuskit"

func home(getenv func(string) string) string {
	if value := getenv("HOME"); value != "" {
		return value
	}
	dir, _ := os.UserHomeDir()
	return dir
}

func xdg(getenv func(string) string, variable, fallback string) string {
	if value := strings.TrimSpace(getenv(variable)); value != "" {
		return value
	}
	return filepath.Join(home(getenv), fallback)
}

// runtimeDir is the per-user directory that holds nxuskit's socket directory.
func runtimeDir(getenv func(string) string) string {
	if runtime.GOOS == "darwin" {
		return filepath.Join(home(getenv), "Library", "Caches", "TemporaryItems")
	}
	if value := strings.TrimSpace(getenv("XDG_RUNTIME_DIR")); value != "" {
		return value
	}
	uid := strconv.Itoa(os.Getuid())
	if info, err := os.Stat("/run/user/" + uid); err == nil && info.IsDir() {
		return "/run/user/" + uid
	}
	tmp := strings.TrimSpace(getenv("TMPDIR"))
	if tmp == "" {
		tmp = "/tmp"
	}
	return filepath.Join(tmp, "runtime-"+uid)
}

// SocketPath is the daemon's socket: NXUSKIT_SOCKET (trimmed, made absolute) when set,
// else <runtime dir>/nxuskit/nxuskitd.sock.
func SocketPath() string { return socketPath(os.Getenv) }

func socketPath(getenv func(string) string) string {
	if explicit := strings.TrimSpace(getenv("NXUSKIT_SOCKET")); explicit != "" {
		if abs, err := filepath.Abs(explicit); err == nil {
			return abs
		}
		return explicit
	}
	return filepath.Join(runtimeDir(getenv), appName, "nxuskitd.sock")
}

// configPath is config.toml's path (it need not exist).
func configPath(getenv func(string) string) string {
	if runtime.GOOS == "darwin" {
		return filepath.Join(home(getenv), "Library", "Application Support", appName, "config.toml")
	}
	return filepath.Join(xdg(getenv, "XDG_CONFIG_HOME", ".config"), appName, "config.toml")
}

// daemonLogPath is where an autostarted daemon writes its log.
func daemonLogPath(getenv func(string) string) string {
	if runtime.GOOS == "darwin" {
		return filepath.Join(home(getenv), "Library", "Logs", appName, "nxuskitd.log")
	}
	return filepath.Join(xdg(getenv, "XDG_STATE_HOME", filepath.Join(".local", "state")), appName, "nxuskitd.log")
}

func startLockPath(socket string) string { return socket + ".start.lock" }
