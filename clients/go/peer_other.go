//go:build !linux && !darwin && !freebsd

package nxuskit

import "syscall"

// peerUID cannot tell on this system, so nothing is ever sent (docs/protocol.md section 1).
func peerUID(syscall.Conn) (uint32, error) { return 0, syscall.ENOTSUP }
