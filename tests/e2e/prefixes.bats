#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2154 # bats: each @test is a subshell; run sets $stderr
# Prefix rows (issue 19): overflow of a full IP map into the prefix map
# (attach --overflow-prefix, --prefix-map-size), aggregation rules (attach
# and set --aggregate, --no-aggregate) and their usage errors. The maps are
# read with bpftool + jq, key fields and all (is_prefix, prefix_len), so the
# checks do not depend on how the readers show prefix rows.

load helpers

setup() {
	tfc_e2e_setup
	[ -x "$TFC_HELPERS/flood_send" ] || {
		echo "missing $TFC_HELPERS/flood_send" >&2
		return 1
	}
	BG_PIDS=()
}

teardown() {
	local pid
	for pid in ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	tfc_e2e_teardown
}

# rows MAP -> one JSON row per entry of a pinned IP-keyed map (IP map or
# prefix map): {ip, len, prefix, packets, bytes}, per-CPU values summed.
rows() {
	bpftool -j map dump pinned "$PIN/$1" | jq -c '[.[] | .formatted
		| (.values // [{value: .value}]) as $v
		| {ip: (if .key.family == 4 then (.key.addr[0:4] | map(tostring) | join("."))
			else (.key.addr | map(tostring) | join(",")) end),
		   len: .key.prefix_len, prefix: .key.is_prefix,
		   packets: ($v | map(.value.packets) | add), bytes: ($v | map(.value.bytes) | add)}]'
}

# totals ROWS_JSON -> "packets bytes"
totals() {
	jq -r '"\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"' <<<"$1"
}

# counted NS -> "packets bytes": IP map + prefix map + exclusive statistics
# + dropped (both maps full): every frame the programs saw, once.
counted() {
	local ip pfx st
	ip=$(totals "$(rows traffic_counters_ip)") || return 1
	pfx=$(totals "$(rows traffic_counters_prefix)") || return 1
	st=$(status_json "$1" | jq -r --argjson ex "$EXCLUSIVE_JSON" '
		([$ex[] as $r | .stats[$r].packets // 0] | add) as $sp
		| ([$ex[] as $r | .stats[$r].bytes // 0] | add) as $sb
		| "\($sp + .dropped_packets) \($sb + .dropped_bytes)"') || return 1
	echo "$((${ip% *} + ${pfx% *} + ${st% *})) $((${ip#* } + ${pfx#* } + ${st#* }))"
}

# The interface's rx counter and counted(), read until two readings agree.
quiet_rx() {
	local prev="" cur i
	for ((i = 0; i < 40; i++)); do
		cur="$(iface_counter "$NS_B" "$DEV_B" rx) $(counted "$NS_B")" || return 1
		[ "$cur" = "$prev" ] && {
			echo "$cur"
			return 0
		}
		prev=$cur
		sleep 0.3
	done
	echo "no quiet moment on $DEV_B in 12 s: last reading $cur" >&2
	return 1
}

# control FIELD -> a field of the pinned control entry
control() {
	bpftool -j map dump pinned "$PIN/traffic_control" | jq -r ".[0].formatted.value.$1"
}

# rules -> the trie's rules, "family/address-bytes/prefixlen=len" sorted
rules() {
	bpftool -j map dump pinned "$PIN/traffic_aggregate" | jq -r '.[] | .formatted
		| "\(.key.data[0]) \(.key.data[1:5] | map(tostring) | join(".")) \(.key.prefixlen)=\(.value.prefix_len)"' |
		sort
}

# flood FRAMES SOURCES [FIRST_SOURCE]: UDP frames A -> B from SOURCES
# addresses counted up from FIRST_SOURCE (default 198.18.1.0), 60 bytes each.
flood() {
	local out
	out=$(timeout 60 ip netns exec "$NS_A" "$TFC_HELPERS/flood_send" "$DEV_A" "$MAC_B" \
		"${3:-198.18.1.0}" "$B4" 5000 6000 18 "$1" "$2") || return 1
	read -r FLOOD_SENT FLOOD_LEN _ <<<"$out"
	assert_eq "$FLOOD_SENT" "$1" "frames sent"
}

# ---------------------------------------------------------------- overflow --

@test "5000 sources into a 1000-entry IP map: addresses plus /24 rows are what was sent, and the interface's count" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B" --ip-map-size 1000
	assert_eq "$(control overflow_v4) $(control overflow_v6)" "24 48" "default overflow"
	assert_eq "$(control prefix_map_capacity)" 16384 "prefix map capacity"
	local before after
	before=$(quiet_rx)

	# Two rounds over 198.18.1.0 .. 198.18.20.135: 2 frames a source.
	flood 10000 5000
	after=$(quiet_rx)
	echo "snapshots (ifpackets ifbytes counted_packets counted_bytes): $before -> $after"
	local -a b a
	read -r -a b <<<"$before"
	read -r -a a <<<"$after"
	local ifp=$((a[0] - b[0])) ifb=$((a[1] - b[1])) cp=$((a[2] - b[2])) cb=$((a[3] - b[3]))
	# veth's XDP path counts rx bytes without the Ethernet header (counting.bats).
	ifb=$((ifb + 14 * ifp))
	assert_eq "$cp $cb" "$ifp $ifb" "counted vs $DEV_B rx"
	assert_eq "$cp $cb" "10000 $((10000 * FLOOD_LEN))" "counted vs sent"

	local ip pfx
	ip=$(rows traffic_counters_ip)
	pfx=$(rows traffic_counters_prefix)
	assert_eq "$(jq length <<<"$ip")" 1000 "IP map entries (full)"
	assert_eq "$(status_json "$NS_B" | jq '"\(.dropped_packets) \(.dropped_bytes)"')" '"0 0"' \
		"dropped (the prefix map had room)"
	# An address row holds both of its frames; no address row is a prefix.
	assert_eq "$(jq --argjson l "$FLOOD_LEN" '[.[] | select(.prefix != 0 or .len != 0
		or .packets != 2 or .bytes != 2 * $l)] | length' <<<"$ip")" 0 "odd address rows"
	# Prefix rows: /24, host bits zero, one per /24 the overflowing sources are in.
	assert_eq "$(jq '[.[] | select(.prefix != 1 or .len != 24 or (.ip | endswith(".0") | not))]
		| length' <<<"$pfx")" 0 "odd prefix rows"
	# Per /24: 2 x its sources = its prefix row + its address rows.
	local want got
	want=$(jq -rn '[range(0; 5000) | 256 + . | "198.18.\(./256 | floor).0"]
		| group_by(.) | map("\(.[0]) \(2 * length)") | .[]')
	got=$(jq -rn --argjson ip "$ip" --argjson pfx "$pfx" '
		[($ip[] | {n: (.ip | sub("\\.[0-9]+$"; ".0")), p: .packets}),
		 ($pfx[] | {n: .ip, p: .packets})]
		| group_by(.n) | map("\(.[0].n) \(map(.p) | add)") | .[]')
	assert_eq "$got" "$want" "packets per /24"
	[ "$(jq length <<<"$pfx")" -ge 16 ]
}

@test "set --overflow-prefix: another length at run time, and 0 sends a full map's misses to ip_map_full" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B" --ip-map-size 100 --overflow-prefix 16,64 \
		--prefix-map-size 2000
	assert_eq "$(control overflow_v4) $(control overflow_v6)" "16 64" "attach --overflow-prefix"
	assert_eq "$(bpftool -j map show pinned "$PIN/traffic_counters_prefix" | jq .max_entries)" \
		2000 "--prefix-map-size"
	flood 300 300
	wait_eq 5 "300 $((300 * FLOOD_LEN))" counted "$NS_B"
	assert_eq "$(rows traffic_counters_prefix | jq -c 'map([.ip, .len, .packets])')" \
		'[["198.18.0.0",16,200]]' "one /16 row"

	run --separate-stderr tfc_in "$NS_B" set --overflow-prefix 20,0
	echo "set: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[[ $stderr == *"IPv4 /20, IPv6 off"* ]]
	flood 100 100 198.18.32.0
	wait_eq 5 "400 $((400 * FLOOD_LEN))" counted "$NS_B"
	assert_eq "$(rows traffic_counters_prefix | jq -c 'sort_by(.ip) | map([.ip, .len, .packets])')" \
		'[["198.18.0.0",16,200],["198.18.32.0",20,100]]' "a /20 row after set"

	tfc_in "$NS_B" set --overflow-prefix 0 2>/dev/null
	assert_eq "$(control overflow_v4) $(control overflow_v6)" "0 0" "overflow off"
	flood 50 50 198.18.64.0
	wait_eq 5 "450 $((450 * FLOOD_LEN))" counted "$NS_B"
	assert_eq "$(status_json "$NS_B" | jq -r '"\(.dropped_packets) \(.stats.ip_map_full.packets)"')" \
		"50 50" "misses into a full map with overflow off"
	assert_eq "$(totals "$(rows traffic_counters_prefix)")" "300 $((300 * FLOOD_LEN))" \
		"prefix rows unchanged"
}

# ------------------------------------------------------------- aggregation --

@test "--aggregate 0.0.0.0/0=24,198.18.0.0/15=32: the longest rule wins; rules shown in the trie" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B" --aggregate 0.0.0.0/0=24,198.18.0.0/15=32
	assert_eq "$(rules)" "$(printf '4 0.0.0.0 8=24\n4 198.18.0.0 23=32')" "rules in the trie"
	assert_eq "$(($(control flags) & 2))" 2 "TFC_FLAG_AGGREGATE"
	# Test traffic stays in 198.18.0.0/15: every source is counted on its own.
	flood 40 20
	wait_eq 5 "40 $((40 * FLOOD_LEN))" counted "$NS_B"
	assert_eq "$(rows traffic_counters_ip | jq '[.[] | select(.prefix == 0 and .packets == 2)] | length')" \
		20 "addresses under 198.18.0.0/15=32"

	# The same shape inside the test range: 198.18.0.0/16 per address, the
	# rest of 198.18.0.0/15 by /24, replacing the rules in force.
	tfc_in "$NS_B" set --aggregate 198.18.0.0/15=24,198.18.0.0/16=32 2>/dev/null
	assert_eq "$(rules)" "$(printf '4 198.18.0.0 23=24\n4 198.18.0.0 24=32')" "rules replaced"
	flood 30 30 198.19.7.0
	flood 10 10 198.18.9.0
	wait_eq 5 "80 $((80 * FLOOD_LEN))" counted "$NS_B"
	assert_eq "$(rows traffic_counters_ip | jq -c '[.[] | select(.prefix == 1)] | map([.ip, .len, .packets])')" \
		'[["198.19.7.0",24,30]]' "198.19.7.0/24 as one row"
	assert_eq "$(rows traffic_counters_ip | jq '[.[] | select(.prefix == 0 and (.ip | startswith("198.18.9.")))] | length')" \
		10 "198.18.9.x per address"
	assert_eq "$(totals "$(rows traffic_counters_prefix)")" "0 0" "no overflow"
}

@test "set --aggregate while a flood runs: rules replaced twice and removed, not one frame lost" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B" --aggregate 198.18.0.0/15=24
	local frames=400000 out=$BATS_TEST_TMPDIR/flood.out pid
	timeout 60 ip netns exec "$NS_A" "$TFC_HELPERS/flood_send" "$DEV_A" "$MAC_B" 198.18.1.0 \
		"$B4" 5000 6000 18 "$frames" 64 >"$out" &
	pid=$!
	BG_PIDS+=("$pid")
	ip_rows_present() {
		[ "$(bpftool -j map dump pinned "$PIN/traffic_counters_ip" | jq length)" -gt 0 ]
	}
	wait_until 5 ip_rows_present
	local rule
	for rule in 198.18.0.0/15=32 198.18.0.0/15=16 198.18.0.0/16=28,198.18.1.0/24=32; do
		run --separate-stderr tfc_in "$NS_B" set --aggregate "$rule"
		echo "set --aggregate $rule: exit $status, stderr '$stderr'"
		[ "$status" -eq 0 ]
	done
	run --separate-stderr tfc_in "$NS_B" set --no-aggregate
	[ "$status" -eq 0 ]
	[[ $stderr == *"aggregation off"* ]]
	kill -0 "$pid" 2>/dev/null || {
		echo "FAIL: the flood ended before the last change: they did not overlap" >&2
		return 1
	}
	wait "$pid"
	local sent len
	read -r sent len _ <"$out"
	assert_eq "$sent" "$frames" "frames sent"
	wait_eq 10 "$frames $((frames * len))" counted "$NS_B"
	assert_eq "$(rules)" "" "no rule left"
	assert_eq "$(($(control flags) & 2))" 0 "TFC_FLAG_AGGREGATE cleared"
	local ip
	ip=$(rows traffic_counters_ip)
	echo "rows: $(jq -c 'map([.ip, .len, .packets])' <<<"$ip")"
	# Each rule set counted some of the flood: /24, addresses, /16, /28.
	[ "$(jq '[.[] | select(.len == 24)] | length' <<<"$ip")" -eq 1 ]
	[ "$(jq '[.[] | select(.len == 16)] | length' <<<"$ip")" -eq 1 ]
	[ "$(jq '[.[] | select(.len == 0)] | length' <<<"$ip")" -eq 64 ]
	assert_eq "$(totals "$(rows traffic_counters_prefix)")" "0 0" "no overflow"
}

# ---------------------------------------------------------- usage errors --

@test "prefix options: usage errors are one line and exit 2, nothing attached or changed" {
	make_pair nov6
	local args
	for args in "--overflow-prefix 33,48" "--overflow-prefix 24" "--overflow-prefix 24,129" \
		"--aggregate 10.0.0.0/8=7" "--aggregate 10.0.0.1/8=24" "--aggregate fd00::/8=129" \
		"--aggregate 198.18.0.0/15" "--prefix-map-size 0"; do
		# shellcheck disable=SC2086 # split on purpose: option and value
		run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" $args
		echo "attach $args: exit $status, stderr '$stderr'"
		assert_usage_error
		[[ $stderr == *"${args%% *}: "* ]]
	done
	[ ! -e "$PIN" ]
	nothing_attached "$NS_B" "$DEV_B"

	tfc_attach "$NS_B" --iface "$DEV_B" --aggregate 198.18.0.0/15=24
	for args in "--aggregate 10.0.0.0/8=24,10.0.0.0/8=16" "--aggregate x" \
		"--overflow-prefix ,48"; do
		# shellcheck disable=SC2086
		run --separate-stderr tfc_in "$NS_B" set $args
		echo "set $args: exit $status, stderr '$stderr'"
		assert_usage_error
	done
	run --separate-stderr tfc_in "$NS_B" set --aggregate 198.18.0.0/15=32 --no-aggregate
	assert_usage_error
	[[ $stderr == *"--no-aggregate: conflicts with --aggregate"* ]]
	assert_eq "$(rules)" "4 198.18.0.0 23=24" "rules untouched"
	assert_eq "$(control overflow_v4) $(control overflow_v6)" "24 48" "overflow untouched"
	# A size other than the pinned map's needs --migrate.
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --prefix-map-size 64
	assert_error_status 1
	[[ $stderr == *"traffic_counters_prefix has 16384 entries but --prefix-map-size asks for 64: add --migrate"* ]]
}

@test "apply: PREFIX_MAP_SIZE, OVERFLOW_PREFIX and AGGREGATE from the file; --check shows them" {
	make_pair nov6
	local config=$BATS_TEST_TMPDIR/traffic-counter.conf
	printf 'ATTACH="%s:xdp"\nPREFIX_MAP_SIZE=512\nOVERFLOW_PREFIX=22,56\nAGGREGATE="198.18.0.0/15=24"\n' \
		"$DEV_B" >"$config"
	run --separate-stderr tfc_in "$NS_B" apply --check --config "$config"
	echo "check: exit $status, out '$output', stderr '$stderr'"
	[ "$status" -eq 0 ]
	[[ $output == *"prefix map size: 512"*"overflow prefix: 22,56"*"aggregate: 198.18.0.0/15=24"* ]]
	run --separate-stderr tfc_in "$NS_B" apply --config "$config"
	echo "apply: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$(control overflow_v4) $(control overflow_v6) $(control prefix_map_capacity)" \
		"22 56 512" "control"
	assert_eq "$(rules)" "4 198.18.0.0 23=24" "rules"
	sed -i 's/^AGGREGATE=.*/AGGREGATE=none/' "$config"
	tfc_in "$NS_B" apply --config "$config" 2>/dev/null
	assert_eq "$(rules)" "" "AGGREGATE=none removes the rules"
	sed -i 's/^AGGREGATE=.*/AGGREGATE=10.0.0.0\/8=4/' "$config"
	run --separate-stderr tfc_in "$NS_B" apply --check --config "$config"
	[ "$status" -ne 0 ]
	[[ $stderr == *":4: AGGREGATE: '10.0.0.0/8=4': LEN must be 8..32"* ]]
}

@test "detach --purge removes the prefix map and the rules trie" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B" --aggregate 198.18.0.0/15=24
	[ -e "$PIN/traffic_counters_prefix" ]
	[ -e "$PIN/traffic_aggregate" ]
	run --separate-stderr tfc_in "$NS_B" detach --all --purge
	echo "purge: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[[ $stderr == *"removed $PIN/traffic_counters_prefix"*"removed $PIN/traffic_aggregate"* ]]
	[ ! -e "$PIN" ]
}
