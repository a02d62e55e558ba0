/* kmer-feat — amino-acid, dipeptide and k-mer composition features
 * (kmer.h), one vector per record, streamed. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/kmer.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"composition features (20 residues, 400 dipeptides, hashed k-mers)";

struct kf {
	plm_kmer_spec spec;
	const char *sfield, *ofield;
	uint32_t D;
	int si, oi;             /* sequence field, output field */
	size_t nin;
	float *vec;
	const plm_verb *v;
	uint64_t n, nilseq, skipped, withskip, empty;
};

/* One set of fields per run: the output vector's field is placed once. */
static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct kf *x = ctx;
	char tn[64];
	if (x->v->where) {
		snprintf(err, errlen, "record %" PRIu64 ": the fields change; "
			 "one set of fields per run", x->v->recno + 1);
		return -1;
	}
	if ((x->si = plm_schema_find(in, x->sfield)) < 0) {
		plm_nofield(err, errlen, in, "no field '%s' in input",
			    x->sfield);
		return -1;
	}
	if (in->f[x->si].type != PLM_T_STR) {
		snprintf(err, errlen, "field '%s' is %s, not str", x->sfield,
			 plm_type_name(in->f[x->si].type, in->f[x->si].dim, tn,
				       sizeof tn));
		return -1;
	}
	if (plm_schema_derive(out, in, 0, 0))
		return -1;
	x->oi = plm_schema_add(out, x->ofield, PLM_T_F32, x->D);
	if (x->oi < 0)
		return -1;
	if (x->oi == x->si)
		plm_usage_die("--field %s would overwrite the sequences",
			      x->ofield);
	x->nin = in->n;
	return 0;
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct kf *x = ctx;
	(void)err, (void)errlen;
	x->n++;
	memcpy(out, in, x->nin * sizeof *out);
	if (in[x->si].nil) {
		x->nilseq++;
		out[x->oi] = plm_v_nil();
		return PLM_VERB_EMIT;
	}
	plm_kmer_stats st;
	plm_kmer_feat(&x->spec, in[x->si].s, in[x->si].n, x->vec, &st);
	x->skipped += st.skipped;
	x->withskip += st.skipped > 0;
	x->empty += st.empty > 0;
	out[x->oi] = plm_v_bytes(x->vec, (size_t)x->D * 4, 1);
	return PLM_VERB_EMIT;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	int aac = 0, dpc = 0;
	long long k = 0, dim = 0;
	struct kf x = { .sfield = "seq", .ofield = "emb" };
	const plm_opt opts[] = {
		PLM_FLAG(0, "aac", &aac, "amino-acid composition (20 values)"),
		PLM_FLAG(0, "dpc", &dpc, "dipeptide composition (400 values)"),
		PLM_INT(0, "kmer", &k, "K", "k-mer composition, k-mers of length K",
			1, PLM_KMER_MAX_K),
		PLM_ALIAS(0, "k", "kmer"),
		PLM_INT(0, "dim", &dim, "D", "hash the k-mers into D buckets",
			1, 1 << 24),
		PLM_STR(0, "seq", &x.sfield, "FIELD",
			"sequence field (default seq)"),
		PLM_STR(0, "field", &x.ofield, "NAME",
			"output field (default emb), f32[D]"),
		PLM_OPTS_STREAM(&c),
	};
	char err[512];
	int i = plm_start("kmer-feat", argc, argv, opts, operands, summary);
	x.spec = (plm_kmer_spec){ aac, dpc, (int)k, (uint32_t)dim };
	if (!aac && !dpc && !k)
		x.spec.aac = x.spec.dpc = 1;
	if (!(x.D = plm_kmer_dim(&x.spec, err, sizeof err)))
		plm_usage_die("%s", err);
	if (!(x.vec = malloc((size_t)x.D * sizeof *x.vec)))
		plm_die("out of memory");
	plm_verb v = { .common = &c, .ctx = &x, .section = section,
		       .row = row };
	x.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	if (x.skipped)
		plm_warn("skipped %" PRIu64 " non-standard residues in %" PRIu64
			 " of %" PRIu64 " records", x.skipped, x.withskip, x.n);
	if (x.empty)
		plm_warn("%" PRIu64 " records had a block with no window "
			 "(too short or no standard residue): zeros", x.empty);
	if (x.nilseq)
		plm_warn("%" PRIu64 " records had no sequence (nil): %s nil",
			 x.nilseq, x.ofield);
	free(x.vec);
	return 0;
}
