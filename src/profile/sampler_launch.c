/* What the sampler starts: the profiled program's command line as mprof
 * records it, its environment (RECYCLE_PROFILE_FILE for the brackets),
 * mprof's Python mode with the interpreter that has memory_profiler, and
 * finding a process to attach to by name.  Starting it is
 * src/prim/launch.c's. */
#include "recycle-tools.h"
#include "sampler_launch.h"
#include "../core/options.h"
#include "../prim/launch.h"
#include "../prim/proc_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *rc_sampler_cmdline(char *const argv[])
{
    size_t len = 1;
    for (int i = 0; argv[i]; i++)
        len += strlen(argv[i]) + 3;
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    *p = 0;
    for (int i = 0; argv[i]; i++) {
        bool quote = strpbrk(argv[i], " \t") != NULL;   /* as mprof's get_cmd_line */
        p += sprintf(p, "%s%s%s%s", i ? " " : "", quote ? "'" : "", argv[i], quote ? "'" : "");
    }
    return s;
}

char **rc__sampler_env(const char *path)
{
    const char *name = rc__option(RC_OPT_PROFILE_FILE)->name;
    size_t len = strlen(name) + strlen(path) + 2;      /* "NAME=PATH" */
    char *var = malloc(len);
    if (!var)
        return NULL;
    snprintf(var, len, "%s=%s", name, path);
    char **env = rc__env_with((const char *const[]){var}, 1);
    free(var);
    return env;
}

/* ---- mprof's Python mode ------------------------------------------------ */

static bool is_python(const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    return !strncmp(base, "python", 6);
}

static bool imports_memory_profiler(const char *python)
{
    char *const probe[] = {(char *)python, "-c", "import memory_profiler", NULL};
    int e;
    long pid = rc__launch(probe, NULL, true, &e);
    int status = pid > 0 ? rc__wait(pid) : -1;
    return status == 0;
}

/* The interpreter of python3-mprof's "#!" line: the one mprof itself runs
 * scripts with (its sys.executable).  "" when there is no python3-mprof. */
static void mprof_interpreter(char *buf, size_t size)
{
    char line[512] = "";
    FILE *f = fopen("/usr/bin/python3-mprof", "r");
    buf[0] = 0;
    if (!f)
        return;
    if (fgets(line, sizeof line, f) && !strncmp(line, "#!", 2)) {
        char *save, *word = strtok_r(line + 2, " \t\n", &save);
        if (word && !strcmp(strrchr(word, '/') ? strrchr(word, '/') + 1 : word, "env"))
            word = strtok_r(NULL, " \t\n", &save);      /* #!/usr/bin/env python3 */
        if (word)
            snprintf(buf, size, "%s", word);
    }
    fclose(f);
}

/* Leaves the one-line reason as the thread's last error. */
static void explain_missing(const char *const tried[], size_t n)
{
    char list[600] = "";
    for (size_t i = 0, len = 0; i < n && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", tried[i]);
    rc_set_error(NULL, RC_ENOTSUP,
                 "no Python here can import memory_profiler (tried %s); install"
                 " python3-memory-profiler, point %s at a python that has it, or use"
                 " --nopython to sample without @profile brackets",
                 list, rc__option(RC_OPT_PYTHON)->name);
}

/* As mprof: the interpreter named on the command line or in
 * RECYCLE_PYTHON when there is one, else python3-mprof's own, else
 * python3 on PATH; the first of them that has memory_profiler.  NULL
 * (said in the last error) when none has it; buf may hold the answer. */
static const char *pick_python(const char *argv0, char *buf, size_t size)
{
    const char *env = rc__option_text(RC_OPT_PYTHON);
    const char *tried[2];
    size_t n = 0;
    if (is_python(argv0))
        tried[n++] = argv0;
    else if (*env)
        tried[n++] = env;
    else {
        mprof_interpreter(buf, size);
        if (*buf)
            tried[n++] = buf;
        tried[n++] = "python3";
    }
    for (size_t i = 0; i < n; i++)
        if (imports_memory_profiler(tried[i]))
            return tried[i];
    explain_missing(tried, n);
    return NULL;
}

/* argv's slots and, after them, a copy of the interpreter's path, in one
 * allocation so the argv owns the one string it does not borrow. */
static char **argv_with_interpreter(size_t slots, const char *py)
{
    char **v = calloc(1, slots * sizeof *v + strlen(py) + 1);
    if (v)
        v[0] = strcpy((char *)(v + slots), py);
    return v;
}

char **rc__launch_python_argv(const rc_sampler_opts *o, char *const argv[], const char *out,
                              char ***shown, int *err)
{
    size_t n = 0;
    while (argv[n])
        n++;
    char buf[256];
    const char *py = pick_python(argv[0], buf, sizeof buf);
    *err = py ? RC_ENOMEM : RC_ENOTSUP;
    char **full = py ? argv_with_interpreter(n + 9, py) : NULL;
    char **cmd = full ? calloc(n + 2, sizeof *cmd) : NULL;
    if (!cmd) {
        free(full);
        return NULL;
    }
    size_t k = 1, c = 1;
    cmd[0] = full[0];
    const char *extra[] = {"-m", "memory_profiler", "--timestamp", "-o", out};
    for (size_t i = 0; i < 5; i++)
        full[k++] = (char *)extra[i];
    if (o->include_children)
        full[k++] = "--include-children";
    for (size_t i = is_python(argv[0]) ? 1 : 0; i < n; i++)
        full[k++] = cmd[c++] = argv[i];
    *shown = cmd;
    *err = 0;
    return full;
}

bool rc__launch_python_mode(const rc_sampler_opts *o, char *const argv[])
{
    size_t len = strlen(argv[0]);
    return o->python > 0 || (o->python == 0 && len > 3 && !strcmp(argv[0] + len - 3, ".py"));
}

/* ---- finding a process -------------------------------------------------- */

long rc_sampler_find_pid(const char *name_or_pid)
{
    char *end;
    long pid = strtol(name_or_pid, &end, 10);
    if (*name_or_pid && !*end)
        return rc__proc_exists(pid) ? pid : rc_set_error(NULL, RC_ENOENT, "no process %s", name_or_pid);
    long *pids, found = RC_ENOENT;
    size_t n;
    if (rc__proc_pids(&pids, &n))
        return rc_set_error(NULL, RC_EIO, "cannot list the processes in /proc");
    for (size_t i = 0; i < n && found < 0; i++) {
        char path[64], comm[64] = "";
        snprintf(path, sizeof path, "/proc/%ld/comm", pids[i]);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof comm, f) && strstr(comm, name_or_pid) && pids[i] != rc__proc_self())
            found = pids[i];
        fclose(f);
    }
    free(pids);
    if (found < 0)
        rc_set_error(NULL, RC_ENOENT, "no process whose name contains '%s'", name_or_pid);
    return found;
}
