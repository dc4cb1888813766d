/*
 * grugan_mpi.h - data-parallel training of libgrugan's trainer over MPI
 * (libgrugan_mpi, pkg-config gru_gan_mpi; docs/SCALING.md).
 *
 * An optional small library on top of libgrugan: the core library knows
 * only a reducer callback, rank and world size (grugan_trainer_set_reducer);
 * this one supplies them from an MPI communicator and keeps the ranks in
 * lockstep. Only standard MPI-3 calls are used (Open MPI and MPICH).
 *
 * Every rank creates the same models, optimizers, dataset and trainer (same
 * configuration and seeds, with shards >= the number of ranks), attaches
 * them with grugan_mpi_attach and then drives training with the calls below
 * instead of the trainer's own: all of them are collective (every rank of
 * the communicator calls them, in the same order). Rank 0 writes the files;
 * every rank reads a checkpoint from rank 0's copy. A failure on one rank
 * (a failed step, save or load) makes the call fail on every rank with the
 * same status and a message that names the rank, so that all ranks stop
 * together; a rank that dies is the MPI runtime's business (mpirun ends the
 * others), and the last checkpoint is intact because saves are atomic.
 *
 * Conventions are libgrugan's: functions return GRUGAN_OK or a negative
 * GRUGAN_E_* code, grugan_mpi_message gives the handle's message, nothing is
 * printed, MPI errors keep the communicator's error handler (by default they
 * end the job).
 */
#ifndef GRUGAN_MPI_H
#define GRUGAN_MPI_H

#include <grugan.h>
#include <mpi.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GRUGAN_MPI_BUILDING) && defined(__GNUC__)
#define GRUGAN_MPI_API __attribute__((visibility("default")))
#else
#define GRUGAN_MPI_API
#endif

/** A trainer attached to an MPI communicator. */
typedef struct grugan_mpi grugan_mpi;

/**
 * Collective over `comm`: makes `tr` worker rank-of-`comm` of
 * size-of-`comm` (grugan_trainer_set_reducer with grugan_mpi_reduce) and
 * checks that every rank holds the same training state (a hash of the
 * trainer's checkpoint bytes: models, optimizers, counters). MPI must be
 * initialized. The handle duplicates `comm` (its messages never mix with
 * the caller's) and borrows `tr`: free the handle (grugan_mpi_free) before
 * the trainer. Fails on every rank alike: GRUGAN_E_INVALID (NULL tr or out,
 * MPI not initialized, MPI_COMM_NULL), GRUGAN_E_RANGE (more ranks than the
 * trainer's shards), GRUGAN_E_STATE (the ranks' states differ),
 * GRUGAN_E_NOMEM. `err` (may be NULL) receives the code and a message.
 */
GRUGAN_MPI_API int grugan_mpi_attach(grugan_trainer *tr, MPI_Comm comm, grugan_mpi **out,
                                     grugan_error *err);

/** Collective: detaches the trainer (back to one worker) and frees the
 *  handle and its communicator. NULL is accepted. */
GRUGAN_MPI_API void grugan_mpi_free(grugan_mpi *m);

/** This process's rank and the number of ranks (-1 for a NULL handle). */
GRUGAN_MPI_API int64_t grugan_mpi_rank(const grugan_mpi *m);
GRUGAN_MPI_API int64_t grugan_mpi_size(const grugan_mpi *m);

/** The message of the last failed call on this handle ("" after success). */
GRUGAN_MPI_API const char *grugan_mpi_message(const grugan_mpi *m);

/**
 * Collective: one training step on every rank (grugan_trainer_step), then
 * one small MPI_Allreduce that tells every rank whether some rank failed,
 * whether all are at the same step, and whether some rank asks to stop:
 * `request_stop` non-zero (e.g. after Ctrl-C), or its trainer finished
 * (steps, time budget or patience: the ranks' clocks differ, so one may
 * finish before the others). *stop (may be NULL) receives 1 when the ranks
 * should stop after this step, 0 otherwise; a rank whose trainer had not
 * finished itself then still has the final ranking to run
 * (grugan_trainer_rank_final), which gives the same result on every rank.
 * On a failure of one rank every rank returns that rank's status with the
 * message "rank R, step N: ..."; the weights may then differ between ranks
 * (some updates of the step may have been applied): stop and resume from
 * the last checkpoint. GRUGAN_E_STATE when the ranks are out of step (they
 * were not created alike).
 */
GRUGAN_MPI_API int grugan_mpi_step(grugan_mpi *m, int32_t request_stop, int32_t *stop);

/** Collective: rank 0 saves the trainer's checkpoint to `path`
 *  (grugan_trainer_save: atomic, the previous file is intact on failure);
 *  every rank returns rank 0's status and message. */
GRUGAN_MPI_API int grugan_mpi_save(grugan_mpi *m, const char *path);

/** Collective: rank 0 writes the generator-only export to `path`
 *  (grugan_trainer_export); every rank returns rank 0's status. */
GRUGAN_MPI_API int grugan_mpi_export(grugan_mpi *m, const char *path);

/**
 * Collective: rank 0 reads the checkpoint at `path` (only rank 0 needs to
 * see the file) and sends its bytes to every rank, which loads them with
 * grugan_trainer_load_buffer: all ranks resume from the same state. `path`
 * is read on rank 0 only (NULL is accepted on the others). On a failure of
 * any rank every rank returns its status and message; a rank that failed
 * keeps its previous state, so stop then.
 */
GRUGAN_MPI_API int grugan_mpi_load(grugan_mpi *m, const char *path);

/**
 * The reducer grugan_mpi_attach installs (a grugan_reduce_fn; `user` is the
 * grugan_mpi handle): a small MPI_Allreduce that checks that no rank failed
 * and that all reduce the same `what` and `count`, then MPI_Allreduce with
 * MPI_SUM in place over `buffer` (in pieces of at most 2^30 floats). Exact
 * in any order: every element has at most one non-zero contribution
 * (docs/SCALING.md). Returns non-zero (the step stops) when a rank failed.
 */
GRUGAN_MPI_API int grugan_mpi_reduce(float *buffer, size_t count, int32_t what, void *user);

/**
 * Collective over `comm`: a TimeGAN score with its repetitions spread over
 * the ranks (kind GRUGAN_METRIC_DISCRIMINATIVE or GRUGAN_METRIC_PREDICTIVE;
 * the arguments of grugan_discriminative_score or grugan_predictive_score,
 * the same on every rank). Rank r runs repetitions [r R / p, (r+1) R / p)
 * of the R in `config` (grugan_metric_repetitions), the scores are gathered
 * in repetition order and every rank gets the mean and std
 * (grugan_metric_summary): the bits of the one-process call, for any number
 * of ranks. A failure on any rank fails the call on every rank with the
 * lowest failing rank's status and message in `err` (may be NULL). `ctx`
 * as in the scores (may be NULL).
 */
GRUGAN_MPI_API int grugan_mpi_metric_score(MPI_Comm comm, grugan_context *ctx, int32_t kind,
                                           const grugan_metric_config *config,
                                           const float *real, size_t n_real,
                                           const float *synthetic, size_t n_synth,
                                           size_t steps, size_t features, double *mean,
                                           double *std, grugan_error *err);

#ifdef __cplusplus
}
#endif

#endif
