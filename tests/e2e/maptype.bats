#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# attach --ip-map-type shared: one shared hash with atomic adds instead of
# the per-CPU hash (openspec/changes/0004-map-choices.md). Counts must be as
# exact, and a pinned map keeps its layout.

load helpers

# One pin directory per network namespace (openspec/changes/0012): the
# sender's ($NS_A) is $PIN-a; every helper goes through tfc_in_pin.
tfc_in_pin() {
	local pin=$1 ns=$2 cmd=$3
	shift 3
	[ "$ns" != "$NS_A" ] || [[ $pin == *-a ]] || pin=$pin-a
	timeout 60 nsenter --net="/run/netns/$ns" "$TFC_BIN" "$cmd" --pin-dir "$pin" "$@"
}

setup() {
	tfc_e2e_setup
	TFCE_PINS+=("$PIN-a")
	make_pair nov6 # IPv4 only: no MLD report can land in verify's interval
}

teardown() {
	tfc_e2e_teardown
}

@test "--ip-map-type shared: a plain hash, exact counts at xdp and tc-egress, verify agrees" {
	tfc_attach "$NS_B" --iface "$DEV_B" --ip-map-type shared
	assert_eq "$(bpftool map show pinned "$PIN/traffic_counters_ip" -j | jq -r .type)" hash \
		"IP map type"
	tfc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	ping4 6
	udp "$B4" 5000 40000 4 100 # 4 x 142-byte frames
	wait_eq 5 "$((6 + 4)) $((6 * PING4_FRAME + 4 * 142))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "$((6 + 4)) $((6 * PING4_FRAME + 4 * 142))" ip_counts "$NS_A" "$B4" egress "$IFX_A"
	# verify over traffic sent inside its interval: 5 x 142-byte frames on
	# the sender's egress, on both sides (not 0 = 0 after the traffic).
	PIN=$PIN-a verify_window "$NS_A" "$DEV_A" --json -- udp "$B4" 5000 40000 5 100
	assert_eq "$VRC" 0 "verify's exit code on the sender"
	assert_eq "$(jq -r '.ok, .directions[0].direction' <<<"$VOUT" | xargs)" "true egress" \
		"verify on the sender"
	assert_eq "$(jq -r '.directions[0] | "\(.agent_packets) \(.agent_bytes)"' <<<"$VOUT")" \
		"5 $((5 * 142))" "verify: agent packets bytes"
	# With native XDP on the peer, veth counts the bytes without the
	# Ethernet header (openspec/specs/verify.md V3): said so.
	assert_eq "$(jq -r '.directions[0] | "\(.iface_packets_min) \(.iface_packets_max) \(.iface_bytes_min) \(.iface_bytes_max) \(.iface_bytes_exclude_l2)"' <<<"$VOUT")" \
		"5 5 $((5 * 128)) $((5 * 128)) true" "verify: interface packets min max, bytes min max, no L2"
}

@test "--ip-map-type: a pinned map keeps its layout; asking for the other is refused" {
	tfc_attach "$NS_B" --iface "$DEV_B" --ip-map-type shared
	ping4 3
	run -1 tfc_in "$NS_B" attach --iface "$DEV_B" --attach-point tc-egress --ip-map-type percpu
	[[ "$output" == *"is shared, --ip-map-type asks for percpu"* ]] || {
		echo "FAIL: unexpected message: $output" >&2
		return 1
	}
	assert_eq "$(status_json "$NS_B" | jq '.attachments | length')" 1 "attachments after refusal"
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-egress # no option: keeps it
	assert_eq "$(bpftool map show pinned "$PIN/traffic_counters_ip" -j | jq -r .type)" hash \
		"IP map type kept"
	wait_eq 5 "3 $((3 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
}

@test "--ip-map-type with a bad value is a usage error" {
	run -2 "$TFC_BIN" attach --iface lo --ip-map-type atomic
	[[ "$output" == *"--ip-map-type"* ]]
}
