# config.c: good and bad fixtures with golden error lines, and the shipped
# configs (tests/config/, configs/).
tf_unit_test(test_config test_config.c)
target_link_libraries(test_config PRIVATE tfconfig)
target_compile_definitions(test_config PRIVATE
  TF_TEST_CONFIG_DIR="${CMAKE_CURRENT_SOURCE_DIR}/config"
  TF_TEST_SHIPPED_DIR="${PROJECT_SOURCE_DIR}/configs")
