// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The collector's socket, never blocking: libfixbuf's TCP exporter writes
 * with a blocking send, which a collector that stops reading holds forever
 * with the signals blocked (they are taken by sigtimedwait).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>

#include "ipfix_net.h"

/*
 * Until `fd` is ready for `events`: 0, -EINTR when `sig_fd` says a signal
 * is pending, -ETIMEDOUT after `timeout_ms`.
 */
static int wait_ready(int fd, short events, int sig_fd, int timeout_ms)
{
	struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = sig_fd, .events = POLLIN}};
	int n;

	do
		n = poll(p, sig_fd >= 0 ? 2 : 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (!n)
		return -ETIMEDOUT;
	if (p[1].revents & POLLIN)
		return -EINTR;
	return 0;
}

static int socket_error(int fd)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		return -errno;
	return -soerr;
}

static int connect_fd(int fd, const struct addrinfo *ai, int sig_fd, int timeout_ms)
{
	int err;

	if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	err = wait_ready(fd, POLLOUT, sig_fd, timeout_ms);
	return err ?: socket_error(fd);
}

int tfc_net_connect(const char *host, const char *port, int tcp, int sig_fd, int timeout_ms)
{
	struct addrinfo hints = {.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int fd, err;

	if (getaddrinfo(host, port, &hints, &ai))
		return -EADDRNOTAVAIL;
	fd = socket(ai->ai_family, hints.ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	err = fd < 0 ? -errno : connect_fd(fd, ai, sig_fd, timeout_ms);
	freeaddrinfo(ai);
	if (err && fd >= 0)
		close(fd);
	return err ?: fd;
}

int tfc_net_send(int fd, const void *buf, size_t len, int sig_fd, int stall_ms)
{
	const char *p = buf;
	ssize_t n;
	int err;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		err = wait_ready(fd, POLLOUT, sig_fd, stall_ms);
		if (err)
			return err;
	}
	return 0;
}

int tfc_net_check(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
	char c;
	ssize_t n;

	if (poll(&p, 1, 0) < 0)
		return -errno;
	if (p.revents & POLLERR)
		return socket_error(fd) ?: -ECONNRESET;
	if (p.revents & (POLLHUP | POLLRDHUP))
		return -EPIPE;
	if (!(p.revents & POLLIN))
		return 0;
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (!n)
		return -EPIPE;
	return n < 0 && errno != EAGAIN ? -errno : 0;
}
