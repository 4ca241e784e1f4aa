#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# README claims about export-ipfix that no other test checks (issue 17):
# the flush on SIGINT, what a restart after kill -9 sends, an IPv6
# collector, templates again on a new TCP connection. The collector is
# tests/helpers/ipfix_collect (libfixbuf), in the receiver namespace on its
# loopback; flows are hand-made frames (flow_send), counted at B's XDP hook.

load helpers
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

# got OUT SPORT -> "records packets l2bytes" over the collector's records of
# the flow from source port SPORT
got() {
	awk -v sp="$2" '$1 == "flow" && $4 == sp { r++; p += $7; b += $8 }
		END { printf "%d %d %d\n", r, p, b }' "$1"
}

# reasons OUT SPORT -> the end reasons of the flow's records, in order
reasons() {
	awk -v sp="$2" '$1 == "flow" && $4 == sp { printf "%s%s", s, $16; s = "," } END { print "" }' "$1"
}

kept_totals() { got "$1" 46000 | cut -d' ' -f2-; } # "packets bytes" of the kept flow

logged() { grep -Eq "$1" "$EXP_LOG" && echo yes; }

# ---------------------------------------------------------------- tests --

@test "export-ipfix: SIGINT sends the last partial interval before exit 0" {
	local out=$BATS_TEST_TMPDIR/collect.out
	collector_start udp 127.0.0.1 "$out"
	# Active timeout far off: only the flush at exit can send the flow.
	exporter_start "$BATS_TEST_TMPDIR/exp.log" --collector "127.0.0.1:$FB_PORT" \
		--interval 1 --active-timeout 3600 --idle-timeout 3600
	flow "$A4" "$B4" udp 45000 9 7 40
	flow "$A6" "$B6" tcp 45001 80 3 100 && local f6=$FRAME
	flow "$A4" "$B4" udp 45000 9 0 40 # FRAME of the first flow
	wait_eq 5 1 in_map 45000
	# Cycles ran meanwhile and sent none of it.
	wait_eq 5 yes logged '^cycle: '
	assert_eq "$(got "$out" 45000)" "0 0 0" "records before SIGINT"
	stop_pid "$EXP_PID" INT
	assert_eq "$BG_STATUS" 0 "exit status after SIGINT"
	grep -q 'stopping on signal 2' "$EXP_LOG"
	wait_eq 5 "1 7 $((7 * FRAME))" got "$out" 45000
	wait_eq 5 "1 3 $((3 * f6))" got "$out" 45001
	assert_eq "$(reasons "$out" 45000),$(reasons "$out" 45001)" "4,4" "end reasons: forced end"
	assert_eq "$(dump_flow_json "$NS_B" | jq length)" 0 "flows left in the map"
}

@test "export-ipfix after kill -9: flows left in the map are sent again from their start, removed ones not" {
	local out=$BATS_TEST_TMPDIR/collect.out i kept=0
	collector_start udp 127.0.0.1 "$out"
	exporter_start "$BATS_TEST_TMPDIR/exp1.log" --collector "127.0.0.1:$FB_PORT" \
		--interval 1 --active-timeout 1 --idle-timeout 5
	# Removed: idle, exported a last time and deleted. Kept: a packet every
	# 0.5 s meanwhile, so it never idles.
	flow "$A4" "$B4" udp 46001 9 4 60 && local fr=$FRAME
	for ((i = 0; i < 30; i++)); do
		flow "$A4" "$B4" udp 46000 9 1 40 && local fk=$FRAME
		kept=$((kept + 1))
		[ "$(in_map 46001)" = 0 ] && break
		sleep 0.5
	done
	assert_eq "$(in_map 46001)" 0 "the idle flow removed"
	assert_eq "$(got "$out" 46001)" "1 4 $((4 * fr))" "the removed flow's record"
	# Everything of the kept flow sent (active timeout), then kill -9 well
	# before it would idle.
	wait_eq 4 "$kept $((kept * fk))" kept_totals "$out"
	assert_eq "$(in_map 46000)" 1 "the kept flow still in the map"
	stop_pid "$EXP_PID" KILL
	# More traffic on the kept flow while no exporter runs.
	flow "$A4" "$B4" udp 46000 9 5 40

	exporter_start "$BATS_TEST_TMPDIR/exp2.log" --collector "127.0.0.1:$FB_PORT" \
		--interval 1 --active-timeout 3600 --idle-timeout 3600
	stop_pid "$EXP_PID" TERM
	assert_eq "$BG_STATUS" 0 "exit status of the second exporter"
	# The kept flow: all its packets from the start again, on top of what the
	# killed exporter sent (the README: "exported again from their start").
	# The removed one: never again. Nothing is lost.
	local total=$((2 * kept + 5))
	wait_eq 5 "$total $((total * fk))" kept_totals "$out"
	assert_eq "$(reasons "$out" 46000 | awk -F, '{ print $NF }')" 4 "last record: forced end"
	assert_eq "$(got "$out" 46001)" "1 4 $((4 * fr))" "the removed flow, once"
}

@test "export-ipfix to an IPv6 collector ([::1]:P): records decode, totals exact" {
	local out=$BATS_TEST_TMPDIR/collect.out tr
	for tr in udp tcp; do
		collector_start "$tr" ::1 "$out"
		exporter_start "$BATS_TEST_TMPDIR/exp-$tr.log" --collector "[::1]:$FB_PORT" \
			--transport "$tr" --interval 1 --active-timeout 3600 --idle-timeout 3600
		# The collector listens on ::1 only: what it decodes came over IPv6.
		assert_eq "$(nsenter --net="/run/netns/$NS_B" ss -Hln "sport = :$FB_PORT" |
			awk '{ print $(NF - 1) }')" "[::1]:$FB_PORT" "collector socket ($tr)"
		flow "$A6" "$B6" udp 47000 9 6 80 && local f6=$FRAME
		flow "$A4" "$B4" tcp 47001 80 2 10 && local f4=$FRAME
		stop_pid "$EXP_PID" TERM
		assert_eq "$BG_STATUS" 0 "exporter exit status ($tr)"
		wait_eq 5 "1 6 $((6 * f6))" got "$out" 47000
		wait_eq 5 "1 2 $((2 * f4))" got "$out" 47001
		stop_pid "$COL_PID" TERM
	done
}

@test "export-ipfix over TCP: a restarted collector gets the templates first and decodes" {
	local first=$BATS_TEST_TMPDIR/first.out later=$BATS_TEST_TMPDIR/later.out
	collector_start tcp 127.0.0.1 "$first"
	exporter_start "$BATS_TEST_TMPDIR/exp.log" --collector "127.0.0.1:$FB_PORT" --transport tcp \
		--interval 1 --active-timeout 1 --idle-timeout 3600
	flow "$A4" "$B4" udp 48000 9 5 30 && local f1=$FRAME
	wait_eq 8 "1 5 $((5 * f1))" got "$first" 48000
	# The collector goes away: the exporter notices (a cycle's send fails),
	# then the collector comes back on the same port.
	stop_pid "$COL_PID" TERM
	wait_eq 10 yes logged 'collector 127\.0\.0\.1:[0-9]+: '
	collector_start tcp 127.0.0.1 "$later"
	flow "$A4" "$B4" udp 48001 9 4 30 && local f2=$FRAME
	flow "$A6" "$B6" udp 48002 9 3 30 && local f3=$FRAME
	# Decoded records need the templates on this connection: the
	# collector knew none. The statistics record decodes too.
	wait_eq 10 "1 4 $((4 * f2))" got "$later" 48001 || {
		cat "$EXP_LOG" "$later"
		return 1
	}
	wait_eq 5 "1 3 $((3 * f3))" got "$later" 48002
	grep -q '^stats 0 ' "$later"
	if grep -v '^\(listening\|flow \|stats \)' "$later"; then
		echo "FAIL: the new collector reported errors (above)" >&2
		return 1
	fi
	assert_eq "$(got "$later" 48000)" "0 0 0" "the first flow, not sent again"
	stop_pid "$EXP_PID" TERM
	assert_eq "$BG_STATUS" 0 "exporter exit status"
}
