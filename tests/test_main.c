/* test_main.c - runs every Check suite found in the tests/ files (see suites.h);
 * exits non-zero on any failure. */
#include "suites.h"

#include <stdlib.h>

#define SUITE(name) Suite *name(void);
#include "suite_list.h"
#undef SUITE

int main(void)
{
#define SUITE(name) name,
    Suite *(*const suites[])(void) = {
#include "suite_list.h"
    };
#undef SUITE
    SRunner *runner = srunner_create(NULL);
    int failed;
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        srunner_add_suite(runner, suites[i]());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
