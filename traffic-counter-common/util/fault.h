/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Fault injection for tests: a crash at a named step of attach or migrate. */
#ifndef TFC_FAULT_H
#define TFC_FAULT_H

/*
 * With TRAFFIC_COUNTER_TEST_KILL_AT=<step> the process SIGKILLs itself at
 * that step ("loaded": maps pinned, program loaded, nothing attached;
 * "linked": attached, attachment not pinned; "pinned": everything done;
 * attach --migrate adds "staged", "repointed", "carried", "committing"), to
 * prove every crash leaves a state a new attach recovers from.
 */
void tfc_fault_point(const char *step);

#endif /* TFC_FAULT_H */
