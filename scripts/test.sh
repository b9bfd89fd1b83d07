#!/usr/bin/env bash
# test.sh: install missing packages, build with -Werror, run every test
# (unit and integration), then all of them again under ASan/UBSan (the
# daemon, simulator and clients run sanitized in the integration tests, so
# a leak or an overflow on bad input fails the run).
# Exits non-zero on any failure. Environment knobs:
#   JOBS=N           parallel build/test jobs (default 2)
#   TF_NO_ASAN=1     skip the sanitizer build
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-2}
START=$(date +%s)

bash scripts/deps.sh

echo "== build (RelWithDebInfo, -Werror) into build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTF_WERROR=ON -DBUILD_TESTING=ON
cmake --build build -j"$JOBS"

echo "== tests"
(cd build && ctest --output-on-failure --timeout 300 -j"$JOBS")

if [ "${TF_NO_ASAN:-0}" != 1 ]; then
	echo "== ASan/UBSan build into build-asan/, all tests again"
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTF_WERROR=ON \
	    -DTF_SANITIZE=ON -DBUILD_TESTING=ON
	cmake --build build-asan -j"$JOBS"
	(cd build-asan &&
	    ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1} \
	    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	    ctest --output-on-failure --timeout 600 -j"$JOBS")
fi

echo "== all tests passed in $(( $(date +%s) - START )) s"
