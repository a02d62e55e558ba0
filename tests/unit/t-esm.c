/* t-esm.c — the ESM-2 engine against transformers' outputs (golden
 * tensors in tests/data/esm2, computed in float64), batch invariance, both
 * key namings, shards, BF16, and broken checkpoints.
 *
 * Tolerance: max|a - b| / max|b| <= 1e-5 per tensor (README of the data).
 * The 8M-shaped hub checkpoint is opt-in: PLM_ESM2_8M names a directory
 * holding its model.safetensors and golden.safetensors. */
#include "plm/esm.h"
#include "plm/float.h"
#include "plm/safetensors.h"
#include "tap.h"
#include "testutil.h"
#include "../../lib/esm_impl.h"
#include "plm/isa.h"   /* plm_esmk_select */

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOL 1e-5

static char datadir[1024];

typedef struct {
	char *name, *seq;
	size_t len;
} seqrec;

static seqrec seqs[32];
static size_t nseqs;

static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *pathf(const char *fmt, ...)
{
	static char buf[8][1024];
	static int k;
	k = (k + 1) % 8;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf[k], sizeof buf[k], fmt, ap);
	va_end(ap);
	return buf[k];
}

static void read_seqs(void)
{
	FILE *f = fopen(pathf("%s/sequences.tsv", datadir), "r");
	char line[8192];
	if (!f)
		return;
	while (nseqs < 32 && fgets(line, sizeof line, f)) {
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = 0;
		line[strcspn(tab + 1, "\r\n") + (size_t)(tab + 1 - line)] = 0;
		seqs[nseqs].name = strdup(line);
		seqs[nseqs].seq = strdup(tab + 1);
		seqs[nseqs].len = strlen(tab + 1);
		nseqs++;
	}
	fclose(f);
}

static double relerr(const float *a, const float *b, size_t n)
{
	double num = 0, den = 0;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]);
		if (d > num || isnan(d))
			num = isnan(d) ? INFINITY : d;
		if (fabs(b[i]) > den)
			den = fabs(b[i]);
	}
	return den > 0 ? num / den : num;
}

static const float *golden(const plm_st *g, const char *name, size_t want)
{
	const plm_st_tensor *t = plm_st_find(g, name);
	if (!t || t->dtype != PLM_ST_F32 || t->numel != want)
		return NULL;
	/* The mapping may be unaligned for float: copy. */
	static float *buf;
	static size_t cap;
	if (want > cap) {
		free(buf);
		buf = malloc(want * sizeof *buf);
		cap = want;
	}
	memcpy(buf, t->data, want * sizeof *buf);
	return buf;
}

/* Runs every sequence in one batch for each output and compares with the
 * golden tensors.  layers: the K of hidden.K present in golden. */
static void check_model_opt(const char *label, const char *dir, int full)
{
	char err[512];
	plm_esm *m = plm_esm_load(dir, err, sizeof err);
	ok(m != NULL, "%s: load", label);
	if (!m) {
		diag("%s", err);
		return;
	}
	plm_st *g = plm_st_open(pathf("%s/golden.safetensors", dir), err,
				sizeof err);
	ok(g != NULL, "%s: golden opens", label);
	if (!g) {
		diag("%s", err);
		plm_esm_free(m);
		return;
	}
	const plm_esm_config *cf = plm_esm_info(m);
	const size_t H = (size_t)cf->hidden, V = (size_t)cf->vocab;
	size_t T = 0;
	const char *sp[32];
	size_t lens[32];
	for (size_t s = 0; s < nseqs; s++) {
		sp[s] = seqs[s].seq;
		lens[s] = seqs[s].len;
		T += seqs[s].len + 2;
	}
	plm_esm_ctx *c = plm_esm_ctx_new(m, T, 2, err, sizeof err);
	ok(c != NULL, "%s: workspace of %zu tokens", label, T);
	if (!c) {
		diag("%s", err);
		goto out;
	}

	/* Tokens. */
	int tok_ok = 1;
	int32_t *ids = malloc(T * sizeof *ids);
	for (size_t s = 0; s < nseqs; s++) {
		size_t nt = plm_esm_tokenize(m, sp[s], lens[s], ids);
		const plm_st_tensor *t = plm_st_find(g, pathf("%s/tokens", seqs[s].name));
		if (!t || t->numel != nt || memcmp(t->data, ids, nt * 4))
			tok_ok = 0;
	}
	ok(tok_ok, "%s: tokens of %zu sequences", label, nseqs);
	free(ids);

	float *out = malloc(T * H * sizeof *out);
	float *logits = malloc(T * V * sizeof *logits);
	for (int K = 0; K <= cf->layers; K++) {
		if (!plm_st_find(g, pathf("%s/hidden.%d", seqs[0].name, K)))
			continue;
		plm_esm_out o = { .layer = K, .pool = PLM_ESM_POOL_NONE,
				  .specials = 1, .out = out };
		int rc = plm_esm_forward(c, nseqs, sp, lens, &o);
		ok(rc == 0, "%s: forward layer %d", label, K);
		if (rc)
			diag("%s", plm_esm_error(c));
		double worst = 0;
		size_t row = 0;
		for (size_t s = 0; s < nseqs; s++) {
			size_t n = (lens[s] + 2) * H;
			const float *want = golden(g, pathf("%s/hidden.%d",
						   seqs[s].name, K), n);
			double e = want ? relerr(out + row * H, want, n) : INFINITY;
			if (e > worst)
				worst = e;
			if (!(e <= TOL))
				diag("%s hidden.%d: rel err %.3g", seqs[s].name, K, e);
			row += lens[s] + 2;
		}
		ok(worst <= TOL, "%s: hidden.%d of every sequence (worst %.2g)",
		   label, K, worst);
	}

	/* Residue rows only (specials = 0) at the last layer. */
	if (full) {
		plm_esm_out o = { .layer = -1, .pool = PLM_ESM_POOL_NONE,
				  .out = out };
		int rc = plm_esm_forward(c, nseqs, sp, lens, &o);
		double worst = rc ? INFINITY : 0;
		size_t row = 0;
		for (size_t s = 0; s < nseqs && !rc; s++) {
			const float *want = golden(g, pathf("%s/hidden.%d",
						   seqs[s].name, cf->layers),
						   (lens[s] + 2) * H);
			double e = want ? relerr(out + row * H, want + H,
						 lens[s] * H) : INFINITY;
			if (e > worst)
				worst = e;
			row += lens[s];
		}
		ok(worst <= TOL, "%s: residue rows of the last layer (worst %.2g)",
		   label, worst);
	}

	/* Mean pooling and logits in one call. */
	{
		plm_esm_out o = { .layer = -1, .pool = PLM_ESM_POOL_MEAN,
				  .out = out, .logits = logits };
		int rc = plm_esm_forward(c, nseqs, sp, lens, &o);
		ok(rc == 0, "%s: forward mean + logits", label);
		double wm = rc ? INFINITY : 0, wl = wm;
		size_t row = 0;
		for (size_t s = 0; s < nseqs && !rc; s++) {
			const float *want = golden(g, pathf("%s/mean", seqs[s].name), H);
			double e = want ? relerr(out + s * H, want, H) : INFINITY;
			if (e > wm)
				wm = e;
			want = golden(g, pathf("%s/logits", seqs[s].name),
				      (lens[s] + 2) * V);
			e = want ? relerr(logits + row * V, want,
					  (lens[s] + 2) * V) : INFINITY;
			if (e > wl)
				wl = e;
			row += lens[s] + 2;
		}
		ok(wm <= TOL, "%s: mean of every sequence (worst %.2g)", label, wm);
		ok(wl <= TOL, "%s: logits of every sequence (worst %.2g)", label, wl);
	}

	/* Max and cls pooling against the golden last layer. */
	if (full) {
		plm_esm_out o = { .layer = -1, .pool = PLM_ESM_POOL_MAX, .out = out };
		float *cls = malloc(nseqs * H * sizeof *cls);
		plm_esm_out oc = { .layer = -1, .pool = PLM_ESM_POOL_CLS, .out = cls };
		int rc = plm_esm_forward(c, nseqs, sp, lens, &o) ||
			 plm_esm_forward(c, nseqs, sp, lens, &oc);
		double wx = rc ? INFINITY : 0, wc = wx;
		for (size_t s = 0; s < nseqs && !rc; s++) {
			const float *want = golden(g, pathf("%s/hidden.%d",
						   seqs[s].name, cf->layers),
						   (lens[s] + 2) * H);
			if (!want) {
				wx = wc = INFINITY;
				break;
			}
			float mx[4096];
			for (size_t i = 0; i < H; i++) {
				mx[i] = want[H + i];
				for (size_t r = 2; r <= lens[s]; r++)
					if (want[r * H + i] > mx[i])
						mx[i] = want[r * H + i];
			}
			double e = relerr(out + s * H, mx, H);
			if (e > wx)
				wx = e;
			e = relerr(cls + s * H, want, H);
			if (e > wc)
				wc = e;
		}
		ok(wx <= TOL, "%s: max pooling (worst %.2g)", label, wx);
		ok(wc <= TOL, "%s: cls pooling (worst %.2g)", label, wc);
		free(cls);
	}
	free(out);
	free(logits);
out:
	plm_esm_ctx_free(c);
	plm_st_close(g);
	plm_esm_free(m);
}

static void check_model(const char *label, const char *dir)
{
	check_model_opt(label, dir, 1);
}

/* Each sequence alone equals the same sequence inside batches of other
 * lengths, in two orders. */
static void check_batch_invariance(const char *dir)
{
	char err[512];
	plm_esm *m = plm_esm_load(dir, err, sizeof err);
	if (!ok(m != NULL, "batch invariance: load"))
		return;
	const size_t H = (size_t)plm_esm_info(m)->hidden;
	size_t T = 0;
	const char *sp[32], *rp[32];
	size_t lens[32], rl[32], row[32];
	for (size_t s = 0; s < nseqs; s++) {
		sp[s] = seqs[s].seq;
		lens[s] = seqs[s].len;
		row[s] = T;
		T += seqs[s].len + 2;
		rp[nseqs - 1 - s] = sp[s];
		rl[nseqs - 1 - s] = lens[s];
	}
	plm_esm_ctx *c = plm_esm_ctx_new(m, T, 2, err, sizeof err);
	float *all = malloc(T * H * sizeof *all), *rev = malloc(T * H * sizeof *rev);
	float *one = malloc(T * H * sizeof *one);
	plm_esm_out o = { .layer = -1, .pool = PLM_ESM_POOL_NONE, .specials = 1 };
	o.out = all;
	int rc = plm_esm_forward(c, nseqs, sp, lens, &o);
	o.out = rev;
	rc |= plm_esm_forward(c, nseqs, rp, rl, &o);
	ok(rc == 0, "batch invariance: batches run");
	double worst = 0, worst_rev = 0;
	size_t rrow = T;
	for (size_t s = 0; s < nseqs; s++) {
		o.out = one;
		rc |= plm_esm_forward(c, 1, &sp[s], &lens[s], &o);
		size_t n = (lens[s] + 2) * H;
		double e = relerr(all + row[s] * H, one, n);
		if (e > worst)
			worst = e;
		rrow -= lens[s] + 2;
		e = relerr(rev + rrow * H, one, n);
		if (e > worst_rev)
			worst_rev = e;
	}
	ok(rc == 0 && worst <= 1e-6, "alone == in a batch (worst %.2g)", worst);
	ok(rc == 0 && worst_rev <= 1e-6, "alone == in a reversed batch (worst %.2g)",
	   worst_rev);

	/* Workspace limits and argument errors. */
	size_t big = T;
	o.out = all;
	ok(plm_esm_forward(c, 1, &sp[0], &big, &o) == -1 &&
	   strstr(plm_esm_error(c), "workspace"), "batch over budget: %s",
	   plm_esm_error(c));
	size_t zero = 0;
	ok(plm_esm_forward(c, 1, &sp[0], &zero, &o) == -1 &&
	   strstr(plm_esm_error(c), "empty"), "empty sequence: %s",
	   plm_esm_error(c));
	o.layer = 99;
	ok(plm_esm_forward(c, 1, &sp[0], &lens[0], &o) == -1 &&
	   strstr(plm_esm_error(c), "layer 99"), "bad layer: %s",
	   plm_esm_error(c));
	o.layer = -(plm_esm_info(m)->layers + 2);
	ok(plm_esm_forward(c, 1, &sp[0], &lens[0], &o) == -1,
	   "layer below -(N+1) rejected");

	/* <mask> tokens: the row is zeroed and the rest rescaled; other
	 * sequences of the batch are unaffected. */
	int32_t a[5] = { 0, 5, 32, 6, 2 }, b[4] = { 0, 5, 6, 2 };
	const int32_t *ip[2] = { a, b };
	size_t nt[2] = { 5, 4 };
	o.layer = 0;
	o.out = all;
	rc = plm_esm_forward_ids(c, 2, ip, nt, &o);
	const float *emb_a = all, *emb_b = all + 5 * H;
	o.out = one;
	rc |= plm_esm_forward_ids(c, 1, &ip[1], &nt[1], &o);
	int zero_row = 1;
	for (size_t i = 0; i < H; i++)
		zero_row &= emb_a[2 * H + i] == 0.0f;
	/* Row 'A' of sequence a: e * 0.88 / (1 - 1/5) = e * 1.1; of b:
	 * e * 0.88. */
	double ratio = emb_a[H] / emb_b[H];
	ok(rc == 0 && zero_row && fabs(ratio - 1.1 / 0.88) < 1e-6 &&
	   relerr(emb_b, one, 4 * H) == 0, "token dropout with <mask> (ratio %.7f)",
	   ratio);
	int32_t badid[3] = { 0, 99, 2 };
	const int32_t *bp = badid;
	size_t n3 = 3;
	ok(plm_esm_forward_ids(c, 1, &bp, &n3, &o) == -1 &&
	   strstr(plm_esm_error(c), "out of range"), "bad token id: %s",
	   plm_esm_error(c));

	/* Tokenizer: unknown letters -> <unk>, specials by name. */
	int32_t t[8];
	plm_esm_tokenize(m, "Ax*", 3, t);
	ok(t[0] == 0 && t[1] == 5 && t[2] == 3 && t[3] == 3 && t[4] == 2,
	   "tokenize: lower case and '*' are <unk>");
	ok(plm_esm_token_id(m, "<mask>") == 32 &&
	   !strcmp(plm_esm_token(m, 4), "L") && !plm_esm_token(m, 33),
	   "token names");
	ok(strlen(plm_esm_signature(m)) == 16, "signature %s",
	   plm_esm_signature(m));
	free(all);
	free(rev);
	free(one);
	plm_esm_ctx_free(c);
	plm_esm_free(m);
}

/* ---- writing checkpoints by hand ---- */

typedef struct {
	char name[200];
	char dtype[16];
	int ndim;
	int64_t shape[4];
	unsigned char *data;
	size_t nbytes;
} wt;

typedef struct {
	wt t[64];
	size_t n;
} wset;

static void wset_read(wset *w, const char *path)
{
	char err[256];
	plm_st *st = plm_st_open(path, err, sizeof err);
	w->n = 0;
	for (size_t i = 0; st && i < plm_st_count(st); i++) {
		const plm_st_tensor *t = plm_st_at(st, i);
		wt *o = &w->t[w->n++];
		snprintf(o->name, sizeof o->name, "%s", t->name);
		snprintf(o->dtype, sizeof o->dtype, "%s",
			 plm_st_dtype_name(t->dtype));
		o->ndim = t->ndim;
		memcpy(o->shape, t->shape, sizeof o->shape);
		o->nbytes = t->nbytes;
		o->data = malloc(t->nbytes + 1);
		memcpy(o->data, t->data, t->nbytes);
	}
	plm_st_close(st);
}

static void wset_free(wset *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->t[i].data);
	w->n = 0;
}

static wt *wset_find(wset *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->t[i].name, name))
			return &w->t[i];
	return NULL;
}

static void wset_del(wset *w, const char *name)
{
	wt *t = wset_find(w, name);
	if (!t)
		return;
	free(t->data);
	*t = w->t[--w->n];
}

/* Writes tensors [from, to) of w: 8-byte LE header length, JSON padded
 * with spaces to a multiple of 8, data. */
static void write_st(const char *path, wset *w, size_t from, size_t to)
{
	size_t cap = 1 << 16, len = 0, off = 0;
	char *h = malloc(cap);
	len += (size_t)snprintf(h + len, cap - len, "{\"__metadata__\":{\"format\":\"pt\"}");
	for (size_t i = from; i < to; i++) {
		wt *t = &w->t[i];
		len += (size_t)snprintf(h + len, cap - len,
					",\"%s\":{\"dtype\":\"%s\",\"shape\":[",
					t->name, t->dtype);
		for (int d = 0; d < t->ndim; d++)
			len += (size_t)snprintf(h + len, cap - len, "%s%lld",
						d ? "," : "", (long long)t->shape[d]);
		len += (size_t)snprintf(h + len, cap - len,
					"],\"data_offsets\":[%zu,%zu]}", off,
					off + t->nbytes);
		off += t->nbytes;
	}
	h[len++] = '}';
	while (len % 8)
		h[len++] = ' ';
	FILE *f = fopen(path, "wb");
	unsigned char hl[8];
	for (int i = 0; i < 8; i++)
		hl[i] = (unsigned char)((uint64_t)len >> (8 * i));
	fwrite(hl, 1, 8, f);
	fwrite(h, 1, len, f);
	for (size_t i = from; i < to; i++)
		fwrite(w->t[i].data, 1, w->t[i].nbytes, f);
	fclose(f);
	free(h);
}

static void copy_file(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	char buf[65536];
	size_t n;
	while (a && b && (n = fread(buf, 1, sizeof buf, a)) > 0)
		fwrite(buf, 1, n, b);
	if (a)
		fclose(a);
	if (b)
		fclose(b);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	fputs(text, f);
	fclose(f);
}

/* A checkpoint dir in tu_dir: config and vocab of the tiny model. */
static char *mkckpt(const char *name)
{
	char *d = strdup(pathf("%s/%s", tu_dir, name));
	mkdir(d, 0755);
	copy_file(pathf("%s/esm2_tiny/config.json", datadir), pathf("%s/config.json", d));
	copy_file(pathf("%s/esm2_tiny/vocab.txt", datadir), pathf("%s/vocab.txt", d));
	copy_file(pathf("%s/esm2_tiny/golden.safetensors", datadir),
		  pathf("%s/golden.safetensors", d));
	return d;
}

static void expect_load_error(const char *dir, const char *want, const char *what)
{
	char err[512] = "";
	plm_esm *m = plm_esm_load(dir, err, sizeof err);
	ok(!m && strstr(err, want), "%s: %s", what, err);
	if (m || !strstr(err, want))
		diag("want an error containing '%s'", want);
	plm_esm_free(m);
}

static const char *mp(const char *d)
{
	return pathf("%s/model.safetensors", d);
}

/* A safetensors file from a header of fewer than 256 bytes and its data. */
static void raw_st(const char *path, const char *header, const char *data)
{
	FILE *f = fopen(path, "wb");
	unsigned char hl[8] = { (unsigned char)strlen(header) };
	fwrite(hl, 1, 8, f);
	fwrite(header, 1, strlen(header), f);
	fwrite(data, 1, strlen(data), f);
	fclose(f);
}

static uint16_t to_bf16(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	u += 0x7fff + (u >> 16 & 1);        /* round to nearest even */
	return (uint16_t)(u >> 16);
}

static void check_checkpoints(void)
{
	wset w;
	char *d;
	char *base = strdup(pathf("%s/esm2_tiny/model.safetensors", datadir));

	/* Hub naming: weight/bias, per-layer inv_freq, position table,
	 * lm_head.decoder.weight; no "esm." prefix on the encoder. */
	wset_read(&w, base);
	ok(w.n > 20, "read %zu tensors of the tiny model", w.n);
	d = mkckpt("hub");
	wt shared = *wset_find(&w, "esm.encoder.layer.*.attention.self.rotary_embeddings.inv_freq");
	shared.data = malloc(shared.nbytes);
	memcpy(shared.data, wset_find(&w, "esm.encoder.layer.*.attention.self."
				       "rotary_embeddings.inv_freq")->data, shared.nbytes);
	for (size_t i = 0; i < w.n; i++) {
		char *n = w.t[i].name, *p;
		if ((p = strstr(n, "LayerNorm.gamma")) ||
		    (p = strstr(n, "emb_layer_norm_after.gamma")))
			strcpy(strrchr(n, '.'), ".weight");
		else if ((p = strstr(n, "LayerNorm.beta")) ||
			 (p = strstr(n, "emb_layer_norm_after.beta")))
			strcpy(strrchr(n, '.'), ".bias");
		if (!strncmp(n, "esm.", 4))
			memmove(n, n + 4, strlen(n + 4) + 1);
	}
	wset_del(&w, "encoder.layer.*.attention.self.rotary_embeddings.inv_freq");
	for (int l = 0; l < 2; l++) {
		wt *t = &w.t[w.n++];
		*t = shared;
		snprintf(t->name, sizeof t->name,
			 "encoder.layer.%d.attention.self.rotary_embeddings.inv_freq", l);
		t->data = malloc(t->nbytes);
		memcpy(t->data, shared.data, t->nbytes);
	}
	free(shared.data);
	wt *pos = &w.t[w.n++];
	snprintf(pos->name, sizeof pos->name, "embeddings.position_embeddings.weight");
	strcpy(pos->dtype, "F32");
	pos->ndim = 2;
	pos->shape[0] = 1026;
	pos->shape[1] = 64;
	pos->nbytes = 1026 * 64 * 4;
	pos->data = calloc(1, pos->nbytes);
	wt *dec = &w.t[w.n++];
	*dec = *wset_find(&w, "embeddings.word_embeddings.weight");
	snprintf(dec->name, sizeof dec->name, "lm_head.decoder.weight");
	dec->data = malloc(dec->nbytes);
	memcpy(dec->data, wset_find(&w, "embeddings.word_embeddings.weight")->data,
	       dec->nbytes);
	write_st(mp(d), &w, 0, w.n);
	check_model("hub naming, no prefix", d);

	/* Sharded: the same tensors in two files and an index. */
	char *ds = mkckpt("sharded");
	write_st(pathf("%s/model-00001-of-00002.safetensors", ds), &w, 0, w.n / 2);
	write_st(pathf("%s/model-00002-of-00002.safetensors", ds), &w, w.n / 2, w.n);
	{
		FILE *f = fopen(pathf("%s/model.safetensors.index.json", ds), "w");
		fprintf(f, "{\"metadata\": {}, \"weight_map\": {");
		for (size_t i = 0; i < w.n; i++)
			fprintf(f, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"",
				i ? ", " : "", w.t[i].name, i < w.n / 2 ? 1 : 2);
		fprintf(f, "}}\n");
		fclose(f);
	}
	check_model("sharded", ds);
	/* An index naming a tensor its shard lacks. */
	put(pathf("%s/model.safetensors.index.json", ds),
	    "{\"weight_map\": {\"lm_head.bias\": \"model-00001-of-00002.safetensors\"}}");
	expect_load_error(ds, "is listed in", "index names a missing tensor");
	free(ds);

	/* A tensor of another model: an error naming it. */
	wt *x = &w.t[w.n++];
	*x = *pos;
	snprintf(x->name, sizeof x->name, "encoder.layer.2.attention.self.query.weight");
	x->data = calloc(1, x->nbytes);
	write_st(mp(d), &w, 0, w.n);
	expect_load_error(d, "unexpected tensor 'encoder.layer.2.attention.self.query.weight'",
			  "unexpected tensor");
	wset_free(&w);
	free(d);

	/* BF16 weights load and equal an F32 model of the bf16-rounded
	 * values exactly. */
	wset_read(&w, base);
	char *d32 = mkckpt("bf16_as_f32"), *d16 = mkckpt("bf16");
	for (size_t i = 0; i < w.n; i++) {
		wt *t = &w.t[i];
		for (size_t k = 0; k < t->nbytes / 4; k++) {
			float f;
			memcpy(&f, t->data + 4 * k, 4);
			f = plm_bf16_to_f32(to_bf16(f));
			memcpy(t->data + 4 * k, &f, 4);
		}
	}
	write_st(mp(d32), &w, 0, w.n);
	for (size_t i = 0; i < w.n; i++) {
		wt *t = &w.t[i];
		for (size_t k = 0; k < t->nbytes / 4; k++) {
			float f;
			memcpy(&f, t->data + 4 * k, 4);
			uint16_t b = to_bf16(f);
			memcpy(t->data + 2 * k, &b, 2);
		}
		t->nbytes /= 2;
		strcpy(t->dtype, "BF16");
	}
	write_st(mp(d16), &w, 0, w.n);
	{
		char err[512];
		plm_esm *a = plm_esm_load(d32, err, sizeof err);
		plm_esm *b = plm_esm_load(d16, err, sizeof err);
		ok(a && b, "bf16 and its f32 twin load");
		if (a && b) {
			plm_esm_ctx *ca = plm_esm_ctx_new(a, 64, 1, err, sizeof err);
			plm_esm_ctx *cb = plm_esm_ctx_new(b, 64, 1, err, sizeof err);
			float oa[64 * 40], ob[64 * 40];
			const char *s = seqs[3].seq;
			size_t l = 30;
			plm_esm_out o = { .layer = -1, .specials = 1, .out = oa };
			int rc = plm_esm_forward(ca, 1, &s, &l, &o);
			o.out = ob;
			rc |= plm_esm_forward(cb, 1, &s, &l, &o);
			ok(rc == 0 && !memcmp(oa, ob, 32 * 64 * sizeof *oa),
			   "bf16 == f32 of the same values");
			ok(strcmp(plm_esm_signature(a), "") && !strcmp(plm_esm_signature(a),
			   plm_esm_signature(b)), "same weights, same signature");
			plm_esm_ctx_free(ca);
			plm_esm_ctx_free(cb);
		}
		plm_esm_free(a);
		plm_esm_free(b);
	}
	free(d32);
	free(d16);
	wset_free(&w);

	/* Broken checkpoints. */
	d = mkckpt("bad");
	wset_read(&w, base);
	wset_del(&w, "esm.encoder.layer.1.intermediate.dense.bias");
	write_st(mp(d), &w, 0, w.n);
	expect_load_error(d, "tensor 'esm.encoder.layer.1.intermediate.dense.bias' not found",
			  "missing key");
	wset_free(&w);

	wset_read(&w, base);
	wt *q = wset_find(&w, "esm.encoder.layer.0.attention.self.key.weight");
	q->shape[0] = 32;
	q->shape[1] = 128;
	write_st(mp(d), &w, 0, w.n);
	expect_load_error(d, "tensor 'esm.encoder.layer.0.attention.self.key.weight' has "
			  "wrong shape; expected [64,64], got [32,128]", "wrong shape");
	wset_free(&w);

	/* config.json against the tensors, checked before memory is sized
	 * by the config (1048576 layers read as "out of memory (199968 MB
	 * of weights)" before). */
	wset_read(&w, base);
	write_st(mp(d), &w, 0, w.n);
#define CFG(L, H) "{\"hidden_size\": " H ", \"num_hidden_layers\": " L ", " \
	"\"num_attention_heads\": 4, \"intermediate_size\": 256, " \
	"\"vocab_size\": 33, \"position_embedding_type\": \"rotary\", " \
	"\"layer_norm_eps\": 1e-05, \"token_dropout\": true}"
	put(pathf("%s/config.json", d), CFG("1048576", "64"));
	expect_load_error(d, "config.json has num_hidden_layers 1048576, but the "
			  "weights have 2 (no tensor "
			  "'esm.encoder.layer.2.attention.self.query.weight')",
			  "num_hidden_layers beyond the tensors");
	put(pathf("%s/config.json", d), CFG("2", "65536"));
	expect_load_error(d, "tensor 'esm.embeddings.word_embeddings.weight' is "
			  "[33,64], but config.json has vocab_size 33, "
			  "hidden_size 65536", "hidden_size unlike the tensors");
#undef CFG
	copy_file(pathf("%s/esm2_tiny/config.json", datadir),
		  pathf("%s/config.json", d));
	wset_free(&w);

	wset_read(&w, base);
	wt *lnw = wset_find(&w, "esm.encoder.emb_layer_norm_after.weight");
	strcpy(lnw->dtype, "I32");
	write_st(mp(d), &w, 0, w.n);
	expect_load_error(d, "tensor 'esm.encoder.emb_layer_norm_after.weight' has dtype I32; "
			  "expected F32, F16 or BF16", "dtype the engine cannot use");
	strcpy(lnw->dtype, "Q4");
	write_st(mp(d), &w, 0, w.n);
	expect_load_error(d, "unsupported dtype 'Q4'", "unknown dtype");
	strcpy(lnw->dtype, "F16");
	write_st(mp(d), &w, 0, w.n);
	expect_load_error(d, "F16 [64] needs 128", "byte length != dtype x shape");
	strcpy(lnw->dtype, "F32");
	write_st(mp(d), &w, 0, w.n);
	{
		/* Truncated by one byte. */
		struct stat sb;
		stat(mp(d), &sb);
		truncate(mp(d), sb.st_size - 1);
		expect_load_error(d, "beyond the data region", "truncated file");
		truncate(mp(d), 5);
		expect_load_error(d, "too short", "file of 5 bytes");
	}
	wset_free(&w);

	/* Non-finite weights: one Inf made every embedding NaN, one NaN
	 * changed them silently; now an error naming tensor and index. */
	wset_read(&w, base);
	{
		wt *t = wset_find(&w, "esm.encoder.layer.0.attention.self.query.weight");
		float inf = INFINITY, nan = NAN;
		memcpy(t->data + 4 * 100, &inf, 4);
		write_st(mp(d), &w, 0, w.n);
		expect_load_error(d, "model.safetensors: tensor 'esm.encoder.layer.0."
				  "attention.self.query.weight': non-finite value "
				  "(inf) at index 100", "an Inf weight");
		float one = 1;
		memcpy(t->data + 4 * 100, &one, 4);
		t = wset_find(&w, "esm.encoder.layer.1.output.dense.bias");
		memcpy(t->data + 4 * 63, &nan, 4);
		write_st(mp(d), &w, 0, w.n);
		expect_load_error(d, "tensor 'esm.encoder.layer.1.output.dense.bias': "
				  "non-finite value (nan) at index 63", "a NaN weight");
		/* In a F16 tensor too (0xfc00: -Inf), found after conversion. */
		memcpy(t->data + 4 * 63, &one, 4);
		t = wset_find(&w, "esm.embeddings.word_embeddings.weight");
		for (size_t k = 0; k < t->nbytes / 4; k++) {
			uint16_t h = k == 33 * 64 - 1 ? 0xfc00 : 0x3c00;
			memcpy(t->data + 2 * k, &h, 2);
		}
		t->nbytes /= 2;
		strcpy(t->dtype, "F16");
		write_st(mp(d), &w, 0, w.n);
		expect_load_error(d, "tensor 'esm.embeddings.word_embeddings.weight': "
				  "non-finite value (-inf) at index 2111",
				  "an F16 -Inf weight");
	}
	wset_free(&w);

	/* vocab.txt must be the ESM-2 alphabet: an altered residue loaded
	 * and embedded every L as <unk>. */
	{
		static const char *const tok[] = {
			"<cls>", "<pad>", "<eos>", "<unk>", "L", "A", "G", "V",
			"S", "E", "R", "T", "I", "D", "P", "K", "Q", "N", "F",
			"Y", "M", "H", "W", "C", "X", "B", "U", "Z", "O", ".",
			"-", "<null_1>", "<mask>",
		};
		char *dv = mkckpt("vocab"), text[512];
		copy_file(base, mp(dv));
		/* vocab(i, s, eol): the alphabet with line i (1-based, 0 =
		 * none) replaced by s, lines ending in eol. */
#define VOCAB(i, s, eol) do { \
	size_t o_ = 0; \
	for (int k_ = 0; k_ < 33; k_++) \
		o_ += (size_t)snprintf(text + o_, sizeof text - o_, "%s%s", \
				       k_ + 1 == (i) ? (s) : tok[k_], eol); \
	put(pathf("%s/vocab.txt", dv), text); \
} while (0)
		VOCAB(0, "", "\r\n");
		char err[512] = "";
		plm_esm *m = plm_esm_load(dv, err, sizeof err);
		ok(m != NULL, "vocab.txt with CRLF line ends loads %s", err);
		plm_esm_free(m);
		VOCAB(5, "l", "\n");
		expect_load_error(dv, "vocab.txt:5: token 'l' where the ESM-2 "
				  "alphabet has 'L'", "residue token altered");
		VOCAB(6, "L", "\n");
		expect_load_error(dv, "vocab.txt:6: duplicate token 'L' (also on "
				  "line 5)", "residue token duplicated");
		VOCAB(33, "<cls>", "\n");
		expect_load_error(dv, "vocab.txt:33: duplicate token '<cls>' (also "
				  "on line 1)", "special token duplicated");
		/* Two residues swapped: the ids no longer match the weights. */
		VOCAB(0, "", "\n");
		char *l = strstr(text, "\nL\n");
		l[1] = 'A';
		l[3] = 'L';
		put(pathf("%s/vocab.txt", dv), text);
		expect_load_error(dv, "vocab.txt:5: token 'A' where the ESM-2 "
				  "alphabet has 'L'", "residues swapped");
		VOCAB(0, "", "\n");
		strcat(text, "J\n");
		put(pathf("%s/vocab.txt", dv), text);
		expect_load_error(dv, "more than vocab_size 33 tokens", "extra token");
#undef VOCAB
		free(dv);
	}

	FILE *f = fopen(mp(d), "wb");
	fwrite("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": nonsense}", 1, 24, f);
	fclose(f);
	expect_load_error(d, "header JSON: offset 6: unexpected character",
			  "header JSON garbage");
	f = fopen(mp(d), "wb");
	fwrite("\xff\xff\xff\xff\x00\x00\x00\x00{}", 1, 10, f);
	fclose(f);
	expect_load_error(d, "header length 4294967295 does not fit", "header length too big");
	raw_st(mp(d), "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
		       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
	       "0123456789ab");
	expect_load_error(d, "tensors 'a' and 'b' overlap", "overlapping tensors");
	/* The same key twice: a duplicate, not an overlap. */
	raw_st(mp(d), "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
		       "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
	       "01234567");
	expect_load_error(d, "duplicate key 'a'", "duplicate safetensors key");
	unlink(mp(d));
	expect_load_error(d, "model.safetensors: No such file", "no weights");

	static const struct {
		const char *config, *want, *what;
	} bad_config[] = {
		{ "{\"hidden_size\": 64, \"num_hidden_layers\": 2, "
		  "\"num_attention_heads\": 4, \"intermediate_size\": 256, \"vocab_size\": 33, "
		  "\"position_embedding_type\": \"absolute\"}",
		  "position_embedding_type \"absolute\" is not supported",
		  "absolute positions" },
		{ "{\"hidden_size\": 64, \"num_hidden_layers\": 2, "
		  "\"num_attention_heads\": 4, \"vocab_size\": 33, "
		  "\"position_embedding_type\": \"rotary\"}",
		  "missing \"intermediate_size\"", "config field missing" },
		{ "{\"hidden_size\": 64,",
		  "config.json: offset 19: expected string key", "config JSON truncated" },
		{ "{\"hidden_size\": 64, \"num_hidden_layers\": 2, "
		  "\"num_attention_heads\": 4, \"intermediate_size\": 256, \"vocab_size\": 34, "
		  "\"position_embedding_type\": \"rotary\"}",
		  "33 tokens, but config.json has vocab_size 34", "vocab size" },
	};
	for (size_t k = 0; k < sizeof bad_config / sizeof *bad_config; k++) {
		put(pathf("%s/config.json", d), bad_config[k].config);
		expect_load_error(d, bad_config[k].want, bad_config[k].what);
	}
	free(d);
	free(base);
}

/* The fused attention kernel against a float64 reference: head sizes of
 * the 8M/35M/150M models and one odd-sized, lengths from 1 residue to
 * several key blocks (PLM_ESMK_KBLOCK), scores large enough that the
 * online softmax has to rescale; and rows computed in pieces equal the
 * rows computed at once, bit for bit (batch invariance rests on it). */
static uint64_t arng = 0x9e3779b97f4a7c15ull;
static double aunif(void)
{
	arng ^= arng << 13;
	arng ^= arng >> 7;
	arng ^= arng << 17;
	return (double)(arng >> 11) / 9007199254740992.0 - 0.5;
}

/* The kernel attn_case runs (plm_esmk_attention16 for bf16), and a copy of
 * its last output (attn_keep, L * H floats) when asked. */
static void (*attn_fn)(const plm_esmk_attn *, int, size_t, size_t, float *) =
	plm_esmk_attention;
static float *attn_keep;

static double attn_case(int heads, int hd, size_t L, float amp, int *same)
{
	const int H = heads * hd, h2 = hd / 2;
	float *qkv = malloc(L * 3 * H * sizeof *qkv), *b = malloc(3 * H * sizeof *b);
	float *cs = malloc(L * h2 * sizeof *cs), *sn = malloc(L * h2 * sizeof *sn);
	float *out = calloc(L * H, sizeof *out), *out2 = calloc(L * H, sizeof *out2);
	float *ref = malloc(L * H * sizeof *ref);
	float *ws = aligned_alloc(64, ((plm_esmk_attn_scratch(L, hd) + 15) / 16 * 16) *
				  sizeof *ws);
	for (size_t i = 0; i < L * 3 * H; i++)
		qkv[i] = (float)(aunif() * amp);
	for (int i = 0; i < 3 * H; i++)
		b[i] = (float)aunif();
	for (size_t p = 0; p < L; p++)
		for (int i = 0; i < h2; i++) {
			double a = (double)p / pow(10000.0, 2.0 * i / hd);
			cs[p * h2 + i] = (float)cos(a);
			sn[p * h2 + i] = (float)sin(a);
		}
	plm_esmk_attn at = { .qkv = qkv, .bqkv = b, .cs = cs, .sn = sn,
			     .out = out, .L = L, .H = H, .hd = hd };
	for (int h = 0; h < heads; h++)
		attn_fn(&at, h, 0, L, ws);
	/* the same rows in three uneven pieces */
	at.out = out2;
	for (int h = 0; h < heads; h++) {
		size_t c1 = L / 3, c2 = L - L / 5;
		attn_fn(&at, h, 0, c1, ws);
		attn_fn(&at, h, c1, c2, ws);
		attn_fn(&at, h, c2, L, ws);
	}
	*same = !memcmp(out, out2, L * H * sizeof *out);
	if (attn_keep) {
		free(attn_keep);
		attn_keep = NULL;
	}
	attn_keep = malloc(L * H * sizeof *out);
	memcpy(attn_keep, out, L * H * sizeof *out);
	/* float64 reference */
	double *q = malloc(L * hd * sizeof *q), *k = malloc(L * hd * sizeof *k);
	double *v = malloc(L * hd * sizeof *v), *p = malloc(L * sizeof *p);
	for (int h = 0; h < heads; h++) {
		for (size_t j = 0; j < L; j++) {
			const float *x = qkv + j * 3 * H + h * hd;
			for (int d = 0; d < h2; d++) {
				double c = cs[j * h2 + d], s = sn[j * h2 + d];
				double q1 = (x[d] + (double)b[h * hd + d]) / sqrt(hd);
				double q2 = (x[d + h2] + (double)b[h * hd + d + h2]) / sqrt(hd);
				double k1 = x[H + d] + (double)b[H + h * hd + d];
				double k2 = x[H + d + h2] + (double)b[H + h * hd + d + h2];
				q[j * hd + d] = q1 * c - q2 * s;
				q[j * hd + d + h2] = q2 * c + q1 * s;
				k[j * hd + d] = k1 * c - k2 * s;
				k[j * hd + d + h2] = k2 * c + k1 * s;
			}
			for (int d = 0; d < hd; d++)
				v[j * hd + d] = x[2 * H + d] + (double)b[2 * H + h * hd + d];
		}
		for (size_t i = 0; i < L; i++) {
			double mx = -INFINITY, sum = 0;
			for (size_t j = 0; j < L; j++) {
				double t = 0;
				for (int d = 0; d < hd; d++)
					t += q[i * hd + d] * k[j * hd + d];
				p[j] = t;
				mx = t > mx ? t : mx;
			}
			for (size_t j = 0; j < L; j++)
				sum += p[j] = exp(p[j] - mx);
			for (int d = 0; d < hd; d++) {
				double t = 0;
				for (size_t j = 0; j < L; j++)
					t += p[j] * v[j * hd + d];
				ref[i * H + h * hd + d] = (float)(t / sum);
			}
		}
	}
	double e = relerr(out, ref, L * H);
	free(q), free(k), free(v), free(p);
	free(qkv), free(b), free(cs), free(sn), free(out), free(out2), free(ref);
	free(ws);
	return e;
}

static void check_attention_kernel(const char *isa)
{
	static const struct { int heads, hd; size_t L; float amp; } cs[] = {
		{ 2, 16, 1, 1 }, { 3, 24, 3, 1 }, { 2, 32, 17, 1 },
		{ 2, 24, 345, 2 }, { 1, 32, 513, 4 }, { 1, 24, 1100, 4 },
		{ 1, 10, 700, 3 }, { 1, 32, 1024, 1 },
	};
	double worst = 0;
	int same = 1;
	for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
		int s;
		double e = attn_case(cs[i].heads, cs[i].hd, cs[i].L + 2, cs[i].amp, &s);
		if (e > worst || isnan(e))
			worst = isnan(e) ? INFINITY : e;
		same &= s;
	}
	ok(worst <= 2e-6, "attention kernel, %s: float64 reference (worst %.2g)",
	   isa, worst);
	ok(same, "attention kernel, %s: rows in pieces == rows at once", isa);
}

/* The --precision bf16 attention: q, k, v and the weights in bfloat16,
 * so against float64 it is as close as bf16 rounding allows; both of its
 * kernels give the same bits; rows in pieces equal rows at once. */
static void check_attention16(void)
{
	static const struct { int heads, hd; size_t L; float amp; } cs[] = {
		{ 2, 16, 1, 1 }, { 3, 24, 3, 1 }, { 2, 32, 17, 1 },
		{ 2, 24, 345, 2 }, { 1, 32, 513, 4 }, { 1, 24, 1100, 4 },
		{ 1, 10, 700, 3 }, { 1, 32, 1024, 1 }, { 2, 64, 300, 2 },
	};
	enum { NC = sizeof cs / sizeof *cs };
	static const char *isa[] = { "base", "avx512bf16" };
	float *first[NC] = { 0 };
	attn_fn = plm_esmk_attention16;
	for (int x = 0; x < 2; x++) {
		if (plm_esmk_select16(isa[x])) {
			for (int k = 0; k < 3; k++)
				ok(1, "# SKIP no %s kernel here", isa[x]);
			continue;
		}
		double worst = 0;
		int same = 1, bits = 1;
		arng = 0x51ed270b27a4f3c1ull;   /* the same inputs for each */
		for (size_t i = 0; i < NC; i++) {
			int s;
			double e = attn_case(cs[i].heads, cs[i].hd, cs[i].L + 2,
					     cs[i].amp, &s);
			if (e > worst || isnan(e))
				worst = isnan(e) ? INFINITY : e;
			same &= s;
			size_t n = (cs[i].L + 2) * (size_t)(cs[i].heads * cs[i].hd);
			if (!first[i]) {
				first[i] = attn_keep;
				attn_keep = NULL;
			} else {
				bits &= !memcmp(first[i], attn_keep,
						n * sizeof *attn_keep);
			}
		}
		ok(worst <= 1e-2, "bf16 attention, %s: float64 reference "
		   "(worst %.2g)", isa[x], worst);
		ok(same, "bf16 attention, %s: rows in pieces == rows at once",
		   isa[x]);
		ok(x == 0 || (first[0] && bits),
		   "bf16 attention, %s: the same bits as the first kernel",
		   isa[x]);
	}
	for (size_t i = 0; i < NC; i++)
		free(first[i]);
	free(attn_keep);
	attn_keep = NULL;
	attn_fn = plm_esmk_attention;

	/* gelu16 against float64 erf; the same bits from both kernels */
	enum { NG = 4001 };
	float *g[2] = { malloc(NG * sizeof(float)), malloc(NG * sizeof(float)) };
	float zero[NG] = { 0 };
	double gw = 0;
	int got = 0;
	for (int x = 0; x < 2; x++) {
		if (plm_esmk_select16(isa[x]))
			continue;
		for (int i = 0; i < NG; i++)
			g[got][i] = (float)(-10.0 + 20.0 * i / (NG - 1));
		plm_esmk_bias_gelu16(g[got], NG, zero, 1, NG);
		for (int i = 0; i < NG; i++) {
			double v = (float)(-10.0 + 20.0 * i / (NG - 1));
			double r = 0.5 * v * (1 + erf(v / sqrt(2.0)));
			if (v < -3)     /* |gelu| < 0.004: absolute */
				r = fabs(g[got][i] - r);
			else
				r = fabs(g[got][i] - r) / fabs(r > 0 ? r : -r);
			if (v != 0 && (r > gw || isnan(r)))
				gw = isnan(r) ? INFINITY : r;
		}
		got++;
	}
	ok(gw <= 1e-5, "bf16 GELU: relative error %.2g (absolute below -3)", gw);
	ok(got < 2 || !memcmp(g[0], g[1], NG * sizeof(float)),
	   "bf16 GELU: the same bits from both kernels");
	free(g[0]);
	free(g[1]);
	plm_esmk_select16(plm_cpu_has("avx512bf16") ? "avx512bf16" : "base");
}

static void rmtree(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	while (dp && (e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = pathf("%s/%s", dir, e->d_name);
		struct stat sb;
		if (!lstat(p, &sb) && S_ISDIR(sb.st_mode)) {
			char *q = strdup(p);
			rmtree(q);
			free(q);
		} else {
			unlink(p);
		}
	}
	if (dp)
		closedir(dp);
	rmdir(dir);
}

int main(void)
{
	const char *top = getenv("PLM_TOP");
	snprintf(datadir, sizeof datadir, "%s/tests/data/esm2", top ? top : "..");
	read_seqs();
	if (!ok(nseqs == 9, "read %zu sequences from %s", nseqs, datadir)) {
		printf("Bail out! no test data (run from tests/, or set "
		       "PLM_TOP)\n");
		return 1;
	}
	if (tu_mkdir("t-esm"))
		return 1;
	check_model("tiny F32", pathf("%s/esm2_tiny", datadir));
	/* The kernels of every instruction set this CPU runs. */
	static const char *isa[] = { "base", "avx2", "avx512" };
	for (int i = 0; i < 3; i++) {
		if (plm_esmk_select(isa[i])) {
			ok(1, "# SKIP no %s kernels here", isa[i]);
			ok(1, "# SKIP no %s kernels here", isa[i]);
			ok(1, "# SKIP no %s kernels here", isa[i]);
			continue;
		}
		check_attention_kernel(isa[i]);
		char *label = strdup(pathf("tiny F32, %s kernels", isa[i]));
		check_model(label, pathf("%s/esm2_tiny", datadir));
		free(label);
	}
	if (plm_esmk_select("avx512"))
		plm_esmk_select("avx2");
	check_attention16();
	check_model("tiny F16", pathf("%s/esm2_tiny_f16", datadir));
	check_batch_invariance(pathf("%s/esm2_tiny", datadir));
	check_checkpoints();
	const char *t8m = getenv("PLM_ESM2_8M");
	if (t8m && *t8m)
		check_model_opt("8M shape", t8m, 0);
	else
		ok(1, "# SKIP set PLM_ESM2_8M=DIR to run the 8M-shaped golden test");
	rmtree(tu_dir);
	return done_testing();
}
