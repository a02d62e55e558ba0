/* pair-feat — one feature vector per pair from the embeddings of its two
 * ids.  The embeddings are held in memory (id → f32 vector); the pairs
 * stream through the verb driver, their fields passed on, the vector
 * added (pairvec.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/map.h"
#include "plm/mlp.h"
#include "plm/pairvec.h"
#include "plm/recin.h"
#include "plm/rows.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"pair feature vectors from the embeddings of the two ids of each pair";

enum { MISS_ERROR, MISS_DROP };

struct emb {
	const char *path;
	plm_strmap *map;        /* encoded id → row */
	float *data;            /* rows × dim, converted to f32 */
	size_t rows, cap;
	uint32_t dim;
	enum plm_type kt;       /* the id's type */
	uint64_t nilvec;        /* records with a nil vector: not held */
};

struct pf {
	struct emb E;
	const char *fa, *fb, *oname;
	int ia, ib, ox;
	int mode, missing;
	uint32_t odim;
	float *vec;
	plm_keybuf kb;
	plm_verb *v;
	uint64_t npairs, ndrop;
	char first[300];        /* the first pair dropped */
};

static int vec_type(enum plm_type t)
{
	return t == PLM_T_F32 || t == PLM_T_F16 || t == PLM_T_BF16;
}

/* Reads the embeddings: id (str or int) and vector, each id once. */
static void load_emb(struct emb *E, const char *path, const char *idf,
		     const char *vf)
{
	char err[512], tn[64];
	char *paths[1] = { (char *)path };
	plm_recin *in = plm_recin_open(1, paths, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	E->path = path;
	const plm_schema *s = plm_recin_schema(in);
	int ki = plm_schema_find(s, idf), xi = plm_schema_find(s, vf);
	if (ki < 0)
		plm_die("%s: no id field '%s'", path, idf);
	E->kt = s->f[ki].type;
	if (E->kt != PLM_T_STR && E->kt != PLM_T_INT)
		plm_die("%s: id field '%s' is %s; ids are str or int", path,
			idf, plm_type_name(E->kt, 0, tn, sizeof tn));
	if (xi < 0)
		plm_die("%s: no vector field '%s'", path, vf);
	if (!vec_type(s->f[xi].type))
		plm_die("%s: field '%s' is %s; want a vector (f32, f16 or "
			"bf16)", path, vf, plm_type_name(s->f[xi].type,
			s->f[xi].dim, tn, sizeof tn));
	enum plm_type vt = s->f[xi].type;
	E->dim = s->f[xi].dim;
	if (!(E->map = plm_strmap_new()))
		plm_oom();
	plm_keybuf kb = { 0 };
	const plm_val *row;
	int rc;
	while ((rc = plm_recin_next(in, &row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			plm_die("%s", plm_recin_error(in));
		if (rc == PLM_HEADER)
			plm_die("%s: record %" PRIu64 ": the fields change; "
				"the embeddings must have one set of fields",
				path, plm_recin_recno(in) + 1);
		uint64_t recno = plm_recin_recno(in);
		if (row[ki].nil)
			plm_die("%s: record %" PRIu64 ": id is nil", path, recno);
		if (row[xi].nil) {
			E->nilvec++;
			continue;
		}
		plm_key_reset(&kb);
		if (plm_key_add(&kb, &row[ki], E->kt))
			plm_oom();
		int added;
		uint64_t *slot = plm_strmap_put(E->map, kb.p, kb.n, &added);
		if (!slot)
			plm_oom();
		if (!added) {
			char text[128];
			plm_val_text(&row[ki], E->kt, text, sizeof text);
			plm_die("%s: record %" PRIu64 ": duplicate id '%s' "
				"(first at record %" PRIu64 ")", path, recno,
				text, *slot + 1);
		}
		*slot = E->rows;
		PLM_XGROW(E->data, E->cap, (E->rows + 1) * (size_t)E->dim);
		plm_vec_to_f32(&row[xi], vt, E->dim,
			       E->data + E->rows * (size_t)E->dim);
		E->rows++;
	}
	plm_key_free(&kb);
	plm_recin_close(in);
}

/* A pair field: present and of the embeddings' id type. */
static int pair_field(const struct pf *P, const plm_schema *in,
		      const char *name, char *err, size_t errlen)
{
	char ta[64], tb[64];
	int i = plm_schema_find(in, name);
	if (i < 0)
		plm_nofield(err, errlen, in, "no field '%s' (the pair's ids)", name);
	else if (in->f[i].type != P->E.kt)
		snprintf(err, errlen, "field '%s' is %s but the embeddings' "
			 "ids are %s", name,
			 plm_type_name(in->f[i].type, in->f[i].dim, ta, sizeof ta),
			 plm_type_name(P->E.kt, 0, tb, sizeof tb));
	else
		return i;
	return -1;
}

static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct pf *P = ctx;
	if ((P->ia = pair_field(P, in, P->fa, err, errlen)) < 0 ||
	    (P->ib = pair_field(P, in, P->fb, err, errlen)) < 0)
		return -1;
	if (plm_schema_derive(out, in, 0, 0))
		plm_oom();
	P->ox = plm_schema_add(out, P->oname, PLM_T_F32, P->odim);
	return 0;
}

/* The embedding of the pair's id in field i, or NULL; why says what is
 * wrong then. */
static const float *lookup(struct pf *P, const plm_val *in, int i,
			   const char *name, char *why, size_t whylen)
{
	char text[128];
	const uint64_t *r = NULL;
	if (!in[i].nil) {
		plm_key_reset(&P->kb);
		if (plm_key_add(&P->kb, &in[i], P->E.kt))
			plm_oom();
		r = plm_strmap_get(P->E.map, P->kb.p, P->kb.n);
	}
	if (r)
		return P->E.data + *r * (size_t)P->E.dim;
	if (in[i].nil)
		snprintf(why, whylen, "%s is nil", name);
	else
		snprintf(why, whylen, "no embedding for %s='%s' in %s", name,
			 plm_val_text(&in[i], P->E.kt, text, sizeof text),
			 P->E.path);
	return NULL;
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct pf *P = ctx;
	char why[256];
	P->npairs++;
	const float *a = lookup(P, in, P->ia, P->fa, why, sizeof why);
	const float *b = a ? lookup(P, in, P->ib, P->fb, why, sizeof why) :
			     NULL;
	if (!a || !b) {
		if (P->missing == MISS_ERROR) {
			snprintf(err, errlen, "%s; use --missing drop to "
				 "drop such pairs", why);
			return PLM_VERB_FAIL;
		}
		if (!P->ndrop++)
			snprintf(P->first, sizeof P->first, "record %" PRIu64
				 ": %s", P->v->recno, why);
		return PLM_VERB_SKIP;
	}
	plm_pair_vec(P->mode, a, b, P->E.dim, P->vec);
	memcpy(out, in, P->v->in->n * sizeof *out);
	out[P->ox] = plm_v_bytes(P->vec, (size_t)P->odim * sizeof *P->vec, 1);
	return PLM_VERB_EMIT;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *emb = NULL, *xf = "emb", *idf = "id";
	int verbose = 0;
	struct pf P = { .fa = "a", .fb = "b", .oname = "x",
			.mode = PLM_PAIR_SYM, .missing = MISS_ERROR };
	const plm_opt opts[] = {
		PLM_STR_REQ('e', "emb", &emb, "FILE",
			    "embeddings: records with an id and a vector"),
		PLM_STR('x', "x", &xf, "FIELD",
			"the embeddings' vector field (default emb)"),
		PLM_STR(0, "id", &idf, "FIELD",
			"the embeddings' id field (default id)"),
		PLM_STR('a', "a", &P.fa, "FIELD",
			"the pair's first id field (default a)"),
		PLM_STR('b', "b", &P.fb, "FIELD",
			"the pair's second id field (default b)"),
		PLM_CHOICE_V(0, "mode", &P.mode, "MODE",
			     "concat: [a,b]; sym: [a+b,|a-b|] (default); "
			     "prod: a*b; sym-prod: [a+b,|a-b|,a*b]",
			     plm_pair_mode_names),
		PLM_STR(0, "field", &P.oname, "NAME",
			"the vector field written (default x)"),
		PLM_CHOICE(0, "missing", &P.missing, "HOW",
			   "a pair whose id has no embedding: error (the "
			   "default) or drop it (counted)", "error|drop"),
		PLM_FLAG('v', "verbose", &verbose,
			 "say how many embeddings are held, and their memory"),
		PLM_OPTS_STREAM(&c),
	};
	int i = plm_start("pair-feat", argc, argv, opts, operands, summary);
	if (!emb)
		plm_usage_die("--emb FILE is required");
	if (!strcmp(emb, "-") && (argc == i || (argc - i == 1 &&
				  !strcmp(argv[i], "-"))))
		plm_usage_die("the pairs and the embeddings cannot both be "
			      "stdin");
	if (!strcmp(P.oname, P.fa) || !strcmp(P.oname, P.fb))
		plm_usage_die("--field %s would overwrite a pair id",
			      P.oname);
	plm_shard_parse(c.shard);       /* usage errors before the load */

	load_emb(&P.E, emb, idf, xf);
	P.odim = plm_pair_dim(P.mode, P.E.dim);
	if (!P.odim)
		plm_die("%s: embeddings of dimension %" PRIu32 " make no pair "
			"vector", emb, P.E.dim);
	if (P.E.nilvec)
		plm_warn("%s: %" PRIu64 " record(s) with a nil vector: their "
			 "ids count as missing", emb, P.E.nilvec);
	if (verbose)
		plm_warn("holding %zu embeddings of dimension %" PRIu32
			 " (%.1f MB of vectors); x: %s, %" PRIu32 " values",
			 P.E.rows, P.E.dim, (double)P.E.rows * P.E.dim * 4 / 1e6,
			 plm_pair_mode_names[P.mode], P.odim);
	P.vec = plm_xmalloc((size_t)P.odim * sizeof *P.vec);
	plm_verb v = { .common = &c, .ctx = &P, .shard_key = P.fa,
		       .section = section, .row = row };
	P.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	if (P.ndrop)
		plm_warn("%" PRIu64 " of %" PRIu64 " pairs dropped: an id had "
			 "no embedding (first: %s)", P.ndrop, P.npairs,
			 P.first);

	plm_key_free(&P.kb);
	plm_strmap_free(P.E.map);
	free(P.E.data);
	free(P.vec);
	return 0;
}
