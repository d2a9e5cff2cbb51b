/* Names for native frames, made only when a report needs them (statistics,
 * filters, dumps), so the allocation path stores addresses only.  A frame
 * is a module path and a file offset; the frames of one module are handed
 * to the symbolizer together.  The installed symbolizer (librecycle-tools'
 * rc_symbolize_dwarf gives file:line and inlined calls) is used when there
 * is one; otherwise the loader's exported names (src/prim/symbols.c) name
 * the functions of modules loaded in this process, which needs nothing
 * beyond the C library.
 *
 * Here, whatever the symbolizer: one frame may become several (its
 * inlined calls, innermost first); a frame with no name at all becomes
 * "module+0xOFFSET", so two nameless places stay two lines; a module whose
 * build-id is not the one recorded at trace time is not named (and the
 * snapshot keeps a warning); then each traceback drops its leading frames
 * in allocation wrappers and is cut to the frames to show. */
#include "trace_snap.h"
#include "../prim/prim.h"

#include <fnmatch.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic(rc_symbolizer) installed;

void rc_trace_set_symbolizer(rc_symbolizer fn)
{
    atomic_store(&installed, fn);
}

/* ---- the dladdr fallback ---- */

/* Names the functions of a module loaded in this process; frames of other
 * modules (a snapshot written elsewhere) stay unnamed. */
static int dladdr_symbolize(const char *module, const uint64_t *offsets, size_t n,
                            rc_symbol_put put, void *ctx)
{
    rc__os_module m;
    if (!rc__os_module_find(module, &m))
        return 0;
    int r = 0;
    for (size_t i = 0; i < n && !r; i++) {
        uintptr_t addr = rc__os_module_addr(&m, offsets[i]);
        /* a return address points after the call: name the call's byte */
        const char *name = addr ? rc__os_exported_name(addr - 1) : NULL;
        if (name)
            r = put(ctx, i, &(rc_symbol){.func = name});
    }
    return r;
}

/* ---- allocation wrappers ---- */

/* Allocation wrappers of common libraries, matched (fnmatch) against a
 * frame's function, mangled or plain: C++'s operator new and the standard
 * allocators, glib, sqlite, the x* family of GNU programs, CPython's
 * object and raw allocators.  Frames in the C++ standard library's
 * headers (/usr/include/c++/) count as wrappers too: a container's growth
 * is charged to the program's line. */
static const char *const default_wrappers[] = {
    "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t", "_ZnamSt11align_val_t",
    "_ZNSt15__new_allocator*", "_ZN9__gnu_cxx13new_allocator*", "_ZNSt16allocator_traits*",
    "_ZNSt12_Vector_base*_M_allocate*", "_ZNSt8_Rb_tree*_M_get_node*", "_ZNSt8_Rb_tree*_M_create_node*",
    "_ZNSt10_HashtableI*_M_allocate_node*", "_ZNSt8__detail16_Hashtable_alloc*",
    "g_malloc", "g_malloc0", "g_malloc_n", "g_malloc0_n", "g_realloc", "g_realloc_n", "g_try_malloc",
    "g_try_malloc0", "g_try_realloc", "g_slice_alloc", "g_slice_alloc0", "g_strdup", "g_strndup", "g_memdup2",
    "sqlite3Malloc", "sqlite3MallocZero", "sqlite3MemMalloc", "sqlite3MemRealloc", "sqlite3Realloc",
    "sqlite3DbMalloc*", "sqlite3DbRealloc*", "sqlite3_malloc", "sqlite3_malloc64", "sqlite3_realloc",
    "sqlite3_realloc64", "mallocWithAlarm", "dbMallocRawFinish", "dbReallocFinish",
    "xmalloc", "xcalloc", "xzalloc", "xrealloc", "xstrdup", "xmemdup", "xnmalloc", "x2nrealloc",
    "_PyObject_ArenaMmap", "new_arena", "allocate_from_new_pool", "pymalloc_alloc", "pymalloc_realloc",
    "_PyObject_Malloc", "_PyObject_Calloc", "_PyObject_Realloc", "PyObject_Malloc", "PyObject_Calloc",
    "PyObject_Realloc", "PyMem_Malloc", "PyMem_Calloc", "PyMem_Realloc", "PyMem_RawMalloc", "PyMem_RawCalloc",
    "PyMem_RawRealloc", "_PyMem_RawMalloc", "_PyMem_RawCalloc", "_PyMem_RawRealloc",
};

static bool is_wrapper(const rc_snapshot *s, uint32_t fi)
{
    const rc__sframe *f = &s->d.frames[fi];
    if (f->file != RC__NOSTR && fnmatch("/usr/include/c++/*", s->d.strs + f->file, 0) == 0)
        return true;
    if (f->func == RC__NOSTR)
        return false;
    const char *name = s->d.strs + f->func;
    for (size_t i = 0; i < sizeof default_wrappers / sizeof *default_wrappers; i++)
        if (fnmatch(default_wrappers[i], name, 0) == 0)
            return true;
    for (size_t i = 0; i < s->d.nallocfns; i++)
        if (fnmatch(s->d.strs + s->d.allocfns[i], name, 0) == 0)
            return true;
    return false;
}

/* How many leading frames to drop: up to the last wrapper that only
 * wrappers and nameless frames (a wrapper's static helpers in a stripped
 * library, like sqlite3MemMalloc under sqlite3Malloc) come before; one
 * frame always stays. */
static size_t leading_wrappers(const rc_snapshot *s, const uint32_t *frames, size_t n)
{
    size_t skip = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (is_wrapper(s, frames[i]))
            skip = i + 1;
        else if (s->d.frames[frames[i]].func != RC__NOSTR)
            break;                      /* the program's own named frame */
    }
    return skip;
}

/* ---- filling a snapshot's frames ---- */

/* The frames one original frame became, innermost first. */
typedef struct chain { uint32_t *frames; size_t n, cap; } chain;

static int chain_push(chain *c, uint32_t frame)
{
    if (frame == UINT32_MAX || !rc__grow(&c->frames, &c->cap, c->n + 1, sizeof *c->frames))
        return RC_ENOMEM;
    c->frames[c->n++] = frame;
    return 0;
}

typedef struct module_batch {
    rc_snapshot *s;
    uint32_t    *frames;     /* frame numbers, parallel to the offsets */
    chain       *per;        /* per original frame */
} module_batch;

/* Stores one answer, the next frame of offsets[i]'s chain; a frame without
 * a source file shows as "module(function)", which keeps functions apart
 * where file:line cannot. */
static int put_symbol(void *ctx, size_t i, const rc_symbol *sym)
{
    module_batch *b = ctx;
    rc_snapshot *s = b->s;
    rc__sframe f = s->d.frames[b->frames[i]];
    char named[1024];
    const char *file = sym->file;
    if (!file && sym->func) {
        snprintf(named, sizeof named, "%s(%s)", s->d.strs + f.module, sym->func);
        file = named;
    }
    if (sym->func && (f.func = rc__snap_str(s, sym->func)) == RC__NOSTR)
        return RC_ENOMEM;
    if (file && (f.file = rc__snap_str(s, file)) == RC__NOSTR)
        return RC_ENOMEM;
    f.line = sym->file ? sym->line : 0;
    return chain_push(&b->per[b->frames[i]], rc__snap_frame(s, &f));
}

/* A frame no symbolizer named: "module+0xOFFSET", line 0. */
static int put_unnamed(rc_snapshot *s, uint32_t fi, chain *c)
{
    rc__sframe f = s->d.frames[fi];
    char named[1024];
    snprintf(named, sizeof named, "%s+0x%llx", s->d.strs + f.module, (unsigned long long)f.offset);
    if ((f.file = rc__snap_str(s, named)) == RC__NOSTR)
        return RC_ENOMEM;
    return chain_push(c, rc__snap_frame(s, &f));
}

static bool pending(const rc__sframe *f)
{
    return f->file == RC__NOSTR && f->func == RC__NOSTR && f->module != RC__NOSTR;
}

/* The build-id recorded for module (a string offset), or NULL. */
static const char *recorded_build_id(const rc_snapshot *s, uint32_t module)
{
    for (size_t i = 0; i < s->d.nmods; i++)
        if (s->d.mods[i].path == module)
            return s->d.mods[i].build_id == RC__NOSTR ? NULL : s->d.strs + s->d.mods[i].build_id;
    return NULL;
}

/* False, with a warning in s, when the module on disk is not the one that
 * was traced. */
static bool same_build(rc_snapshot *s, const char *path, uint32_t module)
{
    const char *want = recorded_build_id(s, module);
    char have[130] = "none";
    if (!want || (rc__build_id(path, have, sizeof have) && strcmp(have, want) == 0))
        return true;                       /* nothing recorded: no way to tell */
    size_t used = strlen(s->symbol_warning);
    snprintf(s->symbol_warning + used, sizeof s->symbol_warning - used,
             "%s%s has changed since it was traced (build-id %.12s…, now %.12s…): its frames are left as "
             "module+offset", used ? "; " : "", path, want, have);
    return false;
}

/* Symbolizes every pending frame of the module at string offset module
 * among the first nframes (naming appends frames after them), marking
 * them done. */
static int symbolize_module(rc_snapshot *s, size_t nframes, uint32_t module, uint8_t *done, rc_symbolizer fn,
                            uint64_t *offsets, module_batch *b)
{
    size_t n = 0;
    for (size_t i = 0; i < nframes; i++)
        if (!done[i] && s->d.frames[i].module == module) {
            done[i] = 1;
            b->frames[n] = (uint32_t)i;
            offsets[n++] = s->d.frames[i].offset;
        }
    /* put may grow s->d.strs: pass the module path as a copy */
    char *path = strdup(s->d.strs + module);
    int r = path ? 0 : RC_ENOMEM;
    if (!r && same_build(s, path, module))
        r = fn(path, offsets, n, put_symbol, b);
    free(path);
    for (size_t k = 0; r >= 0 && k < n; k++)
        if (!b->per[b->frames[k]].n)
            r = put_unnamed(s, b->frames[k], &b->per[b->frames[k]]);
    return r < 0 ? r : 0;
}

/* Each traceback again from the chains: leading wrappers dropped, at most
 * the frames to show. */
static int rebuild_tracebacks(rc_snapshot *s, const chain *per)
{
    uint32_t shown = s->d.shown_limit ? s->d.shown_limit : s->d.traceback_limit;
    chain all = {0}, one = {0};
    rc__stb *tbs = malloc((s->d.ntbs + 1) * sizeof *tbs);
    int r = tbs ? 0 : RC_ENOMEM;
    for (size_t t = 0; t < s->d.ntbs && !r; t++) {
        one.n = 0;
        for (uint32_t k = 0; k < s->d.tbs[t].nframe && !r; k++) {
            const chain *c = &per[s->d.tbframes[s->d.tbs[t].first + k]];
            for (size_t j = 0; j < c->n && !r; j++)
                r = chain_push(&one, c->frames[j]);
        }
        size_t skip = r ? 0 : leading_wrappers(s, one.frames, one.n);
        size_t n = one.n - skip < shown ? one.n - skip : shown;
        for (size_t j = 0; j < n && !r; j++)
            r = chain_push(&all, one.frames[skip + j]);
        if (!r)
            tbs[t] = (rc__stb){(uint32_t)(all.n - n), (uint32_t)n};
    }
    free(one.frames);
    if (r) {
        free(tbs);
        free(all.frames);
        return r;
    }
    free(s->d.tbframes);
    free(s->d.tbs);
    s->d.tbframes = all.frames;
    s->d.ntbframes = all.n;
    s->tbframes_cap = all.cap;
    s->d.tbs = tbs;
    s->tbs_cap = s->d.ntbs + 1;
    s->d.traceback_limit = s->d.shown_limit = shown;
    return 0;
}

/* Frames that need no symbolizer stand for themselves. */
static int keep_named(rc_snapshot *s, size_t nframes, uint8_t *done, chain *per)
{
    int r = 0;
    for (size_t i = 0; i < nframes && !r; i++)
        if (!pending(&s->d.frames[i])) {
            done[i] = 1;
            r = chain_push(&per[i], (uint32_t)i);
        }
    return r;
}

int rc__snap_symbolize(rc_snapshot *s)
{
    if (s->symbolized)
        return 0;
    rc_symbolizer fn = atomic_load(&installed);
    if (!fn)
        fn = dladdr_symbolize;
    size_t n = s->d.nframes;                /* naming appends new frames */
    uint8_t *done = calloc(n + 1, 1);
    uint64_t *offsets = malloc((n + 1) * sizeof *offsets);
    module_batch b = {s, malloc((n + 1) * sizeof(uint32_t)), calloc(n + 1, sizeof(chain))};
    int r = done && offsets && b.frames && b.per ? keep_named(s, n, done, b.per) : RC_ENOMEM;
    for (size_t i = 0; i < n && !r; i++)
        if (!done[i])
            r = symbolize_module(s, n, s->d.frames[i].module, done, fn, offsets, &b);
    if (!r)
        r = rebuild_tracebacks(s, b.per);
    for (size_t i = 0; b.per && i < n; i++)
        free(b.per[i].frames);
    free(b.per);
    free(b.frames);
    free(done);
    free(offsets);
    s->symbolized = r == 0;
    return r;
}
