#!/usr/bin/env bash
# `make bench`: measures what we promise to keep small or fast and rewrites BENCHMARKS.md.
# Numbers live here, never as timed assertions in tests.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

scripts/web.sh --release >/dev/null 2>&1
size_table=$(scripts/size.sh)
auth_rows=$(cargo bench --locked -p mahpki-server --bench auth 2>/dev/null | grep '^|')
# Starts its own PostgreSQL cluster (as the server tests do) for the two-process row.
enrol_rows=$(cargo bench --locked -p mahpki-server --bench enrol 2>/dev/null | grep '^|')
# Both browsers real (Chromium), release binaries: the phone's finish to the PC's screen.
cargo build --release --locked -p mahpki-server -p mahpki-helper -p mahpki-cardsim --all-features >/dev/null 2>&1
browser_rows=$(MAHPKI_SERVER_BIN="$ROOT/target/release/mahpki-server" \
  MAHPKI_HELPER_BIN="$ROOT/target/release/mahpki-helper" \
  MAHPKI_CARDSIM_BIN="$ROOT/target/release/cardsim" \
  node e2e/bench/enrol_browser.mjs | grep '^|')
# Through the real pcscd + vpcd (the example starts pcscd only if none runs).
card_table=$(cargo run --release --locked -p mahpki-cardsim --example card_bench 2>/dev/null | grep '^|')

{
  echo "# Benchmarks"
  echo
  echo "Measured by \`make bench\` ($(scripts/machine.sh)); never asserted as timings in tests."
  echo
  echo "## Web app release build (what a holder's browser downloads)"
  echo
  echo "Trunk release build (cargo profile wasm-release: opt-level z, LTO, one codegen unit; wasm-opt -Oz); gzip -9. Budget: 310 KB gzipped (300 KB until the 確認コード screens; the split by page replaces it)."
  echo
  echo '```'
  echo "$size_table"
  echo '```'
  echo
  echo "With 別紙1, 別紙2, スマートフォン変更 and the JMA path the wasm is most of the total. By symbol names of the unoptimised"
  echo "wasm: the app's flows and screens and Yew's per-component code are about two thirds, serde derives and webauthn-rs-proto"
  echo "about a tenth. The error catalogue deserializes by one lookup rather than derived matches (6 KB gzipped less);"
  echo "opt-level s is larger than z. Splitting the app per page (the phone never needs the PC's card flows) is the next step."
  echo
  echo "## Server: HPKI card authentication"
  echo
  echo "Challenge + finish through the real router on SQLite (challenge taken from the store, certificate signature and CRL, holder lookup, session rotation; two RSA-2048 verifications per login), beside the raw verify rate that bounds it."
  echo
  echo "| what | rate |"
  echo "|---|---|"
  echo "$auth_rows"
  echo
  echo "Reading: the two RSA verifications of a login cost well under a millisecond; the rest is SQLite's durable commits"
  echo "(synchronous = FULL, so a binding the holder was told is complete survives a power cut): about six fsync'd writes per"
  echo "login (session, challenge issue and take, session rotation, audit). PostgreSQL or fewer writes per login would raise it."
  echo "Numbers from a machine that was also compiling are noisy; compare runs on an idle machine."
  echo
  echo "## Server: smartphone enrolment, phone finish to PC completion (別紙2)"
  echo
  echo "From the phone sending \`finish\` (WebAuthn verification, one transaction: token, ceremony state, credential, audit) to the PC's SSE stream delivering \`completed\`; soft passkey, real router, milliseconds."
  echo
  echo "| where | rounds | median | p95 | max |"
  echo "|---|---:|---:|---:|---:|"
  echo "$enrol_rows"
  echo
  echo "## Browsers: smartphone enrolment, phone finish to the PC showing completion (別紙2)"
  echo
  echo "Real Chromium for the PC and the phone (virtual platform authenticator), the release server on SQLite: from the phone's \`finish\` request leaving its browser to the PC's page rendering completion (SSE push included), and the phone's own request round trip; milliseconds."
  echo
  echo "| what | rounds | median | p95 | max |"
  echo "|---|---:|---:|---:|---:|"
  echo "$browser_rows"
  echo
  echo "## Virtual cards: read the authentication certificate, verify the PIN, sign"
  echo
  echo "APDUs exchanged and time per flow through the real pcscd + vpcd stack (cardsim's card_bench)."
  echo
  echo "$card_table"
} > BENCHMARKS.md
cat BENCHMARKS.md
