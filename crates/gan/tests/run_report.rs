//! The report a run writes, read back: every chart with axes, units and a legend; the curves
//! from every iteration while metrics.csv keeps its rows; on 1-D data the true JSD beside D's
//! estimate and the densities with D(x); on 2-D data the frames behind a slider; on images the
//! real examples beside the generated ones and the gradient norms.

use minimax_gan::data::DataSpec;
use minimax_gan::run::{train, RunConfig};
use std::path::PathBuf;

fn run(method: &str, data: &str, steps: usize, log_every: usize) -> (String, String) {
    let out = std::env::temp_dir().join(format!(
        "minimax-run-report-{}-{method}-{data}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&out);
    let mut cfg = RunConfig::new(method, out.clone()).unwrap();
    cfg.data = DataSpec::parse(data).unwrap();
    cfg.steps = steps;
    cfg.log_every = log_every;
    let cfg = cfg.options(&[("batch", "32")]).unwrap();
    train(&cfg, &mut |_| {}).expect("trains");
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    let (html, csv) = (read("report.html"), read("metrics.csv"));
    let _ = std::fs::remove_dir_all::<PathBuf>(out);
    (html, csv)
}

/// The `(x, y)` pixel points of every polyline of the series `name`, run after run.
fn points(html: &str, name: &str) -> Vec<(f64, f64)> {
    let key = format!("data-name=\"{name}\" points=\"");
    html.match_indices(&key)
        .flat_map(|(i, _)| {
            let rest = &html[i + key.len()..];
            rest[..rest.find('"').unwrap()]
                .split(' ')
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect::<Vec<(f64, f64)>>()
        })
        .collect()
}

/// The SVG charts of the page (each `<svg class="chart">…</svg>`).
fn charts(html: &str) -> Vec<&str> {
    html.match_indices("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\"")
        .map(|(i, _)| &html[i..i + html[i..].find("</svg>").unwrap()])
        .collect()
}

/// Every chart has a title, tick labels on both axes, an x label, a y label and a legend entry
/// per drawn series.
fn assert_every_chart_is_labelled(html: &str) {
    let all = charts(html);
    assert!(!all.is_empty());
    for c in all {
        assert!(c.matches("class=\"tick\"").count() >= 4, "ticks:\n{c}");
        assert!(c.contains("font-weight=\"bold\""), "title:\n{c}");
        assert!(c.contains("transform=\"rotate(-90"), "y label:\n{c}");
        let series: std::collections::BTreeSet<&str> = c
            .match_indices("class=\"series\" data-name=\"")
            .map(|(i, m)| {
                let s = &c[i + m.len()..];
                &s[..s.find('"').unwrap()]
            })
            .collect();
        assert!(!series.is_empty(), "no series:\n{c}");
        for name in series {
            assert!(
                c.contains(&format!(">{name}</text></g>")),
                "no legend entry for {name}"
            );
        }
    }
}

#[test]
fn a_1d_report_sets_the_true_jsd_beside_ds_estimate_and_shows_d_over_the_densities() {
    let (html, csv) = run("gan", "gauss1d", 40, 10);
    // metrics.csv keeps its rows every --log-every iterations
    let steps: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(steps, ["10", "20", "30", "40"]);
    // the curves have a point for every iteration
    assert_eq!(points(&html, "d_loss").len(), 40);
    assert_eq!(points(&html, "grad_norm_d").len(), 40);
    // the JSD chart: the true JSD and D's estimate on fresh samples at the start and after each
    // of the 40 iterations, the per-batch estimate at each iteration, in JSD units (nats)
    assert!(html.contains(">The true JSD and D&#39;s estimate of it over training</text>"));
    assert!(html.contains(">JSD (nats; at most ln 2 ≈ 0.693)</text>"));
    let truth = points(&html, "true JSD: p_data against a KDE of 2,000 G samples");
    let fresh = points(
        &html,
        "D&#39;s estimate (V + ln 4)/2 on 2,000 fresh real and G samples",
    );
    let batch = points(
        &html,
        "D&#39;s estimate (V + ln 4)/2 on each training batch",
    );
    assert_eq!((truth.len(), fresh.len(), batch.len()), (41, 41, 40));
    // on the same axes: the same x pixels for the same iterations
    let xs = |v: &[(f64, f64)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
    assert_eq!(xs(&truth), xs(&fresh));
    assert_eq!(xs(&truth)[1..], xs(&batch)[..]);
    // an untrained G is far from the data: the first true JSD is the highest point
    let top = truth.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    assert_eq!(truth[0].1, top, "{truth:?}");
    // four density charts: start, ¼, ½, end, each with the data density, G's, and D(x) and D*
    // dashed on their own axis from 0 to 1
    for step in [0, 10, 20, 40] {
        assert!(
            html.contains(&format!(">iteration {step}</text>")),
            "{step}"
        );
    }
    let densities: Vec<&str> = charts(&html)
        .into_iter()
        .filter(|c| c.contains(">iteration "))
        .collect();
    assert_eq!(densities.len(), 4);
    for c in densities {
        for name in ["p_data", "p_g", "D(x)", "D*(x)"] {
            assert!(
                c.contains(&format!("class=\"series\" data-name=\"{name}\"")),
                "{name}"
            );
        }
    }
    assert_eq!(html.matches(">D(x), D*(x) (probability)</text>").count(), 4);
    assert_eq!(html.matches(">density (per unit of x)</text>").count(), 4);
    assert!(html.contains(r##"data-name="D(x)" points="##));
    let d = &html[html.find(r#"data-name="D(x)""#).unwrap()..];
    assert!(d[..d.find("/>").unwrap()].contains("stroke-dasharray=\"7 3\""));
    assert_every_chart_is_labelled(&html);
}

#[test]
fn a_2d_report_shows_frames_of_the_decision_surface_behind_a_slider() {
    let (html, _) = run("gan", "ring8", 40, 20);
    // a frame every 2 iterations (40 / 30 rounded up) from 0 to 40, the last one shown
    assert_eq!(html.matches("class=\"px frame\"").count(), 21);
    assert!(
        html.contains(r#"<input class="frames" type="range" min="0" max="20" step="1" value="20""#)
    );
    assert!(
        html.contains("data-label=\"iteration 0\"") && html.contains("data-label=\"iteration 40\"")
    );
    // in axes with a legend and the colour bar of D's probability
    let overlay = &html[html.find("class=\"overlay\"").unwrap()..];
    let overlay = &overlay[..overlay.find("</svg>").unwrap()];
    for t in [
        ">x₁ (no unit)</text>",
        ">x₂ (no unit)</text>",
        ">D(x): probability that x is real</text>",
        ">data (1,000 samples)</text>",
        ">0.5</text>",
    ] {
        assert!(overlay.contains(t), "missing {t}");
    }
    assert_every_chart_is_labelled(&html);
}

#[test]
fn an_image_report_sets_real_examples_beside_generated_ones_and_plots_gradient_norms() {
    // the autoencoder logs its gradient norm but draws no chart of it: the report adds one
    let (html, _) = run("ae", "digits", 6, 3);
    let row = &html[html.find("<div class=\"row\">").unwrap()..];
    assert!(row.contains("<div class=\"label\">generated</div>"));
    assert!(row.contains("<div class=\"label\">real (training examples)</div>"));
    // both grids at the same size: 10 digits of 8 px drawn 4× with 11 lines of padding
    assert_eq!(row.matches("width=\"331\" height=\"331\"").count(), 2);
    assert!(html.contains("grey levels from −1 (black) to +1 (white)"));
    assert!(
        !html.contains("blue: data"),
        "no colour words over a greyscale grid"
    );
    assert!(html.contains(">Gradient norms</text>"));
    assert!(html.contains(">L2 norm of the gradient (no unit)</text>"));
    assert_eq!(points(&html, "grad_norm").len(), 6);
    assert_every_chart_is_labelled(&html);
}
