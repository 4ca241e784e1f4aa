#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2154 # bats: each @test is a subshell; run sets $stderr
# One pin directory counts in one network namespace (issue 13, change
# 0012): keys hold the ifindex, not the namespace, so veth-a in $NS_A and
# veth-b in $NS_B (both ifindex 2) must never count into one pin directory,
# and readers in another namespace must not name ifindex 2 after one of
# their own interfaces.

load helpers

setup() {
	tfc_e2e_setup
	make_pair nov6
	[ "$IFX_A" = "$IFX_B" ] || skip "the two veths got different ifindexes ($IFX_A, $IFX_B)"
	PIN_A="$PIN-a"
	TFCE_PINS+=("$PIN_A")
	BG_PIDS=()
}

teardown() {
	local pid
	for pid in ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	tfc_e2e_teardown
}

netns_inode() { stat -L -c %i "/run/netns/$1"; }
in_pin_a() { PIN=$PIN_A "$@"; }
first_ifindex() { status_json "$1" | jq '.attachments[0].ifindex'; }
dump_len() { dump_ip_json "$1" | jq length; }

@test "attach refuses a pin dir that counts in another namespace; the first keeps exact counts" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	run --separate-stderr tfc_in "$NS_A" attach --iface "$DEV_A" --attach-point tc-egress
	echo "attach in $NS_A: exit $status, stderr '$stderr'"
	[ "$status" -eq 1 ]
	[[ $stderr == *"network namespace $(netns_inode "$NS_B") (/run/netns/$NS_B)"* ]]
	[[ $stderr == *"--pin-dir $PIN-$NS_A"* ]]
	nothing_attached "$NS_A" "$DEV_A"
	assert_eq "$(link_pins | wc -l)" 1 "link pins"
	ping4 7
	wait_eq 5 "7 $((7 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	assert_eq "$(dump_ip_json "$NS_B" | jq -c '[.[].direction] | unique')" '["ingress"]' \
		"directions counted"
}

@test "one pin dir per namespace: both count exactly and separately" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	PIN=$PIN_A tfc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-ingress
	ping4 5
	wait_eq 5 "5 $((5 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "5 $((5 * PING4_FRAME))" in_pin_a ip_counts "$NS_A" "$B4" ingress "$IFX_A"
	assert_eq "$(dump_ip_json "$NS_B" | jq -c '[.[].ip]')" "[\"$A4\"]" "addresses in $NS_B's pin dir"
	assert_eq "$(tfc_in_pin "$PIN_A" "$NS_A" dump-maps --json | jq -c '[.[].ip]')" "[\"$B4\"]" \
		"addresses in $NS_A's pin dir"
}

@test "readers in another namespace show ifN@netns:INODE, never a local name" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	ping4 3
	wait_eq 5 "3 $((3 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	local mark host
	mark="if$IFX_B@netns:$(netns_inode "$NS_B")"
	host=$(ip -j link show | jq -r --argjson i "$IFX_B" '.[] | select(.ifindex == $i) | .ifname')
	echo "marker $mark, host interface $IFX_B: '${host:-none}'"
	# In its own namespace, the name the counter saw.
	assert_eq "$(dump_ip_json "$NS_B" | jq -r '.[0].ifname')" "$DEV_B" "ifname in $NS_B"
	# From $NS_A, where ifindex 2 is veth-a, and from the root namespace.
	assert_eq "$(tfc_in "$NS_A" dump-maps --json | jq -r '[.[].ifname] | unique | join(",")')" \
		"$mark" "dump-maps --json in $NS_A"
	assert_eq "$("$TFC_BIN" dump-maps --pin-dir "$PIN" --json | jq -r '.[0].ifname')" "$mark" \
		"dump-maps --json in the root namespace"
	local out
	out=$("$TFC_BIN" dump-maps --pin-dir "$PIN" --csv)$("$TFC_BIN" dump-maps --pin-dir "$PIN")
	[[ $out == *"$mark"* ]]
	[[ $out != *"$DEV_A"* ]]
	[ -z "$host" ] || [[ $out != *"$host"* ]]
	out=$(tfc_in "$NS_A" status --json)
	[[ $out != *"\"$DEV_A\""* ]]
	assert_eq "$(jq -r '.attachments[0].ifname' <<<"$out")" "(other netns)" "status attachment"
	# serve in $NS_A: the device label.
	local log="$BATS_TEST_TMPDIR/serve.log" url
	nsenter --net="/run/netns/$NS_A" "$TFC_BIN" serve --pin-dir "$PIN" --listen 127.0.0.1:0 \
		>"$log" 2>&1 3>&- &
	BG_PIDS+=("$!")
	wait_until 10 grep -q '^serving http' "$log"
	url=$(sed -n 's|^serving \(http://.*\)/metrics$|\1|p' "$log")
	out=$(timeout 20 nsenter --net="/run/netns/$NS_A" curl -sS --max-time 10 "$url/metrics")
	[[ $out == *"device=\"$mark\""* ]]
	[[ $out != *"device=\"$DEV_A\""* ]]
}

@test "attach removes a stale record of a deleted namespace instead of refusing for ever" {
	local ns_c="tce-$TFCE_ID-c"
	ip netns add "$ns_c"
	TFCE_NETNS+=("$ns_c")
	ip -n "$ns_c" link add d0 type veth peer name d1
	ip -n "$ns_c" link set d0 up
	tfc_in "$ns_c" attach --iface d0 --attach-point tc-egress
	ip netns del "$ns_c"
	# The namespace goes asynchronously; its link then reports ifindex 0.
	wait_eq 10 0 first_ifindex "$NS_B"
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --attach-point tc-ingress
	echo "attach: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[[ $stderr == *"network namespace or interface is gone"* ]]
	assert_eq "$(link_pins | wc -l)" 1 "link pins"
	assert_eq "$(status_json "$NS_B" | jq -r '.attachments[0].ifname')" "$DEV_B" "attachment"
}

@test "status warns once about a pin dir that records two namespaces (older versions)" {
	# As versions without the refusal left it: both namespaces' link pins
	# in one links/ (the maps of $NS_A's stay in $PIN_A: only the records
	# matter here).
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	PIN=$PIN_A tfc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	local pin
	pin=$(find "$PIN_A/links" -mindepth 1 -not -type d)
	mv "$pin" "$PIN/links/"
	run --separate-stderr tfc_in "$NS_B" status
	echo "status: exit $status, stderr '$stderr'"
	assert_eq "$(grep -c 'more than one network namespace' <<<"$stderr")" 1 "warnings"
	[[ $stderr == *"its own --pin-dir"* ]]
	# Names: the keys may mix both namespaces' ifindex 2.
	ping4 2
	wait_eq 5 1 dump_len "$NS_B"
	assert_eq "$(tfc_in "$NS_B" dump-maps --json | jq -r '[.[].ifname] | unique | join(",")')" \
		"if$IFX_B@netns:mixed" "ifnames of a mixed pin dir"
}
