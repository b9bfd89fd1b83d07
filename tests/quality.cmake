# End-to-end correlation quality (issue 3): offline recordings of the
# default scenario (seeds 1..6) replayed through trackfused and scored by
# trackfuse-score against the issue's targets. Part of every scripts/test.sh
# run (about 10 s, a minute under ASan); `ctest -L quality -V` alone prints
# every figure per seed.
list(APPEND TF_IT_ENV SCORE=$<TARGET_FILE:trackfuse-score>)
tf_integration_test(it_quality quality.sh 300)
set_tests_properties(it_quality PROPERTIES LABELS "integration;quality")
