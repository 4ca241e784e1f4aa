#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# Exact counting at every attach point: known frames from known addresses
# give exact per-IP and per-flow packets and bytes, every per-reason
# statistic is exact, and everything counted adds up to the interface's own
# rx (tx at egress) counters.

load helpers

setup() {
	tfc_e2e_setup
	make_pair
}

teardown() {
	tfc_e2e_teardown
}

# count_case POINT MODE [ATTACH ARGS...]
# The ingress points are attached on the receiver and count the sender's
# addresses; tc-egress is attached on the sender and counts the receiver's.
count_case() {
	local point=$1 mode=$2
	shift 2
	local ns dev ifx dir cdir k4 k6
	if [ "$point" = tc-egress ]; then
		ns=$NS_A dev=$DEV_A ifx=$IFX_A dir=egress cdir=tx k4=$B4 k6=$B6
	else
		ns=$NS_B dev=$DEV_B ifx=$IFX_B dir=ingress cdir=rx k4=$A4 k6=$A6
	fi

	tfc_attach "$ns" --iface "$dev" --attach-point "$point" --enable-flow-map "$@"

	local st prog
	st=$(status_json "$ns")
	echo "status after attach: $(jq -c . <<<"$st")"
	assert_eq "$(jq '.attachments | length' <<<"$st")" 1 "number of attachments"
	assert_eq "$(jq -r '.attachments[0].ifname' <<<"$st")" "$dev" "attachment ifname"
	assert_eq "$(jq -r '.attachments[0].ifindex' <<<"$st")" "$ifx" "attachment ifindex"
	assert_eq "$(jq -r '.attachments[0].attach_point' <<<"$st")" "$point" "attach_point"
	assert_eq "$(jq -r '.attachments[0].mode' <<<"$st")" "$mode" "attachment mode"
	assert_eq "$(jq -r '.enable_flow_counters' <<<"$st")" true "enable_flow_counters"
	prog=$(jq -r '.attachments[0].prog_id' <<<"$st")
	bpftool prog show id "$prog" >/dev/null || {
		echo "FAIL: status names prog_id $prog, which is not loaded" >&2
		return 1
	}

	local before after
	before=$(quiet_snapshot "$ns" "$ns" "$dev" "$cdir")

	# Known traffic, sender -> receiver.
	ping4 5
	ping6 4
	udp "$B4" 5000 40000 7 100 # 7 x (14 + 20 + 8 + 100) = 7 x 142
	udp "$B6" 5001 40001 6 300 # 6 x (14 + 40 + 8 + 300) = 6 x 362
	local kind len_vlan len_l4 len_ext
	raw vlan-ipv4 3 "$A4" "$B4" # counted under the address
	len_vlan=$RAW_LEN
	raw l4-trunc 2 "$A4" "$B4" # counted, and remarked as l4_truncated
	len_l4=$RAW_LEN
	raw ipv6-ext 2 "$A6" "$B6" # counted, and remarked as ipv6_ext_limit
	len_ext=$RAW_LEN
	declare -A bad_len
	local -A reason=([nonip]=non_ip [ipv4-trunc]=ipv4_truncated [ipv4-badver]=ipv4_bad_version
		[ipv4-badihl]=ipv4_bad_ihl [ipv4-badlen]=ipv4_bad_length [vlan-deep]=vlan_too_deep
		[ipv6-trunc]=ipv6_truncated [ipv6-badver]=ipv6_bad_version)
	for kind in nonip ipv4-trunc ipv4-badver ipv4-badihl ipv4-badlen vlan-deep; do
		raw "$kind" 2 "$A4" "$B4"
		bad_len[$kind]=$RAW_LEN
	done
	for kind in ipv6-trunc ipv6-badver; do
		raw "$kind" 2 "$A6" "$B6"
		bad_len[$kind]=$RAW_LEN
	done

	# Per address (only the test's own addresses: exact).
	local p4=$((5 + 7 + 3 + 2)) b4=$((5 * PING4_FRAME + 7 * 142 + 3 * len_vlan + 2 * len_l4))
	local p6=$((4 + 6 + 2)) b6=$((4 * PING6_FRAME + 6 * 362 + 2 * len_ext))
	wait_eq 5 "$p4 $b4" ip_counts "$ns" "$k4" "$dir" "$ifx"
	wait_eq 5 "$p6 $b6" ip_counts "$ns" "$k6" "$dir" "$ifx"

	# Nothing under the other direction, and ifname resolved.
	local ipdump
	ipdump=$(dump_ip_json "$ns")
	echo "ip map: $(jq -c . <<<"$ipdump")"
	assert_eq "$(jq --arg d "$dir" 'all(.[]; .direction == $d)' <<<"$ipdump")" true \
		"every entry has direction $dir"
	assert_eq "$(jq -r --arg ip "$k4" '.[] | select(.ip == $ip) | "\(.family) \(.ifname)"' <<<"$ipdump")" \
		"4 $dev" "family and ifname of $k4"
	assert_eq "$(jq -r --arg ip "$k6" '.[] | select(.ip == $ip) | "\(.family) \(.ifname)"' <<<"$ipdump")" \
		"6 $dev" "family and ifname of $k6"

	# Per flow: UDP with its ports, ICMP and ICMPv6 with ports 0.
	wait_eq 5 "7 $((7 * 142))" flow_counts "$ns" "$A4" "$B4" 40000 5000 17 "$dir" "$ifx"
	wait_eq 5 "6 $((6 * 362))" flow_counts "$ns" "$A6" "$B6" 40001 5001 17 "$dir" "$ifx"
	wait_eq 5 "5 $((5 * PING4_FRAME))" flow_counts "$ns" "$A4" "$B4" 0 0 1 "$dir" "$ifx"
	wait_eq 5 "4 $((4 * PING6_FRAME))" flow_counts "$ns" "$A6" "$B6" 0 0 58 "$dir" "$ifx"
	wait_eq 5 "3 $((3 * len_vlan))" flow_counts "$ns" "$A4" "$B4" 4000 4001 17 "$dir" "$ifx"
	wait_eq 5 "2 $((2 * len_l4))" flow_counts "$ns" "$A4" "$B4" 0 0 17 "$dir" "$ifx"
	local flows
	flows=$(dump_flow_json "$ns")
	echo "flow map: $(jq -c . <<<"$flows")"
	assert_eq "$(jq --argjson ifx "$ifx" --arg dev "$dev" 'all(.[] | select(.ifindex == $ifx);
		.ifname == $dev and .first_seen_ns > 0 and .last_seen_ns >= .first_seen_ns
		and .tcp_flags == 0)' <<<"$flows")" true "flow ifname, timestamps and tcp_flags"
	assert_eq "$(jq -r '[.[] | select(.proto == 17 and .sport == 40000)][0]
		| "\(.family) \(.src) \(.dst)"' <<<"$flows")" "4 $A4 $B4" "UDP/IPv4 flow addresses"

	# Every statistic exact: the bad frames, and the remarks on counted ones.
	for kind in "${!reason[@]}"; do
		wait_eq 5 "2 $((2 * ${bad_len[$kind]}))" stat_counts "$ns" "${reason[$kind]}"
	done
	wait_eq 5 "0 0" stat_counts "$ns" truncated_l2
	wait_eq 5 "2 $((2 * len_l4))" stat_counts "$ns" l4_truncated
	wait_eq 5 "2 $((2 * len_ext))" stat_counts "$ns" ipv6_ext_limit
	st=$(status_json "$ns")
	assert_eq "$(jq -r '"\(.dropped_packets) \(.dropped_bytes)"' <<<"$st")" "0 0" "dropped"

	# Everything counted == the interface's own counter, over the same span.
	after=$(quiet_snapshot "$ns" "$ns" "$dev" "$cdir")
	echo "snapshots (ifpackets ifbytes counted_packets counted_bytes): $before -> $after"
	local -a b a
	read -r -a b <<<"$before"
	read -r -a a <<<"$after"
	local ifp=$((a[0] - b[0])) ifb=$((a[1] - b[1])) cp=$((a[2] - b[2])) cb=$((a[3] - b[3]))
	if [ "$point" = xdp ] && [ "$mode" = driver ]; then
		# veth quirk: with a native XDP program the frames take veth's NAPI
		# path, whose rx/tx byte counters are taken after eth_type_trans, so
		# they leave out the 14-byte Ethernet header the program (and every
		# real NIC's counter) includes. Packets are unaffected.
		ifb=$((ifb + 14 * ifp))
	fi
	assert_eq "$cp" "$ifp" "frames counted vs $dev $cdir packets"
	assert_eq "$cb" "$ifb" "bytes counted vs $dev $cdir bytes"
	# The known traffic is all in there.
	[ "$cp" -ge $((p4 + p6 + 16)) ]
}

@test "xdp driver mode: exact per-IP, per-flow and per-reason counts; totals match rx" {
	count_case xdp driver --xdp-mode driver
}

@test "xdp skb mode: exact per-IP, per-flow and per-reason counts; totals match rx" {
	count_case xdp skb --xdp-mode skb
}

@test "tc-ingress over TCX: exact per-IP, per-flow and per-reason counts; totals match rx" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	count_case tc-ingress tcx --tc-api tcx
}

@test "tc-ingress over netlink (clsact + cls_bpf): exact counts; totals match rx" {
	count_case tc-ingress netlink --tc-api netlink
}

@test "tc-egress over TCX: exact per-IP (by destination), per-flow counts; totals match tx" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	count_case tc-egress tcx --tc-api tcx
}

@test "tc-egress over netlink (clsact + cls_bpf): exact counts; totals match tx" {
	count_case tc-egress netlink --tc-api netlink
}

@test "defaults: xdp in driver mode, tc through TCX when the kernel has it" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	# The sender's tc-ingress sees the replies (own pin dir: the same ifindex
	# in two namespaces is tested in lifecycle.bats).
	local pin_a="$PIN-a"
	TFCE_PINS+=("$pin_a")
	PIN=$pin_a tfc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-ingress
	local st want=netlink
	kernel_has_tcx && want=tcx
	st=$(status_json "$NS_B")
	jq -c . <<<"$st"
	assert_eq "$(jq -r '.attachments[] | select(.attach_point == "xdp") | .mode' <<<"$st")" \
		driver "default XDP mode"
	assert_eq "$(jq -r '.enable_flow_counters' <<<"$st")" false "flow counting off by default"
	assert_eq "$(jq -r '.maps[] | select(.name == "traffic_counters_ip") | .max_entries' <<<"$st")" \
		65536 "default IP map size"
	assert_eq "$(jq -r '.maps[] | select(.name == "traffic_counters_flow") | .max_entries' <<<"$st")" \
		32768 "default flow map size"
	st=$(PIN=$pin_a status_json "$NS_A")
	jq -c . <<<"$st"
	assert_eq "$(jq -r '.attachments[] | select(.attach_point == "tc-ingress") | .mode' <<<"$st")" \
		"$want" "tc API chosen by --tc-api auto"
	ping4 4
	wait_eq 5 "4 $((4 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	PIN=$pin_a wait_eq 5 "4 $((4 * PING4_FRAME))" ip_counts "$NS_A" "$B4" ingress "$IFX_A"
}
