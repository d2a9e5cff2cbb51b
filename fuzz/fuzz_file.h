/* Loaders take a path: the fuzz input is written to an in-memory file
 * (memfd) and handed over as /proc/self/fd/N, so the harnesses test the
 * public entry points exactly as programs call them.
 *
 * The binary formats carry checksums, which random mutation almost never
 * gets right: the harnesses load each input twice, as it is and with its
 * length field and checksums recomputed (as PNG fuzzers fix up CRCs), so
 * the checks behind the checksum are fuzzed too. */
#ifndef RC_FUZZ_FILE_H
#define RC_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct fuzz_file {
    int  fd;
    char path[64];
} fuzz_file;

/* An empty in-memory file, made on first use and reused. */
static const char *fuzz_file_path(fuzz_file *f, const char *name)
{
    if (!f->path[0]) {
        f->fd = memfd_create(name, 0);
        if (f->fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
    }
    if (ftruncate(f->fd, 0) != 0)
        abort();
    return f->path;
}

/* The file holding exactly data[0..size). */
static const char *fuzz_file_with(fuzz_file *f, const char *name, const uint8_t *data, size_t size)
{
    const char *path = fuzz_file_path(f, name);
    if (size && pwrite(f->fd, data, size, 0) != (ssize_t)size)
        abort();
    return path;
}

/* 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3),
 * the checksum of recycle's binary formats (docs/file-formats.md). */
static inline uint64_t fuzz_fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static inline uint64_t fuzz_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline void fuzz_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Loads the input as it is and, when it starts with the format's 8-byte
 * magic, once more with fix_up's recomputed length and checksums.  A file
 * that loads is consistent already: the fix-up must leave it unchanged. */
#define FUZZ_LOAD_AS_IS_AND_FIXED(data, size, magic, load, fix_up)                       \
    do {                                                                                 \
        int rc_ = load(data, size);                                                      \
        if ((size) >= 64 && memcmp(data, magic, 8) == 0) {                               \
            uint8_t *copy_ = malloc(size);                                               \
            memcpy(copy_, data, size);                                                   \
            fix_up(copy_, size);                                                         \
            FUZZ_CHECK(rc_ != 0 || memcmp(copy_, data, size) == 0, "fix-up changed a valid file"); \
            load(copy_, size);                                                           \
            free(copy_);                                                                 \
        }                                                                                \
    } while (0)

#define FUZZ_CHECK(cond, ...)                                          \
    do {                                                               \
        if (!(cond)) {                                                 \
            fprintf(stderr, "%s: %s: ", __FILE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                              \
            fputc('\n', stderr);                                       \
            abort();                                                   \
        }                                                              \
    } while (0)

#endif
