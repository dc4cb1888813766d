/* test_core.c - status codes, version, context, allocation hooks, sizes. */
#include "suites.h"
#include "test_util.h"

#include "core/core.h"
#include "grugan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

START_TEST(status_strings_are_distinct_and_fixed)
{
    const int codes[] = {GRUGAN_OK, GRUGAN_E_INVALID, GRUGAN_E_NOMEM, GRUGAN_E_SIZE,
                         GRUGAN_E_RANGE, GRUGAN_E_STATE, GRUGAN_E_NONFINITE, GRUGAN_E_IO,
                         GRUGAN_E_FORMAT, GRUGAN_E_ABORTED, GRUGAN_E_UNSUPPORTED,
                         GRUGAN_E_NOTFOUND, GRUGAN_E_INTERNAL};
    const size_t n = sizeof codes / sizeof codes[0];
    /* The values are part of the ABI: they must never change. */
    for (size_t i = 0; i < n; i++) ck_assert_int_eq(codes[i], -(int)i);
    for (size_t i = 0; i < n; i++) {
        const char *s = grugan_status_string(codes[i]);
        ck_assert_ptr_nonnull(s);
        ck_assert_int_gt((int)strlen(s), 0);
        ck_assert_str_ne(s, "unknown status");
        for (size_t j = 0; j < i; j++) ck_assert_str_ne(s, grugan_status_string(codes[j]));
    }
    ck_assert_str_eq(grugan_status_string(12345), "unknown status");
    ck_assert_str_eq(grugan_status_string(-99), "unknown status");
}
END_TEST

START_TEST(version_matches_header)
{
    ck_assert_uint_eq(grugan_version_number(), GRUGAN_VERSION_NUMBER);
    ck_assert_str_eq(grugan_version_string(), GRUGAN_VERSION_STRING);
    ck_assert_uint_eq(GRUGAN_VERSION_NUMBER, GRUGAN_VERSION_MAJOR * 10000 +
                                                 GRUGAN_VERSION_MINOR * 100 +
                                                 GRUGAN_VERSION_PATCH);
}
END_TEST

typedef struct log_capture {
    int calls, last_level;
    char last[256];
} log_capture;

static void capture_log(int level, const char *message, void *user)
{
    log_capture *l = user;
    l->calls++;
    l->last_level = level;
    strncpy(l->last, message, sizeof l->last - 1);
    l->last[sizeof l->last - 1] = '\0';
}

START_TEST(context_uses_the_callers_allocator)
{
    counting_alloc counts = {0, 0, 0, 0};
    grugan_context_config cfg = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_context *ctx = NULL;
    grugan_error err;
    void *p;
    cfg.alloc = counting_alloc_fn;
    cfg.free = counting_free_fn;
    cfg.alloc_user = &counts;
    ck_assert_int_eq(grugan_context_create(&cfg, &ctx, &err), GRUGAN_OK);
    ck_assert_int_eq(err.code, GRUGAN_OK);
    ck_assert_str_eq(err.message, "");
    ck_assert_uint_eq(counts.allocs, 1);
    p = grugan__calloc(ctx, 10, sizeof(float));
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(counts.allocs, 2);
    grugan__free(ctx, p);
    grugan_context_free(ctx);
    ck_assert_uint_eq(counts.live, 0);
    ck_assert_uint_eq(counts.frees, 2);
}
END_TEST

START_TEST(context_reports_a_failed_allocation)
{
    counting_alloc counts = {0, 0, 0, 1};
    grugan_context_config cfg = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_context *ctx = (grugan_context *)&counts; /* must be reset to NULL */
    grugan_error err;
    cfg.alloc = counting_alloc_fn;
    cfg.free = counting_free_fn;
    cfg.alloc_user = &counts;
    ck_assert_int_eq(grugan_context_create(&cfg, &ctx, &err), GRUGAN_E_NOMEM);
    ck_assert_ptr_null(ctx);
    ck_assert_int_eq(err.code, GRUGAN_E_NOMEM);
    ck_assert_int_gt((int)strlen(err.message), 0);
    ck_assert_uint_eq(counts.live, 0);
}
END_TEST

START_TEST(context_rejects_bad_configs)
{
    grugan_context_config cfg = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_context *ctx = NULL;
    grugan_error err;

    ck_assert_int_eq(grugan_context_create(NULL, NULL, &err), GRUGAN_E_INVALID);
    ck_assert_int_eq(err.code, GRUGAN_E_INVALID);

    cfg.struct_size = sizeof cfg + 8; /* from a newer header */
    ck_assert_int_eq(grugan_context_create(&cfg, &ctx, &err), GRUGAN_E_INVALID);
    ck_assert_ptr_null(ctx);
    ck_assert_ptr_nonnull(strstr(err.message, "struct_size"));

    cfg.struct_size = 0;
    ck_assert_int_eq(grugan_context_create(&cfg, &ctx, NULL), GRUGAN_E_INVALID);

    cfg = (grugan_context_config)GRUGAN_CONTEXT_CONFIG_INIT;
    cfg.alloc = counting_alloc_fn; /* without free */
    ck_assert_int_eq(grugan_context_create(&cfg, &ctx, &err), GRUGAN_E_INVALID);

    cfg = (grugan_context_config)GRUGAN_CONTEXT_CONFIG_INIT;
    cfg.log_level = 9;
    ck_assert_int_eq(grugan_context_create(&cfg, &ctx, &err), GRUGAN_E_RANGE);

    /* NULL config means defaults; an older, shorter config is accepted. */
    ck_assert_int_eq(grugan_context_create(NULL, &ctx, &err), GRUGAN_OK);
    grugan_context_free(ctx);
    cfg = (grugan_context_config)GRUGAN_CONTEXT_CONFIG_INIT;
    cfg.struct_size = offsetof(grugan_context_config, log);
    ck_assert_int_eq(grugan_context_create(&cfg, &ctx, &err), GRUGAN_OK);
    grugan_context_free(ctx);
    grugan_context_free(NULL);
}
END_TEST

START_TEST(log_callback_receives_failures_up_to_its_level)
{
    log_capture log = {0, 0, ""};
    grugan_context_config cfg = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_context *ctx = NULL;
    grugan__object obj;
    cfg.log = capture_log;
    cfg.log_user = &log;
    cfg.log_level = GRUGAN_LOG_ERROR;
    ck_assert_int_eq(grugan_context_create(&cfg, &ctx, NULL), GRUGAN_OK);
    grugan__object_init(&obj, GRUGAN__MAGIC_GRU, ctx);
    ck_assert_int_eq(grugan__fail(&obj, GRUGAN_E_SIZE, "batch %d too large", 7),
                     GRUGAN_E_SIZE);
    ck_assert_str_eq(obj.message, "batch 7 too large");
    ck_assert_int_eq(log.calls, 1);
    ck_assert_int_eq(log.last_level, GRUGAN_LOG_ERROR);
    ck_assert_str_eq(log.last, "batch 7 too large");
    grugan__log(ctx, GRUGAN_LOG_DEBUG, "not passed at level ERROR");
    ck_assert_int_eq(log.calls, 1);
    grugan__clear(&obj);
    ck_assert_str_eq(obj.message, "");
    ck_assert(grugan__object_is(&obj, GRUGAN__MAGIC_GRU));
    ck_assert(!grugan__object_is(&obj, GRUGAN__MAGIC_DEAD));
    ck_assert(!grugan__object_is(NULL, GRUGAN__MAGIC_GRU));
    grugan_context_free(ctx);
}
END_TEST

START_TEST(size_arithmetic_detects_overflow)
{
    size_t out = 0;
    ck_assert(grugan__mul_size(3, 5, &out));
    ck_assert_uint_eq(out, 15);
    ck_assert(!grugan__mul_size(SIZE_MAX / 2 + 1, 2, &out));
    ck_assert(grugan__mul_size(0, SIZE_MAX, &out));
    ck_assert_uint_eq(out, 0);
    ck_assert(!grugan__mul3_size(1u << 20, 1u << 20, (size_t)1 << 30, &out));
    ck_assert(grugan__add_size(SIZE_MAX - 1, 1, &out));
    ck_assert(!grugan__add_size(SIZE_MAX, 1, &out));
    ck_assert_ptr_null(grugan__calloc(grugan__default_context(), SIZE_MAX / 2, 4));
    ck_assert_ptr_null(grugan__calloc(grugan__default_context(), 0, 4));
    ck_assert_ptr_null(grugan__alloc(grugan__default_context(), 0));
}
END_TEST

START_TEST(finite_scan_finds_nan_and_inf)
{
    float x[37];
    for (int i = 0; i < 37; i++) x[i] = (float)i - 18.5f;
    ck_assert(grugan__all_finite(x, 37));
    ck_assert(grugan__all_finite(x, 0));
    x[36] = NAN;
    ck_assert(!grugan__all_finite(x, 37));
    ck_assert(grugan__all_finite(x, 36));
    x[36] = 0;
    x[5] = -INFINITY;
    ck_assert(!grugan__all_finite(x, 37));
    x[5] = 3.0e38f;
    ck_assert(grugan__all_finite(x, 37));
}
END_TEST

START_TEST(config_copy_accepts_older_and_refuses_newer)
{
    grugan_context_config full = GRUGAN_CONTEXT_CONFIG_INIT, got;
    full.log_level = 3;
    ck_assert_int_eq(grugan__config_copy(&got, sizeof got, &full), GRUGAN_OK);
    ck_assert_int_eq(got.log_level, 3);
    full.struct_size = offsetof(grugan_context_config, log_level);
    ck_assert_int_eq(grugan__config_copy(&got, sizeof got, &full), GRUGAN_OK);
    ck_assert_int_eq(got.log_level, 0); /* not given: default */
    full.struct_size = sizeof full + 1;
    ck_assert_int_eq(grugan__config_copy(&got, sizeof got, &full), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan__config_copy(&got, sizeof got, NULL), GRUGAN_OK);
}
END_TEST

Suite *suite_core(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, status_strings_are_distinct_and_fixed);
    tcase_add_test(tc, version_matches_header);
    tcase_add_test(tc, context_uses_the_callers_allocator);
    tcase_add_test(tc, context_reports_a_failed_allocation);
    tcase_add_test(tc, context_rejects_bad_configs);
    tcase_add_test(tc, log_callback_receives_failures_up_to_its_level);
    tcase_add_test(tc, size_arithmetic_detects_overflow);
    tcase_add_test(tc, finite_scan_finds_nan_and_inf);
    tcase_add_test(tc, config_copy_accepts_older_and_refuses_newer);
    suite_add_tcase(s, tc);
    return s;
}
