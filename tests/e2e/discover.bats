#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2154 # PROG_IDS is read by nothing_attached; $status/$output/$stderr come from bats `run`
# Attachments made with custom --pin/--flow-pin/--control-pin paths are
# found from the kernel: `status` lists them and names where their maps
# are, `detach --iface --attach-point` removes them without the same
# options, and `detach --all --purge` removes the custom map pins too.

load helpers

setup() {
	tfc_e2e_setup
	make_pair
	# Links in $DIR, maps in $MAPS: both outside the pin dir that status and
	# detach are run with ($PIN, which does not even exist).
	DIR="$PIN-dir"
	MAPS="$PIN-maps"
	OTHER="$PIN-other"
	TFCE_PINS+=("$DIR" "$MAPS" "$OTHER")
	mkdir -p "$MAPS"
	CUSTOM=(--pin "$MAPS/ip" --flow-pin "$MAPS/flow" --control-pin "$MAPS/ctl")
}

teardown() {
	tfc_e2e_teardown
}

custom_pins_present() {
	local p
	for p in ip flow ctl; do
		[ -e "$MAPS/$p" ] || {
			echo "FAIL: custom map pin $MAPS/$p missing" >&2
			return 1
		}
	done
}

custom_pins_absent() {
	local p
	for p in ip flow ctl; do
		[ ! -e "$MAPS/$p" ] || {
			echo "FAIL: custom map pin $MAPS/$p still there" >&2
			return 1
		}
	done
}

# discover_case POINT MODE [ATTACH ARGS...]
discover_case() {
	local point=$1 mode=$2 st other
	shift 2
	tfc_in_pin "$DIR" "$NS_B" attach --iface "$DEV_B" --attach-point "$point" "${CUSTOM[@]}" "$@"
	custom_pins_present

	# Status with the pin dir of the attachment but not the map options: the
	# attachment is recorded there, its maps are elsewhere and named.
	# Its maps are not pinned in $DIR: status shows all it found and exits 1.
	run --separate-stderr tfc_in_pin "$DIR" "$NS_B" status --json
	assert_error_status 1
	[[ $stderr == *"not pinned here"*"--control-pin"* ]]
	st=$output
	jq -c '.attachments' <<<"$st"
	assert_eq "$(jq -r '.attachments[0].maps_elsewhere' <<<"$st")" true "maps_elsewhere"
	assert_eq "$(jq -r '.attachments[0].map_pins.traffic_control' <<<"$st")" "$MAPS/ctl" \
		"control map pin"
	assert_eq "$(jq -r '.attachments[0].map_pins.traffic_counters_ip' <<<"$st")" "$MAPS/ip" \
		"IP map pin"
	assert_eq "$(jq -r '.other_attachments | length' <<<"$st")" 0 "other attachments in $DIR"

	# Status with another pin dir (which does not exist): found from the kernel.
	# Still exit 1: nothing could be read where it was asked to look.
	run --separate-stderr tfc_in "$NS_B" status --json
	echo "status --pin-dir $PIN: status $status, stderr '$stderr'"
	[ "$status" -eq 1 ]
	[[ $stderr == *"pin directory $PIN does not exist; showing what is attached"* ]]
	other=$(jq -c '.other_attachments' <<<"$output")
	echo "other_attachments: $other"
	assert_eq "$(jq -r 'length' <<<"$other")" 1 "other attachments"
	assert_eq "$(jq -r '.[0] | [.ifname, .attach_point, .mode, .foreign, .pin_dir] | join(" ")' \
		<<<"$other")" "$DEV_B $point $mode true $DIR" "the attachment found"
	assert_eq "$(jq -r '.[0].map_pins.traffic_control' <<<"$other")" "$MAPS/ctl" "control pin"
	assert_eq "$(jq -r '.[0].map_pins.traffic_counters_flow' <<<"$other")" "$MAPS/flow" \
		"flow pin"
	assert_eq "$(jq -r '.[0].netns_verified' <<<"$other")" true "netns verified"
	PROG_IDS=("$(jq -r '.[0].prog_id' <<<"$other")")
	run --separate-stderr tfc_in "$NS_B" status
	echo "$output"
	[[ $output == *"other attachments"*"$DEV_B"*"pin directory: $DIR"*"$MAPS/ctl"* ]]

	# Removed by interface and attach point, without the options.
	run --separate-stderr tfc_in "$NS_B" detach --iface "$DEV_B" --attach-point "$point"
	echo "detach: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[[ $stderr == *"detached $point from $DEV_B"*"$DIR"* ]]
	nothing_attached "$NS_B" "$DEV_B"
	[ -z "$(find "$DIR/links" -mindepth 1 -not -type d 2>/dev/null)" ] || {
		echo "FAIL: link pins left in $DIR/links:" >&2
		find "$DIR/links" >&2
		return 1
	}
	run --separate-stderr tfc_in_pin "$DIR" "$NS_B" status --json
	assert_error_status 1 # no maps in $DIR and nothing attached
	assert_eq "$(jq -c '[(.attachments | length), (.other_attachments | length)]' <<<"$output")" \
		"[0,0]" "attachments after detach"
	# With nothing attached, a pin dir that does not exist is an error again.
	run --separate-stderr tfc_in "$NS_B" status --json
	assert_error_status 1
	custom_pins_present # detach keeps the counters

	# Purge with only the pin dir: the custom map pins go too, each named.
	run --separate-stderr tfc_in_pin "$DIR" "$NS_B" detach --all --purge
	echo "purge: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	custom_pins_absent
	[[ $stderr == *"removed $MAPS/ip"* && $stderr == *"removed $MAPS/ctl"* ]]
	[ ! -e "$DIR" ] || {
		echo "FAIL: $DIR left behind:" >&2
		find "$DIR" >&2
		return 1
	}
}

@test "xdp with custom map pins: status elsewhere lists it, detach --iface removes it, purge removes the pins" {
	discover_case xdp skb --xdp-mode skb
}

@test "tc-ingress (tcx) with custom map pins: listed, detached, purged" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	discover_case tc-ingress tcx --tc-api tcx
}

@test "tc-ingress (netlink) with custom map pins: listed, detached, purged" {
	discover_case tc-ingress netlink --tc-api netlink
}

@test "tc-egress (tcx) with the control map pin only: its directory is the pin dir" {
	kernel_has_tcx || skip "kernel $(uname -r) has no TCX (needs 6.6)"
	local st
	# No --pin-dir: links and the default-named maps go beside the control map.
	timeout 60 nsenter --net="/run/netns/$NS_B" "$TFC_BIN" attach --iface "$DEV_B" \
		--attach-point tc-egress --control-pin "$OTHER/ctl"
	run --separate-stderr tfc_in "$NS_B" status --json
	[ "$status" -eq 1 ] # the default pin dir does not exist
	st=$output
	assert_eq "$(jq -r '.other_attachments[0].pin_dir' <<<"$st")" "$OTHER" "pin dir"
	assert_eq "$(jq -r '.other_attachments[0].map_pins.traffic_counters_ip' <<<"$st")" \
		"$OTHER/traffic_counters_ip" "IP map pin"
	run --separate-stderr tfc_in "$NS_B" detach --iface "$DEV_B" --attach-point tc-egress
	echo "detach: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	nothing_attached "$NS_B" "$DEV_B"
	run --separate-stderr tfc_in_pin "$OTHER" "$NS_B" detach --all --purge
	echo "purge: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[ ! -e "$OTHER/ctl" ] && [ ! -e "$OTHER" ]
}

@test "detach --all --purge removes custom map pins while detaching, exit 0" {
	tfc_in_pin "$DIR" "$NS_B" attach --iface "$DEV_B" "${CUSTOM[@]}"
	tfc_in_pin "$DIR" "$NS_B" attach --iface "$DEV_B" --attach-point tc-egress "${CUSTOM[@]}"
	run --separate-stderr tfc_in_pin "$DIR" "$NS_B" detach --all --purge
	echo "detach --all --purge: status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	nothing_attached "$NS_B" "$DEV_B"
	custom_pins_absent
	local p
	for p in ip flow ctl; do
		[[ $stderr == *"removed $MAPS/$p"* ]] || {
			echo "FAIL: $MAPS/$p not named as removed" >&2
			return 1
		}
	done
	[ ! -e "$DIR" ]
}

@test "purge refuses a custom map pin that became a symlink: exit 1, the map kept" {
	tfc_in_pin "$DIR" "$NS_B" attach --iface "$DEV_B" "${CUSTOM[@]}"
	tfc_in_pin "$DIR" "$NS_B" detach --iface "$DEV_B"
	mv "$MAPS/ip" "$MAPS/ipreal"
	ln -s "$MAPS/ipreal" "$MAPS/ip"
	run --separate-stderr tfc_in_pin "$DIR" "$NS_B" detach --all --purge
	echo "purge: status $status, stderr '$stderr'"
	[ "$status" -eq 1 ]
	[[ $stderr == *"refusing to remove $MAPS/ip"* ]]
	[ -L "$MAPS/ip" ] && [ -e "$MAPS/ipreal" ]
	# The other custom pins went all the same.
	[ ! -e "$MAPS/flow" ] && [ ! -e "$MAPS/ctl" ]
}
