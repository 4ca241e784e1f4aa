/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared helpers of the cmocka unit tests: argv building, output capture. */
#ifndef TFC_UNIT_H
#define TFC_UNIT_H

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* A writable argv (getopt's prototype takes char **) with its own strings. */
#define UNIT_MAX_ARGS 24
struct unit_args {
	int argc;
	char *argv[UNIT_MAX_ARGS + 1];
	char buf[2048];
};

static inline void unit_args_build(struct unit_args *a, const char *const *words, size_t n)
{
	size_t used = 0;

	assert_true(n <= UNIT_MAX_ARGS);
	a->argc = (int)n;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(words[i]) + 1;

		assert_true(used + len <= sizeof(a->buf));
		memcpy(a->buf + used, words[i], len);
		a->argv[i] = a->buf + used;
		used += len;
	}
	a->argv[n] = NULL;
}

#define UNIT_WORDS(...)	 ((const char *const[]){__VA_ARGS__})
#define UNIT_NWORDS(...) (sizeof(UNIT_WORDS(__VA_ARGS__)) / sizeof(const char *))
/* UNIT_ARGS(&a, "attach", "--iface", "eth0"): argv[0] is the command name. */
#define UNIT_ARGS(a, ...) unit_args_build(a, UNIT_WORDS(__VA_ARGS__), UNIT_NWORDS(__VA_ARGS__))

/* Redirects a stdio stream's file descriptor into a temporary file. */
struct unit_capture {
	FILE *stream;
	FILE *tmp;
	int saved;
	char text[16384];
};

static inline void unit_capture_start(struct unit_capture *c, FILE *stream)
{
	c->stream = stream;
	fflush(stream);
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	c->saved = dup(fileno(stream));
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->tmp), fileno(stream)) >= 0);
}

/* Restores the stream and returns everything written meanwhile. */
static inline const char *unit_capture_end(struct unit_capture *c)
{
	size_t n;

	fflush(c->stream);
	assert_true(dup2(c->saved, fileno(c->stream)) >= 0);
	close(c->saved);
	rewind(c->tmp);
	n = fread(c->text, 1, sizeof(c->text) - 1, c->tmp);
	c->text[n] = '\0';
	fclose(c->tmp);
	return c->text;
}

/* Everything written to a memory stream, as one string (caller frees). */
struct unit_mem {
	FILE *f;
	char *buf;
	size_t len;
};

static inline void unit_mem_open(struct unit_mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
}

static inline char *unit_mem_close(struct unit_mem *m)
{
	assert_int_equal(fclose(m->f), 0);
	assert_non_null(m->buf);
	return m->buf;
}

#endif /* TFC_UNIT_H */
