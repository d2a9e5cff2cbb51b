/* Names for native frames, made only when a report needs them (statistics,
 * filters, dumps), so the allocation path stores addresses only.  A frame
 * is a module path and a file offset; the frames of one module are handed
 * to the symbolizer together.  The installed symbolizer (librecycle-tools'
 * rc_symbolize_dwarf gives file:line) is used when there is one; otherwise
 * dladdr(3) names the functions of modules loaded in this process, which
 * needs nothing beyond the C library. */
#include "trace_snap.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic(rc_symbolizer) installed;

void rc_trace_set_symbolizer(rc_symbolizer fn)
{
    atomic_store(&installed, fn);
}

/* ---- the dladdr fallback ---- */

typedef struct module_find {
    const char *path;
    char exe[4096];          /* the main program's path ("" in dl_iterate_phdr) */
    const struct dl_phdr_info *found;
    uintptr_t base;
    const ElfW(Phdr) *phdr;
    size_t phnum;
} module_find;

static int match_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    module_find *m = arg;
    const char *name = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : m->exe;
    if (strcmp(name, m->path) != 0)
        return 0;
    m->base = info->dlpi_addr;
    m->phdr = info->dlpi_phdr;
    m->phnum = info->dlpi_phnum;
    return 1;
}

/* The run-time address of a file offset, through the PT_LOAD segment that
 * maps it; 0 when no segment does. */
static uintptr_t offset_to_addr(const module_find *m, uint64_t off)
{
    for (size_t i = 0; i < m->phnum; i++) {
        const ElfW(Phdr) *ph = &m->phdr[i];
        if (ph->p_type == PT_LOAD && off >= ph->p_offset && off < ph->p_offset + ph->p_filesz)
            return m->base + (uintptr_t)(off - ph->p_offset + ph->p_vaddr);
    }
    return 0;
}

/* Names the functions of a module loaded in this process; frames of other
 * modules (a snapshot written elsewhere) stay unnamed. */
static int dladdr_symbolize(const char *module, const uint64_t *offsets, size_t n,
                            rc_symbol_put put, void *ctx)
{
    module_find m = {.path = module};
    ssize_t len = readlink("/proc/self/exe", m.exe, sizeof m.exe - 1);
    m.exe[len > 0 ? len : 0] = 0;
    if (!dl_iterate_phdr(match_module, &m))
        return 0;
    int r = 0;
    for (size_t i = 0; i < n && !r; i++) {
        uintptr_t addr = offset_to_addr(&m, offsets[i]);
        Dl_info info;
        /* a return address points after the call: name the call's byte */
        if (addr && dladdr((void *)(addr - 1), &info) && info.dli_sname)
            r = put(ctx, i, &(rc_symbol){.func = info.dli_sname});
    }
    return r;
}

/* ---- filling a snapshot's frames ---- */

typedef struct module_batch {
    rc_snapshot *s;
    uint32_t    *frames;     /* frame numbers, parallel to the offsets */
} module_batch;

/* Stores one answer; a frame without a source file shows as
 * "module(function)", which keeps functions apart where file:line cannot. */
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
    s->d.frames[b->frames[i]] = f;
    return 0;
}

static bool pending(const rc__sframe *f)
{
    return f->file == RC__NOSTR && f->func == RC__NOSTR && f->module != RC__NOSTR;
}

/* Symbolizes every pending frame of the module at string offset module,
 * marking them done. */
static int symbolize_module(rc_snapshot *s, uint32_t module, uint8_t *done, rc_symbolizer fn,
                            uint64_t *offsets, uint32_t *frames)
{
    size_t n = 0;
    for (size_t i = 0; i < s->d.nframes; i++)
        if (!done[i] && s->d.frames[i].module == module) {
            done[i] = 1;
            frames[n] = (uint32_t)i;
            offsets[n++] = s->d.frames[i].offset;
        }
    module_batch b = {s, frames};
    /* put may grow s->d.strs: pass the module path as a copy */
    char *path = strdup(s->d.strs + module);
    int r = path ? fn(path, offsets, n, put_symbol, &b) : RC_ENOMEM;
    free(path);
    return r < 0 ? r : 0;
}

int rc__snap_symbolize(rc_snapshot *s)
{
    if (s->symbolized)
        return 0;
    rc_symbolizer fn = atomic_load(&installed);
    if (!fn)
        fn = dladdr_symbolize;
    size_t n = s->d.nframes + 1;
    uint8_t *done = calloc(n, 1);
    uint64_t *offsets = malloc(n * sizeof *offsets);
    uint32_t *frames = malloc(n * sizeof *frames);
    int r = done && offsets && frames ? 0 : RC_ENOMEM;
    for (size_t i = 0; i < s->d.nframes && !r; i++)
        done[i] = !pending(&s->d.frames[i]);
    for (size_t i = 0; i < s->d.nframes && !r; i++)
        if (!done[i])
            r = symbolize_module(s, s->d.frames[i].module, done, fn, offsets, frames);
    free(done);
    free(offsets);
    free(frames);
    if (!r)     /* frames changed content: index them again */
        r = rc__snap_reindex_frames(s);
    s->symbolized = r == 0;
    return r;
}
