# trackfuse-score: SIAP scoring of a picture against the simulator's truth.
# The measures live in tfsiap (tools/siap.c) so that tests/test_score.c
# links the same code as the tool.
add_library(tfsiap STATIC ${CMAKE_CURRENT_SOURCE_DIR}/siap.c)
target_include_directories(tfsiap PUBLIC ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(tfsiap PUBLIC trackfuse tflap ${MATH_LIB})

add_executable(trackfuse-score ${CMAKE_CURRENT_SOURCE_DIR}/score.c)
target_link_libraries(trackfuse-score PRIVATE tfsiap trackfuse
  PkgConfig::LIBEVENT_CORE ${MATH_LIB})
install(TARGETS trackfuse-score DESTINATION bin)
