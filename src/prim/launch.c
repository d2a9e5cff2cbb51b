/* Starting a program so that a failed exec is told apart from a program
 * that ran and failed: the exec error comes back through a close-on-exec
 * pipe, which a successful exec closes unwritten. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static size_t name_len(const char *var)
{
    const char *eq = strchr(var, '=');
    return eq ? (size_t)(eq - var) : strlen(var);
}

static bool is_set_by(const char *var, const char *const set[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (name_len(var) == name_len(set[i]) && !strncmp(var, set[i], name_len(var)))
            return true;
    return false;
}

char **rc__env_with(const char *const set[], size_t n)
{
    size_t count = n + 1, bytes = 0;
    for (size_t i = 0; environ[i]; i++)
        count++;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(set[i]) + 1;
    char **env = malloc(count * sizeof *env + bytes);
    if (!env)
        return NULL;
    char *text = (char *)(env + count);
    size_t k = 0;
    for (size_t i = 0; environ[i]; i++)
        if (!is_set_by(environ[i], set, n))
            env[k++] = environ[i];
    for (size_t i = 0; i < n; i++) {
        env[k++] = strcpy(text, set[i]);
        text += strlen(set[i]) + 1;
    }
    env[k] = NULL;
    return env;
}

static void silence(void)
{
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        close(null);
    }
}

static _Noreturn void exec_child(int report, char *const argv[], char *const env[], bool quiet)
{
    if (quiet)
        silence();
    execvpe(argv[0], argv, env ? env : environ);
    int e = errno;
    ssize_t ignored = write(report, &e, sizeof e);
    (void)ignored;
    _exit(127);
}

/* The child's exec error, or 0 when the pipe closed unwritten. */
static int exec_error(int report)
{
    int e = 0;
    ssize_t n;
    while ((n = read(report, &e, sizeof e)) < 0 && errno == EINTR)
        ;
    return n == sizeof e ? e : 0;
}

long rc__launch(char *const argv[], char *const env[], bool quiet, int *exec_errno)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC)) {
        *exec_errno = errno;
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0)
        exec_child(pipefd[1], argv, env, quiet);
    *exec_errno = pid < 0 ? errno : 0;
    close(pipefd[1]);
    if (pid > 0 && (*exec_errno = exec_error(pipefd[0])) != 0) {
        rc__wait(pid);
        pid = -1;
    }
    close(pipefd[0]);
    return pid;
}

int rc__wait(long pid)
{
    int status;
    pid_t w;
    while ((w = waitpid((pid_t)pid, &status, 0)) < 0 && errno == EINTR)
        ;
    return w == (pid_t)pid ? status : -1;
}
