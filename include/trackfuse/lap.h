/*
 * The linear assignment problem (lib/lap.c): shortest augmenting paths,
 * exact, no allocation of its own.
 */
#ifndef TRACKFUSE_LAP_H
#define TRACKFUSE_LAP_H

#include <stddef.h>

/* Scratch that lap_solve needs for m columns, in bytes. */
#define LAP_WORK_BYTES(m)	(((size_t)(m) + 1) * 6 * sizeof(double))

/*
 * Rows 0..n-1 of an n x m row-major cost matrix (finite costs; a large
 * value forbids) to distinct columns (col[i]) at least total cost; work
 * is LAP_WORK_BYTES(m), aligned for a double. -1 unless 1 <= n <= m.
 */
int	lap_solve(size_t, size_t, const double *, size_t *, void *);

#endif
