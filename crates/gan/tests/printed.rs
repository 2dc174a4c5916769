//! The embedded printed digits: shapes, scaling, indexing, the held-out split, same-glyph pairs,
//! face attributes, and the `downsample2` / `edges` image helpers.

use minimax_gan::data::{
    downsample2, edges, Attributes, Dataset, Family, Glyph, Printed, Resolution,
};
use tensor::{Rng, Tensor};

const ALL: [Resolution; 3] = [Resolution::R32, Resolution::R16, Resolution::R8];

fn row(t: &Tensor, i: usize) -> &[f32] {
    let d = t.dims();
    let n: usize = d[1..].iter().product();
    &t.as_slice::<f32>()[i * n..(i + 1) * n]
}

#[test]
fn shapes_ranges_and_names_per_resolution() {
    for res in ALL {
        let p = Printed::new(res);
        let s = res.side();
        assert_eq!(p.len(), 3700);
        assert!(!p.is_empty());
        assert_eq!(p.images().dims(), &[3700, 1, s, s]);
        assert_eq!(p.sample_shape(), vec![1, s, s]);
        assert_eq!(p.name(), res.name());
        assert_eq!(p.resolution(), res);
        let v = p.images().as_slice::<f32>();
        let (lo, hi) = v
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        assert!(v.iter().all(|x| x.is_finite()));
        assert_eq!(lo, -1.0, "{res:?}: paper must be exactly -1");
        assert!(hi <= 1.0, "{res:?}: max {hi}");
        assert!(hi > 0.99, "{res:?}: no full ink, max {hi}");
        // Every image has some ink and some paper.
        for i in 0..p.len() {
            let r = row(p.images(), i);
            assert!(r.iter().any(|&x| x > -1.0), "{res:?}: image {i} has no ink");
            assert!(
                r.iter().any(|&x| x == -1.0),
                "{res:?}: image {i} has no paper"
            );
        }
    }
    assert_eq!(Resolution::R32.side(), 32);
    assert_eq!(Resolution::R16.side(), 16);
    assert_eq!(Resolution::R8.side(), 8);
    assert_eq!(Resolution::R32.name(), "printed");
    assert_eq!(Resolution::R16.name(), "printed16");
    assert_eq!(Resolution::R8.name(), "printed8");
}

#[test]
fn thirty_two_px_values_are_bytes_over_127_5_minus_1() {
    let p = Printed::new(Resolution::R32);
    for &x in p.images().as_slice::<f32>() {
        let b = ((x + 1.0) * 127.5).round();
        assert!((0.0..=255.0).contains(&b));
        assert_eq!(x, b / 127.5 - 1.0);
    }
}

#[test]
fn sixteen_px_is_the_2x2_mean_of_thirty_two_px() {
    let p32 = Printed::new(Resolution::R32);
    let p16 = Printed::new(Resolution::R16);
    let a = p32.images().as_slice::<f32>();
    let b = p16.images().as_slice::<f32>();
    for i in [0usize, 1, 555, 1849, 3699] {
        for y in 0..16 {
            for x in 0..16 {
                let at = |yy: usize, xx: usize| ((a[i * 1024 + yy * 32 + xx] as f64) + 1.0) / 2.0;
                let mean01 = (at(2 * y, 2 * x)
                    + at(2 * y, 2 * x + 1)
                    + at(2 * y + 1, 2 * x)
                    + at(2 * y + 1, 2 * x + 1))
                    / 4.0;
                let got = b[i * 256 + y * 16 + x] as f64;
                assert!(
                    (got - (mean01 * 2.0 - 1.0)).abs() < 1e-6,
                    "image {i} ({y}, {x})"
                );
            }
        }
    }
    assert_eq!(p16.labels(), p32.labels());
}

#[test]
fn eight_px_values_are_counts_over_8_minus_1_with_plausible_ink() {
    let p = Printed::new(Resolution::R8);
    let v = p.images().as_slice::<f32>();
    let mut sum = 0.0f64;
    for &x in v {
        let c = (x + 1.0) * 8.0;
        assert_eq!(c, c.round(), "value {x} is not an integer count / 8 − 1");
        assert!((0.0..=16.0).contains(&c));
        assert_eq!(x, c / 8.0 - 1.0);
        sum += c as f64;
    }
    let mean_ink = sum / v.len() as f64 / 16.0;
    assert!(
        (0.1..0.6).contains(&mean_ink),
        "mean ink {mean_ink} of max is implausible"
    );
    // Some block is full (16), and every image has a block at least a quarter on (the faintest,
    // an ExtraLight 2, peaks at 7 of 16).
    assert!(v.iter().any(|&x| x == 1.0));
    for i in 0..p.len() {
        assert!(row(p.images(), i).iter().any(|&x| x >= -0.5), "image {i}");
    }
}

#[test]
fn eight_px_agree_with_thresholded_thirty_two_px() {
    // printed-8 is the 32-px image thresholded at 128 with on-pixels counted per 4×4 block.
    let p32 = Printed::new(Resolution::R32);
    let p8 = Printed::new(Resolution::R8);
    let a = p32.images().as_slice::<f32>();
    let b = p8.images().as_slice::<f32>();
    for i in (0..3700).step_by(37 * 3 + 1) {
        for y in 0..8 {
            for x in 0..8 {
                let mut on = 0;
                for dy in 0..4 {
                    for dx in 0..4 {
                        let byte =
                            ((a[i * 1024 + (4 * y + dy) * 32 + 4 * x + dx] + 1.0) * 127.5).round();
                        on += (byte >= 128.0) as usize;
                    }
                }
                assert_eq!(
                    b[i * 64 + y * 8 + x],
                    on as f32 / 8.0 - 1.0,
                    "image {i} ({y}, {x})"
                );
            }
        }
    }
}

#[test]
fn labels_are_digit_major_with_370_per_digit() {
    let p = Printed::new(Resolution::R8);
    let mut counts = [0usize; 10];
    for &l in p.labels() {
        counts[l] += 1;
    }
    assert_eq!(counts, [370; 10]);
    assert_eq!(p.labels()[0], 0);
    assert_eq!(p.labels()[369], 0);
    assert_eq!(p.labels()[370], 1);
    assert_eq!(p.labels()[3699], 9);
}

#[test]
fn index_and_position_round_trip() {
    let p = Printed::new(Resolution::R8);
    for i in 0..p.len() {
        let g = p.index(i);
        assert_eq!(i, (g.digit * 10 + g.instance) * 37 + g.face);
        assert_eq!(g.digit, p.labels()[i]);
        assert_eq!(p.position(g), Some(i));
    }
    assert_eq!(
        p.index(370 + 2 * 37 + 3),
        Glyph {
            digit: 1,
            instance: 2,
            face: 3
        }
    );
    let bad = Glyph {
        digit: 0,
        instance: 0,
        face: 37,
    };
    assert_eq!(p.position(bad), None);

    // In a selection, positions refer to the selection.
    let sub = p.select(&[3699, 5, 5, 1000]);
    assert_eq!(sub.len(), 4);
    assert_eq!(sub.labels(), &[9, 0, 0, 2]);
    assert_eq!(sub.position(p.index(3699)), Some(0));
    assert_eq!(sub.position(p.index(5)), Some(1), "first occurrence");
    assert_eq!(sub.position(p.index(1000)), Some(3));
    assert_eq!(sub.position(p.index(6)), None);
    assert_eq!(row(sub.images(), 3), row(p.images(), 1000));
    assert_eq!(sub.name(), "printed8");
}

#[test]
#[should_panic(expected = "Printed::index: index 3700 out of range for 3700 images")]
fn index_out_of_range_panics_clearly() {
    Printed::new(Resolution::R8).index(3700);
}

#[test]
#[should_panic(expected = "Printed::select: index 10 out of range")]
fn select_out_of_range_panics_clearly() {
    Printed::new(Resolution::R8).select(&[0, 10]).select(&[10]);
}

#[test]
#[should_panic(expected = "face 37 out of range")]
fn face_out_of_range_panics_clearly() {
    Printed::face_attributes(37);
}

#[test]
fn held_out_split_is_instances_8_and_9() {
    let p = Printed::new(Resolution::R16);
    let (train, test) = p.split_held_out();
    assert_eq!(train.len(), 2960);
    assert_eq!(test.len(), 740);
    assert_eq!(train.name(), "printed16-train");
    assert_eq!(test.name(), "printed16-test");
    assert_eq!(train.images().dims(), &[2960, 1, 16, 16]);
    assert_eq!(test.images().dims(), &[740, 1, 16, 16]);
    for i in 0..train.len() {
        let g = train.index(i);
        assert!(g.instance <= 7, "{g:?} in train");
        assert_eq!(test.position(g), None, "{g:?} in both");
        assert_eq!(
            row(train.images(), i),
            row(p.images(), p.position(g).unwrap())
        );
    }
    let mut faces = [0usize; 37];
    for i in 0..test.len() {
        let g = test.index(i);
        assert!(
            Printed::HELD_OUT_INSTANCES.contains(&g.instance),
            "{g:?} in test"
        );
        assert_eq!(train.position(g), None);
        assert_eq!(test.labels()[i], g.digit);
        faces[g.face] += 1;
    }
    assert_eq!(faces, [20; 37], "every face: 10 digits × 2 instances");
    let mut counts = [0usize; 10];
    for &l in test.labels() {
        counts[l] += 1;
    }
    assert_eq!(counts, [74; 10]);
}

#[test]
fn same_glyph_finds_the_same_digit_and_jitter_in_another_face() {
    let p = Printed::new(Resolution::R32);
    let (train, _) = p.split_held_out();
    for &i in &[0usize, 400, 1234, 2959] {
        let g = train.index(i);
        for face in [0usize, 12, 16, 36] {
            let j = train
                .same_glyph(i, face)
                .expect("every face is in the split");
            let h = train.index(j);
            assert_eq!((h.digit, h.instance, h.face), (g.digit, g.instance, face));
            assert_eq!(train.labels()[j], g.digit);
            assert_eq!(
                Printed::jitter(h.digit, h.instance),
                Printed::jitter(g.digit, g.instance)
            );
            if face == g.face {
                assert_eq!(j, i);
            } else {
                assert_ne!(row(train.images(), j), row(train.images(), i));
            }
        }
    }
    // Not in this set: the glyph's other faces were not selected.
    let one = p.select(&[5]);
    assert_eq!(one.same_glyph(0, 5), Some(0));
    assert_eq!(one.same_glyph(0, 6), None);
}

#[test]
fn jitter_matches_the_csv() {
    let j = Printed::jitter(0, 0);
    assert_eq!(j.rotation_deg, 7.043);
    assert_eq!(j.scale, 0.8887);
    assert_eq!(j.dx, 0.948);
    assert_eq!(j.dy, -1.049);
    for d in 0..10 {
        for i in 0..10 {
            let j = Printed::jitter(d, i);
            assert!((-10.0..=10.0).contains(&j.rotation_deg), "{j:?}");
            assert!((0.85..=1.0).contains(&j.scale), "{j:?}");
            assert!(j.dx.abs() <= 1.5 && j.dy.abs() <= 1.5, "{j:?}");
        }
    }
    assert_ne!(Printed::jitter(0, 0), Printed::jitter(0, 1));
}

#[test]
fn face_attributes_match_faces_csv() {
    let attrs = |family, bold, italic, condensed, light| Attributes {
        family,
        bold,
        italic,
        condensed,
        light,
    };
    // 0,DejaVuSans-Bold.ttf,sans,1,0,0,0
    assert_eq!(Printed::face_name(0), "DejaVuSans-Bold");
    assert_eq!(
        Printed::face_attributes(0),
        attrs(Family::Sans, true, false, false, false)
    );
    // 2,DejaVuSans-ExtraLight.ttf,sans,0,0,0,1
    assert_eq!(Printed::face_name(2), "DejaVuSans-ExtraLight");
    assert_eq!(
        Printed::face_attributes(2),
        attrs(Family::Sans, false, false, false, true)
    );
    // 12,DejaVuSansMono.ttf,mono,0,0,0,0
    assert_eq!(Printed::face_name(12), "DejaVuSansMono");
    assert_eq!(
        Printed::face_attributes(12),
        attrs(Family::Mono, false, false, false, false)
    );
    // 18,DejaVuSerifCondensed-BoldItalic.ttf,serif,1,1,1,0
    assert_eq!(Printed::face_name(18), "DejaVuSerifCondensed-BoldItalic");
    let a = Printed::face_attributes(18);
    assert_eq!(a, attrs(Family::Serif, true, true, true, false));
    assert!(a.serif());
    assert_eq!(a.vector(), [0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0]);
    // 22,LiberationMono-BoldItalic.ttf,mono,1,1,0,0
    assert_eq!(Printed::face_name(22), "LiberationMono-BoldItalic");
    let m = Printed::face_attributes(22);
    assert_eq!(m, attrs(Family::Mono, true, true, false, false));
    assert!(!m.serif());
    assert_eq!(m.vector(), [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
    // 32,LiberationSansNarrow-Regular.ttf,sans,0,0,1,0
    assert_eq!(Printed::face_name(32), "LiberationSansNarrow-Regular");
    assert_eq!(
        Printed::face_attributes(32).vector(),
        [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    );
    // 36,LiberationSerif-Regular.ttf,serif,0,0,0,0
    assert_eq!(Printed::face_name(36), "LiberationSerif-Regular");

    // Counts over all faces: 17 sans, 12 serif, 8 mono; exactly one light face.
    let mut fam = [0usize; 3];
    let mut light = 0;
    for f in 0..Printed::FACES {
        let v = Printed::face_attributes(f).vector();
        assert_eq!(v[0] + v[1] + v[2], 1.0, "face {f}: family not one-hot");
        fam[v.iter().position(|&x| x == 1.0).unwrap()] += 1;
        light += Printed::face_attributes(f).light as usize;
    }
    assert_eq!(fam, [17, 12, 8]);
    assert_eq!(light, 1);

    // attributes(i) is the attributes of image i's face.
    let p = Printed::new(Resolution::R8);
    for i in [0usize, 18, 37 + 22, 3699] {
        assert_eq!(p.attributes(i), Printed::face_attributes(p.index(i).face));
    }
}

#[test]
fn sample_labelled_draws_what_sample_draws() {
    for res in ALL {
        let p = Printed::new(res);
        let (train, _) = p.split_held_out();
        let x = train.sample(64, &mut Rng::seed(7));
        let (y, labels) = train.sample_labelled(64, &mut Rng::seed(7));
        let s = res.side();
        assert_eq!(x.dims(), &[64, 1, s, s]);
        assert_eq!(x.as_slice::<f32>(), y.as_slice::<f32>());
        assert_eq!(labels.len(), 64);
        // Each drawn image is a row of train.images() with that label.
        let mut seen = std::collections::HashSet::new();
        for k in 0..64 {
            let r = row(&y, k);
            let i = (0..train.len())
                .find(|&i| row(train.images(), i) == r)
                .expect("a sampled image is not in the set");
            assert_eq!(labels[k], train.labels()[i]);
            seen.insert(i);
        }
        assert!(
            seen.len() > 40,
            "only {} distinct images in 64 draws",
            seen.len()
        );
        // The trait's labelled sampler is the same draw.
        let (t, tl) = Dataset::sample_labelled(&train, 64, &mut Rng::seed(7)).unwrap();
        assert_eq!(t.as_slice::<f32>(), y.as_slice::<f32>());
        assert_eq!(tl, labels);
        assert_eq!(train.num_classes(), 10);
        assert_eq!(train.examples().unwrap().dims(), train.images().dims());
        // A different seed draws a different batch.
        let z = train.sample(64, &mut Rng::seed(8));
        assert_ne!(x.as_slice::<f32>(), z.as_slice::<f32>());
    }
}

#[test]
fn downsample2_averages_2x2_blocks() {
    #[rustfmt::skip]
    let img = Tensor::from_vec(
        vec![
            1.0f32, 3.0, -1.0, -1.0,
            5.0, 7.0, 1.0, 0.0,
            0.0, 0.0, 2.0, 2.0,
            0.0, 4.0, 2.0, 2.0,
            // second image
            -1.0, -1.0, -1.0, -1.0,
            -1.0, -1.0, -1.0, 1.0,
            1.0, 1.0, -1.0, -1.0,
            1.0, 1.0, -1.0, -1.0,
        ],
        [2, 1, 4, 4],
    );
    let d = downsample2(&img);
    assert_eq!(d.dims(), &[2, 1, 2, 2]);
    assert_eq!(
        d.as_slice::<f32>(),
        &[4.0, -0.25, 1.0, 2.0, -1.0, -0.5, 1.0, -1.0]
    );
}

#[test]
#[should_panic(expected = "downsample2: expected images [N, C, H, W] with even H and W")]
fn downsample2_rejects_odd_sides() {
    downsample2(&Tensor::from_vec(vec![0.0f32; 9], [1, 1, 3, 3]));
}

#[test]
fn edges_of_a_filled_square_are_a_ring() {
    // A 3×3 ink square at rows/cols 3..=5 of a 9×9 paper image.
    let (h, w) = (9usize, 9usize);
    let mut v = vec![-1.0f32; h * w];
    for y in 3..=5 {
        for x in 3..=5 {
            v[y * w + x] = 1.0;
        }
    }
    let e = edges(&Tensor::from_vec(v, [1, 1, h, w]));
    assert_eq!(e.dims(), &[1, 1, h, w]);
    let e = e.as_slice::<f32>();
    for y in 0..h {
        for x in 0..w {
            let in_box = (2..=6).contains(&y) && (2..=6).contains(&x);
            let centre = y == 4 && x == 4;
            let want = if in_box && !centre { 1.0 } else { -1.0 };
            assert_eq!(e[y * w + x], want, "({y}, {x})");
        }
    }
}

#[test]
fn edges_zero_padding_and_threshold() {
    // All ink: only the border touches the zero padding.
    let e = edges(&Tensor::from_vec(vec![1.0f32; 25], [1, 1, 5, 5]));
    let e = e.as_slice::<f32>();
    for y in 0..5 {
        for x in 0..5 {
            let border = y == 0 || x == 0 || y == 4 || x == 4;
            assert_eq!(e[y * 5 + x], if border { 1.0 } else { -1.0 }, "({y}, {x})");
        }
    }
    // All paper: no edge anywhere.
    let e = edges(&Tensor::from_vec(vec![-1.0f32; 16], [1, 1, 4, 4]));
    assert!(e.as_slice::<f32>().iter().all(|&x| x == -1.0));
    // Contrast exactly 0.5 in [0, 1] (0 → 0.5, i.e. -1 → 0) is an edge; just under is not.
    let e = edges(&Tensor::from_vec(vec![-1.0, -1.0, 0.0, -1.0], [1, 1, 1, 4]));
    assert_eq!(e.as_slice::<f32>(), &[-1.0, 1.0, 1.0, 1.0]);
    let e = edges(&Tensor::from_vec(
        vec![-1.0, -1.0, -0.01, -1.0, -1.0],
        [1, 1, 1, 5],
    ));
    assert!(e.as_slice::<f32>().iter().all(|&x| x == -1.0));
    // Channels and images are independent.
    let mut v = vec![-1.0f32; 2 * 2 * 16];
    v[16 + 5] = 1.0; // image 0, channel 1, pixel (1, 1)
    let e = edges(&Tensor::from_vec(v, [2, 2, 4, 4]));
    let e = e.as_slice::<f32>();
    assert!(e[..16].iter().all(|&x| x == -1.0));
    assert_eq!(e[16..32].iter().filter(|&&x| x == 1.0).count(), 9);
    assert!(e[32..].iter().all(|&x| x == -1.0));
}

#[test]
fn printed_edges_are_plausible() {
    let p = Printed::new(Resolution::R32);
    let e = edges(&p.select(&[0, 1000, 3699]).images().clone());
    assert_eq!(e.dims(), &[3, 1, 32, 32]);
    for k in 0..3 {
        let r = row(&e, k);
        let n = r.iter().filter(|&&x| x == 1.0).count();
        assert!((30..600).contains(&n), "image {k}: {n} edge pixels");
    }
}

/// Without distortion, [`distort8`] is the 8-px reduction of the embedded printed digits,
/// exactly; with the default one, the images stay on the 17 levels of a block count, move, and
/// depend on the seed alone.
#[test]
fn distortion_reduces_like_the_embedded_8px_set_and_is_seeded() {
    use minimax_gan::data::augment::{distort8, distorted_printed8, Distortion};
    let p32 = Printed::new(Resolution::R32);
    let p8 = Printed::new(Resolution::R8);
    let none = Distortion {
        rotate_deg: 0.0,
        shear: 0.0,
        scale: (1.0, 1.0),
        shift: 0.0,
        thin: 0.0,
    };
    let idx: Vec<usize> = (0..p32.len()).step_by(7).collect();
    let got = distort8(p32.select(&idx).images(), &none, &mut Rng::seed(1));
    assert_eq!(got.to_vec_f32(), p8.select(&idx).images().to_vec_f32());
    let d = Distortion::default();
    let (a, la) = distorted_printed8(1, &d, &mut Rng::seed(9));
    let (b, _) = distorted_printed8(1, &d, &mut Rng::seed(9));
    let (c, _) = distorted_printed8(1, &d, &mut Rng::seed(10));
    assert_eq!(a.dims(), &[2960, 1, 8, 8]);
    assert_eq!(la.len(), 2960);
    assert_eq!(a.to_vec_f32(), b.to_vec_f32(), "same seed, same images");
    assert_ne!(a.to_vec_f32(), c.to_vec_f32(), "another seed, other images");
    let (train, _) = p8.split_held_out();
    assert_eq!(la, train.labels(), "labels of the training glyphs in order");
    let (av, tv) = (a.to_vec_f32(), train.images().to_vec_f32());
    assert!(av
        .iter()
        .all(|v| ((v + 1.0) * 8.0).fract() == 0.0 && (-1.0..=1.0).contains(v)));
    let moved = av.iter().zip(&tv).filter(|(x, y)| x != y).count();
    assert!(
        moved > av.len() / 5,
        "only {moved} of {} pixels changed",
        av.len()
    );
}
