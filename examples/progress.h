/*
 * progress.h - what train_csv and train_sines show while they train, shared
 * by copy (static functions, header-only like cli.h): a progress line with
 * elapsed time, the time left and model selection's quality estimate, and
 * the training curve, kept in memory and written as CSV and as an SVG
 * picture (svg.h): both models' losses, D(real) and D(fake), and the quality
 * estimates over the steps.
 *
 * Both are fed by the trainer's progress callback (grugan_progress): the
 * library measures the time (elapsed_seconds) and makes the estimates; this
 * file only prints and draws.
 */
#ifndef GRUGAN_EXAMPLES_PROGRESS_H
#define GRUGAN_EXAMPLES_PROGRESS_H

#include <grugan.h>

#include "svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row of the curve: the state after a step. */
typedef struct curve_point {
    unsigned long long step;
    unsigned long long evaluations; /* quality estimates made so far */
    double seconds, quality, best, d_loss, g_loss, d_real, d_fake;
} curve_point;

typedef struct progress_view {
    unsigned long long total_steps; /* 0: the time budget alone */
    double budget;                  /* seconds; 0: the step count alone */
    int tty;                        /* redraw one line in place, else a line now and then */
    double last_print;              /* elapsed seconds of the last line (not on a tty) */
    unsigned long long every;       /* a curve row every this many steps (>= 1) */
    unsigned long long last_eval;   /* evaluations seen so far */
    unsigned long long kept;        /* the step of the kept generator (0: none yet) */
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
    v->kept = (unsigned long long)(p->final_quality == p->final_quality ? p->final_step
                                                                          : p->best_step);
    pt = &v->points[v->n++];
    pt->step = (unsigned long long)p->step;
    pt->evaluations = (unsigned long long)p->evaluations;
    pt->seconds = p->elapsed_seconds;
    pt->quality = p->quality;
    pt->best = p->best_quality;
    pt->d_loss = p->d_loss;
    pt->g_loss = p->g_loss;
    pt->d_real = p->d_real;
    pt->d_fake = p->d_fake;
}

/* Says which generator model selection kept (nothing without estimates):
 * the best quick estimate's, or the final ranking's choice among the best. */
static inline void progress_print_kept(FILE *f, const grugan_progress *p, const char *what)
{
    if (!p->evaluations) return;
    if (p->final_quality == p->final_quality) /* not NaN: a final ranking holds */
        fprintf(f,
                "best quality estimate %.4f at step %llu (of %llu estimates); the final "
                "ranking kept step %llu (fuller estimate %.4f): %s\n",
                p->best_quality, (unsigned long long)p->best_step,
                (unsigned long long)p->evaluations, (unsigned long long)p->final_step,
                p->final_quality, what);
    else
        fprintf(f, "best quality estimate %.4f at step %llu (of %llu estimates): %s\n",
                p->best_quality, (unsigned long long)p->best_step,
                (unsigned long long)p->evaluations, what);
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

/* The curve as CSV: one row per recorded step; `evaluations` grows by one
 * in the rows where a quality estimate was made. */
static inline int progress_write_csv(const progress_view *v, const char *path)
{
    int failed;
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "step,seconds,quality,best_quality,d_loss,g_loss,d_real,d_fake,evaluations\n");
    for (size_t i = 0; i < v->n; i++) {
        const curve_point *p = &v->points[i];
        fprintf(f, "%llu,%.3f,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%llu\n", p->step, p->seconds,
                p->quality, p->best, p->d_loss, p->g_loss, p->d_real, p->d_fake, p->evaluations);
    }
    failed = ferror(f);
    return fclose(f) == 0 && !failed ? 0 : -1;
}

/* The columns of the curve that are drawn. */
enum curve_column { CURVE_D_LOSS, CURVE_G_LOSS, CURVE_D_REAL, CURVE_D_FAKE, CURVE_NONE };

static inline double curve_value(const curve_point *p, int column)
{
    switch (column) {
    case CURVE_D_LOSS: return p->d_loss;
    case CURVE_G_LOSS: return p->g_loss;
    case CURVE_D_REAL: return p->d_real;
    case CURVE_D_FAKE: return p->d_fake;
    default: return NAN;
    }
}

/* One plot of the curve at (left, top): the columns `first` and `second`
 * (CURVE_NONE: only one) over the steps, on a y range that holds lo..hi (NaN:
 * nothing) and every value. */
static inline void progress_svg_panel(FILE *f, const progress_view *v, double left, double top,
                                      const char *title, double lo, double hi, int first,
                                      const char *first_name, int second,
                                      const char *second_name, const char *y_label)
{
    const double last = v->n ? (double)v->points[v->n - 1].step : 0;
    const int columns[2] = {first, second};
    const char *names[2] = {first_name, second_name};
    const char *colours[2] = {SVG_REAL, SVG_FAKE};
    const size_t lines = second == CURVE_NONE ? 1 : 2;
    svg_plot p = {f, left, top, 300, 110, 0, last > 0 ? last : 1, lo, hi, 0};
    for (size_t c = 0; c < lines; c++)
        for (size_t i = 0; i < v->n; i++)
            svg_range_add(&p.y_lo, &p.y_hi, curve_value(&v->points[i], columns[c]));
    svg_nice_range(&p.y_lo, &p.y_hi);
    svg_plot_axes(&p, title, "step", y_label);
    for (size_t c = 0; c < lines; c++) {
        svg_line_begin(&p, colours[c], 1.5, 0.9);
        for (size_t i = 0; i < v->n; i++)
            svg_line_to(&p, (double)v->points[i].step, curve_value(&v->points[i], columns[c]));
        svg_line_end(&p);
    }
    svg_plot_legend(&p, lines, names, colours);
}

/* The quality panel: each estimate as a dot (at the steps where it was
 * made), the best so far as a line, a ring around the kept generator's (the
 * best estimate's, or the final ranking's choice). */
static inline void progress_svg_quality(FILE *f, const progress_view *v, double left, double top)
{
    const double last = v->n ? (double)v->points[v->n - 1].step : 0;
    const char *names[2] = {"estimate", "best so far"}, *colours[2] = {SVG_BLACK, SVG_GREEN};
    svg_plot p = {f, left, top, 300, 110, 0, last > 0 ? last : 1, 0, NAN, 0};
    const curve_point *best = NULL;
    for (size_t i = 0; i < v->n; i++) svg_range_add(&p.y_lo, &p.y_hi, v->points[i].quality);
    if (isnan(p.y_hi)) p.y_hi = 0.5; /* no estimates: their whole range */
    svg_nice_range(&p.y_lo, &p.y_hi);
    svg_plot_axes(&p, "quality estimate", "step", "0 is best");
    svg_line_begin(&p, SVG_GREEN, 1.5, 0.9);
    for (size_t i = 0; i < v->n; i++) svg_line_to(&p, (double)v->points[i].step, v->points[i].best);
    svg_line_end(&p);
    for (size_t i = 0; i < v->n; i++) {
        const curve_point *pt = &v->points[i];
        if (pt->evaluations == (i ? v->points[i - 1].evaluations : 0)) continue;
        svg_dot(&p, (double)pt->step, pt->quality, 2.5, SVG_BLACK, 0.9);
        if (pt->step == v->kept) best = pt;
    }
    if (best)
        fprintf(f, "<circle cx='%.1f' cy='%.1f' r='6' fill='none' stroke='%s' "
                   "stroke-width='1.5'/>\n",
                svg_px(&p, (double)best->step), svg_py(&p, best->quality), SVG_GREEN);
    if (!best)
        svg_text(f, left + 150, top + 60, "middle", 0, "no quality estimates in this run");
    svg_plot_legend(&p, 2, names, colours);
}

/* The curve as a picture, four plots over the steps: the discriminator's
 * and the generator's losses, D(real) and D(fake), the quality estimates. */
static inline int progress_write_svg(const progress_view *v, const char *path, const char *title)
{
    const curve_point *last = v->n ? &v->points[v->n - 1] : NULL;
    char heading[4200];
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    svg_begin(f, 740, 360);
    snprintf(heading, sizeof heading, "%s: training curve, %llu steps in %.0f s", title,
             last ? last->step : 0ull, last ? last->seconds : 0.0);
    svg_text(f, 10, 18, "start", 0, heading);
    progress_svg_panel(f, v, 60, 50, "discriminator loss", NAN, NAN,
                       CURVE_D_LOSS, "D loss", CURVE_NONE, NULL, "loss");
    progress_svg_panel(f, v, 420, 50, "generator loss", NAN, NAN, CURVE_G_LOSS,
                       "G loss", CURVE_NONE, NULL, "loss");
    progress_svg_panel(f, v, 60, 210, "discriminator output", 0, 1,
                       CURVE_D_REAL, "D(real)", CURVE_D_FAKE,
                       "D(fake)", "D");
    progress_svg_quality(f, v, 420, 210);
    return svg_end(f);
}

#endif
