#!/bin/sh
# The MPI adapter (docs/SCALING.md) under mpirun, when mpicc and mpirun are
# installed (skipped otherwise): 1, 2 and 3 processes train 6 steps over 6
# shards and hold the same weights, bit for bit, as one process without MPI;
# a run saved by 2 processes resumes on 3 with the same bits; a step that
# fails on rank 1 (before its reductions, or after them) and a save that
# fails on rank 0 stop every rank with that rank's status and message, and
# leave the last checkpoint intact; a rank killed mid-run leaves the last
# checkpoint intact and loadable; train_csv_mpi on 2 processes writes the
# same generator as train_csv --shards 2; both scores with their repetitions
# spread over 1, 2 and 3 processes give the one-process bits, and so does
# evaluate_mpi against evaluate.
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

# an mpirun that cannot start two processes here (no usable transport in a
# container, say) is the environment's limit, not the adapter's
mpi 2 true
if [ "$rc" -ne 0 ]; then
    cat "$tmp/log"
    echo "mpirun cannot start 2 processes here: the MPI adapter is not tested"
    exit 77
fi

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

for np in 1 2 3; do
    mpi "$np" "$t" metric
    [ "$rc" -eq 0 ] || { cat "$tmp/log"; fail "the scores spread over $np processes"; }
done
sed -n 's/^test_mpi: rank 0 got: /    /p' "$tmp/log"
echo "the scores' repetitions over 1, 2 and 3 processes: the bits of one process"

mpi 2 "$t" kill "$tmp/k.safetensors"
[ "$rc" -ne 0 ] || fail "mpirun succeeded although rank 1 was killed"
"$t" verify "$tmp/k.safetensors" 4 || fail "after rank 1 was killed: no intact checkpoint of step 4"
ls "$tmp" | grep -v '\.safetensors$\|\.bin$\|^log$' && fail "a temporary file was left behind"
echo "rank 1 killed in step 5: the checkpoint of step 4 is intact"

# train_csv_mpi gives train_csv --shards 2's generator
awk 'BEGIN { print "t,load,price"
             for (i = 0; i < 300; i++) printf "%d,%.4f,%.4f\n", i, 50 + 20 * sin(i / 8), 3 + cos(i / 5) }' \
    >"$tmp/series.csv"
small="--columns 1,2 --batch 16 --hidden 8 --layers 1 --steps 4 --no-selection"
# shellcheck disable=SC2086
build/examples/train_csv "$tmp/series.csv" $small --shards 2 --checkpoint "$tmp/one.safetensors" \
    --export "$tmp/one-gen.safetensors" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "train_csv --shards 2"; }
# shellcheck disable=SC2086
mpi 2 build/examples/train_csv_mpi "$tmp/series.csv" $small --checkpoint "$tmp/two.safetensors" \
    --export "$tmp/two-gen.safetensors"
[ "$rc" -eq 0 ] || { cat "$tmp/log"; fail "train_csv_mpi on 2 processes failed"; }
[ "$(grep -c '^checkpoint: ' "$tmp/log")" -eq 1 ] || fail "train_csv_mpi: not one process speaking"
cmp "$tmp/one-gen.safetensors" "$tmp/two-gen.safetensors" ||
    fail "train_csv_mpi on 2 processes: another generator than train_csv --shards 2"
# shellcheck disable=SC2086
mpi 2 build/examples/train_csv_mpi "$tmp/series.csv" $small --steps 6 --resume \
    --checkpoint "$tmp/two.safetensors"
[ "$rc" -eq 0 ] || { cat "$tmp/log"; fail "train_csv_mpi --resume failed"; }
grep -q "resumed from .* at step 4" "$tmp/log" || fail "train_csv_mpi did not resume at step 4"
# with model selection (its estimates; the final ranking is off to keep the
# test short): the same generator too,
# and one progress line per step shown
sel="--columns 1,2 --batch 16 --hidden 8 --layers 1 --steps 3 --holdout 0.2 --select-every 3
    --final-candidates 1"
# shellcheck disable=SC2086
build/examples/train_csv "$tmp/series.csv" $sel --shards 2 --checkpoint "$tmp/sel1.safetensors" \
    --export "$tmp/sel1-gen.safetensors" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "train_csv selection"; }
# shellcheck disable=SC2086
mpi 2 build/examples/train_csv_mpi "$tmp/series.csv" $sel --checkpoint "$tmp/sel2.safetensors" \
    --export "$tmp/sel2-gen.safetensors"
[ "$rc" -eq 0 ] || { cat "$tmp/log"; fail "train_csv_mpi with model selection failed"; }
cmp "$tmp/sel1-gen.safetensors" "$tmp/sel2-gen.safetensors" ||
    fail "train_csv_mpi with model selection: another generator than train_csv --shards 2"
[ "$(grep -c '^step 3 ' "$tmp/log")" -eq 1 ] || { cat "$tmp/log"; fail "train_csv_mpi: progress not once"; }
mpi 2 build/examples/train_csv_mpi "$tmp/series.csv" --batch 15
[ "$rc" -eq 1 ] || { cat "$tmp/log"; fail "train_csv_mpi --batch 15 on 2 processes: exit $rc"; }
grep -q "must be a multiple of --shards" "$tmp/log" || fail "train_csv_mpi: no message for --batch 15"
echo "train_csv_mpi: train_csv --shards 2's generator; resumes"

# evaluate_mpi: evaluate's scores, bit for bit (the JSON line), on 2 and 3 processes
awk 'BEGIN { srand(3); print "t,a,b"
             for (i = 0; i < 300; i++) printf "%d,%.4f,%.4f\n", i, 2 * rand() - 1, cos(i / 5) }' \
    >"$tmp/fake.csv"
ev="--columns 1,2 --steps 12 --scale --clip --repetitions 3 --iterations 40"
# shellcheck disable=SC2086
build/examples/evaluate "$tmp/series.csv" "$tmp/fake.csv" $ev >"$tmp/one.txt" 2>&1 ||
    { cat "$tmp/one.txt"; fail "evaluate failed"; }
for np in 2 3; do
    # shellcheck disable=SC2086
    mpi "$np" build/examples/evaluate_mpi "$tmp/series.csv" "$tmp/fake.csv" $ev --plot "$tmp/p.svg"
    [ "$rc" -eq 0 ] || { cat "$tmp/log"; fail "evaluate_mpi on $np processes failed"; }
    grep '^{' "$tmp/log" >"$tmp/json"
    grep '^{' "$tmp/one.txt" | cmp -s - "$tmp/json" ||
        { cat "$tmp/one.txt" "$tmp/log"; fail "evaluate_mpi on $np processes: other scores"; }
    grep -q '<svg' "$tmp/p.svg" || fail "evaluate_mpi wrote no picture"
done
echo "evaluate_mpi on 2 and 3 processes: evaluate's scores"
echo ok
