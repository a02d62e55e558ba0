/* taxdump.c — NCBI taxdump reading and superkingdom/kingdom lookup
 * (taxdump.h).
 *
 * Nodes live in dense arrays indexed by taxid: kind (absent, node, ranked
 * node, merged, deleted) and parent (for a merged id: the id it was merged
 * into).  Only nodes whose rank matters keep a name.  Lookups walk parents
 * to the root once per node and memoise the answer for every node on the
 * way, so a stream of millions of records costs one array read each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plm/alloc.h"
#include "plm/err.h"
#include "plm/io.h"
#include "plm/taxdump.h"

/* NCBI ids are below 4 million today; a bound keeps a garbage line from
 * asking for gigabytes of dense table. */
#define MAX_TAXID ((int64_t)1 << 28)

enum { K_NONE, K_NODE, K_SK, K_KINGDOM, K_MERGED, K_DELETED };
enum { M_NONE = -1, M_UNRES = -2, M_BUSY = -3 };

typedef struct rnode {
	int32_t taxid;
	char *name;
} rnode;

struct plm_taxdump {
	size_t cap;             /* length of kind: above the largest taxid */
	uint8_t *kind;
	int32_t *parent;
	size_t pcap;            /* length of parent: at least cap */
	int32_t *msk, *mk;      /* memo: index into rn, M_NONE or M_UNRES */
	rnode *rn;              /* ranked nodes, sorted by taxid */
	size_t nrn, rncap;
	size_t nodes;
	int has_del;
	int32_t *path;          /* walk stack */
	size_t pathcap;
};

typedef struct lines {
	plm_in *in;
	uint64_t no;
	char path[4096];
} lines;

/* 1 = opened, 0 = absent (and optional), -1 = error. */
static int lines_open(lines *l, const char *dir, const char *name, int optional,
		      char *err, size_t errlen)
{
	struct stat st;
	snprintf(l->path, sizeof l->path, "%s/%s", dir, name);
	l->no = 0;
	l->in = NULL;
	if (optional && stat(l->path, &st) != 0)
		return 0;
	l->in = plm_in_open(l->path, err, errlen);
	return l->in ? 1 : -1;
}

/* Next line without its '\n' (and '\r') in *p, *n.  1, 0 at end, -1
 * error.  Valid until the next call. */
static int lines_next(lines *l, char **p, size_t *n, char *err, size_t errlen)
{
	plm_in *in = l->in;
	size_t scanned = 0;
	for (;;) {
		unsigned char *s = in->buf + in->pos + scanned;
		unsigned char *nl = memchr(s, '\n', in->len - in->pos - scanned);
		if (nl) {
			*p = (char *)in->buf + in->pos;
			*n = (size_t)(nl - (in->buf + in->pos));
			in->pos += *n + 1;
			break;
		}
		scanned = in->len - in->pos;
		ssize_t k = plm_in_fill(in);
		if (k < 0) {
			plm_errf(err, errlen, "%s", plm_in_error(in));
			return -1;
		}
		if (k == 0) {
			if (in->pos == in->len)
				return 0;
			*p = (char *)in->buf + in->pos;
			*n = in->len - in->pos;
			in->pos = in->len;
			break;
		}
	}
	l->no++;
	if (*n && (*p)[*n - 1] == '\r')
		(*n)--;
	return 1;
}

/* Splits a dmp line into at most max fields (separator "\t|\t", the line
 * ending in "\t|").  Returns the field count, -1 when the line is not in
 * that form. */
static int split(char *p, size_t n, char **f, size_t *fl, int max)
{
	if (n < 2 || p[n - 1] != '|' || p[n - 2] != '\t')
		return -1;
	char *end = p + n - 2, *s = p;
	int k = 0;
	while (k < max) {
		char *q = s;
		while ((q = memchr(q, '\t', (size_t)(end - q))) &&
		       !(end - q >= 3 && q[1] == '|' && q[2] == '\t'))
			q++;
		f[k] = s;
		fl[k++] = (size_t)((q ? q : end) - s);
		if (!q)
			break;
		s = q + 3;
	}
	return k;
}

/* A taxid: decimal digits, 1 <= id < MAX_TAXID. */
static int parse_id(const char *s, size_t n, int32_t *id)
{
	int64_t v = 0;
	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v >= MAX_TAXID)
		return -1;
	*id = (int32_t)v;
	return 0;
}

static int reserve(plm_taxdump *t, int32_t id)
{
	size_t need = (size_t)id + 1, old = t->cap;
	if (PLM_GROW(t->parent, t->pcap, need) ||
	    PLM_GROW(t->kind, t->cap, need))
		return -1;
	memset(t->kind + old, K_NONE, t->cap - old);
	return 0;
}

static int is_sk_rank(const char *r, size_t n)
{
	return (n == 12 && !memcmp(r, "superkingdom", 12)) ||
	       (n == 6 && !memcmp(r, "domain", 6)) ||
	       (n == 14 && !memcmp(r, "acellular root", 14));
}

static int load_nodes(plm_taxdump *t, lines *l, char *err, size_t errlen)
{
	char *p, *f[3];
	size_t n, fl[3];
	int rc;
	while ((rc = lines_next(l, &p, &n, err, errlen)) > 0) {
		int32_t id, par;
		if (split(p, n, f, fl, 3) < 3 || parse_id(f[0], fl[0], &id) ||
		    parse_id(f[1], fl[1], &par)) {
			plm_errf(err, errlen, "%s:%llu: malformed line (want 'taxid\\t|\\tparent\\t|\\trank\\t|...', ids 1 to %lld)",
				 l->path, (unsigned long long)l->no, (long long)MAX_TAXID - 1);
			return -1;
		}
		if (reserve(t, id > par ? id : par)) {
			plm_errf(err, errlen, "out of memory");
			return -1;
		}
		if (t->kind[id] != K_NONE) {
			plm_errf(err, errlen, "%s:%llu: taxid %ld listed twice",
				 l->path, (unsigned long long)l->no, (long)id);
			return -1;
		}
		int kind = K_NODE;
		if (is_sk_rank(f[2], fl[2]))
			kind = K_SK;
		else if (fl[2] == 7 && !memcmp(f[2], "kingdom", 7))
			kind = K_KINGDOM;
		t->kind[id] = (uint8_t)kind;
		t->parent[id] = par;
		t->nodes++;
		if (kind != K_NODE) {
			if (PLM_GROW(t->rn, t->rncap, t->nrn + 1)) {
				plm_errf(err, errlen, "out of memory");
				return -1;
			}
			t->rn[t->nrn++] = (rnode){ id, NULL };
		}
	}
	if (rc == 0 && t->nodes == 0) {
		plm_errf(err, errlen, "%s: no nodes", l->path);
		return -1;
	}
	return rc;
}

static int cmp_rn(const void *a, const void *b)
{
	int32_t x = ((const rnode *)a)->taxid, y = ((const rnode *)b)->taxid;
	return (x > y) - (x < y);
}

static long find_rn(const plm_taxdump *t, int32_t id)
{
	size_t lo = 0, hi = t->nrn;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->rn[mid].taxid < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nrn && t->rn[lo].taxid == id ? (long)lo : -1;
}

static int load_names(plm_taxdump *t, lines *l, char *err, size_t errlen)
{
	char *p, *f[4];
	size_t n, fl[4];
	int rc;
	while ((rc = lines_next(l, &p, &n, err, errlen)) > 0) {
		int32_t id;
		if (split(p, n, f, fl, 4) < 4 || parse_id(f[0], fl[0], &id)) {
			plm_errf(err, errlen, "%s:%llu: malformed line (want 'taxid\\t|\\tname\\t|\\tunique name\\t|\\tclass\\t|')",
				 l->path, (unsigned long long)l->no);
			return -1;
		}
		if ((size_t)id >= t->cap || (t->kind[id] != K_SK && t->kind[id] != K_KINGDOM))
			continue;
		if (fl[3] != 15 || memcmp(f[3], "scientific name", 15))
			continue;
		rnode *r = &t->rn[find_rn(t, id)];
		if (r->name) {
			plm_errf(err, errlen, "%s:%llu: a second scientific name for taxid %ld",
				 l->path, (unsigned long long)l->no, (long)id);
			return -1;
		}
		if (!(r->name = strndup(f[1], fl[1]))) {
			plm_errf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < t->nrn; i++) {
		if (!t->rn[i].name) {
			plm_errf(err, errlen, "%s: no scientific name for taxid %ld",
				 l->path, (long)t->rn[i].taxid);
			return -1;
		}
	}
	return 0;
}

/* merged.dmp ("old\t|\tnew\t|") and delnodes.dmp ("id\t|"). */
static int load_aliases(plm_taxdump *t, lines *l, int merged, char *err,
			size_t errlen)
{
	char *p, *f[2];
	size_t n, fl[2];
	int rc;
	while ((rc = lines_next(l, &p, &n, err, errlen)) > 0) {
		int32_t id, to = 0;
		int k = split(p, n, f, fl, 2);
		if (k < (merged ? 2 : 1) || parse_id(f[0], fl[0], &id) ||
		    (merged && parse_id(f[1], fl[1], &to))) {
			plm_errf(err, errlen, "%s:%llu: malformed line (want '%s')", l->path,
				 (unsigned long long)l->no,
				 merged ? "old\\t|\\tnew\\t|" : "taxid\\t|");
			return -1;
		}
		if (reserve(t, id > to ? id : to)) {
			plm_errf(err, errlen, "out of memory");
			return -1;
		}
		/* A live node wins over a stale alias. */
		if (t->kind[id] != K_NONE && t->kind[id] != K_MERGED &&
		    t->kind[id] != K_DELETED)
			continue;
		t->kind[id] = merged ? K_MERGED : K_DELETED;
		t->parent[id] = to;
	}
	return rc;
}

static int load_file(plm_taxdump *t, const char *dir, const char *name,
		     int which, char *err, size_t errlen)
{
	lines l;
	int rc = lines_open(&l, dir, name, which >= 2, err, errlen);
	if (rc <= 0)
		return rc;
	if (which == 0)
		rc = load_nodes(t, &l, err, errlen);
	else if (which == 1)
		rc = load_names(t, &l, err, errlen);
	else
		rc = load_aliases(t, &l, which == 2, err, errlen);
	plm_in_close(l.in);
	if (rc >= 0 && which == 3)
		t->has_del = 1;
	return rc < 0 ? -1 : 0;
}

plm_taxdump *plm_taxdump_load(const char *dir, char *err, size_t errlen)
{
	plm_taxdump *t = calloc(1, sizeof *t);
	if (!t) {
		plm_errf(err, errlen, "out of memory");
		return NULL;
	}
	if (load_file(t, dir, "nodes.dmp", 0, err, errlen))
		goto bad;
	qsort(t->rn, t->nrn, sizeof *t->rn, cmp_rn);
	if (load_file(t, dir, "names.dmp", 1, err, errlen) ||
	    load_file(t, dir, "merged.dmp", 2, err, errlen) ||
	    load_file(t, dir, "delnodes.dmp", 3, err, errlen))
		goto bad;
	t->msk = malloc(t->cap * sizeof *t->msk);
	t->mk = malloc(t->cap * sizeof *t->mk);
	if (!t->msk || !t->mk) {
		plm_errf(err, errlen, "out of memory");
		goto bad;
	}
	for (size_t i = 0; i < t->cap; i++)
		t->msk[i] = t->mk[i] = M_UNRES;
	return t;
bad:
	plm_taxdump_free(t);
	return NULL;
}

void plm_taxdump_free(plm_taxdump *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrn; i++)
		free(t->rn[i].name);
	PLM_FREE(t->rn, t->kind, t->parent, t->msk, t->mk, t->path, t);
}

static int is_node(const plm_taxdump *t, int64_t id)
{
	if (id < 1 || (uint64_t)id >= t->cap)
		return 0;
	int k = t->kind[id];
	return k == K_NODE || k == K_SK || k == K_KINGDOM;
}

/* Fill the memo for id and every unresolved node above it. */
static int resolve(plm_taxdump *t, int32_t id, char *err, size_t errlen)
{
	size_t np = 0;
	int32_t cur = id, bsk = M_NONE, bk = M_NONE;
	while (t->msk[cur] == M_UNRES) {
		if (PLM_GROW(t->path, t->pathcap, np + 1)) {
			plm_errf(err, errlen, "out of memory");
			goto undo;
		}
		t->path[np++] = cur;
		t->msk[cur] = M_BUSY;
		int32_t par = t->parent[cur];
		if (par == cur)
			break;  /* the root */
		if (!is_node(t, par)) {
			plm_errf(err, errlen, "taxdump: taxid %ld has parent %ld, which is not in nodes.dmp",
				 (long)cur, (long)par);
			goto undo;
		}
		if (t->msk[par] == M_BUSY) {
			plm_errf(err, errlen, "taxdump: parent cycle through taxid %ld (from %ld)",
				 (long)par, (long)id);
			goto undo;
		}
		cur = par;
	}
	if (t->msk[cur] >= M_NONE) {    /* stopped at a resolved node */
		bsk = t->msk[cur];
		bk = t->mk[cur];
	}
	while (np) {
		int32_t x = t->path[--np];
		if (t->kind[x] == K_SK)
			bsk = (int32_t)find_rn(t, x);
		else if (t->kind[x] == K_KINGDOM)
			bk = (int32_t)find_rn(t, x);
		t->msk[x] = bsk;
		t->mk[x] = bk;
	}
	return 0;
undo:
	while (np)
		t->msk[t->path[--np]] = M_UNRES;
	return -1;
}

int plm_taxdump_kingdom(plm_taxdump *t, int64_t taxid, const char **superkingdom,
			const char **kingdom, int64_t *to, char *err, size_t errlen)
{
	int status = PLM_TAX_OK;
	*superkingdom = *kingdom = NULL;
	if (to)
		*to = taxid;
	/* merged.dmp is flat in NCBI dumps; follow a short chain anyway. */
	for (int hops = 0; taxid >= 1 && (uint64_t)taxid < t->cap &&
	     t->kind[taxid] == K_MERGED && hops < 8; hops++) {
		taxid = t->parent[taxid];
		status = PLM_TAX_MERGED;
	}
	if (to)
		*to = taxid;
	if (taxid >= 1 && (uint64_t)taxid < t->cap && t->kind[taxid] == K_DELETED)
		return PLM_TAX_DELETED;
	if (!is_node(t, taxid))
		return PLM_TAX_UNKNOWN;
	if (t->msk[taxid] == M_UNRES && resolve(t, (int32_t)taxid, err, errlen))
		return -1;
	if (t->msk[taxid] >= 0)
		*superkingdom = t->rn[t->msk[taxid]].name;
	if (t->mk[taxid] >= 0)
		*kingdom = t->rn[t->mk[taxid]].name;
	return status;
}

size_t plm_taxdump_nodes(const plm_taxdump *t)
{
	return t->nodes;
}

int plm_taxdump_has_delnodes(const plm_taxdump *t)
{
	return t->has_del;
}
