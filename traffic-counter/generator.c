// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * traffic-counter-generator: this binary under that name is a systemd
 * generator (systemd.generator(7)). The exporter and IPFIX units reach the
 * pins through a bind mount of TRAFFIC_COUNTER_PIN_DIR, which a unit file
 * cannot read from traffic-counter.conf: when the file names another
 * directory than the default, drop-ins in the generator's normal directory
 * bind that one instead. The IPFIX unit allows IP traffic with localhost
 * only: a drop-in allows IPFIX_COLLECTOR's address too. With RECORD=yes the
 * boot unit wants the record unit (a drop-in), so history starts with
 * counting; with RECORD_EVICT_IDLE the record unit runs as root with the pins
 * writable. systemd runs it
 * early at boot and on every daemon-reload. A missing or invalid file
 * writes nothing (the units keep their defaults) and exits 0: a generator
 * must not hold up boot. What it logs, one line, goes to the journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include "commands.h"
#include "config/config.h"
#include "util/hostport.h"

/* Tests only: another file than the installed one. systemd runs generators
 * with an environment of its own, so this is never set at boot. */
#define GEN_CONFIG_ENV "TRAFFIC_COUNTER_GENERATOR_CONFIG"
/* Where the units see the pins (their Environment= or --pin-dir). */
#define GEN_PIN_MOUNT	 "/run/traffic-counter-pins"
#define GEN_DROPIN	 "pin-dir.conf"
#define GEN_IPFIX_UNIT	 "traffic-counter-ipfix.service"
#define GEN_IPFIX_DROPIN "collector.conf"
/* "[Service]", the two bind lines and the comment, around the directory. */
#define GEN_BODY_MAX (2 * PATH_MAX + 256)

static const struct {
	const char *unit;
	const char *bind; /* the exporter only reads; export-ipfix deletes flows */
} bound_units[] = {
	{"traffic-counter-exporter.service", "BindReadOnlyPaths"},
	{"traffic-counter-ipfix.service", "BindPaths"},
	{"traffic-counter-record.service", "BindReadOnlyPaths"},
};

/* RECORD=yes: the boot unit wants the record unit, which orders itself after it. */
#define GEN_BOOT_UNIT	  "traffic-counter.service"
#define GEN_RECORD_DROPIN "record.conf"
#define GEN_RECORD_UNIT	  "traffic-counter-record.service"
#define GEN_EVICT_DROPIN  "evict-idle.conf"

#define glog(...) fprintf(stderr, TFC_GENERATOR_NAME ": " __VA_ARGS__)

/*
 * In a unit file ':' separates the bind's source from its target, '%'
 * starts a specifier, blanks, quotes and '\' are syntax: such a directory
 * would need escapes, and is refused instead.
 */
static int unit_safe(const char *path)
{
	return strspn(path,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+@,=") ==
	       strlen(path);
}

/* Created only if absent, never through a link: the directory is systemd's. */
static int write_dropin(const char *outdir, const char *unit, const char *name, const char *body)
{
	char path[PATH_MAX];
	int fd, n, err = 0;

	n = snprintf(path, sizeof(path), "%s/%s.d", outdir, unit);
	if (n < 0 || (size_t)n + 1 + strlen(name) >= sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	strcat(path, "/");
	strcat(path, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (dprintf(fd, "%s", body) < 0)
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* 0 when the file is valid; otherwise logged, and the units keep their
 * defaults. */
static int load_config(const char *config, struct tfc_config *cfg)
{
	int n = tfc_config_load(config, cfg);

	if (n < 0) {
		glog("cannot read %s (%s): the units keep " TFC_PIN_DIR_DEFAULT "\n", config,
		     strerror(-n));
		return n;
	}
	if (n > 0) {
		glog("%s is invalid (line %d: %s; 'traffic-counter apply --check' lists all): the "
		     "units keep " TFC_PIN_DIR_DEFAULT "\n",
		     config, cfg->errors[0].line, cfg->errors[0].msg);
		return -EINVAL;
	}
	return 0;
}

/* The file's pin directory, or NULL (logged if refused) when the units keep
 * the default. */
static const char *pin_dir_of(const char *config, const struct tfc_config *cfg)
{
	if (!cfg->pin_dir[0] || !strcmp(cfg->pin_dir, TFC_PIN_DIR_DEFAULT))
		return NULL;
	if (!unit_safe(cfg->pin_dir)) {
		glog("%s: TRAFFIC_COUNTER_PIN_DIR=%s has characters a unit file would need escaped "
		     "(allowed: letters, digits, / . _ - + @ , =): the units "
		     "keep " TFC_PIN_DIR_DEFAULT "\n",
		     config, cfg->pin_dir);
		return NULL;
	}
	return cfg->pin_dir;
}

/* The drop-ins binding DIR in the units that read the pins; 0 or
 * TFC_EXIT_FAIL (logged). */
static int write_pin_dir_dropins(const char *outdir, const char *dir, int evict)
{
	char body[GEN_BODY_MAX];
	int ret = TFC_EXIT_OK;

	for (size_t i = 0; i < sizeof(bound_units) / sizeof(bound_units[0]); i++) {
		const char *bind = bound_units[i].bind;
		int err;

		/* With eviction the record unit's bind is in its evict drop-in. */
		if (evict && !strcmp(bound_units[i].unit, GEN_RECORD_UNIT))
			continue;

		/* The empty assignment drops the unit's default bind first. */
		snprintf(body, sizeof(body),
			 "# Made by " TFC_GENERATOR_NAME " from TRAFFIC_COUNTER_PIN_DIR in\n"
			 "# traffic-counter.conf(5).\n"
			 "[Service]\n%s=\n%s=%s:" GEN_PIN_MOUNT "\n",
			 bind, bind, dir);
		err = write_dropin(outdir, bound_units[i].unit, GEN_DROPIN, body);
		if (err) {
			glog("cannot write %s/%s.d/" GEN_DROPIN ": %s\n", outdir,
			     bound_units[i].unit, strerror(-err));
			ret = TFC_EXIT_FAIL;
		}
	}
	return ret;
}

/*
 * What the IPFIX unit's IPAddressAllow= needs for IPFIX_COLLECTOR: its
 * address when it is one (in `buf`), "any" for a host name, which resolves
 * only at run time; NULL without a collector.
 */
static const char *collector_allow(const struct tfc_config *cfg, char *buf, size_t len)
{
	unsigned char addr[sizeof(struct in6_addr)];
	const char *why;
	__u16 port;

	if (!cfg->ipfix_collector[0] ||
	    tfc_hostport_split(cfg->ipfix_collector, buf, len, &port, &why))
		return NULL;
	if (inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1)
		return buf;
	return "any";
}

static int write_collector_dropin(const char *outdir, const char *allow)
{
	char body[512];
	int err;

	snprintf(body, sizeof(body),
		 "# Made by " TFC_GENERATOR_NAME " from IPFIX_COLLECTOR in\n"
		 "# traffic-counter.conf(5).\n"
		 "[Service]\nIPAddressAllow=%s\n",
		 allow);
	err = write_dropin(outdir, GEN_IPFIX_UNIT, GEN_IPFIX_DROPIN, body);
	if (!err)
		return TFC_EXIT_OK;
	glog("cannot write %s/" GEN_IPFIX_UNIT ".d/" GEN_IPFIX_DROPIN ": %s\n", outdir,
	     strerror(-err));
	return TFC_EXIT_FAIL;
}

/* Logs a drop-in that could not be written; TFC_EXIT_FAIL, or 0 for none. */
static int dropin_result(const char *outdir, const char *unit, const char *name, int err)
{
	if (!err)
		return TFC_EXIT_OK;
	glog("cannot write %s/%s.d/%s: %s\n", outdir, unit, name, strerror(-err));
	return TFC_EXIT_FAIL;
}

static int write_record_dropin(const char *outdir)
{
	int err = write_dropin(outdir, GEN_BOOT_UNIT, GEN_RECORD_DROPIN,
			       "# Made by " TFC_GENERATOR_NAME " from RECORD=yes in\n"
			       "# traffic-counter.conf(5).\n"
			       "[Unit]\nWants=" GEN_RECORD_UNIT "\n");

	return dropin_result(outdir, GEN_BOOT_UNIT, GEN_RECORD_DROPIN, err);
}

/*
 * RECORD_EVICT_IDLE deletes entries from the IP map: record needs the pins
 * writable, and they are root's (owner rights: still no capability).
 */
static int write_evict_dropin(const char *outdir, const char *dir)
{
	char body[GEN_BODY_MAX];

	snprintf(body, sizeof(body),
		 "# Made by " TFC_GENERATOR_NAME " from RECORD_EVICT_IDLE in\n"
		 "# traffic-counter.conf(5): deleting idle entries needs the pins writable.\n"
		 "[Service]\nUser=root\nGroup=root\nBindReadOnlyPaths=\n"
		 "BindPaths=%s:" GEN_PIN_MOUNT "\n",
		 dir);
	return dropin_result(outdir, GEN_RECORD_UNIT, GEN_EVICT_DROPIN,
			     write_dropin(outdir, GEN_RECORD_UNIT, GEN_EVICT_DROPIN, body));
}

int tfc_generator_main(int argc, char **argv)
{
	const char *config = getenv(GEN_CONFIG_ENV);
	char host[TFC_CONFIG_HOST_LEN];
	struct tfc_config *cfg = NULL;
	const char *dir, *allow;
	int ret = TFC_EXIT_OK, evict;

	/* normal, early and late directories: only the first is used. */
	if (argc < 2 || argv[1][0] != '/') {
		glog("usage: " TFC_GENERATOR_NAME
		     " NORMAL-DIR [EARLY-DIR LATE-DIR] (run by systemd, "
		     "systemd.generator(7))\n");
		return TFC_EXIT_USAGE;
	}
	if (!config || !config[0])
		config = TFC_CONFIG_DEFAULT;
	cfg = calloc(1, sizeof(*cfg)); /* about 30 kB */
	if (!cfg) {
		glog("out of memory\n");
		return TFC_EXIT_FAIL;
	}
	if (load_config(config, cfg))
		goto out;
	evict = cfg->record_evict_idle[0] != '\0';
	dir = pin_dir_of(config, cfg);
	if (dir)
		ret = write_pin_dir_dropins(argv[1], dir, evict);
	allow = collector_allow(cfg, host, sizeof(host));
	if (allow && write_collector_dropin(argv[1], allow))
		ret = TFC_EXIT_FAIL;
	if (cfg->record && write_record_dropin(argv[1]))
		ret = TFC_EXIT_FAIL;
	if (evict && write_evict_dropin(argv[1], dir ?: TFC_PIN_DIR_DEFAULT))
		ret = TFC_EXIT_FAIL;
out:
	free(cfg);
	return ret;
}
