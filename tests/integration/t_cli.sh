#!/usr/bin/env bash
# The command line: --help and --version, each subcommand's --help, usage errors (64), config
# errors as FILE:LINE (78), profiles, import-opml, log and state forget.
source "$(dirname "$0")/lib.sh"
fx="$SRCDIR/tests/fixtures/cli"

"$INKDIGEST" --help >"$WORK/help" || fail "--help exit code"
for c in run check inspect import-opml send log "state forget" profiles; do
  grep -q "^  $c " "$WORK/help" || fail "--help lacks $c"
done
grep -q "^Exit codes" "$WORK/help" || fail "--help lacks the exit codes"
"$INKDIGEST" --version >"$WORK/version"
grep -Eq '^inkdigest [0-9]+\.[0-9]+' "$WORK/version" || fail "--version"
for c in run check inspect import-opml send log state profiles; do
  "$INKDIGEST" "$c" --help >"$WORK/h" || fail "$c --help exit code"
  grep -q "Usage: inkdigest $c" "$WORK/h" || fail "$c --help"
done
pass "help and version"

expect_code() {  # expect_code CODE CMD...
  local want=$1; shift
  set +e; "$@" >"$WORK/o" 2>"$WORK/e"; local got=$?; set -e
  [ "$got" = "$want" ] || { cat "$WORK/e" >&2; fail "$* exited $got, expected $want"; }
}
expect_code 64 "$INKDIGEST"
expect_code 64 "$INKDIGEST" frobnicate
expect_code 64 "$INKDIGEST" run --bogus
expect_code 64 "$INKDIGEST" run extra-operand
expect_code 64 "$INKDIGEST" inspect
expect_code 64 "$INKDIGEST" log -5
expect_code 64 "$INKDIGEST" state forget
expect_code 64 "$INKDIGEST" run --wait soon
grep -q "Try 'inkdigest --help'" "$WORK/e" || fail "usage errors do not point at --help"
expect_code 66 "$INKDIGEST" check -c "$WORK/missing.ini"
pass "usage errors exit 64, a missing config 66"

expect_code 78 "$INKDIGEST" check -c "$fx/bad.ini"
for line in 3 4 6 11; do
  grep -q "^$fx/bad.ini:$line: " "$WORK/e" || { cat "$WORK/e" >&2; fail "no error for line $line"; }
done
# What the stages judge (mail templates, selectors) is reported the same way.
cat >"$WORK/stages.ini" <<INI
[digest]
title = T

[feed "Selectors"]
url = $SRCDIR/examples/demo/news.rss
remove = div > p

[mail]
to = a@kindle.example
from = b@example.org
smtp = smtp://127.0.0.1:2525
subject = {title} {count}
INI
expect_code 78 "$INKDIGEST" check -c "$WORK/stages.ini"
grep -q "^$WORK/stages.ini:4: \[feed \"Selectors\"\] remove: " "$WORK/e" || { cat "$WORK/e" >&2; fail "bad selector not reported at its feed"; }
grep -q "^$WORK/stages.ini:8: \[mail\] subject: .*{count}" "$WORK/e" || { cat "$WORK/e" >&2; fail "unknown placeholder not reported"; }
expect_code 0 "$INKDIGEST" check -c "$SRCDIR/examples/demo.ini"
grep -q "3 feeds" "$WORK/o" || fail "check does not summarise the demo config"
grep -q ", font .*(/" "$WORK/o" || { cat "$WORK/o" >&2; fail "check does not say which CJK font it found"; }
pass "check reports every problem as FILE:LINE and accepts the demo"

"$INKDIGEST" profiles >"$WORK/p"
grep -Eq '^kindle-paperwhite +1236x1648' "$WORK/p" || fail "profiles lacks kindle-paperwhite 1236x1648"
pass "profiles"

"$INKDIGEST" import-opml "$fx/feeds.opml" >"$WORK/imported.ini"
grep -q '^\[feed "LWN.net"\]$' "$WORK/imported.ini" || fail "import-opml: LWN"
grep -q '^url = https://lwn.net/headlines/rss$' "$WORK/imported.ini" || fail "import-opml: url"
grep -q '^group = Tech$' "$WORK/imported.ini" || fail "import-opml: group"
grep -q '^\[feed "新智元"\]$' "$WORK/imported.ini" || fail "import-opml: CJK name"
{ printf '[digest]\ntitle = t\n\n'; cat "$WORK/imported.ini"; } >"$WORK/round.ini"
"$INKDIGEST" check -c "$WORK/round.ini" >/dev/null || fail "imported sections are not a valid config"
expect_code 66 "$INKDIGEST" import-opml "$WORK/none.opml"
printf '[digest]\ntitle = t\nopml = %s\n\n[feed "LWN again"]\nurl = https://lwn.net/headlines/rss\n' "$fx/feeds.opml" >"$WORK/opml.ini"
"$INKDIGEST" check -c "$WORK/opml.ini" >"$WORK/o" || fail "a config with opml = FILE"
grep -q ": ok: 3 feeds" "$WORK/o" || { cat "$WORK/o" >&2; fail "opml = FILE did not add the OPML's feeds once each"; }
pass "import-opml prints sections that check accepts; opml = FILE adds the feeds"

# log and state forget on a real state.
export SOURCE_DATE_EPOCH=1795680000
"$INKDIGEST" run -q -c "$SRCDIR/examples/demo.ini" --state "$WORK/s.db" -o "$WORK/b.epub" || fail "run"
"$INKDIGEST" log --state "$WORK/s.db" -c "$SRCDIR/examples/demo.ini" >"$WORK/log" || fail "log"
[ "$(grep -c . "$WORK/log")" -ge 1 ] || fail "log shows no run"
"$INKDIGEST" state forget "新智元" -c "$SRCDIR/examples/demo.ini" --state "$WORK/s.db" >"$WORK/f" || fail "forget"
grep -q "forgot 3 " "$WORK/f" || { cat "$WORK/f" >&2; fail "forget did not forget the feed's 3 articles"; }
"$INKDIGEST" run -q -c "$SRCDIR/examples/demo.ini" --state "$WORK/s.db" -o "$WORK/b2.epub" || fail "run 2"
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$WORK/b2.epub" --box 1236x1648 \
  --expect-sections 1 --expect-articles 3 || fail "after forget, the next book holds the feed again"
"$INKDIGEST" state forget --all -c "$SRCDIR/examples/demo.ini" --state "$WORK/s.db" >"$WORK/f" || fail "forget --all"
grep -q "forgot 10 " "$WORK/f" || { cat "$WORK/f" >&2; fail "forget --all"; }
pass "log and state forget"

# Progress: drawn in place on a terminal, absent without one and with -q.
rm -f "$WORK/p.db" "$WORK/p.epub"
script -qfec "'$INKDIGEST' run -c '$SRCDIR/examples/demo.ini' --state '$WORK/p.db' -o '$WORK/p.epub'" /dev/null >"$WORK/tty.out" </dev/null \
  || fail "run under a pseudo-terminal"
grep -q $'\r' "$WORK/tty.out" || fail "no progress redrawn in place on a terminal"
grep -aq 'feeds 3/3' "$WORK/tty.out" || fail "the progress line does not count feeds"
grep -aq 'wrote .*10 articles from 3 feeds' "$WORK/tty.out" || fail "no closing summary on a terminal"
rm -f "$WORK/p.db" "$WORK/p.epub"
"$INKDIGEST" run -c "$SRCDIR/examples/demo.ini" --state "$WORK/p.db" -o "$WORK/p.epub" >/dev/null 2>"$WORK/notty.err"
if grep -q $'\r' "$WORK/notty.err"; then fail "progress drawn without a terminal"; fi
grep -q 'wrote .*10 articles' "$WORK/notty.err" || fail "no summary line without a terminal"
[ "$(grep -c . "$WORK/notty.err")" -le 2 ] || { cat "$WORK/notty.err" >&2; fail "more than the summary without a terminal"; }
rm -f "$WORK/p.db" "$WORK/p.epub"
script -qfec "'$INKDIGEST' run -q -c '$SRCDIR/examples/demo.ini' --state '$WORK/p.db' -o '$WORK/p.epub'" /dev/null >"$WORK/q.out" </dev/null
[ ! -s "$WORK/q.out" ] || { cat -A "$WORK/q.out" >&2; fail "-q printed something on a terminal"; }
pass "progress on a terminal only; -q silent"

# inspect --json: what inkdigest sees in a feed, here given as a path relative to the current
# folder (relative links and images resolve against the file, as in a run).
(cd "$SRCDIR/examples" && "$INKDIGEST" inspect demo/news.rss --json) >"$WORK/inspect.json" \
  || fail "inspect of a relative path failed"
(cd "$SRCDIR/examples" && "$INKDIGEST" inspect demo/wechat.xml --json) >"$WORK/inspect-wx.json" \
  || fail "inspect of the WeChat feed failed"
python3 - "$WORK/inspect.json" "$WORK/inspect-wx.json" "$SRCDIR" <<'PY' || fail "inspect --json"
import json, os, re, sys
d = json.load(open(sys.argv[1]))
src = os.path.realpath(sys.argv[3])
assert d["format"] == "rss2" and d["title"] == "The Valley Courier", d
assert d["warnings"] == [], d["warnings"]
keys = {"id", "title", "link", "author", "published", "content", "images"}
for it in d["items"]:
    assert set(it) == keys, it.keys()
    assert it["published"] is None or re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", it["published"]), it
    assert "<script" not in it["content"] and "style=" not in it["content"], it["content"]
lib = [it for it in d["items"] if it["id"] == "courier-2026-11-25-library"][0]
assert lib["link"] == "file://" + src + "/examples/demo/stories/library-quiet-room.html", lib["link"]
lead = d["items"][0]["images"]
assert lead == ["file://" + src + "/examples/demo/images/harbour-evening.jpg"], lead
wx = json.load(open(sys.argv[2]))
lazy = [u for it in wx["items"] for u in it["images"]]
assert len(lazy) >= 3 and all(u.startswith("file://") for u in lazy), lazy
PY
pass "inspect --json: fields, dates, cleaned content and resolved links and images"
