/*
 * params.h - a model's named parameter tensors: one contiguous block of
 * values, one of gradients with the same layout, and a table of named views
 * (name, shape, offset) in PyTorch's naming and layout. Optimizers run one
 * flat loop over the blocks; checkpoints write them in one pass.
 */
#ifndef GRUGAN_MODEL_PARAMS_H
#define GRUGAN_MODEL_PARAMS_H

#include "core/core.h"
#include "nn/gru.h"

#define GRUGAN__NAME_CAP 64
#define GRUGAN__MAX_DIMS 4

typedef struct grugan__tensor {
    char name[GRUGAN__NAME_CAP];
    size_t ndim;
    size_t shape[GRUGAN__MAX_DIMS];
    size_t offset; /* in floats, into the blocks */
    size_t count;  /* product of the shape */
} grugan__tensor;

/* The public grugan_params: embedded in its model, never allocated alone. */
struct grugan_params {
    grugan__object obj;
    size_t n_tensors, cap_tensors;
    grugan__tensor *tensors;
    size_t n_floats;
    float *values; /* (n_floats) */
    float *grads;  /* (n_floats) */
};

typedef struct grugan_params grugan__params;

/* Prepares an empty set whose allocations go through ctx. */
void grugan__params_init(grugan__params *p, const grugan_context *ctx);

/* Appends a tensor view at the end of the block; GRUGAN_E_NOMEM or
 * GRUGAN_E_SIZE on failure. Call before grugan__params_allocate. */
int grugan__params_add(grugan__params *p, const char *name, size_t ndim, const size_t *shape);

/* Appends the tensors of a GRU of the given shape, names prefixed by
 * `prefix` ("" or e.g. "gru."), in the order grugan__gru_layout expects;
 * *first receives the offset of the first one. */
int grugan__params_add_gru(grugan__params *p, const grugan__gru_shape *s, const char *prefix,
                           size_t *first);

/* Allocates the zeroed value and gradient blocks. */
int grugan__params_allocate(grugan__params *p);

void grugan__params_release(grugan__params *p);

/* Index of the tensor named `name`, or GRUGAN_E_NOTFOUND. */
int grugan__params_find(const grugan__params *p, const char *name, size_t *index);

#endif
