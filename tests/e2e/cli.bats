#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# The command line: help and version, usage errors (exit 2) and runtime
# errors (exit 1), each one line on stderr, and nothing left attached or
# pinned by a command that failed.

load helpers

setup() {
	tfc_e2e_setup
	make_pair nov6
}

teardown() {
	tfc_e2e_teardown
}

# nothing_done: no pins of this test's pin dir, nothing on the receiver's veth.
nothing_done() {
	map_pins_absent
	assert_eq "$(link_pins)" "" "link pins"
	nothing_attached "$NS_B" "$DEV_B"
}

# usage_error WORD ARGS...: traffic-counter ARGS exits 2 with one stderr line
# naming WORD, and changes nothing.
usage_error() {
	local word=$1
	shift
	run --separate-stderr tfc_in_raw "$NS_B" "$@"
	echo "traffic-counter $*: status $status, stderr '$stderr'"
	assert_usage_error
	[[ $stderr == *"$word"* ]] || {
		echo "FAIL: the message does not name '$word'" >&2
		return 1
	}
	nothing_done
}

@test "--version prints the version, exit 0" {
	run --separate-stderr "$TFC_BIN" --version
	[ "$status" -eq 0 ]
	local v
	v=$(cat "$BATS_TEST_DIRNAME/../../VERSION")
	[[ $output == *"$v"* ]]
}

@test "--help and COMMAND --help print usage on stdout, exit 0" {
	run --separate-stderr "$TFC_BIN" --help
	[ "$status" -eq 0 ]
	[[ $output == *[Uu]sage* && $output == *attach* && $output == *dump-maps* ]]
	local cmd
	for cmd in attach detach dump-maps status set; do
		run --separate-stderr "$TFC_BIN" "$cmd" --help
		echo "$cmd --help: status $status"
		[ "$status" -eq 0 ]
		[[ $output == *[Uu]sage*"$cmd"* ]]
		[[ $output == *--pin-dir* ]]
	done
}

@test "unknown option: exit 2, one line naming it" {
	usage_error --bogus attach --pin-dir "$PIN" --iface "$DEV_B" --bogus
}

@test "bad --attach-point value: exit 2, one line naming it" {
	usage_error sideways attach --pin-dir "$PIN" --iface "$DEV_B" --attach-point sideways
}

@test "--ip-map-size 0: exit 2, one line naming the option" {
	usage_error ip-map-size attach --pin-dir "$PIN" --iface "$DEV_B" --ip-map-size 0
}

@test "--ip-map-size not a number: exit 2, one line naming the option" {
	usage_error ip-map-size attach --pin-dir "$PIN" --iface "$DEV_B" --ip-map-size lots
	usage_error ip-map-size attach --pin-dir "$PIN" --iface "$DEV_B" --ip-map-size 12x
	usage_error ip-map-size attach --pin-dir "$PIN" --iface "$DEV_B" --ip-map-size -5
}

@test "missing --iface: exit 2, one line naming it" {
	usage_error iface attach --pin-dir "$PIN"
	usage_error iface attach --pin-dir "$PIN" --attach-point tc-ingress
}

@test "other bad values and commands: exit 2, one line" {
	usage_error xdp-mode attach --pin-dir "$PIN" --iface "$DEV_B" --xdp-mode turbo
	usage_error tc-api attach --pin-dir "$PIN" --iface "$DEV_B" --attach-point tc-ingress --tc-api ioctl
	usage_error count-by attach --pin-dir "$PIN" --iface "$DEV_B" --count-by both
	usage_error flow-map-size attach --pin-dir "$PIN" --iface "$DEV_B" --flow-map-size none
	usage_error iface attach --pin-dir "$PIN" --iface
	usage_error frobnicate frobnicate --pin-dir "$PIN"
	usage_error sideways detach --pin-dir "$PIN" --iface "$DEV_B" --attach-point sideways
	usage_error sort dump-maps --pin-dir "$PIN" --sort colour
	usage_error top dump-maps --pin-dir "$PIN" --top many
	usage_error --bogus status --pin-dir "$PIN" --bogus
}

@test "unknown interface: exit 1, one line naming it, nothing attached or pinned" {
	run --separate-stderr tfc_in "$NS_B" attach --iface nosuchdev0
	echo "status $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *nosuchdev0* ]]
	nothing_done
	[ -z "$(find "$PIN" -mindepth 1 -not -type d 2>/dev/null)" ] || {
		echo "FAIL: files pinned under $PIN:" >&2
		find "$PIN" >&2
		return 1
	}
	run --separate-stderr tfc_in "$NS_B" attach --iface nosuchdev0 --attach-point tc-egress
	assert_error_status 1
	nothing_done
}

@test "reading maps that are not pinned: exit 1, one line naming the pin" {
	run --separate-stderr tfc_in "$NS_B" dump-maps
	echo "dump-maps: status $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"$PIN"* ]]
	run --separate-stderr tfc_in "$NS_B" dump-maps --pin "$PIN/nothing_here"
	echo "dump-maps --pin: status $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"$PIN/nothing_here"* ]]
	run --separate-stderr tfc_in "$NS_B" set --enable-flow-map
	echo "set: status $status, stderr '$stderr'"
	assert_error_status 1
	nothing_done
}

@test "an attach the kernel refuses (XDP offload on a veth): exit 1, one line, nothing left" {
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --xdp-mode hw
	echo "status $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"$DEV_B"* || $stderr == *hw* || $stderr == *offload* ]]
	nothing_done
}
