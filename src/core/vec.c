/* Growable arrays for bookkeeping that lives outside the heap's pools. */
#include "internal.h"

#include <stdlib.h>

bool rc__vec_reserve(void *arr, size_t *cap, size_t need, size_t elem, size_t first, size_t max)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : first;
    while (n < need)
        n *= 2;
    if (n > max || n > SIZE_MAX / elem)
        return false;
    void **p = arr;
    void *v = realloc(*p, n * elem);
    if (!v)
        return false;
    *p = v;
    *cap = n;
    return true;
}
