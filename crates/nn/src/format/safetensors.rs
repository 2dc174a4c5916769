//! The [safetensors](https://github.com/huggingface/safetensors) format.
//!
//! Layout: an 8-byte little-endian `u64` header length `N`; `N` bytes of
//! UTF-8 JSON header; then the data section. The header is an object mapping
//! each tensor name to `{"dtype": "F32", "shape": [2, 3], "data_offsets":
//! [begin, end]}`, with offsets relative to the start of the data section,
//! plus an optional `"__metadata__"` object of string → string.
//!
//! The writer follows the reference implementation: tensors sorted by name and
//! laid out contiguously in that order, `"__metadata__"` first (omitted when
//! empty), compact JSON, the header padded with spaces to a multiple of 8
//! bytes. Files it writes load in the Python `safetensors` package.
//!
//! The reader validates the whole file before copying any data and reports
//! every problem as a [`FormatError`] naming the tensor: truncation, an
//! oversized header (over [`MAX_HEADER_SIZE`]), bad UTF-8 or JSON, missing or
//! mistyped fields, unsupported dtypes, shape overflow, bad or out-of-range
//! offsets, byte lengths that do not match the shape, overlaps, holes or
//! trailing bytes (like the reference, the tensors must tile the data section
//! exactly), duplicate names, and non-string metadata. As in the reference,
//! unknown fields inside a tensor entry are ignored and a `null`
//! `"__metadata__"` counts as no metadata. Only
//! [`RawDType`]s `F32`, `F64` and `I64` are supported; other safetensors
//! dtypes are reported as unsupported.

use std::collections::HashSet;
use std::path::Path;

use super::json::{self, Json};
use super::{checked_numel, read_file, shape_str, write_atomic};
use super::{FormatError, FormatErrorKind, RawDType, RawTensor};

/// Largest header the reader accepts, in bytes (the reference
/// implementation's limit).
pub const MAX_HEADER_SIZE: u64 = 100_000_000;

/// Header key holding the string → string metadata.
pub const METADATA_KEY: &str = "__metadata__";

/// Named tensors, as returned by [`deserialize`] and [`load`].
pub type NamedTensors = Vec<(String, RawTensor)>;

/// Metadata key/value pairs, as returned by [`deserialize`] and [`load`].
pub type Metadata = Vec<(String, String)>;

fn corrupt(message: impl Into<String>) -> FormatError {
    FormatError::new(FormatErrorKind::Corrupt, message)
}

fn invalid(message: impl Into<String>) -> FormatError {
    FormatError::new(FormatErrorKind::InvalidInput, message)
}

/// Serializes tensors and metadata to safetensors bytes.
///
/// Tensors are written sorted by name whatever their order in `tensors`;
/// metadata entries are written in the given order, and the `__metadata__`
/// block is omitted when `metadata` is empty.
///
/// # Panics
///
/// Panics with the [`try_serialize`] error message if the input is invalid
/// (a tensor whose data length does not match its shape, a duplicate tensor
/// name or metadata key, or a tensor named `__metadata__`). Use
/// [`try_serialize`] or [`save`] to get an error instead.
pub fn serialize(tensors: &[(String, RawTensor)], metadata: &[(String, String)]) -> Vec<u8> {
    match try_serialize(tensors, metadata) {
        Ok(bytes) => bytes,
        Err(e) => panic!("safetensors::serialize: {e}"),
    }
}

/// Like [`serialize`], but returns an [`FormatErrorKind::InvalidInput`] error
/// instead of panicking on invalid input.
pub fn try_serialize(
    tensors: &[(String, RawTensor)],
    metadata: &[(String, String)],
) -> Result<Vec<u8>, FormatError> {
    for (name, t) in tensors {
        if name == METADATA_KEY {
            return Err(invalid(format!(
                "the name \"{METADATA_KEY}\" is reserved for the metadata block"
            ))
            .with_tensor(name));
        }
        t.validate().map_err(|e| e.with_tensor(name))?;
    }
    let mut order: Vec<usize> = (0..tensors.len()).collect();
    order.sort_by(|&a, &b| tensors[a].0.cmp(&tensors[b].0));
    for w in order.windows(2) {
        if tensors[w[0]].0 == tensors[w[1]].0 {
            return Err(invalid("two tensors have this name").with_tensor(&tensors[w[0]].0));
        }
    }
    let mut seen = HashSet::new();
    for (k, _) in metadata {
        if !seen.insert(k.as_str()) {
            return Err(invalid(format!("metadata key \"{k}\" appears twice")));
        }
    }

    let mut header = String::from("{");
    if !metadata.is_empty() {
        json::write_string(METADATA_KEY, &mut header);
        header.push_str(":{");
        for (i, (k, v)) in metadata.iter().enumerate() {
            if i > 0 {
                header.push(',');
            }
            json::write_string(k, &mut header);
            header.push(':');
            json::write_string(v, &mut header);
        }
        header.push('}');
    }
    let mut offset = 0usize;
    for (i, &ti) in order.iter().enumerate() {
        let (name, t) = &tensors[ti];
        if i > 0 || !metadata.is_empty() {
            header.push(',');
        }
        json::write_string(name, &mut header);
        let dims: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
        let end = offset + t.data.len();
        header.push_str(&format!(
            ":{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
            t.dtype.name(),
            dims.join(","),
            offset,
            end
        ));
        offset = end;
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }

    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for &ti in &order {
        out.extend_from_slice(&tensors[ti].1.data);
    }
    Ok(out)
}

/// Writes a safetensors file atomically (temporary file in the same
/// directory, then rename over `path`). Errors name `path`.
pub fn save(
    path: &Path,
    tensors: &[(String, RawTensor)],
    metadata: &[(String, String)],
) -> Result<(), FormatError> {
    let bytes = try_serialize(tensors, metadata).map_err(|e| e.with_file(path))?;
    write_atomic(path, &bytes)
}

/// Reads and validates a safetensors file. Errors name `path`.
///
/// Returns the same as [`deserialize`].
pub fn load(path: &Path) -> Result<(NamedTensors, Metadata), FormatError> {
    let bytes = read_file(path)?;
    deserialize(&bytes).map_err(|e| e.with_file(path))
}

/// One validated header entry.
struct Entry {
    name: String,
    dtype: RawDType,
    shape: Vec<usize>,
    begin: usize,
    end: usize,
}

/// Parses and validates safetensors bytes.
///
/// Returns the tensors in the order of their data in the file (for files
/// written by [`serialize`], sorted by name) and the metadata in header order.
/// Never panics; see the module documentation for what is checked.
pub fn deserialize(bytes: &[u8]) -> Result<(NamedTensors, Metadata), FormatError> {
    if bytes.len() < 8 {
        return Err(corrupt(format!(
            "file is {} bytes, too short to be a safetensors file (it must start with an 8-byte header length)",
            bytes.len()
        )));
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&bytes[..8]);
    let header_len = u64::from_le_bytes(len_bytes);
    if header_len > MAX_HEADER_SIZE {
        return Err(corrupt(format!(
            "header length field says {header_len} bytes, more than the {MAX_HEADER_SIZE}-byte limit (the file is corrupt or not a safetensors file)"
        )));
    }
    let rest = bytes.len() - 8;
    if header_len > rest as u64 {
        return Err(corrupt(format!(
            "header length field says {header_len} bytes but only {rest} bytes follow it (the file is truncated or not a safetensors file)"
        )));
    }
    let header_len = header_len as usize;
    let header_bytes = &bytes[8..8 + header_len];
    let data = &bytes[8 + header_len..];

    let header_text = std::str::from_utf8(header_bytes).map_err(|e| {
        corrupt(format!(
            "header is not valid UTF-8 (bad byte at header offset {})",
            e.valid_up_to()
        ))
    })?;
    let header = Json::parse(header_text).map_err(|e| {
        corrupt(format!(
            "header is not valid JSON: at header byte {}: {}",
            e.pos, e.message
        ))
    })?;
    let Json::Object(items) = header else {
        return Err(corrupt(format!(
            "header must be a JSON object mapping tensor names to entries, found {}",
            header.type_name()
        )));
    };

    let mut metadata: Option<Metadata> = None;
    let mut entries = Vec::with_capacity(items.len());
    let mut names = HashSet::with_capacity(items.len());
    for (name, value) in &items {
        if name == METADATA_KEY {
            if metadata.is_some() {
                return Err(corrupt(format!(
                    "\"{METADATA_KEY}\" appears twice in the header"
                )));
            }
            metadata = Some(parse_metadata(value)?);
            continue;
        }
        if !names.insert(name.as_str()) {
            return Err(corrupt("tensor appears twice in the header").with_tensor(name));
        }
        let entry = parse_entry(name, value, data.len()).map_err(|e| e.with_tensor(name))?;
        entries.push(entry);
    }

    // The tensors must tile the data section exactly: no overlap, no hole, no
    // trailing bytes. Sorting by (begin, end) puts empty tensors before a
    // non-empty one starting at the same offset.
    entries.sort_by_key(|e| (e.begin, e.end));
    let mut covered = 0usize;
    let mut prev: Option<&Entry> = None;
    for e in &entries {
        if e.begin > covered {
            return Err(corrupt(format!(
                "data_offsets [{}, {}) leave bytes [{}, {}) of the data section unused (safetensors requires the tensors to cover the data section contiguously)",
                e.begin, e.end, covered, e.begin
            ))
            .with_tensor(&e.name));
        }
        if e.begin < covered {
            // `covered > 0`, so a previous entry exists.
            let (pname, pb, pe) = prev.map_or(("?", 0, 0), |p| (p.name.as_str(), p.begin, p.end));
            return Err(corrupt(format!(
                "data_offsets [{}, {}) overlap tensor '{}' at [{}, {})",
                e.begin, e.end, pname, pb, pe
            ))
            .with_tensor(&e.name));
        }
        covered = e.end;
        prev = Some(e);
    }
    if covered != data.len() {
        return Err(corrupt(format!(
            "data section is {} bytes but the tensors cover only the first {} (the last {} bytes belong to no tensor)",
            data.len(),
            covered,
            data.len() - covered
        )));
    }

    let tensors = entries
        .into_iter()
        .map(|e| {
            let t = RawTensor {
                dtype: e.dtype,
                shape: e.shape,
                data: data[e.begin..e.end].to_vec(),
            };
            (e.name, t)
        })
        .collect();
    Ok((tensors, metadata.unwrap_or_default()))
}

/// Validates the `__metadata__` value: an object of strings, or `null`
/// (accepted like the reference implementation does, as no metadata).
fn parse_metadata(value: &Json) -> Result<Metadata, FormatError> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let Json::Object(items) = value else {
        return Err(corrupt(format!(
            "\"{METADATA_KEY}\" must be an object of string values, found {}",
            value.type_name()
        )));
    };
    let mut seen = HashSet::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for (k, v) in items {
        if !seen.insert(k.as_str()) {
            return Err(corrupt(format!(
                "\"{METADATA_KEY}\" has the key \"{k}\" twice"
            )));
        }
        let Json::String(s) = v else {
            return Err(corrupt(format!(
                "\"{METADATA_KEY}\" value for key \"{k}\" must be a string, found {}",
                v.type_name()
            )));
        };
        out.push((k.clone(), s.clone()));
    }
    Ok(out)
}

/// Short rendering of a JSON value for error messages.
fn snippet(v: &Json) -> String {
    let s = v.to_json_string();
    if s.len() <= 60 {
        s
    } else {
        let mut cut = 57;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &s[..cut])
    }
}

fn parse_entry(name: &str, value: &Json, data_len: usize) -> Result<Entry, FormatError> {
    let Json::Object(fields) = value else {
        return Err(corrupt(format!(
            "header entry must be an object with \"dtype\", \"shape\" and \"data_offsets\", found {}",
            value.type_name()
        )));
    };
    let field = |key: &str| -> Result<&Json, FormatError> {
        let mut found = fields.iter().filter(|(k, _)| k == key).map(|(_, v)| v);
        match (found.next(), found.next()) {
            (Some(v), None) => Ok(v),
            (None, _) => Err(corrupt(format!("header entry has no \"{key}\" field"))),
            (Some(_), Some(_)) => Err(corrupt(format!(
                "header entry has the \"{key}\" field twice"
            ))),
        }
    };

    let dtype_json = field("dtype")?;
    let Json::String(dtype_name) = dtype_json else {
        return Err(corrupt(format!(
            "\"dtype\" must be a string such as \"F32\", found {}",
            dtype_json.type_name()
        )));
    };
    let dtype = RawDType::from_name(dtype_name).ok_or_else(|| {
        FormatError::new(
            FormatErrorKind::Unsupported,
            format!("unsupported dtype \"{dtype_name}\" (this reader handles F32, F64 and I64)"),
        )
    })?;

    let shape_json = field("shape")?;
    let bad_shape = || {
        corrupt(format!(
            "\"shape\" must be an array of non-negative integers, found {}",
            snippet(shape_json)
        ))
    };
    let dims = shape_json.as_array().ok_or_else(bad_shape)?;
    let mut shape = Vec::with_capacity(dims.len().min(64));
    for d in dims {
        let d = d.as_u64().ok_or_else(bad_shape)?;
        shape.push(usize::try_from(d).map_err(|_| bad_shape())?);
    }
    let nbytes = checked_numel(&shape)
        .and_then(|n| n.checked_mul(dtype.size_of()))
        .ok_or_else(|| {
            corrupt(format!(
                "shape {} of {} has more bytes than fit in memory",
                shape_str(&shape),
                dtype
            ))
        })?;

    let offsets_json = field("data_offsets")?;
    let bad_offsets = || {
        corrupt(format!(
            "\"data_offsets\" must be two non-negative integers [begin, end], found {}",
            snippet(offsets_json)
        ))
    };
    let (begin, end) = match offsets_json.as_array() {
        Some([b, e]) => match (b.as_u64(), e.as_u64()) {
            (Some(b), Some(e)) => (b, e),
            _ => return Err(bad_offsets()),
        },
        _ => return Err(bad_offsets()),
    };
    if begin > end {
        return Err(corrupt(format!(
            "data_offsets [{begin}, {end}) begin after they end"
        )));
    }
    if end > data_len as u64 {
        return Err(corrupt(format!(
            "data_offsets [{begin}, {end}) end beyond the data section, which is {data_len} bytes (the file may be truncated)"
        )));
    }
    // Both fit in usize now, since end <= data_len.
    let (begin, end) = (begin as usize, end as usize);
    if end - begin != nbytes {
        return Err(corrupt(format!(
            "data_offsets [{begin}, {end}) but shape {} of {} needs {} bytes",
            shape_str(&shape),
            dtype,
            nbytes
        )));
    }
    Ok(Entry {
        name: name.to_owned(),
        dtype,
        shape,
        begin,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::fs;

    fn named(name: &str, t: RawTensor) -> (String, RawTensor) {
        (name.to_owned(), t)
    }

    /// Bytes of a safetensors file with the given header text and data.
    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn err_of(bytes: &[u8]) -> String {
        deserialize(bytes).unwrap_err().to_string()
    }

    fn sample() -> Vec<(String, RawTensor)> {
        vec![
            named(
                "gen.0.weight",
                RawTensor::from_f32(&[2, 3], &[1.0, 2.0, 3.0, -4.0, 5.5, 6.0]),
            ),
            named("gen.0.bias", RawTensor::from_f64(&[3], &[0.1, 0.2, -0.3])),
            named("step", RawTensor::from_i64(&[], &[12345])),
            named("empty", RawTensor::from_f32(&[0, 4], &[])),
            named(
                "héllo ünïcode \"q\"",
                RawTensor::from_i64(&[2], &[-1, i64::MAX]),
            ),
        ]
    }

    #[test]
    fn exact_bytes_match_reference_implementation() {
        // Generated by the Python `safetensors` package:
        //   safetensors.numpy.save({"b": np.arange(2, dtype=np.float32),
        //                           "a": np.zeros((1,), dtype=np.float64)},
        //                          metadata={"k": "v"})
        let reference: &[u8] = b"\x88\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}   \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80?";
        let tensors = vec![
            named("b", RawTensor::from_f32(&[2], &[0.0, 1.0])),
            named("a", RawTensor::from_f64(&[1], &[0.0])),
        ];
        let meta = vec![("k".to_owned(), "v".to_owned())];
        let bytes = serialize(&tensors, &meta);
        assert_eq!(bytes, reference);
        let (back, m) = deserialize(reference).unwrap();
        assert_eq!(m, meta);
        assert_eq!(back[0], tensors[1]);
        assert_eq!(back[1], tensors[0]);
    }

    #[test]
    fn exact_bytes_by_hand() {
        let t = vec![named("x", RawTensor::from_f32(&[2], &[1.0, -2.0]))];
        let bytes = serialize(&t, &[]);
        let json = r#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        assert_eq!(json.len(), 54);
        // Header padded with two spaces to 56, a multiple of 8.
        assert_eq!(&bytes[..8], &56u64.to_le_bytes());
        assert_eq!(&bytes[8..62], json.as_bytes());
        assert_eq!(&bytes[62..64], b"  ");
        assert_eq!(&bytes[64..], &[0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
        assert_eq!(bytes.len(), 72);

        // No tensors, no metadata: "{}" padded to 8.
        assert_eq!(serialize(&[], &[]), b"\x08\0\0\0\0\0\0\0{}      ");
        assert_eq!(
            deserialize(b"\x08\0\0\0\0\0\0\0{}      ").unwrap(),
            (vec![], vec![])
        );
        // Header already a multiple of 8: no padding.
        let t = vec![named("abc", RawTensor::from_f32(&[1], &[0.0]))];
        let h = r#"{"abc":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        assert_eq!(h.len() % 8, 0);
        assert_eq!(
            &serialize(&t, &[])[8..8 + h.len() + 1],
            format!("{h}\0").as_bytes()
        );
    }

    #[test]
    fn writer_sorts_by_name_and_lays_out_contiguously() {
        let tensors = sample();
        let bytes = serialize(&tensors, &[]);
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!(n % 8, 0);
        let header = Json::parse(std::str::from_utf8(&bytes[8..8 + n]).unwrap()).unwrap();
        let items = header.as_object().unwrap();
        let names: Vec<&str> = items.iter().map(|(k, _)| k.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        let mut expect = 0;
        for (_, v) in items {
            let offs = v.get("data_offsets").unwrap().as_array().unwrap();
            assert_eq!(offs[0].as_u64(), Some(expect));
            expect = offs[1].as_u64().unwrap();
        }
        assert_eq!(expect as usize, bytes.len() - 8 - n);
    }

    #[test]
    fn round_trip_in_memory() {
        let tensors = sample();
        let meta = vec![
            ("format".to_owned(), "pt".to_owned()),
            ("note".to_owned(), "line1\nline2 \"quoted\" é".to_owned()),
        ];
        let (back, m) = deserialize(&serialize(&tensors, &meta)).unwrap();
        assert_eq!(m, meta);
        let mut want = tensors.clone();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(back, want);
        let w = &back.iter().find(|(n, _)| n == "gen.0.weight").unwrap().1;
        assert_eq!(w.shape, vec![2, 3]);
        assert_eq!(w.to_f32_vec(), vec![1.0, 2.0, 3.0, -4.0, 5.5, 6.0]);
    }

    #[test]
    fn save_and_load_file() {
        let dir = std::env::temp_dir().join(format!("minimax-st-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ckpt.safetensors");
        let tensors = sample();
        save(&path, &tensors, &[("epoch".into(), "3".into())]).unwrap();
        // Overwrite in place.
        save(&path, &tensors[..2], &[]).unwrap();
        let (back, meta) = load(&path).unwrap();
        assert!(meta.is_empty());
        assert_eq!(back.len(), 2);
        let entries: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(entries, vec![std::ffi::OsString::from("ckpt.safetensors")]);

        // Errors from load/save name the path.
        let p = path.display().to_string();
        fs::write(&path, b"\x05\0\0\0\0\0\0\0{}").unwrap();
        assert_eq!(
            load(&path).unwrap_err().to_string(),
            format!("{p}: header length field says 5 bytes but only 2 bytes follow it (the file is truncated or not a safetensors file)")
        );
        let missing = dir.join("missing.safetensors");
        let e = load(&missing).unwrap_err();
        assert_eq!(e.kind(), FormatErrorKind::Io);
        assert!(e
            .to_string()
            .starts_with(&format!("{}: cannot read file: ", missing.display())));
        let mut bad = RawTensor::from_f32(&[10, 11], &[0.0; 110]);
        bad.data.truncate(400);
        let e = save(&path, &[named("gen.0.weight", bad)], &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{p}: tensor 'gen.0.weight': data is 400 bytes but shape [10, 11] of F32 needs 440 bytes")
        );
        // The failed save left the previous file alone.
        assert_eq!(fs::read(&path).unwrap(), b"\x05\0\0\0\0\0\0\0{}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writer_rejects_invalid_input() {
        let t = RawTensor::from_f32(&[1], &[0.0]);
        let e = try_serialize(&[named("a", t.clone()), named("a", t.clone())], &[]).unwrap_err();
        assert_eq!(e.kind(), FormatErrorKind::InvalidInput);
        assert_eq!(e.to_string(), "tensor 'a': two tensors have this name");
        let e = try_serialize(&[named(METADATA_KEY, t.clone())], &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "tensor '__metadata__': the name \"__metadata__\" is reserved for the metadata block"
        );
        let meta = vec![
            ("k".to_owned(), "1".to_owned()),
            ("k".to_owned(), "2".to_owned()),
        ];
        assert_eq!(
            try_serialize(&[], &meta).unwrap_err().to_string(),
            "metadata key \"k\" appears twice"
        );
    }

    #[test]
    #[should_panic(expected = "safetensors::serialize: tensor 'a': two tensors have this name")]
    fn serialize_panics_on_invalid_input() {
        let t = RawTensor::from_f32(&[1], &[0.0]);
        serialize(&[named("a", t.clone()), named("a", t)], &[]);
    }

    #[test]
    fn error_messages() {
        let d16 = [0u8; 16];
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![1, 2, 3], "file is 3 bytes, too short to be a safetensors file (it must start with an 8-byte header length)"),
            (u64::MAX.to_le_bytes().to_vec(), "header length field says 18446744073709551615 bytes, more than the 100000000-byte limit (the file is corrupt or not a safetensors file)"),
            (file("{\"a\":1}", &[])[..10].to_vec(), "header length field says 7 bytes but only 2 bytes follow it (the file is truncated or not a safetensors file)"),
            ({ let mut f = file("{}", &[]); f[9] = 0xff; f }, "header is not valid UTF-8 (bad byte at header offset 1)"),
            (file("{\"a\":}", &[]), "header is not valid JSON: at header byte 5: unexpected character '}' where a value was expected"),
            (file("", &[]), "header is not valid JSON: at header byte 0: unexpected end of input where a value was expected"),
            (file("[1,2]", &[]), "header must be a JSON object mapping tensor names to entries, found array"),
            (file(r#"{"w":[]}"#, &[]), "tensor 'w': header entry must be an object with \"dtype\", \"shape\" and \"data_offsets\", found array"),
            (file(r#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, &d16[..4]), "tensor 'w': header entry has no \"dtype\" field"),
            (file(r#"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, &d16[..4]), "tensor 'w': header entry has no \"shape\" field"),
            (file(r#"{"w":{"dtype":"F32","shape":[1]}}"#, &d16[..4]), "tensor 'w': header entry has no \"data_offsets\" field"),
            (file(r#"{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, &d16[..4]), "tensor 'w': header entry has the \"dtype\" field twice"),
            (file(r#"{"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}"#, &d16[..4]), "tensor 'w': \"dtype\" must be a string such as \"F32\", found number"),
            (file(r#"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, &d16[..4]), "tensor 'w': unsupported dtype \"F16\" (this reader handles F32, F64 and I64)"),
            (file(r#"{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}"#, &d16[..4]), "tensor 'w': unsupported dtype \"f32\" (this reader handles F32, F64 and I64)"),
            (file(r#"{"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#, &d16[..4]), "tensor 'w': \"shape\" must be an array of non-negative integers, found \"1\""),
            (file(r#"{"w":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,4]}}"#, &d16[..4]), "tensor 'w': \"shape\" must be an array of non-negative integers, found [2,-1]"),
            (file(r#"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, &d16[..4]), "tensor 'w': \"shape\" must be an array of non-negative integers, found [1.5]"),
            (file(r#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, &d16[..4]), "tensor 'w': shape [4294967296, 4294967296] of F32 has more bytes than fit in memory"),
            (file(r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, &d16[..4]), "tensor 'w': \"data_offsets\" must be two non-negative integers [begin, end], found [0]"),
            (file(r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, &d16[..4]), "tensor 'w': \"data_offsets\" must be two non-negative integers [begin, end], found [0,4,8]"),
            (file(r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, &d16[..4]), "tensor 'w': \"data_offsets\" must be two non-negative integers [begin, end], found [-4,0]"),
            (file(r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":{"begin":0}}}"#, &d16[..4]), "tensor 'w': \"data_offsets\" must be two non-negative integers [begin, end], found {\"begin\":0}"),
            (file(r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, &d16[..8]), "tensor 'w': data_offsets [8, 4) begin after they end"),
            (file(r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, &d16[..2]), "tensor 'w': data_offsets [0, 4) end beyond the data section, which is 2 bytes (the file may be truncated)"),
            (file(r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,1e300]}}"#, &d16[..2]), "tensor 'w': \"data_offsets\" must be two non-negative integers [begin, end], found [0,1e300]"),
            (file(r#"{"gen.0.weight":{"dtype":"F32","shape":[10,11],"data_offsets":[0,400]}}"#, &[0u8; 400]), "tensor 'gen.0.weight': data_offsets [0, 400) but shape [10, 11] of F32 needs 440 bytes"),
            (file(r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, &d16[..8]), "tensor 'w': tensor appears twice in the header"),
            (file(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, &d16[..12]), "tensor 'b': data_offsets [4, 12) overlap tensor 'a' at [0, 8)"),
            (file(r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, &d16[..12]), "tensor 'b': data_offsets [8, 12) leave bytes [4, 8) of the data section unused (safetensors requires the tensors to cover the data section contiguously)"),
            (file(r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, &d16[..8]), "tensor 'a': data_offsets [4, 8) leave bytes [0, 4) of the data section unused (safetensors requires the tensors to cover the data section contiguously)"),
            (file(r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, &d16[..6]), "data section is 6 bytes but the tensors cover only the first 4 (the last 2 bytes belong to no tensor)"),
            (file("{}", &d16[..3]), "data section is 3 bytes but the tensors cover only the first 0 (the last 3 bytes belong to no tensor)"),
            (file(r#"{"__metadata__":["x"]}"#, &[]), "\"__metadata__\" must be an object of string values, found array"),
            (file(r#"{"__metadata__":{"epoch":3}}"#, &[]), "\"__metadata__\" value for key \"epoch\" must be a string, found number"),
            (file(r#"{"__metadata__":{"k":"a","k":"b"}}"#, &[]), "\"__metadata__\" has the key \"k\" twice"),
            (file(r#"{"__metadata__":{},"__metadata__":{}}"#, &[]), "\"__metadata__\" appears twice in the header"),
        ];
        for (bytes, want) in &cases {
            assert_eq!(&err_of(bytes), want);
        }
        let e = deserialize(&file(
            r#"{"w":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}"#,
            &d16[..2],
        ))
        .unwrap_err();
        assert_eq!(e.kind(), FormatErrorKind::Unsupported);
        assert_eq!(e.tensor(), Some("w"));
        assert_eq!(
            deserialize(&[0; 4]).unwrap_err().kind(),
            FormatErrorKind::Corrupt
        );
    }

    #[test]
    fn accepts_valid_variations() {
        // A null "__metadata__" means none, as in the reference.
        let (t, m) = deserialize(&file(r#"{"__metadata__":null}"#, &[])).unwrap();
        assert!(t.is_empty() && m.is_empty());
        // Unknown entry fields are ignored (as in the reference), offsets may
        // be in any key order, whitespace and zero-size tensors anywhere.
        let data: Vec<u8> = (0..12).collect();
        let h = r#" { "b" : {"data_offsets":[4,12],"shape":[1],"dtype":"F64","extra":null},
            "z": {"dtype":"I64","shape":[0,3],"data_offsets":[4,4]},
            "a": {"dtype":"F32","shape":[],"data_offsets":[0,4]} }  "#;
        let (t, m) = deserialize(&file(h, &data)).unwrap();
        assert!(m.is_empty());
        let names: Vec<&str> = t.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["a", "z", "b"]);
        assert_eq!(t[0].1.shape, Vec::<usize>::new());
        assert_eq!(t[0].1.data, vec![0, 1, 2, 3]);
        assert_eq!(t[1].1.shape, vec![0, 3]);
        assert!(t[1].1.data.is_empty());
        assert_eq!(t[2].1.data, (4..12).collect::<Vec<u8>>());
    }

    fn arb_tensor() -> impl Strategy<Value = RawTensor> {
        let shape = prop::collection::vec(0usize..4, 0..4);
        (shape, 0..3u8).prop_flat_map(|(shape, d)| {
            let n: usize = shape.iter().product();
            match d {
                0 => prop::collection::vec(any::<f32>(), n)
                    .prop_map(move |v| RawTensor::from_f32(&shape, &v))
                    .boxed(),
                1 => prop::collection::vec(any::<f64>(), n)
                    .prop_map(move |v| RawTensor::from_f64(&shape, &v))
                    .boxed(),
                _ => prop::collection::vec(any::<i64>(), n)
                    .prop_map(move |v| RawTensor::from_i64(&shape, &v))
                    .boxed(),
            }
        })
    }

    fn arb_file() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::btree_map("[a-z.0-9]{0,8}", arb_tensor(), 0..5),
            prop::collection::vec(("[a-z]{1,5}", ".{0,6}"), 0..3),
        )
            .prop_map(|(tensors, meta)| {
                let tensors: Vec<_> = tensors.into_iter().collect();
                let mut seen = HashSet::new();
                let meta: Vec<_> = meta
                    .into_iter()
                    .filter(|(k, _)| seen.insert(k.clone()))
                    .collect();
                serialize(&tensors, &meta)
            })
    }

    proptest! {
        #[test]
        fn round_trip_random(
            tensors in prop::collection::btree_map(".{0,10}", arb_tensor(), 0..6),
            meta in prop::collection::btree_map(".{0,6}", ".{0,10}", 0..4),
        ) {
            let tensors: Vec<(String, RawTensor)> = tensors.into_iter().filter(|(k, _)| k != METADATA_KEY).collect();
            let meta: Vec<(String, String)> = meta.into_iter().collect();
            let (back, m) = deserialize(&serialize(&tensors, &meta)).unwrap();
            prop_assert_eq!(m, meta);
            // Our writer lays tensors out in name order, so data order is
            // name order (the BTreeMap already sorted them).
            prop_assert_eq!(back, tensors);
        }

        #[test]
        fn truncated_files_never_panic(f in arb_file(), cut in any::<prop::sample::Index>()) {
            let n = cut.index(f.len());
            prop_assert!(deserialize(&f[..n]).is_err());
        }

        #[test]
        fn bit_flipped_files_never_panic(f in arb_file(), flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4)) {
            let mut f = f;
            for (i, bit) in flips {
                let i = i.index(f.len());
                f[i] ^= 1 << bit;
            }
            let _ = deserialize(&f);
        }

        #[test]
        fn overwritten_bytes_never_panic(f in arb_file(), at in any::<prop::sample::Index>(), junk in prop::collection::vec(any::<u8>(), 1..16)) {
            let mut f = f;
            let start = at.index(f.len());
            for (k, b) in junk.into_iter().enumerate() {
                if let Some(slot) = f.get_mut(start + k) {
                    *slot = b;
                }
            }
            let _ = deserialize(&f);
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = deserialize(&bytes);
        }

        #[test]
        fn random_headers_never_panic(
            header in r#"[{}\[\]",:0-9a-zA-Z_ .\-]{0,80}"#,
            data in prop::collection::vec(any::<u8>(), 0..32),
        ) {
            let _ = deserialize(&file(&header, &data));
        }

        #[test]
        fn plausible_headers_never_panic(
            dtype in prop_oneof![Just("F32"), Just("F64"), Just("I64"), Just("U8"), Just("")],
            shape in prop::collection::vec(prop_oneof![0i64..5, Just(-1), Just(i64::MAX), Just(1 << 53)], 0..4),
            b in prop_oneof![0i64..40, Just(-1), Just(1 << 53), Just(i64::MAX)],
            e in prop_oneof![0i64..40, Just(-1), Just(1 << 53), Just(i64::MAX)],
            data_len in 0usize..40,
        ) {
            let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            let h = format!(r#"{{"t":{{"dtype":"{dtype}","shape":[{}],"data_offsets":[{b},{e}]}}}}"#, dims.join(","));
            let _ = deserialize(&file(&h, &vec![0u8; data_len]));
        }
    }
}
