/* A C program whose allocation sites test how frames are named
 * (tests/test_trace_frames.c): two static functions that leak different
 * amounts (told apart even when the program is stripped), one allocation
 * through a wrapper named like a common one (xmalloc, skipped by default)
 * and one through a wrapper of its own (skipped with --alloc-fn).
 *   frames_prog peak   instead: a peak of blocks freed before the end,
 *                      allocations freed at once (temporary), and records
 *                      each freed after the next one is allocated */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *keep[2048];
int nkeep;

static __attribute__((noinline)) void hold(void *p)
{
    keep[nkeep++] = p;
    __asm__ volatile("" : : "r"(p) : "memory");
}

static __attribute__((noinline)) void *xmalloc(size_t n)
{
    void *p = malloc(n);                       /* SITE:in_xmalloc */
    if (!p)
        abort();
    return p;
}

static __attribute__((noinline)) void *pool_get(size_t n)
{
    void *p = malloc(n);                       /* SITE:in_pool_get */
    __asm__ volatile("" : : "r"(p) : "memory");
    return p;
}

static __attribute__((noinline)) void leak_big(void)
{
    for (int i = 0; i < 1000; i++)
        hold(malloc(4000));                    /* SITE:leak_big */
}

static __attribute__((noinline)) void leak_small(void)
{
    for (int i = 0; i < 100; i++)
        hold(malloc(1000));                    /* SITE:leak_small */
}

static __attribute__((noinline)) void through_wrappers(void)
{
    hold(xmalloc(3000));                       /* SITE:call_xmalloc */
    hold(pool_get(2000));                      /* SITE:call_pool_get */
}

static __attribute__((noinline)) void rise_and_fall(void)
{
    void *p[100];
    for (int i = 0; i < 100; i++)
        p[i] = malloc(10000);                  /* SITE:peak_only */
    for (int i = 0; i < 100; i++)
        free(p[i]);
    for (int i = 0; i < 50; i++) {
        void *t = malloc(777);                 /* SITE:temporary */
        __asm__ volatile("" : : "r"(t) : "memory");
        free(t);
    }
}

static __attribute__((noinline)) void *record(size_t n)
{
    char *p = malloc(n);                       /* SITE:record */
    if (p)
        p[0] = 1;                              /* not folded into pool_get */
    return p;
}

/* 29 frees that follow an allocation of the same size and traceback
 * (temporary by heaptrack's rule, though the block freed is not the one
 * just allocated); the first record is allocated from another line, so
 * the first free is not one; then 20 frees that follow an allocation of
 * another size (not temporary). */
static __attribute__((noinline)) void slide(void)
{
    void *prev = record(500);
    for (int i = 0; i < 30; i++) {
        void *next = record(500);
        free(prev);
        prev = next;
    }
    for (int i = 0; i < 20; i++) {
        void *next = record(i % 2 ? 500 : 600);
        free(prev);
        prev = next;
    }
    free(prev);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "peak") == 0) {
        leak_small();
        rise_and_fall();
        slide();
        printf("%d blocks held\n", nkeep);
        return 0;
    }
    leak_big();
    leak_small();
    through_wrappers();
    printf("%d blocks held\n", nkeep);
    return 0;
}
