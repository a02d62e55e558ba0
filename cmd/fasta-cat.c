/* fasta-cat — FASTA/FASTQ (plain, gzip, zstd) to a record stream:
 * id, desc, seq, len, then the fields the options add. */
#include "plm/cli.h"
#include "plm/fasta.h"
#include "plm/stream.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"read FASTA/FASTQ (plain, gzip, zstd) into records id, desc, seq, len";

enum { F_ID, F_DESC, F_SEQ, F_LEN, F_ORG, F_TAXID, F_GENE, F_PE, F_LABEL,
       F_SOURCE, F_MAX };

typedef struct run {
	int clean, uniprot, source;
	const char *label;
	long long min_len, max_len;
	plm_shard shard;
	int col[F_MAX];         /* field index of each column, -1 if absent */
	plm_val label_val;
	plm_clean_stats cs;
	uint64_t records, in_shard, too_short, too_long;
	plm_progress prog;
	uint64_t done_raw, total_raw;
} run;

static void build_schema(run *r, plm_schema *s)
{
	long long lv;

	for (int i = 0; i < F_MAX; i++)
		r->col[i] = -1;
	plm_schema_init(s);
	r->col[F_ID] = plm_schema_add(s, "id", PLM_T_STR, 0);
	r->col[F_DESC] = plm_schema_add(s, "desc", PLM_T_STR, 0);
	r->col[F_SEQ] = plm_schema_add(s, "seq", PLM_T_STR, 0);
	r->col[F_LEN] = plm_schema_add(s, "len", PLM_T_INT, 0);
	if (r->uniprot) {
		r->col[F_ORG] = plm_schema_add(s, "organism", PLM_T_STR, 0);
		r->col[F_TAXID] = plm_schema_add(s, "taxid", PLM_T_INT, 0);
		r->col[F_GENE] = plm_schema_add(s, "gene", PLM_T_STR, 0);
		r->col[F_PE] = plm_schema_add(s, "pe", PLM_T_INT, 0);
	}
	if (r->label) {
		int is_int = plm_strtoll(r->label, INT64_MIN, INT64_MAX, &lv) == 0;
		r->col[F_LABEL] = plm_schema_add(s, "label",
						 is_int ? PLM_T_INT : PLM_T_STR, 0);
		r->label_val = is_int ? plm_v_int(lv)
				      : plm_v_str(r->label, strlen(r->label));
	}
	if (r->source)
		r->col[F_SOURCE] = plm_schema_add(s, "source", PLM_T_STR, 0);
	if (plm_schema_add_prov(s, plm_tool(), PLM_VERSION, plm_argc(), plm_argv(), 0, 0))
		plm_die("out of memory");
}

static plm_val str_or_nil(const char *p, size_t n)
{
	return p ? plm_v_str(p, n) : plm_v_nil();
}

/* One file: every record through the filters into w.  Dies on error. */
static void cat_file(run *r, const char *path, plm_writer *w, plm_val *vals,
		     plm_seqrec *rec)
{
	char err[512];
	plm_in *in = plm_in_open(path, err, sizeof err);
	plm_fasta *f;
	plm_uniprot up;
	uint64_t before = r->records;
	int rc;

	if (!in) {
		plm_writer_abort(w);
		plm_die("%s", err);
	}
	f = plm_fasta_open(in);
	if (!f)
		plm_die("out of memory");
	if (r->col[F_SOURCE] >= 0)
		vals[r->col[F_SOURCE]] = plm_v_str(plm_in_name(in),
						   strlen(plm_in_name(in)));
	while ((rc = plm_fasta_next(f, rec)) == 1) {
		r->records++;
		plm_progress_update(&r->prog, r->done_raw + plm_in_raw_pos(in),
				    r->total_raw, r->records);
		if (!plm_shard_keep(&r->shard, rec->id, rec->id_len))
			continue;
		r->in_shard++;
		if (r->clean)
			plm_seq_clean(rec->seq, &rec->seq_len, &r->cs);
		if ((long long)rec->seq_len < r->min_len) {
			r->too_short++;
			continue;
		}
		if (r->max_len >= 0 && (long long)rec->seq_len > r->max_len) {
			r->too_long++;
			continue;
		}
		vals[F_ID] = plm_v_str(rec->id, rec->id_len);
		vals[F_DESC] = plm_v_str(rec->desc, rec->desc_len);
		vals[F_SEQ] = plm_v_str(rec->seq, rec->seq_len);
		vals[F_LEN] = plm_v_int((int64_t)rec->seq_len);
		if (r->uniprot) {
			if (plm_uniprot_parse(rec->desc, rec->desc_len, &up, err,
					      sizeof err)) {
				plm_writer_abort(w);
				plm_die("%s:%llu: %s", plm_in_name(in),
					(unsigned long long)rec->line, err);
			}
			vals[r->col[F_ORG]] = str_or_nil(up.organism, up.organism_len);
			vals[r->col[F_TAXID]] = up.has_taxid ? plm_v_int(up.taxid)
							     : plm_v_nil();
			vals[r->col[F_GENE]] = str_or_nil(up.gene, up.gene_len);
			vals[r->col[F_PE]] = up.has_pe ? plm_v_int(up.pe) : plm_v_nil();
		}
		if (plm_writer_row(w, vals)) {
			/* Copy first: abort frees the writer and its message. */
			snprintf(err, sizeof err, "%s", plm_writer_error(w));
			plm_writer_abort(w);
			plm_die("%s", err);
		}
	}
	if (rc < 0) {
		plm_writer_abort(w);
		plm_die("%s", plm_fasta_error(f));
	}
	if (r->records == before)
		plm_warn("%s: no records", plm_in_name(in));
	r->done_raw += plm_in_raw_pos(in);
	plm_fasta_close(f);
	plm_in_close(in);
}

/* Compressed bytes of all inputs, for the ETA; 0 if any is a pipe. */
static uint64_t total_size(int n, char **files)
{
	uint64_t t = 0;
	struct stat st;

	for (int i = 0; i < n; i++) {
		if (strcmp(files[i], "-") == 0 || stat(files[i], &st) ||
		    !S_ISREG(st.st_mode))
			return 0;
		t += (uint64_t)st.st_size;
	}
	return t;
}

static void report(const run *r)
{
	if (r->clean)
		plm_warn("clean: %llu of %llu records changed: %llu lower-case "
			 "letters upper-cased, %llu trailing '*' removed, %llu "
			 "internal '*' to X, %llu 'J' to X, %llu other bytes to X",
			 (unsigned long long)r->cs.records,
			 (unsigned long long)r->in_shard,
			 (unsigned long long)r->cs.lower,
			 (unsigned long long)r->cs.stop_end,
			 (unsigned long long)r->cs.stop_inner,
			 (unsigned long long)r->cs.letter_x,
			 (unsigned long long)r->cs.other_x);
	if (r->min_len > 0 || r->max_len >= 0)
		plm_warn("length filter: %llu records shorter than %lld and %llu "
			 "longer than %lld skipped", (unsigned long long)r->too_short,
			 r->min_len, (unsigned long long)r->too_long,
			 r->max_len >= 0 ? r->max_len : 0);
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	run r = { 0 };
	char *stdin_only[] = { "-" };
	r.max_len = -1;
	const plm_opt opts[] = {
		PLM_FLAG(0, "clean", &r.clean,
			 "upper case, strip trailing '*', other letters and bytes to X (ESM-2 alphabet)"),
		PLM_FLAG(0, "uniprot", &r.uniprot,
			 "add organism, taxid, gene, pe from OS= OX= GN= PE= (or UniRef Tax= TaxID=)"),
		PLM_FLAG(0, "source", &r.source, "add field source: the input file name"),
		PLM_STR(0, "label", &r.label, "VALUE",
			"add field label = VALUE (int if VALUE is an integer, else str)"),
		PLM_INT(0, "min-len", &r.min_len, "N",
			"skip sequences shorter than N (counted on stderr)", 0, INT64_MAX),
		PLM_INT(0, "max-len", &r.max_len, "N",
			"skip sequences longer than N (counted on stderr)", 0, INT64_MAX),
		PLM_OPTS_STREAM(&c),
	};
	plm_schema s;
	plm_writer *w;
	plm_seqrec rec = { 0 };
	plm_val *vals;
	char err[512];
	char **files;
	int i, nfiles;

	i = plm_start("fasta-cat", argc, argv, opts, operands, summary);
	r.shard = plm_shard_parse(c.shard);
	if (r.max_len >= 0 && r.max_len < r.min_len)
		plm_usage_die("--max-len %lld is below --min-len %lld", r.max_len,
			      r.min_len);
	files = i < argc ? argv + i : stdin_only;
	nfiles = i < argc ? argc - i : 1;
	build_schema(&r, &s);
	vals = calloc(s.n, sizeof *vals);
	if (!vals)
		plm_die("out of memory");
	if (r.col[F_LABEL] >= 0)
		vals[r.col[F_LABEL]] = r.label_val;
	w = plm_writer_open(c.output, plm_common_format(&c), &s, err, sizeof err);
	if (!w)
		plm_die("%s", err);
	plm_progress_init(&r.prog, c.progress, "B");
	r.total_raw = total_size(nfiles, files);
	for (i = 0; i < nfiles; i++)
		cat_file(&r, files[i], w, vals, &rec);
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	plm_progress_end(&r.prog, r.done_raw, r.records);
	report(&r);
	plm_seqrec_free(&rec);
	plm_schema_free(&s);
	free(vals);
	return 0;
}
