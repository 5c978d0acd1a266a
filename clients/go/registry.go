package nxuskit

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The provider registry: the built-ins embedded from providers.json (a copy of
// clients/conformance/providers.json, which a test keeps equal), or, when config.toml
// exists, the daemon's provider.list (Go's standard library reads no TOML), asked once
// and again whenever the file changes (docs/protocol.md section 7).

//go:generate cp ../conformance/providers.json providers.json
//go:embed providers.json
var providersJSON []byte

// Provider is one provider's registry record (no credential in it).
type Provider struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Aliases     []string `json:"aliases"`
	Env         string   `json:"env"`      // "" when the provider reads no variable
	HostEnv     string   `json:"host_env"` // "" when none
	DefaultHost string   `json:"default_host"`
	AuthMethods []string `json:"auth_methods"` // empty: needs no credential
	APIPath     string   `json:"api_path"`
	Error       string   `json:"error"` // a wrong config.toml entry's message ("" when usable)
}

// RequiresAuth says whether the provider needs a credential at all.
func (p Provider) RequiresAuth() bool { return len(p.AuthMethods) > 0 }

var builtins = func() []Provider {
	var table struct {
		Providers []Provider `json:"providers"`
	}
	if err := json.Unmarshal(providersJSON, &table); err != nil || len(table.Providers) == 0 {
		panic("nxuskit: the embedded providers.json is broken: " + reason(err))
	}
	return table.Providers
}()

// BuiltinProviders returns the built-in providers, in registry order.
func BuiltinProviders() []Provider {
	copied := make([]Provider, len(builtins))
	for i, p := range builtins {
		p.Aliases, p.AuthMethods = append([]string{}, p.Aliases...), append([]string{}, p.AuthMethods...)
		copied[i] = p
	}
	return copied
}

// normalizeName is how every nxuskit client matches a provider name: surrounding ASCII
// spaces, tabs, CRs and LFs are ignored, and ASCII letters match without regard to
// case. Nothing else changes (no Unicode folding or other whitespace), so that every
// language agrees on every spelling (clients/conformance/vectors.json).
func normalizeName(name string) string {
	trimmed := []byte(strings.Trim(name, " \t\r\n"))
	for i, c := range trimmed {
		if 'A' <= c && c <= 'Z' {
			trimmed[i] = c + 'a' - 'A'
		}
	}
	return string(trimmed)
}

// shownName quotes name when it looks like a provider name; anything else may be a key
// typed in the wrong place, and is never echoed.
func shownName(name string) string {
	if len(name) == 0 || len(name) > 24 {
		return "(that name)"
	}
	for _, c := range []byte(normalizeName(name)) {
		plain := ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || c == '.'
		if !plain || len(normalizeName(name)) != len(name) {
			return "(that name)"
		}
	}
	return "'" + name + "'"
}

type registry struct {
	providers []Provider
	byName    map[string]*Provider
	broken    map[string]string // name (and a built-in's aliases) -> the config error
	fileError string            // why config.toml as a whole is not used
	source    string
}

func newRegistry(providers []Provider, source, fileError string) *registry {
	r := &registry{byName: map[string]*Provider{}, broken: map[string]string{}, source: source, fileError: fileError}
	for i := range providers {
		p := &providers[i]
		if p.Error != "" {
			r.broken[p.Name] = p.Error
			continue
		}
		r.providers = append(r.providers, *p)
		for _, key := range append([]string{p.Name}, p.Aliases...) {
			r.byName[key] = p
		}
	}
	for _, builtin := range builtins { // a broken override of a built-in answers to its aliases too
		if message, bad := r.broken[builtin.Name]; bad {
			for _, alias := range builtin.Aliases {
				r.broken[alias] = message
			}
		}
	}
	return r
}

// get is the provider called name (or aliased so), else the error to give.
func (r *registry) get(name string) (Provider, error) {
	key := normalizeName(name)
	if p, ok := r.byName[key]; ok {
		return *p, nil
	}
	if message, bad := r.broken[key]; bad {
		return Provider{}, newError(KindConfigInvalid, message)
	}
	if r.fileError != "" {
		return Provider{}, newError(KindConfigInvalid, shownName(name)+" is no built-in provider, and "+r.fileError)
	}
	names := make([]string, len(r.providers))
	for i, p := range r.providers {
		names[i] = p.Name
	}
	return Provider{}, newError(KindUnknownProvider, "unknown provider "+shownName(name)+
		": known providers are "+strings.Join(names, ", ")+"; add others in "+r.source)
}

// registryCache keeps the daemon's registry until config.toml changes.
type registryCache struct {
	mu    sync.Mutex
	stamp string
	path  string
	reg   *registry
}

// fileStamp changes whenever config.toml may say something else, or be trusted
// differently (a chmod, a chown, a replaced file).
func fileStamp(info os.FileInfo) string {
	parts := []string{info.ModTime().Format(time.RFC3339Nano), info.Mode().String(),
		strconv.FormatInt(info.Size(), 10)}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		for _, n := range []uint64{uint64(st.Dev), uint64(st.Ino), uint64(st.Uid), uint64(st.Gid)} {
			parts = append(parts, strconv.FormatUint(n, 10))
		}
	}
	return strings.Join(parts, "|")
}

// lookup is the registry to look names up in now.
func (c *Client) lookup(ctx context.Context) (*registry, error) {
	reg, _, err := c.lookupStamped(ctx)
	return reg, err
}

// configStamp is config.toml's path and stamp ("absent" when missing), and the error
// when it cannot be looked at.
func configStamp(getenv func(string) string) (path, stamp string, err error) {
	path = configPath(getenv)
	info, err := os.Stat(path)
	switch {
	case err == nil:
		return path, fileStamp(info), nil
	case errors.Is(err, os.ErrNotExist):
		return path, "absent", err
	}
	return path, "unreadable: " + reason(err), err
}

func stampOf(path, stamp string) string { return path + "\x00" + stamp }

// lookupStamped is the registry to look names up in now, and the config.toml path and
// stamp it was made from (the client cache's cacheState.config).
func (c *Client) lookupStamped(ctx context.Context) (*registry, string, error) {
	c.setUp()
	path, stamp, err := configStamp(c.getenv)
	stamped := stampOf(path, stamp)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return newRegistry(builtins, path, "cannot read "+path+": "+reason(err)), stamped, nil
	}
	cache := &c.registry
	cache.mu.Lock()
	defer cache.mu.Unlock()
	if cache.reg != nil && cache.path == path && cache.stamp == stamp {
		return cache.reg, stamped, nil
	}
	reg := newRegistry(builtins, path, "")
	if err == nil {
		if reg, err = c.providerList(ctx, path); err != nil {
			return nil, "", err
		}
	}
	if reg.fileError == "" { // a refused file is asked about again: a fix may be elsewhere
		cache.reg, cache.path, cache.stamp = reg, path, stamp
	}
	return reg, stamped, nil
}

func (c *Client) providerList(ctx context.Context, path string) (*registry, error) {
	result, err := c.Call(ctx, methodProviderList, nil)
	if err != nil {
		return nil, err
	}
	answer := decodeObject(result, methodProviderList)
	var providers []Provider
	answer.read("providers", &providers, true)
	var config struct {
		Path  *string `json:"path"`
		Error *string `json:"error"`
	}
	answer.read("config", &config, false)
	if answer.err != nil {
		return nil, answer.err
	}
	for _, p := range providers {
		if p.Name == "" {
			return nil, newError(KindProtocolError, "the daemon's answer to provider.list has an entry without a name")
		}
	}
	if config.Path != nil && *config.Path != "" {
		path = *config.Path
	}
	fileError := ""
	if config.Error != nil {
		fileError = *config.Error
	}
	return newRegistry(providers, path, fileError), nil
}
