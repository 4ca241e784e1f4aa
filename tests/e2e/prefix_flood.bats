#!/usr/bin/env bats
# A flood from random sources on two CPUs into a small IP map, while it
# fills and again after entries are deleted and ip_map_frees is bumped:
# every frame lands exactly once, in the IP map, in the prefix map (overflow
# at the default /24) or in ip_map_full, whatever each CPU's memo of a full
# map says (openspec/changes/0025-prefix-maps.md). Two senders pinned to
# different CPUs (taskset); on veth the receiving side runs on the sending
# CPU, and a two-queue veth with XPS gives each CPU its own rx queue.

load helpers

PF_FRAMES=100000 # per sender and round
PF_IP_MAP=256
PF_NET=198.18.0.0 # sources: random in 198.18.0.0/16, 256 /24 prefixes
PF_BITS=16
PF_DST=198.19.0.2
# Round 3: IPv6 sources random in the 40 bits after fd00::/24, a new /48
# nearly every frame: more prefixes than the prefix map has rows.
PF6_NET=fd00::
PF6_BITS=40
PF6_DST=fd00:ffff::2
PF_PREFIX_ROWS=16384 # TFC_PREFIX_MAP_DEFAULT_ENTRIES

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
	local h
	for h in spray_send bump_frees; do
		[ -x "$TFC_HELPERS/$h" ] || {
			echo "missing $TFC_HELPERS/$h (make build/tests/helpers/$h)" >&2
			return 1
		}
	done
	make_bare_pair 2
	set_xps "$NS_A" "$DEV_A" 0 "$CPU_X"
	set_xps "$NS_A" "$DEV_A" 1 "$CPU_Y"
}

teardown() {
	tfc_e2e_teardown
}

# spray_both SEED_X SEED_Y [NET BITS DST]: one spray_send per CPU at the same
# time, each PF_FRAMES frames (IPv4 from PF_NET/16 unless given); checks
# both sent everything on their CPU, sets PF_LEN.
spray_both() {
	local tmp=$BATS_TEST_TMPDIR pid_x pid_y rc_x=0 rc_y=0
	local net=${3:-$PF_NET} bits=${4:-$PF_BITS} dst=${5:-$PF_DST}
	timeout 60 ip netns exec "$NS_A" taskset -c "$CPU_X" "$TFC_HELPERS/spray_send" "$DEV_A" \
		"$MAC_B" "$net" "$bits" "$dst" "$PF_FRAMES" "$1" >"$tmp/x.out" &
	pid_x=$!
	timeout 60 ip netns exec "$NS_A" taskset -c "$CPU_Y" "$TFC_HELPERS/spray_send" "$DEV_A" \
		"$MAC_B" "$net" "$bits" "$dst" "$PF_FRAMES" "$2" >"$tmp/y.out" &
	pid_y=$!
	wait "$pid_x" || rc_x=$?
	wait "$pid_y" || rc_y=$?
	local -a x y
	read -r -a x <"$tmp/x.out"
	read -r -a y <"$tmp/y.out"
	echo "senders: exit $rc_x: ${x[*]}; exit $rc_y: ${y[*]} (sent len cpu0 cpu1)"
	assert_eq "$rc_x $rc_y" "0 0" "exit status of the senders"
	assert_eq "${x[0]} ${y[0]}" "$PF_FRAMES $PF_FRAMES" "frames sent"
	assert_eq "${x[2]} ${x[3]} ${y[2]} ${y[3]}" "$CPU_X $CPU_X $CPU_Y $CPU_Y" \
		"CPUs the senders ran on (first and last frame)"
	PF_LEN=${x[1]}
}

# The prefix map of the attached program: a plain hash of 24-byte keys among
# its maps (the IP map is per-CPU, the flow map an LRU).
prefix_map_id() {
	local prog id
	prog=$(status_json "$NS_B" | jq -r '.attachments[0].prog_id')
	for id in $(bpftool -j prog show id "$prog" | jq -r '.map_ids[]'); do
		bpftool -j map show id "$id" | jq -e '.type == "hash" and .bytes_key == 24' \
			>/dev/null && echo "$id" && return 0
	done
	echo "no prefix map among the maps of program $prog" >&2
	return 1
}

ip_dump() { bpftool -j map dump pinned "$PIN/traffic_counters_ip"; }

# totals -> "packets bytes" of IP map + prefix map + ip_map_full
totals() {
	local ip pfx st
	ip=$(ip_dump | jq -r '[.[].formatted.values[].value] |
		"\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"') || return 1
	pfx=$(bpftool -j map dump id "$PF_MAP" | jq -r '[.[].formatted.value] |
		"\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"') || return 1
	st=$(status_json "$NS_B" | jq -r '"\(.stats.ip_map_full.packets // 0) \(.stats.ip_map_full.bytes // 0) \(.dropped_packets) \(.dropped_bytes)"') || return 1
	local -a i p s
	read -r -a i <<<"$ip"
	read -r -a p <<<"$pfx"
	read -r -a s <<<"$st"
	# ip_map_full mirrors dropped_*: both or neither.
	[ "${s[0]} ${s[1]}" = "${s[2]} ${s[3]}" ] || {
		echo "ip_map_full ${s[0]} ${s[1]} but dropped ${s[2]} ${s[3]}" >&2
		return 1
	}
	PF_PARTS="ip ${i[0]}, prefix ${p[0]}, ip_map_full ${s[0]}"
	echo "$((i[0] + p[0] + s[0])) $((i[1] + p[1] + s[1]))"
}

rx_packets() { iface_counter "$NS_B" "$DEV_B" rx | cut -d' ' -f1; }

# Both CPUs counted into the IP map (the flood really ran on two CPUs).
cpus_in_ip_map() {
	ip_dump | jq -r '[.[].formatted.values[] | select(.value.packets > 0) | .cpu] | unique | map(tostring) | join(" ")'
}

# Every prefix row is an IPv4 /24 or an IPv6 /48 (the overflow defaults)
# with its host bits zero, ingress, on DEV_B.
assert_prefix_rows() {
	local bad
	bad=$(bpftool -j map dump id "$PF_MAP" | jq --argjson ifx "$IFX_B" '[.[].formatted.key |
		select(.is_prefix != 1 or .direction != 0 or .ifindex != $ifx
			or ((.family != 4 or .prefix_len != 24 or (.addr[3:] | add) != 0)
			and (.family != 6 or .prefix_len != 48 or (.addr[6:] | add) != 0)))]
		| length')
	assert_eq "$bad" 0 "prefix rows that are not ingress IPv4 /24s or IPv6 /48s"
}

pf_case() {
	local point=$1
	shift
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point "$point" --ip-map-size "$PF_IP_MAP" "$@"
	PF_MAP=$(prefix_map_id)
	local rx0 sent
	rx0=$(rx_packets)

	# 1. The map fills while both CPUs flood it.
	spray_both 11 12
	sent=$((2 * PF_FRAMES))
	wait_eq 10 "$sent $((sent * PF_LEN))" totals
	totals >/dev/null
	echo "round 1: $PF_PARTS"
	assert_eq "$(ip_dump | jq length)" "$PF_IP_MAP" "IP entries (full)"
	assert_eq "$(cpus_in_ip_map)" "$CPU_X $CPU_Y" "CPUs that counted into the IP map"
	[ "$(bpftool -j map dump id "$PF_MAP" | jq length)" -gt 0 ]
	assert_prefix_rows
	assert_eq "$(($(rx_packets) - rx0))" "$sent" "$DEV_B rx packets"

	# 2. Delete a quarter of the IP entries (their counts go with them), bump
	# ip_map_frees, flood again: the map refills, and still nothing is lost.
	local keys gone_p gone_b k
	keys=$(ip_dump | jq -r '.[:64][] | .key | map(ltrimstr("0x")) | join(" ")')
	read -r gone_p gone_b < <(ip_dump | jq -r '[.[:64][].formatted.values[].value] |
		"\(map(.packets) | add) \(map(.bytes) | add)"')
	while read -r k; do
		# shellcheck disable=SC2086 # the key's bytes are separate words
		bpftool map delete pinned "$PIN/traffic_counters_ip" key hex $k
	done <<<"$keys"
	assert_eq "$(ip_dump | jq length)" "$((PF_IP_MAP - 64))" "IP entries after the delete"
	echo "ip_map_frees now $(nsenter --net="/run/netns/$NS_B" "$TFC_HELPERS/bump_frees" \
		"$PIN/traffic_control")"
	spray_both 21 22
	local want_p=$((2 * sent - gone_p)) want_b=$((2 * sent * PF_LEN - gone_b))
	wait_eq 10 "$want_p $want_b" totals
	totals >/dev/null
	echo "round 2 (after deleting $gone_p packets in 64 entries): $PF_PARTS"
	assert_eq "$(ip_dump | jq length)" "$PF_IP_MAP" "IP entries (refilled)"
	assert_prefix_rows
	assert_eq "$(($(rx_packets) - rx0))" "$((2 * sent))" "$DEV_B rx packets"
	assert_eq "$(status_json "$NS_B" | jq .dropped_packets)" 0 "dropped before round 3"

	# 3. IPv6 from more /48s than the prefix map has rows: it fills, and the
	# rest lands in ip_map_full, still frame for frame.
	local len4=$PF_LEN
	spray_both 31 32 "$PF6_NET" "$PF6_BITS" "$PF6_DST"
	want_p=$((want_p + sent))
	want_b=$((want_b + sent * PF_LEN))
	echo "IPv6 frames of $PF_LEN bytes (IPv4 $len4)"
	wait_eq 10 "$want_p $want_b" totals
	totals >/dev/null
	echo "round 3: $PF_PARTS"
	assert_eq "$(bpftool -j map dump id "$PF_MAP" | jq length)" "$PF_PREFIX_ROWS" \
		"prefix rows (full)"
	[ "$(status_json "$NS_B" | jq .dropped_packets)" -gt 0 ]
	assert_prefix_rows
	assert_eq "$(($(rx_packets) - rx0))" "$((3 * sent))" "$DEV_B rx packets"
}

@test "random-source flood on two CPUs at xdp: IP map + prefix map + ip_map_full = sent" {
	pf_case xdp --xdp-mode driver
}

@test "random-source flood on two CPUs at tc-ingress: IP map + prefix map + ip_map_full = sent" {
	pf_case tc-ingress
}
