/* A parent whose children do the work: `recycle run -C` sums them into
 * MEM, `recycle run -M` records each as its own CHLD series.
 *
 *     profile_children [N [MiB [ms]]]   (2 children, 50 MiB each, 600 ms) */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    size_t bytes = (size_t)(argc > 2 ? atol(argv[2]) : 50) << 20;
    useconds_t hold = (useconds_t)(argc > 3 ? atol(argv[3]) : 600) * 1000;
    for (int i = 0; i < n; i++) {
        if (fork() == 0) {
            volatile char *p = malloc(bytes);
            if (!p)
                _exit(1);
            for (size_t k = 0; k < bytes; k += 4096)
                p[k] = 5;
            usleep(hold);
            _exit(0);
        }
    }
    int status, failed = 0;
    while (wait(&status) > 0)
        failed |= !WIFEXITED(status) || WEXITSTATUS(status);
    return failed;
}
