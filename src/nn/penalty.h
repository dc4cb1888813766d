/*
 * penalty.h - the scalar functions of an input gradient that gradient
 * penalties take (R1, R2, WGAN-GP), and their gradients.
 *
 * Letters: B rows (one per sequence), n values per row (g_b is row b).
 *
 *   squared norm (R1, R2):   phi(g_b) = ||g_b||^2        dphi/dg_b = 2 g_b
 *   unit norm (WGAN-GP):     phi(g_b) = (||g_b|| - 1)^2  dphi/dg_b = 2 (||g_b|| - 1) g_b / ||g_b||
 *                            (0 at g_b = 0, where phi has no gradient)
 *   P = scale / B * sum_b phi(g_b)
 *
 * Computed in double, each row's sum of squares in ascending order and the
 * rows in ascending order: the same bits for any thread count.
 */
#ifndef GRUGAN_NN_PENALTY_H
#define GRUGAN_NN_PENALTY_H

#include <stddef.h>

typedef enum grugan__penalty_kind {
    GRUGAN__PENALTY_SQUARED_NORM = 0,
    GRUGAN__PENALTY_UNIT_NORM = 1
} grugan__penalty_kind;

/*
 * Returns P; u = dP/dg when u is not NULL.
 *   g (B, n)
 *   u (B, n) or NULL; may be g itself (each row is read before it is written)
 */
double grugan__penalty(grugan__penalty_kind kind, double scale, const float *g, float *u,
                       size_t B, size_t n);

#endif
