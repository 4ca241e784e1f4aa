// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdlib.h>
#include <sys/socket.h>

#include "serve_conns.h"

void serve_conns_init(struct serve_conns *l)
{
	l->head.next = l->head.prev = &l->head;
	l->head.fd = -1;
	l->closed = 0;
}

struct serve_conn *serve_conns_add(struct serve_conns *l, int fd, time_t now)
{
	struct serve_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->deadline = now + SERVE_HEADER_BUDGET;
	c->next = l->head.next;
	c->prev = &l->head;
	l->head.next->prev = c;
	l->head.next = c;
	return c;
}

void serve_conns_del(struct serve_conn *c)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
	free(c);
}

void serve_conns_replying(struct serve_conn *c, time_t now)
{
	c->deadline = now + SERVE_REPLY_BUDGET;
}

void serve_conns_waiting(struct serve_conn *c, time_t now)
{
	c->deadline = now + SERVE_HEADER_BUDGET;
}

unsigned int serve_conns_sweep(struct serve_conns *l, time_t now)
{
	unsigned int n = 0;

	for (struct serve_conn *c = l->head.next; c != &l->head; c = c->next) {
		if (c->fd < 0 || now < c->deadline)
			continue;
		shutdown(c->fd, SHUT_RDWR);
		/* Once: libmicrohttpd closes it at its next turn. */
		c->fd = -1;
		n++;
	}
	l->closed += n;
	return n;
}

time_t serve_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}
