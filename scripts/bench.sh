#!/usr/bin/env bash
# `make bench`: measures what we promise to keep small or fast and rewrites BENCHMARKS.md.
# Numbers live here, never as timed assertions in tests.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

scripts/web.sh --release >/dev/null 2>&1
size_table=$(scripts/size.sh)
# Starts its own PostgreSQL cluster, fsync on, for the PostgreSQL rows.
auth_rows=$(cargo bench --locked -p mahpki-server --bench auth 2>/dev/null | grep '^|')
# Starts its own PostgreSQL cluster (as the server tests do) for the two-process row.
enrol_rows=$(cargo bench --locked -p mahpki-server --bench enrol 2>/dev/null | grep '^|')
# 10 000 PCs' event streams on the release server (SQLite; then two processes on a PostgreSQL
# cluster of its own, fsync on). It raises its open-file limit to the hard limit, as the unit's
# LimitNOFILE= does, and stops if that cannot hold 10 000 streams (raise `ulimit -Hn`).
streams_rows=$(cargo bench --locked -p mahpki-server --bench streams 2>/dev/null | grep '^|')
# Both browsers real (Chromium), release binaries: the phone's finish to the PC's screen.
cargo build --release --locked -p mahpki-server -p mahpki-helper -p mahpki-cardsim --all-features >/dev/null 2>&1
browser_rows=$(MAHPKI_SERVER_BIN="$ROOT/target/release/mahpki-server" \
  MAHPKI_HELPER_BIN="$ROOT/target/release/mahpki-helper" \
  MAHPKI_CARDSIM_BIN="$ROOT/target/release/cardsim" \
  node e2e/bench/enrol_browser.mjs | grep '^|')
# Through the real pcscd + vpcd (the example starts pcscd only if none runs), which the
# end-to-end runs share: under their lock.
card_table=$(flock /tmp/e2e.lock cargo run --release --locked -p mahpki-cardsim --example card_bench 2>/dev/null | grep '^|')

{
  echo "# Benchmarks"
  echo
  echo "Measured by \`make bench\` ($(scripts/machine.sh)); never asserted as timings in tests."
  echo
  echo "## Web app release build (what a holder's browser downloads, per page bundle)"
  echo
  echo "\`scripts/web.sh --release\`: one Trunk build per page bundle (protocol/src/pages.rs; cargo profile wasm-release: opt-level z, LTO, one codegen unit; wasm-opt -Oz); gzip -9 of wasm + js + css + html, what one page downloads. Goal (issue 14): the phone's pages <= 110 KB, each PC page <= 150 KB; \`scripts/size.sh\` gates each bundle at its goal, or at today's size for the two not yet down to it."
  echo
  echo '```'
  echo "$size_table"
  echo '```'
  echo
  echo "Before the split (one app for every page): 308 KB gzipped. The split and three cuts, measured one after the other (KB gzipped, home / mynumber / smartphone / phone):"
  echo
  echo "| step | home | mynumber | smartphone | phone |"
  echo "|---|---:|---:|---:|---:|"
  echo "| one app, every page | 308 | 308 | 308 | 308 |"
  echo "| split: one binary per bundle, no client-side router (yew-router gone) | 103.4 | 161.8 | 198.5 | 182.4 |"
  echo "| helper's OperationStatus read through a flat wire struct, not serde flatten + internal tag | = | 152.8 | (built with the next row) | = |"
  echo "| the same for CodeEvent, PhoneConfirmEvent, PhoneConfirm (SSE events, phone's confirmation) | = | = | 186.2 | 178.3 |"
  echo "| UI strings one constant per row instead of one match over all rows: a bundle links only its own | 97.9 | 149.6 | 184.9 | 174.1 |"
  echo
  echo "Tried and dropped: \`#[inline(always)]\` on the string lookup (the match stayed whole; +0.1 KB). What is left, by twiggy on the"
  echo "unoptimised wasm (\`target/wasm32-unknown-unknown/wasm-release/<bundle>.wasm\`): the home bundle, one static page and the"
  echo "footer's health call, is 98 KB, of which about 12 KB is text (the UI strings it uses, panic locations) and the rest Yew's"
  echo "runtime, wasm-bindgen's glue, serde_json and the allocator: that floor alone is about 90 % of the phone's goal. The phone adds its"
  echo "two flows (~70 KB of mahpki code before wasm-opt), WebAuthn (webauthn-rs-proto's derived deserialisers, ~25 KB before"
  echo "wasm-opt, and base64), serde-derived deserialisers of the wire types (~16 % of the code) and the whole error catalogue"
  echo "(6 KB gzipped: errors come from the server, so every code's text). Reaching 110 KB needs the floor lowered, not only cuts:"
  echo "the phone's WebAuthn options passed to the browser as JSON (\`PublicKeyCredential.parseCreationOptionsFromJSON\`) instead"
  echo "of deserialised, a serde-free reader for the few wire types a page reads, the error texts a page can meet rather than all,"
  echo "and fewer Yew components per screen (each monomorphises Yew's lifecycle, ~0.5-7 KB each before wasm-opt)."
  echo
  echo "## Server: sign-in throughput (issue 14, goal 3)"
  echo
  echo "Through the real router, 16 browsers signing in back to back for 5 s each (\`benches/auth.rs\`): the HPKI card (challenge + finish: challenge taken from the store, certificate chain and CRL, signature, holder lookup, session rotation, audit), the My Number card's daily sign-in (challenge + sign-in: the same card checks, the binding, a signing session) and the passkey on the phone (begin + finish: WebAuthn assertion, counter, signing session). SQLite in WAL mode; PostgreSQL in a cluster of its own with fsync on, as deployed. Beside them, in the same run, the crypto that bounds them: raw verifications per second on one core × cores ÷ verifications per sign-in (two RSA for a card: the certificate's and the challenge's; one P-256 for a passkey). The test fixture's keys are RSA-3072 (real HPKI and JPKI cards: RSA-2048, about twice as fast to verify), and the bench's own cards sign with them on the same two cores, which the server's figures pay for too."
  echo
  echo "| what | rate |"
  echo "|---|---|"
  echo "$auth_rows"
  echo
  cat scripts/bench-signin-writes.md
  echo
  echo "## Server: smartphone enrolment, phone finish to PC completion (別紙2)"
  echo
  echo "From the phone sending \`finish\` (WebAuthn verification, one transaction: token, ceremony state, credential, audit) to the PC's SSE stream delivering \`completed\`; soft passkey, real router, milliseconds."
  echo
  echo "| where | rounds | median | p95 | max |"
  echo "|---|---:|---:|---:|---:|"
  echo "$enrol_rows"
  echo
  echo "## Server: 10 000 PCs waiting on their codes (issue 14, goal 4)"
  echo
  echo "\`benches/streams.rs\`: the real release server (\`mahpki-server serve\`, set up as deploy/server.toml: behind a proxy, each client with its own address, default rate limits; \`[streams] per_server\` raised to 10 000) with 10 000 PCs, each signed in with its own session (the store's session insert and rotation, what a card login commits, without the card's signature) and its own enrolment code (the real \`POST /api/smartphone/enrolments\`), each holding its code's event stream (SSE) open on its own connection. RSS is the server process's VmRSS after warm-up, then with every stream open; then 100 completions, one PC at a time spread over the 10 000, each timed from the phone's \`finish\` to that PC's stream delivering \`completed\` while all the others wait (ms). PostgreSQL: two server processes on one database (a cluster of its own, fsync on), the streams on one and the phones on the other, so each completion crosses by LISTEN/NOTIFY; the RSS is the streams' process. The bench raises its open-file limit to the hard limit, which the servers inherit, as \`LimitNOFILE=\` does. Goal: <= 100 MB for 10 000 streams (<= 10 KB a stream), p95 <= 100 ms."
  echo
  echo "| where | streams | RSS without streams (MiB) | RSS with them (MiB) | per stream (KiB) | completions | median | p95 | max |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  echo "$streams_rows"
  echo
  cat scripts/bench-streams.md
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
