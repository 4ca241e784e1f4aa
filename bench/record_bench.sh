#!/usr/bin/env bash
# record's costs (reported, not asserted): one save cycle with 65,536
# addresses in the IP map, first as new rows, then with every address active
# again (a new epoch: every counter's whole value is a delta), as CPU time
# and peak RSS of `record --once`; and the database's growth a day at that
# many addresses with the default resolutions, from the measured size of one
# hour's address rows. Goals (issue 15): < 1 s CPU a cycle, < 64 MB.
#
#   bench/record_bench.sh OUT.json    (root; BUILD names the build dir)
#
# Its own network namespace and pin directory, removed on any exit.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
BIN=$BUILD/traffic-counter
FILL=$BUILD/tests/helpers/fill_ip_map
OUT=$1
N=65536
NS=tcb-rec-$$
PIN=/sys/fs/bpf/tcb-rec-$$
WORK=$(mktemp -d /tmp/tcb-rec.XXXXXX)
DB=$WORK/history.db

cleanup() {
	timeout 20 nsenter --net="/run/netns/$NS" "$BIN" detach --all --purge --pin-dir "$PIN" \
		>/dev/null 2>&1 || true
	rm -rf "$PIN"
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

for f in "$BIN" "$FILL"; do
	[ -x "$f" ] || {
		echo "record_bench: $f not built (make build $FILL)" >&2
		exit 1
	}
done
command -v sqlite3 >/dev/null || {
	echo "record_bench: missing sqlite3 (scripts/check-deps.sh --install)" >&2
	exit 1
}

in_ns() { nsenter --net="/run/netns/$NS" "$@"; }

ip netns add "$NS"
ip -n "$NS" link add rb0 type veth peer name rb1
ip -n "$NS" link set rb0 up
ip -n "$NS" link set rb1 up
in_ns "$BIN" attach --iface rb0 --pin-dir "$PIN" --ip-map-size $((2 * N)) >/dev/null
ifx=$(ip -n "$NS" -j link show rb0 | jq '.[0].ifindex')
in_ns "$FILL" "$PIN/traffic_counters_ip" "$N" "$ifx" >/dev/null
echo 11111111-0000-0000-0000-000000000000 >"$WORK/boot_id"

# cycle NAME: record --once under GNU time's format: "user sys maxrss_kB"
cycle() {
	local t
	t=$(TRAFFIC_COUNTER_BOOT_ID_FILE=$WORK/boot_id /usr/bin/time -f '%U %S %M' \
		nsenter --net="/run/netns/$NS" "$BIN" record --once --pin-dir "$PIN" --db "$DB" \
		2>&1 >/dev/null | tail -1)
	read -r user sys rss <<<"$t"
	jq -nc --arg name "$1" --argjson u "$user" --argjson s "$sys" --argjson r "$rss" \
		'{cycle: $name, cpu_s: (($u + $s) * 100 | round / 100), peak_rss_mb: ($r / 1024 | . * 10 | round / 10)}'
}

c1=$(cycle "first save: $N new addresses")
echo 22222222-0000-0000-0000-000000000000 >"$WORK/boot_id"
c2=$(cycle "every address active: $N deltas into existing rows")
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
s1=$(stat -c %s "$DB")
# 23 more hours of the same address rows: what a day of hour buckets costs.
sqlite3 "$DB" "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 23)
	INSERT INTO addr_traffic SELECT res, ts + 3600 * i, iface, dir, addr, prefix_len,
	packets, bytes FROM addr_traffic, k WHERE res = 1; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
s2=$(stat -c %s "$DB")
per_hour=$(((s2 - s1) / 23))
jq -n --argjson c1 "$c1" --argjson c2 "$c2" --argjson n "$N" --argjson ph "$per_hour" \
	--argjson s1 "$s1" \
	'{addresses: $n, cycles: [$c1, $c2], db_after_first_hour_bytes: $s1,
	  addr_rows_per_hour_bytes: $ph,
	  db_growth_per_day_mb: ($ph * 25 / 1048576 | . * 10 | round / 10),
	  goals: {cpu_s_per_cycle: 1, peak_rss_mb: 64}}' >"$OUT"
cat "$OUT"
