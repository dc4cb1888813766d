/*
 * gates.h - the elementwise GRU gate math of one batch row (see gates_impl.h
 * for the equations), as a table of functions compiled for the best
 * instruction set of the running CPU (AVX-512, AVX2 + FMA, or the baseline).
 * Every variant gives results within float rounding of the others; one
 * process always uses the same variant, so results stay reproducible.
 */
#ifndef GRUGAN_NN_GATES_H
#define GRUGAN_NN_GATES_H

#include <stddef.h>

typedef struct grugan__gates {
    void (*forward_after)(size_t rows, size_t H, float *g, const float *gh, const float *b_ih,
                          const float *b_hh, float *ghn);
    void (*forward_before_rz)(size_t H, float *g, const float *gh, const float *b_ih,
                              const float *b_hh, const float *h, float *rh);
    void (*forward_before_n)(size_t H, float *g, const float *ghn, const float *b_ih,
                             const float *b_hh);
    void (*blend)(size_t H, const float *z, const float *n, const float *h, float *hn);
    void (*backward_after)(size_t rows, size_t H, const float *gates, const float *ghn,
                           const float *h, float *dh, const float *dout, size_t dout_rs,
                           float *dgx, float *dgh);
    void (*backward_before_zn)(size_t H, const float *gates, const float *h, float *dh,
                               const float *dout, float *dgx, float *dgh);
    void (*backward_before_r)(size_t H, const float *gates, const float *h, const float *drh,
                              float *dh, float *dgx, float *dgh);
    void (*sum_rows)(size_t rows, size_t cols, size_t stride, const float *m, double *sum);
} grugan__gates;

/* The variant for this CPU (an immutable table). */
const grugan__gates *grugan__gates_for_cpu(void);

/* The variant of instruction-set level `isa` (GRUGAN__GEMM_ISA_PORTABLE,
 * _AVX2 or _AVX512 of core/gemm_kernel.h), or NULL when this CPU or this
 * build does not run it: lets the tests force every path the machine has. */
const grugan__gates *grugan__gates_for_isa(int isa);

#endif
