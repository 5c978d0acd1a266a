//! Starting the daemon on demand (docs/protocol.md section 1), the way gpg's tools start
//! gpg-agent, under the same lock file as the Python client so that clients in any
//! language together start exactly one daemon:
//!
//! 1. create the socket's directory 0700, checking the whole chain ([`crate::trust`]);
//! 2. open `<socket>.start.lock` with `O_NOFOLLOW` (0600), check it is a regular file of
//!    ours, and wait for an exclusive `flock` on it;
//! 3. if a daemon answers now (another client started one meanwhile), stop there;
//! 4. else run `nxuskitd --socket <socket> --started-by autostart` (the first on `PATH`)
//!    in a new session, stdin from /dev/null, output to the state directory's log, with an
//!    environment that holds only what the daemon needs: never the caller's provider keys;
//! 5. poll `connect()` for up to 10 s, then release the lock.
//!
//! `NXUSKIT_AUTOSTART=0` (or `false`, `no`) turns this off.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::{paths, sys, trust};

/// How long to wait for a started daemon to answer.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Variables the started daemon inherits, besides every `XDG_*`, `LC_*` and `NXUSKIT_*`.
pub const DAEMON_ENVIRONMENT: [&str; 24] = [
    "HOME",
    "USER",
    "LOGNAME",
    "PATH",
    "SHELL",
    "TMPDIR",
    "TZ",
    "LANG",
    "LANGUAGE",
    // the session bus and a display: the OS keyring and its unlock prompt need them
    "DBUS_SESSION_BUS_ADDRESS",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XAUTHORITY",
    // OAuth refreshes go out over HTTPS: proxies and CA bundles must still apply
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    // which keyring backend the daemon uses, when the user chose one
    "PYTHON_KEYRING_BACKEND",
];
const PREFIXES: [&str; 3] = ["XDG_", "LC_", "NXUSKIT_"];

fn unavailable(message: String) -> Error {
    Error::new(ErrorKind::DaemonUnavailable, message)
}

/// Whether a client may start the daemon (`NXUSKIT_AUTOSTART` is not 0, false or no).
pub fn enabled() -> bool {
    let value = std::env::var("NXUSKIT_AUTOSTART").unwrap_or_default();
    !matches!(value.trim().to_ascii_lowercase().as_str(), "0" | "false" | "no")
}

/// The environment a started daemon gets: what it needs, no provider secrets.
pub fn daemon_environment() -> Vec<(OsString, OsString)> {
    std::env::vars_os()
        .filter(|(name, _)| {
            name.to_str().map_or(false, |name| {
                DAEMON_ENVIRONMENT.contains(&name)
                    || PREFIXES.iter().any(|prefix| name.starts_with(prefix))
            })
        })
        .collect()
}

/// The `nxuskitd` program: the first executable of that name on `PATH`.
pub fn daemon_program() -> Result<PathBuf> {
    let search = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&search)
        .map(|dir| dir.join("nxuskitd"))
        .find(|candidate| {
            candidate.metadata().map_or(false, |m| m.is_file() && m.mode() & 0o111 != 0)
        })
        .ok_or_else(|| {
            unavailable(
                "nxuskitd is not on PATH, so it cannot be started: install it with pip install \
                 'nxuskit[daemon]' (or run it as a service: nxuskit-cli daemon install)"
                    .to_owned(),
            )
        })
}

/// Whether something accepts connections at `path` (nothing is sent to it).
pub fn answers(path: &Path) -> bool {
    UnixStream::connect(path).is_ok()
}

fn open_lock(socket: &Path) -> Result<File> {
    let lock = paths::start_lock_path(socket);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(sys::O_NOFOLLOW)
        .open(&lock)
        .map_err(|error| {
            Error::new(
                ErrorKind::PermissionDenied,
                format!("cannot open {}: {error}", lock.display()),
            )
        })?;
    let metadata = file
        .metadata()
        .map_err(|error| unavailable(format!("cannot check {}: {error}", lock.display())))?;
    if !metadata.is_file() || metadata.uid() != sys::effective_uid() {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!("{} is not a file of yours", lock.display()),
        ));
    }
    Ok(file)
}

fn spawn(program: &Path, socket: &Path, log: &Path) -> Result<Child> {
    let failed =
        |error: std::io::Error| unavailable(format!("cannot start {}: {error}", program.display()));
    if let Some(dir) = log.parent() {
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(failed)?;
    }
    let output =
        OpenOptions::new().append(true).create(true).mode(0o600).open(log).map_err(failed)?;
    let errors = output.try_clone().map_err(failed)?;
    let mut command = Command::new(program);
    command
        .arg("--socket")
        .arg(socket)
        .args(["--started-by", "autostart"])
        .env_clear()
        .envs(daemon_environment())
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(errors);
    // SAFETY: setsid is async-signal-safe, as a pre_exec hook must be.
    unsafe { command.pre_exec(sys::new_session) };
    command.spawn().map_err(failed)
}

fn last_line(log: &Path) -> String {
    let text = fs::read(log).unwrap_or_default();
    let tail = &text[text.len().saturating_sub(2048)..];
    String::from_utf8_lossy(tail).trim().lines().last().unwrap_or("").to_owned()
}

/// Start nxuskitd for `socket` unless one answers there; return once it answers.
/// `program` overrides the `PATH` lookup.
pub fn start_daemon(socket: &Path, program: Option<&Path>) -> Result<()> {
    let directory = socket.parent().unwrap_or(Path::new("/"));
    trust::make_private_directory(directory)?;
    let lock = open_lock(socket)?;
    sys::lock_exclusive(&lock)
        .map_err(|error| unavailable(format!("cannot lock the start lock: {error}")))?;
    if answers(socket) {
        return Ok(());
    }
    let program = match program {
        Some(program) => program.to_path_buf(),
        None => daemon_program()?,
    };
    let log = paths::daemon_log_path();
    let mut child = spawn(&program, socket, &log)?;
    let deadline = Instant::now() + START_TIMEOUT;
    let mut delay = Duration::from_millis(5);
    let outcome = loop {
        if answers(socket) {
            break Ok(());
        }
        if let Ok(Some(code)) = child.try_wait() {
            // nxuskitd leaves the process we started once it serves, and that process
            // then exits 0: the daemon goes on in a process of its own.
            if code.success() && answers(socket) {
                break Ok(());
            }
            let detail = last_line(&log);
            let detail = if detail.is_empty() { String::new() } else { format!(": {detail}") };
            return Err(unavailable(format!(
                "nxuskitd exited at start ({code}){detail}; its log is {}",
                log.display()
            )));
        }
        if Instant::now() > deadline {
            break Err(unavailable(format!(
                "nxuskitd did not answer at {} within {}s; its log is {}",
                socket.display(),
                START_TIMEOUT.as_secs(),
                log.display()
            )));
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(100));
    };
    // The daemon outlives this call: a thread waits for it so it never lingers as a zombie.
    std::thread::spawn(move || child.wait());
    drop(lock);
    outcome
}
