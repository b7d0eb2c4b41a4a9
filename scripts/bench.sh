#!/usr/bin/env bash
# `make bench`: measures what we promise to keep small or fast and rewrites BENCHMARKS.md.
# Numbers live here, never as timed assertions in tests.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

trunk build --release >/dev/null
size_table=$(scripts/size.sh)
auth_rows=$(cargo bench --locked -p mahpki-server --bench auth 2>/dev/null | grep '^|')
# Starts its own PostgreSQL cluster (as the server tests do) for the two-process row.
enrol_rows=$(cargo bench --locked -p mahpki-server --bench enrol 2>/dev/null | grep '^|')
# Through the real pcscd + vpcd (the example starts pcscd only if none runs).
card_table=$(cargo run --release --locked -p mahpki-cardsim --example card_bench 2>/dev/null | grep '^|')

{
  echo "# Benchmarks"
  echo
  echo "Measured by \`make bench\` ($(scripts/machine.sh)); never asserted as timings in tests."
  echo
  echo "## Web app release build (what a holder's browser downloads)"
  echo
  echo "Trunk release build (cargo profile wasm-release: opt-level z, LTO, one codegen unit; wasm-opt -Oz); gzip -9. Budget: 300 KB gzipped."
  echo
  echo '```'
  echo "$size_table"
  echo '```'
  echo
  echo "The wasm grew from 126 KB (index page alone) to about 255 KB gzipped with the 別紙1 and 別紙2 screens (2026-11-26). Not"
  echo "yet broken down by crate (no size profiler installed here); what came in is the flow screens, the 2D code renderer"
  echo "(qrcode, SVG only) and the phone's WebAuthn conversion (webauthn-rs-proto with serde-wasm-bindgen and serde_with)."
  echo "The phone never needs the PC's card flows and vice versa, so splitting the app per page is the next size step."
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
  echo "## Virtual cards: read the authentication certificate, verify the PIN, sign"
  echo
  echo "APDUs exchanged and time per flow through the real pcscd + vpcd stack (cardsim's card_bench)."
  echo
  echo "$card_table"
} > BENCHMARKS.md
cat BENCHMARKS.md
