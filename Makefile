# traffic-counter: one self-contained binary with the BPF object embedded
# through a libbpf skeleton. `make V=1` shows the commands.

SHELL    := /bin/bash
BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PKG_CONFIG ?= pkg-config
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# `make test SANITIZE=1`: userspace built with ASan + UBSan in its own tree.
ifeq ($(SANITIZE),1)
BUILD    := build-asan
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif

# `make ABI=1`: this tree built with an earlier map layout version in its own
# tree, as the previous release made its maps: the upgrade tests
# (tests/e2e/migrate.bats) attach with it, then migrate with the real build.
ifneq ($(ABI),)
BUILD    := build-abi$(ABI)
ABI_FLAGS := -DTFC_ABI_VERSION=$(ABI)
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BPF_ARCH  := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

COMMON_DIR := traffic-counter-common
EBPF_DIR   := traffic-counter-ebpf
CLI_DIR    := traffic-counter

# Only UAPI headers: no vmlinux.h, so the build does not depend on this
# machine's BTF.
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) $(ABI_FLAGS) \
	-Wall -Wextra -Werror -Wno-unused-parameter \
	$(if $(MULTIARCH),-I/usr/include/$(MULTIARCH)) -I$(COMMON_DIR)/abi -MMD -MP

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# CFLAGS, CPPFLAGS and LDFLAGS from the environment are honoured, so a
# package build gets dpkg-buildflags' hardening (debian/rules).
CFLAGS   ?= -O2 -g
CFLAGS   += $(SAN_FLAGS)
LDFLAGS  += $(SAN_FLAGS)

# Hardening of the binary, on by default (HARDEN=0 leaves it out, to show
# what scripts/check-hardening.sh catches). It comes before the caller's
# CFLAGS and LDFLAGS, so theirs win (-fno-stack-protector, another
# _FORTIFY_SOURCE level). _FORTIFY_SOURCE is left out where it does not fit:
# when the caller sets it (dpkg-buildflags does), at -O0 (glibc's warning
# would be an error under -Werror), and with SANITIZE=1, where the checked
# __*_chk functions would abort before ASan reports the overflow.
# -fcf-protection exists only on x86.
HARDEN   ?= 1
CC_MACHINE := $(shell $(CC) -dumpmachine 2>/dev/null)
ifeq ($(HARDEN),1)
HARDEN_CFLAGS := -fstack-protector-strong -fstack-clash-protection \
	$(if $(filter x86_64-% i386-% i486-% i586-% i686-%,$(CC_MACHINE)),-fcf-protection)
HARDEN_CPPFLAGS := $(if $(or $(SAN_FLAGS),$(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),\
	$(filter -O0,$(CFLAGS))),,-D_FORTIFY_SOURCE=2)
HARDEN_LDFLAGS := -Wl,-z,relro,-z,now
endif
# Where apply and the unit generator look for traffic-counter.conf by
# default; also where dist/install.mk installs it.
SYSCONFDIR ?= /etc
TFC_CFLAGS := -std=c11 -D_GNU_SOURCE -DTFC_VERSION='"$(VERSION)"' $(ABI_FLAGS) $(WARN) \
	-DTFC_SYSCONFDIR='"$(SYSCONFDIR)"' \
	-I$(COMMON_DIR) -I$(CLI_DIR) -I$(BUILD) -MMD -MP \
	$(shell $(PKG_CONFIG) --cflags libbpf json-c libmicrohttpd libcrypt ncursesw libfixbuf sqlite3 cairo fontconfig 2>/dev/null)
LDLIBS   += $(shell $(PKG_CONFIG) --libs libbpf json-c libmicrohttpd libcrypt ncursesw libfixbuf sqlite3 cairo fontconfig 2>/dev/null || echo -lbpf -lelf -lz -ljson-c -lmicrohttpd -lcrypt -lncursesw -ltinfo -lfixbuf -lglib-2.0 -lsqlite3 -lcairo -lfontconfig)
# report --chart scales its axis with log10 and pow.
LDLIBS   += -lm

BPF_OBJ  := $(BUILD)/traffic_counter.bpf.o
SKEL     := $(BUILD)/traffic_counter.skel.h
# attach --migrate's programs (traffic-counter-ebpf/migrate.bpf.c).
SKELS    := $(SKEL) $(BUILD)/migrate.skel.h
BIN      := $(BUILD)/traffic-counter

COMMON_SRCS := $(sort $(wildcard $(COMMON_DIR)/*/*.c))
CLI_SRCS    := $(sort $(wildcard $(CLI_DIR)/*.c $(CLI_DIR)/*/*.c))
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS    := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)

.DELETE_ON_ERROR:
.PHONY: all build build-ebpf build-ebpf-rust check-ebpf deps test test-unit test-bpf bench \
	test-e2e demo clean install uninstall lint format deb

all: build
build: $(BIN)
build-ebpf: $(BPF_OBJ) $(SKELS)

build-ebpf-rust:
	@echo "build-ebpf-rust: the Rust/aya variant is not part of this C implementation;" \
		"the kernel side is traffic-counter-ebpf/*.bpf.c (make build-ebpf)." >&2
	@exit 1

check-ebpf:
	$(Q)scripts/check-deps.sh

# Installs missing Debian packages when run as root; only reports otherwise.
deps:
	$(Q)if [ "$$(id -u)" = 0 ]; then scripts/check-deps.sh --install; \
	else scripts/check-deps.sh; fi

$(BUILD)/%.bpf.o: $(EBPF_DIR)/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Replace the skeleton only when it changed, so userspace does not rebuild
# for a BPF edit that leaves the object identical; the stamp records that
# the skeleton is up to date with the object.
$(BUILD)/%.skel.h: $(BUILD)/.%.skel.stamp ;
$(BUILD)/.%.skel.stamp: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$(BUILD)/$*.skel.h)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $(BUILD)/$*.skel.h.tmp
	$(Q)if cmp -s $(BUILD)/$*.skel.h.tmp $(BUILD)/$*.skel.h; then \
		rm -f $(BUILD)/$*.skel.h.tmp; \
	else mv $(BUILD)/$*.skel.h.tmp $(BUILD)/$*.skel.h; fi
	$(Q)touch $@

.SECONDARY: $(SKELS:%.skel.h=%.bpf.o) $(foreach s,$(SKELS),$(dir $(s)).$(notdir $(s:.h=.stamp)))

# The flags the objects and the binary are built with: a change (HARDEN=0,
# another CFLAGS) rebuilds them, instead of linking objects made otherwise.
BUILD_FLAGS := $(HARDEN_CPPFLAGS) $(CPPFLAGS) $(TFC_CFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) \
	| $(HARDEN_LDFLAGS) $(LDFLAGS) $(LDLIBS)
$(BUILD)/.build-flags: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)printf '%s\n' '$(BUILD_FLAGS)' | cmp -s - $@ || printf '%s\n' '$(BUILD_FLAGS)' >$@

.PHONY: FORCE

$(BUILD)/obj/%.o: %.c $(BUILD)/.build-flags | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HARDEN_CPPFLAGS) $(CPPFLAGS) $(TFC_CFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) -c $< -o $@

$(BIN): $(CLI_OBJS) $(COMMON_OBJS) $(BUILD)/.build-flags
	$(call msg,LINK,$@)
	$(Q)$(CC) $(HARDEN_CFLAGS) $(CFLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS) $(filter %.o,$^) $(LDLIBS) -o $@

include tests/tests.mk
-include bench/bench.mk

# Overhead against the floor and the alternatives (bench/README.md); writes
# bench/results/latest.md and .json. Reports figures, never fails on one.
bench:
	$(Q)if [ "$$(id -u)" = 0 ]; then scripts/check-deps.sh --install --group build && \
		scripts/check-deps.sh --install --group bench; fi
	$(Q)$(MAKE) --no-print-directory build bench-build $(BUILD)/tests/helpers/history_fill \
		$(BUILD)/tests/helpers/fill_ip_map
	$(Q)BUILD=$(BUILD) bench/run.sh
	$(Q)BUILD=$(BUILD) bench/history_report.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory build $(BUILD)/tests/helpers/udp_send
	$(Q)TFC_HELPERS=$(abspath $(BUILD)/tests/helpers) scripts/demo.sh $(BIN)

# Man pages, completion, units, example configuration: dist/install.mk.
install: $(BIN) install-dist
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/traffic-counter

uninstall: uninstall-dist
	rm -f $(DESTDIR)$(SBINDIR)/traffic-counter

include dist/install.mk
include dist/deb.mk

format:
	clang-format -i $(COMMON_DIR)/*/*.[ch] $(EBPF_DIR)/*.[ch] $(CLI_DIR)/*.[ch] $(CLI_DIR)/*/*.[ch] \
		$(wildcard tests/*/*.[ch]) $(wildcard bench/*.[ch])

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

# Not build/deb: the package's own copy of the tree and its sysusers.d.
-include $(shell find $(BUILD) -path $(BUILD)/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
