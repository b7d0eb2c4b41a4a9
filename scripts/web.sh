#!/usr/bin/env bash
# Builds the web app the server serves: one Trunk build per bundle (each `src/bin/<bundle>.rs`,
# named in mahpki_protocol::pages::Bundle) into dist/<bundle>/, so a browser downloads only its
# page's code. Every bundle's html is index.html (the home bundle's, and the static first frame
# every page shows) with its own binary named; Trunk builds one html at a time.
#
#   scripts/web.sh [--release]         build every bundle
#   scripts/web.sh [--release] BUNDLE  rebuild one (the others' folders stay)
#   scripts/web.sh --html BUNDLE       only write its html (target/web/BUNDLE.html), for `trunk serve`
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
args=(); only=(); html_only=false
for a in "$@"; do case "$a" in --html) html_only=true;; --*) args+=("$a");; *) only+=("$a");; esac; done
if [ ${#only[@]} -eq 0 ]; then
  $html_only && { echo "web.sh: --html needs a bundle" >&2; exit 2; }
  rm -rf dist
  for bin in src/bin/*.rs; do only+=("$(basename "$bin" .rs)"); done
fi
mkdir -p dist target/web
for b in "${only[@]}"; do
  [ -f "src/bin/$b.rs" ] || { echo "web.sh: no bundle $b (src/bin/$b.rs)" >&2; exit 2; }
  html="target/web/$b.html"
  # Paths in index.html are relative to the root; the copy lives two folders down.
  sed -e "s|data-bin=\"home\"|href=\"../../Cargo.toml\" data-bin=\"$b\"|" \
      -e 's|href="static/|href="../../static/|g' index.html > "$html"
  grep -q "data-bin=\"$b\"" "$html" || { echo "web.sh: index.html has no data-bin=\"home\"" >&2; exit 1; }
  $html_only && { echo "$html"; continue; }
  trunk build "${args[@]}" --dist "dist/$b" --public-url "/$b/" "$html"
done
