#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2154 # bats: each @test is a subshell; run sets $stderr
# Privileges and exit codes: pins made by root, read by an unprivileged
# user (nobody, no capability) and by root, on a bpffs whose root has each
# of the two modes found on machines: 0700, as systemd mounts it, and the
# kernel's default 1777, as `mount -t bpf bpf /sys/fs/bpf` leaves it. A
# read command that could not read what it shows exits 1, even when it
# printed part of an answer (openspec/project.md, "Exit codes").
#
# Each case runs in a private mount namespace with a bpffs of its own on
# /sys/fs/bpf: the machine's /sys/fs/bpf is never touched, and the pins and
# attachments made there go with the namespace.

load helpers

setup() {
	tfc_e2e_setup
	make_pair nov6
	need_tools unshare setpriv
	OUT=$BATS_TEST_TMPDIR/steps
	mkdir -p "$OUT"
}

teardown() {
	tfc_e2e_teardown
	[ -z "${PRIV_TMP:-}" ] || rm -rf "$PRIV_TMP"
}

# own_bpffs MODE PLAN: runs PLAN in a private mount namespace in which a
# new bpffs is mounted on /sys/fs/bpf, its root of mode MODE (1777: no
# mode option, the kernel's default; 0700: mode=0700). OUT/mode gets the
# mode the root really has. PLAN has one step a line:
#   root ARGS... / nobody ARGS...   traffic-counter ARGS --pin-dir $PIN in
#       $NS_B, as root or as uid/gid 65534 with no capability; serve runs
#       2 s, then gets SIGTERM (exit 0 once it stopped cleanly)
#   sh TEXT                         shell text, as root ($PIN, $NS_A, ... set)
# Step N (from 0) leaves OUT/N.rc, OUT/N.out and OUT/N.err.
own_bpffs() {
	local mode=$1 plan=$2
	# shellcheck disable=SC2016 # expanded by the inner shell
	PIN=$PIN TFC_BIN=$TFC_BIN NS_A=$NS_A NS_B=$NS_B DEV_A=$DEV_A DEV_B=$DEV_B A4=$A4 B4=$B4 \
		timeout 600 unshare --mount --propagation private bash -c '
		mode=$1 out=$2 plan=$3
		opts=()
		[ "$mode" = 1777 ] || opts=(-o "mode=$mode")
		mount -t bpf "${opts[@]}" bpf /sys/fs/bpf || exit 97
		stat -c %a /sys/fs/bpf >"$out/mode"
		n=0
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			who=${line%% *} rest=${line#* }
			read -ra args <<<"$rest"
			limit=(timeout 60)
			[ "${args[0]}" != serve ] || limit=(timeout --preserve-status 2)
			rc=0
			case $who in
			sh) bash -c "$rest" >"$out/$n.out" 2>"$out/$n.err" || rc=$? ;;
			root)
				"${limit[@]}" nsenter --net="/run/netns/$NS_B" "$TFC_BIN" "${args[@]}" \
					--pin-dir "$PIN" >"$out/$n.out" 2>"$out/$n.err" || rc=$?
				;;
			nobody)
				"${limit[@]}" nsenter --net="/run/netns/$NS_B" setpriv --reuid=65534 \
					--regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
					"$TFC_BIN" "${args[@]}" --pin-dir "$PIN" >"$out/$n.out" \
					2>"$out/$n.err" || rc=$?
				;;
			*)
				echo "unknown step: $line" >"$out/$n.err"
				rc=98
				;;
			esac
			echo "$rc" >"$out/$n.rc"
			n=$((n + 1))
		done <<<"$plan"
	' _ "$mode" "$OUT" "$2"
}

# step N: status, output and stderr of step N, as `run --separate-stderr`
# sets them.
step() {
	status=$(cat "$OUT/$1.rc")
	output=$(cat "$OUT/$1.out")
	stderr=$(cat "$OUT/$1.err")
}

# bpffs_mode_is MODE: the namespace's bpffs root had the mode asked for
# (the sticky bit is always set).
bpffs_mode_is() {
	case $1 in
	1777) assert_eq "$(cat "$OUT/mode")" 1777 "bpffs root mode" ;;
	*) assert_eq "$(cat "$OUT/mode")" 1700 "bpffs root mode" ;;
	esac
}

READS=("status" "status --json" "dump-maps" "dump-maps --json" "verify --iface $DEV_B --interval 0.1"
	"top --once --interval 0.1" "serve --listen 127.0.0.1:0")

# reads_as_nobody_and_root MODE: every read command, as nobody then as root.
reads_as_nobody_and_root() {
	local mode=$1 args i failed=0 plan
	plan="root attach --iface $DEV_B"$'\n'
	for args in "${READS[@]}"; do plan+="nobody $args"$'\n'; done
	for args in "${READS[@]}"; do plan+="root $args"$'\n'; done
	own_bpffs "$mode" "$plan"
	bpffs_mode_is "$mode"
	step 0
	assert_eq "$status" 0 "attach ($stderr)"

	# As nobody: exit 1, one line naming the permission problem.
	for i in "${!READS[@]}"; do
		step $((i + 1))
		echo "nobody: ${READS[i]}: exit $status, stderr '$stderr'"
		if ! assert_error_status 1; then
			failed=$((failed + 1))
		elif ! [[ $stderr =~ [Pp]ermission ]]; then
			echo "FAIL: ${READS[i]}: the message does not name the permission problem" >&2
			failed=$((failed + 1))
		fi
	done
	# status still prints what it knows, and why the rest is missing.
	step 1
	printf '%s\n' "$output"
	[[ $output == *"pin directory: $PIN"* ]] || {
		echo "FAIL: status as nobody printed no pin directory" >&2
		failed=$((failed + 1))
	}
	[[ $output == *"(cannot list them: permission denied)"* ]] || {
		echo "FAIL: status as nobody does not say the attachments cannot be listed" >&2
		failed=$((failed + 1))
	}
	local m
	for m in traffic_counters_ip traffic_counters_flow traffic_control traffic_stats; do
		[[ $output == *"$m"*"(permission denied at $PIN/$m)"* ]] || {
			echo "FAIL: status as nobody does not list $m as permission denied" >&2
			failed=$((failed + 1))
		}
	done
	step 2
	assert_eq "$(jq -c '[.pin_dir, .attachments_error, [.maps[] | .error]]' <<<"$output")" \
		"[\"$PIN\",\"permission denied\",[\"permission denied\",\"permission denied\",\"permission denied\",\"permission denied\"]]" \
		"status --json as nobody" || failed=$((failed + 1))

	# As root: exit 0, nothing on stderr but serve's own lines.
	local base=$((${#READS[@]} + 1))
	for i in "${!READS[@]}"; do
		step $((base + i))
		echo "root: ${READS[i]}: exit $status, stderr '$stderr'"
		if [ "$status" -ne 0 ]; then
			echo "FAIL: ${READS[i]} as root: exit $status, expected 0" >&2
			failed=$((failed + 1))
		elif [[ ${READS[i]} == serve* ]]; then
			[[ $stderr == *"serving http://127.0.0.1:"* ]] || {
				echo "FAIL: serve as root did not start" >&2
				failed=$((failed + 1))
			}
		elif [ -n "$stderr" ]; then
			echo "FAIL: ${READS[i]} as root wrote to stderr" >&2
			failed=$((failed + 1))
		fi
	done
	# Flow counting off (a map not in use) is no error.
	step $((base + 1))
	assert_eq "$(jq -c '[(.attachments | length), .enable_flow_counters,
		([.maps[] | select(has("error"))] | length)]' <<<"$output")" "[1,false,0]" \
		"status --json as root: one attachment, flow counting off, every map read" ||
		failed=$((failed + 1))
	assert_eq "$failed" 0 "failed checks"
}

@test "read commands as nobody, bpffs root 1777 (mount -t bpf): exit 1, status shows what it can; as root: exit 0" {
	reads_as_nobody_and_root 1777
}

@test "read commands as nobody, bpffs root 0700 (systemd): exit 1, status shows what it can; as root: exit 0" {
	reads_as_nobody_and_root 0700
}

@test "status with a map missing, unreadable or of another layout: prints the rest, one line naming each, exit 1" {
	local plan
	# shellcheck disable=SC2016 # $PIN is expanded inside the namespace
	plan=$(
		cat <<EOF
sh mkdir -p \$PIN
root status
root attach --iface $DEV_B
sh chmod 0755 \$PIN && chmod 0644 \$PIN/traffic_counters_ip \$PIN/traffic_control \$PIN/traffic_stats \$PIN/traffic_counters_prefix \$PIN/traffic_aggregate
nobody status --json
nobody serve --listen 127.0.0.1:0
nobody top --once --interval 0.1
nobody dump-maps
sh rm \$PIN/traffic_counters_ip
root status --json
root status
sh rm \$PIN/traffic_stats && bpftool map create \$PIN/traffic_stats type hash key 4 value 8 entries 4 name tce_other
root status --json
EOF
	)
	own_bpffs 1777 "$plan"

	# A pin directory with no map at all: nothing attached there.
	step 1
	echo "status on an empty pin dir: exit $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"no maps pinned in $PIN: nothing is attached there"* ]]
	step 2
	assert_eq "$status" 0 "attach ($stderr)"

	# The flow map unreadable (0600) for a user who can read the others.
	step 4
	echo "nobody status --json: exit $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"cannot read everything in $PIN: links/, traffic_counters_flow: permission denied"* ]]
	assert_eq "$(jq -c '[.maps[] | .error // .max_entries]' <<<"$output")" \
		'[65536,"permission denied",1,4096]' "maps read by nobody"
	assert_eq "$(jq -c '[.enable_flow_counters, .stats.non_ip.packets]' <<<"$output")" \
		'[false,0]' "control and statistics read by nobody"
	# serve serves the flow map when it is pinned: it must be readable at start.
	step 5
	echo "nobody serve: exit $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"$PIN/traffic_counters_flow: Permission denied"* ]]
	# top's IP view and dump-maps read only the IP map.
	step 6
	assert_eq "$status" 0 "top --once as nobody, IP view ($stderr)"
	step 7
	assert_eq "$status" 0 "dump-maps as nobody ($stderr)"

	# The IP map's pin removed: the rest printed, exit 1, one line.
	step 9
	echo "status --json without the IP map: exit $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"cannot read everything in $PIN: traffic_counters_ip: not pinned"*"attach --iface IF"* ]]
	assert_eq "$(jq -c '[(.attachments | length), [.maps[] | .error // .max_entries]]' \
		<<<"$output")" '[1,["not pinned",32768,1,4096]]' "status --json without the IP map"
	step 10
	assert_error_status 1
	[[ $output == *"traffic_counters_ip    (not pinned at $PIN/traffic_counters_ip)"* ]]
	[[ $output == *"traffic_counters_flow         0 / 32768"* ]]
	[[ $output == *"flow counting: off"* ]]

	# And the statistics map replaced by another program's map: both causes
	# in the one line.
	step 11
	assert_eq "$status" 0 "bpftool map create ($stderr)"
	step 12
	echo "status --json: exit $status, stderr '$stderr'"
	assert_error_status 1
	[[ $stderr == *"traffic_counters_ip: not pinned"* ]]
	[[ $stderr == *"traffic_stats: not a traffic-counter map of this version"* ]]
	assert_eq "$(jq -c '[.maps[] | .error // .max_entries]' <<<"$output")" \
		'["not pinned",32768,1,"another layout"]' "maps"
}

# ------------------------------------------------ every command, both modes --

# pins_and_commands MODE: attach makes the pin directory 0700 and the pins
# 0600, root's; every command as nobody exits 1 naming what is missing
# (the capability for those that change things, the permission for the
# readers) and changes nothing; whatever the mode of the bpffs root.
pins_and_commands() {
	local mode=$1 plan args
	# A configuration file the user can read (bats' own directory is 0700).
	PRIV_TMP=$(mktemp -d /tmp/tc-privileges-XXXXXX)
	chmod 0755 "$PRIV_TMP"
	local conf="$PRIV_TMP/tc.conf"
	printf 'ATTACH="%s:xdp %s:tc-egress"\n' "$DEV_B" "$DEV_B" >"$conf"
	chmod 0644 "$conf"
	local cases=("attach --iface $DEV_B" "attach --iface $DEV_B --attach-point tc-ingress"
		"detach --all" "detach --iface $DEV_B" "apply --config $conf"
		"dump-maps" "dump-maps --json" "status" "status --json" "set --enable-flow-map"
		"verify --iface $DEV_B --interval 0.1" "serve --listen 127.0.0.1:0" "top --once"
		"export-ipfix --collector 127.0.0.1:4739")
	# shellcheck disable=SC2016 # expanded inside the namespace
	plan="root attach --iface $DEV_B
sh timeout 60 nsenter --net=/run/netns/\$NS_B \$TFC_BIN attach --iface \$DEV_B --attach-point tc-egress --tc-api netlink --pin-dir \$PIN
sh timeout 30 ip netns exec \$NS_A ping -q -n -c 2 -s 56 -i 0.01 -W 2 \$B4
sh stat -c '%n %F %a %U %G' \$PIN \$PIN/links; find \$PIN -mindepth 1 -not -type d -exec stat -c '%a %U %G' {} +
"
	for args in "${cases[@]}"; do plan+="nobody $args"$'\n'; done
	plan+="root status --json
sh timeout 30 ip netns exec \$NS_A ping -q -n -c 1 -s 56 -i 0.01 -W 2 \$B4
root dump-maps --json
"
	own_bpffs "$mode" "$plan"
	bpffs_mode_is "$mode"
	local i
	for i in 0 1 2 3; do
		step "$i"
		assert_eq "$status" 0 "setup step $i ($stderr)"
	done
	step 3
	assert_eq "$(head -2 <<<"$output")" "$PIN directory 700 root root
$PIN/links directory 700 root root" "pin directories"
	assert_eq "$(tail -n +3 <<<"$output" | sort | uniq -c | tr -s ' ')" " 8 600 root root" \
		"pins (six maps, two attachments)"

	# Every case is run, then every failure reported.
	local want failed=0
	for i in "${!cases[@]}"; do
		args=${cases[i]}
		case $args in
		attach* | detach* | apply*) want='CAP_BPF|CAP_NET_ADMIN' ;;
		*) want='[Pp]ermission' ;;
		esac
		step $((4 + i))
		echo "nobody: $args: exit $status, stderr '$stderr'"
		# apply names every step of its file that failed, one line each.
		[[ $args != apply* ]] || stderr=$(printf '%s\n' "$stderr" | sort -u)
		if ! assert_error_status 1; then
			failed=$((failed + 1))
		elif ! [[ $stderr =~ $want ]]; then
			echo "FAIL: $args: the message does not name the missing ${want//|/ or }" >&2
			failed=$((failed + 1))
		fi
	done
	# Nothing changed by any of that: both attachments, flow counting off,
	# and the three pings counted once each.
	step $((4 + ${#cases[@]}))
	assert_eq "$status" 0 "status as root ($stderr)"
	assert_eq "$(jq -c '[(.attachments | length), .enable_flow_counters]' <<<"$output")" \
		"[2,false]" "attachments and flow counting"
	step $((6 + ${#cases[@]}))
	assert_eq "$status" 0 "dump-maps as root ($stderr)"
	assert_eq "$(jq -r --arg ip "$A4" --argjson ifx "$IFX_B" '[.[] | select(.ip == $ip
		and .direction == "ingress" and .ifindex == $ifx) | .packets] | add' <<<"$output")" 3 \
		"pings counted at $DEV_B"
	assert_eq "$failed" 0 "commands that did not say what they lack"
}

@test "pins 0700/0600, root's, bpffs root 1777: every command as nobody exits 1 naming why, nothing changed" {
	pins_and_commands 1777
}

@test "pins 0700/0600, root's, bpffs root 0700: every command as nobody exits 1 naming why, nothing changed" {
	pins_and_commands 0700
}
