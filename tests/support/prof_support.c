#define _GNU_SOURCE  /* mkdtemp, popen, strdup: the support library gets no -D_GNU_SOURCE */
#include "prof_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *prof_tmpdir(void)
{
    char dir[256];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/rc_prof_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(dir) ? strdup(dir) : NULL;
}

const char *prof_path(const char *dir, const char *name)
{
    static char slots[8][512];
    static int next;
    char *s = slots[next++ % 8];
    snprintf(s, 512, "%s/%s", dir, name);
    return s;
}

static const char *binary_dir(void)
{
    const char *d = getenv("RC_BINARY_DIR");
#ifdef RC_BINARY_DIR
    if (!d)
        d = RC_BINARY_DIR;
#endif
    return d ? d : ".";
}

const char *prof_example(const char *name)
{
    static char slots[4][512];
    static int next;
    char *s = slots[next++ % 4];
    snprintf(s, 512, "%s/examples/%s", binary_dir(), name);
    return s;
}

const char *prof_recycle(void)
{
    static char s[512];
    snprintf(s, sizeof s, "%s/recycle", binary_dir());
    return s;
}

int prof_sh(char **output, const char *fmt, ...)
{
    char inner[4000], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(inner, sizeof inner, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "( %s ) 2>&1", inner);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (size_t n; buf && (n = fread(buf + len, 1, cap - len - 1, p)) > 0;) {
        len += n;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                break;
            buf = nb;
        }
    }
    if (buf)
        buf[len] = 0;
    int status = pclose(p);
    if (output)
        *output = buf;
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool prof_have_mprof(void)
{
    return access("/usr/bin/python3-mprof", X_OK) == 0 &&
           prof_sh(NULL, "/usr/bin/python3 -c 'import memory_profiler, psutil'") == 0;
}

char *prof_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = 0;
    fclose(f);
    return s;
}
