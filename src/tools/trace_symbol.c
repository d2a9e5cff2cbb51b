/* rc_symbolize_dwarf: (module path, file offset) → file:line:function
 * with libdw.  Modules are opened from the paths the snapshot names, which
 * lets `recycle trace-stats` symbolize a snapshot written by another
 * process.  The core calls it through rc_trace_set_symbolizer
 * (src/trace/trace_names.c). */
#include "recycle-tools.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

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

/* Names offset off of mod; a return address points after the call, so
 * the call's line is the one of addr - 1. */
static int symbolize_offset(Dwfl_Module *mod, uint64_t off, size_t i, rc_symbol_put put, void *ctx)
{
    GElf_Addr addr;
    if (!offset_to_addr(mod, off, &addr))
        return 0;
    addr -= 1;
    rc_symbol sym = {.func = dwfl_module_addrname(mod, addr)};
    sym.file = line_of(mod, addr, &sym.line);
    if (!sym.file)
        sym.line = 0;
    return sym.func || sym.file ? put(ctx, i, &sym) : 0;
}

int rc_symbolize_dwarf(const char *module, const uint64_t *offsets, size_t n,
                       rc_symbol_put put, void *ctx)
{
    Dwfl *dwfl = dwfl_begin(&callbacks);
    if (!dwfl)
        return 0;
    dwfl_report_begin(dwfl);
    Dwfl_Module *mod = dwfl_report_elf(dwfl, module, module, -1, 0, false);
    dwfl_report_end(dwfl, NULL, NULL);
    int r = 0;
    for (size_t i = 0; mod && i < n && !r; i++)
        r = symbolize_offset(mod, offsets[i], i, put, ctx);
    dwfl_end(dwfl);
    return r;
}
