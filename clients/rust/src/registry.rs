//! The provider registry, and how a name matches a provider (docs/protocol.md section 7).
//!
//! The built-ins are `providers.json`, embedded at build time (a copy of
//! `clients/conformance/providers.json`, which a test keeps equal). When config.toml
//! exists, the [`crate::Client`] asks the daemon for the registry (`provider.list`)
//! instead, since config.toml may add providers or change built-in ones.
//!
//! Matching ignores surrounding ASCII spaces, tabs, CRs and LFs, and the case of ASCII
//! letters, nothing else: `" GPT\n"` is `openai`, `"\u{feff}gpt"` is unknown.

use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, ErrorKind, Result};
use crate::json::{self, Value};

const BUILTIN_JSON: &str = include_str!("../providers.json");

/// One provider's registry record (no credential in it).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    /// The canonical name (`"openai"`).
    pub name: String,
    /// The name for people (`"OpenAI"`).
    pub display_name: String,
    /// Other names that find it (`["gpt"]`).
    pub aliases: Vec<String>,
    /// The environment variable that carries its key (`OPENAI_API_KEY`), if any.
    pub env: Option<String>,
    /// The variable its SDK reads for another server (`OPENAI_BASE_URL`), if any.
    pub host_env: Option<String>,
    /// Its default server, if any.
    pub default_host: Option<String>,
    /// `"api_key"` and/or `"oauth"`; empty for local providers that need no credential.
    pub auth_methods: Vec<String>,
    /// The path from the server to its OpenAI-compatible API root (may be empty).
    pub api_path: String,
}

impl Provider {
    /// False for a local provider (Ollama, LM Studio) that needs no credential.
    pub fn requires_auth(&self) -> bool {
        !self.auth_methods.is_empty()
    }
}

/// How every nxuskit client matches a provider name: surrounding ASCII spaces, tabs, CRs
/// and LFs are ignored, ASCII letters match without case; nothing else changes.
pub fn normalize_name(name: &str) -> String {
    name.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n')).to_ascii_lowercase()
}

/// True when `name` may be shown in a message: short, of provider-name characters only.
/// Anything else may be a key typed in the wrong place, and is never echoed.
pub fn plain_name(name: &str) -> bool {
    name.chars().count() <= 24
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn shown_name(name: &str) -> String {
    if plain_name(name) {
        format!("'{name}'")
    } else {
        "(that name)".to_owned()
    }
}

/// The providers a client knows, looked up by name or alias.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    providers: Vec<Provider>,
    /// config.toml entries that are wrong: (normalized name, the daemon's message).
    broken: Vec<(String, String)>,
    /// Why config.toml as a whole is not used (only built-ins are served then).
    config_error: Option<String>,
}

fn malformed(field: &str) -> Error {
    Error::new(ErrorKind::ProtocolError, format!("a provider entry has a malformed '{field}'"))
}

fn text(entry: &Value, field: &str) -> Result<String> {
    entry.get(field).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| malformed(field))
}

fn optional_text(entry: &Value, field: &str) -> Result<Option<String>> {
    match entry.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(malformed(field)),
    }
}

fn texts(entry: &Value, field: &str) -> Result<Vec<String>> {
    let items = entry.get(field).and_then(Value::as_array).ok_or_else(|| malformed(field))?;
    items
        .iter()
        .map(|item| item.as_str().map(str::to_owned).ok_or_else(|| malformed(field)))
        .collect()
}

fn provider_from(entry: &Value) -> Result<Provider> {
    Ok(Provider {
        name: text(entry, "name")?,
        display_name: text(entry, "display_name")?,
        aliases: texts(entry, "aliases")?,
        env: optional_text(entry, "env")?,
        host_env: optional_text(entry, "host_env")?,
        default_host: optional_text(entry, "default_host")?,
        auth_methods: texts(entry, "auth_methods")?,
        api_path: optional_text(entry, "api_path")?.unwrap_or_default(),
    })
}

impl Registry {
    /// The built-in registry (embedded `providers.json`).
    pub fn builtin() -> Arc<Registry> {
        static BUILTIN: Mutex<Option<Arc<Registry>>> = Mutex::new(None);
        let mut slot = BUILTIN.lock().unwrap_or_else(PoisonError::into_inner);
        let registry = slot.get_or_insert_with(|| {
            let value = json::parse(BUILTIN_JSON).expect("the embedded providers.json is JSON");
            let providers = value.get("providers").and_then(Value::as_array).unwrap_or(&[]);
            let providers = providers.iter().map(provider_from).collect::<Result<_>>();
            let providers = providers.expect("the embedded providers.json has whole entries");
            Arc::new(Registry { providers, ..Registry::default() })
        });
        registry.clone()
    }

    /// The registry from a `provider.list` result (entries with an `error` are broken).
    pub fn from_provider_list(result: &Value) -> Result<Registry> {
        let entries = result
            .get("providers")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("providers"))?;
        let mut registry = Registry::default();
        let builtin = Registry::builtin();
        for entry in entries {
            if let Some(message) = optional_text(entry, "error")? {
                let name = text(entry, "name")?;
                // A broken override of a built-in answers to the built-in's aliases too.
                if let Some(spec) = builtin.providers.iter().find(|spec| spec.name == name) {
                    for alias in &spec.aliases {
                        registry.broken.push((alias.clone(), message.clone()));
                    }
                }
                registry.broken.push((normalize_name(&name), message));
            } else {
                registry.providers.push(provider_from(entry)?);
            }
        }
        let config = result.get("config");
        registry.config_error =
            config.map(|config| optional_text(config, "error")).transpose()?.flatten();
        Ok(registry)
    }

    /// Every usable provider, in registry order.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// The provider called `name` (or aliased so), if any.
    pub fn find(&self, name: &str) -> Option<&Provider> {
        let wanted = normalize_name(name);
        self.providers.iter().find(|spec| spec.name == wanted || spec.aliases.contains(&wanted))
    }

    /// The provider called `name`. Errors: `ConfigInvalid` when its config.toml entry is
    /// wrong (or config.toml is not used and `name` is no built-in), else
    /// `UnknownProvider` listing the known names.
    pub fn get(&self, name: &str) -> Result<&Provider> {
        if let Some(spec) = self.find(name) {
            return Ok(spec);
        }
        let wanted = normalize_name(name);
        if let Some((_, message)) = self.broken.iter().find(|(broken, _)| *broken == wanted) {
            return Err(Error::new(ErrorKind::ConfigInvalid, message.clone()));
        }
        if let Some(problem) = &self.config_error {
            let message = format!("{} is no built-in provider, and {problem}", shown_name(name));
            return Err(Error::new(ErrorKind::ConfigInvalid, message));
        }
        let known: Vec<&str> = self.providers.iter().map(|spec| spec.name.as_str()).collect();
        Err(Error::new(
            ErrorKind::UnknownProvider,
            format!(
                "unknown provider {}: known providers are {}; add others in {}",
                shown_name(name),
                known.join(", "),
                crate::paths::config_path().display()
            ),
        ))
    }
}
