#!/usr/bin/env bash
# Prints the size of the release build of the app (what a holder's browser downloads), raw and
# gzipped. `make bench` records it in BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT/dist"
total_raw=0; total_gz=0
printf '%-45s %10s %10s\n' file raw gzip
for f in *.wasm *.js *.css index.html; do
  [ -f "$f" ] || continue
  raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c)
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
  printf '%-45s %10d %10d\n' "$f" "$raw" "$gz"
done
printf '%-45s %10d %10d\n' total "$total_raw" "$total_gz"
# The budget the project holds itself to. It was 300 KB; the phone's 確認コード (issue 11: a
# captured 2D code or a phished link must not bind a phone) put the one app at 303.5 KB, so the
# budget is 310 KB until the app is split by page (issue 14: phone pages <= 110 KB, PC pages
# <= 150 KB), which replaces this single budget.
if [ "$total_gz" -gt 310000 ]; then echo "over the 310 KB gzip budget" >&2; exit 1; fi
