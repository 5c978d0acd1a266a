package nxuskit

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Who this client may trust, as client/nxuskit/trust.py and docs/protocol.md section 1
// say: every directory from / down to the socket's is owned by this user or root and
// writable by no one else (a root-owned sticky directory like /tmp excepted); the
// socket's own directory is a real directory of this user, closed to everyone else; and,
// once connected, the kernel says this user serves the socket. Any failure is a
// permission_denied error naming the path and its owner, and nothing is sent.

const (
	maxLinks = 16
	trustFix = "use a directory only you can write to (set XDG_RUNTIME_DIR, or NXUSKIT_SOCKET)"
)

func ownerName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if found, err := user.LookupId(id); err == nil && found.Username != "" {
		return fmt.Sprintf("uid %s (%s)", id, found.Username)
	}
	return "uid " + id
}

func lstat(path string) (*syscall.Stat_t, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return nil, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	return &st, nil
}

func isLink(st *syscall.Stat_t) bool { return st.Mode&syscall.S_IFMT == syscall.S_IFLNK }
func isDir(st *syscall.Stat_t) bool  { return st.Mode&syscall.S_IFMT == syscall.S_IFDIR }

func reason(err error) string {
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err.Error()
	}
	return err.Error()
}

// checkDirectoryChain checks every directory from / down to directory. A missing one is
// no error: its parent was checked, and whoever creates it creates it for us.
func checkDirectoryChain(directory string, uid uint32) error {
	abs, err := filepath.Abs(directory)
	if err != nil {
		return newError(KindPermissionDenied, "cannot check "+directory+": "+err.Error())
	}
	return walkChain(abs, uid, 0)
}

func walkChain(path string, uid uint32, links int) error {
	current := "/"
	st, err := lstat(current)
	if err != nil {
		return newError(KindPermissionDenied, "cannot check /: "+reason(err))
	}
	if err := checkLinkOrDir(current, st, uid); err != nil {
		return err
	}
	for _, name := range strings.Split(strings.Trim(path, "/"), "/") {
		if name == "" {
			continue
		}
		step := filepath.Join(current, name)
		st, err := lstat(step)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		} else if err != nil {
			return newError(KindPermissionDenied, "cannot check "+step+": "+reason(err))
		}
		if err := checkLinkOrDir(step, st, uid); err != nil {
			return err
		}
		if !isLink(st) {
			current = step
			continue
		}
		if links >= maxLinks {
			return newError(KindPermissionDenied, "too many symlinks on the way to "+path)
		}
		target, err := filepath.EvalSymlinks(step)
		if err != nil {
			return newError(KindPermissionDenied, "cannot follow "+step+": "+reason(err))
		}
		if err := walkChain(target, uid, links+1); err != nil {
			return err
		}
		current = target
	}
	return nil
}

func checkLinkOrDir(path string, st *syscall.Stat_t, uid uint32) error {
	if st.Uid != uid && st.Uid != 0 {
		what := "directory"
		if isLink(st) {
			what = "symlink"
		}
		return newError(KindPermissionDenied, fmt.Sprintf(
			"the %s %s belongs to %s, who could redirect nxuskit's socket: %s",
			what, path, ownerName(st.Uid), trustFix))
	}
	if isLink(st) {
		return nil
	}
	if !isDir(st) {
		return newError(KindPermissionDenied, path+" is not a directory")
	}
	if st.Mode&0o022 != 0 && !(st.Uid == 0 && st.Mode&syscall.S_ISVTX != 0) {
		return newError(KindPermissionDenied, fmt.Sprintf(
			"%s can be written by other users (mode %04o, owner %s), who could replace what is in it: %s",
			path, st.Mode&0o7777, ownerName(st.Uid), trustFix))
	}
	return nil
}

// checkPrivateDirectory: directory (which must exist) is a real directory of uid's,
// closed to everyone else.
func checkPrivateDirectory(directory string, uid uint32) error {
	st, err := lstat(directory)
	if err != nil {
		return newError(KindPermissionDenied, "cannot check "+directory+": "+reason(err))
	}
	switch {
	case isLink(st):
		return newError(KindPermissionDenied, directory+" is a symlink: nxuskit's socket "+
			"directory must be a real directory; remove the link and let nxuskit create it")
	case !isDir(st):
		return newError(KindPermissionDenied, directory+" is not a directory: move it away")
	case st.Uid != uid:
		return newError(KindPermissionDenied, fmt.Sprintf(
			"%s belongs to %s, not to you (%s): nxuskit will not use it; %s",
			directory, ownerName(st.Uid), ownerName(uid), trustFix))
	case st.Mode&0o077 != 0:
		return newError(KindPermissionDenied, openToOthers(directory, st))
	}
	return nil
}

func openToOthers(directory string, st *syscall.Stat_t) string {
	problem := fmt.Sprintf("%s is open to other users (mode %04o)", directory, st.Mode&0o7777)
	// Only nxuskit's own directory may be tightened; anything else is someone's choice.
	if filepath.Base(directory) == appName && st.Mode&syscall.S_ISVTX == 0 {
		return problem + ": run chmod 700 " + directory
	}
	return problem + ": the socket needs a directory of its own, like " +
		filepath.Join(directory, appName, "nxuskitd.sock") +
		" or the default in $XDG_RUNTIME_DIR (set it with NXUSKIT_SOCKET)"
}

// checkSocketDirectory: the chain above directory passes, and directory is private.
func checkSocketDirectory(directory string, uid uint32) error {
	abs, err := filepath.Abs(directory)
	if err != nil {
		return newError(KindPermissionDenied, "cannot check "+directory+": "+err.Error())
	}
	if err := checkDirectoryChain(filepath.Dir(abs), uid); err != nil {
		return err
	}
	return checkPrivateDirectory(abs, uid)
}

// makePrivateDirectory creates directory and its missing parents 0700, checking the
// chain at each step; an existing one is checked, never changed.
func makePrivateDirectory(directory string, uid uint32) error {
	path, err := filepath.Abs(directory)
	if err != nil {
		return newError(KindPermissionDenied, "cannot check "+directory+": "+err.Error())
	}
	if err := checkDirectoryChain(filepath.Dir(path), uid); err != nil {
		return err
	}
	var missing []string
	for {
		if _, err := lstat(path); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
		missing = append(missing, path)
		parent := filepath.Dir(path)
		if parent == path {
			break
		}
		path = parent
	}
	for i := len(missing) - 1; i >= 0; i-- {
		// Made meanwhile by someone else? Judged below, never used unchecked.
		if err := os.Mkdir(missing[i], 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return newError(KindDaemonUnavailable, "cannot create "+missing[i]+": "+reason(err))
		}
		if err := checkDirectoryChain(filepath.Dir(missing[i]), uid); err != nil {
			return err
		}
	}
	return checkSocketDirectory(directory, uid)
}

// checkPeer refuses a daemon that is not this user's; called before anything is sent.
func checkPeer(conn syscall.Conn, path string) error {
	me := uint32(os.Geteuid())
	uid, err := peerUID(conn)
	if err != nil {
		return newError(KindPermissionDenied, "cannot tell who serves "+path+
			" on this system, so nothing was sent to it")
	}
	if uid != me {
		return newError(KindPermissionDenied, fmt.Sprintf(
			"refusing %s: it is served by %s, not by you (%s), so nothing was sent to it; %s",
			path, ownerName(uid), ownerName(me), trustFix))
	}
	return nil
}
