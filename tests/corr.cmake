# The correlation core, tested alone: it links tfgeo and libm, nothing else.
tf_unit_test(test_corr test_corr.c)
target_link_libraries(test_corr PRIVATE tfcorr)
