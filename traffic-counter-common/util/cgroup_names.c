// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "cgroup_names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/*
 * A mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE
 * SOURCE SUPER_OPTS". The mount point is field 5, the type follows " - ".
 * Octal escapes (\040 for a space) are left as they are: a cgroup2 mount
 * point with a space in it is not one we can name anyway.
 */
static int mountinfo_cgroup2(const char *line, char *buf, size_t len)
{
	const char *sep = strstr(line, " - ");
	char point[4096];

	if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
		return -ENOENT;
	if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
		return -ENOENT;
	if (snprintf(buf, len, "%s", point) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int tfc_cgroup2_mount(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err == -ENOENT && getline(&line, &cap, f) > 0)
		err = mountinfo_cgroup2(line, buf, len);
	free(line);
	fclose(f);
	return err;
}

long long tfc_cgroup_id(const char *path)
{
	struct statfs fs;
	struct stat st;

	if (statfs(path, &fs))
		return -errno;
	if (fs.f_type != CGROUP2_SUPER_MAGIC)
		return -EMEDIUMTYPE;
	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return (long long)st.st_ino;
}
