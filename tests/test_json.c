/* test_json.c - the strict JSON reader and the writer. */
#include "suites.h"

#include "io/json.h"

#include <string.h>

static int parse(const char *text, grugan__json **root)
{
    char msg[200];
    return grugan__json_parse(grugan__default_context(), text, strlen(text), root, msg,
                              sizeof msg);
}

START_TEST(parses_every_kind_of_value)
{
    grugan__json *root = NULL;
    const grugan__json *v;
    const char *text = " {\"a\": [1, 2.5, -3e2, true, false, null], \"b\": {\"c\": \"x\\ty\\u00e9\\ud83d\\ude00\"},"
                       " \"big\": 18446744073709551615, \"e\": [], \"o\": {}} ";
    ck_assert_int_eq(parse(text, &root), GRUGAN_OK);
    ck_assert_int_eq(root->type, GRUGAN__JSON_OBJECT);
    ck_assert_uint_eq(root->length, 5);
    v = grugan__json_get(root, "a");
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(v->length, 6);
    ck_assert(v->items[0].is_uint && v->items[0].uint == 1);
    ck_assert(!v->items[1].is_uint);
    ck_assert_double_eq_tol(v->items[1].number, 2.5, 1e-12);
    ck_assert_double_eq_tol(v->items[2].number, -300.0, 1e-9);
    ck_assert(!v->items[2].is_uint);
    ck_assert(v->items[3].type == GRUGAN__JSON_BOOL && v->items[3].boolean);
    ck_assert(v->items[4].type == GRUGAN__JSON_BOOL && !v->items[4].boolean);
    ck_assert(v->items[5].type == GRUGAN__JSON_NULL);
    v = grugan__json_get(grugan__json_get(root, "b"), "c");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v->string, "x\ty\xc3\xa9\xf0\x9f\x98\x80");
    ck_assert_uint_eq(v->length, 9);
    v = grugan__json_get(root, "big");
    ck_assert(v->is_uint == false || v->uint == UINT64_MAX); /* 20 digits: not kept exactly */
    ck_assert_uint_eq(grugan__json_get(root, "e")->length, 0);
    ck_assert_int_eq(grugan__json_get(root, "o")->type, GRUGAN__JSON_OBJECT);
    ck_assert_ptr_null(grugan__json_get(root, "missing"));
    grugan__free(grugan__default_context(), root);
}
END_TEST

START_TEST(refuses_malformed_json_with_an_offset)
{
    static const char *const bad[] = {
        "",           "   ",         "{",          "}",          "[1,]",       "[1 2]",
        "{\"a\" 1}",  "{\"a\":}",    "{a:1}",      "{\"a\":1,}", "01",         "1.",
        ".5",         "-",           "1e",         "+1",         "tru",        "nul",
        "\"abc",      "\"\\x\"",     "\"\\u12\"",  "\"\\ud800\"", "\"\\udc00\"", "\"a\nb\"",
        "\"\xff\"",   "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "{} x", "[] []",   "NaN",
        "Infinity",   "[1,2",        "{\"a\":[}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        grugan__json *root = (grugan__json *)&root;
        char msg[200] = "";
        int rc = grugan__json_parse(grugan__default_context(), bad[i], strlen(bad[i]), &root,
                                    msg, sizeof msg);
        ck_assert_msg(rc == GRUGAN_E_FORMAT, "accepted bad JSON #%zu: %s", i, bad[i]);
        ck_assert_ptr_null(root);
        ck_assert_ptr_nonnull(strstr(msg, "offset"));
    }
}
END_TEST

START_TEST(nesting_is_capped)
{
    char deep[300];
    grugan__json *root = NULL;
    memset(deep, '[', 200);
    deep[200] = '\0';
    ck_assert_int_eq(parse(deep, &root), GRUGAN_E_FORMAT);
    /* 64 levels are fine */
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    ck_assert_int_eq(parse(deep, &root), GRUGAN_OK);
    grugan__free(grugan__default_context(), root);
}
END_TEST

START_TEST(writer_escapes_and_round_trips)
{
    grugan__json_out out;
    grugan__json *root = NULL;
    char msg[100];
    grugan__json_out_init(&out, grugan__default_context());
    grugan__json_out_raw(&out, "{", 1);
    grugan__json_out_string(&out, "k\"\\\n\x01");
    grugan__json_out_raw(&out, ":", 1);
    grugan__json_out_uint(&out, 12345678901234567890ull);
    grugan__json_out_raw(&out, "}", 1);
    ck_assert(!out.failed);
    ck_assert_int_eq(grugan__json_parse(out.ctx, out.data, out.size, &root, msg, sizeof msg),
                     GRUGAN_OK);
    ck_assert_str_eq(root->items[0].key, "k\"\\\n\x01");
    ck_assert_double_eq_tol(root->items[0].number, 12345678901234567890.0, 1e5);
    grugan__free(out.ctx, root);
    grugan__json_out_release(&out);
}
END_TEST

Suite *suite_json(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, parses_every_kind_of_value);
    tcase_add_test(tc, refuses_malformed_json_with_an_offset);
    tcase_add_test(tc, nesting_is_capped);
    tcase_add_test(tc, writer_escapes_and_round_trips);
    suite_add_tcase(s, tc);
    return s;
}
