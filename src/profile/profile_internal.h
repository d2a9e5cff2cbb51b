/* Between profile.c and profile_instrument.c. */
#ifndef RC_PROFILE_INTERNAL_H
#define RC_PROFILE_INTERNAL_H

#include "../prim/prim.h"

/* rc_profile_enter_fn / rc_profile_exit_fn (recycle.h) open brackets
 * named lazily from the function's address, recorded only up to
 * RECYCLE_PROFILE_DEPTH; they must never be instrumented themselves. */
void rc_profile_enter_fn(void *fn) RC_NOINSTR;
void rc_profile_exit_fn(void) RC_NOINSTR;

#endif
