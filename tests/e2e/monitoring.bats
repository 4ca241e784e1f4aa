#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $output
# shellcheck disable=SC2016 # $job, $__rate_interval... in single quotes are Grafana's or jq's
# The monitoring kit in dist/: the alerting rules pass promtool's checks and
# their unit tests (which a changed threshold breaks), the Grafana dashboard
# is well formed, and every dashboard query and rule runs on a real
# Prometheus scraping serve, which loads the rules and raises
# TrafficCounterDown when serve goes away.
#
# serve and Prometheus run inside the test's receiver namespace, on its
# loopback.

load helpers
load serve_helpers

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
RULES=$ROOT/dist/prometheus/traffic-counter.rules.yml
RULE_TESTS=$ROOT/dist/prometheus/traffic-counter.rules.test.yml
DASHBOARD=$ROOT/dist/grafana/traffic-counter.json
PROM_PORT=9090
SERVE_ADDR=127.0.0.1:10437
# What Grafana would put in place of its variables for this test's target;
# $__rate_interval is at least four scrape intervals (1 s here).
RATE_INTERVAL=15s

setup() {
	need_tools promtool prometheus jq curl
	BG_PIDS=()
}

teardown() {
	bg_stop_all
	tfc_e2e_teardown
}

# ------------------------------------------------------------- helpers --

# prom_api PATH [curl args...]: GET Prometheus' HTTP API in the namespace.
prom_api() {
	local path=$1
	shift
	curl_b -G "$@" "http://127.0.0.1:$PROM_PORT/api/v1/$path"
}

# prom_query EXPR -> the JSON answer of an instant query.
prom_query() { prom_api query --data-urlencode "query=$1"; }

# prom_true EXPR: the query succeeds with a non-empty result.
prom_true() {
	prom_query "$1" | jq -e '.status == "success" and (.data.result | length > 0)' >/dev/null
}

# grafana_expr EXPR -> EXPR with the dashboard's variables replaced as
# Grafana would for this test's Prometheus.
grafana_expr() {
	local e=$1
	e=${e//'$__rate_interval'/$RATE_INTERVAL}
	e=${e//'$job'/traffic-counter}
	e=${e//'$instance'/$SERVE_ADDR}
	echo "$e"
}

# dashboard_problems FILE: one line per structural problem of a Grafana
# dashboard JSON model; nothing when it is well formed.
dashboard_problems() {
	jq -r '
		def problem(cond; msg): if cond then msg else empty end;
		problem((.uid // "") == ""; "no uid"),
		problem((.title // "") == ""; "no title"),
		problem((.schemaVersion | type) != "number" or .schemaVersion < 30; "schemaVersion missing or old"),
		problem([.templating.list[]? | select(.type == "datasource" and .name == "datasource"
			and .query == "prometheus")] | length != 1; "no datasource variable of type prometheus"),
		problem((.panels | length) == 0; "no panels"),
		problem(([.panels[].id] | unique | length) != (.panels | length); "panel ids not unique"),
		(.panels[] | . as $p | "panel \(.id) \(.title // "")" as $n |
			problem((.title // "") == ""; "\($n): no title"),
			problem([.gridPos.x, .gridPos.y, .gridPos.w, .gridPos.h] | map(type == "number") | all | not;
				"\($n): gridPos incomplete"),
			problem((.gridPos.x // 0) + (.gridPos.w // 0) > 24; "\($n): wider than the grid"),
			problem(.datasource.uid != "${datasource}"; "\($n): datasource is not the variable"),
			problem((.fieldConfig.defaults.unit // "") == ""; "\($n): no unit"),
			problem((.targets | length) == 0; "\($n): no targets"),
			(.targets[] |
				problem((.expr // "") == ""; "\($n): a target without expr"),
				problem(.datasource.uid != "${datasource}"; "\($n): a target not on the variable"))),
		(.panels as $ps | range(0; $ps | length) as $i | range($i + 1; $ps | length) as $j
			| $ps[$i].gridPos as $a | $ps[$j].gridPos as $b
			| problem($a.x < $b.x + $b.w and $b.x < $a.x + $a.w and $a.y < $b.y + $b.h and $b.y < $a.y + $a.h;
				"panels \($ps[$i].id) and \($ps[$j].id) overlap"))
	' "$1"
}

# prom_start: Prometheus in the receiver namespace scraping serve every
# second and evaluating the kit's rules every second.
prom_start() {
	local dir=$BATS_TEST_TMPDIR/prom i
	mkdir -p "$dir/data"
	cp "$RULES" "$dir/rules.yml"
	cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - rules.yml
scrape_configs:
  - job_name: traffic-counter
    static_configs:
      - targets: ['$SERVE_ADDR']
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

# serve_start: serve on SERVE_ADDR in the receiver namespace.
serve_start() {
	serve_bg "$BATS_TEST_TMPDIR/serve.log" || return 1
	assert_eq "$SERVE_URL" "http://$SERVE_ADDR" "where serve serves"
}

# alerts_in STATE -> names of the alerts Prometheus has in STATE, sorted.
alerts_in() {
	prom_api alerts | jq -r --arg s "$1" '[.data.alerts[] | select(.state == $s)
		| .labels.alertname] | sort | unique | .[]'
}

# ---------------------------------------------------------------- tests --

@test "monitoring: promtool checks the rules and passes their unit tests" {
	run promtool check rules "$RULES"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"SUCCESS: 11 rules found"* ]]
	run promtool test rules "$RULE_TESTS"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *SUCCESS* ]]
	# Every alert of the rules is tested, firing at least once.
	local alert
	while read -r alert; do
		grep -qx "        alertname: $alert" "$RULE_TESTS" || {
			echo "FAIL: $alert has no unit test" >&2
			return 1
		}
		grep -A2 "alertname: $alert\$" "$RULE_TESTS" | grep -q 'exp_labels' || {
			echo "FAIL: no unit test shows $alert firing" >&2
			return 1
		}
	done < <(sed -n 's/^ *- alert: //p' "$RULES")
}

@test "monitoring: a changed threshold, selector or for: fails the rule unit tests" {
	local dir=$BATS_TEST_TMPDIR/mutant alert expr n=0
	mkdir -p "$dir"
	cp "$RULE_TESTS" "$dir/"
	# ALERT|SED: the alert whose test must fail, and the change.
	while IFS='|' read -r alert expr; do
		sed "$expr" "$RULES" >"$dir/traffic-counter.rules.yml"
		if cmp -s "$RULES" "$dir/traffic-counter.rules.yml"; then
			echo "FAIL: '$expr' changed nothing" >&2
			return 1
		fi
		promtool check rules "$dir/traffic-counter.rules.yml" >/dev/null
		run promtool test rules "$dir/traffic-counter.rules.test.yml"
		if [ "$status" -eq 0 ] || [[ $output != *"alertname: $alert,"* ]]; then
			echo "FAIL: with '$expr' the unit tests still pass for $alert (exit $status):" >&2
			echo "$output" >&2
			return 1
		fi
		n=$((n + 1))
	done <<'EOF'
TrafficCounterDown|/alert: TrafficCounterDown/,/for:/ s/for: 5m/for: 10m/
TrafficCounterTargetMissing|/alert: TrafficCounterTargetMissing/,/for:/ s/for: 10m/for: 2m/
TrafficCounterMapNearlyFull|s|/ traffic_counter_map_capacity > 0.9|/ traffic_counter_map_capacity > 0.96|
TrafficCounterMapNearlyFull|s/map=~"traffic_counters_ip|traffic_counters_flow"/map=~".+"/
TrafficCounterIPMapFull|s/>= traffic_counter_map_capacity{map="traffic_counters_ip"}/> traffic_counter_map_capacity{map="traffic_counters_ip"}/
TrafficCounterPacketsDropped|s/increase(traffic_counter_dropped_packets_total\[5m\]) > 0/increase(traffic_counter_dropped_packets_total[5m]) > 30/
TrafficCounterIPMapFullFrames|s/{reason="ip_map_full"}/{reason=~".+"}/
TrafficCounterFlowEvictions|s|/ traffic_counter_map_capacity{map="traffic_counters_flow"} > 0.9|/ traffic_counter_map_capacity{map="traffic_counters_flow"} > 0.1|
TrafficCounterFlowInsertFailures|s/increase(traffic_counter_flow_insert_failures_total\[5m\]) > 0/increase(traffic_counter_flow_insert_failures_total[5m]) > 5/
TrafficCounterFlowExportStalled|s/\[1d\] offset 15m) > 0/[1d] offset 15m) >= 0/
TrafficCounterIPFIXNotSending|s/increase(traffic_counter_ipfix_records_sent_total\[15m\]) == 0/increase(traffic_counter_ipfix_records_sent_total[15m]) >= 0/
TrafficCounterAddressSeriesLimit|s/(traffic_counter_address_series_limit > 0)/(traffic_counter_address_series_limit >= 0)/
EOF
	assert_eq "$n" 12 "mutations tried"
}

@test "monitoring: the Grafana dashboard is a well-formed, importable model" {
	local problems
	problems=$(dashboard_problems "$DASHBOARD")
	assert_eq "$problems" "" "dashboard problems"
	# The panels the kit promises, with their units.
	jq -e '[.panels[] | select(any(.targets[]; .expr | test("^topk\\(.*rate\\(traffic_counter_bytes_total")))
		| .fieldConfig.defaults.unit] == ["Bps"]' "$DASHBOARD" >/dev/null
	jq -e '[.panels[] | select(any(.targets[]; .expr | test("sum by \\(instance, device, direction\\)")))
		| .fieldConfig.defaults.unit] == ["Bps", "pps"]' "$DASHBOARD" >/dev/null
	jq -e 'any(.panels[]; .fieldConfig.defaults.unit == "percentunit"
		and any(.targets[]; .expr | test("traffic_counter_map_entries.* / traffic_counter_map_capacity")))' \
		"$DASHBOARD" >/dev/null
	jq -e 'any(.panels[]; .fieldConfig.defaults.unit == "pps"
		and any(.targets[]; .expr | test("traffic_counter_dropped_packets_total"))
		and any(.targets[]; .expr | test("sum by \\(instance, reason\\)")))' "$DASHBOARD" >/dev/null
	jq -e 'any(.panels[]; .type == "stat" and any(.targets[]; .expr | startswith("up{")))' \
		"$DASHBOARD" >/dev/null
	# The checks see what is wrong: a panel without unit, one off the grid,
	# one on a fixed datasource, no datasource variable.
	jq 'del(.panels[0].fieldConfig.defaults.unit) | .panels[1].gridPos.x = 20
		| .panels[2].datasource = {"type": "prometheus", "uid": "abc"}
		| .templating.list |= map(select(.type != "datasource"))' "$DASHBOARD" \
		>"$BATS_TEST_TMPDIR/broken.json"
	problems=$(dashboard_problems "$BATS_TEST_TMPDIR/broken.json")
	echo "$problems"
	[[ $problems == *"panel 1 "*": no unit"* ]]
	[[ $problems == *"panel 2 "*": wider than the grid"* ]]
	[[ $problems == *"panel 3 "*": datasource is not the variable"* ]]
	[[ $problems == *"no datasource variable of type prometheus"* ]]
}

@test "monitoring: every dashboard query and rule runs on Prometheus scraping serve" {
	tfc_e2e_setup
	make_pair
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-egress
	ping4 5
	ping6 3
	raw nonip 2 # a per-reason statistic: non_ip
	wait_eq 5 "5 $((5 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"
	wait_eq 5 "2 $((2 * RAW_LEN))" stat_counts "$NS_B" non_ip
	serve_start
	prom_start
	# Three scrapes at least, then more traffic so that the rates have some.
	wait_until 30 prom_true 'count_over_time(up{job="traffic-counter"}[1m]) >= 3' || {
		echo "FAIL: Prometheus did not scrape serve 3 times in 30 s" >&2
		prom_api targets >&2
		return 1
	}
	ping4 5
	wait_until 30 prom_true \
		"sum(increase(traffic_counter_packets_total{address=\"$A4\",direction=\"ingress\"}[1m])) > 0"

	# Every panel query, with Grafana's variables in place, has data.
	local expr e n=0 names metric
	while IFS= read -r expr; do
		e=$(grafana_expr "$expr")
		prom_true "$e" || {
			echo "FAIL: no data for a dashboard query: $e" >&2
			prom_query "$e" >&2
			return 1
		}
		n=$((n + 1))
	done < <(jq -r '.panels[].targets[].expr' "$DASHBOARD")
	assert_eq "$n" "$(jq '[.panels[].targets[]] | length' "$DASHBOARD")" "queries run"
	echo "$n dashboard queries answered"
	# The template variables' label_values() find this target.
	prom_api label/job/values --data-urlencode 'match[]=traffic_counter_build_info' |
		jq -e '.data | index("traffic-counter")' >/dev/null
	prom_api label/instance/values --data-urlencode \
		'match[]=traffic_counter_build_info{job="traffic-counter"}' |
		jq -e --arg i "$SERVE_ADDR" '.data | index($i)' >/dev/null

	# Every traffic_counter_* name the kit uses is one serve exports; the
	# export-ipfix counts only exist once an exporter ran (ipfix13.bats
	# checks them), and none runs here.
	names=$(curl_b "http://$SERVE_ADDR/metrics" | sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p')
	while read -r metric; do
		[[ $metric == traffic_counter_ipfix_* ]] && continue
		grep -qx "$metric" <<<"$names" || {
			echo "FAIL: the kit uses $metric, which serve does not export" >&2
			return 1
		}
	done < <(cat "$RULES" "$DASHBOARD" | grep -o 'traffic_counter_[a-z_]*' | sort -u)

	# Prometheus loaded the 11 rules and evaluates them without error;
	# nothing fires or is pending on this healthy node.
	wait_until 20 eval 'prom_api rules | jq -e "[.data.groups[].rules[] | select(.health == \"ok\")]
		| length == 11"' || {
		echo "FAIL: the rules are not all evaluated with health ok:" >&2
		prom_api rules >&2
		return 1
	}
	assert_eq "$(alerts_in pending)$(alerts_in firing)" "" "alerts on a healthy node"
	# Every rule expression, as Prometheus parsed it, runs by itself too.
	n=0
	while IFS= read -r expr; do
		prom_query "$expr" | jq -e '.status == "success"' >/dev/null || {
			echo "FAIL: rule expression failed: $expr" >&2
			return 1
		}
		n=$((n + 1))
	done < <(prom_api rules | jq -r '.data.groups[].rules[].query | gsub("\n"; " ")')
	assert_eq "$n" 11 "rule expressions run"

	# serve gone: the scrape fails and TrafficCounterDown is pending.
	kill -TERM "$SERVE_PID"
	wait_until 20 eval '[ "$(alerts_in pending)" = TrafficCounterDown ]' || {
		echo "FAIL: TrafficCounterDown not pending 20 s after serve stopped:" >&2
		prom_api alerts >&2
		return 1
	}
}
