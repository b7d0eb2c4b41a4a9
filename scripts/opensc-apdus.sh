#!/usr/bin/env bash
# `make bench`: APDUs OpenSC exchanges with the virtual My Number card (behind the real pcscd +
# vpcd) for the steps our helper takes: read the authentication certificate (pkcs15-tool
# --read-certificate), verify the PIN and sign (pkcs11-tool --login --sign). Counted from
# OpenSC's own debug log ("Outgoing APDU" lines, GET RESPONSEs included). Each OpenSC run binds
# the card first (recognise it, select its applets, read its PKCS#15 emulation), as any
# application using OpenSC does per process. Prints Markdown table rows for BENCHMARKS.md.
#
# Reader "Virtual PCD 00 01" like crates/cardsim/tests/opensc-check.sh; the caller holds
# /tmp/e2e.lock. Starts pcscd only if none runs, and stops only what it started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
READER_NAME="Virtual PCD 00 01"
VPCD_PORT=35964
SEED=11
HOLDER=HP0000000001
MODULE=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
BIN="${CARDSIM_BIN:-$ROOT/target/release/cardsim}"

tmp=$(mktemp -d)
pcscd_pid=""
cardsim_pid=""
cleanup() {
  [ -n "$cardsim_pid" ] && kill "$cardsim_pid" 2>/dev/null && wait "$cardsim_pid" 2>/dev/null
  [ -n "$pcscd_pid" ] && kill "$pcscd_pid" 2>/dev/null && wait "$pcscd_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

if ! pidof pcscd >/dev/null; then
  pcscd --foreground >"$tmp/pcscd.log" 2>&1 &
  pcscd_pid=$!
  for _ in $(seq 50); do [ -S /run/pcscd/pcscd.comm ] && break; sleep 0.1; done
fi

"$BIN" pki --seed "$SEED" --out "$tmp/pki" >/dev/null
auth_pin=$(grep -A16 "\"hpki_id\": \"$HOLDER\"" "$tmp/pki/holders.json" | grep -m1 '"jpki_auth_pin"' | cut -d'"' -f4)

"$BIN" serve --seed "$SEED" --vpcd-port "$VPCD_PORT" --control-port 0 >"$tmp/cardsim.out" 2>"$tmp/cardsim.err" &
cardsim_pid=$!
port=""
for _ in $(seq 100); do
  port=$(grep -o '127.0.0.1:[0-9]*' "$tmp/cardsim.out" 2>/dev/null | head -1 | cut -d: -f2)
  [ -n "$port" ] && break
  sleep 0.1
done
"$BIN" ctl --control-port "$port" insert jpki "$HOLDER" >/dev/null
for _ in $(seq 50); do
  name=$(opensc-tool --reader "$READER_NAME" -n 2>/dev/null) && [ "$name" = jpki ] && break
  sleep 0.2
done

# OpenSC's debug log to a file, APDUs included (level 3 logs each one).
cat >"$tmp/opensc.conf" <<EOF
app default {
  debug = 3;
  debug_file = $tmp/opensc.log;
}
EOF
export OPENSC_CONF="$tmp/opensc.conf"
apdus() { grep -c "Outgoing APDU" "$tmp/opensc.log" || true; }

: >"$tmp/opensc.log"
pkcs15-tool --reader "$READER_NAME" --read-certificate 01 -o "$tmp/cert.pem" >/dev/null 2>&1
[ -s "$tmp/cert.pem" ] || { echo "opensc-apdus: pkcs15-tool read no certificate" >&2; exit 1; }
read_cert=$(apdus)

slot=$(pkcs11-tool --module "$MODULE" -L 2>/dev/null |
  awk -v r="$READER_NAME" '/^Slot /{s=$3; d=substr($0, index($0,":")+2)} /token label/ && d==r && /User Authentication PIN/{print s; exit}')
slot=${slot#(}; slot=${slot%%)*}
printf 'signed by the virtual My Number card\n' >"$tmp/data"
: >"$tmp/opensc.log"
pkcs11-tool --module "$MODULE" --slot "$slot" --login --pin "$auth_pin" --sign --mechanism SHA256-RSA-PKCS \
  --id 01 -i "$tmp/data" -o "$tmp/sig" >/dev/null 2>&1
[ -s "$tmp/sig" ] || { echo "opensc-apdus: pkcs11-tool did not sign" >&2; exit 1; }
sign=$(apdus)
# (The PKCS#11 module binds a card in every reader when loaded; under /tmp/e2e.lock no other
# virtual reader holds one, so every APDU counted went to this card.)

echo "| OpenSC $(opensc-tool --info 2>/dev/null | awk '/OpenSC/{print $2; exit}'): pkcs15-tool --read-certificate (bind + read) | $read_cert |"
echo "| OpenSC: pkcs11-tool --login --sign (bind + verify PIN + sign) | $sign |"
echo "| OpenSC: read certificate + verify PIN + sign, two processes as above | $((read_cert + sign)) |"
