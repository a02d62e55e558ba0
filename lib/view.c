/* view.c — a stream shown on a terminal (include/plm/view.h).
 *
 * Each value is rendered once into a cell (sanitised text, at most one
 * screen wide); cells of the window are kept in one text buffer with an
 * offset table, so the window costs one allocation that only grows.
 * After the window, a row is rendered into the same buffer and written
 * at once: a line is built whole and cut at the screen width.  On a
 * terminal the output is flushed after the window and after each later
 * row, so a slow stream shows its rows as they come. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/float.h"
#include "plm/view.h"

#define WINDOW_MAX 100          /* rows that decide the widths */
#define WINDOW_SECONDS 1.0      /* ... or what came in this long */
#define MIN_COL 8               /* a column is not narrowed below this */
#define SEP 2                   /* spaces between columns */

struct plm_view {
	plm_out *out;
	plm_schema s;
	int cols, window;       /* screen width; rows that decide widths */
	int utf8;
	const char *ell, *nil;  /* "…" / "...", "∅" / "NA" */
	int ell_w;
	/* the window: cell (r, i) is text[off[r * n + i] .. off[r * n + i + 1]) */
	char *text;
	size_t len, cap;
	size_t *off;
	size_t offcap;
	int rows;               /* rows held */
	int shown;              /* widths fixed, header written */
	int tty;                /* flush after the window and each later row */
	double t0;              /* when the first held row came */
	int *w;                 /* column widths */
	char *line;             /* one output line */
	size_t linecap;
	char err[128];
};

/* ---- terminal ----------------------------------------------------------- */

static int env_int(const char *name, int dflt)
{
	long long v;
	const char *e = getenv(name);
	if (e && !plm_strtoll(e, 1, 100000, &v))
		return (int)v;
	return dflt;
}

int plm_term_cols(int fd)
{
	struct winsize ws;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return env_int("COLUMNS", 80);
}

int plm_term_rows(int fd)
{
	struct winsize ws;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
		return ws.ws_row;
	return env_int("LINES", 24);
}

static int locale_utf8(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
	for (size_t i = 0; i < 3; i++) {
		const char *e = getenv(vars[i]);
		if (!e || !*e)
			continue;
		for (; *e; e++)
			if (!strncasecmp(e, "utf-8", 5) ||
			    !strncasecmp(e, "utf8", 4))
				return 1;
		return 0;
	}
	return 0;
}

/* ---- text --------------------------------------------------------------- */

static int put(plm_view *v, const void *p, size_t n)
{
	if (PLM_GROW(v->text, v->cap, v->len + n + 1)) {
		snprintf(v->err, sizeof v->err, "out of memory");
		return -1;
	}
	memcpy(v->text + v->len, p, n);
	v->len += n;
	return 0;
}

/* Columns of UTF-8 text (one per code point: no wide characters). */
static int width(const char *s, size_t n)
{
	int w = 0;
	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

/* Length of the valid, printable UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if (s[0] < 0xc2 || s[0] > 0xf4 || k > n)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((k == 3 && s[0] == 0xe0 && s[1] < 0xa0) ||
	    (k == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (k == 4 && s[0] == 0xf0 && s[1] < 0x90) ||
	    (k == 4 && s[0] == 0xf4 && s[1] >= 0x90) ||
	    (k == 2 && s[0] == 0xc2 && s[1] < 0xa0))    /* C1 controls */
		return 0;
	return k;
}

/* A string, printable, cut after v->cols columns (the line is cut there
 * anyway; the cell only has to be long enough to be seen cut). */
static int put_str(plm_view *v, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	int w = 0;

	if (n == 0)
		return put(v, "\"\"", 2);
	for (size_t i = 0; i < n && w <= v->cols; w++) {
		size_t k = s[i] >= 0x80 && v->utf8 ? utf8_len(s + i, n - i) : 0;
		if (k) {
			if (put(v, s + i, k))
				return -1;
			i += k;
			continue;
		}
		char c = s[i] < 0x20 || s[i] >= 0x7f ? '?' : (char)s[i];
		if (put(v, &c, 1))
			return -1;
		i++;
	}
	return 0;
}

static int put_num(plm_view *v, double x)
{
	char t[40];
	int n = snprintf(t, sizeof t, "%.4g", x);
	return put(v, t, (size_t)n);
}

static float elem(const plm_field *f, const unsigned char *p, size_t i)
{
	if (plm_type_elsize(f->type) == 4) {
		uint32_t u = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
			     (uint32_t)p[4 * i + 2] << 16 |
			     (uint32_t)p[4 * i + 3] << 24;
		return plm_bits_f32(u);
	}
	uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
	return f->type == PLM_T_F16 ? plm_f16_to_f32(h) : plm_bf16_to_f32(h);
}

/* "[a b … z] (N)"; a matrix "[a b … z; …] (R×N)" (its first row). */
static int put_vec(plm_view *v, const plm_field *f, const plm_val *x)
{
	const unsigned char *p = (const unsigned char *)x->s;
	size_t n = f->dim, rows = x->n / (plm_type_elsize(f->type) * n);
	char t[64];
	int rc = put(v, "[", 1);

	for (size_t i = 0; i < n && !rc; i++) {
		if (n > 4 && i == 2) {
			rc |= put(v, " ", 1) | put(v, v->ell, strlen(v->ell));
			i = n - 2;
			continue;
		}
		int k = snprintf(t, sizeof t, "%s%.3g", i ? " " : "",
				 (double)elem(f, p, i));
		rc |= put(v, t, (size_t)k);
	}
	if (f->type == PLM_T_F32M && rows > 1)
		rc |= put(v, "; ", 2) | put(v, v->ell, strlen(v->ell));
	int k = f->type == PLM_T_F32M ?
		snprintf(t, sizeof t, "] (%zu%s%zu)", rows,
			 v->utf8 ? "\xc3\x97" : "x", n) :
		snprintf(t, sizeof t, "] (%zu)", n);
	return rc | put(v, t, (size_t)k);
}

static int put_cell(plm_view *v, const plm_field *f, const plm_val *x)
{
	char t[32];

	if (x->nil)
		return put(v, v->nil, strlen(v->nil));
	switch (f->type) {
	case PLM_T_STR:
		return put_str(v, x->s, x->n);
	case PLM_T_INT:
		return put(v, t, (size_t)snprintf(t, sizeof t, "%lld",
						  (long long)x->i));
	case PLM_T_FLOAT:
		return put_num(v, x->f);
	case PLM_T_BOOL:
		return put(v, x->i ? "true" : "false", x->i ? 4 : 5);
	default:
		return put_vec(v, f, x);
	}
}

/* ---- layout ------------------------------------------------------------- */

static int numeric(const plm_field *f)
{
	return f->type == PLM_T_INT || f->type == PLM_T_FLOAT;
}

/* Widths from the header's cells (offsets ho) and the held rows,
 * narrowed (widest first, not below MIN_COL) until the line fits the
 * screen. */
static void fit(plm_view *v, const size_t *ho)
{
	size_t n = v->s.n;
	int total = n ? (int)(SEP * (n - 1)) : 0;

	for (size_t i = 0; i < n; i++) {
		v->w[i] = width(v->text + ho[i], ho[i + 1] - ho[i]);
		for (int r = 0; r < v->rows; r++) {
			size_t *o = v->off + (size_t)r * n + i;
			int k = width(v->text + o[0], o[1] - o[0]);
			if (k > v->w[i])
				v->w[i] = k;
		}
		total += v->w[i];
	}
	/* strings first (a sequence is long and its start says enough),
	 * then the rest */
	for (int pass = 0; pass < 2; pass++)
		while (total > v->cols) {
			size_t widest = n;
			for (size_t i = 0; i < n; i++)
				if (v->w[i] > MIN_COL &&
				    (pass || v->s.f[i].type == PLM_T_STR) &&
				    (widest == n || v->w[i] > v->w[widest]))
					widest = i;
			if (widest == n)
				break;  /* the line is cut at the screen's edge */
			v->w[widest]--;
			total--;
		}
}

static int line_put(plm_view *v, size_t *len, const char *p, size_t n)
{
	if (PLM_GROW(v->line, v->linecap, *len + n + 8)) {
		snprintf(v->err, sizeof v->err, "out of memory");
		return -1;
	}
	memcpy(v->line + *len, p, n);
	*len += n;
	return 0;
}

/* Byte length of the first `cols` columns of s[0..n). */
static size_t prefix(const char *s, size_t n, int cols)
{
	size_t i = 0;
	for (int c = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && c++ == cols)
			break;
	}
	return i;
}

static int pad(plm_view *v, size_t *len, int k)
{
	static const char spaces[] = "                                ";
	int rc = 0;
	for (; k > 0 && !rc; k -= (int)sizeof spaces - 1)
		rc = line_put(v, len, spaces, k < (int)sizeof spaces - 1 ?
			      (size_t)k : sizeof spaces - 1);
	return rc;
}

/* The line of cells c[0..n) (each text[o[i]..o[i+1])), padded to the
 * widths, cut at the screen's edge, written. */
static int emit(plm_view *v, const char *text, const size_t *o)
{
	size_t n = v->s.n, len = 0;
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		const char *s = text + o[i];
		size_t sn = o[i + 1] - o[i];
		int w = width(s, sn);
		if (i)
			rc |= pad(v, &len, SEP);
		if (w > v->w[i]) {
			int keep = v->w[i] - v->ell_w;
			size_t b = prefix(s, sn, keep > 0 ? keep : 0);
			rc |= line_put(v, &len, s, b);
			rc |= line_put(v, &len, v->ell, strlen(v->ell));
			continue;
		}
		if (numeric(&v->s.f[i]))
			rc |= pad(v, &len, v->w[i] - w);
		rc |= line_put(v, &len, s, sn);
		if (!numeric(&v->s.f[i]) && i + 1 < n)  /* no trailing blanks */
			rc |= pad(v, &len, v->w[i] - w);
	}
	if (rc)
		return -1;
	if (width(v->line, len) > v->cols) {
		int keep = v->cols - v->ell_w;
		len = prefix(v->line, len, keep > 0 ? keep : 0);
		memcpy(v->line + len, v->ell, strlen(v->ell));
		len += strlen(v->ell);
	}
	v->line[len++] = '\n';
	if (plm_out_write(v->out, v->line, len)) {
		snprintf(v->err, sizeof v->err, "%s", plm_out_error(v->out));
		return -1;
	}
	return 0;
}

/* Render row vals as cells at the end of text; offsets into v->off from
 * slot `at` (n + 1 of them). */
static int render(plm_view *v, const plm_val *vals, size_t at)
{
	size_t n = v->s.n;
	if (PLM_GROW(v->off, v->offcap, at + n + 1)) {
		snprintf(v->err, sizeof v->err, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		v->off[at + i] = v->len;
		if (put_cell(v, &v->s.f[i], &vals[i]))
			return -1;
	}
	v->off[at + n] = v->len;
	return 0;
}

/* On a terminal, the lines written so far reach it now. */
static int flush(plm_view *v)
{
	if (!v->tty || plm_out_flush(v->out) == 0)
		return 0;
	snprintf(v->err, sizeof v->err, "%s", plm_out_error(v->out));
	return -1;
}

/* Fix the widths, write the header and the held rows. */
static int show(plm_view *v)
{
	size_t n = v->s.n;
	int rc;

	/* the header's cells after the rows' */
	if (PLM_GROW(v->off, v->offcap, (size_t)(v->rows + 1) * n + 1))
		return snprintf(v->err, sizeof v->err, "out of memory"), -1;
	size_t *ho = v->off + (size_t)v->rows * n;
	for (size_t i = 0; i < n; i++) {
		ho[i] = v->len;
		if (put_str(v, v->s.f[i].name, strlen(v->s.f[i].name)))
			return -1;
	}
	ho[n] = v->len;
	fit(v, ho);
	rc = emit(v, v->text, ho);
	for (int r = 0; r < v->rows && !rc; r++)
		rc = emit(v, v->text, v->off + (size_t)r * n);
	v->shown = 1;
	v->rows = 0;
	v->len = 0;
	return rc ? rc : flush(v);
}

/* ---- interface ---------------------------------------------------------- */

static int start(plm_view *v, const plm_schema *s)
{
	if (plm_schema_copy(&v->s, s)) {
		snprintf(v->err, sizeof v->err, "out of memory");
		return -1;
	}
	free(v->w);
	if (!(v->w = calloc(s->n + 1, sizeof *v->w))) {
		snprintf(v->err, sizeof v->err, "out of memory");
		return -1;
	}
	v->shown = 0;
	v->rows = 0;
	v->len = 0;
	return 0;
}

plm_view *plm_view_open(plm_out *out, int fd, const plm_schema *s)
{
	plm_view *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	v->out = out;
	v->tty = plm_out_isatty(out);
	v->cols = plm_term_cols(fd);
	v->window = plm_term_rows(fd) - 2;
	if (v->window > WINDOW_MAX)
		v->window = WINDOW_MAX;
	if (v->window < 1)
		v->window = 1;
	v->utf8 = locale_utf8();
	v->ell = v->utf8 ? "\xe2\x80\xa6" : "...";
	v->nil = v->utf8 ? "\xe2\x88\x85" : "NA";
	v->ell_w = v->utf8 ? 1 : 3;
	if (start(v, s)) {
		plm_view_free(v);
		return NULL;
	}
	return v;
}

int plm_view_row(plm_view *v, const plm_val *vals)
{
	if (v->shown) {
		v->len = 0;
		return render(v, vals, 0) || emit(v, v->text, v->off) ||
		       flush(v) ? -1 : 0;
	}
	if (render(v, vals, (size_t)v->rows * v->s.n))
		return -1;
	if (v->rows++ == 0)
		v->t0 = plm_now();
	if (v->rows >= v->window || plm_now() - v->t0 >= WINDOW_SECONDS)
		return show(v);
	return 0;
}

int plm_view_section(plm_view *v, const plm_schema *s)
{
	if (!v->shown && show(v))
		return -1;
	plm_schema_free(&v->s);
	if (plm_out_write(v->out, "\n", 1)) {
		snprintf(v->err, sizeof v->err, "%s", plm_out_error(v->out));
		return -1;
	}
	return start(v, s);
}

int plm_view_finish(plm_view *v)
{
	return v->shown ? 0 : show(v);
}

void plm_view_free(plm_view *v)
{
	if (!v)
		return;
	plm_schema_free(&v->s);
	free(v->text);
	free(v->off);
	free(v->w);
	free(v->line);
	free(v);
}

const char *plm_view_error(const plm_view *v)
{
	return v->err;
}
