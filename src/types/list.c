/* list: a growable array of references with CPython's over-allocation
 * (about 1/8 extra plus 6, rounded to 4), so appends are amortized O(1). */
#include "types.h"

#define LIST(o) ((rc_list_obj *)(o))

/* A list holds RC_HF_LEAVES while every item is of an untracked type
 * (ints, strings): the collector then skips its items.  Every store of an
 * item goes through here; the first item that could be tracked drops the
 * flag until the list is emptied.  A threaded heap's lists never carry
 * it: other threads read their type word without the heap lock, so it
 * must not change after the list is made.  An item whose header says
 * RC_HF_PLAIN (its type runs nothing at death, so the collector never
 * tracks it) keeps the flag without a read of its type. */
RC_INLINE void note_item(rc_list_obj *l, const void *item)
{
    if ((rc__hflags(rc__head(l)) & RC_HF_LEAVES) && !(rc__hflags(rc__head(item)) & RC_HF_PLAIN)
        && rc__type_tracked(rc__tp(item)))
        rc__hflag_clear(rc__head(l), RC_HF_LEAVES);
}

/* The list holds nothing tracked (it is new or empty). */
RC_INLINE void note_leaves_only(rc_list_obj *l)
{
    if (!rc__is_shared(rc__head(l))) rc__hflag_set(rc__head(l), RC_HF_LEAVES);
}

/* The capacity resize gives a list of newsize items. */
static size_t capacity_for(const rc_list_obj *l, size_t newsize)
{
    size_t cap = (newsize + (newsize >> 3) + 6) & ~(size_t)3;
    if (newsize - l->len > cap - newsize) cap = (newsize + 3) & ~(size_t)3;
    return cap;
}

/* l's items move to the buffer `items` of cap slots; the old buffer goes
 * back last, when the list is whole again.  A threaded heap's list moves
 * this way instead of by rc_realloc, so that its thread keeps the old
 * buffer for the next growth (rc__raw_keep_cached). */
static void move_items(rc_list_obj *l, rc_heap *h, void **items, size_t cap)
{
    void **old = l->items;
    if (l->len) memcpy(items, old, l->len * sizeof(void *));
    l->items = items;
    l->cap = cap;
    if (old) rc_free(h, old);
}

static int resize(rc_list_obj *l, rc_heap *h, size_t newsize)
{
    if (newsize <= l->cap && newsize >= l->cap / 2) return 0;
    size_t cap = capacity_for(l, newsize);
    if (newsize == 0) {
        if (l->items) rc_free(h, l->items);
        l->items = NULL;
        l->cap = 0;
        return 0;
    }
    if (cap > SIZE_MAX / sizeof(void *)) return rc__error(h, RC_ENOMEM, "list too large: %zu items", newsize);
    bool shared = rc__is_shared(rc__head(l));
    void **items = shared ? rc_alloc(h, cap * sizeof(void *)) : rc_realloc(h, l->items, cap * sizeof(void *));
    if (!items) return rc__error(h, RC_ENOMEM, "out of memory growing a list to %zu items", newsize);
    if (shared) move_items(l, h, items, cap);
    l->items = items;
    l->cap = cap;
    return 0;
}

/* A threaded heap's full list grows under its stripe alone when its
 * thread kept a buffer of the new size: taking it never waits.  1: it
 * did not (the caller takes the heap lock and resizes). */
static int grow_from_kept(rc_list_obj *l)
{
    size_t cap = capacity_for(l, l->len + 1);
    rc_heap *h = rc__heap(l);
    void **items = cap <= SIZE_MAX / sizeof(void *) ? rc__raw_take_cached(h, cap * sizeof(void *)) : NULL;
    if (!items) return 1;
    move_items(l, h, items, cap);
    return 0;
}

void *rc_list_new(rc_heap *h, size_t capacity)
{
    rc_list_obj *l = rc_new(h, &rc__list_type.bt.type);
    if (l) note_leaves_only(l);
    if (!l || !capacity) return l;
    if (capacity > SIZE_MAX / sizeof(void *) || !(l->items = rc_alloc(h, capacity * sizeof(void *)))) {
        rc_decref(l);
        rc__error(h, RC_ENOMEM, "out of memory making a list of capacity %zu", capacity);
        return NULL;
    }
    l->cap = capacity;
    return l;
}

#define CHECK_LIST(o, ret) do { if (!rc__is((o), &rc__list_type)) return (rc__bad_type((o), "list"), (ret)); } while (0)
#define CHECK_ITEM(l, item) \
    do {                                                                        \
        if (!(item)) return rc__err((l), RC_EINVAL, "NULL item");               \
        int bad_ = rc__check_same_heap(rc__heap(l), (item));                    \
        if (bad_) return bad_;                                                  \
    } while (0)

/* A threaded heap's rc_list_len reads len without the list's stripe (one
 * word, as CPython's does), so every store to it is atomic: relaxed, a
 * plain move. */
RC_INLINE void set_len(rc_list_obj *l, size_t n) { __atomic_store_n(&l->len, n, __ATOMIC_RELAXED); }

static int append_checked(void *list, void *item)
{
    CHECK_ITEM(list, item);
    rc_list_obj *l = list;
    if (l->len == l->cap && resize(l, rc__heap(l), l->len + 1) < 0) return RC_ENOMEM;
    rc__incref(item);
    note_item(l, item);
    l->items[l->len] = item;
    set_len(l, l->len + 1);
    return 0;
}

/* A threaded heap's list with room, or with a kept buffer to grow into,
 * takes the item under its stripe alone; any other growth allocates on
 * the list's length, so it holds the heap lock from before it reads it
 * (src/core/internal.h, "Container locks"). */
static int append_if_room(void *list, void *item)
{
    rc_list_obj *l = list;
    /* The old buffer's free may wait, and others fill the list meanwhile. */
    if (l->len == l->cap && (grow_from_kept(l) || l->len == l->cap)) return 1;
    return append_checked(list, item);
}

RC_SECTION_CALL(int, append_room_locked, (void *list, void *item), false, list, NULL, append_if_room(list, item))
RC_SECTION_CALL(int, append_locked, (void *list, void *item), true, list, NULL, append_checked(list, item))

static int append_shared(void *list, void *item)
{
    int rc = append_room_locked(list, item);
    return rc > 0 ? append_locked(list, item) : rc;
}

/* Everything but the common append: a wrong argument's message, growth,
 * a threaded heap's list. */
static RC_NOINLINE int append_slow(void *list, void *item)
{
    CHECK_LIST(list, RC_ETYPE);
    if (RC_UNLIKELY(rc__is_shared(rc__head(list)))) return append_shared(list, item);
    return append_checked(list, item);
}

/* The common append -- a list of a plain heap with room and an item of its
 * heap -- tested at once and without calls, so it saves no registers
 * (about 40 instructions with the call).  A threaded heap's list fails
 * rc__is_plain and takes the lock in append_slow.  An item of a plain
 * list's heap is then never shared, so its count needs no atomic add
 * (rc__incref_plain). */
RC_INLINE bool append_fits(const void *list, const void *item)
{
    const rc_list_obj *l = list;
    return rc__is_plain(list, &rc__list_type) && item && l->len != l->cap && rc__same_heap_pooled(list, item);
}

int rc_list_append(void *list, void *item)
{
    if (RC_UNLIKELY(!append_fits(list, item))) return append_slow(list, item);
    rc_list_obj *l = list;
    rc__incref_plain(item);
    note_item(l, item);
    l->items[l->len] = item;
    set_len(l, l->len + 1);
    return 0;
}

/* Python's index rule for insert: negative counts from the end, then clamp. */
static size_t clamp_index(ptrdiff_t i, size_t len)
{
    if (i < 0) i += (ptrdiff_t)len;
    if (i < 0) return 0;
    return (size_t)i > len ? len : (size_t)i;
}

RC_LOCKED_VARIANT(int, rc_list_insert, (void *list, ptrdiff_t i, void *item), list, (list, i, item))
int rc_list_insert(void *list, ptrdiff_t i, void *item)
{
    CHECK_LIST(list, RC_ETYPE);
    RC_SHARED_CALL(list, rc_list_insert_locked(list, i, item));
    CHECK_ITEM(list, item);
    rc_list_obj *l = list;
    size_t at = clamp_index(i, l->len);
    if (l->len == l->cap && resize(l, rc__heap(list), l->len + 1) < 0) return RC_ENOMEM;
    memmove(&l->items[at + 1], &l->items[at], (l->len - at) * sizeof(void *));
    rc__incref(item);
    note_item(l, item);
    l->items[at] = item;
    set_len(l, l->len + 1);
    return 0;
}

RC_SECTION_VARIANT(int, rc_list_set, (void *list, size_t i, void *item), list, (list, i, item))
int rc_list_set(void *list, size_t i, void *item)
{
    CHECK_LIST(list, RC_ETYPE);
    RC_SHARED_CALL(list, rc_list_set_locked(list, i, item));
    CHECK_ITEM(list, item);
    rc_list_obj *l = list;
    if (i >= l->len) return rc__err(list, RC_ERANGE, "list assignment index %zu out of range (len %zu)", i, l->len);
    void *old = l->items[i];
    rc__incref(item);
    note_item(l, item);
    l->items[i] = item;
    rc_decref(old);
    return 0;
}

size_t rc_list_len(const void *list)
{
    CHECK_LIST(list, 0);
    return __atomic_load_n(&LIST(list)->len, __ATOMIC_RELAXED);
}

RC_SECTION_VARIANT(void *, rc_list_get, (const void *list, size_t i), list, (list, i))
void *rc_list_get(const void *list, size_t i)
{
    CHECK_LIST(list, NULL);
    RC_SHARED_CALL(list, rc_list_get_locked(list, i));
    const rc_list_obj *l = list;
    if (i >= l->len) {
        rc__err(list, RC_ERANGE, "list index %zu out of range (len %zu)", i, l->len);
        return NULL;
    }
    return l->items[i];
}

RC_SECTION_VARIANT(int, rc_list_get_ref, (const void *list, size_t i, void **out), list, (list, i, out))
int rc_list_get_ref(const void *list, size_t i, void **out)
{
    *out = NULL;
    CHECK_LIST(list, RC_ETYPE);
    RC_SHARED_CALL(list, rc_list_get_ref_locked(list, i, out));
    void *item = rc_list_get(list, i);
    if (!item) return RC_ERANGE;
    *out = rc_newref(item);
    return 1;
}

RC_LOCKED_VARIANT(void *, rc_list_pop, (void *list, ptrdiff_t i), list, (list, i))
void *rc_list_pop(void *list, ptrdiff_t i)
{
    CHECK_LIST(list, NULL);
    RC_SHARED_CALL(list, rc_list_pop_locked(list, i));
    rc_list_obj *l = list;
    ptrdiff_t at = i < 0 ? i + (ptrdiff_t)l->len : i;
    if (at < 0 || (size_t)at >= l->len) {
        if (l->len) rc__err(list, RC_ERANGE, "pop index %td out of range (len %zu)", i, l->len);
        else rc__err(list, RC_ERANGE, "pop from empty list");
        return NULL;
    }
    void *item = l->items[at];
    memmove(&l->items[at], &l->items[at + 1], (l->len - (size_t)at - 1) * sizeof(void *));
    set_len(l, l->len - 1);
    resize(l, rc__heap(list), l->len);   /* shrinking never fails the pop */
    return item;
}

/* Detaches the items before dropping them: a finalizer run by a decref may
 * look at the list again. */
static void list_clear(void *self)
{
    rc_list_obj *l = self;
    void **items = l->items;
    size_t n = l->len;
    l->items = NULL;
    set_len(l, 0);
    l->cap = 0;
    note_leaves_only(self);
    rc__decref_many(rc__heap(self), items, n);
    if (items) rc_free(rc__heap(self), items);
}

/* A threaded heap's clear holds the list's stripe alone: the list is
 * empty, whole, before anything it runs may wait (a death, the free). */
RC_SECTION_VARIANT(int, rc_list_clear, (void *list), list, (list))
int rc_list_clear(void *list)
{
    CHECK_LIST(list, RC_ETYPE);
    RC_SHARED_CALL(list, rc_list_clear_locked(list));
    list_clear(list);
    return 0;
}

RC_LOCKED_VARIANT2(int, rc_list_extend, (void *list, void *iterable), list, iterable, (list, iterable))
int rc_list_extend(void *list, void *iterable)
{
    CHECK_LIST(list, RC_ETYPE);
    RC_SHARED_CALL(list, rc_list_extend_locked(list, iterable));
    if (!iterable) return rc__err(list, RC_EINVAL, "NULL iterable");
    rc_list_obj *l = list;
    if (iterable == list) {   /* a.extend(a): the items as they were */
        size_t n = l->len;
        if (resize(l, rc__heap(list), 2 * n) < 0) return RC_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            rc__incref(l->items[i]);
            l->items[n + i] = l->items[i];
        }
        set_len(l, 2 * n);
        return 0;
    }
    void *it = rc_iter(iterable), *item;
    if (!it) return rc_last_error_code(rc__heap(list));
    int rc;
    while ((rc = rc_iter_next(it, &item)) == 1) {
        rc = rc_list_append(list, item);
        rc_decref(item);
        if (rc < 0) break;
    }
    rc_decref(it);
    return rc < 0 ? rc : 0;
}

/* Top-down merge sort of a[0..n) using tmp; stable: the left run wins ties. */
static int merge_sort(void **a, void **tmp, size_t n)
{
    if (n < 2) return 0;
    size_t m = n / 2, i = 0, j = m, k = 0;
    int rc = merge_sort(a, tmp, m);
    if (rc == 0) rc = merge_sort(a + m, tmp, n - m);
    if (rc < 0) return rc;
    while (i < m && j < n) {
        int lt = rc__less(a[j], a[i], 0);
        if (lt < 0) return lt;
        tmp[k++] = lt ? a[j++] : a[i++];
    }
    while (i < m) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof(void *));
    return 0;
}

/* A threaded heap's list: comparing two items that are lists may wait
 * for their stripes, and so suspend the sorted list's section, while
 * other threads append and set (not grow: the sort holds the heap lock).
 * So the sort holds references to the items it moves, and installs its
 * order only if the list kept its length meanwhile, as CPython's "list
 * modified during sort". */
static int sort_shared(rc_list_obj *l, void **work)
{
    rc_heap *h = rc__heap(l);
    size_t n = l->len;
    for (size_t i = 0; i < n; i++) rc__incref(work[i]);
    int rc = merge_sort(work, work + n, n);
    if (rc == 0 && l->len != n) rc = rc__error(h, RC_ESTATE, "list modified during sort");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        void *old = l->items[i];
        l->items[i] = work[i];
        work[i] = old;
    }
    for (size_t i = 0; i < n; i++) rc_decref(work[i]);
    rc_free(h, work);
    return rc;
}

RC_LOCKED_VARIANT(int, rc_list_sort, (void *list), list, (list))
int rc_list_sort(void *list)
{
    CHECK_LIST(list, RC_ETYPE);
    RC_SHARED_CALL(list, rc_list_sort_locked(list));
    rc_list_obj *l = list;
    if (l->len < 2) return 0;
    rc_heap *h = rc__heap(list);
    size_t bytes = l->len * sizeof(void *);
    void **work = rc_alloc(h, 2 * bytes);
    if (!work) return rc__error(h, RC_ENOMEM, "out of memory sorting a list of %zu items", l->len);
    memcpy(work, l->items, bytes);   /* sorted aside: an error leaves the list as it was */
    if (rc__is_shared(rc__head(list))) return sort_shared(l, work);
    int rc = merge_sort(work, work + l->len, l->len);
    if (rc == 0) memcpy(l->items, work, bytes);
    rc_free(h, work);
    return rc;
}

RC_LOCKED_VARIANT(int, rc_list_reverse, (void *list), list, (list))
int rc_list_reverse(void *list)
{
    CHECK_LIST(list, RC_ETYPE);
    RC_SHARED_CALL(list, rc_list_reverse_locked(list));
    rc_list_obj *l = list;
    for (size_t i = 0, j = l->len; i + 1 < j; i++, j--) {
        void *t = l->items[i];
        l->items[i] = l->items[j - 1];
        l->items[j - 1] = t;
    }
    return 0;
}

void *rc_list_from_iter(rc_heap *h, void *iterable)
{
    void *l = rc_list_new(h, 0);
    if (l && rc_list_extend(l, iterable) < 0) RC_CLEAR(l);
    return l;
}

/* ---- value operations ------------------------------------------------------ */

/* Shared by list and tuple: "[a, b]" / "(a, b)"; a container met again inside its own repr prints as "[...]". */
int rc__seq_repr(const void *self, void *const *items, size_t n, const char *open, const char *close,
                 rc_strbuf *sb, int depth)
{
    rc_heap *h = rc__heap(self);
    int inside = rc__repr_enter(h, self);
    if (inside < 0) return sb->err = inside;
    rc__sb_puts(sb, open);
    if (inside) rc__sb_puts(sb, "...");
    for (size_t i = 0; !inside && i < n && !sb->err; i++) {
        if (i) rc__sb_puts(sb, ", ");
        if (rc__repr(items[i], sb, depth) < 0) break;
    }
    if (!inside) rc__repr_leave(h, self);
    rc__sb_puts(sb, close);
    return sb->err;
}

static int list_repr(const void *self, rc_strbuf *sb, int depth)
{
    const rc_list_obj *l = self;
    return rc__seq_repr(self, l->items, l->len, "[", "]", sb, depth);
}

int rc__seq_equal(void *const *a, size_t na, void *const *b, size_t nb, int depth)
{
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++) {
        int eq = rc__equal(a[i], b[i], depth);
        if (eq != 1) return eq;
    }
    return 1;
}

void *rc__list_item_ref(const void *list, size_t i)
{
    const rc_list_obj *l = list;
    return i < l->len ? rc_newref(l->items[i]) : NULL;
}

/* A threaded heap's lists are compared holding both lists' stripes. */
static int shared_equal(const void *a, const void *b, int depth)
{
    for (size_t i = 0;; i++) {
        void *p = rc__list_item_ref(a, i), *q = rc__list_item_ref(b, i);
        int eq = p && q ? rc__equal(p, q, depth) : !p && !q;
        rc_xdecref(p);
        rc_xdecref(q);
        if (eq != 1 || !p) return eq;
    }
}

RC_SECTION_CALL(int, equal_locked, (const void *a, const void *b, int depth), false, a, b, shared_equal(a, b, depth))

static int list_equal(const void *a, const void *b, int depth)
{
    const rc_list_obj *x = a, *y = b;
    if (RC_UNLIKELY(rc__is_shared(rc__head(a)))) return equal_locked(a, b, depth);
    return rc__seq_equal(x->items, x->len, y->items, y->len, depth);
}

static void *list_copy(void *self)
{
    rc_list_obj *l = self;
    rc_list_obj *c = rc_list_new(rc__heap(self), l->len);
    if (!c) return NULL;
    for (size_t i = 0; i < l->len; i++) {
        rc__incref(l->items[i]);
        note_item(c, l->items[i]);
        c->items[i] = l->items[i];
    }
    c->len = l->len;
    return c;
}

static void *list_deepcopy(void *self, rc__memo *memo)
{
    rc_list_obj *l = self;
    void *c = rc_list_new(memo->h, l->len);
    if (!c || rc__memo_put(memo, self, c) < 0) goto fail;
    for (size_t i = 0; i < l->len; i++) {
        void *item = rc__deepcopy(l->items[i], memo);
        int rc = item ? rc_list_append(c, item) : RC_ENOMEM;
        if (item) rc_decref(item);
        if (rc < 0) goto fail;
    }
    return c;
fail:
    if (c) rc_decref(c);
    return NULL;
}

static int list_traverse(void *self, rc_visit visit, void *arg)
{
    rc_list_obj *l = self;
    for (size_t i = 0; i < l->len; i++) {
        int rc = visit(l->items[i], arg);
        if (rc) return rc;
    }
    return 0;
}

static void list_release(void *self)
{
    rc_list_obj *l = self;
    if (l->items) rc_free(rc__heap(self), l->items);
    l->items = NULL;
}

static size_t list_owned(const void *self)
{
    return LIST(self)->cap * sizeof(void *);
}

static int list_truth(const void *self)
{
    return LIST(self)->len != 0;
}

static void *list_iter(void *self)
{
    return rc__iter_new(self, RC__IT_SEQ);
}

const rc__vtype rc__list_type = {
    .bt.type = {.name = "list", .size = sizeof(rc_list_obj), .traverse = list_traverse,
                .clear = list_clear, .release = list_release, .owned = list_owned,
                .flags = RC__TYPE_VALUE | RC_TYPE_NO_WEAKREF | RC__TYPE_LEAVES},
    .repr = list_repr,
    .equal = list_equal,
    .copy = list_copy,
    .deepcopy = list_deepcopy,
    .iter = list_iter,
    .truth = list_truth,
};
