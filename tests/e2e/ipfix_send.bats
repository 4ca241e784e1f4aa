#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# export-ipfix send safety (issue 18): a TCP collector that never reads
# does not hold the exporter (SIGTERM stops it at once), one that resets the
# connection loses no flow, and the exporter's lock is out of other users'
# reach. The sinks (python3) and collectors run in the receiver namespace,
# on its loopback.

load helpers
load ipfix_helpers

LOCK_DIR=/run/traffic-counter-ipfix
OLD_LOCK_DIR=/run/lock

setup() {
	tfc_e2e_setup
	need_tools python3 ss jq setpriv flock
	BG_PIDS=()
	make_pair
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map --flow-map-size 65536
}

teardown() {
	bg_stop_all
	[ -z "${PLANTED:-}" ] || rm -f "$PLANTED"
	tfc_e2e_teardown
}

# ------------------------------------------------------------- helpers --

# sink_start never|reset OUT: a TCP listener on 127.0.0.1:FB_PORT in B that
# accepts and then never reads (a 4 KiB receive buffer), or resets every
# connection 0.3 s after accepting it (SO_LINGER 0), printing "reset" for each.
sink_start() {
	nsenter --net="/run/netns/$NS_B" timeout 120 python3 -u -c '
import socket, struct, sys, time
mode = sys.argv[1]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.bind(("127.0.0.1", int(sys.argv[2])))
s.listen(8)
print("listening")
held = []
while True:
    c, _ = s.accept()
    if mode == "never":
        held.append(c)
        continue
    time.sleep(0.3)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    print("reset")
' "$1" "$FB_PORT" >"$2" 2>&1 3>&- &
	SINK_PID=$!
	BG_PIDS+=("$SINK_PID")
	wait_eq 5 1 grep -c '^listening$' "$2"
}

# fill COUNT: COUNT synthetic flows, first packet 5 s ago; FILLED is
# "PACKETS BYTES" of them all.
fill() {
	local out
	out=$("$TFC_HELPERS/fill_flow_map" "$PIN/traffic_counters_flow" "$1" 1 5) || return 1
	[[ $out =~ ^inserted\ $1\ bytes\ ([0-9]+)\ packets\ ([0-9]+)$ ]] || {
		echo "FAIL: fill_flow_map: $out" >&2
		return 1
	}
	FILLED="${BASH_REMATCH[2]} ${BASH_REMATCH[1]}"
}

# totals OUT -> "PACKETS L2_BYTES" of the records of fill's flows (to
# 198.19.0.1 port 9: not a stray frame the veth counted) in OUT
totals() {
	awk '$1 == "flow" && $3 == "198.19.0.1" && $5 == 9 { p += $7; b += $8 }
		END { printf "%d %d\n", p, b }' "$1"
}

# flows_checked OUT -> "RECORDS REPEATED WRONG": the flow records of OUT
# (fill's, and any stray frame the veth counted), how many of fill's repeat
# a flow, and how many do not carry the totals fill_flow_map gave that flow
# (flow i, from 198.18.0.0 + i / 64 port 1024 + i % 64 to 198.19.0.1 port
# 9, has 1 + i % 7 packets of 100 bytes).
flows_checked() {
	awk '$1 == "flow" { r++ }
	$1 == "flow" && $3 == "198.19.0.1" && $5 == 9 {
		split($2, a, ".")
		i = ((a[3] - 0) * 256 + a[4] + (a[2] - 18) * 65536) * 64 + $4 - 1024
		if (seen[i]++) rep++
		if ($7 != 1 + i % 7 || $8 != $7 * 100) {
			bad++
			print "wrong totals for flow " i ": " $0 >"/dev/stderr"
		}
	} END { printf "%d %d %d\n", r, rep, bad }' "$1"
}

# slow_sends: at most 64 KiB queued on the exporter's side (in B only), so
# that the records of one cycle (2.9 MB for 40000 flows) cannot all be
# written to a collector that does not read.
slow_sends() { nsenter --net="/run/netns/$NS_B" sysctl -qw net.ipv4.tcp_wmem="4096 16384 65536"; }

map_entries() { dump_flow_json "$NS_B" | jq '[.[] | select(.dport == 9)] | length'; }

# send_queue -> bytes queued on the exporter's connection to the sink
send_queue() {
	nsenter --net="/run/netns/$NS_B" ss -Htn state established "( dport = :$FB_PORT )" |
		awk '{ q += $2 } END { print q + 0 }'
}

queued() { [ "$(send_queue)" -gt 0 ]; }

resets_at_least() { [ "$(grep -c '^reset$' "$2")" -ge "$1" ]; } # resets_at_least N SINK_OUT

held() { ! flock -n "$1" true; } # held FILE: someone holds a lock on FILE

flow_map_id() { bpftool -j map show pinned "$PIN/traffic_counters_flow" | jq .id; }

# stopped_within SECONDS PID: PID is gone before SECONDS (tenths) expired.
stopped_within() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$2" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- tests --

@test "export-ipfix over TCP to a collector that never reads: SIGTERM stops it within 2 s" {
	local sink=$BATS_TEST_TMPDIR/sink.out
	slow_sends
	sink_start never "$sink"
	# All 40000 in the map before the first cycle: it takes them together.
	fill 40000
	exporter_start_fast --transport tcp
	# The first cycle takes the flows and writes until the sink's window
	# and our send buffer are full.
	wait_until 10 queued || {
		cat "$EXP_LOG" "$sink"
		return 1
	}
	sleep 0.5
	local t0
	t0=$(date +%s%N)
	kill -TERM "$EXP_PID"
	if ! stopped_within 2 "$EXP_PID"; then
		echo "FAIL: export-ipfix still runs 2 s after SIGTERM: $(tail -3 "$EXP_LOG")" >&2
		return 1
	fi
	echo "stopped $((($(date +%s%N) - t0) / 1000000)) ms after SIGTERM (figure, not asserted)"
	BG_STATUS=0
	wait "$EXP_PID" || BG_STATUS=$?
	cat "$EXP_LOG"
	assert_eq "$BG_STATUS" 1 "exit status (the last records could not be sent)"
	grep -Eq "^traffic-counter: collector 127\.0\.0\.1:$FB_PORT did not take [0-9]+ records \(.+\): they are lost; [0-9]+ flows left in the map$" "$EXP_LOG"
}

@test "export-ipfix over TCP: records a stalled collector did not take are kept, then sent exact to the next one" {
	local sink=$BATS_TEST_TMPDIR/sink.out col=$BATS_TEST_TMPDIR/collect.out kept later
	slow_sends
	sink_start never "$sink"
	# All 40000 in the map before the first cycle: it takes them together.
	fill 40000
	exporter_start_fast --transport tcp
	# 5 s without progress: the cycle gives up and keeps what it could not send.
	wait_until 15 grep -q 'records of this cycle were not sent: kept' "$EXP_LOG" || {
		grep -v '^cycle' "$EXP_LOG"
		return 1
	}
	stop_pid "$SINK_PID"
	collector_start tcp 127.0.0.1 "$col"
	wait_until 20 grep -q 'sent the [0-9]* records kept' "$EXP_LOG" || {
		grep -v '^cycle' "$EXP_LOG"
		return 1
	}
	kept=$(sed -n 's/.*: sent the \([0-9]*\) records kept .*/\1/p' "$EXP_LOG")
	echo "records kept and sent again: $kept of 40000"
	[ "$kept" -gt 30000 ]
	stop_pid "$EXP_PID"
	assert_eq "$BG_STATUS" 0 "exporter exit status"
	sleep 0.5
	# Only the messages written to the sink before it stalled are lost. A
	# stray frame the veth counted may come in a later cycle: its records
	# are those the cycles after the resend say they sent.
	later=$(sed -n '/sent the [0-9]* records kept/,$ s/.*cycle: .* records (\([0-9]*\) sent;.*/\1/p' \
		"$EXP_LOG" | awk '{ n += $1 } END { print n + 0 }')
	echo "records sent by later cycles: $later"
	assert_eq "$(flows_checked "$col")" "$((kept + later)) 0 0" \
		"records, repeated flows, wrong totals"
}

@test "export-ipfix over TCP, a collector that resets the connection: no flow lost, totals exact with the next collector" {
	local sink=$BATS_TEST_TMPDIR/sink.out col=$BATS_TEST_TMPDIR/collect.out
	sink_start reset "$sink"
	exporter_start_fast --transport tcp
	fill 2000
	# Cycles find the connection reset: the flows stay in the map.
	wait_until 10 resets_at_least 3 "$sink" || {
		cat "$EXP_LOG" "$sink"
		return 1
	}
	wait_until 5 grep -Eq 'collector .*: unreachable' "$EXP_LOG"
	assert_eq "$(map_entries)" 2000 "flows still in the map"
	stop_pid "$SINK_PID"
	collector_start tcp 127.0.0.1 "$col"
	wait_eq 15 "$FILLED" totals "$col"
	stop_pid "$EXP_PID"
	assert_eq "$BG_STATUS" 0 "exporter exit status"
	sleep 0.5
	assert_eq "$(totals "$col")" "$FILLED" "packets and bytes the collector got"
	if grep -E 'lost' "$EXP_LOG"; then
		echo "FAIL: the exporter says records were lost" >&2
		return 1
	fi
}

@test "export-ipfix lock: under a root-only directory, a symlink at the old path not followed, nobody cannot hold it" {
	local col=$BATS_TEST_TMPDIR/collect.out id victim=$BATS_TEST_TMPDIR/victim
	id=$(flow_map_id)
	# Where any user could write (/run/lock): a symlink to a file that must
	# not be created, and then a lock held by nobody.
	PLANTED=$OLD_LOCK_DIR/traffic-counter-ipfix-map$id.lock
	ln -s "$victim" "$PLANTED"
	collector_start tcp 127.0.0.1 "$col"
	exporter_start_fast --transport tcp
	[ ! -e "$victim" ] || {
		echo "FAIL: export-ipfix created $victim through the symlink $PLANTED" >&2
		return 1
	}
	local lock=$LOCK_DIR/traffic-counter-ipfix-map$id.lock
	[ -f "$lock" ] && [ ! -L "$lock" ]
	assert_eq "$(stat -c '%U %a' "$LOCK_DIR")" "root 700" "lock directory owner and mode"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups flock -n "$lock" true
	[ "$status" -ne 0 ]
	stop_pid "$EXP_PID"
	assert_eq "$BG_STATUS" 0 "exporter exit status"

	rm -f "$PLANTED"
	touch "$PLANTED"
	chown nobody "$PLANTED"
	setpriv --reuid=nobody --regid=nogroup --clear-groups flock "$PLANTED" sleep 30 3>&- &
	BG_PIDS+=("$!")
	wait_until 5 held "$PLANTED"
	exporter_start_fast --transport tcp
	stop_pid "$EXP_PID"
	assert_eq "$BG_STATUS" 0 "exporter exit status, with nobody's lock in $OLD_LOCK_DIR"
}

@test "export-ipfix lock: a symlink planted at the lock path is refused, its target untouched" {
	local id victim=$BATS_TEST_TMPDIR/victim
	id=$(flow_map_id)
	[ -d "$LOCK_DIR" ] || mkdir -m 0700 "$LOCK_DIR"
	echo keep >"$victim"
	PLANTED=$LOCK_DIR/traffic-counter-ipfix-map$id.lock
	ln -s "$victim" "$PLANTED"
	run --separate-stderr nsenter --net="/run/netns/$NS_B" "$TFC_BIN" export-ipfix \
		--pin-dir "$PIN" --collector "127.0.0.1:$FB_PORT" --transport tcp
	assert_eq "$status" 1 "exit status"
	assert_eq "$stderr" "traffic-counter: cannot lock $PLANTED: it is a symlink or not a regular file: remove it" "message"
	assert_eq "$(cat "$victim")" keep "the symlink's target"
}
