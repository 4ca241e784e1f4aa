# Test targets, included by the top Makefile. `make test` runs everything:
# lint, unit (cmocka), BPF (bpf_prog_test_run), end-to-end (bats, netns).

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:%.c=$(BUILD)/%)
BPF_TEST_SRCS := $(sort $(wildcard tests/bpf/*.c)) $(COMMON_DIR)/util/names.c
BPF_TEST_BIN  := $(BUILD)/tests/bpf/test_bpf
HELPER_SRCS := $(sort $(wildcard tests/helpers/*.c))
HELPER_BINS := $(HELPER_SRCS:%.c=$(BUILD)/%)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

CLI_LIB_OBJS := $(filter-out %/main.o,$(CLI_OBJS))

$(BUILD)/tests/unit/%: tests/unit/%.c $(COMMON_OBJS) $(CLI_LIB_OBJS)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TFC_CFLAGS) $(CFLAGS) $(filter %.c %.o,$^) $(CMOCKA_LIBS) $(LDLIBS) -o $@

$(BPF_TEST_BIN): $(BPF_TEST_SRCS) $(wildcard tests/bpf/*.h) $(SKEL)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TFC_CFLAGS) -I$(EBPF_DIR) -I$(COMMON_DIR)/abi $(CFLAGS) $(BPF_TEST_SRCS) $(CMOCKA_LIBS) $(LDLIBS) -o $@

$(BUILD)/tests/helpers/%: tests/helpers/%.c
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TFC_CFLAGS) $(CFLAGS) $< -o $@

# Helpers that need the libraries: the test IPFIX collector is libfixbuf's
# other half; tc_drop, the other tc program of the ordering tests, loads and
# attaches through libbpf.
LIB_HELPERS := $(BUILD)/tests/helpers/ipfix_collect $(BUILD)/tests/helpers/tc_drop
$(LIB_HELPERS): $(BUILD)/tests/helpers/%: tests/helpers/%.c
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TFC_CFLAGS) $(CFLAGS) $< $(LDLIBS) -o $@

# history_fill writes rows into a history database made by the real schema
# (export/history.c), for report's tests and benchmark.
HISTORY_FILL_SRCS := tests/helpers/history_fill.c $(COMMON_DIR)/export/history.c \
	$(COMMON_DIR)/util/log.c $(COMMON_DIR)/util/text.c
$(BUILD)/tests/helpers/history_fill: $(HISTORY_FILL_SRCS) $(COMMON_DIR)/export/history.h
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(filter-out -MMD -MP,$(TFC_CFLAGS)) $(CFLAGS) $(HISTORY_FILL_SRCS) $(LDLIBS) -o $@

# tc_refused lists the frame cases of the BPF tests' table that the kernel's
# skb test run refuses at tc, for short_frames.bats to send over a veth: it is
# built from the same table and predicate as test_bpf (tests/bpf/cases.c).
TC_REFUSED_SRCS := tests/helpers/tc_refused.c tests/bpf/cases.c tests/bpf/pkt.c \
	$(COMMON_DIR)/util/names.c
$(BUILD)/tests/helpers/tc_refused: $(TC_REFUSED_SRCS) tests/bpf/cases.h tests/bpf/pkt.h \
		tests/bpf/harness.h
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(filter-out -MMD -MP,$(TFC_CFLAGS)) -Itests/bpf $(CFLAGS) $(TC_REFUSED_SRCS) -o $@

# Every binary runs, even after one fails.
test-unit: $(UNIT_BINS)
	$(Q)rc=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || rc=1; done; exit $$rc

test-bpf: $(BPF_TEST_BIN)
	$(Q)$(BPF_TEST_BIN)

# hostile_args.bats needs the ASan build: it runs in test-asan.
E2E_FILES := $(filter-out tests/e2e/hostile_args.bats,$(sort $(wildcard tests/e2e/*.bats)))

# migrate.bats and prog_names.bats make maps and programs as the previous
# releases did: this tree built with ABI=1 (Makefile), in build-abi1/, and
# with ABI=2 (the layout before prefix rows), in build-abi2/.
OLD_ABI      := 1
OLD_ABI_BIN  := build-abi$(OLD_ABI)/traffic-counter
OLD_ABI2     := 2
OLD_ABI2_BIN := build-abi$(OLD_ABI2)/traffic-counter
old-abi-build:
	$(Q)$(MAKE) --no-print-directory ABI=$(OLD_ABI) SANITIZE= build
	$(Q)$(MAKE) --no-print-directory ABI=$(OLD_ABI2) SANITIZE= build

test-e2e: $(BIN) $(HELPER_BINS) old-abi-build
	$(Q)TFC_BIN=$(abspath $(BIN)) TFC_HELPERS=$(abspath $(BUILD)/tests/helpers) \
		TFC_OLD_BIN=$(abspath $(OLD_ABI_BIN)) TFC_OLD2_BIN=$(abspath $(OLD_ABI2_BIN)) \
		bats --print-output-on-failure $(E2E_FILES)

# ASan + UBSan: userspace rebuilt in build-asan/ (SANITIZE=1), then the unit
# tests and the command-line end-to-end tests against that binary. A
# sanitizer report exits 99 (ASan, leaks included) or 98 (UBSan), which no
# test accepts.
ASAN_BUILD := build-asan
ASAN_E2E   := cli maps lifecycle hostile_args report
test-asan: test-asan-unit test-asan-e2e

asan-build:
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 build \
		$(patsubst $(BUILD)/%,$(ASAN_BUILD)/%,$(HELPER_BINS))

test-asan-unit: asan-build
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 test-unit

test-asan-e2e: asan-build
	$(Q)start=$$(date +%s); \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
	UBSAN_OPTIONS=halt_on_error=1:exitcode=98:print_stacktrace=1 \
	TFC_BIN=$(abspath $(ASAN_BUILD)/traffic-counter) \
	TFC_HELPERS=$(abspath $(ASAN_BUILD)/tests/helpers) \
		bats --print-output-on-failure $(ASAN_E2E:%=tests/e2e/%.bats); rc=$$?; \
	echo "test-asan: end-to-end tests took $$(( $$(date +%s) - start )) s"; exit $$rc

.PHONY: test-asan test-asan-unit test-asan-e2e asan-build old-abi-build

# Fuzzing (libFuzzer, clang -fsanitize=fuzzer): every input is a scenario
# (count-by, IP map room, offloaded tag, GSO) and up to 8 frames, run through
# the four programs into the same maps and checked against a model built from
# tests/fuzz/ref_parser.c; parse.h is also compiled natively (coverage).
# Seeds: one file per frame of the pcaps in TFC_CORPUS. Needs root (skips
# otherwise). `make fuzz` explores for FUZZ_SECONDS; `make test-fuzz` is a
# short fixed-seed pass for `make test`. Failing inputs: $(FUZZ_DIR)/crashes.
FUZZ_DIR      := $(BUILD)/fuzz
FUZZ_BIN      := $(FUZZ_DIR)/fuzz_bpf
FUZZ_SEEDER   := $(FUZZ_DIR)/pcap_seeds
FUZZ_SEEDS    := $(FUZZ_DIR)/seeds
FUZZ_SRCS     := tests/fuzz/fuzz_bpf.c tests/fuzz/ref_parser.c tests/fuzz/native_parse.c \
	$(COMMON_DIR)/util/names.c
FUZZ_HDRS     := tests/fuzz/ref_parser.h tests/fuzz/native_parse.h tests/fuzz/scenario.h \
	$(EBPF_DIR)/parse.h
TFC_CORPUS     ?= $(abspath tests/corpus)
FUZZ_SECONDS  ?= 120
FUZZ_RUNS     ?= 80000
FUZZ_MAX_LEN  ?= 10240
FUZZ_SANITIZE := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_ARGS      = -max_len=$(FUZZ_MAX_LEN) -dict=tests/fuzz/frames.dict \
	-artifact_prefix=$(FUZZ_DIR)/crashes/ -print_final_stats=1

$(FUZZ_BIN): $(FUZZ_SRCS) $(FUZZ_HDRS) $(SKEL)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(filter-out -MMD -MP,$(TFC_CFLAGS)) -I$(EBPF_DIR) -I$(COMMON_DIR)/abi -O1 -g $(FUZZ_SANITIZE) \
		$(FUZZ_SRCS) \
		$(LDLIBS) -o $@ || { echo "fuzz: clang could not build a libFuzzer target;" \
		"is libclang-rt-14-dev installed? (sudo make deps)" >&2; exit 1; }

# The oracle's own check: ref_parser against the case table and tshark.
FUZZ_AGREE := $(FUZZ_DIR)/ref_agree
FUZZ_AGREE_SRCS := tests/fuzz/ref_agree.c tests/fuzz/ref_parser.c tests/bpf/cases.c \
	tests/bpf/pkt.c $(COMMON_DIR)/util/names.c
$(FUZZ_AGREE): $(FUZZ_AGREE_SRCS) tests/fuzz/ref_parser.h tests/bpf/cases.h tests/bpf/pkt.h
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(filter-out -MMD -MP,$(TFC_CFLAGS)) -Itests/bpf $(CFLAGS) $(FUZZ_AGREE_SRCS) \
		-ljson-c -o $@

$(FUZZ_SEEDER): tests/fuzz/pcap_seeds.c tests/fuzz/scenario.h
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(filter-out -MMD -MP,$(TFC_CFLAGS)) $(CFLAGS) $< -o $@

fuzz-seeds: $(FUZZ_SEEDER)
	$(Q)rm -rf $(FUZZ_SEEDS) && mkdir -p $(FUZZ_SEEDS)
	$(Q)if ls $(TFC_CORPUS)/*.pcap >/dev/null 2>&1; then \
		$(FUZZ_SEEDER) $(FUZZ_SEEDS) $(TFC_CORPUS)/*.pcap; \
	else echo "fuzz: no pcap corpus at $(TFC_CORPUS) (set TFC_CORPUS):" \
		"starting from an empty corpus"; fi

fuzz: $(FUZZ_BIN) fuzz-seeds
	$(Q)mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/crashes
	$(Q)$(FUZZ_BIN) $(FUZZ_ARGS) -max_total_time=$(FUZZ_SECONDS) \
		$(FUZZ_DIR)/corpus $(FUZZ_SEEDS); rc=$$?; \
	if [ $$rc = 4 ]; then echo "fuzz: skipped (see above)"; exit 0; fi; exit $$rc

# Without libFuzzer's per-input NEW/REDUCE lines; the bracketed lines are what
# scripts/test-summary.sh adds up.
test-fuzz: $(FUZZ_BIN) $(FUZZ_AGREE) fuzz-seeds
	$(Q)rm -rf $(FUZZ_DIR)/test-corpus && mkdir -p $(FUZZ_DIR)/test-corpus $(FUZZ_DIR)/crashes
	$(Q)$(FUZZ_AGREE) $(TFC_CORPUS)/expected.json $(TFC_CORPUS) | grep -v '^\[       OK \]'; \
		agree=$${PIPESTATUS[0]}; \
	start=$$(date +%s); $(FUZZ_BIN) $(FUZZ_ARGS) \
		-runs=$(FUZZ_RUNS) -seed=1 $(FUZZ_DIR)/test-corpus $(FUZZ_SEEDS) 2>&1 | \
		grep -Ev '^#[0-9]+[[:space:]]+(NEW|REDUCE) |^"|[Rr]ecommended dictionary'; \
		rc=$${PIPESTATUS[0]}; \
	echo "test-fuzz: -runs=$(FUZZ_RUNS) took $$(( $$(date +%s) - start )) s"; \
	if [ $$rc = 0 ]; then echo "[  PASSED  ] 1 test(s)."; \
	elif [ $$rc = 4 ]; then echo "[  SKIPPED ] 1 test(s), listed below:"; \
		echo "[  SKIPPED ] test-fuzz"; \
	else echo "[  FAILED  ] 1 test(s), listed below:"; echo "[  FAILED  ] test-fuzz"; \
		echo "test-fuzz: see FUZZ MISMATCH above; the input is in $(FUZZ_DIR)/crashes"; \
		exit 1; fi; \
	if [ $$agree != 0 ]; then echo "test-fuzz: ref_parser disagrees with an oracle (above)"; \
		exit 1; fi

.PHONY: fuzz fuzz-seeds test-fuzz

include tests/corpus/corpus.mk

# Also checks the binary's hardening (scripts/check-hardening.sh), so it
# needs the build.
lint: $(BIN)
	$(Q)LINT_BIN=$(BIN) LINT_HARDENING_OPTS="$(if $(SAN_FLAGS),--no-fortify)" scripts/lint.sh

TEST_LOGS := $(BUILD)/test-logs
# Every stage runs whatever the others did; each counts its own tests once
# (the ASan stages re-run tests under the sanitizers and are stages of their
# own). The last line adds them up and is non-zero if anything failed.
TEST_STAGES := build=build lint=lint unit=test-unit bpf=test-bpf fuzz=test-fuzz \
	e2e=test-e2e asan-unit=test-asan-unit asan-e2e=test-asan-e2e

test: deps
	$(Q)MAKE="$(MAKE)" scripts/run-tests.sh $(TEST_LOGS) $(TEST_STAGES)
