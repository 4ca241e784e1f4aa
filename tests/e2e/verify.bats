#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# verify saying no, and why (openspec/specs/verify.md): an interface or a
# direction the agent does not watch, a program before ours dropping frames
# the interface counted, --tolerance on both sides of its boundary,
# --direction, and a full IP map (accounted for: OK).
#
# Each verify runs in the background (verify_window, helpers.bash); the
# traffic is sent once it has read its first snapshot, so every frame sent
# falls inside its window and the figures are exact.

load helpers

KEEP=6
KEEP_LEN=142 # UDP/IPv4, 100 payload bytes: 14 + 20 + 8 + 100
DROP=4
DROP_LEN=242 # 200 payload bytes

setup() {
	tfc_e2e_setup
	make_pair nov6 # no IPv6: no MLD or ND on the wire, only what a test sends
	DROP_DIR="/sys/fs/bpf/tc-e2e-$TFCE_ID-drop"
	TFCE_PINS+=("$DROP_DIR")
	mkdir -p "$DROP_DIR"
}

teardown() {
	tfc_e2e_teardown
}

# dir_field DIRECTION FIELD -> FIELD of DIRECTION in verify's JSON (VOUT)
dir_field() {
	jq -r --arg d "$1" --arg f "$2" '.directions[] | select(.direction == $d) | .[$f]' <<<"$VOUT"
}

# assert_figures DIRECTION AGENT_P AGENT_B IFACE_P IFACE_B: what verify
# reports, the interface's inner and outer bounds being equal (a quiet pair).
assert_figures() {
	local d=$1
	assert_eq "$(dir_field "$d" agent_packets) $(dir_field "$d" agent_bytes)" "$2 $3" \
		"$d: agent packets bytes" &&
		assert_eq "$(dir_field "$d" iface_packets_min) $(dir_field "$d" iface_packets_max)" \
			"$4 $4" "$d: interface packets min max" &&
		assert_eq "$(dir_field "$d" iface_bytes_min) $(dir_field "$d" iface_bytes_max)" \
			"$5 $5" "$d: interface bytes min max"
}

# send_mix: KEEP frames of KEEP_LEN and DROP of DROP_LEN, A -> B (closed port).
send_mix() {
	udp "$B4" 5000 40000 "$KEEP" 100 && udp "$B4" 5000 40000 "$DROP" 200
}

# dropper_first: traffic-counter at tc-ingress on DEV_B, then tc_drop at the
# head of the TCX chain, before it: it drops the DROP_LEN frames, which the
# interface's rx counters have counted and the agent never sees.
dropper_first() {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	[ -x "$TFC_HELPERS/tc_drop" ] || {
		echo "helper not found: $TFC_HELPERS/tc_drop (make build/tests/helpers/tc_drop)" >&2
		return 1
	}
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress "$@"
	nsenter --net="/run/netns/$NS_B" "$TFC_HELPERS/tc_drop" tcx "$DEV_B" ingress "$DROP_LEN" \
		"$DROP_DIR/link" head
}

MIX_P=$((KEEP + DROP))
MIX_B=$((KEEP * KEEP_LEN + DROP * DROP_LEN))

@test "verify: every frame sent in the window, on both sides: OK, exit 0" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	verify_window "$NS_B" "$DEV_B" --json -- send_mix
	assert_eq "$VRC" 0 "exit code"
	assert_eq "$(jq -r '.ok, (.directions | length)' <<<"$VOUT" | xargs)" "true 1" "ok, directions"
	assert_figures ingress "$MIX_P" "$MIX_B" "$MIX_P" "$MIX_B"
}

@test "verify: an interface with nothing attached fails, exit 1, saying what to do" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	# lo in the same namespace, and the peer in the other one (the pin dir's
	# attachment is on an ifindex of another namespace there).
	run --separate-stderr tfc_in "$NS_B" verify --iface lo --interval 0.1
	assert_error_status 1
	[[ "$stderr" == *"nothing is attached on lo in $PIN: attach first, or pass --direction"* ]]
	assert_eq "$output" "" "stdout"
	run --separate-stderr tfc_in "$NS_A" verify --iface "$DEV_A" --interval 0.1 --json
	assert_error_status 1
	[[ "$stderr" == *"nothing is attached on $DEV_A"* ]]
	assert_eq "$output" "" "stdout"
}

@test "verify: --direction on an interface nobody counts: MISMATCH, agent 0" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	# The sender's egress: the interface sent the frames, the agent saw none.
	verify_window "$NS_A" "$DEV_A" --direction egress --json -- send_mix
	assert_eq "$VRC" 1 "exit code"
	assert_eq "$(jq -r '.ok, .directions[0].ok, .directions[0].direction' <<<"$VOUT" | xargs)" \
		"false false egress" "ok, direction ok, direction"
	assert_figures egress 0 0 "$MIX_P" "$MIX_B"
	assert_eq "$VERR" "" "stderr"
}

@test "verify: a program before ours drops frames: MISMATCH by exactly those frames" {
	dropper_first
	verify_window "$NS_B" "$DEV_B" --json -- send_mix
	assert_eq "$VRC" 1 "exit code"
	assert_eq "$(jq -r '.ok, .directions[0].ok' <<<"$VOUT" | xargs)" "false false" "ok"
	# The interface counted all of them, the agent all but the DROP dropped ones.
	assert_figures ingress "$KEEP" "$((KEEP * KEEP_LEN))" "$MIX_P" "$MIX_B"
	# Fewer packets than the interface: not the GSO explanation.
	assert_eq "$(dir_field ingress note)" "" "note"
	# The same in text.
	verify_window "$NS_B" "$DEV_B" -- send_mix
	assert_eq "$VRC" 1 "exit code (text)"
	assert_eq "$VOUT" "$DEV_B ingress agent $KEEP packets $((KEEP * KEEP_LEN)) bytes; interface rx $MIX_P..$MIX_P packets $MIX_B..$MIX_B bytes: MISMATCH" \
		"text line"
}

@test "verify --tolerance: DROP missed frames pass at DROP, fail at DROP - 1" {
	dropper_first
	verify_window "$NS_B" "$DEV_B" --tolerance "$DROP" --json -- send_mix
	assert_eq "$VRC" 0 "exit code at --tolerance $DROP"
	assert_eq "$(jq -r .ok <<<"$VOUT")" true "ok at --tolerance $DROP"
	assert_figures ingress "$KEEP" "$((KEEP * KEEP_LEN))" "$MIX_P" "$MIX_B"
	verify_window "$NS_B" "$DEV_B" --tolerance "$((DROP - 1))" --json -- send_mix
	assert_eq "$VRC" 1 "exit code at --tolerance $((DROP - 1))"
	assert_eq "$(jq -r .ok <<<"$VOUT")" false "ok at --tolerance $((DROP - 1))"
	assert_figures ingress "$KEEP" "$((KEEP * KEEP_LEN))" "$MIX_P" "$MIX_B"
}

@test "verify --direction: only the direction asked for is checked and reported" {
	# Ingress misses the dropped frames; egress (the port-unreachable
	# replies to the frames that arrived) agrees.
	dropper_first
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-egress
	verify_window "$NS_B" "$DEV_B" --json -- send_mix
	assert_eq "$VRC" 1 "exit code, both directions"
	assert_eq "$(jq -r '[.directions[] | "\(.direction)=\(.ok)"] | join(" ")' <<<"$VOUT")" \
		"ingress=false egress=true" "directions by default"

	verify_window "$NS_B" "$DEV_B" --direction egress --json -- send_mix
	assert_eq "$VRC" 0 "exit code, --direction egress"
	assert_eq "$(jq -r '.ok, ([.directions[].direction] | join(" "))' <<<"$VOUT" | xargs)" \
		"true egress" "ok, directions with --direction egress"
	local replies
	replies=$(dir_field egress agent_packets)
	[ "$replies" -gt 0 ] && [ "$replies" -le "$KEEP" ] || {
		echo "FAIL: expected 1..$KEEP replies at egress, got $replies" >&2
		return 1
	}
	assert_eq "$(dir_field egress iface_packets_min) $(dir_field egress iface_packets_max)" \
		"$replies $replies" "egress interface packets"

	verify_window "$NS_B" "$DEV_B" --direction ingress --json -- send_mix
	assert_eq "$VRC" 1 "exit code, --direction ingress"
	assert_eq "$(jq -r '.ok, ([.directions[].direction] | join(" "))' <<<"$VOUT" | xargs)" \
		"false ingress" "ok, directions with --direction ingress"
	assert_figures ingress "$KEEP" "$((KEEP * KEEP_LEN))" "$MIX_P" "$MIX_B"
}

# ping_sources: 3 pings from each of A4 and the extra sources, in turn.
ping_sources() {
	local src
	for src in "$A4" "${EXTRA_SOURCES[@]}"; do
		ping4 3 -I "$src" || return 1
	done
}

@test "verify with the IP map full: the frames it had no room for are counted, OK" {
	add_sources 6
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress --ip-map-size 4 \
		--overflow-prefix 0
	verify_window "$NS_B" "$DEV_B" --json -- ping_sources
	# 7 sources x 3 echo requests: 4 sources get the 4 entries, the other 3
	# go to ip_map_full / dropped_packets (overflow to prefixes off), which
	# verify adds to the agent's side.
	assert_eq "$VRC" 0 "exit code"
	assert_eq "$(jq -r .ok <<<"$VOUT")" true "ok"
	assert_figures ingress 21 $((21 * PING4_FRAME)) 21 $((21 * PING4_FRAME))
	assert_eq "$(stat_counts "$NS_B" ip_map_full)" "9 $((9 * PING4_FRAME))" "ip_map_full"
	assert_eq "$(status_json "$NS_B" | jq -r '"\(.dropped_packets) \(.dropped_bytes)"')" \
		"9 $((9 * PING4_FRAME))" "dropped_packets dropped_bytes"
}

@test "verify with the IP map full and overflow on (the default): prefix rows count, OK" {
	add_sources 6
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress --ip-map-size 4
	verify_window "$NS_B" "$DEV_B" --json -- ping_sources
	# The 3 sources without an entry are counted as 198.18.0.0/24 in the prefix map.
	assert_eq "$VRC" 0 "exit code"
	assert_eq "$(jq -r .ok <<<"$VOUT")" true "ok"
	assert_figures ingress 21 $((21 * PING4_FRAME)) 21 $((21 * PING4_FRAME))
	assert_eq "$(stat_counts "$NS_B" ip_map_full)" "0 0" "ip_map_full"
	assert_eq "$(bpftool -j map dump pinned "$PIN/traffic_counters_prefix" |
		jq -c '[.[].formatted | [.key.addr[0:4], .key.prefix_len, .value.packets]]')" \
		"[[[198,18,0,0],24,9]]" "prefix row"
}

@test "verify with the IP map full and a program before ours: still MISMATCH" {
	add_sources 6
	dropper_first --ip-map-size 4 --overflow-prefix 0
	# shellcheck disable=SC2317 # called by verify_window
	both() { ping_sources && udp "$B4" 5000 40000 "$DROP" 200; }
	verify_window "$NS_B" "$DEV_B" --json -- both
	assert_eq "$VRC" 1 "exit code"
	assert_eq "$(jq -r .ok <<<"$VOUT")" false "ok"
	assert_figures ingress 21 $((21 * PING4_FRAME)) $((21 + DROP)) \
		$((21 * PING4_FRAME + DROP * DROP_LEN))
	assert_eq "$(stat_counts "$NS_B" ip_map_full)" "9 $((9 * PING4_FRAME))" "ip_map_full"
}
