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
