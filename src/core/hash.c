/* 64-bit FNV-1a (Fowler–Noll–Vo), shared by every file format and table
 * that needs a cheap, stable hash. */
#include "hash.h"

uint64_t rc__fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
