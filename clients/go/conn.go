package nxuskit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// One verified connection to nxuskitd (client/nxuskit/connection.py): the socket's
// directory is checked, the socket connected, the kernel asked who serves it, and
// daemon.hello said, before anything else is sent. Not safe for concurrent use: the
// Client takes turns on it.

// errClosed: the daemon closed the connection before answering; whether the request
// ran is unknown, so only retry-safe methods are sent again.
var errClosed = errors.New("nxuskitd closed the connection")

// errOutOfStep marks an error line with id null (a refusal, a framing error): the
// daemon closes the connection after it, or answers out of order.
var errOutOfStep = errors.New("an answer with id null")

// errNotRunning: nothing listens at the socket path (the caller may start a daemon).
var errNotRunning = errors.New("no nxuskitd is running")

// transport is what a Client needs of a connection; tests pass an in-memory daemon.
type transport interface {
	call(ctx context.Context, method string, params map[string]any) (json.RawMessage, error)
	stale() bool
	close()
}

type connection struct {
	path    string
	timeout time.Duration
	conn    *net.UnixConn
	reader  *bufio.Reader
	nextID  uint64
}

// dial opens a verified connection to path and says hello. It returns errNotRunning
// when nothing listens there, or an *Error.
func dial(ctx context.Context, path string, timeout time.Duration) (transport, error) {
	directory := filepath.Dir(path)
	uid := uint32(os.Geteuid())
	if _, err := os.Lstat(directory); errors.Is(err, os.ErrNotExist) {
		if err := checkDirectoryChain(directory, uid); err != nil {
			return nil, err
		}
		return nil, errNotRunning
	}
	if err := checkSocketDirectory(directory, uid); err != nil {
		return nil, err
	}
	dialer := net.Dialer{Timeout: timeout}
	raw, err := dialer.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, errNotRunning
		}
		return nil, unavailable(path, err)
	}
	conn := raw.(*net.UnixConn)
	if err := checkPeer(conn, path); err != nil {
		conn.Close()
		return nil, err
	}
	c := newConnection(conn, path, timeout)
	if err := c.hello(ctx); err != nil {
		c.close()
		if errors.Is(err, errClosed) {
			return nil, newError(KindDaemonUnavailable, "nxuskitd at "+path+
				" closed the connection at once; see its log")
		}
		return nil, err
	}
	return c, nil
}

func newConnection(conn *net.UnixConn, path string, timeout time.Duration) *connection {
	return &connection{path: path, timeout: timeout, conn: conn, reader: bufio.NewReaderSize(conn, 64*1024)}
}

func unavailable(path string, err error) *Error {
	if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
		return newError(KindDaemonUnavailable, "cannot connect to "+path+
			": permission denied (is it another user's daemon?)")
	}
	return wrapError(KindDaemonUnavailable, "cannot connect to nxuskitd at "+path+": "+reason(err), err)
}

// call sends one request and waits for its answer, within the context and the timeout.
func (c *connection) call(ctx context.Context, method string, params map[string]any) (json.RawMessage, error) {
	c.nextID++
	line, err := encodeRequest(c.nextID, method, params)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(c.timeout)
	if limit, ok := ctx.Deadline(); ok && limit.Before(deadline) {
		deadline = limit
	}
	if err := c.conn.SetDeadline(deadline); err != nil {
		return nil, errClosed
	}
	if done := ctx.Done(); done != nil {
		// A cancelled context cuts the wait short: an immediate deadline wakes the
		// blocked read or write (the connection is then dropped by the Client).
		finished, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			select {
			case <-done:
				_ = c.conn.SetDeadline(time.Unix(1, 0))
			case <-finished:
			}
		}()
		// Waited for, so that a late cancellation never cuts the next call short.
		defer func() { close(finished); <-stopped }()
	}
	answer, err := c.exchange(line)
	if err != nil {
		return nil, c.failure(ctx, method, err)
	}
	return c.decode(answer)
}

func (c *connection) exchange(line []byte) ([]byte, error) {
	if _, err := c.conn.Write(line); err != nil {
		if isTimeout(err) {
			return nil, err
		}
		// The daemon may have refused us (busy, another uid) and closed before our write:
		// its one-line explanation can still be waiting in the receive buffer.
		if pending, readErr := c.readLine(); readErr == nil {
			if refusal := c.refusal(pending); refusal != nil {
				return nil, refusal
			}
		}
		return nil, errClosed
	}
	return c.readLine()
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// failure turns a transport error into what the caller sees.
func (c *connection) failure(ctx context.Context, method string, err error) error {
	if kindOf(err) != "" || errors.Is(err, errClosed) {
		return err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return wrapError(KindDaemonUnavailable, "stopped waiting for nxuskitd's answer to "+
			method+": "+ctxErr.Error(), ctxErr)
	}
	if isTimeout(err) {
		return wrapError(KindDaemonUnavailable, "nxuskitd at "+c.path+" did not answer "+method+
			" in time (stopped or hung?); check it with: nxuskit-cli daemon status "+
			"(NXUSKIT_TIMEOUT sets the wait)", context.DeadlineExceeded)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return errClosed
	}
	return unavailable(c.path, err)
}

// readLine is the next answer line, newline included, of any length up to the cap.
func (c *connection) readLine() ([]byte, error) {
	line, err := c.reader.ReadSlice('\n')
	if err == nil {
		return line, nil
	}
	whole := append([]byte(nil), line...)
	for errors.Is(err, bufio.ErrBufferFull) {
		if len(whole) > maxAnswerBytes {
			return nil, newError(KindProtocolError, "the daemon sent an answer over the size limit")
		}
		line, err = c.reader.ReadSlice('\n')
		whole = append(whole, line...)
	}
	if err != nil {
		return nil, err
	}
	return whole, nil
}

// refusal is the error an id-null error line carries, or nil when line is no refusal.
func (c *connection) refusal(line []byte) error {
	var message envelope
	if checkAnswerText(line) != nil || json.Unmarshal(line, &message) != nil || isNull(message.Error) {
		return nil
	}
	var wire wireError
	if json.Unmarshal(message.Error, &wire) != nil {
		return nil
	}
	refused := fromWire(&wire)
	refused.cause = errOutOfStep
	return refused
}

func (c *connection) decode(line []byte) (json.RawMessage, error) {
	if err := checkAnswerText(line); err != nil {
		return nil, err
	}
	var message envelope
	if err := json.Unmarshal(line, &message); err != nil {
		return nil, newError(KindProtocolError, "the daemon sent a line that is not a JSON object")
	}
	if string(message.ID) != strconv.FormatUint(c.nextID, 10) {
		if isNull(message.ID) && !isNull(message.Error) { // a refusal, or a framing error
			refused := c.errorFrom(message.Error)
			refused.cause = errOutOfStep
			return nil, refused
		}
		return nil, newError(KindProtocolError, "the daemon answered a different request")
	}
	if message.Error != nil {
		return nil, c.errorFrom(message.Error)
	}
	if message.Result == nil {
		return nil, newError(KindProtocolError, "the daemon's answer has neither a result nor an error")
	}
	return message.Result, nil
}

func (c *connection) errorFrom(raw json.RawMessage) *Error {
	var wire wireError
	if err := json.Unmarshal(raw, &wire); err != nil {
		return newError(KindProtocolError, "the daemon sent a malformed error object")
	}
	return fromWire(&wire)
}

// hello checks that the daemon speaks a protocol this client understands.
func (c *connection) hello(ctx context.Context) error {
	result, err := c.call(ctx, methodHello, map[string]any{"protocol": ProtocolVersion, "client": "nxuskit-go"})
	if kindOf(err) == KindProtocolError {
		return newError(KindVersionMismatch, "the daemon at "+c.path+" does not speak nxuskit "+
			"protocol "+strconv.Itoa(ProtocolVersion)+": restart it to run the installed version")
	}
	if err != nil {
		return err
	}
	var info struct {
		Protocol *json.Number `json:"protocol"`
	}
	_ = json.Unmarshal(result, &info)
	version, convErr := int64(0), error(nil)
	if info.Protocol != nil {
		version, convErr = info.Protocol.Int64()
	}
	if info.Protocol == nil || convErr != nil || version < MinProtocolVersion {
		shown := "none"
		if info.Protocol != nil {
			shown = info.Protocol.String()
		}
		return newError(KindVersionMismatch, "the daemon at "+c.path+" speaks protocol "+shown+
			", this client needs "+strconv.Itoa(MinProtocolVersion)+
			" or newer: restart nxuskitd to run the installed version")
	}
	return nil
}

// stale is true when the daemon closed this connection (or sent something unasked)
// while it sat idle: checked before a request that must not run twice.
func (c *connection) stale() bool {
	if c.reader.Buffered() > 0 {
		return true
	}
	raw, err := c.conn.SyscallConn()
	// A past deadline (the last call's, after a long idle) would keep the peek from running.
	if err != nil || c.conn.SetReadDeadline(time.Time{}) != nil {
		return true
	}
	gone := false
	var probe [1]byte
	_ = raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), probe[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		gone = !(errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR)) || n > 0
		return true
	})
	return gone
}

func (c *connection) close() { _ = c.conn.Close() }
