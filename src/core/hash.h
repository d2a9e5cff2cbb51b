/* 64-bit FNV-1a: the checksum of recycle's binary files and the hash of
 * interned strings and frames.  A header of its own because the tracer's
 * files are also built into the preload library, without the core. */
#ifndef RC_HASH_H
#define RC_HASH_H

#include <stddef.h>
#include <stdint.h>

#define RC_FNV_OFFSET 0xcbf29ce484222325ull
uint64_t rc__fnv1a(uint64_t h, const void *p, size_t n);

#endif
