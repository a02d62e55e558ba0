/* tax-kingdom — add superkingdom and kingdom for the taxid of each record,
 * from an NCBI taxdump. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/recin.h"
#include "plm/stream.h"
#include "plm/taxdump.h"

static const char usage[] =
	"[-TM] --taxdump DIR [-k FIELD] [-o FILE] [--shard K/N] "
	"[--shard-key FIELD] [FILE ...]";
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

typedef struct section {
	plm_schema out;
	int ti, ski, ki, shi;
	size_t nin;
	plm_val *vals;
} section;

static int section_set(section *sc, const plm_schema *in, const char *key,
		       const plm_shard *sh, const char *skey, char *err, size_t errlen)
{
	char t[64];
	sc->ti = plm_schema_find(in, key);
	if (sc->ti < 0) {
		snprintf(err, errlen, "no field '%s' in input", key);
		return -1;
	}
	if (in->f[sc->ti].type != PLM_T_INT) {
		snprintf(err, errlen, "field '%s' is %s: a taxid must be int", key,
			 plm_type_name(in->f[sc->ti].type, in->f[sc->ti].dim, t, sizeof t));
		return -1;
	}
	sc->shi = sh->n ? plm_shard_field(in, skey, err, errlen) : 0;
	if (sc->shi < 0)
		return -1;
	plm_schema_free(&sc->out);
	if (plm_schema_copy(&sc->out, in))
		plm_die("out of memory");
	sc->ski = plm_schema_add(&sc->out, "superkingdom", PLM_T_STR, 0);
	sc->ki = plm_schema_add(&sc->out, "kingdom", PLM_T_STR, 0);
	if (plm_schema_add_prov(&sc->out, plm_tool(), PLM_VERSION, plm_argc(),
				plm_argv(), 0, 0))
		plm_die("out of memory");
	sc->nin = in->n;
	free(sc->vals);
	if (!(sc->vals = calloc(sc->out.n, sizeof *sc->vals)))
		plm_die("out of memory");
	return 0;
}

static plm_val name_val(const char *s)
{
	return s ? plm_v_str(s, strlen(s)) : plm_v_nil();
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *dir = NULL, *key = "taxid", *skey = "id";
	const plm_opt opts[] = {
		PLM_STR(0, "taxdump", &dir, "DIR", "NCBI taxdump directory (nodes.dmp, names.dmp, ...)"),
		PLM_STR('k', "key", &key, "FIELD", "taxid field, int (default taxid)"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_STR(0, "shard-key", &skey, "FIELD", "hash FIELD for --shard (default id)"),
		PLM_OPT_END_,
	};
	char err[1024];
	section sc = { 0 };
	misses unknown = { 0 }, deleted = { 0 };
	uint64_t nilid = 0, merged = 0;
	plm_progress pg;

	plm_init("tax-kingdom", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	plm_shard sh = plm_shard_parse(c.shard);
	int fmt = plm_common_format(&c);
	if (!dir)
		plm_usage_die("--taxdump DIR is required");
	plm_taxdump *tx = plm_taxdump_load(dir, err, sizeof err);
	if (!tx)
		plm_die("%s", err);
	plm_recin *in = plm_recin_open(argc - i, argv + i, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	plm_schema_init(&sc.out);
	if (section_set(&sc, plm_recin_schema(in), key, &sh, skey, err, sizeof err))
		plm_die("%s", err);
	plm_writer *w = plm_writer_open(c.output, fmt, &sc.out, err, sizeof err);
	if (!w)
		plm_die("%s", err);
	plm_progress_init(&pg, c.progress, "B");

	for (;;) {
		const plm_val *row;
		int rc = plm_recin_next(in, &row);
		if (rc == PLM_EOF)
			break;
		if (rc == PLM_ERR) {
			plm_writer_abort(w);
			plm_die("%s", plm_recin_error(in));
		}
		if (rc == PLM_HEADER) {
			if (section_set(&sc, plm_recin_schema(in), key, &sh, skey, err, sizeof err)) {
				plm_writer_abort(w);
				plm_die("record %llu: %s",
					(unsigned long long)plm_recin_recno(in) + 1, err);
			}
			if (plm_writer_section(w, &sc.out)) {
				plm_die("%s", plm_writer_error(w));  /* removes the temporary file */
			}
			continue;
		}
		if (!plm_shard_keep_val(&sh, &row[sc.shi], plm_recin_schema(in)->f[sc.shi].type))
			continue;
		const char *sk = NULL, *k = NULL;
		const plm_val *t = &row[sc.ti];
		if (t->nil) {
			nilid++;
		} else {
			int st = plm_taxdump_kingdom(tx, t->i, &sk, &k, NULL, err, sizeof err);
			if (st < 0) {
				plm_writer_abort(w);
				plm_die("record %llu: %s",
					(unsigned long long)plm_recin_recno(in), err);
			}
			if (st == PLM_TAX_UNKNOWN)
				miss(&unknown, t->i);
			else if (st == PLM_TAX_DELETED)
				miss(&deleted, t->i);
			else if (st == PLM_TAX_MERGED)
				merged++;
		}
		memcpy(sc.vals, row, sc.nin * sizeof *row);
		sc.vals[sc.ski] = name_val(sk);
		sc.vals[sc.ki] = name_val(k);
		if (plm_writer_row(w, sc.vals)) {
			plm_die("%s", plm_writer_error(w));  /* removes the temporary file */
		}
		if (pg.on)
			plm_recin_progress(in, &pg, 0);
	}
	plm_recin_progress(in, &pg, 1);
	plm_recin_close(in);
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	report(&unknown, "unknown");
	report(&deleted, "deleted");
	if (nilid)
		plm_warn("%llu records with a nil '%s' (fields nil)",
			 (unsigned long long)nilid, key);
	if (merged)
		plm_warn("%llu records with merged taxids, resolved through merged.dmp",
			 (unsigned long long)merged);
	plm_schema_free(&sc.out);
	free(sc.vals);
	plm_taxdump_free(tx);
	return 0;
}
