//! Shared by the integration tests: a private XDG sandbox under /tmp, a real nxuskitd in
//! it (the program in `$NXUSKITD`, else `nxuskitd` on PATH), the probe binary, waits.
#![allow(dead_code)] // each test file uses its own part of this

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
    fn geteuid() -> u32;
}

pub const SIGTERM: i32 = 15;
pub const NOBODY: u32 = 65534;

/// Every provider variable of the built-in registry: none may leak into a test.
pub const PROVIDER_VARIABLES: [&str; 14] = [
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GROQ_API_KEY",
    "MISTRAL_API_KEY",
    "FIREWORKS_API_KEY",
    "TOGETHER_API_KEY",
    "OPENROUTER_API_KEY",
    "PERPLEXITY_API_KEY",
    "GEMINI_API_KEY",
    "XAI_API_KEY",
    "DEEPSEEK_API_KEY",
    "CO_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "ACME_API_KEY",
];

pub fn send_signal(pid: u32, signal: i32) {
    // SAFETY: kill takes plain integers.
    unsafe { kill(pid as i32, signal) };
}

/// Give `path` to uid and gid `owner` (std's chown is newer than Debian 12's Rust).
pub fn chown(path: &Path, owner: u32) {
    let done = Command::new("chown").arg(format!("{owner}:{owner}")).arg(path).status().unwrap();
    assert!(done.success(), "chown {owner} {}", path.display());
}

pub fn is_root() -> bool {
    // SAFETY: geteuid takes nothing.
    unsafe { geteuid() == 0 }
}

/// Poll `condition` every 20 ms until it holds or `timeout` passes; its last value.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The daemon program: `$NXUSKITD`, else `nxuskitd` on PATH.
pub fn nxuskitd() -> PathBuf {
    std::env::var_os("NXUSKITD").map_or_else(|| PathBuf::from("nxuskitd"), PathBuf::from)
}

/// A fresh sandbox: `/tmp/nxk-rs-*` with run/ (0700), data/, config/, state/.
pub struct Sandbox {
    pub root: PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!(
            "nxk-rs-{}-{}-{nanos}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        );
        let root = Path::new("/tmp").join(name);
        fs::DirBuilder::new().mode(0o711).create(&root).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o711)).unwrap(); // past the umask
        fs::DirBuilder::new().mode(0o700).create(root.join("run")).unwrap();
        for dir in ["data", "config", "state"] {
            fs::create_dir(root.join(dir)).unwrap();
        }
        Sandbox { root }
    }

    pub fn socket(&self) -> PathBuf {
        self.root.join("run/nxuskit/nxuskitd.sock")
    }

    /// The environment of a process in this sandbox: only PATH, HOME and the sandbox's
    /// XDG directories, autostart off.
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        let mut env: Vec<(OsString, OsString)> = ["PATH", "HOME", "LANG"]
            .iter()
            .filter_map(|name| Some((OsString::from(name), std::env::var_os(name)?)))
            .collect();
        for (name, dir) in [
            ("XDG_RUNTIME_DIR", "run"),
            ("XDG_DATA_HOME", "data"),
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_STATE_HOME", "state"),
        ] {
            env.push((name.into(), self.root.join(dir).into()));
        }
        env.push(("NXUSKIT_AUTOSTART".into(), "0".into()));
        env
    }

    /// Start a real nxuskitd (file store) on this sandbox's socket; wait until it answers.
    pub fn start_daemon(&self, extra: &[&str]) -> Daemon {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.join("nxuskitd.log"))
            .unwrap();
        let child = Command::new(nxuskitd())
            .args(["--store", "file", "--log-level", "debug"])
            .args(extra)
            .env_clear()
            .envs(self.env())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", nxuskitd().display()));
        let mut daemon = Daemon { child };
        let socket = self.socket();
        let up = wait_until(Duration::from_secs(15), || {
            UnixStream::connect(&socket).is_ok() || daemon.child.try_wait().unwrap().is_some()
        });
        assert!(
            up && daemon.child.try_wait().unwrap().is_none(),
            "nxuskitd did not start: {}",
            self.log()
        );
        daemon
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.root.join("nxuskitd.log")).unwrap_or_default()
    }

    /// Run the probe binary in this sandbox with `extra` variables.
    pub fn probe(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_probe"))
            .args(args)
            .env_clear()
            .envs(self.env())
            .envs(extra.iter().map(|&(name, value)| (name, value)))
            .output()
            .unwrap()
    }

    /// Live nxuskitd processes started for this sandbox (found by their argv or environment).
    pub fn daemon_pids(&self) -> Vec<u32> {
        let marker = self.root.to_string_lossy().into_owned();
        let mut pids = Vec::new();
        for entry in fs::read_dir("/proc").unwrap().flatten() {
            let pid = match entry.file_name().to_string_lossy().parse::<u32>() {
                Ok(pid) => pid,
                Err(_) => continue,
            };
            let read = |name: &str| fs::read(entry.path().join(name)).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&read("cmdline")).into_owned();
            let zombie = String::from_utf8_lossy(&read("status")).contains("State:\tZ");
            let environ = String::from_utf8_lossy(&read("environ")).into_owned();
            if cmdline.contains("nxuskitd")
                && !zombie
                && (cmdline.contains(&marker) || environ.contains(&marker))
            {
                pids.push(pid);
            }
        }
        pids
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for pid in self.daemon_pids() {
            send_signal(pid, SIGTERM);
        }
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// A running nxuskitd, stopped (SIGTERM, then waited for) when dropped.
pub struct Daemon {
    pub child: Child,
}

impl Daemon {
    pub fn stop(&mut self) {
        if self.child.try_wait().unwrap().is_none() {
            send_signal(self.child.id(), SIGTERM);
            if !wait_until(Duration::from_secs(10), || self.child.try_wait().unwrap().is_some()) {
                let _ = self.child.kill();
            }
        }
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
