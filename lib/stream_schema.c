/* stream_schema.c — field types, schemas and meta.prov (man 5 plm-stream).
 *
 * meta is kept as packed MessagePack bytes.  Changing it (add_prov,
 * prov_set) unpacks, rewrites and repacks the whole map: that happens once
 * per run, so simplicity wins over speed here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/stream.h"

#define PLM_MAX_DIM (1u << 24)

static const struct {
	const char *name;
	enum plm_type t;
} scalar_types[] = {
	{ "str", PLM_T_STR }, { "int", PLM_T_INT },
	{ "float", PLM_T_FLOAT }, { "bool", PLM_T_BOOL },
};

/* Strict decimal 1..PLM_MAX_DIM from s[0..len); -1 if not. */
static int parse_dim(const char *s, size_t len, uint32_t *dim)
{
	uint64_t v = 0;

	if (len == 0 || len > 9 || s[0] == '0')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > PLM_MAX_DIM)
		return -1;
	*dim = (uint32_t)v;
	return 0;
}

static int has_prefix(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);
	return len >= n && memcmp(s, p, n) == 0;
}

int plm_type_parse(const char *s, size_t len, enum plm_type *t, uint32_t *dim)
{
	for (size_t i = 0; i < sizeof scalar_types / sizeof *scalar_types; i++) {
		const char *n = scalar_types[i].name;
		if (strlen(n) == len && memcmp(s, n, len) == 0) {
			*t = scalar_types[i].t;
			*dim = 0;
			return 0;
		}
	}
	if (len < 2 || s[len - 1] != ']')
		return -1;
	if (has_prefix(s, len, "f32[*,")) {
		*t = PLM_T_F32M;
		return parse_dim(s + 6, len - 7, dim);
	}
	if (has_prefix(s, len, "f32[")) {
		*t = PLM_T_F32;
		return parse_dim(s + 4, len - 5, dim);
	}
	if (has_prefix(s, len, "f16[")) {
		*t = PLM_T_F16;
		return parse_dim(s + 4, len - 5, dim);
	}
	if (has_prefix(s, len, "bf16[")) {
		*t = PLM_T_BF16;
		return parse_dim(s + 5, len - 6, dim);
	}
	return -1;
}

const char *plm_type_name(enum plm_type t, uint32_t dim, char *buf, size_t len)
{
	switch (t) {
	case PLM_T_STR: snprintf(buf, len, "str"); break;
	case PLM_T_INT: snprintf(buf, len, "int"); break;
	case PLM_T_FLOAT: snprintf(buf, len, "float"); break;
	case PLM_T_BOOL: snprintf(buf, len, "bool"); break;
	case PLM_T_F32: snprintf(buf, len, "f32[%u]", dim); break;
	case PLM_T_F16: snprintf(buf, len, "f16[%u]", dim); break;
	case PLM_T_BF16: snprintf(buf, len, "bf16[%u]", dim); break;
	case PLM_T_F32M: snprintf(buf, len, "f32[*,%u]", dim); break;
	default: snprintf(buf, len, "?"); break;
	}
	return buf;
}

size_t plm_type_elsize(enum plm_type t)
{
	switch (t) {
	case PLM_T_F32:
	case PLM_T_F32M:
		return 4;
	case PLM_T_F16:
	case PLM_T_BF16:
		return 2;
	default:
		return 0;
	}
}

/* ---- schema ----------------------------------------------------------- */

/* Allocates nothing (meta NULL reads as {}), so that init followed by
 * plm_schema_copy(), which overwrites its destination, cannot leak. */
void plm_schema_init(plm_schema *s)
{
	memset(s, 0, sizeof *s);
}

void plm_schema_free(plm_schema *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->f[i].name);
	free(s->f);
	free(s->meta);
	memset(s, 0, sizeof *s);
}

int plm_schema_copy(plm_schema *dst, const plm_schema *src)
{
	plm_schema t;

	memset(&t, 0, sizeof t);
	t.f = calloc(src->n ? src->n : 1, sizeof *t.f);
	t.meta = malloc(src->meta_len ? src->meta_len : 1);
	if (!t.f || !t.meta)
		goto fail;
	t.cap = src->n ? src->n : 1;
	for (size_t i = 0; i < src->n; i++) {
		t.f[i] = src->f[i];
		t.f[i].name = strdup(src->f[i].name);
		if (!t.f[i].name)
			goto fail;
		t.n = i + 1;
	}
	if (src->meta_len) {
		memcpy(t.meta, src->meta, src->meta_len);
		t.meta_len = src->meta_len;
	} else {
		t.meta[0] = 0x80;
		t.meta_len = 1;
	}
	*dst = t;
	return 0;
fail:
	plm_schema_free(&t);
	plm_schema_init(dst);
	return -1;
}

int plm_schema_find(const plm_schema *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->f[i].name, name) == 0)
			return (int)i;
	return -1;
}

int plm_schema_add(plm_schema *s, const char *name, enum plm_type t,
		   uint32_t dim)
{
	int i = plm_schema_find(s, name);

	if (i >= 0) {
		s->f[i].type = t;
		s->f[i].dim = dim;
		return i;
	}
	if (PLM_GROW(s->f, s->cap, s->n + 1))
		return -1;
	char *nm = strdup(name);
	if (!nm)
		return -1;
	s->f[s->n].name = nm;
	s->f[s->n].type = t;
	s->f[s->n].dim = dim;
	return (int)s->n++;
}

int plm_schema_equal(const plm_schema *a, const plm_schema *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->f[i].type != b->f[i].type || a->f[i].dim != b->f[i].dim ||
		    strcmp(a->f[i].name, b->f[i].name) != 0)
			return 0;
	return 1;
}

/* ---- meta.prov ---------------------------------------------------------- */

static void pack_cstr(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static int key_is(const msgpack_object *k, const char *s)
{
	size_t n = strlen(s);
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       memcmp(k->via.str.ptr, s, n) == 0;
}

/* Unpack s->meta; NULL-safe.  Returns 0 and a map object in *o. */
static int meta_unpack(const plm_schema *s, msgpack_unpacked *u)
{
	size_t off = 0;

	msgpack_unpacked_init(u);
	if (!s->meta || !s->meta_len)
		return -1;
	if (msgpack_unpack_next(u, (const char *)s->meta, s->meta_len, &off) !=
	    MSGPACK_UNPACK_SUCCESS || u->data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(u);
		return -1;
	}
	return 0;
}

/* Replace s->meta with the bytes in sb (taken over). */
static int meta_take(plm_schema *s, msgpack_sbuffer *sb)
{
	if (!sb->data) {
		msgpack_sbuffer_destroy(sb);
		return -1;
	}
	free(s->meta);
	s->meta = (unsigned char *)sb->data;
	s->meta_len = sb->size;
	return 0;
}

static void pack_prov_entry(msgpack_packer *pk, const char *tool,
			    const char *version, int argc, char **argv,
			    int has_seed, uint64_t seed)
{
	msgpack_pack_map(pk, 4);
	pack_cstr(pk, "tool");
	pack_cstr(pk, tool ? tool : "");
	pack_cstr(pk, "version");
	pack_cstr(pk, version ? version : "");
	pack_cstr(pk, "argv");
	msgpack_pack_array(pk, argc > 0 ? (size_t)argc : 0);
	for (int i = 0; i < argc; i++)
		pack_cstr(pk, argv[i] ? argv[i] : "");
	pack_cstr(pk, "seed");
	if (has_seed)
		msgpack_pack_uint64(pk, seed);
	else
		msgpack_pack_nil(pk);
}

int plm_schema_add_prov(plm_schema *s, const char *tool, const char *version,
			int argc, char **argv, int has_seed, uint64_t seed)
{
	msgpack_unpacked u;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_object_map m = { 0, NULL };
	int have = 0;

	if (meta_unpack(s, &u) == 0)
		m = u.data.via.map;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (uint32_t i = 0; i < m.size; i++)
		have |= key_is(&m.ptr[i].key, "prov");
	msgpack_pack_map(&pk, m.size + !have);
	for (uint32_t i = 0; i < m.size; i++) {
		const msgpack_object_kv *kv = &m.ptr[i];
		msgpack_pack_object(&pk, kv->key);
		if (!key_is(&kv->key, "prov")) {
			msgpack_pack_object(&pk, kv->val);
			continue;
		}
		if (kv->val.type == MSGPACK_OBJECT_ARRAY) {
			const msgpack_object_array *a = &kv->val.via.array;
			msgpack_pack_array(&pk, a->size + 1);
			for (uint32_t j = 0; j < a->size; j++)
				msgpack_pack_object(&pk, a->ptr[j]);
		} else {
			/* not a list: keep the old value as its first entry */
			msgpack_pack_array(&pk, 2);
			msgpack_pack_object(&pk, kv->val);
		}
		pack_prov_entry(&pk, tool, version, argc, argv, has_seed, seed);
	}
	if (!have) {
		pack_cstr(&pk, "prov");
		msgpack_pack_array(&pk, 1);
		pack_prov_entry(&pk, tool, version, argc, argv, has_seed, seed);
	}
	msgpack_unpacked_destroy(&u);
	return meta_take(s, &sb);
}

/* Pack map e with key set to value (replaced in place or appended). */
static void pack_entry_set(msgpack_packer *pk, const msgpack_object *e,
			   const char *key, const char *value)
{
	const msgpack_object_map *m = &e->via.map;
	int have = 0;

	for (uint32_t i = 0; i < m->size; i++)
		have |= key_is(&m->ptr[i].key, key);
	msgpack_pack_map(pk, m->size + !have);
	for (uint32_t i = 0; i < m->size; i++) {
		msgpack_pack_object(pk, m->ptr[i].key);
		if (key_is(&m->ptr[i].key, key))
			pack_cstr(pk, value);
		else
			msgpack_pack_object(pk, m->ptr[i].val);
	}
	if (!have) {
		pack_cstr(pk, key);
		pack_cstr(pk, value);
	}
}

int plm_schema_prov_set(plm_schema *s, const char *key, const char *value)
{
	msgpack_unpacked u;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const msgpack_object_array *prov = NULL;

	if (meta_unpack(s, &u))
		return -1;
	const msgpack_object_map *m = &u.data.via.map;
	for (uint32_t i = 0; i < m->size; i++)
		if (key_is(&m->ptr[i].key, "prov") &&
		    m->ptr[i].val.type == MSGPACK_OBJECT_ARRAY)
			prov = &m->ptr[i].val.via.array;
	if (!prov || prov->size == 0 ||
	    prov->ptr[prov->size - 1].type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(&u);
		return -1;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, m->size);
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object_kv *kv = &m->ptr[i];
		msgpack_pack_object(&pk, kv->key);
		if (&kv->val.via.array != prov) {
			msgpack_pack_object(&pk, kv->val);
			continue;
		}
		msgpack_pack_array(&pk, prov->size);
		for (uint32_t j = 0; j + 1 < prov->size; j++)
			msgpack_pack_object(&pk, prov->ptr[j]);
		pack_entry_set(&pk, &prov->ptr[prov->size - 1], key, value);
	}
	msgpack_unpacked_destroy(&u);
	return meta_take(s, &sb);
}

int plm_schema_derive(plm_schema *out, const plm_schema *in, int has_seed,
		      uint64_t seed)
{
	if (plm_schema_copy(out, in))
		return -1;
	if (plm_schema_add_prov(out, plm_tool(), PLM_VERSION, plm_argc(),
				plm_argv(), has_seed, seed)) {
		plm_schema_free(out);
		return -1;
	}
	return 0;
}
