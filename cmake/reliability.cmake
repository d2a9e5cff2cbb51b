# Fuzz harnesses (docs/reliability.md).  Each fuzz/fuzz_<name>.c
# defines LLVMFuzzerTestOneInput.  Always: a replay_<name> program (the
# harness + fuzz/replay.c, any compiler) and a ctest entry replaying
# tests/corpus/<name>/, crashes included.  With -DRC_FUZZ=ON (clang, set by
# scripts/fuzz.sh, which also instruments everything with
# CMAKE_C_FLAGS=-fsanitize=fuzzer-no-link): the libFuzzer binary
# fuzz_<name> too.
option(RC_FUZZ "build the libFuzzer harnesses (clang)" OFF)

file(GLOB RC_FUZZERS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/fuzz/fuzz_*.c)
foreach(src ${RC_FUZZERS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(replay_${name} ${src} ${PROJECT_SOURCE_DIR}/fuzz/replay.c)
  target_compile_definitions(replay_${name} PRIVATE _GNU_SOURCE)
  target_include_directories(replay_${name} PRIVATE ${PROJECT_SOURCE_DIR}/fuzz)
  target_link_libraries(replay_${name} PRIVATE recycle_tools_static recycle_static)
  add_test(NAME ${name}_corpus COMMAND replay_${name} ${PROJECT_SOURCE_DIR}/tests/corpus/${name})
  if(name STREQUAL "fuzz_ops")
    # Every full collection split across two workers, however small the heap.
    add_test(NAME ${name}_corpus_workers2 COMMAND replay_${name} ${PROJECT_SOURCE_DIR}/tests/corpus/${name})
    set_tests_properties(${name}_corpus_workers2 PROPERTIES ENVIRONMENT "RECYCLE_GC_WORKERS=2;RECYCLE_GC_PARALLEL_MIN=0")
  endif()
  if(RC_FUZZ)
    add_executable(${name} ${src})
    target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/fuzz)
    target_link_libraries(${name} PRIVATE recycle_tools_static recycle_static)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  endif()
endforeach()

# The seed files of the file-format corpora (run by hand; see docs/reliability.md).
add_executable(fuzz_make_seeds ${PROJECT_SOURCE_DIR}/fuzz/make_seeds.c)
target_compile_definitions(fuzz_make_seeds PRIVATE _GNU_SOURCE)
target_link_libraries(fuzz_make_seeds PRIVATE recycle_tools_static recycle_static)

# tests/test_faults.c fails the C library's allocations as librecycle calls
# them: every malloc/calloc/realloc reference in the static library goes
# through the test's __wrap_ functions.
if(TARGET test_faults)
  target_link_options(test_faults PRIVATE -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc)
endif()
