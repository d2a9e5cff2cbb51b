/* The .dat parser (src/profile/mprof.c): any bytes load or are refused with an
 * error code, never a crash; what loads can be reported, plotted-for
 * (peaks) and written back, and the written file loads to the same
 * records (the round trip recycle promises mprof users). */
#include <recycle-tools.h>

#include <math.h>

#include "fuzz_file.h"

static fuzz_file in, out;
static FILE *devnull;

static void round_trip(const rc_mprof *p)
{
    const char *path = fuzz_file_path(&out, "dat-out");
    FUZZ_CHECK(rc_mprof_save(p, path) == 0, "saving a loaded profile failed");
    rc_mprof *q = NULL;
    int rc = rc_mprof_load(path, &q);
    if (p->nmem == 0) {                  /* nothing to load back: refused as input is */
        FUZZ_CHECK(rc != 0 || q->nmem == 0, "empty profile came back with samples");
        rc_mprof_free(q);
        return;
    }
    FUZZ_CHECK(rc == 0, "reloading a saved profile failed: %d", rc);
    FUZZ_CHECK(q->nmem == p->nmem && q->nfuncs == p->nfuncs && q->nchildren == p->nchildren &&
               q->npeaks == p->npeaks, "round trip changed the record counts: mem %zu/%zu func %zu/%zu",
               p->nmem, q->nmem, p->nfuncs, q->nfuncs);
    rc_mprof_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    rc_mprof *p = NULL;
    int rc = rc_mprof_load(fuzz_file_with(&in, "dat-in", data, size), &p);
    if (rc != 0) {
        FUZZ_CHECK(p == NULL && (rc == RC_EFORMAT || rc == RC_ENOENT || rc == RC_ENOMEM || rc == RC_EIO),
                   "refused with %d", rc);
        return 0;
    }
    double t;
    (void)rc_mprof_peak(p, &t);
    (void)rc_mprof_max_between(p, 0, INFINITY);
    if (p->nfuncs)
        (void)rc_mprof_func_peak(p, p->funcs[0].name);
    for (size_t i = 0; i < p->nchildren; i++)
        (void)rc_mprof_child_peak(&p->children[i]);
    rc_mprof_report(p, false, devnull);
    rc_mprof_report(p, true, devnull);
    round_trip(p);
    rc_mprof_free(p);
    return 0;
}
