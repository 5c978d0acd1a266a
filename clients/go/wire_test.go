package nxuskit

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestAnswersThatEncodingJSONWouldRepairAreProtocolErrors(t *testing.T) {
	bad := map[string]string{
		"invalid UTF-8":           "{\"secret\":\"sk-\xff\xfe\"}",
		"an encoded surrogate":    "{\"secret\":\"sk-\xed\xa0\x80\"}",
		"a lone high surrogate":   `{"secret":"sk-\ud800"}`,
		"a lone low surrogate":    `{"secret":"sk-\udc00x"}`,
		"a high one at the end":   `{"secret":"sk-\ud83d"}`,
		"a high before an escape": `{"secret":"\ud83d\n"}`,
		"two high ones":           `{"secret":"\ud83d\ud83d"}`,
	}
	for name, line := range bad {
		if err := checkAnswerText([]byte(line)); kindOf(err) != KindProtocolError {
			t.Errorf("%s: got %v, want a protocol_error", name, err)
		}
		// encoding/json on its own takes every one of them, altered:
		var decoded map[string]string
		if err := json.Unmarshal([]byte(line), &decoded); err != nil {
			t.Errorf("%s: encoding/json refused it (%v): the check is not needed", name, err)
		}
	}
	good := []string{
		`{"secret":"sk-\ud83d\ude00 and \u00e9 and \\ud800 as text"}`,
		"{\"secret\":\"caf\u00e9 \U0001F600\"}",
		`{"a":"\"\\","b":"\\\\ud800"}`,
	}
	for _, line := range good {
		if err := checkAnswerText([]byte(line)); err != nil {
			t.Errorf("%s: %v", line, err)
		}
	}
}

func TestRequestsAreCompactLinesWithObjectParams(t *testing.T) {
	line, err := encodeRequest(7, "daemon.status", nil)
	if err != nil || string(line) != `{"jsonrpc":"2.0","id":7,"method":"daemon.status","params":{}}`+"\n" {
		t.Fatalf("got %q, %v", line, err)
	}
	line, err = encodeRequest(8, "daemon.hello", map[string]any{"protocol": 1, "client": "<&>"})
	if err != nil || !strings.Contains(string(line), `"protocol":1`) || !strings.Contains(string(line), `"<&>"`) {
		t.Fatalf("integers must stay integers and text unescaped: %q, %v", line, err)
	}
	for _, value := range []string{"sk-\xff", "sk-\xed\xa0\x80"} {
		_, err := encodeRequest(9, "auth.set_credential", map[string]any{"provider": "openai", "secret": value})
		if kindOf(err) != KindInvalidParams || strings.Contains(err.Error(), "sk-") {
			t.Errorf("a value that is not UTF-8 must be refused before sending, unshown: %v", err)
		}
	}
}

func TestNoFormOfAResolutionShowsItsSecret(t *testing.T) {
	secret := "sk-very-secret-4242"
	r := Resolution{Provider: "openai", Secret: secret, Source: SourceStore, AuthMethod: AuthMethodAPIKey}
	holder := struct {
		R  Resolution
		P  *Resolution
		Rs []Resolution
	}{r, &r, []Resolution{r}}
	shown := []string{r.String(), r.GoString()}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v", "%10.3s"} {
		shown = append(shown, fmt.Sprintf(format, r), fmt.Sprintf(format, &r), fmt.Sprintf(format, holder))
	}
	shown = append(shown, fmt.Sprint(r), fmt.Sprintln(&r), fmt.Sprint([]any{r}), fmt.Sprint(map[string]Resolution{"a": r}))
	encoded, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	shown = append(shown, string(encoded))
	for _, text := range shown {
		if strings.Contains(text, secret) || strings.Contains(text, fmt.Sprintf("%x", secret)) {
			t.Errorf("the secret shows in %q", text)
		}
	}
	if !strings.Contains(r.String(), "store") || !strings.Contains(fmt.Sprintf("%#v", r), `Provider:"openai"`) {
		t.Errorf("the rest should still show: %s / %#v", r, r)
	}
}

func TestErrorsMapByKind(t *testing.T) {
	text := func(s string) *string { return &s }
	code := func(n int) *int { return &n }
	wire := func(c int, kind *string) *wireError {
		w := &wireError{Code: code(c), Message: text("m")}
		if kind != nil {
			w.Data = &struct {
				Kind *string `json:"kind"`
			}{kind}
		}
		return w
	}
	cases := []struct {
		wire *wireError
		kind Kind
	}{
		{wire(1003, text("not_authenticated")), KindNotAuthenticated},
		{wire(1008, text("daemon_busy")), KindDaemonBusy},
		{wire(4242, text("a_kind_from_the_future")), KindProtocolError},
		{wire(-32602, text("something_new")), KindInvalidParams},
		{wire(-32601, text("method_not_found")), KindProtocolError},
		{wire(1, nil), KindProtocolError},
		{&wireError{}, KindProtocolError},
	}
	for _, c := range cases {
		if got := fromWire(c.wire); got.Kind != c.kind {
			t.Errorf("%+v: got %s, want %s", c.wire, got.Kind, c.kind)
		}
	}
	busy := fromWire(wire(1008, text("daemon_busy")))
	if !errors.Is(busy, ErrDaemonUnavailable) || !errors.Is(busy, ErrDaemonBusy) || errors.Is(busy, ErrNotAuthenticated) {
		t.Error("daemon_busy is a daemon_unavailable error, and no other")
	}
	if busy.Code != 1008 {
		t.Errorf("code %d", busy.Code)
	}
}

func TestSecretsAreCheckedAsTheDaemonChecksThem(t *testing.T) {
	if got, err := checkSecret(" \tsk-abc\r\n"); err != nil || got != "sk-abc" {
		t.Errorf("got %q, %v", got, err)
	}
	for _, bad := range []string{"", " \n", "\x1fsk-abc", "sk-a\nb", "sk-\u0085", "sk-\x7f", "sk-\xff",
		strings.Repeat("k", maxSecretBytes+1)} {
		_, err := checkSecret(bad)
		if kindOf(err) != KindInvalidParams || (len(bad) > 3 && strings.Contains(err.Error(), bad)) {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}

func TestAZeroClientWorks(t *testing.T) {
	box := newSandbox(t)
	var client Client
	if client.Path() != box.socket {
		t.Fatalf("path %s", client.Path())
	}
	_, err := client.AuthResolve(testContext(t), "openai", "")
	if !errors.Is(err, ErrDaemonUnavailable) || !strings.Contains(err.Error(), "NXUSKIT_AUTOSTART") {
		t.Fatalf("got %v", err)
	}
	client.Close()
}
