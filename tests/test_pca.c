/* test_pca.c - examples/pca.h, the PCA behind evaluate's picture, on known
 * cases: points built on three orthogonal axes with variances 9, 4 and 1
 * (the axes, variances and coordinates come back exactly), equal variances
 * of the top two (any orthonormal pair of the plane is right), all points
 * equal, points on a line, one dimension, and determinism. */
#include "suites.h"

#include "../examples/pca.h"

#include <math.h>
#include <stdlib.h>

enum { D = 5, N = 8 };

/* An orthonormal basis of R^5 (rows): a rotation, so that the axes are not
 * the unit vectors. */
static void make_basis(double basis[3][D])
{
    static const double raw[3][D] = {{1, 2, 0, -1, 3}, {2, -1, 1, 0, 0}, {0, 1, 3, 1, -1}};
    for (int k = 0; k < 3; k++) {
        double norm = 0;
        for (int j = 0; j < D; j++) basis[k][j] = raw[k][j];
        for (int m = 0; m < k; m++) { /* Gram-Schmidt */
            double dot = 0;
            for (int j = 0; j < D; j++) dot += basis[k][j] * basis[m][j];
            for (int j = 0; j < D; j++) basis[k][j] -= dot * basis[m][j];
        }
        for (int j = 0; j < D; j++) norm += basis[k][j] * basis[k][j];
        for (int j = 0; j < D; j++) basis[k][j] /= sqrt(norm);
    }
}

/* The 8 points mean + a u + b w + c z for a in {-s0, s0}, b in {-s1, s1}, c
 * in {-s2, s2}: a full factorial design, so the covariance is exactly
 * s0^2 u u^T + s1^2 w w^T + s2^2 z z^T. coords (N, 3) receives (a, b, c). */
static void make_points(float *x, double coords[N][3], const double s[3],
                        double basis[3][D])
{
    static const double mean[D] = {0.5, -1, 2, 0, 0.25};
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 3; k++) coords[i][k] = (i >> k & 1 ? 1 : -1) * s[k];
        for (int j = 0; j < D; j++) {
            double v = mean[j];
            for (int k = 0; k < 3; k++) v += coords[i][k] * basis[k][j];
            x[i * D + j] = (float)v;
        }
    }
}

/* The sign pca.h gives an axis: its entry of largest magnitude positive. */
static double sign_of(const double *axis)
{
    double big = 0;
    for (int j = 0; j < D; j++) big = fabs(axis[j]) > fabs(big) ? axis[j] : big;
    return big < 0 ? -1 : 1;
}

/* The dot product of rows of length D. */
static double dot(const double *a, const double *b)
{
    double s = 0;
    for (int j = 0; j < D; j++) s += a[j] * b[j];
    return s;
}

START_TEST(test_known_axes)
{
    const double s[3] = {3, 2, 1};
    double basis[3][D], coords[N][3], xy[2];
    float x[N * D];
    pca2 p;
    make_basis(basis);
    make_points(x, coords, s, basis);
    ck_assert_int_eq(pca2_fit(&p, x, N, D), 0);
    ck_assert_double_eq_tol(p.variance[0], 9, 1e-5);
    ck_assert_double_eq_tol(p.variance[1], 4, 1e-5);
    ck_assert_double_eq_tol(p.total_variance, 14, 1e-5);
    ck_assert_int_lt(p.rounds, PCA_MAX_ROUNDS);
    for (int k = 0; k < 2; k++) {
        const double sign = sign_of(basis[k]);
        for (int j = 0; j < D; j++)
            ck_assert_double_eq_tol(p.axes[k * D + j], sign * basis[k][j], 1e-6);
    }
    for (int i = 0; i < N; i++) { /* the coordinates are (a, b), signed like the axes */
        pca2_project(&p, x + i * D, xy);
        ck_assert_double_eq_tol(xy[0], sign_of(basis[0]) * coords[i][0], 1e-5);
        ck_assert_double_eq_tol(xy[1], sign_of(basis[1]) * coords[i][1], 1e-5);
    }
    pca2_free(&p);
}
END_TEST

START_TEST(test_equal_top_variances)
{
    const double s[3] = {2, 2, 0.5};
    double basis[3][D], coords[N][3];
    float x[N * D];
    pca2 p;
    make_basis(basis);
    make_points(x, coords, s, basis);
    ck_assert_int_eq(pca2_fit(&p, x, N, D), 0);
    ck_assert_double_eq_tol(p.variance[0], 4, 1e-5);
    ck_assert_double_eq_tol(p.variance[1], 4, 1e-5);
    for (int k = 0; k < 2; k++) { /* unit, orthogonal, inside the plane of u and w */
        const double *axis = p.axes + k * D;
        const double in_plane = dot(axis, basis[0]) * dot(axis, basis[0]) +
                                dot(axis, basis[1]) * dot(axis, basis[1]);
        ck_assert_double_eq_tol(dot(axis, axis), 1, 1e-9);
        ck_assert_double_eq_tol(in_plane, 1, 1e-6);
    }
    ck_assert_double_eq_tol(dot(p.axes, p.axes + D), 0, 1e-9);
    pca2_free(&p);
}
END_TEST

START_TEST(test_degenerate_sets)
{
    float same[4 * D], line[4 * D], one[3] = {1, 2, 6};
    double basis[3][D], xy[2];
    pca2 p;
    make_basis(basis);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < D; j++) {
            same[i * D + j] = (float)j;
            line[i * D + j] = (float)((i - 1.5) * basis[0][j]); /* variance 1.25 along u */
        }
    ck_assert_int_eq(pca2_fit(&p, same, 4, D), 0);
    ck_assert(p.variance[0] == 0 && p.variance[1] == 0 && p.total_variance == 0);
    ck_assert_double_eq_tol(dot(p.axes, p.axes), 1, 1e-12);
    ck_assert_double_eq_tol(dot(p.axes + D, p.axes + D), 1, 1e-12);
    ck_assert_double_eq_tol(dot(p.axes, p.axes + D), 0, 1e-12);
    pca2_project(&p, same, xy);
    ck_assert(xy[0] == 0 && xy[1] == 0);
    pca2_free(&p);

    ck_assert_int_eq(pca2_fit(&p, line, 4, D), 0);
    ck_assert_double_eq_tol(p.variance[0], 1.25, 1e-6);
    ck_assert_double_eq_tol(p.variance[1], 0, 1e-6);
    ck_assert_double_eq_tol(fabs(dot(p.axes, basis[0])), 1, 1e-6);
    ck_assert_double_eq_tol(dot(p.axes + D, p.axes + D), 1, 1e-9);
    ck_assert_double_eq_tol(dot(p.axes, p.axes + D), 0, 1e-6);
    pca2_free(&p);

    ck_assert_int_eq(pca2_fit(&p, one, 3, 1), 0); /* d = 1: one axis, the second is 0 */
    ck_assert_double_eq_tol(p.variance[0], 14.0 / 3, 1e-9);
    ck_assert(p.axes[0] == 1 && p.axes[1] == 0 && p.variance[1] == 0);
    pca2_project(&p, one + 2, xy);
    ck_assert_double_eq_tol(xy[0], 3, 1e-9);
    pca2_free(&p);
}
END_TEST

START_TEST(test_deterministic)
{
    enum { M = 200, E = 12 };
    float *x = malloc(M * E * sizeof *x);
    unsigned long long state = 7;
    pca2 a, b;
    ck_assert_ptr_nonnull(x);
    for (int i = 0; i < M * E; i++) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        x[i] = (float)(state >> 40) / 16777216.0f * (float)(1 + i % E); /* growing spread */
    }
    ck_assert_int_eq(pca2_fit(&a, x, M, E), 0);
    ck_assert_int_eq(pca2_fit(&b, x, M, E), 0);
    ck_assert(memcmp(a.axes, b.axes, 2 * E * sizeof *a.axes) == 0);
    ck_assert(a.variance[0] == b.variance[0] && a.variance[1] == b.variance[1]);
    ck_assert(a.variance[0] >= a.variance[1] && a.variance[1] > 0);
    ck_assert(a.variance[0] + a.variance[1] <= a.total_variance);
    pca2_free(&a);
    pca2_free(&b);
    free(x);
}
END_TEST

Suite *suite_pca(void)
{
    Suite *s = suite_create("pca");
    TCase *known = tcase_create("known cases");
    tcase_add_test(known, test_known_axes);
    tcase_add_test(known, test_equal_top_variances);
    tcase_add_test(known, test_degenerate_sets);
    tcase_add_test(known, test_deterministic);
    suite_add_tcase(s, known);
    return s;
}
