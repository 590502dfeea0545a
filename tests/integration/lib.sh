# Shared helpers for integration tests (sourced). Each test runs the real binary in a scratch
# folder; nothing here touches the internet.
set -euo pipefail

: "${INKDIGEST:?set by ctest: the binary under test}"
: "${SRCDIR:?set by ctest: the source tree}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/inkdigest-it.XXXXXX")
SERVER_PIDS=()
cleanup() {
  for p in "${SERVER_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# Every book a test writes goes through epubcheck (no error, no warning) and the Kindle rules.
check_epub() {
  local book=$1
  local out
  out=$(java -jar /usr/share/java/epubcheck.jar "$book" 2>&1) || { echo "$out" >&2; fail "epubcheck rejected $book"; }
  if echo "$out" | grep -Eq '^(ERROR|WARNING|FATAL)'; then echo "$out" >&2; fail "epubcheck: errors or warnings in $book"; fi
  echo "$out" | grep -q 'No errors or warnings detected' || { echo "$out" >&2; fail "epubcheck did not confirm $book"; }
  if [ -f "$SRCDIR/tests/tools/kindle_check.py" ]; then
    python3 "$SRCDIR/tests/tools/kindle_check.py" "$book" || fail "Kindle rules violated in $book"
  else
    fail "tests/tools/kindle_check.py is missing"
  fi
}

# A run report must match its documented schema (docs/report.schema.json, draft 7).
check_report() {
  python3 - "$1" "$SRCDIR/docs/report.schema.json" <<'PY' || fail "report $1 does not match docs/report.schema.json"
import json, sys
import jsonschema
report, schema = (json.load(open(p)) for p in sys.argv[1:3])
jsonschema.Draft7Validator.check_schema(schema)
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(report), key=lambda e: list(e.path))
for e in errors[:10]:
    print("%s: %s" % ("/".join(map(str, e.path)), e.message), file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

# Starts the fixture HTTP server on an ephemeral port serving $1; sets FIXTURE_PORT.
start_fixture_server() {
  local root=$1 portfile="$WORK/fixture.port"
  rm -f "$portfile"
  python3 "$SRCDIR/tests/integration/fixture_server.py" --root "$root" --port-file "$portfile" \
    >"$WORK/fixture.log" 2>&1 &
  SERVER_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.05; done
  [ -s "$portfile" ] || { cat "$WORK/fixture.log" >&2; fail "fixture server did not start"; }
  FIXTURE_PORT=$(cat "$portfile")
}
