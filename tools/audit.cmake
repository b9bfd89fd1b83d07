# trackfuse-audit: verify and show the release audit trail.
add_executable(trackfuse-audit ${CMAKE_CURRENT_SOURCE_DIR}/audit.c)
target_link_libraries(trackfuse-audit PRIVATE tfaudit)
install(TARGETS trackfuse-audit DESTINATION bin)
