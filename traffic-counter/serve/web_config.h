/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * serve --web-config FILE: TLS and basic authentication, configured as
 * Prometheus exporters do (node_exporter's "web configuration file"). Only
 * a documented subset of YAML is read, with no YAML library:
 *
 *   # a comment
 *   tls_server_config:
 *     cert_file: server.crt      # relative to the file's directory
 *     key_file: "server.key"
 *   basic_auth_users:
 *     prometheus: $2y$10$...     # bcrypt hash (htpasswd -nBC 10 USER)
 *
 * Top-level keys at column 0, their keys indented by spaces, one
 * "key: value" a line, values plain or in single or double quotes (no
 * escapes). Anything else is an error naming the file and line. See
 * openspec/changes/0018-serve-web-config.md.
 */
#ifndef TFC_WEB_CONFIG_H
#define TFC_WEB_CONFIG_H

#include <stddef.h>

#define WEB_CONFIG_MAX_USERS 64

struct web_user {
	char *name;
	char *hash; /* bcrypt: $2a$, $2b$ or $2y$ */
};

struct web_config {
	char *cert_file; /* NULL: no TLS */
	char *key_file;
	char *cert_pem; /* their contents, read by web_config_load */
	char *key_pem;
	struct web_user users[WEB_CONFIG_MAX_USERS];
	size_t n_users; /* 0: no authentication */
};

/* Parses FILE and reads the key and certificate. 0, or -EINVAL / -errno
 * with the reason logged (file and line). */
int web_config_load(const char *path, struct web_config *wc);
/* Parses text read from path (for the unit tests): 0 or -EINVAL, logged. */
int web_config_parse(const char *path, const char *text, struct web_config *wc);
void web_config_free(struct web_config *wc);

/* 1 when user and password match a user of the file, else 0. */
int web_config_user_ok(const struct web_config *wc, const char *user, const char *password);

#endif /* TFC_WEB_CONFIG_H */
