#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# README claims about the readers (serve, top) that no other test checks
# (issue 17): they follow the maps attach --migrate pins, top gives the
# terminal back on SIGINT and SIGHUP and --top N bounds the rows, serve
# listens where --listen says, and /healthz tells readable maps from gone.
#
# serve and top run in the receiver namespace; every request goes to that
# namespace's loopback.

load helpers
load serve_helpers

setup() {
	tfc_e2e_setup
	need_tools curl ss tmux
	BG_PIDS=()
	TMUX_SOCK="tce-$TFCE_ID"
	TMUX_UP=0
	make_pair nov6
}

teardown() {
	[ "$TMUX_UP" = 0 ] || tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
	bg_stop_all
	tfc_e2e_teardown
}

# ------------------------------------------------------------- helpers --

serve_stop() {
	local i
	kill -TERM "$SERVE_PID"
	for ((i = 0; i < 50; i++)); do
		kill -0 "$SERVE_PID" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "FAIL: serve still runs 5 s after SIGTERM" >&2
	return 1
}

# sender_bytes: A4's ingress bytes on DEV_B in /metrics ("none" when
# the series is missing, "err" when the scrape failed).
sender_bytes() {
	local text
	text=$(curl_b -f "$SERVE_URL/metrics" 2>/dev/null) || {
		echo err
		return 0
	}
	awk -v s="traffic_counter_bytes_total{device=\"$DEV_B\",direction=\"ingress\",family=\"ipv4\",address=\"$A4\"}" \
		'$1 == s { print $2; f = 1 } END { if (!f) print "none" }' <<<"$text"
}

ip_map_id() { bpftool -j map show pinned "$PIN/traffic_counters_ip" | jq .id; }

# top_total FILE: A4's TOTAL (bytes, --exact) in the last report of FILE.
top_total() {
	awk -v a="$A4" 'BEGIN { RS = "" } { last = $0 } END { print last }' "$1" |
		awk -v a="$A4" '$1 == a && $2 == "ingress" { print $6 }'
}

# --------------------------------------------------------- top in tmux --

# top_in_tmux: top in B in a new tmux terminal (100x20); the
# script records the terminal's settings before and after.
top_in_tmux() {
	TTY_DIR=$BATS_TEST_TMPDIR
	cat >"$TTY_DIR/run.sh" <<EOF
stty -g >"$TTY_DIR/before"
timeout --foreground 120 nsenter --net=/run/netns/$NS_B "$TFC_BIN" top --pin-dir "$PIN"
echo "top-exit=\$?"
stty -g >"$TTY_DIR/after"
exec sleep 120
EOF
	tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s top -x 100 -y 20 \
		"bash --norc --noprofile $TTY_DIR/run.sh"
	TMUX_UP=1
}

screen() { tmux -L "$TMUX_SOCK" capture-pane -p -t top; }
alternate_on() { tmux -L "$TMUX_SOCK" display -p -t top '#{alternate_on}'; }

wait_screen() { # wait_screen SECONDS PREDICATE
	local secs=$1 pred=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		"$pred" "$(screen)" && return 0
		sleep 0.1
	done
	echo "FAIL: $pred never held; the screen:" >&2
	screen >&2
	return 1
}

top_drawn() { [[ $1 == *ADDRESS*RATE*TOTAL* && $1 == *"$A4"* ]]; }
shell_is_back() { grep -q '^top-exit=' <<<"$1"; }

# top_signal_restores SIG: top in a terminal, SIG to its process: exit 0,
# the alternate screen left, the terminal's settings as before, and typed
# text echoed again.
top_signal_restores() {
	tfc_attach "$NS_B" --iface "$DEV_B"
	ping4 3
	top_in_tmux
	wait_screen 15 top_drawn
	assert_eq "$(alternate_on)" 1 "alternate screen while top runs"
	# The pane runs bash, bash runs timeout, timeout runs top.
	local pane timeout_pid top_pid
	pane=$(tmux -L "$TMUX_SOCK" display -p -t top '#{pane_pid}')
	timeout_pid=$(pgrep -P "$pane")
	top_pid=$(pgrep -P "$timeout_pid")
	assert_eq "$(cat "/proc/$top_pid/comm")" traffic-counter "process"
	kill -s "$1" "$top_pid"
	wait_screen 10 shell_is_back
	screen
	grep -qx 'top-exit=0' <<<"$(screen)"
	assert_eq "$(alternate_on)" 0 "alternate screen after SIG$1"
	assert_eq "$(cat "$TTY_DIR/after")" "$(cat "$TTY_DIR/before")" "terminal settings"
	# Echo is on again: what is typed shows (sleep reads none of it).
	tmux -L "$TMUX_SOCK" send-keys -t top "typed-after-$1"
	typed_shows() { [[ $1 == *"typed-after-$SIG"* ]]; }
	SIG=$1 wait_screen 5 typed_shows
}

# ---------------------------------------------------------------- tests --

@test "serve and top follow attach --migrate: totals whole, never lower, top --once after" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	serve_bg "$BATS_TEST_TMPDIR/serve.log"
	ping4 10
	wait_eq 10 $((10 * PING4_FRAME)) sender_bytes

	# top reading every 0.2 s, and a scrape every 50 ms, through the migration.
	local top_out=$BATS_TEST_TMPDIR/top.out scrapes=$BATS_TEST_TMPDIR/scrapes stop=$BATS_TEST_TMPDIR/stop
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" top --pin-dir "$PIN" --interval 0.2 --exact \
		>"$top_out" 2>&1 </dev/null 3>&- &
	local top_pid=$!
	BG_PIDS+=("$top_pid")
	(
		for ((i = 0; i < 600; i++)); do
			[ -e "$stop" ] && break
			sender_bytes
			sleep 0.05
		done
	) >"$scrapes" 3>&- &
	local scraper=$!
	BG_PIDS+=("$scraper")
	wait_eq 10 $((10 * PING4_FRAME)) top_total "$top_out"

	local old_id
	old_id=$(ip_map_id)
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --migrate --ip-map-size 4096
	echo "migrate: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[ "$(ip_map_id)" != "$old_id" ]
	assert_eq "$(status_json "$NS_B" | jq '.maps[] | select(.name == "traffic_counters_ip")
		| .max_entries')" 4096 "IP map size after the migration"

	ping4 10
	wait_eq 10 $((20 * PING4_FRAME)) sender_bytes
	wait_eq 10 $((20 * PING4_FRAME)) top_total "$top_out"
	touch "$stop"
	wait "$scraper"
	kill -TERM "$top_pid"
	wait "$top_pid"

	# Every scrape answered, and none went below one before it.
	echo "scrapes: $(sort "$scrapes" | uniq -c | tr '\n' ' ')"
	# Scrapes saw the totals before the migration and after it.
	grep -qx $((10 * PING4_FRAME)) "$scrapes"
	grep -qx $((20 * PING4_FRAME)) "$scrapes"
	if grep -vqxE '[0-9]+' "$scrapes"; then
		echo "FAIL: a scrape failed or lacked the series: $(grep -vxE '[0-9]+' "$scrapes" | sort -u)" >&2
		return 1
	fi
	awk 'NR > 1 && $1 < prev { print "FAIL: scrape " NR ": " $1 " after " prev; bad = 1 }
		{ prev = $1 } END { exit bad }' "$scrapes" >&2
	assert_eq "$(tail -1 "$scrapes")" $((20 * PING4_FRAME)) "last scrape"
	# top's totals, report by report, never went down either.
	awk -v a="$A4" '$1 == a && $2 == "ingress" { if ($6 < prev) { print "FAIL: top " $6 " after " prev; bad = 1 } prev = $6 }
		END { exit bad }' "$top_out" >&2

	run --separate-stderr tfc_in "$NS_B" top --once --exact --interval 0.2
	echo "$output"
	[ "$status" -eq 0 ]
	assert_eq "$(awk -v a="$A4" '$1 == a && $2 == "ingress" { print $6, $7 }' <<<"$output")" \
		"$((20 * PING4_FRAME)) 20" "top --once: bytes and packets"
}

@test "top in a terminal: SIGINT gives the terminal back, exit 0" {
	top_signal_restores INT
}

@test "top in a terminal: SIGHUP gives the terminal back, exit 0" {
	top_signal_restores HUP
}

@test "top --top N: exactly N address rows when more addresses are counted" {
	add_sources 6
	tfc_attach "$NS_B" --iface "$DEV_B"
	local src
	for src in "$A4" "${EXTRA_SOURCES[@]}"; do
		ping4 1 -I "$src"
	done
	entries() { dump_ip_json "$NS_B" | jq length; }
	wait_eq 5 7 entries
	rows() { grep -cE '^198\.18\.0\.[0-9]+ ' <<<"$1" || true; }

	run --separate-stderr tfc_in "$NS_B" top --once --interval 0.2
	[ "$status" -eq 0 ]
	assert_eq "$(rows "$output")" 7 "rows without --top"
	run --separate-stderr tfc_in "$NS_B" top --once --interval 0.2 --top 3
	echo "$output"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "ip view, 7 entries, "* ]]
	assert_eq "$(rows "$output")" 3 "rows with --top 3"
	run --separate-stderr tfc_in "$NS_B" top --iterations 2 --interval 0.2 --top 2
	[ "$status" -eq 0 ]
	assert_eq "$(rows "$output")" 4 "rows over two reports with --top 2"
}

# listens_on PATTERN: ss lists exactly one listening TCP socket in B, at PATTERN.
listens_on() {
	local got
	got=$(in_b ss -Htln | awk '{ print $4 }')
	assert_eq "$got" "$1" "listening socket"
}

@test "serve --listen [::1]:P, :P and [::]:P serve /metrics where the README says" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	local log=$BATS_TEST_TMPDIR/serve.log
	serve_bg "$log" --listen '[::1]:10438'
	listens_on '[::1]:10438'
	assert_eq "$(http_code 'http://[::1]:10438/metrics')" 200 "[::1]:P on ::1"
	assert_eq "$(http_code 'http://127.0.0.1:10438/metrics')" 000 "[::1]:P on 127.0.0.1"
	serve_stop

	# :P is every IPv4 address, and no IPv6 one.
	serve_bg "$log" --listen ':10439'
	listens_on '0.0.0.0:10439'
	assert_eq "$(http_code 'http://127.0.0.1:10439/metrics')" 200 ":P on 127.0.0.1"
	assert_eq "$(http_code 'http://[::1]:10439/metrics')" 000 ":P on ::1"
	serve_stop

	# [::]:P is every address, IPv4 ones too.
	serve_bg "$log" --listen '[::]:10440'
	listens_on '*:10440'
	assert_eq "$(http_code 'http://[::1]:10440/metrics')" 200 "[::]:P on ::1"
	assert_eq "$(http_code 'http://127.0.0.1:10440/metrics')" 200 "[::]:P on 127.0.0.1"
	serve_stop
}

@test "serve /healthz: 503 once detach --purge removed the pins, 200 once they are back" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	serve_bg "$BATS_TEST_TMPDIR/serve.log"
	assert_eq "$(http_code "$SERVE_URL/healthz")" 200 "/healthz with the maps pinned"
	tfc_in "$NS_B" detach --all --purge >/dev/null 2>&1
	map_pins_absent
	assert_eq "$(http_code "$SERVE_URL/healthz")" 503 "/healthz without the pins"
	assert_eq "$(http_code "$SERVE_URL/metrics")" 503 "/metrics without the pins"
	[[ $(curl_b "$SERVE_URL/healthz") == "IP map not readable" ]]
	# Pinned again (new maps): healthy again, and serving the new maps.
	tfc_attach "$NS_B" --iface "$DEV_B"
	assert_eq "$(http_code "$SERVE_URL/healthz")" 200 "/healthz with new pins"
	ping4 2
	wait_eq 5 $((2 * PING4_FRAME)) sender_bytes
	kill -0 "$SERVE_PID"
}
