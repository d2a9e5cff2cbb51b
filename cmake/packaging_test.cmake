# A core-only build in a temporary folder, checked and installed as a
# packager would, then used by out-of-tree programs (tests/packaging/check.sh).
add_test(NAME packaging COMMAND bash ${PROJECT_SOURCE_DIR}/tests/packaging/check.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(packaging PROPERTIES LABELS packaging TIMEOUT 300
                     ENVIRONMENT "CC=${CMAKE_C_COMPILER}")
