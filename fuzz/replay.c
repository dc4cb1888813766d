/*
 * replay.c - runs a fuzz target's LLVMFuzzerTestOneInput on every file named
 * on the command line, without libFuzzer, so that the corpora and the crash
 * reproducers are checked by `make check` with any compiler. A failing input
 * aborts the process, as under the fuzzer. Prints "replayed N inputs".
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>

/* Reads a whole file into a new allocation (at least one byte). */
static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    size_t cap = 0, n = 0;
    if (!f) return NULL;
    for (;;) {
        size_t got;
        if (n == cap) {
            unsigned char *grown;
            cap = cap ? 2 * cap : 4096;
            grown = realloc(data, cap);
            if (!grown) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
        }
        got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(data);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = n;
    return data;
}

int main(int argc, char **argv)
{
    int replayed = 0;
    for (int i = 1; i < argc; i++) {
        size_t size = 0;
        unsigned char *data = read_all(argv[i], &size), *copy;
        if (!data) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 1;
        }
        /* an exact-size copy, so that reading past the input is caught by
         * the sanitizers as it would be under libFuzzer */
        copy = malloc(size ? size : 1);
        if (!copy) {
            free(data);
            return 1;
        }
        for (size_t k = 0; k < size; k++) copy[k] = data[k];
        free(data);
        fprintf(stderr, "replay: %s\n", argv[i]);
        LLVMFuzzerTestOneInput(copy, size);
        free(copy);
        replayed++;
    }
    printf("replayed %d inputs\n", replayed);
    return 0;
}
