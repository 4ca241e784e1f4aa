/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef TC_LOG_H
#define TC_LOG_H

#include <stdarg.h>

enum tc_log_level {
	TC_LOG_ERROR,
	TC_LOG_WARN,
	TC_LOG_INFO,
	TC_LOG_DEBUG,
};

/* Messages at or below this level are printed (default TC_LOG_INFO). */
void tc_log_set_level(enum tc_log_level level);
enum tc_log_level tc_log_get_level(void);

/* Route libbpf's own messages through tc_log: shown only with -v. */
void tc_log_setup_libbpf(void);

/* While quiet, libbpf's messages are dropped even with -v (feature probes). */
void tc_log_libbpf_quiet(int quiet);

__attribute__((format(printf, 2, 3))) void tc_log(enum tc_log_level level, const char *fmt, ...);

/* One line on stderr, "traffic-counter: <message>": the cause and the fix. */
#define tc_err(...)   tc_log(TC_LOG_ERROR, __VA_ARGS__)
#define tc_warn(...)  tc_log(TC_LOG_WARN, __VA_ARGS__)
#define tc_info(...)  tc_log(TC_LOG_INFO, __VA_ARGS__)
#define tc_debug(...) tc_log(TC_LOG_DEBUG, __VA_ARGS__)

#endif /* TC_LOG_H */
