# End-to-end correlation quality (issue 3): offline recordings of the
# default scenario (seeds 1..6) replayed through trackfused and scored by
# trackfuse-score against the issue's targets.
list(APPEND TF_IT_ENV SCORE=$<TARGET_FILE:trackfuse-score>)
tf_integration_test(it_quality quality.sh 300)
