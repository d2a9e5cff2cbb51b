/* view: Python's memoryview.  A window (start, length, element kind) on the
 * memory of a buffer exporter; it holds a reference to the exporter and one
 * export until released, so the exporter keeps its data in place.  Slices
 * and casts are new windows on the same memory: nothing is copied. */
#include "types.h"

#define VIEW(o) ((rc_view_obj *)(o))

static const rc_buffer_type *buffer_type(const void *o)
{
    const rc_type *t = rc__tp(o);
    return (t->flags & RC_TYPE_BUFFER) ? (const rc_buffer_type *)(const void *)t : NULL;
}

/* base + off elements, without arithmetic on the NULL data of an empty buffer. */
static char *at(void *base, size_t off, rc_elem kind)
{
    return base ? (char *)base + off * rc_elem_size(kind) : NULL;
}

static void clamp(size_t len, size_t *start, size_t *stop)
{
    if (*stop > len) *stop = len;
    if (*start > *stop) *start = *stop;
}

/* A new view of n elements of kind at data, taking one more export of exporter. */
static void *make_view(void *exporter, char *data, size_t n, rc_elem kind, bool readonly)
{
    const rc_buffer_type *bt = buffer_type(exporter);
    rc_buffer whole;
    int rc = bt->get_buffer(exporter, &whole);
    if (rc < 0) {
        rc__err(exporter, rc, "'%s' object refused to export its buffer", bt->type.name);
        return NULL;
    }
    rc_view_obj *v = rc_new(rc__heap(exporter), &rc__view_type.bt.type);
    if (!v) {
        bt->release_buffer(exporter);
        return NULL;
    }
    *v = (rc_view_obj){.exporter = rc_newref(exporter), .data = data, .len = n, .kind = kind,
                       .readonly = readonly || whole.readonly};
    return v;
}

static int check_live(const void *view)
{
    if (!rc__is(view, &rc__view_type)) return rc__bad_type(view, "view");
    if (!VIEW(view)->exporter) return rc__err(view, RC_ESTATE, "operation forbidden on released memoryview object");
    return 0;
}

void *rc_view_slice(void *view, size_t start, size_t stop)
{
    if (check_live(view) < 0) return NULL;
    rc_view_obj *v = view;
    clamp(v->len, &start, &stop);
    return make_view(v->exporter, at(v->data, start, v->kind), stop - start, v->kind, v->readonly);
}

void *rc_view_new(void *exporter, size_t start, size_t stop)
{
    if (rc__is(exporter, &rc__view_type)) return rc_view_slice(exporter, start, stop);
    const rc_buffer_type *bt = exporter ? buffer_type(exporter) : NULL;
    if (!bt) {
        if (exporter) rc__err(exporter, RC_ETYPE, "memoryview: a bytes-like object is required, not '%s'", rc__tp(exporter)->name);
        return NULL;
    }
    rc_buffer whole;
    int rc = bt->get_buffer(exporter, &whole);   /* only to learn the size; given back below */
    if (rc < 0) {
        rc__err(exporter, rc, "'%s' object refused to export its buffer", bt->type.name);
        return NULL;
    }
    bt->release_buffer(exporter);
    if (!rc_elem_size(whole.kind)) {
        rc__err(exporter, RC_EINVAL, "'%s' exported a bad element kind %d", bt->type.name, (int)whole.kind);
        return NULL;
    }
    clamp(whole.len, &start, &stop);
    return make_view(exporter, at(whole.data, start, whole.kind), stop - start, whole.kind, whole.readonly);
}

void *rc_view_cast(void *view, rc_elem kind)
{
    if (check_live(view) < 0) return NULL;
    rc_view_obj *v = view;
    size_t nbytes = v->len * rc_elem_size(v->kind), size = rc_elem_size(kind);
    if (!size) {
        rc__err(view, RC_EINVAL, "memoryview: bad element kind %d", (int)kind);
        return NULL;
    }
    if (nbytes % size) {
        rc__err(view, RC_EINVAL, "memoryview: length %zu is not a multiple of itemsize %zu", nbytes, size);
        return NULL;
    }
    return make_view(v->exporter, v->data, nbytes / size, kind, v->readonly);
}

/* Gives the export back and drops the exporter; idempotent (also tp_clear). */
static void view_clear(void *self)
{
    rc_view_obj *v = self;
    void *exp = v->exporter;
    if (!exp) return;
    v->exporter = NULL;
    v->data = NULL;
    v->len = 0;
    buffer_type(exp)->release_buffer(exp);
    rc_decref(exp);
}

int rc_view_release(void *view)
{
    if (!rc__is(view, &rc__view_type)) return rc__bad_type(view, "view");
    view_clear(view);
    return 0;
}

void *rc_view_data(const void *view)
{
    return check_live(view) < 0 ? NULL : VIEW(view)->data;
}

size_t rc_view_len(const void *view)
{
    return check_live(view) < 0 ? 0 : VIEW(view)->len;
}

size_t rc_view_nbytes(const void *view)
{
    return check_live(view) < 0 ? 0 : VIEW(view)->len * rc_elem_size(VIEW(view)->kind);
}

rc_elem rc_view_kind(const void *view)
{
    return check_live(view) < 0 ? RC_U8 : VIEW(view)->kind;
}

bool rc_view_readonly(const void *view)
{
    return check_live(view) < 0 ? true : VIEW(view)->readonly;
}

void *rc_view_get(const void *view, size_t i)
{
    if (check_live(view) < 0) return NULL;
    const rc_view_obj *v = view;
    if (i >= v->len) {
        rc__err(view, RC_ERANGE, "index %zu out of bounds on dimension 1 (len %zu)", i, v->len);
        return NULL;
    }
    return rc__elem_get(rc__heap(view), v->kind, v->data + i * rc_elem_size(v->kind));
}

void *rc_view_tobytes(const void *view)
{
    if (check_live(view) < 0) return NULL;
    return rc_bytes_new(rc__heap(view), VIEW(view)->data, rc_view_nbytes(view));
}

/* ---- value operations ------------------------------------------------------ */

static int view_repr(const void *self, rc_strbuf *sb, int depth)
{
    (void)depth;
    return rc__repr_address(self, VIEW(self)->exporter ? "memory" : "released memory", sb);
}

static int view_equal(const void *x, const void *y, int depth)
{
    (void)depth;
    const rc_view_obj *a = x, *b = y;
    if (!a->exporter || !b->exporter) return 0;   /* released views equal only themselves */
    if (a->len != b->len) return 0;
    return rc__elems_equal(rc__heap(x), a->len, a->kind, a->data, b->kind, b->data);
}

/* Like memoryview: only read-only byte views hash, equal to bytes' hash. */
static int view_hash(const void *self, int64_t *out)
{
    const rc_view_obj *v = self;
    if (check_live(self) < 0) return RC_ESTATE;
    if (!v->readonly || rc_elem_size(v->kind) != 1)
        return rc__err(self, RC_ETYPE, "cannot hash writable memoryview object");
    *out = rc__hash_bytes(v->data, v->len);
    return 0;
}

static int view_traverse(void *self, rc_visit visit, void *arg)
{
    rc_view_obj *v = self;
    return v->exporter ? visit(v->exporter, arg) : 0;
}

static int view_truth(const void *self)
{
    return VIEW(self)->len != 0;
}

static void *view_iter(void *self)
{
    return check_live(self) < 0 ? NULL : rc__iter_new(self, RC__IT_VIEW);
}

const rc__vtype rc__view_type = {
    .bt.type = {.name = "memoryview", .size = sizeof(rc_view_obj), .traverse = view_traverse,
                .clear = view_clear, .flags = RC__TYPE_VALUE},
    .repr = view_repr,
    .equal = view_equal,
    .hash = view_hash,
    .iter = view_iter,
    .truth = view_truth,
};
