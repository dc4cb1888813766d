/* suites.h - one Check suite per test file; test_main.c runs them all. */
#ifndef GRUGAN_TEST_SUITES_H
#define GRUGAN_TEST_SUITES_H

#include <check.h>

Suite *suite_core(void);
Suite *suite_rng(void);
Suite *suite_blas(void);

#endif
