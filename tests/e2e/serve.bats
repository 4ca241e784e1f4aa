#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# shellcheck disable=SC2016 # $1... in single quotes are for the inner shell or jq
# serve, the Prometheus exporter: scraped by a real Prometheus, checked by
# promtool, bounded by --max-series, robust against bad requests and load,
# runnable by an unprivileged user, and clear about what goes wrong.
#
# serve and Prometheus run inside the test's receiver namespace, on its
# loopback: the namespace is new, so the default ports are free there.

load helpers
load serve_helpers

PROM_PORT=9090
# A device name that needs escaping in a label value: '"' and '\' are legal
# in interface names.
ODD_DEV='tc"e\2'
ODD_NET=198.19.0

setup() {
	tfc_e2e_setup
	need_tools curl prometheus promtool ab setpriv unshare
	BG_PIDS=()
	TMP_DIRS=()
}

teardown() {
	local i
	bg_stop_all
	for i in ${TMP_DIRS[@]+"${TMP_DIRS[@]}"}; do
		rm -rf "$i"
	done
	tfc_e2e_teardown
}

# ------------------------------------------------------------- helpers --

# raw_request PORT REQUEST: sends REQUEST (a printf format) on a new
# connection to 127.0.0.1:PORT in the receiver namespace and prints the
# first line of the reply, or "closed" when the server closed the
# connection without one. Fails when the connection is refused or when the
# server neither answers nor closes within 5 s.
raw_request() {
	local out
	# shellcheck disable=SC2016 # expanded by the inner shell
	out=$(in_b bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || { echo "connection refused"; exit 1; }
		# The server may close before the whole request is written.
		trap "" PIPE
		printf "$2" >&3 2>/dev/null
		IFS= read -r -t "$3" line <&3
		rc=$?
		if [ "$rc" -gt 128 ]; then echo "no reply and not closed in $3 s"; exit 1; fi
		if [ "$rc" -ne 0 ] && [ -z "$line" ]; then echo closed; exit 0; fi
		echo "$line"' _ "$1" "$2" "${3:-5}") || {
		echo "FAIL: request '$2' (exit $?): $out" >&2
		return 1
	}
	echo "${out%$'\r'}"
}

# odd_device: a veth with ODD_DEV as its name (its peer also in the
# receiver namespace), counted at tc-egress, with three 10-byte UDP
# datagrams sent out of it to a static neighbour (no ARP, no reply needed).
odd_device() {
	ip -n "$NS_B" link add "$ODD_DEV" type veth peer name tce-odd-peer
	ip -n "$NS_B" link set "$ODD_DEV" addrgenmode none
	ip -n "$NS_B" addr add "$ODD_NET.1/24" dev "$ODD_DEV"
	ip -n "$NS_B" neigh add "$ODD_NET.5" lladdr 02:00:00:00:00:05 dev "$ODD_DEV" nud permanent
	ip -n "$NS_B" link set tce-odd-peer up
	ip -n "$NS_B" link set "$ODD_DEV" up
	tfc_attach "$NS_B" --iface "$ODD_DEV" --attach-point tc-egress
	timeout 30 ip netns exec "$NS_B" "$TFC_HELPERS/udp_send" "$ODD_NET.5" 9 4000 3 10 200 \
		>/dev/null
}

# known_traffic: IPv4 and IPv6 pings A -> B counted at B's XDP (ingress)
# and tc-egress (the replies), plus the odd device; waits until counted.
known_traffic() {
	make_pair
	tfc_attach "$NS_B" --iface "$DEV_B"
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-egress
	odd_device
	ping4 5
	ping6 3
	wait_eq 5 "5 $((5 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "3 $((3 * PING6_FRAME))" ip_counts "$NS_B" "$A6" egress "$IFX_B"
}

# dump_lines FIELD -> "device direction family address value" per IP entry,
# from dump-maps --json, sorted.
dump_lines() {
	dump_ip_json "$NS_B" | jq -r --arg f "$1" \
		'.[] | "\(.ifname) \(.direction) ipv\(.family) \(.ip) \(.[$f])"' | LC_ALL=C sort
}

# exported_lines METRIC [URL] -> the same from serve's /metrics. The label
# values' escapes (\\, \", \n) are JSON's, so the label set, with its names
# quoted, is read as a JSON object.
exported_lines() {
	curl_b "${2:-$SERVE_URL}/metrics" | grep "^$1{" |
		sed 's/\([{,]\)\([a-z_]*\)=/\1"\2":/g' |
		jq -rR 'capture("^[a-z_]+(?<l>\\{.*\\}) (?<v>[0-9]+)$") | (.l | fromjson) as $l
			| "\($l.device) \($l.direction) \($l.family) \($l.address) \(.v)"' |
		LC_ALL=C sort
}

# prom_lines METRIC -> the same from Prometheus' HTTP API.
prom_lines() {
	curl_b -G --data-urlencode "query=$1" "http://127.0.0.1:$PROM_PORT/api/v1/query" |
		jq -r '.data.result[] | "\(.metric.device) \(.metric.direction) \(.metric.family) \(.metric.address) \(.value[1])"' |
		LC_ALL=C sort
}

# prom_start TARGET: Prometheus in the receiver namespace, scraping TARGET
# every second, with its config and TSDB in this test's temporary directory.
prom_start() {
	local dir=$BATS_TEST_TMPDIR/prom i
	mkdir -p "$dir/data"
	cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: traffic-counter
    static_configs:
      - targets: ['$1']
EOF
	nsenter --net="/run/netns/$NS_B" prometheus --config.file="$dir/prometheus.yml" \
		--storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:$PROM_PORT" \
		>"$dir/log" 2>&1 3>&- &
	BG_PIDS+=("$!")
	for ((i = 0; i < 300; i++)); do
		[ "$(http_code "http://127.0.0.1:$PROM_PORT/-/ready")" = 200 ] && return 0
		sleep 0.1
	done
	echo "FAIL: Prometheus not ready in 30 s:" >&2
	tail -20 "$dir/log" >&2
	return 1
}

# same_until SECONDS A_CMD B_CMD: until both print the same, non-empty.
same_until() {
	local secs=$1 a b i
	for ((i = 0; i < secs * 4; i++)); do
		a=$($2) && b=$($3) && [ -n "$a" ] && [ "$a" = "$b" ] && return 0
		sleep 0.25
	done
	echo "FAIL: '$2' and '$3' still differ after $secs s:" >&2
	diff <(echo "$a") <(echo "$b") >&2
	return 1
}

# Exact below 2^53: awk's numbers are doubles (and mawk's %d stops at 2^31).
sum_col() { awk '{ s += $NF } END { printf "%.0f\n", s }'; }

vm_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------- tests --

@test "serve: a real Prometheus scrapes series equal to dump-maps --json" {
	known_traffic
	serve_bg "$BATS_TEST_TMPDIR/serve.log"
	assert_eq "$SERVE_URL" "http://127.0.0.1:10437" "default listen address"
	prom_start 127.0.0.1:10437

	dump_bytes() { dump_lines bytes; }
	dump_packets() { dump_lines packets; }
	prom_bytes() { prom_lines traffic_counter_bytes_total; }
	prom_packets() { prom_lines traffic_counter_packets_total; }
	same_until 30 dump_bytes prom_bytes
	same_until 10 dump_packets prom_packets
	prom_bytes
	# The known traffic, by name, escaped device name included.
	prom_bytes | grep -qxF "veth-b ingress ipv4 $A4 $((5 * PING4_FRAME))"
	prom_bytes | grep -qxF "veth-b egress ipv6 $A6 $((3 * PING6_FRAME))"
	prom_bytes | grep -qxF "$ODD_DEV egress ipv4 $ODD_NET.5 $((3 * (14 + 20 + 8 + 10)))"
	assert_eq "$(prom_lines 'up{job="traffic-counter"}' | awk '{ print $NF }')" 1 "up"
	# Map gauges as status reports them.
	local cap
	cap=$(curl_b -G --data-urlencode 'query=traffic_counter_map_capacity{map="traffic_counters_ip"}' \
		"http://127.0.0.1:$PROM_PORT/api/v1/query" | jq -r '.data.result[0].value[1]')
	assert_eq "$cap" "$(status_json "$NS_B" | jq '.maps[] | select(.name == "traffic_counters_ip")
		| .max_entries')" "IP map capacity"
}

@test "serve: promtool accepts /metrics; labels escaped; /, /healthz, HEAD" {
	known_traffic
	serve_bg "$BATS_TEST_TMPDIR/serve.log"
	local text out rc=0
	text=$(curl_b "$SERVE_URL/metrics")
	grep -qF "device=\"tc\\\"e\\\\2\",direction=\"egress\",family=\"ipv4\",address=\"$ODD_NET.5\"} 156" \
		<<<"$text"
	out=$(promtool check metrics <<<"$text" 2>&1) || rc=$?
	echo "promtool: exit $rc"
	echo "$out"
	# Exit 1 is a parse error. The one lint finding allowed: names with
	# "_counter_" in them, which the required traffic_counter_ prefix has.
	[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]
	assert_eq "$(grep -v "metric name should not include type 'counter'" <<<"$out" || true)" "" \
		"promtool findings besides the name heuristic"
	# Every sample's family has HELP and TYPE.
	local fam
	while read -r fam; do
		grep -q "^# HELP $fam " <<<"$text"
		grep -q "^# TYPE $fam \(counter\|gauge\)$" <<<"$text"
	done < <(grep -v '^#' <<<"$text" | sed 's/[{ ].*//' | sort -u)
	[[ $(curl_b "$SERVE_URL/") == *'<a href="metrics">'* ]]
	assert_eq "$(curl_b "$SERVE_URL/healthz")" ok "/healthz"
	assert_eq "$(curl_b -I "$SERVE_URL/metrics" | tr -d '\r' | grep -i '^content-type:')" \
		"Content-Type: text/plain; version=0.0.4; charset=utf-8" "HEAD content type"
}

@test "serve: --max-series bounds the series, totals equal the maps', every series only grows" {
	make_pair nov6
	add_sources 12
	tfc_attach "$NS_B" --iface "$DEV_B"
	local src
	for src in "$A4" "${EXTRA_SOURCES[@]}"; do
		ping4 1 -I "$src"
	done
	wait_eq 5 13 eval 'dump_ip_json "$NS_B" | jq length'
	serve_bg "$BATS_TEST_TMPDIR/serve.log" --max-series 5
	local first second
	first=$(exported_lines traffic_counter_bytes_total)
	echo "first scrape:"
	echo "$first"
	# 5 addresses of their own + one "other" (one device, direction, family).
	assert_eq "$(wc -l <<<"$first")" 6 "series"
	assert_eq "$(grep -c ' other ' <<<"$first")" 1 "other series"
	assert_eq "$(sum_col <<<"$first")" "$(dump_lines bytes | sum_col)" "sum of bytes"
	assert_eq "$(exported_lines traffic_counter_packets_total | sum_col)" \
		"$(dump_lines packets | sum_col)" "sum of packets"

	# More from everyone, 20 pings from one "other" address and a new
	# source: the same series, none smaller, totals still equal.
	for src in "$A4" "${EXTRA_SOURCES[@]}"; do
		ping4 1 -I "$src"
	done
	ping4 20 -I "${EXTRA_SOURCES[11]}"
	ip -n "$NS_A" addr add 198.18.0.100/24 dev "$DEV_A"
	ip -n "$NS_B" neigh add 198.18.0.100 lladdr "$MAC_A" dev "$DEV_B" nud permanent
	ping4 2 -I 198.18.0.100
	wait_eq 5 14 eval 'dump_ip_json "$NS_B" | jq length'
	second=$(exported_lines traffic_counter_bytes_total)
	echo "second scrape:"
	echo "$second"
	assert_eq "$(cut -d' ' -f1-4 <<<"$second")" "$(cut -d' ' -f1-4 <<<"$first")" "series labels"
	paste -d' ' <(awk '{ print $NF }' <<<"$first") <(awk '{ print $NF }' <<<"$second") |
		awk '$2 < $1 { print "FAIL: a series went down: " $0; bad = 1 } END { exit bad }' >&2
	assert_eq "$(sum_col <<<"$second")" "$(dump_lines bytes | sum_col)" "sum of bytes"

	# Prefix aggregation: one /24 series holding everything.
	serve_bg "$BATS_TEST_TMPDIR/serve24.log" --listen 127.0.0.1:0 --max-series 0 \
		--aggregate-prefix 24,64
	assert_eq "$(exported_lines traffic_counter_bytes_total)" \
		"veth-b ingress ipv4 198.18.0.0/24 $(dump_lines bytes | sum_col)" "/24 series"
}

@test "serve: bad requests are refused, and the server keeps serving" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	serve_bg "$BATS_TEST_TMPDIR/serve.log"
	local u=$SERVE_URL big
	assert_eq "$(http_code "$u/nope")" 404 "unknown path"
	assert_eq "$(http_code "$u/metrics/")" 404 "path with a trailing slash"
	assert_eq "$(http_code -X POST "$u/metrics")" 405 "POST"
	assert_eq "$(http_code -X DELETE "$u/healthz")" 405 "DELETE"
	curl_b -i -X PUT -d x "$u/metrics" | tr -d '\r' | grep -qx 'Allow: GET, HEAD'
	assert_eq "$(http_code -X GET -d 'a body' "$u/metrics")" 400 "GET with a body"
	big=$(head -c 40000 /dev/zero | tr '\0' a)
	assert_eq "$(http_code -H "X-Big: $big" "$u/metrics")" 431 "oversized header"
	assert_eq "$(http_code "$u/$big")" 414 "oversized URL"
	# An endless chunked body: refused before it is read.
	assert_eq "$(http_code -X POST -T /dev/zero -H 'Expect:' "$u/metrics")" 405 "endless body"
	# Malformed by hand: each gets its error status, or the server closes
	# the connection at once; a refused connection or a hang fails.
	local port=${u##*:}
	assert_eq "$(raw_request "$port" 'GET\r\n\r\n')" closed "request line without a URL"
	assert_eq "$(raw_request "$port" 'GET / HTTP/1.1\r\nno colon here\r\n\r\n')" \
		"HTTP/1.1 400 Bad Request" "header line without a colon"
	assert_eq "$(raw_request "$port" 'GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n')" \
		"HTTP/1.1 505 HTTP Version Not Supported" "HTTP/9.9"
	assert_eq "$(raw_request "$port" '\x01\x02\x03\r\n\r\n')" closed "binary request line"
	local t0=$SECONDS
	assert_eq "$(raw_request "$port" '\x00\x01\x02\r\n\r\n' 12)" closed "NUL request line"
	echo "NUL: $((SECONDS - t0)) s"
	assert_eq "$(http_code "$u/metrics")" 200 "/metrics afterwards"
	kill -0 "$SERVE_PID"
}

@test "serve: a few thousand requests under ab: no error, no memory growth" {
	# IPv4 only: an MLD report landing mid-run would add a series, and with
	# it memory that is not a leak.
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-egress
	ping4 5
	wait_eq 5 "5 $((5 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	serve_bg "$BATS_TEST_TMPDIR/serve.log"
	local out before after
	# Warm-up at the same concurrency: every thread's malloc arena exists before.
	in_b ab -q -n 1000 -c 8 "$SERVE_URL/metrics" >/dev/null
	before=$(vm_rss_kb "$SERVE_PID")
	out=$(in_b ab -q -n 4000 -c 8 "$SERVE_URL/metrics")
	after=$(vm_rss_kb "$SERVE_PID")
	echo "$out"
	echo "VmRSS before ${before} kB, after ${after} kB"
	grep -qE '^Complete requests: +4000$' <<<"$out"
	grep -qE '^Failed requests: +0$' <<<"$out"
	if grep -q 'Non-2xx responses' <<<"$out"; then
		echo "FAIL: some responses were not 2xx" >&2
		return 1
	fi
	# A leak of even 100 bytes a request would be 400 kB.
	[ $((after - before)) -le 256 ] || {
		echo "FAIL: VmRSS grew by $((after - before)) kB over 4000 requests" >&2
		return 1
	}
	assert_eq "$(http_code "$SERVE_URL/metrics")" 200 "/metrics afterwards"
}

@test "serve: runs as an unprivileged user with no capability at all" {
	known_traffic
	# The documented setup: a group may read the map pins and search their
	# directory; the service sees the pin directory through a read-only
	# bind mount (/sys/fs/bpf itself stays 0700).
	chgrp 65534 "$PIN" "$PIN"/traffic_*
	chmod 0750 "$PIN"
	chmod 0640 "$PIN"/traffic_*
	local ro log=$BATS_TEST_TMPDIR/serve.log
	ro=$(mktemp -d /tmp/tc-e2e-pins.XXXXXX)
	TMP_DIRS+=("$ro")
	chmod 0755 "$ro"
	nsenter --net="/run/netns/$NS_B" unshare --mount --propagation private sh -c \
		'mount --bind -o ro "$1" "$2" && exec setpriv --reuid=65534 --regid=65534 \
			--clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
			"$3" serve --pin-dir "$2"' sh "$PIN" "$ro" "$TFC_BIN" >"$log" 2>&1 3>&- &
	SERVE_PID=$!
	BG_PIDS+=("$SERVE_PID")
	serve_wait "$log"
	grep -E '^(Uid|CapPrm|CapEff|CapBnd|CapAmb):' "/proc/$SERVE_PID/status"
	assert_eq "$(awk '/^Uid:/ { print $2 }' "/proc/$SERVE_PID/status")" 65534 "uid"
	assert_eq "$(awk '/^CapEff:/ { print $2 }' "/proc/$SERVE_PID/status")" 0000000000000000 \
		"effective capabilities"
	assert_eq "$(exported_lines traffic_counter_bytes_total)" "$(dump_lines bytes)" "series"

	# Without read permission on the pins: one clear line, exit 1.
	chmod 0600 "$PIN"/traffic_*
	run --separate-stderr nsenter --net="/run/netns/$NS_B" unshare --mount \
		--propagation private sh -c 'mount --bind -o ro "$1" "$2" && exec setpriv \
			--reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
			--bounding-set=-all "$3" serve --pin-dir "$2" --listen 127.0.0.1:0' \
		sh "$PIN" "$ro" "$TFC_BIN"
	assert_error_status 1
	[[ $stderr == *"Permission denied"*"read permission on the pin"* ]]
}

@test "serve: clear errors for a taken port, missing pins and bad options" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	serve_bg "$BATS_TEST_TMPDIR/serve.log"
	run --separate-stderr tfc_in "$NS_B" serve
	assert_error_status 1
	[[ $stderr == *"127.0.0.1:10437"*"already in use"* ]]
	run --separate-stderr tfc_in_pin "$PIN-missing" "$NS_B" serve --listen 127.0.0.1:0
	assert_error_status 1
	[[ $stderr == *"no map pinned at $PIN-missing/traffic_counters_ip"* ]]
	local bad
	for bad in "--listen nocolon" "--listen 127.0.0.1:65536" "--listen [::1:80" \
		"--max-series -1" "--max-series lots" "--aggregate-prefix 33" \
		"--aggregate-prefix 24,129" "--no-such-option"; do
		# shellcheck disable=SC2086 # split on purpose
		run --separate-stderr tfc_in "$NS_B" serve $bad
		echo "serve $bad: $status $stderr"
		assert_usage_error
	done
	kill -0 "$SERVE_PID"
}

@test "serve: SIGTERM and SIGINT stop it cleanly; a restart neither resets nor double-counts" {
	known_traffic
	local log=$BATS_TEST_TMPDIR/serve.log before after i sig
	serve_bg "$log"
	before=$(exported_lines traffic_counter_bytes_total)
	for sig in TERM INT; do
		kill -s "$sig" "$SERVE_PID"
		for ((i = 0; i < 50; i++)); do
			kill -0 "$SERVE_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$SERVE_PID" 2>/dev/null; then
			echo "FAIL: serve still runs 5 s after SIG$sig" >&2
			return 1
		fi
		wait "$SERVE_PID" # its exit status: 0
		grep -q "stopping on signal" "$log"
		# The port is free again at once, and the counters are the maps'.
		serve_bg "$log"
		after=$(exported_lines traffic_counter_bytes_total)
		assert_eq "$after" "$before" "series after a restart ($sig)"
	done
}

@test "serve: /metrics with 65536 IP entries (timing printed)" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B" --ip-map-size 65536
	local fill want_bytes want_packets t times=() i
	fill=$("$TFC_HELPERS/fill_ip_map" "$PIN/traffic_counters_ip" 65536 "$IFX_B")
	echo "$fill"
	read -r _ _ _ want_bytes _ want_packets <<<"$fill"
	assert_eq "$(status_json "$NS_B" | jq '.maps[] | select(.name == "traffic_counters_ip")
		| .entries')" 65536 "IP map entries"
	serve_bg "$BATS_TEST_TMPDIR/serve.log" --max-series 0
	for ((i = 0; i < 5; i++)); do
		t=$(curl_b -o "$BATS_TEST_TMPDIR/m.txt" -w '%{time_total}' "$SERVE_URL/metrics")
		times+=("$t")
	done
	echo "# /metrics, 65536 entries, no limit: ${times[*]} s ($(wc -c <"$BATS_TEST_TMPDIR/m.txt") bytes)" >&3
	assert_eq "$(grep -c '^traffic_counter_bytes_total{' "$BATS_TEST_TMPDIR/m.txt")" 65536 "series"
	assert_eq "$(grep '^traffic_counter_bytes_total{' "$BATS_TEST_TMPDIR/m.txt" | sum_col)" \
		"$want_bytes" "sum of bytes"
	assert_eq "$(grep '^traffic_counter_packets_total{' "$BATS_TEST_TMPDIR/m.txt" | sum_col)" \
		"$want_packets" "sum of packets"
	for t in "${times[@]}"; do
		awk -v t="$t" 'BEGIN { exit !(t < 5) }' # far above what it takes: a regression guard
	done

	# The default limit: 1000 series + "other", same totals.
	serve_bg "$BATS_TEST_TMPDIR/serve1000.log" --listen 127.0.0.1:0
	times=()
	for ((i = 0; i < 5; i++)); do
		times+=("$(curl_b -o "$BATS_TEST_TMPDIR/m.txt" -w '%{time_total}' "$SERVE_URL/metrics")")
	done
	echo "# /metrics, 65536 entries, --max-series 1000: ${times[*]} s" >&3
	assert_eq "$(grep -c '^traffic_counter_bytes_total{' "$BATS_TEST_TMPDIR/m.txt")" 1001 "series"
	assert_eq "$(grep '^traffic_counter_bytes_total{' "$BATS_TEST_TMPDIR/m.txt" | sum_col)" \
		"$want_bytes" "sum of bytes"
}
