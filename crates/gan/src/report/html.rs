//! A self-contained HTML report: text, tables, SVG charts and PNG images in one offline file.

use super::png::Image;
use super::svg::{escape_xml, ImageAxes};
use super::write_atomic;
use super::Picture;
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
    /// SVG figures side by side.
    Svgs {
        caption: String,
        svgs: Vec<String>,
    },
    /// PNG pictures side by side, each with a label above it.
    Pngs {
        caption: String,
        items: Vec<(String, Vec<u8>)>,
    },
    /// PNG pictures in axes: one, or several frames behind a slider.
    Framed {
        caption: String,
        axes: Box<ImageAxes>,
        frames: Vec<(String, Vec<u8>)>,
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
///
/// The page carries one small inline script ([`RENDER_CHECK_SCRIPT`]): it makes the sliders of
/// [`Report::frames`] switch frames, and once the page has loaded it checks what the browser
/// drew — pictures that failed to decode, charts with no visible line, sliders whose frames do
/// not switch — and writes the counts into the `data-render-check` attribute of `<body>`, where
/// a test driving a headless browser reads them.
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

    /// Appends the blocks of `other` (its title is dropped): sections built apart, then placed.
    pub fn append(&mut self, other: Report) -> &mut Report {
        self.blocks.extend(other.blocks);
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

    /// A [`Picture`]: an image as is, or a raster plot inside its axes.
    pub fn picture(&mut self, caption: impl Into<String>, picture: &Picture) -> &mut Report {
        match picture {
            Picture::Image(image) => self.image(caption, image),
            Picture::InAxes(axes, image) => self.framed(caption, axes, image),
        }
    }

    /// An inline PNG figure from an [`Image`] (encoded here).
    pub fn image(&mut self, caption: impl Into<String>, image: &Image) -> &mut Report {
        self.png(caption, &image.to_png())
    }

    /// SVG figures (trusted markup) side by side, wrapping to the next line when the page is
    /// too narrow, under one caption.
    pub fn svgs(&mut self, caption: impl Into<String>, svgs: &[String]) -> &mut Report {
        self.blocks.push(Block::Svgs {
            caption: caption.into(),
            svgs: svgs.to_vec(),
        });
        self
    }

    /// Pictures side by side, each with its label above it, under one caption: generated
    /// samples beside real ones, at the same scale.
    pub fn images(&mut self, caption: impl Into<String>, items: &[(&str, &Image)]) -> &mut Report {
        self.blocks.push(Block::Pngs {
            caption: caption.into(),
            items: items
                .iter()
                .map(|(label, img)| (label.to_string(), img.to_png()))
                .collect(),
        });
        self
    }

    /// A picture inside `axes` (a scatter plot rendered by [`super::png::ScatterPlot`] with
    /// the axes of [`super::png::ScatterPlot::axes`]).
    ///
    /// Panics unless the picture has the size the axes were made for.
    #[track_caller]
    pub fn framed(
        &mut self,
        caption: impl Into<String>,
        axes: &ImageAxes,
        image: &Image,
    ) -> &mut Report {
        let caption = caption.into();
        self.frames(caption.clone(), axes, &[(caption, image.to_png())])
    }

    /// Pictures inside `axes` shown one at a time, with an `<input type="range">` slider under
    /// them that picks the frame (the last is shown first), and each frame's label (such as
    /// "iteration 500") beside the slider. `frames` are `(label, PNG bytes)`; one frame is
    /// shown without a slider.
    ///
    /// Panics if `frames` is empty or a frame is not a PNG of the size the axes were made for.
    #[track_caller]
    pub fn frames(
        &mut self,
        caption: impl Into<String>,
        axes: &ImageAxes,
        frames: &[(String, Vec<u8>)],
    ) -> &mut Report {
        assert!(!frames.is_empty(), "Report::frames: no frame");
        let (w, h) = axes.image_size();
        for (label, png) in frames {
            assert_eq!(
                png_size(png),
                Some((w as u32, h as u32)),
                "Report::frames: frame '{label}' is not a {w} × {h} PNG"
            );
        }
        self.blocks.push(Block::Framed {
            caption: caption.into(),
            axes: Box::new(axes.clone()),
            frames: frames.to_vec(),
        });
        self
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
             caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; white-space: nowrap; }\n\
             th, td { border: 1px solid #ccc; padding: 0.25em 0.8em; text-align: left; }\n\
             th { background: #f3f3f3; font-weight: normal; }\n\
             figure { margin: 1em 0 1.5em; }\n\
             figcaption { color: #555; font-size: 0.9em; margin-top: 0.3em; }\n\
             img.px { image-rendering: pixelated; image-rendering: crisp-edges; max-width: 100%; }\n\
             pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }\n\
             .row { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }\n\
             .row .label { font-size: 0.9em; margin-bottom: 0.2em; }\n\
             .framed { position: relative; }\n\
             .framed img, .framed svg { position: absolute; }\n\
             .framed svg { left: 0; top: 0; pointer-events: none; }\n\
             .slider { display: flex; align-items: center; gap: 0.8em; margin-top: 0.3em; }\n\
             .slider input { width: 320px; }\n\
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
                    img_tag(&mut s, "px", caption, data, "");
                    figcaption(&mut s, caption);
                    s.push_str("</figure>\n");
                }
                Block::Svgs { caption, svgs } => {
                    s.push_str("<figure>\n<div class=\"row\">\n");
                    for svg in svgs {
                        s.push_str(svg.trim_end());
                        s.push('\n');
                    }
                    s.push_str("</div>\n");
                    figcaption(&mut s, caption);
                    s.push_str("</figure>\n");
                }
                Block::Pngs { caption, items } => {
                    s.push_str("<figure>\n<div class=\"row\">\n");
                    for (label, data) in items {
                        s.push_str(&format!(
                            "<div><div class=\"label\">{}</div>\n",
                            escape_xml(label)
                        ));
                        img_tag(&mut s, "px", label, data, "");
                        s.push_str("</div>\n");
                    }
                    s.push_str("</div>\n");
                    figcaption(&mut s, caption);
                    s.push_str("</figure>\n");
                }
                Block::Framed {
                    caption,
                    axes,
                    frames,
                } => {
                    let (w, h) = axes.size();
                    let (left, top) = axes.image_origin();
                    s.push_str(&format!(
                        "<figure>\n<div class=\"framed\" style=\"width: {w}px; height: {h}px\">\n"
                    ));
                    let last = frames.len() - 1;
                    for (k, (label, data)) in frames.iter().enumerate() {
                        let extra = format!(
                            " data-label=\"{}\" style=\"left: {left}px; top: {top}px\"{}",
                            escape_xml(label),
                            if k == last { "" } else { " hidden" }
                        );
                        img_tag(&mut s, "px frame", label, data, &extra);
                    }
                    s.push_str(axes.to_svg().trim_end());
                    s.push_str("\n</div>\n");
                    if frames.len() > 1 {
                        s.push_str(&format!(
                            "<div class=\"slider\"><input class=\"frames\" type=\"range\" min=\"0\" max=\"{last}\" step=\"1\" value=\"{last}\" aria-label=\"frame\"><output>{}</output></div>\n",
                            escape_xml(&frames[last].0)
                        ));
                    }
                    figcaption(&mut s, caption);
                    s.push_str("</figure>\n");
                }
            }
        }
        s.push_str("<script>\n");
        s.push_str(RENDER_CHECK_SCRIPT);
        s.push_str("</script>\n</body>\n</html>\n");
        s
    }

    /// Writes the page to `path` (temporary file + rename, so a reader never sees half a page).
    pub fn write(&self, path: impl AsRef<Path>) -> io::Result<()> {
        write_atomic(path.as_ref(), self.to_html().as_bytes())
    }
}

/// An `<img>` of PNG bytes as a data URI, with its size when the bytes are a PNG and `extra`
/// attributes (starting with a space) before the closing `>`.
fn img_tag(s: &mut String, class: &str, alt: &str, data: &[u8], extra: &str) {
    s.push_str(&format!(
        "<img class=\"{class}\" alt=\"{}\" src=\"data:image/png;base64,{}\"",
        escape_xml(alt),
        base64_encode(data)
    ));
    if let Some((w, h)) = png_size(data) {
        s.push_str(&format!(" width=\"{w}\" height=\"{h}\""));
    }
    s.push_str(extra);
    s.push_str(">\n");
}

/// The page's one script. It makes each slider of [`Report::frames`] show its frame, and on
/// `load` writes what the browser drew into `<body data-render-check="…">`:
///
/// `images=N broken-images=B svgs=S empty-svgs=E sliders=K slider-frames=F sliders-working=W`
///
/// where B counts `<img>` elements that did not decode (`naturalWidth` 0), E counts charts
/// with no visible series and axes overlays with no visible tick label, F counts the frames
/// behind all sliders, and W the sliders that, moved to their first frame, show exactly that
/// frame (the slider is put back on its last frame afterwards). The script holds no `<` or `>`,
/// so it cannot end its element early.
pub const RENDER_CHECK_SCRIPT: &str = r#"(function () {
  function each(list, f) { Array.prototype.forEach.call(list, f); }
  function show(figure, i) {
    var frames = figure.querySelectorAll('img.frame');
    each(frames, function (img, k) { img.hidden = k !== i; });
    var out = figure.querySelector('output');
    if (out) { out.textContent = frames[i].getAttribute('data-label'); }
  }
  each(document.querySelectorAll('input.frames'), function (input) {
    input.addEventListener('input', function () {
      show(input.closest('figure'), Number(input.value));
    });
  });
  window.addEventListener('load', function () {
    var broken = 0, svgs = 0, empty = 0, sliders = 0, frames = 0, working = 0;
    each(document.images, function (img) {
      if (!img.complete || img.naturalWidth === 0) { broken += 1; }
    });
    each(document.querySelectorAll('svg'), function (svg) {
      if (svg.parentElement.closest('svg')) { return; }
      svgs += 1;
      var what = svg.classList.contains('chart') ? '.series'
        : svg.classList.contains('overlay') ? '.tick' : '*';
      var drawn = 0;
      each(svg.querySelectorAll(what), function (mark) {
        var b = mark.getBBox();
        if (b.width + b.height !== 0) { drawn += 1; }
      });
      if (drawn === 0) { empty += 1; }
    });
    each(document.querySelectorAll('input.frames'), function (input) {
      var figure = input.closest('figure');
      var all = figure.querySelectorAll('img.frame');
      var last = Number(input.max);
      sliders += 1;
      frames += all.length;
      input.value = '0';
      input.dispatchEvent(new Event('input'));
      var shown = figure.querySelectorAll('img.frame:not([hidden])');
      var ok = last === all.length - 1 && shown.length === 1 && shown[0] === all[0];
      input.value = String(last);
      input.dispatchEvent(new Event('input'));
      if (ok) { working += 1; }
    });
    document.body.setAttribute('data-render-check',
      'images=' + document.images.length + ' broken-images=' + broken +
      ' svgs=' + svgs + ' empty-svgs=' + empty + ' sliders=' + sliders +
      ' slider-frames=' + frames + ' sliders-working=' + working);
  });
})();
"#;

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
