package nxuskit

import (
	"encoding/json"
	"math"
	"math/bits"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// The client cache (docs/protocol.md section 13; client/nxuskit/reuse.py). A resolve
// asks the daemon with "reuse": true; an answer that carries a reuse object is kept, by
// the provider name as the caller wrote it, and a later resolve of that name without an
// explicit key is answered from memory while all of these hold:
//
//   - the provider's environment variable is still unset (read on every call: a
//     variable set now wins at once);
//   - the daemon's generation file (<socket>.generation, mapped read-only at the first
//     reuse and trusted only as the socket is) still holds the answer's generation. The
//     daemon moves it, before the call that caused it returns, on anything that may
//     change an answer, so a cached answer is never staler than asking;
//   - less than reuse.seconds have passed since the request was sent, and less than
//     reuse.idle (when a number) since the answer was last used.
//
// What no generation announces is looked at every checkInterval and at every miss: the
// socket path, config.toml (its stamp, as the registry uses it), whether the generation
// file is still the one mapped, and NXUSKIT_CLIENT_CACHE; any change empties the cache.

const (
	// checkInterval is the longest a change no generation announces goes unnoticed.
	checkInterval = 100 * time.Millisecond
	// maxCachedNames bounds the cache: past it, it starts over.
	maxCachedNames = 256
	generationSize = 16
	// generationHeader is the file's magic and format 1, little-endian.
	generationHeader = "NXGN\x01\x00\x00\x00"
)

// cacheEnabled is false when NXUSKIT_CLIENT_CACHE is 0, false, no or off (any case,
// surrounding whitespace ignored).
func cacheEnabled(getenv func(string) string) bool {
	switch strings.ToLower(strings.TrimSpace(getenv("NXUSKIT_CLIENT_CACHE"))) {
	case "0", "false", "no", "off":
		return false
	}
	return true
}

// bigEndian: the daemon writes the generation little-endian; a native load on a
// big-endian machine sees its bytes reversed.
var bigEndian = func() bool {
	probe := uint16(1)
	return *(*byte)(unsafe.Pointer(&probe)) == 0
}()

// generationFile is the daemon's generation file, mapped read-only.
type generationFile struct {
	data     []byte
	word     *uint64 // bytes 8-15 of the mapping: 8-byte aligned, as the page is
	identity [2]uint64
}

// load is the generation now, in one atomic 64-bit load.
func (g *generationFile) load() uint64 {
	value := atomic.LoadUint64(g.word)
	if bigEndian {
		return bits.ReverseBytes64(value)
	}
	return value
}

// unmap lets go of the mapping, once: by clear, or by the garbage collector when a
// Client is dropped without Close (a mapping is no memory the collector frees itself).
func (g *generationFile) unmap() {
	runtime.SetFinalizer(g, nil)
	if g.data != nil {
		_ = syscall.Munmap(g.data)
		g.data, g.word = nil, nil
	}
}

func identity(st *syscall.Stat_t) [2]uint64 { return [2]uint64{uint64(st.Dev), uint64(st.Ino)} }

// mapGeneration maps the generation file at path, or nil when it is missing or cannot
// be trusted. Whoever can write it decides which answers look current, so it must be in
// the socket's private directory (the chain above it was checked when this client
// connected), opened without following a link, a regular file of this user that nobody
// else may read or write, at least 16 bytes, in the documented format.
func mapGeneration(path string) *generationFile {
	if checkPrivateDirectory(filepath.Dir(path), uint32(syscall.Geteuid())) != nil {
		return nil
	}
	flags := syscall.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_CLOEXEC | syscall.O_NONBLOCK
	fd, err := syscall.Open(path, flags, 0)
	if err != nil {
		return nil
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG ||
		st.Uid != uint32(syscall.Geteuid()) || st.Mode&0o077 != 0 || st.Size < generationSize {
		return nil
	}
	data, err := syscall.Mmap(fd, 0, generationSize, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	if string(data[:8]) != generationHeader {
		_ = syscall.Munmap(data)
		return nil
	}
	g := &generationFile{data: data, word: (*uint64)(unsafe.Pointer(&data[8])), identity: identity(&st)}
	runtime.SetFinalizer(g, (*generationFile).unmap)
	return g
}

// cacheState is what no generation announces, as seen before a request: the socket path
// and config.toml's path and stamp.
type cacheState struct{ socket, config string }

// stored is a daemon answer with its leave to reuse.
type stored struct {
	answer     Resolution
	generation uint64
	until      time.Time
	idle       time.Duration // 0: no idle limit
	used       time.Time
}

// cached is what is kept for one name as the caller wrote it: the provider's registry
// record (for its variable) and the daemon's answer, if any may be reused.
type cached struct {
	provider Provider
	stored   *stored
}

// reuseCache is a Client's reusable resolves. One mutex guards it all, the mapping too:
// it is unmapped only under the mutex, so no load can meet an unmapped page.
type reuseCache struct {
	mu       sync.Mutex
	entries  map[string]*cached
	state    cacheState
	file     *generationFile
	checkAt  time.Time
	retryMap time.Time // after a generation file that could not be trusted
	// checkOver is the state now, and whether caching is on (the Client's cacheLook).
	checkOver func() (cacheState, bool)
}

// String describes the cache without what it holds.
func (r *reuseCache) String() string { return "reuseCache{...}" }

// GoString is %#v's form: never a kept secret.
func (r *reuseCache) GoString() string { return r.String() }

// get answers provider from memory when its kept answer still holds; ok is false when
// the daemon must be asked. now is a monotonic time.Now().
func (r *reuseCache) get(provider string, getenv func(string) string, now time.Time) (Resolution, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	entry := r.entries[provider]
	if entry == nil || (!now.Before(r.checkAt) && !r.recheck(now)) {
		return Resolution{}, false
	}
	p := entry.provider
	if !p.RequiresAuth() {
		return Resolution{Provider: p.Name, AuthMethod: AuthMethodNone}, true
	}
	if p.Env != "" {
		if value := getenv(p.Env); value != "" {
			return Resolution{Provider: p.Name, Secret: value, Source: SourceEnv, AuthMethod: AuthMethodAPIKey}, true
		}
	}
	kept := entry.stored
	if kept == nil || !now.Before(kept.until) || (kept.idle > 0 && now.Sub(kept.used) >= kept.idle) {
		return Resolution{}, false
	}
	if r.file == nil && !r.mapFile(now) {
		return Resolution{}, false
	}
	if r.file.load() != kept.generation {
		return Resolution{}, false
	}
	kept.used = now
	return kept.answer, true
}

// keep offers a resolve's answer for provider (found as p), asked under state at sent.
// A daemon answer (fromDaemon) replaces what was kept for the name: kept is its leave to
// reuse, or nil. The environment's answers, and those of providers that need no
// credential, are derived from p alone and leave the daemon's answer as it was.
func (r *reuseCache) keep(provider string, p Provider, kept *stored, fromDaemon bool, state cacheState,
	sent time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if state != r.state || !r.sameFile() {
		r.clear()
		r.state = state
	}
	if r.checkAt.IsZero() || sent.Add(checkInterval).Before(r.checkAt) {
		r.checkAt = sent.Add(checkInterval)
	}
	entry := r.entries[provider]
	if entry == nil {
		if len(r.entries) >= maxCachedNames {
			r.entries = nil
		}
		if r.entries == nil {
			r.entries = map[string]*cached{}
		}
		entry = &cached{}
		r.entries[provider] = entry
	}
	entry.provider = p
	if fromDaemon {
		entry.stored = kept
	}
}

func (r *reuseCache) mapFile(now time.Time) bool {
	if now.Before(r.retryMap) {
		return false
	}
	r.file = mapGeneration(generationPath(r.state.socket))
	if r.file == nil {
		r.retryMap = now.Add(checkInterval)
	}
	return r.file != nil
}

// recheck looks again at what no generation announces; false (and empty) on a change.
func (r *reuseCache) recheck(now time.Time) bool {
	r.checkAt = now.Add(checkInterval)
	state, enabled := r.checkOver()
	if enabled && state == r.state && r.sameFile() {
		return true
	}
	r.clear()
	return false
}

// sameFile says whether the mapped generation file (if any) is still the one at its path.
func (r *reuseCache) sameFile() bool {
	if r.file == nil {
		return true
	}
	var st syscall.Stat_t
	if syscall.Stat(generationPath(r.state.socket), &st) != nil {
		return false
	}
	return identity(&st) == r.file.identity
}

// reset empties the cache (NXUSKIT_CLIENT_CACHE turned it off).
func (r *reuseCache) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clear()
}

// clear forgets every kept answer and lets go of the generation file.
func (r *reuseCache) clear() {
	r.entries = nil
	r.state = cacheState{}
	r.checkAt, r.retryMap = time.Time{}, time.Time{}
	if r.file != nil {
		r.file.unmap()
		r.file = nil
	}
}

// leave is a resolve answer's reuse object as this client uses it; nil when absent,
// null or not understood (then the answer is simply not reused).
func leave(raw []byte, answer Resolution, sent time.Time) *stored {
	var reuse struct {
		Generation *uint64  `json:"generation"`
		Seconds    *float64 `json:"seconds"`
		Idle       *float64 `json:"idle"`
	}
	if len(raw) == 0 || isNull(raw) || json.Unmarshal(raw, &reuse) != nil || reuse.Generation == nil ||
		reuse.Seconds == nil || !(*reuse.Seconds > 0 && *reuse.Seconds < math.MaxInt32) ||
		(answer.Source != SourceStore && answer.Source != SourceOAuth) {
		return nil
	}
	kept := &stored{answer: answer, generation: *reuse.Generation, used: sent,
		until: sent.Add(time.Duration(*reuse.Seconds * float64(time.Second)))}
	if reuse.Idle != nil {
		if !(*reuse.Idle > 0 && *reuse.Idle < math.MaxInt32) {
			return nil
		}
		kept.idle = time.Duration(*reuse.Idle * float64(time.Second))
	}
	return kept
}

func generationPath(socket string) string { return socket + ".generation" }
