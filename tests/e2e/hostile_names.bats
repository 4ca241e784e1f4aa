#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $status/$stderr
# Interfaces renamed to hostile names (issue 18 point 6): over rtnetlink a
# name may hold any bytes but '/', ':', whitespace and NUL, so an escape
# sequence, a quote, a backslash, control characters and bytes that are
# not UTF-8. JSON outputs must stay valid UTF-8 JSON, text outputs must
# show such bytes escaped (\xNN, never raw), Prometheus' exposition must
# stay parseable, and serve must show a rename on the next scrape.
#
# All of it in the receiver namespace, on a veth pair of its own whose two
# ends carry the hostile names: traffic sent out of H0 (counted at its
# tc-egress) arrives at H1 (counted at its XDP).

load helpers
load serve_helpers

# ESC [31m, a quote, a backslash, U+0001: all valid UTF-8, so JSON keeps
# them exactly (escaped); text shows them as below.
H0=$'\e[31m"q\\\x01'
H0_SHOWN='\x1b[31m"q\\\x01'
# Not UTF-8 (0xff, 0xe9) around a C1 control (U+009B, 8-bit CSI).
H1=$'\xff\xc2\x9bz\xe9'
H1_SHOWN='\xff\xc2\x9bz\xe9'
H1_JSON=$'\ufffd\u009bz\ufffd' # each invalid byte: U+FFFD
# What H1 is renamed to while serve runs.
H2=$'r\xfe\x1b'
H2_SHOWN='r\xfe\x1b'
NET=198.19.7

setup() {
	tfc_e2e_setup
	need_tools python3 curl promtool
	# shellcheck disable=SC2034 # read by bg_stop_all (helpers.bash)
	BG_PIDS=()
	make_pair
	hostile_pair
}

teardown() {
	bg_stop_all
	tfc_e2e_teardown
}

# hostile_pair: a veth pair named H0 and H1 in the receiver namespace, H0
# counted at tc-egress and H1 at XDP, the flow map on, and 4 UDP datagrams
# of 10 bytes sent out of H0 to a static neighbour; waits until counted.
hostile_pair() {
	ip -n "$NS_B" link add "$H0" type veth peer name "$H1"
	local dev
	for dev in "$H0" "$H1"; do
		ip -n "$NS_B" link set "$dev" addrgenmode none
		ip -n "$NS_B" link set "$dev" up
	done
	ip -n "$NS_B" addr add "$NET.1/24" dev "$H0"
	ip -n "$NS_B" neigh add "$NET.5" lladdr 02:00:00:00:00:05 dev "$H0" nud permanent
	# Not ifindex_of: ip -j writes these names unescaped, which jq refuses.
	IFX_H0=$(ip -n "$NS_B" -o link show dev "$H0" | cut -d: -f1)
	IFX_H1=$(ip -n "$NS_B" -o link show dev "$H1" | cut -d: -f1)
	tfc_attach "$NS_B" --iface "$H0" --attach-point tc-egress --enable-flow-map
	tfc_attach "$NS_B" --iface "$H1" --attach-point xdp --xdp-mode skb
	timeout 30 ip netns exec "$NS_B" "$TFC_HELPERS/udp_send" "$NET.5" 9 4000 4 10 100 >/dev/null
	wait_eq 5 "4 $((4 * (14 + 20 + 8 + 10)))" ip_counts "$NS_B" "$NET.5" egress "$IFX_H0"
}

# json_check FILE [PY_EXPR]: FILE is valid UTF-8 and one JSON document with
# no raw control byte (C0 but newline, DEL, C1); PY_EXPR, if given, is true
# of the document `d` (with H0, H1_JSON, IFX_H0, IFX_H1 defined).
json_check() {
	python3 - "$1" "${2:-True}" "$H0" "$H1_JSON" "$IFX_H0" "$IFX_H1" <<'PY'
import json, re, sys
path, expr = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
text = raw.decode("utf-8")  # strict: raises on invalid UTF-8
bad = re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", text)
if bad:
    sys.exit("raw control character %r at %d" % (bad.group(), bad.start()))
d = json.loads(text)
env = {"d": d, "H0": sys.argv[3].encode("utf-8", "surrogateescape").decode("utf-8"),
       "H1_JSON": sys.argv[4], "IFX_H0": int(sys.argv[5]), "IFX_H1": int(sys.argv[6])}
if not eval(expr, env):
    sys.exit("not true of the document: " + expr)
PY
}

# text_check FILE: valid UTF-8 with no raw control byte (C0 but newline,
# DEL, C1); so no escape sequence can reach the terminal.
text_check() {
	python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], "rb").read().decode("utf-8")
bad = re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", text)
if bad:
    sys.exit("raw control character %r at %d" % (bad.group(), bad.start()))
PY
}

# metrics_check FILE: every line of a Prometheus text exposition parses
# (UTF-8; label values with only \\, \" and \n escapes); prints the
# unescaped device label values, one a line, sorted and unique.
metrics_check() {
	python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], "rb").read().decode("utf-8")
value = r'"((?:[^"\\\n]|\\[\\"n])*)"'
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{(?:[a-zA-Z_][a-zA-Z0-9_]*=' + value +
                    r',?)*\})? [-+0-9.eEInfa]+$')
devices = set()
for n, line in enumerate(text.split("\n"), 1):
    if not line or line.startswith("#"):
        continue
    if not sample.match(line):
        sys.exit("line %d does not parse: %r" % (n, line))
    for m in re.finditer(r'device=' + value, line):
        devices.add(re.sub(r'\\(.)', lambda e: "\n" if e.group(1) == "n" else e.group(1),
                           m.group(1)))
print("\n".join(sorted(devices)))
PY
}

@test "hostile names: dump-maps --json and --csv and its table" {
	local out=$BATS_TEST_TMPDIR
	tfc_in "$NS_B" dump-maps --json >"$out/ip.json"
	json_check "$out/ip.json" \
		'any(r["ifindex"] == IFX_H0 and r["ifname"] == H0 and r["packets"] == 4 for r in d)'
	tfc_in "$NS_B" dump-maps --pin "$PIN/traffic_counters_flow" --json >"$out/flow.json"
	json_check "$out/flow.json" 'any(r["ifindex"] == IFX_H0 and r["ifname"] == H0 for r in d)'
	# XDP on H1 counts what H0 sent: the name that is not UTF-8.
	wait_eq 5 "4 $((4 * (14 + 20 + 8 + 10)))" ip_counts "$NS_B" "$NET.1" ingress "$IFX_H1"
	tfc_in "$NS_B" dump-maps --json >"$out/ip.json"
	json_check "$out/ip.json" 'any(r["ifindex"] == IFX_H1 and r["ifname"] == H1_JSON for r in d)'
	tfc_in "$NS_B" dump-maps >"$out/table"
	tfc_in "$NS_B" dump-maps --csv >"$out/csv"
	text_check "$out/table"
	grep -qF "$H0_SHOWN" "$out/table"
	grep -qF "$H1_SHOWN" "$out/table"
	text_check "$out/csv"
	# CSV quotes a field with a quote in it, and doubles the quote.
	grep -qF ",\"${H0_SHOWN//\"/\"\"}\"," "$out/csv"
	grep -qF ",$H1_SHOWN," "$out/csv"
}

@test "hostile names: status --json and its text" {
	local out=$BATS_TEST_TMPDIR
	tfc_in "$NS_B" status --json >"$out/status.json"
	json_check "$out/status.json" \
		'sorted(a["ifname"] for a in d["attachments"]) == sorted([H0, H1_JSON])'
	tfc_in "$NS_B" status >"$out/status.txt"
	text_check "$out/status.txt"
	grep -qF "$H0_SHOWN" "$out/status.txt"
	grep -qF "$H1_SHOWN" "$out/status.txt"
}

@test "hostile names: verify --json and its text; top's plain report" {
	local out=$BATS_TEST_TMPDIR rc=0
	tfc_in "$NS_B" verify --iface "$H0" --interval 0.1 --json >"$out/verify.json" || rc=$?
	assert_eq "$rc" 0 "verify --json exit"
	json_check "$out/verify.json" 'd["iface"] == H0 and d["ok"] is True'
	rc=0
	tfc_in "$NS_B" verify --iface "$H1" --interval 0.1 >"$out/verify.txt" 2>&1 || rc=$?
	assert_eq "$rc" 0 "verify exit"
	text_check "$out/verify.txt"
	grep -qF "$H1_SHOWN ingress agent" "$out/verify.txt"
	tfc_in "$NS_B" top --once --interval 0.1 >"$out/top.txt"
	text_check "$out/top.txt"
	grep -qF "$H0_SHOWN" "$out/top.txt"
}

@test "hostile names: error messages show the name escaped, on one line" {
	local rc=0
	tfc_in "$NS_B" verify --iface "$H2" --interval 0.1 >/dev/null 2>"$BATS_TEST_TMPDIR/err" ||
		rc=$?
	assert_eq "$rc" 1 "verify of an interface that does not exist"
	text_check "$BATS_TEST_TMPDIR/err"
	assert_eq "$(grep -c '' "$BATS_TEST_TMPDIR/err")" 1 "lines on stderr"
	grep -qF "no such interface '$H2_SHOWN'" "$BATS_TEST_TMPDIR/err"
}

@test "hostile names: /metrics parses, and a rename shows on the next scrape" {
	local m=$BATS_TEST_TMPDIR/metrics devices rc=0
	serve_bg "$BATS_TEST_TMPDIR/serve.log" --listen 127.0.0.1:0
	scrape() { curl_b "$SERVE_URL/metrics"; }
	scrape >"$m"
	devices=$(metrics_check "$m")
	echo "devices: $devices"
	grep -qxF "$H0_SHOWN" <<<"$devices"
	grep -qxF "$H1_SHOWN" <<<"$devices"
	promtool check metrics <"$m" >"$BATS_TEST_TMPDIR/promtool" 2>&1 || rc=$?
	cat "$BATS_TEST_TMPDIR/promtool"
	# Exit 1 is a parse error; 3 the lint finding on the traffic_counter_ prefix.
	[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]
	ip -n "$NS_B" link set "$H1" down
	ip -n "$NS_B" link set "$H1" name "$H2"
	ip -n "$NS_B" link set "$H2" up
	scrape >"$m"
	devices=$(metrics_check "$m")
	echo "after the rename: $devices"
	grep -qxF "$H2_SHOWN" <<<"$devices"
	if grep -qxF "$H1_SHOWN" <<<"$devices"; then
		echo "FAIL: the old name is still a device label after the rename" >&2
		return 1
	fi
}
