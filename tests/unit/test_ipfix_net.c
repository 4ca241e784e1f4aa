// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The exporter's socket: sends bounded by a stall timeout and by a pending signal. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "unit.h"
#include "ipfix/ipfix_net.h"

#define BIG (1 << 20) /* more than a socket pair's buffers */

/* A stream pair whose first end does not block. */
static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
}

static void test_send_all(void **state)
{
	char out[100], in[100];
	int sv[2];

	(void)state;
	pair(sv);
	memset(out, 'x', sizeof(out));
	assert_int_equal(tfc_net_send(sv[0], out, sizeof(out), -1, 100), 0);
	assert_int_equal(read(sv[1], in, sizeof(in)), (ssize_t)sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
	close(sv[0]);
	close(sv[1]);
}

static void test_peer_not_reading_times_out(void **state)
{
	char *buf = calloc(1, BIG);
	int sv[2];

	(void)state;
	assert_non_null(buf);
	pair(sv);
	assert_int_equal(tfc_net_send(sv[0], buf, BIG, -1, 50), -ETIMEDOUT);
	free(buf);
	close(sv[0]);
	close(sv[1]);
}

static void test_pending_signal_stops_the_wait(void **state)
{
	char *buf = calloc(1, BIG);
	int sv[2], sig[2];

	(void)state;
	assert_non_null(buf);
	pair(sv);
	/* A readable fd stands for the signalfd of a pending SIGTERM. */
	assert_int_equal(pipe(sig), 0);
	assert_int_equal(write(sig[1], "x", 1), 1);
	assert_int_equal(tfc_net_send(sv[0], buf, BIG, sig[0], 60000), -EINTR);
	free(buf);
	close(sig[0]);
	close(sig[1]);
	close(sv[0]);
	close(sv[1]);
}

static void test_check_sees_the_peer_close(void **state)
{
	int sv[2];

	(void)state;
	pair(sv);
	assert_int_equal(tfc_net_check(sv[0]), 0);
	close(sv[1]);
	assert_int_equal(tfc_net_check(sv[0]), -EPIPE);
	assert_int_equal(tfc_net_send(sv[0], "x", 1, -1, 100), -EPIPE);
	close(sv[0]);
}

/* A listening socket on 127.0.0.1; its port in `port`. */
static int listener(char *port, size_t len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(port, len, "%u", ntohs(sa.sin_port));
	return fd;
}

static void test_connect_send_and_refused(void **state)
{
	char port[8], in[5];
	int l = listener(port, sizeof(port)), fd, c;

	(void)state;
	fd = tfc_net_connect("127.0.0.1", port, 1, -1, 1000);
	assert_true(fd >= 0);
	assert_int_equal(tfc_net_send(fd, "ipfix", 5, -1, 1000), 0);
	c = accept(l, NULL, NULL);
	assert_true(c >= 0);
	assert_int_equal(read(c, in, sizeof(in)), 5);
	assert_memory_equal(in, "ipfix", 5);
	close(c);
	close(fd);
	/* The port, closed now, refuses. */
	close(l);
	assert_int_equal(tfc_net_connect("127.0.0.1", port, 1, -1, 1000), -ECONNREFUSED);
	assert_int_equal(tfc_net_connect("not-a-number", port, 1, -1, 1000), -EADDRNOTAVAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_all),
		cmocka_unit_test(test_peer_not_reading_times_out),
		cmocka_unit_test(test_pending_signal_stops_the_wait),
		cmocka_unit_test(test_check_sees_the_peer_close),
		cmocka_unit_test(test_connect_send_and_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
