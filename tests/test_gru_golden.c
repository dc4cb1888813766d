/* test_gru_golden.c - the GRU against torch.nn.GRU: golden data written by
 * tests/golden/make_gru_golden.py (committed, so no torch is needed here).
 * For every file: outputs, final states and the gradients of every parameter,
 * of x and of h0 for L = sum(out * d_out) + sum(h_n * d_hn), with the
 * library's GRU (at two thread counts, plus the streaming step where it
 * applies) and with the double reference GRU of ref_gru.c. Also checks that
 * the golden file reader refuses malformed text. */
#include "suites.h"

#include "golden_io.h"
#include "grugan.h"
#include "ref_gru.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_DIR GRUGAN_SOURCE_DIR "/tests/golden/"

/* The library's float32 GRU against torch's float32 results. */
#define FAST_ABS 1e-5
#define FAST_REL 1e-4
/* The double reference against torch's float32 results: the generator checked
 * that torch's float32 results are this close to its float64 ones. */
#define REF_ABS 2e-6
#define REF_REL 2e-5

static const char *const golden_files[] = {"gru_a.txt", "gru_b.txt", "gru_c.txt", "gru_d.txt",
                                           "gru_e.txt"};
#define N_GOLDEN_FILES (sizeof golden_files / sizeof golden_files[0])

/* ---- failure report: collected, then asserted once everything is freed ---- */

typedef struct report {
    char text[4096];
    size_t len;
    int failures;
} report;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void note(report *r, const char *fmt, ...);

static void note(report *r, const char *fmt, ...)
{
    va_list ap;
    int n;
    r->failures++;
    if (r->len + 2 >= sizeof r->text) return;
    va_start(ap, fmt);
    n = vsnprintf(r->text + r->len, sizeof r->text - r->len - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    r->len += (size_t)n;
    if (r->len > sizeof r->text - 2) r->len = sizeof r->text - 2;
    r->text[r->len++] = '\n';
    r->text[r->len] = '\0';
}

/* "[i,j,k]" of flat index `flat` in a row-major array of the given shape. */
static void format_index(char *buf, size_t size, size_t flat, const size_t *shape, size_t ndim)
{
    size_t idx[GOLDEN_MAX_DIMS] = {0}, used = 0;
    for (size_t k = ndim; k-- > 0;) {
        idx[k] = flat % shape[k];
        flat /= shape[k];
    }
    buf[0] = '\0';
    for (size_t k = 0; k < ndim && used + 1 < size; k++) {
        int n = snprintf(buf + used, size - used, "%s%zu", k ? "," : "[", idx[k]);
        if (n < 0) return;
        used += (size_t)n;
    }
    if (used + 1 < size) snprintf(buf + used, size - used, "]");
}

/* Compares got (same shape as `want`) with the golden tensor within
 * abs_tol + rel_tol * |want|; notes the count and the worst mismatch. */
static void compare(report *r, const char *file, const char *what, const float *got,
                    const golden_tensor *want, double abs_tol, double rel_tol)
{
    size_t bad = 0, worst = 0;
    double worst_ratio = -1;
    for (size_t i = 0; i < want->count; i++) {
        const double g = got[i], w = want->data[i];
        double ratio = fabs(g - w) / (abs_tol + rel_tol * fabs(w));
        if (!(ratio <= 1)) {
            bad++;
            if (!isfinite(ratio)) ratio = HUGE_VAL;
        }
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            worst = i;
        }
    }
    if (bad) {
        char idx[64];
        format_index(idx, sizeof idx, worst, want->shape, want->ndim);
        note(r, "%s: %s: %zu of %zu values off; worst at %s: got %.9g, torch %.9g (diff %.3g, "
                "tolerance %.3g)",
             file, what, bad, want->count, idx, (double)got[worst],
             (double)want->data[worst], fabs((double)got[worst] - (double)want->data[worst]),
             abs_tol + rel_tol * fabs((double)want->data[worst]));
    }
}

/* ---- one golden file, checked for consistency ---------------------------- */

typedef struct golden_case {
    const char *file;
    golden_file f;
    size_t I, H, L, D, B, T;
    int has_h0;
    size_t *lengths; /* (B) or NULL */
    const golden_tensor *x, *h0, *out, *h_n, *d_out, *d_hn, *grad_x, *grad_h0;
    size_t n_params; /* golden tensors named weight_* or bias_* */
} golden_case;

static int config_size(report *r, golden_case *c, const char *key, size_t *v)
{
    long value;
    if (golden_config_int(&c->f, key, &value) != 0 || value < 0) {
        note(r, "%s: config %s missing or invalid", c->file, key);
        return -1;
    }
    *v = (size_t)value;
    return 0;
}

static const golden_tensor *shaped(report *r, golden_case *c, const char *name, size_t d0,
                                   size_t d1, size_t d2)
{
    const golden_tensor *t = golden_find(&c->f, name);
    if (!t) {
        note(r, "%s: no tensor %s", c->file, name);
        return NULL;
    }
    if (t->ndim != 3 || t->shape[0] != d0 || t->shape[1] != d1 || t->shape[2] != d2) {
        note(r, "%s: tensor %s is not (%zu, %zu, %zu)", c->file, name, d0, d1, d2);
        return NULL;
    }
    return t;
}

static void case_free(golden_case *c)
{
    golden_free(&c->f);
    free(c->lengths);
    c->lengths = NULL;
}

/* Loads tests/golden/<file> and checks its config and shapes: 0 or -1 (noted). */
static int case_load(report *r, golden_case *c, const char *file)
{
    char err[512], path[1024];
    size_t bidirectional = 0, has_h0 = 0, convention = 0;
    const golden_config *len;
    memset(c, 0, sizeof *c);
    c->file = file;
    snprintf(path, sizeof path, "%s%s", GOLDEN_DIR, file);
    if (golden_load(path, &c->f, err, sizeof err) != 0) {
        note(r, "%s", err);
        return -1;
    }
    if (config_size(r, c, "input_size", &c->I) || config_size(r, c, "hidden_size", &c->H) ||
        config_size(r, c, "num_layers", &c->L) ||
        config_size(r, c, "bidirectional", &bidirectional) ||
        config_size(r, c, "convention", &convention) || config_size(r, c, "batch", &c->B) ||
        config_size(r, c, "steps", &c->T) || config_size(r, c, "has_h0", &has_h0))
        return -1;
    if (c->I < 1 || c->H < 1 || c->L < 1 || c->L > REF_GRU_MAX_LAYERS || bidirectional > 1 ||
        convention != 0 || c->B < 1 || c->T < 1 || has_h0 > 1) {
        note(r, "%s: unexpected config", file);
        return -1;
    }
    c->D = bidirectional ? 2 : 1;
    c->has_h0 = (int)has_h0;
    len = golden_config_find(&c->f, "lengths");
    if (len) {
        if (len->count != c->B) {
            note(r, "%s: %zu lengths for a batch of %zu", file, len->count, c->B);
            return -1;
        }
        c->lengths = malloc(c->B * sizeof *c->lengths);
        if (!c->lengths) {
            note(r, "%s: out of memory", file);
            return -1;
        }
        for (size_t b = 0; b < c->B; b++) {
            if (len->values[b] < 1 || (size_t)len->values[b] > c->T) {
                note(r, "%s: length %ld outside 1..%zu", file, len->values[b], c->T);
                return -1;
            }
            c->lengths[b] = (size_t)len->values[b];
        }
    }
    c->x = shaped(r, c, "x", c->B, c->T, c->I);
    c->h0 = c->has_h0 ? shaped(r, c, "h0", c->L * c->D, c->B, c->H) : NULL;
    c->out = shaped(r, c, "out", c->B, c->T, c->D * c->H);
    c->h_n = shaped(r, c, "h_n", c->L * c->D, c->B, c->H);
    c->d_out = shaped(r, c, "d_out", c->B, c->T, c->D * c->H);
    c->d_hn = shaped(r, c, "d_hn", c->L * c->D, c->B, c->H);
    c->grad_x = shaped(r, c, "grad_x", c->B, c->T, c->I);
    c->grad_h0 = shaped(r, c, "grad_h0", c->L * c->D, c->B, c->H);
    if (!c->x || (c->has_h0 && !c->h0) || !c->out || !c->h_n || !c->d_out || !c->d_hn ||
        !c->grad_x || !c->grad_h0)
        return -1;
    for (size_t i = 0; i < c->f.n_tensors; i++) {
        const char *name = c->f.tensors[i].name;
        if (strncmp(name, "weight_", 7) == 0 || strncmp(name, "bias_", 5) == 0) c->n_params++;
    }
    if (c->n_params != 4 * c->L * c->D) {
        note(r, "%s: %zu parameter tensors, expected %zu", file, c->n_params, 4 * c->L * c->D);
        return -1;
    }
    return 0;
}

/* The golden tensor "<prefix><name>" with the given shape, or NULL (noted). */
static const golden_tensor *param_tensor(report *r, const golden_case *c, const char *prefix,
                                         const char *name, size_t ndim, const size_t *shape)
{
    char full[GOLDEN_NAME_MAX + 8];
    const golden_tensor *t;
    snprintf(full, sizeof full, "%s%s", prefix, name);
    t = golden_find(&c->f, full);
    if (!t) {
        note(r, "%s: no tensor %s", c->file, full);
        return NULL;
    }
    if (t->ndim != ndim || t->shape[0] != shape[0] || (ndim == 2 && t->shape[1] != shape[1])) {
        note(r, "%s: tensor %s has another shape than the GRU's", c->file, full);
        return NULL;
    }
    return t;
}

/* ---- the library's GRU ---------------------------------------------------- */

/* Creates the GRU of the case with the golden weights; NULL on failure (noted). */
static grugan_gru *fast_create(report *r, const golden_case *c)
{
    grugan_gru_config cfg = GRUGAN_GRU_CONFIG_INIT;
    grugan_gru *gru = NULL;
    grugan_error err;
    size_t n;
    cfg.input_size = c->I;
    cfg.hidden_size = c->H;
    cfg.num_layers = c->L;
    cfg.bidirectional = c->D == 2;
    cfg.convention = GRUGAN_GRU_RESET_AFTER;
    cfg.seed = 7;
    if (grugan_gru_create(NULL, &cfg, &gru, &err) != GRUGAN_OK) {
        note(r, "%s: grugan_gru_create: %s", c->file, err.message);
        return NULL;
    }
    n = grugan_params_count(grugan_gru_params(gru));
    if (n != c->n_params) {
        note(r, "%s: grugan_gru_param_count %zu, expected %zu", c->file, n, c->n_params);
        grugan_gru_free(gru);
        return NULL;
    }
    /* Every golden parameter by name (find, then write), shapes checked. */
    for (size_t i = 0; i < c->f.n_tensors; i++) {
        const golden_tensor *t = &c->f.tensors[i];
        const char *name = NULL;
        size_t index, ndim = 0, shape[GRUGAN_MAX_DIMS] = {0, 0, 0, 0};
        int rc;
        if (strncmp(t->name, "weight_", 7) != 0 && strncmp(t->name, "bias_", 5) != 0) continue;
        rc = grugan_params_find(grugan_gru_params(gru), t->name, &index);
        if (rc != GRUGAN_OK) {
            note(r, "%s: grugan_gru_param_find(%s): %s", c->file, t->name,
                 grugan_status_string(rc));
            continue;
        }
        rc = grugan_params_info(grugan_gru_params(gru), index, &name, &ndim, shape);
        if (rc != GRUGAN_OK || !name || strcmp(name, t->name) != 0 || ndim != t->ndim ||
            shape[0] != t->shape[0] || (ndim == 2 && shape[1] != t->shape[1])) {
            note(r, "%s: grugan_gru_param_info of %s disagrees with torch", c->file, t->name);
            continue;
        }
        rc = grugan_params_write(grugan_gru_params(gru), index, t->data, t->count);
        if (rc != GRUGAN_OK)
            note(r, "%s: grugan_gru_param_write(%s): %s", c->file, t->name,
                 grugan_status_string(rc));
    }
    return gru;
}

/* Every parameter gradient of the GRU against grad_<name>. */
static void fast_compare_grads(report *r, const golden_case *c, grugan_gru *gru,
                               const char *when)
{
    char what[128];
    for (size_t i = 0; i < grugan_params_count(grugan_gru_params(gru)); i++) {
        const char *name = NULL;
        size_t ndim = 0, shape[GRUGAN_MAX_DIMS] = {0, 0, 0, 0};
        const golden_tensor *want;
        float *got;
        if (grugan_params_info(grugan_gru_params(gru), i, &name, &ndim, shape) != GRUGAN_OK || !name) {
            note(r, "%s: grugan_gru_param_info(%zu) failed", c->file, i);
            continue;
        }
        want = param_tensor(r, c, "grad_", name, ndim, shape);
        if (!want) continue;
        got = malloc(want->count * sizeof *got);
        if (!got) {
            note(r, "out of memory");
            return;
        }
        if (grugan_params_grad_read(grugan_gru_params(gru), i, got, want->count) != GRUGAN_OK) {
            note(r, "%s: grugan_gru_grad_read(%s) failed", c->file, name);
        } else {
            snprintf(what, sizeof what, "grad_%s%s", name, when);
            compare(r, c->file, what, got, want, FAST_ABS, FAST_REL);
        }
        free(got);
    }
}

/* Forward and backward of the library's GRU with `threads` threads. */
static void fast_run(report *r, const golden_case *c, grugan_gru *gru, int threads)
{
    const size_t n_out = c->out->count, n_h = c->h_n->count, n_x = c->x->count;
    float *out = malloc(n_out * sizeof *out), *h_n = malloc(n_h * sizeof *h_n);
    float *dx = malloc(n_x * sizeof *dx), *dh0 = malloc(n_h * sizeof *dh0);
    char suffix[32];
    int rc;
    snprintf(suffix, sizeof suffix, " (threads %d)", threads);
    if (!out || !h_n || !dx || !dh0) {
        note(r, "out of memory");
        goto done;
    }
    rc = grugan_gru_set(gru, GRUGAN_KEY_THREADS, threads);
    if (rc != GRUGAN_OK) {
        note(r, "%s: grugan_gru_set(THREADS, %d): %s", c->file, threads,
             grugan_status_string(rc));
        goto done;
    }
    rc = grugan_gru_forward(gru, c->B, c->T, c->x->data, c->h0 ? c->h0->data : NULL, c->lengths,
                            out, h_n);
    if (rc != GRUGAN_OK) {
        note(r, "%s: grugan_gru_forward: %s: %s", c->file, grugan_status_string(rc),
             grugan_gru_message(gru));
        goto done;
    }
    {
        char w1[48], w2[48];
        snprintf(w1, sizeof w1, "out%s", suffix);
        snprintf(w2, sizeof w2, "h_n%s", suffix);
        compare(r, c->file, w1, out, c->out, FAST_ABS, FAST_REL);
        compare(r, c->file, w2, h_n, c->h_n, FAST_ABS, FAST_REL);
    }

    rc = grugan_params_zero_grad(grugan_gru_params(gru));
    if (rc == GRUGAN_OK)
        rc = grugan_gru_backward(gru, c->d_out->data, c->d_hn->data, dx, dh0,
                                 GRUGAN_BACKWARD_PARAMS);
    if (rc != GRUGAN_OK) {
        note(r, "%s: zero_grad/backward: %s: %s", c->file, grugan_status_string(rc),
             grugan_gru_message(gru));
        goto done;
    }
    {
        char w1[48], w2[48];
        snprintf(w1, sizeof w1, "grad_x%s", suffix);
        snprintf(w2, sizeof w2, "grad_h0%s", suffix);
        compare(r, c->file, w1, dx, c->grad_x, FAST_ABS, FAST_REL);
        compare(r, c->file, w2, dh0, c->grad_h0, FAST_ABS, FAST_REL);
    }
    fast_compare_grads(r, c, gru, suffix);

    /* Input gradients only: the same d_x and d_h0, parameter gradients kept. */
    for (size_t i = 0; i < n_x; i++) dx[i] = NAN;
    for (size_t i = 0; i < n_h; i++) dh0[i] = NAN;
    rc = grugan_gru_backward(gru, c->d_out->data, c->d_hn->data, dx, dh0,
                             GRUGAN_BACKWARD_INPUT_ONLY);
    if (rc != GRUGAN_OK) {
        note(r, "%s: backward INPUT_ONLY: %s: %s", c->file, grugan_status_string(rc),
             grugan_gru_message(gru));
        goto done;
    }
    {
        char w1[64], w2[64];
        snprintf(w1, sizeof w1, "grad_x%s, input only", suffix);
        snprintf(w2, sizeof w2, "grad_h0%s, input only", suffix);
        compare(r, c->file, w1, dx, c->grad_x, FAST_ABS, FAST_REL);
        compare(r, c->file, w2, dh0, c->grad_h0, FAST_ABS, FAST_REL);
        snprintf(w1, sizeof w1, "%s, after input only", suffix);
        fast_compare_grads(r, c, gru, w1);
    }
done:
    free(out);
    free(h_n);
    free(dx);
    free(dh0);
}

/* Unidirectional, full-length cases: grugan_gru_step over the T steps gives
 * torch's outputs and final state. */
static void fast_run_steps(report *r, const golden_case *c, grugan_gru *gru)
{
    const size_t B = c->B, T = c->T, I = c->I, H = c->H, L = c->L;
    float *xt = malloc(B * I * sizeof *xt), *yt = malloc(B * H * sizeof *yt);
    float *h = malloc(L * B * H * sizeof *h), *out = malloc(B * T * H * sizeof *out);
    if (!xt || !yt || !h || !out) {
        note(r, "out of memory");
        goto done;
    }
    if (c->h0)
        memcpy(h, c->h0->data, L * B * H * sizeof *h);
    else
        memset(h, 0, L * B * H * sizeof *h);
    for (size_t t = 0; t < T; t++) {
        int rc;
        for (size_t b = 0; b < B; b++)
            memcpy(xt + b * I, c->x->data + (b * T + t) * I, I * sizeof *xt);
        rc = grugan_gru_step(gru, B, xt, h, yt);
        if (rc != GRUGAN_OK) {
            note(r, "%s: grugan_gru_step at t=%zu: %s: %s", c->file, t,
                 grugan_status_string(rc), grugan_gru_message(gru));
            goto done;
        }
        for (size_t b = 0; b < B; b++) memcpy(out + (b * T + t) * H, yt + b * H, H * sizeof *yt);
    }
    compare(r, c->file, "out (step)", out, c->out, FAST_ABS, FAST_REL);
    compare(r, c->file, "h_n (step)", h, c->h_n, FAST_ABS, FAST_REL);
done:
    free(xt);
    free(yt);
    free(h);
    free(out);
}

static void check_fast(const char *file)
{
    report r;
    golden_case c;
    r.len = 0;
    r.text[0] = '\0';
    r.failures = 0;
    if (case_load(&r, &c, file) == 0) {
        grugan_gru *gru = fast_create(&r, &c);
        if (gru && r.failures == 0) {
            double lo = 1, hi = 1;
            int many = 4;
            if (grugan_gru_key_bounds(GRUGAN_KEY_THREADS, &lo, &hi) == GRUGAN_OK && hi < many)
                many = (int)hi;
            fast_run(&r, &c, gru, 1);
            if (many > 1) fast_run(&r, &c, gru, many);
            if (c.D == 1 && !c.lengths) fast_run_steps(&r, &c, gru);
        }
        grugan_gru_free(gru);
    }
    case_free(&c);
    ck_assert_msg(r.failures == 0, "%d failure(s):\n%s", r.failures, r.text);
}

START_TEST(gru_matches_torch_a_single_layer)
{
    check_fast("gru_a.txt");
}
END_TEST

START_TEST(gru_matches_torch_b_bidirectional_with_h0)
{
    check_fast("gru_b.txt");
}
END_TEST

START_TEST(gru_matches_torch_c_variable_lengths)
{
    check_fast("gru_c.txt");
}
END_TEST

START_TEST(gru_matches_torch_d_bidirectional_variable_lengths)
{
    check_fast("gru_d.txt");
}
END_TEST

START_TEST(gru_matches_torch_e_timegan_size)
{
    check_fast("gru_e.txt");
}
END_TEST

/* ---- the double reference GRU (the oracle of other tests) ------------------ */

static void compare_double(report *r, const golden_case *c, const char *what, const double *got,
                           const golden_tensor *want)
{
    float *f = malloc(want->count * sizeof *f);
    if (!f) {
        note(r, "out of memory");
        return;
    }
    /* Rounded to float first: the tolerance is far above float's rounding. */
    for (size_t i = 0; i < want->count; i++) f[i] = (float)got[i];
    compare(r, c->file, what, f, want, REF_ABS, REF_REL);
    free(f);
}

static double *to_double(const golden_tensor *t)
{
    double *d = malloc(t->count * sizeof *d);
    if (d)
        for (size_t i = 0; i < t->count; i++) d[i] = t->data[i];
    return d;
}

static void check_reference(report *r, const golden_case *c)
{
    ref_gru g;
    ref_gru_tape tape;
    double *x = to_double(c->x), *h0 = c->h0 ? to_double(c->h0) : NULL;
    double *d_out = to_double(c->d_out), *d_hn = to_double(c->d_hn);
    double *out = malloc(c->out->count * sizeof *out), *h_n = malloc(c->h_n->count * sizeof *h_n);
    double *dx = malloc(c->x->count * sizeof *dx), *dh0 = malloc(c->h_n->count * sizeof *dh0);
    int have_g = 0, have_tape = 0;
    memset(&tape, 0, sizeof tape);
    if (!x || (c->h0 && !h0) || !d_out || !d_hn || !out || !h_n || !dx || !dh0) {
        note(r, "out of memory");
        goto done;
    }
    if (ref_gru_init(&g, c->I, c->H, c->L, c->D == 2, 0) != 0) {
        note(r, "%s: ref_gru_init failed", c->file);
        goto done;
    }
    have_g = 1;
    for (size_t p = 0; p < g.num_params; p++) {
        const golden_tensor *t = param_tensor(r, c, "", g.name[p], g.ndim[p], g.shape[p]);
        if (!t) goto done;
        for (size_t i = 0; i < t->count; i++) g.param[p][i] = t->data[i];
    }
    if (ref_gru_forward(&g, c->B, c->T, x, h0, c->lengths, out, h_n, &tape) != 0) {
        note(r, "%s: ref_gru_forward failed", c->file);
        goto done;
    }
    have_tape = 1;
    compare_double(r, c, "out (reference)", out, c->out);
    compare_double(r, c, "h_n (reference)", h_n, c->h_n);
    ref_gru_zero_grad(&g);
    if (ref_gru_backward(&g, &tape, d_out, d_hn, dx, dh0) != 0) {
        note(r, "%s: ref_gru_backward failed", c->file);
        goto done;
    }
    compare_double(r, c, "grad_x (reference)", dx, c->grad_x);
    compare_double(r, c, "grad_h0 (reference)", dh0, c->grad_h0);
    for (size_t p = 0; p < g.num_params; p++) {
        char what[64];
        const golden_tensor *t = param_tensor(r, c, "grad_", g.name[p], g.ndim[p], g.shape[p]);
        if (!t) continue;
        snprintf(what, sizeof what, "grad_%s (reference)", g.name[p]);
        compare_double(r, c, what, g.grad[p], t);
    }
done:
    if (have_tape) ref_gru_tape_free(&tape);
    if (have_g) ref_gru_free(&g);
    free(x);
    free(h0);
    free(d_out);
    free(d_hn);
    free(out);
    free(h_n);
    free(dx);
    free(dh0);
}

START_TEST(reference_gru_matches_torch)
{
    report r;
    golden_case c;
    r.len = 0;
    r.text[0] = '\0';
    r.failures = 0;
    if (case_load(&r, &c, golden_files[_i]) == 0) check_reference(&r, &c);
    case_free(&c);
    ck_assert_msg(r.failures == 0, "%d failure(s):\n%s", r.failures, r.text);
}
END_TEST

/* ---- the reader ---------------------------------------------------------- */

START_TEST(golden_reader_refuses_malformed_text)
{
    static const char *const bad[] = {
        "",
        "# only a comment\n",
        "format grugan_golden 2\nend\n",
        "config a 1\nformat grugan_golden 1\nend\n",
        "format grugan_golden 1\n",                                  /* no end */
        "format grugan_golden 1\nend\nend\n",                        /* after end */
        "format grugan_golden 1\nwhat 1\nend\n",                     /* unknown directive */
        "format grugan_golden 1\nconfig a\nend\n",                   /* no value */
        "format grugan_golden 1\nconfig a 1.5\nend\n",               /* not an integer */
        "format grugan_golden 1\nconfig a 1\nconfig a 2\nend\n",     /* duplicate */
        "format grugan_golden 1\ntensor x 1 3\n1 2\nend\n",          /* too few */
        "format grugan_golden 1\ntensor x 1 3\n1 2\n",               /* truncated */
        "format grugan_golden 1\ntensor x 1 3\n1 2 3 4\nend\n",      /* too many */
        "format grugan_golden 1\ntensor x 1 3\n1 nan 3\nend\n",      /* not finite */
        "format grugan_golden 1\ntensor x 1 3\n1 1e39 3\nend\n",     /* overflows float */
        "format grugan_golden 1\ntensor x 1 3\n1 2x 3\nend\n",       /* junk */
        "format grugan_golden 1\ntensor x 0\nend\n",                 /* no dimension */
        "format grugan_golden 1\ntensor x 5 1 1 1 1 1\n1\nend\n",    /* too many dims */
        "format grugan_golden 1\ntensor x 1 0\nend\n",               /* empty */
        "format grugan_golden 1\ntensor x 1 -3\nend\n",              /* negative */
        "format grugan_golden 1\ntensor x 2 3\n1 2 3\nend\n",        /* missing dim */
        "format grugan_golden 1\ntensor x 4 4096 4096 4096 4096\n1\nend\n", /* too large */
        "format grugan_golden 1\ntensor x 1 99999999999999999999\nend\n",
        "format grugan_golden 1\ntensor x 1 1\n1\ntensor x 1 1\n2\nend\n", /* duplicate */
        "format grugan_golden 1\ntensor x-y 1 1\n1\nend\n",          /* bad name */
    };
    const char good[] = "format grugan_golden 1\n# comment\n\nconfig lengths 3 -1\n"
                        "tensor w 2 2 3\n1 2 3\n4 5e-3\n-6.5\nend\n";
    const char nul[] = "format grugan_golden 1\n\0end\n";
    golden_file g;
    char err[256];
    long v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = golden_parse(bad[i], strlen(bad[i]), &g, err, sizeof err);
        ck_assert_msg(rc == -1, "accepted case %zu", i);
        ck_assert_int_gt((int)strlen(err), 0);
        ck_assert(g.n_tensors == 0 && g.n_configs == 0 && !g.tensors && !g.configs);
        golden_free(&g);
    }
    ck_assert_int_eq(golden_parse(nul, sizeof nul - 1, &g, err, sizeof err), -1);
    ck_assert_int_eq(golden_load(GOLDEN_DIR "README.md", &g, err, sizeof err), -1);
    ck_assert_int_eq(golden_load(GOLDEN_DIR "no-such-file.txt", &g, NULL, 0), -1);

    ck_assert_int_eq(golden_parse(good, sizeof good - 1, &g, err, sizeof err), 0);
    ck_assert_uint_eq(g.n_tensors, 1);
    ck_assert_uint_eq(g.tensors[0].count, 6);
    ck_assert_uint_eq(g.tensors[0].shape[1], 3);
    ck_assert(g.tensors[0].data[4] == 5e-3f && g.tensors[0].data[5] == -6.5f);
    ck_assert_ptr_nonnull(golden_config_find(&g, "lengths"));
    ck_assert_int_eq(golden_config_find(&g, "lengths")->values[1], -1);
    ck_assert_int_eq(golden_config_int(&g, "lengths", &v), -1); /* two values */
    ck_assert_ptr_null(golden_find(&g, "x"));
    golden_free(&g);
    golden_free(&g);
}
END_TEST

Suite *suite_gru_golden(void)
{
    Suite *s = suite_create("gru_golden");
    TCase *tc = tcase_create("gru_golden");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, golden_reader_refuses_malformed_text);
    tcase_add_loop_test(tc, reference_gru_matches_torch, 0, (int)N_GOLDEN_FILES);
    tcase_add_test(tc, gru_matches_torch_a_single_layer);
    tcase_add_test(tc, gru_matches_torch_b_bidirectional_with_h0);
    tcase_add_test(tc, gru_matches_torch_c_variable_lengths);
    tcase_add_test(tc, gru_matches_torch_d_bidirectional_variable_lengths);
    tcase_add_test(tc, gru_matches_torch_e_timegan_size);
    suite_add_tcase(s, tc);
    return s;
}
