/* str: immutable UTF-8 text, validated on creation, with its hash cached
 * and identifier-like literals interned (intern.c). */
#include "types.h"

#include <stdio.h>

#define AUTO_INTERN_MAX 64


/* Code points in p[0..n), or -1 when p is not valid UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF are invalid, as in Python). */
static ptrdiff_t utf8_count(const unsigned char *p, size_t n, size_t *bad_at)
{
    size_t count = 0, i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!len || i + len > n) goto bad;
        uint32_t cp = len == 1 ? c : c & (0x7Fu >> len);
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80) goto bad;
            cp = cp << 6 | (p[i + k] & 0x3Fu);
        }
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        i += len;
        count++;
    }
    return (ptrdiff_t)count;
bad:
    *bad_at = i;
    return -1;
}

static bool identifier_like(const char *p, size_t n)
{
    if (n > AUTO_INTERN_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

void *rc__str_make(rc_heap *h, const char *p, size_t n, bool auto_intern)
{
    size_t bad_at = 0;
    ptrdiff_t nchars = utf8_count((const unsigned char *)p, n, &bad_at);
    if (nchars < 0) {
        rc__error(h, RC_EINVAL, "invalid UTF-8 at byte %zu of a %zu-byte string", bad_at, n);
        return NULL;
    }
    if (auto_intern && identifier_like(p, n)) return rc__intern_text(h, p, n);
    rc_str_obj *s = rc_new_var(h, &rc__str_type.bt.type, sizeof(rc_str_obj) + n + 1);
    if (!s) return NULL;
    s->len = n;
    s->nchars = (size_t)nchars < RC__NCHARS_BIG ? (uint32_t)nchars : RC__NCHARS_BIG;
    /* A threaded heap's str is hashed at once: its cache is never written
     * while two threads look it up. */
    s->hash = RC_UNLIKELY(rc__is_shared(rc__head(s))) ? rc__hash_bytes(p, n) : -1;
    memcpy(s->data, p, n);
    s->data[n] = '\0';
    return s;
}

void *rc_str_new_len(rc_heap *h, const char *utf8, size_t n)
{
    if (!utf8 && n) {
        rc__error(h, RC_EINVAL, "rc_str_new: NULL text");
        return NULL;
    }
    return rc__str_make(h, utf8 ? utf8 : "", n, true);
}

void *rc_str_new(rc_heap *h, const char *utf8)
{
    return rc_str_new_len(h, utf8, utf8 ? strlen(utf8) : 0);
}

void *rc_str_format(rc_heap *h, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        rc__error(h, RC_EINVAL, "rc_str_format: bad format \"%s\"", fmt);
        return NULL;
    }
    if ((size_t)n < sizeof small) return rc__str_make(h, small, (size_t)n, false);
    char *big = rc_alloc(h, (size_t)n + 1);
    if (!big) return NULL;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    void *s = rc__str_make(h, big, (size_t)n, false);
    rc_free(h, big);
    return s;
}

const char *rc_str_data(const void *o)
{
    if (!rc__is(o, &rc__str_type)) {
        rc__bad_type(o, "str");
        return NULL;
    }
    return ((const rc_str_obj *)o)->data;
}

size_t rc_str_len(const void *o)
{
    if (!rc__is(o, &rc__str_type)) return rc__bad_type(o, "str"), 0;
    return ((const rc_str_obj *)o)->len;
}

size_t rc_str_nchars(const void *o)
{
    if (!rc__is(o, &rc__str_type)) return rc__bad_type(o, "str"), 0;
    const rc_str_obj *s = o;
    if (s->nchars != RC__NCHARS_BIG) return s->nchars;
    size_t bad_at;
    return (size_t)utf8_count((const unsigned char *)s->data, s->len, &bad_at);
}

/* ---- value operations ---------------------------------------------------- */

/* Non-ASCII code points Python's str.isprintable() rejects: the C1
 * controls, and the space, separator and format characters in common use
 * (the full Unicode category tables are not carried; docs/types.md). */
static bool unprintable(uint32_t cp)
{
    static const uint32_t ranges[][2] = {
        {0x80, 0xA0}, {0xAD, 0xAD}, {0x1680, 0x1680}, {0x180E, 0x180E}, {0x2000, 0x200F},
        {0x2028, 0x202F}, {0x205F, 0x2064}, {0x2066, 0x206F}, {0x3000, 0x3000}, {0xD800, 0xF8FF},
        {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB}, {0xE0001, 0xE007F}, {0xF0000, 0x10FFFF},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1]) return true;
    return false;
}

/* Decodes the (valid) UTF-8 sequence at p; returns its length. */
static size_t decode(const unsigned char *p, uint32_t *cp)
{
    size_t len = p[0] < 0x80 ? 1 : p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
    uint32_t v = len == 1 ? p[0] : p[0] & (0x7Fu >> len);
    for (size_t k = 1; k < len; k++) v = v << 6 | (p[k] & 0x3Fu);
    *cp = v;
    return len;
}

static void put_escaped(rc_strbuf *sb, uint32_t cp)
{
    if (cp < 0x100) rc__sb_printf(sb, "\\x%02x", (unsigned)cp);
    else if (cp < 0x10000) rc__sb_printf(sb, "\\u%04x", (unsigned)cp);
    else rc__sb_printf(sb, "\\U%08x", (unsigned)cp);
}

/* Python's unicode_repr: single quotes unless the text has ' and no ". */
static int str_repr(const void *self, rc_strbuf *sb, int depth)
{
    (void)depth;
    const rc_str_obj *s = self;
    char q = rc__pick_quote(s->data, s->len);
    rc__sb_put(sb, &q, 1);
    for (size_t i = 0; i < s->len && !sb->err;) {
        uint32_t cp;
        size_t n = decode((const unsigned char *)s->data + i, &cp);
        bool plain = !rc__put_escape(sb, cp, q);
        if (plain && (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && unprintable(cp)))) put_escaped(sb, cp);
        else if (plain) rc__sb_put(sb, s->data + i, n);
        i += n;
    }
    rc__sb_put(sb, &q, 1);
    return sb->err;
}

static int str_hash(const void *self, int64_t *out)
{
    *out = rc__str_hash(self);
    return 0;
}

static int str_equal(const void *a, const void *b, int depth)
{
    (void)depth;
    const rc_str_obj *x = a, *y = b;
    if (x->interned && y->interned) return 0;   /* a != b and both interned */
    if (x->len != y->len) return 0;
    if (x->hash != -1 && y->hash != -1 && x->hash != y->hash) return 0;
    return rc__same_bytes(x->data, y->data, x->len);
}

static int str_truth(const void *self)
{
    return ((const rc_str_obj *)self)->len != 0;
}

static void *str_iter(void *self)
{
    return rc__iter_new(self, RC__IT_STR);
}

static void str_release(void *self)
{
    rc_str_obj *s = self;
    if (s->interned) rc__intern_remove(rc__heap(self), s);
}

const rc__vtype rc__str_type = {
    .bt.type = {.name = "str", .release = str_release, .flags = RC__TYPE_VALUE | RC_TYPE_NO_WEAKREF},
    .repr = str_repr,
    .equal = str_equal,
    .hash = str_hash,
    .iter = str_iter,
    .truth = str_truth,
};
