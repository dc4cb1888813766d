#!/bin/sh
# A user's view: install to a temporary prefix, build an outside program with
# pkg-config (shared, then --static), run both, read the installed manual
# pages, uninstall, find nothing left.
set -eu
: "${CC:=cc}" "${PKG_CONFIG:=pkg-config}" "${MAKE:=make}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

$MAKE -s install PREFIX="$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
grep -q "^prefix=$prefix\$" "$prefix/lib/pkgconfig/gru_gan.pc"
part() { sed -n "s/^#define GRUGAN_VERSION_$1 \([0-9]*\)\$/\1/p" include/grugan.h; }
test "$($PKG_CONFIG --modversion gru_gan)" = "$(part MAJOR).$(part MINOR).$(part PATCH)"

cat >"$tmp/app.c" <<'C'
#include <grugan.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    grugan_context *ctx = NULL;
    if (grugan_version_number() != GRUGAN_VERSION_NUMBER) return 1;
    if (strcmp(grugan_version_string(), GRUGAN_VERSION_STRING) != 0) return 1;
    if (grugan_context_create(NULL, &ctx, NULL) != GRUGAN_OK) return 1;
    grugan_context_free(ctx);
    printf("libgrugan %s\n", grugan_version_string());
    return 0;
}
C
# shellcheck disable=SC2046
$CC -std=c99 -Wall -Werror -o "$tmp/app" "$tmp/app.c" $($PKG_CONFIG --cflags --libs gru_gan)
LD_LIBRARY_PATH="$prefix/lib" "$tmp/app" | grep -q "^libgrugan [0-9]*\.[0-9]*\.[0-9]*$"
# The shared build must really load the installed library.
LD_LIBRARY_PATH="$prefix/lib" ldd "$tmp/app" | grep -q "$prefix/lib/libgrugan.so.0"

# A fully static program: every private dependency must be listed.
# shellcheck disable=SC2046
$CC -std=c99 -Wall -Werror -static -o "$tmp/app_static" "$tmp/app.c" \
    $($PKG_CONFIG --static --cflags --libs gru_gan)
"$tmp/app_static" | grep -q "^libgrugan "
if ldd "$tmp/app_static" 2>/dev/null | grep -q libgrugan; then echo "static app loads libgrugan.so"; exit 1; fi

for page in docs/man/*.1; do
    cmp -s "$page" "$prefix/share/man/man1/$(basename "$page")" || {
        echo "make install did not install $page into share/man/man1"; exit 1; }
done
if command -v man >/dev/null 2>&1; then
    MANPATH="$prefix/share/man" man -P cat train_csv 2>/dev/null | grep -q "EXIT STATUS" || {
        echo "man cannot show the installed train_csv page"; exit 1; }
fi

$MAKE -s uninstall PREFIX="$prefix" >/dev/null
left=$(find "$prefix" -type f -o -type l)
if [ -n "$left" ]; then echo "left after uninstall: $left"; exit 1; fi
echo ok
