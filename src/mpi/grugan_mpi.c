/* grugan_mpi.c - the MPI adapter of data-parallel training (include/grugan_mpi.h,
 * docs/SCALING.md). The only file that includes mpi.h.
 *
 * Lockstep: every collective of a step goes through `agree`, one
 * MPI_Allreduce(MAX) of a few integers, before any buffer moves:
 *   [PHASE]  1 in a reduction, 0 at the end of a step
 *   [FAIL]   world - rank of a rank that failed, 0 for none (MAX: the lowest)
 *   [STOP]   1 if a rank asks to stop
 *   [KEY]    what and count of the reduction, or the step count; [NKEY] is
 *            -KEY, so that MAX gives both the largest and the smallest key.
 * A rank whose step failed goes straight to the end-of-step agreement, where
 * it meets the others in their next reduction's: they learn of the failure,
 * stop their step and come to the end of it, and whoever was at the end
 * already agrees once more with them (PHASE said someone was reducing). */
#include <grugan_mpi.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PHASE, FAIL, STOP, KEY, NKEY, NFLAGS };

#define MESSAGE_SIZE 512
#define PIECE ((size_t)1 << 30) /* floats or bytes per MPI call */

struct grugan_mpi {
    grugan_trainer *tr; /* borrowed */
    MPI_Comm comm;      /* our duplicate */
    int rank, size;
    int remote_failure;  /* a reduction of this step learned that another rank failed */
    int mismatch;        /* a reduction of this step found the ranks out of step */
    char message[MESSAGE_SIZE];
};

/* What a failing rank tells the others. */
typedef struct outcome {
    int code;
    char message[MESSAGE_SIZE];
} outcome;

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static void say(grugan_mpi *m, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void fill_error(grugan_error *err, int code, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void say(grugan_mpi *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->message, sizeof m->message, fmt, ap);
    va_end(ap);
}

static void fill_error(grugan_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    if (!err) return;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* The elementwise maximum of every rank's flags, into flags. */
static void agree(grugan_mpi *m, long long flags[NFLAGS])
{
    MPI_Allreduce(MPI_IN_PLACE, flags, NFLAGS, MPI_LONG_LONG, MPI_MAX, m->comm);
}

/* The FAIL flag of this rank. */
static long long fail_flag(const grugan_mpi *m, int failed)
{
    return failed ? (long long)(m->size - m->rank) : 0;
}

/* The failing rank's status and message, on every rank: returns its code and
 * writes "rank R<where>: message" into every rank's message. */
static int share_failure(grugan_mpi *m, long long fail, int code, const char *message,
                         const char *where)
{
    outcome o;
    const int root = m->size - (int)fail;
    memset(&o, 0, sizeof o);
    if (m->rank == root) {
        o.code = code;
        snprintf(o.message, sizeof o.message, "%s", message);
    }
    MPI_Bcast(&o, (int)sizeof o, MPI_BYTE, root, m->comm);
    say(m, "rank %d%s: %s", root, where, o.message);
    return o.code;
}

/* After a call on one rank (`root`): its status and message on every rank. */
static int share_root(grugan_mpi *m, int root, int code, const char *message)
{
    outcome o;
    memset(&o, 0, sizeof o);
    if (m->rank == root) {
        o.code = code;
        snprintf(o.message, sizeof o.message, "%s", code == GRUGAN_OK ? "" : message);
    }
    MPI_Bcast(&o, (int)sizeof o, MPI_BYTE, root, m->comm);
    if (o.code != GRUGAN_OK) say(m, "rank %d: %s", root, o.message);
    return o.code;
}

/* After a call on every rank: the lowest failing rank's status on all. */
static int share_any(grugan_mpi *m, int code, const char *message)
{
    long long flags[NFLAGS] = {0, 0, 0, 0, 0};
    flags[FAIL] = fail_flag(m, code != GRUGAN_OK);
    agree(m, flags);
    if (!flags[FAIL]) return GRUGAN_OK;
    return share_failure(m, flags[FAIL], code, message, "");
}

/* FNV-1a, 64 bits. */
static unsigned long long fnv1a(const unsigned char *p, size_t n)
{
    unsigned long long h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* A hash of the trainer's checkpoint bytes (sets *ok to 0 on failure). */
static long long state_hash(grugan_trainer *tr, int *ok)
{
    size_t size = 0;
    unsigned char *buf;
    long long h;
    *ok = 0;
    grugan_trainer_save_buffer(tr, NULL, 0, &size);
    if (!size || !(buf = malloc(size))) return 0;
    if (grugan_trainer_save_buffer(tr, buf, size, &size) == GRUGAN_OK) *ok = 1;
    h = (long long)(fnv1a(buf, size) >> 1); /* non-negative, so that -h is exact */
    free(buf);
    return h;
}

int grugan_mpi_attach(grugan_trainer *tr, MPI_Comm comm, grugan_mpi **out, grugan_error *err)
{
    grugan_mpi *m;
    int initialized = 0, rc, ok, failed;
    long long flags[NFLAGS] = {0, 0, 0, 0, 0}, h;
    if (out) *out = NULL;
    if (!tr || !out) {
        fill_error(err, GRUGAN_E_INVALID, "grugan_mpi_attach: NULL %s", tr ? "out" : "trainer");
        return GRUGAN_E_INVALID;
    }
    MPI_Initialized(&initialized);
    if (!initialized || comm == MPI_COMM_NULL) {
        fill_error(err, GRUGAN_E_INVALID, "grugan_mpi_attach: %s",
                   initialized ? "MPI_COMM_NULL" : "MPI is not initialized");
        return GRUGAN_E_INVALID;
    }
    /* collective from here on: every rank takes the same path */
    m = calloc(1, sizeof *m);
    failed = m == NULL;
    MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, comm);
    if (failed) {
        free(m);
        fill_error(err, GRUGAN_E_NOMEM, "grugan_mpi_attach: out of memory on a rank");
        return GRUGAN_E_NOMEM;
    }
    m->tr = tr;
    MPI_Comm_dup(comm, &m->comm);
    MPI_Comm_rank(m->comm, &m->rank);
    MPI_Comm_size(m->comm, &m->size);

    rc = grugan_trainer_set_reducer(tr, m->rank, m->size, m->size > 1 ? grugan_mpi_reduce : NULL,
                                    m->size > 1 ? m : NULL);
    if ((rc = share_any(m, rc, grugan_trainer_message(tr))) != GRUGAN_OK) {
        fill_error(err, rc, "grugan_mpi_attach: %s", m->message);
        grugan_trainer_set_reducer(tr, 0, 1, NULL, NULL);
        grugan_mpi_free(m);
        return rc;
    }
    h = state_hash(tr, &ok);
    flags[FAIL] = fail_flag(m, !ok);
    flags[KEY] = h;
    flags[NKEY] = -h;
    agree(m, flags);
    rc = GRUGAN_OK;
    if (flags[FAIL])
        rc = share_failure(m, flags[FAIL], GRUGAN_E_NOMEM,
                           "cannot hash the training state (out of memory)", "");
    else if (flags[KEY] != -flags[NKEY]) {
        rc = GRUGAN_E_STATE;
        say(m, "the ranks hold different training states (models, weights, optimizers or "
               "counters): create them alike, or load the same checkpoint before attaching");
    }
    if (rc != GRUGAN_OK) {
        fill_error(err, rc, "grugan_mpi_attach: %s", m->message);
        grugan_mpi_free(m);
        return rc;
    }
    *out = m;
    return GRUGAN_OK;
}

void grugan_mpi_free(grugan_mpi *m)
{
    if (!m) return;
    grugan_trainer_set_reducer(m->tr, 0, 1, NULL, NULL);
    MPI_Comm_free(&m->comm);
    free(m);
}

int64_t grugan_mpi_rank(const grugan_mpi *m)
{
    return m ? m->rank : -1;
}

int64_t grugan_mpi_size(const grugan_mpi *m)
{
    return m ? m->size : -1;
}

const char *grugan_mpi_message(const grugan_mpi *m)
{
    return m ? m->message : "NULL grugan_mpi handle";
}

int grugan_mpi_reduce(float *buffer, size_t count, int32_t what, void *user)
{
    grugan_mpi *m = user;
    long long flags[NFLAGS] = {1, 0, 0, 0, 0};
    const long long key = (long long)what * (1ll << 48) + (long long)(count & ((1ull << 48) - 1));
    if (!m || (!buffer && count)) return 1;
    flags[KEY] = key;
    flags[NKEY] = -key;
    agree(m, flags);
    if (flags[FAIL]) {
        m->remote_failure = 1;
        return 1;
    }
    if (flags[PHASE] != 1 || flags[KEY] != -flags[NKEY]) {
        m->mismatch = 1;
        return 1;
    }
    for (size_t done = 0; done < count; done += PIECE) {
        const size_t n = count - done < PIECE ? count - done : PIECE;
        MPI_Allreduce(MPI_IN_PLACE, buffer + done, (int)n, MPI_FLOAT, MPI_SUM, m->comm);
    }
    return 0;
}

int grugan_mpi_step(grugan_mpi *m, int32_t request_stop, int32_t *stop)
{
    grugan_progress p;
    long long flags[NFLAGS], mine[NFLAGS];
    int rc, own_failure;
    if (stop) *stop = 0;
    if (!m) return GRUGAN_E_INVALID;
    m->message[0] = '\0';
    m->remote_failure = m->mismatch = 0;
    rc = grugan_trainer_step(m->tr);
    own_failure = rc != GRUGAN_OK && !m->remote_failure && !m->mismatch;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    grugan_trainer_progress(m->tr, &p);

    mine[PHASE] = 0;
    mine[FAIL] = fail_flag(m, own_failure);
    mine[STOP] = request_stop != 0 || p.finished != GRUGAN_FINISHED_NO;
    mine[KEY] = (long long)p.step;
    mine[NKEY] = -(long long)p.step;
    memcpy(flags, mine, sizeof flags);
    agree(m, flags);
    if (flags[PHASE]) {
        /* some rank was still reducing and has now stopped its step: meet it
         * at the end of the step */
        long long again[NFLAGS];
        memcpy(again, mine, sizeof again);
        agree(m, again);
        if (again[FAIL] > flags[FAIL]) flags[FAIL] = again[FAIL];
        flags[STOP] |= again[STOP];
        flags[KEY] = again[KEY];
        flags[NKEY] = again[NKEY];
        if (!flags[FAIL]) m->mismatch = 1;
    }
    if (stop) *stop = flags[STOP] != 0;
    if (flags[FAIL])
        return share_failure(m, flags[FAIL], rc, grugan_trainer_message(m->tr), ", in a step");
    if (m->mismatch || flags[KEY] != -flags[NKEY]) {
        say(m, "the ranks are out of step (steps %lld to %lld, or different reductions): they "
               "were not created alike",
            -flags[NKEY], flags[KEY]);
        return GRUGAN_E_STATE;
    }
    return GRUGAN_OK;
}

int grugan_mpi_save(grugan_mpi *m, const char *path)
{
    int rc = GRUGAN_OK;
    if (!m) return GRUGAN_E_INVALID;
    m->message[0] = '\0';
    if (m->rank == 0) rc = grugan_trainer_save(m->tr, path);
    return share_root(m, 0, rc, grugan_trainer_message(m->tr));
}

int grugan_mpi_export(grugan_mpi *m, const char *path)
{
    int rc = GRUGAN_OK;
    if (!m) return GRUGAN_E_INVALID;
    m->message[0] = '\0';
    if (m->rank == 0) rc = grugan_trainer_export(m->tr, path);
    return share_root(m, 0, rc, grugan_trainer_message(m->tr));
}

/* Reads the whole file at path into a new buffer (rank 0 of grugan_mpi_load). */
static int read_file(const char *path, unsigned char **out, size_t *size, char *why, size_t cap)
{
    FILE *f;
    unsigned char *buf = NULL;
    size_t n = 0, room = 0;
    *out = NULL;
    *size = 0;
    if (!path) {
        snprintf(why, cap, "NULL path");
        return GRUGAN_E_INVALID;
    }
    if (!(f = fopen(path, "rb"))) {
        snprintf(why, cap, "cannot open %s", path);
        return GRUGAN_E_IO;
    }
    for (;;) {
        size_t got;
        if (n == room) {
            unsigned char *bigger;
            room = room ? 2 * room : 1 << 16;
            if (!(bigger = realloc(buf, room))) {
                free(buf);
                fclose(f);
                snprintf(why, cap, "out of memory reading %s", path);
                return GRUGAN_E_NOMEM;
            }
            buf = bigger;
        }
        got = fread(buf + n, 1, room - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        snprintf(why, cap, "cannot read %s", path);
        return GRUGAN_E_IO;
    }
    fclose(f);
    *out = buf;
    *size = n;
    return GRUGAN_OK;
}

int grugan_mpi_load(grugan_mpi *m, const char *path)
{
    unsigned char *bytes = NULL;
    unsigned long long size = 0;
    size_t n = 0;
    char why[MESSAGE_SIZE] = "";
    int rc = GRUGAN_OK;
    if (!m) return GRUGAN_E_INVALID;
    m->message[0] = '\0';
    if (m->rank == 0) {
        rc = read_file(path, &bytes, &n, why, sizeof why);
        size = n;
    }
    if ((rc = share_root(m, 0, rc, why)) != GRUGAN_OK) return rc;
    MPI_Bcast(&size, 1, MPI_UNSIGNED_LONG_LONG, 0, m->comm);
    if (m->rank != 0 && size && !(bytes = malloc((size_t)size))) {
        rc = GRUGAN_E_NOMEM;
        snprintf(why, sizeof why, "out of memory for a checkpoint of %llu bytes", size);
    }
    if ((rc = share_any(m, rc, why)) != GRUGAN_OK) {
        free(bytes);
        return rc;
    }
    for (size_t done = 0; done < (size_t)size; done += PIECE) {
        const size_t k = (size_t)size - done < PIECE ? (size_t)size - done : PIECE;
        MPI_Bcast(bytes + done, (int)k, MPI_BYTE, 0, m->comm);
    }
    rc = grugan_trainer_load_buffer(m->tr, bytes, (size_t)size);
    free(bytes);
    if (rc != GRUGAN_OK) snprintf(why, sizeof why, "%s", grugan_trainer_message(m->tr));
    return share_any(m, rc, why);
}

/* The repetitions of a metric: the documented default when 0. */
#define DEFAULT_REPETITIONS 10

int grugan_mpi_metric_score(MPI_Comm comm, grugan_context *ctx, int32_t kind,
                            const grugan_metric_config *config, const float *real,
                            size_t n_real, const float *synthetic, size_t n_synth, size_t steps,
                            size_t features, double *mean, double *std, grugan_error *err)
{
    grugan_mpi m; /* for share_failure and agree: the communicator, rank and size */
    grugan_error mine = {GRUGAN_OK, ""};
    size_t reps, first, count;
    double *scores = NULL;
    int *counts = NULL, *displs = NULL, rc = GRUGAN_OK, initialized = 0;
    long long flags[NFLAGS] = {0, 0, 0, 0, 0};
    MPI_Initialized(&initialized);
    if (!initialized || comm == MPI_COMM_NULL) {
        fill_error(err, GRUGAN_E_INVALID, "grugan_mpi_metric_score: %s",
                   initialized ? "MPI_COMM_NULL" : "MPI is not initialized");
        return GRUGAN_E_INVALID;
    }
    memset(&m, 0, sizeof m);
    m.comm = comm;
    MPI_Comm_rank(comm, &m.rank);
    MPI_Comm_size(comm, &m.size);
    reps = config && config->repetitions ? config->repetitions : DEFAULT_REPETITIONS;
    if (reps > (size_t)INT32_MAX) {
        fill_error(err, GRUGAN_E_RANGE, "grugan_mpi_metric_score: %zu repetitions", reps);
        return GRUGAN_E_RANGE;
    }
    first = (size_t)m.rank * reps / (size_t)m.size;
    count = (size_t)(m.rank + 1) * reps / (size_t)m.size - first;
    scores = malloc(reps * sizeof *scores);
    counts = malloc((size_t)m.size * sizeof *counts);
    displs = malloc((size_t)m.size * sizeof *displs);
    if (!scores || !counts || !displs) {
        rc = mine.code = GRUGAN_E_NOMEM;
        snprintf(mine.message, sizeof mine.message, "out of memory");
    } else if (count) {
        rc = grugan_metric_repetitions(ctx, kind, config, first, count, real, n_real, synthetic,
                                       n_synth, steps, features, scores + first, &mine);
    } else if (!mean) { /* a rank without repetitions still checks what it can */
        rc = mine.code = GRUGAN_E_INVALID;
        snprintf(mine.message, sizeof mine.message, "mean is NULL");
    }
    flags[FAIL] = fail_flag(&m, rc != GRUGAN_OK);
    agree(&m, flags);
    if (flags[FAIL]) {
        rc = share_failure(&m, flags[FAIL], rc, mine.message, "");
        fill_error(err, rc, "%s", m.message);
    } else {
        for (int r = 0; r < m.size; r++) {
            const size_t f = (size_t)r * reps / (size_t)m.size;
            displs[r] = (int)f;
            counts[r] = (int)((size_t)(r + 1) * reps / (size_t)m.size - f);
        }
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, scores, counts, displs, MPI_DOUBLE,
                       comm);
        rc = grugan_metric_summary(scores, reps, mean, std);
        if (rc != GRUGAN_OK) fill_error(err, rc, "grugan_mpi_metric_score: NULL mean");
        else if (err) err->code = GRUGAN_OK, err->message[0] = '\0';
    }
    free(scores);
    free(counts);
    free(displs);
    return rc;
}
