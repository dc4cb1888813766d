/*
 * test_mpi.c - the MPI adapter under mpirun (tests/shell/test_mpi.sh runs it).
 *
 *   test_mpi plain OUT STEPS            one process, no MPI: the reference
 *   test_mpi train OUT STEPS [CKPT [RESUME_FROM]]
 *                                       every rank trains STEPS steps in all
 *                                       (after loading RESUME_FROM if given),
 *                                       saving CKPT at the end if given
 *   test_mpi fail-step CKPT             rank 1's step fails at step 4 before
 *                                       any reduction; CKPT saved at step 3
 *   test_mpi fail-late CKPT             rank 1's step fails at step 4 after
 *                                       its reductions (its callback stops it)
 *   test_mpi fail-save DIR              rank 0 cannot save (DIR/missing/x)
 *   test_mpi kill CKPT                  saves every step; rank 1 dies
 *                                       (SIGKILL) inside step 5
 *   test_mpi verify CKPT STEP           one process: CKPT loads, is at STEP
 *   test_mpi metric                     both scores with their repetitions
 *                                       spread over the ranks give the bits
 *                                       of the one-process call (5 and 2
 *                                       repetitions); a bad argument fails
 *                                       on every rank
 *
 * OUT receives both models' parameters as raw floats, written by rank 0
 * (compared byte for byte by the shell test). Exit status 0 on success; a
 * message on stderr otherwise.
 */
#include <grugan.h>
#include <grugan_mpi.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 96, T = 8, F = 3, SHARDS = 6, BATCH = 24 };

typedef struct world {
    grugan_dataset *data;
    grugan_generator *gen;
    grugan_discriminator *disc;
    grugan_optimizer *gen_opt, *disc_opt;
    grugan_trainer *tr;
} world;

static int failf(const char *what, const char *message)
{
    fprintf(stderr, "test_mpi: %s: %s\n", what, message);
    return 1;
}

static int world_make(world *w)
{
    static float x[N * T * F];
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_error err = {0, ""};
    unsigned s = 5;
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < F; k++) {
            float f, p;
            s = s * 1103515245u + 12345u;
            f = 0.1f + 0.4f * (float)(s >> 8) / 16777216.0f;
            s = s * 1103515245u + 12345u;
            p = 3.0f * (float)(s >> 8) / 16777216.0f;
            for (size_t t = 0; t < T; t++) x[(i * T + t) * F + k] = sinf(f * (float)t + p);
        }
    memset(w, 0, sizeof *w);
    dc.seed = 3;
    gc.noise_size = 2;
    gc.output_size = F;
    gc.hidden_size = 7;
    gc.num_layers = 2;
    gc.seed = 11;
    dic.kind = GRUGAN_DISC_CONV1D;
    dic.input_size = F;
    dic.sequence_length = T;
    dic.channels = 5;
    dic.conv_layers = 2;
    dic.seed = 12;
    tc.batch_size = BATCH;
    tc.shards = SHARDS;
    tc.total_steps = 1000;
    tc.select_every = -1;
    if (grugan_dataset_from_array(NULL, &dc, x, N, T, F, NULL, 0, NULL, &w->data, &err) ||
        grugan_generator_create(NULL, &gc, &w->gen, &err) ||
        grugan_discriminator_create(NULL, &dic, &w->disc, &err) ||
        grugan_optimizer_create(NULL, NULL, grugan_generator_params(w->gen), &w->gen_opt, &err) ||
        grugan_optimizer_create(NULL, NULL, grugan_discriminator_params(w->disc), &w->disc_opt,
                                &err) ||
        grugan_trainer_create(NULL, &tc, w->gen, w->disc, w->gen_opt, w->disc_opt, w->data,
                              &w->tr, &err))
        return failf("setup", err.message);
    return 0;
}

static void world_free(world *w)
{
    grugan_trainer_free(w->tr);
    grugan_optimizer_free(w->gen_opt);
    grugan_optimizer_free(w->disc_opt);
    grugan_generator_free(w->gen);
    grugan_discriminator_free(w->disc);
    grugan_dataset_free(w->data);
}

/* Both models' parameters, raw, into path. */
static int dump(const world *w, const char *path)
{
    grugan_params *both[2] = {grugan_generator_params(w->gen),
                              grugan_discriminator_params(w->disc)};
    FILE *f = fopen(path, "wb");
    if (!f) return failf(path, "cannot open");
    for (int m = 0; m < 2; m++) {
        const size_t n = grugan_params_num_scalars(both[m]);
        float *v = malloc(n * sizeof *v);
        size_t at = 0;
        for (size_t i = 0; v && i < grugan_params_count(both[m]); i++) {
            const char *name;
            size_t ndim, shape[4], k = 1;
            grugan_params_info(both[m], i, &name, &ndim, shape);
            for (size_t d = 0; d < ndim; d++) k *= shape[d];
            grugan_params_read(both[m], i, v + at, k);
            at += k;
        }
        if (!v || fwrite(v, sizeof *v, n, f) != n) {
            free(v);
            fclose(f);
            return failf(path, "cannot write");
        }
        free(v);
    }
    return fclose(f) == 0 ? 0 : failf(path, "cannot close");
}

static uint64_t step_of(const grugan_trainer *tr)
{
    grugan_progress p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    grugan_trainer_progress(tr, &p);
    return p.step;
}

/* ---- failures injected on rank 1 ------------------------------------------ */

typedef struct injector {
    grugan_mpi *m;
    grugan_trainer *tr;
    int rank;
    uint64_t at_step;  /* the step (1-based) that fails */
    int kill;          /* die instead of failing */
} injector;

/* A reducer that fails (or dies) on rank 1 in step at_step, before the
 * step's first reduction; grugan_mpi_reduce otherwise. */
static int injecting_reduce(float *buffer, size_t count, int32_t what, void *user)
{
    injector *in = user;
    if (in->rank == 1 && step_of(in->tr) + 1 == in->at_step) {
        if (in->kill) raise(SIGKILL);
        return 7;
    }
    return grugan_mpi_reduce(buffer, count, what, in->m);
}

/* A progress callback that stops rank 1's step at_step (after its updates). */
static int late_stop(const grugan_progress *p, void *user)
{
    const injector *in = user;
    return in->rank == 1 && p->step == in->at_step;
}

/* Runs steps until step `last` or a failure; saves ckpt after every step
 * when every_step, else after step save_at. Returns the failing status. */
static int run_to(grugan_mpi *m, grugan_trainer *tr, uint64_t last, const char *ckpt,
                  int every_step, uint64_t save_at)
{
    int rc;
    while (step_of(tr) < last) {
        if ((rc = grugan_mpi_step(m, 0, NULL)) != GRUGAN_OK) return rc;
        if (ckpt && (every_step || step_of(tr) == save_at) &&
            (rc = grugan_mpi_save(m, ckpt)) != GRUGAN_OK)
            return rc;
    }
    return GRUGAN_OK;
}

static int expect_failure(grugan_mpi *m, int rc, int code, const char *needle)
{
    if (rc != code) {
        fprintf(stderr, "test_mpi: rank %lld: status %d (%s), expected %d: %s\n",
                (long long)grugan_mpi_rank(m), rc, grugan_status_string(rc), code,
                grugan_mpi_message(m));
        return 1;
    }
    if (!strstr(grugan_mpi_message(m), needle)) {
        fprintf(stderr, "test_mpi: rank %lld: message \"%s\" lacks \"%s\"\n",
                (long long)grugan_mpi_rank(m), grugan_mpi_message(m), needle);
        return 1;
    }
    if (grugan_mpi_rank(m) == 0) printf("test_mpi: rank 0 got: %s\n", grugan_mpi_message(m));
    return 0;
}

/* The metric mode (see the top). */
static int metric_checks(void)
{
    enum { MN = 30, MT = 6, MF = 3 };
    static float real[MN * MT * MF], fake[MN * MT * MF];
    const int32_t kinds[2] = {GRUGAN_METRIC_DISCRIMINATIVE, GRUGAN_METRIC_PREDICTIVE};
    grugan_error err = {0, ""};
    int rank = 0, bad = 0;
    unsigned s = 9;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (size_t i = 0; i < MN * MT * MF; i++) {
        s = s * 1103515245u + 12345u;
        real[i] = 0.5f + 0.4f * sinf((float)(i % MT) * 0.7f + (float)(i / (MT * MF)));
        fake[i] = (float)(s >> 8) / 16777216.0f;
    }
    for (int k = 0; k < 2; k++)
        for (size_t reps = 5; reps >= 2; reps = reps == 5 ? 2 : 0) {
            grugan_metric_config c = GRUGAN_METRIC_CONFIG_INIT;
            double mean = -1, std = -1, one_mean = -2, one_std = -2;
            int rc;
            c.repetitions = reps;
            c.iterations = 10;
            c.batch_size = 8;
            c.seed = 4;
            rc = (k == 0 ? grugan_discriminative_score : grugan_predictive_score)(
                NULL, &c, real, MN, fake, MN, MT, MF, &one_mean, &one_std, &err);
            if (rc != GRUGAN_OK) return failf("one-process score", err.message);
            rc = grugan_mpi_metric_score(MPI_COMM_WORLD, NULL, kinds[k], &c, real, MN, fake, MN,
                                         MT, MF, &mean, &std, &err);
            if (rc != GRUGAN_OK) return failf("spread score", err.message);
            if (memcmp(&mean, &one_mean, sizeof mean) || memcmp(&std, &one_std, sizeof std)) {
                fprintf(stderr, "test_mpi: rank %d, kind %d, %zu repetitions: %.17g +- %.17g, "
                                "one process %.17g +- %.17g\n",
                        rank, (int)kinds[k], reps, mean, std, one_mean, one_std);
                bad = 1;
            }
        }
    {
        /* NaN in the data of the last rank only: every rank fails alike */
        grugan_metric_config c = GRUGAN_METRIC_CONFIG_INIT;
        int size = 1, rc;
        double mean;
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        c.repetitions = 3;
        c.iterations = 5;
        if (rank == size - 1) fake[7] = NAN;
        rc = grugan_mpi_metric_score(MPI_COMM_WORLD, NULL, GRUGAN_METRIC_DISCRIMINATIVE, &c,
                                     real, MN, fake, MN, MT, MF, &mean, NULL, &err);
        if (rc != GRUGAN_E_NONFINITE || err.code != rc || !strstr(err.message, "rank ")) {
            fprintf(stderr, "test_mpi: rank %d: a NaN gave %d: %s\n", rank, rc, err.message);
            bad = 1;
        } else if (rank == 0) {
            printf("test_mpi: rank 0 got: %s\n", err.message);
        }
    }
    return bad;
}

static int run_mpi(int argc, char **argv)
{
    const char *mode = argv[1];
    world w;
    grugan_mpi *m = NULL;
    grugan_error err = {0, ""};
    injector in;
    int rc, bad = 1;
    if (world_make(&w) != 0) return 1;
    if ((rc = grugan_mpi_attach(w.tr, MPI_COMM_WORLD, &m, &err)) != GRUGAN_OK) {
        failf("attach", err.message);
        goto done;
    }
    memset(&in, 0, sizeof in);
    in.m = m;
    in.tr = w.tr;
    in.rank = (int)grugan_mpi_rank(m);
    in.at_step = 4;
    if (strcmp(mode, "train") == 0 && argc >= 4) {
        const char *ckpt = argc > 4 ? argv[4] : NULL, *from = argc > 5 ? argv[5] : NULL;
        if (from && (rc = grugan_mpi_load(m, from)) != GRUGAN_OK) {
            failf("load", grugan_mpi_message(m));
            goto done;
        }
        if ((rc = run_to(m, w.tr, strtoull(argv[3], NULL, 10), NULL, 0, 0)) != GRUGAN_OK ||
            (ckpt && (rc = grugan_mpi_save(m, ckpt)) != GRUGAN_OK)) {
            failf("train", grugan_mpi_message(m));
            goto done;
        }
        bad = in.rank == 0 ? dump(&w, argv[2]) : 0;
    } else if (strcmp(mode, "fail-step") == 0 || strcmp(mode, "kill") == 0) {
        in.kill = mode[0] == 'k';
        if (in.kill) in.at_step = 5;
        grugan_trainer_set_reducer(w.tr, in.rank, grugan_mpi_size(m), injecting_reduce, &in);
        rc = run_to(m, w.tr, 10, argv[2], in.kill, 3);
        bad = expect_failure(m, rc, GRUGAN_E_ABORTED, "rank 1, in a step: step 4");
    } else if (strcmp(mode, "fail-late") == 0) {
        grugan_trainer_set_callback(w.tr, late_stop, &in);
        rc = run_to(m, w.tr, 10, argv[2], 0, 3);
        bad = expect_failure(m, rc, GRUGAN_E_ABORTED, "rank 1, in a step: stopped by the progress");
    } else if (strcmp(mode, "fail-save") == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/missing/x.safetensors", argv[2]);
        rc = run_to(m, w.tr, 3, path, 0, 2);
        bad = expect_failure(m, rc, GRUGAN_E_IO, "rank 0: ") ||
              (step_of(w.tr) != 2 && failf("fail-save", "did not stop at step 2"));
    } else {
        failf(mode, "unknown mode or missing arguments");
    }
done:
    grugan_mpi_free(m);
    world_free(&w);
    return bad;
}

int main(int argc, char **argv)
{
    world w;
    int status = 1;
    if (argc < 2 || (argc < 3 && strcmp(argv[1], "metric") != 0))
        return failf("usage", "test_mpi MODE ARGS (see the source)");
    if (strcmp(argv[1], "plain") == 0 && argc == 4) {
        /* the reference: one process, all six shards, no reducer */
        const uint64_t steps = strtoull(argv[3], NULL, 10);
        if (world_make(&w) != 0) return 1;
        status = 0;
        while (!status && step_of(w.tr) < steps)
            if (grugan_trainer_step(w.tr) != GRUGAN_OK)
                status = failf("step", grugan_trainer_message(w.tr));
        status = status || dump(&w, argv[2]);
        world_free(&w);
        return status;
    }
    if (strcmp(argv[1], "verify") == 0 && argc == 4) {
        if (world_make(&w) != 0) return 1;
        if (grugan_trainer_load(w.tr, argv[2]) != GRUGAN_OK)
            status = failf(argv[2], grugan_trainer_message(w.tr));
        else if (step_of(w.tr) != strtoull(argv[3], NULL, 10))
            status = failf(argv[2], "not at the expected step");
        else
            status = 0;
        world_free(&w);
        return status;
    }
    MPI_Init(&argc, &argv);
    status = strcmp(argv[1], "metric") == 0 ? metric_checks() : run_mpi(argc, argv);
    MPI_Finalize();
    return status;
}
