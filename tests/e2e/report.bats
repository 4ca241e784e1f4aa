#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# report: answers out of history databases that tests/helpers/history_fill
# writes through the real schema (export/history.c), checked against sums
# the test computes itself (python3) from the traffic it wrote, or reads
# with the sqlite3 CLI. No maps, no record, no network: only files in the
# test's own directory.

load helpers

teardown() {
	[ -z "${RO_DIR:-}" ] || rm -rf "$RO_DIR"
}

setup() {
	need_tools python3 sqlite3
	DB="$BATS_TEST_TMPDIR/history.db"
	FILL="$TFC_HELPERS/history_fill"
	export TZ=Europe/Berlin
}

report() { "$TFC_BIN" report --db "$DB" "$@"; }

# epoch "YYYY-MM-DD HH:MM" in $TZ
epoch() { date -d "$1" +%s; }

# events FROM TO STEP: one event per STEP seconds over [FROM, TO) on eth0,
# rx 1000 + (t / STEP) % 7 bytes from 198.18.1.(t/STEP % 5 + 1), tx half
# that to 198.18.2.1: varied enough that a wrong bucket changes a sum.
events() {
	python3 - "$@" <<'PY'
import sys
a, b, step = map(int, sys.argv[1:4])
for t in range(a, b, step):
    k = t // step
    print(f"event {t} eth0 0 198.18.1.{k % 5 + 1} 1 {1000 + k % 7}")
    print(f"event {t} eth0 1 198.18.2.1 1 {(1000 + k % 7) // 2}")
PY
}

# oracle FILE FROM TO [ADDR_PREFIX]: rx and tx bytes of eth0's events in
# [FROM, TO) (only addresses starting with ADDR_PREFIX when given).
oracle() {
	python3 - "$@" <<'PY'
import sys
f, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pre = sys.argv[4] if len(sys.argv) > 4 else None
rx = tx = 0
for line in open(f):
    w = line.split()
    if w[0] != "event" or w[2] != "eth0" or not a <= int(w[1]) < b:
        continue
    if pre and not w[4].startswith(pre):
        continue
    if w[3] == "0":
        rx += int(w[6])
    else:
        tx += int(w[6])
print(rx, tx)
PY
}

# jq-less JSON: python3 EXPR over the parsed document d, from stdin.
jpy() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

fill() { "$FILL" "$DB" <"$1"; }

@test "report: DST spring forward: 2026-03-29 in Berlin has 23 hour buckets and a 23 h day, sums exact" {
	local from to rows
	from=$(epoch "2026-03-28 00:00")
	to=$(epoch "2026-03-31 00:00")
	events "$from" "$to" 600 >"$BATS_TEST_TMPDIR/ev"
	fill "$BATS_TEST_TMPDIR/ev"
	run --separate-stderr report --hours --since 2026-03-29 --until 2026-03-30 --json
	[ "$status" -eq 0 ]
	assert_eq "$(echo "$output" | jpy 'len(d["buckets"])')" 23 "hour buckets of the 23 h day"
	assert_eq "$(echo "$output" | jpy 'sum(b["seconds"] for b in d["buckets"])')" 82800 "seconds"
	assert_eq "$(echo "$output" | jpy '" ".join(str(sum(b[k] for b in d["buckets"])) for k in ("rx_bytes","tx_bytes"))')" \
		"$(oracle "$BATS_TEST_TMPDIR/ev" "$(epoch "2026-03-29 00:00")" "$(epoch "2026-03-30 00:00")")" "day's bytes from hours"
	# 02:00 does not exist that night: 01:00 CET is followed by 03:00 CEST.
	assert_eq "$(echo "$output" | jpy 'd["buckets"][2]["start"]')" "2026-03-29T03:00:00+02:00" "third hour"
	run --separate-stderr report --days --since 2026-03-28 --until 2026-03-31 --json
	[ "$status" -eq 0 ]
	assert_eq "$(echo "$output" | jpy '[b["seconds"] for b in d["buckets"]]')" "[86400, 82800, 86400]" "day lengths"
	rows=$(echo "$output" | jpy '[(b["rx_bytes"], b["tx_bytes"]) for b in d["buckets"]][1]')
	assert_eq "$rows" "($(oracle "$BATS_TEST_TMPDIR/ev" "$(epoch "2026-03-29 00:00")" "$(epoch "2026-03-30 00:00")" | sed 's/ /, /'))" \
		"day row of 2026-03-29"
}

@test "report: DST fall back: 2026-10-25 has 25 hour buckets, the 02:00 hour twice, a 25 h day" {
	local from to
	from=$(epoch "2026-10-24 00:00")
	to=$(epoch "2026-10-27 00:00")
	events "$from" "$to" 600 >"$BATS_TEST_TMPDIR/ev"
	fill "$BATS_TEST_TMPDIR/ev"
	run --separate-stderr report --hours --since 2026-10-25 --until 2026-10-26 --json
	[ "$status" -eq 0 ]
	assert_eq "$(echo "$output" | jpy 'len(d["buckets"])')" 25 "hour buckets of the 25 h day"
	assert_eq "$(echo "$output" | jpy '[b["start"] for b in d["buckets"]][2:4]')" \
		"['2026-10-25T02:00:00+02:00', '2026-10-25T02:00:00+01:00']" "the repeated hour"
	assert_eq "$(echo "$output" | jpy '" ".join(str(sum(b[k] for b in d["buckets"])) for k in ("rx_bytes","tx_bytes"))')" \
		"$(oracle "$BATS_TEST_TMPDIR/ev" "$(epoch "2026-10-25 00:00")" "$(epoch "2026-10-26 00:00")")" "day's bytes from hours"
	run --separate-stderr report --days --since 2026-10-25 --until 2026-10-26 --json
	assert_eq "$(echo "$output" | jpy '(d["buckets"][0]["seconds"], d["buckets"][0]["rx_bytes"], d["buckets"][0]["tx_bytes"])')" \
		"(90000, $(oracle "$BATS_TEST_TMPDIR/ev" "$(epoch "2026-10-25 00:00")" "$(epoch "2026-10-26 00:00")" | sed 's/ /, /'))" "the 25 h day"
	# The table says which offset each hour has.
	run --separate-stderr report --hours --since 2026-10-25 --until 2026-10-26
	[ "$(echo "$output" | grep -c '2026-10-25 02:00 CES\?T')" -eq 2 ]
}

@test "report: summary: today, yesterday, this month, last month per interface, exact, with rates" {
	local now from
	now=$(epoch "2026-12-06 12:00")
	from=$(epoch "2026-11-20 00:00")
	events "$from" "$now" 1800 >"$BATS_TEST_TMPDIR/ev"
	echo "event $now eth1 0 - 3 4242" >>"$BATS_TEST_TMPDIR/ev"
	fill "$BATS_TEST_TMPDIR/ev"
	export TRAFFIC_COUNTER_NOW=$((now + 1))
	run --separate-stderr report --json
	[ "$status" -eq 0 ]
	summ() { echo "$output" | jpy "' '.join(str(p[k]) for p in d['periods'] if p['iface']=='$1' and p['period']=='$2' for k in ('rx_bytes','tx_bytes'))"; }
	assert_eq "$(summ eth0 today)" "$(oracle "$BATS_TEST_TMPDIR/ev" "$(epoch "2026-12-06 00:00")" "$(epoch "2026-12-07 00:00")")" today
	assert_eq "$(summ eth0 yesterday)" "$(oracle "$BATS_TEST_TMPDIR/ev" "$(epoch "2026-12-05 00:00")" "$(epoch "2026-12-06 00:00")")" yesterday
	assert_eq "$(summ eth0 'this month')" "$(oracle "$BATS_TEST_TMPDIR/ev" "$(epoch "2026-12-01 00:00")" "$(epoch "2027-01-01 00:00")")" "this month"
	assert_eq "$(summ eth0 'last month')" "$(oracle "$BATS_TEST_TMPDIR/ev" "$(epoch "2026-11-01 00:00")" "$(epoch "2026-12-01 00:00")")" "last month"
	assert_eq "$(summ eth1 today)" "4242 0" "eth1 today"
	# Today's rate is over the 12 hours and a second elapsed, last month's over all of it.
	assert_eq "$(echo "$output" | jpy "[p['seconds'] for p in d['periods'] if p['iface']=='eth0']")" \
		"[43201, 86400, 475201, 2592000]" "seconds each rate is over"
	assert_eq "$(echo "$output" | jpy "round(d['periods'][4]['rx_bytes_per_s'] * 43201) == 4242")" True "eth1's rate today"
	run --separate-stderr report --iface eth1 --csv
	assert_eq "$(echo "$output" | wc -l)" 5 "CSV: header and four periods of eth1"
	assert_eq "$(echo "$output" | head -1)" \
		"iface,period,start,end,ts,seconds,rx_bytes,tx_bytes,rx_packets,tx_packets,rx_bytes_per_s,tx_bytes_per_s" "CSV header"
	assert_eq "$(echo "$output" | sed -n 2p | cut -d, -f1,2,7,9)" "eth1,today,4242,3" "CSV today"
}

@test "report --top N: the N addresses with the most bytes in a period, exact, at day or hour rows" {
	local from
	from=$(epoch "2026-12-01 00:00")
	events "$from" "$(epoch "2026-12-04 00:00")" 900 >"$BATS_TEST_TMPDIR/ev"
	fill "$BATS_TEST_TMPDIR/ev"
	TRAFFIC_COUNTER_NOW=$(epoch "2026-12-05 00:00")
	export TRAFFIC_COUNTER_NOW
	python3 - "$BATS_TEST_TMPDIR/ev" "$(epoch "2026-12-02 00:00")" "$(epoch "2026-12-03 06:00")" >"$BATS_TEST_TMPDIR/want" <<'PY'
import sys
a, b = int(sys.argv[2]), int(sys.argv[3])
tot = {}
for line in open(sys.argv[1]):
    w = line.split()
    if a <= int(w[1]) < b:
        tot[w[4]] = tot.get(w[4], 0) + int(w[6])
for addr, n in sorted(tot.items(), key=lambda x: (-x[1], x[0]))[:3]:
    print(addr, n)
PY
	run --separate-stderr report --top 3 --since "2026-12-02" --until "2026-12-03 06:00" --json
	[ "$status" -eq 0 ]
	assert_eq "$(echo "$output" | jpy 'd["resolution"]')" hour "an until inside a day: hour rows"
	assert_eq "$(echo "$output" | jpy '"\n".join(a["address"] + " " + str(a["rx_bytes"] + a["tx_bytes"]) for a in d["addresses"])')" \
		"$(cat "$BATS_TEST_TMPDIR/want")" "top 3"
	run --separate-stderr report --top 2 --since 2026-12-01 --until 2026-12-04 --json
	assert_eq "$(echo "$output" | jpy 'd["resolution"]')" day "whole days: day rows"
	assert_eq "$(echo "$output" | jpy 'len(d["addresses"])')" 2 "N rows"
	run --separate-stderr report --top 1 --since 2026-12-01 --chart "$BATS_TEST_TMPDIR/top.svg"
	[ "$status" -eq 0 ]
	[ -s "$BATS_TEST_TMPDIR/top.svg" ]
}

@test "report --address CIDR: sums its addresses and the prefix rows inside it, not the rest" {
	local from to
	from=$(epoch "2026-12-01 00:00")
	to=$(epoch "2026-12-02 00:00")
	events "$from" "$to" 600 >"$BATS_TEST_TMPDIR/ev"
	{
		cat "$BATS_TEST_TMPDIR/ev"
		echo "addr day $from eth0 0 198.18.1.64 26 7 7000"  # inside 198.18.1.0/24
		echo "addr day $from eth0 0 198.18.0.0 16 9 90000"  # wider than it
		echo "addr day $from eth0 0 other 0 1 123"          # what a cap left out
	} >"$BATS_TEST_TMPDIR/rows"
	fill "$BATS_TEST_TMPDIR/rows"
	run --separate-stderr report --days --since 2026-12-01 --until 2026-12-02 --address 198.18.1.0/24 --json
	[ "$status" -eq 0 ]
	assert_eq "$(echo "$output" | jpy 'd["buckets"][0]["rx_bytes"]')" \
		"$(($(oracle "$BATS_TEST_TMPDIR/ev" "$from" "$to" 198.18.1. | cut -d' ' -f1) + 7000))" "CIDR's rx"
	# The same sum read with the sqlite3 CLI, independently of report.
	assert_eq "$(sqlite3 "$DB" "SELECT SUM(bytes) FROM addr_traffic WHERE res = 2 AND dir = 0 AND addr LIKE '198.18.1.%'")" \
		"$(echo "$output" | jpy 'd["buckets"][0]["rx_bytes"]')" "sqlite3's sum"
	run --separate-stderr report --days --since 2026-12-01 --until 2026-12-02 --address 198.18.1.3 --csv
	assert_eq "$(echo "$output" | sed -n 2p | cut -d, -f7)" \
		"$(python3 -c "print(sum(1000 + k % 7 for k in range($from // 600, $to // 600) if k % 5 == 2))")" "one address"
}

@test "report --95th: per interface and direction, against the percentile of the 5-minute rows computed here" {
	local from to
	from=$(epoch "2026-12-01 00:00")
	to=$(epoch "2026-12-02 00:00")
	# 5-minute traffic with a gap of 2 hours (no rows: zero rates count).
	python3 - "$from" "$to" >"$BATS_TEST_TMPDIR/ev" <<'PY'
import sys
a, b = int(sys.argv[1]), int(sys.argv[2])
for i, t in enumerate(range(a, b, 300)):
    if 10 <= i < 34:
        continue
    print(f"event {t + 7} eth0 0 - 1 {(i * 7919) % 100000 + 1}")
    print(f"event {t + 9} eth0 1 - 1 {(i * 104729) % 50000 + 1}")
PY
	fill "$BATS_TEST_TMPDIR/ev"
	export TRAFFIC_COUNTER_NOW=$((to + 3600))
	want() {
		sqlite3 "$DB" "SELECT ts, bytes FROM iface_traffic WHERE res = 0 AND dir = $1 ORDER BY ts" |
			python3 -c '
import sys
rows = [l.strip().split("|") for l in sys.stdin if l.strip()]
ts = {int(t): int(b) for t, b in rows}
first, last = min(ts), max(ts)
v = sorted(ts.get(t, 0) / 300 for t in range(first, last + 1, 300))
print(f"{len(v)} {v[len(v) - 1 - len(v) // 20]:.3f}")'
	}
	run --separate-stderr report --95th --since 2026-12-01 --csv
	[ "$status" -eq 0 ]
	assert_eq "$(echo "$output" | grep '^eth0,rx,' | cut -d, -f3,4 | tr , ' ')" "$(want 0)" "rx 95th"
	assert_eq "$(echo "$output" | grep '^eth0,tx,' | cut -d, -f3,4 | tr , ' ')" "$(want 1)" "tx 95th"
	assert_eq "$(echo "$output" | grep '^eth0,rx,' | cut -d, -f3)" 288 "samples: every 5 minutes of the day"
}

@test "report --chart: SVG parses with one bar per bucket and direction; PNG has the size asked" {
	events "$(epoch "2026-12-01 00:00")" "$(epoch "2026-12-08 00:00")" 3600 >"$BATS_TEST_TMPDIR/ev"
	fill "$BATS_TEST_TMPDIR/ev"
	run --separate-stderr report --days --since 2026-12-01 --until 2026-12-08 --chart "$BATS_TEST_TMPDIR/c.svg"
	[ "$status" -eq 0 ]
	python3 - "$BATS_TEST_TMPDIR/c.svg" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
styles = [e.get("style", "") for e in root.iter() if e.tag.endswith("path")]
rx = sum("fill:rgb(12.156863%,46.666667%,70.588235%)" in s for s in styles)
tx = sum("fill:rgb(100%,49.803922%,5.490196%)" in s for s in styles)
assert (rx, tx) == (7, 7), (rx, tx)
PY
	run --separate-stderr report --hours --since 2026-12-01 --until 2026-12-02 --chart "$BATS_TEST_TMPDIR/c.png" --chart-size 640x300
	[ "$status" -eq 0 ]
	assert_eq "$(python3 -c "
import struct, sys
b = open('$BATS_TEST_TMPDIR/c.png', 'rb').read(24)
assert b[:8] == b'\x89PNG\r\n\x1a\n' and b[12:16] == b'IHDR'
print('%dx%d' % struct.unpack('>II', b[16:24]))")" 640x300 "PNG size"
}

@test "report: hostile read side: corrupt, newer schema, missing: one clear line, exit 1" {
	echo "not a database, not at all, just some text long enough" >"$DB"
	run --separate-stderr report
	assert_error_status 1
	[[ $stderr == *"is not a traffic-counter history database"* ]]
	rm -f "$DB"
	run --separate-stderr report
	assert_error_status 1
	[[ $stderr == *"no history database at $DB"* ]]
	echo "event 1764547200 eth0 0 - 1 1" | "$FILL" "$DB"
	sqlite3 "$DB" "PRAGMA user_version = 3"
	run --separate-stderr report
	assert_error_status 1
	[[ $stderr == *"newer than this traffic-counter's 2"* ]]
}

@test "report: a read-only database (another user, read-only directory) reads, the same as its owner" {
	# Under /tmp: the test's own directory may not be open to another user.
	local dir
	dir=$(mktemp -d /tmp/tfc-report-ro.XXXXXX)
	RO_DIR=$dir
	DB="$dir/history.db"
	events "$(epoch "2026-12-01 00:00")" "$(epoch "2026-12-03 00:00")" 600 >"$BATS_TEST_TMPDIR/ev"
	fill "$BATS_TEST_TMPDIR/ev"
	sqlite3 "$DB" "PRAGMA journal_mode" | grep -qx wal
	chmod 0755 "$dir"
	chmod 0644 "$DB"
	rm -f "$DB-wal" "$DB-shm"
	run --separate-stderr report --days --since 2026-12-01 --until 2026-12-03 --csv
	[ "$status" -eq 0 ]
	local want=$output
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$TFC_BIN" report --db "$DB" --days --since 2026-12-01 --until 2026-12-03 --csv
	[ "$status" -eq 0 ]
	assert_eq "$output" "$want" "nobody's report"
	[ ! -e "$DB-wal" ] || [ "$(stat -c %U "$DB-wal")" = root ]
}

@test "report: usage errors exit 2 with one line" {
	: >"$DB"
	for args in "--hours --days" "--top 3 --95th" "--chart x.txt --days" "--chart x.svg" \
		"--5min --address 198.18.0.1" "--95th --address 198.18.0.0/24" "--since 2026-13-01 --days" \
		"--since 2026-12-02 --until 2026-12-01 --days" "--json --csv" "--top 0" \
		"--chart-size 10x10 --days --chart a.png" "--address 300.1.1.1" "--since 2026-12-01"; do
		# shellcheck disable=SC2086 # word splitting wanted
		run --separate-stderr report $args
		assert_usage_error || { echo "args: $args" >&2; return 1; }
	done
}

@test "report --utc: --since read and times printed in UTC" {
	events "$(epoch "2026-12-01 00:00")" "$(epoch "2026-12-02 00:00")" 600 >"$BATS_TEST_TMPDIR/ev"
	fill "$BATS_TEST_TMPDIR/ev"
	run --separate-stderr report --utc --hours --since "2026-12-01 05:00" --until "2026-12-01 07:00" --json
	[ "$status" -eq 0 ]
	assert_eq "$(echo "$output" | jpy '[b["start"] for b in d["buckets"]]')" \
		"['2026-12-01T05:00:00+00:00', '2026-12-01T06:00:00+00:00']" "UTC hours"
	assert_eq "$(echo "$output" | jpy 'd["buckets"][0]["rx_bytes"] + d["buckets"][0]["tx_bytes"]')" \
		"$(oracle "$BATS_TEST_TMPDIR/ev" "$(date -u -d "2026-12-01 05:00" +%s)" "$(date -u -d "2026-12-01 06:00" +%s)" | awk '{print $1 + $2}')" "06:00 Berlin"
}

@test "report: reads, unblocked, while a writer holds an open write transaction: committed rows only" {
	local from writer
	from=$(epoch "2026-12-01 00:00")
	echo "event $from eth0 0 - 1 1000" | "$FILL" "$DB"
	# A writer, as record's save: an uncommitted row for a few seconds.
	{
		echo "BEGIN IMMEDIATE;"
		echo "INSERT INTO iface_traffic VALUES (2, $from, 'eth0', 1, 1, 777);"
		sleep 4
		echo "COMMIT;"
	} | sqlite3 "$DB" &
	writer=$!
	# The writer's BEGIN and INSERT take milliseconds; its COMMIT comes 4 s later.
	sleep 0.5
	run --separate-stderr timeout 3 "$TFC_BIN" report --db "$DB" --days --since 2026-12-01 --until 2026-12-02 --csv
	[ "$status" -eq 0 ]
	assert_eq "$(echo "$output" | sed -n 2p | cut -d, -f7,8)" "1000,0" "during the transaction"
	wait "$writer"
	run --separate-stderr report --days --since 2026-12-01 --until 2026-12-02 --csv
	assert_eq "$(echo "$output" | sed -n 2p | cut -d, -f7,8)" "1000,777" "after the commit"
}
