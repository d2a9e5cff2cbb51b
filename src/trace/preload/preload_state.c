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
static int nframe = 1;

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
    int n = unw_backtrace(raw, nframe + 48);
    int first = 0;
    while (first < n && skipped((uintptr_t)raw[first]))
        first++;
    if (first == n) {                   /* nothing of the program's: keep the outermost */
        ips[0] = n ? raw[n - 1] : NULL;
        return 1;
    }
    size_t keep = (size_t)(n - first) < (size_t)nframe ? (size_t)(n - first) : (size_t)nframe;
    memcpy(ips, raw + first, keep * sizeof *ips);
    return keep;
}

static void note_peak(void)
{
    uint64_t total = blocks.current + maps.current;
    if (total > peak)
        peak = total;
}

void rc_pl_record(void *p, size_t size, unsigned domain)
{
    void *ips[RC__MAXFRAMES];
    size_t n = capture(ips);
    rc_pl_lock();
    uint32_t tb = rc__tbs_intern(&tbs, false, (const uintptr_t *)ips, n);
    rc__table_add(domain ? &maps : &blocks, (uintptr_t)p, size, tb);   /* no room: untraced */
    note_peak();
    rc_pl_unlock();
}

bool rc_pl_forget(const void *p, unsigned domain, uint64_t *size, uint32_t *tb)
{
    rc__table *t = domain ? &maps : &blocks;
    rc_pl_lock();
    bool had = (!size && !tb) || rc__table_get(t, (uintptr_t)p, size, tb);
    had = had && rc__table_remove(t, (uintptr_t)p);
    rc_pl_unlock();
    return had;
}

void rc_pl_restore(void *p, unsigned domain, uint64_t size, uint32_t tb)
{
    rc_pl_lock();
    rc__table_add(domain ? &maps : &blocks, (uintptr_t)p, size, tb);
    note_peak();
    rc_pl_unlock();
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

int rc_pl_write_locked(const char *path)
{
    rc__maps m;
    int r = rc__maps_read(&m, &mem);
    if (r)
        return r;
    size_t nwords = 0;
    for (uint32_t i = 0; i < tbs.n; i++) {
        size_t n;
        bool site;
        rc__tbs_get(&tbs, i, &n, &site);
        nwords += n;
    }
    tmparr a[4];
    rc__snapdata d = {.traceback_limit = (uint32_t)nframe, .traced_current = blocks.current + maps.current,
                      .traced_peak = peak, .strs = m.paths, .strs_len = m.plen};
    d.frames = take(&a[0], nwords, sizeof *d.frames);
    d.tbframes = take(&a[1], nwords, sizeof *d.tbframes);
    d.tbs = take(&a[2], tbs.n, sizeof *d.tbs);
    d.traces = take(&a[3], blocks.len + maps.len, sizeof *d.traces);
    if (d.frames && d.tbframes && d.tbs && d.traces) {
        fill_frames(&d, &m);
        d.nframes = d.ntbframes = nwords;
        d.ntbs = tbs.n;
        fill f = {d.traces, 0, RC_TRACE_DOMAIN_HEAP};
        rc__table_each(&blocks, add_trace, &f);
        f.domain = RC_TRACE_DOMAIN_MMAP;
        rc__table_each(&maps, add_trace, &f);
        d.ntraces = f.n;
        r = rc__snap_write_path(path, &d);
    } else {
        r = RC_ENOMEM;
    }
    for (int i = 0; i < 4; i++)
        rc__tmem_put(&mem, a[i].p, a[i].bytes);
    rc__maps_free(&m, &mem);
    return r;
}
