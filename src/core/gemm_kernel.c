/*
 * gemm_kernel.c - a register-blocked single-precision matrix product.
 *
 * MEASUREMENTS_PLACEHOLDER
 *
 * Design. C (m, n) is cut into tiles of MR rows x NR columns held in vector
 * registers; each step p of the inner loop loads one row of B (NR floats,
 * contiguous) and broadcasts MR elements of A, one fused multiply-add per
 * register. B is used in place when its rows are contiguous (csb == 1);
 * otherwise a panel of at most GK_KC x NR floats is packed into a stack
 * buffer (32 KB), zero-padded to whole vectors. A is never packed: its
 * elements are broadcast from wherever they are. k is cut into blocks of
 * GK_KC; C is updated once per block (beta for the first, 1 after). The whole
 * product may be run transposed (C^T = B^T A^T) when that packs less or
 * wastes fewer vector lanes. Threads take disjoint ranges of whole tiles, so
 * every element of C is computed by the same operations in the same order
 * whatever the thread count.
 *
 * Variants: AVX-512F (16-float vectors, 8 x 32 tiles), AVX2 + FMA (8-float
 * vectors, 6 x 16 tiles) and a portable one (4-float compiler vectors,
 * 4 x 8 tiles), chosen at run time from the CPU's features. Compilers
 * without GNU vector extensions get plain loops.
 */
#include "gemm_kernel.h"

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define GK_VECTORS 1
#endif
#if defined(GK_VECTORS) && defined(__x86_64__)
#define GK_X86 1
#include <immintrin.h>
#endif

/* k block; a packed B panel is GK_KC x NR floats (32 KB at NR = 32). */
#define GK_KC 256
#define GK_MR_MAX 8
#define GK_NV_MAX 2
#define GK_NR_MAX 32

/* Below this many multiply-adds a product runs on one thread. */
#define GK_PAR_MIN (64u * 1024u)

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

/* ---- micro-kernels ---------------------------------------------------------------- */

/*
 * C[0:mr, 0:nr] := alpha * A[0:mr, 0:kc] B[0:kc, 0:nr] + beta * C, for
 * mr <= MR and nr <= NR. Row p of B is b + p * ldb, readable for nr
 * rounded up to whole vectors. beta == 0 does not read C.
 */
typedef void gk_ukr_fn(size_t kc, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b,
                       ptrdiff_t ldb, float *c, ptrdiff_t rsc, ptrdiff_t csc, size_t mr, size_t nr,
                       float alpha, float beta);

typedef struct gk_isa {
    size_t mr, nr, vw; /* tile rows, tile columns, floats per vector */
    gk_ukr_fn *ukr;
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
 * largest tile, FMAV(acc, v, s) is acc + v * s.
 */
#define GK_DEFINE_VARIANT(NAME, ATTR, VT, VTU, VW, MRX, NVX, FMAV)                             \
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
                    VT r = acc[i][v];                                                          \
                    if (alpha != 1.0f) r = r * alpha;                                          \
                    if (beta == 1.0f)                                                          \
                        r = r + *cp;                                                           \
                    else if (beta != 0.0f)                                                     \
                        r = r + *cp * beta;                                                    \
                    *cp = r;                                                                   \
                }                                                                              \
        } else {                                                                               \
            float t[GK_MR_MAX][GK_NR_MAX];                                                     \
            GK_UNROLL for (size_t i = 0; i < mr; i++)                                          \
                GK_UNROLL for (size_t v = 0; v < nv; v++)                                      \
                    *(VTU *)&t[i][v * (VW)] = acc[i][v];                                       \
            for (size_t i = 0; i < mr; i++)                                                    \
                for (size_t j = 0; j < nr; j++) {                                              \
                    float *cp = c + (ptrdiff_t)i * rsc + (ptrdiff_t)j * csc;                   \
                    float r = t[i][j];                                                         \
                    if (alpha != 1.0f) r = r * alpha;                                          \
                    if (beta == 1.0f)                                                          \
                        r = r + *cp;                                                           \
                    else if (beta != 0.0f)                                                     \
                        r = r + *cp * beta;                                                    \
                    *cp = r;                                                                   \
                }                                                                              \
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
    }                                                                                          \
    static const gk_isa NAME = {(MRX), (NVX) * (VW), (VW), NAME##_ukr};

#ifdef GK_X86
typedef float gk_v16 __attribute__((vector_size(64)));
typedef float gk_v16u __attribute__((vector_size(64), aligned(4), may_alias));
typedef float gk_v8 __attribute__((vector_size(32)));
typedef float gk_v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define GK_FMA512(acc, v, s) _mm512_fmadd_ps((v), _mm512_set1_ps(s), (acc))
#define GK_FMA256(acc, v, s) _mm256_fmadd_ps((v), _mm256_set1_ps(s), (acc))
GK_DEFINE_VARIANT(gk_avx512, __attribute__((target("avx512f,avx2,fma"))), gk_v16, gk_v16u, 16,
                  8, 2, GK_FMA512)
GK_DEFINE_VARIANT(gk_avx2, __attribute__((target("avx2,fma"))), gk_v8, gk_v8u, 8, 6, 2,
                  GK_FMA256)
#endif

typedef float gk_v4 __attribute__((vector_size(16)));
typedef float gk_v4u __attribute__((vector_size(16), aligned(4), may_alias));
#define GK_FMAP(acc, v, s) ((acc) + (v) * (s))
GK_DEFINE_VARIANT(gk_portable, , gk_v4, gk_v4u, 4, 4, 2, GK_FMAP)

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

/* dst (kc, nrpad) with row stride nrpad := B (kc, nr), zeros in columns nr.. */
static void gk_pack_b(float *dst, size_t kc, size_t nr, size_t nrpad, const float *b,
                      ptrdiff_t rsb, ptrdiff_t csb)
{
    if (rsb == 1 && csb != 1) {
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
        for (size_t j = j0; j < j1; j += d->nr) {
            const size_t nr = gk_min(d->nr, j1 - j);
            const float *bp;
            ptrdiff_t ldb;
            if (p->csb == 1 && nr % d->vw == 0) {
                bp = bpc + j;
                ldb = p->rsb;
            } else {
                const size_t nrpad = (nr + d->vw - 1) / d->vw * d->vw;
                gk_pack_b(buf, kc, nr, nrpad, bpc + (ptrdiff_t)j * p->csb, p->rsb, p->csb);
                bp = buf;
                ldb = (ptrdiff_t)nrpad;
            }
            for (size_t i = i0; i < i1; i += d->mr)
                d->ukr(kc, apc + (ptrdiff_t)i * p->rsa, p->rsa, p->csa, bp, ldb,
                       p->c + (ptrdiff_t)i * p->rsc + (ptrdiff_t)j * p->csc, p->rsc, p->csc,
                       gk_min(d->mr, i1 - i), nr, p->alpha, beta);
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
    if (p->csb != 1)
        t += n * k * 1.0; /* strided packing of all of B */
    else if (vedge)
        t += (double)nedge * k * 0.5; /* packing of the last panel */
    if (p->csc != 1)
        t += m * n * kblocks * 1.5; /* element-wise update of C */
    else if (vedge)
        t += m * (double)nedge * kblocks * 1.5;
    return t;
}

#ifdef GK_BENCH_ORIENT
int gk_bench_orient = -1;
#endif
void grugan__gemm_kernel(int isa, int threads, size_t m, size_t n, size_t k, float alpha,
                         const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b,
                         ptrdiff_t rsb, ptrdiff_t csb, float beta, float *c, ptrdiff_t rsc,
                         ptrdiff_t csc)
{
    const gk_isa *d = gk_isa_of(isa < 0 ? grugan__gemm_isa_best() : isa);
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
#ifdef GK_BENCH_ORIENT
        if (gk_bench_orient == 0) p = gk_transposed(&t);
        if (gk_bench_orient == 1) p = t;
#endif
    }
    tiles_m = (p.m + d->mr - 1) / d->mr;
    tiles_n = (p.n + d->nr - 1) / d->nr;
    if ((double)m * (double)n * (double)k < (double)GK_PAR_MIN) nt = 1;
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
