/*
 * fuzz_npy.c - grugan_dataset_from_npy_buffer on arbitrary bytes.
 *
 * Every input is read three times: with sequence_length 0 (3-D arrays as
 * they are; 2-D refused), with sequence_length 2, stride 1 or 2, columns {0}
 * and the symmetric scaling, and with sequence_length 1 and no scaling. An
 * accepted dataset must pass fuzz_check_dataset.
 */
#include "fuzz_common.h"
#include "fuzz_dataset_check.h"

static void read_once(const uint8_t *data, size_t size, const grugan_dataset_config *cfg)
{
    grugan_dataset *ds = NULL;
    grugan_error err;
    int rc = grugan_dataset_from_npy_buffer(fuzz_context(), cfg, data, size, &ds, &err);
    if (rc == GRUGAN_OK) {
        fuzz_check_dataset(ds, cfg->scaling, cfg->sequence_length, cfg->columns ? 1 : 0);
        grugan_dataset_free(ds);
    } else if (ds || err.code != rc || err.message[0] == '\0') {
        fuzz_fail("npy: bad failure report");
    } else if (rc != GRUGAN_E_FORMAT && rc != GRUGAN_E_NONFINITE && rc != GRUGAN_E_RANGE &&
               rc != GRUGAN_E_SIZE && rc != GRUGAN_E_NOMEM) {
        fuzz_fail("npy: undocumented status");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t first[1] = {0};
    grugan_dataset_config a = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset_config b = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset_config c = GRUGAN_DATASET_CONFIG_INIT;
    if (!data) data = (const uint8_t *)"";
    b.sequence_length = 2;
    b.stride = 1 + (size & 1);
    b.columns = first;
    b.num_columns = 1;
    b.scaling = GRUGAN_SCALE_MINMAX_SYM;
    c.sequence_length = 1;
    c.scaling = GRUGAN_SCALE_NONE;
    fuzz_cap_begin(size);
    read_once(data, size, &a);
    read_once(data, size, &b);
    read_once(data, size, &c);
    fuzz_cap_end();
    return 0;
}
