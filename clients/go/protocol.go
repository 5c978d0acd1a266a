package nxuskit

import "time"

// The wire contract's numbers and names (docs/protocol.md; client/nxuskit/protocol.py).
const (
	// ProtocolVersion is the protocol this client speaks (daemon.hello).
	ProtocolVersion = 1
	// MinProtocolVersion is the oldest daemon protocol this client works with.
	MinProtocolVersion = 1
	// maxAnswerBytes bounds one answer line, as the Python client bounds it.
	maxAnswerBytes = 16 * 1024 * 1024
	// maxSecretBytes is the longest secret auth.set_credential accepts (UTF-8 bytes).
	maxSecretBytes = 16 * 1024
	// DefaultTimeout is how long a call waits for its answer when neither the Client
	// nor NXUSKIT_TIMEOUT says otherwise.
	DefaultTimeout = 30 * time.Second
	// startTimeout is how long autostart waits for a new daemon to answer.
	startTimeout = 10 * time.Second
)

// Method names, one per capability: AuthResolve sends auth.resolve.
const (
	methodHello            = "daemon.hello"
	methodDaemonStatus     = "daemon.status"
	methodResolve          = "auth.resolve"
	methodStatus           = "auth.status"
	methodSetCredential    = "auth.set_credential"
	methodRemoveCredential = "auth.remove_credential"
	methodProviderList     = "provider.list"
)

// retrySafe holds the methods that may be sent again when the connection closed before
// their answer arrived: running them twice leaves the same state (protocol.RETRY_SAFE).
var retrySafe = map[string]bool{
	methodHello: true, methodDaemonStatus: true, methodResolve: true, methodStatus: true,
	methodSetCredential: true, methodRemoveCredential: true, methodProviderList: true,
	"daemon.lock": true, "store.migrate": true, "auth.login_wait": true,
	"auth.login_cancel": true, "auth.logout": true,
}

// Source says where a credential came from.
type Source string

// The sources. The zero Source means none (a provider that needs no credential).
const (
	SourceExplicit Source = "explicit"
	SourceEnv      Source = "env"
	SourceStore    Source = "store"
	SourceOAuth    Source = "oauth"
)

func (s Source) String() string { return string(s) }

// Values of Status.Status.
const (
	Authenticated    = "authenticated"
	NotAuthenticated = "not_authenticated"
	NotRequired      = "not_required"
)

// Values of AuthMethod and AuthMethods.
const (
	AuthMethodAPIKey = "api_key"
	AuthMethodOAuth  = "oauth"
	AuthMethodNone   = "none"
)
