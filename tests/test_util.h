/* test_util.h - helpers shared by the test files: checked allocation of test
 * arrays, a context whose allocator counts and can fail on purpose, and a
 * small GAN with every handle a trainer needs. */
#ifndef GRUGAN_TEST_UTIL_H
#define GRUGAN_TEST_UTIL_H

#include "grugan.h"
#include "ref_gru.h"

#include <stddef.h>

/* n floats (doubles: zeroed); at least one element; never NULL. */
float *falloc(size_t n);
double *dalloc(size_t n);

/* n floats U(lo, hi) from rng; the same numbers in double go to *as_double
 * when it is not NULL (the caller frees both). */
float *frand(ref_rng *rng, size_t n, double lo, double hi, double **as_double);

/* The whole gradient block into g, tensors in index order (as
 * grugan_params_read_all lays the values out). */
void grads_read_all(const grugan_params *p, float *g);

/* p[i] = v for i < n. */
void fill(float *p, size_t n, float v);

/* x (n, steps, features): per sequence and feature a sine of random
 * frequency in [0.1, 0.5) and phase in [0, 3), from a small LCG seeded with
 * seed (the same numbers on every platform). */
void fill_sines(float *x, size_t n, size_t steps, size_t features, unsigned seed);

/* Every element of p is exactly v (bit for bit), else the test fails. */
void assert_all(const float *p, size_t n, float v, const char *what);

/* |got - want| <= tol * (1 + |want|) elementwise, else the test fails. */
void assert_near(const float *got, const double *want, size_t n, double tol, const char *what,
                 const char *where);

/* Counts allocations through a context; the fail_at-th one fails (0: none). */
typedef struct counting_alloc {
    size_t allocs, frees, live;
    size_t fail_at;
} counting_alloc;

void *counting_alloc_fn(size_t size, void *user);
void counting_free_fn(void *ptr, void *user);

/* A new context allocating through *counts (zeroed first). */
grugan_context *counting_context(counting_alloc *counts);

/* Every handle of a training run: a dataset, both models, two default Adam
 * optimizers and a trainer, all from the context ctx (NULL: the default; not
 * owned). */
typedef struct gan_world {
    grugan_dataset *data;
    grugan_generator *gen;
    grugan_discriminator *disc;
    grugan_optimizer *gen_opt, *disc_opt;
    grugan_trainer *tr;
} gan_world;

/* Creates them from x (n, T, F) (dataset seed data_seed, min-max scaled) and
 * the three configurations; the test fails if any creation does. */
void gan_world_make(gan_world *w, grugan_context *ctx, const float *x, size_t n, size_t T,
                    size_t F, uint64_t data_seed, const grugan_generator_config *gc,
                    const grugan_discriminator_config *dic, const grugan_trainer_config *tc);

/* Frees every handle (not the context) and zeroes *w. */
void gan_world_free(gan_world *w);

#endif
