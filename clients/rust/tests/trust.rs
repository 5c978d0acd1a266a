//! Trust and starting: a socket another uid serves gets nothing (run as that uid with
//! setpriv when this runs as root); unsafe directories are refused; autostart starts
//! exactly one daemon, with a clean environment; a hung daemon times out; a daemon too old,
//! or an error kind this client does not know, is reported, never a panic.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{stderr, stdout, Sandbox, NOBODY};
use nxuskit::{Client, ErrorKind};

/// A fake daemon as another user: records every byte, answers everything with a forged key.
const FAKE_DAEMON: &str = r#"
import json, os, socket, sys
path, record = sys.argv[1], sys.argv[2]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
os.chmod(path, 0o777)
server.listen(8)
print("listening", flush=True)
while True:
    conn, _ = server.accept()
    buffer = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        with open(record, "ab") as out:
            out.write(chunk)
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            request = json.loads(line)
            result = {"protocol": 1, "provider": "openai", "secret": "sk-forged", "source": "store",
                      "auth_method": "api_key", "expires_at": None, "stored": True}
            conn.sendall(json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "result": result}).encode() + b"\n")
    conn.close()
"#;

fn cannot_switch_user() -> Option<&'static str> {
    if !common::is_root() {
        return Some("needs root to act as uid 65534 (setpriv)");
    }
    let found = Command::new("setpriv").arg("--version").output();
    if found.is_err() {
        return Some("setpriv is not installed (apt-get install util-linux)");
    }
    None
}

/// A Python that uid 65534 can run (not one under root's home, like pyenv's shims).
fn system_python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

struct Fake(Child);

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start the fake daemon as uid 65534 in a directory of theirs; its socket and record.
fn fake_daemon_of_nobody(sandbox: &Sandbox) -> (Fake, PathBuf, PathBuf) {
    let theirs = sandbox.root.join("attacker");
    fs::DirBuilder::new().mode(0o700).create(&theirs).unwrap();
    common::chown(&theirs, NOBODY);
    let (socket, record) = (theirs.join("s.sock"), theirs.join("received"));
    let mut child = Command::new("setpriv")
        .args([format!("--reuid={NOBODY}"), format!("--regid={NOBODY}"), "--clear-groups".into()])
        .args([system_python(), "-c", FAKE_DAEMON])
        .args([&socket, &record])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "listening");
    (Fake(child), socket, record)
}

#[test]
fn a_daemon_of_another_user_behind_our_own_directory_gets_nothing() {
    if let Some(reason) = cannot_switch_user() {
        eprintln!("skipped: {reason}");
        return;
    }
    let sandbox = Sandbox::new();
    let (_fake, their_socket, record) = fake_daemon_of_nobody(&sandbox);
    // A socket file moved into our private directory still leads to their listener: the
    // directory checks pass, and only the peer check stands between us and them.
    fs::DirBuilder::new().mode(0o700).create(sandbox.root.join("run/nxuskit")).unwrap();
    fs::rename(&their_socket, sandbox.socket()).unwrap();
    assert!(UnixStream::connect(sandbox.socket()).is_ok());
    let client = Client::new().socket_path(sandbox.socket()).autostart(false);
    let secret = "sk-victim-key-must-stay-home-5678";
    let errors = [
        client.auth_set_credential("openai", secret).unwrap_err(),
        client.auth_resolve("openai", None).unwrap_err(),
    ];
    for error in errors {
        assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error:?}");
        assert!(error.message().contains(&format!("served by uid {NOBODY}")), "{error}");
        assert!(error.message().contains("nothing was sent"), "{error}");
        assert!(error.message().contains(&*sandbox.socket().to_string_lossy()), "{error}");
    }
    assert!(fs::read(&record).unwrap_or_default().is_empty(), "the fake daemon received bytes");
}

#[test]
fn a_socket_directory_of_another_user_or_open_to_others_is_refused() {
    let sandbox = Sandbox::new();
    let directory = sandbox.root.join("run/nxuskit");
    fs::DirBuilder::new().mode(0o755).create(&directory).unwrap();
    fs::set_permissions(&directory, fs::Permissions::from_mode(0o755)).unwrap();
    let client = Client::new().socket_path(sandbox.socket()).autostart(false);
    let open = client.auth_resolve("openai", None).unwrap_err();
    assert_eq!(open.kind(), ErrorKind::PermissionDenied);
    assert!(open.message().contains("open to other users (mode 0755): run chmod 700"), "{open}");
    if common::is_root() {
        fs::set_permissions(&directory, fs::Permissions::from_mode(0o700)).unwrap();
        common::chown(&directory, NOBODY);
        let theirs = client.auth_resolve("openai", None).unwrap_err();
        assert_eq!(theirs.kind(), ErrorKind::PermissionDenied);
        assert!(theirs.message().contains(&format!("belongs to uid {NOBODY}")), "{theirs}");
    }
}

#[test]
fn autostart_starts_exactly_one_daemon_with_a_clean_environment() {
    let sandbox = Sandbox::new();
    let daemon = fs::canonicalize(common::nxuskitd())
        .or_else(|_| {
            Command::new("sh")
                .args(["-c", "command -v nxuskitd"])
                .output()
                .map(|o| PathBuf::from(stdout(&o).trim()))
        })
        .unwrap();
    let path = format!(
        "{}:{}",
        daemon.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = [
        ("NXUSKIT_AUTOSTART", "1"),
        ("NXUSKIT_STORE", "file"),
        ("PATH", path.as_str()),
        ("GROQ_API_KEY", "gsk-app-only"),
    ];
    // Half the starters are Python clients when the daemon's own Python is beside it: both
    // languages take the same start lock.
    let python = daemon.parent().unwrap().join("python");
    let python = python.exists().then_some(python);
    let probes: Vec<_> = (0..6)
        .map(|index| {
            let mut command = match (&python, index % 2) {
                (Some(python), 1) => {
                    let mut command = Command::new(python);
                    let script = "import json, nxuskit; print(json.dumps({'removed': nxuskit.auth_remove_credential('openai')}, separators=(',', ':')))";
                    command.args(["-c", script]);
                    command
                }
                _ => {
                    let mut command = Command::new(env!("CARGO_BIN_EXE_probe"));
                    command.args(["remove", "openai"]);
                    command
                }
            };
            command.env_clear().envs(sandbox.env()).envs(env);
            command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for probe in probes {
        let output = probe.wait_with_output().unwrap();
        assert_eq!(stdout(&output).trim(), r#"{"removed":false}"#, "{}", stderr(&output));
    }
    // Every daemon a client started logs its start: one served, none found another there.
    let log = fs::read_to_string(sandbox.root.join("state/nxuskit/nxuskitd.log")).unwrap();
    assert_eq!(log.matches("serving unix:").count(), 1, "{log}");
    assert!(!log.contains("cannot start"), "{log}");
    let pids = sandbox.daemon_pids();
    assert_eq!(pids.len(), 1, "{pids:?}");
    let environ = fs::read(format!("/proc/{}/environ", pids[0])).unwrap();
    assert!(!String::from_utf8_lossy(&environ).contains("GROQ_API_KEY"));
    let status = Client::new().socket_path(sandbox.socket()).daemon_status().unwrap();
    assert_eq!(status.get("started_by").and_then(|s| s.as_str()), Some("autostart"));
    let lock = fs::metadata(sandbox.root.join("run/nxuskit/nxuskitd.sock.start.lock")).unwrap();
    assert_eq!(lock.permissions().mode() & 0o777, 0o600);
}

/// A same-uid fake daemon in the sandbox's socket directory: `answer` writes the reply
/// to each request line (or nothing).
fn fake_daemon(sandbox: &Sandbox, answer: fn(&str) -> Option<String>) -> PathBuf {
    fs::DirBuilder::new().mode(0o700).create(sandbox.root.join("run/nxuskit")).unwrap();
    let listener = UnixListener::bind(sandbox.socket()).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(reply) = answer(&line) {
                        writer.write_all(format!("{reply}\n").as_bytes()).unwrap();
                    }
                }
            });
        }
    });
    sandbox.socket()
}

fn id_of(line: &str) -> String {
    let request = nxuskit::json::parse(line).unwrap();
    request.get("id").unwrap().to_json()
}

#[test]
fn a_daemon_that_never_answers_times_out() {
    let sandbox = Sandbox::new();
    let socket = fake_daemon(&sandbox, |_| None);
    let client =
        Client::new().socket_path(&socket).autostart(false).timeout(Duration::from_millis(300));
    let error = client.daemon_status().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::DaemonUnavailable);
    assert!(error.message().contains("did not answer daemon.hello in time"), "{error}");
}

#[test]
fn an_older_daemon_is_a_version_mismatch() {
    for answer in [
        (|line: &str| {
            Some(format!(r#"{{"jsonrpc":"2.0","id":{},"result":{{"protocol":0}}}}"#, id_of(line)))
        }) as fn(&str) -> Option<String>,
        |line| {
            let error = r#"{"code":-32601,"message":"Method not found","data":{"kind":"method_not_found"}}"#;
            Some(format!(r#"{{"jsonrpc":"2.0","id":{},"error":{error}}}"#, id_of(line)))
        },
    ] {
        let sandbox = Sandbox::new();
        let socket = fake_daemon(&sandbox, answer);
        let error =
            Client::new().socket_path(&socket).autostart(false).daemon_status().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::VersionMismatch, "{error:?}");
        assert!(error.message().contains("restart"), "{error}");
    }
}

#[test]
fn an_error_kind_this_client_does_not_know_is_other() {
    let sandbox = Sandbox::new();
    let socket = fake_daemon(&sandbox, |line| {
        let id = id_of(line);
        Some(if line.contains("daemon.hello") {
            format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"protocol":2}}}}"#)
        } else {
            let error = r#"{"code":1099,"message":"something new","data":{"kind":"brand_new"}}"#;
            format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{error}}}"#)
        })
    });
    let error =
        Client::new().socket_path(Path::new(&socket)).autostart(false).daemon_status().unwrap_err();
    assert_eq!(
        (error.kind(), error.wire_kind(), error.code()),
        (ErrorKind::Other, "brand_new", 1099)
    );
    assert_eq!(error.message(), "something new");
}
