/*
 * gemm_kernel.c - a register-blocked single-precision matrix product.
 *
 * Measured (throwaway timing program, not in the tree) on the development
 * machine: 2-core AMD EPYC, Zen 5 (AVX-512), Debian 12 BLIS 0.9.0, which does
 * not recognize the CPU and runs its generic reference micro-kernel. GF/s =
 * 2mnk / time. 1 thread: process CPU time, median of 21 interleaved samples,
 * best of 3 runs; 2 threads: wall time, fastest sample. The machine was
 * shared with other builds, so figures vary by about 15%. The shapes are the
 * GRU's products with its strides (gru.c): TimeGAN (tg) I=5 H=24 T=24 B=128,
 * mid I=64 H=256 T=50 B=64, big I=128 H=512 T=100 B=32.
 *
 *                              |   1 thread: BLIS and own kernel   | 2 threads
 *   product         m    n    k | BLIS  AVX-512  AVX2  portable | BLIS  AVX-512
 *   tg fwd step   128   72   24 |   17     126     85      30  |   17    139
 *   tg bwd step   128   24   72 |   14     122     79      32  |   16    139
 *   tg x W_ih^T  3072   72    5 |   10      56     51      22  |   21     96
 *   tg dW_ih       72    5 3072 |    7      56     66      29  |   10     68
 *   tg dX        3072    5   72 |    8      65     50      18  |   15    120
 *   tg x W_ih^T  3072   72   24 |   20     118     87      31  |   45    242
 *   tg dW_ih       72   24 3072 |   20     123     84      34  |   32    165
 *   tg dX        3072   24   72 |   21     128     85      34  |   42    256
 *   tg dW_hh       72   24 3072 |   21     132     90      34  |   32    166
 *   mid fwd step   64  768  256 |   31     192     99      34  |   59    357
 *   mid bwd step   64  256  768 |   31     193     98      34  |   52    305
 *   mid x W_ih^T 3200  768   64 |   33     186    101      36  |   62    350
 *   mid dW_ih     768   64 3200 |   30     179     96      34  |   57    254
 *   mid dX       3200   64  768 |   29     149     89      34  |   58    254
 *   mid dW_hh     768  256 3200 |   31     164     90      32  |   64    320
 *   big fwd step   32 1536  512 |   28     176     94      32  |   53    344
 *   big bwd step   32  512 1536 |   29     178     84      34  |   48    263
 *   big x W_ih^T 3200 1536  128 |   34     184     99      35  |   67    367
 *   big dW_ih    1536  128 3200 |   32     175     91      33  |   64    311
 *   big dX       3200  128 1536 |   31     156     88      34  |   64    302
 *   big dW_hh    1536  512 3200 |   33     170     89      32  |   66    343
 *
 * Against an optimized BLIS (forced with BLIS_ARCH_TYPE on the same machine,
 * 1 thread): its skx kernels reach 13-181 GF/s on these products and the own
 * AVX-512 kernel is as fast or faster on every one (up to 4.6x on the small
 * ones, within 5% on the largest); its zen3 (AVX2) kernels reach 6-98 GF/s
 * and the own AVX2 kernel is 1.2-9x faster below about 4M multiply-adds or
 * for k <= 128, up to 15% slower on large products with long k. Square
 * products of 512-2048: the own AVX-512 kernel equals skx, the own AVX2
 * kernel is 10-20% below zen3. blas.c chooses accordingly, except that it
 * never gives a product to BLIS's AVX2-class kernels, whose bits change with
 * their thread count (docs/RELIABILITY.md). For the whole GRU
 * (bench/gru_bench, 1 thread, CPU time) the own kernel makes forward +
 * backward 3.6x (TimeGAN), 4.8x (mid) and 5.3x (big) faster than the
 * generic BLIS.
 *
 * Design. C (m, n) is cut into tiles of MR rows x NR columns held in vector
 * registers; each step p of the inner loop loads one row of B (NR floats,
 * contiguous) and broadcasts MR elements of A, one fused multiply-add per
 * register. B is used in place when its rows are contiguous (csb == 1) and
 * few row tiles use the panel; otherwise a panel of at most GK_KC x NR
 * floats is packed into a stack buffer (32 KB), zero-padded to whole vectors
 * (columns of B are transposed 8 x 8 in registers). A is never packed: its
 * elements are broadcast from wherever they are. k is cut into blocks of
 * GK_KC; C is updated once per block (beta for the first, 1 after). The whole
 * product may be run transposed (C^T = B^T A^T) when that packs less or
 * wastes fewer vector lanes (a rough cycle count decides); a tile of C with
 * contiguous columns is then stored 8 x 8-transposed. Threads take disjoint
 * ranges of whole tiles, so every element of C is computed by the same
 * operations in the same order whatever the thread count.
 *
 * Variants: AVX-512F (16-float vectors, 8 x 32 tiles), AVX2 + FMA (8-float
 * vectors, 6 x 16 tiles) and a portable one (4-float compiler vectors,
 * 4 x 8 tiles), chosen at run time from the CPU's features. Compilers
 * without GNU vector extensions get plain loops.
 */
#include "gemm_kernel.h"
#include "parallel.h"

#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define GK_VECTORS 1
#endif
#if defined(GK_VECTORS) && defined(__x86_64__)
#define GK_X86 1
#include <immintrin.h>
#endif

/* Blocking: k in blocks of GK_KC (a packed panel of B is GK_KC x NR floats,
 * 32 KB at NR = 32); rows in blocks of GK_MC (a multiple of every variant's
 * MR), so that the block of A stays in the level-2 cache while the panels of
 * B pass by. A panel of B with contiguous rows is used in place unless
 * GK_PACK_TILES or more row tiles use it: then a contiguous copy, free of
 * the cache-set conflicts of power-of-two row strides, pays for itself. */
#define GK_KC 256
#define GK_MC 192
#define GK_PACK_TILES 16
#define GK_MR_MAX 8
#define GK_NV_MAX 2
#define GK_NR_MAX 32

static size_t gk_min(size_t x, size_t y)
{
    return x < y ? x : y;
}

/* ---- the problem, possibly transposed ------------------------------------------ */

typedef struct gk_problem {
    size_t m, n, k;
    float alpha, beta;
    const float *a;
    ptrdiff_t rsa, csa;
    const float *b;
    ptrdiff_t rsb, csb;
    float *c;
    ptrdiff_t rsc, csc;
} gk_problem;

/* C^T = B^T A^T: the same products and sums, with rows and columns swapped. */
static gk_problem gk_transposed(const gk_problem *p)
{
    gk_problem t = *p;
    t.m = p->n;
    t.n = p->m;
    t.a = p->b;
    t.rsa = p->csb;
    t.csa = p->rsb;
    t.b = p->a;
    t.rsb = p->csa;
    t.csb = p->rsa;
    t.rsc = p->csc;
    t.csc = p->rsc;
    return t;
}

/* C := beta * C, not reading C when beta is 0. */
static void gk_scale(const gk_problem *p)
{
    for (size_t i = 0; i < p->m; i++)
        for (size_t j = 0; j < p->n; j++) {
            float *cij = p->c + (ptrdiff_t)i * p->rsc + (ptrdiff_t)j * p->csc;
            *cij = p->beta == 0.0f ? 0.0f : p->beta * *cij;
        }
}

#ifdef GK_VECTORS

/* ---- helpers shared by the variants ------------------------------------------------ */

/* t is a tile spilled from registers: row i, column j at t[i][j]. */
typedef float gk_tile[GK_MR_MAX][GK_NR_MAX];

/* C[0:mr, 0:nr] := alpha * t + beta * C, element by element, any strides. */
static void gk_store_scalar(gk_tile t, size_t mr, size_t nr, float *c, ptrdiff_t rsc,
                            ptrdiff_t csc, float alpha, float beta)
{
    for (size_t i = 0; i < mr; i++) {
        float *ci = c + (ptrdiff_t)i * rsc;
        if (beta == 0.0f)
            for (size_t j = 0; j < nr; j++) ci[(ptrdiff_t)j * csc] = alpha * t[i][j];
        else if (beta == 1.0f)
            for (size_t j = 0; j < nr; j++) ci[(ptrdiff_t)j * csc] += alpha * t[i][j];
        else
            for (size_t j = 0; j < nr; j++)
                ci[(ptrdiff_t)j * csc] = alpha * t[i][j] + beta * ci[(ptrdiff_t)j * csc];
    }
}

/* dst (kc, nrpad), row stride nrpad := B (kc, nr), zeros in columns nr.. */
static void gk_pack_scalar(float *dst, size_t kc, size_t nr, size_t nrpad, const float *b,
                           ptrdiff_t rsb, ptrdiff_t csb)
{
    if (csb == 1) {
        for (size_t p = 0; p < kc; p++)
            memcpy(dst + p * nrpad, b + (ptrdiff_t)p * rsb, nr * sizeof *dst);
    } else if (rsb == 1) {
        /* columns of B contiguous: read along them */
        for (size_t j = 0; j < nr; j++) {
            const float *src = b + (ptrdiff_t)j * csb;
            for (size_t p = 0; p < kc; p++) dst[p * nrpad + j] = src[p];
        }
    } else {
        for (size_t p = 0; p < kc; p++) {
            const float *src = b + (ptrdiff_t)p * rsb;
            for (size_t j = 0; j < nr; j++) dst[p * nrpad + j] = src[(ptrdiff_t)j * csb];
        }
    }
    if (nrpad > nr)
        for (size_t p = 0; p < kc; p++)
            for (size_t j = nr; j < nrpad; j++) dst[p * nrpad + j] = 0.0f;
}

#ifdef GK_X86
#define GK_AVX_ATTR __attribute__((target("avx2,fma")))

/* Transposes the 8 x 8 block held in r0..r7 (row q in rq) in place. */
#define GK_TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7)                                         \
    do {                                                                                       \
        const __m256 t0_ = _mm256_unpacklo_ps(r0, r1), t1_ = _mm256_unpackhi_ps(r0, r1);      \
        const __m256 t2_ = _mm256_unpacklo_ps(r2, r3), t3_ = _mm256_unpackhi_ps(r2, r3);      \
        const __m256 t4_ = _mm256_unpacklo_ps(r4, r5), t5_ = _mm256_unpackhi_ps(r4, r5);      \
        const __m256 t6_ = _mm256_unpacklo_ps(r6, r7), t7_ = _mm256_unpackhi_ps(r6, r7);      \
        const __m256 u0_ = _mm256_shuffle_ps(t0_, t2_, 0x44);                                  \
        const __m256 u1_ = _mm256_shuffle_ps(t0_, t2_, 0xee);                                  \
        const __m256 u2_ = _mm256_shuffle_ps(t1_, t3_, 0x44);                                  \
        const __m256 u3_ = _mm256_shuffle_ps(t1_, t3_, 0xee);                                  \
        const __m256 u4_ = _mm256_shuffle_ps(t4_, t6_, 0x44);                                  \
        const __m256 u5_ = _mm256_shuffle_ps(t4_, t6_, 0xee);                                  \
        const __m256 u6_ = _mm256_shuffle_ps(t5_, t7_, 0x44);                                  \
        const __m256 u7_ = _mm256_shuffle_ps(t5_, t7_, 0xee);                                  \
        r0 = _mm256_permute2f128_ps(u0_, u4_, 0x20);                                           \
        r1 = _mm256_permute2f128_ps(u1_, u5_, 0x20);                                           \
        r2 = _mm256_permute2f128_ps(u2_, u6_, 0x20);                                           \
        r3 = _mm256_permute2f128_ps(u3_, u7_, 0x20);                                           \
        r4 = _mm256_permute2f128_ps(u0_, u4_, 0x31);                                           \
        r5 = _mm256_permute2f128_ps(u1_, u5_, 0x31);                                           \
        r6 = _mm256_permute2f128_ps(u2_, u6_, 0x31);                                           \
        r7 = _mm256_permute2f128_ps(u3_, u7_, 0x31);                                           \
    } while (0)

/* gk_pack_scalar for B with contiguous columns (rsb == 1): 8 x 8 blocks are
 * transposed in registers. */
static GK_AVX_ATTR void gk_pack_avx(float *dst, size_t kc, size_t nr, size_t nrpad,
                                   const float *b, ptrdiff_t rsb, ptrdiff_t csb)
{
    size_t j = 0;
    if (rsb != 1 || csb == 1) {
        gk_pack_scalar(dst, kc, nr, nrpad, b, rsb, csb);
        return;
    }
    for (; j + 8 <= nr; j += 8) {
        const float *s = b + (ptrdiff_t)j * csb;
        size_t p = 0;
        for (; p + 8 <= kc; p += 8) {
            __m256 r0 = _mm256_loadu_ps(s + p), r1 = _mm256_loadu_ps(s + csb + p);
            __m256 r2 = _mm256_loadu_ps(s + 2 * csb + p), r3 = _mm256_loadu_ps(s + 3 * csb + p);
            __m256 r4 = _mm256_loadu_ps(s + 4 * csb + p), r5 = _mm256_loadu_ps(s + 5 * csb + p);
            __m256 r6 = _mm256_loadu_ps(s + 6 * csb + p), r7 = _mm256_loadu_ps(s + 7 * csb + p);
            float *d = dst + p * nrpad + j;
            GK_TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7);
            _mm256_storeu_ps(d, r0);
            _mm256_storeu_ps(d + nrpad, r1);
            _mm256_storeu_ps(d + 2 * nrpad, r2);
            _mm256_storeu_ps(d + 3 * nrpad, r3);
            _mm256_storeu_ps(d + 4 * nrpad, r4);
            _mm256_storeu_ps(d + 5 * nrpad, r5);
            _mm256_storeu_ps(d + 6 * nrpad, r6);
            _mm256_storeu_ps(d + 7 * nrpad, r7);
        }
        for (; p < kc; p++)
            for (size_t q = 0; q < 8; q++)
                dst[p * nrpad + j + q] = s[(ptrdiff_t)q * csb + (ptrdiff_t)p];
    }
    for (; j < nr; j++) {
        const float *s = b + (ptrdiff_t)j * csb;
        for (size_t p = 0; p < kc; p++) dst[p * nrpad + j] = s[p];
    }
    if (nrpad > nr)
        for (size_t p = 0; p < kc; p++)
            for (size_t q = nr; q < nrpad; q++) dst[p * nrpad + q] = 0.0f;
}

/* gk_store_scalar; when the columns of C are contiguous (rsc == 1), 8 x 8
 * blocks of t are transposed in registers and stored a column at a time. */
static GK_AVX_ATTR void gk_store_avx(gk_tile t, size_t mr, size_t nr, float *c, ptrdiff_t rsc,
                                     ptrdiff_t csc, float alpha, float beta)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)mr), lane);
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const size_t nr8 = (nr + 7) / 8 * 8; /* columns of t that the tile wrote */
    if (rsc != 1 || mr > 8) {
        gk_store_scalar(t, mr, nr, c, rsc, csc, alpha, beta);
        return;
    }
    for (size_t i = mr; i < 8; i++)
        for (size_t j = 0; j < nr8; j++) t[i][j] = 0.0f;
    for (size_t j = 0; j < nr; j += 8) {
        __m256 r[8];
        r[0] = _mm256_loadu_ps(&t[0][j]);
        r[1] = _mm256_loadu_ps(&t[1][j]);
        r[2] = _mm256_loadu_ps(&t[2][j]);
        r[3] = _mm256_loadu_ps(&t[3][j]);
        r[4] = _mm256_loadu_ps(&t[4][j]);
        r[5] = _mm256_loadu_ps(&t[5][j]);
        r[6] = _mm256_loadu_ps(&t[6][j]);
        r[7] = _mm256_loadu_ps(&t[7][j]);
        GK_TRANSPOSE8(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
        for (size_t q = 0; q < 8 && j + q < nr; q++) {
            float *cp = c + (ptrdiff_t)(j + q) * csc;
            __m256 v = _mm256_mul_ps(r[q], va);
            if (mr == 8) {
                if (beta != 0.0f) v = _mm256_fmadd_ps(_mm256_loadu_ps(cp), vb, v);
                _mm256_storeu_ps(cp, v);
            } else {
                if (beta != 0.0f) v = _mm256_fmadd_ps(_mm256_maskload_ps(cp, mask), vb, v);
                _mm256_maskstore_ps(cp, mask, v);
            }
        }
    }
}
#endif

/* ---- micro-kernels ---------------------------------------------------------------- */

/*
 * C[0:mr, 0:nr] := alpha * A[0:mr, 0:kc] B[0:kc, 0:nr] + beta * C, for
 * mr <= MR and nr <= NR. Row p of B is b + p * ldb, readable for nr
 * rounded up to whole vectors. beta == 0 does not read C.
 */
typedef void gk_ukr_fn(size_t kc, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b,
                       ptrdiff_t ldb, float *c, ptrdiff_t rsc, ptrdiff_t csc, size_t mr, size_t nr,
                       float alpha, float beta);
typedef void gk_pack_fn(float *dst, size_t kc, size_t nr, size_t nrpad, const float *b,
                        ptrdiff_t rsb, ptrdiff_t csb);

typedef struct gk_isa {
    size_t mr, nr, vw; /* tile rows, tile columns, floats per vector */
    gk_ukr_fn *ukr;
    gk_pack_fn *pack;
    /* rough cycles per element: packing B with contiguous columns, storing C
     * with contiguous columns, storing C with neither contiguous */
    double pack_cols_cost, store_cols_cost, store_any_cost;
} gk_isa;

#if defined(__clang__)
#define GK_UNROLL _Pragma("unroll")
#else
#define GK_UNROLL _Pragma("GCC unroll 16")
#endif

#define GK_TILE_ARGS kc, a, rsa, csa, b, ldb, c, rsc, csc, nr, alpha, beta

/*
 * One variant: NAME##_tile is the tile of mr x nv vectors (both constants
 * after inlining, so the accumulators live in registers), NAME##_ukr picks
 * the tile for a run-time (mr, nr). VT is the vector type, VTU the same with
 * 4-byte alignment for loads and stores, VW its floats, MRX x NVX vectors the
 * largest tile, SPLAT(s) a vector of VW copies of s, FMAV(acc, v, s) is
 * acc + v * s, STORE stores a spilled tile (gk_store_scalar's contract).
 */
#define GK_DEFINE_VARIANT(NAME, ATTR, VT, VTU, VW, MRX, NVX, SPLAT, FMAV, STORE)               \
    _Static_assert((MRX) <= GK_MR_MAX && (NVX) <= GK_NV_MAX && (NVX) * (VW) <= GK_NR_MAX,       \
                   "tile too large");                                                           \
    static inline __attribute__((always_inline)) ATTR void NAME##_tile(                        \
        const size_t mr, const size_t nv, size_t kc, const float *a, ptrdiff_t rsa,            \
        ptrdiff_t csa, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t rsc, ptrdiff_t csc,  \
        size_t nr, float alpha, float beta)                                                    \
    {                                                                                          \
        VT acc[GK_MR_MAX][GK_NV_MAX];                                                          \
        GK_UNROLL for (size_t i = 0; i < mr; i++)                                              \
            GK_UNROLL for (size_t v = 0; v < nv; v++) acc[i][v] = (VT){0};                     \
        for (size_t p = 0; p < kc; p++) {                                                      \
            VT bv[GK_NV_MAX];                                                                  \
            GK_UNROLL for (size_t v = 0; v < nv; v++) bv[v] = *(const VTU *)(b + v * (VW));   \
            GK_UNROLL for (size_t i = 0; i < mr; i++) {                                        \
                const float s = a[(ptrdiff_t)i * rsa];                                         \
                GK_UNROLL for (size_t v = 0; v < nv; v++) acc[i][v] = FMAV(acc[i][v], bv[v], s); \
            }                                                                                  \
            a += csa;                                                                          \
            b += ldb;                                                                          \
        }                                                                                      \
        if (csc == 1 && nr == nv * (VW)) {                                                     \
            GK_UNROLL for (size_t i = 0; i < mr; i++)                                          \
                GK_UNROLL for (size_t v = 0; v < nv; v++) {                                    \
                    VTU *cp = (VTU *)(c + (ptrdiff_t)i * rsc + (ptrdiff_t)(v * (VW)));          \
                    VT r = acc[i][v] * SPLAT(alpha);                                           \
                    if (beta == 1.0f)                                                          \
                        r = r + *cp;                                                           \
                    else if (beta != 0.0f)                                                     \
                        r = r + *cp * SPLAT(beta);                                             \
                    *cp = r;                                                                   \
                }                                                                              \
        } else {                                                                               \
            gk_tile t;                                                                         \
            GK_UNROLL for (size_t i = 0; i < mr; i++)                                          \
                GK_UNROLL for (size_t v = 0; v < nv; v++)                                      \
                    *(VTU *)&t[i][v * (VW)] = acc[i][v];                                       \
            STORE(t, mr, nr, c, rsc, csc, alpha, beta);                                        \
        }                                                                                      \
    }                                                                                          \
    static ATTR void NAME##_ukr(size_t kc, const float *a, ptrdiff_t rsa, ptrdiff_t csa,       \
                                const float *b, ptrdiff_t ldb, float *c, ptrdiff_t rsc,        \
                                ptrdiff_t csc, size_t mr, size_t nr, float alpha, float beta)  \
    {                                                                                          \
        const int all = nr > ((NVX)-1) * (VW);                                                 \
        switch (mr) {                                                                          \
        case 8:                                                                                \
            if ((MRX) >= 8) {                                                                  \
                if (all) NAME##_tile(8, (NVX), GK_TILE_ARGS);                                  \
                else NAME##_tile(8, 1, GK_TILE_ARGS);                                          \
            }                                                                                  \
            break;                                                                             \
        case 7:                                                                                \
            if ((MRX) >= 7) {                                                                  \
                if (all) NAME##_tile(7, (NVX), GK_TILE_ARGS);                                  \
                else NAME##_tile(7, 1, GK_TILE_ARGS);                                          \
            }                                                                                  \
            break;                                                                             \
        case 6:                                                                                \
            if ((MRX) >= 6) {                                                                  \
                if (all) NAME##_tile(6, (NVX), GK_TILE_ARGS);                                  \
                else NAME##_tile(6, 1, GK_TILE_ARGS);                                          \
            }                                                                                  \
            break;                                                                             \
        case 5:                                                                                \
            if ((MRX) >= 5) {                                                                  \
                if (all) NAME##_tile(5, (NVX), GK_TILE_ARGS);                                  \
                else NAME##_tile(5, 1, GK_TILE_ARGS);                                          \
            }                                                                                  \
            break;                                                                             \
        case 4:                                                                                \
            if (all) NAME##_tile(4, (NVX), GK_TILE_ARGS);                                      \
            else NAME##_tile(4, 1, GK_TILE_ARGS);                                              \
            break;                                                                             \
        case 3:                                                                                \
            if (all) NAME##_tile(3, (NVX), GK_TILE_ARGS);                                      \
            else NAME##_tile(3, 1, GK_TILE_ARGS);                                              \
            break;                                                                             \
        case 2:                                                                                \
            if (all) NAME##_tile(2, (NVX), GK_TILE_ARGS);                                      \
            else NAME##_tile(2, 1, GK_TILE_ARGS);                                              \
            break;                                                                             \
        default:                                                                               \
            if (all) NAME##_tile(1, (NVX), GK_TILE_ARGS);                                      \
            else NAME##_tile(1, 1, GK_TILE_ARGS);                                              \
            break;                                                                             \
        }                                                                                      \
    }

#ifdef GK_X86
typedef float gk_v16 __attribute__((vector_size(64)));
typedef float gk_v16u __attribute__((vector_size(64), aligned(4), may_alias));
typedef float gk_v8 __attribute__((vector_size(32)));
typedef float gk_v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define GK_FMA512(acc, v, s) _mm512_fmadd_ps((v), _mm512_set1_ps(s), (acc))
#define GK_FMA256(acc, v, s) _mm256_fmadd_ps((v), _mm256_set1_ps(s), (acc))
GK_DEFINE_VARIANT(gk_avx512, __attribute__((target("avx512f,avx2,fma"))), gk_v16, gk_v16u, 16,
                  8, 2, _mm512_set1_ps, GK_FMA512, gk_store_avx)
GK_DEFINE_VARIANT(gk_avx2, GK_AVX_ATTR, gk_v8, gk_v8u, 8, 6, 2, _mm256_set1_ps, GK_FMA256,
                  gk_store_avx)
static const gk_isa gk_avx512 = {8, 32, 16, gk_avx512_ukr, gk_pack_avx, 0.25, 0.3, 1.5};
static const gk_isa gk_avx2 = {6, 16, 8, gk_avx2_ukr, gk_pack_avx, 0.25, 0.4, 1.5};
#endif

typedef float gk_v4 __attribute__((vector_size(16)));
typedef float gk_v4u __attribute__((vector_size(16), aligned(4), may_alias));
/* The splat goes through an initializer, which drops the excess precision of
 * x87 arithmetic (32-bit x86), where vector-by-scalar products are refused. */
#define GK_SPLAT4(s) ((gk_v4){(s), (s), (s), (s)})
#define GK_FMAP(acc, v, s) ((acc) + (v) * GK_SPLAT4(s))
GK_DEFINE_VARIANT(gk_portable, , gk_v4, gk_v4u, 4, 4, 2, GK_SPLAT4, GK_FMAP, gk_store_scalar)
static const gk_isa gk_portable = {4, 8, 4, gk_portable_ukr, gk_pack_scalar, 1.0, 1.5, 1.5};

static const gk_isa *gk_isa_of(int isa)
{
#ifdef GK_X86
    if (isa == GRUGAN__GEMM_ISA_AVX512) return &gk_avx512;
    if (isa == GRUGAN__GEMM_ISA_AVX2) return &gk_avx2;
#endif
    (void)isa;
    return &gk_portable;
}

int grugan__gemm_isa_best(void)
{
#ifdef GK_X86
    if (__builtin_cpu_supports("avx512f")) return GRUGAN__GEMM_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return GRUGAN__GEMM_ISA_AVX2;
#endif
    return GRUGAN__GEMM_ISA_PORTABLE;
}

int grugan__gemm_isa_vectorized(int isa)
{
    (void)isa;
    return 1;
}

/* ---- blocking ---------------------------------------------------------------------- */

/* Rows i0..i1 and columns j0..j1 of C, on the calling thread. i0 and j0 are
 * multiples of MR and NR, so the tiles are those of the whole product. */
static void gk_serial(const gk_isa *d, const gk_problem *p, size_t i0, size_t i1, size_t j0,
                      size_t j1)
{
    _Alignas(64) float buf[GK_KC * GK_NR_MAX];
    for (size_t pc = 0; pc < p->k; pc += GK_KC) {
        const size_t kc = gk_min(GK_KC, p->k - pc);
        const float beta = pc == 0 ? p->beta : 1.0f;
        const float *apc = p->a + (ptrdiff_t)pc * p->csa;
        const float *bpc = p->b + (ptrdiff_t)pc * p->rsb;
        for (size_t ic = i0; ic < i1; ic += GK_MC) {
            const size_t ie = gk_min(ic + GK_MC, i1);
            for (size_t j = j0; j < j1; j += d->nr) {
                const size_t nr = gk_min(d->nr, j1 - j);
                const float *bp;
                ptrdiff_t ldb;
                if (p->csb == 1 && nr % d->vw == 0 && ie - ic < GK_PACK_TILES * d->mr) {
                    bp = bpc + j;
                    ldb = p->rsb;
                } else {
                    const size_t nrpad = (nr + d->vw - 1) / d->vw * d->vw;
                    d->pack(buf, kc, nr, nrpad, bpc + (ptrdiff_t)j * p->csb, p->rsb, p->csb);
                    bp = buf;
                    ldb = (ptrdiff_t)nrpad;
                }
                for (size_t i = ic; i < ie; i += d->mr)
                    d->ukr(kc, apc + (ptrdiff_t)i * p->rsa, p->rsa, p->csa, bp, ldb,
                           p->c + (ptrdiff_t)i * p->rsc + (ptrdiff_t)j * p->csc, p->rsc,
                           p->csc, gk_min(d->mr, ie - i), nr, p->alpha, beta);
            }
        }
    }
}

/* Rough cycles of gk_serial on the whole problem, to pick an orientation. */
static double gk_cost(const gk_isa *d, const gk_problem *p)
{
    const double m = (double)p->m, n = (double)p->n, k = (double)p->k;
    const double kblocks = (double)((p->k + GK_KC - 1) / GK_KC);
    const size_t nedge = p->n % d->nr, vedge = p->n % d->vw;
    double t = m * (double)((p->n + d->vw - 1) / d->vw) * k * 0.5; /* 2 FMA a cycle */
    if (p->csb != 1) /* packing all of B, again for every block of GK_MC rows */
        t += n * k * (p->rsb == 1 ? d->pack_cols_cost : 1.0) *
             (double)((p->m + GK_MC - 1) / GK_MC);
    else if (vedge)
        t += (double)nedge * k * 0.5; /* packing the last panel */
    if (p->csc != 1)
        t += m * n * kblocks * (p->rsc == 1 ? d->store_cols_cost : d->store_any_cost);
    else if (vedge)
        t += m * (double)nedge * kblocks * d->store_any_cost;
    return t;
}

void grugan__gemm_kernel(int isa, int threads, size_t m, size_t n, size_t k, float alpha,
                         const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b,
                         ptrdiff_t rsb, ptrdiff_t csb, float beta, float *c, ptrdiff_t rsc,
                         ptrdiff_t csc)
{
    const int best = grugan__gemm_isa_best();
    const gk_isa *d = gk_isa_of(isa < 0 || isa > best ? best : isa);
    gk_problem p = {m, n, k, alpha, beta, a, rsa, csa, b, rsb, csb, c, rsc, csc};
    size_t tiles_m, tiles_n;
    int nt = threads < 1 ? 1 : threads, by_rows;

    if (m == 0 || n == 0) return;
    if (k == 0 || alpha == 0.0f) {
        gk_scale(&p);
        return;
    }
    {
        const gk_problem t = gk_transposed(&p);
        if (gk_cost(d, &t) < gk_cost(d, &p)) p = t;
    }
    tiles_m = (p.m + d->mr - 1) / d->mr;
    tiles_n = (p.n + d->nr - 1) / d->nr;
    if ((double)m * (double)n * (double)k < GRUGAN__PAR_MIN_PRODUCT) nt = 1;
    if (nt == 1 || tiles_m * tiles_n < 2) {
        gk_serial(d, &p, 0, p.m, 0, p.n);
        return;
    }
    /* Split the dimension whose tiles divide best among the threads; columns
     * when equal, as then each thread packs only its own panels of B. */
    {
        const size_t nt_ = (size_t)nt;
        const size_t worst_m = (tiles_m + nt_ - 1) / nt_, worst_n = (tiles_n + nt_ - 1) / nt_;
        by_rows = worst_m * tiles_n < worst_n * tiles_m;
        if (by_rows ? tiles_m < nt_ : tiles_n < nt_) nt = (int)(by_rows ? tiles_m : tiles_n);
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) {
        const size_t tiles = by_rows ? tiles_m : tiles_n, step = by_rows ? d->mr : d->nr;
        const size_t lo = tiles * (size_t)t / (size_t)nt * step,
                     hi = gk_min(tiles * (size_t)(t + 1) / (size_t)nt * step,
                                 by_rows ? p.m : p.n);
        if (by_rows)
            gk_serial(d, &p, lo, hi, 0, p.n);
        else
            gk_serial(d, &p, 0, p.m, lo, hi);
    }
}

#else /* !GK_VECTORS: plain loops */

int grugan__gemm_isa_best(void)
{
    return GRUGAN__GEMM_ISA_PORTABLE;
}

int grugan__gemm_isa_vectorized(int isa)
{
    (void)isa;
    return 0;
}

void grugan__gemm_kernel(int isa, int threads, size_t m, size_t n, size_t k, float alpha,
                         const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b,
                         ptrdiff_t rsb, ptrdiff_t csb, float beta, float *c, ptrdiff_t rsc,
                         ptrdiff_t csc)
{
    gk_problem p = {m, n, k, alpha, beta, a, rsa, csa, b, rsb, csb, c, rsc, csc};
    (void)isa;
    (void)threads;
    if (k == 0 || alpha == 0.0f) {
        gk_scale(&p);
        return;
    }
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float s = 0.0f, *cij = c + (ptrdiff_t)i * rsc + (ptrdiff_t)j * csc;
            for (size_t q = 0; q < k; q++)
                s += a[(ptrdiff_t)i * rsa + (ptrdiff_t)q * csa] *
                     b[(ptrdiff_t)q * rsb + (ptrdiff_t)j * csb];
            *cij = alpha * s + (beta == 0.0f ? 0.0f : beta * *cij);
        }
}

#endif
