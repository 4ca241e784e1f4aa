#!/usr/bin/env bash
# Names every missing tool or library and the Debian package that provides
# it. With --install (as root) installs the missing ones with apt-get, and
# markdownlint-cli with npm.
#
# Usage: scripts/check-deps.sh [--install] [--group build|test|lint|bench|all]
set -euo pipefail

install=0
group=all
while [ $# -gt 0 ]; do
	case "$1" in
	--install) install=1 ;;
	--group)
		group="${2:-}"
		shift
		;;
	-h | --help)
		sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "check-deps.sh: unknown argument '$1' (see --help)" >&2
		exit 2
		;;
	esac
	shift
done

# kind:name:package:group. kind is cmd (a command on PATH), pc (a pkg-config
# module) or file (a header path).
deps=(
	"cmd:make:make:build"
	"cmd:cc:gcc:build"
	"cmd:clang:clang:build"
	"cmd:llvm-objdump:llvm:build"
	"cmd:bpftool:bpftool:build"
	"cmd:pkg-config:pkg-config:build"
	"pc:libbpf:libbpf-dev:build"
	"pc:libelf:libelf-dev:build"
	"pc:zlib:zlib1g-dev:build"
	"pc:json-c:libjson-c-dev:build"
	"pc:libmicrohttpd:libmicrohttpd-dev:build"
	"pc:libcrypt:libcrypt-dev:build"
	"pc:libfixbuf:libfixbuf-dev:build"
	"pc:sqlite3:libsqlite3-dev:build"
	"pc:cairo:libcairo2-dev:build"
	"pc:fontconfig:libfontconfig-dev:build"
	"pc:ncursesw:libncurses-dev:build"
	"cmd:scdoc:scdoc:build"
	"file:/usr/include/linux/bpf.h:linux-libc-dev:build"
	"pc:cmocka:libcmocka-dev:test"
	"file:/usr/lib/llvm-14/lib/clang/14.0.6/include/fuzzer/FuzzedDataProvider.h:libclang-rt-14-dev:test"
	"cmd:bats:bats:test"
	"cmd:jq:jq:test"
	"cmd:ip:iproute2:test"
	"cmd:tc:iproute2:test"
	"cmd:ping:iputils-ping:test"
	"cmd:nsenter:util-linux:test"
	"cmd:timeout:coreutils:test"
	"cmd:tcpreplay:tcpreplay:test"
	"cmd:tshark:tshark:test"
	"cmd:python3:python3:test"
	"cmd:sqlite3:sqlite3:test"
	"cmd:taskset:util-linux:test"
	"cmd:iperf3:iperf3:test"
	"cmd:ethtool:ethtool:test"
	"cmd:prometheus:prometheus:test"
	"cmd:promtool:prometheus:test"
	"cmd:ab:apache2-utils:test"
	"cmd:htpasswd:apache2-utils:test"
	"cmd:openssl:openssl:test"
	"cmd:curl:curl:test"
	"cmd:setpriv:util-linux:test"
	"cmd:valgrind:valgrind:test"
	"cmd:tmux:tmux:test"
	"cmd:pgrep:procps:test"
	"cmd:man:man-db:test"
	"cmd:systemd-analyze:systemd:test"
	"file:/usr/share/bash-completion/bash_completion:bash-completion:test"
	"cmd:nfcapd:nfdump:test"
	"cmd:nfdump:nfdump:test"
	"cmd:git:git:test"
	"cmd:dpkg-buildpackage:dpkg-dev:test"
	"cmd:dh:debhelper:test"
	"cmd:lintian:lintian:test"
	"cmd:readelf:binutils:test"
	"cmd:strace:strace:test"
	"cmd:nft:nftables:bench"
	"cmd:ipset:ipset:bench"
	"cmd:iptables:iptables:bench"
	"cmd:ip:iproute2:bench"
	"cmd:ethtool:ethtool:bench"
	"cmd:jq:jq:bench"
	"cmd:nsenter:util-linux:bench"
	"cmd:taskset:util-linux:bench"
	"cmd:clang-format:clang-format:lint"
	"cmd:cppcheck:cppcheck:lint"
	"cmd:shellcheck:shellcheck:lint"
	"cmd:hardening-check:devscripts:lint"
	"cmd:objdump:binutils:lint"
	"cmd:readelf:binutils:lint"
	"cmd:npm:npm:lint"
	"cmd:python3:python3:lint"
)

present() {
	local kind=$1 name=$2
	case "$kind" in
	cmd) command -v "$name" >/dev/null 2>&1 ;;
	pc) command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$name" ;;
	file) [ -e "$name" ] ;;
	esac
}

missing_pkgs=()
for dep in "${deps[@]}"; do
	IFS=: read -r kind name pkg grp <<<"$dep"
	[ "$group" = all ] || [ "$group" = "$grp" ] || continue
	if ! present "$kind" "$name"; then
		echo "missing: $name (Debian package $pkg)"
		case " ${missing_pkgs[*]-} " in *" $pkg "*) ;; *) missing_pkgs+=("$pkg") ;; esac
	fi
done

need_mdl=0
if [ "$group" = all ] || [ "$group" = lint ]; then
	command -v markdownlint >/dev/null 2>&1 || {
		echo "missing: markdownlint (npm package markdownlint-cli)"
		need_mdl=1
	}
fi

if [ ${#missing_pkgs[@]} -eq 0 ] && [ $need_mdl -eq 0 ]; then
	echo "check-deps: everything needed ($group) is installed"
	exit 0
fi
if [ $install -eq 0 ]; then
	echo "check-deps: install the above with 'sudo make deps'" \
		"(or scripts/check-deps.sh --install)" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "check-deps: --install needs root (sudo scripts/check-deps.sh --install)" >&2
	exit 1
fi
if [ ${#missing_pkgs[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}"
fi
if [ $need_mdl -eq 1 ] || ! command -v markdownlint >/dev/null 2>&1; then
	npm install -g --no-fund --no-audit markdownlint-cli@0.41.0 >/dev/null
fi
echo "check-deps: installed ${missing_pkgs[*]-} $([ $need_mdl -eq 1 ] && echo markdownlint-cli)"
