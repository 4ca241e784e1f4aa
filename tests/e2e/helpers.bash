# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # variables for the .bats files; $status/$stderr from bats run
# Shared setup for the end-to-end tests: every test gets its own pair of
# network namespaces joined by a veth pair and its own bpffs pin dir, and
# teardown removes all of it whatever happened.
#
#   sender   netns $NS_A  dev $DEV_A  198.18.0.1/24  fd00::1/64
#   receiver netns $NS_B  dev $DEV_B  198.18.0.2/24  fd00::2/64
#
# traffic-counter runs through `nsenter --net` (never `ip netns exec`, which
# remounts /sys and so hides /sys/fs/bpf and its pins); traffic is sent with
# `ip netns exec`. Only 198.18.0.0/15 and fd00::/8 are used.

# This build's map layout version, from the header it was built from.
CUR_LAYOUT=$(sed -n 's/^#define TFC_ABI_VERSION \([0-9][0-9]*\)$/\1/p' \
	"$BATS_TEST_DIRNAME/../../traffic-counter-common/abi/traffic_counter_abi.h")
export CUR_LAYOUT

if declare -F bats_require_minimum_version >/dev/null; then
	bats_require_minimum_version 1.5.0
fi

TFC_BIN=${TFC_BIN:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build/traffic-counter}
TFC_HELPERS=${TFC_HELPERS:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build/tests/helpers}

A4=198.18.0.1
B4=198.18.0.2
A6=fd00::1
B6=fd00::2
DEV_A=veth-a
DEV_B=veth-b

# Exclusive per-reason statistics: with the IP map and dropped_packets they
# account for every frame a program sees exactly once.
EXCLUSIVE_STATS=(non_ip truncated_l2 vlan_too_deep ipv4_truncated ipv4_bad_version
	ipv4_bad_ihl ipv4_bad_length ipv6_truncated ipv6_bad_version)
REMARK_STATS=(l4_truncated ipv6_ext_limit)
EXCLUSIVE_JSON=$(printf '"%s",' "${EXCLUSIVE_STATS[@]}")
EXCLUSIVE_JSON="[${EXCLUSIVE_JSON%,}]"

# Frame sizes (Ethernet header included) of the traffic the tests send.
PING4_FRAME=98 # ping -s 56: 14 + 20 + 8 + 56
PING6_FRAME=118 # ping -6 -s 56: 14 + 40 + 8 + 56

# ---------------------------------------------------------------- setup --

tfc_e2e_setup() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "end-to-end tests need root (network namespaces, BPF): run as root"
	fi
	[ -x "$TFC_BIN" ] || {
		echo "traffic-counter binary not found at $TFC_BIN (make build, or set TFC_BIN)" >&2
		return 1
	}
	local tool
	for tool in ip jq ping nsenter timeout bpftool; do
		command -v "$tool" >/dev/null || {
			echo "missing tool: $tool (scripts/check-deps.sh --install)" >&2
			return 1
		}
	done
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

	# Unique per run and per test: parallel runs and leftovers cannot collide.
	TFCE_ID="$$-${BATS_SUITE_TEST_NUMBER:-0}-$RANDOM"
	NS_A="tce-$TFCE_ID-a"
	NS_B="tce-$TFCE_ID-b"
	PIN="/sys/fs/bpf/tc-e2e-$TFCE_ID"
	TFCE_PINS=("$PIN")
	TFCE_NETNS=()
	VERIFY_PIDS=()
}

# ------------------------------------------ background processes of a test --
# A test appends what it starts in the background to BG_PIDS; teardown calls
# bg_stop_all, so nothing outlives a failed test.

# bg_stop_all: SIGTERM to every process in BG_PIDS, SIGKILL after 5 s.
bg_stop_all() {
	local pid i
	for pid in ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do
		kill -TERM "$pid" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# stop_pid PID [SIG]: SIG (TERM) and a bounded wait; BG_STATUS its exit status.
stop_pid() {
	local i
	kill -s "${2:-TERM}" "$1"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "FAIL: process $1 still runs 10 s after SIG${2:-TERM}" >&2
		return 1
	fi
	BG_STATUS=0
	wait "$1" || BG_STATUS=$?
}

tfc_e2e_teardown() {
	local ns pin pid
	[ -n "${TFCE_ID:-}" ] || return 0
	# A verify still in its interval (verify_window) would read gone devices.
	for pid in ${VERIFY_PIDS[@]+"${VERIFY_PIDS[@]}"}; do
		kill "$pid" 2>/dev/null || true
	done
	# Detach through the tool first so its links go; deleting the netns
	# removes whatever is left on the veths.
	local i
	for pin in "${TFCE_PINS[@]}"; do
		# Receiver first: most attachments are there.
		for ((i = ${#TFCE_NETNS[@]} - 1; i >= 0; i--)); do
			ns=${TFCE_NETNS[i]}
			if [ -e "/run/netns/$ns" ] && [ -d "$pin" ]; then
				timeout 20 nsenter --net="/run/netns/$ns" "$TFC_BIN" detach --all --purge \
					--pin-dir "$pin" >/dev/null 2>&1 || true
			fi
		done
	done
	for ns in "${TFCE_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	for pin in "${TFCE_PINS[@]}"; do
		case $pin in
		/sys/fs/bpf/tc-e2e-*) rm -rf "$pin" || true ;;
		esac
	done
	return 0
}

# make_pair [v6]: the two namespaces and the veth pair, with static
# neighbours both ways so no ARP/ND chatter disturbs exact counts. IPv6
# addresses are nodad and no link-local address is generated; `nov6`
# disables IPv6 on the veths entirely (no MLD either).
make_pair() {
	local v6=${1:-v6}
	ip netns add "$NS_A"
	TFCE_NETNS+=("$NS_A")
	ip netns add "$NS_B"
	TFCE_NETNS+=("$NS_B")
	ip -n "$NS_A" link add "$DEV_A" type veth peer name "$DEV_B" netns "$NS_B"
	local ns dev
	for ns in "$NS_A" "$NS_B"; do
		dev=$DEV_A
		[ "$ns" = "$NS_B" ] && dev=$DEV_B
		ip -n "$ns" link set lo up
		ip -n "$ns" link set "$dev" addrgenmode none
		if [ "$v6" = nov6 ]; then
			ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
		fi
	done
	ip -n "$NS_A" addr add "$A4/24" dev "$DEV_A"
	ip -n "$NS_B" addr add "$B4/24" dev "$DEV_B"
	if [ "$v6" != nov6 ]; then
		ip -n "$NS_A" addr add "$A6/64" dev "$DEV_A" nodad
		ip -n "$NS_B" addr add "$B6/64" dev "$DEV_B" nodad
	fi
	MAC_A=$(ip -n "$NS_A" -j link show "$DEV_A" | jq -r '.[0].address')
	MAC_B=$(ip -n "$NS_B" -j link show "$DEV_B" | jq -r '.[0].address')
	ip -n "$NS_A" neigh add "$B4" lladdr "$MAC_B" dev "$DEV_A" nud permanent
	ip -n "$NS_B" neigh add "$A4" lladdr "$MAC_A" dev "$DEV_B" nud permanent
	if [ "$v6" != nov6 ]; then
		ip -n "$NS_A" neigh add "$B6" lladdr "$MAC_B" dev "$DEV_A" nud permanent
		ip -n "$NS_B" neigh add "$A6" lladdr "$MAC_A" dev "$DEV_B" nud permanent
	fi
	ip -n "$NS_A" link set "$DEV_A" up
	ip -n "$NS_B" link set "$DEV_B" up
	IFX_A=$(ifindex_of "$NS_A" "$DEV_A")
	IFX_B=$(ifindex_of "$NS_B" "$DEV_B")
}

# add_sources N: N more IPv4 addresses 198.18.0.11.. on the sender, each
# with a static neighbour on the receiver so replies need no ARP.
add_sources() {
	local i addr
	EXTRA_SOURCES=()
	for ((i = 11; i < 11 + $1; i++)); do
		addr=198.18.0.$i
		ip -n "$NS_A" addr add "$addr/24" dev "$DEV_A"
		ip -n "$NS_B" neigh add "$addr" lladdr "$MAC_A" dev "$DEV_B" nud permanent
		EXTRA_SOURCES+=("$addr")
	done
}

ifindex_of() {
	ip -n "$1" -j link show "$2" | jq '.[0].ifindex'
}

# ------------------------------------------------------- running the CLI --

# tfc_in NS COMMAND [ARGS...]: traffic-counter COMMAND in netns NS with this
# test's pin dir.
tfc_in() {
	local ns=$1
	shift
	tfc_in_pin "$PIN" "$ns" "$@"
}

# tfc_in_pin PIN_DIR NS COMMAND [ARGS...]
tfc_in_pin() {
	local pin=$1 ns=$2 cmd=$3
	shift 3
	timeout 60 nsenter --net="/run/netns/$ns" "$TFC_BIN" "$cmd" --pin-dir "$pin" "$@"
}

# tfc_in_raw NS ARGS...: no pin dir added (usage-error tests).
tfc_in_raw() {
	local ns=$1
	shift
	timeout 60 nsenter --net="/run/netns/$ns" "$TFC_BIN" "$@"
}

status_json() { tfc_in "$1" status --json; }
dump_ip_json() { tfc_in "$1" dump-maps --json; }
dump_flow_json() { tfc_in "$1" dump-maps --pin "$PIN/traffic_counters_flow" --json; }

# ip_counts NS ADDR DIRECTION IFINDEX -> "packets bytes" (0 0 when absent)
ip_counts() {
	dump_ip_json "$1" | jq -r --arg ip "$2" --arg dir "$3" --argjson ifx "$4" '
		[.[] | select(.ip == $ip and .direction == $dir and .ifindex == $ifx)]
		| "\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"'
}

# flow_counts NS SRC DST SPORT DPORT PROTO DIRECTION IFINDEX -> "packets bytes"
flow_counts() {
	dump_flow_json "$1" | jq -r --arg s "$2" --arg d "$3" --argjson sp "$4" --argjson dp "$5" \
		--argjson pr "$6" --arg dir "$7" --argjson ifx "$8" '
		[.[] | select(.src == $s and .dst == $d and .sport == $sp and .dport == $dp
			and .proto == $pr and .direction == $dir and .ifindex == $ifx)]
		| "\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"'
}

# stat_counts NS REASON -> "packets bytes" of one statistic in status --json
stat_counts() {
	status_json "$1" | jq -r --arg r "$2" '"\(.stats[$r].packets // "missing") \(.stats[$r].bytes // "missing")"'
}

# counted_totals NS -> "packets bytes" of every frame the programs saw:
# IP map + exclusive statistics + dropped (IP map full).
counted_totals() {
	local ip st
	ip=$(dump_ip_json "$1" | jq -r '"\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"') ||
		return 1
	st=$(status_json "$1" | jq -r --argjson ex "$EXCLUSIVE_JSON" '
		([$ex[] as $r | .stats[$r].packets] | add) as $sp
		| ([$ex[] as $r | .stats[$r].bytes] | add) as $sb
		| "\($sp + .dropped_packets) \($sb + .dropped_bytes)"') || return 1
	echo "$((${ip% *} + ${st% *})) $((${ip#* } + ${st#* }))"
}

# iface_counter NS DEV rx|tx -> "packets bytes" from the interface's own stats
iface_counter() {
	ip -n "$1" -s -j link show "$2" | jq -r --arg d "$3" '.[0].stats64[$d] | "\(.packets) \(.bytes)"'
}

# quiet_snapshot NS_TC NS_DEV DEV rx|tx -> "ifpackets ifbytes packets bytes",
# read again until two readings 0.3 s apart agree, so that no frame is
# half-way between the interface counter and the program.
quiet_snapshot() {
	local prev="" cur i
	for ((i = 0; i < 40; i++)); do
		cur="$(iface_counter "$2" "$3" "$4") $(counted_totals "$1")" || return 1
		if [ "$cur" = "$prev" ]; then
			echo "$cur"
			return 0
		fi
		prev=$cur
		sleep 0.3
	done
	echo "no quiet moment on $3 in 12 s: last reading $cur" >&2
	return 1
}

# ------------------------------------------------------------- traffic --

ping4() { # ping4 COUNT [ping args...]: IPv4 echo requests A -> B, 98-byte frames
	local n=$1
	shift
	timeout 30 ip netns exec "$NS_A" ping -q -n -c "$n" -s 56 -i 0.01 -W 2 "$@" "$B4" >/dev/null
}

ping6() {
	local n=$1
	shift
	timeout 30 ip netns exec "$NS_A" ping -6 -q -n -c "$n" -s 56 -i 0.01 -W 2 "$@" "$B6" >/dev/null
}

# udp DST DPORT SPORT COUNT PAYLOAD: from the sender's namespace, 200 us
# apart so no receive queue overflows (every datagram must arrive).
udp() {
	timeout 30 ip netns exec "$NS_A" "$TFC_HELPERS/udp_send" "$@" 200 >/dev/null
}

# raw KIND COUNT [SRC DST]: hand-made frames out of the sender's veth; sets
# RAW_LEN to the frame length.
raw() {
	local out
	out=$(timeout 30 ip netns exec "$NS_A" "$TFC_HELPERS/raw_send" "$DEV_A" "$MAC_B" "$@") ||
		return 1
	RAW_LEN=${out##* }
}

# ------------------------------------------------------------ asserting --

# wait_eq SECONDS EXPECTED CMD...: run CMD until its output is EXPECTED
# (frames are counted a little after the sender returns); then compare once
# more and say what differs.
wait_eq() {
	local secs=$1 want=$2 got i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		got=$("$@") && [ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	got=$("$@")
	[ "$got" = "$want" ] && return 0
	echo "FAIL: $* -> '$got', expected '$want'" >&2
	return 1
}

assert_eq() { # assert_eq ACTUAL EXPECTED WHAT
	if [ "$1" != "$2" ]; then
		echo "FAIL: $3: got '$1', expected '$2'" >&2
		return 1
	fi
}

# After `run --separate-stderr`: exit 2 and one "traffic-counter: " line.
assert_usage_error() {
	assert_error_status 2
}

# assert_error_status STATUS: after `run --separate-stderr`, exit STATUS and
# exactly one stderr line, starting with "traffic-counter: ".
assert_error_status() {
	local want=$1 lines
	if [ "$status" -ne "$want" ]; then
		echo "FAIL: exit status $status, expected $want; stderr: $stderr" >&2
		return 1
	fi
	lines=$(printf '%s' "$stderr" | grep -c '' || true)
	if [ "$lines" -ne 1 ]; then
		echo "FAIL: expected exactly one stderr line, got $lines:" >&2
		printf '%s\n' "$stderr" >&2
		return 1
	fi
	case $stderr in
	"traffic-counter: "*) ;;
	*)
		echo "FAIL: stderr does not start with 'traffic-counter: ': $stderr" >&2
		return 1
		;;
	esac
}

# nothing_attached NS DEV: no XDP, no tc filter, no program bpftool lists on
# DEV; the programs in PROG_IDS (if set) are held by no link and are gone
# from the kernel altogether (that also covers TCX, which this bpftool may
# not list under `net show`).
nothing_attached() {
	local ns=$1 dev=$2 id
	if ip -n "$ns" -d link show "$dev" | grep -Eq 'prog/xdp|xdpgeneric|xdpdrv|xdpoffload'; then
		echo "FAIL: XDP still attached on $dev:" >&2
		ip -n "$ns" -d link show "$dev" >&2
		return 1
	fi
	local net
	net=$(nsenter --net="/run/netns/$ns" bpftool -j net show dev "$dev")
	if [ "$(jq '[.[] | ((.xdp // []) + (.tc // []))[]] | length' <<<"$net")" -ne 0 ]; then
		echo "FAIL: bpftool net show dev $dev still lists programs: $net" >&2
		return 1
	fi
	local dir
	for dir in ingress egress; do
		if [ -n "$(tc -n "$ns" filter show dev "$dev" "$dir" 2>/dev/null)" ]; then
			echo "FAIL: tc filters left on $dev $dir:" >&2
			tc -n "$ns" filter show dev "$dev" "$dir" >&2
			return 1
		fi
	done
	for id in ${PROG_IDS[@]+"${PROG_IDS[@]}"}; do
		if bpftool -j link show | jq -e --argjson id "$id" 'any(.[]; .prog_id == $id)' >/dev/null; then
			echo "FAIL: a BPF link still holds program $id:" >&2
			bpftool link show >&2
			return 1
		fi
		# Nothing else holds our programs: once the last link goes they are freed.
		if ! wait_gone 5 bpftool prog show id "$id"; then
			echo "FAIL: program $id is still loaded:" >&2
			bpftool prog show id "$id" >&2
			return 1
		fi
	done
}

wait_gone() { # wait_gone SECONDS CMD...: until CMD fails
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}

wait_until() { # wait_until SECONDS CMD...: until CMD succeeds
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# link_pins: files under the pin dir's links/ (none or no dir at all is fine)
link_pins() {
	[ -d "$PIN/links" ] || return 0
	find "$PIN/links" -mindepth 1 -not -type d
}

map_pins_present() {
	local m
	for m in traffic_counters_ip traffic_counters_flow traffic_control traffic_stats; do
		[ -e "$PIN/$m" ] || {
			echo "FAIL: map pin $PIN/$m missing" >&2
			return 1
		}
	done
}

map_pins_absent() {
	local m
	for m in traffic_counters_ip traffic_counters_flow traffic_control traffic_stats; do
		[ ! -e "$PIN/$m" ] || {
			echo "FAIL: map pin $PIN/$m still there" >&2
			return 1
		}
	done
}

# ---------------------------------------------------------------- misc --

# mnt_ns_start: a private mount namespace, held by a sleeping process
# (MNT_PID) so that several commands can enter it (in_mnt); the test's
# teardown stops MNT_PID.
mnt_ns_start() {
	unshare --mount --propagation private sleep 300 3>&- &
	MNT_PID=$!
	local i self
	self=$(readlink /proc/self/ns/mnt)
	for ((i = 0; i < 100; i++)); do
		[ "$(readlink "/proc/$MNT_PID/ns/mnt" 2>/dev/null)" != "$self" ] && return 0
		sleep 0.02
	done
	echo "FAIL: no private mount namespace after 2 s" >&2
	return 1
}

in_mnt() { nsenter --mount="/proc/$MNT_PID/ns/mnt" "$@"; }

# tfc_attach NS ARGS...: attach, and on failure show what the tool said.
tfc_attach() {
	local ns=$1 out rc=0
	shift
	out=$(tfc_in "$ns" attach "$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: attach $* exited $rc: $out" >&2
		return 1
	fi
}

# TCX (bpf_mprog tc attachment) arrived in Linux 6.6.
kernel_has_tcx() {
	local v major minor
	v=$(uname -r)
	major=${v%%.*}
	minor=${v#*.}
	minor=${minor%%[!0-9]*}
	[ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 6 ]; }
}

prog_ids() { # prog_ids NS -> prog ids of the attachments status lists
	status_json "$1" | jq -r '.attachments[].prog_id'
}

# --------------------------------------------- bare pairs, replay, CPUs --

# make_bare_pair [QUEUES]: the two namespaces and the veth pair (QUEUES rx
# and tx queues each end, default 1) with no address at all and IPv6
# disabled on both ends, so the kernel sends nothing of its own and only
# what a test injects (tcpreplay, raw frames) crosses the pair.
make_bare_pair() {
	local q=${1:-1}
	ip netns add "$NS_A"
	TFCE_NETNS+=("$NS_A")
	ip netns add "$NS_B"
	TFCE_NETNS+=("$NS_B")
	# all + default too: an MTU change below 1280 and back re-creates a
	# device's IPv6 state from the defaults (link-local address, MLD, DAD).
	local ns dev conf
	for ns in "$NS_A" "$NS_B"; do
		for conf in all default; do
			ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$conf.disable_ipv6=1"
		done
	done
	ip -n "$NS_A" link add "$DEV_A" numtxqueues "$q" numrxqueues "$q" type veth \
		peer name "$DEV_B" numtxqueues "$q" numrxqueues "$q" netns "$NS_B"
	for ns in "$NS_A" "$NS_B"; do
		dev=$DEV_A
		[ "$ns" = "$NS_B" ] && dev=$DEV_B
		ip -n "$ns" link set lo up
		ip -n "$ns" link set "$dev" addrgenmode none
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
		ip -n "$ns" link set "$dev" up
	done
	MAC_A=$(ip -n "$NS_A" -j link show "$DEV_A" | jq -r '.[0].address')
	MAC_B=$(ip -n "$NS_B" -j link show "$DEV_B" | jq -r '.[0].address')
	IFX_A=$(ifindex_of "$NS_A" "$DEV_A")
	IFX_B=$(ifindex_of "$NS_B" "$DEV_B")
}

# set_pair_mtu MTU: the same MTU on both ends (the receiving veth refuses
# frames longer than its own MTU + 14 (+4 for a 0x8100 tag) as well).
set_pair_mtu() {
	ip -n "$NS_A" link set "$DEV_A" mtu "$1" &&
		ip -n "$NS_B" link set "$DEV_B" mtu "$1"
}

# need_tools TOOL...: fail with the package hint when one is missing.
need_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || {
			echo "missing tool: $tool (scripts/check-deps.sh --install)" >&2
			return 1
		}
	done
}

# online_cpus -> the ids of the CPUs this process may run on, one a line.
online_cpus() {
	local list part i
	local -a parts
	list=$(taskset -pc $$ | sed 's/.*: *//')
	IFS=, read -r -a parts <<<"$list"
	for part in "${parts[@]}"; do
		if [[ $part == *-* ]]; then
			for ((i = ${part%-*}; i <= ${part#*-}; i++)); do
				echo "$i"
			done
		else
			echo "$part"
		fi
	done
}

# cpu_mask CPU -> the sysfs cpumask text with only CPU set (32-bit groups).
cpu_mask() {
	local cpu=$1 mask i
	mask=$(printf '%x' $((1 << (cpu % 32))))
	for ((i = 0; i < cpu / 32; i++)); do
		mask+=,00000000
	done
	echo "$mask"
}

# set_xps NS DEV QUEUE CPU: frames sent from CPU leave DEV through tx queue
# QUEUE (on veth, the peer's rx queue of the same number).
set_xps() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec "$1" bash -c 'echo "$1" >"/sys/class/net/$2/queues/tx-$3/xps_cpus"' \
		_ "$(cpu_mask "$4")" "$2" "$3"
}

# ------------------------------------------------------------- verify --

# Seconds verify_window's verify watches: time enough for a bounded sender.
VERIFY_INTERVAL=2

# verify_tc_pid -> pid of the running `traffic-counter verify` of this test,
# once it sleeps between its two snapshots (the first one is read).
verify_tc_pid() {
	local p
	for p in $(pgrep -f -- "verify --pin-dir $PIN " || true); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = traffic-counter ] || continue
		[ "$(cat "/proc/$p/wchan" 2>/dev/null)" = hrtimer_nanosleep ] || continue
		echo "$p"
		return 0
	done
	return 1
}

# verify_window NS DEV [VERIFY ARGS...] -- SENDER...: `verify --iface DEV`
# in NS, SENDER run (bounded) inside its interval. Sets VRC (exit code),
# VOUT (stdout) and VERR (stderr).
verify_window() {
	local ns=$1 dev=$2 args=() bg tc i
	shift 2
	while [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	shift
	tfc_in "$ns" verify --iface "$dev" --interval "$VERIFY_INTERVAL" "${args[@]}" \
		>"$BATS_TEST_TMPDIR/verify.out" 2>"$BATS_TEST_TMPDIR/verify.err" &
	bg=$!
	VERIFY_PIDS+=("$bg")
	for ((i = 0; i < 50; i++)); do
		tc=$(verify_tc_pid) && break
		sleep 0.1
	done
	[ -n "$tc" ] || {
		echo "FAIL: verify did not reach its interval in 5 s: $(cat "$BATS_TEST_TMPDIR/verify.err")" >&2
		return 1
	}
	VERIFY_PIDS+=("$tc")
	"$@" || return 1
	# The sender must have finished inside the window: verify still sleeps.
	[ "$(cat "/proc/$tc/wchan" 2>/dev/null)" = hrtimer_nanosleep ] || {
		echo "FAIL: the traffic outlasted verify's $VERIFY_INTERVAL s interval" >&2
		return 1
	}
	VRC=0
	wait "$bg" || VRC=$?
	VOUT=$(cat "$BATS_TEST_TMPDIR/verify.out")
	VERR=$(cat "$BATS_TEST_TMPDIR/verify.err")
	echo "verify ${args[*]}: exit $VRC; stdout: $VOUT; stderr: $VERR"
}
