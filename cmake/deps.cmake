# The packages behind each optional part, each a well-kept Debian package
# (docs/dependencies.md says which part needs which, and why).  The core
# needs none: only the C library, libm and libpthread/libdl.
#
# Sets RC_WITH_TOOLS, RC_WITH_TESTS and RC_WITH_BENCH: the options, less
# what RECYCLE_SKIP_MISSING turned off for want of a package.
# RC_BENCH_LIBS_<name>: extra libraries of one benchmark.

# pkg-config modules for one part: found (imported targets PkgConfig::<var>)
# or, when missing, an error, or with RECYCLE_SKIP_MISSING the part off.
function(rc_find_part part)
  set(missing "")
  foreach(spec ${ARGN})
    string(REPLACE "=" ";" spec "${spec}")
    list(GET spec 0 var)
    list(SUBLIST spec 1 -1 modules)
    pkg_check_modules(${var} QUIET IMPORTED_TARGET GLOBAL ${modules})
    if(NOT ${var}_FOUND)
      list(APPEND missing ${modules})
    endif()
  endforeach()
  set(RC_WITH_${part} ON PARENT_SCOPE)
  if(missing)
    string(REPLACE ";" " " missing "${missing}")
    if(NOT RECYCLE_SKIP_MISSING)
      message(FATAL_ERROR "RECYCLE_${part} needs the pkg-config modules: ${missing} "
                          "(`make deps` installs them; -DRECYCLE_${part}=OFF builds without this part)")
    endif()
    message(STATUS "RECYCLE_${part} off: missing ${missing} (`make deps` installs them)")
    set(RC_WITH_${part} OFF PARENT_SCOPE)
  endif()
endfunction()

set(RC_WITH_TOOLS OFF)
set(RC_WITH_TESTS OFF)
set(RC_WITH_BENCH OFF)
if(RECYCLE_TOOLS OR RECYCLE_TESTS OR RECYCLE_BENCH)
  find_package(PkgConfig REQUIRED)
endif()

# librecycle-tools: charts with PLplot (libplplot-dev, drawn through
# plplot-driver-cairo), graph rendering with Graphviz's libraries
# (libgraphviz-dev), line numbers with libdw (libdw-dev); the preload
# library unwinds with libunwind (libunwind-dev).
if(RECYCLE_TOOLS)
  rc_find_part(TOOLS PLPLOT=plplot GVC=libgvc=libcgraph LIBDW=libdw LIBUNWIND=libunwind)
endif()

# tests: cmocka (libcmocka-dev); the chart and graph tests decode the PNGs
# with libpng (libpng-dev).  They cover the tools and run the examples.
if(RECYCLE_TESTS)
  if(NOT RC_WITH_TOOLS OR NOT RECYCLE_EXAMPLES)
    if(NOT RECYCLE_SKIP_MISSING)
      message(FATAL_ERROR "RECYCLE_TESTS needs RECYCLE_TOOLS and RECYCLE_EXAMPLES "
                          "(the tests cover the tools and run the examples)")
    endif()
    message(STATUS "RECYCLE_TESTS off: the tools are not built")
  else()
    rc_find_part(TESTS CMOCKA=cmocka PNG=libpng)
  endif()
endif()

# benchmarks: Boehm GC (libgc-dev) is the anchor of bench/gc, bench/alloc,
# bench/binarytrees and bench/threads; mimalloc is dlopen'ed and jemalloc
# LD_PRELOADed in child processes, so neither replaces glibc's malloc.
if(RECYCLE_BENCH)
  rc_find_part(BENCH BDWGC=bdw-gc)
  set(RC_BENCH_LIBS_gc PkgConfig::BDWGC)
  set(RC_BENCH_LIBS_alloc PkgConfig::BDWGC ${CMAKE_DL_LIBS})
  set(RC_BENCH_LIBS_threads PkgConfig::BDWGC)
  set(RC_BENCH_LIBS_binarytrees PkgConfig::BDWGC ${CMAKE_DL_LIBS})
endif()
