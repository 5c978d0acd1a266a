package nxuskit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// The client cache (docs/protocol.md section 13) against a real nxuskitd: what reaches
// the daemon is counted from its audit trail, whose resolve entries record daemon
// accesses only (a reuse is no access).

// resolvesAsked counts the auth.resolve requests the daemon has recorded.
func resolvesAsked(t *testing.T, client *Client) int {
	t.Helper()
	raw, err := client.Call(testContext(t), "audit.query", map[string]any{"limit": 10000})
	var trail struct {
		Entries []struct{ Method string }
		Problem *string
	}
	if err != nil || json.Unmarshal(raw, &trail) != nil || trail.Problem != nil {
		t.Fatalf("audit.query: %s, %v", raw, err)
	}
	count := 0
	for _, entry := range trail.Entries {
		if entry.Method == methodResolve {
			count++
		}
	}
	return count
}

// resolveSecret resolves provider with client and returns the secret (failing on error).
func resolveSecret(t *testing.T, client *Client, provider string) string {
	t.Helper()
	r, err := client.AuthResolve(testContext(t), provider, "")
	if err != nil {
		t.Fatal(err)
	}
	return r.Secret
}

// warm resolves provider until a resolve is answered from memory (the first answer
// after a write may come without leave to reuse).
func warm(t *testing.T, client *Client, provider string) {
	t.Helper()
	waitUntil(t, "a resolve is answered from the cache", func() bool {
		before := resolvesAsked(t, client)
		resolveSecret(t, client, provider)
		return resolvesAsked(t, client) == before
	})
}

// cachingSandbox starts a daemon, stores secret for openai through a client of its own
// (the writer), and returns a fresh caching client (closed at the end) beside it.
func cachingSandbox(t *testing.T, secret string) (*sandbox, *daemon, *Client, *Client) {
	t.Helper()
	box := newSandbox(t)
	d := box.start(t)
	writer, client := NewClient(Options{}), NewClient(Options{})
	t.Cleanup(func() { writer.Close(); client.Close() })
	if err := writer.AuthSetCredential(testContext(t), "openai", secret); err != nil {
		t.Fatal(err)
	}
	return box, d, writer, client
}

func TestRepeatedResolvesReachTheDaemonOnce(t *testing.T) {
	_, _, _, client := cachingSandbox(t, "sk-cached-1")
	resolveSecret(t, client, "openai")
	if client.cache.file != nil {
		t.Fatal("the generation file was mapped at the first resolve, not at the first reuse")
	}
	warm(t, client, "openai")
	before := resolvesAsked(t, client)
	for i := 0; i < 200; i++ {
		if got := resolveSecret(t, client, "openai"); got != "sk-cached-1" {
			t.Fatalf("got %q", got)
		}
	}
	if asked := resolvesAsked(t, client) - before; asked != 0 {
		t.Fatalf("%d of 200 repeated resolves reached the daemon", asked)
	}
	shown := fmt.Sprintf("%v %+v %#v %s", client, client, client, client.cache)
	if strings.Contains(shown, "sk-cached-1") {
		t.Fatal("printing the client shows a kept secret")
	}
}

func TestTheEnvironmentWinsAtOnceAndAnExplicitKeyIsNeverCached(t *testing.T) {
	_, _, _, client := cachingSandbox(t, "sk-cached-2")
	warm(t, client, "openai")
	before := resolvesAsked(t, client)
	for _, value := range []string{"sk-from-env", "sk-from-env-2"} {
		t.Setenv("OPENAI_API_KEY", value)
		for _, name := range []string{"openai", "gpt"} {
			r, err := client.AuthResolve(testContext(t), name, "")
			if err != nil || r.Secret != value || r.Source != SourceEnv {
				t.Fatalf("got %v (%q), %v: want %q from the environment", r, r.Secret, err, value)
			}
		}
	}
	os.Unsetenv("OPENAI_API_KEY")
	if got := resolveSecret(t, client, "openai"); got != "sk-cached-2" {
		t.Fatalf("got %q", got)
	}
	r, err := client.AuthResolve(testContext(t), "openai", "sk-explicit")
	if err != nil || r.Secret != "sk-explicit" || r.Source != SourceExplicit {
		t.Fatalf("got %v (%q), %v: an explicit key wins over a kept answer", r, r.Secret, err)
	}
	if got := resolveSecret(t, client, "openai"); got != "sk-cached-2" {
		t.Fatalf("got %q: the explicit key was kept", got)
	}
	if asked := resolvesAsked(t, client) - before; asked != 0 {
		t.Fatalf("%d resolves reached the daemon: the stored answer was still current", asked)
	}
}

// cliCommand is nxuskit-cli beside the NXUSKITD command, or "" when there is none.
func cliCommand() string {
	command := strings.Fields(os.Getenv("NXUSKITD"))
	if len(command) == 0 {
		return ""
	}
	cli := filepath.Join(filepath.Dir(command[0]), "nxuskit-cli")
	if _, err := os.Stat(cli); err != nil {
		return ""
	}
	return cli
}

func TestARotatedKeyIsSeenByTheVeryNextResolve(t *testing.T) {
	box, _, writer, client := cachingSandbox(t, "sk-rotated-000")
	for i := 1; i <= 5; i++ {
		warm(t, client, "openai")
		secret := fmt.Sprintf("sk-rotated-%03d", i)
		if err := writer.AuthSetCredential(testContext(t), "openai", secret); err != nil {
			t.Fatal(err)
		}
		if got := resolveSecret(t, client, "openai"); got != secret {
			t.Fatalf("got %q after %q was stored", got, secret)
		}
	}
	cli := cliCommand()
	if cli == "" {
		t.Log("no nxuskit-cli beside NXUSKITD: rotated through another client only")
		return
	}
	warm(t, client, "openai")
	command := exec.Command(cli, "provider", "set", "openai")
	command.Env, command.Stdin = box.env, strings.NewReader("sk-rotated-by-cli\n")
	if output, err := command.CombinedOutput(); err != nil {
		t.Fatalf("nxuskit-cli provider set: %v\n%s", err, output)
	}
	if got := resolveSecret(t, client, "openai"); got != "sk-rotated-by-cli" {
		t.Fatalf("got %q after the CLI stored a new key", got)
	}
}

func TestALockMakesTheNextResolveAskTheDaemon(t *testing.T) {
	_, _, writer, client := cachingSandbox(t, "sk-locked")
	warm(t, client, "openai")
	if _, err := writer.Call(testContext(t), "daemon.lock", nil); err != nil {
		t.Fatal(err)
	}
	before := resolvesAsked(t, client)
	if got := resolveSecret(t, client, "openai"); got != "sk-locked" {
		t.Fatalf("got %q", got)
	}
	if asked := resolvesAsked(t, client) - before; asked != 1 {
		t.Fatalf("%d resolves reached the daemon after daemon.lock: want 1", asked)
	}
}

func TestARestartedDaemonsAnswersAreSeen(t *testing.T) {
	for _, signal := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		box, first, _, client := cachingSandbox(t, "sk-before-restart")
		warm(t, client, "openai")
		first.stop(signal)
		box.start(t)
		other := NewClient(Options{})
		if err := other.AuthSetCredential(testContext(t), "openai", "sk-after-restart"); err != nil {
			t.Fatal(err)
		}
		other.Close()
		if got := resolveSecret(t, client, "openai"); got != "sk-after-restart" {
			t.Fatalf("%v: got %q after a restart and a new key", signal, got)
		}
	}
}

func TestAGenerationFileOthersCouldWriteIsNeverTrusted(t *testing.T) {
	for _, spoil := range []string{"mode", "owner", "symlink"} {
		t.Run(spoil, func(t *testing.T) {
			if spoil == "owner" && os.Geteuid() != 0 {
				t.Skip("giving the file to uid 65534 needs root")
			}
			box, _, writer, client := cachingSandbox(t, "sk-spoiled-0")
			generation := generationPath(box.socket)
			header, err := os.ReadFile(generation)
			if err != nil || string(header[:8]) != generationHeader {
				t.Fatalf("the daemon's generation file: %q, %v", header, err)
			}
			switch spoil {
			case "mode":
				err = os.Chmod(generation, 0o666)
			case "owner":
				err = os.Chown(generation, 65534, 65534)
			default: // a link to the daemon's very file: still refused (O_NOFOLLOW)
				moved := filepath.Join(filepath.Dir(generation), "moved")
				if err = os.Rename(generation, moved); err == nil {
					err = os.Symlink(moved, generation)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := writer.AuthSetCredential(testContext(t), "openai", "sk-spoiled-1"); err != nil {
				t.Fatal(err)
			}
			before := resolvesAsked(t, client)
			for i := 0; i < 4; i++ {
				if got := resolveSecret(t, client, "openai"); got != "sk-spoiled-1" {
					t.Fatalf("got %q", got)
				}
			}
			if asked := resolvesAsked(t, client) - before; asked != 4 {
				t.Fatalf("%d of 4 resolves reached the daemon: want every one", asked)
			}
		})
	}
}

func TestTheCacheCanBeTurnedOff(t *testing.T) {
	_, _, _, client := cachingSandbox(t, "sk-uncached")
	t.Setenv("NXUSKIT_CLIENT_CACHE", " Off ")
	before := resolvesAsked(t, client)
	for i := 0; i < 5; i++ {
		if got := resolveSecret(t, client, "openai"); got != "sk-uncached" {
			t.Fatalf("got %q", got)
		}
	}
	if asked := resolvesAsked(t, client) - before; asked != 5 {
		t.Fatalf("%d of 5 resolves reached the daemon: want every one", asked)
	}
	if !cacheEnabled(func(string) string { return "1" }) || cacheEnabled(func(string) string { return "FALSE\n" }) {
		t.Fatal("NXUSKIT_CLIENT_CACHE is read wrong")
	}
}

func TestReadersNeverSeeAKeyOlderThanAnAcknowledgedWrite(t *testing.T) {
	_, _, writer, _ := cachingSandbox(t, "sk-seq-000000")
	var published atomic.Int64 // the newest write acknowledged
	stop, failures := make(chan struct{}), make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() { failures <- readUntil(stop, &published) }()
	}
	for i := 1; i <= 60; i++ {
		if err := writer.AuthSetCredential(testContext(t), "openai", fmt.Sprintf("sk-seq-%06d", i)); err != nil {
			t.Fatal(err)
		}
		published.Store(int64(i))
	}
	close(stop)
	for i := 0; i < 8; i++ {
		if err := <-failures; err != nil {
			t.Fatal(err)
		}
	}
}

// readUntil resolves with a caching client of its own until stop, and fails on a key
// older than the one acknowledged before the resolve began.
func readUntil(stop chan struct{}, published *atomic.Int64) error {
	reader := NewClient(Options{})
	defer reader.Close()
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		floor := published.Load()
		r, err := reader.AuthResolve(context.Background(), "openai", "")
		if err != nil {
			return err
		}
		var seen int64
		if _, err := fmt.Sscanf(r.Secret, "sk-seq-%d", &seen); err != nil || seen < floor {
			return fmt.Errorf("read %q after sk-seq-%06d was acknowledged", r.Secret, floor)
		}
	}
}
