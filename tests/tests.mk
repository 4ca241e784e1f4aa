# Test targets, included by the top Makefile. `make test` runs everything:
# lint, unit (cmocka), BPF (bpf_prog_test_run), end-to-end (bats, netns).

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:%.c=$(BUILD)/%)
BPF_TEST_SRCS := $(sort $(wildcard tests/bpf/*.c))
BPF_TEST_BIN  := $(BUILD)/tests/bpf/test_bpf
HELPER_SRCS := $(sort $(wildcard tests/helpers/*.c))
HELPER_BINS := $(HELPER_SRCS:%.c=$(BUILD)/%)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

CLI_LIB_OBJS := $(filter-out %/main.o,$(CLI_OBJS))

$(BUILD)/tests/unit/%: tests/unit/%.c $(COMMON_OBJS) $(CLI_LIB_OBJS)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TC_CFLAGS) -I$(CLI_DIR) $(CFLAGS) $^ $(CMOCKA_LIBS) $(LDLIBS) -o $@

$(BPF_TEST_BIN): $(BPF_TEST_SRCS) $(wildcard tests/bpf/*.h) $(SKEL)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TC_CFLAGS) -I$(EBPF_DIR) $(CFLAGS) $(BPF_TEST_SRCS) $(CMOCKA_LIBS) $(LDLIBS) -o $@

$(BUILD)/tests/helpers/%: tests/helpers/%.c
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TC_CFLAGS) $(CFLAGS) $< -o $@

test-unit: $(UNIT_BINS)
	$(Q)set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

test-bpf: $(BPF_TEST_BIN)
	$(Q)$(BPF_TEST_BIN)

test-e2e: $(BIN) $(HELPER_BINS)
	$(Q)TC_BIN=$(abspath $(BIN)) TC_HELPERS=$(abspath $(BUILD)/tests/helpers) \
		bats --print-output-on-failure tests/e2e

lint:
	$(Q)scripts/lint.sh

TEST_LOGS := $(BUILD)/test-logs

# Each stage's output is kept, and the last line adds them all up.
test: deps
	$(Q)$(MAKE) --no-print-directory build
	$(Q)$(MAKE) --no-print-directory lint
	$(Q)rm -rf $(TEST_LOGS) && mkdir -p $(TEST_LOGS)
	$(Q)set -o pipefail; for t in test-unit test-bpf test-e2e; do \
		$(MAKE) --no-print-directory $$t 2>&1 | tee $(TEST_LOGS)/$$t.log || exit 1; done
	$(Q)scripts/test-summary.sh $(TEST_LOGS)/*.log
