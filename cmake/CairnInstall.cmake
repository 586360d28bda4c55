# install() rules and the exported CMake package "cairn": what an application
# needs to build against the C++ SDK with
#
#   find_package(cairn 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE cairn::client)
#
# Installed: cairn-node and cairnctl in bin/; the static libraries
# cairn::client and the ones it links
# (cairn::ledger, cairn::base, cairn::proto, cairn::proto_grpc), the public
# headers of client/, ledger/ and base/, the generated cairn/v1 headers and
# their .proto sources, and cairnConfig.cmake, which finds the third-party
# packages those libraries use. Included once, after the targets exist.
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CAIRN_INSTALL_TARGETS cairn_client cairn_ledger cairn_base cairn_proto cairn_proto_grpc)
set(CAIRN_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/cairn)

# cairn_foo is exported as cairn::foo.
foreach(target ${CAIRN_INSTALL_TARGETS})
  string(REGEX REPLACE "^cairn_" "" export_name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
endforeach()

# The programs: the node and the CLI (cairn-drill, built with the tests,
# installs itself beside them: deploy/drill/CMakeLists.txt).
install(TARGETS cairn-node cairnctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(TARGETS ${CAIRN_INSTALL_TARGETS}
  EXPORT cairnTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

foreach(module client ledger base)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${module}/include/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
endforeach()
install(DIRECTORY ${PROJECT_BINARY_DIR}/proto/cairn/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cairn FILES_MATCHING PATTERN "*.pb.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/proto/cairn/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cairn FILES_MATCHING PATTERN "*.proto")

install(EXPORT cairnTargets NAMESPACE cairn:: DESTINATION ${CAIRN_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cairnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cairnConfig.cmake INSTALL_DESTINATION ${CAIRN_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cairnConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cairnConfig.cmake ${PROJECT_BINARY_DIR}/cairnConfigVersion.cmake
  DESTINATION ${CAIRN_INSTALL_CMAKEDIR})
