/* A heap's last error, which the allocator fills when an allocation fails
 * and the core for everything else (src/core/error.c). */
#include "alloc_impl.h"

#include <stdio.h>

int rc__error_slot_set(rc_error_slot *e, int code, const char *fmt, va_list ap)
{
    char msg[sizeof e->msg];   /* the arguments may point into the old message */
    vsnprintf(msg, sizeof msg, fmt, ap);
    memcpy(e->msg, msg, sizeof msg);
    e->code = code;
    return code;
}

int rc__alloc_error(rc_heap *h, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rc__error_slot_set(rc__alloc_state(h)->err, code, fmt, ap);
    va_end(ap);
    return code;
}
