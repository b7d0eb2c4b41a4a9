# Sourced by the scripts that put a virtual card (crates/cardsim) behind the real pcscd + vpcd
# for OpenSC (crates/cardsim/tests/opensc-check.sh, scripts/opensc-apdus.sh). The caller holds
# /tmp/e2e.lock (other suites share pcscd) and sets ROOT.
#
#   pcsc_setup                 temp dir $PCSC_TMP, the test PKI ($PCSC_TMP/pki), cleanup on exit
#   pcsc_start                 uses the running pcscd, or starts one (and stops only that one)
#   pcsc_serve                 `cardsim serve` on vpcd port $VPCD_PORT; sets PCSC_CONTROL_PORT
#   pcsc_insert CARD           `cardsim ctl insert CARD`, then waits until OpenSC sees a card
#
# Reader "Virtual PCD 00 01" (vpcd port 35964), so it does not collide with cards other suites
# put into "Virtual PCD 00 00".
READER_NAME="Virtual PCD 00 01"
VPCD_PORT=35964
SEED=11
HOLDER=HP0000000001
MODULE=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
BIN="${CARDSIM_BIN:-$ROOT/target/debug/cardsim}"

PCSC_TMP=""
pcscd_pid=""
cardsim_pid=""

# Safe under `set -e`: a killed child's non-zero wait status must not stop the cleanup halfway
# (which would leave pcscd running).
pcsc_cleanup() {
  if [ -n "$cardsim_pid" ]; then kill "$cardsim_pid" 2>/dev/null; wait "$cardsim_pid" 2>/dev/null || true; fi
  if [ -n "$pcscd_pid" ]; then kill "$pcscd_pid" 2>/dev/null; wait "$pcscd_pid" 2>/dev/null || true; fi
  [ -n "$PCSC_TMP" ] && rm -rf "$PCSC_TMP"
  return 0
}

# Runs "$@" in the background with descriptors 3-19 closed: the lock file flock(1) passed down
# (or any other) must not stay held by a daemon that outlives this script.
pcsc_spawn() {
  (
    for fd in $(seq 3 19); do eval "exec $fd>&-"; done
    exec "$@"
  ) &
}

pcsc_setup() {
  PCSC_TMP=$(mktemp -d)
  trap pcsc_cleanup EXIT
  "$BIN" pki --seed "$SEED" --out "$PCSC_TMP/pki" >/dev/null
}

# The holder's JPKI user-authentication PIN, from the PKI's holders.json.
pcsc_auth_pin() {
  grep -A16 "\"hpki_id\": \"$HOLDER\"" "$PCSC_TMP/pki/holders.json" | grep -m1 '"jpki_auth_pin"' | cut -d'"' -f4
}

pcsc_start() {
  pidof pcscd >/dev/null && return 0
  pcsc_spawn pcscd --foreground >"$PCSC_TMP/pcscd.log" 2>&1
  pcscd_pid=$!
  for _ in $(seq 50); do [ -S /run/pcscd/pcscd.comm ] && return 0; sleep 0.1; done
  echo "pcsc-lib: pcscd did not start" >&2
  return 1
}

pcsc_serve() {
  pcsc_spawn "$BIN" serve --seed "$SEED" --vpcd-port "$VPCD_PORT" --control-port 0 \
    >"$PCSC_TMP/cardsim.out" 2>"$PCSC_TMP/cardsim.err"
  cardsim_pid=$!
  PCSC_CONTROL_PORT=""
  for _ in $(seq 100); do
    # `|| true`: nothing printed yet is not an error.
    PCSC_CONTROL_PORT=$(grep -o '127.0.0.1:[0-9]*' "$PCSC_TMP/cardsim.out" 2>/dev/null | head -1 | cut -d: -f2 || true)
    [ -n "$PCSC_CONTROL_PORT" ] && return 0
    sleep 0.1
  done
  echo "pcsc-lib: cardsim serve printed no control port" >&2
  return 1
}

# pcscd polls vpcd; waits until the reader reports the card and OpenSC names a driver for it.
# Prints that name (empty if none came).
pcsc_insert() {
  "$BIN" ctl --control-port "$PCSC_CONTROL_PORT" insert "$1" >/dev/null
  local name=""
  for _ in $(seq 50); do
    name=$(opensc-tool --reader "$READER_NAME" -n 2>/dev/null) && [ -n "$name" ] && break
    sleep 0.2
  done
  echo "$name"
}

# The PKCS#11 slot (OpenSC's module) of the auth-PIN token of this reader's card.
pcsc_auth_slot() {
  local slot
  slot=$(pkcs11-tool --module "$MODULE" -L 2>/dev/null |
    awk -v r="$READER_NAME" '/^Slot /{s=$3; d=substr($0, index($0,":")+2)} /token label/ && d==r && /User Authentication PIN/{print s; exit}')
  slot=${slot#(}
  echo "${slot%%)*}"
}
