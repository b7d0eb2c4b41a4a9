#!/usr/bin/env bash
# `make demo`: builds everything and runs the platform on this PC: the server with an embedded
# SQLite database in .demo-data/, the demo holders of the test PKI imported, and the local helper
# in demo mode (virtual HPKI and My Number cards, inserted from its own page). Ctrl-C stops
# everything it started. PORT, HELPER_PORT and MAHPKI_DEMO_DATA change the ports and the data.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${PORT:-8080}"
source scripts/demo-lib.sh

echo "[demo] building the web app (release, offline), the server, the helper and cardsim"
scripts/web.sh --release
cargo build --release --locked -p mahpki-server -p mahpki-cardsim
cargo build --release --locked -p mahpki-helper --features demo

demo_configure target/release "127.0.0.1:$PORT" "http://localhost:$PORT" "$ROOT/dist"
echo "[demo] HPKI second certificates: keys in the SoftHSM2 token in $DATA/hsm"
demo_second_certs target/release
demo_serve
demo_helper target/release "http://localhost:$PORT"
wait_for "http://127.0.0.1:$PORT/api/health" "the server"
wait_for "http://127.0.0.1:$HELPER_PORT/demo" "the helper"
demo_rp "http://localhost:$PORT"
wait_for "http://127.0.0.1:$RP_PORT/" "the demo relying service"

cat <<MSG

  mahpki demo is running. Open in Chrome or Edge on this PC:

      http://localhost:$PORT/
          the platform
      http://localhost:$PORT/account
          登録状況, the holder's own page after a sign-in: registrations, sign-ins, events
      http://localhost:$PORT/signin
          the daily sign-in: HPKI card, My Number card or smartphone
      http://127.0.0.1:$HELPER_PORT/demo
          the virtual card reader: insert a demo holder's HPKI card or My Number card
          (their PINs are shown there)
      http://localhost:$RP_PORT/
          a demo relying service (an electronic prescription system): 「ログインして処方箋に署名」
          signs a holder in through the platform's OpenID Connect (asking to sign: scope
          service, which the consent page names) and shows the ID token; then 「処方箋に署名」
          signs a sample prescription with the holder's HPKI second certificate (CSC API v2)
          and verifies the signature. 「ログインのみ」 signs in without the right to sign
      http://127.0.0.1:$METRICS_PORT/metrics
          what an operator's Prometheus scrapes (sign-ins, refusals, streams, CRL ages);
          http://localhost:$PORT/api/health/ready says whether the server can serve holders

  Try 別紙1: insert HP0000000001's HPKI card on the demo page, then on the platform
  「マイナンバーカードをご利用の方はこちら」 → 「HPKIカードで登録」 (PINs are on the demo page).
  Try the sign-in: $MYNUMBER_HOLDER's My Number card is bound already; insert it on the demo
  page, then http://localhost:$PORT/signin → 「マイナンバーカードでサインイン」 and its 利用者証明用
  パスワード (on the demo page). Any holder's HPKI card signs in with 「HPKIカードでサインイン」.
  Try 別紙2, スマートフォン変更, the JMA path and a CA's link: see README.md, "What make demo shows".
  Sign in with the registered phone's passkey (after 別紙2):
      http://localhost:$PORT/signin/smartphone   the PC's way: a 2D code for the phone, or this
                                                 browser's own passkey
      http://localhost:$PORT/signin/phone        on the "phone" itself (the window that registered)
  JMA path for HP0000000001: 医籍登録番号 $(jma_numbers)

  HPKI second certificates (keys in the SoftHSM2 token in $DATA/hsm):
$(second_cert_lines)
  Remote signing with them (CSC API v2): http://localhost:$PORT/csc/v2/info, and the curl
  walk-through in README.md, "Remote signing (CSC API v2)", with the demo relying service's token.

  The operator's commands on this database (from $ROOT), e.g. the demo holders and their
  second certificates:
      $(operator_line)identity list
      $(operator_line)second-cert list

  Data: $DATA (delete it to start over). Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
