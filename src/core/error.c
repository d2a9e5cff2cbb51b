/* Error codes, the per-heap last error, and the one-line fatal abort. */
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

/* The last error of calls that have no heap (loaders, the tools) and of
 * threaded heaps: one per thread, so two threads never see each other's
 * message (free-threaded CPython keeps its exception state per thread). */
static _Thread_local struct { int code; char msg[256]; } thread_error;

static bool per_thread(const rc_heap *h)
{
    return !h || h->mt;
}

static int *error_code(const rc_heap *h)
{
    return per_thread(h) ? &thread_error.code : (int *)&h->err_code;
}

static char *error_msg(const rc_heap *h)
{
    return per_thread(h) ? thread_error.msg : (char *)h->err_msg;
}

int rc_set_error(rc_heap *h, int code, const char *fmt, ...)
{
    char msg[sizeof thread_error.msg];   /* the arguments may point into the old message */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(error_msg(h), msg, sizeof msg);
    *error_code(h) = code;
    return code;
}

int rc__type_error(rc_heap *h, const void *o, const char *expected)
{
    return rc__error(h, RC_ETYPE, "expected %s, got %s", expected, rc__safe_type_name(o));
}

const char *rc_last_error(const rc_heap *h)
{
    return *error_code(h) ? error_msg(h) : "";
}

int rc_last_error_code(const rc_heap *h)
{
    return *error_code(h);
}

void rc_clear_error(rc_heap *h)
{
    *error_code(h) = 0;
    error_msg(h)[0] = '\0';
}

int rc__foreign(rc_heap *h, const void *o, const rc_heap *theirs)
{
    return rc__error(h, RC_EINVAL, "a '%s' object of %sheap %p cannot be stored in a container of %sheap %p",
                     rc__type(rc__head(o))->name, theirs->mt ? "threaded " : "", (const void *)theirs,
                     h->mt ? "threaded " : "", (void *)h);
}

const char *rc__safe_type_name(const void *obj)
{
    if (!obj)
        return "NULL";
    uintptr_t tw = rc__head(obj)->tw;
    return tw > 4096 ? ((const rc_type *)(tw & ~(uintptr_t)RC_HF_MASK))->name : "?";
}

void rc__fatal(const char *check, const char *type, const void *addr, const char *fmt, ...)
{
    static _Thread_local bool reporting;   /* a check failing inside the site lookup */
    char detail[1024], site[512] = "";   /* sites carry two file paths */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (!reporting) {
        reporting = true;
        rc__debug_site(addr, site, sizeof site);
    }
    fprintf(stderr, "recycle: %s: %s object at %p: %s%s\n", check, type ? type : "?", addr, detail, site);
    fflush(stderr);
    abort();
}
