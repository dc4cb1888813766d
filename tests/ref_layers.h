/*
 * ref_layers.h - naive double-precision dense layer, activations and 1-D
 * convolution: the test oracles of nn/linear, nn/activation and nn/conv1d.
 *
 * Written from the math with one loop per sum and PyTorch's weight layouts
 * (nn.Linear weight (out, in); nn.Conv1d weight (C_out, C_in, K)), the
 * layouts the fast kernels take too, indexed here element by element without
 * im2col or strides. Backward functions
 * OVERWRITE their gradients (fresh gradients of one call); any gradient
 * pointer may be NULL.
 */
#ifndef GRUGAN_TEST_REF_LAYERS_H
#define GRUGAN_TEST_REF_LAYERS_H

#include <stddef.h>

/* y (N, out) = x (N, in) W^T + b;  W (out, in), b (out) or NULL. */
void ref_linear_forward(double *y, const double *x, const double *W, const double *b, size_t N,
                        size_t in, size_t out);

/* dx (N, in) = dy W;  dW (out, in) = dy^T x;  db (out) = sum_n dy[n, :]. */
void ref_linear_backward(double *dx, double *dW, double *db, const double *dy, const double *x,
                         const double *W, size_t N, size_t in, size_t out);

enum { REF_ACT_IDENTITY, REF_ACT_SIGMOID, REF_ACT_TANH, REF_ACT_LEAKY_RELU };

/* f(x) of activation `act` (slope: leaky ReLU's for x <= 0). */
double ref_act(int act, double x, double slope);

/* f'(x), from the input; leaky ReLU takes `slope` at x <= 0. */
double ref_act_grad(int act, double x, double slope);

/* Sizes of a convolution: batch, steps, channels, kernel, stride, padding. */
typedef struct ref_conv1d_dims {
    size_t B, T, C_in, C_out, K, S, P;
} ref_conv1d_dims;

/* floor((T + 2P - K) / S) + 1, or 0 when T + 2P < K. */
size_t ref_conv1d_out_len(const ref_conv1d_dims *d);

/* y[b, t, o] = bias[o] + sum_c sum_k W[o, c, k] x[b, t*S + k - P, c], x = 0
 * outside [0, T).  y (B, T_out, C_out), x (B, T, C_in), W (C_out, C_in, K),
 * bias (C_out) or NULL. */
void ref_conv1d_forward(double *y, const double *x, const double *W, const double *bias,
                        const ref_conv1d_dims *d);

/* Gradients of the forward above given dy (B, T_out, C_out):
 * dx (B, T, C_in), dW (C_out, C_in, K), db (C_out). */
void ref_conv1d_backward(double *dx, double *dW, double *db, const double *dy, const double *x,
                         const double *W, const ref_conv1d_dims *d);

#endif
