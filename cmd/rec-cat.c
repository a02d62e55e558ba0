/* rec-cat — concatenate record streams, converting TSV ⇄ MessagePack. */
#include <stdio.h>

#include "plm/cli.h"
#include "plm/verb.h"

static const char usage[] =
	"[-TM] [-k FIELD] [-o FILE] [--shard K/N] [FILE ...]";
static const char summary[] =
	"concatenate record streams, converting between TSV and MessagePack";

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *key = "id";
	const plm_opt opts[] = {
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_STR('k', "shard-key", &key, "FIELD", "hash FIELD for --shard (default id)"),
		PLM_OPT_END_,
	};
	plm_init("rec-cat", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	/* different fields make a new section, never a mix */
	plm_verb v = { .common = &c, .shard_key = key };
	return plm_verb_run(&v, argc - i, argv + i);
}
