// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "caps.h"
#include "util/log.h"

#ifndef CAP_BPF
#define CAP_BPF 39 /* Linux 5.8 */
#endif

static int have_cap(const struct __user_cap_data_struct *d, int cap)
{
	return !!(d[cap / 32].effective & (1U << (cap % 32)));
}

int tfc_require_attach_caps(const char *what)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
	const char *missing = NULL;

	/* No libcap: one raw capget is all this needs. */
	if (syscall(SYS_capget, &hdr, data))
		return 0; /* cannot tell: let the kernel decide */
	if (!have_cap(data, CAP_BPF) && !have_cap(data, CAP_SYS_ADMIN))
		missing = "CAP_BPF";
	else if (!have_cap(data, CAP_NET_ADMIN))
		missing = "CAP_NET_ADMIN";
	if (!missing)
		return 0;
	tfc_err("%s needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON, and this process lacks %s: "
		"run it as root (sudo) or grant those capabilities",
		what, missing);
	return -EPERM;
}
