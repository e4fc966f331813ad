#!/usr/bin/env bash
# `recallctl eval --report` against a running recall-server over a tiny world,
# then the page opened in headless Chromium: it renders (a screenshot), its
# DOM holds the chart <img> tags, every PNG it references exists, and each
# loads in the browser (naturalWidth > 0, read by a test-only wrapper page;
# the report itself runs no script).
# Usage: eval_report_browser_test.sh BIN_DIR [CHROMIUM]
set -euo pipefail
BIN="$1"
CHROMIUM="${2:-chromium}"
command -v "$CHROMIUM" >/dev/null || { echo "chromium not installed"; exit 1; }
TMP=$(mktemp -d)
server=""
trap 'if [[ -n $server ]]; then kill $server 2>/dev/null || true; fi; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT
GRPC=$(( 20000 + ($$ % 20000) ))

"$BIN/recallctl" gen --out "$TMP/world" --items 500 --users 50 --dim 8 --extra_spaces=false >/dev/null
"$BIN/recallctl" split --input "$TMP/world" --out "$TMP/train" --test "$TMP/test.tsv" --last-n 2 >/dev/null
"$BIN/recallctl" build --input "$TMP/train" --out "$TMP/root" --index Flat >/dev/null 2>"$TMP/build.log"
"$BIN/recall-server" --snapshot_root "$TMP/root" --host 127.0.0.1 --port $GRPC \
  --metrics_port -1 --admin_port -1 2>"$TMP/server.log" &
server=$!
"$BIN/recallctl" query --target 127.0.0.1:$GRPC --user u0000001 --k 5 --wait 30 >/dev/null

"$BIN/recallctl" eval --target 127.0.0.1:$GRPC --test "$TMP/test.tsv" --train "$TMP/train" \
  --cutoffs 5,10,50 --report "$TMP/report" >"$TMP/eval.txt" 2>"$TMP/eval.log" || {
  echo "FAIL: recallctl eval"; cat "$TMP/eval.log"; exit 1; }
PAGE="$TMP/report/index.html"
for f in "$PAGE" "$TMP/report/report.json"; do
  [[ -s $f ]] || { echo "FAIL: $f missing or empty"; exit 1; }
done

# Chromium's flags; its own chatter on stderr goes to a log.
browse() {
  timeout 60 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu \
    --user-data-dir="$TMP/chrome" "$@" 2>>"$TMP/chrome.log"
}
is_png() { [[ -s $1 && $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; }

browse --window-size=1280,2000 --screenshot="$TMP/report.png" "file://$PAGE" >/dev/null
is_png "$TMP/report.png" || { echo "FAIL: no screenshot"; tail -5 "$TMP/chrome.log"; exit 1; }

browse --dump-dom "file://$PAGE" >"$TMP/dom.html"
mapfile -t images < <(grep -o '<img src="[^"]*"' "$TMP/dom.html" | sed 's/<img src="//; s/"$//')
[[ ${#images[@]} -eq 4 ]] || { echo "FAIL: ${#images[@]} <img> in the DOM, want 4"; exit 1; }
grep -q 'merged' "$TMP/dom.html" || { echo "FAIL: no metrics table"; exit 1; }
for img in "${images[@]}"; do
  is_png "$TMP/report/$img" || { echo "FAIL: $img missing or not a PNG"; exit 1; }
done

# Every image loaded: a wrapper page beside the report writes naturalWidth.
{
  echo '<!DOCTYPE html><html><body><pre id="out">not loaded</pre>'
  for img in "${images[@]}"; do echo "<img src=\"report/$img\">"; done
  cat <<'JS'
<script>
window.addEventListener('load', () => {
  document.getElementById('out').textContent = 'loaded\n' +
    Array.from(document.images)
        .map(i => 'width ' + i.getAttribute('src') + ' ' + i.naturalWidth)
        .join('\n');
});
</script></body></html>
JS
} >"$TMP/check.html"
browse --virtual-time-budget=2000 --dump-dom "file://$TMP/check.html" >"$TMP/check_dom.html"
widths=$(grep -o '^width [^ ]* [0-9]*' "$TMP/check_dom.html" || true)
[[ $(grep -c . <<<"$widths") -eq ${#images[@]} ]] || {
  echo "FAIL: the wrapper page reported no widths"; cat "$TMP/check_dom.html"; exit 1; }
if awk '$3 <= 0 { bad = 1 } END { exit !bad }' <<<"$widths"; then echo "FAIL: an image did not load:"; echo "$widths"; exit 1; fi
echo "eval report rendered: $(stat -c %s "$TMP/report.png")-byte screenshot, images:"
echo "$widths"
