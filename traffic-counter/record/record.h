/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* record's parsed arguments, exposed for the option unit tests. */
#ifndef TFC_RECORD_H
#define TFC_RECORD_H

#include <limits.h>

#include "export/history.h"
#include "opts.h"

struct record_args {
	struct tfc_pin_args pins;
	const char *db;
	__u32 interval;	     /* seconds */
	__u32 save_interval; /* seconds */
	__u32 max_addresses;
	long long evict_idle; /* seconds; 0: never */
	long long retention[TFC_RES_MAX];
	int once;
	const char *config; /* RECORD_* keys, where the command line gave none */
	unsigned int given; /* bit per option id given on the command line */
	char db_buf[PATH_MAX], pin_dir_buf[PATH_MAX];
};

int record_parse(int argc, char **argv, struct record_args *a);

#endif /* TFC_RECORD_H */
