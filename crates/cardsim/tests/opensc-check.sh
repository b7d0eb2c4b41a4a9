#!/usr/bin/env bash
# OpenSC fidelity check: OpenSC's own JPKI driver (an independent implementation of the host
# side) must recognise the virtual My Number card behind the real pcscd + vpcd, list its PKCS#15
# objects, read its certificate and sign with its auth key; the signature must verify against the
# card's certificate. Prints one line per check and `opensc-check: N passed, M failed`.
#
# pcscd, vpcd and the virtual card as scripts/pcsc-lib.sh sets them up (reader "Virtual PCD 00 01";
# pcscd started only if none runs). Run it under /tmp/e2e.lock.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
source "$ROOT/scripts/pcsc-lib.sh"

passed=0
failed=0
# section_has FILE HEADER PATTERN: PATTERN occurs within the 8 lines after the line with HEADER.
section_has() { grep -F -A8 "$2" "$1" | grep -q -F "$3"; }
check() { # check NAME CMD...: one pass/fail line
  local name="$1"; shift
  if "$@"; then
    echo "PASS $name"; passed=$((passed + 1))
  else
    echo "FAIL $name"; failed=$((failed + 1))
  fi
}

cargo build -q -p mahpki-cardsim --bin cardsim || { echo "opensc-check: 0 passed, 1 failed"; exit 1; }

pcsc_setup
tmp="$PCSC_TMP"
pcsc_start
auth_pin=$(pcsc_auth_pin)
cert="$tmp/pki/holders/$HOLDER/jpki-auth.pem"
pcsc_serve
name=$(pcsc_insert jpki)
check "opensc-tool -n names the card jpki (got '$name')" [ "$name" = "jpki" ]

pkcs15-tool --reader "$READER_NAME" -D >"$tmp/p15.txt" 2>&1
check "pkcs15-tool -D lists the auth certificate" grep -q "X.509 Certificate \[User Authentication Certificate\]" "$tmp/p15.txt"
check "pkcs15-tool -D lists the auth key" grep -q "Private RSA Key \[User Authentication Key\]" "$tmp/p15.txt"
check "pkcs15-tool -D reports 3 auth PIN tries" section_has "$tmp/p15.txt" "PIN [User Authentication PIN]" "Tries left     : 3"

pkcs15-tool --reader "$READER_NAME" --read-certificate 01 -o "$tmp/read.pem" >/dev/null 2>&1
check "pkcs15-tool reads the certificate the PKI issued" \
  cmp -s <(openssl x509 -in "$tmp/read.pem" -outform DER 2>/dev/null) "$tmp/pki/holders/$HOLDER/jpki-auth.der"

# The auth-PIN token of this reader's card.
slot=$(pcsc_auth_slot)
echo "auth-PIN slot: $slot"
printf 'signed by the virtual My Number card\n' >"$tmp/data"
pkcs11-tool --module "$MODULE" --slot "$slot" --login --pin "$auth_pin" --sign --mechanism SHA256-RSA-PKCS \
  --id 01 -i "$tmp/data" -o "$tmp/sig" >"$tmp/sign.log" 2>&1
check "pkcs11-tool signs with the auth key (SHA256-RSA-PKCS)" [ -s "$tmp/sig" ]
openssl x509 -in "$cert" -pubkey -noout >"$tmp/pub.pem"
check "the signature verifies against the card's certificate" \
  openssl dgst -sha256 -verify "$tmp/pub.pem" -signature "$tmp/sig" "$tmp/data"
printf 'tampered\n' >"$tmp/other"
check "and not over other data" \
  bash -c "! openssl dgst -sha256 -verify '$tmp/pub.pem' -signature '$tmp/sig' '$tmp/other' >/dev/null 2>&1"

# A wrong PIN costs a try, seen through OpenSC too.
pkcs11-tool --module "$MODULE" --slot "$slot" --login --pin 0000 --sign --mechanism SHA256-RSA-PKCS \
  --id 01 -i "$tmp/data" -o "$tmp/sig2" >/dev/null 2>&1
check "a wrong PIN is refused" [ ! -s "$tmp/sig2" ]
pkcs15-tool --reader "$READER_NAME" --list-pins >"$tmp/pins.txt" 2>&1
check "the card then reports 2 tries left" section_has "$tmp/pins.txt" "PIN [User Authentication PIN]" "Tries left     : 2"

echo "opensc-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
