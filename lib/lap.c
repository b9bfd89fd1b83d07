/*
 * The linear assignment problem: n rows to m >= n columns, each row to
 * its own column, at least total cost. The correlation core assigns a
 * sensor's competing sources to system tracks with it; the scorer's OSPA
 * assigns tracks to truths.
 *
 * Solved by shortest augmenting paths with row and column potentials,
 * the augmentation phase of Jonker and Volgenant (1987): each row in turn
 * is added by a Dijkstra search over reduced costs, which stay
 * non-negative, so the result is exact, in O(n^2 m). The caller provides
 * the scratch (LAP_WORK_BYTES), so the core allocates nothing. Ties go
 * to the lowest column: the answer is a function of the matrix alone.
 */
#include <math.h>
#include <stddef.h>

#include "trackfuse/lap.h"

/* The scratch, carved out of the caller's buffer. */
struct lap_ws {
	double	*u, *v, *minv;
	size_t	*p, *way;
	int	*used;
};

/* Scan the unused columns from row i0 and return the nearest (j1). */
static size_t
lap_scan(size_t m, const double *cost, size_t i0, const double *u,
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
lap_row(size_t m, const double *cost, size_t i, const struct lap_ws *w)
{
	double	*u = w->u, *v = w->v, *minv = w->minv, delta;
	size_t	*p = w->p, *way = w->way, j, j0 = 0, j1;
	int	*used = w->used;

	for (j = 0; j <= m; j++) {
		minv[j] = HUGE_VAL;
		used[j] = 0;
		way[j] = 0;
	}
	p[0] = i;
	do {
		used[j0] = 1;
		j1 = lap_scan(m, cost, p[j0], u, v, used, minv, way, j0);
		if (j1 == 0)
			return -1;	/* no column left at all */
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
 * columns (col[i]) at least total cost, using work (LAP_WORK_BYTES(m),
 * aligned for a double). Costs must be finite (a large value forbids).
 * Returns -1 unless 1 <= n <= m.
 */
int
lap_solve(size_t n, size_t m, const double *cost, size_t *col, void *work)
{
	struct lap_ws	w;
	size_t		i, j;

	if (n < 1 || n > m)
		return -1;
	w.u = work;
	w.v = w.u + m + 1;
	w.minv = w.v + m + 1;
	w.p = (size_t *)(w.minv + m + 1);
	w.way = w.p + m + 1;
	w.used = (int *)(w.way + m + 1);
	for (j = 0; j <= m; j++) {
		w.u[j] = w.v[j] = 0.0;
		w.p[j] = 0;
	}
	for (i = 1; i <= n; i++)
		if (lap_row(m, cost, i, &w) == -1)
			return -1;
	for (j = 1; j <= m; j++)
		if (w.p[j] != 0)
			col[w.p[j] - 1] = j - 1;
	return 0;
}
