/* params.c - the named parameter table of a model. */
#include "model/params.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void grugan__params_init(grugan__params *p, const grugan_context *ctx)
{
    memset(p, 0, sizeof *p);
    grugan__object_init(&p->obj, GRUGAN__MAGIC_PARAMS, ctx);
}

int grugan__params_add(grugan__params *p, const char *name, size_t ndim, const size_t *shape)
{
    grugan__tensor *t;
    size_t count = 1;
    if (ndim == 0 || ndim > GRUGAN__MAX_DIMS || strlen(name) >= GRUGAN__NAME_CAP)
        return GRUGAN_E_INTERNAL;
    for (size_t i = 0; i < ndim; i++)
        if (!grugan__mul_size(count, shape[i], &count)) return GRUGAN_E_SIZE;
    if (p->n_tensors == p->cap_tensors) {
        size_t cap = p->cap_tensors ? 2 * p->cap_tensors : 16;
        grugan__tensor *grown = grugan__calloc(p->obj.ctx, cap, sizeof *grown);
        if (!grown) return GRUGAN_E_NOMEM;
        if (p->n_tensors) memcpy(grown, p->tensors, p->n_tensors * sizeof *grown);
        grugan__free(p->obj.ctx, p->tensors);
        p->tensors = grown;
        p->cap_tensors = cap;
    }
    t = &p->tensors[p->n_tensors];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, strlen(name) + 1);
    t->ndim = ndim;
    memcpy(t->shape, shape, ndim * sizeof *shape);
    t->offset = p->n_floats;
    t->count = count;
    if (!grugan__add_size(p->n_floats, count, &p->n_floats)) return GRUGAN_E_SIZE;
    p->n_tensors++;
    return GRUGAN_OK;
}

int grugan__params_add_gru(grugan__params *p, const grugan__gru_shape *s, const char *prefix,
                           size_t *first)
{
    const size_t H = s->hidden;
    size_t three_h;
    int rc;
    if (!grugan__mul_size(3, H, &three_h)) return GRUGAN_E_SIZE;
    *first = p->n_floats;
    for (size_t l = 0; l < s->layers; l++)
        for (size_t d = 0; d < s->dirs; d++) {
            const char *suffix = d ? "_reverse" : "";
            const size_t in = l == 0 ? s->input : s->dirs * H;
            const size_t w_ih[2] = {three_h, in}, w_hh[2] = {three_h, H}, b[1] = {three_h};
            char name[GRUGAN__NAME_CAP];
            snprintf(name, sizeof name, "%sweight_ih_l%zu%s", prefix, l, suffix);
            if ((rc = grugan__params_add(p, name, 2, w_ih)) != GRUGAN_OK) return rc;
            snprintf(name, sizeof name, "%sweight_hh_l%zu%s", prefix, l, suffix);
            if ((rc = grugan__params_add(p, name, 2, w_hh)) != GRUGAN_OK) return rc;
            snprintf(name, sizeof name, "%sbias_ih_l%zu%s", prefix, l, suffix);
            if ((rc = grugan__params_add(p, name, 1, b)) != GRUGAN_OK) return rc;
            snprintf(name, sizeof name, "%sbias_hh_l%zu%s", prefix, l, suffix);
            if ((rc = grugan__params_add(p, name, 1, b)) != GRUGAN_OK) return rc;
        }
    return GRUGAN_OK;
}

int grugan__params_allocate(grugan__params *p)
{
    size_t twice;
    if (!grugan__mul_size(p->n_floats, 2, &twice)) return GRUGAN_E_SIZE;
    /* one allocation: values, then gradients */
    p->values = grugan__calloc(p->obj.ctx, twice, sizeof(float));
    if (!p->values) return twice ? GRUGAN_E_NOMEM : GRUGAN_E_SIZE;
    p->grads = p->values + p->n_floats;
    return GRUGAN_OK;
}

void grugan__params_release(grugan__params *p)
{
    grugan__free(p->obj.ctx, p->tensors);
    grugan__free(p->obj.ctx, p->values);
    p->tensors = NULL;
    p->values = p->grads = NULL;
    p->n_tensors = p->cap_tensors = p->n_floats = 0;
    p->obj.magic = GRUGAN__MAGIC_DEAD;
}

int grugan__params_find(const grugan__params *p, const char *name, size_t *index)
{
    for (size_t i = 0; i < p->n_tensors; i++)
        if (strcmp(p->tensors[i].name, name) == 0) {
            *index = i;
            return GRUGAN_OK;
        }
    return GRUGAN_E_NOTFOUND;
}

/* ---- public API ------------------------------------------------------------ */

/* Refuses NULL or foreign sets; clears the message of a good one. */
#define CHECK_PARAMS(p)                                                                       \
    do {                                                                                      \
        if (!grugan__object_is((p), GRUGAN__MAGIC_PARAMS)) return GRUGAN_E_INVALID;           \
        grugan__clear((grugan__object *)&(p)->obj);                                           \
    } while (0)

/* The message of a const set is still the set's own state. */
#define FAIL(p, code, ...) grugan__fail((grugan__object *)&(p)->obj, (code), __VA_ARGS__)

const char *grugan_params_message(const grugan_params *params)
{
    if (!params) return "the parameter set is NULL";
    if (!grugan__object_is(params, GRUGAN__MAGIC_PARAMS)) return "not a parameter set";
    return params->obj.message;
}

size_t grugan_params_count(const grugan_params *params)
{
    return grugan__object_is(params, GRUGAN__MAGIC_PARAMS) ? params->n_tensors : 0;
}

size_t grugan_params_num_scalars(const grugan_params *params)
{
    return grugan__object_is(params, GRUGAN__MAGIC_PARAMS) ? params->n_floats : 0;
}

/* Tensor `index` after checking it exists and, when count_known, that count
 * matches its size; NULL after recording the failure in *status. */
static const grugan__tensor *tensor_at(const grugan_params *p, size_t index, size_t count,
                                       bool count_known, int *status)
{
    const grugan__tensor *t;
    if (index >= p->n_tensors) {
        *status = FAIL(p, GRUGAN_E_NOTFOUND, "no parameter tensor %zu (there are %zu)", index,
                       p->n_tensors);
        return NULL;
    }
    t = &p->tensors[index];
    if (count_known && count != t->count) {
        *status = FAIL(p, GRUGAN_E_SIZE, "%s has %zu elements, count is %zu", t->name,
                       t->count, count);
        return NULL;
    }
    return t;
}

int grugan_params_info(const grugan_params *params, size_t index, const char **name,
                       size_t *ndim, size_t *shape)
{
    const grugan__tensor *t;
    int rc = GRUGAN_OK;
    CHECK_PARAMS(params);
    if (!(t = tensor_at(params, index, 0, false, &rc))) return rc;
    if (name) *name = t->name;
    if (ndim) *ndim = t->ndim;
    if (shape)
        for (size_t i = 0; i < t->ndim; i++) shape[i] = t->shape[i];
    return GRUGAN_OK;
}

int grugan_params_find(const grugan_params *params, const char *name, size_t *index)
{
    CHECK_PARAMS(params);
    if (!name || !index) return FAIL(params, GRUGAN_E_INVALID, "name or index is NULL");
    if (grugan__params_find(params, name, index) != GRUGAN_OK)
        return FAIL(params, GRUGAN_E_NOTFOUND, "no parameter named '%s'", name);
    return GRUGAN_OK;
}

/* dst := block[tensor index]: the body of read and grad_read. */
static int copy_out(const grugan_params *p, size_t index, float *dst, size_t count,
                    const float *block)
{
    const grugan__tensor *t;
    int rc = GRUGAN_OK;
    if (!dst) return FAIL(p, GRUGAN_E_INVALID, "dst is NULL");
    if (!(t = tensor_at(p, index, count, true, &rc))) return rc;
    memcpy(dst, block + t->offset, t->count * sizeof *dst);
    return GRUGAN_OK;
}

/* block[tensor index] := src after checking it is finite: write, grad_write. */
static int copy_in(grugan_params *p, size_t index, const float *src, size_t count, float *block,
                   const char *what)
{
    const grugan__tensor *t;
    int rc = GRUGAN_OK;
    if (!src) return FAIL(p, GRUGAN_E_INVALID, "src is NULL");
    if (!(t = tensor_at(p, index, count, true, &rc))) return rc;
    if (!grugan__all_finite(src, count))
        return FAIL(p, GRUGAN_E_NONFINITE, "%s for %s contain NaN or Inf", what, t->name);
    memcpy(block + t->offset, src, count * sizeof *src);
    return GRUGAN_OK;
}

int grugan_params_read(const grugan_params *params, size_t index, float *dst, size_t count)
{
    CHECK_PARAMS(params);
    return copy_out(params, index, dst, count, params->values);
}

int grugan_params_grad_read(const grugan_params *params, size_t index, float *dst,
                            size_t count)
{
    CHECK_PARAMS(params);
    return copy_out(params, index, dst, count, params->grads);
}

int grugan_params_write(grugan_params *params, size_t index, const float *src, size_t count)
{
    CHECK_PARAMS(params);
    return copy_in(params, index, src, count, params->values, "values");
}

int grugan_params_grad_write(grugan_params *params, size_t index, const float *src,
                             size_t count)
{
    CHECK_PARAMS(params);
    return copy_in(params, index, src, count, params->grads, "gradients");
}

int grugan_params_zero_grad(grugan_params *params)
{
    CHECK_PARAMS(params);
    memset(params->grads, 0, params->n_floats * sizeof *params->grads);
    return GRUGAN_OK;
}

int grugan_params_read_all(const grugan_params *params, float *dst, size_t count)
{
    CHECK_PARAMS(params);
    if (!dst) return FAIL(params, GRUGAN_E_INVALID, "dst is NULL");
    if (count != params->n_floats)
        return FAIL(params, GRUGAN_E_SIZE, "the set has %zu values, count is %zu",
                    params->n_floats, count);
    memcpy(dst, params->values, count * sizeof *dst);
    return GRUGAN_OK;
}

int grugan_params_write_all(grugan_params *params, const float *src, size_t count)
{
    CHECK_PARAMS(params);
    if (!src) return FAIL(params, GRUGAN_E_INVALID, "src is NULL");
    if (count != params->n_floats)
        return FAIL(params, GRUGAN_E_SIZE, "the set has %zu values, count is %zu",
                    params->n_floats, count);
    if (!grugan__all_finite(src, count))
        return FAIL(params, GRUGAN_E_NONFINITE, "values contain NaN or Inf");
    memcpy(params->values, src, count * sizeof *src);
    return GRUGAN_OK;
}

int grugan_params_clamp(grugan_params *params, float limit)
{
    CHECK_PARAMS(params);
    if (!(limit > 0.0f) || !grugan__all_finite(&limit, 1))
        return FAIL(params, GRUGAN_E_RANGE, "clamp limit %g must be finite and positive",
                    (double)limit);
    for (size_t i = 0; i < params->n_floats; i++) {
        float v = params->values[i];
        params->values[i] = v > limit ? limit : v < -limit ? -limit : v;
    }
    return GRUGAN_OK;
}
