/* emb-cache — inspect, check, export, merge and query embedding caches
 * (embcache.h).  One subcommand per run; the work of each is in lib/. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plm/cli.h"
#include "plm/embcache.h"
#include "plm/fields.h"
#include "plm/map.h"
#include "plm/recin.h"
#include "plm/rows.h"
#include "plm/stream.h"

static const char summary[] =
	"inspect, check, export, merge and query embedding caches";

#define SHOW 5

static struct {
	plm_common c;
	int failed;
	const char *ids, *missing, *seq, *field;
	const char *sig, *model, *pool;
	long long layer, maxlen;
} o = { .seq = "seq", .field = "emb", .layer = -1, .maxlen = -1 };

static plm_embcache *open_ro(const char *path)
{
	char err[1024];
	plm_embcache *ec = plm_embcache_open(path, NULL, 0, err, sizeof err);
	if (!ec)
		plm_die("%s", err);
	return ec;
}

static const char *dtype_name(enum plm_type t)
{
	return t == PLM_T_F16 ? "f16" : "f32";
}

static int cmd_info(const char *path)
{
	plm_embcache *ec = open_ro(path);
	const plm_embcache_cfg *s = plm_embcache_settings(ec);
	size_t jr, jf;
	uint64_t torn;
	struct stat st;
	plm_embcache_journal(ec, &jr, &jf, &torn);
	printf("path\t%s\nformat\t%d\nsignature\t%s\nmodel\t%s\nlayer\t%d\n"
	       "pool\t%s\ndtype\t%s\ndim\t%" PRIu32 "\nmax_len\t%d\n"
	       "rows\t%zu\nfailed\t%zu\njournal_rows\t%zu\n"
	       "journal_failed\t%zu\nbytes\t%lld\n", path, PLM_EMBCACHE_FORMAT,
	       s->signature, s->model, s->layer, s->pool,
	       dtype_name(s->dtype), s->dim, s->max_len,
	       plm_embcache_rows(ec), plm_embcache_nfailed(ec), jr, jf,
	       stat(path, &st) ? -1LL : (long long)st.st_size);
	if (torn)
		plm_warn("%s-journal: %" PRIu64 " bytes of an interrupted write "
			 "ignored", path, torn);
	plm_embcache_abort(ec);
	return 0;
}

static void report(void *arg, const char *msg)
{
	plm_warn("%s: %s", (const char *)arg, msg);
}

static int cmd_check(const char *path)
{
	char err[1024];
	long n = plm_embcache_check(path, 20, report, (void *)path, err,
				    sizeof err);
	if (n < 0)
		plm_die("%s", err);
	if (n > 20)
		plm_warn("%s: ... %ld problems in all", path, n);
	if (n)
		return 1;
	/* the journal: it must replay; a torn tail is what a kill leaves */
	plm_embcache *ec = open_ro(path);
	size_t jr, jf;
	uint64_t torn;
	plm_embcache_journal(ec, &jr, &jf, &torn);
	printf("%s: ok: %zu rows, %zu failed", path, plm_embcache_rows(ec),
	       plm_embcache_nfailed(ec));
	if (jr || jf)
		printf(" (%zu rows, %zu failed in the journal, not yet "
		       "committed)", jr, jf);
	printf("\n");
	if (torn)
		plm_warn("%s-journal: %" PRIu64 " bytes of an interrupted write "
			 "ignored", path, torn);
	plm_embcache_abort(ec);
	return 0;
}

/* --ids FILE: one id per line → map id → 0 (not yet seen). */
static plm_strmap *load_ids(const char *path)
{
	char err[512];
	plm_in *in = plm_in_open(path, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	plm_strmap *m = plm_strmap_new();
	char *line = NULL;
	size_t n = 0, cap = 0;
	int added, end = 0;
	if (!m)
		plm_die("out of memory");
	while (!end) {
		int ch = '\n';
		if (in->pos < in->len) {
			ch = in->buf[in->pos++];
		} else {
			ssize_t r = plm_in_fill(in);
			if (r < 0)
				plm_die("%s", plm_in_error(in));
			if (r > 0)
				continue;
			end = 1;
		}
		if (ch != '\n') {
			if (n + 1 >= cap && !(line = realloc(line, cap = 2 * cap + 64)))
				plm_die("out of memory");
			line[n++] = (char)ch;
			continue;
		}
		if (n && line[n - 1] == '\r')
			n--;
		if (n && !plm_strmap_put(m, line, n, &added))
			plm_die("out of memory");
		n = 0;
	}
	free(line);
	plm_in_close(in);
	return m;
}

static int cmd_export(const char *path, int argc, char **argv)
{
	char err[512], hex[33];
	plm_embcache *ec = open_ro(path);
	const plm_embcache_cfg *s = plm_embcache_settings(ec);
	plm_strmap *ids = o.ids ? load_ids(o.ids) : NULL;
	plm_schema sc;
	plm_schema_init(&sc);
	plm_schema_add(&sc, "id", PLM_T_STR, 0);
	plm_schema_add(&sc, "seq_hash", PLM_T_STR, 0);
	if (o.failed)
		plm_schema_add(&sc, "reason", PLM_T_STR, 0);
	else
		plm_schema_add(&sc, o.field, s->dtype, s->dim);
	if (plm_schema_add_prov(&sc, plm_tool(), PLM_VERSION, argc, argv, 0, 0))
		plm_die("out of memory");
	plm_writer *w = plm_writer_open(o.c.output, plm_common_format(&o.c),
					&sc, err, sizeof err);
	if (!w)
		plm_die("%s", err);
	unsigned char *vec = malloc(plm_embcache_vecsize(ec));
	size_t n = o.failed ? plm_embcache_nfailed(ec) : plm_embcache_rows(ec);
	if (!vec)
		plm_die("out of memory");
	for (size_t i = 0; i < n; i++) {
		plm_h128 h;
		const char *id, *reason = NULL;
		size_t idlen;
		if (o.failed) {
			plm_embcache_failed(ec, i, &h, &id, &reason);
			idlen = strlen(id);
		} else if (plm_embcache_row(ec, i, &h, &id, &idlen, NULL)) {
			plm_writer_abort(w);
			plm_die("%s", plm_embcache_error(ec));
		}
		if (ids) {
			uint64_t *seen = plm_strmap_get(ids, id, idlen);
			if (!seen)
				continue;
			*seen = 1;
		}
		if (!o.failed && plm_embcache_row(ec, i, NULL, NULL, NULL, vec)) {
			plm_writer_abort(w);
			plm_die("%s", plm_embcache_error(ec));
		}
		plm_val v[3] = { plm_v_str(id, idlen),
				 plm_v_str(plm_h128_hex(h, hex), 32),
				 o.failed ? plm_v_str(reason, strlen(reason)) :
				 plm_v_bytes(vec, plm_embcache_vecsize(ec), 1) };
		if (plm_writer_row(w, v)) {
			plm_die("%s", plm_writer_error(w));  /* removes the temporary file */
		}
	}
	if (ids) {
		size_t nm = 0, k = plm_strmap_size(ids);
		char list[512];
		size_t l = 0;
		for (size_t i = 0; i < k; i++) {
			if (*plm_strmap_val(ids, i))
				continue;
			if (nm++ < SHOW && l < sizeof list)
				l += (size_t)snprintf(list + l, sizeof list - l,
						      "%s'%s'", l ? ", " : "",
						      plm_strmap_key(ids, i, NULL));
		}
		if (nm) {
			plm_writer_abort(w);
			plm_die("%s: %zu of %zu ids not in the cache%s: %s%s",
				o.ids, nm, k, o.failed ? "'s failures" : "",
				list, nm > SHOW ? ", ..." : "");
		}
		plm_strmap_free(ids);
	}
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	free(vec);
	plm_schema_free(&sc);
	plm_embcache_abort(ec);
	return 0;
}

static int cmd_merge(const char *out, int n, char **paths)
{
	char err[1024];
	if (n < 1)
		plm_usage_die("merge: want OUT and at least one CACHE");
	plm_embcache **in = calloc((size_t)n, sizeof *in);
	if (!in)
		plm_die("out of memory");
	size_t rows = 0;
	for (int i = 0; i < n; i++) {
		in[i] = open_ro(paths[i]);
		rows += plm_embcache_rows(in[i]);
	}
	uint64_t dups;
	if (plm_embcache_merge(out, in, (size_t)n, &dups, err, sizeof err))
		plm_die("%s", err);
	plm_embcache *m = open_ro(out);
	plm_warn("%s: %zu rows from %d caches (%" PRIu64 " duplicates "
		 "collapsed), %zu failed", out, plm_embcache_rows(m), n, dups,
		 plm_embcache_nfailed(m));
	plm_embcache_abort(m);
	for (int i = 0; i < n; i++)
		plm_embcache_abort(in[i]);
	free(in);
	(void)rows;
	return 0;
}

static int cmd_commit(const char *path)
{
	char err[1024];
	plm_embcache *ec = plm_embcache_open(path, NULL, 1, err, sizeof err);
	if (!ec)
		plm_die("%s", err);
	size_t jr, jf;
	plm_embcache_journal(ec, &jr, &jf, NULL);
	if (plm_embcache_close(ec, err, sizeof err))
		plm_die("%s", err);
	plm_warn("%s: committed %zu rows, %zu failed from the journal", path,
		 jr, jf);
	return 0;
}

/* import: records (id, seq or seq_hash, vector) into a cache. */
static int cmd_import(const char *path, int nfiles, char **files)
{
	char err[1024], tn[64];
	plm_recin *in = plm_recin_open(nfiles, files, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(in);
	const char *name = plm_recin_name(in);
	int ei = plm_schema_find(s, o.field), idi = plm_schema_find(s, "id");
	int si = plm_schema_find(s, o.seq), hi = plm_schema_find(s, "seq_hash");
	if (ei < 0)
		plm_die_nofield(s, "%s: no field '%s' in input", name, o.field);
	if (s->f[ei].type != PLM_T_F32 && s->f[ei].type != PLM_T_F16)
		plm_die("%s: field '%s' is %s; want f32[D] or f16[D]", name,
			o.field, plm_type_name(s->f[ei].type, s->f[ei].dim, tn,
					       sizeof tn));
	int ki = si >= 0 ? si : hi;
	if (ki < 0)
		plm_die_nofield(s, "%s: no field '%s' or 'seq_hash' in input",
				name, o.seq);
	if (s->f[ki].type != PLM_T_STR)
		plm_die("%s: field '%s' is not str", name, s->f[ki].name);
	if (idi >= 0 && s->f[idi].type != PLM_T_STR)
		plm_die("%s: field 'id' is not str", name);
	plm_embcache_cfg cfg = { .signature = o.sig, .model = o.model,
		.layer = (int)o.layer, .pool = o.pool, .dtype = s->f[ei].type,
		.dim = s->f[ei].dim, .max_len = (int)o.maxlen };
	int exists = !access(path, F_OK);
	if (!exists && (!o.sig || o.layer < 0 || !o.pool || o.maxlen <= 0))
		plm_usage_die("import into a new cache needs --signature, "
			      "--layer, --pool and --max-len");
	plm_embcache *ec = plm_embcache_open(path, o.sig ? &cfg : NULL, 1,
					     err, sizeof err);
	if (!ec)
		plm_die("%s", err);
	const plm_embcache_cfg *cf = plm_embcache_settings(ec);
	if (cf->dtype != cfg.dtype || cf->dim != cfg.dim) {
		enum plm_type dt = cf->dtype;
		uint32_t dim = cf->dim;
		plm_embcache_abort(ec);
		plm_die("%s: field '%s' is %s but the cache holds %s[%" PRIu32
			"]", name, o.field, plm_type_name(cfg.dtype, cfg.dim, tn,
							 sizeof tn),
			dtype_name(dt), dim);
	}
	uint64_t n = 0, added = 0, nil = 0;
	const plm_val *row;
	int rc;
	while ((rc = plm_recin_next(in, &row)) != PLM_EOF) {
		if (rc != PLM_ROW) {
			/* what was put stays in the journal: commit it so the
			 * rows are not lost, then report */
			plm_embcache_close(ec, err, sizeof err);
			if (rc == PLM_ERR)
				plm_die("%s", plm_recin_error(in));
			plm_die("%s: record %" PRIu64 ": the fields change; one "
				"set of fields per run", name,
				plm_recin_recno(in) + 1);
		}
		n++;
		plm_h128 h;
		const plm_val *k = &row[ki];
		if (k->nil || (ki == hi && plm_h128_parse(k->s, k->n, &h))) {
			plm_embcache_close(ec, err, sizeof err);
			plm_die("%s: record %" PRIu64 ": '%s' is %s", name,
				plm_recin_recno(in), s->f[ki].name, k->nil ?
				"nil" : "not 32 hex digits");
		}
		if (ki == si)
			h = plm_seq_hash(k->s, k->n);
		const char *id = idi >= 0 && !row[idi].nil ? row[idi].s : "";
		size_t idlen = idi >= 0 && !row[idi].nil ? row[idi].n : 0;
		int r;
		if (row[ei].nil) {
			nil++;
			r = plm_embcache_put_failed(ec, h, id, idlen,
						    "nil vector on import");
		} else {
			r = plm_embcache_put(ec, h, id, idlen, row[ei].s);
		}
		if (r < 0) {
			plm_warn("%s", plm_embcache_error(ec));
			plm_embcache_close(ec, err, sizeof err);
			plm_die("%s: record %" PRIu64 ": cannot store", name,
				plm_recin_recno(in));
		}
		added += r == 0 && !row[ei].nil;
	}
	size_t total = plm_embcache_rows(ec);
	if (plm_embcache_close(ec, err, sizeof err))
		plm_die("%s", err);
	plm_warn("%s: %" PRIu64 " of %" PRIu64 " records added (%zu rows "
		 "now)%s", path, added, n, total, nil ? ", nil vectors "
		 "recorded as failed" : "");
	plm_recin_close(in);
	return 0;
}

/* get: records with a sequence in, the same records with its vector out. */
static int cmd_get(const char *path, int nfiles, char **files, int argc,
		   char **argv)
{
	char err[1024], tn[64];
	plm_embcache *ec = open_ro(path);
	const plm_embcache_cfg *cf = plm_embcache_settings(ec);
	plm_shard sh = plm_shard_parse(o.c.shard);
	plm_recin *in = plm_recin_open(nfiles, files, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(in);
	int si = plm_schema_find(s, o.seq), idi = plm_schema_find(s, "id");
	if (si < 0)
		plm_die_nofield(s, "%s: no field '%s' in input",
				plm_recin_name(in), o.seq);
	if (s->f[si].type != PLM_T_STR)
		plm_die("%s: field '%s' is %s, not str", plm_recin_name(in),
			o.seq, plm_type_name(s->f[si].type, s->f[si].dim, tn,
					     sizeof tn));
	int shard_i = -1;
	if (sh.n && (shard_i = plm_shard_field(s, "id", err, sizeof err)) < 0)
		plm_die("--shard: %s", err);
	plm_schema out;
	if (plm_schema_copy(&out, s))
		plm_die("out of memory");
	int oi = plm_schema_add(&out, o.field, cf->dtype, cf->dim);
	if (oi == si)
		plm_usage_die("--field %s would overwrite the sequences", o.field);
	if (plm_schema_add_prov(&out, plm_tool(), PLM_VERSION, argc, argv, 0, 0))
		plm_die("out of memory");
	plm_schema ms;
	plm_writer *mw = NULL;
	if (o.missing) {
		if (plm_schema_copy(&ms, s) ||
		    plm_schema_add_prov(&ms, plm_tool(), PLM_VERSION, argc, argv,
					0, 0))
			plm_die("out of memory");
		if (!(mw = plm_writer_open(o.missing, 0, &ms, err, sizeof err)))
			plm_die("%s", err);
	}
	plm_writer *w = plm_writer_open(o.c.output, plm_common_format(&o.c),
					&out, err, sizeof err);
	if (!w)
		plm_die("%s", err);
	plm_val *v = calloc(out.n, sizeof *v);
	unsigned char *vec = malloc(plm_embcache_vecsize(ec));
	if (!v || !vec)
		plm_die("out of memory");
	plm_progress pg;
	plm_progress_init(&pg, o.c.progress, "B");
	uint64_t n = 0, nmiss = 0, nfail = 0;
	char shown[SHOW][200];
	const plm_val *row;
	int rc;
	while ((rc = plm_recin_next(in, &row)) != PLM_EOF) {
		if (rc != PLM_ROW) {
			plm_writer_abort(w);
			if (mw)
				plm_writer_abort(mw);
			if (rc == PLM_ERR)
				plm_die("%s", plm_recin_error(in));
			plm_die("%s: record %" PRIu64 ": the fields change; one "
				"set of fields per run", plm_recin_name(in),
				plm_recin_recno(in) + 1);
		}
		if (shard_i >= 0 && !plm_shard_keep_val(&sh, &row[shard_i],
							s->f[shard_i].type))
			continue;
		n++;
		int r = PLM_EC_MISS;
		if (!row[si].nil)
			r = plm_embcache_lookup(ec, plm_seq_hash(row[si].s,
								 row[si].n), vec);
		if (r == PLM_EC_ERR) {
			plm_writer_abort(w);
			if (mw)
				plm_writer_abort(mw);
			plm_die("%s", plm_embcache_error(ec));
		}
		if (r != PLM_EC_HIT) {
			if (nmiss < SHOW) {
				char id[100];
				if (idi >= 0)
					plm_val_text(&row[idi], s->f[idi].type,
						     id, sizeof id);
				else
					snprintf(id, sizeof id, "record %" PRIu64,
						 plm_recin_recno(in));
				snprintf(shown[nmiss], sizeof shown[0], "%s%s%s%s",
					 id, r == PLM_EC_FAILED ? " (failed: " : "",
					 r == PLM_EC_FAILED ?
					 plm_embcache_reason(ec) : "",
					 r == PLM_EC_FAILED ? ")" : "");
			}
			nmiss++;
			nfail += r == PLM_EC_FAILED;
			if (mw && plm_writer_row(mw, row)) {
				plm_writer_abort(w);
				plm_die("%s", plm_writer_error(mw));
			}
			continue;
		}
		memcpy(v, row, s->n * sizeof *v);
		v[oi] = plm_v_bytes(vec, plm_embcache_vecsize(ec), 1);
		if (plm_writer_row(w, v)) {
			if (mw)
				plm_writer_abort(mw);
			plm_die("%s", plm_writer_error(w));  /* removes the temporary file */
		}
		if (pg.on)
			plm_recin_progress(in, &pg, 0);
	}
	plm_recin_progress(in, &pg, 1);
	char list[SHOW * 210];
	size_t l = 0;
	for (uint64_t k = 0; k < nmiss && k < SHOW; k++)
		l += (size_t)snprintf(list + l, sizeof list - l, "%s%s",
				      k ? ", " : "", shown[k]);
	if (nmiss && !mw) {
		plm_writer_abort(w);
		plm_die("%s: %" PRIu64 " of %" PRIu64 " sequences have no "
			"embedding (%" PRIu64 " recorded as failed): %s%s", path,
			nmiss, n, nfail, list, nmiss > SHOW ? ", ..." : "");
	}
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	if (mw) {
		if (plm_writer_close(mw, err, sizeof err))
			plm_die("%s", err);
		plm_schema_free(&ms);
		if (nmiss)
			plm_warn("%" PRIu64 " of %" PRIu64 " sequences have no "
				 "embedding (%" PRIu64 " recorded as failed), "
				 "written to %s: %s%s", nmiss, n, nfail,
				 o.missing, list, nmiss > SHOW ? ", ..." : "");
	}
	free(v);
	free(vec);
	plm_schema_free(&out);
	plm_recin_close(in);
	plm_embcache_abort(ec);
	return 0;
}

/* ---- subcommands and their options ---- */

static const plm_opt no_opts[] = { PLM_OPT_END_ };

static const plm_opt export_opts[] = {
	PLM_FLAG(0, "failed", &o.failed,
		 "the failures (id, seq_hash, reason) instead of the vectors"),
	PLM_STR(0, "ids", &o.ids, "FILE",
		"only these ids (one per line); absent ones are an error"),
	PLM_STR(0, "field", &o.field, "NAME", "vector field (default emb)"),
	PLM_OPTS_OUTPUT(&o.c),
	PLM_OPT_END_,
};

static const plm_opt get_opts[] = {
	PLM_STR(0, "missing", &o.missing, "FILE",
		"write records without an embedding to FILE instead of "
		"failing"),
	PLM_STR(0, "seq", &o.seq, "FIELD", "sequence field (default seq)"),
	PLM_STR(0, "field", &o.field, "NAME", "vector field (default emb)"),
	PLM_OPTS_STREAM(&o.c),
};

static const plm_opt import_opts[] = {
	PLM_STR(0, "seq", &o.seq, "FIELD", "sequence field (default seq)"),
	PLM_STR(0, "field", &o.field, "NAME", "vector field (default emb)"),
	PLM_STR(0, "signature", &o.sig, "SIG",
		"model signature of a new cache"),
	PLM_STR(0, "model", &o.model, "PATH",
		"model path recorded in a new cache"),
	PLM_INT(0, "layer", &o.layer, "N", "layer of a new cache", 0, 1 << 20),
	PLM_STR(0, "pool", &o.pool, "HOW", "pooling of a new cache"),
	PLM_INT(0, "max-len", &o.maxlen, "N", "truncation of a new cache",
		1, 1 << 30),
	PLM_OPT_END_,
};

/* CACHE, the one operand of most subcommands. */
static const char *one_cache(int argc, char **argv, int i)
{
	if (argc - i < 1)
		plm_usage_die("%s: want a cache", argv[0]);
	if (argc - i > 1)
		plm_usage_die("%s takes one cache", argv[0]);
	return argv[i];
}

static int run_info(int argc, char **argv, int i)
{
	return cmd_info(one_cache(argc, argv, i));
}

static int run_check(int argc, char **argv, int i)
{
	return cmd_check(one_cache(argc, argv, i));
}

static int run_commit(int argc, char **argv, int i)
{
	return cmd_commit(one_cache(argc, argv, i));
}

static int run_export(int argc, char **argv, int i)
{
	return cmd_export(one_cache(argc, argv, i), plm_argc(), plm_argv());
}

static int run_get(int argc, char **argv, int i)
{
	if (argc - i < 1)
		plm_usage_die("get: want a cache");
	return cmd_get(argv[i], argc - i - 1, argv + i + 1, plm_argc(),
		       plm_argv());
}

static int run_merge(int argc, char **argv, int i)
{
	if (argc - i < 1)
		plm_usage_die("merge: want an output cache");
	return cmd_merge(argv[i], argc - i - 1, argv + i + 1);
}

static int run_import(int argc, char **argv, int i)
{
	if (argc - i < 1)
		plm_usage_die("import: want a cache");
	return cmd_import(argv[i], argc - i - 1, argv + i + 1);
}

static const plm_sub subs[] = {
	{ "ls", run_info, "the same as info", no_opts, "CACHE" },
	{ "info", run_info, "print the settings and counts", no_opts, "CACHE" },
	{ "check", run_check, "check the file and that the journal replays",
	  no_opts, "CACHE" },
	{ "export", run_export, "write every row (or every failure) as a record",
	  export_opts, "CACHE" },
	{ "get", run_get, "add the cached embedding to records with a sequence",
	  get_opts, "CACHE [FILE ...]" },
	{ "merge", run_merge, "write the union of caches with equal settings",
	  no_opts, "OUT CACHE ..." },
	{ "import", run_import, "add records holding a vector field to a cache",
	  import_opts, "CACHE [FILE ...]" },
	{ "commit", run_commit, "commit a journal left by a killed writer",
	  no_opts, "CACHE" },
	{ NULL, NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	return plm_start_sub("emb-cache", argc, argv, subs, summary);
}
