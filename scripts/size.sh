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
# The budget the project holds itself to (issue: "well under 300 KB gzipped").
if [ "$total_gz" -gt 300000 ]; then echo "over the 300 KB gzip budget" >&2; exit 1; fi
