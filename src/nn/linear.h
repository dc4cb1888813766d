/*
 * linear.h - the dense layer on plain float buffers: y = x W^T + b over N rows.
 *
 * Letters: N rows (e.g. B or B*T), in input features, out output features.
 *
 * Weight layout: PyTorch's nn.Linear weight W (out, in) row-major, used as it
 * is stored in a model's parameter block (no conversion at the boundary). The
 * products read W^T through the strides of grugan__sgemm; on this machine's
 * BLIS 0.9 they measured as fast as with a transposed copy of W (forward, dx
 * and dW products, N in {128, 3072}, in 5..256, out 24..384).
 *
 * Backward kernels ACCUMULATE into parameter gradients (the caller zeroes
 * them); the input gradient is overwritten or accumulated as the flags say.
 * Every reduction runs in a fixed order, so results are bit-identical for
 * any thread count (`threads` >= 1: the most threads BLIS and the loops may
 * use). Kernels never allocate; sizes are the caller's to validate (any size
 * may be 0).
 */
#ifndef GRUGAN_NN_LINEAR_H
#define GRUGAN_NN_LINEAR_H

#include <stddef.h>

/* Flags of the backward kernels in nn/linear.h and nn/conv1d.h. */
#define GRUGAN__NN_DX_ACCUMULATE 1 /* dx += dL/dx (default: dx = dL/dx) */
#define GRUGAN__NN_INPUT_ONLY 2    /* only dx: parameter gradients untouched */

/*
 * y = x W^T + b
 *   y   (N, out)   overwritten; must not overlap x
 *   x   (N, in)
 *   W   (out, in)  weight, PyTorch's layout
 *   b   (out)      bias, or NULL for none
 */
void grugan__linear_forward(float *y, const float *x, const float *W, const float *b, size_t N,
                            size_t in, size_t out, int threads);

/*
 * Backward of grugan__linear_forward, given dy = dL/dy:
 *   dx  = dy W               (N, in)    "+=" with GRUGAN__NN_DX_ACCUMULATE
 *   dW += dy^T x             (out, in)
 *   db += sum_n dy[n, :]     (out)      column sums, rows in ascending order
 * Pointers:
 *   dx  (N, in) or NULL: no input gradient (then W may be NULL)
 *   dW  (out, in) or NULL: no weight gradient (then x may be NULL)
 *   db  (out) or NULL: no bias gradient
 *   dy  (N, out)
 *   x   (N, in), the forward input
 *   W   (out, in)
 * flags: GRUGAN__NN_DX_ACCUMULATE, GRUGAN__NN_INPUT_ONLY (dW and db are
 * neither read nor written, as if NULL; x may then be NULL). dx must not
 * overlap dy, x, W or the gradients.
 */
void grugan__linear_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                             const float *W, size_t N, size_t in, size_t out, int flags,
                             int threads);

/*
 * sums[j] += sum_n a[n * cols + j] (* w[n] when w is not NULL), j < cols.
 * Each column is summed in double over rows in ascending order, then added
 * to sums as float: the same bits for any thread count.
 *   sums (cols)
 *   a    (rows, cols)
 *   w    (rows) or NULL
 */
void grugan__colsum_accumulate(float *sums, const float *a, const float *w, size_t rows,
                               size_t cols, int threads);

#endif

/*
 * The backward of grugan__linear_backward's input gradient, for penalties on
 * dx (docs/gradient-penalties.md). The first backward gave dx = dy W; for a
 * scalar S = <u, dx> with u = dS/d(dx) held fixed:
 *   dS/dW  = dy^T u          (out, in)   accumulated into dW
 *   dS/ddy = u W^T           (N, out)    overwritten into ddy (a forward
 *                                        product of u without the bias)
 * The bias has no part in dx, so it gets nothing. Pointers:
 *   ddy (N, out) or NULL     dW (out, in) or NULL
 *   u   (N, in)              dy (N, out), the first backward's dy (read only
 *                            for dW)              W (out, in)
 * ddy must not overlap any other buffer.
 */
void grugan__linear_input_grad_backward(float *ddy, float *dW, const float *u, const float *dy,
                                        const float *W, size_t N, size_t in, size_t out,
                                        int threads);
