/*
 * conv1d.c - 1-D convolution as im2col + one GEMM over all B*T_out rows
 * (nn/linear.c does the products); col2im adds the input gradient back in a
 * fixed order.
 */
#include "nn/conv1d.h"

#include "core/core.h"
#include "core/parallel.h"

#include <string.h>

/* The kernel taps k0 <= k < k1 of output step t that fall inside [0, T):
 * t*S + k - P in [0, T). Taps outside read the zero padding. k0 == k1 when
 * the whole window is padding. */
typedef struct window {
    size_t k0, k1;
} window;

static window window_of(const grugan__conv1d_shape *s, size_t t)
{
    const size_t start = t * s->S; /* time of tap k is start + k - P */
    window w;
    w.k0 = start >= s->P ? 0 : (s->P - start < s->K ? s->P - start : s->K);
    if (s->T + s->P > start)
        w.k1 = s->T + s->P - start < s->K ? s->T + s->P - start : s->K;
    else
        w.k1 = 0;
    if (w.k1 < w.k0) w.k1 = w.k0;
    return w;
}

size_t grugan__conv1d_out_len(const grugan__conv1d_shape *s)
{
    size_t padded;
    if (s->S == 0 || !grugan__add_size(s->T, s->P, &padded) ||
        !grugan__add_size(padded, s->P, &padded) || padded < s->K)
        return 0;
    return (padded - s->K) / s->S + 1;
}

size_t grugan__conv1d_scratch_floats(const grugan__conv1d_shape *s)
{
    size_t rows, floats;
    if (!grugan__mul_size(s->B, grugan__conv1d_out_len(s), &rows) ||
        !grugan__mul3_size(rows, s->K, s->C_in, &floats))
        return 0;
    return floats;
}

/* True when im2col is the identity (K = 1, S = 1, P = 0): x itself is the
 * (B*T, C_in) matrix and no scratch is touched. */
static int is_pointwise(const grugan__conv1d_shape *s)
{
    return s->K == 1 && s->S == 1 && s->P == 0;
}

typedef struct cols_job {
    float *cols;        /* im2col: out; col2im: in */
    const float *x;     /* im2col: in */
    float *dx;          /* col2im: out */
    const float *dcols; /* col2im: in */
    const grugan__conv1d_shape *s;
    size_t T_out;
    int accumulate;
} cols_job;

/* Rows [begin, end) of cols[(b, t), c*K + k] = x[b, t*S - P + k, c], 0 in
 * the padding.   cols (B * T_out, C_in * K)   x (B, T, C_in) */
static void im2col_rows(void *ctx, size_t begin, size_t end)
{
    const cols_job *j = ctx;
    const grugan__conv1d_shape *s = j->s;
    const size_t C = s->C_in, K = s->K, CK = s->C_in * s->K;
    for (size_t r = begin; r < end; r++) {
        const size_t b = r / j->T_out, t = r % j->T_out;
        const window w = window_of(s, t);
        float *dst = j->cols + r * CK;
        if (w.k0 > 0 || w.k1 < K) memset(dst, 0, CK * sizeof *dst);
        if (w.k1 > w.k0) {
            /* time of tap k: t*S + k - P; src points at tap w.k0 */
            const float *src = j->x + (b * s->T + t * s->S + w.k0 - s->P) * C;
            for (size_t k = w.k0; k < w.k1; k++, src += C)
                for (size_t c = 0; c < C; c++) dst[c * K + k] = src[c];
        }
    }
}

static void im2col(float *cols, const float *x, const grugan__conv1d_shape *s, size_t T_out,
                   int threads)
{
    cols_job job = {cols, x, NULL, NULL, s, T_out, 0};
    const size_t rows = s->B * T_out;
    grugan__parallel_for(rows,
                         grugan__threads_for(threads, rows * s->C_in * s->K, GRUGAN__PAR_MIN_PASS),
                         im2col_rows, &job);
}

/* Sequences [begin, end): dx[b, t*S - P + k, c] += dcols[(b, t), c*K + k]
 * over in-range taps; dx is zeroed first unless accumulate. Within a
 * sequence the order is t, k, c ascending whatever the threads.
 *   dx (B, T, C_in)   dcols (B * T_out, C_in * K) */
static void col2im_sequences(void *ctx, size_t begin, size_t end)
{
    const cols_job *j = ctx;
    const grugan__conv1d_shape *s = j->s;
    const size_t C = s->C_in, K = s->K, CK = s->C_in * s->K, TC = s->T * s->C_in;
    for (size_t b = begin; b < end; b++) {
        float *dxb = j->dx + b * TC;
        if (!j->accumulate) memset(dxb, 0, TC * sizeof *dxb);
        for (size_t t = 0; t < j->T_out; t++) {
            const window w = window_of(s, t);
            const float *src = j->dcols + (b * j->T_out + t) * CK;
            float *dst;
            if (w.k1 == w.k0) continue; /* the whole window is padding */
            dst = dxb + (t * s->S + w.k0 - s->P) * C;
            for (size_t k = w.k0; k < w.k1; k++, dst += C)
                for (size_t c = 0; c < C; c++) dst[c] += src[c * K + k];
        }
    }
}

static void col2im(float *dx, const float *dcols, const grugan__conv1d_shape *s, size_t T_out,
                   int accumulate, int threads)
{
    cols_job job = {NULL, NULL, dx, dcols, s, T_out, accumulate};
    const size_t values = s->B * T_out * s->C_in * s->K;
    grugan__parallel_for(s->B, grugan__threads_for(threads, values, GRUGAN__PAR_MIN_PASS),
                         col2im_sequences, &job);
}

void grugan__conv1d_forward(float *y, float *scratch, const float *x, const float *W,
                            const float *bias, const grugan__conv1d_shape *s, int threads)
{
    const size_t T_out = grugan__conv1d_out_len(s), rows = s->B * T_out;
    const float *cols = x;

    if (!is_pointwise(s)) {
        im2col(scratch, x, s, T_out, threads);
        cols = scratch;
    }
    /* y (B*T_out, C_out) = cols (B*T_out, C_in*K) W^T (C_in*K, C_out) + bias */
    grugan__linear_forward(y, cols, W, bias, rows, s->C_in * s->K, s->C_out, threads);
}

void grugan__conv1d_backward(float *dx, float *dW, float *dbias, float *scratch,
                             const float *dy, const float *x, const float *W,
                             const grugan__conv1d_shape *s, int flags, int threads)
{
    const size_t T_out = grugan__conv1d_out_len(s), rows = s->B * T_out;
    const size_t CK = s->C_in * s->K;
    const int accumulate = (flags & GRUGAN__NN_DX_ACCUMULATE) != 0;

    if (flags & GRUGAN__NN_INPUT_ONLY) dW = dbias = NULL;

    /* dW (C_out, C_in*K) += dy^T X, dbias += column sums of dy */
    if (dW || dbias) {
        const float *cols = x;
        if (dW && !is_pointwise(s)) {
            im2col(scratch, x, s, T_out, threads);
            cols = scratch;
        }
        grugan__linear_backward(NULL, dW, dbias, dy, cols, NULL, rows, CK, s->C_out, 0,
                                threads);
    }
    if (!dx) return;
    if (is_pointwise(s)) {
        /* dx (B*T, C_in) (+)= dy W directly */
        grugan__linear_backward(dx, NULL, NULL, dy, NULL, W, rows, CK, s->C_out,
                                GRUGAN__NN_INPUT_ONLY | (flags & GRUGAN__NN_DX_ACCUMULATE),
                                threads);
        return;
    }
    /* dX (B*T_out, C_in*K) = dy W into the scratch, then col2im */
    grugan__linear_backward(scratch, NULL, NULL, dy, NULL, W, rows, CK, s->C_out,
                            GRUGAN__NN_INPUT_ONLY, threads);
    col2im(dx, scratch, s, T_out, accumulate, threads);
}

void grugan__conv1d_input_grad_backward(float *ddy, float *dW, float *scratch, const float *u,
                                        const float *dy, const float *W,
                                        const grugan__conv1d_shape *s, int threads)
{
    const size_t T_out = grugan__conv1d_out_len(s), rows = s->B * T_out;
    const float *cols = u;

    if (!is_pointwise(s)) {
        im2col(scratch, u, s, T_out, threads);
        cols = scratch;
    }
    /* dW += dy^T cols, ddy = cols W^T: cols (B*T_out, C_in*K) */
    grugan__linear_input_grad_backward(ddy, dW, cols, dy, W, rows, s->C_in * s->K, s->C_out,
                                       threads);
}
