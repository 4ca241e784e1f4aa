# shellcheck shell=bash
# shellcheck disable=SC2034 # COL_PID, EXP_PID, EXP_LOG, FRAME are for the .bats files
# IPFIX collectors, export-ipfix and hand-made flows for the end-to-end
# tests of export-ipfix. Collectors and the exporter run in the receiver
# namespace ($NS_B), in the background (in BG_PIDS, so teardown's
# bg_stop_all ends them); collectors listen on port FB_PORT. Load after
# helpers: `load helpers` then `load ipfix_helpers`.

FB_PORT=4739

# collector_start tcp|udp ADDR OUT: tests/helpers/ipfix_collect on
# ADDR:FB_PORT in B, printing to OUT, until it listens (5 s at most).
collector_start() {
	nsenter --net="/run/netns/$NS_B" "$TFC_HELPERS/ipfix_collect" "$1" "$2" "$FB_PORT" 120 \
		>"$3" 2>&1 3>&- &
	COL_PID=$!
	BG_PIDS+=("$COL_PID")
	wait_eq 5 1 grep -c '^listening$' "$3"
}

# exporter_bg LOG ARGS...: export-ipfix -v ARGS in B, logging to LOG
# (EXP_LOG), until it says it exports (5 s at most).
exporter_bg() {
	EXP_LOG=$1
	shift
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" -v export-ipfix "$@" >"$EXP_LOG" 2>&1 3>&- &
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

# exporter_start LOG ARGS...: exporter_bg with this test's pins.
exporter_start() {
	local log=$1
	shift
	exporter_bg "$log" --pin-dir "$PIN" "$@"
}

# exporter_start_fast ARGS...: exporter_start to 127.0.0.1:FB_PORT with
# 1 s cycles, 1 s active and 2 s idle timeouts, logging to exporter.log.
exporter_start_fast() {
	exporter_start "$BATS_TEST_TMPDIR/exporter.log" --collector "127.0.0.1:$FB_PORT" \
		--interval 1 --active-timeout 1 --idle-timeout 2 "$@"
}

# exporter_stop: SIGTERM (the final export), a clean exit within 10 s,
# then a second for the collector to read that last export.
exporter_stop() {
	stop_pid "$EXP_PID" || return 1
	if [ "$BG_STATUS" -ne 0 ]; then
		echo "FAIL: export-ipfix exited $BG_STATUS: $(grep -v libbpf "$EXP_LOG")" >&2
		return 1
	fi
	# The shutdown export is the last datagram: give the collector time to
	# read it before a test stops the collector (a loaded machine lost it).
	sleep 1
}

# flow SRC DST tcp|udp SPORT DPORT COUNT PAYLOAD [INTERVAL_US]: hand-made
# frames A -> B (tests/helpers/flow_send); FRAME is the frame length.
flow() {
	local out
	out=$(timeout 60 ip netns exec "$NS_A" "$TFC_HELPERS/flow_send" "$DEV_A" "$MAC_B" "$@") ||
		return 1
	FRAME=${out##* }
}

# in_map SPORT -> entries of the flow map with that source port
in_map() {
	dump_flow_json "$NS_B" | jq --argjson sp "$1" '[.[] | select(.sport == $sp)] | length'
}

# ipfix_stat expired|records -> that 64-bit field (little endian) of struct
# tfc_ipfix_stats in the pinned traffic_ipfix map.
ipfix_stat() {
	local -a b
	local i v=0 at
	case $1 in
	expired) at=8 ;;
	records) at=16 ;;
	*) return 1 ;;
	esac
	mapfile -t b < <(bpftool -j map dump pinned "$PIN/traffic_ipfix" |
		jq -r --argjson at "$at" '.[0].value[$at:$at + 8][]')
	[ ${#b[@]} -eq 8 ] || return 1
	for ((i = 7; i >= 0; i--)); do
		v=$((v * 256 + 16#${b[i]#0x}))
	done
	echo "$v"
}
