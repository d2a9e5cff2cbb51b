/* src/core/options.c: the one table of RECYCLE_* variables -- every
 * default parses, malformed values fall back with a line naming the
 * variable, and the README and docs name exactly the table's variables. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../src/core/options.h"
#include "files.h"
#include <recycle.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads option id through the getter of its kind, so each is exercised. */
static void read_option(rc_option_id id)
{
    size_t counts[3];
    switch (rc__option(id)->kind) {
    case RC_OPTK_BOOL:     (void)rc__option_bool(id); break;
    case RC_OPTK_UINT:     (void)rc__option_uint(id); break;
    case RC_OPTK_SECONDS:  (void)rc__option_seconds(id); break;
    case RC_OPTK_TEXT:     (void)rc__option_text(id); break;
    case RC_OPTK_COUNTS:   rc__option_counts(id, counts); break;
    case RC_OPTK_GC_DEBUG: (void)rc__option_gc_debug(id); break;
    }
}

/* The file at path as a string (malloc'd). */
static char *slurp_text(const char *path)
{
    size_t len;
    unsigned char *text = slurp(path, &len);
    text = realloc(text, len + 1);
    assert_non_null(text);
    text[len] = '\0';
    return (char *)text;
}

/* What option id writes on stderr when read (malloc'd). */
static char *stderr_of_reading(rc_option_id id)
{
    char path[] = "/tmp/rc_options_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    read_option(id);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    char *text = slurp_text(path);
    unlink(path);
    return text;
}

static void every_default_parses(void **state)
{
    (void)state;
    for (int id = 0; id < RC_OPT_COUNT; id++) {
        const rc_option *o = rc__option((rc_option_id)id);
        assert_non_null(o->name);
        assert_true(!strncmp(o->name, "RECYCLE_", 8));
        unsetenv(o->name);
        char *err = stderr_of_reading((rc_option_id)id);
        if (*err)
            fail_msg("default of %s does not parse: %s", o->name, err);
        free(err);
        setenv(o->name, o->def, 1);     /* the default, written out, reads silently too */
        err = stderr_of_reading((rc_option_id)id);
        if (*err)
            fail_msg("%s=\"%s\" does not parse: %s", o->name, o->def, err);
        free(err);
        unsetenv(o->name);
    }
}

static void defaults_are_the_documented_ones(void **state)
{
    (void)state;
    size_t t[3];
    rc__option_counts(RC_OPT_GC_THRESHOLD, t);
    assert_true(t[0] == 700 && t[1] == 10 && t[2] == 10);
    assert_true(rc__option_bool(RC_OPT_GC));
    assert_int_equal(rc__option_uint(RC_OPT_PROFILE_DEPTH), RC_PROFILE_DEFAULT_DEPTH);
    assert_string_equal(rc__option_text(RC_OPT_PYTHON), "python3");
    assert_string_equal(rc__option_text(RC_OPT_PROFILE_FILE), "");
    assert_true(rc__option_seconds(RC_OPT_TRACE_EVERY) == 0);
}

static void values_of_each_kind_parse(void **state)
{
    (void)state;
    setenv("RECYCLE_GC_DEBUG", "stats,leak", 1);
    assert_int_equal(rc__option_gc_debug(RC_OPT_GC_DEBUG), RC_GC_DEBUG_STATS | RC_GC_DEBUG_LEAK);
    setenv("RECYCLE_GC_DEBUG", "32", 1);
    assert_int_equal(rc__option_gc_debug(RC_OPT_GC_DEBUG), 32);
    setenv("RECYCLE_TRACE_EVERY", "0.25", 1);
    assert_true(rc__option_seconds(RC_OPT_TRACE_EVERY) == 0.25);
    setenv("RECYCLE_PROFILE_DEPTH", "128", 1);
    assert_int_equal(rc__option_uint(RC_OPT_PROFILE_DEPTH), 128);
    setenv("RECYCLE_PYTHON", "/usr/bin/python3", 1);
    assert_string_equal(rc__option_text(RC_OPT_PYTHON), "/usr/bin/python3");
    setenv("RECYCLE_PYTHON", "", 1);             /* empty: the default */
    assert_string_equal(rc__option_text(RC_OPT_PYTHON), "python3");
    unsetenv("RECYCLE_GC_DEBUG");
    unsetenv("RECYCLE_TRACE_EVERY");
    unsetenv("RECYCLE_PROFILE_DEPTH");
    unsetenv("RECYCLE_PYTHON");
}

/* Each malformed value gives the default and one line naming the variable. */
static void malformed_values_fall_back_with_a_line(void **state)
{
    (void)state;
    static const struct { rc_option_id id; const char *bad; } cases[] = {
        {RC_OPT_PROFILE_DEPTH, "129"}, {RC_OPT_PROFILE_DEPTH, "-1"}, {RC_OPT_GC, "yes"},
        {RC_OPT_GC_THRESHOLD, "100,x"}, {RC_OPT_GC_THRESHOLD, "1,2,3,4"},
        {RC_OPT_GC_DEBUG, "stats,nonsense"}, {RC_OPT_TRACE_EVERY, "-2"},
        {RC_OPT_TRACE_EVERY, "1s"}, {RC_OPT_MAX_BYTES, "12k"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *name = rc__option(cases[i].id)->name;
        setenv(name, cases[i].bad, 1);
        char *err = stderr_of_reading(cases[i].id);
        if (!strstr(err, name) || !strstr(err, cases[i].bad) || strchr(err, '\n') != err + strlen(err) - 1)
            fail_msg("%s=%s: expected one line naming it, got: %s", name, cases[i].bad, err);
        free(err);
        unsetenv(name);
    }
    setenv("RECYCLE_PROFILE_DEPTH", "129", 1);
    assert_int_equal(rc__option_uint(RC_OPT_PROFILE_DEPTH), RC_PROFILE_DEFAULT_DEPTH);
    unsetenv("RECYCLE_PROFILE_DEPTH");
}

static char *read_text(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", RC_SOURCE_DIR, rel);
    return slurp_text(path);
}

static void readme_table_is_the_options_table(void **state)
{
    (void)state;
    char *readme = read_text("README.md");
    for (int id = 0; id < RC_OPT_COUNT; id++) {
        const rc_option *o = rc__option((rc_option_id)id);
        char row[512];
        if (*o->def)
            snprintf(row, sizeof row, "| `%s` | `%s` | %s |\n", o->name, o->def, o->meaning);
        else
            snprintf(row, sizeof row, "| `%s` | | %s |\n", o->name, o->meaning);
        if (!strstr(readme, row))
            fail_msg("README.md lacks the row:\n%s", row);
    }
    free(readme);
}

static bool is_option(const char *name, size_t len)
{
    for (int id = 0; id < RC_OPT_COUNT; id++) {
        const char *o = rc__option((rc_option_id)id)->name;
        if (strlen(o) == len && !strncmp(o, name, len))
            return true;
    }
    return false;
}

/* Every RECYCLE_* word of the text is a variable of the table, or a name
 * the build defines (CMake options). */
static void check_names_in(const char *rel, const char *cmake)
{
    char *text = read_text(rel);
    for (const char *p = text; (p = strstr(p, "RECYCLE_")); ) {
        size_t len = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        if (len > 8 && !is_option(p, len) && !strstr(cmake, name))   /* "RECYCLE_*": them all */
            fail_msg("%s names %s, which is not in src/core/options.c", rel, name);
        p += len;
    }
    free(text);
}

static void docs_name_only_the_tables_variables(void **state)
{
    (void)state;
    char *cmake = read_text("CMakeLists.txt");
    check_names_in("README.md", cmake);
    glob_t g;
    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s/docs/*.md", RC_SOURCE_DIR);
    assert_int_equal(glob(pattern, 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++)
        check_names_in(g.gl_pathv[i] + strlen(RC_SOURCE_DIR) + 1, cmake);
    globfree(&g);
    free(cmake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_default_parses),
        cmocka_unit_test(defaults_are_the_documented_ones),
        cmocka_unit_test(values_of_each_kind_parse),
        cmocka_unit_test(malformed_values_fall_back_with_a_line),
        cmocka_unit_test(readme_table_is_the_options_table),
        cmocka_unit_test(docs_name_only_the_tables_variables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
