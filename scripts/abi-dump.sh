#!/bin/sh
# abi-dump.sh LIB HEADERS_DIR: prints the ABI of the shared library LIB as
# abidw XML (abigail-tools), limited to what HEADERS_DIR declares and free of
# what differs between machines (paths, source locations, needed libraries),
# so that the same source and compiler give the same file anywhere. LIB must
# carry DWARF debug information (built with -g).
set -eu
if [ $# -ne 2 ]; then echo "usage: sh scripts/abi-dump.sh LIB HEADERS_DIR" >&2; exit 2; fi
lib=$1 headers=$2
if ! command -v abidw >/dev/null 2>&1; then
    echo "abi-dump.sh: abidw not found: install abigail-tools (sh scripts/setup.sh --ci)" >&2
    exit 2
fi
if ! LC_ALL=C readelf -S "$lib" | grep -q '\.debug_info'; then
    echo "abi-dump.sh: $lib has no debug information: build it with -g (the default CFLAGS)" >&2
    exit 2
fi
exec abidw --no-corpus-path --no-comp-dir-path --no-show-locs --no-elf-needed \
    --drop-private-types --exported-interfaces-only --type-id-style hash \
    --headers-dir "$headers" "$lib"
