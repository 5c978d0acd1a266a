package nxuskit

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Autostart says whether a Client may start nxuskitd when none answers.
type Autostart int

const (
	// AutostartFromEnv starts the daemon unless NXUSKIT_AUTOSTART is 0, false or no.
	AutostartFromEnv Autostart = iota
	// AutostartAlways starts the daemon whenever none answers.
	AutostartAlways
	// AutostartNever never starts one: the error says how to.
	AutostartNever
)

// Options configure a Client; the zero value is the default everywhere.
type Options struct {
	// SocketPath is the daemon's socket; "" means NXUSKIT_SOCKET or the runtime
	// directory's, looked up at each call.
	SocketPath string
	// Autostart says whether to start nxuskitd when none answers.
	Autostart Autostart
	// Timeout bounds the wait for each answer; 0 means NXUSKIT_TIMEOUT or DefaultTimeout.
	// A context's deadline, when earlier, wins.
	Timeout time.Duration
}

// Client is one connection to nxuskitd and the credential API over it. It opens the
// connection on first use (starting the daemon when allowed), keeps it for later calls,
// and opens a new one when the daemon went away between calls; a request whose
// connection closed before its answer is sent again once, only when running it twice is
// harmless. Calls from several goroutines take turns on the one connection. Every
// method takes a context for cancellation and deadlines.
//
// Make one with NewClient; a zero Client works too, with the default Options.
type Client struct {
	options  Options
	once     sync.Once
	turn     chan struct{} // held by the call using the connection
	conn     transport
	connPath string
	getenv   func(string) string
	dial     func(ctx context.Context, path string, timeout time.Duration) (transport, error)
	registry registryCache
	cache    *reuseCache // a pointer, so that fmt never prints what it keeps
}

// NewClient returns a Client; it connects on first use.
func NewClient(options Options) *Client {
	if options.SocketPath != "" {
		if abs, err := filepath.Abs(options.SocketPath); err == nil {
			options.SocketPath = abs
		}
	}
	c := &Client{options: options}
	c.setUp()
	return c
}

// setUp fills in what a zero Client lacks (tests set getenv and dial beforehand).
func (c *Client) setUp() {
	c.once.Do(func() {
		c.turn = make(chan struct{}, 1)
		if c.getenv == nil {
			c.getenv = os.Getenv
		}
		if c.dial == nil {
			c.dial = dial
		}
		c.cache = &reuseCache{checkOver: c.cacheLook}
	})
}

// Close closes the connection (the next call opens a new one) and empties the client
// cache.
func (c *Client) Close() error {
	c.setUp()
	c.cache.reset()
	c.turn <- struct{}{}
	defer func() { <-c.turn }()
	c.drop()
	return nil
}

// Path is the socket this client talks to now.
func (c *Client) Path() string {
	c.setUp()
	if c.options.SocketPath != "" {
		return c.options.SocketPath
	}
	return socketPath(c.getenv)
}

func (c *Client) timeout() (time.Duration, error) {
	if c.options.Timeout > 0 {
		return c.options.Timeout, nil
	}
	return timeoutFromEnv(c.getenv)
}

// timeoutFromEnv is NXUSKIT_TIMEOUT in seconds, else DefaultTimeout.
func timeoutFromEnv(getenv func(string) string) (time.Duration, error) {
	raw := strings.TrimSpace(getenv("NXUSKIT_TIMEOUT"))
	if raw == "" {
		return DefaultTimeout, nil
	}
	seconds, err := strconv.ParseFloat(raw, 64)
	if err != nil || !(seconds > 0 && seconds < 86400) {
		return 0, newError(KindInvalidParams, "NXUSKIT_TIMEOUT="+strconv.Quote(raw)+
			": give the seconds to wait, like 30")
	}
	return time.Duration(seconds * float64(time.Second)), nil
}

func (c *Client) mayStart() bool {
	switch c.options.Autostart {
	case AutostartAlways:
		return true
	case AutostartNever:
		return false
	}
	switch strings.ToLower(strings.TrimSpace(c.getenv("NXUSKIT_AUTOSTART"))) {
	case "0", "false", "no":
		return false
	}
	return true
}

// open is a new verified connection, starting the daemon when none runs and allowed.
func (c *Client) open(ctx context.Context, path string) (transport, error) {
	timeout, err := c.timeout()
	if err != nil {
		return nil, err
	}
	conn, err := c.dial(ctx, path, timeout)
	if !errors.Is(err, errNotRunning) {
		return conn, err
	}
	if !c.mayStart() {
		why := " (NXUSKIT_AUTOSTART=0 keeps clients from starting it)"
		if c.options.Autostart == AutostartNever {
			why = ""
		}
		return nil, newError(KindDaemonUnavailable, "nxuskitd is not running at "+path+why+
			": start it with `nxuskit-cli daemon start` or `nxuskitd` (or `nxuskit-cli daemon "+
			"install` for a service)")
	}
	if err := startDaemon(ctx, path, c.getenv); err != nil {
		return nil, err
	}
	conn, err = c.dial(ctx, path, timeout)
	if errors.Is(err, errNotRunning) {
		return nil, newError(KindDaemonUnavailable, "nxuskitd started but does not answer at "+path)
	}
	return conn, err
}

func (c *Client) drop() {
	if c.conn != nil {
		c.conn.close()
		c.conn = nil
	}
}

// Call sends one JSON-RPC request (a method of docs/protocol.md) and returns its raw
// result. params may be nil (sent as {}). It returns an *Error: the daemon's, or
// daemon_unavailable when none answers in time.
func (c *Client) Call(ctx context.Context, method string, params map[string]any) (json.RawMessage, error) {
	c.setUp()
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, wrapError(KindDaemonUnavailable, "stopped waiting to call "+method+": "+
			ctx.Err().Error(), ctx.Err())
	}
	defer func() { <-c.turn }()
	for attempt := 1; ; attempt++ {
		conn, err := c.current(ctx, method)
		if err != nil {
			return nil, err
		}
		result, err := conn.call(ctx, method, params)
		if err == nil {
			return result, nil
		}
		if inStep(err) {
			return nil, err // the daemon's answer to this request: the connection goes on
		}
		c.drop() // closed, refused, timed out, cancelled or garbled: its state is unknown
		if !errors.Is(err, errClosed) {
			return nil, err
		}
		if attempt == 2 || !retrySafe[method] {
			return nil, newError(KindDaemonUnavailable, "nxuskitd at "+c.connPath+
				" closed the connection before answering "+method+"; see its log")
		}
	}
}

// inStep says whether err is an answer the daemon gave to this very request (or a
// refusal made before sending), after which the connection can carry the next one.
func inStep(err error) bool {
	switch kindOf(err) {
	case "", KindDaemonUnavailable, KindDaemonBusy, KindProtocolError, KindVersionMismatch:
		return false
	}
	return !errors.Is(err, errOutOfStep)
}

func (c *Client) current(ctx context.Context, method string) (transport, error) {
	path := c.Path()
	if c.conn != nil && (c.connPath != path || (!retrySafe[method] && c.conn.stale())) {
		c.drop()
	}
	if c.conn == nil {
		conn, err := c.open(ctx, path)
		if err != nil {
			return nil, err
		}
		c.conn, c.connPath = conn, path
	}
	return c.conn, nil
}

var defaultClient = NewClient(Options{})

// DefaultClient is the Client the package-level functions use.
func DefaultClient() *Client { return defaultClient }
