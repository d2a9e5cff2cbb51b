/* Starting the profiled program: its command line as mprof records it,
 * its environment (RECYCLE_PROFILE_FILE for the brackets), fork and exec
 * with the exec error reported back, mprof's Python mode, and finding a
 * process to attach to by name. */
#include "recycle-tools.h"
#include "sampler_launch.h"
#include "../core/options.h"
#include "../prim/proc_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* The environment for the child: ours plus RECYCLE_PROFILE_FILE. */
char **rc__launch_env(const char *path)
{
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    const char *name = rc__option(RC_OPT_PROFILE_FILE)->name;
    size_t prefix = strlen(name) + 1;          /* "NAME=" */
    char **env = calloc(n + 2, sizeof *env);
    size_t len = prefix + strlen(path) + 1;
    char *var = malloc(len);
    if (!env || !var) {
        free(env);
        free(var);
        return NULL;
    }
    snprintf(var, len, "%s=%s", name, path);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], var, prefix))
            env[k++] = environ[i];
    env[k++] = var;
    env[k] = NULL;
    return env;
}

void rc__launch_env_free(char **env)
{
    if (!env)
        return;
    size_t k = 0;
    while (env[k + 1])
        k++;
    free(env[k]);   /* our variable is last */
    free(env);
}

/* Forks and execs; the exec error comes back through a close-on-exec pipe. */
long rc__launch(char *const argv[], char **env, int *exec_errno)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        execvpe(argv[0], argv, env);
        int e = errno;
        ssize_t ignored = write(pipefd[1], &e, sizeof e);
        (void)ignored;
        _exit(127);
    }
    close(pipefd[1]);
    *exec_errno = pid < 0 ? errno : 0;
    if (pid > 0) {
        ssize_t n;
        while ((n = read(pipefd[0], exec_errno, sizeof *exec_errno)) < 0 && errno == EINTR)
            ;
        if (n == sizeof *exec_errno) {
            waitpid(pid, NULL, 0);
            pid = -1;
        } else {
            *exec_errno = 0;
        }
    }
    close(pipefd[0]);
    return pid;
}

/* mprof's Python mode: a .py program (or any, with --python) runs as
 * `PYTHON -m memory_profiler --timestamp -o FILE script args`, whose
 * @profile functions add FUNC lines at exit.  *shown is the command line
 * mprof records (interpreter, script, args); both arrays are malloc'd,
 * their strings borrowed.  Returns the argv to exec. */
char **rc__launch_python_argv(const rc_sampler_opts *o, char *const argv[], const char *out,
                               char ***shown)
{
    size_t n = 0;
    while (argv[n])
        n++;
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    bool has_interp = !strncmp(base, "python", 6);
    const char *py = rc__option_text(RC_OPT_PYTHON);
    char **full = calloc(n + 9, sizeof *full), **cmd = calloc(n + 2, sizeof *cmd);
    if (!full || !cmd) {
        free(full);
        free(cmd);
        return NULL;
    }
    size_t k = 0, c = 0;
    full[k++] = cmd[c++] = has_interp ? argv[0] : (char *)py;
    const char *extra[] = {"-m", "memory_profiler", "--timestamp", "-o", out};
    for (size_t i = 0; i < 5; i++)
        full[k++] = (char *)extra[i];
    if (o->include_children)
        full[k++] = "--include-children";
    for (size_t i = has_interp ? 1 : 0; i < n; i++)
        full[k++] = cmd[c++] = argv[i];
    *shown = cmd;
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
        return pid > 0 && kill((pid_t)pid, 0) == 0 ? pid : rc_set_error(NULL, RC_ENOENT, "no process %s", name_or_pid);
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
        if (fgets(comm, sizeof comm, f) && strstr(comm, name_or_pid) && pids[i] != (long)getpid())
            found = pids[i];
        fclose(f);
    }
    free(pids);
    if (found < 0)
        rc_set_error(NULL, RC_ENOENT, "no process whose name contains '%s'", name_or_pid);
    return found;
}
