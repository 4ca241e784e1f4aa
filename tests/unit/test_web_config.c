// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* serve --web-config: the YAML subset read, its errors (file:line), bcrypt. */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "serve/web_config.h"

/* htpasswd -nbBC 4 u pw */
#define HASH_U_PW "$2y$04$eOZ7k.MYEczxXAtQHQ2F0u/dImChdkt2QWLE1hA6nW.ygDDK.zCBS"

static struct unit_capture cap_err;

/* Parses text as "w.yml"; the error text in err (empty when none). */
static int parse(const char *text, struct web_config *wc, const char **err)
{
	int ret;

	unit_capture_start(&cap_err, stderr);
	ret = web_config_parse("w.yml", text, wc);
	*err = unit_capture_end(&cap_err);
	return ret;
}

static void test_full_file(void **state)
{
	struct web_config wc;
	const char *err;

	(void)state;
	assert_int_equal(parse("# exporter web config\r\n"
			       "tls_server_config:   # TLS\n"
			       "  cert_file: /etc/tc/server.crt\n"
			       "  key_file: 'key #1.pem'\n"
			       "\n"
			       "basic_auth_users:\n"
			       "    u: \"" HASH_U_PW "\"\n"
			       "    other: " HASH_U_PW "  # same password\n",
			       &wc, &err),
			 0);
	assert_string_equal(err, "");
	assert_string_equal(wc.cert_file, "/etc/tc/server.crt");
	assert_string_equal(wc.key_file, "key #1.pem");
	assert_int_equal(wc.n_users, 2);
	assert_string_equal(wc.users[0].name, "u");
	assert_string_equal(wc.users[1].name, "other");
	assert_string_equal(wc.users[1].hash, HASH_U_PW);
	web_config_free(&wc);
}

static void test_users_only(void **state)
{
	struct web_config wc;
	const char *err;

	(void)state;
	assert_int_equal(parse("basic_auth_users:\n  u: " HASH_U_PW, &wc, &err), 0);
	assert_null(wc.cert_file);
	assert_int_equal(wc.n_users, 1);
	web_config_free(&wc);
}

static void expect_error(const char *text, const char *want)
{
	struct web_config wc;
	const char *err;

	assert_int_equal(parse(text, &wc, &err), -EINVAL);
	if (!strstr(err, want))
		fail_msg("'%s': got '%s', want '%s'", text, err, want);
	/* Freed on error: nothing left to free twice. */
	assert_null(wc.cert_file);
	assert_int_equal(wc.n_users, 0);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("basic_auth_users:\n  u: secret\n", "w.yml:2: user 'u': the password must be");
	expect_error("basic_auth_users:\n  u: " HASH_U_PW "\n  u: " HASH_U_PW "\n",
		     "w.yml:3: user 'u' given twice");
	expect_error("tls_server_config:\n  cert_file: a\n  min_version: TLS13\n",
		     "w.yml:3: tls_server_config: 'min_version' is not supported");
	expect_error("tls_server_config:\n  cert_file: a\n",
		     "tls_server_config needs both cert_file and key_file");
	expect_error("http_server_config:\n", "w.yml:1: 'http_server_config' is not supported");
	expect_error("tls_server_config: {cert_file: a}\n", "w.yml:1: 'tls_server_config'");
	expect_error("basic_auth_users:\n\tu: x\n", "w.yml:2: a tab in the indentation");
	expect_error("  u: x\n", "w.yml:1: an indented line outside");
	expect_error("basic_auth_users:\n  - u\n", "w.yml:2: not 'key: value'");
	expect_error("basic_auth_users:\n  u: 'unterminated\n",
		     "w.yml:2: 'u': only plain or quoted");
	expect_error("basic_auth_users:\n", "basic_auth_users lists no user");
	expect_error("", "sets neither tls_server_config nor basic_auth_users");
	expect_error("basic_auth_users:\nbasic_auth_users:\n", "w.yml:2: 'basic_auth_users' given");
}

static void test_user_ok(void **state)
{
	struct web_config wc;
	const char *err;

	(void)state;
	assert_int_equal(parse("basic_auth_users:\n  u: " HASH_U_PW "\n", &wc, &err), 0);
	assert_true(web_config_user_ok(&wc, "u", "pw"));
	assert_false(web_config_user_ok(&wc, "u", "pW"));
	assert_false(web_config_user_ok(&wc, "u", ""));
	assert_false(web_config_user_ok(&wc, "v", "pw"));
	assert_false(web_config_user_ok(&wc, NULL, "pw"));
	assert_false(web_config_user_ok(&wc, "u", NULL));
	web_config_free(&wc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_users_only),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_user_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
