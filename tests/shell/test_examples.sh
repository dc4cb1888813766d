#!/bin/sh
# Builds the examples and runs each with tiny budgets in a temporary directory:
# their outputs exist and parse (CSV columns and rows, SVG well-formed, NPY
# header, checkpoints load), and wrong paths and bad options fail with a
# message and an exit code below 128 (no crash). Runs the Python examples (with
# the package in python/) when a python3 with numpy is present.
set -eu
: "${MAKE:=make}"
$MAKE -s examples >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=build/examples

fail() { echo "FAIL: $*"; exit 1; }
run() {
    rc=0
    "$@" >"$tmp/log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then cat "$tmp/log"; fail "exit $rc from: $*"; fi
}

# expect_error CMD...: fails cleanly, i.e. exit 1..127 and a message on stderr
expect_error() {
    rc=0
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then cat "$tmp/err"; fail "exit $rc from: $*"; fi
    [ -s "$tmp/err" ] || fail "no message from: $*"
}

# check_csv FILE COLUMNS ROWS: a header, then ROWS rows of COLUMNS fields
check_csv() {
    awk -F, -v c="$2" 'NF != c { print FILENAME ":" NR ": " NF " fields, not " c; bad = 1 }
                       END { exit bad }' "$1" || fail "$1: wrong columns"
    n=$(($(wc -l <"$1") - 1))
    [ "$n" -eq "$3" ] || fail "$1: $n rows, not $3"
    head -n 1 "$1" | grep -q '^sequence,step,f' || fail "$1: no header"
}

# A python3 with numpy, if there is one.
py=
for p in ${PYTHON:-} python3 /usr/bin/python3; do
    if "$p" -c 'import numpy' >/dev/null 2>&1; then py=$p; break; fi
done

# check_npy FILE SHAPE: an NPY file of float32 with that shape, e.g. "(4, 50, 2)"
check_npy() {
    head -c 6 "$1" | od -An -c | grep -q 'N   U   M   P   Y' || fail "$1: not NPY"
    grep -a -q "'descr': '<f4', 'fortran_order': False, 'shape': $2" "$1" ||
        fail "$1: header is not float32 $2"
    if [ -n "$py" ]; then
        "$py" -c "import numpy, sys; a = numpy.load(sys.argv[1]); assert a.shape == $2, a.shape" \
            "$1" || fail "$1: numpy cannot load it"
    fi
}

# check_svg FILE TEXT PLOTS: a well-formed SVG picture (parsed by python3 if
# there is one, else closed by </svg>) that holds TEXT and at least PLOTS
# plots (a framed box each, drawn by examples/svg.h with stroke='#888')
check_svg() {
    [ -s "$1" ] || fail "$1 is missing"
    if command -v python3 >/dev/null 2>&1; then
        python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" "$1" ||
            fail "$1 is not well-formed XML"
    fi
    tail -n 1 "$1" | grep -q '^</svg>$' || fail "$1 is incomplete"
    grep -q "$2" "$1" || fail "$1 does not say: $2"
    boxes=$(grep -c "fill='none' stroke='#888'" "$1")
    [ "$boxes" -ge "$3" ] || fail "$1 has $boxes plots, not $3"
}

# check_curve_svg FILE: the training curve's four plots with their legends
check_curve_svg() {
    check_svg "$1" "training curve" 4
    for label in "discriminator loss" "generator loss" "D(real)" "D(fake)" "quality estimate" \
        "best so far" ">step<"; do
        grep -q "$label" "$1" || fail "$1 has no $label"
    done
}

for e in train_sines train_csv sample custom_loop embed evaluate; do
    run "$bin/$e" --help
    grep -q "usage" "$tmp/log" || fail "$e --help prints no usage"
    expect_error "$bin/$e" --no-such-option
    expect_error "$bin/$e" --steps -1
    expect_error "$bin/$e" --steps 12abc
done

echo "== train_sines"
run "$bin/train_sines" --steps 3 --out "$tmp/sines"
for f in checkpoint.safetensors samples.csv samples.npy real.npy sines.svg curve.csv curve.svg; do
    [ -s "$tmp/sines/$f" ] || fail "train_sines did not write $f"
done
check_csv "$tmp/sines/samples.csv" 7 240000
check_npy "$tmp/sines/samples.npy" "(10000, 24, 5)"
check_npy "$tmp/sines/real.npy" "(10000, 24, 5)"
run "$bin/train_sines" --steps 2 --samples 7 --out "$tmp/sines7"
check_csv "$tmp/sines7/samples.csv" 7 168
check_npy "$tmp/sines7/samples.npy" "(7, 24, 5)"
expect_error "$bin/train_sines" --samples 0
check_svg "$tmp/sines/sines.svg" "feature 4: generated" 10
check_curve_svg "$tmp/sines/curve.svg"
run "$bin/sample" "$tmp/sines/checkpoint.safetensors" --n 5 --out "$tmp/sines5.csv"
check_csv "$tmp/sines5.csv" 7 120
expect_error "$bin/train_sines" --steps 1 --out "$tmp/no/such/dir"
expect_error "$bin/train_sines" --threads 0

echo "== train_csv"
awk 'BEGIN { print "t,load,price"
             for (i = 0; i < 300; i++) printf "%d,%.4f,%.4f\n", i, 50 + 20 * sin(i / 8), 3 + cos(i / 5) }' \
    >"$tmp/series.csv"
small="--columns 1,2 --batch 16 --hidden 8 --layers 1"
# shellcheck disable=SC2086
run "$bin/train_csv" "$tmp/series.csv" $small --steps 3 --checkpoint "$tmp/csv.safetensors" \
    --export "$tmp/gen.safetensors"
grep -q "^checkpoint: " "$tmp/log" || fail "train_csv printed no checkpoint line"
cp "$tmp/csv.safetensors" "$tmp/csv3.safetensors" # the state the export was made from
# shellcheck disable=SC2086
run "$bin/train_csv" "$tmp/series.csv" $small --steps 5 --checkpoint "$tmp/csv.safetensors" --resume
grep -q "resumed from .* at step 3" "$tmp/log" || fail "train_csv did not resume at step 3"
# model selection: held-out windows, estimates, the best generator exported, the curve
# shellcheck disable=SC2086
run "$bin/train_csv" "$tmp/series.csv" $small --steps 9 --holdout 0.2 --select-every 3 \
    --patience 0 --checkpoint "$tmp/sel.safetensors" --export "$tmp/best.safetensors" \
    --curve "$tmp/curve"
grep -q "(55 held out for model selection)" "$tmp/log" || fail "train_csv held out no windows"
grep -q "^best quality estimate .* (of 3 estimates)" "$tmp/log" ||
    fail "train_csv made no quality estimates"
grep -q "the step count is done" "$tmp/log" || fail "train_csv did not say why it finished"
[ "$(wc -l <"$tmp/curve.csv")" -ge 4 ] || fail "train_csv wrote no curve rows"
head -n 1 "$tmp/curve.csv" | grep -q "^step,seconds,quality," || fail "curve.csv has no header"
check_curve_svg "$tmp/curve.svg"
# the three estimates are drawn as dots, the best ringed
[ "$(grep -c "<circle .*fill='#333333'" "$tmp/curve.svg")" -eq 3 ] ||
    fail "curve.svg does not draw the 3 estimates"
grep -q "<circle .*r='6' fill='none'" "$tmp/curve.svg" || fail "curve.svg rings no best estimate"
run "$bin/sample" "$tmp/best.safetensors" --n 3 --out "$tmp/best.csv"
run "$bin/sample" "$tmp/sel.safetensors" --n 3 --out "$tmp/ck.csv"
cmp -s "$tmp/best.csv" "$tmp/ck.csv" || fail "the checkpoint and the export give different generators"
expect_error "$bin/train_csv" "$tmp/series.csv" --holdout 0.7
expect_error "$bin/train_csv" "$tmp/series.csv" --minutes 0
# shellcheck disable=SC2086
run "$bin/train_csv" "$tmp/series.csv" $small --steps 2 --disc conv1d --loss wasserstein \
    --d-steps 2 --moment-matching 0 --checkpoint "$tmp/wgan.safetensors"
expect_error "$bin/train_csv" "$tmp/missing.csv"
expect_error "$bin/train_csv" "$tmp/series.csv" --columns 7 --steps 1
expect_error "$bin/train_csv" "$tmp/series.csv" --loss nonsense
expect_error "$bin/train_csv" "$tmp/series.csv" --moment-matching -3
# shellcheck disable=SC2086
expect_error "$bin/train_csv" "$tmp/series.csv" $small --steps 1 --checkpoint "$tmp/no/dir/x"
# shellcheck disable=SC2086
expect_error "$bin/train_csv" "$tmp/series.csv" --hidden 9 --steps 1 \
    --checkpoint "$tmp/csv.safetensors" --resume

echo "== sample"
run "$bin/sample" "$tmp/csv.safetensors" --n 4 --steps 50 --seed 3 --out "$tmp/s.csv"
check_csv "$tmp/s.csv" 4 200
# the generator-only export samples as the checkpoint it was made with
run "$bin/sample" "$tmp/csv3.safetensors" --n 4 --steps 50 --seed 3 --out "$tmp/c3.csv"
run "$bin/sample" "$tmp/gen.safetensors" --n 4 --steps 50 --seed 3 --out "$tmp/g3.csv"
cmp -s "$tmp/c3.csv" "$tmp/g3.csv" || fail "the generator export samples differently"
run "$bin/sample" "$tmp/csv.safetensors" --n 4 --steps 50 --seed 3 --out "$tmp/s.npy"
check_npy "$tmp/s.npy" "(4, 50, 2)"
run "$bin/sample" "$tmp/csv.safetensors" --n 2 --steps 7 --scaled --format npy --out "$tmp/s.dat"
check_npy "$tmp/s.dat" "(2, 7, 2)"
expect_error "$bin/sample" "$tmp/missing.safetensors"
expect_error "$bin/sample" "$tmp/series.csv"
expect_error "$bin/sample" "$tmp/csv.safetensors" --out "$tmp/no/dir/s.csv"
expect_error "$bin/sample" "$tmp/csv.safetensors" --condition 1,2
expect_error "$bin/sample" "$tmp/csv.safetensors" --noise "$tmp/missing.npy"
expect_error "$bin/sample" "$tmp/csv.safetensors" --noise "$tmp/s.csv"

echo "== evaluate"
# check_json FILE: the last line of FILE is one JSON object with both scores
check_json() {
    tail -n 1 "$1" | grep -q '^{"discriminative": {"mean": [0-9.]*, "std": [0-9.]*}, "predictive": ' ||
        fail "$1: no JSON line"
    if [ -n "$py" ]; then
        tail -n 1 "$1" | "$py" -c "import json, sys; d = json.load(sys.stdin)
assert 0 <= d['discriminative']['mean'] <= 0.5 and d['discriminative']['std'] >= 0, d
assert d['predictive'] is None or d['predictive']['mean'] >= 0, d
assert d['mean_error'] >= 0 and d['acf_error'] >= 0, d" || fail "$1: bad JSON line"
    fi
}
quick="--repetitions 2 --iterations 5"
# shellcheck disable=SC2086
run "$bin/evaluate" "$tmp/sines/real.npy" "$tmp/sines/samples.npy" $quick --threads 2
grep -q "^discriminative " "$tmp/log" || fail "evaluate printed no table"
check_json "$tmp/log"
tail -n 1 "$tmp/log" >"$tmp/npy.json"
# the same sequences as CSV (sequence,step,... written by train_sines) score the same
# shellcheck disable=SC2086
run "$bin/evaluate" "$tmp/sines/real.npy" "$tmp/sines/samples.csv" $quick
tail -n 1 "$tmp/log" | cmp -s - "$tmp/npy.json" || fail "CSV and NPY samples score differently"
# series files cut into windows and scaled with the real data's scaler
# shellcheck disable=SC2086
run "$bin/evaluate" "$tmp/series.csv" "$tmp/series.csv" --columns 1,2 --steps 20 --stride 5 \
    --scale $quick --seed 3
check_json "$tmp/log"
grep -q '"features": 2' "$tmp/log" || fail "evaluate used the wrong columns"
# one feature: no predictive score
# shellcheck disable=SC2086
run "$bin/evaluate" "$tmp/series.csv" "$tmp/series.csv" --columns 2 --steps 20 --scale $quick
grep -q '"predictive": null' "$tmp/log" || fail "evaluate scored one feature predictively"
# the picture: 10 sequences of each set per feature, and 1000 + 1000 dots of the PCA view
# shellcheck disable=SC2086
run "$bin/evaluate" "$tmp/sines/real.npy" "$tmp/sines/samples.npy" $quick --plot "$tmp/eval.svg"
grep -q "^picture    $tmp/eval.svg" "$tmp/log" || fail "evaluate did not name its picture"
tail -n 1 "$tmp/log" | cmp -s - "$tmp/npy.json" || fail "--plot changed the scores"
check_svg "$tmp/eval.svg" "PCA: 1000 real, 1000 synthetic sequences" 11
grep -q "feature 4: synthetic (10 sequences)" "$tmp/eval.svg" || fail "eval.svg lacks feature 4"
[ "$(grep -c '^<circle ' "$tmp/eval.svg")" -eq 2000 ] || fail "eval.svg has not 2000 PCA dots"
[ "$(grep -c "^<path fill='none' stroke='#d62728'" "$tmp/eval.svg")" -eq 50 ] ||
    fail "eval.svg has not 5 x 10 synthetic sequences"
# a series of one feature, fewer windows than dots: every window is drawn
# shellcheck disable=SC2086
run "$bin/evaluate" "$tmp/series.csv" "$tmp/series.csv" --columns 2 --steps 20 --scale $quick \
    --plot "$tmp/one.svg"
check_svg "$tmp/one.svg" "PCA: 281 real, 281 synthetic sequences" 3
expect_error "$bin/evaluate" "$tmp/sines/real.npy" "$tmp/sines/samples.npy" $quick \
    --plot "$tmp/no/dir/p.svg"
expect_error "$bin/evaluate" "$tmp/sines/real.npy"
expect_error "$bin/evaluate" "$tmp/sines/real.npy" "$tmp/missing.npy"
expect_error "$bin/evaluate" "$tmp/series.csv" "$tmp/series.csv" --columns 1,2 --steps 20
expect_error "$bin/evaluate" "$tmp/sines/real.npy" "$tmp/series.csv" --steps 24 --scale
expect_error "$bin/evaluate" "$tmp/sines/real.npy" "$tmp/sines/samples.csv" --steps 12

echo "== custom_loop, embed"
run "$bin/custom_loop" --steps 3 --critic 2 --batch 8
grep -q "Wasserstein estimate" "$tmp/log" || fail "custom_loop printed no estimate"
run "$bin/custom_loop" --steps 2 --optimizer adam --batch 4
run "$bin/embed" --steps 3
grep -q "^sequence 2, feature 0:" "$tmp/log" || fail "embed printed no samples"

echo "== python"
if [ -z "$py" ]; then
    echo "python3 with numpy not found: Python examples skipped"
else
    export GRUGAN_LIBRARY="$PWD/lib/libgrugan.so.0" PYTHONPATH="$PWD/python"
    run "$py" examples/python/sample.py "$tmp/csv.safetensors" --n 4 --steps 50 --seed 3 \
        --out "$tmp/py.npy"
    # the binding and the C tool give the same numbers for the same checkpoint and seed
    "$py" -c "import numpy as np, sys; a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.shape == b.shape and np.array_equal(a, b), abs(a - b).max()" "$tmp/py.npy" "$tmp/s.npy" ||
        fail "examples/python/sample.py and sample disagree"
    # given noise: the library's own noise, written by numpy, reproduces the drawn samples
    "$py" -c "import grugan, numpy, sys
with grugan.Generator.load(sys.argv[1]) as g: numpy.save(sys.argv[2], g.noise(4, 50, 3))" \
        "$tmp/csv.safetensors" "$tmp/z.npy" || fail "cannot write the noise"
    run "$bin/sample" "$tmp/csv.safetensors" --noise "$tmp/z.npy" --out "$tmp/zs.csv"
    cmp -s "$tmp/zs.csv" "$tmp/s.csv" || fail "sample --noise differs from the drawn noise"
    expect_error "$py" examples/python/sample.py "$tmp/missing.safetensors"
    run "$py" examples/python/compare_torch.py "$tmp/csv.safetensors" --n 3 --steps 30
    cat "$tmp/log"
    # training from Python: checkpoint, export and samples; the export samples as sample.py
    run "$py" examples/python/train.py "$tmp/series.csv" --columns 1,2 --seq-len 20 --steps 3 \
        --hidden 8 --repetitions 1 --out "$tmp/pyrun"
    grep -q "^discriminative score against the held-out windows: " "$tmp/log" ||
        fail "examples/python/train.py printed no score"
    for f in checkpoint.safetensors generator.safetensors samples.npy; do
        [ -s "$tmp/pyrun/$f" ] || fail "examples/python/train.py did not write $f"
    done
    check_npy "$tmp/pyrun/samples.npy" "(28, 20, 2)"
    run "$py" examples/python/sample.py "$tmp/pyrun/generator.safetensors" --n 2 --steps 5
    expect_error "$py" examples/python/train.py "$tmp/missing.csv" --out "$tmp/pyrun"
    cat "$tmp/log"
fi
echo ok
