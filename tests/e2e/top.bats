#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# top: the live view in a real terminal (tmux), its keys and resizing, the
# terminal given back on quit; the plain-text reports, whose rates must be
# the traffic sent over the interval.

load helpers

setup() {
	tfc_e2e_setup
	need_tools tmux
	make_pair nov6
	BG_PIDS=()
	TMUX_SOCK="tce-$TFCE_ID"
	TMUX_UP=0
}

teardown() {
	local pid
	[ "$TMUX_UP" = 0 ] || tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
	for pid in ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	tfc_e2e_teardown
}

# ------------------------------------------------------------- helpers --

# pings_bg SECONDS: echo requests A -> B, 20 a second, in the background.
pings_bg() {
	timeout "$1" ip netns exec "$NS_A" ping -q -n -i 0.05 -s 56 "$B4" >/dev/null 2>&1 &
	BG_PIDS+=($!)
}

# top_in_tmux COLS ROWS ARGS...: top in the receiver's namespace, in a new
# tmux terminal; the script records the terminal's settings before and after.
top_in_tmux() {
	local cols=$1 rows=$2
	shift 2
	TTY_DIR=$BATS_TEST_TMPDIR
	# --foreground: otherwise timeout makes a process group of its own, in
	# the terminal's background, and top stops (SIGTTOU) at its first draw.
	cat >"$TTY_DIR/run.sh" <<EOF
stty -g >"$TTY_DIR/before"
timeout --foreground 120 nsenter --net=/run/netns/$NS_B "$TFC_BIN" top --pin-dir "$PIN" $*
echo "top-exit=\$?"
stty -g >"$TTY_DIR/after"
exec sleep 120
EOF
	tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s top -x "$cols" -y "$rows" \
		"bash --norc --noprofile $TTY_DIR/run.sh"
	TMUX_UP=1
}

screen() { tmux -L "$TMUX_SOCK" capture-pane -p -t top; }
keys() { tmux -L "$TMUX_SOCK" send-keys -t top "$@"; }
alternate_on() { tmux -L "$TMUX_SOCK" display -p -t top '#{alternate_on}'; }

# rate_of TEXT ADDR: the RATE cell (4th column) of ADDR's row.
rate_of() { awk -v a="$2" '$1 == a { print $4; exit }' <<<"$1"; }

# wait_screen SECONDS PREDICATE: until PREDICATE (a function of the screen
# text) holds; the last screen is shown on failure.
wait_screen() {
	local secs=$1 pred=$2 i text
	for ((i = 0; i < secs * 10; i++)); do
		text=$(screen)
		"$pred" "$text" && return 0
		sleep 0.1
	done
	echo "FAIL: $pred never held; the screen:" >&2
	screen >&2
	return 1
}

sender_has_rate() {
	local r
	r=$(rate_of "$1" "$A4")
	[ -n "$r" ] && [ "$r" != - ] && [ "$r" != 0B/s ]
}

shell_is_back() { grep -q '^top-exit=0$' <<<"$1"; }

# report N FILE: the Nth plain-text report of FILE (reports end with a blank line).
report() { awk -v n="$1" 'BEGIN { RS = "" } NR == n' "$2"; }

# ---------------------------------------------------------------- tests --

@test "top in a terminal: the sender with a non-zero rate; q gives the terminal back" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	pings_bg 60
	top_in_tmux 120 30
	wait_screen 15 sender_has_rate
	local text
	text=$(screen)
	[[ $text == *"ADDRESS"*"DIR"*"IFACE"*"RATE"*"PKTS/S"*"TOTAL"*"PACKETS"* ]]
	awk -v a="$A4" '$1 == a && $2 == "ingress" && $3 == "'"$DEV_B"'" { ok = 1 } END { exit !ok }' \
		<<<"$text"
	assert_eq "$(alternate_on)" 1 "alternate screen while top runs"

	keys q
	wait_screen 10 shell_is_back
	text=$(screen)
	# The full-screen view is gone, the shell's screen is back as it was.
	[[ $text != *"PKTS/S"* ]]
	assert_eq "$(alternate_on)" 0 "alternate screen after q"
	assert_eq "$(cat "$TTY_DIR/after")" "$(cat "$TTY_DIR/before")" "terminal settings"
}

@test "top in a terminal: SIGTERM also gives the terminal back, exit 0" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	pings_bg 60
	top_in_tmux 100 20
	wait_screen 15 sender_has_rate
	# The pane runs bash, bash runs timeout, timeout runs top.
	local pane timeout_pid top_pid
	pane=$(tmux -L "$TMUX_SOCK" display -p -t top '#{pane_pid}')
	timeout_pid=$(pgrep -P "$pane")
	top_pid=$(pgrep -P "$timeout_pid")
	assert_eq "$(cat "/proc/$top_pid/comm")" traffic-counter "process"
	kill -TERM "$top_pid"
	wait_screen 10 shell_is_back
	assert_eq "$(alternate_on)" 0 "alternate screen after SIGTERM"
	assert_eq "$(cat "$TTY_DIR/after")" "$(cat "$TTY_DIR/before")" "terminal settings"
}

@test "top in a terminal: s sorts by total, f shows flows, the view follows a resize" {
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	pings_bg 60
	top_in_tmux 120 30
	wait_screen 15 sender_has_rate
	[[ $(screen) == *"sorted by rate"*"s sort by total"* ]]

	keys s
	sorted_by_total() { [[ $1 == *"sorted by total"*"s sort by rate"* ]]; }
	wait_screen 5 sorted_by_total

	keys f
	flow_view() { [[ $1 == *"flow view"*FLOW*PROTO* && $1 == *"$A4->$B4"*icmp* ]]; }
	wait_screen 5 flow_view

	keys f
	tmux -L "$TMUX_SOCK" resize-window -t top -x 60 -y 20
	# Narrow: the packet columns went, the address and its rate stayed.
	narrow() {
		[[ $1 == *"ip view"* && $1 == *RATE* && $1 != *PACKETS* ]] && sender_has_rate "$1"
	}
	wait_screen 5 narrow
	local widest
	widest=$(screen | awk '{ if (length($0) > w) w = length($0) } END { print w }')
	[ "$widest" -le 60 ]

	tmux -L "$TMUX_SOCK" kill-session -t top 2>/dev/null || true
	TMUX_UP=0
}

@test "top --iterations 2: the rate is the traffic sent between the reads" {
	local out=$BATS_TEST_TMPDIR/top.out
	tfc_attach "$NS_B" --iface "$DEV_B"
	ping4 10 # already there before the first read: no rate from it
	wait_eq 5 "10 $((10 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"

	tfc_in "$NS_B" top --iterations 2 --interval 2 --exact >"$out" 2>&1 &
	BG_PIDS+=($!)
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^ip view' "$out")" -ge 1 ] && break
		sleep 0.05
	done
	# 100 datagrams of 500-byte frames (14 + 20 + 8 + 458), in about 20 ms,
	# well inside the 2 s before the second read.
	udp "$B4" 9 5000 100 458
	wait "${BG_PIDS[-1]}"
	cat "$out"

	local one two
	one=$(report 1 "$out")
	two=$(report 2 "$out")
	# Report 1: only the pings, sent before the first read.
	assert_eq "$(awk -v a="$A4" '$1 == a { print $4, $5, $6, $7 }' <<<"$one")" \
		"0.0 0.0 $((10 * PING4_FRAME)) 10" "report 1: rate, packet rate, bytes, packets"

	local secs rate prate bytes packets
	secs=$(sed -n '1s/.*, over \([0-9.]*\) s;.*/\1/p' <<<"$two")
	read -r rate prate bytes packets < <(awk -v a="$A4" '$1 == a { print $4, $5, $6, $7 }' <<<"$two")
	echo "report 2: over $secs s: $rate B/s, $prate packets/s, totals $bytes B, $packets"
	assert_eq "$bytes $packets" "$((10 * PING4_FRAME + 100 * 500)) 110" "report 2 totals"
	# Over the interval the rates give back exactly what was sent: printed
	# with one decimal, they are off by at most 0.05/s times the interval.
	awk -v s="$secs" -v r="$rate" -v p="$prate" 'BEGIN {
		b = r * s - 50000; n = p * s - 100
		if (s < 1.9 || s > 2.5) { print "interval " s " s, expected 2 s"; exit 1 }
		if (b < -0.2 || b > 0.2) { print "bytes over the interval off by " b; exit 1 }
		if (n < -0.2 || n > 0.2) { print "packets over the interval off by " n; exit 1 }
	}'
	# The summary line adds up the same.
	grep -q "ingress ${rate}B/s ${prate}/s" <<<"$two"
}

@test "top without a terminal: reports until SIGTERM, then exit 0" {
	local out=$BATS_TEST_TMPDIR/top.out pid i
	tfc_attach "$NS_B" --iface "$DEV_B"
	ping4 5
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" top --pin-dir "$PIN" --interval 0.2 \
		>"$out" 2>&1 </dev/null &
	pid=$!
	BG_PIDS+=("$pid")
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^ip view' "$out")" -ge 3 ] && break
		sleep 0.05
	done
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	cat "$out"
	assert_eq "$rc" 0 "exit status after SIGTERM"
	[ "$(grep -c '^ip view' "$out")" -ge 3 ]
	grep -q "^$A4 " "$out"
}

@test "top --once --flows: the flow view, and a note while flow counting is off" {
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	udp "$B4" 9 5000 20 100
	run --separate-stderr tfc_in "$NS_B" top --once --flows --interval 0.3
	echo "$output"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "flow view, "* ]]
	awk -v f="$A4:5000->$B4:9" '$1 == f && $2 == "udp" { ok = 1 } END { exit !ok }' <<<"$output"

	tfc_in "$NS_B" set --disable-flow-map
	run --separate-stderr tfc_in "$NS_B" top --once --flows --interval 0.3
	[ "$status" -eq 0 ]
	[[ $output == *"note: flow counting is off: turn it on with 'traffic-counter set --enable-flow-map'"* ]]
}

@test "top: usage and runtime errors are one line each" {
	run --separate-stderr tfc_in "$NS_B" top --interval 0
	assert_usage_error
	[[ $stderr == *"--interval"* ]]
	run --separate-stderr tfc_in "$NS_B" top --sort bytes
	assert_usage_error
	run --separate-stderr tfc_in "$NS_B" top --once --iterations 2
	assert_usage_error
	# Nothing attached yet: the usual explanation, exit 1.
	run --separate-stderr tfc_in "$NS_B" top --once
	assert_error_status 1
	[[ $stderr == *"no map pinned at $PIN/traffic_counters_ip"* ]]
}
