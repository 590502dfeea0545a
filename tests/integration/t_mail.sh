#!/usr/bin/env bash
# Send-to-Kindle through a real SMTP server (aiosmtpd on 127.0.0.1, STARTTLS with a certificate
# made here, AUTH): the mail carries the book byte for byte; every failure (bad password,
# too big, refused connection, no STARTTLS) leaves every article undelivered with the right exit
# code; a 421 is retried; the password never appears in any output.
source "$(dirname "$0")/lib.sh"
export TZ=UTC SOURCE_DATE_EPOCH=1795680000
PASSWORD='s3cr3t-Pa55word-xyzzy'

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null || fail "openssl"
printf '%s\n' "$PASSWORD" >"$WORK/password"
chmod 600 "$WORK/password"

start_smtp() {  # start_smtp NAME ARGS...: sets SMTP_PORT; saves mail in $WORK/NAME
  local name=$1; shift
  mkdir -p "$WORK/$name"
  python3 "$SRCDIR/tests/integration/smtp_server.py" --port-file "$WORK/$name.port" \
    --save-dir "$WORK/$name" "$@" >"$WORK/$name.log" 2>&1 &
  SERVER_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/$name.port" ] && break; sleep 0.05; done
  [ -s "$WORK/$name.port" ] || { cat "$WORK/$name.log" >&2; fail "SMTP server $name did not start"; }
  SMTP_PORT=$(cat "$WORK/$name.port")
}

write_config() {  # write_config FILE PORT
  cat >"$1" <<INI
[digest]
title = Mail Digest
language = zh
max_age = 0

[feed "新智元"]
url = $SRCDIR/examples/demo/wechat.xml

[feed "Small Machines"]
url = $SRCDIR/examples/demo/blog.atom

[feed "The Valley Courier"]
url = $SRCDIR/examples/demo/news.rss

[mail]
enabled = yes
to = reader@kindle.example
from = me@example.org
smtp = smtp://127.0.0.1:$2
user = me
password_file = $WORK/password
ca_file = $WORK/cert.pem
INI
}

run_case() {  # run_case NAME EXPECTED_EXIT [inkdigest args...]
  local name=$1 want=$2; shift 2
  set +e
  "$INKDIGEST" run -v -c "$WORK/$name.ini" --state "$WORK/$name.db" -o "$WORK/$name.epub" \
    --report "$WORK/$name.json" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  local got=$?
  set -e
  [ "$got" = "$want" ] || { tail -20 "$WORK/$name.err" >&2; fail "$name: exit $got, expected $want"; }
  if grep -l -- "$PASSWORD" "$WORK/$name.out" "$WORK/$name.err" "$WORK/$name.json" "$WORK/$name.db"* 2>/dev/null; then
    fail "$name: the password appears in the output above"
  fi
  [ ! -e "$WORK/$name.json" ] || check_report "$WORK/$name.json"
}

# Nothing may be marked delivered after a failure: a run without mail delivers all 10 again.
assert_undelivered() {
  local name=$1
  "$INKDIGEST" run -q -c "$WORK/$name.ini" --state "$WORK/$name.db" -o "$WORK/$name-again.epub" --no-mail \
    || fail "$name: the follow-up run failed"
  python3 "$SRCDIR/tests/integration/epub_inspect.py" "$WORK/$name-again.epub" --box 1236x1648 \
    --expect-articles 10 || fail "$name: articles were marked delivered although the mail failed"
}

# 1. Success: STARTTLS + AUTH; the attachment is the book, byte for byte.
start_smtp ok --starttls "$WORK/cert.pem" "$WORK/key.pem" --auth "me:$PASSWORD"
write_config "$WORK/ok.ini" "$SMTP_PORT"
run_case ok 0
check_epub "$WORK/ok.epub"
[ -f "$WORK/ok/001.eml" ] || fail "no mail received"
python3 - "$WORK/ok/001.eml" "$WORK/ok.epub" <<'PY' || fail "the received mail is wrong"
import email, email.policy, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
assert msg.get_content_type() == "multipart/mixed", msg.get_content_type()
for h in ("From", "To", "Date", "Message-ID", "Subject"):
    assert msg[h] is not None, "missing header " + h
assert msg["To"] == "reader@kindle.example", msg["To"]
assert msg["Subject"] == "Mail Digest 2026-11-26", msg["Subject"]
parts = list(msg.iter_parts())
assert parts[0].get_content_type() == "text/plain", parts[0].get_content_type()
body = parts[0].get_content()
assert "10 new articles from 3 feeds" in body, body
att = parts[-1]
assert att.get_content_type() == "application/epub+zip", att.get_content_type()
assert att["Content-Transfer-Encoding"].lower() == "base64"
assert att.get_filename() == "ok.epub", att.get_filename()
assert att.get_payload(decode=True) == open(sys.argv[2], "rb").read(), "attachment differs from the book"
PY
grep -qi 'AUTH' "$WORK/ok.err" || fail "-v does not show the SMTP dialogue"
"$INKDIGEST" run -q -c "$WORK/ok.ini" --state "$WORK/ok.db" -o "$WORK/ok2.epub" || fail "second run"
[ ! -e "$WORK/ok2.epub" ] || fail "articles were not marked delivered after the server accepted the mail"
pass "mail delivered byte for byte over STARTTLS with AUTH; articles then delivered"

# 2. 421 at the first attempt, then accepted: retried, exit 0.
start_smtp busy --starttls "$WORK/cert.pem" "$WORK/key.pem" --auth "me:$PASSWORD" --fail-first-n 1
write_config "$WORK/busy.ini" "$SMTP_PORT"
run_case busy 0
[ -f "$WORK/busy/001.eml" ] || fail "busy: no mail after the retry"
pass "421 retried, then delivered"

# 3. Wrong password: 535, permanent, exit 69, quoted reply, nothing delivered.
start_smtp badpw --starttls "$WORK/cert.pem" "$WORK/key.pem" --auth "me:other" 
write_config "$WORK/badpw.ini" "$SMTP_PORT"
run_case badpw 69
grep -q '535' "$WORK/badpw.err" || fail "badpw: the server's 535 reply is not quoted"
[ -e "$WORK/badpw.epub" ] || fail "badpw: the book was not kept on disk"
assert_undelivered badpw
pass "535 bad password: exit 69, book kept, nothing delivered"

# 4. Too big for the server: 552, exit 69.
start_smtp big --starttls "$WORK/cert.pem" "$WORK/key.pem" --auth "me:$PASSWORD" --max-size 20000
write_config "$WORK/big.ini" "$SMTP_PORT"
run_case big 69
grep -q '552' "$WORK/big.err" || fail "big: the server's 552 reply is not quoted"
assert_undelivered big
pass "552 too big: exit 69, nothing delivered"

# 5. Nothing listens: temporary, exit 75, nothing delivered.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
write_config "$WORK/refused.ini" "$port"
run_case refused 75
assert_undelivered refused
pass "connection refused: exit 75, nothing delivered"

# 6. The server does not offer STARTTLS while TLS is required: refused, nothing sent.
start_smtp notls --no-starttls --auth "me:$PASSWORD"
write_config "$WORK/notls.ini" "$SMTP_PORT"
set +e
"$INKDIGEST" run -c "$WORK/notls.ini" --state "$WORK/notls.db" -o "$WORK/notls.epub" >/dev/null 2>"$WORK/notls.err"
code=$?
set -e
[ "$code" != 0 ] || fail "notls: a mail went out without TLS"
[ ! -f "$WORK/notls/001.eml" ] || fail "notls: the server received the mail in the clear"
assert_undelivered notls
pass "no STARTTLS offered: refused (exit $code), nothing delivered"
