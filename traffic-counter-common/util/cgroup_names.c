// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "cgroup_names.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

/* ------------------------------------------------------------ paths -- */

static int is_hex(const char *s, size_t len)
{
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A pod UID as kubepods paths write it: hex and dashes (or underscores). */
static int is_pod_uid(const char *s, size_t len, char sep)
{
	if (len < 8 || len >= sizeof(((struct tfc_cgroup_name *)0)->pod_uid))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != sep && (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])))
			return 0;
	return 1;
}

static int has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

static void set_field(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/*
 * Container ids in unit names: "<prefix><hex id>.scope". conmon scopes are
 * the runtime's monitor of that container: counted under its id too.
 */
static const char *const scope_prefixes[] = {
	"docker-", "cri-containerd-", "crio-conmon-", "crio-", "libpod-conmon-", "libpod-",
};

static int scope_container(const char *c, size_t len, struct tfc_cgroup_name *out)
{
	if (!has_suffix(c, len, ".scope"))
		return 0;
	len -= strlen(".scope");
	for (size_t i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
		size_t p = strlen(scope_prefixes[i]);

		if (len > p && !memcmp(c, scope_prefixes[i], p) && is_hex(c + p, len - p)) {
			set_field(out->container, sizeof(out->container), c + p, len - p);
			return 1;
		}
	}
	return 0;
}

/* "kubepods[-CLASS]-pod<uid, '_' for '-'>.slice" (systemd cgroup driver). */
static int slice_pod(const char *c, size_t len, struct tfc_cgroup_name *out)
{
	const char *pod;
	size_t n;

	if (strncmp(c, "kubepods-", 9) || !has_suffix(c, len, ".slice"))
		return 0;
	pod = memmem(c, len, "-pod", 4);
	if (!pod)
		return 0;
	pod += 4;
	n = (size_t)(c + len - strlen(".slice") - pod);
	if (!is_pod_uid(pod, n, '_'))
		return 0;
	set_field(out->pod_uid, sizeof(out->pod_uid), pod, n);
	for (char *p = out->pod_uid; *p; p++)
		if (*p == '_')
			*p = '-';
	return 1;
}

struct path_walk {
	int in_kubepods; /* under kubepods* (either driver) */
	int after_pod;	 /* the component before was a cgroupfs pod<uid> */
	int after_docker;
};

/* One path component, outermost first: later (inner) matches win. */
static void parse_component(const char *c, size_t len, struct path_walk *w,
			    struct tfc_cgroup_name *out)
{
	int was_pod = w->after_pod, was_docker = w->after_docker;

	w->after_pod = w->after_docker = 0;
	if (has_suffix(c, len, ".service") || has_suffix(c, len, ".scope"))
		set_field(out->unit, sizeof(out->unit), c, len);
	if (scope_container(c, len, out))
		return;
	if ((len == 8 && !memcmp(c, "kubepods", 8)) || !strncmp(c, "kubepods-", 9) ||
	    !strncmp(c, "kubepods.", 9))
		w->in_kubepods = 1;
	if (w->in_kubepods && slice_pod(c, len, out))
		return;
	/* cgroupfs driver: /kubepods[/CLASS]/pod<uid>/<container id> */
	if (w->in_kubepods && len > 3 && !memcmp(c, "pod", 3) && is_pod_uid(c + 3, len - 3, '-')) {
		set_field(out->pod_uid, sizeof(out->pod_uid), c + 3, len - 3);
		w->after_pod = 1;
		return;
	}
	if ((was_pod && is_hex(c, len)) || (was_docker && len == 64 && is_hex(c, len))) {
		set_field(out->container, sizeof(out->container), c, len);
		return;
	}
	w->after_docker = len == 6 && !memcmp(c, "docker", 6);
}

void tfc_cgroup_parse_path(struct tfc_cgroup_name *out)
{
	struct path_walk w = {0};
	const char *p = out->path;

	out->unit[0] = out->container[0] = out->pod_uid[0] = '\0';
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len)
			parse_component(p, len, &w, out);
		p += len;
		p += *p == '/';
	}
}

/* ------------------------------------------------------------- pods -- */

struct pod {
	char *ns, *name, *uid; /* one allocation: ns, then name, then uid */
};

/* "NAMESPACE_NAME_UID": neither a namespace nor a pod name has a '_'. */
static int pod_parse(const char *entry, struct pod *p)
{
	const char *first = strchr(entry, '_'), *last = strrchr(entry, '_');
	char *s;

	if (!first || first == last || first == entry || last - first < 2 || !last[1])
		return -EINVAL;
	s = strdup(entry);
	if (!s)
		return -ENOMEM;
	p->ns = s;
	s[first - entry] = '\0';
	p->name = s + (first - entry) + 1;
	s[last - entry] = '\0';
	p->uid = s + (last - entry) + 1;
	return 0;
}

/* ------------------------------------------------------------ cache -- */

struct cg_entry {
	__u64 id;
	char *path;
	int gone;
};

struct cg_list {
	struct cg_entry *e;
	size_t n, cap;
};

struct tfc_cgroup_names {
	char mount[PATH_MAX];
	char pods_dir[PATH_MAX];
	struct cg_list cache; /* sorted by id */
	struct pod *pods;
	size_t npods;
	__u64 last_walk_ns;
	int walked;
	struct tfc_cgroup_name out;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static int list_add(struct cg_list *l, __u64 id, char *path, int gone)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct cg_entry *e = realloc(l->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		l->e = e;
		l->cap = cap;
	}
	l->e[l->n++] = (struct cg_entry){id, path, gone};
	return 0;
}

static void list_free(struct cg_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].path);
	free(l->e);
	*l = (struct cg_list){0};
}

static int cmp_entry(const void *a, const void *b)
{
	__u64 x = ((const struct cg_entry *)a)->id, y = ((const struct cg_entry *)b)->id;

	return x < y ? -1 : x > y;
}

struct walk {
	struct cg_list found;
	int truncated; /* stopped at a bound: what was not seen is not gone */
};

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *s = malloc(a + b + 2);

	if (!s)
		return NULL;
	memcpy(s, dir, a);
	s[a] = '/';
	memcpy(s + a + 1, name, b + 1);
	if (a == 1) /* the root is "/": no "//" */
		memmove(s + 1, s + 2, b + 1);
	return s;
}

static int walk_dir(struct walk *w, int dfd, const char *path, int depth);

/* One entry of a directory: a subdirectory is a child cgroup. */
static int walk_entry(struct walk *w, int dfd, const char *path, const char *name, int depth)
{
	struct stat st;
	char *child;
	int fd, err;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode))
		return 0; /* removed meanwhile, or a control file */
	if (w->found.n >= TFC_CGROUP_WALK_MAX || depth >= TFC_CGROUP_WALK_DEPTH) {
		w->truncated = 1;
		return 0;
	}
	child = join(path, name);
	if (!child)
		return -ENOMEM;
	err = list_add(&w->found, (__u64)st.st_ino, child, 0);
	if (err) {
		free(child);
		return err;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0; /* removed meanwhile, or not ours to read: named, not entered */
	return walk_dir(w, fd, child, depth + 1);
}

/* Takes dfd (closed here). */
static int walk_dir(struct walk *w, int dfd, const char *path, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int err = 0;

	if (!d) {
		close(dfd);
		return 0;
	}
	while (!err && (de = readdir(d))) {
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue; /* control files: most of a cgroup directory */
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		err = walk_entry(w, dirfd(d), path, de->d_name, depth);
	}
	closedir(d);
	return err;
}

static int walk_tree(const char *mount, struct walk *w)
{
	struct stat st;
	char *root;
	int fd, err;

	fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	root = strdup("/");
	err = root ? list_add(&w->found, (__u64)st.st_ino, root, 0) : -ENOMEM;
	if (err) {
		free(root);
		close(fd);
		return err;
	}
	return walk_dir(w, fd, "/", 0);
}

/*
 * The new walk's entries, plus the cache's entries it did not see, kept
 * with gone = 1 (unless the walk stopped at a bound). Takes both lists.
 */
static int merge_walk(struct cg_list *cache, struct walk *w)
{
	struct cg_list *found = &w->found;
	size_t i = 0;
	int err = 0;

	qsort(found->e, found->n, sizeof(*found->e), cmp_entry);
	for (size_t j = 0; j < cache->n; j++) {
		struct cg_entry *old = &cache->e[j];
		int seen = bsearch(old, found->e, found->n, sizeof(*found->e), cmp_entry) != NULL;

		if (seen || err || found->n >= TFC_CGROUP_CACHE_MAX) {
			free(old->path);
			continue;
		}
		err = list_add(found, old->id, old->path, !w->truncated || old->gone);
		if (err)
			free(old->path);
		i++;
	}
	free(cache->e);
	*cache = *found;
	if (i)
		qsort(cache->e, cache->n, sizeof(*cache->e), cmp_entry);
	w->found = (struct cg_list){0};
	return err;
}

static void pods_free(struct tfc_cgroup_names *n)
{
	for (size_t i = 0; i < n->npods; i++)
		free(n->pods[i].ns);
	free(n->pods);
	n->pods = NULL;
	n->npods = 0;
}

/* The kubelet's pod directories, read once per walk; none is no error. */
static void pods_read(struct tfc_cgroup_names *n)
{
	DIR *d = opendir(n->pods_dir);
	struct dirent *de;
	size_t cap = 0;

	pods_free(n);
	if (!d)
		return;
	while ((de = readdir(d)) && n->npods < TFC_CGROUP_PODS_MAX) {
		struct pod p;

		if (pod_parse(de->d_name, &p))
			continue;
		if (n->npods == cap) {
			size_t c = cap ? 2 * cap : 64;
			struct pod *np = realloc(n->pods, c * sizeof(*np));

			if (!np) {
				free(p.ns);
				break;
			}
			n->pods = np;
			cap = c;
		}
		n->pods[n->npods++] = p;
	}
	closedir(d);
}

int tfc_cgroup_names_refresh(struct tfc_cgroup_names *n)
{
	struct walk w = {0};
	int err;

	n->last_walk_ns = now_ns();
	n->walked = 1;
	err = walk_tree(n->mount, &w);
	if (!err)
		err = merge_walk(&n->cache, &w);
	list_free(&w.found);
	pods_read(n);
	return err;
}

struct tfc_cgroup_names *tfc_cgroup_names_new(const char *mount, const char *pods_dir)
{
	struct tfc_cgroup_names *n = calloc(1, sizeof(*n));
	int err = n ? 0 : -ENOMEM;

	if (!err && mount)
		err = snprintf(n->mount, sizeof(n->mount), "%s", mount) >= (int)sizeof(n->mount)
			      ? -ENAMETOOLONG
			      : 0;
	else if (!err)
		err = tfc_cgroup2_mount(n->mount, sizeof(n->mount));
	if (!err &&
	    snprintf(n->pods_dir, sizeof(n->pods_dir), "%s",
		     pods_dir ? pods_dir : TFC_PODS_DIR_DEFAULT) >= (int)sizeof(n->pods_dir))
		err = -ENAMETOOLONG;
	if (!err)
		err = tfc_cgroup_names_refresh(n);
	if (err) {
		tfc_cgroup_names_free(n);
		errno = -err;
		return NULL;
	}
	return n;
}

void tfc_cgroup_names_free(struct tfc_cgroup_names *n)
{
	if (!n)
		return;
	list_free(&n->cache);
	pods_free(n);
	free(n);
}

const char *tfc_cgroup_names_mount(const struct tfc_cgroup_names *n)
{
	return n->mount;
}

static const struct cg_entry *cache_find(const struct tfc_cgroup_names *n, __u64 id)
{
	struct cg_entry key = {.id = id};

	return bsearch(&key, n->cache.e, n->cache.n, sizeof(key), cmp_entry);
}

static void name_pod(const struct tfc_cgroup_names *n, struct tfc_cgroup_name *out)
{
	out->pod_namespace[0] = out->pod_name[0] = '\0';
	if (!out->pod_uid[0])
		return;
	for (size_t i = 0; i < n->npods; i++) {
		if (strcmp(n->pods[i].uid, out->pod_uid))
			continue;
		set_field(out->pod_namespace, sizeof(out->pod_namespace), n->pods[i].ns,
			  strlen(n->pods[i].ns));
		set_field(out->pod_name, sizeof(out->pod_name), n->pods[i].name,
			  strlen(n->pods[i].name));
		return;
	}
}

const struct tfc_cgroup_name *tfc_cgroup_name(struct tfc_cgroup_names *n, __u64 id)
{
	const struct cg_entry *e = cache_find(n, id);

	/* One walk a second at most, whatever the number of unknown ids. */
	if (!e && (!n->walked || now_ns() - n->last_walk_ns >= TFC_CGROUP_WALK_INTERVAL_NS)) {
		if (tfc_cgroup_names_refresh(n))
			return NULL;
		e = cache_find(n, id);
	}
	if (!e)
		return NULL;
	set_field(n->out.path, sizeof(n->out.path), e->path, strlen(e->path));
	tfc_cgroup_parse_path(&n->out);
	name_pod(n, &n->out);
	n->out.gone = e->gone;
	return &n->out;
}
