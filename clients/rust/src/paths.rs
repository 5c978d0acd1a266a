//! Where nxuskit keeps its socket and configuration (docs/protocol.md section 1): the
//! same rules as the daemon and the Python client.
//!
//! - socket: `$NXUSKIT_SOCKET` (trimmed; relative to the current directory), else
//!   `<runtime dir>/nxuskit/nxuskitd.sock`, the runtime dir being `$XDG_RUNTIME_DIR`, else
//!   `/run/user/<uid>` when it exists, else `${TMPDIR:-/tmp}/runtime-<uid>` (macOS:
//!   `~/Library/Caches/TemporaryItems`);
//! - config: `$XDG_CONFIG_HOME/nxuskit/config.toml` (default `~/.config`; macOS:
//!   `~/Library/Application Support`);
//! - state (an autostarted daemon's log): `$XDG_STATE_HOME/nxuskit` (default
//!   `~/.local/state`; macOS: `~/Library/Logs`).

use std::env;
use std::path::{Component, Path, PathBuf};

use crate::sys;

const APP: &str = "nxuskit";

/// An environment variable's value, trimmed; `None` when unset, blank or not UTF-8.
fn variable(name: &str) -> Option<String> {
    let value = env::var(name).ok()?;
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// The home directory: `$HOME`, else this uid's entry in /etc/passwd, else `/`.
pub fn home() -> PathBuf {
    if let Some(home) = variable("HOME") {
        return PathBuf::from(home);
    }
    let uid = sys::real_uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.len() > 5 && fields[2] == uid)
        .map_or_else(|| PathBuf::from("/"), |fields| PathBuf::from(fields[5]))
}

fn xdg(name: &str, default: &str) -> PathBuf {
    variable(name).map_or_else(|| home().join(default), PathBuf::from)
}

/// The per-user runtime directory that holds nxuskit's socket directory.
pub fn runtime_dir() -> PathBuf {
    if cfg!(target_os = "macos") {
        return home().join("Library/Caches/TemporaryItems");
    }
    if let Some(dir) = variable("XDG_RUNTIME_DIR") {
        return PathBuf::from(dir);
    }
    let uid = sys::real_uid();
    let default = PathBuf::from(format!("/run/user/{uid}"));
    if default.is_dir() {
        return default;
    }
    let tmp = variable("TMPDIR").unwrap_or_else(|| "/tmp".to_owned());
    Path::new(&tmp).join(format!("runtime-{uid}"))
}

/// The daemon's socket: `$NXUSKIT_SOCKET`, or the default in the runtime directory.
pub fn socket_path() -> PathBuf {
    match variable("NXUSKIT_SOCKET") {
        Some(explicit) => absolute(Path::new(&explicit)),
        None => runtime_dir().join(APP).join("nxuskitd.sock"),
    }
}

/// `path` made absolute against the current directory, `.` and `..` resolved by name
/// (symlinks are not followed: the trust checks look at each one).
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path))
    };
    let mut clean = PathBuf::from("/");
    for component in joined.components() {
        match component {
            Component::Normal(name) => clean.push(name),
            Component::ParentDir => {
                clean.pop();
            }
            _ => {}
        }
    }
    clean
}

/// The path of config.toml (it need not exist).
pub fn config_path() -> PathBuf {
    let dir = if cfg!(target_os = "macos") {
        home().join("Library/Application Support")
    } else {
        xdg("XDG_CONFIG_HOME", ".config")
    };
    dir.join(APP).join("config.toml")
}

/// The log file of a daemon this client starts.
pub fn daemon_log_path() -> PathBuf {
    let dir = if cfg!(target_os = "macos") {
        home().join("Library/Logs")
    } else {
        xdg("XDG_STATE_HOME", ".local/state")
    };
    dir.join(APP).join("nxuskitd.log")
}

/// The lock clients take while one of them starts the daemon (beside the socket).
pub fn start_lock_path(socket: &Path) -> PathBuf {
    let mut name = socket.as_os_str().to_owned();
    name.push(".start.lock");
    PathBuf::from(name)
}

/// The daemon's generation file, beside its socket (docs/protocol.md section 13): clients
/// map it to know whether a resolve they kept still holds.
pub fn generation_path(socket: &Path) -> PathBuf {
    let mut name = socket.as_os_str().to_owned();
    name.push(".generation");
    PathBuf::from(name)
}

/// config.toml's identity: a change (or a chmod, which changes whether the daemon trusts
/// it) means the daemon's registry must be asked again.
pub type Stamp = (u64, u64, u64, i64, i64, i64, i64, u32, u32);

/// config.toml's [`Stamp`] now (one `stat`); `None` when there is none (the built-ins).
pub fn config_stamp() -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(config_path()).ok()?;
    Some((
        metadata.dev(),
        metadata.ino(),
        metadata.size(),
        metadata.mtime(),
        metadata.mtime_nsec(),
        metadata.ctime(),
        metadata.ctime_nsec(),
        metadata.mode(),
        metadata.uid(),
    ))
}
