/* Writes the first corpus entries of the file-format harnesses: a heap
 * dump, tracer snapshots and .dat files made by recycle itself, so the
 * fuzzers start from valid files and mutate inward.
 * Usage: make_seeds CORPUS_DIR (writes CORPUS_DIR/fuzz_<harness>/seed-*). */
#include <recycle-tools.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

typedef struct pair { void *a, *b; } pair;

static int pair_traverse(void *self, rc_visit visit, void *arg)
{
    pair *p = self;
    int rv = p->a ? visit(p->a, arg) : 0;
    return rv ? rv : p->b ? visit(p->b, arg) : 0;
}

static void pair_clear(void *self)
{
    pair *p = self;
    void *a = p->a, *b = p->b;
    p->a = p->b = NULL;
    if (a) rc_decref(a);
    if (b) rc_decref(b);
}

static const rc_type pair_type = {"pair", sizeof(pair), pair_traverse, pair_clear, NULL, NULL, 0, NULL, 0};

static void path(char *buf, size_t n, const char *dir, const char *harness, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, harness);
    mkdir(buf, 0777);
    snprintf(buf, n, "%s/%s/%s", dir, harness, name);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
        return 2;
    }
    char p[1024];
    rc_heap *h = rc_heap_new(NULL);
    rc_trace_start(h, 2);
    pair *x = rc_new(h, &pair_type), *y = rc_new(h, &pair_type);
    x->a = rc_newref(y);                 /* x -> y -> x, and y -> a string */
    y->a = rc_newref(x);
    path(p, sizeof p, argv[1], "fuzz_heapdump", "seed-pair");
    if (rc_heap_dump(h, p) != 0)
        return 1;
    y->b = rc_str_new(h, "hello");
    void *list = rc_list_new(h, 4);
    rc_list_append(list, x);
    void *buf = rc_alloc(h, 3000);
    path(p, sizeof p, argv[1], "fuzz_heapdump", "seed-cycle");
    if (rc_heap_dump(h, p) != 0)
        return 1;
    rc_snapshot *s = rc_trace_take_snapshot(h);
    path(p, sizeof p, argv[1], "fuzz_snapshot", "seed-small");
    if (!s || rc_snapshot_dump(s, p) != 0)
        return 1;
    rc_snapshot_free(s);
    rc_free(h, buf);
    rc_decref(list);
    rc_decref(x);
    rc_decref(y);
    rc_heap_free(h);

    rc_mprof *m = rc_mprof_new();
    m->cmdline = NULL;
    rc_mprof_add_mem(m, 1700000000.0, 10.5);
    rc_mprof_add_func(m, "main.work", 10.5, 1700000000.1, 50.25, 1700000000.4, 0);
    rc_mprof_add_mem(m, 1700000000.5, 50.0);
    rc_mprof_add_peak(m, 80.0, 1700000000.5, 1700000000.6);
    rc_mprof_add_child(m, 4242, 1700000000.5, 3.0);
    path(p, sizeof p, argv[1], "fuzz_dat", "seed-recycle");
    if (rc_mprof_save(m, p) != 0)
        return 1;
    rc_mprof_free(m);
    path(p, sizeof p, argv[1], "fuzz_dat", "seed-mprof");
    FILE *f = fopen(p, "w");   /* as python3-mprof writes it */
    fputs("CMDLINE python3 demo.py\nMEM 10.125000 1700000000.0001\nFUNC __main__.f 10.1 1700000000.1 60.0 "
          "1700000000.9 1\nMEM 60.500000 1700000001.0000\nCHLD 77 2.0 1700000001.0\n", f);
    fclose(f);
    return 0;
}
