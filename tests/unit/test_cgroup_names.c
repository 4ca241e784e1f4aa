// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Cgroup ids to names (util/cgroup_names.c): what real paths of each
 * runtime say (systemd, docker, containerd, cri-o, podman, both kubelet
 * cgroup drivers), and the cache over a fake tree: a temp dir as the mount
 * (ids are its inodes) and a fake pods dir, both passed as arguments.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "unit.h"
#include "util/cgroup_names.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID   "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
#define UID_  "0a1b2c3d_4e5f_6789_abcd_ef0123456789"

struct path_case {
	const char *path, *unit, *container, *pod_uid;
};

static void check_path(const struct path_case *c)
{
	struct tfc_cgroup_name n;

	memset(&n, 0x55, sizeof(n)); /* the parser must clear what it does not set */
	snprintf(n.path, sizeof(n.path), "%s", c->path);
	tfc_cgroup_parse_path(&n);
	print_message("%s\n", c->path);
	assert_string_equal(n.unit, c->unit);
	assert_string_equal(n.container, c->container);
	assert_string_equal(n.pod_uid, c->pod_uid);
}

static void test_parse_runtimes(void **state)
{
	static const struct path_case cases[] = {
		{"/", "", "", ""},
		{"/system.slice/nginx.service", "nginx.service", "", ""},
		{"/user.slice/user-1000.slice/session-3.scope", "session-3.scope", "", ""},
		/* the innermost unit: a service's own sub-cgroup */
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/foot.scope", "foot.scope",
		 "", ""},
		{"/system.slice/docker.service", "docker.service", "", ""},
		/* docker, systemd and cgroupfs drivers */
		{"/system.slice/docker-" HEX64 ".scope", "docker-" HEX64 ".scope", HEX64, ""},
		{"/docker/" HEX64, "", HEX64, ""},
		/* podman, rootless under the user's manager, and its conmon */
		{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" HEX64 ".scope",
		 "libpod-" HEX64 ".scope", HEX64, ""},
		{"/machine.slice/libpod-conmon-" HEX64 ".scope", "libpod-conmon-" HEX64 ".scope",
		 HEX64, ""},
		/* Kubernetes, systemd driver: burstable, besteffort, guaranteed */
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
		 ".slice/cri-containerd-" HEX64 ".scope",
		 "cri-containerd-" HEX64 ".scope", HEX64, UID},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
		 ".slice/crio-" HEX64 ".scope",
		 "crio-" HEX64 ".scope", HEX64, UID},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
		 ".slice/crio-conmon-" HEX64 ".scope",
		 "crio-conmon-" HEX64 ".scope", HEX64, UID},
		{"/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" HEX64 ".scope",
		 "cri-containerd-" HEX64 ".scope", HEX64, UID},
		/* the pod's own cgroup, no container below it */
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice",
		 "", "", UID},
		/* Kubernetes, cgroupfs driver */
		{"/kubepods/burstable/pod" UID "/" HEX64, "", HEX64, UID},
		{"/kubepods/besteffort/pod" UID "/" HEX64, "", HEX64, UID},
		{"/kubepods/pod" UID "/" HEX64, "", HEX64, UID},
		/* look-alikes that are none of these */
		{"/docker/abc123", "", "", ""},
		{"/system.slice/docker-XYZ.scope", "docker-XYZ.scope", "", ""},
		{"/pod" UID "/" HEX64, "", "", ""},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podnot_a_uid!.slice",
		 "", "", ""},
		{"/system.slice/foo.service.d", "", "", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_path(&cases[i]);
}

/* A fake cgroup mount and pods dir in one temp dir. */
struct fake {
	char root[64];
	char mount[128];
	char pods[128];
};

static void fake_mkdir(const struct fake *f, const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", f->mount, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static __u64 fake_id(const struct fake *f, const char *rel)
{
	struct stat st;
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", f->mount, rel);
	assert_int_equal(stat(p, &st), 0);
	return (__u64)st.st_ino;
}

#define POD_SLICE "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice"
#define CTR_SCOPE POD_SLICE "/cri-containerd-" HEX64 ".scope"

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	char p[512];

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/tfc-cgn-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->mount, sizeof(f->mount), "%s/cg", f->root);
	snprintf(f->pods, sizeof(f->pods), "%s/pods", f->root);
	assert_int_equal(mkdir(f->mount, 0755), 0);
	assert_int_equal(mkdir(f->pods, 0755), 0);
	fake_mkdir(f, "system.slice");
	fake_mkdir(f, "system.slice/x.service");
	fake_mkdir(f, "kubepods.slice");
	fake_mkdir(f, "kubepods.slice/kubepods-besteffort.slice");
	fake_mkdir(f, POD_SLICE);
	fake_mkdir(f, CTR_SCOPE);
	snprintf(p, sizeof(p), "%s/shop_web-0_%s", f->pods, UID);
	assert_int_equal(mkdir(p, 0755), 0);
	/* another pod, and names that are not NAMESPACE_NAME_UID */
	snprintf(p, sizeof(p), "%s/shop_db-0_11111111-2222-3333-4444-555555555555", f->pods);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/junk", f->pods);
	assert_int_equal(mkdir(p, 0755), 0);
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_fake_tree_names(void **state)
{
	struct fake *f = *state;
	struct tfc_cgroup_names *n = tfc_cgroup_names_new(f->mount, f->pods);
	const struct tfc_cgroup_name *c;
	struct stat st;

	assert_non_null(n);
	assert_string_equal(tfc_cgroup_names_mount(n), f->mount);
	assert_int_equal(stat(f->mount, &st), 0);
	c = tfc_cgroup_name(n, (__u64)st.st_ino);
	assert_non_null(c);
	assert_string_equal(c->path, "/");
	assert_int_equal(c->gone, 0);

	c = tfc_cgroup_name(n, fake_id(f, "system.slice/x.service"));
	assert_non_null(c);
	assert_string_equal(c->path, "/system.slice/x.service");
	assert_string_equal(c->unit, "x.service");
	assert_string_equal(c->container, "");
	assert_string_equal(c->pod_uid, "");
	assert_string_equal(c->pod_namespace, "");

	c = tfc_cgroup_name(n, fake_id(f, CTR_SCOPE));
	assert_non_null(c);
	assert_string_equal(c->path, "/" CTR_SCOPE);
	assert_string_equal(c->unit, "cri-containerd-" HEX64 ".scope");
	assert_string_equal(c->container, HEX64);
	assert_string_equal(c->pod_uid, UID);
	assert_string_equal(c->pod_namespace, "shop");
	assert_string_equal(c->pod_name, "web-0");

	c = tfc_cgroup_name(n, fake_id(f, POD_SLICE));
	assert_non_null(c);
	assert_string_equal(c->pod_name, "web-0");
	assert_string_equal(c->container, "");
	tfc_cgroup_names_free(n);
}

/* A pod with no directory in pods_dir, and no pods dir at all: the UID alone. */
static void test_fake_tree_no_pods_dir(void **state)
{
	struct fake *f = *state;
	char none[256];
	struct tfc_cgroup_names *n;
	const struct tfc_cgroup_name *c;

	snprintf(none, sizeof(none), "%s/no-such-dir", f->root);
	n = tfc_cgroup_names_new(f->mount, none);
	assert_non_null(n);
	c = tfc_cgroup_name(n, fake_id(f, CTR_SCOPE));
	assert_non_null(c);
	assert_string_equal(c->pod_uid, UID);
	assert_string_equal(c->pod_namespace, "");
	assert_string_equal(c->pod_name, "");
	tfc_cgroup_names_free(n);
}

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * A removed directory keeps its name, marked gone; a new one is found by
 * the next walk, and an unknown id walks at most once a second. New
 * directories are made before the removal: a disk file system may give a
 * removed directory's inode to the next one (cgroupfs ids are not reused).
 */
static void test_fake_tree_gone_and_new(void **state)
{
	struct fake *f = *state;
	struct tfc_cgroup_names *n;
	const struct tfc_cgroup_name *c;
	struct timespec t0;
	char p[1024];
	__u64 svc = fake_id(f, "system.slice/x.service"), fresh;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = tfc_cgroup_names_new(f->mount, f->pods);
	assert_non_null(n);
	fake_mkdir(f, "system.slice/y.service");
	fresh = fake_id(f, "system.slice/y.service");
	snprintf(p, sizeof(p), "%s/system.slice/x.service", f->mount);
	assert_int_equal(rmdir(p), 0);

	/* Known: no walk, so not yet seen gone. */
	c = tfc_cgroup_name(n, svc);
	assert_non_null(c);
	assert_int_equal(c->gone, 0);
	/* Unknown, less than a second after the last walk: no new walk. */
	c = tfc_cgroup_name(n, fresh);
	if (since(&t0) < 0.9)
		assert_null(c);

	assert_int_equal(tfc_cgroup_names_refresh(n), 0);
	c = tfc_cgroup_name(n, svc);
	assert_non_null(c);
	assert_int_equal(c->gone, 1);
	assert_string_equal(c->path, "/system.slice/x.service");
	assert_string_equal(c->unit, "x.service");
	c = tfc_cgroup_name(n, fresh);
	assert_non_null(c);
	assert_int_equal(c->gone, 0);
	assert_string_equal(c->unit, "y.service");
	/* Still gone after another walk. */
	assert_int_equal(tfc_cgroup_names_refresh(n), 0);
	c = tfc_cgroup_name(n, svc);
	assert_non_null(c);
	assert_int_equal(c->gone, 1);
	/* An id never seen: NULL. */
	assert_null(tfc_cgroup_name(n, 1));
	tfc_cgroup_names_free(n);
}

/* An unknown id a second after the last walk: the lookup walks by itself. */
static void test_fake_tree_walk_interval(void **state)
{
	struct fake *f = *state;
	struct tfc_cgroup_names *n = tfc_cgroup_names_new(f->mount, f->pods);
	const struct tfc_cgroup_name *c;
	struct timespec t0;

	assert_non_null(n);
	fake_mkdir(f, "system.slice/z.service");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (since(&t0) < 1.05)
		nanosleep(&(struct timespec){0, 50000000}, NULL);
	c = tfc_cgroup_name(n, fake_id(f, "system.slice/z.service"));
	assert_non_null(c);
	assert_string_equal(c->unit, "z.service");
	tfc_cgroup_names_free(n);
}

static void test_new_errors(void **state)
{
	(void)state;
	errno = 0;
	assert_null(tfc_cgroup_names_new("/nonexistent/tfc-cgroup-mount", NULL));
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_runtimes),
		cmocka_unit_test_setup_teardown(test_fake_tree_names, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_fake_tree_no_pods_dir, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_fake_tree_gone_and_new, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_fake_tree_walk_interval, fake_setup,
						fake_teardown),
		cmocka_unit_test(test_new_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
