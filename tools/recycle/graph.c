/* recycle graph FILE --types | --growth OLDFILE | --leaking
 *                     | --show-refs ADDR | --show-backrefs ADDR | --why-alive ADDR
 *                     [-o out.png|.svg|.pdf|.dot] [--max-depth N] [--limit N]
 *
 * objgraph's questions asked of a heap dump (rc_heap_dump).  ADDR is an
 * object's address as %p printed it when the dump was made. */
#include "commands.h"

#include <getopt.h>
#include <inttypes.h>
#include <recycle.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef enum { Q_NONE, Q_TYPES, Q_GROWTH, Q_LEAKING, Q_REFS, Q_BACKREFS, Q_WHY } query;

typedef struct graph_args {
    query       q;
    const char *file, *arg, *out;
    size_t      max_depth, limit;
} graph_args;

static int usage(FILE *f, int status)
{
    fputs("usage: recycle graph FILE --types | --growth OLDFILE | --leaking\n"
          "                          | --show-refs ADDR | --show-backrefs ADDR | --why-alive ADDR\n"
          "                          [-o out.png|.svg|.pdf|.dot] [--max-depth N] [--limit N]\n"
          "  FILE is a heap dump written by rc_heap_dump; ADDR an object's address (%p).\n"
          "  --types          objects per type, most common first (show_most_common_types)\n"
          "  --growth OLD     types whose count grew since the dump OLD (show_growth)\n"
          "  --leaking        tracked objects nothing in the heap refers to\n"
          "  --show-refs A    draw what A references (show_refs; DOT on stdout without -o)\n"
          "  --show-backrefs A  draw what references A (show_backrefs)\n"
          "  --why-alive A    the shortest chain from an object held from outside the heap to A\n"
          "                   (with -o, drawn as show_chain)\n"
          "  --max-depth N    depth of show-refs / show-backrefs (3)\n"
          "  --limit N        rows of --types / --growth (all)\n", f);
    return status;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("recycle graph: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return RC_EXIT_USAGE;
}

static bool parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || s[0] == '-')
        return false;
    *out = (size_t)v;
    return true;
}

static int set_query(graph_args *a, query q, const char *arg)
{
    if (a->q != Q_NONE)
        return fail("give one of --types, --growth, --leaking, --show-refs, --show-backrefs, --why-alive");
    a->q = q;
    a->arg = arg;
    return 0;
}

static int parse_args(int argc, char **argv, graph_args *a)
{
    static const struct option opts[] = {
        {"types", no_argument, 0, 't'},          {"growth", required_argument, 0, 'g'},
        {"leaking", no_argument, 0, 'l'},        {"show-refs", required_argument, 0, 'r'},
        {"show-backrefs", required_argument, 0, 'b'}, {"why-alive", required_argument, 0, 'w'},
        {"max-depth", required_argument, 0, 'd'}, {"limit", required_argument, 0, 'n'},
        {"output", required_argument, 0, 'o'},   {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    static const query of[128] = {['t'] = Q_TYPES, ['g'] = Q_GROWTH, ['l'] = Q_LEAKING,
                                  ['r'] = Q_REFS, ['b'] = Q_BACKREFS, ['w'] = Q_WHY};
    *a = (graph_args){.max_depth = 3, .limit = SIZE_MAX};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        int rc = 0;
        if (c == 'h')
            exit(usage(stdout, 0));
        else if (c == 'o')
            a->out = optarg;
        else if (c == 'd' && !parse_size(optarg, &a->max_depth))
            rc = fail("--max-depth wants a number, not '%s'", optarg);
        else if (c == 'n' && !parse_size(optarg, &a->limit))
            rc = fail("--limit wants a number, not '%s'", optarg);
        else if (c > 0 && c < 128 && of[c] != Q_NONE)
            rc = set_query(a, of[c], optarg);
        else if (c == '?')
            rc = usage(stderr, RC_EXIT_USAGE);
        if (rc)
            return rc;
    }
    if (optind != argc - 1 || a->q == Q_NONE)
        return usage(stderr, RC_EXIT_USAGE);
    a->file = argv[optind];
    return 0;
}

static rc_objgraph *load(const char *path)
{
    rc_objgraph *g = NULL;
    if (rc_objgraph_load(path, &g) != 0)
        fprintf(stderr, "recycle graph: %s\n", rc_last_error(NULL));
    return g;
}

static void print_obj(const rc_objinfo *o, const char *note)
{
    if (o->immortal)
        printf("%#" PRIx64 " %s (%zu B, immortal)%s\n", o->addr, o->type, o->size, note);
    else
        printf("%#" PRIx64 " %s (%zu B, refcount %zu, %zu from outside the heap)%s\n",
               o->addr, o->type, o->size, o->refcount, o->external, note);
}

static int print_leak(const rc_objinfo *o, void *arg)
{
    (void)arg;
    print_obj(o, "");
    return 0;
}

static int show_types(const rc_objgraph *g, size_t limit)
{
    size_t n = rc_objgraph_typestats(g, NULL, 0);
    rc_type_count *t = malloc((n ? n : 1) * sizeof *t);
    if (!t)
        return fail("out of memory");
    rc_objgraph_typestats(g, t, n);
    n = n < limit ? n : limit;
    int w = 0;
    for (size_t i = 0; i < n; i++)
        w = (int)strlen(t[i].name) > w ? (int)strlen(t[i].name) : w;
    for (size_t i = 0; i < n; i++)
        printf("%-*s %zu\n", w, t[i].name, t[i].count);
    free(t);
    return 0;
}

static int show_growth(const rc_objgraph *now, const char *oldpath, size_t limit)
{
    rc_objgraph *old = load(oldpath);
    if (!old)
        return RC_EXIT_USAGE;
    size_t n = rc_objgraph_growth(old, now, NULL, 0);
    n = n < limit ? n : limit;
    rc_type_growth *t = malloc((n ? n : 1) * sizeof *t);
    bool ok = t != NULL;
    if (ok) {
        rc_objgraph_growth(old, now, t, n);
        int w = 0;
        for (size_t i = 0; i < n; i++)
            w = (int)strlen(t[i].name) > w ? (int)strlen(t[i].name) : w;
        for (size_t i = 0; i < n; i++)
            printf("%-*s%9zu %+9lld\n", w, t[i].name, t[i].count, (long long)t[i].delta);
    }
    free(t);
    rc_objgraph_free(old);
    return ok ? 0 : fail("out of memory");
}

static bool parse_addr(const rc_objgraph *g, const char *s, const char *file, uint64_t *addr)
{
    char *end;
    *addr = strtoull(s, &end, 16);
    if (!*s || *end) {
        fail("'%s' is not an address (hex, as %%p prints it)", s);
        return false;
    }
    if (!rc_objgraph_lookup(g, *addr, NULL)) {
        fail("no object at %s in %s", s, file);
        return false;
    }
    return true;
}

static int draw(const rc_objgraph *g, const graph_args *a, uint64_t addr)
{
    rc_graph_opts o;
    rc_graph_opts_default(&o);
    o.max_depth = a->max_depth;
    o.refcounts = true;
    const char *out = a->out ? a->out : "-";
    int rc = a->q == Q_REFS ? rc_objgraph_show_refs(g, &addr, 1, &o, out)
                            : rc_objgraph_show_backrefs(g, &addr, 1, &o, out);
    if (rc != 0)
        return fail("%s", rc_objgraph_last_error(g));
    if (a->out)
        fprintf(stderr, "Graph written to %s\n", a->out);
    return 0;
}

static int why_alive(const rc_objgraph *g, const graph_args *a, uint64_t addr)
{
    uint64_t *chain = NULL;
    size_t len = 0;
    int rc = rc_objgraph_why_alive(g, addr, &chain, &len);
    if (rc == RC_ENOENT) {
        printf("%s: nothing outside the heap holds it: only a reference cycle keeps it,\n"
               "and the next full collection frees it.\n", a->arg);
        return 1;
    }
    if (rc != 0)
        return fail("%s", rc_objgraph_last_error(g));
    for (size_t i = 0; i < len; i++) {
        rc_objinfo o;
        rc_objgraph_lookup(g, chain[i], &o);
        printf("%s", i ? "  -> " : "");
        print_obj(&o, i == 0 ? "  <- held from outside the heap" : "");
    }
    if (a->out) {
        rc_graph_opts o;
        rc_graph_opts_default(&o);
        o.refcounts = true;
        rc = rc_objgraph_show_chain(g, chain, len, &o, a->out);
        if (rc != 0)
            rc = fail("%s", rc_objgraph_last_error(g));
    }
    free(chain);
    return rc;
}

static int run_query(const rc_objgraph *g, const graph_args *a)
{
    uint64_t addr = 0;
    switch (a->q) {
    case Q_TYPES:
        return show_types(g, a->limit);
    case Q_GROWTH:
        return show_growth(g, a->arg, a->limit);
    case Q_LEAKING:
        return rc_objgraph_leaking(g, print_leak, NULL);
    case Q_REFS:
    case Q_BACKREFS:
        return parse_addr(g, a->arg, a->file, &addr) ? draw(g, a, addr) : RC_EXIT_USAGE;
    case Q_WHY:
        return parse_addr(g, a->arg, a->file, &addr) ? why_alive(g, a, addr) : RC_EXIT_USAGE;
    default:
        return usage(stderr, RC_EXIT_USAGE);
    }
}

int cmd_graph(int argc, char **argv)
{
    graph_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc;
    rc_objgraph *g = load(a.file);
    if (!g)
        return RC_EXIT_USAGE;
    rc = run_query(g, &a);
    rc_objgraph_free(g);
    return rc;
}
