#!/usr/bin/env bats
# The corpus oracle: tests/corpus/expected.json must be what tshark computes
# from the pcaps today (tests/corpus/tshark_oracle.py, `make
# corpus-oracle-check`), and the check must catch a count that is off. No
# network and no agent: only tshark, jq and make.

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup() {
	need_tools tshark jq python3 make git sha256sum
}

# oracle_check [MAKE VARIABLES...]: `make corpus-oracle-check` with its
# output in the test's own directory.
oracle_check() {
	run make -C "$REPO" --no-print-directory corpus-oracle-check \
		CORPUS_CHECK_OUT="$BATS_TEST_TMPDIR/out/expected.json" "$@"
	printf '%s\n' "$output"
}

# mini_corpus DIR FILE...: a corpus of the given captures of tests/corpus,
# with their manifest and expected.json entries.
mini_corpus() {
	local dir=$1 f names
	shift
	mkdir -p "$dir"
	for f in "$@"; do
		cp "$REPO/tests/corpus/$f" "$dir/"
	done
	names=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	jq --argjson n "$names" 'with_entries(select(.key as $k | $n | index($k)))' \
		"$REPO/tests/corpus/manifest.json" >"$dir/manifest.json"
	jq --argjson n "$names" 'with_entries(select(.key as $k | $n | index($k)))' \
		"$REPO/tests/corpus/expected.json" >"$dir/expected.json"
}

@test "corpus oracle: tshark recomputes the committed expected.json for all 46 captures" {
	oracle_check
	assert_eq "$status" 0 "make corpus-oracle-check exit status"
	[[ $output == *"corpus-oracle-check: 46 files agree with the committed oracle"* ]]
	assert_eq "$(jq length "$BATS_TEST_TMPDIR/out/expected.json")" 46 "files recomputed"
}

@test "corpus oracle check: a count that is off fails, and the diff shows it" {
	local dir=$BATS_TEST_TMPDIR/mini f=zeek--tunnels_4in4.pcap
	mini_corpus "$dir" "$f" tcpdump--802.1ad_QinQ.pcap
	oracle_check TFC_CORPUS="$dir"
	assert_eq "$status" 0 "check of an unchanged two-file corpus"
	[[ $output == *"2 files agree"* ]]

	# One IPv4 frame in the file: claim two.
	assert_eq "$(jq --arg f "$f" '.[$f].per_src_ip[].packets' "$dir/expected.json")" 1 \
		"packets of $f"
	jq --arg f "$f" '.[$f].per_src_ip[].packets = 2' "$dir/expected.json" >"$dir/e.json"
	mv "$dir/e.json" "$dir/expected.json"
	oracle_check TFC_CORPUS="$dir"
	assert_eq "$status" 2 "make exit status with a wrong count"
	[[ $output == *"tshark disagrees with $dir/expected.json"* ]]
	grep -qx -- '-        "packets": 2' <<<"$output"
	grep -qx -- '+        "packets": 1' <<<"$output"
}

@test "corpus oracle: a capture without provenance in manifest.json is refused" {
	local dir=$BATS_TEST_TMPDIR/mini
	mini_corpus "$dir" zeek--tunnels_4in4.pcap
	cp "$REPO/tests/corpus/zeek--tunnels_6in4.pcap" "$dir/"
	oracle_check TFC_CORPUS="$dir"
	assert_eq "$status" 2 "make exit status"
	[[ $output == *"zeek--tunnels_6in4.pcap is not in manifest.json"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out/expected.json" ]
}

@test "corpus: every pcap is the file its manifest entry names, with its license" {
	local dir=$REPO/tests/corpus f blob sum lic
	local -a pcaps
	mapfile -t pcaps < <(cd "$dir" && printf '%s\n' *.pcap | LC_ALL=C sort)
	assert_eq "${pcaps[*]}" "$(jq -r 'keys[]' "$dir/manifest.json" | tr '\n' ' ' | sed 's/ $//')" \
		"pcap files vs manifest.json keys"
	for f in "${pcaps[@]}"; do
		read -r blob sum < <(jq -r --arg f "$f" '.[$f] | "\(.git_blob) \(.sha256)"' \
			"$dir/manifest.json")
		assert_eq "$(git hash-object "$dir/$f")" "$blob" "git blob of $f"
		assert_eq "$(sha256sum "$dir/$f" | cut -d' ' -f1)" "$sum" "sha256 of $f"
	done
	# One license text per source project, named in each entry.
	for lic in libpcap-LICENSE tcpdump-LICENSE zeek-COPYING; do
		[ -s "$dir/LICENSES/$lic" ] || { echo "FAIL: LICENSES/$lic missing" >&2; return 1; }
	done
	assert_eq "$(jq -r '[.[] | .repo | sub(".*/"; "")] | unique | join(" ")' "$dir/manifest.json")" \
		"libpcap tcpdump zeek" "source projects"
}
