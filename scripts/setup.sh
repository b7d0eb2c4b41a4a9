#!/usr/bin/env bash
# Installs every tool the build, the tests and the demo need, skipping what is already present.
# Idempotent and non-interactive: CI and a newcomer's fresh machine run exactly this.
# Everything comes from the package registries (Debian, crates.io, npm); nothing else is reachable.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
# Must equal the wasm-bindgen crate pinned in Cargo.toml (`=0.2.130`).
WASM_BINDGEN_VERSION=0.2.130

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# --- Debian packages --------------------------------------------------------
APT_PACKAGES=(chromium chromium-driver pcscd libpcsclite-dev pcsc-tools vsmartcard-vpcd opensc
  softhsm2 postgresql pkg-config gzip curl openssl procps python3-prometheus-client
  # deploy/nginx/mahpki.conf is run in front of the server by crates/server/tests/deploy.rs.
  nginx-light
  fonts-noto-cjk
  # The helper's Windows build: MinGW-w64 links it, Wine (64-bit only) runs its tests.
  gcc-mingw-w64-x86-64 wine64 wine zip unzip)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "Debian packages present"
fi
# The Debian postgresql package starts a cluster on 5432 (and nginx may start on port 80); tests start
# their own and never use them.

# --- Rust toolchain (rust-toolchain.toml pins it and lists the wasm and Windows targets) --
if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then
  log "adding wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
if ! rustup target list --installed | grep -q x86_64-pc-windows-gnu; then
  log "adding x86_64-pc-windows-gnu target (the helper for Windows)"
  rustup target add x86_64-pc-windows-gnu
fi
if ! rustup component list --installed | grep -q '^clippy'; then rustup component add clippy; fi
if ! rustup component list --installed | grep -q '^rustfmt'; then rustup component add rustfmt; fi

# --- cargo-installed tools ---------------------------------------------------
if ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
  log "installing trunk $TRUNK_VERSION (about 10 minutes on 2 cores)"
  cargo install --locked "trunk@$TRUNK_VERSION"
else
  log "trunk $TRUNK_VERSION present"
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: the published lock file does not build on this compiler (checked in toolchain.md).
  cargo install --force "wasm-bindgen-cli@$WASM_BINDGEN_VERSION"
else
  log "wasm-bindgen-cli $WASM_BINDGEN_VERSION present"
fi

# --- npm: wasm-opt (binaryen), playwright-core and axe-core, project-local, from the lock file ---
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/@axe-core/playwright ] \
  || [ ! -d node_modules/openid-client ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages from package-lock.json"
  # Never let any package download a browser: we drive Debian's /usr/bin/chromium.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
else
  log "npm packages present"
fi

# --- crates for offline Trunk builds -----------------------------------------
cargo fetch --locked >/dev/null 2>&1 || cargo fetch

log "ready"
