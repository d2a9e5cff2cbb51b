/* Between profile.c and profile_instrument.c. */
#ifndef RC_PROFILE_INTERNAL_H
#define RC_PROFILE_INTERNAL_H

#include "../prim/prim.h"

/* Brackets opened by the -finstrument-functions hooks: named lazily from
 * the function's address, and recorded only up to RECYCLE_PROFILE_DEPTH. */
void rc__profile_enter_fn(void *fn) RC_NOINSTR;
void rc__profile_exit_fn(void) RC_NOINSTR;

#endif
