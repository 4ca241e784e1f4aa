/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * serve's client connections and their time budgets. libmicrohttpd's own
 * timeout is an idle timeout, reset by every byte: a client trickling one
 * header line every few seconds would hold its connection forever. Here
 * every connection has a deadline: its request's headers must be in within
 * SERVE_HEADER_BUDGET of the connection's start (or of the previous
 * reply), and the reply must be sent within SERVE_REPLY_BUDGET. The HTTP
 * loop sweeps them; one thread does all of it, so there is no lock.
 */
#ifndef TFC_SERVE_CONNS_H
#define TFC_SERVE_CONNS_H

#include <time.h>

#define SERVE_HEADER_BUDGET 10 /* seconds to send a request's headers */
#define SERVE_REPLY_BUDGET  60 /* seconds to read a reply (a big /metrics) */

struct serve_conn {
	struct serve_conn *next, *prev;
	int fd;
	time_t deadline; /* CLOCK_MONOTONIC seconds */
};

struct serve_conns {
	struct serve_conn head; /* circular list; head.fd unused */
	unsigned int closed;	/* connections cut at their deadline */
};

void serve_conns_init(struct serve_conns *l);
/* A new connection on fd, with the header budget; NULL: out of memory. */
struct serve_conn *serve_conns_add(struct serve_conns *l, int fd, time_t now);
void serve_conns_del(struct serve_conn *c);
/* Its headers are in: the reply budget starts. */
void serve_conns_replying(struct serve_conn *c, time_t now);
/* Its reply is sent: the next request's header budget starts. */
void serve_conns_waiting(struct serve_conn *c, time_t now);
/*
 * Shuts down (shutdown(2), not close: the fd stays libmicrohttpd's) every
 * connection past its deadline; libmicrohttpd then sees the end of the
 * stream and closes it. Returns how many.
 */
unsigned int serve_conns_sweep(struct serve_conns *l, time_t now);

/* CLOCK_MONOTONIC in seconds. */
time_t serve_now(void);

#endif /* TFC_SERVE_CONNS_H */
