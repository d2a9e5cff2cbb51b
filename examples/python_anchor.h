/* For the examples: run a short Python script under /usr/bin/python3 (the
 * system CPython, so the numbers beside ours are measured, not quoted) and
 * read back the "name value" lines it prints. */
#ifndef RC_EXAMPLE_PYTHON_ANCHOR_H
#define RC_EXAMPLE_PYTHON_ANCHOR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fills values[i] for each names[i] the script printed; returns how many
 * were found, or -1 when /usr/bin/python3 could not run the script. */
static int python_anchor(const char *script, const char *const *names, double *values, int n)
{
    char path[] = "/tmp/recycle-anchor-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "w");
    fputs(script, f);
    fclose(f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s 2>/dev/null", path);
    FILE *p = access("/usr/bin/python3", X_OK) == 0 ? popen(cmd, "r") : NULL;
    int found = -1;
    if (p) {
        char name[64];
        double v;
        found = 0;
        while (fscanf(p, "%63s %lf", name, &v) == 2)
            for (int i = 0; i < n; i++)
                if (strcmp(name, names[i]) == 0) values[i] = v, found++;
        if (pclose(p) != 0) found = -1;
    }
    unlink(path);
    return found;
}

#endif
