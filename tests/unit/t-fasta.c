/* t-fasta.c — FASTA/FASTQ parsing: every accepted shape and every error
 * with its line number.  Each case parses an in-memory input and dumps the
 * records as "line:id|desc|seq|qual;" followed by "EOF" or "ERR msg". */
#include "plm/fasta.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static char out[1 << 16];

static const char *parse(const char *text, size_t n)
{
	plm_in *in = plm_in_mem(text, n, "t.fa");
	plm_fasta *f = plm_fasta_open(in);
	plm_seqrec r = { 0 };
	size_t k = 0;
	int rc;

	out[0] = 0;
	while ((rc = plm_fasta_next(f, &r)) == 1) {
		k += (size_t)snprintf(out + k, sizeof out - k, "%llu:%s|%s|%s|%s;",
				      (unsigned long long)r.line, r.id, r.desc,
				      r.seq, r.qual_len ? r.qual : "");
		if (strlen(r.id) != r.id_len || strlen(r.seq) != r.seq_len ||
		    strlen(r.desc) != r.desc_len)
			k += (size_t)snprintf(out + k, sizeof out - k, "BADLEN;");
	}
	if (rc == 0)
		snprintf(out + k, sizeof out - k, "EOF");
	else
		snprintf(out + k, sizeof out - k, "ERR %s", plm_fasta_error(f));
	plm_seqrec_free(&r);
	plm_fasta_close(f);
	plm_in_close(in);
	return out;
}

#define P(text) parse(text, sizeof text - 1)

static void accepted(void)
{
	is_str(P(""), "EOF", "empty input: no records");
	is_str(P("\n\n  \n"), "EOF", "blank lines only: no records");
	is_str(P(">a desc here\nACDE\nFGH\n>b\nKL\n"),
	       "1:a|desc here|ACDEFGH|;4:b||KL|;EOF", "multi-line FASTA");
	is_str(P(">a\nAC"), "1:a||AC|;EOF", "no final newline");
	is_str(P(">a x\r\nAC\r\nDE\r\n>b\r\n"), "1:a|x|ACDE|;4:b|||;EOF", "CRLF");
	is_str(P("\n\n>a\n\nAC\n\n\nDE\n\n>b\nK\n\n"),
	       "3:a||ACDE|;10:b||K|;EOF", "blank lines anywhere");
	is_str(P(">\nAA\n>\n"), "1:||AA|;3:|||;EOF", "'>' alone: empty id");
	is_str(P(">a\tb  c  \nmk*x*\n"), "1:a|b  c|mk*x*|;EOF",
	       "tab ends the id, desc trimmed, lower case and '*' kept");
	is_str(P(">a\n>b\nA\n"), "1:a|||;2:b||A|;EOF", "empty sequence");
	is_str(P(">a\nAC DE\tF \n"), "1:a||ACDEF|;EOF", "spaces and tabs in sequence dropped");
	is_str(P(">a\n\xce\xb1\n"), "1:a||\xce\xb1|;EOF", "bytes >= 0x80 are not controls");
	is_str(P(">a\nA+C@\n"), "1:a||A+C@|;EOF", "'+' and '@' inside a FASTA line");

	is_str(P("@r1 d\nACGT\n+\nIIII\n@r2\nAC\n+r2\nI#\n"),
	       "1:r1|d|ACGT|IIII;5:r2||AC|I#;EOF", "FASTQ, '+' repeating the name");
	is_str(P("@r1 d\nACGT\n+r1 d\nIIII\n"), "1:r1|d|ACGT|IIII;EOF",
	       "'+' repeating the whole header");
	is_str(P("@r1\nAC\nGT\n+\nII\nI\nI\n"), "1:r1||ACGT|IIII;EOF",
	       "multi-line sequence and quality");
	is_str(P("@r1\nACGT\n+\n@III\n@r2\nA\n+\n@\n"),
	       "1:r1||ACGT|@III;5:r2||A|@;EOF", "quality starting with '@'");
	is_str(P("@r1\r\nAC\r\n+\r\nII\r\n\r\n@r2\nA\n+\n!"),
	       "1:r1||AC|II;6:r2||A|!;EOF", "FASTQ with CRLF, blank line, no final newline");
	is_str(P("@e\n+\n@f\nA\n+\nI\n"), "1:e|||;3:f||A|I;EOF", "FASTQ empty record");
}

static void errors(void)
{
	is_str(P("junk\n>a\nAC\n"),
	       "ERR t.fa:1: expected '>' or '@' at the start of a record (not FASTA or FASTQ?)",
	       "data before the first header");
	is_str(P("\n\nACGT\n"),
	       "ERR t.fa:3: expected '>' or '@' at the start of a record (not FASTA or FASTQ?)",
	       "data before the first header, after blank lines");
	is_str(P(">a\nAC\nD\x01" "E\n"),
	       "ERR t.fa:3: control byte 0x01 in sequence (binary data?)",
	       "control byte in sequence");
	{
		static const char nul[] = ">a\nACDEFGHIKLMN\n>b\nAAAAAAAAAA\0AAA\n";
		is_str(parse(nul, sizeof nul - 1),
		       "1:a||ACDEFGHIKLMN|;ERR t.fa:4: control byte 0x00 in sequence (binary data?)",
		       "NUL byte in sequence");
	}
	is_str(P(">a\nAC\rDE\n"), "ERR t.fa:2: CR line endings (a carriage "
	       "return without a line feed): convert them to LF",
	       "lone CR inside a line");
	is_str(P(">a\x7f\nAC\n"), "ERR t.fa:1: control byte 0x7f in header (binary data?)",
	       "DEL in header");
	is_str(P(">a\nAC\n@r\nAC\n+\nII\n"),
	       "ERR t.fa:3: '@' line in FASTA input (FASTA and FASTQ mixed?)",
	       "FASTQ after FASTA");
	is_str(P("@r\nAC\n+\nII\n>a\nAC\n"),
	       "1:r||AC|II;ERR t.fa:5: expected '@' at the start of a FASTQ record",
	       "FASTA after FASTQ");
	is_str(P("@r\nACGT\n+\nIII\n"),
	       "ERR t.fa:4: truncated FASTQ record 'r': quality length 3 differs from sequence length 4",
	       "quality too short at EOF");
	is_str(P("@r\nACGT\n+\nIIIII\n"),
	       "ERR t.fa:4: quality length 5 differs from sequence length 4",
	       "quality too long");
	is_str(P("@r\nACGT\n+\nII\nIII\n"),
	       "ERR t.fa:5: quality length 5 differs from sequence length 4",
	       "multi-line quality too long");
	is_str(P("@r\nAC\n+\nII\nI\n@s\nA\n+\nI\n"),
	       "ERR t.fa:5: quality length 3 differs from sequence length 2",
	       "extra quality line");
	is_str(P("@r\nACGT\n"), "ERR t.fa:2: truncated FASTQ record 'r': no '+' line",
	       "FASTQ without '+'");
	is_str(P("@r\n"), "ERR t.fa:1: truncated FASTQ record 'r': no '+' line",
	       "FASTQ header only");
	is_str(P("@r\nAC\n@s\nAC\n+\nII\n"), "ERR t.fa:3: expected '+' line of record 'r'",
	       "FASTQ header instead of '+'");
	is_str(P("@r\nAC\n+s\nII\n"),
	       "ERR t.fa:3: '+' line does not repeat the header of record 'r'",
	       "'+' with another name");
	is_str(P("@r\nAC\n+\nI \n"), "ERR t.fa:4: invalid quality byte 0x20",
	       "space in quality");
}

/* Lines longer than the plm_in window and records across refills. */
static void big(void)
{
	size_t n = 3u << 20, i, m;
	char *t = malloc(n + 100);
	plm_in *in;
	plm_fasta *f;
	plm_seqrec r = { 0 };
	int rc, good = 1;
	uint64_t recs = 0, res = 0;

	memcpy(t, ">long\n", 6);
	for (i = 6; i < n; i++)
		t[i] = "ACDEFGHIKLMNPQRSTVWY"[i % 20];
	memcpy(t + n, "\n>x\nMK\n", 7);
	in = plm_in_mem(t, n + 7, "big.fa");
	f = plm_fasta_open(in);
	rc = plm_fasta_next(f, &r);
	ok(rc == 1 && r.seq_len == n - 6 && memcmp(r.seq, t + 6, n - 6) == 0, "a 3 MiB single-line sequence");
	rc = plm_fasta_next(f, &r);
	ok(rc == 1 && strcmp(r.id, "x") == 0 && strcmp(r.seq, "MK") == 0 && r.line == 3,
	   "the record after it");
	is_int(plm_fasta_next(f, &r), 0, "then EOF");
	is_int(plm_fasta_next(f, &r), 0, "EOF again");
	plm_fasta_close(f);
	plm_in_close(in);

	/* Many short records, gzip compressed, through several windows. */
	{
		size_t cap = 8u << 20, k = 0;
		char *z = malloc(cap);
		for (i = 0; k + 64 < n; i++) {
			k += (size_t)sprintf(t + k, ">r%zu d\n", i);
			for (m = 0; m < i % 50; m++)
				t[k++] = "ACDEFGHIKLMNPQRSTVWY"[m % 20];
			t[k++] = '\n';
			res += i % 50;
		}
		uLongf zn = cap;
		z_stream zs = { 0 };
		deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
		zs.next_in = (unsigned char *)t;
		zs.avail_in = (uInt)k;
		zs.next_out = (unsigned char *)z;
		zs.avail_out = (uInt)cap;
		deflate(&zs, Z_FINISH);
		zn = zs.total_out;
		deflateEnd(&zs);
		in = plm_in_mem(z, zn, "many.fa.gz");
		f = plm_fasta_open(in);
		while ((rc = plm_fasta_next(f, &r)) == 1) {
			char id[32];
			snprintf(id, sizeof id, "r%llu", (unsigned long long)recs);
			if (strcmp(r.id, id) || r.seq_len != recs % 50 ||
			    r.line != 2 * recs + 1)
				good = 0;
			recs++;
			res -= r.seq_len;
		}
		ok(rc == 0 && good && recs == i && res == 0,
		   "%llu gzip records across windows", (unsigned long long)recs);
		plm_fasta_close(f);
		plm_in_close(in);

		/* Truncated compressed input is an error, not an early EOF. */
		in = plm_in_mem(z, zn - 100, "many.fa.gz");
		f = plm_fasta_open(in);
		while ((rc = plm_fasta_next(f, &r)) == 1)
			;
		is_int(rc, -1, "truncated gzip: -1, not EOF");
		is_str(plm_fasta_error(f), "many.fa.gz: truncated gzip input",
		       "truncated gzip message");
		plm_fasta_close(f);
		plm_in_close(in);
		free(z);
	}
	plm_seqrec_free(&r);
	free(t);
}


static const char *clean(const char *in, plm_clean_stats *st)
{
	static char buf[256];
	size_t n = strlen(in);
	memcpy(buf, in, n + 1);
	plm_seq_clean(buf, &n, st);
	if (strlen(buf) != n)
		return "BADLEN";
	return buf;
}

static void cleaning(void)
{
	plm_clean_stats st = { 0 };
	is_str(clean("MKV", &st), "MKV", "clean: already clean");
	is_int(st.records, 0, "clean: nothing counted");
	is_str(clean("mkv**", &st), "MKV", "clean: lower case, trailing stops");
	is_str(clean("M*K-J.j1bzuoxLAGVSERTIDPKQNFYMHWC", &st),
	       "MXKXXXXXBZUOXLAGVSERTIDPKQNFYMHWC", "clean: every class");
	is_str(clean("*", &st), "", "clean: only a stop");
	is_str(clean("\xce\xb1", &st), "XX", "clean: bytes >= 0x80");
	is_int(st.records, 4, "clean: records changed");
	is_int(st.lower, 3 + 5, "clean: lower case count");
	is_int(st.stop_end, 3, "clean: trailing stops");
	is_int(st.stop_inner, 1, "clean: internal stops");
	is_int(st.letter_x, 2, "clean: J to X");
	is_int(st.other_x, 3 + 2, "clean: other bytes to X");
}

static const char *up(const char *d)
{
	static char buf[512];
	char err[128];
	plm_uniprot u;
	if (plm_uniprot_parse(d, strlen(d), &u, err, sizeof err)) {
		snprintf(buf, sizeof buf, "ERR %s", err);
		return buf;
	}
	snprintf(buf, sizeof buf, "%.*s|%lld|%.*s|%lld",
		 u.organism ? (int)u.organism_len : 3, u.organism ? u.organism : "nil",
		 u.has_taxid ? u.taxid : -1,
		 u.gene ? (int)u.gene_len : 3, u.gene ? u.gene : "nil",
		 u.has_pe ? u.pe : -1);
	return buf;
}

static void uniprot(void)
{
	is_str(up("Cellular tumor antigen p53 OS=Homo sapiens OX=9606 GN=TP53 PE=1 SV=4"),
	       "Homo sapiens|9606|TP53|1", "uniprot: full header");
	is_str(up("Genome polyprotein (Fragment) OS=Dengue virus 3 PE=4 SV=1 Split=0 "),
	       "Dengue virus 3|-1|nil|4", "uniprot: no OX, no GN, an unknown key after PE");
	is_str(up("Choline ABC OS=Bacillus subtilis (strain 168) GN=opuBA PE=4"),
	       "Bacillus subtilis (strain 168)|-1|opuBA|4", "uniprot: PE last");
	is_str(up("no fields here"), "nil|-1|nil|-1", "uniprot: nothing");
	is_str(up(""), "nil|-1|nil|-1", "uniprot: empty");
	is_str(up("Putative factor n=1 Tax=Frog virus 3 TaxID=654924 RepID=001R_FRG3G"),
	       "Frog virus 3|654924|nil|-1", "uniref: Tax and TaxID");
	is_str(up("x OS=Homo sapiens OX=96a06"), "ERR OX= value '96a06' is not an integer",
	       "uniprot: bad OX");
	is_str(up("x PE= OS=y"), "ERR PE= value '' is not an integer", "uniprot: empty PE");
	is_str(up("xOS=a OS=b"), "b|-1|nil|-1", "uniprot: a key must follow a space");
}

/* A "\r\n" split across the first window refill (the first 256 KiB are
 * read to sniff the codec) and CRLF records across many refills. */
static void crlf_windows(void)
{
	size_t w = 256 << 10, L = w - 1 - 4, n, i, k = 0, m;
	char *t = malloc(8u << 20);
	plm_in *in;
	plm_fasta *f;
	plm_seqrec r = { 0 };
	uint64_t recs = 0;
	int rc, good = 1;

	memcpy(t, ">a\r\n", 4);
	memset(t + 4, 'M', L);
	n = 4 + L;
	ok(n == w - 1, "'\\r' at the last byte of the first window");
	memcpy(t + n, "\r\n>b\r\nKL\r\n", 10);
	n += 10;
	in = plm_in_mem(t, n, "w.fa");
	f = plm_fasta_open(in);
	rc = plm_fasta_next(f, &r);
	ok(rc == 1 && r.seq_len == L && r.seq[L - 1] == 'M', "CRLF across the refill");
	rc = plm_fasta_next(f, &r);
	ok(rc == 1 && strcmp(r.seq, "KL") == 0 && r.line == 3, "next record after it");
	is_int(plm_fasta_next(f, &r), 0, "EOF");
	plm_fasta_close(f);
	plm_in_close(in);

	t[w] = 'x';             /* "\rx": a lone CR at the boundary */
	in = plm_in_mem(t, n, "w.fa");
	f = plm_fasta_open(in);
	is_int(plm_fasta_next(f, &r), -1, "lone CR across the refill");
	is_str(plm_fasta_error(f), "w.fa:2: CR line endings (a carriage return "
	       "without a line feed): convert them to LF",
	       "its message");
	plm_fasta_close(f);
	plm_in_close(in);

	memcpy(t, ">a\r\nMK\r", 7);
	in = plm_in_mem(t, 7, "w.fa");
	f = plm_fasta_open(in);
	ok(plm_fasta_next(f, &r) == 1 && strcmp(r.seq, "MK") == 0, "CR at EOF ends the line");
	plm_fasta_close(f);
	plm_in_close(in);

	for (i = 0; k < (7u << 20); i++) {
		k += (size_t)sprintf(t + k, ">r%zu\r\n", i);
		for (m = 0; m < i % 997; m++) {
			t[k++] = "acdefghiklmnpqrstvwy"[m % 20];
			if (m % 61 == 60) {
				t[k++] = '\r';
				t[k++] = '\n';
			}
		}
		t[k++] = '\r';
		t[k++] = '\n';
	}
	in = plm_in_mem(t, k, "crlf.fa");
	f = plm_fasta_open(in);
	while ((rc = plm_fasta_next(f, &r)) == 1) {
		if (r.seq_len != recs % 997 || (r.seq_len && r.seq[r.seq_len - 1] !=
		    "acdefghiklmnpqrstvwy"[(r.seq_len - 1) % 20]))
			good = 0;
		recs++;
	}
	ok(rc == 0 && good && recs == i, "%llu CRLF records over many refills",
	   (unsigned long long)recs);
	plm_fasta_close(f);
	plm_in_close(in);
	plm_seqrec_free(&r);
	free(t);
}

int main(void)
{
	accepted();
	errors();
	big();
	crlf_windows();
	cleaning();
	uniprot();
	return done_testing();
}
