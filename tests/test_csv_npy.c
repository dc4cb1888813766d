/* test_csv_npy.c - the decimal parser against strtof, the CSV and NPY
 * readers on good and malformed input (buffers, files in a temporary
 * directory, the fixtures in tests/data), and their messages. */
#include "suites.h"

#include "grugan.h"
#include "io/csv.h"
#include "io/npy.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------- */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------- */

static uint32_t float_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* Distance in ulps between two finite floats of any sign. */
static uint64_t ulp_distance(float a, float b)
{
    const uint32_t ba = float_bits(a), bb = float_bits(b);
    /* map to a monotonic integer line: negatives below zero */
    const int64_t ia = (ba >> 31) ? -(int64_t)(ba & 0x7fffffffu) : (int64_t)ba;
    const int64_t ib = (bb >> 31) ? -(int64_t)(bb & 0x7fffffffu) : (int64_t)bb;
    return (uint64_t)(ia > ib ? ia - ib : ib - ia);
}

/* A small deterministic generator for the tests (xorshift64*). */
static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 2685821657736338717ull;
}

static int parse(const char *s, float *out)
{
    return grugan__parse_float(s, strlen(s), out);
}

/* Parses a CSV buffer with the given options into *t; returns the status. */
static int csv(const char *text, int header, char delim, const size_t *cols, size_t ncols,
               grugan__csv_table *t, char *msg)
{
    grugan__csv_options o;
    o.header = header;
    o.delimiter = (unsigned char)delim;
    o.columns = cols;
    o.num_columns = ncols;
    return grugan__csv_parse(grugan__default_context(), text, strlen(text), &o, t, msg,
                             GRUGAN__MESSAGE_CAP);
}

/* A CSV that must fail with `code` and a message containing `want`. */
static void csv_bad(const char *text, int header, int code, const char *want)
{
    grugan__csv_table t;
    char msg[GRUGAN__MESSAGE_CAP];
    const int rc = csv(text, header, ',', NULL, 0, &t, msg);
    ck_assert_msg(rc == code, "CSV \"%s\": status %d, expected %d (%s)", text, rc, code, msg);
    ck_assert_msg(strstr(msg, want) != NULL, "CSV \"%s\": message \"%s\" lacks \"%s\"", text,
                  msg, want);
    ck_assert_ptr_null(t.values);
}

/* The dataset of a CSV buffer through the public API, unscaled, T = 1. */
static int csv_dataset(const char *text, const size_t *cols, size_t ncols, grugan_dataset **ds,
                       grugan_error *err)
{
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    cfg.sequence_length = 1;
    cfg.scaling = GRUGAN_SCALE_NONE;
    cfg.columns = cols;
    cfg.num_columns = ncols;
    return grugan_dataset_from_csv_buffer(NULL, &cfg, text, strlen(text), ds, err);
}

/* An .npy image: preamble of `version`, the header dict padded to 64 bytes
 * with spaces and '\n', then `data_size` bytes of data. Caller frees. */
static unsigned char *npy_image(int version, const char *dict, const void *data,
                                size_t data_size, size_t *size)
{
    const size_t pre = version == 1 ? 10 : 12, dict_len = strlen(dict);
    size_t header_len = dict_len + 1, total;
    unsigned char *b;
    while ((pre + header_len) % 64) header_len++;
    total = pre + header_len + data_size;
    b = malloc(total);
    ck_assert_ptr_nonnull(b);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)version;
    b[7] = 0;
    if (version == 1) {
        b[8] = (unsigned char)(header_len & 0xff);
        b[9] = (unsigned char)(header_len >> 8);
    } else {
        for (int i = 0; i < 4; i++) b[8 + i] = (unsigned char)(header_len >> (8 * i));
    }
    memcpy(b + pre, dict, dict_len);
    memset(b + pre + dict_len, ' ', header_len - dict_len - 1);
    b[pre + header_len - 1] = '\n';
    if (data_size) memcpy(b + pre + header_len, data, data_size);
    *size = total;
    return b;
}

static int npy(const unsigned char *b, size_t size, grugan__npy_array *a, char *msg)
{
    return grugan__npy_parse(grugan__default_context(), b, size, a, msg, GRUGAN__MESSAGE_CAP);
}

/* An .npy image that must fail with `code` and a message containing `want`. */
static void npy_bad(const unsigned char *b, size_t size, int code, const char *want,
                    const char *what)
{
    grugan__npy_array a;
    char msg[GRUGAN__MESSAGE_CAP];
    const int rc = npy(b, size, &a, msg);
    ck_assert_msg(rc == code, "%s: status %d, expected %d (%s)", what, rc, code, msg);
    ck_assert_msg(strstr(msg, want) != NULL, "%s: message \"%s\" lacks \"%s\"", what, msg, want);
    ck_assert_ptr_null(a.values);
}

static void npy_bad_dict(const char *dict, const void *data, size_t data_size, int code,
                         const char *want)
{
    size_t size;
    unsigned char *b = npy_image(1, dict, data, data_size, &size);
    npy_bad(b, size, code, want, dict);
    free(b);
}

/* A temporary directory for files; removed with its files by tmp_done. */
static char tmp_dir[256];

static void tmp_init(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/grugan-csvnpy-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
}

static void tmp_path(char *dst, size_t cap, const char *name)
{
    snprintf(dst, cap, "%s/%s", tmp_dir, name);
}

static void write_file(const char *name, const void *data, size_t size)
{
    char path[512];
    FILE *fp;
    tmp_path(path, sizeof path, name);
    fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, size, fp), size);
    ck_assert_int_eq(fclose(fp), 0);
}

static void tmp_remove(const char *name)
{
    char path[512];
    tmp_path(path, sizeof path, name);
    remove(path);
}

static void tmp_done(void)
{
    rmdir(tmp_dir);
}

/* ------------------------------------------------------------------------- */
/* Decimal numbers                                                           */
/* ------------------------------------------------------------------------- */

START_TEST(numbers_of_every_form)
{
    static const struct {
        const char *text;
        float value;
    } good[] = {
        {"0", 0.0f}, {"1", 1.0f}, {"+2", 2.0f}, {"-3", -3.0f}, {".5", 0.5f}, {"5.", 5.0f},
        {"-.25", -0.25f}, {"1E+3", 1000.0f}, {"1e3", 1000.0f}, {"2.5e-1", 0.25f},
        {"1e-45", 1.40129846e-45f}, {"3.4028234e38", 3.40282347e38f},
        {"3.4028235e38", 3.40282347e38f}, {"1.17549435e-38", 1.17549435e-38f},
        {"0.000000000000000000000000000000000000000000001", 1.40129846e-45f},
        {"100000000000000000000000000000", 1e29f}, {"00012.50", 12.5f}, {"1e-50", 0.0f},
        {"0e999999999999", 0.0f}, {"0.1", 0.1f}, {"123456789", 123456789.0f},
        {"16777217", 16777216.0f}, {"16777219", 16777220.0f},
        {"0.30000000000000000000000000000000001", 0.3f},
        {"1234567890123456789012345678901234567890e-20", 1.23456789e19f},
    };
    static const char *const syntax[] = {
        ".", "e5", "1e", "1e+", "--1", "+-1", "1.2.3", "0x10", "1,5", " 1", "1 ", "1d", "abc",
        "infinit", "nanx", "1e5.5", "+", "-", "1_000", "\xe2\x88\x9e",
    };
    static const char *const nonfinite[] = {"inf", "-inf", "+INF", "Infinity", "-infinity",
                                            "nan", "NaN", "-NAN"};
    static const char *const overflow[] = {"3.4028236e38", "1e39", "-1e39", "1e400",
                                           "1e99999999999999", "340282357000000000000000000000000000000"};
    float f;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        f = 99.0f;
        ck_assert_msg(parse(good[i].text, &f) == GRUGAN__NUM_OK, "%s refused", good[i].text);
        ck_assert_msg(float_bits(f) == float_bits(good[i].value), "%s gave %.9g, expected %.9g",
                      good[i].text, (double)f, (double)good[i].value);
    }
    ck_assert_int_eq(parse("-0.0", &f), GRUGAN__NUM_OK);
    ck_assert_msg(f == 0.0f && signbit(f), "-0.0 lost its sign");
    ck_assert_int_eq(parse("-1e-60", &f), GRUGAN__NUM_OK);
    ck_assert_msg(f == 0.0f && signbit(f), "-1e-60 is not -0");
    ck_assert_int_eq(parse("", &f), GRUGAN__NUM_EMPTY);
    for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++)
        ck_assert_msg(parse(syntax[i], &f) == GRUGAN__NUM_SYNTAX, "%s accepted", syntax[i]);
    for (size_t i = 0; i < sizeof nonfinite / sizeof nonfinite[0]; i++)
        ck_assert_msg(parse(nonfinite[i], &f) == GRUGAN__NUM_NONFINITE, "%s not refused",
                      nonfinite[i]);
    for (size_t i = 0; i < sizeof overflow / sizeof overflow[0]; i++)
        ck_assert_msg(parse(overflow[i], &f) == GRUGAN__NUM_OVERFLOW, "%s not refused",
                      overflow[i]);
    /* only the n bytes given are read */
    ck_assert_int_eq(grugan__parse_float("12345", 2, &f), GRUGAN__NUM_OK);
    ck_assert_float_eq(f, 12.0f);
}
END_TEST

/* Random finite floats printed in several formats, and random decimal
 * strings of up to 30 digits: within one ulp of strtof in the C locale,
 * and bit-exact where the text is a float's shortest round-trip form. */
START_TEST(numbers_match_strtof_in_the_c_locale)
{
    char text[96];
    size_t worse = 0, inexact = 0, total = 0;
    ck_assert_ptr_nonnull(setlocale(LC_NUMERIC, "C"));
    rnd_state = 12345;
    for (int i = 0; i < 60000; i++) {
        uint32_t bits = (uint32_t)rnd();
        float x, got = 0, want;
        if ((bits & 0x7f800000u) == 0x7f800000u) continue;
        memcpy(&x, &bits, sizeof x);
        switch (i % 4) {
        case 0: snprintf(text, sizeof text, "%.9g", (double)x); break;
        case 1: snprintf(text, sizeof text, "%.6e", (double)x); break;
        case 2: snprintf(text, sizeof text, "%.17g", (double)x); break;
        default: snprintf(text, sizeof text, "%.3f", (double)x); break;
        }
        if (strlen(text) > 60) continue;
        total++;
        if (parse(text, &got) != GRUGAN__NUM_OK) ck_abort_msg("%s refused", text);
        want = strtof(text, NULL);
        if ((i % 4 == 0 || i % 4 == 2) && float_bits(got) != bits)
            ck_abort_msg("%s gave %.9g, not the float it came from", text, (double)got);
        if (ulp_distance(got, want) > 1) worse++;
        if (float_bits(got) != float_bits(want)) inexact++;
    }
    for (int i = 0; i < 60000; i++) {
        const int digits = 1 + (int)(rnd() % 30), dot = (int)(rnd() % (uint64_t)(digits + 1));
        const int exp10 = (int)(rnd() % 110) - 70;
        size_t k = 0;
        float got = 0, want;
        int st;
        if (rnd() & 1) text[k++] = '-';
        for (int d = 0; d < digits; d++) {
            if (d == dot) text[k++] = '.';
            text[k++] = (char)('0' + rnd() % 10);
        }
        k += (size_t)snprintf(text + k, sizeof text - k, "e%d", exp10);
        total++;
        st = parse(text, &got);
        errno = 0;
        want = strtof(text, NULL);
        if (isinf(want)) {
            if (st != GRUGAN__NUM_OVERFLOW) ck_abort_msg("%s: overflow not reported", text);
            continue;
        }
        if (st != GRUGAN__NUM_OK) ck_abort_msg("%s refused (%d)", text, st);
        if (ulp_distance(got, want) > 1)
            ck_abort_msg("%s gave %.9g, strtof %.9g", text, (double)got, (double)want);
        if (float_bits(got) != float_bits(want)) inexact++;
    }
    ck_assert_msg(worse == 0, "%zu values beyond one ulp", worse);
    /* one rounding in double precision before the float: essentially exact */
    ck_assert_msg(inexact * 10000 <= total, "%zu of %zu not correctly rounded", inexact, total);
}
END_TEST

START_TEST(numbers_ignore_the_locale)
{
    const char *text = "x,y\n1.5,2.25\n-0.5,1e3\n";
    grugan__csv_table t;
    char msg[GRUGAN__MESSAGE_CAP];
    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") && !setlocale(LC_NUMERIC, "de_DE.utf8") &&
        !setlocale(LC_NUMERIC, "fr_FR.UTF-8"))
        return; /* no locale with a decimal comma here */
    ck_assert_int_eq(csv(text, GRUGAN_CSV_HEADER_AUTO, ',', NULL, 0, &t, msg), GRUGAN_OK);
    setlocale(LC_NUMERIC, "C");
    ck_assert_uint_eq(t.rows, 2);
    ck_assert_float_eq(t.values[0], 1.5f);
    ck_assert_float_eq(t.values[1], 2.25f);
    ck_assert_float_eq(t.values[2], -0.5f);
    ck_assert_float_eq(t.values[3], 1000.0f);
    free(t.values);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* CSV                                                                       */
/* ------------------------------------------------------------------------- */

/* Table values equal `want` (rows x cols). */
static void table_is(const grugan__csv_table *t, size_t rows, size_t cols, const float *want,
                     const char *what)
{
    ck_assert_msg(t->rows == rows && t->cols == cols, "%s: %zu x %zu, expected %zu x %zu", what,
                  t->rows, t->cols, rows, cols);
    for (size_t i = 0; i < rows * cols; i++)
        if (float_bits(t->values[i]) != float_bits(want[i]))
            ck_abort_msg("%s: value %zu is %.9g, expected %.9g", what, i, (double)t->values[i],
                         (double)want[i]);
}

START_TEST(csv_good_forms)
{
    static const struct {
        const char *text;
        int header;
        char delim;
        size_t rows, cols;
        bool has_header;
        float want[8];
    } cases[] = {
        {"a,b\n1,2\n3,4\n", GRUGAN_CSV_HEADER_AUTO, ',', 2, 2, true, {1, 2, 3, 4}},
        {"1,2\n3,4\n", GRUGAN_CSV_HEADER_AUTO, ',', 2, 2, false, {1, 2, 3, 4}},
        {"a,b\r\n1,2\r\n3,4\r\n", GRUGAN_CSV_HEADER_AUTO, ',', 2, 2, true, {1, 2, 3, 4}},
        {"a,b\r\n1,2\r\n3,4", GRUGAN_CSV_HEADER_AUTO, ',', 2, 2, true, {1, 2, 3, 4}},
        {"a,b\n1,2\n3,4", GRUGAN_CSV_HEADER_AUTO, ',', 2, 2, true, {1, 2, 3, 4}},
        {"a,b\n1,2\n3,4\n\n\r\n  \n", GRUGAN_CSV_HEADER_AUTO, ',', 2, 2, true, {1, 2, 3, 4}},
        {"a;b\n1.5;-2\n.5;5.\n", GRUGAN_CSV_HEADER_AUTO, ';', 2, 2, true, {1.5f, -2, 0.5f, 5}},
        {"\"a,b\",\"c \"\"d\"\"\"\n1,2\n", GRUGAN_CSV_HEADER_AUTO, ',', 1, 2, true, {1, 2}},
        {"\"multi\nline\",b\n1,2\n", GRUGAN_CSV_HEADER_AUTO, ',', 1, 2, true, {1, 2}},
        {"\"1\",\"2\"\n3,4\n", GRUGAN_CSV_HEADER_AUTO, ',', 2, 2, false, {1, 2, 3, 4}},
        {" 1 , 2\t\n\t3,  4  \n", GRUGAN_CSV_HEADER_NO, ',', 2, 2, false, {1, 2, 3, 4}},
        {"1\t2\n3\t4\n", GRUGAN_CSV_HEADER_AUTO, '\t', 2, 2, false, {1, 2, 3, 4}},
        {"1 2\n3 4\n", GRUGAN_CSV_HEADER_AUTO, ' ', 2, 2, false, {1, 2, 3, 4}},
        {"10,20\n1,2\n", GRUGAN_CSV_HEADER_YES, ',', 1, 2, true, {1, 2}},
        {",x\n0,7\n1,8\n", GRUGAN_CSV_HEADER_AUTO, ',', 2, 2, true, {0, 7, 1, 8}},
        {"\xef\xbb\xbf" "a\n-1E+3\n", GRUGAN_CSV_HEADER_AUTO, ',', 1, 1, true, {-1000}},
        {"5\n", GRUGAN_CSV_HEADER_AUTO, ',', 1, 1, false, {5}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        grugan__csv_table t;
        char msg[GRUGAN__MESSAGE_CAP], what[32];
        const int rc = csv(cases[i].text, cases[i].header, cases[i].delim, NULL, 0, &t, msg);
        snprintf(what, sizeof what, "case %zu", i);
        ck_assert_msg(rc == GRUGAN_OK, "%s: %s", what, msg);
        ck_assert_msg(t.has_header == cases[i].has_header, "%s: header %d", what, t.has_header);
        table_is(&t, cases[i].rows, cases[i].cols, cases[i].want, what);
        free(t.values);
    }
}
END_TEST

START_TEST(csv_column_selection)
{
    const char *text = "date,open,close,name\n"
                       "2020-01-02,1.5,2,alpha\n"
                       "2020-01-03,-1,4e1,\"beta, gamma\"\n";
    const size_t reorder[] = {2, 1, 2};
    const size_t out_of_range[] = {1, 4};
    const float want[] = {2, 1.5f, 2, 40, -1, 40};
    grugan__csv_table t;
    char msg[GRUGAN__MESSAGE_CAP];
    ck_assert_int_eq(csv(text, GRUGAN_CSV_HEADER_AUTO, ',', reorder, 3, &t, msg), GRUGAN_OK);
    ck_assert(t.has_header);
    ck_assert_uint_eq(t.file_columns, 4);
    table_is(&t, 2, 3, want, "reordered");
    free(t.values);
    /* unselected text columns are never parsed, but all columns are refused */
    ck_assert_int_eq(csv(text, GRUGAN_CSV_HEADER_AUTO, ',', NULL, 0, &t, msg), GRUGAN_E_FORMAT);
    ck_assert_msg(strstr(msg, "line 2, column 1") != NULL, "%s", msg);
    ck_assert_int_eq(csv(text, GRUGAN_CSV_HEADER_AUTO, ',', out_of_range, 2, &t, msg),
                     GRUGAN_E_RANGE);
    ck_assert_msg(strstr(msg, "columns[1] = 4") && strstr(msg, "4 columns"), "%s", msg);
}
END_TEST

START_TEST(csv_bad_rows_name_their_line_and_column)
{
    csv_bad("a,b\n1,2\n3,x\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT,
            "line 3, column 2: \"x\" is not a number");
    csv_bad("a,b\r\n1,2\r\n3,4\r\n5,1.2.3\r\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT,
            "line 4, column 2");
    csv_bad("1,2\n3\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT, "line 2: 1 field, expected 2");
    csv_bad("1,2\n3,4,5\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT,
            "line 2: 3 fields, expected 2");
    csv_bad("a,b\n1,2\n3,\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT,
            "line 3, column 2: empty field");
    csv_bad("a,b\n1,2\n,4\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT,
            "line 3, column 1: empty field");
    csv_bad("a,b\n1,2\nnan,4\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_NONFINITE,
            "line 3, column 1: \"nan\" is not a finite number");
    csv_bad("1,-Inf\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_NONFINITE, "line 1, column 2");
    csv_bad("a,b\n1,1e39\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_RANGE,
            "line 2, column 2: 1e39 is beyond the float range");
    csv_bad("a,b\n1,-340282357000000000000000000000000000000\n", GRUGAN_CSV_HEADER_AUTO,
            GRUGAN_E_RANGE, "line 2, column 2");
    csv_bad("a,b\n1,2\n\n3,4\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT,
            "line 3: empty line inside the data");
    csv_bad("\n1,2\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT, "line 1: empty line");
    csv_bad("a,b\n1,\"2\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT,
            "line 2, column 2: quoted field is never closed");
    csv_bad("a,b\n1,\"2\"x\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT,
            "line 2, column 2: unexpected character after a closing quote");
    csv_bad("\"a\nb\",c\n1,2\n1,x\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT,
            "line 4, column 2");
    csv_bad("a,b\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT, "header (line 1) but no data");
    csv_bad("a,b\r\n\r\n\r\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT, "no data rows");
    csv_bad("1,2\n", GRUGAN_CSV_HEADER_YES, GRUGAN_E_FORMAT, "no data rows");
    csv_bad("a,b\n1,2\n", GRUGAN_CSV_HEADER_NO, GRUGAN_E_FORMAT,
            "line 1, column 1: \"a\" is not a number");
    csv_bad("", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT, "empty");
    csv_bad("\n \r\n\t\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT, "empty");
    csv_bad("\xef\xbb\xbf", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT, "empty");
    csv_bad("a,b\n1,2\n1,0123456789012345678901234567890123456789x\n", GRUGAN_CSV_HEADER_AUTO,
            GRUGAN_E_FORMAT, "line 3, column 2: \"012345678901234567890123...\"");
    csv_bad("a,b\n1,2\n1,\x01\x7f\n", GRUGAN_CSV_HEADER_AUTO, GRUGAN_E_FORMAT, "\"??\"");
}
END_TEST

START_TEST(csv_through_the_dataset)
{
    const size_t cols[] = {1};
    grugan_dataset *ds = NULL;
    grugan_error err;
    size_t n = 0, T = 0, F = 0, C = 9;
    float x[2];
    ck_assert_int_eq(csv_dataset("t,v\n0,1.5\n1,-2.5\n2,4\n", cols, 1, &ds, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_shape(ds, &n, &T, &F, &C), GRUGAN_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(T, 1);
    ck_assert_uint_eq(F, 1);
    ck_assert_uint_eq(C, 0);
    ck_assert_int_eq(grugan_dataset_get(ds, 1, x, NULL, NULL), GRUGAN_OK);
    ck_assert_float_eq(x[0], -2.5f);
    grugan_dataset_free(ds);

    /* bad rows reach the caller's error with their line */
    ck_assert_int_eq(csv_dataset("t,v\n0,1.5\n1,oops\n", NULL, 0, &ds, &err), GRUGAN_E_FORMAT);
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(err.code, GRUGAN_E_FORMAT);
    ck_assert_msg(strstr(err.message, "line 3, column 2") != NULL, "%s", err.message);
    ck_assert_int_eq(csv_dataset("", NULL, 0, &ds, &err), GRUGAN_E_FORMAT);
    ck_assert_int_eq(grugan_dataset_from_csv_buffer(NULL, NULL, "1\n", 2, &ds, &err),
                     GRUGAN_E_SIZE);
    ck_assert_msg(strstr(err.message, "sequence_length") != NULL, "%s", err.message);
}
END_TEST

START_TEST(csv_and_npy_files)
{
    const char *text = "a;b\r\n1;2\r\n3;4\r\n5;6";
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *ds = NULL;
    grugan_error err;
    char path[512];
    float x[4];
    size_t n = 0;
    unsigned char *img;
    size_t size;
    const float data[6] = {1, 2, 3, 4, 5, 6};

    tmp_init();
    write_file("data.csv", text, strlen(text));
    cfg.sequence_length = 2;
    cfg.scaling = GRUGAN_SCALE_NONE;
    cfg.csv_delimiter = ';';
    tmp_path(path, sizeof path, "data.csv");
    ck_assert_int_eq(grugan_dataset_from_csv(NULL, &cfg, path, &ds, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_shape(ds, &n, NULL, NULL, NULL), GRUGAN_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(grugan_dataset_get(ds, 1, x, NULL, NULL), GRUGAN_OK);
    ck_assert_float_eq(x[0], 3);
    ck_assert_float_eq(x[3], 6);
    grugan_dataset_free(ds);

    /* a bad row in a file: the message names the file and the line */
    write_file("bad.csv", "a,b\n1,2\n3,?\n", 12);
    cfg.csv_delimiter = 0;
    tmp_path(path, sizeof path, "bad.csv");
    ck_assert_int_eq(grugan_dataset_from_csv(NULL, &cfg, path, &ds, &err), GRUGAN_E_FORMAT);
    ck_assert_msg(strstr(err.message, "bad.csv: line 3, column 2") != NULL, "%s", err.message);

    /* an empty file */
    write_file("empty.csv", "", 0);
    tmp_path(path, sizeof path, "empty.csv");
    ck_assert_int_eq(grugan_dataset_from_csv(NULL, &cfg, path, &ds, &err), GRUGAN_E_FORMAT);
    ck_assert_msg(strstr(err.message, "empty") != NULL, "%s", err.message);

    /* .npy written to a file */
    img = npy_image(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", data,
                    sizeof data, &size);
    write_file("data.npy", img, size);
    free(img);
    tmp_path(path, sizeof path, "data.npy");
    ck_assert_int_eq(grugan_dataset_from_npy(NULL, &cfg, path, &ds, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_get(ds, 0, x, NULL, NULL), GRUGAN_OK);
    ck_assert_float_eq(x[2], 3);
    grugan_dataset_free(ds);
    write_file("bad.npy", "\x93NUMPX", 6);
    tmp_path(path, sizeof path, "bad.npy");
    ck_assert_int_eq(grugan_dataset_from_npy(NULL, &cfg, path, &ds, &err), GRUGAN_E_FORMAT);
    ck_assert_msg(strstr(err.message, "bad.npy: not an NPY file") != NULL, "%s", err.message);

    /* file errors: missing, a directory, unreadable */
    tmp_path(path, sizeof path, "missing.csv");
    ck_assert_int_eq(grugan_dataset_from_csv(NULL, &cfg, path, &ds, &err), GRUGAN_E_IO);
    ck_assert_msg(strstr(err.message, "missing.csv") && strstr(err.message, strerror(ENOENT)),
                  "%s", err.message);
    ck_assert_int_eq(grugan_dataset_from_npy(NULL, &cfg, path, &ds, &err), GRUGAN_E_IO);
    ck_assert_int_eq(grugan_dataset_from_csv(NULL, &cfg, tmp_dir, &ds, &err), GRUGAN_E_IO);
    ck_assert_msg(strstr(err.message, strerror(EISDIR)) != NULL, "%s", err.message);
    ck_assert_int_eq(grugan_dataset_from_npy(NULL, &cfg, tmp_dir, &ds, &err), GRUGAN_E_IO);
    tmp_path(path, sizeof path, "data.csv");
    ck_assert_int_eq(chmod(path, 0), 0);
    if (access(path, R_OK) != 0) { /* not when run with privileges that ignore modes */
        ck_assert_int_eq(grugan_dataset_from_csv(NULL, &cfg, path, &ds, &err), GRUGAN_E_IO);
        ck_assert_msg(strstr(err.message, strerror(EACCES)) != NULL, "%s", err.message);
    }
    ck_assert_ptr_null(ds);

    tmp_remove("data.csv");
    tmp_remove("bad.csv");
    tmp_remove("empty.csv");
    tmp_remove("data.npy");
    tmp_remove("bad.npy");
    tmp_done();
}
END_TEST

START_TEST(fixture_files)
{
    const size_t cols[] = {1, 2, 3};
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *ds = NULL;
    grugan_error err;
    size_t n = 0, T = 0, F = 0;
    float x[24];

    /* prices.csv: date,open,high,volume and 6 rows; the date is skipped */
    cfg.sequence_length = 4;
    cfg.stride = 2;
    cfg.scaling = GRUGAN_SCALE_NONE;
    cfg.columns = cols;
    cfg.num_columns = 3;
    ck_assert_int_eq(grugan_dataset_from_csv(NULL, &cfg, GRUGAN_SOURCE_DIR "/tests/data/prices.csv",
                                             &ds, &err),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_shape(ds, &n, &T, &F, NULL), GRUGAN_OK);
    ck_assert_uint_eq(n, 2); /* (6 - 4) / 2 + 1 */
    ck_assert_uint_eq(T, 4);
    ck_assert_uint_eq(F, 3);
    ck_assert_int_eq(grugan_dataset_get(ds, 1, x, NULL, NULL), GRUGAN_OK);
    ck_assert_float_eq(x[0], 2.0f); /* row 3: 2020-01-06,2,2.75,90 */
    ck_assert_float_eq(x[1], 2.75f);
    ck_assert_float_eq(x[2], 90.0f);
    ck_assert_float_eq(x[11], 150.0f);
    grugan_dataset_free(ds);
    /* without the selection, the date column is refused at its first row */
    cfg.columns = NULL;
    cfg.num_columns = 0;
    ck_assert_int_eq(grugan_dataset_from_csv(NULL, &cfg, GRUGAN_SOURCE_DIR "/tests/data/prices.csv",
                                             &ds, &err),
                     GRUGAN_E_FORMAT);
    ck_assert_msg(strstr(err.message, "line 2, column 1") != NULL, "%s", err.message);

    /* series_f8.npy: float64 (6, 2), a * 0.5 - 1 for a = 0..11 */
    cfg.sequence_length = 3;
    cfg.stride = 1;
    ck_assert_int_eq(grugan_dataset_from_npy(NULL, &cfg,
                                             GRUGAN_SOURCE_DIR "/tests/data/series_f8.npy", &ds,
                                             &err),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_shape(ds, &n, &T, &F, NULL), GRUGAN_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(F, 2);
    ck_assert_int_eq(grugan_dataset_get(ds, 3, x, NULL, NULL), GRUGAN_OK);
    for (int k = 0; k < 6; k++) ck_assert_float_eq(x[k], (float)(6 + k) * 0.5f - 1.0f);
    grugan_dataset_free(ds);

    /* sequences_f4.npy: float32 (2, 3, 4), a / 8 for a = 0..23 */
    cfg.sequence_length = 0;
    ck_assert_int_eq(grugan_dataset_from_npy(NULL, &cfg,
                                             GRUGAN_SOURCE_DIR "/tests/data/sequences_f4.npy",
                                             &ds, &err),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_shape(ds, &n, &T, &F, NULL), GRUGAN_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(T, 3);
    ck_assert_uint_eq(F, 4);
    ck_assert_int_eq(grugan_dataset_get(ds, 1, x, NULL, NULL), GRUGAN_OK);
    for (int k = 0; k < 12; k++) ck_assert_float_eq(x[k], (float)(12 + k) / 8.0f);
    grugan_dataset_free(ds);
    /* a 3-D file must agree with a given sequence_length */
    cfg.sequence_length = 5;
    ck_assert_int_eq(grugan_dataset_from_npy(NULL, &cfg,
                                             GRUGAN_SOURCE_DIR "/tests/data/sequences_f4.npy",
                                             &ds, &err),
                     GRUGAN_E_SIZE);
    ck_assert_msg(strstr(err.message, "3 steps") != NULL, "%s", err.message);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* NPY                                                                       */
/* ------------------------------------------------------------------------- */

START_TEST(npy_header_variants)
{
    static const char *const dicts[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}",
        "{\"shape\": (2,3), \"fortran_order\": False, \"descr\": \"<f4\"}",
        "{ 'fortran_order' : False , 'descr' : '<f4' , 'shape' : ( 2 , 3 , ) , }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }",
    };
    const float data[6] = {1.5f, -2, 0, 3e-40f, 1e30f, -0.0f};
    double data64[6];
    for (int i = 0; i < 6; i++) data64[i] = data[i];
    for (int version = 1; version <= 3; version++)
        for (size_t d = 0; d < sizeof dicts / sizeof dicts[0]; d++) {
            size_t size;
            unsigned char *b = npy_image(version, dicts[d], data, sizeof data, &size);
            grugan__npy_array a;
            char msg[GRUGAN__MESSAGE_CAP];
            ck_assert_msg(npy(b, size, &a, msg) == GRUGAN_OK, "v%d %s: %s", version, dicts[d],
                          msg);
            ck_assert_uint_eq(a.ndim, 2);
            ck_assert_uint_eq(a.shape[0], 2);
            ck_assert_uint_eq(a.shape[1], 3);
            ck_assert_mem_eq(a.values, data, sizeof data);
            free(a.values);
            free(b);
        }
    /* float64, 3-D; converted to float32 */
    {
        size_t size;
        unsigned char *b = npy_image(2, "{'descr': '<f8', 'fortran_order': False, "
                                        "'shape': (1, 2, 3), }",
                                     data64, sizeof data64, &size);
        grugan__npy_array a;
        char msg[GRUGAN__MESSAGE_CAP];
        ck_assert_int_eq(npy(b, size, &a, msg), GRUGAN_OK);
        ck_assert_uint_eq(a.ndim, 3);
        ck_assert_uint_eq(a.shape[2], 3);
        ck_assert_mem_eq(a.values, data, sizeof data);
        free(a.values);
        free(b);
    }
    /* a header padded to 16 bytes (old numpy) rather than 64 */
    {
        static const unsigned char old[] =
            "\x93NUMPY\x01\x00\x46\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }"
            "          \n\x00\x00\x80\x3f";
        grugan__npy_array a;
        char msg[GRUGAN__MESSAGE_CAP];
        ck_assert_msg(npy(old, sizeof old - 1, &a, msg) == GRUGAN_OK, "%s", msg);
        ck_assert_float_eq(a.values[0], 1.0f);
        free(a.values);
    }
}
END_TEST

START_TEST(npy_malformed)
{
    const float f4[6] = {1, 2, 3, 4, 5, 6};
    const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    size_t size;
    unsigned char *b = npy_image(1, ok, f4, sizeof f4, &size);
    unsigned char copy[256];

    ck_assert_uint_le(size, sizeof copy);
    /* magic, version, truncation, header length */
    npy_bad(b, 0, GRUGAN_E_FORMAT, "not an NPY file", "empty");
    npy_bad((const unsigned char *)"hello, world", 12, GRUGAN_E_FORMAT, "not an NPY file",
            "text");
    memcpy(copy, b, size);
    copy[1] = 'n';
    npy_bad(copy, size, GRUGAN_E_FORMAT, "not an NPY file", "bad magic");
    memcpy(copy, b, size);
    copy[6] = 4;
    npy_bad(copy, size, GRUGAN_E_FORMAT, "unsupported NPY version 4.0", "version 4");
    copy[6] = 1;
    copy[7] = 1;
    npy_bad(copy, size, GRUGAN_E_FORMAT, "version 1.1", "version 1.1");
    npy_bad(b, 9, GRUGAN_E_FORMAT, "truncated NPY header", "9 bytes");
    npy_bad(b, 40, GRUGAN_E_FORMAT, "header length 118 goes beyond the file", "cut header");
    memcpy(copy, b, size);
    copy[8] = 0xff;
    copy[9] = 0x7f;
    npy_bad(copy, size, GRUGAN_E_FORMAT, "goes beyond the file", "huge header length");
    memcpy(copy, b, size);
    copy[6] = 2; /* v2 reads a 4-byte length: 0x7b277600 */
    npy_bad(copy, size, GRUGAN_E_FORMAT, "goes beyond the file", "v2 length");
    /* data size */
    npy_bad(b, size - 1, GRUGAN_E_FORMAT, "needs 24 bytes, the file has 23 (truncated)",
            "cut data");
    npy_bad(b, size - 24, GRUGAN_E_FORMAT, "(truncated)", "no data");
    free(b);
    {
        float f7[7] = {1, 2, 3, 4, 5, 6, 7};
        b = npy_image(1, ok, f7, sizeof f7, &size);
        npy_bad(b, size, GRUGAN_E_FORMAT, "(trailing bytes)", "extra data");
        free(b);
    }
    /* dtypes and order */
    npy_bad_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "'>f4' is not supported (big-endian)");
    npy_bad_dict("{'descr': '|f4', 'fortran_order': False, 'shape': (2, 3), }", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "'|f4' is not supported");
    npy_bad_dict("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "'<i4' is not supported");
    npy_bad_dict("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "'<f2'");
    npy_bad_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }", f4,
                 sizeof f4, GRUGAN_E_FORMAT, "structured");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "Fortran order");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "not True or False");
    /* shapes */
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "shape (6,) has 1 dimensions");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2, 3), }", f4,
                 sizeof f4, GRUGAN_E_FORMAT, "shape (1, 1, 2, 3) has 4 dimensions");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f4, 4,
                 GRUGAN_E_FORMAT, "has 0 dimensions");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", NULL, 0,
                 GRUGAN_E_SIZE, "is empty");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (4294967296, 4294967296, 4), }",
                 f4, sizeof f4, GRUGAN_E_SIZE, "element count overflows");
    npy_bad_dict("{'descr': '<f8', 'fortran_order': False, "
                 "'shape': (4294967296, 1073741824), }",
                 f4, sizeof f4, GRUGAN_E_SIZE, "byte count overflows");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (99999999999999999999999, 1), }",
                 f4, sizeof f4, GRUGAN_E_SIZE, "overflows");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "non-negative integers");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "not a tuple");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "malformed 'shape'");
    /* the dict itself */
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False}", f4, sizeof f4, GRUGAN_E_FORMAT,
                 "missing 'shape'");
    npy_bad_dict("{'fortran_order': False, 'shape': (2, 3)}", f4, sizeof f4, GRUGAN_E_FORMAT,
                 "missing 'descr'");
    npy_bad_dict("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}",
                 f4, sizeof f4, GRUGAN_E_FORMAT, "'descr' given twice");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", f4,
                 sizeof f4, GRUGAN_E_FORMAT, "unknown key 'x'");
    npy_bad_dict("['descr', '<f4']", f4, sizeof f4, GRUGAN_E_FORMAT, "not a dict");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} x", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "after the dict");
    npy_bad_dict("{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "expected ',' or '}'");
    npy_bad_dict("{'descr: '<f4', 'fortran_order': False, 'shape': (2, 3)}", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "NPY header");
    npy_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", f4, sizeof f4,
                 GRUGAN_E_FORMAT, "NPY header");
    npy_bad_dict("", f4, sizeof f4, GRUGAN_E_FORMAT, "not a dict");
}
END_TEST

START_TEST(npy_values)
{
    const char *d4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
    const char *d8 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
    float f4[4] = {1, 2, 3, 4};
    double f8[4] = {1, 2, 3, 4};
    size_t size;
    unsigned char *b;

    f4[2] = NAN;
    b = npy_image(1, d4, f4, sizeof f4, &size);
    npy_bad(b, size, GRUGAN_E_NONFINITE, "flat index 2 is NaN", "float32 NaN");
    free(b);
    f4[2] = 3;
    f4[1] = -INFINITY;
    b = npy_image(1, d4, f4, sizeof f4, &size);
    npy_bad(b, size, GRUGAN_E_NONFINITE, "flat index 1 is Inf", "float32 Inf");
    free(b);
    f8[3] = INFINITY;
    b = npy_image(1, d8, f8, sizeof f8, &size);
    npy_bad(b, size, GRUGAN_E_NONFINITE, "flat index 3 is Inf", "float64 Inf");
    free(b);
    f8[3] = 4;
    f8[0] = -1e300;
    b = npy_image(1, d8, f8, sizeof f8, &size);
    npy_bad(b, size, GRUGAN_E_RANGE, "at flat index 0 is beyond the float range", "float64 big");
    free(b);
    /* the largest float64 that still rounds to FLT_MAX is accepted */
    f8[0] = 3.4028235677973362e38;
    b = npy_image(1, d8, f8, sizeof f8, &size);
    {
        grugan__npy_array a;
        char msg[GRUGAN__MESSAGE_CAP];
        ck_assert_int_eq(npy(b, size, &a, msg), GRUGAN_OK);
        ck_assert_float_eq(a.values[0], 3.40282347e38f);
        free(a.values);
    }
    free(b);
    f8[0] = 3.4028235677973366e38; /* FLT_MAX + half an ulp: rounds to inf */
    b = npy_image(1, d8, f8, sizeof f8, &size);
    npy_bad(b, size, GRUGAN_E_RANGE, "flat index 0", "float64 half ulp above FLT_MAX");
    free(b);
}
END_TEST

START_TEST(npy_through_the_dataset)
{
    const char *d2 = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }";
    const float series[8] = {0, 10, 1, 11, 2, 12, 3, 13};
    const size_t cols[] = {1};
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *ds = NULL;
    grugan_error err;
    size_t size, n = 0;
    float x[4];
    unsigned char *b = npy_image(1, d2, series, sizeof series, &size);

    /* 2-D needs sequence_length */
    ck_assert_int_eq(grugan_dataset_from_npy_buffer(NULL, &cfg, b, size, &ds, &err),
                     GRUGAN_E_SIZE);
    ck_assert_msg(strstr(err.message, "sequence_length is required") != NULL, "%s", err.message);
    cfg.sequence_length = 2;
    cfg.scaling = GRUGAN_SCALE_NONE;
    cfg.columns = cols;
    cfg.num_columns = 1;
    ck_assert_int_eq(grugan_dataset_from_npy_buffer(NULL, &cfg, b, size, &ds, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_shape(ds, &n, NULL, NULL, NULL), GRUGAN_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(grugan_dataset_get(ds, 2, x, NULL, NULL), GRUGAN_OK);
    ck_assert_float_eq(x[0], 12);
    ck_assert_float_eq(x[1], 13);
    grugan_dataset_free(ds);
    cfg.sequence_length = 5;
    ck_assert_int_eq(grugan_dataset_from_npy_buffer(NULL, &cfg, b, size, &ds, &err),
                     GRUGAN_E_SIZE);
    ck_assert_msg(strstr(err.message, "4 rows, fewer than sequence_length 5") != NULL, "%s",
                  err.message);
    /* columns beyond the file's features */
    cfg.sequence_length = 2;
    {
        const size_t wide[] = {2};
        cfg.columns = wide;
        ck_assert_int_eq(grugan_dataset_from_npy_buffer(NULL, &cfg, b, size, &ds, &err),
                         GRUGAN_E_RANGE);
    }
    /* errors of the reader reach the caller */
    ck_assert_int_eq(grugan_dataset_from_npy_buffer(NULL, &cfg, b, 20, &ds, &err),
                     GRUGAN_E_FORMAT);
    ck_assert_int_eq(err.code, GRUGAN_E_FORMAT);
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(grugan_dataset_from_npy_buffer(NULL, &cfg, NULL, 0, &ds, &err),
                     GRUGAN_E_FORMAT);
    ck_assert_int_eq(grugan_dataset_from_npy_buffer(NULL, &cfg, NULL, 5, &ds, &err),
                     GRUGAN_E_INVALID);
    free(b);
}
END_TEST

/* Random corruptions of good inputs: any status, never a crash (ASan). */
START_TEST(corrupted_inputs_never_crash)
{
    const char *text = "a,\"b c\"\r\n1.5,2e3\r\n-3,.5\r\n4,5\r\n";
    const float f4[6] = {1, 2, 3, 4, 5, 6};
    size_t npy_size, len = strlen(text);
    unsigned char *img = npy_image(1, "{'descr': '<f4', 'fortran_order': False, "
                                      "'shape': (2, 3), }",
                                   f4, sizeof f4, &npy_size);
    static const char alphabet[] = "0123456789.,;\"\r\n eE+-abinfINF\t";
    rnd_state = 777;
    for (int round = 0; round < 3000; round++) {
        unsigned char buf[256];
        const bool is_npy = round % 2;
        const size_t n = is_npy ? npy_size : len;
        size_t keep = n;
        char msg[GRUGAN__MESSAGE_CAP];
        int rc;
        memcpy(buf, is_npy ? (const void *)img : (const void *)text, n);
        for (int k = 0, flips = 1 + (int)(rnd() % 4); k < flips; k++) {
            const size_t at = (size_t)(rnd() % n);
            buf[at] = is_npy && rnd() % 2 ? (unsigned char)rnd()
                                          : (unsigned char)alphabet[rnd() % (sizeof alphabet - 1)];
        }
        if (rnd() % 4 == 0) keep = (size_t)(rnd() % (n + 1));
        if (is_npy) {
            grugan__npy_array a;
            rc = npy(buf, keep, &a, msg);
            if (rc == GRUGAN_OK) free(a.values);
        } else {
            grugan__csv_table t;
            grugan__csv_options o = {GRUGAN_CSV_HEADER_AUTO, ',', NULL, 0};
            rc = grugan__csv_parse(grugan__default_context(), (const char *)buf, keep, &o, &t,
                                   msg, sizeof msg);
            if (rc == GRUGAN_OK) free(t.values);
        }
        if (rc != GRUGAN_OK && msg[0] == '\0') ck_abort_msg("round %d: failure without message", round);
    }
    free(img);
}
END_TEST

Suite *suite_csv_npy(void)
{
    Suite *s = suite_create("csv_npy");
    TCase *num = tcase_create("numbers");
    TCase *files = tcase_create("csv_npy_readers");
    tcase_set_timeout(num, 60);
    tcase_set_timeout(files, 60);
    tcase_add_test(num, numbers_of_every_form);
    tcase_add_test(num, numbers_match_strtof_in_the_c_locale);
    tcase_add_test(num, numbers_ignore_the_locale);
    tcase_add_test(files, csv_good_forms);
    tcase_add_test(files, csv_column_selection);
    tcase_add_test(files, csv_bad_rows_name_their_line_and_column);
    tcase_add_test(files, csv_through_the_dataset);
    tcase_add_test(files, csv_and_npy_files);
    tcase_add_test(files, fixture_files);
    tcase_add_test(files, npy_header_variants);
    tcase_add_test(files, npy_malformed);
    tcase_add_test(files, npy_values);
    tcase_add_test(files, npy_through_the_dataset);
    tcase_add_test(files, corrupted_inputs_never_crash);
    suite_add_tcase(s, num);
    suite_add_tcase(s, files);
    return s;
}
