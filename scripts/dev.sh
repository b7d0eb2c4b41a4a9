#!/usr/bin/env bash
# `make dev`: a debug server on 127.0.0.1:8080 (API only) and `trunk serve` on :8081 with live
# reload, proxying /api to it (Trunk.toml). Ctrl-C stops both.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
cargo build --locked -p mahpki-server
MAHPKI_LISTEN=127.0.0.1:8080 MAHPKI_PUBLIC_ORIGIN=http://localhost:8081 \
  MAHPKI_DATA_DIR="$ROOT/.demo-data" target/debug/mahpki-server serve &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' INT TERM EXIT
echo "open http://localhost:8081/"
trunk serve
