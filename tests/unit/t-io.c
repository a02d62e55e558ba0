/* t-io.c — plm_in (plain, gzip, zstd, concatenated, truncated, peek, fill
 * at boundaries, memory source) and plm_out (atomic rename, abort,
 * compressed output read back by gzip(1)/zstd(1), write errors) and
 * plm_spool (a file by its path, stdin and a FIFO spooled). */
#include "plm/io.h"
#include "tap.h"
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static void put_file(const char *name, const void *p, size_t n)
{
	FILE *fp = fopen(tu_path(name), "wb");
	fwrite(p, 1, n, fp);
	fclose(fp);
}

/* A pseudo-random but compressible test body of n bytes. */
static unsigned char *body(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = "ACDEFGHIKLMNPQRSTVWY\n"[(seed >> 16) % 21];
	}
	return p;
}

static size_t gz(const void *src, size_t n, unsigned char *dst, size_t cap)
{
	z_stream zs = { 0 };
	deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (unsigned char *)src;
	zs.avail_in = (uInt)n;
	zs.next_out = dst;
	zs.avail_out = (uInt)cap;
	deflate(&zs, Z_FINISH);
	n = zs.total_out;
	deflateEnd(&zs);
	return n;
}

/* Read everything from in; compare with want[0..n). */
static int read_all_eq(plm_in *in, const unsigned char *want, size_t n)
{
	size_t got = 0;
	unsigned char tmp[7919];
	ssize_t k;
	while ((k = plm_in_read(in, tmp, sizeof tmp)) > 0) {
		if (got + (size_t)k > n || memcmp(tmp, want + got, (size_t)k))
			return 0;
		got += (size_t)k;
	}
	return k == 0 && got == n;
}

/* Read to the end; the last return code (0 EOF, -1 error). */
static ssize_t drain(plm_in *in)
{
	unsigned char tmp[65536];
	ssize_t k;
	while ((k = plm_in_read(in, tmp, sizeof tmp)) > 0)
		;
	return k;
}

static int dir_entries(void)
{
	DIR *d = opendir(tu_dir);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void test_codecs(void)
{
	size_t n = 3 << 20;    /* several windows */
	unsigned char *b = body(n, 1);
	size_t cap = n + (n >> 3) + 1024, zn;
	unsigned char *z = malloc(2 * cap);
	char err[256];
	plm_in *in;

	put_file("plain", b, n);
	in = plm_in_open(tu_path("plain"), err, sizeof err);
	ok(in && plm_in_codec(in) == PLM_CODEC_PLAIN, "plain detected");
	ok(read_all_eq(in, b, n), "plain bytes identical");
	is_int(plm_in_raw_pos(in), n, "plain raw_pos at end");
	is_int(plm_in_raw_size(in), n, "plain raw_size");
	is_str(plm_in_name(in), tu_path("plain"), "name");
	plm_in_close(in);

	zn = gz(b, n, z, cap);
	put_file("x.gz", z, zn);
	in = plm_in_open(tu_path("x.gz"), err, sizeof err);
	ok(in && plm_in_codec(in) == PLM_CODEC_GZIP, "gzip detected");
	ok(read_all_eq(in, b, n), "gzip bytes identical");
	is_int(plm_in_raw_pos(in), zn, "gzip raw_pos at end");
	plm_in_close(in);

	/* Same bytes, no suffix: detection is by content. */
	put_file("noext", z, zn);
	in = plm_in_open(tu_path("noext"), err, sizeof err);
	ok(in && plm_in_codec(in) == PLM_CODEC_GZIP, "gzip detected without suffix");
	plm_in_close(in);

	/* Two members: the body twice. */
	{
		size_t h = n / 2, z1 = gz(b, h, z, cap);
		size_t z2 = gz(b + h, n - h, z + z1, cap);
		put_file("cat.gz", z, z1 + z2);
		in = plm_in_open(tu_path("cat.gz"), err, sizeof err);
		ok(read_all_eq(in, b, n), "concatenated gzip members read through");
		plm_in_close(in);

		/* Truncated: an error, never a quiet short read. */
		put_file("trunc.gz", z, z1 + z2 - 10);
		in = plm_in_open(tu_path("trunc.gz"), err, sizeof err);
		is_int(drain(in), -1, "truncated gzip is an error");
		ok(strstr(plm_in_error(in), "truncated gzip input") != NULL,
		   "truncated gzip reported: %s", plm_in_error(in));
		plm_in_close(in);

		/* plm_in_slurp: the whole, or "PATH: what" said once */
		char *sb = NULL;
		size_t sn = 0;
		ok(plm_in_slurp(tu_path("cat.gz"), &sb, &sn, err, sizeof err) == 0 &&
		   sn == n && memcmp(sb, b, n) == 0, "slurp reads it all");
		free(sb);
		char want[512];
		snprintf(want, sizeof want, "%s: truncated gzip input",
			 tu_path("trunc.gz"));
		is_int(plm_in_slurp(tu_path("trunc.gz"), &sb, &sn, err, sizeof err),
		       -1, "slurp of a truncated file fails");
		is_str(err, want, "slurp names the file once");
		is_int(plm_in_slurp(tu_path("none"), &sb, &sn, err, sizeof err),
		       -1, "slurp of a missing file fails");

		memcpy(z + z1 + z2, "junk", 4);
		put_file("junk.gz", z, z1 + z2 + 4);
		in = plm_in_open(tu_path("junk.gz"), err, sizeof err);
		is_int(drain(in), -1, "trailing garbage is an error");
		ok(strstr(plm_in_error(in), "trailing garbage") != NULL,
		   "trailing garbage reported: %s", plm_in_error(in));
		plm_in_close(in);

		z[z1 / 2] ^= 0x55;
		put_file("bad.gz", z, z1 + z2);
		in = plm_in_open(tu_path("bad.gz"), err, sizeof err);
		is_int(drain(in), -1, "corrupt gzip is an error");
		ok(strncmp(plm_in_error(in), tu_path("bad.gz"), strlen(tu_path("bad.gz"))) == 0,
		   "error names the file: %s", plm_in_error(in));
		plm_in_close(in);
	}

	/* zstd: one frame, two frames, truncated. */
	{
		size_t h = n / 3;
		size_t z1 = ZSTD_compress(z, 2 * cap, b, h, 3);
		size_t z2 = ZSTD_compress(z + z1, 2 * cap - z1, b + h, n - h, 3);
		put_file("x.zst", z, z1);
		in = plm_in_open(tu_path("x.zst"), err, sizeof err);
		ok(in && plm_in_codec(in) == PLM_CODEC_ZSTD, "zstd detected");
		ok(read_all_eq(in, b, h), "zstd bytes identical");
		plm_in_close(in);

		put_file("cat.zst", z, z1 + z2);
		in = plm_in_open(tu_path("cat.zst"), err, sizeof err);
		ok(read_all_eq(in, b, n), "concatenated zstd frames read through");
		plm_in_close(in);

		put_file("trunc.zst", z, z1 + z2 - 7);
		in = plm_in_open(tu_path("trunc.zst"), err, sizeof err);
		is_int(drain(in), -1, "truncated zstd is an error");
		ok(strstr(plm_in_error(in), "truncated zstd input") != NULL,
		   "truncated zstd reported: %s", plm_in_error(in));
		plm_in_close(in);

		/* Memory source, compressed. */
		in = plm_in_mem(z, z1 + z2, "mem");
		ok(in && plm_in_codec(in) == PLM_CODEC_ZSTD, "memory source: zstd");
		ok(read_all_eq(in, b, n), "memory source bytes identical");
		plm_in_close(in);
	}
	free(z);
	free(b);
}

static void test_window(void)
{
	size_t n = (1 << 20) * 2 + 12345;
	unsigned char *b = body(n, 7);
	char err[256];
	plm_in *in;
	int c, good = 1;
	size_t i = 0;

	/* Byte by byte through several refills. */
	in = plm_in_mem(b, n, "mem");
	while ((c = plm_in_getc(in)) >= 0)
		if (i >= n || c != b[i++])
			good = 0;
	ok(good && i == n, "getc over refills sees every byte");
	plm_in_close(in);

	/* peek beyond one window grows it; pending bytes survive a fill. */
	in = plm_in_mem(b, n, "mem");
	ok(plm_in_peek(in, 4) >= 4, "peek 4");
	ok(plm_in_peek(in, n - 5) >= (ssize_t)(n - 5), "peek more than a window");
	ok(memcmp(in->buf + in->pos, b, n - 5) == 0, "peeked bytes correct");
	in->pos = n - 100;
	plm_in_fill(in);
	ok(in->pos == 0 && memcmp(in->buf, b + n - 100, 100) == 0,
	   "fill keeps the unconsumed tail at the front");
	is_int(plm_in_peek(in, 1000), 100, "peek at EOF returns what is left");
	is_int(plm_in_fill(in), 0, "fill at EOF returns 0");
	is_int(plm_in_fill(in), 0, "fill at EOF again returns 0");
	plm_in_close(in);

	/* An empty input. */
	put_file("empty", "", 0);
	in = plm_in_open(tu_path("empty"), err, sizeof err);
	ok(in && plm_in_codec(in) == PLM_CODEC_PLAIN, "empty file opens");
	is_int(plm_in_getc(in), -1, "empty file: EOF at once");
	plm_in_close(in);

	/* Short plain input under 4 bytes (sniffing must not need 4). */
	put_file("short", "ab", 2);
	in = plm_in_open(tu_path("short"), err, sizeof err);
	ok(read_all_eq(in, (const unsigned char *)"ab", 2), "2-byte file read");
	plm_in_close(in);

	/* A single 0x1f byte is plain, not a broken gzip. */
	put_file("one", "\x1f", 1);
	in = plm_in_open(tu_path("one"), err, sizeof err);
	ok(in && plm_in_codec(in) == PLM_CODEC_PLAIN, "lone 0x1f is plain");
	plm_in_close(in);

	in = plm_in_open(tu_path("no-such-file"), err, sizeof err);
	ok(!in && strstr(err, "no-such-file: No such file") != NULL,
	   "missing file: %s", err);
	free(b);
}

static int run(const char *cmd)
{
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_out(void)
{
	char err[256], cmd[1600];
	plm_out *o;
	struct stat st;
	plm_in *in;
	int i, base = dir_entries();

	o = plm_out_open(tu_path("out.txt"), err, sizeof err);
	ok(o != NULL, "open output");
	plm_out_puts(o, "hello ");
	plm_out_printf(o, "%d %s", 42, "world");
	plm_out_putc(o, '\n');
	ok(stat(tu_path("out.txt"), &st) < 0, "output absent before close");
	is_int(dir_entries(), base + 1, "a temporary file exists meanwhile");
	is_int(plm_out_close(o, err, sizeof err), 0, "close");
	in = plm_in_open(tu_path("out.txt"), err, sizeof err);
	ok(read_all_eq(in, (const unsigned char *)"hello 42 world\n", 15),
	   "content after close");
	plm_in_close(in);
	is_int(dir_entries(), base + 1, "temporary file renamed, not left");

	o = plm_out_open(tu_path("abort.txt"), err, sizeof err);
	plm_out_puts(o, "partial");
	plm_out_abort(o);
	ok(stat(tu_path("abort.txt"), &st) < 0, "abort leaves no output");
	is_int(dir_entries(), base + 1, "abort leaves no temporary file");

	/* Compressed outputs, bigger than the buffer, read by the tools. */
	for (i = 0; i < 2; i++) {
		const char *name = i ? "big.zst" : "big.gz";
		size_t n = 3 << 20;
		unsigned char *b = body(n, 3);
		o = plm_out_open(tu_path(name), err, sizeof err);
		plm_out_write(o, b, 1000);
		plm_out_write(o, b + 1000, n - 1000);
		is_int(plm_out_close(o, err, sizeof err), 0, "close %s", name);
		snprintf(cmd, sizeof cmd, "%s -dc %s > %s/dec", i ? "zstd -q" : "gzip",
			 tu_path(name), tu_dir);
		is_int(run(cmd), 0, "%s decompresses", name);
		in = plm_in_open(tu_path("dec"), err, sizeof err);
		ok(read_all_eq(in, b, n), "%s round trip by %s", name, i ? "zstd" : "gzip");
		plm_in_close(in);
		in = plm_in_open(tu_path(name), err, sizeof err);
		ok(in && plm_in_codec(in) == (i ? PLM_CODEC_ZSTD : PLM_CODEC_GZIP) &&
		   read_all_eq(in, b, n), "%s round trip by plm_in", name);
		plm_in_close(in);
		free(b);
	}

	o = plm_out_open("/nonexistent-dir/x", err, sizeof err);
	ok(!o && strstr(err, "/nonexistent-dir/x: cannot create") != NULL,
	   "unwritable path: %s", err);
}

/* Write errors on stdout: ENOSPC (/dev/full) and EPIPE come from close. */
static void test_write_errors(void)
{
	char err[256] = "";
	int save = dup(1), p[2], fd, rc;
	plm_out *o;

	fflush(stdout);
	fd = open("/dev/full", O_WRONLY);
	dup2(fd, 1);
	close(fd);
	o = plm_out_open(NULL, err, sizeof err);
	plm_out_puts(o, "x");
	rc = plm_out_close(o, err, sizeof err);
	dup2(save, 1);
	is_int(rc, -1, "ENOSPC reported by close");
	ok(strstr(err, "stdout: write error: No space left") != NULL, "message: %s", err);

	signal(SIGPIPE, SIG_IGN);
	fflush(stdout);
	if (pipe(p) == 0) {
		close(p[0]);
		dup2(p[1], 1);
		close(p[1]);
		o = plm_out_open("-", err, sizeof err);
		plm_out_puts(o, "x");
		rc = plm_out_close(o, err, sizeof err);
		dup2(save, 1);
		is_int(rc, -1, "EPIPE reported by close");
		ok(strstr(err, "Broken pipe") != NULL, "message: %s", err);
	}
	close(save);
}

/* Spools leave nothing in TMPDIR, even while they are open. */
static void test_spool(void)
{
	char err[512], sdir[600];
	size_t n = (1 << 20) + 4321;
	unsigned char *b = body(n, 7), *z = malloc(n + 1024);
	size_t zn = gz(b, n, z, n + 1024);
	put_file("sp.gz", z, zn);
	snprintf(sdir, sizeof sdir, "%s/spool", tu_dir);
	mkdir(sdir, 0700);
	setenv("TMPDIR", sdir, 1);

	/* a regular file: read again by its path, each time decompressed */
	plm_spool *s = plm_spool_open(tu_path("sp.gz"), &err[0], sizeof err);
	ok(s != NULL, "spool of a file: %s", s ? "" : err);
	for (int pass = 0; s && pass < 2; pass++) {
		plm_in *in = plm_spool_in(s, err, sizeof err);
		ok(in && read_all_eq(in, b, n), "file, reading %d", pass + 1);
		plm_in_close(in);
	}
	plm_spool_close(s);

	/* stdin (here a gzip file): spooled decompressed, named stdin */
	int save = dup(0), fd = open(tu_path("sp.gz"), O_RDONLY);
	dup2(fd, 0);
	close(fd);
	s = plm_spool_open("-", err, sizeof err);
	ok(s != NULL, "spool of stdin: %s", s ? "" : err);
	is_str(s ? plm_spool_name(s) : NULL, "stdin", "named stdin");
	DIR *d = opendir(sdir);
	int left = 0;
	for (struct dirent *e; (e = readdir(d));)
		left += e->d_name[0] != '.';
	closedir(d);
	is_int(left, 0, "no file in TMPDIR while the spool is open");
	for (int pass = 0; s && pass < 2; pass++) {
		plm_in *in = plm_spool_in(s, err, sizeof err);
		ok(in && read_all_eq(in, b, n), "stdin, reading %d", pass + 1);
		if (in)
			is_str(plm_in_name(in), "stdin", "reader named stdin");
		plm_in_close(in);
	}
	plm_spool_close(s);

	/* empty stdin: an empty input, read twice */
	fd = open("/dev/null", O_RDONLY);
	dup2(fd, 0);
	close(fd);
	s = plm_spool_open(NULL, err, sizeof err);
	plm_in *in = s ? plm_spool_in(s, err, sizeof err) : NULL;
	ok(in && drain(in) == 0 && in->len == 0, "empty stdin spooled");
	plm_in_close(in);
	plm_spool_close(s);

	/* a FIFO: spooled, like stdin, but named by its path */
	mkfifo(tu_path("fifo"), 0600);
	pid_t pid = fork();
	if (pid == 0) {
		int w = open(tu_path("fifo"), O_WRONLY);
		_exit(write(w, z, zn) == (ssize_t)zn ? 0 : 1);
	}
	s = plm_spool_open(tu_path("fifo"), err, sizeof err);
	waitpid(pid, NULL, 0);
	for (int pass = 0; s && pass < 2; pass++) {
		in = plm_spool_in(s, err, sizeof err);
		ok(in && read_all_eq(in, b, n), "fifo, reading %d", pass + 1);
		plm_in_close(in);
	}
	is_str(s ? plm_spool_name(s) : NULL, tu_path("fifo"), "fifo named by its path");
	plm_spool_close(s);
	unlink(tu_path("fifo"));

	/* errors: a truncated gzip stream, an unusable TMPDIR */
	fd = open(tu_path("sp.gz"), O_RDONLY);
	dup2(fd, 0);
	close(fd);
	truncate(tu_path("sp.gz"), (off_t)zn / 2);
	s = plm_spool_open("-", err, sizeof err);
	ok(!s && strstr(err, "stdin: ") == err, "truncated stdin: %s", err);
	plm_spool_close(s);
	setenv("TMPDIR", tu_path("nosuch"), 1);
	fd = open(tu_path("sp.gz"), O_RDONLY);
	dup2(fd, 0);
	close(fd);
	s = plm_spool_open("-", err, sizeof err);
	ok(!s && strstr(err, "stdin: cannot spool to ") == err,
	   "no TMPDIR: %s", err);
	plm_spool_close(s);
	unsetenv("TMPDIR");

	dup2(save, 0);
	close(save);
	rmdir(sdir);
	unlink(tu_path("sp.gz"));
	free(b);
	free(z);
}

int main(void)
{
	if (tu_mkdir("t-io"))
		return 1;
	test_codecs();
	test_window();
	test_out();
	test_write_errors();
	test_spool();
	tu_rmdir();
	return done_testing();
}
