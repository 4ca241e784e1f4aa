#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# top's cgroup view: rows of traffic_counters_cgroup named by their path and
# what it names, rates from the growth between reads, the key c in a real
# terminal, and a note when no cgroup map is pinned. The test writes the
# rows (cgroup_helpers.bash) for real cgroups made under the v2 mount.

load helpers
load cgroup_helpers

setup() {
	tfc_e2e_setup
	need_tools tmux findmnt
	make_pair nov6
	BG_PIDS=()
	TMUX_SOCK="tce-$TFCE_ID"
	TMUX_UP=0
	tfc_attach "$NS_B" --iface "$DEV_B"
	cg_setup
}

teardown() {
	local pid
	[ "$TMUX_UP" = 0 ] || tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
	for pid in ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	cg_teardown
	tfc_e2e_teardown
}

# report N FILE: the Nth plain-text report (they end with a blank line).
report() { awk -v n="$1" 'BEGIN { RS = "" } NR == n' "$2"; }

@test "top --cgroups --iterations 2: named rows, exact totals, rates from the growth" {
	local out=$BATS_TEST_TMPDIR/top.out web pod i
	web=$(cg_make system.slice/tfce-web.service)
	pod=$(cg_make "kubepods/pod1b2c3d4e-0000-4000-8000-00000000abcd")
	cg_map
	cg_row "$web" 1 1000 10
	cg_row "$pod" 0 70 1
	tfc_in "$NS_B" top --cgroups --iterations 2 --interval 2 --exact >"$out" 2>&1 &
	BG_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^cgroup view' "$out")" -ge 1 ] && break
		sleep 0.05
	done
	# Between the two reads web's egress grows by 4000 bytes, 40 packets
	# (on each CPU).
	cg_row "$web" 1 5000 50
	wait "${BG_PIDS[-1]}"
	cat "$out"

	local one two
	one=$(report 1 "$out")
	two=$(report 2 "$out")
	[[ $(sed -n 2p <<<"$one") == "CGROUP"*"NAME"*"DIR"*"RATE"*"PKTS/S"*"TOTAL"*"PACKETS" ]]
	[[ $one != *IFACE* ]]
	assert_eq "$(awk -v c="$CG_REL/system.slice/tfce-web.service" '$1 == c { print $2, $3, $4, $5, $6, $7 }' <<<"$one")" \
		"tfce-web.service egress 0.0 0.0 $((1000 * NCPU)) $((10 * NCPU))" "report 1: web"
	assert_eq "$(awk -v c="$CG_REL/kubepods/pod1b2c3d4e-0000-4000-8000-00000000abcd" '$1 == c { print $2, $3, $6, $7 }' <<<"$one")" \
		"1b2c3d4e-0000-4000-8000-00000000abcd ingress $((70 * NCPU)) $((1 * NCPU))" "report 1: pod"

	local secs rate prate bytes packets
	secs=$(sed -n '1s/.*, over \([0-9.]*\) s;.*/\1/p' <<<"$two")
	read -r rate prate bytes packets < <(awk -v c="$CG_REL/system.slice/tfce-web.service" '$1 == c { print $4, $5, $6, $7 }' <<<"$two")
	echo "report 2: over $secs s: $rate B/s, $prate packets/s, totals $bytes B, $packets"
	assert_eq "$bytes $packets" "$((5000 * NCPU)) $((50 * NCPU))" "report 2 totals"
	awk -v s="$secs" -v r="$rate" -v p="$prate" -v c="$NCPU" 'BEGIN {
		b = r * s - 4000 * c; n = p * s - 40 * c
		if (s < 1.9 || s > 2.5) { print "interval " s " s, expected 2 s"; exit 1 }
		if (b < -0.2 || b > 0.2) { print "bytes over the interval off by " b; exit 1 }
		if (n < -0.2 || n > 0.2) { print "packets over the interval off by " n; exit 1 }
	}'
	# Sorted by rate: the growing cgroup first.
	[[ $(sed -n 3p <<<"$two") == "$CG_REL/system.slice/tfce-web.service "* ]]
	grep -q "egress ${rate}B/s ${prate}/s" <<<"$two"
}

@test "top --cgroups: a removed cgroup is marked gone; an id never named shows as id:N" {
	local gone later
	gone=$(cg_make system.slice/tfce-gone.service)
	cg_map
	cg_row "$gone" 0 100 1
	cg_row 4000000000 1 9 1
	# The first walk (at start) names it; the unknown id walks again a
	# second later, and finds it removed.
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" top --pin-dir "$PIN" --cgroups \
		--iterations 3 --interval 0.7 --exact >"$BATS_TEST_TMPDIR/top.out" 2>&1 &
	BG_PIDS+=($!)
	sleep 0.3
	rmdir "$CG_TOP/system.slice/tfce-gone.service"
	wait "${BG_PIDS[-1]}"
	cat "$BATS_TEST_TMPDIR/top.out"
	later=$(report 3 "$BATS_TEST_TMPDIR/top.out")
	awk -v c="$CG_REL/system.slice/tfce-gone.service" \
		'$1 == c && $2 == "tfce-gone.service(gone)" { ok = 1 } END { exit !ok }' <<<"$later"
	awk '$1 == "id:4000000000" && $2 == "egress" { ok = 1 } END { exit !ok }' <<<"$later"
}

@test "top --cgroups without a cgroup map: a note that says how to get one" {
	run --separate-stderr tfc_in "$NS_B" top --cgroups --once --interval 0.2
	echo "$output"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "cgroup view, 0 entries, "* ]]
	[[ $output == *"note: no cgroup map pinned at $PIN/traffic_counters_cgroup: count by cgroup with 'traffic-counter attach --attach-point cgroup'"* ]]
	run --separate-stderr tfc_in "$NS_B" top --cgroups --flows --once
	assert_usage_error
	[[ $stderr == *"choose one of --flows and --cgroups"* ]]
}

@test "top in a terminal: c shows the cgroup view, c again the IP view" {
	local web
	web=$(cg_make system.slice/tfce-key.service)
	cg_map
	cg_row "$web" 0 100 1
	cat >"$BATS_TEST_TMPDIR/run.sh" <<EOF
timeout --foreground 60 nsenter --net=/run/netns/$NS_B "$TFC_BIN" top --pin-dir "$PIN"
exec sleep 60
EOF
	tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s top -x 160 -y 20 \
		"bash --norc --noprofile $BATS_TEST_TMPDIR/run.sh"
	TMUX_UP=1
	screen() { tmux -L "$TMUX_SOCK" capture-pane -p -t top; }
	on_screen() { # on_screen SECONDS PATTERN: until the screen matches
		local i
		for ((i = 0; i < $1 * 10; i++)); do
			# shellcheck disable=SC2053 # a glob pattern
			[[ $(screen) == $2 ]] && return 0
			sleep 0.1
		done
		screen
		return 1
	}
	on_screen 10 "*ip view*c cgroup view*"
	tmux -L "$TMUX_SOCK" send-keys -t top c
	on_screen 5 "*cgroup view*CGROUP*NAME*$CG_REL/system.slice/tfce-key.service*tfce-key.service*c IP view*"
	tmux -L "$TMUX_SOCK" send-keys -t top c
	on_screen 5 "*ip view*ADDRESS*c cgroup view*"
	tmux -L "$TMUX_SOCK" send-keys -t top q
}
