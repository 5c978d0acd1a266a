//! The shared conformance vectors (clients/conformance/vectors.json) hold for this
//! client: every case of "names", "resolve" and "status", against an in-memory daemon
//! that answers auth.resolve and auth.status from each case's "store". The embedded
//! providers.json is the shared one.
//!
//! The cases set this process's environment, so they run one at a time (one lock).

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use nxuskit::json::{self, Value};
use nxuskit::{Client, Error, ErrorKind, Failure, Registry, Transport};

const CONFORMANCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance");

fn vectors() -> Value {
    let text = std::fs::read(format!("{CONFORMANCE}/vectors.json")).expect("vectors.json");
    json::parse_bytes(&text).expect("vectors.json is JSON")
}

fn cases(section: &str) -> Vec<Value> {
    vectors().get(section).and_then(Value::as_array).expect(section).to_vec()
}

static ENVIRONMENT: Mutex<()> = Mutex::new(());

/// Hold the environment: no provider variable set, and no config.toml (an empty
/// XDG_CONFIG_HOME), so the built-in registry decides.
fn environment() -> MutexGuard<'static, ()> {
    let guard = ENVIRONMENT.lock().unwrap_or_else(|poison| poison.into_inner());
    clean_environment();
    guard
}

fn clean_environment() {
    for provider in Registry::builtin().providers() {
        for variable in [&provider.env, &provider.host_env].into_iter().flatten() {
            std::env::remove_var(variable);
        }
    }
    let empty = std::env::temp_dir().join(format!("nxk-rs-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    std::env::set_var("XDG_CONFIG_HOME", &empty);
}

/// An in-memory daemon that answers from a case's "store" and notes what it was asked.
struct StoreDaemon {
    store: Value,
    asked: Arc<Mutex<Vec<String>>>,
}

impl StoreDaemon {
    fn entry(&self, name: &str) -> Value {
        let record = self.store.get(name);
        let method = record.and_then(|r| r.get("auth_method")).and_then(Value::as_str);
        let source = method.map(|m| if m == "oauth" { "oauth" } else { "store" });
        let builtin = Registry::builtin();
        let spec = builtin.find(name).expect("the client sends canonical names");
        Value::object([
            ("provider", Value::from(name)),
            (
                "auth_methods",
                Value::Array(spec.auth_methods.iter().map(|m| Value::from(m.as_str())).collect()),
            ),
            (
                "status",
                Value::from(if record.is_some() { "authenticated" } else { "not_authenticated" }),
            ),
            ("source", Value::from(source)),
            ("auth_method", Value::from(method)),
            (
                "expires_at",
                record.and_then(|r| r.get("expires_at")).cloned().unwrap_or(Value::Null),
            ),
        ])
    }
}

impl Transport for StoreDaemon {
    fn call(&mut self, method: &str, params: &Value) -> Result<Value, Failure> {
        self.asked.lock().unwrap().push(method.to_owned());
        let name = params.get("provider").and_then(Value::as_str).unwrap_or_default();
        let record = self.store.get(name);
        match (method, record) {
            ("auth.resolve", None) => Err(Failure::Answered(Error::new(
                ErrorKind::NotAuthenticated,
                format!("no credential for {name}"),
            ))),
            ("auth.resolve", Some(record)) => {
                let mut entry = self.entry(name);
                entry.take("status");
                entry.take("auth_methods");
                if let Value::Object(members) = &mut entry {
                    members.push(("secret".to_owned(), record.get("secret").unwrap().clone()));
                }
                Ok(entry)
            }
            ("auth.status", _) => {
                Ok(Value::object([("providers", Value::Array(vec![self.entry(name)]))]))
            }
            _ => panic!("the client asked {method}"),
        }
    }
}

/// A client whose daemon is the case's store; the list of methods it was asked.
fn client_for(case: &Value) -> (Client, Arc<Mutex<Vec<String>>>) {
    for (name, value) in case.get("env").and_then(as_members).unwrap_or_default() {
        std::env::set_var(name, value.as_str().unwrap());
    }
    let asked = Arc::new(Mutex::new(Vec::new()));
    let store = case.get("store").cloned().unwrap_or(Value::Object(vec![]));
    let noted = asked.clone();
    let client =
        Client::new().socket_path("/nonexistent/nxuskitd.sock").transport(move |_: &Path, _| {
            Ok(Box::new(StoreDaemon { store: store.clone(), asked: noted.clone() })
                as Box<dyn Transport>)
        });
    (client, asked)
}

fn as_members(value: &Value) -> Option<Vec<(String, Value)>> {
    match value {
        Value::Object(members) => Some(members.clone()),
        _ => None,
    }
}

/// Equal as JSON: numbers by value (1900000000.0 == 1900000000).
fn same(got: &Value, expected: &Value) -> bool {
    match (got, expected) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => got == expected,
    }
}

fn check(case: &Value, got: Result<Value, Error>, asked: &Mutex<Vec<String>>) {
    let title = case.get("case").and_then(Value::as_str).unwrap_or("?");
    let expect = case.get("expect").unwrap();
    match (got, expect.get("error")) {
        (Err(error), Some(kind)) => assert_eq!(Some(error.wire_kind()), kind.as_str(), "{title}"),
        (Ok(got), None) => {
            for (name, value) in as_members(expect).unwrap() {
                let mine = got.get(&name).unwrap_or(&Value::Null);
                assert!(
                    same(mine, &value),
                    "{title}: {name} is {}, not {}",
                    mine.to_json(),
                    value.to_json()
                );
            }
        }
        (got, _) => panic!("{title}: got {got:?}, expected {}", expect.to_json()),
    }
    let asks = case.get("asks_daemon").and_then(Value::as_bool).unwrap();
    assert_eq!(!asked.lock().unwrap().is_empty(), asks, "{title}: asks_daemon");
}

#[test]
fn the_embedded_providers_json_is_the_shared_one() {
    let original =
        std::fs::read(format!("{CONFORMANCE}/providers.json")).expect("the shared providers.json");
    let copy = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/providers.json")).unwrap();
    assert!(
        original == copy,
        "clients/rust/providers.json is stale: cp clients/conformance/providers.json clients/rust/"
    );
    assert_eq!(Registry::builtin().providers().len(), 15);
}

#[test]
fn names() {
    let _environment = environment();
    let registry = Registry::builtin();
    for case in cases("names") {
        let given = case.get("given").and_then(Value::as_str).unwrap();
        let found = registry.find(given).map(|spec| spec.name.as_str());
        assert_eq!(found, case.get("provider").and_then(Value::as_str), "{given:?}");
        if found.is_none() {
            let error = registry.get(given).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::UnknownProvider, "{given:?}");
        }
    }
}

#[test]
fn resolve() {
    let _environment = environment();
    for case in cases("resolve") {
        let (client, asked) = client_for(&case);
        let provider = case.get("provider").and_then(Value::as_str).unwrap();
        let explicit = case.get("explicit").and_then(Value::as_str);
        let got = client.auth_resolve(provider, explicit).map(|resolution| {
            Value::object([
                ("provider", Value::from(resolution.provider())),
                ("secret", Value::from(resolution.secret_if_any())),
                ("source", Value::from(resolution.source().as_wire())),
                ("auth_method", Value::from(resolution.auth_method())),
                (
                    "expires_at",
                    resolution
                        .expires_at()
                        .and_then(json::Number::from_f64)
                        .map_or(Value::Null, Value::Number),
                ),
            ])
        });
        check(&case, got, &asked);
        clean_environment();
    }
}

#[test]
fn status() {
    let _environment = environment();
    for case in cases("status") {
        let (client, asked) = client_for(&case);
        let provider = case.get("provider").and_then(Value::as_str).unwrap();
        let explicit = case.get("explicit").and_then(Value::as_str);
        let got = client.auth_status_with_key(provider, explicit).map(|status| {
            Value::object([
                ("provider", Value::from(status.provider.as_str())),
                ("status", Value::from(status.status.as_str())),
                ("source", Value::from(status.source.as_ref().and_then(|s| s.as_wire()))),
                (
                    "auth_methods",
                    Value::Array(
                        status.auth_methods.iter().map(|m| Value::from(m.as_str())).collect(),
                    ),
                ),
            ])
        });
        check(&case, got, &asked);
        clean_environment();
    }
}
