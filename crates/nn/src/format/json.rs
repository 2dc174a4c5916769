//! A small, strict JSON (RFC 8259) value type, parser and serializer.
//!
//! * [`Json::parse`] accepts exactly the RFC 8259 grammar: no comments, no
//!   trailing commas, no leading zeros, no single quotes, no byte-order mark,
//!   no unescaped control characters in strings, no lone UTF-16 surrogates in
//!   `\u` escapes, and no numbers that overflow `f64`. Nesting is limited to
//!   [`MAX_DEPTH`] levels so hostile input cannot overflow the stack. Errors
//!   carry the byte offset of the problem. It never panics.
//! * Objects keep their keys in document order, duplicates included (the
//!   caller decides whether a duplicate is an error; [`Json::get`] returns the
//!   first).
//! * Serialization ([`Json::to_json_string`], `Display`, [`Json::to_pretty_string`])
//!   writes valid JSON: strings are escaped (`"`, `\`, and every control
//!   character; other Unicode is written as UTF-8), integral numbers below
//!   2^53 in magnitude are written without a decimal point, and non-finite
//!   numbers, which JSON cannot represent, are written as `null`.

use std::fmt;
use std::fmt::Write as _;

/// Deepest nesting of arrays and objects [`Json::parse`] accepts.
pub const MAX_DEPTH: usize = 64;

/// 2^53: integers with a smaller magnitude are exactly representable in `f64`.
const EXACT_INT_LIMIT: f64 = 9_007_199_254_740_992.0;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// Any number (JSON does not distinguish integers).
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, keys in document (insertion) order.
    Object(Vec<(String, Json)>),
}

/// A JSON syntax error: where (byte offset into the input) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset into the parsed text at which the problem was found.
    pub pos: usize,
    /// What is wrong, e.g. `"expected ',' or ']' after array element"`.
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.pos, self.message)
    }
}

impl std::error::Error for JsonError {}

impl Json {
    /// Parses a complete JSON text (surrounding whitespace allowed).
    pub fn parse(text: &str) -> Result<Json, JsonError> {
        let mut p = Parser {
            s: text,
            b: text.as_bytes(),
            pos: 0,
        };
        p.skip_ws();
        let v = p.value(0)?;
        p.skip_ws();
        if p.pos < p.b.len() {
            return Err(p.err_unexpected("after the JSON value (only whitespace may follow)"));
        }
        Ok(v)
    }

    /// First value stored under `key` if `self` is an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if `self` is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if `self` is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(x) => Some(*x),
            _ => None,
        }
    }

    /// The number as a `u64`, if `self` is a non-negative integral number not
    /// above 2^53 (the range in which `f64` holds every integer exactly).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(x) if *x >= 0.0 && *x <= EXACT_INT_LIMIT && x.fract() == 0.0 => {
                Some(*x as u64)
            }
            _ => None,
        }
    }

    /// The boolean, if `self` is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, if `self` is an array.
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries in document order, if `self` is an object.
    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }

    /// `true` if `self` is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// The JSON type as a word for error messages: `"null"`, `"boolean"`,
    /// `"number"`, `"string"`, `"array"` or `"object"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }

    /// Compact serialization (no whitespace), same as `Display`.
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.write_compact(&mut out);
        out
    }

    /// Serialization indented by two spaces per level, one entry per line.
    pub fn to_pretty_string(&self) -> String {
        let mut out = String::new();
        self.write_pretty(&mut out, 0);
        out
    }

    /// Appends the compact serialization to `out`.
    pub fn write_compact(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(x) => write_number(*x, out),
            Json::String(s) => write_string(s, out),
            Json::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_compact(out);
                }
                out.push(']');
            }
            Json::Object(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(k, out);
                    out.push(':');
                    v.write_compact(out);
                }
                out.push('}');
            }
        }
    }

    fn write_pretty(&self, out: &mut String, indent: usize) {
        let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', 2 * n));
        match self {
            Json::Array(a) if !a.is_empty() => {
                out.push_str("[\n");
                for (i, v) in a.iter().enumerate() {
                    pad(out, indent + 1);
                    v.write_pretty(out, indent + 1);
                    out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push(']');
            }
            Json::Object(m) if !m.is_empty() => {
                out.push_str("{\n");
                for (i, (k, v)) in m.iter().enumerate() {
                    pad(out, indent + 1);
                    write_string(k, out);
                    out.push_str(": ");
                    v.write_pretty(out, indent + 1);
                    out.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push('}');
            }
            other => other.write_compact(out),
        }
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json_string())
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

impl From<f64> for Json {
    fn from(x: f64) -> Json {
        Json::Number(x)
    }
}

impl From<usize> for Json {
    /// Values above 2^53 are rounded to the nearest `f64`.
    fn from(x: usize) -> Json {
        Json::Number(x as f64)
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::String(s.to_owned())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::String(s)
    }
}

impl From<Vec<Json>> for Json {
    fn from(a: Vec<Json>) -> Json {
        Json::Array(a)
    }
}

/// Appends `s` as a quoted JSON string literal: `"` and `\` are
/// backslash-escaped, control characters U+0000–U+001F become `\b`, `\f`,
/// `\n`, `\r`, `\t` or `\u00XX`, and everything else (all other Unicode) is
/// written as-is in UTF-8.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(esc);
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends `x` as a JSON number: integral values with magnitude below 2^53
/// without a decimal point (`3`, `-0`), other values in the shortest form that
/// parses back to the same `f64` (plain notation between 1e-5 and 1e21,
/// exponent notation outside), and NaN or infinities as `null`.
pub fn write_number(x: f64, out: &mut String) {
    if !x.is_finite() {
        out.push_str("null");
    } else if x.fract() == 0.0 && x.abs() < EXACT_INT_LIMIT {
        if x == 0.0 && x.is_sign_negative() {
            out.push_str("-0");
        } else {
            let _ = write!(out, "{}", x as i64);
        }
    } else {
        let a = x.abs();
        if (1e-5..1e21).contains(&a) {
            let _ = write!(out, "{x}");
        } else {
            let _ = write!(out, "{x:e}");
        }
    }
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, pos: usize, message: impl Into<String>) -> JsonError {
        JsonError {
            pos,
            message: message.into(),
        }
    }

    /// "unexpected X <context>" at the current position.
    fn err_unexpected(&self, context: &str) -> JsonError {
        let what = match self.s.get(self.pos..).and_then(|r| r.chars().next()) {
            None => return self.err(self.pos, format!("unexpected end of input {context}")),
            Some(c) if c.is_ascii_graphic() => format!("character '{c}'"),
            Some(c) => format!("character U+{:04X}", c as u32),
        };
        self.err(self.pos, format!("unexpected {what} {context}"))
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            _ => Err(self.err_unexpected("where a value was expected")),
        }
    }

    fn literal(&mut self, word: &str, v: Json) -> Result<Json, JsonError> {
        if self.b[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.err(self.pos, format!("invalid literal (expected '{word}')")))
        }
    }

    fn enter(&self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            Err(self.err(
                self.pos,
                format!("arrays and objects nested more than {MAX_DEPTH} levels deep"),
            ))
        } else {
            Ok(())
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.enter(depth)?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.err_unexpected("after array element (expected ',' or ']')")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.enter(depth)?;
        self.pos += 1; // '{'
        let mut entries = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(entries));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err_unexpected("where an object key (a string) was expected"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err_unexpected("after object key (expected ':')"));
            }
            self.pos += 1;
            self.skip_ws();
            let v = self.value(depth)?;
            entries.push((key, v));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(entries));
                }
                _ => return Err(self.err_unexpected("after object value (expected ',' or '}')")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let start = self.pos;
        let digits = self
            .b
            .get(start..start + 4)
            .ok_or_else(|| self.err(start, "invalid \\u escape (expected 4 hex digits)"))?;
        let mut v = 0u32;
        for &d in digits {
            let h = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.err(start, "invalid \\u escape (expected 4 hex digits)"))?;
            v = v * 16 + h;
        }
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        let open = self.pos;
        self.pos += 1; // '"'
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err(open, "unterminated string"));
            };
            match c {
                b'"' => {
                    out.push_str(&self.s[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.s[run..self.pos]);
                    let esc_pos = self.pos;
                    self.pos += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.err(open, "unterminated string"));
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.b.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(self.err(
                                        esc_pos,
                                        "high surrogate \\u escape not followed by a low surrogate",
                                    ));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err(
                                        esc_pos,
                                        "high surrogate \\u escape not followed by a low surrogate",
                                    ));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(self.err(esc_pos, "lone low surrogate in \\u escape"));
                            } else {
                                hi
                            };
                            match char::from_u32(code) {
                                Some(ch) => out.push(ch),
                                None => return Err(self.err(esc_pos, "invalid \\u escape")),
                            }
                        }
                        _ => {
                            self.pos = esc_pos;
                            return Err(self.err_unexpected_escape());
                        }
                    }
                    run = self.pos;
                }
                0x00..=0x1F => {
                    return Err(self.err(
                        self.pos,
                        format!("control character U+{c:04X} in string must be escaped"),
                    ));
                }
                _ => self.pos += 1,
            }
        }
    }

    fn err_unexpected_escape(&self) -> JsonError {
        let what = self
            .s
            .get(self.pos + 1..)
            .and_then(|r| r.chars().next())
            .map(|c| c.escape_debug().to_string())
            .unwrap_or_default();
        self.err(self.pos, format!("invalid escape '\\{what}' in string"))
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.err(start, "leading zeros are not allowed in numbers"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err_unexpected("in number (expected a digit)")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err_unexpected("in number (expected a digit after '.')"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err_unexpected("in number (expected a digit in the exponent)"));
            }
        }
        let text = &self.s[start..self.pos];
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Json::Number(x)),
            _ => Err(self.err(start, format!("number {text} is out of range"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(text: &str) -> JsonError {
        Json::parse(text).unwrap_err()
    }

    #[test]
    fn parses_all_value_kinds() {
        let v = Json::parse(
            " {\"a\": [1, -2.5, 3e2, 0, -0, 1E-2], \"b\": {\"c\": null, \"d\": true, \"e\": false}, \"s\": \"x\\ty\"} \n",
        )
        .unwrap();
        let a = v.get("a").unwrap().as_array().unwrap();
        let nums: Vec<f64> = a.iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(nums, vec![1.0, -2.5, 300.0, 0.0, 0.0, 0.01]);
        assert!(nums[4].is_sign_negative());
        let b = v.get("b").unwrap();
        assert!(b.get("c").unwrap().is_null());
        assert_eq!(b.get("d").unwrap().as_bool(), Some(true));
        assert_eq!(b.get("e").unwrap().as_bool(), Some(false));
        assert_eq!(v.get("s").unwrap().as_str(), Some("x\ty"));
        assert_eq!(v.get("missing"), None);
        assert_eq!(Json::parse("[]").unwrap(), Json::Array(vec![]));
        assert_eq!(Json::parse("{}").unwrap(), Json::Object(vec![]));
        assert_eq!(Json::parse("\"\"").unwrap(), Json::String(String::new()));
    }

    #[test]
    fn object_keeps_order_and_duplicates() {
        let v = Json::parse(r#"{"z":1,"a":2,"m":3,"a":4}"#).unwrap();
        let keys: Vec<&str> = v
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, vec!["z", "a", "m", "a"]);
        assert_eq!(v.get("a").unwrap().as_f64(), Some(2.0));
        assert_eq!(v.to_json_string(), r#"{"z":1,"a":2,"m":3,"a":4}"#);
    }

    #[test]
    fn unicode_escapes() {
        let v = Json::parse(r#""\u00e9\u4e2d\ud83d\ude00\/\b\f\n\r\"\\""#).unwrap();
        assert_eq!(v.as_str().unwrap(), "é中😀/\u{8}\u{c}\n\r\"\\");
        let v = Json::parse("\"raw é中😀\"").unwrap();
        assert_eq!(v.as_str().unwrap(), "raw é中😀");
        assert_eq!(Json::parse(r#""\u0000""#).unwrap().as_str(), Some("\0"));
    }

    #[test]
    fn serializes_strings() {
        let s = "q\"b\\s/\u{0}\u{1}\u{8}\u{c}\n\r\t\u{1f}\u{7f}é中😀";
        let out = Json::from(s).to_json_string();
        assert_eq!(
            out,
            "\"q\\\"b\\\\s/\\u0000\\u0001\\b\\f\\n\\r\\t\\u001f\u{7f}é中😀\""
        );
        assert_eq!(Json::parse(&out).unwrap().as_str(), Some(s));
    }

    #[test]
    fn serializes_numbers() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (3.0, "3"),
            (-42.0, "-42"),
            (9007199254740991.0, "9007199254740991"),
            (9007199254740992.0, "9007199254740992"),
            (1e20, "100000000000000000000"),
            (1e21, "1e21"),
            (1e300, "1e300"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e-5, "0.00001"),
            (1.5e-7, "1.5e-7"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
            (f64::NEG_INFINITY, "null"),
        ];
        for &(x, want) in cases {
            let got = Json::Number(x).to_json_string();
            assert_eq!(got, want, "serializing {x:?}");
            if x.is_finite() {
                let back = Json::parse(&got).unwrap().as_f64().unwrap();
                assert_eq!(back.to_bits(), x.to_bits(), "round trip of {x:?}");
            }
        }
    }

    #[test]
    fn as_u64_range() {
        assert_eq!(Json::Number(5.0).as_u64(), Some(5));
        assert_eq!(Json::Number(9007199254740992.0).as_u64(), Some(1 << 53));
        assert_eq!(Json::Number(9007199254740994.0).as_u64(), None);
        assert_eq!(Json::Number(-1.0).as_u64(), None);
        assert_eq!(Json::Number(1.5).as_u64(), None);
        assert_eq!(Json::String("1".into()).as_u64(), None);
    }

    #[test]
    fn pretty_print() {
        let v = Json::parse(r#"{"a":[1,2],"b":{},"c":[],"d":{"e":"f"}}"#).unwrap();
        let p = v.to_pretty_string();
        assert_eq!(
            p,
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": [],\n  \"d\": {\n    \"e\": \"f\"\n  }\n}"
        );
        assert_eq!(Json::parse(&p).unwrap(), v);
        assert_eq!(format!("{v}"), v.to_json_string());
    }

    #[test]
    fn rejects_non_json_with_positions() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "unexpected end of input where a value was expected"),
            (
                "   ",
                3,
                "unexpected end of input where a value was expected",
            ),
            (
                "[1,]",
                3,
                "unexpected character ']' where a value was expected",
            ),
            (
                "{\"a\":1,}",
                7,
                "unexpected character '}' where an object key (a string) was expected",
            ),
            (
                "{'a':1}",
                1,
                "unexpected character ''' where an object key (a string) was expected",
            ),
            (
                "{\"a\" 1}",
                5,
                "unexpected character '1' after object key (expected ':')",
            ),
            (
                "[1 2]",
                3,
                "unexpected character '2' after array element (expected ',' or ']')",
            ),
            (
                "{\"a\":1 \"b\":2}",
                7,
                "unexpected character '\"' after object value (expected ',' or '}')",
            ),
            ("01", 0, "leading zeros are not allowed in numbers"),
            (
                "-",
                1,
                "unexpected end of input in number (expected a digit)",
            ),
            (
                "1.",
                2,
                "unexpected end of input in number (expected a digit after '.')",
            ),
            (
                "1.e5",
                2,
                "unexpected character 'e' in number (expected a digit after '.')",
            ),
            (
                "1e",
                2,
                "unexpected end of input in number (expected a digit in the exponent)",
            ),
            (
                ".5",
                0,
                "unexpected character '.' where a value was expected",
            ),
            (
                "+1",
                0,
                "unexpected character '+' where a value was expected",
            ),
            ("1e400", 0, "number 1e400 is out of range"),
            (
                "NaN",
                0,
                "unexpected character 'N' where a value was expected",
            ),
            ("tru", 0, "invalid literal (expected 'true')"),
            ("nul", 0, "invalid literal (expected 'null')"),
            (
                "[1] x",
                4,
                "unexpected character 'x' after the JSON value (only whitespace may follow)",
            ),
            (
                "\u{feff}{}",
                0,
                "unexpected character U+FEFF where a value was expected",
            ),
            ("\"abc", 0, "unterminated string"),
            (
                "\"a\nb\"",
                2,
                "control character U+000A in string must be escaped",
            ),
            ("\"\\x\"", 1, "invalid escape '\\x' in string"),
            ("\"\\u12\"", 3, "invalid \\u escape (expected 4 hex digits)"),
            ("\"\\u12", 3, "invalid \\u escape (expected 4 hex digits)"),
            (
                "\"\\u12zz\"",
                3,
                "invalid \\u escape (expected 4 hex digits)",
            ),
            (
                "\"\\ud800\"",
                1,
                "high surrogate \\u escape not followed by a low surrogate",
            ),
            (
                "\"\\ud800\\u0041\"",
                1,
                "high surrogate \\u escape not followed by a low surrogate",
            ),
            ("\"\\udc00\"", 1, "lone low surrogate in \\u escape"),
            (
                "[1,\u{a0}2]",
                3,
                "unexpected character U+00A0 where a value was expected",
            ),
            (
                "[1,é]",
                3,
                "unexpected character U+00E9 where a value was expected",
            ),
        ];
        for &(text, pos, msg) in cases {
            let e = err(text);
            assert_eq!((e.pos, e.message.as_str()), (pos, msg), "input {text:?}");
        }
        assert_eq!(
            err("[1 2]").to_string(),
            "at byte 3: unexpected character '2' after array element (expected ',' or ']')"
        );
    }

    #[test]
    fn depth_limit() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(Json::parse(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let e = err(&deep);
        assert_eq!(e.pos, MAX_DEPTH);
        assert_eq!(
            e.message,
            "arrays and objects nested more than 64 levels deep"
        );
        let objs = "{\"a\":".repeat(MAX_DEPTH + 1);
        assert!(err(&objs).message.contains("nested more than 64"));
        // Far deeper than any stack could take recursively: still a clean error.
        assert!(Json::parse(&"[".repeat(1_000_000)).is_err());
    }

    fn arb_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(Json::Number),
            (-1000i64..1000).prop_map(|i| Json::Number(i as f64)),
            any::<String>().prop_map(Json::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
                prop::collection::vec((any::<String>(), inner), 0..6).prop_map(Json::Object),
            ]
        })
    }

    proptest! {
        #[test]
        fn round_trip(v in arb_json()) {
            let compact = v.to_json_string();
            prop_assert_eq!(&Json::parse(&compact).unwrap(), &v);
            prop_assert_eq!(&Json::parse(&v.to_pretty_string()).unwrap(), &v);
        }

        #[test]
        fn never_panics_on_random_text(s in any::<String>()) {
            let _ = Json::parse(&s);
        }

        #[test]
        fn never_panics_on_json_like_text(s in "[\\[\\]{}\",:0-9eE.+\\-\\\\utrfalsn ]{0,64}") {
            let _ = Json::parse(&s);
        }

        #[test]
        fn never_panics_on_mutated_json(v in arb_json(), cut in any::<prop::sample::Index>(), b in any::<u8>()) {
            let text = v.to_json_string();
            let i = cut.index(text.len() + 1);
            let _ = Json::parse(&text[..text.floor_char_boundary(i)]);
            let mut bytes = text.into_bytes();
            if !bytes.is_empty() {
                let j = i % bytes.len();
                bytes[j] = b;
            }
            if let Ok(s) = std::str::from_utf8(&bytes) {
                let _ = Json::parse(s);
            }
        }
    }
}
