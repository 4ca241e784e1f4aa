#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# shellcheck disable=SC2016 # $1... in single quotes are for the inner shell
# Pins, paths and the configuration file against another local user
# (openspec/changes/0019-pin-and-config-safety.md): a pin directory another
# user controls is refused before anything is changed in it, nothing is
# created or removed outside bpffs, and the configuration reader refuses
# files others can write and stays small whatever it is given.
#
# The pin tests run in a private mount namespace with a bpffs of its own,
# mounted as `mount -t bpf bpf` does (mode 1777, so nobody can make
# directories there): the machine's /sys/fs/bpf is never touched.

load helpers

setup() {
	tfc_e2e_setup
	make_pair nov6
	need_tools unshare setpriv
	CONFIG=$BATS_TEST_TMPDIR/traffic-counter.conf
	ERR=$BATS_TEST_TMPDIR/err
	MNT_PID=
}

teardown() {
	[ -z "$MNT_PID" ] || stop_pid "$MNT_PID"
	tfc_e2e_teardown
}

# bpffs_ns_start: mnt_ns_start (helpers.bash) with a bpffs of mode 1777
# on /sys/fs/bpf.
bpffs_ns_start() { mnt_ns_start && in_mnt mount -t bpf bpf /sys/fs/bpf; }

as_nobody() { in_mnt setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
# tfc_mnt ARGS...: traffic-counter as root in NS_B, in the private mount namespace
tfc_mnt() { in_mnt timeout 60 nsenter --net="/run/netns/$NS_B" "$TFC_BIN" "$@"; }

# secret_file: a root-owned 0600 file outside bpffs (SECRET), the target of planted links
secret_file() {
	SECRET=$BATS_TEST_TMPDIR/secret
	echo secret >"$SECRET"
	chmod 0600 "$SECRET"
}

# ----------------------------------------------------------- pin directory --

@test "apply with PIN_GROUP: a pin directory owned by another user is refused, a planted link's target unchanged" {
	bpffs_ns_start
	secret_file
	as_nobody mkdir "$PIN"
	as_nobody ln -s "$SECRET" "$PIN/traffic_stats"
	printf 'ATTACH=%s:xdp\nPIN_GROUP=65534\nTRAFFIC_COUNTER_PIN_DIR=%s\n' "$DEV_B" "$PIN" >"$CONFIG"

	run --separate-stderr tfc_mnt apply --config "$CONFIG"
	echo "$stderr"
	assert_error_status 1
	[[ $stderr == *"directory $PIN is owned by uid 65534, not by root or by us"* ]]
	assert_eq "$(stat -c '%U:%G %a' "$SECRET")" "root:root 600" "the link's target"
	assert_eq "$(in_mnt ls -A "$PIN")" traffic_stats "nothing made in $PIN"
	nothing_attached "$NS_B" "$DEV_B"
}

@test "attach: a directory below the bpffs root that others may write is refused; sticky is not enough below the root" {
	bpffs_ns_start
	in_mnt mkdir -m 0777 /sys/fs/bpf/open
	run --separate-stderr tfc_mnt attach --iface "$DEV_B" --pin-dir /sys/fs/bpf/open/p
	assert_error_status 1
	[[ $stderr == *"directory /sys/fs/bpf/open is writable by others (mode 0777)"*"chmod go-w /sys/fs/bpf/open"* ]]
	assert_eq "$(in_mnt ls -A /sys/fs/bpf/open)" "" "nothing made in /sys/fs/bpf/open"

	in_mnt chmod 1777 /sys/fs/bpf/open
	run --separate-stderr tfc_mnt attach --iface "$DEV_B" --pin-dir /sys/fs/bpf/open/p
	assert_error_status 1
	[[ $stderr == *"/sys/fs/bpf/open is writable by others (mode 1777)"* ]]

	# The bpffs root itself may be 1777: the sticky bit keeps our entries ours.
	in_mnt chmod 0755 /sys/fs/bpf/open
	run --separate-stderr tfc_mnt attach --iface "$DEV_B" --pin-dir /sys/fs/bpf/open/p
	echo "$stderr"
	[ "$status" -eq 0 ]
	run --separate-stderr tfc_mnt detach --all --purge --pin-dir /sys/fs/bpf/open/p
	[ "$status" -eq 0 ]
	nothing_attached "$NS_B" "$DEV_B"

	# A link on bpffs (anyone may make one in the 1777 root) could be
	# pointed elsewhere between check and use: refused.
	as_nobody ln -s /sys/fs/bpf/open /sys/fs/bpf/lnk
	run --separate-stderr tfc_mnt attach --iface "$DEV_B" --pin-dir /sys/fs/bpf/lnk/p
	assert_error_status 1
	[[ $stderr == *"goes through /sys/fs/bpf/lnk, a symbolic link on bpffs"* ]]
	assert_eq "$(in_mnt ls -A /sys/fs/bpf/open)" "" "nothing made through the link"
	nothing_attached "$NS_B" "$DEV_B"
}

# ---------------------------------------------------------- outside bpffs --

@test "attach --pin-dir with '..': refused, nothing created outside bpffs or on it" {
	local escape=/tmp/tce-escape-$TFCE_ID
	run --separate-stderr tfc_in_raw "$NS_B" attach --iface "$DEV_B" \
		--pin-dir "$PIN/../../../../..$escape/y"
	echo "$stderr"
	assert_error_status 2
	[[ $stderr == *"has a '..' component"* ]]
	[ ! -e "$escape" ]
	[ ! -e "$PIN" ]
	nothing_attached "$NS_B" "$DEV_B"
}

@test "detach --purge --pin: a link outside bpffs to a map pin is left, and so is the map" {
	tfc_attach "$NS_B" --iface "$DEV_B"
	tfc_in "$NS_B" detach --iface "$DEV_B"
	local lnk=$BATS_TEST_TMPDIR/lnk
	ln -s "$PIN/traffic_counters_ip" "$lnk"

	run --separate-stderr tfc_in "$NS_B" detach --purge --pin "$lnk"
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"refusing to remove $lnk: it is not on a BPF filesystem"* ]]
	[ -L "$lnk" ]
	[ -e "$PIN/traffic_counters_ip" ]

	# A link on bpffs, beside the map: the link is not the map, and stays.
	ln -s "$PIN/traffic_counters_ip" "$PIN/lnk"
	run --separate-stderr tfc_in "$NS_B" detach --purge --pin "$PIN/lnk"
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"refusing to remove $PIN/lnk: it is a symbolic link; pass the pin itself"* ]]
	[ -L "$PIN/lnk" ]
	[ -e "$PIN/traffic_counters_ip" ]

	# A plain file outside bpffs named as a pin: left alone too.
	echo data >"$BATS_TEST_TMPDIR/plain"
	run --separate-stderr tfc_in "$NS_B" detach --purge --pin "$BATS_TEST_TMPDIR/plain"
	[ "$status" -eq 1 ]
	[[ $stderr == *"refusing to remove $BATS_TEST_TMPDIR/plain: it is not on a BPF filesystem"* ]]
	[ -f "$BATS_TEST_TMPDIR/plain" ]
	rm "$PIN/lnk"
}

# ------------------------------------------------------ configuration file --

# rss_kb CMD...: runs CMD (at most 10 s, 1 GiB of address space, so that a
# reader without bounds cannot take the machine); prints its exit code and
# its peak RSS in kB (the largest of it and its children); stderr in $ERR.
rss_kb() {
	local rc=0
	(
		ulimit -v $((1 << 20))
		exec /usr/bin/time -f '%M' -o "$BATS_TEST_TMPDIR/rss" timeout 10 "$@"
	) >/dev/null 2>"$ERR" || rc=$?
	echo "$rc $(tail -n1 "$BATS_TEST_TMPDIR/rss")"
}

@test "apply --config: /dev/zero, a FIFO, a huge file and a huge line are refused with bounded memory" {
	need_tools /usr/bin/time
	local base rc rss
	printf 'ATTACH=lo:xdp\n' >"$CONFIG"
	read -r rc base < <(rss_kb "$TFC_BIN" apply --check --config "$CONFIG")
	echo "a valid file: exit $rc, $base kB"

	read -r rc rss < <(rss_kb "$TFC_BIN" apply --check --config /dev/zero)
	echo "/dev/zero: exit $rc, $rss kB: $(cat "$ERR")"
	[ "$rc" -eq 1 ]
	grep -q "/dev/zero is not a regular file" "$ERR"
	[ "$rss" -lt $((base * 2)) ]

	mkfifo "$BATS_TEST_TMPDIR/fifo"
	run --separate-stderr timeout 10 "$TFC_BIN" apply --check --config "$BATS_TEST_TMPDIR/fifo"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$BATS_TEST_TMPDIR/fifo is not a regular file"* ]]

	# 64 MiB of comment on one line: larger than the 1 MiB a file may have.
	{
		printf '#'
		head -c $((64 << 20)) /dev/zero | tr '\0' x
		printf '\nATTACH=lo:xdp\n'
	} >"$CONFIG"
	read -r rc rss < <(rss_kb "$TFC_BIN" apply --check --config "$CONFIG")
	echo "64 MiB: exit $rc, $rss kB: $(cat "$ERR")"
	[ "$rc" -eq 1 ]
	grep -q "$CONFIG is larger than 1 MiB" "$ERR"
	[ "$rss" -lt $((base * 2)) ]

	# A line of 100 kB within the size limit: its line named, memory bounded.
	{
		printf '#'
		head -c 100000 /dev/zero | tr '\0' x
		printf '\nATTACH=lo:xdp\n'
	} >"$CONFIG"
	read -r rc rss < <(rss_kb "$TFC_BIN" apply --check --config "$CONFIG")
	[ "$rc" -eq 2 ]
	grep -q "$CONFIG:1: line longer than 4096 bytes" "$ERR"
	[ "$rss" -lt $((base * 2)) ]
}

@test "apply --config: a file others may write, or another user owns, is refused with the command that fixes it" {
	printf 'ATTACH=lo:xdp\n' >"$CONFIG"
	chmod 0666 "$CONFIG"
	run --separate-stderr "$TFC_BIN" apply --check --config "$CONFIG"
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$CONFIG is writable by group or others (mode 0666): run 'chmod go-w $CONFIG'"* ]]

	chmod 0620 "$CONFIG"
	run --separate-stderr "$TFC_BIN" apply --check --config "$CONFIG"
	[ "$status" -eq 1 ]
	[[ $stderr == *"(mode 0620)"* ]]

	chmod 0644 "$CONFIG"
	chown 65534 "$CONFIG"
	run --separate-stderr "$TFC_BIN" apply --check --config "$CONFIG"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$CONFIG is owned by uid 65534, not root: run 'chown root $CONFIG'"* ]]
	run --separate-stderr "$TFC_BIN" export-ipfix --config "$CONFIG"
	[ "$status" -ne 0 ]
	[[ $stderr == *"$CONFIG is owned by uid 65534"* ]]

	chown 0 "$CONFIG"
	run --separate-stderr "$TFC_BIN" apply --check --config "$CONFIG"
	[ "$status" -eq 0 ]
}

@test "apply and apply --stop take everything from the file: no environment needed" {
	printf 'ATTACH=%s:xdp\nTRAFFIC_COUNTER_PIN_DIR=%s\nDETACH_ON_STOP=yes\nPURGE_ON_STOP=yes\n' \
		"$DEV_B" "$PIN" >"$CONFIG"
	run --separate-stderr env -i timeout 60 nsenter --net="/run/netns/$NS_B" "$TFC_BIN" apply \
		--config "$CONFIG"
	echo "$stderr"
	[ "$status" -eq 0 ]
	map_pins_present
	run --separate-stderr env -i timeout 60 nsenter --net="/run/netns/$NS_B" "$TFC_BIN" apply \
		--stop --config "$CONFIG"
	echo "$stderr"
	[ "$status" -eq 0 ]
	nothing_attached "$NS_B" "$DEV_B"
	[ ! -e "$PIN" ]
}
