/*
 * pca.h - the first two principal components of a set of vectors, for the
 * PCA view of evaluate's picture (real against synthetic sequences, as the
 * TimeGAN papers show them). Shared by copy like cli.h; plain C, tested in
 * tests/test_pca.c. Deterministic: a fixed start, sums in a fixed order, one
 * thread.
 *
 * For n vectors x_i of size d with mean m, the covariance (never formed) is
 *
 *   C = 1/n sum_i (x_i - m) (x_i - m)^T                        (d, d)
 *
 * Subspace iteration with Rayleigh-Ritz on two orthonormal vectors V (2, d):
 *
 *   W = C V = 1/n sum_i ((x_i - m) . v_k) (x_i - m)           O(n d) a round
 *   S = V^T C V = [[a, b], [b, c]]                            (2, 2)
 *   theta = atan2(2 b, a - c) / 2                              S's eigenvectors
 *   u_1 = cos(theta) v_1 + sin(theta) v_2,  u_2 = -sin(theta) v_1 + cos(theta) v_2
 *   lambda_1 = a cos^2 + 2 b sin cos + c sin^2,  lambda_2 = a + c - lambda_1
 *
 * until the residuals |C u_k - lambda_k u_k| fall below 1e-10 lambda_1, or
 * for at most 1000 rounds: when the top variances are nearly equal (the five
 * features of Sines are alike, so each variance comes about five times) the
 * axes turn slowly inside their near-common eigenspace, and any of them
 * gives as true a view. Between rounds V = Gram-Schmidt(W rotated likewise). The u_k are the axes, lambda_k
 * the variances along them; each axis is signed so that its entry of largest
 * magnitude is positive.
 */
#ifndef GRUGAN_EXAMPLES_PCA_H
#define GRUGAN_EXAMPLES_PCA_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PCA_MAX_ROUNDS 1000
#define PCA_TOLERANCE 1e-10

typedef struct pca2 {
    size_t d;
    double *mean;          /* (d) */
    double *axes;          /* (2, d): orthonormal rows, the first of larger variance */
    double variance[2];    /* along each axis */
    double total_variance; /* trace of C: the variance summed over all directions */
    int rounds;            /* rounds of the iteration done */
} pca2;

/* dst (d) = src orthogonalized against the unit vector `against` (NULL: none)
 * and normalized. Returns the share of src's norm left after
 * orthogonalizing: 0 (dst is then 0) to 1; a share near 0 is rounding and
 * gives no direction. */
static inline double pca_orthonormal(double *dst, const double *src, const double *against,
                                     size_t d)
{
    double dot = 0, norm = 0, src_norm = 0;
    for (size_t j = 0; j < d && against; j++) dot += src[j] * against[j];
    for (size_t j = 0; j < d; j++) {
        dst[j] = src[j] - (against ? dot * against[j] : 0);
        norm += dst[j] * dst[j];
        src_norm += src[j] * src[j];
    }
    norm = sqrt(norm);
    for (size_t j = 0; j < d; j++) dst[j] = norm > 0 ? dst[j] / norm : 0;
    return norm > 0 ? norm / sqrt(src_norm) : 0;
}

/* w (2, d) = C v for v (2, d), x (n, d), mean (d); diff (d) is room. */
static inline void pca_apply(const float *x, size_t n, size_t d, const double *mean,
                             const double *v, double *w, double *diff)
{
    memset(w, 0, 2 * d * sizeof *w);
    for (size_t i = 0; i < n; i++) {
        double s0 = 0, s1 = 0;
        for (size_t j = 0; j < d; j++) {
            diff[j] = (double)x[i * d + j] - mean[j];
            s0 += diff[j] * v[j];
            s1 += diff[j] * v[d + j];
        }
        for (size_t j = 0; j < d; j++) {
            w[j] += s0 * diff[j];
            w[d + j] += s1 * diff[j];
        }
    }
    for (size_t j = 0; j < 2 * d; j++) w[j] /= (double)n;
}

/* Rows 0 and 1 of m (2, d) replaced by cos r0 + sin r1 and -sin r0 + cos r1. */
static inline void pca_rotate(double *m, size_t d, double c, double s)
{
    for (size_t j = 0; j < d; j++) {
        const double a = m[j], b = m[d + j];
        m[j] = c * a + s * b;
        m[d + j] = -s * a + c * b;
    }
}

/* Makes the rows of v (2, d) orthonormal, taking them from w (2, d) where
 * w gives a direction and from the unit vectors e_0, e_1, ... where it gives
 * none (w_0 = 0: all vectors equal; w_1 along w_0: they lie on a line; d ==
 * 1: the second row is then 0). e (d) is room. */
static inline void pca_basis(double *v, const double *w, size_t d, double *e)
{
    if (pca_orthonormal(v, w, NULL, d) == 0)
        for (size_t k = 0; k < d; k++) {
            memset(e, 0, d * sizeof *e);
            e[k] = 1;
            if (pca_orthonormal(v, e, NULL, d) > 0) break;
        }
    if (pca_orthonormal(v + d, w + d, v, d) < 1e-8)
        for (size_t k = 0; k < d; k++) { /* one e_k keeps at least sqrt(1/2) when d >= 2 */
            memset(e, 0, d * sizeof *e);
            e[k] = 1;
            if (pca_orthonormal(v + d, e, v, d) > 0.5) break;
        }
}

/* The residual |C u - lambda u| of row u of v against row w of C v. */
static inline double pca_residual(const double *w, const double *u, double lambda, size_t d)
{
    double r = 0;
    for (size_t j = 0; j < d; j++) r += (w[j] - lambda * u[j]) * (w[j] - lambda * u[j]);
    return sqrt(r);
}

/* Fits the first two principal components of x (n, d), n >= 1, d >= 1, into
 * *p (its buffers allocated here; free them with pca2_free, also after a
 * failure). Returns 0, or -1 if out of memory. */
static inline int pca2_fit(pca2 *p, const float *x, size_t n, size_t d)
{
    double *v = malloc(2 * d * sizeof *v), *w = malloc(2 * d * sizeof *w);
    double *diff = malloc(d * sizeof *diff);
    unsigned long long state = 0x2545F4914F6CDD1Dull;
    int ok;
    memset(p, 0, sizeof *p);
    p->d = d;
    p->mean = calloc(d, sizeof *p->mean);
    p->axes = calloc(2 * d, sizeof *p->axes);
    ok = v && w && diff && p->mean && p->axes;
    for (size_t i = 0; ok && i < n; i++)
        for (size_t j = 0; j < d; j++) p->mean[j] += x[i * d + j];
    for (size_t j = 0; ok && j < d; j++) p->mean[j] /= (double)n;
    for (size_t i = 0; ok && i < n; i++)
        for (size_t j = 0; j < d; j++) {
            const double c = (double)x[i * d + j] - p->mean[j];
            p->total_variance += c * c / (double)n;
        }
    for (size_t j = 0; ok && j < 2 * d; j++) { /* a fixed start: xorshift64 in [-1, 1) */
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        w[j] = (double)(state >> 11) / 4503599627370496.0 - 1.0;
    }
    if (ok) pca_basis(v, w, d, diff);
    for (int round = 0; ok && round < PCA_MAX_ROUNDS; round++) {
        double a = 0, b = 0, c = 0, theta, l1, l2;
        pca_apply(x, n, d, p->mean, v, w, diff);
        for (size_t j = 0; j < d; j++) {
            a += v[j] * w[j];
            b += v[j] * w[d + j];
            c += v[d + j] * w[d + j];
        }
        theta = 0.5 * atan2(2 * b, a - c);
        l1 = a * cos(theta) * cos(theta) + 2 * b * sin(theta) * cos(theta) +
             c * sin(theta) * sin(theta);
        l2 = a + c - l1;
        pca_rotate(v, d, cos(theta), sin(theta));
        pca_rotate(w, d, cos(theta), sin(theta));
        memcpy(p->axes, v, 2 * d * sizeof *v);
        p->variance[0] = l1;
        p->variance[1] = l2;
        p->rounds = round + 1;
        if (pca_residual(w, v, l1, d) <= PCA_TOLERANCE * l1 &&
            pca_residual(w + d, v + d, l2, d) <= PCA_TOLERANCE * l1)
            break;
        pca_basis(v, w, d, diff);
    }
    for (int k = 0; ok && k < 2; k++) { /* the sign: the largest entry positive */
        double *axis = p->axes + (size_t)k * d, big = 0;
        for (size_t j = 0; j < d; j++) big = fabs(axis[j]) > fabs(big) ? axis[j] : big;
        for (size_t j = 0; j < d && big < 0; j++) axis[j] = -axis[j];
        if (p->variance[k] < 0) p->variance[k] = 0; /* rounding of a zero variance */
    }
    free(v);
    free(w);
    free(diff);
    return ok ? 0 : -1;
}

static inline void pca2_free(pca2 *p)
{
    free(p->mean);
    free(p->axes);
    p->mean = p->axes = NULL;
}

/* The coordinates (2) of x (d) on the two axes: (x - mean) . axis_k. */
static inline void pca2_project(const pca2 *p, const float *x, double *out)
{
    out[0] = out[1] = 0;
    for (size_t j = 0; j < p->d; j++) {
        const double c = (double)x[j] - p->mean[j];
        out[0] += c * p->axes[j];
        out[1] += c * p->axes[p->d + j];
    }
}

#endif
