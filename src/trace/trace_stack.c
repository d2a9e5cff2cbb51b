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
#include "../core/internal.h"
#include "trace_int.h"
#include "trace_stack.h"

#define MAX_ENTRY_RETS 32

static rc__os_mutex calib_lock = RC_OS_MUTEX_INIT;
/* The calibrated return addresses, as an open-addressing set: a frame that
 * is not one costs a single compare. */
#define ENTRY_SET 64
static uintptr_t entry_rets[ENTRY_SET];
static volatile int n_entry_rets;
static bool calibrated;

/* The thread's stack bounds: a walk never reads outside them. */
static __thread uintptr_t stack_lo, stack_hi;

static void stack_bounds(void)
{
    if (!rc__os_stack_bounds(&stack_lo, &stack_hi))
        stack_lo = 0, stack_hi = 1;   /* unknown: walks stop at once */
}

static inline size_t entry_slot(uintptr_t r) { return (size_t)((r * 0x9E3779B97F4A7C15ull) >> 58); }

static inline bool is_entry_ret(uintptr_t r)
{
    for (size_t i = entry_slot(r); entry_rets[i]; i = (i + 1) % ENTRY_SET)
        if (entry_rets[i] == r)
            return true;
    return false;
}

static void add_entry_ret(uintptr_t r)
{
    size_t i = entry_slot(r);
    while (entry_rets[i] && entry_rets[i] != r)
        i = (i + 1) % ENTRY_SET;
    if (!entry_rets[i] && n_entry_rets < MAX_ENTRY_RETS) {
        entry_rets[i] = r;
        n_entry_rets++;
    }
}

/* A frame record that lies on this thread's stack, above the last one. */
static inline bool frame_ok(const uintptr_t *fp, const uintptr_t *prev, uintptr_t lo, uintptr_t hi)
{
    return (uintptr_t)fp >= lo && (uintptr_t)fp + 16 <= hi && !((uintptr_t)fp & 7) && fp > prev;
}

/* The last walk still holds when every record it read holds the same two
 * words: the walk would then read the same records and decide the same.
 * The addresses are known, so these loads run in parallel, where a walk is
 * a chain of dependent loads.  They are stale on purpose — on another call
 * path they land inside other frames' locals, within this thread's stack —
 * so AddressSanitizer must not check them. */
__attribute__((no_sanitize_address)) static bool memo_holds(const rc__stack_memo *m, const void *start, size_t max, uintptr_t lo)
{
    if (!m->nverify || m->rec[0] != start || m->max != max || m->lo != lo)
        return false;
    uintptr_t diff = 0;
    for (size_t i = 0; i < m->nverify; i++)
        diff |= (m->rec[i][0] ^ m->word0[i]) | (m->rec[i][1] ^ m->word1[i]);
    return diff == 0;
}

/* Walks from start, noting every record read in m. */
static void walk(rc__stack_memo *m, const uintptr_t *fp, size_t max, uintptr_t lo, uintptr_t hi)
{
    const uintptr_t *prev = NULL;
    size_t k = 0, first = 1, limit = MAX_SKIP > 1 + max ? MAX_SKIP : 1 + max;
    bool found = false;
    while (k < limit && frame_ok(fp, prev, lo, hi)) {
        m->rec[k] = fp;
        m->word0[k] = fp[0];
        m->word1[k] = fp[1];
        if (!m->word1[k++])
            break;                     /* the outermost frame; kept for checking */
        if (!found && k <= MAX_SKIP && is_entry_ret(m->word1[k - 1])) {
            /* the return into the allocator's entry point: the next frame
             * is the site's own function, which the rc_site names */
            found = true;
            first = k + 1;
            limit = first + max;
        }
        prev = fp;
        fp = (const uintptr_t *)m->word0[k - 1];
    }
    m->nverify = k;
    size_t usable = k && !m->word1[k - 1] ? k - 1 : k;
    m->first = first;
    m->n = usable > first ? (usable - first < max ? usable - first : max) : 0;
    m->max = max;
    m->lo = lo;
}

size_t rc__stack_capture(rc__stack_memo *m, const void *start, uintptr_t *out, size_t max)
{
    if (RC_UNLIKELY(!stack_hi))
        stack_bounds();
    const uintptr_t lo = stack_lo, hi = stack_hi;    /* one TLS lookup, not one per frame */
    if (!memo_holds(m, start, max, lo))
        walk(m, start, max, lo, hi);
    memcpy(out, m->word1 + m->first, m->n * sizeof *out);
    return m->n;
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
            add_entry_ret(r);
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
    rc__os_lock(&calib_lock);
    if (!calibrated) {
        rc_alloc_observers was = rc__alloc_observe(h, (rc_alloc_observers){calib_hook, NULL});
        calib_run(h);
        rc__alloc_observe(h, was);
        calibrated = n_entry_rets > 0;
    }
    rc__os_unlock(&calib_lock);
}
