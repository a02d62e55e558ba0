/* len-bin — assign length bins ([lo, hi) intervals) to records, and
 * derive per-bin integer quotas from a reference distribution. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plm/bins.h"
#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"assign length bins bin, bin_lo, bin_hi; derive per-bin quotas";

static const char *seqf = "seq", *lenf = "len";

/* Where a section's length comes from: the int field lenf if the section
 * has it, else the str field seqf. */
typedef struct lensrc {
	int li, si;
} lensrc;

static int lensrc_find(lensrc *ls, const plm_schema *s, char *err, size_t errlen)
{
	char t[64];
	ls->li = plm_schema_find(s, lenf);
	ls->si = -1;
	if (ls->li >= 0) {
		if (s->f[ls->li].type == PLM_T_INT)
			return 0;
		snprintf(err, errlen, "field '%s' is %s: a length must be int", lenf,
			 plm_type_name(s->f[ls->li].type, s->f[ls->li].dim, t, sizeof t));
		return -1;
	}
	ls->si = plm_schema_find(s, seqf);
	if (ls->si < 0) {
		plm_nofield(err, errlen, s, "no field '%s' or '%s' in input",
			    lenf, seqf);
		return -1;
	}
	if (s->f[ls->si].type != PLM_T_STR) {
		snprintf(err, errlen, "field '%s' is %s: a sequence must be str", seqf,
			 plm_type_name(s->f[ls->si].type, s->f[ls->si].dim, t, sizeof t));
		return -1;
	}
	return 0;
}

/* The length of row, or -1 + err. */
static int64_t row_len(const lensrc *ls, const plm_val *row, char *err,
		       size_t errlen)
{
	const plm_val *v = &row[ls->li >= 0 ? ls->li : ls->si];
	if (v->nil) {
		snprintf(err, errlen, "field '%s' is nil", ls->li >= 0 ? lenf : seqf);
		return -1;
	}
	if (ls->li < 0)
		return (int64_t)v->n;
	if (v->i < 0) {
		snprintf(err, errlen, "field '%s' is negative (%lld)", lenf, (long long)v->i);
		return -1;
	}
	return v->i;
}

/* quant: the lengths make quantile edges, and the largest length + 1 is
 * the last edge, so INT64_MAX has no bin to go in. */
static void read_ref(const char *path, plm_lenhist *h, int quant)
{
	char err[1024], msg[1100];
	const plm_val *row;
	lensrc ls;
	plm_reader *r = plm_reader_open(path, err, sizeof err);
	if (!r)
		plm_die("--ref: %s", err);
	if (lensrc_find(&ls, plm_reader_schema(r), err, sizeof err))
		plm_die("--ref: %s: %s", path, err);
	for (;;) {
		int rc = plm_reader_next(r, &row);
		if (rc == PLM_EOF)
			break;
		if (rc == PLM_ERR)
			plm_die("--ref: %s", plm_reader_error(r));
		if (rc == PLM_HEADER) {
			if (lensrc_find(&ls, plm_reader_schema(r), err, sizeof err))
				plm_die("--ref: %s: %s", path, err);
			continue;
		}
		int64_t len = row_len(&ls, row, err, sizeof err);
		if (quant && len == INT64_MAX) {
			snprintf(err, sizeof err, "length %lld is too large for "
				 "--quantiles (at most %lld)", (long long)len,
				 (long long)INT64_MAX - 1);
			len = -1;
		}
		if (len < 0) {
			snprintf(msg, sizeof msg, "--ref: %s: record %llu: %s", path,
				 (unsigned long long)plm_reader_recno(r), err);
			plm_die("%s", msg);
		}
		if (plm_lenhist_add(h, len))
			plm_die("out of memory");
	}
	plm_reader_close(r);
	if (h->n == 0)
		plm_die("--ref: %s: no records", path);
}

static void add_prov(plm_schema *s, const plm_bins *b)
{
	char edges[4096];
	if (plm_schema_add_prov(s, plm_tool(), PLM_VERSION, plm_argc(), plm_argv(), 0, 0) ||
	    plm_schema_prov_set(s, "edges", plm_bins_format(b, edges, sizeof edges)))
		plm_die("out of memory");
}

/* The quota table: bin, [bin_lo, bin_hi,] quota. */
static void write_targets(const char *path, int fmt, int bounds,
			  const plm_bins *b, const uint64_t *quota)
{
	char err[1024];
	plm_schema s;
	plm_schema_init(&s);
	plm_schema_add(&s, "bin", PLM_T_INT, 0);
	if (bounds) {
		plm_schema_add(&s, "bin_lo", PLM_T_INT, 0);
		plm_schema_add(&s, "bin_hi", PLM_T_INT, 0);
	}
	plm_schema_add(&s, "quota", PLM_T_INT, 0);
	add_prov(&s, b);
	plm_writer *w = plm_writer_open(path, fmt, &s, err, sizeof err);
	if (!w)
		plm_die("%s", err);
	for (size_t i = 0; i < b->n; i++) {
		plm_val v[4] = { plm_v_int((int64_t)i), plm_v_int(b->edge[i]),
				 plm_v_int(b->edge[i + 1]), plm_v_int((int64_t)quota[i]) };
		if (!bounds)
			v[1] = v[3];
		if (plm_writer_row(w, v)) {
			plm_die("%s", plm_writer_error(w));  /* removes the temporary file */
		}
	}
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	plm_schema_free(&s);
}

struct binner {
	const plm_bins *b;
	int clamp;
	lensrc ls;
	int bi, loi, hii;
	size_t nin;
	const plm_verb *v;
};

static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct binner *x = ctx;
	char edges[4096];
	int n = 0;
	/* on a later section, the record that starts it */
	if (x->v->where)
		n = snprintf(err, errlen, "record %llu: ",
			     (unsigned long long)x->v->recno + 1);
	if (lensrc_find(&x->ls, in, err + n, errlen - (size_t)n))
		return -1;
	*err = 0;
	if (plm_schema_derive(out, in, 0, 0) ||
	    plm_schema_prov_set(out, "edges", plm_bins_format(x->b, edges,
							      sizeof edges)))
		return -1;
	x->bi = plm_schema_add(out, "bin", PLM_T_INT, 0);
	x->loi = plm_schema_add(out, "bin_lo", PLM_T_INT, 0);
	x->hii = plm_schema_add(out, "bin_hi", PLM_T_INT, 0);
	x->nin = in->n;
	return x->bi < 0 || x->loi < 0 || x->hii < 0 ? -1 : 0;
}

/* A record's errors name it by number alone, as the input is one stream
 * (its message says "record N: ...", no file). */
static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	const struct binner *x = ctx;
	const plm_bins *b = x->b;
	unsigned long long recno = (unsigned long long)x->v->recno;
	int64_t len = row_len(&x->ls, in, err, errlen);
	if (len < 0)
		plm_die("record %llu: %s", recno, err);
	long k = plm_bins_find(b, len);
	if (k < 0 && x->clamp)
		k = k == -1 ? 0 : (long)b->n - 1;
	if (k < 0)
		plm_die("record %llu: length %lld is outside the bins [%lld, %lld) (use --clamp)",
			recno, (long long)len, (long long)b->edge[0], (long long)b->edge[b->n]);
	memcpy(out, in, x->nin * sizeof *out);
	out[x->bi] = plm_v_int(k);
	out[x->loi] = plm_v_int(b->edge[k]);
	out[x->hii] = plm_v_int(b->edge[k + 1]);
	return PLM_VERB_EMIT;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *edges = NULL, *ref = NULL, *tout = NULL, *skey = "id";
	long long nq = 0, targets = -1;
	int clamp = 0;
	const plm_opt opts[] = {
		PLM_STR(0, "edges", &edges, "LIST", "bin edges, e.g. 0,100,200 (bins [0,100) [100,200))"),
		PLM_INT(0, "quantiles", &nq, "N", "N bins from quantiles of --ref", 1, 100000),
		PLM_STR(0, "ref", &ref, "FILE", "reference stream (quantiles, quotas)"),
		PLM_FLAG(0, "clamp", &clamp, "put lengths outside the edges into the end bins"),
		PLM_STR(0, "seq", &seqf, "FIELD", "sequence field (default seq)"),
		PLM_STR(0, "len-field", &lenf, "FIELD", "length field, used when present (default len)"),
		PLM_INT(0, "targets", &targets, "N", "per-bin quotas summing to N, from --ref", 0, LLONG_MAX),
		PLM_STR(0, "targets-out", &tout, "FILE", "write the quotas (bin, quota) to FILE and bin the input"),
		PLM_OPTS_STREAM_KEY(&c, &skey),
	};
	char err[1024], msg[1200];
	plm_lenhist h = { 0 };
	plm_bins b;
	uint64_t *quota = NULL;

	int i = plm_start("len-bin", argc, argv, opts, operands, summary);
	plm_shard_parse(c.shard);       /* usage errors before reading --ref */
	int fmt = plm_common_format(&c);
	if (!edges == !nq)
		plm_usage_die("give exactly one of --edges and --quantiles");
	if (nq && !ref)
		plm_usage_die("--quantiles needs --ref FILE");
	if (targets >= 0 && !ref)
		plm_usage_die("--targets needs --ref FILE");
	if (tout && targets < 0)
		plm_usage_die("--targets-out needs --targets N");
	if (targets >= 0 && !tout && i < argc)
		plm_usage_die("--targets without --targets-out writes the quota table and reads no input; give --targets-out FILE to bin FILE operands too");

	if (ref)
		read_ref(ref, &h, nq > 0);
	if (edges ? plm_bins_parse(&b, edges, err, sizeof err)
		  : plm_bins_quantiles(&b, &h, (size_t)nq, err, sizeof err))
		plm_usage_die("%s", err);
	if (nq && b.n < (size_t)nq)
		plm_warn("%zu bins, not %lld: reference lengths tie at quantiles (edges %s)",
			 b.n, nq, plm_bins_format(&b, msg, sizeof msg));

	if (targets >= 0) {
		uint64_t *cnt = calloc(b.n, sizeof *cnt), outside;
		quota = calloc(b.n, sizeof *quota);
		if (!cnt || !quota)
			plm_die("out of memory");
		plm_lenhist_bin(&h, &b, clamp, cnt, &outside);
		if (outside)
			plm_die("--ref: %llu reference lengths outside the edges %s (use --clamp)",
				(unsigned long long)outside, plm_bins_format(&b, msg, sizeof msg));
		if (plm_quota_lr(cnt, b.n, (uint64_t)targets, quota))
			plm_die("--ref: no reference lengths in any bin");
		free(cnt);
		if (!tout) {
			write_targets(c.output, fmt, 1, &b, quota);
			goto done;
		}
	}

	/* the quota table only once the records are safely out */
	struct binner x = { .b = &b, .clamp = clamp };
	plm_verb v = { .common = &c, .shard_key = skey, .ctx = &x,
		       .section = section, .row = row };
	x.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	if (tout) {
		/* The records and their quota table go together: if the table
		 * cannot be written (a full disk), plm_die removes the records
		 * too.  Only a regular file: never a device or stdout. */
		struct stat st;
		int reg = c.output && strcmp(c.output, "-") &&
			  stat(c.output, &st) == 0 && S_ISREG(st.st_mode);
		if (reg)
			plm_tmp_register(c.output);
		write_targets(tout, fmt, 0, &b, quota);
		if (reg)
			plm_tmp_forget(c.output);
	}
done:
	plm_bins_free(&b);
	plm_lenhist_free(&h);
	free(quota);
	return 0;
}
