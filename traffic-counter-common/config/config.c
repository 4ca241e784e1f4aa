// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "config.h"
#include "maps/aggregate.h"
#include "maps/pins.h"
#include "util/hostport.h"
#include "util/log.h"
#include "util/text.h"

/* The bound of attach's --ip-map-size and --flow-map-size. */
#define MAX_MAP_ENTRIES (1U << 24)
/* export-ipfix's bound of --interval. */
#define MAX_IPFIX_INTERVAL 86400
/* Room under the pin directory for "/links/<point>-ns<inode>-if<index>-netlink". */
#define PIN_DIR_MAX (PATH_MAX - 96)

enum key {
	K_ATTACH,
	K_PIN_DIR,
	K_PIN_GROUP,
	K_COUNT_BY,
	K_IP_MAP_SIZE,
	K_FLOW_MAP,
	K_FLOW_MAP_SIZE,
	K_DETACH_ON_STOP,
	K_PURGE_ON_STOP,
	K_MIGRATE,
	K_IPFIX_COLLECTOR,
	K_IPFIX_TRANSPORT,
	K_IPFIX_INTERVAL,
	K_RECORD,
	K_RECORD_DB,
	K_RECORD_INTERVAL,
	K_RECORD_SAVE_INTERVAL,
	K_RECORD_MAX_ADDRESSES,
	K_RECORD_EVICT_IDLE,
	K_PREFIX_MAP_SIZE,
	K_OVERFLOW_PREFIX,
	K_AGGREGATE,
	K_CGROUP,
	K_CGROUP_PATH,
	K_CGROUP_DEPTH,
	K_CGROUP_MAP_SIZE,
	K_MAX,
};

struct parser {
	struct tfc_config *cfg;
	int line;
	int seen[K_MAX]; /* line of each key, 0 when absent */
};

typedef void (*setter)(struct parser *p, const char *key, const char *value);

static void set_attach(struct parser *p, const char *key, const char *value);
static void set_pin_dir(struct parser *p, const char *key, const char *value);
static void set_pin_group(struct parser *p, const char *key, const char *value);
static void set_count_by(struct parser *p, const char *key, const char *value);
static void set_size(struct parser *p, const char *key, const char *value);
static void set_bool(struct parser *p, const char *key, const char *value);
static void set_collector(struct parser *p, const char *key, const char *value);
static void set_transport(struct parser *p, const char *key, const char *value);
static void set_interval(struct parser *p, const char *key, const char *value);
static void set_record_db(struct parser *p, const char *key, const char *value);
static void set_record_num(struct parser *p, const char *key, const char *value);
static void set_record_idle(struct parser *p, const char *key, const char *value);
static void set_overflow(struct parser *p, const char *key, const char *value);
static void set_aggregate(struct parser *p, const char *key, const char *value);
static void set_cgroup_path(struct parser *p, const char *key, const char *value);
static void set_cgroup_depth(struct parser *p, const char *key, const char *value);

/* TRAFFIC_COUNTER_PIN_DIR is also the variable every command reads; apply
 * takes it from the file, so apply and apply --stop need no environment. */
static const struct {
	const char *name;
	setter set;
} keys[K_MAX] = {
	[K_ATTACH] = {"ATTACH", set_attach},
	[K_PIN_DIR] = {"TRAFFIC_COUNTER_PIN_DIR", set_pin_dir},
	[K_PIN_GROUP] = {"PIN_GROUP", set_pin_group},
	[K_COUNT_BY] = {"COUNT_BY", set_count_by},
	[K_IP_MAP_SIZE] = {"IP_MAP_SIZE", set_size},
	[K_FLOW_MAP] = {"FLOW_MAP", set_bool},
	[K_FLOW_MAP_SIZE] = {"FLOW_MAP_SIZE", set_size},
	[K_DETACH_ON_STOP] = {"DETACH_ON_STOP", set_bool},
	[K_PURGE_ON_STOP] = {"PURGE_ON_STOP", set_bool},
	[K_MIGRATE] = {"MIGRATE", set_bool},
	[K_IPFIX_COLLECTOR] = {"IPFIX_COLLECTOR", set_collector},
	[K_IPFIX_TRANSPORT] = {"IPFIX_TRANSPORT", set_transport},
	[K_IPFIX_INTERVAL] = {"IPFIX_INTERVAL", set_interval},
	[K_RECORD] = {"RECORD", set_bool},
	[K_RECORD_DB] = {"RECORD_DB", set_record_db},
	[K_RECORD_INTERVAL] = {"RECORD_INTERVAL", set_record_num},
	[K_RECORD_SAVE_INTERVAL] = {"RECORD_SAVE_INTERVAL", set_record_num},
	[K_RECORD_MAX_ADDRESSES] = {"RECORD_MAX_ADDRESSES", set_record_num},
	[K_RECORD_EVICT_IDLE] = {"RECORD_EVICT_IDLE", set_record_idle},
	[K_PREFIX_MAP_SIZE] = {"PREFIX_MAP_SIZE", set_size},
	[K_OVERFLOW_PREFIX] = {"OVERFLOW_PREFIX", set_overflow},
	[K_AGGREGATE] = {"AGGREGATE", set_aggregate},
	[K_CGROUP] = {"CGROUP", set_bool},
	[K_CGROUP_PATH] = {"CGROUP_PATH", set_cgroup_path},
	[K_CGROUP_DEPTH] = {"CGROUP_DEPTH", set_cgroup_depth},
	[K_CGROUP_MAP_SIZE] = {"CGROUP_MAP_SIZE", set_size},
};

__attribute__((format(printf, 3, 4))) static void add_error(struct tfc_config *cfg, int line,
							    const char *fmt, ...)
{
	va_list ap;

	if (cfg->n_errors < TFC_CONFIG_MAX_ERRORS) {
		struct tfc_config_error *e = &cfg->errors[cfg->n_errors];

		e->line = line;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	cfg->n_errors++;
}

#define perr(p, ...) add_error((p)->cfg, (p)->line, __VA_ARGS__)

static enum key key_of(const char *name)
{
	for (int k = 0; k < K_MAX; k++)
		if (!strcmp(keys[k].name, name))
			return k;
	return K_MAX;
}

/* ---- values ------------------------------------------------------------ */

static int parse_bool(const char *s)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i]))
			return 1;
		if (!strcasecmp(s, no[i]))
			return 0;
	}
	return -EINVAL;
}

static void set_bool(struct parser *p, const char *key, const char *value)
{
	int v = parse_bool(value);

	if (v < 0) {
		perr(p, "%s: '%s' is not yes or no", key, value);
		return;
	}
	if (!strcmp(key, "FLOW_MAP"))
		p->cfg->flow_map = v;
	else if (!strcmp(key, "DETACH_ON_STOP"))
		p->cfg->detach_on_stop = v;
	else if (!strcmp(key, "MIGRATE"))
		p->cfg->migrate = v;
	else if (!strcmp(key, "RECORD"))
		p->cfg->record = v;
	else if (!strcmp(key, "CGROUP"))
		p->cfg->cgroup = v;
	else
		p->cfg->purge_on_stop = v;
}

static void set_size(struct parser *p, const char *key, const char *value)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*value)) {
		perr(p, "%s: '%s' is not a whole number", key, value);
		return;
	}
	errno = 0;
	v = strtoull(value, &end, 10);
	if (*end) {
		perr(p, "%s: '%s' is not a whole number", key, value);
		return;
	}
	if (errno == ERANGE || v < 1 || v > MAX_MAP_ENTRIES) {
		perr(p, "%s: %s is out of range 1..%u", key, value, MAX_MAP_ENTRIES);
		return;
	}
	if (!strcmp(key, "IP_MAP_SIZE"))
		p->cfg->ip_map_size = (__u32)v;
	else if (!strcmp(key, "PREFIX_MAP_SIZE"))
		p->cfg->prefix_map_size = (__u32)v;
	else if (!strcmp(key, "CGROUP_MAP_SIZE"))
		p->cfg->cgroup_map_size = (__u32)v;
	else
		p->cfg->flow_map_size = (__u32)v;
}

/* attach --overflow-prefix: "V4,V6", or 0. */
static void set_overflow(struct parser *p, const char *key, const char *value)
{
	char why[200];

	if (tfc_overflow_parse(value, &p->cfg->overflow_v4, &p->cfg->overflow_v6, why, sizeof(why)))
		perr(p, "%s: %s", key, why);
	else
		p->cfg->overflow_set = 1;
}

/*
 * attach --aggregate: checked here, whole, so that apply --check finds a
 * bad rule; kept as text for apply, which parses it again. "none": no
 * rule (apply removes the rules in force).
 */
static void set_aggregate(struct parser *p, const char *key, const char *value)
{
	struct tfc_agg_rule *rules = NULL;
	char why[200];
	size_t n;
	int err;

	if (!strcmp(value, "none")) {
		snprintf(p->cfg->aggregate, sizeof(p->cfg->aggregate), "%s", value);
		return;
	}
	err = *value ? tfc_agg_parse(value, &rules, &n, why, sizeof(why)) : -EINVAL;
	if (!*value)
		perr(p, "%s: no rule: give CIDR=LEN[,...], or none to remove every rule", key);
	else if (err == -EINVAL)
		perr(p, "%s: %s", key, why);
	else if (err)
		perr(p, "%s: %s", key, strerror(-err));
	else
		snprintf(p->cfg->aggregate, sizeof(p->cfg->aggregate), "%s", value);
	free(rules);
}

/* The syntax only: the name is resolved by export-ipfix, when it starts. */
static void set_collector(struct parser *p, const char *key, const char *value)
{
	char host[TFC_CONFIG_HOST_LEN];
	const char *why;
	__u16 port;

	if (tfc_hostport_split(value, host, sizeof(host), &port, &why))
		perr(p, "%s: '%s': %s", key, value, why);
	else
		snprintf(p->cfg->ipfix_collector, sizeof(p->cfg->ipfix_collector), "%s", value);
}

static void set_transport(struct parser *p, const char *key, const char *value)
{
	if (!strcmp(value, "udp"))
		p->cfg->ipfix_transport = 0;
	else if (!strcmp(value, "tcp"))
		p->cfg->ipfix_transport = 1;
	else
		perr(p, "%s: '%s' is not udp or tcp", key, value);
}

static void set_interval(struct parser *p, const char *key, const char *value)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = isdigit((unsigned char)*value) ? strtoull(value, &end, 10) : 0;
	if (!isdigit((unsigned char)*value) || *end)
		perr(p, "%s: '%s' is not a whole number of seconds", key, value);
	else if (errno == ERANGE || v < 1 || v > MAX_IPFIX_INTERVAL)
		perr(p, "%s: %s is out of range 1..%d", key, value, MAX_IPFIX_INTERVAL);
	else
		p->cfg->ipfix_interval = (__u32)v;
}

static void set_record_db(struct parser *p, const char *key, const char *value)
{
	if (value[0] != '/' || strlen(value) >= sizeof(p->cfg->record_db))
		perr(p, "%s: '%s' is not an absolute path (of at most %zu bytes)", key, value,
		     sizeof(p->cfg->record_db) - 1);
	else
		snprintf(p->cfg->record_db, sizeof(p->cfg->record_db), "%s", value);
}

/* record's bounds: intervals in seconds, the address cap. */
static void set_record_num(struct parser *p, const char *key, const char *value)
{
	unsigned long long v, max = !strcmp(key, "RECORD_INTERVAL")	   ? 3600
				    : !strcmp(key, "RECORD_SAVE_INTERVAL") ? 86400
									   : UINT32_MAX;
	unsigned long long min = strcmp(key, "RECORD_MAX_ADDRESSES") ? 1 : 0;
	char *end;

	errno = 0;
	v = isdigit((unsigned char)*value) ? strtoull(value, &end, 10) : 0;
	if (!isdigit((unsigned char)*value) || *end)
		perr(p, "%s: '%s' is not a whole number", key, value);
	else if (errno == ERANGE || v < min || v > max)
		perr(p, "%s: %s is out of range %llu..%llu", key, value, min, max);
	else if (!strcmp(key, "RECORD_INTERVAL"))
		p->cfg->record_interval = (__u32)v;
	else if (!strcmp(key, "RECORD_SAVE_INTERVAL"))
		p->cfg->record_save_interval = (__u32)v;
	else
		p->cfg->record_max_addresses = (long long)v;
}

/* The syntax only: apply resolves the directory (attach --cgroup). */
static void set_cgroup_path(struct parser *p, const char *key, const char *value)
{
	if (value[0] != '/' || strlen(value) >= sizeof(p->cfg->cgroup_path))
		perr(p, "%s: '%s' is not an absolute path (of at most %zu bytes)", key, value,
		     sizeof(p->cfg->cgroup_path) - 1);
	else
		snprintf(p->cfg->cgroup_path, sizeof(p->cfg->cgroup_path), "%s", value);
}

static void set_cgroup_depth(struct parser *p, const char *key, const char *value)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = isdigit((unsigned char)*value) ? strtoul(value, &end, 10) : 0;
	if (!isdigit((unsigned char)*value) || *end)
		perr(p, "%s: '%s' is not a whole number", key, value);
	else if (errno == ERANGE || v > TFC_CGROUP_MAX_DEPTH)
		perr(p, "%s: %s is out of range 0..%d", key, value, TFC_CGROUP_MAX_DEPTH);
	else
		p->cfg->cgroup_depth = (int)v;
}

/* A number and one unit at most; record reads the value (record --evict-idle). */
static void set_record_idle(struct parser *p, const char *key, const char *value)
{
	size_t digits = strspn(value, "0123456789");

	if (!digits || digits > 12 ||
	    (value[digits] && (value[digits + 1] || !strchr("smhdwy", value[digits]))))
		perr(p, "%s: '%s' is not a duration like 3600, 90m, 12h or 7d", key, value);
	else
		snprintf(p->cfg->record_evict_idle, sizeof(p->cfg->record_evict_idle), "%s", value);
}

static void set_count_by(struct parser *p, const char *key, const char *value)
{
	if (!strcmp(value, "src"))
		p->cfg->count_by = TFC_COUNT_BY_SRC;
	else if (!strcmp(value, "dst"))
		p->cfg->count_by = TFC_COUNT_BY_DST;
	else
		perr(p, "%s: '%s' is not src or dst", key, value);
}

static void set_pin_dir(struct parser *p, const char *key, const char *value)
{
	if (value[0] != '/')
		perr(p, "%s: '%s' is not an absolute path", key, value);
	else if (tfc_path_has_dotdot(value))
		perr(p, "%s: '%s' has a '..' component: write the path without it", key, value);
	else if (strlen(value) >= PIN_DIR_MAX)
		perr(p, "%s: longer than %d bytes", key, PIN_DIR_MAX - 1);
	else
		snprintf(p->cfg->pin_dir, sizeof(p->cfg->pin_dir), "%s", value);
}

/* A name useradd would take, or a numeric id. */
static void set_pin_group(struct parser *p, const char *key, const char *value)
{
	size_t n = strlen(value);

	if (!n || n >= TFC_CONFIG_GROUP_LEN || value[0] == '-' ||
	    strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    n) {
		perr(p, "%s: '%s' is not a group name", key, value);
		return;
	}
	memcpy(p->cfg->pin_group, value, n + 1);
	p->cfg->line_pin_group = p->line;
}

/* ---- ATTACH ------------------------------------------------------------ */

static int parse_mode(struct parser *p, struct tfc_config_attach *a, const char *word,
		      const char *mode)
{
	if (!mode) {
		a->mode = -1;
		return 0;
	}
	a->mode = a->ap == TFC_AP_XDP ? tfc_xdp_mode_parse(mode) : tfc_tc_api_parse(mode);
	if (a->mode >= 0)
		return 0;
	perr(p, "ATTACH: '%s': mode '%s' is not one of %s", word, mode,
	     a->ap == TFC_AP_XDP ? "driver, native, skb, hw" : "auto, tcx, netlink");
	return -EINVAL;
}

static int interface_name_ok(const char *s, size_t n)
{
	/* What the kernel's dev_valid_name() refuses. */
	if (!n || (n == 1 && s[0] == '.') || (n == 2 && !strncmp(s, "..", 2)))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

/* IFACE:POINT[:MODE] */
static int parse_attach_word(struct parser *p, const char *word, struct tfc_config_attach *a)
{
	char buf[TFC_CONFIG_MAX_LINE], *point, *mode;
	size_t n;

	snprintf(buf, sizeof(buf), "%s", word);
	point = strchr(buf, ':');
	if (!point) {
		perr(p, "ATTACH: '%s' is not IFACE:POINT[:MODE] (e.g. eth0:xdp)", word);
		return -EINVAL;
	}
	*point++ = '\0';
	mode = strchr(point, ':');
	if (mode)
		*mode++ = '\0';
	n = strlen(buf);
	if (!interface_name_ok(buf, n) || n >= IF_NAMESIZE) {
		perr(p, "ATTACH: '%s': '%s' is not an interface name (1 to %d characters, no '/')",
		     word, buf, IF_NAMESIZE - 1);
		return -EINVAL;
	}
	memcpy(a->ifname, buf, n + 1);
	if (tfc_attach_point_parse(point) < 0) {
		perr(p, "ATTACH: '%s': attach point '%s' is not one of xdp, tc-ingress, tc-egress",
		     word, point);
		return -EINVAL;
	}
	a->ap = tfc_attach_point_parse(point);
	if (mode && strchr(mode, ':')) {
		perr(p, "ATTACH: '%s' has more than three ':'-separated parts", word);
		return -EINVAL;
	}
	return parse_mode(p, a, word, mode);
}

/* xdp and tc-ingress both count ingress, under the same keys. */
static int both_ingress(enum tfc_attach_point a, enum tfc_attach_point b)
{
	return (a == TFC_AP_XDP && b == TFC_AP_TC_INGRESS) ||
	       (a == TFC_AP_TC_INGRESS && b == TFC_AP_XDP);
}

/* Logs why a can't join the list: listed already, or counted twice. */
static int clashes(struct parser *p, const struct tfc_config_attach *a, const char *word)
{
	const struct tfc_config *cfg = p->cfg;

	for (size_t i = 0; i < cfg->n_attach; i++) {
		const struct tfc_config_attach *b = &cfg->attach[i];

		if (strcmp(b->ifname, a->ifname))
			continue;
		if (b->ap == a->ap) {
			perr(p,
			     "ATTACH: '%s' is listed twice (one attachment per interface and "
			     "attach point)",
			     word);
			return 1;
		}
		if (both_ingress(a->ap, b->ap)) {
			perr(p,
			     "ATTACH: '%s': %s already counts ingress on %s, so every frame would "
			     "be counted twice",
			     word, tfc_attach_point_str(b->ap), a->ifname);
			return 1;
		}
	}
	return 0;
}

static void set_attach(struct parser *p, const char *key, const char *value)
{
	char buf[TFC_CONFIG_MAX_LINE], *save = NULL, *word;
	struct tfc_config *cfg = p->cfg;
	int words = 0;

	snprintf(buf, sizeof(buf), "%s", value);
	cfg->line_attach = p->line;
	for (word = strtok_r(buf, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
		struct tfc_config_attach a;

		words++;
		if (parse_attach_word(p, word, &a))
			continue;
		if (clashes(p, &a, word))
			continue;
		if (cfg->n_attach == TFC_CONFIG_MAX_ATTACH) {
			perr(p, "%s: more than %d attachments", key, TFC_CONFIG_MAX_ATTACH);
			return;
		}
		cfg->attach[cfg->n_attach++] = a;
	}
	if (!words)
		perr(p, "%s is empty: name at least one IFACE:POINT (e.g. eth0:xdp)", key);
}

/* ---- lines ------------------------------------------------------------- */

static int comment_after(const char *rest)
{
	rest += strspn(rest, " \t");
	return *rest == '#';
}

/* A bare value: a blank, a quote, \, $ or ` would mean something else to a shell. */
static int parse_bare(struct parser *p, const char *key, const char *v, char *out, size_t len)
{
	const char *bad = strpbrk(v, " \t\"'\\$`");

	if (!bad) {
		snprintf(out, len, "%s", v);
		return 0;
	}
	if ((*bad == ' ' || *bad == '\t') && comment_after(bad))
		perr(p, "%s: a comment must be on a line of its own", key);
	else
		perr(p, "%s: quote a value with blanks, quotes, \\, $ or ` (%s=\"...\")", key, key);
	return -EINVAL;
}

/*
 * The value after '=': "double quoted" (backslash escapes \ " $ and `),
 * 'single quoted' (literal) or bare. In double quotes an unescaped $ or `
 * would be expanded by a shell: refused.
 */
static int parse_value(struct parser *p, const char *key, const char *v, char *out, size_t len)
{
	char q = *v;
	size_t o = 0;

	if (q != '"' && q != '\'')
		return parse_bare(p, key, v, out, len);
	for (v++; *v && *v != q; v++) {
		if (q == '"' && (*v == '$' || *v == '`')) {
			perr(p, "%s: '%c' would be expanded by a shell: write \\%c", key, *v, *v);
			return -EINVAL;
		}
		if (q == '"' && *v == '\\' && v[1] && strchr("\\\"$`", v[1]))
			v++;
		if (o + 1 < len)
			out[o++] = *v;
	}
	out[o] = '\0';
	if (*v != q) {
		perr(p, "%s: the %c quote is not closed on this line", key, q);
		return -EINVAL;
	}
	if (!v[1])
		return 0;
	if (comment_after(v + 1))
		perr(p, "%s: a comment must be on a line of its own", key);
	else
		perr(p, "%s: unexpected text after the closing quote: '%s'", key, v + 1);
	return -EINVAL;
}

/* The known keys are listed from the table: a new key cannot be left out. */
static void unknown_key(struct parser *p, const char *s)
{
	char known[1024] = "";
	size_t n = 0;

	for (int k = 0; k < K_MAX && n < sizeof(known); k++)
		n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", k ? ", " : "",
				      keys[k].name);
	perr(p, "unknown key '%.64s' (known: %s)", s, known);
}

static void parse_assignment(struct parser *p, char *s, char *eq)
{
	char value[TFC_CONFIG_MAX_LINE];
	enum key k;

	*eq = '\0';
	k = key_of(s);
	if (k == K_MAX) {
		unknown_key(p, s);
		return;
	}
	if (p->seen[k]) {
		perr(p, "%s is already set on line %d", s, p->seen[k]);
		return;
	}
	p->seen[k] = p->line;
	eq++;
	/* A shell would run the value as a command with an empty KEY. */
	if (*eq == ' ' || *eq == '\t') {
		perr(p, "no blank allowed between '=' and the value of %s", s);
		return;
	}
	if (parse_value(p, s, eq, value, sizeof(value)))
		return;
	keys[k].set(p, s, value);
}

static void parse_line(struct parser *p, char *s)
{
	size_t n, key_len;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1])) /* \r of a CRLF file too */
		s[--n] = '\0';
	if (!n || s[0] == '#' || s[0] == ';')
		return;
	key_len = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	if (key_len == 6 && !strncmp(s, "export", 6) && (s[6] == ' ' || s[6] == '\t')) {
		perr(p, "'export' is not understood by systemd: write KEY=VALUE");
	} else if (!key_len || isdigit((unsigned char)s[0])) {
		perr(p, "expected KEY=VALUE, found '%.40s'", s);
	} else if (s[key_len] != '=' && s[key_len + strspn(s + key_len, " \t")] == '=') {
		perr(p, "no blank allowed between %.*s and '='", (int)key_len, s);
	} else if (s[key_len] != '=') {
		perr(p, "expected KEY=VALUE, found '%.40s'", s);
	} else {
		parse_assignment(p, s, s + key_len);
	}
}

static void check_whole(struct parser *p)
{
	if (!p->seen[K_ATTACH])
		add_error(p->cfg, 0,
			  "ATTACH is not set: name the interfaces to count on, e.g. "
			  "ATTACH=\"eth0:xdp\"");
	if (!p->cfg->cgroup &&
	    (p->seen[K_CGROUP_PATH] || p->seen[K_CGROUP_DEPTH] || p->seen[K_CGROUP_MAP_SIZE]))
		add_error(p->cfg,
			  p->seen[K_CGROUP_PATH] ?: p->seen[K_CGROUP_DEPTH] ?: p->seen[K_CGROUP_MAP_SIZE],
			  "CGROUP_PATH, CGROUP_DEPTH and CGROUP_MAP_SIZE need CGROUP=yes");
	if (p->cfg->purge_on_stop && !p->cfg->detach_on_stop)
		add_error(p->cfg, p->seen[K_PURGE_ON_STOP],
			  "PURGE_ON_STOP=yes needs DETACH_ON_STOP=yes: maps are removed only "
			  "once nothing is attached");
}

/*
 * One line into buf, the newline kept; a longer line is read on to its end
 * but only its first len - 1 bytes are kept, and nothing past
 * TFC_CONFIG_MAX_SIZE is read: memory stays bounded whatever the stream
 * holds (getline would grow a buffer to the longest line). Returns the
 * line's length, -1 at the end of the stream.
 */
static long read_line(FILE *f, char *buf, size_t len, long *total, int *nul)
{
	size_t kept = 0;
	long n = 0;
	int c = 0;

	*nul = 0;
	while (*total < TFC_CONFIG_MAX_SIZE && c != '\n' && (c = getc(f)) != EOF) {
		(*total)++;
		n++;
		*nul |= c == '\0';
		if (kept + 1 < len)
			buf[kept++] = (char)c;
	}
	buf[kept] = '\0';
	return n ? n : -1;
}

int tfc_config_parse(FILE *f, struct tfc_config *cfg)
{
	char line[TFC_CONFIG_MAX_LINE + 2];
	struct parser p = {.cfg = cfg};
	long n, total = 0;
	int nul;

	memset(cfg, 0, sizeof(*cfg));
	cfg->flow_map = -1;
	cfg->ipfix_transport = -1;
	cfg->record_max_addresses = -1;
	cfg->cgroup_depth = -1;
	while ((n = read_line(f, line, sizeof(line), &total, &nul)) >= 0) {
		p.line++;
		if (n > TFC_CONFIG_MAX_LINE)
			perr(&p, "line longer than %d bytes", TFC_CONFIG_MAX_LINE);
		else if (nul)
			perr(&p, "NUL byte in the line: is this a text file?");
		else
			parse_line(&p, line);
	}
	if (ferror(f))
		return -EIO;
	if (total >= TFC_CONFIG_MAX_SIZE && getc(f) != EOF)
		add_error(cfg, 0, "larger than %d bytes: is this the configuration file?",
			  TFC_CONFIG_MAX_SIZE);
	check_whole(&p);
	return cfg->n_errors;
}

static const char *file_type(mode_t mode)
{
	return S_ISFIFO(mode)	? "a FIFO"
	       : S_ISCHR(mode)	? "a character device"
	       : S_ISBLK(mode)	? "a block device"
	       : S_ISSOCK(mode) ? "a socket"
				: "not a file";
}

/*
 * The file sets what runs as root: a user who can write it could attach
 * anywhere, or point PIN_GROUP at pins. So it must be a regular file of
 * bounded size, owned by root (or by the user running us), and writable
 * by no one else. Logs what is wrong and the command that fixes it.
 */
static int check_file(const char *path, const struct stat *st)
{
	if (!S_ISREG(st->st_mode)) {
		tfc_err("%s is not a regular file (%s): --config takes the configuration file",
			path, file_type(st->st_mode));
	} else if (st->st_uid && st->st_uid != geteuid()) {
		tfc_err("%s is owned by uid %u, not root: run 'chown root %s' (anyone who can "
			"write this file controls what traffic-counter does as root)",
			path, (unsigned int)st->st_uid, path);
	} else if (st->st_mode & 022) {
		tfc_err("%s is writable by group or others (mode %04o): run 'chmod go-w %s' "
			"(anyone "
			"who can write this file controls what traffic-counter does as root)",
			path, (unsigned int)(st->st_mode & 07777), path);
	} else if (st->st_size > TFC_CONFIG_MAX_SIZE) {
		tfc_err("%s is larger than 1 MiB (%lld bytes): is this the configuration file?",
			path, (long long)st->st_size);
	} else {
		return 0;
	}
	return -EPERM;
}

int tfc_config_load(const char *path, struct tfc_config *cfg)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), ret;
	struct stat st;
	FILE *f;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = S_ISDIR(st.st_mode) ? -EISDIR : check_file(path, &st);
	f = ret ? NULL : fdopen(fd, "r");
	if (!f) {
		ret = ret ?: -errno;
		close(fd);
		return ret;
	}
	ret = tfc_config_parse(f, cfg);
	fclose(f);
	return ret;
}

/* Messages quote the file's text: shown through tfc_text_shown, never raw. */
void tfc_config_print_errors(FILE *f, const char *path, const struct tfc_config *cfg)
{
	int shown = cfg->n_errors < TFC_CONFIG_MAX_ERRORS ? cfg->n_errors : TFC_CONFIG_MAX_ERRORS;

	/* tfc_text_shown per line: its answers last only a few calls. */
	for (int i = 0; i < shown; i++) {
		if (cfg->errors[i].line)
			fprintf(f, "traffic-counter: %s:%d: %s\n", tfc_text_shown(path),
				cfg->errors[i].line, tfc_text_shown(cfg->errors[i].msg));
		else
			fprintf(f, "traffic-counter: %s: %s\n", tfc_text_shown(path),
				tfc_text_shown(cfg->errors[i].msg));
	}
	if (cfg->n_errors > shown)
		fprintf(f, "traffic-counter: %s: %d more errors\n", tfc_text_shown(path),
			cfg->n_errors - shown);
}

const char *tfc_config_attach_str(const struct tfc_config_attach *a, char *buf, size_t len)
{
	static const char *const apis[] = {"auto", "tcx", "netlink"};
	const char *mode = NULL;

	if (a->mode >= 0)
		mode = a->ap == TFC_AP_XDP ? tfc_xdp_mode_str(a->mode) : apis[a->mode % 3];
	snprintf(buf, len, "%s:%s%s%s", a->ifname, tfc_attach_point_str(a->ap), mode ? ":" : "",
		 mode ? mode : "");
	return buf;
}

struct tfc_config *tfc_config_for_command(const char *path)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg)); /* about 30 kB */
	int n;

	if (!cfg) {
		tfc_err("out of memory");
		return NULL;
	}
	n = tfc_config_load(path, cfg);
	if (n < 0)
		tfc_err("--config: cannot read %s: %s", path, strerror(-n));
	else if (n > 0)
		tfc_config_print_errors(stderr, path, cfg);
	if (!n)
		return cfg;
	free(cfg);
	return NULL;
}
