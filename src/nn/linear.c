/*
 * linear.c - dense layer: one GEMM for each of y, dx and dW over all N rows;
 * column sums in double in a fixed order for the bias.
 *
 * out == 1 (the logit head of every discriminator) has its own loops: BLIS
 * runs an (N, in) x (in, 1) product at 0.5-4 GF/s, 3-10x slower than a plain
 * dot product per row (measured N = 3072, in = 5..128).
 */
#include "nn/linear.h"

#include "core/blas.h"
#include "core/parallel.h"

#include <string.h>

/* Columns per block of grugan__colsum_accumulate (double accumulators on the
 * stack). */
#define COLSUM_BLOCK 64

typedef struct colsum_job {
    float *sums;
    const float *a, *w;
    size_t rows, cols;
} colsum_job;

/* Column blocks [begin, end): every column summed over n = 0, 1, ...,
 * rows-1 in double, so no order depends on threads. */
static void colsum_blocks(void *ctx, size_t begin, size_t end)
{
    const colsum_job *c = ctx;
    for (size_t blk = begin; blk < end; blk++) {
        const size_t j0 = blk * COLSUM_BLOCK;
        const size_t nj = c->cols - j0 < COLSUM_BLOCK ? c->cols - j0 : COLSUM_BLOCK;
        double acc[COLSUM_BLOCK];
        for (size_t j = 0; j < nj; j++) acc[j] = 0.0;
        for (size_t n = 0; n < c->rows; n++) {
            const float *row = c->a + n * c->cols + j0;
            const double wn = c->w ? (double)c->w[n] : 1.0;
#pragma omp simd
            for (size_t j = 0; j < nj; j++) acc[j] += (double)row[j] * wn;
        }
        for (size_t j = 0; j < nj; j++) c->sums[j0 + j] += (float)acc[j];
    }
}

void grugan__colsum_accumulate(float *sums, const float *a, const float *w, size_t rows,
                               size_t cols, int threads)
{
    colsum_job job = {sums, a, w, rows, cols};
    const size_t blocks = (cols + COLSUM_BLOCK - 1) / COLSUM_BLOCK;
    grugan__parallel_for(blocks,
                         grugan__threads_for(threads, rows * cols, GRUGAN__PAR_MIN_PASS),
                         colsum_blocks, &job);
}

typedef struct dot_job {
    float *y;
    const float *x, *w;
    float bias;
    size_t N, in;
} dot_job;

/* Groups [begin, end) of four rows: y[n] = sum_i x[n, i] w[i] + bias, each
 * sum over i in ascending order; four rows at a time for instruction-level
 * parallelism. */
static void dot_groups(void *ctx, size_t begin, size_t end)
{
    const dot_job *d = ctx;
    const size_t in = d->in;
    for (size_t g = begin; g < end; g++) {
        const size_t n0 = 4 * g;
        if (n0 + 4 <= d->N) {
            const float *r0 = d->x + n0 * in, *r1 = r0 + in, *r2 = r1 + in, *r3 = r2 + in;
            float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
            for (size_t i = 0; i < in; i++) {
                const float wi = d->w[i];
                s0 += r0[i] * wi;
                s1 += r1[i] * wi;
                s2 += r2[i] * wi;
                s3 += r3[i] * wi;
            }
            d->y[n0] = s0 + d->bias;
            d->y[n0 + 1] = s1 + d->bias;
            d->y[n0 + 2] = s2 + d->bias;
            d->y[n0 + 3] = s3 + d->bias;
        } else {
            for (size_t n = n0; n < d->N; n++) {
                const float *r = d->x + n * in;
                float sum = 0.0f;
                for (size_t i = 0; i < in; i++) sum += r[i] * d->w[i];
                d->y[n] = sum + d->bias;
            }
        }
    }
}

/* y (N) = x (N, in) w (in) + b: the out == 1 case, where BLIS is slow. */
static void dot_rows(float *y, const float *x, const float *w, const float *b, size_t N,
                     size_t in, int threads)
{
    dot_job job = {y, x, w, b ? b[0] : 0.0f, N, in};
    grugan__parallel_for((N + 3) / 4,
                         grugan__threads_for(threads, N * in, GRUGAN__PAR_MIN_PASS),
                         dot_groups, &job);
}

typedef struct outer_job {
    float *dx;
    const float *dy, *W;
    size_t in;
    int accumulate;
} outer_job;

/* Rows [begin, end) of dx (N, in) (+)= dy (N) W (in). */
static void outer_rows(void *ctx, size_t begin, size_t end)
{
    const outer_job *o = ctx;
    for (size_t n = begin; n < end; n++) {
        float *r = o->dx + n * o->in;
        const float d = o->dy[n];
        if (o->accumulate)
            for (size_t i = 0; i < o->in; i++) r[i] += d * o->W[i];
        else
            for (size_t i = 0; i < o->in; i++) r[i] = d * o->W[i];
    }
}

void grugan__linear_forward(float *y, const float *x, const float *W, const float *b, size_t N,
                            size_t in, size_t out, int threads)
{
    if (N == 0 || out == 0) return;
    if (out == 1) {
        dot_rows(y, x, W, b, N, in, threads);
        return;
    }
    /* y = b (each row), then y (N, out) = x (N, in) W^T (in, out) + 1 * y;
     * W^T (i, o) sits at W[o * in + i]: row stride 1, column stride in */
    if (b)
        for (size_t n = 0; n < N; n++) memcpy(y + n * out, b, out * sizeof *y);
    grugan__sgemm(threads, N, out, in, 1.0f, x, (ptrdiff_t)in, 1, W, 1, (ptrdiff_t)in,
                  b ? 1.0f : 0.0f, y, (ptrdiff_t)out, 1);
}

void grugan__linear_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                             const float *W, size_t N, size_t in, size_t out, int flags,
                             int threads)
{
    const int accumulate = (flags & GRUGAN__NN_DX_ACCUMULATE) != 0;

    if (flags & GRUGAN__NN_INPUT_ONLY) dW = db = NULL;

    /* dW (out, in) += dy^T (out, N) x (N, in); dy^T (o, n) at dy[n * out + o] */
    if (dW && in > 0 && out > 0) {
        if (out == 1)
            grugan__colsum_accumulate(dW, x, dy, N, in, threads);
        else
            grugan__sgemm(threads, out, in, N, 1.0f, dy, 1, (ptrdiff_t)out, x, (ptrdiff_t)in, 1,
                          1.0f, dW, (ptrdiff_t)in, 1);
    }
    /* db (out) += sum_n dy[n, :] */
    if (db) grugan__colsum_accumulate(db, dy, NULL, N, out, threads);

    /* dx (N, in) = dy (N, out) W (out, in) */
    if (dx && N > 0 && in > 0) {
        if (out == 1) {
            outer_job job = {dx, dy, W, in, accumulate};
            grugan__parallel_for(N,
                                 grugan__threads_for(threads, N * in, GRUGAN__PAR_MIN_PASS),
                                 outer_rows, &job);
        } else {
            grugan__sgemm(threads, N, in, out, 1.0f, dy, (ptrdiff_t)out, 1, W, (ptrdiff_t)in, 1,
                          accumulate ? 1.0f : 0.0f, dx, (ptrdiff_t)in, 1);
        }
    }
}

void grugan__linear_input_grad_backward(float *ddy, float *dW, const float *u, const float *dy,
                                        const float *W, size_t N, size_t in, size_t out,
                                        int threads)
{
    /* dW (out, in) += dy^T u: the weight gradient of a forward whose input was u */
    if (dW) grugan__linear_backward(NULL, dW, NULL, dy, u, NULL, N, in, out, 0, threads);
    /* ddy (N, out) = u W^T */
    if (ddy) grugan__linear_forward(ddy, u, W, NULL, N, in, out, threads);
}
