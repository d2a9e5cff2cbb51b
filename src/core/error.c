/* Error codes and the last error, per heap and per thread. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

const char *rc_strerror(int code)
{
    switch (code) {
    case RC_OK:      return "success";
    case RC_ENOENT:  return "no such file, key or object";
    case RC_EIO:     return "input/output error";
    case RC_ENOMEM:  return "out of memory";
    case RC_EBUSY:   return "resource busy";
    case RC_EINVAL:  return "invalid argument";
    case RC_ERANGE:  return "value out of range";
    case RC_ENOTSUP: return "operation not supported";
    case RC_ETYPE:   return "wrong type of object";
    case RC_EFORMAT: return "truncated, corrupt or unsupported file";
    case RC_ESTATE:  return "not allowed in the current state";
    default:         return "unknown error";
    }
}

/* The last error of calls that have no heap (loaders, the tools): one per
 * thread, so two threads loading files never see each other's message. */
static _Thread_local rc_error_slot thread_error;

static rc_error_slot *error_slot(const rc_heap *h)
{
    return h ? (rc_error_slot *)&h->err : &thread_error;
}

/* A threaded heap's slot is written under the heap lock: operations that
 * take only their container's stripe fail beside other threads' calls. */
int rc_set_error(rc_heap *h, int code, const char *fmt, ...)
{
    RC_GUARD_((h ? rc__guard_heap(h, false) : (rc__guard){NULL, false}));
    va_list ap;
    va_start(ap, fmt);
    rc__error_slot_set(error_slot(h), code, fmt, ap);
    va_end(ap);
    return code;
}

/* The same from a thread not attached to h, which may not take its lock:
 * rc_thread_attach's refusal. */
int rc__error_unattached(rc_heap *h, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rc__error_slot_set(error_slot(h), code, fmt, ap);
    va_end(ap);
    return code;
}

int rc__type_error(rc_heap *h, const void *o, const char *expected)
{
    return rc__error(h, RC_ETYPE, "expected %s, got %s", expected, rc__safe_type_name(o));
}

const char *rc_last_error(const rc_heap *h)
{
    return error_slot(h)->code ? error_slot(h)->msg : "";
}

int rc_last_error_code(const rc_heap *h)
{
    return error_slot(h)->code;
}

void rc_clear_error(rc_heap *h)
{
    error_slot(h)->code = 0;
    error_slot(h)->msg[0] = '\0';
}

int rc__foreign(rc_heap *h, const void *o, const rc_heap *theirs)
{
    return rc__error(h, RC_EINVAL, "a '%s' object of %sheap %p cannot be stored in a container of %sheap %p",
                     rc__type(rc__head(o))->name, theirs->mt ? "threaded " : "", (const void *)theirs,
                     h->mt ? "threaded " : "", (void *)h);
}
