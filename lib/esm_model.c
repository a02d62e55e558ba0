/* esm_model.c — load an ESM-2 checkpoint directory (config.json, vocab.txt,
 * model.safetensors or shards) into float32 weights.
 *
 * Every tensor is fetched by name with its expected shape.  One table of
 * name variants maps both Hugging Face namings onto the engine's fields:
 * LayerNorm "weight"/"bias" (hub) or "gamma"/"beta" (transformers 5),
 * with or without the "esm." prefix.  Tensors the engine does not use
 * (position table, position_ids, contact head, pooler, an unused LM head)
 * are ignored; any other tensor is an error, so a checkpoint of another
 * shape or architecture is not half-loaded. */
#include "esm_impl.h"
#include "plm/alloc.h"
#include "plm/err.h"
#include "plm/json.h"
#include "plm/safetensors.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>

typedef struct {
	const char *dir;
	plm_st **shard;
	char **shard_path;
	size_t nshard;
	const char *prefix;          /* "esm." or "" */
	const plm_st_tensor **used;
	size_t nused, capused;
	float *next;                 /* next free float of the arena */
	char *err;                   /* = msg */
	size_t errlen;
	char msg[1024];
} loader;


static char *path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);
	if (p)
		snprintf(p, a + b + 2, "%s/%s", dir, name);
	return p;
}

/* Whole file, NUL-terminated; NULL with err "PATH: what". */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	if (!f) {
		plm_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			char *b = realloc(buf, cap);
			if (!b) {
				plm_errf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = b;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		plm_errf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/* ---- config.json ---- */

static int cfg_int(const plm_json *root, const char *key, int *out,
		   const char *path, char *err, size_t errlen)
{
	const plm_json *v = plm_json_get(root, key);
	if (!v)
		return plm_errf(err, errlen, "%s: missing \"%s\"", path, key);
	if (v->type != PLM_JSON_NUM || !v->is_int || v->i <= 0 ||
	    v->i > 1 << 20)
		return plm_errf(err, errlen, "%s: \"%s\" must be a positive "
			      "integer", path, key);
	*out = (int)v->i;
	return 0;
}

/* Missing or null: def (transformers' EsmConfig defaults). */
static int cfg_bool(const plm_json *root, const char *key, int def, int *out,
		    const char *path, char *err, size_t errlen)
{
	const plm_json *v = plm_json_get(root, key);
	if (!v || v->type == PLM_JSON_NULL) {
		*out = def;
		return 0;
	}
	if (v->type != PLM_JSON_BOOL)
		return plm_errf(err, errlen, "%s: \"%s\" must be true or false",
			      path, key);
	*out = v->b;
	return 0;
}

static int read_config(plm_esm_config *c, const char *dir, char *err,
		       size_t errlen)
{
	char *path = path_join(dir, "config.json"), *text = NULL;
	plm_json_doc *doc = NULL;
	int rc = -1;
	size_t len;
	char jerr[200];
	if (!path)
		return plm_errf(err, errlen, "out of memory");
	if (!(text = slurp(path, &len, err, errlen)))
		goto out;
	if (!(doc = plm_json_parse(text, len, jerr, sizeof jerr))) {
		plm_errf(err, errlen, "%s: %s", path, jerr);
		goto out;
	}
	const plm_json *r = plm_json_root(doc);
	if (r->type != PLM_JSON_OBJ) {
		plm_errf(err, errlen, "%s: not a JSON object", path);
		goto out;
	}
	if (cfg_int(r, "hidden_size", &c->hidden, path, err, errlen) ||
	    cfg_int(r, "num_hidden_layers", &c->layers, path, err, errlen) ||
	    cfg_int(r, "num_attention_heads", &c->heads, path, err, errlen) ||
	    cfg_int(r, "intermediate_size", &c->ffn, path, err, errlen) ||
	    cfg_int(r, "vocab_size", &c->vocab, path, err, errlen) ||
	    cfg_bool(r, "token_dropout", 0, &c->token_dropout, path, err,
		     errlen) ||
	    cfg_bool(r, "emb_layer_norm_before", 0, &c->emb_ln_before, path,
		     err, errlen))
		goto out;
	const plm_json *v = plm_json_get(r, "layer_norm_eps");
	if (!v) {
		c->ln_eps = 1e-12f;
	} else if (v->type != PLM_JSON_NUM || !(v->num > 0) || v->num > 1) {
		plm_errf(err, errlen, "%s: \"layer_norm_eps\" must be a number "
		       "in (0, 1]", path);
		goto out;
	} else {
		c->ln_eps = (float)v->num;
	}
	v = plm_json_get(r, "position_embedding_type");
	const char *pet = v && v->type == PLM_JSON_STR ? v->s : "absolute";
	if (strcmp(pet, "rotary")) {
		plm_errf(err, errlen, "%s: position_embedding_type \"%s\" is not "
		       "supported (ESM-2 uses \"rotary\")", path, pet);
		goto out;
	}
	/* FastESM (model_type "fast_esm", FastEsmForMaskedLM / FastEsmModel)
	 * is ESM-2 with SDPA attention whose embedding layer never applies
	 * the token-dropout rescaling, whatever token_dropout says; it was
	 * trained on sequences up to 2048 tokens. */
	v = plm_json_get(r, "model_type");
	const char *mt = v && v->type == PLM_JSON_STR ? v->s : "esm";
	c->max_residues = PLM_ESM_MAX_RESIDUES;
	c->fast_esm = !strcmp(mt, "fast_esm");
	if (c->fast_esm) {
		c->token_dropout = 0;
		c->max_residues = PLM_FASTESM_MAX_RESIDUES;
	} else if (strcmp(mt, "esm")) {
		plm_errf(err, errlen, "%s: model_type \"%s\" is not supported "
		       "(\"esm\": ESM-2, \"fast_esm\": FastESM2)", path, mt);
		goto out;
	}
	v = plm_json_get(r, "hidden_act");
	if (v && (v->type != PLM_JSON_STR || strcmp(v->s, "gelu"))) {
		plm_errf(err, errlen, "%s: hidden_act must be \"gelu\"", path);
		goto out;
	}
	if (c->hidden % c->heads || (c->hidden / c->heads) % 2) {
		plm_errf(err, errlen, "%s: hidden_size %d is not a multiple of "
		       "num_attention_heads %d with an even head size", path,
		       c->hidden, c->heads);
		goto out;
	}
	c->head_dim = c->hidden / c->heads;
	rc = 0;
out:
	plm_json_free(doc);
	free(text);
	free(path);
	return rc;
}

/* ---- vocab.txt ---- */

/* The ESM-2 alphabet in token-id order (fair-esm's Alphabet, the hub's
 * vocab.txt).  Every ESM-2 checkpoint was trained with exactly these ids:
 * a vocab.txt that differs (an altered, duplicated or reordered line)
 * does not describe the weights, and a residue it loses would silently
 * embed as <unk>, so any difference is an error. */
static const char *const esm2_alphabet[] = {
	"<cls>", "<pad>", "<eos>", "<unk>",
	"L", "A", "G", "V", "S", "E", "R", "T", "I", "D", "P", "K", "Q", "N",
	"F", "Y", "M", "H", "W", "C", "X", "B", "U", "Z", "O", ".", "-",
	"<null_1>", "<mask>",
};
#define ESM2_NTOK ((int)(sizeof esm2_alphabet / sizeof *esm2_alphabet))

static int read_vocab(plm_esm *m, const char *dir, char *err, size_t errlen)
{
	char *path = path_join(dir, "vocab.txt"), *text = NULL;
	size_t len;
	int rc = -1, n = 0;
	if (!path)
		return plm_errf(err, errlen, "out of memory");
	if (!(text = slurp(path, &len, err, errlen)))
		goto out;
	if (!(m->vocab = calloc((size_t)m->cfg.vocab, sizeof *m->vocab))) {
		plm_errf(err, errlen, "out of memory");
		goto out;
	}
	for (char *p = text, *e; *p; p = e + (*e != 0)) {
		e = p + strcspn(p, "\n");
		size_t l = (size_t)(e - p);
		if (l && p[l - 1] == '\r')
			l--;
		if (!l && !*e)
			break;
		if (!l || memchr(p, 0, l)) {
			plm_errf(err, errlen, "%s:%d: empty token", path, n + 1);
			goto out;
		}
		if (n == m->cfg.vocab) {
			plm_errf(err, errlen, "%s: more than vocab_size %d tokens",
			       path, m->cfg.vocab);
			goto out;
		}
		if (!(m->vocab[n] = strndup(p, l))) {
			plm_errf(err, errlen, "out of memory");
			goto out;
		}
		/* A duplicate first: "L twice" says more than "L where A
		 * belongs". */
		for (int k = 0; k < n; k++)
			if (!strcmp(m->vocab[k], m->vocab[n])) {
				plm_errf(err, errlen, "%s:%d: duplicate token "
				       "'%.40s' (also on line %d)", path, n + 1,
				       m->vocab[n], k + 1);
				goto out;
			}
		if (n >= ESM2_NTOK) {
			plm_errf(err, errlen, "%s:%d: token '%.40s' beyond the %d "
			       "tokens of the ESM-2 alphabet", path, n + 1,
			       m->vocab[n], ESM2_NTOK);
			goto out;
		}
		if (strcmp(m->vocab[n], esm2_alphabet[n])) {
			plm_errf(err, errlen, "%s:%d: token '%.40s' where the ESM-2 "
			       "alphabet has '%s' (vocab.txt must list its %d "
			       "tokens in order)", path, n + 1, m->vocab[n],
			       esm2_alphabet[n], ESM2_NTOK);
			goto out;
		}
		n++;
	}
	if (n != m->cfg.vocab) {
		plm_errf(err, errlen, "%s: %d tokens, but config.json has "
		       "vocab_size %d", path, n, m->cfg.vocab);
		goto out;
	}
	static const char *special[] = { "<cls>", "<pad>", "<eos>", "<unk>",
					 "<mask>" };
	int *ids[] = { &m->cfg.tok_cls, &m->cfg.tok_pad, &m->cfg.tok_eos,
		       &m->cfg.tok_unk, &m->cfg.tok_mask };
	for (int i = 0; i < 5; i++)
		if ((*ids[i] = plm_esm_token_id(m, special[i])) < 0) {
			plm_errf(err, errlen, "%s: no %s token", path, special[i]);
			goto out;
		}
	for (int b = 0; b < 256; b++)
		m->byte_tok[b] = m->cfg.tok_unk;
	for (int i = 0; i < n; i++)
		if (strlen(m->vocab[i]) == 1)
			m->byte_tok[(unsigned char)m->vocab[i][0]] = i;
	rc = 0;
out:
	free(text);
	free(path);
	return rc;
}

/* ---- tensors ---- */

static int open_shards(loader *ld, char *err, size_t errlen)
{
	char *single = path_join(ld->dir, "model.safetensors");
	char *index = path_join(ld->dir, "model.safetensors.index.json");
	char *text = NULL;
	plm_json_doc *doc = NULL;
	int rc = -1;
	size_t len;
	char jerr[200];
	if (!single || !index) {
		plm_errf(err, errlen, "out of memory");
		goto out;
	}
	FILE *probe = fopen(single, "rb");
	if (probe || !(probe = fopen(index, "rb"))) {
		/* The single file (also when neither exists: its error). */
		if (probe)
			fclose(probe);
		ld->shard = calloc(1, sizeof *ld->shard);
		ld->shard_path = calloc(1, sizeof *ld->shard_path);
		if (!ld->shard || !ld->shard_path) {
			plm_errf(err, errlen, "out of memory");
			goto out;
		}
		if (!(ld->shard[0] = plm_st_open(single, err, errlen)))
			goto out;
		ld->shard_path[0] = single;
		single = NULL;
		ld->nshard = 1;
		rc = 0;
		goto out;
	}
	fclose(probe);
	if (!(text = slurp(index, &len, err, errlen)))
		goto out;
	if (!(doc = plm_json_parse(text, len, jerr, sizeof jerr))) {
		plm_errf(err, errlen, "%s: %s", index, jerr);
		goto out;
	}
	const plm_json *wm = plm_json_get(plm_json_root(doc), "weight_map");
	if (!wm || wm->type != PLM_JSON_OBJ || !wm->len) {
		plm_errf(err, errlen, "%s: no \"weight_map\" object", index);
		goto out;
	}
	ld->shard = calloc(wm->len, sizeof *ld->shard);
	ld->shard_path = calloc(wm->len, sizeof *ld->shard_path);
	if (!ld->shard || !ld->shard_path) {
		plm_errf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < wm->len; i++) {
		const plm_json *f = &wm->kids[i];
		size_t k;
		if (f->type != PLM_JSON_STR || !f->len || strchr(f->s, '/')) {
			plm_errf(err, errlen, "%s: bad file name for tensor '%s'",
			       index, wm->keys[i]);
			goto out;
		}
		for (k = 0; k < ld->nshard; k++)
			if (!strcmp(strrchr(ld->shard_path[k], '/') + 1, f->s))
				break;
		if (k == ld->nshard) {
			if (!(ld->shard_path[k] = path_join(ld->dir, f->s))) {
				plm_errf(err, errlen, "out of memory");
				goto out;
			}
			ld->nshard++;
			if (!(ld->shard[k] = plm_st_open(ld->shard_path[k], err,
							 errlen)))
				goto out;
		}
		if (!plm_st_find(ld->shard[k], wm->keys[i])) {
			plm_errf(err, errlen, "%s: tensor '%s' is listed in %s but "
			       "missing", ld->shard_path[k], wm->keys[i],
			       index);
			goto out;
		}
	}
	rc = 0;
out:
	plm_json_free(doc);
	free(text);
	free(single);
	free(index);
	return rc;
}

static const plm_st_tensor *find(loader *ld, const char *name, size_t *shard)
{
	for (size_t i = 0; i < ld->nshard; i++) {
		const plm_st_tensor *t = plm_st_find(ld->shard[i], name);
		if (t) {
			if (shard)
				*shard = i;
			return t;
		}
	}
	return NULL;
}

static int mark_used(loader *ld, const plm_st_tensor *t)
{
	if (PLM_GROW(ld->used, ld->capused, ld->nused + 1))
		return plm_errf(ld->err, ld->errlen, "out of memory");
	ld->used[ld->nused++] = t;
	return 0;
}

/* Index of the first NaN or Inf of x[0 .. n), or n.  On the bits (exponent
 * all ones), so that no floating-point mode can drop the test; the OR over
 * a block vectorizes, and only a block with a hit is searched. */
static inline uint32_t nonfinite_bits(const float *f)
{
	uint32_t u;
	memcpy(&u, f, sizeof u);
	return (u & 0x7f800000u) == 0x7f800000u;
}

static size_t first_nonfinite(const float *x, size_t n)
{
	enum { BLOCK = 1024 };
	for (size_t i = 0; i < n; i += BLOCK) {
		size_t m = n - i < BLOCK ? n - i : BLOCK;
		uint32_t hit = 0;
		for (size_t k = 0; k < m; k++)
			hit |= nonfinite_bits(&x[i + k]);
		if (!hit)
			continue;
		for (size_t k = 0; k < m; k++)
			if (nonfinite_bits(&x[i + k]))
				return i + k;
	}
	return n;
}

/* Loads the first of names[] (printf formats with one %d, the layer) that
 * exists, checks its shape [d0] or [d0, d1] (d1 = 0: one dimension),
 * converts it into the arena.  NULL with an error naming names[0] when
 * none exists (unless optional). */
static const float *load(loader *ld, const char *const *names, int nnames,
			 int layer, int64_t d0, int64_t d1, int optional)
{
	char name[256];
	const plm_st_tensor *t = NULL;
	size_t sh = 0;
	for (int i = 0; i < nnames && !t; i++) {
		char fmt[200];
		snprintf(fmt, sizeof fmt, "%s%s",
			 strncmp(names[i], "lm_head.", 8) ? ld->prefix : "",
			 names[i]);
		snprintf(name, sizeof name, fmt, layer);
		t = find(ld, name, &sh);
	}
	if (!t) {
		if (optional)
			return NULL;
		char fmt[200];
		snprintf(fmt, sizeof fmt, "%s%s",
			 strncmp(names[0], "lm_head.", 8) ? ld->prefix : "",
			 names[0]);
		snprintf(name, sizeof name, fmt, layer);
		plm_errf(ld->err, ld->errlen, "%s: tensor '%s' not found",
		       ld->nshard == 1 ? ld->shard_path[0] : ld->dir, name);
		return NULL;
	}
	int64_t want[2] = { d0, d1 };
	int wd = d1 ? 2 : 1;
	if (t->ndim != wd || t->shape[0] != d0 || (wd == 2 && t->shape[1] != d1)) {
		char a[64], b[200];
		plm_errf(ld->err, ld->errlen, "%s: tensor '%s' has wrong shape; "
		       "expected %s, got %s", ld->shard_path[sh], name,
		       plm_st_shape_str(want, wd, a, sizeof a),
		       plm_st_shape_str(t->shape, t->ndim, b, sizeof b));
		return NULL;
	}
	float *dst = ld->next;
	/* read, not copied from the mapping: the file's pages do not join
	 * the arena in the resident set */
	if (plm_st_read_f32(ld->shard[sh], t, dst, ld->err, ld->errlen))
		return NULL;
	/* One Inf turns every activation it reaches into NaN, one NaN
	 * poisons whole rows; neither is a usable weight.  The converted
	 * floats are still in cache for all but the largest tensors. */
	size_t bad = first_nonfinite(dst, t->numel);
	if (bad < t->numel) {
		plm_errf(ld->err, ld->errlen, "%s: tensor '%s': non-finite value "
		       "(%s) at index %zu", ld->shard_path[sh], name,
		       dst[bad] != dst[bad] ? "nan" : dst[bad] > 0 ? "inf" : "-inf",
		       bad);
		return NULL;
	}
	if (mark_used(ld, t))
		return NULL;
	ld->next += t->numel;
	return dst;
}

#define N1(a) (const char *const[]){ a }, 1
#define LN_W(base) (const char *const[]){ base ".weight", base ".gamma" }, 2
#define LN_B(base) (const char *const[]){ base ".bias", base ".beta" }, 2
#define LY "encoder.layer.%d."

static int load_layer(loader *ld, plm_esm *m, int i)
{
	const plm_esm_config *c = &m->cfg;
	const int64_t H = c->hidden, F = c->ffn, hd2 = c->head_dim / 2;
	esm_layer *l = &m->layer[i];
	if (!(l->ln1_w = load(ld, LN_W(LY "attention.LayerNorm"), i, H, 0, 0)) ||
	    !(l->ln1_b = load(ld, LN_B(LY "attention.LayerNorm"), i, H, 0, 0)))
		return -1;
	/* query, key, value land next to each other: one [3H, H] GEMM. */
	const float *wq, *wk, *wv, *bq, *bk, *bv;
	if (!(wq = load(ld, N1(LY "attention.self.query.weight"), i, H, H, 0)) ||
	    !(wk = load(ld, N1(LY "attention.self.key.weight"), i, H, H, 0)) ||
	    !(wv = load(ld, N1(LY "attention.self.value.weight"), i, H, H, 0)) ||
	    !(bq = load(ld, N1(LY "attention.self.query.bias"), i, H, 0, 0)) ||
	    !(bk = load(ld, N1(LY "attention.self.key.bias"), i, H, 0, 0)) ||
	    !(bv = load(ld, N1(LY "attention.self.value.bias"), i, H, 0, 0)))
		return -1;
	if (wk != wq + H * H || wv != wk + H * H || bk != bq + H || bv != bk + H)
		return plm_errf(ld->err, ld->errlen, "internal: q/k/v not adjacent");
	l->wqkv = wq;
	l->bqkv = bq;
	if (!(l->wo = load(ld, N1(LY "attention.output.dense.weight"), i, H, H, 0)) ||
	    !(l->bo = load(ld, N1(LY "attention.output.dense.bias"), i, H, 0, 0)) ||
	    !(l->ln2_w = load(ld, LN_W(LY "LayerNorm"), i, H, 0, 0)) ||
	    !(l->ln2_b = load(ld, LN_B(LY "LayerNorm"), i, H, 0, 0)) ||
	    !(l->w1 = load(ld, N1(LY "intermediate.dense.weight"), i, F, H, 0)) ||
	    !(l->b1 = load(ld, N1(LY "intermediate.dense.bias"), i, F, 0, 0)) ||
	    !(l->w2 = load(ld, N1(LY "output.dense.weight"), i, H, F, 0)) ||
	    !(l->b2 = load(ld, N1(LY "output.dense.bias"), i, H, 0, 0)))
		return -1;
	/* A stored inv_freq (per layer on the hub, one shared "layer.*" key
	 * from transformers 5) is used as stored; else computed as
	 * transformers does, in float32. */
	static const char *const rot[] = {
		LY "attention.self.rotary_embeddings.inv_freq",
		"encoder.layer.*.attention.self.rotary_embeddings.inv_freq",
	};
	l->inv_freq = load(ld, rot, 2, i, hd2, 0, 1);
	if (!l->inv_freq) {
		if (ld->err[0])
			return -1;
		float *f = ld->next;
		for (int64_t k = 0; k < hd2; k++) {
			float e = (float)(2 * k) / (float)c->head_dim;
			f[k] = 1.0f / powf(10000.0f, e);
		}
		ld->next += hd2;
		l->inv_freq = f;
	}
	return 0;
}

static int load_weights(loader *ld, plm_esm *m)
{
	const plm_esm_config *c = &m->cfg;
	const int64_t H = c->hidden, V = c->vocab;
	if (!(m->embed = load(ld, N1("embeddings.word_embeddings.weight"), 0,
			      V, H, 0)))
		return -1;
	if (c->emb_ln_before &&
	    (!(m->emb_ln_w = load(ld, LN_W("embeddings.layer_norm"), 0, H, 0, 0)) ||
	     !(m->emb_ln_b = load(ld, LN_B("embeddings.layer_norm"), 0, H, 0, 0))))
		return -1;
	for (int i = 0; i < c->layers; i++)
		if (load_layer(ld, m, i))
			return -1;
	if (!(m->lnf_w = load(ld, LN_W("encoder.emb_layer_norm_after"), 0, H, 0, 0)) ||
	    !(m->lnf_b = load(ld, LN_B("encoder.emb_layer_norm_after"), 0, H, 0, 0)))
		return -1;
	/* The LM head is optional as a whole (EsmModel checkpoints have
	 * none) but complete when present. */
	if (!find(ld, "lm_head.dense.weight", NULL))
		return 0;
	if (!(m->lm_w = load(ld, N1("lm_head.dense.weight"), 0, H, H, 0)) ||
	    !(m->lm_b = load(ld, N1("lm_head.dense.bias"), 0, H, 0, 0)) ||
	    !(m->lm_ln_w = load(ld, LN_W("lm_head.layer_norm"), 0, H, 0, 0)) ||
	    !(m->lm_ln_b = load(ld, LN_B("lm_head.layer_norm"), 0, H, 0, 0)) ||
	    !(m->lm_bias = load(ld, N1("lm_head.bias"), 0, V, 0, 0)))
		return -1;
	m->lm_dec = load(ld, N1("lm_head.decoder.weight"), 0, V, H, 1);
	if (ld->err[0])
		return -1;
	if (!m->lm_dec)
		m->lm_dec = m->embed;       /* tie_word_embeddings */
	m->cfg.has_lm_head = 1;
	return 0;
}

/* Tensors that ESM-2 checkpoints carry and the engine does not need. */
static int ignorable(const char *name)
{
	static const char *const part[] = {
		"position_embeddings.", "position_ids", "inv_freq",
		"contact_head.", "pooler.",
	};
	if (!strncmp(name, "lm_head.", 8))
		return 1;
	for (size_t i = 0; i < sizeof part / sizeof *part; i++)
		if (strstr(name, part[i]))
			return 1;
	return 0;
}

static int cmp_ptr(const void *a, const void *b)
{
	const void *x = *(const void *const *)a, *y = *(const void *const *)b;
	return x < y ? -1 : x > y;
}

static int check_unused(loader *ld)
{
	qsort(ld->used, ld->nused, sizeof *ld->used, cmp_ptr);
	for (size_t s = 0; s < ld->nshard; s++)
		for (size_t i = 0; i < plm_st_count(ld->shard[s]); i++) {
			const plm_st_tensor *t = plm_st_at(ld->shard[s], i);
			if (bsearch(&t, ld->used, ld->nused, sizeof *ld->used,
				    cmp_ptr) || ignorable(t->name))
				continue;
			return plm_errf(ld->err, ld->errlen, "%s: unexpected "
				      "tensor '%s' (not part of an ESM-2 model "
				      "with this config.json)",
				      ld->shard_path[s], t->name);
		}
	return 0;
}

/* The layer count and the embedding's shape in config.json agree with
 * the tensors: checked before allocating, so a config that claims a
 * million layers is reported as the mismatch it is, not as "out of
 * memory".  (load_weights checks every shape again.) */
static int check_config(loader *ld, const plm_esm_config *c)
{
	char name[256];
	const char *where = ld->nshard == 1 ? ld->shard_path[0] : ld->dir;
	snprintf(name, sizeof name, "%sembeddings.word_embeddings.weight",
		 ld->prefix);
	const plm_st_tensor *t = find(ld, name, NULL);
	if (t && (t->ndim != 2 || t->shape[0] != c->vocab ||
		  t->shape[1] != c->hidden)) {
		char sh[128];
		return plm_errf(ld->err, ld->errlen, "%s: tensor '%s' is %s, but "
			      "config.json has vocab_size %d, hidden_size %d",
			      where, name,
			      plm_st_shape_str(t->shape, t->ndim, sh, sizeof sh),
			      c->vocab, c->hidden);
	}
	int have = 0;
	for (; have < c->layers; have++) {
		snprintf(name, sizeof name,
			 "%sencoder.layer.%d.attention.self.query.weight",
			 ld->prefix, have);
		if (!find(ld, name, NULL))
			break;
	}
	if (have < c->layers)
		return plm_errf(ld->err, ld->errlen, "%s: config.json has "
			      "num_hidden_layers %d, but the weights have %d "
			      "(no tensor '%s')", where, c->layers, have, name);
	return 0;
}

/* n bytes for the weights, in transparent huge pages where the kernel
 * offers them on request: filling 2.6 GB page by page costs 650,000 page
 * faults, several seconds on a virtual machine. */
static void *big_alloc(size_t n)
{
	enum { HUGE = 2u << 20 };
	void *p = NULL;
	if (n < HUGE)
		return malloc(n ? n : 1);
	if (posix_memalign(&p, HUGE, (n + HUGE - 1) / HUGE * HUGE))
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, (n + HUGE - 1) / HUGE * HUGE, MADV_HUGEPAGE);
#endif
	return p;
}

/* Upper bound of the floats load_weights writes. */
static size_t arena_floats(const plm_esm_config *c)
{
	size_t H = (size_t)c->hidden, F = (size_t)c->ffn, V = (size_t)c->vocab;
	size_t per_layer = 4 * H * H + 2 * H * F + 9 * H + F +
			   (size_t)c->head_dim / 2;
	return V * H + 2 * H + (size_t)c->layers * per_layer + 2 * H +
	       H * H + 3 * H + V * H + V;
}

/* Whether the four Linear weights of a layer can be pre-packed in their
 * own place: every N a multiple of PLM_GEMM_PW_NR (the packed weight is
 * then exactly as large) and K even (the same for the bf16 pairs). */
static int packable(const plm_esm_config *c)
{
	return c->hidden % PLM_GEMM_PW_NR == 0 && c->ffn % PLM_GEMM_PW_NR == 0;
}

/* Floats of the largest Linear weight of a layer. */
static size_t max_linear(const plm_esm_config *c)
{
	size_t H = (size_t)c->hidden, F = (size_t)c->ffn;
	return 3 * H * H > F * H ? 3 * H * H : F * H;
}

/* Pre-packs the Linear weights in place (plm_gemm_pw), through one
 * buffer of the largest; without room for it they stay as they are (the
 * same bits, more work per product). */
static void pack_layers(plm_esm *m)
{
	const plm_esm_config *c = &m->cfg;
	const size_t H = (size_t)c->hidden, F = (size_t)c->ffn;
	if (!packable(c) || !c->layers)
		return;
	float *tmp = malloc(max_linear(c) * sizeof *tmp);
	if (!tmp)
		return;
	for (int i = 0; i < c->layers; i++) {
		esm_layer *l = &m->layer[i];
		struct { const float *w; size_t n, k; } lin[4] = {
			{ l->wqkv, 3 * H, H }, { l->wo, H, H },
			{ l->w1, F, H }, { l->w2, H, F },
		};
		for (int j = 0; j < 4; j++) {
			plm_gemm_pw_pack(tmp, lin[j].w, lin[j].k, lin[j].n,
					 lin[j].k);
			memcpy((float *)lin[j].w, tmp,
			       lin[j].n * lin[j].k * sizeof *tmp);
		}
		l->packed = 1;
	}
	free(tmp);
}

plm_esm *plm_esm_load(const char *dir, char *err, size_t errlen)
{
	plm_esm *m = calloc(1, sizeof *m);
	loader ld = { .dir = dir };
	ld.err = ld.msg;
	ld.errlen = sizeof ld.msg;
	if (!m)
		return plm_errf(err, errlen, "out of memory"), NULL;
	if (read_config(&m->cfg, dir, ld.err, ld.errlen) ||
	    read_vocab(m, dir, ld.err, ld.errlen) ||
	    open_shards(&ld, ld.err, ld.errlen))
		goto fail;
	ld.prefix = "";
	for (size_t s = 0; s < ld.nshard && !*ld.prefix; s++)
		for (size_t i = 0; i < plm_st_count(ld.shard[s]); i++)
			if (!strncmp(plm_st_at(ld.shard[s], i)->name, "esm.", 4)) {
				ld.prefix = "esm.";
				break;
			}
	/* config against the tensors before sizing memory by the config */
	if (check_config(&ld, &m->cfg))
		goto fail;
	m->arena_n = arena_floats(&m->cfg);
	m->arena = big_alloc(m->arena_n * sizeof *m->arena);
	m->layer = calloc((size_t)m->cfg.layers, sizeof *m->layer);
	if (!m->arena || !m->layer) {
		plm_errf(ld.err, ld.errlen, "out of memory (%zu MB of weights)",
		       m->arena_n * 4 >> 20);
		goto fail;
	}
	ld.next = m->arena;
	if (load_weights(&ld, m) || check_unused(&ld))
		goto fail;
	m->arena_n = (size_t)(ld.next - m->arena);
	/* Signature: config and weights as loaded. */
	XXH3_state_t *hs = XXH3_createState();
	if (!hs) {
		plm_errf(ld.err, ld.errlen, "out of memory");
		goto fail;
	}
	XXH3_64bits_reset(hs);
	XXH3_64bits_update(hs, &m->cfg, offsetof(plm_esm_config, max_residues));
	XXH3_64bits_update(hs, m->arena, m->arena_n * sizeof *m->arena);
	snprintf(m->sig, sizeof m->sig, "%016llx",
		 (unsigned long long)XXH3_64bits_digest(hs));
	XXH3_freeState(hs);
	pack_layers(m);
	goto done;
fail:
	plm_errf(err, errlen, "%s", ld.msg);
	plm_esm_free(m);
	m = NULL;
done:
	for (size_t s = 0; s < ld.nshard; s++) {
		plm_st_close(ld.shard[s]);
		free(ld.shard_path[s]);
	}
	free(ld.shard);
	free(ld.shard_path);
	free(ld.used);
	return m;
}

/* Copies n floats at p (NULL: none) to *next, returning the copy. */
static const float *keep(float **next, const float *p, size_t n)
{
	if (!p)
		return NULL;
	float *d = memcpy(*next, p, n * sizeof *p);
	*next += n;
	return d;
}

/* Converts n floats at p to bfloat16 at *next, where *next <= p in bytes:
 * the arena is compacted in place, the bfloat16 copy growing behind the
 * floats still to be read.  Through a block of the stack, so that no
 * store can reach a float before it is read, whatever the compiler
 * reorders. */
static const plm_bf16 *to_bf16(plm_bf16 **next, const float *p, size_t n)
{
	enum { BLK = 256 };
	plm_bf16 *d = *next;
	float f[BLK];
	plm_bf16 h[BLK];
	for (size_t i = 0; i < n; i += BLK) {
		size_t k = n - i < BLK ? n - i : BLK;
		memcpy(f, p + i, k * sizeof *f);
		for (size_t j = 0; j < k; j++)
			h[j] = plm_f32_to_bf16(f[j]);
		memcpy(d + i, h, k * sizeof *h);
	}
	*next += n;
	return d;
}

/* The rows of a Linear weight [n, k]: w itself, or unpacked into tmp
 * when tmp is given (the layers are packed). */
static const float *rows(float *tmp, const float *w, size_t n, size_t k)
{
	if (!tmp)
		return w;
	plm_gemm_pw_unpack(tmp, k, w, n, k);
	return tmp;
}

/* The float32 arena becomes the bfloat16 one in place (no second copy of
 * the weights: the peak is the float32 weights), after the small float32
 * tensors (embeddings, LayerNorms, biases, LM head) are copied out into an
 * arena of their own. */
int plm_esm_set_bf16(plm_esm *m, char *err, size_t errlen)
{
	if (m->arena16)
		return 0;
	const plm_esm_config *c = &m->cfg;
	const size_t H = (size_t)c->hidden, F = (size_t)c->ffn,
		     V = (size_t)c->vocab, N = (size_t)c->layers;
	const size_t lin = 4 * H * H + 2 * H * F;
	float *na = malloc((m->arena_n - N * lin) * sizeof *na);
	const int packed = N && m->layer[0].packed;
	float *tmp = packed ? malloc(max_linear(c) * sizeof *tmp) : NULL;
	if (!na || (packed && !tmp)) {
		free(na);
		free(tmp);
		return plm_errf(err, errlen, "out of memory (%zu MB)",
				(m->arena_n - N * lin) * 4 >> 20);
	}
	float *nx = na;
	const int tied = m->lm_dec == m->embed;
	m->embed = keep(&nx, m->embed, V * H);
	m->emb_ln_w = keep(&nx, m->emb_ln_w, H);
	m->emb_ln_b = keep(&nx, m->emb_ln_b, H);
	for (size_t i = 0; i < N; i++) {
		esm_layer *l = &m->layer[i];
		l->ln1_w = keep(&nx, l->ln1_w, H);
		l->ln1_b = keep(&nx, l->ln1_b, H);
		l->bqkv = keep(&nx, l->bqkv, 3 * H);
		l->bo = keep(&nx, l->bo, H);
		l->ln2_w = keep(&nx, l->ln2_w, H);
		l->ln2_b = keep(&nx, l->ln2_b, H);
		l->b1 = keep(&nx, l->b1, F);
		l->b2 = keep(&nx, l->b2, H);
		l->inv_freq = keep(&nx, l->inv_freq, (size_t)c->head_dim / 2);
	}
	m->lnf_w = keep(&nx, m->lnf_w, H);
	m->lnf_b = keep(&nx, m->lnf_b, H);
	m->lm_w = keep(&nx, m->lm_w, H * H);
	m->lm_b = keep(&nx, m->lm_b, H);
	m->lm_ln_w = keep(&nx, m->lm_ln_w, H);
	m->lm_ln_b = keep(&nx, m->lm_ln_b, H);
	m->lm_dec = tied ? m->embed : keep(&nx, m->lm_dec, V * H);
	m->lm_bias = keep(&nx, m->lm_bias, V);
	/* Layer by layer in arena order (load order): the write position,
	 * 2 bytes per linear weight so far, never passes the read position,
	 * 4 bytes per float before it. */
	plm_bf16 *w16 = (plm_bf16 *)(void *)m->arena, *n16 = w16;
	for (size_t i = 0; i < N; i++) {
		esm_layer *l = &m->layer[i];
		l->wqkv16 = to_bf16(&n16, rows(tmp, l->wqkv, 3 * H, H), 3 * H * H);
		l->wo16 = to_bf16(&n16, rows(tmp, l->wo, H, H), H * H);
		l->w116 = to_bf16(&n16, rows(tmp, l->w1, F, H), F * H);
		l->w216 = to_bf16(&n16, rows(tmp, l->w2, H, F), H * F);
		l->wqkv = l->wo = l->w1 = l->w2 = NULL;
	}
	/* Shrinking keeps the block where it is (glibc: in place, or
	 * mremap for a mapped block, which moves no data); the layers are
	 * pointed at it again in case it moved. */
	plm_bf16 *sh = realloc(w16, (N * lin > 0 ? N * lin : 1) * sizeof *sh);
	m->arena16 = sh ? sh : w16;
	for (size_t i = 0; i < N; i++) {
		esm_layer *l = &m->layer[i];
		l->wqkv16 = m->arena16 + i * lin;
		l->wo16 = l->wqkv16 + 3 * H * H;
		l->w116 = l->wo16 + H * H;
		l->w216 = l->w116 + F * H;
		if (!packed)
			continue;
		/* and packed again, now as pairs, in place */
		struct { const plm_bf16 *w; size_t n, k; } ws[4] = {
			{ l->wqkv16, 3 * H, H }, { l->wo16, H, H },
			{ l->w116, F, H }, { l->w216, H, F },
		};
		for (int j = 0; j < 4; j++) {
			uint32_t *t = (uint32_t *)(void *)tmp;
			plm_gemm_bf16_pw_pack(t, ws[j].w, ws[j].k, ws[j].n,
					      ws[j].k);
			memcpy((plm_bf16 *)ws[j].w, t,
			       ws[j].n * ws[j].k * sizeof *ws[j].w);
		}
	}
	free(tmp);
	m->arena = na;
	m->arena_n = (size_t)(nx - na);
	/* Other numbers, another signature (caches keep them apart). */
	char tag[32];
	snprintf(tag, sizeof tag, "%s bf16", m->sig);
	snprintf(m->sig, sizeof m->sig, "%016llx",
		 (unsigned long long)XXH3_64bits(tag, strlen(tag)));
	return 0;
}

void plm_esm_free(plm_esm *m)
{
	if (!m)
		return;
	if (m->vocab)
		for (int i = 0; i < m->cfg.vocab; i++)
			free(m->vocab[i]);
	PLM_FREE(m->vocab, m->layer, m->arena, m->arena16, m);
}

const plm_esm_config *plm_esm_info(const plm_esm *m)
{
	return &m->cfg;
}

const char *plm_esm_signature(const plm_esm *m)
{
	return m->sig;
}

const char *plm_esm_token(const plm_esm *m, int id)
{
	return id >= 0 && id < m->cfg.vocab ? m->vocab[id] : NULL;
}

int plm_esm_token_id(const plm_esm *m, const char *tok)
{
	for (int i = 0; i < m->cfg.vocab; i++)
		if (m->vocab[i] && !strcmp(m->vocab[i], tok))
			return i;
	return -1;
}

size_t plm_esm_tokenize(const plm_esm *m, const char *seq, size_t n,
			int32_t *ids)
{
	ids[0] = m->cfg.tok_cls;
	for (size_t i = 0; i < n; i++)
		ids[i + 1] = m->byte_tok[(unsigned char)seq[i]];
	ids[n + 1] = m->cfg.tok_eos;
	return n + 2;
}
