/*
 * npy.h - a strict reader of NumPy .npy arrays of float32 or float64.
 *
 * Accepted: magic "\x93NUMPY", versions 1.0, 2.0 and 3.0; a header that is
 * exactly a Python dict literal with the keys 'descr' ('<f4' or '<f8'),
 * 'fortran_order' (False) and 'shape' (a tuple of 2 or 3 positive integers),
 * followed by spaces or newlines only; data of exactly the shape's size.
 * Every value must be finite (and, for float64, within the float range).
 */
#ifndef GRUGAN_IO_NPY_H
#define GRUGAN_IO_NPY_H

#include "core/core.h"

#include <stddef.h>

typedef struct grugan__npy_array {
    float *values;   /* (shape[0], ..., shape[ndim-1]), one allocation from the context */
    size_t ndim;     /* 2 or 3 */
    size_t shape[3];
} grugan__npy_array;

/*
 * Parses `size` bytes of .npy data. On success fills *array (release its
 * values with grugan__free). On failure returns GRUGAN_E_FORMAT (magic,
 * version, header, dtype, order, number of dimensions, data size),
 * GRUGAN_E_SIZE (empty array, shape product overflow), GRUGAN_E_NONFINITE /
 * GRUGAN_E_RANGE (a value, with its flat index) or GRUGAN_E_NOMEM, with a
 * message in msg.
 */
int grugan__npy_parse(const grugan_context *ctx, const void *data, size_t size,
                      grugan__npy_array *array, char *msg, size_t msg_cap);

#endif
