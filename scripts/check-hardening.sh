#!/usr/bin/env bash
# Fails unless BINARY carries the protections the Makefile builds it with
# (HARDEN_CFLAGS and friends): PIE, stack protector, _FORTIFY_SOURCE,
# RELRO, immediate binding (all through hardening-check, from devscripts),
# -fcf-protection on x86 and -fstack-clash-protection (where the binary has
# debug information). Run by `make lint` and tests/e2e/package.bats.
#
# Usage: scripts/check-hardening.sh [--no-fortify] BINARY
#   --no-fortify   for a SANITIZE=1 build, which leaves _FORTIFY_SOURCE out
set -euo pipefail

fortify=1
if [ "${1:-}" = --no-fortify ]; then
	fortify=0
	shift
fi
bin=${1:-}
if [ -z "$bin" ] || [ $# -ne 1 ]; then
	echo "usage: check-hardening.sh [--no-fortify] BINARY" >&2
	exit 2
fi
if [ ! -f "$bin" ]; then
	echo "check-hardening: $bin: no such file: build it first (make build)" >&2
	exit 1
fi
command -v hardening-check >/dev/null || {
	echo "check-hardening: hardening-check is missing: apt-get install devscripts" \
		"(scripts/check-deps.sh --install --group lint)" >&2
	exit 1
}

status=0
fail() {
	echo "check-hardening: $bin: $*" >&2
	status=1
}

# The IBT/SHSTK property hardening-check looks for is dropped by the linker
# whenever one input lacks it, and bookworm's own crt1.o, crti.o and crtn.o
# do: -fcf-protection is checked below instead, on the code itself.
opts=(--quiet --nocfprotection)
[ $fortify = 1 ] || opts+=(--nofortify)
hardening-check "${opts[@]}" "$bin" ||
	fail "a protection is missing (above): build with the Makefile's defaults, not HARDEN=0"

# -fcf-protection starts every function that can be reached indirectly with
# endbr64 (endbr32), which stripping keeps: about two for three returns in
# this code, against the few of libc's static start-up code without it. A
# quarter is the bar.
case "$(readelf -h "$bin" | sed -n 's/^ *Machine: *//p')" in
*X86-64* | *80386*)
	read -r endbr rets < <(objdump -d --no-show-raw-insn -j .text "$bin" |
		awk '$2 ~ /^endbr(64|32)$/ { e++ } $2 ~ /^ret/ { r++ } END { print e + 0, r + 0 }')
	if [ "$rets" -eq 0 ] || [ $((endbr * 4)) -lt "$rets" ]; then
		fail "$endbr endbr64 for $rets returns in .text: built without -fcf-protection"
	fi
	;;
esac

# hardening-check sees -fstack-clash-protection only in a function with a
# large frame, and this code may have none: the compiler's own record of its
# flags in the debug information says it, where there is debug information.
producers=$(readelf --debug-dump=info "$bin" 2>/dev/null | grep 'DW_AT_producer' || true)
if [ -z "$producers" ]; then
	echo "check-hardening: $bin has no debug information: -fstack-clash-protection not checked" >&2
elif grep -v -q -e '-fstack-clash-protection' <<<"$producers"; then
	fail "a compilation unit was built without -fstack-clash-protection"
fi

[ $status -eq 0 ] && echo "check-hardening: $bin: all protections present"
exit $status
