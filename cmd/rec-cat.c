/* rec-cat — concatenate record streams, converting TSV ⇄ MessagePack. */
#include <stdio.h>

#include "plm/cli.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"concatenate record streams, converting between TSV and MessagePack";

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *key = "id";
	const plm_opt opts[] = {
		PLM_OPTS_STREAM_KEY(&c, &key),
	};
	int i = plm_start("rec-cat", argc, argv, opts, operands, summary);
	/* different fields make a new section, never a mix */
	plm_verb v = { .common = &c, .shard_key = key };
	return plm_verb_run(&v, argc - i, argv + i);
}
