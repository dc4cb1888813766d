/* export.c - model architectures as metadata, and the generator-only export. */
#include "model/export.h"

#include "io/file.h"
#include "model/params.h"
#include "nn/gru.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define EXPORT_FORMAT "libgrugan-generator"
#define EXPORT_VERSION 1
#define EXPORT_CAP ((size_t)1 << 34)

static void put(grugan__arch *a, const char *prefix, const char *key, uint64_t value)
{
    snprintf(a->keys[a->n], GRUGAN__ARCH_KEY_CAP, "%s%s", prefix, key);
    snprintf(a->values[a->n], GRUGAN__ARCH_VALUE_CAP, "%" PRIu64, value);
    a->n++;
}

void grugan__arch_of_generator(const grugan_generator *gen, grugan__arch *a)
{
    grugan_generator_config c = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator_get_config(gen, &c);
    a->n = 0;
    put(a, "generator.", "noise_size", c.noise_size);
    put(a, "generator.", "output_size", c.output_size);
    put(a, "generator.", "hidden_size", c.hidden_size);
    put(a, "generator.", "num_layers", c.num_layers);
    put(a, "generator.", "condition_size", c.condition_size);
    put(a, "generator.", "covariate_size", c.covariate_size);
    put(a, "generator.", "noise_kind", (uint64_t)c.noise_kind);
    put(a, "generator.", "output_activation", (uint64_t)c.output_activation);
    put(a, "generator.", "convention", (uint64_t)c.convention);
    put(a, "generator.", "seed", c.seed);
}

void grugan__arch_of_discriminator(const grugan_discriminator *disc, grugan__arch *a)
{
    grugan_discriminator_config c = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    uint32_t slope_bits;
    grugan_discriminator_get_config(disc, &c);
    memcpy(&slope_bits, &c.leaky_slope, sizeof slope_bits);
    a->n = 0;
    put(a, "discriminator.", "kind", (uint64_t)c.kind);
    put(a, "discriminator.", "input_size", c.input_size);
    put(a, "discriminator.", "condition_size", c.condition_size);
    put(a, "discriminator.", "hidden_size", c.hidden_size);
    put(a, "discriminator.", "num_layers", c.num_layers);
    put(a, "discriminator.", "bidirectional", (uint64_t)c.bidirectional);
    put(a, "discriminator.", "convention", (uint64_t)c.convention);
    put(a, "discriminator.", "logits", (uint64_t)c.logits);
    put(a, "discriminator.", "sequence_length", c.sequence_length);
    put(a, "discriminator.", "conv_layers", c.conv_layers);
    put(a, "discriminator.", "channels", c.channels);
    put(a, "discriminator.", "kernel_size", c.kernel_size);
    put(a, "discriminator.", "stride", c.stride);
    put(a, "discriminator.", "padding", c.padding);
    put(a, "discriminator.", "leaky_slope_bits", slope_bits); /* the float's exact bits */
    put(a, "discriminator.", "seed", c.seed);
}

void grugan__arch_to_meta(const grugan__arch *arch, grugan__st_meta *meta, size_t *n)
{
    for (size_t i = 0; i < arch->n; i++) {
        meta[*n].key = arch->keys[i];
        meta[*n].value = arch->values[i];
        (*n)++;
    }
}

const char *grugan__arch_mismatch(const grugan__arch *arch, const grugan__st_file *file)
{
    for (size_t i = 0; i < arch->n; i++) {
        const char *v = grugan__st_meta_get(file, arch->keys[i]);
        /* the seed only says how the weights began; it need not match */
        if (strstr(arch->keys[i], ".seed")) continue;
        if (!v || strcmp(v, arch->values[i]) != 0) return arch->keys[i];
    }
    return NULL;
}

/* ---- generator-only export ------------------------------------------------------- */

/* Serializes weights, architecture and scaler. */
static int encode_generator(grugan_generator *gen, grugan__json_out *out)
{
    const grugan_context *ctx = out->ctx;
    const grugan_params *p = grugan_generator_params(gen);
    const size_t n_tensors = p->n_tensors + 2;
    grugan_generator_config c = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan__st_tensor *t = grugan__calloc(ctx, n_tensors, sizeof *t);
    char (*names)[GRUGAN__NAME_CAP + 16] = grugan__calloc(ctx, n_tensors, sizeof *names);
    float *scaler = NULL;
    grugan__st_meta meta[GRUGAN__ARCH_MAX + 3];
    grugan__arch arch;
    char version[8];
    size_t n = 0, n_meta = 0, fshape[1];
    int rc = GRUGAN_E_NOMEM;

    grugan_generator_get_config(gen, &c);
    fshape[0] = c.output_size;
    if (!t || !names) goto done;
    for (size_t i = 0; i < p->n_tensors; i++) {
        snprintf(names[n], sizeof names[n], "generator.%s", p->tensors[i].name);
        t[n] = (grugan__st_tensor){names[n], p->tensors[i].ndim, p->tensors[i].shape,
                                   p->values + p->tensors[i].offset};
        n++;
    }
    scaler = grugan__calloc(ctx, 2 * c.output_size, sizeof *scaler);
    if (!scaler) goto done;
    if (grugan_generator_get_scaler(gen, scaler, scaler + c.output_size) == GRUGAN_OK) {
        t[n++] = (grugan__st_tensor){"generator.scaler_offset", 1, fshape, scaler};
        t[n++] = (grugan__st_tensor){"generator.scaler_scale", 1, fshape, scaler + c.output_size};
    }
    snprintf(version, sizeof version, "%d", EXPORT_VERSION);
    meta[n_meta++] = (grugan__st_meta){"format", EXPORT_FORMAT};
    meta[n_meta++] = (grugan__st_meta){"format_version", version};
    meta[n_meta++] = (grugan__st_meta){"library_version", grugan_version_string()};
    grugan__arch_of_generator(gen, &arch);
    grugan__arch_to_meta(&arch, meta, &n_meta);
    rc = grugan__st_encode(t, n, meta, n_meta, out);
done:
    grugan__free(ctx, t);
    grugan__free(ctx, names);
    grugan__free(ctx, scaler);
    return rc;
}

int grugan_generator_save(grugan_generator *gen, const char *path)
{
    grugan__json_out out;
    char msg[GRUGAN__MESSAGE_CAP];
    int rc;
    grugan_params *p = grugan_generator_params(gen);
    if (!p) return GRUGAN_E_INVALID;
    if (!path) return grugan__fail((grugan__object *)gen, GRUGAN_E_INVALID, "path is NULL");
    grugan__json_out_init(&out, p->obj.ctx);
    rc = encode_generator(gen, &out);
    if (rc != GRUGAN_OK) {
        grugan__fail((grugan__object *)gen, rc, "cannot encode the generator (%s)",
                     grugan_status_string(rc));
    } else {
        rc = grugan__file_write_atomic(path, out.data, out.size, msg, sizeof msg);
        if (rc != GRUGAN_OK) grugan__fail((grugan__object *)gen, rc, "%s", msg);
    }
    grugan__json_out_release(&out);
    return rc;
}

int grugan_generator_save_buffer(grugan_generator *gen, void *buffer, size_t capacity,
                                 size_t *size)
{
    grugan__json_out out;
    int rc;
    grugan_params *p = grugan_generator_params(gen);
    if (!p) return GRUGAN_E_INVALID;
    if (!size) return grugan__fail((grugan__object *)gen, GRUGAN_E_INVALID, "size is NULL");
    grugan__json_out_init(&out, p->obj.ctx);
    rc = encode_generator(gen, &out);
    if (rc != GRUGAN_OK) {
        grugan__fail((grugan__object *)gen, rc, "cannot encode the generator (%s)",
                     grugan_status_string(rc));
    } else {
        *size = out.size;
        if (buffer && capacity >= out.size)
            memcpy(buffer, out.data, out.size);
        else if (buffer)
            rc = grugan__fail((grugan__object *)gen, GRUGAN_E_SIZE,
                              "the export needs %zu bytes, the buffer has %zu", out.size,
                              capacity);
    }
    grugan__json_out_release(&out);
    return rc;
}

/* Reads "generator.<key>" as a count into *v. */
static bool meta_count(const grugan__st_file *f, const char *key, uint64_t *v)
{
    char full[GRUGAN__ARCH_KEY_CAP];
    snprintf(full, sizeof full, "generator.%s", key);
    return grugan__st_meta_u64(f, full, v);
}

/* The generator's configuration from the metadata of either format. */
static int config_from(const grugan__st_file *f, grugan_generator_config *c, char *msg,
                       size_t cap)
{
    static const char *const keys[] = {"noise_size",     "output_size",    "hidden_size",
                                       "num_layers",     "condition_size", "covariate_size",
                                       "noise_kind",     "output_activation", "convention",
                                       "seed"};
    uint64_t v[10];
    for (size_t i = 0; i < 10; i++)
        if (!meta_count(f, keys[i], &v[i])) {
            snprintf(msg, cap, "metadata 'generator.%s' is missing or not a count", keys[i]);
            return GRUGAN_E_FORMAT;
        }
    for (size_t i = 0; i < 6; i++)
        if (v[i] > ((uint64_t)1 << 32)) {
            snprintf(msg, cap, "metadata 'generator.%s' is out of range", keys[i]);
            return GRUGAN_E_FORMAT;
        }
    for (size_t i = 6; i < 9; i++)
        if (v[i] > 16) {
            snprintf(msg, cap, "metadata 'generator.%s' is out of range", keys[i]);
            return GRUGAN_E_FORMAT;
        }
    c->noise_size = (size_t)v[0];
    c->output_size = (size_t)v[1];
    c->hidden_size = (size_t)v[2];
    c->num_layers = (size_t)v[3];
    c->condition_size = (size_t)v[4];
    c->covariate_size = (size_t)v[5];
    c->noise_kind = (int32_t)v[6];
    c->output_activation = (int32_t)v[7];
    c->convention = (int32_t)v[8];
    c->seed = v[9];
    if (c->hidden_size == 0 || c->num_layers == 0) {
        snprintf(msg, cap, "metadata: hidden_size and num_layers must be at least 1");
        return GRUGAN_E_FORMAT;
    }
    return GRUGAN_OK;
}

/* Parameters of the generator c describes (its GRU, then the head's F H +
 * F), or 0 if the count overflows or the layers exceed every model's limit
 * (which also bounds grugan__gru_param_floats's loop). */
static size_t param_count(const grugan_generator_config *c)
{
    grugan__gru_shape s = {0};
    size_t in, total, head;
    if (c->num_layers > GRUGAN__GRU_MAX_LAYERS ||
        !grugan__add_size(c->noise_size, c->condition_size, &in) ||
        !grugan__add_size(in, c->covariate_size, &in))
        return 0;
    s.input = in;
    s.hidden = c->hidden_size;
    s.layers = c->num_layers;
    s.dirs = 1;
    total = grugan__gru_param_floats(&s);
    if (total == 0 || !grugan__add_size(c->hidden_size, 1, &head) ||
        !grugan__mul_size(c->output_size, head, &head) || !grugan__add_size(total, head, &total))
        return 0;
    return total;
}

int grugan_generator_load_buffer(grugan_context *ctx, const void *buffer, size_t size,
                                 grugan_generator **out, grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_generator_config cfg = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *gen = NULL;
    grugan__st_file f;
    grugan_params *p;
    const char *format, *scaler_prefix, *weights_prefix = "generator.";
    char msg[GRUGAN__MESSAGE_CAP];
    float *tmp = NULL;
    bool *used = NULL, is_export;
    uint64_t version;
    int rc;

    if (err) {
        err->code = GRUGAN_OK;
        err->message[0] = '\0';
    }
    if (!out) return grugan__error_set(c, err, GRUGAN_E_INVALID, "out is NULL");
    *out = NULL;
    if (!buffer) return grugan__error_set(c, err, GRUGAN_E_INVALID, "buffer is NULL");
    rc = grugan__st_decode(c, buffer, size, &f, msg, sizeof msg);
    if (rc != GRUGAN_OK) return grugan__error_set(c, err, rc, "generator file: %s", msg);
    format = grugan__st_meta_get(&f, "format");
    is_export = format && strcmp(format, EXPORT_FORMAT) == 0;
    if (!format || (!is_export && strcmp(format, GRUGAN__CHECKPOINT_FORMAT) != 0)) {
        rc = grugan__error_set(c, err, GRUGAN_E_FORMAT,
                               "generator file: metadata 'format' is neither %s nor "
                               "libgrugan-trainer",
                               EXPORT_FORMAT);
        goto done;
    }
    if (!grugan__st_meta_u64(&f, "format_version", &version) || version == 0 ||
        version > (is_export ? EXPORT_VERSION : GRUGAN__CHECKPOINT_VERSION)) {
        rc = grugan__error_set(c, err, GRUGAN_E_FORMAT,
                               "generator file: format_version is missing, bad or newer than "
                               "this library reads");
        goto done;
    }
    if ((rc = config_from(&f, &cfg, msg, sizeof msg)) != GRUGAN_OK) {
        rc = grugan__error_set(c, err, rc, "generator file: %s", msg);
        goto done;
    }
    /* the weights must be in the file: refuse sizes it cannot hold before
     * allocating anything of that size */
    {
        const size_t count = param_count(&cfg);
        if (count == 0 || count > size / sizeof(float)) {
            rc = grugan__error_set(c, err, GRUGAN_E_FORMAT,
                                   "generator file: the metadata describe more parameters "
                                   "than its %zu bytes hold",
                                   size);
            goto done;
        }
    }
    rc = grugan_generator_create(ctx, &cfg, &gen, err);
    if (rc != GRUGAN_OK) {
        if (rc != GRUGAN_E_NOMEM) rc = GRUGAN_E_FORMAT; /* the file described a bad model */
        if (err) err->code = rc;
        goto done;
    }
    p = grugan_generator_params(gen);
    tmp = grugan__calloc(c, 2 * cfg.output_size, sizeof *tmp);
    used = grugan__calloc(c, f.n_entries ? f.n_entries : 1, sizeof *used);
    if (!tmp || !used) {
        rc = grugan__error_set(c, err, GRUGAN_E_NOMEM, "cannot allocate while loading");
        goto done;
    }
    /* a training checkpoint with model selection gives its best generator */
    if (!is_export) {
        char name[GRUGAN__NAME_CAP + 24];
        snprintf(name, sizeof name, GRUGAN__BEST_PREFIX "generator.%s", p->tensors[0].name);
        if (grugan__st_find(&f, name)) weights_prefix = GRUGAN__BEST_PREFIX "generator.";
    }
    for (size_t i = 0; i < p->n_tensors; i++) {
        const grugan__tensor *pt = &p->tensors[i];
        char name[GRUGAN__NAME_CAP + 24];
        const grugan__st_entry *e;
        bool same;
        snprintf(name, sizeof name, "%s%s", weights_prefix, pt->name);
        e = grugan__st_find(&f, name);
        same = e && e->ndim == pt->ndim;
        for (size_t d = 0; same && d < pt->ndim; d++) same = e->shape[d] == pt->shape[d];
        if (!same) {
            rc = grugan__error_set(c, err, GRUGAN_E_FORMAT,
                                   "generator file: tensor '%s' is missing or has another shape",
                                   name);
            goto done;
        }
        grugan__st_copy(e, p->values + pt->offset);
        if (!grugan__all_finite(p->values + pt->offset, pt->count)) {
            rc = grugan__error_set(c, err, GRUGAN_E_NONFINITE,
                                   "generator file: tensor '%s' holds NaN or Inf", name);
            goto done;
        }
        used[e - f.entries] = true;
    }
    /* the scaler: an export's own, or a training checkpoint's dataset scaler */
    scaler_prefix = is_export ? "generator.scaler_" : "dataset.scaler_";
    {
        char on[40], sn[40];
        const grugan__st_entry *eo, *es;
        snprintf(on, sizeof on, "%soffset", scaler_prefix);
        snprintf(sn, sizeof sn, "%sscale", scaler_prefix);
        eo = grugan__st_find(&f, on);
        es = grugan__st_find(&f, sn);
        if (eo || es) {
            if (!eo || !es || eo->ndim != 1 || es->ndim != 1 || eo->count != cfg.output_size ||
                es->count != cfg.output_size) {
                rc = grugan__error_set(c, err, GRUGAN_E_FORMAT,
                                       "generator file: the scaler needs %s and %s of %zu values",
                                       on, sn, cfg.output_size);
                goto done;
            }
            grugan__st_copy(eo, tmp);
            grugan__st_copy(es, tmp + cfg.output_size);
            rc = grugan_generator_set_scaler(gen, tmp, tmp + cfg.output_size);
            if (rc != GRUGAN_OK) {
                rc = grugan__error_set(c, err, rc == GRUGAN_E_NOMEM ? rc : GRUGAN_E_FORMAT,
                                       "generator file: bad scaler: %s",
                                       grugan_generator_message(gen));
                goto done;
            }
            used[eo - f.entries] = used[es - f.entries] = true;
        }
    }
    /* an export holds nothing else; a training checkpoint holds more */
    if (is_export)
        for (size_t i = 0; i < f.n_entries; i++)
            if (!used[i]) {
                rc = grugan__error_set(c, err, GRUGAN_E_FORMAT,
                                       "generator file: unexpected tensor '%s'", f.entries[i].name);
                goto done;
            }
    *out = gen;
    gen = NULL;
    rc = GRUGAN_OK;
done:
    grugan_generator_free(gen);
    grugan__free(c, tmp);
    grugan__free(c, used);
    grugan__st_release(&f);
    return rc;
}

int grugan_generator_load(grugan_context *ctx, const char *path, grugan_generator **out,
                          grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    void *data = NULL;
    size_t size = 0;
    char msg[GRUGAN__MESSAGE_CAP];
    int rc;
    if (err) {
        err->code = GRUGAN_OK;
        err->message[0] = '\0';
    }
    if (!out) return grugan__error_set(c, err, GRUGAN_E_INVALID, "out is NULL");
    *out = NULL;
    if (!path) return grugan__error_set(c, err, GRUGAN_E_INVALID, "path is NULL");
    rc = grugan__file_read(c, path, EXPORT_CAP, &data, &size, msg, sizeof msg);
    if (rc != GRUGAN_OK) return grugan__error_set(c, err, rc, "%s", msg);
    rc = grugan_generator_load_buffer(ctx, data, size, out, err);
    grugan__free(c, data);
    return rc;
}
