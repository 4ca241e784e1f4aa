#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# record: the history database holds exactly the traffic the maps counted,
# across saves, crashes (kill -9), restarts, reboots (boot id), maps purged
# and re-attached, attach --migrate and idle eviction; the per-bucket cap,
# retention, and hostile database files. Checked with the sqlite3 CLI.

load helpers

setup() {
	tfc_e2e_setup
	need_tools sqlite3
	make_pair nov6
	BG_PIDS=()
	DB=$BATS_TEST_TMPDIR/history.db
	BOOT_ID=$BATS_TEST_TMPDIR/boot_id
	echo 11111111-2222-3333-4444-555555555555 >"$BOOT_ID"
	export TRAFFIC_COUNTER_BOOT_ID_FILE=$BOOT_ID
}

teardown() {
	bg_stop_all
	tfc_e2e_teardown
}

# ------------------------------------------------------------- helpers --

UDP_PAYLOAD=100
UDP_FRAME=142 # 14 + 20 + 8 + 100

# send N: N UDP frames A -> B, counted at B's ingress under A4.
send() {
	ip netns exec "$NS_A" "$TFC_HELPERS/udp_send" "$B4" 9000 5000 "$1" "$UDP_PAYLOAD"
}

record_once() {
	tfc_in "$NS_B" record --db "$DB" --once "$@"
}

# record_bg ARGS...: record in the background, reading every second. No
# timeout wrapper: REC_PID is record itself (nsenter execs it), so kill -9
# hits record; teardown stops it whatever happens.
record_bg() {
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" record --pin-dir "$PIN" \
		--db "$DB" --interval 1 "$@" 2>>"$BATS_TEST_TMPDIR/record.log" &
	REC_PID=$!
	BG_PIDS+=("$REC_PID")
}

q() { sqlite3 -batch -noheader "$DB" "$1"; }

# db_addr ADDR [RES] -> "packets bytes" summed over the address's rows (hour: 1)
db_addr() {
	q "SELECT coalesce(sum(packets),0) || ' ' || coalesce(sum(bytes),0) FROM addr_traffic
		WHERE addr = '$1' AND res = ${2:-1}"
}

# db_iface IFACE DIR RES -> "packets bytes" of the interface rows
db_iface() {
	q "SELECT coalesce(sum(packets),0) || ' ' || coalesce(sum(bytes),0) FROM iface_traffic
		WHERE iface = '$1' AND dir = $2 AND res = $3"
}

# every resolution of the interface and of the address holds the same total
assert_all_res() {
	local want=$1 res
	for res in 0 1 2 3 4; do
		assert_eq "$(db_iface "$DEV_B" 0 "$res")" "$want" "iface rx res $res"
	done
	for res in 1 2 3 4; do
		assert_eq "$(db_addr "$A4" "$res")" "$want" "address res $res"
	done
}

maps_addr() { ip_counts "$NS_B" "$A4" ingress "$(ifindex_of "$NS_B" "$DEV_B")"; }

# wait_saved N: until meta's last_save changed N times... simply until the
# address total reaches WANT, at most 20 s.
wait_db_addr() {
	local want=$1 i
	for ((i = 0; i < 100; i++)); do
		[ "$(db_addr "$A4" 2>/dev/null)" = "$want" ] && return 0
		sleep 0.2
	done
	echo "database never reached '$want' for $A4: $(db_addr "$A4")" >&2
	return 1
}

# --------------------------------------------------------------- tests --

@test "record --once: totals per address and interface equal the traffic and the maps" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	send 100
	run record_once
	echo "$output"
	[ "$status" -eq 0 ]
	assert_eq "$(maps_addr)" "100 $((100 * UDP_FRAME))" "maps"
	assert_all_res "100 $((100 * UDP_FRAME))"
	send 50
	record_once
	assert_all_res "150 $((150 * UDP_FRAME))"
	assert_eq "$(maps_addr)" "150 $((150 * UDP_FRAME))" "maps"
	# last_read holds what was read; the schema is version 1, in WAL mode.
	assert_eq "$(q 'PRAGMA user_version')" 1 "schema"
	assert_eq "$(q 'PRAGMA journal_mode')" wal "journal"
	assert_eq "$(stat -c %a "$DB")" 600 "mode"
}

@test "record killed -9 (also mid-save) then restarted: nothing lost, nothing counted twice" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	send 100
	record_once
	# Read into memory, never saved: killed, the deltas are still in the maps.
	record_bg --save-interval 3600
	send 50
	sleep 2
	stop_pid "$REC_PID" KILL
	assert_eq "$(db_addr "$A4")" "100 $((100 * UDP_FRAME))" "after kill -9"
	send 30
	record_once
	assert_all_res "180 $((180 * UDP_FRAME))"
	# Saving every second under traffic, killed at some point of a save.
	record_bg --save-interval 1
	send 2000 &
	BG_PIDS+=($!)
	sleep 1.7
	stop_pid "$REC_PID" KILL
	wait "${BG_PIDS[-1]}"
	record_once
	assert_eq "$(maps_addr)" "2180 $((2180 * UDP_FRAME))" "maps"
	assert_all_res "2180 $((2180 * UDP_FRAME))"
}

@test "record stopped (SIGTERM flushes), traffic meanwhile, restarted: exact" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	record_bg --save-interval 3600
	send 40
	sleep 1.5
	stop_pid "$REC_PID" TERM
	assert_eq "$BG_STATUS" 0 "record's exit status on SIGTERM"
	assert_eq "$(db_addr "$A4")" "40 $((40 * UDP_FRAME))" "flushed on stop"
	grep -q "history saved" "$BATS_TEST_TMPDIR/record.log"
	send 60
	record_bg --save-interval 3600
	sleep 1.5
	stop_pid "$REC_PID" INT
	assert_eq "$BG_STATUS" 0 "record's exit status on SIGINT"
	assert_all_res "100 $((100 * UDP_FRAME))"
}

@test "maps purged and re-attached, then a simulated reboot: each a new epoch, exact" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	send 10
	record_once
	tfc_in "$NS_B" detach --all --purge
	tfc_attach "$NS_B" --iface "$DEV_B"
	# More than before: only the epoch (created_ns) tells the new maps apart.
	send 30
	run --separate-stderr record_once
	[ "$status" -eq 0 ]
	[[ $stderr == *"new epoch"* ]]
	assert_all_res "40 $((40 * UDP_FRAME))"
	# A reboot: another boot id, maps made again.
	echo 99999999-2222-3333-4444-555555555555 >"$BOOT_ID"
	tfc_in "$NS_B" detach --all --purge
	tfc_attach "$NS_B" --iface "$DEV_B"
	send 70
	record_once
	assert_all_res "110 $((110 * UDP_FRAME))"
	assert_eq "$(q "SELECT value FROM meta WHERE key = 'boot_id'")" \
		99999999-2222-3333-4444-555555555555 "boot id saved"
}

@test "attach --migrate while recording: the carried counters go on, exact" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	record_bg --save-interval 1
	send 100
	sleep 1.5
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --migrate \
		--ip-map-type shared --ip-map-size 4096
	echo "migrate: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	send 50
	sleep 1.5
	stop_pid "$REC_PID" TERM
	cat "$BATS_TEST_TMPDIR/record.log"
	grep -q "migrated" "$BATS_TEST_TMPDIR/record.log"
	assert_eq "$(maps_addr)" "150 $((150 * UDP_FRAME))" "maps"
	assert_all_res "150 $((150 * UDP_FRAME))"
}
