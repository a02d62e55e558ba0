/* clust-weight — members per cluster and weights 1/size: a table of
 * clusters, or (--annotate) the records with their cluster's size and
 * weight, read in a second pass over the same file. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/map.h"
#include "plm/recin.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [-k FIELD] [-o FILE] [FILE ...]\n"
	"       clust-weight [-TM] [-k FIELD] [-o FILE] --annotate FILE";
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

/* The cluster field of the current section: str or int, or die. */
static int cluster_field(plm_recin *in, const char *key, enum plm_type *want)
{
	const plm_schema *s = plm_recin_schema(in);
	char t[64];
	int ki = plm_schema_find(s, key);
	if (ki < 0)
		plm_die("record %llu: no field '%s' in input",
			(unsigned long long)plm_recin_recno(in) + 1, key);
	enum plm_type ty = s->f[ki].type;
	if (ty != PLM_T_STR && ty != PLM_T_INT)
		plm_die("field '%s' is %s: a cluster id must be str or int", key,
			plm_type_name(ty, s->f[ki].dim, t, sizeof t));
	if (*want && ty != *want)
		plm_die("record %llu: field '%s' changes type between sections",
			(unsigned long long)plm_recin_recno(in) + 1, key);
	*want = ty;
	return ki;
}

/* Pass 1: count members per cluster into m. */
static void count(int n, char **paths, const char *key, plm_strmap *m,
		  enum plm_type *kt, plm_progress *pg, plm_schema *meta)
{
	char err[1024];
	unsigned char ib[8];
	plm_recin *in = plm_recin_open(n, paths, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	int ki = cluster_field(in, key, kt);
	if (plm_schema_copy(meta, plm_recin_schema(in)))
		plm_die("out of memory");
	for (;;) {
		const plm_val *row;
		int rc = plm_recin_next(in, &row);
		if (rc == PLM_EOF)
			break;
		if (rc == PLM_ERR)
			plm_die("%s", plm_recin_error(in));
		if (rc == PLM_HEADER) {
			ki = cluster_field(in, key, kt);
			continue;
		}
		if (row[ki].nil)
			plm_die("record %llu: field '%s' is nil",
				(unsigned long long)plm_recin_recno(in), key);
		size_t kn;
		const void *k = key_of(&row[ki], *kt, &kn, ib);
		uint64_t *c = plm_strmap_put(m, k, kn, NULL);
		if (!c)
			plm_die("out of memory");
		++*c;
		if (pg->on)
			plm_recin_progress(in, pg, 0);
	}
	plm_recin_progress(in, pg, 1);
	plm_recin_close(in);
}

static void prov(plm_schema *s)
{
	if (plm_schema_add_prov(s, plm_tool(), PLM_VERSION, plm_argc(), plm_argv(), 0, 0))
		plm_die("out of memory");
}

/* The table keeps the input's meta (its provenance) with new fields. */
static void write_table(const plm_common *c, int fmt, plm_strmap *m,
			enum plm_type kt, const plm_schema *in)
{
	char err[1024];
	plm_schema s;
	plm_schema_init(&s);
	free(s.meta);
	if (!(s.meta = malloc(in->meta_len)))
		plm_die("out of memory");
	memcpy(s.meta, in->meta, in->meta_len);
	s.meta_len = in->meta_len;
	plm_schema_add(&s, "cluster", kt, 0);
	plm_schema_add(&s, "count", PLM_T_INT, 0);
	plm_schema_add(&s, "weight", PLM_T_FLOAT, 0);
	prov(&s);
	plm_writer *w = plm_writer_open(c->output, fmt, &s, err, sizeof err);
	if (!w)
		plm_die("%s", err);
	for (size_t i = 0; i < plm_strmap_size(m); i++) {
		size_t kn;
		const char *k = plm_strmap_key(m, i, &kn);
		uint64_t cnt = *plm_strmap_val(m, i);
		plm_val v[3] = { plm_v_str(k, kn), plm_v_int((int64_t)cnt),
				 plm_v_float(1.0 / (double)cnt) };
		if (kt == PLM_T_INT) {
			uint64_t x = 0;
			for (int j = 7; j >= 0; j--)
				x = x << 8 | (unsigned char)k[j];
			v[0] = plm_v_int((int64_t)x);
		}
		if (plm_writer_row(w, v)) {
			plm_die("%s", plm_writer_error(w));  /* removes the temporary file */
		}
	}
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	plm_schema_free(&s);
}

/* Pass 2: the records of path with cluster_size and weight added. */
static void annotate(const char *path, const plm_common *c, int fmt,
		     const char *key, plm_strmap *m, enum plm_type kt)
{
	char err[1024];
	unsigned char ib[8];
	plm_schema out;
	plm_val *vals = NULL;
	int ki = 0, si = 0, wi = 0, first = 1;
	size_t nin = 0;
	plm_writer *w = NULL;
	plm_recin *in = plm_recin_open(1, (char **)&path, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	plm_schema_init(&out);
	for (int rc = PLM_HEADER;; rc = 0) {
		const plm_val *row;
		if (rc != PLM_HEADER)
			rc = plm_recin_next(in, &row);
		if (rc == PLM_EOF)
			break;
		if (rc == PLM_ERR) {
			plm_writer_abort(w);
			plm_die("%s", plm_recin_error(in));
		}
		if (rc == PLM_HEADER) {
			const plm_schema *s = plm_recin_schema(in);
			ki = cluster_field(in, key, &kt);
			plm_schema_free(&out);
			if (plm_schema_copy(&out, s))
				plm_die("out of memory");
			si = plm_schema_add(&out, "cluster_size", PLM_T_INT, 0);
			wi = plm_schema_add(&out, "weight", PLM_T_FLOAT, 0);
			prov(&out);
			nin = s->n;
			free(vals);
			if (!(vals = calloc(out.n, sizeof *vals)))
				plm_die("out of memory");
			if (first && !(w = plm_writer_open(c->output, fmt, &out, err, sizeof err)))
				plm_die("%s", err);
			else if (!first && plm_writer_section(w, &out)) {
				plm_die("%s", plm_writer_error(w));  /* removes the temporary file */
			}
			first = 0;
			continue;
		}
		size_t kn;
		const void *k = key_of(&row[ki], kt, &kn, ib);
		uint64_t *cnt = row[ki].nil ? NULL : plm_strmap_get(m, k, kn);
		if (!cnt) {
			/* The file changed between the passes. */
			plm_writer_abort(w);
			plm_die("%s: record %llu: cluster not seen in the first pass (file changed?)",
				path, (unsigned long long)plm_recin_recno(in));
		}
		memcpy(vals, row, nin * sizeof *row);
		vals[si] = plm_v_int((int64_t)*cnt);
		vals[wi] = plm_v_float(1.0 / (double)*cnt);
		if (plm_writer_row(w, vals)) {
			plm_die("%s", plm_writer_error(w));  /* removes the temporary file */
		}
	}
	plm_recin_close(in);
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	plm_schema_free(&out);
	free(vals);
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
	enum plm_type kt = 0;
	plm_progress pg;
	plm_schema first;

	plm_init("clust-weight", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	int fmt = plm_common_format(&c);
	if (ann && i < argc)
		plm_usage_die("--annotate FILE reads FILE twice: no other FILE operands");
	if (ann && !strcmp(ann, "-"))
		plm_usage_die("--annotate needs a file: standard input cannot be read twice");
	plm_strmap *m = plm_strmap_new();
	if (!m)
		plm_die("out of memory");
	plm_progress_init(&pg, c.progress, "B");
	if (ann)
		count(1, (char **)&ann, key, m, &kt, &pg, &first);
	else
		count(argc - i, argv + i, key, m, &kt, &pg, &first);
	if (ann)
		annotate(ann, &c, fmt, key, m, kt);
	else
		write_table(&c, fmt, m, kt, &first);
	plm_schema_free(&first);
	plm_strmap_free(m);
	return 0;
}
