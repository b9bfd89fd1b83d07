/*
 * The linear assignment problem of the correlation core: n rows (one
 * sensor's sources competing for system tracks) to m >= n columns (the
 * tracks, and a new track per row), each row to its own column, at least
 * total cost.
 *
 * Solved by shortest augmenting paths with row and column potentials,
 * the augmentation phase of Jonker and Volgenant (1987): each row in turn
 * is added by a Dijkstra search over reduced costs, which stay
 * non-negative, so the result is exact. O(n^2 m) for the few rows and
 * tens of columns of a cluster; no allocation (the sizes are bounded).
 * Ties go to the lowest column, so the answer is a function of the
 * matrix alone.
 */
#include <math.h>
#include <stddef.h>

#include "trackfuse/corr.h"

/* Scan the unused columns from row i0 and return the nearest (j1). */
static size_t
corr_lap_scan(size_t m, const double *cost, size_t i0, const double *u,
    const double *v, const int *used, double *minv, size_t *way, size_t j0)
{
	double	cur, delta = HUGE_VAL;
	size_t	j, j1 = 0;

	for (j = 1; j <= m; j++) {
		if (used[j])
			continue;
		cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
		if (cur < minv[j]) {
			minv[j] = cur;
			way[j] = j0;
		}
		if (minv[j] < delta) {
			delta = minv[j];
			j1 = j;
		}
	}
	return j1;
}

/* Add row i to the assignment p (column -> row, 1-based; 0 free). */
static int
corr_lap_row(size_t m, const double *cost, size_t i, double *u, double *v,
    size_t *p)
{
	double	minv[CORR_LAP_MAX + 1], delta;
	size_t	way[CORR_LAP_MAX + 1], j, j0 = 0, j1;
	int	used[CORR_LAP_MAX + 1];

	for (j = 0; j <= m; j++) {
		minv[j] = HUGE_VAL;
		used[j] = 0;
		way[j] = 0;
	}
	p[0] = i;
	do {
		used[j0] = 1;
		j1 = corr_lap_scan(m, cost, p[j0], u, v, used, minv, way, j0);
		if (j1 == 0)
			return -1;	/* every cost infinite: no column left */
		delta = minv[j1];
		for (j = 0; j <= m; j++) {
			if (used[j]) {
				u[p[j]] += delta;
				v[j] -= delta;
			} else
				minv[j] -= delta;
		}
		j0 = j1;
	} while (p[j0] != 0);
	do {
		j1 = way[j0];
		p[j0] = p[j1];
		j0 = j1;
	} while (j0 != 0);
	return 0;
}

/*
 * Assign rows 0..n-1 of the n x m row-major cost matrix to distinct
 * columns (col[i]) at least total cost. Costs must be finite (use a large
 * value for "forbidden"). Returns -1 unless 1 <= n <= m <= CORR_LAP_MAX.
 */
int
corr_lap(size_t n, size_t m, const double *cost, size_t *col)
{
	double	u[CORR_LAP_MAX + 1], v[CORR_LAP_MAX + 1];
	size_t	p[CORR_LAP_MAX + 1], i, j;

	if (n < 1 || n > m || m > CORR_LAP_MAX)
		return -1;
	for (j = 0; j <= m; j++) {
		u[j] = v[j] = 0.0;
		p[j] = 0;
	}
	for (i = 1; i <= n; i++)
		if (corr_lap_row(m, cost, i, u, v, p) == -1)
			return -1;
	for (j = 1; j <= m; j++)
		if (p[j] != 0)
			col[p[j] - 1] = j - 1;
	return 0;
}
