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

/* Training curves (mlp-train --plot): one SVG with two plots side by
 * side, loss against epoch (train and validation) and one validation
 * metric against epoch, with a dashed vertical line at best_epoch.
 * n points each; train_loss, val_loss or metric may be NULL (left out);
 * NaN values leave gaps; point markers when n <= 60. */
typedef struct plm_train_curves {
	const double *epoch, *train_loss, *val_loss, *metric;
	size_t n;
	const char *title;        /* prefix of both plot titles, or NULL */
	const char *metric_name;  /* axis label and legend, e.g. "val AUROC" */
	double best_epoch;        /* NAN: no marker */
} plm_train_curves;

/* Writes the complete SVG document to o.  0, or -1 (write error). */
int plm_svg_training(plm_out *o, const plm_train_curves *t);

#endif
