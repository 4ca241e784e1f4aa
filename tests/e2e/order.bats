#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# Order on a tc hook shared with other programs: traffic-counter runs first
# (TCX: head of the chain; netlink: cls_bpf at prio 1), so it counts frames a
# later program drops; detaching it leaves the other program in place.
#
# The other program is tests/helpers/tc_drop: it drops every frame of
# DROP_LEN bytes. Each round sends KEEP frames it keeps and DROP frames it
# drops, as UDP to a closed port: the receiver's UDP NoPorts counter says how
# many really arrived.

load helpers

KEEP=6
KEEP_LEN=142 # UDP/IPv4, 100 payload bytes: 14 + 20 + 8 + 100
DROP=4
DROP_LEN=242 # 200 payload bytes
ALL="$((KEEP + DROP)) $((KEEP * KEEP_LEN + DROP * DROP_LEN))"
KEPT="$KEEP $((KEEP * KEEP_LEN))"

setup() {
	tfc_e2e_setup
	make_pair nov6
	DROP_DIR="/sys/fs/bpf/tc-e2e-$TFCE_ID-drop"
	TFCE_PINS+=("$DROP_DIR")
	mkdir -p "$DROP_DIR"
	[ -x "$TFC_HELPERS/tc_drop" ] || {
		echo "helper not found: $TFC_HELPERS/tc_drop (make build/tests/helpers/tc_drop)" >&2
		return 1
	}
}

teardown() {
	tfc_e2e_teardown
}

# side POINT: ns/dev/ifx/dir/key where POINT is attached, and hook (tc's
# name for it) and key (the address the sender's frames are counted under).
side() {
	if [ "$1" = tc-egress ]; then
		ns=$NS_A dev=$DEV_A ifx=$IFX_A dir=egress hook=egress key=$B4
	else
		ns=$NS_B dev=$DEV_B ifx=$IFX_B dir=ingress hook=ingress key=$A4
	fi
}

# udp_noports -> datagrams the receiver got for closed ports so far
udp_noports() {
	# shellcheck disable=SC2016 # $i is awk's field, not the shell's
	nsenter --net="/run/netns/$NS_B" awk '/^Udp:/ { if (h) { print $i; exit }
		for (i = 1; i <= NF; i++) if ($i == "NoPorts") break; h = 1 }' /proc/net/snmp
}

# send_round: KEEP + DROP frames A -> B; sets ARRIVED to how many got there.
send_round() {
	local before
	before=$(udp_noports)
	udp "$B4" 5000 40000 "$KEEP" 100
	udp "$B4" 5000 40000 "$DROP" 200
	# Arrival is synchronous with the sender's veth transmit: no wait needed.
	ARRIVED=$(($(udp_noports) - before))
}

# round EXPECTED_COUNTED: one round, counted as EXPECTED on top of what was
# counted before, and only the kept frames arrived.
round() {
	local prev=$1 want=$2
	send_round
	wait_eq 5 "$((${prev% *} + ${want% *})) $((${prev#* } + ${want#* }))" \
		ip_counts "$ns" "$key" "$dir" "$ifx"
	assert_eq "$ARRIVED" "$KEEP" "frames that reached the receiver (the dropper ran)"
}

drop_tcx() { # drop_tcx [head]: the dropper as a TCX link, pinned at $DROP_DIR/link
	nsenter --net="/run/netns/$ns" "$TFC_HELPERS/tc_drop" tcx "$dev" "$hook" "$DROP_LEN" \
		"$DROP_DIR/link" "$@"
}

drop_cls() { # drop_cls PRIO HANDLE: the dropper as a cls_bpf filter
	nsenter --net="/run/netns/$ns" "$TFC_HELPERS/tc_drop" cls "$dev" "$hook" "$DROP_LEN" "$@"
}

# only_dropper_left PRIO: our attachment gone, the dropper still attached
# (PRIO: its cls_bpf filter; empty: its TCX link) and still dropping.
only_dropper_left() {
	local prio=$1 st
	st=$(status_json "$ns")
	assert_eq "$(jq '.attachments | length' <<<"$st")" 0 "our attachments after detach"
	if [ -n "$prio" ]; then
		assert_eq "$(tc -n "$ns" -j filter show dev "$dev" "$hook" |
			jq '[.[] | select(.options.prog.name == "tc_drop")] | length')" 1 \
			"the dropper's filter on $dev $hook"
		assert_eq "$(tc -n "$ns" -j filter show dev "$dev" "$hook" |
			jq '[.[] | select(.options.prog.name == "tfc_tc_ingress" or
				.options.prog.name == "tfc_tc_egress")] | length')" 0 "our filters on $dev $hook"
	else
		bpftool link show pinned "$DROP_DIR/link"
	fi
	send_round
	assert_eq "$ARRIVED" "$KEEP" "frames that reached the receiver after our detach"
}

# ------------------------------------------------------------------ TCX --

# tcx_first_case POINT: the dropper is attached first, traffic-counter
# second; traffic-counter still runs first, also after a re-attach.
tcx_first_case() {
	local ns dev ifx dir hook key
	side "$1"
	drop_tcx
	tfc_attach "$ns" --iface "$dev" --attach-point "$1"
	assert_eq "$(status_json "$ns" | jq -r '.attachments[0].mode')" tcx "mode"
	round "0 0" "$ALL"
	# A re-attach replaces the program inside the link: same place in the chain.
	tfc_attach "$ns" --iface "$dev" --attach-point "$1"
	round "$ALL" "$ALL"
	tfc_in "$ns" detach --iface "$dev" --attach-point "$1"
	only_dropper_left ""
}

@test "tcx tc-ingress: counts frames a TCX program attached earlier drops" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	tcx_first_case tc-ingress
}

@test "tcx tc-egress: counts frames a TCX program attached earlier drops" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	tcx_first_case tc-egress
}

@test "tcx: a program attached later runs after us, unless it asks for the head itself" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	local ns dev ifx dir hook key
	side tc-ingress
	tfc_attach "$ns" --iface "$dev" --attach-point tc-ingress
	drop_tcx # appended: after us
	round "0 0" "$ALL"
	rm "$DROP_DIR/link" # the pin held the only reference: detached
	# The last program that asks for the head gets it: TCX has no "always first".
	drop_tcx head
	round "$ALL" "$KEPT"
}

@test "tcx: counts frames a clsact filter at prio 1 drops (TCX runs before clsact)" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	local ns dev ifx dir hook key
	side tc-ingress
	drop_cls 1 1
	tfc_attach "$ns" --iface "$dev" --attach-point tc-ingress
	assert_eq "$(status_json "$ns" | jq -r '.attachments[0].mode')" tcx "mode"
	round "0 0" "$ALL"
	tfc_in "$ns" detach --iface "$dev" --attach-point tc-ingress
	only_dropper_left 1
}

# -------------------------------------------------------------- netlink --

# netlink_first_case POINT: a cls_bpf dropper at prio 2 first, then
# traffic-counter at prio 1, which runs first.
netlink_first_case() {
	local ns dev ifx dir hook key
	side "$1"
	drop_cls 2 1
	tfc_attach "$ns" --iface "$dev" --attach-point "$1" --tc-api netlink
	tc -n "$ns" filter show dev "$dev" "$hook"
	round "0 0" "$ALL"
	assert_eq "$(tc -n "$ns" -j filter show dev "$dev" "$hook" | jq -r --arg n "tfc_tc_$hook" '
		.[] | select(.options.prog.name == $n) | "\(.pref) \(.options.handle)"')" \
		"1 0x7c01" "our filter's prio and handle"
	tfc_attach "$ns" --iface "$dev" --attach-point "$1" --tc-api netlink
	round "$ALL" "$ALL"
	tfc_in "$ns" detach --iface "$dev" --attach-point "$1"
	only_dropper_left 2
}

@test "netlink tc-ingress: counts frames a filter at prio 2 drops" {
	netlink_first_case tc-ingress
}

@test "netlink tc-egress: counts frames a filter at prio 2 drops" {
	netlink_first_case tc-egress
}

@test "netlink: at prio 1 with another cls_bpf filter, the one added last runs first" {
	local ns dev ifx dir hook key
	side tc-ingress
	drop_cls 1 1
	tfc_attach "$ns" --iface "$dev" --attach-point tc-ingress --tc-api netlink
	round "0 0" "$ALL"
	# Another dropper of the same kind at prio 1, added after us: before us.
	tc -n "$ns" filter del dev "$dev" ingress pref 1 handle 1 bpf
	drop_cls 1 2
	round "$ALL" "$KEPT"
	tfc_in "$ns" detach --iface "$dev" --attach-point tc-ingress
	only_dropper_left 1
}

@test "netlink: prio 1 held by another kind of filter: prio 31745 with a warning, prio 1 once free" {
	local ns dev ifx dir hook key out
	side tc-ingress
	# A u32 filter that accepts (ends classification for) the dropped size's
	# frames: the kernel keeps one kind of filter per prio.
	tc -n "$ns" qdisc add dev "$dev" clsact
	tc -n "$ns" filter add dev "$dev" ingress prio 1 protocol ip u32 \
		match u16 "$((DROP_LEN - 14))" 0xffff at 2 classid 1:1
	out=$(tfc_in "$ns" attach --iface "$dev" --attach-point tc-ingress --tc-api netlink 2>&1)
	echo "$out"
	[[ $out == *"warning: $dev ingress: prio 1 holds tc filters of another kind"* ]] || {
		echo "FAIL: no warning about prio 1" >&2
		return 1
	}
	assert_eq "$(tc -n "$ns" -j filter show dev "$dev" ingress |
		jq -r '.[] | select(.options.prog.name == "tfc_tc_ingress") | .pref')" 31745 "our prio"
	send_round
	# The u32 filter accepted the 242-byte frames before we saw them.
	wait_eq 5 "$KEPT" ip_counts "$ns" "$key" "$dir" "$ifx"
	assert_eq "$ARRIVED" "$((KEEP + DROP))" "frames that reached the receiver"

	tc -n "$ns" filter del dev "$dev" ingress pref 1
	tfc_attach "$ns" --iface "$dev" --attach-point tc-ingress --tc-api netlink
	assert_eq "$(tc -n "$ns" -j filter show dev "$dev" ingress |
		jq -r '[.[] | select(.options.prog.name == "tfc_tc_ingress") | .pref] | join(" ")')" 1 \
		"our filters' prios after the move"
	drop_cls 2 1
	round "$KEPT" "$ALL"
}

# What an older build left: the program pinned, its filter at prio 0x7c01
# (this build's filter moved there by hand).
make_legacy_filter() {
	local pin
	tfc_attach "$ns" --iface "$dev" --attach-point tc-ingress --tc-api netlink
	if [ -n "$(tc -n "$ns" filter show dev "$dev" ingress pref 1)" ]; then
		pin=$(link_pins)
		nsenter --net="/run/netns/$ns" tc filter add dev "$dev" ingress pref 31745 \
			handle 0x7c01 bpf da object-pinned "$pin"
		tc -n "$ns" filter del dev "$dev" ingress pref 1 handle 0x7c01 bpf
	fi
	tc -n "$ns" filter show dev "$dev" ingress
}

@test "netlink: a filter an older build left at prio 0x7c01 is moved to prio 1 on re-attach" {
	local ns dev ifx dir hook key st
	side tc-ingress
	make_legacy_filter
	drop_cls 2 1
	st=$(status_json "$ns")
	assert_eq "$(jq -r '.attachments[0] | "\(.mode) \(.ifindex)"' <<<"$st")" "netlink $ifx" \
		"status of the old filter"
	round "0 0" "$KEPT" # at 0x7c01 it ran after the prio 2 dropper

	tfc_attach "$ns" --iface "$dev" --attach-point tc-ingress --tc-api netlink
	assert_eq "$(tc -n "$ns" -j filter show dev "$dev" ingress |
		jq -r '[.[] | select(.options.prog.name == "tfc_tc_ingress") | .pref] | join(" ")')" 1 \
		"our filters' prios after re-attach"
	round "$KEPT" "$ALL"
	tfc_in "$ns" detach --iface "$dev" --attach-point tc-ingress
	only_dropper_left 2
}

@test "netlink: detach removes a filter an older build left at prio 0x7c01" {
	local ns dev ifx dir hook key
	side tc-ingress
	make_legacy_filter
	tfc_in "$ns" detach --iface "$dev" --attach-point tc-ingress
	assert_eq "$(tc -n "$ns" -j filter show dev "$dev" ingress | jq length)" 0 \
		"filters left on $dev ingress"
	assert_eq "$(link_pins)" "" "link pins left"
}
