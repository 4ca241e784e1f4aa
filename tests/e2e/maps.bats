#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# The maps: IP map full, flow counting switched at run time, --count-by,
# pin overrides, and what dump-maps and status print.

load helpers

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
}

teardown() {
	tfc_e2e_teardown
}

@test "IP map full, overflow off: packets still pass and dropped_packets is exact" {
	make_pair nov6 # no IPv6 at all: no MLD from :: taking a map slot
	add_sources 6
	# Overflow to prefixes off: a full map's new addresses are dropped as
	# before layout 3 (with it on, prefixes.bats checks where they go).
	tfc_attach "$NS_B" --iface "$DEV_B" --ip-map-size 4 --overflow-prefix 0
	assert_eq "$(status_json "$NS_B" | jq -r '.maps[] | select(.name == "traffic_counters_ip")
		| .max_entries')" 4 "IP map size"

	# Seven sources, three pings each, one after the other: the first four
	# get the four slots, the last three are dropped. ping fails if a
	# request was not passed on (no reply).
	local src
	for src in "$A4" "${EXTRA_SOURCES[@]}"; do
		ping4 3 -I "$src"
	done
	local first=("$A4" "${EXTRA_SOURCES[@]:0:3}") rest=("${EXTRA_SOURCES[@]:3}")
	for src in "${first[@]}"; do
		wait_eq 5 "3 $((3 * PING4_FRAME))" ip_counts "$NS_B" "$src" ingress "$IFX_B"
	done
	for src in "${rest[@]}"; do
		assert_eq "$(ip_counts "$NS_B" "$src" ingress "$IFX_B")" "0 0" "entry for $src"
	done
	local st
	st=$(status_json "$NS_B")
	jq -c . <<<"$st"
	assert_eq "$(jq -r '"\(.dropped_packets) \(.dropped_bytes)"' <<<"$st")" \
		"9 $((9 * PING4_FRAME))" "dropped_packets dropped_bytes"
	assert_eq "$(jq -r '.maps[] | select(.name == "traffic_counters_ip") | .entries' <<<"$st")" 4 \
		"IP map entries"
	assert_eq "$(dump_ip_json "$NS_B" | jq length)" 4 "dump-maps entries"
}

@test "set --enable-flow-map / --disable-flow-map: flows counted only while on, no reload" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	local st prog
	st=$(status_json "$NS_B")
	assert_eq "$(jq -r .enable_flow_counters <<<"$st")" false "flow counting at attach"
	prog=$(jq -r '.attachments[0].prog_id' <<<"$st")
	local flow=("$A4" "$B4" 41000 6000 17 ingress "$IFX_B") frame=$((14 + 20 + 8 + 50))

	udp "$B4" 6000 41000 5 50
	wait_eq 5 "5 $((5 * frame))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	assert_eq "$(dump_flow_json "$NS_B" | jq length)" 0 "flows while off"

	run --separate-stderr tfc_in "$NS_B" set --enable-flow-map
	echo "set --enable-flow-map: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	st=$(status_json "$NS_B")
	assert_eq "$(jq -r .enable_flow_counters <<<"$st")" true "flow counting after set"
	assert_eq "$(jq -r '.attachments[0].prog_id' <<<"$st")" "$prog" "same program (no reload)"

	udp "$B4" 6000 41000 6 50
	wait_eq 5 "11 $((11 * frame))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "6 $((6 * frame))" flow_counts "$NS_B" "${flow[@]}"

	run --separate-stderr tfc_in "$NS_B" set --disable-flow-map
	echo "set --disable-flow-map: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$(status_json "$NS_B" | jq -r .enable_flow_counters)" false "after disable"

	udp "$B4" 6000 41000 4 50
	wait_eq 5 "15 $((15 * frame))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	sleep 0.3
	assert_eq "$(flow_counts "$NS_B" "${flow[@]}")" "6 $((6 * frame))" "flow after disable"
	assert_eq "$(dump_flow_json "$NS_B" | jq length)" 1 "flow entries"
	assert_eq "$(status_json "$NS_B" | jq .flow_inserts)" 1 "flow_inserts"
}

@test "--count-by dst at xdp and --count-by src at tc-egress" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B" --count-by dst
	tfc_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress --count-by src
	ping4 3
	wait_eq 5 "3 $((3 * PING4_FRAME))" ip_counts "$NS_B" "$B4" ingress "$IFX_B"
	assert_eq "$(ip_counts "$NS_B" "$A4" ingress "$IFX_B")" "0 0" "source at xdp --count-by dst"
	wait_eq 5 "3 $((3 * PING4_FRAME))" ip_counts "$NS_A" "$A4" egress "$IFX_A"
	assert_eq "$(ip_counts "$NS_A" "$B4" egress "$IFX_A")" "0 0" \
		"destination at tc-egress --count-by src"
}

@test "--pin, --flow-pin, --control-pin override single map pins for every command" {
	make_pair nov6
	local ipp="$PIN/my_ip" flp="$PIN/my_flow" ctp="$PIN/my_control"
	local over=(--pin "$ipp" --flow-pin "$flp" --control-pin "$ctp")
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map "${over[@]}"
	[ -e "$ipp" ] && [ -e "$flp" ] && [ -e "$ctp" ]
	[ ! -e "$PIN/traffic_counters_ip" ] && [ ! -e "$PIN/traffic_counters_flow" ] &&
		[ ! -e "$PIN/traffic_control" ]
	ping4 2
	wait_eq 5 "2 $((2 * PING4_FRAME))" ip_counts_at "$ipp"
	local st
	st=$(tfc_in "$NS_B" status --json "${over[@]}")
	jq -c . <<<"$st"
	assert_eq "$(jq -r '.enable_flow_counters' <<<"$st")" true "flag read from $ctp"
	assert_eq "$(jq -r '.maps[] | select(.name == "traffic_counters_ip") | .pin' <<<"$st")" \
		"$ipp" "IP map pin in status"
	assert_eq "$(jq -r '.maps[] | select(.name == "traffic_counters_flow") | .pin' <<<"$st")" \
		"$flp" "flow map pin in status"
	assert_eq "$(tfc_in "$NS_B" dump-maps --json --pin "$flp" | jq '[.[] | select(.proto == 1)
		| .packets] | add')" 2 "ICMP flow packets via --pin FLOW_PIN"
	run --separate-stderr tfc_in "$NS_B" set --disable-flow-map --control-pin "$ctp"
	[ "$status" -eq 0 ]
	assert_eq "$(tfc_in "$NS_B" status --json "${over[@]}" | jq -r .enable_flow_counters)" false \
		"flag after set --control-pin"
}

ip_counts_at() { # ip_counts_at PIN: packets and bytes of $A4 in that map
	tfc_in "$NS_B" dump-maps --json --pin "$1" | jq -r --arg ip "$A4" '
		[.[] | select(.ip == $ip)] | "\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"'
}

@test "dump-maps: JSON, CSV, table, --sort and --top, for the IP and the flow map" {
	make_pair
	add_sources 1
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	local x=${EXTRA_SOURCES[0]}
	ping4 2
	ping4 6 -I "$x"
	ping6 3
	wait_eq 5 "6 $((6 * PING4_FRAME))" ip_counts "$NS_B" "$x" ingress "$IFX_B"
	wait_eq 5 "2 $((2 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "3 $((3 * PING6_FRAME))" ip_counts "$NS_B" "$A6" ingress "$IFX_B"

	local js
	js=$(dump_ip_json "$NS_B")
	jq -c . <<<"$js"
	jq -e 'type == "array"' <<<"$js" >/dev/null
	jq -e 'all(.[]; (.ip | type) == "string" and (.family == 4 or .family == 6)
		and (.direction == "ingress" or .direction == "egress") and (.ifindex | type) == "number"
		and (.ifname | type) == "string" and (.bytes | type) == "number"
		and (.packets | type) == "number")' <<<"$js" >/dev/null

	# --sort/--top: by bytes the 6 pings from $x lead, then the 3 IPv6 ones.
	assert_eq "$(tfc_in "$NS_B" dump-maps --json --sort bytes --top 1 | jq -r '[.[].ip] | join(",")')" \
		"$x" "--sort bytes --top 1"
	assert_eq "$(tfc_in "$NS_B" dump-maps --json --sort packets --top 2 | jq -r '[.[].ip] | join(",")')" \
		"$x,$A6" "--sort packets --top 2"
	assert_eq "$(tfc_in "$NS_B" dump-maps --json --sort ip | jq -r '[.[] | select(.family == 4) | .ip] | join(",")')" \
		"$A4,$x" "--sort ip (IPv4 part)"

	# CSV: a header with the JSON names, then one row per entry.
	local csv hdr
	csv=$(tfc_in "$NS_B" dump-maps --csv)
	echo "$csv"
	hdr=$(head -n1 <<<"$csv")
	local f
	for f in ip family direction ifindex ifname bytes packets; do
		tr ',' '\n' <<<"$hdr" | grep -qx "$f" || {
			echo "FAIL: CSV header '$hdr' lacks $f" >&2
			return 1
		}
	done
	# One row per entry (kernel chatter may add entries between two dumps,
	# so only the test's own addresses are compared row by row).
	[ "$(($(wc -l <<<"$csv") - 1))" -ge "$(jq length <<<"$js")" ]
	local ip want
	for ip in "$x" "$A4" "$A6"; do
		want=$(jq -r --arg ip "$ip" '.[] | select(.ip == $ip)
			| "\(.packets) \(.bytes) \(.direction) \(.family) \(.ifindex) \(.ifname)"' <<<"$js")
		assert_eq "$(awk -F, -v ip="$ip" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
			$c["ip"] == ip { print $c["packets"], $c["bytes"], $c["direction"], $c["family"],
				$c["ifindex"], $c["ifname"] }' <<<"$csv")" "$want" "CSV row of $ip"
	done

	# The table is for people: it names the addresses.
	run --separate-stderr tfc_in "$NS_B" dump-maps
	[ "$status" -eq 0 ]
	[[ $output == *"$x"* && $output == *"$A6"* ]]

	# Flows: JSON fields, --top, CSV header.
	local fl
	fl=$(dump_flow_json "$NS_B")
	jq -c . <<<"$fl"
	jq -e 'all(.[]; has("src") and has("dst") and has("sport") and has("dport") and has("proto")
		and has("family") and has("direction") and has("ifindex") and has("ifname")
		and has("bytes") and has("packets") and has("first_seen_ns") and has("last_seen_ns")
		and has("tcp_flags"))' <<<"$fl" >/dev/null
	assert_eq "$(tfc_in "$NS_B" dump-maps --pin "$PIN/traffic_counters_flow" --json --sort bytes --top 1 |
		jq -r '.[] | "\(.src) \(.dst) \(.proto) \(.packets)"')" "$x $B4 1 6" "top flow"
	hdr=$(tfc_in "$NS_B" dump-maps --pin "$PIN/traffic_counters_flow" --csv | head -n1)
	for f in src dst sport dport proto family direction ifindex bytes packets first_seen_ns \
		last_seen_ns tcp_flags; do
		tr ',' '\n' <<<"$hdr" | grep -qx "$f" || {
			echo "FAIL: flow CSV header '$hdr' lacks $f" >&2
			return 1
		}
	done
}

@test "status --json: attachments, maps, flags, drops and every statistic" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	ping4 2
	udp "$B4" 7000 42000 3 10
	udp "$B4" 7001 42001 4 10
	wait_eq 5 "9 $((2 * PING4_FRAME + 7 * 52))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"

	local st
	st=$(status_json "$NS_B")
	jq -c . <<<"$st"
	jq -e '(.attachments[0] | has("ifname") and has("ifindex") and has("attach_point")
		and has("mode") and has("prog_id"))' <<<"$st" >/dev/null
	local m
	for m in traffic_counters_ip traffic_counters_flow traffic_control; do
		assert_eq "$(jq -r --arg m "$m" '.maps[] | select(.name == $m) | .pin' <<<"$st")" \
			"$PIN/$m" "pin of $m"
	done
	assert_eq "$(jq -r '.maps[] | select(.name == "traffic_counters_ip") | .entries' <<<"$st")" 1 \
		"IP entries"
	# Three flows (ICMP and two UDP), none evicted: inserts == entries.
	assert_eq "$(jq -r '.maps[] | select(.name == "traffic_counters_flow") | .entries' <<<"$st")" 3 \
		"flow entries"
	assert_eq "$(jq -r '.flow_inserts' <<<"$st")" 3 "flow_inserts"
	assert_eq "$(jq -r '"\(.dropped_packets) \(.dropped_bytes)"' <<<"$st")" "0 0" "dropped"
	local r
	for r in "${EXCLUSIVE_STATS[@]}" "${REMARK_STATS[@]}"; do
		jq -e --arg r "$r" '(.stats[$r].packets | type) == "number"
			and (.stats[$r].bytes | type) == "number"' <<<"$st" >/dev/null || {
			echo "FAIL: status .stats.$r missing or not {packets, bytes}" >&2
			return 1
		}
	done
	# The human-readable form works too.
	run --separate-stderr tfc_in "$NS_B" status
	[ "$status" -eq 0 ]
	[[ $output == *"$DEV_B"* ]]
}
