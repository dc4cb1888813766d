#!/bin/sh
# abi-check.sh BASELINE LIB HEADERS_DIR: compares the ABI of the shared
# library LIB (built with -g) with the committed BASELINE (abidw XML from
# scripts/abi-dump.sh). Compatible changes pass and are listed: added
# functions, members appended to a struct that begins with struct_size.
# Everything else abidiff sees fails: a removed or changed function, a type
# whose layout changed, a new SONAME.
# Exit status: 0 compatible, 1 incompatible, 2 missing tools or inputs.
set -eu
if [ $# -ne 3 ]; then echo "usage: sh scripts/abi-check.sh BASELINE LIB HEADERS_DIR" >&2; exit 2; fi
baseline=$1 lib=$2 headers=$3
scripts=$(dirname "$0")
if [ ! -f "$baseline" ]; then
    echo "abi-check: no baseline $baseline: a new SONAME starts one with make abi-baseline" >&2
    exit 2
fi
if ! command -v abidiff >/dev/null 2>&1; then
    echo "abi-check: abidiff not found: install abigail-tools (sh scripts/setup.sh --ci)" >&2
    exit 2
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "abi-check: python3 not found (sh scripts/setup.sh installs it)" >&2
    exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sh "$scripts/abi-dump.sh" "$lib" "$headers" >"$tmp/current.abi"
trim=0
python3 "$scripts/abi_trim_grown.py" "$baseline" "$tmp/current.abi" >"$tmp/trimmed.abi" || trim=$?
[ "$trim" -le 1 ] || exit 2

# abidiff's status is a bit mask: 1 error, 2 usage, 4 ABI change, 8 incompatible.
rc=0
abidiff --no-added-syms "$baseline" "$tmp/trimmed.abi" >"$tmp/report" || rc=$?
if [ $((rc & 3)) -ne 0 ]; then cat "$tmp/report" >&2; exit 2; fi
if [ "$rc" -ne 0 ] || [ "$trim" -ne 0 ]; then
    cat "$tmp/report"
    echo "abi-check: $lib is NOT compatible with $baseline" >&2
    exit 1
fi
abidiff "$baseline" "$tmp/current.abi" >"$tmp/additions" || true
if grep -q '^  \[A\]' "$tmp/additions"; then
    echo "abi-check: added since the baseline:"
    grep '^  \[A\]' "$tmp/additions"
fi
echo "abi-check: $lib is compatible with $baseline"
