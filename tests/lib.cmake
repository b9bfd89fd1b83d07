# Unit tests for libtrackfuse and tfgeo (lib/), each linking the real code.
tf_unit_test(test_wire test_wire.c)
target_link_libraries(test_wire PRIVATE trackfuse)
tf_unit_test(test_codec test_codec.c)
target_link_libraries(test_codec PRIVATE trackfuse)
tf_unit_test(test_geo test_geo.c)
target_link_libraries(test_geo PRIVATE tfgeo)
tf_unit_test(test_log test_log.c)
target_link_libraries(test_log PRIVATE trackfuse)
tf_unit_test(test_tls test_tls.c)
target_link_libraries(test_tls PRIVATE trackfuse)
target_compile_definitions(test_tls PRIVATE
  TF_GENCERTS="${PROJECT_SOURCE_DIR}/scripts/gen-certs.sh"
  TF_TLS_WORK="${CMAKE_CURRENT_BINARY_DIR}/tls-work")
set_tests_properties(test_tls PROPERTIES TIMEOUT 20)
tf_unit_test(test_lap test_lap.c)
target_link_libraries(test_lap PRIVATE tflap ${MATH_LIB})
