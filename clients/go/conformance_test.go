package nxuskit

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The shared conformance vectors (clients/conformance/vectors.json): precedence and name
// matching, defined once for every language. An in-memory daemon answers auth.resolve
// and auth.status from each case's "store", as the Python suite's stand-in does.

const conformance = "../conformance"

func TestEmbeddedProvidersEqualTheConformanceFile(t *testing.T) {
	original, err := os.ReadFile(filepath.Join(conformance, "providers.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(original, providersJSON) {
		t.Fatal("clients/go/providers.json differs from clients/conformance/providers.json: " +
			"copy it again with go generate (or cp ../conformance/providers.json .)")
	}
}

type vectors struct {
	Names []struct {
		Given    string `json:"given"`
		Provider string `json:"provider"`
		Error    string `json:"error"`
	} `json:"names"`
	Resolve []vectorCase `json:"resolve"`
	Status  []vectorCase `json:"status"`
}

type vectorCase struct {
	Case       string                     `json:"case"`
	Provider   string                     `json:"provider"`
	Explicit   *string                    `json:"explicit"`
	Env        map[string]string          `json:"env"`
	Store      map[string]storedRecord    `json:"store"`
	Expect     map[string]json.RawMessage `json:"expect"`
	AsksDaemon bool                       `json:"asks_daemon"`
}

type storedRecord struct {
	Secret     string   `json:"secret"`
	AuthMethod string   `json:"auth_method"`
	ExpiresAt  *float64 `json:"expires_at"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(conformance, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Names) == 0 || len(v.Resolve) == 0 || len(v.Status) == 0 {
		t.Fatal("vectors.json holds no cases")
	}
	return v
}

// storeDaemon is an in-memory daemon answering from a vector's store.
type storeDaemon struct {
	store map[string]storedRecord
	asked []string
}

func (d *storeDaemon) stale() bool { return false }
func (d *storeDaemon) close()      {}

func (d *storeDaemon) call(_ context.Context, method string, params map[string]any) (json.RawMessage, error) {
	d.asked = append(d.asked, method)
	name, _ := params["provider"].(string)
	record, stored := d.store[name]
	source := any(nil)
	if stored {
		source = "store"
		if record.AuthMethod == AuthMethodOAuth {
			source = "oauth"
		}
	}
	switch method {
	case methodResolve:
		if !stored {
			return nil, newError(KindNotAuthenticated, "no credential for "+name)
		}
		return json.Marshal(map[string]any{"provider": name, "secret": record.Secret, "source": source,
			"auth_method": record.AuthMethod, "expires_at": record.ExpiresAt})
	case methodStatus:
		p, err := newRegistry(builtins, "", "").get(name)
		if err != nil {
			return nil, err
		}
		entry := map[string]any{"provider": p.Name, "status": NotAuthenticated, "source": source,
			"auth_methods": p.AuthMethods, "auth_method": nil, "expires_at": nil}
		if stored {
			entry["status"], entry["auth_method"], entry["expires_at"] = Authenticated, record.AuthMethod, record.ExpiresAt
		}
		return json.Marshal(map[string]any{"providers": []any{entry},
			"store": map[string]any{"kind": "file", "description": "test", "reason": "test"}})
	}
	return nil, newError(KindProtocolError, "the stand-in does not answer "+method)
}

// vectorClient is a Client whose environment is exactly env (no config.toml) and whose
// daemon is the stand-in.
func vectorClient(t *testing.T, env map[string]string, daemon *storeDaemon) *Client {
	client := NewClient(Options{Autostart: AutostartNever})
	home := t.TempDir()
	client.getenv = func(name string) string {
		if name == "XDG_CONFIG_HOME" {
			return home
		}
		return env[name]
	}
	client.dial = func(context.Context, string, time.Duration) (transport, error) { return daemon, nil }
	return client
}

func TestNameVectors(t *testing.T) {
	reg := newRegistry(builtins, "", "")
	for _, c := range loadVectors(t).Names {
		p, err := reg.get(c.Given)
		got := p.Name
		if err != nil {
			got = "error " + string(kindOf(err))
		}
		want := c.Provider
		if c.Error != "" {
			want = "error " + c.Error
		}
		if got != want {
			t.Errorf("name %q: got %s, want %s", c.Given, got, want)
		}
	}
}

func runVector(t *testing.T, c vectorCase, what string) {
	daemon := &storeDaemon{store: c.Store}
	client := vectorClient(t, c.Env, daemon)
	explicit := ""
	if c.Explicit != nil {
		explicit = *c.Explicit
	}
	got := map[string]any{}
	var err error
	if what == "resolve" {
		var r Resolution
		r, err = client.AuthResolve(context.Background(), c.Provider, explicit)
		got = map[string]any{"provider": r.Provider, "secret": nullable(r.Secret),
			"source": nullable(string(r.Source)), "auth_method": r.AuthMethod, "expires_at": unixOrNull(r.ExpiresAt)}
	} else {
		var s Status
		s, err = client.AuthStatus(context.Background(), c.Provider, explicit)
		got = map[string]any{"provider": s.Provider, "status": s.Status, "source": nullable(string(s.Source)),
			"auth_methods": s.AuthMethods}
	}
	if err != nil {
		got = map[string]any{"error": string(kindOf(err))}
	}
	for key, want := range c.Expect {
		shown, _ := json.Marshal(got[key])
		if !jsonEqual(shown, want) {
			t.Errorf("%s: %s is %s, want %s (error: %v)", c.Case, key, shown, want, err)
		}
	}
	if (len(daemon.asked) > 0) != c.AsksDaemon {
		t.Errorf("%s: asked the daemon %v, want asks_daemon %v", c.Case, daemon.asked, c.AsksDaemon)
	}
}

func nullable(text string) any {
	if text == "" {
		return nil
	}
	return text
}

func unixOrNull(at time.Time) any {
	if at.IsZero() {
		return nil
	}
	return float64(at.UnixNano()) / 1e9
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil &&
		string(mustMarshal(x)) == string(mustMarshal(y))
}

func mustMarshal(v any) []byte {
	out, _ := json.Marshal(v)
	return out
}

func TestResolveVectors(t *testing.T) {
	for _, c := range loadVectors(t).Resolve {
		runVector(t, c, "resolve")
	}
}

func TestStatusVectors(t *testing.T) {
	for _, c := range loadVectors(t).Status {
		runVector(t, c, "status")
	}
}
