#!/usr/bin/env bash
# Static checks run by `make lint` (and so by `make test` and CI):
# clang-format, cppcheck, layers (scripts/check-layers.py: include layers and
# module cycles), shellcheck, markdownlint, and the hardening of the built
# binary (scripts/check-hardening.sh). Fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
step() { printf '  %-8s %s\n' LINT "$1"; }

mapfile -t c_files < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')
step clang-format
clang-format --dry-run --Werror "${c_files[@]}" || status=1

step cppcheck
# bench/*.bpf.c are left out: cppcheck does not know the SEC() macro.
mapfile -t bench_c < <(git ls-files 'bench/*.c' ':!:bench/*.bpf.c' 2>/dev/null)
cppcheck --quiet --error-exitcode=1 --inline-suppr \
	--enable=warning,performance,portability --std=c11 \
	--suppress=missingIncludeSystem \
	-D__x86_64__ '-DLIBBPF_OPTS(TYPE,NAME,...)=struct TYPE NAME = {0}' \
	-I traffic-counter-common -I traffic-counter-common/abi -I traffic-counter -I bench \
	traffic-counter traffic-counter-common tests "${bench_c[@]}" || status=1

step layers
python3 scripts/check-layers.py || status=1

step shellcheck
mapfile -t sh_files < <(git ls-files '*.sh' '*.bash' '*.bats' .ci/run 2>/dev/null)
[ ${#sh_files[@]} -eq 0 ] || shellcheck -x "${sh_files[@]}" || status=1

step markdownlint
mapfile -t md_files < <(git ls-files '*.md' 2>/dev/null)
[ ${#md_files[@]} -eq 0 ] || markdownlint "${md_files[@]}" || status=1

# The binary's protections (the Makefile's HARDEN_* flags). make lint names
# it in LINT_BIN; run by hand, the default build.
step hardening
# shellcheck disable=SC2086 # LINT_HARDENING_OPTS: zero or more options
scripts/check-hardening.sh ${LINT_HARDENING_OPTS:-} "${LINT_BIN:-build/traffic-counter}" || status=1

[ $status -eq 0 ] || echo "lint: fix the findings above (make format fixes formatting; the layer rules are in openspec/project.md)" >&2
exit $status
