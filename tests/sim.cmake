# The simulators (sim/): motion, sensor tracker, RNG, determinism and the
# shipped scenario, through the tfsim library that trackfuse-sim links too.
tf_unit_test(test_sim test_sim.c)
target_link_libraries(test_sim PRIVATE tfsim)
target_compile_definitions(test_sim PRIVATE
  TF_TEST_SCENARIO="${PROJECT_SOURCE_DIR}/configs/scenarios/default.yaml")
