//! Report output: PNG bytes decoded back (by a minimal inflate written here, and by Python's
//! zlib when python3 is installed), SVG structure and coordinates, HTML contents and base64.

use minimax_gan::report::html::{base64_encode, Report, RENDER_CHECK_SCRIPT};
use minimax_gan::report::png::{
    adler32, crc32, crc32_update, encode_png, encode_png_with, image_grid, image_grid_range,
    write_png, zlib_compress, Compression, Image, ScatterPlot, FAKE_COLOR, GRID_PAD_VALUE,
    REAL_COLOR,
};
use minimax_gan::report::svg::{LineChart, Style};
use std::path::PathBuf;
use tensor::Tensor;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("minimax-gan-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

// ---------------------------------------------------------------- a minimal inflate

struct Bits<'a> {
    data: &'a [u8],
    pos: usize, // in bits
}

impl Bits<'_> {
    fn bit(&mut self) -> u32 {
        let b = (self.data[self.pos / 8] >> (self.pos % 8)) & 1;
        self.pos += 1;
        b as u32
    }
    fn bits(&mut self, n: u32) -> u32 {
        (0..n).fold(0, |acc, i| acc | self.bit() << i)
    }
    fn huff(&mut self, n: u32) -> u32 {
        (0..n).fold(0, |acc, _| acc << 1 | self.bit())
    }
    fn fixed_symbol(&mut self) -> u32 {
        let c = self.huff(7);
        if c <= 0x17 {
            return 256 + c;
        }
        let c = c << 1 | self.bit();
        if (0x30..=0xBF).contains(&c) {
            return c - 0x30;
        }
        if (0xC0..=0xC7).contains(&c) {
            return 280 + c - 0xC0;
        }
        let c = c << 1 | self.bit();
        assert!((0x190..=0x1FF).contains(&c), "bad fixed code {c:#x}");
        144 + c - 0x190
    }
}

const LEN_BASE: [usize; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u32; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [usize; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u32; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Inflates a zlib stream made of stored and fixed-Huffman blocks, checking header and Adler-32.
fn zlib_decompress(z: &[u8]) -> Vec<u8> {
    assert_eq!(z[0] & 0x0F, 8, "CM must be deflate");
    assert_eq!((z[0] as u32 * 256 + z[1] as u32) % 31, 0, "FCHECK");
    let body = &z[2..z.len() - 4];
    let mut r = Bits { data: body, pos: 0 };
    let mut out: Vec<u8> = Vec::new();
    loop {
        let last = r.bits(1);
        match r.bits(2) {
            0 => {
                r.pos = r.pos.div_ceil(8) * 8;
                let p = r.pos / 8;
                let len = u16::from_le_bytes([body[p], body[p + 1]]);
                let nlen = u16::from_le_bytes([body[p + 2], body[p + 3]]);
                assert_eq!(nlen, !len, "stored block NLEN");
                out.extend_from_slice(&body[p + 4..p + 4 + len as usize]);
                r.pos = (p + 4 + len as usize) * 8;
            }
            1 => loop {
                let sym = r.fixed_symbol();
                if sym < 256 {
                    out.push(sym as u8);
                } else if sym == 256 {
                    break;
                } else {
                    let i = (sym - 257) as usize;
                    let len = LEN_BASE[i] + r.bits(LEN_EXTRA[i]) as usize;
                    let d = r.huff(5) as usize;
                    let dist = DIST_BASE[d] + r.bits(DIST_EXTRA[d]) as usize;
                    assert!(dist <= out.len(), "distance {dist} beyond output");
                    for _ in 0..len {
                        out.push(out[out.len() - dist]);
                    }
                }
            },
            t => panic!("block type {t} not produced by our encoder"),
        }
        if last == 1 {
            break;
        }
    }
    assert_eq!(
        r.pos.div_ceil(8),
        body.len(),
        "trailing bytes after the final block"
    );
    let tail = &z[z.len() - 4..];
    assert_eq!(
        u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]),
        adler32(&out)
    );
    out
}

/// A bitwise CRC-32, independent of the table-driven one under test.
fn crc32_slow(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

struct Decoded {
    width: u32,
    height: u32,
    bit_depth: u8,
    color_type: u8,
    pixels: Vec<u8>,
    chunk_types: Vec<String>,
}

/// Parses a PNG: signature, chunk CRCs, IHDR, IDAT inflated and unfiltered (filter 0 only).
fn decode_png(png: &[u8]) -> Decoded {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "signature");
    let mut pos = 8;
    let mut ihdr = None;
    let mut idat = Vec::new();
    let mut chunk_types = Vec::new();
    while pos < png.len() {
        let n = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &png[pos + 4..pos + 8];
        let body = &png[pos + 8..pos + 8 + n];
        let crc = u32::from_be_bytes(png[pos + 8 + n..pos + 12 + n].try_into().unwrap());
        assert_eq!(crc, crc32_slow(&png[pos + 4..pos + 8 + n]), "chunk CRC");
        chunk_types.push(String::from_utf8(kind.to_vec()).unwrap());
        match kind {
            b"IHDR" => ihdr = Some(body.to_vec()),
            b"IDAT" => idat.extend_from_slice(body),
            _ => {}
        }
        pos += 12 + n;
    }
    assert_eq!(pos, png.len());
    let h = ihdr.expect("IHDR");
    assert_eq!(h.len(), 13);
    let width = u32::from_be_bytes(h[0..4].try_into().unwrap());
    let height = u32::from_be_bytes(h[4..8].try_into().unwrap());
    assert_eq!(&h[10..13], &[0, 0, 0], "compression, filter, interlace");
    let channels = match h[9] {
        0 => 1,
        2 => 3,
        t => panic!("colour type {t}"),
    };
    let raw = zlib_decompress(&idat);
    let stride = width as usize * channels;
    assert_eq!(raw.len(), height as usize * (stride + 1));
    let mut pixels = Vec::new();
    for row in raw.chunks(stride + 1) {
        assert_eq!(row[0], 0, "filter type");
        pixels.extend_from_slice(&row[1..]);
    }
    Decoded {
        width,
        height,
        bit_depth: h[8],
        color_type: h[9],
        pixels,
        chunk_types,
    }
}

fn pseudo_random_bytes(n: usize, seed: u32) -> Vec<u8> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 24) as u8
        })
        .collect()
}

// ---------------------------------------------------------------- checksums and zlib

#[test]
fn checksums_match_known_vectors() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
    assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    assert_eq!(crc32_update(crc32(b"1234"), b"56789"), 0xCBF4_3926);
    let data = pseudo_random_bytes(10_000, 1);
    assert_eq!(crc32(&data), crc32_slow(&data));
    assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    assert_eq!(adler32(b""), 1);
    // Long input: compare with the definition computed naively modulo 65521.
    let big = vec![0xFFu8; 100_000];
    let (mut a, mut b) = (1u64, 0u64);
    for &x in &big {
        a = (a + x as u64) % 65_521;
        b = (b + a) % 65_521;
    }
    assert_eq!(adler32(&big), ((b << 16) | a) as u32);
}

#[test]
fn zlib_round_trips_in_both_modes() {
    let mut long_repeat = pseudo_random_bytes(31_000, 2);
    long_repeat.extend_from_within(..31_000); // matches at distance 31,000 (> 24,577 base)
    let inputs: Vec<Vec<u8>> = vec![
        vec![],
        vec![7],
        b"abcabcabcabcabcabcabcabc".to_vec(),
        vec![0u8; 70_000],               // runs of 258 and several stored blocks
        pseudo_random_bytes(100_000, 3), // incompressible
        (0..200_000).map(|i| (i % 251) as u8).collect(), // period-251 repeats
        long_repeat,
    ];
    for data in &inputs {
        for mode in [Compression::Stored, Compression::Fixed] {
            let z = zlib_compress(data, mode);
            assert_eq!(&zlib_decompress(&z), data, "{mode:?}, {} bytes", data.len());
        }
    }
    let zeros = zlib_compress(&inputs[3], Compression::Fixed);
    assert!(
        zeros.len() < 700,
        "70,000 zeros compress to {} bytes",
        zeros.len()
    );
    let stored = zlib_compress(&inputs[3], Compression::Stored);
    assert_eq!(stored.len(), 2 + 70_000 + 2 * 5 + 4, "two stored blocks");
}

// ---------------------------------------------------------------- PNG

#[test]
fn png_gray_and_rgb_round_trip() {
    let gray: Vec<u8> = (0..7 * 5).map(|i| (i * 7) as u8).collect();
    for mode in [Compression::Stored, Compression::Fixed] {
        let d = decode_png(&encode_png_with(7, 5, 1, &gray, mode));
        assert_eq!((d.width, d.height, d.bit_depth, d.color_type), (7, 5, 8, 0));
        assert_eq!(d.chunk_types, vec!["IHDR", "IDAT", "IEND"]);
        assert_eq!(d.pixels, gray);
    }
    let rgb: Vec<u8> = pseudo_random_bytes(64 * 3 * 33, 9);
    let d = decode_png(&encode_png(64, 33, 3, &rgb));
    assert_eq!(
        (d.width, d.height, d.bit_depth, d.color_type),
        (64, 33, 8, 2)
    );
    assert_eq!(d.pixels, rgb);
    // The IEND chunk is the constant 12 bytes every PNG ends with.
    let png = encode_png(1, 1, 1, &[0]);
    assert_eq!(
        &png[png.len() - 12..],
        &[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]
    );
}

#[test]
#[should_panic(expected = "12 bytes given for 2 × 2 × 1 = 4 expected")]
fn png_rejects_a_size_mismatch() {
    encode_png(2, 2, 1, &[0; 12]);
}

#[test]
fn write_png_is_atomic_and_reports_bad_arguments() {
    let dir = temp_dir("png");
    let p = dir.join("a.png");
    let px: Vec<u8> = (0..30).map(|i| i as u8 * 8).collect();
    write_png(&p, 10, 1, 3, &px).unwrap();
    write_png(&p, 10, 3, 1, &px).unwrap();
    let d = decode_png(&std::fs::read(&p).unwrap());
    assert_eq!((d.width, d.height, d.color_type), (10, 3, 0));
    assert_eq!(d.pixels, px);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("a.png")],
        "no temp file left"
    );
    let e = write_png(dir.join("b.png"), 4, 4, 2, &[0; 32]).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("2 channels"));
    let e = write_png(dir.join("missing-dir").join("c.png"), 1, 1, 1, &[0]).unwrap_err();
    assert!(e.to_string().contains("c.png"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn python_zlib_agrees_when_available() {
    let script = r#"
import sys, zlib, struct
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n'
pos, idat, ihdr = 8, b'', None
while pos < len(d):
    n, = struct.unpack('>I', d[pos:pos+4]); t = d[pos+4:pos+8]; body = d[pos+8:pos+8+n]
    crc, = struct.unpack('>I', d[pos+8+n:pos+12+n])
    assert zlib.crc32(t + body) & 0xffffffff == crc, t
    if t == b'IHDR': ihdr = struct.unpack('>IIBBBBB', body)
    if t == b'IDAT': idat += body
    pos += 12 + n
w, h, depth, ct, _, _, _ = ihdr
raw = zlib.decompress(idat)
stride = w * {0: 1, 2: 3}[ct]
assert all(raw[r * (stride + 1)] == 0 for r in range(h))
sys.stdout.write('%d %d %d %d ' % (w, h, depth, ct))
sys.stdout.write(b''.join(raw[r*(stride+1)+1:(r+1)*(stride+1)] for r in range(h)).hex())
"#;
    let ok = std::process::Command::new("python3")
        .args(["-c", "import zlib, struct"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("python3 with zlib not found: skipping the cross-check");
        return;
    }
    let dir = temp_dir("python");
    let mut cases: Vec<(usize, usize, usize, Vec<u8>)> = vec![
        (
            300,
            200,
            3,
            ScatterPlot::new(300, 200, (-2.0, 2.0), (-1.0, 1.0))
                .render()
                .pixels,
        ),
        (37, 11, 1, pseudo_random_bytes(37 * 11, 5)),
    ];
    let mut runs = vec![0u8; 120 * 90 * 3];
    runs[5000..9000].fill(200);
    cases.push((120, 90, 3, runs));
    for (k, (w, h, c, px)) in cases.iter().enumerate() {
        for mode in [Compression::Stored, Compression::Fixed] {
            let p = dir.join(format!("case{k}.png"));
            std::fs::write(&p, encode_png_with(*w, *h, *c, px, mode)).unwrap();
            let out = std::process::Command::new("python3")
                .arg("-c")
                .arg(script)
                .arg(&p)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "python rejected case {k} ({mode:?}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).unwrap();
            let hex: String = px.iter().map(|b| format!("{b:02x}")).collect();
            let ct = if *c == 1 { 0 } else { 2 };
            assert_eq!(text, format!("{w} {h} 8 {ct} {hex}"), "case {k} {mode:?}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------- grids and scatter plots

#[test]
fn image_grid_layout_and_value_mapping() {
    // Three 1×2×2 images: constant −1, constant 1, and a ramp.
    let v = vec![
        -1.0f32, -1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 0.0, 0.5, 2.0,
    ];
    let t = Tensor::from_vec(v, [3, 1, 2, 2]);
    let img = image_grid(&t, 2, 1, 2);
    // 2 columns × 2 rows of 4×4 cells with 1 px padding.
    assert_eq!((img.width, img.height, img.channels), (11, 11, 1));
    assert_eq!(img.pixels.len(), 121);
    assert_eq!(img.pixel(0, 0), &[GRID_PAD_VALUE]);
    assert_eq!(img.pixel(1, 1), &[0]); // image 0, top-left
    assert_eq!(img.pixel(4, 4), &[0]);
    assert_eq!(img.pixel(5, 1), &[GRID_PAD_VALUE]); // gap between columns
    assert_eq!(img.pixel(6, 1), &[255]); // image 1
                                         // Image 2 (second row, first column): −1 → 0, 0 → 128, 0.5 → 191, 2 → clamped 255; each
                                         // source pixel covers 2×2 output pixels.
    assert_eq!(img.pixel(1, 6), &[0]);
    assert_eq!(img.pixel(2, 7), &[0]);
    assert_eq!(img.pixel(3, 6), &[128]);
    assert_eq!(img.pixel(1, 8), &[191]);
    assert_eq!(img.pixel(4, 9), &[255]);
    // The missing fourth cell stays padding.
    assert_eq!(img.pixel(8, 8), &[GRID_PAD_VALUE]);
    // The grid survives PNG encoding.
    assert_eq!(decode_png(&img.to_png()).pixels, img.pixels);

    // RGB images in [0, 1], more columns than images.
    let rgb = Tensor::from_vec(vec![0.0f32, 1.0, 0.5], [1, 3, 1, 1]);
    let img = image_grid_range(&rgb, (0.0, 1.0), 8, 0, 1);
    assert_eq!((img.width, img.height, img.channels), (1, 1, 3));
    assert_eq!(img.pixels, vec![0, 255, 128]);
}

#[test]
fn scatter_plot_places_points_and_surface() {
    let plot = ScatterPlot::new(100, 50, (0.0, 10.0), (0.0, 5.0));
    // Pixel centres ↔ data coordinates.
    assert_eq!(plot.to_data(0, 0), (0.05, 4.95));
    let (px, py) = plot.to_pixel(0.05, 4.95);
    assert!((px - 0.5).abs() < 1e-9 && (py - 0.5).abs() < 1e-9);
    // Surface points: row j·nx + i is column i, row j from the top.
    let sp = plot.surface_points(4, 2).to_vec_f64();
    assert_eq!(sp.len(), 16);
    assert_eq!((sp[0], sp[1]), (1.25, 3.75));
    assert_eq!((sp[6], sp[7]), (8.75, 3.75));
    assert_eq!((sp[8], sp[9]), (1.25, 1.25));
    // D = 1 on the left half, 0 on the right half.
    let d: Vec<f64> = sp
        .chunks(2)
        .map(|p| if p[0] < 5.0 { 1.0 } else { 0.0 })
        .collect();
    let fake = Tensor::from_vec(vec![7.3f32, 2.1, f32::NAN, 1.0, 50.0, 50.0], [3, 2]);
    let img = plot.surface(&d, 4, 2).fake(&fake).render();
    assert_eq!((img.width, img.height, img.channels), (100, 50, 3));
    // A point at (7.3, 2.1) sits at pixel (73, 29): the fake colour blended at 60 % over the
    // background, which pixel (73, 25) shows unchanged.
    let (p, bg) = (img.pixel(73, 29), img.pixel(73, 25));
    for k in 0..3 {
        let expect = 0.4 * bg[k] as f64 + 0.6 * FAKE_COLOR[k] as f64;
        assert!((p[k] as f64 - expect).abs() <= 1.0, "{p:?} over {bg:?}");
    }
    assert_ne!(p, bg);
    // Left background is bluish (D = 1 → "real"), right background orange-ish (D = 0).
    let left = img.pixel(12, 12);
    assert!(left[2] > left[0], "{left:?}");
    let right = img.pixel(88, 12);
    assert!(right[0] > right[2], "{right:?}");
    // Without a surface the background is white away from grid lines.
    let plain = ScatterPlot::new(100, 50, (0.0, 10.0), (0.0, 5.0)).render();
    assert_eq!(plain.pixel(13, 13), &[255, 255, 255]);
    // `fit` covers the data with equal scales on both axes.
    let ring = Tensor::from_vec(vec![1.0f32, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, -1.0], [4, 2]);
    let fit = ScatterPlot::fit(200, 100, &[&ring]);
    let (x0, y0) = fit.to_data(0, 0);
    let (x1, y1) = fit.to_data(199, 99);
    assert!(x0 < -1.0 && x1 > 1.0 && y0 > 1.0 && y1 < -1.0);
    assert!(
        ((x1 - x0) / 199.0 - (y0 - y1) / 99.0).abs() < 1e-9,
        "equal scales"
    );
    let _: Image = fit.real(&ring).render();
}

// ---------------------------------------------------------------- SVG

/// Checks that every element is closed in order; returns the number of elements per tag name.
fn check_balanced(svg: &str) -> std::collections::HashMap<String, usize> {
    check_balanced_with(svg, &[])
}

/// [`check_balanced`] where the `void` tags (HTML's `<meta>`, `<img>`) need no closing tag.
fn check_balanced_with(svg: &str, void: &[&str]) -> std::collections::HashMap<String, usize> {
    let mut stack: Vec<String> = Vec::new();
    let mut counts = std::collections::HashMap::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        let j = rest[i..].find('>').expect("unclosed tag") + i;
        let tag = &rest[i + 1..j];
        assert!(!tag.contains('<'), "'<' inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
        } else {
            let name = tag
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_string();
            *counts.entry(name.clone()).or_insert(0) += 1;
            if !tag.ends_with('/') && !void.contains(&name.as_str()) {
                stack.push(name);
            }
        }
        rest = &rest[j + 1..];
    }
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
    counts
}

/// Parses `xml` with Python's `xml.etree` when python3 is installed (skipped otherwise).
fn python_parses_xml(xml: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; r = E.fromstring(sys.stdin.read()); print(r.tag)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("python3 not found: skipping the XML parse check");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(xml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python could not parse the SVG: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "{http://www.w3.org/2000/svg}svg"
    );
}

#[test]
fn svg_line_chart_structure_and_coordinates() {
    let chart = LineChart::new("a <tiny> & chart")
        .size(400.0, 300.0)
        .x_label("step")
        .y_label("loss")
        .x_range(0.0, 2.0)
        .y_range(0.0, 1.0)
        .series("D", &[(0.0, 0.0), (1.0, 0.5), (2.0, 1.0)])
        .series("G", &[(0.0, 1.0), (2.0, 0.25)]);
    let svg = chart.to_svg();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    let counts = check_balanced(&svg);
    assert_eq!(counts["svg"], 1);
    assert_eq!(counts["polyline"], 2);
    assert!(svg.contains("a &lt;tiny&gt; &amp; chart"));
    assert!(svg.contains(">step<") && svg.contains(">loss<"));
    // The plot area is (64, 34)–(380, 252): x 0..2 → 64..380, y 0..1 → 252..34.
    assert_eq!(chart.plot_area(), (64.0, 34.0, 380.0, 252.0));
    assert!(
        svg.contains(r#"points="64.00,252.00 222.00,143.00 380.00,34.00""#),
        "{svg}"
    );
    assert!(svg.contains(r#"points="64.00,34.00 380.00,197.50""#));
    python_parses_xml(&svg);
    // Legend entries, in series order.
    let d = svg.find(">D</text>").unwrap();
    let g = svg.find(">G</text>").unwrap();
    assert!(d < g);
    // Tick labels for the fixed ranges.
    for t in [">0.0<", ">0.5<", ">1.0<", ">1.5<", ">2.0<"] {
        assert!(svg.contains(t), "missing tick {t}");
    }
}

#[test]
fn svg_auto_domain_is_nice_and_non_finite_values_break_lines() {
    let chart = LineChart::new("losses")
        .series_y(
            "D loss",
            &[0.3, 2.0, f64::NAN, 9.7, 4.0, f64::INFINITY, 5.0],
        )
        .series_y("flat", &[3.0, 3.0]);
    assert_eq!(chart.domain(), ((0.0, 6.0), (0.0, 10.0)));
    let svg = chart.to_svg();
    let counts = check_balanced(&svg);
    // "D loss" splits into three runs: [0.3, 2.0], [9.7, 4.0], [5.0]; "flat" is one; the run
    // of one point is a dot.
    assert_eq!(counts["polyline"], 3);
    assert_eq!(
        svg.matches("<circle class=\"series\" data-name=\"D loss\"")
            .count(),
        1
    );
    assert!(!svg.contains("NaN") && !svg.contains("inf"));
    // An empty chart still renders a valid document.
    let empty = LineChart::new("nothing yet").to_svg();
    check_balanced(&empty);
    // A constant series gets ±10 % around its value.
    let (lo, hi) = LineChart::new("c").series_y("k", &[2.0]).domain().1;
    assert!(
        (lo - 1.8).abs() < 1e-12 && (hi - 2.2).abs() < 1e-12,
        "{lo} {hi}"
    );
}

// ---------------------------------------------------------------- HTML

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("invalid base64 character {:?}", c as char),
        }
    };
    assert_eq!(s.len() % 4, 0, "base64 length");
    let mut out = Vec::new();
    for q in s.as_bytes().chunks(4) {
        let pad = q.iter().filter(|&&c| c == b'=').count();
        let n = q
            .iter()
            .take(4 - pad)
            .enumerate()
            .fold(0u32, |acc, (i, &c)| acc | val(c) << (18 - 6 * i));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

#[test]
fn base64_matches_rfc4648_vectors() {
    for (plain, enc) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64_encode(plain.as_bytes()), enc);
        assert_eq!(base64_decode(enc), plain.as_bytes());
    }
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(base64_decode(&base64_encode(&all)), all);
}

#[test]
fn html_report_is_self_contained_with_valid_inline_png() {
    let png = encode_png(3, 2, 1, &[0, 50, 100, 150, 200, 250]);
    let chart = LineChart::new("curve").series_y("x", &[1.0, 2.0]).to_svg();
    let grid = image_grid(&Tensor::from_vec(vec![0.0f32; 16], [1, 1, 4, 4]), 1, 0, 2);
    let mut r = Report::new("Run <1>");
    r.heading("Setup")
        .paragraph("Seed 7 & <script>alert(1)</script>")
        .table(
            "metrics",
            &[
                ("modes covered", "8/8".to_string()),
                ("JSD", format!("{:.3}", 0.0123)),
            ],
        )
        .svg("losses", chart.clone())
        .png("samples", &png)
        .image("grid", &grid)
        .pre("step 1  d=1.38");
    let html = r.to_html();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>Run &lt;1&gt;</title>"));
    assert!(html.contains("<h1>Run &lt;1&gt;</h1>") && html.contains("<h2>Setup</h2>"));
    assert!(html.contains("Seed 7 &amp; &lt;script&gt;"));
    assert!(!html.contains("<script>alert"), "text must be escaped");
    // the one script is the page's own render check, and it cannot close its element early
    assert_eq!(html.matches("<script").count(), 1);
    assert!(html.contains(RENDER_CHECK_SCRIPT));
    assert!(!RENDER_CHECK_SCRIPT.contains('<') && !RENDER_CHECK_SCRIPT.contains('>'));
    assert!(html.contains("<tr><th>modes covered</th><td>8/8</td></tr>"));
    assert!(html.contains("<tr><th>JSD</th><td>0.012</td></tr>"));
    assert!(html.contains(chart.trim_end()), "SVG inlined as is");
    assert!(html.contains("<pre>step 1  d=1.38</pre>"));
    assert!(
        !html
            .replace("http://www.w3.org/2000/svg", "")
            .contains("http"),
        "no external resources"
    );
    assert!(!html.contains("<link") && !html.contains("src=\"http"));
    // Both images are data URIs whose base64 decodes to the PNG bytes.
    let uris: Vec<&str> = html
        .split("src=\"data:image/png;base64,")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(uris.len(), 2);
    assert_eq!(uris[0], base64_encode(&png));
    assert_eq!(base64_decode(uris[0]), png);
    let d = decode_png(&base64_decode(uris[1]));
    assert_eq!((d.width, d.height), (8, 8));
    assert!(html.contains("alt=\"samples\" src=") && html.contains("width=\"3\" height=\"2\""));
    check_balanced_with(&html, &["!DOCTYPE", "meta", "img"]);

    let dir = temp_dir("html");
    let p = dir.join("report.html");
    r.write(&p).unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), html);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temp file left");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The value of attribute `name` in the first element of `svg` that contains `marker`.
fn attribute_near(svg: &str, marker: &str, name: &str) -> String {
    let at = svg
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in\n{svg}"));
    let start = svg[..at].rfind('<').unwrap();
    let end = at + svg[at..].find('>').unwrap();
    let tag = &svg[start..end];
    let key = format!(" {name}=\"");
    let i = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + key.len();
    tag[i..i + tag[i..].find('"').unwrap()].to_string()
}

#[test]
fn svg_right_axis_styles_and_a_legend_below_that_matches_the_lines() {
    let chart = LineChart::new("density and D(x)")
        .size(400.0, 300.0)
        .x_label("x (no unit)")
        .y_label("density (per unit of x)")
        .y2_label("D(x) (probability)")
        .x_range(0.0, 2.0)
        .y_range(0.0, 4.0)
        .y2_range(0.0, 1.0)
        .series("p_data", &[(0.0, 0.0), (2.0, 4.0)])
        .series_styled(
            "D(x)",
            &[(0.0, 0.5), (2.0, 1.0)],
            Style::default().color("#2ca02c").dash("6 3").right_axis(),
        )
        .series_styled("one point", &[(1.0, 2.0)], Style::default().markers());
    let svg = chart.to_svg();
    let counts = check_balanced(&svg);
    python_parses_xml(&svg);
    // a right axis takes a wider right margin: the box is (64, 34)–(336, 252)
    assert_eq!(chart.plot_area(), (64.0, 34.0, 336.0, 252.0));
    assert_eq!(chart.domain_right(), Some((0.0, 1.0)));
    // D(x) = 0.5 at x = 0 is measured on the right axis: halfway up the box, not 1/8 up
    assert!(
        svg.contains(r#"points="64.00,143.00 336.00,34.00""#),
        "{svg}"
    );
    // the left series on the left scale
    assert!(svg.contains(r#"points="64.00,252.00 336.00,34.00""#));
    // both axes labelled, with tick labels on each (4 only on the left, 0.8 only on the right)
    for t in [
        ">x (no unit)<",
        ">density (per unit of x)<",
        ">D(x) (probability)<",
        ">4<",
        ">0.8<",
    ] {
        assert!(svg.contains(t), "missing {t}");
    }
    // a series of one point is a dot
    assert_eq!(counts["polyline"], 2);
    assert!(svg.contains(r#"<circle class="series" data-name="one point""#));
    // the legend: one entry per series, below the chart (the SVG grows by its rows), each
    // drawn with its series' colour and dash
    assert_eq!(counts["g"], 3);
    let height: f64 = attribute_near(&svg, "class=\"chart\"", "height")
        .parse()
        .unwrap();
    assert!(height > 300.0, "{height}");
    let label_y: f64 = attribute_near(&svg, ">D(x)</text>", "y").parse().unwrap();
    assert!(
        label_y > 252.0 + 36.0,
        "legend below the x label, got y = {label_y}"
    );
    let legend = &svg[svg.find("class=\"legend-entry\"").unwrap()..];
    assert!(legend.contains(r##"stroke="#2ca02c" stroke-width="1.5" stroke-dasharray="6 3""##));
    assert!(legend.contains(r##"stroke="#1f77b4""##));
    let line = &svg[svg.find("data-name=\"D(x)\"").unwrap()..];
    assert!(line.starts_with(r##"data-name="D(x)" points="64.00,143.00 336.00,34.00" fill="none" stroke="#2ca02c" stroke-width="1.5" stroke-dasharray="6 3""##), "{line}");
}

#[test]
fn image_axes_put_ticks_where_the_scatter_plot_draws_its_grid() {
    let plot = ScatterPlot::new(200, 100, (-2.0, 2.0), (-1.0, 1.0));
    let axes = plot
        .axes("samples")
        .x_label("x₁ (no unit)")
        .y_label("x₂ (no unit)")
        .legend(ScatterPlot::legend_dot("data", REAL_COLOR))
        .legend(ScatterPlot::legend_dot("generated", FAKE_COLOR))
        .color_bar(plot.surface_color_bar("D(x)", (0.0, 1.0)));
    assert_eq!(axes.image_size(), (200, 100));
    assert_eq!(axes.image_origin(), (64.0, 34.0));
    let svg = axes.to_svg();
    check_balanced(&svg);
    python_parses_xml(&svg);
    assert!(svg.contains("class=\"overlay\"") && !svg.contains("fill=\"white\"/>"));
    // x = 0 is the middle column of the picture: 64 + 100; x = 1 is 64 + 150
    assert!(svg.contains(r#"class="tick" x="164.00""#), "{svg}");
    assert!(
        svg.contains(r#"class="tick" x="214.00" y="150.00" text-anchor="middle">1.0<"#),
        "{svg}"
    );
    // y = 0.5 is a quarter down the picture: 34 + 25 (+4 to centre the text)
    assert!(svg.contains(r#"y="63.00" text-anchor="end">0.5<"#), "{svg}");
    // the legend's dots have the plot's colours and opacity
    assert!(svg.contains(r##"fill="#1f77b4" fill-opacity="0.6""##));
    assert!(svg.contains(r##"fill="#e6550d" fill-opacity="0.6""##));
    // the colour bar runs from light orange (0) through white (½) to light blue (1)
    let bar = plot.surface_color_bar("D(x)", (0.0, 1.0));
    assert_eq!(bar.color_at(0.0), [253, 208, 162]);
    assert_eq!(bar.color_at(0.5), [255, 255, 255]);
    assert_eq!(bar.color_at(1.0), [158, 202, 225]);
    // the bar's lowest band (its middle at 1/128) is nearly the colour of 0
    assert_eq!(bar.color_at(1.0 / 128.0), [253, 209, 163]);
    assert!(svg.contains("fill=\"rgb(253,209,163)\"") && svg.contains(">D(x)</text>"));
    // and the picture drawn with a surface has those colours where D is 0 and 1
    let d: Vec<f64> = plot
        .surface_points(2, 1)
        .to_vec_f64()
        .chunks(2)
        .map(|p| if p[0] < 0.0 { 0.0 } else { 1.0 })
        .collect();
    let img = plot.surface(&d, 2, 1).render();
    assert_eq!(img.pixel(10, 10), &[253, 208, 162]);
    assert_eq!(img.pixel(190, 10), &[158, 202, 225]);
}

#[test]
fn frames_behind_a_slider_and_pictures_side_by_side() {
    let plot = ScatterPlot::new(40, 30, (0.0, 1.0), (0.0, 1.0));
    let axes = plot.axes("frames");
    let frames: Vec<(String, Vec<u8>)> = (0..3)
        .map(|k| {
            (
                format!("iteration {}", 10 * k),
                plot.clone().radius(1.0 + k as f64).render().to_png(),
            )
        })
        .collect();
    let a = image_grid(&Tensor::from_vec(vec![0.5f32; 16], [1, 1, 4, 4]), 1, 0, 2);
    let mut r = Report::new("frames");
    r.frames("over training", &axes, &frames)
        .images("side by side", &[("generated", &a), ("real", &a)])
        .svgs(
            "two charts",
            &vec![LineChart::new("a").series_y("a", &[1.0, 2.0]).to_svg(); 2],
        );
    let html = r.to_html();
    check_balanced_with(&html, &["!DOCTYPE", "meta", "img", "input"]);
    // three frames, the last shown, the others hidden, each labelled; one slider over them
    assert_eq!(html.matches("class=\"px frame\"").count(), 3);
    assert_eq!(html.matches(" hidden>").count(), 2);
    let last = html.rfind("class=\"px frame\"").unwrap();
    assert!(!html[last..last + html[last..].find('>').unwrap()].contains("hidden"));
    for k in 0..3 {
        assert!(html.contains(&format!("data-label=\"iteration {}\"", 10 * k)));
    }
    assert!(
        html.contains(r#"<input class="frames" type="range" min="0" max="2" step="1" value="2""#)
    );
    assert!(html.contains("<output>iteration 20</output>"));
    // the frames sit at the axes' picture origin, the overlay over them
    assert!(html.contains("style=\"left: 64px; top: 34px\""));
    assert!(html.find("class=\"px frame\"").unwrap() < html.find("class=\"overlay\"").unwrap());
    // side by side: a row holding both labelled pictures
    assert!(
        html.contains("<div class=\"label\">generated</div>")
            && html.contains("<div class=\"label\">real</div>")
    );
    assert_eq!(html.matches("class=\"chart\"").count(), 2);
    // one frame: no slider
    let mut one = Report::new("one");
    one.framed("one", &axes, &plot.render());
    assert!(!one.to_html().contains("type=\"range\""));
}

#[test]
#[should_panic(expected = "is not a 40 × 30 PNG")]
fn frames_of_the_wrong_size_are_refused() {
    let axes = ScatterPlot::new(40, 30, (0.0, 1.0), (0.0, 1.0)).axes("frames");
    let wrong = ScatterPlot::new(30, 30, (0.0, 1.0), (0.0, 1.0))
        .render()
        .to_png();
    Report::new("x").frames("bad", &axes, &[("a".into(), wrong)]);
}
