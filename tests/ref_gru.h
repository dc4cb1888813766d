/*
 * ref_gru.h - a naive double-precision GRU, the test oracle of the fast one.
 *
 * Written straight from the equations (DESIGN.md section 4, grugan.h), with
 * one loop per sum and no attempt at speed, so that it can be read against
 * the math. Semantics are PyTorch's nn.GRU(batch_first=True) with packed
 * (right-padded) sequences.
 *
 * Dimension letters: B batch, T steps, I input size, H hidden size,
 * L layers, D directions (1 or 2). Layer l reads in_l features: I for l = 0,
 * D*H above.
 *
 * Parameters use PyTorch's names, shapes and row-major layout, in the order of
 * nn.GRU's state_dict: tensor index 4*(l*D + d) + k with k = 0 weight_ih
 * (3H, in_l), 1 weight_hh (3H, H), 2 bias_ih (3H), 3 bias_hh (3H); gate rows
 * in the order r, z, n; names get the suffix "_reverse" for d = 1.
 */
#ifndef GRUGAN_TEST_REF_GRU_H
#define GRUGAN_TEST_REF_GRU_H

#include <stddef.h>
#include <stdint.h>

#define REF_GRU_MAX_LAYERS 4
#define REF_GRU_MAX_PARAMS (4 * 2 * REF_GRU_MAX_LAYERS)

/* Which tensor of a (layer, direction): k in 4*(l*D + d) + k. */
enum { REF_W_IH = 0, REF_W_HH = 1, REF_B_IH = 2, REF_B_HH = 3 };

typedef struct ref_gru {
    size_t I, H, L, D;
    int reset_before;                 /* 0: reset after (PyTorch), 1: reset before (TF1) */
    size_t num_params;                /* 4 * L * D */
    char name[REF_GRU_MAX_PARAMS][32]; /* "weight_ih_l0", "bias_hh_l1_reverse", ... */
    size_t ndim[REF_GRU_MAX_PARAMS];  /* 2 for weights, 1 for biases */
    size_t shape[REF_GRU_MAX_PARAMS][2];
    size_t numel[REF_GRU_MAX_PARAMS];
    double *param[REF_GRU_MAX_PARAMS]; /* (shape) row-major */
    double *grad[REF_GRU_MAX_PARAMS];  /* (shape) row-major, accumulated by backward */
} ref_gru;

/* What backward needs from a forward: each layer's input and the state
 * entering every valid step of every (layer, direction). */
typedef struct ref_gru_tape {
    size_t B, T;
    size_t *len;                                /* (B) valid steps per sequence */
    double *in[REF_GRU_MAX_LAYERS];             /* (B, T, in_l) input of layer l */
    double *hprev[2 * REF_GRU_MAX_LAYERS];      /* (B, T, H) state before step t of l*D+d */
} ref_gru_tape;

/* Allocates a GRU with zero parameters and gradients. 1 <= L <= 4,
 * I, H >= 1. Returns 0, or -1 on bad sizes or failed allocation (nothing
 * to free then). */
int ref_gru_init(ref_gru *g, size_t I, size_t H, size_t L, int bidirectional,
                 int reset_before);
void ref_gru_free(ref_gru *g);

/* Index of tensor k of layer l, direction d. */
size_t ref_gru_index(const ref_gru *g, size_t l, size_t d, int k);

/* Index of the tensor called `name`, or -1. */
int ref_gru_find(const ref_gru *g, const char *name);

/* Total number of scalar parameters. */
size_t ref_gru_num_scalars(const ref_gru *g);

/* Sets every gradient to zero. */
void ref_gru_zero_grad(ref_gru *g);

/*
 * Forward pass.
 *   x       (B, T, I)
 *   h0      (L*D, B, H) or NULL (zeros)
 *   lengths (B) or NULL (all T); each in 1..T
 *   out     (B, T, D*H)  last layer, forward direction first; 0 past a length
 *   h_n     (L*D, B, H) or NULL
 *   tape    NULL, or filled for ref_gru_backward (free with ref_gru_tape_free)
 * Returns 0, or -1 on bad lengths or failed allocation.
 */
int ref_gru_forward(const ref_gru *g, size_t B, size_t T, const double *x, const double *h0,
                    const size_t *lengths, double *out, double *h_n, ref_gru_tape *tape);

/*
 * Backpropagation through time for the forward that filled `tape`.
 *   d_out (B, T, D*H) or NULL (zeros)
 *   d_hn  (L*D, B, H) or NULL (zeros)
 *   dx    (B, T, I) or NULL      overwritten
 *   dh0   (L*D, B, H) or NULL    overwritten
 * Parameter gradients are ACCUMULATED into g->grad. Returns 0, or -1 on a
 * failed allocation.
 */
int ref_gru_backward(ref_gru *g, const ref_gru_tape *tape, const double *d_out,
                     const double *d_hn, double *dx, double *dh0);

void ref_gru_tape_free(ref_gru_tape *tape);

/* A small deterministic generator for test data (splitmix64). */
typedef struct ref_rng {
    uint64_t state;
} ref_rng;

void ref_rng_seed(ref_rng *rng, uint64_t seed);
/* Uniform in [lo, hi). */
double ref_rng_uniform(ref_rng *rng, double lo, double hi);
/* dst[i] ~ U(lo, hi), rounded to float so that float and double runs see
 * exactly the same numbers. */
void ref_rng_fill(ref_rng *rng, double *dst, size_t n, double lo, double hi);

/* Fills every parameter with ref_rng_fill(-scale, scale). */
void ref_gru_randomize(ref_gru *g, ref_rng *rng, double scale);

#endif
