#!/usr/bin/env bash
# Crash safety (issues 3 and 10): runs killed with SIGKILL at random moments, and once at the
# worst moment (book in place, confirmation not yet committed), never leave a partial book at
# the output path, and over all the books that were written every article appears exactly once.
source "$(dirname "$0")/lib.sh"
export TZ=UTC

# A corpus of 6 feeds x 5 articles with unique ids; each article has two images served slowly,
# so a run lasts long enough to be killed in fetching, converting or writing.
root="$WORK/root"
mkdir -p "$root/img"
cp "$SRCDIR"/examples/demo/images/*.jpg "$SRCDIR"/examples/demo/images/*.png "$root/img/"
# write_feeds K: each of the 6 feeds holds its first K articles (new ones appear each round).
write_feeds() {
  python3 - "$root" "$1" "$FIXTURE_PORT" <<'PY'
import os, sys
root, k, port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# Links on the fixture server: the images' paths resolve against them (an item's base is its
# link), and nothing may send a run to a host on the internet.
site = "http://127.0.0.1:%s" % port
imgs = sorted(os.listdir(os.path.join(root, "img")))
for f in range(6):
    items = []
    for i in range(k):
        a, b = imgs[(f * 5 + i) % len(imgs)], imgs[(f * 5 + i + 3) % len(imgs)]
        items.append(f"""<item><title>Feed {f} article {i}</title><guid>crash-{f}-{i}</guid>
<link>{site}/{f}/{i}</link><pubDate>Wed, 25 Nov 2026 {10 + i}:00:00 +0000</pubDate>
<description><![CDATA[<p>Article {i} of feed {f}.</p><p><img src="/hold/30/img/{a}?f={f}i={i}"></p>
<p><img src="/hold/30/img/{b}?f={f}i={i}b"></p>]]></description></item>""")
    tmp = os.path.join(root, f"feed{f}.xml.tmp")
    with open(tmp, "w") as out:
        out.write(f"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>Crash feed {f}</title><link>{site}/{f}</link>{''.join(items)}</channel></rss>""")
    os.rename(tmp, os.path.join(root, f"feed{f}.xml"))
PY
}
start_fixture_server "$root"
{
  printf '[digest]\ntitle = Crash\nlanguage = en\nmax_age = 0\nprune_days = 0\nconcurrency = 4\nper_host = 4\n\n'
  for f in 0 1 2 3 4 5; do printf '[feed "F%s"]\nurl = http://127.0.0.1:%s/feed%s.xml\n\n' "$f" "$FIXTURE_PORT" "$f"; done
} >"$WORK/crash.ini"

books="$WORK/books"
mkdir -p "$books"
state="$WORK/state.db"
n=0
# The kill window scales with this machine (and with sanitizers): a complete run over all 30
# articles, with a state of its own, sets it.
write_feeds 5
t0=$(date +%s.%N)
"$INKDIGEST" run -q -c "$WORK/crash.ini" --state "$WORK/ref.db" -o "$WORK/ref.epub" \
  || fail "the reference run failed"
span=$(python3 -c "import sys; print('%.2f' % max(0.4, 1.3 * ($(date +%s.%N) - $t0)))")
echo "kill window: 0.05-${span}s"
run_killed() {  # a run killed with SIGKILL at a random moment of the window
  n=$((n + 1))
  "$INKDIGEST" run -q -c "$WORK/crash.ini" --state "$state" -o "$books/book-$n.epub" 2>/dev/null &
  local pid=$!
  sleep "$(python3 -c "import random; print('%.3f' % random.uniform(0.05, $span))")"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -e "$books/book-$n.epub" ]; then
    python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None' \
      "$books/book-$n.epub" || fail "a partial book is at the output path after kill -9"
  fi
}

# Five rounds; each adds one article per feed, and two runs are killed at random moments.
for round in 1 2 3 4 5; do
  write_feeds "$round"
  run_killed
  run_killed
  if [ "$round" = 3 ]; then
    # The worst moment, deterministically: the book is in place, its confirmation is not.
    n=$((n + 1))
    set +e
    INKDIGEST_TEST_CRASH=state_confirm "$INKDIGEST" run -q -c "$WORK/crash.ini" --state "$state" \
      -o "$books/book-$n.epub" 2>/dev/null
    code=$?
    set -e
    if [ "$code" != 137 ] && [ -e "$books/book-$n.epub" ]; then
      fail "the crash hook did not kill the run (exit $code)"
    fi
  fi
done
# Then runs to the end until nothing is new.
for attempt in 1 2 3; do
  n=$((n + 1))
  "$INKDIGEST" run -q -c "$WORK/crash.ini" --state "$state" -o "$books/book-$n.epub" \
    || fail "a run after the crashes failed"
  [ -e "$books/book-$n.epub" ] || break
done
[ ! -e "$books/book-$n.epub" ] || fail "still new articles after three complete runs"
[ "$(ls "$books" | grep -c '^book-')" -ge 3 ] || fail "too few books were written for the test to mean anything"

# Every article is in exactly one book.
python3 - "$books" <<'PY' || fail "articles lost or delivered twice"
import collections, os, re, sys, zipfile
seen = collections.Counter()
for name in sorted(os.listdir(sys.argv[1])):
    z = zipfile.ZipFile(os.path.join(sys.argv[1], name))
    nav = [n for n in z.namelist() if n.endswith("nav.xhtml")][0]
    for t in re.findall(r">(Feed \d article \d)<", z.read(nav).decode()):
        seen[t] += 1
want = {f"Feed {f} article {i}" for f in range(6) for i in range(5)}
missing = want - set(seen)
twice = {t: c for t, c in seen.items() if c > 1}
print(f"{len(seen)} articles in {len(os.listdir(sys.argv[1]))} books")
assert not missing, f"lost: {sorted(missing)}"
assert not twice, f"delivered more than once: {twice}"
PY
ls "$books"/*.part-* 2>/dev/null | head -3 >&2 || true
pass "after $n runs, killed at random, every article was delivered exactly once"
for b in "$books"/book-*.epub; do check_epub "$b"; break; done
