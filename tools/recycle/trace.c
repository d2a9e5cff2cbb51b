/* recycle trace [-n frames] [-o snapshot] [--every SECONDS] -- prog args...
 * Runs prog with librecycle-trace.so preloaded (src/trace/preload/): every
 * malloc-family call and mmap is traced, and a snapshot of what is live is
 * written at exit, on SIGUSR2, every SECONDS, and before a catchable fatal
 * signal.  Children write OUT.PID. */
#include "commands.h"
#include "trace_tool.h"
#include "../../src/prim/launch.h"
#include "../../src/trace/trace_env.h"

#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef RC_PRELOAD_INSTALLED
#define RC_PRELOAD_INSTALLED "/usr/local/lib/librecycle-trace.so"
#endif

static pid_t child;

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
}

/* $RECYCLE_TRACE_LIB, else beside this program (the build tree), else the
 * installed library. */
static bool find_preload(char *out, size_t n)
{
    const char *env = rc__option_text(RC_TRACE_ENV_LIB);
    if (*env) {
        snprintf(out, n, "%s", env);
        return access(out, R_OK) == 0;
    }
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) {
        self[len] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            int k = snprintf(out, n, "%s/librecycle-trace.so", self);
            if (k > 0 && (size_t)k < n && access(out, R_OK) == 0)
                return true;
        }
    }
    snprintf(out, n, "%s", RC_PRELOAD_INSTALLED);
    return access(out, R_OK) == 0;
}

static int usage(int status)
{
    fprintf(status ? stderr : stdout,
            "usage: recycle trace [-n frames] [-o snapshot] [--every SECONDS] -- prog args...\n"
            "  -n, --frames N   native frames per traceback (default 1, at most 128)\n"
            "  -o, --output F   snapshot file (default recycle-trace.snap; children write F.PID)\n"
            "  --every S        also write the snapshot every S seconds\n"
            "The snapshot is also written on SIGUSR2 and before a fatal signal.\n");
    return status;
}

static const char *env_name(rc_option_id id)
{
    return rc__option(id)->name;
}

/* Starts argv with the tracer preloaded and told where to write; the
 * child's pid, or -1 after saying why it could not start. */
static long start_traced(char **argv, const char *lib, const char *out, int frames, const char *every)
{
    const char *old = getenv("LD_PRELOAD");
    char preload[PATH_MAX * 2], out_var[PATH_MAX + 32], frames_var[48], every_var[64], parent_var[48];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "");
    snprintf(out_var, sizeof out_var, "%s=%s", env_name(RC_TRACE_ENV_OUT), out);
    snprintf(frames_var, sizeof frames_var, "%s=%d", env_name(RC_TRACE_ENV_FRAMES), frames);
    snprintf(every_var, sizeof every_var, "%s=%s", env_name(RC_TRACE_ENV_EVERY), every ? every : "0");
    snprintf(parent_var, sizeof parent_var, "%s=%ld", env_name(RC_TRACE_ENV_PARENT), (long)getpid());
    const char *const set[] = {preload, out_var, frames_var, every_var, parent_var};
    char **env = rc__env_with(set, sizeof set / sizeof set[0]);
    int e = ENOMEM;
    long pid = env ? rc__launch(argv, env, false, &e) : -1;
    free(env);
    if (pid < 0)
        fprintf(stderr, "recycle trace: cannot run %s: %s\n", argv[0], strerror(e));
    return pid;
}

/* The snapshots of other processes of the run, OUT.PID: counts them, or
 * removes them (those of an earlier run with the same OUT). */
static size_t child_files(const char *out, bool remove)
{
    char pattern[PATH_MAX + 8];
    glob_t g;
    size_t n = 0;
    snprintf(pattern, sizeof pattern, "%s.[0-9]*", out);
    if (glob(pattern, 0, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *p = g.gl_pathv[i] + strlen(out) + 1;
        if (strspn(p, "0123456789") != strlen(p))
            continue;                  /* OUT.PID.tmp, or not ours */
        n++;
        if (remove)
            unlink(g.gl_pathv[i]);
    }
    globfree(&g);
    return n;
}

static void summarize(const char *out)
{
    char size[32], peak[32];
    rc_snapshot *s;
    if (rc_snapshot_load(out, &s) != 0) {
        fprintf(stderr, "recycle trace: no complete snapshot: %s\n", rc_last_error(NULL));
        return;
    }
    size_t cur, pk;
    rc_snapshot_traced_memory(s, &cur, &pk);
    rc_trace_format_size((double)rc_snapshot_size(s), false, size, sizeof size);
    rc_trace_format_size((double)pk, false, peak, sizeof peak);
    fprintf(stderr, "recycle trace: %s: %zu live blocks, %s (peak %s); see recycle trace-stats %s\n", out,
            rc_snapshot_count(s), size, peak, out);
    rc_snapshot_free(s);
    size_t n = child_files(out, false);
    if (n)
        fprintf(stderr, "recycle trace: %zu snapshot%s of other processes (forks and programs it ran): %s.PID\n", n,
                n == 1 ? "" : "s", out);
}

int cmd_trace(int argc, char **argv)
{
    static const struct option longs[] = {
        {"frames", required_argument, NULL, 'n'}, {"output", required_argument, NULL, 'o'},
        {"every", required_argument, NULL, 'e'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int frames = 1, c;
    const char *out = rc__option(RC_TRACE_ENV_OUT)->def, *every = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+n:o:h", longs, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'n':
            frames = (int)strtol(optarg, &end, 10);
            if (*end || frames < 1 || frames > 128) {
                fprintf(stderr, "recycle trace: -n takes 1..128 frames, not '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'o': out = optarg; break;
        case 'e':
            if (strtod(optarg, &end) <= 0 || *end) {
                fprintf(stderr, "recycle trace: --every takes seconds > 0, not '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            every = optarg;
            break;
        case 'h': return usage(0);
        default: return usage(CLI_EXIT_USAGE);
        }
    }
    if (optind >= argc)
        return usage(CLI_EXIT_USAGE);
    char abs_out[PATH_MAX], cwd[PATH_MAX];
    if (out[0] != '/' && getcwd(cwd, sizeof cwd)) {
        /* absolute, so a program that changes directory writes it here */
        int k = snprintf(abs_out, sizeof abs_out, "%s/%s", cwd, out);
        if (k > 0 && (size_t)k < sizeof abs_out)
            out = abs_out;
    }
    char lib[PATH_MAX];
    if (!find_preload(lib, sizeof lib)) {
        fprintf(stderr, "recycle trace: cannot find librecycle-trace.so (tried %s); set %s\n", lib,
                env_name(RC_TRACE_ENV_LIB));
        return CLI_EXIT_FAILURE;
    }
    unlink(out);                       /* stale files must not pass for this run's */
    child_files(out, true);
    signal(SIGINT, forward);
    signal(SIGTERM, forward);
    signal(SIGUSR2, forward);
    child = (pid_t)start_traced(argv + optind, lib, out, frames, every);
    if (child < 0)
        return CLI_EXIT_NOSTART;
    int status = rc__wait(child);
    summarize(out);
    if (WIFSIGNALED(status))
        fprintf(stderr, "recycle trace: %s was killed by signal %d (%s)\n", argv[optind], WTERMSIG(status),
                strsignal(WTERMSIG(status)));
    return cli_exit_status(status);
}
