#!/bin/sh
# run.sh - runs every tests/shell/test_*.sh from the top of the tree and ends
# with one line "shell: N passed, N failed". A test exits 0 (pass), 77 (skip)
# or anything else (fail).
passed=0 failed=0 skipped=0
for t in tests/shell/test_*.sh; do
    name=$(basename "$t" .sh)
    log=build/shell-$name.log
    mkdir -p build
    if sh "$t" >"$log" 2>&1; then
        passed=$((passed + 1)); echo "PASS $name"
    else
        rc=$?
        if [ "$rc" -eq 77 ]; then
            skipped=$((skipped + 1)); echo "SKIP $name: $(tail -n 1 "$log")"
        else
            failed=$((failed + 1)); echo "FAIL $name (exit $rc), log follows:"; sed 's/^/    /' "$log"
        fi
    fi
done
echo "shell: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
