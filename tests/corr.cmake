# The correlation core, tested alone: it links tfgeo and libm, nothing else.
tf_unit_test(test_corr test_corr.c)
target_link_libraries(test_corr PRIVATE tfcorr)
# Heap calls are counted through -Wl,--wrap to prove the hot path allocates
# nothing once warm.
target_link_options(test_corr PRIVATE -Wl,--wrap=malloc -Wl,--wrap=calloc
  -Wl,--wrap=realloc)
