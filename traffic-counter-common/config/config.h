/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The configuration file of `traffic-counter apply` and of the boot unit:
 * KEY=VALUE lines, in the subset of systemd's EnvironmentFile syntax that a
 * POSIX shell reads the same way, so one file serves systemd, scripts and
 * traffic-counter. Every error names its line. Format: traffic-counter.conf(5).
 */
#ifndef TFC_CONFIG_H
#define TFC_CONFIG_H

#include <limits.h>
#include <stdio.h>
#include <net/if.h>
#include <linux/types.h>

#include "util/names.h"

#ifndef TFC_SYSCONFDIR
#define TFC_SYSCONFDIR "/etc" /* the Makefile's SYSCONFDIR */
#endif
#define TFC_CONFIG_DEFAULT    TFC_SYSCONFDIR "/traffic-counter/traffic-counter.conf"
#define TFC_CONFIG_MAX_ATTACH 64
#define TFC_CONFIG_MAX_LINE   4096
/* A real file is a few hundred bytes: anything near this is not one. */
#define TFC_CONFIG_MAX_SIZE   (1 << 20)
#define TFC_CONFIG_MAX_ERRORS 16
#define TFC_CONFIG_GROUP_LEN  64
#define TFC_CONFIG_HOST_LEN   256

struct tfc_config_attach {
	char ifname[IF_NAMESIZE];
	enum tfc_attach_point ap;
	int mode; /* enum tfc_xdp_mode for xdp, enum tfc_tc_api for tc; -1: default */
};

struct tfc_config_error {
	int line;      /* 0: about the file as a whole */
	char msg[640]; /* room for the list of known keys */
};

struct tfc_config {
	struct tfc_config_attach attach[TFC_CONFIG_MAX_ATTACH];
	size_t n_attach;
	char pin_dir[PATH_MAX]; /* empty: not set */
	char pin_group[TFC_CONFIG_GROUP_LEN];
	enum tfc_count_by count_by;
	__u32 ip_map_size; /* 0: not set */
	__u32 flow_map_size;
	int flow_map; /* 1 on, 0 off, -1 leave as it is */
	int detach_on_stop;
	int purge_on_stop;
	int migrate; /* attach --migrate */
	/* Layout 3: attach --prefix-map-size, --overflow-prefix, --aggregate. */
	__u32 prefix_map_size; /* 0: not set */
	int overflow_set;
	__u8 overflow_v4, overflow_v6;
	char aggregate[TFC_CONFIG_MAX_LINE]; /* CIDR=LEN,...; "none"; empty: not set */
	/* export-ipfix --config; the unit traffic-counter-ipfix.service. */
	char ipfix_collector[TFC_CONFIG_HOST_LEN + 8]; /* HOST:PORT; empty: not set */
	int ipfix_transport;			       /* 0 udp, 1 tcp, -1 not set */
	__u32 ipfix_interval;			       /* seconds; 0: not set */
	/* record --config; RECORD=yes makes the boot unit want the record unit. */
	int record;
	char record_db[PATH_MAX]; /* empty: not set */
	__u32 record_interval;	  /* seconds; 0: not set */
	__u32 record_save_interval;
	long long record_max_addresses; /* -1: not set */
	char record_evict_idle[16];	/* a duration; empty: not set */
	/* CGROUP=yes: apply attaches at a cgroup too (attach --attach-point cgroup). */
	int cgroup;
	char cgroup_path[PATH_MAX]; /* --cgroup; empty: the v2 root */
	int cgroup_depth;	    /* --cgroup-depth; -1: not set */
	__u32 cgroup_map_size;	    /* 0: not set */
	/* The line of each key, for errors found later (apply). */
	int line_attach, line_pin_group;
	struct tfc_config_error errors[TFC_CONFIG_MAX_ERRORS];
	int n_errors; /* may exceed TFC_CONFIG_MAX_ERRORS: only the first are kept */
};

/*
 * Reads a whole file, collecting every error rather than stopping at the
 * first, so one check shows everything to fix. At most
 * TFC_CONFIG_MAX_SIZE bytes are read, and a line's first
 * TFC_CONFIG_MAX_LINE kept: memory is bounded whatever the stream holds. Returns the number of
 * errors (0: valid) or a negative errno when the stream cannot be read.
 */
int tfc_config_parse(FILE *f, struct tfc_config *cfg);

/*
 * tfc_config_parse on a path; -errno when it cannot be opened, -EISDIR for
 * a directory, -EPERM (logged: what is wrong, and the chown or chmod that
 * fixes it) for a file that is not regular, not owned by root or by us,
 * writable by group or others, or larger than TFC_CONFIG_MAX_SIZE.
 */
int tfc_config_load(const char *path, struct tfc_config *cfg);

/* Writes "PATH:LINE: message" per error, one a line (PATH: without a line). */
void tfc_config_print_errors(FILE *f, const char *path, const struct tfc_config *cfg);

/*
 * A command's --config FILE, checked whole as apply checks it: the values
 * (free() them), or NULL once the reason, or each bad line, is printed.
 */
struct tfc_config *tfc_config_for_command(const char *path);

/* "eth0:xdp", "eth0:xdp:skb", "eth1:tc-egress:netlink" */
const char *tfc_config_attach_str(const struct tfc_config_attach *a, char *buf, size_t len);

#endif /* TFC_CONFIG_H */
