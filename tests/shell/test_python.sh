#!/bin/sh
# Runs the Python package's tests (python/tests, pytest) against the library just
# built, when a python3 with numpy and pytest is present; skips with the reason
# otherwise (Debian: apt-get install python3-numpy python3-pytest).
set -eu
py=
for p in ${PYTHON:-} python3 /usr/bin/python3; do
    if "$p" -c 'import numpy, pytest' >/dev/null 2>&1; then py=$p; break; fi
done
if [ -z "$py" ]; then
    echo "python3 with numpy and pytest not found: Python package tests skipped"
    exit 77
fi
GRUGAN_LIBRARY="$PWD/lib/libgrugan.so.0" "$py" -m pytest -q -p no:cacheprovider python/tests
