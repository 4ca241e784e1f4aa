// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "opts.h"
#include "prefix_args.h"

/* The builds of earlier layouts (make ABI=1, ABI=2) stand for releases without them. */
static int layout_has_prefixes(const char *option, int *err)
{
#if TFC_ABI_VERSION >= 3
	(void)option;
	(void)err;
	return 1;
#else
	*err = tfc_opt_invalid(option, "needs map layout 3; this build uses layout %d",
			       TFC_ABI_VERSION);
	return 0;
#endif
}

static int handle_aggregate(struct tfc_prefix_args *p, const char *arg)
{
	char why[200];
	int err;

	if (p->aggregate_set)
		return tfc_opt_invalid("aggregate", "give --aggregate once (rules separated by "
						    "commas), or --no-aggregate alone");
	if (!*arg)
		return tfc_opt_invalid("aggregate", "no rule given: use --no-aggregate to remove "
						    "every rule");
	err = tfc_agg_parse(arg, &p->rules, &p->n_rules, why, sizeof(why));
	if (err)
		return err == -EINVAL ? tfc_opt_invalid("aggregate", "%s", why) : err;
	p->aggregate_set = 1;
	return 0;
}

int tfc_prefix_args_handle(struct tfc_prefix_args *p, int id, const char *arg, int *err)
{
	char why[200];

	*err = 0;
	switch (id) {
	case TFC_OPT_OVERFLOW_PREFIX:
		if (layout_has_prefixes("overflow-prefix", err) &&
		    tfc_overflow_parse(arg, &p->overflow_v4, &p->overflow_v6, why, sizeof(why)))
			*err = tfc_opt_invalid("overflow-prefix", "%s", why);
		p->overflow_set = !*err;
		return 1;
	case TFC_OPT_AGGREGATE:
		if (layout_has_prefixes("aggregate", err))
			*err = handle_aggregate(p, arg);
		return 1;
	case TFC_OPT_NO_AGGREGATE:
		if (!layout_has_prefixes("no-aggregate", err))
			return 1;
		if (p->aggregate_set)
			*err = tfc_opt_invalid("no-aggregate", "conflicts with --aggregate");
		p->aggregate_set = 1;
		return 1;
	default:
		return 0;
	}
}

int tfc_prefix_args_any(const struct tfc_prefix_args *p)
{
	return p->overflow_set || p->aggregate_set;
}

void tfc_prefix_args_free(struct tfc_prefix_args *p)
{
	free(p->rules);
	p->rules = NULL;
	p->n_rules = 0;
}
