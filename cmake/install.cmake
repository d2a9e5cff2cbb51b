# make install: headers, librecycle (shared and static), librecycle-instrument,
# librecycle-tools (shared and static) when built, recycle.pc and
# recycle-tools.pc, and the CMake package of find_package(recycle CONFIG).
include(CMakePackageConfigHelpers)
set(RC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/recycle)

install(FILES include/recycle.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(TARGETS recycle_shared EXPORT recycleTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT core NAMELINK_COMPONENT dev)
install(TARGETS recycle_static recycle_instrument EXPORT recycleTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(EXPORT recycleTargets NAMESPACE recycle:: DESTINATION ${RC_CMAKE_DIR} COMPONENT dev)

if(RC_WITH_TOOLS)
  install(FILES include/recycle-tools.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
  install(TARGETS recycle_tools_shared EXPORT recycleToolsTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT tools NAMELINK_COMPONENT dev)
  # The static tools library is for pkg-config --static users: its
  # PLplot/Graphviz/libdw link lines come from recycle-tools.pc.
  install(TARGETS recycle_tools_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
  install(EXPORT recycleToolsTargets NAMESPACE recycle:: DESTINATION ${RC_CMAKE_DIR} COMPONENT dev)
endif()

# pkg-config files: absolute paths stay absolute (CMAKE_INSTALL_LIBDIR may be).
foreach(d LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
    set(RC_PC_${d} "${CMAKE_INSTALL_${d}}")
  else()
    set(RC_PC_${d} "\${prefix}/${CMAKE_INSTALL_${d}}")
  endif()
endforeach()
set(RC_PC_DL "")
if(CMAKE_DL_LIBS)
  set(RC_PC_DL "-l${CMAKE_DL_LIBS}")
endif()
configure_file(cmake/recycle.pc.in ${PROJECT_BINARY_DIR}/recycle.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/recycle.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
if(RC_WITH_TOOLS)
  configure_file(cmake/recycle-tools.pc.in ${PROJECT_BINARY_DIR}/recycle-tools.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/recycle-tools.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
endif()

configure_package_config_file(cmake/recycleConfig.cmake.in ${PROJECT_BINARY_DIR}/recycleConfig.cmake
                              INSTALL_DESTINATION ${RC_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/recycleConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/recycleConfig.cmake ${PROJECT_BINARY_DIR}/recycleConfigVersion.cmake
        DESTINATION ${RC_CMAKE_DIR} COMPONENT dev)
