//! The one error type: a stable [`ErrorKind`] (the wire's `data.kind`) and a message.
//!
//! ```text
//! Error                       every fallible call returns this; match on kind()
//!   DaemonUnavailable         no daemon answers on the socket (autostart did not help)
//!   DaemonBusy                the daemon is at its connection limit (is_unavailable() too)
//!   VersionMismatch           the daemon speaks an older protocol than this client
//!   UnknownProvider           no built-in or configured provider has that name
//!   NotAuthenticated          no credential: not given, not in the environment, not stored
//!   StoreUnavailable          the credential store cannot be read or written right now
//!   PermissionDenied          another user's daemon or directory; nothing was sent
//!   InvalidArgument           a request refused as malformed (wire kind invalid_params)
//!   ConfigInvalid             config.toml is wrong; the message names file and line
//!   LoginFailed               an OAuth login or refresh failed
//!   ProtocolError             the daemon broke the wire contract
//!   Other                     a kind this client does not know (wire_kind() names it)
//! ```
//!
//! Messages say what went wrong and how to fix it. They never contain a secret: the
//! daemon never puts one in an error, and this client never echoes a key or a provider
//! name that may be a key (see [`crate::registry`]). `Debug` shows the same fields.

use std::fmt;

/// What went wrong, one value per wire `data.kind` (docs/protocol.md section 8).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `daemon_unavailable` (1000): no daemon answers, or it did not answer in time.
    DaemonUnavailable,
    /// `daemon_busy` (1008): the daemon refused the connection at its limit.
    DaemonBusy,
    /// `version_mismatch` (1001): the daemon's protocol is too old.
    VersionMismatch,
    /// `unknown_provider` (1002).
    UnknownProvider,
    /// `not_authenticated` (1003).
    NotAuthenticated,
    /// `store_unavailable` (1004).
    StoreUnavailable,
    /// `permission_denied` (1005).
    PermissionDenied,
    /// `invalid_params` (-32602).
    InvalidArgument,
    /// `config_invalid` (1006).
    ConfigInvalid,
    /// `login_failed` (1010).
    LoginFailed,
    /// `protocol_error` (-32603): the daemon's answer broke the contract.
    ProtocolError,
    /// A kind this client does not know; [`Error::wire_kind`] has the daemon's string.
    Other,
}

const KINDS: [(ErrorKind, &str, i64); 11] = [
    (ErrorKind::DaemonUnavailable, "daemon_unavailable", 1000),
    (ErrorKind::DaemonBusy, "daemon_busy", 1008),
    (ErrorKind::VersionMismatch, "version_mismatch", 1001),
    (ErrorKind::UnknownProvider, "unknown_provider", 1002),
    (ErrorKind::NotAuthenticated, "not_authenticated", 1003),
    (ErrorKind::StoreUnavailable, "store_unavailable", 1004),
    (ErrorKind::PermissionDenied, "permission_denied", 1005),
    (ErrorKind::InvalidArgument, "invalid_params", -32602),
    (ErrorKind::ConfigInvalid, "config_invalid", 1006),
    (ErrorKind::LoginFailed, "login_failed", 1010),
    (ErrorKind::ProtocolError, "protocol_error", -32603),
];

impl ErrorKind {
    /// The wire's `data.kind` string (`"error"` for [`ErrorKind::Other`]).
    pub fn as_str(self) -> &'static str {
        KINDS.iter().find(|entry| entry.0 == self).map_or("error", |entry| entry.1)
    }

    /// The JSON-RPC error code of this kind (-32603 for [`ErrorKind::Other`]).
    pub fn code(self) -> i64 {
        KINDS.iter().find(|entry| entry.0 == self).map_or(-32603, |entry| entry.2)
    }

    fn from_wire(kind: &str) -> ErrorKind {
        KINDS.iter().find(|entry| entry.1 == kind).map_or(ErrorKind::Other, |entry| entry.0)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// An nxuskit error: its kind, the daemon's kind string and code, and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    wire_kind: String,
    code: i64,
    message: String,
    /// Nothing listens at the socket: a client may start a daemon and try again.
    pub(crate) not_running: bool,
}

impl Error {
    /// An error of `kind` with `message` (which must not hold a secret).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            wire_kind: kind.as_str().to_owned(),
            code: kind.code(),
            message: message.into(),
            not_running: false,
        }
    }

    pub(crate) fn not_running(path: &std::path::Path) -> Error {
        let mut error = Error::new(
            ErrorKind::DaemonUnavailable,
            format!("no nxuskitd is running at {}", path.display()),
        );
        error.not_running = true;
        error
    }

    /// The error a JSON-RPC error object stands for. An unknown `data.kind` becomes
    /// [`ErrorKind::Other`] (or [`ErrorKind::InvalidArgument`] with code -32602), never a
    /// panic; a malformed object is a [`ErrorKind::ProtocolError`].
    pub fn from_wire(error: &crate::json::Value) -> Error {
        let code = error.get("code").and_then(|code| code.as_number()).and_then(|n| n.as_i64());
        let code = match code {
            Some(code) => code,
            None => {
                return Error::new(
                    ErrorKind::ProtocolError,
                    "the daemon sent a malformed error object",
                );
            }
        };
        let message = error.get("message").and_then(|text| text.as_str());
        let message = message.unwrap_or("the daemon reported an error without a message");
        let wire_kind =
            error.get("data").and_then(|data| data.get("kind")).and_then(|k| k.as_str());
        let mut kind = wire_kind.map_or(ErrorKind::Other, ErrorKind::from_wire);
        if kind == ErrorKind::Other && code == ErrorKind::InvalidArgument.code() {
            kind = ErrorKind::InvalidArgument;
        }
        Error {
            kind,
            wire_kind: wire_kind.unwrap_or("error").to_owned(),
            code,
            message: message.to_owned(),
            not_running: false,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The `data.kind` string as the daemon sent it (for [`ErrorKind::Other`], the kind
    /// this client does not know, such as `"method_not_found"`).
    pub fn wire_kind(&self) -> &str {
        &self.wire_kind
    }

    /// The JSON-RPC error code.
    pub fn code(&self) -> i64 {
        self.code
    }

    /// The message for people (show it as it is; do not parse it).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when no daemon could serve the call ([`ErrorKind::DaemonUnavailable`] or
    /// [`ErrorKind::DaemonBusy`]): retrying later may help.
    pub fn is_unavailable(&self) -> bool {
        matches!(self.kind, ErrorKind::DaemonUnavailable | ErrorKind::DaemonBusy)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The result type of every fallible call in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
