#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2154 # bats: each @test is a subshell; run sets $stderr
# Names of cgroup rows (dump-maps --cgroups): real cgroups made under the
# cgroup v2 mount, a service and a fake kubepods tree (systemd driver,
# containerd), a fake kubelet pods dir, and rows written into a pinned
# traffic_counters_cgroup with those cgroups' ids. Each row must say its
# unit, container and pod exactly; a removed cgroup's row stays, marked gone;
# an unprivileged user reads the same rows.
#
# The map is made here with bpftool (the shape the cgroup programs pin), so
# the names are tested apart from the counting.

load helpers

UID_DASH=0a1b2c3d-4e5f-6789-abcd-ef0123456789
UID_US=0a1b2c3d_4e5f_6789_abcd_ef0123456789
CTR=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

setup() {
	tfc_e2e_setup
	need_tools bpftool python3
	CG=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
	[ -n "$CG" ] || skip "no cgroup v2 mount on this host"
	TOP=tfc-cgn-$TFCE_ID
	SVC=$TOP/system.slice/x.service
	POD=$TOP/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$UID_US.slice
	CTRCG=$POD/cri-containerd-$CTR.scope
	mkdir -p "$CG/$SVC" "$CG/$CTRCG"
	# Readable by nobody too: not under the bats run's private temp dir.
	PODS=$(mktemp -d /tmp/tfc-pods-XXXXXX)
	chmod 0755 "$PODS"
	mkdir "$PODS/shop_web-0_$UID_DASH" "$PODS/shop_db-0_11111111-2222-3333-4444-555555555555"
	NCPU=$(possible_cpus)
}

teardown() {
	[ -z "${CG:-}" ] || [ -z "${TOP:-}" ] || [ ! -d "$CG/$TOP" ] ||
		find "$CG/$TOP" -depth -type d -exec rmdir {} + 2>/dev/null || true
	[ -z "${PODS:-}" ] || rm -rf "$PODS"
	tfc_e2e_teardown
}

# possible_cpus -> how many per-CPU slots a map has (bpftool fills each).
possible_cpus() {
	local n=0 part
	local -a parts
	IFS=, read -r -a parts </sys/devices/system/cpu/possible
	for part in "${parts[@]}"; do
		if [[ $part == *-* ]]; then
			n=$((n + ${part#*-} - ${part%-*} + 1))
		else
			n=$((n + 1))
		fi
	done
	echo "$n"
}

# le_bytes FMT VALUES... -> the bytes of a little-endian struct, for bpftool.
le_bytes() {
	python3 -c 'import struct, sys
print(" ".join(str(b) for b in struct.pack(sys.argv[1], *map(int, sys.argv[2:]))))' "$@"
}

# make_map DIR: an empty traffic_counters_cgroup pinned in DIR.
make_map() {
	mkdir -p "$1"
	bpftool map create "$1/traffic_counters_cgroup" type percpu_hash key 16 value 16 \
		entries 4096 name traffic_counter
}

# put_row DIR ID DIRECTION BYTES PACKETS: one row, the same on every CPU.
put_row() {
	local key val
	# shellcheck disable=SC2046 # one word a byte
	key=$(le_bytes '<QB7x' "$2" "$3")
	val=$(le_bytes '<QQ' "$4" "$5")
	# shellcheck disable=SC2086 # one word a byte
	bpftool map update pinned "$1/traffic_counters_cgroup" key $key value $val
}

cg_id() { stat -c %i "$CG/$1"; }

# fill DIR: the service egress, the container ingress and egress.
fill() {
	put_row "$1" "$(cg_id "$SVC")" 1 1000 10
	put_row "$1" "$(cg_id "$CTRCG")" 0 300 3
	put_row "$1" "$(cg_id "$CTRCG")" 1 5000 7
}

dump() { "$TFC_BIN" dump-maps --cgroups --pin-dir "$PIN" --pods-dir "$PODS" "$@"; }

@test "dump-maps --cgroups: exact rows with unit, container and pod namespace/name, in JSON, CSV and the table" {
	local svc ctr want
	make_map "$PIN"
	fill "$PIN"
	svc=$(cg_id "$SVC") ctr=$(cg_id "$CTRCG")

	run --separate-stderr dump --json
	assert_eq "$status" 0 "dump-maps --cgroups --json ($stderr)"
	want=$(jq -nc --arg svc "/$SVC" --arg ctr "/$CTRCG" --argjson s "$svc" --argjson c "$ctr" \
		--argjson n "$NCPU" --arg cid "$CTR" --arg uid "$UID_DASH" '[
		{cgroup_id: $c, path: $ctr, unit: ("cri-containerd-" + $cid + ".scope"),
		 container: $cid, pod: "shop/web-0", pod_uid: $uid, pod_namespace: "shop",
		 pod_name: "web-0", direction: "egress", packets: (7 * $n), bytes: (5000 * $n),
		 gone: false},
		{cgroup_id: $s, path: $svc, unit: "x.service", container: "", pod: "", pod_uid: "",
		 pod_namespace: "", pod_name: "", direction: "egress", packets: (10 * $n),
		 bytes: (1000 * $n), gone: false},
		{cgroup_id: $c, path: $ctr, unit: ("cri-containerd-" + $cid + ".scope"),
		 container: $cid, pod: "shop/web-0", pod_uid: $uid, pod_namespace: "shop",
		 pod_name: "web-0", direction: "ingress", packets: (3 * $n), bytes: (300 * $n),
		 gone: false}]')
	assert_eq "$(jq -c . <<<"$output")" "$want" "rows, largest bytes first"
	[ -z "$stderr" ]

	run --separate-stderr dump --csv --sort packets --top 1
	assert_eq "$status" 0 "dump-maps --cgroups --csv ($stderr)"
	assert_eq "$output" "cgroup_id,path,unit,container,pod,pod_uid,pod_namespace,pod_name,direction,packets,bytes,gone
$svc,/$SVC,x.service,,,,,,egress,$((10 * NCPU)),$((1000 * NCPU)),false" "CSV, most packets first, top 1"

	run --separate-stderr dump --sort ip
	assert_eq "$status" 0 "dump-maps --cgroups ($stderr)"
	assert_eq "${#lines[@]}" 4 "table lines: header and 3 rows"
	[[ ${lines[0]} == "CGROUP "*"PACKETS"*"BYTES"*"CONTAINER"*"UNIT"*"POD"*"PATH" ]]
	# sorted by id: the service was made first
	read -ra f <<<"${lines[1]}"
	assert_eq "${f[*]}" "$svc egress $((10 * NCPU)) $((1000 * NCPU)) - x.service - /$SVC" "service row"
	read -ra f <<<"${lines[2]}"
	assert_eq "${f[*]}" "$ctr ingress $((3 * NCPU)) $((300 * NCPU)) ${CTR:0:12} cri-containerd-$CTR.scope shop/web-0 /$CTRCG" "container row"
}

@test "dump-maps --cgroups: without the pod's directory, the pod is its UID; an id never seen is the id alone" {
	local ctr
	make_map "$PIN"
	fill "$PIN"
	put_row "$PIN" 4242424242 0 1 1
	ctr=$(cg_id "$CTRCG")
	rm -r "${PODS:?}/shop_web-0_$UID_DASH"

	run --separate-stderr dump --json
	assert_eq "$status" 0 "dump-maps ($stderr)"
	assert_eq "$(jq -c --argjson c "$ctr" '[.[] | select(.cgroup_id == $c and .direction == "ingress")
		| .pod, .pod_uid, .pod_namespace, .pod_name, .container]' <<<"$output")" \
		"[\"$UID_DASH\",\"$UID_DASH\",\"\",\"\",\"$CTR\"]" "pod without its directory"
	assert_eq "$(jq -c '[.[] | select(.cgroup_id == 4242424242) | .path, .unit, .gone]' \
		<<<"$output")" '["","",true]' "an unknown id"
}

@test "dump-maps --cgroups: after rmdir the row stays, marked gone" {
	local svc
	make_map "$PIN"
	fill "$PIN"
	svc=$(cg_id "$SVC")
	rmdir "$CG/$SVC"

	run --separate-stderr dump --json
	assert_eq "$status" 0 "dump-maps ($stderr)"
	assert_eq "$(jq -c --argjson s "$svc" '[.[] | select(.cgroup_id == $s) | .gone, .packets]' \
		<<<"$output")" "[true,$((10 * NCPU))]" "removed service"
	assert_eq "$(jq -c '[.[] | select(.gone) ] | length' <<<"$output")" 1 "only it is gone"

	run --separate-stderr dump --sort ip
	assert_eq "$status" 0 "dump-maps table ($stderr)"
	[[ ${lines[1]} == "$svc "*" - (gone)" ]]
}

@test "dump-maps --cgroups: refused with address filters, --pods-dir needs --cgroups, no map pinned is exit 1" {
	run --separate-stderr "$TFC_BIN" dump-maps --cgroups --address 10.0.0.0/8 --pin-dir "$PIN"
	assert_usage_error
	[[ $stderr == *"--cgroups"* ]]
	run --separate-stderr "$TFC_BIN" dump-maps --pods-dir "$PODS" --pin-dir "$PIN"
	assert_usage_error
	[[ $stderr == *"add --cgroups"* ]]
	mkdir -p "$PIN"
	run --separate-stderr "$TFC_BIN" dump-maps --cgroups --pin-dir "$PIN"
	assert_error_status 1
	[[ $stderr == *"$PIN/traffic_counters_cgroup"* ]]
}

@test "dump-maps --cgroups as nobody (no capability): the same named rows as root" {
	need_tools unshare setpriv
	local root_out
	# A bpffs of its own in a private mount namespace, as privileges.bats does.
	# shellcheck disable=SC2016 # expanded by the inner shell
	run --separate-stderr timeout 120 unshare --mount --propagation private bash -c '
		set -e
		mount -t bpf bpf /sys/fs/bpf
		'"$(declare -f le_bytes make_map put_row cg_id fill)"'
		CG=$1 SVC=$2 CTRCG=$3 PIN=/sys/fs/bpf/tfc-cgn
		make_map "$PIN"
		fill "$PIN"
		chmod 0755 "$PIN"
		chmod 0644 "$PIN/traffic_counters_cgroup"
		"$4" dump-maps --cgroups --pin-dir "$PIN" --pods-dir "$5" --json >"$6/root.json"
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
			--bounding-set=-all "$4" dump-maps --cgroups --pin-dir "$PIN" \
			--pods-dir "$5" --json
	' _ "$CG" "$SVC" "$CTRCG" "$TFC_BIN" "$PODS" "$BATS_TEST_TMPDIR"
	echo "stderr: $stderr"
	assert_eq "$status" 0 "dump-maps --cgroups as nobody"
	root_out=$(jq -c . "$BATS_TEST_TMPDIR/root.json")
	assert_eq "$(jq -c . <<<"$output")" "$root_out" "rows as nobody and as root"
	assert_eq "$(jq -c '[.[] | .pod] | sort' <<<"$output")" '["","shop/web-0","shop/web-0"]' \
		"pods named as nobody"
}

# set_control_cgroups DIR CAPACITY DEPTH DROPPED_PACKETS DROPPED_BYTES: the
# control map's cgroup fields (what the cgroup programs' attach records),
# the rest of its value kept. Offsets of struct tfc_control, layout 3.
set_control_cgroups() {
	local hex
	hex=$(bpftool -j map lookup pinned "$1/traffic_control" key 0 0 0 0 | jq -r '.value | join(" ")')
	# shellcheck disable=SC2046 # one word a byte
	bpftool map update pinned "$1/traffic_control" key 0 0 0 0 value $(python3 -c '
import struct, sys
v = bytearray(int(b, 16) for b in sys.argv[1].split())
struct.pack_into("<I", v, 76, int(sys.argv[2]))
v[80] = int(sys.argv[3])
struct.pack_into("<QQ", v, 88, int(sys.argv[4]), int(sys.argv[5]))
print(" ".join(str(b) for b in v))' "$hex" "$2" "$3" "$4" "$5")
}

@test "status: the cgroup map's fill level of the recorded capacity, depth, dropped packets and the heaviest cgroups; none pinned is no error" {
	local svc ctr
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"

	# No cgroup map: nothing in the text, "pinned": false, exit 0.
	run --separate-stderr tfc_in "$NS_B" status --json
	assert_eq "$status" 0 "status without a cgroup map ($stderr)"
	assert_eq "$(jq -c .cgroups <<<"$output")" \
		"{\"pin\":\"$PIN/traffic_counters_cgroup\",\"pinned\":false}" "cgroups without the map"
	run --separate-stderr tfc_in "$NS_B" status
	assert_eq "$status" 0 "status text without a cgroup map ($stderr)"
	[[ $output != *"cgroups:"* ]]

	make_map "$PIN"
	fill "$PIN"
	set_control_cgroups "$PIN" 4096 2 17 2100
	svc=$(cg_id "$SVC") ctr=$(cg_id "$CTRCG")
	run --separate-stderr tfc_in "$NS_B" status --json
	assert_eq "$status" 0 "status --json ($stderr)"
	assert_eq "$(jq -c '.cgroups | [.pinned, .entries, .capacity, .depth, .dropped_packets,
		.dropped_bytes]' <<<"$output")" '[true,3,4096,2,17,2100]' "fill level, depth, dropped"
	assert_eq "$(jq -c '[.cgroups.heaviest[] | [.cgroup_id, .unit, .gone, .ingress_bytes,
		.egress_bytes, .egress_packets]]' <<<"$output")" \
		"[[$ctr,\"cri-containerd-$CTR.scope\",false,$((300 * NCPU)),$((5000 * NCPU)),$((7 * NCPU))],[$svc,\"x.service\",false,0,$((1000 * NCPU)),$((10 * NCPU))]]" \
		"heaviest cgroups, most bytes first"

	rmdir "$CG/$SVC"
	run --separate-stderr tfc_in "$NS_B" status --pods-dir "$PODS"
	assert_eq "$status" 0 "status ($stderr)"
	[[ $output =~ "cgroups:"$'\n'"  traffic_counters_cgroup "\ +"3 / 4096 "\ +"$PIN/traffic_counters_cgroup" ]]
	[[ $output == *"depth: 2, dropped (cgroup map full): 17 packets, 2100 bytes"* ]]
	# The container's pod by namespace/name, then the removed service: its
	# id, marked gone.
	[[ $output == *"heaviest (bytes in + out):"* ]]
	assert_eq "$(grep -E "^ +$ctr +$((5300 * NCPU)) " <<<"$output" | tr -s ' ')" \
		" $ctr $((5300 * NCPU)) shop/web-0" "container's row"
	assert_eq "$(grep -E "^ +$svc +$((1000 * NCPU)) " <<<"$output" | tr -s ' ')" \
		" $svc $((1000 * NCPU)) - (gone)" "removed service's row"
}

@test "dump-maps --cgroups: a cgroup name with control characters is escaped in the table and CSV, exact in JSON" {
	local evil=$TOP/$'ev\til\e[31m.service' id
	mkdir "$CG/$evil"
	id=$(cg_id "$evil")
	make_map "$PIN"
	put_row "$PIN" "$id" 1 100 1

	run --separate-stderr dump --json
	assert_eq "$status" 0 "dump-maps --json ($stderr)"
	assert_eq "$(jq -r '.[0].unit' <<<"$output")" $'ev\til\e[31m.service' "unit in JSON"
	[[ $output == *'"unit":"ev\u0009il\u001b[31m.service"'* ]]
	run --separate-stderr dump --csv
	assert_eq "$status" 0 "dump-maps --csv ($stderr)"
	assert_eq "${lines[1]}" "$id,/$TOP/ev\\x09il\\x1b[31m.service,ev\\x09il\\x1b[31m.service,,,,,,egress,$NCPU,$((100 * NCPU)),false" "CSV row"
	run --separate-stderr dump
	assert_eq "$status" 0 "dump-maps ($stderr)"
	[[ ${lines[1]} == *' ev\x09il\x1b[31m.service '* ]]
	[[ ${lines[1]} != *$'\e'* ]]
}
