# Sourced by demo.sh (`make demo`) and dev.sh (`make dev`), so both run on the same: the demo's
# test PKI, trust and holders in $DATA, the settings file the server and the operator's
# commands read, and the local helper in demo mode (virtual cards inserted from its own page).
# Expects env.sh sourced and the working directory at $ROOT.

HELPER_PORT="${HELPER_PORT:-24365}"
METRICS_PORT="${METRICS_PORT:-9464}"
DATA="${MAHPKI_DEMO_DATA:-$ROOT/.demo-data}"
SEED=1 # the helper's demo cards use the same seed (MAHPKI_DEMO_SEED defaults to 1)
DATA="$(mkdir -p "$DATA" && cd "$DATA" && pwd)"
CONFIG="$DATA/server.toml"

# Everything comes from $CONFIG: a MAHPKI_* variable left in the caller's shell would override it
# and point the server somewhere else than the operator's printed command line.
unset MAHPKI_CONFIG MAHPKI_LISTEN MAHPKI_PUBLIC_ORIGIN MAHPKI_DATA_DIR MAHPKI_DATABASE_URL \
  MAHPKI_SECRET_FILE MAHPKI_DIST_DIR MAHPKI_HELPER_ORIGINS MAHPKI_METRICS_LISTEN \
  MAHPKI_HSM_MODULE MAHPKI_HSM_TOKEN_LABEL MAHPKI_HSM_PIN MAHPKI_HSM_PIN_FILE

# demo_configure BIN_DIR LISTEN PUBLIC_ORIGIN [DIST_DIR]: makes the test PKI once, writes $CONFIG
# (where the server listens, the origin the browser uses, the database, the trust in the test
# PKI, the JMA path on for JMA's holders), and imports the demo holders.
demo_configure() {
  local bin="$1" listen="$2" origin="$3" dist="${4:-}"
  # The HSM of the second certificates' keys: a SoftHSM2 token in $DATA/hsm, its PIN in a file
  # the settings name (the demo's PIN: a real deployment's comes from its HSM's custodians).
  local softhsm_conf
  softhsm_conf="$(scripts/softhsm-token.sh "$DATA/hsm" mahpki 123456)"
  (umask 077 && printf '123456\n' > "$DATA/hsm/pin")
  if [ ! -f "$DATA/pki/server-trust.toml" ] || ! grep -q signing_policies "$DATA/pki/server-trust.toml"; then
    echo "[demo] generating the test PKI (seed $SEED) in $DATA/pki"
    "$bin/cardsim" pki --seed "$SEED" --out "$DATA/pki" >/dev/null
  fi
  {
    echo "# Written by scripts/demo-lib.sh on every start of make demo / make dev."
    printf "listen = '%s'\npublic_origin = '%s'\ndata_dir = '%s'\n" "$listen" "$origin" "$DATA/db"
    if [ -n "$dist" ]; then printf "dist_dir = '%s'\n" "$dist"; fi
    printf "helper_origins = ['http://127.0.0.1:%s']\n" "$HELPER_PORT"
    printf "metrics_listen = '127.0.0.1:%s'\n" "$METRICS_PORT"
    cat "$DATA/pki/server-trust.toml"
    printf '\n[ca_policy.JMA]\njma_path = true\n'
    printf "\n[hsm]\ntoken_label = 'mahpki'\npin_file = '%s'\n" "$DATA/hsm/pin"
  } > "$CONFIG"
  # SoftHSM2 finds its token through SOFTHSM2_CONF: part of the operator's command line.
  SERVER=(env "SOFTHSM2_CONF=$softhsm_conf" "$bin/mahpki-server" --config "$CONFIG")
  "${SERVER[@]}" identity import "$DATA/pki/server-import.json"
}

# demo_second_certs BIN_DIR: every demo holder in good standing gets an HPKI second certificate
# whose key is in the SoftHSM2 token: `second-cert request` makes the key and the CSR, cardsim's
# test CA issues, `second-cert import` checks and activates it. Holders that have one keep it.
demo_second_certs() {
  local bin="$1" dir="$DATA/second-certs" id csrs=()
  mkdir -p "$dir"
  for id in $(node -e 'for (const h of require(process.argv[1]).holders) if (!h.revoked) console.log(h.hpki_id)' "$DATA/pki/holders.json"); do
    if "${SERVER[@]}" second-cert list "$id" 2>/dev/null | grep -q '"state":"active"'; then continue; fi
    "${SERVER[@]}" second-cert request "$id" --out "$dir/$id.csr.pem"
    csrs+=("$dir/$id.csr.pem")
  done
  if [ ${#csrs[@]} -gt 0 ]; then
    "$bin/cardsim" second-cert --seed "$SEED" "${csrs[@]}"
    for csr in "${csrs[@]}"; do
      id="$(basename "$csr" .csr.pem)"
      "${SERVER[@]}" second-cert import "$id" "$dir/$id.cert.pem" >/dev/null
    done
  fi
}

# The demo holders' second certificates, one line each, for the demo's closing message.
second_cert_lines() {
  "${SERVER[@]}" second-cert list 2>/dev/null | node -e '
    const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").filter(Boolean);
    for (const l of lines) { const c = JSON.parse(l); if (c.state !== "active") continue;
      console.log(`      ${c.hpki_id}  credential ${c.credential_id}  serial ${c.serial}  until ${new Date(c.not_after_ms).toISOString().slice(0, 10)}`); }'
}

pids=()
demo_cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "[demo] stopped"
}
trap demo_cleanup INT TERM EXIT

# demo_serve: the server on $CONFIG, in the background.
demo_serve() {
  "${SERVER[@]}" serve &
  pids+=($!)
}

# demo_helper BIN_DIR PAGE_ORIGIN: the helper in demo mode for a page at PAGE_ORIGIN.
demo_helper() {
  MAHPKI_HELPER_PORT="$HELPER_PORT" MAHPKI_HELPER_ALLOWED_ORIGINS="$2" \
    MAHPKI_DEMO_SEED="$SEED" "$1/mahpki-helper" --demo &
  pids+=($!)
}

# demo_rp ISSUER: the demo relying service (e2e/rp/rp.mjs, "デモ処方システム") on $RP_PORT,
# registered once with the platform's OpenID Provider (its client in $DATA/demo-rp-client.json,
# registered again if the database no longer has it).
RP_PORT="${RP_PORT:-8090}"
demo_rp() {
  local reg="$DATA/demo-rp-client.json" id=""
  if [ -s "$reg" ]; then
    id="$(node -p 'require(process.argv[1]).client_id' "$reg")"
    "${SERVER[@]}" oidc-client list 2>/dev/null | grep -q "\"client_id\":\"$id\"" || id=""
  fi
  if [ -z "$id" ]; then
    "${SERVER[@]}" oidc-client add "デモ処方システム" --redirect-uri "http://localhost:$RP_PORT/callback" \
      > "$reg" 2>/dev/null
    chmod 600 "$reg"
  fi
  MAHPKI_ISSUER="$1" RP_PORT="$RP_PORT" \
    RP_CLIENT_ID="$(node -p 'require(process.argv[1]).client_id' "$reg")" \
    RP_CLIENT_SECRET="$(node -p 'require(process.argv[1]).client_secret' "$reg")" \
    node "$ROOT/e2e/rp/rp.mjs" &
  pids+=($!)
}

wait_for() {
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "[demo] $2 did not start" >&2
  exit 1
}

# HP0000000001's numbers printed on its (virtual) card, for the JMA path.
jma_numbers() {
  node -e 'const h = require(process.argv[1]).holders[0]; console.log(`${h.registration_number}, カードID ${h.hpki_card_id}`)' \
    "$DATA/pki/holders.json"
}

# What the operator types to run a command on this database (printed by both scripts).
operator_line() {
  printf '%q ' "${SERVER[@]}"
}
