/* recycle attach [options] PID|NAME: mprof attach — samples a running
 * process (found by pid, or by the first name that matches) until it
 * exits or the timeout (default one hour) passes. */
#include "commands.h"

#include <stdlib.h>

int cmd_attach(int argc, char **argv)
{
    rc_sampler_opts o;
    bool exit_code;
    char name[RC_MPROF_NAME_LEN];
    int first = rc_tool_sampling_options("attach", argc, argv, &o, &exit_code, name);
    if (first < 0)
        return RC_EXIT_USAGE;
    if (first != argc - 1) {
        fprintf(stderr, "recycle attach: give one PID or process name (recycle attach -h)\n");
        return RC_EXIT_USAGE;
    }
    long pid = rc_sampler_find_pid(argv[first]);
    if (pid < 0) {
        fprintf(stderr, "recycle attach: %s\n", rc_last_error(NULL));
        return RC_EXIT_USAGE;
    }
    fprintf(stderr, "recycle attach: sampling pid %ld every %gs into %s\n", pid, o.interval, o.output);
    rc_sampler_result r;
    int err = rc_sampler_attach(&o, pid, &r);
    if (err) {
        fprintf(stderr, "recycle attach: pid %ld: %s\n", pid,
                err == RC_ENOENT ? "gone or not readable" : "cannot write the profile");
        return RC_EXIT_USAGE;
    }
    return rc_tool_run_outcome("attach", &o, &r, false, argv[first]);
}
