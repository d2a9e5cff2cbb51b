/* Container locks of threaded heaps: the slow paths of sections.  The
 * design and its invariants are written once, in src/core/internal.h
 * ("Container locks"); the sleeping itself, counted as parked, is
 * thread_heap.c's (rc__mt_stripe_wait). */
#include "internal.h"

_Thread_local uint64_t rc__mt_token __attribute__((tls_model("initial-exec")));
_Thread_local rc__section *rc__section_top __attribute__((tls_model("initial-exec")));

/* A holder leaves a stripe within a few hundred instructions unless its
 * operation allocates or drops a last reference: spin that long first. */
enum { SPINS = 200 };

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Takes cs's stripes, or none: the one another thread holds. */
static rc__stripe *take_all(rc__section *cs)
{
    if (!rc__stripe_try(cs->a))
        return cs->a;
    if (cs->b && !rc__stripe_try(cs->b)) {
        rc__stripe_give(cs->h, cs->a);
        return cs->b;
    }
    cs->active = true;
    return NULL;
}

static bool held(const rc__stripe *s)
{
    return atomic_load_explicit(&s->word, memory_order_relaxed) != 0;
}

static bool spin_take(rc__section *cs, rc__stripe *busy)
{
    for (int i = 0; i < SPINS; i++) {
        if (!held(busy) && !(busy = take_all(cs)))
            return true;
        cpu_relax();
    }
    return false;
}

void rc__section_take_slow(rc__section *cs)
{
    rc__stripe *busy = cs->b && held(cs->b) ? cs->b : cs->a;
    if (spin_take(cs, busy))
        return;
    while ((busy = take_all(cs))) {
        rc__sections_suspend();
        rc__mt_stripe_wait(cs->h, busy);
    }
}

/* Before the thread sleeps: it holds no stripe while it does. */
void rc__sections_suspend(void)
{
    for (rc__section *cs = rc__section_top; cs; cs = cs->prev)
        if (cs->active)
            rc__section_give(cs);
}

/* After it slept, or when an inner section ends: the innermost section
 * takes its stripes back (the ones around it wait for their turn). */
void rc__sections_resume(void)
{
    rc__section *cs = rc__section_top;
    if (cs && !cs->active)
        rc__section_take(cs);
}
