#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# shellcheck disable=SC2016 # $1... in single quotes are for the inner shell
# make install and uninstall: exactly the expected files; man pages that
# render and document every command and option; units systemd accepts, the
# exporter's with little exposure; the boot unit's own command lines
# attaching from a configuration; bash completion found where bash-completion
# looks, completing commands, options and values.

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
SBIN=/usr/local/sbin/traffic-counter
UNIT_DIR=/usr/local/lib/systemd/system
MAN_DIR=/usr/local/share/man
COMPLETION=/usr/local/share/bash-completion/completions/traffic-counter
CONF=/etc/traffic-counter/traffic-counter.conf

GENERATOR=/usr/local/lib/systemd/system-generators/traffic-counter-generator

EXPECTED_FILES="$CONF
$GENERATOR
/usr/local/lib/systemd/system/traffic-counter-exporter.service
/usr/local/lib/systemd/system/traffic-counter-ipfix.service
/usr/local/lib/systemd/system/traffic-counter-record.service
/usr/local/lib/systemd/system/traffic-counter.service
/usr/local/lib/sysusers.d/traffic-counter.conf
$SBIN
$COMPLETION
$MAN_DIR/man5/traffic-counter.conf.5
$MAN_DIR/man8/traffic-counter.8"

# install_to DESTDIR [MAKE ARGS...]
install_to() {
	local dest=$1
	shift
	make -C "$REPO" --no-print-directory install DESTDIR="$dest" "$@" >"$dest.log" 2>&1 || {
		cat "$dest.log" >&2
		return 1
	}
}

# One installed tree for the file; tests that change it make their own.
setup_file() {
	ROOT=$BATS_FILE_TMPDIR/root
	install_to "$ROOT"
	export ROOT
}

setup() {
	tfc_e2e_setup
	need_tools make man systemd-analyze scdoc
}

teardown() {
	tfc_e2e_teardown
}

files_under() { (cd "$1" && find . \( -type f -o -type l \) -printf '/%P\n' | sort); }

# man_text PAGE: the page rendered as man shows it, 80 columns, no warnings.
man_text() {
	local err=$BATS_TEST_TMPDIR/man.err
	MANWIDTH=80 man --warnings -l "$1" 2>"$err"
	if [ -s "$err" ]; then
		echo "FAIL: man -l $1 warned:" >&2
		cat "$err" >&2
		return 1
	fi
}

# section TEXT NAME: the lines of subsection NAME (a heading indented by 3).
section() {
	awk -v name="   $2" '$0 == name { on = 1; next } on && /^(   )?[A-Za-z]/ { on = 0 } on' <<<"$1"
}

# ---------------------------------------------------------------- tests --

@test "make install DESTDIR=...: exactly the expected files, with their modes" {
	assert_eq "$(files_under "$ROOT")" "$(sort <<<"$EXPECTED_FILES")" "installed files"
	assert_eq "$(stat -c %a "$ROOT$SBIN")" 755 "binary mode"
	local f
	while read -r f; do
		[ "$f" = "$SBIN" ] || [ "$f" = "$GENERATOR" ] ||
			assert_eq "$(stat -c %a "$ROOT$f")" 644 "mode of $f"
	done <<<"$EXPECTED_FILES"
	cmp "$REPO/build/traffic-counter" "$ROOT$SBIN"
	# The generator: a relative link, so that it holds in DESTDIR as installed.
	assert_eq "$(readlink "$ROOT$GENERATOR")" ../../../sbin/traffic-counter "generator link"
	assert_eq "$(readlink -f "$ROOT$GENERATOR")" "$(readlink -f "$ROOT$SBIN")" "generator target"
	grep -qx "ExecStart=$SBIN apply --config $CONF" "$ROOT$UNIT_DIR/traffic-counter.service"
	grep -qx "ExecStart=$SBIN serve" "$ROOT$UNIT_DIR/traffic-counter-exporter.service"
	grep -qx "ExecStart=$SBIN export-ipfix --config $CONF --pin-dir /run/traffic-counter-pins" \
		"$ROOT$UNIT_DIR/traffic-counter-ipfix.service"
	grep -qx "ExecStart=$SBIN record --config $CONF --pin-dir /run/traffic-counter-pins" \
		"$ROOT$UNIT_DIR/traffic-counter-record.service"
	# It passes LD_PRELOAD and the like into the process: none in the new units.
	run ! grep -l EnvironmentFile= "$ROOT$UNIT_DIR/traffic-counter-exporter.service" \
		"$ROOT$UNIT_DIR/traffic-counter-ipfix.service"
	run ! grep -r '@[A-Z]*@' "$ROOT$UNIT_DIR"
}

@test "make install PREFIX=/usr: units name /usr/sbin; make uninstall removes every file" {
	local dest=$BATS_TEST_TMPDIR/usr-root
	install_to "$dest" PREFIX=/usr
	grep -qx "ExecStart=/usr/sbin/traffic-counter serve" \
		"$dest/usr/lib/systemd/system/traffic-counter-exporter.service"
	[ -x "$dest/usr/sbin/traffic-counter" ]
	make -C "$REPO" --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr >/dev/null
	assert_eq "$(files_under "$dest")" "" "files left after uninstall"
}

@test "make install keeps an existing configuration; uninstall keeps a changed one" {
	local dest=$BATS_TEST_TMPDIR/conf-root
	mkdir -p "$dest/etc/traffic-counter"
	echo 'ATTACH=eth0:xdp' >"$dest$CONF"
	install_to "$dest"
	assert_eq "$(cat "$dest$CONF")" "ATTACH=eth0:xdp" "configuration after install"
	make -C "$REPO" --no-print-directory uninstall DESTDIR="$dest" >/dev/null
	assert_eq "$(files_under "$dest")" "$CONF" "files left after uninstall"
}

@test "man -l renders each page without a warning" {
	local text
	text=$(man_text "$ROOT$MAN_DIR/man8/traffic-counter.8")
	[[ $text == "traffic-counter(8)"*NAME*SYNOPSIS*DESCRIPTION*COMMANDS*"EXIT STATUS"*FILES* ]]
	text=$(man_text "$ROOT$MAN_DIR/man5/traffic-counter.conf.5")
	[[ $text == "traffic-counter.conf(5)"*NAME*FORMAT*KEYS*ERRORS*EXAMPLE* ]]
	local key
	for key in ATTACH TRAFFIC_COUNTER_PIN_DIR IP_MAP_SIZE FLOW_MAP_SIZE FLOW_MAP COUNT_BY \
		PIN_GROUP DETACH_ON_STOP PURGE_ON_STOP MIGRATE; do
		[[ $text == *"$key="* ]] || {
			echo "FAIL: traffic-counter.conf(5) does not document $key" >&2
			return 1
		}
	done
}

@test "traffic-counter(8) documents every command and every option of its --help" {
	local text cmd cmds opt sec missing="" nopts=0
	text=$(man_text "$ROOT$MAN_DIR/man8/traffic-counter.8")
	for opt in --pin-dir --pin --flow-pin --control-pin --verbose --version; do
		[[ $text == *"$opt"* ]] || missing+=" $opt"
	done
	cmds=$("$TFC_BIN" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p')
	# The parse found every command, so the loops below check something.
	assert_eq "$(wc -w <<<"$cmds")" 12 "commands in --help"
	for cmd in $cmds; do
		sec=$(section "$text" "$cmd")
		if [ -z "$sec" ]; then
			missing+=" command:$cmd"
			continue
		fi
		for opt in $("$TFC_BIN" "$cmd" --help | sed -n 's/^  \(--[a-z0-9-]*\).*/\1/p'); do
			case $opt in --pin-dir | --pin | --flow-pin | --control-pin) continue ;; esac
			nopts=$((nopts + 1))
			grep -q -- "$opt\b" <<<"$sec" || missing+=" $cmd:$opt"
		done
	done
	# Every command's own options (pin options aside): update when one is added.
	assert_eq "$nopts" 98 "command options in the --help texts"
	assert_eq "$missing" "" "undocumented in doc/traffic-counter.8.scd"
}

# verify_root: the installed tree plus the host's own units, which the
# installed ones depend on (sysinit.target, network-pre.target, ...).
verify_root() {
	VROOT=$BATS_TEST_TMPDIR/vroot
	cp -a "$ROOT" "$VROOT"
	mkdir -p "$VROOT/usr/lib/systemd"
	cp -a /lib/systemd/system "$VROOT/usr/lib/systemd/"
}

@test "systemd-analyze verify accepts the four units, commands and man pages included" {
	verify_root
	local unit
	for unit in traffic-counter.service traffic-counter-exporter.service \
		traffic-counter-ipfix.service traffic-counter-record.service; do
		# --root: ExecStart= paths are looked up in the installed tree;
		# MANPATH: so are the Documentation= man pages.
		run env MANPATH="$VROOT$MAN_DIR" systemd-analyze verify --root="$VROOT" \
			"$UNIT_DIR/$unit"
		echo "$unit: status $status: $output"
		[ "$status" -eq 0 ]
		assert_eq "$output" "" "systemd-analyze verify $unit"
	done
	# Sanity: it does fail on what it must catch.
	rm "$VROOT$SBIN"
	run systemd-analyze verify --root="$VROOT" --man=no "$UNIT_DIR/traffic-counter.service"
	[ "$status" -ne 0 ]
	[[ $output == *"$SBIN"*"not executable"* ]]
}

@test "the exporter unit runs with little exposure: no capability, read-only system" {
	verify_root
	local unit=$VROOT$UNIT_DIR/traffic-counter-exporter.service
	# 1.1 on bookworm's systemd 252.
	run systemd-analyze security --offline=yes --threshold=12 --root="$VROOT" \
		"$UNIT_DIR/traffic-counter-exporter.service"
	echo "${lines[-1]}"
	[ "$status" -eq 0 ]
	grep -qx 'CapabilityBoundingSet=' "$unit"
	grep -qx 'User=traffic-counter' "$unit"
	grep -qx 'ProtectSystem=strict' "$unit"
	grep -qx 'BindReadOnlyPaths=/sys/fs/bpf/traffic_counter:/run/traffic-counter-pins' "$unit"
	grep -qx 'PrivateUsers=yes' "$unit"
	grep -qx 'IPAddressAllow=localhost' "$unit"
	grep -qx 'IPAddressDeny=any' "$unit"
	grep -qx 'SocketBindAllow=tcp:10437' "$unit"
	grep -qx 'SocketBindDeny=any' "$unit"
	grep -qx 'u traffic-counter -:traffic-counter "traffic-counter exporter" - -' \
		"$ROOT/usr/local/lib/sysusers.d/traffic-counter.conf"
}

@test "the record unit: no capability, read-only system, its own state directory, after counting" {
	verify_root
	local unit=$VROOT$UNIT_DIR/traffic-counter-record.service
	# 1.1 on bookworm's systemd 252.
	run systemd-analyze security --offline=yes --threshold=12 --root="$VROOT" \
		"$UNIT_DIR/traffic-counter-record.service"
	echo "${lines[-1]}"
	[ "$status" -eq 0 ]
	grep -qx 'CapabilityBoundingSet=' "$unit"
	grep -qx 'User=traffic-counter' "$unit"
	grep -qx 'ProtectSystem=strict' "$unit"
	grep -qx 'StateDirectory=traffic-counter' "$unit"
	grep -qx 'BindReadOnlyPaths=/sys/fs/bpf/traffic_counter:/run/traffic-counter-pins' "$unit"
	grep -qx 'After=traffic-counter.service' "$unit"
	grep -qx 'IPAddressDeny=any' "$unit"
	grep -qx 'SocketBindDeny=any' "$unit"
	# The boot id tells epochs apart: /proc/sys must stay visible.
	run ! grep -q '^ProcSubset=pid' "$unit"
}

@test "the IPFIX unit: root with CAP_BPF only, read-only system, pins bound read-write" {
	verify_root
	local unit=$VROOT$UNIT_DIR/traffic-counter-ipfix.service
	# 1.7 on bookworm's systemd 252.
	run systemd-analyze security --offline=yes --threshold=18 --root="$VROOT" \
		"$UNIT_DIR/traffic-counter-ipfix.service"
	echo "${lines[-1]}"
	[ "$status" -eq 0 ]
	grep -qx 'CapabilityBoundingSet=CAP_BPF' "$unit"
	run ! grep -E '^(User|DynamicUser|AmbientCapabilities=.)' "$unit"
	grep -qx 'ProtectSystem=strict' "$unit"
	grep -qx 'BindPaths=/sys/fs/bpf/traffic_counter:/run/traffic-counter-pins' "$unit"
	grep -qx 'After=network-online.target traffic-counter.service' "$unit"
	grep -qx 'IPAddressDeny=any' "$unit"
	grep -qx 'SocketBindDeny=any' "$unit"
}

@test "the boot unit: exposure 3.8 or less, no CAP_SYS_ADMIN, no EnvironmentFile=" {
	verify_root
	local unit=$VROOT$UNIT_DIR/traffic-counter.service
	# 3.7 on bookworm's systemd 252 (6.7 before SystemCallFilter= and the rest).
	run systemd-analyze security --offline=yes --threshold=38 --root="$VROOT" \
		"$UNIT_DIR/traffic-counter.service"
	echo "${lines[-1]}"
	[ "$status" -eq 0 ]
	# Sanity: the threshold is one it can miss.
	run systemd-analyze security --offline=yes --threshold=36 --root="$VROOT" \
		"$UNIT_DIR/traffic-counter.service"
	[ "$status" -ne 0 ]
	grep -qx 'SystemCallFilter=@system-service bpf' "$unit"
	grep -qx 'IPAddressDeny=any' "$unit"
	grep -qx 'UMask=0077' "$unit"
	run ! grep -E '^EnvironmentFile=|^CapabilityBoundingSet=.*CAP_SYS_ADMIN' "$unit"
}

# unit_cmd KEY: the installed boot unit's KEY= command line, pointed at the
# installed binary and at $CONFIG_FILE.
unit_cmd() {
	sed -n "s/^$1=//p" "$ROOT$UNIT_DIR/traffic-counter.service" |
		sed -e "s|^$SBIN|$ROOT$SBIN|" -e "s|$CONF|$CONFIG_FILE|"
}

# run_unit_cmd KEY: runs it as systemd would, with nothing from the
# configuration in the environment (the unit has no EnvironmentFile=), under
# strace: the calls it makes go to $BATS_TEST_TMPDIR/strace.KEY.N.
run_unit_cmd() {
	local cmd
	cmd=$(unit_cmd "$1")
	[ -n "$cmd" ] || {
		echo "FAIL: no $1= in the boot unit" >&2
		return 1
	}
	STRACE_N=$((${STRACE_N:-0} + 1))
	# shellcheck disable=SC2086 # the command line splits on blanks, as systemd's does
	env -u TRAFFIC_COUNTER_PIN_DIR timeout 60 nsenter --net="/run/netns/$NS_B" \
		strace -f -qq -o "$BATS_TEST_TMPDIR/strace.$1.$STRACE_N" $cmd
}

# syscall_set FILTER...: the system calls a SystemCallFilter= allow list
# names, its @groups expanded as this systemd defines them, one a line.
syscall_set() {
	local item
	for item in "$@"; do
		case $item in
		@*)
			# shellcheck disable=SC2046 # one word per member
			syscall_set $(systemd-analyze syscall-filter --no-pager "$item" |
				sed -n '2,$p' | sed -e 's/^ *//' -e '/^#/d' -e '/^$/d')
			;;
		*) echo "$item" ;;
		esac
	done | LC_ALL=C sort -u
}

# calls_outside_filter UNIT TRACE...: the calls in the strace files that
# UNIT's SystemCallFilter= does not allow, and the socket families outside
# its RestrictAddressFamilies=, one a line: nothing when it would run.
calls_outside_filter() {
	local unit=$1 filter families
	shift
	filter=$(sed -n 's/^SystemCallFilter=//p' "$unit")
	families=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")
	if [ -z "$filter" ] || [ -z "$families" ]; then
		echo "no SystemCallFilter= or RestrictAddressFamilies= in $unit"
		return 0
	fi
	# shellcheck disable=SC2086 # the list splits on blanks
	LC_ALL=C comm -23 <(used_calls "$@") <(syscall_set $filter)
	# shellcheck disable=SC2086
	LC_ALL=C comm -23 <(sed -nE 's/^[0-9]+ +socket\((AF_[A-Z0-9]+),.*/\1/p' "$@" | LC_ALL=C sort -u) \
		<(printf '%s\n' $families | LC_ALL=C sort -u)
}

used_calls() { sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$@" | LC_ALL=C sort -u; }

attachment_count() {
	tfc_in "$NS_B" status --json | jq '.attachments | length'
}

@test "the boot unit's commands attach from the configuration, detach on stop only if told to" {
	need_tools strace
	make_pair nov6
	CONFIG_FILE=$BATS_TEST_TMPDIR/traffic-counter.conf
	cat >"$CONFIG_FILE" <<EOF
ATTACH="$DEV_B:xdp:skb $DEV_B:tc-egress"
TRAFFIC_COUNTER_PIN_DIR=$PIN
FLOW_MAP=yes
DETACH_ON_STOP=no
EOF
	run_unit_cmd ExecStart
	assert_eq "$(attachment_count)" 2 "attachments after ExecStart"
	assert_eq "$(tfc_in "$NS_B" status --json |
		jq .enable_flow_counters)" true "flow counting"
	run_unit_cmd ExecReload
	assert_eq "$(attachment_count)" 2 "attachments after ExecReload"
	ping4 3
	wait_eq 5 "3 $((3 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"

	# Stopping leaves everything counting...
	run_unit_cmd ExecStopPost
	assert_eq "$(attachment_count)" 2 "attachments after a stop with DETACH_ON_STOP=no"
	# ...unless the configuration says otherwise; the counters stay.
	sed -i 's/^DETACH_ON_STOP=no/DETACH_ON_STOP=yes/' "$CONFIG_FILE"
	run_unit_cmd ExecStopPost
	assert_eq "$(attachment_count)" 0 "attachments after a stop with DETACH_ON_STOP=yes"
	nothing_attached "$NS_B" "$DEV_B"
	assert_eq "$(ip_counts "$NS_B" "$A4" ingress "$IFX_B")" "3 $((3 * PING4_FRAME))" "counters"
	# And with PURGE_ON_STOP=yes the maps go too.
	echo PURGE_ON_STOP=yes >>"$CONFIG_FILE"
	run_unit_cmd ExecStart
	run_unit_cmd ExecStopPost
	map_pins_absent

	# Every call they made passes the unit's SystemCallFilter= and
	# RestrictAddressFamilies= (no systemd here to apply them).
	local unit=$ROOT$UNIT_DIR/traffic-counter.service
	assert_eq "$(calls_outside_filter "$unit" "$BATS_TEST_TMPDIR"/strace.*)" "" \
		"calls and socket families outside the boot unit's filters"
	# Sanity: the check sees the calls (bpf() is outside @system-service).
	used_calls "$BATS_TEST_TMPDIR"/strace.* | grep -qx bpf
	local nobpf=$BATS_TEST_TMPDIR/nobpf.service
	sed 's/^SystemCallFilter=.*/SystemCallFilter=@system-service/' "$unit" >"$nobpf"
	assert_eq "$(calls_outside_filter "$nobpf" "$BATS_TEST_TMPDIR"/strace.*)" bpf \
		"the check without bpf in the filter"
}

# complete_words WORD...: what the installed completion offers for the last
# WORD, loaded the way bash-completion loads it (by name, from XDG_DATA_DIRS).
complete_words() {
	env PATH="$ROOT/usr/local/sbin:$PATH" XDG_DATA_DIRS="$ROOT/usr/local/share" \
		bash --norc --noprofile -c '
		. /usr/share/bash-completion/bash_completion
		_completion_loader traffic-counter
		complete -p traffic-counter >/dev/null || exit 1
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		_traffic_counter traffic-counter "${COMP_WORDS[COMP_CWORD]}" \
			"${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' bash "$@"
}

@test "bash completion: complete -p finds it; it completes commands, options and values" {
	[ -r /usr/share/bash-completion/bash_completion ] || {
		echo "missing: bash-completion (scripts/check-deps.sh --install)" >&2
		return 1
	}
	run env XDG_DATA_DIRS="$ROOT/usr/local/share" bash --norc --noprofile -c \
		'. /usr/share/bash-completion/bash_completion; _completion_loader traffic-counter;
		complete -p traffic-counter'
	assert_eq "$output" "complete -F _traffic_counter traffic-counter" "complete -p"

	assert_eq "$(complete_words traffic-counter dum)" "dump-maps " "command"
	assert_eq "$(complete_words traffic-counter t)" "top " "command"
	assert_eq "$(complete_words traffic-counter -v a)" "apply attach " "command after -v"
	assert_eq "$(complete_words traffic-counter top --i)" "--interval --iterations " "option"
	assert_eq "$(complete_words traffic-counter apply --c)" "--check --config --control-pin " \
		"option"
	assert_eq "$(complete_words traffic-counter attach --attach-point '')" \
		"tc-egress tc-ingress xdp " "value"
	assert_eq "$(complete_words traffic-counter top --sort '')" "rate total " "value"
	assert_eq "$(complete_words traffic-counter dump-maps --sort '')" "bytes ip packets " "value"
	[[ $(complete_words traffic-counter attach --iface '') == *"lo "* ]]
	# And the same through compgen, for the commands of --help.
	run env PATH="$ROOT/usr/local/sbin:$PATH" bash --norc --noprofile -c \
		'. "$1"; compgen -W "$(_traffic_counter_commands traffic-counter)" -- se' \
		bash "$ROOT$COMPLETION"
	assert_eq "$output" "$(printf 'set\nserve')" "compgen"
}

@test "the installed example configuration only lacks ATTACH; uncommented, it is valid" {
	local conf=$BATS_TEST_TMPDIR/example.conf
	cp "$ROOT$CONF" "$conf"
	run --separate-stderr "$TFC_BIN" apply --check --config "$conf"
	assert_error_status 2
	assert_eq "$stderr" "traffic-counter: $conf: ATTACH is not set: name the interfaces to count on, e.g. ATTACH=\"eth0:xdp\"" "stderr"
	sed -i 's/^#ATTACH=/ATTACH=/; s/^#\(IP_MAP_SIZE\|FLOW_MAP_SIZE\|FLOW_MAP\|COUNT_BY\|TRAFFIC_COUNTER_PIN_DIR\|PURGE_ON_STOP\|MIGRATE\|IPFIX_COLLECTOR\|IPFIX_TRANSPORT\|IPFIX_INTERVAL\)=/\1=/' \
		"$conf"
	# --check looks the interfaces up: in a network namespace of its own
	# that has the example's eth0, whatever this machine's are called.
	# shellcheck disable=SC2016 # expanded by the inner shell
	run --separate-stderr unshare --net sh -c 'ip link add eth0 type veth peer name eth0-peer &&
		exec "$1" apply --check --config "$2"' sh "$TFC_BIN" "$conf"
	echo "$output$stderr"
	[ "$status" -eq 0 ]
	[[ $output == *"attach: eth0:xdp eth0:tc-egress"*"pin group: traffic-counter"*"migrate: yes"* ]]
}
