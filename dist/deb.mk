# `make deb`: the Debian package described by debian/, built with
# dpkg-buildpackage and debhelper. Included by the top Makefile.
#
# The build runs on a copy of the tracked files (git ls-files, as they are in
# the working tree) in build/deb/src, so that it writes nothing outside the
# repository: the .deb, .buildinfo and .changes land in build/deb/.
# Needs debhelper and dpkg-dev (scripts/check-deps.sh --group test) and the
# Build-Depends of debian/control (dpkg-buildpackage names any missing).
#
# The build flags come from dpkg-buildflags (hardening, debian/rules):
# CFLAGS, CPPFLAGS and LDFLAGS from the caller's environment or command line
# would replace them, so they are not passed on, nor is this make's
# MAKEFLAGS. DEB_CFLAGS_APPEND and the like still reach dpkg-buildflags.

DEB_DIR := build/deb

deb:
	$(Q)git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { \
		echo "deb: not a git checkout: the package is built from the tracked" \
			"files (git ls-files)" >&2; exit 1; }
	$(Q)v=$$(dpkg-parsechangelog -l debian/changelog -S Version) && \
	[ "$$v" = "$(VERSION)" ] || { \
		echo "deb: debian/changelog is at version '$$v' but VERSION says $(VERSION):" \
			"add a debian/changelog entry for $(VERSION)" >&2; exit 1; }
	$(call msg,DEB-SRC,$(DEB_DIR)/src)
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	$(Q)git ls-files -z | while IFS= read -r -d '' f; do \
		[ ! -e "$$f" ] || printf '%s\0' "$$f"; done | \
		tar --null --no-recursion -T - -cf - | tar -xf - -C $(DEB_DIR)/src
	$(call msg,DEB,$(DEB_DIR))
	$(Q)cd $(DEB_DIR)/src && env -u CFLAGS -u CPPFLAGS -u LDFLAGS -u MAKEFLAGS -u MFLAGS \
		-u MAKELEVEL dpkg-buildpackage -us -uc -b -jauto
	$(Q)ls $(DEB_DIR)/*.deb
