#!/bin/sh
# The public header compiles alone as C99 -pedantic, C11 and C++11, with gcc
# and with clang when present, and includes nothing but stddef.h and stdint.h.
set -eu
: "${CC:=cc}" "${CXX:=c++}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <grugan.h>\nint main(void) { return grugan_version_number() == 0; }\n' >"$tmp/h.c"
cp "$tmp/h.c" "$tmp/h.cpp"
flags="-Iinclude -Wall -Wextra -Werror -pedantic -fsyntax-only"
$CC -std=c99 $flags "$tmp/h.c"
$CC -std=c11 $flags "$tmp/h.c"
$CXX -std=c++11 $flags "$tmp/h.cpp"
if command -v clang >/dev/null 2>&1; then
    clang -std=c99 $flags "$tmp/h.c"
    clang -std=c11 $flags -Wconversion "$tmp/h.c"
fi
if command -v clang++ >/dev/null 2>&1; then clang++ -std=c++11 $flags "$tmp/h.cpp"; fi
includes=$(grep '^#include' include/grugan.h | sort | tr '\n' ' ')
test "$includes" = "#include <stddef.h> #include <stdint.h> "
# No FILE *, varargs or bitfields in the API (comments left out).
code=$(sed -e 's|/\*.*\*/||g' -e '/^ *\*/d' -e '/^ *\/\*/d' include/grugan.h)
if printf '%s\n' "$code" | grep -nE 'FILE \*|\.\.\.\)|[a-z_] *: *[0-9]+ *;'; then exit 1; fi
echo ok
