/* Between profile.c, profile_instrument.c and profile_symbols.c. */
#ifndef RC_PROFILE_INTERNAL_H
#define RC_PROFILE_INTERNAL_H

#define RC_NOINSTR __attribute__((no_instrument_function))

/* The .dat file brackets append to: set by `recycle run` (the sampler)
 * for the program it starts. */
#define RC_PROFILE_ENV_FILE "RECYCLE_PROFILE_FILE"

/* Brackets opened by the -finstrument-functions hooks: named lazily from
 * the function's address, and recorded only up to RECYCLE_PROFILE_DEPTH. */
void rc__profile_enter_fn(void *fn) RC_NOINSTR;
void rc__profile_exit_fn(void) RC_NOINSTR;

/* The name of the function containing addr ("module+0xoffset" when no
 * symbol covers it).  The string lives until the process ends. */
const char *rc__symbol_name(void *addr) RC_NOINSTR;

#endif
