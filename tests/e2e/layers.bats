#!/usr/bin/env bats
# scripts/check-layers.py (run by `make lint`): a copy of the source folders
# with a wrong include, an include cycle or a call between commands fails with
# a line naming it; the real tree passes. Needs no root and no network.

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
CHECK="$ROOT/scripts/check-layers.py"

setup() {
	TREE="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$TREE"
	cp -r "$ROOT/traffic-counter-ebpf" "$ROOT/traffic-counter-common" "$ROOT/traffic-counter" "$TREE/"
	# The copy starts clean whatever the real tree's state: what a test sees
	# is only what it injected. Cycles the real tree has today are kept out.
	run python3 "$CHECK" --root "$TREE"
	BASELINE=$output
}

# Lines the check prints for the copy, minus the ones it printed before the
# test changed it.
new_findings() {
	run python3 "$CHECK" --root "$TREE"
	NEW_STATUS=$status
	NEW=$(comm -13 <(printf '%s\n' "$BASELINE" | sort) <(printf '%s\n' "$output" | sort))
}

# The copy fails, and with exactly this one new line.
expect_only() {
	new_findings
	echo "$NEW"
	[ "$NEW_STATUS" -eq 1 ]
	[ "$NEW" = "$1" ]
}

# Adds a line before the first include of a file.
inject_before_first_include() {
	sed -i "0,/^#include \"/s//$2\n&/" "$1"
}

@test "check-layers: an export file including loader/loader.h fails with file:line and the rule" {
	f="$TREE/traffic-counter-common/export/metrics.c"
	inject_before_first_include "$f" '#include "loader\/loader.h"'
	line=$(grep -n '^#include "loader/loader.h"' "$f" | cut -d: -f1)
	expect_only "traffic-counter-common/export/metrics.c:$line: #include \"loader/loader.h\": export may include only: abi, config, export, maps, util"
}

@test "check-layers: common including the CLI and ebpf including maps are refused" {
	# log.c -> commands.h also closes include cycles (the CLI includes util/log.h).
	inject_before_first_include "$TREE/traffic-counter-common/util/log.c" '#include "commands.h"'
	inject_before_first_include "$TREE/traffic-counter-ebpf/traffic_counter.bpf.c" '#include "maps\/maps.h"'
	new_findings
	[ "$NEW_STATUS" -eq 1 ]
	echo "$NEW"
	grep -q '^traffic-counter-common/util/log.c:[0-9]*: #include "commands.h": common and ebpf never include the CLI (traffic-counter/)$' <<<"$NEW"
	grep -q '^traffic-counter-ebpf/traffic_counter.bpf.c:[0-9]*: #include "maps/maps.h": ebpf may include only: abi, ebpf$' <<<"$NEW"
}

@test "check-layers: a command including another command's folder fails" {
	inject_before_first_include "$TREE/traffic-counter/cmd_dump.c" '#include "top\/top.h"'
	new_findings
	[ "$NEW_STATUS" -eq 1 ]
	[[ "$NEW" =~ ^traffic-counter/cmd_dump.c:[0-9]+:\ #include\ \"top/top.h\":\ a\ command\ never\ includes\ another\ command\'s\ header$ ]]
}

@test "check-layers: a command calling another command's function fails" {
	printf '\nint dump_helper(void)\n{\n\treturn 0;\n}\n' >>"$TREE/traffic-counter/cmd_dump.c"
	printf '\nstatic int use(void)\n{\n\treturn dump_helper();\n}\n' >>"$TREE/traffic-counter/cmd_set.c"
	line=$(grep -n 'return dump_helper();' "$TREE/traffic-counter/cmd_set.c" | cut -d: -f1)
	expect_only "traffic-counter/cmd_set.c:$line: calls dump_helper() of traffic-counter/cmd_dump.c: a command never calls another command"
}

@test "check-layers: an include cycle between two modules is reported as a chain" {
	# names -> log is allowed by the layers (both util); log -> names closes it.
	inject_before_first_include "$TREE/traffic-counter-common/util/names.h" '#include "util\/log.h"'
	inject_before_first_include "$TREE/traffic-counter-common/util/log.c" '#include "names.h"'
	expect_only "include cycle: util/log -> util/names -> util/log"
}

@test "check-layers: the real tree passes, silently" {
	run python3 "$CHECK"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "check-layers: a tree that keeps every rule passes, silently" {
	t="$BATS_TEST_TMPDIR/clean"
	mkdir -p "$t/traffic-counter-ebpf" "$t/traffic-counter-common/abi" "$t/traffic-counter-common/maps" \
		"$t/traffic-counter-common/loader" "$t/traffic-counter/top"
	printf '#include "abi.h"\n' >"$t/traffic-counter-ebpf/prog.bpf.c"
	printf 'struct x;\n' >"$t/traffic-counter-common/abi/abi.h"
	printf '#include "abi/abi.h"\nint maps_open(void);\n' >"$t/traffic-counter-common/maps/maps.h"
	printf '#include "maps.h"\n\nint maps_open(void)\n{\n\treturn 0;\n}\n' >"$t/traffic-counter-common/maps/maps.c"
	printf '#include "prog.skel.h"\n#include "maps/maps.h"\n\nint load(void)\n{\n\treturn maps_open();\n}\n' \
		>"$t/traffic-counter-common/loader/loader.c"
	printf 'int cmd_top(void);\n' >"$t/traffic-counter/top/top.h"
	printf '#include "top.h"\n#include "maps/maps.h"\n\nint cmd_top(void)\n{\n\treturn maps_open();\n}\n' \
		>"$t/traffic-counter/top/cmd_top.c"
	printf '#include "top/top.h"\n\nint main(void)\n{\n\treturn cmd_top();\n}\n' >"$t/traffic-counter/main.c"
	run python3 "$CHECK" --root "$t"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
