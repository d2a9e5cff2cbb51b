/* The whole-process tracer's tables: live malloc-family blocks and live
 * mappings (two tables: the domains), interned tracebacks, and the lock.
 *
 * Stacks come from libunwind (the .eh_frame unwinder): programs and libc
 * are seldom built with frame pointers.  Leading frames in this library and
 * in libc (and libstdc++'s operator new) are skipped, so the top frame is
 * the program's own call site. */
#include "preload.h"
#include "recycle.h"

#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

volatile int rc_pl_active;

static void *pl_map(size_t size)
{
    void *p = rc_pl_real_fn.mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void pl_unmap(void *p, size_t size) { rc_pl_real_fn.munmap(p, size); }

static rc__tmem mem = {pl_map, pl_unmap, 0};
static rc__table blocks, maps;          /* domain 0 and domain 1 */
static rc__tbs tbs;
static uint64_t peak;
static int nframe = 1;       /* frames shown */
static int ncapture = 1;     /* frames kept: nframe + room for wrappers */

/* What happened at each (traceback, domain): calls, temporary allocations,
 * bytes, and the live set at the peak without copying anything when the
 * peak moves.  Every change to the traced total happens in an epoch; a
 * new peak closes the epoch (peak_epoch = it, epoch = it + 1).  A site
 * unchanged since the peak (stamp <= peak_epoch) has its peak value in
 * cur_*; the first change after a peak saves cur_* into peak_* first. */
typedef struct site {
    uint64_t calls, temporary, allocated;
    uint64_t cur_size, cur_count;
    uint64_t peak_size, peak_count;
    uint64_t stamp;
} site;

static site *sites;                   /* index: traceback * 2 + domain */
static size_t sites_cap;
static uint64_t epoch = 1, peak_epoch;
/* heaptrack's rule for a temporary allocation: a free whose block has the
 * size and traceback of this thread's latest heap allocation, with no free
 * since.  It matches what was allocated, not the address: a loop that
 * allocates the next record before freeing the previous one (the same
 * site, the same size) counts, as heaptrack counts it. */
typedef struct last_alloc { uint64_t size; uint32_t tb; bool valid; } last_alloc;
static __thread last_alloc last RC_PL_TLS;

/* Wrapper patterns from RECYCLE_TRACE_ALLOC_FN (one per line), stored in
 * every snapshot for the reader. */
static char allocfn_blob[4096];
static size_t allocfn_len;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Raised BEFORE the lock is taken and lowered AFTER it is released, so a
 * signal handler that finds it zero knows this thread holds no lock of the
 * tracer, whatever instruction it interrupted. */
static __thread volatile int busy RC_PL_TLS;

void rc_pl_busy_enter(void)
{
    busy++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void rc_pl_busy_leave(void)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (--busy == 0)
        rc_pl_check_pending();
}

int rc_pl_busy(void) { return busy; }

void rc_pl_lock(void)
{
    rc_pl_busy_enter();
    pthread_mutex_lock(&lock);
}

void rc_pl_unlock(void)
{
    pthread_mutex_unlock(&lock);
    rc_pl_busy_leave();
}

/* ---- frames to skip --------------------------------------------------------- */

typedef struct range { uintptr_t lo, hi; } range;
static range skip[5];
static int nskip;

static int find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t addr = *(uintptr_t *)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && addr >= lo && addr < lo + ph->p_memsz) {
            /* the whole object: from its first to its last segment */
            uintptr_t olo = UINTPTR_MAX, ohi = 0;
            for (int k = 0; k < info->dlpi_phnum; k++)
                if (info->dlpi_phdr[k].p_type == PT_LOAD) {
                    uintptr_t a = info->dlpi_addr + info->dlpi_phdr[k].p_vaddr;
                    olo = a < olo ? a : olo;
                    ohi = a + info->dlpi_phdr[k].p_memsz > ohi ? a + info->dlpi_phdr[k].p_memsz : ohi;
                }
            skip[nskip++] = (range){olo, ohi};
            return 1;
        }
    }
    return 0;
}

static void skip_object_of(const void *fn)
{
    uintptr_t addr = (uintptr_t)fn;
    if (fn && nskip < 5)
        dl_iterate_phdr(find_object, &addr);
}

static bool skipped(uintptr_t ip)
{
    for (int i = 0; i < nskip; i++)
        if (ip >= skip[i].lo && ip < skip[i].hi)
            return true;
    return false;
}

void rc_pl_state_init(int n)
{
    nframe = n < 1 ? 1 : n > RC__MAXFRAMES ? RC__MAXFRAMES : n;
    ncapture = nframe + RC__WRAPPER_FRAMES > RC__MAXFRAMES ? RC__MAXFRAMES : nframe + RC__WRAPPER_FRAMES;
    rc__table_init(&blocks, &mem);
    rc__table_init(&maps, &mem);
    rc__tbs_init(&tbs, &mem);
    skip_object_of((const void *)rc_pl_state_init);
    skip_object_of((const void *)rc_pl_real_fn.malloc);
    skip_object_of(&_r_debug);                           /* ld.so: TLS for new threads */
    skip_object_of(dlsym(RTLD_DEFAULT, "_Znwm"));        /* C++ operator new */
}

/* ---- recording -------------------------------------------------------------- */

/* Fills ips with the program's frames, innermost first; at least one. */
static size_t capture(void **ips)
{
    void *raw[RC__MAXFRAMES + 48];
    int n = unw_backtrace(raw, ncapture + 48);
    int first = 0;
    while (first < n && skipped((uintptr_t)raw[first]))
        first++;
    if (first == n) {                   /* nothing of the program's: keep the outermost */
        ips[0] = n ? raw[n - 1] : NULL;
        return 1;
    }
    size_t keep = (size_t)(n - first) < (size_t)ncapture ? (size_t)(n - first) : (size_t)ncapture;
    memcpy(ips, raw + first, keep * sizeof *ips);
    return keep;
}

static void note_peak(void)
{
    uint64_t total = blocks.current + maps.current;
    if (total > peak) {
        peak = total;
        peak_epoch = epoch++;
    }
}

/* The site of (tb, domain), ready to change; NULL when it cannot be kept. */
static site *site_touch(uint32_t tb, unsigned domain)
{
    size_t i = (size_t)tb * 2 + domain;
    void *arr = sites;
    if (tb > RC__TB_MAX || !rc__tmem_reserve(&mem, &arr, &sites_cap, i + 1, sizeof *sites))
        return NULL;
    sites = arr;
    site *st = &sites[i];
    if (st->stamp <= peak_epoch) {
        st->peak_size = st->cur_size;
        st->peak_count = st->cur_count;
    }
    st->stamp = epoch;
    return st;
}

static void site_add(uint32_t tb, unsigned domain, uint64_t size, bool call)
{
    site *st = site_touch(tb, domain);
    if (!st)
        return;
    st->cur_size += size;
    st->cur_count++;
    st->calls += call;
    st->allocated += call ? size : 0;
}

static void site_remove(uint32_t tb, unsigned domain, uint64_t size, bool temporary)
{
    site *st = site_touch(tb, domain);
    if (!st)
        return;
    st->cur_size -= size;
    st->cur_count--;
    st->temporary += temporary;
}

void rc_pl_record(void *p, size_t size, unsigned domain)
{
    void *ips[RC__MAXFRAMES];
    size_t n = capture(ips);
    rc_pl_lock();
    uint32_t tb = rc__tbs_intern(&tbs, false, (const uintptr_t *)ips, n);
    if (rc__table_add(domain ? &maps : &blocks, (uintptr_t)p, size, tb)) {   /* no room: untraced */
        site_add(tb, domain, size, true);
        note_peak();
    }
    rc_pl_unlock();
    if (!domain)
        last = (last_alloc){size, tb, true};
}

/* Whether freeing a block of (size, tb) is a temporary allocation; any
 * free ends the run since the latest allocation. */
static bool take_temporary(uint64_t size, uint32_t tb)
{
    bool temporary = last.valid && last.size == size && last.tb == tb;
    last.valid = false;
    return temporary;
}

bool rc_pl_forget(const void *p, unsigned domain, bool freed, uint64_t *size, uint32_t *tb)
{
    rc__table *t = domain ? &maps : &blocks;
    uint64_t sz = 0;
    uint32_t b = 0;
    rc_pl_lock();
    bool had = rc__table_get(t, (uintptr_t)p, &sz, &b) && rc__table_remove(t, (uintptr_t)p);
    if (had)
        site_remove(b, domain, sz, freed && !domain && take_temporary(sz, b));
    rc_pl_unlock();
    if (size)
        *size = sz;
    if (tb)
        *tb = b;
    return had;
}

void rc_pl_restore(void *p, unsigned domain, uint64_t size, uint32_t tb)
{
    rc_pl_lock();
    if (rc__table_add(domain ? &maps : &blocks, (uintptr_t)p, size, tb)) {
        site_add(tb, domain, size, false);
        note_peak();
    }
    rc_pl_unlock();
}

void rc_pl_set_alloc_fns(const char *list)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, "\n");
        if (n && allocfn_len + n + 1 <= sizeof allocfn_blob) {
            memcpy(allocfn_blob + allocfn_len, p, n);
            allocfn_blob[allocfn_len + n] = 0;
            allocfn_len += n + 1;
        }
        p += n + (p[n] == '\n');
    }
}

/* The child of fork has one thread: whoever held the lock is gone. */
void rc_pl_after_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    busy = 0;
}

/* ---- the snapshot ------------------------------------------------------------ */

typedef struct tmparr { void *p; size_t bytes; } tmparr;

static void *take(tmparr *a, size_t n, size_t elem)
{
    a->bytes = (n ? n : 1) * elem;
    a->p = rc__tmem_get(&mem, a->bytes);
    return a->p;
}

typedef struct fill { rc__strace *t; size_t n; unsigned domain; } fill;

static int add_trace(uintptr_t addr, uint64_t size, uint32_t tb, void *arg)
{
    (void)addr;
    fill *f = arg;
    f->t[f->n++] = (rc__strace){size, tb, f->domain};
    return 0;
}

/* Frames: one per traceback word, as (module, offset) from the maps. */
static void fill_frames(rc__snapdata *d, const rc__maps *m)
{
    size_t k = 0;
    for (uint32_t i = 0; i < tbs.n; i++) {
        size_t n;
        bool site;
        const uintptr_t *w = rc__tbs_get(&tbs, i, &n, &site);
        d->tbs[i] = (rc__stb){(uint32_t)k, (uint32_t)n};
        for (size_t j = 0; j < n; j++, k++) {
            const rc__map *mp = rc__maps_find(m, w[j]);
            d->frames[k] = (rc__sframe){RC__NOSTR, RC__NOSTR, 0, mp ? mp->path : RC__NOSTR,
                                        mp ? w[j] - mp->start + mp->file_off : w[j]};
            d->tbframes[k] = (uint32_t)k;
        }
    }
}

/* The string table: the maps' paths, then each module's build-id, then
 * the wrapper patterns; mods and allocfns refer into it. */
typedef struct strtab { char *p; size_t len, cap; } strtab;

static uint32_t strtab_add(strtab *t, const char *str, size_t n)
{
    uint32_t off = (uint32_t)t->len;
    memcpy(t->p + t->len, str, n);
    t->p[t->len + n] = 0;
    t->len += n + 1;
    return off;
}

static size_t fill_mods(rc__smod *mods, strtab *t, const rc__maps *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (n && mods[n - 1].path == m->maps[i].path)
            continue;
        char hex[130];
        bool has = rc__build_id(m->paths + m->maps[i].path, hex, sizeof hex);
        mods[n++] = (rc__smod){m->maps[i].path, has ? strtab_add(t, hex, strlen(hex)) : RC__NOSTR};
    }
    return n;
}

static size_t fill_allocfns(uint32_t *out, strtab *t)
{
    size_t n = 0;
    for (size_t at = 0; at < allocfn_len; n++) {
        size_t len = strlen(allocfn_blob + at);
        out[n] = strtab_add(t, allocfn_blob + at, len);
        at += len + 1;
    }
    return n;
}

static size_t fill_sites(rc__ssite *out)
{
    size_t n = 0;
    for (size_t i = 0; i < sites_cap; i++) {
        const site *st = &sites[i];
        if (!st->calls && !st->cur_count)
            continue;
        bool unchanged = st->stamp <= peak_epoch;
        out[n++] = (rc__ssite){(uint32_t)(i / 2), (uint32_t)(i % 2), st->calls, st->temporary, st->allocated,
                               unchanged ? st->cur_size : st->peak_size, unchanged ? st->cur_count : st->peak_count};
    }
    return n;
}

static size_t count_words(void)
{
    size_t nwords = 0;
    for (uint32_t i = 0; i < tbs.n; i++) {
        size_t n;
        bool site;
        rc__tbs_get(&tbs, i, &n, &site);
        nwords += n;
    }
    return nwords;
}

enum { A_FRAMES, A_TBFRAMES, A_TBS, A_TRACES, A_STRS, A_MODS, A_AFNS, A_SITES, NARR };

static int write_data(const char *path, rc__snapdata *d, const rc__maps *m, tmparr *a)
{
    strtab t = {a[A_STRS].p, 0, a[A_STRS].bytes};
    for (int i = 0; i < NARR; i++)
        if (!a[i].p)
            return RC_ENOMEM;
    memcpy(t.p, m->paths, m->plen);                 /* the paths as they are */
    t.len = m->plen;
    fill_frames(d, m);
    d->ntbs = tbs.n;
    fill f = {d->traces, 0, RC_TRACE_DOMAIN_HEAP};
    rc__table_each(&blocks, add_trace, &f);
    f.domain = RC_TRACE_DOMAIN_MMAP;
    rc__table_each(&maps, add_trace, &f);
    d->ntraces = f.n;
    d->mods = a[A_MODS].p;
    d->nmods = fill_mods(d->mods, &t, m);
    d->allocfns = a[A_AFNS].p;
    d->nallocfns = fill_allocfns(d->allocfns, &t);
    d->sites = a[A_SITES].p;
    d->nsites = fill_sites(d->sites);
    d->strs = t.p;
    d->strs_len = t.len;
    return rc__snap_write_path(path, d);
}

int rc_pl_write_locked(const char *path)
{
    rc__maps m;
    int r = rc__maps_read(&m, &mem);
    if (r)
        return r;
    size_t nwords = count_words();
    tmparr a[NARR];
    rc__snapdata d = {.traceback_limit = (uint32_t)ncapture, .shown_limit = (uint32_t)nframe,
                      .traced_current = blocks.current + maps.current, .traced_peak = peak};
    d.frames = take(&a[A_FRAMES], nwords, sizeof *d.frames);
    d.tbframes = take(&a[A_TBFRAMES], nwords, sizeof *d.tbframes);
    d.tbs = take(&a[A_TBS], tbs.n, sizeof *d.tbs);
    d.traces = take(&a[A_TRACES], blocks.len + maps.len, sizeof *d.traces);
    d.nframes = d.ntbframes = nwords;
    take(&a[A_STRS], m.plen + m.n * 130 + allocfn_len + 1, 1);
    take(&a[A_MODS], m.n, sizeof(rc__smod));
    take(&a[A_AFNS], allocfn_len, sizeof(uint32_t));
    take(&a[A_SITES], sites_cap, sizeof(rc__ssite));
    r = write_data(path, &d, &m, a);
    for (int i = 0; i < NARR; i++)
        rc__tmem_put(&mem, a[i].p, a[i].bytes);
    rc__maps_free(&m, &mem);
    return r;
}
