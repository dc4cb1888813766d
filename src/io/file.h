/* file.h - whole-file reads and atomic writes. */
#ifndef GRUGAN_IO_FILE_H
#define GRUGAN_IO_FILE_H

#include "core/core.h"

#include <stddef.h>

/* Reads the whole file at path (a regular file or a pipe, at most `cap`
 * bytes) into one allocation the caller frees with grugan__free(ctx, *data)
 * (at least one byte is allocated, so *data is never NULL on success).
 * GRUGAN_E_IO (missing, unreadable, a directory), GRUGAN_E_SIZE (larger than
 * cap) or GRUGAN_E_NOMEM, with a message naming the path. */
int grugan__file_read(const grugan_context *ctx, const char *path, size_t cap, void **data,
                      size_t *size, char *msg, size_t msg_cap);

/* The last `keep` characters of a path, for messages. */
const char *grugan__path_tail(const char *path, size_t keep);

/* Replaces the file at path with `size` bytes atomically: writes a temporary
 * file in the same directory, flushes it to disk, renames it over path and
 * flushes the directory. On any failure (full disk, no permission, missing
 * directory) the temporary file is removed and the previous file at path is
 * untouched. GRUGAN_E_IO with a message naming the step and the reason.
 * An existing path that is neither a regular file nor a directory (a device
 * such as /dev/null or /dev/full, a FIFO) is written in place instead. */
int grugan__file_write_atomic(const char *path, const void *data, size_t size, char *msg,
                              size_t msg_cap);

#endif
