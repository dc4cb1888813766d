/* test_malformed.c - malformed training checkpoints through
 * grugan_trainer_load_buffer: every case named, each refused with its own
 * status and message, the trainer left exactly as it was, and no allocation
 * larger than the input justifies. The container rules alone are in
 * test_safetensors.c; here they are checked end to end, with the checkpoint
 * semantics of docs/FORMAT.md (tensors, metadata, architecture, values,
 * optimizer states, scaler, dataset position). */
#include "suites.h"
#include "test_util.h"

#include "grugan.h"
#include "io/json.h"
#include "io/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 16, T = 4, F = 2, B = 4 };

/* ---- an allocator that remembers its largest request ------------------------ */

typedef union block {
    size_t size;
    max_align_t align;
} block;

static size_t largest; /* largest single request since the last reset */

static void *track_alloc(size_t size, void *user)
{
    block *b;
    (void)user;
    if (size > largest) largest = size;
    if (size > SIZE_MAX - sizeof *b) return NULL;
    b = malloc(sizeof *b + size);
    if (!b) return NULL;
    b->size = size;
    return b + 1;
}

static void track_free(void *ptr, void *user)
{
    (void)user;
    free((block *)ptr - 1);
}

/* The cap of docs/RELIABILITY.md: 64 bytes per input byte, plus 1 MiB. */
static size_t cap_for(size_t input)
{
    return 64 * input + ((size_t)1 << 20);
}

/* ---- the trainer whose checkpoints are edited -------------------------------- */

/* The handles of a run, made from a context that tracks its allocations. */
typedef struct world {
    grugan_context *ctx;
    gan_world g;
} world;

static void world_make(world *w)
{
    float x[N * T * F];
    grugan_context_config cc = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    cc.alloc = track_alloc;
    cc.free = track_free;
    ck_assert_int_eq(grugan_context_create(&cc, &w->ctx, NULL), GRUGAN_OK);
    for (size_t i = 0; i < N * T * F; i++) x[i] = sinf(0.37f * (float)i) + (float)(i % 3);
    gc.noise_size = 2;
    gc.output_size = F;
    gc.hidden_size = 4;
    gc.num_layers = 2;
    gc.seed = 11;
    dic.input_size = F;
    dic.hidden_size = 3;
    dic.num_layers = 1;
    dic.seed = 12;
    tc.batch_size = B;
    gan_world_make(&w->g, w->ctx, x, N, T, F, 5, &gc, &dic, &tc);
    /* two steps: optimizer states, counters and positions are not zero */
    ck_assert_int_eq(grugan_trainer_step(w->g.tr), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_step(w->g.tr), GRUGAN_OK);
}

static void world_free(world *w)
{
    gan_world_free(&w->g);
    grugan_context_free(w->ctx);
}

static unsigned char *save(world *w, size_t *size)
{
    unsigned char *buf;
    ck_assert_int_eq(grugan_trainer_save_buffer(w->g.tr, NULL, 0, size), GRUGAN_OK);
    buf = malloc(*size);
    ck_assert_int_eq(grugan_trainer_save_buffer(w->g.tr, buf, *size, size), GRUGAN_OK);
    return buf;
}

/* ---- what a failed load must not change ---------------------------------------- */

typedef struct snapshot {
    float *values;
    size_t count;
    uint64_t counters[8];
} snapshot;

static void snapshot_take(world *w, snapshot *s)
{
    grugan_params *gp = grugan_generator_params(w->g.gen);
    grugan_params *dp = grugan_discriminator_params(w->g.disc);
    const size_t ng = grugan_params_num_scalars(gp), nd = grugan_params_num_scalars(dp);
    const size_t og = grugan_optimizer_state_size(w->g.gen_opt);
    const size_t od = grugan_optimizer_state_size(w->g.disc_opt);
    grugan_progress p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    s->count = ng + nd + og + od;
    s->values = malloc(s->count * sizeof *s->values);
    ck_assert_int_eq(grugan_params_read_all(gp, s->values, ng), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_read_all(dp, s->values + ng, nd), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_state_read(w->g.gen_opt, s->values + ng + nd, og,
                                                 &s->counters[0]),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_state_read(w->g.disc_opt, s->values + ng + nd + og, od,
                                                 &s->counters[1]),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_noise_position(w->g.gen, &s->counters[2]), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_position(w->g.data, &s->counters[3], &s->counters[4]),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_progress(w->g.tr, &p), GRUGAN_OK);
    s->counters[5] = p.step;
    s->counters[6] = p.epoch;
    s->counters[7] = p.skipped;
}

static bool snapshot_same(const snapshot *a, const snapshot *b)
{
    return a->count == b->count &&
           memcmp(a->values, b->values, a->count * sizeof *a->values) == 0 &&
           memcmp(a->counters, b->counters, sizeof a->counters) == 0;
}

/* Loads buf, which must be refused with `code` and a message containing
 * `piece`, leaving the trainer as it was and allocating within the cap. */
static void expect_refused(world *w, const char *name, const unsigned char *buf, size_t size,
                           int code, const char *piece)
{
    snapshot before, after;
    const char *msg;
    int rc;
    snapshot_take(w, &before);
    largest = 0;
    rc = grugan_trainer_load_buffer(w->g.tr, buf, size);
    msg = grugan_trainer_message(w->g.tr);
    ck_assert_msg(rc == code, "case '%s': status %d (%s), expected %d", name, rc, msg, code);
    ck_assert_msg(strstr(msg, piece) != NULL, "case '%s': message '%s' lacks '%s'", name, msg,
                  piece);
    ck_assert_msg(largest <= cap_for(size), "case '%s': allocated %zu bytes for %zu", name,
                  largest, size);
    snapshot_take(w, &after);
    ck_assert_msg(snapshot_same(&before, &after), "case '%s': the failed load changed the trainer",
                  name);
    free(before.values);
    free(after.values);
}

/* ---- editing a checkpoint through the container's own decoder and encoder -------- */

enum { MAX_T = 40, MAX_M = 80 };

typedef struct doc {
    size_t nt, nm;
    char *name[MAX_T];
    size_t ndim[MAX_T];
    size_t shape[MAX_T][GRUGAN_MAX_DIMS];
    float *data[MAX_T];
    char *key[MAX_M];
    char *value[MAX_M];
} doc;

static char *dup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    strcpy(d, s);
    return d;
}

static size_t count_of(const doc *d, size_t i)
{
    size_t n = 1;
    for (size_t k = 0; k < d->ndim[i]; k++) n *= d->shape[i][k];
    return n;
}

static void doc_read(doc *d, const unsigned char *buf, size_t size)
{
    grugan__st_file f;
    char msg[256];
    memset(d, 0, sizeof *d);
    ck_assert_int_eq(grugan__st_decode(grugan__default_context(), buf, size, &f, msg, sizeof msg),
                     GRUGAN_OK);
    ck_assert_uint_le(f.n_entries, MAX_T);
    ck_assert_uint_le(f.metadata->length, MAX_M);
    for (size_t i = 0; i < f.n_entries; i++) {
        d->name[i] = dup(f.entries[i].name);
        d->ndim[i] = f.entries[i].ndim;
        memcpy(d->shape[i], f.entries[i].shape, sizeof d->shape[i]);
        d->data[i] = malloc(f.entries[i].count * sizeof(float) + 1);
        grugan__st_copy(&f.entries[i], d->data[i]);
    }
    d->nt = f.n_entries;
    for (size_t i = 0; i < f.metadata->length; i++) {
        d->key[i] = dup(f.metadata->items[i].key);
        d->value[i] = dup(f.metadata->items[i].string);
    }
    d->nm = f.metadata->length;
    grugan__st_release(&f);
}

static unsigned char *doc_write(const doc *d, size_t *size)
{
    grugan__st_tensor t[MAX_T];
    grugan__st_meta m[MAX_M];
    grugan__json_out out;
    unsigned char *buf;
    for (size_t i = 0; i < d->nt; i++)
        t[i] = (grugan__st_tensor){d->name[i], d->ndim[i], d->shape[i], d->data[i]};
    for (size_t i = 0; i < d->nm; i++) m[i] = (grugan__st_meta){d->key[i], d->value[i]};
    grugan__json_out_init(&out, grugan__default_context());
    ck_assert_int_eq(grugan__st_encode(t, d->nt, m, d->nm, &out), GRUGAN_OK);
    buf = malloc(out.size);
    memcpy(buf, out.data, out.size);
    *size = out.size;
    grugan__json_out_release(&out);
    return buf;
}

static void doc_free(doc *d)
{
    for (size_t i = 0; i < d->nt; i++) {
        free(d->name[i]);
        free(d->data[i]);
    }
    for (size_t i = 0; i < d->nm; i++) {
        free(d->key[i]);
        free(d->value[i]);
    }
}

static size_t doc_tensor(const doc *d, const char *name)
{
    for (size_t i = 0; i < d->nt; i++)
        if (strcmp(d->name[i], name) == 0) return i;
    ck_abort_msg("no tensor '%s' in the checkpoint", name);
    return 0;
}

static void meta_set(doc *d, const char *key, const char *value)
{
    for (size_t i = 0; i < d->nm; i++)
        if (strcmp(d->key[i], key) == 0) {
            free(d->value[i]);
            d->value[i] = dup(value);
            return;
        }
    ck_abort_msg("no metadata '%s' in the checkpoint", key);
}

/* Sets key to value, adding the key when the checkpoint has none. */
static void meta_put(doc *d, const char *key, const char *value)
{
    for (size_t i = 0; i < d->nm; i++)
        if (strcmp(d->key[i], key) == 0) {
            meta_set(d, key, value);
            return;
        }
    ck_assert_uint_lt(d->nm, MAX_M);
    d->key[d->nm] = dup(key);
    d->value[d->nm++] = dup(value);
}

static void meta_remove(doc *d, const char *key)
{
    for (size_t i = 0; i < d->nm; i++)
        if (strcmp(d->key[i], key) == 0) {
            free(d->key[i]);
            free(d->value[i]);
            d->nm--;
            memmove(&d->key[i], &d->key[i + 1], (d->nm - i) * sizeof d->key[0]);
            memmove(&d->value[i], &d->value[i + 1], (d->nm - i) * sizeof d->value[0]);
            return;
        }
    ck_abort_msg("no metadata '%s' in the checkpoint", key);
}

static void tensor_remove(doc *d, const char *name)
{
    const size_t i = doc_tensor(d, name);
    free(d->name[i]);
    free(d->data[i]);
    d->nt--;
    memmove(&d->name[i], &d->name[i + 1], (d->nt - i) * sizeof d->name[0]);
    memmove(&d->ndim[i], &d->ndim[i + 1], (d->nt - i) * sizeof d->ndim[0]);
    memmove(&d->shape[i], &d->shape[i + 1], (d->nt - i) * sizeof d->shape[0]);
    memmove(&d->data[i], &d->data[i + 1], (d->nt - i) * sizeof d->data[0]);
}

/* Gives tensor `name` a new shape (values: the old ones, then 0.25). */
static void tensor_reshape(doc *d, const char *name, size_t ndim, size_t s0, size_t s1)
{
    const size_t i = doc_tensor(d, name), old = count_of(d, i);
    size_t n;
    d->ndim[i] = ndim;
    d->shape[i][0] = s0;
    d->shape[i][1] = s1;
    n = count_of(d, i);
    d->data[i] = realloc(d->data[i], n * sizeof(float) + 1);
    for (size_t k = old; k < n; k++) d->data[i][k] = 0.25f;
}

/* Appends a copy of tensor `from` called `name`. */
static void tensor_add(doc *d, const char *from, const char *name)
{
    const size_t i = doc_tensor(d, from), j = d->nt++, n = count_of(d, i);
    ck_assert_uint_lt(j, MAX_T);
    d->name[j] = dup(name);
    d->ndim[j] = d->ndim[i];
    memcpy(d->shape[j], d->shape[i], sizeof d->shape[i]);
    d->data[j] = malloc(n * sizeof(float) + 1);
    memcpy(d->data[j], d->data[i], n * sizeof(float));
}

/* ---- byte surgery on the header text ------------------------------------------- */

static size_t header_length(const unsigned char *buf)
{
    uint64_t n = 0;
    for (int b = 0; b < 8; b++) n |= (uint64_t)buf[b] << (8 * b);
    return (size_t)n;
}

static void set_header_length(unsigned char *buf, uint64_t n)
{
    for (int b = 0; b < 8; b++) buf[b] = (unsigned char)(n >> (8 * b));
}

/* The file with the first `old` of its header replaced by `repl` (the header
 * length follows) and `extra` zero bytes appended to the data. */
static unsigned char *header_edit(const unsigned char *buf, size_t size, const char *old,
                                  const char *repl, size_t extra, size_t *out_size)
{
    const size_t hl = header_length(buf), ol = strlen(old), rl = strlen(repl);
    char *header = malloc(hl + 1), *at;
    unsigned char *out;
    size_t nh;
    memcpy(header, buf + 8, hl);
    header[hl] = '\0';
    at = strstr(header, old);
    ck_assert_msg(at != NULL, "'%s' is not in the header", old);
    nh = hl - ol + rl;
    *out_size = 8 + nh + (size - 8 - hl) + extra;
    out = calloc(*out_size, 1);
    set_header_length(out, nh);
    memcpy(out + 8, header, (size_t)(at - header));
    memcpy(out + 8 + (at - header), repl, rl);
    memcpy(out + 8 + (at - header) + rl, at + ol, hl - (size_t)(at - header) - ol);
    memcpy(out + 8 + nh, buf + 8 + hl, size - 8 - hl);
    free(header);
    return out;
}

/* The "name":{...} entry of the header, and its data offsets. */
static void entry_text(const unsigned char *buf, const char *name, char *text, size_t cap,
                       size_t *begin, size_t *end)
{
    const size_t hl = header_length(buf);
    char *header = malloc(hl + 1), key[128], *at, *close;
    unsigned long long b = 0, e = 0;
    memcpy(header, buf + 8, hl);
    header[hl] = '\0';
    snprintf(key, sizeof key, "\"%s\":{", name);
    at = strstr(header, key);
    ck_assert_ptr_nonnull(at);
    close = strchr(at, '}');
    ck_assert_uint_lt((size_t)(close - at + 1), cap);
    memcpy(text, at, (size_t)(close - at + 1));
    text[close - at + 1] = '\0';
    ck_assert_int_eq(sscanf(strstr(text, "\"data_offsets\":["), "\"data_offsets\":[%llu,%llu]", &b,
                            &e),
                     2);
    *begin = (size_t)b;
    *end = (size_t)e;
    free(header);
}

/* ---- the cases ------------------------------------------------------------------ */

/* The valid checkpoint every case starts from. */
static unsigned char *valid;
static size_t valid_size;

typedef void (*doc_edit)(doc *d);
typedef unsigned char *(*byte_edit)(size_t *size);

/* Header text replacement cases. */
typedef struct text_case {
    const char *name, *old, *repl;
    int code;
    const char *piece;
} text_case;

static const text_case text_cases[] = {
    {"header not an object", "{\"__metadata__\"", "[\"__metadata__\"", GRUGAN_E_FORMAT,
     "the header does not start with '{'"},
    {"invalid JSON: stray comma", "{\"__metadata__\":{", "{\"__metadata__\":{,", GRUGAN_E_FORMAT,
     "invalid JSON header: offset 17: expected a string"},
    {"invalid JSON: bad UTF-8 in a key", "\"step\"", "\"st\xff\x70\"", GRUGAN_E_FORMAT,
     "invalid UTF-8 in string"},
    {"invalid JSON: NaN as a value", "\"data_offsets\":[0,", "\"data_offsets\":[NaN,",
     GRUGAN_E_FORMAT, "invalid JSON header"},
    {"metadata value not a string", "\"step\":\"2\"", "\"step\":2", GRUGAN_E_FORMAT,
     "metadata 'step' is not a string"},
    {"metadata twice", "{\"__metadata__\":", "{\"__metadata__\":{},\"__metadata__\":",
     GRUGAN_E_FORMAT, "__metadata__ appears twice"},
    {"dtype a number", "\"dtype\":\"F32\"", "\"dtype\":32", GRUGAN_E_FORMAT,
     "dtype of 'generator.gru.weight_ih_l0' is not a string"},
    {"negative dtype", "\"dtype\":\"F32\"", "\"dtype\":-1", GRUGAN_E_FORMAT,
     "dtype of 'generator.gru.weight_ih_l0' is not a string"},
    {"unknown dtype", "\"dtype\":\"F32\"", "\"dtype\":\"Q8\"", GRUGAN_E_FORMAT,
     "tensor 'generator.gru.weight_ih_l0' has an unknown dtype"},
    {"another safetensors dtype", "\"dtype\":\"F32\"", "\"dtype\":\"BF16\"", GRUGAN_E_FORMAT,
     "dtype libgrugan does not read (only F32)"},
    {"shape a string", "\"shape\":[12,2]", "\"shape\":\"12,2\"", GRUGAN_E_FORMAT,
     "shape of 'generator.gru.weight_ih_l0' is not an array"},
    {"negative size in a shape", "\"shape\":[12,2]", "\"shape\":[-12,2]", GRUGAN_E_FORMAT,
     "shape of 'generator.gru.weight_ih_l0' holds something other than a size"},
    {"fractional size in a shape", "\"shape\":[12,2]", "\"shape\":[12.5,2]", GRUGAN_E_FORMAT,
     "shape of 'generator.gru.weight_ih_l0' holds something other than a size"},
    {"five dimensions", "\"shape\":[12,2]", "\"shape\":[12,2,1,1,1]", GRUGAN_E_FORMAT,
     "more dimensions than libgrugan uses"},
    {"shape product overflows", "\"shape\":[12,2]", "\"shape\":[4294967296,4294967296,2]",
     GRUGAN_E_FORMAT, "the shape of 'generator.gru.weight_ih_l0' overflows"},
    {"byte size not dtype x shape", "\"shape\":[12,2]", "\"shape\":[12,3]", GRUGAN_E_FORMAT,
     "'generator.gru.weight_ih_l0' has data_offsets that do not match its shape and dtype"},
    {"offsets not numbers", "\"data_offsets\":[0,96]", "\"data_offsets\":[\"0\",\"96\"]",
     GRUGAN_E_FORMAT, "data_offsets of 'generator.gru.weight_ih_l0' must be two sizes"},
    {"offsets reversed", "\"data_offsets\":[0,96]", "\"data_offsets\":[96,0]", GRUGAN_E_FORMAT,
     "data_offsets of 'generator.gru.weight_ih_l0' end before they begin"},
    {"tensor entry not an object", "\"generator.gru.weight_ih_l0\":{",
     "\"generator.gru.weight_ih_l0\":7,\"x\":{", GRUGAN_E_FORMAT,
     "tensor 'generator.gru.weight_ih_l0' is not an object"},
    {"tensor entry with a fourth member", "\"dtype\":\"F32\"", "\"dtype\":\"F32\",\"x\":0",
     GRUGAN_E_FORMAT, "must have exactly dtype, shape and data_offsets"},
    {"duplicate names", "\"dataset.scaler_scale\"", "\"dataset.scaler_offset\"", GRUGAN_E_FORMAT,
     "tensor 'dataset.scaler_offset' appears twice"},
    {"NUL in a name", "\"dataset.scaler_scale\"", "\"dataset.scaler_scal\\u0000\"",
     GRUGAN_E_FORMAT, "a name contains a NUL character"},
};

/* Offsets of the last tensor, dataset.scaler_scale (8 bytes at [e - 8, e)). */
static unsigned char *last_tensor_moved(long shift_begin, long shift_end, size_t shape,
                                        size_t extra, size_t *size)
{
    char old[256], repl[256];
    size_t b, e;
    entry_text(valid, "dataset.scaler_scale", old, sizeof old, &b, &e);
    snprintf(repl, sizeof repl,
             "\"dataset.scaler_scale\":{\"dtype\":\"F32\",\"shape\":[%zu],\"data_offsets\":[%ld,%ld]}",
             shape, (long)b + shift_begin, (long)e + shift_end);
    return header_edit(valid, valid_size, old, repl, extra, size);
}

static unsigned char *b_short(size_t *size)
{
    unsigned char *buf = malloc(5);
    memcpy(buf, valid, 5);
    *size = 5;
    return buf;
}

static unsigned char *copy_valid(size_t *size)
{
    unsigned char *buf = malloc(valid_size + 8);
    memcpy(buf, valid, valid_size);
    *size = valid_size;
    return buf;
}

static unsigned char *b_length_zero(size_t *size)
{
    unsigned char *buf = copy_valid(size);
    set_header_length(buf, 0);
    return buf;
}

static unsigned char *b_length_past_end(size_t *size)
{
    unsigned char *buf = copy_valid(size);
    set_header_length(buf, valid_size - 8 + 1);
    return buf;
}

static unsigned char *b_length_over_cap(size_t *size)
{
    unsigned char *buf = copy_valid(size);
    set_header_length(buf, ((uint64_t)16 << 20) + 8);
    return buf;
}

static unsigned char *b_length_huge(size_t *size)
{
    unsigned char *buf = copy_valid(size);
    set_header_length(buf, UINT64_MAX);
    return buf;
}

static unsigned char *b_past_end(size_t *size)
{
    return last_tensor_moved(0, 4, 3, 0, size); /* claims 12 bytes, 8 remain */
}

static unsigned char *b_overlap(size_t *size)
{
    return last_tensor_moved(-4, -4, 2, 4, size);
}

static unsigned char *b_hole(size_t *size)
{
    return last_tensor_moved(4, 4, 2, 4, size);
}

static unsigned char *b_trailing(size_t *size)
{
    unsigned char *buf = copy_valid(size);
    memset(buf + valid_size, 0, 8);
    *size = valid_size + 8;
    return buf;
}

static unsigned char *b_huge_tensor(size_t *size)
{
    return header_edit(valid, valid_size, "\"shape\":[12,2],\"data_offsets\":[0,96]",
                       "\"shape\":[1000000000,2],\"data_offsets\":[0,8000000000]", 0, size);
}

static unsigned char *b_export(size_t *size)
{
    /* a generator-only export of this very generator */
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *g = NULL;
    unsigned char *buf;
    gc.noise_size = 2;
    gc.output_size = F;
    gc.hidden_size = 4;
    gc.num_layers = 2;
    gc.seed = 11;
    ck_assert_int_eq(grugan_generator_create(NULL, &gc, &g, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_save_buffer(g, NULL, 0, size), GRUGAN_OK);
    buf = malloc(*size);
    ck_assert_int_eq(grugan_generator_save_buffer(g, buf, *size, size), GRUGAN_OK);
    grugan_generator_free(g);
    return buf;
}

typedef struct byte_case {
    const char *name;
    byte_edit make;
    int code;
    const char *piece;
} byte_case;

static const byte_case byte_cases[] = {
    {"shorter than 8 bytes", b_short, GRUGAN_E_FORMAT, "shorter than the 8-byte header length"},
    {"header length 0", b_length_zero, GRUGAN_E_FORMAT, "the header length is 0"},
    {"header length past the end", b_length_past_end, GRUGAN_E_FORMAT,
     "the header length is beyond the end of the file"},
    {"header length over the cap", b_length_over_cap, GRUGAN_E_FORMAT,
     "the header length exceeds the 16 MiB cap"},
    {"header length 2^64 - 1", b_length_huge, GRUGAN_E_FORMAT,
     "the header length exceeds the 16 MiB cap"},
    {"offsets past the end", b_past_end, GRUGAN_E_FORMAT,
     "tensor 'dataset.scaler_scale' lies beyond the end of the file"},
    {"overlapping tensors", b_overlap, GRUGAN_E_FORMAT, "tensor 'dataset.scaler_scale' overlaps"},
    {"a hole between tensors", b_hole, GRUGAN_E_FORMAT,
     "a gap precedes tensor 'dataset.scaler_scale'"},
    {"trailing bytes no tensor covers", b_trailing, GRUGAN_E_FORMAT,
     "the data section has bytes no tensor covers"},
    {"a tensor of 8 GB in a small file", b_huge_tensor, GRUGAN_E_FORMAT,
     "tensor 'generator.gru.weight_ih_l0' lies beyond the end of the file"},
    {"a generator export", b_export, GRUGAN_E_FORMAT,
     "checkpoint: metadata 'format' is not 'libgrugan-trainer'"},
};

/* Semantic edits through the decoder and encoder. */
static void e_no_metadata(doc *d)
{
    while (d->nm) meta_remove(d, d->key[0]);
}
static void e_format(doc *d)
{
    meta_set(d, "format", "libgrugan-trainer2");
}
static void e_version_missing(doc *d)
{
    meta_remove(d, "format_version");
}
static void e_version_zero(doc *d)
{
    meta_set(d, "format_version", "0");
}
static void e_version_leading_zero(doc *d)
{
    meta_set(d, "format_version", "01");
}
static void e_version_future(doc *d)
{
    meta_set(d, "format_version", "4");
}
static void e_version_overflow(doc *d)
{
    meta_set(d, "format_version", "18446744073709551616");
}
static void e_hidden_zero(doc *d)
{
    meta_set(d, "generator.hidden_size", "0");
}
static void e_layers_huge(doc *d)
{
    meta_set(d, "generator.num_layers", "1000000000");
}
static void e_output_missing(doc *d)
{
    meta_remove(d, "generator.output_size");
}
static void e_disc_kind(doc *d)
{
    meta_set(d, "discriminator.kind", "1");
}
static void e_disc_hidden(doc *d)
{
    meta_set(d, "discriminator.hidden_size", "4");
}
static void e_activation(doc *d)
{
    meta_set(d, "generator.output_activation", "2");
}
static void e_step_missing(doc *d)
{
    meta_remove(d, "step");
}
static void e_skipped_negative(doc *d)
{
    meta_set(d, "skipped", "-1");
}
static void e_noise_overflow(doc *d)
{
    meta_set(d, "generator.noise_position", "18446744073709551616");
}
static void e_epoch_hex(doc *d)
{
    meta_set(d, "dataset.epoch", "0x10");
}
static void e_opt_steps_missing(doc *d)
{
    meta_remove(d, "discriminator_optimizer.steps");
}
static void e_offset_range(doc *d)
{
    meta_set(d, "dataset.offset", "17");
}
static void e_missing_gen(doc *d)
{
    tensor_remove(d, "generator.head.bias");
}
static void e_missing_disc(doc *d)
{
    tensor_remove(d, "discriminator.gru.weight_hh_l0");
}
static void e_unexpected(doc *d)
{
    tensor_add(d, "generator.gru.weight_ih_l1", "generator.gru.weight_ih_l2");
}
static void e_transposed(doc *d)
{
    tensor_reshape(d, "generator.head.weight", 2, 4, 2);
}
static void e_rank(doc *d)
{
    tensor_reshape(d, "generator.head.bias", 2, 1, 2);
}
static void e_nan(doc *d)
{
    d->data[doc_tensor(d, "generator.gru.weight_hh_l1")][3] = NAN;
}
static void e_inf(doc *d)
{
    d->data[doc_tensor(d, "discriminator.head.weight")][0] = -INFINITY;
}
static void e_opt_missing(doc *d)
{
    tensor_remove(d, "generator_optimizer.state");
}
static void e_opt_short(doc *d)
{
    const size_t i = doc_tensor(d, "generator_optimizer.state");
    tensor_reshape(d, "generator_optimizer.state", 1, d->shape[i][0] - 1, 0);
}
static void e_opt_sgd(doc *d)
{
    /* the state of SGD with momentum: one buffer, not Adam's two */
    const size_t i = doc_tensor(d, "discriminator_optimizer.state");
    tensor_reshape(d, "discriminator_optimizer.state", 1, d->shape[i][0] / 2, 0);
}
static void e_opt_nan(doc *d)
{
    d->data[doc_tensor(d, "discriminator_optimizer.state")][5] = NAN;
}
static void e_scaler_other(doc *d)
{
    d->data[doc_tensor(d, "dataset.scaler_offset")][1] += 1.0f;
}
static void e_scaler_missing(doc *d)
{
    tensor_remove(d, "dataset.scaler_scale");
}
static void e_scaler_width(doc *d)
{
    tensor_reshape(d, "dataset.scaler_offset", 1, F + 1, 0);
}

static void e_elapsed_missing(doc *d)
{
    meta_remove(d, "elapsed_microseconds");
}
/* Claims one estimate (of 0 at step 0, so far the one candidate, not yet
 * ranked) in the metadata; the tensors stay as they are. */
static void claim_estimate(doc *d)
{
    meta_set(d, "selection.evaluations", "1");
    meta_set(d, "selection.best_quality_bits", "0");
    meta_set(d, "selection.candidates", "1");
    meta_put(d, "selection.candidate.0.step", "0");
    meta_put(d, "selection.candidate.0.quality_bits", "0");
    meta_put(d, "selection.candidate.0.final_bits", "9221120237041090560"); /* NaN */
}
static void e_best_missing(doc *d)
{
    /* estimates claimed, no best generator */
    claim_estimate(d);
}
static void e_candidates_missing(doc *d)
{
    meta_remove(d, "selection.candidates");
}
static void e_candidates_too_many(doc *d)
{
    claim_estimate(d);
    meta_set(d, "selection.candidates", "2");
}
static void e_candidates_without_estimates(doc *d)
{
    meta_set(d, "selection.candidates", "1");
}
static void e_candidate_step_ahead(doc *d)
{
    claim_estimate(d);
    meta_set(d, "selection.candidate.0.step", "3");
}
static void e_candidate_quality_missing(doc *d)
{
    claim_estimate(d);
    meta_remove(d, "selection.candidate.0.quality_bits");
}
static void e_candidate_not_the_best(doc *d)
{
    claim_estimate(d);
    meta_set(d, "selection.candidate.0.quality_bits", "4591870180066957722"); /* 0.1 */
}
static void e_kept_beyond(doc *d)
{
    claim_estimate(d);
    meta_set(d, "selection.kept", "1");
}
static void e_ranked_unscored(doc *d)
{
    claim_estimate(d);
    meta_set(d, "selection.ranked", "1");
}
static void e_best_unclaimed(doc *d)
{
    tensor_add(d, "generator.head.bias", "best.generator.head.bias");
}
static void e_best_step_ahead(doc *d)
{
    meta_set(d, "selection.evaluations", "1");
    meta_set(d, "selection.best_quality_bits", "0");
    meta_set(d, "selection.best_step", "3");
}
static void e_since_best_too_many(doc *d)
{
    meta_set(d, "selection.evaluations", "1");
    meta_set(d, "selection.best_quality_bits", "0");
    meta_set(d, "selection.since_best", "2");
}
static void e_best_quality_nan(doc *d)
{
    meta_set(d, "selection.evaluations", "1");
}

typedef struct edit_case {
    const char *name;
    doc_edit edit;
    int code;
    const char *piece;
} edit_case;

static const edit_case edit_cases[] = {
    {"no metadata", e_no_metadata, GRUGAN_E_FORMAT,
     "checkpoint: metadata 'format' is not 'libgrugan-trainer'"},
    {"format of another kind", e_format, GRUGAN_E_FORMAT,
     "metadata 'format' is not 'libgrugan-trainer'"},
    {"format_version missing", e_version_missing, GRUGAN_E_FORMAT,
     "metadata 'format_version' is missing or bad"},
    {"format_version 0", e_version_zero, GRUGAN_E_FORMAT,
     "metadata 'format_version' is missing or bad"},
    {"format_version with a leading zero", e_version_leading_zero, GRUGAN_E_FORMAT,
     "metadata 'format_version' is missing or bad"},
    {"format_version from the future", e_version_future, GRUGAN_E_FORMAT,
     "format version 4 is newer than this library reads (3)"},
    {"format_version beyond 2^64", e_version_overflow, GRUGAN_E_FORMAT,
     "metadata 'format_version' is missing or bad"},
    {"hidden size 0", e_hidden_zero, GRUGAN_E_FORMAT,
     "metadata 'generator.hidden_size' is missing or differs from this model's"},
    {"layers 10^9", e_layers_huge, GRUGAN_E_FORMAT,
     "metadata 'generator.num_layers' is missing or differs from this model's"},
    {"architecture entry missing", e_output_missing, GRUGAN_E_FORMAT,
     "metadata 'generator.output_size' is missing or differs"},
    {"another discriminator kind", e_disc_kind, GRUGAN_E_FORMAT,
     "metadata 'discriminator.kind' is missing or differs"},
    {"another discriminator size", e_disc_hidden, GRUGAN_E_FORMAT,
     "metadata 'discriminator.hidden_size' is missing or differs"},
    {"another output activation", e_activation, GRUGAN_E_FORMAT,
     "metadata 'generator.output_activation' is missing or differs"},
    {"counter missing", e_step_missing, GRUGAN_E_FORMAT,
     "metadata 'step' is missing or not a count"},
    {"counter negative", e_skipped_negative, GRUGAN_E_FORMAT,
     "metadata 'skipped' is missing or not a count"},
    {"counter beyond 2^64", e_noise_overflow, GRUGAN_E_FORMAT,
     "metadata 'generator.noise_position' is missing or not a count"},
    {"counter not decimal", e_epoch_hex, GRUGAN_E_FORMAT,
     "metadata 'dataset.epoch' is missing or not a count"},
    {"optimizer step count missing", e_opt_steps_missing, GRUGAN_E_FORMAT,
     "metadata 'discriminator_optimizer.steps' is missing or not a count"},
    {"dataset offset out of range", e_offset_range, GRUGAN_E_FORMAT,
     "checkpoint: dataset offset 17 out of range"},
    {"generator tensor missing", e_missing_gen, GRUGAN_E_FORMAT,
     "checkpoint: missing tensor 'generator.head.bias'"},
    {"discriminator tensor missing", e_missing_disc, GRUGAN_E_FORMAT,
     "checkpoint: missing tensor 'discriminator.gru.weight_hh_l0'"},
    {"unexpected tensor", e_unexpected, GRUGAN_E_FORMAT,
     "checkpoint: unexpected tensor 'generator.gru.weight_ih_l2'"},
    {"tensor transposed", e_transposed, GRUGAN_E_FORMAT,
     "tensor 'generator.head.weight' has another shape than this model's"},
    {"tensor of another rank", e_rank, GRUGAN_E_FORMAT,
     "tensor 'generator.head.bias' has another shape than this model's"},
    {"NaN weight", e_nan, GRUGAN_E_NONFINITE,
     "checkpoint: tensor 'generator.gru.weight_hh_l1' holds NaN or Inf"},
    {"Inf weight", e_inf, GRUGAN_E_NONFINITE,
     "checkpoint: tensor 'discriminator.head.weight' holds NaN or Inf"},
    {"optimizer state missing", e_opt_missing, GRUGAN_E_FORMAT,
     "checkpoint: missing tensor 'generator_optimizer.state'"},
    {"optimizer state one short", e_opt_short, GRUGAN_E_FORMAT,
     "tensor 'generator_optimizer.state' has another shape"},
    {"optimizer state of another optimizer", e_opt_sgd, GRUGAN_E_FORMAT,
     "tensor 'discriminator_optimizer.state' has another shape"},
    {"NaN in an optimizer state", e_opt_nan, GRUGAN_E_NONFINITE,
     "checkpoint: an optimizer state holds NaN or Inf"},
    {"scaler of other data", e_scaler_other, GRUGAN_E_FORMAT,
     "checkpoint: its scaler differs from the dataset's"},
    {"scaler missing", e_scaler_missing, GRUGAN_E_FORMAT,
     "checkpoint: missing tensor 'dataset.scaler_scale'"},
    {"scaler of another width", e_scaler_width, GRUGAN_E_FORMAT,
     "tensor 'dataset.scaler_offset' has another shape"},
    {"clock missing", e_elapsed_missing, GRUGAN_E_FORMAT,
     "metadata 'elapsed_microseconds' is missing or not a count"},
    {"estimates without a best generator", e_best_missing, GRUGAN_E_FORMAT,
     "checkpoint: missing tensor 'best.generator.gru.weight_ih_l0'"},
    {"a best generator without estimates", e_best_unclaimed, GRUGAN_E_FORMAT,
     "checkpoint: unexpected tensor 'best.generator.head.bias'"},
    {"best step after the step", e_best_step_ahead, GRUGAN_E_FORMAT,
     "model selection's state is inconsistent"},
    {"more estimates since the best than estimates", e_since_best_too_many, GRUGAN_E_FORMAT,
     "model selection's state is inconsistent"},
    {"a best estimate that is NaN", e_best_quality_nan, GRUGAN_E_FORMAT,
     "model selection's state is inconsistent"},
    {"candidates' count missing", e_candidates_missing, GRUGAN_E_FORMAT,
     "metadata of model selection's candidates is missing"},
    {"more candidates than estimates", e_candidates_too_many, GRUGAN_E_FORMAT,
     "model selection's candidates are inconsistent (counts)"},
    {"candidates without estimates", e_candidates_without_estimates, GRUGAN_E_FORMAT,
     "model selection's candidates are inconsistent (counts)"},
    {"a candidate after the step", e_candidate_step_ahead, GRUGAN_E_FORMAT,
     "model selection's candidates are inconsistent (candidate)"},
    {"a candidate's estimate missing", e_candidate_quality_missing, GRUGAN_E_FORMAT,
     "metadata 'selection.candidate.0.quality_bits' is missing"},
    {"a first candidate that is not the best estimate", e_candidate_not_the_best,
     GRUGAN_E_FORMAT, "model selection's candidates are inconsistent (ranking)"},
    {"a kept candidate beyond the candidates", e_kept_beyond, GRUGAN_E_FORMAT,
     "model selection's candidates are inconsistent (counts)"},
    {"a ranking without final estimates", e_ranked_unscored, GRUGAN_E_FORMAT,
     "model selection's candidates are inconsistent (ranking)"},
};

/* An edited copy of the valid checkpoint. */
static unsigned char *edited(doc_edit edit, size_t *size)
{
    doc d;
    unsigned char *buf;
    doc_read(&d, valid, valid_size);
    edit(&d);
    buf = doc_write(&d, size);
    doc_free(&d);
    return buf;
}

static world w;

static void setup(void)
{
    world_make(&w);
    valid = save(&w, &valid_size);
}

static void teardown(void)
{
    free(valid);
    valid = NULL;
    world_free(&w);
}

START_TEST(the_unedited_checkpoint_and_its_reencoding_load)
{
    doc d;
    unsigned char *again;
    size_t size;
    snapshot before, after;
    /* the cases edit this file: it must load as it is, and the decoder and
     * encoder of the edits must reproduce it byte for byte */
    snapshot_take(&w, &before);
    ck_assert_msg(grugan_trainer_load_buffer(w.g.tr, valid, valid_size) == GRUGAN_OK, "%s",
                  grugan_trainer_message(w.g.tr));
    snapshot_take(&w, &after);
    ck_assert(snapshot_same(&before, &after));
    doc_read(&d, valid, valid_size);
    again = doc_write(&d, &size);
    ck_assert_uint_eq(size, valid_size);
    ck_assert_mem_eq(again, valid, size);
    free(again);
    doc_free(&d);
    free(before.values);
    free(after.values);
}
END_TEST

START_TEST(header_text_edits_are_refused_by_name)
{
    ck_assert_uint_ge(sizeof text_cases / sizeof text_cases[0], 20);
    for (size_t i = 0; i < sizeof text_cases / sizeof text_cases[0]; i++) {
        const text_case *c = &text_cases[i];
        size_t size;
        unsigned char *buf = header_edit(valid, valid_size, c->old, c->repl, 0, &size);
        expect_refused(&w, c->name, buf, size, c->code, c->piece);
        free(buf);
    }
}
END_TEST

START_TEST(container_byte_edits_are_refused_by_name)
{
    for (size_t i = 0; i < sizeof byte_cases / sizeof byte_cases[0]; i++) {
        size_t size;
        unsigned char *buf = byte_cases[i].make(&size);
        expect_refused(&w, byte_cases[i].name, buf, size, byte_cases[i].code,
                       byte_cases[i].piece);
        free(buf);
    }
}
END_TEST

START_TEST(checkpoint_semantics_are_refused_by_name)
{
    ck_assert_uint_ge(sizeof edit_cases / sizeof edit_cases[0], 25);
    for (size_t i = 0; i < sizeof edit_cases / sizeof edit_cases[0]; i++) {
        size_t size;
        unsigned char *buf = edited(edit_cases[i].edit, &size);
        expect_refused(&w, edit_cases[i].name, buf, size, edit_cases[i].code,
                       edit_cases[i].piece);
        free(buf);
    }
}
END_TEST

START_TEST(nan_is_refused_whatever_the_finite_checks)
{
    size_t size;
    unsigned char *buf = edited(e_nan, &size);
    /* the checks of the models' inputs do not govern the checkpoint's values */
    ck_assert_int_eq(grugan_generator_set(w.g.gen, GRUGAN_KEY_CHECK_FINITE, 0), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_set(w.g.disc, GRUGAN_KEY_CHECK_FINITE, 0), GRUGAN_OK);
    expect_refused(&w, "NaN weight, checks off", buf, size, GRUGAN_E_NONFINITE,
                   "tensor 'generator.gru.weight_hh_l1' holds NaN or Inf");
    ck_assert_int_eq(grugan_generator_set(w.g.gen, GRUGAN_KEY_CHECK_FINITE, 1), GRUGAN_OK);
    expect_refused(&w, "NaN weight, checks on", buf, size, GRUGAN_E_NONFINITE,
                   "tensor 'generator.gru.weight_hh_l1' holds NaN or Inf");
    free(buf);
}
END_TEST

START_TEST(truncation_at_every_byte_names_its_region)
{
    const size_t hl = header_length(valid), data_start = 8 + hl;
    grugan__st_file f;
    char msg[256];
    size_t tested[3] = {0, 0, 0};
    ck_assert_int_eq(grugan__st_decode(grugan__default_context(), valid, valid_size, &f, msg,
                                       sizeof msg),
                     GRUGAN_OK);
    for (size_t cut = 0; cut < valid_size; cut++) {
        unsigned char *buf = malloc(cut ? cut : 1);
        char piece[160], name[64];
        memcpy(buf, valid, cut);
        if (cut < 8) {
            snprintf(piece, sizeof piece, "shorter than the 8-byte header length");
            tested[0]++;
        } else if (cut < data_start) {
            snprintf(piece, sizeof piece, "the header length is beyond the end of the file");
            tested[1]++;
        } else {
            /* the tensor holding the first missing byte is named (the
             * header lists the tensors in the order of their data) */
            const size_t at = cut - data_start;
            const char *holder = NULL;
            for (size_t i = 0; i < f.n_entries && !holder; i++) {
                const size_t b = (size_t)(f.entries[i].data - valid) - data_start;
                if (at >= b && at < b + 4 * f.entries[i].count) holder = f.entries[i].name;
            }
            ck_assert_ptr_nonnull(holder);
            snprintf(piece, sizeof piece, "tensor '%s' lies beyond the end of the file", holder);
            tested[2]++;
        }
        snprintf(name, sizeof name, "cut at %zu of %zu", cut, valid_size);
        expect_refused(&w, name, buf, cut, GRUGAN_E_FORMAT, piece);
        free(buf);
    }
    ck_assert(tested[0] == 8 && tested[1] == hl && tested[2] == valid_size - data_start);
    grugan__st_release(&f);
}
END_TEST

START_TEST(accepted_variations_load)
{
    snapshot before, after;
    size_t size, b, e, b2, e2;
    char first[256], second[256], swapped[600], both[600];
    unsigned char *buf;
    doc d;

    /* the header may list the tensors in another order than their data */
    entry_text(valid, "dataset.scaler_offset", first, sizeof first, &b, &e);
    entry_text(valid, "dataset.scaler_scale", second, sizeof second, &b2, &e2);
    snprintf(both, sizeof both, "%s,%s", first, second);
    snprintf(swapped, sizeof swapped, "%s,%s", second, first);
    buf = header_edit(valid, valid_size, both, swapped, 0, &size);
    snapshot_take(&w, &before);
    ck_assert_msg(grugan_trainer_load_buffer(w.g.tr, buf, size) == GRUGAN_OK, "%s",
                  grugan_trainer_message(w.g.tr));
    snapshot_take(&w, &after);
    ck_assert(snapshot_same(&before, &after));
    free(buf);
    free(after.values);

    /* seeds only say how the weights began: they need not match */
    doc_read(&d, valid, valid_size);
    meta_set(&d, "generator.seed", "999");
    meta_set(&d, "discriminator.seed", "0");
    /* the end of an epoch is a valid dataset position */
    meta_set(&d, "dataset.offset", "16");
    buf = doc_write(&d, &size);
    doc_free(&d);
    ck_assert_msg(grugan_trainer_load_buffer(w.g.tr, buf, size) == GRUGAN_OK, "%s",
                  grugan_trainer_message(w.g.tr));
    snapshot_take(&w, &after);
    ck_assert_uint_eq(after.counters[4], 16);
    ck_assert_mem_eq(after.values, before.values, before.count * sizeof(float));
    free(buf);
    free(after.values);

    /* a checkpoint of format version 2 (no final ranking's candidates) loads */
    doc_read(&d, valid, valid_size);
    meta_set(&d, "format_version", "2");
    meta_remove(&d, "selection.candidates");
    meta_remove(&d, "selection.kept");
    meta_remove(&d, "selection.ranked");
    buf = doc_write(&d, &size);
    doc_free(&d);
    ck_assert_msg(grugan_trainer_load_buffer(w.g.tr, buf, size) == GRUGAN_OK, "%s",
                  grugan_trainer_message(w.g.tr));
    snapshot_take(&w, &after);
    ck_assert_mem_eq(after.values, before.values, before.count * sizeof(float));
    free(buf);
    free(after.values);

    /* a checkpoint of format version 1 (no clock, no model selection) loads,
     * its clock and selection starting afresh */
    doc_read(&d, valid, valid_size);
    meta_set(&d, "format_version", "1");
    meta_remove(&d, "elapsed_microseconds");
    meta_remove(&d, "selection.evaluations");
    meta_remove(&d, "selection.best_step");
    meta_remove(&d, "selection.since_best");
    meta_remove(&d, "selection.quality_bits");
    meta_remove(&d, "selection.best_quality_bits");
    meta_remove(&d, "selection.candidates");
    meta_remove(&d, "selection.kept");
    meta_remove(&d, "selection.ranked");
    buf = doc_write(&d, &size);
    doc_free(&d);
    ck_assert_msg(grugan_trainer_load_buffer(w.g.tr, buf, size) == GRUGAN_OK, "%s",
                  grugan_trainer_message(w.g.tr));
    snapshot_take(&w, &after);
    ck_assert_mem_eq(after.values, before.values, before.count * sizeof(float));
    {
        grugan_progress p;
        p.struct_size = sizeof p;
        ck_assert_int_eq(grugan_trainer_progress(w.g.tr, &p), GRUGAN_OK);
        ck_assert(p.elapsed_seconds == 0.0 && p.evaluations == 0 && isnan(p.best_quality));
    }
    free(buf);
    free(before.values);
    free(after.values);
}
END_TEST

/* ---- size caps: what a hostile header can make the loaders allocate ------------- */

START_TEST(generator_sizes_beyond_the_file_are_refused_before_allocating)
{
    static const struct {
        const char *key, *value;
    } claims[] = {
        {"generator.hidden_size", "65536"},     /* 51 GB of weights */
        {"generator.hidden_size", "4294967296"},
        {"generator.noise_size", "4294967296"},
        {"generator.output_size", "100000000"},
        {"generator.num_layers", "1024"},       /* the most a generator may have */
        {"generator.num_layers", "1000000000"}, /* layers 10^9 */
    };
    for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
        grugan_generator *g = NULL;
        grugan_error err;
        unsigned char *buf;
        size_t size;
        doc d;
        int rc;
        doc_read(&d, valid, valid_size);
        meta_set(&d, claims[i].key, claims[i].value);
        buf = doc_write(&d, &size);
        doc_free(&d);
        largest = 0;
        rc = grugan_generator_load_buffer(w.ctx, buf, size, &g, &err);
        ck_assert_msg(rc == GRUGAN_E_FORMAT, "%s = %s: %d (%s)", claims[i].key, claims[i].value,
                      rc, err.message);
        ck_assert_ptr_null(g);
        ck_assert_msg(strstr(err.message, "more parameters than its") ||
                          strstr(err.message, "out of range"),
                      "%s = %s: %s", claims[i].key, claims[i].value, err.message);
        ck_assert_msg(largest <= cap_for(size), "%s = %s: allocated %zu bytes for %zu",
                      claims[i].key, claims[i].value, largest, size);
        free(buf);
    }
}
END_TEST

START_TEST(the_densest_json_header_stays_within_the_cap)
{
    /* {"a":[0,0,...]}: one JSON node per two header bytes, the most the
     * grammar allows, and the parser's one allocation holds them all */
    const size_t zeros = 100000, hl = 6 + 2 * zeros + 1, size = 8 + hl;
    unsigned char *buf = malloc(size);
    char *h = (char *)buf + 8;
    set_header_length(buf, hl);
    memcpy(h, "{\"a\":[", 6);
    for (size_t i = 0; i < zeros; i++) {
        h[6 + 2 * i] = '0';
        h[6 + 2 * i + 1] = ',';
    }
    h[6 + 2 * zeros - 1] = ']';
    h[6 + 2 * zeros] = '}';
    expect_refused(&w, "densest header", buf, size, GRUGAN_E_FORMAT,
                   "tensor 'a' is not an object");
    ck_assert_uint_ge(largest, zeros * 8); /* the nodes were allocated, within the cap */
    free(buf);
}
END_TEST

START_TEST(a_wide_first_csv_row_does_not_inflate_the_table)
{
    /* one row of 1001 fields, then 1000 line feeds: the table was sized
     * lines x fields (4 MB) before the rows were read */
    const size_t wide = 1000, lines = 1000, size = 1 + wide + lines;
    char *text = malloc(size);
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *ds = NULL;
    grugan_error err;
    text[0] = '1';
    memset(text + 1, ',', wide);
    memset(text + 1 + wide, '\n', lines);
    dc.sequence_length = 1;
    dc.csv_header = GRUGAN_CSV_HEADER_NO;
    largest = 0;
    ck_assert_int_eq(grugan_dataset_from_csv_buffer(w.ctx, &dc, text, size, &ds, &err),
                     GRUGAN_E_FORMAT); /* the empty fields are no numbers */
    ck_assert_msg(largest <= cap_for(size), "allocated %zu bytes for %zu", largest, size);
    free(text);
}
END_TEST

Suite *suite_malformed(void)
{
    Suite *s = suite_create("malformed");
    TCase *tc = tcase_create("checkpoints");
    TCase *caps = tcase_create("caps");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_checked_fixture(caps, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, the_unedited_checkpoint_and_its_reencoding_load);
    tcase_add_test(tc, header_text_edits_are_refused_by_name);
    tcase_add_test(tc, container_byte_edits_are_refused_by_name);
    tcase_add_test(tc, checkpoint_semantics_are_refused_by_name);
    tcase_add_test(tc, nan_is_refused_whatever_the_finite_checks);
    tcase_add_test(tc, truncation_at_every_byte_names_its_region);
    tcase_add_test(tc, accepted_variations_load);
    tcase_add_test(caps, generator_sizes_beyond_the_file_are_refused_before_allocating);
    tcase_add_test(caps, the_densest_json_header_stays_within_the_cap);
    tcase_add_test(caps, a_wide_first_csv_row_does_not_inflate_the_table);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, caps);
    return s;
}
