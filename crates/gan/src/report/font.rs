//! A 5×7 pixel font for the labels of PNG pictures (tick values, legends), drawn here so that
//! a picture needs no font file: digits, the lower-case letters, a few capitals and the
//! punctuation of numbers and formulas. A character without a glyph is drawn as a hollow box.

use super::png::Image;

/// Glyph width and height in font pixels; characters advance by one more (a blank column).
pub const GLYPH_W: usize = 5;
/// See [`GLYPH_W`].
pub const GLYPH_H: usize = 7;

/// Each glyph as 7 rows of 5 columns, `#` for a lit pixel.
const GLYPHS: &[(char, [&str; 7])] = &[
    (
        ' ',
        [
            "     ", "     ", "     ", "     ", "     ", "     ", "     ",
        ],
    ),
    (
        '0',
        [
            " ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### ",
        ],
    ),
    (
        '1',
        [
            "  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### ",
        ],
    ),
    (
        '2',
        [
            " ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####",
        ],
    ),
    (
        '3',
        [
            "#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### ",
        ],
    ),
    (
        '4',
        [
            "   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # ",
        ],
    ),
    (
        '5',
        [
            "#####", "#    ", "#### ", "    #", "    #", "#   #", " ### ",
        ],
    ),
    (
        '6',
        [
            "  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### ",
        ],
    ),
    (
        '7',
        [
            "#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   ",
        ],
    ),
    (
        '8',
        [
            " ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### ",
        ],
    ),
    (
        '9',
        [
            " ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  ",
        ],
    ),
    (
        '-',
        [
            "     ", "     ", "     ", "#####", "     ", "     ", "     ",
        ],
    ),
    (
        '+',
        [
            "     ", "  #  ", "  #  ", "#####", "  #  ", "  #  ", "     ",
        ],
    ),
    (
        '.',
        [
            "     ", "     ", "     ", "     ", "     ", " ##  ", " ##  ",
        ],
    ),
    (
        ',',
        [
            "     ", "     ", "     ", "     ", " ##  ", "  #  ", " #   ",
        ],
    ),
    (
        ':',
        [
            "     ", " ##  ", " ##  ", "     ", " ##  ", " ##  ", "     ",
        ],
    ),
    (
        '=',
        [
            "     ", "     ", "#####", "     ", "#####", "     ", "     ",
        ],
    ),
    (
        '/',
        [
            "     ", "    #", "   # ", "  #  ", " #   ", "#    ", "     ",
        ],
    ),
    (
        '(',
        [
            "   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # ",
        ],
    ),
    (
        ')',
        [
            " #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   ",
        ],
    ),
    (
        'a',
        [
            "     ", "     ", " ### ", "    #", " ####", "#   #", " ####",
        ],
    ),
    (
        'b',
        [
            "#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#### ",
        ],
    ),
    (
        'c',
        [
            "     ", "     ", " ### ", "#    ", "#    ", "#   #", " ### ",
        ],
    ),
    (
        'd',
        [
            "    #", "    #", " ## #", "#  ##", "#   #", "#   #", " ####",
        ],
    ),
    (
        'e',
        [
            "     ", "     ", " ### ", "#   #", "#####", "#    ", " ### ",
        ],
    ),
    (
        'f',
        [
            "  ## ", " #  #", " #   ", "###  ", " #   ", " #   ", " #   ",
        ],
    ),
    (
        'g',
        [
            "     ", "     ", " ####", "#   #", " ####", "    #", " ### ",
        ],
    ),
    (
        'h',
        [
            "#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#   #",
        ],
    ),
    (
        'i',
        [
            "  #  ", "     ", " ##  ", "  #  ", "  #  ", "  #  ", " ### ",
        ],
    ),
    (
        'j',
        [
            "   # ", "     ", "  ## ", "   # ", "   # ", "#  # ", " ##  ",
        ],
    ),
    (
        'k',
        [
            "#    ", "#    ", "#  # ", "# #  ", "##   ", "# #  ", "#  # ",
        ],
    ),
    (
        'l',
        [
            " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### ",
        ],
    ),
    (
        'm',
        [
            "     ", "     ", "## # ", "# # #", "# # #", "#   #", "#   #",
        ],
    ),
    (
        'n',
        [
            "     ", "     ", "# ## ", "##  #", "#   #", "#   #", "#   #",
        ],
    ),
    (
        'o',
        [
            "     ", "     ", " ### ", "#   #", "#   #", "#   #", " ### ",
        ],
    ),
    (
        'p',
        [
            "     ", "     ", "#### ", "#   #", "#### ", "#    ", "#    ",
        ],
    ),
    (
        'q',
        [
            "     ", "     ", " ## #", "#  ##", " ####", "    #", "    #",
        ],
    ),
    (
        'r',
        [
            "     ", "     ", "# ## ", "##  #", "#    ", "#    ", "#    ",
        ],
    ),
    (
        's',
        [
            "     ", "     ", " ####", "#    ", " ### ", "    #", "#### ",
        ],
    ),
    (
        't',
        [
            " #   ", " #   ", "###  ", " #   ", " #   ", " #  #", "  ## ",
        ],
    ),
    (
        'u',
        [
            "     ", "     ", "#   #", "#   #", "#   #", "#  ##", " ## #",
        ],
    ),
    (
        'v',
        [
            "     ", "     ", "#   #", "#   #", "#   #", " # # ", "  #  ",
        ],
    ),
    (
        'w',
        [
            "     ", "     ", "#   #", "#   #", "# # #", "# # #", " # # ",
        ],
    ),
    (
        'x',
        [
            "     ", "     ", "#   #", " # # ", "  #  ", " # # ", "#   #",
        ],
    ),
    (
        'y',
        [
            "     ", "     ", "#   #", "#   #", " ####", "    #", " ### ",
        ],
    ),
    (
        'z',
        [
            "     ", "     ", "#####", "   # ", "  #  ", " #   ", "#####",
        ],
    ),
    (
        'D',
        [
            "#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### ",
        ],
    ),
    (
        'G',
        [
            " ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####",
        ],
    ),
    (
        'X',
        [
            "#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #",
        ],
    ),
    (
        'Y',
        [
            "#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  ",
        ],
    ),
];

/// The glyph of `c`: a hollow box for a character the font lacks.
fn glyph(c: char) -> [&'static str; 7] {
    GLYPHS
        .iter()
        .find(|(g, _)| *g == c)
        .map(|(_, rows)| *rows)
        .unwrap_or([
            "#####", "#   #", "#   #", "#   #", "#   #", "#   #", "#####",
        ])
}

/// Width in image pixels of `text` drawn at `scale` (each font pixel a `scale × scale` square),
/// without the blank column after the last character.
pub fn text_width(text: &str, scale: usize) -> usize {
    let n = text.chars().count();
    (n * (GLYPH_W + 1)).saturating_sub(1) * scale
}

/// Draws `text` into an RGB `image` with its top-left corner at `(x, y)`, in `color`; pixels
/// outside the image are skipped.
pub fn draw_text(
    image: &mut Image,
    (x, y): (usize, usize),
    text: &str,
    color: [u8; 3],
    scale: usize,
) {
    assert_eq!(image.channels, 3, "draw_text: an RGB image");
    for (i, c) in text.chars().enumerate() {
        let x0 = x + i * (GLYPH_W + 1) * scale;
        for (gy, row) in glyph(c).iter().enumerate() {
            for (gx, b) in row.bytes().enumerate() {
                if b != b'#' {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (x0 + gx * scale + dx, y + gy * scale + dy);
                        if px < image.width && py < image.height {
                            let o = (py * image.width + px) * 3;
                            image.pixels[o..o + 3].copy_from_slice(&color);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank(w: usize, h: usize) -> Image {
        Image {
            width: w,
            height: h,
            channels: 3,
            pixels: vec![255; w * h * 3],
        }
    }

    fn lit(im: &Image) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        for y in 0..im.height {
            for x in 0..im.width {
                if im.pixel(x, y) != [255, 255, 255] {
                    v.push((x, y));
                }
            }
        }
        v
    }

    #[test]
    fn every_glyph_is_five_by_seven_and_distinct() {
        for (c, rows) in GLYPHS {
            assert!(rows.iter().all(|r| r.len() == GLYPH_W), "{c:?}");
        }
        for (i, (a, ra)) in GLYPHS.iter().enumerate() {
            for (b, rb) in &GLYPHS[i + 1..] {
                assert!(a != b && ra != rb, "{a:?} and {b:?}");
            }
        }
    }

    #[test]
    fn text_lands_where_asked_at_its_scale() {
        let mut im = blank(40, 20);
        draw_text(&mut im, (3, 2), "-1", [0, 0, 0], 2);
        let px = lit(&im);
        // the minus sign is row 3 of its glyph: a 10 × 2 bar at y = 2 + 6
        assert!(px.contains(&(3, 8)) && px.contains(&(12, 9)) && !px.contains(&(13, 8)));
        // the 1 starts one blank font column after the minus (6 font pixels = 12 image pixels)
        assert!(px
            .iter()
            .all(|&(x, y)| (3..3 + text_width("-1", 2)).contains(&x) && (2..16).contains(&y)));
        assert_eq!(text_width("-1", 2), 22);
        // an unknown character is a box, not nothing; drawing past the edge is clipped
        let mut im = blank(8, 8);
        draw_text(&mut im, (4, 4), "€", [9, 9, 9], 1);
        assert_eq!(lit(&im).len(), 4 + 3);
    }
}
