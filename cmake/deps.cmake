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
set(RC_BENCH_LIBS_alloc PkgConfig::BDWGC ${CMAKE_DL_LIBS})   # BDWGC: found above
# ==== end allocator ====

# ==== built-in types (issue 3) ====
# ==== end built-in types ====

# ==== tracer (issue 4) ====
# libdw (elfutils): symbolizes native frames when a report is made.
pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET libdw)
list(APPEND RC_LIBS PkgConfig::LIBDW)
string(APPEND RC_PC_REQUIRES " libdw")
# ==== end tracer ====

# ==== profiler (issue 5) ====
# recycle plot draws with PLplot (libplplot-dev, cairo driver from
# plplot-driver-cairo); the plot test decodes the PNG with libpng.
pkg_check_modules(PLPLOT REQUIRED IMPORTED_TARGET plplot)
pkg_check_modules(PNG REQUIRED IMPORTED_TARGET libpng)
list(APPEND RC_LIBS PkgConfig::PLPLOT ${CMAKE_DL_LIBS})
set(RC_PC_REQUIRES "${RC_PC_REQUIRES} plplot")
list(APPEND RC_TEST_LIBS PkgConfig::PNG)
# examples/profile_instrumented.c gets a bracket per function from the
# library's -finstrument-functions hooks.
set_source_files_properties(${PROJECT_SOURCE_DIR}/examples/profile_instrumented.c
                            PROPERTIES COMPILE_OPTIONS "-finstrument-functions")
# ==== end profiler ====

# ==== object graph (issue 6) ====
# Graphviz's libraries render show_refs in-process (libgraphviz-dev);
# tests decode the PNGs with libpng (libpng-dev).
pkg_check_modules(GVC REQUIRED IMPORTED_TARGET libgvc libcgraph)
pkg_check_modules(PNG REQUIRED IMPORTED_TARGET libpng)
list(APPEND RC_LIBS PkgConfig::GVC)
string(APPEND RC_PC_REQUIRES " libgvc libcgraph")
list(APPEND RC_TEST_LIBS PkgConfig::PNG)
# ==== end object graph ====

# ==== demo (issue 7) ====
# ==== end demo ====

# ==== reliability (issue 8) ====
# ==== end reliability ====
