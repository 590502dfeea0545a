#!/usr/bin/env bash
# SECURITY.md, claim by claim, from outside: the real binary against the fixture server on
# 127.0.0.1. Each block below is named after the claim it checks ("S1" ... in SECURITY.md).
source "$(dirname "$0")/lib.sh"
export TZ=UTC
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR"
PASSWD_MARK='root:x:0:0'

# Runs the binary with a hard timeout (a hang fails instead of blocking); exit code in $RC,
# wall seconds in $ELAPSED; stdout/stderr in $WORK/NAME.out/.err.
timed_run() {
  local name=$1; shift
  local t0
  t0=$(date +%s)
  RC=0
  timeout -k 5 120 "$INKDIGEST" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
  ELAPSED=$(( $(date +%s) - t0 ))
  [ "$RC" != 124 ] && [ "$RC" != 137 ] || { cat "$WORK/$name.err" >&2; fail "$name: hung"; }
}

# GET a control route of the fixture server (/hits, /reset) without needing curl.
http_get() {
  python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode().strip())' "$1"
}

closed_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Unzips a book into $WORK/NAME.x (fresh).
unpack() {
  rm -rf "$WORK/$2.x" && mkdir "$WORK/$2.x" && unzip -q -o "$1" -d "$WORK/$2.x"
}

# Fails when any of the given files or folders contains the string $1.
assert_absent() {
  local needle=$1; shift
  local hits
  hits=$(grep -rlaF -- "$needle" "$@" 2>/dev/null || true)
  [ -z "$hits" ] || fail "\"$needle\" found in: $hits"
}

# A fixture server of our own, with extra arguments (lib.sh's has none). Sets $3 to its port.
start_server_with() {
  local root=$1 portfile=$2; shift 2
  rm -f "$portfile"
  python3 "$SRCDIR/tests/integration/fixture_server.py" --root "$root" --port-file "$portfile" \
    "$@" >"$portfile.log" 2>&1 &
  SERVER_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.05; done
  [ -s "$portfile" ] || { cat "$portfile.log" >&2; fail "fixture server ($*) did not start"; }
}

root="$WORK/root"
mkdir -p "$root"
cp -r "$SRCDIR/examples/demo/." "$root/"
cp -r "$SRCDIR/tests/fixtures/faults" "$root/faults"
start_fixture_server "$root"
base="http://127.0.0.1:$FIXTURE_PORT"
for f in xxe xxe-dtd; do
  sed "s#@BASE@#$base#g" "$root/faults/$f.rss.in" >"$root/faults/$f.rss"
done
sed -e "s#@BASE@#$base#g" -e "s#@LOCALHOST@#http://localhost:$FIXTURE_PORT#g" \
  "$root/faults/private.rss.in" >"$WORK/private.rss"

digest_head() {
  cat <<INI
[digest]
title = Security
language = en
max_age = 0
font = none
timeout = 4
connect_timeout = 2
per_host = 8
INI
}

# ---- S1: remote content reaches http/https only; redirects cannot change that ----------------
cfg="$WORK/s1.ini"
{ digest_head; cat <<INI

[feed "Redirect to file"]
url = $base/redirect-file

[feed "Local grabs"]
url = $base/faults/evil.rss
fulltext = yes
INI
} >"$cfg"
timed_run s1 run -c "$cfg" --state "$WORK/s1.db" -o "$WORK/s1.epub" --report "$WORK/s1.json"
[ "$RC" = 0 ] || { cat "$WORK/s1.err" >&2; fail "S1: exited $RC"; }
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$WORK/s1.epub" --box 1236x1648 \
  --expect-articles 2 --expect-images 0 --expect-text "The local-file canary article" \
  --expect-text "The enclosure canary article" || fail "S1: book"
check_epub "$WORK/s1.epub"
unpack "$WORK/s1.epub" s1
assert_absent "$PASSWD_MARK" "$WORK/s1.x" "$WORK/s1.json" "$WORK/s1.err" "$WORK/s1.out" "$WORK/s1.db"
python3 - "$WORK/s1.json" <<'PY' || fail "S1: report"
import json, re, sys
r = json.load(open(sys.argv[1]))
feeds = {f["name"]: f for f in r["feeds"]}
e = feeds["Redirect to file"]["error"] or ""
assert re.search(r"redirect to file:.* refused", e), e
for im in r["images"]:
    u = (im["url"] or "").lower()
    if not u.startswith("http"):
        assert im["dropped"], im            # file:, gopher: ... never delivered
    assert im["dropped"] or im["bytes_in"] == 0 or not re.search(r"passwd", u), im
delivered = [im for im in r["images"] if not im["dropped"]]
assert not delivered, delivered
PY
# The pages must not link the book to local files either (a link is harmless to the reader's
# device, but the cleaner should not keep file: URLs).
! grep -rqiE '(src|href)="file:' "$WORK/s1.x" || fail "S1: a file: URL survived in the book"
pass "S1: redirect to file:// refused; file:, gopher: and local paths in a remote feed never read"

# ---- S2: block_private_addresses refuses images (and pages) on loopback/private addresses ----
for mode in yes no; do
  cfg="$WORK/s2-$mode.ini"
  { digest_head; cat <<INI
block_private_addresses = $mode

[feed "Local file"]
url = $WORK/private.rss

[feed "Config feed on loopback"]
url = $base/news.rss
INI
  } >"$cfg"
  timed_run "s2$mode" run -c "$cfg" --state "$WORK/s2-$mode.db" -o "$WORK/s2-$mode.epub" \
    --report "$WORK/s2-$mode.json"
  [ "$RC" = 0 ] || { cat "$WORK/s2$mode.err" >&2; fail "S2 ($mode): exited $RC"; }
done
python3 - "$WORK/s2-yes.json" "$WORK/s2-no.json" <<'PY' || fail "S2: report"
import json, sys
yes, no = (json.load(open(p)) for p in sys.argv[1:3])
fy = {f["name"]: f for f in yes["feeds"]}
# The feeds named in the config are trusted, even on loopback.
assert fy["Config feed on loopback"]["error"] is None, fy["Config feed on loopback"]
assert fy["Local file"]["articles_new"] == 1, fy["Local file"]
# (Trackers the cleaner leaves out are never fetched, so no address is judged for them.)
http = [im for im in yes["images"] if (im["url"] or "").startswith("http")
        and not (im["dropped"] or "").startswith("tracker:")]
assert len(http) >= 3, http
for im in http:
    assert im["dropped"] and "private address" in im["dropped"], im
# Without the option the same images arrive: the refusal above is the option's doing.
ok = [im for im in no["images"] if not im["dropped"]]
assert len(ok) >= 3, no["images"]
PY
pass "S2: with block_private_addresses, every image on 127.0.0.1/localhost (also via redirect) is refused"

# ---- S3: XML without network, external entities or DTD loading; amplification bounded ------
cfg="$WORK/s3.ini"
{ digest_head; cat <<INI

[feed "XXE"]
url = $base/faults/xxe.rss

[feed "External DTD"]
url = $base/faults/xxe-dtd.rss

[feed "Laughs"]
url = $base/faults/laughs.rss

[feed "Local XXE"]
url = $root/faults/xxe.rss
INI
} >"$cfg"
http_get "$base/reset" >/dev/null
timed_run s3 run -c "$cfg" --state "$WORK/s3.db" -o "$WORK/s3.epub" --report "$WORK/s3.json"
[ "$RC" = 0 ] || { cat "$WORK/s3.err" >&2; fail "S3: exited $RC"; }
[ "$ELAPSED" -le 20 ] || fail "S3: ${ELAPSED}s for four small feeds: expansion not bounded"
hits=$(http_get "$base/hits?path=/faults/evil.dtd")
[ "$hits" = 0 ] || fail "S3: the parser fetched evil.dtd $hits times"
[ "$(stat -c %s "$WORK/s3.epub")" -lt 2000000 ] || fail "S3: the book grew (entities expanded?)"
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$WORK/s3.epub" --box 1236x1648 \
  --expect-text "The XXE canary article" --expect-text "The DTD canary article" \
  || fail "S3: the entity feeds' text is missing"
check_epub "$WORK/s3.epub"
unpack "$WORK/s3.epub" s3
assert_absent "$PASSWD_MARK" "$WORK/s3.x" "$WORK/s3.json" "$WORK/s3.err" "$WORK/s3.db"
assert_absent "lollollollollollollollollollollollollollollollollollollollol" "$WORK/s3.x" "$WORK/s3.json"
pass "S3: no external entity, no DTD fetched (0 hits), billion laughs not expanded (${ELAPSED}s)"

# ---- S4: TLS verification always on; a CA file can be added ----------------------------------
tlsport_file="$WORK/tls.port"
start_server_with "$root" "$tlsport_file" --tls "$SRCDIR/tests/fixtures/fetch/tls-cert.pem" \
  "$SRCDIR/tests/fixtures/fetch/tls-key.pem"
tls="https://127.0.0.1:$(cat "$tlsport_file")"
cfg="$WORK/s4.ini"
{ digest_head; printf '\n[feed "Self-signed"]\nurl = %s/news.rss\n' "$tls"; } >"$cfg"
timed_run s4 run -c "$cfg" --state "$WORK/s4.db" -o "$WORK/s4.epub" --report "$WORK/s4.json"
[ "$RC" = 69 ] || { cat "$WORK/s4.err" >&2; fail "S4: a self-signed server gave exit $RC, not 69"; }
[ ! -e "$WORK/s4.epub" ] || fail "S4: a book from an unverified server"
grep -qiE 'feed "Self-signed": fetch: .*(certificate|SSL|verify)' "$WORK/s4.err" ||
  { cat "$WORK/s4.err" >&2; fail "S4: the failure does not name the certificate"; }
# The same server, trusted through [digest] ca_file: the refusal above was verification, not TLS
# itself.
cfg="$WORK/s4ca.ini"
{ digest_head; printf 'ca_file = %s\n' "$SRCDIR/tests/fixtures/fetch/tls-cert.pem"
  printf '\n[feed "Self-signed"]\nurl = %s/news.rss\n' "$tls"; } >"$cfg"
timed_run s4ca run -c "$cfg" --state "$WORK/s4ca.db" -o "$WORK/s4ca.epub"
[ "$RC" = 0 ] && [ -s "$WORK/s4ca.epub" ] || { cat "$WORK/s4ca.err" >&2; fail "S4: with ca_file the feed still failed ($RC)"; }
pass "S4: a self-signed certificate is refused without ca_file and accepted with it"

# ---- S6: the book holds no executable content and no remote reference ------------------------
cfg="$WORK/s6.ini"
{ digest_head; printf '\n[feed "Active"]\nurl = %s/faults/active.rss\n' "$base"; } >"$cfg"
timed_run s6 run -c "$cfg" --state "$WORK/s6.db" -o "$WORK/s6.epub" --report "$WORK/s6.json"
[ "$RC" = 0 ] || { cat "$WORK/s6.err" >&2; fail "S6: exited $RC"; }
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$WORK/s6.epub" --box 1236x1648 \
  --expect-articles 1 --expect-images 1 --expect-text "The active content canary article" \
  --expect-text "The end of the active content canary" || fail "S6: book"
check_epub "$WORK/s6.epub"
python3 - "$WORK/s6.epub" <<'PY' || fail "S6: executable or remote content in the book"
# The fixture's hostile host: a 64-byte label, so looking it up fails before any query leaves.
EVIL = "evil-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.invalid"
import posixpath, re, sys, zipfile
import xml.etree.ElementTree as ET
z = zipfile.ZipFile(sys.argv[1])
names = set(z.namelist())
bad = []
def inside(base, ref, what):
    ref = ref.strip()
    if not ref or ref.startswith("#"):
        return
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", ref):
        bad.append("%s: %s %r is not inside the book" % (base, what, ref))
        return
    target = posixpath.normpath(posixpath.join(posixpath.dirname(base), ref.split("#")[0]))
    if target not in names:
        bad.append("%s: %s %r points at a missing file" % (base, what, ref))
for n in sorted(names):
    if not n.endswith((".xhtml", ".html", ".css", ".opf", ".ncx", ".svg")):
        continue
    raw = z.read(n).decode("utf-8")
    low = raw.lower()
    for needle in ("<script", "javascript:", "<iframe", "<object", "<embed", "<form",
                   "<base", "http-equiv", "@import", "<audio", "<video"):
        if needle in low:
            bad.append("%s: contains %s" % (n, needle))
    if re.search(r"\son[a-z]+\s*=", low):
        bad.append("%s: an on* event handler attribute" % n)
    # Hyperlinks to remote pages are fine (the reader follows them or not); resources are not:
    # these URLs only ever name things a renderer would load by itself.
    for res in ("x.css", "a.css", "b.png", "c.png", "s.png", "poster.jpg", "v.webm", "x.swf",
                "y.swf", "/post"):
        if EVIL + "/" + res.lstrip("/") in low:
            bad.append("%s: the remote resource %s survived" % (n, res))
    for m in re.finditer(r"url\(\s*['\"]?([^'\")]*)", raw):
        inside(n, m.group(1), "css url()")
    if n.endswith(".css"):
        continue
    root = ET.fromstring(raw.encode("utf-8"))
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        for attr, val in el.attrib.items():
            a = attr.split("}")[-1]
            if a in ("src", "poster", "data", "srcset") or (a == "href" and tag in ("link", "image", "use")):
                inside(n, val, "<%s %s>" % (tag, a))
            if a == "href" and tag == "a" and val.strip().lower().startswith(("javascript:", "file:", "data:")):
                bad.append("%s: <a href=%r>" % (n, val))
    if n.endswith(".opf"):
        for el in root.iter():
            if el.tag.endswith("}item"):
                inside(n, el.get("href"), "manifest item")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
pass "S6: no script, handler, javascript:, frame, form or remote reference; every resource inside"

# ---- S5: secrets never appear in output, report, state or book -------------------------------
dead=$(closed_port)
cfg="$WORK/s5.ini"
{ digest_head; cat <<INI

[feed "With userinfo"]
url = http://inkuser:S3cretUserinfoPw@127.0.0.1:$FIXTURE_PORT/wechat.xml
header = X-Api-Token: S3cretHeaderTok

[feed "Failing with userinfo"]
url = http://inkuser:S3cretFailingPw@127.0.0.1:$FIXTURE_PORT/status/404
header = Cookie: session=S3cretCookieVal

[feed "Redirected with userinfo"]
url = http://inkuser:S3cretRedirectPw@127.0.0.1:$FIXTURE_PORT/redirect-loop

[feed "Via a proxy with credentials"]
url = http://127.0.0.1:$FIXTURE_PORT/blog.atom
proxy = http://proxyuser:S3cretProxyPw@127.0.0.1:$FIXTURE_PORT

[feed "Via a dead proxy"]
url = http://127.0.0.1:$FIXTURE_PORT/news.rss
proxy = http://proxyuser:S3cretDeadProxyPw@127.0.0.1:$dead
INI
} >"$cfg"
secrets=(S3cretUserinfoPw S3cretHeaderTok S3cretFailingPw S3cretCookieVal S3cretRedirectPw
  S3cretProxyPw S3cretDeadProxyPw)
# ... and as they travel in Authorization / Proxy-Authorization headers (a debug dump of the
# request would show them in base64).
for cred in inkuser:S3cretUserinfoPw inkuser:S3cretFailingPw proxyuser:S3cretProxyPw; do
  secrets+=("$(printf %s "$cred" | base64)")
done
for v in "" -v; do
  name="s5$v"
  timed_run "$name" run $v -c "$cfg" --state "$WORK/$name.db" -o "$WORK/$name.epub" \
    --report "$WORK/$name.json"
  [ "$RC" = 0 ] || { cat "$WORK/$name.err" >&2; fail "S5 ($v): exited $RC"; }
  timeout 30 "$INKDIGEST" log 5 --state "$WORK/$name.db" >"$WORK/$name.log" 2>&1 || true
  unpack "$WORK/$name.epub" "$name"
  for s in "${secrets[@]}"; do
    assert_absent "$s" "$WORK/$name.out" "$WORK/$name.err" "$WORK/$name.json" "$WORK/$name.log" \
      "$WORK/$name.x" "$WORK/$name.db" "$WORK"/"$name".db-* "$TMPDIR"
  done
done
python3 - "$WORK/s5.json" <<'PY' || fail "S5: the failing feeds are not reported"
import json, sys
feeds = {f["name"]: f for f in json.load(open(sys.argv[1]))["feeds"]}
assert feeds["With userinfo"]["error"] is None, feeds["With userinfo"]
assert feeds["Via a proxy with credentials"]["error"] is None, feeds["Via a proxy with credentials"]
for n in ("Failing with userinfo", "Redirected with userinfo", "Via a dead proxy"):
    assert feeds[n]["error"], feeds[n]
    assert "inkuser:" not in (feeds[n]["url"] or ""), feeds[n]["url"]
PY
grep -q 'With userinfo' "$WORK/s5-v.err" || fail "S5: -v printed nothing about the feeds (nothing was checked)"
pass "S5: userinfo, header values and proxy credentials absent from stdout, stderr (also -v), report, log, state and book"
