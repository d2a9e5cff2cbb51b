/* The snapshot file format (src/trace/trace_file.c): a hand-made snapshot written
 * and parsed back field by field; every validation rule refused with its
 * byte offset, including references that are wrong in a file whose checksum
 * was made to match. */
#include "../src/core/hash.h"
#include "../src/trace/trace_int.h"
#include <recycle.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static char strs[] = "main.c\0main\0/bin/prog";
static rc__sframe frames[2] = {
    {0, 7, 42, RC__NOSTR, 0},               /* main.c:42 in main */
    {RC__NOSTR, RC__NOSTR, 0, 12, 0x1234},  /* /bin/prog + 0x1234, not symbolized */
};
static uint32_t tbframes[3] = {0, 1, 0};
static rc__stb tbs[2] = {{0, 2}, {2, 1}};
static rc__strace traces[3] = {{100, 0, 0}, {200, 1, 0}, {4096, 1, 1}};

static rc__snapdata sample(void)
{
    return (rc__snapdata){.traceback_limit = 2, .traced_current = 4396, .traced_peak = 9000,
                          .strs = strs, .strs_len = sizeof strs, .frames = frames, .nframes = 2,
                          .tbframes = tbframes, .ntbframes = 3, .tbs = tbs, .ntbs = 2,
                          .traces = traces, .ntraces = 3};
}

static unsigned char *image(size_t *len)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    rc__snapdata d = sample();
    assert_int_equal(rc__snap_write_fd(fileno(f), &d), 0);
    long n = ftell(f) >= 0 ? lseek(fileno(f), 0, SEEK_END) : -1;
    assert_true(n > 0);
    unsigned char *buf = malloc((size_t)n);
    assert_int_equal(pread(fileno(f), buf, (size_t)n, 0), n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void reseal(unsigned char *buf, size_t len)   /* recompute the trailer's checksum */
{
    uint64_t sum = rc__fnv1a(RC_FNV_OFFSET, buf, len - 16);
    memcpy(buf + len - 8, &sum, 8);
}

static void test_round_trip_fields(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = image(&len);
    assert_int_equal(len % 8, 0);
    assert_memory_equal(buf, "RCSNAPSH", 8);
    rc__snapdata d;
    char msg[256];
    assert_int_equal(rc__snap_parse(buf, len, &d, msg, sizeof msg), 0);
    assert_int_equal(d.traceback_limit, 2);
    assert_int_equal(d.traced_current, 4396);
    assert_int_equal(d.traced_peak, 9000);
    assert_int_equal(d.strs_len, sizeof strs);
    assert_memory_equal(d.strs, strs, sizeof strs);
    assert_memory_equal(d.frames, frames, sizeof frames);
    assert_memory_equal(d.tbframes, tbframes, sizeof tbframes);
    assert_memory_equal(d.tbs, tbs, sizeof tbs);
    assert_memory_equal(d.traces, traces, sizeof traces);
    free(buf);
}

/* Parses buf after edit(buf); expects RC_EFORMAT with `what` in the message. */
static void refused(void (*edit)(unsigned char *, size_t), bool reseal_it, const char *what)
{
    size_t len;
    unsigned char *buf = image(&len);
    edit(buf, len);
    if (reseal_it)
        reseal(buf, len);
    rc__snapdata d;
    char msg[256];
    assert_int_equal(rc__snap_parse(buf, len, &d, msg, sizeof msg), RC_EFORMAT);
    if (!strstr(msg, what))
        fail_msg("message '%s' lacks '%s'", msg, what);
    free(buf);
}

/* offsets in the sample image: header 48; STRS header at 48, data at 64
 * (22 bytes, padded to 24); FRMS header at 88, data at 104 */
#define FRAMES_AT 104
#define TBFR_AT (FRAMES_AT + 48 + 16)
#define TBKS_AT (TBFR_AT + 16 + 16)
#define TRCS_AT (TBKS_AT + 16 + 16)

static void magic(unsigned char *b, size_t n) { (void)n; b[0] = 'X'; }
static void version(unsigned char *b, size_t n) { (void)n; b[8] = 9; }
static void limit(unsigned char *b, size_t n) { (void)n; memset(b + 12, 0, 4); }
static void tag(unsigned char *b, size_t n) { (void)n; b[88] = 'Z'; }
static void str_ref(unsigned char *b, size_t n) { (void)n; uint32_t v = 999; memcpy(b + FRAMES_AT, &v, 4); }
static void nul(unsigned char *b, size_t n) { (void)n; b[64 + sizeof strs - 1] = 'x'; }
static void frame_no(unsigned char *b, size_t n) { (void)n; uint32_t v = 5; memcpy(b + TBFR_AT, &v, 4); }
static void tb_range(unsigned char *b, size_t n) { (void)n; uint32_t v = 3; memcpy(b + TBKS_AT + 4, &v, 4); }
static void trace_tb(unsigned char *b, size_t n) { (void)n; uint32_t v = 7; memcpy(b + TRCS_AT + 8, &v, 4); }
static void flip(unsigned char *b, size_t n) { (void)n; b[TRCS_AT] ^= 1; }
static void count(unsigned char *b, size_t n) { (void)n; b[TRCS_AT - 8] = 200; }

static void test_each_rule(void **state)
{
    (void)state;
    refused(magic, false, "byte offset 0: not a recycle trace snapshot");
    refused(version, false, "byte offset 8: format version 9");
    refused(limit, false, "byte offset 12: traceback limit 0");
    refused(tag, false, "byte offset 88: expected the frames section");
    refused(flip, false, "checksum mismatch");
    refused(count, false, "runs past the end");
    refused(str_ref, true, "byte offset 104: frame 0 refers outside the string table");
    refused(nul, true, "string table does not end with NUL");
    refused(frame_no, true, "frame number 5 out of range");
    refused(tb_range, true, "traceback 0 has a bad frame range");
    refused(trace_tb, true, "trace 0 names traceback 7 of 2");
}

static void test_truncated_and_longer(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = image(&len);
    rc__snapdata d;
    char msg[256], want[64];
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(rc__snap_parse(buf, cut, &d, msg, sizeof msg), RC_EFORMAT);
        snprintf(want, sizeof want, "byte offset %zu: ", cut);   /* where the data ends */
        if (!strstr(msg, want))
            fail_msg("cut at %zu: '%s'", cut, msg);
    }
    unsigned char *more = calloc(1, len + 8);
    memcpy(more, buf, len);
    assert_int_equal(rc__snap_parse(more, len + 8, &d, msg, sizeof msg), RC_EFORMAT);
    snprintf(want, sizeof want, "byte offset %zu: 8 bytes of garbage", len);
    assert_non_null(strstr(msg, want));
    free(more);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_fields),
        cmocka_unit_test(test_each_rule),
        cmocka_unit_test(test_truncated_and_longer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
