#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# The units follow traffic-counter.conf: the binary run as
# traffic-counter-generator writes drop-ins binding the configured pin
# directory (nothing, and exit 0, for a missing or invalid file), and
# export-ipfix --config takes the collector, transport, interval and pin
# directory from the file, the command line winning. The exporter and the
# libfixbuf collector run in the receiver namespace, on its own loopback.

load helpers
load ipfix_helpers


setup() {
	tfc_e2e_setup
	# shellcheck disable=SC2034 # read by bg_stop_all (helpers.bash)
	BG_PIDS=()
	GEN=$BATS_TEST_TMPDIR/bin/traffic-counter-generator
	OUT=$BATS_TEST_TMPDIR/generator
	CONFIG_FILE=$BATS_TEST_TMPDIR/traffic-counter.conf
	mkdir -p "$(dirname "$GEN")" "$OUT/normal" "$OUT/early" "$OUT/late"
	ln -s "$TFC_BIN" "$GEN"
}

teardown() {
	bg_stop_all
	tfc_e2e_teardown
	local d
	for d in ${BG_DIRS[@]+"${BG_DIRS[@]}"}; do rmdir "$d"; done
}

# ------------------------------------------------------------- helpers --

# generate: the generator as systemd runs it (three directories), on
# $CONFIG_FILE through the test-only variable.
generate() {
	run --separate-stderr env TRAFFIC_COUNTER_GENERATOR_CONFIG="$CONFIG_FILE" \
		"$GEN" "$OUT/normal" "$OUT/early" "$OUT/late"
}

# generated: what the three directories hold, with modes.
generated() { (cd "$OUT" && find normal early late -mindepth 1 -printf '%p %M\n' | LC_ALL=C sort); }

# record OUT SPORT -> "DST DPORT PROTO PACKETS L2OCTETS" of the flow's records in OUT
record() {
	awk -v sp="$2" '$1 == "flow" && $4 == sp { print $3, $5, $6, $7, $8 }' "$1"
}

cycle_saw_entries() { grep -Eq '^cycle: [1-9][0-9]* entries' "$EXP_LOG" && echo yes; }

# ---------------------------------------------------------------- tests --

@test "generator: RECORD=yes makes the boot unit want the record unit; no, nothing" {
	printf 'ATTACH=eth0:xdp\nRECORD=yes\nRECORD_INTERVAL=10\n' >"$CONFIG_FILE"
	generate
	assert_eq "$status" 0 "exit status"
	assert_eq "$stderr" "" "stderr"
	assert_eq "$(generated)" "normal/traffic-counter.service.d drwxr-xr-x
normal/traffic-counter.service.d/record.conf -rw-r--r--" "generated files"
	assert_eq "$(grep -v '^#' "$OUT/normal/traffic-counter.service.d/record.conf")" \
		"[Unit]
Wants=traffic-counter-record.service" "record drop-in"
	rm -r "${OUT:?}/normal"/*
	printf 'ATTACH=eth0:xdp\nRECORD=no\n' >"$CONFIG_FILE"
	generate
	assert_eq "$status" 0 "exit status"
	assert_eq "$(generated)" "" "nothing generated for RECORD=no"
}

@test "generator: RECORD_EVICT_IDLE runs the record unit as root with the pins writable" {
	printf 'ATTACH=eth0:xdp\nRECORD_EVICT_IDLE=7d\n' >"$CONFIG_FILE"
	generate
	assert_eq "$status" 0 "exit status"
	assert_eq "$(generated)" "normal/traffic-counter-record.service.d drwxr-xr-x
normal/traffic-counter-record.service.d/evict-idle.conf -rw-r--r--" "generated files"
	assert_eq "$(grep -v '^#' "$OUT/normal/traffic-counter-record.service.d/evict-idle.conf")" \
		"[Service]
User=root
Group=root
BindReadOnlyPaths=
BindPaths=/sys/fs/bpf/traffic_counter:/run/traffic-counter-pins" "default pin directory"
	rm -r "${OUT:?}/normal"/*
	printf 'ATTACH=eth0:xdp\nRECORD_EVICT_IDLE=7d\nTRAFFIC_COUNTER_PIN_DIR=/sys/fs/bpf/other\n' \
		>"$CONFIG_FILE"
	generate
	assert_eq "$status" 0 "exit status"
	# The record unit's bind is in the evict drop-in only.
	[ ! -e "$OUT/normal/traffic-counter-record.service.d/pin-dir.conf" ]
	grep -qx 'BindPaths=/sys/fs/bpf/other:/run/traffic-counter-pins' \
		"$OUT/normal/traffic-counter-record.service.d/evict-idle.conf"
	[ -e "$OUT/normal/traffic-counter-exporter.service.d/pin-dir.conf" ]
}

@test "generator: another TRAFFIC_COUNTER_PIN_DIR gives both units a drop-in binding it" {
	printf 'ATTACH=eth0:xdp\nTRAFFIC_COUNTER_PIN_DIR=/sys/fs/bpf/other\n' >"$CONFIG_FILE"
	generate
	assert_eq "$status" 0 "exit status"
	assert_eq "$stderr" "" "stderr"
	assert_eq "$(generated)" "normal/traffic-counter-exporter.service.d drwxr-xr-x
normal/traffic-counter-exporter.service.d/pin-dir.conf -rw-r--r--
normal/traffic-counter-ipfix.service.d drwxr-xr-x
normal/traffic-counter-ipfix.service.d/pin-dir.conf -rw-r--r--
normal/traffic-counter-record.service.d drwxr-xr-x
normal/traffic-counter-record.service.d/pin-dir.conf -rw-r--r--" "generated files"
	assert_eq "$(grep -v '^#' "$OUT/normal/traffic-counter-record.service.d/pin-dir.conf")" \
		"[Service]
BindReadOnlyPaths=
BindReadOnlyPaths=/sys/fs/bpf/other:/run/traffic-counter-pins" "record drop-in"
	assert_eq "$(grep -v '^#' "$OUT/normal/traffic-counter-exporter.service.d/pin-dir.conf")" \
		"[Service]
BindReadOnlyPaths=
BindReadOnlyPaths=/sys/fs/bpf/other:/run/traffic-counter-pins" "exporter drop-in"
	assert_eq "$(grep -v '^#' "$OUT/normal/traffic-counter-ipfix.service.d/pin-dir.conf")" \
		"[Service]
BindPaths=
BindPaths=/sys/fs/bpf/other:/run/traffic-counter-pins" "IPFIX drop-in"
	# Never through a link someone left in the directory.
	rm -r "$OUT/normal"/*
	mkdir "$OUT/normal/traffic-counter-exporter.service.d"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$OUT/normal/traffic-counter-exporter.service.d/pin-dir.conf"
	generate
	assert_eq "$status" 1 "exit status over a symlink"
	[ ! -e "$BATS_TEST_TMPDIR/elsewhere" ]
	[[ $stderr == *"traffic-counter-exporter.service.d/pin-dir.conf: File exists"* ]]
}

@test "generator: IPFIX_COLLECTOR's address, or any for a host name, is allowed to the IPFIX unit" {
	local collector allow
	for collector in 198.18.0.9:4739 "[fd00::9]:4739" collector.example:4739; do
		case $collector in
		198.*) allow=198.18.0.9 ;;
		"[fd00"*) allow=fd00::9 ;;
		*) allow=any ;;
		esac
		rm -rf "${OUT:?}/normal"/*
		printf 'ATTACH=eth0:xdp\nIPFIX_COLLECTOR=%s\n' "$collector" >"$CONFIG_FILE"
		generate
		assert_eq "$status:$stderr" "0:" "exit status and stderr for $collector"
		assert_eq "$(generated)" "normal/traffic-counter-ipfix.service.d drwxr-xr-x
normal/traffic-counter-ipfix.service.d/collector.conf -rw-r--r--" "generated files for $collector"
		assert_eq "$(grep -v '^#' "$OUT/normal/traffic-counter-ipfix.service.d/collector.conf")" \
			"[Service]
IPAddressAllow=$allow" "IPFIX drop-in for $collector"
	done
	# Beside another pin directory: both drop-ins in the IPFIX unit's directory.
	rm -rf "${OUT:?}/normal"/*
	printf 'ATTACH=eth0:xdp\nTRAFFIC_COUNTER_PIN_DIR=/sys/fs/bpf/other\nIPFIX_COLLECTOR=198.18.0.9:4739\n' \
		>"$CONFIG_FILE"
	generate
	assert_eq "$status" 0 "exit status with both"
	assert_eq "$(generated | grep -c 'ipfix.service.d/')" 2 "IPFIX drop-ins with both"
}

@test "generator: the default pin directory, a missing, invalid or unsafe file: no drop-in, exit 0" {
	local empty=""
	printf 'ATTACH=eth0:xdp\n' >"$CONFIG_FILE"
	generate
	assert_eq "$status:$stderr:$(generated)" "0::$empty" "no TRAFFIC_COUNTER_PIN_DIR"
	printf 'ATTACH=eth0:xdp\nTRAFFIC_COUNTER_PIN_DIR=/sys/fs/bpf/traffic_counter\n' >"$CONFIG_FILE"
	generate
	assert_eq "$status:$stderr:$(generated)" "0::$empty" "the default, written out"

	rm "$CONFIG_FILE"
	generate
	assert_eq "$status:$(generated)" "0:$empty" "missing file"
	assert_eq "$stderr" "traffic-counter-generator: cannot read $CONFIG_FILE (No such file or directory): the units keep /sys/fs/bpf/traffic_counter" "missing file: one line"

	printf 'ATTACH=eth0:xdp\nTRAFFIC_COUNTER_PIN_DIR=/sys/fs/bpf/other\nFLOW_MAP=maybe\n' \
		>"$CONFIG_FILE"
	generate
	assert_eq "$status:$(generated)" "0:$empty" "invalid file"
	assert_eq "$stderr" "traffic-counter-generator: $CONFIG_FILE is invalid (line 3: FLOW_MAP: 'maybe' is not yes or no; 'traffic-counter apply --check' lists all): the units keep /sys/fs/bpf/traffic_counter" "invalid file: one line"

	printf 'ATTACH=eth0:xdp\nTRAFFIC_COUNTER_PIN_DIR=/sys/fs/bpf/a:b\n' >"$CONFIG_FILE"
	generate
	assert_eq "$status:$(generated)" "0:$empty" "a ':' in the directory"
	[[ $stderr == *"TRAFFIC_COUNTER_PIN_DIR=/sys/fs/bpf/a:b has characters a unit file"* ]]
	assert_eq "$(grep -c '' <<<"$stderr")" 1 "lines on stderr"

	# Without systemd's arguments it is a usage error, and writes nothing.
	run --separate-stderr "$GEN"
	assert_eq "$status" 2 "exit status without arguments"
	[[ $stderr == *"usage: traffic-counter-generator NORMAL-DIR"* ]]
}

@test "exporter unit's PrivateUsers=yes: serve reads the group's pins with only root and itself mapped" {
	need_tools unshare setpriv curl
	make_pair
	tfc_attach "$NS_B" --iface "$DEV_B"
	# What PIN_GROUP=65534 leaves: the directory and the maps the group's.
	chgrp 65534 "$PIN" "$PIN"/traffic_*
	chmod 0750 "$PIN"
	chmod 0640 "$PIN"/traffic_*
	local mnt
	mnt=$(mktemp -d /run/tfc-units13-pins.XXXXXX)
	chmod 0755 "$mnt"
	BG_DIRS=("$mnt")
	# As systemd sets it up: the pins bound read-only (BindReadOnlyPaths=),
	# then a user namespace mapping root and the unit's user and group only
	# (PrivateUsers=yes), in which serve runs as that user.
	# shellcheck disable=SC2016 # expanded by the inner shells
	run timeout 60 nsenter --net="/run/netns/$NS_B" unshare --mount --propagation private \
		bash -c '
		set -e
		mount --bind "$1" "$2" && mount -o remount,bind,ro "$2"
		unshare --user bash -c "
			for i in \$(seq 100); do
				[ \$(grep -c . /proc/self/gid_map) = 2 ] && break
				sleep 0.05
			done
			exec setpriv --reuid=65534 --regid=65534 --clear-groups \
				timeout --preserve-status 5 $3 serve --listen 127.0.0.1:10437 --pin-dir $2" &
		child=$!
		sleep 0.2
		printf "0 0 1\n65534 65534 1\n" | dd of=/proc/$child/uid_map bs=64 status=none
		printf "0 0 1\n65534 65534 1\n" | dd of=/proc/$child/gid_map bs=64 status=none
		for i in $(seq 50); do
			curl -sf http://127.0.0.1:10437/metrics >/dev/null && break
			sleep 0.1
		done
		curl -sf http://127.0.0.1:10437/metrics | grep -c "^traffic_counter_build_info"
		kill -TERM $child
		wait $child
	' _ "$PIN" "$mnt" "$TFC_BIN"
	echo "$output"
	assert_eq "$status" 0 "exit status"
	[[ $output == *"serving http://127.0.0.1:10437/metrics"* ]]
	[[ $output == *$'\n1\n'* ]]
	[[ $output != *"ermission denied"* ]]
}

@test "export-ipfix --config: collector, transport, interval and pin dir from the file" {
	need_tools ss
	make_pair
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	cat >"$CONFIG_FILE" <<EOF
ATTACH="$DEV_B:xdp"
TRAFFIC_COUNTER_PIN_DIR=$PIN
IPFIX_COLLECTOR=127.0.0.1:$FB_PORT
IPFIX_TRANSPORT=tcp
IPFIX_INTERVAL=1
EOF
	local out=$BATS_TEST_TMPDIR/collect.out
	collector_start tcp 127.0.0.1 "$out"
	exporter_bg "$BATS_TEST_TMPDIR/exporter.log" --config "$CONFIG_FILE"
	grep -q "^exporting $PIN/traffic_counters_flow to 127.0.0.1:$FB_PORT (tcp) every 1 s:" \
		"$EXP_LOG"
	flow "$A4" "$B4" udp 45000 9 3 20
	# A cycle sees the flow within 5 s: the file's 1 s, not the default 10 s.
	wait_eq 5 yes cycle_saw_entries
	exporter_stop
	wait_eq 5 "$B4 9 17 3 $((3 * FRAME))" record "$out" 45000
}

@test "export-ipfix --config: options on the command line win over the file" {
	need_tools ss
	make_pair
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	# Nothing listens on port 9, and the file's pins do not exist.
	cat >"$CONFIG_FILE" <<EOF
ATTACH="$DEV_B:xdp"
TRAFFIC_COUNTER_PIN_DIR=/sys/fs/bpf/traffic_counter_units13_none
IPFIX_COLLECTOR=127.0.0.1:9
IPFIX_TRANSPORT=tcp
IPFIX_INTERVAL=3600
EOF
	local out=$BATS_TEST_TMPDIR/collect.out
	collector_start udp 127.0.0.1 "$out"
	exporter_bg "$BATS_TEST_TMPDIR/exporter.log" --config "$CONFIG_FILE" --pin-dir "$PIN" \
		--collector "127.0.0.1:$FB_PORT" --transport udp --interval 1
	grep -q "^exporting $PIN/traffic_counters_flow to 127.0.0.1:$FB_PORT (udp) every 1 s:" \
		"$EXP_LOG"
	flow "$A4" "$B4" tcp 45001 22 2 10
	exporter_stop
	wait_eq 5 "$B4 22 6 2 $((2 * FRAME))" record "$out" 45001
}

@test "export-ipfix --config: no IPFIX_COLLECTOR, or an invalid file, is a usage error" {
	printf 'ATTACH=eth0:xdp\n' >"$CONFIG_FILE"
	run --separate-stderr "$TFC_BIN" export-ipfix --config "$CONFIG_FILE"
	assert_error_status 2
	assert_eq "$stderr" "traffic-counter: --collector: missing: set IPFIX_COLLECTOR=HOST:PORT in $CONFIG_FILE (see --help)" "stderr"
	printf 'ATTACH=eth0:xdp\nIPFIX_COLLECTOR=127.0.0.1:4739\nIPFIX_TRANSPORT=sctp\n' \
		>"$CONFIG_FILE"
	run --separate-stderr "$TFC_BIN" export-ipfix --config "$CONFIG_FILE"
	assert_error_status 2
	assert_eq "$stderr" "traffic-counter: $CONFIG_FILE:3: IPFIX_TRANSPORT: 'sctp' is not udp or tcp" "stderr"
	run --separate-stderr "$TFC_BIN" export-ipfix --config "$BATS_TEST_TMPDIR/none.conf"
	assert_error_status 2
	assert_eq "$stderr" "traffic-counter: --config: cannot read $BATS_TEST_TMPDIR/none.conf: No such file or directory" "stderr"
}
