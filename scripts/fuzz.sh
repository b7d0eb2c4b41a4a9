#!/usr/bin/env bash
# `make fuzz`: the property tests that `make test` runs briefly, run long. Every parser that takes
# outside bytes has one: ISO 7816 APDUs (protocol), the virtual cards and vpcd frames (cardsim),
# hostile card answers to the helper's drivers, the helper's API and PIN page, every POST/DELETE
# under the server's /api (SQLite and PostgreSQL), and certificates, CRLs and CA files (server).
#
# Why proptest and not cargo-fuzz: cargo-fuzz (libFuzzer) needs a nightly toolchain for its
# sanitizer flags, and this project's machines can only use the pinned stable toolchain (no
# toolchain downloads). The properties here drive the same real code with generated hostile
# inputs and shrink any failure to a minimal case.
#
# PROPTEST_CASES   cases per property (default 20000; `make test` uses a few dozen to a few hundred)
# FUZZ_SECONDS     keep running rounds (each with fresh random seeds) until this many seconds have
#                  passed (default 0: one round)
# A failure prints the minimal input and stops with a non-zero exit.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

export PROPTEST_CASES="${PROPTEST_CASES:-20000}"
budget="${FUZZ_SECONDS:-0}"

suites=(
  "mahpki-protocol apdu_props"
  "mahpki-cardsim apdu_props"
  "mahpki-helper hostile_card"
  "mahpki-helper api_props"
  "mahpki-server pki_props"
  "mahpki-server api_props"
)

# Build once, then run: compile time is not fuzzing time. The debug profile keeps overflow checks
# on (an overflow is a panic worth finding); the RSA crates are optimised in it anyway.
for s in "${suites[@]}"; do
  set -- $s
  cargo test -p "$1" --test "$2" --locked --no-run
done

start=$SECONDS
round=1
while :; do
  echo "== fuzz round $round: PROPTEST_CASES=$PROPTEST_CASES"
  for s in "${suites[@]}"; do
    set -- $s
    echo "-- $1 $2"
    cargo test -p "$1" --test "$2" --locked -- --test-threads=2
  done
  if [ $((SECONDS - start)) -ge "$budget" ]; then break; fi
  round=$((round + 1))
done
echo "fuzz: $round round(s), $((SECONDS - start)) s, no failure"
