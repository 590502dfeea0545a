#!/usr/bin/env bash
# `cmake --install` puts the binary, templates, font list and man pages under a prefix, and the
# installed binary finds its templates relative to that prefix (a marker added to the installed
# stylesheet shows up in the book).
source "$(dirname "$0")/lib.sh"
: "${BUILDDIR:?set by ctest}"
prefix="$WORK/prefix"
cmake --install "$BUILDDIR" --prefix "$prefix" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "cmake --install"; }
for f in bin/inkdigest share/inkdigest/templates/style.css share/man/man1/inkdigest.1 \
         share/man/man5/inkdigest.ini.5; do
  [ -s "$prefix/$f" ] || fail "not installed: $f"
done
ls "$prefix"/share/inkdigest/fonts/* >/dev/null 2>&1 || fail "font preferences not installed"
MANWIDTH=80 man -l "$prefix/share/man/man1/inkdigest.1" 2>/dev/null | grep -q "inkdigest run" \
  || fail "the installed man page does not render"
pass "binary, templates, fonts list and man pages installed"

printf '\n/* installed-templates-marker */\n' >>"$prefix/share/inkdigest/templates/style.css"
cd "$WORK"
export SOURCE_DATE_EPOCH=1795680000
"$prefix/bin/inkdigest" run -q -c "$SRCDIR/examples/demo.ini" --state "$WORK/s.db" -o "$WORK/b.epub" \
  || fail "the installed binary failed"
unzip -p "$WORK/b.epub" '*.css' | grep -q installed-templates-marker \
  || fail "the installed binary did not use the installed templates"
pass "the installed binary uses the templates under its prefix"
