# Scoring measures (tools/siap.c) on hand-made truth and track sets.
tf_unit_test(test_score ${CMAKE_CURRENT_SOURCE_DIR}/test_score.c)
target_link_libraries(test_score PRIVATE tfsiap ${MATH_LIB})
