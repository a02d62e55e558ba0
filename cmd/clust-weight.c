/* clust-weight — members per cluster and weights 1/size: a table of
 * clusters, or (--annotate) the records with their cluster's size and
 * weight, read in a second pass over the same file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/map.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"count members per cluster; write cluster, count, weight = 1/count";

/* Key bytes of a cluster value: str bytes, or an int's 8 bytes. */
static const void *key_of(const plm_val *v, enum plm_type t, size_t *n,
			  unsigned char ib[8])
{
	if (t == PLM_T_STR) {
		*n = v->n;
		return v->s;
	}
	uint64_t x = (uint64_t)v->i;
	for (int i = 0; i < 8; i++)
		ib[i] = (unsigned char)(x >> (8 * i));
	*n = 8;
	return ib;
}

struct cw {
	const char *key;
	int annotate;
	plm_strmap *m;          /* cluster → members */
	enum plm_type kt;       /* the cluster field's type, 0 before the first */
	int ki, si, wi;         /* cluster field in; cluster_size, weight out */
	size_t nin;
	const plm_verb *v;
};

/* The cluster field of a section: str or int, the same in every one. */
static int cluster_field(struct cw *x, const plm_schema *s, char *err,
			 size_t errlen)
{
	char t[64];
	unsigned long long rec = (unsigned long long)x->v->recno + 1;
	if ((x->ki = plm_schema_find(s, x->key)) < 0) {
		plm_nofield(err, errlen, s, "record %llu: no field '%s' in input",
			 rec, x->key);
		return -1;
	}
	enum plm_type ty = s->f[x->ki].type;
	if (ty != PLM_T_STR && ty != PLM_T_INT) {
		snprintf(err, errlen, "field '%s' is %s: a cluster id must be "
			 "str or int", x->key, plm_type_name(ty,
			 s->f[x->ki].dim, t, sizeof t));
		return -1;
	}
	if (x->kt && ty != x->kt) {
		snprintf(err, errlen, "record %llu: field '%s' changes type "
			 "between sections", rec, x->key);
		return -1;
	}
	x->kt = ty;
	return 0;
}

/* The table (cluster, count, weight) keeps the input's meta; --annotate
 * adds cluster_size and weight to the input's fields. */
static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct cw *x = ctx;
	if (cluster_field(x, in, err, errlen))
		return -1;
	x->nin = in->n;
	if (!x->annotate)
		return plm_verb_table(out, in) ||
		       plm_schema_add(out, "cluster", x->kt, 0) < 0 ||
		       plm_schema_add(out, "count", PLM_T_INT, 0) < 0 ||
		       plm_schema_add(out, "weight", PLM_T_FLOAT, 0) < 0 ? -1 : 0;
	return plm_schema_derive(out, in, 0, 0) ||
	       (x->si = plm_schema_add(out, "cluster_size", PLM_T_INT, 0)) < 0 ||
	       (x->wi = plm_schema_add(out, "weight", PLM_T_FLOAT, 0)) < 0 ? -1 : 0;
}

/* Counts the members (the first pass of --annotate); with --annotate's
 * second pass, the record with its cluster's size and weight. */
static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct cw *x = ctx;
	unsigned char ib[8];
	size_t kn;
	const void *k = key_of(&in[x->ki], x->kt, &kn, ib);
	if (!x->annotate || x->v->pass == 0) {
		if (in[x->ki].nil) {
			snprintf(err, errlen, "field '%s' is nil", x->key);
			return PLM_VERB_FAIL;
		}
		uint64_t *c = plm_strmap_put(x->m, k, kn, NULL);
		if (!c)
			plm_oom();
		++*c;
		return PLM_VERB_SKIP;
	}
	uint64_t *cnt = in[x->ki].nil ? NULL : plm_strmap_get(x->m, k, kn);
	if (!cnt) {
		snprintf(err, errlen, "cluster not seen in the first pass "
			 "(file changed?)");
		return PLM_VERB_FAIL;
	}
	memcpy(out, in, x->nin * sizeof *out);
	out[x->si] = plm_v_int((int64_t)*cnt);
	out[x->wi] = plm_v_float(1.0 / (double)*cnt);
	return PLM_VERB_EMIT;
}

/* The table, in first-seen order. */
static int finish(void *ctx, plm_verb *v, char *err, size_t errlen)
{
	struct cw *x = ctx;
	(void)err, (void)errlen;
	if (x->annotate)
		return 0;
	for (size_t i = 0; i < plm_strmap_size(x->m); i++) {
		size_t kn;
		const char *k = plm_strmap_key(x->m, i, &kn);
		uint64_t cnt = *plm_strmap_val(x->m, i);
		plm_val r[3] = { plm_v_str(k, kn), plm_v_int((int64_t)cnt),
				 plm_v_float(1.0 / (double)cnt) };
		if (x->kt == PLM_T_INT) {
			uint64_t n = 0;
			for (int j = 7; j >= 0; j--)
				n = n << 8 | (unsigned char)k[j];
			r[0] = plm_v_int((int64_t)n);
		}
		plm_verb_emit(v, r);
	}
	return 0;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *key = "cluster", *ann = NULL;
	const plm_opt opts[] = {
		PLM_STR('k', "key", &key, "FIELD", "cluster field, str or int (default cluster)"),
		PLM_STR(0, "annotate", &ann, "FILE", "add cluster_size and weight to the records of FILE (two passes)"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPT_END_,
	};

	int i = plm_start("clust-weight", argc, argv, opts, operands, summary);
	if (ann && i < argc)
		plm_usage_die("--annotate FILE reads FILE twice: no other FILE operands");
	struct cw x = { .key = key, .annotate = ann != NULL };
	if (!(x.m = plm_strmap_new()))
		plm_die("out of memory");
	plm_verb v = { .common = &c, .ctx = &x, .section = section,
		       .row = row, .finish = finish, .passes = ann ? 2 : 1 };
	x.v = &v;
	if (ann)
		plm_verb_run(&v, 1, (char **)&ann);
	else
		plm_verb_run(&v, argc - i, argv + i);
	plm_strmap_free(x.m);
	return 0;
}
