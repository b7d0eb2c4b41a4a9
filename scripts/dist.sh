#!/usr/bin/env bash
# `make dist`: the helper for clinic PCs, as the operator hands it out: a Windows zip
# (mahpki-helper.exe) and a Linux tar.gz (mahpki-helper), each with the clinic's README
# (crates/helper/dist/README.txt, Japanese and English), in target/dist/. Release builds;
# the archives are listed back and checked before the script says they are done.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
out="$ROOT/target/dist"
readme="$ROOT/crates/helper/dist/README.txt"
mkdir -p "$out"

echo "[dist] building mahpki-helper $version for Windows (x86_64-pc-windows-gnu) and Linux (release)"
cargo build --release --locked -p mahpki-helper --target x86_64-pc-windows-gnu
cargo build --release --locked -p mahpki-helper

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

win="mahpki-helper-$version-windows-x86_64"
mkdir -p "$stage/$win"
# mahpki-helper.exe for the commands; mahpki-helperw.exe, the same program without a console
# window, is what the log-on entry starts.
cp target/x86_64-pc-windows-gnu/release/mahpki-helper.exe \
  target/x86_64-pc-windows-gnu/release/mahpki-helperw.exe "$stage/$win/"
# Windows' Notepad reads the README best with CRLF line ends.
sed 's/$/\r/' "$readme" > "$stage/$win/README.txt"
rm -f "$out/$win.zip"
(cd "$stage" && zip -q -r "$out/$win.zip" "$win")

linux="mahpki-helper-$version-linux-x86_64"
mkdir -p "$stage/$linux"
cp target/release/mahpki-helper "$stage/$linux/"
cp "$readme" "$stage/$linux/README.txt"
tar -C "$stage" -czf "$out/$linux.tar.gz" "$linux"

# Each archive holds exactly the programs and the README.
check() {
  local name="$1" expected="$2" actual="$3"
  if [ "$actual" != "$expected" ]; then
    echo "[dist] $name holds:" >&2; echo "$actual" >&2; exit 1
  fi
}
check "$win.zip" "$win/README.txt
$win/mahpki-helper.exe
$win/mahpki-helperw.exe" "$(unzip -Z1 "$out/$win.zip" | grep -v '/$' | sort)"
check "$linux.tar.gz" "$linux/README.txt
$linux/mahpki-helper" "$(tar -tzf "$out/$linux.tar.gz" | grep -v '/$' | sort)"
unzip -q -o "$out/$win.zip" -d "$stage/check"
# PE subsystem: 3 = console (mahpki-helper.exe), 2 = windows, no console (mahpki-helperw.exe).
for want in "mahpki-helper.exe 3" "mahpki-helperw.exe 2"; do
  set -- $want
  got=$(python3 "$ROOT/scripts/pe-subsystem.py" "$stage/check/$win/$1") \
    || { echo "[dist] $1 is not a Windows executable" >&2; exit 1; }
  [ "$got" = "$2" ] || { echo "[dist] $1 has PE subsystem $got, not $2" >&2; exit 1; }
done

echo "[dist] done:"
ls -l "$out/$win.zip" "$out/$linux.tar.gz"
