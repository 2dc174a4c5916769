//! Every kind of `report.html` the command line writes, opened in a real browser.
//!
//! Short runs (a fraction of a second each) write reports of 1-D data, 2-D data with and
//! without a decision surface, digits, a conditional method, paired translation and
//! translation through a shared code. Each page is loaded by headless Chromium, which runs the
//! page's own check before it prints the page: how many pictures failed to decode, how many
//! charts show no line, whether each slider shows the frame it is moved to. The counts come
//! back in `<body data-render-check="…">`.
//!
//! Without a browser on PATH the test says so and passes: `scripts/install-browser.sh`
//! installs one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The first of the browsers we know that is on PATH.
fn find_browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|p| p.is_file())
}

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("minimax-browser-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

/// Trains `args` (after `train`) into `out` with the command line.
fn train(args: &[&str], out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_minimax"))
        .arg("train")
        .args(args)
        .arg("--out")
        .arg(out)
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the binary runs");
    assert!(
        o.status.success(),
        "minimax train {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The page as headless `browser` leaves it after its scripts ran on load.
fn dump_dom(browser: &Path, page: &Path, profile: &Path) -> String {
    let mut child = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the browser starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!(
                "{} did not finish loading {}",
                browser.display(),
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// The counts of `data-render-check="images=3 broken-images=0 …"`.
fn render_check(dom: &str) -> HashMap<String, usize> {
    let key = "data-render-check=\"";
    let i = dom.find(key).unwrap_or_else(|| {
        panic!(
            "the page's check did not run:\n{}",
            &dom[..dom.len().min(2000)]
        )
    }) + key.len();
    dom[i..i + dom[i..].find('"').unwrap()]
        .split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

/// What a report must hold at least.
struct Expect {
    images: usize,
    svgs: usize,
    /// Frames behind the one slider (0: no slider).
    frames: usize,
}

#[test]
fn every_kind_of_report_renders_in_a_browser() {
    let Some(browser) = find_browser() else {
        eprintln!("skipped: no chromium on PATH; run scripts/install-browser.sh");
        return;
    };
    let cases: [(&str, &[&str], Expect); 7] = [
        (
            "1-D data: the JSD chart and four density charts besides the curves",
            &[
                "gan",
                "--data",
                "gauss1d",
                "--steps",
                "20",
                "--log-every",
                "5",
            ],
            Expect {
                images: 0,
                svgs: 10,
                frames: 0,
            },
        ),
        (
            "2-D data: 21 frames over D's decision surface",
            &[
                "gan",
                "--data",
                "ring8",
                "--steps",
                "20",
                "--log-every",
                "5",
            ],
            Expect {
                images: 21,
                svgs: 6,
                frames: 21,
            },
        ),
        (
            "2-D data without a discriminator surface",
            &["energy", "--steps", "4", "--log-every", "2"],
            Expect {
                images: 5,
                svgs: 2,
                frames: 5,
            },
        ),
        (
            "digits: generated beside real, gradient norms",
            &["dcgan", "--steps", "4", "--log-every", "2"],
            Expect {
                images: 2,
                svgs: 5,
                frames: 0,
            },
        ),
        (
            "a conditional method",
            &["cgan", "--steps", "4", "--log-every", "2"],
            Expect {
                images: 2,
                svgs: 2,
                frames: 0,
            },
        ),
        (
            "paired translation with the PatchGAN's map",
            &["pix2pix", "--steps", "2", "--log-every", "1"],
            Expect {
                images: 2,
                svgs: 3,
                frames: 0,
            },
        ),
        (
            "translation through a shared code, its codes in axes",
            &["vaegan", "--steps", "4", "--log-every", "2"],
            Expect {
                images: 3,
                svgs: 5,
                frames: 0,
            },
        ),
    ];
    let profile = tmp("profile");
    // first a page built to fail: the check must see its broken picture and its empty chart
    let control = tmp("control");
    std::fs::create_dir_all(&control).unwrap();
    let mut page = gan::report::Report::new("a page with faults");
    page.png("not a PNG", b"\x89PNG\r\n\x1a\n but nothing after")
        .svg("no series", gan::report::LineChart::new("empty").to_svg())
        .svg(
            "one series",
            gan::report::LineChart::new("a line")
                .series_y("y", &[1.0, 2.0])
                .to_svg(),
        );
    page.write(control.join("report.html")).unwrap();
    let c = render_check(&dump_dom(&browser, &control.join("report.html"), &profile));
    assert_eq!(
        (c["images"], c["broken-images"], c["svgs"], c["empty-svgs"]),
        (1, 1, 2, 1),
        "{c:?}"
    );
    let _ = std::fs::remove_dir_all(&control);
    for (k, (what, args, expect)) in cases.iter().enumerate() {
        let out = tmp(&format!("run{k}"));
        train(args, &out);
        let dom = dump_dom(&browser, &out.join("report.html"), &profile);
        let c = render_check(&dom);
        let at = |key: &str| c[key];
        eprintln!("{what}: {c:?}");
        assert_eq!(at("broken-images"), 0, "{what}: a picture did not decode");
        assert_eq!(at("empty-svgs"), 0, "{what}: a chart shows nothing");
        assert!(at("images") >= expect.images, "{what}: {c:?}");
        assert!(at("svgs") >= expect.svgs, "{what}: {c:?}");
        assert_eq!(at("sliders"), usize::from(expect.frames > 0), "{what}");
        assert_eq!(at("slider-frames"), expect.frames, "{what}");
        assert_eq!(
            at("sliders-working"),
            at("sliders"),
            "{what}: a slider does not switch"
        );
        let _ = std::fs::remove_dir_all(&out);
    }
    let _ = std::fs::remove_dir_all(&profile);
}
