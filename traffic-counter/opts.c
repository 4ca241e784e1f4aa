// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "util/log.h"
#include "export/format.h"
#include "opts.h"

#define OPT_HELP    'h'
#define OPT_VERBOSE 'v'

static size_t count_opts(const struct tfc_opt *opts)
{
	size_t n = 0;

	while (opts && opts[n].name)
		n++;
	return n;
}

void tfc_opts_usage(FILE *f, const struct tfc_cmd_def *def)
{
	fprintf(f, "Usage: traffic-counter %s [OPTIONS]\n\n%s\n\nOptions:\n", def->name,
		def->summary);
	for (const struct tfc_opt *o = def->opts; o && o->name; o++) {
		char lhs[64];

		snprintf(lhs, sizeof(lhs), "--%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		fprintf(f, "  %-26s %s\n", lhs, o->help);
	}
	fprintf(f, "  %-26s %s\n", "-v, --verbose", "show libbpf's and the verifier's messages");
	fprintf(f, "  %-26s %s\n", "-h, --help", "show this help and exit");
	if (def->examples)
		fprintf(f, "\nExamples:\n%s", def->examples);
}

int tfc_opt_invalid(const char *option, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	tfc_err("--%s: %s (see --help)", option, why);
	return -EINVAL;
}

int tfc_parse_choice(const char *option, const char *arg, const char *const *names, int n, int *out)
{
	char list[128] = "";

	for (int i = 0; i < n; i++) {
		if (!strcmp(arg, names[i])) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 names[i]);
	}
	return tfc_opt_invalid(option, "'%s' is not one of %s", arg, list);
}

int tfc_parse_u32(const char *option, const char *s, __u32 min, __u32 max, __u32 *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return tfc_opt_invalid(option, "'%s' is not a whole number", s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return tfc_opt_invalid(option, "'%s' is not a whole number", s);
	if (errno == ERANGE || v < min || v > max)
		return tfc_opt_invalid(option, "%s is out of range %u..%u", s, min, max);
	*out = (__u32)v;
	return 0;
}

/* getopt_long's table: the command's options, then --help and --verbose. */
static struct option *long_options(const struct tfc_cmd_def *def)
{
	size_t n = count_opts(def->opts);
	struct option *lo = calloc(n + 3, sizeof(*lo));

	if (!lo)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		lo[i].name = def->opts[i].name;
		lo[i].has_arg = def->opts[i].arg ? required_argument : no_argument;
		lo[i].val = def->opts[i].id;
	}
	lo[n].name = "help";
	lo[n].val = OPT_HELP;
	/* Also accepted before the command (main.c): where users put it is
	 * their habit, not a rule worth a usage error. */
	lo[n + 1].name = "verbose";
	lo[n + 1].val = OPT_VERBOSE;
	return lo;
}

/* One getopt_long result: ours, a usage error, or the command's own. */
static int one_option(const struct tfc_cmd_def *def, int c, char **argv, tfc_opt_handler fn,
		      void *ctx)
{
	if (c == OPT_VERBOSE) {
		tfc_log_set_level(TFC_LOG_DEBUG);
		return 0;
	}
	if (c == OPT_HELP) {
		tfc_opts_usage(stdout, def);
		return TFC_OPTS_HELP;
	}
	if (c == '?') {
		tfc_err("%s: unknown option '%s' (see 'traffic-counter %s --help')", def->name,
			argv[optind - 1], def->name);
		return -EINVAL;
	}
	if (c == ':') {
		tfc_err("%s: option '%s' needs a value (see 'traffic-counter %s --help')",
			def->name, argv[optind - 1], def->name);
		return -EINVAL;
	}
	return fn(c, optarg, ctx);
}

int tfc_opts_parse(const struct tfc_cmd_def *def, int argc, char **argv, tfc_opt_handler fn,
		   void *ctx)
{
	struct option *lo = long_options(def);
	int c, err = 0;

	if (!lo)
		return -ENOMEM;
	/* 0, not 1: also resets glibc's position inside a "-abc" cluster, so a
	 * second parse in one process starts clean. */
	optind = 0;
	opterr = 0;
	while (!err && (c = getopt_long(argc, argv, "+:hv", lo, NULL)) != -1)
		err = one_option(def, c, argv, fn, ctx);
	if (!err && optind < argc) {
		tfc_err("%s: unexpected argument '%s' (see 'traffic-counter %s --help')", def->name,
			argv[optind], def->name);
		err = -EINVAL;
	}
	free(lo);
	return err;
}

int tfc_filter_args_handle(struct tfc_addr_filter *f, int id, const char *arg, int *err)
{
	*err = 0;
	switch (id) {
	case TFC_OPT_ADDRESS:
		if (f->cidr_set)
			*err = tfc_opt_invalid("address", "give --address once");
		else if (tfc_cidr_parse(arg, f))
			*err = tfc_opt_invalid("address",
					       "'%s' is not an IPv4 or IPv6 address or prefix "
					       "(ADDR or ADDR/LEN)",
					       arg);
		return 1;
	case TFC_OPT_EXCLUDE_LL:
		f->no_link_local = 1;
		return 1;
	case TFC_OPT_EXCLUDE_MC:
		f->no_multicast = 1;
		return 1;
	default:
		return 0;
	}
}

int tfc_pin_args_handle(struct tfc_pin_args *p, int id, const char *arg)
{
	switch (id) {
	case TFC_OPT_PIN_DIR:
		p->dir = arg;
		return 1;
	case TFC_OPT_PIN:
		p->ip = arg;
		return 1;
	case TFC_OPT_FLOW_PIN:
		p->flow = arg;
		return 1;
	case TFC_OPT_CONTROL_PIN:
		p->control = arg;
		return 1;
	default:
		return 0;
	}
}

/* A '..' could lead out of bpffs after the path was checked: refused. */
static int refuse_dotdot(const char *option, const char *path)
{
	if (!path || !tfc_path_has_dotdot(path))
		return 0;
	return tfc_opt_invalid(option, "%s has a '..' component: pass the path without it", path);
}

int tfc_pin_args_resolve(const struct tfc_pin_args *p, struct tfc_pins *out)
{
	const char *dir = p->dir;
	int err;

	if (!dir) {
		const char *env = getenv("TRAFFIC_COUNTER_PIN_DIR");

		dir = env && *env ? env : NULL;
	}
	err = refuse_dotdot("pin-dir", dir) ?: refuse_dotdot("pin", p->ip) ?:
	      refuse_dotdot("flow-pin", p->flow) ?: refuse_dotdot("control-pin", p->control);
	if (err)
		return err;
	err = tfc_pins_init(out, dir, p->ip, p->flow, p->control);
	if (err)
		tfc_err("pin path too long (at most %d bytes)", PATH_MAX - 1);
	return err;
}

int tfc_iface_index(const char *ifname)
{
	unsigned int idx = ifname ? if_nametoindex(ifname) : 0;

	if (!idx) {
		tfc_err("no such interface '%s' in this network namespace: check 'ip link' "
			"(inside a namespace, run traffic-counter with 'nsenter --net=...')",
			ifname ? ifname : "");
		return -ENODEV;
	}
	return (int)idx;
}

int tfc_parse_exit(int err)
{
	if (err == TFC_OPTS_HELP)
		return TFC_EXIT_OK;
	if (err)
		return TFC_EXIT_USAGE;
	return -1;
}
