/* feat-export — a vector field of a record stream to a float32 .npy (and
 * an ids file) or to an HDF5 file with datasets emb and id. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/float.h"
#include "plm/h5arr.h"
#include "plm/io.h"
#include "plm/npy.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"write a vector field as a float32 .npy [N, D] (ids to a file) or an HDF5 file (emb, id)";

struct exp {
	const char *field, *idf, *path, *ids_path;
	int skip_nil, h5;
	int fi, ii;                     /* field indexes in the section */
	enum plm_type t, idt;
	uint32_t d;
	int opened;
	plm_npyw *npy;
	plm_h5w *hw;
	plm_out *ids;
	float *row;
	uint64_t nil;
};

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);
	return n >= k && strcmp(s + n - k, suf) == 0;
}

static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct exp *x = ctx;
	/* nothing is written through the driver: no output fields */
	if (plm_verb_table(out, in))
		return -1;
	int fi = plm_schema_find(in, x->field);
	int ii = plm_schema_find(in, x->idf);
	if (fi < 0) {
		plm_nofield(err, errlen, in, "no field '%s' in input",
			    x->field);
		return -1;
	}
	const plm_field *f = &in->f[fi];
	if (f->type != PLM_T_F32 && f->type != PLM_T_F16 &&
	    f->type != PLM_T_BF16) {
		char tn[64];
		snprintf(err, errlen, "field '%s' is %s, not a vector (f32, "
			 "f16 or bf16)", x->field,
			 plm_type_name(f->type, f->dim, tn, sizeof tn));
		return -1;
	}
	if (x->opened && f->dim != x->d) {
		snprintf(err, errlen, "field '%s' changes from %" PRIu32
			 " to %" PRIu32 " values", x->field, x->d, f->dim);
		return -1;
	}
	if ((x->h5 || x->ids_path) && ii < 0) {
		plm_nofield(err, errlen, in, "no field '%s' in input", x->idf);
		return -1;
	}
	if (ii >= 0 && in->f[ii].type != PLM_T_STR &&
	    in->f[ii].type != PLM_T_INT) {
		snprintf(err, errlen, "field '%s' is not str or int", x->idf);
		return -1;
	}
	x->fi = fi, x->ii = ii, x->t = f->type;
	x->idt = ii >= 0 ? in->f[ii].type : PLM_T_STR;
	if (!x->opened) {
		x->d = f->dim;
		x->row = plm_xmalloc((size_t)x->d * sizeof *x->row + 1);
		if (x->h5)
			x->hw = plm_h5w_open(x->path, x->d, err, errlen);
		else
			x->npy = plm_npyw_open(x->path, x->d, err, errlen);
		if (!x->hw && !x->npy)
			return -1;
		if (x->ids_path &&
		    !(x->ids = plm_out_open(x->ids_path, err, errlen)))
			return -1;
		x->opened = 1;
	}
	return 0;
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct exp *x = ctx;
	const plm_val *v = &in[x->fi];
	char num[32];
	const char *id = NULL;
	size_t idlen = 0;
	(void)out;
	if (x->ii >= 0) {
		const plm_val *iv = &in[x->ii];
		if (iv->nil) {
			snprintf(err, errlen, "field '%s' is nil", x->idf);
			return PLM_VERB_FAIL;
		}
		if (x->idt == PLM_T_INT) {
			idlen = (size_t)snprintf(num, sizeof num, "%" PRId64,
						 iv->i);
			id = num;
		} else {
			id = iv->s, idlen = iv->n;
		}
		if (x->ids && (memchr(id, '\n', idlen) ||
			       memchr(id, '\r', idlen))) {
			snprintf(err, errlen, "field '%s' holds a line break: "
				 "not writable one per line", x->idf);
			return PLM_VERB_FAIL;
		}
		if (x->h5 && memchr(id, 0, idlen)) {
			snprintf(err, errlen, "field '%s' holds a NUL byte",
				 x->idf);
			return PLM_VERB_FAIL;
		}
	}
	if (v->nil) {
		if (x->skip_nil) {
			x->nil++;
			return PLM_VERB_SKIP;
		}
		snprintf(err, errlen, "field '%s' is nil (--skip-nil leaves "
			 "such records out)", x->field);
		return PLM_VERB_FAIL;
	}
	const unsigned char *p = (const unsigned char *)v->s;
	for (uint32_t j = 0; j < x->d; j++) {
		if (x->t == PLM_T_F32) {
			uint32_t u = (uint32_t)p[4 * j] | (uint32_t)p[4 * j + 1] << 8 |
				     (uint32_t)p[4 * j + 2] << 16 |
				     (uint32_t)p[4 * j + 3] << 24;
			x->row[j] = plm_bits_f32(u);
		} else {
			uint16_t h = (uint16_t)(p[2 * j] | p[2 * j + 1] << 8);
			x->row[j] = x->t == PLM_T_F16 ? plm_f16_to_f32(h)
						      : plm_bf16_to_f32(h);
		}
	}
	int rc = x->h5 ? plm_h5w_row(x->hw, x->row, id, idlen, err, errlen)
		       : plm_npyw_row(x->npy, x->row, err, errlen);
	if (rc)
		plm_die("%s", err);
	if (x->ids && (plm_out_write(x->ids, id, idlen) ||
		       plm_out_putc(x->ids, '\n')))
		plm_die("%s", plm_out_error(x->ids));
	return PLM_VERB_EMIT;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *key = "id";
	struct exp x = { .field = "emb", .idf = "id" };
	const plm_opt opts[] = {
		PLM_STR(0, "field", &x.field, "NAME",
			"the vector field written (default emb; f32, f16 or bf16)"),
		PLM_STR(0, "id", &x.idf, "FIELD", "the id field (default id)"),
		PLM_STR(0, "ids", &x.ids_path, "FILE",
			"with a .npy: write the ids to FILE, one per line"),
		PLM_FLAG(0, "skip-nil", &x.skip_nil,
			 "leave out records whose vector is nil, and count them"),
		PLM_STR_REQ('o', "output", &x.path, "FILE",
			    "the .npy, or the HDF5 file when FILE ends in .h5 or .hdf5"),
		PLM_OPTS_READ_KEY(&c, &key),
	};
	char err[1024];

	int i = plm_start("feat-export", argc, argv, opts, operands, summary);
	if (!x.path || !*x.path || strcmp(x.path, "-") == 0)
		plm_usage_die("-o FILE is required (a file: the header is "
			      "written last)");
	x.h5 = ends_with(x.path, ".h5") || ends_with(x.path, ".hdf5");
	if (x.h5 && x.ids_path)
		plm_usage_die("--ids: an HDF5 output holds the ids (dataset id)");
	plm_verb v = { .common = &c, .shard_key = key, .ctx = &x,
		       .section = section, .row = row, .no_output = 1 };
	plm_verb_run(&v, argc - i, argv + i);
	if (!x.opened)
		plm_die("no input");
	uint64_t n = x.h5 ? plm_h5w_rows(x.hw) : plm_npyw_rows(x.npy);
	if (x.ids && plm_out_close(x.ids, err, sizeof err))
		plm_die("%s", err);
	if (x.h5 ? plm_h5w_close(x.hw, err, sizeof err)
		 : plm_npyw_close(x.npy, err, sizeof err))
		plm_die("%s", err);
	if (x.nil)
		plm_warn("%" PRIu64 " record%s with a nil '%s' left out "
			 "(--skip-nil); %" PRIu64 " written", x.nil,
			 x.nil == 1 ? "" : "s", x.field, n);
	free(x.row);
	return 0;
}
