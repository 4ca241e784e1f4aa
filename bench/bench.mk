# `make bench`, included by the top Makefile: the bench's BPF objects and
# skeletons (bench/*.bpf.c, built with the data path's BPF_CFLAGS), its
# drivers, and bench/run.sh, which runs them and writes bench/results/.

BENCH_BUILD    := $(BUILD)/bench
BENCH_BPF_SRCS := $(sort $(wildcard bench/*.bpf.c))
BENCH_BPF_OBJS := $(BENCH_BPF_SRCS:bench/%.bpf.c=$(BENCH_BUILD)/%.bpf.o)
BENCH_SKELS    := $(BENCH_BPF_OBJS:%.bpf.o=%.skel.h)
BENCH_HDRS     := $(wildcard bench/*.h) $(COMMON_DIR)/abi/traffic_counter_abi.h
BENCH_LIB_SRCS := bench/bench_lib.c bench/rounds.c
BENCH_BINS     := $(addprefix $(BENCH_BUILD)/,prog_bench maps_bench e2e_bench fill_map cgroup_bench)
BENCH_CFLAGS    = $(filter-out -MMD -MP,$(TFC_CFLAGS)) -I$(BENCH_BUILD)
BENCH_LDLIBS   := $(shell $(PKG_CONFIG) --libs libbpf json-c 2>/dev/null || \
	echo -lbpf -lelf -lz -ljson-c) -lm -lpthread

# real.bpf.c includes the data path's source: its -MMD file tracks it.
$(BENCH_BUILD)/%.bpf.o: bench/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -I$(EBPF_DIR) -Ibench -c $< -o $@

$(BENCH_BUILD)/%.skel.h: $(BENCH_BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name bench_$* > $@

$(BENCH_BUILD)/%: bench/%.c $(BENCH_LIB_SRCS) $(BENCH_HDRS) $(BENCH_SKELS) $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BENCH_CFLAGS) $(CFLAGS) $< $(BENCH_LIB_SRCS) $(BENCH_LDLIBS) -o $@

bench-build: $(BENCH_BINS)

# Kept (not removed as intermediates), so a rebuild only redoes what changed.
.SECONDARY: $(BENCH_BPF_OBJS) $(BENCH_SKELS)

.PHONY: bench-build
