//! The credential API of [`Client`], by precedence (docs/protocol.md section 7): an
//! explicit key, then the provider's environment variable in this process, then the
//! daemon's store. The first two are applied here, without a round trip; the rules are
//! the shared conformance vectors' (clients/conformance/vectors.json).

use std::time::Instant;

use crate::answers::{AuthStatus, Resolution, Source, Status};
use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::json::Value;
use crate::registry::Provider;
use crate::{cache, credential};

/// The provider's key from this process's environment: `None` when unset or empty.
fn from_env(spec: &Provider) -> Result<Option<String>> {
    let name = match &spec.env {
        Some(name) => name,
        None => return Ok(None),
    };
    match std::env::var_os(name) {
        Some(value) if !value.is_empty() => value.into_string().map(Some).map_err(|_| {
            let message =
                format!("{name} holds bytes that are not UTF-8: set it to the API key itself");
            Error::new(ErrorKind::InvalidArgument, message)
        }),
        _ => Ok(None),
    }
}

fn status_from(spec: &Provider, stored: Option<&AuthStatus>, source: Option<Source>) -> AuthStatus {
    let mut status = AuthStatus {
        provider: spec.name.clone(),
        display_name: Some(spec.display_name.clone()),
        status: Status::NotAuthenticated,
        source: None,
        auth_methods: spec.auth_methods.clone(),
        auth_method: None,
        expires_at: None,
        error: None,
    };
    if !spec.requires_auth() {
        status.status = Status::NotRequired;
    } else if source.is_some() {
        status.status = Status::Authenticated;
        status.source = source;
        status.auth_method = Some("api_key".to_owned());
    } else if let Some(stored) = stored.filter(|entry| entry.status == Status::Authenticated) {
        status.status = Status::Authenticated;
        status.source = stored.source.clone();
        status.auth_method = stored.auth_method.clone();
        status.expires_at = stored.expires_at;
    }
    status
}

fn object(members: &[(&str, &str)]) -> Value {
    Value::object(members.iter().map(|&(name, value)| (name, Value::from(value))))
}

impl Client {
    /// Resolve `provider`'s credential by precedence: `explicit` (when non-empty), its
    /// environment variable, then the daemon's store. A repeated resolve without an
    /// explicit key may be answered from the client cache (docs/protocol.md section 13),
    /// never staler than asking; `NXUSKIT_CLIENT_CACHE=0` turns it off.
    ///
    /// Errors: `UnknownProvider`, `NotAuthenticated` (nothing anywhere), and when the
    /// store is asked `DaemonUnavailable`, `StoreUnavailable`, `PermissionDenied`,
    /// `VersionMismatch`.
    pub fn auth_resolve(&self, provider: &str, explicit: Option<&str>) -> Result<Resolution> {
        let explicit = explicit.filter(|key| !key.is_empty());
        if explicit.is_none() {
            // The hot path: no registry, no stat, no round trip when the answer holds.
            if let Some(kept) = self.cache().get(provider, &|| self.path()) {
                return Ok(kept);
            }
        }
        let (stamp, registry) = self.stamped_registry()?;
        let spec = registry.get(provider)?;
        let socket = self.path();
        let sent = Instant::now(); // the answer's limits count from the request
        let answer = self.resolve_uncached(spec, explicit);
        if explicit.is_none() {
            let mut cache = self.cache();
            match &answer {
                Ok(answer) => cache.keep(provider, (socket, stamp), spec, answer, sent),
                Err(_) => cache.forget(provider),
            }
        }
        answer
    }

    fn resolve_uncached(&self, spec: &Provider, explicit: Option<&str>) -> Result<Resolution> {
        if !spec.requires_auth() {
            return Ok(Resolution::new(&spec.name, None, Source::NotRequired, "none"));
        }
        if let Some(key) = explicit {
            let key = Some(key.to_owned());
            return Ok(Resolution::new(&spec.name, key, Source::Explicit, "api_key"));
        }
        if let Some(value) = from_env(spec)? {
            return Ok(Resolution::new(&spec.name, Some(value), Source::Env, "api_key"));
        }
        let mut params = vec![("provider", Value::from(spec.name.as_str()))];
        if cache::enabled() {
            params.push(("reuse", Value::from(true))); // the daemon grants it only when asked
        }
        self.count_resolve();
        let result = self.call("auth.resolve", Value::object(params))?;
        Resolution::from_wire(&result)
    }

    /// One provider's status, by the same precedence (asks the daemon only when the
    /// environment does not decide it). Errors as [`Client::auth_resolve`], never
    /// `NotAuthenticated`.
    pub fn auth_status(&self, provider: &str) -> Result<AuthStatus> {
        self.auth_status_with_key(provider, None)
    }

    /// [`Client::auth_status`], counting an `explicit` key the caller would pass.
    pub fn auth_status_with_key(
        &self,
        provider: &str,
        explicit: Option<&str>,
    ) -> Result<AuthStatus> {
        let registry = self.registry()?;
        let spec = registry.get(provider)?;
        let local = if explicit.map_or(false, |key| !key.is_empty()) {
            Some(Source::Explicit)
        } else {
            from_env(spec)?.map(|_| Source::Env)
        };
        if !spec.requires_auth() || local.is_some() {
            return Ok(status_from(spec, None, local));
        }
        let entries = self.stored_statuses(object(&[("provider", &spec.name)]))?;
        Ok(status_from(spec, entries.iter().find(|entry| entry.provider == spec.name), None))
    }

    /// Every known provider's status, in registry order (one round trip).
    pub fn auth_status_all(&self) -> Result<Vec<AuthStatus>> {
        let registry = self.registry()?;
        let entries = self.stored_statuses(Value::object([]))?;
        registry
            .providers()
            .iter()
            .map(|spec| {
                let local = from_env(spec)?.map(|_| Source::Env);
                Ok(status_from(
                    spec,
                    entries.iter().find(|entry| entry.provider == spec.name),
                    local,
                ))
            })
            .collect()
    }

    fn stored_statuses(&self, params: Value) -> Result<Vec<AuthStatus>> {
        let result = self.call("auth.status", params)?;
        let entries = result.get("providers").and_then(Value::as_array).ok_or_else(|| {
            Error::new(
                ErrorKind::ProtocolError,
                "the daemon's answer to auth.status lacks 'providers'",
            )
        })?;
        entries.iter().map(AuthStatus::from_wire).collect()
    }

    /// Store `secret` as `provider`'s API key (surrounding spaces, tabs and line breaks
    /// trimmed). Errors: `UnknownProvider`, `InvalidArgument` (empty, too long, a control
    /// character, a provider without API keys), `DaemonUnavailable`, `StoreUnavailable`.
    pub fn auth_set_credential(&self, provider: &str, secret: &str) -> Result<()> {
        let registry = self.registry()?;
        let spec = registry.get(provider)?;
        let secret = credential::check_secret(secret)?;
        self.call("auth.set_credential", object(&[("provider", &spec.name), ("secret", secret)]))?;
        Ok(())
    }

    /// Remove `provider`'s stored credential; `true` if one was stored. `provider` may
    /// also be the exact stored name of a provider config.toml no longer defines.
    pub fn auth_remove_credential(&self, provider: &str) -> Result<bool> {
        let registry = self.registry()?;
        // An unknown name may be an orphan: only the daemon knows what is stored.
        let name = registry.find(provider).map_or(provider, |spec| spec.name.as_str());
        let result = self.call("auth.remove_credential", object(&[("provider", name)]))?;
        result.get("removed").and_then(Value::as_bool).ok_or_else(|| {
            Error::new(
                ErrorKind::ProtocolError,
                "the daemon's answer to auth.remove_credential lacks 'removed'",
            )
        })
    }
}
