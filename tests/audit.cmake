# The release audit trail: unit tests of daemon/audit.c and an integration
# test of the trackfuse-audit tool.
tf_unit_test(test_audit test_audit.c)
target_link_libraries(test_audit PRIVATE tfaudit)
# Count (and fail on demand) the fdatasync calls of the durability policy.
target_link_options(test_audit PRIVATE -Wl,--wrap=fdatasync)

if(TARGET trackfuse-audit AND COMMAND tf_integration_test)
  list(APPEND TF_IT_ENV AUDIT=$<TARGET_FILE:trackfuse-audit>)
  tf_integration_test(it_audit audit.sh 60)
endif()
