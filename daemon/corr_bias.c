/*
 * The correlation core's registration bias estimation: each sensor's
 * constant position bias, from the differences between sensors that hold
 * one object, solved by generalised least squares every few seconds of
 * event time and taken off every report before gating.
 */
#include "corr_priv.h"

/* ---- registration bias --------------------------------------------------- */

/*
 * Each sensor measures with a constant bias b (ENU, tens to hundreds of
 * metres). Where two sensors i and j hold one object, the mean of their
 * raw position difference is b_i - b_j: pairs are accumulated at every
 * report into a fused track, each difference with its information (the
 * inverse of the two position covariances' sum), and the b that best
 * explain them (generalised least squares) are solved for every
 * CORR_BIAS_EVERY of event time. Radars measure range well and angle
 * coarsely, so a difference says much along some directions and little
 * across them: a plain mean would pour the cross-range noise into the
 * estimate. Two corrections keep the estimate honest: the samples of
 * one pair of tracks are strongly correlated from report to report, so
 * each counts as 1 / CORR_BIAS_DECOR of an independent one; and a prior
 * (zero, CORR_BIAS_PRIOR m each way) holds the directions that no pair
 * observes. Differences fix b only up to a common offset, unobservable
 * without a reference: the constraint chosen is that the variance-weighted
 * mean of the biases of each group of connected sensors is zero, so the
 * picture sits where the most accurate sensors, on average, put it.
 * Estimates are taken off every report before gating once a sensor has
 * CORR_BIAS_MIN samples.
 */

/* Index of sensor id in the bias table, or -1. */
int
corr_sensor_find(const struct corr *c, const char *id)
{
	int	i;

	for (i = 0; i < c->nsens; i++)
		if (strncmp(c->sens[i].id, id, TF_ID_LEN - 1) == 0)
			return i;
	return -1;
}

/* Index of sensor id in the bias table, adding it; -1 when full. */
int
corr_sensor_index(struct corr *c, const char *id)
{
	int	i;

	if ((i = corr_sensor_find(c, id)) >= 0)
		return i;
	i = c->nsens;
	if (c->nsens == CORR_SENSORS)
		return -1;
	memcpy(c->sens[i].id, id, TF_ID_LEN - 1);
	c->sens[i].id[TF_ID_LEN - 1] = '\0';
	return c->nsens++;
}

/* Mean stated horizontal variance of sensor i (1 m^2 floor). */
static double
corr_sensor_var(const struct corr *c, int i)
{
	const struct corr_sensor	*se = &c->sens[i];
	double				 v;

	v = se->nv > 0 ? se->vsum / se->nv : 1e6;
	return v > 1.0 ? v : 1.0;
}

/* The bias of a report's sensor in ECEF at (lat, lon), to subtract. */
void
corr_bias_ecef(const struct corr *c, int i, const double B[3][3],
    double out[3])
{
	const struct corr_sensor	*se;

	memset(out, 0, 3 * sizeof(double));
	if (i < 0)
		return;
	se = &c->sens[i];
	if (se->n >= CORR_BIAS_MIN)
		corr_enu_to_ecef(B, se->b, out);
}

/*
 * Information (ENU at B's place) of a position difference of s and k, k
 * predicted over dt: the inverse of the sum of their position blocks.
 * The loops are unrolled (CORR_UNROLL: the stored triangle's indices
 * become constants), and S and W are symmetric: only their upper
 * triangles are computed (S exactly so: its two sums of cross terms
 * differ only in the order of an addition).
 */
static int
corr_bias_info(const struct corr_src *s, const struct corr_src *k, double dt,
    const double B[3][3], double W[9])
{
	double	S[9], Wi[9], T[3][3];
	int	i, j;

	CORR_UNROLL
	for (i = 0; i < 3; i++)
		CORR_UNROLL
		for (j = i; j < 3; j++)
			S[i * 3 + j] = S[j * 3 + i] = s->Pt[tf_cov_idx(i, j)] +
			    k->Pt[tf_cov_idx(i, j)] +
			    dt * (k->Pt[tf_cov_idx(i, j + 3)] +
			    k->Pt[tf_cov_idx(i + 3, j)]) +
			    dt * dt * k->Pt[tf_cov_idx(i + 3, j + 3)];
	if (geo_inv3(S, Wi) == -1)
		return -1;
	corr_rotate_block(B, (const double (*)[3])Wi, 1, T);	/* B Wi B^T */
	CORR_UNROLL
	for (i = 0; i < 3; i++)
		CORR_UNROLL
		for (j = i; j < 3; j++)
			W[i * 3 + j] = W[j * 3 + i] = T[i][j];
	return 0;
}

/* Where the differences of sensors i and j (i != j) are: once a pair. */
static int
corr_pair_idx(int i, int j)
{
	int	a = i < j ? i : j, b = i < j ? j : i;

	return b * (b - 1) / 2 + a;
}

/* Add one difference e (ENU, of sensor a minus b) of information W. */
static void
corr_pair_add(struct corr_pair *pr, const double e[3], const double W[9],
    double sg)
{
	double	f = 1.0 / CORR_BIAS_DECOR;
	int	i, j;

	CORR_UNROLL
	for (i = 0; i < 3; i++) {
		CORR_UNROLL
		for (j = 0; j < 3; j++) {
			pr->W[i * 3 + j] += W[i * 3 + j] * f;
			pr->wd[i] += sg * W[i * 3 + j] * e[j] * f;
		}
	}
	pr->n++;
}

/*
 * Record the raw position differences of source s against the other
 * sensors' contributions of its track, in ENU at s, with their
 * information. Radars measure range far better than angle, so a
 * difference is informative along some directions only: weighing it by
 * its information (generalised least squares) keeps the coarse
 * cross-range noise out of the bias estimate.
 */
void
corr_bias_sample(struct corr *c, const struct corr_src *s,
    const double B[3][3])
{
	const struct corr_src	*k;
	double			 d[3], e[3], W[9], dt, n2;
	int			 i, a, b;

	SLIST_FOREACH(k, &s->sys->contribs, centry) {
		if (k == s || k->sidx < 0 || s->sidx < 0 ||
		    k->sidx == s->sidx || s->t - k->t > CORR_BIAS_DT ||
		    k->t - s->t > CORR_BIAS_DT)
			continue;
		dt = (s->t - k->t) * CORR_NS;
		for (n2 = 0.0, i = 0; i < 3; i++) {
			d[i] = (s->p[i] + corr_bapp(s, i)) -
			    (k->p[i] + corr_bapp(k, i) + dt * k->v[i]);
			n2 += d[i] * d[i];
		}
		if (!(n2 < CORR_BIAS_MAXD * CORR_BIAS_MAXD) ||
		    corr_bias_info(s, k, dt, B, W) == -1)
			continue;
		for (i = 0; i < 3; i++)
			e[i] = B[i][0] * d[0] + B[i][1] * d[1] + B[i][2] * d[2];
		a = s->sidx < k->sidx ? s->sidx : k->sidx;
		b = s->sidx < k->sidx ? k->sidx : s->sidx;
		corr_pair_add(&c->pair[corr_pair_idx(a, b)], e, W,
		    a == s->sidx ? 1.0 : -1.0);
		c->sens[a].n++;
		c->sens[b].n++;
	}
}

/* Label the connected components of the pair graph from sensor i. */
static void
corr_bias_comp(struct corr *c, int i, int comp)
{
	int	j;

	c->sens[i].comp = comp;
	for (j = 0; j < c->nsens; j++)
		if (j != i && c->sens[j].comp < 0 &&
		    c->pair[corr_pair_idx(i, j)].n > 0)
			corr_bias_comp(c, j, comp);
}

/* Shift each component's biases so their weighted mean is zero. */
static void
corr_bias_anchor(struct corr *c, int ncomp)
{
	double	m[3], w, ws;
	int	i, k, a;

	for (k = 0; k < ncomp; k++) {
		memset(m, 0, sizeof(m));
		for (ws = 0.0, i = 0; i < c->nsens; i++)
			if (c->sens[i].comp == k) {
				w = 1.0 / corr_sensor_var(c, i);
				for (a = 0; a < 3; a++)
					m[a] += w * c->sens[i].b[a];
				ws += w;
			}
		for (i = 0; i < c->nsens; i++)
			if (c->sens[i].comp == k)
				for (a = 0; a < 3; a++)
					c->sens[i].b[a] -= m[a] / ws;
	}
}

/*
 * Unknowns of the bias solve: 3 per sensor (nsens never leaves
 * [0, CORR_SENSORS]; said here so that gcc sees the bound of the memsets).
 */
static size_t
corr_bias_n3(const struct corr *c)
{
	return (size_t)(c->nsens > 0 && c->nsens <= CORR_SENSORS ?
	    c->nsens : 0) * 3;
}

/*
 * The normal equations N b = r of all biases (3 per sensor): each pair
 * (i, j) adds its information W to blocks ii and jj, subtracts it from
 * ij and ji, and its information-weighted difference to r_i (and its
 * negative to r_j); the prior adds 1 / CORR_BIAS_PRIOR^2 on the diagonal,
 * which keeps N positive definite.
 */
static void
corr_bias_normal(const struct corr *c, double *N, double *r)
{
	const struct corr_pair	*pr;
	size_t			 n3 = corr_bias_n3(c), ia, jk;
	int			 i, j, a, k;

	memset(N, 0, n3 * n3 * sizeof(*N));
	memset(r, 0, n3 * sizeof(*r));
	for (i = 0; i < c->nsens; i++)
		for (j = i + 1; j < c->nsens; j++) {
			if ((pr = &c->pair[corr_pair_idx(i, j)])->n == 0)
				continue;
			for (a = 0; a < 3; a++) {
				r[i * 3 + a] += pr->wd[a];
				r[j * 3 + a] -= pr->wd[a];
				for (k = 0; k < 3; k++) {
					ia = (size_t)(i * 3 + a) * n3;
					jk = (size_t)(j * 3 + a) * n3;
					N[ia + i * 3 + k] += pr->W[a * 3 + k];
					N[jk + j * 3 + k] += pr->W[a * 3 + k];
					N[ia + j * 3 + k] -= pr->W[a * 3 + k];
					N[jk + i * 3 + k] -= pr->W[a * 3 + k];
				}
			}
		}
	for (ia = 0; ia < n3; ia++)
		N[ia * n3 + ia] += 1.0 / (CORR_BIAS_PRIOR * CORR_BIAS_PRIOR);
}

/*
 * Solve N x = r in place (x in r) by Cholesky, N symmetric n x n; -1
 * (r untouched) if N is not positive definite.
 */
static int
corr_bias_chol(size_t n, double *N, double *r)
{
	double	s;
	size_t	i, j, k;

	for (j = 0; j < n; j++) {
		for (s = N[j * n + j], k = 0; k < j; k++)
			s -= N[j * n + k] * N[j * n + k];
		if (!(s > 0.0))
			return -1;
		N[j * n + j] = sqrt(s);
		for (i = j + 1; i < n; i++) {
			for (s = N[i * n + j], k = 0; k < j; k++)
				s -= N[i * n + k] * N[j * n + k];
			N[i * n + j] = s / N[j * n + j];
		}
	}
	for (i = 0; i < n; i++) {
		for (s = r[i], k = 0; k < i; k++)
			s -= N[i * n + k] * r[k];
		r[i] = s / N[i * n + i];
	}
	for (i = n; i-- > 0;) {
		for (s = r[i], k = i + 1; k < n; k++)
			s -= N[k * n + i] * r[k];
		r[i] = s / N[i * n + i];
	}
	return 0;
}

/*
 * Solve for all biases from the pair means at once (a few dozen
 * unknowns, every CORR_BIAS_EVERY of event time: a direct solve is exact
 * and cheaper than iterating, which crawls along the weakly held
 * directions), then anchor each group of connected sensors. Biases are
 * constant or drift over minutes; a solve every 5 s rather than every
 * second changes the quality figures in their fourth digit, and a replay
 * that runs 20 reports a second of event time (the default scenario)
 * through at a million a second no longer spends a tenth of its time here.
 */
void
corr_bias_solve(struct corr *c)
{
	size_t	n3 = corr_bias_n3(c);
	int	i, a, ncomp = 0;

	if (c->nsens == 0)
		return;
	for (i = 0; i < c->nsens; i++)
		c->sens[i].comp = -1;
	for (i = 0; i < c->nsens; i++)
		if (c->sens[i].comp < 0)
			corr_bias_comp(c, i, ncomp++);
	corr_bias_normal(c, c->bN, c->br);
	if (corr_bias_chol(n3, c->bN, c->br) == -1)
		return;		/* numerically absurd: keep the last */
	for (i = 0; i < c->nsens; i++)
		for (a = 0; a < 3; a++)
			c->sens[i].b[a] = c->br[i * 3 + a];
	corr_bias_anchor(c, ncomp);
}

/* Visit every sensor's bias estimate, in first-seen order. */
void
corr_foreach_bias(const struct corr *c, void (*fn)(void *, const char *,
    const double[3], uint64_t), void *arg)
{
	int	i;

	for (i = 0; i < c->nsens; i++)
		fn(arg, c->sens[i].id, c->sens[i].b, c->sens[i].n);
}
