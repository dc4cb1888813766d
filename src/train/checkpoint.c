/* checkpoint.c - saving and restoring the whole training state in the
 * safetensors layout of docs/FORMAT.md. */
#include "io/file.h"
#include "io/safetensors.h"
#include "model/export.h"
#include "model/params.h"
#include "train/trainer_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define FORMAT_NAME GRUGAN__CHECKPOINT_FORMAT
#define FORMAT_VERSION GRUGAN__CHECKPOINT_VERSION
/* Largest checkpoint file read. */
#define CHECKPOINT_CAP ((size_t)1 << 34)

#define FAIL(tr, code, ...) grugan__fail(&(tr)->obj, (code), __VA_ARGS__)

/* META_V1 counters (format version 1), then META_V2 - META_V1 more since
 * version 2, then the three strings. */
enum { META_V1 = 8, META_V2 = 14, META_COUNT = 17, META_VALUE_CAP = 32 };

/* Everything a checkpoint holds besides the two parameter sets, gathered
 * before writing or validated before applying. */
typedef struct state {
    float *gen_opt_state, *disc_opt_state; /* (state_size) each, or NULL */
    size_t gen_opt_n, disc_opt_n;
    uint64_t gen_opt_steps, disc_opt_steps;
    float *scaler; /* (2F): offset, then scale */
    uint64_t step, skipped, epoch, noise_position, data_epoch, data_offset;
    /* version 2: the clock, and model selection's state (the two estimates
     * as the bits of their IEEE doubles, so that they resume exactly) */
    uint64_t elapsed_us, evaluations, best_step, since_best, quality_bits, best_quality_bits;
    /* version 3: the final ranking's candidates (their generators are
     * tensors) */
    uint64_t n_cand, kept, ranked;
    grugan__candidate cand[GRUGAN__MAX_CANDIDATES];
} state;

static void state_release(const grugan_context *ctx, state *s)
{
    grugan__free(ctx, s->gen_opt_state);
    grugan__free(ctx, s->disc_opt_state);
    grugan__free(ctx, s->scaler);
}

/* Allocates the state's arrays for this trainer. */
static int state_alloc(grugan_trainer *tr, state *s)
{
    const grugan_context *ctx = tr->obj.ctx;
    memset(s, 0, sizeof *s);
    s->gen_opt_n = grugan_optimizer_state_size(tr->gen_opt);
    s->disc_opt_n = grugan_optimizer_state_size(tr->disc_opt);
    s->scaler = grugan__calloc(ctx, 2 * tr->F, sizeof(float));
    if (s->gen_opt_n) s->gen_opt_state = grugan__calloc(ctx, s->gen_opt_n, sizeof(float));
    if (s->disc_opt_n) s->disc_opt_state = grugan__calloc(ctx, s->disc_opt_n, sizeof(float));
    if (!s->scaler || (s->gen_opt_n && !s->gen_opt_state) ||
        (s->disc_opt_n && !s->disc_opt_state)) {
        state_release(ctx, s);
        return FAIL(tr, GRUGAN_E_NOMEM, "cannot allocate the checkpoint buffers");
    }
    return GRUGAN_OK;
}

/* The metadata keys, in the order they are written. */
static const char *const meta_keys[META_COUNT] = {
    "step",          "skipped",           "epoch",
    "generator.noise_position", "dataset.epoch", "dataset.offset",
    "generator_optimizer.steps", "discriminator_optimizer.steps",
    "elapsed_microseconds", "selection.evaluations", "selection.best_step",
    "selection.since_best", "selection.quality_bits", "selection.best_quality_bits",
    "format",        "format_version",    "library_version",
};

static uint64_t *meta_field(state *s, size_t i)
{
    uint64_t *fields[META_V2] = {&s->step,        &s->skipped,     &s->epoch,
                                 &s->noise_position, &s->data_epoch, &s->data_offset,
                                 &s->gen_opt_steps, &s->disc_opt_steps,
                                 &s->elapsed_us,  &s->evaluations, &s->best_step,
                                 &s->since_best,  &s->quality_bits, &s->best_quality_bits};
    return i < META_V2 ? fields[i] : NULL;
}

static uint64_t double_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static double bits_double(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}


/* The metadata of the final ranking's candidates (version 3): three counts,
 * then three values per candidate. */
enum { CAND_META = 3 + 3 * GRUGAN__MAX_CANDIDATES, CAND_KEY_CAP = 64 };

typedef struct candidate_meta {
    char keys[CAND_META][CAND_KEY_CAP];
    char values[CAND_META][META_VALUE_CAP];
} candidate_meta;

static void candidate_key(char key[CAND_KEY_CAP], size_t i, const char *what)
{
    snprintf(key, CAND_KEY_CAP, "selection.candidate.%zu.%s", i, what);
}

/* The tensor prefix of candidate i's generator. */
static void candidate_prefix(char prefix[CAND_KEY_CAP], size_t i)
{
    candidate_key(prefix, i, "generator.");
}

/* ---- save ------------------------------------------------------------------------ */

/* Adds the tensors of a parameter set under prefix; names go to `names`
 * (capacity GRUGAN__NAME_CAP + 64 each). */
static void add_params(const grugan_params *p, const float *values, const char *prefix,
                       grugan__st_tensor *t, char (*names)[GRUGAN__NAME_CAP + 64], size_t *n)
{
    for (size_t i = 0; i < p->n_tensors; i++) {
        const grugan__tensor *pt = &p->tensors[i];
        snprintf(names[*n], sizeof names[*n], "%s%s", prefix, pt->name);
        t[*n].name = names[*n];
        t[*n].ndim = pt->ndim;
        t[*n].shape = pt->shape;
        t[*n].data = values + pt->offset;
        (*n)++;
    }
}

/* Serializes the training state into out. */
static int encode(grugan_trainer *tr, grugan__json_out *out)
{
    const grugan_context *ctx = tr->obj.ctx;
    const grugan_params *gp = grugan_generator_params(tr->gen);
    const grugan_params *dp = grugan_discriminator_params(tr->disc);
    const size_t n_cand = tr->sel_n ? tr->n_cand : 0;
    size_t n_tensors = (2 + n_cand) * gp->n_tensors + dp->n_tensors + 4, n = 0;
    size_t shapes[4][1];
    char (*names)[GRUGAN__NAME_CAP + 64];
    char values[META_COUNT][META_VALUE_CAP];
    candidate_meta cm;
    grugan__st_meta meta[META_COUNT + CAND_META + 2 * GRUGAN__ARCH_MAX];
    grugan__arch gen_arch, disc_arch;
    size_t n_meta = META_COUNT;
    grugan__st_tensor *t;
    state s;
    int rc;

    if ((rc = state_alloc(tr, &s)) != GRUGAN_OK) return rc;
    t = grugan__calloc(ctx, n_tensors, sizeof *t);
    names = grugan__calloc(ctx, n_tensors, sizeof *names);
    if (!t || !names) {
        rc = FAIL(tr, GRUGAN_E_NOMEM, "cannot allocate the checkpoint table");
        goto done;
    }
    grugan_optimizer_state_read(tr->gen_opt, s.gen_opt_state, s.gen_opt_n, &s.gen_opt_steps);
    grugan_optimizer_state_read(tr->disc_opt, s.disc_opt_state, s.disc_opt_n, &s.disc_opt_steps);
    grugan_dataset_scaler(tr->data, s.scaler, s.scaler + tr->F);
    grugan_generator_noise_position(tr->gen, &s.noise_position);
    grugan_dataset_position(tr->data, &s.data_epoch, &s.data_offset);
    s.step = tr->progress.step;
    s.skipped = tr->progress.skipped;
    s.epoch = tr->progress.epoch;
    s.elapsed_us = (uint64_t)llround(tr->progress.elapsed_seconds * 1e6);
    s.evaluations = tr->progress.evaluations;
    s.best_step = tr->progress.best_step;
    s.since_best = tr->since_best;
    s.quality_bits = double_bits(tr->progress.quality);
    s.best_quality_bits = double_bits(tr->progress.best_quality);

    add_params(gp, gp->values, "generator.", t, names, &n);
    add_params(dp, dp->values, "discriminator.", t, names, &n);
    if (grugan__selection_has_best(tr))
        add_params(gp, grugan__selection_kept(tr), GRUGAN__BEST_PREFIX "generator.", t, names,
                   &n);
    for (size_t i = 0; i < n_cand; i++) {
        char prefix[CAND_KEY_CAP];
        candidate_prefix(prefix, i);
        add_params(gp, tr->cand_params + i * tr->n_gen_params, prefix, t, names, &n);
    }
    shapes[0][0] = s.gen_opt_n;
    shapes[1][0] = s.disc_opt_n;
    shapes[2][0] = tr->F;
    shapes[3][0] = tr->F;
    if (s.gen_opt_n) t[n++] = (grugan__st_tensor){"generator_optimizer.state", 1, shapes[0], s.gen_opt_state};
    if (s.disc_opt_n)
        t[n++] = (grugan__st_tensor){"discriminator_optimizer.state", 1, shapes[1], s.disc_opt_state};
    t[n++] = (grugan__st_tensor){"dataset.scaler_offset", 1, shapes[2], s.scaler};
    t[n++] = (grugan__st_tensor){"dataset.scaler_scale", 1, shapes[3], s.scaler + tr->F};

    for (size_t i = 0; i < META_COUNT; i++) {
        const uint64_t *field = meta_field(&s, i);
        meta[i].key = meta_keys[i];
        if (field)
            snprintf(values[i], sizeof values[i], "%" PRIu64, *field);
        else if (strcmp(meta_keys[i], "format") == 0)
            snprintf(values[i], sizeof values[i], "%s", FORMAT_NAME);
        else if (strcmp(meta_keys[i], "format_version") == 0)
            snprintf(values[i], sizeof values[i], "%d", FORMAT_VERSION);
        else
            snprintf(values[i], sizeof values[i], "%s", grugan_version_string());
        meta[i].value = values[i];
    }
    {
        /* the candidates: their count, the kept one, whether ranked, then
         * each one's step and the bits of its two estimates */
        size_t k = 0;
        const uint64_t head[3] = {n_cand, n_cand ? tr->kept : 0, n_cand ? tr->ranked : 0};
        const char *const head_keys[3] = {"selection.candidates", "selection.kept",
                                          "selection.ranked"};
        for (size_t i = 0; i < 3; i++, k++) {
            snprintf(cm.keys[k], CAND_KEY_CAP, "%s", head_keys[i]);
            snprintf(cm.values[k], META_VALUE_CAP, "%" PRIu64, head[i]);
        }
        for (size_t i = 0; i < n_cand; i++) {
            const uint64_t v[3] = {tr->cand[i].step, double_bits(tr->cand[i].quality),
                                   double_bits(tr->cand[i].final)};
            const char *const what[3] = {"step", "quality_bits", "final_bits"};
            for (size_t j = 0; j < 3; j++, k++) {
                candidate_key(cm.keys[k], i, what[j]);
                snprintf(cm.values[k], META_VALUE_CAP, "%" PRIu64, v[j]);
            }
        }
        for (size_t i = 0; i < k; i++) meta[n_meta++] = (grugan__st_meta){cm.keys[i], cm.values[i]};
    }
    grugan__arch_of_generator(tr->gen, &gen_arch);
    grugan__arch_of_discriminator(tr->disc, &disc_arch);
    grugan__arch_to_meta(&gen_arch, meta, &n_meta);
    grugan__arch_to_meta(&disc_arch, meta, &n_meta);
    rc = grugan__st_encode(t, n, meta, n_meta, out);
    if (rc != GRUGAN_OK) rc = FAIL(tr, rc, "cannot encode the checkpoint (%s)", grugan_status_string(rc));
done:
    grugan__free(ctx, t);
    grugan__free(ctx, names);
    state_release(ctx, &s);
    return rc;
}

int grugan_trainer_save(grugan_trainer *tr, const char *path)
{
    grugan__json_out out;
    char msg[GRUGAN__MESSAGE_CAP];
    int rc;
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    grugan__clear(&tr->obj);
    if (!path) return FAIL(tr, GRUGAN_E_INVALID, "path is NULL");
    grugan__json_out_init(&out, tr->obj.ctx);
    rc = encode(tr, &out);
    if (rc == GRUGAN_OK) {
        rc = grugan__file_write_atomic(path, out.data, out.size, msg, sizeof msg);
        if (rc != GRUGAN_OK) FAIL(tr, rc, "%s", msg);
    }
    grugan__json_out_release(&out);
    return rc;
}

int grugan_trainer_save_buffer(grugan_trainer *tr, void *buffer, size_t capacity, size_t *size)
{
    grugan__json_out out;
    int rc;
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    grugan__clear(&tr->obj);
    if (!size) return FAIL(tr, GRUGAN_E_INVALID, "size is NULL");
    grugan__json_out_init(&out, tr->obj.ctx);
    rc = encode(tr, &out);
    if (rc == GRUGAN_OK) {
        *size = out.size;
        if (buffer && capacity >= out.size)
            memcpy(buffer, out.data, out.size);
        else if (buffer)
            rc = FAIL(tr, GRUGAN_E_SIZE, "the checkpoint needs %zu bytes, the buffer has %zu",
                      out.size, capacity);
    }
    grugan__json_out_release(&out);
    return rc;
}

/* ---- load ------------------------------------------------------------------------- */

/* The entry `name` with exactly `ndim` sizes `shape`, marked as used. */
static const grugan__st_entry *expect(grugan_trainer *tr, const grugan__st_file *f, bool *used,
                                      const char *name, size_t ndim, const size_t *shape,
                                      int *rc)
{
    const grugan__st_entry *e = grugan__st_find(f, name);
    bool same;
    if (!e) {
        *rc = FAIL(tr, GRUGAN_E_FORMAT, "checkpoint: missing tensor '%s'", name);
        return NULL;
    }
    same = e->ndim == ndim;
    for (size_t i = 0; same && i < ndim; i++) same = e->shape[i] == shape[i];
    if (!same) {
        *rc = FAIL(tr, GRUGAN_E_FORMAT,
                   "checkpoint: tensor '%s' has another shape than this model's (another "
                   "architecture?)",
                   name);
        return NULL;
    }
    used[e - f->entries] = true;
    return e;
}

/* Checks that every value of the entry is finite. */
static bool entry_finite(const grugan__st_entry *e, float *scratch)
{
    grugan__st_copy(e, scratch);
    return grugan__all_finite(scratch, e->count);
}

/* Validates the parameter tensors of one model; on success entries[i] is the
 * entry of tensor i. */
static int check_params(grugan_trainer *tr, const grugan__st_file *f, bool *used,
                        const grugan_params *p, const char *prefix,
                        const grugan__st_entry **entries, float *scratch)
{
    int rc = GRUGAN_OK;
    for (size_t i = 0; i < p->n_tensors; i++) {
        char name[GRUGAN__NAME_CAP + 64];
        snprintf(name, sizeof name, "%s%s", prefix, p->tensors[i].name);
        entries[i] = expect(tr, f, used, name, p->tensors[i].ndim, p->tensors[i].shape, &rc);
        if (!entries[i]) return rc;
        if (!entry_finite(entries[i], scratch))
            return FAIL(tr, GRUGAN_E_NONFINITE, "checkpoint: tensor '%s' holds NaN or Inf", name);
    }
    return GRUGAN_OK;
}

/* Reads the candidates' metadata of a version 3 checkpoint into s (version
 * 2: the best generator as the one candidate) and checks it against the
 * rest of the selection state. */
static int read_candidates(grugan_trainer *tr, const grugan__st_file *f, uint64_t version,
                           state *s)
{
    const char *bad = NULL;
    if (version < 3) {
        s->n_cand = s->evaluations ? 1 : 0;
        s->kept = s->ranked = 0;
        s->cand[0] = (grugan__candidate){s->best_step, bits_double(s->best_quality_bits), NAN};
        return GRUGAN_OK;
    }
    if (!grugan__st_meta_u64(f, "selection.candidates", &s->n_cand) ||
        !grugan__st_meta_u64(f, "selection.kept", &s->kept) ||
        !grugan__st_meta_u64(f, "selection.ranked", &s->ranked))
        return FAIL(tr, GRUGAN_E_FORMAT,
                    "checkpoint: metadata of model selection's candidates is missing or not a "
                    "count");
    if (s->n_cand > GRUGAN__MAX_CANDIDATES || s->n_cand > s->evaluations ||
        (s->n_cand == 0) != (s->evaluations == 0) || s->ranked > 1 ||
        (s->n_cand && s->kept >= s->n_cand) || (!s->n_cand && (s->kept || s->ranked)))
        bad = "counts";
    for (size_t i = 0; !bad && i < s->n_cand; i++) {
        char key[CAND_KEY_CAP];
        uint64_t v[3];
        const char *const what[3] = {"step", "quality_bits", "final_bits"};
        for (size_t j = 0; j < 3; j++) {
            candidate_key(key, i, what[j]);
            if (!grugan__st_meta_u64(f, key, &v[j]))
                return FAIL(tr, GRUGAN_E_FORMAT,
                            "checkpoint: metadata '%s' is missing or not a count", key);
        }
        s->cand[i] = (grugan__candidate){v[0], bits_double(v[1]), bits_double(v[2])};
        /* in order of their estimates, none after the current step, the first
         * the best estimate; final estimates in [0, 0.5] or not made yet */
        if (s->cand[i].step > s->step || !(s->cand[i].quality >= 0.0) ||
            !(s->cand[i].quality <= 0.5) || (i && s->cand[i].quality < s->cand[i - 1].quality) ||
            (!isnan(s->cand[i].final) && !(s->cand[i].final >= 0.0 && s->cand[i].final <= 0.5)))
            bad = "candidate";
    }
    if (!bad && s->n_cand &&
        (double_bits(s->cand[0].quality) != s->best_quality_bits ||
         (s->ranked && isnan(s->cand[s->kept].final)) || (!s->ranked && s->kept != 0)))
        bad = "ranking";
    if (bad)
        return FAIL(tr, GRUGAN_E_FORMAT,
                    "checkpoint: model selection's candidates are inconsistent (%s)", bad);
    return GRUGAN_OK;
}

static int load(grugan_trainer *tr, const void *data, size_t size)
{
    const grugan_context *ctx = tr->obj.ctx;
    grugan_params *gp = grugan_generator_params(tr->gen);
    grugan_params *dp = grugan_discriminator_params(tr->disc);
    const grugan__st_entry **gen_e = NULL, **disc_e = NULL, **best_e = NULL, **cand_e = NULL;
    const grugan__st_entry *e;
    grugan__st_file f;
    bool *used = NULL;
    float *scratch = NULL, *current = NULL;
    size_t biggest = 2 * tr->F, n_train;
    char msg[GRUGAN__MESSAGE_CAP];
    const char *v;
    uint64_t version;
    state s;
    int rc;

    grugan_dataset_split(tr->data, &n_train, NULL);
    rc = grugan__st_decode(ctx, data, size, &f, msg, sizeof msg);
    if (rc != GRUGAN_OK) return FAIL(tr, rc, "checkpoint: %s", msg);
    if ((rc = state_alloc(tr, &s)) != GRUGAN_OK) {
        grugan__st_release(&f);
        return rc;
    }
    v = grugan__st_meta_get(&f, "format");
    if (!v || strcmp(v, FORMAT_NAME) != 0) {
        rc = FAIL(tr, GRUGAN_E_FORMAT, "checkpoint: metadata 'format' is not '%s'", FORMAT_NAME);
        goto done;
    }
    if (!grugan__st_meta_u64(&f, "format_version", &version) || version == 0) {
        rc = FAIL(tr, GRUGAN_E_FORMAT, "checkpoint: metadata 'format_version' is missing or bad");
        goto done;
    }
    if (version > FORMAT_VERSION) {
        rc = FAIL(tr, GRUGAN_E_FORMAT,
                  "checkpoint: format version %" PRIu64 " is newer than this library reads (%d)",
                  version, FORMAT_VERSION);
        goto done;
    }
    {
        grugan__arch arch;
        const char *bad;
        grugan__arch_of_generator(tr->gen, &arch);
        bad = grugan__arch_mismatch(&arch, &f);
        if (!bad) {
            grugan__arch_of_discriminator(tr->disc, &arch);
            bad = grugan__arch_mismatch(&arch, &f);
        }
        if (bad) {
            rc = FAIL(tr, GRUGAN_E_FORMAT,
                      "checkpoint: metadata '%s' is missing or differs from this model's "
                      "(another architecture?)",
                      bad);
            goto done;
        }
    }
    /* version 1 has no clock and no selection: they start afresh */
    s.quality_bits = s.best_quality_bits = double_bits(NAN);
    for (size_t i = 0; i < (version >= 2 ? META_V2 : META_V1); i++)
        if (!grugan__st_meta_u64(&f, meta_keys[i], meta_field(&s, i))) {
            rc = FAIL(tr, GRUGAN_E_FORMAT, "checkpoint: metadata '%s' is missing or not a count",
                      meta_keys[i]);
            goto done;
        }
    if (s.evaluations && (s.best_step > s.step || s.since_best > s.evaluations ||
                          isnan(bits_double(s.best_quality_bits)))) {
        rc = FAIL(tr, GRUGAN_E_FORMAT, "checkpoint: model selection's state is inconsistent");
        goto done;
    }
    if ((rc = read_candidates(tr, &f, version, &s)) != GRUGAN_OK) goto done;

    for (size_t i = 0; i < f.n_entries; i++)
        if (f.entries[i].count > biggest) biggest = f.entries[i].count;
    used = grugan__calloc(ctx, f.n_entries ? f.n_entries : 1, sizeof *used);
    gen_e = grugan__calloc(ctx, gp->n_tensors, sizeof *gen_e);
    disc_e = grugan__calloc(ctx, dp->n_tensors, sizeof *disc_e);
    best_e = grugan__calloc(ctx, gp->n_tensors, sizeof *best_e);
    cand_e = grugan__calloc(ctx, (s.n_cand ? s.n_cand : 1) * gp->n_tensors, sizeof *cand_e);
    scratch = grugan__calloc(ctx, biggest, sizeof *scratch);
    current = grugan__calloc(ctx, 2 * tr->F, sizeof *current);
    if (!used || !gen_e || !disc_e || !best_e || !cand_e || !scratch || !current) {
        rc = FAIL(tr, GRUGAN_E_NOMEM, "cannot allocate while loading the checkpoint");
        goto done;
    }
    if ((rc = check_params(tr, &f, used, gp, "generator.", gen_e, scratch)) != GRUGAN_OK ||
        (rc = check_params(tr, &f, used, dp, "discriminator.", disc_e, scratch)) != GRUGAN_OK)
        goto done;
    /* the best generator: there exactly when estimates were made; kept only
     * when this trainer selects (otherwise checked and left) */
    if (s.evaluations) {
        if ((rc = check_params(tr, &f, used, gp, GRUGAN__BEST_PREFIX "generator.", best_e,
                               scratch)) != GRUGAN_OK)
            goto done;
    }
    /* the candidates' generators (version 3; version 2's one candidate is the
     * best generator) */
    for (size_t i = 0; version >= 3 && i < s.n_cand; i++) {
        char prefix[CAND_KEY_CAP];
        candidate_prefix(prefix, i);
        if ((rc = check_params(tr, &f, used, gp, prefix, cand_e + i * gp->n_tensors,
                               scratch)) != GRUGAN_OK)
            goto done;
    }
    if (version < 3 && s.n_cand)
        memcpy(cand_e, best_e, gp->n_tensors * sizeof *cand_e);
    if (s.gen_opt_n) {
        if (!(e = expect(tr, &f, used, "generator_optimizer.state", 1, &s.gen_opt_n, &rc))) goto done;
        grugan__st_copy(e, s.gen_opt_state);
    }
    if (s.disc_opt_n) {
        if (!(e = expect(tr, &f, used, "discriminator_optimizer.state", 1, &s.disc_opt_n, &rc)))
            goto done;
        grugan__st_copy(e, s.disc_opt_state);
    }
    if ((s.gen_opt_n && !grugan__all_finite(s.gen_opt_state, s.gen_opt_n)) ||
        (s.disc_opt_n && !grugan__all_finite(s.disc_opt_state, s.disc_opt_n))) {
        rc = FAIL(tr, GRUGAN_E_NONFINITE, "checkpoint: an optimizer state holds NaN or Inf");
        goto done;
    }
    if (!(e = expect(tr, &f, used, "dataset.scaler_offset", 1, &tr->F, &rc))) goto done;
    grugan__st_copy(e, s.scaler);
    if (!(e = expect(tr, &f, used, "dataset.scaler_scale", 1, &tr->F, &rc))) goto done;
    grugan__st_copy(e, s.scaler + tr->F);
    grugan_dataset_scaler(tr->data, current, current + tr->F);
    if (memcmp(current, s.scaler, 2 * tr->F * sizeof(float)) != 0) {
        rc = FAIL(tr, GRUGAN_E_FORMAT,
                  "checkpoint: its scaler differs from the dataset's (was it trained on other "
                  "data?)");
        goto done;
    }
    for (size_t i = 0; i < f.n_entries; i++)
        if (!used[i]) {
            rc = FAIL(tr, GRUGAN_E_FORMAT, "checkpoint: unexpected tensor '%s'", f.entries[i].name);
            goto done;
        }
    if (s.data_offset > n_train) {
        rc = FAIL(tr, GRUGAN_E_FORMAT, "checkpoint: dataset offset %" PRIu64 " out of range",
                  s.data_offset);
        goto done;
    }

    /* everything is valid: apply (nothing below can fail) */
    for (size_t i = 0; i < gp->n_tensors; i++)
        grugan__st_copy(gen_e[i], gp->values + gp->tensors[i].offset);
    for (size_t i = 0; i < dp->n_tensors; i++)
        grugan__st_copy(disc_e[i], dp->values + dp->tensors[i].offset);
    grugan_optimizer_state_write(tr->gen_opt, s.gen_opt_state, s.gen_opt_n, s.gen_opt_steps);
    grugan_optimizer_state_write(tr->disc_opt, s.disc_opt_state, s.disc_opt_n, s.disc_opt_steps);
    grugan_generator_set_noise_position(tr->gen, s.noise_position);
    grugan_dataset_set_position(tr->data, s.data_epoch, s.data_offset);
    tr->progress.step = s.step;
    tr->progress.skipped = s.skipped;
    tr->progress.epoch = s.epoch;
    tr->progress.elapsed_seconds = (double)s.elapsed_us * 1e-6;
    if (tr->sel_n) {
        /* a trainer that keeps fewer candidates takes the first ones; a
         * ranking whose choice is not among them no longer holds */
        const size_t n_cand = s.n_cand < tr->keep ? (size_t)s.n_cand : tr->keep;
        const bool ranked = s.ranked && s.kept < n_cand && tr->keep > 1;
        tr->progress.evaluations = s.evaluations;
        tr->progress.quality = bits_double(s.quality_bits);
        tr->progress.best_quality = bits_double(s.best_quality_bits);
        tr->since_best = s.since_best;
        tr->n_cand = n_cand;
        tr->ranked = ranked;
        tr->kept = ranked ? (size_t)s.kept : 0;
        for (size_t k = 0; k < n_cand; k++) {
            tr->cand[k] = s.cand[k];
            for (size_t i = 0; i < gp->n_tensors; i++)
                grugan__st_copy(cand_e[k * gp->n_tensors + i],
                                tr->cand_params + k * tr->n_gen_params + gp->tensors[i].offset);
        }
        tr->progress.best_step = n_cand ? tr->cand[0].step : 0;
        tr->progress.final_quality = ranked ? tr->cand[tr->kept].final : NAN;
        tr->progress.final_step = ranked ? tr->cand[tr->kept].step : 0;
    }
    grugan__trainer_update_finished(tr);
    rc = GRUGAN_OK;
done:
    grugan__free(ctx, used);
    grugan__free(ctx, best_e);
    grugan__free(ctx, cand_e);
    grugan__free(ctx, gen_e);
    grugan__free(ctx, disc_e);
    grugan__free(ctx, scratch);
    grugan__free(ctx, current);
    state_release(ctx, &s);
    grugan__st_release(&f);
    return rc;
}

int grugan_trainer_load_buffer(grugan_trainer *tr, const void *buffer, size_t size)
{
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    grugan__clear(&tr->obj);
    if (!buffer) return FAIL(tr, GRUGAN_E_INVALID, "buffer is NULL");
    return load(tr, buffer, size);
}

int grugan_trainer_load(grugan_trainer *tr, const char *path)
{
    void *data = NULL;
    size_t size = 0;
    char msg[GRUGAN__MESSAGE_CAP];
    int rc;
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    grugan__clear(&tr->obj);
    if (!path) return FAIL(tr, GRUGAN_E_INVALID, "path is NULL");
    rc = grugan__file_read(tr->obj.ctx, path, CHECKPOINT_CAP, &data, &size, msg, sizeof msg);
    if (rc != GRUGAN_OK) return FAIL(tr, rc, "%s", msg);
    rc = load(tr, data, size);
    grugan__free(tr->obj.ctx, data);
    return rc;
}
