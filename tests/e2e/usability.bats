#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# What a new user hit (issue 13): messages that say what happened and what
# to do, successes that last, and options scripts can rely on.

load helpers

setup() {
	tc_e2e_setup
	make_pair nov6
	CONFIG=$BATS_TEST_TMPDIR/traffic-counter.conf
}

teardown() {
	tc_e2e_teardown
}

@test "apply --config DIR: says it is a directory, not an I/O error" {
	local dir=$BATS_TEST_TMPDIR/conf.d
	mkdir -p "$dir"
	for check in --check ""; do
		# shellcheck disable=SC2086 # an empty $check is no argument
		run --separate-stderr tc_in "$NS_B" apply $check --config "$dir"
		echo "apply $check --config DIR: status $status, stderr '$stderr'"
		assert_error_status 1
		[[ $stderr == *"$dir: it is a directory"*"--config takes the configuration file"* ]]
		[[ $stderr != *"Input/output error"* ]]
	done
	map_pins_absent
	nothing_attached "$NS_B" "$DEV_B"
}

@test "apply --check: an interface missing in this network namespace is named, not 'valid'" {
	printf 'ATTACH="%s:xdp tce-none0:xdp tce-none0:tc-egress"\n' "$DEV_B" >"$CONFIG"
	run --separate-stderr tc_in "$NS_B" apply --check --config "$CONFIG"
	echo "status $status, stdout '$output', stderr '$stderr'"
	# One line for the missing interface however often it is named.
	assert_error_status 1
	[[ $stderr == *"$CONFIG:1: ATTACH: no interface 'tce-none0' in this network namespace"* ]]
	[[ $stderr != *"'$DEV_B'"* ]]
	[[ $output != *valid* ]]
	map_pins_absent

	# Every interface there: valid, exit 0.
	printf 'ATTACH="%s:xdp"\n' "$DEV_B" >"$CONFIG"
	run --separate-stderr tc_in "$NS_B" apply --check --config "$CONFIG"
	[ "$status" -eq 0 ]
	[[ $output == "$CONFIG: valid"* ]]
	map_pins_absent
}
