/* A program that links both shared libraries, as a user's would: the
 * internals librecycle-tools.so calls are librecycle.so's, so their state
 * exists once.  The witness is the descriptor of /proc/self/statm, which
 * the OS layer opens once per process and keeps: the profiler's brackets
 * (librecycle) and the sampler (librecycle-tools) both read the RSS
 * through it, so one descriptor is open, not one per library. */
#include <recycle.h>
#include <recycle-tools.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/rc_one_copy_XXXXXX";

/* Open descriptors of this process that name its statm file. */
static int statm_descriptors(void)
{
    char want[64], link[256], path[300];
    snprintf(want, sizeof want, "/proc/%ld/statm", (long)getpid());
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, link, sizeof link - 1);
        link[len > 0 ? len : 0] = 0;
        n += strcmp(link, want) == 0;
    }
    closedir(d);
    return n;
}

static void write_empty(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static void test_one_statm_descriptor(void **state)
{
    (void)state;
    char brackets[256], dat[256];
    snprintf(brackets, sizeof brackets, "%s/brackets.dat", dir);
    snprintf(dat, sizeof dat, "%s/run.dat", dir);
    write_empty(brackets);
    setenv("RECYCLE_PROFILE_FILE", brackets, 1);
    rc_profile_begin("bracket");                    /* librecycle reads the RSS */
    rc_profile_end();
    assert_true(rc_profile_enabled());
    assert_int_equal(statm_descriptors(), 1);

    unsetenv("RECYCLE_PROFILE_FILE");
    char *argv[] = {"true", NULL};
    rc_sampler_opts o = {.output = dat};
    rc_sampler_result r;
    assert_int_equal(rc_sampler_run(&o, argv, &r), 0);  /* librecycle-tools reads it */
    assert_true(r.exited);
    assert_int_equal(statm_descriptors(), 1);
}

/* The internals the tools call resolve into librecycle.so. */
static void test_internals_resolve_to_librecycle(void **state)
{
    (void)state;
    void *tools = dlopen("librecycle-tools.so.0", RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(tools);
    const char *names[] = {"rc__os_rss_bytes", "rc__option_text", "rc__graph_find", "rc__launch"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *p = dlsym(tools, names[i]);
        Dl_info info;
        assert_non_null(p);
        assert_true(dladdr(p, &info));
        assert_non_null(strstr(info.dli_fname, "librecycle.so"));
    }
    dlclose(tools);
}

static int cleanup(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_statm_descriptor),
        cmocka_unit_test(test_internals_resolve_to_librecycle),
    };
    return cmocka_run_group_tests(tests, NULL, cleanup);
}
