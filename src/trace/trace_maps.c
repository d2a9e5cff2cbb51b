/* Which file a return address came from: the executable mappings of
 * /proc/self/maps, read through a bare descriptor (src/prim/fd.c) into
 * tracer pages (no malloc, no stdio), so the preload library can do it while writing a snapshot from
 * a signal handler.  A frame is stored as (module path, file offset), which
 * stays meaningful after the process is gone; trace_symbol.c turns it into
 * file:line with the module's debug information, after checking that the
 * module's build-id is still the one read here. */
#include "recycle.h"
#include "trace_int.h"
#include "../prim/prim.h"

#include <elf.h>
#include <string.h>

static uintptr_t hex(const char **s)
{
    uintptr_t v = 0;
    for (;; (*s)++) {
        char c = **s;
        if (c >= '0' && c <= '9') v = v * 16 + (uintptr_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + (uintptr_t)(c - 'a' + 10);
        else return v;
    }
}

/* Path offset in m->paths, reusing the previous one when equal (mappings of
 * one file are adjacent). */
static int add_path(rc__maps *m, rc__tmem *mem, const char *p, size_t n, uint32_t *out)
{
    if (m->n && strlen(m->paths + m->maps[m->n - 1].path) == n &&
        memcmp(m->paths + m->maps[m->n - 1].path, p, n) == 0) {
        *out = m->maps[m->n - 1].path;
        return 0;
    }
    void *paths = m->paths;
    if (!rc__tmem_reserve(mem, &paths, &m->pcap, m->plen + n + 1, 1))
        return RC_ENOMEM;
    m->paths = paths;
    memcpy(m->paths + m->plen, p, n);
    m->paths[m->plen + n] = 0;
    *out = (uint32_t)m->plen;
    m->plen += n + 1;
    return 0;
}

/* One line: "start-end perms offset dev inode   path". */
static int parse_line(rc__maps *m, rc__tmem *mem, const char *s, const char *end)
{
    rc__map e;
    e.start = hex(&s);
    if (*s++ != '-')
        return 0;
    e.end = hex(&s);
    if (end - s < 6 || s[3] != 'x')
        return 0;                       /* only code holds return addresses */
    s += 6;
    e.file_off = hex(&s);
    const char *path = memchr(s, '/', (size_t)(end - s));
    if (!path)
        return 0;                       /* anonymous, [vdso], [stack] */
    int r = add_path(m, mem, path, (size_t)(end - path), &e.path);
    if (r)
        return r;
    void *maps = m->maps;
    if (!rc__tmem_reserve(mem, &maps, &m->cap, m->n + 1, sizeof *m->maps))
        return RC_ENOMEM;
    m->maps = maps;
    m->maps[m->n++] = e;
    return 0;
}

int rc__maps_read(rc__maps *m, rc__tmem *mem)
{
    memset(m, 0, sizeof *m);
    int fd = rc__os_fd_open_read("/proc/self/maps");
    if (fd < 0)
        return RC_EIO;
    char buf[4096];
    size_t have = 0;
    int r = 0;
    for (;;) {
        long got = rc__os_fd_read(fd, buf + have, sizeof buf - have);
        if (got <= 0) {
            if (have && !r)
                r = parse_line(m, mem, buf, buf + have);
            break;
        }
        have += (size_t)got;
        char *line = buf, *nl;
        while (!r && (nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
            r = parse_line(m, mem, line, nl);
            line = nl + 1;
        }
        have -= (size_t)(line - buf);
        memmove(buf, line, have);
        if (r || have == sizeof buf)
            break;                      /* error, or a line longer than PATH_MAX */
    }
    rc__os_fd_close(fd);
    if (r)
        rc__maps_free(m, mem);
    return r;
}

void rc__maps_free(rc__maps *m, rc__tmem *mem)
{
    rc__tmem_put(mem, m->maps, m->cap * sizeof *m->maps);
    rc__tmem_put(mem, m->paths, m->pcap);
    memset(m, 0, sizeof *m);
}

const rc__map *rc__maps_find(const rc__maps *m, uintptr_t addr)
{
    size_t lo = 0, hi = m->n;        /* the kernel lists mappings in address order */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (addr < m->maps[mid].start)
            hi = mid;
        else if (addr >= m->maps[mid].end)
            lo = mid + 1;
        else
            return &m->maps[mid];
    }
    return NULL;
}

/* ---- build-ids ------------------------------------------------------------- */

/* The NT_GNU_BUILD_ID note among n bytes of notes, as lowercase hex. */
static bool build_id_in_notes(const unsigned char *p, size_t n, char *hex, size_t hexlen)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t at = 0; at + 12 <= n;) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, p + at, 4);
        memcpy(&descsz, p + at + 4, 4);
        memcpy(&type, p + at + 8, 4);
        size_t name = at + 12, desc = name + ((namesz + 3) & ~3u), next = desc + ((descsz + 3) & ~3u);
        if (next > n || next <= at)
            return false;
        if (type == 3 && namesz == 4 && memcmp(p + name, "GNU", 4) == 0 && descsz * 2 < hexlen) {
            for (uint32_t i = 0; i < descsz; i++) {
                hex[2 * i] = digits[p[desc + i] >> 4];
                hex[2 * i + 1] = digits[p[desc + i] & 15];
            }
            hex[2 * descsz] = 0;
            return true;
        }
        at = next;
    }
    return false;
}

bool rc__build_id(const char *path, char *hex, size_t hexlen)
{
    int fd = rc__os_fd_open_read(path);
    if (fd < 0)
        return false;
    Elf64_Ehdr eh;
    bool found = false;
    if (rc__os_fd_pread(fd, &eh, sizeof eh, 0) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
        for (unsigned i = 0; i < eh.e_phnum && !found; i++) {
            Elf64_Phdr ph;
            unsigned char notes[1024];
            if (!rc__os_fd_pread(fd, &ph, sizeof ph, eh.e_phoff + i * sizeof ph) ||
                ph.p_type != PT_NOTE)
                continue;
            size_t n = ph.p_filesz < sizeof notes ? (size_t)ph.p_filesz : sizeof notes;
            found = rc__os_fd_pread(fd, notes, n, ph.p_offset) &&
                    build_id_in_notes(notes, n, hex, hexlen);
        }
    }
    rc__os_fd_close(fd);
    return found;
}
