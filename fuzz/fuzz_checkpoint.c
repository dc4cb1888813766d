/*
 * fuzz_checkpoint.c - the checkpoint loaders on arbitrary bytes.
 *
 * Each input goes to grugan_trainer_load_buffer on the small fixed trainer of
 * fuzz_common.c and to grugan_generator_load_buffer. Checked besides the
 * sanitizers and the allocation caps:
 *   - a failed trainer load leaves every weight, optimizer state, position
 *     and counter as it was, and names the problem in the trainer's message;
 *   - a successful one can be saved again, and that save loads back;
 *   - a loaded generator samples, and its own export loads back with the same
 *     parameter bits;
 *   - status codes are ones the loaders document.
 */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

static int documented(int rc)
{
    return rc == GRUGAN_E_FORMAT || rc == GRUGAN_E_NONFINITE || rc == GRUGAN_E_NOMEM;
}

static void trainer_target(fuzz_world *w, const uint8_t *data, size_t size)
{
    static fuzz_snapshot before, after;
    int rc;
    fuzz_snapshot_take(w, &before);
    rc = grugan_trainer_load_buffer(w->tr, data, size);
    if (rc != GRUGAN_OK) {
        if (!documented(rc)) fuzz_fail("trainer load: undocumented status");
        if (grugan_trainer_message(w->tr)[0] == '\0') fuzz_fail("trainer load: no message");
        fuzz_snapshot_take(w, &after);
        if (!fuzz_snapshot_equal(&before, &after)) fuzz_fail("trainer load: a failure changed the state");
        return;
    }
    {
        size_t n = 0;
        void *again;
        if (grugan_trainer_save_buffer(w->tr, NULL, 0, &n) != GRUGAN_OK) fuzz_fail("trainer save: size");
        again = malloc(n);
        if (!again) fuzz_fail("out of memory");
        if (grugan_trainer_save_buffer(w->tr, again, n, &n) != GRUGAN_OK) fuzz_fail("trainer save");
        fuzz_snapshot_take(w, &before);
        if (grugan_trainer_load_buffer(w->tr, again, n) != GRUGAN_OK)
            fuzz_fail("trainer load: its own save does not load");
        fuzz_snapshot_take(w, &after);
        if (!fuzz_snapshot_equal(&before, &after)) fuzz_fail("trainer load: save and load changed the state");
        free(again);
    }
}

static void generator_target(const uint8_t *data, size_t size)
{
    grugan_context *ctx = fuzz_context();
    grugan_generator *g = NULL, *back = NULL;
    grugan_generator_config c = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_error err;
    float out[2 * 3 * 64], *cond = NULL, *cov = NULL;
    size_t n = 0, count;
    void *bytes;
    float *a, *b;
    int rc = grugan_generator_load_buffer(ctx, data, size, &g, &err);
    if (rc != GRUGAN_OK) {
        if (!documented(rc) || err.code != rc || err.message[0] == '\0' || g)
            fuzz_fail("generator load: bad failure report");
        return;
    }
    if (grugan_generator_get_config(g, &c) != GRUGAN_OK) fuzz_fail("generator: config");
    /* sample a little when the sizes are small enough for the buffers here */
    if (c.output_size <= 64 && c.condition_size <= 64 && c.covariate_size <= 64) {
        float zeros[2 * 3 * 64];
        memset(zeros, 0, sizeof zeros);
        cond = c.condition_size ? zeros : NULL;
        cov = c.covariate_size ? zeros : NULL;
        rc = grugan_generator_sample(g, 7, 2, 3, cond, cov, out);
        if (rc != GRUGAN_OK && rc != GRUGAN_E_NONFINITE && rc != GRUGAN_E_NOMEM)
            fuzz_fail("generator: sample failed");
    }
    /* its export loads back with the same bits */
    if (grugan_generator_save_buffer(g, NULL, 0, &n) != GRUGAN_OK) fuzz_fail("generator save: size");
    bytes = malloc(n);
    if (!bytes) fuzz_fail("out of memory");
    if (grugan_generator_save_buffer(g, bytes, n, &n) != GRUGAN_OK) fuzz_fail("generator save");
    if (grugan_generator_load_buffer(ctx, bytes, n, &back, &err) != GRUGAN_OK)
        fuzz_fail("generator load: its own export does not load");
    count = grugan_params_num_scalars(grugan_generator_params(g));
    if (count != grugan_params_num_scalars(grugan_generator_params(back)))
        fuzz_fail("generator: export changed the parameter count");
    a = malloc(count * sizeof *a);
    b = malloc(count * sizeof *b);
    if (!a || !b) fuzz_fail("out of memory");
    grugan_params_read_all(grugan_generator_params(g), a, count);
    grugan_params_read_all(grugan_generator_params(back), b, count);
    if (memcmp(a, b, count * sizeof *a) != 0) fuzz_fail("generator: export changed the parameters");
    free(a);
    free(b);
    free(bytes);
    grugan_generator_free(back);
    grugan_generator_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_world w;
    static int ready;
    if (!data) data = (const uint8_t *)"";
    if (!ready) {
        fuzz_world_make(fuzz_context(), &w);
        ready = 1;
    }
    fuzz_cap_begin(size);
    trainer_target(&w, data, size);
    generator_target(data, size);
    fuzz_cap_end();
    return 0;
}
