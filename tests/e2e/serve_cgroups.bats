#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2154 # bats: each @test is a subshell; run sets $stderr
# serve's cgroup series: one per cgroup and direction from
# traffic_counters_cgroup, labelled by what the cgroup's path says, bounded
# by --max-series as addresses are, and a removed cgroup keeps its labels.
# The test writes the rows itself (cgroup_helpers.bash); the cgroups are
# real, made under the v2 mount, so their ids name them.

load helpers
load serve_helpers
load cgroup_helpers

POD_UID=1b2c3d4e-0000-4000-8000-00000000abcd
CTR=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

setup() {
	tfc_e2e_setup
	need_tools curl findmnt
	BG_PIDS=()
	make_pair
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp
	cg_setup
}

teardown() {
	bg_stop_all
	cg_teardown
	tfc_e2e_teardown
}

# cg_lines TEXT: the cgroup byte and packet samples of one scrape.
cg_lines() { grep -E '^traffic_counter_cgroup_(bytes|packets)_total\{' <<<"$1" || true; }

# label_set NAME UNIT CONTAINER POD: the labels before direction.
label_set() {
	printf 'cgroup="%s",unit="%s",container="%s",pod="%s",namespace=""' "$1" "$2" "$3" "$4"
}

@test "serve_cgroups: one series per cgroup and direction, named, exact" {
	local web pod text want
	web=$(cg_make system.slice/tfce-web.service)
	pod=$(cg_make "kubepods/besteffort/pod$POD_UID/$CTR")
	cg_map
	cg_row "$web" 0 1000 10
	cg_row "$web" 1 300 3
	cg_row "$pod" 0 70 1
	cg_row 4000000000 1 9 1
	serve_bg "$BATS_TEST_TMPDIR/serve.log"
	text=$(curl_b "$SERVE_URL/metrics")
	local w p u='cgroup="id:4000000000",unit="",container="",pod="",namespace=""'
	w=$(label_set "$CG_REL/system.slice/tfce-web.service" tfce-web.service "" "")
	p=$(label_set "$CG_REL/kubepods/besteffort/pod$POD_UID/$CTR" "" "$CTR" "$POD_UID")
	want="traffic_counter_cgroup_bytes_total{$p,direction=\"ingress\"} $((70 * NCPU))
traffic_counter_cgroup_bytes_total{$w,direction=\"ingress\"} $((1000 * NCPU))
traffic_counter_cgroup_bytes_total{$w,direction=\"egress\"} $((300 * NCPU))
traffic_counter_cgroup_bytes_total{$u,direction=\"egress\"} $((9 * NCPU))
traffic_counter_cgroup_packets_total{$p,direction=\"ingress\"} $((1 * NCPU))
traffic_counter_cgroup_packets_total{$w,direction=\"ingress\"} $((10 * NCPU))
traffic_counter_cgroup_packets_total{$w,direction=\"egress\"} $((3 * NCPU))
traffic_counter_cgroup_packets_total{$u,direction=\"egress\"} $((1 * NCPU))"
	assert_eq "$(cg_lines "$text")" "$want" "cgroup series"
	grep -qxF 'traffic_counter_cgroup_series 3' <<<"$text"
	grep -qxF 'traffic_counter_map_entries{map="traffic_counters_cgroup"} 4' <<<"$text"
	grep -qxF 'traffic_counter_map_capacity{map="traffic_counters_cgroup"} 4096' <<<"$text"
	grep -qxF 'traffic_counter_cgroup_dropped_packets_total 0' <<<"$text"
	if command -v promtool >/dev/null; then
		local rc=0 out
		out=$(promtool check metrics <<<"$text" 2>&1) || rc=$?
		echo "$out"
		[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]
	fi
}

@test "serve_cgroups: a removed cgroup keeps its labels and its counts" {
	local web text w later
	web=$(cg_make system.slice/tfce-gone.service)
	cg_map
	cg_row "$web" 1 500 5
	serve_bg "$BATS_TEST_TMPDIR/serve.log"
	w=$(label_set "$CG_REL/system.slice/tfce-gone.service" tfce-gone.service "" "")
	text=$(curl_b "$SERVE_URL/metrics")
	grep -qxF "traffic_counter_cgroup_bytes_total{$w,direction=\"egress\"} $((500 * NCPU))" \
		<<<"$text"
	rmdir "$CG_TOP/system.slice/tfce-gone.service"
	# A new cgroup's unknown id makes the names walk again (at most once a
	# second): the walk finds the first one gone.
	later=$(cg_make system.slice/tfce-later.service)
	cg_row "$later" 0 40 4
	sleep 1.1
	text=$(curl_b "$SERVE_URL/metrics")
	grep -qxF "traffic_counter_cgroup_bytes_total{$w,direction=\"egress\"} $((500 * NCPU))" \
		<<<"$text"
	w=$(label_set "$CG_REL/system.slice/tfce-later.service" tfce-later.service "" "")
	grep -qxF "traffic_counter_cgroup_bytes_total{$w,direction=\"ingress\"} $((40 * NCPU))" \
		<<<"$text"
	grep -qxF 'traffic_counter_cgroup_series 2' <<<"$text"
}

@test "serve_cgroups: --max-series bounds cgroups: largest first, the rest in other, sticky" {
	local a b c d text o
	a=$(cg_make a.scope)
	b=$(cg_make b.scope)
	c=$(cg_make c.scope)
	cg_map
	cg_row "$a" 0 3000 3
	cg_row "$b" 0 10 1
	cg_row "$c" 0 2000 2
	serve_bg "$BATS_TEST_TMPDIR/serve.log" --max-series 2
	o='cgroup="other",unit="",container="",pod="",namespace="",direction="ingress"'
	text=$(curl_b "$SERVE_URL/metrics")
	assert_eq "$(cg_lines "$text" | grep -c bytes_total)" 3 "two cgroups and other"
	grep -qxF "traffic_counter_cgroup_bytes_total{$o} $((10 * NCPU))" <<<"$text"
	grep -qF "cgroup=\"$CG_REL/a.scope\",unit=\"a.scope\"" <<<"$text"
	grep -qF "cgroup=\"$CG_REL/c.scope\",unit=\"c.scope\"" <<<"$text"
	# b grows past the members, d is new: both stay in other.
	cg_row "$b" 0 90000 9
	d=$(cg_make d.scope)
	cg_row "$d" 0 5 1
	text=$(curl_b "$SERVE_URL/metrics")
	assert_eq "$(cg_lines "$text" | grep -c bytes_total)" 3 "still two cgroups and other"
	grep -qxF "traffic_counter_cgroup_bytes_total{$o} $((90005 * NCPU))" <<<"$text"
	grep -qxF 'traffic_counter_cgroup_series 2' <<<"$text"
}

@test "serve_cgroups: no cgroup map, no cgroup series; a foreign map at its pin is refused" {
	local text
	serve_bg "$BATS_TEST_TMPDIR/serve.log"
	text=$(curl_b "$SERVE_URL/metrics")
	assert_eq "$(grep -c cgroup <<<"$text" || true)" 0 "cgroup lines without the map"
	bg_stop_all
	bpftool map create "$PIN/traffic_counters_cgroup" type hash key 16 value 16 entries 8 \
		name not_ours
	run nsenter --net="/run/netns/$NS_B" "$TFC_BIN" serve --pin-dir "$PIN" --listen 127.0.0.1:0
	[ "$status" -ne 0 ]
	[[ "$output" == *"traffic_counters_cgroup is not a traffic-counter cgroup map"* ]]
}
