/* An ordinary C program with threads that knows nothing of recycle: the
 * subject of the whole-process tracer's tests (tests/test_trace_preload.c
 * finds the allocation sites by their SITE: markers).
 *   trace_prog          allocate, free some, exit
 *   trace_prog fork     also fork a child that allocates and exits
 *   trace_prog wait     allocate, print "ready", then sleep until killed
 *   trace_prog term     allocate, then raise SIGTERM
 *   trace_prog segv     allocate, then write through a null pointer
 *   trace_prog churn[-HOW]  allocate, then malloc/free in three threads,
 *                       print "ready"; HOW ends it while they churn:
 *                       none (wait to be killed), fork (a churning child
 *                       too, then wait), abort, _exit, exit, exec (run
 *                       this program again as "exec-child"), segv;
 *                       handler / signal: wait to be killed, with a
 *                       SIGTERM handler of its own (sigaction, signal)
 *                       that ends the process with _exit(7) / exit(7)
 *   trace_prog exec-child   allocate and exit */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { NTHREADS = 4, PER_THREAD = 100 };

/* Global and read at the end, so the compiler cannot drop the allocations. */
void *keep[1024];
int nkeep;

/* Makes p escape: the compiler must perform the malloc/free around it. */
__attribute__((noinline)) void touch(void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}
static pthread_mutex_t keep_lock = PTHREAD_MUTEX_INITIALIZER;

static void hold(void *p)
{
    pthread_mutex_lock(&keep_lock);
    keep[nkeep++] = p;
    pthread_mutex_unlock(&keep_lock);
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        hold(calloc(1, 256));                  /* SITE:thread_calloc */
        void *tmp = malloc(5000);              /* SITE:thread_churn */
        touch(tmp);
        free(tmp);
    }
    return NULL;
}

static __attribute__((noinline)) char *grow_buffer(void)
{
    char *b = NULL;
    for (size_t n = 1000; n <= 50000; n += 7000)
        b = realloc(b, n);                     /* SITE:realloc */
    touch(b);                                  /* no tail call: keep this frame */
    return b;
}

static volatile int churning = 1;

static void *churn_thread(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    while (churning) {
        void *p = malloc(n);                   /* SITE:churn */
        touch(p);
        free(p);
        n = n * 7 % 4000 + 16;
    }
    return NULL;
}

static void churn_threads(void)
{
    pthread_t t;
    for (uintptr_t i = 1; i <= 2; i++)
        pthread_create(&t, NULL, churn_thread, (void *)(i * 100));
}

static void say_ready(void)
{
    printf("ready\n");
    fflush(stdout);
}

/* Churns in this thread for about ms milliseconds (forever when < 0). */
static void churn_here(int ms)
{
    for (long i = 0; ms < 0 || i < ms * 20L; i++) {
        void *p = malloc(24);
        touch(p);
        free(p);
        if (i % 64 == 0)
            usleep(1);
    }
}

static void exit_7(int sig)
{
    (void)sig;
    exit(7);
}

static void quick_exit_7(int sig, siginfo_t *info, void *uc)
{
    (void)sig, (void)info, (void)uc;
    _exit(7);
}

static void own_handler(const char *how)
{
    if (strcmp(how, "signal") == 0) {
        signal(SIGTERM, exit_7);
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = quick_exit_7;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGTERM, &sa, NULL);
}

/* churn-HOW: the end comes while every thread is inside malloc or free. */
static void churn_then(const char *how, char *self)
{
    if (strcmp(how, "handler") == 0 || strcmp(how, "signal") == 0) {
        own_handler(how);
        how = "";
    }
    if (strcmp(how, "fork") == 0 && fork() == 0) {
        churn_threads();
        churn_here(-1);
    }
    churn_threads();
    say_ready();
    if (!*how || strcmp(how, "fork") == 0)
        churn_here(-1);
    churn_here(20);
    if (strcmp(how, "abort") == 0)
        abort();
    if (strcmp(how, "_exit") == 0)
        _exit(3);
    if (strcmp(how, "exit") == 0)
        exit(3);
    if (strcmp(how, "exec") == 0)
        execl(self, self, "exec-child", (char *)NULL);
    if (strcmp(how, "segv") == 0) {
        volatile int *null = (volatile int *)(uintptr_t)(nkeep / 1000);
        *null = 1;
    }
    fprintf(stderr, "trace_prog: no way to end called %s\n", how);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    for (int i = 0; i < 10; i++)
        hold(malloc(1000));                    /* SITE:main_malloc */
    for (int i = 0; i < 5; i++)
        hold(strdup("seventeen letters"));     /* SITE:strdup */
    hold(grow_buffer());
    void *al = NULL;
    if (posix_memalign(&al, 4096, 8192) == 0)  /* SITE:posix_memalign */
        hold(al);
    hold(aligned_alloc(64, 640));              /* SITE:aligned_alloc */
    hold(memalign(256, 300));                  /* SITE:memalign */
    hold(valloc(100));                         /* SITE:valloc */
    hold(strndup("seventeen letters", 5));     /* SITE:strndup */
    void *gone_by_realloc = malloc(333);        /* SITE:realloc_zero */
    touch(realloc(gone_by_realloc, 0));         /* glibc: frees it */
    void *arr = reallocarray(NULL, 10, 12);
    hold(reallocarray(arr, 20, 12));           /* SITE:reallocarray */
    void *map = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); /* SITE:mmap */
    void *gone = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, 1 << 16);

    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);

    if (strcmp(mode, "fork") == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            for (int i = 0; i < 3; i++)
                hold(malloc(777));             /* SITE:child_malloc */
            exit(0);
        }
        waitpid(pid, NULL, 0);
    }
    if (strncmp(mode, "churn", 5) == 0)
        churn_then(mode[5] == '-' ? mode + 6 : "", argv[0]);
    if (strcmp(mode, "exec-child") == 0)
        for (int i = 0; i < 4; i++)
            hold(malloc(4321));                /* SITE:exec_child */
    if (strcmp(mode, "term") == 0)
        raise(SIGTERM);
    if (strcmp(mode, "segv") == 0) {
        volatile int *null = (volatile int *)(uintptr_t)(nkeep / 1000);   /* nkeep < 1000: 0 */
        *null = 1;
    }
    if (strcmp(mode, "wait") == 0) {
        printf("ready\n");
        fflush(stdout);
        for (int i = 0; i < 200; i++)
            usleep(50000);
    }
    uintptr_t sum = 0;
    for (int i = 0; i < nkeep; i++)
        sum ^= (uintptr_t)keep[i];
    printf("%d blocks held (%lx), mapping at %p\n", nkeep, (unsigned long)sum, map);
    return 0;
}
