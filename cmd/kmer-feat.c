/* kmer-feat — amino-acid, dipeptide and k-mer composition features
 * (kmer.h), one vector per record, streamed. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/kmer.h"
#include "plm/recin.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [--aac] [--dpc] [--progress] [-k K] [--dim D] [-s FIELD] "
	"[--field NAME] [-o FILE] [--shard K/N] [FILE ...]";
static const char summary[] =
	"composition features (20 residues, 400 dipeptides, hashed k-mers)";

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	int aac = 0, dpc = 0;
	long long k = 0, dim = 0;
	const char *sfield = "seq", *ofield = "emb";
	const plm_opt opts[] = {
		PLM_FLAG(0, "aac", &aac, "amino-acid composition (20 values)"),
		PLM_FLAG(0, "dpc", &dpc, "dipeptide composition (400 values)"),
		PLM_INT('k', "k", &k, "K", "k-mer composition, k-mers of length K",
			1, PLM_KMER_MAX_K),
		PLM_INT(0, "dim", &dim, "D", "hash the k-mers into D buckets",
			1, 1 << 24),
		PLM_STR('s', "seq", &sfield, "FIELD",
			"sequence field (default seq)"),
		PLM_STR(0, "field", &ofield, "NAME",
			"output field (default emb), f32[D]"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_OPT_END_,
	};
	char err[512], tn[64];
	plm_init("kmer-feat", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	plm_kmer_spec spec = { aac, dpc, (int)k, (uint32_t)dim };
	if (!aac && !dpc && !k)
		spec.aac = spec.dpc = 1;
	uint32_t D = plm_kmer_dim(&spec, err, sizeof err);
	if (!D)
		plm_usage_die("%s", err);
	plm_shard sh = plm_shard_parse(c.shard);
	int fmt = plm_common_format(&c);

	plm_recin *in = plm_recin_open(argc - i, argv + i, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(in);
	int si = plm_schema_find(s, sfield);
	if (si < 0)
		plm_die("%s: no field '%s' in input", plm_recin_name(in), sfield);
	if (s->f[si].type != PLM_T_STR)
		plm_die("%s: field '%s' is %s, not str", plm_recin_name(in),
			sfield, plm_type_name(s->f[si].type, s->f[si].dim, tn,
					      sizeof tn));
	int shard_i = -1;
	if (sh.n && (shard_i = plm_shard_field(s, "id", err, sizeof err)) < 0)
		plm_die("--shard: %s", err);
	plm_schema out;
	if (plm_schema_copy(&out, s))
		plm_die("out of memory");
	int oi = plm_schema_add(&out, ofield, PLM_T_F32, D);
	if (oi == si)
		plm_usage_die("--field %s would overwrite the sequences", ofield);
	if (plm_schema_add_prov(&out, plm_tool(), PLM_VERSION, argc, argv, 0, 0))
		plm_die("out of memory");
	plm_val *v = calloc(out.n, sizeof *v);
	float *vec = malloc((size_t)D * sizeof *vec);
	if (!v || !vec)
		plm_die("out of memory");
	plm_writer *w = plm_writer_open(c.output, fmt, &out, err, sizeof err);
	if (!w)
		plm_die("%s", err);

	plm_progress pg;
	plm_progress_init(&pg, c.progress, "B");
	uint64_t n = 0, nilseq = 0, skipped = 0, withskip = 0, empty = 0;
	const plm_val *row;
	int rc;
	while ((rc = plm_recin_next(in, &row)) != PLM_EOF) {
		if (rc == PLM_ERR) {
			plm_writer_abort(w);
			plm_die("%s", plm_recin_error(in));
		}
		if (rc == PLM_HEADER) {
			plm_writer_abort(w);
			plm_die("%s: record %" PRIu64 ": the fields change; "
				"one set of fields per run", plm_recin_name(in),
				plm_recin_recno(in) + 1);
		}
		if (shard_i >= 0 && !plm_shard_keep_val(&sh, &row[shard_i],
							s->f[shard_i].type))
			continue;
		n++;
		memcpy(v, row, s->n * sizeof *v);
		if (row[si].nil) {
			nilseq++;
			v[oi] = plm_v_nil();
		} else {
			plm_kmer_stats st;
			plm_kmer_feat(&spec, row[si].s, row[si].n, vec, &st);
			skipped += st.skipped;
			withskip += st.skipped > 0;
			empty += st.empty > 0;
			v[oi] = plm_v_bytes(vec, (size_t)D * 4, 1);
		}
		if (plm_writer_row(w, v)) {
			plm_die("%s", plm_writer_error(w));  /* removes the temporary file */
		}
		if (pg.on)
			plm_recin_progress(in, &pg, 0);
	}
	plm_recin_progress(in, &pg, 1);
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	if (skipped)
		plm_warn("skipped %" PRIu64 " non-standard residues in %" PRIu64
			 " of %" PRIu64 " records", skipped, withskip, n);
	if (empty)
		plm_warn("%" PRIu64 " records had a block with no window "
			 "(too short or no standard residue): zeros", empty);
	if (nilseq)
		plm_warn("%" PRIu64 " records had no sequence (nil): %s nil",
			 nilseq, ofield);
	free(v);
	free(vec);
	plm_schema_free(&out);
	plm_recin_close(in);
	return 0;
}
