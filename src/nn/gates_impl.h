/*
 * gates_impl.h - the elementwise GRU gate math of one batch row, written once
 * and compiled by gates.c for several instruction sets. Include only from
 * gates.c, with GATES_NAME(x) (adds a suffix) and GATES_TARGET (a target
 * attribute, or nothing) defined. H is the hidden size; every array holds
 * one row unless it says otherwise.
 */

#ifndef GATES_CHUNK
/* Floats of the stack buffer that gathers a few rows for one long loop. */
#define GATES_CHUNK 1024
#endif

/* Reset after (PyTorch), for each of `rows` rows:
 *   r = sigmoid(gx_r + b_ir + gh_r + b_hr)    z = sigmoid(gx_z + b_iz + gh_z + b_hz)
 *   ghn = gh_n + b_hn                         n = tanh(gx_n + b_in + r * ghn)
 * g (rows, 3H): x W_ih^T on entry, r z n on exit; gh (rows, 3H) = h W_hh^T;
 * ghn (rows, H) out. The same operations on every element as a loop over
 * single rows, arranged for whole vectors: r and z are adjacent (one loop of
 * 2H), and the arguments of tanh of up to GATES_CHUNK / H rows are gathered
 * into one contiguous run, so a small H (24: one vector and a half) does not
 * leave the vector units half empty. */
GATES_TARGET static void GATES_NAME(forward_after)(size_t rows, size_t H, float *g,
                                                   const float *gh, const float *b_ih,
                                                   const float *b_hh, float *ghn)
{
    float arg[GATES_CHUNK]; /* (chunk, H): the arguments of tanh, then n */
    const size_t chunk = H <= GATES_CHUNK ? GATES_CHUNK / H : 1;
    for (size_t b0 = 0; b0 < rows; b0 += chunk) {
        const size_t nb = rows - b0 < chunk ? rows - b0 : chunk;
        /* H > GATES_CHUNK: one row at a time, its tanh in place */
        const int direct = H > GATES_CHUNK;
        for (size_t b = b0; b < b0 + nb; b++) {
            float *rz = g + b * 3 * H, *n = rz + 2 * H;
            float *a = direct ? n : arg + (b - b0) * H;
            const float *ghb = gh + b * 3 * H;
            float *ghnb = ghn + b * H;
#pragma omp simd
            for (size_t j = 0; j < 2 * H; j++)
                rz[j] = grugan__sigmoidf(rz[j] + b_ih[j] + ghb[j] + b_hh[j]);
#pragma omp simd
            for (size_t j = 0; j < H; j++) {
                ghnb[j] = ghb[2 * H + j] + b_hh[2 * H + j];
                a[j] = n[j] + b_ih[2 * H + j] + rz[j] * ghnb[j];
            }
            if (direct) {
#pragma omp simd
                for (size_t j = 0; j < H; j++) n[j] = grugan__tanhf(n[j]);
            }
        }
        if (direct) continue;
#pragma omp simd
        for (size_t i = 0; i < nb * H; i++) arg[i] = grugan__tanhf(arg[i]);
        for (size_t b = b0; b < b0 + nb; b++) {
            float *n = g + b * 3 * H + 2 * H;
            const float *a = arg + (b - b0) * H;
#pragma omp simd
            for (size_t j = 0; j < H; j++) n[j] = a[j];
        }
    }
}

/* Reset before, first half: r and z as above, then rh = r * h, the left
 * operand of the second recurrent product. */
GATES_TARGET static void GATES_NAME(forward_before_rz)(size_t H, float *g, const float *gh,
                                                       const float *b_ih, const float *b_hh,
                                                       const float *h, float *rh)
{
    float *r = g, *z = g + H;
#pragma omp simd
    for (size_t j = 0; j < H; j++) {
        r[j] = grugan__sigmoidf(r[j] + b_ih[j] + gh[j] + b_hh[j]);
        z[j] = grugan__sigmoidf(z[j] + b_ih[H + j] + gh[H + j] + b_hh[H + j]);
        rh[j] = r[j] * h[j];
    }
}

/* Reset before, second half, with ghn (H) = (r*h) W_hn^T:
 *   n = tanh(gx_n + b_in + ghn + b_hn) */
GATES_TARGET static void GATES_NAME(forward_before_n)(size_t H, float *g, const float *ghn,
                                                      const float *b_ih, const float *b_hh)
{
    float *n = g + 2 * H;
#pragma omp simd
    for (size_t j = 0; j < H; j++) n[j] = grugan__tanhf(n[j] + b_ih[2 * H + j] + ghn[j] + b_hh[2 * H + j]);
}

/* h' = (1 - z) n + z h  (hn may be h) */
GATES_TARGET static void GATES_NAME(blend)(size_t H, const float *z, const float *n,
                                           const float *h, float *hn)
{
#pragma omp simd
    for (size_t j = 0; j < H; j++) hn[j] = (1.0f - z[j]) * n[j] + z[j] * h[j];
}

/* Reset after, for each of `rows` rows, with g = dh' + dout (carried and
 * output gradient):
 *   dan = g (1 - z)(1 - n^2)   daz = g (h - n) z (1 - z)   dar = dan ghn r (1 - r)
 *   dgx = [dar, daz, dan]      dgh = [dar, daz, dan * r]   dh := g z
 * gates, dgx, dgh (rows, 3H); ghn, h, dh (rows, H); dout (rows, dout_rs). */
GATES_TARGET static void GATES_NAME(backward_after)(size_t rows, size_t H, const float *gates,
                                                    const float *ghn, const float *h, float *dh,
                                                    const float *dout, size_t dout_rs,
                                                    float *dgx, float *dgh)
{
    for (size_t b = 0; b < rows; b++) {
        const float *r = gates + b * 3 * H, *z = r + H, *n = r + 2 * H;
        const float *ghnb = ghn + b * H, *hb = h + b * H, *doutb = dout + b * dout_rs;
        float *dhb = dh + b * H, *dgxb = dgx + b * 3 * H, *dghb = dgh + b * 3 * H;
#pragma omp simd
        for (size_t j = 0; j < H; j++) {
            const float g = dhb[j] + doutb[j];
            const float dan = g * (1.0f - z[j]) * (1.0f - n[j] * n[j]);
            const float daz = g * (hb[j] - n[j]) * z[j] * (1.0f - z[j]);
            const float dar = dan * ghnb[j] * r[j] * (1.0f - r[j]);
            dgxb[j] = dghb[j] = dar;
            dgxb[H + j] = dghb[H + j] = daz;
            dgxb[2 * H + j] = dan;
            dghb[2 * H + j] = dan * r[j];
            dhb[j] = g * z[j];
        }
    }
}

/* Reset before, first half (n = tanh(gx_n + b_in + (r*h) W_hn^T + b_hn)):
 *   dan = g (1 - z)(1 - n^2)   daz = g (h - n) z (1 - z)
 *   dgx_n = dgh_n = dan        dgx_z = dgh_z = daz         dh := g z */
GATES_TARGET static void GATES_NAME(backward_before_zn)(size_t H, const float *gates,
                                                        const float *h, float *dh,
                                                        const float *dout, float *dgx,
                                                        float *dgh)
{
    const float *z = gates + H, *n = gates + 2 * H;
#pragma omp simd
    for (size_t j = 0; j < H; j++) {
        const float g = dh[j] + dout[j];
        const float dan = g * (1.0f - z[j]) * (1.0f - n[j] * n[j]);
        const float daz = g * (h[j] - n[j]) * z[j] * (1.0f - z[j]);
        dgx[2 * H + j] = dgh[2 * H + j] = dan;
        dgx[H + j] = dgh[H + j] = daz;
        dh[j] = g * z[j];
    }
}

/* Reset before, second half, with drh = dL/d(r*h) = dan W_hn:
 *   dar = drh h r (1 - r)      dgx_r = dgh_r = dar         dh += drh r */
GATES_TARGET static void GATES_NAME(backward_before_r)(size_t H, const float *gates,
                                                       const float *h, const float *drh,
                                                       float *dh, float *dgx, float *dgh)
{
    const float *r = gates;
#pragma omp simd
    for (size_t j = 0; j < H; j++) {
        const float dar = drh[j] * h[j] * r[j] * (1.0f - r[j]);
        dgx[j] = dgh[j] = dar;
        dh[j] += drh[j] * r[j];
    }
}

/* sum[j] += m[r * stride + j] over rows r in order, for `width` (16 or 8)
 * columns whose sums stay in registers for all rows. */
GATES_TARGET static inline void GATES_NAME(sum_block)(size_t rows, size_t width, size_t stride,
                                                     const float *m, double *sum)
{
    double acc[16];
    for (size_t j = 0; j < width; j++) acc[j] = sum[j];
    for (size_t r = 0; r < rows; r++) {
        const float *row = m + r * stride;
#pragma omp simd
        for (size_t j = 0; j < width; j++) acc[j] += (double)row[j];
    }
    for (size_t j = 0; j < width; j++) sum[j] = acc[j];
}

/* sum[j] += sum over rows r, in order, of m[r * stride + j], j < cols: the
 * bias gradients, summed in double. */
GATES_TARGET static void GATES_NAME(sum_rows)(size_t rows, size_t cols, size_t stride,
                                              const float *m, double *sum)
{
    size_t j0 = 0;
    /* Blocks of 16, then 8 columns (a plain loop over all columns stores and
     * reloads every sum once per row); each column still adds its rows in
     * order, so the bits are those of the plain loop. */
    for (; j0 + 16 <= cols; j0 += 16) GATES_NAME(sum_block)(rows, 16, stride, m + j0, sum + j0);
    if (j0 + 8 <= cols) {
        GATES_NAME(sum_block)(rows, 8, stride, m + j0, sum + j0);
        j0 += 8;
    }
    for (size_t r = 0; r < rows && j0 < cols; r++) {
        const float *row = m + r * stride;
#pragma omp simd
        for (size_t j = j0; j < cols; j++) sum[j] += (double)row[j];
    }
}

static const grugan__gates GATES_NAME(table) = {
    GATES_NAME(forward_after),  GATES_NAME(forward_before_rz), GATES_NAME(forward_before_n),
    GATES_NAME(blend),          GATES_NAME(backward_after),    GATES_NAME(backward_before_zn),
    GATES_NAME(backward_before_r), GATES_NAME(sum_rows),
};
