/* Unmapping on a thread of one's own.  munmap frees the pages there and
 * then, about 0.35 µs per 4 KiB page here: giving back the 320 MB of a
 * dead list of ten million ints costs 25-35 ms of CPU.  A heap that
 * gives back that much at once hands the ranges to its unmapper instead;
 * its thread unmaps them while the program goes on, and the resident
 * memory falls as soon as it has (a few tens of milliseconds on a spare
 * core).  The ranges are out of every table by then: nothing reads them.
 * A heap that has fallen from a peak also asks the thread to trim malloc
 * after the batch: the queue, which grew with the batch, is freed only
 * then, and a trim before it would leave its pages resident.
 *
 * The unmapper also keeps ranges for a while (rc__os_unmap_delay): they
 * stay mapped and resident until due, and their owner may take them back
 * before then (rc__os_unmap_reclaim) instead of mapping and faulting in
 * fresh memory; the thread unmaps them when due, whether or not the owner
 * ever calls again.  They are due together, a delay after the owner last
 * kept one or took one back to use (mimalloc extends its purge delays the
 * same way): a program that keeps turning arenas over keeps them, however
 * long a busy machine makes the gaps between its turns, and one that
 * stops gives them back one delay later, in one batch.  The oldest is
 * taken back first.
 *
 * Kept blocks are such ranges too, due with the others: the whole huge
 * pages of freed huge blocks (alloc_large.c), taken back by length or by
 * address rather than oldest first, so a table built again and again
 * reuses its pages, and one built once gives them back a delay after. */
#include "prim.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef struct range {
    void  *p;
    size_t size;
} range;

typedef struct block {
    char    *p;
    size_t   size;
    uint64_t at;                  /* when it was kept: the oldest goes first for room */
} block;

struct rc__os_unmapper {
    pthread_t       thread;
    pid_t           pid;          /* a forked child has no thread: it unmaps itself */
    pthread_mutex_t lock;
    pthread_cond_t  wake, idle;
    range          *q;            /* ranges waiting, under lock */
    size_t          len, cap;
    bool            busy, stop;
    bool            trim;         /* rc__os_malloc_trim after the batch */
    range          *kept;         /* kept ranges [khead, klen), oldest first, under lock */
    size_t          khead, klen, kcap;
    size_t          kept_bytes;
    block           blocks[RC_OS_KEPT_BLOCKS];   /* kept blocks, under lock */
    size_t          nblocks, block_bytes;
    uint64_t        due;          /* when they all go: rc__os_now_ns() + delay at the last use */
    uint64_t        delay;
};

static int range_order(const void *a, const void *b)
{
    const char *x = ((const range *)a)->p, *y = ((const range *)b)->p;
    return (x > y) - (x < y);
}

/* Adjacent ranges (arenas mapped one after the other) go in one call: each
 * munmap interrupts the program's threads on the other cores to flush
 * their TLBs, once per call however long the range, and two arenas
 * sharing a huge page (alloc's arena_huge) free it whole, unsplit. */
static void unmap_all(range *q, size_t n)
{
    if (n)
        qsort(q, n, sizeof *q, range_order);
    for (size_t i = 0; i < n;) {
        range run = q[i++];
        while (i < n && q[i].p == (char *)run.p + run.size)
            run.size += q[i++].size;
        munmap(run.p, run.size);
    }
}

static bool queue_push(rc__os_unmapper *u, void *p, size_t size)
{
    if (!rc__vec_reserve(&u->q, &u->cap, u->len + 1, sizeof *u->q, 64, SIZE_MAX))
        return false;
    u->q[u->len++] = (range){p, size};
    return true;
}

/* [p, p+size) goes to the queue, or, should the queue not grow, is
 * unmapped here; a kept block's poison goes first, so the next mapping
 * at its address does not inherit it. */
static void unmap_soon(rc__os_unmapper *u, void *p, size_t size)
{
    RC_ASAN_UNPOISON(p, size);
    if (!queue_push(u, p, size))
        munmap(p, size);
}

static bool nothing_kept(const rc__os_unmapper *u)
{
    return u->khead == u->klen && !u->nblocks;
}

static void block_remove(rc__os_unmapper *u, size_t i)
{
    u->block_bytes -= u->blocks[i].size;
    u->blocks[i] = u->blocks[--u->nblocks];
}

static void block_drop(rc__os_unmapper *u, size_t i)
{
    block b = u->blocks[i];
    block_remove(u, i);
    unmap_soon(u, b.p, b.size);
}

/* Once they are due (or with force), the kept ranges and blocks move to
 * the queue. */
static void expire(rc__os_unmapper *u, bool force)
{
    if (nothing_kept(u) || (!force && rc__os_now_ns() < u->due))
        return;
    for (; u->khead < u->klen; u->khead++)
        unmap_soon(u, u->kept[u->khead].p, u->kept[u->khead].size);
    u->khead = u->klen = u->kept_bytes = 0;
    while (u->nblocks)
        block_drop(u, u->nblocks - 1);
}

/* Nothing to unmap now: sleeps until woken, or until the kept ranges are
 * due. */
static void idle_wait(rc__os_unmapper *u)
{
    u->busy = false;
    pthread_cond_broadcast(&u->idle);
    if (nothing_kept(u)) {
        pthread_cond_wait(&u->wake, &u->lock);
        return;
    }
    struct timespec ts = {(time_t)(u->due / 1000000000u), (long)(u->due % 1000000000u)};
    pthread_cond_timedwait(&u->wake, &u->lock, &ts);
}

/* Takes everything waiting or due, unmaps it outside the lock, until
 * stopped; what is kept goes too when it stops. */
static void *unmapper_main(void *arg)
{
    rc__os_unmapper *u = arg;
    pthread_mutex_lock(&u->lock);
    for (;;) {
        expire(u, u->stop);
        if (!u->len && !u->trim) {
            if (u->stop)
                break;
            idle_wait(u);
            continue;
        }
        range *q = u->q;
        size_t n = u->len;
        bool trim = u->trim;
        u->q = NULL;
        u->len = u->cap = 0;
        u->trim = false;
        u->busy = true;
        pthread_mutex_unlock(&u->lock);
        unmap_all(q, n);
        free(q);
        if (trim)
            rc__os_malloc_trim();
        pthread_mutex_lock(&u->lock);
    }
    u->busy = false;
    pthread_cond_broadcast(&u->idle);
    pthread_mutex_unlock(&u->lock);
    return NULL;
}

/* The thread blocks every signal: the program's handlers (a sampler's
 * timer, the tracer's) must run on the program's own threads. */
static bool start_thread(rc__os_unmapper *u)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    bool ok = pthread_create(&u->thread, NULL, unmapper_main, u) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

rc__os_unmapper *rc__os_unmapper_new(void)
{
    rc__os_unmapper *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->pid = getpid();
    pthread_mutex_init(&u->lock, NULL);
    pthread_condattr_t monotonic;   /* the clock of kept ranges' due times */
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&u->wake, &monotonic);
    pthread_condattr_destroy(&monotonic);
    pthread_cond_init(&u->idle, NULL);
    if (!start_thread(u)) {
        pthread_cond_destroy(&u->idle);
        pthread_cond_destroy(&u->wake);
        pthread_mutex_destroy(&u->lock);
        free(u);
        return NULL;
    }
    return u;
}

static void unmap_kept(rc__os_unmapper *u)
{
    for (size_t i = u->khead; i < u->klen; i++)
        munmap(u->kept[i].p, u->kept[i].size);
    u->khead = u->klen = u->kept_bytes = 0;
    for (size_t i = 0; i < u->nblocks; i++) {
        RC_ASAN_UNPOISON(u->blocks[i].p, u->blocks[i].size);
        munmap(u->blocks[i].p, u->blocks[i].size);
    }
    u->nblocks = u->block_bytes = 0;
}

/* True when u may be used: it exists and this is its process.  A forked
 * child has no thread: its owner unmaps for itself, and the ranges the
 * parent kept go at once (they would hold their pages, the parent's own
 * once it has unmapped its copies, until the heap is freed), read without
 * the lock, which the parent's thread may have held when it forked. */
static bool ours(rc__os_unmapper *u)
{
    if (!u)
        return false;
    if (u->pid == getpid())
        return true;
    unmap_kept(u);
    return false;
}

bool rc__os_unmap_later(rc__os_unmapper *u, void *p, size_t size)
{
    if (!ours(u))
        return false;
    RC_ASAN_UNPOISON(p, size);   /* the next mapping here must not inherit poison */
    pthread_mutex_lock(&u->lock);
    bool ok = queue_push(u, p, size);
    if (ok)
        pthread_cond_signal(&u->wake);
    pthread_mutex_unlock(&u->lock);
    return ok;
}

bool rc__os_unmap_later_trim(rc__os_unmapper *u)
{
    if (!ours(u))
        return false;
    pthread_mutex_lock(&u->lock);
    u->trim = true;
    pthread_cond_signal(&u->wake);
    pthread_mutex_unlock(&u->lock);
    return true;
}

/* Everything kept is due delay_ns from now; the thread, asleep for good
 * when nothing was, starts waiting for that time. */
static void keep_until(rc__os_unmapper *u, uint64_t delay_ns)
{
    if (nothing_kept(u))
        pthread_cond_signal(&u->wake);   /* else it already waits, for an earlier due time */
    u->delay = delay_ns;
    u->due = rc__os_now_ns() + delay_ns;
}

bool rc__os_unmap_delay(rc__os_unmapper *u, void *p, size_t size, uint64_t delay_ns)
{
    if (!ours(u))
        return false;
    RC_ASAN_UNPOISON(p, size);   /* taken back, it is laid out afresh */
    pthread_mutex_lock(&u->lock);
    if (u->klen == u->kcap && u->khead) {
        memmove(u->kept, u->kept + u->khead, (u->klen - u->khead) * sizeof *u->kept);
        u->klen -= u->khead;
        u->khead = 0;
    }
    bool ok = rc__vec_reserve(&u->kept, &u->kcap, u->klen + 1, sizeof *u->kept, 64, SIZE_MAX);
    if (ok) {
        keep_until(u, delay_ns);
        u->kept[u->klen++] = (range){p, size};
        u->kept_bytes += size;
    }
    pthread_mutex_unlock(&u->lock);
    return ok;
}

void *rc__os_unmap_reclaim(rc__os_unmapper *u, size_t size, size_t keep)
{
    if (!ours(u))
        return NULL;
    void *p = NULL;
    pthread_mutex_lock(&u->lock);
    if (u->kept_bytes > keep && u->kept[u->khead].size == size) {
        p = u->kept[u->khead++].p;
        u->kept_bytes -= size;
        if (u->khead == u->klen)
            u->khead = u->klen = 0;
        else if (!keep)
            u->due = rc__os_now_ns() + u->delay;   /* reused: the rest may be next */
    }
    pthread_mutex_unlock(&u->lock);
    return p;
}

/* Joins [*p, *p + *size) with the kept blocks that touch it, so a block
 * freed beside the rest of its range leaves one range to grow into. */
static void block_join(rc__os_unmapper *u, char **p, size_t *size)
{
    for (size_t i = u->nblocks; i-- > 0;) {   /* block_remove moves the last into i */
        block b = u->blocks[i];
        if (b.p + b.size != *p && *p + *size != b.p)
            continue;
        block_remove(u, i);
        if (b.p < *p)
            *p = b.p;
        *size += b.size;
    }
}

static size_t block_oldest(const rc__os_unmapper *u)
{
    size_t old = 0;
    for (size_t i = 1; i < u->nblocks; i++)
        if (u->blocks[i].at < u->blocks[old].at)
            old = i;
    return old;
}

bool rc__os_keep_block(rc__os_unmapper *u, void *p, size_t size, size_t max, uint64_t delay_ns)
{
    if (!ours(u) || !max)
        return false;
    char *b = p;
    pthread_mutex_lock(&u->lock);
    block_join(u, &b, &size);
    size_t keep = size < max ? size : max;
    if (size > keep)
        unmap_soon(u, b + keep, size - keep);
    while (u->nblocks && (u->nblocks == RC_OS_KEPT_BLOCKS || u->block_bytes + keep > max))
        block_drop(u, block_oldest(u));
    keep_until(u, delay_ns);
    RC_ASAN_POISON(b, keep);   /* a freed block's pages: no one may touch them */
    u->blocks[u->nblocks++] = (block){b, keep, rc__os_now_ns()};
    u->block_bytes += keep;
    if (u->len)
        pthread_cond_signal(&u->wake);
    pthread_mutex_unlock(&u->lock);
    return true;
}

/* The kept block that `at` starts, or else the longest, if it holds size
 * bytes; nblocks when none does. */
static size_t block_find(const rc__os_unmapper *u, size_t size, const void *at)
{
    size_t best = u->nblocks;
    for (size_t i = 0; i < u->nblocks; i++) {
        const block *b = &u->blocks[i];
        if (at && b->p == at)
            return b->size >= size ? i : u->nblocks;
        if (!at && b->size >= size && (best == u->nblocks || b->size > u->blocks[best].size))
            best = i;
    }
    return best;
}

void *rc__os_take_block(rc__os_unmapper *u, size_t size, const void *at)
{
    if (!ours(u))
        return NULL;
    char *p = NULL;
    pthread_mutex_lock(&u->lock);
    size_t i = block_find(u, size, at);
    if (i < u->nblocks) {
        block *b = &u->blocks[i];
        p = b->p;
        b->p += size;
        b->size -= size;
        u->block_bytes -= size;
        if (!b->size)
            block_remove(u, i);
        u->due = rc__os_now_ns() + u->delay;   /* reused: the rest may be next */
        RC_ASAN_UNPOISON(p, size);
    }
    pthread_mutex_unlock(&u->lock);
    return p;
}

void rc__os_drop_blocks(rc__os_unmapper *u)
{
    if (!ours(u))
        return;
    pthread_mutex_lock(&u->lock);
    while (u->nblocks)
        block_drop(u, u->nblocks - 1);
    if (u->len)
        pthread_cond_signal(&u->wake);
    pthread_mutex_unlock(&u->lock);
}

size_t rc__os_kept_blocks(rc__os_unmapper *u)
{
    if (!ours(u))
        return 0;
    pthread_mutex_lock(&u->lock);
    size_t n = u->block_bytes;
    pthread_mutex_unlock(&u->lock);
    return n;
}

bool rc__os_kept_blocks_whole(rc__os_unmapper *u, size_t page)
{
    if (!ours(u))
        return true;
    pthread_mutex_lock(&u->lock);
    size_t bytes = 0;
    bool ok = true;
    for (size_t i = 0; i < u->nblocks; i++) {
        const block *b = &u->blocks[i];
        ok = ok && b->size && !(b->size % page) && !((uintptr_t)b->p % page);
        for (size_t j = 0; j < i; j++)
            ok = ok && (b->p >= u->blocks[j].p + u->blocks[j].size || u->blocks[j].p >= b->p + b->size);
        bytes += b->size;
    }
    ok = ok && bytes == u->block_bytes;
    pthread_mutex_unlock(&u->lock);
    return ok;
}

size_t rc__os_unmap_kept(rc__os_unmapper *u)
{
    if (!ours(u))
        return 0;
    pthread_mutex_lock(&u->lock);
    size_t n = u->kept_bytes;
    pthread_mutex_unlock(&u->lock);
    return n;
}

void rc__os_unmapper_wait(rc__os_unmapper *u)
{
    if (!ours(u))
        return;
    pthread_mutex_lock(&u->lock);
    while (u->len || u->trim || u->busy)
        pthread_cond_wait(&u->idle, &u->lock);
    pthread_mutex_unlock(&u->lock);
}

/* What is waiting or kept is unmapped before this returns: by the
 * thread, or in a forked child (which has no thread) here.  A child
 * leaves the lock and conditions alone: the parent's thread may have held
 * or waited on them when it forked. */
void rc__os_unmapper_free(rc__os_unmapper *u)
{
    if (ours(u)) {
        pthread_mutex_lock(&u->lock);
        u->stop = true;
        pthread_cond_signal(&u->wake);
        pthread_mutex_unlock(&u->lock);
        pthread_join(u->thread, NULL);
        pthread_cond_destroy(&u->idle);
        pthread_cond_destroy(&u->wake);
        pthread_mutex_destroy(&u->lock);
    }
    if (!u)
        return;
    unmap_all(u->q, u->len);
    free(u->q);
    free(u->kept);
    free(u);
}
