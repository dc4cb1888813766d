/* sines_mpi_bench.c - steps per second of data-parallel training over MPI on
 * the default Sines model (docs/SCALING.md has the runs). Built by `make mpi`
 * as build/sines_mpi_bench.
 *
 *   mpirun -np P build/sines_mpi_bench [--batch B] [--steps N] [--warmup W]
 *          [--hidden H] [--threads K] [--shards S]
 *
 * Setup as train_sines: TimeGAN's Sines data (10000 x 24 x 5), the library's
 * default generator (3 GRU layers, H 24, noise 5) and the convolutional
 * discriminator, Adam, BCE, moment and difference matching, batch B per rank
 * (default 128: the global batch is P B, in S shards, default S = P), no
 * model selection, K threads per rank (default 1). After W warm-up steps
 * (default 10) it times N steps (default 200) and rank 0 prints one line:
 *   ranks=P batch_per_rank=B shards=S steps_per_s=... cpu_ms_per_step=...
 *   reduce_ms_per_step=... bytes_per_step=... messages_per_step=...
 *   gen_params=... disc_params=...
 *   compute_ms=... comm_min_ms=... free_steps_per_s=...
 * where steps_per_s is from the slowest rank's wall clock, cpu_ms the mean
 * CPU time of a rank per step, reduce_ms the mean wall time a rank spent in
 * the reducer (the wait for the slowest rank included), bytes the floats a
 * rank hands to MPI_Allreduce per step times 4 and messages the collective
 * calls per step (reductions, their agreements and the step's agreement).
 * On a machine shared with other work the wall clock says little about
 * data-parallel training (a step waits for the rank that was descheduled
 * longest), so it also prints the parts that do not depend on the others:
 * compute_ms, the median over steps of the CPU time of a step outside the
 * reducer (the slowest rank's; a rank runs one thread), comm_min_ms, the
 * least wall time over steps spent in the reducer (both ranks there
 * together: the cost of the communication itself), and free_steps_per_s =
 * 1000 / (compute_ms + comm_min_ms), the rate on cores of its own.
 * Runs without mpirun too (one rank).
 */
#include <grugan.h>
#include <grugan_mpi.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { N = 10000, T = 24, F = 5 };

static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* TimeGAN's Sines: x = (sin(f t + p) + 1) / 2, f and p ~ U(0, 0.1). */
static void make_sines(float *x)
{
    unsigned long long s = 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < F; k++) {
            double f, p;
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            f = 0.1 * (double)(s >> 11) / 9007199254740992.0;
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            p = 0.1 * (double)(s >> 11) / 9007199254740992.0;
            for (size_t t = 0; t < T; t++)
                x[(i * T + t) * F + k] = (float)((sin(f * (double)t + p) + 1.0) / 2.0);
        }
}

/* The reducer, timed and counted. */
typedef struct counter {
    grugan_mpi *m;
    double seconds, cpu; /* wall and CPU time in the reducer */
    unsigned long long floats, calls;
} counter;

static int counting_reduce(float *buffer, size_t count, int32_t what, void *user)
{
    counter *c = user;
    const double start = now(CLOCK_MONOTONIC), cpu = now(CLOCK_PROCESS_CPUTIME_ID);
    int rc = grugan_mpi_reduce(buffer, count, what, c->m);
    c->seconds += now(CLOCK_MONOTONIC) - start;
    c->cpu += now(CLOCK_PROCESS_CPUTIME_ID) - cpu;
    c->floats += count;
    c->calls++;
    return rc;
}

static int by_value(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static unsigned long arg(int argc, char **argv, const char *name, unsigned long dflt)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return strtoul(argv[i + 1], NULL, 10);
    return dflt;
}

int main(int argc, char **argv)
{
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_error err = {0, ""};
    grugan_dataset *data = NULL;
    grugan_generator *gen = NULL;
    grugan_discriminator *disc = NULL;
    grugan_optimizer *gen_opt = NULL, *disc_opt = NULL;
    grugan_trainer *tr = NULL;
    grugan_mpi *m = NULL;
    counter c = {NULL, 0, 0, 0, 0};
    double *step_cpu = NULL, *step_comm = NULL, parts[2];
    float *x = malloc((size_t)N * T * F * sizeof *x);
    int rank = 0, size = 1, status = 1;
    unsigned long batch, steps, warmup, hidden, threads, shards;
    double wall = 0, cpu = 0, t0 = 0, c0 = 0, sums[2];

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    batch = arg(argc, argv, "--batch", 128);
    steps = arg(argc, argv, "--steps", 200);
    warmup = arg(argc, argv, "--warmup", 10);
    hidden = arg(argc, argv, "--hidden", 24);
    threads = arg(argc, argv, "--threads", 1);
    shards = arg(argc, argv, "--shards", (unsigned long)size);
    step_cpu = malloc((steps + 1) * sizeof *step_cpu);
    step_comm = malloc((steps + 1) * sizeof *step_comm);
    if (!x || !steps || !batch || !shards || !step_cpu || !step_comm) goto done;
    make_sines(x);
    gc.noise_size = F;
    gc.output_size = F;
    gc.hidden_size = hidden;
    gc.seed = 1;
    dic.kind = GRUGAN_DISC_CONV1D;
    dic.input_size = F;
    dic.sequence_length = T;
    dic.seed = 2;
    tc.batch_size = batch * (unsigned long)size;
    tc.shards = (int64_t)shards;
    tc.threads = (int32_t)threads;
    tc.select_every = -1;
    tc.total_steps = warmup + steps;
    if (grugan_dataset_from_array(NULL, &dc, x, N, T, F, NULL, 0, NULL, &data, &err) ||
        grugan_generator_create(NULL, &gc, &gen, &err) ||
        grugan_discriminator_create(NULL, &dic, &disc, &err) ||
        grugan_optimizer_create(NULL, NULL, grugan_generator_params(gen), &gen_opt, &err) ||
        grugan_optimizer_create(NULL, NULL, grugan_discriminator_params(disc), &disc_opt, &err) ||
        grugan_trainer_create(NULL, &tc, gen, disc, gen_opt, disc_opt, data, &tr, &err) ||
        grugan_mpi_attach(tr, MPI_COMM_WORLD, &m, &err)) {
        fprintf(stderr, "sines_mpi_bench: %s\n", err.message);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    c.m = m;
    if (size > 1) grugan_trainer_set_reducer(tr, rank, size, counting_reduce, &c);
    for (unsigned long i = 0; i < warmup + steps; i++) {
        double cpu_before = now(CLOCK_PROCESS_CPUTIME_ID), in_cpu = c.cpu, in_wall = c.seconds;
        if (i == warmup) {
            MPI_Barrier(MPI_COMM_WORLD);
            t0 = now(CLOCK_MONOTONIC);
            c0 = now(CLOCK_PROCESS_CPUTIME_ID);
            c.seconds = c.cpu = 0;
            c.floats = c.calls = 0;
            cpu_before = c0;
            in_cpu = in_wall = 0;
        }
        if (grugan_mpi_step(m, 0, NULL) != GRUGAN_OK) {
            fprintf(stderr, "sines_mpi_bench: %s\n", grugan_mpi_message(m));
            goto done;
        }
        if (i >= warmup) {
            step_cpu[i - warmup] =
                now(CLOCK_PROCESS_CPUTIME_ID) - cpu_before - (c.cpu - in_cpu);
            step_comm[i - warmup] = c.seconds - in_wall;
        }
    }
    qsort(step_cpu, steps, sizeof *step_cpu, by_value);
    qsort(step_comm, steps, sizeof *step_comm, by_value);
    parts[0] = step_cpu[steps / 2];
    parts[1] = step_comm[0];
    MPI_Allreduce(MPI_IN_PLACE, parts, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    wall = now(CLOCK_MONOTONIC) - t0;
    cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    MPI_Allreduce(MPI_IN_PLACE, &wall, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    sums[0] = cpu;
    sums[1] = c.seconds;
    MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("ranks=%d batch_per_rank=%lu shards=%lu threads=%lu hidden=%lu steps_per_s=%.2f "
               "cpu_ms_per_step=%.3f reduce_ms_per_step=%.3f bytes_per_step=%llu "
               "messages_per_step=%.1f gen_params=%zu disc_params=%zu compute_ms=%.3f "
               "comm_min_ms=%.3f free_steps_per_s=%.2f\n",
               size, batch, shards, threads, hidden, (double)steps / wall,
               1e3 * sums[0] / size / (double)steps, 1e3 * sums[1] / size / (double)steps,
               4 * c.floats / steps,
               size > 1 ? (double)(2 * c.calls) / (double)steps + 1.0 : 0.0,
               grugan_params_num_scalars(grugan_generator_params(gen)),
               grugan_params_num_scalars(grugan_discriminator_params(disc)), 1e3 * parts[0],
               1e3 * parts[1], 1.0 / (parts[0] + parts[1]));
    status = 0;
done:
    grugan_mpi_free(m);
    grugan_trainer_free(tr);
    grugan_optimizer_free(gen_opt);
    grugan_optimizer_free(disc_opt);
    grugan_discriminator_free(disc);
    grugan_generator_free(gen);
    grugan_dataset_free(data);
    free(x);
    free(step_cpu);
    free(step_comm);
    MPI_Finalize();
    return status;
}
