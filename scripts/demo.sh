#!/usr/bin/env bash
# `make demo`: builds everything and runs the platform on this PC: the server with an embedded
# SQLite database in .demo-data/, the demo holders of the test PKI imported, and the local helper
# in demo mode (virtual HPKI and My Number cards, inserted from its own page). Ctrl-C stops
# everything it started.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

PORT="${PORT:-8080}"
HELPER_PORT="${HELPER_PORT:-24365}"
METRICS_PORT="${METRICS_PORT:-9464}"
DATA="${MAHPKI_DEMO_DATA:-$ROOT/.demo-data}"
SEED=1 # the helper's demo cards use the same seed (MAHPKI_DEMO_SEED defaults to 1)

echo "[demo] building the web app (release, offline), the server, the helper and cardsim"
trunk build --release
cargo build --release --locked -p mahpki-server -p mahpki-cardsim
cargo build --release --locked -p mahpki-helper --features demo

if [ ! -f "$DATA/pki/server-trust.toml" ]; then
  echo "[demo] generating the test PKI (seed $SEED) in $DATA/pki"
  target/release/cardsim pki --seed "$SEED" --out "$DATA/pki" >/dev/null
fi
# The test PKI's trust, and the JMA path switched on for JMA's holders so it can be tried too.
{ cat "$DATA/pki/server-trust.toml"; printf '\n[ca_policy.JMA]\njma_path = true\n'; } > "$DATA/server.toml"
export MAHPKI_CONFIG="$DATA/server.toml"
export MAHPKI_DATA_DIR="$DATA/db"
export MAHPKI_LISTEN="127.0.0.1:$PORT"
export MAHPKI_PUBLIC_ORIGIN="http://localhost:$PORT"
export MAHPKI_DIST_DIR="$ROOT/dist"
export MAHPKI_HELPER_ORIGINS="http://127.0.0.1:$HELPER_PORT"
export MAHPKI_METRICS_LISTEN="127.0.0.1:$METRICS_PORT"
target/release/mahpki-server identity import "$DATA/pki/server-import.json"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "[demo] stopped"
}
trap cleanup INT TERM EXIT

target/release/mahpki-server serve &
pids+=($!)
MAHPKI_HELPER_PORT="$HELPER_PORT" MAHPKI_HELPER_ALLOWED_ORIGINS="http://localhost:$PORT" \
  MAHPKI_DEMO_SEED="$SEED" target/release/mahpki-helper --demo &
pids+=($!)

wait_for() {
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "[demo] $2 did not start" >&2
  exit 1
}
wait_for "http://127.0.0.1:$PORT/api/health" "the server"
wait_for "http://127.0.0.1:$HELPER_PORT/demo" "the helper"

# HP0000000001's numbers printed on its (virtual) card, for the JMA path.
jma_numbers() {
  node -e 'const h = require(process.argv[1]).holders[0]; console.log(`${h.registration_number}, カードID ${h.hpki_card_id}`)' \
    "$DATA/pki/holders.json"
}

cat <<MSG

  mahpki demo is running. Open in Chrome or Edge on this PC:

      http://localhost:$PORT/
          the platform
      http://127.0.0.1:$HELPER_PORT/demo
          the virtual card reader: insert a demo holder's HPKI card or My Number card
          (their PINs are shown there)
      http://127.0.0.1:$METRICS_PORT/metrics
          what an operator's Prometheus scrapes (sign-ins, refusals, streams, CRL ages);
          http://localhost:$PORT/api/health/ready says whether the server can serve holders

  Try 別紙1: insert HP0000000001's HPKI card on the demo page, then on the platform
  「マイナンバーカードをご利用の方はこちら」 → 「HPKIカードで登録」 (PINs are on the demo page).
  Try 別紙2, スマートフォン変更, the JMA path and a CA's link: see README.md, "What make demo shows".
  JMA path for HP0000000001: 医籍登録番号 $(jma_numbers)

  Demo holders: target/release/mahpki-server identity list   (with the same MAHPKI_* settings)
  Data: $DATA (delete it to start over). Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
