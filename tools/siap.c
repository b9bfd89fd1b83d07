/*
 * SIAP measures of a picture against ground truth, with OSPA, fusion gain
 * and NEES. Everything here works on ECEF structs handed in by the caller
 * (trackfuse-score or a test); the definitions are in docs/scoring.md.
 *
 * Per sample time t (a truth time on the --interval grid):
 *  - every track alive at t is predicted to t with constant velocity from
 *    its last update at or before t;
 *  - each track associates to the nearest covered truth object (one that
 *    at least one sensor covers at t) within assoc_m; a track near none is
 *    spurious. Truth objects nobody covers are not scored at all;
 *  - "its" track, for track number changes and segments, is the one that
 *    held it at its last tracked sample while that one is still associated
 *    with it, else the nearest associated track. This follows Stone Soup's
 *    count of the fewest tracks needed to cover a truth: a duplicate that
 *    is sometimes nearer is ambiguity, not a change of track number;
 *  - fusion gain uses the nearest associated track (the best estimate).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trackfuse/geo.h"
#include "trackfuse/lap.h"
#include "trackfuse/log.h"
#include "trackfuse/siap.h"

/*
 * A hash grid of points (cells of edge e), so that every point within e
 * of a query is found by looking at the 27 cells around it: the nearest
 * truth to each track, and OSPA's pairs nearer than its cut-off, cost
 * time in proportion to the points instead of their product (a scale
 * scenario has 100,000 of each per sample).
 */
struct siap_grid {
	double		 e;
	size_t		 mask;		/* buckets - 1 */
	int32_t		*head;		/* bucket -> first point, -1 */
	int32_t		*next;		/* point -> next in its bucket */
};

/* Per-sample scratch space and running sums of one scoring run. */
struct siap_work {
	const struct siap_input		*in;
	const struct siap_params	*p;
	struct siap_result		*r;
	struct siap_update		*st;	/* picture track states at t */
	int				*alive;	/* picture track alive at t */
	int32_t				*as;	/* picture track -> truth, -1 */
	struct siap_update		 sst;	/* a sensor track state at t */
	int32_t				*best;	/* truth -> its track, -1 */
	double				*bestd;
	double				*sbest;	/* truth -> best sensor error */
	double				(*x)[3];
	double				(*y)[3];
	double				(*gpos)[3];	/* sample truths */
	int				*gcov;		/* ... covered */
	struct siap_grid		 tg;		/* ... in cells of assoc_m */
	size_t				 sample;
	double				 pos_sum, vel_sum, ospa_sum;
	double				 nees_sum, fused2, single2;
	double				 nees_one, nees_many;
	double				 tracked_s;
};

/* calloc that treats exhaustion as fatal (a scoring tool, not a daemon). */
static void *
siap_calloc(size_t n, size_t sz)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		fatal("siap: out of memory");
	return p;
}

/* Cell coordinate of v (clamped: far points share the edge cells). */
static int64_t
siap_cell(double v, double e)
{
	double	c = floor(v / e);

	return c < -1e15 ? (int64_t)-1e15 : c > 1e15 ? (int64_t)1e15 :
	    (int64_t)c;
}

/* Bucket of cell (a, b, c). */
static size_t
siap_grid_bucket(const struct siap_grid *gr, int64_t a, int64_t b, int64_t c)
{
	uint64_t	h;

	h = (uint64_t)a * 0x9e3779b97f4a7c15ULL ^
	    (uint64_t)b * 0xc2b2ae3d27d4eb4fULL ^
	    (uint64_t)c * 0x165667b19e3779f9ULL;
	h ^= h >> 29;
	return (size_t)h & gr->mask;
}

/* File the n points p (those with use[i] != 0, or all) in cells of edge e. */
static void
siap_grid_build(struct siap_grid *gr, const double (*p)[3], size_t n,
    const int *use, double e)
{
	size_t	i, nb = 16, b;

	while (nb < 2 * n)
		nb *= 2;
	gr->e = e > 0.0 && isfinite(e) ? e : 1.0;
	gr->mask = nb - 1;
	gr->head = siap_calloc(nb, sizeof(*gr->head));
	gr->next = siap_calloc(n, sizeof(*gr->next));
	memset(gr->head, 0xff, nb * sizeof(*gr->head));
	for (i = n; i-- > 0;) {	/* chains in ascending index */
		if (use != NULL && !use[i])
			continue;
		b = siap_grid_bucket(gr, siap_cell(p[i][0], gr->e),
		    siap_cell(p[i][1], gr->e), siap_cell(p[i][2], gr->e));
		gr->next[i] = gr->head[b];
		gr->head[b] = (int32_t)i;
	}
}

/* Free what siap_grid_build allocated. */
static void
siap_grid_free(struct siap_grid *gr)
{
	free(gr->head);
	free(gr->next);
	memset(gr, 0, sizeof(*gr));
}

/*
 * Call fn for every point filed in the 27 cells around q (each once: two
 * cells in one bucket are looked at once), and some others.
 */
static void
siap_grid_near(const struct siap_grid *gr, const double q[3],
    void (*fn)(void *, int32_t), void *arg)
{
	size_t	seen[27], ns = 0, b, k;
	int64_t	c[3];
	int32_t	i;
	int	d;

	for (d = 0; d < 3; d++)
		c[d] = siap_cell(q[d], gr->e);
	for (d = 0; d < 27; d++) {
		b = siap_grid_bucket(gr, c[0] + d / 9 - 1, c[1] + d / 3 % 3 - 1,
		    c[2] + d % 3 - 1);
		for (k = 0; k < ns && seen[k] != b; k++)
			;
		if (k < ns)
			continue;
		seen[ns++] = b;
		for (i = gr->head[b]; i != -1; i = gr->next[i])
			fn(arg, i);
	}
}

/* Fill p with the defaults documented in docs/scoring.md. */
void
siap_params_default(struct siap_params *p)
{
	p->interval_ns = SIAP_DEF_INTERVAL_NS;
	p->assoc_m = SIAP_DEF_ASSOC_M;
	p->ospa_c = SIAP_DEF_OSPA_C;
	p->ospa_p = SIAP_DEF_OSPA_P;
	p->max_age_ns = SIAP_DEF_MAX_AGE_NS;
	p->sensor_age = SIAP_DEF_SENSOR_AGE;
}

/* Append u to t, keeping updates sorted by time and ties in input order. */
void
siap_track_push(struct siap_track *t, const struct siap_update *u)
{
	struct siap_update	*n;
	size_t			 i;

	if (t->nupd == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		if ((n = reallocarray(t->upd, t->cap, sizeof(*n))) == NULL)
			fatal("siap: out of memory");
		t->upd = n;
	}
	/* Input is nearly sorted: an insertion step is O(1) amortised. */
	for (i = t->nupd; i > 0 && t->upd[i - 1].t_ns > u->t_ns; i--)
		t->upd[i] = t->upd[i - 1];
	t->upd[i] = *u;
	t->nupd++;
}

/* Free a track's updates. */
void
siap_track_free(struct siap_track *t)
{
	free(t->upd);
	t->upd = NULL;
	t->nupd = t->cap = 0;
}

/* Predict u to time t: constant velocity, covariance F P F^T, no noise. */
void
siap_predict(const struct siap_update *u, int64_t t, struct siap_update *out)
{
	double	dt = (double)(t - u->t_ns) * 1e-9;
	double	c[36];
	int	i, j;

	memcpy(c, u->cov, sizeof(c));
	for (i = 0; i < 3; i++) {
		out->pos[i] = u->pos[i] + u->vel[i] * dt;
		out->vel[i] = u->vel[i];
	}
	/* F = [I dt*I; 0 I]: Ppp += dt(Ppv + Pvp) + dt^2 Pvv, Ppv += dt Pvv. */
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			c[i * 6 + j] = u->cov[i * 6 + j] +
			    dt * (u->cov[i * 6 + j + 3] + u->cov[(i + 3) * 6 + j]) +
			    dt * dt * u->cov[(i + 3) * 6 + j + 3];
			c[i * 6 + j + 3] = u->cov[i * 6 + j + 3] +
			    dt * u->cov[(i + 3) * 6 + j + 3];
			c[(i + 3) * 6 + j] = u->cov[(i + 3) * 6 + j] +
			    dt * u->cov[(i + 3) * 6 + j + 3];
		}
	memcpy(out->cov, c, sizeof(c));
	out->t_ns = t;
	out->drop = 0;
	out->contributors = u->contributors;
}

/*
 * The state of track tr at t: its last event at or before t must be an
 * update (not a drop) at most max_age old; it is predicted to t.
 */
int
siap_track_at(const struct siap_track *tr, int64_t t, int64_t max_age,
    struct siap_update *out)
{
	size_t	lo = 0, hi = tr->nupd, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (tr->upd[mid].t_ns <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	if (tr->upd[lo - 1].drop || t - tr->upd[lo - 1].t_ns > max_age)
		return -1;
	siap_predict(&tr->upd[lo - 1], t, out);
	return 0;
}

/* e^T P^-1 e with P the position block of cov; -1 if P is not invertible. */
double
siap_nees(const double e[3], const double cov[36])
{
	double	a = cov[0], b = cov[1], c = cov[2];
	double	d = cov[6], f = cov[7], g = cov[8];
	double	h = cov[12], k = cov[13], l = cov[14];
	double	i00, i01, i02, i10, i11, i12, i20, i21, i22, det;

	i00 = f * l - g * k;
	i01 = c * k - b * l;
	i02 = b * g - c * f;
	i10 = g * h - d * l;
	i11 = a * l - c * h;
	i12 = c * d - a * g;
	i20 = d * k - f * h;
	i21 = b * h - a * k;
	i22 = a * f - b * d;
	det = a * i00 + b * i10 + c * i20;
	if (!(det > 0.0) || !isfinite(det))
		return -1.0;
	return (e[0] * (i00 * e[0] + i01 * e[1] + i02 * e[2]) +
	    e[1] * (i10 * e[0] + i11 * e[1] + i12 * e[2]) +
	    e[2] * (i20 * e[0] + i21 * e[1] + i22 * e[2])) / det;
}

/* Standard normal quantile (Acklam's rational approximation, 1e-9). */
static double
siap_norminv(double q)
{
	static const double a[] = { -3.969683028665376e+01,
	    2.209460984245205e+02, -2.759285104469687e+02,
	    1.383577518672690e+02, -3.066479806614716e+01,
	    2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01,
	    1.615858368580409e+02, -1.556989798598866e+02,
	    6.680131188771972e+01, -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03,
	    -3.223964580411365e-01, -2.400758277161838e+00,
	    -2.549732539343734e+00, 4.374664141464968e+00,
	    2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03,
	    3.224671290700398e-01, 2.445134137142996e+00,
	    3.754408661907416e+00 };
	double	x, s;

	if (q <= 0.0 || q >= 1.0)
		return q <= 0.0 ? -INFINITY : INFINITY;
	if (q < 0.02425 || q > 1.0 - 0.02425) {
		x = sqrt(-2.0 * log(q < 0.5 ? q : 1.0 - q));
		s = (((((c[0] * x + c[1]) * x + c[2]) * x + c[3]) * x + c[4]) *
		    x + c[5]) / ((((d[0] * x + d[1]) * x + d[2]) * x + d[3]) *
		    x + 1.0);
		return q < 0.5 ? s : -s;
	}
	x = q - 0.5;
	s = x * x;
	return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s +
	    a[5]) * x / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s +
	    b[4]) * s + 1.0);
}

/* chi2inv(q, k) ~ k (1 - 2/(9k) + z_q sqrt(2/(9k)))^3 (Wilson-Hilferty). */
double
siap_chi2inv(double q, double k)
{
	double	v = 2.0 / (9.0 * k);
	double	m = 1.0 - v + siap_norminv(q) * sqrt(v);

	if (m < 0.0)
		m = 0.0;
	return k * m * m * m;
}

/* The sum of n NEES values of dof each is chi2(n dof): band of the mean. */
void
siap_nees_band(size_t n, int dof, double *lo, double *hi)
{
	double	k = (double)n * dof;

	if (n == 0) {
		*lo = *hi = NAN;
		return;
	}
	*lo = siap_chi2inv(0.025, k) / (double)n;
	*hi = siap_chi2inv(0.975, k) / (double)n;
}

/*
 * 95% interval of the mean NEES over objects o[0..n) whose samples are
 * correlated within an object and independent across objects: the
 * cluster-robust (sandwich) variance of a ratio mean, with the small-
 * sample factor J / (J - 1) over the J objects that have samples, and a
 * normal quantile. NaN with fewer than two such objects.
 */
void
siap_nees_interval(const struct siap_object *o, uint32_t n, double *lo,
    double *hi)
{
	double		s = 0.0, v = 0.0, m, d, ns = 0.0, se;
	uint32_t	i, nj = 0;

	for (i = 0; i < n; i++)
		if (o[i].nees_n > 0) {
			s += o[i].nees_sum;
			ns += (double)o[i].nees_n;
			nj++;
		}
	*lo = *hi = NAN;
	if (nj < 2)
		return;
	m = s / ns;
	for (i = 0; i < n; i++)
		if (o[i].nees_n > 0) {
			d = o[i].nees_sum - m * (double)o[i].nees_n;
			v += d * d;
		}
	se = sqrt(v * nj / (nj - 1.0)) / ns;
	*lo = m - 1.959964 * se;
	*hi = m + 1.959964 * se;
}

/*
 * Minimum-cost assignment of m rows to n >= m columns (lib/lap.c); a is
 * m x n row major. Returns the cost.
 */
static double
siap_assign(const double *a, size_t m, size_t n)
{
	double	*work, cost = 0.0;
	size_t	*col, i;

	work = siap_calloc(1, LAP_WORK_BYTES(n));
	col = siap_calloc(m, sizeof(*col));
	if (lap_solve(m, n, a, col, work) == -1)
		fatalx("siap: assignment of %zu to %zu", m, n);
	for (i = 0; i < m; i++)
		cost += a[i * n + col[i]];
	free(work);
	free(col);
	return cost;
}

/* Root of i in a union-find forest (with path halving). */
static size_t
siap_uf_root(size_t *up, size_t i)
{
	while (up[i] != i)
		i = up[i] = up[up[i]];
	return i;
}

/* OSPA's pairs: x[xi] and y points nearer than c are one component. */
struct siap_ospa_join {
	const double	(*y)[3];
	const double	*q;
	double		 c;
	size_t		*up;
	size_t		 xi, m;
};

/* Join the query point with y point j if they are nearer than c. */
static void
siap_ospa_join(void *arg, int32_t j)
{
	struct siap_ospa_join	*oj = arg;
	size_t			 a, b;

	if (!(geo_dist(oj->y[j], oj->q) < oj->c))
		return;
	a = siap_uf_root(oj->up, oj->xi);
	b = siap_uf_root(oj->up, oj->m + (size_t)j);
	if (a != b)
		oj->up[a < b ? b : a] = a < b ? a : b;
}

/*
 * The assignment part of one component: its ms points of x (xs) and ns of
 * y (ys), minus what leaving them all unassigned would cost.
 */
static double
siap_ospa_part(const double (*x)[3], const size_t *xs, size_t ms,
    const double (*y)[3], const size_t *ys, size_t ns, double c, double p)
{
	double	*a, d, cost, cp = pow(c, p);
	size_t	 i, j, r = ms <= ns ? ms : ns, k = ms <= ns ? ns : ms;

	a = siap_calloc(r * k, sizeof(*a));
	for (i = 0; i < ms; i++)
		for (j = 0; j < ns; j++) {
			d = geo_dist(x[xs[i]], y[ys[j]]);
			d = pow(d < c ? d : c, p);
			if (ms <= ns)
				a[i * k + j] = d;
			else
				a[j * k + i] = d;
		}
	cost = siap_assign(a, r, k);
	free(a);
	return cost - cp * (double)r;
}

/*
 * OSPA (Schuhmacher, Vo and Vo, 2008): with m <= n points,
 * ((min over assignments of sum d_c^p + c^p (n - m)) / n)^(1/p),
 * d_c = min(c, d). 0 when both sets are empty, c when one is.
 *
 * A pair at c or more costs what leaving both out does, so the minimum is
 * n c^p plus, for each connected component of the pairs nearer than c,
 * its own assignment's cost less c^p per pair assigned: components are
 * solved apart (found through a grid), and a large picture costs about
 * its points, not their product.
 */
double
siap_ospa(const double (*x)[3], size_t m, const double (*y)[3], size_t n,
    double c, double p)
{
	struct siap_grid	 gr;
	struct siap_ospa_join	 oj;
	size_t			*up, *cnt, *ord, *pos, i, r, b, e, ms;
	double			 total;

	if (m == 0 && n == 0)
		return 0.0;
	if (m == 0 || n == 0)
		return c;
	up = siap_calloc(m + n, sizeof(*up));
	for (i = 0; i < m + n; i++)
		up[i] = i;
	siap_grid_build(&gr, y, n, NULL, c);
	oj.y = y;
	oj.c = c;
	oj.up = up;
	oj.m = m;
	for (oj.xi = 0; oj.xi < m; oj.xi++) {
		oj.q = x[oj.xi];
		siap_grid_near(&gr, x[oj.xi], siap_ospa_join, &oj);
	}
	siap_grid_free(&gr);
	/* Points by component (a counting sort on the roots). */
	cnt = siap_calloc(m + n + 1, sizeof(*cnt));
	ord = siap_calloc(m + n, sizeof(*ord));
	pos = siap_calloc(m + n, sizeof(*pos));
	for (i = 0; i < m + n; i++)
		cnt[siap_uf_root(up, i) + 1]++;
	for (i = 0; i < m + n; i++)
		cnt[i + 1] += cnt[i];
	for (i = 0; i < m + n; i++) {
		r = siap_uf_root(up, i);
		ord[cnt[r] + pos[r]++] = i;
	}
	total = pow(c, p) * (double)(m > n ? m : n);
	for (r = 0; r < m + n; r++) {
		b = cnt[r];
		e = cnt[r + 1];
		for (ms = 0; b + ms < e && ord[b + ms] < m; ms++)
			;
		if (ms == 0 || b + ms == e)
			continue;
		for (i = b + ms; i < e; i++)
			ord[i] -= m;
		total += siap_ospa_part(x, &ord[b], ms, y, &ord[b + ms],
		    e - b - ms, c, p);
	}
	free(up);
	free(cnt);
	free(ord);
	free(pos);
	return pow(total / (double)(m > n ? m : n), 1.0 / p);
}

/*
 * A sensor's period: the smallest positive gap between two updates of
 * one of its tracks (missed scans only lengthen gaps); dflt if none.
 */
void
siap_periods(const struct siap_track *t, size_t nt, uint32_t nsensors,
    int64_t dflt, int64_t *period)
{
	size_t	i, k;
	int64_t	g;

	for (i = 0; i < nsensors; i++)
		period[i] = 0;
	for (i = 0; i < nt; i++) {
		if (t[i].sensor >= nsensors)
			continue;
		for (k = 1; k < t[i].nupd; k++) {
			if (t[i].upd[k].drop || t[i].upd[k - 1].drop)
				continue;
			g = t[i].upd[k].t_ns - t[i].upd[k - 1].t_ns;
			if (g > 0 && (period[t[i].sensor] == 0 ||
			    g < period[t[i].sensor]))
				period[t[i].sensor] = g;
		}
	}
	for (i = 0; i < nsensors; i++)
		if (period[i] == 0)
			period[i] = dflt;
}


/* A nearest-truth search in progress (siap_nearest). */
struct siap_near {
	const struct siap_truth	*g;
	const double		*q;
	double			 bd;
	int32_t			 best;
};

/* Take covered truth i if nearer (of equal ones, the last in the sample). */
static void
siap_near_one(void *arg, int32_t i)
{
	struct siap_near	*n = arg;
	double			 d;

	if (n->g[i].ncover == 0)
		return;
	d = geo_dist(n->g[i].pos, n->q);
	if (d < n->bd || (d == n->bd && i > n->best)) {
		n->bd = d;
		n->best = i;
	}
}

/*
 * Index (in the sample's truths g, filed in w->tg) of the covered truth
 * nearest pos within assoc_m (w->tg's cell edge), -1 if none.
 */
static int32_t
siap_nearest(const struct siap_work *w, const struct siap_truth *g,
    const double pos[3], double *dp)
{
	struct siap_near	n;

	n.g = g;
	n.q = pos;
	n.bd = w->p->assoc_m;
	n.best = -1;
	siap_grid_near(&w->tg, pos, siap_near_one, &n);
	*dp = n.bd;
	return n.best;
}

/* The entry of track id in object o's list, added when new. */
static struct siap_objid *
siap_obj_id(struct siap_object *o, uint64_t id)
{
	struct siap_objid	*e;
	size_t			 i;

	for (i = 0; i < o->ne; i++)
		if (o->e[i].id == id)
			return &o->e[i];
	if (o->ne == o->ecap) {
		o->ecap = o->ecap ? o->ecap * 2 : 4;
		if ((o->e = reallocarray(o->e, o->ecap, sizeof(*o->e))) ==
		    NULL)
			fatal("siap: out of memory");
	}
	e = &o->e[o->ne++];
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->last = SIZE_MAX;
	return e;
}

/* Track id is associated with object o at sample s: extend its segment. */
static void
siap_obj_assoc(struct siap_object *o, uint64_t id, size_t s)
{
	struct siap_objid	*e = siap_obj_id(o, id);

	if (e->last == s)
		return;
	if (e->last != SIZE_MAX && e->last + 1 == s)
		e->run++;
	else
		e->run = 1;
	e->last = s;
	if (e->run > o->longest)
		o->longest = e->run;
}

/* Object o is held by track id (index k) at time t: count changes. */
static void
siap_obj_tracked(struct siap_object *o, uint64_t id, size_t k, int64_t t)
{
	struct siap_objid	*e = siap_obj_id(o, id);

	o->tracked++;
	if (e->held++ == 0)
		o->nids++;
	if (e->held > o->main_n) {
		o->main_n = e->held;
		o->main_id = id;
	}
	/* A change is a different id than at its last tracked sample. */
	if (o->tracked > 1 && o->last_id != id) {
		if (o->changes == o->chcap) {
			o->chcap = o->chcap ? o->chcap * 2 : 4;
			if ((o->change_t = reallocarray(o->change_t, o->chcap,
			    sizeof(*o->change_t))) == NULL)
				fatal("siap: out of memory");
		}
		o->change_t[o->changes++] = t;
	}
	o->last_id = id;
	o->last_k = k;
}

/*
 * Count the NEES of an update that fused this many sensor tracks, on
 * truth object obj (o, or past the objects): in the mean, by one-sensor
 * and fused updates, and by object.
 */
static void
siap_nees_add(struct siap_work *w, uint32_t contributors, uint32_t obj,
    double nees)
{
	struct siap_result	*r = w->r;

	w->nees_sum += nees;
	r->nees_n++;
	if (contributors == 1) {
		w->nees_one += nees;
		r->nees_single_n++;
	} else if (contributors > 1) {
		w->nees_many += nees;
		r->nees_fused_n++;
	}
	if (obj < r->nobj) {
		r->obj[obj].nees_sum += nees;
		r->obj[obj].nees_n++;
	}
}

/* Associate the picture tracks at t with the sample's truths g[0..ng). */
static void
siap_sample_assoc(struct siap_work *w, const struct siap_truth *g, size_t ng,
    int64_t t)
{
	const struct siap_input	*in = w->in;
	struct siap_result	*r = w->r;
	size_t			 k;
	int32_t			 j;
	double			 d, nees, e[3];

	for (k = 0; k < ng; k++) {
		w->best[k] = -1;
		w->bestd[k] = INFINITY;
	}
	for (k = 0; k < in->ntrk; k++) {
		w->alive[k] = 0;
		w->as[k] = -1;
		if (siap_track_at(&in->trk[k], t, w->p->max_age_ns,
		    &w->st[k]) == -1)
			continue;
		j = siap_nearest(w, g, w->st[k].pos, &d);
		w->alive[k] = 1;
		r->sum_n++;
		r->trk_alive[k]++;
		if (j == -1) {
			r->trk_spur[k]++;
			continue;
		}
		w->as[k] = j;
		r->sum_na++;
		if (g[j].obj < in->nobj)
			siap_obj_assoc(&r->obj[g[j].obj], in->trk[k].id,
			    w->sample);
		w->pos_sum += d;
		w->vel_sum += geo_dist(w->st[k].vel, g[j].vel);
		if (d < w->bestd[j]) {
			w->bestd[j] = d;
			w->best[j] = (int32_t)k;
		}
		e[0] = w->st[k].pos[0] - g[j].pos[0];
		e[1] = w->st[k].pos[1] - g[j].pos[1];
		e[2] = w->st[k].pos[2] - g[j].pos[2];
		if ((nees = siap_nees(e, w->st[k].cov)) < 0.0)
			r->nees_skipped++;
		else
			siap_nees_add(w, w->st[k].contributors, g[j].obj,
			    nees);
	}
}

/* Best single-sensor error per truth at t, from the sensor tracks. */
static void
siap_sample_sensors(struct siap_work *w, const struct siap_truth *g,
    size_t ng, int64_t t)
{
	const struct siap_input	*in = w->in;
	const struct siap_track	*s;
	int64_t			 age;
	size_t			 k;
	int32_t			 j;
	double			 d;

	for (k = 0; k < ng; k++)
		w->sbest[k] = INFINITY;
	for (k = 0; k < in->nsen; k++) {
		s = &in->sen[k];
		age = (int64_t)(w->p->sensor_age * (double)(s->sensor <
		    in->nsensors ? in->period_ns[s->sensor] : w->p->max_age_ns));
		if (siap_track_at(s, t, age, &w->sst) == -1)
			continue;
		j = siap_nearest(w, g, w->sst.pos, &d);
		if (j != -1 && d < w->sbest[j])
			w->sbest[j] = d;
	}
}

/*
 * Count the distinct tracks associated with the group's objects at this
 * sample, when all of them are covered: a formation merged into fewer
 * tracks than aircraft shows as fewer. Tracks associate with the nearest
 * truth, so a track nearer a wingman than its own aircraft still counts.
 */
static void
siap_sample_group(struct siap_work *w, const struct siap_truth *g,
    size_t ng)
{
	const struct siap_input	*in = w->in;
	struct siap_result	*r = w->r;
	size_t			 i, k, found = 0, n = 0;

	if (in->ngroup == 0)
		return;
	for (i = 0; i < in->ngroup; i++)
		for (k = 0; k < ng; k++)
			if (g[k].obj == in->group[i] && g[k].ncover > 0) {
				found++;
				break;
			}
	if (found < in->ngroup)
		return;
	for (k = 0; k < in->ntrk; k++)
		for (i = 0; w->alive[k] && w->as[k] >= 0 && i < in->ngroup;
		    i++)
			if (g[w->as[k]].obj == in->group[i]) {
				n++;
				break;
			}
	if (r->group_samples++ == 0 || n < r->group_min)
		r->group_min = n;
	if (n >= in->ngroup)
		r->group_whole++;
}

/* Index of the track that holds truth j: the previous one if still on it. */
static size_t
siap_holder(struct siap_work *w, const struct siap_object *o, int32_t j)
{
	if (o->tracked > 0 && w->as[o->last_k] == j)
		return o->last_k;
	return (size_t)w->best[j];
}

/* Score one sample time t over the truths g[0..ng) at t. */
static void
siap_sample(struct siap_work *w, const struct siap_truth *g, size_t ng,
    int64_t t)
{
	const struct siap_input	*in = w->in;
	struct siap_result	*r = w->r;
	size_t			 k, h, nx = 0, ny = 0;

	for (k = 0; k < ng; k++) {
		memcpy(w->gpos[k], g[k].pos, sizeof(w->gpos[k]));
		w->gcov[k] = g[k].ncover > 0;
	}
	siap_grid_build(&w->tg, (const double (*)[3])w->gpos, ng, w->gcov,
	    w->p->assoc_m);
	siap_sample_assoc(w, g, ng, t);
	if (in->sen != NULL)
		siap_sample_sensors(w, g, ng, t);
	for (k = 0; k < ng; k++) {
		if (g[k].ncover == 0 || g[k].obj >= in->nobj)
			continue;
		r->sum_j++;
		r->obj[g[k].obj].covered++;
		memcpy(w->y[ny++], g[k].pos, sizeof(w->y[0]));
		if (w->best[k] == -1)
			continue;
		r->sum_jt++;
		w->tracked_s += (double)w->p->interval_ns * 1e-9;
		h = siap_holder(w, &r->obj[g[k].obj], (int32_t)k);
		siap_obj_tracked(&r->obj[g[k].obj], in->trk[h].id, h, t);
		if (in->sen != NULL && g[k].ncover >= 2 &&
		    isfinite(w->sbest[k])) {
			w->fused2 += w->bestd[k] * w->bestd[k];
			w->single2 += w->sbest[k] * w->sbest[k];
			r->gain_n++;
		}
	}
	siap_sample_group(w, g, ng);
	siap_grid_free(&w->tg);
	for (k = 0; k < in->ntrk; k++)
		if (w->alive[k])
			memcpy(w->x[nx++], w->st[k].pos, sizeof(w->x[0]));
	w->ospa_sum += siap_ospa((const double (*)[3])w->x, nx,
	    (const double (*)[3])w->y, ny, w->p->ospa_c, w->p->ospa_p);
	r->samples++;
	w->sample++;
}

/* Ratio a / b, NaN when b is 0. */
static double
siap_ratio(double a, double b)
{
	return b > 0.0 ? a / b : NAN;
}

/* Turn the sums of w into the measures of r. */
static void
siap_finish(struct siap_work *w)
{
	struct siap_result	*r = w->r;
	double			 ls = 0.0, changes = 0.0;
	size_t			 k, nls = 0;

	r->completeness = siap_ratio((double)r->sum_jt, (double)r->sum_j);
	r->ambiguity = siap_ratio((double)r->sum_na, (double)r->sum_jt);
	r->spuriousness = siap_ratio((double)(r->sum_n - r->sum_na),
	    (double)r->sum_n);
	r->pos_acc_m = siap_ratio(w->pos_sum, (double)r->sum_na);
	r->vel_acc_mps = siap_ratio(w->vel_sum, (double)r->sum_na);
	for (k = 0; k < r->nobj; k++) {
		changes += (double)r->obj[k].changes;
		if (r->obj[k].covered > 0) {
			ls += (double)r->obj[k].longest /
			    (double)r->obj[k].covered;
			nls++;
		}
	}
	r->change_rate = siap_ratio(changes, w->tracked_s);
	r->longest_segment = siap_ratio(ls, (double)nls);
	r->ospa_m = siap_ratio(w->ospa_sum, (double)r->samples);
	r->fused_rms_m = sqrt(siap_ratio(w->fused2, (double)r->gain_n));
	r->single_rms_m = sqrt(siap_ratio(w->single2, (double)r->gain_n));
	r->fusion_gain = siap_ratio(r->fused_rms_m, r->single_rms_m);
	r->nees_mean = siap_ratio(w->nees_sum, (double)r->nees_n);
	r->nees_single_mean = siap_ratio(w->nees_one,
	    (double)r->nees_single_n);
	r->nees_fused_mean = siap_ratio(w->nees_many, (double)r->nees_fused_n);
	siap_nees_band(r->nees_n, 3, &r->nees_lo, &r->nees_hi);
	siap_nees_interval(r->obj, r->nobj, &r->nees_ci_lo, &r->nees_ci_hi);
	r->nees_inside = r->nees_n > 0 && r->nees_mean >= r->nees_lo &&
	    r->nees_mean <= r->nees_hi;
}

/*
 * Score the picture of in against its truth. Samples are the truth times
 * t with (t - first truth time) a multiple of the interval.
 */
int
siap_score(const struct siap_input *in, const struct siap_params *p,
    struct siap_result *r)
{
	struct siap_work	 w;
	size_t			 i, j, ng;
	int64_t			 t0;

	memset(r, 0, sizeof(*r));
	memset(&w, 0, sizeof(w));
	w.in = in;
	w.p = p;
	w.r = r;
	r->nobj = in->nobj;
	r->obj = siap_calloc(in->nobj, sizeof(*r->obj));
	r->ntrk = in->ntrk;
	r->trk_alive = siap_calloc(in->ntrk, sizeof(*r->trk_alive));
	r->trk_spur = siap_calloc(in->ntrk, sizeof(*r->trk_spur));
	w.st = siap_calloc(in->ntrk, sizeof(*w.st));
	w.alive = siap_calloc(in->ntrk, sizeof(*w.alive));
	w.as = siap_calloc(in->ntrk, sizeof(*w.as));
	w.x = siap_calloc(in->ntrk, sizeof(*w.x));
	t0 = in->ntruth ? in->truth[0].t_ns : 0;
	for (i = 0; i < in->ntruth; i = j) {
		for (j = i; j < in->ntruth && in->truth[j].t_ns ==
		    in->truth[i].t_ns; j++)
			;
		ng = j - i;
		if ((in->truth[i].t_ns - t0) % p->interval_ns != 0)
			continue;
		w.best = reallocarray(w.best, ng, sizeof(*w.best));
		w.bestd = reallocarray(w.bestd, ng, sizeof(*w.bestd));
		w.sbest = reallocarray(w.sbest, ng, sizeof(*w.sbest));
		w.y = reallocarray(w.y, ng, sizeof(*w.y));
		w.gpos = reallocarray(w.gpos, ng, sizeof(*w.gpos));
		w.gcov = reallocarray(w.gcov, ng, sizeof(*w.gcov));
		if (w.best == NULL || w.bestd == NULL || w.sbest == NULL ||
		    w.y == NULL || w.gpos == NULL || w.gcov == NULL)
			fatal("siap: out of memory");
		siap_sample(&w, &in->truth[i], ng, in->truth[i].t_ns);
	}
	siap_finish(&w);
	free(w.st);
	free(w.alive);
	free(w.as);
	free(w.x);
	free(w.y);
	free(w.gpos);
	free(w.gcov);
	free(w.best);
	free(w.bestd);
	free(w.sbest);
	return 0;
}

/* Free what siap_score allocated in r. */
void
siap_result_free(struct siap_result *r)
{
	uint32_t	k;

	for (k = 0; k < r->nobj && r->obj != NULL; k++) {
		free(r->obj[k].e);
		free(r->obj[k].change_t);
	}
	free(r->obj);
	free(r->trk_alive);
	free(r->trk_spur);
	r->obj = NULL;
	r->trk_alive = r->trk_spur = NULL;
}
