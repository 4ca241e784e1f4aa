/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Tests of prefix rows: overflow, --aggregate rules, the full-map memo (prefix.c). */
#ifndef TFC_TEST_PREFIX_H
#define TFC_TEST_PREFIX_H

void test_prefix_scenarios(void **state);
void test_full_memo(void **state);

#endif /* TFC_TEST_PREFIX_H */
