/* test_discriminator.c - grugan_discriminator_*, both kinds: logits,
 * features and gradients against a double-precision reference built from
 * ref_gru and ref_layers, central differences on the reference and on the
 * float model, input-only backward, lengths, thread counts, parameters,
 * failures, allocation. */
#include "suites.h"
#include "test_util.h"

#include "grugan.h"
#include "ref_gru.h"
#include "ref_layers.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------- */

static const float SENTINEL = -12345.5f;

#define EXPECT_FAIL(d, call, want)                                                         \
    do {                                                                                   \
        ck_assert_int_eq((call), (want));                                                  \
        ck_assert_msg(grugan_discriminator_message(d)[0] != '\0', "no message after %s",   \
                      #call);                                                              \
    } while (0)

static size_t tensor_index(grugan_params *p, const char *name)
{
    size_t idx = 0;
    ck_assert_msg(grugan_params_find(p, name, &idx) == GRUGAN_OK, "no tensor %s", name);
    return idx;
}

static size_t tensor_numel(grugan_params *p, size_t idx)
{
    size_t ndim, shape[GRUGAN_MAX_DIMS], n = 1;
    ck_assert_int_eq(grugan_params_info(p, idx, NULL, &ndim, shape), GRUGAN_OK);
    for (size_t i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

/* Up to `most` element indices spread over a tensor of n. */
static size_t sample_indices(size_t n, size_t most, size_t *idx)
{
    size_t k = n < most ? n : most;
    for (size_t i = 0; i < k; i++) idx[i] = (i * n) / k + (n / k) / 2;
    return k;
}

/* ------------------------------------------------------------------------- */
/* A configuration and its float model                                       */
/* ------------------------------------------------------------------------- */

typedef struct dcfg {
    int kind;
    size_t F, C;
    /* GRU */
    size_t H, L;
    int bi, conv, logits, use_len;
    /* CONV1D */
    size_t n_conv, ch, K, S, P; /* P as in the config: 0 default, GRUGAN_CONV_NO_PADDING */
    float slope;
    size_t B, T;
} dcfg;

#define NOPAD GRUGAN_CONV_NO_PADDING

static grugan_discriminator *disc_new_ctx(grugan_context *ctx, const dcfg *c, uint64_t seed)
{
    grugan_discriminator_config cfg = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_discriminator *d = NULL;
    grugan_error err;
    cfg.kind = c->kind;
    cfg.input_size = c->F;
    cfg.condition_size = c->C;
    cfg.hidden_size = c->H;
    cfg.num_layers = c->L;
    cfg.bidirectional = c->bi;
    cfg.convention = c->conv;
    cfg.logits = c->logits;
    if (c->kind == GRUGAN_DISC_CONV1D) cfg.sequence_length = c->T;
    cfg.conv_layers = c->n_conv;
    cfg.channels = c->ch;
    cfg.kernel_size = c->K;
    cfg.stride = c->S;
    cfg.padding = c->P;
    cfg.leaky_slope = c->slope;
    cfg.seed = seed;
    ck_assert_msg(grugan_discriminator_create(ctx, &cfg, &d, &err) == GRUGAN_OK, "create: %s",
                  err.message);
    return d;
}

static grugan_discriminator *disc_new(const dcfg *c, uint64_t seed)
{
    return disc_new_ctx(NULL, c, seed);
}

/* ------------------------------------------------------------------------- */
/* The double-precision reference discriminator                              */
/* ------------------------------------------------------------------------- */

#define REF_MAX_CONV 4

typedef struct ref_disc {
    dcfg c;
    size_t I, D, feat_in;
    ref_gru gru;                            /* GRU kind */
    ref_conv1d_dims dims[REF_MAX_CONV];     /* CONV1D kind, B filled at run time */
    size_t t_out[REF_MAX_CONV];
    double *cw[REF_MAX_CONV], *cb[REF_MAX_CONV];   /* (ch, C_in, K), (ch) */
    double *dcw[REF_MAX_CONV], *dcb[REF_MAX_CONV]; /* gradients (overwritten) */
    double slope;
    double *W, *b, *dW, *db; /* head (1, feat_in), (1) */
} ref_disc;

static void read_tensor_d(grugan_params *p, const char *name, double *dst, size_t n)
{
    const size_t idx = tensor_index(p, name);
    float *tmp = falloc(n);
    ck_assert_uint_eq(tensor_numel(p, idx), n);
    ck_assert_int_eq(grugan_params_read(p, idx, tmp, n), GRUGAN_OK);
    for (size_t i = 0; i < n; i++) dst[i] = tmp[i];
    free(tmp);
}

static void ref_disc_load(ref_disc *r, const dcfg *c, grugan_discriminator *d)
{
    grugan_params *p = grugan_discriminator_params(d);
    memset(r, 0, sizeof *r);
    r->c = *c;
    r->I = c->F + c->C;
    if (c->kind == GRUGAN_DISC_GRU) {
        r->D = c->bi ? 2 : 1;
        r->feat_in = r->D * c->H;
        ck_assert_int_eq(ref_gru_init(&r->gru, r->I, c->H, c->L, c->bi, c->conv), 0);
        for (size_t i = 0; i < r->gru.num_params; i++) {
            char name[64];
            snprintf(name, sizeof name, "gru.%s", r->gru.name[i]);
            read_tensor_d(p, name, r->gru.param[i], r->gru.numel[i]);
        }
    } else {
        size_t t = c->T;
        ck_assert_uint_le(c->n_conv, REF_MAX_CONV);
        r->slope = c->slope;
        for (size_t k = 0; k < c->n_conv; k++) {
            ref_conv1d_dims *dm = &r->dims[k];
            char name[64];
            size_t nw;
            dm->T = t;
            dm->C_in = k ? c->ch : r->I;
            dm->C_out = c->ch;
            dm->K = c->K;
            dm->S = c->S;
            dm->P = c->P == NOPAD ? 0 : c->P ? c->P : c->K / 2;
            dm->B = 1;
            r->t_out[k] = t = ref_conv1d_out_len(dm);
            ck_assert_uint_gt(t, 0);
            nw = dm->C_out * dm->C_in * dm->K;
            r->cw[k] = dalloc(nw);
            r->dcw[k] = dalloc(nw);
            r->cb[k] = dalloc(c->ch);
            r->dcb[k] = dalloc(c->ch);
            snprintf(name, sizeof name, "conv.%zu.weight", k);
            read_tensor_d(p, name, r->cw[k], nw);
            snprintf(name, sizeof name, "conv.%zu.bias", k);
            read_tensor_d(p, name, r->cb[k], c->ch);
        }
        r->feat_in = t * c->ch;
    }
    r->W = dalloc(r->feat_in);
    r->dW = dalloc(r->feat_in);
    r->b = dalloc(1);
    r->db = dalloc(1);
    read_tensor_d(p, "head.weight", r->W, r->feat_in);
    read_tensor_d(p, "head.bias", r->b, 1);
}

static void ref_disc_free(ref_disc *r)
{
    if (r->c.kind == GRUGAN_DISC_GRU) ref_gru_free(&r->gru);
    for (size_t k = 0; k < REF_MAX_CONV; k++) {
        free(r->cw[k]);
        free(r->cb[k]);
        free(r->dcw[k]);
        free(r->dcb[k]);
    }
    free(r->W);
    free(r->dW);
    free(r->b);
    free(r->db);
}

static size_t ref_logits_per_seq(const ref_disc *r)
{
    return r->c.kind == GRUGAN_DISC_GRU && r->c.logits == GRUGAN_LOGITS_PER_STEP ? r->c.T : 1;
}

static size_t ref_feats_per_seq(const ref_disc *r)
{
    return r->c.kind == GRUGAN_DISC_GRU && r->c.logits == GRUGAN_LOGITS_PER_STEP
               ? r->c.T * r->feat_in
               : r->feat_in;
}

/*
 * Forward of the reference: logits (B, per_seq), feats (B, feats_per_seq).
 * With gl (d_logits) or gf (d_features) non-NULL (the other may be NULL),
 * also the gradients of sum(gl * logits) + sum(gf * feats): parameters into
 * the reference's grad arrays (overwritten), dx (B, T, F) if not NULL.
 */
static void ref_disc_run(ref_disc *r, const double *x, const double *cond, const size_t *len,
                         double *logits, double *feats, const double *gl, const double *gf,
                         double *dx)
{
    const dcfg *c = &r->c;
    const size_t B = c->B, T = c->T, I = r->I, nf = ref_feats_per_seq(r);
    const int grads = gl || gf;
    double *xin = dalloc(B * T * I), *dxin = dalloc(B * T * I), *dfeat = dalloc(B * nf);
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T; t++) {
            for (size_t k = 0; k < c->F; k++) xin[(b * T + t) * I + k] = x[(b * T + t) * c->F + k];
            for (size_t k = 0; k < c->C; k++) xin[(b * T + t) * I + c->F + k] = cond[b * c->C + k];
        }
    if (c->kind == GRUGAN_DISC_GRU) {
        const size_t H = c->H, D = r->D, L = c->L, DH = D * H;
        const int per_step = c->logits == GRUGAN_LOGITS_PER_STEP;
        double *out = dalloc(B * T * DH), *hn = dalloc(L * D * B * H);
        ref_gru_tape tape;
        ck_assert_int_eq(ref_gru_forward(&r->gru, B, T, xin, NULL, len, out, hn,
                                         grads ? &tape : NULL),
                         0);
        if (per_step) {
            memcpy(feats, out, B * T * DH * sizeof *feats);
            for (size_t b = 0; b < B; b++)
                for (size_t t = 0; t < T; t++) {
                    double s = r->b[0];
                    for (size_t j = 0; j < DH; j++) s += r->W[j] * out[(b * T + t) * DH + j];
                    logits[b * T + t] = (!len || t < len[b]) ? s : 0.0;
                }
        } else {
            for (size_t b = 0; b < B; b++)
                for (size_t dir = 0; dir < D; dir++)
                    for (size_t j = 0; j < H; j++)
                        feats[b * DH + dir * H + j] = hn[(((L - 1) * D + dir) * B + b) * H + j];
            for (size_t b = 0; b < B; b++) {
                double s = r->b[0];
                for (size_t j = 0; j < DH; j++) s += r->W[j] * feats[b * DH + j];
                logits[b] = s;
            }
        }
        if (grads) {
            const size_t rows = per_step ? B * T : B;
            r->db[0] = 0;
            memset(r->dW, 0, DH * sizeof *r->dW);
            for (size_t i = 0; i < B * nf; i++) dfeat[i] = gf ? gf[i] : 0.0;
            for (size_t row = 0; row < rows; row++) {
                const size_t b = per_step ? row / T : row, t = per_step ? row % T : 0;
                const double g = gl ? gl[row] : 0.0;
                if (per_step && len && t >= len[b]) {
                    /* past the length: logits and features are constants */
                    for (size_t j = 0; j < DH; j++) dfeat[row * DH + j] = 0.0;
                    continue;
                }
                r->db[0] += g;
                for (size_t j = 0; j < DH; j++) {
                    r->dW[j] += g * feats[row * DH + j];
                    dfeat[row * DH + j] += g * r->W[j];
                }
            }
            ref_gru_zero_grad(&r->gru);
            if (per_step) {
                ck_assert_int_eq(ref_gru_backward(&r->gru, &tape, dfeat, NULL, dxin, NULL), 0);
            } else {
                double *dhn = dalloc(L * D * B * H);
                for (size_t b = 0; b < B; b++)
                    for (size_t dir = 0; dir < D; dir++)
                        for (size_t j = 0; j < H; j++)
                            dhn[(((L - 1) * D + dir) * B + b) * H + j] = dfeat[b * DH + dir * H + j];
                ck_assert_int_eq(ref_gru_backward(&r->gru, &tape, NULL, dhn, dxin, NULL), 0);
                free(dhn);
            }
            ref_gru_tape_free(&tape);
        }
        free(out);
        free(hn);
    } else {
        const size_t n = c->n_conv, ch = c->ch, T_out = r->t_out[n - 1];
        double *pre[REF_MAX_CONV], *act[REF_MAX_CONV];
        const double *in = xin;
        for (size_t k = 0; k < n; k++) {
            ref_conv1d_dims dm = r->dims[k];
            const size_t m = B * r->t_out[k] * ch;
            dm.B = B;
            pre[k] = dalloc(m);
            act[k] = dalloc(m);
            ref_conv1d_forward(pre[k], in, r->cw[k], r->cb[k], &dm);
            for (size_t i = 0; i < m; i++) act[k][i] = ref_act(REF_ACT_LEAKY_RELU, pre[k][i], r->slope);
            in = act[k];
        }
        for (size_t b = 0; b < B; b++)
            for (size_t t = 0; t < T_out; t++)
                for (size_t o = 0; o < ch; o++)
                    feats[b * r->feat_in + o * T_out + t] = act[n - 1][(b * T_out + t) * ch + o];
        ref_linear_forward(logits, feats, r->W, r->b, B, r->feat_in, 1);
        if (grads) {
            double *gl0 = dalloc(B), *da;
            for (size_t b = 0; b < B; b++) gl0[b] = gl ? gl[b] : 0.0;
            ref_linear_backward(dfeat, r->dW, r->db, gl0, feats, r->W, B, r->feat_in, 1);
            if (gf)
                for (size_t i = 0; i < B * nf; i++) dfeat[i] += gf[i];
            da = dalloc(B * T_out * ch);
            for (size_t b = 0; b < B; b++)
                for (size_t t = 0; t < T_out; t++)
                    for (size_t o = 0; o < ch; o++)
                        da[(b * T_out + t) * ch + o] = dfeat[b * r->feat_in + o * T_out + t];
            for (size_t k = n; k-- > 0;) {
                ref_conv1d_dims dm = r->dims[k];
                const size_t m = B * r->t_out[k] * ch;
                double *din = k ? dalloc(B * dm.T * dm.C_in) : dxin;
                dm.B = B;
                for (size_t i = 0; i < m; i++)
                    da[i] *= ref_act_grad(REF_ACT_LEAKY_RELU, pre[k][i], r->slope);
                ref_conv1d_backward(din, r->dcw[k], r->dcb[k], da, k ? act[k - 1] : xin,
                                    r->cw[k], &dm);
                free(da);
                da = din;
            }
            free(gl0);
        }
        for (size_t k = 0; k < n; k++) {
            free(pre[k]);
            free(act[k]);
        }
    }
    if (grads && dx)
        for (size_t b = 0; b < B; b++)
            for (size_t t = 0; t < T; t++)
                for (size_t k = 0; k < c->F; k++)
                    dx[(b * T + t) * c->F + k] = dxin[(b * T + t) * I + k];
    free(xin);
    free(dxin);
    free(dfeat);
}

/* The reference's tensor called `name` and its gradient. */
static void ref_tensor(ref_disc *r, const char *name, double **param, double **grad, size_t *n)
{
    size_t k;
    char tail[16];
    if (strcmp(name, "head.weight") == 0) {
        *param = r->W;
        *grad = r->dW;
        *n = r->feat_in;
    } else if (strcmp(name, "head.bias") == 0) {
        *param = r->b;
        *grad = r->db;
        *n = 1;
    } else if (sscanf(name, "conv.%zu.%15s", &k, tail) == 2) {
        const int w = strcmp(tail, "weight") == 0;
        ck_assert_uint_lt(k, r->c.n_conv);
        *param = w ? r->cw[k] : r->cb[k];
        *grad = w ? r->dcw[k] : r->dcb[k];
        *n = w ? r->dims[k].C_out * r->dims[k].C_in * r->dims[k].K : r->c.ch;
    } else {
        const int i = ref_gru_find(&r->gru, name + 4);
        ck_assert_msg(i >= 0 && strncmp(name, "gru.", 4) == 0, "unknown tensor %s", name);
        *param = r->gru.param[i];
        *grad = r->gru.grad[i];
        *n = r->gru.numel[i];
    }
}

/* ------------------------------------------------------------------------- */
/* A case: configuration, model, reference, data                             */
/* ------------------------------------------------------------------------- */

static const dcfg CASES[] = {
    /* kind F C  H L bi convention               logits                   len  conv: n ch K S P slope  B T */
    {GRUGAN_DISC_GRU, 3, 0, 4, 1, 0, GRUGAN_GRU_RESET_AFTER, GRUGAN_LOGITS_PER_STEP, 0, 0, 0, 0, 0, 0, 0, 3, 5},
    {GRUGAN_DISC_GRU, 2, 2, 3, 2, 1, GRUGAN_GRU_RESET_BEFORE, GRUGAN_LOGITS_PER_STEP, 1, 0, 0, 0, 0, 0, 0, 3, 4},
    {GRUGAN_DISC_GRU, 3, 1, 5, 2, 0, GRUGAN_GRU_RESET_AFTER, GRUGAN_LOGITS_FINAL, 1, 0, 0, 0, 0, 0, 0, 3, 5},
    {GRUGAN_DISC_GRU, 1, 0, 4, 3, 1, GRUGAN_GRU_RESET_AFTER, GRUGAN_LOGITS_FINAL, 0, 0, 0, 0, 0, 0, 0, 2, 3},
    {GRUGAN_DISC_GRU, 2, 1, 3, 1, 1, GRUGAN_GRU_RESET_AFTER, GRUGAN_LOGITS_FINAL, 1, 0, 0, 0, 0, 0, 0, 4, 4},
    {GRUGAN_DISC_CONV1D, 3, 0, 0, 0, 0, 0, 0, 0, 2, 4, 3, 2, 0, 0.2f, 2, 9},
    {GRUGAN_DISC_CONV1D, 2, 2, 0, 0, 0, 0, 0, 0, 3, 3, 3, 1, NOPAD, 0.1f, 3, 8},
    {GRUGAN_DISC_CONV1D, 1, 1, 0, 0, 0, 0, 0, 0, 1, 5, 2, 3, 0, 0.3f, 2, 6},
};
#define NUM_CASES (sizeof CASES / sizeof CASES[0])

typedef struct fixture {
    dcfg c;
    grugan_discriminator *d;
    ref_disc ref;
    size_t nx, nc, nl, nf;
    size_t len[8];
    float *x, *cond, *gl, *gf; /* (B, T, F), (B, C), (B, per_seq), (B, feats_per_seq) */
    double *xd, *condd, *gld, *gfd;
    char where[240];
} fixture;

static void fixture_init(fixture *f, const dcfg *c, uint64_t seed)
{
    ref_rng rng;
    memset(f, 0, sizeof *f);
    f->c = *c;
    snprintf(f->where, sizeof f->where,
             "kind=%d F=%zu C=%zu H=%zu L=%zu bi=%d convention=%d logits=%d lengths=%d "
             "conv %zu x %zu K=%zu S=%zu P=%lld slope=%g B=%zu T=%zu",
             c->kind, c->F, c->C, c->H, c->L, c->bi, c->conv, c->logits, c->use_len, c->n_conv,
             c->ch, c->K, c->S, c->P == NOPAD ? -1LL : (long long)c->P, (double)c->slope, c->B,
             c->T);
    ck_assert_uint_le(c->B, 8);
    f->d = disc_new(c, seed);
    ref_disc_load(&f->ref, c, f->d);
    f->nx = c->B * c->T * c->F;
    f->nc = c->B * c->C;
    f->nl = c->B * ref_logits_per_seq(&f->ref);
    f->nf = c->B * ref_feats_per_seq(&f->ref);
    ck_assert_uint_eq(grugan_discriminator_logit_count(f->d, c->T) * c->B, f->nl);
    ck_assert_uint_eq(grugan_discriminator_feature_count(f->d, c->T) * c->B, f->nf);
    for (size_t b = 0; b < c->B; b++) f->len[b] = (b * 5 + 2) % c->T + 1;
    ref_rng_seed(&rng, seed + 1000);
    f->x = frand(&rng, f->nx, -1, 1, &f->xd);
    f->cond = frand(&rng, f->nc, -1, 1, &f->condd);
    f->gl = frand(&rng, f->nl, -1, 1, &f->gld);
    f->gf = frand(&rng, f->nf, -1, 1, &f->gfd);
}

static void fixture_free(fixture *f)
{
    grugan_discriminator_free(f->d);
    ref_disc_free(&f->ref);
    free(f->x);
    free(f->cond);
    free(f->gl);
    free(f->gf);
    free(f->xd);
    free(f->condd);
    free(f->gld);
    free(f->gfd);
}

static const size_t *lens(const fixture *f)
{
    return f->c.use_len ? f->len : NULL;
}

static int fwd(fixture *f, float *logits)
{
    return grugan_discriminator_forward(f->d, f->c.B, f->c.T, f->x, f->c.C ? f->cond : NULL,
                                        lens(f), logits);
}

/* ------------------------------------------------------------------------- */
/* Numbers against the reference                                             */
/* ------------------------------------------------------------------------- */

#define TOL_FORWARD 3e-6
#define TOL_BACKWARD 2e-5

/* Forward, features, d_x and every parameter gradient against the
 * reference, for d_logits alone, d_features alone and both; INPUT_ONLY
 * gives the same d_x and leaves the gradients alone. */
START_TEST(forward_and_gradients_match_reference)
{
    const dcfg *c = &CASES[_i];
    fixture f;
    grugan_params *p;
    float *logits, *feats, *dx, *dx2, *grads, *grads2;
    double *lw, *fw, *dxw;
    size_t np;
    fixture_init(&f, c, 40 + (uint64_t)_i);
    p = grugan_discriminator_params(f.d);
    np = grugan_params_num_scalars(p);
    logits = falloc(f.nl);
    feats = falloc(f.nf);
    dx = falloc(f.nx);
    dx2 = falloc(f.nx);
    grads = falloc(np);
    grads2 = falloc(np);
    lw = dalloc(f.nl);
    fw = dalloc(f.nf);
    dxw = dalloc(f.nx);
    for (int mode = 0; mode < 3; mode++) {
        const float *gl = mode != 1 ? f.gl : NULL, *gf = mode != 0 ? f.gf : NULL;
        char where[300];
        snprintf(where, sizeof where, "%s, d_logits %d d_features %d", f.where, gl != NULL,
                 gf != NULL);
        fill(logits, f.nl, SENTINEL);
        fill(dx, f.nx, SENTINEL);
        ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
        ck_assert_int_eq(fwd(&f, logits), GRUGAN_OK);
        ck_assert_int_eq(grugan_discriminator_features(f.d, feats, f.nf), GRUGAN_OK);
        ck_assert_int_eq(grugan_discriminator_backward(f.d, gl, gf, dx, GRUGAN_BACKWARD_PARAMS),
                         GRUGAN_OK);
        ref_disc_run(&f.ref, f.xd, f.condd, lens(&f), lw, fw, gl ? f.gld : NULL,
                     gf ? f.gfd : NULL, dxw);
        assert_near(logits, lw, f.nl, TOL_FORWARD, "logits", where);
        assert_near(feats, fw, f.nf, TOL_FORWARD, "features", where);
        assert_near(dx, dxw, f.nx, TOL_BACKWARD, "d_x", where);
        for (size_t i = 0; i < grugan_params_count(p); i++) {
            const char *name;
            double *param, *grad;
            size_t n;
            float *got;
            ck_assert_int_eq(grugan_params_info(p, i, &name, NULL, NULL), GRUGAN_OK);
            ref_tensor(&f.ref, name, &param, &grad, &n);
            got = falloc(n);
            ck_assert_int_eq(grugan_params_grad_read(p, i, got, n), GRUGAN_OK);
            assert_near(got, grad, n, TOL_BACKWARD, name, where);
            free(got);
        }
        /* per-step logits past a length are exactly 0 */
        if (c->use_len && c->logits == GRUGAN_LOGITS_PER_STEP)
            for (size_t b = 0; b < c->B; b++)
                for (size_t t = f.len[b]; t < c->T; t++) ck_assert(logits[b * c->T + t] == 0.0f);

        /* INPUT_ONLY: the same d_x, gradients untouched */
        {
            size_t at = 0;
            for (size_t i = 0; i < grugan_params_count(p); i++) {
                const size_t n = tensor_numel(p, i);
                ck_assert_int_eq(grugan_params_grad_read(p, i, grads + at, n), GRUGAN_OK);
                at += n;
            }
            fill(dx2, f.nx, SENTINEL);
            ck_assert_int_eq(
                grugan_discriminator_backward(f.d, gl, gf, dx2, GRUGAN_BACKWARD_INPUT_ONLY),
                GRUGAN_OK);
            ck_assert_mem_eq(dx, dx2, f.nx * sizeof(float));
            ck_assert_int_eq(grugan_discriminator_backward(f.d, gl, gf, NULL,
                                                           GRUGAN_BACKWARD_INPUT_ONLY),
                             GRUGAN_OK);
            at = 0;
            for (size_t i = 0; i < grugan_params_count(p); i++) {
                const size_t n = tensor_numel(p, i);
                ck_assert_int_eq(grugan_params_grad_read(p, i, grads2 + at, n), GRUGAN_OK);
                at += n;
            }
            ck_assert_mem_eq(grads, grads2, np * sizeof(float));
            /* PARAMS again accumulates the same once more, d_x NULL is fine */
            ck_assert_int_eq(grugan_discriminator_backward(f.d, gl, gf, NULL,
                                                           GRUGAN_BACKWARD_PARAMS),
                             GRUGAN_OK);
            {
                const size_t ib = tensor_index(p, "head.bias");
                float hb;
                ck_assert_int_eq(grugan_params_grad_read(p, ib, &hb, 1), GRUGAN_OK);
                ck_assert(fabs((double)hb - 2 * f.ref.db[0]) <= 4 * TOL_BACKWARD *
                                                                   (1 + fabs(f.ref.db[0])));
            }
        }
    }
    free(logits);
    free(feats);
    free(dx);
    free(dx2);
    free(grads);
    free(grads2);
    free(lw);
    free(fw);
    free(dxw);
    fixture_free(&f);
}
END_TEST

/* The loss of the central differences: sum(gl * logits) + sum(gf * feats). */
static double ref_loss(fixture *f, double *lw, double *fw)
{
    double L = 0;
    ref_disc_run(&f->ref, f->xd, f->condd, lens(f), lw, fw, NULL, NULL, NULL);
    for (size_t i = 0; i < f->nl; i++) L += f->gld[i] * lw[i];
    for (size_t i = 0; i < f->nf; i++) L += f->gfd[i] * fw[i];
    return L;
}

/* Central differences in double on the reference: sampled elements of every
 * tensor, every element of x. */
START_TEST(reference_gradients_pass_finite_differences)
{
    const dcfg *c = &CASES[_i];
    fixture f;
    grugan_params *p;
    double *lw, *fw, *dxw;
    const double h = 1e-5;
    fixture_init(&f, c, 50 + (uint64_t)_i);
    p = grugan_discriminator_params(f.d);
    lw = dalloc(f.nl);
    fw = dalloc(f.nf);
    dxw = dalloc(f.nx);
    ref_disc_run(&f.ref, f.xd, f.condd, lens(&f), lw, fw, f.gld, f.gfd, dxw);
    for (size_t i = 0; i < grugan_params_count(p); i++) {
        const char *name;
        double *param, *grad;
        size_t n, idx[8], k;
        ck_assert_int_eq(grugan_params_info(p, i, &name, NULL, NULL), GRUGAN_OK);
        ref_tensor(&f.ref, name, &param, &grad, &n);
        k = sample_indices(n, 8, idx);
        for (size_t j = 0; j < k; j++) {
            const double saved = param[idx[j]];
            double lp, lm, fd;
            param[idx[j]] = saved + h;
            lp = ref_loss(&f, lw, fw);
            param[idx[j]] = saved - h;
            lm = ref_loss(&f, lw, fw);
            param[idx[j]] = saved;
            fd = (lp - lm) / (2 * h);
            ck_assert_msg(fabs(fd - grad[idx[j]]) <= 1e-7 * (1 + fabs(fd)),
                          "%s: %s[%zu]: finite difference %.12g, gradient %.12g", f.where, name,
                          idx[j], fd, grad[idx[j]]);
        }
    }
    for (size_t i = 0; i < f.nx; i++) {
        const double saved = f.xd[i];
        double lp, lm, fd;
        f.xd[i] = saved + h;
        lp = ref_loss(&f, lw, fw);
        f.xd[i] = saved - h;
        lm = ref_loss(&f, lw, fw);
        f.xd[i] = saved;
        fd = (lp - lm) / (2 * h);
        ck_assert_msg(fabs(fd - dxw[i]) <= 1e-7 * (1 + fabs(fd)),
                      "%s: x[%zu]: finite difference %.12g, gradient %.12g", f.where, i, fd,
                      dxw[i]);
    }
    free(lw);
    free(fw);
    free(dxw);
    fixture_free(&f);
}
END_TEST

/* sum(gl * logits) + sum(gf * features) of the float model, in double. */
static double float_loss(fixture *f, float *logits, float *feats)
{
    double L = 0;
    ck_assert_int_eq(fwd(f, logits), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_features(f->d, feats, f->nf), GRUGAN_OK);
    for (size_t i = 0; i < f->nl; i++) L += f->gld[i] * (double)logits[i];
    for (size_t i = 0; i < f->nf; i++) L += f->gfd[i] * (double)feats[i];
    return L;
}

/* End to end on the float model: central differences (double sums of float
 * forwards) against its backward, sampled elements of every tensor and of
 * x. The convolution cases use slope 1 here, so that no step crosses a kink
 * of the leaky ReLU (the reference tests cover other slopes). */
START_TEST(float_gradients_pass_finite_differences)
{
    dcfg c = CASES[_i];
    fixture f;
    grugan_params *p;
    float *logits, *feats, *dx;
    size_t idx[8], k;
    if (c.kind == GRUGAN_DISC_CONV1D) c.slope = 1.0f;
    fixture_init(&f, &c, 60 + (uint64_t)_i);
    p = grugan_discriminator_params(f.d);
    logits = falloc(f.nl);
    feats = falloc(f.nf);
    dx = falloc(f.nx);
    ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
    ck_assert_int_eq(fwd(&f, logits), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_backward(f.d, f.gl, f.gf, dx, GRUGAN_BACKWARD_PARAMS),
                     GRUGAN_OK);
    for (size_t i = 0; i < grugan_params_count(p); i++) {
        const char *name;
        const size_t n = tensor_numel(p, i);
        float *val = falloc(n), *grad = falloc(n);
        ck_assert_int_eq(grugan_params_info(p, i, &name, NULL, NULL), GRUGAN_OK);
        ck_assert_int_eq(grugan_params_read(p, i, val, n), GRUGAN_OK);
        ck_assert_int_eq(grugan_params_grad_read(p, i, grad, n), GRUGAN_OK);
        k = sample_indices(n, 6, idx);
        for (size_t j = 0; j < k; j++) {
            const float saved = val[idx[j]], up = saved + 1e-2f, down = saved - 1e-2f;
            double lp, lm, fd;
            val[idx[j]] = up;
            ck_assert_int_eq(grugan_params_write(p, i, val, n), GRUGAN_OK);
            lp = float_loss(&f, logits, feats);
            val[idx[j]] = down;
            ck_assert_int_eq(grugan_params_write(p, i, val, n), GRUGAN_OK);
            lm = float_loss(&f, logits, feats);
            val[idx[j]] = saved;
            ck_assert_int_eq(grugan_params_write(p, i, val, n), GRUGAN_OK);
            fd = (lp - lm) / ((double)up - (double)down);
            ck_assert_msg(fabs(fd - grad[idx[j]]) <= 2e-3 + 1e-2 * fabs(fd),
                          "%s: %s[%zu]: finite difference %.9g, gradient %.9g", f.where, name,
                          idx[j], fd, (double)grad[idx[j]]);
        }
        free(val);
        free(grad);
    }
    k = sample_indices(f.nx, 8, idx);
    for (size_t j = 0; j < k; j++) {
        const float saved = f.x[idx[j]], up = saved + 1e-2f, down = saved - 1e-2f;
        double lp, lm, fd;
        f.x[idx[j]] = up;
        lp = float_loss(&f, logits, feats);
        f.x[idx[j]] = down;
        lm = float_loss(&f, logits, feats);
        f.x[idx[j]] = saved;
        fd = (lp - lm) / ((double)up - (double)down);
        ck_assert_msg(fabs(fd - dx[idx[j]]) <= 2e-3 + 1e-2 * fabs(fd),
                      "%s: x[%zu]: finite difference %.9g, d_x %.9g", f.where, idx[j], fd,
                      (double)dx[idx[j]]);
    }
    free(logits);
    free(feats);
    free(dx);
    fixture_free(&f);
}
END_TEST

/* Final-state logits with lengths: a sequence gives the logit it gives alone,
 * cut to its length (forward direction at its last step, reverse from it). */
START_TEST(final_logits_respect_lengths)
{
    const dcfg c = {GRUGAN_DISC_GRU, 2, 1, 5, 2, 1, 0, GRUGAN_LOGITS_FINAL, 1,
                    0, 0, 0, 0, 0, 0, 4, 6};
    grugan_discriminator *d = disc_new(&c, 8);
    const size_t B = 4, T = 6, F = 2, len[4] = {6, 1, 3, 5};
    float x[4 * 6 * 2], cond[4] = {0.5f, -0.5f, 0.25f, 1.0f}, logits[4], one;
    for (size_t i = 0; i < B * T * F; i++) x[i] = (float)((i * 7) % 11) * 0.15f - 0.7f;
    ck_assert_int_eq(grugan_discriminator_forward(d, B, T, x, cond, len, logits), GRUGAN_OK);
    for (size_t b = 0; b < B; b++) {
        ck_assert_int_eq(grugan_discriminator_forward(d, 1, len[b], x + b * T * F, cond + b,
                                                      NULL, &one),
                         GRUGAN_OK);
        ck_assert_msg(fabsf(one - logits[b]) <= 1e-6f, "sequence %zu: %.9g alone, %.9g in batch",
                      b, (double)one, (double)logits[b]);
    }
    grugan_discriminator_free(d);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Threads, parameters, sizes                                                */
/* ------------------------------------------------------------------------- */

/* Logits, features, d_x and gradients of a larger run at a thread count. */
static size_t run_threads(const dcfg *c, int threads, float *dst)
{
    grugan_discriminator *d = disc_new(c, 77);
    grugan_params *p = grugan_discriminator_params(d);
    const size_t B = c->B, T = c->T, nx = B * T * c->F;
    const size_t nl = B * grugan_discriminator_logit_count(d, T);
    const size_t nf = B * grugan_discriminator_feature_count(d, T);
    float *x = falloc(nx), *cond = falloc(B * (c->C ? c->C : 1)), *gl = falloc(nl);
    float *gf = falloc(nf);
    size_t at = 0, len[64];
    for (size_t i = 0; i < nx; i++) x[i] = (float)((i * 13) % 17) * 0.1f - 0.8f;
    for (size_t i = 0; i < B * c->C; i++) cond[i] = (float)(i % 3) * 0.5f - 0.5f;
    for (size_t i = 0; i < nl; i++) gl[i] = (float)(i % 5) * 0.2f - 0.4f;
    for (size_t i = 0; i < nf; i++) gf[i] = (float)(i % 7) * 0.01f - 0.03f;
    for (size_t b = 0; b < B; b++) len[b] = T - b % 4;
    ck_assert_uint_le(B, 64);
    ck_assert_int_eq(grugan_discriminator_set(d, GRUGAN_KEY_THREADS, threads), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_forward(d, B, T, x, c->C ? cond : NULL,
                                                  c->use_len ? len : NULL, dst + at),
                     GRUGAN_OK);
    at += nl;
    ck_assert_int_eq(grugan_discriminator_features(d, dst + at, nf), GRUGAN_OK);
    at += nf;
    ck_assert_int_eq(grugan_discriminator_backward(d, gl, gf, dst + at, GRUGAN_BACKWARD_PARAMS),
                     GRUGAN_OK);
    at += nx;
    for (size_t i = 0; i < grugan_params_count(p); i++) {
        const size_t n = tensor_numel(p, i);
        ck_assert_int_eq(grugan_params_grad_read(p, i, dst + at, n), GRUGAN_OK);
        at += n;
    }
    free(x);
    free(cond);
    free(gl);
    free(gf);
    grugan_discriminator_free(d);
    return at;
}

START_TEST(bit_identical_for_1_and_2_threads)
{
    const dcfg cases[] = {
        {GRUGAN_DISC_GRU, 6, 2, 32, 2, 1, 0, GRUGAN_LOGITS_PER_STEP, 1, 0, 0, 0, 0, 0, 0, 64, 16},
        {GRUGAN_DISC_GRU, 6, 0, 32, 2, 1, 0, GRUGAN_LOGITS_FINAL, 1, 0, 0, 0, 0, 0, 0, 64, 16},
        {GRUGAN_DISC_CONV1D, 6, 2, 0, 0, 0, 0, 0, 0, 3, 32, 5, 2, 0, 0.2f, 64, 24},
    };
    const size_t cap = 400000;
    float *one = falloc(cap), *two = falloc(cap);
    for (size_t k = 0; k < 3; k++) {
        size_t n1, n2;
        n1 = run_threads(&cases[k], 1, one);
        n2 = run_threads(&cases[k], 2, two);
        ck_assert_uint_eq(n1, n2);
        ck_assert_uint_le(n1, cap);
        for (size_t i = 0; i < n1; i++)
            if (memcmp(&one[i], &two[i], sizeof(float)) != 0)
                ck_abort_msg("case %zu value %zu: %.9g with 1 thread, %.9g with 2", k, i,
                             (double)one[i], (double)two[i]);
    }
    free(one);
    free(two);
}
END_TEST

static void expect_tensors(grugan_params *p, size_t count, const char *const *names,
                           const size_t shapes[][3])
{
    size_t total = 0;
    ck_assert_uint_eq(grugan_params_count(p), count);
    for (size_t i = 0; i < count; i++) {
        const char *name;
        size_t ndim, shape[GRUGAN_MAX_DIMS], want_ndim = 0, n = 1;
        ck_assert_int_eq(grugan_params_info(p, i, &name, &ndim, shape), GRUGAN_OK);
        ck_assert_str_eq(name, names[i]);
        while (want_ndim < 3 && shapes[i][want_ndim]) want_ndim++;
        ck_assert_uint_eq(ndim, want_ndim);
        for (size_t k = 0; k < ndim; k++) {
            ck_assert_uint_eq(shape[k], shapes[i][k]);
            n *= shape[k];
        }
        total += n;
    }
    ck_assert_uint_eq(grugan_params_num_scalars(p), total);
}

START_TEST(parameters_are_listed_as_documented)
{
    const dcfg cg = {GRUGAN_DISC_GRU, 3, 2, 4, 2, 1, 0, GRUGAN_LOGITS_FINAL, 0,
                     0, 0, 0, 0, 0, 0, 0, 0};
    const dcfg cc = {GRUGAN_DISC_CONV1D, 3, 2, 0, 0, 0, 0, 0, 0, 2, 6, 3, 2, 0, 0, 0, 10};
    grugan_discriminator *g = disc_new(&cg, 1), *cv = disc_new(&cc, 1);
    const char *gnames[] = {
        "gru.weight_ih_l0",         "gru.weight_hh_l0",         "gru.bias_ih_l0",
        "gru.bias_hh_l0",           "gru.weight_ih_l0_reverse", "gru.weight_hh_l0_reverse",
        "gru.bias_ih_l0_reverse",   "gru.bias_hh_l0_reverse",   "gru.weight_ih_l1",
        "gru.weight_hh_l1",         "gru.bias_ih_l1",           "gru.bias_hh_l1",
        "gru.weight_ih_l1_reverse", "gru.weight_hh_l1_reverse", "gru.bias_ih_l1_reverse",
        "gru.bias_hh_l1_reverse",   "head.weight",              "head.bias"};
    const size_t gshapes[][3] = {{12, 5, 0}, {12, 4, 0}, {12, 0, 0}, {12, 0, 0}, {12, 5, 0},
                                 {12, 4, 0}, {12, 0, 0}, {12, 0, 0}, {12, 8, 0}, {12, 4, 0},
                                 {12, 0, 0}, {12, 0, 0}, {12, 8, 0}, {12, 4, 0}, {12, 0, 0},
                                 {12, 0, 0}, {1, 8, 0},  {1, 0, 0}};
    /* T 10 -> (10 + 2 - 3) / 2 + 1 = 5 -> (5 + 2 - 3) / 2 + 1 = 3 */
    const char *cnames[] = {"conv.0.weight", "conv.0.bias", "conv.1.weight", "conv.1.bias",
                            "head.weight", "head.bias"};
    const size_t cshapes[][3] = {{6, 5, 3}, {6, 0, 0}, {6, 6, 3}, {6, 0, 0}, {1, 18, 0},
                                 {1, 0, 0}};
    expect_tensors(grugan_discriminator_params(g), 18, gnames, gshapes);
    expect_tensors(grugan_discriminator_params(cv), 6, cnames, cshapes);
    /* logit and feature counts */
    ck_assert_uint_eq(grugan_discriminator_logit_count(g, 7), 1);
    ck_assert_uint_eq(grugan_discriminator_feature_count(g, 7), 8);
    ck_assert_uint_eq(grugan_discriminator_logit_count(cv, 10), 1);
    ck_assert_uint_eq(grugan_discriminator_feature_count(cv, 10), 18);
    ck_assert_uint_eq(grugan_discriminator_logit_count(cv, 9), 0);
    ck_assert_uint_eq(grugan_discriminator_feature_count(cv, 9), 0);
    ck_assert_uint_eq(grugan_discriminator_logit_count(g, 0), 0);
    ck_assert_uint_eq(grugan_discriminator_logit_count(NULL, 5), 0);
    ck_assert_uint_eq(grugan_discriminator_feature_count(NULL, 5), 0);
    ck_assert_ptr_null(grugan_discriminator_params(NULL));
    grugan_discriminator_free(g);
    grugan_discriminator_free(cv);
    {
        dcfg cs = cg;
        cs.logits = GRUGAN_LOGITS_PER_STEP;
        cs.bi = 0;
        g = disc_new(&cs, 1);
        ck_assert_uint_eq(grugan_discriminator_logit_count(g, 7), 7);
        ck_assert_uint_eq(grugan_discriminator_feature_count(g, 7), 28);
        ck_assert_uint_eq(grugan_discriminator_feature_count(g, SIZE_MAX / 2), 0);
        grugan_discriminator_free(g);
    }
}
END_TEST

/* Initialization: seeded, in PyTorch's bounds 1/sqrt(fan_in) per tensor,
 * each group from its own stream. */
START_TEST(initialization_is_seeded_and_in_pytorch_bounds)
{
    const dcfg cc = {GRUGAN_DISC_CONV1D, 3, 1, 0, 0, 0, 0, 0, 0, 2, 6, 3, 1, 0, 0, 0, 12};
    dcfg deeper = cc;
    const dcfg cg = {GRUGAN_DISC_GRU, 3, 1, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    dcfg cg3 = cg;
    grugan_discriminator *a = disc_new(&cc, 3), *b = disc_new(&cc, 3), *e, *g1, *g3;
    grugan_params *pa = grugan_discriminator_params(a), *pb = grugan_discriminator_params(b);
    const size_t n = grugan_params_num_scalars(pa);
    float *va = falloc(n), *vb = falloc(n);
    deeper.n_conv = 3;
    cg3.L = 3;
    e = disc_new(&deeper, 3);
    g1 = disc_new(&cg, 3);
    g3 = disc_new(&cg3, 3);
    ck_assert_int_eq(grugan_params_read_all(pa, va, n), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_read_all(pb, vb, n), GRUGAN_OK);
    ck_assert_mem_eq(va, vb, n * sizeof(float));
    for (size_t i = 0; i < grugan_params_count(pa); i++) {
        const char *name;
        const size_t m = tensor_numel(pa, i);
        size_t fan_in;
        float *v = falloc(m);
        double lo = 1, hi = -1, bound;
        ck_assert_int_eq(grugan_params_info(pa, i, &name, NULL, NULL), GRUGAN_OK);
        /* conv.0: C_in 4 x K 3; conv.1: 6 x 3; head: T_out 12 x 6 channels */
        fan_in = strncmp(name, "conv.0", 6) == 0   ? 4 * 3
                 : strncmp(name, "conv.1", 6) == 0 ? 6 * 3
                                                   : 12 * 6;
        bound = 1.0 / sqrt((double)fan_in);
        ck_assert_int_eq(grugan_params_read(pa, i, v, m), GRUGAN_OK);
        for (size_t k = 0; k < m; k++) {
            ck_assert_msg(fabs(v[k]) <= bound, "%s[%zu] = %g beyond %g", name, k, (double)v[k],
                          bound);
            lo = fmin(lo, v[k]);
            hi = fmax(hi, v[k]);
        }
        if (m >= 40) ck_assert_msg(hi - lo > bound, "%s does not spread over its range", name);
        free(v);
    }
    /* a third convolution changes neither conv.0 nor conv.1 */
    {
        const char *same[] = {"conv.0.weight", "conv.0.bias", "conv.1.weight", "conv.1.bias"};
        for (size_t k = 0; k < 4; k++) {
            grugan_params *pe = grugan_discriminator_params(e);
            const size_t ia = tensor_index(pa, same[k]), ie = tensor_index(pe, same[k]);
            const size_t m = tensor_numel(pa, ia);
            float *x = falloc(m), *y = falloc(m);
            ck_assert_int_eq(grugan_params_read(pa, ia, x, m), GRUGAN_OK);
            ck_assert_int_eq(grugan_params_read(pe, ie, y, m), GRUGAN_OK);
            ck_assert_mem_eq(x, y, m * sizeof(float));
            free(x);
            free(y);
        }
    }
    /* more GRU layers leave the head and layer 0 unchanged */
    {
        const char *same[] = {"head.weight", "head.bias", "gru.weight_ih_l0"};
        grugan_params *p1 = grugan_discriminator_params(g1), *p3 = grugan_discriminator_params(g3);
        for (size_t k = 0; k < 3; k++) {
            const size_t i1 = tensor_index(p1, same[k]), i3 = tensor_index(p3, same[k]);
            const size_t m = tensor_numel(p1, i1);
            float *x = falloc(m), *y = falloc(m);
            ck_assert_int_eq(grugan_params_read(p1, i1, x, m), GRUGAN_OK);
            ck_assert_int_eq(grugan_params_read(p3, i3, y, m), GRUGAN_OK);
            ck_assert_mem_eq(x, y, m * sizeof(float));
            free(x);
            free(y);
        }
    }
    free(va);
    free(vb);
    grugan_discriminator_free(a);
    grugan_discriminator_free(b);
    grugan_discriminator_free(e);
    grugan_discriminator_free(g1);
    grugan_discriminator_free(g3);
}
END_TEST

START_TEST(settings_by_key)
{
    const dcfg c = {GRUGAN_DISC_CONV1D, 2, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 1, 0, 0, 0, 4};
    grugan_discriminator *d = disc_new(&c, 1);
    double v = -1;
    ck_assert_int_eq(grugan_discriminator_get(d, GRUGAN_KEY_THREADS, &v), GRUGAN_OK);
    ck_assert(v == 1.0);
    ck_assert_int_eq(grugan_discriminator_get(d, GRUGAN_KEY_CHECK_FINITE, &v), GRUGAN_OK);
    ck_assert(v == 1.0);
    ck_assert_int_eq(grugan_discriminator_set(d, GRUGAN_KEY_THREADS, 2), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_get(d, GRUGAN_KEY_THREADS, &v), GRUGAN_OK);
    ck_assert(v == 2.0);
    EXPECT_FAIL(d, grugan_discriminator_set(d, GRUGAN_KEY_THREADS, 0), GRUGAN_E_RANGE);
    EXPECT_FAIL(d, grugan_discriminator_set(d, GRUGAN_KEY_THREADS, 1000), GRUGAN_E_RANGE);
    EXPECT_FAIL(d, grugan_discriminator_set(d, GRUGAN_KEY_CHECK_FINITE, -1), GRUGAN_E_RANGE);
    EXPECT_FAIL(d, grugan_discriminator_set(d, 12345, 1), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_discriminator_get(d, GRUGAN_KEY_THREADS, &v), GRUGAN_OK);
    ck_assert(v == 2.0);
    ck_assert_int_eq(grugan_discriminator_get(d, 12345, &v), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_discriminator_get(d, GRUGAN_KEY_THREADS, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_discriminator_get(NULL, GRUGAN_KEY_THREADS, &v), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_discriminator_set(NULL, GRUGAN_KEY_THREADS, 1), GRUGAN_E_INVALID);
    grugan_discriminator_free(d);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Failures                                                                  */
/* ------------------------------------------------------------------------- */

START_TEST(bad_configs_are_refused)
{
    grugan_discriminator_config cfg = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_discriminator *d = (grugan_discriminator *)&cfg;
    grugan_error err;
#define EXPECT_CREATE_FAIL(want)                                                      \
    do {                                                                              \
        d = (grugan_discriminator *)&cfg;                                             \
        ck_assert_int_eq(grugan_discriminator_create(NULL, &cfg, &d, &err), (want));  \
        ck_assert_int_eq(err.code, (want));                                           \
        ck_assert_msg(err.message[0] != '\0', "no message");                          \
        ck_assert_ptr_null(d);                                                        \
    } while (0)
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE); /* input_size 0 */
    cfg.input_size = 3;
    cfg.kind = 2;
    EXPECT_CREATE_FAIL(GRUGAN_E_RANGE);
    cfg.kind = GRUGAN_DISC_GRU;
    cfg.bidirectional = 2;
    EXPECT_CREATE_FAIL(GRUGAN_E_RANGE);
    cfg.bidirectional = 0;
    cfg.convention = -1;
    EXPECT_CREATE_FAIL(GRUGAN_E_RANGE);
    cfg.convention = 0;
    cfg.logits = 2;
    EXPECT_CREATE_FAIL(GRUGAN_E_RANGE);
    cfg.logits = 0;
    cfg.num_layers = 5000;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE);
    cfg.num_layers = 0;
    cfg.condition_size = SIZE_MAX - 1;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE);
    cfg.condition_size = 0;
    cfg.hidden_size = SIZE_MAX / 4;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE);
    cfg.hidden_size = 0;
    /* defaults of the GRU kind: H 24, L 3, per-step logits */
    ck_assert_int_eq(grugan_discriminator_create(NULL, &cfg, &d, NULL), GRUGAN_OK);
    ck_assert_uint_eq(grugan_discriminator_feature_count(d, 5), 5 * 24);
    ck_assert_uint_eq(grugan_params_count(grugan_discriminator_params(d)), 3 * 4 + 2);
    grugan_discriminator_free(d);

    cfg.kind = GRUGAN_DISC_CONV1D;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE); /* sequence_length 0 */
    ck_assert_ptr_nonnull(strstr(err.message, "sequence_length"));
    cfg.sequence_length = 24;
    cfg.conv_layers = 65;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE);
    cfg.conv_layers = 0;
    cfg.leaky_slope = -0.5f;
    EXPECT_CREATE_FAIL(GRUGAN_E_RANGE);
    cfg.leaky_slope = NAN;
    EXPECT_CREATE_FAIL(GRUGAN_E_RANGE);
    cfg.leaky_slope = 0;
    cfg.sequence_length = 3;
    cfg.kernel_size = 5;
    cfg.padding = GRUGAN_CONV_NO_PADDING;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE); /* 3 steps, kernel 5, no padding: no output */
    cfg.padding = 0;
    cfg.sequence_length = SIZE_MAX / 2;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE); /* the head's input overflows */
    cfg.sequence_length = 24;
    cfg.channels = SIZE_MAX / 8;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE);
    cfg.channels = 0;
    cfg.struct_size = 2;
    EXPECT_CREATE_FAIL(GRUGAN_E_INVALID);
    cfg.struct_size = sizeof cfg;
    /* defaults of the CONV1D kind: 3 layers of 32, kernel 5, stride 2, padding 2:
     * 24 -> 12 -> 6 -> 3 steps */
    ck_assert_int_eq(grugan_discriminator_create(NULL, &cfg, &d, NULL), GRUGAN_OK);
    ck_assert_uint_eq(grugan_discriminator_feature_count(d, 24), 3 * 32);
    ck_assert_uint_eq(grugan_params_count(grugan_discriminator_params(d)), 3 * 2 + 2);
    grugan_discriminator_free(d);
    ck_assert_int_eq(grugan_discriminator_create(NULL, NULL, &d, &err), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_discriminator_create(NULL, &cfg, NULL, &err), GRUGAN_E_INVALID);
    grugan_discriminator_free(NULL);
#undef EXPECT_CREATE_FAIL
}
END_TEST

START_TEST(bad_calls_fail_cleanly_and_write_nothing)
{
    const dcfg cg = {GRUGAN_DISC_GRU, 2, 2, 3, 1, 0, 0, GRUGAN_LOGITS_PER_STEP, 0,
                     0, 0, 0, 0, 0, 0, 0, 0};
    const dcfg cc = {GRUGAN_DISC_CONV1D, 2, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 1, 0, 0, 0, 4};
    enum { B = 2, T = 4 };
    grugan_discriminator *g = disc_new(&cg, 1), *cv = disc_new(&cc, 1);
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *gen = NULL;
    float x[B * T * 2], cond[B * 2], logits[B * T], feats[B * T * 3], dx[B * T * 2];
    float dl[B * T];
    size_t len[B] = {4, 2};
    fill(x, B * T * 2, 0.5f);
    fill(cond, B * 2, 0.1f);
    fill(dl, B * T, 1.0f);
    gc.noise_size = 1;
    gc.output_size = 1;
    ck_assert_int_eq(grugan_generator_create(NULL, &gc, &gen, NULL), GRUGAN_OK);

    /* handles */
    ck_assert_int_eq(grugan_discriminator_forward(NULL, B, T, x, cond, NULL, logits),
                     GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_discriminator_forward((grugan_discriminator *)gen, B, T, x, cond,
                                                  NULL, logits),
                     GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_discriminator_backward((grugan_discriminator *)gen, dl, NULL, dx, 0),
                     GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_discriminator_features(NULL, feats, 1), GRUGAN_E_INVALID);
    ck_assert_str_eq(grugan_discriminator_message((grugan_discriminator *)gen),
                     "not a discriminator handle");
    ck_assert_str_eq(grugan_discriminator_message(NULL), "the discriminator handle is NULL");
    grugan_discriminator_free((grugan_discriminator *)gen); /* not ours: ignored */

    /* before any forward */
    EXPECT_FAIL(g, grugan_discriminator_backward(g, dl, NULL, dx, 0), GRUGAN_E_STATE);
    EXPECT_FAIL(g, grugan_discriminator_features(g, feats, B * T * 3), GRUGAN_E_STATE);
    EXPECT_FAIL(cv, grugan_discriminator_backward(cv, dl, NULL, dx, 1), GRUGAN_E_STATE);

    /* forward: nothing written on failure */
    fill(logits, B * T, SENTINEL);
    EXPECT_FAIL(g, grugan_discriminator_forward(g, B, T, NULL, cond, NULL, logits),
                GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_discriminator_forward(g, B, T, x, cond, NULL, NULL), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_discriminator_forward(g, B, T, x, NULL, NULL, logits),
                GRUGAN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(grugan_discriminator_message(g), "condition"));
    EXPECT_FAIL(g, grugan_discriminator_forward(g, 0, T, x, cond, NULL, logits), GRUGAN_E_SIZE);
    EXPECT_FAIL(g, grugan_discriminator_forward(g, B, 0, x, cond, NULL, logits), GRUGAN_E_SIZE);
    EXPECT_FAIL(g, grugan_discriminator_forward(g, SIZE_MAX / 4, 8, x, cond, NULL, logits),
                GRUGAN_E_SIZE);
    len[1] = 5;
    EXPECT_FAIL(g, grugan_discriminator_forward(g, B, T, x, cond, len, logits), GRUGAN_E_RANGE);
    len[1] = 0;
    EXPECT_FAIL(g, grugan_discriminator_forward(g, B, T, x, cond, len, logits), GRUGAN_E_RANGE);
    len[1] = 2;
    x[5] = NAN;
    EXPECT_FAIL(g, grugan_discriminator_forward(g, B, T, x, cond, NULL, logits),
                GRUGAN_E_NONFINITE);
    x[5] = 0.5f;
    cond[3] = -INFINITY;
    EXPECT_FAIL(g, grugan_discriminator_forward(g, B, T, x, cond, NULL, logits),
                GRUGAN_E_NONFINITE);
    cond[3] = 0.1f;
    EXPECT_FAIL(cv, grugan_discriminator_forward(cv, B, T, x, NULL, len, logits),
                GRUGAN_E_UNSUPPORTED);
    EXPECT_FAIL(cv, grugan_discriminator_forward(cv, B, T - 1, x, NULL, NULL, logits),
                GRUGAN_E_SIZE);
    ck_assert_ptr_nonnull(strstr(grugan_discriminator_message(cv), "sequence_length"));
    EXPECT_FAIL(cv, grugan_discriminator_forward(cv, B, T + 1, x, NULL, NULL, logits),
                GRUGAN_E_SIZE);
    assert_all(logits, B * T, SENTINEL, "logits");

    /* after a forward */
    ck_assert_int_eq(grugan_discriminator_forward(g, B, T, x, cond, len, logits), GRUGAN_OK);
    EXPECT_FAIL(g, grugan_discriminator_features(g, NULL, B * T * 3), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_discriminator_features(g, feats, B * T * 3 - 1), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_discriminator_features(g, feats, B * T * 3), GRUGAN_OK);
    /* per-step features past a length are 0 */
    for (size_t t = 2; t < T; t++)
        for (size_t j = 0; j < 3; j++) ck_assert(feats[(T + t) * 3 + j] == 0.0f);
    EXPECT_FAIL(g, grugan_discriminator_backward(g, dl, NULL, dx, 2), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_discriminator_backward(g, dl, NULL, dx, -1), GRUGAN_E_INVALID);
    fill(dx, B * T * 2, SENTINEL);
    dl[3] = NAN;
    EXPECT_FAIL(g, grugan_discriminator_backward(g, dl, NULL, dx, 0), GRUGAN_E_NONFINITE);
    dl[3] = 1.0f;
    feats[1] = INFINITY;
    EXPECT_FAIL(g, grugan_discriminator_backward(g, dl, feats, dx, 0), GRUGAN_E_NONFINITE);
    assert_all(dx, B * T * 2, SENTINEL, "d_x");
    /* with the check off, the same calls go through */
    ck_assert_int_eq(grugan_discriminator_set(g, GRUGAN_KEY_CHECK_FINITE, 0), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_backward(g, dl, feats, dx, 0), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_set(g, GRUGAN_KEY_CHECK_FINITE, 1), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_backward(g, dl, NULL, dx, 0), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_backward(g, NULL, NULL, dx, 1), GRUGAN_OK);
    ck_assert_str_eq(grugan_discriminator_message(g), "");

    grugan_generator_free(gen);
    grugan_discriminator_free(g);
    grugan_discriminator_free(cv);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Allocation through the context                                            */
/* ------------------------------------------------------------------------- */

START_TEST(failed_allocations_leak_nothing)
{
    const dcfg cases[] = {
        {GRUGAN_DISC_GRU, 2, 1, 5, 2, 1, 0, GRUGAN_LOGITS_FINAL, 1, 0, 0, 0, 0, 0, 0, 3, 6},
        {GRUGAN_DISC_CONV1D, 2, 1, 0, 0, 0, 0, 0, 0, 2, 4, 3, 2, 0, 0, 3, 6},
    };
    for (size_t ci = 0; ci < 2; ci++) {
        const dcfg *c = &cases[ci];
        enum { B = 3, T = 6 };
        counting_alloc counts;
        grugan_context *ctx = counting_context(&counts);
        const size_t base = counts.live;
        const size_t *len = c->kind == GRUGAN_DISC_GRU ? (const size_t[]){6, 2, 4} : NULL;
        grugan_discriminator *d = NULL;
        size_t first_ok = 0;
        float x[B * T * 2], cond[B], logits[B], want[B], dl[B] = {1, -1, 0.5f}, dx[B * T * 2];
        for (size_t i = 0; i < B * T * 2; i++) x[i] = (float)(i % 5) * 0.2f - 0.4f;
        fill(cond, B, 0.3f);
        for (size_t k = 1; k < 1000 && !first_ok; k++) {
            grugan_discriminator_config cfg = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
            grugan_error err;
            int st;
            cfg.kind = c->kind;
            cfg.input_size = c->F;
            cfg.condition_size = c->C;
            cfg.hidden_size = c->H;
            cfg.num_layers = c->L;
            cfg.bidirectional = c->bi;
            cfg.logits = c->logits;
            cfg.sequence_length = c->kind == GRUGAN_DISC_CONV1D ? T : 0;
            cfg.conv_layers = c->n_conv;
            cfg.channels = c->ch;
            cfg.kernel_size = c->K;
            cfg.stride = c->S;
            d = (grugan_discriminator *)&cfg;
            counts.fail_at = counts.allocs + k;
            st = grugan_discriminator_create(ctx, &cfg, &d, &err);
            if (st == GRUGAN_OK) {
                first_ok = k;
                break;
            }
            ck_assert_int_eq(st, GRUGAN_E_NOMEM);
            ck_assert_int_eq(err.code, GRUGAN_E_NOMEM);
            ck_assert_ptr_null(d);
            ck_assert_uint_eq(counts.live, base);
        }
        ck_assert_uint_gt(first_ok, 1);
        counts.fail_at = 0;
        {
            grugan_discriminator *clean = disc_new(c, 0);
            ck_assert_int_eq(grugan_discriminator_forward(clean, B, T, x, cond, len, want),
                             GRUGAN_OK);
            grugan_discriminator_free(clean);
        }
        for (size_t k = 1; k < 1000; k++) {
            const size_t live = counts.live;
            int st;
            fill(logits, B, SENTINEL);
            counts.fail_at = counts.allocs + k;
            st = grugan_discriminator_forward(d, B, T, x, cond, len, logits);
            counts.fail_at = 0;
            if (st == GRUGAN_OK) break;
            ck_assert_int_eq(st, GRUGAN_E_NOMEM);
            assert_all(logits, B, SENTINEL, "logits");
            ck_assert_uint_eq(counts.live, live);
            EXPECT_FAIL(d, grugan_discriminator_backward(d, dl, NULL, dx, 0), GRUGAN_E_STATE);
        }
        ck_assert_mem_eq(logits, want, sizeof want);
        /* within the sizes seen nothing allocates */
        {
            const size_t before = counts.allocs;
            ck_assert_int_eq(grugan_discriminator_backward(d, dl, NULL, dx, 0), GRUGAN_OK);
            ck_assert_int_eq(grugan_discriminator_forward(d, 1, T, x, cond, len, logits),
                             GRUGAN_OK);
            ck_assert_int_eq(grugan_discriminator_backward(d, dl, NULL, dx, 1), GRUGAN_OK);
            if (c->kind == GRUGAN_DISC_GRU) {
                ck_assert_int_eq(grugan_discriminator_forward(d, 2, 3, x, cond, NULL, logits),
                                 GRUGAN_OK);
                ck_assert_int_eq(grugan_discriminator_backward(d, dl, NULL, dx, 0), GRUGAN_OK);
            }
            ck_assert_uint_eq(counts.allocs, before);
        }
        grugan_discriminator_free(d);
        ck_assert_uint_eq(counts.live, base);
        grugan_context_free(ctx);
        ck_assert_uint_eq(counts.live, 0);
    }
}
END_TEST

Suite *suite_discriminator(void)
{
    Suite *s = suite_create("discriminator");
    TCase *ref = tcase_create("discriminator_gradients");
    TCase *api = tcase_create("discriminator_api");
    tcase_set_timeout(ref, 120);
    tcase_set_timeout(api, 120);
    tcase_add_loop_test(ref, forward_and_gradients_match_reference, 0, (int)NUM_CASES);
    tcase_add_loop_test(ref, reference_gradients_pass_finite_differences, 0, (int)NUM_CASES);
    tcase_add_loop_test(ref, float_gradients_pass_finite_differences, 0, (int)NUM_CASES);
    tcase_add_test(ref, final_logits_respect_lengths);
    tcase_add_test(api, bit_identical_for_1_and_2_threads);
    tcase_add_test(api, parameters_are_listed_as_documented);
    tcase_add_test(api, initialization_is_seeded_and_in_pytorch_bounds);
    tcase_add_test(api, settings_by_key);
    tcase_add_test(api, bad_configs_are_refused);
    tcase_add_test(api, bad_calls_fail_cleanly_and_write_nothing);
    tcase_add_test(api, failed_allocations_leak_nothing);
    suite_add_tcase(s, ref);
    suite_add_tcase(s, api);
    return s;
}
