#!/bin/sh
# Checks an EPUB the way every inkdigest test must: epubcheck with no fatal, no error and no
# warning, then the Kindle rules (kindle_check.py). Exit 0 only when both are clean.
# Usage: check_epub.sh BOOK.epub
set -u
if [ $# -ne 1 ]; then
	echo "usage: $0 BOOK.epub" >&2
	exit 2
fi
book=$1
here=$(dirname "$0")
jar=${EPUBCHECK_JAR:-/usr/share/java/epubcheck.jar}
status=0

out=$(java -jar "$jar" "$book" 2>&1)
rc=$?
if [ $rc -ne 0 ] || printf '%s\n' "$out" | grep -qE '^(FATAL|ERROR|WARNING)' ||
   ! printf '%s\n' "$out" | grep -qE 'Messages: 0 fatals? / 0 errors? / 0 warnings?'; then
	printf '%s\n' "$out" | grep -E '^(FATAL|ERROR|WARNING)|Messages:' >&2
	echo "$book: epubcheck failed (exit $rc)" >&2
	status=1
fi
if ! python3 "$here/kindle_check.py" "$book" >&2; then
	echo "$book: Kindle rules failed" >&2
	status=1
fi
exit $status
