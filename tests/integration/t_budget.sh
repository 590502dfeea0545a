#!/usr/bin/env bash
# The size budget (issue 6): a digest over max_size first gets smaller images (lower quality,
# smaller box), then is split into volumes at article boundaries. Every book fits, passes
# epubcheck, and together the volumes hold every article exactly once.
source "$(dirname "$0")/lib.sh"
export TZ=UTC SOURCE_DATE_EPOCH=1795680000

config() {  # config FILE MAX_SIZE
  sed -e "s|^max_age = 0|max_age = 0\nmax_size = $2|" \
      -e "s|^url = demo/|url = $SRCDIR/examples/demo/|" "$SRCDIR/examples/demo.ini" >"$1"
  grep -q "^max_size = $2" "$1" || fail "could not set max_size in $1"
}

# 0. Without a budget the demo book is about 700 KB: the cases below are really over it.
config "$WORK/free.ini" 1G
"$INKDIGEST" run -q -c "$WORK/free.ini" --state "$WORK/free.db" -o "$WORK/free.epub" || fail "unbounded run"
free_bytes=$(stat -c %s "$WORK/free.epub")
[ "$free_bytes" -gt 600000 ] || fail "the demo book is only $free_bytes bytes: the budget cases test nothing"

# 1. 400K: smaller images are enough; one book under the budget with all 9 images.
config "$WORK/small.ini" 400K
"$INKDIGEST" run -c "$WORK/small.ini" --state "$WORK/small.db" -o "$WORK/small.epub" \
  --report "$WORK/small.json" >"$WORK/small.out" 2>"$WORK/small.err" \
  || { cat "$WORK/small.err" >&2; fail "400K: run failed"; }
[ "$(cat "$WORK/small.out")" = "$WORK/small.epub" ] || fail "400K: stdout is not the one book's path"
bytes=$(stat -c %s "$WORK/small.epub")
[ "$bytes" -le $((400 * 1024)) ] || fail "400K: the book has $bytes bytes"
check_epub "$WORK/small.epub"
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$WORK/small.epub" --box 1236x1648 \
  --expect-articles 10 --expect-images 9 >/dev/null || fail "400K: book content"
# The shrunk images lie in a box smaller than the device's (85 % of 1236x1648 at most); the
# cover stays the size of the screen.
python3 - "$WORK/small.epub" <<'PY' || fail "400K: images not shrunk"
import struct, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist():
    if not n.endswith(".jpg") or n.endswith("cover.jpg"):
        continue
    d, i = z.read(n), 2
    while d[i + 1] not in (0xC0, 0xC1, 0xC2):
        i += 2 + struct.unpack(">H", d[i + 2:i + 4])[0]
    h, w = struct.unpack(">HH", d[i + 5:i + 9])
    assert w <= 1051 and h <= 1401, (n, w, h)
PY
grep -q "over the budget: images re-encoded at quality" "$WORK/small.err" \
  || { cat "$WORK/small.err" >&2; fail "400K: the shrinking is not reported"; }
check_report "$WORK/small.json"
python3 - "$WORK/small.json" <<'PY' || fail "400K: report"
import json, sys
r = json.load(open(sys.argv[1]))
assert len(r["books"]) == 1, r["books"]
assert any(w["stage"] == "budget" and "quality" in w["message"] for w in r["warnings"]), r["warnings"]
PY
pass "400K: images re-encoded smaller, one book of $bytes bytes (unbounded: $free_bytes)"

# 2. 250K: even the smallest images do not fit; volumes "-1", "-2", ... each under the budget.
config "$WORK/vol.ini" 250K
"$INKDIGEST" run -c "$WORK/vol.ini" --state "$WORK/vol.db" -o "$WORK/vol.epub" \
  --report "$WORK/vol.json" >"$WORK/vol.out" 2>"$WORK/vol.err" \
  || { cat "$WORK/vol.err" >&2; fail "250K: run failed"; }
[ ! -e "$WORK/vol.epub" ] || fail "250K: a single book besides the volumes"
mapfile -t vols <"$WORK/vol.out"
n=${#vols[@]}
[ "$n" -ge 2 ] || fail "250K: $n book(s), expected volumes"
total=0
for k in $(seq 1 "$n"); do
  v=${vols[$((k - 1))]}
  [ "$v" = "$WORK/vol-$k.epub" ] || fail "250K: volume $k is $v"
  b=$(stat -c %s "$v")
  [ "$b" -le $((250 * 1024)) ] || fail "250K: volume $k has $b bytes"
  check_epub "$v"
  a=$(python3 "$SRCDIR/tests/integration/epub_inspect.py" "$v" --box 1236x1648 --json |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["articles"])') || fail "250K: volume $k content"
  [ "$a" -ge 1 ] || fail "250K: volume $k has no article"
  total=$((total + a))
  unzip -p "$v" '*.opf' | grep -q "($k of $n)</dc:title>" || fail "250K: volume $k's title lacks \"($k of $n)\""
done
[ "$total" = 10 ] || fail "250K: the volumes hold $total articles, not 10"
grep -q "split into $n volumes" "$WORK/vol.err" || fail "250K: the split is not reported"
check_report "$WORK/vol.json"
pass "250K: $n volumes, each under the budget and valid, 10 articles in all"

# 3. Every article of every volume counts as delivered: the next run has nothing new.
"$INKDIGEST" run -c "$WORK/vol.ini" --state "$WORK/vol.db" -o "$WORK/again.epub" 2>"$WORK/again.err" \
  || fail "250K: second run failed"
grep -q "nothing new" "$WORK/again.err" || { cat "$WORK/again.err" >&2; fail "250K: articles of the volumes came again"; }
pass "the volumes' articles are delivered once"

# 4. Many images: the projection made while converting picks the smaller step early, and the
# book fits without converting every image twice.
mkdir -p "$WORK/many/img"
n_img=72
imgs=("$SRCDIR"/examples/demo/images/*.jpg)
{
  echo '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Many</title>'
  for i in $(seq 1 "$n_img"); do
    cp "${imgs[$((i % ${#imgs[@]}))]}" "$WORK/many/img/p$i.jpg"
    echo "<item><title>Photo $i</title><guid>p$i</guid><description>&lt;p&gt;Photo $i&lt;/p&gt;&lt;img src=\"img/p$i.jpg\"/&gt;</description></item>"
  done
  echo '</channel></rss>'
} >"$WORK/many/feed.xml"
cat >"$WORK/many.ini" <<INI
[digest]
title = Many
max_age = 0
prune_days = 0
max_articles_per_feed = 0
font = none
max_size = 2M

[feed "Many"]
url = $WORK/many/feed.xml
INI
env -u SOURCE_DATE_EPOCH "$INKDIGEST" run -c "$WORK/many.ini" --state "$WORK/many.db" \
  -o "$WORK/many.epub" --report "$WORK/many.json" >"$WORK/many.out" 2>"$WORK/many.err" \
  || { cat "$WORK/many.err" >&2; fail "many: run failed"; }
[ "$(cat "$WORK/many.out")" = "$WORK/many.epub" ] || { cat "$WORK/many.err" >&2; fail "many: not one book"; }
bytes=$(stat -c %s "$WORK/many.epub")
[ "$bytes" -le $((2 * 1024 * 1024)) ] || fail "many: the book has $bytes bytes"
check_epub "$WORK/many.epub"
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$WORK/many.epub" --box 1236x1648 \
  --expect-articles "$n_img" --expect-images "$n_img" >/dev/null || fail "many: book content"
grep -q "images projected at .* over the budget: images converted at quality" "$WORK/many.err" \
  || { cat "$WORK/many.err" >&2; fail "many: no early decision"; }
pass "many images: decided while converting, one book of $bytes bytes with all $n_img images"

# 5. A reproducible build (SOURCE_DATE_EPOCH) does not decide while converting, since what is
# converted before the decision depends on timing: two runs give the same bytes, under budget.
for k in 1 2; do
  "$INKDIGEST" run -c "$WORK/many.ini" --state "$WORK/many-r$k.db" -o "$WORK/many-r$k.epub" \
    2>"$WORK/many-r$k.err" >/dev/null || { cat "$WORK/many-r$k.err" >&2; fail "reproducible run $k failed"; }
done
cmp -s "$WORK/many-r1.epub" "$WORK/many-r2.epub" || fail "two reproducible runs over the budget differ"
! grep -q "images projected" "$WORK/many-r1.err" || fail "a reproducible run decided while converting"
[ "$(stat -c %s "$WORK/many-r1.epub")" -le $((2 * 1024 * 1024)) ] || fail "the reproducible book is over the budget"
pass "with SOURCE_DATE_EPOCH: the budget decided after converting, byte-identical books"
