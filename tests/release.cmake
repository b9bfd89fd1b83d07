# release.c with the real correlator, policies and publisher: release
# classes, fail closed, area, sanitizers, retraction, scoped ids, splicing.
tf_unit_test(test_release test_release.c)
target_link_libraries(test_release PRIVATE tfdaemon)
target_compile_definitions(test_release PRIVATE
  TF_TEST_SHIPPED_DIR="${PROJECT_SOURCE_DIR}/configs")

# tf-recfilter: deletes or randomizes what one recipient may not receive
# (the real policies decide), for the noninterference test (test only).
add_executable(tf-recfilter ${CMAKE_CURRENT_SOURCE_DIR}/recfilter.c)
target_link_libraries(tf-recfilter PRIVATE tfdaemon)

tf_integration_test(it_noninterference noninterference.sh 240)
set_tests_properties(it_noninterference PROPERTIES
  ENVIRONMENT "${TF_IT_ENV};RECFILTER=$<TARGET_FILE:tf-recfilter>;PICDUMP=$<TARGET_FILE:tf-picdump>")
tf_integration_test(it_revocation revocation.sh 120)
if(TARGET trackfuse-audit)
  tf_integration_test(it_release release.sh 120)
  set_tests_properties(it_release PROPERTIES
    ENVIRONMENT "${TF_IT_ENV};AUDIT=$<TARGET_FILE:trackfuse-audit>")
endif()
