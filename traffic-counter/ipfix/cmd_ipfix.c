// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * export-ipfix: the flow map as IPFIX (RFC 7011) delta records, encoded by
 * libfixbuf and sent on our own socket (ipfix_net.c). What to export and
 * when is decided in ipfix.c; this file reads and empties the map, builds
 * the templates and talks to the collector. Design and loss model:
 * openspec/specs/ipfix.md (X7, X8, X10).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <fixbuf/public.h>

#include "commands.h"
#include "ipfix_net.h"
#include "config/config.h"
#include "export/ipfix.h"
#include "util/hostport.h"
#include "util/log.h"
#include "maps/maps.h"

#define NS_PER_S 1000000000ULL

#define IPFIX_INTERVAL_DEFAULT	10
#define IPFIX_ACTIVE_DEFAULT	60
#define IPFIX_IDLE_DEFAULT	15
#define IPFIX_TEMPLATES_DEFAULT 60 /* UDP: RFC 7011 10.3.6 wants them resent */
#define IPFIX_MAX_SECONDS	86400
/* Root's alone (0700): see lock_map. systemd's RuntimeDirectory= in the unit. */
#define IPFIX_LOCK_DIR "/run/traffic-counter-ipfix"
/*
 * A send or connect that makes no progress for this long gives up; the
 * records wait for the next cycle. Once stopping, a collector gets less.
 */
#define IPFIX_STALL_MS 5000
#define IPFIX_STOP_MS  500

enum {
	OPT_COLLECTOR = 1,
	OPT_TRANSPORT,
	OPT_INTERVAL,
	OPT_ACTIVE,
	OPT_IDLE,
	OPT_DOMAIN,
	OPT_TEMPLATES,
	OPT_OCTETS,
	OPT_CONFIG,
};

static const struct tfc_opt ipfix_opts[] = {
	{"collector", "HOST:PORT", "the IPFIX collector ([V6]:PORT for an IPv6 address); required",
	 OPT_COLLECTOR},
	{"transport", "udp|tcp", "transport to the collector (default udp)", OPT_TRANSPORT},
	{"interval", "SECONDS", "how often the flow map is read (default 10)", OPT_INTERVAL},
	{"active-timeout", "SECONDS",
	 "a flow with new traffic is exported at least this often (default 60)", OPT_ACTIVE},
	{"idle-timeout", "SECONDS",
	 "a flow without a packet for this long is exported a last time and removed from the map "
	 "(default 15)",
	 OPT_IDLE},
	{"observation-domain", "ID", "observationDomainId of the messages (default 0)", OPT_DOMAIN},
	{"template-interval", "SECONDS", "UDP: templates are sent again this often (default 60)",
	 OPT_TEMPLATES},
	{"octet-delta-count", "none|l2",
	 "l2 (default): also send the L2 bytes as octetDeltaCount, for collectors that ignore "
	 "layer2OctetDeltaCount, such as nfdump; none: send layer2OctetDeltaCount only",
	 OPT_OCTETS},
	{"config", "FILE",
	 "the collector, transport, interval and pin directory from this file's IPFIX_* and "
	 "TRAFFIC_COUNTER_PIN_DIR (traffic-counter.conf(5)); options given here win",
	 OPT_CONFIG},
	TFC_PIN_OPTIONS,
	{0},
};

const struct tfc_cmd_def export_ipfix_def = {
	.name = "export-ipfix",
	.summary = "Send the flow map to an IPFIX collector as delta records (libfixbuf); flows\n"
		   "idle for --idle-timeout are exported a last time and removed from the map.\n"
		   "Runs until SIGINT or SIGTERM, then exports and removes every flow left.",
	.opts = ipfix_opts,
	.examples =
		"  traffic-counter export-ipfix --collector 192.0.2.10:4739\n"
		"  traffic-counter export-ipfix --collector [2001:db8::10]:4739 --transport tcp\n"
		"  traffic-counter export-ipfix --collector 127.0.0.1:9995 --octet-delta-count "
		"none "
		"--interval 5\n"
		"  traffic-counter export-ipfix --config "
		"/etc/traffic-counter/traffic-counter.conf\n",
};

struct ipfix_args {
	struct tfc_pin_args pins;
	const char *collector;
	int tcp;
	int octets;
	__u32 interval;
	__u32 active;
	__u32 idle;
	__u32 domain;
	__u32 templates;
	const char *config;
	int tcp_given, interval_given;
	/* What --config supplied, when the command line did not. */
	char collector_buf[TFC_CONFIG_HOST_LEN + 8];
	char pin_dir_buf[PATH_MAX];
};

/* ---- options ----------------------------------------------------------------- */

/* "HOST:PORT" or "[V6]:PORT" into host and port (1..65535). */
static int split_collector(const char *s, char *host, size_t hlen, char *port, size_t plen)
{
	const char *why;
	__u16 portnum;

	if (tfc_hostport_split(s, host, hlen, &portnum, &why))
		return tfc_opt_invalid("collector", "'%s': %s", s, why);
	snprintf(port, plen, "%u", portnum);
	return 0;
}

static const char *const transports[] = {"udp", "tcp"};	  /* index: a->tcp */
static const char *const octet_counts[] = {"none", "l2"}; /* index: a->octets */

static int ipfix_opt(int id, const char *arg, void *ctx)
{
	struct ipfix_args *a = ctx;
	char host[256], port[8];

	if (tfc_pin_args_handle(&a->pins, id, arg))
		return 0;
	switch (id) {
	case OPT_COLLECTOR:
		a->collector = arg;
		return split_collector(arg, host, sizeof(host), port, sizeof(port));
	case OPT_TRANSPORT:
		a->tcp_given = 1;
		return tfc_parse_choice("transport", arg, transports, 2, &a->tcp);
	case OPT_INTERVAL:
		a->interval_given = 1;
		return tfc_parse_u32("interval", arg, 1, IPFIX_MAX_SECONDS, &a->interval);
	case OPT_CONFIG:
		a->config = arg;
		return 0;
	case OPT_ACTIVE:
		return tfc_parse_u32("active-timeout", arg, 1, IPFIX_MAX_SECONDS, &a->active);
	case OPT_IDLE:
		return tfc_parse_u32("idle-timeout", arg, 1, IPFIX_MAX_SECONDS, &a->idle);
	case OPT_DOMAIN:
		return tfc_parse_u32("observation-domain", arg, 0, UINT32_MAX, &a->domain);
	case OPT_TEMPLATES:
		return tfc_parse_u32("template-interval", arg, 1, IPFIX_MAX_SECONDS, &a->templates);
	case OPT_OCTETS:
		return tfc_parse_choice("octet-delta-count", arg, octet_counts, 2, &a->octets);
	default:
		return -EINVAL;
	}
}

/* The file's values for what the command line left unset. */
static void config_merge(struct ipfix_args *a, const struct tfc_config *cfg)
{
	if (!a->collector && cfg->ipfix_collector[0]) {
		snprintf(a->collector_buf, sizeof(a->collector_buf), "%s", cfg->ipfix_collector);
		a->collector = a->collector_buf;
	}
	if (!a->tcp_given && cfg->ipfix_transport >= 0)
		a->tcp = cfg->ipfix_transport;
	if (!a->interval_given && cfg->ipfix_interval)
		a->interval = cfg->ipfix_interval;
	if (!a->pins.dir && cfg->pin_dir[0]) {
		snprintf(a->pin_dir_buf, sizeof(a->pin_dir_buf), "%s", cfg->pin_dir);
		a->pins.dir = a->pin_dir_buf;
	}
}

static int config_read(struct ipfix_args *a)
{
	struct tfc_config *cfg = tfc_config_for_command(a->config);

	if (!cfg)
		return -EINVAL;
	config_merge(a, cfg);
	free(cfg);
	return 0;
}

static int ipfix_parse(int argc, char **argv, struct ipfix_args *a)
{
	int err;

	memset(a, 0, sizeof(*a));
	a->interval = IPFIX_INTERVAL_DEFAULT;
	/* openspec/specs/ipfix.md X2: octetDeltaCount; nfdump reads no other byte count. */
	a->octets = 1;
	a->active = IPFIX_ACTIVE_DEFAULT;
	a->idle = IPFIX_IDLE_DEFAULT;
	a->templates = IPFIX_TEMPLATES_DEFAULT;
	err = tfc_opts_parse(&export_ipfix_def, argc, argv, ipfix_opt, a);
	if (!err && a->config)
		err = config_read(a);
	if (err)
		return err;
	if (!a->collector && a->config)
		return tfc_opt_invalid("collector", "missing: set IPFIX_COLLECTOR=HOST:PORT in %s",
				       a->config);
	if (!a->collector)
		return tfc_opt_invalid("collector", "missing: where should the records go?");
	return 0;
}

/* ---- libfixbuf --------------------------------------------------------------- */

/* Template element flags: which template an element belongs to. */
#define T_INTERNAL (1U << 0) /* padding: only in memory */
#define T_OCTETS   (1U << 1) /* octetDeltaCount */
#define T_V4	   (1U << 2)
#define T_V6	   (1U << 3)

/* In the order and sizes of struct tfc_ipfix_rec4/6 (ipfix.h). */
static fbInfoElementSpec_t flow_spec[] = {
	{"flowStartMilliseconds", 8, 0},
	{"flowEndMilliseconds", 8, 0},
	{"packetDeltaCount", 8, 0},
	{"layer2OctetDeltaCount", 8, 0},
	{"octetDeltaCount", 8, T_OCTETS},
	{"ingressInterface", 4, 0},
	{"egressInterface", 4, 0},
	{"sourceTransportPort", 2, 0},
	{"destinationTransportPort", 2, 0},
	{"tcpControlBits", 2, 0},
	{"protocolIdentifier", 1, 0},
	{"flowDirection", 1, 0},
	{"flowEndReason", 1, 0},
	{"paddingOctets", 7, T_INTERNAL},
	{"sourceIPv4Address", 4, T_V4},
	{"destinationIPv4Address", 4, T_V4},
	{"sourceIPv6Address", 16, T_V6},
	{"destinationIPv6Address", 16, T_V6},
	FB_IESPEC_NULL,
};

/* struct tfc_ipfix_rec_stats; the first element is the scope. */
static fbInfoElementSpec_t stats_spec[] = {
	{"observationDomainId", 4, 0},
	{"paddingOctets", 4, T_INTERNAL},
	{"exportedFlowRecordTotalCount", 8, 0},
	{"notSentFlowTotalCount", 8, 0},
	FB_IESPEC_NULL,
};

/*
 * Records per message, emitted by us: libfixbuf would emit a full message
 * inside fBufAppend, where a failure cannot be told apart from the records
 * it carried. UDP: 10 IPv6 records (97 bytes each) fit the 1420-byte MTU;
 * TCP messages may be 64 KiB.
 */
#define FB_RECS_UDP 10
#define FB_RECS_TCP 500
#define FB_UDP_MTU  1420
#define FB_TCP_MSG  65535 /* 500 IPv6 records and the headers fit */

struct fb {
	fbInfoModel_t *model;
	fBuf_t *buf; /* owns the session and the exporter */
	uint16_t tid4, tid6, tid_stats;
	size_t per_msg; /* records per message */
	size_t pending; /* records appended since the last emit */
	size_t flows;	/* of which flow records */
	int fd;		/* our socket; libfixbuf only encodes (-1: closed) */
	int sig_fd;	/* readable while SIGINT/SIGTERM is pending */
	int stall_ms;	/* a send without progress for this long fails */
	fbExporter_t *ex;
	uint8_t *msg;	 /* the message libfixbuf encoded */
	char error[256]; /* why the last step failed, for the caller to report once */
};

static int fb_error(struct fb *fb, GError **e)
{
	snprintf(fb->error, sizeof(fb->error), "%s", *e ? (*e)->message : "failed");
	g_clear_error(e);
	return -EIO;
}

/* GLib's messages (libfixbuf logs through it) in our log's format. */
static void fb_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer ctx)
{
	(void)domain;
	(void)ctx;
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
		tfc_warn("libfixbuf: %s", msg);
	else
		tfc_debug("libfixbuf: %s", msg);
}

static int fb_net_error(struct fb *fb, int err)
{
	if (err == -ETIMEDOUT)
		snprintf(fb->error, sizeof(fb->error), "no progress for %d ms", fb->stall_ms);
	else if (err == -EINTR)
		snprintf(fb->error, sizeof(fb->error), "stopped by a signal");
	else
		snprintf(fb->error, sizeof(fb->error), "%s", strerror(-err));
	return err;
}

/*
 * Our socket for both transports. UDP: libfixbuf's exporter reports a
 * refused send (ICMP port unreachable) as done, after a GLib warning given
 * once per process, so a message that never left would count as sent. TCP:
 * libfixbuf's send blocks, forever on a collector that stops reading, and
 * SIGTERM waits behind it.
 */
static int net_send(struct fb *fb)
{
	size_t len = fbExporterGetMsgLen(fb->ex);
	int err = tfc_net_send(fb->fd, fb->msg, len, fb->sig_fd, fb->stall_ms);

	return err ? fb_net_error(fb, err) : 0;
}

static int net_open(struct fb *fb, const char *host, const char *port, int tcp)
{
	int fd = tfc_net_connect(host, port, tcp, fb->sig_fd, fb->stall_ms);

	if (fd < 0)
		return fb_net_error(fb, fd);
	fb->fd = fd;
	return 0;
}

/* fBufEmit; `sent` (may be NULL) grows by the message's flow records once it is sent. */
static int fb_emit(struct fb *fb, __u64 *sent)
{
	GError *e = NULL;
	int err;

	if (!fBufEmit(fb->buf, &e))
		return fb_error(fb, &e);
	err = net_send(fb);
	if (err)
		return err;
	if (sent)
		*sent += fb->flows;
	fb->pending = fb->flows = 0;
	return 0;
}

/*
 * Adds one template pair: the internal one (what memory holds) and the
 * external one (what is sent), under the same id. 0 on failure.
 */
static uint16_t add_template(fbSession_t *s, fbInfoModel_t *m, fbInfoElementSpec_t *spec,
			     unsigned int internal, unsigned int external, int scope, GError **e)
{
	fbTemplate_t *in = fbTemplateAlloc(m), *ex = fbTemplateAlloc(m);
	uint16_t tid = 0;

	if (!fbTemplateAppendSpecArray(in, spec, internal, e) ||
	    !fbTemplateAppendSpecArray(ex, spec, external, e))
		goto fail;
	if (scope) {
		fbTemplateSetOptionsScope(in, scope);
		fbTemplateSetOptionsScope(ex, scope);
	}
	tid = fbSessionAddTemplate(s, TRUE, FB_TID_AUTO, in, e);
	if (!tid)
		goto fail;
	in = NULL;
	if (!fbSessionAddTemplate(s, FALSE, tid, ex, e))
		return 0;
	return tid;
fail:
	if (in)
		fbTemplateFreeUnused(in);
	fbTemplateFreeUnused(ex);
	return 0;
}

static int add_templates(struct fb *fb, fbSession_t *s, int octets)
{
	unsigned int ex = octets ? T_OCTETS : 0, in = T_INTERNAL | T_OCTETS;
	GError *e = NULL;

	fb->tid4 = add_template(s, fb->model, flow_spec, in | T_V4, ex | T_V4, 0, &e);
	if (fb->tid4)
		fb->tid6 = add_template(s, fb->model, flow_spec, in | T_V6, ex | T_V6, 0, &e);
	if (fb->tid6)
		fb->tid_stats = add_template(s, fb->model, stats_spec, T_INTERNAL, 0, 1, &e);
	if (fb->tid_stats)
		return 0;
	fb_error(fb, &e);
	tfc_err("cannot build the IPFIX templates: %s", fb->error);
	return -EIO;
}

static void fb_close(struct fb *fb)
{
	if (fb->buf)
		fBufFree(fb->buf);
	fb->buf = NULL;
	free(fb->msg);
	fb->msg = NULL;
	if (fb->fd >= 0)
		close(fb->fd);
	fb->fd = -1;
}

/*
 * A failed connection given up with a reset, not a FIN: nothing half-sent
 * waits in it for a collector that does not read, and a collector that
 * closed first does not keep its port in TIME_WAIT, where one restarted
 * without SO_REUSEADDR could not listen again for a minute.
 */
static void fb_abort(struct fb *fb)
{
	struct linger now = {.l_onoff = 1, .l_linger = 0};

	if (fb->fd >= 0)
		setsockopt(fb->fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
	fb_close(fb);
}

/* A fresh session and connection: libfixbuf encodes into fb->msg, we send. */
static int fb_open(struct fb *fb, const struct ipfix_args *a, char *host, char *port)
{
	size_t size = a->tcp ? FB_TCP_MSG : FB_UDP_MTU;
	fbSession_t *s = fbSessionAlloc(fb->model);
	int err;

	/* Templates belong to a domain: set it before adding them. */
	fbSessionSetDomain(s, a->domain);
	err = add_templates(fb, s, a->octets);
	fb->msg = err ? NULL : malloc(size);
	if (!err && !fb->msg)
		err = fb_net_error(fb, -ENOMEM);
	err = err ?: net_open(fb, host, port, a->tcp);
	if (err) {
		fbSessionFree(s);
		fb_close(fb);
		return err;
	}
	fb->ex = fbExporterAllocBuffer(fb->msg, (uint16_t)size);
	fb->buf = fBufAllocForExport(s, fb->ex);
	fb->per_msg = a->tcp ? FB_RECS_TCP : FB_RECS_UDP;
	fb->pending = fb->flows = 0;
	return 0;
}

static int fb_send_templates(struct fb *fb)
{
	GError *e = NULL;

	if (!fbSessionExportTemplates(fBufGetSession(fb->buf), &e))
		return fb_error(fb, &e);
	return fb_emit(fb, NULL);
}

static int fb_use(struct fb *fb, uint16_t tid, GError **e)
{
	return fBufSetInternalTemplate(fb->buf, tid, e) && fBufSetExportTemplate(fb->buf, tid, e);
}

/*
 * Appends `n` records (flow records when `flows`), emitting a message every
 * per_msg records; `sent` grows by the flow records of each message sent.
 * Records still pending go out with the next emit.
 */
static int fb_append(struct fb *fb, uint16_t tid, void *recs, size_t n, size_t size, int flows,
		     __u64 *sent)
{
	GError *e = NULL;
	int err;

	if (!n)
		return 0;
	if (!fb_use(fb, tid, &e))
		return fb_error(fb, &e);
	for (size_t i = 0; i < n; i++) {
		if (!fBufAppend(fb->buf, (uint8_t *)recs + i * size, size, &e))
			return fb_error(fb, &e);
		fb->flows += !!flows;
		if (++fb->pending < fb->per_msg)
			continue;
		err = fb_emit(fb, sent);
		if (err)
			return err;
	}
	return 0;
}

/* ---- the exporter ------------------------------------------------------------ */

/* Records of one cycle, by family: each family's go in one set. */
struct batch {
	struct tfc_ipfix_rec4 *v4;
	struct tfc_ipfix_rec6 *v6;
	size_t n4, n6, cap4, cap6;
	__s64 offset_ns;
};

struct exporter {
	struct ipfix_args a;
	struct tfc_pins pins;
	char host[NI_MAXHOST], port[NI_MAXSERV];
	struct fb fb;
	int connected;	  /* templates sent on the current connection */
	int migrating;	  /* attach --migrate's staging directory was there */
	int unreachable;  /* reported once per outage */
	int counting_off; /* flow counting was off at start */
	int probe_out;	  /* UDP, unreachable: the last probe went out */
	__u64 templates_ns;
	int flow_fd, ctl_fd, stats_fd, lock_fd;
	char lock_path[128];
	__u32 flow_map_id;
	struct tfc_ipfix_table *table;
	struct tfc_ipfix_timeouts to;
	struct batch batch;
	struct tfc_ipfix_stats stats; /* as pinned */
	__u64 records;		      /* sent by this process */
	__u64 not_sent;		      /* evictions, as last reported */
	GLogFunc old_log;	      /* GLib's handler, put back at exit */
};

/* Room for `need` elements: the (maybe moved) array, or NULL with `p` intact. */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap * 2 : 256;
	void *q;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	q = realloc(p, n * size);
	if (q)
		*cap = n;
	return q;
}

static int batch_add(struct batch *b, const struct tfc_ipfix_record *r)
{
	struct tfc_ipfix_rec4 r4, *p4;
	struct tfc_ipfix_rec6 r6, *p6;

	switch (tfc_ipfix_rec_fill(r, b->offset_ns, &r4, &r6)) {
	case 4:
		p4 = grow(b->v4, &b->cap4, b->n4 + 1, sizeof(r4));
		if (!p4)
			return -ENOMEM;
		b->v4 = p4;
		b->v4[b->n4++] = r4;
		return 0;
	case 6:
		p6 = grow(b->v6, &b->cap6, b->n6 + 1, sizeof(r6));
		if (!p6)
			return -ENOMEM;
		b->v6 = p6;
		b->v6[b->n6++] = r6;
		return 0;
	default:
		return 0; /* the maps hold only IPv4 and IPv6 */
	}
}

static int map_take(void *ctx, const struct flow_key *key, struct flow_value *val)
{
	const struct exporter *x = ctx;

	if (!bpf_map_lookup_and_delete_elem(x->flow_fd, key, val))
		return 0;
	return -errno;
}

static int map_emit(void *ctx, const struct tfc_ipfix_record *r)
{
	struct exporter *x = ctx;

	return batch_add(&x->batch, r);
}

/* Said once per outage, with why; `kept`: records taken out of the map and not sent. */
static void collector_down(struct exporter *x, __u64 kept)
{
	if (!x->unreachable)
		tfc_warn("collector %s: unreachable (%s): keeping the flows, retrying every cycle",
			 x->a.collector, x->fb.error);
	x->unreachable = 1;
	if (kept)
		tfc_warn("collector %s: %llu records of this cycle were not sent: kept, sent "
			 "again after reconnecting",
			 x->a.collector, (unsigned long long)kept);
}

static void collector_up(struct exporter *x)
{
	if (x->unreachable)
		tfc_info("collector %s answers again", x->a.collector);
	x->unreachable = 0;
}

/* The statistics record in a message of its own. */
static int send_probe(struct exporter *x)
{
	struct tfc_ipfix_rec_stats st = {
		.domain = x->a.domain,
		.exported = x->records,
		.not_sent = x->not_sent,
	};
	int err = fb_append(&x->fb, x->fb.tid_stats, &st, 1, sizeof(st), 0, NULL);

	return err ?: fb_emit(&x->fb, NULL);
}

/* TCP: a collector that closed or reset the connection since the last cycle. */
static int check_connection(struct exporter *x)
{
	int err = x->a.tcp && x->fb.fd >= 0 ? tfc_net_check(x->fb.fd) : 0;

	if (!err)
		return 0;
	fb_net_error(&x->fb, err);
	fb_abort(&x->fb);
	x->connected = 0;
	return err;
}

/* 0, 1 when this call made a new TCP connection, or a negative errno. */
static int ensure_connected(struct exporter *x, __u64 now)
{
	int err = 0, opened = 0;

	if (!x->fb.buf) {
		err = fb_open(&x->fb, &x->a, x->host, x->port);
		opened = !err && x->a.tcp;
	}
	/* UDP has no connection to tell a collector restart: resend periodically. */
	if (!err &&
	    (!x->connected || (!x->a.tcp && now - x->templates_ns >= x->a.templates * NS_PER_S))) {
		err = fb_send_templates(&x->fb);
		x->connected = !err;
		x->templates_ns = now;
	}
	/* A refused datagram leaves nothing half-sent: the socket keeps its errors. */
	if (err && (x->a.tcp || err != -ECONNREFUSED))
		fb_abort(&x->fb);
	return err ?: opened;
}

/*
 * UDP: a closed port answers a datagram with an ICMP error that fails the
 * next send on the socket. A statistics record at the start of each cycle
 * finds it before any flow is taken out of the map. While the collector is
 * unreachable, a probe that is not refused proves nothing yet (the refusal
 * consumed the error): it answers once a probe went out and the next one,
 * an interval later, is not refused either. Then the templates go again,
 * for a collector that may be new.
 */
static int udp_check(struct exporter *x, __u64 now)
{
	int err = send_probe(x);

	if (err) {
		x->probe_out = 0;
		if (err != -ECONNREFUSED)
			fb_close(&x->fb);
		return err;
	}
	if (x->unreachable && !x->probe_out) {
		x->probe_out = 1;
		return -EAGAIN;
	}
	if (x->unreachable) {
		x->connected = 0;
		err = ensure_connected(x, now);
	}
	return err;
}

/*
 * Drops the first `sent` records of the batch, those the collector got (in
 * the order send_batch appends them: IPv4, then IPv6); the rest is kept
 * for the next cycle.
 */
static void batch_keep_unsent(struct batch *b, __u64 sent)
{
	size_t s4 = sent < b->n4 ? (size_t)sent : b->n4;
	size_t s6 = (size_t)sent - s4;

	memmove(b->v4, b->v4 + s4, (b->n4 - s4) * sizeof(*b->v4));
	b->n4 -= s4;
	memmove(b->v6, b->v6 + s6, (b->n6 - s6) * sizeof(*b->v6));
	b->n6 -= s6;
}

static __u64 batch_size(const struct batch *b)
{
	return b->n4 + b->n6;
}

/*
 * Sends the batch; `sent`: the flow records of the messages sent, all of
 * them on success. What was not sent stays in the batch.
 */
static int send_batch(struct exporter *x, __u64 *sent)
{
	struct batch *b = &x->batch;
	struct tfc_ipfix_rec_stats st = {
		.domain = x->a.domain,
		.exported = x->records + b->n4 + b->n6,
		.not_sent = x->not_sent,
	};
	int err;

	*sent = 0;
	err = fb_append(&x->fb, x->fb.tid4, b->v4, b->n4, sizeof(*b->v4), 1, sent);
	err = err ?: fb_append(&x->fb, x->fb.tid6, b->v6, b->n6, sizeof(*b->v6), 1, sent);
	err = err ?: fb_append(&x->fb, x->fb.tid_stats, &st, 1, sizeof(st), 0, sent);
	err = err ?: fb_emit(&x->fb, sent);
	x->records += *sent;
	if (err) {
		/* TCP: a message may be half-sent: start the next cycle on a new connection. */
		if (x->a.tcp || err != -ECONNREFUSED)
			fb_abort(&x->fb);
		x->connected = 0;
		batch_keep_unsent(b, *sent);
		if (err != -EINTR)
			collector_down(x, batch_size(b));
		return err;
	}
	b->n4 = b->n6 = 0;
	collector_up(x);
	return 0;
}

static void stats_store(struct exporter *x)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(x->stats_fd, &zero, &x->stats, 0))
		tfc_debug("cannot update %s: %s", TFC_IPFIX_STATS_NAME, strerror(errno));
}

/*
 * Counts kept beside the maps, so that status can tell evictions from
 * expiries. `ctl` was read before the dump of `n` entries: an insert racing
 * the dump can then only make the evictions look smaller, for one cycle.
 */
static void stats_update(struct exporter *x, const struct tfc_control *ctl, size_t n,
			 const struct tfc_ipfix_counts *c, __u64 sent)
{
	__u64 ev = tfc_ipfix_evictions(ctl->flow_inserts, n, x->stats.expired);

	/* A counter: it must not go back. */
	if (ev > x->not_sent)
		x->not_sent = ev;
	x->stats.expired += c->expired;
	x->stats.records += sent; /* not c->records: what the collector was sent */
	stats_store(x);
}

static int open_maps(struct exporter *x);
static int lock_map(struct exporter *x);

/*
 * attach --migrate pins new maps in place of the old ones: follow them.
 * The flows carried over keep their totals, so the table of what was
 * exported stays right, and so do the expiry statistics.
 */
static int follow_maps(struct exporter *x)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(x->pins.flow);
	int err = 0;

	if (fd < 0)
		return 0; /* gone for now: the cycle reports it */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.id == x->flow_map_id) {
		close(fd);
		return 0;
	}
	close(fd);
	tfc_info("%s is a new map (attach --migrate?): exporting from it", x->pins.flow);
	close(x->flow_fd);
	close(x->ctl_fd);
	x->flow_fd = x->ctl_fd = -1;
	unlink(x->lock_path);
	close(x->lock_fd);
	x->lock_fd = -1;
	err = open_maps(x);
	err = err ?: lock_map(x);
	x->stats.flow_map_id = x->flow_map_id;
	return err;
}

/*
 * The collector, ready for flows: connected, templates sent. Nothing is
 * taken out of the map while it is unreachable. 1: not yet, a TCP
 * connection made in this cycle gets flows from the next one, once it
 * proved to stay open: a collector that accepts and resets at once then
 * costs no flow (data it took before the reset would be lost unseen).
 */
static int collector_ready(struct exporter *x, __u64 now, int flush)
{
	int err = check_connection(x);

	err = err ?: ensure_connected(x, now);
	if (err == 1)
		return flush ? 0 : 1;
	if (!err && !x->a.tcp)
		err = udp_check(x, now);
	if (err && err != -EINTR)
		collector_down(x, 0);
	return err;
}

/* First what an earlier cycle took out of the map and could not send. */
static int resend_kept(struct exporter *x)
{
	__u64 kept = batch_size(&x->batch), sent = 0;
	int err;

	if (!kept)
		return 0;
	err = send_batch(x, &sent);
	x->stats.records += sent;
	stats_store(x);
	if (!err)
		tfc_info("collector %s: sent the %llu records kept from an earlier cycle",
			 x->a.collector, (unsigned long long)kept);
	return err;
}

static void cycle_log(struct exporter *x, const struct tfc_ipfix_counts *c, size_t n, __u64 sent,
		      __u64 t0, int flush)
{
	double ms = (double)(tfc_ipfix_now_ns() - t0) / 1e6;

	tfc_debug("cycle: %zu entries, %llu records (%llu sent; %llu packets, %llu bytes), "
		  "%llu expired, %llu vanished, %zu tracked, %.1f ms",
		  n, c->records, sent, c->packets, c->bytes, c->expired, c->vanished,
		  tfc_ipfix_table_size(x->table), ms);
	if (flush)
		tfc_info("final export: %llu records in %.1f ms", sent, ms);
}

/*
 * attach --migrate moves the flows out of the old map (step 4 of
 * loader/migrate.c) before it renames the new one over it (step 5). A scan
 * in between would miss the moved flows and forget what was exported of
 * them, then export their carried totals again: wait while the staging
 * directory exists. A migration that died leaves it there, and `attach
 * --migrate` again finishes it; nothing is taken from the map meanwhile.
 */
static int migrating(struct exporter *x)
{
	char path[PATH_MAX];
	struct stat st;
	int now;

	if (snprintf(path, sizeof(path), "%s/%s", x->pins.dir, TFC_STAGING_DIR_NAME) >=
	    (int)sizeof(path))
		return 0;
	now = !lstat(path, &st) && S_ISDIR(st.st_mode);
	if (now && !x->migrating)
		tfc_info("%s exists: attach --migrate is moving the maps; exporting again "
			 "once it is done",
			 path);
	x->migrating = now;
	return now;
}

/* The flow map read, its records taken out or remembered, and sent. */
static int export_map(struct exporter *x, int flush, __u64 now)
{
	struct tfc_ipfix_io io = {map_take, map_emit, x};
	struct tfc_ipfix_counts c = {};
	struct tfc_control ctl;
	struct tfc_flow_entry *e = NULL;
	__u64 sent = 0;
	size_t n = 0;
	int err, send_err;

	if (!flush && migrating(x))
		return 0;
	err = follow_maps(x);
	err = err ?: tfc_ipfix_clock_offset(&x->batch.offset_ns);
	err = err ?: tfc_control_read(x->ctl_fd, &ctl);
	err = err ?: tfc_dump_flow(x->flow_fd, &e, &n);
	if (err) {
		tfc_warn("cannot read %s: %s", x->pins.flow, strerror(-err));
		return err;
	}
	/* Begun while this dump ran: it may lack flows already moved. */
	if (!flush && migrating(x)) {
		free(e);
		return 0;
	}
	if (flush)
		err = tfc_ipfix_flush(x->table, e, n, &io, &c);
	else
		err = tfc_ipfix_scan(x->table, &x->to, e, n, now, &io, &c);
	free(e);
	/* What was taken out of the map goes out even when the cycle stopped early. */
	send_err = send_batch(x, &sent);
	stats_update(x, &ctl, n, &c, sent);
	cycle_log(x, &c, n, sent, now, flush);
	return err ?: send_err;
}

/* One cycle (flush: the last one, at shutdown). */
static int cycle(struct exporter *x, int flush)
{
	__u64 now = tfc_ipfix_now_ns();
	int err = collector_ready(x, now, flush);

	if (err == 1)
		return 0;
	err = err ?: resend_kept(x);
	return err ?: export_map(x, flush, now);
}

/* ---- setup ------------------------------------------------------------------- */

static int resolve_collector(struct exporter *x)
{
	struct addrinfo hints = {.ai_socktype = x->a.tcp ? SOCK_STREAM : SOCK_DGRAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char host[256], port[8];
	int err;

	split_collector(x->a.collector, host, sizeof(host), port, sizeof(port));
	err = getaddrinfo(host, port, &hints, &ai);
	if (err) {
		tfc_err("--collector %s: cannot resolve '%s': %s", x->a.collector, host,
			gai_strerror(err));
		return -EADDRNOTAVAIL;
	}
	/* libfixbuf gets the number: it would otherwise resolve again, maybe differently. */
	err = getnameinfo(ai->ai_addr, ai->ai_addrlen, x->host, sizeof(x->host), x->port,
			  sizeof(x->port), NI_NUMERICHOST | NI_NUMERICSERV);
	freeaddrinfo(ai);
	if (err) {
		tfc_err("--collector %s: %s", x->a.collector, gai_strerror(err));
		return -EADDRNOTAVAIL;
	}
	return 0;
}

/*
 * The directory of the locks, ours alone: created 0700, and refused when
 * it is a symlink, not ours, or writable by others. Where anyone can write
 * (/run/lock, /tmp), another user's symlink at the predictable name would
 * make root create a file of their choosing, and their lock would keep the
 * exporter from starting.
 */
static int lock_dir_open(void)
{
	struct stat st;
	int fd;

	if (mkdir(IPFIX_LOCK_DIR, 0700) && errno != EEXIST) {
		fd = -errno;
		tfc_err("cannot create %s: %s: export-ipfix runs as root", IPFIX_LOCK_DIR,
			strerror(-fd));
		return fd;
	}
	fd = open(IPFIX_LOCK_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		tfc_err("cannot lock in %s: not a directory of ours that only we can write: "
			"remove it (export-ipfix creates it, mode 0700)",
			IPFIX_LOCK_DIR);
		if (fd >= 0)
			close(fd);
		return -EPERM;
	}
	return fd;
}

/* Locked, and still the file named `name` in `dir` (a stopping exporter unlinks it). */
static int lock_file(int dir, const char *name)
{
	struct stat held, named;
	int fd = openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);

	if (fd < 0)
		return errno == ELOOP ? -ELOOP : -errno;
	if (fstat(fd, &held) || !S_ISREG(held.st_mode)) {
		close(fd);
		return -ELOOP;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return -EBUSY;
	}
	if (fstatat(dir, name, &named, AT_SYMLINK_NOFOLLOW) || held.st_ino != named.st_ino) {
		close(fd);
		return -EAGAIN;
	}
	return fd;
}

static void lock_report(struct exporter *x, int err)
{
	if (err == -EBUSY)
		tfc_err("another export-ipfix already exports %s (lock %s held): stop it first",
			x->pins.flow, x->lock_path);
	else if (err == -ELOOP)
		tfc_err("cannot lock %s: it is a symlink or not a regular file: remove it",
			x->lock_path);
	else
		tfc_err("cannot lock %s: %s", x->lock_path, strerror(-err));
}

/*
 * Two exporters on one flow map would both send every delta and race on
 * the deletes: one per map, by a lock on its id (unique while it exists).
 * /run is cleared at boot, as map ids are.
 */
static int lock_map(struct exporter *x)
{
	char name[64];
	int dir = lock_dir_open(), fd = -EAGAIN;

	if (dir < 0)
		return dir;
	snprintf(name, sizeof(name), "traffic-counter-ipfix-map%u.lock", x->flow_map_id);
	snprintf(x->lock_path, sizeof(x->lock_path), "%s/%s", IPFIX_LOCK_DIR, name);
	/* -EAGAIN: the file was unlinked by an exporter stopping meanwhile. */
	for (int i = 0; i < 3 && fd == -EAGAIN; i++)
		fd = lock_file(dir, name);
	close(dir);
	if (fd < 0)
		lock_report(x, fd);
	else
		x->lock_fd = fd;
	return fd < 0 ? fd : 0;
}

/* The pinned statistics: reset when they count for another (older) flow map. */
static int stats_load(struct exporter *x)
{
	__u32 zero = 0;

	x->stats_fd = tfc_ipfix_stats_open(x->pins.dir, 1);
	if (x->stats_fd < 0) {
		tfc_err("cannot create the statistics map %s/%s: %s", x->pins.dir,
			TFC_IPFIX_STATS_NAME, strerror(-x->stats_fd));
		return x->stats_fd;
	}
	if (bpf_map_lookup_elem(x->stats_fd, &zero, &x->stats) ||
	    x->stats.flow_map_id != x->flow_map_id) {
		memset(&x->stats, 0, sizeof(x->stats));
		x->stats.flow_map_id = x->flow_map_id;
	}
	return 0;
}

static int open_maps(struct exporter *x)
{
	struct bpf_map_info info;
	struct tfc_control ctl;

	x->flow_fd = tfc_map_open_flags(x->pins.flow, TFC_MAP_FLOW, NULL, &info, TFC_OPEN_RDWR);
	if (x->flow_fd < 0)
		return x->flow_fd;
	x->flow_map_id = info.id;
	x->ctl_fd = tfc_map_open(x->pins.control, TFC_MAP_CONTROL, NULL, &info);
	if (x->ctl_fd < 0)
		return x->ctl_fd;
	/* Said once the exporter runs: a failed start is one line. */
	x->counting_off =
		!tfc_control_read(x->ctl_fd, &ctl) && !(ctl.flags & TFC_FLAG_FLOW_COUNTERS);
	return 0;
}

/*
 * A TCP collector refusing the connection at start is a configuration
 * error. A refused UDP datagram (ICMP) may be a collector not started yet:
 * the flows wait in the map, as in any outage.
 */
static int connect_at_start(struct exporter *x)
{
	if (ensure_connected(x, tfc_ipfix_now_ns()) >= 0)
		return 0;
	if (!x->a.tcp) {
		collector_down(x, 0);
		return 0;
	}
	tfc_err("cannot reach the collector %s over tcp (%s): check the address and that it "
		"listens",
		x->a.collector, x->fb.error);
	return -ECONNREFUSED;
}

/* Sends and connects give up at once on SIGINT/SIGTERM (left pending for run()). */
static int watch_signals(struct exporter *x, const sigset_t *set)
{
	x->fb.sig_fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (x->fb.sig_fd >= 0)
		return 0;
	tfc_err("cannot watch for signals (signalfd): %s", strerror(errno));
	return -errno;
}

static int setup(struct exporter *x, const sigset_t *set)
{
	int err = watch_signals(x, set);

	if (err)
		return err;
	x->fb.stall_ms = IPFIX_STALL_MS;
	x->to.active_ns = x->a.active * NS_PER_S;
	x->to.idle_ns = x->a.idle * NS_PER_S;
	x->old_log = g_log_set_default_handler(fb_log, &x->fb);
	x->fb.model = fbInfoModelAlloc();
	x->table = tfc_ipfix_table_new();
	if (!x->table)
		return -ENOMEM;
	err = resolve_collector(x);
	err = err ?: open_maps(x);
	err = err ?: lock_map(x);
	err = err ?: stats_load(x);
	return err ?: connect_at_start(x);
}

static void teardown(struct exporter *x)
{
	fb_close(&x->fb);
	if (x->fb.sig_fd >= 0)
		close(x->fb.sig_fd);
	if (x->fb.model)
		fbInfoModelFree(x->fb.model);
	if (x->old_log)
		g_log_set_default_handler(x->old_log, NULL);
	tfc_ipfix_table_free(x->table);
	free(x->batch.v4);
	free(x->batch.v6);
	if (x->flow_fd >= 0)
		close(x->flow_fd);
	if (x->ctl_fd >= 0)
		close(x->ctl_fd);
	if (x->stats_fd >= 0)
		close(x->stats_fd);
	/* Unlinked while held: whoever opened it meanwhile sees it gone and retries. */
	if (x->lock_fd >= 0) {
		unlink(x->lock_path);
		close(x->lock_fd);
	}
}

/* At a failed stop: what is lost, and what the next exporter will find. */
static void report_left(struct exporter *x)
{
	struct tfc_flow_entry *e = NULL;
	__u64 kept = batch_size(&x->batch);
	size_t n = 0;

	if (!kept)
		return;
	if (tfc_dump_flow(x->flow_fd, &e, &n))
		n = 0;
	free(e);
	tfc_err("collector %s did not take %llu records (%s): they are lost; %zu flows left in "
		"the map",
		x->a.collector, (unsigned long long)kept, x->fb.error, n);
}

/* ---- the loop ---------------------------------------------------------------- */

/* Until SIGINT/SIGTERM: a cycle every interval. Returns the signal. */
static int run(struct exporter *x, const sigset_t *set)
{
	struct timespec wait = {.tv_sec = x->a.interval};
	int sig;

	for (;;) {
		sig = sigtimedwait(set, NULL, &wait);
		if (sig > 0)
			return sig;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		/* A failed cycle was reported where it failed; the next one retries. */
		if (errno == EAGAIN)
			cycle(x, 0);
	}
}

/* Blocked first: a signal during setup is then handled, not fatal. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigprocmask(SIG_BLOCK, set, NULL);
	/* A TCP collector going away must be an error on send, not a kill. */
	signal(SIGPIPE, SIG_IGN);
}

/* The last export, on signal `sig`: the exit status. */
static int stop(struct exporter *x, int sig)
{
	int ret = TFC_EXIT_OK;

	tfc_info("stopping on signal %d: exporting the flows left", sig);
	/* A collector that takes nothing must not hold the stop. */
	x->fb.stall_ms = IPFIX_STOP_MS;
	if (cycle(x, 1)) {
		report_left(x);
		ret = TFC_EXIT_FAIL;
	}
	tfc_info("sent %llu records; flows evicted before export: %llu", x->records, x->not_sent);
	return ret;
}

int cmd_export_ipfix(int argc, char **argv)
{
	struct exporter x = {.fb.fd = -1,
			     .fb.sig_fd = -1,
			     .flow_fd = -1,
			     .ctl_fd = -1,
			     .stats_fd = -1,
			     .lock_fd = -1};
	sigset_t set;
	int ret, sig;

	ret = tfc_parse_exit(ipfix_parse(argc, argv, &x.a));
	if (ret >= 0)
		return ret;
	if (tfc_pin_args_resolve(&x.a.pins, &x.pins))
		return TFC_EXIT_USAGE;
	block_signals(&set);
	ret = TFC_EXIT_FAIL;
	if (setup(&x, &set))
		goto out;
	if (x.counting_off)
		tfc_warn("flow counting is off: nothing to export until 'traffic-counter set "
			 "--enable-flow-map'");
	tfc_info("exporting %s to %s (%s) every %u s: active timeout %u s, idle timeout %u s",
		 x.pins.flow, x.a.collector, x.a.tcp ? "tcp" : "udp", x.a.interval, x.a.active,
		 x.a.idle);
	sig = run(&x, &set);
	ret = stop(&x, sig);
out:
	teardown(&x);
	return ret;
}
