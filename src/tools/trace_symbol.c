/* Symbolization: (module path, file offset) → frames a person can read,
 * with libdw, done only when a report is made (statistics, filters, dump),
 * so the allocation path stores addresses only.  Modules are opened from
 * the paths the snapshot names, which lets `recycle trace-stats` symbolize
 * a snapshot written by another process.
 *
 * One native frame becomes:
 *   - its chain of inlined calls, innermost first, each with the file:line
 *     it is at (the line table for the innermost, DW_AT_call_file/line of
 *     the inlined scope for the ones around it), when there is DWARF;
 *   - "module(function)" from .symtab/.dynsym when there is no line table;
 *   - "module+0xOFFSET" when there is not even a symbol, so two nameless
 *     places stay two lines.
 * A module whose build-id is not the one recorded at trace time is not
 * named at all (its frames stay module+0xOFFSET) and the snapshot keeps a
 * warning saying so.  Then each traceback drops its leading frames in
 * allocation wrappers (the default patterns below and those stored in the
 * snapshot), with the nameless frames among them, and is cut to the
 * frames to show. */
#include "../trace/trace_snap.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

/* Allocation wrappers of common libraries, matched (fnmatch) against a
 * frame's function, mangled or plain: C++'s operator new and the standard
 * allocators, glib, sqlite, the x* family of GNU programs, CPython's
 * object and raw allocators.  Frames in the
 * C++ standard library's headers (/usr/include/c++/) count as wrappers
 * too: a container's growth is charged to the program's line. */
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

/* ---- one native frame ------------------------------------------------------- */

/* The module-relative address of a file offset: through the PT_LOAD
 * segment that maps it. */
static bool offset_to_addr(Dwfl_Module *mod, uint64_t off, GElf_Addr *addr)
{
    GElf_Addr bias;
    Elf *elf = dwfl_module_getelf(mod, &bias);
    size_t n;
    if (!elf || elf_getphdrnum(elf, &n) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && off >= ph.p_offset &&
            off < ph.p_offset + ph.p_filesz) {
            *addr = off - ph.p_offset + ph.p_vaddr + bias;
            return true;
        }
    }
    return false;
}

/* The compilation unit holding addr.  Without .debug_aranges (clang does
 * not emit it) libdwfl cannot find it by address, so the units are
 * searched. */
static Dwarf_Die *cu_of(Dwfl_Module *mod, GElf_Addr addr, Dwarf_Addr *bias)
{
    Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, bias);
    if (cu)
        return cu;
    while ((cu = dwfl_module_nextcu(mod, cu, bias)))
        if (dwarf_haspc(cu, addr - *bias) > 0)
            return cu;
    return NULL;
}

/* A function's name as its symbol has it (mangled), else as written. */
static const char *scope_name(Dwarf_Die *die)
{
    static const int names[] = {DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name};
    Dwarf_Attribute at;
    for (int i = 0; i < 3; i++)
        if (dwarf_attr_integrate(die, names[i], &at))
            return dwarf_formstring(&at);
    return NULL;
}

static int push(rc_snapshot *s, uint32_t **out, size_t *n, size_t *cap, const rc__sframe *f)
{
    uint32_t fi = rc__snap_frame(s, f);
    if (fi == UINT32_MAX || !rc__grow(out, cap, *n + 1, sizeof **out))
        return RC_ENOMEM;
    (*out)[(*n)++] = fi;
    return 0;
}

/* A frame at file:line in function func of the original frame f. */
static int push_named(rc_snapshot *s, uint32_t **out, size_t *n, size_t *cap, rc__sframe f, const char *file,
                      int line, const char *func)
{
    f.file = rc__snap_str(s, file);
    f.func = func ? rc__snap_str(s, func) : RC__NOSTR;
    f.line = line;
    if (f.file == RC__NOSTR || (func && f.func == RC__NOSTR))
        return RC_ENOMEM;
    return push(s, out, n, cap, &f);
}

typedef struct chain { uint32_t *frames; size_t n, cap; } chain;

/* A frame with no name: "module+0xOFFSET", line 0. */
static int push_unnamed(rc_snapshot *s, chain *c, rc__sframe f)
{
    char named[1024];
    snprintf(named, sizeof named, "%s+0x%llx", s->d.strs + f.module, (unsigned long long)f.offset);
    return push_named(s, &c->frames, &c->n, &c->cap, f, named, 0, NULL);
}

/* The inlined calls around addr, innermost first: each scope's function at
 * the position the scope inside it was called from. */
static int inline_chain(rc_snapshot *s, Dwarf_Die *cu, Dwarf_Addr pc, const char *file, int line,
                        const rc__sframe *f, chain *c)
{
    Dwarf_Die *scopes = NULL, inner;
    int n = dwarf_getscopes(cu, pc, &scopes), i = 0;
    while (i < n && dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine && dwarf_tag(&scopes[i]) != DW_TAG_subprogram)
        i++;
    if (i == n) {
        free(scopes);
        return 0;
    }
    /* after an inlined scope dwarf_getscopes goes on with the scopes of its
     * abstract definition; the ones it was inlined into come from its DIE */
    inner = scopes[i];
    free(scopes);
    scopes = NULL;
    n = dwarf_getscopes_die(&inner, &scopes);
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;
    dwarf_getsrcfiles(cu, &files, &nfiles);
    int r = 0;
    for (i = 0; i < n && !r; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
            continue;
        r = push_named(s, &c->frames, &c->n, &c->cap, *f, file, line, scope_name(&scopes[i]));
        if (tag == DW_TAG_subprogram)
            break;
        Dwarf_Attribute at;
        Dwarf_Word fileno = 0, lineno = 0;
        if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &at), &fileno) == 0 && files)
            file = dwarf_filesrc(files, fileno, NULL, NULL);
        dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &at), &lineno);
        line = (int)lineno;
        if (!file)
            file = "<unknown>";
    }
    free(scopes);
    return r;
}

/* Expands frame fi into c.  A return address points after the call, so
 * the call's line is the one of addr - 1. */
static int expand_frame(rc_snapshot *s, Dwfl_Module *mod, uint32_t fi, chain *c)
{
    rc__sframe f = s->d.frames[fi];
    GElf_Addr addr;
    if (!mod || !offset_to_addr(mod, f.offset, &addr))
        return push_unnamed(s, c, f);
    addr -= 1;
    Dwarf_Addr bias;
    Dwarf_Die *cu = cu_of(mod, addr, &bias);
    Dwarf_Line *dl = cu ? dwarf_getsrc_die(cu, addr - bias) : NULL;
    int lineno = 0;
    const char *src = dl && dwarf_lineno(dl, &lineno) == 0 ? dwarf_linesrc(dl, NULL, NULL) : NULL;
    size_t before = c->n;
    if (src) {
        int r = inline_chain(s, cu, addr - bias, src, lineno, &f, c);
        if (r || c->n > before)
            return r;
    }
    const char *func = dwfl_module_addrname(mod, addr);
    if (src)
        return push_named(s, &c->frames, &c->n, &c->cap, f, src, lineno, func);
    if (!func)
        return push_unnamed(s, c, f);
    char named[1024];
    /* no line table (a stripped binary): "module(function)" keeps
     * functions apart where file:line cannot */
    snprintf(named, sizeof named, "%s(%s)", s->d.strs + f.module, func);
    return push_named(s, &c->frames, &c->n, &c->cap, f, named, 0, func);
}

/* ---- modules ----------------------------------------------------------------- */

static bool pending(const rc__sframe *f) { return f->file == RC__NOSTR && f->func == RC__NOSTR && f->module != RC__NOSTR; }

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
static bool same_build(rc_snapshot *s, Dwfl_Module *mod, uint32_t module)
{
    const char *want = recorded_build_id(s, module);
    if (!want)
        return true;                       /* nothing recorded: no way to tell */
    const unsigned char *bits;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(mod, &bits, &vaddr);
    char have[130] = "none";
    for (int i = 0; i < n && i < 64; i++)
        snprintf(have + 2 * i, 3, "%02x", bits[i]);
    if (strcmp(have, want) == 0)
        return true;
    size_t used = strlen(s->symbol_warning);
    snprintf(s->symbol_warning + used, sizeof s->symbol_warning - used,
             "%s%s has changed since it was traced (build-id %.12s…, now %.12s…): its frames are left as "
             "module+offset", used ? "; " : "", s->d.strs + module, want, have);
    return false;
}

/* Expands every pending frame of module `module` (a string offset). */
static int expand_module(rc_snapshot *s, uint32_t module, size_t nframes, uint8_t *done, chain *per)
{
    Dwfl *dwfl = dwfl_begin(&callbacks);
    Dwfl_Module *mod = NULL;
    if (dwfl) {
        dwfl_report_begin(dwfl);
        const char *path = s->d.strs + module;
        mod = dwfl_report_elf(dwfl, path, path, -1, 0, false);
        dwfl_report_end(dwfl, NULL, NULL);
        if (mod && !same_build(s, mod, module))
            mod = NULL;
    }
    int r = 0;
    for (size_t i = 0; i < nframes && !r; i++) {
        if (done[i] || s->d.frames[i].module != module)
            continue;
        done[i] = 1;
        r = expand_frame(s, mod, (uint32_t)i, &per[i]);
    }
    if (dwfl)
        dwfl_end(dwfl);
    return r;
}

/* ---- tracebacks ----------------------------------------------------------------- */

static bool is_wrapper(const rc_snapshot *s, uint32_t fi)
{
    const rc__sframe *f = &s->d.frames[fi];
    /* the C++ standard library's containers and allocators, inlined or not */
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

/* Each traceback again from the expanded frames: leading wrappers dropped
 * (one frame always stays), at most the frames to show. */
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
            if (!rc__grow(&one.frames, &one.cap, one.n + c->n, sizeof *one.frames))
                r = RC_ENOMEM;
            else
                memcpy(one.frames + one.n, c->frames, c->n * sizeof *one.frames);
            one.n += r ? 0 : c->n;
        }
        size_t skip = leading_wrappers(s, one.frames, one.n);
        size_t n = one.n - skip < shown ? one.n - skip : shown;
        if (!r && !rc__grow(&all.frames, &all.cap, all.n + n, sizeof *all.frames))
            r = RC_ENOMEM;
        if (!r) {
            memcpy(all.frames + all.n, one.frames + skip, n * sizeof *all.frames);
            tbs[t] = (rc__stb){(uint32_t)all.n, (uint32_t)n};
            all.n += n;
        }
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

int rc__snap_symbolize(rc_snapshot *s)
{
    if (s->symbolized)
        return 0;
    size_t nframes = s->d.nframes;              /* expansion appends new frames */
    uint8_t *done = calloc(nframes + 1, 1);
    chain *per = calloc(nframes + 1, sizeof *per);
    int r = done && per ? 0 : RC_ENOMEM;
    for (size_t i = 0; i < nframes && !r; i++)
        if (!pending(&s->d.frames[i])) {
            done[i] = 1;
            r = rc__grow(&per[i].frames, &per[i].cap, 1, sizeof(uint32_t)) ? 0 : RC_ENOMEM;
            if (!r)
                per[i].frames[per[i].n++] = (uint32_t)i;
        }
    for (size_t i = 0; i < nframes && !r; i++)
        if (!done[i])
            r = expand_module(s, s->d.frames[i].module, nframes, done, per);
    if (!r)
        r = rebuild_tracebacks(s, per);
    for (size_t i = 0; per && i < nframes; i++)
        free(per[i].frames);
    free(per);
    free(done);
    s->symbolized = r == 0;
    return r;
}
