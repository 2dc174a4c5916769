//! The 32-px printed-digit classifier reads digits and styles of held-out glyphs.

use minimax_gan::metrics::PrintedClassifier;

#[test]
fn the_printed_classifier_reads_held_out_digits_and_styles() {
    let t0 = std::time::Instant::now();
    let clf = PrintedClassifier::train(0);
    let s = clf.style_accuracy();
    eprintln!(
        "digits {:.4}, bold {:.4}, italic {:.4}, serif {:.4} in {:.1} s",
        clf.digit_accuracy(),
        s[0],
        s[1],
        s[2],
        t0.elapsed().as_secs_f64()
    );
    assert!(clf.digit_accuracy() > 0.97, "{clf:?}");
    assert!(s.iter().all(|&a| a > 0.85), "{clf:?}");
    // its features put the held-out digits at distance ~0 from themselves
    let fd = clf.frechet_to_held_out(clf.held_out().images());
    assert!(fd.abs() < 1e-3, "{fd}");
}

/// Trained on distorted printed digits (what `train dtn --distorted-f` uses as f), the
/// classifier still reads the held-out printed glyphs and reads more handwritten digits than
/// one trained on the plain glyphs (seed 0: 66.7 % against 60.7 %).
#[test]
fn distorted_training_carries_over_to_handwriting_better() {
    let hw = minimax_gan::data::Digits::new();
    let plain = minimax_gan::metrics::DigitClassifier::train_printed(0);
    let distorted = minimax_gan::metrics::DigitClassifier::train_printed_distorted(8, 3, 0);
    let (a, b) = (
        plain.accuracy(hw.images(), hw.labels()),
        distorted.accuracy(hw.images(), hw.labels()),
    );
    assert!(
        distorted.held_out_accuracy() > 0.98,
        "{}",
        distorted.held_out_accuracy()
    );
    assert!(
        b > a + 0.03,
        "handwritten read right: plain {a:.3}, distorted {b:.3}"
    );
}
