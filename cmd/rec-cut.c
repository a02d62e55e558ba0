/* rec-cut — select, reorder and rename fields, or drop them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/recin.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"keep the fields in LIST (name or new=old), in that order; --complement drops them";

struct sel {
	char *name;            /* output name */
	char *from;            /* input name */
};

/* "a,b=c" from every -f into sel[]; usage errors caught before reading. */
static struct sel *parse_list(const plm_strlist *l, int complement, size_t *np)
{
	struct sel *v = NULL;
	size_t n = 0, cap = 0;
	for (size_t k = 0; k < l->n; k++) {
		char *dup = strdup(l->v[k]), *save = NULL, *tok;
		if (!dup)
			plm_die("out of memory");
		if (!*dup || dup[strlen(dup) - 1] == ',' || *dup == ',' || strstr(dup, ",,"))
			plm_usage_die("-f: empty field name in '%s'", l->v[k]);
		for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(tok, '=');
			if (eq && complement)
				plm_usage_die("--complement: cannot rename ('%s')", tok);
			if (eq && (eq == tok || !eq[1] || strchr(eq + 1, '=')))
				plm_usage_die("-f: '%s' is not NEW=OLD", tok);
			if (n == cap) {
				cap = cap ? 2 * cap : 8;
				if (!(v = realloc(v, cap * sizeof *v)))
					plm_die("out of memory");
			}
			if (eq)
				*eq = 0;
			v[n].name = strdup(tok);
			v[n].from = strdup(eq ? eq + 1 : tok);
			if (!v[n].name || !v[n].from)
				plm_die("out of memory");
			for (size_t j = 0; j < n && !complement; j++)
				if (strcmp(v[j].name, tok) == 0)
					plm_usage_die("-f: field '%s' named twice in the output", tok);
			n++;
		}
		free(dup);
	}
	if (!n)
		plm_usage_die("-f LIST is required");
	*np = n;
	return v;
}

/* Output schema and input index of each output field for input s.
 * 0, or -1 with err naming the missing field. */
static int resolve(const plm_schema *s, const struct sel *v, size_t n,
		   int complement, plm_schema *out, int **idx, char *err,
		   size_t errlen)
{
	int *ix = malloc((s->n + n + 1) * sizeof *ix);
	char *drop = calloc(s->n + 1, 1);
	if (!ix || !drop)
		plm_die("out of memory");
	plm_schema_init(out);
	size_t m = 0;
	for (size_t k = 0; k < n; k++) {
		int f = plm_schema_find(s, v[k].from);
		if (f < 0) {
			plm_nofield(err, errlen, s, "no field '%s' in input",
				    v[k].from);
			free(ix);
			free(drop);
			return -1;
		}
		if (complement)
			drop[f] = 1;
		else
			ix[m++] = f;
	}
	if (complement)
		for (size_t f = 0; f < s->n; f++)
			if (!drop[f])
				ix[m++] = (int)f;
	for (size_t k = 0; k < m; k++) {
		const plm_field *f = &s->f[ix[k]];
		const char *name = complement ? f->name : v[k].name;
		if (plm_schema_add(out, name, f->type, f->dim) < 0)
			plm_die("out of memory");
	}
	/* the section's meta goes on, with our prov entry */
	unsigned char *meta = malloc(s->meta_len);
	if (!meta)
		plm_die("out of memory");
	memcpy(meta, s->meta, s->meta_len);
	free(out->meta);
	out->meta = meta;
	out->meta_len = s->meta_len;
	if (plm_schema_add_prov(out, plm_tool(), PLM_VERSION, plm_argc(),
				plm_argv(), 0, 0))
		plm_die("out of memory");
	free(drop);
	free(*idx);
	*idx = ix;
	return 0;
}

struct cut {
	struct sel *sel;
	size_t nsel;
	int complement;
	int *idx;               /* input index of each output field */
	size_t nout;
};

static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct cut *x = ctx;
	if (resolve(in, x->sel, x->nsel, x->complement, out, &x->idx, err,
		    errlen))
		return -1;
	x->nout = out->n;
	return 0;
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	const struct cut *x = ctx;
	(void)err, (void)errlen;
	for (size_t k = 0; k < x->nout; k++)
		out[k] = in[x->idx[k]];
	return PLM_VERB_EMIT;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	plm_strlist list = { 0 };
	struct cut x = { 0 };
	const char *key = "id";
	const plm_opt opts[] = {
		PLM_LIST_REQ('f', "fields", &list, "LIST", "fields to keep: name or new=old, comma-separated"),
		PLM_FLAG(0, "complement", &x.complement, "drop the fields in LIST, keep the rest in order"),
		PLM_OPTS_STREAM_KEY(&c, &key),
	};

	int i = plm_start("rec-cut", argc, argv, opts, operands, summary);
	x.sel = parse_list(&list, x.complement, &x.nsel);
	/* A Parquet input decodes only the columns kept (and the shard key) */
	const char **want = NULL;
	if (!x.complement) {
		if (!(want = malloc((x.nsel + 1) * sizeof *want)))
			plm_die("out of memory");
		for (size_t k = 0; k < x.nsel; k++)
			want[k] = x.sel[k].from;
		want[x.nsel] = key;
		plm_recin_want((int)x.nsel + (c.shard != NULL), want);
	}
	plm_verb v = { .common = &c, .shard_key = key, .ctx = &x,
		       .section = section, .row = row };
	plm_verb_run(&v, argc - i, argv + i);
	free(x.idx);
	for (size_t k = 0; k < x.nsel; k++) {
		free(x.sel[k].name);
		free(x.sel[k].from);
	}
	free(x.sel);
	free(want);
	free(list.v);
	return 0;
}
