package nxuskit

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The client against a real nxuskitd in a private sandbox.

func TestSetResolveStatusRemove(t *testing.T) {
	box := newSandbox(t)
	box.start(t)
	ctx := testContext(t)
	client := NewClient(Options{})
	defer client.Close()
	if err := client.AuthSetCredential(ctx, " GPT ", "  sk-go-stored-1\n"); err != nil {
		t.Fatal(err)
	}
	r, err := client.AuthResolve(ctx, "openai", "")
	if err != nil || r.Secret != "sk-go-stored-1" || r.Source != SourceStore || r.Provider != "openai" ||
		r.AuthMethod != AuthMethodAPIKey || !r.ExpiresAt.IsZero() {
		t.Fatalf("got %#v (secret %q), %v", r, r.Secret, err)
	}
	s, err := client.AuthStatus(ctx, "openai", "")
	if err != nil || s.Status != Authenticated || s.Source != SourceStore || s.DisplayName != "OpenAI" {
		t.Fatalf("got %+v, %v", s, err)
	}
	all, err := client.AuthStatusAll(ctx)
	if err != nil || len(all) != len(builtins) || all[0].Status != Authenticated || all[2].Status != NotAuthenticated {
		t.Fatalf("got %+v, %v", all, err)
	}
	if local, err := client.AuthStatus(ctx, "ollama", ""); err != nil || local.Status != NotRequired {
		t.Fatalf("got %+v, %v", local, err)
	}
	for _, want := range []bool{true, false} {
		if removed, err := client.AuthRemoveCredential(ctx, "openai"); err != nil || removed != want {
			t.Fatalf("removed %v (want %v), %v", removed, want, err)
		}
	}
	if _, err := client.AuthResolve(ctx, "openai", ""); !errors.Is(err, ErrNotAuthenticated) ||
		!strings.Contains(err.Error(), "OPENAI_API_KEY") {
		t.Fatalf("got %v", err)
	}
}

func TestThePackageFunctionsHaveTheProductPagesShapes(t *testing.T) {
	box := newSandbox(t)
	box.start(t)
	defer DefaultClient().Close()
	// As the product page writes them:
	err := AuthSetCredential("openai", "sk-page-example")
	status, err2 := AuthStatus("openai")
	resolution, err3 := AuthResolve("openai", "")
	if err != nil || err2 != nil || err3 != nil {
		t.Fatal(err, err2, err3)
	}
	var source interface{ String() string } = resolution.Source
	if status.Provider != "openai" || status.Status != Authenticated || status.Source != SourceStore ||
		len(status.AuthMethods) != 1 || resolution.Secret != "sk-page-example" || source.String() != "store" {
		t.Fatalf("got %+v and %v", status, resolution)
	}
	if removed, err := AuthRemoveCredential("gpt"); !removed || err != nil {
		t.Fatal(removed, err)
	}
}

func TestTheEnvironmentWinsOverTheStoreAndAnExplicitKeyOverBoth(t *testing.T) {
	box := newSandbox(t)
	box.start(t)
	ctx := testContext(t)
	client := NewClient(Options{})
	defer client.Close()
	if err := client.AuthSetCredential(ctx, "openai", "sk-stored"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OPENAI_API_KEY", "sk-from-env")
	r, err := client.AuthResolve(ctx, "gpt", "")
	if err != nil || r.Secret != "sk-from-env" || r.Source != SourceEnv {
		t.Fatalf("got %v (%q), %v", r, r.Secret, err)
	}
	r, err = client.AuthResolve(ctx, "gpt", "sk-explicit")
	if err != nil || r.Secret != "sk-explicit" || r.Source != SourceExplicit {
		t.Fatalf("got %v, %v", r, err)
	}
	if s, err := client.AuthStatus(ctx, "openai", ""); err != nil || s.Source != SourceEnv {
		t.Fatalf("got %+v, %v", s, err)
	}
	t.Setenv("OPENAI_API_KEY", "")
	if r, err = client.AuthResolve(ctx, "openai", ""); err != nil || r.Source != SourceStore {
		t.Fatalf("an empty variable is unset: got %v, %v", r, err)
	}
}

func TestErrorsCarryTheirKinds(t *testing.T) {
	box := newSandbox(t)
	box.start(t)
	ctx := testContext(t)
	client := NewClient(Options{})
	defer client.Close()
	_, err := client.AuthResolve(ctx, "sk-proj-typed-in-the-wrong-place", "")
	if !errors.Is(err, ErrUnknownProvider) || strings.Contains(err.Error(), "sk-proj") {
		t.Fatalf("got %v", err)
	}
	if _, err = client.AuthResolve(ctx, "groq", ""); !errors.Is(err, ErrNotAuthenticated) {
		t.Fatalf("got %v", err)
	}
	err = client.AuthSetCredential(ctx, "ollama", "sk-x")
	if !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), "ollama does not take an API key") {
		t.Fatalf("got %v", err)
	}
	err = client.AuthSetCredential(ctx, "openai", "sk-\x1fhidden")
	if !errors.Is(err, ErrInvalidParams) || strings.Contains(err.Error(), "hidden") {
		t.Fatalf("got %v", err)
	}
	if _, err = client.AuthRemoveCredential(ctx, "acme"); !errors.Is(err, ErrUnknownProvider) {
		t.Fatalf("got %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != 1002 {
		t.Fatalf("got %#v", e)
	}
	// the connection stays in step after the daemon's errors
	if err := client.AuthSetCredential(ctx, "claude", "sk-ant-1"); err != nil {
		t.Fatal(err)
	}
}

func TestTheClientReconnectsAfterADaemonRestart(t *testing.T) {
	for _, signal := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		box := newSandbox(t)
		first := box.start(t)
		ctx := testContext(t)
		client := NewClient(Options{})
		if err := client.AuthSetCredential(ctx, "openai", "sk-before-restart"); err != nil {
			t.Fatal(err)
		}
		pid := daemonPID(t, client)
		first.stop(signal)
		box.start(t)
		r, err := client.AuthResolve(ctx, "openai", "")
		if err != nil || r.Secret != "sk-before-restart" {
			t.Fatalf("%v: got %v, %v", signal, r, err)
		}
		if again := daemonPID(t, client); again == pid {
			t.Fatalf("%v: still talking to pid %d", signal, pid)
		}
		client.Close()
	}
}

func daemonPID(t *testing.T, client *Client) int {
	t.Helper()
	raw, err := client.Call(testContext(t), methodDaemonStatus, nil)
	var status struct {
		PID       int    `json:"pid"`
		StartedBy string `json:"started_by"`
	}
	if err != nil || json.Unmarshal(raw, &status) != nil {
		t.Fatalf("daemon.status: %s, %v", raw, err)
	}
	return status.PID
}

func TestABusyDaemonSaysSo(t *testing.T) {
	box := newSandbox(t)
	box.start(t, "--max-connections", "1")
	ctx := testContext(t)
	first := NewClient(Options{})
	defer first.Close()
	if _, err := first.AuthStatus(ctx, "openai", ""); err != nil {
		t.Fatal(err)
	}
	second := NewClient(Options{})
	defer second.Close()
	_, err := second.AuthStatus(ctx, "openai", "")
	if !errors.Is(err, ErrDaemonBusy) || !errors.Is(err, ErrDaemonUnavailable) {
		t.Fatalf("got %v", err)
	}
}

func TestNoDaemonAndNoAutostartSaysHowToStartOne(t *testing.T) {
	box := newSandbox(t)
	_, err := NewClient(Options{}).AuthResolve(testContext(t), "openai", "")
	if !errors.Is(err, ErrDaemonUnavailable) || !strings.Contains(err.Error(), box.socket) ||
		!strings.Contains(err.Error(), "NXUSKIT_AUTOSTART") {
		t.Fatalf("got %v", err)
	}
	if _, statErr := os.Stat(filepath.Dir(box.socket)); !errors.Is(statErr, os.ErrNotExist) {
		t.Fatal("the client created the socket directory without autostart")
	}
}

func TestConfigTomlProvidersComeFromTheDaemon(t *testing.T) {
	box := newSandbox(t)
	config := filepath.Join(box.root, "config", "nxuskit", "config.toml")
	if err := os.MkdirAll(filepath.Dir(config), 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(text string) {
		if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("[providers.acme]\ndisplay_name = \"Acme AI\"\nenv = \"ACME_API_KEY\"\nauth_methods = [\"api_key\"]\n")
	box.start(t)
	ctx := testContext(t)
	client := NewClient(Options{})
	defer client.Close()
	t.Setenv("ACME_API_KEY", "sk-acme-env")
	r, err := client.AuthResolve(ctx, "ACME", "")
	if err != nil || r.Provider != "acme" || r.Secret != "sk-acme-env" || r.Source != SourceEnv {
		t.Fatalf("got %v, %v", r, err)
	}
	t.Setenv("ACME_API_KEY", "")
	if err := client.AuthSetCredential(ctx, "acme", "sk-acme-stored"); err != nil {
		t.Fatal(err)
	}
	if r, err = client.AuthResolve(ctx, "acme", ""); err != nil || r.Secret != "sk-acme-stored" {
		t.Fatalf("got %v, %v", r, err)
	}
	// A changed file is asked about again: a wrong entry costs only that provider.
	write("[providers.acme]\nenv = 42\n")
	_, err = client.AuthResolve(ctx, "acme", "")
	if !errors.Is(err, ErrConfigInvalid) || !strings.Contains(err.Error(), "config.toml") {
		t.Fatalf("got %v", err)
	}
	if err := os.Remove(config); err != nil {
		t.Fatal(err)
	}
	if _, err = client.AuthResolve(ctx, "acme", ""); !errors.Is(err, ErrUnknownProvider) {
		t.Fatalf("got %v", err)
	}
}

func TestGoroutinesTakeTurnsOnOneConnection(t *testing.T) {
	box := newSandbox(t)
	box.start(t)
	ctx := testContext(t)
	client := NewClient(Options{})
	defer client.Close()
	if err := client.AuthSetCredential(ctx, "groq", "sk-shared-conn"); err != nil {
		t.Fatal(err)
	}
	failures := make(chan error, 16)
	for i := 0; i < 16; i++ {
		go func() {
			for j := 0; j < 20; j++ {
				r, err := client.AuthResolve(ctx, "groq", "")
				if err == nil && r.Secret != "sk-shared-conn" {
					err = errors.New("a wrong answer: " + r.Secret)
				}
				if err != nil {
					failures <- err
					return
				}
			}
			failures <- nil
		}()
	}
	for i := 0; i < 16; i++ {
		if err := <-failures; err != nil {
			t.Fatal(err)
		}
	}
	raw, err := client.Call(ctx, methodDaemonStatus, nil)
	var status struct{ Connections int }
	if err != nil || json.Unmarshal(raw, &status) != nil || status.Connections != 1 {
		t.Fatalf("the daemon sees %s, %v: want one connection", raw, err)
	}
}
