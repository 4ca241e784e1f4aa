#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2154 # bats: each @test is a subshell; run sets $stderr
# README claims about attaching that no other test checks (issue 17):
# running with capabilities instead of root, re-attach and upgrade under a
# flood without losing a frame, tcp_flags as the OR over a flow's life,
# attach mounting bpffs, exact flow_evictions, and what -v shows.

load helpers

TFC_OLD_BIN=${TFC_OLD_BIN:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build-abi1/traffic-counter}

# The capabilities the README names, and nothing else (no CAP_SYS_ADMIN, no
# CAP_DAC_OVERRIDE): for setpriv.
CAPS=+bpf,+net_admin,+perfmon

setup() {
	tfc_e2e_setup
	make_pair nov6
	TFCE_PINS+=("$PIN-a")
	MNT_PID=
	AS=()
}

teardown() {
	# Pins made in a private mount namespace are only visible there.
	if [ -n "${MNT_PID:-}" ]; then
		AS=()
		tfc_in "$NS_B" detach --all --purge >/dev/null 2>&1 || true
		tfc_in "$NS_A" detach --all --purge >/dev/null 2>&1 || true
		kill "$MNT_PID" 2>/dev/null || true
		wait "$MNT_PID" 2>/dev/null || true
	fi
	tfc_e2e_teardown
}

# tfc_in_pin (helpers.bash) with two additions: inside the private mount
# namespace of MNT_PID when set, and through the command prefix AS (setpriv)
# when set. Every reader in helpers.bash (ip_counts, status_json, ...) goes
# through it.
tfc_in_pin() {
	local pin=$1 ns=$2 cmd=$3 mnt=()
	shift 3
	[ -z "${MNT_PID:-}" ] || mnt=(--mount="/proc/$MNT_PID/ns/mnt")
	# One pin directory per network namespace (openspec/changes/0012).
	[ "$ns" != "$NS_A" ] || pin=$pin-a
	timeout 60 nsenter ${mnt[@]+"${mnt[@]}"} --net="/run/netns/$ns" ${AS[@]+"${AS[@]}"} \
		"$TFC_BIN" "$cmd" --pin-dir "$pin" "$@"
}

# bpffs_mounts: the machine's mounts on /sys/fs/bpf (mount id, type, source)
bpffs_mounts() {
	awk '$5 == "/sys/fs/bpf" { print $1, $(NF - 2), $(NF - 1) }' /proc/self/mountinfo
}

# flood_bg FRAMES OUT: flood_send FRAMES UDP frames A -> B in the background
# (FLOOD_PID), its report in OUT.
flood_bg() {
	timeout 60 ip netns exec "$NS_A" "$TFC_HELPERS/flood_send" "$DEV_A" "$MAC_B" "$A4" "$B4" \
		5000 6000 18 "$1" >"$2" 3>&- &
	FLOOD_PID=$!
}

counted_packets() { # counted_packets -> packets counted under A4 on the receiver
	ip_counts "$NS_B" "$A4" ingress "$IFX_B" | cut -d' ' -f1
}

# wait_counting: until the flood's first frames are counted (5 s at most).
wait_counting() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(counted_packets)" -gt 0 ] && return 0
		sleep 0.05
	done
	echo "FAIL: no frame of the flood counted in 5 s" >&2
	return 1
}

# flood_check FRAMES OUT RX_BEFORE: the flood sent FRAMES, every one is
# counted once, and the receiver's interface received exactly as many.
flood_check() {
	local frames=$1 out=$2 rx_before=$3 sent len rx_after
	wait "$FLOOD_PID"
	read -r sent len _ <"$out"
	assert_eq "$sent" "$frames" "frames sent"
	wait_eq 10 "$frames $((frames * len))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	rx_after=$(iface_counter "$NS_B" "$DEV_B" rx)
	assert_eq "$((${rx_after% *} - ${rx_before% *}))" "$frames" "packets $DEV_B received"
}

# ---------------------------------------------------------- capabilities --

@test "not root, CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON only: attach, status, dump-maps, detach" {
	# A bpffs of its own in a private mount namespace, mounted as
	# `mount -t bpf bpf` does (mode 1777): uid nobody makes its pin dir there.
	mnt_ns_start
	in_mnt mount -t bpf bpf /sys/fs/bpf
	AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps="-all,$CAPS"
		--ambient-caps="-all,$CAPS" --bounding-set="-all,$CAPS")
	assert_eq "$(in_mnt nsenter --net="/run/netns/$NS_B" "${AS[@]}" sh -c \
		'id -u; grep -E "^Cap(Eff|Bnd)" /proc/self/status' | tr '\t\n' '  ')" \
		"65534 CapEff: 000000c000001000 CapBnd: 000000c000001000 " "uid and capabilities"

	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	tfc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress
	assert_eq "$(in_mnt stat -c '%U %a' "$PIN")" "nobody 700" "pin dir"
	ping4 10
	wait_eq 5 "10 $((10 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "10 $((10 * PING4_FRAME))" ip_counts "$NS_A" "$B4" egress "$IFX_A"
	wait_eq 5 "10 $((10 * PING4_FRAME))" flow_counts "$NS_B" "$A4" "$B4" 0 0 1 ingress "$IFX_B"
	run --separate-stderr tfc_in "$NS_B" dump-maps
	[ "$status" -eq 0 ] && [[ $output == *"$A4"* ]]

	local st
	st=$(status_json "$NS_B")
	assert_eq "$(jq -c '[.attachments[] | .attach_point] | sort' <<<"$st")" \
		'["xdp"]' "attachments in status"
	mapfile -t PROG_IDS < <(status_json "$NS_A" | jq -r '.attachments[].prog_id')

	run --separate-stderr tfc_in "$NS_A" detach --iface "$DEV_A" --attach-point tc-egress
	[ "$status" -eq 0 ]
	nothing_attached "$NS_A" "$DEV_A"
	mapfile -t PROG_IDS < <(jq -r '.attachments[].prog_id' <<<"$st")
	run --separate-stderr tfc_in "$NS_B" detach --all --purge
	[ "$status" -eq 0 ]
	nothing_attached "$NS_B" "$DEV_B"
	[ "$(in_mnt find "$PIN" -mindepth 1 -not -type d | wc -l)" -eq 0 ]
}

# ------------------------------------------------- re-attach under flood --

# hook_ids: what re-attach must keep: the id of each pinned link (XDP, TCX),
# the priority and handle of a netlink filter.
hook_ids() {
	local f
	for f in $(link_pins); do
		case $f in
		*-netlink)
			tc -n "$NS_B" -j filter show dev "$DEV_B" ingress |
				jq -c '[.[] | select(.options.prog) | [.pref, .options.handle]]'
			;;
		*) bpftool -j link show pinned "$f" | jq .id ;;
		esac
	done
}

# reattach_under_flood POINT [ATTACH ARGS...]: attach to the receiver, then
# attach again (the program replaced in place) while a flood runs.
reattach_under_flood() {
	local point=$1 frames=1000000 out=$BATS_TEST_TMPDIR/flood.out rx id1 id2 n_before n_after hooks
	shift
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point "$point" "$@"
	id1=$(prog_ids "$NS_B")
	hooks=$(hook_ids)
	[ -n "$hooks" ]
	rx=$(iface_counter "$NS_B" "$DEV_B" rx)
	flood_bg "$frames" "$out"
	wait_counting
	n_before=$(counted_packets)
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point "$point" "$@"
	# Replaced in place: the same link (or filter), not a new one.
	assert_eq "$(hook_ids)" "$hooks" "link id (filter priority and handle)"
	n_after=$(counted_packets)
	kill -0 "$FLOOD_PID" 2>/dev/null || {
		echo "FAIL: the flood ended before the re-attach did: they did not overlap" >&2
		return 1
	}
	echo "counted before the re-attach $n_before, after it $n_after of $frames"
	[ "$n_after" -lt "$frames" ]
	id2=$(prog_ids "$NS_B")
	[ "$id1" != "$id2" ] && [ "$(wc -w <<<"$id2")" -eq 1 ]
	flood_check "$frames" "$out" "$rx"
	wait_gone 5 bpftool prog show id "$id1"
}

@test "re-attach xdp under a flood: the program replaced, not one frame lost or doubled" {
	reattach_under_flood xdp
}

@test "re-attach tc-ingress (TCX) under a flood: not one frame lost or doubled" {
	kernel_has_tcx || skip "no TCX before Linux 6.6"
	reattach_under_flood tc-ingress --tc-api tcx
}

@test "re-attach tc-ingress (netlink filter) under a flood: not one frame lost or doubled" {
	reattach_under_flood tc-ingress --tc-api netlink
}

@test "upgrade from the ABI=1 build (attach --migrate) under a flood: not one frame lost" {
	[ -x "$TFC_OLD_BIN" ] || {
		echo "no build of the old layout at $TFC_OLD_BIN: make old-abi-build" >&2
		return 1
	}
	local frames=1000000 out=$BATS_TEST_TMPDIR/flood.out rx n_before n_after id1 id2 hooks
	timeout 60 nsenter --net="/run/netns/$NS_B" "$TFC_OLD_BIN" attach --pin-dir "$PIN" \
		--iface "$DEV_B" --attach-point tc-ingress
	id1=$(timeout 60 nsenter --net="/run/netns/$NS_B" "$TFC_OLD_BIN" status --pin-dir "$PIN" \
		--json | jq -r '.attachments[].prog_id')
	hooks=$(hook_ids)
	[ -n "$hooks" ]
	rx=$(iface_counter "$NS_B" "$DEV_B" rx)
	flood_bg "$frames" "$out"
	wait_counting
	n_before=$(counted_packets)
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --attach-point tc-ingress \
		--migrate
	echo "migrate: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[[ $stderr == *"migrated the maps in $PIN to layout version $CUR_LAYOUT"* ]]
	n_after=$(counted_packets)
	kill -0 "$FLOOD_PID" 2>/dev/null || {
		echo "FAIL: the flood ended before the upgrade did: they did not overlap" >&2
		return 1
	}
	echo "counted before the upgrade $n_before, after it $n_after of $frames"
	[ "$n_after" -lt "$frames" ]
	assert_eq "$(hook_ids)" "$hooks" "link id: the program replaced in the same link"
	assert_eq "$(status_json "$NS_B" | jq .layout_version)" "$CUR_LAYOUT" "layout version"
	id2=$(prog_ids "$NS_B")
	[ "$id1" != "$id2" ] && [ "$(wc -w <<<"$id2")" -eq 1 ]
	flood_check "$frames" "$out" "$rx"
}

# -------------------------------------------------------------- tcp_flags --

@test "tcp_flags is the OR of every segment's flags over the flow's life" {
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	local flags
	# SYN, ACK, PSH|ACK, FIN|ACK: one segment each, in that order.
	for flags in 2 16 24 17; do
		timeout 30 ip netns exec "$NS_A" "$TFC_HELPERS/flow_send" "$DEV_A" "$MAC_B" "$A4" "$B4" \
			tcp 40000 80 1 0 0 "$flags" >/dev/null
	done
	# Another flow with SYN alone, three times.
	timeout 30 ip netns exec "$NS_A" "$TFC_HELPERS/flow_send" "$DEV_A" "$MAC_B" "$A4" "$B4" \
		tcp 40001 80 3 0 0 2 >/dev/null
	wait_eq 5 "4 $((4 * 54))" flow_counts "$NS_B" "$A4" "$B4" 40000 80 6 ingress "$IFX_B"
	wait_eq 5 "3 $((3 * 54))" flow_counts "$NS_B" "$A4" "$B4" 40001 80 6 ingress "$IFX_B"
	local flows
	flows=$(dump_flow_json "$NS_B")
	assert_eq "$(jq '.[] | select(.sport == 40000) | .tcp_flags' <<<"$flows")" 27 \
		"tcp_flags of SYN, ACK, PSH|ACK, FIN|ACK (0x1b)"
	assert_eq "$(jq '.[] | select(.sport == 40001) | .tcp_flags' <<<"$flows")" 2 \
		"tcp_flags of SYN only"
}

# ------------------------------------------------------------------ bpffs --

@test "attach mounts bpffs on /sys/fs/bpf when it is not mounted; the machine's mount untouched" {
	local host_before
	host_before=$(bpffs_mounts)
	mnt_ns_start
	# shellcheck disable=SC2016 # expanded by the inner shell
	in_mnt sh -c 'for i in 1 2 3 4; do
		[ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ] || exit 0
		umount /sys/fs/bpf || exit 1
	done; exit 1'
	assert_eq "$(in_mnt stat -f -c %T /sys/fs/bpf)" sysfs "/sys/fs/bpf before attach"

	tfc_attach "$NS_B" --iface "$DEV_B"
	assert_eq "$(in_mnt stat -f -c %T /sys/fs/bpf)" bpf_fs "/sys/fs/bpf after attach"
	in_mnt findmnt -n -o FSTYPE,OPTIONS /sys/fs/bpf
	[[ "$(in_mnt findmnt -n -o FSTYPE,OPTIONS /sys/fs/bpf)" == bpf*mode=700* ]]
	ping4 5
	wait_eq 5 "5 $((5 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	mapfile -t PROG_IDS < <(prog_ids "$NS_B")

	# The machine's mount namespace saw nothing of it.
	assert_eq "$(bpffs_mounts)" "$host_before" "the machine's bpffs mounts"
	[ ! -e "$PIN" ]

	run --separate-stderr tfc_in "$NS_B" detach --all --purge
	[ "$status" -eq 0 ]
	nothing_attached "$NS_B" "$DEV_B"
}

# -------------------------------------------------------- flow evictions --

@test "status flow_evictions is exact: flows inserted minus flows the LRU map still holds" {
	local size=32 flows=100 i
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map --flow-map-size "$size"
	for ((i = 0; i < flows; i++)); do
		timeout 10 nsenter --net="/run/netns/$NS_A" "$TFC_HELPERS/flow_send" "$DEV_A" "$MAC_B" \
			"$A4" "$B4" udp $((20000 + i)) 9 1 0 >/dev/null
	done
	wait_eq 5 "$flows $((flows * 42))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	local st entries
	st=$(status_json "$NS_B")
	entries=$(dump_flow_json "$NS_B" | jq length)
	echo "flow map entries $entries of $size; status: $(jq -c '{flow_inserts, flow_evictions}' <<<"$st")"
	[ "$entries" -gt 0 ] && [ "$entries" -le "$size" ]
	# The LRU can evict before the map is full: entries may be below size.
	assert_eq "$(jq .flow_inserts <<<"$st")" "$flows" "flow_inserts"
	assert_eq "$(jq .flow_evictions <<<"$st")" "$((flows - entries))" "flow_evictions"
}

# --------------------------------------------------------------------- -v --

@test "-v: libbpf's messages on stderr, and the verifier's log when a load fails" {
	run --separate-stderr tfc_in_raw "$NS_B" -v attach --iface "$DEV_B" --pin-dir "$PIN"
	[ "$status" -eq 0 ]
	local n
	n=$(grep -c '^libbpf: ' <<<"$stderr" || true)
	echo "-v attach: $n libbpf lines"
	[ "$n" -gt 0 ]
	[[ $stderr == *"libbpf: loading object"* ]]
	run --separate-stderr tfc_in "$NS_B" detach --all
	[ "$status" -eq 0 ]
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B"
	[ "$status" -eq 0 ]
	assert_eq "$stderr" "attached to $DEV_B at xdp; maps pinned in $PIN" \
		"stderr of attach without -v: its one line, nothing of libbpf"

	# Without CAP_PERFMON the verifier refuses the program ("pointer
	# arithmetic ... prohibited for !root"): a load failure to look at.
	local no_perfmon=-all,+bpf,+net_admin
	AS=(setpriv --inh-caps="$no_perfmon" --ambient-caps="$no_perfmon"
		--bounding-set="$no_perfmon")
	local id
	id=$(prog_ids "$NS_B")
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B"
	echo "without CAP_PERFMON: exit $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"cannot load BPF programs"*"CAP_PERFMON"* ]]
	run --separate-stderr timeout 60 nsenter --net="/run/netns/$NS_B" "${AS[@]}" "$TFC_BIN" -v \
		attach --pin-dir "$PIN" --iface "$DEV_B"
	[ "$status" -eq 1 ]
	grep -A3 'BEGIN PROG LOAD LOG' <<<"$stderr"
	grep -B3 'END PROG LOAD LOG' <<<"$stderr"
	# Pointer arithmetic on packet pointers is refused without CAP_PERFMON.
	[[ $stderr == *"-- BEGIN PROG LOAD LOG --"*"prohibited"*"processed "*" insns"*"-- END PROG LOAD LOG --"* ]]
	[[ $(tail -n 1 <<<"$stderr") == "traffic-counter: cannot load BPF programs: "* ]]
	AS=()
	assert_eq "$(prog_ids "$NS_B")" "$id" "the attachment after the failed loads"
}
