/* fuzz_dataset_check.h - what every dataset the CSV and NPY readers accept
 * must satisfy (shared by fuzz_csv.c and fuzz_npy.c). */
#ifndef GRUGAN_FUZZ_DATASET_CHECK_H
#define GRUGAN_FUZZ_DATASET_CHECK_H

#include "grugan.h"

/*
 * Aborts unless: the shape is positive, T is expected_steps (when not 0) and
 * F is expected_features (when not 0); the scaler is finite with non-zero
 * scales; every stored value is finite and, for the min-max scalings, within
 * [0, 1] or [-1, 1]; a minibatch can be drawn and the stream position read.
 */
void fuzz_check_dataset(grugan_dataset *ds, int scaling, size_t expected_steps,
                        size_t expected_features);

#endif
