#!/usr/bin/env bash
# The main job in one run: two throwaway network namespaces joined by a veth
# pair (198.18.0.0/15 and fd00::/8 only), traffic-counter on the receiver's
# XDP hook with flow counting on, a known number of pings and UDP datagrams,
# then the counters, the flows and the status, and a check that what was
# counted for the sender is what it sent. Builds nothing; removes everything
# it made on any exit.
#
# Usage: scripts/demo.sh PATH/TO/traffic-counter   (as root; `make demo`)
# The UDP sender is tests/helpers/udp_send, looked for in $TFC_HELPERS or
# next to the binary (build/tests/helpers/udp_send).
set -euo pipefail

die() {
	echo "demo: $*" >&2
	exit 1
}

[ $# -eq 1 ] || {
	echo "usage: $0 PATH/TO/traffic-counter" >&2
	exit 2
}
[ -x "$1" ] || die "no traffic-counter binary at '$1': run 'make build' first"
TFC_BIN=$(realpath "$1")
HELPERS=${TFC_HELPERS:-$(dirname "$TFC_BIN")/tests/helpers}
UDP_SEND=$HELPERS/udp_send
[ -x "$UDP_SEND" ] || die "no UDP sender at $UDP_SEND: run 'make build/tests/helpers/udp_send'"
[ "$(id -u)" -eq 0 ] || die "needs root for network namespaces and BPF: run 'sudo make demo'"
for tool in ip ping jq nsenter timeout; do
	command -v "$tool" >/dev/null || die "missing $tool: run 'make deps' (as root) to install it"
done

ID="tcdemo-$$"
NS_A="$ID-a" # sender
NS_B="$ID-b" # receiver
DEV_A=veth-a
DEV_B=veth-b
A4=198.18.0.1
B4=198.18.0.2
A6=fd00::1
B6=fd00::2
PIN="/sys/fs/bpf/$ID"

# What the demo sends, and so what must be counted for the sender.
PINGS4=10 # IPv4 echo requests, -s 56: 14 + 20 + 8 + 56 = 98-byte frames
PINGS6=5  # IPv6 echo requests, -s 56: 14 + 40 + 8 + 56 = 118-byte frames
UDPS=20   # UDP/IPv4 datagrams, 100-byte payload: 14 + 20 + 8 + 100 = 142-byte frames
UDP_PAYLOAD=100
SPORT=40000
DPORT=5353

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -e "/run/netns/$NS_B" ] && [ -d "$PIN" ]; then
		nsenter --net="/run/netns/$NS_B" "$TFC_BIN" detach --all --purge --pin-dir "$PIN" \
			>/dev/null 2>&1 || true
	fi
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	rm -rf "$PIN"
	[ -z "${HIST_DIR:-}" ] || rm -rf "$HIST_DIR"
	echo "== cleaned up: namespaces $NS_A $NS_B and pins $PIN removed"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# traffic-counter inside the receiver's namespace. nsenter --net keeps the
# mount namespace (ip netns exec would remount /sys and hide /sys/fs/bpf).
tfc_b() {
	local cmd=$1
	shift
	echo "\$ traffic-counter $cmd${*:+ $*}"
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" "$cmd" --pin-dir "$PIN" "$@"
}

echo "== setting up: namespaces $NS_A (sender) and $NS_B (receiver), veth pair"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
ip netns add "$NS_A"
ip netns add "$NS_B"
ip -n "$NS_A" link add "$DEV_A" type veth peer name "$DEV_B" netns "$NS_B"
ip -n "$NS_A" link set "$DEV_A" addrgenmode none
ip -n "$NS_B" link set "$DEV_B" addrgenmode none
ip -n "$NS_A" addr add "$A4/24" dev "$DEV_A"
ip -n "$NS_B" addr add "$B4/24" dev "$DEV_B"
ip -n "$NS_A" addr add "$A6/64" dev "$DEV_A" nodad
ip -n "$NS_B" addr add "$B6/64" dev "$DEV_B" nodad
MAC_A=$(ip -n "$NS_A" -j link show "$DEV_A" | jq -r '.[0].address')
MAC_B=$(ip -n "$NS_B" -j link show "$DEV_B" | jq -r '.[0].address')
# Static neighbours: no ARP/ND frames, so the sender's counts are exactly
# what the demo sends.
ip -n "$NS_A" neigh add "$B4" lladdr "$MAC_B" dev "$DEV_A" nud permanent
ip -n "$NS_A" neigh add "$B6" lladdr "$MAC_B" dev "$DEV_A" nud permanent
ip -n "$NS_B" neigh add "$A4" lladdr "$MAC_A" dev "$DEV_B" nud permanent
ip -n "$NS_B" neigh add "$A6" lladdr "$MAC_A" dev "$DEV_B" nud permanent
ip -n "$NS_A" link set "$DEV_A" up
ip -n "$NS_B" link set "$DEV_B" up
printf '   sender   %-14s %s  %s  %s\n' "$NS_A" "$DEV_A" "$A4" "$A6"
printf '   receiver %-14s %s  %s  %s\n' "$NS_B" "$DEV_B" "$B4" "$B6"

echo
echo "== attaching traffic-counter to $DEV_B (XDP), flow counting on"
echo "   (every command below runs in $NS_B with --pin-dir $PIN)"
tfc_b attach --iface "$DEV_B" --attach-point xdp --enable-flow-map

echo
echo "== sending from the sender's namespace"
timeout 30 ip netns exec "$NS_A" ping -q -n -c "$PINGS4" -s 56 -i 0.01 -W 2 "$B4" >/dev/null
echo "   $PINGS4 ICMP echo requests    $A4 -> $B4            98-byte frames"
timeout 30 ip netns exec "$NS_A" ping -6 -q -n -c "$PINGS6" -s 56 -i 0.01 -W 2 "$B6" >/dev/null
echo "   $PINGS6 ICMPv6 echo requests   $A6 -> $B6                118-byte frames"
timeout 30 ip netns exec "$NS_A" "$UDP_SEND" "$B4" "$DPORT" "$SPORT" "$UDPS" "$UDP_PAYLOAD" 200 \
	>/dev/null
echo "   $UDPS UDP datagrams          $A4:$SPORT -> $B4:$DPORT  142-byte frames"

want4="$((PINGS4 + UDPS)) $((PINGS4 * 98 + UDPS * (14 + 20 + 8 + UDP_PAYLOAD)))"
want6="$PINGS6 $((PINGS6 * 118))"
counted() { # counted ADDR -> "packets bytes" for ADDR at the receiver's ingress
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" dump-maps --pin-dir "$PIN" --json |
		jq -r --arg ip "$1" '[.[] | select(.ip == $ip and .direction == "ingress")]
			| "\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"'
}
# The last frames may still be on their way through the receiver's queue.
for _ in $(seq 50); do
	[ "$(counted "$A4")" = "$want4" ] && [ "$(counted "$A6")" = "$want6" ] && break
	sleep 0.1
done

echo
echo "== per-IP counters"
tfc_b dump-maps --sort bytes
echo
echo "== per-flow counters"
tfc_b dump-maps --pin "$PIN/traffic_counters_flow" --sort bytes
echo
echo "== status"
tfc_b status

echo
got4=$(counted "$A4")
got6=$(counted "$A6")
if [ "$got4" = "$want4" ] && [ "$got6" = "$want6" ]; then
	echo "== check OK: $A4 sent ${want4% *} packets/${want4#* } bytes, counted ${got4% *}/${got4#* };" \
		"$A6 sent ${want6% *}/${want6#* }, counted ${got6% *}/${got6#* }"
else
	echo "== check FAILED: $A4 sent ${want4% *} packets/${want4#* } bytes, counted ${got4% *}/${got4#* };" \
		"$A6 sent ${want6% *}/${want6#* }, counted ${got6% *}/${got6#* }" >&2
	exit 1
fi

# History: record reads the maps into a database of its own for a few
# seconds (its first read counts what the maps hold), stops and flushes on
# SIGTERM; report then shows what was sent. Only once this build has record.
if "$TFC_BIN" --help | grep -q '^  record '; then
	HIST_DIR=$(mktemp -d /tmp/tfc-demo-history.XXXXXX)
	echo
	echo "== history: record for 3 seconds, then report"
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" record --pin-dir "$PIN" \
		--db "$HIST_DIR/history.db" --interval 1 --save-interval 1 &
	record_pid=$!
	sleep 3
	kill -TERM "$record_pid"
	wait "$record_pid"
	echo "\$ traffic-counter report --iface $DEV_B"
	"$TFC_BIN" report --db "$HIST_DIR/history.db" --iface "$DEV_B"
	echo "\$ traffic-counter report --top 3"
	"$TFC_BIN" report --db "$HIST_DIR/history.db" --top 3
fi
