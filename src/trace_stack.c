/* Native frames for in-process tracing: a frame-pointer walk (the build
 * uses -fno-omit-frame-pointer), cheap enough for every allocation.
 *
 * The walk starts inside the tracer's hook, below the allocator.  The
 * frames to drop are found by calibration rather than by counting (the
 * depth differs between paths, and inlining changes it): rc__stack_calibrate
 * makes one allocation along every path of the allocator's entry points
 * (rc_new_at, rc_alloc_at, rc_realloc_at) from a function whose frame
 * address it knows, and records the return address that leads back into
 * the entry point's frame.  A live walk skips to the first such address;
 * the frame after it is the caller's, whose line the rc_site already
 * names, so the native frames kept begin with the caller's caller. */
#include "internal.h"
#include "trace_int.h"

#include <pthread.h>

#define MAX_ENTRY_RETS 32
#define MAX_SKIP 12            /* frames searched for an entry return */

static pthread_mutex_t calib_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t entry_rets[MAX_ENTRY_RETS];
static volatile int n_entry_rets;
static bool calibrated;

/* The thread's stack bounds: a walk never reads outside them. */
static __thread uintptr_t stack_lo, stack_hi;

static void stack_bounds(void)
{
    pthread_attr_t a;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        if (pthread_attr_getstack(&a, &addr, &size) == 0) {
            stack_lo = (uintptr_t)addr;
            stack_hi = (uintptr_t)addr + size;
        }
        pthread_attr_destroy(&a);
    }
    if (!stack_hi)
        stack_hi = 1;          /* unknown: walks stop at once */
}

static bool is_entry_ret(uintptr_t r, int n)
{
    for (int i = 0; i < n; i++)
        if (entry_rets[i] == r)
            return true;
    return false;
}

/* A frame record that lies on this thread's stack, above the last one. */
static inline bool frame_ok(const uintptr_t *fp, const uintptr_t *prev, uintptr_t lo, uintptr_t hi)
{
    return (uintptr_t)fp >= lo && (uintptr_t)fp + 16 <= hi && !((uintptr_t)fp & 7) && fp > prev;
}

size_t rc__stack_capture(const void *start, uintptr_t *out, size_t max)
{
    if (RC_UNLIKELY(!stack_hi))
        stack_bounds();
    const uintptr_t lo = stack_lo, hi = stack_hi;    /* one TLS lookup, not one per frame */
    const uintptr_t *fp = start, *prev = NULL;
    int ne = n_entry_rets, skip = 1;
    /* Find the frame returning into the allocator's entry point; the one
     * after it is the site's own function, which the rc_site names. */
    for (int i = 0; i < MAX_SKIP && frame_ok(fp, prev, lo, hi); i++) {
        if (is_entry_ret(fp[1], ne)) {
            skip = 2;
            break;
        }
        prev = fp;
        fp = (const uintptr_t *)fp[0];
    }
    if (skip == 1) {                   /* a path not calibrated: drop the hook only */
        fp = start;
        prev = NULL;
    }
    size_t n = 0;
    for (int i = 0; n < max && frame_ok(fp, prev, lo, hi) && fp[1]; i++) {
        if (i >= skip)
            out[n++] = fp[1];
        prev = fp;
        fp = (const uintptr_t *)fp[0];
    }
    return n;
}

/* ---- calibration -------------------------------------------------------- */

static const void *calib_frame;       /* frame of the calibrating function */

static void calib_hook(rc_heap *h, const void *ptr, size_t size, const rc_site *site)
{
    (void)h, (void)ptr, (void)size, (void)site;
    uintptr_t *fp = __builtin_frame_address(0), *prev = NULL;
    for (int i = 0; i < MAX_SKIP + 2 && fp; i++) {
        if ((const void *)fp[0] == calib_frame) {
            /* fp is the entry point's frame; prev[1] returns into it */
            uintptr_t r = prev ? prev[1] : (uintptr_t)__builtin_return_address(0);
            if (!is_entry_ret(r, n_entry_rets) && n_entry_rets < MAX_ENTRY_RETS)
                entry_rets[n_entry_rets++] = r;
            return;
        }
        prev = fp;
        fp = (uintptr_t *)fp[0];
    }
}

static const rc_type calib_type = {.name = "rc_trace_calibration", .size = 16};

/* Every path through the entry points, each called from this frame. */
static RC_NOINLINE void calib_run(rc_heap *h)
{
    calib_frame = __builtin_frame_address(0);
    void *o = rc_new_at(h, &calib_type, 0, NULL);
    if (o) rc_decref(o);
    o = rc_new_at(h, &calib_type, 8192, NULL);
    if (o) rc_decref(o);
    void *p = rc_alloc_at(h, 16, NULL);
    p = rc_realloc_at(h, p, 20, NULL);       /* same class */
    p = rc_realloc_at(h, p, 200, NULL);      /* small to small */
    p = rc_realloc_at(h, p, 8192, NULL);     /* small to large */
    p = rc_realloc_at(h, p, 16384, NULL);    /* large to large */
    p = rc_realloc_at(h, p, 64, NULL);       /* large to small */
    rc_free(h, p);
    p = rc_alloc_at(h, 8192, NULL);
    rc_free(h, p);
    p = rc_realloc_at(h, NULL, 32, NULL);
    rc_free(h, p);
    __asm__ volatile("" ::: "memory");       /* keep this frame: no tail calls above */
}

void rc__stack_calibrate(rc_heap *h)
{
    pthread_mutex_lock(&calib_lock);
    if (!calibrated) {
        void (*a)(rc_heap *, const void *, size_t, const rc_site *) = h->on_alloc;
        void (*f)(rc_heap *, const void *) = h->on_free;
        h->on_alloc = calib_hook;
        h->on_free = NULL;
        calib_run(h);
        h->on_alloc = a;
        h->on_free = f;
        calibrated = n_entry_rets > 0;
    }
    pthread_mutex_unlock(&calib_lock);
}
