/* Brackets without touching the code: this file is compiled with
 * -finstrument-functions (cmake/deps.cmake), and librecycle's hooks record
 * every function call up to RECYCLE_PROFILE_DEPTH levels (default 4).
 *
 *     recycle run ./profile_instrumented && recycle report */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void step(int mib)
{
    volatile char *p = malloc((size_t)mib << 20);   /* volatile: kept, not optimized out */
    for (size_t i = 0; p && i < (size_t)mib << 20; i += 4096)
        p[i] = 2;
    usleep(40000);
    free((char *)p);
}

static void work(void)
{
    step(8);
    step(16);
}

static void countdown(int n)
{
    volatile char *p = malloc(4 << 20);
    for (size_t i = 0; p && i < 4 << 20; i += 4096)
        p[i] = 3;
    usleep(20000);
    if (n > 0)
        countdown(n - 1);
    free((char *)p);
}

int main(void)
{
    usleep(30000);
    work();
    countdown(3);
    usleep(30000);
    return 0;
}
