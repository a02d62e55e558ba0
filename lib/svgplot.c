/* svgplot.c — hand-written SVG line plots (svgplot.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plm/svgplot.h"

enum { W = 480, H = 400, ML = 64, MR = 20, MT = 40, MB = 52 };

static const char *const colors[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};

/* Text content with XML's five special characters escaped and control
 * bytes (invalid in XML 1.0) replaced. */
static int put_text(plm_out *o, const char *s)
{
	int rc = 0;
	for (; s && *s && !rc; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': rc = plm_out_puts(o, "&amp;"); break;
		case '<': rc = plm_out_puts(o, "&lt;"); break;
		case '>': rc = plm_out_puts(o, "&gt;"); break;
		case '"': rc = plm_out_puts(o, "&quot;"); break;
		case '\'': rc = plm_out_puts(o, "&apos;"); break;
		default: rc = plm_out_putc(o, c < 0x20 ? '?' : c); break;
		}
	}
	return rc;
}

/* A "nice" tick step (1, 2 or 5 × 10^k) giving about five intervals. */
static double tick_step(double range)
{
	double raw = range / 5, mag = pow(10, floor(log10(raw)));
	double f = raw / mag;
	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void fit_range(const plm_series *s, size_t ns, int axis,
		      double *lo, double *hi)
{
	double a = INFINITY, b = -INFINITY;
	for (size_t k = 0; k < ns; k++)
		for (size_t i = 0; i < s[k].n; i++) {
			double v = axis ? s[k].y[i] : s[k].x[i];
			if (isfinite(v)) {
				a = v < a ? v : a;
				b = v > b ? v : b;
			}
		}
	if (!(a <= b)) {
		a = 0;
		b = 1;
	}
	if (a == b) {
		a -= 0.5;
		b += 0.5;
	}
	double pad = (b - a) * 0.04;
	*lo = a - pad;
	*hi = b + pad;
}

typedef struct frame {
	double x0, x1, y0, y1;
} frame;

static double px(const frame *f, double x)
{
	return ML + (x - f->x0) / (f->x1 - f->x0) * (W - ML - MR);
}

static double py(const frame *f, double y)
{
	return H - MB - (y - f->y0) / (f->y1 - f->y0) * (H - MT - MB);
}

static int axes(plm_out *o, const plm_plot *p, const frame *f)
{
	int rc = 0;
	rc |= plm_out_printf(o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
			     "fill=\"none\" stroke=\"#333\"/>\n",
			     ML, MT, W - ML - MR, H - MT - MB);
	for (int axis = 0; axis < 2; axis++) {
		double lo = axis ? f->y0 : f->x0, hi = axis ? f->y1 : f->x1;
		double st = tick_step(hi - lo);
		for (double t = ceil(lo / st) * st; t <= hi + st * 1e-9; t += st) {
			double v = fabs(t) < st * 1e-9 ? 0 : t;
			if (axis) {
				double y = py(f, v);
				rc |= plm_out_printf(o, "<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" stroke=\"#333\"/>"
						     "<text x=\"%d\" y=\"%.2f\" text-anchor=\"end\">%g</text>\n",
						     ML - 5, y, ML, y, ML - 8, y + 4, v);
			} else {
				double x = px(f, v);
				rc |= plm_out_printf(o, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#333\"/>"
						     "<text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
						     x, H - MB, x, H - MB + 5, x, H - MB + 18, v);
			}
		}
	}
	rc |= plm_out_printf(o, "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">", W / 2);
	rc |= put_text(o, p->title);
	rc |= plm_out_printf(o, "</text>\n<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
			     ML + (W - ML - MR) / 2, H - 12);
	rc |= put_text(o, p->xlabel);
	rc |= plm_out_printf(o, "</text>\n<text transform=\"translate(16,%d) rotate(-90)\" text-anchor=\"middle\">",
			     MT + (H - MT - MB) / 2);
	rc |= put_text(o, p->ylabel);
	rc |= plm_out_puts(o, "</text>\n");
	if (p->diagonal) {
		double a = fmax(f->x0, f->y0), b = fmin(f->x1, f->y1);
		if (a < b)
			rc |= plm_out_printf(o, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
					     "stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n",
					     px(f, a), py(f, a), px(f, b), py(f, b));
	}
	return rc;
}

static int series(plm_out *o, const frame *f, const plm_series *s,
		  const char *color)
{
	int rc = 0, open = 0;
	double lx = NAN, ly = NAN;
	for (size_t i = 0; i < s->n; i++) {
		if (!isfinite(s->x[i]) || !isfinite(s->y[i])) {
			if (open)
				rc |= plm_out_puts(o, "\"/>\n");
			open = 0;
			continue;
		}
		double x = px(f, s->x[i]), y = py(f, s->y[i]);
		int last = i + 1 == s->n;
		if (open && !last && fabs(x - lx) < 0.25 && fabs(y - ly) < 0.25)
			continue;
		if (!open)
			rc |= plm_out_printf(o, "<polyline fill=\"none\" stroke=\"%s\" "
					     "stroke-width=\"1.5\" points=\"", color);
		rc |= plm_out_printf(o, "%s%.2f,%.2f", open ? " " : "", x, y);
		open = 1;
		lx = x;
		ly = y;
	}
	if (open)
		rc |= plm_out_puts(o, "\"/>\n");
	for (size_t i = 0; s->markers && i < s->n; i++)
		if (isfinite(s->x[i]) && isfinite(s->y[i]))
			rc |= plm_out_printf(o, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n",
					     px(f, s->x[i]), py(f, s->y[i]), color);
	return rc;
}

static int doc_start(plm_out *o, int w)
{
	return plm_out_printf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
			      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n"
			      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
			      w, H, w, H);
}

/* One plot in a W × H box.  id names its clip path (unique per
 * document); vline, when finite, is a dashed vertical marker. */
static int panel(plm_out *o, const plm_plot *p, const plm_series *s,
		 size_t ns, int id, double vline)
{
	frame f = { p->xmin, p->xmax, p->ymin, p->ymax };
	int rc = 0, nc = sizeof colors / sizeof *colors;
	if (!(f.x0 < f.x1))
		fit_range(s, ns, 0, &f.x0, &f.x1);
	if (!(f.y0 < f.y1))
		fit_range(s, ns, 1, &f.y0, &f.y1);
	rc |= axes(o, p, &f);
	rc |= plm_out_printf(o, "<clipPath id=\"plot%d\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/></clipPath>\n"
			     "<g clip-path=\"url(#plot%d)\">\n", id, ML, MT, W - ML - MR, H - MT - MB, id);
	if (isfinite(vline) && vline >= f.x0 && vline <= f.x1)
		rc |= plm_out_printf(o, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" "
				     "stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n",
				     px(&f, vline), MT, px(&f, vline), H - MB);
	for (size_t k = 0; k < ns; k++)
		rc |= series(o, &f, &s[k], colors[k % nc]);
	rc |= plm_out_puts(o, "</g>\n");
	for (size_t k = 0, row = 0; k < ns; k++) {
		if (!s[k].label || !s[k].n)
			continue;
		double y = MT + 14 + 14 * (double)row++;
		rc |= plm_out_printf(o, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>"
				     "<text x=\"%d\" y=\"%.1f\">", W - MR - 150, y - 4, W - MR - 134, y - 4,
				     colors[k % nc], W - MR - 128, y);
		rc |= put_text(o, s[k].label);
		rc |= plm_out_puts(o, "</text>\n");
	}
	return rc;
}

int plm_svg_plot(plm_out *o, const plm_plot *p, const plm_series *s,
		 size_t ns)
{
	int rc = doc_start(o, W);
	rc |= panel(o, p, s, ns, 0, NAN);
	rc |= plm_out_puts(o, "</svg>\n");
	return rc ? -1 : 0;
}

int plm_svg_training(plm_out *o, const plm_train_curves *t)
{
	char title[512];
	const char *name = t->metric_name ? t->metric_name : "metric";
	plm_series loss[2] = {
		{ t->epoch, t->train_loss, t->train_loss ? t->n : 0, "train loss", t->n <= 60 },
		{ t->epoch, t->val_loss, t->val_loss ? t->n : 0, "val loss", t->n <= 60 },
	};
	plm_series met = { t->epoch, t->metric, t->metric ? t->n : 0, name, t->n <= 60 };
	int rc = doc_start(o, 2 * W);
	snprintf(title, sizeof title, "%s%sloss", t->title ? t->title : "",
		 t->title ? " \xe2\x80\x94 " : "");
	plm_plot pl = { title, "epoch", "loss", 0, 0, 0, 0, 0 };
	rc |= panel(o, &pl, loss, 2, 0, t->best_epoch);
	snprintf(title, sizeof title, "%s%s%s", t->title ? t->title : "",
		 t->title ? " \xe2\x80\x94 " : "", name);
	pl = (plm_plot){ title, "epoch", name, 0, 0, 0, 0, 0 };
	rc |= plm_out_printf(o, "<g transform=\"translate(%d,0)\">\n", W);
	rc |= panel(o, &pl, &met, 1, 1, t->best_epoch);
	rc |= plm_out_puts(o, "</g>\n</svg>\n");
	return rc ? -1 : 0;
}
