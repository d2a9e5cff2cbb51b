/* The hooks GCC and Clang call around every function of code built with
 * -finstrument-functions: librecycle-instrument, a static library of its
 * own, because hooks defined in librecycle would fire in every program
 * linking it.  glibc's own versions are empty and lose to these, which the
 * linker meets first.  They must never be instrumented themselves (that
 * would recurse). */
#include "recycle.h"
#include "profile_internal.h"

void __cyg_profile_func_enter(void *fn, void *call_site) RC_NOINSTR RC_API;
void __cyg_profile_func_exit(void *fn, void *call_site) RC_NOINSTR RC_API;

void __cyg_profile_func_enter(void *fn, void *call_site)
{
    (void)call_site;
    rc_profile_enter_fn(fn);
}

void __cyg_profile_func_exit(void *fn, void *call_site)
{
    (void)fn;
    (void)call_site;
    rc_profile_exit_fn();
}
