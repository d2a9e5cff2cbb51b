/* Symbolization: (module path, file offset) → file:line:function with
 * libdw, done only when a report is made (statistics, filters, dump), so
 * the allocation path stores addresses only.  Modules are opened from the
 * paths the snapshot names, which lets `recycle trace-stats` symbolize a
 * snapshot written by another process. */
#include "../trace/trace_snap.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
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

/* The source line of addr.  Without .debug_aranges (clang does not emit
 * it) libdwfl cannot find the unit by address, so the units are searched. */
static const char *line_of(Dwfl_Module *mod, GElf_Addr addr, int *lineno)
{
    Dwfl_Line *line = dwfl_module_getsrc(mod, addr);
    if (line)
        return dwfl_lineinfo(line, NULL, lineno, NULL, NULL, NULL);
    Dwarf_Addr bias;
    for (Dwarf_Die *cu = NULL; (cu = dwfl_module_nextcu(mod, cu, &bias));) {
        if (dwarf_haspc(cu, addr - bias) <= 0)
            continue;
        Dwarf_Line *dl = dwarf_getsrc_die(cu, addr - bias);
        if (dl && dwarf_lineno(dl, lineno) == 0)
            return dwarf_linesrc(dl, NULL, NULL);
    }
    return NULL;
}

/* Fills frame f from mod; a return address points after the call, so the
 * call's line is the one of addr - 1. */
static int symbolize_frame(rc_snapshot *s, Dwfl_Module *mod, uint32_t fi)
{
    GElf_Addr addr;
    rc__sframe f = s->d.frames[fi];
    if (!mod || !offset_to_addr(mod, f.offset, &addr))
        return 0;
    addr -= 1;
    const char *func = dwfl_module_addrname(mod, addr);
    int lineno = 0;
    const char *src = line_of(mod, addr, &lineno);
    if (func && (f.func = rc__snap_str(s, func)) == RC__NOSTR)
        return RC_ENOMEM;
    char named[1024];
    if (!src && func) {
        /* no line table (a stripped library): "module(function)" keeps
         * functions apart where file:line cannot */
        snprintf(named, sizeof named, "%s(%s)", s->d.strs + f.module, func);
        src = named;
    }
    if (src && (f.file = rc__snap_str(s, src)) == RC__NOSTR)
        return RC_ENOMEM;
    f.line = src ? lineno : 0;
    s->d.frames[fi] = f;
    return 0;
}

static bool pending(const rc__sframe *f) { return f->file == RC__NOSTR && f->func == RC__NOSTR && f->module != RC__NOSTR; }

/* Symbolizes every pending frame of module `module` (a string offset). */
static int symbolize_module(rc_snapshot *s, uint32_t module, uint8_t *done)
{
    Dwfl *dwfl = dwfl_begin(&callbacks);
    Dwfl_Module *mod = NULL;
    if (dwfl) {
        dwfl_report_begin(dwfl);
        const char *path = s->d.strs + module;
        mod = dwfl_report_elf(dwfl, path, path, -1, 0, false);
        dwfl_report_end(dwfl, NULL, NULL);
    }
    int r = 0;
    for (size_t i = 0; i < s->d.nframes && !r; i++) {
        if (done[i] || s->d.frames[i].module != module)
            continue;
        done[i] = 1;
        r = symbolize_frame(s, mod, (uint32_t)i);
    }
    if (dwfl)
        dwfl_end(dwfl);
    return r;
}

int rc__snap_symbolize(rc_snapshot *s)
{
    if (s->symbolized)
        return 0;
    uint8_t *done = calloc(s->d.nframes + 1, 1);
    if (!done)
        return RC_ENOMEM;
    for (size_t i = 0; i < s->d.nframes; i++)
        done[i] = !pending(&s->d.frames[i]);
    int r = 0;
    for (size_t i = 0; i < s->d.nframes && !r; i++)
        if (!done[i])
            r = symbolize_module(s, s->d.frames[i].module, done);
    free(done);
    if (!r)     /* frames changed content: index them again */
        r = rc__snap_reindex_frames(s);
    s->symbolized = r == 0;
    return r;
}
