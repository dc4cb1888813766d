/*
 * train_csv_mpi - train_csv over MPI: every process reads the same data and
 * computes its share of every minibatch (--shards, default the number of
 * processes), the gradients are summed with the MPI adapter
 * (include/grugan_mpi.h), the first process writes the checkpoint, the
 * export and the curve. The options are train_csv's; the results are those
 * of `train_csv --shards S` with the same options, bit for bit.
 *
 *   mpirun -np 2 train_csv_mpi DATA.csv [options]   (--help lists them)
 *
 * Built by `make mpi`. This file only supplies the MPI `runner`; the program
 * is examples/train_csv.c.
 */
#define TRAIN_CSV_NO_MAIN
#include "../train_csv.c"

#include <grugan_mpi.h>

static int mpi_attach(runner *r, grugan_trainer *tr)
{
    grugan_error err = {0, ""};
    grugan_mpi *m = NULL;
    int rc = grugan_mpi_attach(tr, MPI_COMM_WORLD, &m, &err);
    r->tr = tr;
    r->state = m;
    if (rc != GRUGAN_OK) fprintf(stderr, "train_csv_mpi: %s\n", err.message);
    return rc;
}
static void mpi_detach(runner *r)
{
    grugan_mpi_free(r->state);
    r->state = NULL;
}
static int mpi_load(runner *r, const char *path)
{
    return grugan_mpi_load(r->state, path);
}
static int mpi_step(runner *r, int request_stop, int *stop)
{
    int32_t s = 0;
    int rc = grugan_mpi_step(r->state, request_stop, &s);
    *stop = s != 0;
    return rc;
}
static int mpi_save(runner *r, const char *path)
{
    return grugan_mpi_save(r->state, path);
}
static int mpi_export(runner *r, const char *path)
{
    return grugan_mpi_export(r->state, path);
}
static const char *mpi_message(runner *r)
{
    return r->state ? grugan_mpi_message(r->state) : "cannot attach to MPI";
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
    runner r = {0, 1, NULL, mpi_attach, mpi_detach, mpi_load, mpi_step,
                mpi_save, mpi_export, mpi_message, NULL};
    int status;
    MPI_Init(&argc, &argv);
    atexit(finalize);
    MPI_Comm_rank(MPI_COMM_WORLD, &r.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &r.size);
    /* the first process speaks for all; the others keep their errors only */
    if (r.rank != 0 && !freopen("/dev/null", "w", stdout)) return 1;
    status = train_csv_main(argc, argv, &r);
    if (status == 1 && r.size > 1 && !r.tr)
        MPI_Abort(MPI_COMM_WORLD, 1); /* failed before attaching: the others wait there */
    return status;
}
