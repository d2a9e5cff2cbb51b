/* Between profile.c, profile_instrument.c and profile_symbols.c. */
#ifndef RC_PROFILE_INTERNAL_H
#define RC_PROFILE_INTERNAL_H

#define RC_NOINSTR __attribute__((no_instrument_function))

/* rc_profile_enter_fn / rc_profile_exit_fn (recycle.h) open brackets
 * named lazily from the function's address, recorded only up to
 * RECYCLE_PROFILE_DEPTH; they must never be instrumented themselves. */
void rc_profile_enter_fn(void *fn) RC_NOINSTR;
void rc_profile_exit_fn(void) RC_NOINSTR;

/* The name of the function containing addr ("module+0xoffset" when no
 * symbol covers it).  The string lives until the process ends. */
const char *rc__symbol_name(void *addr) RC_NOINSTR;

#endif
