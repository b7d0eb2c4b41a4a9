#!/usr/bin/env bash
# scripts/opensc-apdus.sh DIR (`make bench`, issue 14 goal 5): the APDUs OpenSC sends the virtual
# My Number card (cardsim behind the real pcscd + vpcd, set up by scripts/pcsc-lib.sh) for one
# JPKI authentication, for the helper's card_apdus example to set beside its own. Writes
#
#   DIR/sign.apdus  pkcs11-tool --login --pin PIN --sign --mechanism SHA256-RSA-PKCS --id 01: one
#                   process doing what the helper does for one authentication. Loading the module
#                   binds the card: its drivers probe it until the jpki driver takes it, the PKCS#15
#                   emulation selects the JPKI AP and asks both PINs' tries, and the module reads
#                   every certificate file to build its objects (the authentication certificate
#                   among them); then C_Login (SELECT the PIN EF, VERIFY) and C_Sign (SELECT the
#                   key EF, 80 2A over the DigestInfo OpenSC hashed).
#   DIR/read.apdus  pkcs15-tool --read-certificate 01: binding, then reading that certificate only.
#
# one line per APDU the card got, `apdu <command hex> <SW hex>` (cardsim's own log, PIN bytes
# hidden), checked against OpenSC's log: as many "Outgoing APDU"s at debug 9 (lower levels leave
# PIN commands out of the log). File caching off, as by default: every run reads the card.
# Run it under /tmp/e2e.lock; CARDSIM_BIN names the cardsim binary (default: the debug build).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/pcsc-lib.sh
out="${1:?usage: opensc-apdus.sh DIR}"
mkdir -p "$out"

pcsc_setup
tmp="$PCSC_TMP"
pcsc_start
auth_pin=$(pcsc_auth_pin)
NO_COLOR=1 RUST_LOG="info,cardsim::apdu=debug" pcsc_serve
name=$(pcsc_insert jpki)
[ "$name" = jpki ] || { echo "opensc-apdus: OpenSC does not take the card for jpki (got '$name')" >&2; exit 1; }
slot=$(pcsc_auth_slot)
[ -n "$slot" ] || { echo "opensc-apdus: no auth-PIN slot" >&2; exit 1; }

cat >"$tmp/opensc.conf" <<EOF
app default {
  debug = 9;
  debug_file = $tmp/opensc.log;
  framework pkcs15 {
    use_file_caching = no;
  }
}
EOF
export OPENSC_CONF="$tmp/opensc.conf"

# cardsim's APDU lines (serve.rs, apdu_log_line).
card_apdus() { grep -oE 'apdu [0-9A-Fx]+ [0-9A-F]{4}$' "$tmp/cardsim.err" || true; }

# record NAME CMD...: runs one OpenSC command and writes the APDUs the card got to DIR/NAME.apdus.
record() {
  local name="$1"; shift
  local before
  before=$(card_apdus | wc -l)
  : >"$tmp/opensc.log"
  "$@" >"$tmp/$name.out" 2>&1 || { echo "opensc-apdus: $name failed:" >&2; cat "$tmp/$name.out" >&2; exit 1; }
  card_apdus | tail -n +"$((before + 1))" >"$out/$name.apdus"
  local card opensc
  card=$(wc -l <"$out/$name.apdus")
  opensc=$(grep -c "Outgoing APDU" "$tmp/opensc.log" || true)
  if [ "$card" -ne "$opensc" ]; then
    echo "opensc-apdus: $name: the card got $card APDUs, OpenSC's log shows $opensc" >&2
    exit 1
  fi
}

printf 'signed by the virtual My Number card\n' >"$tmp/data"
record sign pkcs11-tool --module "$MODULE" --slot "$slot" --login --pin "$auth_pin" --sign \
  --mechanism SHA256-RSA-PKCS --id 01 -i "$tmp/data" -o "$tmp/sig"
openssl x509 -in "$tmp/pki/holders/$HOLDER/jpki-auth.pem" -pubkey -noout >"$tmp/pub.pem"
openssl dgst -sha256 -verify "$tmp/pub.pem" -signature "$tmp/sig" "$tmp/data" >/dev/null ||
  { echo "opensc-apdus: OpenSC's signature does not verify" >&2; exit 1; }
record read pkcs15-tool --reader "$READER_NAME" --read-certificate 01 -o "$tmp/cert.pem"
cmp -s <(openssl x509 -in "$tmp/cert.pem" -outform DER) "$tmp/pki/holders/$HOLDER/jpki-auth.der" ||
  { echo "opensc-apdus: pkcs15-tool read another certificate" >&2; exit 1; }
echo "opensc-apdus: OpenSC $(opensc-tool --info 2>/dev/null | awk '/OpenSC/{print $2; exit}'): sign $(wc -l <"$out/sign.apdus") APDUs, read $(wc -l <"$out/read.apdus") APDUs"
