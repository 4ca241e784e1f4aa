#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# GSO and GRO: at tc one skb can stand for many wire packets. traffic-counter
# counts the wire packets (gso_segs, each with its own headers), as a NIC's
# counters do, so the counts do not depend on offload settings. The oracle
# for packets is the sender's TcpOutSegs + TcpRetransSegs (TCP segments
# sent, counted per wire segment by the stack); for bytes, the frames XDP
# sees on the peer once the veth must segment (a peer with XDP cannot take
# GSO packets).

load helpers

setup() {
	tc_e2e_setup
	need_tools iperf3 ethtool nstat
	make_pair nov6
}

teardown() {
	tc_e2e_teardown
}

# tcp_out_segs -> TCP segments the sender put out: TcpOutSegs leaves out
# retransmissions, which are on the wire too (absolute, history untouched)
tcp_out_segs() {
	ip netns exec "$NS_A" nstat -asz TcpOutSegs TcpRetransSegs |
		awk '$1 == "TcpOutSegs" || $1 == "TcpRetransSegs" { n += $2 } END { print n + 0 }'
}

# bulk: 2 s of TCP from A to B at 200 Mbit/s (bounded rate: no queue drops,
# so every segment the sender counts reaches every hook).
bulk() {
	ip netns exec "$NS_B" timeout 20 iperf3 -s -1 -B "$B4" -p 5201 >/dev/null 2>&1 &
	local srv=$! i
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$NS_B" ss -Hltn 'sport = :5201' | grep -q LISTEN && break
		sleep 0.1
	done
	timeout 15 ip netns exec "$NS_A" iperf3 -c "$B4" -p 5201 -t 2 -b 200M >/dev/null
	wait "$srv"
}

# offloads DEV NS on|off: GSO and TSO of the sender, or GRO of the receiver.
gso() { ip netns exec "$NS_A" ethtool -K "$DEV_A" gso "$1" tso "$1"; }
gro() { ip netns exec "$NS_B" ethtool -K "$DEV_B" gro "$1"; }

# run_bulk: BULK_SEGS (TcpOutSegs delta), EGRESS and INGRESS ("packets bytes"
# counted at A's egress for B and at B's ingress for A) and TX (A's device).
run_bulk() {
	local s0 t0 t1
	s0=$(tcp_out_segs)
	t0=$(iface_counter "$NS_A" "$DEV_A" tx)
	bulk
	sleep 0.5 # let the last segments and ACKs drain
	BULK_SEGS=$(($(tcp_out_segs) - s0))
	t1=$(iface_counter "$NS_A" "$DEV_A" tx)
	TX_PACKETS=$((${t1% *} - ${t0% *}))
	EGRESS=$(ip_counts "$NS_A" "$B4" egress "$IFX_A")
	INGRESS=$(ip_counts "$NS_B" "$A4" ingress "$IFX_B")
	echo "TcpOutSegs +$BULK_SEGS; egress $EGRESS; ingress $INGRESS; device tx +$TX_PACKETS"
	[ "$BULK_SEGS" -gt 1000 ] || {
		echo "FAIL: only $BULK_SEGS segments sent: the bulk transfer did not run" >&2
		return 1
	}
}

@test "GSO and GRO on: tc counts the wire segments, not the skbs the veth counts" {
	gso on
	gro on
	tc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	tc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	run_bulk
	assert_eq "${EGRESS% *}" "$BULK_SEGS" "egress packets = TCP segments sent"
	assert_eq "$INGRESS" "$EGRESS" "ingress = egress (packets and bytes)"
	# The device passed GSO packets whole: it counted fewer than were sent.
	[ "$TX_PACKETS" -lt "$BULK_SEGS" ] || {
		echo "FAIL: the veth counted $TX_PACKETS >= $BULK_SEGS: no GSO happened" >&2
		return 1
	}
}

@test "GSO off: the same transfer counts the same way, equal to the device's counter" {
	gso off
	gro off
	tc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	tc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	run_bulk
	assert_eq "${EGRESS% *}" "$BULK_SEGS" "egress packets = TCP segments sent"
	assert_eq "$INGRESS" "$EGRESS" "ingress = egress (packets and bytes)"
	assert_eq "$TX_PACKETS" "$BULK_SEGS" "device tx packets = segments (no GSO)"
}

@test "GSO on, peer with XDP: bytes rebuilt per segment equal the frames XDP sees" {
	gso on
	tc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	tc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp
	run_bulk
	# The veth segments after tc egress (its peer runs XDP): XDP sees each
	# wire frame, so its bytes are the oracle for the rebuilt headers.
	assert_eq "${EGRESS% *}" "$BULK_SEGS" "egress packets = TCP segments sent"
	assert_eq "$EGRESS" "$INGRESS" "tc egress (GSO skbs) = XDP ingress (frames)"
	assert_eq "$TX_PACKETS" "$BULK_SEGS" "device tx packets = segments"
}

@test "GRO merges at the receiver: tc-ingress still counts every segment" {
	gso off
	gro on
	tc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	tc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	run_bulk
	assert_eq "${INGRESS% *}" "$BULK_SEGS" "ingress packets = TCP segments sent"
	assert_eq "$INGRESS" "$EGRESS" "ingress (GRO skbs) = egress (single segments)"
}

@test "verify reconciles a GSO transfer where the device segments (peer XDP)" {
	gso on
	tc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	tc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp
	local out
	bulk &
	out=$(tc_in "$NS_A" verify --iface "$DEV_A" --interval 4 --json)
	wait
	echo "verify: $out"
	assert_eq "$(jq -r .ok <<<"$out")" true "verify ok on the sender's egress"
	[ "$(jq -r '.directions[0].agent_packets' <<<"$out")" -gt 1000 ] || {
		echo "FAIL: verify saw no bulk traffic" >&2
		return 1
	}
}
