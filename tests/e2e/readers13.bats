#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $status
# What a new user hit (issue 13), on the readers: status tells the remarks on
# counted frames from the frames not counted by address and shows the
# per-interface figures in text; dump-maps and top filter what they show by
# address; the flow dump has wall-clock times; a full IP map is said.

load helpers
load serve_helpers

setup() {
	tfc_e2e_setup
	need_tools curl
	# shellcheck disable=SC2034 # read by bg_stop_all (helpers.bash)
	BG_PIDS=()
	make_pair nov6
}

teardown() {
	bg_stop_all
	tfc_e2e_teardown
}

# status_text NS: the text view, stdout only.
status_text() { tfc_in "$1" status; }

# section TEXT TITLE: the lines of one status section, up to the next blank.
section() {
	awk -v t="$2" '$0 == t { on = 1; next } on && /^$/ { exit } on' <<<"$1"
}

@test "status: l4_truncated and ipv6_ext_limit are remarks on counted frames, not uncounted" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	raw l4-trunc 3 "$A4" "$B4"
	raw nonip 2
	wait_eq 5 "3" eval "status_json $NS_B | jq -r '.stats.l4_truncated.packets'"
	local text uncounted remarks
	text=$(status_text "$NS_B")
	uncounted=$(section "$text" "not counted by address (packets, bytes):")
	remarks=$(section "$text" "remarks on frames counted by address (packets, bytes):")
	if grep -Eq 'l4_truncated|ipv6_ext_limit' <<<"$uncounted"; then
		echo "FAIL: a remark listed as not counted: $uncounted" >&2
		return 1
	fi
	grep -Eq '^  non_ip +2 ' <<<"$uncounted" || {
		echo "FAIL: non_ip 2 not under 'not counted': $text" >&2
		return 1
	}
	grep -Eq '^  l4_truncated +3 ' <<<"$remarks" || {
		echo "FAIL: l4_truncated 3 not under the remarks: $text" >&2
		return 1
	}
	grep -Eq '^  ipv6_ext_limit +0 ' <<<"$remarks" || {
		echo "FAIL: ipv6_ext_limit not under the remarks: $text" >&2
		return 1
	}
	# JSON: "stats" unchanged, the remarks named beside it and per row.
	local st
	st=$(status_json "$NS_B")
	assert_eq "$(jq -c '.stats_remarks' <<<"$st")" '["l4_truncated","ipv6_ext_limit"]' \
		"stats_remarks"
	assert_eq "$(jq -r '.stats.non_ip.packets' <<<"$st")" 2 "stats.non_ip.packets"
	assert_eq "$(jq -r '[.stats_by_interface[] | select(.reason == "l4_truncated") | .remark]
		| unique | @csv' <<<"$st")" "true" "remark on l4_truncated rows"
	assert_eq "$(jq -r '[.stats_by_interface[] | select(.reason == "non_ip") | .remark]
		| unique | @csv' <<<"$st")" "false" "remark on non_ip rows"
}

@test "status: the text view shows the per-interface statistics, non-zero rows only" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress
	raw nonip 4
	local len_nonip=$RAW_LEN
	raw ipv4-trunc 1 "$A4" "$B4"
	wait_eq 5 "4" eval "status_json $NS_B | jq -r '.stats.non_ip.packets'"
	local text rows
	text=$(status_text "$NS_B")
	rows=$(section "$text" "per interface:")
	[ -n "$rows" ] || {
		echo "FAIL: no per-interface section: $text" >&2
		return 1
	}
	grep -Eq "^  $DEV_B +ingress +non_ip +4 +$((4 * len_nonip))\$" <<<"$rows" || {
		echo "FAIL: no '$DEV_B ingress non_ip 4' row: $rows" >&2
		return 1
	}
	grep -Eq "^  $DEV_B +ingress +ipv4_truncated +1 " <<<"$rows" || {
		echo "FAIL: no '$DEV_B ingress ipv4_truncated 1' row: $rows" >&2
		return 1
	}
	# The header and the two non-zero reasons, nothing else.
	assert_eq "$(wc -l <<<"$rows")" 3 "per-interface lines (header + 2 rows): $rows"
}

@test "dump-maps: flow entries have first_seen and last_seen as RFC 3339 UTC wall-clock times" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress --enable-flow-map
	local t0 t1 row first last csv
	t0=$(date -u +%s)
	udp "$B4" 5000 40000 3 100
	wait_eq 5 "3 426" flow_counts "$NS_B" "$A4" "$B4" 40000 5000 17 ingress "$IFX_B"
	t1=$(date -u +%s)
	row=$(dump_flow_json "$NS_B" | jq -c '.[] | select(.sport == 40000)')
	first=$(jq -r '.first_seen' <<<"$row")
	last=$(jq -r '.last_seen' <<<"$row")
	[[ $first =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$ ]] || {
		echo "FAIL: first_seen '$first' is not RFC 3339 UTC with milliseconds: $row" >&2
		return 1
	}
	first=$(date -u -d "$first" +%s) last=$(date -u -d "$last" +%s)
	# Coarse monotonic clock and whole seconds: one second of slack each side.
	if ((first < t0 - 1 || last > t1 + 1 || first > last)); then
		echo "FAIL: first_seen $first last_seen $last not within $t0..$t1: $row" >&2
		return 1
	fi
	# Raw monotonic nanoseconds stay under their names.
	assert_eq "$(jq -r '(.first_seen_ns | type) + " " + (.last_seen_ns | type)' <<<"$row")" \
		"number number" "raw times"
	csv=$(tfc_in "$NS_B" dump-maps --pin "$PIN/traffic_counters_flow" --csv | head -1)
	assert_eq "${csv##*,tcp_flags,}" "first_seen,last_seen" "CSV header ends"
}

scrape() { curl_b -o /dev/null "$SERVE_URL/metrics"; }

# ip_entries NS: entries of the IP map, from status --json.
ip_entries() {
	status_json "$1" | jq '.maps[] | select(.name == "traffic_counters_ip") | .entries'
}

@test "a full IP map is said: status text, and serve once when it fills and once when it stops" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress --ip-map-size 4
	add_sources 5
	local log=$BATS_TEST_TMPDIR/serve.log src text
	serve_bg "$log" --listen 127.0.0.1:0
	scrape
	# Six source addresses into an IP map of four.
	for src in "$A4" "${EXTRA_SOURCES[@]}"; do
		timeout 10 ip netns exec "$NS_A" ping -q -n -c 1 -W 2 -I "$src" "$B4" >/dev/null
	done
	wait_eq 5 4 ip_entries "$NS_B"
	text=$(tfc_in "$NS_B" status)
	# Where new addresses go: their overflow prefix when that is on (layout 3).
	local hint="new addresses go to ip_map_full (see --ip-map-size, attach --migrate)"
	if [ "$(status_json "$NS_B" | jq -r '.prefixes.overflow_v4 // 0')" = 24 ]; then
		hint="new addresses are counted by prefix (IPv4 /24, IPv6 /48) while the prefix map has room (see --ip-map-size, attach --migrate)"
	fi
	grep -qx "IP map full: 4 of 4 entries; $hint" <<<"$text" || {
		echo "FAIL: status does not say the IP map is full: $text" >&2
		return 1
	}
	scrape
	scrape
	assert_eq "$(grep -c 'IP map full' "$log")" 1 "'IP map full' lines after two scrapes: $(cat "$log")"
	grep -qF "IP map full: 4 of 4 entries; $hint" "$log" || {
		echo "FAIL: serve's line: $(cat "$log")" >&2
		return 1
	}
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress --migrate --ip-map-size 64
	scrape
	scrape
	assert_eq "$(grep -c 'IP map no longer full: 4 of 64 entries' "$log")" 1 "'no longer full' lines: $(cat "$log")"
	text=$(tfc_in "$NS_B" status)
	if grep -q "^IP map full" <<<"$text"; then
		echo "FAIL: status still says full: $text" >&2
		return 1
	fi
}

@test "dump-maps and top: --address, --exclude-link-local and --exclude-multicast filter the display only" {
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-ingress --enable-flow-map
	add_sources 1
	local src=${EXTRA_SOURCES[0]}
	# Frames from a link-local and a multicast source are counted as any other.
	raw vlan-ipv4 2 169.254.7.7 "$B4"
	raw vlan-ipv4 3 224.0.0.9 "$B4"
	timeout 10 ip netns exec "$NS_A" ping -q -n -c 1 -W 2 -I "$src" "$B4" >/dev/null
	ping4 1
	wait_eq 5 4 eval "dump_ip_json $NS_B | jq length"
	local got
	got=$(tfc_in "$NS_B" dump-maps --json --address "$src/32" | jq -r '[.[].ip] | join(" ")')
	assert_eq "$got" "$src" "dump-maps --address $src/32"
	got=$(tfc_in "$NS_B" dump-maps --json --address 198.18.0.0/24 --sort ip | jq -r '[.[].ip] | join(" ")')
	assert_eq "$got" "$A4 $src" "dump-maps --address 198.18.0.0/24"
	got=$(tfc_in "$NS_B" dump-maps --json --exclude-link-local --sort ip | jq -r '[.[].ip] | join(" ")')
	assert_eq "$got" "$A4 $src 224.0.0.9" "dump-maps --exclude-link-local"
	got=$(tfc_in "$NS_B" dump-maps --csv --exclude-link-local --exclude-multicast --sort ip |
		cut -d, -f1 | tr '\n' ' ')
	assert_eq "$got" "ip $A4 $src " "dump-maps --csv --exclude-link-local --exclude-multicast"
	got=$(tfc_in "$NS_B" dump-maps --pin "$PIN/traffic_counters_flow" --json --exclude-multicast |
		jq -r '[.[].src] | sort | join(" ")')
	assert_eq "$got" "169.254.7.7 $A4 $src" "flow dump --exclude-multicast"
	got=$(tfc_in "$NS_B" dump-maps --pin "$PIN/traffic_counters_flow" --json --address "$B4" |
		jq length)
	assert_eq "$got" 4 "flows with the destination under --address $B4"
	# top's plain report: only the rows under the prefix.
	got=$(tfc_in "$NS_B" top --once --interval 0.1 --exact --address 169.254.0.0/16 |
		awk '$1 ~ /^[0-9]/ { print $1 }')
	assert_eq "$got" "169.254.7.7" "top --address 169.254.0.0/16"
	got=$(tfc_in "$NS_B" top --once --interval 0.1 --exact --exclude-link-local --exclude-multicast |
		awk '$1 ~ /^[0-9]/ { print $1 }' | sort | tr '\n' ' ')
	assert_eq "$got" "$A4 $src " "top --exclude-link-local --exclude-multicast"
	# The counting is unchanged: the map still holds all four.
	assert_eq "$(dump_ip_json "$NS_B" | jq length)" 4 "IP map entries"
	run --separate-stderr tfc_in "$NS_B" dump-maps --address 198.18.0.0/33
	assert_usage_error
}
