/* loss.c - GAN losses on discriminator logits (BCE, least squares,
 * Wasserstein, hinge) with masks for variable lengths, and feature matching.
 * Everything is computed in double with sums in a fixed order; the formulas
 * are in grugan.h. */
#include "core/core.h"
#include "train/loss.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* log(1 + e^x) without overflow or cancellation: max(x, 0) + log1p(e^-|x|). */
static double softplus(double x)
{
    return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}

/* 1 / (1 + e^-x) without overflow. */
static double sigmoid(double x)
{
    if (x >= 0) return 1 / (1 + exp(-x));
    {
        const double e = exp(x);
        return e / (1 + e);
    }
}

/* Loss of one logit and its derivative. */
static double loss_one(int kind, int target, double l, double s, double *d)
{
    switch (kind) {
    case GRUGAN_LOSS_BCE:
        if (target == GRUGAN_TARGET_REAL) { /* softplus(l) - (1 - s) l */
            *d = s - sigmoid(-l);
            return softplus(-l) + s * l;
        }
        if (target == GRUGAN_TARGET_FAKE) {
            *d = sigmoid(l);
            return softplus(l);
        }
        *d = -sigmoid(-l);
        return softplus(-l);
    case GRUGAN_LOSS_LSGAN: {
        const double r = target == GRUGAN_TARGET_FAKE ? l : l - 1;
        *d = r;
        return 0.5 * r * r;
    }
    case GRUGAN_LOSS_WASSERSTEIN:
        *d = target == GRUGAN_TARGET_FAKE ? 1 : -1;
        return target == GRUGAN_TARGET_FAKE ? l : -l;
    default: /* hinge */
        if (target == GRUGAN_TARGET_REAL) {
            *d = 1 - l > 0 ? -1 : 0;
            return 1 - l > 0 ? 1 - l : 0;
        }
        if (target == GRUGAN_TARGET_FAKE) {
            *d = 1 + l > 0 ? 1 : 0;
            return 1 + l > 0 ? 1 + l : 0;
        }
        *d = -1;
        return -l;
    }
}

/* Valid entries of row b: all per_seq, or lengths[b] with per-step logits. */
static size_t row_count(const size_t *lengths, size_t b, size_t per_seq)
{
    return lengths && per_seq > 1 ? lengths[b] : per_seq;
}

int grugan_loss(int kind, int target, size_t batch, size_t per_seq, const float *logits,
                const size_t *lengths, float label_smoothing, float *value, float *d_logits)
{
    const double s = label_smoothing;
    double sum = 0, mean, inv_n;
    size_t total, valid = 0;

    if (!logits || !value) return GRUGAN_E_INVALID;
    if (kind < GRUGAN_LOSS_BCE || kind > GRUGAN_LOSS_WGAN_GP) return GRUGAN_E_INVALID;
    /* WGAN-GP is the Wasserstein loss; its penalty is the trainer's */
    if (kind == GRUGAN_LOSS_WGAN_GP) kind = GRUGAN_LOSS_WASSERSTEIN;
    if (target < GRUGAN_TARGET_REAL || target > GRUGAN_TARGET_GENERATOR) return GRUGAN_E_INVALID;
    if (batch == 0 || per_seq == 0 || !grugan__mul_size(batch, per_seq, &total))
        return GRUGAN_E_SIZE;
    if (!(s >= 0 && s < 1)) return GRUGAN_E_RANGE;
    if (lengths && per_seq > 1)
        for (size_t b = 0; b < batch; b++)
            if (lengths[b] < 1 || lengths[b] > per_seq) return GRUGAN_E_RANGE;

    /* pass 1: check and sum the valid logits, row by row in order */
    for (size_t b = 0; b < batch; b++) {
        const float *row = logits + b * per_seq;
        const size_t m = row_count(lengths, b, per_seq);
        if (!grugan__all_finite(row, m)) return GRUGAN_E_NONFINITE;
        for (size_t t = 0; t < m; t++) {
            double d;
            sum += loss_one(kind, target, row[t], s, &d);
        }
        valid += m;
    }
    inv_n = 1.0 / (double)valid;
    mean = sum / (double)valid;
    if (!(fabs(mean) <= FLT_MAX)) return GRUGAN_E_NONFINITE;

    /* pass 2: the gradient, zero at masked entries */
    if (d_logits)
        for (size_t b = 0; b < batch; b++) {
            const float *row = logits + b * per_seq;
            float *drow = d_logits + b * per_seq;
            const size_t m = row_count(lengths, b, per_seq);
            for (size_t t = 0; t < m; t++) {
                double d;
                (void)loss_one(kind, target, row[t], s, &d);
                drow[t] = (float)(d * inv_n);
            }
            for (size_t t = m; t < per_seq; t++) drow[t] = 0.0f;
        }
    *value = (float)mean;
    return GRUGAN_OK;
}

/* Columns of the feature matrices handled together: row-wise passes over a
 * block keep the reads sequential while each column still sums in row order. */
#define FM_BLOCK 64

/* Adds rows 0..n-1 of columns j0..j0+w-1 of x (n, dim) into acc (w). */
static void column_sums(double *acc, const float *x, size_t n, size_t dim, size_t j0, size_t w)
{
    for (size_t j = 0; j < w; j++) acc[j] = 0;
    for (size_t i = 0; i < n; i++) {
        const float *row = x + i * dim + j0;
        for (size_t j = 0; j < w; j++) acc[j] += row[j];
    }
}

int grugan_feature_matching(size_t n_real, size_t n_fake, size_t dim, const float *f_real,
                            const float *f_fake, float *value, float *d_fake)
{
    double sum = 0, mr[FM_BLOCK], mf[FM_BLOCK];
    size_t count_real, count_fake;

    if (!f_real || !f_fake || !value) return GRUGAN_E_INVALID;
    if (n_real == 0 || n_fake == 0 || dim == 0 || !grugan__mul_size(n_real, dim, &count_real) ||
        !grugan__mul_size(n_fake, dim, &count_fake))
        return GRUGAN_E_SIZE;
    if (!grugan__all_finite(f_real, count_real) || !grugan__all_finite(f_fake, count_fake))
        return GRUGAN_E_NONFINITE;

    /* pass 1: the value, block of columns by block, each column in row order */
    for (size_t j0 = 0; j0 < dim; j0 += FM_BLOCK) {
        const size_t w = dim - j0 < FM_BLOCK ? dim - j0 : FM_BLOCK;
        column_sums(mr, f_real, n_real, dim, j0, w);
        column_sums(mf, f_fake, n_fake, dim, j0, w);
        for (size_t j = 0; j < w; j++) {
            const double diff = mr[j] / (double)n_real - mf[j] / (double)n_fake;
            sum += diff * diff;
        }
    }
    if (!(sum <= FLT_MAX)) return GRUGAN_E_NONFINITE;

    /* pass 2: d/d f_fake[i][j] = -2 (mean_real[j] - mean_fake[j]) / n_fake; the
     * means of a block are taken before its columns of d_fake are written */
    if (d_fake)
        for (size_t j0 = 0; j0 < dim; j0 += FM_BLOCK) {
            const size_t w = dim - j0 < FM_BLOCK ? dim - j0 : FM_BLOCK;
            float dcol[FM_BLOCK];
            column_sums(mr, f_real, n_real, dim, j0, w);
            column_sums(mf, f_fake, n_fake, dim, j0, w);
            for (size_t j = 0; j < w; j++)
                dcol[j] = (float)(-2.0 * (mr[j] / (double)n_real - mf[j] / (double)n_fake) /
                                  (double)n_fake);
            for (size_t i = 0; i < n_fake; i++) {
                float *row = d_fake + i * dim + j0;
                for (size_t j = 0; j < w; j++) row[j] = dcol[j];
            }
        }
    *value = (float)sum;
    return GRUGAN_OK;
}

/* means (w) and standard deviations sqrt(var + 1e-6) (w) of columns
 * [j0, j0 + w) of the column values of x (n rows of `stride` floats),
 * population variance, rows in order. */
static void column_moments(double *mean, double *sd, const float *x, size_t n, size_t stride,
                           size_t lag, size_t j0, size_t w)
{
    for (size_t j = 0; j < w; j++) mean[j] = sd[j] = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < w; j++)
            mean[j] += grugan__column_value(x + i * stride, j0 + j, lag);
    for (size_t j = 0; j < w; j++) mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < w; j++) {
            const double d = grugan__column_value(x + i * stride, j0 + j, lag) - mean[j];
            sd[j] += d * d;
        }
    for (size_t j = 0; j < w; j++) sd[j] = sqrt(sd[j] / (double)n + 1e-6);
}

static double sign_of(double v)
{
    return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0;
}

void grugan__moment_gradient(const double *mr, const double *sr, const double *mf,
                             const double *sf, size_t n_fake, size_t dim, size_t lag, size_t j0,
                             size_t w, const float *fake, size_t rows, size_t stride,
                             float *d_fake)
{
    for (size_t i = 0; i < rows; i++) {
        const float *row = fake + i * stride;
        float *drow = d_fake + i * stride;
        for (size_t j = j0; j < j0 + w; j++) {
            const double v = grugan__column_value(row, j, lag);
            const float g = (float)((-sign_of(sr[j - j0] - sf[j - j0]) * (v - mf[j - j0]) /
                                         sf[j - j0] -
                                     sign_of(mr[j - j0] - mf[j - j0])) /
                                    ((double)n_fake * (double)dim));
            if (lag) {
                drow[j + lag] += g;
                drow[j] -= g;
            } else {
                drow[j] = g;
            }
        }
    }
}

/*
 * Over the `dim` column values v[i][j] (grugan__column_value) of rows of `stride`
 * floats:
 *   value = (1/dim) sum_j |sd_r[j] - sd_f[j]| + (1/dim) sum_j |m_r[j] - m_f[j]|
 *   g[i][j] = d value / d v_f[i][j]
 *           = -(1/dim) sign(sd_r - sd_f) (v_f[i][j] - m_f) / (n_f sd_f)
 *             - (1/dim) sign(m_r - m_f) / n_f
 * and the gradient with respect to the fake rows: d_fake[i][j] = g[i][j]
 * with lag 0; with a lag, v[i][j] = x[i][j + lag] - x[i][j] gives
 * d_fake[i][j + lag] += g[i][j] and d_fake[i][j] -= g[i][j].
 */
static int match_moments(size_t n_real, size_t n_fake, size_t stride, size_t dim, size_t lag,
                         const float *real, const float *fake, float *value, float *d_fake)
{
    double sum = 0, mr[FM_BLOCK], sr[FM_BLOCK], mf[FM_BLOCK], sf[FM_BLOCK];
    size_t count_real, count_fake;

    if (!real || !fake || !value) return GRUGAN_E_INVALID;
    if (n_real == 0 || n_fake == 0 || dim == 0 || !grugan__mul_size(n_real, stride, &count_real) ||
        !grugan__mul_size(n_fake, stride, &count_fake))
        return GRUGAN_E_SIZE;
    if (!grugan__all_finite(real, count_real) || !grugan__all_finite(fake, count_fake))
        return GRUGAN_E_NONFINITE;
    if (d_fake && lag) memset(d_fake, 0, count_fake * sizeof *d_fake);
    for (size_t j0 = 0; j0 < dim; j0 += FM_BLOCK) {
        const size_t w = dim - j0 < FM_BLOCK ? dim - j0 : FM_BLOCK;
        column_moments(mr, sr, real, n_real, stride, lag, j0, w);
        column_moments(mf, sf, fake, n_fake, stride, lag, j0, w);
        for (size_t j = 0; j < w; j++) sum += fabs(sr[j] - sf[j]) + fabs(mr[j] - mf[j]);
        if (d_fake)
            grugan__moment_gradient(mr, sr, mf, sf, n_fake, dim, lag, j0, w, fake, n_fake, stride,
                                    d_fake);
    }
    if (!(sum <= FLT_MAX)) return GRUGAN_E_NONFINITE;
    *value = (float)(sum / (double)dim);
    return GRUGAN_OK;
}

int grugan_moment_matching(size_t n_real, size_t n_fake, size_t dim, const float *real,
                           const float *fake, float *value, float *d_fake)
{
    return match_moments(n_real, n_fake, dim, dim, 0, real, fake, value, d_fake);
}

int grugan_difference_matching(size_t n_real, size_t n_fake, size_t steps, size_t features,
                               const float *real, const float *fake, float *value,
                               float *d_fake)
{
    size_t stride, changes;
    if (!real || !fake || !value) return GRUGAN_E_INVALID;
    if (steps < 2 || features == 0 || !grugan__mul_size(steps, features, &stride))
        return GRUGAN_E_SIZE;
    changes = stride - features; /* (T - 1) F */
    return match_moments(n_real, n_fake, stride, changes, features, real, fake, value, d_fake);
}

int grugan_supervised_loss(size_t batch, size_t steps, size_t dim, const float *h,
                           const float *s, float *value, float *d_h, float *d_s)
{
    size_t per_seq, count;
    double sum = 0, scale;

    if (!h || !s || !value) return GRUGAN_E_INVALID;
    if (batch == 0 || dim == 0 || steps < 2 || !grugan__mul_size(steps, dim, &per_seq) ||
        !grugan__mul_size(batch, per_seq, &count))
        return GRUGAN_E_SIZE;
    if (!grugan__all_finite(h, count) || !grugan__all_finite(s, count))
        return GRUGAN_E_NONFINITE;
    /* N = B (T-1) D pairs (h[b][t+1][j], s[b][t][j]): in a sequence the pair
     * of element k of s (k < (T-1) D) is element k + D of h */
    for (size_t b = 0; b < batch; b++) {
        const float *hb = h + b * per_seq + dim, *sb = s + b * per_seq;
        for (size_t k = 0; k < per_seq - dim; k++) {
            const double e = (double)hb[k] - (double)sb[k];
            sum += e * e;
        }
    }
    scale = (double)batch * (double)(per_seq - dim);
    if (!(sum / scale <= FLT_MAX)) return GRUGAN_E_NONFINITE;
    *value = (float)(sum / scale);
    if (d_h || d_s) {
        for (size_t b = 0; b < batch; b++) {
            const float *hb = h + b * per_seq, *sb = s + b * per_seq;
            for (size_t k = 0; k < per_seq; k++) {
                /* d_h at (t+1, j) and d_s at (t, j): +-2 (h[t+1] - s[t]) / N */
                if (d_h)
                    d_h[b * per_seq + k] =
                        k < dim ? 0.0f
                                : (float)(2.0 * ((double)hb[k] - (double)sb[k - dim]) / scale);
                if (d_s)
                    d_s[b * per_seq + k] =
                        k + dim >= per_seq
                            ? 0.0f
                            : (float)(-2.0 * ((double)hb[k + dim] - (double)sb[k]) / scale);
            }
        }
    }
    return GRUGAN_OK;
}
