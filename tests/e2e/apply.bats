#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# shellcheck disable=SC2016 # $1... in single quotes are for the inner shell
# apply: a configuration file set up as written (attach points, modes, sizes,
# flags, group access), every bad line named with its number and nothing
# attached, a missing interface not stopping the others.

load helpers

setup() {
	tfc_e2e_setup
	make_pair nov6
	CONFIG=$BATS_TEST_TMPDIR/traffic-counter.conf
	TMP_DIRS=()
}

teardown() {
	local d
	for d in ${TMP_DIRS[@]+"${TMP_DIRS[@]}"}; do
		rm -rf "$d"
	done
	tfc_e2e_teardown
}

apply() { tfc_in "$NS_B" apply --config "$CONFIG" "$@"; }
status_b() { status_json "$NS_B"; }

@test "apply: every ATTACH entry, with its mode, the sizes and flow counting" {
	cat >"$CONFIG" <<EOF
# two attach points on the receiver
ATTACH="$DEV_B:xdp:skb $DEV_B:tc-egress:netlink"
IP_MAP_SIZE=1024
FLOW_MAP=yes
FLOW_MAP_SIZE=512
EOF
	run --separate-stderr apply --check
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"attach: $DEV_B:xdp:skb $DEV_B:tc-egress:netlink"* ]]
	[[ $output == *"on stop: leave attached"* ]]
	map_pins_absent # --check attaches nothing

	run --separate-stderr apply
	echo "$stderr"
	[ "$status" -eq 0 ]
	assert_eq "$(status_b | jq -r '[.attachments[] | "\(.ifname) \(.attach_point) \(.mode)"] | sort | join(",")')" \
		"$DEV_B tc-egress netlink,$DEV_B xdp skb" "attachments"
	assert_eq "$(status_b | jq -r '[.maps[] | "\(.name)=\(.max_entries)"] | .[0:2] | join(" ")')" \
		"traffic_counters_ip=1024 traffic_counters_flow=512" "map sizes"
	assert_eq "$(status_b | jq .enable_flow_counters)" true "flow counting"
	ping4 4
	wait_eq 5 "4 $((4 * PING4_FRAME))" ip_counts "$NS_B" "$A4" ingress "$IFX_B"

	# Applying again (a reload) replaces in place; FLOW_MAP=no turns it off.
	sed -i 's/^FLOW_MAP=yes/FLOW_MAP=no/' "$CONFIG"
	apply
	assert_eq "$(status_b | jq '.attachments | length')" 2 "attachments after a reload"
	assert_eq "$(status_b | jq .enable_flow_counters)" false "flow counting after FLOW_MAP=no"
}

@test "apply: a bad file gives every error with its line number, exit 2, attaches nothing" {
	cat >"$CONFIG" <<EOF
ATTACH="$DEV_B:xdp $DEV_B:egress"
# a comment
IP_MAP_SIZE=64k
FLOW_MAP=maybe
DETACH_ON_STOP=yes # at shutdown
EOF
	run --separate-stderr apply
	echo "$stderr"
	[ "$status" -eq 2 ]
	assert_eq "$stderr" "traffic-counter: $CONFIG:1: ATTACH: '$DEV_B:egress': attach point 'egress' is not one of xdp, tc-ingress, tc-egress
traffic-counter: $CONFIG:3: IP_MAP_SIZE: '64k' is not a whole number
traffic-counter: $CONFIG:4: FLOW_MAP: 'maybe' is not yes or no
traffic-counter: $CONFIG:5: DETACH_ON_STOP: a comment must be on a line of its own" "errors"
	map_pins_absent
	nothing_attached "$NS_B" "$DEV_B"

	# --check says the same.
	run --separate-stderr apply --check
	[ "$status" -eq 2 ]
	[[ $stderr == *"$CONFIG:3: IP_MAP_SIZE"* ]]

	# A file without ATTACH: the whole file is wrong, so no line number.
	echo 'FLOW_MAP=yes' >"$CONFIG"
	run --separate-stderr apply
	assert_error_status 2
	[[ $stderr == "traffic-counter: $CONFIG: ATTACH is not set"* ]]

	run --separate-stderr tfc_in "$NS_B" apply --config "$BATS_TEST_TMPDIR/none.conf"
	assert_error_status 1
	[[ $stderr == *"cannot read $BATS_TEST_TMPDIR/none.conf: No such file or directory"* ]]
}

@test "apply: a missing interface is named with its line; the others still count; exit 1" {
	cat >"$CONFIG" <<EOF
DETACH_ON_STOP=yes
ATTACH="tce-nothere:xdp $DEV_B:xdp"
EOF
	run --separate-stderr apply
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$CONFIG:2: ATTACH: no interface 'tce-nothere' in this network namespace"* ]]
	assert_eq "$(status_b | jq -r '[.attachments[].ifname] | join(",")')" "$DEV_B" "attachments"

	# --stop detaches what is there and passes over what is not.
	run --separate-stderr apply --stop
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ $stderr == *"tce-nothere is gone"* ]]
	nothing_attached "$NS_B" "$DEV_B"
	map_pins_present
}

@test "apply: PIN_GROUP lets that group, and no one else, read the maps without privilege" {
	cat >"$CONFIG" <<EOF
ATTACH=$DEV_B:xdp
PIN_GROUP=65534
EOF
	apply
	ping4 2
	assert_eq "$(stat -c '%g %a' "$PIN")" "65534 750" "pin directory"
	local m
	for m in traffic_counters_ip traffic_counters_flow traffic_control traffic_stats; do
		assert_eq "$(stat -c '%g %a' "$PIN/$m")" "65534 640" "$m"
	done
	# As the exporter unit runs: an unprivileged user of the group, the
	# pin directory bind-mounted read-only.
	local ro
	ro=$(mktemp -d /tmp/tc-e2e-pins.XXXXXX)
	TMP_DIRS+=("$ro")
	chmod 0755 "$ro"
	run --separate-stderr nsenter --net="/run/netns/$NS_B" unshare --mount --propagation private \
		sh -c 'mount --bind -o ro "$1" "$2" && exec setpriv --reuid=65534 --regid=65534 \
			--clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
			"$3" dump-maps --pin-dir "$2" --csv' sh "$PIN" "$ro" "$TFC_BIN"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ $output == *"$A4,4,ingress,$IFX_B,$DEV_B,$((2 * PING4_FRAME)),2"* ]]

	# A group that does not exist: named with its line.
	printf 'ATTACH=%s:xdp\nPIN_GROUP=tce-no-such-group\n' "$DEV_B" >"$CONFIG"
	run --separate-stderr apply
	[ "$status" -eq 1 ]
	[[ $stderr == *"$CONFIG:2: PIN_GROUP: no group 'tce-no-such-group'"* ]]
}

@test "apply --stop: leaves everything counting unless DETACH_ON_STOP=yes" {
	printf 'ATTACH="%s:xdp %s:tc-egress"\n' "$DEV_B" "$DEV_B" >"$CONFIG"
	apply
	run --separate-stderr apply --stop
	[ "$status" -eq 0 ]
	[[ $stderr == *"DETACH_ON_STOP is not yes: the attachments stay and keep counting"* ]]
	assert_eq "$(status_b | jq '.attachments | length')" 2 "attachments"

	printf 'DETACH_ON_STOP=yes\nPURGE_ON_STOP=yes\n' >>"$CONFIG"
	# Another attachment of the same maps keeps them.
	tfc_attach "$NS_B" --iface lo --attach-point tc-ingress
	apply --stop
	assert_eq "$(status_b | jq -r '[.attachments[].ifname] | join(",")')" lo "attachments"
	map_pins_present
	tfc_in "$NS_B" detach --iface lo --attach-point tc-ingress
	apply --stop
	map_pins_absent
}
