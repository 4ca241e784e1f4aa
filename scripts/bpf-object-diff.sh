#!/usr/bin/env bash
# Whether two BPF objects hold the same code except for names: compares the
# disassembly with relocations (llvm-objdump -d -r), the symbol table and
# the contents of the data sections the programs use, after renaming the
# old spellings of symbols to the new ones. BTF and DWARF are left out: they carry the
# names and source lines, which a rename changes on purpose.
#
# Usage: scripts/bpf-object-diff.sh [--map OLD=NEW]... [--no-default-map] OLD.o NEW.o
#
# Default map: the program renames of traffic_counter.bpf.c (tc_xdp ->
# tfc_xdp, tc_xdp_legacy -> tfc_xdp_legacy, tc_ingress and tfc_ingress ->
# tfc_tc_ingress, tc_egress and tfc_egress -> tfc_tc_egress). Exit status:
# 0 same except names, 1 different (the diff is printed), 2 usage or tool
# error.
set -euo pipefail

OBJDUMP=${LLVM_OBJDUMP:-llvm-objdump}
maps=()
default_map=1

usage() {
	sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case "$1" in
	--map)
		[[ ${2:-} == ?*=?* ]] || {
			echo "bpf-object-diff.sh: --map wants OLD=NEW, got '${2:-}'" >&2
			exit 2
		}
		maps+=("$2")
		shift
		;;
	--no-default-map) default_map=0 ;;
	-h | --help)
		usage
		exit 0
		;;
	-*)
		echo "bpf-object-diff.sh: unknown option '$1' (see --help)" >&2
		exit 2
		;;
	*) break ;;
	esac
	shift
done
if [ $# -ne 2 ]; then
	echo "bpf-object-diff.sh: two objects wanted, OLD.o and NEW.o (see --help)" >&2
	exit 2
fi
old=$1
new=$2
for f in "$old" "$new"; do
	[ -r "$f" ] || {
		echo "bpf-object-diff.sh: cannot read $f" >&2
		exit 2
	}
done
command -v "$OBJDUMP" >/dev/null || {
	echo "bpf-object-diff.sh: $OBJDUMP not found: install llvm (scripts/check-deps.sh)" >&2
	exit 2
}

if [ "$default_map" = 1 ]; then
	maps+=(tc_xdp=tfc_xdp tc_xdp_legacy=tfc_xdp_legacy tc_ingress=tfc_tc_ingress
		tc_egress=tfc_tc_egress tfc_ingress=tfc_tc_ingress tfc_egress=tfc_tc_egress)
fi

# One sed program renaming whole words (names are [A-Za-z0-9_]).
rename=()
for m in "${maps[@]}"; do
	rename+=(-e "s/\\b${m%%=*}\\b/${m#*=}/g")
done

# Code, relocations, symbols, and the bytes of every DATA section (.rodata,
# .maps, license: BTF and DWARF are not DATA).
view() {
	local data
	data=$("$OBJDUMP" -h "$1" | awk '$4 == "DATA" { print "-j", $2 }')
	"$OBJDUMP" -d -r --no-show-raw-insn "$1"
	"$OBJDUMP" -t "$1" | grep -v ' \.debug\| LBB'
	# shellcheck disable=SC2086 # one word per -j and section name
	[ -z "$data" ] || "$OBJDUMP" -s $data "$1"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Both sides renamed: the map names old spellings only, so NEW is unchanged
# unless it still uses one.
[ ${#rename[@]} -gt 0 ] || rename=(-e '')
view "$old" | grep -v 'file format' | sed "${rename[@]}" >"$tmp/old"
view "$new" | grep -v 'file format' | sed "${rename[@]}" >"$tmp/new"

# Symbols come in hash order: sort the table's lines so the order is moot.
for s in old new; do
	awk '/^SYMBOL TABLE:/ { t = 1; print; next } t && /^$/ { t = 0 }
		t { print | "sort" ; next } { print }' "$tmp/$s" >"$tmp/$s.sorted"
done

if diff -u "$tmp/old.sorted" "$tmp/new.sorted" | sed "s|$tmp/old.sorted|$old|; s|$tmp/new.sorted|$new|"; then
	echo "bpf-object-diff: $old and $new are the same except names ($(grep -c '^ *[0-9a-f]*:' "$tmp/new") instructions and data lines compared)"
	exit 0
fi
exit 1
