/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The cgroup_skb programs' BPF tests (cgroup.c), run by test_bpf's main. */
#ifndef TFC_TEST_CGROUP_H
#define TFC_TEST_CGROUP_H

/* Number of failed tests. */
int cgroup_tests_run(void);

#endif
