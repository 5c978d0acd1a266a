//! The JSON reader and writer: UTF-8, escapes, surrogate pairs, large integers, strictness.

use nxuskit::json::{parse, parse_bytes, write_string, Number, Value, MAX_DEPTH};

fn string(text: &str) -> String {
    let mut out = String::new();
    write_string(&mut out, text);
    out
}

#[test]
fn a_daemon_answer_reads_and_writes_back_the_same() {
    let line = r#"{"jsonrpc":"2.0","id":3,"result":{"provider":"openai","secret":"sk-example-123","source":"store","auth_method":"api_key","expires_at":null,"ok":true,"list":[1,-2.5e-3,[],{}]}}"#;
    let value = parse(line).unwrap();
    assert_eq!(value.to_json(), line);
    let result = value.get("result").unwrap();
    assert_eq!(result.get("secret").and_then(Value::as_str), Some("sk-example-123"));
    assert!(result.get("expires_at").unwrap().is_null());
    assert_eq!(result.get("ok").and_then(Value::as_bool), Some(true));
}

#[test]
fn utf8_text_passes_through_and_invalid_utf8_is_refused() {
    let text = "clé 鍵 🔑 \u{2028}";
    let value = parse_bytes(format!("\"{text}\"").as_bytes()).unwrap();
    assert_eq!(value.as_str(), Some(text));
    assert_eq!(value.to_json(), format!("\"{text}\"")); // written as UTF-8, not escaped
    for bad in [&b"\"\xff\""[..], b"\"\xc3\"", b"\"\xed\xa0\x80\"", b"\"\xf8\x88\x80\x80\x80\""] {
        let error = parse_bytes(bad).unwrap_err();
        assert_eq!(error.message, "invalid UTF-8", "{bad:?}");
    }
}

#[test]
fn every_escape_reads() {
    let value = parse(r#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC""#).unwrap();
    assert_eq!(value.as_str(), Some("\"\\/\u{8}\u{c}\n\r\tAé€"));
    for bad in [r#""\x41""#, r#""\u12""#, r#""\u12G4""#, r#""\"#, "\"abc"] {
        assert!(parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn surrogate_pairs_join_and_lone_surrogates_are_refused() {
    assert_eq!(parse(r#""\ud83d\ude00""#).unwrap().as_str(), Some("😀"));
    assert_eq!(parse(r#""\uD834\uDD1E""#).unwrap().as_str(), Some("𝄞"));
    for lone in
        [r#""\ud800""#, r#""\udc00""#, r#""\ud800x""#, r#""\ud800\u0041""#, r#""\ude00\ud83d""#]
    {
        let error = parse(lone).unwrap_err();
        assert!(error.message.contains("surrogate"), "{lone}: {error}");
    }
}

#[test]
fn control_characters_are_escaped_when_written_and_refused_raw() {
    assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
    assert_eq!(string("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
    assert_eq!(string("\u{0}\u{1}\u{1f}"), r#""\u0000\u0001\u001f""#);
    assert_eq!(string("\u{7f}\u{85}"), "\"\u{7f}\u{85}\"");
    for raw in ["\"a\nb\"", "\"\u{0}\"", "\"\u{1f}\""] {
        assert!(parse(raw).is_err(), "{raw:?}");
    }
}

#[test]
fn any_string_written_reads_back_the_same() {
    let mut text: String = (0u32..0x800).filter_map(char::from_u32).collect();
    text.extend(['\u{fffd}', '\u{feff}', '\u{10000}', '\u{10ffff}', '"', '\\']);
    let written = Value::from(text.as_str()).to_json();
    assert_eq!(parse(&written).unwrap().as_str(), Some(text.as_str()));
}

#[test]
fn large_integers_and_fractions_keep_their_literal() {
    let big = "123456789012345678901234567890123456789";
    let value = parse(&format!("[{big},-0,0.1,1E+2,1.0]")).unwrap();
    assert_eq!(value.to_json(), format!("[{big},-0,0.1,1E+2,1.0]"));
    let items = value.as_array().unwrap();
    let number = items[0].as_number().unwrap();
    assert_eq!(number.as_str(), big);
    assert_eq!(number.as_i64(), None);
    assert_eq!(number.as_u64(), None);
    assert!(number.as_f64().unwrap() > 1e38);
    assert_eq!(items[4].as_number().unwrap().as_i64(), None); // 1.0 is not an integer literal
    let huge_id = "9".repeat(1000);
    assert_eq!(parse(&huge_id).unwrap().to_json(), huge_id);
    assert_eq!(parse("1e400").unwrap().as_number().unwrap().as_f64(), None);
    assert_eq!(parse("9223372036854775807").unwrap().as_number().unwrap().as_i64(), Some(i64::MAX));
    assert_eq!(
        parse("18446744073709551615").unwrap().as_number().unwrap().as_u64(),
        Some(u64::MAX)
    );
}

#[test]
fn integers_are_written_as_integers() {
    assert_eq!(Value::from(1i64).to_json(), "1");
    assert_eq!(Value::from(-7i64).to_json(), "-7");
    assert_eq!(Value::from(u64::MAX).to_json(), "18446744073709551615");
    assert_eq!(Value::Number(Number::from_f64(2.0).unwrap()).to_json(), "2.0");
    assert_eq!(Value::Number(Number::from_f64(0.25).unwrap()).to_json(), "0.25");
    assert!(Number::from_f64(f64::NAN).is_none());
    assert!(Number::from_f64(f64::INFINITY).is_none());
    let params = Value::object([("protocol", Value::from(1i64)), ("client", Value::from("x"))]);
    assert_eq!(params.to_json(), r#"{"protocol":1,"client":"x"}"#);
}

#[test]
fn only_json_is_read() {
    let not_json = [
        "",
        " ",
        "[1,]",
        "{\"a\":1,}",
        "01",
        "1.",
        ".5",
        "+1",
        "-",
        "1e",
        "NaN",
        "Infinity",
        "'a'",
        "{a:1}",
        "[1 2]",
        "{\"a\" 1}",
        "tru",
        "nul",
        "\u{feff}1",
        "\u{b}1",
        "\u{c}1",
        "1 2",
        "{} x",
        "[",
        "{\"a\":",
    ];
    for text in not_json {
        assert!(parse(text).is_err(), "{text:?} was read");
    }
    assert_eq!(
        parse(" \t\r\n[ 1 , { \"a\" : null } ]\r\n ").unwrap().to_json(),
        r#"[1,{"a":null}]"#
    );
}

#[test]
fn nesting_is_limited() {
    let deep = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(parse(&deep(MAX_DEPTH)).is_ok());
    assert_eq!(parse(&deep(MAX_DEPTH + 1)).unwrap_err().message, "nested too deeply");
    assert!(parse(&"[".repeat(100_000)).is_err()); // no stack overflow
}

#[test]
fn duplicate_names_read_as_the_last_and_take_removes_it() {
    let mut value = parse(r#"{"a":1,"b":2,"a":3}"#).unwrap();
    assert_eq!(value.get("a").unwrap().to_json(), "3");
    assert_eq!(value.take("b").unwrap().to_json(), "2");
    assert!(value.get("b").is_none());
    assert!(Value::Null.get("a").is_none());
}
