/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Declarative command-line options: each command lists its options once,
 * and parsing, --help and error messages all come from that table.
 */
#ifndef TFC_OPTS_H
#define TFC_OPTS_H

#include <stdio.h>
#include <linux/types.h>

#include "maps/pins.h"

enum tfc_exit {
	TFC_EXIT_OK = 0,
	TFC_EXIT_FAIL = 1,
	TFC_EXIT_USAGE = 2,
};

/* Returned by tfc_opts_parse when --help was printed: exit 0. */
#define TFC_OPTS_HELP 1

struct tfc_opt {
	const char *name; /* long option, without "--" */
	const char *arg;  /* metavar, or NULL for a flag */
	const char *help;
	int id; /* passed to the command's handler; > 0 */
};

struct tfc_cmd_def {
	const char *name;
	const char *summary;
	const struct tfc_opt *opts; /* terminated by an entry with name NULL */
	const char *examples;	    /* may be NULL */
};

/*
 * The handler gets each option's id and argument. It returns 0, or -EINVAL
 * after logging what is wrong with the value (a usage error).
 */
typedef int (*tfc_opt_handler)(int id, const char *arg, void *ctx);

/* 0, TFC_OPTS_HELP, or -EINVAL (message printed: exit TFC_EXIT_USAGE). */
int tfc_opts_parse(const struct tfc_cmd_def *def, int argc, char **argv, tfc_opt_handler fn,
		   void *ctx);
void tfc_opts_usage(FILE *f, const struct tfc_cmd_def *def);

/* Maps the result of tfc_opts_parse (or a command's *_parse) to an exit
 * code, or -1 to go on. */
int tfc_parse_exit(int err);

/* Logs "<option>: <why>" and returns -EINVAL; for handlers. */
int tfc_opt_invalid(const char *option, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* arg as the index of one of n names; 0 or -EINVAL after logging. */
int tfc_parse_choice(const char *option, const char *arg, const char *const *names, int n,
		     int *out);

/* Whole decimal number in [min, max]; 0 or -EINVAL after logging. */
int tfc_parse_u32(const char *option, const char *s, __u32 min, __u32 max, __u32 *out);

/* The pin options every command takes. */
struct tfc_pin_args {
	const char *dir;
	const char *ip;
	const char *flow;
	const char *control;
};

enum {
	TFC_OPT_PIN_DIR = 1000,
	TFC_OPT_PIN,
	TFC_OPT_FLOW_PIN,
	TFC_OPT_CONTROL_PIN,
};

#define TFC_PIN_OPTIONS                                                                            \
	{"pin-dir", "DIR",                                                                         \
	 "directory of the pinned maps and links (default " TFC_PIN_DIR_DEFAULT                    \
	 ", or $TRAFFIC_COUNTER_PIN_DIR)",                                                         \
	 TFC_OPT_PIN_DIR},                                                                         \
		{"pin", "PATH", "pin of the IP map (default DIR/" TFC_IP_MAP_NAME ")",             \
		 TFC_OPT_PIN},                                                                     \
		{"flow-pin", "PATH", "pin of the flow map (default DIR/" TFC_FLOW_MAP_NAME ")",    \
		 TFC_OPT_FLOW_PIN},                                                                \
	{                                                                                          \
		"control-pin", "PATH",                                                             \
			"pin of the control map (default DIR/" TFC_CONTROL_MAP_NAME ")",           \
			TFC_OPT_CONTROL_PIN                                                        \
	}

/* The display filters of dump-maps and top (struct tfc_addr_filter). */
enum {
	TFC_OPT_ADDRESS = 1100,
	TFC_OPT_EXCLUDE_LL,
	TFC_OPT_EXCLUDE_MC,
};

#define TFC_FILTER_OPTIONS                                                                         \
	{"address", "CIDR",                                                                        \
	 "show only entries under this IPv4 or IPv6 address or prefix (flows: source or "          \
	 "destination); a display filter, counting is unchanged",                                  \
	 TFC_OPT_ADDRESS},                                                                         \
		{"exclude-link-local", NULL,                                                       \
		 "hide link-local addresses (fe80::/10, 169.254.0.0/16)", TFC_OPT_EXCLUDE_LL},     \
	{                                                                                          \
		"exclude-multicast", NULL, "hide multicast addresses (ff00::/8, 224.0.0.0/4)",     \
			TFC_OPT_EXCLUDE_MC                                                         \
	}

struct tfc_addr_filter;
/*
 * Handles the TFC_OPT_ADDRESS/EXCLUDE ids: 1 if it was one of them (*err set
 * to 0 or the option error), 0 if not.
 */
int tfc_filter_args_handle(struct tfc_addr_filter *f, int id, const char *arg, int *err);

/* Handles the TFC_OPT_PIN* ids: 1 if it was one of them, 0 if not. */
int tfc_pin_args_handle(struct tfc_pin_args *p, int id, const char *arg);
/* Resolves the pins (env default, overrides). 0 or -errno after logging. */
int tfc_pin_args_resolve(const struct tfc_pin_args *p, struct tfc_pins *out);

/* Interface name to ifindex; logs "no such interface" and returns -ENODEV. */
int tfc_iface_index(const char *ifname);

#endif /* TFC_OPTS_H */
