# policy.c: bad policy fixtures with golden error lines, evaluation, class
# keys, coarsening and the shipped policies (tests/policy/, configs/).
tf_unit_test(test_policy test_policy.c)
target_link_libraries(test_policy PRIVATE tfpolicy)
target_compile_definitions(test_policy PRIVATE
  TF_TEST_POLICY_DIR="${CMAKE_CURRENT_SOURCE_DIR}/policy"
  TF_TEST_SHIPPED_DIR="${PROJECT_SOURCE_DIR}/configs")
