#!/bin/sh
# Replays every seed of fuzz/corpus/NAME and every past crash reproducer of
# fuzz/crashes/NAME through the fuzz target NAME, built without libFuzzer by
# the normal compiler (fuzz/replay.c): none may crash, fail a check of the
# target or break the allocation caps (docs/RELIABILITY.md, "Fuzzing").
set -eu
: "${MAKE:=make}"
$MAKE -s fuzz-replay >/dev/null

total=0
for t in checkpoint csv npy roundtrip; do
    set --
    for f in fuzz/corpus/$t/* fuzz/crashes/$t/*; do
        [ -f "$f" ] && set -- "$@" "$f"
    done
    [ $# -gt 0 ] || { echo "FAIL: no inputs for $t"; exit 1; }
    out=$(build/fuzz-replay/replay_$t "$@" 2>build/fuzz-replay/$t.log) || {
        tail -n 20 build/fuzz-replay/$t.log
        echo "FAIL: replay_$t failed on the input named last above"
        exit 1
    }
    echo "$t: $out"
    total=$((total + $#))
done
echo "ok: $total inputs"
