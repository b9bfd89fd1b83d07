# Integration tests: the real daemon, simulator, subscriber and tf-poke
# processes on loopback, driven by bash scripts in tests/integration/.

# tf-poke: a raw peer that misbehaves on purpose (test only, not installed).
add_executable(tf-poke ${CMAKE_CURRENT_SOURCE_DIR}/poke.c)
target_link_libraries(tf-poke PRIVATE trackfuse PkgConfig::LIBEVENT_CORE
  PkgConfig::OPENSSL ${MATH_LIB})

set(TF_IT_DIR ${CMAKE_CURRENT_SOURCE_DIR}/integration)
set(TF_IT_ENV
  TRACKFUSED=$<TARGET_FILE:trackfused>
  SIM=$<TARGET_FILE:trackfuse-sim>
  SUB=$<TARGET_FILE:trackfuse-sub>
  POKE=$<TARGET_FILE:tf-poke>
  SRC=${PROJECT_SOURCE_DIR}
  WORK=${CMAKE_CURRENT_BINARY_DIR}/it)

# tf_integration_test(NAME SCRIPT TIMEOUT): one script, one ctest test.
function(tf_integration_test name script timeout)
  add_test(NAME ${name} COMMAND bash ${TF_IT_DIR}/${script})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "${TF_IT_ENV}"
    TIMEOUT ${timeout}
    LABELS integration)
endfunction()

tf_integration_test(it_config config.sh 120)
# it_config writes configs/certs/ in the source tree, as the demo does.
set_tests_properties(it_config PROPERTIES RESOURCE_LOCK tf-configs-certs)
tf_integration_test(it_e2e e2e.sh 300)
tf_integration_test(it_badinput badinput.sh 300)
tf_integration_test(it_reload reload.sh 120)
tf_integration_test(it_slow slow.sh 300)
tf_integration_test(it_plain plain.sh 180)
