//! NumPy's `.npy` single-array format.
//!
//! Layout: the magic string `\x93NUMPY`, a major and a minor version byte,
//! the header length (little-endian `u16` in version 1.0, `u32` in 2.0 and
//! 3.0), then an ASCII Python dict literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded with
//! spaces and ending in `'\n'` so that the data starts at a multiple of 64
//! bytes, then the elements in C order.
//!
//! The writer produces byte-for-byte what `np.save` in NumPy 2 writes for a
//! C-contiguous little-endian array: version 1.0 (2.0 if the header would not
//! fit in a `u16`), the same key order, spacing and spare room after the
//! header. Dtypes: `F32` as `'<f4'`, `F64` as `'<f8'`, `I64` as `'<i8'`.
//!
//! The reader accepts versions 1.0, 2.0 and 3.0, descrs `'<f4'`, `'<f8'` and
//! `'<i8'`, C order only, and requires the data to be exactly as long as the
//! shape says (no trailing bytes). Fortran-ordered arrays, big-endian or other
//! dtypes, structured dtypes and object arrays (pickles) are rejected with an
//! error saying how to re-save the array.

use std::path::Path;

use super::{checked_numel, read_file, write_atomic};
use super::{FormatError, FormatErrorKind, RawDType, RawTensor};

/// The 6-byte magic string every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// NumPy aligns the start of the data to this many bytes.
const ALIGN: usize = 64;

/// NumPy leaves room after the header for the first dimension to grow to this
/// many digits, so a file can be appended to in place.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

fn corrupt(message: impl Into<String>) -> FormatError {
    FormatError::new(FormatErrorKind::Corrupt, message)
}

fn unsupported(message: impl Into<String>) -> FormatError {
    FormatError::new(FormatErrorKind::Unsupported, message)
}

fn descr_of(dtype: RawDType) -> &'static str {
    match dtype {
        RawDType::F32 => "<f4",
        RawDType::F64 => "<f8",
        RawDType::I64 => "<i8",
    }
}

/// Python `repr` of a shape tuple: `()`, `(5,)`, `(2, 3)`.
fn shape_repr(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_owned(),
        [d] => format!("({d},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// Serializes a tensor to `.npy` bytes, exactly as NumPy 2's `np.save`.
///
/// # Panics
///
/// Panics if `t.data.len()` does not match its shape and dtype (see
/// [`RawTensor::validate`]). Use [`try_to_npy_bytes`] or [`save_npy`] to get
/// an error instead.
pub fn to_npy_bytes(t: &RawTensor) -> Vec<u8> {
    match try_to_npy_bytes(t) {
        Ok(bytes) => bytes,
        Err(e) => panic!("npy::to_npy_bytes: {e}"),
    }
}

/// Like [`to_npy_bytes`], but returns an [`FormatErrorKind::InvalidInput`]
/// error instead of panicking if the tensor's data does not match its shape.
pub fn try_to_npy_bytes(t: &RawTensor) -> Result<Vec<u8>, FormatError> {
    t.validate()?;
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
        descr_of(t.dtype),
        shape_repr(&t.shape)
    );
    if let Some(first) = t.shape.first() {
        let digits = first.to_string().len();
        dict.extend(std::iter::repeat_n(
            ' ',
            GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits),
        ));
    }
    // numpy's _wrap_header: header text + padding + '\n', the padding making
    // magic + version + length field + header a multiple of 64 (always at
    // least one space).
    let text_len = dict.len() + 1;
    let (version, len_field) = {
        let pad = ALIGN - (MAGIC.len() + 2 + 2 + text_len) % ALIGN;
        if text_len + pad <= u16::MAX as usize {
            (1u8, 2usize)
        } else {
            (2u8, 4usize)
        }
    };
    let prefix = MAGIC.len() + 2 + len_field;
    let pad = ALIGN - (prefix + text_len) % ALIGN;
    let header_len = text_len + pad;

    let mut out = Vec::with_capacity(prefix + header_len + t.data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        let len32 = u32::try_from(header_len).map_err(|_| {
            FormatError::new(
                FormatErrorKind::InvalidInput,
                "shape has too many dimensions for a .npy header",
            )
        })?;
        out.extend_from_slice(&len32.to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    out.extend_from_slice(&t.data);
    Ok(out)
}

/// Writes a `.npy` file atomically (temporary file in the same directory,
/// then rename over `path`). Errors name `path`.
pub fn save_npy(path: &Path, t: &RawTensor) -> Result<(), FormatError> {
    let bytes = try_to_npy_bytes(t).map_err(|e| e.with_file(path))?;
    write_atomic(path, &bytes)
}

/// Reads a `.npy` file. Errors name `path`.
pub fn load_npy(path: &Path) -> Result<RawTensor, FormatError> {
    let bytes = read_file(path)?;
    from_npy_bytes(&bytes).map_err(|e| e.with_file(path))
}

/// Parses `.npy` bytes. Never panics; see the module documentation for what
/// is accepted.
pub fn from_npy_bytes(b: &[u8]) -> Result<RawTensor, FormatError> {
    if b.len() < MAGIC.len() || &b[..MAGIC.len()] != MAGIC {
        return Err(corrupt(
            "not a .npy file: it does not start with the \\x93NUMPY magic string",
        ));
    }
    let (Some(&major), Some(&minor)) = (b.get(6), b.get(7)) else {
        return Err(corrupt(format!(
            "file is {} bytes, too short to hold the .npy version and header length",
            b.len()
        )));
    };
    let len_field = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => {
            return Err(unsupported(format!(
                "unsupported .npy format version {major}.{minor} (this reader handles 1.0, 2.0 and 3.0)"
            )))
        }
    };
    let prefix = 8 + len_field;
    let Some(len_bytes) = b.get(8..prefix) else {
        return Err(corrupt(format!(
            "file is {} bytes, too short to hold the .npy version and header length",
            b.len()
        )));
    };
    let header_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |acc, &x| (acc << 8) | x as usize);
    let rest = b.len() - prefix;
    if header_len > rest {
        return Err(corrupt(format!(
            "header length field says {header_len} bytes but only {rest} bytes follow it (the file is truncated)"
        )));
    }
    let header = &b[prefix..prefix + header_len];
    let data = &b[prefix + header_len..];

    let h = parse_header(header)?;
    let dtype = match h.descr.as_str() {
        "<f4" => RawDType::F32,
        "<f8" => RawDType::F64,
        "<i8" => RawDType::I64,
        d if d.starts_with('>') => {
            return Err(unsupported(format!(
                "big-endian dtype '{d}' is not supported; re-save the array as little-endian, e.g. np.save(path, a.astype(a.dtype.newbyteorder('<')))"
            )))
        }
        d => {
            return Err(unsupported(format!(
                "dtype '{d}' is not supported (this reader handles '<f4', '<f8' and '<i8'); re-save the array with a.astype(np.float32)"
            )))
        }
    };
    if h.fortran_order {
        return Err(unsupported(
            "Fortran-ordered arrays (fortran_order: True) are not supported; re-save the array in C order with np.save(path, np.ascontiguousarray(a))",
        ));
    }
    let shape_text = shape_repr(&h.shape);
    let need = checked_numel(&h.shape)
        .and_then(|n| n.checked_mul(dtype.size_of()))
        .ok_or_else(|| {
            corrupt(format!(
                "shape {shape_text} of '{}' has more bytes than fit in memory",
                h.descr
            ))
        })?;
    if data.len() != need {
        let hint = if data.len() < need {
            " (the file is truncated)"
        } else {
            " (extra bytes after the array)"
        };
        return Err(corrupt(format!(
            "data is {} bytes but shape {shape_text} of '{}' needs {need} bytes{hint}",
            data.len(),
            h.descr
        )));
    }
    Ok(RawTensor {
        dtype,
        shape: h.shape,
        data: data.to_vec(),
    })
}

struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

enum PyValue {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
    Int,
}

impl PyValue {
    fn kind(&self) -> &'static str {
        match self {
            PyValue::Str(_) => "a string",
            PyValue::Bool(_) => "a boolean",
            PyValue::Tuple(_) => "a tuple",
            PyValue::Int => "an integer",
        }
    }
}

/// Parser for the restricted Python literal NumPy writes as the header:
/// a dict with string keys whose values are strings, `True`/`False`, or
/// tuples of non-negative integers.
struct DictParser<'a> {
    b: &'a [u8],
    pos: usize,
}

impl DictParser<'_> {
    fn err(&self, what: &str) -> FormatError {
        let text = String::from_utf8_lossy(self.b);
        let text = text.trim_end();
        let shown: String = text.chars().take(100).collect();
        let ellipsis = if shown.len() < text.len() { "..." } else { "" };
        let found = match self.b.get(self.pos) {
            None => "end of header".to_owned(),
            Some(c) if c.is_ascii_graphic() => format!("'{}'", *c as char),
            Some(c) => format!("byte 0x{c:02x}"),
        };
        corrupt(format!(
            "malformed .npy header {shown}{ellipsis}: expected {what} at header byte {}, found {found}",
            self.pos
        ))
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8, what: &str) -> Result<(), FormatError> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    fn string(&mut self) -> Result<String, FormatError> {
        let Some(q @ (b'\'' | b'"')) = self.peek() else {
            return Err(self.err("a quoted string"));
        };
        let start = self.pos + 1;
        let mut end = start;
        loop {
            match self.b.get(end) {
                Some(&c) if c == q => break,
                Some(b'\\') | Some(b'\n') | None => {
                    self.pos = end;
                    return Err(self.err("the closing quote of a simple string"));
                }
                Some(_) => end += 1,
            }
        }
        self.pos = end + 1;
        Ok(String::from_utf8_lossy(&self.b[start..end]).into_owned())
    }

    fn int(&mut self) -> Result<usize, FormatError> {
        let start = self.pos;
        let mut v: usize = 0;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add((c - b'0') as usize))
                .ok_or_else(|| {
                    self.pos = start;
                    self.err("a dimension that fits in memory")
                })?;
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err("a non-negative integer"));
        }
        // Python 2 era files write long integers as `3L`.
        if self.peek() == Some(b'L') {
            self.pos += 1;
        }
        Ok(v)
    }

    fn value(&mut self) -> Result<PyValue, FormatError> {
        self.skip_ws();
        match self.peek() {
            Some(b'\'' | b'"') => self.string().map(PyValue::Str),
            Some(b'T') if self.b[self.pos..].starts_with(b"True") => {
                self.pos += 4;
                Ok(PyValue::Bool(true))
            }
            Some(b'F') if self.b[self.pos..].starts_with(b"False") => {
                self.pos += 5;
                Ok(PyValue::Bool(false))
            }
            Some(b'0'..=b'9') => self.int().map(|_| PyValue::Int),
            Some(b'(') => {
                self.pos += 1;
                let mut dims = Vec::new();
                let mut saw_comma = false;
                loop {
                    self.skip_ws();
                    if self.peek() == Some(b')') {
                        self.pos += 1;
                        break;
                    }
                    dims.push(self.int()?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => {
                            saw_comma = true;
                            self.pos += 1;
                        }
                        Some(b')') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(self.err("',' or ')' in the shape tuple")),
                    }
                }
                if dims.len() == 1 && !saw_comma {
                    // `(5)` is the integer 5 in Python, not a tuple.
                    return Ok(PyValue::Int);
                }
                Ok(PyValue::Tuple(dims))
            }
            Some(b'[') => Err(unsupported(
                "the .npy header describes a structured dtype (descr is a list), which is not supported",
            )),
            _ => Err(self.err("a string, True, False or a tuple")),
        }
    }
}

fn parse_header(header: &[u8]) -> Result<Header, FormatError> {
    let mut p = DictParser { b: header, pos: 0 };
    p.eat(b'{', "'{'")?;
    let mut descr = None;
    let mut fortran_order = None;
    let mut shape = None;
    loop {
        p.skip_ws();
        if p.peek() == Some(b'}') {
            p.pos += 1;
            break;
        }
        let key = p.string()?;
        p.eat(b':', "':'")?;
        let value = p.value()?;
        let found = value.kind();
        let wrong = |want: &str| {
            corrupt(format!(
                "the .npy header's '{key}' must be {want}, found {found}"
            ))
        };
        match key.as_str() {
            "descr" | "fortran_order" | "shape" => {}
            _ => {
                return Err(corrupt(format!(
                    "unexpected key '{key}' in the .npy header"
                )))
            }
        }
        let dup = match (key.as_str(), value) {
            ("descr", PyValue::Str(s)) => descr.replace(s).is_some(),
            ("fortran_order", PyValue::Bool(f)) => fortran_order.replace(f).is_some(),
            ("shape", PyValue::Tuple(t)) => shape.replace(t).is_some(),
            ("descr", _) => return Err(wrong("a string such as '<f4'")),
            ("fortran_order", _) => return Err(wrong("True or False")),
            _ => return Err(wrong("a tuple of integers such as (2, 3)")),
        };
        if dup {
            return Err(corrupt(format!(
                "the .npy header has the key '{key}' twice"
            )));
        }
        p.skip_ws();
        match p.peek() {
            Some(b',') => p.pos += 1,
            Some(b'}') => {}
            _ => return Err(p.err("',' or '}' after a value")),
        }
    }
    p.skip_ws();
    if p.pos != header.len() {
        return Err(p.err("only spaces and a newline after the closing '}'"));
    }
    let missing = |key: &str| corrupt(format!("the .npy header has no '{key}' key"));
    Ok(Header {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::fs;

    /// `np.save` of `np.arange(6, dtype=np.float32).reshape(2, 3)` with
    /// NumPy 2.4.
    const NUMPY_ARANGE6: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }                                                          \n\x00\x00\x00\x00\x00\x00\x80?\x00\x00\x00@\x00\x00@@\x00\x00\x80@\x00\x00\xa0@";

    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn err_of(b: &[u8]) -> String {
        from_npy_bytes(b).unwrap_err().to_string()
    }

    #[test]
    fn exact_bytes_match_numpy() {
        let t = RawTensor::from_f32(&[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let bytes = to_npy_bytes(&t);
        assert_eq!(bytes, NUMPY_ARANGE6);
        // By hand: 10-byte prefix + 118-byte header = 128, a multiple of 64.
        assert_eq!(bytes.len(), 128 + 24);
        assert_eq!(&bytes[8..10], &118u16.to_le_bytes());
        assert_eq!(bytes[127], b'\n');
        let back = from_npy_bytes(NUMPY_ARANGE6).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn headers_match_numpy_for_other_shapes() {
        // Header text of np.save for a float64 scalar, an int64 vector of 5
        // and a float32 (0, 3) array (NumPy 2.4).
        let pad = |s: &str| format!("{s}{}\n", " ".repeat(117 - s.len()));
        let cases = [
            (
                RawTensor::from_f64(&[], &[2.5]),
                "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
            ),
            (
                RawTensor::from_i64(&[5], &[0, 1, 2, 3, 4]),
                "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }",
            ),
            (
                RawTensor::from_f32(&[0, 3], &[]),
                "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }",
            ),
        ];
        for (t, dict) in cases {
            let bytes = to_npy_bytes(&t);
            assert_eq!(&bytes[..10], b"\x93NUMPY\x01\x00v\x00");
            assert_eq!(std::str::from_utf8(&bytes[10..128]).unwrap(), pad(dict));
            assert_eq!(&bytes[128..], &t.data[..]);
            assert_eq!(from_npy_bytes(&bytes).unwrap(), t);
        }
    }

    #[test]
    fn long_headers_stay_aligned_and_switch_to_version_2() {
        for ndim in [1, 5, 10, 20, 40] {
            let shape = vec![1usize; ndim];
            let t = RawTensor::from_f32(&shape, &[7.0]);
            let b = to_npy_bytes(&t);
            assert_eq!((b.len() - 4) % ALIGN, 0, "ndim {ndim}");
            assert_eq!(from_npy_bytes(&b).unwrap(), t);
        }
        let shape = vec![1usize; 30_000];
        let t = RawTensor::from_f32(&shape, &[7.0]);
        let b = to_npy_bytes(&t);
        assert_eq!(&b[6..8], &[2, 0]);
        assert_eq!((b.len() - 4) % ALIGN, 0);
        assert_eq!(from_npy_bytes(&b).unwrap(), t);
    }

    #[test]
    fn round_trips_all_dtypes() {
        let ts = [
            RawTensor::from_f32(&[4], &[f32::NAN, f32::INFINITY, -0.0, 1e-42]),
            RawTensor::from_f64(&[2, 1, 2], &[0.1, -1e300, 5e-324, 3.0]),
            RawTensor::from_i64(&[3], &[i64::MIN, 0, i64::MAX]),
            RawTensor::from_f64(&[0], &[]),
        ];
        for t in ts {
            let back = from_npy_bytes(&to_npy_bytes(&t)).unwrap();
            assert_eq!(back.data, t.data);
            assert_eq!(back.shape, t.shape);
            assert_eq!(back.dtype, t.dtype);
        }
    }

    #[test]
    fn reads_header_variants() {
        let data = [0u8; 8];
        // Other key order, double quotes, no trailing comma, Python 2 longs,
        // no padding or newline at all.
        let h = "{\"shape\": (2L,), \"fortran_order\": False, \"descr\": \"<f4\"}";
        let t = from_npy_bytes(&npy(h, &data)).unwrap();
        assert_eq!((t.dtype, t.shape), (RawDType::F32, vec![2]));
        let h = "{'descr':'<i8','fortran_order':False,'shape':(1 , 1 ,),}   \n";
        let t = from_npy_bytes(&npy(h, &data)).unwrap();
        assert_eq!((t.dtype, t.shape), (RawDType::I64, vec![1, 1]));
        // Versions 2.0 and 3.0 use a 4-byte length.
        for major in [2u8, 3] {
            let h = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n";
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&[major, 0]);
            b.extend_from_slice(&(h.len() as u32).to_le_bytes());
            b.extend_from_slice(h.as_bytes());
            b.extend_from_slice(&1.5f64.to_le_bytes());
            let t = from_npy_bytes(&b).unwrap();
            assert_eq!(t.to_f64_vec(), vec![1.5]);
        }
    }

    #[test]
    fn error_messages() {
        let hdr = |descr: &str, fortran: &str, shape: &str| {
            format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}\n")
        };
        let d = [0u8; 64];
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"PK\x03\x04".to_vec(), "not a .npy file: it does not start with the \\x93NUMPY magic string"),
            (b"\x93NUMPY".to_vec(), "file is 6 bytes, too short to hold the .npy version and header length"),
            (b"\x93NUMPY\x01\x00\x10".to_vec(), "file is 9 bytes, too short to hold the .npy version and header length"),
            (b"\x93NUMPY\x04\x00\x10\x00".to_vec(), "unsupported .npy format version 4.0 (this reader handles 1.0, 2.0 and 3.0)"),
            (b"\x93NUMPY\x01\x00\x10\x00{}".to_vec(), "header length field says 16 bytes but only 2 bytes follow it (the file is truncated)"),
            (npy(&hdr("<f4", "True", "(2, 3)"), &d[..24]), "Fortran-ordered arrays (fortran_order: True) are not supported; re-save the array in C order with np.save(path, np.ascontiguousarray(a))"),
            (npy(&hdr(">f4", "False", "(2,)"), &d[..8]), "big-endian dtype '>f4' is not supported; re-save the array as little-endian, e.g. np.save(path, a.astype(a.dtype.newbyteorder('<')))"),
            (npy(&hdr("<i4", "False", "(2,)"), &d[..8]), "dtype '<i4' is not supported (this reader handles '<f4', '<f8' and '<i8'); re-save the array with a.astype(np.float32)"),
            (npy(&hdr("|O", "False", "(2,)"), &d[..8]), "dtype '|O' is not supported (this reader handles '<f4', '<f8' and '<i8'); re-save the array with a.astype(np.float32)"),
            (npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", &d[..8]), "the .npy header describes a structured dtype (descr is a list), which is not supported"),
            (npy(&hdr("<f4", "False", "(2, 3)"), &d[..20]), "data is 20 bytes but shape (2, 3) of '<f4' needs 24 bytes (the file is truncated)"),
            (npy(&hdr("<f4", "False", "()"), &d[..8]), "data is 8 bytes but shape () of '<f4' needs 4 bytes (extra bytes after the array)"),
            (npy(&hdr("<f8", "False", "(4294967296, 4294967296)"), &[]), "shape (4294967296, 4294967296) of '<f8' has more bytes than fit in memory"),
            (npy(&hdr("<f8", "False", "(99999999999999999999999,)"), &[]), "malformed .npy header {'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }: expected a dimension that fits in memory at header byte 51, found '9'"),
            (npy(&hdr("<f4", "False", "(5)"), &d[..20]), "the .npy header's 'shape' must be a tuple of integers such as (2, 3), found an integer"),
            (npy(&hdr("<f4", "False", "(-1,)"), &[]), "malformed .npy header {'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }: expected a non-negative integer at header byte 51, found '-'"),
            (npy(&hdr("<f4", "0", "(1,)"), &d[..4]), "the .npy header's 'fortran_order' must be True or False, found an integer"),
            (npy("{'descr': 4, 'fortran_order': False, 'shape': (), }", &d[..4]), "the .npy header's 'descr' must be a string such as '<f4', found an integer"),
            (npy("{'descr': '<f4', 'shape': (), }", &d[..4]), "the .npy header has no 'fortran_order' key"),
            (npy("{'descr': '<f4', 'fortran_order': False, }", &d[..4]), "the .npy header has no 'shape' key"),
            (npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", &d[..4]), "the .npy header has the key 'descr' twice"),
            (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", &d[..4]), "unexpected key 'x' in the .npy header"),
            (npy("{'descr': '<f4' 'fortran_order': False}", &[]), "malformed .npy header {'descr': '<f4' 'fortran_order': False}: expected ',' or '}' after a value at header byte 16, found '''"),
            (npy("{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", &[]), "malformed .npy header {'descr': '<f4', 'fortran_order': False, 'shape': ()} x: expected only spaces and a newline after the closing '}' at header byte 54, found 'x'"),
            (npy("{'descr': '<f4", &[]), "malformed .npy header {'descr': '<f4: expected the closing quote of a simple string at header byte 14, found end of header"),
            (npy("", &[]), "malformed .npy header : expected '{' at header byte 0, found end of header"),
            (npy("{'descr': '<f4', 'fortran_order': false}", &[]), "malformed .npy header {'descr': '<f4', 'fortran_order': false}: expected a string, True, False or a tuple at header byte 34, found 'f'"),
        ];
        for (bytes, want) in &cases {
            assert_eq!(&err_of(bytes), want);
        }
        let kind = |b: &[u8]| from_npy_bytes(b).unwrap_err().kind();
        assert_eq!(kind(&cases[5].0), FormatErrorKind::Unsupported);
        assert_eq!(kind(&cases[6].0), FormatErrorKind::Unsupported);
        assert_eq!(kind(&cases[0].0), FormatErrorKind::Corrupt);
    }

    #[test]
    fn save_and_load_file() {
        let dir = std::env::temp_dir().join(format!("minimax-npy-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.npy");
        let t = RawTensor::from_f64(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        save_npy(&path, &t).unwrap();
        assert_eq!(load_npy(&path).unwrap(), t);
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.npy")]);
        fs::write(&path, b"hello").unwrap();
        assert_eq!(
            load_npy(&path).unwrap_err().to_string(),
            format!(
                "{}: not a .npy file: it does not start with the \\x93NUMPY magic string",
                path.display()
            )
        );
        let mut bad = t.clone();
        bad.data.pop();
        assert_eq!(
            save_npy(&path, &bad).unwrap_err().to_string(),
            format!(
                "{}: data is 31 bytes but shape [2, 2] of F64 needs 32 bytes",
                path.display()
            )
        );
        assert_eq!(
            load_npy(&dir.join("nope.npy")).unwrap_err().kind(),
            FormatErrorKind::Io
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    #[should_panic(
        expected = "npy::to_npy_bytes: data is 3 bytes but shape [1] of F32 needs 4 bytes"
    )]
    fn to_npy_bytes_panics_on_invalid_tensor() {
        to_npy_bytes(&RawTensor {
            dtype: RawDType::F32,
            shape: vec![1],
            data: vec![0; 3],
        });
    }

    fn arb_npy() -> impl Strategy<Value = Vec<u8>> {
        (prop::collection::vec(0usize..4, 0..4), 0..3u8, any::<u64>()).prop_map(
            |(shape, d, seed)| {
                let n: usize = shape.iter().product();
                let t = match d {
                    0 => RawTensor::from_f32(&shape, &vec![seed as f32; n]),
                    1 => RawTensor::from_f64(&shape, &vec![seed as f64; n]),
                    _ => RawTensor::from_i64(&shape, &vec![seed as i64; n]),
                };
                to_npy_bytes(&t)
            },
        )
    }

    proptest! {
        #[test]
        fn truncated_files_never_panic(b in arb_npy(), cut in any::<prop::sample::Index>()) {
            let n = cut.index(b.len());
            prop_assert!(from_npy_bytes(&b[..n]).is_err());
        }

        #[test]
        fn bit_flipped_files_never_panic(b in arb_npy(), flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4)) {
            let mut b = b;
            for (i, bit) in flips {
                let i = i.index(b.len());
                b[i] ^= 1 << bit;
            }
            let _ = from_npy_bytes(&b);
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = from_npy_bytes(&bytes);
            let mut with_magic = b"\x93NUMPY\x01\x00".to_vec();
            with_magic.extend_from_slice(&bytes);
            let _ = from_npy_bytes(&with_magic);
        }

        #[test]
        fn random_headers_never_panic(
            h in r#"[{}()'",:0-9a-zA-Z<>| _\n]{0,80}"#,
            data in prop::collection::vec(any::<u8>(), 0..32),
        ) {
            let _ = from_npy_bytes(&npy(&h, &data));
        }

        #[test]
        fn round_trip_random(shape in prop::collection::vec(0usize..5, 0..4), vals in prop::collection::vec(any::<f64>(), 0..64)) {
            let n: usize = shape.iter().product();
            let v: Vec<f64> = vals.iter().copied().cycle().take(if vals.is_empty() { 0 } else { n }).collect();
            prop_assume!(v.len() == n);
            let t = RawTensor::from_f64(&shape, &v);
            let b = to_npy_bytes(&t);
            prop_assert_eq!((b.len() - t.data.len()) % ALIGN, 0);
            prop_assert_eq!(from_npy_bytes(&b).unwrap(), t);
        }
    }
}
