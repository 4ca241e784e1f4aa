// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

void tfc_fault_point(const char *step)
{
	const char *at = getenv("TRAFFIC_COUNTER_TEST_KILL_AT");

	if (at && !strcmp(at, step))
		raise(SIGKILL);
}
