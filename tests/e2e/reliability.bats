#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2154 # bats: each @test is a subshell; run sets $stderr; PROG_IDS is read by helpers.bash
# Reliability and security: attach killed at each step, two attaches at
# once, the interface deleted under an attachment, pins removed by hand,
# bpffs unmounted (only ever inside a private mount namespace), a control
# map of another layout version, and valgrind on the read paths. Pin
# permissions and unprivileged users: privileges.bats. The fault model these tests check is
# openspec/changes/0006-fault-model.md.

load helpers

setup() {
	tfc_e2e_setup
	make_pair nov6
	BG_PIDS=()
	LOCK_FD=
}

teardown() {
	# What a failed test may leave running or held: the attaches of a race
	# (timeout passes the signal on to traffic-counter), the pin dir lock.
	local pid
	for pid in ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	[ -z "${LOCK_FD:-}" ] || exec {LOCK_FD}<&-
	tfc_e2e_teardown
}

# side POINT: ns/dev/ifx/dir/key of where POINT counts the sender's pings.
side() {
	if [ "$1" = tc-egress ]; then
		ns=$NS_A dev=$DEV_A ifx=$IFX_A dir=egress key=$B4
	else
		ns=$NS_B dev=$DEV_B ifx=$IFX_B dir=ingress key=$A4
	fi
}

xdp_prog_on() { # xdp_prog_on NS DEV -> id of the XDP program on DEV, or "none"
	ip -n "$1" -j link show "$2" | jq -r '.[0].xdp.prog.id // "none"'
}

# our_filters NS DEV ingress|egress -> how many cls_bpf filters run one of
# our programs on that hook
our_filters() {
	tc -n "$1" -j filter show dev "$2" "$3" 2>/dev/null |
		jq '[.[]? | select((.options.prog.name // "") | test("^tfc_tc_(ingress|egress)$"))] | length'
}

# hook_pin POINT API -> the link pin attach makes for POINT on $dev in $ns
hook_pin() {
	local netns
	netns=$(nsenter --net="/run/netns/$ns" stat -L -c %i /proc/self/ns/net)
	if [ "$2" = netlink ]; then
		echo "$PIN/links/$1-ns$netns-if$ifx-netlink"
	else
		echo "$PIN/links/$1-ns$netns-if$ifx"
	fi
}

# attachments_on NS DEV POINT -> attachments status lists for DEV and POINT
attachments_on() {
	status_json "$1" | jq --arg d "$2" --arg p "$3" \
		'[.attachments[] | select(.ifname == $d and .attach_point == $p)] | length'
}

# pings_answered N: N pings A -> B, and every one answered. Each echo
# request went through the hook (B's ingress, A's egress) before its reply
# was sent, so once all replies are in, whatever counts them (once, twice,
# or not at all) has counted: the counts read next are final, no pause.
pings_answered() {
	local n=$1 out
	out=$(timeout 30 ip netns exec "$NS_A" ping -q -n -c "$n" -s 56 -i 0.01 -W 2 "$B4") || true
	[[ $out == *$'\n'"$n packets transmitted, $n received,"* ]] || {
		echo "FAIL: not every one of $n pings was answered: $out" >&2
		return 1
	}
}

# pings_count N BEFORE_PACKETS: N pings and exactly N more packets counted
# under $key (a second program on the hook would count them twice).
pings_count() {
	local n=$1 before=$2
	pings_answered "$n"
	assert_eq "$(ip_counts "$ns" "$key" "$dir" "$ifx")" \
		"$((before + n)) $(((before + n) * PING4_FRAME))" "counts after $n pings"
}

# pings_not_counted N BEFORE_PACKETS: N pings and nothing counted
pings_not_counted() {
	local n=$1 before=$2
	pings_answered "$n"
	assert_eq "$(ip_counts "$ns" "$key" "$dir" "$ifx")" "$before $((before * PING4_FRAME))" \
		"counts after $n pings with nothing attached"
}

# tcx_progs NS DEV ingress|egress -> "ID NAME" of each program TCX runs on
# the hook, asked of the kernel (BPF_PROG_QUERY, through tc_drop query):
# bpftool 7.1 shows a TCX link as "type 11", with no device.
tcx_progs() {
	[ -x "$TFC_HELPERS/tc_drop" ] || {
		echo "helper not found: $TFC_HELPERS/tc_drop (make build/tests/helpers/tc_drop)" >&2
		return 1
	}
	nsenter --net="/run/netns/$1" "$TFC_HELPERS/tc_drop" query "$2" "$3"
}

# our_tcx NS DEV ingress|egress -> how many of our programs TCX runs there
our_tcx() {
	local progs
	progs=$(tcx_progs "$@") || return 1
	grep -cE '^[0-9]+ tfc_tc_(ingress|egress)$' <<<"$progs" || true
}

# hook_seen POINT API -> how many programs of ours the kernel runs on the
# hook, whatever attached them: the XDP program; on a tc hook, our cls_bpf
# filters plus our TCX programs. The API only says what the test expects.
hook_seen() {
	local n
	case $1 in
	xdp) [ "$(xdp_prog_on "$ns" "$dev")" = none ] && echo 0 || echo 1 ;;
	tc-*)
		n=$(our_filters "$ns" "$dev" "${1#tc-}") || return 1
		if kernel_has_tcx; then
			n=$((n + $(our_tcx "$ns" "$dev" "${1#tc-}"))) || return 1
		fi
		echo "$n"
		;;
	*)
		echo "hook_seen: no attach point $1" >&2
		return 1
		;;
	esac
}

# ---------------------------------------------------- faults during attach --

# killed_attach STEP POINT ATTACH_ARGS...: attach killed at STEP; exit 137
killed_attach() {
	local step=$1 point=$2
	shift 2
	TRAFFIC_COUNTER_TEST_KILL_AT=$step run --separate-stderr tfc_in "$ns" attach --iface "$dev" \
		--attach-point "$point" "$@"
	echo "attach killed at $step: status $status, stderr '$stderr'"
	assert_eq "$status" 137 "exit status of an attach killed at $step (SIGKILL)"
}

# fault_first_attach STEP POINT API STATE: the hook is empty (an earlier
# attach counted 3 pings and was detached, so the maps hold counters) and
# attach is killed at STEP. The kill leaves STATE, which STEP decides (the
# kill is a raise(SIGKILL) at a fixed point, no timing in it):
#   nothing        killed before the hook holds the program (loaded), or
#                  with the link held only by the dying process's fd
#                  (linked: xdp and tcx links go with their last fd)
#   orphan-filter  netlink, linked: the cls_bpf filter outlives the process,
#                  its program not pinned: counting, unlisted (the gap
#                  openspec/changes/0006-fault-model.md documents)
#   everything     pinned: the attach was complete
# Then: counters kept, and the same attach again recovers.
fault_first_attach() {
	local step=$1 point=$2 api=$3 want=$4 ns dev ifx dir key pin args=()
	side "$point"
	[ "$point" = xdp ] || args=(--tc-api "$api")
	pin=$(hook_pin "$point" "$api")

	tfc_attach "$ns" --iface "$dev" --attach-point "$point" "${args[@]}"
	pings_count 3 0
	run --separate-stderr tfc_in "$ns" detach --iface "$dev" --attach-point "$point"
	[ "$status" -eq 0 ]
	assert_eq "$(link_pins)" "" "link pins after detach"

	killed_attach "$step" "$point" "${args[@]}"
	map_pins_present
	local listed seen got expect
	listed=$(attachments_on "$ns" "$dev" "$point")
	seen=$(hook_seen "$point" "$api")
	got="link pin $([ -e "$pin" ] && echo present || echo absent), status lists $listed,"
	got+=" programs of ours on the hook $seen"
	case $want in
	nothing) expect="link pin absent, status lists 0, programs of ours on the hook 0" ;;
	orphan-filter) expect="link pin absent, status lists 0, programs of ours on the hook 1" ;;
	everything) expect="link pin present, status lists 1, programs of ours on the hook 1" ;;
	esac
	find "$PIN" -mindepth 1
	assert_eq "$got" "$expect" "after a kill at $step (state $want)"
	if [ "$want" = nothing ]; then
		nothing_attached "$ns" "$dev"
		pings_not_counted 2 3
	else
		# Counting, once, and into the maps that kept the counters.
		pings_count 2 3
	fi
	local before=5
	[ "$want" != nothing ] || before=3

	# The same attach again recovers: attached, pinned, listed, counting once.
	tfc_attach "$ns" --iface "$dev" --attach-point "$point" "${args[@]}"
	[ -e "$pin" ] || {
		echo "FAIL: no link pin $pin after the recovering attach" >&2
		find "$PIN" >&2
		return 1
	}
	assert_eq "$(attachments_on "$ns" "$dev" "$point")" 1 "attachments after recovery"
	assert_eq "$(hook_seen "$point" "$api")" 1 "programs of ours on the hook after recovery"
	pings_count 2 "$before"

	mapfile -t PROG_IDS < <(prog_ids "$ns")
	run --separate-stderr tfc_in "$ns" detach --iface "$dev" --attach-point "$point"
	echo "detach: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	nothing_attached "$ns" "$dev"
	assert_eq "$(link_pins)" "" "link pins after detach"
	pings_not_counted 1 "$((before + 2))"
}

# fault_reattach STEP POINT API: attach is killed at STEP while replacing the
# program of a running attachment: it keeps counting, once, and stays listed.
fault_reattach() {
	local step=$1 point=$2 api=$3 ns dev ifx dir key args=()
	side "$point"
	[ "$point" = xdp ] || args=(--tc-api "$api")
	tfc_attach "$ns" --iface "$dev" --attach-point "$point" "${args[@]}"
	pings_count 3 0

	if [ "$step" = linked ] && [ "$api" != netlink ]; then
		# Replacing the program of a pinned link is one bpf_link_update: there
		# is no "linked but not pinned" moment, so the attach completes.
		TRAFFIC_COUNTER_TEST_KILL_AT=$step run --separate-stderr tfc_in "$ns" attach \
			--iface "$dev" --attach-point "$point" "${args[@]}"
		echo "attach with a fault at $step: status $status, stderr '$stderr'"
		[ "$status" -eq 0 ]
	else
		killed_attach "$step" "$point" "${args[@]}"
	fi
	map_pins_present
	local st
	st=$(status_json "$ns")
	jq -c .attachments <<<"$st"
	assert_eq "$(jq '.attachments | length' <<<"$st")" 1 "attachments after the fault"
	assert_eq "$(jq -r '.attachments[0] | "\(.ifname) \(.ifindex) \(.attach_point)"' <<<"$st")" \
		"$dev $ifx $point" "the attachment status lists after the fault"
	assert_eq "$(hook_seen "$point" "$api")" 1 "programs of ours on the hook after the fault"
	pings_count 2 3

	tfc_attach "$ns" --iface "$dev" --attach-point "$point" "${args[@]}"
	assert_eq "$(attachments_on "$ns" "$dev" "$point")" 1 "attachments after recovery"
	pings_count 2 5
	# From scratch for the next step.
	run --separate-stderr tfc_in "$ns" detach --all --purge
	[ "$status" -eq 0 ]
	nothing_attached "$ns" "$dev"
	map_pins_absent
}

@test "xdp: attach killed once loaded: nothing attached, counters kept, attach recovers" {
	fault_first_attach loaded xdp link nothing
}

@test "xdp: attach killed once linked (not pinned): nothing attached, counters kept, attach recovers" {
	fault_first_attach linked xdp link nothing
}

@test "xdp: attach killed once pinned: fully attached, counters kept, attach recovers" {
	fault_first_attach pinned xdp link everything
}

@test "tc-ingress (tcx): attach killed once loaded: nothing attached, attach recovers" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	fault_first_attach loaded tc-ingress tcx nothing
}

@test "tc-ingress (tcx): attach killed once linked: nothing attached, attach recovers" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	fault_first_attach linked tc-ingress tcx nothing
}

@test "tc-ingress (tcx): attach killed once pinned: fully attached, attach recovers" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	fault_first_attach pinned tc-ingress tcx everything
}

@test "tc-ingress (netlink): attach killed once loaded: nothing attached, attach recovers" {
	fault_first_attach loaded tc-ingress netlink nothing
}

@test "tc-ingress (netlink): attach killed once linked: its filter counts, unlisted; the next attach leaves exactly one" {
	fault_first_attach linked tc-ingress netlink orphan-filter
}

@test "tc-ingress (netlink): attach killed once pinned: fully attached, attach recovers" {
	fault_first_attach pinned tc-ingress netlink everything
}

@test "tc-ingress: after a netlink attach killed once linked, attach --tc-api auto does not count twice" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6): auto means netlink"
	local ns dev ifx dir key
	side tc-ingress
	killed_attach linked tc-ingress --tc-api netlink
	assert_eq "$(our_filters "$ns" "$dev" ingress)" 1 "orphaned cls_bpf filters after the fault"
	pings_count 2 0

	# The operator's next step is the plain attach (auto: TCX on this kernel).
	tfc_attach "$ns" --iface "$dev" --attach-point tc-ingress
	status_json "$ns" | jq -c .attachments
	tc -n "$ns" filter show dev "$dev" ingress
	# Exactly one program of ours on the hook: every ping counted once.
	assert_eq "$(hook_seen tc-ingress tcx)" 1 "programs of ours on the hook after attach"
	pings_count 2 2
	run --separate-stderr tfc_in "$ns" detach --all --purge
	echo "detach --all --purge: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$(our_filters "$ns" "$dev" ingress)" 0 "cls_bpf filters of ours after detach --all"
	assert_eq "$(hook_seen tc-ingress tcx)" 0 "programs of ours on the hook after detach --all"
}

@test "xdp: attach killed at each step while replacing a running attachment: still counting once" {
	local step
	for step in loaded linked pinned; do
		echo "== $step"
		fault_reattach "$step" xdp link
	done
}

@test "tc-ingress (tcx): attach killed at each step while replacing: still counting once" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	local step
	for step in loaded linked pinned; do
		echo "== $step"
		fault_reattach "$step" tc-ingress tcx
	done
}

@test "tc-ingress (netlink): attach killed at each step while replacing: still counting once, listed" {
	local step
	for step in loaded pinned linked; do
		echo "== $step"
		fault_reattach "$step" tc-ingress netlink
	done
}

# ------------------------------------------------------ two attaches at once --

# race ROUND ARGS_1 -- ARGS_2: two attaches on this pin dir at once. Each
# exits 0, or 1 with one line naming the pin directory (the lock). Sets
# RACE_WON to the args of the winners, one per line. Whether they contend
# is up to the scheduler; that the lock holds under contention is what the
# test after this one proves, every run.
race() {
	local round=$1 d="$BATS_TEST_TMPDIR/race-$1" a1=() a2=()
	shift
	while [ "$1" != -- ]; do
		a1+=("$1")
		shift
	done
	shift
	a2=("$@")
	mkdir -p "$d"
	# Started as plain commands so their pids are timeout's: teardown kills
	# them if the test fails before waiting (timeout passes the signal on).
	local p1 p2 rcs=()
	timeout 60 nsenter --net="/run/netns/$NS_B" "$TFC_BIN" attach --pin-dir "$PIN" "${a1[@]}" \
		>"$d/out1" 2>"$d/err1" &
	p1=$!
	timeout 60 nsenter --net="/run/netns/$NS_B" "$TFC_BIN" attach --pin-dir "$PIN" "${a2[@]}" \
		>"$d/out2" 2>"$d/err2" &
	p2=$!
	BG_PIDS+=("$p1" "$p2")
	rcs[1]=0
	wait "$p1" || rcs[1]=$?
	rcs[2]=0
	wait "$p2" || rcs[2]=$?
	BG_PIDS=()
	RACE_WON=""
	local i err lines rc
	for i in 1 2; do
		rc=${rcs[i]}
		err=$(cat "$d/err$i")
		echo "round $round attach $i: exit $rc, stderr '$err'"
		case $rc in
		0)
			if [ "$i" = 1 ]; then RACE_WON+="${a1[*]}"$'\n'; else RACE_WON+="${a2[*]}"$'\n'; fi
			;;
		1)
			RACE_LOST=$((RACE_LOST + 1))
			lines=$(printf '%s' "$err" | grep -c '')
			assert_eq "$lines" 1 "stderr lines of the attach that lost"
			[[ $err == "traffic-counter: "*"$PIN"* ]] || {
				echo "FAIL: the loser's message does not name the pin directory $PIN" >&2
				return 1
			}
			;;
		*)
			echo "FAIL: attach exited $rc (0, or 1 for the loser, expected)" >&2
			return 1
			;;
		esac
	done
	[ -n "$RACE_WON" ] || {
		echo "FAIL: round $round: neither attach succeeded" >&2
		return 1
	}
}

@test "two attaches at once on one pin dir: one wins or both in turn; one attachment, counting once" {
	local ns dev ifx dir key round packets=0 st
	side xdp
	RACE_LOST=0
	for round in 1 2 3 4 5 6; do
		# Rounds 1 and 4 start from nothing (no maps: both would create them).
		if [ "$round" = 4 ]; then
			run --separate-stderr tfc_in "$ns" detach --all --purge
			[ "$status" -eq 0 ]
			map_pins_absent
			packets=0
		fi
		race "$round" --iface "$dev" -- --iface "$dev"
		st=$(status_json "$ns")
		assert_eq "$(jq '.attachments | length' <<<"$st")" 1 "attachments after round $round"
		assert_eq "$(jq -r '.attachments[0].prog_id' <<<"$st")" "$(xdp_prog_on "$ns" "$dev")" \
			"the XDP program on $dev is the one status lists (round $round)"
		assert_eq "$(link_pins | wc -l)" 1 "link pins after round $round"
		map_pins_present
		pings_count 2 "$packets"
		packets=$((packets + 2))
	done
	# Two different hooks at once: each attaches or loses the lock, never
	# half; what won is what status lists.
	ns=$NS_B dev=$DEV_B
	run --separate-stderr tfc_in "$ns" detach --all
	echo "detach --all: exit $status, stdout '$output', stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$output" "" "detach --all's stdout"
	assert_eq "$stderr" "detached xdp from $DEV_B" "what detach --all says"
	assert_eq "$(link_pins)" "" "link pins after detach --all"
	assert_eq "$(status_json "$ns" | jq '.attachments | length')" 0 "attachments after detach --all"
	nothing_attached "$ns" "$dev"
	local won="" want p
	for round in 7 8; do
		race "$round" --iface "$DEV_B" --attach-point xdp -- \
			--iface "$DEV_B" --attach-point tc-egress
		st=$(status_json "$NS_B")
		jq -c .attachments <<<"$st"
		# A point that won in round 7 stays attached; one that lost in
		# round 7 and won in 8 adds to it.
		won+=$(printf '%s' "$RACE_WON" | sed -n 's/.*--attach-point //p')$'\n'
		want=$(printf '%s' "$won" | sed '/^$/d' | sort -u | paste -sd,)
		assert_eq "$(jq -r '[.attachments[].attach_point] | sort | join(",")' <<<"$st")" "$want" \
			"attach points status lists after round $round (the winners so far)"
		assert_eq "$(link_pins | wc -l)" "$(jq '.attachments | length' <<<"$st")" \
			"one link pin per attachment (round $round)"
		for p in xdp tc-egress; do
			if [[ ,$want, == *",$p,"* ]]; then
				assert_eq "$(hook_seen "$p" auto)" 1 "programs of ours on $p (round $round)"
			else
				assert_eq "$(hook_seen "$p" auto)" 0 "programs of ours on $p (round $round)"
			fi
		done
	done
	echo "attaches that lost the lock: $RACE_LOST of 16"
}

@test "the pin dir lock: attach and detach held off while it is taken, all or nothing; then they run" {
	local ns dev ifx dir key prog link st cmd
	side xdp
	tfc_attach "$ns" --iface "$dev"
	pings_count 2 0
	prog=$(xdp_prog_on "$ns" "$dev")
	link=$(link_pins)
	# Another command in the middle of a change: the lock it holds is
	# flock(LOCK_EX) on the pin directory; so does this shell, on its own
	# open file description (teardown closes it if the test fails).
	exec {LOCK_FD}<"$PIN"
	flock --exclusive --nonblock "$LOCK_FD"
	local msg="traffic-counter: another traffic-counter command is changing $PIN right now:"
	msg+=" wait for it to finish, then run this one again"
	for cmd in attach detach detach-all; do
		case $cmd in
		attach) set -- attach --iface "$dev" ;;
		detach) set -- detach --iface "$dev" ;;
		detach-all) set -- detach --all --purge ;;
		esac
		run --separate-stderr tfc_in "$ns" "$@"
		echo "$* with the lock taken: exit $status, stderr '$stderr'"
		assert_error_status 1
		assert_eq "$stderr" "$msg" "what $* says with the lock taken"
		# Refused before touching anything: the same program, link pin, maps.
		assert_eq "$(xdp_prog_on "$ns" "$dev")" "$prog" "XDP program after $* was held off"
		assert_eq "$(link_pins)" "$link" "link pins after $* was held off"
		map_pins_present
	done
	pings_count 1 2

	# Released: each runs.
	exec {LOCK_FD}<&-
	LOCK_FD=
	run --separate-stderr tfc_in "$ns" attach --iface "$dev"
	echo "attach after the lock went: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$(attachments_on "$ns" "$dev" xdp)" 1 "attachments after attach"
	pings_count 1 3
	mapfile -t PROG_IDS < <(prog_ids "$ns")
	run --separate-stderr tfc_in "$ns" detach --iface "$dev"
	echo "detach after the lock went: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$stderr" "detached xdp from $dev" "what detach says"
	nothing_attached "$ns" "$dev"
	assert_eq "$(link_pins)" "" "link pins after detach"
}

# ------------------------------------------------- the interface goes away --

# recreate_pair: the veth pair again (deleting one end deleted both).
recreate_pair() {
	ip -n "$NS_A" link add "$DEV_A" type veth peer name "$DEV_B" netns "$NS_B"
	local n d
	for n in "$NS_A" "$NS_B"; do
		d=$DEV_A
		[ "$n" = "$NS_B" ] && d=$DEV_B
		ip -n "$n" link set "$d" addrgenmode none
		ip netns exec "$n" sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"
	done
	ip -n "$NS_A" addr add "$A4/24" dev "$DEV_A"
	ip -n "$NS_B" addr add "$B4/24" dev "$DEV_B"
	MAC_A=$(ip -n "$NS_A" -j link show "$DEV_A" | jq -r '.[0].address')
	MAC_B=$(ip -n "$NS_B" -j link show "$DEV_B" | jq -r '.[0].address')
	ip -n "$NS_A" neigh add "$B4" lladdr "$MAC_B" dev "$DEV_A" nud permanent
	ip -n "$NS_B" neigh add "$A4" lladdr "$MAC_A" dev "$DEV_B" nud permanent
	ip -n "$NS_A" link set "$DEV_A" up
	ip -n "$NS_B" link set "$DEV_B" up
	IFX_A=$(ifindex_of "$NS_A" "$DEV_A")
	IFX_B=$(ifindex_of "$NS_B" "$DEV_B")
}

# iface_deleted POINT API
iface_deleted() {
	local point=$1 api=$2 ns dev ifx dir key args=() st
	side "$point"
	[ "$point" = xdp ] || args=(--tc-api "$api")
	tfc_attach "$ns" --iface "$dev" --attach-point "$point" "${args[@]}"
	pings_count 2 0
	local old_ifx=$ifx
	ip -n "$ns" link del "$dev"

	run --separate-stderr tfc_in "$ns" status --json
	echo "status after the device went: exit $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	st=$output
	jq -c .attachments <<<"$st"
	# Listed still (its pin is there), as gone: ifindex 0, ifname "(gone)".
	assert_eq "$(jq '.attachments | length' <<<"$st")" 1 "attachments listed"
	assert_eq "$(jq -r '.attachments[0] | "\(.ifindex) \(.ifname) \(.attach_point)"' <<<"$st")" \
		"0 (gone) $point" "the attachment of the deleted device"
	run --separate-stderr tfc_in "$ns" status
	[ "$status" -eq 0 ]
	[[ $output == *"(gone)"* ]]
	# The counters of the old device stay in the maps.
	assert_eq "$(ip_counts "$ns" "$key" "$dir" "$old_ifx")" "2 $((2 * PING4_FRAME))" \
		"counts of the deleted device"

	run --separate-stderr tfc_in "$ns" detach --all
	echo "detach --all: exit $status, stdout '$output', stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_eq "$stderr" "detached $point from (gone)" "what detach --all says"
	assert_eq "$(status_json "$ns" | jq '.attachments | length')" 0 "attachments after detach"
	assert_eq "$(link_pins)" "" "link pins after detach --all"

	recreate_pair
	side "$point"
	tfc_attach "$ns" --iface "$dev" --attach-point "$point" "${args[@]}"
	assert_eq "$(status_json "$ns" | jq -r '.attachments[] | "\(.ifname) \(.ifindex)"')" \
		"$dev $ifx" "attachment on the new device"
	local before=0
	[ "$ifx" != "$old_ifx" ] || before=2
	pings_count 3 "$before"
}

@test "interface deleted under xdp: listed as (gone), detach --all works, attach again counts" {
	iface_deleted xdp link
}

@test "interface deleted under tc-ingress (tcx): listed as (gone), detach --all, attach again" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	iface_deleted tc-ingress tcx
}

@test "interface deleted under tc-egress (netlink): listed as (gone), detach --all, attach again" {
	iface_deleted tc-egress netlink
}

# --------------------------------------------------- pins removed by hand --

# link_pin_removed POINT API
link_pin_removed() {
	local point=$1 api=$2 ns dev ifx dir key args=() pin
	side "$point"
	[ "$point" = xdp ] || args=(--tc-api "$api")
	pin=$(hook_pin "$point" "$api")
	tfc_attach "$ns" --iface "$dev" --attach-point "$point" "${args[@]}"
	pings_count 2 0
	[ -e "$pin" ]
	rm "$pin"

	assert_eq "$(attachments_on "$ns" "$dev" "$point")" 0 "attachments listed without the pin"
	local counting=0
	if [ "$api" = netlink ]; then
		# The filter holds its program: it keeps counting, unlisted.
		assert_eq "$(our_filters "$ns" "$dev" "${point#tc-}")" 1 "filters left without the pin"
		assert_eq "$(hook_seen "$point" "$api")" 1 "programs of ours on the hook without the pin"
		counting=2
		pings_count 2 2
	else
		# The pin held the last reference to the link: it goes.
		wait_eq 5 0 hook_seen "$point" "$api"
		pings_not_counted 2 2
	fi

	run --separate-stderr tfc_in "$ns" detach --iface "$dev" --attach-point "$point"
	echo "detach without the pin: exit $status, stderr '$stderr'"
	if [ "$api" = netlink ]; then
		# detach still finds our filter by its place and program, and removes it.
		[ "$status" -eq 0 ]
		assert_eq "$(our_filters "$ns" "$dev" "${point#tc-}")" 0 "filters after detach"
	else
		assert_error_status 1
		[[ $stderr == *"nothing attached"*"$PIN"* ]]
	fi

	# The way back: attach again.
	tfc_attach "$ns" --iface "$dev" --attach-point "$point" "${args[@]}"
	[ -e "$pin" ]
	assert_eq "$(attachments_on "$ns" "$dev" "$point")" 1 "attachments after attach"
	assert_eq "$(hook_seen "$point" "$api")" 1 "programs of ours on the hook after attach"
	pings_count 2 "$((2 + counting))"
	run --separate-stderr tfc_in "$ns" detach --all
	[ "$status" -eq 0 ]
	nothing_attached "$ns" "$dev"
}

@test "link pin removed by hand (xdp): detached; detach says nothing is attached; attach again" {
	link_pin_removed xdp link
}

@test "link pin removed by hand (tcx): detached; detach says nothing is attached; attach again" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	link_pin_removed tc-ingress tcx
}

@test "program pin removed by hand (netlink): detach still removes the filter; attach again" {
	link_pin_removed tc-ingress netlink
}

@test "map pin removed by hand: dump-maps and status exit 1 naming it, attach re-pins" {
	local ns dev ifx dir key
	side xdp
	tfc_attach "$ns" --iface "$dev"
	pings_count 2 0
	rm "$PIN/traffic_counters_ip"

	run --separate-stderr tfc_in "$ns" dump-maps
	echo "dump-maps: exit $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"$PIN/traffic_counters_ip"* ]]

	# status prints the rest, names what is missing once, and exits 1.
	run --separate-stderr tfc_in "$ns" status --json
	echo "status: exit $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"$PIN: traffic_counters_ip: not pinned"* ]]
	assert_eq "$(jq -r '.maps[] | select(.name == "traffic_counters_ip")
		| "\(.pin) \(.max_entries // "missing")"' <<<"$output")" \
		"$PIN/traffic_counters_ip missing" "the IP map in status"
	assert_eq "$(jq '.attachments | length' <<<"$output")" 1 "attachments"

	# The way back: attach again pins a new IP map (the old counters went
	# with the pin) and the program counts into it.
	tfc_attach "$ns" --iface "$dev"
	map_pins_present
	assert_eq "$(status_json "$ns" | jq '.attachments | length')" 1 "attachments after attach"
	pings_count 2 0
}

# in_unmounted_bpffs OUT CMD...: CMD in a private mount namespace in which
# /sys/fs/bpf is not mounted. Never touches the machine's mount. Writes
# "exit N" and CMD's stderr to OUT.err, its stdout to OUT.out.
in_unmounted_bpffs() {
	local out=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private bash -c '
		out=$1
		shift
		for i in 1 2 3 4; do
			[ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ] || break
			umount /sys/fs/bpf || exit 97
		done
		[ "$(stat -f -c %T /sys/fs/bpf)" != bpf_fs ] || exit 97
		rc=0
		"$@" >"$out.out" 2>"$out.err" || rc=$?
		echo "$rc" >"$out.rc"
	' _ "$out" "$@"
}

@test "bpffs unmounted (private mount namespace): one line, exit 1, the machine's pins untouched" {
	local ns dev ifx dir key o="$BATS_TEST_TMPDIR/um" rc err
	side xdp
	tfc_attach "$ns" --iface "$dev"
	pings_count 2 0

	local cmd
	for cmd in dump-maps status detach-all attach set; do
		case $cmd in
		detach-all) set -- detach --all ;;
		attach) set -- attach --iface "$dev" ;;
		set) set -- set --enable-flow-map ;;
		*) set -- "$cmd" ;;
		esac
		in_unmounted_bpffs "$o-$cmd" timeout 60 nsenter --net="/run/netns/$ns" "$TFC_BIN" "$1" \
			--pin-dir "$PIN" "${@:2}"
		rc=$(cat "$o-$cmd.rc")
		err=$(cat "$o-$cmd.err")
		echo "$* without bpffs: exit $rc, stderr '$err'"
		status=$rc stderr=$err assert_error_status 1
		[[ $err == *"$PIN"* || $err == *"XDP program"* ]] || {
			echo "FAIL: the message names neither the pins nor the program in the way" >&2
			return 1
		}
	done
	# Nothing of that reached the machine's mount.
	mountpoint -q /sys/fs/bpf
	map_pins_present
	assert_eq "$(attachments_on "$ns" "$dev" xdp)" 1 "attachments"
	pings_count 2 2
}

@test "bpffs unmounted for good (its own mount, last reference): links detached, counters lost" {
	local ns dev ifx dir key o="$BATS_TEST_TMPDIR/own"
	side xdp
	mkdir -p "$o/bpf"
	# A bpffs of its own, in a private mount namespace; unmounting it is
	# what a reboot or an unmounted /sys/fs/bpf does to the pins.
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private bash -c '
		set -e
		mount -t bpf bpf "$1"
		timeout 60 nsenter --net="/run/netns/$2" "$3" attach --iface "$4" --pin-dir "$1/tc" \
			>/dev/null
		ip -n "$2" -j link show "$4" >"$5/attached.json"
		umount "$1"
	' _ "$o/bpf" "$ns" "$TFC_BIN" "$dev" "$o"
	jq -c '.[0].xdp' "$o/attached.json"
	[ "$(jq -r '.[0].xdp.prog.id // "none"' "$o/attached.json")" != none ]
	# The last pin went with the mount: the link, and with it the program.
	wait_eq 5 none xdp_prog_on "$ns" "$dev"
	nothing_attached "$ns" "$dev"
	# Attaching again starts from empty maps.
	tfc_attach "$ns" --iface "$dev"
	pings_count 2 0
}

# ---------------------------------------------------------- layout version --

@test "a control map of another layout version: attach refuses naming both, nothing attached" {
	local ns dev ifx dir key
	side xdp
	tfc_attach "$ns" --iface "$dev"
	pings_count 2 0
	run --separate-stderr tfc_in "$ns" detach --all
	[ "$status" -eq 0 ]

	local ctl="$PIN/traffic_control" val ours new
	val=$(bpftool -j map lookup pinned "$ctl" key hex 00 00 00 00 | jq -r '.value | join(" ")')
	echo "control value: $val"
	read -ra bytes <<<"$val"
	# struct tfc_control of layout 3 (its TFC_STATIC_ASSERT in the ABI header).
	assert_eq "${#bytes[@]}" 104 "bytes in struct tfc_control"
	ours=$((bytes[4] | bytes[5] << 8 | bytes[6] << 16 | bytes[7] << 24))
	new=$((ours + 41))
	bytes[4]=$(printf '0x%02x' "$new")
	bpftool map update pinned "$ctl" key hex 00 00 00 00 value hex "${bytes[@]#0x}"
	bpftool -j map lookup pinned "$ctl" key hex 00 00 00 00 | jq -c .value

	local point
	for point in xdp tc-ingress tc-egress; do
		run --separate-stderr tfc_in "$ns" attach --iface "$dev" --attach-point "$point"
		echo "attach $point: exit $status, stderr '$stderr'"
		assert_error_status 1
		[[ $stderr == *"version $new"* && $stderr == *"version $ours"* ]] || {
			echo "FAIL: the message does not name layout versions $new and $ours" >&2
			return 1
		}
		nothing_attached "$NS_B" "$DEV_B"
		nothing_attached "$NS_A" "$DEV_A"
		assert_eq "$(link_pins)" "" "link pins"
		map_pins_present
	done
	# Refused without touching them: the counters and the version are kept.
	assert_eq "$(ip_counts "$ns" "$key" "$dir" "$ifx")" "2 $((2 * PING4_FRAME))" "counts kept"
	assert_eq "$(bpftool -j map lookup pinned "$ctl" key hex 00 00 00 00 | jq -r '.value[4]')" \
		"$(printf '0x%02x' "$new")" "layout version in the control map"

	# The way out the message gives: purge, and attach makes new maps.
	run --separate-stderr tfc_in "$ns" detach --all --purge
	[ "$status" -eq 0 ]
	tfc_attach "$ns" --iface "$dev"
	pings_count 2 0
}

# ---------------------------------------------------------------- valgrind --

# A binary valgrind can run: TFC_VALGRIND_BIN, or TFC_BIN unless it is built
# with ASan, or build/traffic-counter.
valgrind_bin() {
	local b=${TFC_VALGRIND_BIN:-$TFC_BIN}
	if grep -qa __asan_init "$b"; then
		b=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build/traffic-counter
	fi
	[ -x "$b" ] && ! grep -qa __asan_init "$b" && echo "$b"
}

@test "valgrind: dump-maps --json and status --json on 30000 entries, no error, no definite leak" {
	command -v valgrind >/dev/null || skip "valgrind not installed (scripts/check-deps.sh --install)"
	local vbin
	vbin=$(valgrind_bin) || skip "no binary without ASan for valgrind (make build)"
	[ -x "$TFC_HELPERS/fill_ip_map" ] || skip "no $TFC_HELPERS/fill_ip_map (make $TFC_HELPERS/fill_ip_map)"
	tfc_attach "$NS_B" --iface "$DEV_B" --enable-flow-map
	# One flow; its IP entry (198.18.0.1) is then overwritten by entry 1.
	ping4 2
	"$TFC_HELPERS/fill_ip_map" "$PIN/traffic_counters_ip" 30000 "$IFX_B"
	local args log
	for args in "dump-maps --json" "status --json" "dump-maps --pin $PIN/traffic_counters_flow --json" \
		"dump-maps --csv --sort ip --top 100"; do
		log="$BATS_TEST_TMPDIR/vg-${args//[ \/]/_}.log"
		# shellcheck disable=SC2086 # word splitting of the argument list intended
		run --separate-stderr timeout 300 nsenter --net="/run/netns/$NS_B" valgrind \
			--tool=memcheck --error-exitcode=77 --leak-check=full \
			--errors-for-leak-kinds=definite --show-leak-kinds=definite \
			--suppressions="$BATS_TEST_DIRNAME/valgrind.supp" \
			--log-file="$log" "$vbin" $args --pin-dir "$PIN"
		echo "valgrind $args: exit $status;" \
			"$(grep -E 'ERROR SUMMARY|definitely lost|WARNING' "$log" | tr -s ' \n' ' ')"
		[ "$status" -eq 0 ] || {
			cat "$log" >&2
			return 1
		}
		grep -q 'ERROR SUMMARY: 0 errors' "$log"
		case $args in
		"dump-maps --json") assert_eq "$(jq length <<<"$output")" 30000 "entries dumped" ;;
		"status --json")
			assert_eq "$(jq '.maps[] | select(.name == "traffic_counters_ip") | .entries' \
				<<<"$output")" 30000 "IP map entries in status"
			;;
		esac
	done
}
