//! The client cache: repeated resolves answered from memory, never staler than asking
//! (docs/protocol.md section 13; the Python client's `nxuskit.reuse` does the same).
//!
//! Asked with `"reuse": true`, the daemon adds a [`Reuse`] to an answer from the personal
//! store. A [`Client`](crate::Client) keeps it, by the provider name as the caller wrote
//! it, and answers the next resolve of that name from memory while all of these hold:
//!
//! - the provider's environment variable is still unset or empty: it is read on every
//!   call, so a variable set now wins at once (an explicit key never reaches the cache);
//! - the daemon's generation file (`<socket>.generation`, mapped read-only at the first
//!   reuse, so a process that resolves once never maps it) still holds the answer's
//!   generation. The daemon moves it, before the call that caused it returns, on anything
//!   that may change an answer. The file is trusted only as the socket is
//!   ([`map_generation`]); otherwise nothing is reused;
//! - less than `seconds` passed since the request was sent, and less than `idle` since the
//!   answer was last used.
//!
//! What no generation announces is looked at every [`CHECK_INTERVAL`] and at every miss:
//! config.toml (one `stat`; without the cache the client makes one per call), the socket
//! path (`NXUSKIT_SOCKET`, `XDG_RUNTIME_DIR`), whether the generation file is still the
//! one mapped, and `NXUSKIT_CLIENT_CACHE`; any change empties the cache.

use std::collections::HashMap;
use std::fmt;
use std::fs::OpenOptions;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::answers::{Resolution, Reuse, Source};
use crate::paths::{self, Stamp};
use crate::registry::Provider;
use crate::{sys, trust};

/// Time between looks at what no generation announces.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(100);
/// Names kept at most (each spelling is one): past that the cache starts over.
pub const MAX_ENTRIES: usize = 256;
/// The generation file's length, and its first 8 bytes (magic `NXGN`, format 1) as one
/// little-endian word.
const SIZE: usize = 16;
const HEADER: u64 = u64::from_le_bytes(*b"NXGN\x01\x00\x00\x00");

/// Whether resolves may be reused: `NXUSKIT_CLIENT_CACHE` is not 0, false, no or off
/// (any case, surrounding whitespace ignored).
pub fn enabled() -> bool {
    let value = std::env::var("NXUSKIT_CLIENT_CACHE").unwrap_or_default();
    !matches!(value.trim().to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off")
}

/// The mapped generation file and its (device, inode).
struct Generation {
    mapping: sys::Mapping,
    identity: (u64, u64),
}

/// The generation file at `path` mapped read-only, or `None` when it is missing or cannot
/// be trusted. Its directory must be the socket's private directory (the chain above it
/// was checked when this client connected, and only this user or root can change what is
/// in it); the file, opened without following a link, must be a regular file of this
/// user that nobody else may read or write, at least 16 bytes, with the documented header.
fn map_generation(path: &Path) -> Option<Generation> {
    let uid = sys::effective_uid();
    trust::check_private_directory(path.parent()?, uid).ok()?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(sys::O_NOFOLLOW | sys::O_NONBLOCK)
        .open(path)
        .ok()?;
    let metadata = file.metadata().ok()?; // fstat of what was opened
    if !metadata.file_type().is_file()
        || metadata.uid() != uid
        || metadata.mode() & 0o077 != 0
        || metadata.len() < SIZE as u64
    {
        return None;
    }
    let mapping = sys::Mapping::read_only(&file, SIZE).ok()?;
    (mapping.load_u64_le(0) == HEADER)
        .then(|| Generation { mapping, identity: (metadata.dev(), metadata.ino()) })
}

/// A kept answer of the daemon and its limits.
struct Kept {
    answer: Resolution,
    generation: u64,
    until: Instant,
    idle: Option<Duration>,
    used: Instant,
}

impl Kept {
    fn new(answer: &Resolution, reuse: &Reuse, sent: Instant) -> Option<Kept> {
        Some(Kept {
            answer: answer.clone(),
            generation: reuse.generation,
            until: sent.checked_add(Duration::from_secs_f64(reuse.seconds))?,
            idle: reuse.idle.map(Duration::from_secs_f64),
            used: sent,
        })
    }

    /// Still valid at `now` under `generation` (and counted as used then).
    fn reuse(&mut self, now: Instant, generation: u64) -> Option<Resolution> {
        let idle = self.idle.map_or(false, |idle| now.saturating_duration_since(self.used) >= idle);
        if now >= self.until || idle || generation != self.generation {
            return None;
        }
        self.used = now;
        Some(self.answer.clone())
    }
}

/// What is kept for one name as the caller spelled it.
struct Entry {
    /// The provider's canonical name, its variable, and whether it needs a credential.
    name: String,
    env: Option<String>,
    requires_auth: bool,
    stored: Option<Kept>,
}

/// A Client's reusable resolves. `Debug` shows how many, never what.
#[derive(Default)]
pub struct ReuseCache {
    entries: HashMap<String, Entry>,
    /// The socket path and config.toml stamp the entries were found under.
    origin: Option<(PathBuf, Option<Stamp>)>,
    generation: Option<Generation>,
    check_at: Option<Instant>,
    /// After a generation file that could not be trusted: when to try again.
    retry_map_at: Option<Instant>,
}

impl fmt::Debug for ReuseCache {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ReuseCache")
            .field("entries", &self.entries.len())
            .field("mapped", &self.generation.is_some())
            .finish()
    }
}

impl ReuseCache {
    /// The answer to a resolve of `provider` (without an explicit key) from memory, if one
    /// holds now; `None`: ask the daemon. `socket` gives the client's socket path now.
    pub fn get(&mut self, provider: &str, socket: &dyn Fn() -> PathBuf) -> Option<Resolution> {
        if self.entries.is_empty() {
            return None;
        }
        let now = Instant::now();
        if self.check_at.map_or(true, |at| now >= at) && !self.recheck(now, socket) {
            return None;
        }
        let entry = self.entries.get_mut(provider)?;
        if !entry.requires_auth {
            return Some(Resolution::new(&entry.name, None, Source::NotRequired, "none"));
        }
        if let Some(variable) = &entry.env {
            match std::env::var_os(variable) {
                // Not UTF-8: the daemon-free path says what is wrong.
                Some(value) if !value.is_empty() => {
                    let value = value.into_string().ok()?;
                    return Some(Resolution::new(&entry.name, Some(value), Source::Env, "api_key"));
                }
                _ => {}
            }
        }
        let kept = entry.stored.as_mut()?;
        if self.generation.is_none() {
            // Mapped at the first reuse: a process that resolves once never maps it.
            if self.retry_map_at.map_or(false, |at| now < at) {
                return None;
            }
            let socket = &self.origin.as_ref()?.0;
            self.generation = map_generation(&paths::generation_path(socket));
            if self.generation.is_none() {
                self.retry_map_at = Some(now + CHECK_INTERVAL);
                return None;
            }
        }
        let current = self.generation.as_ref()?.mapping.load_u64_le(8);
        kept.reuse(now, current)
    }

    /// Keep `answer`, the resolve of `provider` (found as `spec`, under `origin`: the socket
    /// path and config.toml stamp of the request sent at `sent`), when it may be reused.
    pub fn keep(
        &mut self,
        provider: &str,
        origin: (PathBuf, Option<Stamp>),
        spec: &Provider,
        answer: &Resolution,
        sent: Instant,
    ) {
        if !enabled() {
            self.clear();
            return;
        }
        if self.origin.as_ref() != Some(&origin) || !self.same_file() {
            self.clear();
            self.origin = Some(origin);
            self.check_at = Some(sent + CHECK_INTERVAL);
        }
        let stored = match answer.reuse() {
            Some(reuse) if spec.requires_auth() => Kept::new(answer, reuse, sent),
            _ => None,
        };
        if stored.is_none() && spec.requires_auth() && *answer.source() != Source::Env {
            self.forget(provider); // the daemon gave no leave: its next answer is asked for
            return;
        }
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(provider) {
            self.entries.clear();
        }
        let entry = self.entries.entry(provider.to_owned()).or_insert_with(|| Entry {
            name: spec.name.clone(),
            env: spec.env.clone(),
            requires_auth: spec.requires_auth(),
            stored: None,
        });
        if stored.is_some() {
            entry.stored = stored;
        }
    }

    /// Drop what is kept from the daemon for `provider` (its resolve failed, or came
    /// without leave to reuse).
    pub fn forget(&mut self, provider: &str) {
        if let Some(entry) = self.entries.get_mut(provider) {
            entry.stored = None;
        }
    }

    /// Look again at what no generation announces; false (and empty) on a change.
    fn recheck(&mut self, now: Instant, socket: &dyn Fn() -> PathBuf) -> bool {
        self.check_at = Some(now + CHECK_INTERVAL);
        let same = enabled()
            && self.origin.as_ref().map_or(false, |(path, stamp)| {
                *path == socket() && *stamp == paths::config_stamp()
            })
            && self.same_file();
        if !same {
            self.clear();
        }
        same
    }

    /// The mapped generation file (if any) is still the one at its path.
    fn same_file(&self) -> bool {
        let (generation, (socket, _)) = match (&self.generation, &self.origin) {
            (Some(generation), Some(origin)) => (generation, origin),
            _ => return true,
        };
        std::fs::metadata(paths::generation_path(socket))
            .map_or(false, |metadata| (metadata.dev(), metadata.ino()) == generation.identity)
    }

    /// Forget every kept answer and unmap the generation file.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.origin = None;
        self.generation = None;
        self.check_at = None;
        self.retry_map_at = None;
    }
}
