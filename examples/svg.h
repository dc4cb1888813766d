/*
 * svg.h - the pictures of the example programs (train_sines, train_csv,
 * evaluate), shared by copy like cli.h: an SVG document, text, plots with
 * axes, ticks, labels and a legend, lines and dots in data coordinates, and
 * the panel of sequences that train_sines and evaluate both draw. Plain C on
 * top of stdio; not part of the library.
 *
 * A plot maps a data range (x_lo..x_hi, y_lo..y_hi) onto a box of the
 * picture (left, top, width, height), y growing upwards:
 *
 *   px = left + width * (x - x_lo) / (x_hi - x_lo)
 *   py = top + height * (1 - (y - y_lo) / (y_hi - y_lo))
 */
#ifndef GRUGAN_EXAMPLES_SVG_H
#define GRUGAN_EXAMPLES_SVG_H

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The colours of every picture: real data blue, generated data red. */
#define SVG_REAL "#1f77b4"
#define SVG_FAKE "#d62728"
#define SVG_GREEN "#2ca02c"
#define SVG_BLACK "#333333"

typedef struct svg_plot {
    FILE *f;
    double left, top, width, height; /* the box, in picture units */
    double x_lo, x_hi, y_lo, y_hi;   /* the data range the box shows */
    int pen_down;                    /* svg_line_to: the open path has a point */
} svg_plot;

/* Starts a width x height picture on a white background. */
static inline void svg_begin(FILE *f, double width, double height)
{
    fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n"
               "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
               "viewBox='0 0 %.0f %.0f' font-family='sans-serif' font-size='12'>\n",
            width, height, width, height);
    fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
}

/* Ends the picture; 0, or -1 if anything failed to be written (the file is
 * closed either way). */
static inline int svg_end(FILE *f)
{
    int failed;
    fprintf(f, "</svg>\n");
    failed = ferror(f);
    return fclose(f) == 0 && !failed ? 0 : -1;
}

/* Writes s with XML's special characters escaped (file names may hold them). */
static inline void svg_escaped(FILE *f, const char *s)
{
    for (; *s; s++)
        if (*s == '&') fputs("&amp;", f);
        else if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '\'') fputs("&apos;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
}

/* Text at (x, y); anchor "start", "middle" or "end"; rotate: degrees. */
static inline void svg_text(FILE *f, double x, double y, const char *anchor, double rotate,
                            const char *text)
{
    fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='%s'", x, y, anchor);
    if (rotate != 0) fprintf(f, " transform='rotate(%.0f %.1f %.1f)'", rotate, x, y);
    fputc('>', f);
    svg_escaped(f, text);
    fprintf(f, "</text>\n");
}

/* A tick step for [lo, hi]: 1, 2 or 5 times a power of ten, 4 to 10 ticks. */
static inline double svg_tick_step(double lo, double hi)
{
    const double span = hi - lo, unit = pow(10, floor(log10(span)));
    const double step = span / unit >= 5 ? unit : span / unit >= 2 ? unit / 2 : unit / 5;
    return step;
}

/* Widens [*lo, *hi] to whole tick steps; a range of one value grows by one
 * on each side, an empty one (NaN, or lo > hi) becomes [0, 1]. */
static inline void svg_nice_range(double *lo, double *hi)
{
    double step;
    if (!(*lo <= *hi) || !isfinite(*lo) || !isfinite(*hi)) *lo = 0, *hi = 1;
    if (*lo == *hi) *lo -= 1, *hi += 1;
    step = svg_tick_step(*lo, *hi);
    *lo = step * floor(*lo / step);
    *hi = step * ceil(*hi / step);
}

/* Widens [*lo, *hi] to hold v if it is finite; a NaN bound is replaced. */
static inline void svg_range_add(double *lo, double *hi, double v)
{
    if (!isfinite(v)) return;
    if (!(*lo <= v)) *lo = v;
    if (!(*hi >= v)) *hi = v;
}

static inline double svg_px(const svg_plot *p, double x)
{
    return p->left + p->width * (x - p->x_lo) / (p->x_hi - p->x_lo);
}

/* The vertical position of y, clamped to the box. */
static inline double svg_py(const svg_plot *p, double y)
{
    const double u = (y - p->y_lo) / (p->y_hi - p->y_lo);
    return p->top + p->height * (1 - (u < 0 ? 0 : u > 1 ? 1 : u));
}

/* Draws the box with a grid at the ticks, the tick values, the title above
 * and the axis labels below and left of the box. The ranges must be set
 * (and not empty). */
static inline void svg_plot_axes(const svg_plot *p, const char *title, const char *x_label,
                                 const char *y_label)
{
    const double xs = svg_tick_step(p->x_lo, p->x_hi), ys = svg_tick_step(p->y_lo, p->y_hi);
    char label[64];
    fprintf(p->f, "<g stroke='#e5e5e5'>\n");
    for (double x = xs * ceil(p->x_lo / xs - 1e-9); x <= p->x_hi + 1e-9 * xs; x += xs)
        fprintf(p->f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f'/>\n", svg_px(p, x), p->top,
                svg_px(p, x), p->top + p->height);
    for (double y = ys * ceil(p->y_lo / ys - 1e-9); y <= p->y_hi + 1e-9 * ys; y += ys)
        fprintf(p->f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f'/>\n", p->left,
                svg_py(p, y), p->left + p->width, svg_py(p, y));
    fprintf(p->f, "</g>\n<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' "
                  "stroke='#888'/>\n",
            p->left, p->top, p->width, p->height);
    fprintf(p->f, "<g font-size='10' fill='#555'>\n");
    for (double x = xs * ceil(p->x_lo / xs - 1e-9); x <= p->x_hi + 1e-9 * xs; x += xs) {
        snprintf(label, sizeof label, "%g", fabs(x) < 1e-9 * xs ? 0 : x);
        svg_text(p->f, svg_px(p, x), p->top + p->height + 12, "middle", 0, label);
    }
    for (double y = ys * ceil(p->y_lo / ys - 1e-9); y <= p->y_hi + 1e-9 * ys; y += ys) {
        snprintf(label, sizeof label, "%g", fabs(y) < 1e-9 * ys ? 0 : y);
        svg_text(p->f, p->left - 4, svg_py(p, y) + 3, "end", 0, label);
    }
    fprintf(p->f, "</g>\n");
    if (title) svg_text(p->f, p->left, p->top - 6, "start", 0, title);
    if (x_label) svg_text(p->f, p->left + p->width / 2, p->top + p->height + 26, "middle", 0, x_label);
    if (y_label) svg_text(p->f, p->left - 34, p->top + p->height / 2, "middle", -90, y_label);
}

/* A legend above the box, right-aligned on the title's line: n names with
 * their colours (about 6.5 units per character of a name). */
static inline void svg_plot_legend(const svg_plot *p, size_t n, const char *const *names,
                                   const char *const *colours)
{
    double x = p->left + p->width;
    for (size_t i = n; i-- > 0;) {
        x -= 6.5 * (double)strlen(names[i]);
        svg_text(p->f, x, p->top - 6, "start", 0, names[i]);
        x -= 20;
        fprintf(p->f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' "
                      "stroke-width='3'/>\n",
                x, p->top - 10, x + 14, p->top - 10, colours[i]);
        x -= 10;
    }
}

/* A line through points given one by one with svg_line_to; a NaN lifts the
 * pen, so gaps in the data stay gaps. */
static inline void svg_line_begin(svg_plot *p, const char *colour, double width, double opacity)
{
    fprintf(p->f, "<path fill='none' stroke='%s' stroke-width='%.1f' stroke-opacity='%.2f' "
                  "d='",
            colour, width, opacity);
    p->pen_down = 0;
}

static inline void svg_line_to(svg_plot *p, double x, double y)
{
    if (isnan(x) || isnan(y)) {
        p->pen_down = 0;
        return;
    }
    fprintf(p->f, "%c%.1f %.1f ", p->pen_down ? 'L' : 'M', svg_px(p, x), svg_py(p, y));
    p->pen_down = 1;
}

static inline void svg_line_end(svg_plot *p)
{
    fprintf(p->f, "'/>\n");
}

/* A dot of radius r at (x, y); nothing for NaN. */
static inline void svg_dot(const svg_plot *p, double x, double y, double r, const char *colour,
                           double opacity)
{
    if (isnan(x) || isnan(y)) return;
    fprintf(p->f, "<circle cx='%.1f' cy='%.1f' r='%.1f' fill='%s' fill-opacity='%.2f'/>\n",
            svg_px(p, x), svg_py(p, y), r, colour, opacity);
}

/* Feature k of the first `count` sequences of x (n, T, F), one line each over
 * the steps 0..T-1. */
static inline void svg_sequences(svg_plot *p, const float *x, size_t count, size_t T, size_t F,
                                 size_t k, const char *colour)
{
    for (size_t i = 0; i < count; i++) {
        svg_line_begin(p, colour, 1.2, 0.6);
        for (size_t t = 0; t < T; t++) svg_line_to(p, (double)t, x[(i * T + t) * F + k]);
        svg_line_end(p);
    }
}

/* The height of one row of svg_sequence_rows. */
#define SVG_SEQUENCE_ROW 148.0

/* Real (left) next to generated (right) sequences, one row of two plots per
 * feature for the first `rows` features, starting `top` units down a
 * picture 740 wide: real (n_real, T, F), fake (n_fake, T, F) named
 * fake_name, values drawn from lo to hi. The rows take rows *
 * SVG_SEQUENCE_ROW units. */
static inline void svg_sequence_rows(FILE *f, double top, const float *real, size_t n_real,
                                     const float *fake, size_t n_fake, const char *fake_name,
                                     size_t T, size_t F, size_t rows, double lo, double hi)
{
    const double w = 300, h = 100;
    char title[96];
    for (size_t k = 0; k < rows; k++)
        for (int side = 0; side < 2; side++) {
            svg_plot p = {f, 60 + side * (w + 60), top + 20 + (double)k * SVG_SEQUENCE_ROW, w, h,
                          0, T > 1 ? (double)(T - 1) : 1, lo, hi, 0};
            snprintf(title, sizeof title, "feature %zu: %s (%zu sequences)", k,
                     side ? fake_name : "real", side ? n_fake : n_real);
            svg_plot_axes(&p, title, "step", "value");
            svg_sequences(&p, side ? fake : real, side ? n_fake : n_real, T, F, k,
                          side ? SVG_FAKE : SVG_REAL);
        }
}

#endif
