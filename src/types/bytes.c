/* bytes: an immutable byte string; exports its data read-only through the
 * buffer protocol, so views of it never copy. */
#include "types.h"

void *rc_bytes_new(rc_heap *h, const void *data, size_t n)
{
    if (!data && n) {
        rc__error(h, RC_EINVAL, "rc_bytes_new: NULL data");
        return NULL;
    }
    rc_bytes_obj *b = rc_new_var(h, &rc__bytes_type.bt.type, sizeof(rc_bytes_obj) + n + 1);
    if (!b) return NULL;
    b->len = n;
    b->hash = RC_UNLIKELY(rc__is_shared(rc__head(b))) ? rc__hash_bytes(data, n) : -1;   /* as a str's */
    if (n) memcpy(b->data, data, n);
    b->data[n] = '\0';
    return b;
}

const void *rc_bytes_data(const void *o)
{
    if (!rc__is(o, &rc__bytes_type)) {
        rc__bad_type(o, "bytes");
        return NULL;
    }
    return ((const rc_bytes_obj *)o)->data;
}

size_t rc_bytes_len(const void *o)
{
    if (!rc__is(o, &rc__bytes_type)) return rc__bad_type(o, "bytes"), 0;
    return ((const rc_bytes_obj *)o)->len;
}

static int bytes_repr(const void *self, rc_strbuf *sb, int depth)
{
    (void)depth;
    const rc_bytes_obj *b = self;
    char q = rc__pick_quote(b->data, b->len);
    rc__sb_put(sb, "b", 1);
    rc__sb_put(sb, &q, 1);
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = (unsigned char)b->data[i];
        bool plain = !rc__put_escape(sb, c, q);
        if (plain && (c < 0x20 || c >= 0x7F)) rc__sb_printf(sb, "\\x%02x", c);
        else if (plain) rc__sb_put(sb, (const char *)&c, 1);
    }
    rc__sb_put(sb, &q, 1);
    return sb->err;
}

static int bytes_hash(const void *self, int64_t *out)
{
    rc_bytes_obj *b = (rc_bytes_obj *)(uintptr_t)self;   /* the cache is not part of the value */
    if (b->hash == -1) b->hash = rc__hash_bytes(b->data, b->len);
    *out = b->hash;
    return 0;
}

static int bytes_equal(const void *a, const void *b, int depth)
{
    (void)depth;
    const rc_bytes_obj *x = a, *y = b;
    return x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
}

static int bytes_truth(const void *self)
{
    return ((const rc_bytes_obj *)self)->len != 0;
}

static void *bytes_iter(void *self)
{
    return rc__iter_new(self, RC__IT_BYTES);
}

static int bytes_get_buffer(void *self, rc_buffer *out)
{
    rc_bytes_obj *b = self;
    *out = (rc_buffer){.data = b->data, .len = b->len, .kind = RC_U8, .readonly = true};
    return 0;
}

static void bytes_release_buffer(void *self)
{
    (void)self;   /* immutable: nothing to count */
}

const rc__vtype rc__bytes_type = {
    .bt = {.type = {.name = "bytes", .flags = RC__TYPE_VALUE | RC_TYPE_BUFFER | RC_TYPE_NO_WEAKREF},
           .get_buffer = bytes_get_buffer,
           .release_buffer = bytes_release_buffer},
    .repr = bytes_repr,
    .equal = bytes_equal,
    .hash = bytes_hash,
    .iter = bytes_iter,
    .truth = bytes_truth,
};
