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

int rc__error(rc_heap *h, int code, const char *fmt, ...)
{
    if (!h)
        return code;
    h->err_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->err_msg, sizeof h->err_msg, fmt, ap);
    va_end(ap);
    return code;
}

int rc__type_error(rc_heap *h, const void *o, const char *expected)
{
    return rc__error(h, RC_ETYPE, "expected %s, got %s", expected, rc__safe_type_name(o));
}

int rc_set_error(rc_heap *h, int code, const char *fmt, ...)
{
    char msg[sizeof h->err_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rc__error(h, code, "%s", msg);
}

const char *rc_last_error(const rc_heap *h)
{
    return h && h->err_code ? h->err_msg : "";
}

int rc_last_error_code(const rc_heap *h)
{
    return h ? h->err_code : RC_EINVAL;
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
    char detail[200], site[200] = "";
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
