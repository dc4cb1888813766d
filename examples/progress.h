/*
 * progress.h - what train_csv and train_sines show while they train, shared
 * by copy (static functions, header-only like cli.h): a progress line with
 * elapsed time, the time left and model selection's quality estimate, and
 * the training curve, kept in memory and written as CSV and as an SVG plot.
 *
 * Both are fed by the trainer's progress callback (grugan_progress): the
 * library measures the time (elapsed_seconds) and makes the estimates; this
 * file only prints and draws.
 */
#ifndef GRUGAN_EXAMPLES_PROGRESS_H
#define GRUGAN_EXAMPLES_PROGRESS_H

#include <grugan.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row of the curve: the state after a step. */
typedef struct curve_point {
    unsigned long long step;
    double seconds, quality, best, d_loss, g_loss, d_real, d_fake;
} curve_point;

typedef struct progress_view {
    unsigned long long total_steps; /* 0: the time budget alone */
    double budget;                  /* seconds; 0: the step count alone */
    int tty;                        /* redraw one line in place, else a line now and then */
    double last_print;              /* elapsed seconds of the last line (not on a tty) */
    unsigned long long every;       /* a curve row every this many steps (>= 1) */
    unsigned long long last_eval;   /* evaluations seen so far */
    curve_point *points;
    size_t n, cap;
    int out_of_memory;
} progress_view;

/* Share of the training done, from the steps and the clock: whichever ends
 * it first. */
static inline double progress_done(const progress_view *v, const grugan_progress *p)
{
    double by_steps = v->total_steps ? (double)p->step / (double)v->total_steps : 0;
    double by_time = v->budget > 0 ? p->elapsed_seconds / v->budget : 0;
    double d = by_steps > by_time ? by_steps : by_time;
    return d > 1 ? 1 : d;
}

static inline void progress_record(progress_view *v, const grugan_progress *p)
{
    curve_point *pt;
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 256;
        curve_point *grown = realloc(v->points, cap * sizeof *grown);
        if (!grown) {
            v->out_of_memory = 1;
            return;
        }
        v->points = grown;
        v->cap = cap;
    }
    pt = &v->points[v->n++];
    pt->step = (unsigned long long)p->step;
    pt->seconds = p->elapsed_seconds;
    pt->quality = p->quality;
    pt->best = p->best_quality;
    pt->d_loss = p->d_loss;
    pt->g_loss = p->g_loss;
    pt->d_real = p->d_real;
    pt->d_fake = p->d_fake;
}

/* The progress line: bar, step, elapsed, time left, losses, estimates. */
static inline void progress_show(progress_view *v, const grugan_progress *p)
{
    const double done = progress_done(v, p), elapsed = p->elapsed_seconds;
    const double left = done > 0 ? elapsed * (1 - done) / done : 0;
    const int end = p->finished != GRUGAN_FINISHED_NO;
    const int new_eval = p->evaluations != v->last_eval;
    char quality[64] = "";
    if (p->evaluations)
        snprintf(quality, sizeof quality, "  quality %.3f (best %.3f at %llu)", p->quality,
                 p->best_quality, (unsigned long long)p->best_step);
    if (new_eval || p->step % v->every == 0 || end) progress_record(v, p);
    v->last_eval = p->evaluations;
    if (v->tty) {
        char bar[21];
        int fill = (int)(20 * done);
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(20 - fill));
        bar[20] = '\0';
        fprintf(stderr, "\r[%s] step %llu  %.0fs, %.0fs left  D(real) %.2f  D(fake) %.2f%s ",
                bar, (unsigned long long)p->step, elapsed, left, p->d_real, p->d_fake, quality);
        if (end) fputc('\n', stderr);
    } else if (elapsed - v->last_print >= 10 || new_eval || end) {
        fprintf(stderr, "step %llu  %.0fs, %.0fs left  D loss %.4f  G loss %.4f  D(real) %.3f  "
                        "D(fake) %.3f%s\n",
                (unsigned long long)p->step, elapsed, left, p->d_loss, p->g_loss, p->d_real,
                p->d_fake, quality);
        v->last_print = elapsed;
    }
}

static inline const char *progress_finish_reason(int finished)
{
    switch (finished) {
    case GRUGAN_FINISHED_STEPS: return "the step count is done";
    case GRUGAN_FINISHED_TIME: return "the time budget is spent";
    case GRUGAN_FINISHED_PATIENCE: return "the quality estimate stopped improving";
    default: return "stopped";
    }
}

/* The curve as CSV: one row per recorded step. */
static inline int progress_write_csv(const progress_view *v, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "step,seconds,quality,best_quality,d_loss,g_loss,d_real,d_fake\n");
    for (size_t i = 0; i < v->n; i++) {
        const curve_point *p = &v->points[i];
        fprintf(f, "%llu,%.3f,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", p->step, p->seconds, p->quality,
                p->best, p->d_loss, p->g_loss, p->d_real, p->d_fake);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* A polyline of one column of the curve over the steps in a w x h box at
 * (x0, y0), values from lo (bottom) to hi (top); NaN values are skipped. */
static inline void progress_svg_line(FILE *f, const progress_view *v, size_t column,
                                     double x0, double y0, double w, double h, double lo,
                                     double hi, const char *colour)
{
    const double last = v->n ? (double)v->points[v->n - 1].step : 1;
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", colour);
    for (size_t i = 0; i < v->n; i++) {
        const curve_point *p = &v->points[i];
        const double values[4] = {p->quality, p->d_real, p->d_fake, p->best};
        double y = values[column];
        if (isnan(y)) continue;
        y = y < lo ? lo : y > hi ? hi : y;
        fprintf(f, "%.1f,%.1f ", x0 + w * (double)p->step / (last > 0 ? last : 1),
                y0 + h * (1 - (y - lo) / (hi - lo)));
    }
    fprintf(f, "'/>\n");
}

/* The curve as a picture: D(real) and D(fake) above, the quality estimate
 * (and the best so far) below, over the steps. */
static inline int progress_write_svg(const progress_view *v, const char *path, const char *title)
{
    const double w = 560, h = 160, pad = 40;
    const unsigned long long last = v->n ? v->points[v->n - 1].step : 0;
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
               "font-family='sans-serif' font-size='12'>\n",
            w + 2 * pad, 2 * h + 3 * pad + 10);
    fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
    fprintf(f, "<text x='%.0f' y='16'>", pad);
    for (const char *c = title; *c; c++) /* a file name may hold XML's special characters */
        if (*c == '&') fputs("&amp;", f);
        else if (*c == '<') fputs("&lt;", f);
        else if (*c == '>') fputs("&gt;", f);
        else fputc(*c, f);
    fprintf(f, ": training curve over %llu steps</text>\n", last);
    for (int panel = 0; panel < 2; panel++) {
        const double y0 = pad + panel * (h + pad);
        fprintf(f, "<rect x='%.0f' y='%.0f' width='%.0f' height='%.0f' fill='none' "
                   "stroke='#ccc'/>\n",
                pad, y0, w, h);
        if (panel == 0) {
            fprintf(f, "<text x='%.0f' y='%.0f'>D(real) (blue), D(fake) (red), 0 to 1</text>\n",
                    pad, y0 - 4);
            progress_svg_line(f, v, 1, pad, y0, w, h, 0, 1, "#1f77b4");
            progress_svg_line(f, v, 2, pad, y0, w, h, 0, 1, "#d62728");
        } else {
            fprintf(f, "<text x='%.0f' y='%.0f'>quality estimate (black) and best so far "
                       "(green), 0 (best) to 0.5</text>\n",
                    pad, y0 - 4);
            progress_svg_line(f, v, 0, pad, y0, w, h, 0, 0.5, "#333");
            progress_svg_line(f, v, 3, pad, y0, w, h, 0, 0.5, "#2ca02c");
        }
    }
    fprintf(f, "<text x='%.0f' y='%.0f'>step 0</text><text x='%.0f' y='%.0f' "
               "text-anchor='end'>step %llu</text>\n",
            pad, 2 * h + 2 * pad + 16, pad + w, 2 * h + 2 * pad + 16, last);
    fprintf(f, "</svg>\n");
    return fclose(f) == 0 ? 0 : -1;
}

#endif
