#!/usr/bin/env bash
# Fault injection over HTTP (issue 10): one run where healthy feeds sit beside every failure
# the fixture server can produce (refused connection, unknown host, TLS to a plain port,
# 404/410/500, stall, slow drip, truncated body, gzip bomb, 100 MB body, redirect loop,
# redirect to file://, HTML as a feed, garbage, a 50 MB feed) and beside articles whose
# images are broken in every way. The run stays within its time limits, the book holds every
# healthy article, and each failure is named once on stderr and in the report. Then a feed
# of 100,000 items, an article of 15 MB, an article of 10,001 images and article pages
# (fulltext) that fail: bounded in time and memory, nothing healthy lost.
source "$(dirname "$0")/lib.sh"
export TZ=UTC
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR"

# Runs the binary with a hard timeout (a hang fails the test instead of blocking it) and
# measures it. Usage: timed_run NAME ARGS...; exit code in $RC (124: killed by the timeout),
# wall seconds (rounded up) in $ELAPSED, peak resident memory in KB in $WORK/NAME.rss.
timed_run() {
  local name=$1; shift
  RC=0
  python3 - "$WORK/$name" "$INKDIGEST" "$@" <<'PY' >"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
import math, resource, subprocess, sys, time
base, cmd = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
try:
    rc = subprocess.run(cmd, timeout=150).returncode
except subprocess.TimeoutExpired:
    rc = 124
with open(base + ".rss", "w") as f:
    f.write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
with open(base + ".time", "w") as f:
    f.write("%d\n" % math.ceil(time.monotonic() - t0))
sys.exit(rc if rc >= 0 else 128 - rc)
PY
  ELAPSED=$(cat "$WORK/$name.time")
  [ "$RC" != 124 ] || { cat "$WORK/$name.err" >&2; fail "$name: hung (killed after 150 s)"; }
}

# A TCP port on 127.0.0.1 that nothing listens on: bound, then closed again.
closed_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# No trace of /etc/passwd in any file given (books are unzipped first).
no_passwd() {
  local f
  for f in "$@"; do
    if [ "${f%.epub}" != "$f" ]; then
      rm -rf "$WORK/unz" && mkdir "$WORK/unz" && unzip -q -o "$f" -d "$WORK/unz"
      ! grep -rq 'root:x:0:0' "$WORK/unz" || fail "/etc/passwd content in the book $f"
    else
      ! grep -aq 'root:x:0:0' "$f" || fail "/etc/passwd content in $f"
    fi
  done
}

root="$WORK/root"
mkdir -p "$root"
cp -r "$SRCDIR/examples/demo/." "$root/"
cp -r "$SRCDIR/tests/fixtures/faults" "$root/faults"
mkdir -p "$root/faults/img"
cp "$SRCDIR/examples/demo/images/city-dusk.jpg" "$root/faults/img/photo.jpg"
python3 "$SRCDIR/tests/fixtures/faults/make_fixtures.py" "$root" --big || fail "make_fixtures.py"
start_fixture_server "$root"
base="http://127.0.0.1:$FIXTURE_PORT"
dead=$(closed_port)

# ---- 1. Every HTTP failure beside the healthy feeds ------------------------------------------
# A host name no resolver can be asked about: a 64-byte label is refused by the C library
# before any query leaves the machine (a name like nonexistent.invalid is sent to the
# configured DNS server), so the lookup fails here and offline alike.
nodns="$(printf 'a%.0s' $(seq 64)).invalid"
# name|url|regex the report's error must match (healthy feeds have no regex).
cases=(
  "WeChat|$base/wechat.xml|"
  "Blog|$base/blog.atom|"
  "News|$base/news.rss|"
  "Pictures|$base/faults/images.rss|"
  "Mislabelled|$base/ctype/text/html/faults/mislabelled.rss|"
  "Refused|http://127.0.0.1:$dead/feed.xml|^fetch: .*([Cc]onnect|refused)"
  "No DNS|http://$nodns/feed.xml|^fetch: .*(resolve|[Rr]esolv)"
  "TLS|https://127.0.0.1:$FIXTURE_PORT/blog.atom|^fetch: .*(SSL|TLS|ssl|tls)"
  "Gone|$base/status/404|^fetch: HTTP 404"
  "Gone for good|$base/status/410|^fetch: HTTP 410"
  "Broken|$base/status/500|^fetch: HTTP 500"
  "Stalled|$base/stall/blog.atom|^fetch: .*(timed out|too slow)"
  "Slow drip|$base/slow/50/blog.atom|^fetch: .*(timed out|too slow)"
  "Truncated|$base/truncated/news.rss|^fetch: .*(closed|remaining|partial|[Pp]artial)"
  "Gzip bomb|$base/gzip-bomb|^fetch: larger than"
  "Hundred MB|$base/big/100|^fetch: larger than"
  "Redirect loop|$base/redirect-loop|^fetch: too many redirects"
  "To a file|$base/redirect-file|^fetch: redirect to file:.* refused"
  "A web page|$base/ctype/text/html/stories/library-quiet-room.html|^parse: "
  "Garbage|$base/faults/invalid.xml|^parse: "
  "Fifty MB|$base/faults/huge50.rss|^fetch: larger than"
)
cfg="$WORK/faults.ini"
cat >"$cfg" <<INI
[digest]
title = Fault Digest
language = en
max_age = 0
device = kindle-paperwhite
font = none
timeout = 3
connect_timeout = 2
concurrency = 32
per_host = 16
INI
for c in "${cases[@]}"; do
  IFS='|' read -r name url _ <<<"$c"
  printf '\n[feed "%s"]\nurl = %s\n' "$name" "$url" >>"$cfg"
done
printf '%s\n' "${cases[@]}" >"$WORK/cases.txt"

book="$WORK/faults.epub"
timed_run r1 run -c "$cfg" --state "$WORK/state.db" -o "$book" --report "$WORK/r1.json"
[ "$RC" = 0 ] || { cat "$WORK/r1.err" >&2; fail "the run exited $RC, not 0 (some feeds are healthy)"; }
# Each failing transfer gets at most (retries + 1) x timeout = 3 x 3 s, plus backoff; they
# run in parallel, then the images (one of them stalls) get the same budget.
[ "$ELAPSED" -le 45 ] || fail "the run took ${ELAPSED}s: its time limits did not hold"
rss_kb=$(cat "$WORK/r1.rss")
[ "$rss_kb" -lt $((1024 * 1024)) ] || fail "peak memory ${rss_kb} KB: the caps did not bound memory"
pass "the run finished in ${ELAPSED}s (bound 45 s), peak memory $((rss_kb / 1024)) MB"

check_epub "$book"
# demo: 10 articles, 9 images; Pictures: 2 articles, 1 good image; Mislabelled: 2 articles.
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$book" --box 1236x1648 \
  --expect-sections 5 --expect-articles 14 --expect-images 10 \
  --expect-text "One good gradient survives" --expect-text "stays readable" \
  --expect-text "the bytes are RSS 2.0" --json >"$WORK/inspect1.json" \
  || fail "the book lacks a healthy article or image, or an <img> points outside it"
pass "valid book with every healthy article (14) and image (10); no <img> points at a missing file"

while IFS='|' read -r name url want; do
  n=$(grep -c "feed \"$name\": " "$WORK/r1.err" || true)
  if [ -n "$want" ]; then
    [ "$n" = 1 ] || { cat "$WORK/r1.err" >&2; fail "expected one stderr line for feed \"$name\", got $n"; }
  else
    ! grep -Eq "feed \"$name\": (fetch|parse):" "$WORK/r1.err" || fail "healthy feed \"$name\" reported as failed"
  fi
done <"$WORK/cases.txt"
pass "stderr has exactly one line per failing feed (16) and none for the healthy ones"

python3 - "$WORK/r1.json" "$WORK/cases.txt" <<'PY' || fail "the report does not name each failure"
import json, re, sys
r = json.load(open(sys.argv[1]))
feeds = {f["name"]: f for f in r["feeds"]}
bad = []
for line in open(sys.argv[2], encoding="utf-8"):
    name, url, want = line.rstrip("\n").split("|", 2)
    f = feeds.get(name)
    if f is None:
        bad.append("no report entry for %r" % name)
        continue
    if want:
        if not f["error"] or not re.search(want, f["error"]):
            bad.append("%s: error %r does not match %r" % (name, f["error"], want))
        if f["articles_new"]:
            bad.append("%s: failed but has new articles" % name)
    elif f["error"]:
        bad.append("%s: healthy but error %r" % (name, f["error"]))
for name, code in (("Gone", 404), ("Gone for good", 410), ("Broken", 500)):
    if feeds[name]["http_status"] != code:
        bad.append("%s: http_status %r, expected %d" % (name, feeds[name]["http_status"], code))
if feeds["Refused"]["http_status"] not in (None, 0):
    bad.append("Refused: http_status %r without a response" % feeds["Refused"]["http_status"])
failed = [f for f in r["feeds"] if f["error"]]
if len(failed) != 16 or r["counts"]["feeds_failed"] != 16:
    bad.append("%d feeds with an error, counts say %r; expected 16" % (len(failed), r["counts"]["feeds_failed"]))
for f in r["feeds"]:
    if f["error"] and "\n" in f["error"]:
        bad.append("%s: error spans lines" % f["name"])
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
pass "the report has one error per failing feed, naming the stage and the cause"

python3 - "$WORK/r1.json" "$base" <<'PY' || fail "the report does not explain each dropped image"
import json, re, sys
r = json.load(open(sys.argv[1]))
imgs = r["images"]
def find(suffix):
    hits = [i for i in imgs if i["url"] == sys.argv[2] + suffix]
    return hits[0] if len(hits) == 1 else None
expect = {
    "/faults/img/ok.png": None,
    "/truncated/faults/img/photo.jpg": r"fetch: ",
    "/faults/img/half.jpg": r"(?i)truncat|corrupt|premature",
    "/faults/img/half.png": r"(?i)truncat|corrupt|crc|decode",
    "/faults/img/corrupt.jpg": r"(?i)decode",
    "/faults/img/bomb.png": r"(?i)pixels|limit|too large",
    "/faults/img/bomb.gif": r"(?i)pixels|limit|too large",
    "/faults/img/bomb.jpg": r"(?i)pixels|limit|too large",
    "/faults/img/bomb.webp": r"(?i)pixels|limit|too large",
    "/faults/img/dot.png": r"(?i)under|spacer|small",
    "/faults/img/zero.png": r"(?i)empty",
    "/ctype/image/png/faults/img/page.html": r"(?i)not an image|format|decode",
    "/faults/img/missing.png": r"HTTP 404",
    "/big/20": r"larger than",
    "/stall/faults/img/ok.png": r"(?i)timed out|too slow",
}
bad = []
for suffix, want in expect.items():
    im = find(suffix)
    if im is None:
        bad.append("%s: not exactly one report entry" % suffix)
    elif want is None and im["dropped"]:
        bad.append("%s: healthy image dropped: %r" % (suffix, im["dropped"]))
    elif want and not (im["dropped"] and re.search(want, im["dropped"])):
        bad.append("%s: dropped %r does not match %r" % (suffix, im["dropped"], want))
    elif want and (im["bytes_out"] or im["width_out"]):
        bad.append("%s: dropped but has output dimensions" % suffix)
c = r["counts"]
if c["images_delivered"] != 10:
    bad.append("images_delivered %r, expected 10" % c["images_delivered"])
if bad:
    print("\n".join(bad), file=sys.stderr)
    print(json.dumps(imgs, indent=1), file=sys.stderr)
    sys.exit(1)
PY
pass "each broken image is dropped with its reason; the good one is delivered"

no_passwd "$book" "$WORK/r1.json" "$WORK/r1.err" "$WORK/r1.out"
pass "the redirect to file:///etc/passwd leaked nothing into the book, report or output"

ls "$WORK"/faults.epub.part-* >/dev/null 2>&1 && fail "a .part file was left beside the book"
[ -z "$(ls -A "$TMPDIR")" ] || { ls -la "$TMPDIR" >&2; fail "temporary files left in TMPDIR"; }
pass "no .part file beside the book, nothing left in TMPDIR"

# ---- 2. The failed feeds stay undelivered; a second run delivers nothing twice ---------------
timed_run r2 run -c "$cfg" --state "$WORK/state.db" -o "$WORK/again.epub" --report "$WORK/r2.json"
[ "$RC" = 0 ] || { cat "$WORK/r2.err" >&2; fail "second run exited $RC"; }
[ ! -e "$WORK/again.epub" ] || fail "second run wrote a book: something was delivered twice"
pass "second run: nothing new from the healthy feeds, no book"

# ---- 3. A feed of 100,000 items --------------------------------------------------------------
cat >"$WORK/many.ini" <<INI
[digest]
title = Many
max_age = 0
font = none
timeout = 10

[feed "Many"]
url = $base/faults/many.rss
INI
timed_run many run -c "$WORK/many.ini" --state "$WORK/many.db" -o "$WORK/many.epub" --report "$WORK/many.json"
[ "$RC" = 0 ] || { cat "$WORK/many.err" >&2; fail "100,000 items: exited $RC"; }
[ "$ELAPSED" -le 30 ] || fail "100,000 items took ${ELAPSED}s"
rss_kb=$(cat "$WORK/many.rss")
[ "$rss_kb" -lt $((1024 * 1024)) ] || fail "100,000 items: peak memory ${rss_kb} KB"
check_epub "$WORK/many.epub"
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$WORK/many.epub" --box 1236x1648 \
  --expect-articles 25 || fail "100,000 items: not the newest 25 articles"
python3 - "$WORK/many.json" <<'PY' || fail "100,000 items: the report does not explain the cap"
import json, sys
f = json.load(open(sys.argv[1]))["feeds"][0]
assert f["error"] is None, f
assert 0 < f["articles_total"] <= 10000, f["articles_total"]
assert f["articles_new"] == 25, f
assert f["skipped_limit"] == f["articles_total"] - 25, f
assert any("10000" in w or "10,000" in w for w in f["warnings"]), f["warnings"]
PY
pass "100,000 items: ${ELAPSED}s, $((rss_kb / 1024)) MB; at most 10,000 parsed (warned), newest 25 in the book"

# ---- 4. An article of 15 MB (under the 20 MB feed cap) ---------------------------------------
cat >"$WORK/big15.ini" <<INI
[digest]
title = Big article
max_age = 0
font = none
timeout = 20

[feed "Big article"]
url = $base/faults/big15.rss

[feed "Small"]
url = $base/faults/mislabelled.rss
INI
timed_run big15 run -c "$WORK/big15.ini" --state "$WORK/big15.db" -o "$WORK/big15.epub" --report "$WORK/big15.json"
[ "$RC" = 0 ] || { cat "$WORK/big15.err" >&2; fail "15 MB article: exited $RC"; }
[ "$ELAPSED" -le 60 ] || fail "15 MB article took ${ELAPSED}s"
rss_kb=$(cat "$WORK/big15.rss")
[ "$rss_kb" -lt $((1536 * 1024)) ] || fail "15 MB article: peak memory ${rss_kb} KB"
[ -s "$WORK/big15.epub" ] || fail "15 MB article: no book"
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$WORK/big15.epub" --box 1236x1648 \
  --expect-articles 3 --expect-text "All work and no play" --expect-text "the bytes are RSS 2.0" \
  || fail "15 MB article: not in the book beside the small feed"
pass "15 MB article: processed in ${ELAPSED}s, peak $((rss_kb / 1024)) MB, in the book"

# ---- 5. More images than a digest takes (10,000) ---------------------------------------------
cat >"$WORK/imgcap.ini" <<INI
[digest]
title = Image cap
max_age = 0
font = none

[feed "Many images"]
url = $base/faults/many-images.rss
INI
timed_run imgcap run -c "$WORK/imgcap.ini" --state "$WORK/imgcap.db" -o "$WORK/imgcap.epub" --report "$WORK/imgcap.json"
[ "$RC" = 0 ] || { cat "$WORK/imgcap.err" >&2; fail "10,001 images: exited $RC"; }
[ "$ELAPSED" -le 60 ] || fail "10,001 images took ${ELAPSED}s"
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$WORK/imgcap.epub" --box 1236x1648 \
  --expect-articles 1 --expect-text "The many-images canary article" || fail "10,001 images: book"
python3 - "$WORK/imgcap.json" <<'PY' || fail "10,001 images: the cap is not reported"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["counts"]["images"] == 10000, r["counts"]
assert any("10000" in w["message"] and w["stage"] == "image" for w in r["warnings"]), r["warnings"]
PY
pass "10,001 images in one article: ${ELAPSED}s, 10,000 handled, the rest dropped with a warning"

# ---- 6. Article pages (fulltext = yes) that fail ----------------------------------------------
sed "s#@BASE@#$base#g" "$root/faults/fulltext.rss.in" >"$root/faults/fulltext.rss"
cat >"$WORK/fulltext.ini" <<INI
[digest]
title = Full text
max_age = 0
font = none
timeout = 3
connect_timeout = 2
per_host = 8

[feed "Full text"]
url = $base/faults/fulltext.rss
fulltext = yes
INI
timed_run fulltext run -c "$WORK/fulltext.ini" --state "$WORK/fulltext.db" -o "$WORK/fulltext.epub" --report "$WORK/fulltext.json"
[ "$RC" = 0 ] || { cat "$WORK/fulltext.err" >&2; fail "failing pages: exited $RC"; }
[ "$ELAPSED" -le 30 ] || fail "failing pages took ${ELAPSED}s"
check_epub "$WORK/fulltext.epub"
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$WORK/fulltext.epub" --box 1236x1648 \
  --expect-articles 5 --expect-text "Teaser of the big page" --expect-text "Teaser of the stalled page" \
  --expect-text "Teaser of the file redirect" --expect-text "Teaser of the broken page" \
  || fail "failing pages: an article is missing or lost its feed text"
check_report "$WORK/fulltext.json"
python3 - "$WORK/fulltext.json" <<'PY' || fail "failing pages: content sources"
import json, sys
arts = {a["id"]: a for a in json.load(open(sys.argv[1]))["articles"]}
assert arts["ft-ok"]["content_source"] == "fulltext", arts["ft-ok"]
assert arts["ft-ok"]["fulltext_error"] is None, arts["ft-ok"]
for i in ("ft-big", "ft-stall", "ft-file", "ft-500"):
    assert arts[i]["content_source"] == "feed", arts[i]
    # The report says why the page was not used.
    assert (arts[i]["fulltext_error"] or "").startswith("fetch: "), arts[i]
assert "500" in arts["ft-500"]["fulltext_error"], arts["ft-500"]
PY
no_passwd "$WORK/fulltext.epub" "$WORK/fulltext.json" "$WORK/fulltext.err"
pass "failing article pages (6 MB, stalled, to file://, 500): ${ELAPSED}s, each falls back to the feed's text"
