/*
 * conv1d.h - 1-D convolution over time on batch-major sequences: PyTorch's
 * nn.Conv1d (dilation 1, groups 1, zero padding) as
 * y = conv(x.transpose(1, 2)).transpose(1, 2).
 *
 * Letters: B batch, T input steps, C_in input channels, C_out output
 * channels, K kernel size, S stride, P zero padding on both sides,
 * T_out = (T + 2P - K) / S + 1 output steps (requires T + 2P >= K).
 *
 *   y[b, t, o] = bias[o] + sum_{k < K, c < C_in} x[b, t*S - P + k, c] * Wt[k, c, o]
 *                (x is 0 at times outside [0, T))
 *
 * Weight layout: Wt (K, C_in, C_out) row-major, i.e. PyTorch's weight
 * (C_out, C_in, K) permuted: Wt[(k * C_in + c) * C_out + o] =
 * weight[(o * C_in + c) * K + k]. With this order, one im2col row of output
 * step t is the contiguous block x[b, t*S - P .. t*S - P + K - 1, :] (zeros in
 * the padding), and the product is im2col (B*T_out, K*C_in) x Wt (K*C_in,
 * C_out): the same fast x Wt form as nn/linear.h, which does the products.
 *
 * The caller validates the sizes (all >= 1 except that B may be 0, S >= 1,
 * T + 2P >= K) and passes a scratch buffer of grugan__conv1d_scratch_floats
 * floats; the kernels never allocate and stay within the documented shapes.
 * A pointwise convolution (K = 1, S = 1, P = 0) is x itself times Wt: it
 * never touches the scratch, which may then be NULL.
 * Backward ACCUMULATES into dWt and dbias; flags as in nn/linear.h.
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

/* Floats of the scratch buffer both kernels need: B * T_out * K * C_in (the
 * im2col matrix). 0 when that overflows size_t or there is no output. */
size_t grugan__conv1d_scratch_floats(const grugan__conv1d_shape *s);

/*
 * y = conv1d(x, Wt) + bias
 *   y       (B, T_out, C_out)   overwritten
 *   scratch (B * T_out, K * C_in)  holds the im2col of x on return
 *   x       (B, T, C_in)
 *   Wt      (K, C_in, C_out)
 *   bias    (C_out) or NULL
 */
void grugan__conv1d_forward(float *y, float *scratch, const float *x, const float *Wt,
                            const float *bias, const grugan__conv1d_shape *s, int threads);

/*
 * Backward of grugan__conv1d_forward, given dy = dL/dy; with X the im2col of
 * x (B*T_out, K*C_in):
 *   dWt   += X^T dy                        (K*C_in, C_out)
 *   dbias += sum_{b, t} dy[b, t, :]         (C_out)
 *   dX     = dy Wt^T, then dx[b, t*S - P + k, c] += dX[(b, t), (k, c)] for
 *            every in-range time (col2im, in ascending order of t, k, c);
 *            dx is zeroed first unless GRUGAN__NN_DX_ACCUMULATE.
 * Pointers:
 *   dx      (B, T, C_in) or NULL: no input gradient (then Wt may be NULL)
 *   dWt     (K, C_in, C_out) or NULL
 *   dbias   (C_out) or NULL
 *   scratch (B * T_out, K * C_in), contents on entry ignored (x's im2col is
 *           rebuilt when dWt is wanted)
 *   dy      (B, T_out, C_out)
 *   x       (B, T, C_in), the forward input (may be NULL when dWt is not
 *           wanted)
 *   Wt      (K, C_in, C_out)
 * flags: GRUGAN__NN_DX_ACCUMULATE, GRUGAN__NN_INPUT_ONLY (dWt and dbias are
 * neither read nor written). dx must not overlap any other buffer.
 */
void grugan__conv1d_backward(float *dx, float *dWt, float *dbias, float *scratch,
                             const float *dy, const float *x, const float *Wt,
                             const grugan__conv1d_shape *s, int flags, int threads);

#endif
