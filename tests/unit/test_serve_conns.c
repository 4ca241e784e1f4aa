// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* serve's connection deadlines: header and reply budgets, the sweep. */
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "serve/serve_conns.h"

/* 1 when the peer of sv[1] was shut down: a read gives end of stream. */
static int was_shut(int peer)
{
	char c;

	return recv(peer, &c, 1, MSG_DONTWAIT) == 0;
}

static void test_header_budget(void **state)
{
	struct serve_conns l;
	struct serve_conn *c;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	serve_conns_init(&l);
	c = serve_conns_add(&l, sv[0], 100);
	assert_non_null(c);
	assert_int_equal(serve_conns_sweep(&l, 100 + SERVE_HEADER_BUDGET - 1), 0);
	assert_false(was_shut(sv[1]));
	assert_int_equal(serve_conns_sweep(&l, 100 + SERVE_HEADER_BUDGET), 1);
	assert_true(was_shut(sv[1]));
	/* Once: later sweeps leave it to libmicrohttpd to close. */
	assert_int_equal(serve_conns_sweep(&l, 1000), 0);
	assert_int_equal(l.closed, 1);
	serve_conns_del(c);
	assert_ptr_equal(l.head.next, &l.head);
	close(sv[0]);
	close(sv[1]);
}

static void test_reply_then_next_request(void **state)
{
	struct serve_conns l;
	struct serve_conn *a, *b;
	int sa[2], sb[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sa), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sb), 0);
	serve_conns_init(&l);
	a = serve_conns_add(&l, sa[0], 0);
	b = serve_conns_add(&l, sb[0], 0);
	/* a's headers are in at 5: it has the reply budget from there. */
	serve_conns_replying(a, 5);
	assert_int_equal(serve_conns_sweep(&l, SERVE_HEADER_BUDGET), 1);
	assert_true(was_shut(sb[1]));
	assert_false(was_shut(sa[1]));
	/* Its reply sent at 20: the next request has the header budget. */
	serve_conns_waiting(a, 20);
	assert_int_equal(serve_conns_sweep(&l, 20 + SERVE_HEADER_BUDGET - 1), 0);
	assert_false(was_shut(sa[1]));
	assert_int_equal(serve_conns_sweep(&l, 20 + SERVE_HEADER_BUDGET), 1);
	assert_true(was_shut(sa[1]));
	serve_conns_del(b);
	serve_conns_del(a);
	assert_ptr_equal(l.head.next, &l.head);
	close(sa[0]);
	close(sa[1]);
	close(sb[0]);
	close(sb[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_budget),
		cmocka_unit_test(test_reply_then_next_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
