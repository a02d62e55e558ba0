/* rec-head — the first N records of a stream. */
#include <limits.h>

#include "plm/cli.h"
#include "plm/verb.h"

static const char usage[] =
	"[-TM] [-n N] [-o FILE] [--shard K/N] [--shard-key FIELD] [FILE ...]";
static const char summary[] = "copy the first N records (default 10)";

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	long long n = 10;
	const char *key = "id";
	const plm_opt opts[] = {
		PLM_INT('n', "number", &n, "N", "copy N records (default 10)", 0, LLONG_MAX),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_STR(0, "shard-key", &key, "FIELD", "hash FIELD for --shard (default id)"),
		PLM_OPT_END_,
	};
	plm_init("rec-head", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	/* stops as soon as N rows are out: never reads more than needed */
	plm_verb v = { .common = &c, .shard_key = key, .limit = n,
		       .limit_set = 1 };
	return plm_verb_run(&v, argc - i, argv + i);
}
