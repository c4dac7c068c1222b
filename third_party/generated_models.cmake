# The model the README's first command inspects (build/models/smallnet.onnx): written by the
# cnnvis binary itself from a named architecture with fixed-seed weights, so a fresh checkout
# has a model to look at with nothing downloaded. Part of the default (ALL) build.
set(CNNVIS_GENERATED_MODEL_DIR ${CMAKE_BINARY_DIR}/models)
add_custom_command(
  OUTPUT ${CNNVIS_GENERATED_MODEL_DIR}/smallnet.onnx
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CNNVIS_GENERATED_MODEL_DIR}
  COMMAND $<TARGET_FILE:cnnvis-cli> convert --arch smallnet --seed 1 -o ${CNNVIS_GENERATED_MODEL_DIR}/smallnet.onnx
  DEPENDS cnnvis-cli
  COMMENT "Generating models/smallnet.onnx (cnnvis convert --arch smallnet --seed 1)"
  VERBATIM)
add_custom_target(generated_models ALL DEPENDS ${CNNVIS_GENERATED_MODEL_DIR}/smallnet.onnx)
