/*
 * csv.h - a strict reader of numeric CSV text, and the locale-independent
 * decimal parser it uses.
 *
 * Grammar: rows end with LF or CRLF (the last one optionally); fields are
 * separated by one delimiter byte; spaces and tabs around a field are
 * ignored (unless one of them is the delimiter); a field may be quoted with
 * '"' (RFC 4180: "" is a quote, the delimiter and line ends are allowed
 * inside). A UTF-8 byte order mark at the start is skipped. Empty lines at
 * the end are ignored; an empty line followed by more rows is an error.
 * Every row has as many fields as the first one. Only the selected columns
 * are parsed as numbers; the others may hold anything (dates, names).
 */
#ifndef GRUGAN_IO_CSV_H
#define GRUGAN_IO_CSV_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>

/* Most rows, and most fields in a row, a CSV may have. */
#define GRUGAN__CSV_MAX_ROWS ((size_t)1 << 31)
#define GRUGAN__CSV_MAX_FIELDS ((size_t)1 << 31)

/* Results of grugan__parse_float. */
enum {
    GRUGAN__NUM_OK = 0,
    GRUGAN__NUM_EMPTY,     /* nothing (after trimming nothing is left) */
    GRUGAN__NUM_SYNTAX,    /* not a decimal number */
    GRUGAN__NUM_NONFINITE, /* inf, infinity or nan (any case, any sign) */
    GRUGAN__NUM_OVERFLOW   /* finite but beyond the float range */
};

/*
 * Parses exactly the n bytes at s as a decimal number, without the locale:
 *   [+-] (digits [. digits*] | . digits) [(e|E) [+-] digits]
 * The float is within one ulp of the exact value (in practice correctly
 * rounded: the value is formed in double precision from a 19-digit integer
 * and an exact or twice-rounded power of ten, then rounded once to float).
 * Values too small for a float become a zero of the same sign.
 */
int grugan__parse_float(const char *s, size_t n, float *out);

typedef struct grugan__csv_options {
    int header;              /* GRUGAN_CSV_HEADER_* */
    unsigned char delimiter; /* not '"', CR, LF, a digit, '.', '+', '-', 'e', 'E' */
    const size_t *columns;   /* 0-based file columns to keep, in this order; NULL: all */
    size_t num_columns;      /* entries of columns */
} grugan__csv_options;

typedef struct grugan__csv_table {
    float *values;       /* (rows, cols), one allocation from the context */
    size_t rows, cols;   /* data rows; kept columns */
    size_t file_columns; /* fields per row in the file */
    bool has_header;
} grugan__csv_table;

/* True if c may serve as a delimiter. */
bool grugan__csv_delimiter_ok(int c);

/*
 * Parses `size` bytes of CSV text. On success fills *table (release its
 * values with grugan__free). On failure returns GRUGAN_E_FORMAT (syntax,
 * field counts, empty input, header without data), GRUGAN_E_NONFINITE
 * (nan/inf fields), GRUGAN_E_RANGE (a number beyond the float range, a
 * column index out of range), GRUGAN_E_SIZE (too many rows or fields) or
 * GRUGAN_E_NOMEM, with a message in msg naming the line and column (both
 * 1-based, the header line counted).
 */
int grugan__csv_parse(const grugan_context *ctx, const char *data, size_t size,
                      const grugan__csv_options *options, grugan__csv_table *table, char *msg,
                      size_t msg_cap);

#endif
