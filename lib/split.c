/* split.c — split assignment and manifests (see split.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/json.h"
#include "plm/split.h"

/* ---- ratios ----------------------------------------------------------- */

void plm_ratios_free(plm_ratios *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->name[i]);
	free(r->name);
	free(r->r);
	memset(r, 0, sizeof *r);
}

int plm_ratios_parse(const char *spec, plm_ratios *out, char *err, size_t errlen)
{
	size_t cap = 1;
	for (const char *p = spec; *p; p++)
		cap += *p == ',';
	memset(out, 0, sizeof *out);
	out->name = calloc(cap, sizeof *out->name);
	out->r = calloc(cap, sizeof *out->r);
	if (!out->name || !out->r)
		goto oom;
	double sum = 0;
	const char *p = spec;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (!eq || eq == p) {
			snprintf(err, errlen, "'%.*s': expected NAME=RATIO", (int)len, p);
			goto fail;
		}
		char num[64];
		size_t nl = len - (size_t)(eq + 1 - p);
		double v;
		if (nl >= sizeof num)
			nl = sizeof num - 1;
		memcpy(num, eq + 1, nl);
		num[nl] = 0;
		if (plm_strtod(num, &v) || !(v >= 0 && v <= 1)) {
			snprintf(err, errlen, "'%.*s': ratio must be a number in [0,1]", (int)len, p);
			goto fail;
		}
		char *name = strndup(p, (size_t)(eq - p));
		if (!name)
			goto oom;
		for (size_t i = 0; i < out->n; i++)
			if (strcmp(out->name[i], name) == 0) {
				snprintf(err, errlen, "split '%s' named twice", name);
				free(name);
				goto fail;
			}
		out->name[out->n] = name;
		out->r[out->n++] = v;
		sum += v;
		if (!e)
			break;
		p = e + 1;
	}
	if (fabs(sum - 1) > 1e-9) {
		snprintf(err, errlen, "ratios sum to %.12g, not 1", sum);
		goto fail;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	plm_ratios_free(out);
	return -1;
}

void plm_split_quotas(uint64_t total, const plm_ratios *r, uint64_t *q)
{
	uint64_t given = 0;
	double *rem = malloc(r->n * sizeof *rem);
	for (size_t i = 0; i < r->n; i++) {
		double x = r->r[i] * (double)total;
		q[i] = (uint64_t)floor(x);
		given += q[i];
		if (rem)
			rem[i] = x - floor(x);
	}
	/* Hand out what is left one at a time to the largest remainder;
	 * the ratios sum to 1, so at most n units are left. */
	while (given < total) {
		size_t best = 0;
		for (size_t i = 1; i < r->n; i++)
			if (rem && rem[i] > rem[best])
				best = i;
		q[best]++;
		if (rem)
			rem[best] = -1;
		given++;
	}
	free(rem);
}

uint64_t plm_split_order(uint64_t seed, const void *key, size_t n)
{
	return XXH3_64bits_withSeed(key, n, seed);
}

static int item_cmp(const void *pa, const void *pb)
{
	const plm_split_item *a = pa, *b = pb;
	if (a->stratum != b->stratum)
		return a->stratum < b->stratum ? -1 : 1;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return 0;
}

static int key_cmp(const plm_split_item *a, const plm_split_item *b,
		   plm_split_key_fn *key, void *arg)
{
	size_t la, lb;
	const char *ka = key(arg, a->tag, &la);
	const char *kb = key(arg, b->tag, &lb);
	int c = memcmp(ka, kb, la < lb ? la : lb);
	if (c)
		return c;
	return la < lb ? -1 : la > lb;
}

/* Items sorted by stratum and order; runs of equal order (64-bit hash
 * collisions, so short and rare) are put in key order by insertion. */
static void sort_items(plm_split_item *it, size_t n, plm_split_key_fn *key,
		       void *arg)
{
	qsort(it, n, sizeof *it, item_cmp);
	for (size_t i = 0; i + 1 < n;) {
		size_t j = i + 1;
		while (j < n && item_cmp(&it[i], &it[j]) == 0)
			j++;
		for (size_t a = i + 1; a < j; a++) {
			plm_split_item t = it[a];
			size_t b = a;
			for (; b > i && key_cmp(&t, &it[b - 1], key, arg) < 0; b--)
				it[b] = it[b - 1];
			it[b] = t;
		}
		i = j;
	}
}

int plm_split_assign(plm_split_item *items, size_t n, const uint32_t *weight,
		     plm_split_key_fn *key, void *arg, const plm_ratios *r,
		     uint32_t *split)
{
	uint64_t *q = calloc(r->n, sizeof *q);
	int64_t *left = calloc(r->n, sizeof *left);
	if (!q || !left) {
		free(q);
		free(left);
		return -1;
	}
	sort_items(items, n, key, arg);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint64_t total = 0;
		while (j < n && items[j].stratum == items[i].stratum) {
			total += weight ? weight[items[j].tag] : 1;
			j++;
		}
		plm_split_quotas(total, r, q);
		for (size_t s = 0; s < r->n; s++)
			left[s] = (int64_t)q[s];
		for (; i < j; i++) {
			size_t best = r->n;
			for (size_t s = 0; s < r->n; s++) {
				if (r->r[s] <= 0)
					continue;   /* a 0 ratio gets nothing */
				if (best == r->n || left[s] > left[best])
					best = s;
			}
			uint32_t t = items[i].tag;
			split[t] = (uint32_t)best;
			left[best] -= weight ? (int64_t)weight[t] : 1;
		}
	}
	free(q);
	free(left);
	return 0;
}

long plm_val_key(const plm_val *v, enum plm_type t, char *buf, size_t cap,
		 const char **out)
{
	int len;
	switch (t) {
	case PLM_T_STR:
		*out = v->s;
		return (long)v->n;
	case PLM_T_INT:
	case PLM_T_BOOL:
		len = snprintf(buf, cap, "%lld", (long long)v->i);
		break;
	case PLM_T_FLOAT: {
		char tmp[40];
		len = plm_fmt_f64(tmp, v->f);
		len = snprintf(buf, cap, "%.*s", len, tmp);
		break;
	}
	default:
		return -1;
	}
	*out = buf;
	return len < 0 ? 0 : (long)((size_t)len < cap ? (size_t)len : cap - 1);
}

/* ---- manifest --------------------------------------------------------- */

int plm_manifest_init(plm_manifest *m)
{
	memset(m, 0, sizeof *m);
	m->ids = plm_strmap_new();
	m->splits = plm_strmap_new();
	if (!m->ids || !m->splits) {
		plm_manifest_free(m);
		return -1;
	}
	return 0;
}

void plm_manifest_free(plm_manifest *m)
{
	if (m->ids)
		plm_strmap_free(m->ids);
	if (m->splits)
		plm_strmap_free(m->splits);
	free(m->hash);
	free(m->split);
	free(m->info);
	memset(m, 0, sizeof *m);
}

int plm_manifest_add(plm_manifest *m, const char *id, size_t idlen,
		     plm_h128 hash, const char *split, size_t splitlen,
		     int *dup)
{
	int added;
	*dup = 0;
	if (m->n == m->cap) {
		size_t nc = m->cap ? 2 * m->cap : 1024;
		plm_h128 *h = realloc(m->hash, nc * sizeof *h);
		if (!h)
			return -1;
		m->hash = h;
		uint32_t *s = realloc(m->split, nc * sizeof *s);
		if (!s)
			return -1;
		m->split = s;
		m->cap = nc;
	}
	uint64_t *v = plm_strmap_put(m->ids, id, idlen, &added);
	if (!v)
		return -1;
	if (!added) {
		*dup = 1;
		return -1;
	}
	*v = m->n;
	uint64_t *sv = plm_strmap_put(m->splits, split, splitlen, &added);
	if (!sv)
		return -1;
	if (added)
		*sv = plm_strmap_size(m->splits) - 1;
	m->hash[m->n] = hash;
	m->split[m->n] = (uint32_t)*sv;
	m->n++;
	return 0;
}

/* TSV escaping of \t \n \r \\ (stream.h). Returns bytes written to dst
 * (dst holds 2 * n). */
static size_t escape(char *dst, const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		const char *e = c == '\t' ? "\\t" : c == '\n' ? "\\n" :
				c == '\r' ? "\\r" : c == '\\' ? "\\\\" : NULL;
		if (e) {
			dst[k++] = e[0];
			dst[k++] = e[1];
		} else {
			dst[k++] = c;
		}
	}
	return k;
}

static long unescape(char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			s[k++] = s[i];
			continue;
		}
		if (++i == n)
			return -1;
		switch (s[i]) {
		case 't': s[k++] = '\t'; break;
		case 'n': s[k++] = '\n'; break;
		case 'r': s[k++] = '\r'; break;
		case '\\': s[k++] = '\\'; break;
		default: return -1;
		}
	}
	return (long)k;
}

int plm_manifest_info(plm_manifest *m, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	char *p = realloc(m->info, m->info_len + kl + 2 * vl + 4);
	if (!p)
		return -1;
	m->info = p;
	p += m->info_len;
	*p++ = '#';
	memcpy(p, key, kl);
	p += kl;
	*p++ = '\t';
	p += escape(p, value, vl);
	*p++ = '\n';
	m->info_len = (size_t)(p - m->info);
	return 0;
}

char *plm_manifest_get_info(const plm_manifest *m, const char *key)
{
	size_t kl = strlen(key);
	const char *p = m->info, *end = m->info + m->info_len;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		if ((size_t)(nl - p) > kl + 1 && memcmp(p + 1, key, kl) == 0 &&
		    p[kl + 1] == '\t') {
			char *v = strndup(p + kl + 2, (size_t)(nl - p) - kl - 2);
			if (v) {
				long n = unescape(v, strlen(v));
				v[n < 0 ? 0 : n] = 0;
			}
			return v;
		}
		p = nl + 1;
	}
	return NULL;
}

static const plm_manifest *sort_m;

static int id_cmp(const void *pa, const void *pb)
{
	size_t la, lb;
	const char *a = plm_strmap_key(sort_m->ids, *(const uint32_t *)pa, &la);
	const char *b = plm_strmap_key(sort_m->ids, *(const uint32_t *)pb, &lb);
	int c = memcmp(a, b, la < lb ? la : lb);
	if (c)
		return c;
	return la < lb ? -1 : la > lb;
}

/* Walks the data lines in sorted order, each with the columns in cols
 * (PLM_MCOL_*): hashes them into *dg (after prefix, prefixlen bytes) and
 * writes them to o when o != NULL. */
static int manifest_emit(plm_manifest *m, unsigned cols, const char *prefix,
			 size_t prefixlen, plm_out *o, plm_h128 *dg)
{
	uint32_t *ord = malloc((m->n ? m->n : 1) * sizeof *ord);
	XXH3_state_t *st = XXH3_createState();
	char *line = NULL;
	size_t cap = 0;
	int rc = -1;
	if (!ord || !st)
		goto out;
	for (size_t i = 0; i < m->n; i++)
		ord[i] = (uint32_t)i;
	sort_m = m;
	qsort(ord, m->n, sizeof *ord, id_cmp);
	XXH3_128bits_reset(st);
	if (prefixlen)
		XXH3_128bits_update(st, prefix, prefixlen);
	for (size_t i = 0; i < m->n; i++) {
		size_t il, sl = 0;
		const char *id = plm_strmap_key(m->ids, ord[i], &il);
		const char *sp = cols & PLM_MCOL_SPLIT
			? plm_strmap_key(m->splits, m->split[ord[i]], &sl) : NULL;
		size_t need = 2 * il + 2 * sl + 40;
		if (need > cap) {
			char *nb = realloc(line, need);
			if (!nb)
				goto out;
			line = nb;
			cap = need;
		}
		size_t k = escape(line, id, il);
		char hex[33];
		if (cols & PLM_MCOL_HASH) {
			line[k++] = '\t';
			memcpy(line + k, plm_h128_hex(m->hash[ord[i]], hex), 32);
			k += 32;
		}
		if (cols & PLM_MCOL_SPLIT) {
			line[k++] = '\t';
			k += escape(line + k, sp, sl);
		}
		line[k++] = '\n';
		XXH3_128bits_update(st, line, k);
		if (o && plm_out_write(o, line, k))
			goto out;
	}
	XXH128_hash_t d = XXH3_128bits_digest(st);
	*dg = (plm_h128){ d.high64, d.low64 };
	rc = 0;
out:
	free(ord);
	free(line);
	if (st)
		XXH3_freeState(st);
	return rc;
}

int plm_manifest_cols_digest(plm_manifest *m, unsigned cols, plm_h128 *out)
{
	return manifest_emit(m, cols, NULL, 0, NULL, out);
}

int plm_manifest_digest(plm_manifest *m)
{
	return manifest_emit(m, PLM_MCOL_HASH | PLM_MCOL_SPLIT, m->info,
			     m->info_len, NULL, &m->digest);
}

int plm_manifest_write(plm_manifest *m, plm_out *o)
{
	char hex[33];
	if (plm_out_puts(o, "#plm-split-manifest\t2\n") ||
	    (m->info_len && plm_out_write(o, m->info, m->info_len)) ||
	    plm_out_puts(o, "id\tseq_hash\tsplit\n") ||
	    manifest_emit(m, PLM_MCOL_HASH | PLM_MCOL_SPLIT, m->info,
			  m->info_len, o, &m->digest) ||
	    plm_out_printf(o, "#digest\t%s\n", plm_h128_hex(m->digest, hex)) < 0)
		return -1;
	return 0;
}

/* One line without its '\n' into *buf; 1 = line, 0 = EOF, -1 = error.
 * A last line without '\n' is returned too (*nl = 0). */
static int read_line(plm_in *in, char **buf, size_t *cap, size_t *len, int *nl)
{
	*len = 0;
	*nl = 0;
	for (;;) {
		if (in->pos >= in->len) {
			ssize_t r = plm_in_fill(in);
			if (r < 0)
				return -1;
			if (r == 0)
				return *len > 0;
		}
		unsigned char *s = in->buf + in->pos;
		size_t avail = in->len - in->pos;
		unsigned char *e = memchr(s, '\n', avail);
		size_t take = e ? (size_t)(e - s) : avail;
		if (*len + take + 1 > *cap) {
			size_t nc = (*len + take + 1) * 2;
			char *nb = realloc(*buf, nc);
			if (!nb)
				return -1;
			*buf = nb;
			*cap = nc;
		}
		memcpy(*buf + *len, s, take);
		*len += take;
		(*buf)[*len] = 0;
		in->pos += take + (e != NULL);
		if (e) {
			*nl = 1;
			return 1;
		}
	}
}

int plm_manifest_read(plm_manifest *m, const char *path, char *err,
		      size_t errlen)
{
	plm_in *in = plm_in_open(path, err, errlen);
	if (!in)
		return -1;
	int rc = plm_manifest_read_in(m, in, err, errlen);
	plm_in_close(in);
	return rc;
}

int plm_manifest_sniff(plm_in *in)
{
	static const char magic[] = "#plm-split-manifest\t";
	size_t n = sizeof magic - 1;
	ssize_t k = plm_in_peek(in, 1);    /* not '#': no wait for more */
	if (k > 0 && in->buf[in->pos] == '#')
		k = plm_in_peek(in, n);
	if (k < 0)
		return -1;
	return (size_t)k >= n && memcmp(in->buf + in->pos, magic, n) == 0;
}

int plm_manifest_read_in(plm_manifest *m, plm_in *in, char *err,
			 size_t errlen)
{
	const char *path = plm_in_name(in);
	if (plm_manifest_init(m)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	XXH3_state_t *st = XXH3_createState();
	char *line = NULL;
	size_t cap = 0, len;
	int nl, rc, state = 0;     /* 0 magic, 1 info, 2 data, 3 after digest */
	unsigned long lineno = 0;
	plm_h128 want = { 0, 0 };
	if (!st)
		goto oom;
	XXH3_128bits_reset(st);
	while ((rc = read_line(in, &line, &cap, &len, &nl)) == 1) {
		lineno++;
		if (!nl)
			goto trunc;
		if (state == 0) {
			if (strcmp(line, "#plm-split-manifest\t1") == 0) {
				m->version = 1;
			} else if (strcmp(line, "#plm-split-manifest\t2") == 0) {
				m->version = 2;
			} else {
				snprintf(err, errlen, "%s: line 1: not a split manifest", path);
				goto fail;
			}
			state = 1;
		} else if (state == 1) {
			if (strcmp(line, "id\tseq_hash\tsplit") == 0) {
				/* version 2: the recipe lines are digested too */
				if (m->version >= 2 && m->info_len)
					XXH3_128bits_update(st, m->info, m->info_len);
				state = 2;
				continue;
			}
			if (line[0] != '#')
				goto bad;
			char *p = realloc(m->info, m->info_len + len + 1);
			if (!p)
				goto oom;
			m->info = p;
			memcpy(p + m->info_len, line, len);
			p[m->info_len + len] = '\n';
			m->info_len += len + 1;
		} else if (state == 2) {
			if (strncmp(line, "#digest\t", 8) == 0) {
				if (plm_h128_parse(line + 8, len - 8, &want))
					goto bad;
				state = 3;
				continue;
			}
			XXH3_128bits_update(st, line, len);
			XXH3_128bits_update(st, "\n", 1);
			char *t1 = memchr(line, '\t', len);
			char *t2 = t1 ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - line)) : NULL;
			plm_h128 h;
			if (!t2 || t2 - t1 != 33 || plm_h128_parse(t1 + 1, 32, &h))
				goto bad;
			long il = unescape(line, (size_t)(t1 - line));
			char *sp = t2 + 1;
			long sl = unescape(sp, len - (size_t)(sp - line));
			int dup;
			if (il < 0 || sl <= 0)
				goto bad;
			if (plm_manifest_add(m, line, (size_t)il, h, sp, (size_t)sl, &dup)) {
				if (!dup)
					goto oom;
				snprintf(err, errlen, "%s: line %lu: duplicate id", path, lineno);
				goto fail;
			}
		} else {
			snprintf(err, errlen, "%s: line %lu: text after the digest line", path, lineno);
			goto fail;
		}
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s", plm_in_error(in) ? plm_in_error(in) : "read error");
		goto fail;
	}
	if (state != 3)
		goto trunc;
	XXH128_hash_t d = XXH3_128bits_digest(st);
	m->digest = (plm_h128){ d.high64, d.low64 };
	if (m->digest.hi != want.hi || m->digest.lo != want.lo) {
		char a[33], b[33];
		snprintf(err, errlen, "%s: digest mismatch: file says %s, lines hash to %s (edited manifest?)",
			 path, plm_h128_hex(want, a), plm_h128_hex(m->digest, b));
		goto fail;
	}
	free(line);
	XXH3_freeState(st);
	return 0;
trunc:
	snprintf(err, errlen, "%s: truncated manifest (no digest line)", path);
	goto fail;
bad:
	snprintf(err, errlen, "%s: line %lu: malformed manifest line", path, lineno);
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	free(line);
	if (st)
		XXH3_freeState(st);
	plm_manifest_free(m);
	return -1;
}

static int put_raw(char **buf, size_t *len, size_t *cap, const char *s,
		   size_t n)
{
	if (PLM_GROW(*buf, *cap, *len + n))
		return -1;
	memcpy(*buf + *len, s, n);
	*len += n;
	return 0;
}

/* The recipe lines as {"version": V, "digest": HEX, "recipe": {KEY: VALUE,
 * ...}} (values as text, in file order). */
static int manifest_meta(const plm_manifest *m, plm_schema *s, char *err,
			 size_t errlen)
{
	char *buf = NULL, hex[33], head[96];
	size_t len = 0, cap = 0;
	int rc = -1, first = 1;
	snprintf(head, sizeof head,
		 "{\"split_manifest\":{\"version\":%d,\"digest\":\"%s\",\"recipe\":{",
		 m->version, plm_h128_hex(m->digest, hex));
	if (put_raw(&buf, &len, &cap, head, strlen(head)))
		goto out;
	const char *p = m->info, *end = m->info + m->info_len;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *tab = nl ? memchr(p, '\t', (size_t)(nl - p)) : NULL;
		if (!tab)
			break;
		char *key = strndup(p + 1, (size_t)(tab - p - 1));
		char *v = key ? plm_manifest_get_info(m, key) : NULL;
		int bad = !key || !v ||
			  (!first && put_raw(&buf, &len, &cap, ",", 1)) ||
			  plm_json_put_str(&buf, &len, &cap, key, strlen(key)) ||
			  put_raw(&buf, &len, &cap, ":", 1) ||
			  plm_json_put_str(&buf, &len, &cap, v, strlen(v));
		free(key);
		free(v);
		if (bad)
			goto out;
		first = 0;
		p = nl + 1;
	}
	if (put_raw(&buf, &len, &cap, "}}}", 3))
		goto out;
	rc = plm_schema_meta_json(s, buf, len, err, errlen);
out:
	if (rc && !buf)
		snprintf(err, errlen, "out of memory");
	free(buf);
	return rc;
}

int plm_manifest_schema(const plm_manifest *m, plm_schema *s, char *err,
			size_t errlen)
{
	static const char *const names[] = { "id", "seq_hash", "split" };
	for (size_t i = 0; i < 3; i++)
		if (plm_schema_add(s, names[i], PLM_T_STR, 0) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	return manifest_meta(m, s, err, errlen);
}

void plm_manifest_row(const plm_manifest *m, size_t i, char hex[33],
		      plm_val row[3])
{
	size_t il, sl;
	const char *id = plm_strmap_key(m->ids, (uint32_t)i, &il);
	const char *sp = plm_strmap_key(m->splits, m->split[i], &sl);
	row[0] = plm_v_str(id, il);
	row[1] = plm_v_str(plm_h128_hex(m->hash[i], hex), 32);
	row[2] = plm_v_str(sp, sl);
}
