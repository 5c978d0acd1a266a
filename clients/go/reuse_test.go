package nxuskit

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The client cache's rules on their own: time limits, the generation, the re-check of
// what no generation announces, the bound on names, and which answers carry leave.

// cacheFixture is a reuseCache over a generation file of its own in a private directory.
type cacheFixture struct {
	cache   *reuseCache
	file    string
	state   cacheState
	now     cacheState // what the re-check sees
	enabled bool
	openai  Provider
}

func newCacheFixture(t *testing.T) *cacheFixture {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "nxg-reuse-") // 0700: a private directory
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	socket := filepath.Join(dir, "nxuskitd.sock")
	f := &cacheFixture{file: generationPath(socket), state: cacheState{socket: socket, config: "absent"}, enabled: true}
	f.now = f.state
	f.cache = &reuseCache{checkOver: func() (cacheState, bool) { return f.now, f.enabled }}
	f.openai, _ = newRegistry(builtins, "config.toml", "").get("openai")
	f.setGeneration(t, 7)
	return f
}

func (f *cacheFixture) setGeneration(t *testing.T, generation uint64) {
	t.Helper()
	content := []byte(generationHeader + "\x00\x00\x00\x00\x00\x00\x00\x00")
	binary.LittleEndian.PutUint64(content[8:], generation)
	handle, err := os.OpenFile(f.file, os.O_WRONLY|os.O_CREATE, 0o600)
	if err == nil {
		_, err = handle.WriteAt(content, 0) // in place, as the daemon writes it
		handle.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// keep keeps a store answer for name granted with reuse (JSON) at sent.
func (f *cacheFixture) keep(t *testing.T, name, reuse string, sent time.Time) {
	t.Helper()
	answer := Resolution{Provider: "openai", Secret: "sk-kept", Source: SourceStore, AuthMethod: AuthMethodAPIKey}
	kept := leave([]byte(reuse), answer, sent)
	if kept == nil {
		t.Fatalf("no leave from %s", reuse)
	}
	f.cache.keep(name, f.openai, kept, true, f.state, sent)
}

func (f *cacheFixture) hit(name string, at time.Time) bool {
	r, ok := f.cache.get(name, func(string) string { return "" }, at)
	return ok && r.Secret == "sk-kept"
}

func TestAKeptAnswerHoldsOnlyWithinItsTimeLimits(t *testing.T) {
	f := newCacheFixture(t)
	start := time.Now()
	at := func(seconds float64) time.Time { return start.Add(time.Duration(seconds * float64(time.Second))) }
	f.keep(t, "gpt", `{"generation":7,"seconds":10,"idle":2}`, start)
	if !f.hit("gpt", at(1)) || !f.hit("gpt", at(2.9)) {
		t.Fatal("an answer used within its idle limit was not reused")
	}
	if f.hit("gpt", at(4.9)) {
		t.Fatal("an answer idle for 2 s was reused past its idle limit of 2 s")
	}
	f.keep(t, "gpt", `{"generation":7,"seconds":10,"idle":null}`, start)
	if !f.hit("gpt", at(9.9)) || f.hit("gpt", at(10)) {
		t.Fatal("reuse.seconds, counted from the request, was not kept to")
	}
	if f.hit("openai", at(1)) {
		t.Fatal("answers are kept by the name as written: 'openai' was never asked")
	}
}

func TestAKeptAnswerHoldsOnlyWhileTheGenerationIsUnchanged(t *testing.T) {
	f := newCacheFixture(t)
	start := time.Now()
	f.keep(t, "gpt", `{"generation":7,"seconds":10,"idle":null}`, start)
	if !f.hit("gpt", start) {
		t.Fatal("not reused under the same generation")
	}
	f.setGeneration(t, 8)
	if f.hit("gpt", start) {
		t.Fatal("reused after the generation moved")
	}
	f.keep(t, "gpt", `{"generation":9007199254740991,"seconds":10,"idle":null}`, start)
	f.setGeneration(t, 9007199254740991)
	if !f.hit("gpt", start) {
		t.Fatal("a generation near 2^53 was not matched")
	}
}

func TestAChangeNoGenerationAnnouncesEmptiesTheCache(t *testing.T) {
	changes := map[string]func(t *testing.T, f *cacheFixture){
		"config.toml":          func(t *testing.T, f *cacheFixture) { f.now.config = "changed" },
		"socket path":          func(t *testing.T, f *cacheFixture) { f.now.socket = "/elsewhere/nxuskitd.sock" },
		"NXUSKIT_CLIENT_CACHE": func(t *testing.T, f *cacheFixture) { f.enabled = false },
		"generation file": func(t *testing.T, f *cacheFixture) {
			os.Remove(f.file)     // still mapped, so its inode cannot be reused for the new one
			f.setGeneration(t, 7) // the same number, in a new file: another daemon's
		},
	}
	for what, change := range changes {
		f := newCacheFixture(t)
		start := time.Now()
		f.keep(t, "gpt", `{"generation":7,"seconds":10,"idle":null}`, start)
		if !f.hit("gpt", start.Add(time.Second)) {
			t.Fatalf("%s: not reused before the change", what)
		}
		change(t, f)
		if f.hit("gpt", start.Add(2*time.Second)) || len(f.cache.entries) != 0 {
			t.Fatalf("%s: changed, and the cache still answered", what)
		}
	}
}

func TestTheCacheKeepsAtMost256Names(t *testing.T) {
	f := newCacheFixture(t)
	start := time.Now()
	for i := 0; i < 300; i++ {
		f.keep(t, fmt.Sprintf("gpt-%d", i), `{"generation":7,"seconds":10,"idle":null}`, start)
		if len(f.cache.entries) > maxCachedNames {
			t.Fatalf("%d names kept", len(f.cache.entries))
		}
	}
	if !f.hit("gpt-299", start) {
		t.Fatal("the newest name was not kept")
	}
}

func TestOnlyAWellFormedLeaveForAStoredAnswerIsKept(t *testing.T) {
	stored := Resolution{Secret: "sk-x", Source: SourceStore}
	for _, refused := range []string{``, `null`, `{"generation":1.5,"seconds":1,"idle":null}`,
		`{"generation":-1,"seconds":1,"idle":null}`, `{"generation":1,"seconds":0,"idle":null}`,
		`{"generation":1,"idle":null}`, `{"generation":1,"seconds":1,"idle":0}`, `[]`} {
		if leave([]byte(refused), stored, time.Now()) != nil {
			t.Fatalf("kept with reuse %s", refused)
		}
	}
	team := Resolution{Secret: "sk-x", Source: "team"}
	if leave([]byte(`{"generation":1,"seconds":1,"idle":null}`), team, time.Now()) != nil {
		t.Fatal("a team key was kept: it is asked for every time")
	}
	if leave([]byte(`{"generation":1,"seconds":1,"idle":null}`), Resolution{Source: SourceOAuth}, time.Now()) == nil {
		t.Fatal("an OAuth answer with leave was not kept")
	}
}
