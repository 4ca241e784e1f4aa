// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <crypt.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "web_config.h"

#define LINE_MAX_LEN 4096
#define PEM_MAX	     (1 << 20) /* a key or certificate chain is far smaller */

enum section { SEC_NONE, SEC_TLS, SEC_USERS };

struct parser {
	const char *path;
	unsigned int line;
	enum section sec;
	int seen_tls, seen_users;
	struct web_config *wc;
};

static int bad(const struct parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tfc_err("--web-config %s:%u: %s", p->path, p->line, msg);
	return -EINVAL;
}

/* Cuts a comment: '#' at the start or after a blank, outside quotes. */
static void cut_comment(char *s)
{
	char quote = 0;

	for (char *c = s; *c; c++) {
		if (quote) {
			quote = *c == quote ? 0 : quote;
		} else if (*c == '\'' || *c == '"') {
			quote = *c;
		} else if (*c == '#' && (c == s || c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			return;
		}
	}
}

static void trim_end(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* A plain or quoted scalar, unquoted in place; NULL: not in our subset. */
static char *scalar(char *v)
{
	size_t n = strlen(v);

	if (v[0] == '\'' || v[0] == '"') {
		if (n < 2 || v[n - 1] != v[0] || memchr(v + 1, v[0], n - 2) ||
		    (v[0] == '"' && strchr(v, '\\')))
			return NULL;
		v[n - 1] = '\0';
		return v + 1;
	}
	/* Flow collections, anchors, tags, block scalars...: not in the subset. */
	if (v[0] && strchr("[]{}&*!|>%@`-", v[0]))
		return NULL;
	return v;
}

static int set_once(struct parser *p, char **dst, const char *key, const char *v)
{
	if (*dst)
		return bad(p, "'%s' given twice", key);
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

static int tls_key(struct parser *p, const char *key, const char *v)
{
	if (!strcmp(key, "cert_file"))
		return set_once(p, &p->wc->cert_file, key, v);
	if (!strcmp(key, "key_file"))
		return set_once(p, &p->wc->key_file, key, v);
	return bad(p, "tls_server_config: '%s' is not supported (only cert_file and key_file)",
		   key);
}

static int is_bcrypt(const char *h)
{
	return !strncmp(h, "$2a$", 4) || !strncmp(h, "$2b$", 4) || !strncmp(h, "$2y$", 4);
}

static int user_key(struct parser *p, const char *name, const char *hash)
{
	struct web_config *wc = p->wc;
	struct web_user *u;

	if (!is_bcrypt(hash))
		return bad(p,
			   "user '%s': the password must be a bcrypt hash ($2y$..., from "
			   "'htpasswd -nBC 10 %s')",
			   name, name);
	for (size_t i = 0; i < wc->n_users; i++)
		if (!strcmp(wc->users[i].name, name))
			return bad(p, "user '%s' given twice", name);
	if (wc->n_users == WEB_CONFIG_MAX_USERS)
		return bad(p, "more than %d users", WEB_CONFIG_MAX_USERS);
	u = &wc->users[wc->n_users];
	u->name = strdup(name);
	u->hash = strdup(hash);
	if (!u->name || !u->hash) {
		free(u->name);
		free(u->hash);
		return -ENOMEM;
	}
	wc->n_users++;
	return 0;
}

static int top_key(struct parser *p, const char *key, const char *v)
{
	int *seen;

	if (!strcmp(key, "tls_server_config")) {
		p->sec = SEC_TLS;
		seen = &p->seen_tls;
	} else if (!strcmp(key, "basic_auth_users")) {
		p->sec = SEC_USERS;
		seen = &p->seen_users;
	} else {
		return bad(p,
			   "'%s' is not supported (only tls_server_config and "
			   "basic_auth_users)",
			   key);
	}
	if (*v)
		return bad(p, "'%s:' takes its keys on the lines below, indented", key);
	if (*seen)
		return bad(p, "'%s' given twice", key);
	*seen = 1;
	return 0;
}

static int parse_line(struct parser *p, char *s)
{
	size_t indent = strspn(s, " ");
	char *key = s + indent, *colon, *space, *v;

	cut_comment(s);
	trim_end(s);
	if (!*key)
		return 0;
	if (*key == '\t')
		return bad(p, "a tab in the indentation: indent with spaces");
	colon = strchr(key, ':');
	space = strchr(key, ' ');
	if (!colon || (colon[1] && colon[1] != ' ') || colon == key || (space && space < colon))
		return bad(p, "not 'key: value' (see the format in the serve man page)");
	*colon = '\0';
	v = scalar(colon + 1 + strspn(colon + 1, " "));
	if (!v)
		return bad(p, "'%s': only plain or quoted values are supported", key);
	if (!indent)
		return top_key(p, key, v);
	if (!*v)
		return bad(p, "'%s' has no value", key);
	if (p->sec == SEC_TLS)
		return tls_key(p, key, v);
	if (p->sec == SEC_USERS)
		return user_key(p, key, v);
	return bad(p, "an indented line outside tls_server_config and basic_auth_users");
}

static int check_whole(struct parser *p)
{
	const struct web_config *wc = p->wc;

	if (p->seen_tls && (!wc->cert_file || !wc->key_file))
		return bad(p, "tls_server_config needs both cert_file and key_file");
	if (p->seen_users && !wc->n_users)
		return bad(p, "basic_auth_users lists no user");
	if (!p->seen_tls && !p->seen_users)
		return bad(p, "sets neither tls_server_config nor basic_auth_users");
	return 0;
}

int web_config_parse(const char *path, const char *text, struct web_config *wc)
{
	struct parser p = {.path = path, .wc = wc};
	char line[LINE_MAX_LEN];
	int err = 0;

	memset(wc, 0, sizeof(*wc));
	while (!err && *text) {
		size_t n = strcspn(text, "\n");

		p.line++;
		if (n >= sizeof(line))
			err = bad(&p, "line longer than %d bytes", LINE_MAX_LEN - 1);
		if (!err) {
			memcpy(line, text, n);
			line[n] = '\0';
			err = parse_line(&p, line);
		}
		text += n + (text[n] == '\n');
	}
	err = err ?: check_whole(&p);
	if (err)
		web_config_free(wc);
	return err;
}

/* The whole file, NUL-terminated; NULL with errno set. */
static char *read_all(const char *path, size_t max)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (buf) {
		n = fread(buf, 1, max + 1, f);
		if (ferror(f) || n > max) {
			/* fread's own errno (EISDIR for a directory), else too big */
			int e = ferror(f) ? (errno ?: EIO) : EFBIG;

			free(buf);
			buf = NULL;
			errno = e;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* cert_file and key_file, relative ones to the directory of the file. */
static int read_pem(const char *cfg, const char *file, const char *what, char **out)
{
	const char *slash = strrchr(cfg, '/');
	char path[PATH_MAX];

	if (file[0] == '/' || !slash)
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - cfg), cfg, file);
	*out = read_all(path, PEM_MAX);
	if (*out)
		return 0;
	tfc_err("--web-config %s: cannot read %s %s: %s", cfg, what, path, strerror(errno));
	return -errno;
}

int web_config_load(const char *path, struct web_config *wc)
{
	char *text = read_all(path, PEM_MAX);
	int err;

	if (!text) {
		err = -errno;
		tfc_err("--web-config %s: cannot read it: %s", path, strerror(errno));
		return err;
	}
	err = web_config_parse(path, text, wc);
	free(text);
	if (err || !wc->cert_file)
		return err;
	err = read_pem(path, wc->cert_file, "cert_file", &wc->cert_pem)
		      ?: read_pem(path, wc->key_file, "key_file", &wc->key_pem);
	if (err)
		web_config_free(wc);
	return err;
}

void web_config_free(struct web_config *wc)
{
	free(wc->cert_file);
	free(wc->key_file);
	free(wc->cert_pem);
	if (wc->key_pem) {
		/* A private key: not left behind in freed memory. */
		explicit_bzero(wc->key_pem, strlen(wc->key_pem));
		free(wc->key_pem);
	}
	for (size_t i = 0; i < wc->n_users; i++) {
		free(wc->users[i].name);
		free(wc->users[i].hash);
	}
	memset(wc, 0, sizeof(*wc));
}

/* Equal strings, in a time that does not depend on where they differ. */
static int same(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned char d = na != nb;

	for (size_t i = 0; i < na && i < nb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

int web_config_user_ok(const struct web_config *wc, const char *user, const char *password)
{
	static struct crypt_data cd; /* 32 kB: one HTTP thread uses it */
	const struct web_user *u = NULL;
	const char *out;

	if (!wc->n_users || !user || !password)
		return 0;
	for (size_t i = 0; i < wc->n_users; i++)
		if (!strcmp(wc->users[i].name, user))
			u = &wc->users[i];
	/* An unknown user costs a hash too: the time tells no names apart. */
	out = crypt_r(password, u ? u->hash : wc->users[0].hash, &cd);
	return u && out && out[0] == '$' && same(out, u->hash);
}
