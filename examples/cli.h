/*
 * cli.h - command-line parsing shared by the example programs (train_csv,
 * sample, evaluate). Not part of the library: plain C on top of libc, so
 * that each example's main() shows only how it uses libgrugan.
 */
#ifndef GRUGAN_EXAMPLES_CLI_H
#define GRUGAN_EXAMPLES_CLI_H

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A whole non-negative decimal number, nothing else. */
static inline int cli_count(const char *s, unsigned long *out)
{
    char *end;
    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno || *end ? -1 : 0;
}

/* A finite number >= 0. */
static inline int cli_real(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return errno || *end || end == s || !isfinite(*out) || *out < 0 ? -1 : 0;
}

/* The index of `s` in the NULL-terminated `names`, or -1. */
static inline int cli_name(const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* Frees old and returns room for the comma-separated items of s, each of
 * `size` bytes (NULL if out of memory). */
static inline void *cli_list_room(const char *s, size_t size, void *old)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    free(old);
    return malloc(cap * size);
}

/* "1,2,5" into a new array of counts (*out, freed and replaced; *n its
 * length). */
static inline int cli_counts(const char *s, size_t **out, size_t *n)
{
    *n = 0;
    *out = cli_list_room(s, sizeof **out, *out);
    if (!*out) return -1;
    for (const char *p = s;;) {
        char *end;
        if (*p < '0' || *p > '9') return -1;
        errno = 0;
        (*out)[(*n)++] = strtoul(p, &end, 10);
        if (errno || (*end != ',' && *end != '\0')) return -1;
        if (*end == '\0') return 0;
        p = end + 1;
    }
}

/* "0,1,0.5" into a new array of finite floats (*out, freed and replaced;
 * *n its length). */
static inline int cli_floats(const char *s, float **out, size_t *n)
{
    *n = 0;
    *out = cli_list_room(s, sizeof **out, *out);
    if (!*out) return -1;
    for (const char *p = s;;) {
        char *end;
        double x;
        errno = 0;
        x = strtod(p, &end);
        if (errno || end == p || !isfinite(x) || fabs(x) > 3.4e38 ||
            (*end != ',' && *end != '\0'))
            return -1;
        (*out)[(*n)++] = (float)x;
        if (*end == '\0') return 0;
        p = end + 1;
    }
}

/* Whether s ends with suffix. */
static inline int cli_ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

#endif
