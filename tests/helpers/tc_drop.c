// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc_drop: another program on a tc hook, for the ordering tests. It drops
 * (TC_ACT_SHOT) every frame of exactly LEN bytes (Ethernet header included,
 * as tc programs see skb->len) and has no opinion on the others
 * (TC_ACT_UNSPEC: the next program runs).
 *
 *   tc_drop tcx IFNAME ingress|egress LEN LINK_PIN [head]
 *	a TCX link, pinned at LINK_PIN (remove the pin to detach); appended
 *	to the chain, or inserted at its head with "head" (BPF_F_BEFORE)
 *   tc_drop cls IFNAME ingress|egress LEN PRIO HANDLE
 *	a direct-action cls_bpf filter on clsact (protocol all); remove it
 *	with `tc filter del dev IFNAME ingress|egress pref PRIO handle HANDLE bpf`
 *   tc_drop query IFNAME ingress|egress
 *	prints "ID NAME" for each program TCX runs on that hook, in order,
 *	from the kernel (bpftool 7.1 does not list TCX per device)
 *
 * The program is built from instructions: no object file to ship.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* Linux 6.6 UAPI, newer than libbpf 1.1's and bookworm's headers. */
#define TCX_INGRESS  46	       /* BPF_TCX_INGRESS */
#define TCX_EGRESS   47	       /* BPF_TCX_EGRESS */
#define TCX_F_BEFORE (1U << 3) /* BPF_F_BEFORE */

static void usage(void)
{
	fprintf(stderr, "usage: tc_drop tcx IFNAME ingress|egress LEN LINK_PIN [head]\n"
			"       tc_drop cls IFNAME ingress|egress LEN PRIO HANDLE\n"
			"       tc_drop query IFNAME ingress|egress\n");
}

static int parse_num(const char *what, const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || !*out || *out > max) {
		fprintf(stderr, "tc_drop: %s must be a number from 1 to %lu, got '%s'\n", what, max,
			s);
		return -1;
	}
	return 0;
}

/* if (skb->len != len) return TC_ACT_UNSPEC; return TC_ACT_SHOT; */
static int load_prog(__u32 len)
{
	const struct bpf_insn insns[] = {
		/* r2 = *(u32 *)(r1 + offsetof(struct __sk_buff, len)) */
		{.code = BPF_LDX | BPF_MEM | BPF_W,
		 .dst_reg = BPF_REG_2,
		 .src_reg = BPF_REG_1,
		 .off = offsetof(struct __sk_buff, len)},
		{.code = BPF_JMP | BPF_JNE | BPF_K,
		 .dst_reg = BPF_REG_2,
		 .off = 2,
		 .imm = (__s32)len},
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_SHOT},
		{.code = BPF_JMP | BPF_EXIT},
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_UNSPEC},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "tc_drop", "Dual BSD/GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	if (fd < 0)
		fprintf(stderr, "tc_drop: cannot load the program: %s\n", strerror(errno));
	return fd;
}

static int attach_tcx(int prog_fd, int ifindex, int egress, const char *pin, int head)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = head ? TCX_F_BEFORE : 0);
	int fd = bpf_link_create(prog_fd, ifindex, egress ? TCX_EGRESS : TCX_INGRESS, &lo);
	int err = 0;

	if (fd < 0) {
		fprintf(stderr, "tc_drop: cannot create the TCX link: %s\n", strerror(errno));
		return -1;
	}
	if (bpf_obj_pin(fd, pin)) {
		fprintf(stderr, "tc_drop: cannot pin the link at %s: %s\n", pin, strerror(errno));
		err = -1;
	}
	close(fd);
	return err;
}

static int attach_cls(int prog_fd, int ifindex, int egress, __u32 prio, __u32 handle)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .priority = prio, .handle = handle);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST) {
		fprintf(stderr, "tc_drop: cannot add clsact: %s\n", strerror(-err));
		return -1;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		fprintf(stderr, "tc_drop: cannot add the cls_bpf filter: %s\n", strerror(-err));
		return -1;
	}
	return 0;
}

static void print_prog(__u32 id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	/* A program detached since the query has no name left: "?". */
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		info.name[0] = '\0';
	printf("%u %s\n", id, info.name[0] ? info.name : "?");
	if (fd >= 0)
		close(fd);
}

/* The programs on a TCX hook, from BPF_PROG_QUERY (target: the ifindex). */
static int query_tcx(int ifindex, int egress)
{
	__u32 ids[64], cnt = sizeof(ids) / sizeof(ids[0]), flags = 0;

	if (bpf_prog_query(ifindex, egress ? TCX_EGRESS : TCX_INGRESS, 0, &flags, ids, &cnt)) {
		fprintf(stderr, "tc_drop: cannot query the TCX hook: %s\n", strerror(errno));
		return 1;
	}
	for (__u32 i = 0; i < cnt; i++)
		print_prog(ids[i]);
	return 0;
}

static int query_main(int argc, char **argv)
{
	int egress, ifindex;

	if (argc != 4 || (strcmp(argv[3], "ingress") && strcmp(argv[3], "egress"))) {
		usage();
		return 2;
	}
	egress = !strcmp(argv[3], "egress");
	ifindex = (int)if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "tc_drop: no interface %s\n", argv[2]);
		return 1;
	}
	return query_tcx(ifindex, egress);
}

int main(int argc, char **argv)
{
	unsigned long len, prio = 0, handle = 0;
	int tcx, egress, ifindex, head = 0, fd, err;

	if (argc > 1 && !strcmp(argv[1], "query"))
		return query_main(argc, argv);
	if (argc < 6 || argc > 7) {
		usage();
		return 2;
	}
	tcx = !strcmp(argv[1], "tcx");
	egress = !strcmp(argv[3], "egress");
	ifindex = (int)if_nametoindex(argv[2]);
	if ((!tcx && strcmp(argv[1], "cls")) || (!egress && strcmp(argv[3], "ingress")) ||
	    parse_num("LEN", argv[4], 65535, &len)) {
		usage();
		return 2;
	}
	if (tcx) {
		head = argc == 7 && !strcmp(argv[6], "head");
		if (argc == 7 && !head) {
			usage();
			return 2;
		}
	} else if (argc != 7 || parse_num("PRIO", argv[5], 0xffff, &prio) ||
		   parse_num("HANDLE", argv[6], UINT_MAX, &handle)) {
		usage();
		return 2;
	}
	if (!ifindex) {
		fprintf(stderr, "tc_drop: no interface %s\n", argv[2]);
		return 1;
	}
	fd = load_prog((__u32)len);
	if (fd < 0)
		return 1;
	err = tcx ? attach_tcx(fd, ifindex, egress, argv[5], head)
		  : attach_cls(fd, ifindex, egress, (__u32)prio, (__u32)handle);
	close(fd);
	return err ? 1 : 0;
}
