#!/bin/sh
# The MPI adapter (docs/SCALING.md) under mpirun, when mpicc and mpirun are
# installed (skipped otherwise): 1, 2 and 3 processes train 6 steps over 6
# shards and hold the same weights, bit for bit, as one process without MPI;
# a run saved by 2 processes resumes on 3 with the same bits; a step that
# fails on rank 1 (before its reductions, or after them) and a save that
# fails on rank 0 stop every rank with that rank's status and message, and
# leave the last checkpoint intact; a rank killed mid-run leaves the last
# checkpoint intact and loadable.
set -eu
: "${MAKE:=make}"
if ! command -v mpicc >/dev/null 2>&1 || ! command -v mpirun >/dev/null 2>&1; then
    echo "no mpicc or mpirun: the MPI adapter is not tested (Debian: openmpi-bin libopenmpi-dev)"
    exit 77
fi
$MAKE -s mpi >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
t=build/test_mpi

# Open MPI wants --oversubscribe for more ranks than cores, and
# --allow-run-as-root as root; MPICH's mpirun needs neither.
launch="mpirun"
if mpirun --version 2>&1 | grep -q "Open MPI"; then
    launch="$launch --oversubscribe"
    [ "$(id -u)" -ne 0 ] || launch="$launch --allow-run-as-root"
fi
# mpi NP ARGS...: test_mpi on NP processes, at most 60 s, its output in $tmp/log
mpi() {
    np=$1
    shift
    rc=0
    OMP_NUM_THREADS=1 timeout 60 $launch -np "$np" "$@" >"$tmp/log" 2>&1 || rc=$?
    [ "$rc" -ne 124 ] || { cat "$tmp/log"; fail "$* on $np processes hung"; }
}

"$t" plain "$tmp/ref.bin" 6 || fail "the one-process reference run failed"
for np in 1 2 3; do
    mpi "$np" "$t" train "$tmp/w$np.bin" 6
    [ "$rc" -eq 0 ] || { cat "$tmp/log"; fail "training on $np processes failed"; }
    cmp "$tmp/ref.bin" "$tmp/w$np.bin" || fail "$np processes: other weights than one process"
done
echo "1, 2 and 3 processes: the weights of one process, bit for bit"

mpi 2 "$t" train "$tmp/a.bin" 3 "$tmp/c3.safetensors"
[ "$rc" -eq 0 ] || { cat "$tmp/log"; fail "3 steps on 2 processes failed"; }
mpi 3 "$t" train "$tmp/r.bin" 6 "$tmp/c6.safetensors" "$tmp/c3.safetensors"
[ "$rc" -eq 0 ] || { cat "$tmp/log"; fail "resuming on 3 processes failed"; }
cmp "$tmp/ref.bin" "$tmp/r.bin" || fail "saved on 2 and resumed on 3: other weights"
echo "saved on 2 processes, resumed on 3: the same bits"

for mode in fail-step fail-late; do
    mpi 3 "$t" "$mode" "$tmp/$mode.safetensors"
    [ "$rc" -eq 0 ] || { cat "$tmp/log"; fail "$mode: not every rank stopped as expected"; }
    "$t" verify "$tmp/$mode.safetensors" 3 || fail "$mode: the checkpoint of step 3 is not intact"
    sed -n 's/^test_mpi: rank 0 got: /    /p' "$tmp/log"
done
mpi 2 "$t" fail-save "$tmp"
[ "$rc" -eq 0 ] || { cat "$tmp/log"; fail "fail-save: not every rank stopped as expected"; }
sed -n 's/^test_mpi: rank 0 got: /    /p' "$tmp/log"
echo "a failed step on rank 1 or save on rank 0: every rank stops with its message"

mpi 2 "$t" kill "$tmp/k.safetensors"
[ "$rc" -ne 0 ] || fail "mpirun succeeded although rank 1 was killed"
"$t" verify "$tmp/k.safetensors" 4 || fail "after rank 1 was killed: no intact checkpoint of step 4"
ls "$tmp" | grep -v '\.safetensors$\|\.bin$\|^log$' && fail "a temporary file was left behind"
echo "rank 1 killed in step 5: the checkpoint of step 4 is intact"

echo ok
