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

/** Sets every parameter gradient to zero. */
GRUGAN_API int grugan_gru_zero_grad(grugan_gru *gru);

/** Number of named parameter tensors (4 * L * D). */
GRUGAN_API size_t grugan_gru_param_count(const grugan_gru *gru);

/** Total number of scalar parameters. */
GRUGAN_API size_t grugan_gru_num_scalars(const grugan_gru *gru);

/**
 * Name and shape of parameter tensor `index` (0 .. param_count-1), in
 * PyTorch's naming: weight_ih_l{k} (3H, I or D*H), weight_hh_l{k} (3H, H),
 * bias_ih_l{k} (3H), bias_hh_l{k} (3H), with suffix _reverse for direction 1.
 *   name   receives a static string owned by the GRU (may be NULL)
 *   ndim   receives 1 or 2 (may be NULL)
 *   shape  receives ndim sizes, capacity 2 (may be NULL)
 */
GRUGAN_API int grugan_gru_param_info(const grugan_gru *gru, size_t index, const char **name,
                                     size_t *ndim, size_t shape[2]);

/** Index of the parameter tensor called `name`; GRUGAN_E_NOTFOUND if none. */
GRUGAN_API int grugan_gru_param_find(const grugan_gru *gru, const char *name, size_t *index);

/** Copies parameter tensor `index` into dst in PyTorch's row-major layout;
 *  `count` must equal its number of elements. */
GRUGAN_API int grugan_gru_param_read(const grugan_gru *gru, size_t index, float *dst,
                                     size_t count);

/** Overwrites parameter tensor `index` from src in PyTorch's layout; `count`
 *  must equal its number of elements. Refuses NaN/Inf (nothing written). */
GRUGAN_API int grugan_gru_param_write(grugan_gru *gru, size_t index, const float *src,
                                      size_t count);

/** Copies the gradient of parameter tensor `index` into dst, in PyTorch's
 *  layout; `count` must equal its number of elements. */
GRUGAN_API int grugan_gru_grad_read(const grugan_gru *gru, size_t index, float *dst,
                                    size_t count);

#ifdef __cplusplus
}
#endif

#endif /* GRUGAN_H */
