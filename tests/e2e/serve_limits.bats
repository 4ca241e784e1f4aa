#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# serve against hostile clients: slow clients cannot make it unreachable,
# many query arguments get an error at once, slow readers of a big /metrics
# cannot make its memory grow with their number.
#
# serve runs inside the test's receiver namespace, on its loopback; the
# hostile clients (tests/e2e/slow_clients.py) connect from 127.0.0.1, the
# well-behaved ones also from 127.0.0.2.

load helpers
load serve_helpers

SLOW=$BATS_TEST_DIRNAME/slow_clients.py

setup() {
	tfc_e2e_setup
	need_tools curl python3
	BG_PIDS=()
}

teardown() {
	bg_stop_all
	tfc_e2e_teardown
}

# timed_code FROM URL: "CODE SECONDS" of one GET from source address FROM.
timed_code() {
	in_b curl -s -o /dev/null --max-time 40 --interface "$1" -w '%{http_code} %{time_total}' \
		"$2" || true
}

timed_code_is() { # timed_code_is CODE FROM URL
	local code
	read -r code _ <<<"$(timed_code "$2" "$3")"
	[ "$code" = "$1" ]
}

vm_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

@test "serve_limits: 64 trickling clients neither block /healthz nor stay open" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	serve_bg "$BATS_TEST_TMPDIR/serve.log" --listen 127.0.0.1:0
	local out=$BATS_TEST_TMPDIR/slow.out code secs
	in_b python3 "$SLOW" trickle "$SERVE_PORT" 64 30 >"$out" &
	BG_PIDS+=("$!")
	wait_until 10 grep -q '^open' "$out"
	cat "$out"
	sleep 1
	# Another address: answered at once, the per-address limit kept room.
	read -r code secs <<<"$(timed_code 127.0.0.2 "$SERVE_URL/healthz")"
	echo "# /healthz from 127.0.0.2 with 64 trickling clients: $code after $secs s" >&3
	assert_eq "$code" 200 "/healthz from another address"
	awk -v t="$secs" 'BEGIN { exit !(t < 2) }'
	# The same address: refused while at its limit, answered at the latest
	# once the header budget (10 s) closed the trickling connections.
	local t0=$SECONDS
	wait_until 15 timed_code_is 200 127.0.0.1 "$SERVE_URL/healthz"
	echo "# /healthz from 127.0.0.1 (theirs): 200 after $((SECONDS - t0)) s" >&3
	wait_until 35 grep -q '^closed' "$out"
	cat "$out"
	# Every trickling connection was closed by the server within the budget.
	grep -Eq '^closed ([0-9]+) of \1, last after ([0-9]|1[0-4])\.' "$out"
}

@test "serve_limits: 600 query arguments get 400 at once" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	serve_bg "$BATS_TEST_TMPDIR/serve.log" --listen 127.0.0.1:0
	local q code secs
	q=$(seq -f 'a%g=1' 0 599 | paste -sd '&')
	read -r code secs <<<"$(timed_code 127.0.0.1 "$SERVE_URL/metrics?$q")"
	echo "# 600 query arguments: $code after $secs s" >&3
	assert_eq "$code" 400 "600 query arguments"
	awk -v t="$secs" 'BEGIN { exit !(t < 2) }'
	# A few arguments are ignored, as before.
	read -r code secs <<<"$(timed_code 127.0.0.1 "$SERVE_URL/metrics?a=1&b=2")"
	assert_eq "$code" 200 "2 query arguments"
}

@test "serve_limits: 16 slow readers of a 65536-entry /metrics: memory stays under 3 responses" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B" --ip-map-size 65536
	"$TFC_HELPERS/fill_ip_map" "$PIN/traffic_counters_ip" 65536 "$IFX_B"
	serve_bg "$BATS_TEST_TMPDIR/serve.log" --listen 127.0.0.1:0 --max-series 0
	local size hwm codes
	size=$(in_b curl -s --max-time 20 "$SERVE_URL/metrics" | wc -c)
	codes=$(in_b python3 "$SLOW" readers "$SERVE_PORT" 16 40)
	hwm=$(vm_hwm_kb "$SERVE_PID")
	local code
	echo "# response $size bytes; 16 slow readers got: $codes; VmHWM $hwm kB" >&3
	# Past the per-address limit (8), connections are closed at once.
	[[ $codes =~ ^((200|503|closed)\ ){15}(200|503|closed)$ ]]
	[[ $codes == *200* ]]
	[ "$hwm" -lt $((3 * size / 1024)) ] || {
		echo "FAIL: VmHWM $hwm kB >= 3 x $((size / 1024)) kB" >&2
		return 1
	}
	read -r code _ <<<"$(timed_code 127.0.0.1 "$SERVE_URL/metrics")"
	assert_eq "$code" 200 "/metrics afterwards"
}
