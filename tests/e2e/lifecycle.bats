#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# Attach, re-attach, share, detach and purge: what stays, what goes, and
# that counters survive everything but --purge.

load helpers

setup() {
	tfc_e2e_setup
	make_pair
}

teardown() {
	tfc_e2e_teardown
}

# side POINT: sets ns/dev/ifx/dir/key for where POINT is attached and which
# address the sender's pings are counted under there.
side() {
	if [ "$1" = tc-egress ]; then
		ns=$NS_A dev=$DEV_A ifx=$IFX_A dir=egress key=$B4
	else
		ns=$NS_B dev=$DEV_B ifx=$IFX_B dir=ingress key=$A4
	fi
}

xdp_prog_on() { # xdp_prog_on NS DEV -> id of the XDP program on DEV, or "none"
	ip -n "$1" -j link show "$2" | jq -r '.[0].xdp.prog.id // "none"'
}

# reattach_case POINT [ATTACH ARGS...]
reattach_case() {
	local point=$1 ns dev ifx dir key st id1 id2
	shift
	side "$point"
	tfc_attach "$ns" --iface "$dev" --attach-point "$point" "$@"
	id1=$(prog_ids "$ns")
	assert_eq "$(wc -w <<<"$id1")" 1 "programs before re-attach"
	ping4 5
	wait_eq 5 "5 $((5 * PING4_FRAME))" ip_counts "$ns" "$key" "$dir" "$ifx"

	tfc_attach "$ns" --iface "$dev" --attach-point "$point" "$@"
	st=$(status_json "$ns")
	jq -c . <<<"$st"
	assert_eq "$(jq '.attachments | length' <<<"$st")" 1 "attachments after re-attach"
	id2=$(jq -r '.attachments[0].prog_id' <<<"$st")
	bpftool prog show id "$id2" >/dev/null
	# attach loads a new program every time and puts it in place of the old
	# one (bpf_link_update, or BPF_TC_F_REPLACE for netlink): same id means
	# nothing was replaced.
	if [ "$id1" = "$id2" ]; then
		echo "FAIL: re-attach kept program $id1: it was not replaced" >&2
		return 1
	fi
	# Replaced, not stacked: the old program is gone.
	wait_gone 5 bpftool prog show id "$id1" || {
		echo "FAIL: old program $id1 still loaded after re-attach" >&2
		return 1
	}
	if [ "$point" = xdp ]; then
		assert_eq "$(xdp_prog_on "$ns" "$dev")" "$id2" "XDP program on $dev"
	else
		local hook=${point#tc-}
		assert_eq "$(tc -n "$ns" -j filter show dev "$dev" "$hook" |
			jq -s '[.[][]? | select(.options.prog)] | length')" \
			"$([ "$(jq -r '.attachments[0].mode' <<<"$st")" = netlink ] && echo 1 || echo 0)" \
			"cls_bpf filters on $dev $hook"
	fi

	ping4 3
	wait_eq 5 "8 $((8 * PING4_FRAME))" ip_counts "$ns" "$key" "$dir" "$ifx"
}

@test "re-attach xdp replaces the program in place and counters continue" {
	reattach_case xdp
}

@test "re-attach tc-ingress (auto API) replaces the program and counters continue" {
	reattach_case tc-ingress
}

@test "re-attach tc-egress (netlink) replaces the filter and counters continue" {
	reattach_case tc-egress --tc-api netlink
}

@test "attach points and interfaces share one set of maps, kept apart by ifindex and direction" {
	# A second veth pair between the same namespaces.
	ip -n "$NS_A" link add veth-a2 type veth peer name veth-b2 netns "$NS_B"
	ip -n "$NS_A" link set veth-a2 addrgenmode none
	ip -n "$NS_B" link set veth-b2 addrgenmode none
	ip -n "$NS_A" addr add 198.18.1.1/24 dev veth-a2
	ip -n "$NS_B" addr add 198.18.1.2/24 dev veth-b2
	local mac_a2 mac_b2 ifx_b2
	mac_a2=$(ip -n "$NS_A" -j link show veth-a2 | jq -r '.[0].address')
	mac_b2=$(ip -n "$NS_B" -j link show veth-b2 | jq -r '.[0].address')
	ip -n "$NS_A" neigh add 198.18.1.2 lladdr "$mac_b2" dev veth-a2 nud permanent
	ip -n "$NS_B" neigh add 198.18.1.1 lladdr "$mac_a2" dev veth-b2 nud permanent
	ip -n "$NS_A" link set veth-a2 up
	ip -n "$NS_B" link set veth-b2 up
	ifx_b2=$(ifindex_of "$NS_B" veth-b2)

	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-egress
	tfc_attach "$NS_B" --iface veth-b2 --attach-point xdp

	local st
	st=$(status_json "$NS_B")
	jq -c . <<<"$st"
	assert_eq "$(jq '.attachments | length' <<<"$st")" 3 "attachments"
	assert_eq "$(jq -r '[.attachments[] | "\(.ifname)/\(.attach_point)"] | sort | join(",")' <<<"$st")" \
		"$DEV_B/tc-egress,$DEV_B/xdp,veth-b2/xdp" "attachments listed"
	assert_eq "$(jq '[.maps[] | select(.name == "traffic_counters_ip")] | length' <<<"$st")" 1 \
		"one IP map"

	ping4 5
	timeout 30 ip netns exec "$NS_A" ping -q -n -c 3 -s 56 -i 0.01 -W 2 198.18.1.2 >/dev/null
	# Requests in at xdp, keyed by source; replies out at tc-egress, keyed by
	# destination; the second interface apart.
	wait_eq 5 "5 $((5 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "5 $((5 * PING4_FRAME))" ip_counts "$NS_B" "$A4" egress "$IFX_B"
	wait_eq 5 "3 $((3 * PING4_FRAME))" ip_counts "$NS_B" 198.18.1.1 ingress "$ifx_b2"
	wait_eq 5 "0 0" ip_counts "$NS_B" 198.18.1.1 egress "$ifx_b2"
	assert_eq "$(dump_ip_json "$NS_B" | jq -r --argjson i "$ifx_b2" \
		'.[] | select(.ifindex == $i and .ip == "198.18.1.1") | .ifname')" veth-b2 "ifname"
}

@test "the same ifindex in another network namespace is another interface" {
	# veth-a and veth-b both have ifindex 2, each in its own namespace; each
	# namespace has its own pin dir (openspec/changes/0012).
	[ "$IFX_A" = "$IFX_B" ] || skip "the two veths got different ifindexes ($IFX_A, $IFX_B)"
	TFCE_PINS+=("$PIN-a")
	tfc_attach "$NS_B" --iface "$DEV_B"
	PIN=$PIN-a tfc_attach "$NS_A" --iface "$DEV_A"
	tfc_in_pin() { # $NS_A's commands use its own pin dir
		local pin=$1 ns=$2 cmd=$3
		shift 3
		[ "$ns" != "$NS_A" ] || pin=$pin-a
		timeout 60 nsenter --net="/run/netns/$ns" "$TFC_BIN" "$cmd" --pin-dir "$pin" "$@"
	}
	local id_a id_b
	id_a=$(xdp_prog_on "$NS_A" "$DEV_A")
	id_b=$(xdp_prog_on "$NS_B" "$DEV_B")
	echo "XDP programs: $DEV_A $id_a, $DEV_B $id_b"
	[ "$id_a" != none ] || {
		echo "FAIL: attach on $DEV_A in $NS_A reported success but nothing is attached there" >&2
		return 1
	}
	[ "$id_b" != none ] || {
		echo "FAIL: the attachment on $DEV_B in $NS_B is gone" >&2
		return 1
	}
	ping4 3
	# Requests counted at the receiver, replies at the sender.
	wait_eq 5 "3 $((3 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "3 $((3 * PING4_FRAME))" ip_counts "$NS_A" "$B4" ingress "$IFX_A"
}

# detach_case POINT MODE [ATTACH ARGS...]
detach_case() {
	local point=$1 mode=$2 ns dev ifx dir key st
	shift 2
	side "$point"
	tfc_attach "$ns" --iface "$dev" --attach-point "$point" "$@"
	st=$(status_json "$ns")
	jq -c . <<<"$st"
	assert_eq "$(jq -r '.attachments[0].mode' <<<"$st")" "$mode" "mode"
	PROG_IDS=("$(jq -r '.attachments[0].prog_id' <<<"$st")")
	if [ "$mode" != netlink ]; then
		# A bpf_link, pinned so it outlives the command.
		[ -n "$(link_pins)" ] || {
			echo "FAIL: no link pin under $PIN/links after attach" >&2
			find "$PIN" >&2
			return 1
		}
		bpftool -j link show | jq -e --argjson id "${PROG_IDS[0]}" 'any(.[]; .prog_id == $id)' \
			>/dev/null
	fi
	ping4 3
	wait_eq 5 "3 $((3 * PING4_FRAME))" ip_counts "$ns" "$key" "$dir" "$ifx"

	run --separate-stderr tfc_in "$ns" detach --iface "$dev" --attach-point "$point"
	echo "detach: status $status, stdout '$output', stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$(status_json "$ns" | jq '.attachments | length')" 0 "attachments after detach"
	nothing_attached "$ns" "$dev"
	assert_eq "$(link_pins)" "" "link pins after detach"
	map_pins_present
	# The counters outlive the attachment.
	assert_eq "$(ip_counts "$ns" "$key" "$dir" "$ifx")" "3 $((3 * PING4_FRAME))" "counts kept"
	# Frames no longer counted.
	# ping returns once its replies are in: both hooks saw every frame.
	ping4 2
	assert_eq "$(ip_counts "$ns" "$key" "$dir" "$ifx")" "3 $((3 * PING4_FRAME))" \
		"counts after detach"

	run --separate-stderr tfc_in "$ns" detach --all --purge
	echo "detach --all --purge: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	map_pins_absent
	assert_eq "$(link_pins)" "" "link pins after purge"
}

@test "detach xdp (driver): nothing left attached, link pin gone, maps kept until --purge" {
	detach_case xdp driver --xdp-mode driver
}

@test "detach xdp (skb): nothing left attached, link pin gone, maps kept until --purge" {
	detach_case xdp skb --xdp-mode skb
}

@test "detach tc-ingress (tcx): nothing left attached, link pin gone, maps kept until --purge" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	detach_case tc-ingress tcx --tc-api tcx
}

@test "detach tc-ingress (netlink): no filter left, maps kept until --purge" {
	detach_case tc-ingress netlink --tc-api netlink
}

@test "detach tc-egress (tcx): nothing left attached, link pin gone, maps kept until --purge" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	detach_case tc-egress tcx --tc-api tcx
}

@test "detach tc-egress (netlink): no filter left, maps kept until --purge" {
	detach_case tc-egress netlink --tc-api netlink
}

@test "detach --all removes every attachment and keeps the maps" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-egress --tc-api netlink
	mapfile -t PROG_IDS < <(prog_ids "$NS_B")
	assert_eq "${#PROG_IDS[@]}" 2 "attachments before"
	ping4 2
	wait_eq 5 "2 $((2 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "2 $((2 * PING4_FRAME))" ip_counts "$NS_B" "$A4" egress "$IFX_B"

	run --separate-stderr tfc_in "$NS_B" detach --all
	echo "detach --all: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$(status_json "$NS_B" | jq '.attachments | length')" 0 "attachments after"
	nothing_attached "$NS_B" "$DEV_B"
	assert_eq "$(link_pins)" "" "link pins"
	map_pins_present
	assert_eq "$(ip_counts "$NS_B" "$A4" ingress "$IFX_B")" "2 $((2 * PING4_FRAME))" "counts kept"
	assert_eq "$(ip_counts "$NS_B" "$A4" egress "$IFX_B")" "2 $((2 * PING4_FRAME))" "counts kept"
}

@test "detach --purge keeps the maps while another attachment remains" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-egress

	run --separate-stderr tfc_in "$NS_B" detach --iface "$DEV_B" --attach-point xdp --purge
	echo "detach xdp --purge: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	map_pins_present
	assert_eq "$(xdp_prog_on "$NS_B" "$DEV_B")" none "XDP program after detach"
	# tc-egress still counts (the replies) into the same maps.
	ping4 3
	wait_eq 5 "3 $((3 * PING4_FRAME))" ip_counts "$NS_B" "$A4" egress "$IFX_B"

	mapfile -t PROG_IDS < <(prog_ids "$NS_B")
	run --separate-stderr tfc_in "$NS_B" detach --iface "$DEV_B" --attach-point tc-egress --purge
	echo "detach tc-egress --purge: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	nothing_attached "$NS_B" "$DEV_B"
	map_pins_absent
	assert_eq "$(link_pins)" "" "link pins"
}

@test "a map size that differs from the pinned map is refused, nothing attached, maps kept" {
	tfc_attach "$NS_B" --iface "$DEV_B" --ip-map-size 1024 --flow-map-size 512
	local st
	st=$(status_json "$NS_B")
	assert_eq "$(jq -r '.maps[] | select(.name == "traffic_counters_ip") | .max_entries' <<<"$st")" \
		1024 "IP map size"
	assert_eq "$(jq -r '.maps[] | select(.name == "traffic_counters_flow") | .max_entries' <<<"$st")" \
		512 "flow map size"
	ping4 2
	wait_eq 5 "2 $((2 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	run --separate-stderr tfc_in "$NS_B" detach --iface "$DEV_B" --attach-point xdp
	[ "$status" -eq 0 ]

	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --ip-map-size 2048
	echo "ip size mismatch: status $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *1024* || $stderr == *2048* ]]
	nothing_attached "$NS_B" "$DEV_B"
	assert_eq "$(link_pins)" "" "link pins"
	# Refusing must not cost the pinned maps or their counters.
	map_pins_present
	assert_eq "$(ip_counts "$NS_B" "$A4" ingress "$IFX_B")" "2 $((2 * PING4_FRAME))" "counts kept"

	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --attach-point tc-ingress \
		--ip-map-size 1024 --flow-map-size 4096
	echo "flow size mismatch: status $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *512* || $stderr == *4096* ]]
	nothing_attached "$NS_B" "$DEV_B"
	assert_eq "$(status_json "$NS_B" | jq '.attachments | length')" 0 "attachments"
	map_pins_present

	# The same sizes again are fine, and the maps (with their counters) are reused.
	tfc_attach "$NS_B" --iface "$DEV_B" --ip-map-size 1024 --flow-map-size 512
	ping4 2
	wait_eq 5 "4 $((4 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
}

@test "a refused attach leaves running attachments, pinned maps and counters alone" {
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	local before
	before=$(status_json "$NS_B" | jq -c '[.attachments[] | {ifname, attach_point, prog_id}]')
	ping4 3
	wait_eq 5 "3 $((3 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"

	local args
	for args in "--iface nosuchdev0" "--iface $DEV_B --attach-point tc-egress --ip-map-size 4096" \
		"--iface $DEV_B --attach-point tc-egress --flow-map-size 64 --enable-flow-map"; do
		# shellcheck disable=SC2086 # word splitting of the option list intended
		run --separate-stderr tfc_in "$NS_B" attach $args
		echo "attach $args: status $status, stderr '$stderr'"
		assert_error_status 1
		map_pins_present
		assert_eq "$(status_json "$NS_B" | jq -c '[.attachments[] | {ifname, attach_point, prog_id}]')" \
			"$before" "attachments after a refused attach"
		assert_eq "$(status_json "$NS_B" | jq -r .enable_flow_counters)" true "flow flag kept"
	done
	ping4 2
	wait_eq 5 "5 $((5 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "5 $((5 * PING4_FRAME))" flow_counts "$NS_B" "$A4" "$B4" 0 0 1 ingress "$IFX_B"
}

@test "an XDP program attached with another pin dir is not replaced: exit 1, names it" {
	local pin2="$PIN-other" id st
	TFCE_PINS+=("$pin2")
	tfc_attach "$NS_B" --iface "$DEV_B"
	id=$(xdp_prog_on "$NS_B" "$DEV_B")
	[ "$id" != none ]

	run --separate-stderr tfc_in_pin "$pin2" "$NS_B" attach --iface "$DEV_B"
	echo "second attach: status $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"$id"* || $stderr == *tfc_xdp* ]] || {
		echo "FAIL: the message does not name the program on $DEV_B (id $id)" >&2
		return 1
	}
	assert_eq "$(xdp_prog_on "$NS_B" "$DEV_B")" "$id" "XDP program still the first one"
	local m
	for m in traffic_counters_ip traffic_counters_flow traffic_control traffic_stats; do
		[ ! -e "$pin2/$m" ] || {
			echo "FAIL: $pin2/$m pinned by the refused attach" >&2
			return 1
		}
	done
	[ -z "$(find "$pin2/links" -mindepth 1 2>/dev/null)" ]
	# The first attachment still counts.
	ping4 2
	wait_eq 5 "2 $((2 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
}

@test "a foreign XDP program (not ours) is not replaced: exit 1, names it" {
	local obj
	obj=$(dirname "$TFC_BIN")/traffic_counter.bpf.o
	[ -f "$obj" ] || skip "no BPF object at $obj to load as a foreign program"
	local fpin="$PIN-foreign" id
	TFCE_PINS+=("$fpin")
	# Loaded and attached by bpftool, without traffic-counter's pins or links.
	bpftool prog loadall "$obj" "$fpin" >/dev/null
	nsenter --net="/run/netns/$NS_B" bpftool net attach xdpdrv pinned "$fpin/tfc_xdp" dev "$DEV_B"
	id=$(xdp_prog_on "$NS_B" "$DEV_B")
	[ "$id" != none ]

	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B"
	echo "attach over a foreign program: status $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"$id"* || $stderr == *tfc_xdp* ]] || {
		echo "FAIL: the message does not name the program on $DEV_B (id $id)" >&2
		return 1
	}
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --xdp-mode skb
	echo "skb-mode attach over a foreign program: status $status, stderr '$stderr'"
	assert_error_status 1
	assert_eq "$(xdp_prog_on "$NS_B" "$DEV_B")" "$id" "foreign program still attached"
	map_pins_absent
	assert_eq "$(link_pins)" "" "link pins"
	nsenter --net="/run/netns/$NS_B" bpftool net detach xdpdrv dev "$DEV_B"
}
