/* optimizer.c - the public grugan_optimizer: torch.optim's Adam, AdamW, SGD
 * and RMSprop (torch 1.13, single-tensor code path) as one flat loop over a
 * model's parameter block, global-norm gradient clipping, and the state for
 * checkpoints. The rules are written in grugan.h; each loop below follows
 * torch's order of float operations, with the scalars made in double first. */
#include "core/core.h"
#include "core/parallel.h"
#include "model/params.h"
#include "train/optimizer.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Every rounding below is written out: no compiler may fuse a multiply and an
 * add on its own (GCC does not in ISO C mode; clang would by default). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Floats per unit of parallel work, and per partial sum of the gradient norm:
 * a fixed size, so the norm's summation order never depends on threads. */
#define CHUNK 4096
/* The largest double below 1: the closed form of the bound "< 1". */
#define BELOW_ONE (1.0 - DBL_EPSILON / 2)

typedef struct hyper {
    double lr, beta1, beta2, eps, weight_decay, momentum, dampening, alpha;
    int nesterov, centered;
} hyper;

struct grugan_optimizer {
    grugan__object obj;
    grugan_params *params; /* borrowed from its model */
    size_t n;              /* params->n_floats */
    int kind;
    hyper h;
    int threads;
    uint64_t steps;
    int sgd_started; /* SGD: the momentum buffer holds a value (torch: not None) */
    bool fma;        /* run the AVX2+FMA version of the loops (same bits) */
    size_t slots;    /* state blocks allocated: Adam 2, SGD 1, RMSprop 3 */
    float *state;    /* (slots, n): Adam exp_avg, exp_avg_sq; SGD momentum_buffer;
                        RMSprop square_avg, momentum_buffer, grad_avg */
    size_t n_chunks; /* ceil(n / CHUNK) */
    double *partial; /* (n_chunks) sums of squares of the gradient chunks */
    float *backup;   /* (1 + slots, n): the values and the state before an update,
                        put back when the update makes any of them non-finite */
};

static bool cpu_has_fma(void);

#define OPT_FAIL(o, code, ...) grugan__fail((grugan__object *)&(o)->obj, (code), __VA_ARGS__)

/* Refuses NULL or foreign handles; clears the message of a good one. */
#define CHECK_OPT(o)                                                                          \
    do {                                                                                      \
        if (!grugan__object_is((o), GRUGAN__MAGIC_OPTIMIZER)) return GRUGAN_E_INVALID;        \
        grugan__clear((grugan__object *)&(o)->obj);                                           \
    } while (0)

static const char *kind_name(int kind)
{
    switch (kind) {
    case GRUGAN_OPT_ADAM: return "Adam";
    case GRUGAN_OPT_ADAMW: return "AdamW";
    case GRUGAN_OPT_SGD: return "SGD";
    default: return "RMSprop";
    }
}

static const char *key_name(int key)
{
    switch (key) {
    case GRUGAN_KEY_LR: return "lr";
    case GRUGAN_KEY_BETA1: return "beta1";
    case GRUGAN_KEY_BETA2: return "beta2";
    case GRUGAN_KEY_EPS: return "eps";
    case GRUGAN_KEY_WEIGHT_DECAY: return "weight_decay";
    case GRUGAN_KEY_MOMENTUM: return "momentum";
    case GRUGAN_KEY_DAMPENING: return "dampening";
    case GRUGAN_KEY_NESTEROV: return "nesterov";
    case GRUGAN_KEY_ALPHA: return "alpha";
    case GRUGAN_KEY_CENTERED: return "centered";
    case GRUGAN_KEY_THREADS: return "threads";
    default: return "unknown";
    }
}

/* ---- keys ----------------------------------------------------------------- */

int grugan_optimizer_key_bounds(int key, double *min, double *max)
{
    double lo, hi;
    switch (key) {
    case GRUGAN_KEY_LR:
    case GRUGAN_KEY_EPS: lo = FLT_MIN; hi = FLT_MAX; break;
    case GRUGAN_KEY_WEIGHT_DECAY: lo = 0; hi = FLT_MAX; break;
    case GRUGAN_KEY_BETA1:
    case GRUGAN_KEY_BETA2:
    case GRUGAN_KEY_MOMENTUM:
    case GRUGAN_KEY_ALPHA: lo = 0; hi = BELOW_ONE; break;
    case GRUGAN_KEY_DAMPENING:
    case GRUGAN_KEY_NESTEROV:
    case GRUGAN_KEY_CENTERED: lo = 0; hi = 1; break;
    case GRUGAN_KEY_THREADS: return grugan__key_bounds(key, min, max);
    default: return GRUGAN_E_INVALID;
    }
    if (min) *min = lo;
    if (max) *max = hi;
    return GRUGAN_OK;
}

/* True if the kind uses the key. */
static bool key_applies(int kind, int key)
{
    const bool adam = kind == GRUGAN_OPT_ADAM || kind == GRUGAN_OPT_ADAMW;
    const bool sgd = kind == GRUGAN_OPT_SGD, rms = kind == GRUGAN_OPT_RMSPROP;
    switch (key) {
    case GRUGAN_KEY_LR:
    case GRUGAN_KEY_WEIGHT_DECAY:
    case GRUGAN_KEY_THREADS: return true;
    case GRUGAN_KEY_BETA1:
    case GRUGAN_KEY_BETA2: return adam;
    case GRUGAN_KEY_EPS: return adam || rms;
    case GRUGAN_KEY_MOMENTUM: return sgd || rms;
    case GRUGAN_KEY_DAMPENING:
    case GRUGAN_KEY_NESTEROV: return sgd;
    case GRUGAN_KEY_ALPHA:
    case GRUGAN_KEY_CENTERED: return rms;
    default: return false;
    }
}

static bool key_is_integer(int key)
{
    return key == GRUGAN_KEY_NESTEROV || key == GRUGAN_KEY_CENTERED || key == GRUGAN_KEY_THREADS;
}

/* GRUGAN_OK if value is acceptable for key (known and applying to kind). */
static int key_check(int kind, int key, double value)
{
    double lo, hi;
    if (grugan_optimizer_key_bounds(key, &lo, &hi) != GRUGAN_OK || !key_applies(kind, key))
        return GRUGAN_E_INVALID;
    if (!(value >= lo && value <= hi)) return GRUGAN_E_RANGE;
    if (key_is_integer(key) && value != floor(value)) return GRUGAN_E_RANGE;
    return GRUGAN_OK;
}

static double *key_field(grugan_optimizer *o, int key)
{
    switch (key) {
    case GRUGAN_KEY_LR: return &o->h.lr;
    case GRUGAN_KEY_BETA1: return &o->h.beta1;
    case GRUGAN_KEY_BETA2: return &o->h.beta2;
    case GRUGAN_KEY_EPS: return &o->h.eps;
    case GRUGAN_KEY_WEIGHT_DECAY: return &o->h.weight_decay;
    case GRUGAN_KEY_MOMENTUM: return &o->h.momentum;
    case GRUGAN_KEY_DAMPENING: return &o->h.dampening;
    case GRUGAN_KEY_ALPHA: return &o->h.alpha;
    default: return NULL;
    }
}

static double key_value(const grugan_optimizer *o, int key)
{
    switch (key) {
    case GRUGAN_KEY_LR: return o->h.lr;
    case GRUGAN_KEY_BETA1: return o->h.beta1;
    case GRUGAN_KEY_BETA2: return o->h.beta2;
    case GRUGAN_KEY_EPS: return o->h.eps;
    case GRUGAN_KEY_WEIGHT_DECAY: return o->h.weight_decay;
    case GRUGAN_KEY_MOMENTUM: return o->h.momentum;
    case GRUGAN_KEY_DAMPENING: return o->h.dampening;
    case GRUGAN_KEY_NESTEROV: return o->h.nesterov;
    case GRUGAN_KEY_ALPHA: return o->h.alpha;
    case GRUGAN_KEY_CENTERED: return o->h.centered;
    default: return o->threads;
    }
}

int grugan_optimizer_set(grugan_optimizer *opt, int key, double value)
{
    double lo = 0, hi = 0, *field;
    int rc;
    CHECK_OPT(opt);
    rc = key_check(opt->kind, key, value);
    if (rc == GRUGAN_E_INVALID)
        return OPT_FAIL(opt, rc, "key %d (%s) is not a setting of %s", key, key_name(key),
                        kind_name(opt->kind));
    if (rc != GRUGAN_OK) {
        grugan_optimizer_key_bounds(key, &lo, &hi);
        return OPT_FAIL(opt, rc, "%s: value %g is not %sin [%g, %g]", key_name(key), value,
                        key_is_integer(key) ? "an integer " : "", lo, hi);
    }
    if ((field = key_field(opt, key)) != NULL)
        *field = value;
    else if (key == GRUGAN_KEY_NESTEROV)
        opt->h.nesterov = (int)value;
    else if (key == GRUGAN_KEY_CENTERED)
        opt->h.centered = (int)value;
    else
        opt->threads = (int)value;
    return GRUGAN_OK;
}

int grugan_optimizer_get(const grugan_optimizer *opt, int key, double *value)
{
    double lo, hi;
    if (!grugan__object_is(opt, GRUGAN__MAGIC_OPTIMIZER) || !value) return GRUGAN_E_INVALID;
    if (grugan_optimizer_key_bounds(key, &lo, &hi) != GRUGAN_OK || !key_applies(opt->kind, key))
        return GRUGAN_E_INVALID;
    *value = key_value(opt, key);
    return GRUGAN_OK;
}

/* ---- creation ------------------------------------------------------------- */

/* Checks one config field: 0 (default) or acceptable for key. */
static int config_field(const grugan_context *ctx, grugan_error *err, int kind, int key,
                        double value)
{
    double lo = 0, hi = 0;
    int rc;
    if (value == 0) return GRUGAN_OK;
    rc = key_check(kind, key, value);
    if (rc == GRUGAN_E_INVALID)
        return grugan__error_set(ctx, err, rc, "config.%s is %g, but %s has no %s", key_name(key),
                                 value, kind_name(kind), key_name(key));
    if (rc != GRUGAN_OK) {
        grugan_optimizer_key_bounds(key, &lo, &hi);
        return grugan__error_set(ctx, err, rc, "config.%s is %g, not %sin [%g, %g]",
                                 key_name(key), value, key_is_integer(key) ? "an integer " : "",
                                 lo, hi);
    }
    return GRUGAN_OK;
}

/* Validates the config and fills *h with its values and the defaults. */
static int config_resolve(const grugan_context *ctx, grugan_error *err,
                          const grugan_optimizer_config *c, hyper *h)
{
    const int kind = c->kind;
    const struct {
        int key;
        double value;
    } fields[] = {
        {GRUGAN_KEY_LR, c->lr},
        {GRUGAN_KEY_BETA1, c->beta1},
        {GRUGAN_KEY_BETA2, c->beta2},
        {GRUGAN_KEY_EPS, c->eps},
        {GRUGAN_KEY_WEIGHT_DECAY, c->weight_decay},
        {GRUGAN_KEY_MOMENTUM, c->momentum},
        {GRUGAN_KEY_DAMPENING, c->dampening},
        {GRUGAN_KEY_NESTEROV, (double)c->nesterov},
        {GRUGAN_KEY_ALPHA, c->alpha},
        {GRUGAN_KEY_CENTERED, (double)c->centered},
    };
    int rc;
    if (kind != GRUGAN_OPT_ADAM && kind != GRUGAN_OPT_ADAMW && kind != GRUGAN_OPT_SGD &&
        kind != GRUGAN_OPT_RMSPROP)
        return grugan__error_set(ctx, err, GRUGAN_E_INVALID,
                                 "config.kind is %d, not a GRUGAN_OPT_* kind (0..3)", (int)kind);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if ((rc = config_field(ctx, err, kind, fields[i].key, fields[i].value)) != GRUGAN_OK)
            return rc;
    if (c->nesterov && (c->momentum == 0 || c->dampening != 0))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "Nesterov momentum requires a momentum and zero dampening");
    h->lr = c->lr != 0 ? c->lr : kind == GRUGAN_OPT_SGD ? 1e-2 : 1e-3;
    h->beta1 = c->beta1 != 0 ? c->beta1 : 0.9;
    h->beta2 = c->beta2 != 0 ? c->beta2 : 0.999;
    h->eps = c->eps != 0 ? c->eps : 1e-8;
    h->weight_decay = c->weight_decay != 0 ? c->weight_decay : kind == GRUGAN_OPT_ADAMW ? 1e-2 : 0;
    h->momentum = c->momentum;
    h->dampening = c->dampening;
    h->nesterov = c->nesterov;
    h->alpha = c->alpha != 0 ? c->alpha : 0.99;
    h->centered = c->centered;
    return GRUGAN_OK;
}

int grugan_optimizer_create(grugan_context *ctx, const grugan_optimizer_config *config,
                            grugan_params *params, grugan_optimizer **out, grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_optimizer_config cfg;
    grugan_optimizer *o;
    hyper h;
    size_t slots, n, n_state, n_backup;
    int rc;

    if (err) {
        err->code = GRUGAN_OK;
        err->message[0] = '\0';
    }
    if (!out) return grugan__error_set(c, err, GRUGAN_E_INVALID, "out is NULL");
    *out = NULL;
    if (grugan__config_copy(&cfg, sizeof cfg, config) != GRUGAN_OK)
        return grugan__error_set(c, err, GRUGAN_E_INVALID,
                                 "config.struct_size is %zu, expected %zu to %zu "
                                 "(use GRUGAN_OPTIMIZER_CONFIG_INIT)",
                                 config->struct_size, sizeof(size_t), sizeof cfg);
    if (!params) return grugan__error_set(c, err, GRUGAN_E_INVALID, "params is NULL");
    if (!grugan__object_is(params, GRUGAN__MAGIC_PARAMS))
        return grugan__error_set(c, err, GRUGAN_E_INVALID,
                                 "params is not a parameter set (use grugan_*_params)");
    if ((rc = config_resolve(c, err, &cfg, &h)) != GRUGAN_OK) return rc;
    n = params->n_floats;
    if (n == 0) return grugan__error_set(c, err, GRUGAN_E_SIZE, "the parameter set is empty");
    slots = cfg.kind == GRUGAN_OPT_SGD ? 1 : cfg.kind == GRUGAN_OPT_RMSPROP ? 3 : 2;
    if (!grugan__mul_size(slots, n, &n_state) || !grugan__add_size(n_state, n, &n_backup))
        return grugan__error_set(c, err, GRUGAN_E_SIZE, "the optimizer state overflows");

    o = grugan__calloc(c, 1, sizeof *o);
    if (!o) return grugan__error_set(c, err, GRUGAN_E_NOMEM, "cannot allocate the optimizer");
    grugan__object_init(&o->obj, GRUGAN__MAGIC_OPTIMIZER, c);
    o->params = params;
    o->n = n;
    o->kind = cfg.kind;
    o->h = h;
    o->threads = 1;
    o->slots = slots;
    o->fma = cpu_has_fma();
    o->n_chunks = n / CHUNK + (n % CHUNK != 0);
    o->state = grugan__calloc(c, n_state, sizeof(float));
    o->partial = o->state ? grugan__calloc(c, o->n_chunks, sizeof(double)) : NULL;
    o->backup = o->partial ? grugan__calloc(c, n_backup, sizeof(float)) : NULL;
    if (!o->backup) {
        rc = grugan__error_set(c, err, GRUGAN_E_NOMEM,
                               "cannot allocate the optimizer state (%zu floats)",
                               n_state + n_backup);
        grugan__free(c, o->partial);
        grugan__free(c, o->state);
        grugan__free(c, o);
        return rc;
    }
    *out = o;
    return GRUGAN_OK;
}

void grugan_optimizer_free(grugan_optimizer *opt)
{
    const grugan_context *ctx;
    if (!grugan__object_is(opt, GRUGAN__MAGIC_OPTIMIZER)) return;
    ctx = opt->obj.ctx;
    grugan__free(ctx, opt->state);
    grugan__free(ctx, opt->partial);
    grugan__free(ctx, opt->backup);
    opt->obj.magic = GRUGAN__MAGIC_DEAD;
    grugan__free(ctx, opt);
}

const char *grugan_optimizer_message(const grugan_optimizer *opt)
{
    if (!opt) return "the optimizer handle is NULL";
    if (!grugan__object_is(opt, GRUGAN__MAGIC_OPTIMIZER)) return "not an optimizer handle";
    return opt->obj.message;
}

int grugan_optimizer_zero_grad(grugan_optimizer *opt)
{
    CHECK_OPT(opt);
    memset(opt->params->grads, 0, opt->n * sizeof(float));
    return GRUGAN_OK;
}

/* ---- the update loops ------------------------------------------------------ */

/* The float scalars of one step, made in double from the hyperparameters. */
typedef struct coeffs {
    float wd;       /* L2 weight decay folded into the gradient (0: none) */
    float decay;    /* AdamW: 1 - lr wd; clipping: the scale */
    float b1, omb1; /* beta1, 1 - beta1 */
    float b2, omb2; /* beta2, 1 - beta2 */
    float neg_step; /* Adam: -lr / (1 - beta1^t); SGD, RMSprop: -lr */
    float bc2_sqrt; /* sqrt(1 - beta2^t) */
    float eps;
    float mom, omd; /* momentum, 1 - dampening */
    float alpha, oma;
    bool use_wd, decoupled, use_mom, started, nesterov, centered;
} coeffs;

/* The blocks a loop works on. */
typedef struct loop_blocks {
    float *p;       /* (n) values */
    float *g;       /* (n) gradients */
    float *s0, *s1, *s2; /* (n) each: the state blocks */
} loop_blocks;

/*
 * torch's elementwise CPU kernels on x86-64 with AVX2 or AVX-512 (what its
 * CPU dispatch picks there) fuse the multiply-adds of `add_(x, alpha=a)`
 * (self + a x) and of `addcmul_(x, y, value=v)` (self + (v x) y) into one
 * rounding; the other operations round each step. FMA(a, b, c) = a b + c with
 * one rounding (fmaf is exact on every platform), so the loops below give
 * torch's bits there, and the same bits everywhere else.
 */
#define FMA(a, b, c) fmaf((a), (b), (c))

/* The loop bodies, inlined into a portable and (on x86-64) an AVX2+FMA
 * version of each loop; every operation is correctly rounded and nothing is
 * reduced, so both give the same bits. */
#if defined(__GNUC__)
#define BODY static inline __attribute__((always_inline)) void
#else
#define BODY static inline void
#endif

/* Each body reads its coefficients into locals, loads and stores every element
 * unconditionally (a block a setting does not use keeps its value) and picks
 * between torch's expressions for each setting with selects, so that the
 * loops vectorize. The flags are floats (1 or 0) because GCC vectorizes a
 * select on a float comparison but not on a bool. */
#define FLAG(b) ((b) ? 1.0f : 0.0f)
#define SEL(flag, a, b) ((flag) != 0.0f ? (a) : (b))

BODY adam_body(const loop_blocks *bl, const coeffs *c, size_t lo, size_t hi)
{
    float *restrict p = bl->p, *restrict m = bl->s0, *restrict v = bl->s1;
    const float *restrict g = bl->g;
    const float decay = c->decoupled ? c->decay : 1.0f, wd = c->wd;
    const float b1 = c->b1, omb1 = c->omb1, b2 = c->b2, omb2 = c->omb2;
    const float bc2_sqrt = c->bc2_sqrt, eps = c->eps, neg_step = c->neg_step;
    const float use_wd = FLAG(c->use_wd);
#pragma omp simd
    for (size_t i = lo; i < hi; i++) {
        const float pi = p[i] * decay, gv = g[i];       /* AdamW: param.mul_(1 - lr * wd) */
        const float gi = SEL(use_wd, FMA(wd, pi, gv), gv); /* grad.add(param, alpha=wd) */
        const float mi = FMA(omb1, gi, m[i] * b1);      /* m.mul_(b1).add_(g, alpha=1-b1) */
        const float vi = FMA(omb2 * gi, gi, v[i] * b2); /* v.mul_(b2).addcmul_(g, g, 1-b2) */
        const float denom = sqrtf(vi) / bc2_sqrt + eps; /* (v.sqrt() / bc2_sqrt).add_(eps) */
        p[i] = pi + neg_step * mi / denom;              /* param.addcdiv_(m, denom, -step) */
        m[i] = mi;
        v[i] = vi;
    }
}

BODY sgd_body(const loop_blocks *bl, const coeffs *c, size_t lo, size_t hi)
{
    float *restrict p = bl->p, *restrict buf = bl->s0;
    const float *restrict g = bl->g;
    const float wd = c->wd, mom = c->mom, omd = c->omd, neg_step = c->neg_step;
    const float use_wd = FLAG(c->use_wd), use_mom = FLAG(c->use_mom);
    const float started = FLAG(c->started), nesterov = FLAG(c->nesterov);
#pragma omp simd
    for (size_t i = lo; i < hi; i++) {
        const float pv = p[i], gv = g[i], bv = buf[i];
        const float dw = FMA(wd, pv, gv);   /* d_p.add(param, alpha=wd) */
        const float d = SEL(use_wd, dw, gv);
        const float bu = FMA(omd, d, bv * mom); /* buf.mul_(m).add_(d_p, alpha=1-dampening) */
        const float b = SEL(started, bu, d);    /* or clone(d_p) at the first update */
        const float dn = FMA(mom, b, d);        /* d_p.add(buf, alpha=momentum) */
        const float sn = SEL(nesterov, dn, b);
        const float step = SEL(use_mom, sn, d);
        buf[i] = SEL(use_mom, b, bv);
        p[i] = FMA(neg_step, step, pv); /* param.add_(d_p, alpha=-lr) */
    }
}

BODY rmsprop_body(const loop_blocks *bl, const coeffs *c, size_t lo, size_t hi)
{
    float *restrict p = bl->p, *restrict sq = bl->s0, *restrict buf = bl->s1;
    float *restrict ga = bl->s2;
    const float *restrict g = bl->g;
    const float wd = c->wd, alpha = c->alpha, oma = c->oma, eps = c->eps;
    const float mom = c->mom, neg_step = c->neg_step;
    const float use_wd = FLAG(c->use_wd), use_mom = FLAG(c->use_mom);
    const float centered = FLAG(c->centered);
#pragma omp simd
    for (size_t i = lo; i < hi; i++) {
        const float pv = p[i], gv = g[i], bv = buf[i], gav = ga[i];
        const float gi = SEL(use_wd, FMA(wd, pv, gv), gv);
        const float sqi = FMA(oma * gi, gi, sq[i] * alpha); /* sq.mul_(a).addcmul_(g, g, 1-a) */
        const float gai = FMA(oma, gi, gav * alpha);        /* ga.mul_(a).add_(g, alpha=1-a) */
        const float var = FMA(-1.0f * gai, gai, sqi);       /* sq.addcmul(ga, ga, value=-1) */
        /* .sqrt_().add_(eps); max(var, 0) where rounding would make torch's NaN */
        const float avg = sqrtf(SEL(centered, var > 0.0f ? var : 0.0f, sqi)) + eps;
        const float b = bv * mom + gi / avg; /* buf.mul_(m).addcdiv_(g, avg) */
        sq[i] = sqi;
        ga[i] = SEL(centered, gai, gav);
        buf[i] = SEL(use_mom, b, bv);
        p[i] = SEL(use_mom, FMA(neg_step, b, pv), /* param.add_(buf, alpha=-lr) */
                   pv + neg_step * gi / avg);     /* param.addcdiv_(g, avg, value=-lr) */
    }
}

BODY scale_body(const loop_blocks *bl, const coeffs *c, size_t lo, size_t hi)
{
    float *restrict g = bl->g;
    const float s = c->decay;
#pragma omp simd
    for (size_t i = lo; i < hi; i++) g[i] = g[i] * s; /* grad.mul_(clip_coef) */
}

typedef enum loop_kind { LOOP_ADAM, LOOP_SGD, LOOP_RMSPROP, LOOP_SCALE } loop_kind;

static void loop_portable(loop_kind k, const loop_blocks *bl, const coeffs *c, size_t lo,
                          size_t hi)
{
    switch (k) {
    case LOOP_ADAM: adam_body(bl, c, lo, hi); break;
    case LOOP_SGD: sgd_body(bl, c, lo, hi); break;
    case LOOP_RMSPROP: rmsprop_body(bl, c, lo, hi); break;
    default: scale_body(bl, c, lo, hi); break;
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_FMA_CLONE 1
__attribute__((target("avx2,fma"))) static void loop_fma(loop_kind k, const loop_blocks *bl,
                                                         const coeffs *c, size_t lo, size_t hi)
{
    switch (k) {
    case LOOP_ADAM: adam_body(bl, c, lo, hi); break;
    case LOOP_SGD: sgd_body(bl, c, lo, hi); break;
    case LOOP_RMSPROP: rmsprop_body(bl, c, lo, hi); break;
    default: scale_body(bl, c, lo, hi); break;
    }
}

static bool cpu_has_fma(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
#define HAVE_FMA_CLONE 0
static bool cpu_has_fma(void)
{
    return false;
}
#endif

void grugan__optimizer_use_portable(grugan_optimizer *opt, bool portable)
{
    if (grugan__object_is(opt, GRUGAN__MAGIC_OPTIMIZER)) opt->fma = !portable && cpu_has_fma();
}

typedef struct chunk_job {
    loop_kind k;
    const coeffs *c;
    loop_blocks bl;
    size_t n;
    bool fma;
} chunk_job;

/* Chunks [begin, end) of the parameter block. */
static void update_chunks(void *ctx, size_t begin, size_t end)
{
    const chunk_job *j = ctx;
    for (size_t chunk = begin; chunk < end; chunk++) {
        const size_t lo = chunk * CHUNK, hi = j->n - lo > CHUNK ? lo + CHUNK : j->n;
#if HAVE_FMA_CLONE
        if (j->fma)
            loop_fma(j->k, &j->bl, j->c, lo, hi);
        else
#endif
            loop_portable(j->k, &j->bl, j->c, lo, hi);
    }
}

/* Runs a loop over the parameter block in chunks: elementwise, so the result
 * is the same for every thread count. */
static void run_chunks(grugan_optimizer *o, loop_kind k, const coeffs *c)
{
    chunk_job job;
    job.k = k;
    job.c = c;
    job.n = o->n;
    job.fma = o->fma;
    job.bl.p = o->params->values;
    job.bl.g = o->params->grads;
    job.bl.s0 = o->state;
    job.bl.s1 = o->slots > 1 ? o->state + o->n : NULL;
    job.bl.s2 = o->slots > 2 ? o->state + 2 * o->n : NULL;
    grugan__parallel_for(o->n_chunks, grugan__threads_for(o->threads, o->n, GRUGAN__PAR_MIN_PASS),
                         update_chunks, &job);
}

int grugan_optimizer_step(grugan_optimizer *opt)
{
    const hyper *h;
    coeffs c;
    double t;
    CHECK_OPT(opt);
    h = &opt->h;
    if (!grugan__all_finite(opt->params->grads, opt->n))
        return OPT_FAIL(opt, GRUGAN_E_NONFINITE, "a gradient is NaN or Inf; nothing updated");
    if (opt->steps == UINT64_MAX)
        return OPT_FAIL(opt, GRUGAN_E_STATE, "the step count would overflow");
    t = (double)(opt->steps + 1);
    /* A finite gradient can still give a non-finite update (a learning rate
     * near FLT_MAX, a gradient whose square overflows Adam's second moment):
     * keep what the update overwrites, so that it can be undone. */
    memcpy(opt->backup, opt->params->values, opt->n * sizeof(float));
    memcpy(opt->backup + opt->n, opt->state, opt->slots * opt->n * sizeof(float));

    memset(&c, 0, sizeof c);
    c.use_wd = h->weight_decay != 0 && opt->kind != GRUGAN_OPT_ADAMW;
    c.wd = (float)h->weight_decay;
    c.eps = (float)h->eps;
    switch (opt->kind) {
    case GRUGAN_OPT_ADAM:
    case GRUGAN_OPT_ADAMW:
        c.decoupled = opt->kind == GRUGAN_OPT_ADAMW;
        c.decay = (float)(1 - h->lr * h->weight_decay);
        c.b1 = (float)h->beta1;
        c.omb1 = (float)(1 - h->beta1);
        c.b2 = (float)h->beta2;
        c.omb2 = (float)(1 - h->beta2);
        c.neg_step = (float)-(h->lr / (1 - pow(h->beta1, t)));
        c.bc2_sqrt = (float)sqrt(1 - pow(h->beta2, t));
        run_chunks(opt, LOOP_ADAM, &c);
        break;
    case GRUGAN_OPT_SGD:
        c.use_mom = h->momentum != 0;
        c.started = opt->sgd_started != 0;
        c.nesterov = h->nesterov != 0;
        c.mom = (float)h->momentum;
        c.omd = (float)(1 - h->dampening);
        c.neg_step = (float)-h->lr;
        run_chunks(opt, LOOP_SGD, &c);
        break;
    default:
        c.use_mom = h->momentum > 0;
        c.centered = h->centered != 0;
        c.mom = (float)h->momentum;
        c.alpha = (float)h->alpha;
        c.oma = (float)(1 - h->alpha);
        c.neg_step = (float)-h->lr;
        run_chunks(opt, LOOP_RMSPROP, &c);
        break;
    }
    if (!grugan__all_finite(opt->params->values, opt->n) ||
        !grugan__all_finite(opt->state, opt->slots * opt->n)) {
        memcpy(opt->params->values, opt->backup, opt->n * sizeof(float));
        memcpy(opt->state, opt->backup + opt->n, opt->slots * opt->n * sizeof(float));
        return OPT_FAIL(opt, GRUGAN_E_NONFINITE,
                        "%s update would be NaN or Inf (lr %g); nothing updated",
                        kind_name(opt->kind), h->lr);
    }
    if (opt->kind == GRUGAN_OPT_SGD && c.use_mom) opt->sgd_started = 1;
    opt->steps++;
    return GRUGAN_OK;
}

/* ---- clipping --------------------------------------------------------------- */

typedef struct square_job {
    const float *g;
    double *partial;
    size_t n;
} square_job;

/* partial[k] = sum of squares of chunk k, with eight interleaved
 * accumulators in double, for chunks [begin, end). */
static void square_chunks(void *ctx, size_t begin, size_t end)
{
    const square_job *j = ctx;
    for (size_t k = begin; k < end; k++) {
        const size_t lo = k * CHUNK, hi = j->n - lo > CHUNK ? lo + CHUNK : j->n;
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        size_t i = lo;
        for (; i + 8 <= hi; i += 8)
            for (size_t m = 0; m < 8; m++) acc[m] += (double)j->g[i + m] * (double)j->g[i + m];
        for (size_t m = 0; i < hi; i++, m++) acc[m] += (double)j->g[i] * (double)j->g[i];
        j->partial[k] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
                        ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    }
}

/* Sum of the squares of all gradients: the chunks' partial sums added in
 * order, so the same bits for every thread count. */
static double grad_square_sum(grugan_optimizer *o)
{
    square_job job = {o->params->grads, o->partial, o->n};
    double total = 0;
    grugan__parallel_for(o->n_chunks, grugan__threads_for(o->threads, o->n, GRUGAN__PAR_MIN_PASS),
                         square_chunks, &job);
    for (size_t k = 0; k < o->n_chunks; k++) total += job.partial[k];
    return total;
}

int grugan_optimizer_clip_grad_norm(grugan_optimizer *opt, float max_norm, float *norm)
{
    float total, coef;
    CHECK_OPT(opt);
    if (!(max_norm > 0.0f && max_norm <= FLT_MAX))
        return OPT_FAIL(opt, GRUGAN_E_RANGE, "max_norm %g is not finite and positive",
                        (double)max_norm);
    total = (float)sqrt(grad_square_sum(opt));
    if (!(total <= FLT_MAX))
        return OPT_FAIL(opt, GRUGAN_E_NONFINITE,
                        "the gradient norm is not finite; nothing clipped");
    /* torch: clip_coef = max_norm / (total_norm + 1e-6) on a float32 tensor,
     * which Tensor.__rtruediv__ computes as reciprocal(total_norm + 1e-6) * max_norm */
    coef = (1.0f / (total + 1e-6f)) * max_norm;
    if (coef < 1.0f) {
        coeffs c;
        memset(&c, 0, sizeof c);
        c.decay = coef;
        run_chunks(opt, LOOP_SCALE, &c);
    }
    if (norm) *norm = total;
    return GRUGAN_OK;
}

/* ---- state ------------------------------------------------------------------ */

int grugan_optimizer_step_count(const grugan_optimizer *opt, uint64_t *steps)
{
    if (!grugan__object_is(opt, GRUGAN__MAGIC_OPTIMIZER) || !steps) return GRUGAN_E_INVALID;
    *steps = opt->steps;
    return GRUGAN_OK;
}

/* Which of the allocated blocks the current settings use, in state order;
 * returns how many. */
static size_t used_blocks(const grugan_optimizer *o, size_t *blocks)
{
    size_t k = 0;
    switch (o->kind) {
    case GRUGAN_OPT_ADAM:
    case GRUGAN_OPT_ADAMW:
        blocks[k++] = 0;
        blocks[k++] = 1;
        break;
    case GRUGAN_OPT_SGD:
        if (o->h.momentum != 0) blocks[k++] = 0;
        break;
    default:
        blocks[k++] = 0;
        if (o->h.momentum > 0) blocks[k++] = 1;
        if (o->h.centered) blocks[k++] = 2;
        break;
    }
    return k;
}

size_t grugan_optimizer_state_size(const grugan_optimizer *opt)
{
    size_t blocks[3];
    if (!grugan__object_is(opt, GRUGAN__MAGIC_OPTIMIZER)) return 0;
    /* slots * n was checked at creation, so this product fits */
    return used_blocks(opt, blocks) * opt->n;
}

int grugan_optimizer_state_read(const grugan_optimizer *opt, float *dst, size_t count,
                                uint64_t *steps)
{
    size_t blocks[3], k;
    CHECK_OPT(opt);
    k = used_blocks(opt, blocks);
    if (count != k * opt->n)
        return OPT_FAIL(opt, GRUGAN_E_SIZE, "the %s state has %zu floats, count is %zu",
                        kind_name(opt->kind), k * opt->n, count);
    if (!dst && count) return OPT_FAIL(opt, GRUGAN_E_INVALID, "dst is NULL");
    for (size_t i = 0; i < k; i++)
        memcpy(dst + i * opt->n, opt->state + blocks[i] * opt->n, opt->n * sizeof(float));
    if (steps) *steps = opt->steps;
    return GRUGAN_OK;
}

int grugan_optimizer_state_write(grugan_optimizer *opt, const float *src, size_t count,
                                 uint64_t steps)
{
    size_t blocks[3], k;
    CHECK_OPT(opt);
    k = used_blocks(opt, blocks);
    if (count != k * opt->n)
        return OPT_FAIL(opt, GRUGAN_E_SIZE, "the %s state has %zu floats, count is %zu",
                        kind_name(opt->kind), k * opt->n, count);
    if (!src && count) return OPT_FAIL(opt, GRUGAN_E_INVALID, "src is NULL");
    if (count && !grugan__all_finite(src, count))
        return OPT_FAIL(opt, GRUGAN_E_NONFINITE, "the state contains NaN or Inf");
    memset(opt->state, 0, opt->slots * opt->n * sizeof(float));
    for (size_t i = 0; i < k; i++)
        memcpy(opt->state + blocks[i] * opt->n, src + i * opt->n, opt->n * sizeof(float));
    opt->steps = steps;
    opt->sgd_started = opt->kind == GRUGAN_OPT_SGD && k > 0 && steps > 0;
    return GRUGAN_OK;
}

grugan_params *grugan__optimizer_params(const grugan_optimizer *opt)
{
    return grugan__object_is(opt, GRUGAN__MAGIC_OPTIMIZER) ? opt->params : NULL;
}
