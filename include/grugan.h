/*
 * grugan.h - the stable C API of libgrugan.
 *
 * libgrugan trains and samples generative adversarial networks for sequences
 * (multivariate time series) whose generator is built from GRU layers.
 *
 * Conventions (docs/api-conventions.md says more):
 *   - every fallible function returns a status: GRUGAN_OK (0) or a fixed
 *     negative GRUGAN_E_* code; results go through out-parameters;
 *   - handles are opaque; each has a *_message() function returning the detail
 *     of its last failure; creation functions fill an optional grugan_error;
 *   - configuration structs start with their own size (use the *_INIT macro),
 *     zero means "default" for every field, fields are only ever appended;
 *   - settings that may change after creation are numbered keys (GRUGAN_KEY_*)
 *     with get/set and a bounds query; out-of-range values are refused;
 *   - all arrays are float32, row-major; a batch of sequences is (B, T, F);
 *   - a handle is used by one thread at a time; different handles may be used
 *     from different threads at once; the library has no mutable global state
 *     and never prints.
 *
 * This header includes only <stddef.h> and <stdint.h> and compiles as C99 and
 * as C++.
 */
#ifndef GRUGAN_H
#define GRUGAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GRUGAN_BUILDING) && defined(__GNUC__)
#define GRUGAN_API __attribute__((visibility("default")))
#else
#define GRUGAN_API
#endif

/* ------------------------------------------------------------------------- */
/* Version                                                                   */
/* ------------------------------------------------------------------------- */

#define GRUGAN_VERSION_MAJOR 0
#define GRUGAN_VERSION_MINOR 1
#define GRUGAN_VERSION_PATCH 0
/** MAJOR * 10000 + MINOR * 100 + PATCH, e.g. 100 for 0.1.0. */
#define GRUGAN_VERSION_NUMBER \
    (GRUGAN_VERSION_MAJOR * 10000 + GRUGAN_VERSION_MINOR * 100 + GRUGAN_VERSION_PATCH)
#define GRUGAN_VERSION_STR2_(x) #x
#define GRUGAN_VERSION_STR_(x) GRUGAN_VERSION_STR2_(x)
/** "MAJOR.MINOR.PATCH", e.g. "0.1.0". */
#define GRUGAN_VERSION_STRING                                           \
    GRUGAN_VERSION_STR_(GRUGAN_VERSION_MAJOR) "."                       \
    GRUGAN_VERSION_STR_(GRUGAN_VERSION_MINOR) "."                       \
    GRUGAN_VERSION_STR_(GRUGAN_VERSION_PATCH)

/** Version of the loaded library, as GRUGAN_VERSION_NUMBER; compare it with
 *  the macro to check that the header and the library agree. */
GRUGAN_API unsigned grugan_version_number(void);

/** Version of the loaded library as a static "MAJOR.MINOR.PATCH" string. */
GRUGAN_API const char *grugan_version_string(void);

/* ------------------------------------------------------------------------- */
/* Status codes (fixed values, never renumbered)                             */
/* ------------------------------------------------------------------------- */

#define GRUGAN_OK              0   /**< success */
#define GRUGAN_E_INVALID      (-1) /**< invalid argument: NULL pointer, unknown key or kind, wrong handle */
#define GRUGAN_E_NOMEM        (-2) /**< an allocation failed */
#define GRUGAN_E_SIZE         (-3) /**< a size is zero, too large, overflows or does not match */
#define GRUGAN_E_RANGE        (-4) /**< a value is outside its documented bounds */
#define GRUGAN_E_STATE        (-5) /**< call out of order (e.g. backward without a matching forward) */
#define GRUGAN_E_NONFINITE    (-6) /**< NaN or Inf in an input, a weight, a loss or a gradient */
#define GRUGAN_E_IO           (-7) /**< reading or writing a file failed */
#define GRUGAN_E_FORMAT       (-8) /**< malformed file or buffer */
#define GRUGAN_E_ABORTED      (-9) /**< a callback asked to stop */
#define GRUGAN_E_UNSUPPORTED (-10) /**< valid request this configuration cannot serve */
#define GRUGAN_E_NOTFOUND    (-11) /**< no item of that name or index */
#define GRUGAN_E_INTERNAL    (-12) /**< a bug in libgrugan: please report it */

/** A static, never-NULL English description of a status code ("unknown
 *  status" for codes this version does not know). */
GRUGAN_API const char *grugan_status_string(int status);

/** Filled by creation functions (which have no handle yet to hold a message)
 *  when the caller passes one; caller-owned, may live on the stack. */
typedef struct grugan_error {
    int32_t code;       /**< the status returned */
    char message[252];  /**< NUL-terminated detail, "" on success */
} grugan_error;

/* ------------------------------------------------------------------------- */
/* Context: allocator and log callback                                       */
/* ------------------------------------------------------------------------- */

/** Allocation hook: return at least `size` bytes aligned for any type (as
 *  malloc does), or NULL on failure. */
typedef void *(*grugan_alloc_fn)(size_t size, void *user);
/** Release hook: `ptr` came from the matching alloc hook; never NULL. */
typedef void (*grugan_free_fn)(void *ptr, void *user);

#define GRUGAN_LOG_ERROR 1 /**< an operation failed (the message also goes to the handle) */
#define GRUGAN_LOG_WARN  2 /**< something the caller may want to know */
#define GRUGAN_LOG_INFO  3 /**< progress of long operations */
#define GRUGAN_LOG_DEBUG 4 /**< internal detail such as workspace sizes */

/** Log hook: `message` is valid for the duration of the call only. */
typedef void (*grugan_log_fn)(int level, const char *message, void *user);

typedef struct grugan_context_config {
    size_t struct_size;   /**< sizeof(grugan_context_config): use GRUGAN_CONTEXT_CONFIG_INIT */
    grugan_alloc_fn alloc; /**< NULL: malloc (then free must be NULL too) */
    grugan_free_fn free;   /**< NULL: free */
    void *alloc_user;      /**< passed to alloc and free */
    grugan_log_fn log;     /**< NULL: no logging */
    void *log_user;        /**< passed to log */
    int32_t log_level;     /**< highest level passed to log; 0: GRUGAN_LOG_WARN */
} grugan_context_config;

#define GRUGAN_CONTEXT_CONFIG_INIT { sizeof(grugan_context_config), 0, 0, 0, 0, 0, 0 }

/** Carries the allocator and log callback shared by the handles created with
 *  it. Every handle-creating function accepts a context, or NULL for the
 *  default one (malloc/free, no logging). */
typedef struct grugan_context grugan_context;

/** Creates a context from `config` (NULL: defaults). The caller frees it with
 *  grugan_context_free after every handle created with it has been freed; the
 *  callbacks and their user pointers must stay valid as long. `err` (may be
 *  NULL) receives the code and a message on failure. */
GRUGAN_API int grugan_context_create(const grugan_context_config *config,
                                     grugan_context **out, grugan_error *err);

/** Frees a context; NULL is a no-op. */
GRUGAN_API void grugan_context_free(grugan_context *ctx);

/* ------------------------------------------------------------------------- */
/* Settings by numbered key (shared by every handle kind that accepts them)  */
/* ------------------------------------------------------------------------- */

/** Number of threads for matrix products and elementwise loops (1..256;
 *  default 1). Results are bit-identical for every thread count. */
#define GRUGAN_KEY_THREADS 1
/** 1: check inputs for NaN/Inf and fail with GRUGAN_E_NONFINITE, 0: do not
 *  (default 1). */
#define GRUGAN_KEY_CHECK_FINITE 2

/* ------------------------------------------------------------------------- */
/* GRU: a multi-layer, optionally bidirectional GRU with PyTorch semantics    */
/* ------------------------------------------------------------------------- */

/**
 * Dimension letters: B batch, T steps, I input size, H hidden size, L layers,
 * D directions (1 or 2).
 *
 * GRUGAN_GRU_RESET_AFTER (default; PyTorch, cuDNN, Keras reset_after=True,
 * ONNX linear_before_reset=1), gate order r, z, n:
 *   r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
 *   z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 *   n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
 *   h' = (1 - z) * n + z * h
 * GRUGAN_GRU_RESET_BEFORE (TF1 GRUCell, Keras reset_after=False, ONNX
 * linear_before_reset=0):
 *   n  = tanh(W_in x + b_in + W_hn (r * h) + b_hn)
 */
#define GRUGAN_GRU_RESET_AFTER  0
#define GRUGAN_GRU_RESET_BEFORE 1

typedef struct grugan_gru_config {
    size_t struct_size;    /**< sizeof(grugan_gru_config): use GRUGAN_GRU_CONFIG_INIT */
    size_t input_size;     /**< I (required) */
    size_t hidden_size;    /**< H (required) */
    size_t num_layers;     /**< L; 0: 1 */
    int32_t bidirectional; /**< 0: no, 1: yes (D = 2) */
    int32_t convention;    /**< GRUGAN_GRU_RESET_AFTER (0) or GRUGAN_GRU_RESET_BEFORE */
    uint64_t seed;         /**< seed of the initial weights, U(-1/sqrt(H), 1/sqrt(H)) as PyTorch */
} grugan_gru_config;

#define GRUGAN_GRU_CONFIG_INIT { sizeof(grugan_gru_config), 0, 0, 0, 0, 0, 0 }

typedef struct grugan_gru grugan_gru;

/** Creates a GRU with freshly initialized weights and zero gradients. `ctx`
 *  (NULL: default context) must outlive the GRU; the caller frees the GRU
 *  with grugan_gru_free. `err` (may be NULL) receives the code and a message
 *  on failure. */
GRUGAN_API int grugan_gru_create(grugan_context *ctx, const grugan_gru_config *config,
                                 grugan_gru **out, grugan_error *err);

/** Frees a GRU and its workspace; NULL is a no-op. */
GRUGAN_API void grugan_gru_free(grugan_gru *gru);

/** Detail of the last failure on this GRU ("" if none); valid until the next
 *  call on it. Never NULL, also for a NULL handle. */
GRUGAN_API const char *grugan_gru_message(const grugan_gru *gru);

/** Sets a GRUGAN_KEY_* setting (GRUGAN_KEY_THREADS, GRUGAN_KEY_CHECK_FINITE). */
GRUGAN_API int grugan_gru_set(grugan_gru *gru, int key, double value);
/** Reads a GRUGAN_KEY_* setting into *value. */
GRUGAN_API int grugan_gru_get(const grugan_gru *gru, int key, double *value);
/** Bounds of a GRUGAN_KEY_* setting accepted by grugan_gru_set. */
GRUGAN_API int grugan_gru_key_bounds(int key, double *min, double *max);

/** Sizes the workspace for batches up to `batch` and sequences up to `steps`,
 *  so that later forward/backward calls within those sizes never allocate.
 *  Forward grows the workspace itself when needed. */
GRUGAN_API int grugan_gru_reserve(grugan_gru *gru, size_t batch, size_t steps);

/**
 * Forward pass over a batch of sequences.
 *   x       (B, T, I)           input, batch-major (batch_first=True)
 *   h0      (L*D, B, H) or NULL initial state (NULL: zeros); row l*D+d is
 *                               layer l, direction d (0 forward, 1 reverse)
 *   lengths (B) or NULL         valid steps per sequence, 1..T; sequences are
 *                               right-padded: past its length a sequence's
 *                               outputs are 0 and its state is frozen, as with
 *                               PyTorch packed sequences
 *   out     (B, T, D*H) or NULL outputs of the last layer, both directions
 *                               concatenated (forward first)
 *   h_n     (L*D, B, H) or NULL final states (at each sequence's last valid step)
 * Keeps what backward needs until the next forward. On failure nothing is
 * written to out or h_n.
 */
GRUGAN_API int grugan_gru_forward(grugan_gru *gru, size_t batch, size_t steps,
                                  const float *x, const float *h0, const size_t *lengths,
                                  float *out, float *h_n);

/** Flags for grugan_gru_backward. */
#define GRUGAN_BACKWARD_PARAMS 0     /**< accumulate parameter gradients (default) */
#define GRUGAN_BACKWARD_INPUT_ONLY 1 /**< only d_x and d_h0; gradients untouched */

/**
 * Backpropagation through time for the last forward.
 *   d_out  (B, T, D*H) or NULL  dL/d out (NULL: zeros)
 *   d_hn   (L*D, B, H) or NULL  dL/d h_n (NULL: zeros)
 *   d_x    (B, T, I) or NULL    receives dL/dx (overwritten)
 *   d_h0   (L*D, B, H) or NULL  receives dL/dh0 (overwritten)
 *   flags  GRUGAN_BACKWARD_PARAMS: parameter gradients are ACCUMULATED (call
 *          grugan_gru_zero_grad first); GRUGAN_BACKWARD_INPUT_ONLY: they are
 *          left untouched.
 * Gradients respect the lengths of the forward. Fails with GRUGAN_E_STATE
 * when no forward preceded it. Backward may be called more than once for the
 * same forward.
 */
GRUGAN_API int grugan_gru_backward(grugan_gru *gru, const float *d_out, const float *d_hn,
                                   float *d_x, float *d_h0, int flags);

/**
 * One time step for streaming, with a caller-held state; unidirectional GRUs
 * only (GRUGAN_E_UNSUPPORTED otherwise). Gives the same numbers as forward.
 *   x  (B, I)     input of this step
 *   h  (L, B, H)  state, read then overwritten with the new state
 *   out (B, H) or NULL  output of the last layer (equal to h's last layer)
 * Does not disturb what a previous forward kept for backward.
 */
GRUGAN_API int grugan_gru_step(grugan_gru *gru, size_t batch, const float *x, float *h,
                               float *out);


/* ------------------------------------------------------------------------- */
/* Parameters: the named tensors of a model, shared by every model kind      */
/* ------------------------------------------------------------------------- */

/** A model's parameter set: named tensors in PyTorch's names, shapes and
 *  row-major layout, their gradients, and one flat block of each. Obtained
 *  from a model (grugan_gru_params, grugan_generator_params,
 *  grugan_discriminator_params); owned by the model and valid until the
 *  model is freed. Never freed by the caller. */
typedef struct grugan_params grugan_params;

/** Most dimensions a parameter tensor has. */
#define GRUGAN_MAX_DIMS 4

/** Detail of the last failure on this parameter set ("" if none). */
GRUGAN_API const char *grugan_params_message(const grugan_params *params);

/** Number of named tensors (0 for NULL). */
GRUGAN_API size_t grugan_params_count(const grugan_params *params);

/** Total number of scalar parameters (0 for NULL). */
GRUGAN_API size_t grugan_params_num_scalars(const grugan_params *params);

/**
 * Name and shape of tensor `index` (0 .. count-1).
 *   name   receives a string owned by the parameter set (may be NULL)
 *   ndim   receives 1 .. GRUGAN_MAX_DIMS (may be NULL)
 *   shape  receives ndim sizes; capacity GRUGAN_MAX_DIMS (may be NULL)
 */
GRUGAN_API int grugan_params_info(const grugan_params *params, size_t index, const char **name,
                                  size_t *ndim, size_t *shape);

/** Index of the tensor called `name`; GRUGAN_E_NOTFOUND if none. */
GRUGAN_API int grugan_params_find(const grugan_params *params, const char *name, size_t *index);

/** Copies tensor `index` into dst; `count` must equal its element count. */
GRUGAN_API int grugan_params_read(const grugan_params *params, size_t index, float *dst,
                                  size_t count);

/** Overwrites tensor `index` from src; `count` must equal its element count.
 *  Refuses NaN/Inf (nothing written). */
GRUGAN_API int grugan_params_write(grugan_params *params, size_t index, const float *src,
                                   size_t count);

/** Copies the gradient of tensor `index` into dst. */
GRUGAN_API int grugan_params_grad_read(const grugan_params *params, size_t index, float *dst,
                                       size_t count);

/** Overwrites the gradient of tensor `index` (for custom losses or
 *  penalties computed by the caller). Refuses NaN/Inf. */
GRUGAN_API int grugan_params_grad_write(grugan_params *params, size_t index, const float *src,
                                        size_t count);

/** Sets every gradient to zero. */
GRUGAN_API int grugan_params_zero_grad(grugan_params *params);

/** Copies all values (flat, tensors in index order) into dst; `count` must
 *  equal grugan_params_num_scalars. */
GRUGAN_API int grugan_params_read_all(const grugan_params *params, float *dst, size_t count);

/** Overwrites all values from a flat array as given by read_all. */
GRUGAN_API int grugan_params_write_all(grugan_params *params, const float *src, size_t count);

/** Clamps every value to [-limit, limit] (weight clipping of the original
 *  Wasserstein GAN); limit > 0. */
GRUGAN_API int grugan_params_clamp(grugan_params *params, float limit);

/** The parameter set of a GRU (NULL for an invalid handle). */
GRUGAN_API grugan_params *grugan_gru_params(grugan_gru *gru);

/* ------------------------------------------------------------------------- */
/* Activations (generator output)                                            */
/* ------------------------------------------------------------------------- */

#define GRUGAN_ACT_DEFAULT    0 /**< the documented default of the field */
#define GRUGAN_ACT_SIGMOID    1 /**< 1 / (1 + e^-x), outputs in (0, 1) */
#define GRUGAN_ACT_TANH       2 /**< outputs in (-1, 1) */
#define GRUGAN_ACT_IDENTITY   3 /**< no activation */
#define GRUGAN_ACT_LEAKY_RELU 4 /**< x if x > 0 else slope * x */

/* ------------------------------------------------------------------------- */
/* Generator                                                                 */
/* ------------------------------------------------------------------------- */

/**
 * At each step t the input is [z_t (Z), c (C), v_t (V)]: noise, an optional
 * static condition (same for every step), optional per-step covariates. Then
 * a GRU stack (L, H), then a per-step linear head to F features and an output
 * activation:  out_t = act(W_head h_t + b_head).
 * Parameters: gru.weight_ih_l{k}, gru.weight_hh_l{k}, gru.bias_ih_l{k},
 * gru.bias_hh_l{k} (as torch.nn.GRU), head.weight (F, H), head.bias (F).
 */
#define GRUGAN_NOISE_NORMAL  0 /**< z ~ N(0, 1) (default) */
#define GRUGAN_NOISE_UNIFORM 1 /**< z ~ U(0, 1), as TimeGAN */

typedef struct grugan_generator_config {
    size_t struct_size;     /**< sizeof(grugan_generator_config): use GRUGAN_GENERATOR_CONFIG_INIT */
    size_t noise_size;      /**< Z (required) */
    size_t output_size;     /**< F (required) */
    size_t hidden_size;     /**< H; 0: 24 */
    size_t num_layers;      /**< L; 0: 3 */
    size_t condition_size;  /**< C; 0: no condition */
    size_t covariate_size;  /**< V; 0: no covariates */
    int32_t noise_kind;     /**< GRUGAN_NOISE_NORMAL (0) or GRUGAN_NOISE_UNIFORM */
    int32_t output_activation; /**< GRUGAN_ACT_*; 0: sigmoid */
    int32_t convention;     /**< GRUGAN_GRU_RESET_AFTER (0) or GRUGAN_GRU_RESET_BEFORE */
    uint64_t seed;          /**< seed of the initial weights and of the noise stream */
} grugan_generator_config;

#define GRUGAN_GENERATOR_CONFIG_INIT { sizeof(grugan_generator_config), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

typedef struct grugan_generator grugan_generator;

/** Creates a generator with freshly initialized weights (the GRU as
 *  torch.nn.GRU, the head as torch.nn.Linear). `ctx` (NULL: default) must
 *  outlive it; the caller frees it with grugan_generator_free. */
GRUGAN_API int grugan_generator_create(grugan_context *ctx, const grugan_generator_config *config,
                                       grugan_generator **out, grugan_error *err);

/** Frees a generator; NULL is a no-op. */
GRUGAN_API void grugan_generator_free(grugan_generator *gen);

/** Detail of the last failure on this generator ("" if none). */
GRUGAN_API const char *grugan_generator_message(const grugan_generator *gen);

/** Sets a GRUGAN_KEY_* setting (GRUGAN_KEY_THREADS, GRUGAN_KEY_CHECK_FINITE). */
GRUGAN_API int grugan_generator_set(grugan_generator *gen, int key, double value);
/** Reads a GRUGAN_KEY_* setting. */
GRUGAN_API int grugan_generator_get(const grugan_generator *gen, int key, double *value);

/** The generator's parameter set (NULL for an invalid handle). */
GRUGAN_API grugan_params *grugan_generator_params(grugan_generator *gen);

/**
 * Fills z (B, T, Z) with the noise of samples first .. first+B-1 for `seed`:
 * the noise of sample i at step t depends only on (seed, i, t), so it is the
 * same whatever the batch size or chunking.
 */
GRUGAN_API int grugan_generator_noise(const grugan_generator *gen, uint64_t seed, uint64_t first,
                                      size_t batch, size_t steps, float *z);

/**
 * Forward over a batch.
 *   z          (B, T, Z) or NULL: NULL draws the next B samples of the
 *              generator's own noise stream (seed from the config; position
 *              advanced by B, see grugan_generator_noise_position)
 *   condition  (B, C) or NULL (required when C > 0)
 *   covariates (B, T, V) or NULL (required when V > 0)
 *   out        (B, T, F)
 * Keeps what backward needs until the next forward.
 */
GRUGAN_API int grugan_generator_forward(grugan_generator *gen, size_t batch, size_t steps,
                                        const float *z, const float *condition,
                                        const float *covariates, float *out);

/** Backward for the last forward: d_out (B, T, F); parameter gradients are
 *  accumulated (call grugan_params_zero_grad first). */
GRUGAN_API int grugan_generator_backward(grugan_generator *gen, const float *d_out);

/** Position of the generator's own noise stream (samples drawn so far). */
GRUGAN_API int grugan_generator_noise_position(const grugan_generator *gen, uint64_t *position);
/** Moves the generator's own noise stream, e.g. when resuming training. */
GRUGAN_API int grugan_generator_set_noise_position(grugan_generator *gen, uint64_t position);

/**
 * Generates n sequences of `steps` steps (any length, also beyond the
 * training length) with the noise of samples 0 .. n-1 for `seed`, in chunks,
 * through the streaming step, so memory stays bounded whatever n and steps.
 *   condition  (C) or NULL: one condition for every sequence (required when C > 0)
 *   covariates (n, T, V) or NULL (required when V > 0)
 *   out        (n, T, F)
 * Does not disturb what the last forward kept for backward.
 */
GRUGAN_API int grugan_generator_sample(grugan_generator *gen, uint64_t seed, size_t n,
                                       size_t steps, const float *condition,
                                       const float *covariates, float *out);

/** Floats of the state a streaming caller holds for a batch: L * B * H. */
GRUGAN_API size_t grugan_generator_state_size(const grugan_generator *gen, size_t batch);

/**
 * One streaming step with a caller-held state.
 *   z         (B, Z)     noise of this step (e.g. from grugan_generator_noise)
 *   condition (B, C) or NULL
 *   covariate (B, V) or NULL
 *   state     (L, B, H)  zeros at the start; read then overwritten
 *   out       (B, F)
 */
GRUGAN_API int grugan_generator_step(grugan_generator *gen, size_t batch, const float *z,
                                     const float *condition, const float *covariate,
                                     float *state, float *out);

/* ------------------------------------------------------------------------- */
/* Discriminator                                                             */
/* ------------------------------------------------------------------------- */

#define GRUGAN_DISC_GRU    0 /**< GRU stack + linear head (default) */
#define GRUGAN_DISC_CONV1D 1 /**< 1-D convolutions + leaky ReLU + linear head */

#define GRUGAN_LOGITS_PER_STEP  0 /**< GRU kind: one logit per step (default) */
#define GRUGAN_LOGITS_FINAL     1 /**< GRU kind: one logit from the final state */

/**
 * Input at each step: [x_t (F), c (C)].
 * GRU kind: GRU stack (L, H, uni- or bidirectional), then head (1, D*H) per
 * step or on the final state. Parameters gru.*, head.weight, head.bias.
 * CONV1D kind: `conv_layers` convolutions of `channels` output channels,
 * kernel `kernel_size`, stride `stride`, zero padding `padding`, each followed
 * by leaky ReLU (slope `leaky_slope`), then head (1, T_out * channels) over
 * the flattened features; `sequence_length` is fixed at creation.
 * Parameters conv.{k}.weight (channels, C_in, K), conv.{k}.bias, head.*.
 */
typedef struct grugan_discriminator_config {
    size_t struct_size;     /**< use GRUGAN_DISCRIMINATOR_CONFIG_INIT */
    int32_t kind;           /**< GRUGAN_DISC_GRU (0) or GRUGAN_DISC_CONV1D */
    size_t input_size;      /**< F (required) */
    size_t condition_size;  /**< C; 0: no condition */
    /* GRU kind */
    size_t hidden_size;     /**< H; 0: 24 */
    size_t num_layers;      /**< L; 0: 3 */
    int32_t bidirectional;  /**< 0 or 1 */
    int32_t convention;     /**< GRUGAN_GRU_RESET_AFTER (0) or GRUGAN_GRU_RESET_BEFORE */
    int32_t logits;         /**< GRUGAN_LOGITS_PER_STEP (0) or GRUGAN_LOGITS_FINAL */
    /* CONV1D kind */
    size_t sequence_length; /**< T (required for CONV1D) */
    size_t conv_layers;     /**< 0: 3 */
    size_t channels;        /**< 0: 32 */
    size_t kernel_size;     /**< 0: 5 */
    size_t stride;          /**< 0: 2 */
    size_t padding;         /**< 0: kernel_size / 2 */
    float leaky_slope;      /**< 0: 0.2 */
    uint64_t seed;          /**< seed of the initial weights */
} grugan_discriminator_config;

#define GRUGAN_DISCRIMINATOR_CONFIG_INIT \
    { sizeof(grugan_discriminator_config), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0f, 0 }

typedef struct grugan_discriminator grugan_discriminator;

/** Creates a discriminator with freshly initialized weights. `ctx` (NULL:
 *  default) must outlive it; free it with grugan_discriminator_free. */
GRUGAN_API int grugan_discriminator_create(grugan_context *ctx,
                                           const grugan_discriminator_config *config,
                                           grugan_discriminator **out, grugan_error *err);

/** Frees a discriminator; NULL is a no-op. */
GRUGAN_API void grugan_discriminator_free(grugan_discriminator *disc);

/** Detail of the last failure on this discriminator ("" if none). */
GRUGAN_API const char *grugan_discriminator_message(const grugan_discriminator *disc);

/** Sets a GRUGAN_KEY_* setting (GRUGAN_KEY_THREADS, GRUGAN_KEY_CHECK_FINITE). */
GRUGAN_API int grugan_discriminator_set(grugan_discriminator *disc, int key, double value);
/** Reads a GRUGAN_KEY_* setting. */
GRUGAN_API int grugan_discriminator_get(const grugan_discriminator *disc, int key, double *value);

/** The discriminator's parameter set (NULL for an invalid handle). */
GRUGAN_API grugan_params *grugan_discriminator_params(grugan_discriminator *disc);

/** Logits per sequence for sequences of `steps` steps: steps for per-step
 *  logits, 1 otherwise (0 for an invalid handle or a length CONV1D refuses). */
GRUGAN_API size_t grugan_discriminator_logit_count(const grugan_discriminator *disc,
                                                   size_t steps);

/** Features before the head per sequence: T * D * H (per-step), D * H
 *  (final state) or T_out * channels (CONV1D). */
GRUGAN_API size_t grugan_discriminator_feature_count(const grugan_discriminator *disc,
                                                     size_t steps);

/**
 * Forward.
 *   x         (B, T, F)
 *   condition (B, C) or NULL (required when C > 0)
 *   lengths   (B) or NULL: valid steps per sequence (GRU kind only)
 *   logits    (B, logit_count)
 * Keeps what backward needs, and the features, until the next forward.
 */
GRUGAN_API int grugan_discriminator_forward(grugan_discriminator *disc, size_t batch,
                                            size_t steps, const float *x, const float *condition,
                                            const size_t *lengths, float *logits);

/** Copies the features of the last forward, (B, feature_count), into dst;
 *  `count` must equal B * feature_count. */
GRUGAN_API int grugan_discriminator_features(const grugan_discriminator *disc, float *dst,
                                             size_t count);

/**
 * Backward for the last forward.
 *   d_logits   (B, logit_count) or NULL
 *   d_features (B, feature_count) or NULL: a gradient on the features (for
 *              feature matching), added to what flows from the logits
 *   d_x        (B, T, F) or NULL: receives dL/dx (overwritten)
 *   flags      GRUGAN_BACKWARD_PARAMS: parameter gradients accumulated;
 *              GRUGAN_BACKWARD_INPUT_ONLY: only d_x, gradients untouched (the
 *              frozen discriminator of a generator update)
 */
GRUGAN_API int grugan_discriminator_backward(grugan_discriminator *disc, const float *d_logits,
                                             const float *d_features, float *d_x, int flags);

/* ------------------------------------------------------------------------- */
/* Losses                                                                    */
/* ------------------------------------------------------------------------- */

#define GRUGAN_LOSS_BCE         0 /**< non-saturating GAN loss, binary cross-entropy on logits */
#define GRUGAN_LOSS_LSGAN       1 /**< least squares: targets 1 (real) and 0 (fake) */
#define GRUGAN_LOSS_WASSERSTEIN 2 /**< critic: mean(fake) - mean(real); generator: -mean(fake) */
#define GRUGAN_LOSS_HINGE       3 /**< relu(1 - real), relu(1 + fake); generator: -mean(fake) */

#define GRUGAN_TARGET_REAL      0 /**< discriminator on real data */
#define GRUGAN_TARGET_FAKE      1 /**< discriminator on generated data */
#define GRUGAN_TARGET_GENERATOR 2 /**< generator's loss on generated data */

/**
 * Mean loss over the valid logits of a batch and its gradient.
 *   kind       GRUGAN_LOSS_*
 *   target     GRUGAN_TARGET_*
 *   logits     (B, per_seq): per_seq = T for per-step logits, 1 otherwise
 *   lengths    (B) or NULL: with per-step logits, only steps < lengths[b]
 *              count (the others get zero gradient)
 *   label_smoothing  BCE on real data only (one-sided): target 1 - s, s in [0, 1)
 *   value      receives the mean loss
 *   d_logits   (B, per_seq) or NULL: receives d value / d logits
 * BCE uses softplus forms, finite for any finite logit:
 *   real: softplus(l) - (1 - s) l   fake: softplus(l)   generator: softplus(-l)
 * LSGAN: real 0.5 (l - 1)^2, fake 0.5 l^2, generator 0.5 (l - 1)^2.
 */
GRUGAN_API int grugan_loss(int kind, int target, size_t batch, size_t per_seq,
                           const float *logits, const size_t *lengths, float label_smoothing,
                           float *value, float *d_logits);

/**
 * Feature matching: || mean_r f_real - mean_f f_fake ||^2 over `dim`
 * features, and its gradient with respect to f_fake.
 *   f_real (n_real, dim), f_fake (n_fake, dim), d_fake (n_fake, dim) or NULL
 */
GRUGAN_API int grugan_feature_matching(size_t n_real, size_t n_fake, size_t dim,
                                       const float *f_real, const float *f_fake, float *value,
                                       float *d_fake);

/* ------------------------------------------------------------------------- */
/* Optimizers (exact torch.optim update rules)                               */
/* ------------------------------------------------------------------------- */

#define GRUGAN_OPT_ADAM    0 /**< torch.optim.Adam (default) */
#define GRUGAN_OPT_ADAMW   1 /**< torch.optim.AdamW (decoupled weight decay) */
#define GRUGAN_OPT_SGD     2 /**< torch.optim.SGD (momentum, dampening, Nesterov) */
#define GRUGAN_OPT_RMSPROP 3 /**< torch.optim.RMSprop (momentum, centered) */

/* Optimizer keys, for grugan_optimizer_set/get (bounds by key_bounds). */
#define GRUGAN_KEY_LR           10 /**< learning rate, > 0 */
#define GRUGAN_KEY_BETA1        11 /**< Adam/AdamW beta1, [0, 1) */
#define GRUGAN_KEY_BETA2        12 /**< Adam/AdamW beta2, [0, 1) */
#define GRUGAN_KEY_EPS          13 /**< epsilon, > 0 */
#define GRUGAN_KEY_WEIGHT_DECAY 14 /**< L2 penalty (decoupled for AdamW), >= 0 */
#define GRUGAN_KEY_MOMENTUM     15 /**< SGD/RMSprop momentum, [0, 1) */
#define GRUGAN_KEY_DAMPENING    16 /**< SGD dampening, [0, 1] */
#define GRUGAN_KEY_NESTEROV     17 /**< SGD Nesterov momentum, 0 or 1 */
#define GRUGAN_KEY_ALPHA        18 /**< RMSprop smoothing constant, [0, 1) */
#define GRUGAN_KEY_CENTERED     19 /**< RMSprop centered, 0 or 1 */

typedef struct grugan_optimizer_config {
    size_t struct_size;  /**< use GRUGAN_OPTIMIZER_CONFIG_INIT */
    int32_t kind;        /**< GRUGAN_OPT_*; 0: Adam */
    float lr;            /**< 0: 1e-3 (SGD: 1e-2) */
    float beta1;         /**< 0: 0.9 */
    float beta2;         /**< 0: 0.999 */
    float eps;           /**< 0: 1e-8 */
    float weight_decay;  /**< 0: none (AdamW: 1e-2); set GRUGAN_KEY_WEIGHT_DECAY for exactly 0 */
    float momentum;      /**< SGD, RMSprop; 0: none */
    float dampening;     /**< SGD; 0: none */
    int32_t nesterov;    /**< SGD; 0 or 1 */
    float alpha;         /**< RMSprop; 0: 0.99 */
    int32_t centered;    /**< RMSprop; 0 or 1 */
} grugan_optimizer_config;

#define GRUGAN_OPTIMIZER_CONFIG_INIT \
    { sizeof(grugan_optimizer_config), 0, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0, 0.0f, 0 }

typedef struct grugan_optimizer grugan_optimizer;

/** Creates an optimizer for a model's parameter set. It borrows `params`:
 *  the model must outlive the optimizer. `ctx` (NULL: default) must outlive
 *  it too; free it with grugan_optimizer_free. */
GRUGAN_API int grugan_optimizer_create(grugan_context *ctx, const grugan_optimizer_config *config,
                                       grugan_params *params, grugan_optimizer **out,
                                       grugan_error *err);

/** Frees an optimizer (not the parameters); NULL is a no-op. */
GRUGAN_API void grugan_optimizer_free(grugan_optimizer *opt);

/** Detail of the last failure on this optimizer ("" if none). */
GRUGAN_API const char *grugan_optimizer_message(const grugan_optimizer *opt);

/** Sets a hyperparameter by key (GRUGAN_KEY_LR ... GRUGAN_KEY_CENTERED,
 *  GRUGAN_KEY_THREADS) between steps, e.g. for learning-rate schedules. */
GRUGAN_API int grugan_optimizer_set(grugan_optimizer *opt, int key, double value);
/** Reads a hyperparameter by key. */
GRUGAN_API int grugan_optimizer_get(const grugan_optimizer *opt, int key, double *value);
/** Bounds of an optimizer key. */
GRUGAN_API int grugan_optimizer_key_bounds(int key, double *min, double *max);

/** Sets the gradients of the optimized parameters to zero. */
GRUGAN_API int grugan_optimizer_zero_grad(grugan_optimizer *opt);

/**
 * Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_: if the
 * L2 norm of all gradients exceeds max_norm (> 0), scales them by
 * max_norm / (norm + 1e-6). `norm` (may be NULL) receives the norm before
 * clipping. A non-finite norm fails with GRUGAN_E_NONFINITE, nothing scaled.
 */
GRUGAN_API int grugan_optimizer_clip_grad_norm(grugan_optimizer *opt, float max_norm,
                                               float *norm);

/** One update of every parameter from its gradient. Fails with
 *  GRUGAN_E_NONFINITE, changing nothing, if a gradient is NaN or Inf. */
GRUGAN_API int grugan_optimizer_step(grugan_optimizer *opt);

/** Number of updates done (torch's "step" state). */
GRUGAN_API int grugan_optimizer_step_count(const grugan_optimizer *opt, uint64_t *steps);

/** Floats of the optimizer's state (moments, momentum buffers): 0 for plain
 *  SGD, up to 3 x num_scalars. */
GRUGAN_API size_t grugan_optimizer_state_size(const grugan_optimizer *opt);

/** Copies the state (flat, documented order: Adam exp_avg then exp_avg_sq;
 *  SGD momentum_buffer; RMSprop square_avg, momentum_buffer, grad_avg) and
 *  the step count, e.g. for checkpoints. */
GRUGAN_API int grugan_optimizer_state_read(const grugan_optimizer *opt, float *dst, size_t count,
                                           uint64_t *steps);

/** Restores state written by state_read (refuses NaN/Inf). */
GRUGAN_API int grugan_optimizer_state_write(grugan_optimizer *opt, const float *src,
                                            size_t count, uint64_t steps);

#ifdef __cplusplus
}
#endif

#endif /* GRUGAN_H */
