#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2154 # bats: each @test is a subshell; run sets $stderr; PROG_IDS is read by nothing_attached
# Program names (openspec/changes/0016): this build's programs name the
# project and the hook within the kernel's 15 characters, and the programs
# of an earlier release, named tc_xdp, tc_ingress, tc_egress, are still
# ours: an upgrade in place (attach --migrate, re-attach) replaces them and
# keeps counting, status finds them, detach removes them. The earlier
# release is this tree built with `make ABI=1` ($TFC_OLD_BIN), which keeps
# that release's names.

load helpers

TFC_OLD_BIN=${TFC_OLD_BIN:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build-abi1/traffic-counter}

OLD_NAMES='["tc_xdp","tc_xdp_legacy","tc_ingress","tc_egress","tfc_ingress","tfc_egress"]'

setup() {
	tfc_e2e_setup
	[ -x "$TFC_OLD_BIN" ] || {
		echo "no build of the old layout at $TFC_OLD_BIN: make old-abi-build" >&2
		return 1
	}
	make_pair nov6
	# One pin dir per network namespace (openspec/changes/0012).
	PIN_A="$PIN-a"
	TFCE_PINS+=("$PIN_A")
}

teardown() {
	tfc_e2e_teardown
}

# old_in NS PIN_DIR COMMAND ARGS...: the earlier release
old_in() {
	local ns=$1 pin=$2 cmd=$3
	shift 3
	timeout 60 nsenter --net="/run/netns/$ns" "$TFC_OLD_BIN" "$cmd" --pin-dir "$pin" "$@"
}

old_attach() {
	local out rc=0
	out=$(old_in "$@" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || {
		echo "FAIL: earlier release's $* exited $rc: $out" >&2
		return 1
	}
}

prog_name() { # prog_name ID -> the name the kernel has for program ID
	bpftool -j prog show id "$1" | jq -r .name
}

# names NS PIN_DIR -> "ATTACH_POINT=PROGRAM_NAME ..." of the attachments
# status --json lists (status of this build; it exits 1 on layout 1 maps
# but still lists them).
names() {
	local st point id out=()
	st=$(tfc_in_pin "$2" "$1" status --json 2>/dev/null) || true
	while read -r point id; do
		out+=("$point=$(prog_name "$id")")
	done < <(jq -r '.attachments | sort_by(.attach_point)[] | "\(.attach_point) \(.prog_id)"' <<<"$st")
	echo "${out[*]}"
}

ids() { # ids NS PIN_DIR -> the attachments' program ids, sorted
	tfc_in_pin "$2" "$1" status --json 2>/dev/null | jq -r '[.attachments[].prog_id] | sort | join(" ")'
}

# no_old_names NS DEV PIN_DIR: no program with an earlier release's name is
# attached to DEV at XDP or tc (netlink), or recorded in PIN_DIR (TCX, which
# this bpftool may not list under `net show`), and every name fits in 15
# characters.
no_old_names() {
	local ns=$1 dev=$2 pin=$3 names
	names=$(
		{
			ids "$ns" "$pin" | tr ' ' '\n'
			ip -n "$ns" -j -d link show "$dev" | jq -r '.[0].xdp.prog.id // empty'
			tc -n "$ns" -j filter show dev "$dev" ingress | jq -r '.[]?.options.prog.id // empty'
			tc -n "$ns" -j filter show dev "$dev" egress | jq -r '.[]?.options.prog.id // empty'
			nsenter --net="/run/netns/$ns" bpftool -j net show dev "$dev" |
				jq -r '.[] | ((.xdp // []) + (.tc // []))[] | .id'
		} | sort -u | while read -r id; do prog_name "$id"; done
	)
	echo "programs on $dev: $(echo "$names" | tr '\n' ' ')"
	[ -n "$names" ] || {
		echo "FAIL: no program found on $dev" >&2
		return 1
	}
	if jq -R -e --argjson old "$OLD_NAMES" 'select(. as $n | $old | index($n))' <<<"$names" >/dev/null; then
		echo "FAIL: an earlier release's program is still attached to $dev" >&2
		return 1
	fi
	if awk 'length($0) > 15 { bad = 1 } END { exit !bad }' <<<"$names"; then
		echo "FAIL: a program name longer than 15 characters" >&2
		return 1
	fi
}

# counts -> B's ingress from A, B's egress to A, A's ingress from B
counts() {
	echo "$(ip_counts "$NS_B" "$A4" ingress "$IFX_B" | cut -d' ' -f1)" \
		"$(ip_counts "$NS_B" "$A4" egress "$IFX_B" | cut -d' ' -f1)" \
		"$(tfc_in_pin "$PIN_A" "$NS_A" dump-maps --json |
			jq --arg ip "$B4" --argjson ifx "$IFX_A" \
				'[.[] | select(.ip == $ip and .direction == "ingress" and .ifindex == $ifx) | .packets] | add // 0')"
}

# The earlier release at three hooks of three kinds: XDP link and a netlink
# filter on B's veth, a TCX link on A's.
attach_earlier_release() {
	old_attach "$NS_B" "$PIN" attach --iface "$DEV_B" --attach-point xdp
	old_attach "$NS_B" "$PIN" attach --iface "$DEV_B" --attach-point tc-egress --tc-api netlink
	old_attach "$NS_A" "$PIN_A" attach --iface "$DEV_A" --attach-point tc-ingress
}

@test "upgrade in place from programs named tc_*: --migrate and re-attach replace them, counting goes on" {
	attach_earlier_release
	assert_eq "$(names "$NS_B" "$PIN")" "tc-egress=tc_egress xdp=tc_xdp" "earlier names on B"
	assert_eq "$(names "$NS_A" "$PIN_A")" "tc-ingress=tc_ingress" "earlier name on A"
	local old_ids
	old_ids="$(ids "$NS_B" "$PIN") $(ids "$NS_A" "$PIN_A")"
	ping4 10
	wait_eq 5 "10 10 10" counts

	run --separate-stderr tfc_in "$NS_B" attach --iface "$DEV_B" --attach-point xdp --migrate
	echo "migrate B: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	run --separate-stderr tfc_in_pin "$PIN_A" "$NS_A" attach --iface "$DEV_A" \
		--attach-point tc-ingress --migrate
	echo "migrate A: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]

	# Every hook runs this build's program, the earlier ones are gone. The
	# attach asked for chooses its XDP program again: at MTU 1500 the
	# single-buffer one (README: "XDP program choice").
	assert_eq "$(names "$NS_B" "$PIN")" "tc-egress=tfc_tc_egress xdp=tfc_xdp_legacy" "names on B"
	assert_eq "$(names "$NS_A" "$PIN_A")" "tc-ingress=tfc_tc_ingress" "name on A"
	local id
	for id in $old_ids; do
		wait_gone 5 bpftool prog show id "$id" || {
			echo "FAIL: earlier program $id ($(prog_name "$id")) still loaded" >&2
			return 1
		}
	done
	no_old_names "$NS_B" "$DEV_B" "$PIN"
	no_old_names "$NS_A" "$DEV_A" "$PIN_A"
	assert_eq "$(tc -n "$NS_B" -j filter show dev "$DEV_B" egress | jq '[.[]? | select(.options.prog)] | length')" \
		1 "one cls_bpf filter on B's egress"

	# Not a frame lost or doubled across the upgrade.
	ping4 5
	wait_eq 5 "15 15 15" counts

	# Plain re-attach of this build over its own programs: replaced in place.
	local before
	before=$(ids "$NS_B" "$PIN")
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point xdp
	tfc_attach "$NS_B" --iface "$DEV_B" --attach-point tc-egress --tc-api netlink
	# Re-attach chooses the XDP program again: at MTU 1500 every frame fits
	# one buffer, so the single-buffer one (README: "XDP program choice").
	assert_eq "$(names "$NS_B" "$PIN")" "tc-egress=tfc_tc_egress xdp=tfc_xdp_legacy" \
		"names after re-attach"
	[ "$(ids "$NS_B" "$PIN")" != "$before" ]
	ping4 5
	wait_eq 5 "20 20 20" counts

	read -ra PROG_IDS <<<"$(ids "$NS_B" "$PIN")"
	run --separate-stderr tfc_in "$NS_B" detach --all
	[ "$status" -eq 0 ]
	nothing_attached "$NS_B" "$DEV_B"
	read -ra PROG_IDS <<<"$(ids "$NS_A" "$PIN_A")"
	run --separate-stderr tfc_in_pin "$PIN_A" "$NS_A" detach --all
	[ "$status" -eq 0 ]
	nothing_attached "$NS_A" "$DEV_A"
}

@test "programs named tc_*: status finds them from the kernel, detach removes them" {
	attach_earlier_release
	local old_b old_a
	old_b=$(ids "$NS_B" "$PIN")
	old_a=$(ids "$NS_A" "$PIN_A")
	assert_eq "$(wc -w <<<"$old_b") $(wc -w <<<"$old_a")" "2 1" "earlier attachments"

	# Another pin dir (which does not exist): found in the kernel, as ours.
	run --separate-stderr tfc_in_pin "$PIN-none" "$NS_B" status --json
	echo "status elsewhere: exit $status, stderr '$stderr'"
	[ "$status" -eq 1 ]
	assert_eq "$(jq -r '[.other_attachments[].prog_id] | sort | join(" ")' <<<"$output")" \
		"$old_b" "earlier programs found from the kernel"
	assert_eq "$(jq -r '[.other_attachments[].pin_dir] | unique | join(" ")' <<<"$output")" \
		"$PIN" "their pin dir"

	# Detach by interface without the pin dir: found from the kernel.
	run --separate-stderr tfc_in_pin "$PIN-none" "$NS_A" detach --iface "$DEV_A" \
		--attach-point tc-ingress
	echo "detach A: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	read -ra PROG_IDS <<<"$old_a"
	nothing_attached "$NS_A" "$DEV_A"

	# Detach with the pin dir, of maps of the earlier layout.
	run --separate-stderr tfc_in "$NS_B" detach --all
	echo "detach B: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	read -ra PROG_IDS <<<"$old_b"
	nothing_attached "$NS_B" "$DEV_B"
}
