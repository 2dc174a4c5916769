#!/usr/bin/env bash
# Re-runs every command whose output the docs quote and records that output.
# (Edits to this file while it runs can break the running copy: bash reads scripts as it goes.)
#
# A quoted output in docs/*.md is a fenced block (or a Markdown table) preceded by a line
#     <!-- output of: minimax ARGS -->     or     <!-- output of: cargo run --release --example NAME ARGS -->
# (either may start with `NAME=value` settings of the environment: `LAMBDA=0.1 cargo run …`)
# (or `<!-- output of (checked live): minimax ARGS -->` for a fast, deterministic command that
# the tests also re-run). This script builds the binary, runs each such command from the
# repository root and writes `$ CMD` and then its output to docs/figures/NAME.txt, NAME
# being the page and the block's number (`dcgan-1.txt`). `cargo test --test doc_figures`
# then checks that every line quoted in the docs is a line of the recorded output (lines that
# report a duration may differ), so the docs cannot quote figures the command did not print.
# A marker followed by a Markdown table (what `train --seeds` prints) gets its table replaced
# by the recorded one; fenced blocks quote a chosen part of the output and are edited by hand.
#
# Usage: scripts/doc-figures.sh [PAGE[:N]...]   (pages by name, e.g. `dcgan`; default: all;
#        `translation:6` re-runs only the page's 6th marked command)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/minimax"
pages=("$@")
if [ ${#pages[@]} -eq 0 ]; then
    pages=($(grep -l -- '<!-- output of' docs/*.md | xargs -n1 basename | sed 's/\.md$//'))
fi
for spec in "${pages[@]}"; do
    page=${spec%%:*}
    only=""
    [ "$spec" != "$page" ] && only=${spec#*:}
    n=0
    grep -E '^[[:space:]]*<!-- output of' "docs/$page.md" | while IFS= read -r line; do
        n=$((n + 1))
        [ -n "$only" ] && [ "$n" != "$only" ] && continue
        cmd=$(printf '%s\n' "$line" | sed -E 's/^[[:space:]]*<!-- output of( \(checked live\))?: (.*) -->[[:space:]]*$/\2/')
        out="docs/figures/$page-$n.txt"
        echo "running: $cmd  ->  $out" >&2
        # `NAME=value` settings of the environment may come first
        rest=$cmd
        envs=""
        while [[ "$rest" =~ ^([A-Z_][A-Z0-9_]*=[^ ]+)\ (.*)$ ]]; do
            envs="$envs ${BASH_REMATCH[1]}"
            rest=${BASH_REMATCH[2]}
        done
        case "$rest" in
            "minimax "*) run="env$envs \"$bin\" ${rest#minimax }" ;;
            "cargo run --release --example "*) run="env$envs cargo run --quiet ${rest#cargo run }" ;;
            *) echo "docs/$page.md: cannot run '$cmd'" >&2; exit 1 ;;
        esac
        { echo "\$ $cmd"; eval "$run" 2>&1; } > "$out"
    done
done
# replace each marked table by the table its command printed
for spec in "${pages[@]}"; do
    page=${spec%%:*}
    awk -v page="$page" '
        # rows of the page table being replaced, kept in case the recording has none
        skipping && /^\|/ { old = old $0 "\n"; next }
        skipping { if (!printed) { printf "%s", old; print "doc-figures: " file " has no table; the page keeps its own" > "/dev/stderr" } skipping = 0 }
        /^[ \t]*<!-- output of/ {
            print
            n++
            file = "docs/figures/" page "-" n ".txt"
            if ((getline nextline) > 0) {
                if (nextline ~ /^\|/) {
                    printed = 0
                    while ((getline rec < file) > 0) if (rec ~ /^\|/) { print rec; printed = 1 }
                    close(file)
                    old = nextline "\n"
                    skipping = 1
                    next
                }
                print nextline
                if (nextline ~ /^[ \t]*<!-- output of/) n++
            }
            next
        }
        { print }
        END { if (skipping && !printed) printf "%s", old }
    ' "docs/$page.md" > "docs/$page.md.new"
    mv "docs/$page.md.new" "docs/$page.md"
done
