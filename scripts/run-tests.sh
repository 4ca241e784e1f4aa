#!/usr/bin/env bash
# Runs every stage of `make test`, whatever the stages before it did, keeps
# each stage's output and exit code in LOG_DIR, then prints the summary
# (scripts/test-summary.sh) and exits non-zero if any stage failed.
#
# Usage: scripts/run-tests.sh LOG_DIR NAME=MAKE_TARGET...
set -uo pipefail

logs=$1
shift
rm -rf "$logs" && mkdir -p "$logs" || exit 2
names=()
for stage in "$@"; do
	name=${stage%%=*}
	target=${stage#*=}
	names+=("$name")
	start=$(date +%s)
	printf '\n=== stage %s (make %s)\n' "$name" "$target"
	${MAKE:-make} --no-print-directory "$target" 2>&1 | tee "$logs/$name.log"
	echo "${PIPESTATUS[0]}" >"$logs/$name.rc"
	echo $(($(date +%s) - start)) >"$logs/$name.time"
done
echo
exec "$(dirname "$0")/test-summary.sh" "$logs" "${names[@]}"
