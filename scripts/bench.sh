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
# A SoftHSM2 token of its own (scripts/softhsm-token.sh) and its own PostgreSQL cluster, fsync on.
csc_rows=$(cargo bench --locked -p mahpki-server --bench csc 2>/dev/null | grep '^|')
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
# The release server and bundles: navigation to the first screen, with its breakdown.
first_rows=$(MAHPKI_SERVER_BIN="$ROOT/target/release/mahpki-server" node e2e/bench/first_screen.mjs | grep '^|')
# Through the real pcscd + vpcd (the example starts pcscd only if none runs), which the
# end-to-end runs share: under their lock.
card_table=$(flock /tmp/e2e.lock cargo run --release --locked -p mahpki-cardsim --example card_bench 2>/dev/null | grep '^|')
# Issue 14 goal 5: APDUs per step of one authentication, the helper's beside OpenSC's (its
# transcripts recorded at the virtual card behind the real pcscd + vpcd, under the same lock).
apdu_dir=$(mktemp -d)
flock /tmp/e2e.lock env CARDSIM_BIN="$ROOT/target/release/cardsim" scripts/opensc-apdus.sh "$apdu_dir" >/dev/null
card_apdus=$(cargo run --release --locked -p mahpki-helper --all-features --example card_apdus -- \
  --opensc "$apdu_dir/sign.apdus" --opensc-read "$apdu_dir/read.apdus" 2>/dev/null)
rm -rf "$apdu_dir"

{
  echo "# Benchmarks"
  echo
  echo "Measured by \`make bench\` ($(scripts/machine.sh)); never asserted as timings in tests."
  echo
  cat scripts/bench-goals.md
  echo
  echo "## Web app release build (what a holder's browser downloads, per page bundle)"
  echo
  echo "\`scripts/web.sh --release\`: one Trunk build per page bundle (protocol/src/pages.rs; cargo profile wasm-release: opt-level z, LTO, one codegen unit; wasm-opt -Oz); gzip -9 of wasm + js + css + html, what one page downloads. Goal (issue 14): the phone's pages <= 110 KB, each PC page <= 150 KB; \`scripts/size.sh\` gates each bundle at its goal, or at today's size for those not yet down to it."
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
  echo "Later pages (the daily sign-in, the holder's page, remote signing) grew the bundles again; two more splits by page, measured one after the other on 2026-12-02 (KB gzipped):"
  echo
  echo "| step | account | consent | phone (enrolment) | phone-change | phone-signin |"
  echo "|---|---:|---:|---:|---:|---:|"
  echo "| before: the consent page in the account bundle; the phone's three flows in one bundle | 150.9 | (in account) | 189.0 | (in phone) | (in phone) |"
  echo "| the consent page its own bundle | 142.1 | 121.5 | = | = | = |"
  echo "| the phone's bundle split by flow: enrolment, スマートフォン変更's old phone, the phone's sign-in | = | = | 161.7 | 147.4 | 148.0 |"
  echo
  echo "Tried and dropped: \`#[inline(always)]\` on the string lookup (the match stayed whole; +0.1 KB). What is left, by twiggy on the"
  echo "unoptimised wasm (\`target/wasm32-unknown-unknown/wasm-release/<bundle>.wasm\`): the home bundle, one static page and the"
  echo "footer's health call, is 98 KB, of which about 12 KB is text (the UI strings it uses, panic locations) and the rest Yew's"
  echo "runtime, wasm-bindgen's glue, serde_json and the allocator: that floor alone is about 90 % of the phone's goal. Each phone bundle adds"
  echo "its flow (the three were ~70 KB of mahpki code before wasm-opt, together), WebAuthn (webauthn-rs-proto's derived deserialisers, ~25 KB before"
  echo "wasm-opt, and base64), serde-derived deserialisers of the wire types (~16 % of the code) and the whole error catalogue"
  echo "(6 KB gzipped: errors come from the server, so every code's text). Reaching 110 KB needs the floor lowered, not only cuts:"
  echo "the phone's WebAuthn options passed to the browser as JSON (\`PublicKeyCredential.parseCreationOptionsFromJSON\`) instead"
  echo "of deserialised, a serde-free reader for the few wire types a page reads, the error texts a page can meet rather than all,"
  echo "and fewer Yew components per screen (each monomorphises Yew's lifecycle, ~0.5-7 KB each before wasm-opt)."
  echo
  echo "## Server: sign-in throughput (issue 14, goal 3)"
  echo
  echo "Through the real router, 800 sign-ins per row made by 16 browsers at once (\`benches/auth.rs\`): the HPKI card (challenge + finish: challenge taken from the store, certificate chain and CRL, signature, holder lookup, session rotation and its audit row), the My Number card's daily sign-in (challenge + sign-in: the same card checks, the binding, a signing session and its audit row) and the passkey on the phone (begin + finish: WebAuthn assertion, counter, signing session and its audit row). Each row's two steps are timed apart: first every challenge, then every answer; the cards' RSA signatures (on every core) and the phones' assertions are made between the two windows, so the figure is the server's own (a real card signs in the holder's reader, not on the server). Rate = sign-ins ÷ (first window + second window), and what each step takes of the run per sign-in. SQLite in WAL mode; PostgreSQL in a cluster of its own with fsync on, as deployed. Beside them, in the same run, the crypto that bounds them: raw verifications per second on one core × cores ÷ verifications per sign-in (two RSA for a card: the certificate's and the challenge's; one P-256 for a passkey). The test fixture's keys are RSA-3072 (real HPKI and JPKI cards: RSA-2048, about twice as fast to verify), so the card bound is the fixture's."
  echo
  echo "| what | rate |"
  echo "|---|---|"
  echo "$auth_rows"
  echo
  cat scripts/bench-signin-writes.md
  echo
  echo "## Server: remote signing, signHash beside the raw PKCS#11 rate (issue 13)"
  echo
  echo "One run of \`benches/csc.rs\` on a SoftHSM2 token made by \`scripts/softhsm-token.sh\`, with the holder's HPKI second certificate made as the operator makes it (an RSA-2048 key generated in the token, the test CA's certificate imported). Raw: \`C_Sign\` (\`CKM_RSA_PKCS\` over a SHA-256 DigestInfo, what signHash's sha256WithRSAEncryption asks of the token) with that key through \`cryptoki\`, each thread on its own logged-in session with the key found once, on one thread and on every core, measured at the start and at the end of the run (the better all-cores figure is the bound), and through the server's HSM pool one signature per call. API: 8 callers through the real router, each \`credentials/authorize\` for new hashes (numSignatures = multisign = 100, or 1 as a prescription system signing one prescription at a time) then \`signatures/signHash\` of them, back to back for 5 s: access token and signing session checked, the SAD taken in the database in the transaction held open while the HSM signs, one audit row per signature, a call's hashes signed on as many lanes (sessions) at once as the machine has cores (1 lane: the same server signing them one after another); SQLite in WAL mode, PostgreSQL in a cluster of its own with fsync on. Signatures per second, the ratio to the raw bound (goal: at least 0.5), and the mean time of each call."
  echo
  echo "| what | rate |"
  echo "|---|---|"
  echo "$csc_rows"
  echo
  cat scripts/bench-csc-notes.md
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
  echo "## Browsers: navigation to the first screen (issue 14, goal 2)"
  echo
  echo "Headless Chromium on loopback, the release server and bundles (\`e2e/bench/first_screen.mjs\`), median of each part over the rounds, milliseconds from navigation start: the html's last byte; the wasm's last byte (fetched from the html's preload); compile + instantiate (from the wasm's last byte to \`WebAssembly.instantiate\` resolving); render (from instantiation to the app's first screen replacing the loading line); total (navigation start to the frame that paints it; median and p95). Cold: HTTP cache off, a first visit. Warm: the cache and Chromium's compiled-wasm cache filled, the clinic's daily visit. Goal: total <= 100 ms."
  echo
  echo "| page | rounds | html | wasm | compile | render | total (median) | total (p95) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  echo "$first_rows"
  echo
  cat scripts/bench-first-screen.md
  echo
  echo "## Virtual cards: read the authentication certificate, verify the PIN, sign"
  echo
  echo "APDUs exchanged and time per flow through the real pcscd + vpcd stack (cardsim's card_bench)."
  echo
  echo "$card_table"
  echo
  echo "## Card round trips: APDUs per step of one authentication (issue 14, goal 5)"
  echo
  echo "Ours: what the helper's operation runner sends for one authentication (crates/helper/examples/card_apdus.rs): it finds the card, trying the wanted kind's applications first, and reads it in the same hold of the card (certificate, and PIN tries with an empty VERIFY); after the PIN page it selects the application again, verifies and signs. Counted at each cardsim card in the helper's in-process virtual reader. OpenSC $(opensc-tool --info 2>/dev/null | awk '/OpenSC/{print $2; exit}') (JPKI only: it has no HPKI driver): one \`pkcs11-tool --login --pin … --sign --mechanism SHA256-RSA-PKCS --id 01\` run against the virtual My Number card behind the real pcscd + vpcd (\`scripts/opensc-apdus.sh\`): loading the module binds the card (its drivers probe it until the jpki driver takes it; the PKCS#15 emulation selects the JPKI AP and asks both PINs' tries) and reads every certificate file to build its objects, the authentication certificate among them; then C_Login (SELECT the PIN EF, VERIFY) and C_Sign (SELECT the key EF, \`80 2A\` over the DigestInfo). Its APDUs are recorded at the card and checked against OpenSC's own log (as many \"Outgoing APDU\"s at debug 9; lower levels leave PIN commands out); file caching off (the default). One classifier sorts both transcripts: a SELECT of an EF counts for what is done with the EF."
  echo
  echo "$card_apdus"
  echo
  echo "Goal: ours <= OpenSC's on each step. Met on every step but one: the helper selects the application twice, once to find and read the card and once after the PIN page, where OpenSC's one process selects it once and keeps that selection from C_Login to C_Sign. The helper keeps the second SELECT on purpose: the holder may take a minute at the PIN page while other programs use the card, and a VERIFY sent to another application's PIN EF would spend that PIN's tries. Before this work the helper sent 15 (JPKI), 13 (JMA), 12 (annex B) and 18 (annex B without extended APDUs) APDUs: it read each file as a 5-byte header READ then the rest (now one READ with Le 0, extended where the card takes it, continued only where an answer stops), selected the annex B certificate EF before reading it (now read by its short EF identifier), and selected the application once to identify the card and again to read it (now one hold of the card). Left: a card without extended APDUs costs one refused extended READ and one refused extended PSO per authentication (the profile promises extended length; the refusal is not remembered between the read and the signature); JPKI's CA certificate (2 APDUs, EF 000B) is read and returned as \`ca_certificate\` though the web app does not send it on; JPKI 署名用 (the signature certificate) is not in the helper's driver, so it has no row. OpenSC's probing (its first row) goes with \`card_drivers = jpki;\` in opensc.conf (43 APDUs in all then, measured once by hand), which a default install does not set."
} > BENCHMARKS.md
cat BENCHMARKS.md
