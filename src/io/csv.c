/* csv.c - numeric CSV text into a float table, and the locale-independent
 * decimal parser. One pass over the text after counting its line feeds (an
 * upper bound on the rows, so the table is allocated once). */
#include "io/csv.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* Decimal numbers                                                           */
/* ------------------------------------------------------------------------- */

/* Powers of ten exactly representable in double. */
static const double POW10[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Smallest double that rounds to +inf as a float: FLT_MAX + half an ulp. */
#define FLOAT_OVERFLOW_BOUND 0x1.ffffffp127

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* s[0..n) equals the lowercase word, ignoring ASCII case. */
static bool equals_nocase(const char *s, size_t n, const char *word)
{
    size_t i;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (word[i] == '\0' || c != word[i]) return false;
    }
    return word[i] == '\0';
}

/* 10^e for 0 <= e <= 66: exact up to 22, then at most two roundings. */
static double pow10_of(int e)
{
    double v = 1.0;
    while (e > 22) {
        v *= 1e22;
        e -= 22;
    }
    return v * POW10[e];
}

int grugan__parse_float(const char *s, size_t n, float *out)
{
    size_t i = 0;
    bool neg = false, any = false;
    uint64_t m = 0;   /* first 19 significant digits */
    int sig = 0;      /* significant digits in m */
    int64_t e10 = 0;  /* value = m * 10^e10 (digits past the 19th dropped) */
    double v;
    float f;

    if (n == 0) return GRUGAN__NUM_EMPTY;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i = 1;
    }
    if (i < n && !is_digit(s[i]) && s[i] != '.') {
        if (equals_nocase(s + i, n - i, "inf") || equals_nocase(s + i, n - i, "infinity") ||
            equals_nocase(s + i, n - i, "nan"))
            return GRUGAN__NUM_NONFINITE;
        return GRUGAN__NUM_SYNTAX;
    }
    for (; i < n && is_digit(s[i]); i++) {
        any = true;
        if (sig < 19) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            if (m) sig++;
        } else {
            e10++;
        }
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && is_digit(s[i]); i++) {
            any = true;
            if (sig < 19) {
                m = m * 10 + (uint64_t)(s[i] - '0');
                e10--;
                if (m) sig++;
            }
        }
    }
    if (!any) return GRUGAN__NUM_SYNTAX;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        bool eneg = false, edigits = false;
        int64_t ev = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        for (; i < n && is_digit(s[i]); i++) {
            edigits = true;
            if (ev < 1000000) ev = ev * 10 + (s[i] - '0'); /* saturates: far beyond any float */
        }
        if (!edigits) return GRUGAN__NUM_SYNTAX;
        e10 += eneg ? -ev : ev;
    }
    if (i != n) return GRUGAN__NUM_SYNTAX;

    /* 1 <= m < 10^19, so m * 10^e10 >= 10^39 > FLT_MAX when e10 > 38, and
     * < 10^-46, under half the smallest subnormal (7.0e-46), when e10 < -65. */
    if (m == 0 || e10 < -65) {
        *out = neg ? -0.0f : 0.0f;
        return GRUGAN__NUM_OK;
    }
    if (e10 > 38) return GRUGAN__NUM_OVERFLOW;
    /* relative error of v below 2^-51: far inside half a float ulp */
    v = (double)m;
    if (e10 >= 0)
        v *= pow10_of((int)e10);
    else
        v /= pow10_of((int)-e10);
    if (v >= FLOAT_OVERFLOW_BOUND) return GRUGAN__NUM_OVERFLOW;
    f = (float)v;
    *out = neg ? -f : f;
    return GRUGAN__NUM_OK;
}

/* ------------------------------------------------------------------------- */
/* Fields and rows                                                           */
/* ------------------------------------------------------------------------- */

bool grugan__csv_delimiter_ok(int c)
{
    if (c < 1 || c > 255) return false;
    return c != '"' && c != '\r' && c != '\n' && !(c >= '0' && c <= '9') && c != '.' &&
           c != '+' && c != '-' && c != 'e' && c != 'E';
}

typedef struct cursor {
    const char *p, *end;
    size_t line; /* 1-based line of p */
    char delim;
    bool trim_space, trim_tab; /* spaces / tabs around fields are ignored */
} cursor;

typedef struct field {
    const char *s; /* content: trimmed, or between the quotes ("" left as is) */
    size_t n;
    size_t line; /* where the field starts */
} field;

/* The first number that failed in a row. */
typedef struct bad_field {
    int kind; /* GRUGAN__NUM_* */
    bool not_number; /* some field of the row is empty or no number at all */
    size_t line, column;
    const char *s;
    size_t n;
} bad_field;

#define FAIL(code, ...) (snprintf(msg, msg_cap, __VA_ARGS__), (code))

static bool is_blank(const cursor *c, char ch)
{
    return (ch == ' ' && c->trim_space) || (ch == '\t' && c->trim_tab);
}

/* Up to 24 bytes of s, non-printable bytes as '?', "..." if cut. */
static void snippet(char *dst, size_t cap, const char *s, size_t n)
{
    size_t k = 0;
    const size_t limit = 24;
    for (size_t i = 0; i < n && i < limit && k + 1 < cap; i++) {
        const unsigned char ch = (unsigned char)s[i];
        dst[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    dst[k] = '\0';
    if (n > limit && k + 4 <= cap) memcpy(dst + k, "...", 4);
}

/* True if the line at c->p holds only spaces and tabs; *next is the start of
 * the following line (or the end). */
static bool blank_line(const cursor *c, const char **next)
{
    const char *p = c->p;
    while (p < c->end && (*p == ' ' || *p == '\t')) p++;
    if (p < c->end && *p == '\r' && (p + 1 == c->end || p[1] == '\n')) p++;
    if (p == c->end) {
        *next = p;
        return true;
    }
    if (*p == '\n') {
        *next = p + 1;
        return true;
    }
    return false;
}

/* Reads one field at c->p (column is 1-based, for messages); *last tells
 * whether it ended its row. Leaves c->p at the next field or row. */
static int read_field(cursor *c, field *f, bool *last, size_t column, char *msg, size_t msg_cap)
{
    const char *p = c->p, *end = c->end;
    while (p < end && is_blank(c, *p)) p++;
    f->line = c->line;
    if (p < end && *p == '"') {
        const char *start = ++p;
        for (;;) {
            if (p == end)
                return FAIL(GRUGAN_E_FORMAT, "line %zu, column %zu: quoted field is never closed",
                            f->line, column);
            if (*p == '"') {
                if (p + 1 < end && p[1] == '"') {
                    p += 2;
                    continue;
                }
                break;
            }
            if (*p == '\n') c->line++;
            p++;
        }
        f->s = start;
        f->n = (size_t)(p - start);
        p++; /* the closing quote */
        while (p < end && is_blank(c, *p)) p++;
        if (p < end && *p != c->delim && *p != '\n' &&
            !(*p == '\r' && (p + 1 == end || p[1] == '\n')))
            return FAIL(GRUGAN_E_FORMAT,
                        "line %zu, column %zu: unexpected character after a closing quote",
                        c->line, column);
    } else {
        const char *start = p, *stop;
        while (p < end && *p != c->delim && *p != '\n') p++;
        stop = p;
        if ((p == end || *p == '\n') && stop > start && stop[-1] == '\r') stop--;
        while (stop > start && is_blank(c, stop[-1])) stop--;
        f->s = start;
        f->n = (size_t)(stop - start);
    }
    if (p < end && *p == c->delim) {
        c->p = p + 1;
        *last = false;
        return GRUGAN_OK;
    }
    *last = true;
    if (p < end && *p == '\r') p++;
    if (p < end && *p == '\n') {
        p++;
        c->line++;
    }
    c->p = p;
    return GRUGAN_OK;
}

/* Reads a row of nf fields, parsing the selected ones into row (nf). A
 * number that fails is recorded in *bad (the first one only); a wrong field
 * count fails right away. */
static int parse_row(cursor *c, size_t nf, const unsigned char *selected, float *row,
                     bad_field *bad, char *msg, size_t msg_cap)
{
    const size_t row_line = c->line;
    size_t col = 0;
    bool last = false;
    int rc;
    memset(bad, 0, sizeof *bad);
    do {
        field f;
        if (col == GRUGAN__CSV_MAX_FIELDS)
            return FAIL(GRUGAN_E_SIZE, "line %zu: more than %zu fields", row_line,
                        GRUGAN__CSV_MAX_FIELDS);
        if ((rc = read_field(c, &f, &last, col + 1, msg, msg_cap)) != GRUGAN_OK) return rc;
        if (col < nf && selected[col]) {
            const int kind = grugan__parse_float(f.s, f.n, &row[col]);
            if (kind == GRUGAN__NUM_SYNTAX || kind == GRUGAN__NUM_EMPTY) bad->not_number = true;
            if (kind != GRUGAN__NUM_OK && bad->kind == GRUGAN__NUM_OK) {
                bad->kind = kind;
                bad->line = f.line;
                bad->column = col + 1;
                bad->s = f.s;
                bad->n = f.n;
            }
        }
        col++;
    } while (!last);
    if (col != nf)
        return FAIL(GRUGAN_E_FORMAT, "line %zu: %zu field%s, expected %zu as on the first row",
                    row_line, col, col == 1 ? "" : "s", nf);
    return GRUGAN_OK;
}

static int number_error(const bad_field *b, char *msg, size_t msg_cap)
{
    char text[32];
    snippet(text, sizeof text, b->s, b->n);
    switch (b->kind) {
    case GRUGAN__NUM_EMPTY:
        return FAIL(GRUGAN_E_FORMAT, "line %zu, column %zu: empty field", b->line, b->column);
    case GRUGAN__NUM_NONFINITE:
        return FAIL(GRUGAN_E_NONFINITE, "line %zu, column %zu: \"%s\" is not a finite number",
                    b->line, b->column, text);
    case GRUGAN__NUM_OVERFLOW:
        return FAIL(GRUGAN_E_RANGE,
                    "line %zu, column %zu: %s is beyond the float range (3.4e38)", b->line,
                    b->column, text);
    default:
        return FAIL(GRUGAN_E_FORMAT, "line %zu, column %zu: \"%s\" is not a number", b->line,
                    b->column, text);
    }
}

/* Line feeds in data[0..size): one more than that bounds the rows. */
static size_t count_lines(const char *data, size_t size)
{
    size_t lines = 1;
    const char *p = data, *end = data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break;
        lines++;
        p = nl + 1;
    }
    return lines;
}

/* ------------------------------------------------------------------------- */
/* The table                                                                 */
/* ------------------------------------------------------------------------- */

int grugan__csv_parse(const grugan_context *ctx, const char *data, size_t size,
                      const grugan__csv_options *opt, grugan__csv_table *table, char *msg,
                      size_t msg_cap)
{
    cursor c, probe;
    size_t nf = 0, ncols, rows = 0, rows_cap, count, blank_at = 0;
    float *values = NULL, *row = NULL; /* (rows_cap, ncols), (nf) */
    unsigned char *selected = NULL;    /* (nf) */
    const char *next, *first_row;
    bool last = false, header = false;
    bad_field bad;
    int rc;

    memset(table, 0, sizeof *table);
    msg[0] = '\0';
    c.p = data;
    c.end = data + size;
    c.line = 1;
    c.delim = (char)opt->delimiter;
    c.trim_space = opt->delimiter != ' ';
    c.trim_tab = opt->delimiter != '\t';
    if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) c.p += 3; /* UTF-8 BOM */

    /* the first row: leading empty lines are refused, an all-blank text is empty */
    probe = c;
    while (probe.p < probe.end && blank_line(&probe, &next)) {
        probe.p = next;
        probe.line++;
    }
    if (probe.p == probe.end) return FAIL(GRUGAN_E_FORMAT, "empty input: no rows");
    if (probe.line != 1) return FAIL(GRUGAN_E_FORMAT, "line 1: empty line before the first row");

    /* its field count is every row's */
    do {
        field f;
        if (nf == GRUGAN__CSV_MAX_FIELDS)
            return FAIL(GRUGAN_E_SIZE, "line 1: more than %zu fields", GRUGAN__CSV_MAX_FIELDS);
        if ((rc = read_field(&probe, &f, &last, nf + 1, msg, msg_cap)) != GRUGAN_OK) return rc;
        nf++;
    } while (!last);
    if (opt->columns) {
        for (size_t k = 0; k < opt->num_columns; k++)
            if (opt->columns[k] >= nf)
                return FAIL(GRUGAN_E_RANGE,
                            "columns[%zu] = %zu is out of range: the CSV has %zu column%s "
                            "(0-based indices 0..%zu)",
                            k, opt->columns[k], nf, nf == 1 ? "" : "s", nf - 1);
        ncols = opt->num_columns;
    } else {
        ncols = nf;
    }

    /* rows: at most one per line feed, and, as a row holds nf - 1 delimiters
     * and a line feed (but the last), at most (bytes + 1) / nf: the table
     * stays proportional to the text even when the first row is wide */
    rows_cap = count_lines(c.p, (size_t)(c.end - c.p));
    if (((size_t)(c.end - c.p) + 1) / nf + 1 < rows_cap)
        rows_cap = ((size_t)(c.end - c.p) + 1) / nf + 1;
    if (!grugan__mul_size(rows_cap, ncols, &count) || count > SIZE_MAX / sizeof(float) ||
        nf > SIZE_MAX / (sizeof(float) + 1))
        return FAIL(GRUGAN_E_SIZE, "the CSV is too large: %zu lines of %zu columns", rows_cap,
                    ncols);
    values = grugan__alloc(ctx, count * sizeof(float));
    row = grugan__alloc(ctx, nf * (sizeof(float) + 1));
    if (!values || !row) {
        rc = FAIL(GRUGAN_E_NOMEM, "cannot allocate the table of %zu x %zu values", rows_cap,
                  ncols);
        goto fail;
    }
    selected = (unsigned char *)(row + nf);
    memset(selected, opt->columns ? 0 : 1, nf);
    if (opt->columns)
        for (size_t k = 0; k < ncols; k++) selected[opt->columns[k]] = 1;

    first_row = c.p;
    if (opt->header == GRUGAN_CSV_HEADER_YES) {
        c = probe;
        header = true;
    }
    while (c.p < c.end) {
        const bool is_first = c.p == first_row;
        if (blank_line(&c, &next)) {
            if (!blank_at) blank_at = c.line;
            c.p = next;
            c.line++;
            continue;
        }
        if (blank_at) {
            rc = FAIL(GRUGAN_E_FORMAT, "line %zu: empty line inside the data", blank_at);
            goto fail;
        }
        if (rows == GRUGAN__CSV_MAX_ROWS) {
            rc = FAIL(GRUGAN_E_SIZE, "line %zu: more than %zu data rows", c.line,
                      GRUGAN__CSV_MAX_ROWS);
            goto fail;
        }
        if ((rc = parse_row(&c, nf, selected, row, &bad, msg, msg_cap)) != GRUGAN_OK) goto fail;
        if (bad.kind != GRUGAN__NUM_OK) {
            /* AUTO: a first row with a field that is no number at all is a header */
            if (is_first && opt->header == GRUGAN_CSV_HEADER_AUTO && bad.not_number) {
                header = true;
                continue;
            }
            rc = number_error(&bad, msg, msg_cap);
            goto fail;
        }
        if (rows >= rows_cap) {
            rc = FAIL(GRUGAN_E_INTERNAL, "CSV row count beyond its bound");
            goto fail;
        }
        for (size_t k = 0; k < ncols; k++)
            values[rows * ncols + k] = row[opt->columns ? opt->columns[k] : k];
        rows++;
    }
    if (rows == 0) {
        rc = FAIL(GRUGAN_E_FORMAT, "a header (line 1) but no data rows");
        goto fail;
    }
    grugan__free(ctx, row);
    table->values = values;
    table->rows = rows;
    table->cols = ncols;
    table->file_columns = nf;
    table->has_header = header;
    return GRUGAN_OK;

fail:
    grugan__free(ctx, values);
    grugan__free(ctx, row);
    return rc;
}
