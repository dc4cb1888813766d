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
 * Sigmoid and tanh are nn/fastmath.h's branch-free versions (a few ulp, the
 * loops vectorize), shared with the GRU gates. Finite inputs never give NaN
 * or Inf (leaky ReLU: for |slope| <= 1): the exponential is clamped, so
 * sigmoid(1000) = 1, sigmoid(-1000) is below 1e-34, tanh(+-1000) = +-1.
 * Elementwise only, so results are the same bits for any thread count
 * (`threads` >= 1).
 */
#ifndef GRUGAN_NN_ACTIVATION_H
#define GRUGAN_NN_ACTIVATION_H

#include <stddef.h>

typedef enum grugan__act {
    GRUGAN__ACT_IDENTITY = 0,
    GRUGAN__ACT_SIGMOID = 1,
    GRUGAN__ACT_TANH = 2,
    GRUGAN__ACT_LEAKY_RELU = 3
} grugan__act;

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
