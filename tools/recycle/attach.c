/* recycle attach [options] PID|NAME: mprof attach — samples a running
 * process (found by pid, or by the first name that matches) until it
 * exits or the timeout (default one hour) passes. */
#include "commands.h"

#include <stdlib.h>

int cmd_attach(int argc, char **argv)
{
    cli_sampling s;
    int first = cli_sampling_options("attach", argc, argv, &s);
    if (first < 0)
        return CLI_EXIT_USAGE;
    long pid = rc_sampler_find_pid(argv[first]);
    if (pid < 0) {
        fprintf(stderr, "recycle attach: %s\n", rc_last_error(NULL));
        return CLI_EXIT_FAILURE;
    }
    fprintf(stderr, "recycle attach: sampling pid %ld every %gs into %s\n", pid, s.o.interval, s.o.output);
    rc_sampler_result r;
    int err = rc_sampler_attach(&s.o, pid, &r);
    if (err) {
        fprintf(stderr, "recycle attach: %s\n", rc_last_error(NULL));
        return CLI_EXIT_FAILURE;
    }
    return cli_run_outcome("attach", &s, &r, argv[first]);
}
