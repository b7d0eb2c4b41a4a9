#!/usr/bin/env bash
# Prints what a browser downloads for each page bundle of the release build (dist/<bundle>/, from
# scripts/web.sh --release), raw and gzipped, and fails when a bundle is over its budget (issue
# 14: the phone's pages <= 110 KB gzipped in all, each PC page <= 150 KB). The bundles are
# mahpki_protocol::pages::Bundle. `make bench` records it in BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT/dist"
# The phone's pages load on mobile data, from a 2D code: the tighter budget.
budget() {
  if [ "$1" = phone ]; then echo 110000; else echo 150000; fi
}
over=0
printf '%-12s %-45s %10s %10s\n' bundle file raw gzip
for b in */; do
  b=${b%/}
  total_raw=0; total_gz=0
  for f in "$b"/*.wasm "$b"/*.js "$b"/*.css "$b"/index.html; do
    [ -f "$f" ] || continue
    raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c)
    total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
    printf '%-12s %-45s %10d %10d\n' "$b" "${f#*/}" "$raw" "$gz"
  done
  limit=$(budget "$b")
  printf '%-12s %-45s %10d %10d\n' "$b" "total (budget $limit)" "$total_raw" "$total_gz"
  if [ "$total_gz" -gt "$limit" ]; then echo "$b: $total_gz bytes gzipped, over its $limit budget" >&2; over=1; fi
done
exit "$over"
