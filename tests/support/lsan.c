/* LeakSanitizer asks every program for its suppressions through this hook.
 * PLplot's cairo driver leaves fontconfig's, cairo's, pango's and libltdl's
 * process-wide caches allocated at exit, by design; every test gets these,
 * and in sanitizer builds so do the recycle program and the examples the
 * tests start (tests/lsan.supp names the same libraries for .ci/run).
 * Never called outside LeakSanitizer; not part of any library. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\nleak:libcairo.so\nleak:libpango\nleak:libplplot.so\n"
           "leak:libltdl.so\n";
}
