#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2154 # bats: each @test is a subshell; run sets $stderr; BG_PIDS is for bg_stop_all
# Prefix rows (issue 19) in every reader: dump-maps, status, top, serve,
# record and report. The rows are written by hand (tests/helpers/put_ip_row)
# into maps that attach made and detach left in place, so every figure is
# exact: no data path, no stray frame.

load helpers
load serve_helpers

setup() {
	tfc_e2e_setup
	BG_PIDS=()
	[ -x "$TFC_HELPERS/put_ip_row" ] || {
		echo "missing $TFC_HELPERS/put_ip_row (make $TFC_HELPERS/put_ip_row)" >&2
		return 1
	}
}

teardown() {
	bg_stop_all
	tfc_e2e_teardown
}

# prefix_maps: attach in $NS_B and detach again (the maps stay, nothing
# counts), then the prefix map when this build's attach made none yet.
prefix_maps() {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	tfc_in "$NS_B" detach --iface "$DEV_B" >/dev/null 2>&1
	[ -e "$PIN/traffic_counters_prefix" ] ||
		bpftool map create "$PIN/traffic_counters_prefix" type hash key 24 value 16 \
			entries 16384 name traffic_counters_prefix
}

put() { # put MAP DIR ADDR[/LEN] BYTES PACKETS: one row on $IFX_B
	"$TFC_HELPERS/put_ip_row" "$PIN/$1" "$IFX_B" "$2" "$3" "$4" "$5"
}

# The rows every test reads: an address and two aggregation rows in the IP
# map, three overflow rows in the prefix map, one of them the same key as
# an IP map row (summed: 500 + 70 bytes, 5 + 1 packets).
fill_rows() {
	put traffic_counters_ip in 198.18.0.1 1000 10
	put traffic_counters_ip in 198.19.0.0/16 500 5
	put traffic_counters_ip out fd00:1::/48 300 3
	put traffic_counters_prefix in 198.19.0.0/16 70 1
	put traffic_counters_prefix in 198.18.7.0/24 2000 20
	put traffic_counters_prefix in fd00:2::/48 50 1
}

@test "dump-maps: prefix rows as ADDR/LEN, prefix_len and prefix in JSON and CSV, summed with the IP map's" {
	prefix_maps
	fill_rows
	run --separate-stderr tfc_in "$NS_B" dump-maps
	echo "$output"
	[ "$status" -eq 0 ]
	local want
	want=$(printf '%-16s %-8s %-40s %14s %18s\n' IFACE DIR ADDRESS PACKETS BYTES \
		"$DEV_B" ingress 198.18.7.0/24 20 2000 \
		"$DEV_B" ingress 198.18.0.1 10 1000 \
		"$DEV_B" ingress 198.19.0.0/16 6 570 \
		"$DEV_B" egress fd00:1::/48 3 300 \
		"$DEV_B" ingress fd00:2::/48 1 50)
	assert_eq "$output" "$want" "table"

	assert_eq "$(tfc_in "$NS_B" dump-maps --json --sort ip | jq -c '.[]
		| [.ip, .prefix_len, .prefix, .direction, .bytes, .packets]')" \
		'["198.18.0.1",32,false,"ingress",1000,10]
["198.18.7.0",24,true,"ingress",2000,20]
["198.19.0.0",16,true,"ingress",570,6]
["fd00:1::",48,true,"egress",300,3]
["fd00:2::",48,true,"ingress",50,1]' "JSON --sort ip"

	assert_eq "$(tfc_in "$NS_B" dump-maps --csv --sort packets --top 2)" \
		"ip,family,direction,ifindex,ifname,bytes,packets,prefix_len,prefix
198.18.7.0,4,ingress,$IFX_B,$DEV_B,2000,20,24,true
198.18.0.1,4,ingress,$IFX_B,$DEV_B,1000,10,32,false" "CSV --sort packets --top 2"

	# --address: a prefix row shows when the whole prefix is under the CIDR.
	assert_eq "$(tfc_in "$NS_B" dump-maps --json --address 198.18.0.0/15 | jq -r '[.[].ip] | sort | join(",")')" \
		"198.18.0.1,198.18.7.0,198.19.0.0" "--address 198.18.0.0/15"
	assert_eq "$(tfc_in "$NS_B" dump-maps --json --address 198.18.7.0/25 | jq length)" 0 \
		"--address narrower than the prefix"
	assert_eq "$(tfc_in "$NS_B" dump-maps --json --address fd00::/8 | jq -r '[.[].ip] | sort | join(",")')" \
		"fd00:1::,fd00:2::" "--address fd00::/8"
}

@test "dump-maps --pin: the IP map or the prefix map alone" {
	prefix_maps
	fill_rows
	assert_eq "$(tfc_in "$NS_B" dump-maps --pin "$PIN/traffic_counters_prefix" --json --sort ip |
		jq -c '.[] | [.ip, .prefix_len, .bytes]')" \
		'["198.18.7.0",24,2000]
["198.19.0.0",16,70]
["fd00:2::",48,50]' "prefix map alone"
	assert_eq "$(tfc_in "$NS_B" dump-maps --pin "$PIN/traffic_counters_ip" --json --sort ip |
		jq -c '.[] | [.ip, .prefix_len, .bytes]')" \
		'["198.18.0.1",32,1000]
["198.19.0.0",16,500]
["fd00:1::",48,300]' "IP map alone"
}

@test "dump-maps: no prefix map pinned (maps of an earlier attach): the IP map's rows, no error" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	tfc_in "$NS_B" detach --iface "$DEV_B" >/dev/null 2>&1
	rm -f "$PIN/traffic_counters_prefix"
	put traffic_counters_ip in 198.18.0.1 1000 10
	run --separate-stderr tfc_in "$NS_B" dump-maps --json
	echo "status $status stdout $output stderr $stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_eq "$(jq -c '[.[] | [.ip, .prefix_len, .prefix]]' <<<"$output")" \
		'[["198.18.0.1",32,false]]' "rows"

	# Another program's map at the prefix map's pin: an error, not rows left out.
	bpftool map create "$PIN/traffic_counters_prefix" type array key 4 value 16 entries 1 \
		name traffic_counters_prefix
	run --separate-stderr tfc_in "$NS_B" dump-maps --json
	echo "status $status stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"$PIN/traffic_counters_prefix is not a traffic-counter traffic_counters_prefix map of this version"* ]]
}

# set_control V4 V6 AGGREGATE(0|1): the overflow lengths and the aggregation
# flag as attach --overflow-prefix / --aggregate leave them (bytes 68 and 69,
# bit 1 of the flags), written whole: nothing is attached to race with.
set_control() {
	local v4=$1 v6=$2 agg=$3 bytes
	bytes=$(bpftool -j map lookup pinned "$PIN/traffic_control" key 0 0 0 0 | jq -r \
		--argjson v4 "$v4" --argjson v6 "$v6" --argjson agg "$agg" '.value
		| map(ltrimstr("0x") | explode | map(if . >= 97 then . - 87 else . - 48 end)
			| .[0] * 16 + .[1])
		| .[0] = (if $agg == 1 then (.[0] | (. - (. % 4)) + (. % 2) + 2)
			else (.[0] | (. - (. % 4)) + (. % 2)) end)
		| .[68] = $v4 | .[69] = $v6 | map(tostring) | join(" ")')
	# shellcheck disable=SC2086 # one word per byte
	bpftool map update pinned "$PIN/traffic_control" key 0 0 0 0 value $bytes
}

@test "status: the prefix map's fill level, the overflow lengths and aggregation, text and JSON" {
	prefix_maps
	fill_rows
	set_control 24 48 1
	local st
	st=$(status_json "$NS_B")
	jq -c .prefixes <<<"$st"
	assert_eq "$(jq -c .prefixes <<<"$st")" \
		"{\"pin\":\"$PIN/traffic_counters_prefix\",\"max_entries\":16384,\"entries\":3,\"overflow_v4\":24,\"overflow_v6\":48,\"aggregate\":true}" \
		"status --json .prefixes"
	run --separate-stderr tfc_in "$NS_B" status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *$'\n'"  traffic_counters_prefix       3 / 16384    $PIN/traffic_counters_prefix"$'\n'* ]]
	[[ $output == *$'\n'"  traffic_stats                 0 / 4096     $PIN/traffic_stats"$'\n'* ]]
	[[ $output == *"overflow to prefixes: IPv4 /24, IPv6 /48"$'\n'"aggregation rules: on"* ]]

	set_control 0 64 0
	assert_eq "$(status_json "$NS_B" | jq -c '.prefixes | [.overflow_v4, .overflow_v6, .aggregate]')" \
		'[0,64,false]' "after the control changed"
	run --separate-stderr tfc_in "$NS_B" status
	[[ $output == *"overflow to prefixes: IPv4 off, IPv6 /64"$'\n'"aggregation rules: off"* ]]
}

@test "status: a full prefix map is said; no prefix map is no failure; another map there is" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B" --ip-map-size 2
	tfc_in "$NS_B" detach --iface "$DEV_B" >/dev/null 2>&1
	put traffic_counters_ip in 198.18.0.1 100 1
	put traffic_counters_ip in 198.18.0.2 100 1
	set_control 0 0 0
	run --separate-stderr tfc_in "$NS_B" status
	[[ $output == *$'\n'"IP map full: 2 of 2 entries; new addresses go to ip_map_full (see --ip-map-size, attach --migrate)"$'\n'* ]]
	set_control 24 0 0
	run --separate-stderr tfc_in "$NS_B" status
	[[ $output == *$'\n'"IP map full: 2 of 2 entries; new addresses are counted by prefix (IPv4 /24, IPv6 off) while the prefix map has room (see --ip-map-size, attach --migrate)"$'\n'* ]]
	rm -f "$PIN/traffic_counters_prefix"
	bpftool map create "$PIN/traffic_counters_prefix" type hash key 24 value 16 entries 2 \
		name traffic_counters_prefix
	put traffic_counters_prefix in 198.18.7.0/24 2000 20
	put traffic_counters_prefix in 198.18.8.0/24 2000 20
	run --separate-stderr tfc_in "$NS_B" status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"prefix map full: 2 of 2 entries; frames of new prefixes go to ip_map_full (see --prefix-map-size, --overflow-prefix)"* ]]

	rm -f "$PIN/traffic_counters_prefix"
	run --separate-stderr tfc_in "$NS_B" status --json
	echo "status $status stderr '$stderr'"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_eq "$(jq -c '.prefixes | [.error, has("entries")]' <<<"$output")" '["not pinned",false]' \
		"no prefix map"

	bpftool map create "$PIN/traffic_counters_prefix" type percpu_hash key 24 value 16 \
		entries 4 name traffic_counters_prefix
	run --separate-stderr tfc_in "$NS_B" status --json
	echo "status $status stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"cannot read everything in $PIN: traffic_counters_prefix: not a traffic-counter map of this version"* ]]
	assert_eq "$(jq -r .prefixes.error <<<"$output")" "another layout" "wrong map"
}

@test "top: prefix rows shown like addresses, as ADDR/LEN" {
	prefix_maps
	fill_rows
	run --separate-stderr tfc_in "$NS_B" top --once --interval 0.2 --exact
	echo "$output"
	[ "$status" -eq 0 ]
	assert_eq "$(awk 'NR > 2 && NF == 7 { print $1, $2, $3, $6, $7 }' <<<"$output")" \
		"198.18.7.0/24 ingress $DEV_B 2000 20
198.18.0.1 ingress $DEV_B 1000 10
198.19.0.0/16 ingress $DEV_B 570 6
fd00:1::/48 egress $DEV_B 300 3
fd00:2::/48 ingress $DEV_B 50 1" "top rows"
	[[ ${lines[0]} == "ip view, 5 entries, sorted by rate, over "* ]]
}

# ip_samples TEXT: the address series of one scrape, one line each:
# "address direction family bytes packets", sorted.
ip_samples() {
	sed -n 's/^traffic_counter_\(bytes\|packets\)_total{device="[^"]*",direction="\([a-z]*\)",family="\([a-z0-9]*\)",address="\([^"]*\)"} \([0-9]*\)$/\4 \2 \3 \1 \5/p' <<<"$1" |
		awk '{ k = $1 " " $2 " " $3; v[k " " $4] = $5; seen[k] = 1 }
			END { for (k in seen) print k, v[k " bytes"], v[k " packets"] }' | sort
}

@test "serve: prefix rows as address=\"ADDR/LEN\", summed with the IP map's, bounded by --max-series" {
	need_tools curl
	prefix_maps
	fill_rows
	serve_bg "$BATS_TEST_TMPDIR/serve.log" --listen 127.0.0.1:0
	local text
	text=$(curl_b "$SERVE_URL/metrics")
	assert_eq "$(ip_samples "$text")" "198.18.0.1 ingress ipv4 1000 10
198.18.7.0/24 ingress ipv4 2000 20
198.19.0.0/16 ingress ipv4 570 6
fd00:1::/48 egress ipv6 300 3
fd00:2::/48 ingress ipv6 50 1" "series"
	grep -qx 'traffic_counter_map_entries{map="traffic_counters_prefix"} 3' <<<"$text"
	grep -qx 'traffic_counter_map_capacity{map="traffic_counters_prefix"} 16384' <<<"$text"
	grep -qx "traffic_counter_bytes_total{device=\"$DEV_B\",direction=\"egress\",family=\"ipv6\",address=\"fd00:1::/48\"} 300" <<<"$text"
	bg_stop_all
	BG_PIDS=()

	# Two series of their own at most: the largest two, the rest "other".
	serve_bg "$BATS_TEST_TMPDIR/serve2.log" --listen 127.0.0.1:0 --max-series 2
	text=$(curl_b "$SERVE_URL/metrics")
	assert_eq "$(ip_samples "$text")" "198.18.0.1 ingress ipv4 1000 10
198.18.7.0/24 ingress ipv4 2000 20
other egress ipv6 300 3
other ingress ipv4 570 6
other ingress ipv6 50 1" "series under --max-series 2"
	grep -qx 'traffic_counter_address_series 2' <<<"$text"
}

@test "record: prefix rows stored under their length; report shows them as ADDR/LEN and sums them under --address" {
	need_tools sqlite3
	prefix_maps
	fill_rows
	local db=$BATS_TEST_TMPDIR/history.db
	run --separate-stderr tfc_in "$NS_B" record --db "$db" --once
	echo "record: status $status stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$(sqlite3 -batch -noheader "$db" "SELECT addr, prefix_len, dir, packets, bytes
		FROM addr_traffic WHERE res = 1 ORDER BY addr, prefix_len")" \
		"198.18.0.1|32|0|10|1000
198.18.7.0|24|0|20|2000
198.19.0.0|16|0|6|570
fd00:1::|48|1|3|300
fd00:2::|48|0|1|50" "hour rows"

	run --separate-stderr "$TFC_BIN" report --db "$db" --top 10 --json
	echo "$output"
	[ "$status" -eq 0 ]
	assert_eq "$(jq -c '[.addresses[] | [.address, .prefix_len, .rx_bytes, .tx_bytes]]' <<<"$output")" \
		'[["198.18.7.0",24,2000,0],["198.18.0.1",0,1000,0],["198.19.0.0",16,570,0],["fd00:1::",48,0,300],["fd00:2::",48,50,0]]' \
		"report --top --json"
	run --separate-stderr "$TFC_BIN" report --db "$db" --top 10
	echo "$output"
	[[ $output == *"198.18.7.0/24"* && $output == *"fd00:1::/48"* && $output == *"198.19.0.0/16"* ]]

	# --address: the rows wholly inside the CIDR, summed; not the wider /16.
	run --separate-stderr "$TFC_BIN" report --db "$db" --hours --address 198.18.0.0/16 --json
	echo "$output"
	assert_eq "$(jq '[.buckets[].rx_bytes] | add' <<<"$output")" 3000 "--address 198.18.0.0/16"
	run --separate-stderr "$TFC_BIN" report --db "$db" --hours --address 198.18.0.0/15 --json
	assert_eq "$(jq '[.buckets[].rx_bytes] | add' <<<"$output")" 3570 "--address 198.18.0.0/15"
	run --separate-stderr "$TFC_BIN" report --db "$db" --hours --address fd00::/16 --json
	assert_eq "$(jq '[.buckets[] | .rx_bytes + .tx_bytes] | add' <<<"$output")" 350 "--address fd00::/16"
}

@test "record --evict-idle: the idle address goes, prefix rows stay; nothing counted twice" {
	need_tools sqlite3
	prefix_maps
	fill_rows
	local db=$BATS_TEST_TMPDIR/history.db log=$BATS_TEST_TMPDIR/record.log i
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" record --pin-dir "$PIN" --db "$db" \
		--interval 1 --save-interval 1 --evict-idle 1 2>"$log" &
	BG_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		grep -q "evicted" "$log" && break
		sleep 0.1
	done
	sleep 2.5 # two more reads and saves after the eviction
	stop_pid "${BG_PIDS[-1]}" TERM
	cat "$log"
	grep -q "evicted 1 idle entries" "$log"
	run grep -q "evicted [02-9]" "$log"
	[ "$status" -ne 0 ]
	# The address was taken out of the IP map; the prefix rows are all there.
	assert_eq "$(tfc_in "$NS_B" dump-maps --json --sort ip | jq -c '[.[] | .ip + "/" + (.prefix_len | tostring)]')" \
		'["198.18.7.0/24","198.19.0.0/16","fd00:1::/48","fd00:2::/48"]' "maps after eviction"
	assert_eq "$(sqlite3 -batch -noheader "$db" "SELECT addr, prefix_len, sum(bytes) FROM addr_traffic
		WHERE res = 1 GROUP BY addr, prefix_len ORDER BY addr")" \
		"198.18.0.1|32|1000
198.18.7.0|24|2000
198.19.0.0|16|570
fd00:1::|48|300
fd00:2::|48|50" "each row once"
}
