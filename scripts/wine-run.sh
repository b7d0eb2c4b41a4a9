#!/usr/bin/env bash
# Runs a Windows program (the helper's Windows build, its test binaries) under Debian's Wine:
# cargo's runner for x86_64-pc-windows-gnu (.cargo/config.toml) and scripts/test.sh use it.
# The prefix lives in target/wine-prefix, is made once (wineboot takes a while the first time),
# and needs no display: the helper and its tests are console programs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export WINEPREFIX="${WINEPREFIX:-$ROOT/target/wine-prefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
unset DISPLAY WAYLAND_DISPLAY
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  mkdir -p "$WINEPREFIX"
  # Only 64-bit Wine is installed: wineboot's note about syswow64\rundll32.exe is expected.
  wineboot --init >/dev/null 2>&1 || true
  wineserver --wait
fi
# Wine 8.0 lacks bcryptprimitives.dll, which every Rust program imports (see the C file).
SHIM="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
SRC="$ROOT/scripts/wine/bcryptprimitives.c"
if [ ! -f "$SHIM" ] || [ "$SRC" -nt "$SHIM" ]; then
  x86_64-w64-mingw32-gcc -O2 -shared -o "$SHIM" "$SRC" -lbcrypt
fi
# One wineserver that outlives each program by a minute: with the default, the server of one test
# binary could be shutting down as the next connected ("wine client error: recvmsg: Connection
# reset by peer", seen once in a full run). It exits by itself a minute after the last program.
wineserver -p60 >/dev/null 2>&1 || true
exec wine "$@"
