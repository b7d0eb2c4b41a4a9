#!/usr/bin/env bash
# `make bench`: measures what we promise to keep small or fast and rewrites BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
trunk build --release >/dev/null
size_table=$(scripts/size.sh)
{
  echo "# Benchmarks"
  echo
  echo "Measured by \`make bench\`; never asserted as timings in tests."
  echo
  echo "## Web app release build (what a holder's browser downloads)"
  echo
  echo "Machine: $(nproc) cores, $(uname -m), $(rustc --version | cut -d' ' -f1-2); date: $(date -u +%Y-%m-%d)."
  echo "Built with Trunk (release, opt-level z, LTO, wasm-opt -Oz); gzip -9. Budget: 300 KB gzipped."
  echo
  echo '```'
  echo "$size_table"
  echo '```'
} > BENCHMARKS.md
cat BENCHMARKS.md
