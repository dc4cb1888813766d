/* penalty.c - squared-norm and unit-norm penalties of per-row gradients
 * (the math is in nn/penalty.h). */
#include "nn/penalty.h"

#include <math.h>

double grugan__penalty(grugan__penalty_kind kind, double scale, const float *g, float *u,
                       size_t B, size_t n)
{
    double total = 0.0;
    for (size_t b = 0; b < B; b++) {
        const float *row = g + b * n;
        double sq = 0.0, norm, phi, coef; /* u_b = coef * g_b */
        for (size_t i = 0; i < n; i++) sq += (double)row[i] * (double)row[i];
        norm = sqrt(sq);
        if (kind == GRUGAN__PENALTY_SQUARED_NORM) {
            phi = sq;
            coef = 2.0;
        } else {
            phi = (norm - 1.0) * (norm - 1.0);
            coef = norm > 0.0 ? 2.0 * (norm - 1.0) / norm : 0.0;
        }
        total += phi;
        if (u) {
            const double c = coef * scale / (double)B;
            float *dst = u + b * n;
            for (size_t i = 0; i < n; i++) dst[i] = (float)(c * (double)row[i]);
        }
    }
    return scale * total / (double)B;
}
