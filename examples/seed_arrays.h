/* The function the seed's mprof experiments call three times (seed 001):
 * build a big array of random integers, average it, sleep so the bump
 * shows on the plot, and return.  Shared by baseline_*.c, gc_disabled.c,
 * cycle_*.c and manual_collect.c, each of which changes one thing.
 *
 * Sizes come from the environment so `make demo QUICK=1` can shrink them:
 * DEMO_N (items per array, default 5 000 000) and DEMO_SLEEP_MS (default
 * 1000). */
#ifndef SEED_ARRAYS_H
#define SEED_ARRAYS_H

#include <recycle.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef enum { AS_LIST, AS_ARRAY } seed_kind;

static inline size_t seed_env(const char *name, size_t dflt)
{
    const char *s = getenv(name);
    return s && *s ? (size_t)strtoull(s, NULL, 10) : dflt;
}

static inline void seed_sleep_ms(size_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A recycle list of n int objects (as Python's [random ints]) or an int64
 * array (as numpy's randint); either way about n * 8..40 bytes. */
static inline void *seed_random_ints(rc_heap *h, seed_kind kind, size_t n)
{
    if (kind == AS_ARRAY) {
        void *a = rc_array_new(h, RC_I64, n);
        int64_t *v = a ? rc_array_data(a) : NULL;
        for (size_t i = 0; v && i < n; i++)
            v[i] = rand() % 1000000;
        return a;
    }
    void *list = rc_list_new(h, 0);
    for (size_t i = 0; list && i < n; i++) {
        void *item = rc_int_from(h, rand() % 1000000);
        if (!item || rc_list_append(list, item) < 0) {
            RC_CLEAR(item);
            RC_CLEAR(list);         /* the caller reports rc_last_error */
            break;
        }
        rc_decref(item);            /* the list holds it now */
    }
    return list;
}

static inline double seed_average(void *ints, seed_kind kind)
{
    double sum = 0;
    size_t n = kind == AS_ARRAY ? rc_array_len(ints) : rc_list_len(ints);
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (kind == AS_ARRAY)
            v = ((int64_t *)rc_array_data(ints))[i];
        else
            rc_int_value(rc_list_get(ints, i), &v);
        sum += (double)v;
    }
    return n ? sum / (double)n : 0;
}

/* The experiment's function.  self_ref: the list also holds itself (seed
 * 001's gc_cr.py), so reference counting alone can never free it.  The
 * bracket (RC_PROFILE_FUNC) shows as a labelled bracket under `recycle run`. */
static inline double average_ints(rc_heap *h, seed_kind kind, bool self_ref)
{
    RC_PROFILE_FUNC();
    size_t n = seed_env("DEMO_N", 5000000);
    void *ints = seed_random_ints(h, kind, n);
    if (!ints) {
        fprintf(stderr, "out of memory: %s\n", rc_last_error(h));
        exit(1);
    }
    void *holder = ints;
    if (self_ref) {                 /* holder = [ints]; holder.append(holder) */
        holder = rc_list_new(h, 2);
        rc_list_append(holder, ints);
        rc_list_append(holder, holder);
        rc_decref(ints);
    }
    double avg = seed_average(ints, kind);
    seed_sleep_ms(seed_env("DEMO_SLEEP_MS", 1000));
    rc_decref(holder);              /* the function's last reference goes */
    return avg;
}

/* Called before and after each call (1..3); may be NULL. */
typedef void (*seed_hook)(rc_heap *h, int call, bool after);

/* The seeds' main: three calls with a pause around each. */
static inline void seed_three_calls(rc_heap *h, seed_kind kind, bool self_ref, seed_hook hook)
{
    size_t pause = seed_env("DEMO_SLEEP_MS", 1000) / 2;
    seed_sleep_ms(pause);
    for (int i = 1; i <= 3; i++) {
        if (hook)
            hook(h, i, false);
        printf("call %d: average %.1f\n", i, average_ints(h, kind, self_ref));
        if (hook)
            hook(h, i, true);
        fflush(stdout);
        seed_sleep_ms(pause);
    }
}

#endif
