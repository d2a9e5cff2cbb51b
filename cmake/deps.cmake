# External libraries, one block per component, each a well-kept Debian
# package (docs/dependencies.md says why each was chosen).
# RC_LIBS: linked into librecycle.  RC_TOOL_LIBS: the recycle program.
# RC_TEST_LIBS: every test.  RC_BENCH_LIBS_<name>: one benchmark.

# tests: cmocka (libcmocka-dev)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

# benchmark anchor: Boehm GC (libgc-dev) for bench/gc
pkg_check_modules(BDWGC REQUIRED IMPORTED_TARGET bdw-gc)
set(RC_BENCH_LIBS_gc PkgConfig::BDWGC)

# ==== allocator (issue 2) ====
# bench/alloc: Boehm GC (libgc-dev) is linked; mimalloc is dlopen'ed and
# jemalloc LD_PRELOADed in child processes, so neither replaces glibc's malloc.
pkg_check_modules(BDWGC IMPORTED_TARGET bdw-gc)
if(BDWGC_FOUND)
  set(RC_BENCH_LIBS_alloc PkgConfig::BDWGC ${CMAKE_DL_LIBS})
endif()
# ==== end allocator ====

# ==== built-in types (issue 3) ====
# ==== end built-in types ====

# ==== tracer (issue 4) ====
# ==== end tracer ====

# ==== profiler (issue 5) ====
# ==== end profiler ====

# ==== object graph (issue 6) ====
# ==== end object graph ====

# ==== demo (issue 7) ====
# ==== end demo ====

# ==== reliability (issue 8) ====
# ==== end reliability ====
