/* rec-fasta — records to FASTA, or FASTQ with --qual: the way back from
 * fasta-cat.  The output is text, not a record stream: the driver opens no
 * writer and row() writes through one plm_out. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/io.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"write records as FASTA, or FASTQ with --qual";

typedef struct ctx {
	const char *id, *desc, *seq, *qual;
	int desc_given;         /* --desc named: its absence is an error */
	long long width;        /* sequence line length; 0: one line */
	plm_out *out;
	/* field indices in the current section; desc -1: none */
	int fi, fd, fs, fq;
	enum plm_type id_type;
} ctx;

/* The index of field name, which must be str (or int for the id), or -1
 * with err. */
static int need(const plm_schema *in, const char *name, const char *opt,
		int int_ok, char *err, size_t errlen)
{
	int i = plm_schema_find(in, name);
	char tn[64];

	if (i < 0) {
		plm_nofield(err, errlen, in, "no field '%s' in input (%s)", name,
			    opt);
		return -1;
	}
	if (in->f[i].type != PLM_T_STR &&
	    !(int_ok && in->f[i].type == PLM_T_INT)) {
		plm_type_name(in->f[i].type, in->f[i].dim, tn, sizeof tn);
		snprintf(err, errlen, "field '%s' is %s, not str%s", name, tn,
			 int_ok ? " or int" : "");
		return -1;
	}
	return i;
}

static int section(void *vx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	ctx *x = vx;

	x->fd = x->fq = -1;
	if ((x->fi = need(in, x->id, "--id", 1, err, errlen)) < 0 ||
	    (x->fs = need(in, x->seq, "--seq", 0, err, errlen)) < 0)
		return -1;
	if ((x->desc_given || plm_schema_find(in, x->desc) >= 0) &&
	    (x->fd = need(in, x->desc, "--desc", 0, err, errlen)) < 0)
		return -1;
	if (x->qual && (x->fq = need(in, x->qual, "--qual", 0, err, errlen)) < 0)
		return -1;
	x->id_type = in->f[x->fi].type;
	/* no records are written: an empty table for the driver */
	return plm_verb_table(out, in);
}

/* A value that must stay on its line: no LF or CR; the id, which ends
 * at the first blank when read back, no space or tab either. */
static int bad_bytes(const plm_val *v, int is_id)
{
	for (size_t i = 0; i < v->n; i++) {
		char c = v->s[i];
		if (c == '\n' || c == '\r' || (is_id && (c == ' ' || c == '\t')))
			return 1;
	}
	return 0;
}

static void put(ctx *x, const void *p, size_t n)
{
	if (plm_out_write(x->out, p, n))
		plm_die("%s", plm_out_error(x->out));
}

/* s[0..n) in lines of x->width (one line when 0, an empty line when n is
 * 0, as seqkit writes them). */
static void put_wrapped(ctx *x, const char *s, size_t n, size_t width)
{
	size_t i = 0;

	do {
		size_t k = width && n - i > width ? width : n - i;
		put(x, s + i, k);
		put(x, "\n", 1);
		i += k;
	} while (i < n);
}

static int row(void *vx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	ctx *x = vx;
	const plm_val *id = &in[x->fi], *seq = &in[x->fs];
	const plm_val *desc = x->fd >= 0 ? &in[x->fd] : NULL;
	const plm_val *qual = x->fq >= 0 ? &in[x->fq] : NULL;
	char num[32];

	(void)out;
	if (id->nil || seq->nil || (qual && qual->nil)) {
		snprintf(err, errlen, "field '%s' is nil",
			 id->nil ? x->id : seq->nil ? x->seq : x->qual);
		return PLM_VERB_FAIL;
	}
	if (x->id_type == PLM_T_STR && bad_bytes(id, 1)) {
		snprintf(err, errlen, "field '%s' holds a blank or line break: "
			 "not an id", x->id);
		return PLM_VERB_FAIL;
	}
	if ((desc && !desc->nil && bad_bytes(desc, 0)) || bad_bytes(seq, 0) ||
	    (qual && bad_bytes(qual, 0))) {
		snprintf(err, errlen, "field '%s' holds a line break",
			 desc && !desc->nil && bad_bytes(desc, 0) ? x->desc :
			 bad_bytes(seq, 0) ? x->seq : x->qual);
		return PLM_VERB_FAIL;
	}
	if (qual && qual->n != seq->n) {
		snprintf(err, errlen, "quality length %zu differs from sequence "
			 "length %zu", qual->n, seq->n);
		return PLM_VERB_FAIL;
	}
	put(x, qual ? "@" : ">", 1);
	if (x->id_type == PLM_T_INT) {
		int k = snprintf(num, sizeof num, "%" PRId64, id->i);
		put(x, num, (size_t)k);
	} else {
		put(x, id->s, id->n);
	}
	if (desc && !desc->nil && desc->n > 0) {
		put(x, " ", 1);
		put(x, desc->s, desc->n);
	}
	put(x, "\n", 1);
	/* FASTQ: one line each, as seqkit and most readers expect */
	put_wrapped(x, seq->s, seq->n, qual ? 0 : (size_t)x->width);
	if (qual) {
		put(x, "+\n", 2);
		put_wrapped(x, qual->s, qual->n, 0);
	}
	return PLM_VERB_SKIP;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *key = "id";
	ctx x = { .id = "id", .seq = "seq", .width = 60 };
	const plm_opt opts[] = {
		PLM_STR(0, "id", &x.id, "FIELD", "the header's id (default id)"),
		PLM_STR(0, "desc", &x.desc, "FIELD",
			"the rest of the header (default desc, if the input has it)"),
		PLM_STR(0, "seq", &x.seq, "FIELD", "the sequence (default seq)"),
		PLM_STR(0, "qual", &x.qual, "FIELD", "write FASTQ, the quality from FIELD"),
		PLM_INT('w', "width", &x.width, "N",
			"sequence line length, 0 for one line (default 60)", 0,
			INT_MAX),
		PLM_STR('o', "output", &c.output, "FILE",
			"write to FILE, atomically; *.gz, *.zst compressed"),
		PLM_OPTS_READ_KEY(&c, &key),
	};
	char err[1024];

	int i = plm_start("rec-fasta", argc, argv, opts, operands, summary);
	x.desc_given = x.desc != NULL;
	if (!x.desc)
		x.desc = "desc";
	if (!(x.out = plm_out_open(c.output, err, sizeof err)))
		plm_die("%s", err);
	plm_verb v = { .common = &c, .shard_key = key, .ctx = &x,
		       .section = section, .row = row, .no_output = 1 };
	plm_verb_run(&v, argc - i, argv + i);
	if (plm_out_close(x.out, err, sizeof err))
		plm_die("%s", err);
	return 0;
}
