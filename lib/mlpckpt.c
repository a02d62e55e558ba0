/* mlpckpt.c — write and read the mlp-train checkpoint
 * (include/plm/mlpckpt.h, format in man/mlp-train.1).
 *
 * The file is one MessagePack map packed with msgpack-c into memory, then
 * written through plm_out (temporary name + rename).  Keys are written in
 * a fixed order and no clock or path goes in, so the same training run
 * gives the same bytes.  Floats are stored little-endian; this code
 * assumes a little-endian host (checked at compile time). */
#include "plm/mlpckpt.h"

#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/io.h"
#include "plm/stream.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mlpckpt.c stores floats little-endian and assumes such a host"
#endif

#define MAGIC "plmkit-mlp"
#define VERSION 1

static void pk_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static void pk_bin(msgpack_packer *pk, const void *p, size_t n)
{
	msgpack_pack_bin(pk, n);
	if (n)          /* p may be NULL then */
		msgpack_pack_bin_body(pk, p, n);
}

static void pk_hex(msgpack_packer *pk, plm_h128 h)
{
	char hex[33];
	pk_str(pk, plm_h128_hex(h, hex));
}

/* A map entry: key, then a string, bin or hash value. */
static void pk_kstr(msgpack_packer *pk, const char *key, const char *s)
{
	pk_str(pk, key);
	pk_str(pk, s);
}

static void pk_kbin(msgpack_packer *pk, const char *key, const void *p,
		    size_t n)
{
	pk_str(pk, key);
	pk_bin(pk, p, n);
}

static void pk_khex(msgpack_packer *pk, const char *key, plm_h128 h)
{
	pk_str(pk, key);
	pk_hex(pk, h);
}

static int h128_lt(plm_h128 a, plm_h128 b)
{
	return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}

/* Sequence hashes: 16 bytes each, hi then lo (host order: little-endian,
 * as the ids). */
static void pk_seqs(msgpack_packer *pk, const char *key, const plm_h128 *h,
		    size_t n)
{
	pk_str(pk, key);
	msgpack_pack_bin(pk, n * 16);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_bin_body(pk, &h[i].hi, 8);
		msgpack_pack_bin_body(pk, &h[i].lo, 8);
	}
}

static void pack(msgpack_packer *pk, const plm_mlpckpt *c)
{
	const plm_mlp *m = &c->mlp;
	msgpack_pack_map(pk, 10);
	pk_kstr(pk, "format", MAGIC);
	pk_str(pk, "version");
	msgpack_pack_int(pk, VERSION);

	pk_str(pk, "arch");
	msgpack_pack_map(pk, 4);
	pk_str(pk, "dims");
	msgpack_pack_array(pk, m->nl + 1);
	for (uint32_t l = 0; l <= m->nl; l++)
		msgpack_pack_uint32(pk, m->dim[l]);
	pk_kstr(pk, "act", plm_act_name(m->act));
	pk_kstr(pk, "head", plm_head_name(m->head));
	pk_str(pk, "dropout");
	msgpack_pack_double(pk, m->dropout);

	pk_str(pk, "params");
	msgpack_pack_array(pk, 2 * m->nl);
	for (uint32_t l = 0; l < m->nl; l++) {
		pk_bin(pk, m->W[l], (size_t)m->dim[l + 1] * m->dim[l] * 4);
		pk_bin(pk, m->b[l], (size_t)m->dim[l + 1] * 4);
	}

	pk_str(pk, "norm");
	if (m->mean) {
		msgpack_pack_map(pk, 2);
		pk_kbin(pk, "mean", m->mean, (size_t)m->dim[0] * 4);
		pk_kbin(pk, "std", m->std, (size_t)m->dim[0] * 4);
	} else {
		msgpack_pack_nil(pk);
	}

	pk_str(pk, "labels");
	msgpack_pack_map(pk, 3);
	pk_kstr(pk, "type", c->label_str ? "str" : "int");
	pk_str(pk, "names");
	msgpack_pack_array(pk, c->nclass);
	for (uint32_t k = 0; k < c->nclass; k++)
		pk_str(pk, c->classes[k]);
	pk_str(pk, "pos");
	if (c->pos >= 0)
		msgpack_pack_int(pk, c->pos);
	else
		msgpack_pack_nil(pk);

	pk_str(pk, "fields");
	msgpack_pack_map(pk, 5);
	pk_kstr(pk, "x", c->xfield);
	pk_kstr(pk, "x_type", c->xtype);
	pk_kstr(pk, "y", c->yfield);
	pk_kstr(pk, "id", c->idfield);
	pk_kstr(pk, "split", c->splitfield);

	pk_str(pk, "args");
	msgpack_pack_map(pk, c->nargs);
	for (size_t i = 0; i < 2 * c->nargs; i++)
		pk_str(pk, c->args[i]);

	pk_str(pk, "fit");
	msgpack_pack_map(pk, 3);
	pk_str(pk, "epochs");
	msgpack_pack_uint32(pk, c->epochs);
	pk_str(pk, "best_epoch");
	msgpack_pack_uint32(pk, c->best_epoch);
	pk_str(pk, "best_val_loss");
	if (isnan(c->best_val_loss))
		msgpack_pack_nil(pk);
	else
		msgpack_pack_double(pk, c->best_val_loss);

	pk_str(pk, "data");
	msgpack_pack_map(pk, 10);
	pk_str(pk, "train_rows");
	msgpack_pack_uint64(pk, c->train_rows);
	pk_str(pk, "val_rows");
	msgpack_pack_uint64(pk, c->val_rows);
	pk_khex(pk, "train_digest", c->train_digest);
	pk_khex(pk, "val_digest", c->val_digest);
	pk_kbin(pk, "train_ids", c->train_ids, c->ntrain_ids * 8);
	pk_kbin(pk, "val_ids", c->val_ids, c->nval_ids * 8);
	pk_str(pk, "split_digest");
	if (c->split_digest[0])
		pk_str(pk, c->split_digest);
	else
		msgpack_pack_nil(pk);
	pk_str(pk, "seq_field");
	if (c->seq_field)
		pk_str(pk, c->seq_field);
	else
		msgpack_pack_nil(pk);
	pk_seqs(pk, "train_seqs", c->train_seqs, c->ntrain_seqs);
	pk_seqs(pk, "val_seqs", c->val_seqs, c->nval_seqs);
}

int plm_mlpckpt_save(const plm_mlpckpt *c, const char *path, char *err,
		     size_t errlen)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack(&pk, c);
	plm_out *o = plm_out_open(path, err, errlen);
	if (!o) {
		msgpack_sbuffer_destroy(&sb);
		return -1;
	}
	int rc = 0;
	if (plm_out_write(o, sb.data, sb.size)) {
		snprintf(err, errlen, "%s", plm_out_error(o));
		plm_out_abort(o);
		rc = -1;
	} else if (plm_out_close(o, err, errlen)) {
		rc = -1;
	}
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* ---- reading ---------------------------------------------------------- */

struct ld {
	const char *path;
	char *err;
	size_t errlen;
};

static int fail(struct ld *L, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct ld *L, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(L->err, L->errlen, "%s: %s", L->path, msg);
	return -1;
}

static const msgpack_object *get(const msgpack_object *m, const char *key)
{
	if (m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	size_t n = strlen(key);
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    !memcmp(k->via.str.ptr, key, n))
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}

/* Typed lookups: NULL / -1 and a message naming the key when absent or of
 * the wrong type. */
static const msgpack_object *need(struct ld *L, const msgpack_object *m,
				  const char *key, msgpack_object_type t)
{
	const msgpack_object *o = get(m, key);
	if (!o || o->type != t) {
		fail(L, "checkpoint key '%s' %s", key,
		     o ? "has the wrong type" : "is missing");
		return NULL;
	}
	return o;
}

static char *dup_str(const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return NULL;
	char *s = malloc(o->via.str.size + 1);
	if (s) {
		memcpy(s, o->via.str.ptr, o->via.str.size);
		s[o->via.str.size] = 0;
	}
	return s;
}

static int need_str(struct ld *L, const msgpack_object *m, const char *key,
		    char **out)
{
	const msgpack_object *o = need(L, m, key, MSGPACK_OBJECT_STR);
	if (!o)
		return -1;
	if (!(*out = dup_str(o)))
		return fail(L, "out of memory");
	return 0;
}

static int need_uint(struct ld *L, const msgpack_object *m, const char *key,
		     uint64_t *out)
{
	const msgpack_object *o = need(L, m, key,
				       MSGPACK_OBJECT_POSITIVE_INTEGER);
	if (!o) {
		/* 0 may be packed as a positive fixint only; be strict */
		return -1;
	}
	*out = o->via.u64;
	return 0;
}

/* A bin of exactly n bytes copied into dst (allocated when *dst NULL). */
static int need_bin(struct ld *L, const msgpack_object *o, const char *what,
		    void *dst, size_t n)
{
	if (!o || o->type != MSGPACK_OBJECT_BIN)
		return fail(L, "checkpoint '%s' is not a bin", what);
	if (o->via.bin.size != n)
		return fail(L, "checkpoint '%s' has %u bytes; expected %zu",
			    what, o->via.bin.size, n);
	memcpy(dst, o->via.bin.ptr, n);
	return 0;
}

static int id_set(struct ld *L, const msgpack_object *d, const char *key,
		  uint64_t **ids, size_t *n)
{
	const msgpack_object *o = need(L, d, key, MSGPACK_OBJECT_BIN);
	if (!o)
		return -1;
	if (o->via.bin.size % 8)
		return fail(L, "checkpoint '%s' is not a list of 64-bit "
			    "hashes", key);
	*n = o->via.bin.size / 8;
	*ids = malloc(*n ? o->via.bin.size : 1);
	if (!*ids)
		return fail(L, "out of memory");
	if (*n)
		memcpy(*ids, o->via.bin.ptr, o->via.bin.size);
	for (size_t i = 1; i < *n; i++)
		if ((*ids)[i - 1] > (*ids)[i])
			return fail(L, "checkpoint '%s' is not sorted", key);
	return 0;
}

/* 16 bytes per hash: hi then lo, u64 little-endian (the host's order,
 * as for the ids), sorted and unique. */
static int seq_set(struct ld *L, const msgpack_object *d, const char *key,
		   plm_h128 **hs, size_t *n)
{
	const msgpack_object *o = need(L, d, key, MSGPACK_OBJECT_BIN);
	if (!o)
		return -1;
	if (o->via.bin.size % 16)
		return fail(L, "checkpoint '%s' is not a list of 128-bit "
			    "hashes", key);
	*n = o->via.bin.size / 16;
	*hs = malloc(*n ? *n * sizeof **hs : 1);
	if (!*hs)
		return fail(L, "out of memory");
	for (size_t i = 0; i < *n; i++) {
		memcpy(&(*hs)[i].hi, o->via.bin.ptr + 16 * i, 8);
		memcpy(&(*hs)[i].lo, o->via.bin.ptr + 16 * i + 8, 8);
		if (i && !h128_lt((*hs)[i - 1], (*hs)[i]))
			return fail(L, "checkpoint '%s' is not sorted", key);
	}
	return 0;
}

static int digest(struct ld *L, const msgpack_object *d, const char *key,
		  plm_h128 *h)
{
	const msgpack_object *o = need(L, d, key, MSGPACK_OBJECT_STR);
	if (!o)
		return -1;
	if (plm_h128_parse(o->via.str.ptr, o->via.str.size, h))
		return fail(L, "checkpoint '%s' is not 32 hex digits", key);
	return 0;
}

/* Index of the first NaN or Inf of x[0 .. n), or n. */
static size_t first_nonfinite(const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return i;
	return n;
}

/* "nan", "inf", "-inf": the same on every libc (glibc prints "-nan"). */
static const char *fname(float f)
{
	return isnan(f) ? "nan" : f > 0 ? "inf" : "-inf";
}

static int load_arch(struct ld *L, const msgpack_object *root, plm_mlp *m)
{
	const msgpack_object *a = need(L, root, "arch", MSGPACK_OBJECT_MAP);
	const msgpack_object *dims, *act, *head, *drop;
	if (!a || !(dims = need(L, a, "dims", MSGPACK_OBJECT_ARRAY)) ||
	    !(act = need(L, a, "act", MSGPACK_OBJECT_STR)) ||
	    !(head = need(L, a, "head", MSGPACK_OBJECT_STR)) ||
	    !(drop = need(L, a, "dropout", MSGPACK_OBJECT_FLOAT64)))
		return -1;
	uint32_t nd = dims->via.array.size, dim[PLM_MLP_MAXL + 1];
	if (nd < 2 || nd > PLM_MLP_MAXL + 1)
		return fail(L, "checkpoint has %u layer sizes", nd);
	for (uint32_t l = 0; l < nd; l++) {
		const msgpack_object *o = &dims->via.array.ptr[l];
		if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    o->via.u64 == 0 || o->via.u64 > (1u << 24))
			return fail(L, "checkpoint layer size %u is bad", l);
		dim[l] = (uint32_t)o->via.u64;
	}
	char buf[32];
	snprintf(buf, sizeof buf, "%.*s", (int)act->via.str.size, act->via.str.ptr);
	int ai = plm_act_parse(buf);
	snprintf(buf, sizeof buf, "%.*s", (int)head->via.str.size, head->via.str.ptr);
	int hi = plm_head_parse(buf);
	if (ai < 0 || hi < 0)
		return fail(L, "checkpoint has an unknown activation or head");
	if (hi == PLM_HEAD_BINARY && dim[nd - 1] != 1)
		return fail(L, "binary checkpoint with %u outputs", dim[nd - 1]);
	if (plm_mlp_alloc(m, nd - 1, dim, ai, hi, (float)drop->via.f64))
		return fail(L, "out of memory");
	const msgpack_object *p = need(L, root, "params", MSGPACK_OBJECT_ARRAY);
	if (!p)
		return -1;
	if (p->via.array.size != 2 * m->nl)
		return fail(L, "checkpoint has %u parameter arrays; expected %u",
			    p->via.array.size, 2 * m->nl);
	for (uint32_t l = 0; l < m->nl; l++) {
		char w[32], b[32];
		snprintf(w, sizeof w, "params[%u]", 2 * l);
		snprintf(b, sizeof b, "params[%u]", 2 * l + 1);
		if (need_bin(L, &p->via.array.ptr[2 * l], w, m->W[l],
			     (size_t)m->dim[l + 1] * m->dim[l] * 4) ||
		    need_bin(L, &p->via.array.ptr[2 * l + 1], b, m->b[l],
			     (size_t)m->dim[l + 1] * 4))
			return -1;
		/* One NaN or Inf parameter makes every score NaN (or
		 * constant): refuse it here rather than score with it. */
		size_t nw = (size_t)m->dim[l + 1] * m->dim[l], k;
		if ((k = first_nonfinite(m->W[l], nw)) < nw)
			return fail(L, "checkpoint layer %u of %u: weight "
				    "W%u[%zu][%zu] is not finite (%s)", l + 1,
				    m->nl, l, k / m->dim[l], k % m->dim[l],
				    fname(m->W[l][k]));
		if ((k = first_nonfinite(m->b[l], m->dim[l + 1])) < m->dim[l + 1])
			return fail(L, "checkpoint layer %u of %u: bias "
				    "b%u[%zu] is not finite (%s)", l + 1, m->nl,
				    l, k, fname(m->b[l][k]));
	}
	const msgpack_object *nm = get(root, "norm");
	if (!nm)
		return fail(L, "checkpoint key 'norm' is missing");
	if (nm->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (plm_mlp_alloc_norm(m))
		return fail(L, "out of memory");
	if (need_bin(L, get(nm, "mean"), "norm.mean", m->mean, m->dim[0] * 4) ||
	    need_bin(L, get(nm, "std"), "norm.std", m->std, m->dim[0] * 4))
		return -1;
	/* Features are scaled as (x - mean) / std: a zero std gives Inf or
	 * NaN, a negative one flips the feature's sign, a NaN poisons every
	 * score.  mlp-train stores 1 for a constant feature, never 0. */
	for (uint32_t j = 0; j < m->dim[0]; j++) {
		if (!isfinite(m->mean[j]))
			return fail(L, "checkpoint feature %u: norm.mean is "
				    "not finite (%s)", j, fname(m->mean[j]));
		if (!isfinite(m->std[j]))
			return fail(L, "checkpoint feature %u: norm.std is "
				    "not finite (%s)", j, fname(m->std[j]));
		if (!(m->std[j] > 0))
			return fail(L, "checkpoint feature %u: norm.std is %g; "
				    "it must be > 0", j, (double)m->std[j]);
	}
	return 0;
}

static int load_rest(struct ld *L, const msgpack_object *root, plm_mlpckpt *c)
{
	const msgpack_object *lb = need(L, root, "labels", MSGPACK_OBJECT_MAP);
	const msgpack_object *ty, *names, *pos;
	if (!lb || !(ty = need(L, lb, "type", MSGPACK_OBJECT_STR)) ||
	    !(names = need(L, lb, "names", MSGPACK_OBJECT_ARRAY)))
		return -1;
	c->label_str = ty->via.str.size == 3 && !memcmp(ty->via.str.ptr, "str", 3);
	c->nclass = names->via.array.size;
	uint32_t K = c->mlp.dim[c->mlp.nl];
	if (c->nclass != (c->mlp.head == PLM_HEAD_BINARY ? 2 : K))
		return fail(L, "checkpoint has %u class names for %u outputs",
			    c->nclass, K);
	c->classes = calloc(c->nclass, sizeof *c->classes);
	if (!c->classes)
		return fail(L, "out of memory");
	for (uint32_t k = 0; k < c->nclass; k++)
		if (!(c->classes[k] = dup_str(&names->via.array.ptr[k])))
			return fail(L, "checkpoint class name %u is bad", k);
	pos = get(lb, "pos");
	c->pos = -1;
	if (c->mlp.head == PLM_HEAD_BINARY) {
		if (!pos || pos->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    pos->via.u64 > 1)
			return fail(L, "checkpoint 'labels.pos' is bad");
		c->pos = (int)pos->via.u64;
	}
	const msgpack_object *f = need(L, root, "fields", MSGPACK_OBJECT_MAP);
	if (!f || need_str(L, f, "x", &c->xfield) ||
	    need_str(L, f, "x_type", &c->xtype) ||
	    need_str(L, f, "y", &c->yfield) ||
	    need_str(L, f, "id", &c->idfield) ||
	    need_str(L, f, "split", &c->splitfield))
		return -1;
	const msgpack_object *a = need(L, root, "args", MSGPACK_OBJECT_MAP);
	if (!a)
		return -1;
	c->nargs = a->via.map.size;
	c->args = calloc(2 * c->nargs + 1, sizeof *c->args);
	if (!c->args)
		return fail(L, "out of memory");
	for (size_t i = 0; i < c->nargs; i++)
		if (!(c->args[2 * i] = dup_str(&a->via.map.ptr[i].key)) ||
		    !(c->args[2 * i + 1] = dup_str(&a->via.map.ptr[i].val)))
			return fail(L, "checkpoint 'args' entry %zu is bad", i);
	const msgpack_object *fit = need(L, root, "fit", MSGPACK_OBJECT_MAP);
	uint64_t e, be;
	if (!fit || need_uint(L, fit, "epochs", &e) ||
	    need_uint(L, fit, "best_epoch", &be))
		return -1;
	c->epochs = (uint32_t)e;
	c->best_epoch = (uint32_t)be;
	const msgpack_object *bv = get(fit, "best_val_loss");
	c->best_val_loss = bv && bv->type == MSGPACK_OBJECT_FLOAT64
		? bv->via.f64 : NAN;
	const msgpack_object *d = need(L, root, "data", MSGPACK_OBJECT_MAP);
	if (!d || need_uint(L, d, "train_rows", &c->train_rows) ||
	    need_uint(L, d, "val_rows", &c->val_rows) ||
	    digest(L, d, "train_digest", &c->train_digest) ||
	    digest(L, d, "val_digest", &c->val_digest) ||
	    id_set(L, d, "train_ids", &c->train_ids, &c->ntrain_ids) ||
	    id_set(L, d, "val_ids", &c->val_ids, &c->nval_ids))
		return -1;
	const msgpack_object *sd = get(d, "split_digest");
	if (sd && sd->type == MSGPACK_OBJECT_STR) {
		plm_h128 h;
		if (plm_h128_parse(sd->via.str.ptr, sd->via.str.size, &h))
			return fail(L, "checkpoint 'split_digest' is not 32 "
				    "hex digits");
		memcpy(c->split_digest, sd->via.str.ptr, 32);
		c->split_digest[32] = 0;
	} else if (sd && sd->type != MSGPACK_OBJECT_NIL) {
		return fail(L, "checkpoint key 'split_digest' has the wrong "
			    "type");
	}
	/* sequence hashes: absent in older checkpoints (ids only) */
	const msgpack_object *sf = get(d, "seq_field");
	if (!sf)
		return 0;
	c->has_seqs = 1;
	if (sf->type == MSGPACK_OBJECT_STR) {
		if (!(c->seq_field = dup_str(sf)))
			return fail(L, "out of memory");
	} else if (sf->type != MSGPACK_OBJECT_NIL) {
		return fail(L, "checkpoint key 'seq_field' has the wrong type");
	}
	return seq_set(L, d, "train_seqs", &c->train_seqs, &c->ntrain_seqs) ||
	       seq_set(L, d, "val_seqs", &c->val_seqs, &c->nval_seqs) ? -1 : 0;
}

int plm_mlpckpt_load(plm_mlpckpt *c, const char *path, char *err,
		     size_t errlen)
{
	struct ld L = { path, err, errlen };
	memset(c, 0, sizeof *c);
	c->pos = -1;
	char *buf = NULL;
	size_t len = 0, off = 0;
	if (plm_in_slurp(path, &buf, &len, err, errlen))
		return -1;
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	int rc = -1;
	char why[128];
	msgpack_unpack_return ur = plm_mp_check(buf, len, why, sizeof why) ?
		MSGPACK_UNPACK_PARSE_ERROR :
		msgpack_unpack_next(&u, buf, len, &off);
	const msgpack_object *root = &u.data, *fmt, *ver;
	if (ur != MSGPACK_UNPACK_SUCCESS && ur != MSGPACK_UNPACK_EXTRA_BYTES) {
		fail(&L, len ? "not a plmkit MLP checkpoint (truncated or "
		     "not MessagePack)" : "empty file: not a checkpoint");
	} else if (!(fmt = get(root, "format")) ||
		   fmt->type != MSGPACK_OBJECT_STR ||
		   fmt->via.str.size != strlen(MAGIC) ||
		   memcmp(fmt->via.str.ptr, MAGIC, strlen(MAGIC))) {
		fail(&L, "not a plmkit MLP checkpoint");
	} else if (off != len) {
		fail(&L, "trailing bytes after the checkpoint");
	} else if (!(ver = get(root, "version")) ||
		   ver->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		   ver->via.u64 != VERSION) {
		fail(&L, "checkpoint format version is not %d", VERSION);
	} else if (!load_arch(&L, root, &c->mlp) && !load_rest(&L, root, c)) {
		rc = 0;
	}
	msgpack_unpacked_destroy(&u);
	free(buf);
	if (rc)
		plm_mlpckpt_free(c);
	return rc;
}

void plm_mlpckpt_free(plm_mlpckpt *c)
{
	plm_mlp_free(&c->mlp);
	for (uint32_t k = 0; c->classes && k < c->nclass; k++)
		free(c->classes[k]);
	free(c->classes);
	for (size_t i = 0; c->args && i < 2 * c->nargs; i++)
		free(c->args[i]);
	PLM_FREE(c->args, c->xfield, c->xtype, c->yfield, c->idfield,
		 c->splitfield, c->train_ids, c->val_ids, c->seq_field,
		 c->train_seqs, c->val_seqs);
	memset(c, 0, sizeof *c);
	c->pos = -1;
}

int plm_id_in(const uint64_t *ids, size_t n, uint64_t h)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ids[mid] < h)
			lo = mid + 1;
		else if (ids[mid] > h)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void plm_id_sort(uint64_t *ids, size_t n)
{
	if (n)
		qsort(ids, n, sizeof *ids, cmp_u64);
}

static int cmp_h128(const void *a, const void *b)
{
	const plm_h128 *x = a, *y = b;
	return h128_lt(*x, *y) ? -1 : h128_lt(*y, *x);
}

size_t plm_h128_sort_unique(plm_h128 *h, size_t n)
{
	if (!n)
		return 0;
	qsort(h, n, sizeof *h, cmp_h128);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (h128_lt(h[k - 1], h[i]))
			h[k++] = h[i];
	return k;
}

int plm_h128_in(const plm_h128 *hs, size_t n, plm_h128 h)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h128_lt(hs[mid], h))
			lo = mid + 1;
		else if (h128_lt(h, hs[mid]))
			hi = mid;
		else
			return 1;
	}
	return 0;
}
