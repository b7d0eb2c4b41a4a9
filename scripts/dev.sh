#!/usr/bin/env bash
# `make dev`: the edit-reload loop on the demo's data. A debug server on 127.0.0.1:8080 (API
# only; Trunk.toml proxies /api to it) with the demo's trust and holders, the demo helper, and
# `trunk serve` on http://localhost:8081/ rebuilding the app on every edit. Ctrl-C stops all.
# Trunk serves one html, so one page bundle at a time (mahpki_protocol::pages): BUNDLE=phone
# make dev for /enrol, BUNDLE=phone-change for /change, BUNDLE=smartphone for /smartphone…; the
# default is home.
# Pages of other bundles show the 404 page there; `make demo` serves them all.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
source scripts/demo-lib.sh
PAGE="http://localhost:8081" # Trunk.toml [serve]
BUNDLE="${BUNDLE:-home}"

cargo build --locked -p mahpki-server -p mahpki-cardsim
cargo build --locked -p mahpki-helper --features demo
demo_configure target/debug "127.0.0.1:8080" "$PAGE"
demo_serve
demo_helper target/debug "$PAGE"
wait_for "http://127.0.0.1:8080/api/health" "the server"
wait_for "http://127.0.0.1:$HELPER_PORT/demo" "the helper"
cat <<MSG

  make dev: open $PAGE/ (bundle $BUNDLE, rebuilt on every edit) and http://127.0.0.1:$HELPER_PORT/demo
  (the virtual card reader). JMA path for HP0000000001: 医籍登録番号 $(jma_numbers)
  The operator's commands on this database: $(operator_line)identity list

MSG
# Its own dist folder: Trunk empties the one it serves, and dist/ holds the release build.
trunk serve --dist "target/web/dev-$BUNDLE" "$(scripts/web.sh --html "$BUNDLE")" &
pids+=($!)
wait -n "${pids[@]}"
