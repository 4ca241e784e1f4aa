#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2154 # bats: each @test is a subshell; run sets $stderr
# Upgrades: attach --migrate carries the counters from maps of another
# layout version, size or IP map type into new maps while every attachment
# keeps counting (openspec/changes/0008). The previous release's layout is
# this tree built with `make ABI=1` ($TFC_OLD_BIN): it makes the old maps,
# the real build migrates them.

load helpers

TFC_OLD_BIN=${TFC_OLD_BIN:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build-abi1/traffic-counter}
# The layout before prefix rows (make ABI=2), for the upgrade from layout 2.
TFC_OLD2_BIN=${TFC_OLD2_BIN:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build-abi2/traffic-counter}

setup() {
	tfc_e2e_setup
	[ -x "$TFC_OLD_BIN" ] || {
		echo "no build of the old layout at $TFC_OLD_BIN: make ABI=1 build" >&2
		return 1
	}
	make_pair nov6
	BG_PIDS=()
}

# A flood a failed test leaves behind runs under timeout(1), which passes
# TERM on to it.
teardown() {
	local pid
	for pid in ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	tfc_e2e_teardown
}

# old_in NS COMMAND ARGS...: the old-layout build, with this test's pin dir
old_in() {
	local ns=$1 cmd=$2
	shift 2
	timeout 60 nsenter --net="/run/netns/$ns" "$TFC_OLD_BIN" "$cmd" --pin-dir "$PIN" "$@"
}

old_attach() {
	local ns=$1 out rc=0
	shift
	out=$(old_in "$ns" attach "$@" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || {
		echo "FAIL: old-layout attach $* exited $rc: $out" >&2
		return 1
	}
}

layout_version() { # layout_version NS -> the version in the pinned control map
	status_json "$1" | jq -r '.layout_version'
}

# Everything the maps hold, in a stable order: IP entries, flows (all
# fields, timestamps too) and statistics, as BIN (default: this build) reads
# them.
snapshot() {
	local ns=$1 bin=${2:-$TFC_BIN} run
	run=(timeout 60 nsenter --net="/run/netns/$ns" "$bin")
	"${run[@]}" dump-maps --pin-dir "$PIN" --json | jq -c 'sort_by(.ifindex, .direction, .ip)'
	"${run[@]}" dump-maps --pin-dir "$PIN" --pin "$PIN/traffic_counters_flow" --json |
		jq -c 'sort_by(.ifindex, .direction, .src, .dst)'
	"${run[@]}" status --pin-dir "$PIN" --json |
		jq -c '.stats, (.stats_by_interface | sort_by(.ifindex, .direction, .reason))'
}

# The control counters every layout has: flags, dropped, flow inserts.
control_counters() {
	bpftool -j map lookup pinned "$PIN/traffic_control" key hex 00 00 00 00 |
		jq -c '.value | [.[0:4], .[16:48]]'
}

map_ids() { # map_ids -> ids of the four pinned maps
	local m
	for m in traffic_counters_ip traffic_counters_flow traffic_control traffic_stats; do
		bpftool -j map show pinned "$PIN/$m" | jq -r .id
	done
}

# ------------------------------------------------------- old layout maps --

@test "maps of layout 1: attach without --migrate refuses naming both versions and the option" {
	old_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	ping4 4
	local before
	before=$(old_in "$NS_B" status --json | jq -c '[.attachments[].prog_id]')

	local point
	for point in xdp tc-egress; do
		run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --attach-point "$point"
		echo "attach $point: exit $status, stderr '$stderr'"
		assert_error_status 1
		[[ $stderr == *"layout version 1"* && $stderr == *"version $CUR_LAYOUT"* &&
			$stderr == *"--migrate"* ]]
	done
	# The readers say the same about the control map, and still read the rest.
	run --separate-stderr tfc_in "$NS_B" status
	echo "status: exit $status, stdout '$output', stderr '$stderr'"
	[ "$status" -eq 1 ]
	[[ $output == *"traffic_control"*"(another layout at $PIN/traffic_control)"* ]]
	[[ $stderr == *"layout version 1"*"--migrate"* ]]
	assert_eq "$(ip_counts "$NS_B" "$A4" ingress "$IFX_B")" "4 $((4 * PING4_FRAME))" \
		"old IP map read by the new build"
	assert_eq "$(old_in "$NS_B" status --json | jq -c '[.attachments[].prog_id]')" "$before" \
		"attachments untouched"
	[ ! -e "$PIN/migrating" ]
}

@test "attach --migrate from layout 1: every counter carried, every attachment re-pointed" {
	# Three attachments of three kinds: XDP link (receiver), TCX link and a
	# netlink filter (sender). The migration runs in the sender's namespace,
	# so the XDP link is re-pointed from another namespace.
	old_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	old_attach "$NS_A" --iface "$DEV_A" --attach-point tc-ingress
	old_attach "$NS_A" --iface "$DEV_A" --attach-point tc-egress --tc-api netlink
	ping4 20
	wait_eq 5 "20 $((20 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "20 $((20 * PING4_FRAME))" ip_counts "$NS_A" "$B4" egress "$IFX_A"
	wait_eq 5 "20 $((20 * PING4_FRAME))" ip_counts "$NS_A" "$B4" ingress "$IFX_A"

	local before ctl_before old_ids progs_before
	before=$(snapshot "$NS_A" "$TFC_OLD_BIN")
	ctl_before=$(control_counters)
	old_ids=$(map_ids)
	progs_before=$(old_in "$NS_A" status --json | jq -c '[.attachments[].prog_id]')
	assert_eq "$(old_in "$NS_A" status --json | jq '.attachments | length')" 3 "attachments"

	run --separate-stderr tfc_in "$NS_A" attach --iface "$DEV_A" --attach-point tc-egress \
		--migrate
	echo "migrate: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[[ $stderr == *"migrated the maps in $PIN to layout version $CUR_LAYOUT"* ]]

	# The same counters, to the byte and to the timestamp, in new maps.
	assert_eq "$(snapshot "$NS_A")" "$before" "maps after the migration"
	assert_eq "$(control_counters)" "$ctl_before" "control counters"
	assert_eq "$(layout_version "$NS_A")" "$CUR_LAYOUT" "layout version"
	assert_eq "$(status_json "$NS_A" | jq .migrations)" 1 "migrations"
	[ "$(status_json "$NS_A" | jq .created_unix_ns)" -gt 0 ]
	[ ! -e "$PIN/migrating" ]
	local id
	for id in $old_ids; do
		grep -qx "$id" <<<"$(map_ids)" && {
			echo "FAIL: old map $id still pinned" >&2
			return 1
		}
		wait_gone 5 bpftool map show id "$id" || {
			echo "FAIL: old map $id still exists" >&2
			return 1
		}
	done

	# Every attachment counts into the new maps, keyed as before (egress by
	# destination): new programs, same hooks, nothing doubled.
	local progs_after
	progs_after=$(status_json "$NS_A" | jq -c '[.attachments[].prog_id]')
	assert_eq "$(jq length <<<"$progs_after")" 3 "attachments after"
	[ "$(jq -c --argjson b "$progs_before" '[.[] | select(. as $p | $b | index($p))]' <<<"$progs_after")" = "[]" ]
	assert_eq "$(our_filters "$NS_A" "$DEV_A" egress)" 1 "one netlink filter on egress"
	ping4 5
	wait_eq 5 "25 $((25 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "25 $((25 * PING4_FRAME))" ip_counts "$NS_A" "$B4" egress "$IFX_A"
	wait_eq 5 "25 $((25 * PING4_FRAME))" ip_counts "$NS_A" "$B4" ingress "$IFX_A"
	# ping has returned, so every frame went through every hook: counted once.
	assert_eq "$(ip_counts "$NS_A" "$B4" egress "$IFX_A")" "25 $((25 * PING4_FRAME))" \
		"egress counted once"
	assert_eq "$(flow_counts "$NS_B" "$A4" "$B4" 0 0 1 ingress "$IFX_B")" \
		"25 $((25 * PING4_FRAME))" "flow carried and counting"

	# Migrating again finds nothing to do.
	run --separate-stderr tfc_in "$NS_A" attach --iface "$DEV_A" --attach-point tc-egress \
		--migrate
	[ "$status" -eq 0 ]
	[[ $stderr == *"nothing to migrate"* ]]
	assert_eq "$(status_json "$NS_A" | jq .migrations)" 1 "migrations"
}

our_filters() {
	tc -n "$1" -j filter show dev "$2" "$3" 2>/dev/null |
		jq '[.[]? | select((.options.prog.name // "") | test("^(tc|tfc|tfc_tc)_(ingress|egress)$"))] | length'
}

# counting_from ADDR: B's ingress has counted a frame from ADDR
counting_from() {
	[ "$(ip_counts "$NS_B" "$1" ingress "$IFX_B" | cut -d' ' -f1)" -gt 0 ]
}

@test "attach --migrate while a flood is counted: not one frame lost or doubled" {
	[ -x "$TFC_HELPERS/flood_send" ] || {
		echo "missing $TFC_HELPERS/flood_send" >&2
		return 1
	}
	old_attach "$NS_B" --iface "$DEV_B"
	local frames=1000000 out=$BATS_TEST_TMPDIR/flood.out pid
	timeout 60 ip netns exec "$NS_A" "$TFC_HELPERS/flood_send" "$DEV_A" "$MAC_B" "$A4" "$B4" \
		5000 6000 18 "$frames" >"$out" &
	pid=$!
	BG_PIDS+=("$pid")
	# Once frames are being counted into the old maps...
	wait_until 5 counting_from "$A4" || {
		echo "FAIL: no frame of the flood counted in 5 s" >&2
		return 1
	}
	# ... the migration (to this layout, a shared map of another size) runs
	# under the flood, and the flood outlasts it.
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --migrate \
		--ip-map-type shared --ip-map-size 4096
	echo "migrate: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	kill -0 "$pid" 2>/dev/null || {
		echo "FAIL: the flood ended before the migration did: they did not overlap" >&2
		return 1
	}
	wait "$pid"
	local sent len
	read -r sent len _ <"$out"
	assert_eq "$sent" "$frames" "frames sent"
	wait_eq 10 "$frames $((frames * len))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	assert_eq "$(bpftool -j map show pinned "$PIN/traffic_counters_ip" | jq -r '"\(.type) \(.max_entries)"')" \
		"hash 4096" "new IP map"
}

# old2_attach NS ARGS...: attach with the layout 2 build (before prefix rows)
old2_attach() {
	local ns=$1 out rc=0
	shift
	[ -x "$TFC_OLD2_BIN" ] || {
		echo "no build of layout 2 at $TFC_OLD2_BIN: make ABI=2 build" >&2
		return 1
	}
	out=$(timeout 60 nsenter --net="/run/netns/$ns" "$TFC_OLD2_BIN" attach --pin-dir "$PIN" \
		"$@" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || {
		echo "FAIL: layout 2 attach $* exited $rc: $out" >&2
		return 1
	}
}

# ctl_field FIELD -> a field of the pinned control entry, as this layout names it
ctl_field() {
	bpftool -j map dump pinned "$PIN/traffic_control" | jq -r ".[0].formatted.value.$1"
}

@test "attach --migrate from layout 2: counters and attachments carried, then a full IP map overflows to prefixes" {
	[ "$CUR_LAYOUT" -ge 3 ] || skip "this build's layout has no prefix map"
	old2_attach "$NS_B" --iface "$DEV_B" --enable-flow-map --ip-map-size 1000
	old2_attach "$NS_B" --iface "$DEV_B" --attach-point tc-egress
	ping4 12
	wait_eq 5 "12 $((12 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "12 $((12 * PING4_FRAME))" ip_counts "$NS_B" "$A4" egress "$IFX_B"
	[ ! -e "$PIN/traffic_counters_prefix" ]
	local before ctl_before
	before=$(snapshot "$NS_B" "$TFC_OLD2_BIN")
	ctl_before=$(control_counters)

	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --attach-point tc-egress \
		--migrate
	echo "migrate: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[[ $stderr == *"migrated the maps in $PIN to layout version $CUR_LAYOUT"* ]]
	assert_eq "$(snapshot "$NS_B")" "$before" "maps after the migration"
	assert_eq "$(control_counters)" "$ctl_before" "control counters"
	assert_eq "$(layout_version "$NS_B")" "$CUR_LAYOUT" "layout version"
	assert_eq "$(status_json "$NS_B" | jq .migrations)" 1 "migrations"
	assert_eq "$(status_json "$NS_B" | jq '.attachments | length')" 2 "attachments"
	# The new maps: empty, the overflow defaults, the IP map's size kept.
	assert_eq "$(bpftool -j map dump pinned "$PIN/traffic_counters_prefix" | jq length)" 0 \
		"prefix rows"
	assert_eq "$(bpftool -j map dump pinned "$PIN/traffic_aggregate" | jq length)" 0 "rules"
	assert_eq "$(ctl_field overflow_v4) $(ctl_field overflow_v6) $(ctl_field prefix_map_capacity)" \
		"24 48 16384" "overflow defaults"
	assert_eq "$(ctl_field ip_map_capacity)" 1000 "IP map capacity"

	# 2000 new sources into the 1000-entry IP map (2 addresses in it): every
	# frame in an address row or a /24 row of the prefix map.
	local out sent len
	out=$(timeout 60 ip netns exec "$NS_A" "$TFC_HELPERS/flood_send" "$DEV_A" "$MAC_B" \
		198.18.4.0 "$B4" 5000 6000 18 2000 2000)
	read -r sent len _ <<<"$out"
	assert_eq "$sent" 2000 "frames sent"
	flood_rows() {
		local ip pfx
		ip=$(dump_ip_json "$NS_B" | jq '[.[] | select(.ifindex == '"$IFX_B"' and (.prefix | not) and
			(.ip | test("^198\\.18\\.([4-9]|1[0-1])\\.")))] | map(.packets) | add // 0')
		pfx=$(bpftool -j map dump pinned "$PIN/traffic_counters_prefix" |
			jq '[.[].formatted | select(.key.is_prefix == 1 and .key.prefix_len == 24)
				| .value.packets] | add // 0')
		echo "$ip $pfx $((ip + pfx))"
	}
	prefix_rows_present() {
		[ "$(bpftool -j map dump pinned "$PIN/traffic_counters_prefix" | jq length)" -gt 0 ]
	}
	wait_until 5 prefix_rows_present
	local r
	read -r -a r <<<"$(flood_rows)"
	echo "address rows, prefix rows, sum: ${r[*]}"
	assert_eq "${r[2]}" 2000 "flood frames in address and prefix rows"
	[ "${r[1]}" -ge 1000 ]
	assert_eq "$(status_json "$NS_B" | jq .dropped_packets)" 0 "dropped"
	# The counters from before still count on, at both hooks.
	ping4 3
	wait_eq 5 "15 $((15 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "15 $((15 * PING4_FRAME))" ip_counts "$NS_B" "$A4" egress "$IFX_B"
}

# ------------------------------------------------------------------ faults --

# killed_migrate STEP: attach --migrate killed at STEP (exit 137)
killed_migrate() {
	TRAFFIC_COUNTER_TEST_KILL_AT=$1 run --separate-stderr tfc_in "$NS_B" attach \
		--iface "$DEV_B" --migrate --ip-map-size 2048
	echo "migrate killed at $1: status $status, stderr '$stderr'"
	assert_eq "$status" 137 "exit status of a migration killed at $1"
}

@test "attach --migrate killed at each step: plain attach refuses, --migrate finishes, nothing lost" {
	[ -x "$TFC_HELPERS/fill_ip_map" ] || {
		echo "missing $TFC_HELPERS/fill_ip_map" >&2
		return 1
	}
	local step
	for step in staged repointed carried committing; do
		echo "--- $step"
		PIN="/sys/fs/bpf/tc-e2e-$TFCE_ID-$step"
		TFCE_PINS+=("$PIN")
		# Two attachments (so one is re-pointed before the kill at
		# "repointed"), and 600 addresses: three batches to carry.
		old_attach "$NS_B" --iface "$DEV_B"
		old_attach "$NS_A" --iface "$DEV_A" --attach-point tc-ingress
		local fill
		fill=$("$TFC_HELPERS/fill_ip_map" "$PIN/traffic_counters_ip" 600 999)
		ping4 10
		wait_eq 5 "10 $((10 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"

		killed_migrate "$step"
		[ -d "$PIN/migrating" ]
		assert_eq "$(status_json "$NS_B" | jq .migration_interrupted)" true "status after $step"
		# Counting goes on in the interrupted state, into old or new maps.
		ping4 5
		run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B"
		assert_error_status 1
		[[ $stderr == *"interrupted"*"--migrate"* ]]

		run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --migrate
		echo "finish: exit $status, stderr '$stderr'"
		[ "$status" -eq 0 ]
		[ ! -e "$PIN/migrating" ]
		assert_eq "$(status_json "$NS_B" | jq .migration_interrupted)" false "status"
		assert_eq "$(layout_version "$NS_B")" "$CUR_LAYOUT" "layout version after $step"
		assert_eq "$(bpftool -j map show pinned "$PIN/traffic_counters_ip" | jq .max_entries)" \
			2048 "IP map size after $step"
		wait_eq 5 "15 $((15 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
		wait_eq 5 "15 $((15 * PING4_FRAME))" ip_counts "$NS_A" "$B4" ingress "$IFX_A"
		# The filled entries: all there, each exactly once.
		local want got
		want=$(awk '{print $6, $4}' <<<"$fill")
		got=$(dump_ip_json "$NS_B" | jq -r '[.[] | select(.ifindex == 999)] |
			"\(map(.packets) | add) \(map(.bytes) | add)"')
		assert_eq "$got" "$want" "filled entries after $step"
		assert_eq "$(dump_ip_json "$NS_B" | jq '[.[] | select(.ifindex == 999)] | length')" 600 \
			"filled addresses after $step"
		ping4 1
		wait_eq 5 "16 $((16 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
		tfc_in "$NS_A" detach --all >/dev/null
		tfc_in "$NS_B" detach --all --purge >/dev/null
		[ ! -e "$PIN" ]
	done
}

@test "detach --all --purge removes an interrupted migration's maps too" {
	old_attach "$NS_B" --iface "$DEV_B"
	killed_migrate repointed
	[ -d "$PIN/migrating" ]
	run --separate-stderr tfc_in "$NS_B" detach --all --purge
	echo "purge: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[ ! -e "$PIN" ]
	nothing_attached "$NS_B" "$DEV_B"
}

# ------------------------------------------------- same layout, new shape --

@test "attach --migrate to another size and IP map type; too small is refused" {
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	local fill
	fill=$("$TFC_HELPERS/fill_ip_map" "$PIN/traffic_counters_ip" 3000 999)
	ping4 7
	wait_eq 5 "7 $((7 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	local before ids
	before=$(snapshot "$NS_B")
	ids=$(map_ids)

	# Without --migrate: refused, naming it.
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --ip-map-size 8192
	assert_error_status 1
	[[ $stderr == *"--migrate"* ]]
	# Too small for the 3001 addresses: refused before anything changes.
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --ip-map-size 1000 --migrate
	echo "too small: exit $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"3001 addresses"* ]]
	assert_eq "$(map_ids)" "$ids" "maps untouched"
	[ ! -e "$PIN/migrating" ]

	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --migrate \
		--ip-map-size 8192 --ip-map-type shared --flow-map-size 1024
	echo "migrate: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$(bpftool -j map show pinned "$PIN/traffic_counters_ip" | jq -r '"\(.type) \(.max_entries)"')" \
		"hash 8192" "IP map"
	assert_eq "$(bpftool -j map show pinned "$PIN/traffic_counters_flow" | jq .max_entries)" \
		1024 "flow map"
	assert_eq "$(snapshot "$NS_B")" "$before" "maps after the migration"
	ping4 3
	wait_eq 5 "10 $((10 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
}

@test "attach --migrate within layout 3: rules, overflow lengths and prefix rows carried to bigger maps" {
	[ "$CUR_LAYOUT" -ge 3 ] || skip "this build's layout has no prefix map"
	tfc_attach "$NS_B" --iface "$DEV_B" --ip-map-size 100 --prefix-map-size 50 \
		--overflow-prefix 20,56 --aggregate 198.19.0.0/16=24
	# 300 sources: 100 fill the IP map, 200 overflow into /20 rows.
	local out
	out=$(timeout 60 ip netns exec "$NS_A" "$TFC_HELPERS/flood_send" "$DEV_A" "$MAC_B" \
		198.18.16.0 "$B4" 5000 6000 18 300 300)
	local len=${out#* }
	len=${len%% *}
	pfx_rows() {
		bpftool -j map dump pinned "$PIN/traffic_counters_prefix" |
			jq -c '[.[].formatted | [(.key.addr[0:4] | map(tostring) | join(".")),
				.key.prefix_len, .value.packets, .value.bytes]] | sort'
	}
	pfx_total() { pfx_rows | jq '[.[][2]] | add // 0'; }
	wait_eq 5 200 pfx_total
	local rows_before ip_before
	rows_before=$(pfx_rows)
	ip_before=$(snapshot "$NS_B")
	echo "prefix rows: $rows_before"
	[ "$(jq length <<<"$rows_before")" -ge 1 ]

	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --migrate --ip-map-size 1000 \
		--prefix-map-size 500
	echo "migrate: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$(pfx_rows)" "$rows_before" "prefix rows carried"
	assert_eq "$(snapshot "$NS_B")" "$ip_before" "IP map and statistics carried"
	assert_eq "$(bpftool -j map show pinned "$PIN/traffic_counters_prefix" | jq .max_entries)" \
		500 "prefix map size"
	assert_eq "$(ctl_field overflow_v4) $(ctl_field overflow_v6) $(ctl_field prefix_map_capacity)" \
		"20 56 500" "overflow lengths kept, capacity recorded"
	assert_eq "$(bpftool -j map dump pinned "$PIN/traffic_aggregate" |
		jq -c '[.[].formatted | [.key.prefixlen, .key.data[0:3], .value.prefix_len]]')" \
		'[[24,[4,198,19],24]]' "rule carried"
	assert_eq "$(($(ctl_field flags) & 2))" 2 "TFC_FLAG_AGGREGATE kept"
	# The rule still counts: 198.19.5.x as one /24 row (the IP map has room now).
	timeout 60 ip netns exec "$NS_A" "$TFC_HELPERS/flood_send" "$DEV_A" "$MAC_B" 198.19.5.1 \
		"$B4" 5000 6000 18 30 30 >/dev/null
	rule_row() {
		bpftool -j map dump pinned "$PIN/traffic_counters_ip" | jq -r '[.[].formatted
			| select(.key.is_prefix == 1 and .key.prefix_len == 24
				and .key.addr[0:3] == [198, 19, 5])]
			| [.[].values[].value] | "\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"'
	}
	wait_eq 5 "30 $((30 * len))" rule_row
}

# ------------------------------------------------------------------ apply --

@test "apply with MIGRATE=yes migrates the old layout's maps; without it, it refuses" {
	old_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	ping4 6
	wait_eq 5 "6 $((6 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	local config=$BATS_TEST_TMPDIR/traffic-counter.conf
	printf 'ATTACH="%s:xdp"\nFLOW_MAP=yes\n' "$DEV_B" >"$config"

	run --separate-stderr tfc_in "$NS_B" apply --config "$config"
	echo "apply: exit $status, stderr '$stderr'"
	[ "$status" -eq 1 ]
	[[ $stderr == *"layout version 1"*"--migrate"* ]]

	echo MIGRATE=yes >>"$config"
	run --separate-stderr tfc_in "$NS_B" apply --config "$config"
	echo "apply: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[[ $stderr == *"migrated the maps"* ]]
	assert_eq "$(layout_version "$NS_B")" "$CUR_LAYOUT" "layout version"
	ping4 4
	wait_eq 5 "10 $((10 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	assert_eq "$(flow_counts "$NS_B" "$A4" "$B4" 0 0 1 ingress "$IFX_B")" \
		"10 $((10 * PING4_FRAME))" "flow"
}
