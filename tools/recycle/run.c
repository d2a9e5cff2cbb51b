/* recycle run [-T S] [-C] [-M] [-o FILE] [-E] [-t S] PROGRAM [ARGS...]
 * mprof run's flags and defaults: 0.1 s, mprofile_YYYYmmddHHMMSS.dat. */
#include "commands.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const char run_usage[] =
    "usage: recycle %s [options] %s\n"
    "  -T, --interval S        seconds between samples (default 0.1, down to 0.001)\n"
    "  -C, --include-children  add the memory of all descendants to MEM\n"
    "  -M, --multiprocess      also record each descendant as its own CHLD series\n"
    "  -o, --output FILE       the .dat file (default mprofile_<YYYYmmddHHMMSS>.dat)\n"
    "  -E, --exit-code         exit with the program's exit status\n"
    "  -t, --timeout S         stop sampling after S seconds%s\n"
    "  --python, --nopython    a .py program runs under memory_profiler for its\n"
    "                          @profile brackets (default for *.py), with the python\n"
    "                          that has it: $RECYCLE_PYTHON, python3-mprof's, python3\n"
    "  --reset-peaks           also record lower peaks between samples after the highest,\n"
    "                          by resetting the program's VmHWM: the program then reads\n"
    "                          a wrong peak of itself (ru_maxrss); off by default\n";

static int sampling_usage(FILE *out, const char *cmd, bool attach)
{
    fprintf(out, run_usage, cmd, attach ? "PID|NAME" : "PROGRAM [ARGS...]", attach ? " (default 3600)" : "");
    return -1;
}

/* What follows the options: a program for run, one process for attach. */
static int check_operands(const char *cmd, bool attach, int first, int argc)
{
    if (attach ? first == argc - 1 : first < argc)
        return first;
    fprintf(stderr, "recycle %s: %s (recycle %s -h)\n", cmd,
            attach ? "give one PID or process name" : "a program to run must be given", cmd);
    return -1;
}

int cli_sampling_options(const char *cmd, int argc, char **argv, cli_sampling *s)
{
    static const struct option longopts[] = {
        {"interval", required_argument, 0, 'T'}, {"include-children", no_argument, 0, 'C'},
        {"multiprocess", no_argument, 0, 'M'},   {"output", required_argument, 0, 'o'},
        {"exit-code", no_argument, 0, 'E'},      {"timeout", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},           {"python", no_argument, 0, 'p'},
        {"nopython", no_argument, 0, 'P'},       {"reset-peaks", no_argument, 0, 'R'},
        {0, 0, 0, 0}};
    bool attach = !strcmp(cmd, "attach");
    rc_sampler_opts *o = &s->o;
    *o = (rc_sampler_opts){.interval = 0.1};
    s->exit_code = false;
    rc_mprof_default_name(s->name);
    o->output = s->name;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "+T:CMo:Et:h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'T': if ((o->interval = cli_seconds(cmd, "-T", optarg)) < 0) return -1; break;
        case 't': if ((o->timeout = cli_seconds(cmd, "-t", optarg)) < 0) return -1; break;
        case 'C': o->include_children = true; break;
        case 'M': o->multiprocess = true; break;
        case 'o': o->output = optarg; break;
        case 'E': s->exit_code = true; break;
        case 'p': o->python = 1; break;
        case 'P': o->python = -1; break;
        case 'R': o->reset_peaks = true; break;
        case 'h': sampling_usage(stdout, cmd, attach); exit(0);
        default: return sampling_usage(stderr, cmd, attach);
        }
    }
    return check_operands(cmd, attach, optind, argc);
}

static void describe_status(const char *prog, int status)
{
    if (WIFSIGNALED(status))
        fprintf(stderr, "recycle run: %s was killed by signal %d (%s)%s\n", prog, WTERMSIG(status),
                strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
    else if (WEXITSTATUS(status))
        fprintf(stderr, "recycle run: %s exited with status %d\n", prog, WEXITSTATUS(status));
}

int cli_run_outcome(const char *cmd, const cli_sampling *s, const rc_sampler_result *r, const char *prog)
{
    if (r->exited && strcmp(cmd, "attach"))
        describe_status(prog, r->status);
    else if (!r->exited)
        fprintf(stderr, "recycle %s: timeout: stopped sampling, %s is still running\n", cmd, prog);
    if (r->peaks_unreset)
        fprintf(stderr, "recycle %s: pid %ld: cannot reset its VmHWM (clear_refs): peaks between samples "
                "are recorded only when they set a new maximum\n", cmd, r->pid);
    fprintf(stderr, "recycle %s: %zu samples, peak %.3f MiB", cmd, r->samples, r->peak_mib);
    if (r->peak_before_mib > 0)
        fprintf(stderr, " while sampled (%.3f MiB before it attached)", r->peak_before_mib);
    fprintf(stderr, ", written to %s\n", s->o.output);
    if (!s->exit_code || !r->exited)
        return 0;
    return cli_exit_status(r->status);
}

/* recycle keeps sampling when Ctrl-C reaches the whole process group: the
 * program decides whether to die, and the file gets its last samples.  A
 * handler (not SIG_IGN) so the program itself starts with the default. */
static void keep_sampling(int sig)
{
    (void)sig;
}

int cmd_run(int argc, char **argv)
{
    cli_sampling s;
    int first = cli_sampling_options("run", argc, argv, &s);
    if (first < 0)
        return CLI_EXIT_USAGE;
    fprintf(stderr, "recycle run: sampling memory every %gs into %s\n", s.o.interval, s.o.output);
    struct sigaction sa = {.sa_handler = keep_sampling};
    sigaction(SIGINT, &sa, NULL);
    rc_sampler_result r;
    int err = rc_sampler_run(&s.o, argv + first, &r);
    if (err == RC_ENOTSUP) {   /* no interpreter for the script */
        fprintf(stderr, "recycle run: %s\n", rc_last_error(NULL));
        return CLI_EXIT_NOSTART;
    }
    if (err == RC_ENOENT && !r.started) {
        fprintf(stderr, "recycle run: cannot start '%s': %s\n", argv[first], strerror(r.exec_errno));
        return CLI_EXIT_NOSTART;
    }
    if (err) {
        fprintf(stderr, "recycle run: %s\n", rc_last_error(NULL));
        return CLI_EXIT_FAILURE;
    }
    return cli_run_outcome("run", &s, &r, argv[first]);
}
