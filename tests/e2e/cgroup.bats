#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $status
# Per-cgroup counting (attach --attach-point cgroup): a sender and a receiver
# process in cgroups this test makes under the cgroup v2 mount, talking over
# the veth pair. The hooks see L3 bytes of local sockets' packets: a UDP
# datagram of P bytes is 28 + P there. Counts are read with bpftool (per-CPU
# values summed), against the traffic sent and against tc-egress's count on
# the same veth less 14 bytes of Ethernet header a packet.

load helpers

setup() {
	tfc_e2e_setup
	need_tools python3 stat
	CGROOT=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
		/proc/self/mountinfo)
	[ -n "$CGROOT" ] || skip "no cgroup v2 mount here"
	CG=$CGROOT/tfce-$TFCE_ID
	mkdir "$CG" "$CG/snd" "$CG/rcv"
	make_pair nov6
	BG_PIDS=()
	TFCE_PINS+=("$PIN-2" "$PIN-a")
}

teardown() {
	bg_stop_all
	tfc_e2e_teardown
	[ -n "${CG:-}" ] && [ -d "$CG" ] || return 0
	# Only this test's processes are in $CG: end any left, then remove the
	# cgroups, children first, once they are empty.
	echo 1 >"$CG/cgroup.kill" 2>/dev/null || true
	wait_until 5 cg_empty "$CG" || true
	find "$CG" -depth -type d -exec rmdir {} \; 2>/dev/null || true
}

cg_empty() { grep -q '^populated 0' "$1/cgroup.events"; }

# in_cg CGROUP NS CMD...: CMD in cgroup CGROUP and network namespace NS.
in_cg() {
	local cg=$1 ns=$2
	shift 2
	# shellcheck disable=SC2016 # $$ and $1 are the inner shell's
	timeout 60 sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" \
		ip netns exec "$ns" "$@"
}

cg_id() { stat -c %i "$1"; }

# cg_counts [PIN] CGROUP ingress|egress -> "packets bytes" of its key (0 0 when absent)
cg_counts() {
	local pin=$PIN
	[ $# -eq 3 ] && { pin=$1; shift; }
	local id dir=0
	id=$(cg_id "$1")
	[ "$2" = egress ] && dir=1
	bpftool -j map dump pinned "$pin/traffic_counters_cgroup" | jq -r --argjson id "$id" --argjson d "$dir" '
		[.[] | .formatted | select(.key.cgroup_id == $id and .key.direction == $d) | .values[].value]
		| "\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"'
}

# udp_sink COUNT PORT: a receiver in $CG/rcv that reads COUNT datagrams (10 s at most).
udp_sink() {
	in_cg "$CG/rcv" "$NS_B" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[2])))
s.settimeout(10)
n = 0
try:
    while n < int(sys.argv[1]):
        s.recv(65536)
        n += 1
except socket.timeout:
    pass
print(n)' "$1" "$2" >"$BATS_TEST_TMPDIR/sink.out" &
	BG_PIDS+=($!)
	wait_until 5 port_bound "$2"
}

port_bound() { ip netns exec "$NS_B" ss -Hlun "sport = :$1" | grep -q .; }

# udp_from CGROUP COUNT PAYLOAD [INTERVAL_US]: datagrams A -> B:5001 from CGROUP.
udp_from() {
	in_cg "$1" "$NS_A" "$TFC_HELPERS/udp_send" "$B4" 5001 40000 "$2" "$3" "${4:-200}" >/dev/null
}

attach_cg() { tfc_in "$NS_B" attach --attach-point cgroup --cgroup "$CG" "$@"; }

# cg_progs CGROUP -> how many programs of any kind are attached there
cg_progs() { bpftool -j cgroup show "$1" | jq -s "(.[0] // []) | length"; }

@test "cgroup: UDP bytes and packets exact per cgroup and direction, L3 bytes" {
	attach_cg
	[ "$(cg_progs "$CG")" -eq 2 ]
	udp_sink 50 5001
	udp_from "$CG/snd" 50 100
	wait_eq 5 "50 6400" cg_counts "$CG/rcv" ingress
	assert_eq "$(cg_counts "$CG/snd" egress)" "50 6400" "sender egress"
	assert_eq "$(cg_counts "$CG/snd" ingress)" "0 0" "sender ingress"
	assert_eq "$(cg_counts "$CG/rcv" egress)" "0 0" "receiver egress"
	wait "${BG_PIDS[0]}"
	assert_eq "$(cat "$BATS_TEST_TMPDIR/sink.out")" 50 "datagrams received"
}

@test "cgroup: TCP with GSO: sender egress = tc-egress less 14 bytes a packet" {
	ip netns exec "$NS_A" ethtool -K "$DEV_A" tso on gso on >/dev/null 2>&1 || true
	attach_cg
	tfc_in_pin "$PIN-a" "$NS_A" attach --iface "$DEV_A" --attach-point tc-egress
	# A sink in rcv; the sender connects, waits for "go" on stdin, sends 4 MB,
	# waits until every byte is acknowledged, says "done" and waits before closing.
	in_cg "$CG/rcv" "$NS_B" python3 -c '
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 5002)); l.listen(1); l.settimeout(20)
c, _ = l.accept(); c.settimeout(20)
while c.recv(1 << 16):
    pass' &
	BG_PIDS+=($!)
	wait_until 5 tcp_listening 5002
	mkfifo "$BATS_TEST_TMPDIR/go" "$BATS_TEST_TMPDIR/done"
	in_cg "$CG/snd" "$NS_A" python3 -c '
import fcntl, socket, struct, sys, termios, time
s = socket.create_connection(("'"$B4"'", 5002), timeout=20)
open(sys.argv[1]).read(2)
buf = b"x" * 65536
for _ in range(64):
    s.sendall(buf)
for _ in range(200):
    if struct.unpack("i", fcntl.ioctl(s, termios.TIOCOUTQ, b"\0" * 4))[0] == 0:
        break
    time.sleep(0.05)
time.sleep(0.3)
open(sys.argv[2], "w").write("done")
time.sleep(2)' "$BATS_TEST_TMPDIR/go" "$BATS_TEST_TMPDIR/done" &
	BG_PIDS+=($!)
	wait_until 5 tcp_established
	sleep 0.3
	local cg0 tc0 cg1 tc1
	cg0=$(cg_counts "$CG/snd" egress)
	tc0=$(tc_egress_counts)
	echo go >"$BATS_TEST_TMPDIR/go"
	timeout 30 cat "$BATS_TEST_TMPDIR/done" >/dev/null
	cg1=$(cg_counts "$CG/snd" egress)
	tc1=$(tc_egress_counts)
	local pk=$((${cg1% *} - ${cg0% *})) by=$((${cg1#* } - ${cg0#* }))
	local tpk=$((${tc1% *} - ${tc0% *})) tby=$((${tc1#* } - ${tc0#* }))
	echo "cgroup: $pk packets $by bytes; tc-egress: $tpk packets $tby bytes"
	[ "$pk" -gt 64 ]
	assert_eq "$pk" "$tpk" "packets"
	assert_eq "$by" "$((tby - 14 * tpk))" "bytes"
	# GSO was used: fewer skbs than wire packets went through the hook.
	[ "$by" -ge $((64 * 65536)) ]
}

tcp_listening() { ip netns exec "$NS_B" ss -Hltn "sport = :$1" | grep -q .; }
tcp_established() { ip netns exec "$NS_A" ss -Htn state established "dport = :5002" | grep -q .; }

# tc_egress_counts -> "packets bytes" tc-egress counted on the sender's veth to B
tc_egress_counts() {
	tfc_in_pin "$PIN-a" "$NS_A" dump-maps --json | jq -r --arg ip "$B4" '
		[.[] | select(.ip == $ip and .direction == "egress")]
		| "\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"'
}

@test "cgroup: --cgroup-depth 1 adds nested cgroups up under their ancestor" {
	mkdir -p "$CG/svc/a" "$CG/svc/b/c"
	attach_cg --cgroup-depth 1
	assert_eq "$(status_json "$NS_B" | jq -r .cgroups.depth)" 1 "depth in control"
	udp_from "$CG/svc/a" 10 100
	udp_from "$CG/svc/b/c" 20 50
	udp_from "$CG/snd" 5 10
	wait_eq 5 "30 2840" cg_counts "$CG/svc" egress
	assert_eq "$(cg_counts "$CG/svc/a" egress)" "0 0" "no key of its own"
	assert_eq "$(cg_counts "$CG/svc/b/c" egress)" "0 0" "no key of its own"
	assert_eq "$(cg_counts "$CG/snd" egress)" "5 190" "depth-1 cgroup itself"
	# Another depth while attached: refused, one line, nothing changed.
	run --separate-stderr attach_cg --cgroup-depth 2
	[ "$status" -eq 1 ]
	[[ $stderr == *"--cgroup-depth 1, not 2"* ]]
	assert_eq "$(status_json "$NS_B" | jq -r .cgroups.depth)" 1 "depth kept"
}

@test "cgroup: a removed cgroup's counts stay" {
	mkdir "$CG/gone"
	attach_cg
	udp_from "$CG/gone" 7 100
	local id
	id=$(cg_id "$CG/gone")
	wait_eq 5 "7 896" cg_counts "$CG/gone" egress
	rmdir "$CG/gone"
	bpftool -j map dump pinned "$PIN/traffic_counters_cgroup" | jq -e --argjson id "$id" '
		[.[] | .formatted | select(.key.cgroup_id == $id and .key.direction == 1) | .values[].value]
		| (map(.packets) | add) == 7 and (map(.bytes) | add) == 896'
}

@test "cgroup: re-attach in place while traffic flows loses no packet" {
	attach_cg
	local before after
	before=$(bpftool -j cgroup show "$CG" | jq -c '[.[].id] | sort')
	udp_from "$CG/snd" 2000 100 500 &
	BG_PIDS+=($!)
	sleep 0.3
	run attach_cg
	[ "$status" -eq 0 ]
	[[ $output == *"replaced programs"* ]]
	wait "${BG_PIDS[0]}"
	wait_eq 5 "2000 256000" cg_counts "$CG/snd" egress
	after=$(bpftool -j cgroup show "$CG" | jq -c '[.[].id] | sort')
	[ "$before" != "$after" ]
	[ "$(cg_progs "$CG")" -eq 2 ]
}

@test "cgroup: killed at each fault point, the next attach recovers" {
	local step
	for step in loaded linked pinned; do
		TRAFFIC_COUNTER_TEST_KILL_AT=$step run attach_cg
		[ "$status" -eq 137 ] || { echo "$step: exit $status"; return 1; }
		case $step in
		pinned) assert_eq "$(cg_progs "$CG")" 2 "$step: attached" ;;
		*) assert_eq "$(cg_progs "$CG")" 0 "$step: nothing attached" ;;
		esac
		attach_cg
		assert_eq "$(cg_progs "$CG")" 2 "$step: attached after recovery"
		tfc_in "$NS_B" detach --attach-point cgroup --cgroup "$CG"
		assert_eq "$(cg_progs "$CG")" 0 "$step: detached"
	done
	attach_cg
	udp_from "$CG/snd" 9 100
	wait_eq 5 "9 1152" cg_counts "$CG/snd" egress
}

@test "cgroup: another cgroup_skb program there stays attached and keeps counting" {
	# The other program: a second traffic-counter with its own maps.
	tfc_in_pin "$PIN-2" "$NS_B" attach --attach-point cgroup --cgroup "$CG"
	attach_cg
	assert_eq "$(cg_progs "$CG")" 4 "both attached (multi)"
	udp_from "$CG/snd" 11 100
	wait_eq 5 "11 1408" cg_counts "$CG/snd" egress
	wait_eq 5 "11 1408" cg_counts "$PIN-2" "$CG/snd" egress
	tfc_in "$NS_B" detach --attach-point cgroup --cgroup "$CG" --purge
	assert_eq "$(cg_progs "$CG")" 2 "the other one stays"
	udp_from "$CG/snd" 4 100
	wait_eq 5 "15 1920" cg_counts "$PIN-2" "$CG/snd" egress
	if [ "$(ps -p 1 -o comm=)" = systemd ]; then
		echo "systemd is PID 1: IPAccounting coexistence not covered here" >&3
	fi
}

@test "cgroup: detach --all and --purge leave nothing attached or pinned" {
	attach_cg
	status_json "$NS_B" | jq -e --argjson id "$(cg_id "$CG")" \
		'.cgroup_attachments | length == 1 and .[0].cgroup_id == $id and .[0].ingress_prog_id > 0'
	run --separate-stderr tfc_in "$NS_B" detach --purge
	[ "$status" -eq 1 ]
	[[ $stderr == *"cgroup attachment(s) still use the maps"* ]]
	tfc_in "$NS_B" detach --all --purge
	assert_eq "$(cg_progs "$CG")" 0 "nothing attached"
	[ ! -e "$PIN" ]
}

@test "cgroup: usage errors and no such cgroup" {
	run --separate-stderr tfc_in "$NS_B" attach --attach-point cgroup --iface "$DEV_B"
	[ "$status" -eq 2 ]
	run --separate-stderr tfc_in "$NS_B" attach --attach-point cgroup --cgroup-depth 17
	[ "$status" -eq 2 ]
	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --cgroup "$CG"
	[ "$status" -eq 2 ]
	run --separate-stderr tfc_in "$NS_B" attach --attach-point cgroup --cgroup /tmp
	[ "$status" -eq 1 ]
	[[ $stderr == *"is not a cgroup v2 directory"* ]]
	[ ! -e "$PIN" ]
}

@test "cgroup: attach --migrate keeps the cgroup map and re-points the cgroup programs" {
	attach_cg
	udp_from "$CG/snd" 3 100
	wait_eq 5 "3 384" cg_counts "$CG/snd" egress
	tfc_in "$NS_B" attach --iface "$DEV_B" --attach-point tc-egress --ip-map-size 1000 --migrate
	local ctl prog
	ctl=$(bpftool -j map show pinned "$PIN/traffic_control" | jq .id)
	prog=$(status_json "$NS_B" | jq '.cgroup_attachments[0].egress_prog_id')
	bpftool -j prog show id "$prog" | jq -e --argjson c "$ctl" '.map_ids | index($c) != null'
	udp_from "$CG/snd" 2 100
	wait_eq 5 "5 640" cg_counts "$CG/snd" egress
}

@test "cgroup: apply with CGROUP=yes attaches at the cgroup, apply --stop detaches" {
	local conf=$BATS_TEST_TMPDIR/tc.conf
	cat >"$conf" <<CONF
ATTACH=$DEV_B:tc-egress
CGROUP=yes
CGROUP_PATH=$CG
CGROUP_DEPTH=1
CGROUP_MAP_SIZE=128
DETACH_ON_STOP=yes
PURGE_ON_STOP=yes
CONF
	run --separate-stderr tfc_in "$NS_B" apply --config "$conf" --check
	[ "$status" -eq 0 ]
	[[ $output == *"cgroup: $CG, depth 1"* ]]
	tfc_in "$NS_B" apply --config "$conf"
	assert_eq "$(cg_progs "$CG")" 2 "attached at the cgroup"
	status_json "$NS_B" | jq -e '.cgroups.depth == 1 and .cgroups.capacity == 128'
	udp_from "$CG/snd" 4 100
	wait_eq 5 "4 512" cg_counts "$CG/snd" egress
	tfc_in "$NS_B" apply --config "$conf" --stop
	assert_eq "$(cg_progs "$CG")" 0 "detached"
	[ ! -e "$PIN" ]
	printf 'ATTACH=%s:tc-egress\nCGROUP_DEPTH=1\n' "$DEV_B" >"$conf"
	run --separate-stderr tfc_in "$NS_B" apply --config "$conf" --check
	[ "$status" -eq 2 ]
	[[ $stderr == *"need CGROUP=yes"* ]]
}

@test "cgroup: PIN_GROUP gives the cgroup map to the group; others cannot read it" {
	local conf=$BATS_TEST_TMPDIR/tc.conf
	printf 'ATTACH=%s:tc-egress\nCGROUP=yes\nCGROUP_PATH=%s\nPIN_GROUP=65534\n' "$DEV_B" "$CG" >"$conf"
	tfc_in "$NS_B" apply --config "$conf"
	assert_eq "$(stat -c '%g %a' "$PIN/traffic_counters_cgroup")" "65534 640" "cgroup map pin"
	# Another unprivileged user, not of the group: refused by the file mode.
	run --separate-stderr setpriv --reuid=65533 --regid=65533 --clear-groups --inh-caps=-all \
		--bounding-set=-all --no-new-privs bpftool map dump pinned "$PIN/traffic_counters_cgroup"
	[ "$status" -ne 0 ]
	[[ "$stderr$output" == *"Permission denied"* ]]
}
