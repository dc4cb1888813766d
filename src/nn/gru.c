/*
 * gru.c - GRU forward, backpropagation through time and streaming step.
 *
 * Kernel strategy (DESIGN.md section 5):
 *   - the input projection of all T steps is one GEMM per layer and direction;
 *   - each step is one GEMM for the recurrent product (two for the
 *     reset-before convention) and one fused elementwise pass that also keeps
 *     what backward needs (r, z, n and W_hn h + b_hn, or r*h);
 *   - backward is one GEMM per step for dh (two for reset-before); the weight
 *     gradients and dx are each ONE GEMM over all T*B rows after the loop; bias
 *     gradients are column sums in a fixed order.
 * Weights stay in PyTorch's layout (3H, In): measured on BLIS 0.9 for the
 * TimeGAN sizes, products with W^T viewed through strides ran as fast as with
 * a transposed copy (and the recurrent one faster), see docs/PERFORMANCE.md.
 */
#include "nn/gru.h"

#include "core/blas.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "nn/gates.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

size_t grugan__gru_param_floats(const grugan__gru_shape *s)
{
    size_t total = 0;
    for (size_t l = 0; l < s->layers; l++) {
        size_t in = l == 0 ? s->input : s->dirs * s->hidden, per_dir, block;
        /* 3H * In + 3H * H + 6H */
        if (!grugan__add_size(in, s->hidden + 2, &per_dir)) return 0;
        if (!grugan__mul3_size(3, s->hidden, per_dir, &block)) return 0;
        if (!grugan__mul_size(block, s->dirs, &block)) return 0;
        if (!grugan__add_size(total, block, &total)) return 0;
    }
    return total;
}

grugan__gru_offsets grugan__gru_layout(const grugan__gru_shape *s, size_t l, size_t d)
{
    const size_t H = s->hidden, D = s->dirs;
    grugan__gru_offsets o;
    size_t base = 0;
    for (size_t k = 0; k < l; k++) {
        size_t in = k == 0 ? s->input : D * H;
        base += D * 3 * H * (in + H + 2);
    }
    o.in = l == 0 ? s->input : D * H;
    base += d * 3 * H * (o.in + H + 2);
    o.w_ih = base;
    o.w_hh = o.w_ih + 3 * H * o.in;
    o.b_ih = o.w_hh + 3 * H * H;
    o.b_hh = o.b_ih + 3 * H;
    return o;
}

void grugan__gru_init(grugan__gru_net *net, const grugan__gru_shape *shape,
                      const grugan_context *ctx, float *params, float *grads)
{
    memset(net, 0, sizeof *net);
    net->shape = *shape;
    net->ctx = ctx;
    net->params = params;
    net->grads = grads;
    net->threads = 1;
    net->kernels = grugan__gates_for_cpu();
}

void grugan__gru_release(grugan__gru_net *net)
{
    grugan__free(net->ctx, net->ws);
    grugan__free(net->ctx, net->len);
    net->ws = NULL;
    net->len = NULL;
    net->cap_batch = net->cap_steps = 0;
    net->have_forward = false;
}

/* Floats of every workspace buffer for (B, T), in the order they are laid
 * out; false on overflow. */
static bool workspace_sizes(const grugan__gru_shape *s, size_t B, size_t T, size_t sizes[11])
{
    const size_t H = s->hidden, D = s->dirs, L = s->layers;
    size_t tb, ld, wide = s->input > D * H ? s->input : D * H;
    if (!grugan__mul_size(T, B, &tb) || !grugan__mul_size(L, D, &ld)) return false;
    return grugan__mul_size(tb, s->input, &sizes[0]) &&                   /* x0 */
           grugan__mul3_size(L, tb, D * H, &sizes[1]) &&                  /* outs */
           grugan__mul3_size(ld, tb, 3 * H, &sizes[2]) &&                 /* gates */
           grugan__mul3_size(ld, tb, H, &sizes[3]) &&                     /* ghn */
           grugan__mul3_size(ld, T + 2, B * H, &sizes[4]) && T + 2 > T && /* states */
           grugan__mul_size(tb, 3 * H, &sizes[5]) &&                      /* dgx */
           grugan__mul_size(tb, 3 * H, &sizes[6]) &&                      /* dgh */
           grugan__mul3_size(2, tb, wide, &sizes[7]) &&                   /* dbuf */
           grugan__mul_size(B, 3 * H, &sizes[8]) &&                       /* step_gh */
           grugan__mul_size(B, H, &sizes[9]) &&                           /* step_dh */
           grugan__mul_size(B, H, &sizes[10]);                            /* step_drh */
}

int grugan__gru_reserve(grugan__gru_net *net, size_t batch, size_t steps)
{
    size_t sizes[11], total = 0, bytes;
    float *ws, *p;
    size_t *len;

    if (batch <= net->cap_batch && steps <= net->cap_steps) return GRUGAN_OK;
    if (batch < net->cap_batch) batch = net->cap_batch;
    if (steps < net->cap_steps) steps = net->cap_steps;
    if (!workspace_sizes(&net->shape, batch, steps, sizes)) return GRUGAN_E_SIZE;
    for (int i = 0; i < 11; i++)
        if (!grugan__add_size(total, sizes[i], &total)) return GRUGAN_E_SIZE;
    if (!grugan__mul_size(total, sizeof(float), &bytes) || bytes > PTRDIFF_MAX)
        return GRUGAN_E_SIZE;
    ws = grugan__calloc(net->ctx, total, sizeof(float));
    if (!ws) return GRUGAN_E_NOMEM;
    len = grugan__calloc(net->ctx, batch, sizeof(size_t));
    if (!len) {
        grugan__free(net->ctx, ws);
        return GRUGAN_E_NOMEM;
    }
    grugan__free(net->ctx, net->ws);
    grugan__free(net->ctx, net->len);
    net->ws = p = ws;
    net->len = len;
    net->x0 = p; p += sizes[0];
    net->outs = p; p += sizes[1];
    net->gates = p; p += sizes[2];
    net->ghn = p; p += sizes[3];
    net->states = p; p += sizes[4];
    net->dgx = p; p += sizes[5];
    net->dgh = p; p += sizes[6];
    net->dbuf[0] = p; p += sizes[7] / 2;
    net->dbuf[1] = p; p += sizes[7] / 2;
    net->step_gh = p; p += sizes[8];
    net->step_dh = p; p += sizes[9];
    net->step_drh = p;
    net->cap_batch = batch;
    net->cap_steps = steps;
    net->have_forward = false;
    return GRUGAN_OK;
}

void grugan__gru_init_params(const grugan__gru_shape *s, float *params, uint64_t seed)
{
    const float bound = (float)(1.0 / sqrt((double)s->hidden));
    grugan__rng rng;
    grugan__rng_init(&rng, seed, GRUGAN__RNG_INIT);
    grugan__rng_fill_uniform(&rng, params, grugan__gru_param_floats(s), -bound, bound);
}

/* ---- buffers of one layer-direction in the workspace ------------------- */

typedef struct dir_buffers {
    float *gates;  /* (T, B, 3H) */
    float *ghn;    /* (T, B, H) */
    float *states; /* (T+2, B, H) */
} dir_buffers;

/* Slices are laid out with the capacity's strides, so reserving once serves
 * every smaller (B, T); within a slice, the current (B, T) is dense. */
static dir_buffers buffers_of(const grugan__gru_net *net, size_t l, size_t d)
{
    const size_t H = net->shape.hidden, ld = l * net->shape.dirs + d;
    const size_t tb = net->cap_batch * net->cap_steps;
    dir_buffers b;
    b.gates = net->gates + ld * tb * 3 * H;
    b.ghn = net->ghn + ld * tb * H;
    b.states = net->states + ld * (net->cap_steps + 2) * net->cap_batch * H;
    return b;
}

static float *layer_output(const grugan__gru_net *net, size_t l)
{
    return net->outs + l * net->cap_batch * net->cap_steps * net->shape.dirs * net->shape.hidden;
}

/* Time of the k-th processed step of direction d. */
static size_t time_of(size_t k, size_t T, size_t d)
{
    return d ? T - 1 - k : k;
}

/* State before time t: slot t (forward) or slot t+2 (reverse). */
static size_t prev_slot(size_t t, size_t d)
{
    return d ? t + 2 : t;
}

/* ---- elementwise passes of one step -------------------------------------- */

/* Everything one step's elementwise pass reads and writes; rows b < B. */
typedef struct step_io {
    size_t B, H;
    const float *b_ih, *b_hh; /* (3H) each */
    float *gates;             /* (B, 3H): x W_ih^T on entry, r z n on exit */
    float *gh;                /* (B, 3H): h W_hh^T (without b_hh) */
    float *ghn;               /* (B, H): kept for backward */
    const float *prev;        /* (B, H) state before the step */
    float *next;              /* (B, H) state after the step */
    float *out;               /* (B, out_rs) at the direction's column, or NULL */
    size_t out_rs;
    const size_t *len;        /* (B) or NULL; row b is valid iff t < len[b] */
    size_t t;
    int threads;
    const grugan__gates *k;   /* the row kernels */
} step_io;

static bool row_valid(const step_io *s, size_t b)
{
    return s->len == NULL || s->t < s->len[b];
}

/* dst[0..n) = src[0..n) for short rows (transpose_bt, step outputs): fixed-size
 * pieces the compiler turns into vector moves, where a memcpy call per row
 * of a few dozen floats costs more than the copy. */
static inline void copy_row(float *restrict dst, const float *restrict src, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) memcpy(dst + i, src + i, 8 * sizeof *dst);
    if (i + 4 <= n) {
        memcpy(dst + i, src + i, 4 * sizeof *dst);
        i += 4;
    }
    if (i + 2 <= n) {
        memcpy(dst + i, src + i, 2 * sizeof *dst);
        i += 2;
    }
    if (i < n) dst[i] = src[i];
}

/* h' = (1 - z) n + z h for a valid row; a padded row keeps h and outputs 0. */
static void finish_row(const step_io *s, size_t b, const float *n, const float *z)
{
    const size_t H = s->H;
    const float *h = s->prev + b * H;
    float *hn = s->next + b * H;
    float *o = s->out ? s->out + b * s->out_rs : NULL;
    if (!row_valid(s, b)) {
        memcpy(hn, h, H * sizeof *hn);
        if (o) memset(o, 0, H * sizeof *o);
        return;
    }
    s->k->blend(H, z, n, h, hn);
    if (o) copy_row(o, hn, H);
}

/* The gates of rows [begin, end), reset after (the math is in gates_impl.h). */
static void rows_forward_after(void *ctx, size_t begin, size_t end)
{
    const step_io *s = ctx;
    const size_t H = s->H;
    s->k->forward_after(end - begin, H, s->gates + begin * 3 * H, s->gh + begin * 3 * H, s->b_ih,
                        s->b_hh, s->ghn + begin * H);
    for (size_t b = begin; b < end; b++) {
        const float *g = s->gates + b * 3 * H;
        finish_row(s, b, g + 2 * H, g + H);
    }
}

/* Reset before, first half: r, z and r * h of rows [begin, end). */
static void rows_forward_before_rz(void *ctx, size_t begin, size_t end)
{
    const step_io *s = ctx;
    const size_t H = s->H;
    for (size_t b = begin; b < end; b++)
        s->k->forward_before_rz(H, s->gates + b * 3 * H, s->gh + b * 3 * H, s->b_ih, s->b_hh,
                                s->prev + b * H, s->ghn + b * H);
}

/* Reset before, second half: n and h' of rows [begin, end). */
static void rows_forward_before_n(void *ctx, size_t begin, size_t end)
{
    const step_io *s = ctx;
    const size_t H = s->H;
    for (size_t b = begin; b < end; b++) {
        float *g = s->gates + b * 3 * H;
        s->k->forward_before_n(H, g, s->gh + b * 3 * H + 2 * H, s->b_ih, s->b_hh);
        finish_row(s, b, g + 2 * H, g + H);
    }
}

/* Runs a row function of a forward step over its rows. */
static void forward_rows(const step_io *s, grugan__range_fn fn)
{
    grugan__parallel_for(s->B,
                         grugan__threads_for(s->threads, s->B * s->H, GRUGAN__PAR_MIN_STEP),
                         fn, (void *)s);
}

/* Recurrent product(s) and gates of one step; s->gates holds x W_ih^T. */
static void step_forward(const grugan__gru_shape *shape, const float *w_hh, const step_io *s)
{
    const size_t B = s->B, H = s->H;
    const ptrdiff_t h3 = (ptrdiff_t)(3 * H), h1 = (ptrdiff_t)H;
    if (!shape->reset_before) {
        /* gh (B, 3H) = h (B, H) W_hh^T, W_hh (3H, H) */
        grugan__sgemm(s->threads, B, 3 * H, H, 1.0f, s->prev, h1, 1, w_hh, 1, h1, 0.0f, s->gh,
                      h3, 1);
        forward_rows(s, rows_forward_after);
    } else {
        /* gh_rz (B, 2H) = h W_hh[0:2H]^T; gh_n (B, H) = (r*h) W_hh[2H:3H]^T */
        grugan__sgemm(s->threads, B, 2 * H, H, 1.0f, s->prev, h1, 1, w_hh, 1, h1, 0.0f, s->gh,
                      h3, 1);
        forward_rows(s, rows_forward_before_rz);
        grugan__sgemm(s->threads, B, H, H, 1.0f, s->ghn, h1, 1, w_hh + 2 * H * H, 1, h1, 0.0f,
                      s->gh + 2 * H, h3, 1);
        forward_rows(s, rows_forward_before_n);
    }
}

/* ---- forward ---------------------------------------------------------------- */

/* One layer-direction over all steps.
 *   in (T, B, In), out (T, B, D*H) written at column d*H, h0 (B, H) or NULL. */
static void dir_forward(grugan__gru_net *net, size_t l, size_t d, size_t B, size_t T,
                        const float *in, float *out, const float *h0, const size_t *len)
{
    const grugan__gru_shape *sh = &net->shape;
    const size_t H = sh->hidden, DH = sh->dirs * H;
    const grugan__gru_offsets o = grugan__gru_layout(sh, l, d);
    const float *w_ih = net->params + o.w_ih, *w_hh = net->params + o.w_hh;
    const dir_buffers buf = buffers_of(net, l, d);
    float *first = buf.states + (d ? T + 1 : 0) * B * H;
    step_io s;

    /* gx (T*B, 3H) = in (T*B, In) W_ih^T: all steps in one product */
    grugan__sgemm(net->threads, T * B, 3 * H, o.in, 1.0f, in, (ptrdiff_t)o.in, 1, w_ih, 1,
                  (ptrdiff_t)o.in, 0.0f, buf.gates, (ptrdiff_t)(3 * H), 1);
    if (h0)
        memcpy(first, h0, B * H * sizeof *first);
    else
        memset(first, 0, B * H * sizeof *first);

    s.B = B;
    s.H = H;
    s.b_ih = net->params + o.b_ih;
    s.b_hh = net->params + o.b_hh;
    s.gh = net->step_gh;
    s.out_rs = DH;
    s.len = len;
    s.threads = net->threads;
    s.k = net->kernels;
    for (size_t k = 0; k < T; k++) {
        const size_t t = time_of(k, T, d);
        s.t = t;
        s.gates = buf.gates + t * B * 3 * H;
        s.ghn = buf.ghn + t * B * H;
        s.prev = buf.states + prev_slot(t, d) * B * H;
        s.next = buf.states + (t + 1) * B * H;
        s.out = out + t * B * DH + d * H;
        step_forward(sh, w_hh, &s);
    }
}

/* dst (T, B, W) time-major from src (B, T, .) batch-major, step distance
 * src_rs, W columns copied; or the reverse with to_batch_major. */
static void transpose_bt(float *dst, const float *src, size_t B, size_t T, size_t W,
                         size_t src_rs, bool to_batch_major)
{
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T; t++) {
            if (to_batch_major)
                copy_row(dst + (b * T + t) * src_rs, src + (t * B + b) * W, W);
            else
                copy_row(dst + (t * B + b) * W, src + (b * T + t) * src_rs, W);
        }
}

void grugan__gru_forward(grugan__gru_net *net, size_t batch, size_t steps, const float *x,
                         size_t x_rs, const float *h0, const size_t *lengths, float *out,
                         float *h_n)
{
    const grugan__gru_shape *sh = &net->shape;
    const size_t B = batch, T = steps, H = sh->hidden, D = sh->dirs, DH = D * H;

    for (size_t b = 0; b < B; b++) net->len[b] = lengths ? lengths[b] : T;
    transpose_bt(net->x0, x, B, T, sh->input, x_rs, false);
    for (size_t l = 0; l < sh->layers; l++) {
        const float *in = l == 0 ? net->x0 : layer_output(net, l - 1);
        for (size_t d = 0; d < D; d++)
            dir_forward(net, l, d, B, T, in, layer_output(net, l),
                        h0 ? h0 + (l * D + d) * B * H : NULL, lengths ? net->len : NULL);
    }
    if (out) transpose_bt(out, layer_output(net, sh->layers - 1), B, T, DH, DH, true);
    if (h_n)
        for (size_t l = 0; l < sh->layers; l++)
            for (size_t d = 0; d < D; d++) {
                /* the last state is after time T-1 (forward) or time 0 (reverse);
                 * padding froze it at each sequence's last valid step */
                const float *last = buffers_of(net, l, d).states + (d ? 1 : T) * B * H;
                memcpy(h_n + (l * D + d) * B * H, last, B * H * sizeof *h_n);
            }
    net->batch = B;
    net->steps = T;
    net->have_forward = true;
}

/* ---- backward ------------------------------------------------------------- */

/* Everything one step's backward pass reads and writes; rows b < B. */
typedef struct step_grad {
    size_t B, H;
    const float *gates; /* (B, 3H) r z n */
    const float *ghn;   /* (B, H) W_hn h + b_hn (after) or r*h (before) */
    const float *prev;  /* (B, H) state before the step */
    const float *dout;  /* (B, dout_rs) at the direction's column */
    size_t dout_rs;
    float *dh;          /* (B, H) gradient reaching the state after the step;
                           on exit the part that flows to the state before
                           it through z (the GEMM adds the rest) */
    float *dgx, *dgh;   /* (B, 3H) gradients of the pre-activations */
    const float *drh;   /* (B, H) reset before: dL/d(r*h) of the step */
    const size_t *len;
    size_t t;
    int threads;
    const grugan__gates *k;
} step_grad;

static bool grad_row_valid(const step_grad *s, size_t b)
{
    return s->len == NULL || s->t < s->len[b];
}

/* The gate gradients of rows [begin, end) (the math is in gates_impl.h):
 * all of them for reset after. A padded row passes dh through unchanged and
 * contributes nothing. */
static void rows_backward(const step_grad *s, size_t begin, size_t end, bool reset_before)
{
    const size_t H = s->H;
    if (!reset_before && s->len == NULL) {
        /* every row valid: one call for all */
        s->k->backward_after(end - begin, H, s->gates + begin * 3 * H, s->ghn + begin * H,
                             s->prev + begin * H, s->dh + begin * H,
                             s->dout + begin * s->dout_rs, s->dout_rs, s->dgx + begin * 3 * H,
                             s->dgh + begin * 3 * H);
        return;
    }
    for (size_t b = begin; b < end; b++) {
        float *dgx = s->dgx + b * 3 * H, *dgh = s->dgh + b * 3 * H;
        const float *gates = s->gates + b * 3 * H, *h = s->prev + b * H;
        const float *dout = s->dout + b * s->dout_rs;
        if (!grad_row_valid(s, b)) {
            memset(dgx, 0, 3 * H * sizeof *dgx);
            memset(dgh, 0, 3 * H * sizeof *dgh);
        } else if (reset_before) {
            s->k->backward_before_zn(H, gates, h, s->dh + b * H, dout, dgx, dgh);
        } else {
            s->k->backward_after(1, H, gates, s->ghn + b * H, h, s->dh + b * H, dout,
                                 s->dout_rs, dgx, dgh);
        }
    }
}

static void rows_backward_after(void *ctx, size_t begin, size_t end)
{
    rows_backward(ctx, begin, end, false);
}

/* Reset before, first half: the gradients of z and n. */
static void rows_backward_before_zn(void *ctx, size_t begin, size_t end)
{
    rows_backward(ctx, begin, end, true);
}

/* Reset before, second half: the gradients of r, given drh = dL/d(r*h) in
 * the step's drh. */
static void rows_backward_before_r(void *ctx, size_t begin, size_t end)
{
    const step_grad *s = ctx;
    const size_t H = s->H;
    for (size_t b = begin; b < end; b++) {
        if (!grad_row_valid(s, b)) continue; /* rows already zero */
        s->k->backward_before_r(H, s->gates + b * 3 * H, s->prev + b * H, s->drh + b * H,
                                s->dh + b * H, s->dgx + b * 3 * H, s->dgh + b * 3 * H);
    }
}

/* Runs a row function of a backward step over its rows. */
static void backward_rows(const step_grad *s, grugan__range_fn fn)
{
    grugan__parallel_for(s->B,
                         grugan__threads_for(s->threads, s->B * s->H, GRUGAN__PAR_MIN_STEP),
                         fn, (void *)s);
}

/* One step back: fills dgx, dgh of the step and moves dh to the state
 * before it: dh_prev = g z + dgh W_hh (reset after), or the two-part
 * version for reset before. */
static void step_backward(const grugan__gru_net *net, const float *w_hh, const step_grad *s)
{
    const size_t B = s->B, H = s->H;
    const ptrdiff_t h3 = (ptrdiff_t)(3 * H), h1 = (ptrdiff_t)H;
    if (!net->shape.reset_before) {
        backward_rows(s, rows_backward_after);
        /* dh (B, H) += dgh (B, 3H) W_hh (3H, H) */
        grugan__sgemm(s->threads, B, H, 3 * H, 1.0f, s->dgh, h3, 1, w_hh, h1, 1, 1.0f, s->dh,
                      h1, 1);
    } else {
        backward_rows(s, rows_backward_before_zn);
        /* drh (B, H) = dgh_n (B, H) W_hn (H, H) */
        grugan__sgemm(s->threads, B, H, H, 1.0f, s->dgh + 2 * H, h3, 1, w_hh + 2 * H * H, h1, 1,
                      0.0f, net->step_drh, h1, 1);
        backward_rows(s, rows_backward_before_r);
        /* dh (B, H) += dgh_rz (B, 2H) W_hh[0:2H] (2H, H) */
        grugan__sgemm(s->threads, B, H, 2 * H, 1.0f, s->dgh, h3, 1, w_hh, h1, 1, 1.0f, s->dh,
                      h1, 1);
    }
}

typedef struct column_sums {
    const grugan__gates *k;
    float *acc;
    const float *m;
    size_t rows, cols;
} column_sums;

enum { SUM_CHUNK = 64 };

/* Column blocks [begin, end) of SUM_CHUNK columns each. */
static void sum_column_blocks(void *ctx, size_t begin, size_t end)
{
    const column_sums *c = ctx;
    for (size_t block = begin; block < end; block++) {
        const size_t j0 = block * SUM_CHUNK;
        const size_t w = c->cols - j0 < SUM_CHUNK ? c->cols - j0 : SUM_CHUNK;
        double sum[SUM_CHUNK] = {0};
        c->k->sum_rows(c->rows, w, c->cols, c->m + j0, sum);
        for (size_t j = 0; j < w; j++) c->acc[j0 + j] += (float)sum[j];
    }
}

/* acc[j] += sum over rows r (in order) of m[r * cols + j], in double; column
 * blocks are independent, so any thread count gives the same bits. */
static void add_column_sums(const grugan__gates *k, float *acc, const float *m, size_t rows,
                            size_t cols, int threads)
{
    column_sums c = {k, acc, m, rows, cols};
    grugan__parallel_for((cols + SUM_CHUNK - 1) / SUM_CHUNK,
                         grugan__threads_for(threads, rows * cols, GRUGAN__PAR_MIN_PASS),
                         sum_column_blocks, &c);
}

/* One layer-direction back over all steps.
 *   in (T, B, In) the layer's input, dout (T, B, D*H) at column d*H,
 *   din (T, B, In) or NULL: receives (d == 0) or accumulates (d == 1) dL/d in,
 *   dhn (B, H) or NULL, dh0 (B, H) or NULL. */
static void dir_backward(grugan__gru_net *net, size_t l, size_t d, const float *in,
                         const float *dout, float *din, const float *dhn, float *dh0,
                         bool params_too)
{
    const grugan__gru_shape *sh = &net->shape;
    const size_t B = net->batch, T = net->steps, H = sh->hidden, DH = sh->dirs * H;
    const size_t TB = T * B;
    const grugan__gru_offsets o = grugan__gru_layout(sh, l, d);
    const float *w_ih = net->params + o.w_ih, *w_hh = net->params + o.w_hh;
    const dir_buffers buf = buffers_of(net, l, d);
    const ptrdiff_t h3 = (ptrdiff_t)(3 * H), h1 = (ptrdiff_t)H, in_rs = (ptrdiff_t)o.in;
    step_grad s;

    if (dhn)
        memcpy(net->step_dh, dhn, B * H * sizeof(float));
    else
        memset(net->step_dh, 0, B * H * sizeof(float));
    s.B = B;
    s.H = H;
    s.dout_rs = DH;
    s.dh = net->step_dh;
    s.drh = net->step_drh;
    s.len = net->len;
    s.threads = net->threads;
    s.k = net->kernels;
    for (size_t k = T; k-- > 0;) {
        const size_t t = time_of(k, T, d);
        s.t = t;
        s.gates = buf.gates + t * B * 3 * H;
        s.ghn = buf.ghn + t * B * H;
        s.prev = buf.states + prev_slot(t, d) * B * H;
        s.dout = dout + t * B * DH + d * H;
        s.dgx = net->dgx + t * B * 3 * H;
        s.dgh = net->dgh + t * B * 3 * H;
        step_backward(net, w_hh, &s);
    }
    if (dh0) memcpy(dh0, net->step_dh, B * H * sizeof *dh0);

    if (params_too) {
        float *g = net->grads;
        /* states before every step, time order: slots 0..T-1 or 2..T+1 */
        const float *prev_all = buf.states + (d ? 2 : 0) * B * H;
        /* dW_ih (3H, In) += dgx^T (3H, TB) in (TB, In) */
        grugan__sgemm(net->threads, 3 * H, o.in, TB, 1.0f, net->dgx, 1, h3, in, in_rs, 1, 1.0f,
                      g + o.w_ih, in_rs, 1);
        if (!sh->reset_before) {
            /* dW_hh (3H, H) += dgh^T (3H, TB) h_prev (TB, H) */
            grugan__sgemm(net->threads, 3 * H, H, TB, 1.0f, net->dgh, 1, h3, prev_all, h1, 1,
                          1.0f, g + o.w_hh, h1, 1);
        } else {
            /* dW_hh[0:2H] += dgh_rz^T h_prev;  dW_hh[2H:3H] += dgh_n^T (r*h) */
            grugan__sgemm(net->threads, 2 * H, H, TB, 1.0f, net->dgh, 1, h3, prev_all, h1, 1,
                          1.0f, g + o.w_hh, h1, 1);
            grugan__sgemm(net->threads, H, H, TB, 1.0f, net->dgh + 2 * H, 1, h3, buf.ghn, h1, 1,
                          1.0f, g + o.w_hh + 2 * H * H, h1, 1);
        }
        add_column_sums(net->kernels, g + o.b_ih, net->dgx, TB, 3 * H, net->threads);
        add_column_sums(net->kernels, g + o.b_hh, net->dgh, TB, 3 * H, net->threads);
    }
    if (din) {
        /* din (TB, In) (+)= dgx (TB, 3H) W_ih (3H, In) */
        grugan__sgemm(net->threads, TB, o.in, 3 * H, 1.0f, net->dgx, h3, 1, w_ih, in_rs, 1,
                      d == 0 ? 0.0f : 1.0f, din, in_rs, 1);
    }
}

void grugan__gru_backward(grugan__gru_net *net, const float *d_out, const float *d_hn,
                          float *d_x, size_t dx_rs, float *d_h0, bool params_too)
{
    const grugan__gru_shape *sh = &net->shape;
    const size_t B = net->batch, T = net->steps, H = sh->hidden, D = sh->dirs, DH = D * H;
    float *dcur = net->dbuf[0], *dnext = net->dbuf[1];

    if (d_out)
        transpose_bt(dcur, d_out, B, T, DH, DH, false);
    else
        memset(dcur, 0, T * B * DH * sizeof *dcur);
    for (size_t l = sh->layers; l-- > 0;) {
        const float *in = l == 0 ? net->x0 : layer_output(net, l - 1);
        float *din = (l > 0 || d_x) ? dnext : NULL;
        for (size_t d = 0; d < D; d++) {
            const size_t ld = l * D + d;
            dir_backward(net, l, d, in, dcur, din, d_hn ? d_hn + ld * B * H : NULL,
                         d_h0 ? d_h0 + ld * B * H : NULL, params_too);
        }
        dnext = dcur;
        dcur = din;
    }
    if (d_x) transpose_bt(d_x, dcur, B, T, sh->input, dx_rs, true);
}

/* ---- streaming step --------------------------------------------------------- */

size_t grugan__gru_step_scratch_floats(const grugan__gru_shape *s, size_t batch)
{
    size_t per_row, total;
    /* gates (B, 3H), gh (B, 3H), ghn (B, H) */
    if (!grugan__mul_size(s->hidden, 7, &per_row)) return 0;
    if (!grugan__mul_size(batch, per_row, &total)) return 0;
    return total;
}

void grugan__gru_step(const grugan__gru_net *net, size_t batch, const float *x, float *h,
                      float *out, float *scratch)
{
    const grugan__gru_shape *sh = &net->shape;
    const size_t B = batch, H = sh->hidden;
    step_io s;
    s.B = B;
    s.H = H;
    s.gates = scratch;
    s.gh = scratch + B * 3 * H;
    s.ghn = scratch + B * 6 * H;
    s.out = NULL;
    s.out_rs = H;
    s.len = NULL;
    s.t = 0;
    s.threads = net->threads;
    s.k = net->kernels;
    for (size_t l = 0; l < sh->layers; l++) {
        const grugan__gru_offsets o = grugan__gru_layout(sh, l, 0);
        const float *in = l == 0 ? x : h + (l - 1) * B * H;
        float *hl = h + l * B * H;
        /* gx (B, 3H) = in (B, In) W_ih^T */
        grugan__sgemm(net->threads, B, 3 * H, o.in, 1.0f, in, (ptrdiff_t)o.in, 1,
                      net->params + o.w_ih, 1, (ptrdiff_t)o.in, 0.0f, s.gates,
                      (ptrdiff_t)(3 * H), 1);
        s.b_ih = net->params + o.b_ih;
        s.b_hh = net->params + o.b_hh;
        s.prev = hl;
        s.next = hl; /* each row reads h before writing it */
        step_forward(sh, net->params + o.w_hh, &s);
    }
    if (out) memcpy(out, h + (sh->layers - 1) * B * H, B * H * sizeof *out);
}
