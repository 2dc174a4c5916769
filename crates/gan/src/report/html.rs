//! A self-contained HTML report: text, tables, SVG charts and PNG images in one offline file.

use super::png::Image;
use super::svg::escape_xml;
use super::write_atomic;
use std::fmt::Display;
use std::io;
use std::path::Path;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648 alphabet `A–Z a–z 0–9 + /`, `=` padding, no line breaks), as a
/// `data:` URI needs: `base64_encode(b"Man") == "TWFu"`, `base64_encode(b"Ma") == "TWE="`.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[derive(Debug, Clone)]
enum Block {
    Heading(String),
    Paragraph(String),
    Pre(String),
    Table {
        caption: String,
        rows: Vec<(String, String)>,
    },
    Svg {
        caption: String,
        svg: String,
    },
    Png {
        caption: String,
        data: Vec<u8>,
    },
}

/// A report page built block by block and written as one HTML file with everything inline
/// (CSS, SVG, PNG as `data:image/png;base64,…`): it opens offline and can be mailed or archived
/// as a single file.
///
/// ```
/// use minimax_gan::report::{html::Report, svg::LineChart};
/// let mut r = Report::new("vanilla GAN on ring8");
/// r.paragraph("Seed 1, 2,000 steps.")
///     .table("result", &[("modes covered", "8/8"), ("high quality", "97.9 %")])
///     .svg("losses", &LineChart::new("losses").series_y("D", &[1.0, 0.9]).to_svg());
/// let html = r.to_html();
/// assert!(html.contains("<h1>vanilla GAN on ring8</h1>") && html.contains("<svg"));
/// ```
///
/// Text given to `heading`, `paragraph`, `pre`, tables and captions is escaped; SVG given to
/// [`Report::svg`] is inserted as is (it must be trusted markup, such as
/// [`super::svg::LineChart::to_svg`]'s output).
#[derive(Debug, Clone)]
pub struct Report {
    title: String,
    blocks: Vec<Block>,
}

impl Report {
    /// An empty report; `title` is the page title and its top heading.
    pub fn new(title: impl Into<String>) -> Report {
        Report {
            title: title.into(),
            blocks: Vec::new(),
        }
    }

    /// A section heading (`<h2>`).
    pub fn heading(&mut self, text: impl Into<String>) -> &mut Report {
        self.blocks.push(Block::Heading(text.into()));
        self
    }

    /// A paragraph of text.
    pub fn paragraph(&mut self, text: impl Into<String>) -> &mut Report {
        self.blocks.push(Block::Paragraph(text.into()));
        self
    }

    /// Preformatted text (a log excerpt, a command line, a model summary).
    pub fn pre(&mut self, text: impl Into<String>) -> &mut Report {
        self.blocks.push(Block::Pre(text.into()));
        self
    }

    /// A two-column key/value table with a caption (empty for none).
    pub fn table<K: Display, V: Display>(
        &mut self,
        caption: impl Into<String>,
        rows: &[(K, V)],
    ) -> &mut Report {
        self.blocks.push(Block::Table {
            caption: caption.into(),
            rows: rows
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        });
        self
    }

    /// An inline SVG figure (trusted markup) with a caption (empty for none).
    pub fn svg(&mut self, caption: impl Into<String>, svg: impl Into<String>) -> &mut Report {
        self.blocks.push(Block::Svg {
            caption: caption.into(),
            svg: svg.into(),
        });
        self
    }

    /// An inline PNG figure from PNG file bytes, embedded as a base64 data URI.
    pub fn png(&mut self, caption: impl Into<String>, png_bytes: &[u8]) -> &mut Report {
        self.blocks.push(Block::Png {
            caption: caption.into(),
            data: png_bytes.to_vec(),
        });
        self
    }

    /// An inline PNG figure from an [`Image`] (encoded here).
    pub fn image(&mut self, caption: impl Into<String>, image: &Image) -> &mut Report {
        self.png(caption, &image.to_png())
    }

    /// The whole page as an HTML5 document.
    pub fn to_html(&self) -> String {
        let mut s = String::new();
        s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        s.push_str(&format!("<title>{}</title>\n", escape_xml(&self.title)));
        s.push_str(
            "<style>\n\
             body { font-family: sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #222; }\n\
             table { border-collapse: collapse; margin: 0.5em 0 1.5em; }\n\
             caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }\n\
             th, td { border: 1px solid #ccc; padding: 0.25em 0.8em; text-align: left; }\n\
             th { background: #f3f3f3; font-weight: normal; }\n\
             figure { margin: 1em 0 1.5em; }\n\
             figcaption { color: #555; font-size: 0.9em; margin-top: 0.3em; }\n\
             img.px { image-rendering: pixelated; image-rendering: crisp-edges; max-width: 100%; }\n\
             pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }\n\
             </style>\n</head>\n<body>\n",
        );
        s.push_str(&format!("<h1>{}</h1>\n", escape_xml(&self.title)));
        for b in &self.blocks {
            match b {
                Block::Heading(t) => s.push_str(&format!("<h2>{}</h2>\n", escape_xml(t))),
                Block::Paragraph(t) => s.push_str(&format!("<p>{}</p>\n", escape_xml(t))),
                Block::Pre(t) => s.push_str(&format!("<pre>{}</pre>\n", escape_xml(t))),
                Block::Table { caption, rows } => {
                    s.push_str("<table>\n");
                    if !caption.is_empty() {
                        s.push_str(&format!("<caption>{}</caption>\n", escape_xml(caption)));
                    }
                    for (k, v) in rows {
                        s.push_str(&format!(
                            "<tr><th>{}</th><td>{}</td></tr>\n",
                            escape_xml(k),
                            escape_xml(v)
                        ));
                    }
                    s.push_str("</table>\n");
                }
                Block::Svg { caption, svg } => {
                    s.push_str("<figure>\n");
                    s.push_str(svg.trim_end());
                    s.push('\n');
                    figcaption(&mut s, caption);
                    s.push_str("</figure>\n");
                }
                Block::Png { caption, data } => {
                    s.push_str("<figure>\n");
                    s.push_str(&format!(
                        "<img class=\"px\" alt=\"{}\" src=\"data:image/png;base64,{}\"",
                        escape_xml(caption),
                        base64_encode(data)
                    ));
                    if let Some((w, h)) = png_size(data) {
                        s.push_str(&format!(" width=\"{w}\" height=\"{h}\""));
                    }
                    s.push_str(">\n");
                    figcaption(&mut s, caption);
                    s.push_str("</figure>\n");
                }
            }
        }
        s.push_str("</body>\n</html>\n");
        s
    }

    /// Writes the page to `path` (temporary file + rename, so a reader never sees half a page).
    pub fn write(&self, path: impl AsRef<Path>) -> io::Result<()> {
        write_atomic(path.as_ref(), self.to_html().as_bytes())
    }
}

fn figcaption(s: &mut String, caption: &str) {
    if !caption.is_empty() {
        s.push_str(&format!(
            "<figcaption>{}</figcaption>\n",
            escape_xml(caption)
        ));
    }
}

/// Width and height from a PNG's IHDR, if the bytes look like a PNG.
fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.len() >= 24 && b.starts_with(b"\x89PNG\r\n\x1a\n") && &b[12..16] == b"IHDR" {
        let w = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
        let h = u32::from_be_bytes([b[20], b[21], b[22], b[23]]);
        Some((w, h))
    } else {
        None
    }
}
