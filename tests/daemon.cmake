# Unit tests for the daemon modules (daemon/), each linking the real tfdaemon.
tf_unit_test(test_publish test_publish.c)
target_link_libraries(test_publish PRIVATE tfdaemon)
tf_unit_test(test_feed test_feed.c)
target_link_libraries(test_feed PRIVATE tfdaemon)
