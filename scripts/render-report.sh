#!/usr/bin/env bash
# Renders a Gearbox report (REPORT_DIR/index.html) in headless Chromium to a PNG and checks the
# page the way a reader would meet it. Fails (exit 1) when the page is blank (the PNG is one
# colour or nearly so), when the browser logs a console error, or when a report section is
# missing from the rendered DOM. Exit 2: usage; exit 3: no Chromium (apt-get install chromium).
#
# Usage: scripts/render-report.sh REPORT_DIR OUT.png [WIDTH,HEIGHT]
#   SECTIONS="device latency ..." overrides the section ids that must be present (energy and
#   temperature appear only when the table or validation has those figures; add them to require them).
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 REPORT_DIR OUT.png [WIDTH,HEIGHT]" >&2
  exit 2
fi
report_dir=$1
out_png=$2
window=${3:-1280,2400}
sections=${SECTIONS:-"device latency pareto switch-cost memory counters timeline policies"}

html="$(cd "$report_dir" 2>/dev/null && pwd)/index.html" || { echo "render-report: $report_dir is not a directory" >&2; exit 2; }
[ -f "$html" ] || { echo "render-report: $html not found (write it with gearbox report)" >&2; exit 2; }

browser=""
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null 2>&1; then browser=$(command -v "$candidate"); break; fi
done
[ -n "$browser" ] || { echo "render-report: chromium not found (apt-get install chromium, or make deps)" >&2; exit 3; }
command -v python3 >/dev/null 2>&1 || { echo "render-report: python3 not found (needed to check the PNG)" >&2; exit 3; }

# One Chromium at a time on this host: two headless browsers side by side on a loaded 2-core
# machine is what makes them stall (the test suite renders several reports in parallel).
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/gearbox-render-report.lock"
  flock 9
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --no-default-browser-check
       --disable-extensions --disable-background-networking --disable-sync --mute-audio
       --user-data-dir="$work/profile" --enable-logging=stderr --v=0)
url="file://$html"

# Headless Chromium can stall on a heavily loaded host: each call gets a time limit and, if it
# ran out, one more try, so a stall is a failure with a message, never a hang.
run_browser() {
  local attempt status
  for attempt in 1 2; do
    timeout --kill-after=5 "${RENDER_TIMEOUT_SECONDS:-90}" "$browser" "$@" && return 0
    status=$?
    [ "$status" -eq 124 ] || [ "$status" -eq 137 ] || return "$status"
    echo "render-report: chromium did not finish within ${RENDER_TIMEOUT_SECONDS:-90} s (attempt $attempt)" >&2
  done
  return 1
}

# 1. The rendered DOM, with the browser's console going to stderr.
if ! run_browser "${flags[@]}" --dump-dom "$url" >"$work/dom.html" 2>"$work/dom.log"; then
  echo "render-report: chromium failed to load $url:" >&2; tail -5 "$work/dom.log" >&2; exit 1
fi
# 2. The screenshot.
mkdir -p "$(dirname "$out_png")"
if ! run_browser "${flags[@]}" --screenshot="$out_png" --window-size="$window" "$url" >"$work/shot.out" 2>"$work/shot.log"; then
  echo "render-report: chromium failed to screenshot $url:" >&2; tail -5 "$work/shot.log" >&2; exit 1
fi

failed=0
# Console messages are logged as ...:CONSOLE:line] "message", source: ...; the log does not say
# their level, and a report runs no script, so any console message (an error, an uncaught
# exception, a resource that failed to load) fails the check. Chromium's own dbus/GPU noise is
# not CONSOLE and is ignored.
if grep -hE ':CONSOLE[:(]|Uncaught' "$work/dom.log" "$work/shot.log" >"$work/console.txt"; then
  echo "render-report: console errors while rendering $url:" >&2
  head -5 "$work/console.txt" >&2
  failed=1
fi
for id in $sections; do
  if ! grep -q "<section id=\"$id\"" "$work/dom.html"; then
    echo "render-report: section '$id' missing from the rendered page" >&2
    failed=1
  fi
done
if grep -q "<script" "$work/dom.html"; then
  echo "render-report: the page contains a <script> element (reports must need no JavaScript)" >&2
  failed=1
fi

# 3. Not blank: decode the PNG (stdlib only) and require several colours and real ink.
python3 - "$out_png" <<'PY' || failed=1
import struct, sys, zlib

path = sys.argv[1]
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"render-report: {path} is not a PNG")
pos, idat, width = 8, b"", 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
if depth != 8 or colour not in (2, 6):
    sys.exit(f"render-report: unexpected PNG format (depth {depth}, colour type {colour})")
channels = 3 if colour == 2 else 4
stride = width * channels
raw = zlib.decompress(idat)
# Undo the per-row filters on the top rows only (enough to judge the page; decoding every row
# in pure Python would take tens of seconds).
rows_to_check = min(height, 1400)
previous = bytearray(stride)
counts = {}
for y in range(rows_to_check):
    start = y * (stride + 1)
    kind = raw[start]
    line = bytearray(raw[start + 1:start + 1 + stride])
    if kind == 1:
        for i in range(channels, stride):
            line[i] = (line[i] + line[i - channels]) & 0xFF
    elif kind == 2:
        for i in range(stride):
            line[i] = (line[i] + previous[i]) & 0xFF
    elif kind == 3:
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    if y % 4 == 0:
        for x in range(0, stride, channels * 2):
            pixel = bytes(line[x:x + 3])
            counts[pixel] = counts.get(pixel, 0) + 1
    previous = line
total = sum(counts.values())
background = max(counts.values())
ink = 1 - background / total
if len(counts) < 16 or ink < 0.02:
    sys.exit(f"render-report: {path} looks blank ({len(counts)} colours, {ink:.1%} of sampled pixels differ from the background)")
print(f"render-report: {path}: {width}x{height}, {len(counts)} colours in the top {rows_to_check} rows, {ink:.0%} non-background")
PY

if [ "$failed" -ne 0 ]; then
  echo "render-report: FAILED for $url" >&2
  exit 1
fi
echo "render-report: ok: $out_png (all sections present, no console errors)"
