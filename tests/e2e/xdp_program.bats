#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2154 # bats: each @test is a subshell; run sets $status
# The XDP program choice (README: "XDP program choice"): attach takes the
# single-buffer program (data_end - data, no length helper) when the
# interface's frames fit one buffer, else the frags-aware one, and
# re-attach chooses again. Afterwards an MTU raise cannot make the single-
# buffer program undercount: in driver mode veth refuses the larger MTU,
# in skb mode the kernel linearizes each frame for that program.

load helpers

setup() {
	tfc_e2e_setup
	make_pair nov6
}

teardown() {
	tfc_e2e_teardown
}

# xdp_name NS DEV -> the name of the XDP program on DEV
xdp_name() {
	local id
	id=$(ip -n "$1" -j link show "$2" | jq -r '.[0].xdp.prog.id // empty')
	[ -n "$id" ] && bpftool -j prog show id "$id" | jq -r .name
}

# big4 COUNT: COUNT datagrams of 8000 bytes A -> B; FRAME: their frame length
big4() {
	FRAME=$((14 + 20 + 8 + 8000))
	udp "$B4" 9 9 "$1" 8000
}

@test "xdp driver, MTU 1500: the single-buffer program; veth refuses a larger peer MTU" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp
	assert_eq "$(xdp_name "$NS_B" "$DEV_B")" tfc_xdp_legacy "program at MTU 1500"
	# 3506: a 4 KiB page less XDP headroom, skb_shared_info and the
	# Ethernet header (x86-64); one more is refused while it is attached.
	run ip -n "$NS_A" link set "$DEV_A" mtu 3507
	echo "peer MTU 3507: exit $status, $output"
	[ "$status" -ne 0 ]
	[[ $output == *"mtu greater than device maximum"* ]]
	ip -n "$NS_A" link set "$DEV_A" mtu 3506
	ip -n "$NS_B" link set "$DEV_B" mtu 3506
	udp "$B4" 9 9 5 3400
	wait_eq 5 "5 $((5 * (14 + 20 + 8 + 3400)))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
}

@test "xdp driver, MTU 9000: the frags-aware program counts jumbo frames at full length" {
	set_pair_mtu 9000
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp
	assert_eq "$(xdp_name "$NS_B" "$DEV_B")" tfc_xdp "program at MTU 9000"
	big4 5
	wait_eq 5 "5 $((5 * FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
}

@test "xdp driver: the receiver at 1500 but its veth peer at 9000: the driver's refusal falls back to frags" {
	ip -n "$NS_A" link set "$DEV_A" mtu 9000
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --attach-point xdp
	echo "attach: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	# The refused first try is not an error: one line, the usual one.
	assert_eq "$stderr" "attached to $DEV_B at xdp; maps pinned in $PIN" "attach's stderr"
	assert_eq "$(xdp_name "$NS_B" "$DEV_B")" tfc_xdp "program after the refusal"
	udp "$B4" 9 9 3 100
	wait_eq 5 "3 $((3 * (14 + 20 + 8 + 100)))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
}

@test "xdp skb mode: MTU raised after attach, jumbo frames still counted at full length; re-attach switches" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp --xdp-mode skb
	assert_eq "$(xdp_name "$NS_B" "$DEV_B")" tfc_xdp_legacy "program at MTU 1500"
	set_pair_mtu 9000
	big4 5
	wait_eq 5 "5 $((5 * FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	# Re-attach in place chooses again, and no frame is lost across it.
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp --xdp-mode skb
	assert_eq "$(xdp_name "$NS_B" "$DEV_B")" tfc_xdp "program after re-attach at MTU 9000"
	big4 5
	wait_eq 5 "10 $((10 * FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	set_pair_mtu 1500
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp --xdp-mode skb
	assert_eq "$(xdp_name "$NS_B" "$DEV_B")" tfc_xdp_legacy "program after re-attach at 1500"
}
