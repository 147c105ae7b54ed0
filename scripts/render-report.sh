#!/usr/bin/env bash
# Render an HTML report to PNG with headless Chromium, to check it as a browser draws it.
#
#   scripts/render-report.sh reports/<scenario>/<variant>.<scheduler>.html [out.png] [WIDTHxHEIGHT]
#
# Needs Debian's `chromium` package (apt-get install chromium). The page is self-contained, and
# Chromium runs with networking features off and a throwaway profile, so nothing is fetched.
set -euo pipefail

if [ $# -lt 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 REPORT.html [OUT.png] [WIDTHxHEIGHT]" >&2
    exit 2
fi
html=$(realpath "$1")
out=$(realpath -m "${2:-${1%.html}.png}")
size=${3:-1400x1000}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "error: chromium not found (apt-get install chromium)" >&2
    exit 2
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --screenshot="$out" --window-size="${size/x/,}" \
    "file://$html" >/dev/null 2>&1
[ -s "$out" ] || { echo "error: chromium wrote no screenshot" >&2; exit 1; }
echo "$out"
