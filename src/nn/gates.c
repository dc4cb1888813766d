/* gates.c - gates_impl.h compiled for the baseline, AVX2 + FMA and AVX-512,
 * and the choice among them by the CPU's features. */
#include "nn/gates.h"

#include "core/gemm_kernel.h"
#include "nn/fastmath.h"

#define GATES_NAME(x) gates_base_##x
#define GATES_TARGET
#include "nn/gates_impl.h"
#undef GATES_NAME
#undef GATES_TARGET

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GATES_X86 1

#define GATES_NAME(x) gates_avx2_##x
#define GATES_TARGET __attribute__((target("avx2,fma")))
#include "nn/gates_impl.h"
#undef GATES_NAME
#undef GATES_TARGET

#define GATES_NAME(x) gates_avx512_##x
#define GATES_TARGET __attribute__((target("avx512f,avx2,fma")))
#include "nn/gates_impl.h"
#undef GATES_NAME
#undef GATES_TARGET
#endif

const grugan__gates *grugan__gates_for_cpu(void)
{
#ifdef GATES_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return &gates_avx512_table;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &gates_avx2_table;
#endif
    return &gates_base_table;
}

const grugan__gates *grugan__gates_for_isa(int isa)
{
    if (isa == GRUGAN__GEMM_ISA_PORTABLE) return &gates_base_table;
#ifdef GATES_X86
    __builtin_cpu_init();
    if (isa == GRUGAN__GEMM_ISA_AVX2 && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        return &gates_avx2_table;
    if (isa == GRUGAN__GEMM_ISA_AVX512 && __builtin_cpu_supports("avx512f"))
        return &gates_avx512_table;
#endif
    return NULL;
}
