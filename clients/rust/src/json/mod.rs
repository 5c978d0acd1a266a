//! A small, strict JSON reader and writer (RFC 8259): all the wire needs, no dependency.
//!
//! - Reading takes bytes, refuses invalid UTF-8 (never replaces it), refuses a `\u`
//!   escape of a lone surrogate (it could not be held in a `String`), joins surrogate
//!   pairs, refuses control characters inside strings, and limits nesting depth.
//! - Numbers keep their literal text, so a large integer or a fraction passes through
//!   unchanged; [`Number::as_i64`] and friends read it when asked.
//! - Writing is compact, escapes what JSON requires, and writes integers as integers
//!   (`1`, never `1.0`). A Rust `str` is always valid UTF-8, so a lone surrogate can never
//!   be written.

mod read;

pub use read::{parse, parse_bytes, ParseError, MAX_DEPTH};

/// A JSON value. Objects keep their members in order (a `Vec`, not a map).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, as written.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object: its members in order. Lookups take the last of duplicate names, as
    /// most readers (Python's among them) do.
    Object(Vec<(String, Value)>),
}

/// A JSON number, kept as its literal text (always valid JSON number syntax).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Number(String);

impl Number {
    /// A number from a literal the reader has checked.
    pub(crate) fn from_literal(literal: &str) -> Number {
        Number(literal.to_owned())
    }

    /// The literal, as written (`"12345678901234567890123"`, `"1.5e3"`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn is_integer(&self) -> bool {
        !self.0.contains(['.', 'e', 'E'])
    }

    /// The value as an `i64`, when it is an integer literal in range.
    pub fn as_i64(&self) -> Option<i64> {
        if self.is_integer() {
            self.0.parse().ok()
        } else {
            None
        }
    }

    /// The value as a `u64`, when it is a non-negative integer literal in range.
    pub fn as_u64(&self) -> Option<u64> {
        if self.is_integer() {
            self.0.parse().ok()
        } else {
            None
        }
    }

    /// The value as a finite `f64` (integers too), or `None` when it overflows.
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse::<f64>().ok().filter(|value| value.is_finite())
    }

    /// A number from a finite float (`None` for NaN and infinities, which JSON lacks).
    /// Whole floats are written with a fraction (`2.0`), as floats.
    pub fn from_f64(value: f64) -> Option<Number> {
        value.is_finite().then(|| Number(format!("{value:?}")))
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Value {
        Value::Number(Number(value.to_string()))
    }
}

impl From<u64> for Value {
    fn from(value: u64) -> Value {
        Value::Number(Number(value.to_string()))
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Bool(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::String(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Value {
        Value::String(value)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Value {
        value.map_or(Value::Null, Into::into)
    }
}

impl Value {
    /// An object from `(name, value)` pairs, in order.
    pub fn object<'a>(members: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
        Value::Object(members.into_iter().map(|(name, value)| (name.to_owned(), value)).collect())
    }

    /// The member `name` of an object (the last one, if repeated); `None` otherwise.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => {
                members.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value)
            }
            _ => None,
        }
    }

    /// Remove the member `name` from an object and return it (the last one, if repeated).
    pub fn take(&mut self, name: &str) -> Option<Value> {
        match self {
            Value::Object(members) => {
                let index = members.iter().rposition(|(key, _)| key == name)?;
                Some(members.swap_remove(index).1)
            }
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(flag) => Some(*flag),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(number) => Some(number),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Compact JSON text (no spaces, no newline): one wire line, once `\n` is added.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_to(&mut out);
        out
    }

    fn write_to(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
            Value::Number(number) => out.push_str(&number.0),
            Value::String(text) => write_string(out, text),
            Value::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write_to(out);
                }
                out.push(']');
            }
            Value::Object(members) => {
                out.push('{');
                for (index, (name, value)) in members.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write_string(out, name);
                    out.push(':');
                    value.write_to(out);
                }
                out.push('}');
            }
        }
    }
}

/// `text` as a JSON string literal, quotes included.
pub fn write_string(out: &mut String, text: &str) {
    out.push('"');
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..index]);
        if escaped.is_empty() {
            out.push_str(&format!("\\u{byte:04x}"));
        } else {
            out.push_str(escaped);
        }
        start = index + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}
