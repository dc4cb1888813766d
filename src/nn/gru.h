/*
 * gru.h - the multi-layer, optionally bidirectional GRU on plain buffers:
 * forward, backpropagation through time and a single streaming step.
 *
 * The network does not own its parameters: it works on a caller's parameter
 * block and gradient block (PyTorch order and layout, see grugan__gru_layout),
 * so a GRU handle, a generator or a discriminator can each keep all of their
 * parameters in one allocation. It owns its workspace, sized for the largest
 * (B, T) seen; nothing is allocated once the workspace is large enough.
 *
 * Letters: B batch, T steps, I input size, H hidden size, L layers,
 * D directions. Inside, sequences are time-major (T, B, .) so that each step
 * is one contiguous (B, .) block; the caller's arrays are batch-major.
 */
#ifndef GRUGAN_NN_GRU_H
#define GRUGAN_NN_GRU_H

#include "core/core.h"
#include "nn/gates.h"

#include <stdbool.h>
#include <stddef.h>

/* The most layers a GRU may have (every model's config is checked against
 * it, and checkpoint metadata before any size is derived from it). */
#define GRUGAN__GRU_MAX_LAYERS 1024

typedef struct grugan__gru_shape {
    size_t input;   /* I */
    size_t hidden;  /* H */
    size_t layers;  /* L */
    size_t dirs;    /* D: 1 or 2 */
    bool reset_before; /* TF1 convention: n = tanh(W_in x + b_in + W_hn (r*h) + b_hn) */
} grugan__gru_shape;

/* Offsets (in floats) of one layer-direction's tensors in the parameter
 * block, PyTorch order: weight_ih (3H, In), weight_hh (3H, H), bias_ih (3H),
 * bias_hh (3H), In = I for layer 0 and D*H above. */
typedef struct grugan__gru_offsets {
    size_t w_ih, w_hh, b_ih, b_hh;
    size_t in; /* In */
} grugan__gru_offsets;

/* Number of floats of the whole parameter block; 0 if it overflows. */
size_t grugan__gru_param_floats(const grugan__gru_shape *s);

/* Offsets of layer l, direction d. */
grugan__gru_offsets grugan__gru_layout(const grugan__gru_shape *s, size_t l, size_t d);

/* Network: shape, borrowed parameter/gradient blocks, owned workspace. */
typedef struct grugan__gru_net {
    grugan__gru_shape shape;
    const grugan_context *ctx;
    float *params; /* borrowed */
    float *grads;  /* borrowed */
    int threads;
    const grugan__gates *kernels; /* elementwise row kernels for this CPU */

    /* Workspace, sized for cap_batch * cap_steps rows. */
    size_t cap_batch, cap_steps;
    float *ws;        /* one allocation holding every buffer below */
    float *x0;        /* (T, B, I) layer-0 input, time-major */
    float *outs;      /* L x (T, B, D*H) layer outputs (kept for backward) */
    float *gates;     /* L*D x (T, B, 3H) r, z, n */
    float *ghn;       /* L*D x (T, B, H) W_hn h + b_hn (reset after) or r*h (before) */
    float *states;    /* L*D x (T+2, B, H) state after time t at slot t+1;
                         slot 0 (forward) and slot T+1 (reverse) hold h0 */
    float *dgx;       /* (T, B, 3H) backward scratch */
    float *dgh;       /* (T, B, 3H) backward scratch */
    float *dbuf[2];   /* 2 x (T, B, max(I, D*H)) gradients flowing between layers */
    float *step_gh;   /* (B, 3H) recurrent product of one step */
    float *step_dh;   /* (B, H) gradient carried through time */
    float *step_drh;  /* (B, H) reset-before: dL/d(r*h) */
    size_t *len;      /* (B) lengths of the last forward (all T if none given) */

    /* The last forward, for backward. */
    bool have_forward;
    size_t batch, steps;
} grugan__gru_net;

/* Initializes a network on borrowed blocks (no workspace yet). */
void grugan__gru_init(grugan__gru_net *net, const grugan__gru_shape *shape,
                      const grugan_context *ctx, float *params, float *grads);

/* Frees the workspace. */
void grugan__gru_release(grugan__gru_net *net);

/* Grows the workspace to hold (batch, steps): GRUGAN_OK, GRUGAN_E_SIZE if the
 * sizes overflow, GRUGAN_E_NOMEM (the old workspace is then kept).
 * Invalidates the kept forward if it reallocates. */
int grugan__gru_reserve(grugan__gru_net *net, size_t batch, size_t steps);

/* PyTorch's default initialization, U(-1/sqrt(H), 1/sqrt(H)) for every
 * parameter, from a stream of (seed, GRUGAN__RNG_INIT). */
void grugan__gru_init_params(const grugan__gru_shape *s, float *params, uint64_t seed);

/*
 * Forward; the workspace must hold (batch, steps). Arrays as in grugan.h:
 *   x (B, T, I), h0 (L*D, B, H) or NULL, lengths (B) or NULL (each 1..T),
 *   out (B, T, D*H) or NULL, h_n (L*D, B, H) or NULL.
 * `x_rs` is the distance between consecutive steps of x, in floats (I when x
 * is dense; larger when x is a column block of a wider array).
 */
void grugan__gru_forward(grugan__gru_net *net, size_t batch, size_t steps, const float *x,
                         size_t x_rs, const float *h0, const size_t *lengths, float *out,
                         float *h_n);

/*
 * Backward for the kept forward:
 *   d_out (B, T, D*H) or NULL, d_hn (L*D, B, H) or NULL,
 *   d_x (B, T, I) with step distance dx_rs, or NULL; d_h0 (L*D, B, H) or NULL.
 * `params_too`: accumulate parameter gradients into the gradient block.
 */
void grugan__gru_backward(grugan__gru_net *net, const float *d_out, const float *d_hn,
                          float *d_x, size_t dx_rs, float *d_h0, bool params_too);

/* Floats of scratch grugan__gru_step needs for a batch (0 on overflow). */
size_t grugan__gru_step_scratch_floats(const grugan__gru_shape *s, size_t batch);

/*
 * One step of a unidirectional network:
 *   x (B, I), h (L, B, H) read then overwritten, out (B, H) or NULL,
 *   scratch of grugan__gru_step_scratch_floats floats.
 */
void grugan__gru_step(const grugan__gru_net *net, size_t batch, const float *x, float *h,
                      float *out, float *scratch);

#endif
