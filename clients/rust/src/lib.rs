//! nxuskit: credentials for LLM providers, resolved by a per-user daemon (`nxuskitd`).
//!
//! ```no_run
//! use nxuskit::{auth_resolve, auth_set_credential, auth_status};
//!
//! # fn main() -> Result<(), nxuskit::Error> {
//! // Check status
//! let status = auth_status("openai")?;
//! // Store credential
//! auth_set_credential("openai", "sk-...")?;
//! // Resolve credential (follows precedence chain)
//! let resolution = auth_resolve("openai", None)?;
//! println!("{} from {}", status.provider, resolution.source());
//! let _key: &str = resolution.secret();
//! # Ok(())
//! # }
//! ```
//!
//! Precedence, highest first: the explicit key a caller passes, the provider's
//! environment variable (`OPENAI_API_KEY`), then the daemon's store (the OS keyring or a
//! 0600 file). The functions here use one [`Client`] per process; build your own for
//! another socket, a timeout, or no autostart.
//!
//! Before anything is sent, the client checks that the socket's directories and the
//! process serving the socket belong to this user (docs/protocol.md section 1). No
//! `Debug` or `Display` output of a [`Resolution`] or an [`Error`] contains a secret.
//!
//! The crate has no dependencies: its JSON reader and writer is [`json`], and the few C
//! calls `std` lacks (`flock`, `getsockopt(SO_PEERCRED)`, `mmap`) are declared in a private
//! module. Repeated resolves are answered from memory while the daemon says they hold
//! (the client cache, docs/protocol.md section 13; `NXUSKIT_CLIENT_CACHE=0` turns it off).

#![warn(missing_docs)]

mod answers;
mod auth;
mod autostart;
mod cache;
mod client;
mod connection;
pub mod credential;
mod error;
pub mod json;
mod paths;
pub mod registry;
mod sys;
mod trust;

use std::sync::{Mutex, PoisonError};

pub use answers::{AuthStatus, Resolution, Reuse, Source, Status};
pub use client::{timeout_from_env, Client, DEFAULT_TIMEOUT, RETRY_SAFE};
pub use connection::{Connection, Failure, Transport, PROTOCOL_VERSION};
pub use error::{Error, ErrorKind, Result};
pub use registry::{Provider, Registry};

/// The per-process [`Client`] the functions below use.
pub fn default_client() -> &'static Client {
    static DEFAULT: Mutex<Option<&'static Client>> = Mutex::new(None);
    let mut slot = DEFAULT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(client) = *slot {
        return client;
    }
    let client: &'static Client = Box::leak(Box::new(Client::new())); // lives as long as the process
    *slot = Some(client);
    client
}

/// Resolve `provider`'s credential: `explicit` (when given and non-empty), else its
/// environment variable, else the daemon's store ([`Client::auth_resolve`]).
pub fn auth_resolve(provider: &str, explicit: Option<&str>) -> Result<Resolution> {
    default_client().auth_resolve(provider, explicit)
}

/// One provider's status, by the same precedence ([`Client::auth_status`]).
pub fn auth_status(provider: &str) -> Result<AuthStatus> {
    default_client().auth_status(provider)
}

/// Every known provider's status, in registry order ([`Client::auth_status_all`]).
pub fn auth_status_all() -> Result<Vec<AuthStatus>> {
    default_client().auth_status_all()
}

/// Store `secret` as `provider`'s API key in the daemon's store
/// ([`Client::auth_set_credential`]).
pub fn auth_set_credential(provider: &str, secret: &str) -> Result<()> {
    default_client().auth_set_credential(provider, secret)
}

/// Remove `provider`'s stored credential; `true` if one was stored
/// ([`Client::auth_remove_credential`]).
pub fn auth_remove_credential(provider: &str) -> Result<bool> {
    default_client().auth_remove_credential(provider)
}
