#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# What a new user hit (issue 13): messages that say what happened and what
# to do, successes that last, and options scripts can rely on.

load helpers

setup() {
	tfc_e2e_setup
	make_pair nov6
	CONFIG=$BATS_TEST_TMPDIR/traffic-counter.conf
}

teardown() {
	tfc_e2e_teardown
}

@test "apply --config DIR: says it is a directory, not an I/O error" {
	local dir=$BATS_TEST_TMPDIR/conf.d
	mkdir -p "$dir"
	for check in --check ""; do
		# shellcheck disable=SC2086 # an empty $check is no argument
		run --separate-stderr tfc_in "$NS_B" apply $check --config "$dir"
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
	run --separate-stderr tfc_in "$NS_B" apply --check --config "$CONFIG"
	echo "status $status, stdout '$output', stderr '$stderr'"
	# One line for the missing interface however often it is named.
	assert_error_status 1
	[[ $stderr == *"$CONFIG:1: ATTACH: no interface 'tce-none0' in this network namespace"* ]]
	[[ $stderr != *"'$DEV_B'"* ]]
	[[ $output != *valid* ]]
	map_pins_absent

	# Every interface there: valid, exit 0.
	printf 'ATTACH="%s:xdp"\n' "$DEV_B" >"$CONFIG"
	run --separate-stderr tfc_in "$NS_B" apply --check --config "$CONFIG"
	[ "$status" -eq 0 ]
	[[ $output == "$CONFIG: valid"* ]]
	map_pins_absent
}

@test "detach --if-attached: nothing to detach is a notice and exit 0; without it, exit 1" {
	# Nothing attached on the interface (the pin directory does not exist).
	run --separate-stderr tfc_in "$NS_B" detach --iface "$DEV_B"
	assert_error_status 1
	run --separate-stderr tfc_in "$NS_B" detach --iface "$DEV_B" --if-attached
	echo "detach --iface --if-attached: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[[ $stderr == "nothing attached by traffic-counter at xdp on $DEV_B"*"nothing to detach" ]]

	# --all, and --all --purge, with no pin directory at all.
	run --separate-stderr tfc_in "$NS_B" detach --all
	assert_error_status 1
	local args
	for args in "--all" "--all --purge" "--iface $DEV_B --purge"; do
		# shellcheck disable=SC2086 # the words of $args
		run --separate-stderr tfc_in "$NS_B" detach $args --if-attached
		echo "detach $args --if-attached: status $status, stderr '$stderr'"
		[ "$status" -eq 0 ]
		[[ $stderr == *"nothing to detach" ]]
	done
	[ ! -e "$PIN" ]

	# Something attached: --if-attached detaches it as usual.
	tfc_attach "$NS_B" --iface "$DEV_B"
	run --separate-stderr tfc_in "$NS_B" detach --iface "$DEV_B" --if-attached
	[ "$status" -eq 0 ]
	[[ $stderr == "detached xdp from $DEV_B" ]]
	nothing_attached "$NS_B" "$DEV_B"
	# And once more: now nothing is there, on an existing pin directory.
	run --separate-stderr tfc_in "$NS_B" detach --iface "$DEV_B" --if-attached
	[ "$status" -eq 0 ]
	[[ $stderr == *"nothing to detach" ]]
}

@test "detach --purge: says every path it removed" {
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	run --separate-stderr tfc_in "$NS_B" detach --all --purge
	echo "$stderr"
	[ "$status" -eq 0 ]
	local m
	for m in traffic_counters_ip traffic_counters_flow traffic_control traffic_stats; do
		[[ $stderr == *"removed $PIN/$m"* ]] || {
			echo "FAIL: detach --purge does not say it removed $PIN/$m" >&2
			return 1
		}
	done
	# The pin directory itself went too, and says so (last line).
	[ ! -e "$PIN" ]
	assert_eq "$(tail -n 1 <<<"$stderr")" "removed $PIN" "last line"
	nothing_attached "$NS_B" "$DEV_B"
}

# reattach_says POINT [ARGS...]: attach twice at POINT; the second says which
# program it replaced with which, and that the counters stay.
reattach_says() {
	local ap=$1 old new
	shift
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --attach-point "$ap" "$@"
	[ "$status" -eq 0 ]
	assert_eq "$stderr" "attached to $DEV_B at $ap; maps pinned in $PIN" "first attach"
	old=$(prog_ids "$NS_B")
	ping4 2
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --attach-point "$ap" "$@"
	[ "$status" -eq 0 ]
	new=$(prog_ids "$NS_B")
	echo "$ap: program $old, then $new; stderr '$stderr'"
	[ -n "$old" ] && [ -n "$new" ] && [ "$old" != "$new" ]
	assert_eq "$stderr" \
		"$DEV_B at $ap: replaced program $old with $new in place; counters kept (maps in $PIN)" \
		"re-attach"
	# Counters kept indeed.
	wait_eq 5 "2 $((2 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
}

@test "re-attach says it replaced program N with M and kept the counters (xdp)" {
	reattach_says xdp
}

@test "re-attach says it replaced program N with M and kept the counters (tc netlink)" {
	reattach_says tc-ingress --tc-api netlink
}

@test "re-attach says it replaced program N with M and kept the counters (tcx)" {
	kernel_has_tcx || skip "TCX needs Linux >= 6.6"
	reattach_says tc-ingress --tc-api tcx
}

@test "attach where our XDP program from another pin directory counts: names it, no tc-ingress advice" {
	local other=$PIN-other
	TFCE_PINS+=("$other")
	tfc_in_pin "$other" "$NS_B" attach --iface "$DEV_B" >/dev/null
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B"
	echo "status $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"traffic-counter's own program"*"another pin directory, $other"* ]]
	[[ $stderr == *"--pin-dir $other"* ]]
	[[ $stderr == *"detach --iface $DEV_B --pin-dir $other"* ]]
	[[ $stderr != *"does not own"* && $stderr != *"use --attach-point tc-ingress"* ]]
	map_pins_absent
	# The way out it gives works: detach there, then attach here.
	tfc_in_pin "$other" "$NS_B" detach --iface "$DEV_B" --purge >/dev/null 2>&1
	tfc_attach "$NS_B" --iface "$DEV_B"
	assert_eq "$(status_json "$NS_B" | jq '.attachments | length')" 1 "attachments here"
}

@test "ip netns exec NS traffic-counter attach: refused before attaching, with the nsenter way out" {
	# The one place this project runs traffic-counter under ip netns exec:
	# it is the mistake under test.
	run --separate-stderr timeout 60 ip netns exec "$NS_B" "$TFC_BIN" attach --iface "$DEV_B" \
		--pin-dir "$PIN"
	echo "status $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"'ip netns exec'"*"nsenter --net=/run/netns/$NS_B traffic-counter"* ]]
	nothing_attached "$NS_B" "$DEV_B"
	[ ! -e "$PIN" ]
	# apply goes through the same attach.
	printf 'ATTACH="%s:xdp"\n' "$DEV_B" >"$CONFIG"
	run --separate-stderr timeout 60 ip netns exec "$NS_B" "$TFC_BIN" apply --config "$CONFIG" \
		--pin-dir "$PIN"
	[ "$status" -eq 1 ]
	[[ $stderr == *"nsenter --net=/run/netns/$NS_B"* ]]
	nothing_attached "$NS_B" "$DEV_B"

	# The way out it gives: attached, and still attached after it exits.
	tfc_attach "$NS_B" --iface "$DEV_B"
	ping4 2
	wait_eq 5 "2 $((2 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
}

@test "a private mount namespace with a bpffs of its own still attaches (not ip netns exec)" {
	# As privileges.bats and claims_attach.bats do: the refusal above must
	# not catch a bpffs mounted in a private mount namespace.
	# shellcheck disable=SC2016 # expanded by the inner shell
	run --separate-stderr timeout 120 unshare --mount --propagation private bash -c '
		mount -t bpf bpf /sys/fs/bpf || exit 97
		nsenter --net="/run/netns/$1" "$2" attach --iface "$3" --pin-dir "$4" || exit $?
		nsenter --net="/run/netns/$1" "$2" status --json --pin-dir "$4"
		nsenter --net="/run/netns/$1" "$2" detach --all --purge --pin-dir "$4" 2>/dev/null' \
		_ "$NS_B" "$TFC_BIN" "$DEV_B" "$PIN"
	echo "status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[[ $stderr == "attached to $DEV_B at xdp; maps pinned in $PIN" ]]
	assert_eq "$(jq -r '[.attachments[] | "\(.ifname) \(.attach_point)"] | join(",")' <<<"$output")" \
		"$DEV_B xdp" "attachments in the private bpffs"
}
