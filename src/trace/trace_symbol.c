/* rc_symbolize_dwarf: (module path, file offset) → the frames a person can
 * read, with libdw.  Modules are opened from the paths the snapshot names,
 * which lets `recycle trace-stats` symbolize a snapshot written by another
 * process.  The core calls it through rc_trace_set_symbolizer
 * (src/trace/trace_names.c), which also drops allocation wrappers, names
 * what stays nameless as module+0xOFFSET and refuses rebuilt modules.
 *
 * One offset becomes, through put:
 *   - with DWARF, its chain of inlined calls, innermost first, each at the
 *     file:line it is at: the line table's for the innermost,
 *     DW_AT_call_file/DW_AT_call_line of the inlined scope for the ones
 *     around it;
 *   - without a line table, the function from .symtab/.dynsym. */
#include "recycle-tools.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdlib.h>

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

/* The innermost function scope at pc, then the scopes it was inlined
 * into: after an inlined scope dwarf_getscopes goes on with the scopes of
 * its abstract definition, so those come from the DIE itself. */
static int function_scopes(Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Die **scopes)
{
    int n = dwarf_getscopes(cu, pc, scopes), i = 0;
    while (i < n && dwarf_tag(&(*scopes)[i]) != DW_TAG_inlined_subroutine && dwarf_tag(&(*scopes)[i]) != DW_TAG_subprogram)
        i++;
    if (i >= n) {
        free(*scopes);
        *scopes = NULL;
        return 0;
    }
    Dwarf_Die inner = (*scopes)[i];
    free(*scopes);
    *scopes = NULL;
    return dwarf_getscopes_die(&inner, scopes);
}

/* Puts the inlined calls around pc, innermost first: each scope's
 * function at the position the scope inside it was called from.  The
 * number of frames put, or a negative error. */
static int put_inline_chain(Dwarf_Die *cu, Dwarf_Addr pc, rc_symbol sym, size_t i, rc_symbol_put put, void *ctx)
{
    Dwarf_Die *scopes = NULL;
    int n = function_scopes(cu, pc, &scopes), done = 0, r = 0;
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;
    dwarf_getsrcfiles(cu, &files, &nfiles);
    for (int k = 0; k < n && !r; k++) {
        int tag = dwarf_tag(&scopes[k]);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
            continue;
        sym.func = scope_name(&scopes[k]);
        r = put(ctx, i, &sym);
        done++;
        if (tag == DW_TAG_subprogram)
            break;
        Dwarf_Attribute at;
        Dwarf_Word fileno = 0, lineno = 0;
        const char *file = NULL;
        if (dwarf_formudata(dwarf_attr(&scopes[k], DW_AT_call_file, &at), &fileno) == 0 && files)
            file = dwarf_filesrc(files, fileno, NULL, NULL);
        dwarf_formudata(dwarf_attr(&scopes[k], DW_AT_call_line, &at), &lineno);
        sym.file = file ? file : "<unknown>";
        sym.line = (int)lineno;
    }
    free(scopes);
    return r ? r : done;
}

/* Names offset off of mod; a return address points after the call, so
 * the call's line is the one of addr - 1. */
static int symbolize_offset(Dwfl_Module *mod, uint64_t off, size_t i, rc_symbol_put put, void *ctx)
{
    GElf_Addr addr;
    if (!offset_to_addr(mod, off, &addr))
        return 0;
    addr -= 1;
    Dwarf_Addr bias;
    Dwarf_Die *cu = cu_of(mod, addr, &bias);
    Dwarf_Line *dl = cu ? dwarf_getsrc_die(cu, addr - bias) : NULL;
    rc_symbol sym = {.func = dwfl_module_addrname(mod, addr)};
    if (dl && dwarf_lineno(dl, &sym.line) == 0 && (sym.file = dwarf_linesrc(dl, NULL, NULL))) {
        int r = put_inline_chain(cu, addr - bias, sym, i, put, ctx);
        if (r)
            return r < 0 ? r : 0;
    } else {
        sym.file = NULL;
        sym.line = 0;
    }
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
