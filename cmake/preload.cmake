# librecycle-trace.so: the LD_PRELOAD library of `recycle trace` (src/trace/preload/).
# It shares the tracer's table, traceback, maps and file-format code with
# librecycle (one implementation), but not the rest of the library.  It is
# never built with the sanitizers: an ASan runtime cannot be preloaded into
# an uninstrumented program.
pkg_check_modules(LIBUNWIND REQUIRED IMPORTED_TARGET libunwind)
file(GLOB RC_PRELOAD_SOURCES CONFIGURE_DEPENDS src/trace/preload/*.c)
add_library(recycle-trace SHARED ${RC_PRELOAD_SOURCES}
            src/trace/trace_table.c src/trace/trace_tb.c src/trace/trace_maps.c src/trace/trace_file.c src/core/hash.c)
target_include_directories(recycle-trace PRIVATE include src)
target_compile_definitions(recycle-trace PRIVATE _GNU_SOURCE)
target_compile_options(recycle-trace PRIVATE -fvisibility=hidden -ftls-model=initial-exec)
target_link_libraries(recycle-trace PRIVATE PkgConfig::LIBUNWIND ${CMAKE_DL_LIBS} Threads::Threads)
function(rc_no_sanitizers target)
  foreach(prop COMPILE_OPTIONS LINK_OPTIONS)
    get_target_property(opts ${target} ${prop})
    if(opts)
      list(FILTER opts EXCLUDE REGEX "sanitize")
      set_target_properties(${target} PROPERTIES ${prop} "${opts}")
    endif()
  endforeach()
endfunction()
rc_no_sanitizers(recycle-trace)
install(TARGETS recycle-trace LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

# A small unmodified C program with threads, for tests/test_trace_preload.c
# and the heaptrack comparison (docs/tracer.md).
add_executable(trace_prog tests/progs/trace_prog.c)
set_target_properties(trace_prog PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
target_link_libraries(trace_prog PRIVATE Threads::Threads)
rc_no_sanitizers(trace_prog)
# The same program linked statically: LD_PRELOAD cannot enter it.
add_executable(trace_prog_static tests/progs/trace_prog.c)
set_target_properties(trace_prog_static PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
target_link_libraries(trace_prog_static PRIVATE Threads::Threads)
target_link_options(trace_prog_static PRIVATE -static)
rc_no_sanitizers(trace_prog_static)
foreach(t ${RC_TESTS})
  get_filename_component(n ${t} NAME_WE)
  if(n STREQUAL "test_trace_preload" OR n STREQUAL "test_trace_signals")
    add_dependencies(${n} recycle-trace trace_prog trace_prog_static recycle)
    target_compile_definitions(${n} PRIVATE RC_PRELOAD_LIB="$<TARGET_FILE:recycle-trace>"
                               RC_TRACE_PROG_STATIC="$<TARGET_FILE:trace_prog_static>"
                               RC_TRACE_PROG="$<TARGET_FILE:trace_prog>" RC_RECYCLE="$<TARGET_FILE:recycle>")
  endif()
endforeach()

# `recycle trace` looks for the library beside itself, then where it is installed.
if(TARGET recycle)
  target_compile_definitions(recycle PRIVATE
    RC_PRELOAD_INSTALLED="${CMAKE_INSTALL_FULL_LIBDIR}/librecycle-trace.so")
  add_dependencies(recycle recycle-trace)
endif()
