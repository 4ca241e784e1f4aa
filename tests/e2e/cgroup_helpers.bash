# shellcheck shell=bash
# shellcheck disable=SC2034 # CG_* and NCPU are for the .bats files
# Cgroup rows for the readers' tests (top, serve, record/report): real
# cgroups made under the cgroup v2 mount (so their ids name them), and a
# traffic_counters_cgroup map pinned in the test's pin dir with rows the
# test writes. bpftool writes a per-CPU value on every possible CPU, so a
# row reads back as NCPU times what was written. Load after helpers.

# cg_setup: CG_MNT (the v2 mount), CG_TOP (this test's cgroup, below it,
# removed by cg_teardown), NCPU (possible CPUs).
cg_setup() {
	CG_MNT=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
	[ -n "$CG_MNT" ] || skip "no cgroup v2 mount"
	CG_REL="/tfc-e2e-$TFCE_ID"
	CG_TOP="$CG_MNT$CG_REL"
	mkdir "$CG_TOP"
	NCPU=$(($(sed 's/.*-//' /sys/devices/system/cpu/possible) + 1))
}

# cg_teardown: removes this test's cgroups, deepest first (they hold no
# process: the tests never move one into them).
cg_teardown() {
	[ -n "${CG_TOP:-}" ] && [ -d "$CG_TOP" ] || return 0
	find "$CG_TOP" -depth -type d -exec rmdir {} + 2>/dev/null || true
}

# cg_make REL: makes cgroup $CG_TOP/REL (parents too) and prints its id.
cg_make() {
	mkdir -p "$CG_TOP/$1"
	stat -c %i "$CG_TOP/$1"
}

# cg_map [PIN_DIR]: creates the cgroup map as the programs pin it.
cg_map() {
	local dir=${1:-$PIN}
	mkdir -p "$dir"
	bpftool map create "$dir/traffic_counters_cgroup" type percpu_hash key 16 value 16 \
		entries 4096 name traffic_counter
}

# le64 N: N as 8 little-endian hex bytes, for bpftool.
le64() {
	local h i out=
	h=$(printf '%016x' "$1")
	for ((i = 14; i >= 0; i -= 2)); do
		out+="${h:i:2} "
	done
	echo "${out% }"
}

# cg_row ID DIR BYTES PACKETS [PIN_DIR]: writes one row (DIR 0 ingress,
# 1 egress), BYTES and PACKETS on each CPU.
cg_row() {
	local dir=${5:-$PIN}
	# shellcheck disable=SC2046 # one word per byte
	bpftool map update pinned "$dir/traffic_counters_cgroup" \
		key hex $(le64 "$1") "$(printf '%02x' "$2")" 00 00 00 00 00 00 00 \
		value hex $(le64 "$3") $(le64 "$4")
}
