/* The one-line abort every check of every layer ends in.  The line names
 * where the object was allocated when the heap's tracer knows: the core
 * installs that lookup, so the checks below the core report it too. */
#include "prim.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>

static _Atomic(rc_fatal_site_fn) site_of;

void rc__fatal_on_site(rc_fatal_site_fn fn)
{
    atomic_store_explicit(&site_of, fn, memory_order_relaxed);
}

void rc__fatal(const char *check, const char *type, const void *addr, const char *fmt, ...)
{
    static _Thread_local bool reporting;   /* a check failing inside the site lookup */
    char detail[1024], site[512] = "";   /* sites carry two file paths */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    rc_fatal_site_fn fn = atomic_load_explicit(&site_of, memory_order_relaxed);
    if (fn && !reporting) {
        reporting = true;
        fn(addr, site, sizeof site);
    }
    fprintf(stderr, "recycle: %s: %s object at %p: %s%s\n", check, type ? type : "?", addr, detail, site);
    fflush(stderr);
    abort();
}
