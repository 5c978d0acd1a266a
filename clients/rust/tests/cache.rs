//! The client cache (docs/protocol.md section 13) against a real nxuskitd: repeated
//! resolves reach the daemon once; a change made through any client, `daemon lock`, or a
//! restart is seen by the very next resolve; the environment wins at once; an explicit key
//! is never kept; a generation file others could write is never trusted; config.toml is
//! looked at again; `NXUSKIT_CLIENT_CACHE=0` turns it off.
//!
//! The tests change this process's environment, so they take turns (`serial`).

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use common::{stderr, stdout, wait_until, Sandbox};
use nxuskit::json::{self, Value};
use nxuskit::{Client, ErrorKind, Source};

/// One test at a time, in an environment of its own sandbox: no provider variable,
/// its config directory, autostart off.
fn serial(sandbox: &Sandbox) -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    let turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    for variable in common::PROVIDER_VARIABLES.iter().chain(&["MY_OPENAI", "NXUSKIT_SOCKET"]) {
        std::env::remove_var(variable);
    }
    std::env::remove_var("NXUSKIT_CLIENT_CACHE");
    std::env::set_var("XDG_CONFIG_HOME", sandbox.root.join("config"));
    std::env::set_var("NXUSKIT_AUTOSTART", "0");
    turn
}

fn client(sandbox: &Sandbox) -> Client {
    Client::new().socket_path(sandbox.socket()).timeout(Duration::from_secs(20))
}

/// Resolve until one is answered from memory (the first answer after a write carries the
/// generation from before the daemon read the store, which the read moved); the secret.
fn warm(client: &Client, provider: &str) -> String {
    let mut secret = String::new();
    let kept = wait_until(Duration::from_secs(5), || {
        let asked = client.daemon_resolves();
        secret = client.auth_resolve(provider, None).unwrap().secret().to_owned();
        client.daemon_resolves() == asked
    });
    assert!(kept, "{provider}'s answer was never reused");
    secret
}

/// The nxuskit-cli beside the daemon program, run in `sandbox` with `input` on stdin.
fn cli(sandbox: &Sandbox, args: &[&str], input: &str) {
    let daemon = common::nxuskitd();
    let program = match daemon.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        Some(dir) => dir.join("nxuskit-cli"),
        None => PathBuf::from("nxuskit-cli"),
    };
    let mut child = Command::new(&program)
        .args(args)
        .env_clear()
        .envs(sandbox.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", program.display()));
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success(), "nxuskit-cli {args:?}: {}", stderr(&done));
}

/// How many `auth.resolve`s of `provider` by this process the daemon's audit trail records.
fn audited_resolves(client: &Client, provider: &str) -> usize {
    let params =
        Value::object([("provider", Value::from(provider)), ("limit", Value::from(10000u64))]);
    let result = client.call("audit.query", params).unwrap();
    let entries = result.get("entries").and_then(Value::as_array).unwrap();
    let pid = u64::from(std::process::id());
    let ours = |entry: &&Value| {
        entry.get("method").and_then(Value::as_str) == Some("auth.resolve")
            && entry.get("pid").and_then(Value::as_number).and_then(json::Number::as_u64)
                == Some(pid)
    };
    entries.iter().filter(ours).count()
}

#[test]
fn repeated_resolves_reach_the_daemon_once_and_any_change_is_seen_at_once() {
    let sandbox = Sandbox::new();
    let _turn = serial(&sandbox);
    let _daemon = sandbox.start_daemon(&[]);
    let client = client(&sandbox);
    client.auth_set_credential("openai", "sk-cached-one").unwrap();
    assert_eq!(warm(&client, "openai"), "sk-cached-one");
    let asked = client.daemon_resolves();
    for _ in 0..100 {
        assert_eq!(client.auth_resolve("openai", None).unwrap().secret(), "sk-cached-one");
    }
    assert_eq!(client.daemon_resolves(), asked); // none of the 100 asked
    assert_eq!(audited_resolves(&client, "openai") as u64, asked); // as the daemon saw it
    assert!(!format!("{client:?}").contains("sk-cached"));

    // Another client (the Python CLI) rotates it: the very next resolve sees it.
    cli(&sandbox, &["provider", "set", "openai"], "sk-cached-two\n");
    assert_eq!(client.auth_resolve("openai", None).unwrap().secret(), "sk-cached-two");
    // Another process (the Rust probe) rotates it and removes it.
    assert_eq!(warm(&client, "openai"), "sk-cached-two");
    let set = sandbox.probe(&["set", "openai", "sk-cached-three"], &[]);
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(client.auth_resolve("GPT", None).unwrap().secret(), "sk-cached-three");
    warm(&client, "openai");
    let removed = sandbox.probe(&["remove", "openai"], &[]);
    assert_eq!(stdout(&removed).trim(), r#"{"removed":true}"#);
    let error = client.auth_resolve("openai", None).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotAuthenticated);

    // `daemon lock` (the daemon forgets what it read): the next resolve asks again.
    client.auth_set_credential("openai", "sk-cached-four").unwrap();
    warm(&client, "openai");
    let asked = client.daemon_resolves();
    cli(&sandbox, &["daemon", "lock"], "");
    assert_eq!(client.auth_resolve("openai", None).unwrap().secret(), "sk-cached-four");
    assert_eq!(client.daemon_resolves(), asked + 1);
}

#[test]
fn a_stopped_or_restarted_daemon_is_never_answered_for_from_memory() {
    let sandbox = Sandbox::new();
    let _turn = serial(&sandbox);
    let mut daemon = sandbox.start_daemon(&[]);
    let client = client(&sandbox);
    client.auth_set_credential("mistral", "ms-before-stop").unwrap();
    warm(&client, "mistral");
    daemon.stop(); // its stop moves the generation
    let error = client.auth_resolve("mistral", None).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::DaemonUnavailable, "{error:?}");
    let _restarted = sandbox.start_daemon(&[]);
    assert_eq!(warm(&client, "mistral"), "ms-before-stop");
    let set = sandbox.probe(&["set", "mistral", "ms-after-restart"], &[]);
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(client.auth_resolve("mistral", None).unwrap().secret(), "ms-after-restart");
}

#[test]
fn the_environment_wins_at_once_and_an_explicit_key_is_never_kept() {
    let sandbox = Sandbox::new();
    let _turn = serial(&sandbox);
    let _daemon = sandbox.start_daemon(&[]);
    let client = client(&sandbox);
    client.auth_set_credential("groq", "gsk-stored").unwrap();
    warm(&client, "groq");
    let asked = client.daemon_resolves();
    std::env::set_var("GROQ_API_KEY", "gsk-env-one");
    let env = client.auth_resolve("groq", None).unwrap();
    assert_eq!((env.secret(), env.source()), ("gsk-env-one", &Source::Env));
    std::env::set_var("GROQ_API_KEY", "gsk-env-two");
    assert_eq!(client.auth_resolve("groq", None).unwrap().secret(), "gsk-env-two");
    std::env::set_var("GROQ_API_KEY", "");
    assert_eq!(client.auth_resolve("groq", None).unwrap().secret(), "gsk-stored");
    std::env::remove_var("GROQ_API_KEY");
    let explicit = client.auth_resolve("groq", Some("gsk-explicit")).unwrap();
    assert_eq!((explicit.secret(), explicit.source()), ("gsk-explicit", &Source::Explicit));
    let after = client.auth_resolve("groq", None).unwrap();
    assert_eq!((after.secret(), after.source()), ("gsk-stored", &Source::Store));
    assert_eq!(client.daemon_resolves(), asked); // the stored answer still held throughout
}

#[test]
fn a_generation_file_others_could_write_is_never_trusted() {
    for spoil in ["mode", "owner", "symlink"] {
        let sandbox = Sandbox::new();
        let _turn = serial(&sandbox);
        let _daemon = sandbox.start_daemon(&[]);
        let mut name = sandbox.socket().into_os_string();
        name.push(".generation");
        let generation = PathBuf::from(name);
        let trusted = client(&sandbox);
        trusted.auth_set_credential("openai", "sk-spoiled").unwrap();
        warm(&trusted, "openai"); // as it is: trusted
        match spoil {
            "mode" => std::fs::set_permissions(&generation, std::fs::Permissions::from_mode(0o666))
                .unwrap(),
            "owner" => common::chown(&generation, common::NOBODY),
            _ => {
                // A link to a file of the same content, ours and 0600: still refused.
                let copy = sandbox.root.join("copy");
                std::fs::copy(&generation, &copy).unwrap();
                std::fs::rename(&generation, sandbox.root.join("moved")).unwrap();
                std::os::unix::fs::symlink(&copy, &generation).unwrap();
            }
        }
        let client = client(&sandbox);
        for _ in 0..5 {
            assert_eq!(client.auth_resolve("openai", None).unwrap().secret(), "sk-spoiled");
        }
        assert_eq!(client.daemon_resolves(), 5, "{spoil}: every resolve must ask");
    }
}

#[test]
fn a_changed_config_toml_empties_the_cache() {
    let sandbox = Sandbox::new();
    let _turn = serial(&sandbox);
    let _daemon = sandbox.start_daemon(&[]);
    let client = client(&sandbox);
    client.auth_set_credential("openai", "sk-stored-config").unwrap();
    std::env::set_var("OPENAI_API_KEY", "sk-default-variable");
    assert_eq!(client.auth_resolve("openai", None).unwrap().source(), &Source::Env); // kept
    std::fs::create_dir_all(sandbox.root.join("config/nxuskit")).unwrap();
    let config = sandbox.root.join("config/nxuskit/config.toml");
    std::fs::write(config, "[providers.openai]\nenv = \"MY_OPENAI\"\n").unwrap();
    // OPENAI_API_KEY is no longer openai's variable (no generation says so: the client
    // looks at config.toml every 0.1 s).
    let moved = wait_until(Duration::from_secs(5), || {
        client.auth_resolve("openai", None).unwrap().source() == &Source::Store
    });
    assert!(moved, "config.toml's change was never seen");
    std::env::remove_var("OPENAI_API_KEY");
}

#[test]
fn the_probe_measures_reuse_and_the_switch_turns_it_off() {
    let sandbox = Sandbox::new();
    let _turn = serial(&sandbox);
    let _daemon = sandbox.start_daemon(&[]);
    let set = sandbox.probe(&["set", "openai", "sk-probe-hot"], &[]);
    assert!(set.status.success(), "{}", stderr(&set));
    for (switch, asked) in [("1", 0), (" Off ", 30), ("no", 30), ("FALSE", 30), ("0", 30)] {
        let hot = sandbox.probe(&["hot", "openai", "30"], &[("NXUSKIT_CLIENT_CACHE", switch)]);
        let figures = json::parse(stdout(&hot).trim())
            .unwrap_or_else(|_| panic!("probe hot: {}", stderr(&hot)));
        let count = figures.get("asked").and_then(Value::as_number).and_then(|n| n.as_u64());
        assert_eq!(count, Some(asked), "NXUSKIT_CLIENT_CACHE={switch:?}");
        assert!(figures.get("p50_us").is_some());
    }
}
