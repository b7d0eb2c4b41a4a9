#!/usr/bin/env bash
# Runs every check and test suite, even after one fails, then prints one closing line
# `N passed, N failed` over all of them and exits non-zero if anything failed.
# Gates (fmt, clippy, release build) count as one check each; test suites count their tests.
#
#   scripts/test.sh                 every suite below, in order (what CI and `make test` run)
#   scripts/test.sh SUITE...        only the named suites, in the order below; e.g.
#                                   `scripts/test.sh trunk-release e2e-binaries e2e` for the
#                                   end-to-end tests on fresh builds
# `make check` is `scripts/test.sh fmt clippy clippy-wasm unit-test`: minutes, no installs.
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

# The suites, in order: KIND NAME COMMAND... where KIND says how its output is counted.
suites() {
  "$@" gate fmt cargo fmt --all --check
  "$@" gate clippy cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
  "$@" gate clippy-wasm cargo clippy -p mahpki --target wasm32-unknown-unknown --all-targets --locked -- -D warnings
  # Unit tests only (no integration tests, no browser): `make check`. The full run has them in cargo-test.
  "$@" cargo unit-test cargo test --workspace --all-features --locked --lib --bins
  # --no-fail-fast: a failing test binary must not hide the results of the others.
  "$@" cargo cargo-test cargo test --workspace --all-features --locked --no-fail-fast
  # OpenSC's JPKI driver against the virtual My Number card through pcscd + vpcd.
  "$@" counted opensc-check crates/cardsim/tests/opensc-check.sh
  "$@" cargo wasm-test cargo test -p mahpki --target wasm32-unknown-unknown --locked
  "$@" gate trunk-release scripts/web.sh --release
  "$@" gate size scripts/size.sh
  # The end-to-end tests run the debug binaries of the server, the helper and cardsim (same
  # features as `cargo test` above, so nothing is rebuilt).
  "$@" gate e2e-binaries cargo build -p mahpki-server -p mahpki-helper -p mahpki-cardsim --all-features --locked
  "$@" node e2e node --test --test-concurrency=1 e2e/
  # The helper for Windows (issue 16): cross-built with Debian's MinGW-w64 and clippy-clean for
  # that target; its tests then run under Wine (scripts/wine-run.sh is cargo's runner for it).
  # tests/pcsc.rs and tests/pkcs11_softhsm.rs need Linux's pcscd/SoftHSM2: cfg'd out there.
  # The gate also checks the PE subsystems: mahpki-helper.exe a console program (3), and
  # mahpki-helperw.exe, which the log-on entry starts, without a console window (2).
  "$@" gate windows-build bash -c 'cargo build -p mahpki-helper --target x86_64-pc-windows-gnu --all-features --locked && cargo clippy -p mahpki-helper --target x86_64-pc-windows-gnu --all-targets --all-features --locked -- -D warnings && w=target/x86_64-pc-windows-gnu/debug && [ "$(python3 scripts/pe-subsystem.py $w/mahpki-helper.exe)" = 3 ] && [ "$(python3 scripts/pe-subsystem.py $w/mahpki-helperw.exe)" = 2 ]'
  "$@" cargo windows-wine cargo test -p mahpki-helper --target x86_64-pc-windows-gnu --all-features --locked
}
# Run only when named: the full run covers them.
ON_REQUEST=" unit-test "

names=()
collect() { names+=("$2"); }
suites collect
for want in "$@"; do
  if [[ ! " ${names[*]} " == *" $want "* ]]; then
    echo "test.sh: no suite '$want'; the suites are: ${names[*]}" >&2
    exit 2
  fi
done
chosen=" $* "

OUT="$ROOT/test-output"
rm -rf "$OUT"
mkdir -p "$OUT"
export MAHPKI_TEST_OUTPUT="$OUT/e2e"
passed=0
failed=0
failures=()

section() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

# Per kind, "PASSED FAILED" read from a suite's log ($1) and exit status ($2).
# gate: one check that passes or fails as a whole.
count_gate() { if [ "$2" -eq 0 ]; then echo "1 0"; else echo "0 1"; fi; }
# cargo: libtest's "test result: … N passed; M failed" lines, summed.
count_cargo() {
  echo "$(grep -oE 'test result: [A-Za-z]+\. [0-9]+ passed' "$1" | awk '{s+=$4} END {print s+0}')" \
    "$(grep -oE '[0-9]+ failed;' "$1" | awk '{s+=$1} END {print s+0}')"
}
# node: node --test's "# pass N" / "# fail N".
count_node() {
  echo "$(grep -E '^# pass [0-9]+' "$1" | awk '{s+=$3} END {print s+0}')" \
    "$(grep -E '^# fail [0-9]+' "$1" | awk '{s+=$3} END {print s+0}')"
}
# counted: a script that ends with "NAME: N passed, M failed" (NAME is $3).
count_counted() {
  grep -E "^$3: [0-9]+ passed, [0-9]+ failed$" "$1" | tail -1 | awk '{print $2+0, $4+0} END {if (NR == 0) print "0 0"}'
}

# run KIND NAME CMD...: runs one suite if it was chosen, and adds up what it reports.
run() {
  local kind="$1" name="$2"; shift 2
  if [ "$chosen" = "  " ]; then
    [[ "$ON_REQUEST" == *" $name "* ]] && return 0
  elif [[ "$chosen" != *" $name "* ]]; then
    return 0
  fi
  section "$name"
  # Free space before each suite: a full disk shows up as odd failures far from its cause.
  df -h "$ROOT" | awk 'NR == 2 {print "disk: " $4 " free of " $2}'
  local log="$OUT/$name.log"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]} p f
  read -r p f < <("count_$kind" "$log" "$rc" "$name")
  passed=$((passed + p)); failed=$((failed + f))
  # Did not compile, or crashed before reporting: count the suite itself as a failure.
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); fi
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then failures+=("$name"); fi
  if [ "$p" -eq 0 ] && [ "$rc" -eq 0 ]; then
    echo "$name ran no test" >&2; failed=$((failed + 1)); failures+=("$name (no tests)")
  fi
}

suites run

section "summary"
echo "target/: $(du -sh "$ROOT/target" 2>/dev/null | cut -f1)"
if [ ${#failures[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
  echo "logs and screenshots: $OUT"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
