/* Names for the addresses -finstrument-functions hands the hooks, and the
 * loaded modules the tracer names frames of when no symbolizer is installed.
 *
 * dladdr knows only exported (dynamic) symbols, and a program's own static
 * functions are not among them unless it is linked with -rdynamic.  So the
 * module's full symbol table (.symtab, else .dynsym) is read from its file
 * once, sorted, and searched.  Names are cached per address under a mutex:
 * lookups happen only when a recorded bracket ends. */
#include "prim.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct sym {
    uintptr_t   start, end;   /* offsets from the module's load base */
    const char *name;         /* into the mapped file */
} sym;

typedef struct module {
    char  *path;
    sym   *syms;
    size_t nsyms;
    struct module *next;
} module;

typedef struct cached {
    void       *addr;
    const char *name;
} cached;

#define CACHE_SIZE 4096         /* distinct instrumented functions remembered */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static module *modules;
static cached cache[CACHE_SIZE];

static RC_NOINSTR int by_start(const void *a, const void *b)
{
    uintptr_t x = ((const sym *)a)->start, y = ((const sym *)b)->start;
    return (x > y) - (x < y);
}

/* The function symbols of one symbol table section. */
static RC_NOINSTR void collect(module *m, const char *file, size_t size, const Elf64_Shdr *sh,
                               const Elf64_Shdr *strtab)
{
    if (sh->sh_offset + sh->sh_size > size || strtab->sh_offset + strtab->sh_size > size ||
        sh->sh_entsize != sizeof(Elf64_Sym))
        return;
    size_t n = sh->sh_size / sizeof(Elf64_Sym);
    const Elf64_Sym *s = (const Elf64_Sym *)(file + sh->sh_offset);
    m->syms = calloc(n ? n : 1, sizeof *m->syms);
    if (!m->syms)
        return;
    for (size_t i = 0; i < n; i++) {
        if (ELF64_ST_TYPE(s[i].st_info) != STT_FUNC || !s[i].st_value ||
            s[i].st_name >= strtab->sh_size)
            continue;
        m->syms[m->nsyms++] = (sym){s[i].st_value, s[i].st_value + (s[i].st_size ? s[i].st_size : 1),
                                    file + strtab->sh_offset + s[i].st_name};
    }
    qsort(m->syms, m->nsyms, sizeof *m->syms, by_start);
}

/* Reads the symbols of an ELF file; the mapping stays for the names. */
static RC_NOINSTR void load_symbols(module *m)
{
    int fd = open(m->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || (size_t)st.st_size < sizeof(Elf64_Ehdr)) {
        if (fd >= 0)
            close(fd);
        return;
    }
    size_t size = (size_t)st.st_size;
    const char *file = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (file == MAP_FAILED)
        return;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size) {
        munmap((void *)file, size);
        return;
    }
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(file + eh->e_shoff);
    for (int want = SHT_SYMTAB; want && !m->nsyms; want = want == SHT_SYMTAB ? SHT_DYNSYM : 0)
        for (int i = 0; i < eh->e_shnum && !m->nsyms; i++)
            if (sh[i].sh_type == (Elf64_Word)want && sh[i].sh_link < eh->e_shnum) {
                free(m->syms);
                m->syms = NULL;
                collect(m, file, size, &sh[i], &sh[sh[i].sh_link]);
            }
}

static RC_NOINSTR module *module_for(const char *path)
{
    for (module *m = modules; m; m = m->next)
        if (!strcmp(m->path, path))
            return m;
    module *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return NULL;
    }
    load_symbols(m);
    m->next = modules;
    modules = m;
    return m;
}

static RC_NOINSTR const char *search(const module *m, uintptr_t off)
{
    size_t lo = 0, hi = m->nsyms;
    while (lo < hi) {              /* last symbol starting at or before off */
        size_t mid = (lo + hi) / 2;
        if (m->syms[mid].start <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo && off < m->syms[lo - 1].end ? m->syms[lo - 1].name : NULL;
}

/* The executable's path, from /proc: the loader names it argv[0]-like in
 * dladdr's answer and "" in dl_iterate_phdr's.  "" when unknown. */
static RC_NOINSTR const char *exe_path(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

static RC_NOINSTR const char *module_path(const Dl_info *info, char *buf, size_t size)
{
    if (info->dli_fname && info->dli_fname[0] == '/')
        return info->dli_fname;
    return exe_path(buf, size)[0] ? buf : NULL;
}

static RC_NOINSTR const char *lookup(void *addr)
{
    Dl_info info;
    struct link_map *lm = NULL;
    if (!dladdr1(addr, &info, (void **)&lm, RTLD_DL_LINKMAP))
        return NULL;
    char exe[4096];
    const char *path = module_path(&info, exe, sizeof exe);
    module *m = path ? module_for(path) : NULL;
    uintptr_t base = lm ? (uintptr_t)lm->l_addr : (uintptr_t)info.dli_fbase;
    const char *name = m ? search(m, (uintptr_t)addr - base) : NULL;
    if (!name && info.dli_sname)
        name = info.dli_sname;
    if (name)
        return name;
    char *fallback = malloc(64);
    if (fallback)
        snprintf(fallback, 64, "0x%lx", (unsigned long)((uintptr_t)addr - base));
    return fallback;
}

const char *rc__symbol_name(void *addr)
{
    pthread_mutex_lock(&lock);
    size_t h = ((uintptr_t)addr >> 4) * 0x9E3779B97F4A7C15ull >> 52;   /* 12 bits */
    const char *name = NULL;
    for (size_t i = 0; i < CACHE_SIZE; i++) {
        cached *c = &cache[(h + i) % CACHE_SIZE];
        if (c->addr == addr) {
            name = c->name;
            break;
        }
        if (!c->addr) {
            name = lookup(addr);
            if (name)
                *c = (cached){addr, name};
            break;
        }
    }
    if (!name)
        name = "?";     /* cache full and uncached, or lookup failed */
    pthread_mutex_unlock(&lock);
    return name;
}

/* ---- modules loaded in this process, by path ---- */

typedef struct module_find {
    const char  *path;
    const char  *exe;
    rc__os_module *out;
} module_find;

static int match_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    module_find *f = arg;
    const char *name = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : f->exe;
    if (strcmp(name, f->path) != 0)
        return 0;
    *f->out = (rc__os_module){info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum};
    return 1;
}

bool rc__os_module_find(const char *path, rc__os_module *m)
{
    char exe[4096];
    module_find f = {path, exe_path(exe, sizeof exe), m};
    return dl_iterate_phdr(match_module, &f) != 0;
}

uintptr_t rc__os_module_addr(const rc__os_module *m, uint64_t off)
{
    const ElfW(Phdr) *phdr = m->phdr;
    for (size_t i = 0; i < m->phnum; i++) {
        const ElfW(Phdr) *ph = &phdr[i];
        if (ph->p_type == PT_LOAD && off >= ph->p_offset && off < ph->p_offset + ph->p_filesz)
            return m->base + (uintptr_t)(off - ph->p_offset + ph->p_vaddr);
    }
    return 0;
}

const char *rc__os_exported_name(uintptr_t addr)
{
    Dl_info info;
    return dladdr((void *)addr, &info) ? info.dli_sname : NULL;
}
