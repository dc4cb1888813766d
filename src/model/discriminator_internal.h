/* discriminator_internal.h - the discriminator's state, shared by its
 * forward and backward (discriminator.c) and its gradient penalties
 * (discriminator_penalty.c). */
#ifndef GRUGAN_MODEL_DISCRIMINATOR_INTERNAL_H
#define GRUGAN_MODEL_DISCRIMINATOR_INTERNAL_H

#include "core/core.h"
#include "model/params.h"
#include "nn/conv1d.h"
#include "nn/gru.h"

#include <stdbool.h>

/* Most convolutions of a CONV1D discriminator. */
#define MAX_CONV 64

typedef struct conv_layer {
    size_t c_in, t_in, t_out; /* input channels and steps, output steps */
    size_t w, b;              /* offsets of conv.{k}.weight and conv.{k}.bias */
} conv_layer;

struct grugan_discriminator {
    grugan__object obj;
    grugan_discriminator_config config; /* as created, defaults resolved */
    int kind;
    size_t F, C, I;
    int threads;
    int check_finite;
    grugan__params params;
    size_t head_w, head_b; /* offsets of head.weight and head.bias */
    size_t feat_in;        /* inputs of the head: D*H (GRU) or T_out * ch (CONV1D) */

    /* GRU kind */
    grugan__gru_shape shape;
    grugan__gru_net net;
    bool per_step;

    /* CONV1D kind */
    size_t T, n_conv, ch, K, S, P;
    float slope;
    conv_layer conv[MAX_CONV];
    size_t scratch_per_seq; /* im2col floats per sequence, largest layer */
    size_t act_per_seq;     /* floats of every a_k of one sequence */
    size_t wide_per_seq;    /* largest T_k * C_k of one sequence (k = input too) */

    /* Workspace for cap_batch x cap_steps. */
    size_t cap_batch, cap_steps;
    float *ws;
    float *x_in;   /* (B, T, I) */
    float *dx_in;  /* (B, T, I) */
    float *feat;   /* GRU per-step: (B, T, DH) outputs; final: (B, DH); conv: (B, feat_in) */
    float *dfeat;  /* same shape as feat */
    float *dlog;   /* (B, T) masked d_logits (GRU per-step); conv: the penalty weights (B) */
    float *hn;     /* (L*D, B, H) final states (GRU) */
    float *dhn;    /* (L*D, B, H) */
    float *acts;   /* conv: a_0, a_1, ... each (B, T_{k+1}, ch) */
    float *scratch; /* conv: (B, scratch_per_seq) */
    float *dbuf[2]; /* conv: 2 x (B, wide_per_seq) */
    float *dz;      /* conv, penalties: dL/dz_k of every layer, laid out as acts */
    bool have_forward;
    size_t batch, steps;
};

#define DISC_FAIL(d, code, ...) grugan__fail((grugan__object *)&(d)->obj, (code), __VA_ARGS__)

/* Refuses NULL or foreign handles; clears the message of a good one. */
#define CHECK_DISC(d)                                                                         \
    do {                                                                                      \
        if (!grugan__object_is((d), GRUGAN__MAGIC_DISCRIMINATOR)) return GRUGAN_E_INVALID;    \
        grugan__clear((grugan__object *)&(d)->obj);                                           \
    } while (0)

/* The shape of convolution k for a batch B. */
static inline grugan__conv1d_shape grugan__disc_conv_shape(const grugan_discriminator *d,
                                                           size_t k, size_t B)
{
    grugan__conv1d_shape s;
    s.B = B;
    s.T = d->conv[k].t_in;
    s.C_in = d->conv[k].c_in;
    s.C_out = d->ch;
    s.K = d->K;
    s.S = d->S;
    s.P = d->P;
    return s;
}

/* a_k of a batch B inside the acts buffer. */
static inline float *grugan__disc_act(const grugan_discriminator *d, size_t k, size_t B)
{
    float *a = d->acts;
    for (size_t j = 0; j < k; j++) a += B * d->conv[j].t_out * d->ch;
    return a;
}

#endif
