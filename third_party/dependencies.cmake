# Finds every system dependency of libcnnvis. Nothing is downloaded; no source is vendored.
find_package(PkgConfig REQUIRED)

pkg_check_modules(PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)
find_program(PROTOC_C NAMES protoc-c protoc-gen-c REQUIRED)
find_path(ONNX_PROTO_DIR onnx.proto PATH_SUFFIXES onnx REQUIRED
  HINTS /usr/include/onnx /usr/local/include/onnx /opt/homebrew/include/onnx)

pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb)
# Sanitized and fuzzing builds compile stb from Debian's headers instead (stb_from_header.c), so
# that ASan and the fuzzer's coverage see inside the image decoders; other builds link libstb.
if(CNNVIS_FUZZ OR CNNVIS_SANITIZE)
  set(CNNVIS_STB_LINK "")
  set(CNNVIS_STB_SOURCES ${CMAKE_CURRENT_LIST_DIR}/stb_from_header.c)
else()
  set(CNNVIS_STB_LINK PkgConfig::STB)
  set(CNNVIS_STB_SOURCES "")
endif()
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
pkg_check_modules(FFTW3F REQUIRED IMPORTED_TARGET fftw3f) # the Fourier parameterization on the CPU
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(HDF5 REQUIRED IMPORTED_TARGET hdf5) # Keras .h5 models
# giflib ships no pkg-config file.
find_path(GIF_INCLUDE_DIR gif_lib.h REQUIRED)
find_library(GIF_LIBRARY gif REQUIRED) # animated GIFs of optimization runs
find_package(Threads REQUIRED)

# Vulkan headers only: the loader is opened at run time through volk, so the binary starts
# on machines without Vulkan.
find_path(VULKAN_INCLUDE_DIR vulkan/vulkan.h REQUIRED)
find_path(VOLK_DIR volk.c PATHS /usr/include /usr/local/include /opt/homebrew/include REQUIRED)
find_program(GLSLANG_VALIDATOR glslangValidator REQUIRED)

set(CNNVIS_DEP_LIBS
  PkgConfig::PROTOBUF_C ${CNNVIS_STB_LINK} PkgConfig::OPENBLAS PkgConfig::FFTW3F PkgConfig::ZLIB PkgConfig::JANSSON PkgConfig::HDF5 ${GIF_LIBRARY} Threads::Threads
  ${CMAKE_DL_LIBS})
set(CNNVIS_DEP_INCLUDES ${VULKAN_INCLUDE_DIR} ${VOLK_DIR} ${GIF_INCLUDE_DIR})
