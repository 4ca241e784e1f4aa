#!/usr/bin/env bash
# report's benchmark (make bench, reported, never asserted): `report --top 10`
# over 65,536 addresses in both directions, from a database written by
# tests/helpers/history_fill through the real schema, at the three
# resolutions a period can be read at:
#   - a calendar month: the month rows (what `--since` on the 1st reads)
#   - 30 days not on a month start: the day rows (30 x 131,072 rows)
#   - 23 hours: the hour rows (23 x 131,072 rows)
# Then the same with 10,000 addresses: record's default --max-addresses caps
# the rows of a bucket, interface and direction there (the rest is one
# `other` row), so that is the most a period holds at the defaults.
# Goal (issue 15): < 200 ms over a month. Prints markdown tables and writes
# them to $BENCH_OUT/history-report.md. BENCH_QUICK=1: 4,096 and 1,000.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
BIN=$BUILD/traffic-counter
FILL=$BUILD/tests/helpers/history_fill
OUT=${BENCH_OUT:-bench/results}
SIZES=(65536 10000)
[ "${BENCH_QUICK:-0}" = 1 ] && SIZES=(4096 1000)
for f in "$BIN" "$FILL"; do
	[ -x "$f" ] || {
		echo "bench: $f not built (make build $FILL)" >&2
		exit 1
	}
done
WORK=$(mktemp -d /tmp/tfc-bench-history.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export TZ=UTC
DB=$WORK/history.db
nov=$(date -d 2026-11-01 +%s)
day=86400

# fill ADDRS: a new database with a month, 30 days and 24 hours of rows.
fill() {
	local start
	rm -f "$DB" "$DB-wal" "$DB-shm"
	start=$(date +%s)
	{
		echo "gen month $nov $day 1 eth0 $1 1000"
		echo "gen day $nov $day 30 eth0 $1 1000"
		echo "gen hour $nov 3600 24 eth0 $1 1000"
	} | "$FILL" "$DB"
	fill_s=$(($(date +%s) - start))
	size_mb=$(($(stat -c %s "$DB") / 1048576))
}

# best of 3: wall milliseconds, and the CPU milliseconds (user + system) and
# peak RSS of that run. CPU time says more on a loaded machine.
measure() {
	local best="" ms t0 stats best_stats=""
	for _ in 1 2 3; do
		t0=$(date +%s%N)
		stats=$(/usr/bin/time -f "%U %S %M" "$BIN" report --db "$DB" "$@" 2>&1 >/dev/null)
		ms=$((($(date +%s%N) - t0) / 1000000))
		if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then
			best=$ms
			best_stats=$stats
		fi
	done
	awk -v ms="$best" '{ printf "%d ms | %d ms | %d MB\n", ms, ($1 + $2) * 1000, $3 / 1024 }' \
		<<<"$best_stats"
}

# table ADDRS: the three periods over a database of that many addresses.
table() {
	local addrs=$1
	fill "$addrs"
	echo "## $addrs addresses x 2 directions"
	echo
	echo "Database: $size_mb MB (month, 30 days and 24 hours of rows), written in $fill_s s."
	echo
	echo "| period | rows read | wall (best of 3) | CPU | peak RSS |"
	echo "| --- | --- | --- | --- | --- |"
	echo "| calendar month (month rows) | $((addrs * 2)) |" \
		"$(measure --top 10 --since 2026-11-01 --until 2026-12-01) |"
	echo "| 30 days, not the 1st (day rows) | $((addrs * 2 * 29)) |" \
		"$(measure --top 10 --since 2026-11-02 --until 2026-12-01) |"
	echo "| 23 hours (hour rows) | $((addrs * 2 * 23)) |" \
		"$(measure --top 10 --since '2026-11-01 00:00' --until '2026-11-01 23:00') |"
}

mkdir -p "$OUT"
{
	echo "# report --top 10"
	for n in "${SIZES[@]}"; do
		echo
		table "$n"
	done
} | tee "$OUT/history-report.md"
