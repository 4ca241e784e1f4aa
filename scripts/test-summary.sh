#!/usr/bin/env bash
# Adds up the results of `make test`'s stages, each test once: one line per
# stage, then the closing line "tests: N passed, M failed, K skipped". Exits
# 1 if anything failed.
#
# Usage: scripts/test-summary.sh LOG_DIR STAGE...
# LOG_DIR/STAGE.log is the stage's output (cmocka, bats TAP or neither),
# LOG_DIR/STAGE.rc its exit code, LOG_DIR/STAGE.time its seconds (optional).
#
# A stage whose output has no test results (lint, a build that failed) counts
# as one test, passed only if it exited 0. A stage that exited non-zero with
# no failure in its output counts one more failure, and so does each test a
# bats plan announced that never reported, so a crash cannot read as a pass.
set -euo pipefail

logs=$1
shift

# Sums the number captured by a sed expression over the lines of a log.
sum_of() {
	local total=0 n
	while read -r n; do total=$((total + n)); done < <(sed -n "$1" "$2")
	echo "$total"
}

count_stage() {
	local log=$1 rc=$2
	local cm_pass cm_fail cm_skip ok skip notok plan
	cm_pass=$(sum_of 's/^\[  PASSED  \] \([0-9]*\) test(s)\.$/\1/p' "$log")
	cm_fail=$(sum_of 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:$/\1/p' "$log")
	cm_skip=$(sum_of 's/^\[  SKIPPED \] \([0-9]*\) test(s), listed below:$/\1/p' "$log")
	ok=$(grep -cE '^ok [0-9]+ ' "$log" || true)
	skip=$(grep -cE '^ok [0-9]+ .*# skip' "$log" || true)
	notok=$(grep -cE '^not ok [0-9]+ ' "$log" || true)
	plan=$(sum_of 's/^1\.\.\([0-9]*\)$/\1/p' "$log")
	s_pass=$((cm_pass + ok - skip))
	s_skip=$((cm_skip + skip))
	s_fail=$((cm_fail + notok))
	s_note=""
	if [ "$plan" -gt $((ok + notok)) ]; then
		s_fail=$((s_fail + plan - ok - notok))
		s_note="$((plan - ok - notok)) planned test(s) never reported"
	fi
	if [ $((s_pass + s_fail + s_skip)) -eq 0 ]; then
		if [ "$rc" = 0 ]; then s_pass=1; else s_fail=1; fi
	elif [ "$rc" != 0 ] && [ "$s_fail" -eq 0 ]; then
		s_fail=1
		s_note="exited $rc with no failure in its output"
	fi
}

passed=0 failed=0 skipped=0
for stage in "$@"; do
	log=$logs/$stage.log
	rc=$(cat "$logs/$stage.rc" 2>/dev/null || echo missing)
	if [ ! -f "$log" ]; then
		s_pass=0 s_fail=1 s_skip=0 s_note="no log"
	else
		count_stage "$log" "$rc"
	fi
	secs=$(cat "$logs/$stage.time" 2>/dev/null || echo '?')
	printf '  %-10s %5d passed, %d failed, %d skipped  (%s s)%s\n' "$stage:" \
		"$s_pass" "$s_fail" "$s_skip" "$secs" "${s_note:+  [$s_note]}"
	passed=$((passed + s_pass))
	failed=$((failed + s_fail))
	skipped=$((skipped + s_skip))
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
