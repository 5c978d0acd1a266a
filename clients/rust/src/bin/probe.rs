//! The probe for the cross-language test and bench (same environment as any client):
//!
//! ```text
//! probe set PROVIDER SECRET      stores it; prints nothing
//! probe resolve PROVIDER         prints {"secret": ..., "source": ...}
//! probe remove PROVIDER          prints {"removed": true|false}
//! probe bench PROVIDER N         N warm resolves over one connection after a warm-up;
//!                                prints {"n": N, "p50_us": .., "p99_us": .., "mean_us": ..}
//! probe hot PROVIDER N           the same, the answer being kept by the client cache
//!                                after the warm-up; adds "asked": how many of the N
//!                                resolves reached the daemon (0 when nothing changes)
//! ```
//!
//! Errors: one line on stderr, `probe: <kind>: <message>`, and exit status 1.

use std::process::ExitCode;
use std::time::Instant;

use nxuskit::json::Value;
use nxuskit::{Client, Error, ErrorKind};

const WARM_UP: usize = 200;

fn usage() -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        "usage: probe set PROVIDER SECRET | resolve PROVIDER | remove PROVIDER | bench PROVIDER N \
         | hot PROVIDER N",
    )
}

/// The `p` quantile (0..1) of sorted `values`, by the nearest rank.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn micros(value: f64) -> Value {
    Value::Number(nxuskit::json::Number::from_f64((value * 10.0).round() / 10.0).expect("finite"))
}

/// `count` resolves of `provider` after a warm-up: their figures, and how many of them
/// asked the daemon.
fn timed(
    client: &Client,
    provider: &str,
    count: &str,
) -> Result<Vec<(&'static str, Value)>, Error> {
    let count: usize = count.parse().ok().filter(|n| *n > 0).ok_or_else(usage)?;
    for _ in 0..WARM_UP {
        client.auth_resolve(provider, None)?;
    }
    let asked = client.daemon_resolves();
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        client.auth_resolve(provider, None)?;
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    let asked = client.daemon_resolves() - asked;
    let mean = times.iter().sum::<f64>() / count as f64;
    times.sort_by(f64::total_cmp);
    Ok(vec![
        ("n", Value::from(count as u64)),
        ("p50_us", micros(quantile(&times, 0.50))),
        ("p99_us", micros(quantile(&times, 0.99))),
        ("mean_us", micros(mean)),
        ("asked", Value::from(asked)),
    ])
}

/// The round trip: every resolve asks the daemon (the client cache is off).
fn bench(provider: &str, count: &str) -> Result<Value, Error> {
    std::env::set_var("NXUSKIT_CLIENT_CACHE", "0"); // before any client exists
    let mut figures = timed(&Client::new(), provider, count)?;
    figures.pop(); // "asked": all of them
    Ok(Value::object(figures))
}

fn run(arguments: &[String]) -> Result<Option<Value>, Error> {
    let client = Client::new();
    let words: Vec<&str> = arguments.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["set", provider, secret] => client.auth_set_credential(provider, secret).map(|()| None),
        ["resolve", provider] => {
            let resolution = client.auth_resolve(provider, None)?;
            Ok(Some(Value::object([
                ("secret", Value::from(resolution.secret_if_any())),
                ("source", Value::from(resolution.source().as_wire())),
            ])))
        }
        ["remove", provider] => {
            let removed = client.auth_remove_credential(provider)?;
            Ok(Some(Value::object([("removed", Value::from(removed))])))
        }
        ["bench", provider, count] => bench(provider, count).map(Some),
        ["hot", provider, count] => timed(&client, provider, count).map(|f| Some(Value::object(f))),
        _ => Err(usage()),
    }
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match run(&arguments) {
        Ok(output) => {
            if let Some(value) = output {
                println!("{}", value.to_json());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("probe: {}: {}", error.wire_kind(), error.message());
            ExitCode::FAILURE
        }
    }
}
