/* rec-join — join two record streams by a key field.  RIGHT is held in
 * memory (rows.h copies + a plm_strmap from key to first row); LEFT
 * streams through. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/map.h"
#include "plm/recin.h"
#include "plm/rows.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "LEFT RIGHT";
static const char summary[] =
	"join two record streams by a key field (inner, or left with --left)";

#define NONE UINT32_MAX

struct right {
	plm_schema schema;
	plm_rows rows;
	plm_strmap *map;        /* key → first row with it */
	uint32_t *next;         /* next row with the same key, or NONE */
	uint32_t *last;         /* per map entry: last row with the key */
	unsigned char *used;    /* row matched at least once */
	size_t ncap, lcap, ucap;
	uint64_t nokey;         /* rows whose key is nil */
	int key;
};

/* LEFT streaming through the driver. */
struct join {
	struct right R;
	const char *key, *prefix;
	int left;
	int lk;                 /* LEFT's key field */
	size_t nl, nr;          /* LEFT's fields; RIGHT's in the output */
	int *ridx;              /* output field nl + j is RIGHT's ridx[j] */
	plm_keybuf kb;
	plm_verb *v;
	uint64_t nleft, unmatched;
};

static const char *type_str(const plm_field *f, char *buf, size_t len)
{
	return plm_type_name(f->type, f->dim, buf, len);
}

/* The key field, or -1 and err. */
static int key_field(const plm_schema *s, const char *name, const char *side,
		     char *err, size_t errlen)
{
	char tn[64];
	int i = plm_schema_find(s, name);
	if (i < 0)
		snprintf(err, errlen, "%s: no key field '%s'", side, name);
	else if (s->f[i].type != PLM_T_STR && s->f[i].type != PLM_T_INT)
		snprintf(err, errlen, "%s: key field '%s' is %s; keys are str "
			 "or int", side, name, type_str(&s->f[i], tn, sizeof tn));
	else
		return i;
	return -1;
}

static void link_row(struct right *R, uint32_t row, const plm_keybuf *kb,
		     int multi, const char *path, const char *kname)
{
	int added;
	uint64_t *slot = plm_strmap_put(R->map, kb->p, kb->n, &added);
	if (!slot)
		plm_oom();
	long e = plm_strmap_index(R->map, kb->p, kb->n);
	if (added) {
		*slot = row;
		PLM_XGROW(R->last, R->lcap, (size_t)e + 1);
		R->last[e] = row;
		return;
	}
	if (!multi) {
		char text[128];
		plm_val_text(plm_rows_get(&R->rows, row) + R->key,
			     R->schema.f[R->key].type, text, sizeof text);
		plm_die("%s: record %" PRIu32 ": duplicate key %s='%s' (first "
			"at record %" PRIu64 "); use --multi for one row per "
			"match", path, row + 1, kname, text, *slot + 1);
	}
	R->next[R->last[e]] = row;
	R->last[e] = row;
}

/* Load the RIGHT stream into memory. */
static void load_right(struct right *R, const char *path, const char *kname,
		       int multi)
{
	char err[512];
	char *paths[1] = { (char *)path };
	plm_recin *in = plm_recin_open(1, paths, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(in);
	if (plm_schema_copy(&R->schema, s) || plm_rows_init(&R->rows, s) ||
	    !(R->map = plm_strmap_new()))
		plm_oom();
	if ((R->key = key_field(s, kname, "RIGHT", err, sizeof err)) < 0)
		plm_die("%s", err);
	plm_keybuf kb = { 0 };
	const plm_val *row;
	int rc;
	while ((rc = plm_recin_next(in, &row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			plm_die("%s", plm_recin_error(in));
		if (rc == PLM_HEADER)
			plm_die("%s: record %" PRIu64 ": the fields change; "
				"RIGHT must have one set of fields", path,
				plm_recin_recno(in) + 1);
		if (R->rows.n >= NONE)
			plm_die("%s: more than %" PRIu32 " records", path, NONE - 1);
		long k = plm_rows_add(&R->rows, row);
		if (k < 0)
			plm_oom();
		PLM_XGROW(R->next, R->ncap, R->rows.n);
		PLM_XGROW(R->used, R->ucap, R->rows.n);
		R->next[k] = NONE;
		R->used[k] = 0;
		if (row[R->key].nil) {
			R->nokey++;
			continue;
		}
		plm_key_reset(&kb);
		if (plm_key_add(&kb, &row[R->key], s->f[R->key].type))
			plm_oom();
		link_row(R, (uint32_t)k, &kb, multi, path, kname);
	}
	plm_key_free(&kb);
	plm_recin_close(in);
}

/* Output fields: LEFT's, then RIGHT's but its key; ridx[] maps output
 * position nl + j to RIGHT's field. */
static int out_schema(struct join *J, const plm_schema *L, plm_schema *out,
		      char *err, size_t errlen)
{
	const struct right *R = &J->R;
	char name[1024];
	if (plm_schema_derive(out, L, 0, 0))
		plm_oom();
	J->nl = L->n;
	J->nr = 0;
	for (size_t j = 0; j < R->schema.n; j++) {
		const plm_field *f = &R->schema.f[j];
		if ((int)j == R->key)
			continue;
		const char *nm = f->name;
		if (plm_schema_find(out, nm) >= 0) {
			if (!J->prefix) {
				snprintf(err, errlen, "field '%s' is in both "
					 "LEFT and RIGHT; use --prefix STR to "
					 "rename RIGHT's", nm);
				goto fail;
			}
			snprintf(name, sizeof name, "%s%s", J->prefix, nm);
			nm = name;
			if (plm_schema_find(out, nm) >= 0 ||
			    plm_schema_find(&R->schema, nm) >= 0) {
				snprintf(err, errlen, "field '%s' (RIGHT's '%s' "
					 "with --prefix) clashes too; choose "
					 "another prefix", nm, f->name);
				goto fail;
			}
		}
		if (plm_schema_add(out, nm, f->type, f->dim) < 0)
			plm_oom();
		J->ridx[J->nr++] = (int)j;
	}
	return 0;
fail:
	plm_schema_free(out);
	return -1;
}

static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct join *J = ctx;
	const struct right *R = &J->R;
	char ta[64], tb[64];
	if (J->v->where) {
		snprintf(err, errlen, "record %" PRIu64 ": the fields change; "
			 "LEFT must have one set of fields", J->v->recno + 1);
		return -1;
	}
	if ((J->lk = key_field(in, J->key, "LEFT", err, errlen)) < 0)
		return -1;
	if (in->f[J->lk].type != R->schema.f[R->key].type) {
		snprintf(err, errlen, "key '%s' is %s in LEFT but %s in RIGHT",
			 J->key, type_str(&in->f[J->lk], ta, sizeof ta),
			 type_str(&R->schema.f[R->key], tb, sizeof tb));
		return -1;
	}
	return out_schema(J, in, out, err, errlen);
}

/* One LEFT row: a row per match (written here), or one with RIGHT's
 * fields nil under --left. */
static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct join *J = ctx;
	const struct right *R = &J->R;
	uint64_t *first = NULL;
	(void)err;
	(void)errlen;
	J->nleft++;
	if (!in[J->lk].nil) {
		plm_key_reset(&J->kb);
		if (plm_key_add(&J->kb, &in[J->lk], J->v->in->f[J->lk].type))
			plm_oom();
		first = plm_strmap_get(R->map, J->kb.p, J->kb.n);
	}
	memcpy(out, in, J->nl * sizeof *out);
	if (!first) {
		J->unmatched++;
		if (!J->left)
			return PLM_VERB_SKIP;
		for (size_t j = 0; j < J->nr; j++)
			out[J->nl + j] = plm_v_nil();
		return PLM_VERB_EMIT;
	}
	for (uint32_t k = (uint32_t)*first; k != NONE; k = R->next[k]) {
		const plm_val *rr = plm_rows_get(&R->rows, k);
		R->used[k] = 1;
		for (size_t j = 0; j < J->nr; j++)
			out[J->nl + j] = rr[J->ridx[j]];
		plm_verb_emit(J->v, out);
	}
	return PLM_VERB_SKIP;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *key = NULL, *rkey = NULL, *prefix = NULL;
	int left = 0, multi = 0;
	const plm_opt opts[] = {
		PLM_STR_REQ('k', "key", &key, "FIELD", "join on FIELD (str or int)"),
		PLM_STR('j', "right-key", &rkey, "RFIELD",
			"RIGHT's key field (default: FIELD)"),
		PLM_FLAG(0, "left", &left,
			 "keep unmatched LEFT records (RIGHT's fields nil)"),
		PLM_FLAG(0, "multi", &multi,
			 "allow duplicate keys in RIGHT: one row per match"),
		PLM_STR(0, "prefix", &prefix, "STR",
			"rename RIGHT's fields that clash with LEFT's to STR+name"),
		PLM_OPTS_STREAM(&c),
	};
	int i = plm_start("rec-join", argc, argv, opts, operands, summary);
	if (!key)
		plm_usage_die("-k FIELD is required");
	if (argc - i != 2)
		plm_usage_die("want two operands, LEFT and RIGHT");
	if (!strcmp(argv[i + 1], "-") && !strcmp(argv[i], "-"))
		plm_usage_die("LEFT and RIGHT cannot both be stdin");
	plm_shard_parse(c.shard);       /* usage errors before the load */

	struct join J = { .key = key, .prefix = prefix, .left = left };
	struct right *R = &J.R;
	load_right(R, argv[i + 1], rkey ? rkey : key, multi);
	J.ridx = plm_xcalloc(R->schema.n + 1, sizeof *J.ridx);
	plm_verb v = { .common = &c, .ctx = &J, .section = section,
		       .row = row };
	J.v = &v;
	plm_verb_run(&v, 1, argv + i);

	uint64_t runused = 0;
	for (size_t k = 0; k < R->rows.n; k++)
		runused += !R->used[k];
	if (J.unmatched)
		plm_warn("%" PRIu64 " of %" PRIu64 " LEFT records had no match "
			 "in RIGHT (%s)", J.unmatched, J.nleft,
			 left ? "kept, RIGHT's fields nil" : "not written");
	if (runused)
		plm_warn("%" PRIu64 " of %zu RIGHT records matched no LEFT "
			 "record%s", runused, R->rows.n,
			 R->nokey ? " (including those with a nil key)" : "");

	plm_key_free(&J.kb);
	free(J.ridx);
	plm_rows_free(&R->rows);
	plm_schema_free(&R->schema);
	plm_strmap_free(R->map);
	free(R->next);
	free(R->last);
	free(R->used);
	return 0;
}
