//go:build darwin || freebsd

package nxuskit

import (
	"syscall"
	"unsafe"
)

// peerUID reads LOCAL_PEERCRED (level SOL_LOCAL = 0, option 1): struct xucred
// {u_int cr_version; uid_t cr_uid; short cr_ngroups; gid_t cr_groups[16]}.
// Designed from the headers and compiled for darwin; not run here (no macOS in CI).
func peerUID(conn syscall.Conn) (uint32, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	var buffer [76]byte
	size := uint32(len(buffer))
	var errno syscall.Errno
	if err := raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, 0, 1,
			uintptr(unsafe.Pointer(&buffer[0])), uintptr(unsafe.Pointer(&size)), 0)
	}); err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	if size < 8 {
		return 0, syscall.EINVAL
	}
	return *(*uint32)(unsafe.Pointer(&buffer[4])), nil // the host's byte order
}
