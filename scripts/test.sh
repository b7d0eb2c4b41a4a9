#!/usr/bin/env bash
# Runs every check and test suite, even after one fails, then prints one closing line
# `N passed, N failed` over all of them and exits non-zero if anything failed.
# Gates (fmt, clippy, release build) count as one check each; test suites count their tests.
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

OUT="$ROOT/test-output"
rm -rf "$OUT"
mkdir -p "$OUT"
export MAHPKI_TEST_OUTPUT="$OUT/e2e"
passed=0
failed=0
failures=()

section() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

# gate NAME CMD...: one check that passes or fails as a whole.
gate() {
  local name="$1"; shift
  section "$name"
  if "$@" 2>&1 | tee "$OUT/$name.log"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failures+=("$name")
  fi
}

# cargo_suite NAME CMD...: sums libtest's "test result: … N passed; M failed" lines.
cargo_suite() {
  local name="$1"; shift
  section "$name"
  "$@" 2>&1 | tee "$OUT/$name.log"
  local rc=${PIPESTATUS[0]}
  local p f
  p=$(grep -oE 'test result: [A-Za-z]+\. [0-9]+ passed' "$OUT/$name.log" | awk '{s+=$4} END {print s+0}')
  f=$(grep -oE '[0-9]+ failed;' "$OUT/$name.log" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    # Did not compile, or crashed before reporting: count the suite itself as a failure.
    failed=$((failed + 1))
  fi
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then failures+=("$name"); fi
  if [ "$p" -eq 0 ] && [ "$rc" -eq 0 ]; then
    echo "$name ran no test" >&2; failed=$((failed + 1)); failures+=("$name (no tests)")
  fi
}

# node_suite NAME CMD...: sums node --test's "# pass N" / "# fail N".
node_suite() {
  local name="$1"; shift
  section "$name"
  "$@" 2>&1 | tee "$OUT/$name.log"
  local rc=${PIPESTATUS[0]}
  local p f
  p=$(grep -E '^# pass [0-9]+' "$OUT/$name.log" | awk '{s+=$3} END {print s+0}')
  f=$(grep -E '^# fail [0-9]+' "$OUT/$name.log" | awk '{s+=$3} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); fi
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then failures+=("$name"); fi
  if [ "$p" -eq 0 ] && [ "$rc" -eq 0 ]; then failed=$((failed + 1)); failures+=("$name (no tests)"); fi
}

# counted_suite NAME CMD...: a script that ends with "NAME: N passed, M failed".
counted_suite() {
  local name="$1"; shift
  section "$name"
  "$@" 2>&1 | tee "$OUT/$name.log"
  local rc=${PIPESTATUS[0]}
  local line p f
  line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed$" "$OUT/$name.log" | tail -1)
  p=$(echo "$line" | awk '{print $2+0}')
  f=$(echo "$line" | awk '{print $4+0}')
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); fi
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then failures+=("$name"); fi
  if [ "$p" -eq 0 ] && [ "$rc" -eq 0 ]; then failed=$((failed + 1)); failures+=("$name (no tests)"); fi
}

gate fmt cargo fmt --all --check
gate clippy cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
gate clippy-wasm cargo clippy -p mahpki --target wasm32-unknown-unknown --all-targets --locked -- -D warnings
cargo_suite cargo-test cargo test --workspace --all-features --locked
# OpenSC's JPKI driver against the virtual My Number card through pcscd + vpcd.
counted_suite opensc-check crates/cardsim/tests/opensc-check.sh
cargo_suite wasm-test cargo test -p mahpki --target wasm32-unknown-unknown --locked
gate trunk-release trunk build --release
gate size scripts/size.sh
# The end-to-end tests run the debug binaries of the server, the helper and cardsim (same
# features as `cargo test` above, so nothing is rebuilt).
gate e2e-binaries cargo build -p mahpki-server -p mahpki-helper -p mahpki-cardsim --all-features --locked
node_suite e2e node --test --test-concurrency=1 e2e/

# The helper for Windows (issue 16): cross-built with Debian's MinGW-w64 and clippy-clean for that
# target; its tests then run under Wine (scripts/wine-run.sh is cargo's runner for the target).
# tests/pcsc.rs and tests/pkcs11_softhsm.rs need Linux's pcscd/SoftHSM2: cfg'd out there (0 tests).
gate windows-build bash -c 'cargo build -p mahpki-helper --target x86_64-pc-windows-gnu --all-features --locked && cargo clippy -p mahpki-helper --target x86_64-pc-windows-gnu --all-targets --all-features --locked -- -D warnings'
cargo_suite windows-wine cargo test -p mahpki-helper --target x86_64-pc-windows-gnu --all-features --locked

section "summary"
if [ ${#failures[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
  echo "logs and screenshots: $OUT"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
