#!/usr/bin/env bash
# The longest userspace C functions: "LINES NAME FILE:LINE", longest first.
# A brace counter over clang-formatted code (BreakBeforeBraces: Linux puts a
# function's "{" and "}" alone at column 0, its signature at column 0), so
# no compiler is needed. Lines counted: signature to closing brace.
#
#   scripts/longest-functions.sh [--root DIR] [-n N]   (N: 10)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=10
while [ $# -gt 0 ]; do
	case "$1" in
	--root) root=${2:?--root needs a folder}; shift 2 ;;
	-n) n=${2:?-n needs a number}; shift 2 ;;
	*) echo "usage: $0 [--root DIR] [-n N]" >&2; exit 2 ;;
	esac
done

cd "$root"
mapfile -t files < <(find traffic-counter-common traffic-counter -name '*.c' | sort)
[ ${#files[@]} -gt 0 ] || { echo "no userspace .c files under $root" >&2; exit 1; }

awk '
	FNR == 1 { sig = ""; inbody = 0 }
	# A signature: column 0, an identifier followed by "(", not a
	# declaration ending in ";", not a preprocessor line.
	!inbody && /^[A-Za-z_][^;]*[A-Za-z_0-9]+[ \t]*\(/ && !/^(typedef|#)/ {
		s = $0
		sub(/\(.*/, "", s)
		nm = split(s, w, /[ \t*]+/)
		sig = w[nm]; start = FNR
		next
	}
	!inbody && $0 == "{" && sig != "" { inbody = 1; next }
	!inbody && /^[^ \t]/ { sig = "" }
	inbody && $0 == "}" {
		printf "%d %s %s:%d\n", FNR - start + 1, sig, FILENAME, start
		inbody = 0; sig = ""
	}
' "${files[@]}" | sort -k1,1nr -k2,2 | head -n "$n"
