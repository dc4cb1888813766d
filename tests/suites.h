/* suites.h - shared includes of the Check suites. Each tests/test_*.c file
 * defines one or more `Suite *suite_NAME(void)` at the start of a line; the
 * Makefile collects them into build/suite_list.h, so adding a test file needs
 * no edit anywhere else. */
#ifndef GRUGAN_TEST_SUITES_H
#define GRUGAN_TEST_SUITES_H

#include <check.h>

#endif
