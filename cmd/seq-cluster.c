/* seq-cluster — the connected components of the near-duplicate graph
 * (identical sequences, k-mer containment >= --min-sim: the pairs
 * leak-check reports) as a cluster id per record, so that a split grouped
 * by cluster has no such pair across splits.  --max-cluster removes
 * records (greedily) until no cluster exceeds a share of the input.
 *
 * Nodes are distinct sequences (copies are one node weighing their record
 * count); the k-mer search (kmer_index.h) runs once over them, every pair
 * joining two nodes in a union-find whose root is the node seen first. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plm/align.h"
#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/h128set.h"
#include "plm/hash.h"
#include "plm/kmer_index.h"
#include "plm/pool.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"add a cluster id so that no near-duplicate pair (as leak-check finds them) spans two clusters";

#define NONE UINT32_MAX

/* A pair for the alignment to confirm. */
typedef struct cand_pair {
	uint32_t a, b;
	float sim;
} cand_pair;

typedef struct ctx {
	const char *seqf, *field, *removed;
	double min_sim, max_frac;
	long long k, scale, max_occ, threads;
	int fmt;
	plm_verb *v;
	int fs, fc;             /* the sequence field in; the cluster field out */
	size_t nin;             /* input fields */
	/* first pass: records and their distinct sequences, in first-seen
	 * order */
	size_t n, rcap;
	uint32_t *uid;          /* record -> distinct sequence */
	plm_h128set *set;       /* sequence hash -> distinct sequence */
	size_t nu, ucap, wcap, lcap;
	size_t *off;            /* distinct sequence -> offset in arena */
	uint32_t *len, *wt;     /* its length; its records */
	char *arena;
	size_t alen, acap;
	/* the graph: after the search, then cluster ids (NONE: removed) */
	uint32_t *parent;
	uint32_t *edge;         /* with --max-cluster: 2 per pair */
	size_t ne, ecap;
	uint64_t npairs;
	uint8_t *gone;
	uint64_t nclusters, largest, cap, nremoved, nremoved_u;
	plm_kmer_stats st;
	/* --min-id: pairs at cand_sim <= sim < min_sim, confirmed by
	 * alignment */
	double min_id, evalue, cand_sim, min_cov;
	cand_pair *cand;
	size_t ncand, ccap;
	uint64_t residues, aligned, confirmed;
	/* second pass */
	plm_writer *wr;         /* --removed */
	size_t rec;
} ctx;

/* Union-find; the root of a set is its smallest node (the sequence seen
 * first), so the partition alone decides the result. */
static uint32_t find(uint32_t *p, uint32_t x)
{
	while (p[x] != x) {
		p[x] = p[p[x]];
		x = p[x];
	}
	return x;
}

/* Joins the sets of a and b; returns the root.  w (may be NULL): set
 * weights, kept at the roots. */
static uint32_t unite(uint32_t *p, uint64_t *w, uint32_t a, uint32_t b)
{
	a = find(p, a);
	b = find(p, b);
	if (a == b)
		return a;
	if (b < a) {
		uint32_t t = a;
		a = b;
		b = t;
	}
	p[b] = a;
	if (w)
		w[a] += w[b];
	return a;
}

static void add_edge(ctx *x, uint32_t a, uint32_t b)
{
	PLM_XGROW(x->edge, x->ecap, x->ne + 2);
	x->edge[x->ne++] = a;
	x->edge[x->ne++] = b;
}

/* The pairs as the search finds them (one thread at a time): at min_sim
 * and above joined at once, below that (--min-id) kept for the
 * alignment. */
static int take_pairs(void *arg, const plm_kmer_pair *p, size_t n)
{
	ctx *x = arg;
	for (size_t i = 0; i < n; i++) {
		if (p[i].sim < x->min_sim) {
			PLM_XGROW(x->cand, x->ccap, x->ncand + 1);
			x->cand[x->ncand++] = (cand_pair){ p[i].a, p[i].b,
							   (float)p[i].sim };
			continue;
		}
		unite(x->parent, NULL, p[i].a, p[i].b);
		if (x->max_frac > 0)
			add_edge(x, p[i].a, p[i].b);
		x->npairs++;
	}
	return 0;
}

/* ---- --min-id: candidates confirmed by local alignment ---------------- */

static int cand_cmp_sim(const void *pa, const void *pb)
{
	const cand_pair *a = pa, *b = pb;
	if (a->sim != b->sim)
		return a->sim > b->sim ? -1 : 1;   /* the likeliest first */
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

typedef struct worker {
	ctx *x;
	pthread_mutex_t *mu;
	atomic_size_t *next;
	uint64_t aligned, confirmed;
	int oom;
} worker;

#define CHUNK 64

/* Takes candidates CHUNK at a time; a pair whose ends are already in one
 * cluster is not aligned unless every edge is wanted (--max-cluster): the
 * clusters are the same either way, only the work differs. */
static void confirm_worker(worker *w)
{
	ctx *x = w->x;
	plm_align_ws ws = { 0 };
	for (;;) {
		size_t i0 = atomic_fetch_add(w->next, CHUNK);
		if (i0 >= x->ncand)
			break;
		size_t i1 = i0 + CHUNK < x->ncand ? i0 + CHUNK : x->ncand;
		for (size_t i = i0; i < i1; i++) {
			uint32_t a = x->cand[i].a, b = x->cand[i].b;
			if (x->max_frac <= 0) {
				pthread_mutex_lock(w->mu);
				int same = find(x->parent, a) == find(x->parent, b);
				pthread_mutex_unlock(w->mu);
				if (same)
					continue;
			}
			const char *sa = x->arena + x->off[a];
			const char *sb = x->arena + x->off[b];
			long lo, hi;
			plm_aln r;
			if (plm_align_diag(sa, x->len[a], sb, x->len[b],
					   (int)x->k, &ws, &lo, &hi) < 0 ||
			    plm_align_band(sa, x->len[a], sb, x->len[b], lo, hi,
					   11, 1, &ws, &r)) {
				w->oom = 1;
				break;
			}
			w->aligned++;
			/* E = m n 2^-bits: the shorter sequence against every
			 * residue of the input */
			double m = x->len[a] < x->len[b] ? x->len[a] : x->len[b];
			double e = m * (double)x->residues * exp2(-r.bits);
			if (!r.cols || (double)r.ident < x->min_id * r.cols ||
			    e > x->evalue)
				continue;
			/* --min-cov: the share of the shorter sequence aligned */
			if (x->min_cov > 0 &&
			    (x->len[a] <= x->len[b] ?
			     (double)r.alen_a < x->min_cov * x->len[a] :
			     (double)r.alen_b < x->min_cov * x->len[b]))
				continue;
			pthread_mutex_lock(w->mu);
			unite(x->parent, NULL, a, b);
			if (x->max_frac > 0)
				add_edge(x, a, b);
			pthread_mutex_unlock(w->mu);
			w->confirmed++;
		}
		if (w->oom)
			break;
	}
	plm_align_ws_free(&ws);
}

/* plm_pool_run_idx's part: worker idx, which takes candidates from the
 * shared counter. */
static void confirm_part(void *arg, size_t lo, size_t hi, int idx)
{
	(void)lo, (void)hi;
	confirm_worker((worker *)arg + idx);
}

static void confirm(ctx *x)
{
	if (!x->ncand)
		return;
	qsort(x->cand, x->ncand, sizeof *x->cand, cand_cmp_sim);
	for (size_t u = 0; u < x->nu; u++)
		x->residues += x->len[u];
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	atomic_size_t next = 0;
	int nt = (int)x->threads;
	worker *w = plm_xcalloc((size_t)nt, sizeof *w);
	for (int i = 0; i < nt; i++)
		w[i] = (worker){ x, &mu, &next, 0, 0, 0 };
	plm_pool *pool = plm_pool_new(nt);
	if (!pool)
		plm_oom();
	plm_pool_run_idx(pool, nt, confirm_part, w, (size_t)nt);
	plm_pool_free(pool);
	for (int i = 0; i < nt; i++) {
		if (w[i].oom)
			plm_oom();
		x->aligned += w[i].aligned;
		x->confirmed += w[i].confirmed;
	}
	free(w);
	free(x->cand);
	x->cand = NULL;
}

static void search(ctx *x)
{
	char err[256];
	const char **seq = plm_xmalloc((x->nu + 1) * sizeof *seq);
	uint8_t *cls = plm_xcalloc(x->nu + 1, 1);
	const unsigned char want[1] = { 1 };
	for (size_t u = 0; u < x->nu; u++)
		seq[u] = x->arena + x->off[u];
	x->parent = plm_xmalloc((x->nu + 1) * sizeof *x->parent);
	for (size_t u = 0; u < x->nu; u++)
		x->parent[u] = (uint32_t)u;
	double lo = x->min_id > 0 && x->cand_sim < x->min_sim ? x->cand_sim :
		    x->min_sim;
	plm_kmer_opts ko = { (int)x->k, (uint32_t)x->scale,
			     plm_kmer_short_max((uint32_t)x->scale, lo),
			     (uint32_t)x->max_occ, lo, (int)x->threads };
	if (plm_kmer_pairs_fn(seq, x->len, x->nu, cls, want, 1, &ko,
			      take_pairs, x, &x->st, err, sizeof err))
		plm_die("%s", err);
	free(seq);
	free(cls);
	confirm(x);
	free(x->arena);
	x->arena = NULL;
}

/* ---- --max-cluster ---------------------------------------------------- */

typedef struct cand {
	uint32_t root, deg, wt, u;
} cand;

static int cand_cmp(const void *pa, const void *pb)
{
	const cand *a = pa, *b = pb;
	if (a->root != b->root)
		return a->root < b->root ? -1 : 1;
	if (a->deg != b->deg)
		return a->deg > b->deg ? -1 : 1;   /* most neighbours first */
	if (a->wt != b->wt)
		return a->wt < b->wt ? -1 : 1;     /* then the fewest records */
	return a->u < b->u ? -1 : a->u > b->u;
}

/* The graph of the nodes in oversized components, as adjacency lists. */
typedef struct graph {
	size_t nb;              /* nodes in oversized components */
	uint32_t *node;         /* their ids, ascending */
	size_t *adj_off;        /* per node id + 1 */
	uint32_t *adj;
} graph;

static int build_graph(ctx *x, graph *g)
{
	size_t nu = x->nu;
	uint64_t *cw = plm_xcalloc(nu + 1, sizeof *cw);
	for (size_t u = 0; u < nu; u++)
		cw[find(x->parent, (uint32_t)u)] += x->wt[u];
	uint8_t *big = plm_xcalloc(nu + 1, 1);
	g->node = plm_xmalloc((nu + 1) * sizeof *g->node);
	for (size_t u = 0; u < nu; u++)
		if (cw[find(x->parent, (uint32_t)u)] > x->cap) {
			big[u] = 1;
			g->node[g->nb++] = (uint32_t)u;
		}
	free(cw);
	if (!g->nb) {
		free(big);
		free(g->node);
		g->node = NULL;
		free(x->edge);
		x->edge = NULL;
		return 0;
	}
	/* both ends of a pair are in one component */
	g->adj_off = plm_xcalloc(nu + 2, sizeof *g->adj_off);
	size_t m = 0;
	for (size_t e = 0; e < x->ne; e += 2)
		if (big[x->edge[e]]) {
			g->adj_off[x->edge[e] + 1]++;
			g->adj_off[x->edge[e + 1] + 1]++;
			m += 2;
		}
	for (size_t u = 0; u < nu; u++)
		g->adj_off[u + 1] += g->adj_off[u];
	g->adj = plm_xmalloc((m + 1) * sizeof *g->adj);
	size_t *fill = plm_xmalloc((nu + 1) * sizeof *fill);
	memcpy(fill, g->adj_off, nu * sizeof *fill);
	for (size_t e = 0; e < x->ne; e += 2)
		if (big[x->edge[e]]) {
			uint32_t a = x->edge[e], b = x->edge[e + 1];
			g->adj[fill[a]++] = b;
			g->adj[fill[b]++] = a;
		}
	free(fill);
	free(big);
	free(x->edge);
	x->edge = NULL;
	return 1;
}

/* Components of the kept nodes of g in p (roots) and w (weights at the
 * roots). */
static void kept_components(const ctx *x, const graph *g, uint32_t *p,
			    uint64_t *w)
{
	for (size_t i = 0; i < g->nb; i++) {
		uint32_t u = g->node[i];
		p[u] = u;
		w[u] = x->wt[u];
	}
	for (size_t i = 0; i < g->nb; i++) {
		uint32_t u = g->node[i];
		if (x->gone[u])
			continue;
		for (size_t j = g->adj_off[u]; j < g->adj_off[u + 1]; j++)
			if (g->adj[j] > u && !x->gone[g->adj[j]])
				unite(p, w, u, g->adj[j]);
	}
}

/* Removes nodes until no component of kept nodes weighs more than
 * x->cap: each round, in every oversized component, the 2% (at least
 * one) with the most kept neighbours; then puts back, last removed
 * first, every node whose return keeps its component within the cap.
 * Greedy: no removed node can come back alone, but fewer removals may
 * exist. */
static void trim(ctx *x)
{
	graph g = { 0 };
	x->gone = plm_xcalloc(x->nu + 1, 1);
	if (!build_graph(x, &g))
		return;
	uint32_t *p = plm_xmalloc((x->nu + 1) * sizeof *p);
	uint64_t *w = plm_xmalloc((x->nu + 1) * sizeof *w);
	uint32_t *order = plm_xmalloc((g.nb + 1) * sizeof *order);
	cand *c = plm_xmalloc((g.nb + 1) * sizeof *c);
	size_t nrem = 0;
	for (;;) {
		kept_components(x, &g, p, w);
		size_t nc = 0;
		for (size_t i = 0; i < g.nb; i++) {
			uint32_t u = g.node[i], r;
			if (x->gone[u] || w[r = find(p, u)] <= x->cap)
				continue;
			uint32_t deg = 0;
			for (size_t j = g.adj_off[u]; j < g.adj_off[u + 1]; j++)
				deg += !x->gone[g.adj[j]];
			c[nc++] = (cand){ r, deg, x->wt[u], u };
		}
		if (!nc)
			break;
		qsort(c, nc, sizeof *c, cand_cmp);
		for (size_t a = 0; a < nc;) {
			size_t b = a;
			while (b < nc && c[b].root == c[a].root)
				b++;
			size_t take = (b - a) / 50 ? (b - a) / 50 : 1;
			for (size_t i = a; i < a + take; i++) {
				x->gone[c[i].u] = 1;
				order[nrem++] = c[i].u;
			}
			a = b;
		}
	}
	/* p, w: the kept components; the removed come back if they fit */
	uint32_t *seen = plm_xcalloc(x->nu + 1, sizeof *seen);
	for (size_t i = nrem; i-- > 0;) {
		uint32_t u = order[i];
		uint64_t tot = x->wt[u];
		for (size_t j = g.adj_off[u]; j < g.adj_off[u + 1]; j++) {
			uint32_t v = g.adj[j], r;
			if (x->gone[v] || seen[r = find(p, v)] == i + 1)
				continue;
			seen[r] = (uint32_t)i + 1;
			tot += w[r];
		}
		if (tot > x->cap)
			continue;
		x->gone[u] = 0;
		for (size_t j = g.adj_off[u]; j < g.adj_off[u + 1]; j++)
			if (!x->gone[g.adj[j]])
				unite(p, w, u, g.adj[j]);
	}
	/* the oversized components take their new roots */
	for (size_t i = 0; i < g.nb; i++) {
		uint32_t u = g.node[i];
		x->parent[u] = x->gone[u] ? u : find(p, u);
	}
	for (size_t i = 0; i < g.nb; i++)
		if (x->gone[g.node[i]]) {
			x->nremoved_u++;
			x->nremoved += x->wt[g.node[i]];
		}
	free(seen);
	free(p);
	free(w);
	free(order);
	free(c);
	free(g.node);
	free(g.adj_off);
	free(g.adj);
}

/* Cluster ids in order of first record; parent[u] becomes u's id. */
static void number(ctx *x)
{
	uint32_t *id = plm_xmalloc((x->nu + 1) * sizeof *id);
	uint64_t *size = plm_xcalloc(x->nu + 1, sizeof *size);
	for (size_t u = 0; u < x->nu; u++) {
		if (x->gone && x->gone[u]) {
			id[u] = NONE;
			continue;
		}
		uint32_t r = find(x->parent, (uint32_t)u);
		id[u] = r == u ? (uint32_t)x->nclusters++ : id[r];
		size[r] += x->wt[u];
		if (size[r] > x->largest)
			x->largest = size[r];
	}
	free(x->parent);
	free(size);
	x->parent = id;
}

/* ---- the driver's callbacks ------------------------------------------- */

static int section(void *arg, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	ctx *x = arg;
	if (x->v->where) {
		snprintf(err, errlen, "fields differ from the first input's "
			 "(unify them with rec-cut first)");
		return -1;
	}
	if ((x->fs = plm_schema_find(in, x->seqf)) < 0) {
		snprintf(err, errlen, "no field '%s' (--seq)", x->seqf);
		return -1;
	}
	if (in->f[x->fs].type != PLM_T_STR) {
		snprintf(err, errlen, "field '%s' (--seq) must be str", x->seqf);
		return -1;
	}
	x->nin = in->n;
	if (plm_schema_derive(out, in, 0, 0))
		return -1;
	if (x->v->pass == 0)
		return 0;
	char b[4][32];
	snprintf(b[0], sizeof b[0], "%llu", (unsigned long long)x->nclusters);
	snprintf(b[1], sizeof b[1], "%llu", (unsigned long long)x->largest);
	snprintf(b[2], sizeof b[2], "%.6g", x->n > x->nremoved ?
		 (double)x->largest / (double)(x->n - x->nremoved) : 0.0);
	snprintf(b[3], sizeof b[3], "%llu", (unsigned long long)x->nremoved);
	if ((x->fc = plm_schema_add(out, x->field, PLM_T_INT, 0)) < 0 ||
	    plm_schema_prov_set(out, "clusters", b[0]) ||
	    plm_schema_prov_set(out, "largest_cluster", b[1]) ||
	    plm_schema_prov_set(out, "largest_share", b[2]) ||
	    plm_schema_prov_set(out, "removed", b[3]))
		return -1;
	if (x->removed && !(x->wr = plm_writer_open(x->removed, x->fmt, out,
						    err, errlen)))
		plm_die("%s", err);
	return 0;
}

static size_t put(ctx *x, const char *s, size_t n)
{
	PLM_XGROW(x->arena, x->acap, x->alen + n + 1);
	if (n)
		memcpy(x->arena + x->alen, s, n);
	x->alen += n;
	return x->alen - n;
}

/* First pass: the record's distinct sequence. */
static int first(ctx *x, const plm_val *s, char *err, size_t errlen)
{
	if (s->nil) {
		snprintf(err, errlen, "missing value in field '%s'", x->seqf);
		return PLM_VERB_FAIL;
	}
	if (s->n > UINT32_MAX || x->n >= NONE - 1) {
		snprintf(err, errlen, s->n > UINT32_MAX ? "sequence too long" :
			 "more than 4294967294 records");
		return PLM_VERB_FAIL;
	}
	uint32_t *val;
	int added = plm_h128set_add(x->set, plm_seq_hash(s->s, s->n), &val);
	if (added < 0)
		plm_oom();
	if (added) {
		*val = (uint32_t)x->nu;
		PLM_XGROW(x->off, x->ucap, x->nu + 1);
		PLM_XGROW(x->len, x->lcap, x->nu + 1);
		PLM_XGROW(x->wt, x->wcap, x->nu + 1);
		x->off[x->nu] = put(x, s->s, s->n);
		x->len[x->nu] = (uint32_t)s->n;
		x->wt[x->nu++] = 0;
	}
	x->wt[*val]++;
	PLM_XGROW(x->uid, x->rcap, x->n + 1);
	x->uid[x->n++] = *val;
	return PLM_VERB_SKIP;
}

static int row(void *arg, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	ctx *x = arg;
	const plm_val *s = &in[x->fs];
	if (x->v->pass == 0)
		return first(x, s, err, errlen);
	uint32_t *u = s->nil ? NULL :
		plm_h128set_get(x->set, plm_seq_hash(s->s, s->n));
	if (x->rec >= x->n || !u || *u != x->uid[x->rec]) {
		snprintf(err, errlen, "input changed between the two passes");
		return PLM_VERB_FAIL;
	}
	uint32_t id = x->parent[x->uid[x->rec++]];
	memcpy(out, in, x->nin * sizeof *out);
	if (id != NONE) {
		out[x->fc] = plm_v_int(id);
		return PLM_VERB_EMIT;
	}
	out[x->fc] = plm_v_nil();
	if (plm_writer_row(x->wr, out))
		plm_die("%s: %s", x->removed, plm_writer_error(x->wr));
	return PLM_VERB_SKIP;
}

static void report(const ctx *x)
{
	if (x->st.empty)
		plm_warn("note: %llu distinct sequence(s) have no %lld-mer of standard amino acids: clustered with identical copies only",
			 (unsigned long long)x->st.empty, x->k);
	if (x->nremoved)
		plm_warn("%llu record(s) (%llu distinct sequences) %s so that no cluster exceeds %llu records (--max-cluster %g of %zu)%s%s",
			 (unsigned long long)x->nremoved,
			 (unsigned long long)x->nremoved_u,
			 x->removed ? "removed" : "would be removed",
			 (unsigned long long)x->cap, x->max_frac, x->n,
			 x->removed ? ": written to " : "",
			 x->removed ? x->removed : "");
	size_t kept = x->n - x->nremoved;
	char cov[64] = "";
	if (x->min_cov > 0)
		snprintf(cov, sizeof cov, " covering >= %g of the shorter",
			 x->min_cov);
	if (x->min_id > 0)
		plm_warn("%llu candidate pair(s) at %g <= sim < %g: %llu aligned (the others already in one cluster), %llu at identity >= %g with E <= %g%s",
			 (unsigned long long)x->ncand, x->cand_sim,
			 x->min_sim, (unsigned long long)x->aligned,
			 (unsigned long long)x->confirmed, x->min_id,
			 x->evalue, cov);
	plm_warn("%zu records, %zu distinct sequences, %llu pairs at sim >= %g: %llu clusters; the largest holds %llu records (%.2f%%)",
		 kept, x->nu - (size_t)x->nremoved_u,
		 (unsigned long long)x->npairs, x->min_sim,
		 (unsigned long long)x->nclusters,
		 (unsigned long long)x->largest,
		 kept ? 100.0 * (double)x->largest / (double)kept : 0.0);
	if (getenv("PLM_CLUSTER_STATS"))
		plm_warn("stats: %llu postings, %llu hits, %llu verified, %llu frequent k-mers skipped, index %zu bytes",
			 (unsigned long long)x->st.postings,
			 (unsigned long long)x->st.hits,
			 (unsigned long long)x->st.verified,
			 (unsigned long long)x->st.frequent, x->st.bytes);
}

static int finish(void *arg, plm_verb *v, char *err, size_t errlen)
{
	ctx *x = arg;
	if (v->pass == 1) {
		if (x->rec != x->n) {
			snprintf(err, errlen, "input changed between the two passes");
			return -1;
		}
		if (x->wr && plm_writer_close(x->wr, err, errlen))
			plm_die("%s", err);
		x->wr = NULL;
		return 0;
	}
	search(x);
	if (x->max_frac > 0) {
		double c = x->max_frac * (double)x->n;
		x->cap = c < 1 ? 1 : (uint64_t)c;
		trim(x);
	}
	number(x);
	report(x);
	if (x->nremoved && !x->removed)
		plm_die("nothing written: give --removed FILE to take the removed records, or raise --max-cluster");
	return 0;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	ctx x = { .seqf = "seq", .field = "cluster", .min_sim = 0.5, .k = 5,
		  .scale = 8, .evalue = -1, .cand_sim = -1 };
	const plm_opt opts[] = {
		PLM_DBL(0, "min-sim", &x.min_sim, "SIM", "join records with k-mer containment >= SIM, as leak-check --min-sim (default 0.5)", 1e-9, 1),
		PLM_DBL(0, "min-id", &x.min_id, "ID", "also join records whose local alignment (BLOSUM62, gaps 11/1) has identity >= ID, among pairs at k-mer containment >= --cand-sim", 1e-9, 1),
		PLM_DBL(0, "cand-sim", &x.cand_sim, "SIM", "with --min-id: the pairs aligned have k-mer containment >= SIM (default 0.05)", 1e-9, 1),
		PLM_DBL(0, "min-cov", &x.min_cov, "COV", "with --min-id: the alignment covers at least COV of the shorter sequence (default 0: any local alignment)", 1e-9, 1),
		PLM_DBL(0, "evalue", &x.evalue, "E", "with --min-id: the alignment's E-value against the whole input is at most E (default 0.001)", 0, 1e300),
		PLM_INT(0, "kmer", &x.k, "K", "k-mer length, 3..6, as leak-check --kmer (default 5)", 3, 6),
		PLM_INT(0, "scale", &x.scale, "S", "index 1 in S k-mers of long sequences, as leak-check --scale (default 8)", 1, 1 << 20),
		PLM_INT(0, "max-occ", &x.max_occ, "N", "skip k-mers held by more than N sequences when finding candidates (default 0: none)", 0, 0xffffffffLL),
		PLM_DBL(0, "max-cluster", &x.max_frac, "FRAC", "remove records (greedily) until no cluster holds more than FRAC of the input records", 1e-9, 1),
		PLM_STR(0, "removed", &x.removed, "FILE", "write the records --max-cluster removes to FILE"),
		PLM_STR(0, "field", &x.field, "NAME", "name of the cluster field added (default cluster)"),
		PLM_INT(0, "threads", &x.threads, "N", "search threads (default: online CPUs, at most 8); the output does not depend on it", 1, 256),
		PLM_STR(0, "seq", &x.seqf, "FIELD", "sequence (default seq)"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPT_END_,
	};
	int i = plm_start("seq-cluster", argc, argv, opts, operands, summary);
	if (x.removed && x.max_frac <= 0)
		plm_usage_die("--removed FILE takes the records --max-cluster removes: give --max-cluster");
	if ((x.cand_sim >= 0 || x.evalue >= 0 || x.min_cov > 0) && x.min_id <= 0)
		plm_usage_die("--cand-sim, --min-cov and --evalue go with --min-id");
	if (x.cand_sim < 0)
		x.cand_sim = 0.05;
	if (x.evalue < 0)
		x.evalue = 1e-3;
	if (!x.threads) {
		long nc = sysconf(_SC_NPROCESSORS_ONLN);
		x.threads = nc < 1 ? 1 : nc > 8 ? 8 : nc;
	}
	x.fmt = plm_common_format(&c);
	if (!(x.set = plm_h128set_new(0)))
		plm_oom();
	plm_verb v = { .common = &c, .ctx = &x, .section = section,
		       .row = row, .finish = finish, .passes = 2 };
	x.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	plm_h128set_free(x.set);
	free(x.uid);
	free(x.off);
	free(x.len);
	free(x.wt);
	free(x.parent);
	free(x.gone);
	return 0;
}
