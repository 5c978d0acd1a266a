//! Against a real nxuskitd in a private sandbox: set, resolve, status, remove; precedence
//! with the environment; errors; a daemon restart between calls; one reused connection;
//! config.toml's providers through provider.list. (Trust and autostart: tests/trust.rs.)

mod common;

use std::sync::Once;
use std::time::Duration;

use common::{stderr, stdout, Sandbox};
use nxuskit::json::Value;
use nxuskit::{Client, ErrorKind, Source, Status};

/// This process asks no config.toml and sees no provider variable; autostart is off.
fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for variable in common::PROVIDER_VARIABLES {
            std::env::remove_var(variable);
        }
        let empty = std::env::temp_dir().join(format!("nxk-rs-daemon-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        std::env::set_var("XDG_CONFIG_HOME", &empty);
        std::env::set_var("NXUSKIT_AUTOSTART", "0");
        std::env::remove_var("NXUSKIT_SOCKET");
    });
}

fn client(sandbox: &Sandbox) -> Client {
    setup();
    Client::new().socket_path(sandbox.socket()).timeout(Duration::from_secs(20))
}

#[test]
fn set_resolve_status_and_remove() {
    let sandbox = Sandbox::new();
    let _daemon = sandbox.start_daemon(&[]);
    let client = client(&sandbox);
    client.auth_set_credential("openai", "  sk-rust-one \n").unwrap();
    let resolution = client.auth_resolve("GPT", None).unwrap();
    assert_eq!(resolution.secret(), "sk-rust-one"); // trimmed, by the client and the daemon
    assert_eq!(*resolution.source(), Source::Store);
    assert_eq!(resolution.source().to_string(), "store");
    assert_eq!(resolution.provider(), "openai");
    assert_eq!(resolution.auth_method(), "api_key");
    let status = client.auth_status("openai").unwrap();
    assert_eq!((status.status, status.source), (Status::Authenticated, Some(Source::Store)));
    assert_eq!(status.auth_methods, ["api_key"]);
    let all = client.auth_status_all().unwrap();
    assert_eq!(all.len(), 15);
    assert_eq!(all.iter().find(|s| s.provider == "lm-studio").unwrap().status, Status::NotRequired);
    assert_eq!(
        all.iter().find(|s| s.provider == "claude").unwrap().status,
        Status::NotAuthenticated
    );
    assert!(client.auth_remove_credential("openai").unwrap());
    assert!(!client.auth_remove_credential("openai").unwrap());
    let error = client.auth_resolve("openai", None).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotAuthenticated);
    assert!(error.message().contains("OPENAI_API_KEY"), "{error}");
    assert_eq!(client.auth_status("openai").unwrap().status, Status::NotAuthenticated);
    let local = client.auth_resolve("ollama", Some("ignored")).unwrap();
    assert_eq!((local.secret_if_any(), local.source()), (None, &Source::NotRequired));
}

#[test]
fn the_environment_wins_over_the_store_and_an_explicit_key_over_both() {
    let sandbox = Sandbox::new();
    let _daemon = sandbox.start_daemon(&[]);
    let stored = sandbox.probe(&["set", "groq", "gsk-stored"], &[]);
    assert!(stored.status.success() && stdout(&stored).is_empty(), "{}", stderr(&stored));
    let env = sandbox.probe(&["resolve", "groq"], &[("GROQ_API_KEY", "gsk-from-env")]);
    assert_eq!(stdout(&env).trim(), r#"{"secret":"gsk-from-env","source":"env"}"#);
    let empty = sandbox.probe(&["resolve", "groq"], &[("GROQ_API_KEY", "")]);
    assert_eq!(stdout(&empty).trim(), r#"{"secret":"gsk-stored","source":"store"}"#);
    let explicit = client(&sandbox).auth_resolve("groq", Some("gsk-explicit")).unwrap();
    assert_eq!((explicit.secret(), explicit.source()), ("gsk-explicit", &Source::Explicit));
    let removed = sandbox.probe(&["remove", "groq"], &[]);
    assert_eq!(stdout(&removed).trim(), r#"{"removed":true}"#);
}

#[test]
fn errors_are_typed_and_never_show_a_secret() {
    let sandbox = Sandbox::new();
    let _daemon = sandbox.start_daemon(&[]);
    let client = client(&sandbox);
    let key = "sk-proj-Xy7QpZrT4mW9vB2nL6kJ8hF3dS1aG5cV0eR";
    let unknown = client.auth_resolve(key, None).unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::UnknownProvider);
    assert!(unknown.message().contains("openai, claude"), "{unknown}");
    let refused = client.auth_set_credential("openai", &format!("{key}\u{1f}x")).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidArgument);
    assert!(refused.message().contains("U+001F"), "{refused}");
    let no_key = client.auth_set_credential("ollama", key).unwrap_err(); // the daemon's refusal
    assert_eq!(
        (no_key.kind(), no_key.wire_kind(), no_key.code()),
        (ErrorKind::InvalidArgument, "invalid_params", -32602)
    );
    client.auth_set_credential("openai", key).unwrap();
    let resolution = client.auth_resolve("openai", None).unwrap();
    for shown in [
        format!("{resolution:?}"),
        resolution.to_string(),
        format!("{unknown:?} {unknown}"),
        format!("{refused:?} {refused}"),
        format!("{no_key:?} {no_key}"),
    ] {
        assert!(!shown.contains(key) && !shown.contains("Xy7Q"), "{shown}");
    }
    assert!(format!("{resolution:?}").contains("***"));
    let timeout = sandbox.probe(&["resolve", "openai"], &[("NXUSKIT_TIMEOUT", "soon")]);
    assert!(
        stderr(&timeout).starts_with("probe: invalid_params: NXUSKIT_TIMEOUT=\"soon\""),
        "{}",
        stderr(&timeout)
    );
    let probe = sandbox.probe(&["resolve", "nope"], &[]);
    assert_eq!(probe.status.code(), Some(1));
    assert!(
        stderr(&probe).starts_with("probe: unknown_provider: unknown provider 'nope'"),
        "{}",
        stderr(&probe)
    );
}

#[test]
fn one_connection_is_reused_and_a_restarted_daemon_is_reached_again() {
    let sandbox = Sandbox::new();
    let mut daemon = sandbox.start_daemon(&[]);
    let client = client(&sandbox);
    client.auth_set_credential("mistral", "ms-before-restart").unwrap();
    for _ in 0..3 {
        client.auth_resolve("mistral", None).unwrap();
    }
    let status = client.daemon_status().unwrap();
    assert_eq!(
        status.get("connections").and_then(Value::as_number).and_then(|n| n.as_i64()),
        Some(1)
    );
    daemon.stop();
    let _restarted = sandbox.start_daemon(&[]);
    let resolution = client.auth_resolve("mistral", None).unwrap(); // reconnects and resends
    assert_eq!(resolution.secret(), "ms-before-restart");
    let pid = client
        .daemon_status()
        .unwrap()
        .get("pid")
        .and_then(Value::as_number)
        .and_then(|n| n.as_u64());
    assert_ne!(pid, Some(u64::from(daemon.child.id())));
}

#[test]
fn no_daemon_and_no_autostart_is_daemon_unavailable() {
    let sandbox = Sandbox::new();
    let error = client(&sandbox).autostart(false).auth_resolve("openai", None).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::DaemonUnavailable);
    assert!(error.message().contains("nxuskitd is not running at"), "{error}");
    let probe = sandbox.probe(&["resolve", "openai"], &[]);
    assert!(stderr(&probe).starts_with("probe: daemon_unavailable: "), "{}", stderr(&probe));
    let env_only = sandbox.probe(&["resolve", "openai"], &[("OPENAI_API_KEY", "sk-no-daemon")]);
    assert_eq!(stdout(&env_only).trim(), r#"{"secret":"sk-no-daemon","source":"env"}"#);
}

#[test]
fn a_daemon_at_its_connection_limit_is_daemon_busy() {
    let sandbox = Sandbox::new();
    let _daemon = sandbox.start_daemon(&["--max-connections", "1"]);
    let first = client(&sandbox);
    first.daemon_status().unwrap(); // holds the one connection
    let error = client(&sandbox).daemon_status().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::DaemonBusy, "{error:?}");
    assert!(error.is_unavailable());
}

#[test]
fn config_toml_providers_come_from_the_daemon() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.root.join("config/nxuskit")).unwrap();
    std::fs::write(
        sandbox.root.join("config/nxuskit/config.toml"),
        "[providers.acme]\ndisplay_name = \"Acme AI\"\nenv = \"ACME_API_KEY\"\nauth_methods = [\"api_key\"]\n\
         [providers.openai]\nenv = \"MY_OPENAI_KEY\"\n",
    )
    .unwrap();
    let _daemon = sandbox.start_daemon(&[]);
    let env = sandbox.probe(&["resolve", "ACME"], &[("ACME_API_KEY", "sk-acme-env")]);
    assert_eq!(
        stdout(&env).trim(),
        r#"{"secret":"sk-acme-env","source":"env"}"#,
        "{}",
        stderr(&env)
    );
    let renamed = sandbox.probe(
        &["resolve", "openai"],
        &[("MY_OPENAI_KEY", "sk-mine"), ("OPENAI_API_KEY", "sk-not-this")],
    );
    assert_eq!(
        stdout(&renamed).trim(),
        r#"{"secret":"sk-mine","source":"env"}"#,
        "{}",
        stderr(&renamed)
    );
    std::fs::remove_file(sandbox.root.join("config/nxuskit/config.toml")).unwrap();
    let gone = sandbox.probe(&["resolve", "acme"], &[("ACME_API_KEY", "sk-acme-env")]);
    assert!(stderr(&gone).starts_with("probe: unknown_provider:"), "{}", stderr(&gone));
}
