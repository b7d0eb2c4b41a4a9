#!/usr/bin/env bash
# `make demo`: builds everything and runs the platform on this PC with an embedded SQLite
# database in .demo-data/. Ctrl-C stops everything it started.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

PORT="${PORT:-8080}"
DATA="${MAHPKI_DEMO_DATA:-$ROOT/.demo-data}"

echo "[demo] building the web app (release, offline) and the server"
trunk build --release
cargo build --release --locked -p mahpki-server

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "[demo] stopped"
}
trap cleanup INT TERM EXIT

MAHPKI_LISTEN="127.0.0.1:$PORT" \
MAHPKI_PUBLIC_ORIGIN="http://localhost:$PORT" \
MAHPKI_DATA_DIR="$DATA" \
MAHPKI_DIST_DIR="$ROOT/dist" \
  target/release/mahpki-server serve &
pids+=($!)

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "[demo] the server did not start" >&2; exit 1; fi
  sleep 0.1
done

cat <<MSG

  mahpki demo is running. Open this address in Chrome or Edge on this PC:

      http://localhost:$PORT/

  Data: $DATA (delete it to start over). Press Ctrl-C to stop.

MSG
wait "${pids[0]}"
