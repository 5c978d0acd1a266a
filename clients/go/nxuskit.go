// Package nxuskit resolves LLM provider credentials through nxuskitd, the per-user
// credential daemon, over its private Unix socket (docs/protocol.md). Standard library
// only.
//
//	status, err := nxuskit.AuthStatus("openai")              // Status{Status: "authenticated", ...}
//	err = nxuskit.AuthSetCredential("openai", "sk-...")       // stored by the daemon
//	resolution, err := nxuskit.AuthResolve("openai", "")      // explicit > OPENAI_API_KEY > store
//	resolution.Secret, resolution.Source                      // "sk-...", "store"
//
// The package functions use one default Client with context.Background(); build your
// own with NewClient for contexts, another socket, a timeout or no autostart. Every
// error is an *Error with a stable Kind (see Error). Before anything is sent, the
// client checks that the socket's directories and the daemon serving it are this
// user's own; it starts nxuskitd when none runs (unless NXUSKIT_AUTOSTART=0), under
// the same lock file as the Python client.
package nxuskit

import "context"

// AuthStatus is the authentication status of provider, by the same precedence as
// AuthResolve (the environment, then the store); see Client.AuthStatus.
func AuthStatus(provider string) (Status, error) {
	return defaultClient.AuthStatus(context.Background(), provider, "")
}

// AuthStatusAll is the status of every known provider, in registry order.
func AuthStatusAll() ([]Status, error) {
	return defaultClient.AuthStatusAll(context.Background())
}

// AuthSetCredential stores secret as provider's API key; see Client.AuthSetCredential.
func AuthSetCredential(provider, secret string) error {
	return defaultClient.AuthSetCredential(context.Background(), provider, secret)
}

// AuthResolve resolves provider's credential: apiKey when not "", else its environment
// variable, else the daemon's store; see Client.AuthResolve.
func AuthResolve(provider, apiKey string) (Resolution, error) {
	return defaultClient.AuthResolve(context.Background(), provider, apiKey)
}

// AuthRemoveCredential removes provider's stored credential; true if one was stored.
func AuthRemoveCredential(provider string) (bool, error) {
	return defaultClient.AuthRemoveCredential(context.Background(), provider)
}
