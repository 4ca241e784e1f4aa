#!/usr/bin/env bats
# Many CPUs: counts stay exact when frames arrive on two CPUs at once. Two
# senders pinned to different CPUs (taskset) send at full speed into one
# receiver; on veth the receiving side (XDP, tc) runs on the sending CPU,
# and a two-queue veth with XPS gives each CPU its own rx queue, so that
# native XDP too runs on both CPUs at once. Checked for the per-CPU IP map
# (the same source from both CPUs, and one source per CPU) and for the
# shared LRU flow map (the same flow key from both CPUs: its atomic
# updates must lose nothing). The per-CPU values of the IP map show that
# each CPU counted exactly its own sender's frames.

load helpers

MC_FRAMES=200000 # per sender
MC_DST=198.18.1.2
MC_SAME=198.18.1.1 # both senders
MC_SRC_X=198.18.1.11 # sender on the first CPU only
MC_SRC_Y=198.18.1.12 # sender on the second CPU only

setup() {
	tfc_e2e_setup
	need_tools taskset bpftool
	local -a cpus
	mapfile -t cpus < <(online_cpus)
	if [ "${#cpus[@]}" -lt 2 ]; then
		skip "needs two CPUs; this process may run on ${cpus[*]}"
	fi
	CPU_X=${cpus[0]}
	CPU_Y=${cpus[1]}
	[ -x "$TFC_HELPERS/flood_send" ] || {
		echo "missing $TFC_HELPERS/flood_send (make build/tests/helpers/flood_send)" >&2
		return 1
	}
	make_bare_pair 2
	# Sender on CPU_X -> tx/rx queue 0, sender on CPU_Y -> queue 1.
	set_xps "$NS_A" "$DEV_A" 0 "$CPU_X"
	set_xps "$NS_A" "$DEV_A" 1 "$CPU_Y"
}

teardown() {
	tfc_e2e_teardown
}

# send_both SRC_X PAYLOAD_X SRC_Y PAYLOAD_Y: one flood_send per CPU, at the
# same time, each MC_FRAMES frames UDP 5000 -> 6000 to MC_DST. Sets LEN_X
# and LEN_Y (frame lengths) and checks that both sent everything, ran on
# their CPU throughout and overlapped in time.
send_both() {
	local tmp=$BATS_TEST_TMPDIR pid_x pid_y rc_x=0 rc_y=0
	timeout 60 ip netns exec "$NS_A" taskset -c "$CPU_X" "$TFC_HELPERS/flood_send" "$DEV_A" \
		"$MAC_B" "$1" "$MC_DST" 5000 6000 "$2" "$MC_FRAMES" >"$tmp/x.out" &
	pid_x=$!
	timeout 60 ip netns exec "$NS_A" taskset -c "$CPU_Y" "$TFC_HELPERS/flood_send" "$DEV_A" \
		"$MAC_B" "$3" "$MC_DST" 5000 6000 "$4" "$MC_FRAMES" >"$tmp/y.out" &
	pid_y=$!
	wait "$pid_x" || rc_x=$?
	wait "$pid_y" || rc_y=$?
	local -a x y
	read -r -a x <"$tmp/x.out"
	read -r -a y <"$tmp/y.out"
	echo "sender CPU $CPU_X: exit $rc_x: ${x[*]} (sent len t0 t1 retries cpu0 cpu1)"
	echo "sender CPU $CPU_Y: exit $rc_y: ${y[*]}"
	assert_eq "$rc_x $rc_y" "0 0" "exit status of the senders"
	assert_eq "${x[0]} ${y[0]}" "$MC_FRAMES $MC_FRAMES" "frames sent"
	assert_eq "${x[5]} ${x[6]} ${y[5]} ${y[6]}" "$CPU_X $CPU_X $CPU_Y $CPU_Y" \
		"CPUs the senders ran on (first and last frame)"
	# Overlap: each started before the other finished.
	if ! { [ "${x[2]}" -lt "${y[3]}" ] && [ "${y[2]}" -lt "${x[3]}" ]; }; then
		echo "FAIL: the senders did not overlap in time: ${x[*]} / ${y[*]}" >&2
		return 1
	fi
	local lo hi
	lo=$((x[2] > y[2] ? x[2] : y[2]))
	hi=$((x[3] < y[3] ? x[3] : y[3]))
	echo "overlap: $(((hi - lo) / 1000000)) ms of $(((x[3] - x[2]) / 1000000)) and $(((y[3] - y[2]) / 1000000)) ms"
	LEN_X=${x[1]}
	LEN_Y=${y[1]}
}

# percpu_packets ADDR -> "CPU:PACKETS ..." of the IP map entry for the IPv4
# address ADDR, CPUs with no packet left out.
percpu_packets() {
	bpftool -j map dump pinned "$PIN/traffic_counters_ip" | jq -r --arg a "$1" '
		[.[].formatted | select(.key.family == 4
			and (.key.addr[0:4] | map(tostring) | join(".")) == $a)
		| .values[] | select(.value.packets > 0) | "\(.cpu):\(.value.packets)"] | join(" ")'
}

# mc_case POINT [ATTACH ARGS...]
mc_case() {
	local point=$1
	shift
	local ns dev ifx dir cdir l2drop=0
	if [ "$point" = tc-egress ]; then
		ns=$NS_A dev=$DEV_A ifx=$IFX_A dir=egress cdir=tx
	else
		ns=$NS_B dev=$DEV_B ifx=$IFX_B dir=ingress cdir=rx
	fi
	tfc_attach "$ns" --iface "$dev" --attach-point "$point" --enable-flow-map "$@"
	status_json "$ns" | jq -c '.attachments'
	if [ "$point" = xdp ] && [ "$(status_json "$ns" | jq -r '.attachments[0].mode')" = driver ]; then
		l2drop=14 # veth's rx bytes leave out the Ethernet header with native XDP
	fi
	local n=$MC_FRAMES before after
	before=$(quiet_snapshot "$ns" "$ns" "$dev" "$cdir")

	# 1. The same frames from both CPUs: one IP entry (per-CPU values), one
	# flow entry (shared, atomic adds).
	send_both "$MC_SAME" 100 "$MC_SAME" 100
	assert_eq "$LEN_X" "$LEN_Y" "identical frames"
	wait_eq 5 "$((2 * n)) $((2 * n * LEN_X))" ip_counts "$ns" "$MC_SAME" "$dir" "$ifx"
	wait_eq 5 "$((2 * n)) $((2 * n * LEN_X))" \
		flow_counts "$ns" "$MC_SAME" "$MC_DST" 5000 6000 17 "$dir" "$ifx"
	assert_eq "$(percpu_packets "$MC_SAME")" "$CPU_X:$n $CPU_Y:$n" \
		"per-CPU packets of $MC_SAME (each CPU counts its own sender)"
	echo "same key from CPUs $CPU_X and $CPU_Y: $(ip_counts "$ns" "$MC_SAME" "$dir" "$ifx") (IP)," \
		"$(flow_counts "$ns" "$MC_SAME" "$MC_DST" 5000 6000 17 "$dir" "$ifx") (flow)"

	# 2. One source per CPU, different frame lengths.
	send_both "$MC_SRC_X" 100 "$MC_SRC_Y" 300
	wait_eq 5 "$n $((n * LEN_X))" ip_counts "$ns" "$MC_SRC_X" "$dir" "$ifx"
	wait_eq 5 "$n $((n * LEN_Y))" ip_counts "$ns" "$MC_SRC_Y" "$dir" "$ifx"
	wait_eq 5 "$n $((n * LEN_X))" flow_counts "$ns" "$MC_SRC_X" "$MC_DST" 5000 6000 17 "$dir" "$ifx"
	wait_eq 5 "$n $((n * LEN_Y))" flow_counts "$ns" "$MC_SRC_Y" "$MC_DST" 5000 6000 17 "$dir" "$ifx"
	assert_eq "$(percpu_packets "$MC_SRC_X")" "$CPU_X:$n" "per-CPU packets of $MC_SRC_X"
	assert_eq "$(percpu_packets "$MC_SRC_Y")" "$CPU_Y:$n" "per-CPU packets of $MC_SRC_Y"

	# Nothing else counted, nothing dropped, and the interface agrees.
	local st
	st=$(status_json "$ns")
	assert_eq "$(jq -r '"\(.dropped_packets) \(.flow_insert_failures // 0)"' <<<"$st")" "0 0" \
		"dropped packets, failed flow inserts"
	assert_eq "$(dump_ip_json "$ns" | jq length)" 3 "IP entries"
	assert_eq "$(dump_flow_json "$ns" | jq length)" 3 "flow entries"
	after=$(quiet_snapshot "$ns" "$ns" "$dev" "$cdir")
	echo "snapshots (ifpackets ifbytes counted_packets counted_bytes): $before -> $after"
	local -a b a
	read -r -a b <<<"$before"
	read -r -a a <<<"$after"
	local total_p=$((4 * n)) total_b=$((2 * n * LEN_X + n * LEN_X + n * LEN_Y))
	assert_eq "$((a[2] - b[2])) $((a[3] - b[3]))" "$total_p $total_b" "everything counted"
	assert_eq "$((a[0] - b[0])) $((a[1] - b[1] + l2drop * (a[0] - b[0])))" "$total_p $total_b" \
		"$dev $cdir counter"
}

@test "two CPUs at xdp driver mode: exact per-CPU IP counts and shared flow counts" {
	mc_case xdp --xdp-mode driver
}

@test "two CPUs at xdp skb mode: exact per-CPU IP counts and shared flow counts" {
	mc_case xdp --xdp-mode skb
}

@test "two CPUs at tc-ingress: exact per-CPU IP counts and shared flow counts" {
	mc_case tc-ingress
}

@test "two CPUs at tc-egress --count-by src: exact per-CPU IP counts and shared flow counts" {
	mc_case tc-egress --count-by src
}
