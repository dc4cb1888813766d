#!/bin/sh
# The command-line tools' documentation cannot drift from the tools: the
# options each of train_sines, train_csv, sample and evaluate accepts (every
# `strcmp(a, "--...")` of its parser) are exactly those its --help, its
# manual page (docs/man/TOOL.1) and its section of docs/cli.md list, and the
# program knows each (it answers anything but "unknown option"); each
# documents its exit status and examples; the manual pages format without
# warnings when groff is installed.
set -eu
: "${MAKE:=make}"
$MAKE -s examples >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=build/examples

fail() { echo "FAIL: $*"; exit 1; }

for tool in train_sines train_csv sample evaluate; do
    page=docs/man/$tool.1
    [ -f "$page" ] || fail "no manual page $page"
    head -n 1 "$page" | grep -q "^\.TH $(echo "$tool" | tr a-z A-Z) 1 " || fail "$page: no .TH line"
    grep -q '^\.SH EXIT STATUS$' "$page" || fail "$page has no EXIT STATUS section"
    grep -q '^\.SH EXAMPLES$' "$page" || fail "$page has no EXAMPLES section"
    "$bin/$tool" --help >"$tmp/help" || fail "$tool --help failed"
    grep -q '^exit status: 0 done' "$tmp/help" || fail "$tool --help gives no exit status"
    grep -q '^examples:$' "$tmp/help" || fail "$tool --help gives no examples"
    sed -e 's/\\-/-/g' "$page" >"$tmp/man"                          # roff's \- is -
    awk -v h="## $tool" '$0 == h { on = 1; next } /^## / { on = 0 } on' docs/cli.md >"$tmp/cli"
    [ -s "$tmp/cli" ] || fail "docs/cli.md has no section ## $tool"

    # what the parser accepts
    grep -o 'strcmp(a, "-[-a-z0-9]*")' "examples/$tool.c" | sed 's/.*"\(.*\)")/\1/' | sort -u \
        >"$tmp/accepted"
    [ "$(wc -l <"$tmp/accepted")" -ge 5 ] || fail "found too few options in examples/$tool.c"

    # what each document lists: the option lines of --help, the tags (the
    # line after .TP) of the manual page, the first column of the tables of
    # docs/cli.md; each must be exactly what the parser accepts
    grep -E '^  -' "$tmp/help" | sed 's/^  \(-[^ ,]*\(, -[^ ,]*\)*\).*/\1/' >"$tmp/help.tags"
    awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' "$tmp/man" | grep -E '^\.B[IR]? -' |
        sed 's/"[^"]*"//g; s/^\.B[IR]* //' >"$tmp/man.tags"
    grep -E '^\| `-' "$tmp/cli" | cut -d '|' -f 2 >"$tmp/cli.tags"
    for doc in help man cli; do
        tr -d '`,' <"$tmp/$doc.tags" | tr ' ' '\n' | grep -E '^--?[a-z]' | sort -u >"$tmp/$doc.listed"
        if ! diff "$tmp/accepted" "$tmp/$doc.listed" >"$tmp/diff"; then
            echo "< parsed by examples/$tool.c, > listed by its $doc documentation:"
            grep '^[<>]' "$tmp/diff"
            fail "$tool's $doc documentation and its parser disagree"
        fi
    done

    # and the program itself knows each one
    while read -r opt; do
        rc=0
        "$bin/$tool" "$opt" </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
        [ "$rc" -lt 128 ] || fail "$tool $opt crashed (exit $rc)"
        if grep -q "unknown option" "$tmp/err"; then fail "$tool does not know $opt"; fi
    done <"$tmp/accepted"
    n_acc=$(wc -l <"$tmp/accepted")

    if command -v groff >/dev/null 2>&1; then
        groff -man -ww -z "$page" 2>"$tmp/warnings" || fail "groff cannot format $page"
        if [ -s "$tmp/warnings" ]; then cat "$tmp/warnings"; fail "groff warns about $page"; fi
    fi
    echo "$tool: $n_acc options in --help, $page and docs/cli.md"
done
command -v groff >/dev/null 2>&1 || echo "groff not installed: manual pages not formatted"
echo ok
