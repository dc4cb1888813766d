/*
 * linear.h - the dense layer on plain float buffers: y = x Wt + b over N rows.
 *
 * Letters: N rows (e.g. B or B*T), in input features, out output features.
 *
 * Weight layout: Wt (in, out) row-major, the TRANSPOSE of PyTorch's
 * nn.Linear weight (out, in): Wt[i * out + o] = weight[o * in + i]. The
 * forward product is then x Wt with both operands row-major, the layout
 * DESIGN.md section 5 measured up to 10x faster than x W^T on zen3 for inner
 * sizes <= 64; on a machine where BLIS 0.9 picks its generic or zen3 kernels
 * for a newer CPU, both layouts ran within noise of each other (forward, dx
 * and dWt products, N in {128, 3072}, in 5..256, out 24..384), so this layout
 * is never slower. Conversion from and to PyTorch's layout is the caller's.
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

/* Elementwise loops of nn/ kernels use threads from this many values on. */
#define GRUGAN__NN_PAR_MIN 32768

/*
 * y = x Wt + b
 *   y   (N, out)   overwritten; must not overlap x
 *   x   (N, in)
 *   Wt  (in, out)  weight, transposed against PyTorch's (out, in)
 *   b   (out)      bias, or NULL for none
 */
void grugan__linear_forward(float *y, const float *x, const float *Wt, const float *b, size_t N,
                            size_t in, size_t out, int threads);

/*
 * Backward of grugan__linear_forward, given dy = dL/dy:
 *   dx   = dy Wt^T           (N, in)    "+=" with GRUGAN__NN_DX_ACCUMULATE
 *   dWt += x^T dy            (in, out)
 *   db  += sum_n dy[n, :]    (out)      column sums, rows in ascending order
 * Pointers:
 *   dx  (N, in) or NULL: no input gradient (then Wt may be NULL)
 *   dWt (in, out) or NULL: no weight gradient (then x may be NULL)
 *   db  (out) or NULL: no bias gradient
 *   dy  (N, out)
 *   x   (N, in), the forward input
 *   Wt  (in, out)
 * flags: GRUGAN__NN_DX_ACCUMULATE, GRUGAN__NN_INPUT_ONLY (dWt and db are
 * neither read nor written, as if NULL; x may then be NULL). dx must not
 * overlap dy, x, Wt or the gradients.
 */
void grugan__linear_backward(float *dx, float *dWt, float *db, const float *dy, const float *x,
                             const float *Wt, size_t N, size_t in, size_t out, int flags,
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
