// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * serve: the Prometheus exporter. HTTP through libmicrohttpd; every scrape
 * opens the pinned maps afresh (read-only) and renders them with
 * metrics.c, so nothing is cached that could go stale or outlive a
 * re-created map.
 */
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>

#include "commands.h"
#include "util/log.h"
#include "maps/maps.h"
#include "export/ipfix.h"
#include "export/metrics.h"
#include "maps/cgroup_rows.h"
#include "serve_conns.h"
#include "web_config.h"

/* Unallocated in Prometheus' list of exporter ports, see README "Prometheus". */
#define SERVE_LISTEN_DEFAULT	 "127.0.0.1:10437"
#define SERVE_MAX_SERIES_DEFAULT 1000
/* Headers and request line of one request must fit: bigger ones get an
 * error reply, and a client cannot make the server hold more. */
#define SERVE_CONN_MEMORY (32 * 1024)
/* Room for 16 client addresses at their limit: scrapers, a browser, curl. */
#define SERVE_CONN_LIMIT   128
#define SERVE_PER_IP_LIMIT 8
#define SERVE_CONN_TIMEOUT 10 /* seconds: an idle or stalled client is dropped */
/* We take no query argument; libmicrohttpd runs out of connection memory
 * (and then neither answers nor closes) on some 500. */
#define SERVE_MAX_QUERY_ARGS 64
/* Bytes of /metrics replies held at once, past the first: see page_metrics. */
#define SERVE_REPLY_BYTES (8U << 20)
#define SERVE_TICK_MS	  500 /* the HTTP loop's longest wait: signals, deadlines */

#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_TEXT	   "text/plain; charset=utf-8"
#define CT_HTML	   "text/html; charset=utf-8"

enum {
	OPT_LISTEN = 1,
	OPT_MAX_SERIES,
	OPT_AGGREGATE,
	OPT_WEB_CONFIG,
};

static const struct tfc_opt serve_opts[] = {
	{"listen", "ADDR:PORT",
	 "address to serve on (default " SERVE_LISTEN_DEFAULT "; [::1]:PORT for IPv6, :PORT for "
	 "every IPv4 address, [::]:PORT for every address, port 0 for any free port)",
	 OPT_LISTEN},
	{"max-series", "N",
	 "at most N addresses (or prefixes) get a series of their own, the rest is summed into "
	 "address=\"other\"; membership is kept for the life of the process (default 1000, 0: no "
	 "limit)",
	 OPT_MAX_SERIES},
	{"aggregate-prefix", "V4[,V6]",
	 "sum addresses into prefixes of these lengths, e.g. 24,64 (default 32,128: none)",
	 OPT_AGGREGATE},
	{"web-config", "FILE",
	 "TLS and basic authentication, as Prometheus exporters configure them: "
	 "tls_server_config (cert_file, key_file) and basic_auth_users (user: bcrypt hash); "
	 "see the man page for the YAML subset read",
	 OPT_WEB_CONFIG},
	TFC_PIN_OPTIONS,
	{0},
};

const struct tfc_cmd_def serve_def = {
	.name = "serve",
	.summary = "Export the counters to Prometheus over HTTP: /metrics in the text format,\n"
		   "read from the pinned maps at every scrape; /healthz. Needs no root on Linux\n"
		   ">= 5.19: read access to the pins is enough (README, 'Prometheus').",
	.opts = serve_opts,
	.examples = "  traffic-counter serve\n"
		    "  traffic-counter serve --listen [::1]:10437 --max-series 500\n"
		    "  traffic-counter serve --max-series 0 --aggregate-prefix 24,64\n"
		    "  traffic-counter serve --listen [::]:10437 --web-config "
		    "/etc/traffic-counter/web.yml\n",
};

struct serve_args {
	struct tfc_pin_args pins;
	const char *listen;
	const char *web_config; /* NULL: plain HTTP, no authentication */
	struct tfc_metrics_policy policy;
};

struct serve {
	struct tfc_pins pins;
	struct tfc_metrics *metrics;
	struct tfc_cgroup_names *cg_names; /* NULL: no cgroup v2 mount, ids unnamed */
	int ip_map_full;		   /* the last scrape found the IP map full */
	int prefixes; /* read the pin directory's prefix map (no --pin given) */
	int tls;
	struct web_config web;
	size_t reply_bytes; /* of /metrics replies not yet sent in full */
	size_t last_reply;  /* bytes of the last /metrics reply */
	struct serve_conns conns;
};

/* "HOST:PORT", "[V6]:PORT" or ":PORT" into host (empty: any) and port. */
static int split_listen(const char *s, char *host, size_t hlen, const char **port)
{
	const char *colon = strrchr(s, ':');
	size_t n;

	if (!colon)
		return tfc_opt_invalid("listen", "'%s' is not ADDR:PORT", s);
	n = (size_t)(colon - s);
	if (s[0] == '[') {
		if (n < 2 || s[n - 1] != ']')
			return tfc_opt_invalid("listen", "'%s': an IPv6 address goes in [ ]", s);
		s++;
		n -= 2;
	}
	if (n >= hlen)
		return tfc_opt_invalid("listen", "'%s': address too long", s);
	memcpy(host, s, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}

/* Syntax only, at parse time, so a malformed --listen is a usage error. */
static int check_listen(const char *s)
{
	char host[256];
	const char *port;
	__u32 portnum;

	return split_listen(s, host, sizeof(host), &port)
		       ?: tfc_parse_u32("listen", port, 0, 65535, &portnum);
}

static int serve_opt(int id, const char *arg, void *ctx)
{
	struct serve_args *a = ctx;

	if (tfc_pin_args_handle(&a->pins, id, arg))
		return 0;
	switch (id) {
	case OPT_LISTEN:
		a->listen = arg;
		return check_listen(arg);
	case OPT_MAX_SERIES:
		return tfc_parse_u32("max-series", arg, 0, TFC_METRICS_MAX_SERIES,
				     &a->policy.max_series);
	case OPT_WEB_CONFIG:
		a->web_config = arg;
		return 0;
	case OPT_AGGREGATE:
		if (tfc_metrics_prefix_parse(arg, &a->policy.v4_prefix, &a->policy.v6_prefix))
			return tfc_opt_invalid("aggregate-prefix",
					       "'%s' is not V4[,V6] with V4 in 0..32 and V6 in "
					       "0..128",
					       arg);
		return 0;
	default:
		return -EINVAL;
	}
}

static int serve_parse(int argc, char **argv, struct serve_args *a)
{
	memset(a, 0, sizeof(*a));
	a->listen = SERVE_LISTEN_DEFAULT;
	a->policy.max_series = SERVE_MAX_SERIES_DEFAULT;
	a->policy.v4_prefix = 32;
	a->policy.v6_prefix = 128;
	return tfc_opts_parse(&serve_def, argc, argv, serve_opt, a);
}

/* ---- reading the maps ---------------------------------------------------- */

/* Optional maps may simply not be pinned: only required ones are reported. */
static int open_ro(const char *pin, enum tfc_map_kind kind, struct bpf_map_info *info, int required)
{
	return tfc_map_open_flags(pin, kind, NULL, info, required ? 0 : TFC_OPEN_QUIET);
}

struct scrape {
	struct tfc_ip_entry *ip;
	struct tfc_flow_entry *flow;
	struct tfc_stat_entry *stats;
	struct tfc_control control;
	struct tfc_ipfix_stats ipfix;
	__u32 flow_map_id;
	struct tfc_cgroup_row *cgroups;
	struct tfc_metrics_snapshot snap;
};

static int dump_kind(int fd, enum tfc_map_kind kind, struct scrape *sc, size_t *n)
{
	*n = 1;
	switch (kind) {
	case TFC_MAP_IP:
		return tfc_dump_ip(fd, &sc->ip, n);
	case TFC_MAP_FLOW:
		return tfc_dump_flow(fd, &sc->flow, n);
	case TFC_MAP_STATS:
		return tfc_dump_stats(fd, &sc->stats, n);
	default:
		return tfc_control_read(fd, &sc->control);
	}
}

/* An optional map that is not pinned is left out; a required one fails. */
static int read_map(const struct tfc_pins *pins, enum tfc_map_kind kind, int required,
		    struct scrape *sc)
{
	struct tfc_metrics_map *mp = &sc->snap.maps[kind];
	struct bpf_map_info info;
	size_t n = 0;
	int fd, err;

	fd = open_ro(tfc_map_pin(pins, kind), kind, &info, required);
	if (fd < 0)
		return required ? fd : 0;
	err = dump_kind(fd, kind, sc, &n);
	close(fd);
	if (err) {
		tfc_err("cannot read %s: %s", tfc_map_pin(pins, kind), strerror(-err));
		return err;
	}
	mp->present = 1;
	mp->entries = (__u32)n;
	mp->capacity = info.max_entries;
	if (kind == TFC_MAP_FLOW)
		sc->flow_map_id = info.id;
	return 0;
}

/* export-ipfix's counts, when one ran on this flow map: optional. */
static void read_ipfix(const struct tfc_pins *pins, struct scrape *sc)
{
	if (sc->flow_map_id && !tfc_ipfix_stats_read(pins->dir, sc->flow_map_id, &sc->ipfix))
		sc->snap.ipfix = &sc->ipfix;
}

/*
 * The prefix rows join the address rows (equal keys summed): one set of
 * series, bounded by --max-series alike. Optional: maps of an earlier
 * layout have no prefix map.
 */
static int read_prefixes(const struct tfc_pins *pins, struct scrape *sc, size_t *n_ip)
{
	struct tfc_metrics_map *mp = &sc->snap.prefix_map;
	struct tfc_ip_entry *rows = NULL;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	size_t n = 0;
	int fd, err;

	fd = tfc_prefix_map_open_pins(pins, 0);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	err = err ?: tfc_dump_prefix(fd, &rows, &n);
	close(fd);
	err = err ?: tfc_ip_rows_merge(&sc->ip, n_ip, rows, n);
	free(rows);
	if (err) {
		tfc_err("cannot read the prefix map in %s: %s", pins->dir, strerror(-err));
		return err;
	}
	mp->present = 1;
	mp->entries = (__u32)n;
	mp->capacity = info.max_entries;
	return 0;
}

static void scrape_free(struct scrape *sc)
{
	free(sc->ip);
	free(sc->flow);
	free(sc->stats);
	tfc_cgroup_rows_free(sc->cgroups, sc->snap.n_cgroups);
}

/* The cgroup map is pinned only while a cgroup attachment exists. */
static int read_cgroups(const struct tfc_pins *pins, struct tfc_cgroup_names *names,
			struct scrape *sc)
{
	struct tfc_metrics_map *mp = &sc->snap.cgroup_map;
	int err = tfc_cgroup_rows_read(pins->dir, names, &sc->cgroups, &sc->snap.n_cgroups,
				       &mp->capacity);

	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	sc->snap.cgroups = sc->cgroups;
	mp->present = 1;
	mp->entries = (__u32)sc->snap.n_cgroups;
	return 0;
}

static int scrape_read(const struct tfc_pins *pins, int prefixes, struct tfc_cgroup_names *names,
		       struct scrape *sc)
{
	size_t n_ip;
	int err;

	memset(sc, 0, sizeof(*sc));
	err = read_map(pins, TFC_MAP_IP, 1, sc);
	n_ip = sc->snap.maps[TFC_MAP_IP].entries;
	if (!err && prefixes)
		err = read_prefixes(pins, sc, &n_ip);
	err = err ?: read_map(pins, TFC_MAP_CONTROL, 1, sc);
	err = err ?: read_map(pins, TFC_MAP_FLOW, 0, sc);
	err = err ?: read_map(pins, TFC_MAP_STATS, 0, sc);
	err = err ?: read_cgroups(pins, names, sc);
	if (!err)
		read_ipfix(pins, sc);
	sc->snap.ip = sc->ip;
	sc->snap.n_ip = n_ip;
	sc->snap.flow = sc->flow;
	sc->snap.n_flow = sc->snap.maps[TFC_MAP_FLOW].entries;
	sc->snap.stats = sc->stats;
	sc->snap.n_stats = sc->snap.maps[TFC_MAP_STATS].entries;
	sc->snap.control = &sc->control;
	sc->snap.version = TFC_VERSION;
	sc->snap.libbpf_version = libbpf_version_string();
	return err;
}

/*
 * A full IP map is otherwise silent (its new addresses are summed under
 * ip_map_full): one line when a scrape first sees it full, one when not.
 * Scrapes run on the one thread that polls HTTP, so the state needs no lock.
 */
static void log_ip_map_fill(struct serve *sv, const struct tfc_metrics_map *m,
			    const struct tfc_control *c)
{
	int full = m->present && m->capacity && m->entries >= m->capacity;
	char hint[TFC_FULL_HINT_LEN];

	if (full == sv->ip_map_full)
		return;
	sv->ip_map_full = full;
	if (full)
		tfc_warn("IP map full: %u of %u entries; %s", m->entries, m->capacity,
			 tfc_ip_map_full_hint(c, hint, sizeof(hint)));
	else
		tfc_info("IP map no longer full: %u of %u entries", m->entries, m->capacity);
}

/* The exposition text in a malloc'ed buffer, or a negative errno. */
static int render(struct serve *sv, char **text, size_t *len)
{
	struct scrape sc;
	FILE *f;
	int err;

	*text = NULL;
	/* Device labels name interfaces of the namespace the maps count in. */
	tfc_ifname_netns(tfc_pins_netns(&sv->pins));
	err = scrape_read(&sv->pins, sv->prefixes, sv->cg_names, &sc);
	if (!err)
		log_ip_map_fill(sv, &sc.snap.maps[TFC_MAP_IP], &sc.control);
	if (!err) {
		f = open_memstream(text, len);
		if (!f) {
			err = -errno;
		} else {
			/* Only this thread writes it: skip stdio's per-call locking. */
			__fsetlocking(f, FSETLOCKING_BYCALLER);
			err = tfc_metrics_write(sv->metrics, &sc.snap, f);
			if (fclose(f) && !err)
				err = -EIO;
		}
	}
	scrape_free(&sc);
	if (err) {
		free(*text);
		*text = NULL;
	}
	return err;
}

/* ---- HTTP ---------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	return reply(c, status, CT_TEXT, (char *)text, strlen(text), MHD_RESPMEM_PERSISTENT);
}

/* One /metrics reply: its text, freed once sent (or its connection closed). */
struct serve_reply {
	struct serve *sv;
	char *text;
	size_t len;
};

static void metrics_sent(void *cls)
{
	struct serve_reply *r = cls;

	r->sv->reply_bytes -= r->len;
	free(r->text);
	free(r);
}

static enum MHD_Result reply_metrics(struct serve *sv, struct MHD_Connection *c, char *text,
				     size_t len)
{
	struct serve_reply *r = malloc(sizeof(*r));
	struct MHD_Response *resp = NULL;
	enum MHD_Result ret;

	if (r) {
		r->sv = sv;
		r->text = text;
		r->len = len;
		resp = MHD_create_response_from_buffer_with_free_callback_cls(len, text,
									      metrics_sent, r);
	}
	if (!resp) {
		free(r);
		free(text);
		return MHD_NO;
	}
	sv->reply_bytes += len;
	sv->last_reply = len;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CT_METRICS);
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * Each reply holds one rendering of the maps until the client has read it:
 * slow readers would each hold one. A new one is rendered when none is
 * being sent, or when those being sent and one more of the last one's size
 * fit in SERVE_REPLY_BYTES; otherwise 503 (a scraper retries at its next
 * interval). So memory is bounded by one reply (plus SERVE_REPLY_BYTES of
 * small ones), whatever the number of readers or the size of the maps; and
 * SERVE_REPLY_BUDGET ends the slowest readers.
 */
static enum MHD_Result page_metrics(struct serve *sv, struct MHD_Connection *c)
{
	char msg[256], *text;
	size_t len = 0;
	int err;

	if (sv->reply_bytes && sv->reply_bytes + sv->last_reply > SERVE_REPLY_BYTES) {
		tfc_debug("/metrics refused: %zu bytes of replies still being sent",
			  sv->reply_bytes);
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "busy: other /metrics replies are still being sent; retry\n");
	}
	err = render(sv, &text, &len);
	if (!err)
		return reply_metrics(sv, c, text, len);
	snprintf(msg, sizeof(msg), "cannot read the maps under %s: %s\n", sv->pins.dir,
		 strerror(-err));
	return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, CT_TEXT, msg, strlen(msg),
		     MHD_RESPMEM_MUST_COPY);
}

/* Healthy when the IP map can be opened: what every scrape needs. */
static enum MHD_Result page_healthz(struct serve *sv, struct MHD_Connection *c)
{
	struct bpf_map_info info;
	int fd = open_ro(sv->pins.ip, TFC_MAP_IP, &info, 0);

	if (fd < 0)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "IP map not readable\n");
	close(fd);
	return reply_text(c, MHD_HTTP_OK, "ok\n");
}

static enum MHD_Result page_index(struct serve *sv, struct MHD_Connection *c)
{
	static const char html[] =
		"<!DOCTYPE html>\n<html><head><title>traffic-counter exporter</title></head>\n"
		"<body><h1>traffic-counter exporter</h1>\n"
		"<p>Per-address traffic counters from pinned BPF maps.</p>\n"
		"<ul><li><a href=\"metrics\">/metrics</a> (Prometheus text format)</li>\n"
		"<li><a href=\"healthz\">/healthz</a></li></ul></body></html>\n";

	(void)sv;
	return reply(c, MHD_HTTP_OK, CT_HTML, (char *)html, sizeof(html) - 1,
		     MHD_RESPMEM_PERSISTENT);
}

static const struct route {
	const char *path;
	enum MHD_Result (*page)(struct serve *sv, struct MHD_Connection *c);
} routes[] = {
	{"/", page_index},
	{"/metrics", page_metrics},
	{"/healthz", page_healthz},
};

static const struct route *find_route(const char *url)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!strcmp(url, routes[i].path))
			return &routes[i];
	return NULL;
}

/* ---- connections and their budgets (serve_conns.h) ------------------------ */

static struct serve_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct serve *sv = cls;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (*socket_context)
			serve_conns_del(*socket_context);
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	/* Out of memory: the connection has only libmicrohttpd's idle timeout. */
	*socket_context = ci ? serve_conns_add(&sv->conns, ci->connect_fd, serve_now()) : NULL;
}

/* The headers are in (or an error reply goes out): the reply budget starts. */
static void on_headers(struct MHD_Connection *c)
{
	struct serve_conn *sc = conn_of(c);

	if (sc)
		serve_conns_replying(sc, serve_now());
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct serve_conn *sc = conn_of(c);

	(void)cls;
	(void)req_cls;
	(void)toe;
	if (sc)
		serve_conns_waiting(sc, serve_now());
}

static unsigned int query_args(const char *uri)
{
	const char *q = strchr(uri, '?');
	unsigned int n = 0;

	for (; q; q = strchr(q + 1, '&'))
		n++;
	return n;
}

/*
 * Called with the request line, before libmicrohttpd parses its query: with
 * hundreds of arguments that parse runs out of connection memory, and the
 * client then waits for a reply that never comes. We answer 400 and end the
 * connection here instead. The reply is written on the socket directly: it
 * is the first byte of this request's reply, and nothing else will be
 * (over TLS the connection is only ended). Returns the request's *req_cls:
 * NULL, as on_request expects.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	static const char bad[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
				  "Content-Type: " CT_TEXT "\r\nContent-Length: 40\r\n\r\n"
				  "too many query arguments (none is used)\n";
	struct serve *sv = cls;
	struct serve_conn *sc = conn_of(c);

	if (!sc || sc->fd < 0 || query_args(uri) < SERVE_MAX_QUERY_ARGS)
		return NULL;
	if (!sv->tls)
		(void)!send(sc->fd, bad, sizeof(bad) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	tfc_debug("request with %u or more query arguments refused", SERVE_MAX_QUERY_ARGS);
	shutdown(sc->fd, SHUT_RDWR);
	sc->fd = -1;
	return NULL;
}

/* ---- requests ---------------------------------------------------------- */

/* Every path needs a user of --web-config, when it lists any. */
static int authorized(struct serve *sv, struct MHD_Connection *c)
{
	char *pass = NULL, *user;
	int ok;

	if (!sv->web.n_users)
		return 1;
	user = MHD_basic_auth_get_username_password(c, &pass);
	ok = web_config_user_ok(&sv->web, user, pass);
	if (user && !ok)
		tfc_debug("basic auth failed for user '%s'", user);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	MHD_free(user);
	return ok;
}

/* 401 with WWW-Authenticate: Basic realm="traffic-counter". */
static enum MHD_Result reply_unauthorized(struct MHD_Connection *c)
{
	static const char text[] = "unauthorized: give a user of serve's --web-config\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CT_TEXT);
	ret = MHD_queue_basic_auth_fail_response(c, "traffic-counter", r);
	MHD_destroy_response(r);
	return ret;
}

static int has_body(struct MHD_Connection *c)
{
	const char *len =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (len && strcmp(len, "0")) ||
	       MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/*
 * Called once the headers are in (*req_cls still NULL), then per piece of
 * body, then once the request is complete. Anything we refuse is refused
 * at the first call: libmicrohttpd then discards the body unread and closes
 * the connection. A good request is answered at the last call, so the
 * connection can be kept alive. The one thread polling HTTP calls this, so scrapes
 * (and the membership table) are never concurrent.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	static int headers_seen; /* its address marks a request past the first call */
	const struct route *r = find_route(url);

	(void)version;
	(void)upload_data;
	if (!*req_cls) {
		on_headers(c);
		if (!authorized(cls, c))
			return reply_unauthorized(c);
	}
	if (*req_cls) {
		/* The last call: requests with a body were refused at the first. */
		*upload_data_size = 0;
		return r ? r->page(cls, c) : MHD_NO;
	}
	if (!r)
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use GET\n");
	if (has_body(c))
		return reply_text(c, MHD_HTTP_BAD_REQUEST, "a GET request takes no body\n");
	*req_cls = &headers_seen;
	return MHD_YES;
}

/* libmicrohttpd's own messages (malformed requests, ...): only with -v. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	tfc_debug("libmicrohttpd: %s", buf);
}

/* ---- listening ------------------------------------------------------------ */

static int resolve_listen(const char *addr, struct addrinfo **res)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	char host[256];
	const char *port;
	int err;

	err = split_listen(addr, host, sizeof(host), &port);
	if (err)
		return err;
	err = getaddrinfo(*host ? host : NULL, port, &hints, res);
	if (err) {
		tfc_err("--listen %s: cannot resolve '%s': %s", addr, host, gai_strerror(err));
		return -EADDRNOTAVAIL;
	}
	return 0;
}

static void log_bind_error(const char *addr, int err)
{
	if (err == -EADDRINUSE)
		tfc_err("cannot listen on %s: the port is already in use (another 'serve' or "
			"exporter?); stop it or pick another --listen",
			addr);
	else if (err == -EACCES)
		tfc_err("cannot listen on %s: %s; ports below 1024 need CAP_NET_BIND_SERVICE, "
			"pick a higher port",
			addr, strerror(-err));
	else if (err == -EADDRNOTAVAIL)
		tfc_err("cannot listen on %s: no such address on this host", addr);
	else
		tfc_err("cannot listen on %s: %s", addr, strerror(-err));
}

/* 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104: reachable from this host only. */
static int is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
	       (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
}

/*
 * /metrics shows every address this host exchanged traffic with: what the
 * 0600 pins keep from other users. On loopback that is the local users;
 * beyond, whoever reaches the port, unless TLS and users restrict it.
 */
static void warn_exposure(const struct serve *sv, const struct sockaddr_storage *ss,
			  const char *addr)
{
	if (is_loopback(ss))
		return;
	if (!sv->tls && !sv->web.n_users)
		tfc_warn("%s is not a loopback address and serve has no --web-config: "
			 "anyone who reaches it reads the counters of every address; use "
			 "--web-config with TLS and basic_auth_users (README, 'Prometheus')",
			 addr);
	else if (!sv->tls)
		tfc_warn("%s is not a loopback address and --web-config has no TLS: "
			 "passwords and counters cross the network in clear; add "
			 "tls_server_config",
			 addr);
	else if (!sv->web.n_users)
		tfc_warn("%s is not a loopback address and --web-config has no "
			 "basic_auth_users: anyone who reaches it reads the counters",
			 addr);
}

static void log_listening(const struct serve *sv, int fd, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];
	int v6;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV))
		return;
	v6 = ss.ss_family == AF_INET6;
	warn_exposure(sv, &ss, addr);
	tfc_info("serving %s://%s%s%s:%s/metrics", sv->tls ? "https" : "http", v6 ? "[" : "", host,
		 v6 ? "]" : "", port);
}

/* Our own socket, so a taken port is reported as such, not as a failed start. */
static int listen_socket(const char *addr)
{
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1, zero = 0, err;

	err = resolve_listen(addr, &ai);
	if (err)
		return err;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* Rebinding right after a restart must not wait for TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, SERVE_CONN_LIMIT))
		err = -errno;
out:
	if (err) {
		log_bind_error(addr, err);
		if (fd >= 0)
			close(fd);
		fd = err;
	}
	freeaddrinfo(ai);
	return fd;
}

/* ---- the command ------------------------------------------------------------ */

/*
 * Polled from our own loop (serve_run), not a thread of libmicrohttpd's: the
 * loop also sweeps the connections past their budget and takes the signals.
 */
static struct MHD_Daemon *start_http(struct serve *sv, int fd)
{
	struct MHD_OptionItem tls[] = {
		{MHD_OPTION_HTTPS_MEM_KEY, 0, sv->web.key_pem},
		{MHD_OPTION_HTTPS_MEM_CERT, 0, sv->web.cert_pem},
		{MHD_OPTION_END, 0, NULL},
	};
	unsigned int flags = MHD_USE_AUTO | MHD_USE_ERROR_LOG | (sv->tls ? MHD_USE_TLS : 0);

	/* The logger first, so that no message goes to libmicrohttpd's default. */
	return MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, sv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)SERVE_CONN_MEMORY, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)SERVE_CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)SERVE_PER_IP_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)SERVE_CONN_TIMEOUT, MHD_OPTION_NOTIFY_CONNECTION, on_connection, sv,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, sv, MHD_OPTION_URI_LOG_CALLBACK, on_uri,
		sv, MHD_OPTION_ARRAY, sv->tls ? tls : tls + 2, MHD_OPTION_END);
}

/* The prefix map too, when pinned and served. */
static int check_prefix_pin(const struct tfc_pins *pins, int with_prefixes)
{
	int fd = with_prefixes ? tfc_prefix_map_open_pins(pins, 0) : -ENOENT;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/*
 * Every map served must be readable before we listen: the two every scrape
 * needs, and the optional ones that are pinned (a scrape leaves out an
 * optional map it cannot open, so an unreadable one would go unnoticed).
 */
static int check_pins(const struct tfc_pins *pins, int with_prefixes)
{
	static const enum tfc_map_kind kinds[] = {TFC_MAP_IP, TFC_MAP_CONTROL, TFC_MAP_FLOW,
						  TFC_MAP_STATS};
	struct bpf_map_info info;
	int fd, err;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int optional = kinds[i] == TFC_MAP_FLOW || kinds[i] == TFC_MAP_STATS;
		fd = tfc_map_open_flags(tfc_map_pin(pins, kinds[i]), kinds[i], NULL, &info,
					optional ? TFC_OPEN_OPTIONAL : 0);

		if (fd == -ENOENT && optional)
			continue;
		if (fd < 0)
			return fd;
		close(fd);
	}
	err = check_prefix_pin(pins, with_prefixes);
	if (err)
		return err;
	fd = tfc_cgroup_rows_open(pins->dir, NULL);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/*
 * Serves until SIGINT or SIGTERM (blocked in every thread, taken here),
 * cutting connections past their budget. Returns the signal, or -EIO when
 * polling failed.
 */
static int serve_loop(struct serve *sv, struct MHD_Daemon *d, const sigset_t *set)
{
	const struct timespec now = {0};
	int sig;

	for (;;) {
		if (MHD_run_wait(d, SERVE_TICK_MS) == MHD_NO) {
			tfc_err("the HTTP server stopped polling its sockets (run with -v for "
				"details)");
			return -EIO;
		}
		sig = sigtimedwait(set, NULL, &now);
		if (sig > 0)
			return sig;
		if (serve_conns_sweep(&sv->conns, serve_now()))
			tfc_debug("cut connections past their time budget (%u so far)",
				  sv->conns.closed);
	}
}

static int serve_run(struct serve *sv, const char *addr)
{
	struct MHD_Daemon *d;
	sigset_t set;
	int fd, sig;

	fd = listen_socket(addr);
	if (fd < 0)
		return TFC_EXIT_FAIL;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	serve_conns_init(&sv->conns);
	d = start_http(sv, fd);
	if (!d) {
		if (sv->tls)
			tfc_err("cannot start the HTTPS server on %s: check cert_file and key_file "
				"of --web-config, a PEM certificate and its key (run with -v for "
				"details)",
				addr);
		else
			tfc_err("cannot start the HTTP server on %s (run with -v for details)",
				addr);
		close(fd);
		return TFC_EXIT_FAIL;
	}
	log_listening(sv, fd, addr);
	sig = serve_loop(sv, d, &set);
	if (sig > 0)
		tfc_info("stopping on signal %d", sig);
	/* Closes the listening socket too: the port is free once we exit. */
	MHD_stop_daemon(d);
	return sig > 0 ? TFC_EXIT_OK : TFC_EXIT_FAIL;
}

/* -1 to go on, or the exit status: a file that cannot be used is a usage error. */
static int load_web_config(struct serve *sv, const char *path)
{
	if (!path)
		return -1;
	if (web_config_load(path, &sv->web))
		return TFC_EXIT_USAGE;
	sv->tls = !!sv->web.cert_pem;
	if (sv->tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		tfc_err("--web-config %s asks for TLS, but this libmicrohttpd was built without it",
			path);
		web_config_free(&sv->web);
		return TFC_EXIT_FAIL;
	}
	return -1;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_args a;
	struct serve sv = {};
	int ret;

	ret = tfc_parse_exit(serve_parse(argc, argv, &a));
	if (ret >= 0)
		return ret;
	if (tfc_pin_args_resolve(&a.pins, &sv.pins))
		return TFC_EXIT_USAGE;
	ret = load_web_config(&sv, a.web_config);
	if (ret >= 0)
		return ret;
	sv.prefixes = !a.pins.ip;
	if (check_pins(&sv.pins, sv.prefixes)) {
		web_config_free(&sv.web);
		return TFC_EXIT_FAIL;
	}
	/*
	 * A scrape's big buffers (map dumps, series, the text) go back to the
	 * system when freed: glibc would otherwise raise its mmap threshold
	 * after the first, and keep the next ones in a heap that never shrinks
	 * below a scrape's peak.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	sv.metrics = tfc_metrics_new(&a.policy);
	if (!sv.metrics) {
		tfc_err("out of memory");
		web_config_free(&sv.web);
		return TFC_EXIT_FAIL;
	}
	/* Without a cgroup v2 mount cgroup rows are served by id alone. */
	sv.cg_names = tfc_cgroup_names_new(NULL, NULL);
	ret = serve_run(&sv, a.listen);
	tfc_cgroup_names_free(sv.cg_names);
	tfc_metrics_free(sv.metrics);
	web_config_free(&sv.web);
	return ret;
}
