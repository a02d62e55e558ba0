/* tax-kingdom — add superkingdom and kingdom for the taxid of each record,
 * from an NCBI taxdump. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/stream.h"
#include "plm/taxdump.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"add superkingdom and kingdom of each record's taxid (NCBI taxdump)";

#define SHOW 5                  /* ids listed per kind of miss */

typedef struct misses {
	uint64_t n;
	int64_t first[SHOW];
} misses;

static void miss(misses *m, int64_t id)
{
	if (m->n < SHOW)
		m->first[m->n] = id;
	m->n++;
}

static void report(const misses *m, const char *what)
{
	char list[256] = "";
	size_t o = 0;
	if (!m->n)
		return;
	for (uint64_t i = 0; i < m->n && i < SHOW; i++)
		o += (size_t)snprintf(list + o, sizeof list - o, "%s%lld", i ? ", " : "",
				      (long long)m->first[i]);
	plm_warn("%llu records with %s taxids (fields nil): %s%s",
		 (unsigned long long)m->n, what, list, m->n > SHOW ? ", ..." : "");
}

struct tk {
	plm_taxdump *tx;
	const char *key;
	int ti, ski, ki;        /* taxid field in, superkingdom, kingdom out */
	size_t nin;
	const plm_verb *v;
	misses unknown, deleted;
	uint64_t nilid, merged;
};

static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct tk *x = ctx;
	char t[64];
	int n = 0;
	/* on a later section, the record that starts it */
	if (x->v->where)
		n = snprintf(err, errlen, "record %llu: ",
			     (unsigned long long)x->v->recno + 1);
	if ((x->ti = plm_schema_find(in, x->key)) < 0) {
		plm_nofield(err + n, errlen - n, in, "no field '%s' in input",
			    x->key);
		return -1;
	}
	if (in->f[x->ti].type != PLM_T_INT) {
		snprintf(err + n, errlen - n, "field '%s' is %s: a taxid must "
			 "be int", x->key, plm_type_name(in->f[x->ti].type,
							 in->f[x->ti].dim, t,
							 sizeof t));
		return -1;
	}
	if (plm_schema_derive(out, in, 0, 0) ||
	    (x->ski = plm_schema_add(out, "superkingdom", PLM_T_STR, 0)) < 0 ||
	    (x->ki = plm_schema_add(out, "kingdom", PLM_T_STR, 0)) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	x->nin = in->n;
	return 0;
}

static plm_val name_val(const char *s)
{
	return s ? plm_v_str(s, strlen(s)) : plm_v_nil();
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct tk *x = ctx;
	const char *sk = NULL, *k = NULL;
	const plm_val *t = &in[x->ti];
	if (t->nil) {
		x->nilid++;
	} else {
		int st = plm_taxdump_kingdom(x->tx, t->i, &sk, &k, NULL, err,
					     errlen);
		if (st < 0)
			return PLM_VERB_FAIL;
		if (st == PLM_TAX_UNKNOWN)
			miss(&x->unknown, t->i);
		else if (st == PLM_TAX_DELETED)
			miss(&x->deleted, t->i);
		else if (st == PLM_TAX_MERGED)
			x->merged++;
	}
	memcpy(out, in, x->nin * sizeof *out);
	out[x->ski] = name_val(sk);
	out[x->ki] = name_val(k);
	return PLM_VERB_EMIT;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *dir = NULL, *skey = "id";
	struct tk x = { .key = "taxid" };
	const plm_opt opts[] = {
		PLM_STR_REQ(0, "taxdump", &dir, "DIR", "NCBI taxdump directory (nodes.dmp, names.dmp, ...)"),
		PLM_STR('k', "key", &x.key, "FIELD", "taxid field, int (default taxid)"),
		PLM_OPTS_STREAM_KEY(&c, &skey),
	};
	char err[1024];

	int i = plm_start("tax-kingdom", argc, argv, opts, operands, summary);
	plm_shard_parse(c.shard);       /* usage errors before the load */
	if (!dir)
		plm_usage_die("--taxdump DIR is required");
	if (!(x.tx = plm_taxdump_load(dir, err, sizeof err)))
		plm_die("%s", err);
	plm_verb v = { .common = &c, .shard_key = skey, .ctx = &x,
		       .section = section, .row = row };
	x.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	report(&x.unknown, "unknown");
	report(&x.deleted, "deleted");
	if (x.nilid)
		plm_warn("%llu records with a nil '%s' (fields nil)",
			 (unsigned long long)x.nilid, x.key);
	if (x.merged)
		plm_warn("%llu records with merged taxids, resolved through merged.dmp",
			 (unsigned long long)x.merged);
	plm_taxdump_free(x.tx);
	return 0;
}
