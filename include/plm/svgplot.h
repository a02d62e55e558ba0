/* svgplot.h — small, dependency-free SVG line plots (ROC, precision-recall,
 * calibration, training curves).
 *
 * One plot = axes with ticks, a title, axis labels, optional dashed y = x
 * reference and a legend, and any number of series drawn as polylines
 * (optionally with point markers).  Points closer than a quarter pixel to
 * the last drawn one are skipped, so a million-point ROC curve stays a
 * small file that looks the same.  NaN points break a line. */
#ifndef PLM_SVGPLOT_H
#define PLM_SVGPLOT_H

#include <stddef.h>

#include "plm/io.h"

typedef struct plm_series {
	const double *x, *y;
	size_t n;
	const char *label;     /* legend text, or NULL */
	int markers;           /* 1: draw a dot at each point */
} plm_series;

typedef struct plm_plot {
	const char *title, *xlabel, *ylabel;
	/* axis ranges; xmin >= xmax (or ymin >= ymax) = fit to the data */
	double xmin, xmax, ymin, ymax;
	int diagonal;          /* 1: dashed y = x reference line */
} plm_plot;

/* Writes a complete SVG document to o.  0, or -1 (write error: see
 * plm_out_error). */
int plm_svg_plot(plm_out *o, const plm_plot *p, const plm_series *s,
		 size_t ns);

#endif
