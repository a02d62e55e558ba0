/* t-embcache.c — the HDF5 embedding cache: write, reopen, lookup, f16
 * round trip, settings mismatch, second writer, journal resume, merge,
 * check, and writers killed with SIGKILL at random moments. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>

#include "plm/embcache.h"
#include "plm/float.h"
#include "plm/hash.h"
#include "plm/rng.h"
#include "tap.h"
#include "testutil.h"

#define DIM 8

static plm_embcache_cfg cfg(enum plm_type dt)
{
	plm_embcache_cfg c = { .signature = "0123456789abcdef",
		.model = "tests/data/esm2/esm2_tiny", .layer = 6,
		.pool = "mean", .dtype = dt, .dim = DIM, .max_len = 1022 };
	return c;
}

static plm_h128 hash_of(int i)
{
	char s[32];
	int n = snprintf(s, sizeof s, "SEQ%dMKV", i);
	return plm_seq_hash(s, (size_t)n);
}

static void vec_of(int i, float *v)
{
	for (int j = 0; j < DIM; j++)
		v[j] = sinf((float)(i * 7 + j)) * 3.0f;
}

static void report(void *arg, const char *msg)
{
	(void)arg;
	diag("check: %s", msg);
}

static long check(const char *path)
{
	char err[512];
	long n = plm_embcache_check(path, 20, report, NULL, err, sizeof err);
	if (n < 0)
		diag("%s", err);
	return n;
}

static void test_basic(void)
{
	char err[512];
	const char *p = tu_path("a.h5");
	plm_embcache_cfg c = cfg(PLM_T_F32);
	plm_embcache *ec = plm_embcache_open(p, &c, 1, err, sizeof err);
	ok(ec != NULL, "create a new cache: %s", ec ? "ok" : err);
	if (!ec)
		return;
	float v[DIM], w[DIM];
	for (int i = 0; i < 3; i++) {
		char id[16];
		int n = snprintf(id, sizeof id, "id%d", i);
		vec_of(i, v);
		is_int(plm_embcache_put_f32(ec, hash_of(i), id, (size_t)n, v), 0,
		       "put row %d", i);
	}
	vec_of(9, v);
	is_int(plm_embcache_put_f32(ec, hash_of(0), "dup", 3, v), 1,
	       "a hash already stored is kept (first wins)");
	is_int(plm_embcache_put_failed(ec, hash_of(5), "bad", 3,
				       "empty sequence"), 0, "put_failed");
	is_int(plm_embcache_put_failed(ec, hash_of(1), "x", 1, "r"), 1,
	       "put_failed on a hash with a row is ignored");
	is_int(plm_embcache_lookup_f32(ec, hash_of(1), w), PLM_EC_HIT,
	       "lookup before close sees the journal");
	vec_of(1, v);
	ok(!memcmp(v, w, sizeof v), "journal vector is bitwise the same");
	is_int(plm_embcache_close(ec, err, sizeof err), 0, "close commits");
	struct stat st;
	ok(stat(tu_path("a.h5-journal"), &st) != 0, "journal removed");
	is_int(check(p), 0, "check passes");

	ec = plm_embcache_open(p, NULL, 0, err, sizeof err);
	ok(ec != NULL, "reopen read-only");
	if (!ec)
		return;
	is_int(plm_embcache_rows(ec), 3, "3 rows");
	is_int(plm_embcache_nfailed(ec), 1, "1 failure");
	const plm_embcache_cfg *s = plm_embcache_settings(ec);
	ok(s->layer == 6 && s->dim == DIM && s->dtype == PLM_T_F32 &&
	   !strcmp(s->pool, "mean") && s->max_len == 1022 &&
	   !strcmp(s->signature, "0123456789abcdef") &&
	   !strcmp(s->model, "tests/data/esm2/esm2_tiny"),
	   "settings read back");
	int good = 1;
	for (int i = 0; i < 3; i++) {
		vec_of(i, v);
		good &= plm_embcache_lookup_f32(ec, hash_of(i), w) == PLM_EC_HIT &&
			!memcmp(v, w, sizeof v);
	}
	ok(good, "lookups after reopen are bitwise equal");
	is_int(plm_embcache_lookup(ec, hash_of(4), NULL), PLM_EC_MISS, "miss");
	is_int(plm_embcache_lookup(ec, hash_of(5), NULL), PLM_EC_FAILED,
	       "failed hash");
	is_str(plm_embcache_reason(ec), "empty sequence", "its reason");
	plm_h128 h;
	const char *id;
	size_t idlen;
	ok(!plm_embcache_row(ec, 2, &h, &id, &idlen, w) && !strcmp(id, "id2") &&
	   idlen == 3 && h.hi == hash_of(2).hi && h.lo == hash_of(2).lo,
	   "row 2: hash and id");
	const char *reason;
	plm_embcache_failed(ec, 0, &h, &id, &reason);
	ok(!strcmp(id, "bad") && !strcmp(reason, "empty sequence") &&
	   h.lo == hash_of(5).lo, "failure 0");
	is_int(plm_embcache_put(ec, hash_of(7), "n", 1, v), -1,
	       "put on a read-only cache is an error");
	plm_embcache_close(ec, err, sizeof err);
}

static void test_mismatch(void)
{
	char err[512];
	plm_embcache_cfg c = cfg(PLM_T_F32);
	c.layer = 5;
	plm_embcache *ec = plm_embcache_open(tu_path("a.h5"), &c, 1, err,
					     sizeof err);
	ok(!ec, "other layer refused");
	ok(!ec && strstr(err, "layer 6 vs 5"), "message names it: %s", err);
	c = cfg(PLM_T_F16);
	ec = plm_embcache_open(tu_path("a.h5"), &c, 1, err, sizeof err);
	ok(!ec && strstr(err, "dtype f32 vs f16"), "other dtype: %s", err);
	c = cfg(PLM_T_F32);
	c.signature = "ffffffffffffffff";
	ec = plm_embcache_open(tu_path("a.h5"), &c, 1, err, sizeof err);
	ok(!ec && strstr(err, "model signature"), "other model: %s", err);
	c = cfg(PLM_T_F32);
	c.model = "/elsewhere/same/model";
	ec = plm_embcache_open(tu_path("a.h5"), &c, 1, err, sizeof err);
	ok(ec != NULL, "another model path with the same signature is fine");
	plm_embcache *ec2 = plm_embcache_open(tu_path("a.h5"), &c, 1, err,
					      sizeof err);
	ok(!ec2 && strstr(err, "in use by another writer"),
	   "a second writer is refused: %s", err);
	plm_embcache_close(ec, err, sizeof err);
	ec = plm_embcache_open(tu_path("nope.h5"), NULL, 0, err, sizeof err);
	ok(!ec && strstr(err, "nope.h5"), "missing cache: %s", err);
	FILE *fp = fopen(tu_path("junk.h5"), "w");
	fputs("not hdf5\n", fp);
	fclose(fp);
	ec = plm_embcache_open(tu_path("junk.h5"), NULL, 0, err, sizeof err);
	ok(!ec && strstr(err, "cannot open as HDF5"), "junk: %s", err);
}

static void test_f16(void)
{
	char err[512];
	plm_embcache_cfg c = cfg(PLM_T_F16);
	plm_embcache *ec = plm_embcache_open(tu_path("h.h5"), &c, 1, err,
					     sizeof err);
	ok(ec != NULL, "f16 cache");
	if (!ec)
		return;
	float v[DIM] = { 1.0f, -2.5f, 0.1f, 65504.0f, 1e-7f, 3.14159265f,
			 -0.0f, 1000.3f };
	float w[2 * DIM];
	plm_embcache_put_f32(ec, hash_of(1), "a", 1, v);
	plm_embcache_close(ec, err, sizeof err);
	ec = plm_embcache_open(tu_path("h.h5"), NULL, 0, err, sizeof err);
	ok(ec && plm_embcache_lookup_f32(ec, hash_of(1), w) == PLM_EC_HIT,
	   "f16 lookup");
	int good = 1;
	for (int j = 0; j < DIM; j++) {
		float want = plm_f16_to_f32(plm_f32_to_f16(v[j]));
		good &= !memcmp(&want, &w[j], 4);
	}
	ok(good, "f16 round trip = round to nearest even");
	unsigned char raw[2 * DIM];
	plm_embcache_lookup(ec, hash_of(1), raw);
	ok(raw[0] == 0x00 && raw[1] == 0x3c, "raw f16 bytes of 1.0 (3c00 LE)");
	is_int(plm_embcache_vecsize(ec), 2 * DIM, "vecsize");
	plm_embcache_close(ec, err, sizeof err);
}

static void test_resume_merge(void)
{
	char err[512];
	float v[DIM];
	plm_embcache_cfg c = cfg(PLM_T_F32);
	plm_embcache *ec = plm_embcache_open(tu_path("a.h5"), &c, 1, err,
					     sizeof err);
	vec_of(10, v);
	plm_embcache_put_f32(ec, hash_of(10), "id10", 4, v);
	plm_embcache_put_failed(ec, hash_of(11), "id11", 4, "too odd");
	plm_embcache_abort(ec);         /* as if killed */
	ec = plm_embcache_open(tu_path("a.h5"), NULL, 0, err, sizeof err);
	size_t jr, jf;
	uint64_t torn;
	plm_embcache_journal(ec, &jr, &jf, &torn);
	ok(jr == 1 && jf == 1 && torn == 0 &&
	   plm_embcache_rows(ec) == 4 && plm_embcache_nfailed(ec) == 2,
	   "a reader sees the pending journal");
	plm_embcache_close(ec, err, sizeof err);
	/* a torn tail: append half a record */
	FILE *fp = fopen(tu_path("a.h5-journal"), "a");
	fwrite("\x40\x00\x00\x00\x45garbage", 1, 12, fp);
	fclose(fp);
	ec = plm_embcache_open(tu_path("a.h5"), &c, 1, err, sizeof err);
	ok(ec != NULL, "writer opens over a torn journal: %s", ec ? "" : err);
	if (!ec)
		return;
	plm_embcache_journal(ec, &jr, &jf, &torn);
	ok(jr == 1 && torn == 12, "torn tail of 12 bytes ignored");
	vec_of(12, v);
	plm_embcache_put_f32(ec, hash_of(12), "id12", 4, v);
	is_int(plm_embcache_close(ec, err, sizeof err), 0, "commit");
	ec = plm_embcache_open(tu_path("a.h5"), NULL, 0, err, sizeof err);
	plm_embcache_journal(ec, &jr, &jf, &torn);
	ok(ec && plm_embcache_rows(ec) == 5 && jr == 0 && torn == 0,
	   "5 rows committed");
	is_int(check(tu_path("a.h5")), 0, "check passes");

	/* merge a.h5 with b.h5 (rows 3, 10 overlap) */
	plm_embcache *b = plm_embcache_open(tu_path("b.h5"), &c, 1, err,
					    sizeof err);
	for (int i = 20; i < 23; i++) {
		vec_of(i, v);
		plm_embcache_put_f32(b, hash_of(i), "b", 1, v);
	}
	vec_of(10, v);
	plm_embcache_put_f32(b, hash_of(10), "b10", 3, v);
	plm_embcache_put_failed(b, hash_of(11), "id11", 4, "too odd");
	plm_embcache_put_failed(b, hash_of(30), "id30", 4, "nope");
	plm_embcache_close(b, err, sizeof err);
	b = plm_embcache_open(tu_path("b.h5"), NULL, 0, err, sizeof err);
	plm_embcache *in[2] = { ec, b };
	uint64_t dups;
	is_int(plm_embcache_merge(tu_path("m.h5"), in, 2, &dups, err,
				  sizeof err), 0, "merge");
	is_int(dups, 1, "one duplicate collapsed");
	plm_embcache *m = plm_embcache_open(tu_path("m.h5"), NULL, 0, err,
					    sizeof err);
	ok(m && plm_embcache_rows(m) == 8 && plm_embcache_nfailed(m) == 3,
	   "merged: 8 rows, 3 failures");
	const char *id;
	plm_embcache_row(m, 3, NULL, &id, NULL, NULL);
	is_str(id, "id10", "first occurrence wins");
	plm_embcache_close(m, err, sizeof err);
	is_int(check(tu_path("m.h5")), 0, "merged cache passes check");
	plm_embcache *h = plm_embcache_open(tu_path("h.h5"), NULL, 0, err,
					    sizeof err);
	in[1] = h;
	ok(plm_embcache_merge(tu_path("m2.h5"), in, 2, &dups, err, sizeof err)
	   && strstr(err, "dtype f32 vs f16"), "merge refuses: %s", err);
	struct stat st;
	ok(stat(tu_path("m2.h5"), &st) != 0, "no output after a refused merge");
	plm_embcache_close(h, err, sizeof err);
	plm_embcache_close(b, err, sizeof err);
	plm_embcache_close(ec, err, sizeof err);
}

/* ---- SIGKILL ---------------------------------------------------------- */

#define KN 400

/* The writer: puts rows 0..KN-1 that are missing, committing every 37
 * (close + reopen) so kills also land inside commits.  Row i % 50 == 49
 * is recorded as failed. */
static int writer(const char *path)
{
	char err[512];
	plm_embcache_cfg c = cfg(PLM_T_F16);
	plm_embcache *ec = plm_embcache_open(path, &c, 1, err, sizeof err);
	if (!ec) {
		fprintf(stderr, "writer: %s\n", err);
		return 1;
	}
	float v[DIM];
	int since = 0;
	for (int i = 0; i < KN; i++) {
		plm_h128 h = hash_of(i);
		int r = plm_embcache_lookup(ec, h, NULL);
		if (r != PLM_EC_MISS)
			continue;
		char id[16];
		int n = snprintf(id, sizeof id, "s%d", i);
		if (i % 50 == 49) {
			r = plm_embcache_put_failed(ec, h, id, (size_t)n,
						    "length 0");
		} else {
			vec_of(i, v);
			r = plm_embcache_put_f32(ec, h, id, (size_t)n, v);
		}
		if (r < 0)
			return 1;
		if (++since == 37) {
			if (plm_embcache_close(ec, err, sizeof err))
				return 1;
			ec = plm_embcache_open(path, &c, 1, err, sizeof err);
			if (!ec)
				return 1;
			since = 0;
		}
	}
	return plm_embcache_close(ec, err, sizeof err) ? 1 : 0;
}

/* Every row in the cache must be the right one. */
static int consistent(const char *path, size_t *rows)
{
	char err[512];
	plm_embcache *ec = plm_embcache_open(path, NULL, 0, err, sizeof err);
	if (!ec) {
		diag("reopen: %s", err);
		return 0;
	}
	float v[DIM], w[2 * DIM];
	int good = 1;
	for (int i = 0; i < KN; i++) {
		int r = plm_embcache_lookup_f32(ec, hash_of(i), w);
		if (i % 50 == 49) {
			good &= r == PLM_EC_MISS || r == PLM_EC_FAILED;
			continue;
		}
		vec_of(i, v);
		for (int j = 0; j < DIM; j++)
			v[j] = plm_f16_to_f32(plm_f32_to_f16(v[j]));
		good &= r == PLM_EC_MISS ||
			(r == PLM_EC_HIT && !memcmp(v, w, sizeof v));
	}
	*rows = plm_embcache_rows(ec) + plm_embcache_nfailed(ec);
	plm_embcache_close(ec, err, sizeof err);
	return good;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_sigkill(void)
{
	const char *p = tu_path("k.h5");
	plm_rng rng;
	uint64_t seed = (uint64_t)time(NULL);
	plm_rng_seed(&rng, seed);
	/* How long an uninterrupted run takes here: kills are spread over it */
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0)
		_exit(writer(tu_path("k0.h5")));
	int st;
	waitpid(pid, &st, 0);
	uint64_t span = (uint64_t)((now() - t0) * 1e6);
	diag("seed %llu, an uninterrupted run takes %llu us",
	     (unsigned long long)seed, (unsigned long long)span);
	int kills = 0, opened = 0, sound = 0, checked = 0;
	size_t rows = 0;
	/* Rounds of kill + resume; a run that completes ends a round and
	 * the next round starts from an empty cache. */
	int rounds = 0, complete = 0;
	for (int t = 0; t < 80 && kills < 12; t++) {
		pid = fork();
		if (pid == 0)
			_exit(writer(p));
		usleep((useconds_t)plm_rng_below(&rng, span / 2 + 1));
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		kills += WIFSIGNALED(st);
		if (access(p, F_OK))
			continue;       /* killed before the file existed */
		opened++;
		sound += consistent(p, &rows);
		checked += check(p) == 0;
		if (!WIFSIGNALED(st)) {
			rounds++;
			complete += rows == KN;
			unlink(p);
		}
	}
	diag("%d rounds completed after kills", rounds);
	ok(complete == rounds, "every completed round holds all rows");
	diag("%d kills, %zu rows+failures before the last run", kills, rows);
	ok(kills >= 5, "at least 5 writers killed (%d)", kills);
	ok(sound == opened, "every killed cache reopens with right rows "
	   "(%d of %d)", sound, opened);
	ok(checked == opened, "every killed cache passes check");
	pid = fork();
	if (pid == 0)
		_exit(writer(p));
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a last run completes");
	ok(consistent(p, &rows) && rows == KN, "all %d rows and failures, "
	   "bitwise right (%zu)", KN, rows);
	is_int(check(p), 0, "final cache passes check");
	struct stat sb;
	ok(stat(tu_path("k.h5-journal"), &sb) != 0 &&
	   stat(tu_path("k.h5-commit"), &sb) != 0, "no journal or commit left");
}

/* A committed f32 cache of 3 rows (vec_of(0..2)) at p. */
static int make3(const char *p, enum plm_type dt)
{
	char err[512];
	plm_embcache_cfg c = cfg(dt);
	unlink(p);
	plm_embcache *ec = plm_embcache_open(p, &c, 1, err, sizeof err);
	if (!ec)
		return -1;
	float v[DIM];
	for (int i = 0; i < 3; i++) {
		vec_of(i, v);
		plm_embcache_put_f32(ec, hash_of(i), "id", 2, v);
	}
	return plm_embcache_close(ec, err, sizeof err);
}

/* Replaces dataset name of p by a new [n] or [n, DIM] one of type t
 * holding buf. */
static int replace_ds(const char *p, const char *name, hid_t t, int rank,
		      hsize_t n, const void *buf)
{
	hsize_t dims[2] = { n, DIM };
	hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
	if (f < 0)
		return -1;
	H5Ldelete(f, name, H5P_DEFAULT);
	hid_t sp = H5Screate_simple(rank, dims, NULL);
	hid_t d = H5Dcreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT,
			     H5P_DEFAULT);
	int rc = d >= 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT,
				    buf) >= 0 ? 0 : -1;
	if (d >= 0)
		H5Dclose(d);
	H5Sclose(sp);
	H5Fclose(f);
	return rc;
}

/* Caches whose emb has another type than the dtype attribute, whose ids
 * are not variable-length strings, or whose rows hold NaN/Inf: refused
 * by open, check and lookup, never served converted. */
static void test_hostile(void)
{
	char err[512];
	const char *p = tu_path("h.h5");
	int32_t iv[3 * DIM];
	double dv[3 * DIM];
	float fv[3 * DIM], w[DIM];
	for (int i = 0; i < 3 * DIM; i++) {
		iv[i] = i;
		dv[i] = i * 0.5;
	}
	struct { hid_t t; const void *buf; enum plm_type dt; const char *n; }
	bad[] = {
		{ H5T_STD_I32LE, iv, PLM_T_F32, "int32 emb, dtype f32" },
		{ H5T_IEEE_F64LE, dv, PLM_T_F32, "float64 emb, dtype f32" },
		{ H5T_IEEE_F32LE, fv, PLM_T_F16, "float32 emb, dtype f16" },
	};
	for (int i = 0; i < 3; i++)
		vec_of(i, fv + i * DIM);
	for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
		if (make3(p, bad[b].dt) ||
		    replace_ds(p, "emb", bad[b].t, 2, 3, bad[b].buf)) {
			ok(0, "could not build the %s cache", bad[b].n);
			continue;
		}
		plm_embcache *ec = plm_embcache_open(p, NULL, 0, err, sizeof err);
		ok(!ec && strstr(err, p) && strstr(err, "emb holds") &&
		   strstr(err, bad[b].dt == PLM_T_F16 ? "says f16" : "says f32"),
		   "%s: open refuses (%s)", bad[b].n, ec ? "opened" : err);
		if (ec)
			plm_embcache_abort(ec);
		ok(check(p) > 0, "%s: check reports it", bad[b].n);
	}

	/* ids of fixed-length strings: export would fail, so check does */
	char fid[3 * 8] = "id0\0\0\0\0\0id1\0\0\0\0\0id2";
	hid_t ft = H5Tcopy(H5T_C_S1);
	H5Tset_size(ft, 8);
	if (make3(p, PLM_T_F32) || replace_ds(p, "id", ft, 1, 3, fid))
		ok(0, "could not build the fixed-length id cache");
	H5Tclose(ft);
	ok(check(p) > 0, "fixed-length ids: check reports them");
	plm_embcache *ec = plm_embcache_open(p, NULL, 0, err, sizeof err);
	ok(!ec && strstr(err, "id is not variable-length strings"),
	   "fixed-length ids: open refuses (%s)", ec ? "opened" : err);
	if (ec)
		plm_embcache_abort(ec);
	if (make3(p, PLM_T_F32) || replace_ds(p, "id", H5T_STD_I32LE, 1, 3, iv))
		ok(0, "could not build the int id cache");
	ok(check(p) > 0, "int ids: check reports them");

	/* NaN and Inf rows, f32 and f16 */
	for (int f16 = 0; f16 < 2; f16++) {
		uint16_t hv[3 * DIM];
		for (int i = 0; i < 3 * DIM; i++)
			hv[i] = plm_f32_to_f16(fv[i]);
		if (f16)
			hv[DIM + 3] = 0x7c00;           /* +Inf */
		else
			fv[DIM + 3] = NAN;
		hid_t t = H5Tcopy(H5T_IEEE_F32LE);
		if (f16) {
			H5Tset_fields(t, 15, 10, 5, 0, 10);
			H5Tset_size(t, 2);
			H5Tset_ebias(t, 15);
		}
		if (make3(p, f16 ? PLM_T_F16 : PLM_T_F32) ||
		    replace_ds(p, "emb", t, 2, 3, f16 ? (void *)hv : (void *)fv))
			ok(0, "could not build the non-finite cache");
		H5Tclose(t);
		fv[DIM + 3] = 1;
		ec = plm_embcache_open(p, NULL, 0, err, sizeof err);
		ok(ec != NULL, "%s cache with a non-finite row opens: %s",
		   f16 ? "f16" : "f32", ec ? "ok" : err);
		if (!ec)
			continue;
		char hex[33];
		plm_h128_hex(hash_of(1), hex);
		is_int(plm_embcache_lookup_f32(ec, hash_of(0), w), PLM_EC_HIT,
		       "a finite row is served");
		is_int(plm_embcache_lookup_f32(ec, hash_of(1), w), PLM_EC_ERR,
		       "the non-finite row is not served");
		ok(strstr(plm_embcache_error(ec), "row 1") &&
		   strstr(plm_embcache_error(ec), hex) &&
		   strstr(plm_embcache_error(ec), "NaN or Inf"),
		   "the error names the row and key: %s", plm_embcache_error(ec));
		unsigned char raw[4 * DIM];
		is_int(plm_embcache_row(ec, 1, NULL, NULL, NULL, raw), -1,
		       "plm_embcache_row refuses it too");
		plm_embcache_abort(ec);
		ok(check(p) > 0, "check reports it");
	}

	/* a writer never stores one */
	if (make3(p, PLM_T_F32))
		ok(0, "could not build a cache");
	plm_embcache_cfg c = cfg(PLM_T_F32);
	ec = plm_embcache_open(p, &c, 1, err, sizeof err);
	if (ec) {
		float v[DIM];
		vec_of(7, v);
		v[2] = INFINITY;
		is_int(plm_embcache_put_f32(ec, hash_of(7), "x", 1, v), -1,
		       "put of an Inf vector is refused");
		is_int(plm_embcache_lookup(ec, hash_of(7), NULL), PLM_EC_MISS,
		       "and nothing was stored");
		plm_embcache_close(ec, err, sizeof err);
	} else {
		ok(0, "reopen for writing: %s", err);
	}
}

int main(void)
{
	if (tu_mkdir("plm-embcache"))
		return 1;
	test_basic();
	test_mismatch();
	test_f16();
	test_resume_merge();
	test_sigkill();
	test_hostile();
	tu_rmdir();
	return done_testing();
}
