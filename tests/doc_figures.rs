//! The docs quote only what the commands printed: every fenced block or Markdown table marked
//! `<!-- output of: CMD -->` (CMD: `minimax …` or `cargo run --release --example …`) must be
//! lines of `docs/figures/PAGE-N.txt`, which `scripts/doc-figures.sh` writes by running CMD; blocks marked
//! `<!-- output of (checked live): minimax ARGS -->` are also compared with a fresh run here.
//! Lines reporting a duration (`… in 46.4 s`, `… it/s`) may differ in their number.

use std::path::PathBuf;
use std::process::Command;

/// One quoted output: the page, its number on the page (from 1), the command's arguments,
/// whether it is checked live, and the quoted lines.
#[derive(Debug)]
struct Quote {
    page: String,
    n: usize,
    args: String,
    live: bool,
    lines: Vec<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A marked command without the `NAME=value` environment settings it may start with
/// (`LAMBDA=0.1 cargo run --release --example 09_energy` → `cargo run …`).
fn without_env(cmd: &str) -> &str {
    let mut c = cmd;
    while let Some((first, rest)) = c.split_once(' ') {
        let setting = first.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|ch| ch.is_ascii_uppercase() || ch == '_' || ch.is_ascii_digit())
        });
        if !setting {
            break;
        }
        c = rest;
    }
    c
}

/// The marked blocks of one page's text.
fn quotes(page: &str, text: &str) -> Result<Vec<Quote>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].trim();
        if let Some(rest) = l.strip_prefix("<!-- output of") {
            let (live, rest) = match rest.strip_prefix(" (checked live)") {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let args = rest
                .strip_prefix(":")
                .and_then(|r| r.strip_suffix("-->"))
                .map(str::trim)
                .filter(|c| {
                    let c = without_env(c);
                    c.starts_with("minimax ") || c.starts_with("cargo run --release --example ")
                })
                .ok_or_else(|| format!("{page}.md line {}: malformed marker '{l}' (the command must start with `minimax ` or `cargo run --release --example `, after `NAME=value` settings of the environment if any)", i + 1))?
                .to_string();
            let next = lines.get(i + 1).map(|s| s.trim()).unwrap_or("");
            let mut block = Vec::new();
            let mut j = i + 1;
            if next.starts_with('|') {
                // a Markdown table (what `train --seeds` prints): its rows
                while j < lines.len() && lines[j].trim().starts_with('|') {
                    block.push(lines[j].to_string());
                    j += 1;
                }
                // `j` is the first line after the table: look at it again
                j -= 1;
            } else if next.starts_with("```") {
                j = i + 2;
                while j < lines.len() && lines[j].trim() != "```" {
                    block.push(lines[j].to_string());
                    j += 1;
                }
                if j == lines.len() {
                    return Err(format!("{page}.md line {}: unclosed block", i + 2));
                }
            } else {
                return Err(format!(
                    "{page}.md line {}: the marker must be followed by a fenced block or a table",
                    i + 1
                ));
            }
            out.push(Quote {
                page: page.to_string(),
                n: out.len() + 1,
                args,
                live,
                lines: block,
            });
            i = j;
        }
        i += 1;
    }
    Ok(out)
}

/// A line that reports a duration: its text without the duration's number, if so
/// (`1500 iterations in 45.6 s` → `1500 iterations in `; a line ending in milliseconds,
/// `… reverse KL 0.07  0.64 ms/round` or `…, 12.2 ms`, likewise; a progress line
/// `… | 33.3 it/s, ETA 6s` → its text up to the rate).
fn timing_prefix(line: &str) -> Option<&str> {
    let t = line.trim();
    let unit = if let Some(at) = t.find(" it/s") {
        at
    } else if let Some(u) = [" ms/round", " ms", " s"].iter().find(|u| t.ends_with(*u)) {
        t.len() - u.len()
    } else {
        return None;
    };
    let before = &t[..unit];
    let num = before.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    (num.len() < before.len()).then_some(num)
}

/// Whether `quoted` is a subsequence of `printed` (blank lines ignored), duration lines
/// matching on their text before the number. On failure, the first quoted line not found.
fn quoted_in(quoted: &[String], printed: &[String]) -> Result<(), String> {
    let mut k = 0;
    for q in quoted.iter().filter(|q| !q.trim().is_empty()) {
        let found = printed[k..].iter().position(|p| match timing_prefix(q) {
            Some(pre) => timing_prefix(p) == Some(pre),
            // a block inside a list item is indented by the list
            None => p.trim() == q.trim(),
        });
        match found {
            Some(at) => k += at + 1,
            None => return Err(q.clone()),
        }
    }
    Ok(())
}

/// Every page of docs/ as (name, text), in name order.
fn pages() -> Vec<(String, String)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let page = p.file_stem().unwrap().to_string_lossy().to_string();
            (page, std::fs::read_to_string(p).unwrap())
        })
        .collect()
}

fn all_quotes() -> Vec<Quote> {
    let mut all = Vec::new();
    for (page, text) in pages() {
        all.extend(quotes(&page, &text).unwrap());
    }
    all
}

fn recorded(q: &Quote) -> Vec<String> {
    let path = root().join(format!("docs/figures/{}-{}.txt", q.page, q.n));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/doc-figures.sh {} to record the output of `{}`",
            path.display(),
            q.page,
            q.args
        )
    });
    text.lines().map(str::to_string).collect()
}

#[test]
fn every_quoted_output_is_what_its_command_printed() {
    let all = all_quotes();
    assert!(
        all.len() >= 2,
        "expected the docs to mark their quoted outputs, found {}",
        all.len()
    );
    for q in &all {
        let rec = recorded(q);
        let want = format!("$ {}", q.args);
        assert_eq!(
            rec.first().map(String::as_str),
            Some(want.as_str()),
            "docs/figures/{}-{}.txt records another command than the one the page prints; rerun scripts/doc-figures.sh {}",
            q.page,
            q.n,
            q.page
        );
        if let Err(line) = quoted_in(&q.lines, &rec[1..]) {
            panic!(
                "docs/{}.md quotes a line that `{}` did not print (docs/figures/{}-{}.txt):\n  {line}\nrerun scripts/doc-figures.sh {} and update the page",
                q.page, q.args, q.page, q.n, q.page
            );
        }
    }
}

#[test]
fn outputs_marked_live_match_a_fresh_run() {
    let live: Vec<Quote> = all_quotes().into_iter().filter(|q| q.live).collect();
    assert!(!live.is_empty(), "no output is checked live");
    for q in live {
        let out = Command::new(env!("CARGO_BIN_EXE_minimax"))
            .args(
                q.args
                    .strip_prefix("minimax ")
                    .expect("outputs checked live are of minimax commands")
                    .split_whitespace(),
            )
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap();
        assert!(out.status.success(), "`{}` failed", q.args);
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        let printed: Vec<String> = text.lines().map(str::to_string).collect();
        if let Err(line) = quoted_in(&q.lines, &printed) {
            panic!(
                "docs/{}.md quotes a line that `{}` no longer prints:\n  {line}",
                q.page, q.args
            );
        }
    }
}

#[test]
fn the_check_catches_a_changed_figure_and_accepts_a_new_duration() {
    let page =
        "<!-- output of: minimax train x -->\n```\n10 iterations in 1.0 s\n  figure: 0.50\n```\n";
    let q = quotes("p", page).unwrap();
    assert_eq!(
        (q.len(), q[0].args.as_str(), q[0].live),
        (1, "minimax train x", false)
    );
    let printed: Vec<String> = [
        "step 5/10 | 200.0 it/s",
        "10 iterations in 3.7 s",
        "  figure: 0.50",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(quoted_in(&q[0].lines, &printed), Ok(()));
    let changed: Vec<String> = ["10 iterations in 3.7 s", "  figure: 0.51"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        quoted_in(&q[0].lines, &changed),
        Err("  figure: 0.50".to_string())
    );
    // out of order is not accepted either
    let swapped: Vec<String> = ["  figure: 0.50", "10 iterations in 3.7 s"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(quoted_in(&q[0].lines, &swapped).is_err());
    assert!(quotes("p", "<!-- output of: minimax x -->\nno fence\n").is_err());
    // environment settings may come first; other words may not
    let q = quotes(
        "p",
        "<!-- output of: ETA=0.2 LAMBDA=0.1 cargo run --release --example e -->\n```\nx\n```\n",
    )
    .unwrap();
    assert_eq!(
        q[0].args,
        "ETA=0.2 LAMBDA=0.1 cargo run --release --example e"
    );
    assert!(quotes(
        "p",
        "<!-- output of: eta=0.2 cargo run --release --example e -->\n```\nx\n```\n"
    )
    .is_err());
    assert!(
        quotes("p", "<!-- output of: ls -->\n```\nx\n```\n").is_err(),
        "not a minimax command"
    );
    // a duration line matches only with the same text around the duration
    let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let ran = lines(&[
        "10 iterations in 3.7 s",
        "step 10/10 loss 0.25 | 200.0 it/s, ETA 0s",
    ]);
    assert_eq!(
        quoted_in(&lines(&["  10 iterations in 1.2 s"]), &ran),
        Ok(())
    );
    assert!(quoted_in(&lines(&["1500 iterations in 3.7 s"]), &ran).is_err());
    assert_eq!(
        quoted_in(&lines(&["step 10/10 loss 0.25 | 9.0 it/s, ETA 3s"]), &ran),
        Ok(())
    );
    assert!(quoted_in(&lines(&["step 10/10 loss 0.26 | 200.0 it/s, ETA 0s"]), &ran).is_err());
    // milliseconds at the end of a line, per round or in all
    let ran = lines(&[
        "round 200  modes 8/8  0.88 ms/round",
        "T = 5: dist 0.571, 12.2 ms",
    ]);
    assert_eq!(
        quoted_in(
            &lines(&[
                "round 200  modes 8/8  1.58 ms/round",
                "T = 5: dist 0.571, 9.0 ms"
            ]),
            &ran
        ),
        Ok(())
    );
    assert!(quoted_in(&lines(&["round 200  modes 7/8  0.88 ms/round"]), &ran).is_err());
}

#[test]
fn a_marked_table_is_checked_row_by_row() {
    let page = "<!-- output of: minimax train x --seeds 0,1 -->\n| figure | seed 0 | seed 1 | mean ± sd |\n|---|---|---|---|\n| a | 1.0 | 3.0 | 2.0 ± 1.4 |\n\nprose after the table\n";
    let q = quotes("p", page).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(
        q[0].lines.len(),
        3,
        "the table's rows, not the prose after it"
    );
    let printed: Vec<String> = [
        "seed 0:",
        "10 iterations in 1.0 s",
        "",
        "| figure | seed 0 | seed 1 | mean ± sd |",
        "|---|---|---|---|",
        "| a | 1.0 | 3.0 | 2.0 ± 1.4 |",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(quoted_in(&q[0].lines, &printed), Ok(()));
    let other: Vec<String> = printed
        .iter()
        .map(|s| s.replace("3.0 | 2.0", "3.1 | 2.0"))
        .collect();
    assert_eq!(
        quoted_in(&q[0].lines, &other),
        Err("| a | 1.0 | 3.0 | 2.0 ± 1.4 |".to_string())
    );
}

/// The cells of a table marked `<!-- summary of this page's outputs -->` that give a mean ± sd
/// (`0.619 ± 0.018`), with the page; such a table gathers figures of the page's `--seeds` tables
/// side by side, and every such cell must be one that a recorded output of the page printed.
fn summary_cells(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut cells = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.trim() != "<!-- summary of this page's outputs -->" {
            continue;
        }
        for row in lines[i + 1..]
            .iter()
            .take_while(|r| r.trim().starts_with('|'))
        {
            for c in row.split('|').map(|c| c.trim().trim_matches('*')) {
                if c.contains(" ± ") {
                    cells.push(c.to_string());
                }
            }
        }
    }
    cells
}

#[test]
fn summary_tables_gather_only_recorded_figures() {
    let mut checked = 0;
    for (page, text) in pages() {
        let cells = summary_cells(&text);
        if cells.is_empty() {
            continue;
        }
        let recorded: Vec<String> = (1..)
            .map(|n| root().join(format!("docs/figures/{page}-{n}.txt")))
            .take_while(|f| f.exists())
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        for c in cells {
            assert!(
                recorded.iter().any(|r| r.contains(&format!("| {c} |"))),
                "docs/{page}.md's summary quotes '{c}', which none of its recorded tables gives as a mean ± sd"
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no summary table found");
    // the check itself: a cell is found only as a whole cell of a recorded row
    let cells =
        summary_cells("<!-- summary of this page's outputs -->\n| a | **0.5 ± 0.1** | 2 |\n");
    assert_eq!(cells, vec!["0.5 ± 0.1".to_string()]);
}
