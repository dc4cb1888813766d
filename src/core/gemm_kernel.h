/*
 * gemm_kernel.h - the library's own single-precision matrix product, for
 * CPUs where BLIS runs a slow generic micro-kernel and for products too
 * small to pay for BLIS's packing. Callers go through grugan__sgemm
 * (blas.h), which picks this kernel or BLIS per shape.
 */
#ifndef GRUGAN_GEMM_KERNEL_H
#define GRUGAN_GEMM_KERNEL_H

#include <stddef.h>

/* Instruction-set variants of the kernel, in increasing order. */
enum {
    GRUGAN__GEMM_ISA_PORTABLE = 0, /* compiler vectors at the build's base ISA */
    GRUGAN__GEMM_ISA_AVX2 = 1,     /* x86-64 AVX2 + FMA */
    GRUGAN__GEMM_ISA_AVX512 = 2    /* x86-64 AVX-512F */
};

/* The best variant this CPU runs (GRUGAN__GEMM_ISA_PORTABLE elsewhere than
 * x86-64). Cheap: reads the CPU features the runtime detected at start. */
int grugan__gemm_isa_best(void);

/* Whether the variant `isa` is built with vector registers, i.e. is worth
 * preferring over a reference BLIS (false only for compilers without GNU
 * vector extensions, where the kernel is plain loops). */
int grugan__gemm_isa_vectorized(int isa);

/*
 * C := alpha * A B + beta * C with the contract of grugan__sgemm (blas.h):
 * any strides, beta == 0 never reads C, m, n or k may be 0, results
 * bit-identical for every `threads` (k is never split and the blocking does
 * not depend on it). `isa` is a variant; a negative one, or one this CPU
 * does not run, means grugan__gemm_isa_best(). Uses at most about 36 KB of stack per
 * thread and no heap.
 */
void grugan__gemm_kernel(int isa, int threads, size_t m, size_t n, size_t k, float alpha,
                         const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b,
                         ptrdiff_t rsb, ptrdiff_t csb, float beta, float *c, ptrdiff_t rsc,
                         ptrdiff_t csc);

#endif
