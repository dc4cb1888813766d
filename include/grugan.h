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

/** Major version: a new one breaks the ABI and changes the SONAME. */
#define GRUGAN_VERSION_MAJOR 0
/** Minor version: additions (functions, keys, appended struct fields). */
#define GRUGAN_VERSION_MINOR 1
/** Patch version: fixes only. */
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

/** Configuration of grugan_context_create. */
typedef struct grugan_context_config {
    size_t struct_size;   /**< sizeof(grugan_context_config): use GRUGAN_CONTEXT_CONFIG_INIT */
    grugan_alloc_fn alloc; /**< NULL: malloc (then free must be NULL too) */
    grugan_free_fn free;   /**< NULL: free */
    void *alloc_user;      /**< passed to alloc and free */
    grugan_log_fn log;     /**< NULL: no logging */
    void *log_user;        /**< passed to log */
    int32_t log_level;     /**< highest level passed to log; 0: GRUGAN_LOG_WARN */
} grugan_context_config;

/** Initializer: struct_size set, every other field 0 (its default). */
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
#define GRUGAN_GRU_RESET_BEFORE 1 /**< TF1 GRUCell's convention (see above) */

/** Configuration of grugan_gru_create. */
typedef struct grugan_gru_config {
    size_t struct_size;    /**< sizeof(grugan_gru_config): use GRUGAN_GRU_CONFIG_INIT */
    size_t input_size;     /**< I (required) */
    size_t hidden_size;    /**< H (required) */
    size_t num_layers;     /**< L; 0: 1 */
    int32_t bidirectional; /**< 0: no, 1: yes (D = 2) */
    int32_t convention;    /**< GRUGAN_GRU_RESET_AFTER (0) or GRUGAN_GRU_RESET_BEFORE */
    uint64_t seed;         /**< seed of the initial weights, U(-1/sqrt(H), 1/sqrt(H)) as PyTorch */
} grugan_gru_config;

/** Initializer: struct_size set, every other field 0 (its default). */
#define GRUGAN_GRU_CONFIG_INIT { sizeof(grugan_gru_config), 0, 0, 0, 0, 0, 0 }

/** A GRU network (opaque): weights, gradients, workspace. */
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
#define GRUGAN_ACT_LEAKY_RELU 4 /**< x if x > 0 else slope * x (generator output: slope 0.01, torch's default) */

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
 * Initial weights: the GRU as torch.nn.GRU, U(-1/sqrt(H), 1/sqrt(H)); the
 * head as torch.nn.Linear, U(-1/sqrt(H), 1/sqrt(H)); each group from its own
 * stream of the config seed, so adding a layer changes no other group.
 * Noise of sample i at step t: Philox4x32-10 blocks keyed by (seed, noise
 * purpose) at counter (i, t * ceil(Z/4) + j) give values 4j .. 4j+3, as two
 * Box-Muller pairs (normal) or four uniforms; a value depends on (seed, i, t)
 * only. Sequences are limited to 2^32 / ceil(Z/4) steps.
 */
#define GRUGAN_NOISE_NORMAL  0 /**< z ~ N(0, 1) (default) */
#define GRUGAN_NOISE_UNIFORM 1 /**< z ~ U(0, 1), as TimeGAN */

/** Configuration of grugan_generator_create. */
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

/** Initializer: struct_size set, every other field 0 (its default). */
#define GRUGAN_GENERATOR_CONFIG_INIT { sizeof(grugan_generator_config), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/** A generator (opaque): weights, gradients, noise stream, optional scaler. */
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
 *  accumulated (call grugan_params_zero_grad first). Fails with
 *  GRUGAN_E_STATE when no forward preceded it; may be called more than once
 *  for the same forward. */
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

/** The configuration the generator was created with, every default
 *  resolved. out->struct_size must be set (GRUGAN_GENERATOR_CONFIG_INIT). */
GRUGAN_API int grugan_generator_get_config(const grugan_generator *gen,
                                           grugan_generator_config *out);

/** Attaches a per-feature scaler (as grugan_dataset_scaler gives it: x_scaled
 *  = (x - offset) * scale), so that grugan_generator_unscale maps samples back
 *  to data units and exports carry it. offset and scale (F) each; both NULL
 *  removes it. The trainer attaches its dataset's scaler. */
GRUGAN_API int grugan_generator_set_scaler(grugan_generator *gen, const float *offset,
                                           const float *scale);

/** Reads the attached scaler into offset and scale (F each, may be NULL);
 *  GRUGAN_E_STATE if none is attached. */
GRUGAN_API int grugan_generator_get_scaler(const grugan_generator *gen, float *offset,
                                           float *scale);

/** Maps `count` values (rows of F) from scaled to data units in place with
 *  the attached scaler; GRUGAN_E_STATE if none is attached. */
GRUGAN_API int grugan_generator_unscale(const grugan_generator *gen, float *values, size_t count);

/** Writes a generator-only export (weights, architecture, scaler) to path
 *  atomically, in the format of docs/FORMAT.md. */
GRUGAN_API int grugan_generator_save(grugan_generator *gen, const char *path);

/** As grugan_generator_save into caller memory (query the size with
 *  buffer NULL, as grugan_trainer_save_buffer). */
GRUGAN_API int grugan_generator_save_buffer(grugan_generator *gen, void *buffer, size_t capacity,
                                            size_t *size);

/** Creates a generator from a generator-only export or a full training
 *  checkpoint (architecture, weights and scaler from the file). The caller
 *  frees it with grugan_generator_free; `ctx` (NULL: default) must outlive it. */
GRUGAN_API int grugan_generator_load(grugan_context *ctx, const char *path,
                                     grugan_generator **out, grugan_error *err);

/** As grugan_generator_load from `size` bytes of memory. */
GRUGAN_API int grugan_generator_load_buffer(grugan_context *ctx, const void *buffer, size_t size,
                                            grugan_generator **out, grugan_error *err);

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
 *   Per-step logits: the features are the GRU outputs (B, T, D*H). With
 *   lengths, a sequence's outputs, features and logits past its length are
 *   0, and d_logits / d_features there are ignored.
 *   Final logits: the features (B, D*H) are the last layer's final states:
 *   the forward direction at each sequence's last valid step, the reverse
 *   direction after reading back to step 0 (torch's h_n).
 * CONV1D kind: `conv_layers` convolutions of `channels` output channels,
 * kernel `kernel_size`, stride `stride`, zero padding `padding`, each followed
 * by leaky ReLU (slope `leaky_slope`), then head (1, T_out * channels) over
 * the flattened features; `sequence_length` is fixed at creation; lengths are
 * refused (GRUGAN_E_UNSUPPORTED). The features are flattened as
 * torch.nn.Flatten flattens Conv1d's (B, channels, T_out) output: feature
 * c * T_out + t is channel c at output step t.
 * Parameters conv.{k}.weight (channels, C_in, K), conv.{k}.bias, head.*.
 * Initial weights: as torch.nn.GRU, torch.nn.Conv1d and torch.nn.Linear,
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), each group from its own stream of the
 * seed.
 */

/** Value of grugan_discriminator_config.padding for no padding at all (0
 *  there means the default, kernel_size / 2). */
#define GRUGAN_CONV_NO_PADDING ((size_t)-1)

/** Configuration of grugan_discriminator_create. */
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
    size_t conv_layers;     /**< 0: 3; at most 64 */
    size_t channels;        /**< 0: 32 */
    size_t kernel_size;     /**< 0: 5 */
    size_t stride;          /**< 0: 2 */
    size_t padding;         /**< 0: kernel_size / 2; GRUGAN_CONV_NO_PADDING: none */
    float leaky_slope;      /**< in [0, 1]; 0: 0.2 */
    uint64_t seed;          /**< seed of the initial weights */
} grugan_discriminator_config;

/** Initializer: struct_size set, every other field 0 (its default). */
#define GRUGAN_DISCRIMINATOR_CONFIG_INIT \
    { sizeof(grugan_discriminator_config), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0f, 0 }

/** A discriminator (opaque): weights, gradients, workspace. */
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

/** The configuration the discriminator was created with, every default
 *  resolved. out->struct_size must be set (GRUGAN_DISCRIMINATOR_CONFIG_INIT). */
GRUGAN_API int grugan_discriminator_get_config(const grugan_discriminator *disc,
                                               grugan_discriminator_config *out);

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
 *  `count` must equal B * feature_count. GRUGAN_E_STATE before a forward. */
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
 * Fails with GRUGAN_E_STATE when no forward preceded it; may be called more
 * than once for the same forward.
 */
GRUGAN_API int grugan_discriminator_backward(grugan_discriminator *disc, const float *d_logits,
                                             const float *d_features, float *d_x, int flags);

#define GRUGAN_PENALTY_SQUARED_NORM 0 /**< R1, R2: phi(g) = ||g||^2 */
#define GRUGAN_PENALTY_UNIT_NORM    1 /**< WGAN-GP: phi(g) = (||g|| - 1)^2 */

/**
 * Gradient penalty of the last forward (R1, R2, WGAN-GP), its value and its
 * gradient with respect to every parameter.
 *   g_b       = d (sum_j weights[b, j] logits[b, j]) / d x_b       (T, F)
 *   value     = scale / B * sum_b phi(g_b), phi of `kind` (GRUGAN_PENALTY_*)
 * Pointers and flags:
 *   weights    (B, logit_count) or NULL (every weight 1)
 *   value      receives the penalty
 *   input_grad (B, T, F) or NULL: receives g
 *   flags      GRUGAN_BACKWARD_PARAMS: d value / d parameters is ADDED to
 *              the gradients (the backward of the backward, computed
 *              exactly); GRUGAN_BACKWARD_INPUT_ONLY: only value and
 *              input_grad, the gradients untouched
 * The condition columns are not penalised. For R1 with gamma, pass the real
 * sequences and scale gamma / 2; for WGAN-GP, interpolates and scale lambda
 * (docs/gradient-penalties.md). The CONV1D kind is piecewise linear, so the
 * penalty's gradient with respect to the biases and to x is 0 (almost
 * everywhere, as torch's autograd finds too). The GRU kind is refused with
 * GRUGAN_E_UNSUPPORTED. Fails with GRUGAN_E_STATE when no forward preceded
 * it, GRUGAN_E_RANGE for a scale that is not finite and >= 0,
 * GRUGAN_E_NONFINITE for NaN/Inf weights (when checks are on) or a penalty
 * beyond the float range (no gradient changed then). It keeps the forward,
 * so backward may be called before or after it.
 */
GRUGAN_API int grugan_discriminator_penalty(grugan_discriminator *disc, int kind, float scale,
                                            const float *weights, float *value,
                                            float *input_grad, int flags);

/* ------------------------------------------------------------------------- */
/* Losses                                                                    */
/* ------------------------------------------------------------------------- */

#define GRUGAN_LOSS_BCE         0 /**< non-saturating GAN loss, binary cross-entropy on logits */
#define GRUGAN_LOSS_LSGAN       1 /**< least squares: targets 1 (real) and 0 (fake) */
#define GRUGAN_LOSS_WASSERSTEIN 2 /**< critic: mean(fake) - mean(real); generator: -mean(fake) */
#define GRUGAN_LOSS_HINGE       3 /**< relu(1 - real), relu(1 + fake); generator: -mean(fake) */
#define GRUGAN_LOSS_WGAN_GP     4 /**< the Wasserstein loss (grugan_loss computes it as
                                       GRUGAN_LOSS_WASSERSTEIN); the trainer adds a gradient
                                       penalty on interpolates (lambda 10) and takes 5
                                       discriminator updates per step by default */

#define GRUGAN_TARGET_REAL      0 /**< discriminator on real data */
#define GRUGAN_TARGET_FAKE      1 /**< discriminator on generated data */
#define GRUGAN_TARGET_GENERATOR 2 /**< generator's loss on generated data */

/**
 * Mean loss over the valid logits of a batch and its gradient.
 *   kind       GRUGAN_LOSS_*
 *   target     GRUGAN_TARGET_*
 *   logits     (B, per_seq): per_seq = T for per-step logits, 1 otherwise
 *   lengths    (B) or NULL: with per-step logits (per_seq > 1), only steps
 *              < lengths[b] count, each length in 1..per_seq; the other
 *              entries are not read and get zero gradient. Ignored when
 *              per_seq = 1 (one logit per sequence always counts).
 *   label_smoothing  BCE on real data only (one-sided): target 1 - s, s in [0, 1)
 *              (checked for every kind and target, ignored by the others)
 *   value      receives the mean loss: the sum over the N valid logits / N
 *   d_logits   (B, per_seq) or NULL: receives d value / d logits
 * Per valid logit l (s the label smoothing):
 *   BCE          real: softplus(l) - (1 - s) l, computed as softplus(-l) + s l
 *                fake: softplus(l)   generator: softplus(-l)
 *                with softplus(x) = max(x, 0) + log1p(exp(-|x|)): finite and
 *                accurate for every finite logit (real at l = 80 gives e^-80)
 *   LSGAN        real 0.5 (l - 1)^2, fake 0.5 l^2, generator 0.5 (l - 1)^2
 *   WASSERSTEIN  real -l, fake l, generator -l (the critic's loss is the sum
 *                of its real and fake calls); WGAN_GP gives the same
 *   HINGE        real relu(1 - l), fake relu(1 + l), generator -l; relu has
 *                gradient 0 at 0, as in torch
 * Computed in double, sums in a fixed order. There is no handle, so failures
 * return only a status: GRUGAN_E_INVALID (NULL logits or value, unknown kind
 * or target), GRUGAN_E_SIZE (a zero size, or B * per_seq overflows),
 * GRUGAN_E_RANGE (label_smoothing or a length out of range),
 * GRUGAN_E_NONFINITE (NaN/Inf in a valid logit, or a mean that overflows
 * float, which only LSGAN can reach, for |l| above about 2.6e19). Nothing is
 * written on failure.
 */
GRUGAN_API int grugan_loss(int kind, int target, size_t batch, size_t per_seq,
                           const float *logits, const size_t *lengths, float label_smoothing,
                           float *value, float *d_logits);

/**
 * Feature matching: || mean_r f_real - mean_f f_fake ||^2, summed over `dim`
 * features, and its gradient with respect to f_fake,
 *   d_fake[i][j] = -2 (mean_r f_real[r][j] - mean_f f_fake[f][j]) / n_fake.
 *   f_real (n_real, dim), f_fake (n_fake, dim), d_fake (n_fake, dim) or NULL
 * Computed in double, sums in a fixed order. Fails with GRUGAN_E_INVALID
 * (NULL f_real, f_fake or value), GRUGAN_E_SIZE (a zero size, or a product
 * overflows), GRUGAN_E_NONFINITE (NaN/Inf in the features, or a value that
 * overflows float); nothing is written then.
 */
GRUGAN_API int grugan_feature_matching(size_t n_real, size_t n_fake, size_t dim,
                                       const float *f_real, const float *f_fake, float *value,
                                       float *d_fake);

/**
 * Moment matching (TimeGAN's moment loss): over `dim` columns (e.g. T * F
 * values of each sequence),
 *   value = mean_j |sd_real[j] - sd_fake[j]| + mean_j |mean_real[j] - mean_fake[j]|
 * with sd = sqrt(population variance over the rows + 1e-6), and its gradient
 * with respect to fake. real (n_real, dim), fake (n_fake, dim),
 * d_fake (n_fake, dim) or NULL (d_fake must not overlap fake).
 */
GRUGAN_API int grugan_moment_matching(size_t n_real, size_t n_fake, size_t dim,
                                      const float *real, const float *fake, float *value,
                                      float *d_fake);

/**
 * Difference matching: moment matching (as grugan_moment_matching) of the
 * step-to-step changes of sequences, so that generated sequences are as
 * smooth or as rough as the real ones, feature by feature and step by step:
 * with d[i][t][f] = x[i][t+1][f] - x[i][t][f] for t < T - 1,
 *   value = mean_{t,f} |sd_real(d[t][f]) - sd_fake(d[t][f])|
 *         + mean_{t,f} |mean_real(d[t][f]) - mean_fake(d[t][f])|
 * and its gradient with respect to fake. real (n_real, T, F), fake
 * (n_fake, T, F), d_fake (n_fake, T, F) or NULL (written, not accumulated;
 * must not overlap fake). T must be at least 2. Fails like
 * grugan_moment_matching; nothing is written then.
 */
GRUGAN_API int grugan_difference_matching(size_t n_real, size_t n_fake, size_t steps,
                                          size_t features, const float *real,
                                          const float *fake, float *value, float *d_fake);

/**
 * TimeGAN's supervised loss: the mean squared error between each next-step
 * latent and the supervisor's prediction of it (docs/timegan.md),
 *   value = 1 / (B (T-1) D) sum_{b, t < T-1, j} (h[b][t+1][j] - s[b][t][j])^2
 * and its gradients d_h = d value / d h and d_s = d value / d s (each
 * written, not accumulated; either may be NULL; d_h[b][0] and d_s[b][T-1]
 * are 0). h, s, d_h, d_s (B, T, D); neither gradient may overlap h, s or the
 * other. T must be at least 2. Computed in double, sums in a fixed order.
 * Fails with GRUGAN_E_INVALID (NULL h, s or value), GRUGAN_E_SIZE (a zero
 * size, T < 2, or B * T * D overflows), GRUGAN_E_NONFINITE (NaN/Inf in h or
 * s, or a mean that overflows float); nothing is written then.
 */
GRUGAN_API int grugan_supervised_loss(size_t batch, size_t steps, size_t dim, const float *h,
                                      const float *s, float *value, float *d_h, float *d_s);

/* ------------------------------------------------------------------------- */
/* Optimizers (exact torch.optim update rules)                               */
/* ------------------------------------------------------------------------- */

/**
 * The update rules of torch.optim in torch 1.13 (single-tensor code path,
 * foreach=False; no amsgrad, no maximize), per parameter p with gradient g,
 * where t is the step count including this step and "g += wd p" happens only
 * when the weight decay wd is not 0:
 *   ADAM     g += wd p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *            p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *   ADAMW    p *= 1 - lr wd;  then ADAM without g += wd p
 *   SGD      g += wd p;  if momentum != 0: buf = g at the buffer's first
 *            update, momentum buf + (1 - dampening) g after it, and
 *            g = nesterov ? g + momentum buf : buf;  p -= lr g
 *   RMSPROP  g += wd p;  sq = alpha sq + (1 - alpha) g^2;
 *            avg = sqrt(sq - ga^2) + eps with ga = alpha ga + (1 - alpha) g
 *            if centered, else sqrt(sq) + eps;
 *            if momentum > 0: buf = momentum buf + g / avg, p -= lr buf;
 *            else p -= lr g / avg
 * As in torch, hyperparameters are doubles (Python floats); the scalars made
 * from them (1 - b1, lr / (1 - b1^t), sqrt(1 - b2^t), ...) are computed in
 * double, then the elementwise arithmetic runs in float in torch's order of
 * operations, with the multiply-adds of torch's add_(x, alpha=a) and
 * addcmul_ rounded once (fused), as torch's AVX2 and AVX-512 CPU kernels
 * round them: on such CPUs the results are torch's bits (the test suite
 * checks it on torch's output). One deliberate difference: centered RMSprop
 * takes sqrt(max(sq - ga^2, 0)) where rounding would give torch a NaN. The
 * optimizer runs over the flat value and gradient blocks of its parameter
 * set; every operation is correctly rounded, so the results are the same
 * bits on every machine and for every thread count.
 */
#define GRUGAN_OPT_ADAM    0 /**< torch.optim.Adam (default) */
#define GRUGAN_OPT_ADAMW   1 /**< torch.optim.AdamW (decoupled weight decay) */
#define GRUGAN_OPT_SGD     2 /**< torch.optim.SGD (momentum, dampening, Nesterov) */
#define GRUGAN_OPT_RMSPROP 3 /**< torch.optim.RMSprop (momentum, centered) */

/* Optimizer keys, for grugan_optimizer_set/get (bounds by key_bounds). Each
 * applies to the kinds named; the others refuse it with GRUGAN_E_INVALID. */
#define GRUGAN_KEY_LR           10 /**< learning rate, > 0 (all kinds) */
#define GRUGAN_KEY_BETA1        11 /**< Adam/AdamW beta1, [0, 1) */
#define GRUGAN_KEY_BETA2        12 /**< Adam/AdamW beta2, [0, 1) */
#define GRUGAN_KEY_EPS          13 /**< Adam/AdamW/RMSprop epsilon, > 0 */
#define GRUGAN_KEY_WEIGHT_DECAY 14 /**< L2 penalty (decoupled for AdamW), >= 0 (all kinds) */
#define GRUGAN_KEY_MOMENTUM     15 /**< SGD/RMSprop momentum, [0, 1) */
#define GRUGAN_KEY_DAMPENING    16 /**< SGD dampening, [0, 1] */
#define GRUGAN_KEY_NESTEROV     17 /**< SGD Nesterov momentum, 0 or 1 */
#define GRUGAN_KEY_ALPHA        18 /**< RMSprop smoothing constant, [0, 1) */
#define GRUGAN_KEY_CENTERED     19 /**< RMSprop centered, 0 or 1 */

/** Zero fields take the default. A nonzero field the kind does not use (e.g.
 *  beta1 for SGD) is refused with GRUGAN_E_INVALID, a field outside its
 *  key's bounds with GRUGAN_E_RANGE. The hyperparameters are doubles so that
 *  values such as beta2 = 0.99 or lr = 2e-4 are exactly torch's. */
typedef struct grugan_optimizer_config {
    size_t struct_size;  /**< use GRUGAN_OPTIMIZER_CONFIG_INIT */
    int32_t kind;        /**< GRUGAN_OPT_*; 0: Adam */
    double lr;           /**< 0: 1e-3 (SGD: 1e-2); note torch's RMSprop default is 1e-2 */
    double beta1;        /**< Adam/AdamW; 0: 0.9 (set GRUGAN_KEY_BETA1 for exactly 0) */
    double beta2;        /**< Adam/AdamW; 0: 0.999 */
    double eps;          /**< Adam/AdamW/RMSprop; 0: 1e-8 */
    double weight_decay; /**< 0: none (AdamW: 1e-2); set GRUGAN_KEY_WEIGHT_DECAY for exactly 0 */
    double momentum;     /**< SGD, RMSprop; 0: none */
    double dampening;    /**< SGD; 0: none */
    int32_t nesterov;    /**< SGD; 0 or 1; 1 needs momentum > 0 and dampening 0, as torch */
    double alpha;        /**< RMSprop; 0: 0.99 (set GRUGAN_KEY_ALPHA for exactly 0) */
    int32_t centered;    /**< RMSprop; 0 or 1 */
} grugan_optimizer_config;

/** Initializer: struct_size set, every other field 0 (its default). */
#define GRUGAN_OPTIMIZER_CONFIG_INIT \
    { sizeof(grugan_optimizer_config), 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0 }

/** An optimizer (opaque): the update rule's state for one parameter set. */
typedef struct grugan_optimizer grugan_optimizer;

/** Creates an optimizer for a model's parameter set (`config` NULL: Adam with
 *  the defaults). It borrows `params`: the model must outlive the optimizer,
 *  and the two are used from one thread at a time (they share the parameter
 *  blocks). `ctx` (NULL: default) must outlive it too; free it with
 *  grugan_optimizer_free. `params` that is not a parameter set fails with
 *  GRUGAN_E_INVALID. `err` (may be NULL) receives the code and a message on
 *  failure. The state buffers of every setting of the kind are allocated
 *  here, so steps never allocate. */
GRUGAN_API int grugan_optimizer_create(grugan_context *ctx, const grugan_optimizer_config *config,
                                       grugan_params *params, grugan_optimizer **out,
                                       grugan_error *err);

/** Frees an optimizer (not the parameters); NULL is a no-op. */
GRUGAN_API void grugan_optimizer_free(grugan_optimizer *opt);

/** Detail of the last failure on this optimizer ("" if none). Never NULL. */
GRUGAN_API const char *grugan_optimizer_message(const grugan_optimizer *opt);

/** Sets a hyperparameter by key (GRUGAN_KEY_LR ... GRUGAN_KEY_CENTERED that
 *  apply to the kind, GRUGAN_KEY_THREADS) between steps, e.g. for
 *  learning-rate schedules; it takes effect at the next step. NESTEROV,
 *  CENTERED and THREADS take integers. Torch's constructor check of Nesterov
 *  (momentum > 0, dampening 0) is made at creation only: keys set later are
 *  used in the rules above as they are. */
GRUGAN_API int grugan_optimizer_set(grugan_optimizer *opt, int key, double value);
/** Reads a hyperparameter by key (the keys set accepts). */
GRUGAN_API int grugan_optimizer_get(const grugan_optimizer *opt, int key, double *value);
/** Bounds of an optimizer key (or GRUGAN_KEY_THREADS): the closed interval
 *  [min, max] set accepts. An open bound above is given as the nearest
 *  accepted value: > 0 (lr, eps) as FLT_MIN, the smallest normal float, and
 *  < 1 (betas, momentum, alpha) as the largest double below 1; lr, eps and
 *  weight decay are at most FLT_MAX. */
GRUGAN_API int grugan_optimizer_key_bounds(int key, double *min, double *max);

/** Sets the gradients of the optimized parameters to zero. */
GRUGAN_API int grugan_optimizer_zero_grad(grugan_optimizer *opt);

/**
 * Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_: if the
 * L2 norm of all gradients exceeds max_norm (> 0), scales them by
 * max_norm / (norm + 1e-6). `norm` (may be NULL) receives the norm before
 * clipping. A non-finite norm fails with GRUGAN_E_NONFINITE, nothing scaled.
 * Precisely: the squares are summed in double in fixed-size chunks combined
 * in order (the same bits for every thread count); norm is that sum's square
 * root rounded to float; c = (1 / (norm + 1e-6)) * max_norm in float (as
 * torch evaluates it), and every gradient is multiplied by c (in float) only
 * if c < 1. A max_norm that is not finite and > 0 fails with GRUGAN_E_RANGE.
 */
GRUGAN_API int grugan_optimizer_clip_grad_norm(grugan_optimizer *opt, float max_norm,
                                               float *norm);

/** One update of every parameter from its gradient, by the rules above; the
 *  step count is incremented first. Fails with GRUGAN_E_NONFINITE, changing
 *  nothing (weights, state, step count), if a gradient is NaN or Inf, or if
 *  the update would make a weight or a state value NaN or Inf (a finite
 *  gradient can: a learning rate near FLT_MAX, or a gradient above about
 *  1e19 whose square overflows Adam's second moment). Never allocates; keeps
 *  a copy of the weights and the state for that (the optimizer's memory is
 *  (2 + slots) x the parameter count, slots: Adam 2, SGD 1, RMSprop 3). */
GRUGAN_API int grugan_optimizer_step(grugan_optimizer *opt);

/** Number of updates done (torch's "step" state). */
GRUGAN_API int grugan_optimizer_step_count(const grugan_optimizer *opt, uint64_t *steps);

/**
 * Floats of the optimizer's state for the current settings, with n =
 * grugan_params_num_scalars: Adam/AdamW 2n; SGD n if momentum != 0, else 0;
 * RMSprop n, + n if momentum > 0, + n if centered (so up to 3n). 0 for an
 * invalid handle. The buffers of every setting are allocated at creation,
 * so momentum or centered may be switched on by key between steps: a buffer
 * not used before starts at zero, except SGD's momentum buffer, which (as
 * torch's) starts as a copy of the gradient at its first update. A buffer
 * switched off keeps its values but leaves the state that read/write see.
 */
GRUGAN_API size_t grugan_optimizer_state_size(const grugan_optimizer *opt);

/** Copies the state and the step count, e.g. for checkpoints. The state is
 *  flat, blocks of n floats in the parameter block's order, in this order
 *  and only the blocks the current settings use: Adam/AdamW exp_avg then
 *  exp_avg_sq; SGD momentum_buffer; RMSprop square_avg, momentum_buffer,
 *  grad_avg. `count` must equal grugan_optimizer_state_size (GRUGAN_E_SIZE);
 *  dst may be NULL when count is 0; steps may be NULL. */
GRUGAN_API int grugan_optimizer_state_read(const grugan_optimizer *opt, float *dst, size_t count,
                                           uint64_t *steps);

/** Restores state written by state_read under the same kind and settings,
 *  and the step count; `count` must equal grugan_optimizer_state_size.
 *  Refuses NaN/Inf (GRUGAN_E_NONFINITE, nothing written). Buffers the current
 *  settings do not use are reset to zero. SGD's momentum buffer counts as
 *  started when steps > 0 (as torch's loaded momentum_buffer), so an
 *  optimizer restored into a copy of the model continues bit-identically. */
GRUGAN_API int grugan_optimizer_state_write(grugan_optimizer *opt, const float *src,
                                            size_t count, uint64_t steps);

/* ------------------------------------------------------------------------- */
/* Datasets                                                                  */
/* ------------------------------------------------------------------------- */

/**
 * A dataset holds N sequences of T steps and F features (float32, scaled),
 * optional per-sequence conditions (N, C) and lengths (N), a per-feature
 * scaler, and a shuffled minibatch stream from its own seed.
 *
 * Sources: a caller's array (N, T, F); a long series (rows, F) cut into
 * windows of T steps every `stride` rows; a CSV file (numeric columns, rows in
 * time order, optional header, locale-independent numbers); a NumPy .npy file
 * (float32 or float64, C order; 2-D (rows, F) is a series, 3-D (N, T, F) is
 * sequences). File readers report every bad row with its line number.
 *
 * CSV: LF or CRLF line ends (the last one optional; empty lines at the end
 * are ignored, elsewhere refused); fields quoted as in RFC 4180 allowed;
 * spaces and tabs around fields ignored; numbers [+-]digits[.digits][e[+-]
 * digits] (also ".5", "5."), read without the C locale; only the kept
 * columns are parsed, so the others may hold text such as dates. Failures,
 * with "line L, column K" (both from 1, the header being line 1) in the
 * message: no number, empty field, wrong field count, no data rows:
 * GRUGAN_E_FORMAT; nan or inf: GRUGAN_E_NONFINITE; beyond the float range:
 * GRUGAN_E_RANGE. Files that cannot be read: GRUGAN_E_IO.
 */
#define GRUGAN_SCALE_MINMAX     0 /**< per feature to [0, 1] (default; sigmoid generators) */
#define GRUGAN_SCALE_MINMAX_SYM 1 /**< per feature to [-1, 1] (tanh generators) */
#define GRUGAN_SCALE_NONE       2 /**< data used as given */

#define GRUGAN_CSV_HEADER_AUTO 0 /**< a first row with a kept field that is empty or no
                                      number is a header (default) */
#define GRUGAN_CSV_HEADER_YES  1 /**< the first row is a header */
#define GRUGAN_CSV_HEADER_NO   2 /**< every row is data */

/** Configuration of the grugan_dataset_from_* functions. */
typedef struct grugan_dataset_config {
    size_t struct_size;       /**< use GRUGAN_DATASET_CONFIG_INIT */
    size_t sequence_length;   /**< T for series, CSV and 2-D NPY sources (required there);
                                   arrays and 3-D NPY: 0 or their T */
    size_t stride;            /**< window stride for series; 0: 1 */
    int32_t scaling;          /**< GRUGAN_SCALE_* (0: min-max to [0, 1]) */
    int32_t csv_header;       /**< GRUGAN_CSV_HEADER_* */
    int32_t csv_delimiter;    /**< a single byte, not '"', CR, LF, a digit, '.', '+', '-',
                                   'e' or 'E'; 0: ',' */
    const size_t *columns;    /**< 0-based columns (features) to keep, in this order, for
                                   every source; NULL: all */
    size_t num_columns;       /**< entries in columns */
    uint64_t seed;            /**< seed of the minibatch order */
    float holdout;            /**< share of the sequences held out of the minibatch stream
                                   (for model selection, see the trainer), in [0, 0.5]:
                                   sequence i is held out when floor((i+1) h) > floor(i h),
                                   so floor(N h) of them spread evenly over the data (for
                                   0.1: sequences 9, 19, 29 and so on); 0: none */
} grugan_dataset_config;

/** Initializer: struct_size set, every other field 0 (its default). */
#define GRUGAN_DATASET_CONFIG_INIT { sizeof(grugan_dataset_config), 0, 0, 0, 0, 0, 0, 0, 0, 0.0f }

/** A dataset (opaque): scaled sequences, scaler, minibatch stream. */
typedef struct grugan_dataset grugan_dataset;

/** From a caller's array of n sequences (n, T, F); the data are copied, so
 *  the caller's arrays need not outlive the call. conditions (n, C) and
 *  lengths (n, each 1..T) are optional (NULL, or C = 0). Steps past a
 *  sequence's length are not read (they may hold anything) and are stored
 *  as 0. `ctx` (NULL: default) must outlive the dataset; free it with
 *  grugan_dataset_free. */
GRUGAN_API int grugan_dataset_from_array(grugan_context *ctx, const grugan_dataset_config *config,
                                         const float *data, size_t n, size_t steps,
                                         size_t features, const float *conditions,
                                         size_t condition_size, const size_t *lengths,
                                         grugan_dataset **out, grugan_error *err);

/** From a long series (rows, F), cut into N = (rows - T) / stride + 1
 *  windows of T = config->sequence_length steps every config->stride rows
 *  (copied); rows < T fails with GRUGAN_E_SIZE. */
GRUGAN_API int grugan_dataset_from_series(grugan_context *ctx,
                                          const grugan_dataset_config *config,
                                          const float *series, size_t rows, size_t features,
                                          grugan_dataset **out, grugan_error *err);

/** From a CSV file read as a series (see grugan_dataset_from_series). */
GRUGAN_API int grugan_dataset_from_csv(grugan_context *ctx, const grugan_dataset_config *config,
                                       const char *path, grugan_dataset **out,
                                       grugan_error *err);

/** From CSV text in memory (`size` bytes, need not be NUL-terminated). */
GRUGAN_API int grugan_dataset_from_csv_buffer(grugan_context *ctx,
                                              const grugan_dataset_config *config,
                                              const void *data, size_t size,
                                              grugan_dataset **out, grugan_error *err);

/** From a NumPy .npy file: 2-D (rows, F) as a series, 3-D (N, T, F) as is. */
GRUGAN_API int grugan_dataset_from_npy(grugan_context *ctx, const grugan_dataset_config *config,
                                       const char *path, grugan_dataset **out,
                                       grugan_error *err);

/** From .npy bytes in memory. */
GRUGAN_API int grugan_dataset_from_npy_buffer(grugan_context *ctx,
                                              const grugan_dataset_config *config,
                                              const void *data, size_t size,
                                              grugan_dataset **out, grugan_error *err);

/** Frees a dataset; NULL is a no-op. */
GRUGAN_API void grugan_dataset_free(grugan_dataset *ds);

/** Detail of the last failure on this dataset ("" if none). */
GRUGAN_API const char *grugan_dataset_message(const grugan_dataset *ds);

/** How many of the N sequences feed the minibatch stream (n_train) and how
 *  many are held out (n_holdout, 0 without config->holdout); either may be
 *  NULL. grugan_dataset_get reaches all N. */
GRUGAN_API int grugan_dataset_split(const grugan_dataset *ds, size_t *n_train,
                                    size_t *n_holdout);

/** The dataset index (for grugan_dataset_get) of held-out sequence k, 0 ..
 *  n_holdout-1, in increasing index order; GRUGAN_E_NOTFOUND past them. */
GRUGAN_API int grugan_dataset_holdout_index(const grugan_dataset *ds, size_t k, size_t *index);

/** Sizes: sequences N, steps T, features F, condition size C (any may be NULL). */
GRUGAN_API int grugan_dataset_shape(const grugan_dataset *ds, size_t *n, size_t *steps,
                                    size_t *features, size_t *condition_size);

/** The fitted scaler: x_scaled = (x - offset) * scale, per feature; offset
 *  and scale (F) each, may be NULL. Fitted on every valid step of every
 *  sequence: GRUGAN_SCALE_MINMAX offset = min, scale = 1 / (max - min + 1e-7)
 *  (TimeGAN's epsilon); GRUGAN_SCALE_MINMAX_SYM offset = (min + max) / 2,
 *  scale = 2 / (max - min + 1e-7); GRUGAN_SCALE_NONE 0 and 1. */
GRUGAN_API int grugan_dataset_scaler(const grugan_dataset *ds, float *offset, float *scale);

/** Maps `count` values (count a multiple of F, rows of F features) from data
 *  units to scaled units in place. */
GRUGAN_API int grugan_dataset_scale(const grugan_dataset *ds, float *values, size_t count);

/** Maps `count` values from scaled units back to data units in place (for
 *  generated samples). */
GRUGAN_API int grugan_dataset_unscale(const grugan_dataset *ds, float *values, size_t count);

/** Copies sequence `index` (scaled) into x (T, F); condition (C) and length
 *  may be NULL. */
GRUGAN_API int grugan_dataset_get(const grugan_dataset *ds, size_t index, float *x,
                                  float *condition, size_t *length);

/**
 * The next minibatch of B sequences in shuffled order: each epoch is a fresh
 * permutation of the training sequences (all N but the held-out ones) drawn
 * from (seed, epoch); a batch never straddles two epochs (the remainder of an
 * epoch smaller than B is skipped), so B <= n_train.
 *   x (B, T, F), conditions (B, C) or NULL, lengths (B) or NULL (T for
 *   datasets without lengths), epoch receives the epoch the batch belongs to
 *   (may be NULL).
 * The permutation depends on (seed, epoch) only, not on batch sizes. Never
 * allocates; a failing call leaves the position unchanged.
 */
GRUGAN_API int grugan_dataset_next_batch(grugan_dataset *ds, size_t batch, float *x,
                                         float *conditions, size_t *lengths, uint64_t *epoch);

/** Position of the minibatch stream (epoch, and sequences consumed in it),
 *  for checkpoints. */
GRUGAN_API int grugan_dataset_position(const grugan_dataset *ds, uint64_t *epoch,
                                       uint64_t *offset);
/** Restores a position returned by grugan_dataset_position (offset 0..n_train),
 *  on this or on an identical dataset, to resume its stream exactly. */
GRUGAN_API int grugan_dataset_set_position(grugan_dataset *ds, uint64_t epoch, uint64_t offset);

/* ------------------------------------------------------------------------- */
/* Writing sequences                                                         */
/* ------------------------------------------------------------------------- */

#define GRUGAN_FILE_CSV 0 /**< header "sequence,step,f0,...", one row per step */
#define GRUGAN_FILE_NPY 1 /**< NumPy .npy, little-endian float32, shape (N, T, F) */

/** Writes n sequences x (n, T, F) to path in the given GRUGAN_FILE_* format,
 *  atomically (on failure any previous file at path is intact). CSV numbers
 *  are written with 9 significant digits, enough to read back every float
 *  exactly, independently of the locale. */
GRUGAN_API int grugan_write_sequences(const char *path, int format, const float *x, size_t n,
                                      size_t steps, size_t features, grugan_error *err);

/** Samples n sequences as grugan_generator_sample does, maps them to data
 *  units with the attached scaler (if any), and writes them to path as
 *  grugan_write_sequences does. */
GRUGAN_API int grugan_generator_sample_to_file(grugan_generator *gen, uint64_t seed, size_t n,
                                               size_t steps, const float *condition,
                                               const char *path, int format);

/* ------------------------------------------------------------------------- */
/* Trainer                                                                   */
/* ------------------------------------------------------------------------- */

/**
 * One trainer step = d_steps discriminator updates, then one generator
 * update. A discriminator update draws a real minibatch, generates as many
 * fake sequences (with the real batch's conditions and lengths) and runs both
 * through the discriminator as one batch of 2B. The generator update
 * backpropagates through the discriminator in input-only mode (the
 * discriminator's gradients are untouched). With feature matching, the
 * generator's loss adds weight * || mean f(real) - mean f(fake) ||^2 over the
 * discriminator's features; with moment matching, it adds
 * weight * grugan_moment_matching(real batch, generated batch); with
 * difference matching, weight * grugan_difference_matching(real batch,
 * generated batch). The four weights (label_smoothing, feature_matching,
 * moment_matching, difference_matching) take their default for 0 and are
 * switched off by a negative value: the defaults (moment matching at 100, as
 * TimeGAN weighs its moment loss; difference matching at 100; no label
 * smoothing, no feature matching) are the settings that trained best
 * (docs/QUALITY.md, "Training on Sines" and "Difference matching").
 *
 * Gradient penalties (gradient_penalty, r1_gamma, r2_gamma;
 * docs/gradient-penalties.md) need a CONV1D discriminator (a GRU one is
 * refused with GRUGAN_E_UNSUPPORTED). R1 and R2 act on the update's real and
 * generated rows as the discriminator saw them; WGAN-GP on a second forward
 * of B interpolates of those rows, whose weights e are drawn from Philox
 * keyed by (the generator's seed, the update), so a resumed run draws the
 * same. Their gradients add to the loss's before clipping and the update.
 *
 * Model selection (on by default; select_every negative switches it off): a
 * GAN's generator keeps moving until the end, so the last one is rarely the
 * best. Every select_every steps the trainer makes a quick quality estimate
 * of the generator (grugan_generator_quality, 4 repetitions of 500
 * iterations, seed 0, the trainer's threads) against a fixed set of real
 * sequences: when the dataset holds at least 50 out
 * (grugan_dataset_config.holdout), the classifier trains on training
 * sequences and is tested on the held-out ones; otherwise it splits all of
 * them 80/20 at random; at most 1000 of each part, evenly spread. The
 * generator of the best (lowest) estimate, the latest of equal ones, is
 * kept: grugan_trainer_export writes it, grugan_trainer_best_params reads
 * it, grugan_trainer_restore_best puts it into the generator, checkpoints
 * carry it, and grugan_generator_load of a training checkpoint gives it.
 * After `patience` estimates in a row without a lower one (an equal estimate
 * takes over as the kept generator but does not reset the count), training
 * is finished (GRUGAN_FINISHED_PATIENCE). Near convergence the quick
 * estimate no longer tells good generators apart, so the trainer keeps the
 * final_candidates (default 3) best generators by the quick estimate and,
 * in the step that finishes training (or at grugan_trainer_rank_final),
 * scores each once more with a fuller estimate (4 repetitions of 2000
 * iterations, same real sequences and seeds); the lowest of those, the
 * better quick one of equal ones, becomes the kept generator
 * (grugan_progress.final_quality, final_step). With max_seconds the
 * training part stops early enough to leave the ranking its time (its cost
 * predicted from the quick estimates' durations). A new estimate that
 * enters the candidates after a ranking undoes it until the next. The
 * estimates are deterministic, so selection and early stopping give the
 * same bits for every run and thread count; only max_seconds depends on the
 * machine. Datasets with fewer than 5 sequences, or with sequences shorter
 * than T, train without selection. Each estimate allocates its buffers.
 *
 * Sharded gradients (shards > 1, or a reducer installed with
 * grugan_trainer_set_reducer; docs/SCALING.md): every worker draws the same
 * global batch of B real rows and computes the shards it owns, shard s being
 * rows [s B/S, (s+1) B/S) with the generator's noise of those rows; each
 * shard goes through the generator and the discriminator on its own, its
 * loss is the mean over its rows divided by S, and the model's gradient is
 * the sum of the S shard gradients in shard order. Moment and difference
 * matching use the statistics of the whole global batch, combined from
 * per-shard sums in shard order. The reported losses and scores are the
 * means over the shards. Results depend on (seed, B, S) only, never on the
 * number of workers; they differ from the one-shard computation in the
 * last bits (a float sum over B rows is not the sum of S partial sums).
 */
#define GRUGAN_NONFINITE_STOP 0 /**< stop with GRUGAN_E_NONFINITE naming what and when (default) */
#define GRUGAN_NONFINITE_SKIP 1 /**< skip the update, count it, go on */

/** Configuration of grugan_trainer_create. */
typedef struct grugan_trainer_config {
    size_t struct_size;       /**< use GRUGAN_TRAINER_CONFIG_INIT */
    int32_t loss;             /**< GRUGAN_LOSS_* (0: BCE) */
    size_t d_steps;           /**< discriminator updates per step; 0: 1 (5 with
                                   GRUGAN_LOSS_WGAN_GP) */
    size_t batch_size;        /**< B; 0: 128 (at most the dataset's size) */
    uint64_t total_steps;     /**< steps of grugan_trainer_run; 0: from epochs */
    uint64_t epochs;          /**< if total_steps is 0: run this many epochs of the
                                   dataset's real minibatches; 0: 1 */
    float label_smoothing;    /**< BCE, real targets 1 - s, s < 1; 0: the default
                                   (none); negative: none */
    float clip_grad_norm;     /**< global gradient norm limit of both models; 0: none */
    float clip_weights;       /**< discriminator weights clamped to [-c, c] after each
                                   update (WGAN); 0: none */
    float feature_matching;   /**< weight of the feature-matching term; 0: the default
                                   (none); negative: none */
    int32_t nonfinite_policy; /**< GRUGAN_NONFINITE_STOP (0) or GRUGAN_NONFINITE_SKIP */
    int32_t threads;          /**< threads for every borrowed handle; 0: leave them as set */
    float moment_matching;    /**< weight of the moment-matching term of the generator's
                                   loss (grugan_moment_matching over the T*F values of the
                                   real and generated batch); 0: the default, 100 (as
                                   TimeGAN); negative: none */
    double max_seconds;       /**< wall-clock budget of training in seconds (steps,
                                   estimates and the final ranking, summed over runs and
                                   resumed runs): run stops at the first step that ends
                                   past it less the time the final ranking is predicted to
                                   take; 0: none. Where a run ends then depends on the
                                   machine's speed */
    int64_t select_every;     /**< model selection: steps between two quality estimates
                                   (see "Model selection" above); 0: the default, 1000;
                                   negative: no model selection */
    int64_t patience;         /**< early stopping: run stops after this many estimates in
                                   a row without a new best; 0: the default, 30;
                                   negative: never */
    float instance_noise;     /**< standard deviation of Gaussian noise added to every
                                   value the discriminator sees, real and generated (in
                                   the dataset's scaled units), drawn afresh for every
                                   update; 0: the default, 0.05 for datasets of fewer
                                   than 1000 training sequences and none for larger
                                   ones; negative: none */
    double difference_matching; /**< weight of the difference-matching term of the
                                   generator's loss (grugan_difference_matching of the
                                   real and generated batch: their step-to-step changes);
                                   0: the default, 100; negative: none. Without it
                                   generated series of smooth features come out too rough
                                   (docs/QUALITY.md, "Difference matching"). A double,
                                   not a float: a float would sit in the padding of the
                                   struct before it, which older callers leave undefined */
    float gradient_penalty;   /**< WGAN-GP's lambda: the discriminator's loss adds
                                   lambda * mean (||grad_x D(x_hat)|| - 1)^2 over
                                   interpolates x_hat = e x_real + (1 - e) x_fake,
                                   e ~ U(0, 1) per sequence; usable with every loss; 0: the
                                   default, 10 with GRUGAN_LOSS_WGAN_GP and none otherwise;
                                   negative: none */
    float r1_gamma;           /**< R1: the discriminator's loss adds
                                   gamma / 2 * mean ||grad_x D(x_real)||^2; 0: none */
    float r2_gamma;           /**< R2: likewise on the generated sequences; 0: none */
    int64_t final_candidates; /**< model selection's final ranking: the number of best
                                   generators by the quick estimate that are kept and,
                                   when training finishes, scored again with the fuller
                                   estimate (4 repetitions of 2000 iterations); the best of
                                   them is the kept generator (see "Model selection"
                                   above); 0: the default, 3; 1 or negative: no final
                                   ranking (the best quick estimate's generator is kept);
                                   at most 16 */
    int64_t shards;           /**< data-parallel training (see "Sharded gradients" below):
                                   the global batch of batch_size rows is split into this
                                   many equal shards (batch_size must be a multiple),
                                   each shard's gradient is computed on its own and the
                                   shard gradients are summed in shard order, so that
                                   any number of workers up to `shards` gives the same
                                   bits; 0 or 1: one shard, the whole batch at once (the
                                   default); at most 4096. Feature matching and the
                                   gradient penalties are refused with more than one
                                   shard */
} grugan_trainer_config;

/** Initializer: struct_size set, every other field 0 (its default). */
#define GRUGAN_TRAINER_CONFIG_INIT \
    { sizeof(grugan_trainer_config), 0, 0, 0, 0, 0, 0.0f, 0.0f, 0.0f, 0.0f, 0, 0, 0.0f, \
      0.0, 0, 0, 0.0f, 0.0, 0.0f, 0.0f, 0.0f, 0, 0 }

/** Why training is finished (grugan_progress.finished). */
#define GRUGAN_FINISHED_NO       0 /**< not finished */
#define GRUGAN_FINISHED_STEPS    1 /**< total_steps (or the epochs) are done */
#define GRUGAN_FINISHED_TIME     2 /**< the max_seconds budget is spent */
#define GRUGAN_FINISHED_PATIENCE 3 /**< `patience` estimates in a row brought no new best */

/** What the progress callback and grugan_trainer_progress report. */
typedef struct grugan_progress {
    size_t struct_size;        /**< set by the library: sizeof(grugan_progress) it knows */
    uint64_t step;             /**< steps done (generator updates) */
    uint64_t epoch;            /**< epoch of the last real minibatch */
    uint64_t total_steps;      /**< steps grugan_trainer_run aims for */
    float d_loss;              /**< discriminator loss of the last update (real + fake
                                    + the gradient penalties) */
    float g_loss;              /**< generator loss of the last update */
    float d_real;              /**< mean D(real): sigmoid of the logits for BCE, raw otherwise */
    float d_fake;              /**< mean D(fake), likewise */
    float d_grad_norm;         /**< discriminator gradient norm before clipping */
    float g_grad_norm;         /**< generator gradient norm before clipping */
    double samples_per_second; /**< real + generated sequences per second, last step */
    uint64_t skipped;          /**< updates skipped for non-finite values */
    double elapsed_seconds;    /**< time spent in steps and estimates, over every run of
                                   this training (resumed runs included) */
    uint64_t evaluations;      /**< quality estimates made so far (model selection) */
    double quality;            /**< the latest estimate (0 best, 0.5 worst); NaN before
                                   the first */
    double best_quality;       /**< the best estimate so far; NaN before the first */
    uint64_t best_step;        /**< the step of the best estimate (its generator is kept
                                    until a final ranking keeps another: final_step) */
    int32_t finished;          /**< GRUGAN_FINISHED_*: why grugan_trainer_run stops */
    double final_quality;      /**< the final ranking's estimate of the kept generator;
                                    NaN while no final ranking holds (before it, and after
                                    a new estimate changed the candidates) */
    uint64_t final_step;       /**< the step of the generator the final ranking kept; 0
                                    while final_quality is NaN */
} grugan_progress;

/** Called after each step; a non-zero return stops grugan_trainer_run with
 *  GRUGAN_E_ABORTED, the trainer left consistent (the step is complete). */
typedef int (*grugan_progress_fn)(const grugan_progress *progress, void *user);

/** A trainer (opaque): the GAN loop over borrowed handles. */
typedef struct grugan_trainer grugan_trainer;

/** Creates a trainer that BORROWS the generator, discriminator, their two
 *  optimizers (made for grugan_generator_params(gen) and
 *  grugan_discriminator_params(disc)) and the dataset: all must outlive the
 *  trainer, and must not be used elsewhere while it runs. Their sizes must
 *  agree (features, condition size, sequence length for CONV1D). It attaches
 *  the dataset's scaler to the generator (grugan_generator_set_scaler). `ctx`
 *  (NULL: default) must outlive it; free it with grugan_trainer_free. */
GRUGAN_API int grugan_trainer_create(grugan_context *ctx, const grugan_trainer_config *config,
                                     grugan_generator *gen, grugan_discriminator *disc,
                                     grugan_optimizer *gen_opt, grugan_optimizer *disc_opt,
                                     grugan_dataset *data, grugan_trainer **out,
                                     grugan_error *err);

/** Frees the trainer (not the borrowed handles); NULL is a no-op. */
GRUGAN_API void grugan_trainer_free(grugan_trainer *tr);

/** Detail of the last failure on this trainer ("" if none). */
GRUGAN_API const char *grugan_trainer_message(const grugan_trainer *tr);

/** Installs (or with NULL removes) the progress callback. */
GRUGAN_API int grugan_trainer_set_callback(grugan_trainer *tr, grugan_progress_fn fn, void *user);

/** One step (d_steps discriminator updates and one generator update). Calls
 *  the callback; a non-zero return gives GRUGAN_E_ABORTED after the step. */
GRUGAN_API int grugan_trainer_step(grugan_trainer *tr);

/** Steps until training is finished (total_steps or the epochs done, the
 *  max_seconds budget spent, or `patience` estimates without a new best:
 *  grugan_progress.finished says which), the callback stops it
 *  (GRUGAN_E_ABORTED) or a step fails. Can be called again to continue
 *  after a stop; returns at once when finished. */
GRUGAN_API int grugan_trainer_run(grugan_trainer *tr);

/** The latest progress (struct_size of `out` must be set by the caller). */
GRUGAN_API int grugan_trainer_progress(const grugan_trainer *tr, grugan_progress *out);

/** Reads the parameters of the best generator of model selection (flat, as
 *  grugan_params_read_all of the generator gives them; `count` must equal
 *  its parameter count): the current generator's before the first estimate
 *  and when selection is off. */
GRUGAN_API int grugan_trainer_best_params(const grugan_trainer *tr, float *dst, size_t count);

/** Copies the best generator into the borrowed generator (nothing to do
 *  before the first estimate or without selection), e.g. to sample from it
 *  at the end of training; further steps continue from it. */
GRUGAN_API int grugan_trainer_restore_best(grugan_trainer *tr);

/** Writes a generator-only export (as grugan_generator_save) of the best
 *  generator, or of the current one before the first estimate and without
 *  selection, atomically; the borrowed generator is left as it is. */
GRUGAN_API int grugan_trainer_export(grugan_trainer *tr, const char *path);

/** Runs model selection's final ranking now (see "Model selection" above):
 *  for custom loops that stop before the trainer finishes on its own (the
 *  step that finishes training runs it by itself). Scores the candidates
 *  that have no final estimate yet and keeps the best; nothing to do when
 *  the ranking holds already, before the first estimate, or with
 *  final_candidates 1. Its time counts in progress.elapsed_seconds.
 *  Deterministic: the same candidates give the same choice. Fails like a
 *  scheduled estimate (GRUGAN_E_NOMEM, the generator's failures); the
 *  selection state is unchanged then. */
GRUGAN_API int grugan_trainer_rank_final(grugan_trainer *tr);

/** A quality estimate of the current generator against model selection's
 *  real sequences, now, as the scheduled ones are made (the selection state
 *  is not changed); GRUGAN_E_STATE when selection is off. */
GRUGAN_API int grugan_trainer_estimate(grugan_trainer *tr, double *quality);

/** What a reduction carries (the `what` argument of grugan_reduce_fn). */
#define GRUGAN_REDUCE_DISCRIMINATOR 1 /**< discriminator gradients and loss terms */
#define GRUGAN_REDUCE_GENERATOR     2 /**< generator gradients and loss terms */
#define GRUGAN_REDUCE_STATISTICS    3 /**< the batch statistics of moment and difference
                                           matching */

/**
 * A reducer: on return, `buffer` (count floats) must hold on every worker
 * the elementwise sum of the buffers all workers passed, the same on every
 * worker (e.g. MPI_Allreduce with MPI_SUM). Each of the buffer's S slots
 * (one per shard) is filled by the one worker that owns the shard and is
 * zero on the others, so any summation order gives the exact same bits.
 * Every worker calls it the same number of times with the same `what` and
 * `count`. A non-zero return stops the step with GRUGAN_E_ABORTED (no
 * weights updated).
 */
typedef int (*grugan_reduce_fn)(float *buffer, size_t count, int32_t what, void *user);

/**
 * Makes this trainer worker `rank` of `world` in data-parallel training
 * (see "Sharded gradients" above): it computes the shards
 * [rank S / world, (rank+1) S / world) of every global batch and passes the
 * per-shard gradients and statistics to `fn` to be summed over the
 * workers, after backward and before clipping and the optimizer step. Every
 * worker must have been created with the same configuration, models, seed
 * and dataset, and must call grugan_trainer_step in lockstep; then all of
 * them hold the same weights after every step, bit for bit, for every
 * world size up to S (shards). rank 0, world 1 and fn NULL restores
 * single-process training. Fails with GRUGAN_E_RANGE (world < 1, world >
 * shards, rank outside 0..world-1) and GRUGAN_E_INVALID (fn NULL with
 * world > 1). The reduction buffers were allocated at creation.
 */
GRUGAN_API int grugan_trainer_set_reducer(grugan_trainer *tr, int64_t rank, int64_t world,
                                          grugan_reduce_fn fn, void *user);

/* ------------------------------------------------------------------------- */
/* Checkpoints (docs/FORMAT.md)                                              */
/* ------------------------------------------------------------------------- */

/** Saves the whole training state (both models, both optimizers, the
 *  dataset's scaler and position, the generator's noise position, counters)
 *  to path atomically: on failure the previous file is intact. */
GRUGAN_API int grugan_trainer_save(grugan_trainer *tr, const char *path);

/** Restores a state saved by grugan_trainer_save into this trainer's handles,
 *  which must have the same architecture; training then continues exactly as
 *  if it had not stopped. On failure nothing is changed. */
GRUGAN_API int grugan_trainer_load(grugan_trainer *tr, const char *path);

/** As grugan_trainer_save into caller memory: with buffer NULL or too small,
 *  *size receives the bytes needed (and GRUGAN_E_SIZE if buffer was given). */
GRUGAN_API int grugan_trainer_save_buffer(grugan_trainer *tr, void *buffer, size_t capacity,
                                          size_t *size);

/** As grugan_trainer_load from `size` bytes of memory. */
GRUGAN_API int grugan_trainer_load_buffer(grugan_trainer *tr, const void *buffer, size_t size);

/* ------------------------------------------------------------------------- */
/* Sample quality: the TimeGAN metrics                                        */
/* ------------------------------------------------------------------------- */

/**
 * The discriminative and predictive scores of TimeGAN (Yoon et al., NeurIPS
 * 2019) as its reference code computes them (docs/QUALITY.md has the details):
 * a 1-layer GRU with hidden size max(1, F/2) in the TF1 GRUCell convention,
 * Adam (lr 1e-3), minibatches of 128. Inputs are (N, T, F) arrays scaled to
 * [0, 1]; values outside [0, 1] are refused with GRUGAN_E_RANGE, NaN and Inf
 * with GRUGAN_E_NONFINITE. Shared by both scores:
 *   - `config` NULL means every default; `err` (may be NULL) receives the
 *     code and a message on failure; mean and std are written on success only.
 *   - mean and std are over the repetitions; std is the population standard
 *     deviation (divided by the number of repetitions, as numpy.std).
 *   - Each repetition trains a fresh model (weights initialized as
 *     torch.nn.GRU and torch.nn.Linear) on its own splits and minibatches;
 *     all of them depend only on (seed, repetition), so the scores are the
 *     same bits for every thread count. With several threads, repetitions run
 *     in parallel, one per thread (a model this small does not gain from
 *     threads inside one repetition).
 *   - Workspaces are allocated once per call; the data are only read.
 */
typedef struct grugan_metric_config {
    size_t struct_size;   /**< use GRUGAN_METRIC_CONFIG_INIT */
    size_t repetitions;   /**< independent repetitions (mean and std); 0: 10 */
    size_t iterations;    /**< training iterations; 0: 2000 (discriminative), 5000 (predictive) */
    size_t batch_size;    /**< 0: 128 */
    uint64_t seed;        /**< seed of splits, batches and weights */
    int32_t threads;      /**< 1..256 (as GRUGAN_KEY_THREADS); 0: 1 */
} grugan_metric_config;

/** Initializer: struct_size set, every other field 0 (its default). */
#define GRUGAN_METRIC_CONFIG_INIT { sizeof(grugan_metric_config), 0, 0, 0, 0, 0 }

/**
 * Discriminative score: real and synthetic are each split 80/20; a GRU
 * classifier (last state, linear, sigmoid, binary cross-entropy) is trained to
 * tell them apart on the 80% parts; score = |accuracy on the 20% parts - 0.5|.
 * 0 is best. real (n_real, T, F), synthetic (n_synth, T, F); both need at
 * least 5 sequences. mean and std over the repetitions (std may be NULL).
 * Each minibatch holds min(batch_size, training part) sequences of each set.
 */
GRUGAN_API int grugan_discriminative_score(grugan_context *ctx, const grugan_metric_config *config,
                                           const float *real, size_t n_real,
                                           const float *synthetic, size_t n_synth,
                                           size_t steps, size_t features, double *mean,
                                           double *std, grugan_error *err);

/**
 * Predictive score ("train on synthetic, test on real"): a GRU with a per-step
 * linear + sigmoid head learns to predict feature F-1 at step t+1 from
 * features 0..F-2 at step t on the synthetic data (mean absolute error loss);
 * score = its mean absolute error on all real sequences (the mean over them
 * of each sequence's mean over its T-1 predicted steps). Needs F >= 2,
 * T >= 2, at least one sequence of each; a minibatch holds min(batch_size,
 * n_synth) sequences. std may be NULL.
 */
GRUGAN_API int grugan_predictive_score(grugan_context *ctx, const grugan_metric_config *config,
                                       const float *real, size_t n_real,
                                       const float *synthetic, size_t n_synth, size_t steps,
                                       size_t features, double *mean, double *std,
                                       grugan_error *err);

#define GRUGAN_METRIC_DISCRIMINATIVE 0 /**< grugan_discriminative_score */
#define GRUGAN_METRIC_PREDICTIVE     1 /**< grugan_predictive_score */

/**
 * Some of the repetitions of a score, to spread them over processes (the
 * MPI adapter's grugan_mpi_metric_score does): repetitions [first, first +
 * count) of grugan_discriminative_score (kind GRUGAN_METRIC_DISCRIMINATIVE)
 * or grugan_predictive_score (GRUGAN_METRIC_PREDICTIVE) with the same
 * arguments, one score per repetition into `scores` (count doubles). A
 * repetition's score depends only on (config->seed, repetition), so
 * grugan_metric_summary of all of them in repetition order gives the mean
 * and std of the one call, bit for bit. Fails as those calls do, and with
 * GRUGAN_E_INVALID (unknown kind, NULL scores) and GRUGAN_E_RANGE (count 0,
 * or the range beyond config's repetitions).
 */
GRUGAN_API int grugan_metric_repetitions(grugan_context *ctx, int32_t kind,
                                         const grugan_metric_config *config, size_t first,
                                         size_t count, const float *real, size_t n_real,
                                         const float *synthetic, size_t n_synth, size_t steps,
                                         size_t features, double *scores, grugan_error *err);

/** The mean (sum in order, divided by count) and population standard
 *  deviation (std may be NULL) of `count` repetition scores, as the scores
 *  compute them. GRUGAN_E_INVALID for NULL scores or mean, GRUGAN_E_SIZE for
 *  count 0. */
GRUGAN_API int grugan_metric_summary(const double *scores, size_t count, double *mean,
                                     double *std);

/**
 * A quick estimate of how well a generator's sequences pass for real ones,
 * for model selection (the trainer's, or a custom loop's): generates n
 * sequences with the noise of samples 0 .. n-1 for config->seed (sequence i
 * with condition i when the generator takes one), maps both sets to [0, 1]
 * with the per-feature minimum and maximum of `real` (generated values
 * outside are clamped, NaN/Inf ones set to a bound, so a diverged generator
 * ranks badly instead of failing), and returns their discriminative score
 * (grugan_discriminative_score) in *quality: 0 best, 0.5 worst.
 *   real        (n, T, F) in the generator's own (scaled) units, n >= 5
 *   conditions  (n, C) or NULL (required when the generator takes a condition)
 *   n_test      0: every repetition splits both sets 80/20 at random, as the
 *               published score; k in 1..n-1: the classifier trains on the
 *               first n-k real sequences (and as many generated ones) and is
 *               tested on the last k of each, e.g. held-out sequences
 *   config      NULL or zero fields: 4 repetitions of 500 iterations, batch
 *               128, seed 0, 1 thread
 * The same seed gives every call the same noise, splits and classifier
 * initialization, so estimates of different generators differ by the
 * generators only. Costs about repetitions x iterations x 2 x batch x T
 * GRU-cell steps of a hidden size F/2 (under a second for TimeGAN's Sines);
 * allocates its buffers per call; uses the generator's forward (what a
 * previous forward kept for backward is lost), not its noise stream.
 * Failures go to grugan_generator_message.
 */
GRUGAN_API int grugan_generator_quality(grugan_generator *gen, const grugan_metric_config *config,
                                        const float *real, const float *conditions, size_t n,
                                        size_t n_test, size_t steps, double *quality);

/**
 * Cheap statistics to log during training, each averaged over features:
 *   mean_error  |mean_real - mean_synth| per feature (over all sequences and steps)
 *   std_error   |std_real - std_synth| per feature (population std, same values)
 *   acf_error   mean over lags 1..max_lag of |acf_real(lag) - acf_synth(lag)|,
 *               the autocorrelation of each feature within sequences, pooled
 *               over sequences: acf(k) = mean over sequences i and steps
 *               t < T-k of (x[i,t] - m)(x[i,t+k] - m), divided by the
 *               variance (m and the variance of the feature as above; acf is
 *               0 for a constant feature)
 * Computed in double in a fixed order; the data need not be scaled. Any
 * output may be NULL; acf_error needs 1 <= max_lag < T (max_lag is ignored
 * when acf_error is NULL). Fails with GRUGAN_E_INVALID (NULL data),
 * GRUGAN_E_SIZE (a zero size, or a size that overflows), GRUGAN_E_RANGE
 * (max_lag), GRUGAN_E_NONFINITE (NaN/Inf in the data); nothing is written then.
 */
GRUGAN_API int grugan_statistics_error(const float *real, size_t n_real, const float *synthetic,
                                       size_t n_synth, size_t steps, size_t features,
                                       size_t max_lag, double *mean_error, double *std_error,
                                       double *acf_error);

#ifdef __cplusplus
}
#endif

#endif /* GRUGAN_H */
