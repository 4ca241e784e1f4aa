/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The subcommands. Each returns an exit code (enum tfc_exit). */
#ifndef TFC_COMMANDS_H
#define TFC_COMMANDS_H

#include <linux/types.h>

#include "export/format.h"
#include "util/names.h"
#include "opts.h"
#include "prefix_args.h"

struct tfc_command {
	const char *name;
	const struct tfc_cmd_def *def;
	int (*run)(int argc, char **argv);
};

extern const struct tfc_command tfc_commands[];

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_dump_maps(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_export_ipfix(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);

extern const struct tfc_cmd_def attach_def, detach_def, dump_maps_def, status_def, set_def,
	verify_def, serve_def, top_def, apply_def, record_def, report_def;
extern const struct tfc_cmd_def export_ipfix_def;

/* Parsed arguments, exposed so option handling is unit-tested without BPF. */
struct attach_args {
	struct tfc_pin_args pins;
	const char *iface;
	int ap;
	int xdp_mode; /* -1: not given */
	int tfc_api;  /* -1: not given */
	int count_by;
	int ip_map_type; /* -1: not given */
	__u32 ip_map_size;
	__u32 flow_map_size;
	int enable_flow;
	int migrate;
	__u32 prefix_map_size;	    /* 0: not given */
	struct tfc_prefix_args pfx; /* free with tfc_prefix_args_free */
	/* --attach-point cgroup (layout 3): */
	int cgroup;
	const char *cgroup_path; /* NULL: the cgroup v2 root */
	int cgroup_depth;	 /* -1: not given */
	__u32 cgroup_map_size;
};

struct dump_args {
	struct tfc_pin_args pins;
	enum tfc_format format;
	enum tfc_sort sort;
	__u32 top;		       /* 0: all */
	struct tfc_addr_filter filter; /* what is shown, not what is counted */
	int cgroups;		       /* --cgroups: traffic_counters_cgroup */
	const char *pods_dir;	       /* --pods-dir: the kubelet's pod directories */
};

struct detach_args {
	struct tfc_pin_args pins;
	const char *iface;
	int ap;
	int all;
	int purge;
	int if_attached;	 /* nothing to detach: a notice and exit 0 */
	int cgroup;		 /* --attach-point cgroup */
	const char *cgroup_path; /* NULL: the cgroup v2 root */
};

struct set_args {
	struct tfc_pin_args pins;
	int flow;		    /* 1 on, 0 off, -1 not given */
	struct tfc_prefix_args pfx; /* free with tfc_prefix_args_free */
};

struct status_args {
	struct tfc_pin_args pins;
	int json;
	const char *db;	      /* the history database */
	const char *pods_dir; /* --pods-dir: names of the heaviest cgroups' pods */
};

struct top_args {
	struct tfc_pin_args pins;
	double interval;  /* seconds */
	int sort;	  /* enum tfc_rate_sort */
	int flows;	  /* start with the flow view */
	int cgroups;	  /* start with the cgroup view */
	__u32 iterations; /* plain-text reports, then exit; 0: not given */
	__u32 top;	  /* plain text: rows per report, 0: all */
	int exact;
	struct tfc_addr_filter filter; /* what is shown, not what is counted */
};

struct apply_args {
	struct tfc_pin_args pins;
	const char *config;
	int check;
	int stop;
};

/* 0, TFC_OPTS_HELP, or -EINVAL after printing the usage error. */
int attach_parse(int argc, char **argv, struct attach_args *a);
int detach_parse(int argc, char **argv, struct detach_args *a);
int dump_parse(int argc, char **argv, struct dump_args *a);
int set_parse(int argc, char **argv, struct set_args *a);
int status_parse(int argc, char **argv, struct status_args *a);
int top_parse(int argc, char **argv, struct top_args *a);
int apply_parse(int argc, char **argv, struct apply_args *a);

#define TFC_MAX_MAP_ENTRIES (1U << 24)

/* The binary under this name is a systemd generator (generator.c). */
#define TFC_GENERATOR_NAME "traffic-counter-generator"
int tfc_generator_main(int argc, char **argv);

#endif /* TFC_COMMANDS_H */
