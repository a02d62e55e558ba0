/* rec-join — join two record streams by a key field.  RIGHT is held in
 * memory (rows.h copies + a plm_strmap from key to first row); LEFT
 * streams through. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/map.h"
#include "plm/recin.h"
#include "plm/rows.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [--left] [--multi] [--progress] -k FIELD [-j RFIELD] "
	"[--prefix STR] [-o FILE] [--shard K/N] LEFT RIGHT";
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
	uint64_t nokey;         /* rows whose key is nil */
	int key;
};

static const char *type_str(const plm_field *f, char *buf, size_t len)
{
	return plm_type_name(f->type, f->dim, buf, len);
}

static int key_field(const plm_schema *s, const char *name, const char *side)
{
	char tn[64];
	int i = plm_schema_find(s, name);
	if (i < 0)
		plm_die("%s: no key field '%s'", side, name);
	if (s->f[i].type != PLM_T_STR && s->f[i].type != PLM_T_INT)
		plm_die("%s: key field '%s' is %s; keys are str or int", side,
			name, type_str(&s->f[i], tn, sizeof tn));
	return i;
}

static void link_row(struct right *R, uint32_t row, const plm_keybuf *kb,
		     int multi, const char *path, const char *kname)
{
	int added;
	uint64_t *slot = plm_strmap_put(R->map, kb->p, kb->n, &added);
	if (!slot)
		plm_die("out of memory");
	long e = plm_strmap_index(R->map, kb->p, kb->n);
	if (added) {
		*slot = row;
		if ((size_t)e % 1024 == 0) {
			uint32_t *l = realloc(R->last, (e + 1024) * sizeof *l);
			if (!l)
				plm_die("out of memory");
			R->last = l;
		}
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
		plm_die("out of memory");
	R->key = key_field(s, kname, "RIGHT");
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
			plm_die("out of memory");
		/* next[] and used[] double when rows.n reaches a power of 2 */
		if ((R->rows.n & (R->rows.n - 1)) == 0) {
			uint32_t *nx = realloc(R->next, 2 * R->rows.n * sizeof *nx);
			unsigned char *u = realloc(R->used, 2 * R->rows.n);
			if (!nx || !u)
				plm_die("out of memory");
			R->next = nx;
			R->used = u;
		}
		R->next[k] = NONE;
		R->used[k] = 0;
		if (row[R->key].nil) {
			R->nokey++;
			continue;
		}
		plm_key_reset(&kb);
		if (plm_key_add(&kb, &row[R->key], s->f[R->key].type))
			plm_die("out of memory");
		link_row(R, (uint32_t)k, &kb, multi, path, kname);
	}
	plm_key_free(&kb);
	plm_recin_close(in);
}

/* Output fields: LEFT's, then RIGHT's but its key; ridx[] maps output
 * position nl + j to RIGHT's field. */
static void out_schema(plm_schema *out, const plm_schema *L,
		       const struct right *R, const char *prefix, int *ridx,
		       size_t *nr)
{
	char name[1024];
	if (plm_schema_copy(out, L))
		plm_die("out of memory");
	*nr = 0;
	for (size_t j = 0; j < R->schema.n; j++) {
		const plm_field *f = &R->schema.f[j];
		if ((int)j == R->key)
			continue;
		const char *nm = f->name;
		if (plm_schema_find(out, nm) >= 0) {
			if (!prefix)
				plm_die("field '%s' is in both LEFT and RIGHT; "
					"use --prefix STR to rename RIGHT's", nm);
			snprintf(name, sizeof name, "%s%s", prefix, nm);
			nm = name;
			if (plm_schema_find(out, nm) >= 0 ||
			    plm_schema_find(&R->schema, nm) >= 0)
				plm_die("field '%s' (RIGHT's '%s' with --prefix) "
					"clashes too; choose another prefix",
					nm, f->name);
		}
		if (plm_schema_add(out, nm, f->type, f->dim) < 0)
			plm_die("out of memory");
		ridx[(*nr)++] = (int)j;
	}
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *key = NULL, *rkey = NULL, *prefix = NULL;
	int left = 0, multi = 0;
	const plm_opt opts[] = {
		PLM_STR('k', "key", &key, "FIELD", "join on FIELD (str or int)"),
		PLM_STR('j', "right-key", &rkey, "RFIELD",
			"RIGHT's key field (default: FIELD)"),
		PLM_FLAG(0, "left", &left,
			 "keep unmatched LEFT records (RIGHT's fields nil)"),
		PLM_FLAG(0, "multi", &multi,
			 "allow duplicate keys in RIGHT: one row per match"),
		PLM_STR(0, "prefix", &prefix, "STR",
			"rename RIGHT's fields that clash with LEFT's to STR+name"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_OPT_END_,
	};
	char err[512];
	plm_init("rec-join", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	if (!key)
		plm_usage_die("-k FIELD is required");
	if (argc - i != 2)
		plm_usage_die("want two operands, LEFT and RIGHT");
	if (!strcmp(argv[i + 1], "-") && !strcmp(argv[i], "-"))
		plm_usage_die("LEFT and RIGHT cannot both be stdin");
	plm_shard sh = plm_shard_parse(c.shard);
	int fmt = plm_common_format(&c);

	struct right R = { 0 };
	load_right(&R, argv[i + 1], rkey ? rkey : key, multi);

	plm_recin *in = plm_recin_open(1, argv + i, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	const plm_schema *L = plm_recin_schema(in);
	int lk = key_field(L, key, "LEFT");
	char ta[64], tb[64];
	if (L->f[lk].type != R.schema.f[R.key].type)
		plm_die("key '%s' is %s in LEFT but %s in RIGHT", key,
			type_str(&L->f[lk], ta, sizeof ta),
			type_str(&R.schema.f[R.key], tb, sizeof tb));
	int shard_i = -1;
	if (sh.n && (shard_i = plm_shard_field(L, "id", err, sizeof err)) < 0)
		plm_die("--shard: %s", err);

	plm_schema out;
	int *ridx = calloc(R.schema.n + 1, sizeof *ridx);
	size_t nr, nl = L->n;
	if (!ridx)
		plm_die("out of memory");
	out_schema(&out, L, &R, prefix, ridx, &nr);
	if (plm_schema_add_prov(&out, plm_tool(), PLM_VERSION, plm_argc(), plm_argv(), 0, 0))
		plm_die("out of memory");
	plm_val *v = calloc(out.n + 1, sizeof *v);
	if (!v)
		plm_die("out of memory");
	plm_writer *w = plm_writer_open(c.output, fmt, &out, err, sizeof err);
	if (!w)
		plm_die("%s", err);

	plm_progress pg;
	plm_progress_init(&pg, c.progress, "B");
	plm_keybuf kb = { 0 };
	uint64_t nleft = 0, unmatched = 0;
	const plm_val *row;
	int rc;
	while ((rc = plm_recin_next(in, &row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			plm_die("%s", plm_recin_error(in));
		if (rc == PLM_HEADER)
			plm_die("LEFT: record %" PRIu64 ": the fields change; "
				"LEFT must have one set of fields",
				plm_recin_recno(in) + 1);
		if (shard_i >= 0 && !plm_shard_keep_val(&sh, &row[shard_i],
							L->f[shard_i].type))
			continue;
		nleft++;
		uint64_t *first = NULL;
		if (!row[lk].nil) {
			plm_key_reset(&kb);
			if (plm_key_add(&kb, &row[lk], L->f[lk].type))
				plm_die("out of memory");
			first = plm_strmap_get(R.map, kb.p, kb.n);
		}
		memcpy(v, row, nl * sizeof *v);
		if (!first) {
			unmatched++;
			if (!left)
				continue;
			for (size_t j = 0; j < nr; j++)
				v[nl + j] = plm_v_nil();
			if (plm_writer_row(w, v))
				plm_die("%s", plm_writer_error(w));
			continue;
		}
		for (uint32_t k = (uint32_t)*first; k != NONE; k = R.next[k]) {
			const plm_val *rr = plm_rows_get(&R.rows, k);
			R.used[k] = 1;
			for (size_t j = 0; j < nr; j++)
				v[nl + j] = rr[ridx[j]];
			if (plm_writer_row(w, v))
				plm_die("%s", plm_writer_error(w));
		}
		if (pg.on) {
			uint64_t done, total;
			plm_recin_bytes(in, &done, &total);
			plm_progress_update(&pg, done, total, nleft);
		}
	}
	if (pg.on) {
		uint64_t done, total;
		plm_recin_bytes(in, &done, &total);
		plm_progress_end(&pg, done, nleft);
	}
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);

	uint64_t runused = 0;
	for (size_t k = 0; k < R.rows.n; k++)
		runused += !R.used[k];
	if (unmatched)
		plm_warn("%" PRIu64 " of %" PRIu64 " LEFT records had no match "
			 "in RIGHT (%s)", unmatched, nleft,
			 left ? "kept, RIGHT's fields nil" : "not written");
	if (runused)
		plm_warn("%" PRIu64 " of %zu RIGHT records matched no LEFT "
			 "record%s", runused, R.rows.n,
			 R.nokey ? " (including those with a nil key)" : "");

	plm_key_free(&kb);
	free(v);
	free(ridx);
	plm_schema_free(&out);
	plm_recin_close(in);
	plm_rows_free(&R.rows);
	plm_schema_free(&R.schema);
	plm_strmap_free(R.map);
	free(R.next);
	free(R.last);
	free(R.used);
	return 0;
}
