#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2154 # bats: each @test is a subshell; run sets $stderr; the pools are read through namerefs
# Hostile command lines against the ASan + UBSan build: for every command
# `traffic-counter --help` lists, a few hundred argument vectors made from a
# seeded generator (huge and negative numbers, empty strings, non-UTF-8
# bytes, 5000-byte paths, paths outside bpffs, pins of the wrong kind,
# repeated options, values that look like options). Each run must end with
# exit 0, 1 or 2 (never a signal, a sanitizer report or a hang), fail with
# at most one line on stderr, and exit 2 for a usage error.
#
# Safety: every run is in a fresh network namespace holding only lo, with
# TRAFFIC_COUNTER_PIN_DIR and every writable path inside this test's
# throwaway directories, from a throwaway working directory; serve only ever
# gets 127.0.0.1 port 0 as a valid --listen; each run has 2 s.
#
#   TFC_ASAN_BIN        binary (default: TFC_BIN if it is an ASan build, else
#                      build-asan/traffic-counter; skipped when missing)
#   TFC_HOSTILE_SEED    generator seed (default 1)
#   TFC_HOSTILE_COUNT   vectors per command (default 300)

load helpers

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

hostile_bin() {
	local b
	if [ -n "${TFC_ASAN_BIN:-}" ]; then
		b=$TFC_ASAN_BIN
	elif grep -qa __asan_init "$TFC_BIN" 2>/dev/null; then
		b=$TFC_BIN
	else
		b=$ROOT/build-asan/traffic-counter
	fi
	[ -x "$b" ] && echo "$b"
}

setup() {
	tfc_e2e_setup
	HB=$(hostile_bin) || skip "no ASan build of traffic-counter (make SANITIZE=1 build, or set TFC_ASAN_BIN)"
	grep -qa __asan_init "$HB" || echo "note: $HB is not built with ASan" >&3
	# An ASan build older than the sources tests old code: `make test-asan`
	# rebuilds it and runs these tests.
	if [ -z "${TFC_ASAN_BIN:-}" ] && [ "$HB" != "$TFC_BIN" ] &&
		[ -n "$(find "$ROOT/traffic-counter" "$ROOT/traffic-counter-common" -newer "$HB" \
			-name '*.[ch]' 2>/dev/null | head -1)" ]; then
		skip "$HB is older than the sources (make SANITIZE=1 build, or make test-asan)"
	fi
	HNS="tch-$TFCE_ID"
	ip netns add "$HNS"
	TFCE_NETNS+=("$HNS")
	ip -n "$HNS" link set lo up

	# Pin directories: PF with maps (tc-ingress counting on lo), PE empty.
	PF="$PIN-full"
	PE="$PIN-empty"
	TFCE_PINS+=("$PF" "$PE")
	mkdir -p "$PE"
	timeout 60 nsenter --net="/run/netns/$HNS" "$HB" attach --iface lo --attach-point tc-ingress \
		--tc-api netlink --pin-dir "$PF" 2>/dev/null
	timeout 60 nsenter --net="/run/netns/$HNS" "$HB" attach --iface lo --attach-point tc-egress \
		--pin-dir "$PF" 2>/dev/null
	bpftool map create "$PF/bogus" type hash key 4 value 4 entries 4 name bogus
	bpftool map create "$PF/bogus_pc" type percpu_hash key 8 value 16 entries 4 name bogus_pc
	# A pinned program (the netlink attachment's) and a pinned bpf_link (TCX,
	# or a program too on kernels without TCX).
	PROG_PIN=$(find "$PF/links" -name '*-netlink' | head -1)
	LINK_PIN=$(find "$PF/links" -name 'tc-egress-*' | head -1)
	[ -n "$PROG_PIN" ] && [ -n "$LINK_PIN" ]

	# Everything a run may write to is in W, the working directory of the runs.
	W="$BATS_TEST_TMPDIR/w"
	mkdir -p "$W/dir"
	cp /etc/passwd "$W/passwd"
	echo "not a map" >"$W/file"
	printf 'ATTACH="lo:tc-ingress:netlink"\n' >"$W/good.conf"
	printf '%s\n' 'ATTACH="lo:tc-ingress:netlink lo:xdp:skb nosuch0:tc-egress"' \
		"TRAFFIC_COUNTER_PIN_DIR=$PF" 'PIN_GROUP=nogroup' 'FLOW_MAP=no' 'COUNT_BY=dst' \
		'DETACH_ON_STOP=yes' 'PURGE_ON_STOP=yes' >"$W/stop.conf"
	printf 'ATTACH=lo:sideways\nIP_MAP_SIZE=-1\nNOPE=1\n' >"$W/garbage.conf"
	: >"$W/empty.conf"
	printf 'ATTACH="l\xffo:xdp"\n\xfe\xff=\x01\n' >"$W/nonutf8.conf"
	{
		printf 'ATTACH="'
		head -c 20000 /dev/zero | tr '\0' a
		printf '"\n'
	} >"$W/long.conf"
	# report's databases: a real one (the helper writes the real schema) and
	# a corrupt copy.
	if [ -x "$TFC_HELPERS/history_fill" ]; then
		printf 'event %s eth0 0 198.18.0.1 1 100\n' "$(date +%s)" |
			"$TFC_HELPERS/history_fill" "$W/history.db"
		head -c 3000 "$W/history.db" >"$W/corrupt.db"
		head -c 20000 /dev/urandom >>"$W/corrupt.db"
	fi
	CANARIES=("$W/passwd" "$W/file" "$W/good.conf")
	sha256sum "${CANARIES[@]}" >"$BATS_TEST_TMPDIR/canaries.sha256"
	SYSTEM_PINS_BEFORE=$(system_pins)
	DEFAULT_PINS_BEFORE=$(ls -lA /sys/fs/bpf/traffic_counter 2>&1 || true)

	make_pools
}

teardown() {
	local d
	# Vectors may have pinned below PF and PE, or in W's relative dirs:
	# detach whatever is recorded there before the namespace goes.
	if [ -n "${HNS:-}" ] && [ -e "/run/netns/$HNS" ]; then
		for d in "${PF:-}" "${PE:-}" "$PF/sub" "$PF/sub/deeper"; do
			[ -d "$d" ] || continue
			timeout 20 nsenter --net="/run/netns/$HNS" "$TFC_BIN" detach --all --purge \
				--pin-dir "$d" >/dev/null 2>&1 || true
		done
	fi
	tfc_e2e_teardown
}

# ------------------------------------------------------------ generator --

# A small LCG, so that the vectors are the same for a seed on every bash.
rnd() { # rnd N: R = 0..N-1
	RNG=$(((RNG * 1103515245 + 12345) & 0x7fffffff))
	R=$(((RNG >> 4) % $1))
}

pick() { # pick ARRAY_NAME: V = a random element
	local -n arr=$1
	rnd "${#arr[@]}"
	V=${arr[R]}
}

make_pools() {
	local a300 a5000 deep=""
	a300=$(printf 'a%.0s' {1..300})
	a5000=$(printf 'A%.0s' {1..5000})
	while [ ${#deep} -lt 5000 ]; do deep+="d/"; done
	GENERIC=("" " " "-" "--" "-1" "0" "1" "+1" "007" "0x1f" "1e3" "4294967295" "4294967296"
		"18446744073709551615" "18446744073709551616" "99999999999999999999999999999"
		"-9223372036854775809" "nan" "inf" "-0" "1.5" "%s%s%s%n" "%x%x%x" $'\t' $'\xff\xfe'
		$'\xc3\x28' $'caf\xe9' $'\e[2J' "a b" "*" "../../../../etc" "=" "--json" "--pin-dir"
		"--iface" "--help" "-h" "$a5000" "$a300")
	NUM=("1" "0" "2" "64" "65536" "4294967295" "4294967296" "18446744073709551616" "-1" "+5"
		" 5" "5 " "1e3" "0x10" "010" "" "abc" "99999999999999999999" "${a5000//A/9}")
	SECS=("0.1" "0.2" "1" "0" "-1" "1e-9" "1e309" "nan" "inf" "-inf" "86400" "86401" "3600"
		"0x1" "1,5" "" "abc" "2.5e1" " 1" "0.1s" "${a5000//A/9}")
	IFACE=("lo" "lo" "nosuch0" "" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "lo " "1" "../lo" $'l\xffo'
		"%s%n" "eth0" "$a300")
	LISTEN=("127.0.0.1:0" "127.0.0.1:0" "127.0.0.1" "127.0.0.1:" ":" "" "[::1" "[::1]:"
		"127.0.0.1:65536" "127.0.0.1:-1" "127.0.0.1:99999999999" "999.1.1.1:0" "[zz]:0" "a:b:c"
		"$a300:0" "nonexistent.invalid:0" "127.0.0.1:0x10" "[127.0.0.1]:0" "127.0.0.1:+0")
	COLLECTOR=("127.0.0.1:4739" "127.0.0.1:0" "127.0.0.1:65536" "[::1]:4739" "198.18.0.9:4739"
		"" ":" "a:b" "127.0.0.1" "[::1" "$a300:1" "nonexistent.invalid:4739" "[zz]:1")
	PREFIX=("24,64" "32,128" "0,0" "33" "24,129" "-1" "24," ",64" "a,b" "4294967296"
		"24,64,8" "" "8" "24,64,")
	CONFIG=("$W/good.conf" "$W/stop.conf" "$W/garbage.conf" "$W/empty.conf" "$W/nonutf8.conf"
		"$W/passwd" "$W/nonexistent.conf" "$W/dir" "/dev/null" "$W/long.conf" "$W/$a5000"
		"" "rel.conf")
	DBP=("$W/history.db" "$W/history.db" "$W/corrupt.db" "$W/passwd" "$W/file" "$W/dir"
		"/dev/null" "$W/nonexistent.db" "" "$W/$a5000" "rel.db" "$W/good.conf" "$W/nodir/h.db"
		"$W/$a300.db")
	TIMES=("2026-12-01" "2026-12-01 10:00" "2026-12-01T10:00:59" "2026-02-30" "2026-13-01"
		"1970-01-01" "9999-12-31 23:59" "1900-01-01" "" "today" "2026-12-01 25:00" "-1"
		"2026-12-01 10:00 " "$a300")
	CHARTP=("$W/c.svg" "$W/c.png" "$W/dir/c.PNG" "$W/x.txt" "" ".svg" "$W/nodir/c.svg"
		"$W/dir" "$W/$a300.svg" "$W/dir/.png")
	SIZES=("800x400" "200x150" "2000x1000" "199x150" "8001x1" "0x0" "-1x-1" "1e3x1e3"
		"800X400" "800x" "x400" "" "4294967296x1" "800x400x2")
	ADDRP=("198.18.0.1" "198.18.0.0/16" "fd00::/8" "::/0" "0.0.0.0/0" "198.18.0.1/33"
		"fd00::/129" "1.2.3" "" "198.18.0.1/" "/24" "fd00::1%lo")
	# Writable places only: for commands that create, pin or remove.
	PINDIR_W=("$PF" "$PF" "$PE" "$PF/" "$PF//" "$PF/sub" "$PF/sub/deeper" "$W/nonbpf"
		"$W/passwd" "rel" "./rel2" "$PF/$a300" "$PF/$deep" "$PF/links" "$PF/traffic_counters_ip"
		"$PE/../${PF##*/}" "$PF/$a5000")
	PIN_W=("$PF/traffic_counters_ip" "$PF/traffic_counters_flow" "$PF/traffic_control"
		"$PF/traffic_stats" "$PF/bogus" "$PF/bogus_pc" "$PF/nothing" "$PF/links" "$LINK_PIN" "$PROG_PIN"
		"$W/passwd" "$W/file" "$W/x" "$W/dir" "$PE/traffic_counters_ip" "rel" "$W/$a5000"
		"$PF/$a300" "$PF/$deep")
	# Read-only commands may also be pointed at the system's own paths.
	PINDIR_R=("${PINDIR_W[@]}" "" "/" "/sys/fs/bpf" "/etc" "/tmp/x" "/proc/self" "/etc/passwd")
	PIN_R=("${PIN_W[@]}" "/etc/passwd" "/tmp/x" "/" "" "/dev/null" "/proc/self/mem")
}

# values_for OPTION COMMAND: the pool (array name) its values come from
values_for() {
	case $1 in
	iface) P=IFACE ;;
	attach-point) P=E_AP ;;
	xdp-mode) P=E_XDP ;;
	tc-api) P=E_API ;;
	count-by) P=E_COUNT ;;
	sort) P=E_SORT ;;
	direction) P=E_DIR ;;
	transport) P=E_TRANSPORT ;;
	octet-delta-count) P=E_OCTET ;;
	ip-map-size | flow-map-size | prefix-map-size | top | max-series | tolerance | iterations | observation-domain)
		P=NUM
		;;
	interval | active-timeout | idle-timeout | template-interval | save-interval | evict-idle)
		P=SECS
		;;
	max-addresses) P=NUM ;;
	retention) P=E_RETENTION ;;
	listen) P=LISTEN ;;
	collector) P=COLLECTOR ;;
	aggregate-prefix) P=PREFIX ;;
	overflow-prefix) P=E_OVERFLOW ;;
	aggregate) P=E_AGG ;;
	config | web-config) P=CONFIG ;;
	db) P=DBP ;;
	since | until) P=TIMES ;;
	chart) P=CHARTP ;;
	chart-size) P=SIZES ;;
	address) [ "$CMD" = report ] && P=ADDRP || P=GENERIC ;;
	pin-dir) [ "$READ_ONLY" = 1 ] && P=PINDIR_R || P=PINDIR_W ;;
	pin | flow-pin | control-pin) [ "$READ_ONLY" = 1 ] && P=PIN_R || P=PIN_W ;;
	*) P=GENERIC ;;
	esac
}

E_AP=(xdp tc-ingress tc-egress xdp sideways "" XDP)
E_XDP=(driver native skb hw skb turbo "")
E_API=(auto tcx netlink netlink ioctl "")
E_COUNT=(src dst default both "")
E_SORT=(bytes packets ip rate total colour "")
E_DIR=(ingress egress both "")
E_TRANSPORT=(udp tcp sctp "")
E_OCTET=(none l2 l3 "")
E_OVERFLOW=("24,48" 0 "0,0" "32,128" "33,48" "24,129" 24 "" "," "-1,48" "24,48,1")
E_AGG=("0.0.0.0/0=24,198.18.0.0/15=32" "fd00::/8=64" "::ffff:0:0/96=120" "10.0.0.1/8=24"
	"10.0.0.0/8=7" "10.0.0.0/8=24,10.0.0.0/8=24" "" "=" "," "x/8=24" "198.18.0.0/15=")
E_RETENTION=("5min=35d" "hour=forever" "year=1y" "day=" "=1d" "week=1d" "hour=0" "hour=-1d"
	"month=1x" "" "=")

# read_options COMMAND: OPTS (names) and OPT_ARG (1: takes a value) from --help
read_options() {
	local line name rest
	OPTS=()
	OPT_ARG=()
	while IFS= read -r line; do
		[[ $line =~ ^\ \ --([a-z0-9-]+)(.*)$ ]] || continue
		name=${BASH_REMATCH[1]}
		rest=${BASH_REMATCH[2]}
		[ "$name" != help ] || continue
		OPTS+=("$name")
		# "--name ARG  help" takes a value; "--name      help" does not.
		if [[ $rest =~ ^\ [^\ ] ]]; then OPT_ARG+=(1); else OPT_ARG+=(0); fi
	done < <("$HB" "$1" --help)
	[ ${#OPTS[@]} -gt 0 ] || {
		echo "FAIL: no options parsed from 'traffic-counter $1 --help'" >&2
		return 1
	}
}

# usage_error_group: UE = argv elements that are a usage error wherever they
# stand between two options; UE_END=1 when they must come last.
usage_error_group() {
	local i
	UE_END=0
	rnd 7
	case $R in
	0) UE=("--no-such-option") ;;
	1) UE=("-Z") ;;
	2) UE=("stray") ;;
	3) UE=($'\xff\xfe') ;;
	*)
		rnd "${#OPTS[@]}"
		i=$R
		if [ "${OPT_ARG[i]}" = 0 ]; then
			UE=("--${OPTS[i]}=1") # a flag given a value
		else
			values_for "${OPTS[i]}"
			case $P in
			NUM) UE=("--${OPTS[i]}" "12x") ;;
			SECS) UE=("--${OPTS[i]}" "abc") ;;
			E_*) UE=("--${OPTS[i]}" "sideways") ;;
			*)
				UE=("--${OPTS[i]}") # its value missing: last
				UE_END=1
				;;
			esac
		fi
		;;
	esac
}

# gen_vector: VEC (argv after the command) and EXPECT (2: usage error, or
# "any"); VERBOSE=1 when -v goes before the command.
gen_vector() {
	local n g p i inject
	VEC=()
	EXPECT=any
	VERBOSE=0
	rnd 7
	n=$R
	rnd 100
	inject=$((R < 35))
	if [ "$inject" = 1 ]; then
		usage_error_group
		if [ "$UE_END" = 1 ]; then p=$n; else rnd $((n + 1)) && p=$R; fi
		EXPECT=2
	fi
	for ((g = 0; g <= n; g++)); do
		[ "$inject" = 0 ] || [ "$g" != "$p" ] || VEC+=("${UE[@]}")
		[ "$g" -lt "$n" ] || break
		rnd "${#OPTS[@]}"
		i=$R
		if [ "${OPT_ARG[i]}" = 0 ]; then
			VEC+=("--${OPTS[i]}")
			continue
		fi
		values_for "${OPTS[i]}"
		rnd 10
		[ "$R" -ge 8 ] && P=GENERIC
		pick "$P"
		rnd 5
		if [ "$R" = 0 ]; then VEC+=("--${OPTS[i]}=$V"); else VEC+=("--${OPTS[i]}" "$V"); fi
	done
	# Most vectors carry what the command needs to get past its usage
	# checks, so that they reach the code behind them.
	rnd 10
	if [ "$R" -lt 6 ]; then
		case $CMD in
		attach)
			# lo has no native XDP: a hook that can work there.
			rnd 3
			case $R in
			0) VEC=(--iface lo --attach-point tc-ingress "${VEC[@]}") ;;
			1) VEC=(--iface lo --attach-point tc-egress "${VEC[@]}") ;;
			2) VEC=(--iface lo --xdp-mode skb "${VEC[@]}") ;;
			esac
			;;
		verify) VEC=(--iface lo "${VEC[@]}") ;;
		export-ipfix) VEC=(--collector 127.0.0.1:4739 "${VEC[@]}") ;;
		set) VEC=(--enable-flow-map "${VEC[@]}") ;;
		detach) VEC=(--all "${VEC[@]}") ;;
		apply) VEC=(--config "$W/good.conf" "${VEC[@]}") ;;
		report) VEC=(--db "$W/history.db" "${VEC[@]}") ;;
		esac
	fi
	rnd 20
	[ "$R" != 0 ] || VERBOSE=1
}

# ---------------------------------------------------------------- runner --

# Commands that run until stopped: our SIGTERM at 2 s ends them (they exit
# 0 on it; verify, sleeping through its interval, dies of it: 143).
is_long_running() {
	case $1 in serve | top | export-ipfix | verify | record) return 0 ;; esac
	return 1
}

# run_vector COMMAND ARGS...: RC, and the run's stderr in $W/.err
run_vector() {
	local cmd=$1 pre=()
	shift
	[ "$VERBOSE" = 0 ] || pre=(-v)
	RC=0
	# --foreground: the TERM goes to traffic-counter only, not to
	# LeakSanitizer's helper task (which then never lets go of it).
	TRAFFIC_COUNTER_PIN_DIR=$DEFAULT_PIN_DIR \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
		UBSAN_OPTIONS=halt_on_error=1:exitcode=98:print_stacktrace=1 \
		timeout --foreground --preserve-status -k 2 2 \
		nsenter --net="/run/netns/$HNS" --wd="$W" "$HB" "${pre[@]}" "$cmd" "$@" \
		</dev/null >"$W/.out" 2>"$W/.err" || RC=$?
}

# judge COMMAND: WHY the last run is wrong, or empty
judge() {
	local cmd=$1 lines l
	local -a err
	WHY=""
	mapfile -t err <"$W/.err"
	lines=${#err[@]}
	case $RC in
	0 | 1 | 2) ;;
	143)
		is_long_running "$cmd" || WHY="killed by our SIGTERM after 2 s (hangs?)"
		return 0
		;;
	99) WHY="AddressSanitizer report" && return 0 ;;
	98) WHY="UndefinedBehaviorSanitizer report" && return 0 ;;
	137) WHY="ignored SIGTERM, killed" && return 0 ;;
	*) WHY="exit $RC (a signal?)" && return 0 ;;
	esac
	if [ "$EXPECT" = 2 ] && [ "$RC" != 2 ]; then
		WHY="usage error, but exit $RC"
		return 0
	fi
	[ "$RC" = 1 ] || [ "$RC" = 2 ] || return 0
	[ "$VERBOSE" = 0 ] || return 0
	# A long-running command that started and was then stopped by our
	# SIGTERM says what it did on the way out (export-ipfix: its last cycle).
	if is_long_running "$cmd" && grep -q '^stopping on signal 15' "$W/.err"; then
		return 0
	fi
	if [ "$lines" -gt 1 ] && { [ "$cmd" = apply ] || [[ " ${VEC[*]} " == *" --config "* ]] ||
		[[ " ${VEC[*]} " == *" --config="* ]]; }; then
		# A configuration file is read whole and each bad line named (apply
		# also names each step that failed): one message a line.
		for l in "${err[@]}"; do
			[[ $l == "traffic-counter: "* ]] || WHY="apply: a stderr line is not a message"
		done
		return 0
	fi
	if [ "$lines" -gt 1 ]; then
		WHY="$lines lines on stderr"
	elif [ "$lines" = 1 ] && [[ ${err[0]} != "traffic-counter: "* ]]; then
		WHY="stderr line does not start with 'traffic-counter: '"
	fi
}

# system_pins: the system paths the read-only vectors name as a pin or a pin
# directory (/proc/self aside: nothing can be made there), and what the tool
# would create below each (its pin, map, links
# and staging names): whatever of them exists, with its inode. Only these can
# change through a vector, so other activity on the machine cannot fail the
# check.
system_pins() {
	local d n
	for d in / /etc /sys/fs/bpf /tmp/x; do
		stat -c '%n %i' "$d" 2>/dev/null || true
		for n in traffic_counters_ip traffic_counters_flow traffic_control traffic_stats \
			traffic_ipfix links migrating; do
			stat -c '%n %i' "${d%/}/$n" 2>/dev/null || true
		done
	done
}

check_canaries() {
	sha256sum --quiet -c "$BATS_TEST_TMPDIR/canaries.sha256" || {
		echo "FAIL: a file outside bpffs given as a pin was changed or removed" >&2
		return 1
	}
	assert_eq "$(system_pins)" "$SYSTEM_PINS_BEFORE" "pins the tool could make in system paths"
	assert_eq "$(ls -lA /sys/fs/bpf/traffic_counter 2>&1 || true)" "$DEFAULT_PINS_BEFORE" \
		"the default pin directory"
}

# fuzz_loop COMMAND: TFC_HOSTILE_COUNT vectors; every failure listed (the
# first 25 in full); exit 1 if any failed. Runs in a bash of its own
# (fuzz_command): bats traces every command of a test, which would make the
# generator ten times slower than the runs it feeds.
fuzz_loop() {
	local cmd=$1 count=${TFC_HOSTILE_COUNT:-300} k nfail=0 n2=0 counts=""
	local -A by_rc=()
	read_options "$cmd" || return 1
	CMD=$cmd
	READ_ONLY=0
	case $cmd in dump-maps | status) READ_ONLY=1 ;; esac
	# The populated maps for what reads them; no maps for the long-running
	# ones (so most of their runs end at once), unless a vector names PF.
	DEFAULT_PIN_DIR=$PF
	! is_long_running "$cmd" || DEFAULT_PIN_DIR=$PE
	RNG=$((${TFC_HOSTILE_SEED:-1} * 7919 + $(cksum <<<"$cmd" | cut -d' ' -f1)))
	RNG=$((RNG & 0x7fffffff))
	local start=$SECONDS
	for ((k = 0; k < count; k++)); do
		gen_vector
		# serve's default 127.0.0.1:10437 is not for tests: a later --listen
		# of the vector (last wins) is from a pool whose only valid address is
		# 127.0.0.1 port 0.
		[ "$cmd" != serve ] || VEC=(--listen 127.0.0.1:0 "${VEC[@]}")
		# record's default database is a system path: one under W first.
		[ "$cmd" != record ] || VEC=(--db "$W/h.db" "${VEC[@]}")
		run_vector "$cmd" "${VEC[@]}"
		by_rc[$RC]=$((${by_rc[$RC]:-0} + 1))
		[ "$EXPECT" != 2 ] || n2=$((n2 + 1))
		judge "$cmd"
		[ -n "$WHY" ] || continue
		nfail=$((nfail + 1))
		if [ "$nfail" -le 25 ]; then
			{
				printf 'FAIL #%d: %s: traffic-counter' "$k" "$WHY"
				[ "$VERBOSE" = 0 ] || printf ' -v'
				printf ' %q' "$cmd" "${VEC[@]:0:40}"
				echo
				head -c 600 "$W/.err" | head -5 | sed 's/^/    stderr: /'
			} >&2
		fi
	done
	for k in "${!by_rc[@]}"; do counts+=" exit $k: ${by_rc[$k]}"; done
	echo "$cmd: $count vectors ($n2 usage errors) in $((SECONDS - start)) s;$counts; $nfail failed"
	[ "$nfail" = 0 ]
}

fuzz_command() {
	local rc=0
	bash -c "set -u
		$(declare -p HB HNS W PF PE PROG_PIN LINK_PIN GENERIC NUM SECS IFACE LISTEN COLLECTOR PREFIX \
		CONFIG PINDIR_W PIN_W PINDIR_R PIN_R E_AP E_XDP E_API E_COUNT E_SORT E_DIR E_TRANSPORT \
		E_OCTET E_OVERFLOW E_AGG E_RETENTION DBP TIMES CHARTP SIZES ADDRP)
		$(declare -f rnd pick values_for read_options usage_error_group gen_vector \
		is_long_running run_vector judge fuzz_loop)
		fuzz_loop \"\$1\"" _ "$1" || rc=$?
	check_canaries
	assert_eq "$rc" 0 "exit status of the vectors' loop ($1)"
}

# ------------------------------------------------------------------ tests --

@test "hostile arguments: the command list is the one these tests cover" {
	local listed
	listed=$("$HB" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' | sort |
		paste -sd' ')
	echo "commands: $listed"
	assert_eq "$listed" "apply attach detach dump-maps export-ipfix record report serve set status top verify" \
		"commands in --help (add a test below for a new one)"
}

@test "hostile arguments: attach" { fuzz_command attach; }
@test "hostile arguments: detach" { fuzz_command detach; }
@test "hostile arguments: dump-maps" { fuzz_command dump-maps; }
@test "hostile arguments: status" { fuzz_command status; }
@test "hostile arguments: set" { fuzz_command set; }
@test "hostile arguments: verify" { fuzz_command verify; }
@test "hostile arguments: serve" { fuzz_command serve; }
@test "hostile arguments: export-ipfix" { fuzz_command export-ipfix; }
@test "hostile arguments: top" { fuzz_command top; }
@test "hostile arguments: apply" { fuzz_command apply; }
@test "hostile arguments: record" { fuzz_command record; }
@test "hostile arguments: report" { fuzz_command report; }

@test "hostile arguments: the command word and global options" {
	local v nfail=0
	DEFAULT_PIN_DIR=$PF
	VERBOSE=0
	local -a words=("" "ATTACH" "attach " $'\xff' "--" "-" "-x" "--verbose=1" "--versionx" "helpx"
		"$(printf 'c%.0s' {1..5000})" "%s%n" "dump_maps" "-vv")
	for v in "${words[@]}"; do
		EXPECT=2
		run_vector "$v"
		judge "$v"
		if [ -n "$WHY" ]; then
			nfail=$((nfail + 1))
			printf 'FAIL: %s: traffic-counter %q\n' "$WHY" "$v" >&2
			head -3 "$W/.err" >&2
		fi
		# Also as the command after "help".
		EXPECT=2
		run_vector help "$v"
		judge help
		if [ -n "$WHY" ]; then
			nfail=$((nfail + 1))
			printf 'FAIL: %s: traffic-counter help %q\n' "$WHY" "$v" >&2
			head -3 "$W/.err" >&2
		fi
	done
	assert_eq "$nfail" 0 "vectors that failed"
}

# ------------------------------------------------ pins that are not maps --

@test "dump-maps --pin naming something that is not an IP or flow map: exit 1, one clear line" {
	local p failed=0 kind
	mkdir -p "$W/dir"
	for p in "$W/file" "$W/dir" /dev/null "$PROG_PIN" "$LINK_PIN" "$PF/bogus" "$PF/bogus_pc" \
		"$PF/traffic_control" "$PF/traffic_stats" "$PF/links" "$PF"; do
		run --separate-stderr timeout 20 nsenter --net="/run/netns/$HNS" "$HB" dump-maps \
			--pin "$p" --pin-dir "$PF"
		kind=$(stat -f -c %T "$p")/$(stat -c %F "$p")
		echo "dump-maps --pin $p ($kind): exit $status, stderr '$stderr'"
		if ! assert_error_status 1; then
			failed=$((failed + 1))
		elif [[ $stderr != *"$p"* ]]; then
			echo "FAIL: the message does not name $p" >&2
			failed=$((failed + 1))
		elif ! [[ $stderr =~ not\ a\ |not\ on\ a\ BPF ]] || [[ $stderr == *"Permission denied"* ]]; then
			# Root has every permission: say what the path is not.
			echo "FAIL: the message does not say that $p is not a BPF map (or blames permissions)" >&2
			failed=$((failed + 1))
		fi
	done
	# The IP map is still read as it was.
	run --separate-stderr timeout 20 nsenter --net="/run/netns/$HNS" "$HB" dump-maps --json \
		--pin-dir "$PF"
	[ "$status" -eq 0 ]
	assert_eq "$failed" 0 "paths not rejected with a clear message"
}

@test "detach --purge and apply --stop never remove a file that is not a BPF map" {
	local victim="$W/victim" args
	# The pin directory has no attachment: --purge goes ahead.
	timeout 20 nsenter --net="/run/netns/$HNS" "$HB" detach --all --pin-dir "$PF" 2>/dev/null
	printf 'TRAFFIC_COUNTER_PIN_DIR=%s\nATTACH="lo:tc-egress"\nDETACH_ON_STOP=yes\nPURGE_ON_STOP=yes\n' \
		"$PF" >"$W/purge.conf"
	local failed=0
	for args in "detach --all --purge --pin" "detach --all --purge --flow-pin" \
		"detach --all --purge --control-pin" "apply --stop --config $W/purge.conf --pin"; do
		echo "precious" >"$victim"
		# shellcheck disable=SC2086 # word splitting of the argument list intended
		run --separate-stderr timeout 20 nsenter --net="/run/netns/$HNS" "$HB" $args "$victim" \
			--pin-dir "$PF"
		echo "$args $victim: exit $status, stderr '$stderr'"
		if [ ! -e "$victim" ]; then
			echo "FAIL: $args $victim removed $victim (a regular file, not a map)" >&2
			failed=$((failed + 1))
		fi
	done
	assert_eq "$failed" 0 "regular files removed"
}

@test "attach with a pin directory outside bpffs: exit 1, one line naming it, creates nothing" {
	local d="$W/notbpf/pins"
	run --separate-stderr timeout 20 nsenter --net="/run/netns/$HNS" "$HB" attach --iface lo \
		--attach-point tc-egress --pin-dir "$d"
	echo "attach --pin-dir $d: exit $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"$d"* ]]
	[[ $stderr == *BPF* || $stderr == *bpf* ]]
	[ ! -e "$W/notbpf" ] || {
		echo "FAIL: attach created directories outside bpffs before refusing:" >&2
		find "$W/notbpf" >&2
		return 1
	}
}

@test "a newline or terminal escape in an argument: still one line, no raw control characters" {
	local failed=0 nl=$'side\nways' esc=$'\e[31mred\e[0m'
	DEFAULT_PIN_DIR=$PF
	VERBOSE=0
	local -a cases=(
		"attach --iface lo --attach-point NL" "detach --iface lo --attach-point NL"
		"dump-maps --sort NL" "status --pin-dir NL" "set --enable-flow-map --control-pin NL"
		"dump-maps --pin ESC" "attach --iface ESC")
	local c word args
	for c in "${cases[@]}"; do
		args=()
		for word in $c; do
			case $word in
			NL) args+=("$nl") ;;
			ESC) args+=("$esc") ;;
			*) args+=("$word") ;;
			esac
		done
		run_vector "${args[@]}"
		echo "$c: exit $RC, stderr: $(cat -v "$W/.err")"
		if [ "$(grep -c '' "$W/.err")" -gt 1 ]; then
			echo "FAIL: $c: more than one line on stderr" >&2
			failed=$((failed + 1))
		elif LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$W/.err"; then
			echo "FAIL: $c: raw control characters on stderr" >&2
			failed=$((failed + 1))
		elif [ "$RC" != 2 ] && [ "$RC" != 1 ]; then
			echo "FAIL: $c: exit $RC, expected 1 or 2" >&2
			failed=$((failed + 1))
		fi
	done
	assert_eq "$failed" 0 "cases that broke the one-line rule"
}
