/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef TFC_LOG_H
#define TFC_LOG_H

#include <stdarg.h>

enum tfc_log_level {
	TFC_LOG_ERROR,
	TFC_LOG_WARN,
	TFC_LOG_INFO,
	TFC_LOG_DEBUG,
};

/* Messages at or below this level are printed (default TFC_LOG_INFO). */
void tfc_log_set_level(enum tfc_log_level level);
enum tfc_log_level tfc_log_get_level(void);

/* Route libbpf's own messages through tfc_log: shown only with -v. */
void tfc_log_setup_libbpf(void);

/* While quiet, libbpf's messages are dropped even with -v (feature probes). */
void tfc_log_libbpf_quiet(int quiet);

__attribute__((format(printf, 2, 3))) void tfc_log(enum tfc_log_level level, const char *fmt, ...);

/* One line on stderr, "traffic-counter: <message>": the cause and the fix. */
#define tfc_err(...)   tfc_log(TFC_LOG_ERROR, __VA_ARGS__)
#define tfc_warn(...)  tfc_log(TFC_LOG_WARN, __VA_ARGS__)
#define tfc_info(...)  tfc_log(TFC_LOG_INFO, __VA_ARGS__)
#define tfc_debug(...) tfc_log(TFC_LOG_DEBUG, __VA_ARGS__)

#endif /* TFC_LOG_H */
