#!/usr/bin/env bash
# The HTML report in a real browser: headless Chromium loads it, its inline script runs without an
# error (it stamps <body data-ready=N>), no console error is logged, and each section's SVG holds one
# element per op / tile. The same checks must reject a copy of the page with a script error.
# usage: test_report.sh QUANTMCU
set -u
QM=$1
. "$(dirname "$0")/test_lib.sh"
require_tool chromium
CHROME=$(command -v chromium)

# check PAGE OPS TILES: the page as Chromium renders it
check() {
  timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 --dump-dom "file://$1" \
    > "$T/dom.html" 2> "$T/console.txt" || return 1
  ! grep -E "CONSOLE|Uncaught" "$T/console.txt" > /dev/null || { grep -E "CONSOLE|Uncaught" "$T/console.txt" | head -3 >&2; return 1; }
  python3 - "$T/dom.html" "$2" "$3" <<'PY'
import sys
from html.parser import HTMLParser
path, ops, tiles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.svg = None; self.count = {}; self.ready = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body": self.ready = a.get("data-ready")
        if tag == "svg": self.svg = a.get("id")
        if tag == "g" and self.svg: self.count.setdefault((self.svg, a.get("class")), 0); self.count[(self.svg, a.get("class"))] += 1
    def handle_endtag(self, tag):
        if tag == "svg": self.svg = None
p = P(); p.feed(open(path).read())
assert p.ready and int(p.ready) > 0, "the page's script did not run"
for svg, cls, n in (("memory-svg", "op", ops), ("layers-svg", "op", ops), ("bitops-svg", "op", ops), ("tiles-svg", "tile", tiles)):
    assert p.count.get((svg, cls), 0) == n, (svg, cls, p.count.get((svg, cls), 0), n)
PY
}

$QM plan "$V1" --split 8 --grid 4x4 --halo cached -o "$T/plan.json" --quiet > /dev/null || bad "plan"
$QM report "$V1" --plan "$T/plan.json" --images "$IMG" --skip 32 --limit 4 --sram 96K -o "$T/report.html" > /dev/null \
  && ok || bad "report"
check "$T/report.html" 31 16 && ok || bad "the report does not render as expected"
# a broken page must fail the same checks: a script error, then a missing tile
sed 's/document.body.setAttribute/document.body.setAttributeX/' "$T/report.html" > "$T/broken.html"
check "$T/broken.html" 31 16 2> /dev/null && bad "a page whose script fails passed the check" || ok
python3 -c "import sys; t=open(sys.argv[1]).read(); i=t.index('<g class=\"tile\"'); j=t.index('</g>', i)+4; open(sys.argv[2],'w').write(t[:i]+t[j:])" \
  "$T/report.html" "$T/broken2.html"
check "$T/broken2.html" 31 16 2> /dev/null && bad "a page missing a tile passed the check" || ok
# a QuantMCU plan: the tile table and 8-bit accuracy next to it
$QM plan "$V1" --split 8 --grid 4x4 --calib "$IMG" --calib-count 4 -o "$T/q.json" --quiet > /dev/null || bad "plan --calib"
$QM report "$V1" --plan "$T/q.json" --images "$IMG" --skip 32 --limit 4 -o "$T/q.html" > /dev/null && grep -q "accuracy, 8 bits" "$T/q.html" \
  && grep -q 'class="bits"' "$T/q.html" && ok || bad "QuantMCU report"
check "$T/q.html" 31 16 && ok || bad "the QuantMCU report does not render as expected"
# errors: one line, non-zero, no file left behind
"$QM" report "$V1" --plan "$T/nope.json" -o "$T/x.html" > /dev/null 2> "$T/err"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && [ ! -e "$T/x.html" ] && ok || bad "report with a missing plan: rc=$rc $(cat "$T/err")"
"$QM" report "$V1" --plan "$T/plan.json" -o /nonexistent-dir/r.html > /dev/null 2> "$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "nonexistent-dir" "$T/err" && ok || bad "report to an unwritable path: rc=$rc $(cat "$T/err")"
summary test_report
