/* test_safetensors.c - the checkpoint container: round trip, every malformed
 * case named, atomic writes. */
#include "suites.h"

#include "io/file.h"
#include "io/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(encode_decode_round_trip)
{
    const grugan_context *ctx = grugan__default_context();
    const float a[6] = {1, -2, 3.5f, 1e-30f, -0.0f, 3.4e38f}, b[3] = {7, 8, 9};
    const size_t sa[2] = {2, 3}, sb[1] = {3};
    const grugan__st_tensor t[2] = {{"gru.weight_ih_l0", 2, sa, a}, {"head.bias", 1, sb, b}};
    const grugan__st_meta m[2] = {{"format", "grugan"}, {"hidden \"size\"", "24"}};
    grugan__json_out out;
    grugan__st_file f;
    char msg[200];
    float back[6];
    uint64_t header_len = 0;

    grugan__json_out_init(&out, ctx);
    ck_assert_int_eq(grugan__st_encode(t, 2, m, 2, &out), GRUGAN_OK);
    for (int i = 0; i < 8; i++) header_len |= (uint64_t)(unsigned char)out.data[i] << (8 * i);
    ck_assert_uint_eq((8 + header_len) % 8, 0); /* data aligned to 8 */
    ck_assert_uint_eq(out.size, 8 + header_len + 9 * 4);
    ck_assert_int_eq(grugan__st_decode(ctx, out.data, out.size, &f, msg, sizeof msg), GRUGAN_OK);
    ck_assert_uint_eq(f.n_entries, 2);
    ck_assert_str_eq(grugan__st_meta_get(&f, "format"), "grugan");
    ck_assert_str_eq(grugan__st_meta_get(&f, "hidden \"size\""), "24");
    ck_assert_ptr_null(grugan__st_meta_get(&f, "nothing"));
    ck_assert_uint_eq(grugan__st_find(&f, "gru.weight_ih_l0")->ndim, 2);
    ck_assert_uint_eq(grugan__st_find(&f, "gru.weight_ih_l0")->shape[1], 3);
    grugan__st_copy(grugan__st_find(&f, "gru.weight_ih_l0"), back);
    ck_assert_mem_eq(back, a, sizeof a);
    grugan__st_copy(grugan__st_find(&f, "head.bias"), back);
    ck_assert_mem_eq(back, b, sizeof b);
    ck_assert_ptr_null(grugan__st_find(&f, "missing"));
    grugan__st_release(&f);
    grugan__json_out_release(&out);
}
END_TEST

/* A file from a header text and `data` bytes of zeros. */
static unsigned char *make_file(const char *header, size_t data, uint64_t claimed_len,
                                size_t *size)
{
    size_t h = strlen(header);
    unsigned char *buf = calloc(8 + h + data + 1, 1);
    uint64_t len = claimed_len ? claimed_len : h;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(len >> (8 * i));
    memcpy(buf + 8, header, h);
    *size = 8 + h + data;
    return buf;
}

typedef struct bad_case {
    const char *name;
    const char *header;
    size_t data;
    uint64_t claimed_len; /* 0: the real length */
    const char *expect;   /* a piece of the message */
} bad_case;

START_TEST(every_malformed_container_is_named)
{
    static const bad_case cases[] = {
        {"header length 0", "", 0, 0, "length is 0"},
        {"header length past the end", "{}", 0, 1000, "beyond the end"},
        {"header length over the cap", "{}", 0, (uint64_t)1 << 40, "cap"},
        {"not an object", "[1,2]", 0, 0, "start with '{'"},
        {"invalid JSON", "{\"a\":", 0, 0, "invalid JSON"},
        {"trailing garbage", "{} {}", 0, 0, "invalid JSON"},
        {"tensor not an object", "{\"t\":1}", 0, 0, "not an object"},
        {"missing dtype", "{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, 0, "exactly dtype"},
        {"extra key", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
         0, "exactly dtype"},
        {"dtype not a string", "{\"t\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, 0,
         "not a string"},
        {"unsupported dtype", "{\"t\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
         0, "only F32"},
        {"unknown dtype", "{\"t\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, 0,
         "unknown dtype"},
        {"negative shape", "{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, 0,
         "other than a size"},
        {"fractional shape", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
         0, "other than a size"},
        {"shape overflow",
         "{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}", 4,
         0, "overflows"},
        {"too many dims", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,4]}}",
         4, 0, "dimensions"},
        {"size mismatch", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, 0,
         "do not match"},
        {"offsets reversed", "{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4, 0,
         "end before"},
        {"offsets not two", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, 0,
         "two sizes"},
        {"offsets past the end", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
         0, "beyond the end"},
        {"overlap",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         8, 0, "overlaps"},
        {"hole",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
         12, 0, "gap"},
        {"uncovered tail", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, 0,
         "no tensor covers"},
        {"duplicate name",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         8, 0, "twice"},
        {"metadata not an object", "{\"__metadata__\":[]}", 0, 0, "not an object"},
        {"metadata value not a string", "{\"__metadata__\":{\"k\":1}}", 0, 0, "not a string"},
        {"metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, 0, "twice"},
        {"NUL in a name", "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         0, "NUL"},
    };
    const grugan_context *ctx = grugan__default_context();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t size;
        unsigned char *buf = make_file(cases[i].header, cases[i].data, cases[i].claimed_len, &size);
        grugan__st_file f;
        char msg[256] = "";
        int rc = grugan__st_decode(ctx, buf, size, &f, msg, sizeof msg);
        ck_assert_msg(rc == GRUGAN_E_FORMAT, "case '%s' gave %d", cases[i].name, rc);
        ck_assert_msg(strstr(msg, cases[i].expect) != NULL, "case '%s': message '%s'",
                      cases[i].name, msg);
        ck_assert_ptr_null(f.entries);
        free(buf);
    }
}
END_TEST

START_TEST(every_truncation_is_refused)
{
    const grugan_context *ctx = grugan__default_context();
    const float a[5] = {1, 2, 3, 4, 5};
    const size_t sa[1] = {5};
    const grugan__st_tensor t[1] = {{"w", 1, sa, a}};
    const grugan__st_meta m[1] = {{"k", "v"}};
    grugan__json_out out;
    grugan__json_out_init(&out, ctx);
    ck_assert_int_eq(grugan__st_encode(t, 1, m, 1, &out), GRUGAN_OK);
    for (size_t cut = 0; cut < out.size; cut++) {
        grugan__st_file f;
        char msg[256];
        unsigned char *copy = malloc(cut + 1); /* exactly cut bytes are valid */
        memcpy(copy, out.data, cut);
        ck_assert_int_eq(grugan__st_decode(ctx, copy, cut, &f, msg, sizeof msg), GRUGAN_E_FORMAT);
        free(copy);
    }
    grugan__json_out_release(&out);
}
END_TEST

START_TEST(atomic_write_replaces_or_keeps_the_old_file)
{
    char dir[] = "/tmp/grugan-test-XXXXXX", path[256], msg[256];
    void *data = NULL;
    size_t size = 0;
    const grugan_context *ctx = grugan__default_context();
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    ck_assert_int_eq(grugan__file_write_atomic(path, "first", 5, msg, sizeof msg), GRUGAN_OK);
    ck_assert_int_eq(grugan__file_write_atomic(path, "second!", 7, msg, sizeof msg), GRUGAN_OK);
    ck_assert_int_eq(grugan__file_read(ctx, path, 100, &data, &size, msg, sizeof msg), GRUGAN_OK);
    ck_assert_uint_eq(size, 7);
    ck_assert_mem_eq(data, "second!", 7);
    grugan__free(ctx, data);
    /* a full device: the write fails and nothing is left behind */
    ck_assert_int_eq(grugan__file_write_atomic("/dev/full/x", "abc", 3, msg, sizeof msg),
                     GRUGAN_E_IO);
    /* a missing directory */
    snprintf(path, sizeof path, "%s/no/such/dir/m.st", dir);
    ck_assert_int_eq(grugan__file_write_atomic(path, "abc", 3, msg, sizeof msg), GRUGAN_E_IO);
    ck_assert_ptr_nonnull(strstr(msg, "no/such/dir"));
    /* reading: missing, a directory, over the cap */
    ck_assert_int_eq(grugan__file_read(ctx, path, 100, &data, &size, msg, sizeof msg), GRUGAN_E_IO);
    ck_assert_int_eq(grugan__file_read(ctx, dir, 100, &data, &size, msg, sizeof msg), GRUGAN_E_IO);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    ck_assert_int_eq(grugan__file_read(ctx, path, 3, &data, &size, msg, sizeof msg), GRUGAN_E_SIZE);
    ck_assert_ptr_null(data);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(rmdir(dir), 0); /* no temporary file was left */
}
END_TEST

Suite *suite_safetensors(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("safetensors");
    tcase_add_test(tc, encode_decode_round_trip);
    tcase_add_test(tc, every_malformed_container_is_named);
    tcase_add_test(tc, every_truncation_is_refused);
    tcase_add_test(tc, atomic_write_replaces_or_keeps_the_old_file);
    suite_add_tcase(s, tc);
    return s;
}
