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

FB_PORT=4739

setup() {
	tfc_e2e_setup
	command -v ss >/dev/null || {
		echo "missing tool: ss (scripts/check-deps.sh --install)" >&2
		return 1
	}
	BG_PIDS=()
	make_pair
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
}

teardown() {
	bg_stop_all
	tfc_e2e_teardown
}

# ------------------------------------------------------------- helpers --

# collector_start tcp|udp OUT: ipfix_collect in B on 127.0.0.1, until it listens.
collector_start() {
	nsenter --net="/run/netns/$NS_B" "$TFC_HELPERS/ipfix_collect" "$1" 127.0.0.1 "$FB_PORT" 120 \
		>"$2" 2>&1 3>&- &
	COL_PID=$!
	BG_PIDS+=("$COL_PID")
	wait_eq 5 1 grep -c '^listening$' "$2"
}

# exporter_start ARGS...: export-ipfix -v in B, logging to EXP_LOG, until it runs.
exporter_start() {
	EXP_LOG=$BATS_TEST_TMPDIR/exporter.log
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" -v export-ipfix --pin-dir "$PIN" \
		--collector "127.0.0.1:$FB_PORT" --interval 1 --active-timeout 1 --idle-timeout 2 \
		"$@" >"$EXP_LOG" 2>&1 3>&- &
	EXP_PID=$!
	BG_PIDS+=("$EXP_PID")
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q '^exporting ' "$EXP_LOG" && return 0
		kill -0 "$EXP_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "FAIL: export-ipfix did not start: $(cat "$EXP_LOG")" >&2
	return 1
}

# flow SRC DST tcp|udp SPORT DPORT COUNT PAYLOAD: hand-made frames A -> B;
# FRAME is the frame length.
flow() {
	local out
	out=$(timeout 60 ip netns exec "$NS_A" "$TFC_HELPERS/flow_send" "$DEV_A" "$MAC_B" "$@") ||
		return 1
	FRAME=${out##* }
}

# got SPORT OUT... -> "records packets l2bytes" of the flow from SPORT
got() {
	local sp=$1
	shift
	awk -v sp="$sp" '$1 == "flow" && $4 == sp { r++; p += $7; b += $8 }
		END { printf "%d %d %d\n", r, p, b }' "$@"
}

pb() { got "$@" | cut -d' ' -f2-; } # pb SPORT OUT... -> "packets l2bytes"

in_map() { # in_map SPORT -> entries of the flow map with that source port
	dump_flow_json "$NS_B" | jq --argjson sp "$1" '[.[] | select(.sport == $sp)] | length'
}

logged() { grep -Ec "$1" "$EXP_LOG"; } # logged ERE -> lines of the exporter's log

UNREACHABLE="^traffic-counter: warning: collector 127\.0\.0\.1:$FB_PORT: unreachable \(Connection refused\): keeping the flows, retrying every cycle$"
# TCP: the reason is libfixbuf's, which says the write or the connection failed.
UNREACHABLE_TCP="^traffic-counter: warning: collector 127\.0\.0\.1:$FB_PORT: unreachable \(.+\): keeping the flows, retrying every cycle$"
ANSWERS="^collector 127\.0\.0\.1:$FB_PORT answers again$"

# pinned_records -> the `records` field (bytes 16-23, little endian) of
# struct tfc_ipfix_stats in the pinned traffic_ipfix map
pinned_records() {
	local -a b
	local i v=0
	mapfile -t b < <(bpftool -j map dump pinned "$PIN/traffic_ipfix" | jq -r '.[0].value[16:24][]')
	[ ${#b[@]} -eq 8 ] || return 1
	for ((i = 7; i >= 0; i--)); do
		v=$((v * 256 + 16#${b[i]#0x}))
	done
	echo "$v"
}

# served_records -> traffic_counter_ipfix_records_sent_total as serve
# exports it from the pinned counter (in B, on its default loopback port).
served_records() {
	local log=$BATS_TEST_TMPDIR/serve.log pid v
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" serve --pin-dir "$PIN" >"$log" 2>&1 3>&- &
	pid=$!
	BG_PIDS+=("$pid")
	wait_until 10 grep -q '^serving http' "$log" || {
		echo "FAIL: serve did not start: $(cat "$log")" >&2
		return 1
	}
	v=$(nsenter --net="/run/netns/$NS_B" curl -sf http://127.0.0.1:10437/metrics |
		sed -n 's/^traffic_counter_ipfix_records_sent_total \([0-9]*\)$/\1/p')
	stop_pid "$pid"
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
	assert_eq "$(pinned_records)" "$received" "records counted in $PIN/traffic_ipfix"
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
	exporter_start
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

	collector_start udp "$out"
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
	collector_start tcp "$first"
	exporter_start --transport tcp
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

	collector_start tcp "$later"
	wait_eq 5 1 logged "$ANSWERS"
	flow "$A6" "$B6" udp 47102 9 4 30 && local f3=$FRAME
	wait_eq 8 "1 5 $((5 * f2))" got 47101 "$later"
	wait_eq 8 "4 $((4 * f3))" pb 47102 "$later"
	check_accounting "$first" "$later"
	assert_eq "$(logged "$UNREACHABLE_TCP")" 1 "unreachable lines"
	assert_eq "$(logged "$ANSWERS")" 1 "recovery lines"
}
