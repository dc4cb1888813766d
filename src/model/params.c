/* params.c - the named parameter table of a model. */
#include "model/params.h"

#include <stdio.h>
#include <string.h>

void grugan__params_init(grugan__params *p, const grugan_context *ctx)
{
    memset(p, 0, sizeof *p);
    p->ctx = ctx;
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
        grugan__tensor *grown = grugan__calloc(p->ctx, cap, sizeof *grown);
        if (!grown) return GRUGAN_E_NOMEM;
        if (p->n_tensors) memcpy(grown, p->tensors, p->n_tensors * sizeof *grown);
        grugan__free(p->ctx, p->tensors);
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
    p->values = grugan__calloc(p->ctx, twice, sizeof(float));
    if (!p->values) return twice ? GRUGAN_E_NOMEM : GRUGAN_E_SIZE;
    p->grads = p->values + p->n_floats;
    return GRUGAN_OK;
}

void grugan__params_release(grugan__params *p)
{
    grugan__free(p->ctx, p->tensors);
    grugan__free(p->ctx, p->values);
    p->tensors = NULL;
    p->values = p->grads = NULL;
    p->n_tensors = p->cap_tensors = p->n_floats = 0;
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
