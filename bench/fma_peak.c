/* fma_peak.c - the machine's measured limit for single-precision arithmetic:
 * fused multiply-add throughput with AVX2 (8 floats) and AVX-512 (16 floats)
 * vectors, on 1 and on all requested threads, so that bench/run.sh can give
 * every timing also as a share of what the cores can do.
 *
 * Each thread runs ACC independent accumulator chains acc = acc * m + a,
 * enough to cover the FMA latency on every x86 core of the last ten years
 * (latency 4-5 cycles, two FMA pipes), for ITERS rounds; 2 flops per lane
 * per FMA; one repeat takes about half a millisecond. The figure is the best
 * of 200 repeats (the least disturbed by other work); threads run at the
 * same time and their flops are summed.
 *
 * It prints, for each variant the CPU runs and each thread count,
 *   peak isa=avx512 threads=1 gflops=123.4
 * and two comment lines that record the machine:
 *   # cpu: AMD EPYC (family 26, model 2)
 *   # blis: arch=generic sgemm_ukernel=reference
 * (BLIS's configuration for this CPU and whether its sgemm micro-kernel is
 * an optimized or the reference one: the library's own kernel does the
 * products when it is the reference one, see src/core/blas.c).
 *
 * Options: --threads LIST (comma-separated, default 1,2), --quick (fewer
 * repeats: a smoke test).
 */
#include <blis.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define MAX_THREADS 16
#define ITERS 200000L

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PEAK_X86 1

/* 12 chains of 8-float FMAs; returns a value that depends on all of them. */
__attribute__((target("avx2,fma"))) static float chains_avx2(long iters, float seed)
{
    __m256 acc[12];
    const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
    float out[8], sum = 0.0f;
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps(seed + (float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], m, a);
    }
    for (int i = 1; i < 12; i++) acc[0] = _mm256_add_ps(acc[0], acc[i]);
    _mm256_storeu_ps(out, acc[0]);
    for (int i = 0; i < 8; i++) sum += out[i];
    return sum;
}

/* 24 chains of 16-float FMAs. */
__attribute__((target("avx512f"))) static float chains_avx512(long iters, float seed)
{
    __m512 acc[24];
    const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 24; i++) acc[i] = _mm512_set1_ps(seed + (float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++) acc[i] = _mm512_fmadd_ps(acc[i], m, a);
    }
    for (int i = 1; i < 24; i++) acc[0] = _mm512_add_ps(acc[0], acc[i]);
    return _mm512_reduce_add_ps(acc[0]);
}
#endif

typedef struct variant {
    const char *name;
    float (*run)(long iters, float seed);
    double flops_per_iter; /* per thread */
} variant;

/* GFLOP/s of `threads` threads running v at once: the best of `repeats`. */
static double measure(const variant *v, int threads, int repeats, float *sink)
{
    double best = 0.0;
    for (int r = 0; r < repeats; r++) {
        double t0 = now_seconds(), dt;
        float s = 0.0f;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : s)
        s += v->run(ITERS, (float)omp_get_thread_num());
#else
        s += v->run(ITERS, 0.0f);
        threads = 1;
#endif
        dt = now_seconds() - t0;
        *sink += s;
        if (dt > 0.0 && v->flops_per_iter * (double)ITERS * threads / dt * 1e-9 > best)
            best = v->flops_per_iter * (double)ITERS * threads / dt * 1e-9;
    }
    return best;
}

/* The "model name" line of /proc/cpuinfo and the family and model numbers. */
static void print_cpu(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512], name[256] = "unknown", family[32] = "?", model[32] = "?";
    if (f) {
        while (fgets(line, sizeof line, f)) {
            char *colon = strchr(line, ':');
            char *value;
            if (!colon) continue;
            value = colon + 1 + strspn(colon + 1, " \t");
            value[strcspn(value, "\n")] = '\0';
            if (strncmp(line, "model name", 10) == 0 && strcmp(name, "unknown") == 0)
                snprintf(name, sizeof name, "%s", value);
            else if (strncmp(line, "cpu family", 10) == 0 && strcmp(family, "?") == 0)
                snprintf(family, sizeof family, "%s", value);
            else if (strncmp(line, "model\t", 6) == 0 && strcmp(model, "?") == 0)
                snprintf(model, sizeof model, "%s", value);
        }
        fclose(f);
    }
    printf("# cpu: %s (family %s, model %s)\n", name, family, model);
}

static void print_blis(void)
{
    int optimized;
    bli_init();
    optimized =
        bli_gks_l3_ukr_impl_type(BLIS_GEMM_UKR, BLIS_NAT, BLIS_FLOAT) == BLIS_OPTIMIZED_UKERNEL;
    printf("# blis: %s arch=%s sgemm_ukernel=%s\n", bli_info_get_version_str(),
           bli_arch_string(bli_arch_query_id()), optimized ? "optimized" : "reference");
}

static int parse_threads(const char *list, int *threads, size_t *n)
{
    const char *s = list;
    *n = 0;
    for (;;) {
        char *end;
        long v;
        errno = 0;
        v = strtol(s, &end, 10);
        if (end == s || errno != 0 || v < 1 || v > 256 || *n == MAX_THREADS) return -1;
        threads[(*n)++] = (int)v;
        if (*end == '\0') return 0;
        if (*end != ',') return -1;
        s = end + 1;
    }
}

int main(int argc, char **argv)
{
    int threads[MAX_THREADS] = {1, 2};
    size_t n_threads = 2, n_variants = 0;
    int repeats = 200;
    variant variants[2];
    float sink = 0.0f;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            repeats = 1;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (parse_threads(argv[++i], threads, &n_threads) != 0) {
                fprintf(stderr, "fma_peak: bad --threads '%s' (e.g. 1,2)\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: fma_peak [--threads 1,2] [--quick]\n");
            return 2;
        }
    }
#ifdef PEAK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        variants[n_variants++] = (variant){"avx2", chains_avx2, 12 * 8 * 2};
    if (__builtin_cpu_supports("avx512f"))
        variants[n_variants++] = (variant){"avx512", chains_avx512, 24 * 16 * 2};
#endif
    print_cpu();
    print_blis();
    if (n_variants == 0) printf("# no AVX2 or AVX-512 on this CPU: no peak measured\n");
    for (size_t v = 0; v < n_variants; v++)
        for (size_t t = 0; t < n_threads; t++)
            printf("peak isa=%s threads=%d gflops=%.1f\n", variants[v].name, threads[t],
                   measure(&variants[v], threads[t], repeats, &sink));
    /* the sums are never 0 for these inputs; printing keeps them computed */
    if (sink == 0.0f) printf("# (checksum 0)\n");
    return 0;
}
