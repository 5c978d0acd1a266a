package nxuskit

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Precedence, highest first: the explicit key a caller passes, then the provider's
// environment variable in this process, then the daemon's store (docs/protocol.md
// section 7). The first two belong to this process, so they are applied here without a
// round trip; only the store is asked of the daemon.

// Resolution is a resolved credential: Secret, and where it came from (Source). Source
// is explicit, env, store or oauth, and empty (with an empty Secret) for a provider that
// needs no credential. Printing it with fmt (%v, %+v, %#v, %s, %q, any verb), String,
// GoString or encoding/json never shows the secret.
type Resolution struct {
	Provider   string
	Secret     string
	Source     Source
	AuthMethod string    // api_key, oauth or none
	ExpiresAt  time.Time // when an OAuth token expires; zero when it does not
}

const hidden = "***"

func (r Resolution) shownSecret() string {
	if r.Secret == "" {
		return ""
	}
	return hidden
}

func (r Resolution) expiry() string {
	if r.ExpiresAt.IsZero() {
		return "none"
	}
	return r.ExpiresAt.UTC().Format(time.RFC3339)
}

// String describes the resolution with its secret hidden.
func (r Resolution) String() string {
	return fmt.Sprintf("Resolution{Provider: %s, Secret: %s, Source: %s, AuthMethod: %s, ExpiresAt: %s}",
		r.Provider, r.shownSecret(), string(r.Source), r.AuthMethod, r.expiry())
}

// GoString is %#v's form, with the secret hidden.
func (r Resolution) GoString() string {
	return fmt.Sprintf("nxuskit.Resolution{Provider:%q, Secret:%q, Source:%q, AuthMethod:%q, ExpiresAt:%q}",
		r.Provider, r.shownSecret(), string(r.Source), r.AuthMethod, r.expiry())
}

// Format makes every fmt verb print String's form (%#v: GoString's), never the secret.
func (r Resolution) Format(state fmt.State, verb rune) {
	switch {
	case verb == 'v' && state.Flag('#'):
		fmt.Fprint(state, r.GoString())
	case verb == 'q':
		fmt.Fprint(state, strconv.Quote(r.String()))
	default:
		fmt.Fprint(state, r.String())
	}
}

// MarshalJSON writes the resolution with its secret hidden (as "***"; null when none).
func (r Resolution) MarshalJSON() ([]byte, error) {
	shown := map[string]any{"provider": r.Provider, "secret": nil, "source": nil,
		"auth_method": r.AuthMethod, "expires_at": nil}
	if r.Secret != "" {
		shown["secret"] = hidden
	}
	if r.Source != "" {
		shown["source"] = string(r.Source)
	}
	if !r.ExpiresAt.IsZero() {
		shown["expires_at"] = float64(r.ExpiresAt.UnixNano()) / 1e9
	}
	return json.Marshal(shown)
}

// Status says whether a provider is usable and from which source (never a secret).
// Status is authenticated, not_authenticated or not_required; Source is the source that
// would win a resolve now, or empty.
type Status struct {
	Provider    string
	Status      string
	Source      Source
	AuthMethods []string
	AuthMethod  string
	ExpiresAt   time.Time
	DisplayName string
}

// Authenticated is true when a resolve would succeed (or no credential is needed).
func (s Status) Authenticated() bool { return s.Status == Authenticated || s.Status == NotRequired }

func (c *Client) fromEnv(p Provider) string {
	if p.Env == "" {
		return ""
	}
	return c.getenv(p.Env)
}

func seconds(value *float64) time.Time {
	if value == nil || math.IsNaN(*value) || math.IsInf(*value, 0) {
		return time.Time{}
	}
	whole, fraction := math.Modf(*value)
	return time.Unix(int64(whole), int64(fraction*1e9))
}

// AuthResolve resolves provider's credential: apiKey when not "", else its environment
// variable when set and not empty, else the daemon's store. Errors: unknown_provider,
// not_authenticated (nothing anywhere), config_invalid, and, when the store is asked,
// daemon_unavailable, store_unavailable, permission_denied, version_mismatch.
//
// Without apiKey, a repeated resolve is answered from the client cache while the
// daemon's generation says the answer still holds (docs/protocol.md section 13); the
// environment variable is read on every call and wins at once. NXUSKIT_CLIENT_CACHE=0
// turns the cache off.
func (c *Client) AuthResolve(ctx context.Context, provider, apiKey string) (Resolution, error) {
	c.setUp()
	if apiKey != "" { // an explicit key never touches the cache
		return c.resolve(ctx, provider, apiKey, false)
	}
	if r, ok := c.cache.get(provider, c.getenv, time.Now()); ok {
		return r, nil
	}
	caching := cacheEnabled(c.getenv)
	if !caching {
		c.cache.reset()
	}
	return c.resolve(ctx, provider, "", caching)
}

// resolve applies precedence and asks the daemon when needed; caching offers the answer
// to the client cache (and asks the daemon for leave to reuse it).
func (c *Client) resolve(ctx context.Context, provider, apiKey string, caching bool) (Resolution, error) {
	sent, socket := time.Now(), c.Path() // before anything is looked at or asked
	reg, stamp, err := c.lookupStamped(ctx)
	if err != nil {
		return Resolution{}, err
	}
	p, err := reg.get(provider)
	if err != nil {
		return Resolution{}, err
	}
	state := cacheState{socket: socket, config: stamp}
	if local, decided := c.resolveLocally(p, apiKey); decided {
		if caching {
			c.cache.keep(provider, p, nil, false, state, sent)
		}
		return local, nil
	}
	params := map[string]any{"provider": p.Name}
	if caching {
		params["reuse"] = true // the daemon grants leave only to clients that ask
	}
	result, err := c.Call(ctx, methodResolve, params)
	if err != nil {
		return Resolution{}, err
	}
	answer := decodeObject(result, methodResolve)
	r := Resolution{
		Provider:   answer.text("provider"),
		Secret:     answer.optionalText("secret", true),
		Source:     Source(answer.optionalText("source", true)),
		AuthMethod: answer.text("auth_method"),
		ExpiresAt:  seconds(answer.number("expires_at", false)),
	}
	var reuse json.RawMessage
	answer.read("reuse", &reuse, false)
	if answer.err == nil && caching {
		c.cache.keep(provider, p, leave(reuse, r, sent), true, state, sent)
	}
	return r, answer.err
}

// resolveLocally is the answer when no daemon is needed (no credential needed, apiKey
// given, or the environment has one); decided is false when only the store can tell.
func (c *Client) resolveLocally(p Provider, apiKey string) (r Resolution, decided bool) {
	switch {
	case !p.RequiresAuth():
		return Resolution{Provider: p.Name, AuthMethod: AuthMethodNone}, true
	case apiKey != "":
		return Resolution{Provider: p.Name, Secret: apiKey, Source: SourceExplicit, AuthMethod: AuthMethodAPIKey}, true
	}
	if value := c.fromEnv(p); value != "" {
		return Resolution{Provider: p.Name, Secret: value, Source: SourceEnv, AuthMethod: AuthMethodAPIKey}, true
	}
	return Resolution{}, false
}

// cacheLook is what no generation announces, seen now (the socket path and
// config.toml's stamp), and whether the cache is on: the client cache's re-check.
func (c *Client) cacheLook() (cacheState, bool) {
	path, stamp, _ := configStamp(c.getenv)
	return cacheState{socket: c.Path(), config: stampOf(path, stamp)}, cacheEnabled(c.getenv)
}

// AuthStatus is one provider's status by the same precedence as AuthResolve (apiKey ""
// for none). It asks the daemon only when neither apiKey nor the environment decides.
func (c *Client) AuthStatus(ctx context.Context, provider, apiKey string) (Status, error) {
	reg, err := c.lookup(ctx)
	if err != nil {
		return Status{}, err
	}
	p, err := reg.get(provider)
	if err != nil {
		return Status{}, err
	}
	if p.RequiresAuth() && apiKey != "" {
		return Status{Provider: p.Name, Status: Authenticated, Source: SourceExplicit,
			AuthMethods: append([]string{}, p.AuthMethods...), AuthMethod: AuthMethodAPIKey,
			DisplayName: p.DisplayName}, nil
	}
	if !p.RequiresAuth() || c.fromEnv(p) != "" {
		return c.statusOf(p, nil), nil
	}
	entries, err := c.statuses(ctx, map[string]any{"provider": p.Name})
	if err != nil {
		return Status{}, err
	}
	return c.statusOf(p, entries[p.Name]), nil
}

// AuthStatusAll is every known provider's status, in registry order (one round trip).
func (c *Client) AuthStatusAll(ctx context.Context) ([]Status, error) {
	reg, err := c.lookup(ctx)
	if err != nil {
		return nil, err
	}
	entries, err := c.statuses(ctx, nil)
	if err != nil {
		return nil, err
	}
	all := make([]Status, len(reg.providers))
	for i, p := range reg.providers {
		all[i] = c.statusOf(p, entries[p.Name])
	}
	return all, nil
}

// statuses asks auth.status; its entries by provider name.
func (c *Client) statuses(ctx context.Context, params map[string]any) (map[string]*Status, error) {
	result, err := c.Call(ctx, methodStatus, params)
	if err != nil {
		return nil, err
	}
	answer := decodeObject(result, methodStatus)
	var raw []json.RawMessage
	answer.read("providers", &raw, true)
	answer.read("store", &json.RawMessage{}, true)
	entries := map[string]*Status{}
	for _, item := range raw {
		entry := decodeObject(item, methodStatus)
		s := &Status{
			Provider:    entry.text("provider"),
			Status:      entry.text("status"),
			Source:      Source(entry.optionalText("source", true)),
			AuthMethods: entry.list("auth_methods", true),
			AuthMethod:  entry.optionalText("auth_method", false),
			ExpiresAt:   seconds(entry.number("expires_at", false)),
		}
		if entry.err != nil {
			return nil, entry.err
		}
		entries[s.Provider] = s
	}
	return entries, answer.err
}

// statusOf is p's status given the daemon's entry (nil: not asked, or not listed).
func (c *Client) statusOf(p Provider, stored *Status) Status {
	s := Status{Provider: p.Name, Status: NotAuthenticated, AuthMethods: append([]string{}, p.AuthMethods...),
		DisplayName: p.DisplayName}
	switch {
	case !p.RequiresAuth():
		s.Status = NotRequired
	case c.fromEnv(p) != "":
		s.Status, s.Source, s.AuthMethod = Authenticated, SourceEnv, AuthMethodAPIKey
	case stored != nil && stored.Status == Authenticated:
		s.Status, s.Source, s.AuthMethod, s.ExpiresAt = Authenticated, stored.Source, stored.AuthMethod, stored.ExpiresAt
	}
	return s
}

// AuthSetCredential stores secret as provider's API key in the daemon's store.
// Surrounding spaces, tabs, CRs and LFs are trimmed. Errors: unknown_provider,
// invalid_params (empty, too long, not UTF-8, a control character inside, a provider
// without API keys), daemon_unavailable, store_unavailable.
func (c *Client) AuthSetCredential(ctx context.Context, provider, secret string) error {
	reg, err := c.lookup(ctx)
	if err != nil {
		return err
	}
	p, err := reg.get(provider)
	if err != nil {
		return err
	}
	checked, err := checkSecret(secret)
	if err != nil {
		return err
	}
	_, err = c.Call(ctx, methodSetCredential, map[string]any{"provider": p.Name, "secret": checked})
	return err
}

// AuthRemoveCredential removes provider's stored credential; true if one was stored.
// provider may also be the exact stored name of a provider config.toml no longer
// defines (an orphan). Errors: unknown_provider (neither known nor stored),
// daemon_unavailable, store_unavailable.
func (c *Client) AuthRemoveCredential(ctx context.Context, provider string) (bool, error) {
	reg, err := c.lookup(ctx)
	if err != nil {
		return false, err
	}
	name := provider // an unknown name may be an orphan: only the daemon knows what is stored
	if p, err := reg.get(provider); err == nil {
		name = p.Name
	}
	result, err := c.Call(ctx, methodRemoveCredential, map[string]any{"provider": name})
	if err != nil {
		return false, err
	}
	answer := decodeObject(result, methodRemoveCredential)
	removed := answer.boolean("removed")
	return removed, answer.err
}

// checkSecret is the key as it is to be stored (client/nxuskit/credential.py, the rule
// the daemon applies too): trimmed of spaces, tabs, CRs and LFs at both ends; refused,
// without showing it, when empty, not UTF-8, over 16384 bytes or holding a control
// character (U+0000-U+001F, U+007F-U+009F) anywhere.
func checkSecret(value string) (string, error) {
	secret := strings.Trim(value, " \t\r\n")
	if secret == "" {
		return "", newError(KindInvalidParams, "the credential is empty: pass the API key itself")
	}
	if !utf8.ValidString(secret) {
		return "", newError(KindInvalidParams, "the credential is not valid UTF-8 text: pass the API key itself")
	}
	if len(secret) > maxSecretBytes {
		return "", newError(KindInvalidParams, fmt.Sprintf(
			"the credential is %d bytes, over the %d-byte limit: pass the API key alone", len(secret), maxSecretBytes))
	}
	for _, r := range secret {
		if r < 0x20 || (r >= 0x7F && r <= 0x9F) {
			return "", newError(KindInvalidParams, fmt.Sprintf("the credential contains the control "+
				"character U+%04X (a line break, tab or other invisible character): pass the API key alone", r))
		}
	}
	return secret, nil
}
