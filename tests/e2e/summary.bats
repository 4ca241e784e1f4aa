#!/usr/bin/env bats
# scripts/test-summary.sh: the closing line of `make test` must count every
# test once and say so when anything failed, including a stage that crashed
# without printing a result. No root, no network: logs made up here.

SUMMARY="$BATS_TEST_DIRNAME/../../scripts/test-summary.sh"
RUNNER="$BATS_TEST_DIRNAME/../../scripts/run-tests.sh"

setup() {
	LOGS=$(mktemp -d)
}

teardown() {
	rm -rf "$LOGS"
}

stage() { # stage NAME RC LINES...
	local name=$1 rc=$2
	shift 2
	printf '%s\n' "$@" >"$LOGS/$name.log"
	echo "$rc" >"$LOGS/$name.rc"
}

@test "summary: cmocka and bats results add up, each test once" {
	stage unit 0 '[  PASSED  ] 4 test(s).' '[  PASSED  ] 2 test(s).'
	stage e2e 0 '1..3' 'ok 1 a' 'ok 2 b # skip no tool' 'ok 3 c'
	run "$SUMMARY" "$LOGS" unit e2e
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "tests: 8 passed, 0 failed, 1 skipped" ]
	[[ "${lines[0]}" == *"unit:"*"6 passed, 0 failed, 0 skipped"* ]]
}

@test "summary: a failed test fails the run and is counted" {
	stage unit 1 '[  PASSED  ] 4 test(s).' '[  FAILED  ] 1 test(s), listed below:'
	stage e2e 1 '1..2' 'ok 1 a' 'not ok 2 b'
	run "$SUMMARY" "$LOGS" unit e2e
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "tests: 5 passed, 2 failed, 0 skipped" ]
}

@test "summary: a stage that crashed with no result, or never reported its plan, is a failure" {
	stage lint 2 'shellcheck: something'
	stage e2e 1 '1..5' 'ok 1 a' 'ok 2 b'
	stage bpf 139 '[  PASSED  ] 7 test(s).'
	run "$SUMMARY" "$LOGS" lint e2e bpf missing
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "tests: 9 passed, 6 failed, 0 skipped" ]
	[[ "$output" == *"3 planned test(s) never reported"* ]]
	[[ "$output" == *"exited 139 with no failure in its output"* ]]
	[[ "$output" == *"missing:"*"[no log]"* ]]
}

@test "run-tests: every stage runs after an earlier one fails, and the run fails" {
	local mk=$LOGS/Makefile
	printf '%s\n' 'bad:' '	@echo "[  FAILED  ] 1 test(s), listed below:"; exit 1' \
		'good:' '	@echo "[  PASSED  ] 2 test(s)."' >"$mk"
	run env MAKE="make -f $mk" "$RUNNER" "$LOGS/out" first=bad second=good
	[ "$status" -eq 1 ]
	[ -f "$LOGS/out/second.log" ]
	[ "${lines[-1]}" = "tests: 2 passed, 1 failed, 0 skipped" ]
}
