//! What the credential calls return: [`Resolution`] (with its [`Source`]) and
//! [`AuthStatus`] (with its [`Status`]). Neither `Debug` nor `Display` ever shows a secret.

use std::fmt;

use crate::error::{Error, ErrorKind, Result};
use crate::json::Value;

/// Where a credential came from.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The key the caller passed.
    Explicit,
    /// The provider's environment variable in this process.
    Env,
    /// The daemon's store (an API key).
    Store,
    /// The daemon's store (an OAuth access token, refreshed by the daemon).
    OAuth,
    /// No credential: the provider needs none (Ollama, LM Studio).
    NotRequired,
    /// A source this client does not know yet (a newer daemon's).
    Other(String),
}

impl Source {
    /// The wire's `source` string; `None` for [`Source::NotRequired`] (the wire's null).
    pub fn as_wire(&self) -> Option<&str> {
        Some(match self {
            Source::Explicit => "explicit",
            Source::Env => "env",
            Source::Store => "store",
            Source::OAuth => "oauth",
            Source::NotRequired => return None,
            Source::Other(name) => name,
        })
    }

    fn from_wire(value: Option<&str>) -> Source {
        match value {
            None => Source::NotRequired,
            Some("explicit") => Source::Explicit,
            Some("env") => Source::Env,
            Some("store") => Source::Store,
            Some("oauth") => Source::OAuth,
            Some(other) => Source::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Source {
    /// `explicit`, `env`, `store`, `oauth`, or `none` when no credential is needed.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_wire().unwrap_or("none"))
    }
}

/// The daemon's leave to answer later resolves of a provider from the client's memory
/// (docs/protocol.md section 13): while its generation file holds `generation`, for at
/// most `seconds` from when the request was sent, and, when `idle` is given, until `idle`
/// seconds pass without a reuse. Only the personal store's answers carry it.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reuse {
    /// The daemon's generation the answer was computed under.
    pub generation: u64,
    /// How long at most it may be reused, counted from when the request was sent.
    pub seconds: f64,
    /// Seconds without a reuse after which it may not be reused; `None`: no such limit.
    pub idle: Option<f64>,
}

impl Reuse {
    /// Decode the wire's `reuse`; `None` for null, and for anything malformed or out of
    /// range (such an answer is simply not reused).
    fn from_wire(value: &Value) -> Option<Reuse> {
        let seconds = value.get("seconds")?.as_number()?.as_f64()?;
        let idle = match value.get("idle") {
            None | Some(Value::Null) => None,
            Some(idle) => Some(idle.as_number()?.as_f64().filter(|idle| *idle >= 0.0)?),
        };
        let generation = value.get("generation")?.as_number()?.as_u64()?;
        // A day is far above the daemon's own limits (2 h); more would be a broken daemon.
        let sane = |limit: f64| limit.is_finite() && (0.0..=86400.0).contains(&limit);
        (sane(seconds) && idle.map_or(true, sane)).then_some(Reuse { generation, seconds, idle })
    }
}

/// A resolved credential: [`secret`](Resolution::secret) and where it came from
/// ([`source`](Resolution::source)). `Debug` shows the secret as `***`.
#[derive(Clone, PartialEq)]
pub struct Resolution {
    provider: String,
    secret: Option<String>,
    source: Source,
    auth_method: String,
    expires_at: Option<f64>,
    reuse: Option<Reuse>,
}

impl Resolution {
    pub(crate) fn new(
        provider: &str,
        secret: Option<String>,
        source: Source,
        auth_method: &str,
    ) -> Resolution {
        Resolution {
            provider: provider.to_owned(),
            secret,
            source,
            auth_method: auth_method.to_owned(),
            expires_at: None,
            reuse: None,
        }
    }

    /// The provider's canonical name (`"openai"` for `"GPT"`).
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The credential: an API key or an OAuth access token. Empty for a provider that
    /// needs none ([`Source::NotRequired`]); see also [`Resolution::secret_if_any`].
    pub fn secret(&self) -> &str {
        self.secret.as_deref().unwrap_or("")
    }

    /// The credential, or `None` for a provider that needs none.
    pub fn secret_if_any(&self) -> Option<&str> {
        self.secret.as_deref()
    }

    /// Where the credential came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// `"api_key"`, `"oauth"` or `"none"`.
    pub fn auth_method(&self) -> &str {
        &self.auth_method
    }

    /// When an OAuth token expires (Unix time, seconds); `None` for keys.
    pub fn expires_at(&self) -> Option<f64> {
        self.expires_at
    }

    /// The daemon's leave to reuse this answer (asked for by the client cache); `None` for
    /// answers that did not come from the personal store.
    pub fn reuse(&self) -> Option<&Reuse> {
        self.reuse.as_ref()
    }

    /// Decode the daemon's `auth.resolve` result.
    pub(crate) fn from_wire(result: &Value) -> Result<Resolution> {
        let field = |name: &str| result.get(name).unwrap_or(&Value::Null);
        let wrong = |name: &str| {
            let message = format!("the daemon's answer to auth.resolve has a malformed '{name}'");
            Error::new(ErrorKind::ProtocolError, message)
        };
        let provider = field("provider").as_str().ok_or_else(|| wrong("provider"))?;
        let secret = optional_text(field("secret")).ok_or_else(|| wrong("secret"))?;
        let source = optional_text(field("source")).ok_or_else(|| wrong("source"))?;
        let auth_method = field("auth_method").as_str().ok_or_else(|| wrong("auth_method"))?;
        let expires_at = optional_number(field("expires_at")).ok_or_else(|| wrong("expires_at"))?;
        let mut resolution = Resolution::new(
            provider,
            secret.map(str::to_owned),
            Source::from_wire(source),
            auth_method,
        );
        resolution.expires_at = expires_at;
        resolution.reuse = result.get("reuse").and_then(Reuse::from_wire);
        Ok(resolution)
    }
}

/// `Some(None)` for null, `Some(Some(text))` for a string, `None` for anything else.
fn optional_text(value: &Value) -> Option<Option<&str>> {
    match value {
        Value::Null => Some(None),
        Value::String(text) => Some(Some(text)),
        _ => None,
    }
}

fn optional_number(value: &Value) -> Option<Option<f64>> {
    match value {
        Value::Null => Some(None),
        Value::Number(number) => number.as_f64().map(Some),
        _ => None,
    }
}

impl fmt::Debug for Resolution {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Resolution")
            .field("provider", &self.provider)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("source", &self.source)
            .field("auth_method", &self.auth_method)
            .field("expires_at", &self.expires_at)
            .field("reuse", &self.reuse)
            .finish()
    }
}

impl fmt::Display for Resolution {
    /// `openai from store` (never the secret).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} from {}", self.provider, self.source)
    }
}

/// Whether a provider is usable.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// A credential would be found.
    Authenticated,
    /// None would be found (also any status this client does not know).
    NotAuthenticated,
    /// The provider needs none.
    NotRequired,
    /// Its config.toml entry is wrong ([`AuthStatus::error`] says why).
    ConfigInvalid,
}

impl Status {
    /// The wire's string (`"authenticated"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Authenticated => "authenticated",
            Status::NotAuthenticated => "not_authenticated",
            Status::NotRequired => "not_required",
            Status::ConfigInvalid => "config_invalid",
        }
    }

    fn from_wire(value: &str) -> Status {
        match value {
            "authenticated" => Status::Authenticated,
            "not_required" => Status::NotRequired,
            "config_invalid" => Status::ConfigInvalid,
            _ => Status::NotAuthenticated,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A provider's status, by the same precedence as a resolve. Never holds a secret.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct AuthStatus {
    /// The canonical name.
    pub provider: String,
    /// The name for people, when known.
    pub display_name: Option<String>,
    /// Whether it is usable.
    pub status: Status,
    /// The source a resolve would use now; `None` when none would be found or needed.
    pub source: Option<Source>,
    /// `"api_key"` and/or `"oauth"`; empty for local providers.
    pub auth_methods: Vec<String>,
    /// The method of the credential found, if any.
    pub auth_method: Option<String>,
    /// When the stored OAuth token expires, if it does.
    pub expires_at: Option<f64>,
    /// Why its config.toml entry is wrong ([`Status::ConfigInvalid`]).
    pub error: Option<String>,
}

impl AuthStatus {
    /// True when a resolve would succeed (or no credential is needed).
    pub fn is_authenticated(&self) -> bool {
        matches!(self.status, Status::Authenticated | Status::NotRequired)
    }

    pub(crate) fn from_wire(entry: &Value) -> Result<AuthStatus> {
        let wrong = || {
            Error::new(
                ErrorKind::ProtocolError,
                "the daemon's answer to auth.status has a malformed entry",
            )
        };
        let field = |name: &str| entry.get(name).unwrap_or(&Value::Null);
        let methods = field("auth_methods").as_array().ok_or_else(wrong)?;
        let auth_methods =
            methods.iter().map(|m| m.as_str().map(str::to_owned)).collect::<Option<_>>();
        let source = optional_text(field("source")).ok_or_else(wrong)?;
        Ok(AuthStatus {
            provider: field("provider").as_str().ok_or_else(wrong)?.to_owned(),
            display_name: optional_text(field("display_name"))
                .ok_or_else(wrong)?
                .map(str::to_owned),
            status: Status::from_wire(field("status").as_str().ok_or_else(wrong)?),
            source: source.map(|name| Source::from_wire(Some(name))),
            auth_methods: auth_methods.ok_or_else(wrong)?,
            auth_method: optional_text(field("auth_method")).ok_or_else(wrong)?.map(str::to_owned),
            expires_at: optional_number(field("expires_at")).ok_or_else(wrong)?,
            error: optional_text(field("error")).ok_or_else(wrong)?.map(str::to_owned),
        })
    }
}
