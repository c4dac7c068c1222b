#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tu_backend_arg(int argc, char **argv) { return argc > 1 ? argv[1] : "cpu"; }

cnv_backend *tu_backend_create(const char *which) {
    cnv_backend *be = NULL;
    if (strcmp(which, "cpu") == 0) {
        if (cnv_backend_cpu_create(&be) != CNV_OK) {
            fprintf(stderr, "cpu backend: %s\n", cnv_last_error());
            exit(1);
        }
        return be;
    }
    int forced = strcmp(which, "vulkan-forced") == 0;
    if (!forced && strcmp(which, "vulkan") != 0) {
        fprintf(stderr, "unknown backend '%s' (cpu, vulkan, vulkan-forced)\n", which);
        exit(2);
    }
    const char *device = getenv("CNNVIS_TEST_DEVICE");
    cnv_vulkan_options opt = {.device = device ? device : "llvmpipe", .validation = 1, .forced_limits = forced};
    cnv_status s = cnv_backend_vulkan_create(&opt, &be);
    if (s == CNV_ERR_DEVICE || s == CNV_ERR_NOT_FOUND) {
        printf("SKIP: no Vulkan device for '%s': %s\n", which, cnv_last_error());
        exit(TU_SKIP_EXIT);
    }
    if (s != CNV_OK) {
        fprintf(stderr, "vulkan backend: %s\n", cnv_last_error());
        exit(1);
    }
    printf("backend: %s (device %s%s)\n", which, opt.device, forced ? ", forced small-device limits" : "");
    return be;
}

void tu_backend_free(cnv_backend *be) {
    unsigned messages = cnv_backend_validation_messages(be);
    cnv_backend_free(be);
    assert_int_equal(messages, 0);
}

const char *tu_backend_name = "cpu";
cnv_backend *tu_backend;

static int create_suite_backend(void **state) {
    tu_backend = tu_backend_create(tu_backend_name);
    *state = tu_backend;
    return 0;
}

static int free_suite_backend(void **state) {
    (void)state;
    tu_backend_free(tu_backend);
    tu_backend = NULL;
    return 0;
}

int tu_run_backend_suite(int argc, char **argv, const struct CMUnitTest *tests, size_t n_tests) {
    tu_backend_name = tu_backend_arg(argc, argv);
    return _cmocka_run_group_tests(tu_backend_name, tests, n_tests, create_suite_backend, free_suite_backend);
}
