/* Hash functions.  Numbers hash as in Python (reduction modulo the Mersenne
 * prime 2^61 - 1), so that 1, 1.0 and True, which compare equal, also hash
 * equal and find the same dict entry.  Text and bytes use a multiply-mix
 * hash over 8-byte words (not Python's SipHash: recycle heaps are not fed
 * by untrusted network input; docs/types.md). */
#include "types.h"

#include <math.h>

#define HASH_BITS 61
#define HASH_MOD  (((uint64_t)1 << HASH_BITS) - 1)
#define HASH_INF  314159

static int64_t no_minus_one(int64_t h)
{
    return h == -1 ? -2 : h;
}

/* Python's _Py_HashDouble: the value's binary fraction, 28 bits at a time,
 * reduced modulo 2^61 - 1, then the exponent applied as a rotation. */
int64_t rc__hash_double(double v, const void *obj)
{
    if (isnan(v)) return no_minus_one((int64_t)((uintptr_t)obj >> 4));
    if (isinf(v)) return v > 0 ? HASH_INF : -HASH_INF;
    int e;
    double m = frexp(v, &e);
    int sign = 1;
    if (m < 0) {
        sign = -1;
        m = -m;
    }
    uint64_t x = 0;
    while (m) {
        x = ((x << 28) & HASH_MOD) | x >> (HASH_BITS - 28);
        m *= 268435456.0;   /* 2**28 */
        e -= 28;
        uint64_t y = (uint64_t)m;
        m -= (double)y;
        x += y;
        if (x >= HASH_MOD) x -= HASH_MOD;
    }
    e = e >= 0 ? e % HASH_BITS : HASH_BITS - 1 - ((-1 - e) % HASH_BITS);
    x = ((x << e) & HASH_MOD) | x >> (HASH_BITS - e);
    return no_minus_one((int64_t)x * sign);
}

static uint64_t mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint32_t load32(const unsigned char *s)
{
    uint32_t w;
    memcpy(&w, s, 4);
    return w;
}

/* The last n < 8 bytes as one word (byte i at bits 8i on little-endian
 * machines, as the 8-byte loads read them), from two overlapping loads
 * instead of a loop: short keys are the common case, and the loop was a
 * third of their hash. */
static uint64_t tail_word(const unsigned char *s, size_t n)
{
    if (n >= 4) return load32(s) | (uint64_t)load32(s + n - 4) << (8 * (n - 4));
    if (n == 0) return 0;
    return s[0] | (uint64_t)s[n / 2] << (8 * (n / 2)) | (uint64_t)s[n - 1] << (8 * (n - 1));
}

int64_t rc__hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    const uint64_t k0 = 0x9E3779B97F4A7C15ull, k1 = 0xD6E8FEB86659FD93ull;
    uint64_t h = k0 ^ (n * k1);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = mix(h ^ w, k1);
        s += 8;
        n -= 8;
    }
    h = mix(h ^ tail_word(s, n), k0);
    h = mix(h, k1);
    return no_minus_one((int64_t)h);
}
