#!/usr/bin/env bash
# Redraws icons/source.png (1024×1024 RGBA: a white key on an indigo rounded
# square) with ImageMagick, then regenerates the app icons from it. The key
# is the same outline as the UI's key icon (ui/src/components/Icon.svelte),
# drawn on a 24-unit grid scaled ×25 and offset by 212 px.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
convert -size 1024x1024 xc:none -fill white -draw "roundrectangle 64,64 959,959 200,200" "$tmp/mask.png"
convert -size 1024x1024 gradient:'#6d6af8-#3b30c4' "$tmp/grad.png"
convert -size 1024x1024 gradient:'rgba(255,255,255,0.16)-rgba(255,255,255,0)' "$tmp/shine.png"
convert "$tmp/grad.png" "$tmp/shine.png" -compose over -composite \
  "$tmp/mask.png" -compose CopyOpacity -composite "$tmp/base.png"
convert "$tmp/base.png" -fill none -stroke white -strokewidth 58 \
  -draw "stroke-linecap round stroke-linejoin round circle 399.5,599.5 537,599.5 line 737,262 497,502 polyline 599.5,399.5 674.5,474.5 762,387 687,312" \
  -define png:color-type=6 icons/source.png
npx --prefix ui tauri icon icons/source.png -o icons
# Desktop targets only; the mobile and Windows Store sets are not shipped.
rm -rf icons/android icons/ios icons/Square*Logo.png icons/StoreLogo.png
