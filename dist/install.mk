# What `make install` puts beside the binary, included by the top Makefile.
# Every directory can be overridden; DESTDIR stages the whole tree.
#
#   $(SBINDIR)/traffic-counter                      (top Makefile)
#   $(MANDIR)/man8/traffic-counter.8, man5/traffic-counter.conf.5
#   $(COMPLETIONDIR)/traffic-counter                bash completion
#   $(UNITDIR)/traffic-counter.service, traffic-counter-exporter.service,
#     traffic-counter-ipfix.service, traffic-counter-record.service
#   $(GENERATORDIR)/traffic-counter-generator      symlink to the binary: drop-ins
#     that bind the pin directory traffic-counter.conf names (generator.c)
#   $(SYSUSERSDIR)/traffic-counter.conf             the exporter's user
#   $(SYSCONFDIR)/traffic-counter/traffic-counter.conf  example, never overwritten
#
# Units go under $(PREFIX)/lib/systemd/system: systemd reads both
# /usr/local/lib/systemd/system and /usr/lib/systemd/system, so the default
# PREFIX works as installed and a package uses PREFIX=/usr. The same holds
# for sysusers.d. The configuration is in /etc whatever the PREFIX, where
# the unit and traffic-counter.conf(5) say it is. SYSCONFDIR is set first in
# the top Makefile: the binary's default configuration is built from it.

SBINDIR       ?= $(PREFIX)/sbin
MANDIR        ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR       ?= $(PREFIX)/lib/systemd/system
GENERATORDIR  ?= $(PREFIX)/lib/systemd/system-generators
SYSUSERSDIR   ?= $(PREFIX)/lib/sysusers.d
SYSCONFDIR    ?= /etc
SCDOC         ?= scdoc

MAN_PAGES := $(BUILD)/doc/traffic-counter.8 $(BUILD)/doc/traffic-counter.conf.5
UNITS     := traffic-counter.service traffic-counter-exporter.service \
	traffic-counter-ipfix.service traffic-counter-record.service
GENERATOR := $(DESTDIR)$(GENERATORDIR)/traffic-counter-generator
CONF_FILE := $(DESTDIR)$(SYSCONFDIR)/traffic-counter/traffic-counter.conf

.PHONY: doc install-dist uninstall-dist

doc: $(MAN_PAGES)

$(BUILD)/doc/%: doc/%.scd
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(SCDOC) <$< >$@

# Units are made at install time, so they always name this install's paths.
install-dist: $(MAN_PAGES)
	install -D -m 0644 $(BUILD)/doc/traffic-counter.8 $(DESTDIR)$(MANDIR)/man8/traffic-counter.8
	install -D -m 0644 $(BUILD)/doc/traffic-counter.conf.5 \
		$(DESTDIR)$(MANDIR)/man5/traffic-counter.conf.5
	install -D -m 0644 dist/bash-completion/traffic-counter.bash \
		$(DESTDIR)$(COMPLETIONDIR)/traffic-counter
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			dist/systemd/$$u.in >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	@# Relative, so that it holds in DESTDIR as installed (-r computes it).
	install -d $(DESTDIR)$(GENERATORDIR)
	ln -sfr $(DESTDIR)$(SBINDIR)/traffic-counter $(GENERATOR)
	install -D -m 0644 dist/sysusers.d/traffic-counter.conf \
		$(DESTDIR)$(SYSUSERSDIR)/traffic-counter.conf
	[ -e $(CONF_FILE) ] || install -D -m 0644 dist/traffic-counter.conf $(CONF_FILE)
	@# On the live system (no DESTDIR), create the exporter's user now.
	if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/traffic-counter.conf; fi

# The configuration goes only while it is still the unchanged example.
uninstall-dist:
	rm -f $(DESTDIR)$(MANDIR)/man8/traffic-counter.8 \
		$(DESTDIR)$(MANDIR)/man5/traffic-counter.conf.5 \
		$(DESTDIR)$(COMPLETIONDIR)/traffic-counter \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) $(GENERATOR) \
		$(DESTDIR)$(SYSUSERSDIR)/traffic-counter.conf
	if cmp -s dist/traffic-counter.conf $(CONF_FILE); then \
		rm -f $(CONF_FILE) && rmdir $(dir $(CONF_FILE)) 2>/dev/null || true; fi
