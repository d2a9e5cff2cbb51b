/* The allocator's accounting: rc_heap_memory (counters kept on the fly),
 * rc_heap_alloc_stats / rc_heap_print_stats (a walk over every pool, in
 * the spirit of CPython's sys._debugmallocstats), fault-injection knobs. */
#include "alloc_impl.h"

_Static_assert(RC_ALLOC_NCLASSES == RC_NCLASSES, "public class count");
_Static_assert(RC_ALLOC_SMALL_MAX == RC_SMALL_MAX, "public small-block limit");

/* Blocks in use per kind, from the pools (the fast path keeps no count). */
static void count_used(const struct rc_alloc_state *st, size_t used[2])
{
    used[0] = used[1] = 0;
    for (size_t i = 0; i < st->narenas; i++) {
        const rc_arena *a = st->arenas[i];
        for (size_t k = 0; k < a->nextpool; k++) {
            const rc_pool *p = rc__pool_at(a->base, k);
            if (p->kind != RC_KIND_FREE)
                used[RC_KIND_INDEX(p->kind)] += p->used;
        }
    }
}

/* Threaded heaps: each reader below stops the world (rc__alloc_quiesce),
 * so that every thread's pools are drained and counted; the heap is not
 * changed otherwise, whence the casts. */
void rc_heap_memory(const rc_heap *h, rc_memory_info *info)
{
    const struct rc_alloc_state *st = rc__alloc_state(h);
    size_t used[2];
    rc__alloc_quiesce((rc_heap *)(uintptr_t)h);
    count_used(st, used);
    info->requested = rc__requested(st);
    info->peak = st->cap - st->room_low;
    info->os_bytes = st->narenas * RC_ARENA_SIZE + st->large_bytes + rc__os_kept_blocks(st->unmapper) + rc__arenas_decaying(st);
    info->arenas = st->narenas;
    info->live_objects = used[0] + st->live_large[0];
    info->live_blocks = used[0] + used[1];
    rc__alloc_resume((rc_heap *)(uintptr_t)h);
}

size_t rc_heap_trim(rc_heap *h)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    size_t before = st->narenas, kept = rc__os_kept_blocks(st->unmapper) + rc__arenas_decaying(st);
    rc__arenas_trim(st, true);
    rc__os_drop_blocks(st->unmapper);
    rc__os_unmapper_wait(st->unmapper);   /* the memory is back when this returns */
    return (before - st->narenas) * RC_ARENA_SIZE + kept;
}

/* Inside a collection: the world is stopped already. */
size_t rc__heap_bytes(const rc_heap *h)
{
    return rc__requested(rc__alloc_state(h));
}

void rc_heap_reset_peak(rc_heap *h)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    rc__alloc_quiesce(h);
    st->room_low = st->room;
    rc__alloc_resume(h);
}

uint64_t rc_heap_alloc_count(const rc_heap *h)
{
    rc__alloc_quiesce((rc_heap *)(uintptr_t)h);
    uint64_t n = rc__attempts(rc__alloc_state(h));
    rc__alloc_resume((rc_heap *)(uintptr_t)h);
    return n;
}

void rc__alloc_set_fault(rc_heap *h, uint64_t nth, bool after)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    rc__alloc_quiesce(h);
    st->fail_at = nth;
    st->fail_after = nth && after;
    rc__arm_fault(st);
    rc__alloc_resume(h);
}

static void count_pool(rc_alloc_stats *out, const rc_pool *p)
{
    rc_alloc_class *c = p->kind == RC_KIND_OBJ ? &out->objects[p->cls] : &out->buffers[p->cls];
    size_t area = (size_t)(rc__pool_end(p) - rc__pool_first(p));
    size_t capacity = area / p->size;
    c->pools++;
    c->blocks_used += p->used;
    c->blocks_free += capacity - p->used;
    out->pools_used++;
    out->bytes_used += (size_t)p->used * p->size;
    out->bytes_free += (capacity - p->used) * p->size;
    out->bytes_quantization += area - capacity * p->size;
}

void rc_heap_alloc_stats(const rc_heap *h, rc_alloc_stats *out)
{
    const struct rc_alloc_state *st = rc__alloc_state(h);
    rc__alloc_quiesce((rc_heap *)(uintptr_t)h);
    memset(out, 0, sizeof *out);
    for (unsigned c = 0; c < RC_NCLASSES; c++)
        out->objects[c].block_size = out->buffers[c].block_size = rc__class_size(c);
    for (size_t i = 0; i < st->narenas; i++) {
        const rc_arena *a = st->arenas[i];
        for (size_t k = 0; k < a->nextpool; k++) {
            const rc_pool *p = rc__pool_at(a->base, k);
            if (p->kind != RC_KIND_FREE)
                count_pool(out, p);
        }
    }
    out->arenas = st->narenas;
    out->arenas_allocated = st->arenas_total;
    out->arenas_freed = st->arenas_freed;
    out->arenas_highwater = st->arenas_highwater;
    out->pools_free = st->narenas * RC_POOLS_PER_ARENA - out->pools_used;
    out->bytes_pool_headers = st->narenas * RC_ARENA_HEADER;
    out->bytes_free_pools = st->narenas * RC_ARENA_SIZE - out->bytes_pool_headers - out->bytes_used -
                            out->bytes_free - out->bytes_quantization;
    out->large_objects = st->live_large[0];
    out->large_buffers = st->live_large[1];
    out->large_bytes = st->large_bytes;
    size_t in_pools = out->bytes_used + out->bytes_free;
    out->fragmentation = in_pools ? (double)out->bytes_free / (double)in_pools : 0.0;
    rc__alloc_resume((rc_heap *)(uintptr_t)h);
}

static void print_classes(FILE *f, const char *kind, const rc_alloc_class *cls)
{
    fprintf(f, "\n%s:\nclass   size   num pools   blocks in use  avail blocks   bytes in use\n"
               "-----   ----   ---------   -------------  ------------   ------------\n", kind);
    for (unsigned c = 0; c < RC_NCLASSES; c++)
        if (cls[c].pools)
            fprintf(f, "%5u %6zu %11zu %15zu %13zu %14zu\n", c, cls[c].block_size, cls[c].pools,
                    cls[c].blocks_used, cls[c].blocks_free, cls[c].blocks_used * cls[c].block_size);
}

static void print_row(FILE *f, const char *label, size_t v)
{
    fprintf(f, "%-40s= %21zu\n", label, v);
}

void rc_heap_print_stats(const rc_heap *h, FILE *out)
{
    rc_alloc_stats s;
    rc__alloc_quiesce((rc_heap *)(uintptr_t)h);
    rc_heap_alloc_stats(h, &s);
    const struct rc_alloc_state *st = rc__alloc_state(h);
    fprintf(out, "Small block threshold = %d, in %d size classes.\n", RC_SMALL_MAX, RC_NCLASSES);
    print_classes(out, "objects", s.objects);
    print_classes(out, "raw buffers", s.buffers);
    fputc('\n', out);
    print_row(out, "# arenas allocated total", s.arenas_allocated);
    print_row(out, "# arenas reclaimed", s.arenas_freed);
    print_row(out, "# arenas highwater mark", s.arenas_highwater);
    print_row(out, "# arenas allocated current", s.arenas);
    char label[64];
    snprintf(label, sizeof label, "%zu arenas * %zu bytes/arena", s.arenas, RC_ARENA_SIZE);
    print_row(out, label, s.arenas * RC_ARENA_SIZE);
    fputc('\n', out);
    print_row(out, "# bytes in allocated blocks", s.bytes_used);
    print_row(out, "# bytes in available blocks", s.bytes_free);
    snprintf(label, sizeof label, "# bytes in %zu unused pools", s.pools_free);
    print_row(out, label, s.bytes_free_pools);
    print_row(out, "# bytes in pool descriptors", s.bytes_pool_headers);
    print_row(out, "# bytes lost to quantization", s.bytes_quantization);
    print_row(out, "Total", s.bytes_used + s.bytes_free + s.bytes_free_pools + s.bytes_pool_headers +
                                 s.bytes_quantization);
    fputc('\n', out);
    print_row(out, "# large objects (malloc)", s.large_objects);
    print_row(out, "# large raw buffers (malloc)", s.large_buffers);
    print_row(out, "# bytes in large blocks", s.large_bytes);
    print_row(out, "# bytes kept of freed huge blocks", rc__os_kept_blocks(st->unmapper));
    print_row(out, "# bytes requested now", rc__requested(st));
    print_row(out, "# bytes requested at peak", st->cap - st->room_low);
    fprintf(out, "%-40s= %20.1f%%\n", "fragmentation (free in used pools)", 100.0 * s.fragmentation);
    rc__alloc_resume((rc_heap *)(uintptr_t)h);
}
