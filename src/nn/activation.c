/* activation.c - elementwise activations and their derivatives. */
#include "nn/activation.h"

#include "core/parallel.h"
#include "nn/fastmath.h"

#include <string.h>

/* Loops use threads from this many values on (exp costs more than plain
 * arithmetic, so the bar is lower than other passes', core/parallel.h). */
#define ACT_PAR_MIN (GRUGAN__PAR_MIN_PASS / 4)

#define PAR(n, threads) ((threads) > 1 && (n) >= ACT_PAR_MIN)

/* for (i < n) statement; vectorized, and split over threads only when the
 * loop is large: a loop on one thread opens no OpenMP region (even a serial
 * one costs libgomp a system call). Needs `threads` in scope. */
#define FOR_EACH(n, statement)                                                                \
    do {                                                                                      \
        if (PAR(n, threads)) {                                                                \
            _Pragma("omp parallel for simd num_threads(threads) schedule(static)")            \
            for (size_t i = 0; i < (n); i++) statement;                                       \
        } else {                                                                              \
            _Pragma("omp simd")                                                               \
            for (size_t i = 0; i < (n); i++) statement;                                       \
        }                                                                                     \
    } while (0)

void grugan__sigmoid_forward(float *y, const float *x, size_t n, int threads)
{
    FOR_EACH(n, y[i] = grugan__sigmoidf(x[i]));
}

void grugan__sigmoid_backward(float *dx, const float *dy, const float *y, size_t n,
                              int accumulate, int threads)
{
    /* d sigmoid(x) / dx = y (1 - y) */
    if (accumulate) {
        FOR_EACH(n, dx[i] += dy[i] * (y[i] * (1.0f - y[i])));
    } else {
        FOR_EACH(n, dx[i] = dy[i] * (y[i] * (1.0f - y[i])));
    }
}

void grugan__tanh_forward(float *y, const float *x, size_t n, int threads)
{
    FOR_EACH(n, y[i] = grugan__tanhf(x[i]));
}

void grugan__tanh_backward(float *dx, const float *dy, const float *y, size_t n, int accumulate,
                           int threads)
{
    /* d tanh(x) / dx = 1 - y^2 */
    if (accumulate) {
        FOR_EACH(n, dx[i] += dy[i] * (1.0f - y[i] * y[i]));
    } else {
        FOR_EACH(n, dx[i] = dy[i] * (1.0f - y[i] * y[i]));
    }
}

void grugan__leaky_relu_forward(float *y, const float *x, float slope, size_t n, int threads)
{
    FOR_EACH(n, y[i] = x[i] > 0.0f ? x[i] : slope * x[i]);
}

void grugan__leaky_relu_backward(float *dx, const float *dy, const float *x, float slope,
                                 size_t n, int accumulate, int threads)
{
    /* d lrelu(x) / dx = 1 for x > 0, slope otherwise (slope at 0, as PyTorch) */
    if (accumulate) {
        FOR_EACH(n, dx[i] += x[i] > 0.0f ? dy[i] : slope * dy[i]);
    } else {
        FOR_EACH(n, dx[i] = x[i] > 0.0f ? dy[i] : slope * dy[i]);
    }
}

void grugan__identity_forward(float *y, const float *x, size_t n, int threads)
{
    (void)threads;
    if (y != x && n > 0) memcpy(y, x, n * sizeof *y);
}

void grugan__identity_backward(float *dx, const float *dy, size_t n, int accumulate,
                               int threads)
{
    if (!accumulate) {
        if (dx != dy && n > 0) memcpy(dx, dy, n * sizeof *dx);
        return;
    }
    FOR_EACH(n, dx[i] += dy[i]);
}

void grugan__act_forward(float *y, const float *x, grugan__act act, float slope, size_t n,
                         int threads)
{
    switch (act) {
    case GRUGAN__ACT_SIGMOID: grugan__sigmoid_forward(y, x, n, threads); break;
    case GRUGAN__ACT_TANH: grugan__tanh_forward(y, x, n, threads); break;
    case GRUGAN__ACT_LEAKY_RELU: grugan__leaky_relu_forward(y, x, slope, n, threads); break;
    case GRUGAN__ACT_IDENTITY:
    default: grugan__identity_forward(y, x, n, threads); break;
    }
}

void grugan__act_backward(float *dx, const float *dy, const float *x, const float *y,
                          grugan__act act, float slope, size_t n, int accumulate, int threads)
{
    switch (act) {
    case GRUGAN__ACT_SIGMOID: grugan__sigmoid_backward(dx, dy, y, n, accumulate, threads); break;
    case GRUGAN__ACT_TANH: grugan__tanh_backward(dx, dy, y, n, accumulate, threads); break;
    case GRUGAN__ACT_LEAKY_RELU:
        grugan__leaky_relu_backward(dx, dy, x, slope, n, accumulate, threads);
        break;
    case GRUGAN__ACT_IDENTITY:
    default: grugan__identity_backward(dx, dy, n, accumulate, threads); break;
    }
}
