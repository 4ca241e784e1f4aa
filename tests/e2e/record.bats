#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2154 # bats: each @test is a subshell; run sets $stderr
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
	TFCE_MOUNTS=()
	DB=$BATS_TEST_TMPDIR/history.db
	BOOT_ID=$BATS_TEST_TMPDIR/boot_id
	echo 11111111-2222-3333-4444-555555555555 >"$BOOT_ID"
	export TRAFFIC_COUNTER_BOOT_ID_FILE=$BOOT_ID
}

teardown() {
	bg_stop_all
	local m
	for m in ${TFCE_MOUNTS[@]+"${TFCE_MOUNTS[@]}"}; do umount "$m" 2>/dev/null || true; done
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

assert_all_res_iface() {
	local res
	for res in 0 1 2 3 4; do
		assert_eq "$(db_iface "$DEV_B" 0 "$res")" "$1" "iface rx res $res"
	done
}

maps_addr() { ip_counts "$NS_B" "$A4" ingress "$(ifindex_of "$NS_B" "$DEV_B")"; }

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
	# report reads the same totals back, checked apart from the SQL above.
	run --separate-stderr "$TFC_BIN" report --db "$DB" --top 5 --json
	echo "report: $status '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$(jq -r --arg a "$A4" '.addresses[] | select(.address == $a)
		| "\(.rx_packets) \(.rx_bytes) \(.tx_packets)"' <<<"$output")" \
		"150 $((150 * UDP_FRAME)) 0" "report --top: the address, received"
	run --separate-stderr "$TFC_BIN" report --db "$DB" --iface "$DEV_B" --json
	[ "$status" -eq 0 ]
	assert_eq "$(jq -r '.periods[] | select(.period == "today") | .rx_bytes' <<<"$output")" \
		"$(db_iface "$DEV_B" 0 2 | cut -d' ' -f2)" "report summary today: the day rows"
	# last_read holds what was read; the schema is version 2, in WAL mode.
	assert_eq "$(q 'PRAGMA user_version')" 2 "schema"
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

@test "cap: 50,000 addresses against --max-addresses 1000: totals exact, 'other' holds the rest, DB small" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	local ifx out
	ifx=$(ifindex_of "$NS_B" "$DEV_B")
	out=$(nsenter --net="/run/netns/$NS_B" "$TFC_HELPERS/fill_ip_map" \
		"$PIN/traffic_counters_ip" 50000 "$ifx")
	echo "$out"
	local bytes packets
	read -r _ _ _ bytes _ packets <<<"$out"
	record_once --max-addresses 1000
	local res
	for res in 1 2 3 4; do
		assert_eq "$(q "SELECT count(*) FROM addr_traffic WHERE res = $res AND prefix_len = 32")" \
			1000 "address rows res $res"
		assert_eq "$(q "SELECT sum(packets) || ' ' || sum(bytes) FROM addr_traffic
			WHERE res = $res")" "$packets $bytes" "address totals res $res"
		assert_eq "$(q "SELECT count(*) FROM addr_traffic WHERE res = $res AND addr = 'other'")" \
			1 "one other row res $res"
	done
	assert_all_res_iface "$packets $bytes"
	# 4 x 1001 address rows and 50,000 last_read rows: a few MB at most.
	local size
	size=$(stat -c %s "$DB")
	echo "database: $size bytes"
	[ "$size" -lt $((12 * 1024 * 1024)) ]
}

@test "retention: buckets past it are pruned, recent and 'forever' ones stay" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	send 5
	record_once
	local now old
	now=$(date +%s)
	old=$((now - 40 * 86400))
	# Rows for past dates: 5 minutes 40 days ago (retention 35 d), an hour
	# 40 days ago (kept with --retention hour=60d), a year 40 years ago.
	q "INSERT INTO iface_traffic VALUES (0, $old, 'x', 0, 1, 1), (0, $((old + 300)), 'x', 0, 1, 1),
		(1, $old, 'x', 0, 1, 1), (4, $((now - 40 * 365 * 86400)), 'x', 0, 1, 1);
	   INSERT INTO addr_traffic VALUES (1, $((now - 20 * 86400)), 'x', 0, '198.18.9.9', 32, 1, 1);
	   INSERT INTO reason_traffic VALUES (0, $old, 'x', 0, 'non_ip', 1, 1)"
	record_once --retention hour=60d
	assert_eq "$(q "SELECT count(*) FROM iface_traffic WHERE iface = 'x' AND res = 0")" 0 "5min pruned"
	assert_eq "$(q "SELECT count(*) FROM iface_traffic WHERE iface = 'x' AND res = 1")" 1 "hour kept (60d)"
	assert_eq "$(q "SELECT count(*) FROM iface_traffic WHERE iface = 'x' AND res = 4")" 1 "year kept"
	assert_eq "$(q "SELECT count(*) FROM addr_traffic WHERE iface = 'x'")" 1 "20 days < 60 days"
	assert_eq "$(q "SELECT count(*) FROM reason_traffic WHERE iface = 'x'")" 0 "reason pruned"
	record_once --retention hour=14d
	assert_eq "$(q "SELECT count(*) FROM addr_traffic WHERE iface = 'x'")" 0 "hour pruned at 14 d"
	assert_all_res "5 $((5 * UDP_FRAME))"
}

@test "--evict-idle under a flood: idle entries go, no frame lost or counted twice" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	record_bg --save-interval 1 --evict-idle 1
	local frames=0 out=$BATS_TEST_TMPDIR/flood.out sent len
	# Bursts from one source with pauses: idle between bursts, evicted, and a
	# burst may start between record's read and its delete.
	for _ in 1 2 3 4 5 6; do
		timeout 30 ip netns exec "$NS_A" "$TFC_HELPERS/flood_send" "$DEV_A" "$MAC_B" "$A4" \
			"$B4" 5000 6000 "$UDP_PAYLOAD" 20000 >"$out"
		read -r sent len _ <"$out"
		frames=$((frames + sent))
		sleep "1.$((RANDOM % 9))"
	done
	stop_pid "$REC_PID" TERM
	cat "$BATS_TEST_TMPDIR/record.log"
	grep -q "evicted" "$BATS_TEST_TMPDIR/record.log"
	# Each pass that evicted told the programs the IP map has room again.
	[ "$(bpftool -j map dump pinned "$PIN/traffic_control" |
		jq '.[0].formatted.value.ip_map_frees')" -gt 0 ]
	# What the maps still hold was read at the last save: the database has all.
	assert_eq "$(db_addr "$A4")" "$frames $((frames * len))" "database"
	assert_eq "$(db_iface "$DEV_B" 0 0)" "$frames $((frames * len))" "interface"
}

@test "hostile database files: corrupt, newer schema, read-only, full disk: clear error, nothing lost" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	head -c 8192 /dev/urandom >"$DB"
	run --separate-stderr record_once
	echo "corrupt: $status '$stderr'"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$DB"* ]]
	rm -f "$DB"
	send 10
	record_once
	cp "$DB" "$DB.newer"
	sqlite3 "$DB.newer" "PRAGMA user_version = 9"
	run --separate-stderr record_once --db "$DB.newer"
	echo "newer: $status '$stderr'"
	[ "$status" -eq 1 ]
	[[ $stderr == *"newer than this traffic-counter"* ]]
	assert_eq "$(sqlite3 "$DB.newer" 'PRAGMA user_version')" 9 "newer file untouched"
	# A read-only file (chattr +i stops root too): refused, no change.
	chattr +i "$DB" || skip "chattr +i unsupported on this filesystem"
	send 10
	run --separate-stderr record_once
	chattr -i "$DB"
	echo "read-only: $status '$stderr'"
	[ "$status" -eq 1 ]
	assert_eq "$(db_addr "$A4")" "10 $((10 * UDP_FRAME))" "read-only: unchanged"
	record_once
	assert_eq "$(db_addr "$A4")" "20 $((20 * UDP_FRAME))" "then writable: all of it"
}

@test "full disk on a tiny tmpfs: the save fails whole, data already written stays" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	local mnt=$BATS_TEST_TMPDIR/tiny ifx
	mkdir "$mnt"
	mount -t tmpfs -o size=512k tmpfs "$mnt"
	TFCE_MOUNTS+=("$mnt")
	DB=$mnt/history.db
	send 10
	record_once
	ifx=$(ifindex_of "$NS_B" "$DEV_B")
	nsenter --net="/run/netns/$NS_B" "$TFC_HELPERS/fill_ip_map" "$PIN/traffic_counters_ip" \
		20000 "$ifx" >/dev/null
	run --separate-stderr record_once
	echo "full: $status '$stderr'"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$DB"* ]]
	assert_eq "$(db_addr "$A4")" "10 $((10 * UDP_FRAME))" "what was written stays"
	sqlite3 "$DB" 'PRAGMA integrity_check' | grep -qx ok
	umount "$mnt"
}

@test "status shows the database, its size and last save; detach --purge leaves the history alone" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	run tfc_in "$NS_B" status --db "$DB"
	echo "$output"
	[[ $output == *"history: $DB: No such file or directory"* ]]
	send 10
	record_once
	run tfc_in "$NS_B" status --db "$DB"
	echo "$output"
	[[ $output == *"history: $DB ("*" bytes), last save: $(date +%Y-%m-%d)"* ]]
	run tfc_in "$NS_B" status --db "$DB" --json
	assert_eq "$(jq -r '.history.last_save' <<<"$output")" \
		"$(q "SELECT value FROM meta WHERE key = 'last_save'")" "last_save in JSON"
	[ "$(jq -r '.history.size' <<<"$output")" -gt 0 ]
	tfc_in "$NS_B" detach --all --purge
	[ -f "$DB" ]
	assert_eq "$(db_addr "$A4")" "10 $((10 * UDP_FRAME))" "history after detach --purge"
}

@test "record --config: RECORD_* keys and the pin directory from the file, the command line wins" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	local conf=$BATS_TEST_TMPDIR/tc.conf
	printf 'ATTACH=%s:xdp\nTRAFFIC_COUNTER_PIN_DIR=%s\nRECORD=yes\nRECORD_DB=%s\nRECORD_MAX_ADDRESSES=0\n' \
		"$DEV_B" "$PIN" "$BATS_TEST_TMPDIR/from-conf.db" >"$conf"
	chmod 600 "$conf"
	send 10
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" record --once --config "$conf"
	DB=$BATS_TEST_TMPDIR/from-conf.db
	# Cap 0: the address is in the other row only.
	assert_eq "$(db_addr other)" "10 $((10 * UDP_FRAME))" "other row (RECORD_MAX_ADDRESSES=0)"
	assert_eq "$(db_addr "$A4")" "0 0" "no address row"
	DB=$BATS_TEST_TMPDIR/cmdline.db
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" record --once --config "$conf" --db "$DB" \
		--max-addresses 5
	assert_eq "$(db_addr "$A4")" "10 $((10 * UDP_FRAME))" "command line wins"
	printf 'ATTACH=%s:xdp\nRECORD_INTERVAL=0\n' "$DEV_B" >"$conf"
	run --separate-stderr nsenter --net="/run/netns/$NS_B" "$TFC_BIN" record --once --config "$conf"
	assert_eq "$status" 2 "invalid file: usage error"
	[[ $stderr == *"$conf:2: RECORD_INTERVAL: 0 is out of range 1..3600"* ]]
}
