# Federation (issue 4): uplinks config, federation feed authorization,
# uplink_judge; and two daemons on loopback linked by an uplink.
tf_unit_test(test_uplink test_uplink.c)
target_link_libraries(test_uplink PRIVATE tfdaemon)
tf_integration_test(it_federation federation.sh 120)
