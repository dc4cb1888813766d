#!/bin/sh
# The shared library exports only grugan_* names and has SONAME libgrugan.so.MAJOR;
# only one source file includes blis.h; the core is free of MPI (only src/mpi/, the
# optional adapter, includes mpi.h, and the library needs no MPI library).
set -eu
so=lib/libgrugan.so
test -e "$so"
bad=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^grugan_' || true)
if [ -n "$bad" ]; then echo "exported non-grugan symbols: $bad"; exit 1; fi
internal=$(nm -D --defined-only "$so" | awk '{print $3}' | grep '^grugan__' || true)
if [ -n "$internal" ]; then echo "exported internal symbols: $internal"; exit 1; fi
nm -D --defined-only "$so" | grep -q ' grugan_version_number$'
major=$(sed -n 's/^#define GRUGAN_VERSION_MAJOR \([0-9]*\)$/\1/p' include/grugan.h)
readelf -d "$so" | grep -q "Library soname: \[libgrugan.so.$major\]"
test "$(grep -rl '#include <blis.h>' src | wc -l)" -eq 1
mpi=$(grep -rlE '#include [<"]mpi\.h[>"]' src include | grep -v '^src/mpi/\|^include/grugan_mpi\.h$' || true)
if [ -n "$mpi" ]; then echo "outside the MPI adapter, these include mpi.h: $mpi"; exit 1; fi
if readelf -d "$so" | grep NEEDED | grep -qi mpi; then echo "$so needs an MPI library"; exit 1; fi
echo ok
