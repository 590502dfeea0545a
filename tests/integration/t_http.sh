#!/usr/bin/env bash
# Feeds over HTTP from the fixture server on 127.0.0.1: healthy feeds make the book while a 404,
# a 500, an HTML page and a stalled server each fail alone with a one-line reason; a second run
# revalidates with ETag/Last-Modified (304: no parse, nothing new).
source "$(dirname "$0")/lib.sh"
export TZ=UTC

start_fixture_server "$SRCDIR/examples/demo"
base="http://127.0.0.1:$FIXTURE_PORT"
cat >"$WORK/http.ini" <<INI
[digest]
title = HTTP Digest
language = zh
max_age = 0
device = kindle-paperwhite
timeout = 4
connect_timeout = 2

[feed "WeChat"]
url = $base/wechat.xml

[feed "Blog"]
url = $base/blog.atom

[feed "News"]
url = $base/etag/news.rss

[feed "Gone"]
url = $base/status/404

[feed "Broken"]
url = $base/status/500

[feed "Not a feed"]
url = $base/ctype/text/html/stories/library-quiet-room.html

[feed "Stalled"]
url = $base/stall/blog.atom
INI

book="$WORK/http.epub"
start=$(date +%s)
"$INKDIGEST" run -c "$WORK/http.ini" --state "$WORK/state.db" -o "$book" --report "$WORK/r1.json" \
  >"$WORK/out1" 2>"$WORK/err1" || { cat "$WORK/err1" >&2; fail "run exited non-zero"; }
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 40 ] || fail "run took ${elapsed}s: the stalled feed was not bounded"
check_epub "$book"
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$book" --box 1236x1648 \
  --expect-sections 3 --expect-articles 10 --expect-images 9 || fail "book content"
for name in Gone Broken "Not a feed" Stalled; do
  n=$(grep -c "feed \"$name\": " "$WORK/err1" || true)
  [ "$n" = 1 ] || { cat "$WORK/err1" >&2; fail "expected one error line for feed \"$name\", got $n"; }
done
grep -q 'feed "Gone": fetch: .*404' "$WORK/err1" || fail "404 not named"
grep -q 'feed "Broken": fetch: .*500' "$WORK/err1" || fail "500 not named"
grep -q 'feed "Not a feed": parse: ' "$WORK/err1" || fail "HTML page not reported as a parse failure"
pass "healthy feeds made the book; each failing feed got one line naming its stage"

check_report "$WORK/r1.json"
python3 - "$WORK/r1.json" <<'PY' || fail "report"
import json, sys
r = json.load(open(sys.argv[1]))
feeds = {f["name"]: f for f in r["feeds"]}
assert feeds["Gone"]["http_status"] == 404, feeds["Gone"]
assert feeds["Gone"]["error"], feeds["Gone"]
assert feeds["WeChat"]["articles_new"] == 3, feeds["WeChat"]
assert not feeds["WeChat"].get("error"), feeds["WeChat"]
imgs = r["images"]
dropped = [i for i in imgs if i.get("dropped")]
assert any("pixel.gif" in i["url"] for i in dropped), "the tracking pixel is not reported dropped"
assert len([i for i in imgs if not i.get("dropped")]) == 9, imgs
PY
pass "the report names each failure and each image"

# Second run: the ETag feed answers 304; nothing new; no book.
book2="$WORK/http2.epub"
"$INKDIGEST" run -c "$WORK/http.ini" --state "$WORK/state.db" -o "$book2" --report "$WORK/r2.json" \
  2>"$WORK/err2" || true
[ ! -e "$book2" ] || fail "second run wrote a book"
grep -q "nothing new" "$WORK/err2" || { cat "$WORK/err2" >&2; fail "second run did not say nothing new"; }
python3 - "$WORK/r2.json" <<'PY' || fail "conditional GET"
import json, sys
r = json.load(open(sys.argv[1]))
feeds = {f["name"]: f for f in r["feeds"]}
assert feeds["News"]["not_modified"] is True, feeds["News"]
assert feeds["News"]["http_status"] == 304, feeds["News"]
PY
pass "second run revalidated the ETag feed (304) and wrote nothing"
