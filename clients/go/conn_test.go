package nxuskit

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The connection against stand-in daemons of this same user: what a real daemon never
// sends (invalid UTF-8), or sends only in a race (a refusal before our first write).

const helloAnswer = `{"jsonrpc":"2.0","id":1,"result":{"protocol":1,"version":"0.1.0","pid":1,` +
	`"store":{"kind":"file","description":"test","reason":"test"}}}` + "\n"

func TestARefusalIsReadEvenWhenTheFirstWriteFailsWithEPIPE(t *testing.T) {
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	daemonSide := os.NewFile(uintptr(pair[1]), "daemon")
	refusal := `{"jsonrpc":"2.0","id":null,"error":{"code":1008,"message":"nxuskitd is at its ` +
		`connection limit; retry, or raise --max-connections","data":{"kind":"daemon_busy"}}}` + "\n"
	if _, err := daemonSide.WriteString(refusal); err != nil {
		t.Fatal(err)
	}
	daemonSide.Close() // closed before the client writes anything: its write gets EPIPE
	file := os.NewFile(uintptr(pair[0]), "client")
	raw, err := net.FileConn(file)
	file.Close()
	if err != nil {
		t.Fatal(err)
	}
	conn := newConnection(raw.(*net.UnixConn), "/test.sock", 5*time.Second)
	defer conn.close()
	_, err = conn.call(context.Background(), methodHello, nil)
	if kindOf(err) != KindDaemonBusy || !strings.Contains(err.Error(), "connection limit") {
		t.Fatalf("got %v, want the daemon's daemon_busy refusal", err)
	}
}

// answerWith serves hello, then answers each later line with the next of lines.
func answerWith(lines ...string) func(net.Conn) {
	return func(conn net.Conn) {
		reader := bufio.NewReader(conn)
		for _, line := range append([]string{helloAnswer}, lines...) {
			if _, err := reader.ReadString('\n'); err != nil {
				return
			}
			if _, err := conn.Write([]byte(line)); err != nil {
				return
			}
		}
		_, _ = io.Copy(io.Discard, reader) // then hold the connection until the client goes
	}
}

func TestAnAnswerThatIsNotUTF8IsAProtocolError(t *testing.T) {
	answers := map[string]string{
		"invalid UTF-8": "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"provider\":\"openai\",\"secret\":\"sk-\xff\"," +
			"\"source\":\"store\",\"auth_method\":\"api_key\",\"expires_at\":null}}\n",
		"a lone surrogate": `{"jsonrpc":"2.0","id":2,"result":{"provider":"openai","secret":"sk-\udc80",` +
			`"source":"store","auth_method":"api_key","expires_at":null}}` + "\n",
	}
	for name, answer := range answers {
		box := newSandbox(t)
		box.fakeServer(t, answerWith(answer))
		client := NewClient(Options{})
		r, err := client.AuthResolve(testContext(t), "openai", "")
		if kindOf(err) != KindProtocolError || r.Secret != "" {
			t.Errorf("%s: got %q, %v; want a protocol_error", name, r.Secret, err)
		}
		client.Close()
	}
}

func TestAnAnswerLackingAFieldIsAProtocolError(t *testing.T) {
	box := newSandbox(t)
	box.fakeServer(t, answerWith(`{"jsonrpc":"2.0","id":2,"result":{"provider":"openai","secret":"sk-x"}}`+"\n"))
	client := NewClient(Options{})
	defer client.Close()
	_, err := client.AuthResolve(testContext(t), "openai", "")
	if kindOf(err) != KindProtocolError || !strings.Contains(err.Error(), `"source"`) {
		t.Fatalf("got %v", err)
	}
}

func TestAnOlderDaemonIsAVersionMismatch(t *testing.T) {
	box := newSandbox(t)
	box.fakeServer(t, func(conn net.Conn) {
		_, _ = bufio.NewReader(conn).ReadString('\n')
		_, _ = conn.Write([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found",` +
			`"data":{"kind":"method_not_found"}}}` + "\n"))
	})
	client := NewClient(Options{})
	defer client.Close()
	_, err := client.AuthResolve(testContext(t), "openai", "")
	if !errors.Is(err, ErrVersionMismatch) || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("got %v", err)
	}
}

func TestAContextCancelsAWaitAndTheTimeoutEndsOne(t *testing.T) {
	box := newSandbox(t)
	box.fakeServer(t, answerWith()) // answers hello, then never again
	client := NewClient(Options{})
	defer client.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := client.AuthResolve(ctx, "openai", "")
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrDaemonUnavailable) {
		t.Fatalf("got %v, want the cancellation", err)
	}
	ctx, stop := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer stop()
	_, err = client.AuthResolve(ctx, "openai", "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the deadline", err)
	}
	short := NewClient(Options{Timeout: 100 * time.Millisecond})
	defer short.Close()
	_, err = short.AuthResolve(context.Background(), "openai", "")
	if !errors.Is(err, ErrDaemonUnavailable) || !strings.Contains(err.Error(), "did not answer auth.resolve in time") {
		t.Fatalf("got %v, want the timeout", err)
	}
}

func TestABadTimeoutVariableIsRefused(t *testing.T) {
	t.Setenv("NXUSKIT_TIMEOUT", "soon")
	box := newSandbox(t)
	box.fakeServer(t, answerWith())
	_, err := NewClient(Options{}).AuthResolve(testContext(t), "openai", "")
	if kindOf(err) != KindInvalidParams || !strings.Contains(err.Error(), "NXUSKIT_TIMEOUT") {
		t.Fatalf("got %v", err)
	}
}

func TestALooseSocketDirectoryIsRefusedBeforeConnecting(t *testing.T) {
	box := newSandbox(t)
	box.fakeServer(t, func(conn net.Conn) { t.Error("the client connected to a socket in a loose directory") })
	if err := os.Chmod(box.root+"/run/nxuskit", 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := NewClient(Options{}).AuthResolve(testContext(t), "openai", "")
	if !errors.Is(err, ErrPermissionDenied) || !strings.Contains(err.Error(), "chmod 700 "+box.root+"/run/nxuskit") {
		t.Fatalf("got %v", err)
	}
}

func TestAConnectionTheDaemonClosedIsStaleEvenPastItsDeadline(t *testing.T) {
	box := newSandbox(t)
	closeNow := make(chan struct{})
	box.fakeServer(t, func(conn net.Conn) {
		reader := bufio.NewReader(conn)
		if _, err := reader.ReadString('\n'); err == nil {
			_, _ = conn.Write([]byte(helloAnswer))
		}
		<-closeNow
	})
	opened, err := dial(testContext(t), box.socket, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer opened.close()
	// as when the last call's deadline passed while the connection sat idle
	_ = opened.(*connection).conn.SetDeadline(time.Unix(1, 0))
	if opened.stale() {
		t.Fatal("an open, quiet connection is not stale")
	}
	close(closeNow)
	waitUntil(t, "the closed connection looks stale", opened.stale)
}

func TestOnlyRetrySafeRequestsAreSentAgainAfterALostAnswer(t *testing.T) {
	box := newSandbox(t)
	received := make(chan string, 16)
	var connections atomic.Int32
	box.fakeServer(t, func(conn net.Conn) {
		count := connections.Add(1)
		reader := bufio.NewReader(conn)
		if _, err := reader.ReadString('\n'); err != nil {
			return
		}
		_, _ = conn.Write([]byte(helloAnswer))
		request, err := reader.ReadString('\n')
		if err != nil {
			return
		}
		received <- request
		if count%2 == 1 {
			return // closes without answering: the answer is lost
		}
		_, _ = conn.Write([]byte(`{"jsonrpc":"2.0","id":2,"result":{"provider":"openai","secret":"sk-second",` +
			`"source":"store","auth_method":"api_key","expires_at":null}}` + "\n"))
		_, _ = io.Copy(io.Discard, reader)
	})
	client := NewClient(Options{})
	defer client.Close()
	r, err := client.AuthResolve(testContext(t), "openai", "")
	if err != nil || r.Secret != "sk-second" || len(received) != 2 {
		t.Fatalf("auth.resolve is retry-safe: got %v, %v after %d sends", r, err, len(received))
	}
	client.Close()
	<-received
	<-received
	_, err = client.Call(testContext(t), "auth.report_invalid", map[string]any{"provider": "openai"})
	if !errors.Is(err, ErrDaemonUnavailable) || !strings.Contains(err.Error(), "closed the connection before answering") {
		t.Fatalf("got %v", err)
	}
	if len(received) != 1 {
		t.Fatalf("auth.report_invalid was sent %d times; it must never be sent twice", len(received))
	}
}
