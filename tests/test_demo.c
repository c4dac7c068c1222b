/* The demo a new user runs first: `cnnvis demo` on the bundled model writes its pictures and an
 * index.html, and the page opens in headless Chromium with every image loaded (the page sets
 * data-images="loaded/total" on <body> once loaded; Chromium dumps the DOM). */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_demo_page_loads(void **state) {
    static char out[1 << 16], err[1 << 16];
    char dir[1024], args[2048];
    snprintf(dir, sizeof dir, "%s/demo_test", CNNVIS_BINARY_DIR);
    /* Fewer steps than the default: this checks the page, the gallery shows the full run. */
    snprintf(args, sizeof args, "demo -o %s --steps 32 --device cpu", dir);
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc) printf("%s\n%s\n", out, err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "index.html"));
    const char *pictures[] = {"classes.png", "filters_relu1.png", "filters_relu2.png", "maps_0.png", "gradcam_0.png",
                              "deconv_0.png", "classes.json"};
    for (size_t i = 0; i < sizeof pictures / sizeof pictures[0]; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, pictures[i]);
        assert_int_equal(access(path, R_OK), 0);
    }

    if (access("/usr/bin/chromium", X_OK) != 0) {
        printf("SKIP: /usr/bin/chromium is not installed (apt-get install chromium)\n");
        skip();
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
             "--disable-background-networking --disable-component-update --disable-sync --user-data-dir=%s/chromium "
             "--virtual-time-budget=10000 --dump-dom file://%s/index.html 2>/dev/null",
             CNNVIS_BINARY_DIR, dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    const char *mark = strstr(out, "data-images=\"");
    assert_non_null(mark);
    int loaded = -1, total = -1;
    assert_int_equal(sscanf(mark, "data-images=\"%d/%d\"", &loaded, &total), 2);
    printf("index.html in headless Chromium: %d of %d images loaded\n", loaded, total);
    assert_true(total >= 15);
    assert_int_equal(loaded, total);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_demo_page_loads)};
    return cmocka_run_group_tests_name("demo", tests, NULL, NULL);
}
