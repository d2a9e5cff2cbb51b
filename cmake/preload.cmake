# librecycle-trace.so: the LD_PRELOAD library of `recycle trace` (src/trace/preload/).
# It shares the tracer's table, traceback, maps and file-format code with
# librecycle (one implementation), but not the rest of the library.  It is
# never built with the sanitizers: an ASan runtime cannot be preloaded into
# an uninstrumented program.
file(GLOB RC_PRELOAD_SOURCES CONFIGURE_DEPENDS src/trace/preload/*.c)
add_library(recycle-trace SHARED ${RC_PRELOAD_SOURCES}
            src/trace/trace_table.c src/trace/trace_tb.c src/trace/trace_maps.c src/trace/trace_file.c src/core/hash.c
            src/core/options.c src/prim/os.c src/prim/fd.c)
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
# Where `make install` puts it; packages put it in a private folder
# (lib/<multiarch>/recycle), since no program links it.
set(RECYCLE_PRELOAD_DIR ${CMAKE_INSTALL_LIBDIR} CACHE STRING "install folder of librecycle-trace.so, under the prefix")
install(TARGETS recycle-trace LIBRARY DESTINATION ${RECYCLE_PRELOAD_DIR} COMPONENT program)

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
# Frames to name (tests/test_trace_frames.c): with debug information, with
# only .symtab, stripped; and a C++ program allocating in inlined code.
enable_language(CXX)
add_executable(frames_prog tests/progs/frames_prog.c)
add_executable(frames_prog_nodebug tests/progs/frames_prog.c)
add_executable(frames_prog_stripped tests/progs/frames_prog.c)
add_executable(cxx_prog tests/progs/cxx_prog.cc)
target_compile_options(frames_prog PRIVATE -g)
target_compile_options(frames_prog_nodebug PRIVATE -g0)
add_custom_command(TARGET frames_prog_stripped POST_BUILD COMMAND strip --strip-all $<TARGET_FILE:frames_prog_stripped>)
target_compile_options(cxx_prog PRIVATE -O2 -g)
foreach(p frames_prog frames_prog_nodebug frames_prog_stripped cxx_prog)
  set_target_properties(${p} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  target_compile_options(${p} PRIVATE -O2)
  rc_no_sanitizers(${p})
endforeach()
foreach(t ${RC_TESTS})
  get_filename_component(n ${t} NAME_WE)
  if(n STREQUAL "test_trace_preload" OR n STREQUAL "test_trace_signals" OR n STREQUAL "test_trace_frames"
     OR n STREQUAL "test_trace_report")
    add_dependencies(${n} recycle-trace trace_prog trace_prog_static recycle frames_prog frames_prog_nodebug
                     frames_prog_stripped cxx_prog)
    target_compile_definitions(${n} PRIVATE RC_PRELOAD_LIB="$<TARGET_FILE:recycle-trace>"
                               RC_TRACE_PROG_STATIC="$<TARGET_FILE:trace_prog_static>"
                               RC_FRAMES_PROG="$<TARGET_FILE:frames_prog>"
                               RC_FRAMES_PROG_NODEBUG="$<TARGET_FILE:frames_prog_nodebug>"
                               RC_FRAMES_PROG_STRIPPED="$<TARGET_FILE:frames_prog_stripped>"
                               RC_CXX_PROG="$<TARGET_FILE:cxx_prog>"
                               RC_TRACE_PROG="$<TARGET_FILE:trace_prog>" RC_RECYCLE="$<TARGET_FILE:recycle>")
  endif()
endforeach()

# `recycle trace` looks for the library beside itself, then where it is installed.
if(TARGET recycle)
  target_compile_definitions(recycle PRIVATE
    RC_PRELOAD_INSTALLED="${CMAKE_INSTALL_PREFIX}/${RECYCLE_PRELOAD_DIR}/librecycle-trace.so")
  add_dependencies(recycle recycle-trace)
endif()
