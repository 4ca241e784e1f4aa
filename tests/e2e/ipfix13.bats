#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# export-ipfix when the collector does not answer (issue 13): our own words
# instead of GLib's warnings, said once per outage and once on recovery,
# the flows kept in the map meanwhile, and "sent" counting only what left:
# the exporter's total and its pinned counter equal what collectors got.
# Collectors (tests/helpers/ipfix_collect) and the exporter run in the
# receiver namespace, on its loopback, where a closed UDP port answers at
# once (ICMP port unreachable) and a closed TCP port refuses the connection.

load helpers
load serve_helpers
load ipfix_helpers


setup() {
	tfc_e2e_setup
	need_tools ss
	# shellcheck disable=SC2034 # read by bg_stop_all (helpers.bash)
	BG_PIDS=()
	make_pair
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
}

teardown() {
	bg_stop_all
	tfc_e2e_teardown
}

# ------------------------------------------------------------- helpers --

# got SPORT OUT... -> "records packets l2bytes" of the flow from SPORT
got() {
	local sp=$1
	shift
	awk -v sp="$sp" '$1 == "flow" && $4 == sp { r++; p += $7; b += $8 }
		END { printf "%d %d %d\n", r, p, b }' "$@"
}

pb() { got "$@" | cut -d' ' -f2-; } # pb SPORT OUT... -> "packets l2bytes"

logged() { grep -Ec "$1" "$EXP_LOG"; } # logged ERE -> lines of the exporter's log

UNREACHABLE="^traffic-counter: warning: collector 127\.0\.0\.1:$FB_PORT: unreachable \(Connection refused\): keeping the flows, retrying every cycle$"
# TCP: the reason is libfixbuf's, which says the write or the connection failed.
UNREACHABLE_TCP="^traffic-counter: warning: collector 127\.0\.0\.1:$FB_PORT: unreachable \(.+\): keeping the flows, retrying every cycle$"
ANSWERS="^collector 127\.0\.0\.1:$FB_PORT answers again$"

# served_records -> traffic_counter_ipfix_records_sent_total as serve
# exports it from the pinned counter (in B, on its default loopback port).
served_records() {
	local v
	serve_bg "$BATS_TEST_TMPDIR/serve.log" || return 1
	v=$(curl_b -f http://127.0.0.1:10437/metrics |
		sed -n 's/^traffic_counter_ipfix_records_sent_total \([0-9]*\)$/\1/p')
	stop_pid "$SERVE_PID"
	echo "$v"
}

# check_accounting OUT...: the exporter stopped cleanly; its "sent" total,
# its pinned counter and serve's metric equal the flow records the
# collectors decoded.
check_accounting() {
	stop_pid "$EXP_PID"
	assert_eq "$BG_STATUS" 0 "exporter exit status"
	# The shutdown message is the last one: let the collector read it.
	sleep 1
	local sent received
	sent=$(sed -n 's/^sent \([0-9]*\) records; .*/\1/p' "$EXP_LOG")
	received=$(cat "$@" | grep -c '^flow ')
	assert_eq "$sent" "$received" "records the exporter says it sent"
	assert_eq "$(ipfix_stat records)" "$received" "records counted in $PIN/traffic_ipfix"
	assert_eq "$(served_records)" "$received" "traffic_counter_ipfix_records_sent_total"
	if grep -n 'WARNING \*\*\|CRITICAL \*\*' "$EXP_LOG"; then
		echo "FAIL: raw GLib messages in the exporter's output (above)" >&2
		return 1
	fi
}

# ---------------------------------------------------------------- tests --

@test "export-ipfix over UDP to a closed port: said once, flows kept, exact after recovery" {
	local out=$BATS_TEST_TMPDIR/collect.out
	# No collector yet: the port is closed, each datagram is refused.
	exporter_start_fast
	flow "$A4" "$B4" udp 47000 9 5 30 && local f1=$FRAME
	wait_eq 5 1 logged "$UNREACHABLE" || {
		cat "$EXP_LOG"
		return 1
	}
	# Several cycles retry: the flow stays in the map, nothing more is said.
	sleep 3
	assert_eq "$(in_map 47000)" 1 "the flow, kept in the map" || {
		cat "$EXP_LOG"
		return 1
	}
	assert_eq "$(logged "$UNREACHABLE")" 1 "unreachable lines after 3 more cycles"
	assert_eq "$(logged 'collector .*(lost|answers)')" 0 "records lost or recovery claimed"

	collector_start udp 127.0.0.1 "$out"
	wait_eq 5 1 logged "$ANSWERS"
	flow "$A4" "$B4" udp 47001 9 4 30 && local f2=$FRAME
	# Kept through the outage: one idle record with all of it.
	wait_eq 8 "1 5 $((5 * f1))" got 47000 "$out"
	wait_eq 8 "4 $((4 * f2))" pb 47001 "$out"
	check_accounting "$out"
	assert_eq "$(logged "$UNREACHABLE")" 1 "unreachable lines"
	assert_eq "$(logged "$ANSWERS")" 1 "recovery lines"
}

@test "export-ipfix over TCP, collector gone: said once, flows kept, exact after recovery" {
	local first=$BATS_TEST_TMPDIR/first.out later=$BATS_TEST_TMPDIR/later.out
	collector_start tcp 127.0.0.1 "$first"
	exporter_start_fast --transport tcp
	flow "$A4" "$B4" udp 47100 9 3 30 && local f1=$FRAME
	wait_eq 8 "1 3 $((3 * f1))" got 47100 "$first"
	# The collector goes away; with no traffic, the cycles' statistics
	# messages find it gone (a reset, then a refused connection).
	stop_pid "$COL_PID"
	wait_eq 10 1 logged "$UNREACHABLE_TCP" || {
		cat "$EXP_LOG"
		return 1
	}
	flow "$A4" "$B4" udp 47101 9 5 30 && local f2=$FRAME
	sleep 3
	assert_eq "$(in_map 47101)" 1 "the flow, kept in the map"
	assert_eq "$(logged "$UNREACHABLE_TCP")" 1 "unreachable lines after 3 more cycles"
	assert_eq "$(logged 'collector .*(lost|answers)')" 0 "records lost or recovery claimed"

	collector_start tcp 127.0.0.1 "$later"
	wait_eq 5 1 logged "$ANSWERS"
	flow "$A6" "$B6" udp 47102 9 4 30 && local f3=$FRAME
	wait_eq 8 "1 5 $((5 * f2))" got 47101 "$later"
	wait_eq 8 "4 $((4 * f3))" pb 47102 "$later"
	check_accounting "$first" "$later"
	assert_eq "$(logged "$UNREACHABLE_TCP")" 1 "unreachable lines"
	assert_eq "$(logged "$ANSWERS")" 1 "recovery lines"
}
