//! What an API key may be: the rule the daemon applies before it stores one
//! (docs/protocol.md, `auth.set_credential`), applied here first so a bad key never
//! reaches the socket. Messages never show the key.

use crate::error::{Error, ErrorKind, Result};

/// The longest key accepted, in UTF-8 bytes (after trimming).
pub const MAX_SECRET_BYTES: usize = 16 * 1024;

/// Trimmed from both ends of a key: what a paste, a file or `echo` adds around it.
pub const EDGE_WHITESPACE: [char; 4] = [' ', '\t', '\r', '\n'];

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// `value` as it is to be stored: trimmed of spaces, tabs, CRs and LFs at both ends.
///
/// Errors (`InvalidArgument`): empty once trimmed; over [`MAX_SECRET_BYTES`]; a control
/// character anywhere (C0 U+0000-U+001F, DEL, C1 U+0080-U+009F), a line break inside
/// included. (A lone surrogate, which the daemon also refuses, cannot occur in a Rust
/// `str`.)
pub fn check_secret(value: &str) -> Result<&str> {
    let secret = value.trim_matches(|c| EDGE_WHITESPACE.contains(&c));
    if secret.is_empty() {
        return Err(invalid("the credential is empty: pass the API key itself".to_owned()));
    }
    if secret.len() > MAX_SECRET_BYTES {
        return Err(invalid(format!(
            "the credential is {} bytes, over the {MAX_SECRET_BYTES}-byte limit: pass the API key alone",
            secret.len()
        )));
    }
    if let Some(control) = secret.chars().find(|&c| c < ' ' || ('\u{7f}'..='\u{9f}').contains(&c)) {
        return Err(invalid(format!(
            "the credential contains the control character U+{:04X} (a line break, tab or other \
             invisible character): pass the API key alone",
            control as u32
        )));
    }
    Ok(secret)
}
