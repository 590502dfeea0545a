#!/usr/bin/env bash
# Disk and state faults (issue 10): the output folder unusable, the disk full (ulimit -f), the
# state database locked by another run, the state database corrupt. Each: a clear error and
# the documented exit code, no partial book at the output path, no .part file left beside it,
# and the state unchanged: a following good run delivers every article. Then crash safety:
# kill -9 at random moments of many runs, with and without mail, loses no article and
# delivers none twice.
#
# "Unwritable" is made without chmod, which does not stop root (CI runs as root): the output
# path's parent is a regular file (ENOTDIR), or the output path is an existing folder (the
# final rename fails with EISDIR after the book was written to its .part file).
source "$(dirname "$0")/lib.sh"
export TZ=UTC
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR"

# Runs the binary with a hard timeout; exit code in $RC, output in $WORK/NAME.out/.err.
run_ink() {
  local name=$1; shift
  RC=0
  timeout -k 5 120 "$INKDIGEST" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
  [ "$RC" != 124 ] && [ "$RC" != 137 ] || { cat "$WORK/$name.err" >&2; fail "$name: hung"; }
}

# GET a control route of the fixture server (/hits, /reset) without needing curl.
http_get() {
  python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode().strip())' "$1"
}

# No book and no .part file at/beside the output path $1.
no_partial() {
  local out=$1
  [ ! -e "$out" ] || fail "a file was left at the output path $out"
  local left
  left=$(ls -d "$out".part-* 2>/dev/null || true)
  [ -z "$left" ] || fail "a partial book was left beside the output path: $left"
}

# The state $1 still owes every article: a good run with it writes the whole book.
state_unchanged() {
  local db=$1 tag=$2
  run_ink "$tag-good" run -c "$cfg" --state "$db" -o "$WORK/$tag-good.epub" --report "$WORK/$tag-good.json"
  [ "$RC" = 0 ] || { cat "$WORK/$tag-good.err" >&2; fail "$tag: the good run after it exited $RC"; }
  python3 "$SRCDIR/tests/integration/epub_inspect.py" "$WORK/$tag-good.epub" --box 1236x1648 \
    --expect-articles 10 || fail "$tag: the good run after it did not deliver every article"
}

start_fixture_server "$SRCDIR/examples/demo"
base="http://127.0.0.1:$FIXTURE_PORT"
cfg="$WORK/disk.ini"
cat >"$cfg" <<INI
[digest]
title = Disk Digest
language = zh
max_age = 0
font = none
timeout = 5
connect_timeout = 2

[feed "WeChat"]
url = $base/wechat.xml

[feed "Blog"]
url = $base/blog.atom

[feed "News"]
url = $base/news.rss
INI

# ---- 1. The output path's parent is a regular file (ENOTDIR) --------------------------------
echo "not a folder" >"$WORK/afile"
out="$WORK/afile/book.epub"
run_ink notdir run -c "$cfg" --state "$WORK/notdir.db" -o "$out" --report "$WORK/notdir.json"
[ "$RC" = 73 ] || { cat "$WORK/notdir.err" >&2; fail "ENOTDIR: exit $RC, not 73 (EX_CANTCREAT)"; }
grep -q "afile/book.epub" "$WORK/notdir.err" || { cat "$WORK/notdir.err" >&2; fail "ENOTDIR: the error does not name the output path"; }
grep -qi "not a directory" "$WORK/notdir.err" || { cat "$WORK/notdir.err" >&2; fail "ENOTDIR: the error does not say why"; }
[ "$(cat "$WORK/afile")" = "not a folder" ] || fail "ENOTDIR: the file in the way was changed"
no_partial "$out"
[ -z "$(ls -A "$TMPDIR")" ] || fail "ENOTDIR: temporary files left in TMPDIR"
state_unchanged "$WORK/notdir.db" notdir
pass "output under a regular file: exit 73 naming the path, nothing written, state unchanged"

# ---- 2. The output path is an existing folder (the rename fails: EISDIR) ---------------------
mkdir "$WORK/adir"
run_ink isdir run -c "$cfg" --state "$WORK/isdir.db" -o "$WORK/adir" --report "$WORK/isdir.json"
[ "$RC" = 73 ] || { cat "$WORK/isdir.err" >&2; fail "EISDIR: exit $RC, not 73"; }
grep -q "adir" "$WORK/isdir.err" || { cat "$WORK/isdir.err" >&2; fail "EISDIR: the error does not name the output path"; }
[ -d "$WORK/adir" ] && [ -z "$(ls -A "$WORK/adir")" ] || fail "EISDIR: the folder in the way was changed"
left=$(ls -d "$WORK"/adir.part-* 2>/dev/null || true)
[ -z "$left" ] || fail "EISDIR: the .part file was left behind: $left"
[ -z "$(ls -A "$TMPDIR")" ] || fail "EISDIR: temporary files left in TMPDIR"
state_unchanged "$WORK/isdir.db" isdir
pass "output path is a folder: exit 73, the .part file removed, state unchanged"

# ---- 3. Disk full: the file size limit (ulimit -f) -------------------------------------------
# The kernel sends SIGXFSZ when a write crosses the limit; inkdigest ignores it, gets EFBIG, says
# so and cleans up: exit 73, no book or .part file at the output path, TMPDIR empty, the state
# unchanged. Two limits: 64 KiB stops the scratch file of converted images (about 530 KB for
# the demo), 620 KiB lets it through and stops the book (about 700 KB).
disk_full() {  # disk_full NAME KIB WHAT_THE_ERROR_NAMES
  local name=$1 kib=$2 names=$3 out="$WORK/$1.epub"
  RC=0
  (ulimit -f "$kib"; exec timeout -k 5 120 "$INKDIGEST" run -c "$cfg" --state "$WORK/$name.db" -o "$out" \
    --report "$WORK/$name.json" >"$WORK/$name.out" 2>"$WORK/$name.err") || RC=$?
  [ "$RC" = 73 ] || { cat "$WORK/$name.err" >&2; fail "disk full ($kib KiB): exit $RC, not 73"; }
  grep -qiE "too large|File too large|EFBIG|No space" "$WORK/$name.err" ||
    { cat "$WORK/$name.err" >&2; fail "disk full ($kib KiB): the error does not say the file was too large"; }
  grep -qE "$names" "$WORK/$name.err" ||
    { cat "$WORK/$name.err" >&2; fail "disk full ($kib KiB): the error does not name $names"; }
  [ ! -e "$out" ] || fail "disk full ($kib KiB): a (partial) book at the output path"
  no_partial "$out"
  [ -z "$(ls -A "$TMPDIR")" ] || fail "disk full ($kib KiB): temporary files left in TMPDIR"
  state_unchanged "$WORK/$name.db" "$name"
}
disk_full full 64 "temporary file .*images.pack"
pass "disk full at the scratch file (ulimit -f 64): exit 73 naming it, no book, state unchanged"
disk_full full2 620 "full2.epub"
pass "disk full at the book (ulimit -f 620): exit 73 naming the book, no .part file, state unchanged"

# ---- 4. The state database locked by another run ---------------------------------------------
db="$WORK/locked.db"
# Hold the run lock (state.c: flock on "<db>.lock") from outside, as a second run would.
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' "$db.lock" "$WORK/holding" &
holder=$!
SERVER_PIDS+=($holder)
for _ in $(seq 100); do [ -e "$WORK/holding" ] && break; sleep 0.05; done
[ -e "$WORK/holding" ] || fail "could not take the lock for the test"
out="$WORK/locked.epub"
t0=$(date +%s)
run_ink locked run -c "$cfg" --state "$db" -o "$out"
[ "$RC" = 75 ] || { cat "$WORK/locked.err" >&2; fail "locked: exit $RC, not 75 (EX_TEMPFAIL)"; }
[ $(( $(date +%s) - t0 )) -le 5 ] || fail "locked: did not leave at once"
grep -q "another inkdigest run holds the lock" "$WORK/locked.err" ||
  { cat "$WORK/locked.err" >&2; fail "locked: no clear message"; }
[ "$(wc -l <"$WORK/locked.err")" -le 2 ] || { cat "$WORK/locked.err" >&2; fail "locked: more than a line or two"; }
no_partial "$out"
t0=$(date +%s)
run_ink lockwait run -c "$cfg" --state "$db" -o "$out" --wait 2
waited=$(( $(date +%s) - t0 ))
[ "$RC" = 75 ] || { cat "$WORK/lockwait.err" >&2; fail "locked, --wait 2: exit $RC, not 75"; }
[ "$waited" -ge 2 ] && [ "$waited" -le 10 ] || fail "locked, --wait 2: left after ${waited}s"
no_partial "$out"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
state_unchanged "$db" locked
pass "state locked: exit 75 at once (and after --wait 2), one clear line, no book, state unchanged"

# A real second run while the first one holds the lock (the first waits on a stalled feed).
cat >"$WORK/slow.ini" <<INI
[digest]
title = Slow
max_age = 0
font = none
timeout = 2

[feed "Stalled"]
url = $base/stall/blog.atom

[feed "News"]
url = $base/news.rss
INI
"$INKDIGEST" run -q -c "$WORK/slow.ini" --state "$WORK/two.db" -o "$WORK/first.epub" \
  >/dev/null 2>"$WORK/first.err" &
first=$!
# The first run takes the lock before it fetches: once the server saw the stalled request, the
# lock is held (probing the lock itself could steal it from the first run).
for _ in $(seq 200); do [ "$(http_get "$base/hits?path=/stall/blog.atom")" -ge 1 ] && break; sleep 0.05; done
[ "$(http_get "$base/hits?path=/stall/blog.atom")" -ge 1 ] || fail "the first run never fetched"
run_ink second run -c "$cfg" --state "$WORK/two.db" -o "$WORK/second.epub"
firstrc=0
wait "$first" || firstrc=$?
[ "$RC" = 75 ] || { cat "$WORK/second.err" >&2; fail "two runs at once: the second exited $RC, not 75"; }
[ ! -e "$WORK/second.epub" ] || fail "two runs at once: the second wrote a book"
[ "$firstrc" = 0 ] && [ -s "$WORK/first.epub" ] || { cat "$WORK/first.err" >&2; fail "two runs at once: the first failed ($firstrc)"; }
pass "two runs at once: the second leaves with 75, the first finishes its book"

# ---- 5. The state database corrupt ------------------------------------------------------------
python3 -c 'import random, sys; r = random.Random(5); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(8192)))' \
  >"$WORK/corrupt.db"
cp "$WORK/corrupt.db" "$WORK/corrupt.orig"
out="$WORK/corrupt.epub"
run_ink corrupt run -c "$cfg" --state "$WORK/corrupt.db" -o "$out"
[ "$RC" = 74 ] || { cat "$WORK/corrupt.err" >&2; fail "garbage state: exit $RC, not 74 (EX_IOERR)"; }
grep -q "corrupt.db" "$WORK/corrupt.err" || { cat "$WORK/corrupt.err" >&2; fail "garbage state: the error does not name the file"; }
cmp -s "$WORK/corrupt.db" "$WORK/corrupt.orig" || fail "garbage state: the file was modified"
no_partial "$out"
pass "garbage state database: exit 74 naming the file, the file untouched, no book"

# A real database whose pages after the header are overwritten (the header still says SQLite).
cp "$WORK/notdir.db" "$WORK/damaged.db"
rm -f "$WORK/damaged.db-wal" "$WORK/damaged.db-shm"
size=$(stat -c %s "$WORK/damaged.db")
[ "$size" -gt 8192 ] || fail "the reference database is too small to damage ($size bytes)"
python3 - "$WORK/damaged.db" <<'PY'
import random, sys
with open(sys.argv[1], "r+b") as f:
    data = bytearray(f.read())
    r = random.Random(7)
    for i in range(4096, len(data)):     # page 1 (the schema) stays; the rest is noise
        data[i] = r.getrandbits(8)
    f.seek(0)
    f.write(data)
PY
cp "$WORK/damaged.db" "$WORK/damaged.orig"
out="$WORK/damaged.epub"
run_ink damaged run -c "$cfg" --state "$WORK/damaged.db" -o "$out"
[ "$RC" = 74 ] || { cat "$WORK/damaged.err" >&2; fail "damaged state: exit $RC, not 74"; }
grep -q "damaged.db" "$WORK/damaged.err" || { cat "$WORK/damaged.err" >&2; fail "damaged state: the error does not name the file"; }
cmp -s "$WORK/damaged.db" "$WORK/damaged.orig" || fail "damaged state: the file was modified"
no_partial "$out"
pass "damaged state database: exit 74 naming the file, the file untouched, no book"

# ---- 6. Crash safety: kill -9 at random moments of many runs (without mail) ------------------
# Each run is killed after a random delay (startup, fetch, conversion, writing, commit); the next
# one carries on with the same state. A local "Daily" feed gains three items before every run,
# so most runs have something new. At the output path there is either nothing or a whole book;
# the state always opens again; every item reaches a book (none lost); an item in the book of a
# run that finished is in no other book. Only a run killed between the rename of its book and
# the commit of the state may leave a book whose items come again (delivery is at least once;
# the window is the commit itself).
mkdir -p "$WORK/daily"
daily_feed() {   # daily_feed N [FILE]: the feed as it stands before run N (3 items per run so far)
  python3 - "$1" "${2:-$WORK/daily/daily.rss}" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
items = []
for run in range(1, n + 1):
    for k in range(1, 4):
        items.append("<item><guid>daily-%d-%d</guid><title>Daily %d.%d</title>"
                     "<pubDate>Thu, 26 Nov 2026 %02d:%02d:00 +0000</pubDate>"
                     "<description>Item %d of run %d.</description></item>"
                     % (run, k, run, k, run, k, k, run))
with open(path + ".tmp", "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            "<title>Daily</title><link>http://daily.example/</link>%s</channel></rss>\n"
            % "".join(reversed(items)))
import os
os.replace(path + ".tmp", path)
PY
}
cat >"$WORK/crash.ini" <<INI
[digest]
title = Crash
language = zh
max_age = 0
max_articles_per_feed = 0
font = none
timeout = 5

[feed "WeChat"]
url = $base/wechat.xml

[feed "Blog"]
url = $base/hold/300/blog.atom

[feed "News"]
url = $base/news.rss

[feed "Daily"]
url = $WORK/daily/daily.rss
INI
# How long one whole run takes here (a sanitizer build is slower): kills land in [0, 1.3 x that].
run_seconds() {   # run_seconds CONFIG: runs it once with a throwaway state, prints its duration
  python3 - "$INKDIGEST" "$1" "$WORK/measure-$RANDOM" <<'PY'
import subprocess, sys, time
t0 = time.monotonic()
subprocess.run([sys.argv[1], "run", "-q", "-c", sys.argv[2], "--state", sys.argv[3] + ".db",
                "-o", sys.argv[3] + ".epub"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
               timeout=120)
print("%.3f" % (1.3 * (time.monotonic() - t0)))
PY
}
runs=14
seed=${CRASH_SEED:-$RANDOM}
daily_feed 1
span=$(run_seconds "$WORK/crash.ini")
delays=$(python3 -c "import random; r = random.Random($seed); print(' '.join('%.3f' % r.uniform(0, $span) for _ in range($runs)))")
echo "crash test: seed $seed (CRASH_SEED=$seed gives the same delays), kills within ${span}s"
db="$WORK/crash.db"
i=0
: >"$WORK/crash.books"
for d in $delays; do
  i=$((i + 1))
  daily_feed "$i"
  out="$WORK/crash-$i.epub"
  "$INKDIGEST" run -q -c "$WORK/crash.ini" --state "$db" -o "$out" >/dev/null 2>"$WORK/crash-$i.err" &
  pid=$!
  sleep "$d"
  kill -9 "$pid" 2>/dev/null || true
  rc=0
  wait "$pid" 2>/dev/null || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 137 ] || { cat "$WORK/crash-$i.err" >&2; fail "crash run $i (after a kill -9): exit $rc"; }
  if [ -e "$out" ]; then
    python3 "$SRCDIR/tests/integration/epub_inspect.py" "$out" --box 1236x1648 --json \
      >"$WORK/crash-$i.json" || fail "crash run $i: a partial or invalid book at the output path"
    echo "$i $rc" >>"$WORK/crash.books"
  fi
done
leftover=$( (ls -d "$WORK"/crash-*.epub.part-* 2>/dev/null || true) | wc -l)
tmpleft=$( (ls -A "$TMPDIR" || true) | wc -l)
# A last run, not killed, collects whatever is still owed.
out="$WORK/crash-final.epub"
run_ink crash-final run -c "$WORK/crash.ini" --state "$db" -o "$out"
[ "$RC" = 0 ] || { cat "$WORK/crash-final.err" >&2; fail "the run after the kills exited $RC"; }
if [ -e "$out" ]; then
  python3 "$SRCDIR/tests/integration/epub_inspect.py" "$out" --box 1236x1648 --json \
    >"$WORK/crash-final.json" || fail "the final book is invalid"
  echo "final 0" >>"$WORK/crash.books"
fi
# The last run swept what the killed ones left: their .part files and temporary folders.
left=$( (ls -d "$WORK"/crash-*.epub.part-* 2>/dev/null; ls -A "$TMPDIR") | wc -l)
[ "$left" = 0 ] || { ls -la "$WORK" "$TMPDIR" >&2; fail "the run after the kills left $left leftovers of killed runs"; }
python3 - "$WORK" "$runs" <<'PY' || fail "crash safety: an article was lost or delivered twice"
import collections, json, sys
work, runs = sys.argv[1], int(sys.argv[2])
seen = collections.defaultdict(list)      # title -> [(run, rc)]
for line in open(work + "/crash.books"):
    run, rc = line.split()
    summary = json.load(open("%s/crash-%s.json" % (work, run)))
    for s in summary["sections"]:
        for t in s["articles"]:
            seen[t].append((run, rc))
bad = []
daily = {"Daily %d.%d" % (r, k) for r in range(1, runs + 1) for k in range(1, 4)}
lost = sorted(daily - set(seen))
if lost:
    bad.append("lost: %s" % lost)
if len(set(seen) - daily) != 10:
    bad.append("%d demo articles in all books, expected 10" % len(set(seen) - daily))
for t, where in seen.items():
    finished = [w for w in where if w[1] == "0"]
    if len(where) > 1 and finished:
        bad.append("%r is in %s, although run %s finished" % (t, where, finished[0][0]))
    if len(where) > 2:
        bad.append("%r delivered %d times: %s" % (t, len(where), where))
books = sum(1 for _ in open(work + "/crash.books"))
print("crash test: %d books, %d distinct articles" % (books, len(seen)))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
pass "kill -9 at $runs random moments: never a partial book, none lost, none twice; the $leftover .part files and $tmpleft temporary folders of killed runs swept by the next"

# ---- 7. Crash safety with mail: kill -9 at random moments, the SMTP server counts -------------
# What counts now is what the mail server accepted. Every item reaches a mail (none lost); an
# item mailed by a run that finished is in no other mail. A run killed after the server
# accepted its mail but before the commit sends its items again (at least once), and only that.
mkdir -p "$WORK/mailbox" "$WORK/daily-mail"
python3 "$SRCDIR/tests/integration/smtp_server.py" --port-file "$WORK/smtp.port" \
  --save-dir "$WORK/mailbox" --no-starttls >"$WORK/smtp.log" 2>&1 &
SERVER_PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/smtp.port" ] && break; sleep 0.05; done
[ -s "$WORK/smtp.port" ] || { cat "$WORK/smtp.log" >&2; fail "SMTP server did not start"; }
sed -e "s#$WORK/daily/daily.rss#$WORK/daily-mail/daily.rss#" "$WORK/crash.ini" >"$WORK/crash-mail.ini"
cat >>"$WORK/crash-mail.ini" <<INI

[mail]
enabled = yes
to = reader@kindle.example
from = me@example.org
smtp = smtp://127.0.0.1:$(cat "$WORK/smtp.port")
tls = none
INI
mruns=10
daily_feed 1 "$WORK/daily-mail/daily.rss"
span=$(run_seconds "$WORK/crash-mail.ini")
delays=$(python3 -c "import random; r = random.Random($seed + 1); print(' '.join('%.3f' % r.uniform(0, $span) for _ in range($mruns)))")
echo "crash test with mail: kills within ${span}s"
db="$WORK/crash-mail.db"
i=0
: >"$WORK/mail.runs"
for d in $delays; do
  i=$((i + 1))
  daily_feed "$i" "$WORK/daily-mail/daily.rss"
  before=$(ls "$WORK/mailbox" | grep -c '\.eml$' || true)
  "$INKDIGEST" run -q -c "$WORK/crash-mail.ini" --state "$db" -o "$WORK/mail-$i.epub" >/dev/null 2>"$WORK/mail-$i.err" &
  pid=$!
  sleep "$d"
  kill -9 "$pid" 2>/dev/null || true
  rc=0
  wait "$pid" 2>/dev/null || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 137 ] || { cat "$WORK/mail-$i.err" >&2; fail "mail crash run $i: exit $rc"; }
  sleep 0.2   # the server saves a message once it has answered 250
  echo "$i $rc $before $(ls "$WORK/mailbox" | grep -c '\.eml$' || true)" >>"$WORK/mail.runs"
done
before=$(ls "$WORK/mailbox" | grep -c '\.eml$' || true)
run_ink mail-final run -c "$WORK/crash-mail.ini" --state "$db" -o "$WORK/mail-final.epub"
[ "$RC" = 0 ] || { cat "$WORK/mail-final.err" >&2; fail "the mail run after the kills exited $RC"; }
sleep 0.2
echo "final 0 $before $(ls "$WORK/mailbox" | grep -c '\.eml$' || true)" >>"$WORK/mail.runs"
python3 - "$WORK" "$mruns" "$SRCDIR" <<'PY' || fail "crash safety with mail: an article was lost or mailed twice"
import collections, email, email.policy, io, json, os, subprocess, sys, zipfile
work, runs, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
mails = sorted(f for f in os.listdir(work + "/mailbox") if f.endswith(".eml"))
seen = collections.defaultdict(list)       # title -> [(run, rc)]
counted = 0
for line in open(work + "/mail.runs"):
    run, rc, before, after = line.split()
    for name in mails[int(before):int(after)]:
        counted += 1
        msg = email.message_from_bytes(open(work + "/mailbox/" + name, "rb").read(),
                                       policy=email.policy.default)
        for part in msg.iter_attachments():
            path = "%s/%s.epub" % (work, name)
            open(path, "wb").write(part.get_content())
            out = subprocess.run([sys.executable, src + "/tests/integration/epub_inspect.py", path,
                                  "--box", "1236x1648", "--json"], capture_output=True, text=True)
            if out.returncode:
                sys.exit("%s: the mailed book is invalid: %s" % (name, out.stderr))
            for s in json.loads(out.stdout)["sections"]:
                for t in s["articles"]:
                    seen[t].append((run, rc))
bad = []
daily = {"Daily %d.%d" % (r, k) for r in range(1, runs + 1) for k in range(1, 4)}
lost = sorted(daily - set(seen))
if lost:
    bad.append("never mailed: %s" % lost)
if len(set(seen) - daily) != 10:
    bad.append("%d demo articles mailed, expected 10" % len(set(seen) - daily))
for t, where in seen.items():
    # At least once: every mailing but the last must come from a run that was killed (after
    # the server took its mail, before its commit); after a finished run, never again.
    early_finished = [w for w in where[:-1] if w[1] == "0"]
    if early_finished:
        bad.append("%r mailed by %s, again after run %s finished" % (t, where, early_finished[0][0]))
print("crash test with mail: %d mails, %d distinct articles" % (counted, len(seen)))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
pass "kill -9 at $mruns random moments with mail: none lost, none mailed again once a finished run mailed it"
