#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# GSO and GRO: at tc one skb can stand for many wire packets. traffic-counter
# counts the wire packets (gso_segs, each with its own headers), as a NIC's
# counters do, so the counts do not depend on offload settings. The oracles
# come from the kernel's own counters, never from traffic-counter: packets
# are the sender's TcpOutSegs + TcpRetransSegs (TCP segments sent, counted
# per wire segment); bytes are rebuilt from the IP MIB (IpExtOutOctets and
# IpExtInOctets count an skb's bytes once, headers included) plus the
# headers each extra wire packet of a GSO/GRO skb carries on the wire.

load helpers

# Headers of one wire segment of the bulk transfer past the IP MIB's count:
# Ethernet, and for each extra segment of a GSO/GRO skb IPv4 (20) plus TCP
# with the timestamp option (32; the sysctl is set below).
ETH_HDR=14
IP_TCP_HDR=52

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
	need_tools iperf3 ethtool nstat
	make_pair nov6
	local ns
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.tcp_timestamps=1
	done
	BG_PIDS=()
}

# Background jobs a failed test leaves: iperf3 under timeout(1), which passes
# TERM on to it, started directly or by a bulk subshell.
teardown() {
	local pid
	for pid in ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do
		pkill -TERM -P "$pid" 2>/dev/null || true
		kill -TERM "$pid" 2>/dev/null || true
	done
	tfc_e2e_teardown
}

# ip_mib NS -> "octets skbs wire_packets" of IP in and out, absolute:
# IpExtInOctets IpInReceives IpExtInNoECTPkts IpExtOutOctets IpOutRequests.
# NoECTPkts counts a GRO skb's segments (gso_segs); the others count skbs.
ip_mib() {
	ip netns exec "$1" nstat -asz IpExtInOctets IpInReceives IpExtInNoECTPkts \
		IpExtOutOctets IpOutRequests |
		awk '{ v[$1] = $2 } END { print v["IpExtInOctets"] + 0, v["IpInReceives"] + 0,
			v["IpExtInNoECTPkts"] + 0, v["IpExtOutOctets"] + 0, v["IpOutRequests"] + 0 }'
}

# wire_bytes OCTETS SKBS SEGMENTS -> bytes on the wire, Ethernet included:
# the IP bytes the MIB counted, the headers of the SEGMENTS - SKBS wire
# packets a GSO/GRO skb stood for, and an Ethernet header each.
wire_bytes() {
	echo $(($1 + ($3 - $2) * IP_TCP_HDR + $3 * ETH_HDR))
}

# tcp_settled: no TCP socket of the transfer left in either namespace
# but TIME-WAIT ones (every FIN and its ACK went out), within 5 s.
tcp_settled() {
	local ns
	for ns in "$NS_A" "$NS_B"; do
		[ -z "$(ip netns exec "$ns" ss -Htan state all exclude time-wait)" ] || return 1
	done
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
	local srv=$!
	BG_PIDS+=("$srv")
	wait_until 5 bash -c "ip netns exec '$NS_B' ss -Hltn 'sport = :5201' | grep -q LISTEN" || {
		echo "FAIL: iperf3 server not listening in 5 s" >&2
		return 1
	}
	timeout 15 ip netns exec "$NS_A" iperf3 -c "$B4" -p 5201 -t 2 -b 200M >/dev/null
	wait "$srv"
}

# offloads DEV NS on|off: GSO and TSO of the sender, or GRO of the receiver.
gso() { ip netns exec "$NS_A" ethtool -K "$DEV_A" gso "$1" tso "$1"; }
gro() { ip netns exec "$NS_B" ethtool -K "$DEV_B" gro "$1"; }

# run_bulk: BULK_SEGS (TcpOutSegs delta), EGRESS and INGRESS ("packets bytes"
# counted at A's egress for B and at B's ingress for A), TX (A's device:
# "packets bytes" delta), and the kernel's figures for the wire: SENT
# (A's IP MIB out with BULK_SEGS) and RECEIVED (B's IP MIB in), "packets
# bytes" each.
run_bulk() {
	local s0 t0 t1 a0 a1 b0 b1
	s0=$(tcp_out_segs)
	t0=$(iface_counter "$NS_A" "$DEV_A" tx)
	read -ra a0 <<<"$(ip_mib "$NS_A")"
	read -ra b0 <<<"$(ip_mib "$NS_B")"
	bulk
	wait_until 5 tcp_settled || {
		echo "FAIL: TCP sockets still open 5 s after the transfer:" >&2
		ip netns exec "$NS_A" ss -tan >&2
		return 1
	}
	BULK_SEGS=$(($(tcp_out_segs) - s0))
	t1=$(iface_counter "$NS_A" "$DEV_A" tx)
	read -ra a1 <<<"$(ip_mib "$NS_A")"
	read -ra b1 <<<"$(ip_mib "$NS_B")"
	TX="$((${t1% *} - ${t0% *})) $((${t1#* } - ${t0#* }))"
	TX_PACKETS=${TX% *}
	SENT="$BULK_SEGS $(wire_bytes $((a1[3] - a0[3])) $((a1[4] - a0[4])) "$BULK_SEGS")"
	RECEIVED="$((b1[2] - b0[2])) $(wire_bytes $((b1[0] - b0[0])) $((b1[1] - b0[1])) \
		$((b1[2] - b0[2])))"
	EGRESS=$(ip_counts "$NS_A" "$B4" egress "$IFX_A")
	INGRESS=$(ip_counts "$NS_B" "$A4" ingress "$IFX_B")
	echo "TcpOutSegs +$BULK_SEGS; egress $EGRESS; ingress $INGRESS; device tx +$TX"
	echo "IP MIB A out +$((a1[3] - a0[3])) B/+$((a1[4] - a0[4])) skbs -> sent $SENT;" \
		"B in +$((b1[0] - b0[0])) B/+$((b1[1] - b0[1])) skbs/+$((b1[2] - b0[2])) segs" \
		"-> received $RECEIVED"
	[ "$BULK_SEGS" -gt 1000 ] || {
		echo "FAIL: only $BULK_SEGS segments sent: the bulk transfer did not run" >&2
		return 1
	}
}

@test "GSO and GRO on: tc counts the wire segments, not the skbs the veth counts" {
	gso on
	gro on
	tfc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	run_bulk
	assert_eq "$EGRESS" "$SENT" "egress = wire packets and bytes the sender's stack sent"
	assert_eq "$INGRESS" "$RECEIVED" "ingress = wire packets and bytes the receiver's stack got"
	# The device passed GSO packets whole: it counted fewer than were sent.
	[ "$TX_PACKETS" -lt "$BULK_SEGS" ] || {
		echo "FAIL: the veth counted $TX_PACKETS >= $BULK_SEGS: no GSO happened" >&2
		return 1
	}
}

@test "GSO off: the same transfer counts the same way, equal to the device's counter" {
	gso off
	gro off
	tfc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	run_bulk
	assert_eq "$EGRESS" "$SENT" "egress = wire packets and bytes the sender's stack sent"
	assert_eq "$INGRESS" "$RECEIVED" "ingress = wire packets and bytes the receiver's stack got"
	assert_eq "$TX" "$EGRESS" "device tx = egress (no GSO: the device sees the wire frames)"
}

@test "GSO on, peer with XDP: bytes rebuilt per segment equal the frames XDP sees" {
	gso on
	tfc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp
	run_bulk
	# The stack segments after tc egress (the veth's peer runs XDP): tc
	# egress sees GSO skbs, XDP each wire frame.
	assert_eq "$EGRESS" "$SENT" "tc egress (GSO skbs) = wire packets and bytes sent"
	assert_eq "$INGRESS" "$RECEIVED" "XDP ingress (frames) = wire packets and bytes received"
	assert_eq "$TX_PACKETS" "$BULK_SEGS" "device tx packets = segments"
}

@test "GRO merges at the receiver: tc-ingress still counts every segment" {
	gso off
	gro on
	tfc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	run_bulk
	assert_eq "$INGRESS" "$RECEIVED" "ingress (GRO skbs) = wire packets and bytes received"
	assert_eq "$EGRESS" "$SENT" "egress (single segments) = wire packets and bytes sent"
}

@test "verify reconciles a GSO transfer where the device segments (peer XDP)" {
	gso on
	tfc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp
	local out pid
	bulk &
	pid=$!
	BG_PIDS+=("$pid")
	out=$(tfc_in "$NS_A" verify --iface "$DEV_A" --interval 4 --json)
	wait "$pid"
	echo "verify: $out"
	assert_eq "$(jq -r .ok <<<"$out")" true "verify ok on the sender's egress"
	[ "$(jq -r '.directions[0].agent_packets' <<<"$out")" -gt 1000 ] || {
		echo "FAIL: verify saw no bulk traffic" >&2
		return 1
	}
}
