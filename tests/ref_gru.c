/* ref_gru.c - naive double-precision GRU forward and BPTT (see ref_gru.h). */
#include "ref_gru.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-step scratch of one sequence, all of length H unless noted. */
typedef struct scratch {
    double *ax;  /* (3H) W_ih x + b_ih */
    double *ah;  /* (3H) W_hh h + b_hh (reset before: rows n use r*h) */
    double *r, *z, *n;
    double *ahn; /* recurrent part of the n pre-activation, W_hn h + b_hn or W_hn (r*h) + b_hn */
    double *s;   /* r * h (reset before) */
    double *h;   /* state being carried */
    double *dh;  /* gradient of the state being carried */
    double *dhp; /* gradient of the previous state */
    double *dgx; /* (3H) gradient of ax */
    double *dgh; /* (3H) gradient of ah */
    double *ds;  /* gradient of r * h (reset before) */
    double *hnew; /* state after the step */
    double *block;
} scratch;

static int scratch_init(scratch *w, size_t H)
{
    /* ax, ah, dgx, dgh (3H each) and 10 vectors of H */
    const size_t units = 4 * 3 + 10;
    w->block = calloc(units * H, sizeof(double));
    if (!w->block) return -1;
    w->ax = w->block;
    w->ah = w->ax + 3 * H;
    w->r = w->ah + 3 * H;
    w->z = w->r + H;
    w->n = w->z + H;
    w->ahn = w->n + H;
    w->s = w->ahn + H;
    w->h = w->s + H;
    w->dh = w->h + H;
    w->dhp = w->dh + H;
    w->ds = w->dhp + H;
    w->hnew = w->ds + H;
    w->dgx = w->hnew + H;
    w->dgh = w->dgx + 3 * H;
    return 0;
}

static double sigmoid(double a) { return 1.0 / (1.0 + exp(-a)); }

static size_t layer_in(const ref_gru *g, size_t l) { return l == 0 ? g->I : g->D * g->H; }

size_t ref_gru_index(const ref_gru *g, size_t l, size_t d, int k)
{
    return 4 * (l * g->D + d) + (size_t)k;
}

int ref_gru_init(ref_gru *g, size_t I, size_t H, size_t L, int bidirectional, int reset_before)
{
    static const char *const kinds[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    memset(g, 0, sizeof *g);
    if (I == 0 || H == 0 || L == 0 || L > REF_GRU_MAX_LAYERS) return -1;
    g->I = I;
    g->H = H;
    g->L = L;
    g->D = bidirectional ? 2 : 1;
    g->reset_before = reset_before ? 1 : 0;
    g->num_params = 4 * L * g->D;
    for (size_t l = 0; l < L; l++)
        for (size_t d = 0; d < g->D; d++)
            for (int k = 0; k < 4; k++) {
                const size_t i = ref_gru_index(g, l, d, k);
                snprintf(g->name[i], sizeof g->name[i], "%s_l%zu%s", kinds[k], l,
                         d ? "_reverse" : "");
                g->ndim[i] = k < 2 ? 2 : 1;
                g->shape[i][0] = 3 * H;
                g->shape[i][1] = k == REF_W_IH ? layer_in(g, l) : k == REF_W_HH ? H : 0;
                g->numel[i] = 3 * H * (k < 2 ? g->shape[i][1] : 1);
                g->param[i] = calloc(g->numel[i], sizeof(double));
                g->grad[i] = calloc(g->numel[i], sizeof(double));
                if (!g->param[i] || !g->grad[i]) {
                    ref_gru_free(g);
                    return -1;
                }
            }
    return 0;
}

void ref_gru_free(ref_gru *g)
{
    for (size_t i = 0; i < REF_GRU_MAX_PARAMS; i++) {
        free(g->param[i]);
        free(g->grad[i]);
        g->param[i] = g->grad[i] = NULL;
    }
}

int ref_gru_find(const ref_gru *g, const char *name)
{
    for (size_t i = 0; i < g->num_params; i++)
        if (strcmp(g->name[i], name) == 0) return (int)i;
    return -1;
}

size_t ref_gru_num_scalars(const ref_gru *g)
{
    size_t n = 0;
    for (size_t i = 0; i < g->num_params; i++) n += g->numel[i];
    return n;
}

void ref_gru_zero_grad(ref_gru *g)
{
    for (size_t i = 0; i < g->num_params; i++) memset(g->grad[i], 0, g->numel[i] * sizeof(double));
}

/*
 * One step of layer l, direction d for one sequence; reads w->h (H) and x
 * (in_l), leaves the gates in w and the new state in hnew (H):
 *   ax = W_ih x + b_ih                                  (3H), rows r, z, n
 *   ah = W_hh h + b_hh                                  (3H)
 *   r  = sigmoid(ax_r + ah_r)
 *   z  = sigmoid(ax_z + ah_z)
 *   reset after:  ahn = ah_n = W_hn h + b_hn,           n = tanh(ax_n + r * ahn)
 *   reset before: ahn = W_hn (r * h) + b_hn,            n = tanh(ax_n + ahn)
 *   h' = (1 - z) * n + z * h
 */
static void cell_forward(const ref_gru *g, size_t l, size_t d, const double *x, scratch *w,
                         double *hnew)
{
    const size_t H = g->H, in = layer_in(g, l);
    const double *W_ih = g->param[ref_gru_index(g, l, d, REF_W_IH)]; /* (3H, in) */
    const double *W_hh = g->param[ref_gru_index(g, l, d, REF_W_HH)]; /* (3H, H) */
    const double *b_ih = g->param[ref_gru_index(g, l, d, REF_B_IH)]; /* (3H) */
    const double *b_hh = g->param[ref_gru_index(g, l, d, REF_B_HH)]; /* (3H) */
    const double *h = w->h;

    for (size_t i = 0; i < 3 * H; i++) {
        double a = b_ih[i];
        for (size_t c = 0; c < in; c++) a += W_ih[i * in + c] * x[c];
        w->ax[i] = a;
    }
    /* rows r and z of the recurrent product, the same in both conventions */
    for (size_t i = 0; i < 2 * H; i++) {
        double a = b_hh[i];
        for (size_t c = 0; c < H; c++) a += W_hh[i * H + c] * h[c];
        w->ah[i] = a;
    }
    for (size_t j = 0; j < H; j++) {
        w->r[j] = sigmoid(w->ax[j] + w->ah[j]);
        w->z[j] = sigmoid(w->ax[H + j] + w->ah[H + j]);
        w->s[j] = w->r[j] * h[j];
    }
    /* row n: W_hn applied to h (reset after) or to r * h (reset before) */
    for (size_t j = 0; j < H; j++) {
        const double *v = g->reset_before ? w->s : h;
        double a = b_hh[2 * H + j];
        for (size_t c = 0; c < H; c++) a += W_hh[(2 * H + j) * H + c] * v[c];
        w->ah[2 * H + j] = a;
        w->ahn[j] = a;
    }
    for (size_t j = 0; j < H; j++) {
        const double pre = g->reset_before ? w->ax[2 * H + j] + w->ahn[j]
                                           : w->ax[2 * H + j] + w->r[j] * w->ahn[j];
        w->n[j] = tanh(pre);
        hnew[j] = (1.0 - w->z[j]) * w->n[j] + w->z[j] * h[j];
    }
}

/*
 * Backward of one step after cell_forward (gates in w, state before the step
 * in w->h), given w->dh = dL/dh' (H). Accumulates the parameter gradients,
 * adds W_ih^T dgx into dxin (in_l) and leaves dL/dh in w->dhp (H):
 *   dn  = dh' * (1 - z)          dz  = dh' * (h - n)        dh = dh' * z + ...
 *   dan = dn * (1 - n^2)         daz = dz * z * (1 - z)
 *   reset after:
 *     dar = dan * ahn * r * (1 - r)
 *     dgx = [dar, daz, dan]      dgh = [dar, daz, dan * r]
 *     dW_hh += dgh h^T           dh += W_hh^T dgh
 *   reset before (s = r * h):
 *     ds  = W_hn^T dan           dar = ds * h * r * (1 - r)   dh += ds * r
 *     dgx = [dar, daz, dan]      dgh = [dar, daz, dan]
 *     dW_h{r,z} += dgh_{r,z} h^T dW_hn += dan s^T   dh += W_h{r,z}^T dgh_{r,z}
 *   db_hh += dgh   dW_ih += dgx x^T   db_ih += dgx   dx += W_ih^T dgx
 */
static void cell_backward(ref_gru *g, size_t l, size_t d, const double *x, scratch *w,
                          double *dxin)
{
    const size_t H = g->H, in = layer_in(g, l);
    const double *W_ih = g->param[ref_gru_index(g, l, d, REF_W_IH)]; /* (3H, in) */
    const double *W_hh = g->param[ref_gru_index(g, l, d, REF_W_HH)]; /* (3H, H) */
    double *dW_ih = g->grad[ref_gru_index(g, l, d, REF_W_IH)];       /* (3H, in) */
    double *dW_hh = g->grad[ref_gru_index(g, l, d, REF_W_HH)];       /* (3H, H) */
    double *db_ih = g->grad[ref_gru_index(g, l, d, REF_B_IH)];       /* (3H) */
    double *db_hh = g->grad[ref_gru_index(g, l, d, REF_B_HH)];       /* (3H) */
    const double *h = w->h;

    for (size_t j = 0; j < H; j++) {
        const double dn = w->dh[j] * (1.0 - w->z[j]);
        const double dz = w->dh[j] * (h[j] - w->n[j]);
        const double dan = dn * (1.0 - w->n[j] * w->n[j]);
        const double daz = dz * w->z[j] * (1.0 - w->z[j]);
        w->dhp[j] = w->dh[j] * w->z[j];
        w->dgx[H + j] = daz;
        w->dgx[2 * H + j] = dan;
        w->dgh[H + j] = daz;
    }
    if (!g->reset_before) {
        for (size_t j = 0; j < H; j++) {
            const double dan = w->dgx[2 * H + j];
            const double dar = dan * w->ahn[j] * w->r[j] * (1.0 - w->r[j]);
            w->dgx[j] = dar;
            w->dgh[j] = dar;
            w->dgh[2 * H + j] = dan * w->r[j];
        }
        for (size_t i = 0; i < 3 * H; i++)
            for (size_t c = 0; c < H; c++) {
                dW_hh[i * H + c] += w->dgh[i] * h[c];
                w->dhp[c] += W_hh[i * H + c] * w->dgh[i];
            }
    } else {
        for (size_t c = 0; c < H; c++) {
            double a = 0;
            for (size_t j = 0; j < H; j++) a += W_hh[(2 * H + j) * H + c] * w->dgx[2 * H + j];
            w->ds[c] = a;
        }
        for (size_t j = 0; j < H; j++) {
            const double dar = w->ds[j] * h[j] * w->r[j] * (1.0 - w->r[j]);
            w->dgx[j] = dar;
            w->dgh[j] = dar;
            w->dgh[2 * H + j] = w->dgx[2 * H + j];
            w->dhp[j] += w->ds[j] * w->r[j];
        }
        for (size_t i = 0; i < 3 * H; i++) {
            const double *v = i < 2 * H ? h : w->s;
            for (size_t c = 0; c < H; c++) dW_hh[i * H + c] += w->dgh[i] * v[c];
        }
        for (size_t i = 0; i < 2 * H; i++)
            for (size_t c = 0; c < H; c++) w->dhp[c] += W_hh[i * H + c] * w->dgh[i];
    }
    for (size_t i = 0; i < 3 * H; i++) {
        db_hh[i] += w->dgh[i];
        db_ih[i] += w->dgx[i];
        for (size_t c = 0; c < in; c++) {
            dW_ih[i * in + c] += w->dgx[i] * x[c];
            dxin[c] += W_ih[i * in + c] * w->dgx[i];
        }
    }
}

void ref_gru_tape_free(ref_gru_tape *tape)
{
    free(tape->len);
    for (size_t i = 0; i < REF_GRU_MAX_LAYERS; i++) free(tape->in[i]);
    for (size_t i = 0; i < 2 * REF_GRU_MAX_LAYERS; i++) free(tape->hprev[i]);
    memset(tape, 0, sizeof *tape);
}

/* Step s (0 .. len-1) of direction d visits time t: forward 0, 1, ...,
 * len-1; reverse len-1, ..., 0 (a packed sequence's reverse pass starts at
 * its own last valid step). */
static size_t step_time(size_t d, size_t s, size_t len) { return d == 0 ? s : len - 1 - s; }

int ref_gru_forward(const ref_gru *g, size_t B, size_t T, const double *x, const double *h0,
                    const size_t *lengths, double *out, double *h_n, ref_gru_tape *tape)
{
    const size_t H = g->H, D = g->D, DH = D * H;
    double *prev = NULL; /* (B, T, D*H) output of the layer below */
    double *y = NULL;    /* (B, T, D*H) output of this layer */
    scratch w;
    if (tape) memset(tape, 0, sizeof *tape);
    for (size_t b = 0; lengths && b < B; b++)
        if (lengths[b] < 1 || lengths[b] > T) return -1;
    if (scratch_init(&w, H)) return -1;
    if (tape) {
        tape->B = B;
        tape->T = T;
        tape->len = malloc(B * sizeof(size_t));
        if (!tape->len) goto fail;
        for (size_t b = 0; b < B; b++) tape->len[b] = lengths ? lengths[b] : T;
    }
    for (size_t l = 0; l < g->L; l++) {
        const size_t in_l = layer_in(g, l);
        const double *in = l == 0 ? x : prev; /* (B, T, in_l) */
        y = calloc(B * T * DH, sizeof(double));
        if (!y) goto fail;
        if (tape) {
            tape->in[l] = malloc(B * T * in_l * sizeof(double));
            if (!tape->in[l]) goto fail;
            memcpy(tape->in[l], in, B * T * in_l * sizeof(double));
        }
        for (size_t d = 0; d < D; d++) {
            const size_t p = l * D + d;
            if (tape) {
                tape->hprev[p] = calloc(B * T * H, sizeof(double));
                if (!tape->hprev[p]) goto fail;
            }
            for (size_t b = 0; b < B; b++) {
                const size_t len = lengths ? lengths[b] : T;
                for (size_t j = 0; j < H; j++) w.h[j] = h0 ? h0[(p * B + b) * H + j] : 0.0;
                for (size_t s = 0; s < len; s++) {
                    const size_t t = step_time(d, s, len);
                    double *yt = y + (b * T + t) * DH + d * H; /* (H) */
                    if (tape) memcpy(tape->hprev[p] + (b * T + t) * H, w.h, H * sizeof(double));
                    cell_forward(g, l, d, in + (b * T + t) * in_l, &w, yt);
                    memcpy(w.h, yt, H * sizeof(double));
                }
                if (h_n) memcpy(h_n + (p * B + b) * H, w.h, H * sizeof(double));
            }
        }
        free(prev);
        prev = y;
        y = NULL;
    }
    memcpy(out, prev, B * T * DH * sizeof(double));
    free(prev);
    free(w.block);
    return 0;
fail:
    free(prev);
    free(y);
    free(w.block);
    if (tape) ref_gru_tape_free(tape);
    return -1;
}

int ref_gru_backward(ref_gru *g, const ref_gru_tape *tape, const double *d_out,
                     const double *d_hn, double *dx, double *dh0)
{
    const size_t H = g->H, D = g->D, DH = D * H, B = tape->B, T = tape->T;
    double *dy = calloc(B * T * DH, sizeof(double)); /* (B, T, D*H) dL/d output of layer l */
    double *din = NULL;                              /* (B, T, in_l) dL/d input of layer l */
    scratch w;
    if (!dy || scratch_init(&w, H)) {
        free(dy);
        return -1;
    }
    if (d_out) memcpy(dy, d_out, B * T * DH * sizeof(double));
    for (size_t l = g->L; l-- > 0;) {
        const size_t in_l = layer_in(g, l);
        din = calloc(B * T * in_l, sizeof(double));
        if (!din) {
            free(dy);
            free(w.block);
            return -1;
        }
        for (size_t d = 0; d < D; d++) {
            const size_t p = l * D + d;
            for (size_t b = 0; b < B; b++) {
                const size_t len = tape->len[b];
                /* dL/dh at the last step: d_hn; earlier steps get it from later ones */
                for (size_t j = 0; j < H; j++) w.dh[j] = d_hn ? d_hn[(p * B + b) * H + j] : 0.0;
                for (size_t s = len; s-- > 0;) {
                    const size_t t = step_time(d, s, len);
                    const double *xt = tape->in[l] + (b * T + t) * in_l; /* (in_l) */
                    for (size_t j = 0; j < H; j++) w.dh[j] += dy[(b * T + t) * DH + d * H + j];
                    memcpy(w.h, tape->hprev[p] + (b * T + t) * H, H * sizeof(double));
                    cell_forward(g, l, d, xt, &w, w.hnew);
                    cell_backward(g, l, d, xt, &w, din + (b * T + t) * in_l);
                    memcpy(w.dh, w.dhp, H * sizeof(double));
                }
                if (dh0) memcpy(dh0 + (p * B + b) * H, w.dh, H * sizeof(double));
            }
        }
        free(dy);
        dy = din;
        din = NULL;
    }
    /* after layer 0, dy holds dL/dx (B, T, I) */
    if (dx) memcpy(dx, dy, B * T * g->I * sizeof(double));
    free(dy);
    free(w.block);
    return 0;
}

void ref_rng_seed(ref_rng *rng, uint64_t seed) { rng->state = seed; }

/* splitmix64 (Steele, Lea, Flood 2014) */
static uint64_t ref_rng_next(ref_rng *rng)
{
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

double ref_rng_uniform(ref_rng *rng, double lo, double hi)
{
    const double u = (double)(ref_rng_next(rng) >> 11) * 0x1.0p-53; /* [0, 1) */
    return lo + (hi - lo) * u;
}

void ref_rng_fill(ref_rng *rng, double *dst, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) dst[i] = (double)(float)ref_rng_uniform(rng, lo, hi);
}

void ref_gru_randomize(ref_gru *g, ref_rng *rng, double scale)
{
    for (size_t i = 0; i < g->num_params; i++)
        ref_rng_fill(rng, g->param[i], g->numel[i], -scale, scale);
}
