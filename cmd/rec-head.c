/* rec-head — the first N records of a stream. */
#include <limits.h>

#include "plm/cli.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] = "copy the first N records (default 10)";

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	long long n = 10;
	const char *key = "id";
	const plm_opt opts[] = {
		PLM_INT('n', "number", &n, "N", "copy N records (default 10)", 0, LLONG_MAX),
		PLM_OPTS_STREAM_KEY(&c, &key),
	};
	int i = plm_start("rec-head", argc, argv, opts, operands, summary);
	/* stops as soon as N rows are out: never reads more than needed */
	plm_verb v = { .common = &c, .shard_key = key, .limit = n,
		       .limit_set = 1 };
	return plm_verb_run(&v, argc - i, argv + i);
}
