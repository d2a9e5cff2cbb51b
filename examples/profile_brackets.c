/* Function brackets from C: run it under `recycle run` and plot it.
 *
 *     recycle run ./profile_brackets && recycle plot
 *
 * outer() holds 10 MiB and calls leaf() twice (20 MiB each, nested
 * brackets); recurse() takes 5 MiB per level, four levels deep.  With the
 * argument "crash" the program kills itself inside a bracket: the brackets
 * that ended are in the file, the open one is not. */
#include <recycle.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *grab(size_t mib)
{
    /* Written through volatile so the compiler cannot drop the memory. */
    volatile char *p = malloc(mib << 20);
    for (size_t i = 0; p && i < mib << 20; i += 4096)
        p[i] = 1;
    return (char *)p;
}

static void leaf(void)
{
    RC_PROFILE_FUNC();
    char *p = grab(20);
    usleep(60000);
    free(p);
}

static void outer(void)
{
    RC_PROFILE_FUNC();
    char *p = grab(10);
    usleep(30000);
    leaf();
    leaf();
    usleep(30000);
    free(p);
}

static void recurse(int n)
{
    RC_PROFILE_FUNC();
    char *p = grab(5);
    usleep(30000);
    if (n > 1)
        recurse(n - 1);
    free(p);
}

int main(int argc, char **argv)
{
    usleep(50000);
    outer();
    usleep(50000);
    recurse(4);
    usleep(50000);
    if (argc > 1 && !strcmp(argv[1], "crash")) {
        rc_profile_begin("doomed");
        raise(SIGKILL);
    }
    return 0;
}
