# Installs libcnnvis as a package: the public headers, the static and shared libraries, the CLI,
# cnnvis.pc, a CMake package (find_package(cnnvis): cnnvis::cnnvis, cnnvis::cnnvis_static), the
# man page made from the CLI's --help and bash completion.
include(GNUInstallDirs)

set(CNNVIS_GENERATED_INCLUDE ${CMAKE_BINARY_DIR}/include)
configure_file(${CMAKE_SOURCE_DIR}/packaging/version.h.in ${CNNVIS_GENERATED_INCLUDE}/cnnvis/version.h @ONLY)
foreach(t cnnvis_objects cnnvis cnnvis_shared)
  target_include_directories(${t} PUBLIC ${CNNVIS_GENERATED_INCLUDE})
endforeach()

install(DIRECTORY ${CMAKE_SOURCE_DIR}/runtime/include/cnnvis ${CNNVIS_GENERATED_INCLUDE}/cnnvis
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS cnnvis cnnvis_shared cnnvis-cli
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The libraries the static archive needs, as -l flags, for cnnvis.pc's Libs.private and the
# CMake package's static target (the shared library records its own).
set(CNNVIS_PC_REQUIRES_PRIVATE "libprotobuf-c stb openblas fftw3f zlib jansson hdf5")
set(CNNVIS_STATIC_LIBS "-lgif -lpthread -ldl -lm")
# A sanitized build's libraries (CNNVIS_SANITIZE) need the sanitizers' runtimes linked first into
# every program that uses them: cnnvis.pc's Libs and the CMake targets carry the flag then.
set(CNNVIS_USER_LINK_FLAGS "")
if(CNNVIS_SANITIZE)
  set(CNNVIS_USER_LINK_FLAGS "-fsanitize=address,undefined")
endif()

# cnnvis.pc finds the prefix relative to itself, so the tree can be installed anywhere.
file(RELATIVE_PATH CNNVIS_PC_TO_PREFIX /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
configure_file(${CMAKE_SOURCE_DIR}/packaging/cnnvis.pc.in ${CMAKE_BINARY_DIR}/cnnvis.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/cnnvis.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

include(CMakePackageConfigHelpers)
configure_package_config_file(${CMAKE_SOURCE_DIR}/packaging/cnnvisConfig.cmake.in
  ${CMAKE_BINARY_DIR}/cnnvisConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cnnvis
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cnnvisConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cnnvisConfig.cmake ${CMAKE_BINARY_DIR}/cnnvisConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cnnvis)

# cnnvis.1 from `cnnvis --help` and every verb's --help, at build time: never stale.
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/cnnvis.1
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:cnnvis-cli> -DOUT=${CMAKE_BINARY_DIR}/cnnvis.1
          -DVERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/packaging/manpage.cmake
  DEPENDS cnnvis-cli ${CMAKE_SOURCE_DIR}/packaging/manpage.cmake
  COMMENT "cnnvis.1 from --help")
add_custom_target(cnnvis-man ALL DEPENDS ${CMAKE_BINARY_DIR}/cnnvis.1)
install(FILES ${CMAKE_BINARY_DIR}/cnnvis.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/cnnvis.bash-completion
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME cnnvis)
# The Python binding (pure ctypes), where it finds the library of this install.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/python/cnnvis DESTINATION ${CMAKE_INSTALL_DATADIR}/cnnvis/python
  PATTERN __pycache__ EXCLUDE)
