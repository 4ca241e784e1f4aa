#!/usr/bin/env bash
# make bench: measures traffic-counter against the floor (programs that only
# pass) and against what an operator would use instead, and writes
# bench/results/latest.json and latest.md. Method: bench/README.md.
#
# Never fails on a figure: figures are reported, regressions are seen by
# comparing reports. Fails only when a measurement cannot be made.
#
# Network traffic only inside the namespaces made here (198.18.0.0/15),
# which go away on any exit, as do the pins under /sys/fs/bpf/tcb-bench-*.
#
# Environment: BUILD (build dir), BENCH_OUT (results dir), BENCH_QUICK=1
# (fewer rounds and pairs: a smoke run, not a report to keep), BENCH_SKIP
# (comma-separated steps left out, their sections "n/a": maps, userspace,
# record), BENCH_FLOOD_SOURCES (100000), and the drivers' BENCH_ROUNDS,
# BENCH_REPEAT, BENCH_PAIRS, BENCH_HALF_MS, BENCH_CONFIGS,
# BENCH_FLOOD_CONFIGS.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
BIN=$BUILD/traffic-counter
B=$BUILD/bench
OUT=${BENCH_OUT:-bench/results}
STEPS=8
START=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (BPF test runs, network namespaces): sudo make bench" >&2
	exit 1
fi
for tool in ip jq nsenter ethtool nft ipset iptables bpftool; do
	command -v "$tool" >/dev/null || {
		echo "bench: missing $tool (sudo scripts/check-deps.sh --install --group bench)" >&2
		exit 1
	}
done
for f in "$BIN" "$B/prog_bench" "$B/maps_bench" "$B/e2e_bench" "$B/fill_map" "$B/cgroup_bench"; do
	[ -x "$f" ] || {
		echo "bench: $f not built (make build bench-build)" >&2
		exit 1
	}
done

ID=$$
NS_TX=tcb-$ID-tx
NS_RX=tcb-$ID-rx
NS_U=tcb-$ID-u
PIN=/sys/fs/bpf/tcb-bench-$ID
WORK=$(mktemp -d /tmp/tcb-bench.XXXXXX)

cleanup() {
	local ns pin
	for pin in "$PIN"-*; do
		[ -d "$pin" ] || continue
		timeout 20 nsenter --net="/run/netns/$NS_U" "$BIN" detach --all --purge \
			--pin-dir "$pin" >/dev/null 2>&1 || true
		rm -rf "$pin"
	done
	for ns in "$NS_TX" "$NS_RX" "$NS_U"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
# Drivers run in the background and are waited for, so a signal is acted
# on at once: the running driver is stopped (its generator child dies with
# it) and the EXIT trap cleans up.
CHILD=
run() {
	"$@" &
	CHILD=$!
	wait "$CHILD"
	CHILD=
}
stop() {
	if [ -n "$CHILD" ]; then
		kill "$CHILD" 2>/dev/null || true
		wait "$CHILD" 2>/dev/null || true
	fi
	exit 130
}
trap cleanup EXIT
trap stop INT TERM

# skipped STEP: BENCH_SKIP names it; its results are an empty object.
skipped() {
	case ",${BENCH_SKIP:-}," in
	*",$1,"*) return 0 ;;
	*) return 1 ;;
	esac
}

step() {
	BENCH_STEP="[$1/$STEPS]"
	export BENCH_STEP
	printf '%s %s (%d s so far)\n' "$BENCH_STEP" "$2" $(($(date +%s) - START))
}

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	export BENCH_ROUNDS=${BENCH_ROUNDS:-5} BENCH_PAIRS=${BENCH_PAIRS:-3}
	export BENCH_SIZES=${BENCH_SIZES:-16384,65536}
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# ------------------------------------------------------ kernel programs --

step 1 "per-packet cost, hit path: 5 frames x xdp/tc x flows off/on, against the floor"
BENCH_ROUNDS=${BENCH_ROUNDS:-61} run "$B/prog_bench" hit "$WORK/hit.json"

step 2 "miss paths: insert, IP map full, LRU eviction with 16k/64k/1M keys resident"
run "$B/prog_bench" miss "$WORK/miss.json"

echo "   and the cgroup programs against a cgroup_skb program that only allows"
run "$B/cgroup_bench" "$WORK/cgroup.json"

step 3 "map choices: per-CPU vs shared hash, LRU variants, on one CPU and on all"
if skipped maps; then
	echo '{}' >"$WORK/maps.json"
	echo '{}' >"$WORK/memory.json"
else
	run "$B/maps_bench" run "$WORK/maps.json"
	run "$B/maps_bench" memory "$WORK/memory.json"
fi

# ------------------------------------------------------------ userspace --

# ms_of CMD...: wall milliseconds of one run of CMD, output discarded.
ms_of() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# median_ms RUNS CMD...: the median of RUNS timings.
median_ms() {
	local runs=$1 i
	shift
	for ((i = 0; i < runs; i++)); do
		ms_of "$@"
	done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

tfc_u() { nsenter --net="/run/netns/$NS_U" "$BIN" "$@"; }

# quiet CMD...: CMD's output only when it fails.
quiet() {
	local out
	out=$("$@" 2>&1) || {
		echo "$out" >&2
		return 1
	}
}

step 4 "userspace: dump-maps --json, status, bpftool map dump on 64k and 1M entries"
userspace_sizes="65536 1048576"
skipped userspace && userspace_sizes=
ip netns add "$NS_U"
ip -n "$NS_U" link add tcb-u0 type veth peer name tcb-u1
IFX_U=$(ip -n "$NS_U" -j link show tcb-u0 | jq '.[0].ifindex')
: >"$WORK/user.jsonl"
for n in $userspace_sizes; do
	pin=$PIN-$n
	quiet tfc_u attach --iface tcb-u0 --attach-point xdp --ip-map-size "$n" --pin-dir "$pin"
	"$B/fill_map" "$pin/traffic_counters_ip" "$n" "$IFX_U"
	entries=$(tfc_u status --pin-dir "$pin" --json |
		jq '[.maps[] | select(.name == "traffic_counters_ip") | .entries][0]')
	runs=3
	# bpftool takes over ten seconds on a million entries: once is enough.
	bpftool_runs=3
	if [ "$n" -gt 100000 ]; then
		bpftool_runs=1
	fi
	printf '%s   %s entries: dump-maps --json\n' "$BENCH_STEP" "$entries"
	dump=$(median_ms $runs tfc_u dump-maps --pin-dir "$pin" --json)
	status=$(median_ms $runs tfc_u status --pin-dir "$pin" --json)
	printf '%s   %s entries: bpftool map dump -j\n' "$BENCH_STEP" "$entries"
	bt=$(median_ms $bpftool_runs bpftool map dump pinned "$pin/traffic_counters_ip" -j)
	jq -nc --argjson n "$n" --argjson e "$entries" --argjson d "$dump" --argjson s "$status" \
		--argjson b "$bt" --argjson r "$runs" --argjson br "$bpftool_runs" \
		'{capacity: $n, entries: $e, dump_maps_json_ms: $d, status_json_ms: $s,
		  bpftool_dump_json_ms: $b, runs: $r, bpftool_runs: $br}' >>"$WORK/user.jsonl"
	quiet tfc_u detach --all --purge --pin-dir "$pin"
	rm -rf "$pin"
done
jq -s '{readers: .}' "$WORK/user.jsonl" >"$WORK/user.json"

# ------------------------------------------------------------ end to end --

FLOOD_SOURCES=${BENCH_FLOOD_SOURCES:-100000}
step 5 "end-to-end: veth between namespaces, each configuration toggled every half second; 1, 10000 and $FLOOD_SOURCES sources"
for ns in "$NS_TX" "$NS_RX"; do
	ip netns add "$ns"
	# No IPv6 at all: nothing but the generator's frames crosses the pair.
	for conf in all default; do
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$conf.disable_ipv6=1"
	done
	ip -n "$ns" link set lo up
done
ip -n "$NS_TX" link add tcb-tx type veth peer name tcb-rx netns "$NS_RX"
ip -n "$NS_TX" addr add 198.18.0.1/15 dev tcb-tx
ip -n "$NS_RX" addr add 198.18.0.2/15 dev tcb-rx
# No ICMP port unreachable back to 10,000 sources (that would need ARP for
# each), no reverse-path check.
ip netns exec "$NS_RX" sysctl -qw net.ipv4.icmp_msgs_per_sec=0 net.ipv4.icmp_msgs_burst=0 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
ip -n "$NS_TX" link set tcb-tx up
ip -n "$NS_RX" link set tcb-rx up
# veth needs NAPI on the receiving end to take redirected frames without
# XDP there (GRO on turns it on); threaded NAPI puts all receive work in
# one kernel thread whose CPU time the driver reads.
ip netns exec "$NS_RX" ethtool -K tcb-rx gro on >/dev/null
ip netns exec "$NS_RX" sh -c 'echo 1 >/sys/class/net/tcb-rx/threaded'
BENCH_CONFIGS=${BENCH_CONFIGS:-xdp,xdp-frags,tc-ingress,nft-prerouting,nft-netdev,ipset} \
	run nsenter --net="/run/netns/$NS_RX" "$B/e2e_bench" "/run/netns/$NS_TX" tcb-tx tcb-rx \
	"$WORK/e2e.json" 1 10000
# A new-source flood: 100,000 sources, more than the default IP map (65,536)
# and the nftables set (65,536) hold, and an IP map of 1,024 that is full.
BENCH_CONFIGS=${BENCH_FLOOD_CONFIGS:-xdp,xdp-full,tc-ingress,nft-prerouting,nft-netdev} \
	run nsenter --net="/run/netns/$NS_RX" "$B/e2e_bench" "/run/netns/$NS_TX" tcb-tx tcb-rx \
	"$WORK/e2e_flood.json" "$FLOOD_SOURCES"
ip netns del "$NS_TX"
ip netns del "$NS_RX"

# ---------------------------------------------------------------- report --

step 6 "record: a save cycle at 65,536 addresses (CPU, peak RSS), database growth a day"
if skipped record; then
	echo '{}' >"$WORK/record.json"
else
	run bench/record_bench.sh "$WORK/record.json"
fi

step 7 "environment"
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
vulns=$(grep -H . /sys/devices/system/cpu/vulnerabilities/* 2>/dev/null |
	sed 's|^.*/vulnerabilities/||' | grep -v ':Not affected$' | jq -R . | jq -s .)
jq -n --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg kernel "$(uname -r)" \
	--arg arch "$(uname -m)" --arg cpu "${cpu_model:-unknown}" \
	--argjson cpus "$(nproc)" --arg commit "$(git describe --always --dirty 2>/dev/null || echo unknown)" \
	--arg clang "$(clang --version | head -1)" \
	--arg libbpf "$(pkg-config --modversion libbpf 2>/dev/null || echo unknown)" \
	--arg nft "$(nft --version)" --arg iptables "$(iptables -V)" --arg ipset "$(ipset version | head -1)" \
	--arg bpftool "$(bpftool version | head -1)" --argjson vulns "$vulns" \
	--argjson seconds $(($(date +%s) - START)) --arg quick "${BENCH_QUICK:-0}" \
	'{date: $date, kernel: $kernel, arch: $arch, cpu_model: $cpu, cpus: $cpus, commit: $commit,
	  clang: $clang, libbpf: $libbpf, nft: $nft, iptables: $iptables, ipset: $ipset,
	  bpftool: $bpftool, cpu_vulnerabilities: $vulns, measure_seconds: $seconds,
	  quick: ($quick == "1")}' >"$WORK/meta.json"

step 8 "report"
mkdir -p "$OUT"
jq -n --slurpfile meta "$WORK/meta.json" --slurpfile hit "$WORK/hit.json" \
	--slurpfile miss "$WORK/miss.json" --slurpfile maps "$WORK/maps.json" \
	--slurpfile memory "$WORK/memory.json" --slurpfile user "$WORK/user.json" \
	--slurpfile e2e "$WORK/e2e.json" --slurpfile flood "$WORK/e2e_flood.json" \
	--slurpfile record "$WORK/record.json" --slurpfile cgroup "$WORK/cgroup.json" \
	'{meta: $meta[0], hit: $hit[0], miss: $miss[0], maps: $maps[0], memory: $memory[0],
	  userspace: $user[0], e2e: ($e2e[0] | .runs += $flood[0].runs),
	  flood_sources: ($flood[0].runs[0].sources), record: $record[0], cgroup: $cgroup[0]}' >"$WORK/latest.json"
bench/report.sh "$WORK/latest.json" >"$WORK/latest.md"
cp "$WORK/latest.json" "$OUT/latest.json"
cp "$WORK/latest.md" "$OUT/latest.md"
echo "bench: wrote $OUT/latest.md and $OUT/latest.json in $(($(date +%s) - START)) s"
