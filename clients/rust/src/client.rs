//! [`Client`]: one connection to nxuskitd and the credential API over it.
//!
//! A Client opens its connection on first use (starting the daemon when none runs and
//! autostart is allowed), keeps it for later calls, and opens a new one when the daemon
//! went away between calls. A request whose connection closed before the answer is sent
//! again (once) only when running it twice is harmless ([`RETRY_SAFE`]). Calls from
//! several threads take turns on the one connection.
//!
//! The credential calls (`auth_resolve` and the rest) are in `auth.rs`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::cache::ReuseCache;
use crate::connection::{Connection, Failure, Transport};
use crate::error::{Error, ErrorKind, Result};
use crate::json::Value;
use crate::paths::Stamp;
use crate::registry::Registry;
use crate::{autostart, paths};

/// Seconds to wait for an answer unless `NXUSKIT_TIMEOUT` or [`Client::timeout`] says.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Methods sent again when the connection closed before their answer came.
pub const RETRY_SAFE: [&str; 12] = [
    "daemon.hello",
    "daemon.status",
    "auth.resolve",
    "auth.status",
    "auth.set_credential",
    "auth.remove_credential",
    "provider.list",
    "daemon.lock",
    "store.migrate",
    "auth.login_wait",
    "auth.login_cancel",
    "auth.logout",
];

type Connector = dyn Fn(&Path, Duration) -> Result<Box<dyn Transport>> + Send + Sync;

/// `NXUSKIT_TIMEOUT` in seconds, else [`DEFAULT_TIMEOUT`]; an error when it is set to
/// something that is not a positive number of seconds under a day.
pub fn timeout_from_env() -> Result<Duration> {
    let raw = std::env::var("NXUSKIT_TIMEOUT").unwrap_or_default();
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(DEFAULT_TIMEOUT);
    }
    match raw.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds < 86400.0 => Ok(Duration::from_secs_f64(seconds)),
        _ => Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("NXUSKIT_TIMEOUT={raw:?}: give the seconds to wait, like 30"),
        )),
    }
}

struct State {
    connection: Option<Box<dyn Transport>>,
    path: PathBuf,
}

/// A connection to nxuskitd, and the credential API over it. `Send + Sync`: share one.
pub struct Client {
    socket_path: Option<PathBuf>,
    autostart: Option<bool>,
    timeout: Option<Duration>,
    daemon_program: Option<PathBuf>,
    connector: Box<Connector>,
    state: Mutex<State>,
    registry: Mutex<Option<(Stamp, Arc<Registry>)>>,
    cache: Mutex<ReuseCache>,
    asked: AtomicU64,
}

impl fmt::Debug for Client {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Client")
            .field("socket_path", &self.socket_path)
            .field("autostart", &self.autostart)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl Client {
    /// A client of the default socket (`NXUSKIT_SOCKET` or the runtime directory's, looked
    /// up at each call), autostart unless `NXUSKIT_AUTOSTART=0`, the timeout of
    /// `NXUSKIT_TIMEOUT` or 30 s. Nothing is opened until the first call.
    pub fn new() -> Client {
        Client {
            socket_path: None,
            autostart: None,
            timeout: None,
            daemon_program: None,
            connector: Box::new(|path, timeout| Ok(Box::new(Connection::open(path, timeout)?))),
            state: Mutex::new(State { connection: None, path: PathBuf::new() }),
            registry: Mutex::new(None),
            cache: Mutex::new(ReuseCache::default()),
            asked: AtomicU64::new(0),
        }
    }

    /// Talk to the daemon at `path` (made absolute now) instead of the default socket.
    pub fn socket_path(mut self, path: impl AsRef<Path>) -> Client {
        self.socket_path = Some(paths::absolute(path.as_ref()));
        self
    }

    /// Whether to start a daemon when none runs (default: unless `NXUSKIT_AUTOSTART=0`).
    pub fn autostart(mut self, allowed: bool) -> Client {
        self.autostart = Some(allowed);
        self
    }

    /// How long to wait for an answer (default: `NXUSKIT_TIMEOUT`, else 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Client {
        self.timeout = Some(timeout);
        self
    }

    /// The `nxuskitd` program autostart runs (default: the first on `PATH`).
    pub fn daemon_program(mut self, program: impl AsRef<Path>) -> Client {
        self.daemon_program = Some(program.as_ref().to_path_buf());
        self
    }

    /// Replace the connection: `connect(socket_path, timeout)` returns any [`Transport`]
    /// (tests pass an in-memory daemon). Such a client never starts a daemon.
    pub fn transport<F>(mut self, connect: F) -> Client
    where
        F: Fn(&Path, Duration) -> Result<Box<dyn Transport>> + Send + Sync + 'static,
    {
        self.connector = Box::new(connect);
        self
    }

    /// The socket this client talks to (now).
    pub fn path(&self) -> PathBuf {
        self.socket_path.clone().unwrap_or_else(paths::socket_path)
    }

    fn may_start(&self) -> bool {
        self.autostart.unwrap_or_else(autostart::enabled)
    }

    fn open(&self, path: &Path) -> Result<Box<dyn Transport>> {
        let timeout = match self.timeout {
            Some(timeout) => timeout,
            None => timeout_from_env()?,
        };
        match (self.connector)(path, timeout) {
            Err(error) if error.not_running => {}
            other => return other,
        }
        if !self.may_start() {
            let why = if self.autostart == Some(false) {
                ""
            } else {
                " (NXUSKIT_AUTOSTART=0 keeps clients from starting it)"
            };
            return Err(Error::new(
                ErrorKind::DaemonUnavailable,
                format!(
                    "nxuskitd is not running at {}{why}: start it with `nxuskit-cli daemon start` or \
                     `nxuskitd` (or `nxuskit-cli daemon install` for a service)",
                    path.display()
                ),
            ));
        }
        autostart::start_daemon(path, self.daemon_program.as_deref())?;
        (self.connector)(path, timeout).map_err(|error| {
            if !error.not_running {
                return error;
            }
            let message = format!("nxuskitd started but does not answer at {}", path.display());
            Error::new(ErrorKind::DaemonUnavailable, message)
        })
    }

    /// Send one JSON-RPC request (`params`: an object) and return its result. Errors: the
    /// error the daemon answered with, `DaemonUnavailable`, `PermissionDenied`, ...
    pub fn call(&self, method: &str, params: Value) -> Result<Value> {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *guard;
        let retry_safe = RETRY_SAFE.contains(&method);
        for attempt in 1..=2 {
            let path = self.path();
            let stale = match state.connection.as_mut() {
                Some(connection) => state.path != path || (!retry_safe && connection.stale()),
                None => false,
            };
            if stale {
                state.connection = None;
            }
            if state.connection.is_none() {
                state.connection = Some(self.open(&path)?);
                state.path = path;
            }
            let connection = state.connection.as_mut().expect("opened above");
            match connection.call(method, &params) {
                Ok(result) => return Ok(result),
                Err(Failure::Answered(error)) => return Err(error),
                Err(Failure::Broken(error)) => {
                    state.connection = None;
                    return Err(error);
                }
                Err(Failure::Closed) => {
                    state.connection = None;
                    if attempt == 2 || !retry_safe {
                        let message = format!(
                            "nxuskitd at {} closed the connection before answering {method}; see its log",
                            state.path.display()
                        );
                        return Err(Error::new(ErrorKind::DaemonUnavailable, message));
                    }
                }
            }
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// Close the connection (the next call opens a new one).
    pub fn close(&self) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).connection = None;
    }

    /// The providers this client knows: the built-ins, or, when config.toml exists, the
    /// daemon's `provider.list` (asked again when the file changes).
    pub fn registry(&self) -> Result<Arc<Registry>> {
        Ok(self.stamped_registry()?.1)
    }

    /// [`Client::registry`], with the config.toml stamp it was found under (`None`: the
    /// built-ins, there being no config.toml).
    pub(crate) fn stamped_registry(&self) -> Result<(Option<Stamp>, Arc<Registry>)> {
        let stamp = match paths::config_stamp() {
            Some(stamp) => stamp,
            None => return Ok((None, Registry::builtin())),
        };
        let mut cached = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((known, registry)) = cached.as_ref() {
            if *known == stamp {
                return Ok((Some(stamp), registry.clone()));
            }
        }
        let registry = Arc::new(Registry::from_provider_list(
            &self.call("provider.list", Value::object([]))?,
        )?);
        *cached = Some((stamp, registry.clone()));
        Ok((Some(stamp), registry))
    }

    /// The client cache of resolves (docs/protocol.md section 13; `auth.rs` uses it).
    pub(crate) fn cache(&self) -> MutexGuard<'_, ReuseCache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Count one `auth.resolve` sent to the daemon.
    pub(crate) fn count_resolve(&self) {
        self.asked.fetch_add(1, Ordering::Relaxed);
    }

    /// How many of this client's [`Client::auth_resolve`] calls asked the daemon; the
    /// others were answered without it (an explicit key, the environment, a provider that
    /// needs no credential, or the client cache).
    pub fn daemon_resolves(&self) -> u64 {
        self.asked.load(Ordering::Relaxed)
    }

    /// The daemon's `daemon.status` answer (pid, version, socket, started_by, store, ...).
    pub fn daemon_status(&self) -> Result<Value> {
        self.call("daemon.status", Value::object([]))
    }
}
