/* recycle trace [-n frames] [-o snapshot] [--every SECONDS] -- prog args...
 * Runs prog with librecycle-trace.so preloaded (src/trace/preload/): every
 * malloc-family call and mmap is traced, and a snapshot of what is live is
 * written at exit, on SIGUSR2 and before a catchable fatal signal (OUT),
 * and every SECONDS (OUT.00001, OUT.00002, ...).  Children write OUT.PID; an image replaced by exec writes
 * OUT.execN (or OUT.PID.execN) first. */
#include "commands.h"
#include "trace_tool.h"
#include "../../src/prim/launch.h"
#include "../../src/trace/trace_env.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
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

/* The file execvp would run for name: searched along PATH when it has no
 * slash.  False when there is none. */
static bool find_program(const char *name, char *out, size_t n)
{
    if (strchr(name, '/')) {
        snprintf(out, n, "%s", name);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t len = strcspn(p, ":");
        int k = snprintf(out, n, "%.*s/%s", (int)len, len ? p : ".", name);
        if (k > 0 && (size_t)k < n && access(out, X_OK) == 0)
            return true;
        p += len + (p[len] == ':');
    }
    return false;
}

/* A 64-bit ELF executable without a PT_INTERP program header is linked
 * statically: no dynamic loader will ever read LD_PRELOAD for it.  Scripts
 * and other formats are left to run. */
static bool statically_linked(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Elf64_Ehdr eh;
    bool is_static = false;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
        is_static = true;
        for (unsigned i = 0; i < eh.e_phnum && is_static; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph ||
                ph.p_type == PT_INTERP)
                is_static = false;
        }
    }
    close(fd);
    return is_static;
}

/* What must hold before the program runs: a snapshot file that can be
 * written, and a program the preload library can enter.  CLI_EXIT_FAILURE
 * after saying what is wrong, CLI_EXIT_NOSTART when there is no program,
 * else 0. */
static int check_before_run(const char *prog, const char *out)
{
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "recycle trace: cannot write the snapshot %s: %s\n", out, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    close(fd);
    unlink(out);                       /* stale files must not pass for this run's */
    char path[PATH_MAX];
    if (!find_program(prog, path, sizeof path)) {
        fprintf(stderr, "recycle trace: cannot run %s: %s\n", prog, strerror(ENOENT));
        return CLI_EXIT_NOSTART;
    }
    if (statically_linked(path)) {
        fprintf(stderr,
                "recycle trace: %s is statically linked: LD_PRELOAD cannot work there (no dynamic loader reads it), "
                "so nothing could be traced\n", path);
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

/* Appends one --alloc-fn pattern to the newline-separated list. */
static bool add_alloc_fn(char *list, size_t size, const char *name)
{
    size_t used = strlen(list);
    if (!*name || strchr(name, '\n') || used + strlen(name) + 2 > size) {
        fprintf(stderr, "recycle trace: --alloc-fn takes one function name or pattern, not '%s'\n", name);
        return false;
    }
    snprintf(list + used, size - used, "%s%s", used ? "\n" : "", name);
    return true;
}

static int usage(int status)
{
    fprintf(status ? stderr : stdout,
            "usage: recycle trace [-n frames] [-o snapshot] [--every SECONDS] [--alloc-fn NAME]... -- prog args...\n"
            "  -n, --frames N   native frames per traceback (default 1, at most 128)\n"
            "  -o, --output F   snapshot file (default recycle-trace.snap; children write F.PID)\n"
            "  --every S        also write numbered snapshots every S seconds: F.00001, F.00002, ...\n"
            "  --alloc-fn NAME  an allocation wrapper (function name or fnmatch pattern; repeatable):\n"
            "                   reports skip its frames and show its callers (common wrappers of\n"
            "                   C++, glib, sqlite and the x*alloc family are skipped already)\n"
            "The snapshot is also written on SIGUSR2 and before a fatal signal.\n");
    return status;
}

static const char *env_name(rc_option_id id)
{
    return rc__option(id)->name;
}

/* Starts argv with the tracer preloaded and told where to write; the
 * child's pid, or -1 after saying why it could not start. */
static long start_traced(char **argv, const char *lib, const char *out, int frames, const char *every,
                         const char *alloc_fns)
{
    const char *old = getenv("LD_PRELOAD");
    char preload[PATH_MAX * 2], out_var[PATH_MAX + 32], frames_var[48], every_var[64], parent_var[48];
    char alloc_var[4096 + 32];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "");
    snprintf(out_var, sizeof out_var, "%s=%s", env_name(RC_TRACE_ENV_OUT), out);
    snprintf(frames_var, sizeof frames_var, "%s=%d", env_name(RC_TRACE_ENV_FRAMES), frames);
    snprintf(every_var, sizeof every_var, "%s=%s", env_name(RC_TRACE_ENV_EVERY), every ? every : "0");
    snprintf(parent_var, sizeof parent_var, "%s=%ld", env_name(RC_TRACE_ENV_PARENT), (long)getpid());
    snprintf(alloc_var, sizeof alloc_var, "%s=%s", env_name(RC_TRACE_ENV_ALLOC_FN), alloc_fns);
    const char *const set[] = {preload, out_var, frames_var, every_var, parent_var, alloc_var};
    char **env = rc__env_with(set, sizeof set / sizeof set[0]);
    int e = ENOMEM;
    long pid = env ? rc__launch(argv, env, false, &e) : -1;
    free(env);
    if (pid < 0)
        fprintf(stderr, "recycle trace: cannot run %s: %s\n", argv[0], strerror(e));
    return pid;
}

static bool all_digits(const char *p) { return *p && strspn(p, "0123456789") == strlen(p); }

/* "[PID.]execN", "[PID.]0NNNN" or "PID": the suffix of a snapshot of an
 * image replaced by exec, a periodic one (its leading zero tells it from a
 * pid), or one of another process. */
static bool other_suffix(const char *p)
{
    size_t digits = strspn(p, "0123456789");
    if (digits && p[0] != '0' && p[digits] == '.')
        p += digits + 1;
    else if (digits && p[0] != '0')
        return !p[digits];
    return (p[0] == '0' && all_digits(p)) || (strncmp(p, "exec", 4) == 0 && all_digits(p + 4));
}

/* The other snapshots of the run: of other processes (OUT.PID), of images
 * replaced by exec (OUT[.PID].execN), periodic ones (OUT[.PID].00001):
 * counts them, or removes them (those of an earlier run with the same OUT). */
static size_t child_files(const char *out, bool remove)
{
    char pattern[PATH_MAX + 8];
    glob_t g;
    size_t n = 0;
    snprintf(pattern, sizeof pattern, "%s.*", out);
    if (glob(pattern, 0, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if (!other_suffix(g.gl_pathv[i] + strlen(out) + 1))
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
        fprintf(stderr,
                "recycle trace: %zu other snapshot%s: of other processes (%s.PID), of images replaced by exec "
                "(%s[.PID].execN), periodic (%s[.PID].00001...)\n", n, n == 1 ? "" : "s", out, out, out);
}

int cmd_trace(int argc, char **argv)
{
    static const struct option longs[] = {
        {"frames", required_argument, NULL, 'n'}, {"output", required_argument, NULL, 'o'},
        {"every", required_argument, NULL, 'e'},  {"alloc-fn", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int frames = 1, c;
    const char *out = rc__option(RC_TRACE_ENV_OUT)->def, *every = NULL;
    char alloc_fns[4096] = "";
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
        case 'a':
            if (!add_alloc_fn(alloc_fns, sizeof alloc_fns, optarg))
                return CLI_EXIT_USAGE;
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
    int bad = check_before_run(argv[optind], out);
    if (bad)
        return bad;
    child_files(out, true);
    /* A signal to the group reaches the program too: forwarding it again
     * is harmless, and this process lives to report the snapshot. */
    static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR2};
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        signal(forwarded[i], forward);
    child = (pid_t)start_traced(argv + optind, lib, out, frames, every, alloc_fns);
    if (child < 0)
        return CLI_EXIT_NOSTART;
    int status = rc__wait(child);
    summarize(out);
    if (WIFSIGNALED(status))
        fprintf(stderr, "recycle trace: %s was killed by signal %d (%s)\n", argv[optind], WTERMSIG(status),
                strsignal(WTERMSIG(status)));
    return cli_exit_status(status);
}
