/* feat-merge — join feature vectors from several streams by key and
 * concatenate them, in argument order, into one f32 vector.  The first
 * input streams; every other input is held in memory (key → vector). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/map.h"
#include "plm/recin.h"
#include "plm/rows.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [--progress] [-k FIELD] [-f FIELD] [--out NAME] "
	"[--missing error|drop|nil|zero] [-o FILE] [--shard K/N] A B [C ...]";
static const char summary[] =
	"join feature vectors from several streams by key into one vector";

enum { M_ERROR, M_DROP, M_NIL, M_ZERO };
#define SHOW 5

struct side {
	const char *path;
	plm_recin *in;
	int key, vec;
	enum plm_type type;     /* f32, f16 or bf16 */
	uint32_t dim;
	/* held inputs only: */
	plm_strmap *map;        /* key → row */
	unsigned char *data;    /* rows * dim * elsize */
	unsigned char *nil;     /* per row: vector was nil */
	unsigned char *used;
	size_t rows, cap;
};

static int vec_type(enum plm_type t)
{
	return t == PLM_T_F32 || t == PLM_T_F16 || t == PLM_T_BF16;
}

/* Opens one input, reads its header, checks the key and vector fields. */
static void open_side(struct side *S, const char *path, const char *key,
		      const char *field)
{
	char err[512], tn[64];
	char *paths[1] = { (char *)path };
	S->path = path;
	S->in = plm_recin_open(1, paths, err, sizeof err);
	if (!S->in)
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(S->in);
	if ((S->key = plm_schema_find(s, key)) < 0)
		plm_die("%s: no key field '%s'", path, key);
	if (!plm_key_type_ok(s->f[S->key].type) ||
	    s->f[S->key].type == PLM_T_BOOL)
		plm_die("%s: key field '%s' is %s; keys are str or int", path,
			key, plm_type_name(s->f[S->key].type, 0, tn, sizeof tn));
	if ((S->vec = plm_schema_find(s, field)) < 0)
		plm_die("%s: no field '%s'", path, field);
	const plm_field *f = &s->f[S->vec];
	if (!vec_type(f->type))
		plm_die("%s: field '%s' is %s; want a vector (f32, f16 or "
			"bf16)", path, field,
			plm_type_name(f->type, f->dim, tn, sizeof tn));
	S->type = f->type;
	S->dim = f->dim;
}

static float elem(enum plm_type t, const unsigned char *p, size_t j)
{
	if (t == PLM_T_F32) {
		float x;
		memcpy(&x, p + 4 * j, 4);
		return x;
	}
	uint16_t h = (uint16_t)(p[2 * j] | p[2 * j + 1] << 8);
	return t == PLM_T_F16 ? plm_f16_to_f32(h) : plm_bf16_to_f32(h);
}

static void to_f32(enum plm_type t, const unsigned char *p, uint32_t dim,
		   float *out)
{
	if (t == PLM_T_F32) {
		memcpy(out, p, (size_t)dim * 4);
		return;
	}
	for (uint32_t j = 0; j < dim; j++)
		out[j] = elem(t, p, j);
}

static void die_row(struct side *S, const char *what)
{
	plm_die("%s: record %" PRIu64 ": %s", S->path,
		plm_recin_recno(S->in), what);
}

/* Reads a held input into memory. */
static void load_side(struct side *S, const plm_shard *sh, int shard_key)
{
	const plm_schema *s = plm_recin_schema(S->in);
	enum plm_type kt = s->f[S->key].type;
	size_t vb = (size_t)S->dim * plm_type_elsize(S->type);
	plm_keybuf kb = { 0 };
	const plm_val *row;
	int rc;
	if (!(S->map = plm_strmap_new()))
		plm_die("out of memory");
	while ((rc = plm_recin_next(S->in, &row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			plm_die("%s", plm_recin_error(S->in));
		if (rc == PLM_HEADER)
			die_row(S, "the fields change; one set of fields per "
				"input");
		if (row[S->key].nil)
			die_row(S, "key is nil");
		if (shard_key && !plm_shard_keep_val(sh, &row[S->key], kt))
			continue;
		plm_key_reset(&kb);
		if (plm_key_add(&kb, &row[S->key], kt))
			plm_die("out of memory");
		int added;
		uint64_t *slot = plm_strmap_put(S->map, kb.p, kb.n, &added);
		if (!slot)
			plm_die("out of memory");
		if (!added) {
			char text[128], msg[256];
			plm_val_text(&row[S->key], kt, text, sizeof text);
			snprintf(msg, sizeof msg, "duplicate key '%s'", text);
			die_row(S, msg);
		}
		if (S->rows == S->cap) {
			S->cap = S->cap ? 2 * S->cap : 1024;
			S->data = realloc(S->data, S->cap * vb);
			S->nil = realloc(S->nil, S->cap);
			if (!S->data || !S->nil)
				plm_die("out of memory");
		}
		*slot = S->rows;
		S->nil[S->rows] = row[S->vec].nil;
		if (!row[S->vec].nil)
			memcpy(S->data + S->rows * vb, row[S->vec].s, vb);
		S->rows++;
	}
	if (!(S->used = calloc(S->rows + 1, 1)))
		plm_die("out of memory");
	plm_key_free(&kb);
	plm_recin_close(S->in);
	S->in = NULL;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *key = "id", *field = "emb", *oname = NULL;
	const char *missing = "error";
	const plm_opt opts[] = {
		PLM_STR('k', "key", &key, "FIELD", "join on FIELD (default id)"),
		PLM_STR('f', "field", &field, "FIELD",
			"vector field of every input (default emb)"),
		PLM_STR(0, "out", &oname, "NAME",
			"output field (default: FIELD, replacing A's)"),
		PLM_STR(0, "missing", &missing, "HOW",
			"a key absent from an input: error (default), drop the "
			"record, nil vector, or zero-fill"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_OPT_END_,
	};
	char err[512];
	plm_init("feat-merge", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	int mode = !strcmp(missing, "error") ? M_ERROR :
		   !strcmp(missing, "drop") ? M_DROP :
		   !strcmp(missing, "nil") ? M_NIL :
		   !strcmp(missing, "zero") ? M_ZERO : -1;
	if (mode < 0)
		plm_usage_die("--missing: want error, drop, nil or zero, not "
			      "'%s'", missing);
	int n = argc - i;
	if (n < 2)
		plm_usage_die("want at least two inputs");
	for (int a = 0; a < n; a++)
		if (!strcmp(argv[i + a], "-") && a > 0)
			plm_usage_die("only the first input may be stdin");
	plm_shard sh = plm_shard_parse(c.shard);
	int fmt = plm_common_format(&c);
	if (!oname)
		oname = field;

	/* Every header first: a dimension problem shows before any work. */
	struct side *S = calloc((size_t)n, sizeof *S);
	if (!S)
		plm_die("out of memory");
	uint64_t total = 0;
	char line[1024];
	size_t ll = 0;
	for (int a = 0; a < n; a++) {
		open_side(&S[a], argv[i + a], key, field);
		if (plm_recin_schema(S[a].in)->f[S[a].key].type !=
		    plm_recin_schema(S[0].in)->f[S[0].key].type)
			plm_die("%s: key '%s' has another type than in %s",
				S[a].path, key, S[0].path);
		total += S[a].dim;
		ll += (size_t)snprintf(line + ll, ll < sizeof line ?
				       sizeof line - ll : 0, "%s%" PRIu32,
				       a ? " + " : "", S[a].dim);
		if (ll >= sizeof line)
			ll = sizeof line - 1;
	}
	if (total > (1u << 24))
		plm_die("merged vector too long (%" PRIu64 " values)", total);
	plm_warn("%s: %s = %" PRIu64, field, line, total);

	const plm_schema *A = plm_recin_schema(S[0].in);
	int shard_i = -1;
	if (sh.n && (shard_i = plm_shard_field(A, "id", err, sizeof err)) < 0)
		plm_die("--shard: %s", err);
	for (int a = 1; a < n; a++)
		load_side(&S[a], &sh, sh.n && !strcmp(key, "id"));

	plm_schema out;
	if (plm_schema_copy(&out, A))
		plm_die("out of memory");
	int oi = plm_schema_add(&out, oname, PLM_T_F32, (uint32_t)total);
	if (oi == S[0].key)
		plm_usage_die("--out %s would overwrite the key", oname);
	if (plm_schema_add_prov(&out, plm_tool(), PLM_VERSION, argc, argv, 0, 0))
		plm_die("out of memory");
	plm_val *v = calloc(out.n, sizeof *v);
	float *vec = malloc((size_t)total * sizeof *vec);
	if (!v || !vec)
		plm_die("out of memory");
	plm_writer *w = plm_writer_open(c.output, fmt, &out, err, sizeof err);
	if (!w)
		plm_die("%s", err);

	plm_progress pg;
	plm_progress_init(&pg, c.progress, "B");
	plm_keybuf kb = { 0 };
	enum plm_type kt = A->f[S[0].key].type;
	uint64_t nrec = 0, nmiss = 0, nout = 0;
	char shown[SHOW][160];
	int nshown = 0;
	const plm_val *row;
	int rc;
	while ((rc = plm_recin_next(S[0].in, &row)) != PLM_EOF) {
		if (rc == PLM_ERR) {
			plm_writer_abort(w);
			plm_die("%s", plm_recin_error(S[0].in));
		}
		if (rc == PLM_HEADER) {
			plm_writer_abort(w);
			die_row(&S[0], "the fields change; one set of fields "
				"per input");
		}
		if (shard_i >= 0 && !plm_shard_keep_val(&sh, &row[shard_i],
							A->f[shard_i].type))
			continue;
		nrec++;
		plm_key_reset(&kb);
		if (!row[S[0].key].nil && plm_key_add(&kb, &row[S[0].key], kt))
			plm_die("out of memory");
		int miss = -1;          /* first input lacking this key */
		float *p = vec;
		for (int a = 0; a < n; a++) {
			const unsigned char *src = NULL;
			if (a == 0) {
				if (!row[S[0].vec].nil)
					src = (const unsigned char *)row[S[0].vec].s;
			} else if (kb.n) {
				uint64_t *r = plm_strmap_get(S[a].map, kb.p, kb.n);
				if (r) {
					S[a].used[*r] = 1;
					if (!S[a].nil[*r])
						src = S[a].data + *r * S[a].dim *
						      plm_type_elsize(S[a].type);
				}
			}
			if (src)
				to_f32(S[a].type, src, S[a].dim, p);
			else {
				memset(p, 0, (size_t)S[a].dim * sizeof *p);
				if (miss < 0)
					miss = a;
			}
			p += S[a].dim;
		}
		memcpy(v, row, A->n * sizeof *v);
		v[oi] = plm_v_bytes(vec, (size_t)total * 4, 1);
		if (miss >= 0) {
			if (nmiss++ < SHOW) {
				char text[100];
				plm_val_text(&row[S[0].key], kt, text, sizeof text);
				snprintf(shown[nshown++], sizeof shown[0],
					 "'%s' (%s%s)", text, miss ? "not in " :
					 "nil vector in ", S[miss].path);
			}
			if (mode == M_ERROR || mode == M_DROP)
				continue;
			if (mode == M_NIL)
				v[oi] = plm_v_nil();
		}
		if (plm_writer_row(w, v)) {
			plm_writer_abort(w);
			plm_die("%s", plm_writer_error(w));
		}
		nout++;
		if (pg.on)
			plm_recin_progress(S[0].in, &pg, 0);
	}
	plm_recin_progress(S[0].in, &pg, 1);
	if (nmiss && mode == M_ERROR) {
		plm_writer_abort(w);
		char list[SHOW * 170];
		size_t l = 0;
		for (int k = 0; k < nshown; k++)
			l += (size_t)snprintf(list + l, sizeof list - l, "%s%s",
					      k ? ", " : "", shown[k]);
		plm_die("%" PRIu64 " of %" PRIu64 " records lack a vector: %s%s;"
			" use --missing drop|nil|zero to go on", nmiss, nrec,
			list, nmiss > SHOW ? ", ..." : "");
	}
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	if (nmiss)
		plm_warn("%" PRIu64 " of %" PRIu64 " records lacked a vector "
			 "(first: %s): %s", nmiss, nrec, shown[0],
			 mode == M_DROP ? "dropped" : mode == M_NIL ?
			 "written with a nil vector" : "zero-filled");
	for (int a = 1; a < n; a++) {
		uint64_t unused = 0;
		for (size_t r = 0; r < S[a].rows; r++)
			unused += !S[a].used[r];
		if (unused)
			plm_warn("%s: %" PRIu64 " of %zu records matched no "
				 "record of %s", S[a].path, unused, S[a].rows,
				 S[0].path);
		plm_strmap_free(S[a].map);
		free(S[a].data);
		free(S[a].nil);
		free(S[a].used);
	}
	plm_key_free(&kb);
	plm_recin_close(S[0].in);
	plm_schema_free(&out);
	free(S);
	free(v);
	free(vec);
	return 0;
}
