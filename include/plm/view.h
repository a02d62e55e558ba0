/* view.h — a stream shown to a person on a terminal (PLM_FMT_VIEW).
 *
 * What plm_writer_open() picks when the output is a terminal and neither
 * -T, -M nor PLM_FORMAT says otherwise.  It is for reading, not for
 * reading back: columns are aligned, floats have 4 significant digits,
 * a vector reads "[0.012 -0.334 … 0.051] (1280)", strings longer than
 * their column end in "…", a missing value is "∅", meta (provenance) is
 * not shown, and no line is wider than the terminal.
 *
 * Widths come from a bounded window: the first rows are held until the
 * window is full (100 rows, or the screen's height less two), a second
 * has passed since the first, or the stream ends; then the header and
 * those rows are written, and every later row of the section is padded
 * or cut to the same widths.  Memory is the window, not the stream.
 *
 * Outside a UTF-8 locale (LC_ALL, LC_CTYPE, LANG) "…" is "..." and "∅"
 * is "NA"; bytes that are not printable (control bytes, invalid UTF-8)
 * are shown as '?'. */
#ifndef PLM_VIEW_H
#define PLM_VIEW_H

#include "plm/io.h"
#include "plm/stream.h"

typedef struct plm_view plm_view;

/* A view writing to out (not owned) with out's terminal size: columns
 * from TIOCGWINSZ on fd, else $COLUMNS, else 80 (rows: the same with
 * $LINES, else 24).  NULL when out of memory. */
plm_view *plm_view_open(plm_out *out, int fd, const plm_schema *s);
/* One row of s->n values (already checked against the schema).  0, or
 * -1 (plm_view_error). */
int plm_view_row(plm_view *v, const plm_val *vals);
/* The rows held so far are written, then a blank line and s's header. */
int plm_view_section(plm_view *v, const plm_schema *s);
/* Writes what is held (the caller then frees v and closes out).  0 or
 * -1 (plm_view_error). */
int plm_view_finish(plm_view *v);
void plm_view_free(plm_view *v);
const char *plm_view_error(const plm_view *v);

/* Terminal columns (rows) of fd as described at plm_view_open. */
int plm_term_cols(int fd);
int plm_term_rows(int fd);

#endif
