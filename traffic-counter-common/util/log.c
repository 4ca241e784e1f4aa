// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "text.h"

static enum tfc_log_level log_level = TFC_LOG_INFO;
static int libbpf_quiet;

void tfc_log_set_level(enum tfc_log_level level)
{
	log_level = level;
}

enum tfc_log_level tfc_log_get_level(void)
{
	return log_level;
}

void tfc_log_libbpf_quiet(int quiet)
{
	libbpf_quiet = quiet;
}

void tfc_log(enum tfc_log_level level, const char *fmt, ...)
{
	char msg[1024], shown[TFC_SAFE_LEN(sizeof(msg))];
	va_list ap;

	if (level > log_level)
		return;
	/* Errors and warnings go to stderr so stdout stays machine-readable. */
	fputs(level <= TFC_LOG_WARN ? "traffic-counter: " : "", stderr);
	if (level == TFC_LOG_WARN)
		fputs("warning: ", stderr);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Arguments end up in messages (interface names, paths, config lines):
	 * no newline or escape sequence from them may split the one line or
	 * reach the terminal raw, so control bytes are shown as \xNN. */
	fputs(tfc_text_safe(msg, shown, sizeof(shown)), stderr);
	fputc('\n', stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (libbpf_quiet || log_level < TFC_LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void tfc_log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
