#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $output
# The Debian package (make deb, debian/): apt-get installs it; the binary
# reports VERSION; it holds exactly the expected files, hardened; systemd
# accepts its units, which are neither enabled nor started; lintian finds no
# warning or error; apt-get purge leaves nothing of it behind.
#
# It installs into this machine's own root, so it refuses to run where
# traffic-counter is already installed (as a package, or any of the
# package's files by `make install PREFIX=/usr`): purging would remove a real
# install. Whatever happens, teardown purges what the test installed.

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PKG=traffic-counter
DEB_DIR=$REPO/build/deb
APT=(apt-get -y -q -o DPkg::Lock::Timeout=120)

EXPECTED_FILES="/etc/traffic-counter/traffic-counter.conf
/lib/systemd/system/traffic-counter-exporter.service
/lib/systemd/system/traffic-counter-ipfix.service
/lib/systemd/system/traffic-counter-record.service
/lib/systemd/system/traffic-counter.service
/lib/systemd/system-generators/traffic-counter-generator
/usr/lib/sysusers.d/traffic-counter.conf
/usr/sbin/traffic-counter
/usr/share/bash-completion/completions/traffic-counter
/usr/share/doc/traffic-counter/changelog.gz
/usr/share/doc/traffic-counter/copyright
/usr/share/man/man5/traffic-counter.conf.5.gz
/usr/share/man/man8/traffic-counter.8.gz"

# deb_is_current DEB: DEB exists and no tracked file changed after it was
# built (make deb builds from the tracked files).
deb_is_current() {
	local f
	[ -f "$1" ] || return 1
	while IFS= read -r -d '' f; do
		[ ! "$REPO/$f" -nt "$1" ] || return 1
	done < <(git -C "$REPO" ls-files -z)
}

# refuse REASON: every test of the file skips with REASON.
refuse() { echo "$*" >"$BATS_FILE_TMPDIR/refused"; }

# The files and directories the .deb holds, as absolute paths.
deb_paths() { dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed -e 's|^\./|/|' -e 's|/$||' | grep .; }

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	VERSION=$(cat "$REPO/VERSION")
	DEB=$DEB_DIR/${PKG}_${VERSION}_$(dpkg --print-architecture).deb
	export VERSION DEB
	if dpkg -s "$PKG" >/dev/null 2>&1; then
		refuse "package.bats: $PKG is already known to dpkg ($(dpkg-query -W \
			-f='${Status}' "$PKG")): not touching a real install; purge it first"
		return 0
	fi
	if ! deb_is_current "$DEB"; then
		make -C "$REPO" --no-print-directory deb >"$BATS_FILE_TMPDIR/make-deb.log" 2>&1 || {
			tail -40 "$BATS_FILE_TMPDIR/make-deb.log" >&2
			echo "package.bats: make deb failed (log above)" >&2
			return 1
		}
	fi
	local p
	while read -r p; do
		if [ -e "$p" ] && ! [ -d "$p" ]; then
			refuse "package.bats: $p already exists (make install PREFIX=/usr?):" \
				"not overwriting a real install; remove it first"
			return 0
		fi
	done < <(deb_paths)
	# Debian leaves a package's system users behind on purge; the test
	# removes the ones it made (teardown_file).
	getent passwd traffic-counter >/dev/null || touch "$BATS_FILE_TMPDIR/made-user"
	getent group traffic-counter >/dev/null || touch "$BATS_FILE_TMPDIR/made-group"
	touch "$BATS_FILE_TMPDIR/installing"
	DEBIAN_FRONTEND=noninteractive "${APT[@]}" install --no-install-recommends "$DEB" \
		>"$BATS_FILE_TMPDIR/install.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/install.log" >&2
		return 1
	}
}

teardown_file() {
	[ -e "$BATS_FILE_TMPDIR/installing" ] || return 0
	if dpkg -s "$PKG" >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive "${APT[@]}" purge "$PKG" >/dev/null 2>&1 ||
			dpkg --purge "$PKG" >/dev/null 2>&1 || true
	fi
	[ ! -e "$BATS_FILE_TMPDIR/made-user" ] || userdel traffic-counter 2>/dev/null || true
	[ ! -e "$BATS_FILE_TMPDIR/made-group" ] || groupdel traffic-counter 2>/dev/null || true
}

setup() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "package.bats installs a package into this machine: run as root"
	fi
	[ ! -e "$BATS_FILE_TMPDIR/refused" ] || skip "$(cat "$BATS_FILE_TMPDIR/refused")"
	need_tools dpkg-buildpackage dh lintian systemd-analyze systemctl readelf git
}

installed_files() { dpkg -L "$PKG" | while read -r p; do [ -d "$p" ] || echo "$p"; done | LC_ALL=C sort; }

# ---------------------------------------------------------------- tests --

@test "apt-get installs the package: /usr/sbin/traffic-counter --version is VERSION" {
	assert_eq "$(dpkg-query -W -f='${Version} ${Status}' "$PKG")" \
		"$VERSION install ok installed" "dpkg status"
	run /usr/sbin/traffic-counter --version
	[ "$status" -eq 0 ]
	assert_eq "$output" "traffic-counter $VERSION" "--version"
	# The postinst made the exporter's user (sysusers.d).
	getent passwd traffic-counter >/dev/null
	getent group traffic-counter >/dev/null
}

@test "the package holds exactly the expected files; the configuration is a conffile" {
	assert_eq "$(installed_files)" "$(LC_ALL=C sort <<<"$EXPECTED_FILES")" "dpkg -L (files)"
	assert_eq "$(dpkg-query -W -f='${Conffiles}' "$PKG" | awk 'NF { print $1 }')" \
		/etc/traffic-counter/traffic-counter.conf "conffiles"
	grep -qx 'ExecStart=/usr/sbin/traffic-counter serve' \
		/lib/systemd/system/traffic-counter-exporter.service
	# Runtime libraries only, from dpkg-shlibdeps.
	local depends
	depends=$(dpkg-query -W -f='${Depends}' "$PKG")
	echo "Depends: $depends"
	[[ $depends == *libbpf1* && $depends == *libmicrohttpd12* ]]
	[[ $depends != *-dev* ]]
}

@test "the binary is hardened: fortified, stack protector, full RELRO, PIE, CET" {
	local bin=/usr/sbin/traffic-counter
	# dpkg-buildflags' flags and the Makefile's own (stripped: no debug
	# information, so no check of -fstack-clash-protection here).
	need_tools hardening-check objdump
	"$REPO/scripts/check-hardening.sh" "$bin"
	readelf -lW "$bin" | grep -q GNU_RELRO
	readelf -dW "$bin" | grep -q 'BIND_NOW'
	readelf -dW "$bin" | grep -q 'Flags:.*PIE'
	readelf --dyn-syms -W "$bin" | grep -q '__stack_chk_fail'
	readelf --dyn-syms -W "$bin" | grep -qE '__[a-z]+printf_chk'
}

@test "systemd-analyze verify accepts the installed units, man pages included" {
	local unit n=0
	for unit in $(dpkg -L "$PKG" | grep '/systemd/system/.*\.service$'); do
		run systemd-analyze verify "$unit"
		echo "$unit: status $status: $output"
		[ "$status" -eq 0 ]
		assert_eq "$output" "" "systemd-analyze verify $unit"
		n=$((n + 1))
	done
	assert_eq "$n" 4 "units in the package"
}

@test "the units are not enabled, nor started, by the install" {
	local unit
	for unit in traffic-counter.service traffic-counter-exporter.service \
		traffic-counter-ipfix.service traffic-counter-record.service; do
		run systemctl is-enabled "$unit"
		assert_eq "$output" disabled "systemctl is-enabled $unit"
		if [ -d /run/systemd/system ]; then
			run systemctl is-active "$unit"
			assert_eq "$output" inactive "systemctl is-active $unit"
		fi
	done
	run find /etc/systemd/system -name 'traffic-counter*'
	assert_eq "$output" "" "links under /etc/systemd/system"
	# Where systemd runs, the maintainer scripts: no start on install, a
	# restart on upgrade only of running units, a stop on removal.
	local info=/var/lib/dpkg/info/$PKG
	assert_eq "$(grep -cE 'deb-systemd-invoke (start|restart) ' "$info.postinst")" 0 \
		"starts in postinst"
	assert_eq "$(grep -c 'deb-systemd-helper enable' "$info.postinst")" \
		"$(grep -c 'deb-systemd-helper --quiet was-enabled' "$info.postinst")" \
		"enables in postinst that are not restoring an earlier state"
	grep -q "deb-systemd-invoke try-restart 'traffic-counter-exporter.service' 'traffic-counter-ipfix.service' 'traffic-counter-record.service' 'traffic-counter.service'" \
		"$info.postinst"
	# shellcheck disable=SC2016 # $1 of the script, literally
	grep -q '"$1" = remove' "$info.prerm"
	grep -q 'deb-systemd-invoke stop traffic-counter-record.service traffic-counter-ipfix.service traffic-counter-exporter.service traffic-counter.service' \
		"$info.prerm"
	run grep -s deb-systemd-invoke "$info.preinst"
	assert_eq "$output" "" "preinst: no stop before an upgrade"
}

@test "lintian: no warning or error in the .deb" {
	# lintian notes on stderr that it runs as root; only its tags matter.
	run --separate-stderr lintian --fail-on warning,error --info "$DEB"
	echo "$output"
	[ "$status" -eq 0 ]
	run grep -E '^[WE]: ' <<<"$output"
	[ "$status" -eq 1 ]
}

@test "apt-get purge leaves no file, no conffile and no state of the package" {
	local before p left=""
	before=$(dpkg -L "$PKG")
	[[ $before == */usr/sbin/traffic-counter* ]]
	run env DEBIAN_FRONTEND=noninteractive "${APT[@]}" purge "$PKG"
	echo "$output"
	[ "$status" -eq 0 ]
	run dpkg -s "$PKG"
	[ "$status" -ne 0 ]
	# Only directories that other packages own may stay (/usr/sbin, ...).
	while read -r p; do
		[ "$p" != /. ] || continue
		[ -e "$p" ] || [ -L "$p" ] || continue
		[ -d "$p" ] && dpkg -S "$p" >/dev/null 2>&1 && continue
		left+=" $p"
	done <<<"$before"
	assert_eq "$left" "" "left after purge"
	assert_eq "$(find /var/lib/dpkg/info -name "$PKG.*")" "" "dpkg metadata"
	assert_eq "$(find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
		/var/lib/systemd/deb-systemd-helper-masked -name 'traffic-counter*' 2>/dev/null)" \
		"" "systemd links and deb-systemd-helper state"
	# As for every Debian package, the system user stays (README.md).
	getent passwd traffic-counter >/dev/null
}
