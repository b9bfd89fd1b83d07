# Record and replay: the reader unit test, tf-picdump (a picture file
# reader for scripts) and the it_replay integration test.

tf_unit_test(test_replay test_replay.c)
target_link_libraries(test_replay PRIVATE tfdaemon)

# tf-picdump: summary or final state of a picture file (test only).
add_executable(tf-picdump ${CMAKE_CURRENT_SOURCE_DIR}/picdump.c)
target_link_libraries(tf-picdump PRIVATE trackfuse)

tf_integration_test(it_replay replay.sh 240)
set_tests_properties(it_replay PROPERTIES
  ENVIRONMENT "${TF_IT_ENV};PICDUMP=$<TARGET_FILE:tf-picdump>")
