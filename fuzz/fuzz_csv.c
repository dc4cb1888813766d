/*
 * fuzz_csv.c - grugan_dataset_from_csv_buffer on arbitrary text.
 *
 * The first two bytes choose the configuration, the rest is the CSV text:
 *   byte 0: bits 0-1 header mode (3 means AUTO), bits 2-4 the delimiter
 *           (, ; tab space | : and two invalid ones), bits 5-6 the scaling
 *           (3 means MINMAX), bit 7 keep columns {1, 0} instead of all;
 *   byte 1: bits 0-2 sequence_length - 1 (1..8), bits 3-4 stride - 1 (1..4),
 *           bits 5-7 the seed.
 * An accepted dataset must pass fuzz_check_dataset.
 */
#include "fuzz_common.h"
#include "fuzz_dataset_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int delimiters[8] = {',', ';', '\t', ' ', '|', ':', '"', '7'};
    static const size_t columns[2] = {1, 0};
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *ds = NULL;
    grugan_error err;
    int rc;
    if (size < 2) return 0;
    cfg.csv_header = data[0] & 3;
    if (cfg.csv_header == 3) cfg.csv_header = GRUGAN_CSV_HEADER_AUTO;
    cfg.csv_delimiter = delimiters[(data[0] >> 2) & 7];
    cfg.scaling = (data[0] >> 5) & 3;
    if (cfg.scaling == 3) cfg.scaling = GRUGAN_SCALE_MINMAX;
    if (data[0] & 0x80) {
        cfg.columns = columns;
        cfg.num_columns = 2;
    }
    cfg.sequence_length = (size_t)(data[1] & 7) + 1;
    cfg.stride = (size_t)((data[1] >> 3) & 3) + 1;
    cfg.seed = (uint64_t)(data[1] >> 5);

    fuzz_cap_begin(size);
    rc = grugan_dataset_from_csv_buffer(fuzz_context(), &cfg, data + 2, size - 2, &ds, &err);
    if (rc == GRUGAN_OK) {
        fuzz_check_dataset(ds, cfg.scaling, cfg.sequence_length, cfg.columns ? 2 : 0);
        grugan_dataset_free(ds);
    } else if (ds || err.code != rc || err.message[0] == '\0') {
        fuzz_fail("csv: bad failure report");
    } else if (rc != GRUGAN_E_FORMAT && rc != GRUGAN_E_NONFINITE && rc != GRUGAN_E_RANGE &&
               rc != GRUGAN_E_SIZE && rc != GRUGAN_E_NOMEM) {
        fuzz_fail("csv: undocumented status");
    }
    fuzz_cap_end();
    return 0;
}
