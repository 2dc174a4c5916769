#!/usr/bin/env bash
# Re-runs every command whose output the docs quote and records that output.
#
# A quoted output in docs/*.md is a fenced block preceded by a line
#     <!-- output of: minimax ARGS -->
# (or `<!-- output of (checked live): minimax ARGS -->` for a fast, deterministic command that
# the tests also re-run). This script builds the binary, runs each such command from the
# repository root and writes `$ minimax ARGS` and then its output to docs/figures/NAME.txt, NAME
# being the page and the block's number (`dcgan-1.txt`). `cargo test --test doc_figures`
# then checks that every line quoted in the docs is a line of the recorded output (lines that
# report a duration may differ), so the docs cannot quote figures the command did not print.
#
# Usage: scripts/doc-figures.sh [PAGE...]   (pages by name, e.g. `dcgan`; default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/minimax"
pages=("$@")
if [ ${#pages[@]} -eq 0 ]; then
    pages=($(grep -l -- '<!-- output of' docs/*.md | xargs -n1 basename | sed 's/\.md$//'))
fi
for page in "${pages[@]}"; do
    n=0
    grep -- '<!-- output of' "docs/$page.md" | while IFS= read -r line; do
        n=$((n + 1))
        cmd=$(printf '%s\n' "$line" | sed -E 's/^<!-- output of( \(checked live\))?: minimax (.*) -->$/\2/')
        out="docs/figures/$page-$n.txt"
        echo "running: minimax $cmd  ->  $out" >&2
        { echo "\$ minimax $cmd"; eval "\"$bin\" $cmd" 2>&1; } > "$out"
    done
done
