/*
 * conv1d.h - 1-D convolution over time on batch-major sequences: PyTorch's
 * nn.Conv1d (dilation 1, groups 1, zero padding) as
 * y = conv(x.transpose(1, 2)).transpose(1, 2).
 *
 * Letters: B batch, T input steps, C_in input channels, C_out output
 * channels, K kernel size, S stride, P zero padding on both sides,
 * T_out = (T + 2P - K) / S + 1 output steps (requires T + 2P >= K).
 *
 *   y[b, t, o] = bias[o] + sum_{c < C_in, k < K} x[b, t*S - P + k, c] * W[o, c, k]
 *                (x is 0 at times outside [0, T))
 *
 * Weight layout: PyTorch's nn.Conv1d weight W (C_out, C_in, K) row-major, as
 * stored in a model's parameter block. Read as a matrix (C_out, C_in*K) it
 * is a dense layer's weight (nn/linear.h) over the im2col matrix X whose row
 * (b, t) holds x[b, t*S - P + k, c] at column c*K + k (zeros in the padding):
 * y (B*T_out, C_out) = X W^T + bias, one product over all B*T_out rows.
 *
 * The caller validates the sizes (all >= 1 except that B may be 0, S >= 1,
 * T + 2P >= K) and passes a scratch buffer of grugan__conv1d_scratch_floats
 * floats; the kernels never allocate and stay within the documented shapes.
 * A pointwise convolution (K = 1, S = 1, P = 0) is x itself times W^T: it
 * never touches the scratch, which may then be NULL.
 * Backward ACCUMULATES into dW and dbias; flags as in nn/linear.h.
 */
#ifndef GRUGAN_NN_CONV1D_H
#define GRUGAN_NN_CONV1D_H

#include "nn/linear.h"

#include <stddef.h>

typedef struct grugan__conv1d_shape {
    size_t B;     /* batch */
    size_t T;     /* input steps */
    size_t C_in;  /* input channels */
    size_t C_out; /* output channels */
    size_t K;     /* kernel size */
    size_t S;     /* stride, >= 1 */
    size_t P;     /* zero padding on each side */
} grugan__conv1d_shape;

/* T_out = (T + 2P - K) / S + 1; 0 when T + 2P < K or S == 0. */
size_t grugan__conv1d_out_len(const grugan__conv1d_shape *s);

/* Floats of the scratch buffer both kernels need: B * T_out * C_in * K (the
 * im2col matrix). 0 when that overflows size_t or there is no output. */
size_t grugan__conv1d_scratch_floats(const grugan__conv1d_shape *s);

/*
 * y = conv1d(x, W) + bias
 *   y       (B, T_out, C_out)   overwritten
 *   scratch (B * T_out, C_in * K)  holds the im2col of x on return
 *   x       (B, T, C_in)
 *   W       (C_out, C_in, K)
 *   bias    (C_out) or NULL
 */
void grugan__conv1d_forward(float *y, float *scratch, const float *x, const float *W,
                            const float *bias, const grugan__conv1d_shape *s, int threads);

/*
 * Backward of grugan__conv1d_forward, given dy = dL/dy; with X the im2col of
 * x (B*T_out, C_in*K):
 *   dW    += dy^T X                        (C_out, C_in*K)
 *   dbias += sum_{b, t} dy[b, t, :]         (C_out)
 *   dX     = dy W, then dx[b, t*S - P + k, c] += dX[(b, t), c*K + k] for
 *            every in-range time (col2im, in ascending order of t, k, c);
 *            dx is zeroed first unless GRUGAN__NN_DX_ACCUMULATE.
 * Pointers:
 *   dx      (B, T, C_in) or NULL: no input gradient (then W may be NULL)
 *   dW      (C_out, C_in, K) or NULL
 *   dbias   (C_out) or NULL
 *   scratch (B * T_out, C_in * K), contents on entry ignored (x's im2col is
 *           rebuilt when dW is wanted)
 *   dy      (B, T_out, C_out)
 *   x       (B, T, C_in), the forward input (may be NULL when dW is not
 *           wanted)
 *   W       (C_out, C_in, K)
 * flags: GRUGAN__NN_DX_ACCUMULATE, GRUGAN__NN_INPUT_ONLY (dW and dbias are
 * neither read nor written). dx must not overlap any other buffer.
 */
void grugan__conv1d_backward(float *dx, float *dW, float *dbias, float *scratch,
                             const float *dy, const float *x, const float *W,
                             const grugan__conv1d_shape *s, int flags, int threads);

#endif

/*
 * The backward of grugan__conv1d_backward's input gradient, for penalties on
 * dx (docs/gradient-penalties.md). The first backward gave
 * dx = col2im(dy W); col2im is the adjoint of im2col, so for a scalar
 * S = <u, dx> with u = dS/d(dx) held fixed, S = <im2col(u), dy W> and
 *   dS/dW  = dy^T im2col(u)        (C_out, C_in*K)  accumulated into dW
 *   dS/ddy = im2col(u) W^T         (B*T_out, C_out) overwritten into ddy:
 *            the convolution of u without the bias
 * The bias has no part in dx, so it gets nothing. One im2col of u feeds both
 * products. Pointers:
 *   ddy     (B, T_out, C_out) or NULL
 *   dW      (C_out, C_in, K) or NULL
 *   scratch (B * T_out, C_in * K), holds im2col(u) on return (untouched and
 *           may be NULL for a pointwise convolution)
 *   u       (B, T, C_in)
 *   dy      (B, T_out, C_out), the first backward's dy (read only for dW)
 *   W       (C_out, C_in, K)
 * ddy must not overlap any other buffer.
 */
void grugan__conv1d_input_grad_backward(float *ddy, float *dW, float *scratch, const float *u,
                                        const float *dy, const float *W,
                                        const grugan__conv1d_shape *s, int threads);
