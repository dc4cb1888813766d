/*
 * evaluate_mpi - evaluate with the repetitions of the discriminative and
 * the predictive score spread over MPI processes (grugan_mpi_metric_score,
 * include/grugan_mpi.h): rank r runs repetitions [r R / p, (r+1) R / p),
 * every score is the bits of `evaluate` with the same options, and the
 * first process prints and writes --plot. The options are evaluate's.
 *
 *   mpirun -np 5 evaluate_mpi REAL SYNTHETIC [options]   (--help lists them)
 *
 * Built by `make mpi`. This file only supplies the MPI score call; the
 * program is examples/evaluate.c.
 */
#define EVALUATE_NO_MAIN
#include "../evaluate.c"

#include <grugan_mpi.h>

static int reached = 0; /* this process got to the scores (a collective call) */

static int mpi_score(int32_t kind, const grugan_metric_config *mc, const float *real,
                     size_t n_real, const float *synthetic, size_t n_synth, size_t steps,
                     size_t features, double *mean, double *std, grugan_error *err)
{
    reached = 1;
    return grugan_mpi_metric_score(MPI_COMM_WORLD, NULL, kind, mc, real, n_real, synthetic,
                                   n_synth, steps, features, mean, std, err);
}

/* --help and the option errors leave through exit(): finalize MPI then too. */
static void finalize(void)
{
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
}

int main(int argc, char **argv)
{
    int rank = 0, size = 1, status;
    MPI_Init(&argc, &argv);
    atexit(finalize);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* the first process speaks for all; the others keep their errors only */
    if (rank != 0 && !freopen("/dev/null", "w", stdout)) return 1;
    status = evaluate_main(argc, argv, mpi_score, rank);
    if (status == 1 && size > 1 && !reached)
        MPI_Abort(MPI_COMM_WORLD, 1); /* failed before the scores: the others may wait there */
    return status;
}
