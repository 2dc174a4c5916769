//! Data that says what its batches are: every `--data` spelling opens to the kinds of batch it
//! gives, and each kind of batch is what it claims.

use minimax_gan::data::{edges, BatchKind, DataSpec, Dataset, Printed, Resolution};
use tensor::Rng;

#[test]
fn every_spelling_parses_back_and_gives_its_kinds_of_batch() {
    use BatchKind::*;
    for (spec, kinds, shape) in [
        ("ring8", vec![Unlabelled], vec![2]),
        ("gauss1d", vec![Unlabelled], vec![1]),
        ("digits", vec![Unlabelled, Labelled], vec![1, 8, 8]),
        ("printed", vec![Unlabelled, Labelled], vec![1, 32, 32]),
        ("printed16", vec![Unlabelled, Labelled], vec![1, 16, 16]),
        ("printed8", vec![Unlabelled, Labelled], vec![1, 8, 8]),
        ("edges2printed", vec![Unlabelled, Paired], vec![1, 32, 32]),
        ("printed8+digits", vec![Unpaired], vec![1, 8, 8]),
    ] {
        let parsed = DataSpec::parse(spec).unwrap_or_else(|| panic!("{spec}"));
        assert_eq!(parsed.spec(), spec);
        let data = parsed.open().unwrap();
        assert_eq!(data.kinds(), kinds, "{spec}");
        assert_eq!(data.sample_shape(), shape, "{spec}");
    }
    for bad in [
        "mnist",
        "idx:",
        "npy:",
        "digits+",
        "a+b+c",
        "ring8+grid25+digits",
    ] {
        assert_eq!(DataSpec::parse(bad), None, "{bad}");
    }
}

#[test]
fn labelled_batches_carry_the_label_of_each_image() {
    let data = DataSpec::parse("printed8").unwrap().open().unwrap();
    let all = Printed::new(Resolution::R8);
    let (x, labels) = data.labelled(32, &mut Rng::seed(1));
    assert_eq!(x.dims(), &[32, 1, 8, 8]);
    let imgs = all.images().to_vec_f32();
    let xs = x.to_vec_f32();
    for (i, &l) in labels.iter().enumerate() {
        let row = &xs[i * 64..(i + 1) * 64];
        // find the image among the digit's 370 and check it is there
        let found = (0..all.len())
            .filter(|&j| all.labels()[j] == l)
            .any(|j| &imgs[j * 64..(j + 1) * 64] == row);
        assert!(found, "batch row {i} is not an image of digit {l}");
    }
}

#[test]
fn paired_batches_are_the_edges_of_their_glyphs() {
    let data = DataSpec::parse("edges2printed").unwrap().open().unwrap();
    let (a, b) = data.paired(16, &mut Rng::seed(2));
    assert_eq!(a.dims(), &[16, 1, 32, 32]);
    assert_eq!(a.to_vec_f32(), edges(&b).to_vec_f32());
    let on = a.to_vec_f32().iter().filter(|&&v| v > 0.0).count();
    assert!(on > 16 * 20 && on < 16 * 600, "{on} edge pixels");
}

#[test]
fn unpaired_batches_are_drawn_from_each_domain_independently() {
    let data = DataSpec::parse("printed8+digits").unwrap().open().unwrap();
    let (x, y) = data.unpaired(8, &mut Rng::seed(3));
    assert_eq!((x.dims(), y.dims()), (&[8, 1, 8, 8][..], &[8, 1, 8, 8][..]));
    // the two draws use one generator in turn: X first, then Y
    let mut rng = Rng::seed(3);
    let px = Printed::new(Resolution::R8).sample(8, &mut rng);
    let dy = minimax_gan::data::Digits::new().sample(8, &mut rng);
    assert_eq!(x.to_vec_f32(), px.to_vec_f32());
    assert_eq!(y.to_vec_f32(), dy.to_vec_f32());
}

#[test]
fn held_out_data_splits_printed_digits_by_instance_and_digits_per_class() {
    let data = DataSpec::parse("printed").unwrap().open_held_out().unwrap();
    let test = data.test.as_ref().unwrap().examples().unwrap();
    let train = data.train.examples().unwrap();
    assert_eq!(test.dims()[0], 740);
    assert_eq!(train.dims()[0], 2960);
    let d = DataSpec::Digits.open_held_out().unwrap();
    assert_eq!(d.train.examples().unwrap().dims()[0], 1438);
    assert_eq!(d.test.as_ref().unwrap().examples().unwrap().dims()[0], 359);
    let e = DataSpec::EdgesToPrinted.open_held_out().unwrap();
    assert_eq!(e.test.as_ref().unwrap().examples().unwrap().dims()[0], 740);
    assert!(e.gives(BatchKind::Paired));
}

#[test]
fn degenerate_data_files_are_refused_at_load() {
    let dir = std::env::temp_dir().join(format!("minimax-batches-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // an IDX file of 0 images of 28×28
    let idx = dir.join("empty.idx");
    let mut bytes = vec![0, 0, 8, 3];
    for d in [0u32, 28, 28] {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    std::fs::write(&idx, &bytes).unwrap();
    let e = DataSpec::Idx(idx.clone()).open().err().unwrap().to_string();
    assert!(e.contains("holds no image"), "{e}");
    // a 5-D NPY array
    let npy = dir.join("five.npy");
    nn::io::save_npy(
        &npy,
        &tensor::Tensor::zeros([2, 1, 1, 2, 2], tensor::DType::F32),
    )
    .unwrap();
    let e = DataSpec::Npy(npy).open().err().unwrap().to_string();
    assert!(e.contains("each example has shape [1, 1, 2, 2]"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
