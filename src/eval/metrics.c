/*
 * metrics.c - the discriminative and predictive scores as TimeGAN's reference
 * code computes them (metrics/discriminative_metrics.py and
 * metrics/predictive_metrics.py of github.com/jsyoon0823/TimeGAN), and cheap
 * statistics. docs/QUALITY.md describes the protocol and where it differs.
 *
 * Both scores train a small post-hoc model: a 1-layer GRU (hidden size
 * max(1, F/2), the TF1 GRUCell convention) and a dense head, with Adam. The
 * models are tiny (for TimeGAN's Sines, H = 2), so the time goes into per-step
 * overhead; the GRU network (nn/gru.h) already fuses each step, and
 * repetitions, which are independent, run on separate workers when more than
 * one thread is allowed. A repetition's result depends only on (seed,
 * repetition): its splits, batches and initial weights come from Philox
 * streams keyed by it, and every kernel gives the same bits for any thread
 * count, so the scores are the same for every thread count.
 */
#include "core/core.h"
#include "core/rng.h"
#include "eval/quality.h"
#include "model/model_util.h"
#include "model/params.h"
#include "nn/activation.h"
#include "nn/gru.h"
#include "nn/linear.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { METRIC_DISC = 0, METRIC_PRED = 1 };

#define DEFAULT_REPETITIONS 10
#define DEFAULT_DISC_ITERATIONS 2000
#define DEFAULT_PRED_ITERATIONS 5000
#define DEFAULT_BATCH 128

/* What every repetition of one call shares (read-only while they run). */
typedef struct metric_job {
    int kind;                 /* METRIC_DISC or METRIC_PRED */
    const float *real;        /* (n_real, T, F) */
    const float *synth;       /* (n_synth, T, F) */
    size_t n_real, n_synth, T, F;
    size_t H;                 /* max(1, F/2) */
    size_t steps, in;         /* GRU input (steps, in): (T, F) or (T-1, F-1) */
    size_t iterations;
    size_t n_tr_real, n_tr_synth; /* discriminative: training parts, int(0.8 n) */
    bool fixed_split;         /* discriminative: the training parts are the first
                                 n_tr sequences, the test parts the rest (no shuffle) */
    size_t b_real, b_synth;   /* sequences per batch from each (b_real 0 for predictive) */
    size_t rows;              /* largest batch of sequences through the GRU */
    uint64_t seed;
    int threads;              /* threads of each worker's kernels (1, see run_metric) */
} metric_job;

/* One worker's model and buffers; repetitions on a worker run one after the
 * other and each starts from fresh weights and optimizer state. */
typedef struct worker {
    grugan__params params; /* GRU tensors, then head.weight (1, H), head.bias (1) */
    grugan__gru_net net;
    grugan_optimizer *opt;
    size_t gru_first, head_w, head_b;
    size_t *perm_real;  /* (n_real), discriminative only */
    size_t *perm_synth; /* (n_synth) */
    float *buf;         /* one allocation holding the buffers below */
    float *x;           /* (rows, steps, in) gathered batch */
    float *y;           /* (rows, steps) predictive targets */
    float *h;           /* (rows, H) final states, or (rows, steps, H) outputs */
    float *dh;          /* like h */
    float *logit;       /* (rows) or (rows * steps): logits, then probabilities */
    float *dlogit;      /* like logit */
    /* first failure */
    int rc;
    size_t fail_rep, fail_iter;
    char message[GRUGAN__MESSAGE_CAP];
} worker;

/* ---- random streams ------------------------------------------------------ */

/* The seed of repetition `rep`'s stream of `purpose`: two words of the Philox
 * block (seed, purpose, index rep, sub kind). */
static uint64_t repetition_seed(uint64_t seed, uint32_t purpose, int kind, size_t rep)
{
    uint32_t b[4];
    grugan__rng_block(seed, purpose, (uint64_t)rep, (uint32_t)kind, b);
    return (uint64_t)b[0] | (uint64_t)b[1] << 32;
}

/* perm = a uniform random permutation of 0..n-1 (np.random.permutation). */
static void permutation(grugan__rng *rng, size_t *perm, size_t n)
{
    for (size_t i = 0; i < n; i++) perm[i] = i;
    for (size_t i = n; i-- > 1;) {
        const size_t j = (size_t)grugan__rng_below(rng, (uint64_t)i + 1), tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}

/* Moves a uniform random k-subset of perm[0..n) to perm[0..k) (a partial
 * Fisher-Yates shuffle): the batch TimeGAN takes as the first k entries of a
 * fresh permutation, drawn in O(k). */
static void draw_subset(grugan__rng *rng, size_t *perm, size_t n, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        const size_t j = i + (size_t)grugan__rng_below(rng, (uint64_t)(n - i)), tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}

/* ---- workers ------------------------------------------------------------- */

static void worker_release(const grugan_context *ctx, worker *w)
{
    grugan_optimizer_free(w->opt);
    grugan__gru_release(&w->net);
    grugan__params_release(&w->params);
    grugan__free(ctx, w->perm_real);
    grugan__free(ctx, w->perm_synth);
    grugan__free(ctx, w->buf);
}

/* Sizes of a worker's float buffers x, y, h, dh, logit, dlogit; false on
 * overflow. Discriminative: one logit per sequence; predictive: one per step. */
static bool buffer_floats(const metric_job *j, size_t sizes[6])
{
    const size_t per_seq = j->kind == METRIC_DISC ? 1 : j->steps;
    size_t seq_rows, out_rows;
    if (!grugan__mul_size(j->rows, j->steps, &seq_rows)) return false;
    out_rows = j->rows * per_seq; /* at most seq_rows */
    sizes[1] = j->kind == METRIC_DISC ? 0 : seq_rows;
    sizes[4] = sizes[5] = out_rows;
    return grugan__mul_size(seq_rows, j->in, &sizes[0]) &&
           grugan__mul_size(out_rows, j->H, &sizes[2]) &&
           grugan__mul_size(out_rows, j->H, &sizes[3]);
}

/* Builds a worker (its structs already zeroed, params and net initialized). */
static int worker_setup(grugan_context *ctx, const grugan__gru_shape *shape,
                        const metric_job *j, worker *w)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    const size_t head_w_shape[2] = {1, j->H}, head_b_shape[1] = {1};
    size_t sizes[6], total = 0;
    float *p;
    int rc;

    if ((rc = grugan__params_add_gru(&w->params, shape, "gru.", &w->gru_first)) != GRUGAN_OK)
        return rc;
    w->head_w = w->params.n_floats;
    if ((rc = grugan__params_add(&w->params, "head.weight", 2, head_w_shape)) != GRUGAN_OK)
        return rc;
    w->head_b = w->params.n_floats;
    if ((rc = grugan__params_add(&w->params, "head.bias", 1, head_b_shape)) != GRUGAN_OK)
        return rc;
    if ((rc = grugan__params_allocate(&w->params)) != GRUGAN_OK) return rc;
    grugan__gru_init(&w->net, shape, c, w->params.values + w->gru_first,
                     w->params.grads + w->gru_first);
    w->net.threads = j->threads;
    if ((rc = grugan__gru_reserve(&w->net, j->rows, j->steps)) != GRUGAN_OK) return rc;
    if ((rc = grugan_optimizer_create(ctx, NULL, &w->params, &w->opt, NULL)) != GRUGAN_OK)
        return rc;
    if ((rc = grugan_optimizer_set(w->opt, GRUGAN_KEY_THREADS, j->threads)) != GRUGAN_OK)
        return GRUGAN_E_INTERNAL;
    if (j->kind == METRIC_DISC) {
        w->perm_real = grugan__calloc(c, j->n_real, sizeof *w->perm_real);
        if (!w->perm_real) return GRUGAN_E_NOMEM;
    }
    w->perm_synth = grugan__calloc(c, j->n_synth, sizeof *w->perm_synth);
    if (!w->perm_synth) return GRUGAN_E_NOMEM;
    if (!buffer_floats(j, sizes)) return GRUGAN_E_SIZE;
    for (int i = 0; i < 6; i++)
        if (!grugan__add_size(total, sizes[i], &total)) return GRUGAN_E_SIZE;
    w->buf = p = grugan__calloc(c, total, sizeof(float));
    if (!w->buf) return GRUGAN_E_NOMEM;
    w->x = p; p += sizes[0];
    w->y = p; p += sizes[1];
    w->h = p; p += sizes[2];
    w->dh = p; p += sizes[3];
    w->logit = p; p += sizes[4];
    w->dlogit = p;
    return GRUGAN_OK;
}

/* Fresh weights (the library's defaults: torch.nn.GRU and torch.nn.Linear,
 * U(-1/sqrt(H), 1/sqrt(H))) and a fresh Adam state for repetition `rep`. */
static int start_repetition(const metric_job *j, worker *w, size_t rep, const float *zeros)
{
    const uint64_t init_seed = repetition_seed(j->seed, GRUGAN__RNG_INIT, j->kind, rep);
    const float bound = grugan__fan_in_bound(j->H);
    grugan__gru_init_params(&w->net.shape, w->params.values + w->gru_first, init_seed);
    grugan__init_uniform(w->params.values + w->head_w, j->H, bound, init_seed,
                         GRUGAN__INIT_STREAM_HEAD, 0);
    grugan__init_uniform(w->params.values + w->head_b, 1, bound, init_seed,
                         GRUGAN__INIT_STREAM_HEAD, j->H);
    return grugan_optimizer_state_write(w->opt, zeros, 2 * w->params.n_floats, 0);
}

/* One Adam update from the gradients just computed. */
static int update(worker *w, size_t rep, size_t iter)
{
    const int rc = grugan_optimizer_step(w->opt);
    if (rc != GRUGAN_OK) {
        w->rc = rc;
        w->fail_rep = rep;
        w->fail_iter = iter;
        snprintf(w->message, sizeof w->message, "%s", grugan_optimizer_message(w->opt));
    }
    return rc;
}

/* ---- discriminative score ------------------------------------------------ */

/* Copies sequences src[idx[i]] (T, F) for i < k into dst (k, T, F). */
static void gather(float *dst, const float *src, const size_t *idx, size_t k, size_t seq)
{
    for (size_t i = 0; i < k; i++) memcpy(dst + i * seq, src + idx[i] * seq, seq * sizeof *dst);
}

/* Probabilities sigmoid(logit) of the classifier for `rows` sequences in
 * w->x; the final states are left in w->h. */
static void classify(const metric_job *j, worker *w, size_t rows)
{
    const float *P = w->params.values;
    grugan__gru_forward(&w->net, rows, j->T, w->x, j->F, NULL, NULL, NULL, w->h);
    grugan__linear_forward(w->logit, w->h, P + w->head_w, P + w->head_b, rows, j->H, 1,
                           j->threads);
    grugan__sigmoid_forward(w->logit, w->logit, rows, j->threads);
}

/* Correct answers (probability > 0.5 for real, not for synthetic) among the
 * sequences src[idx[i]], i < n, evaluated in chunks of j->rows. */
static size_t count_correct(const metric_job *j, worker *w, const float *src, const size_t *idx,
                            size_t n, bool is_real)
{
    const size_t seq = j->T * j->F;
    size_t correct = 0;
    for (size_t first = 0; first < n; first += j->rows) {
        const size_t k = n - first < j->rows ? n - first : j->rows;
        gather(w->x, src, idx + first, k, seq);
        classify(j, w, k);
        for (size_t i = 0; i < k; i++) correct += (w->logit[i] > 0.5f) == is_real;
    }
    return correct;
}

/*
 * One repetition: split each set 80/20 (train_test_divide), train for
 * j->iterations minibatches of b_real real + b_synth synthetic training
 * sequences (batch_generator) on
 *   loss = mean_real softplus(-l) + mean_synth softplus(l)
 * (sigmoid cross-entropy, targets 1 and 0), then score |accuracy - 0.5| on
 * the union of the two test parts.
 */
static int disc_repetition(const metric_job *j, worker *w, size_t rep, const float *zeros,
                           double *score)
{
    const size_t seq = j->T * j->F, br = j->b_real, bs = j->b_synth, rows = br + bs;
    const size_t n_te_real = j->n_real - j->n_tr_real, n_te_synth = j->n_synth - j->n_tr_synth;
    const float inv_br = (float)(1.0 / (double)br), inv_bs = (float)(1.0 / (double)bs);
    float *P = w->params.values, *G = w->params.grads;
    grugan__rng rng;
    size_t correct;
    int rc;

    if ((rc = start_repetition(j, w, rep, zeros)) != GRUGAN_OK) return rc;
    grugan__rng_init(&rng, repetition_seed(j->seed, GRUGAN__RNG_SPLIT, j->kind, rep),
                     GRUGAN__RNG_SPLIT);
    if (j->fixed_split) {
        for (size_t i = 0; i < j->n_real; i++) w->perm_real[i] = i;
        for (size_t i = 0; i < j->n_synth; i++) w->perm_synth[i] = i;
    } else {
        permutation(&rng, w->perm_real, j->n_real);
        permutation(&rng, w->perm_synth, j->n_synth);
    }

    for (size_t it = 0; it < j->iterations; it++) {
        draw_subset(&rng, w->perm_real, j->n_tr_real, br);
        draw_subset(&rng, w->perm_synth, j->n_tr_synth, bs);
        gather(w->x, j->real, w->perm_real, br, seq);
        gather(w->x + br * seq, j->synth, w->perm_synth, bs, seq);
        classify(j, w, rows);
        /* d loss / d logit = (sigmoid(l) - target) / (rows of that part) */
        for (size_t i = 0; i < br; i++) w->dlogit[i] = (w->logit[i] - 1.0f) * inv_br;
        for (size_t i = br; i < rows; i++) w->dlogit[i] = w->logit[i] * inv_bs;
        memset(G, 0, w->params.n_floats * sizeof *G);
        grugan__linear_backward(w->dh, G + w->head_w, G + w->head_b, w->dlogit, w->h,
                                P + w->head_w, rows, j->H, 1, 0, j->threads);
        grugan__gru_backward(&w->net, NULL, w->dh, NULL, 0, NULL, true);
        if ((rc = update(w, rep, it)) != GRUGAN_OK) return rc;
    }

    correct = count_correct(j, w, j->real, w->perm_real + j->n_tr_real, n_te_real, true) +
              count_correct(j, w, j->synth, w->perm_synth + j->n_tr_synth, n_te_synth, false);
    *score = fabs((double)correct / (double)(n_te_real + n_te_synth) - 0.5);
    return GRUGAN_OK;
}

/* ---- predictive score ---------------------------------------------------- */

/* x (k, T-1, F-1) = features 0..F-2 at steps 0..T-2 and y (k, T-1) =
 * feature F-1 at steps 1..T-1 of the sequences src[idx[i]] (or src[first+i]
 * when idx is NULL), i < k. */
static void gather_pred(const metric_job *j, worker *w, const float *src, const size_t *idx,
                        size_t first, size_t k)
{
    const size_t T = j->T, F = j->F, S = T - 1, I = F - 1;
    for (size_t i = 0; i < k; i++) {
        const float *s = src + (idx ? idx[i] : first + i) * T * F;
        float *x = w->x + i * S * I, *y = w->y + i * S;
        for (size_t t = 0; t < S; t++) {
            memcpy(x + t * I, s + t * F, I * sizeof *x);
            y[t] = s[(t + 1) * F + I];
        }
    }
}

/* Predictions sigmoid(W h_t + b) for every step of `k` sequences in w->x,
 * into w->logit (k, T-1); the GRU outputs are left in w->h. */
static void predict(const metric_job *j, worker *w, size_t k)
{
    const float *P = w->params.values;
    const size_t n = k * j->steps;
    grugan__gru_forward(&w->net, k, j->steps, w->x, j->in, NULL, NULL, w->h, NULL);
    grugan__linear_forward(w->logit, w->h, P + w->head_w, P + w->head_b, n, j->H, 1,
                           j->threads);
    grugan__sigmoid_forward(w->logit, w->logit, n, j->threads);
}

/*
 * One repetition: train on j->iterations minibatches of b_synth random
 * synthetic sequences with loss = mean |y - sigmoid(W h_t + b)| over every
 * (sequence, step) (tf.losses.absolute_difference), then score the mean over
 * the real sequences of each one's mean absolute error over its T-1 steps.
 */
static int pred_repetition(const metric_job *j, worker *w, size_t rep, const float *zeros,
                           double *score)
{
    const size_t k = j->b_synth, S = j->steps, n = k * S;
    const float inv_n = (float)(1.0 / (double)n);
    float *P = w->params.values, *G = w->params.grads;
    grugan__rng rng;
    double total = 0.0;
    int rc;

    if ((rc = start_repetition(j, w, rep, zeros)) != GRUGAN_OK) return rc;
    grugan__rng_init(&rng, repetition_seed(j->seed, GRUGAN__RNG_SPLIT, j->kind, rep),
                     GRUGAN__RNG_SPLIT);
    for (size_t i = 0; i < j->n_synth; i++) w->perm_synth[i] = i;

    for (size_t it = 0; it < j->iterations; it++) {
        draw_subset(&rng, w->perm_synth, j->n_synth, k);
        gather_pred(j, w, j->synth, w->perm_synth, 0, k);
        predict(j, w, k);
        /* d loss / d prediction = sign(prediction - y) / n (0 where equal) */
        for (size_t i = 0; i < n; i++) {
            const float d = w->logit[i] - w->y[i];
            w->dlogit[i] = d > 0.0f ? inv_n : d < 0.0f ? -inv_n : 0.0f;
        }
        grugan__sigmoid_backward(w->dlogit, w->dlogit, w->logit, n, 0, j->threads);
        memset(G, 0, w->params.n_floats * sizeof *G);
        grugan__linear_backward(w->dh, G + w->head_w, G + w->head_b, w->dlogit, w->h,
                                P + w->head_w, n, j->H, 1, 0, j->threads);
        grugan__gru_backward(&w->net, w->dh, NULL, NULL, 0, NULL, true);
        if ((rc = update(w, rep, it)) != GRUGAN_OK) return rc;
    }

    for (size_t first = 0; first < j->n_real; first += j->rows) {
        const size_t m = j->n_real - first < j->rows ? j->n_real - first : j->rows;
        gather_pred(j, w, j->real, NULL, first, m);
        predict(j, w, m);
        for (size_t i = 0; i < m; i++) {
            double sum = 0.0;
            for (size_t t = 0; t < S; t++)
                sum += fabs((double)w->y[i * S + t] - (double)w->logit[i * S + t]);
            total += sum / (double)S;
        }
    }
    *score = total / (double)j->n_real;
    return GRUGAN_OK;
}

/* ---- running the repetitions ------------------------------------------------ */

/* What one worker thread does: repetitions first, first + stride, ... */
typedef struct worker_task {
    const metric_job *job;
    worker *w;
    size_t first, stride, reps;
    const float *zeros;
    double *scores; /* (reps) */
} worker_task;

static void *worker_main(void *arg)
{
    const worker_task *t = arg;
    worker *w = t->w;
    for (size_t r = t->first; r < t->reps; r += t->stride) {
        const int status = t->job->kind == METRIC_DISC
                               ? disc_repetition(t->job, w, r, t->zeros, &t->scores[r])
                               : pred_repetition(t->job, w, r, t->zeros, &t->scores[r]);
        if (status != GRUGAN_OK) {
            if (w->rc == GRUGAN_OK) {
                w->rc = status;
                w->fail_rep = r;
                snprintf(w->message, sizeof w->message, "%s", grugan_optimizer_message(w->opt));
            }
            break;
        }
    }
    return NULL;
}

/* Runs worker 0 on the calling thread and the others on threads of their
 * own. POSIX threads rather than an OpenMP region: the kernels' own
 * (serial) OpenMP regions would be nested in it, and libgomp then pays a
 * futex wake-up per region, which costs more than these tiny models' math.
 * A worker whose thread cannot be started runs on the calling thread. */
static void run_workers(const metric_job *j, worker *workers, size_t n_workers, size_t first,
                        size_t reps, const float *zeros, double *scores)
{
    enum { MAX_WORKERS = 256 };
    worker_task tasks[MAX_WORKERS];
    pthread_t tid[MAX_WORKERS];
    bool started[MAX_WORKERS];
    for (size_t i = 0; i < n_workers; i++) {
        tasks[i].job = j;
        tasks[i].w = &workers[i];
        tasks[i].first = first + i;
        tasks[i].stride = n_workers;
        tasks[i].reps = reps;
        tasks[i].zeros = zeros;
        tasks[i].scores = scores;
        started[i] = i > 0 && pthread_create(&tid[i], NULL, worker_main, &tasks[i]) == 0;
    }
    for (size_t i = 0; i < n_workers; i++)
        if (!started[i]) worker_main(&tasks[i]);
    for (size_t i = 1; i < n_workers; i++)
        if (started[i]) pthread_join(tid[i], NULL);
}

/* ---- the public entry points ----------------------------------------------- */

/* Checks that every value of a (n, T, F) array is finite and in [0, 1]. */
static int check_values(const grugan_context *c, grugan_error *err, const char *name,
                        const float *x, size_t n, size_t T, size_t F)
{
    const size_t count = n * T * F;
    for (size_t i = 0; i < count; i++) {
        const float v = x[i];
        if (v >= 0.0f && v <= 1.0f) continue;
        return grugan__error_set(c, err, isfinite(v) ? GRUGAN_E_RANGE : GRUGAN_E_NONFINITE,
                                 "%s[%zu][%zu][%zu] is %g: the metrics need data scaled to "
                                 "[0, 1]",
                                 name, i / (T * F), i / F % T, i % F, (double)v);
    }
    return GRUGAN_OK;
}

/* Validates the arguments common to both scores and fills the job. */
static int prepare(const grugan_context *c, int kind, const grugan_metric_config *config,
                   const float *real, size_t n_real, const float *synthetic, size_t n_synth,
                   size_t real_test, size_t synth_test, size_t steps, size_t features,
                   const double *mean, grugan_error *err, metric_job *j, size_t *repetitions,
                   int *threads)
{
    const size_t min_n = kind == METRIC_DISC ? 5 : 1;
    grugan_metric_config cfg;
    size_t count;
    double lo, hi;
    int rc;

    if (!real) return grugan__error_set(c, err, GRUGAN_E_INVALID, "real is NULL");
    if (!synthetic) return grugan__error_set(c, err, GRUGAN_E_INVALID, "synthetic is NULL");
    if (!mean) return grugan__error_set(c, err, GRUGAN_E_INVALID, "mean is NULL");
    if (grugan__config_copy(&cfg, sizeof cfg, config) != GRUGAN_OK)
        return grugan__error_set(c, err, GRUGAN_E_INVALID,
                                 "config.struct_size is %zu, expected %zu to %zu "
                                 "(use GRUGAN_METRIC_CONFIG_INIT)",
                                 config->struct_size, sizeof(size_t), sizeof cfg);
    if (steps == 0 || features == 0)
        return grugan__error_set(c, err, GRUGAN_E_SIZE, "steps (%zu) and features (%zu) must "
                                 "be at least 1", steps, features);
    if (kind == METRIC_PRED && (steps < 2 || features < 2))
        return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                 "the predictive score needs steps >= 2 and features >= 2 "
                                 "(given %zu and %zu)", steps, features);
    if (real_test && (real_test >= n_real || synth_test == 0 || synth_test >= n_synth))
        return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                 "test parts of %zu real and %zu synthetic sequences leave no "
                                 "training part (of %zu and %zu)",
                                 real_test, synth_test, n_real, n_synth);
    if (n_real < min_n || n_synth < min_n)
        return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                 "%zu real and %zu synthetic sequences: the %s score needs at "
                                 "least %zu of each",
                                 n_real, n_synth,
                                 kind == METRIC_DISC ? "discriminative" : "predictive", min_n);
    if (!grugan__mul3_size(n_real, steps, features, &count) ||
        !grugan__mul3_size(n_synth, steps, features, &count) ||
        !grugan__add_size(n_real, n_synth, &count))
        return grugan__error_set(c, err, GRUGAN_E_SIZE, "the data sizes overflow");
    grugan__key_bounds(GRUGAN_KEY_THREADS, &lo, &hi);
    if (cfg.threads != 0 && !(cfg.threads >= lo && cfg.threads <= hi))
        return grugan__error_set(c, err, GRUGAN_E_RANGE, "config.threads is %d, not in %g..%g",
                                 (int)cfg.threads, lo, hi);
    if ((rc = check_values(c, err, "real", real, n_real, steps, features)) != GRUGAN_OK)
        return rc;
    if ((rc = check_values(c, err, "synthetic", synthetic, n_synth, steps, features)) !=
        GRUGAN_OK)
        return rc;

    memset(j, 0, sizeof *j);
    j->kind = kind;
    j->real = real;
    j->synth = synthetic;
    j->n_real = n_real;
    j->n_synth = n_synth;
    j->T = steps;
    j->F = features;
    j->H = features / 2 > 0 ? features / 2 : 1;
    j->seed = cfg.seed;
    j->iterations = cfg.iterations ? cfg.iterations
                                   : kind == METRIC_DISC ? DEFAULT_DISC_ITERATIONS
                                                         : DEFAULT_PRED_ITERATIONS;
    {
        const size_t batch = cfg.batch_size ? cfg.batch_size : DEFAULT_BATCH;
        if (kind == METRIC_DISC) {
            /* int(n * 0.8) as Python computes it, or the given split */
            j->fixed_split = real_test > 0;
            j->n_tr_real = j->fixed_split ? n_real - real_test : (size_t)((double)n_real * 0.8);
            j->n_tr_synth = j->fixed_split ? n_synth - synth_test
                                           : (size_t)((double)n_synth * 0.8);
            j->b_real = batch < j->n_tr_real ? batch : j->n_tr_real;
            j->b_synth = batch < j->n_tr_synth ? batch : j->n_tr_synth;
            j->rows = j->b_real + j->b_synth;
            j->steps = steps;
            j->in = features;
        } else {
            j->b_synth = batch < n_synth ? batch : n_synth;
            j->rows = j->b_synth;
            j->steps = steps - 1;
            j->in = features - 1;
        }
    }
    *repetitions = cfg.repetitions ? cfg.repetitions : DEFAULT_REPETITIONS;
    *threads = cfg.threads ? (int)cfg.threads : 1;
    return GRUGAN_OK;
}

/* Mean (sum in repetition order / n) and population std of n scores. */
static void summarize(const double *scores, size_t n, double *mean, double *std)
{
    double sum = 0.0, sq = 0.0, m;
    for (size_t r = 0; r < n; r++) sum += scores[r];
    m = sum / (double)n;
    for (size_t r = 0; r < n; r++) sq += (scores[r] - m) * (scores[r] - m);
    *mean = m;
    if (std) *std = sqrt(sq / (double)n);
}

/* Runs the repetitions of a validated job: all of them into mean and
 * population std, or with `only` the `count` repetitions from `first` into
 * only (count). With real_test > 0 (discriminative only) the last real_test
 * real and synth_test synthetic sequences are the test parts of every
 * repetition. */
static int run_metric(grugan_context *ctx, int kind, const grugan_metric_config *config,
                      const float *real, size_t n_real, const float *synthetic,
                      size_t n_synth, size_t real_test, size_t synth_test, size_t steps,
                      size_t features, double *mean, double *std, size_t first, size_t count,
                      double *only, grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    const char *what = kind == METRIC_DISC ? "discriminative" : "predictive";
    metric_job j;
    grugan__gru_shape shape;
    size_t reps = 0, n_workers, run;
    double unused_mean;
    worker *workers = NULL;
    double *scores = NULL;
    float *zeros = NULL;
    int threads = 1, rc;

    if (err) {
        err->code = GRUGAN_OK;
        err->message[0] = '\0';
    }
    rc = prepare(c, kind, config, real, n_real, synthetic, n_synth, real_test, synth_test,
                 steps, features, only ? &unused_mean : mean, err, &j, &reps, &threads);
    if (rc != GRUGAN_OK) return rc;
    if (only && (!count || first > reps || count > reps - first))
        return grugan__error_set(c, err, GRUGAN_E_RANGE,
                                 "%s score: repetitions %zu..%zu outside the %zu repetitions",
                                 what, first, first + count - (count > 0), reps);
    if (!only) first = 0, count = reps;
    run = first + count;

    /* Repetitions are independent: with several threads they run in parallel,
     * one worker per thread. Inside a repetition the kernels run on one
     * thread: with H = 2 (Sines) every product and loop is far below the size
     * where a second thread pays; measured, one repetition with its kernels
     * on 2 threads was no faster, and on a busy machine up to 10x slower. */
    n_workers = (size_t)threads < count ? (size_t)threads : count;
    j.threads = 1;
    shape.input = j.in;
    shape.hidden = j.H;
    shape.layers = 1;
    shape.dirs = 1;
    shape.reset_before = true;

    scores = grugan__calloc(c, reps, sizeof *scores);
    workers = grugan__calloc(c, n_workers, sizeof *workers);
    if (!scores || !workers) {
        rc = GRUGAN_E_NOMEM;
        goto setup_failed;
    }
    for (size_t i = 0; i < n_workers; i++) {
        grugan__params_init(&workers[i].params, c);
        grugan__gru_init(&workers[i].net, &shape, c, NULL, NULL);
    }
    for (size_t i = 0; i < n_workers; i++)
        if ((rc = worker_setup(ctx, &shape, &j, &workers[i])) != GRUGAN_OK) goto setup_failed;
    /* Adam's state (exp_avg, exp_avg_sq) of a fresh repetition */
    zeros = grugan__calloc(c, 2 * workers[0].params.n_floats, sizeof *zeros);
    if (!zeros) {
        rc = GRUGAN_E_NOMEM;
        goto setup_failed;
    }

    run_workers(&j, workers, n_workers, first, run, zeros, scores);

    {
        const worker *failed = NULL;
        for (size_t i = 0; i < n_workers; i++)
            if (workers[i].rc != GRUGAN_OK && (!failed || workers[i].fail_rep < failed->fail_rep))
                failed = &workers[i];
        if (failed) {
            rc = grugan__error_set(c, err, failed->rc,
                                   "%s score, repetition %zu, iteration %zu: %s", what,
                                   failed->fail_rep, failed->fail_iter, failed->message);
        } else {
            if (only) memcpy(only, scores + first, count * sizeof *only);
            else summarize(scores, reps, mean, std);
            rc = GRUGAN_OK;
        }
    }
    goto done;

setup_failed:
    rc = grugan__error_set(c, err, rc, "%s score: %s", what,
                           rc == GRUGAN_E_NOMEM  ? "cannot allocate the workspace"
                           : rc == GRUGAN_E_SIZE ? "the workspace size overflows"
                                                 : "cannot set up the model");
done:
    if (workers)
        for (size_t i = 0; i < n_workers; i++) worker_release(c, &workers[i]);
    grugan__free(c, workers);
    grugan__free(c, scores);
    grugan__free(c, zeros);
    return rc;
}

int grugan_discriminative_score(grugan_context *ctx, const grugan_metric_config *config,
                                const float *real, size_t n_real, const float *synthetic,
                                size_t n_synth, size_t steps, size_t features, double *mean,
                                double *std, grugan_error *err)
{
    return run_metric(ctx, METRIC_DISC, config, real, n_real, synthetic, n_synth, 0, 0,
                      steps, features, mean, std, 0, 0, NULL, err);
}

int grugan__discriminative_split_score(grugan_context *ctx, const grugan_metric_config *config,
                                       const float *real, size_t n_real, size_t real_test,
                                       const float *synthetic, size_t n_synth,
                                       size_t synth_test, size_t steps, size_t features,
                                       double *mean, grugan_error *err)
{
    return run_metric(ctx, METRIC_DISC, config, real, n_real, synthetic, n_synth,
                      real_test, synth_test, steps, features, mean, NULL, 0, 0, NULL, err);
}

int grugan_predictive_score(grugan_context *ctx, const grugan_metric_config *config,
                            const float *real, size_t n_real, const float *synthetic,
                            size_t n_synth, size_t steps, size_t features, double *mean,
                            double *std, grugan_error *err)
{
    return run_metric(ctx, METRIC_PRED, config, real, n_real, synthetic, n_synth, 0, 0, steps,
                      features, mean, std, 0, 0, NULL, err);
}

int grugan_metric_repetitions(grugan_context *ctx, int32_t kind,
                              const grugan_metric_config *config, size_t first, size_t count,
                              const float *real, size_t n_real, const float *synthetic,
                              size_t n_synth, size_t steps, size_t features, double *scores,
                              grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    if (err) {
        err->code = GRUGAN_OK;
        err->message[0] = '\0';
    }
    if (kind != GRUGAN_METRIC_DISCRIMINATIVE && kind != GRUGAN_METRIC_PREDICTIVE)
        return grugan__error_set(c, err, GRUGAN_E_INVALID, "unknown metric kind %d", (int)kind);
    if (!scores) return grugan__error_set(c, err, GRUGAN_E_INVALID, "NULL scores");
    return run_metric(ctx, kind == GRUGAN_METRIC_DISCRIMINATIVE ? METRIC_DISC : METRIC_PRED,
                      config, real, n_real, synthetic, n_synth, 0, 0, steps, features, NULL,
                      NULL, first, count, scores, err);
}

int grugan_metric_summary(const double *scores, size_t count, double *mean, double *std)
{
    if (!scores || !mean || !count) return !count && scores && mean ? GRUGAN_E_SIZE
                                                                    : GRUGAN_E_INVALID;
    summarize(scores, count, mean, std);
    return GRUGAN_OK;
}

/* ---- statistics ------------------------------------------------------------ */

/* Per-feature moments of one (n, T, F) array, in double, fixed order. */
typedef struct feature_stats {
    double mean, std;
} feature_stats;

static feature_stats moments(const float *x, size_t n, size_t T, size_t F, size_t f)
{
    const size_t rows = n * T;
    feature_stats s;
    double sum = 0.0, sq = 0.0;
    for (size_t r = 0; r < rows; r++) sum += (double)x[r * F + f];
    s.mean = sum / (double)rows;
    for (size_t r = 0; r < rows; r++) {
        const double d = (double)x[r * F + f] - s.mean;
        sq += d * d;
    }
    s.std = sqrt(sq / (double)rows);
    return s;
}

/* Autocorrelation of feature f at `lag` within sequences, pooled over the
 * sequences: the mean of (x_t - m)(x_{t+lag} - m) over every sequence and
 * t < T - lag, divided by the variance (0 for a constant feature). */
static double autocorrelation(const float *x, size_t n, size_t T, size_t F, size_t f,
                              feature_stats s, size_t lag)
{
    const double var = s.std * s.std;
    double sum = 0.0;
    if (var == 0.0) return 0.0;
    for (size_t i = 0; i < n; i++) {
        const float *q = x + i * T * F + f;
        for (size_t t = 0; t + lag < T; t++)
            sum += ((double)q[t * F] - s.mean) * ((double)q[(t + lag) * F] - s.mean);
    }
    return sum / ((double)n * (double)(T - lag)) / var;
}

int grugan_statistics_error(const float *real, size_t n_real, const float *synthetic,
                            size_t n_synth, size_t steps, size_t features, size_t max_lag,
                            double *mean_error, double *std_error, double *acf_error)
{
    double e_mean = 0.0, e_std = 0.0, e_acf = 0.0;
    size_t count;

    if (!real || !synthetic) return GRUGAN_E_INVALID;
    if (n_real == 0 || n_synth == 0 || steps == 0 || features == 0) return GRUGAN_E_SIZE;
    if (!grugan__mul3_size(n_real, steps, features, &count) ||
        !grugan__mul3_size(n_synth, steps, features, &count))
        return GRUGAN_E_SIZE;
    if (acf_error && (max_lag == 0 || max_lag >= steps)) return GRUGAN_E_RANGE;
    if (!grugan__all_finite(real, n_real * steps * features) ||
        !grugan__all_finite(synthetic, n_synth * steps * features))
        return GRUGAN_E_NONFINITE;

    for (size_t f = 0; f < features; f++) {
        const feature_stats a = moments(real, n_real, steps, features, f);
        const feature_stats b = moments(synthetic, n_synth, steps, features, f);
        e_mean += fabs(a.mean - b.mean);
        e_std += fabs(a.std - b.std);
        if (acf_error) {
            double e = 0.0;
            for (size_t lag = 1; lag <= max_lag; lag++)
                e += fabs(autocorrelation(real, n_real, steps, features, f, a, lag) -
                          autocorrelation(synthetic, n_synth, steps, features, f, b, lag));
            e_acf += e / (double)max_lag;
        }
    }
    if (mean_error) *mean_error = e_mean / (double)features;
    if (std_error) *std_error = e_std / (double)features;
    if (acf_error) *acf_error = e_acf / (double)features;
    return GRUGAN_OK;
}
