/*
 * loss.h - pieces of the matching losses (loss.c) that the sharded training
 * step (shards.c) computes from statistics gathered over shards.
 */
#ifndef GRUGAN_TRAIN_LOSS_H
#define GRUGAN_TRAIN_LOSS_H

#include <stddef.h>

/* Value of column j of a row for moment matching: the value itself
 * (lag 0), or its change from `lag` columns before, row[j + lag] - row[j]
 * (lag F: from one step to the next of a sequence stored as (T, F)). */
static inline double grugan__column_value(const float *row, size_t j, size_t lag)
{
    return lag ? (double)row[j + lag] - (double)row[j] : (double)row[j];
}

/*
 * The gradient of moment matching with respect to `rows` generated rows
 * (of `stride` floats) for the columns [j0, j0 + w), given the means and
 * standard deviations of those columns (w each: real mr, sr; generated mf,
 * sf, over n_fake rows) and the total column count dim:
 *   g[i][j] = -(1/dim) sign(sr - sf) (v_f[i][j] - mf) / (n_fake sf)
 *             - (1/dim) sign(mr - mf) / n_fake
 * written d_fake[i][j] = g with lag 0; with a lag, d_fake[i][j + lag] += g and
 * d_fake[i][j] -= g (the caller zeroes d_fake first).
 */
void grugan__moment_gradient(const double *mr, const double *sr, const double *mf,
                             const double *sf, size_t n_fake, size_t dim, size_t lag, size_t j0,
                             size_t w, const float *fake, size_t rows, size_t stride,
                             float *d_fake);

#endif
