/*
 * Unit tests of the assignment solver (lib/lap.c): against brute force on
 * random matrices with forbidden entries, ties, and its refusals.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "trackfuse/lap.h"
#include "testrand.h"

#define TEST_MAXM	8

/* Brute force: least total cost of rows r..n-1 to unused columns. */
static double
test_brute(size_t n, size_t m, const double *cost, size_t r, unsigned used)
{
	double	best = HUGE_VAL, v;
	size_t	j;

	if (r == n)
		return 0.0;
	for (j = 0; j < m; j++) {
		if (used & (1U << j))
			continue;
		v = cost[r * m + j] + test_brute(n, m, cost, r + 1,
		    used | (1U << j));
		if (v < best)
			best = v;
	}
	return best;
}

/* 500 random problems up to 6 x 8, a fifth of the entries forbidden. */
static void
test_random(void **state)
{
	double		 cost[6 * TEST_MAXM], tot;
	double		 work[LAP_WORK_BYTES(TEST_MAXM) / sizeof(double)];
	size_t		 col[TEST_MAXM], n, m, i, k;
	uint64_t	 seed = 17;
	unsigned	 seen;

	(void)state;
	for (k = 0; k < 500; k++) {
		n = 1 + test_rand(&seed) % 6;
		m = n + test_rand(&seed) % 3;
		for (i = 0; i < n * m; i++)
			cost[i] = test_unif(&seed) < 0.2 ? 1e30 :
			    floor(100.0 * test_unif(&seed));
		for (i = 0; i < n; i++)		/* keep it feasible */
			cost[i * m + i] = 50.0;
		assert_int_equal(lap_solve(n, m, cost, col, work), 0);
		for (tot = 0.0, seen = 0, i = 0; i < n; i++) {
			assert_true(col[i] < m);
			assert_false(seen & (1U << col[i]));
			seen |= 1U << col[i];
			tot += cost[i * m + col[i]];
		}
		assert_float_equal(tot, test_brute(n, m, cost, 0, 0), 1e-9);
	}
}

/* Ties go to the lowest column; bad sizes are refused. */
static void
test_ties_refusals(void **state)
{
	double	cost[4] = { 1.0, 1.0, 1.0, 1.0 };
	double	work[LAP_WORK_BYTES(4) / sizeof(double)];
	size_t	col[4];

	(void)state;
	assert_int_equal(lap_solve(1, 4, cost, col, work), 0);
	assert_int_equal(col[0], 0);
	assert_int_equal(lap_solve(2, 2, cost, col, work), 0);
	assert_int_equal(col[0], 0);
	assert_int_equal(col[1], 1);
	assert_int_equal(lap_solve(0, 4, cost, col, work), -1);
	assert_int_equal(lap_solve(3, 2, cost, col, work), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_ties_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
