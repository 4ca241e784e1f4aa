#!/usr/bin/env bash
# Adds up the results in the logs of `make test`'s stages (cmocka and bats
# output) and prints one closing line: "N passed, M failed, K skipped".
set -euo pipefail
passed=0 failed=0 skipped=0
for log in "$@"; do
	[ -f "$log" ] || continue
	while read -r n; do passed=$((passed + n)); done < <(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$log")
	while read -r n; do failed=$((failed + n)); done < <(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' "$log")
	while read -r n; do skipped=$((skipped + n)); done < <(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test(s), listed below:/\1/p' "$log")
	bats_ok=$(grep -cE '^ok [0-9]+ ' "$log" || true)
	bats_skip=$(grep -cE '^ok [0-9]+ .*# skip' "$log" || true)
	bats_fail=$(grep -cE '^not ok [0-9]+ ' "$log" || true)
	passed=$((passed + bats_ok - bats_skip))
	skipped=$((skipped + bats_skip))
	failed=$((failed + bats_fail))
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
