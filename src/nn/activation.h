/*
 * activation.h - elementwise activations on n floats: sigmoid, tanh, leaky
 * ReLU, identity.
 *
 * Forward: y = f(x); y may be the same array as x (in place), never a partial
 * overlap. Backward: dx = dy * f'(.), or dx += dy * f'(.) when `accumulate`
 * is non-zero; sigmoid and tanh take the derivative from the forward OUTPUT y,
 * leaky ReLU from the forward input x. Each element reads its inputs before
 * writing dx[i], so dx may be the same array as dy (or y, or x).
 *
 * Elementwise only, so results are the same bits for any thread count.
 * Finite inputs never give NaN or Inf: sigmoid(-1000) = 0, sigmoid(1000) = 1.
 */
#ifndef GRUGAN_NN_ACTIVATION_H
#define GRUGAN_NN_ACTIVATION_H

#include <math.h>
#include <stddef.h>

typedef enum grugan__act {
    GRUGAN__ACT_IDENTITY = 0,
    GRUGAN__ACT_SIGMOID = 1,
    GRUGAN__ACT_TANH = 2,
    GRUGAN__ACT_LEAKY_RELU = 3
} grugan__act;

/* 1 / (1 + e^-x) without overflow: for x < 0 it is e^x / (1 + e^x). */
static inline float grugan__sigmoidf(float x)
{
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    {
        const float e = expf(x);
        return e / (1.0f + e);
    }
}

/* y = sigmoid(x)                       y, x (n) */
void grugan__sigmoid_forward(float *y, const float *x, size_t n, int threads);
/* dx = dy * y * (1 - y)                dx, dy, y (n) */
void grugan__sigmoid_backward(float *dx, const float *dy, const float *y, size_t n,
                              int accumulate, int threads);

/* y = tanh(x)                          y, x (n) */
void grugan__tanh_forward(float *y, const float *x, size_t n, int threads);
/* dx = dy * (1 - y^2)                  dx, dy, y (n) */
void grugan__tanh_backward(float *dx, const float *dy, const float *y, size_t n, int accumulate,
                           int threads);

/* y = x > 0 ? x : slope * x            y, x (n) */
void grugan__leaky_relu_forward(float *y, const float *x, float slope, size_t n, int threads);
/* dx = dy * (x > 0 ? 1 : slope)        dx, dy, x (n)
 * For slope >= 0, x > 0 exactly when y > 0, so the forward output may be
 * passed as x (after an in-place forward). */
void grugan__leaky_relu_backward(float *dx, const float *dy, const float *x, float slope,
                                 size_t n, int accumulate, int threads);

/* y = x (a copy unless y == x)         y, x (n) */
void grugan__identity_forward(float *y, const float *x, size_t n, int threads);
/* dx = dy                              dx, dy (n) */
void grugan__identity_backward(float *dx, const float *dy, size_t n, int accumulate,
                               int threads);

/* Dispatch on `act`; slope is used by leaky ReLU only. */
void grugan__act_forward(float *y, const float *x, grugan__act act, float slope, size_t n,
                         int threads);
/* Dispatch on `act`: x (n) is the forward input (read by leaky ReLU only, may
 * be NULL otherwise), y (n) the forward output (read by sigmoid and tanh
 * only, may be NULL otherwise). */
void grugan__act_backward(float *dx, const float *dy, const float *x, const float *y,
                          grugan__act act, float slope, size_t n, int accumulate, int threads);

#endif
