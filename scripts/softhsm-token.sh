#!/usr/bin/env bash
# softhsm-token.sh DIR [LABEL] [PIN]: a SoftHSM2 token for the server's second-certificate keys,
# kept under DIR (its own softhsm2.conf and token directory, nothing system-wide). Idempotent and
# without prompts: an existing token with LABEL is left as it is. Prints the SOFTHSM2_CONF to
# export for the server and its commands (the PKCS#11 module reads it when it initialises).
# Used by `make demo` (DIR in the demo's data) and the tests' scripts; the Rust tests make their
# own token the same way in a temporary directory.
set -euo pipefail
dir="$1"
label="${2:-mahpki}"
pin="${3:-123456}"
mkdir -p "$dir/tokens"
dir="$(cd "$dir" && pwd)"
conf="$dir/softhsm2.conf"
cat > "$conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$conf"
if ! softhsm2-util --show-slots 2>/dev/null | grep -qE "^ *Label: *$label *$"; then
  # The SO PIN is never used afterwards: random, not kept.
  so_pin="$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')"
  softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$pin" >/dev/null
fi
echo "$conf"
