#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# The frame cases the kernel's skb test run refuses at tc (an IPv4 or IPv6
# header cut short: BPF_PROG_TEST_RUN says EINVAL, so test_bpf cannot run
# them at tc) run at tc here for real: tc_refused lists them from the BPF
# tests' own case table, raw_send puts each one byte for byte on the
# sender's veth through AF_PACKET (dev_queue_xmit: the sender's tc-egress),
# and the veth hands it to the receiver's tc-ingress as a real skb. After
# every frame both hooks must hold exactly what the table expects, and
# nothing else.

load helpers

setup() {
	tfc_e2e_setup
	# No IPv6 on the veths (no MLD or ND) and static IPv4 neighbours (no ARP):
	# the only frames on the wire are the ones sent here.
	make_pair nov6
	PIN_A="$PIN-a"
	TFCE_PINS+=("$PIN_A")
}

teardown() {
	tfc_e2e_teardown
}

# hook_state NS PIN -> everything one hook's maps hold: per-interface
# statistics, statistic totals, dropped, and the IP map, sorted.
hook_state() {
	local st ip
	st=$(PIN=$2 status_json "$1") || return 1
	ip=$(PIN=$2 dump_ip_json "$1") || return 1
	jq -nr --argjson st "$st" --argjson ip "$ip" '
		"by_if=" + ([$st.stats_by_interface[]
			| "\(.ifindex)/\(.direction)/\(.reason):\(.packets)/\(.bytes)"] | sort | join(","))
		+ " totals=" + ([$st.stats | to_entries[]
			| select(.value.packets != 0 or .value.bytes != 0)
			| "\(.key):\(.value.packets)/\(.value.bytes)"] | sort | join(","))
		+ " dropped=\($st.dropped_packets)/\($st.dropped_bytes)\n"
		+ "ip=" + ([$ip[] | "\(.ifindex)/\(.direction)/\(.ip):\(.packets)/\(.bytes)"]
			| sort | join(","))'
}

# add_outcome HOOK IFINDEX DIRECTION OUTCOME LEN: one frame of LEN bytes into
# the expected state of HOOK (WANT: "HOOK [ip ]IFINDEX/DIR/KEY" -> "packets bytes").
add_outcome() {
	local hook=$1 ifx=$2 dir=$3 outcome=$4 len=$5 part key pk by
	local -a parts
	IFS=, read -r -a parts <<<"$outcome"
	for part in "${parts[@]}"; do
		case $part in
		stat=* | note=*) key="$hook $ifx/$dir/${part#*=}" ;;
		ip=*) key="$hook ip $ifx/$dir/${part#*=}" ;;
		*)
			echo "FAIL: tc_refused gave an outcome this test cannot read: $outcome" >&2
			return 1
			;;
		esac
		read -r pk by <<<"${WANT[$key]:-0 0}"
		WANT[$key]="$((pk + 1)) $((by + len))"
	done
}

# want_state HOOK -> what hook_state must print for HOOK after the frames so far.
want_state() {
	local hook=$1 key by_if=() totals=() ip=() pk by
	for key in "${!WANT[@]}"; do
		read -r pk by <<<"${WANT[$key]}"
		case $key in
		"$hook ip "*) ip+=("${key#"$hook ip "}:$pk/$by") ;;
		"$hook "*)
			by_if+=("${key#"$hook "}:$pk/$by")
			totals+=("${key##*/}:$pk/$by")
			;;
		esac
	done
	# One interface and direction a hook: the totals are the per-reason entries.
	printf 'by_if=%s totals=%s dropped=0/0\nip=%s\n' \
		"$(printf '%s\n' ${by_if[@]+"${by_if[@]}"} | LC_ALL=C sort | paste -sd,)" \
		"$(printf '%s\n' ${totals[@]+"${totals[@]}"} | LC_ALL=C sort | paste -sd,)" \
		"$(printf '%s\n' ${ip[@]+"${ip[@]}"} | LC_ALL=C sort | paste -sd,)"
}

# Same order as want_state's: jq's sort is by code point, as LC_ALL=C sort.
state_eq() { # state_eq NS PIN HOOK: wait (5 s at most) until the hook holds WANT
	local want
	want=$(want_state "$3")
	PIN=$2 wait_eq 5 "$want" hook_state "$1" "$2"
}

@test "frames the skb test run refuses at tc: exact counts at tc-egress and tc-ingress over a veth" {
	local list n
	list=$("$TFC_HELPERS/tc_refused")
	n=$("$TFC_HELPERS/tc_refused" -c)
	echo "tc_refused: $n cases"
	# test_bpf leaves these cases out at tc on the strength of the same list.
	[ "$n" -gt 0 ]
	assert_eq "$(grep -c '' <<<"$list")" "$n" "lines of tc_refused"
	assert_eq "$(cut -d' ' -f1 <<<"$list" | sort -u | grep -c '')" "$n" "distinct case names"

	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	PIN=$PIN_A tfc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	declare -gA WANT=()
	state_eq "$NS_A" "$PIN_A" egress
	state_eq "$NS_B" "$PIN" ingress

	local rx0 tx0 name len hex in eg sent=0 bytes=0
	rx0=$(iface_counter "$NS_B" "$DEV_B" rx)
	tx0=$(iface_counter "$NS_A" "$DEV_A" tx)
	while read -r name len hex in eg; do
		assert_eq "$((${#hex} / 2))" "$len" "$name: frame length"
		timeout 10 ip netns exec "$NS_A" "$TFC_HELPERS/raw_send" "$DEV_A" "$MAC_B" hex 1 "$hex" \
			>/dev/null
		sent=$((sent + 1)) bytes=$((bytes + len))
		add_outcome egress "$IFX_A" egress "$eg" "$len"
		add_outcome ingress "$IFX_B" ingress "$in" "$len"
		state_eq "$NS_A" "$PIN_A" egress || {
			echo "FAIL: case $name ($len bytes) at tc-egress, expected $eg" >&2
			return 1
		}
		state_eq "$NS_B" "$PIN" ingress || {
			echo "FAIL: case $name ($len bytes) at tc-ingress, expected $in" >&2
			return 1
		}
	done <<<"$list"
	assert_eq "$sent" "$n" "frames sent"

	# Every frame crossed the veth, and nothing else did.
	local rx1 tx1
	rx1=$(iface_counter "$NS_B" "$DEV_B" rx)
	tx1=$(iface_counter "$NS_A" "$DEV_A" tx)
	assert_eq "$((${rx1% *} - ${rx0% *})) $((${rx1#* } - ${rx0#* }))" "$sent $bytes" \
		"$DEV_B rx packets/bytes"
	assert_eq "$((${tx1% *} - ${tx0% *})) $((${tx1#* } - ${tx0#* }))" "$sent $bytes" \
		"$DEV_A tx packets/bytes"
	echo "sent $sent frames, $bytes bytes; tc-egress: $(hook_state "$NS_A" "$PIN_A" | tr '\n' ' ')"
	echo "tc-ingress: $(hook_state "$NS_B" "$PIN" | tr '\n' ' ')"
}
