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

# record_bg ARGS...: record in the background, reading every second.
record_bg() {
	timeout 120 nsenter --net="/run/netns/$NS_B" "$TFC_BIN" record --pin-dir "$PIN" \
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
