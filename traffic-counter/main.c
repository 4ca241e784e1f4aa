// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* traffic-counter: per-IP and per-flow traffic accounting in the kernel. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util/log.h"

const struct tfc_command tfc_commands[] = {
	{"attach", &attach_def, cmd_attach},
	{"detach", &detach_def, cmd_detach},
	{"dump-maps", &dump_maps_def, cmd_dump_maps},
	{"status", &status_def, cmd_status},
	{"set", &set_def, cmd_set},
	{"verify", &verify_def, cmd_verify},
	{"serve", &serve_def, cmd_serve},
	{"export-ipfix", &export_ipfix_def, cmd_export_ipfix},
	{"top", &top_def, cmd_top},
	{"apply", &apply_def, cmd_apply},
	{"record", &record_def, cmd_record},
	{"report", &report_def, cmd_report},
	{NULL, NULL, NULL},
};

/* A summary's first clause, on one line: the command list's one-liner. */
static const char *first_clause(const char *summary, char *buf, size_t len)
{
	static const char *const ends[] = {". ", ".\n", ": ", "; ", " ("};
	size_t n = strlen(summary);

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		const char *e = strstr(summary, ends[i]);

		if (e && (size_t)(e - summary) < n)
			n = (size_t)(e - summary);
	}
	snprintf(buf, len, "%.*s", (int)n, summary);
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return buf;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: traffic-counter [-v] COMMAND [OPTIONS]\n\n"
		   "Count bytes and packets per IP address and per flow in the kernel (XDP or\n"
		   "tc), in pinned BPF maps that outlive this program.\n\nCommands:\n");
	for (const struct tfc_command *c = tfc_commands; c->name; c++) {
		char brief[160];

		fprintf(f, "  %-13s %s\n", c->name,
			first_clause(c->def->summary, brief, sizeof(brief)));
	}
	fprintf(f, "\nGlobal options:\n"
		   "  -v, --verbose  show libbpf's and the verifier's messages\n"
		   "  --version      print the version and exit\n"
		   "  -h, --help     show this help; 'traffic-counter COMMAND --help' for a "
		   "command\n");
}

static int run_command(const char *name, int argc, char **argv)
{
	for (const struct tfc_command *c = tfc_commands; c->name; c++)
		if (!strcmp(name, c->name))
			return c->run(argc, argv);
	tfc_err("unknown command '%s' (see 'traffic-counter --help')", name);
	return TFC_EXIT_USAGE;
}

/* argv[0] without its directory. */
static const char *program_name(int argc, char **argv)
{
	const char *slash;

	if (argc < 1 || !argv[0])
		return "";
	slash = strrchr(argv[0], '/');
	return slash ? slash + 1 : argv[0];
}

int main(int argc, char **argv)
{
	int i = 1;

	/* Installed as a symlink in system-generators/: systemd's arguments, not ours. */
	if (!strcmp(program_name(argc, argv), TFC_GENERATOR_NAME))
		return tfc_generator_main(argc, argv);

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			tfc_log_set_level(TFC_LOG_DEBUG);
		} else if (!strcmp(argv[i], "--version")) {
			printf("traffic-counter %s\n", TFC_VERSION);
			return TFC_EXIT_OK;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return TFC_EXIT_OK;
		} else {
			tfc_err("unknown option '%s' (see 'traffic-counter --help')", argv[i]);
			return TFC_EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return TFC_EXIT_USAGE;
	}
	tfc_log_setup_libbpf();
	if (!strcmp(argv[i], "help")) {
		if (i + 1 == argc) {
			usage(stdout);
			return TFC_EXIT_OK;
		}
		return run_command(argv[i + 1], 2, (char *[]){argv[i + 1], "--help", NULL});
	}
	return run_command(argv[i], argc - i, argv + i);
}
