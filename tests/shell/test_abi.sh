#!/bin/sh
# scripts/abi-check.sh, which `make abi-check` runs: on small libraries built
# here from a baseline and changed copies, compatible changes (a new function,
# members appended beyond the old size of a struct that begins with
# struct_size) pass and every incompatible one fails; then the real library
# passes against abi/, and fails once a function is taken out of it.
set -eu
: "${CC:=cc}" "${MAKE:=make}"
if ! command -v abidw >/dev/null 2>&1 || ! command -v abidiff >/dev/null 2>&1; then
    echo "no abidw/abidiff: install abigail-tools (sh scripts/setup.sh --ci) to check the ABI"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# toy NAME [KEY=VALUE...]: builds $tmp/NAME/libtoy.so (with -g) from
# $tmp/NAME/include/toy.h. The keys replace parts of the baseline:
#   config   members of grugan_toy_config after struct_size
#   error    members of grugan_toy_error
#   run      the type of grugan_toy_run's second parameter ("" drops it)
#   extra    one more function, "int grugan_toy_extra(int x)"
#   soname   the SONAME
toy() {
    name=$1
    shift
    config="int a; int b;" error="int code; char message[8];" run=int extra= soname=libtoy.so.0
    for kv in "$@"; do
        case "$kv" in
            config=*) config=${kv#config=} ;;
            error=*) error=${kv#error=} ;;
            run=*) run=${kv#run=} ;;
            extra=*) extra=${kv#extra=} ;;
            soname=*) soname=${kv#soname=} ;;
        esac
    done
    d="$tmp/$name"
    mkdir -p "$d/include"
    {
        echo '#include <stddef.h>'
        echo "typedef struct grugan_toy_config { size_t struct_size; $config } grugan_toy_config;"
        echo "typedef struct grugan_toy_error { $error } grugan_toy_error;"
        echo 'int grugan_toy_create(const grugan_toy_config *config, grugan_toy_error *error);'
        [ -z "$run" ] || echo "int grugan_toy_run($run x);"
        [ -z "$extra" ] || echo 'int grugan_toy_extra(int x);'
    } >"$d/include/toy.h"
    {
        echo '#include "toy.h"'
        echo 'int grugan_toy_create(const grugan_toy_config *config, grugan_toy_error *error)'
        echo '{ (void)error; return (int)config->struct_size; }'
        [ -z "$run" ] || echo "int grugan_toy_run($run x) { return (int)x; }"
        [ -z "$extra" ] || echo 'int grugan_toy_extra(int x) { return x; }'
    } >"$d/toy.c"
    (cd "$d" && $CC -g -O2 -shared -fPIC -Wl,-soname,"$soname" -Iinclude -o libtoy.so toy.c)
}

# check NAME: runs abi-check.sh on toy NAME against the baseline; $rc, $tmp/out
check() {
    rc=0
    sh scripts/abi-check.sh "$tmp/base.abi" "$tmp/$1/libtoy.so" "$tmp/$1/include" \
        >"$tmp/out" 2>&1 || rc=$?
}
passes() {
    check "$1"
    [ "$rc" -eq 0 ] || { cat "$tmp/out"; fail "$1: exit $rc, expected compatible"; }
}
fails() {
    check "$1"
    [ "$rc" -eq 1 ] || { cat "$tmp/out"; fail "$1: exit $rc, expected incompatible"; }
    grep -q 'is NOT compatible' "$tmp/out" || fail "$1: no verdict"
}

toy base
sh scripts/abi-dump.sh "$tmp/base/libtoy.so" "$tmp/base/include" >"$tmp/base.abi"
grep -q "soname='libtoy.so.0'" "$tmp/base.abi" || fail "no SONAME in the dump"
# No absolute path (the sources are compiled by relative paths, as make does).
for f in "$tmp/base.abi" abi/*.abi; do
    if grep -q "='/" "$f"; then fail "$f holds an absolute path"; fi
done

passes base
# Compatible: a new function; members appended beyond the old size (16 bytes).
toy added extra=yes
passes added
grep -q "grugan_toy_extra" "$tmp/out" || fail "added: the new function is not listed"
toy grown "config=int a; int b; double c; int d;"
passes grown
grep -q 'grown struct grugan_toy_config: 128 -> 256 bits, appended: c, d' "$tmp/out" ||
    fail "grown: not listed"

# Incompatible.
toy removed run=
fails removed
grep -q "Removed function" "$tmp/out" || fail "removed: no reason"
toy param run=double
fails param
toy padding "config=int a; int b; int in_padding;"
toy padding_base "config=int a;"
sh scripts/abi-dump.sh "$tmp/padding_base/libtoy.so" "$tmp/padding_base/include" >"$tmp/base.abi"
rc=0
sh scripts/abi-check.sh "$tmp/base.abi" "$tmp/padding/libtoy.so" "$tmp/padding/include" \
    >"$tmp/out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$tmp/out"; fail "padding: exit $rc"; }
grep -q "appended member 'b' at bit 96 lies inside the old size" "$tmp/out" ||
    { cat "$tmp/out"; fail "padding: no reason"; }
sh scripts/abi-dump.sh "$tmp/base/libtoy.so" "$tmp/base/include" >"$tmp/base.abi"
toy retyped "config=long a; int b; double c;"
fails retyped
toy inserted "config=int m; int a; int b; double c;"
fails inserted
grep -q 'members may only be appended' "$tmp/out" || fail "inserted: no reason"
toy error_grown "error=int code; char message[8]; int more;"
fails error_grown
toy soname soname=libtoy.so.1
fails soname

# A missing baseline or tool input is an error (2), not a verdict.
rc=0
sh scripts/abi-check.sh "$tmp/none.abi" "$tmp/base/libtoy.so" "$tmp/base/include" \
    >"$tmp/out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "missing baseline: exit $rc"
$CC -O2 -shared -fPIC -I"$tmp/base/include" -o "$tmp/nodebug.so" "$tmp/base/toy.c"
rc=0
sh scripts/abi-check.sh "$tmp/base.abi" "$tmp/nodebug.so" "$tmp/base/include" \
    >"$tmp/out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "library without -g: exit $rc"
grep -q 'no debug information' "$tmp/out" || fail "library without -g: no reason"

# The real library against the committed baseline, then without one function.
major=$(sed -n 's/^#define GRUGAN_VERSION_MAJOR \([0-9]*\)$/\1/p' include/grugan.h)
so=$(readlink -f lib/libgrugan.so)
if ! LC_ALL=C readelf -S "$so" | grep -q '\.debug_info'; then
    echo "lib/ was built without -g: the real library is not checked"
    exit 77
fi
$MAKE -s abi-check >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "make abi-check"; }
printf '{ global: grugan_*; local: grugan_gru_free; *; };\n' >"$tmp/map"
$CC -shared -Wl,-soname,"libgrugan.so.$major" -Wl,--version-script="$tmp/map" \
    -o "$tmp/libgrugan.so" build/obj/src/*/*.o
rc=0
sh scripts/abi-check.sh "abi/libgrugan.so.$major.abi" "$tmp/libgrugan.so" include \
    >"$tmp/out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$tmp/out"; fail "real library without grugan_gru_free: exit $rc"; }
grep -q "\[D\] 'function void grugan_gru_free(grugan_gru\*)'" "$tmp/out" ||
    { cat "$tmp/out"; fail "the removed function is not named"; }
echo ok
