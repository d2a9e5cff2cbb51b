/* bench/profile: CPU the memory sampler costs, recycle's against Debian's
 * python3-mprof (memory_profiler's sampler), on the same idle program
 * (/bin/sleep) in the same run.
 *
 * recycle's sampler runs in this process, so getrusage(RUSAGE_SELF) is its
 * cost alone (the sleeping child is not counted).  python3-mprof runs as a
 * child; wait4 gives its CPU plus its sleeping child's (nothing).  Start-up
 * is taken out by also timing a zero-length run: the figure is the steady
 * cost per second of sampling, as a share of one core.
 * Targets: < 1 % of a core at 100 ms, < 5 % at 1 ms.
 * Also: how often each catches a 200 MiB spike between 100 ms samples
 * (examples/profile_spike), and what a bracket costs a program that is not
 * being profiled. */
#include <recycle-tools.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SECONDS 3.0

typedef struct cost {
    double cpu;        /* seconds of CPU */
    double wall;       /* seconds */
    size_t samples;
} cost;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double tv(struct timeval t) { return (double)t.tv_sec + t.tv_usec * 1e-6; }

static size_t count_samples(const char *path)
{
    rc_mprof *p;
    if (rc_mprof_load(path, &p))
        return 0;
    size_t n = p->nmem;
    rc_mprof_free(p);
    return n;
}

static cost run_recycle(double interval, const char *secs, const char *out)
{
    char *argv[] = {"sleep", (char *)secs, NULL};
    rc_sampler_opts o = {.interval = interval, .output = out};
    rc_sampler_result r;
    struct rusage a, b;
    unlink(out);
    getrusage(RUSAGE_SELF, &a);
    double t0 = now();
    if (rc_sampler_run(&o, argv, &r)) {
        fprintf(stderr, "bench/profile: recycle's sampler failed\n");
        exit(1);
    }
    double t1 = now();
    getrusage(RUSAGE_SELF, &b);
    double cpu = tv(b.ru_utime) - tv(a.ru_utime) + tv(b.ru_stime) - tv(a.ru_stime);
    return (cost){cpu, t1 - t0, r.samples};
}

static cost run_mprof(double interval, const char *secs, const char *out)
{
    char t[32];
    snprintf(t, sizeof t, "%g", interval);
    unlink(out);
    double t0 = now();
    fflush(stdout);   /* or the child's exit flushes our buffered table too */
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(126);
        execl("/usr/bin/python3-mprof", "python3-mprof", "run", "-T", t, "-o", out, "sleep", secs,
              (char *)NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    double t1 = now();
    if (!WIFEXITED(status) || WEXITSTATUS(status))
        return (cost){-1, 0, 0};
    return (cost){tv(ru.ru_utime) + tv(ru.ru_stime), t1 - t0, count_samples(out)};
}

typedef cost (*runner)(double, const char *, const char *);

/* The run of median CPU among RUNS runs (a failed run: cpu < 0).  A
 * start-up of python3-mprof costs a few hundred ms of CPU and varies by
 * tens, as much as 3 s of sampling at 100 ms: one run of each length could
 * even give a negative difference. */
#define RUNS 3
static cost median_run(runner fn, double interval, const char *secs, const char *out)
{
    cost c[RUNS];
    for (int i = 0; i < RUNS; i++)
        if ((c[i] = fn(interval, secs, out)).cpu < 0)
            return c[i];
    for (int i = 1; i < RUNS; i++)
        for (int j = i; j > 0 && c[j].cpu < c[j - 1].cpu; j--) {
            cost t = c[j];
            c[j] = c[j - 1];
            c[j - 1] = t;
        }
    return c[RUNS / 2];
}

/* Steady-state share of a core: the extra CPU of a SECONDS-long run over
 * a zero-length one (medians of RUNS each), per second of extra wall time. */
static void measure(runner fn, double interval, const char *out, double *share, double *rate,
                    double *per_sample_us)
{
    char secs[16];
    snprintf(secs, sizeof secs, "%g", SECONDS);
    cost zero = median_run(fn, interval, "0", out), full = median_run(fn, interval, secs, out);
    if (zero.cpu < 0 || full.cpu < 0) {
        *share = *rate = *per_sample_us = -1;
        return;
    }
    double wall = full.wall - zero.wall, cpu = full.cpu - zero.cpu;
    *share = 100.0 * (cpu > 0 ? cpu : 0) / wall;
    *rate = (double)(full.samples - zero.samples) / wall;
    *per_sample_us = full.samples > zero.samples ? 1e6 * cpu / (double)(full.samples - zero.samples) : 0;
}

/* Exact peak of a .dat file (mprof's own reading is its MEM maximum). */
static double file_peak(const char *path, bool exact)
{
    rc_mprof *p;
    if (rc_mprof_load(path, &p))
        return -1;
    double m = exact ? rc_mprof_peak(p, NULL) : 0;
    for (size_t i = 0; !exact && i < p->nmem; i++)
        m = p->mem[i].mib > m ? p->mem[i].mib : m;
    rc_mprof_free(p);
    return m;
}

/* Runs examples/profile_spike (200 MiB held 20 ms) `runs` times under each
 * sampler at 100 ms; counts the runs whose recorded peak shows it. */
static void spike_table(const char *spike, const char *out, bool have_mprof)
{
    const int runs = 5;
    int ours = 0, theirs = 0;
    for (int i = 0; i < runs; i++) {
        char *argv[] = {(char *)spike, "200", "20", "150", "250", NULL};
        rc_sampler_opts o = {.interval = 0.1, .output = out};
        rc_sampler_result r;
        unlink(out);
        if (rc_sampler_run(&o, argv, &r) == 0)
            ours += file_peak(out, true) >= 200;
        if (!have_mprof)
            continue;
        char cmd[2400];
        unlink(out);
        snprintf(cmd, sizeof cmd, "/usr/bin/python3-mprof run -T 0.1 -o %s %s 200 20 150 250 >/dev/null 2>&1",
                 out, spike);
        if (system(cmd) == 0)
            theirs += file_peak(out, false) >= 200;
    }
    printf("\n200 MiB spike held 20 ms, 100 ms samples: caught in %d of %d runs by recycle run", ours, runs);
    if (have_mprof)
        printf(", %d of %d by python3-mprof run", theirs, runs);
    printf("\n(faulting 200 MiB in takes ~50 ms here, so samples sometimes land on it)\n");
}

static void __attribute__((noinline)) bracketed(void)
{
    RC_PROFILE_FUNC();
    __asm__ volatile("" ::: "memory");
}

/* ns per RC_PROFILE_FUNC() scope outside recycle run (the variable unset). */
static double bracket_cost_ns(void)
{
    unsetenv("RECYCLE_PROFILE_FILE");
    const long n = 20 * 1000 * 1000;
    double t0 = now();
    for (long i = 0; i < n; i++)
        bracketed();
    return (now() - t0) * 1e9 / (double)n;
}

int main(void)
{
    char out[64];
    snprintf(out, sizeof out, "/tmp/rc_bench_profile_%d.dat", (int)getpid());
    bool have_mprof = access("/usr/bin/python3-mprof", X_OK) == 0;
    printf("sampler CPU on an idle program (sleep %gs), steady state, median of %d runs\n", SECONDS, RUNS);
    printf("%-20s %9s %10s %14s %12s %10s %8s\n", "sampler", "interval", "samples/s", "us CPU/sample",
           "% of a core", "vs mprof", "target");
    const double intervals[] = {0.1, 0.001};
    const char *targets[] = {"< 1 %", "< 5 %"};
    for (int i = 0; i < 2; i++) {
        double share, rate, us, mshare = -1, mrate = 0, mus = 0;
        measure(run_recycle, intervals[i], out, &share, &rate, &us);
        if (have_mprof)
            measure(run_mprof, intervals[i], out, &mshare, &mrate, &mus);
        char ratio[32] = "n/a";
        if (mshare > 0 && share > 0)
            snprintf(ratio, sizeof ratio, "%.1fx less", mshare / share);
        printf("%-20s %7.0fms %10.1f %14.1f %11.3f%% %10s %8s %s\n", "recycle run", intervals[i] * 1e3,
               rate, us, share, ratio, targets[i], share < (i ? 5 : 1) ? "met" : "MISSED");
        if (mshare >= 0)
            printf("%-20s %7.0fms %10.1f %14.1f %11.3f%% %10s\n", "python3-mprof run",
                   intervals[i] * 1e3, mrate, mus, mshare, "1.0x");
        else
            printf("%-20s %7.0fms  (python3-mprof not installed: scripts/deps.sh)\n",
                   "python3-mprof run", intervals[i] * 1e3);
    }
    char spike[1024];
    ssize_t len = readlink("/proc/self/exe", spike, sizeof spike - 64);
    if (len > 0) {   /* bench/profile -> examples/profile_spike of the same build */
        spike[len] = 0;
        char *slash = strrchr(spike, '/');
        *slash = 0;
        slash = strrchr(spike, '/');
        strcpy(slash ? slash + 1 : spike, "examples/profile_spike");
        if (access(spike, X_OK) == 0)
            spike_table(spike, out, have_mprof);
    }
    unlink(out);
    printf("\nRC_PROFILE_FUNC() outside recycle run: %.2f ns per bracketed call "
           "(call + two predictable branches)\n", bracket_cost_ns());
    return 0;
}
