#!/usr/bin/env bash
# Regenerates docs/img/rtmdet-highlighted.png: examples/rtmdet.mlx highlighted
# through grammar/mlx.tmLanguage.json (shiki, VS Code's Dark+ theme), drawn by
# headless Chromium. Not part of the tests.
#
# Needs Node.js and Debian's chromium (apt-get update && apt-get install -y chromium).
# usage: editors/screenshot.sh [SOURCE.mlx [OUTPUT.png]]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_file="$(realpath "${1:-$repo/examples/rtmdet.mlx}")"
output="$(realpath -m "${2:-$repo/docs/img/rtmdet-highlighted.png}")"

if ! command -v chromium >/dev/null; then
  echo "screenshot.sh: chromium is missing: apt-get update && apt-get install -y chromium" >&2
  exit 2
fi
"$repo/.ci/install-node-deps"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

node "$repo/editors/textmate/render-html.mjs" \
  "$repo/grammar/mlx.tmLanguage.json" "$source_file" "$work/page.html"

# The page's size, from render-html.mjs's style: 20 px lines and 20 px of
# padding above and below; 8.43 px per character of 14 px DejaVu Sans Mono,
# 28 px of padding each side.
lines="$(wc -l <"$source_file")"
longest="$(awk '{ if (length > n) n = length } END { print n }' "$source_file")"
height=$((lines * 20 + 40))
width=$(((longest * 843 + 99) / 100 + 56))

mkdir -p "$(dirname "$output")"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --force-device-scale-factor=2 \
  --user-data-dir="$work/profile" --window-size="$width,$height" \
  --screenshot="$output" "file://$work/page.html" 2>"$work/chromium.log" ||
  { cat "$work/chromium.log" >&2; exit 1; }
echo "wrote $output (${width}x${height} CSS px at 2x)"
