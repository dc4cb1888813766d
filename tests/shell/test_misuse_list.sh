#!/bin/sh
# tests/misuse_calls.inc is what tests/gen_misuse.py makes of include/grugan.h
# today: a public function added without regenerating the file (and so
# without misuse calls in tests/test_misuse.c) fails here.
set -eu
py=${PYTHON:-python3}
if ! command -v "$py" >/dev/null 2>&1; then
    echo "no $py to run tests/gen_misuse.py"
    exit 77
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$py" tests/gen_misuse.py "$tmp"
if ! diff -u tests/misuse_calls.inc "$tmp"; then
    echo "tests/misuse_calls.inc is out of date: run"
    echo "    python3 tests/gen_misuse.py > tests/misuse_calls.inc"
    exit 1
fi
echo ok
