package nxuskit

import "errors"

// Kind is the stable name of an error: the data.kind string on the wire
// (docs/protocol.md section 8). Switch on it, or use errors.Is with the Err values.
type Kind string

// The kinds a client meets. KindDaemonUnavailable, KindVersionMismatch and
// KindProtocolError are also made on this side of the socket.
const (
	KindDaemonUnavailable Kind = "daemon_unavailable"
	KindDaemonBusy        Kind = "daemon_busy"
	KindVersionMismatch   Kind = "version_mismatch"
	KindUnknownProvider   Kind = "unknown_provider"
	KindNotAuthenticated  Kind = "not_authenticated"
	KindStoreUnavailable  Kind = "store_unavailable"
	KindPermissionDenied  Kind = "permission_denied"
	KindInvalidParams     Kind = "invalid_params"
	KindConfigInvalid     Kind = "config_invalid"
	KindLoginFailed       Kind = "login_failed"
	KindProtocolError     Kind = "protocol_error"
)

// codes holds each kind's JSON-RPC code, as the Python client's errors.py numbers them.
var codes = map[Kind]int{
	KindDaemonUnavailable: 1000,
	KindDaemonBusy:        1008,
	KindVersionMismatch:   1001,
	KindUnknownProvider:   1002,
	KindNotAuthenticated:  1003,
	KindStoreUnavailable:  1004,
	KindPermissionDenied:  1005,
	KindInvalidParams:     -32602,
	KindConfigInvalid:     1006,
	KindLoginFailed:       1010,
	KindProtocolError:     -32603,
}

// Error is every error this package returns. Its Message says what went wrong and how
// to fix it, and never holds a secret. The tree, as in the Python client:
//
//	Error                      match with errors.As(err, &e) and e.Kind
//	├── daemon_unavailable     no daemon answers (and it could not be started), or a timeout
//	│   └── daemon_busy        the daemon is at its connection limit (errors.Is(err,
//	│                          ErrDaemonUnavailable) holds too)
//	├── version_mismatch       the daemon speaks an older protocol
//	├── unknown_provider       no built-in or configured provider has that name
//	├── not_authenticated      no credential: not given, not in the environment, not stored
//	├── store_unavailable      the daemon's credential store cannot be used right now
//	├── permission_denied      the socket, its directory or the daemon is not this user's
//	├── invalid_params         a value the daemon (or this client) refuses
//	├── config_invalid         config.toml is wrong; the message names the file and line
//	├── login_failed           an OAuth login or refresh failed
//	└── protocol_error         the daemon broke the wire contract (a bug: please report)
//
// A kind this client does not know arrives as protocol_error (or invalid_params for
// code -32602), with the daemon's message; it never panics.
type Error struct {
	Kind    Kind
	Code    int
	Message string
	cause   error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns what caused the error, when it came from this side (a context's
// cancellation, for example: errors.Is(err, context.DeadlineExceeded) holds).
func (e *Error) Unwrap() error { return e.cause }

// Is makes errors.Is(err, ErrNotAuthenticated) and the like match by kind; a daemon_busy
// error is also a daemon_unavailable one.
func (e *Error) Is(target error) bool {
	other, ok := target.(*Error)
	if !ok {
		return false
	}
	return other.Kind == e.Kind || (other.Kind == KindDaemonUnavailable && e.Kind == KindDaemonBusy)
}

// Values to match with errors.Is; they are never returned themselves.
var (
	ErrDaemonUnavailable = &Error{Kind: KindDaemonUnavailable}
	ErrDaemonBusy        = &Error{Kind: KindDaemonBusy}
	ErrVersionMismatch   = &Error{Kind: KindVersionMismatch}
	ErrUnknownProvider   = &Error{Kind: KindUnknownProvider}
	ErrNotAuthenticated  = &Error{Kind: KindNotAuthenticated}
	ErrStoreUnavailable  = &Error{Kind: KindStoreUnavailable}
	ErrPermissionDenied  = &Error{Kind: KindPermissionDenied}
	ErrInvalidParams     = &Error{Kind: KindInvalidParams}
	ErrConfigInvalid     = &Error{Kind: KindConfigInvalid}
	ErrLoginFailed       = &Error{Kind: KindLoginFailed}
	ErrProtocolError     = &Error{Kind: KindProtocolError}
)

func newError(kind Kind, message string) *Error {
	return &Error{Kind: kind, Code: codes[kind], Message: message}
}

func wrapError(kind Kind, message string, cause error) *Error {
	err := newError(kind, message)
	err.cause = cause
	return err
}

// wireError is a JSON-RPC error object as the daemon sends it.
type wireError struct {
	Code    *int    `json:"code"`
	Message *string `json:"message"`
	Data    *struct {
		Kind *string `json:"kind"`
	} `json:"data"`
}

// fromWire maps a decoded JSON-RPC error object to an Error by its data.kind.
func fromWire(w *wireError) *Error {
	message := "the daemon reported an error without a message"
	if w.Message != nil {
		message = *w.Message
	}
	kind := Kind("")
	if w.Data != nil && w.Data.Kind != nil {
		kind = Kind(*w.Data.Kind)
	}
	if _, known := codes[kind]; !known {
		kind = KindProtocolError
		if w.Code != nil && *w.Code == codes[KindInvalidParams] {
			kind = KindInvalidParams
		}
	}
	return newError(kind, message)
}

// kindOf is err's Kind, or "" when err is not one of ours.
func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}
