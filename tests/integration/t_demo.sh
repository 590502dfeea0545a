#!/usr/bin/env bash
# The bundled demo, end to end: `inkdigest run -c examples/demo.ini` writes a valid book with
# every feed, article and image; a second run with the same state writes nothing; two runs with
# the same SOURCE_DATE_EPOCH give byte-identical books; MuPDF renders the Chinese text.
source "$(dirname "$0")/lib.sh"

export SOURCE_DATE_EPOCH=1795680000   # 2026-11-26 08:00 UTC
export TZ=UTC
cfg="$SRCDIR/examples/demo.ini"

# 1. A first run with a fresh state writes the book and prints its path.
book1="$WORK/one.epub"
out=$("$INKDIGEST" run -c "$cfg" --state "$WORK/s1.db" -o "$book1" --report "$WORK/r1.json" 2>"$WORK/err1") \
  || { cat "$WORK/err1" >&2; fail "first run exited $?"; }
[ "$out" = "$book1" ] || fail "run printed '$out', not the book's path"
[ -s "$book1" ] || fail "no book at $book1"
check_epub "$book1"
check_report "$WORK/r1.json"
python3 "$SRCDIR/tests/integration/epub_inspect.py" "$book1" --box 1236x1648 \
  --expect-sections 3 --expect-articles 10 --expect-images 9 \
  --expect-text "推理提速三倍" --expect-text "A newspaper for my Kindle" \
  --expect-text "新智元" --expect-text "The Valley Courier" --json >"$WORK/inspect1.json" \
  || fail "the demo book does not hold what the demo corpus has"
pass "first run: valid book with 3 sections, 10 articles, 9 grayscale images"

# Nothing of the pages' noise survived (scripts, the tracking pixel, lazy placeholders).
unzip -q -o "$book1" -d "$WORK/x1"
if grep -rlE '<script|data-src|visibility|pixel\.gif|style=' "$WORK/x1" --include='*.xhtml'; then
  fail "page noise reached the book"
fi
pass "no scripts, lazy attributes, inline styles or tracking pixel in the pages"

# 2. The same state again: nothing new, no book, exit 0.
book2="$WORK/two.epub"
"$INKDIGEST" run -c "$cfg" --state "$WORK/s1.db" -o "$book2" 2>"$WORK/err2" \
  || { cat "$WORK/err2" >&2; fail "second run exited non-zero"; }
[ ! -e "$book2" ] || fail "second run with nothing new wrote a book"
grep -q "nothing new" "$WORK/err2" || { cat "$WORK/err2" >&2; fail "second run did not say 'nothing new'"; }
pass "second run: nothing new, no book"

# 3. Reproducible: a fresh state and the same SOURCE_DATE_EPOCH give the same bytes.
book3="$WORK/three.epub"
"$INKDIGEST" run -q -c "$cfg" --state "$WORK/s3.db" -o "$book3" || fail "third run failed"
cmp "$book1" "$book3" || fail "two runs over the same inputs gave different books"
pass "byte-identical book from a second fresh run"

# 4. MuPDF opens it and gives back the Chinese article's text.
mutool draw -q -F txt -o "$WORK/book.txt" "$book1" 2>"$WORK/mutool.err" \
  || { cat "$WORK/mutool.err" >&2; fail "mutool could not render the book"; }
grep -q "投机解码" "$WORK/book.txt" || fail "mutool's text of the book lacks the Chinese article"
mutool draw -q -r 60 -o "$WORK/page%d.png" "$book1" 1-3 || fail "mutool could not draw pages"
[ -s "$WORK/page1.png" ] || fail "no cover page drawn"
pass "MuPDF renders the book with its Chinese text"
