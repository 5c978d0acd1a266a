//! One verified JSON-RPC connection to nxuskitd's Unix socket (blocking).
//!
//! [`Connection::open`] checks the socket's directory, connects, checks with the kernel
//! that the daemon at the other end is this user's ([`crate::trust`]), and says
//! `daemon.hello`; only then is anything else sent. Reuse, reconnection and starting the
//! daemon are the [`crate::Client`]'s business.

use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::json::{self, Value};
use crate::{sys, trust};

/// The protocol this client speaks (`daemon.hello`).
pub const PROTOCOL_VERSION: i64 = 1;
/// The oldest daemon protocol this client works with.
pub const MIN_PROTOCOL_VERSION: i64 = 1;
/// The longest answer line read (answers have no cap on the wire; this bounds memory).
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// How a call failed, as a [`crate::Client`] needs to know it.
#[derive(Debug)]
pub enum Failure {
    /// The daemon closed the connection before answering: it may or may not have run the
    /// request, so only a retry-safe method is sent again.
    Closed,
    /// The daemon answered with this error; the connection stays usable.
    Answered(Error),
    /// The connection is unusable now (a timeout, an I/O error, a refusal, a broken
    /// answer): this error is reported and the connection dropped.
    Broken(Error),
}

/// What a [`crate::Client`] needs of a connection. [`Connection`] is the real one; tests
/// pass an in-memory daemon (see [`crate::Client::transport`]).
pub trait Transport: Send {
    /// Send one request (`params` is a JSON object) and wait for its result.
    fn call(&mut self, method: &str, params: &Value) -> std::result::Result<Value, Failure>;

    /// True when the daemon closed this idle connection (checked before sending a
    /// request that must not run twice).
    fn stale(&mut self) -> bool {
        false
    }
}

/// A connected, verified socket to the daemon.
#[derive(Debug)]
pub struct Connection {
    path: PathBuf,
    stream: UnixStream,
    buffer: Vec<u8>,
    scanned: usize,
    next_id: u64,
}

/// The error for an OS error met while connecting to `path`.
fn unavailable(path: &Path, error: &io::Error) -> Error {
    let message = if error.kind() == io::ErrorKind::PermissionDenied {
        format!(
            "cannot connect to {}: permission denied (is it another user's daemon?)",
            path.display()
        )
    } else {
        format!("cannot connect to nxuskitd at {}: {error}", path.display())
    };
    Error::new(ErrorKind::DaemonUnavailable, message)
}

fn protocol_error(message: &str) -> Failure {
    Failure::Broken(Error::new(ErrorKind::ProtocolError, message))
}

impl Connection {
    /// A verified connection to the daemon at `path`, hello said.
    ///
    /// Errors: `DaemonUnavailable` (nothing listens there: the caller may start a daemon),
    /// `PermissionDenied` (the socket's directory or the daemon is not this user's:
    /// nothing was sent), `VersionMismatch`.
    pub fn open(path: &Path, timeout: Duration) -> Result<Connection> {
        let mut connection = Connection::connect(path, timeout)?;
        connection.hello()?;
        Ok(connection)
    }

    fn connect(path: &Path, timeout: Duration) -> Result<Connection> {
        let uid = sys::effective_uid();
        let directory = path.parent().unwrap_or(Path::new("/"));
        if std::fs::symlink_metadata(directory).is_err() {
            trust::check_directory_chain(directory, uid)?;
            return Err(Error::not_running(path));
        }
        trust::check_socket_directory(directory, uid)?;
        let stream = match UnixStream::connect(path) {
            Ok(stream) => stream,
            Err(error) => {
                return Err(match error.kind() {
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
                        Error::not_running(path)
                    }
                    _ => unavailable(path, &error),
                })
            }
        };
        trust::check_peer(&stream, path)?;
        let configured = stream
            .set_read_timeout(Some(timeout))
            .and_then(|()| stream.set_write_timeout(Some(timeout)))
            .and_then(|()| sys::no_sigpipe(&stream));
        configured.map_err(|error| unavailable(path, &error))?;
        Ok(Connection::from_stream(path, stream))
    }

    fn from_stream(path: &Path, stream: UnixStream) -> Connection {
        Connection { path: path.to_path_buf(), stream, buffer: Vec::new(), scanned: 0, next_id: 0 }
    }

    /// Check that the daemon speaks a protocol this client understands; its answer.
    pub fn hello(&mut self) -> Result<Value> {
        let params = Value::object([
            ("protocol", Value::from(PROTOCOL_VERSION)),
            ("client", Value::from(concat!("nxuskit-rust/", env!("CARGO_PKG_VERSION")))),
        ]);
        let path = self.path.display().to_string();
        let old = || {
            Error::new(
                ErrorKind::VersionMismatch,
                format!(
                    "the daemon at {path} does not speak nxuskit protocol {PROTOCOL_VERSION}: \
                     restart it to run the installed version"
                ),
            )
        };
        let info = match self.call("daemon.hello", &params) {
            Ok(info) => info,
            Err(Failure::Answered(error) | Failure::Broken(error))
                if matches!(error.kind(), ErrorKind::ProtocolError | ErrorKind::Other) =>
            {
                return Err(old())
            }
            Err(Failure::Answered(error) | Failure::Broken(error)) => return Err(error),
            Err(Failure::Closed) => {
                let message =
                    format!("nxuskitd at {path} closed the connection at once; see its log");
                return Err(Error::new(ErrorKind::DaemonUnavailable, message));
            }
        };
        let version =
            info.get("protocol").and_then(Value::as_number).and_then(json::Number::as_i64);
        match version {
            Some(version) if version >= MIN_PROTOCOL_VERSION => Ok(info),
            _ => Err(Error::new(
                ErrorKind::VersionMismatch,
                format!(
                    "the daemon at {path} speaks protocol {}, this client needs \
                     {MIN_PROTOCOL_VERSION} or newer: restart nxuskitd to run the installed version",
                    version.map_or_else(|| "(none)".to_owned(), |v| v.to_string())
                ),
            )),
        }
    }

    /// The next answer line, newline excluded; `None` once the daemon closed.
    fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(offset) = self.buffer[self.scanned..].iter().position(|&byte| byte == b'\n')
            {
                let end = self.scanned + offset;
                let line = self.buffer[..end].to_vec();
                self.buffer.drain(..=end);
                self.scanned = 0;
                return Ok(Some(line));
            }
            self.scanned = self.buffer.len();
            if self.buffer.len() > MAX_ANSWER_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "answer over the size limit",
                ));
            }
            let mut chunk = [0u8; 65536];
            let got = match self.stream.read(&mut chunk) {
                Ok(got) => got,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if got == 0 {
                return Ok(None);
            }
            self.buffer.extend_from_slice(&chunk[..got]);
        }
    }

    fn io_failure(&self, method: &str, error: &io::Error) -> Failure {
        match error.kind() {
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => Failure::Closed,
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Failure::Broken(Error::new(
                ErrorKind::DaemonUnavailable,
                format!(
                    "nxuskitd at {} did not answer {method} in time (stopped or hung?); check it \
                     with: nxuskit-cli daemon status (NXUSKIT_TIMEOUT sets the wait)",
                    self.path.display()
                ),
            )),
            io::ErrorKind::InvalidData => {
                protocol_error("the daemon sent an answer over the size limit")
            }
            _ => Failure::Broken(unavailable(&self.path, error)),
        }
    }

    /// After a failed first write: the daemon may have refused us (busy, wrong uid) and
    /// closed before reading; its one-line explanation can still be waiting to be read.
    fn refusal_after_write(&mut self) -> Failure {
        match self.read_line() {
            Ok(Some(line)) => match json::parse_bytes(&line) {
                Ok(message) => match message.get("error") {
                    Some(error) if !error.is_null() => Failure::Broken(Error::from_wire(error)),
                    _ => Failure::Closed,
                },
                Err(_) => Failure::Closed,
            },
            _ => Failure::Closed,
        }
    }

    fn request_line(&self, method: &str, params: &Value) -> String {
        let mut line = String::with_capacity(96);
        line.push_str("{\"jsonrpc\":\"2.0\",\"id\":");
        line.push_str(&self.next_id.to_string());
        line.push_str(",\"method\":");
        json::write_string(&mut line, method);
        line.push_str(",\"params\":");
        line.push_str(&params.to_json());
        line.push_str("}\n");
        line
    }
}

impl Transport for Connection {
    fn call(&mut self, method: &str, params: &Value) -> std::result::Result<Value, Failure> {
        self.next_id += 1;
        let line = self.request_line(method, params);
        if let Err(error) = sys::send_all(&self.stream, line.as_bytes()) {
            return Err(match self.io_failure(method, &error) {
                Failure::Closed => self.refusal_after_write(),
                other => other,
            });
        }
        let reply = match self.read_line() {
            Ok(Some(reply)) => reply,
            Ok(None) => return Err(Failure::Closed),
            Err(error) => return Err(self.io_failure(method, &error)),
        };
        let mut message = match json::parse_bytes(&reply) {
            Ok(message) => message,
            Err(_) => return Err(protocol_error("the daemon sent a line that is not JSON")),
        };
        let id = message.get("id").and_then(Value::as_number).and_then(json::Number::as_u64);
        if id != Some(self.next_id) {
            // An answer with id null where ours should be: the daemon refused the connection.
            return Err(match message.get("error") {
                Some(error) if !error.is_null() => Failure::Broken(Error::from_wire(error)),
                _ => protocol_error("the daemon answered a different request"),
            });
        }
        if let Some(error) = message.get("error") {
            return Err(Failure::Answered(Error::from_wire(error)));
        }
        Ok(message.take("result").unwrap_or(Value::Null))
    }

    fn stale(&mut self) -> bool {
        sys::closed_or_unasked(&self.stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const BUSY: &str = r#"{"jsonrpc":"2.0","id":null,"error":{"code":1008,"message":"nxuskitd is at its connection limit; retry, or raise --max-connections","data":{"kind":"daemon_busy"}}}"#;

    #[test]
    fn a_refusal_is_read_even_when_the_first_write_fails_with_epipe() {
        let (client, mut server) = UnixStream::pair().unwrap();
        server.write_all(format!("{BUSY}\n").as_bytes()).unwrap();
        drop(server); // closed before reading anything: the client's write gets EPIPE
        let mut connection = Connection::from_stream(Path::new("/test.sock"), client);
        let failure = connection.call("daemon.hello", &Value::object([])).unwrap_err();
        let error = match failure {
            Failure::Broken(error) => error,
            other => panic!("{other:?}"),
        };
        assert_eq!(error.kind(), ErrorKind::DaemonBusy);
        assert!(error.message().contains("connection limit"));
    }

    #[test]
    fn a_close_without_a_word_is_closed() {
        let (client, server) = UnixStream::pair().unwrap();
        drop(server);
        let mut connection = Connection::from_stream(Path::new("/test.sock"), client);
        let failure = connection.call("auth.resolve", &Value::object([])).unwrap_err();
        assert!(matches!(failure, Failure::Closed), "{failure:?}");
    }
}
