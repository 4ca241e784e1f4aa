#!/usr/bin/env bats
# Real captures: every file of the corpus is replayed with tcpreplay
# through a bare veth pair (no address, IPv6 off: nothing but the replayed
# frames crosses it), with the agent at xdp (driver and skb mode) and
# tc-ingress on the receiving veth and at tc-egress (--count-by src) on the
# sending one. For every file, the agent's per-source and per-flow packets
# and bytes equal the oracle (corpus expected.json, from tshark), and the
# frames counted under an address plus the exclusive statistics equal the
# frames that went over the pair and the interface's own counters.
#
# The corpus is the repository's tests/corpus, or TFC_CORPUS. Its README
# explains the oracle and what tcpreplay and veth can and cannot deliver;
# tests/e2e/corpus_oracle.bats checks that tshark still agrees with it.

load helpers

CORPUS=${TFC_CORPUS:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/tests/corpus}

# Frames that cannot be delivered over veth, each with its reason. Nothing
# else is left out: every other frame of every file must arrive and be
# counted. Per file: how many frames are left out, how many of those the
# oracle counts as IP, the bytes tcpreplay would have sent for them (their
# caplen), and what tcpreplay says about them.
declare -gA EXCL_FRAMES=(
	[tcpdump--icmp6_mobileprefix_asan.pcap]=1
	[tcpdump--ipv6_jumbogram_1.pcap]=1
)
declare -gA EXCL_IP_FRAMES=(
	[tcpdump--icmp6_mobileprefix_asan.pcap]=0
	[tcpdump--ipv6_jumbogram_1.pcap]=1
)
declare -gA EXCL_BYTES=(
	[tcpdump--icmp6_mobileprefix_asan.pcap]=0
	[tcpdump--ipv6_jumbogram_1.pcap]=65590
)
declare -gA EXCL_WHY=(
	[tcpdump--icmp6_mobileprefix_asan.pcap]="record 2 has caplen 0 and len 0: a frame under \
14 bytes (non-IP in the oracle), which AF_PACKET refuses, and a caplen-0 record makes \
tcpreplay 4.4.3 abort the rest of the file (exit 255). Record 1 (IPv6, caplen 60 of len \
98358) is sent, as 60 bytes."
	[tcpdump--ipv6_jumbogram_1.pcap]="its only frame, an IPv6 jumbogram of 65590 bytes, needs \
MTU 65576; veth takes at most 65535, so AF_PACKET refuses it (EMSGSIZE) and nothing is sent."
)
declare -gA EXCL_TCPREPLAY=(
	[tcpdump--icmp6_mobileprefix_asan.pcap]="255|Invalid packet length"
	[tcpdump--ipv6_jumbogram_1.pcap]="0|Message too long"
)

# Where the oracle and openspec/specs/counting.md part ways on purpose, the expected flows of a
# file are replaced, with the reason; the oracle's own flows are asserted
# too, so that this only covers the frame it names. The agent walks at
# least 8 IPv6 extension headers (counting.md C8) and marks a frame with more as
# ipv6_ext_limit, keyed by the next header where it stopped, ports 0; the
# oracle walks them all.
declare -gA FLOWS_ORACLE=(
	[libpcap--ipv6_ext_headers.pcap]='[{"family":6,"src":"2001:db8::1","dst":"2001:db8::2","proto":17,"sport":12345,"dport":54321,"packets":1,"l2_bytes":872,"ip_bytes":858}]'
)
declare -gA FLOWS_AGENT=(
	[libpcap--ipv6_ext_headers.pcap]='[{"family":6,"src":"2001:db8::1","dst":"2001:db8::2","proto":44,"sport":0,"dport":0,"packets":1,"l2_bytes":872}]'
)
declare -gA FLOWS_WHY=(
	[libpcap--ipv6_ext_headers.pcap]="its one frame carries 100 IPv6 extension headers (hop-by-hop, \
then 33 x routing type 0 + fragment + destination options) before UDP 12345 > 54321; the \
agent's bounded walk stops after 8, at a fragment header (44), counts the frame under its \
address and remarks it as ipv6_ext_limit."
)
declare -gA EXT_LIMIT_FRAMES=(
	[libpcap--ipv6_ext_headers.pcap]=1
)

VETH_MAX_MTU=65535
ETH_MIN_MTU=68

setup() {
	if [ ! -f "$CORPUS/expected.json" ]; then
		echo "FAIL: no corpus at $CORPUS (expected.json missing): the repository keeps it" \
			"in tests/corpus; restore it (git checkout -- tests/corpus) or set TFC_CORPUS" >&2
		return 1
	fi
	need_tools jq
	mapfile -t CORPUS_FILES < <(jq -r 'keys[]' "$CORPUS/expected.json")
}

teardown() {
	tfc_e2e_teardown
}

# ----------------------------------------------------------- comparison --

# Compares one file's counts with the oracle. Inputs (slurped files): $b and
# $a, snapshots before and after the replay; $e, the file's entry in
# expected.json. Arguments:
# file, direction and ifindex the entries must carry, $excl (frames left
# out, see EXCL_*), $l2drop (bytes per frame the interface counter leaves
# out), $flows (compare the flow map too). Prints one object: the list of
# mismatches (empty when all is exact) and a summary line.
# shellcheck disable=SC2016 # jq program, not shell
COMPARE_JQ='
def tab(k; b): reduce .[] as $x ({}; .[$x | k] |=
	{packets: ((.packets // 0) + $x.packets), bytes: ((.bytes // 0) + ($x | b))});
def minus($old): . as $new
	| reduce ((($new | keys) + ($old | keys)) | unique)[] as $k ({};
		{packets: (($new[$k].packets // 0) - ($old[$k].packets // 0)),
		 bytes: (($new[$k].bytes // 0) - ($old[$k].bytes // 0))} as $d
		| if $d.packets != 0 or $d.bytes != 0 then .[$k] = $d else . end);
def cmp($what; $exp; $obs): [((($exp | keys) + ($obs | keys)) | unique)[] as $k
	| ($exp[$k] // {packets: 0, bytes: 0}) as $x | ($obs[$k] // {packets: 0, bytes: 0}) as $o
	| select($x != $o)
	| "\($what) \($k): expected \($x.packets) packets \($x.bytes) bytes, observed \($o.packets) packets \($o.bytes) bytes"];
def where: if .direction == $dir and .ifindex == $ifx then ""
	else " [direction \(.direction) ifindex \(.ifindex)]" end;
def sum: {packets: (map(.packets) | add // 0), bytes: (map(.bytes) | add // 0)};

$e[0] as $E | $b[0] as $B | $a[0] as $A
| (if ($E.stats.truncated_frames // 0) > 0 then "l2_cap_bytes" else "l2_bytes" end) as $bk
| ($E.per_src_ip | map(.packets) | add // 0) as $ip_frames
| {packets: ($E.stats.frames - $excl.frames), bytes: ($E.stats[$bk] - $excl.bytes)} as $delivered
| [] as $bad
# Expected per source: the oracle, less the frames left out (all of them or
# none: a partial exclusion of IP frames could not be attributed).
| (if $excl.ip_frames == 0 then $E.per_src_ip
   elif $excl.ip_frames == $ip_frames then {}
   else error("\($file): \($excl.ip_frames) of \($ip_frames) IP frames left out") end) as $src
| ($src | to_entries | map({key: "\(.key) (IPv\(.value.family))",
	value: {packets: .value.packets, bytes: .value[$bk]}}) | from_entries) as $xip
| ($A.ip | tab("\(.ip) (IPv\(.family))\(where)"; .bytes)
	| minus($B.ip | tab("\(.ip) (IPv\(.family))\(where)"; .bytes))) as $oip
| $bad + cmp("source"; $xip; $oip) | . as $bad
# Flows: l2 bytes; with caplen < len the oracle has no per-flow caplen sum,
# but a flow that is all of its source carries the source`s l2_cap_bytes.
| (if $flows then
	(if $excl.ip_frames > 0 then [] elif $agent_flows != null then $agent_flows else $E.flows end) as $ef
	| ($ef | map(. as $f | {key: "\(.src) > \(.dst) proto \(.proto) ports \(.sport) > \(.dport) (IPv\(.family))",
		value: {packets: .packets, bytes:
			(if $bk == "l2_bytes" then .l2_bytes
			 elif $E.per_src_ip[$f.src].packets == $f.packets then $E.per_src_ip[$f.src].l2_cap_bytes
			 else "no caplen sum for this flow" end)}}) | from_entries) as $xf
	| ($A.flow | tab("\(.src) > \(.dst) proto \(.proto) ports \(.sport) > \(.dport) (IPv\(.family))\(where)"; .bytes)
		| minus($B.flow | tab("\(.src) > \(.dst) proto \(.proto) ports \(.sport) > \(.dport) (IPv\(.family))\(where)"; .bytes))) as $of
	| $bad + cmp("flow"; $xf; $of)
  else $bad end) | . as $bad
# Exclusive statistics: every reason but the two remarks on counted frames.
| (($A.stats | keys) - ["l4_truncated", "ipv6_ext_limit"]) as $ex
| ($A.stats | with_entries(.value |= {packets, bytes}) | minus($B.stats)) as $sd
| ([$ex[] | $sd[.] // empty] | sum) as $ost
| ($xip | to_entries | map(.value) | sum) as $xipt
| ($oip | to_entries | map(.value) | sum) as $oipt
| {packets: ($delivered.packets - $xipt.packets), bytes: ($delivered.bytes - $xipt.bytes)} as $xst
| $bad + cmp("exclusive statistics (frames not counted under an address)"; {all: $xst}; {all: $ost})
| . + (if $xst.packets != $E.non_ip_frames - ($excl.frames - $excl.ip_frames)
	then ["oracle: non_ip_frames \($E.non_ip_frames) does not add up"] else [] end)
| . + cmp("frames accounted (addresses + exclusive statistics) vs frames replayed";
	{all: $delivered}; {all: {packets: ($oipt.packets + $ost.packets), bytes: ($oipt.bytes + $ost.bytes)}})
| . + cmp("interface \($cdir) counter"; {all: {packets: $delivered.packets,
		bytes: ($delivered.bytes - $l2drop * $delivered.packets)}};
	{all: {packets: ($A.ifc.packets - $B.ifc.packets), bytes: ($A.ifc.bytes - $B.ifc.bytes)}})
| . + cmp("remark ipv6_ext_limit (more IPv6 extension headers than the walk takes)";
	{all: {packets: $ext_limit}}; {all: {packets: ($sd.ipv6_ext_limit.packets // 0)}})
| . + (if $A.dropped != $B.dropped then ["dropped_packets grew by \($A.dropped - $B.dropped)"] else [] end)
| {mismatches: map("\($file): \(.)"),
   summary: "\($file): \($delivered.packets)/\($E.stats.frames) frames \($delivered.bytes) bytes; by address \($oipt.packets) frames \($oipt.bytes) bytes in \($oip | length) entries; statistics \($sd | with_entries(select(.value.packets != 0)) | map_values(.packets) | tojson)"}
'

# corpus_snapshot NS DEV rx|tx OUT: IP map, flow map, statistics and the
# interface counter in one JSON file.
corpus_snapshot() {
	local ns=$1 dev=$2 cdir=$3 out=$4 tmp=$BATS_TEST_TMPDIR
	tfc_in "$ns" dump-maps --json >"$tmp/snap-ip.json" &&
		tfc_in "$ns" dump-maps --pin "$PIN/traffic_counters_flow" --json >"$tmp/snap-flow.json" &&
		status_json "$ns" >"$tmp/snap-status.json" &&
		ip -n "$ns" -s -j link show "$dev" >"$tmp/snap-if.json" || return 1
	jq -n --slurpfile ip "$tmp/snap-ip.json" --slurpfile flow "$tmp/snap-flow.json" \
		--slurpfile st "$tmp/snap-status.json" --slurpfile ifc "$tmp/snap-if.json" --arg d "$cdir" '
		{ip: $ip[0], flow: $flow[0], stats: $st[0].stats, dropped: $st[0].dropped_packets,
		 ifc: $ifc[0][0].stats64[$d] | {packets, bytes}}' >"$out"
}

# accounted_delta BEFORE AFTER -> frames counted in between (addresses +
# exclusive statistics)
accounted_delta() {
	jq -n --slurpfile b "$1" --slurpfile a "$2" '
		def total: (.ip | map(.packets) | add // 0)
			+ ([.stats | to_entries[] | select(.key != "l4_truncated" and .key != "ipv6_ext_limit")
			    | .value.packets] | add);
		($a[0] | total) - ($b[0] | total)'
}

# replay FILE -> sets REPLAY_RC, REPLAY_OUT, REPLAY_SENT, REPLAY_FAILED
replay() {
	REPLAY_RC=0
	REPLAY_OUT=$(timeout 60 ip netns exec "$NS_A" tcpreplay -q --topspeed -i "$DEV_A" \
		"$CORPUS/$1" 2>&1) || REPLAY_RC=$?
	# No statistics when tcpreplay aborts a file: "?".
	REPLAY_SENT=$(sed -n 's/^[[:space:]]*Successful packets:[[:space:]]*//p' <<<"$REPLAY_OUT")
	REPLAY_FAILED=$(sed -n 's/^[[:space:]]*Failed packets:[[:space:]]*//p' <<<"$REPLAY_OUT")
	: "${REPLAY_SENT:=?}" "${REPLAY_FAILED:=?}"
}

# corpus_case POINT MODE [ATTACH ARGS...]: replay the whole corpus with the
# agent at POINT, compare after each file, report every mismatch at the end.
corpus_case() {
	local point=$1 mode=$2
	shift 2
	tfc_e2e_setup
	need_tools tcpreplay
	make_bare_pair
	local ns dev ifx dir cdir l2drop=0
	if [ "$point" = tc-egress ]; then
		ns=$NS_A dev=$DEV_A ifx=$IFX_A dir=egress cdir=tx
	else
		ns=$NS_B dev=$DEV_B ifx=$IFX_B dir=ingress cdir=rx
	fi
	if [ "$point" = xdp ] && [ "$mode" = driver ]; then
		# veth with a native XDP program counts rx bytes after the
		# Ethernet header is pulled: 14 bytes a frame less than the agent.
		l2drop=14
	fi
	if [ "$point" = xdp ] && [ "$mode" = driver ]; then
		# The MTU the largest file needs, before attach: at 1500 attach
		# would choose the single-buffer program, and veth then refuses a
		# larger MTU on the peer (README: "XDP program choice"). In skb
		# mode the MTU grows after attach: the kernel linearizes each
		# frame for that program, and the counts must stay exact.
		set_pair_mtu "$VETH_MAX_MTU"
	fi
	tfc_attach "$ns" --iface "$dev" --attach-point "$point" --enable-flow-map "$@"
	assert_eq "$(status_json "$ns" | jq -r '.attachments[] | "\(.attach_point) \(.mode)"')" \
		"$point $mode" "attachment"

	local tmp=$BATS_TEST_TMPDIR f mtu n excl want_frames arrived i got res agent_flows
	local -a mismatches=()
	local files=0 frames=0 excluded=0
	# One file per oracle entry: jq reads a small file for each capture.
	mkdir -p "$tmp/oracle"
	while IFS=$'\t' read -r f res; do
		printf '%s\n' "$res" >"$tmp/oracle/$f.json"
	done < <(jq -r 'to_entries[] | "\(.key)\t\(.value | tojson)"' "$CORPUS/expected.json")

	corpus_snapshot "$ns" "$dev" "$cdir" "$tmp/before.json"
	for f in "${CORPUS_FILES[@]}"; do
		n=${EXCL_FRAMES[$f]:-0}
		# What the README's replay check says arrives over veth (MTU 9000,
		# enough for all but the jumbogram) must be what this test expects.
		read -r mtu want_frames arrived < <(jq -r --argjson n "$n" '[.stats.min_mtu_for_replay,
			.stats.frames - $n, .veth_replay_check.mtu_9000.frames_arrived_byte_identical] | @tsv' \
			"$tmp/oracle/$f.json")
		# The smallest MTU that lets every frame through (veth: 68..65535).
		((mtu < ETH_MIN_MTU)) && mtu=$ETH_MIN_MTU
		((mtu > VETH_MAX_MTU)) && mtu=$VETH_MAX_MTU
		set_pair_mtu "$mtu"

		excl="{\"frames\": $n, \"ip_frames\": ${EXCL_IP_FRAMES[$f]:-0}, \"bytes\": ${EXCL_BYTES[$f]:-0}}"
		if [ "$want_frames" != "$arrived" ]; then
			mismatches+=("$f: the corpus README's replay check delivered $arrived frames; this test leaves out $n and expects $want_frames")
		fi

		replay "$f"
		if ((n > 0)); then
			echo "$f: $n frame(s) left out: ${EXCL_WHY[$f]}"
			local want_rc=${EXCL_TCPREPLAY[$f]%%|*} want_msg=${EXCL_TCPREPLAY[$f]#*|}
			if [ "$REPLAY_RC" != "$want_rc" ] || [[ $REPLAY_OUT != *"$want_msg"* ]]; then
				mismatches+=("$f: tcpreplay exited $REPLAY_RC without '$want_msg' (expected exit $want_rc): $REPLAY_OUT")
			fi
		elif [ "$REPLAY_RC" -ne 0 ]; then
			mismatches+=("$f: tcpreplay exited $REPLAY_RC: $REPLAY_OUT")
		fi
		# tcpreplay prints no statistics for the two files with left-out
		# frames (an abort; no frame sent at all): the interface counter
		# (compared below) then tells how many frames went over.
		if [ "$REPLAY_SENT" != "$want_frames" ] && { ((n == 0)) || [ "$REPLAY_SENT" != "?" ]; }; then
			mismatches+=("$f: tcpreplay sent $REPLAY_SENT frames ($REPLAY_FAILED failed), expected $want_frames")
		fi

		# Frames are counted as they are sent (veth receives on the sending
		# CPU); wait a little only when they are not all there yet.
		for ((i = 0; i < 30; i++)); do
			corpus_snapshot "$ns" "$dev" "$cdir" "$tmp/after.json"
			got=$(accounted_delta "$tmp/before.json" "$tmp/after.json")
			[ "$got" -lt "$want_frames" ] || break
			sleep 0.1
		done
		agent_flows=null
		if [ -n "${FLOWS_AGENT[$f]:-}" ]; then
			echo "$f: flows expected as openspec/specs/counting.md has them, not as the oracle: ${FLOWS_WHY[$f]}"
			if ! jq -e --argjson o "${FLOWS_ORACLE[$f]}" '.flows == $o' \
				"$tmp/oracle/$f.json" >/dev/null; then
				mismatches+=("$f: the oracle's flows are not the ones FLOWS_ORACLE names")
			fi
			agent_flows=${FLOWS_AGENT[$f]}
		fi
		res=$(jq -n --slurpfile b "$tmp/before.json" --slurpfile a "$tmp/after.json" \
			--slurpfile e "$tmp/oracle/$f.json" --arg file "$f" --arg dir "$dir" \
			--argjson ifx "$ifx" --arg cdir "$cdir" --argjson excl "$excl" \
			--argjson l2drop "$l2drop" --argjson flows true --argjson agent_flows "$agent_flows" \
			--argjson ext_limit "${EXT_LIMIT_FRAMES[$f]:-0}" "$COMPARE_JQ") || {
			mismatches+=("$f: comparison failed")
			res='{"mismatches": [], "summary": ""}'
		}
		echo "$(jq -r .summary <<<"$res") (MTU $mtu)"
		mapfile -t -O "${#mismatches[@]}" mismatches < <(jq -r '.mismatches[]' <<<"$res")
		mv "$tmp/after.json" "$tmp/before.json"
		files=$((files + 1))
		frames=$((frames + want_frames))
		excluded=$((excluded + n))
	done
	echo "$point $mode: $files files, $frames frames replayed and compared, $excluded left out"

	corpus_verify "$ns" "$dev" "$dir" "$l2drop" || mismatches+=("verify (see above)")

	if [ "${#mismatches[@]}" -ne 0 ]; then
		echo "FAIL: ${#mismatches[@]} mismatch(es) at $point $mode:" >&2
		printf '  %s\n' "${mismatches[@]}" >&2
		return 1
	fi
	assert_eq "$files" "$(jq length "$CORPUS/expected.json")" "files compared"
}

# corpus_verify NS DEV DIRECTION L2DROP: `traffic-counter verify` over one
# second while the largest file is replayed: it must reconcile (saying that
# the interface leaves out the Ethernet header where it does), with the
# whole file inside its window.
corpus_verify() {
	local ns=$1 dev=$2 dir=$3 l2drop=$4 f=zeek--ssh_ssh.pcap try v frames
	frames=$(jq --arg f "$f" '.[$f].stats.frames' "$CORPUS/expected.json")
	set_pair_mtu "$(jq --arg f "$f" '.[$f].stats.min_mtu_for_replay' "$CORPUS/expected.json")"
	local tmp=$BATS_TEST_TMPDIR pid
	for ((try = 1; try <= 3; try++)); do
		tfc_in "$ns" verify --iface "$dev" --interval 1 --json >"$tmp/verify.json" &
		pid=$!
		sleep 0.3 # verify has read its first snapshot
		replay "$f"
		wait "$pid" || true
		v=$(cat "$tmp/verify.json")
		echo "verify ($try): $v"
		if [ "$(jq -r .ok <<<"$v")" != true ]; then
			echo "FAIL: verify does not reconcile $dev: $v" >&2
			return 1
		fi
		assert_eq "$(jq -r --arg d "$dir" '.directions[] | select(.direction == $d)
			| .iface_bytes_exclude_l2' <<<"$v")" "$([ "$l2drop" -eq 14 ] && echo true || echo false)" \
			"verify: interface bytes without the Ethernet header" || return 1
		[ "$(jq -r '.directions[0].agent_packets' <<<"$v")" != "$frames" ] || return 0
	done
	echo "FAIL: verify never saw the $frames frames of $f in its window: $v" >&2
	return 1
}

@test "corpus: every capture has an oracle entry; the left-out frames are the README's" {
	local -a pcaps
	mapfile -t pcaps < <(cd "$CORPUS" && printf '%s\n' *.pcap | LC_ALL=C sort)
	assert_eq "${pcaps[*]}" "${CORPUS_FILES[*]}" "pcap files vs expected.json keys"
	assert_eq "${#pcaps[@]}" 46 "number of captures"
	# Each file the replay check could not deliver in full is in EXCL_*, with
	# as many frames, and no other.
	local f n
	for f in "${CORPUS_FILES[@]}"; do
		n=$(jq --arg f "$f" '.[$f].veth_replay_check.mtu_9000.frames_not_delivered' \
			"$CORPUS/expected.json")
		assert_eq "${EXCL_FRAMES[$f]:-0}" "$n" "frames of $f left out vs the README's replay check"
	done
	# The jumbogram really cannot go over veth; the caplen-0 record is there.
	assert_eq "$(jq '."tcpdump--ipv6_jumbogram_1.pcap".stats.min_mtu_for_replay' \
		"$CORPUS/expected.json")" 65576 "jumbogram MTU"
	((65576 > VETH_MAX_MTU))
	assert_eq "$(jq -c '."tcpdump--icmp6_mobileprefix_asan.pcap".non_ip_breakdown' \
		"$CORPUS/expected.json")" '{"short-frame(<14 bytes captured)":1}' "short frame"
}

@test "corpus replay at xdp driver mode: per-source, per-flow and statistics exact" {
	corpus_case xdp driver --xdp-mode driver
}

@test "corpus replay at xdp skb mode: per-source, per-flow and statistics exact" {
	corpus_case xdp skb --xdp-mode skb
}

@test "corpus replay at tc-ingress: per-source, per-flow and statistics exact" {
	local want=netlink
	kernel_has_tcx && want=tcx
	corpus_case tc-ingress "$want"
}

@test "corpus replay at tc-egress --count-by src: per-source, per-flow and statistics exact" {
	local want=netlink
	kernel_has_tcx && want=tcx
	corpus_case tc-egress "$want" --count-by src
}
