/* A growable text buffer in heap memory, for repr.  The first error sticks
 * and later writes are ignored, so callers check once at the end. */
#include "types.h"

#include <stdio.h>

void rc__sb_init(rc_strbuf *sb, rc_heap *h)
{
    *sb = (rc_strbuf){.h = h};
}

static bool sb_reserve(rc_strbuf *sb, size_t extra)
{
    if (sb->err) return false;
    if (sb->len + extra + 1 <= sb->cap) return true;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1) cap *= 2;
    char *p = rc_realloc(sb->h, sb->p, cap);
    if (!p) {
        sb->err = rc__error(sb->h, RC_ENOMEM, "out of memory building a repr of %zu bytes", cap);
        return false;
    }
    sb->p = p;
    sb->cap = cap;
    return true;
}

void rc__sb_put(rc_strbuf *sb, const char *p, size_t n)
{
    if (!sb_reserve(sb, n)) return;
    memcpy(sb->p + sb->len, p, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

void rc__sb_puts(rc_strbuf *sb, const char *s)
{
    rc__sb_put(sb, s, strlen(s));
}

void rc__sb_printf(rc_strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !sb_reserve(sb, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void rc__sb_free(rc_strbuf *sb)
{
    rc_free(sb->h, sb->p);
    sb->p = NULL;
    sb->len = sb->cap = 0;
}

/* Python's choice for str and bytes reprs: single quotes unless the text
 * has ' and no ". */
char rc__pick_quote(const char *p, size_t n)
{
    return memchr(p, '\'', n) && !memchr(p, '"', n) ? '"' : '\'';
}

/* The escapes str and bytes share; false when c needs none of them. */
bool rc__put_escape(rc_strbuf *sb, uint32_t c, char quote)
{
    switch (c) {
    case '\n': rc__sb_puts(sb, "\\n"); return true;
    case '\r': rc__sb_puts(sb, "\\r"); return true;
    case '\t': rc__sb_puts(sb, "\\t"); return true;
    case '\\': rc__sb_puts(sb, "\\\\"); return true;
    default:
        if (c != (unsigned char)quote) return false;
        rc__sb_printf(sb, "\\%c", quote);
        return true;
    }
}
