/* t-pqwrite.c — the Parquet writer through plm_writer: PLM_FMT_PARQUET
 * whatever the name, to stdout, the file's frame ("PAR1", footer length,
 * "PAR1"), one schema per file.  The values are checked against DuckDB
 * and polars in tests/t1210-parquet-write.sh. */
#include "tap.h"
#include "testutil.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plm/stream.h"

static unsigned char file[1 << 20];

static size_t slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(file, 1, sizeof file, f) : 0;
	if (f)
		fclose(f);
	return n;
}

/* "PAR1" at both ends and a footer length that fits. */
static int framed(size_t n)
{
	if (n < 12 || memcmp(file, "PAR1", 4) || memcmp(file + n - 4, "PAR1", 4))
		return 0;
	uint32_t len = (uint32_t)file[n - 8] | (uint32_t)file[n - 7] << 8 |
		       (uint32_t)file[n - 6] << 16 | (uint32_t)file[n - 5] << 24;
	return len > 0 && len <= n - 12;
}

static int has(size_t n, const char *s)
{
	size_t k = strlen(s);
	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(file + i, s, k))
			return 1;
	return 0;
}

static int write_rows(const char *path, int fmt, const plm_schema *s,
		      int rows)
{
	char err[256];
	plm_writer *w = plm_writer_open(path, fmt, s, err, sizeof err);
	if (!w) {
		printf("# %s\n", err);
		return -1;
	}
	for (int i = 0; i < rows; i++) {
		char id[16];
		snprintf(id, sizeof id, "id%d", i);
		plm_val v[2] = { plm_v_str(id, strlen(id)), plm_v_int(i) };
		if (i % 3 == 2)
			v[1] = plm_v_nil();
		if (plm_writer_row(w, v)) {
			plm_writer_abort(w);
			return -1;
		}
	}
	return plm_writer_close(w, err, sizeof err);
}

int main(void)
{
	plm_schema s, t;
	char err[256];

	if (tu_mkdir("t-pqwrite"))
		return 1;
	unsetenv("PLM_PARQUET");
	plm_schema_init(&s);
	plm_schema_add(&s, "id", PLM_T_STR, 0);
	plm_schema_add(&s, "n", PLM_T_INT, 0);

	is_int(write_rows(tu_path("a.parquet"), PLM_FMT_AUTO, &s, 10), 0,
	       "a .parquet name writes Parquet");
	size_t n = slurp(tu_path("a.parquet"));
	ok(framed(n), "PAR1 ... footer length PAR1 (%zu bytes)", n);
	ok(has(n, "plm.schema") && has(n, "[[\"id\",\"str\"],[\"n\",\"int\"]]"),
	   "plm.schema in the footer");

	is_int(write_rows(tu_path("b.out"), PLM_FMT_PARQUET, &s, 10), 0,
	       "PLM_FMT_PARQUET writes Parquet under any name");
	ok(framed(slurp(tu_path("b.out"))), "b.out is Parquet");

	/* stdout: sequential writes only, so it works */
	fflush(stdout);
	int keep = dup(1);
	int fd = open(tu_path("c.out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int moved = keep >= 0 && fd >= 0 && dup2(fd, 1) == 1;
	int rc = moved ? write_rows(NULL, PLM_FMT_PARQUET, &s, 20000) : -1;
	fflush(stdout);
	dup2(keep, 1);
	close(fd);
	close(keep);
	ok(moved, "stdout to c.out");
	is_int(rc, 0, "Parquet to stdout");
	n = slurp(tu_path("c.out"));
	ok(n < sizeof file && framed(n), "stdout got a whole file (%zu bytes)", n);

	setenv("PLM_PARQUET", "codec=brotli", 1);
	plm_writer *w = plm_writer_open(tu_path("d.parquet"), PLM_FMT_AUTO,
					&s, err, sizeof err);
	ok(!w && strstr(err, "PLM_PARQUET: bad value 'brotli' for codec"),
	   "a bad PLM_PARQUET fails the open: %s", err);
	unsetenv("PLM_PARQUET");

	plm_schema_init(&t);
	plm_schema_add(&t, "seq", PLM_T_STR, 0);
	w = plm_writer_open(tu_path("e.parquet"), PLM_FMT_AUTO, &s, err,
			    sizeof err);
	ok(w && plm_writer_section(w, &s) == 0, "the same fields again: fine");
	ok(w && plm_writer_section(w, &t) == -1 &&
	   strstr(plm_writer_error(w), "Parquet holds one schema"),
	   "other fields: %s", w ? plm_writer_error(w) : "");
	plm_writer_abort(w);
	ok(access(tu_path("e.parquet"), F_OK) != 0, "no e.parquet left");

	plm_schema_free(&s);
	plm_schema_free(&t);
	tu_rmdir();
	return done_testing();
}
