#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# export-ipfix against real collectors: nfdump's nfcapd (what nfdump reads
# back must be exactly what was sent, deltas included) and a libfixbuf
# collector for what nfcapd cannot show (TCP, layer2OctetDeltaCount, end
# reasons, the statistics record). Known flows are hand-made frames
# (flow_send): every packet and byte is known, no handshake or ACK adds any.
#
# The collectors and the exporter run in the receiver namespace, on its own
# loopback; traffic is counted at the receiver's XDP hook.

load helpers
load ipfix_helpers

NF_PORT=9995

setup() {
	tfc_e2e_setup
	need_tools nfcapd nfdump ss
	BG_PIDS=()
	NF_DIR=$BATS_TEST_TMPDIR/nfcapd
	mkdir -p "$NF_DIR"
	make_pair
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
}

teardown() {
	bg_stop_all
	tfc_e2e_teardown
}

# ------------------------------------------------------------- helpers --

in_b() { nsenter --net="/run/netns/$NS_B" "$@"; }

# wait_listening udp|tcp PORT: until a socket listens on 127.0.0.1:PORT in B.
wait_listening() {
	local flag=-uln i
	[ "$1" = tcp ] && flag=-tln
	for ((i = 0; i < 50; i++)); do
		in_b ss -H "$flag" "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	echo "FAIL: nothing listens on $1 port $2 in $NS_B" >&2
	return 1
}

nfcapd_start() {
	# nsenter execs the command: $! is nfcapd itself, which a signal must reach.
	nsenter --net="/run/netns/$NS_B" nfcapd -b 127.0.0.1 -p "$NF_PORT" -w "$NF_DIR" -t 3600 \
		>"$BATS_TEST_TMPDIR/nfcapd.log" 2>&1 3>&- &
	NF_PID=$!
	BG_PIDS+=("$NF_PID")
	wait_listening udp "$NF_PORT"
}

# nf_totals SPORT -> "records packets bytes" of the flow from source port
# SPORT, as nfdump reads the files nfcapd wrote (after it stopped).
nf_totals() {
	nfdump -R "$NF_DIR" -o json | jq -r --argjson sp "$1" '
		[.[] | select(.src_port == $sp)]
		| "\(length) \(map(.in_packets) | add // 0) \(map(.in_bytes) | add // 0)"'
}

# nf_field SPORT FIELD -> the distinct values of FIELD over the flow's records.
nf_field() {
	nfdump -R "$NF_DIR" -o json | jq -r --argjson sp "$1" --arg f "$2" '
		[.[] | select(.src_port == $sp) | .[$f] | tostring] | unique | join(",")'
}

logged() { # logged ERE -> "yes" once the exporter's log has a matching line
	grep -Eq "$1" "$EXP_LOG" && echo yes
}

logged_after() { # logged_after N ERE -> "yes" once a line after the first N cycles matches
	awk -v n="$1" '/^cycle: / && ++c > n' "$EXP_LOG" | grep -Eq "$2" && echo yes
}

# ---------------------------------------------------------------- tests --

@test "export-ipfix: nfdump gets every packet and byte of IPv4/IPv6 TCP/UDP flows, in deltas that add up" {
	nfcapd_start
	exporter_start "$BATS_TEST_TMPDIR/exporter.log" \
		--collector "127.0.0.1:$NF_PORT" \
		--interval 1 --active-timeout 1 --idle-timeout 30
	local round
	# Three rounds 2.5 s apart, more than the active timeout plus one interval:
	# each round is in a delta record of its own.
	for round in 1 2 3; do
		flow "$A4" "$B4" tcp 40000 80 $((round + 4)) 100 && F1=$FRAME
		flow "$A4" "$B4" udp 40001 53 $((round * 2)) 200 && F2=$FRAME
		flow "$A6" "$B6" tcp 40002 443 3 300 && F3=$FRAME
		flow "$A6" "$B6" udp 40003 123 $round 48 && F4=$FRAME
		sleep 2.5
	done
	exporter_stop
	stop_pid "$NF_PID"
	assert_eq "$F1 $F2 $F3 $F4" "154 242 374 110" "frame lengths"

	local got recs
	got=$(nf_totals 40000)
	assert_eq "${got#* }" "18 $((18 * F1))" "TCP/IPv4 packets and bytes"
	recs=${got%% *}
	[ "$recs" -ge 3 ] || { echo "FAIL: TCP/IPv4 in $recs records, expected >= 3" >&2; false; }
	got=$(nf_totals 40001)
	assert_eq "${got#* }" "12 $((12 * F2))" "UDP/IPv4 packets and bytes"
	got=$(nf_totals 40002)
	assert_eq "${got#* }" "9 $((9 * F3))" "TCP/IPv6 packets and bytes"
	got=$(nf_totals 40003)
	assert_eq "${got#* }" "6 $((6 * F4))" "UDP/IPv6 packets and bytes"
	recs=${got%% *}
	[ "$recs" -ge 3 ] || { echo "FAIL: UDP/IPv6 in $recs records, expected >= 3" >&2; false; }

	assert_eq "$(nf_field 40000 src4_addr) $(nf_field 40000 dst4_addr)" "$A4 $B4" "IPv4 addresses"
	assert_eq "$(nf_field 40002 src6_addr) $(nf_field 40002 dst6_addr)" "$A6 $B6" "IPv6 addresses"
	assert_eq "$(nf_field 40002 dst_port) $(nf_field 40002 proto)" "443 6" "TCP/IPv6 port, protocol"
	assert_eq "$(nf_field 40003 proto)" "17" "UDP/IPv6 protocol"
	assert_eq "$(nf_field 40000 tcp_flags)" "...AP..." "TCP flags (PSH|ACK)"
	assert_eq "$(nf_field 40000 input_snmp)" "$IFX_B" "ingressInterface"
	# Nothing left behind: the shutdown export removed every flow.
	assert_eq "$(dump_flow_json "$NS_B" | jq length)" 0 "flows left in the map"
}

@test "export-ipfix: idle flows leave the map; traffic across exports is neither lost nor doubled" {
	nfcapd_start
	exporter_start "$BATS_TEST_TMPDIR/exporter.log" \
		--collector "127.0.0.1:$NF_PORT" \
		--interval 1 --active-timeout 1 --idle-timeout 2
	# 30 packets over 3 s: the flow is read by about three exports while it runs.
	flow "$A4" "$B4" udp 41000 9 30 60 100000
	assert_eq "$(in_map 41000)" 1 "flow in the map right after its traffic"
	# Idle for 2 s: the exporter removes it (wait_eq bounds the wait).
	wait_eq 8 0 in_map 41000
	kill -0 "$EXP_PID"
	grep -Eq '^cycle: .* [1-9][0-9]* expired' "$EXP_LOG"
	# The same 5-tuple again: a new entry, exported on its own.
	flow "$A4" "$B4" udp 41000 9 5 60
	assert_eq "$(in_map 41000)" 1 "flow back in the map"
	exporter_stop
	stop_pid "$NF_PID"

	local got
	got=$(nf_totals 41000)
	assert_eq "${got#* }" "35 $((35 * FRAME))" "packets and bytes over every record"
	[ "${got%% *}" -ge 3 ] || { echo "FAIL: only ${got%% *} records: $got" >&2; false; }
}

@test "export-ipfix follows the maps attach --migrate pins: deltas neither lost nor doubled" {
	local old_cycles
	nfcapd_start
	exporter_start "$BATS_TEST_TMPDIR/exporter.log" \
		--collector "127.0.0.1:$NF_PORT" \
		--interval 1 --active-timeout 1 --idle-timeout 30
	flow "$A4" "$B4" udp 42000 9 20 60 50000
	# Exported from the old map at least once before it is replaced.
	wait_eq 5 yes logged '^cycle: [0-9]+ entries, [1-9]'
	old_cycles=$(grep -c '^cycle: ' "$EXP_LOG")
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --migrate --flow-map-size 4096
	echo "migrate: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	flow "$A4" "$B4" udp 42000 9 15 60 50000
	wait_eq 5 yes logged 'is a new map'
	# ... and exported from the new one.
	wait_eq 5 yes logged_after "$old_cycles" '^cycle: [0-9]+ entries, [1-9]'
	exporter_stop
	stop_pid "$NF_PID"
	assert_eq "$(nf_totals 42000 | cut -d' ' -f2-)" "35 $((35 * FRAME))" \
		"packets and bytes over every record"
}

# flow_entry_hex SPORT -> "KEY-HEX|VALUE-HEX" of that flow's entry, as
# bpftool's update takes them.
flow_entry_hex() {
	bpftool -j map dump pinned "$PIN/traffic_counters_flow" |
		jq -r --argjson sp "$1" '.[] | select(.formatted.key.sport == $sp)
			| [(.key | map(ltrimstr("0x")) | join(" ")),
			   (.value | map(ltrimstr("0x")) | join(" "))] | join("|")'
}

@test "export-ipfix waits while attach --migrate moves the flows: none exported twice" {
	local old_cycles entry key value
	nfcapd_start
	exporter_start "$BATS_TEST_TMPDIR/exporter.log" \
		--collector "127.0.0.1:$NF_PORT" \
		--interval 1 --active-timeout 1 --idle-timeout 30
	flow "$A4" "$B4" udp 42002 9 20 60 50000
	wait_eq 5 yes logged '^cycle: [0-9]+ entries, [1-9]'
	# Step 4 of a migration, by hand: the staging directory is there and
	# the flow has left the old map; then it is back with its totals, as a
	# carried flow is once the new map is renamed over the old one.
	entry=$(flow_entry_hex 42002)
	[ -n "$entry" ]
	key=${entry%|*}
	value=${entry#*|}
	mkdir "$PIN/migrating"
	wait_eq 5 yes logged 'attach --migrate is moving the maps'
	# shellcheck disable=SC2086 # one hex byte per word
	bpftool map delete pinned "$PIN/traffic_counters_flow" key hex $key
	sleep 3 # three cycles with the flow gone: none may forget it
	# shellcheck disable=SC2086
	bpftool map update pinned "$PIN/traffic_counters_flow" key hex $key value hex $value
	rmdir "$PIN/migrating"
	old_cycles=$(grep -c '^cycle: ' "$EXP_LOG")
	flow "$A4" "$B4" udp 42002 9 15 60 50000
	wait_eq 5 yes logged_after "$old_cycles" '^cycle: [0-9]+ entries, [1-9]'
	exporter_stop
	stop_pid "$NF_PID"
	assert_eq "$(nf_totals 42002 | cut -d' ' -f2-)" "35 $((35 * FRAME))" \
		"packets and bytes over every record"
}

@test "export-ipfix over TCP: layer2OctetDeltaCount, end reasons, statistics record" {
	collector_start tcp 127.0.0.1 "$BATS_TEST_TMPDIR/collect.out"
	exporter_start "$BATS_TEST_TMPDIR/exporter.log" \
		--collector "127.0.0.1:$FB_PORT" --transport tcp --observation-domain 7 \
		--interval 1 --active-timeout 60 --idle-timeout 2 --octet-delta-count none
	flow "$A4" "$B4" udp 42000 9 3 20 && local f1=$FRAME
	wait_eq 8 0 in_map 42000
	flow "$A6" "$B6" tcp 42001 22 2 0 0 0x12 && local f2=$FRAME
	exporter_stop
	local out=$BATS_TEST_TMPDIR/collect.out
	wait_eq 5 1 grep -c ' 42001 22 ' "$out"

	# flow SRC DST SPORT DPORT PROTO PACKETS L2 OCTETS START END FLAGS IN OUT DIR REASON
	local idle forced
	idle=$(awk '$2 == "'"$A4"'" && $4 == 42000' "$out")
	forced=$(awk '$2 == "'"$A6"'" && $4 == 42001' "$out")
	assert_eq "$(cut -d' ' -f3,5-9 <<<"$idle")" "$B4 9 17 3 $((3 * f1)) 0" \
		"idle record: dst dport proto packets L2 octets (no octetDeltaCount with none)"
	assert_eq "$(cut -d' ' -f12- <<<"$idle")" "0 $IFX_B 0 0 1" \
		"idle record: flags in out direction reason (1: idle timeout)"
	assert_eq "$(cut -d' ' -f3,5-9 <<<"$forced")" "$B6 22 6 2 $((2 * f2)) 0" "forced record"
	assert_eq "$(cut -d' ' -f12,16 <<<"$forced")" "18 4" "SYN|ACK, reason 4 (forced end)"
	local start end now
	start=$(cut -d' ' -f10 <<<"$idle")
	end=$(cut -d' ' -f11 <<<"$idle")
	now=$(($(date +%s%3N)))
	[ "$start" -le "$end" ] && [ $((now - end)) -lt 30000 ] && [ "$end" -le "$now" ] || {
		echo "FAIL: times $start..$end not within the last 30 s of $now" >&2
		false
	}
	# The statistics record: domain, records sent so far, nothing evicted.
	local flows
	flows=$(grep -c '^flow ' "$out")
	assert_eq "$(grep '^stats ' "$out" | tail -1)" "stats 7 $flows 0" "statistics record"
}

@test "export-ipfix over UDP: templates are sent again, a collector started later decodes records" {
	local first=$BATS_TEST_TMPDIR/first.out later=$BATS_TEST_TMPDIR/later.out
	collector_start udp 127.0.0.1 "$first"
	exporter_start "$BATS_TEST_TMPDIR/exporter.log" \
		--collector "127.0.0.1:$FB_PORT" --template-interval 1 \
		--interval 1 --active-timeout 1 --idle-timeout 30
	wait_eq 5 1 grep -c -m1 '^stats ' "$first"
	# A new collector knows no template: it decodes only once they come again.
	stop_pid "$COL_PID"
	collector_start udp 127.0.0.1 "$later"
	flow "$A4" "$B4" udp 44000 9 4 30
	wait_eq 8 1 grep -c " 44000 9 17 4 $((4 * FRAME)) " "$later"
	exporter_stop
}

@test "export-ipfix: flows the LRU evicted before export are counted" {
	# A flow map of 16 entries and 60 one-packet flows: most are evicted.
	tfc_in "$NS_B" detach --all --purge >/dev/null
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map --flow-map-size 16
	nfcapd_start
	exporter_start "$BATS_TEST_TMPDIR/exporter.log" \
		--collector "127.0.0.1:$NF_PORT" --interval 1 --active-timeout 3600 \
		--idle-timeout 3600
	local i
	for ((i = 0; i < 60; i++)); do
		flow "$A4" "$B4" udp $((43000 + i)) 9 1 10
	done
	sleep 1.5
	exporter_stop
	stop_pid "$NF_PID"

	local sent evicted inserts
	sent=$(sed -n 's/^sent \([0-9]*\) records; flows evicted before export: \([0-9]*\)$/\1 \2/p' \
		"$EXP_LOG")
	evicted=${sent#* }
	sent=${sent% *}
	inserts=$(status_json "$NS_B" | jq .flow_inserts)
	[ "$evicted" -ge 40 ] || { echo "FAIL: $evicted evictions, expected >= 40" >&2; false; }
	assert_eq "$((sent + evicted))" "$inserts" "records + evicted = inserts"
	assert_eq "$(nfdump -R "$NF_DIR" -o json | jq length)" "$sent" "records nfcapd got"
	# Kept beside the maps for status: the entries the exporter removed.
	assert_eq "$(ipfix_stat expired)" "$sent" "expired flows in $PIN/traffic_ipfix"
}

@test "export-ipfix: clear errors for a bad collector, and one exporter per map" {
	run --separate-stderr tfc_in "$NS_B" export-ipfix
	assert_usage_error
	run --separate-stderr tfc_in "$NS_B" export-ipfix --collector 127.0.0.1
	assert_usage_error
	[[ $stderr == *"is not HOST:PORT"* ]]
	run --separate-stderr tfc_in "$NS_B" export-ipfix --collector fd00::1:4739
	assert_usage_error
	[[ $stderr == *"[ADDR]:PORT"* ]]
	run --separate-stderr tfc_in "$NS_B" export-ipfix --collector 127.0.0.1:70000
	assert_usage_error
	run --separate-stderr tfc_in "$NS_B" export-ipfix --collector 127.0.0.1:1 --transport sctp
	assert_usage_error
	run --separate-stderr tfc_in "$NS_B" export-ipfix --collector no-such-host.invalid:4739
	assert_error_status 1
	[[ $stderr == *"cannot resolve 'no-such-host.invalid'"* ]]
	run --separate-stderr tfc_in "$NS_B" export-ipfix --collector "127.0.0.1:$FB_PORT" \
		--transport tcp
	assert_error_status 1
	[[ $stderr == *"cannot reach the collector 127.0.0.1:$FB_PORT over tcp"* ]]
	nfcapd_start
	exporter_start "$BATS_TEST_TMPDIR/exporter.log" \
		--collector "127.0.0.1:$NF_PORT"
	run --separate-stderr tfc_in "$NS_B" export-ipfix --collector "127.0.0.1:$NF_PORT"
	assert_error_status 1
	[[ $stderr == *"another export-ipfix already exports"* ]]
	exporter_stop
}
