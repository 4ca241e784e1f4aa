#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# record and report for cgroups: cgroup_traffic holds the growth of each
# row of traffic_counters_cgroup at hour and coarser, under the names its
# path gave when recorded (a removed cgroup still reads by them); a schema 1
# database is upgraded in place; report --cgroups lists a period's cgroups
# largest first, as a table, JSON or CSV. The test writes the cgroup rows
# (cgroup_helpers.bash) for real cgroups under the v2 mount.

load helpers
load cgroup_helpers

POD_UID=1b2c3d4e-0000-4000-8000-00000000abcd
CTR=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

setup() {
	tfc_e2e_setup
	need_tools sqlite3 findmnt
	DB=$BATS_TEST_TMPDIR/history.db
	echo 11111111-2222-3333-4444-555555555555 >"$BATS_TEST_TMPDIR/boot_id"
	export TRAFFIC_COUNTER_BOOT_ID_FILE=$BATS_TEST_TMPDIR/boot_id
}

teardown() {
	cg_teardown
	tfc_e2e_teardown
}

# attached: the pair, an attachment (record reads its maps), our cgroups.
attached() {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	cg_setup
	cg_map
}

record_once() { tfc_in "$NS_B" record --db "$DB" --once; }

q() { sqlite3 -batch -noheader "$DB" "$1"; }

# db_cg PATH DIR RES -> "packets bytes unit|container|pod|namespace"
db_cg() {
	q "SELECT packets || ' ' || bytes || ' ' || unit || '|' || container || '|' || pod || '|' ||
		namespace FROM cgroup_traffic WHERE cgroup = '$1' AND dir = $2 AND res = $3"
}

@test "record_cgroups: each cgroup's growth at hour and coarser, exact, with its names" {
	local web pod res
	attached
	web=$(cg_make system.slice/tfce-web.service)
	pod=$(cg_make "kubepods/besteffort/pod$POD_UID/$CTR")
	cg_row "$web" 1 1000 10
	cg_row "$pod" 0 70 1
	cg_row 4000000000 1 9 1
	record_once
	# Grown between two reads: only the growth is added.
	cg_row "$web" 1 1500 12
	record_once
	for res in 1 2 3 4; do
		assert_eq "$(db_cg "$CG_REL/system.slice/tfce-web.service" 1 "$res")" \
			"$((12 * NCPU)) $((1500 * NCPU)) tfce-web.service|||" "web egress res $res"
		assert_eq "$(db_cg "$CG_REL/kubepods/besteffort/pod$POD_UID/$CTR" 0 "$res")" \
			"$((1 * NCPU)) $((70 * NCPU)) |$CTR|$POD_UID|" "pod ingress res $res"
		assert_eq "$(db_cg id:4000000000 1 "$res")" "$((1 * NCPU)) $((9 * NCPU)) |||" \
			"unnamed id res $res"
	done
	assert_eq "$(q 'SELECT count(*) FROM cgroup_traffic WHERE res = 0')" 0 "no 5-minute rows"
	assert_eq "$(q 'SELECT count(*) FROM cgroup_traffic')" 12 "rows: 3 cgroups x 4 resolutions"
	assert_eq "$(q "SELECT cgroup FROM cgroup_names WHERE id = $web")" \
		"$CG_REL/system.slice/tfce-web.service" "names kept by id"
	run --separate-stderr "$TFC_BIN" report --db "$DB" --cgroups --json
	[ "$status" -eq 0 ]
	assert_eq "$(jq -r '[.kind, .resolution, (.cgroups | length)] | @tsv' <<<"$output")" \
		"cgroups	day	3" "report --cgroups --json: kind, resolution, rows"
	assert_eq "$(jq -r '.cgroups[0] | [.cgroup, .unit, .tx_bytes, .tx_packets, .rx_bytes] | @tsv' <<<"$output")" \
		"$CG_REL/system.slice/tfce-web.service	tfce-web.service	$((1500 * NCPU))	$((12 * NCPU))	0" \
		"report --cgroups: the largest first"
}

@test "record_cgroups: a cgroup removed before record started still reads by its names" {
	local gone
	attached
	gone=$(cg_make system.slice/tfce-gone.service)
	cg_row "$gone" 0 100 1
	record_once
	rmdir "$CG_TOP/system.slice/tfce-gone.service"
	cg_row "$gone" 0 400 4
	# A new record: its names cache never saw the cgroup; the database has.
	record_once
	assert_eq "$(db_cg "$CG_REL/system.slice/tfce-gone.service" 0 2)" \
		"$((4 * NCPU)) $((400 * NCPU)) tfce-gone.service|||" "day row under its path"
	assert_eq "$(q "SELECT count(*) FROM cgroup_traffic WHERE cgroup LIKE 'id:%'")" 0 \
		"no row by id"
	run --separate-stderr "$TFC_BIN" report --db "$DB" --cgroups --csv
	[ "$status" -eq 0 ]
	[[ ${lines[1]} == "$CG_REL/system.slice/tfce-gone.service,tfce-gone.service,,,,"*",$((400 * NCPU)),0,$((4 * NCPU)),0,"* ]]
}

@test "record_cgroups: a schema 1 database is upgraded in place, its rows kept" {
	attached
	# Version 1 as record wrote it, with one interface row and one address
	# row of a year kept forever (2025, UTC).
	sqlite3 "$DB" <<'SQL'
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE last_read (key BLOB PRIMARY KEY, packets INTEGER NOT NULL,
 bytes INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE iface_traffic (res INTEGER NOT NULL, ts INTEGER NOT NULL,
 iface TEXT NOT NULL, dir INTEGER NOT NULL, packets INTEGER NOT NULL,
 bytes INTEGER NOT NULL, PRIMARY KEY (res, ts, iface, dir)) WITHOUT ROWID;
CREATE TABLE reason_traffic (res INTEGER NOT NULL, ts INTEGER NOT NULL,
 iface TEXT NOT NULL, dir INTEGER NOT NULL, reason TEXT NOT NULL,
 packets INTEGER NOT NULL, bytes INTEGER NOT NULL,
 PRIMARY KEY (res, ts, iface, dir, reason)) WITHOUT ROWID;
CREATE TABLE addr_traffic (res INTEGER NOT NULL, ts INTEGER NOT NULL,
 iface TEXT NOT NULL, dir INTEGER NOT NULL, addr TEXT NOT NULL,
 prefix_len INTEGER NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,
 PRIMARY KEY (res, ts, iface, dir, addr, prefix_len)) WITHOUT ROWID;
CREATE INDEX addr_traffic_addr ON addr_traffic (addr, res, ts);
INSERT INTO iface_traffic VALUES (4, 1735689600, 'old0', 0, 7, 7000);
INSERT INTO addr_traffic VALUES (4, 1735689600, 'old0', 0, '198.18.9.9', 32, 7, 7000);
PRAGMA journal_mode = WAL;
PRAGMA user_version = 1;
SQL
	run --separate-stderr "$TFC_BIN" report --db "$DB"
	assert_error_status 1
	[[ $stderr == *"$DB has an older history schema: run record once to upgrade it"* ]]
	local web
	web=$(cg_make system.slice/tfce-up.service)
	cg_row "$web" 1 300 3
	record_once
	assert_eq "$(q 'PRAGMA user_version')" 2 "schema after record"
	assert_eq "$(q "SELECT packets || ' ' || bytes FROM iface_traffic WHERE iface = 'old0'")" \
		"7 7000" "old interface row kept"
	assert_eq "$(q "SELECT packets || ' ' || bytes FROM addr_traffic WHERE addr = '198.18.9.9'")" \
		"7 7000" "old address row kept"
	assert_eq "$(db_cg "$CG_REL/system.slice/tfce-up.service" 1 1)" \
		"$((3 * NCPU)) $((300 * NCPU)) tfce-up.service|||" "cgroup row in the new table"
	TZ=UTC run --separate-stderr "$TFC_BIN" report --db "$DB" --years --since 2025-01-01 \
		--until 2026-01-01 --utc --iface old0 --json
	[ "$status" -eq 0 ]
	assert_eq "$(jq -r '.buckets[0].rx_bytes' <<<"$output")" 7000 "report reads the old row"
}

@test "report --cgroups: table, --top, JSON and CSV exact; usage errors" {
	export TZ=UTC TRAFFIC_COUNTER_NOW=1764676800 # 2025-12-02 12:00 UTC
	echo "iface hour 1764633600 eth0 0 1 1" | "$TFC_HELPERS/history_fill" "$DB"
	q "INSERT INTO cgroup_traffic VALUES
		(1, 1764633600, '/system.slice/a.service', 0, 'a.service', '', '', '', 10, 5000),
		(1, 1764637200, '/system.slice/a.service', 1, 'a.service', '', '', '', 2, 1000),
		(2, 1764633600, '/system.slice/a.service', 0, 'a.service', '', '', '', 10, 5000),
		(2, 1764633600, '/system.slice/a.service', 1, 'a.service', '', '', '', 2, 1000),
		(2, 1764633600, '/kubepods/podX/c1', 0, '', 'c1', 'web-0', 'shop', 3, 9000),
		(2, 1764547200, '/system.slice/old.service', 0, 'old.service', '', '', '', 1, 99999)"
	run --separate-stderr "$TFC_BIN" report --db "$DB" --cgroups
	echo "$output"
	[ "$status" -eq 0 ]
	assert_eq "$output" "$(printf '%-40s %-28s %12s %12s %14s %14s\n' cgroup name rx tx 'rx rate' 'tx rate' \
		/kubepods/podX/c1 shop/web-0 '9.00 kB' '0 B' '0.21 B/s' '0 B/s' \
		/system.slice/a.service a.service '5.00 kB' '1.00 kB' '0.12 B/s' '0.02 B/s')" "table"
	run --separate-stderr "$TFC_BIN" report --db "$DB" --cgroups --top 1 --json
	[ "$status" -eq 0 ]
	assert_eq "$(jq -c '.cgroups' <<<"$output")" \
		'[{"cgroup":"/kubepods/podX/c1","unit":"","container":"c1","pod":"web-0","namespace":"shop","start":"2025-12-02T00:00:00+00:00","end":"2025-12-03T00:00:00+00:00","ts":1764633600,"seconds":43200,"rx_bytes":9000,"tx_bytes":0,"rx_packets":3,"tx_packets":0,"rx_bytes_per_s":0.208333,"tx_bytes_per_s":0}]' \
		"--top 1 --json"
	# Hours of the morning: the hour rows, a.service alone.
	run --separate-stderr "$TFC_BIN" report --db "$DB" --cgroups --csv \
		--since '2025-12-02 00:00' --until '2025-12-02 02:00'
	[ "$status" -eq 0 ]
	assert_eq "$output" "cgroup,unit,container,pod,namespace,start,end,ts,seconds,rx_bytes,tx_bytes,rx_packets,tx_packets,rx_bytes_per_s,tx_bytes_per_s
/system.slice/a.service,a.service,,,,2025-12-02T00:00:00+00:00,2025-12-02T02:00:00+00:00,1764633600,7200,5000,1000,10,2,0.694,0.139" "--csv over two hours"
	run --separate-stderr "$TFC_BIN" report --db "$DB" --cgroups --iface eth0
	assert_usage_error
	[[ $stderr == *"--iface: cgroups are counted at their sockets, not per interface"* ]]
	run --separate-stderr "$TFC_BIN" report --db "$DB" --cgroups --days
	assert_usage_error
	[[ $stderr == *"--cgroups: lists the cgroups of one period"* ]]
}
