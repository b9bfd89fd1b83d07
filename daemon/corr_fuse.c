/*
 * The correlation core's estimation arithmetic: the gating distance
 * (Mahalanobis, with the log det of the innovation) and covariance
 * intersection of a system track's contributions (improved fast CI, then
 * Newton on log det P, warm-started from the last weights); corr_predict
 * for the outside. Pure functions of their arguments.
 */
#include "corr_priv.h"

/*
 * Constant velocity (plus gravity for ballistic categories) with white
 * acceleration noise: P' = F P F^T + Q, F = [I dt I; 0 I]. Backward
 * prediction (dt < 0) still adds noise: |dt| in Q, sign in the cross term.
 * The gravity gradient (about 3e-6 s^-2) is left out of F.
 */
void
corr_predict(enum tf_category cat, double dt, const double x[6],
    const double P[36], double xo[6], double Po[36])
{
	int	i, j;

	corr_predict_x(cat, dt, x, xo);
	CORR_UNROLL
	for (i = 0; i < 3; i++)		/* Po may be P */
		CORR_UNROLL
		for (j = 0; j < 3; j++)
			corr_predict_el(dt, P[i * 6 + j], P[i * 6 + j + 3],
			    P[(i + 3) * 6 + j], P[(i + 3) * 6 + j + 3], i, j, Po);
	corr_predict_q(cat, dt, Po);
}

/* ---- gating and fusion ------------------------------------------------- */

/*
 * d^2 = x^T S^-1 x, x = a - b, S = Pa + Pb, and log det S when ld is not
 * NULL; -1 when S is not PD. With S = U D^-1 U^T (corr_ldl), U y = x by
 * forward substitution and d^2 = y^T D y: no square root.
 */
int
corr_mdist(const double a[6], const double Pa[36], const double b[6],
    const double Pb[36], double *d2, double *ld)
{
	double	S[36], U[36], r[6], y[6], s, p;
	int	i, k;

	CORR_UNROLL
	for (i = 0; i < 6; i++)		/* the lower triangle is enough */
		CORR_UNROLL
		for (k = 0; k <= i; k++)
			S[i * 6 + k] = Pa[i * 6 + k] + Pb[i * 6 + k];
	if (corr_ldl(S, U, r) == -1)
		return -1;
	p = 0.0;
	CORR_UNROLL
	for (i = 0; i < 6; i++) {
		s = a[i] - b[i];
		CORR_UNROLL
		for (k = 0; k < i; k++)
			s -= U[i * 6 + k] * y[k];
		y[i] = s * r[i];
		p += s * y[i];
	}
	*d2 = p;
	if (ld != NULL)
		*ld = corr_ldl_logdet(r);
	return 0;
}

/* d^2 = x^T S^-1 x, x = a - b, S = Pa + Pb; -1 when S is not PD. */
int
corr_distance(const double a[6], const double Pa[36], const double b[6],
    const double Pb[36], double *d2)
{
	return corr_mdist(a, Pa, b, Pb, d2, NULL);
}

/*
 * Y += a X over the lower triangle of symmetric 6x6 matrices (the part
 * that corr_chol reads).
 */
static void
corr_lower_axpy(double a, const double *restrict X, double *restrict Y)
{
	int	i, j;

	CORR_UNROLL
	for (i = 0; i < 6; i++)
		CORR_UNROLL
		for (j = 0; j <= i; j++)
			Y[i * 6 + j] += a * X[i * 6 + j];
}

/*
 * Weighted information sum Y(w) = sum w_i Y_i, its lower triangle only
 * (the upper is not written unless every weight is zero): it is only
 * ever factored (corr_chol).
 */
static void
corr_ysum(size_t n, const double (*Y)[36], const double *w, double Yw[36])
{
	size_t	i, j;
	int	r, c;

	for (i = 0; i < n && !(w[i] > 0.0); i++)
		;
	if (i == n) {
		memset(Yw, 0, 36 * sizeof(double));
		return;
	}
	CORR_UNROLL
	for (r = 0; r < 6; r++)		/* the first term set, not added */
		CORR_UNROLL
		for (c = 0; c <= r; c++)
			Yw[r * 6 + c] = w[i] * Y[i][r * 6 + c];
	for (j = i + 1; j < n; j++)
		if (w[j] > 0.0)
			corr_lower_axpy(w[j], Y[j], Yw);
}

/*
 * f(w) = log det P(w) = -log det Y(w), and the Cholesky factor L of Y(w)
 * (the Newton step that follows reuses it); HUGE_VAL if Y(w) is not PD.
 */
static double
corr_ci_cost(size_t n, const double (*Y)[36], const double *w, double L[36])
{
	double	Yw[36];

	corr_ysum(n, Y, w, Yw);
	if (corr_chol(Yw, L) == -1)
		return HUGE_VAL;
	return -corr_chol_logdet(L);
}

/*
 * Improved fast CI (Franken and Hupper 2005): w_i is proportional to
 * det(Y) - det(Y - Y_i) + det(Y_i), Y the sum of the informations. Every
 * determinant is taken relative to det(Y), in logs, so that 6x6 matrices
 * of m^2 do not overflow.
 */
static void
corr_ci_start(size_t n, const double (*Y)[36], const double *ld, double *w)
{
	double	ones[CORR_FUSE_MAX], Yw[36], Yo[36], L[36], ldY, ldo, sum;
	size_t	i;

	for (i = 0; i < CORR_FUSE_MAX; i++)
		ones[i] = 1.0;
	corr_ysum(n, Y, ones, Yw);
	if (corr_chol(Yw, L) == -1)
		goto uniform;
	ldY = corr_chol_logdet(L);
	for (sum = 0.0, i = 0; i < n; i++) {
		memcpy(Yo, Yw, sizeof(Yo));	/* Y - Y_i */
		corr_lower_axpy(-1.0, Y[i], Yo);
		ldo = corr_chol(Yo, L) == 0 ? corr_chol_logdet(L) : -HUGE_VAL;
		w[i] = 1.0 - exp(ldo - ldY) + exp(ld[i] - ldY);
		if (!(w[i] > 0.0) || !isfinite(w[i]))
			w[i] = 0.0;
		sum += w[i];
	}
	if (sum > 0.0 && isfinite(sum)) {
		for (i = 0; i < n; i++)
			w[i] /= sum;
		return;
	}
uniform:
	for (i = 0; i < n; i++)
		w[i] = 1.0 / n;
}

/*
 * A warm start from the weights of the previous fusion of the same
 * contributions, made to sum to one (uniform if they are unusable). A
 * weight that was 0 stays 0: corr_ci_enter brings it back if it has
 * earned a share since.
 */
static void
corr_ci_warm(size_t n, double *w)
{
	double	s = 0.0;
	size_t	i;

	for (i = 0; i < n; i++) {
		if (!(w[i] >= 0.0) || !isfinite(w[i]))
			w[i] = 0.0;
		s += w[i];
	}
	for (i = 0; i < n; i++)
		w[i] = s > 0.0 ? w[i] / s : 1.0 / n;
}

/*
 * Solve the n x n system held with its right-hand side in A (n rows of
 * n + 1) by Gaussian elimination with partial pivoting, into x; -1 when
 * a pivot is below tol (singular: f flat along some direction, done).
 */
static int
corr_gauss(size_t n, double *A, double tol, double *x)
{
	double	f, t;
	size_t	c = n + 1, i, j, k, piv;

	for (k = 0; k < n; k++) {
		for (piv = k, i = k + 1; i < n; i++)
			if (fabs(A[i * c + k]) > fabs(A[piv * c + k]))
				piv = i;
		if (!(fabs(A[piv * c + k]) > tol))
			return -1;
		for (j = 0; j < c; j++) {
			t = A[k * c + j];
			A[k * c + j] = A[piv * c + j];
			A[piv * c + j] = t;
		}
		for (i = k + 1; i < n; i++) {
			f = A[i * c + k] / A[k * c + k];
			for (j = k; j < c; j++)
				A[i * c + j] -= f * A[k * c + j];
		}
	}
	for (k = n; k-- > 0;) {
		for (t = A[k * c + n], j = k + 1; j < n; j++)
			t -= A[k * c + j] * x[j];
		x[k] = t / A[k * c + k];
	}
	return 0;
}

/*
 * Solve the equality-constrained Newton system over the active weights:
 * [H 1; 1^T 0] [dw; l] = [-g; 0]. Returns -1 when it is singular.
 */
static int
corr_kkt(size_t m, const double *H, const double *g, double *dw)
{
	double	A[(CORR_FUSE_MAX + 1) * (CORR_FUSE_MAX + 2)];
	double	x[CORR_FUSE_MAX + 1];
	size_t	c = m + 2, i, j;

	for (i = 0; i < m; i++) {
		for (j = 0; j < m; j++)
			A[i * c + j] = H[i * m + j];
		A[i * c + m] = 1.0;
		A[i * c + m + 1] = -g[i];
	}
	for (j = 0; j < m; j++)
		A[m * c + j] = 1.0;
	A[m * c + m] = A[m * c + m + 1] = 0.0;
	if (corr_gauss(m + 1, A, 1e-12 * (1.0 + fabs(H[0])), x) == -1)
		return -1;
	for (i = 0; i < m; i++)
		dw[i] = x[i];
	return 0;
}

/*
 * X = L^-1 B for a 6x6 B, L lower triangular with the reciprocals of its
 * diagonal on the diagonal (corr_chol): forward substitution row by row,
 * six columns at a time.
 */
static void
corr_lsolve6(const double *restrict L, const double *restrict B,
    double *restrict X)
{
	double	x[6], l;
	int	r, c, k;

	CORR_UNROLL
	for (r = 0; r < 6; r++) {
		CORR_UNROLL
		for (c = 0; c < 6; c++)
			x[c] = B[r * 6 + c];
		CORR_UNROLL
		for (k = 0; k < r; k++) {
			l = L[r * 6 + k];
			CORR_UNROLL
			for (c = 0; c < 6; c++)
				x[c] -= l * X[k * 6 + c];
		}
		CORR_UNROLL
		for (c = 0; c < 6; c++)
			X[r * 6 + c] = x[c] * L[r * 7];
	}
}

/*
 * A = L^-1 S L^-T for a symmetric S. With P = (L L^T)^-1, P S = L^-T A
 * L^T, so tr(P S) = tr(A) and tr(P S P T) = <A, B> (Frobenius,
 * corr_ci_dot): the CI derivatives without an inverse and without a 6x6
 * product per input. L is corr_chol's (reciprocal diagonal). Both
 * triangular solves run row by row, six columns at a time (the inner
 * loops vectorise).
 */
static void
corr_ci_xform(const double *restrict L, const double *restrict S,
    double *restrict A)
{
	double	X[36], Xt[36];
	int	r, c;

	corr_lsolve6(L, S, X);	/* X = L^-1 S */
	CORR_UNROLL
	for (r = 0; r < 6; r++)
		CORR_UNROLL
		for (c = 0; c < 6; c++)
			Xt[r * 6 + c] = X[c * 6 + r];
	corr_lsolve6(L, Xt, A);	/* A = L^-1 X^T */
}

/*
 * Frobenius product of two symmetric 6x6 matrices, from their lower
 * triangles (the diagonal once, the rest twice): 21 products, not 36.
 * One partial sum per column.
 */
static double
corr_ci_dot(const double a[36], const double b[36])
{
	double	s[6] = { 0 }, d = 0.0;
	int	r, c;

	CORR_UNROLL
	for (r = 0; r < 6; r++) {
		d += a[r * 7] * b[r * 7];
		CORR_UNROLL
		for (c = 0; c < r; c++)
			s[c] += a[r * 6 + c] * b[r * 6 + c];
	}
	return d + 2.0 * ((s[0] + s[1]) + (s[2] + s[3]) + s[4]);
}

/*
 * Gradient and Hessian of f(w) = -log det Y(w) over the active weights,
 * given the Cholesky factor L of Y(w): g_i = -tr(P Y_i), H_ij =
 * tr(P Y_i P Y_j), P = Y(w)^-1, through A_i = L^-1 Y_i L^-T
 * (corr_ci_xform). Returns the number of active weights.
 */
static size_t
corr_ci_derivs(size_t n, const double (*Y)[36], const double *w,
    const double L[36], size_t *act, double *g, double *H)
{
	double	A[CORR_FUSE_MAX][36];
	size_t	i, j, m = 0;

	for (i = 0; i < n; i++)
		if (w[i] > 0.0) {
			act[m] = i;
			corr_ci_xform(L, Y[i], A[m]);
			g[m] = -(A[m][0] + A[m][7] + A[m][14] + A[m][21] +
			    A[m][28] + A[m][35]);
			m++;
		}
	for (i = 0; i < m; i++)
		for (j = 0; j <= i; j++)
			H[i * m + j] = H[j * m + i] = corr_ci_dot(A[i], A[j]);
	return m;
}

/*
 * Solve H v = b (m x m, symmetric) by Gaussian elimination with partial
 * pivoting; -1 when H is singular (f flat along some direction: done).
 */
static int
corr_ci_solve(size_t m, const double *H, const double *b, double *v)
{
	double	A[CORR_FUSE_MAX * (CORR_FUSE_MAX + 1)];
	size_t	c = m + 1, i, j;

	for (i = 0; i < m; i++) {
		for (j = 0; j < m; j++)
			A[i * c + j] = H[i * m + j];
		A[i * c + m] = b[i];
	}
	return corr_gauss(m, A, 1e-12 * (1.0 + fabs(H[0])), v);
}

/*
 * The Newton direction in reduced variables: the active weights but the
 * largest, w_r, which takes up the rest (w_r = 1 - the others' sum).
 * With D_i = Y_i - Y_r and A_i = L^-1 D_i L^-T (corr_ci_xform) the
 * gradient is -tr(A_i) and the Hessian <A_i, A_j>, an unconstrained
 * system one smaller than the KKT one over m weights, and one transform
 * fewer: the same step (tests compare it with corr_ci_dir_kkt). Two
 * estimates make a problem in one variable: dw = -(g / h) (1, -1).
 */
static int
corr_ci_dir(size_t n, const double (*Y)[36], const double *w,
    const double L[36], size_t *act, size_t *m, double *dw, double *slope)
{
	double	A[CORR_FUSE_MAX][36], D[36];
	double	g[CORR_FUSE_MAX], H[CORR_FUSE_MAX * CORR_FUSE_MAX];
	double	v[CORR_FUSE_MAX], b[CORR_FUSE_MAX];
	size_t	i, j, r = n, k = 0;
	int	e;

	for (i = 0; i < n; i++)
		if (w[i] > 0.0 && (r == n || w[i] > w[r]))
			r = i;
	if (r == n)
		return -1;
	for (i = 0; i < n; i++) {
		if (!(w[i] > 0.0) || i == r)
			continue;
		CORR_UNROLL
		for (e = 0; e < 36; e++)
			D[e] = Y[i][e] - Y[r][e];
		corr_ci_xform(L, D, A[k]);
		g[k] = -(A[k][0] + A[k][7] + A[k][14] + A[k][21] +
		    A[k][28] + A[k][35]);
		b[k] = -g[k];
		act[k++] = i;
	}
	if (k == 0)
		return -1;
	for (i = 0; i < k; i++)
		for (j = 0; j <= i; j++)
			H[i * k + j] = H[j * k + i] = corr_ci_dot(A[i], A[j]);
	if (k == 1) {
		if (!(H[0] > 1e-300) || !isfinite(H[0]))
			return -1;
		v[0] = b[0] / H[0];
	} else if (corr_ci_solve(k, H, b, v) == -1)
		return -1;
	act[k] = r;
	dw[k] = 0.0;
	for (*slope = 0.0, i = 0; i < k; i++) {
		dw[i] = v[i];
		dw[k] -= v[i];
		*slope += g[i] * v[i];
	}
	*m = k + 1;
	return 0;
}

/*
 * The Newton direction over all active weights, from the KKT system of
 * the constraint that they sum to one (the reference for corr_ci_dir).
 */
static int
corr_ci_dir_kkt(size_t n, const double (*Y)[36], const double *w,
    const double L[36], size_t *act, size_t *m, double *dw, double *slope)
{
	double	g[CORR_FUSE_MAX], H[CORR_FUSE_MAX * CORR_FUSE_MAX];
	size_t	i;

	if ((*m = corr_ci_derivs(n, Y, w, L, act, g, H)) < 2)
		return -1;
	if (corr_kkt(*m, H, g, dw) == -1)
		return -1;
	for (*slope = 0.0, i = 0; i < *m; i++)
		*slope += g[i] * dw[i];
	return 0;
}

/*
 * One damped Newton step on the simplex from w, whose cost *f and factor
 * L are known (both move with w); kkt: the direction by corr_ci_dir_kkt.
 * The step is cut to stay in w >= 0 (a weight that reaches 0 leaves the
 * active set) and halved until f decreases (Armijo). Returns -1 when
 * there is nothing left to gain, 1 when this step was the last worth
 * taking.
 */
static int
corr_ci_step(size_t n, const double (*Y)[36], int kkt, double *w,
    double *f, double L[36])
{
	double	dw[CORR_FUSE_MAX], wt[CORR_FUSE_MAX], f0, f1, a, slope;
	double	Lt[36];
	size_t	act[CORR_FUSE_MAX], m, i, hit = n;
	int	k;

	if ((kkt ? corr_ci_dir_kkt(n, Y, w, L, act, &m, dw, &slope) :
	    corr_ci_dir(n, Y, w, L, act, &m, dw, &slope)) == -1)
		return -1;
	if (!(slope < -CORR_CI_TOL))
		return -1;
	for (a = 1.0, i = 0; i < m; i++)
		if (dw[i] < 0.0 && w[act[i]] + a * dw[i] < 0.0) {
			a = -w[act[i]] / dw[i];
			hit = act[i];
		}
	f0 = *f;
	for (k = 0; k < 30; k++, a *= 0.5, hit = n) {
		memcpy(wt, w, n * sizeof(double));
		for (i = 0; i < m; i++)
			wt[act[i]] += a * dw[i];
		if (hit < n)
			wt[hit] = 0.0;
		for (i = 0; i < m; i++)
			if (wt[act[i]] < 0.0)
				wt[act[i]] = 0.0;
		f1 = corr_ci_cost(n, Y, wt, Lt);
		if (f1 <= f0 + 1e-4 * a * slope)
			break;
	}
	if (k == 30)
		return -1;
	memcpy(w, wt, n * sizeof(double));
	memcpy(L, Lt, sizeof(Lt));
	*f = f1;
	return slope > -CORR_CI_LAST ? 1 : 0;
}

/*
 * Optimality of the zero weights once Newton has converged over the
 * others (KKT): moving weight from the largest, r, to a zero one, i,
 * changes f at the rate g = tr(P Y_r) - tr(P Y_i), P = (L L^T)^-1 (at
 * the optimum tr(P Y_j) is 6 for every weight in use). Where g < 0 the
 * curvature h = <A, A>, A = L^-1 (Y_i - Y_r) L^-T, tells the gain: the
 * zero weight most worth raising (g^2 / 2h above CORR_CI_TOL) takes the
 * Newton amount along that direction (at most half of w_r) if f then
 * decreases. Returns 1 when w moved (Newton must go on), 0 when w is
 * optimal; P is left in P (for the final covariance) when 0.
 */
static int
corr_ci_enter(size_t n, const double (*Y)[36], double *w, double *f,
    double L[36], double P[36])
{
	double	A[36], D[36], wt[CORR_FUSE_MAX], Lt[36];
	double	g, h, tr, best = 0.0, t = 0.0, f1;
	size_t	i, r = 0, in = n;
	int	e, zero = 0;

	for (i = 0; i < n; i++) {
		if (w[i] > w[r])
			r = i;
		zero |= !(w[i] > 0.0);
	}
	corr_chol_inv(L, P);
	if (!zero)
		return 0;
	tr = corr_ci_dot(P, Y[r]);
	for (i = 0; i < n; i++) {
		if (w[i] > 0.0 || !((g = tr - corr_ci_dot(P, Y[i])) < 0.0))
			continue;
		CORR_UNROLL
		for (e = 0; e < 36; e++)
			D[e] = Y[i][e] - Y[r][e];
		corr_ci_xform(L, D, A);
		h = corr_ci_dot(A, A);
		if (h > 0.0 && isfinite(h) &&
		    g * g / (2.0 * h) > CORR_CI_TOL && g * g / h > best) {
			best = g * g / h;
			t = -g / h;
			in = i;
		}
	}
	if (in == n)
		return 0;
	memcpy(wt, w, n * sizeof(double));
	if (t > 0.5 * wt[r])
		t = 0.5 * wt[r];
	wt[in] = t;
	wt[r] -= t;
	if (!((f1 = corr_ci_cost(n, Y, wt, Lt)) < *f))
		return 0;
	memcpy(w, wt, n * sizeof(double));
	memcpy(L, Lt, sizeof(Lt));
	*f = f1;
	return 1;
}

/*
 * Normalise weights to sum to one, and the factor L of Y(w) and its
 * inverse P (when not NULL) with them: Y(w / s) = Y(w) / s, so L / sqrt(s)
 * is its factor (its stored reciprocal diagonal times sqrt(s)) and s P
 * its inverse (Newton keeps the sum to rounding: s is 1 to within a few
 * ulps).
 */
static void
corr_ci_normalise(size_t n, double *w, double L[36], double *P)
{
	double	s = 0.0, q, r;
	size_t	k;
	int	i, j;

	for (k = 0; k < n; k++)
		s += w[k];
	if (s == 1.0)
		return;
	for (k = 0; k < n; k++)
		w[k] /= s;
	q = sqrt(s);
	r = 1.0 / q;
	for (i = 0; i < 6; i++) {
		for (j = 0; j < i; j++)
			L[i * 6 + j] *= r;
		L[i * 7] *= q;
	}
	if (P != NULL)
		for (i = 0; i < 36; i++)
			P[i] *= s;
}

/*
 * The information Y = P^-1 of a symmetric 6x6 P, and log det Y when ld
 * is not NULL; -1 if P is not PD (the test of corr_chol). From the
 * square-root-free factor of corr_chol, P = M D M^T with M unit lower
 * (corr_ldlm has it), Y = N^T D^-1 N with N = M^-1: no square root, and
 * the unit triangle inverts without a division.
 */
static int
corr_info(const double *restrict P, double *restrict Y, double *ld)
{
	double	U[36], M[36], N[36], r[6], s;
	int	i, j, k;

	if (corr_ldlm(P, U, M, r) == -1)
		return -1;
	CORR_UNROLL
	for (i = 0; i < 6; i++)		/* N = M^-1, unit lower */
		CORR_UNROLL
		for (j = 0; j < i; j++) {
			s = M[i * 6 + j];
			CORR_UNROLL
			for (k = j + 1; k < i; k++)
				s += M[i * 6 + k] * N[k * 6 + j];
			N[i * 6 + j] = -s;
		}
	CORR_UNROLL
	for (i = 0; i < 6; i++)		/* U = D^-1 N, strictly lower */
		CORR_UNROLL
		for (j = 0; j < i; j++)
			U[i * 6 + j] = r[i] * N[i * 6 + j];
	CORR_UNROLL
	for (i = 0; i < 6; i++)		/* Y = N^T D^-1 N */
		CORR_UNROLL
		for (j = 0; j <= i; j++) {
			s = i == j ? r[i] : U[i * 6 + j];
			CORR_UNROLL
			for (k = i + 1; k < 6; k++)
				s += U[k * 6 + i] * N[k * 6 + j];
			Y[i * 6 + j] = Y[j * 6 + i] = s;
		}
	if (ld != NULL)
		*ld = -corr_ldl_logdet(r);
	return 0;
}

/*
 * The informations Y_i = P_i^-1 and, for a cold start, their log
 * determinants; -1 if a P_i is not PD.
 */
static int
corr_ci_info(size_t n, const double (*P)[36], double (*Y)[36], double *ld)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (corr_info(P[i], Y[i], ld != NULL ? &ld[i] : NULL) == -1)
			return -1;
	return 0;
}

/*
 * x = x_0 + P sum w_i Y_i (x_i - x_0) given the factor L of P^-1, and
 * P (unless have says Po holds it already): the sum is taken on the
 * differences to x_0 so that equal states fuse to themselves exactly.
 * P at hand, the product with it costs less than two substitutions.
 */
static void
corr_ci_state(size_t n, const double (*x)[6], const double (*Y)[36],
    const double *w, const double L[36], double xo[6], double Po[36],
    int have)
{
	double	b[6], d[6], dx[6], s;
	size_t	i;
	int	j, k;

	memset(b, 0, sizeof(b));
	for (i = 1; i < n; i++) {
		if (!(w[i] > 0.0))
			continue;
		CORR_UNROLL
		for (j = 0; j < 6; j++)
			d[j] = x[i][j] - x[0][j];
		CORR_UNROLL
		for (j = 0; j < 6; j++) {
			s = 0.0;
			CORR_UNROLL
			for (k = 0; k < 6; k++)
				s += Y[i][j * 6 + k] * d[k];
			b[j] += w[i] * s;
		}
	}
	if (!have)
		corr_chol_inv(L, Po);
	CORR_UNROLL
	for (j = 0; j < 6; j++) {
		s = 0.0;
		CORR_UNROLL
		for (k = 0; k < 6; k++)
			s += Po[j * 6 + k] * b[k];
		dx[j] = s;
	}
	CORR_UNROLL
	for (j = 0; j < 6; j++)
		xo[j] = x[0][j] + dx[j];
}

/*
 * Whether an input of information Y asks for no more weight than it has
 * in a fusion of covariance P: g = tr(P Y) <= 6 within CORR_CI_KEEP.
 * With g_i = tr(P Y_i) (minus the gradient of f = -log det Y(w)) and
 * sum w_i g_i = tr(I) = 6, convexity gives f(w) - f(w*) <= grad f .
 * (w - w*) = sum w*_i g_i - 6 <= max g_i - 6: when every input passes,
 * the weights are optimal to within CORR_CI_KEEP in log det P.
 */
static int
corr_ci_enough(const double P[36], const double Y[36])
{
	return corr_ci_dot(P, Y) <= 6.0 + CORR_CI_KEEP;
}

/*
 * Whether warm weights w are optimal to within CORR_CI_KEEP in log det P
 * (corr_ci_enough of every input). The check costs P (which the state
 * needs anyway) and a dot product per input, where a Newton step costs
 * two triangular solves per input and a factorisation or two.
 */
static int
corr_ci_kept(size_t n, const double (*Y)[36], const double L[36],
    double P[36])
{
	size_t	i;

	corr_chol_inv(L, P);
	for (i = 0; i < n; i++)
		if (!corr_ci_enough(P, Y[i]))
			return 0;
	return 1;
}

/*
 * Whether one more input, of covariance Pi, would carry no weight in a
 * fusion whose result is P (weights within CORR_CI_KEEP of optimal, as
 * corr_ci_kept): corr_ci_enough of its information.
 */
int
corr_ci_idle(const double P[36], const double Pi[36])
{
	double	Y[36];

	return corr_info(Pi, Y, NULL) == 0 && corr_ci_enough(P, Y);
}

/*
 * Covariance intersection: P = (sum w_i P_i^-1)^-1, x = P sum w_i P_i^-1 x_i
 * with w on the simplex minimising det P, by Newton from the improved
 * fast-CI start, or with CORR_CI_WARM from the weights w holds (those of
 * the previous fusion of the same inputs: they are kept if still good
 * enough, corr_ci_kept, else a step or two is left to take, and the
 * steps stop as soon as corr_ci_kept says the same of where they got:
 * a warm fusion answers to one tolerance, CORR_CI_KEEP, whichever way
 * it goes; a cold one converges fully).
 * CORR_CI_GENERAL takes the steps in their KKT form (tests).
 */
static int
corr_ci(size_t n, const double (*x)[6], const double (*P)[36],
    double xo[6], double Po[36], double *w, int how)
{
	double	Y[CORR_FUSE_MAX][36], ld[CORR_FUSE_MAX];
	double	L[36], Yw[36], f;
	size_t	i;
	int	k, have = 0;

	if (corr_ci_info(n, P, Y, (how & CORR_CI_WARM) ? NULL : ld) == -1)
		return -1;
	if (how & CORR_CI_WARM)
		corr_ci_warm(n, w);
	else
		corr_ci_start(n, (const double (*)[36])Y, ld, w);
	/*
	 * A kept warm start needs the factor but not the cost (a log): that
	 * is taken only when Newton is to start from it.
	 */
	corr_ysum(n, (const double (*)[36])Y, w, Yw);
	f = corr_chol(Yw, L) == -1 ? HUGE_VAL : 0.0;
	if ((how & CORR_CI_WARM) && f < HUGE_VAL &&
	    corr_ci_kept(n, (const double (*)[36])Y, L, Po))
		have = 1;
	else if (f < HUGE_VAL)
		f = -corr_chol_logdet(L);
	for (k = 0; !have && f < HUGE_VAL && k < CORR_NEWTON; k++)
		if (corr_ci_step(n, (const double (*)[36])Y,
		    (how & CORR_CI_GENERAL) != 0, w, &f, L) != 0) {
			if (!corr_ci_enter(n, (const double (*)[36])Y, w, &f,
			    L, Po)) {
				have = 1;
				break;
			}
		} else if ((how & CORR_CI_WARM) &&
		    corr_ci_kept(n, (const double (*)[36])Y, L, Po)) {
			have = 1;
			break;
		}
	corr_ci_normalise(n, w, L, have ? Po : NULL);
	if (!(f < HUGE_VAL)) {
		have = 0;
		corr_ysum(n, (const double (*)[36])Y, w, Yw);
		if (corr_chol(Yw, L) == -1)
			return -1;
	}
	for (i = 0; i < n; i++)
		if (!(w[i] > 0.0))
			w[i] = 0.0;
	corr_ci_state(n, x, (const double (*)[36])Y, w, L, xo, Po, have);
	return 0;
}

/*
 * Fuse n estimates (corr_ci; with CORR_CI_WARM, wout holds the start); a
 * lone one stands as it is.
 */
int
corr_fuse_how(size_t n, const double (*x)[6], const double (*P)[36],
    double xo[6], double Po[36], double *wout, int how)
{
	double	w[CORR_FUSE_MAX], U[36], r[6];

	if (n < 1 || n > CORR_FUSE_MAX)
		return -1;
	if (n == 1) {
		if (corr_ldl(P[0], U, r) == -1)	/* PD? */
			return -1;
		memcpy(xo, x[0], 6 * sizeof(double));
		memcpy(Po, P[0], 36 * sizeof(double));
		if (wout != NULL)
			wout[0] = 1.0;
		return 0;
	}
	if (wout == NULL)
		how &= ~CORR_CI_WARM;
	if (how & CORR_CI_WARM)
		memcpy(w, wout, n * sizeof(double));
	if (corr_ci(n, x, P, xo, Po, w, how) == -1)
		return -1;
	if (wout != NULL)
		memcpy(wout, w, n * sizeof(double));
	return 0;
}

/*
 * Covariance intersection of n estimates at one time (corr_ci), from the
 * improved fast-CI start.
 */
int
corr_fuse(size_t n, const double (*x)[6], const double (*P)[36],
    double xo[6], double Po[36], double *wout)
{
	return corr_fuse_how(n, x, P, xo, Po, wout, 0);
}

/* corr_fuse from the weights in w (see corr_ci_kept). */
int
corr_fuse_warm(size_t n, const double (*x)[6], const double (*P)[36],
    double xo[6], double Po[36], double *w)
{
	return corr_fuse_how(n, x, P, xo, Po, w, CORR_CI_WARM);
}

/* corr_fuse with the Newton steps in their KKT form (a reference). */
int
corr_fuse_newton(size_t n, const double (*x)[6], const double (*P)[36],
    double xo[6], double Po[36], double *wout)
{
	return corr_fuse_how(n, x, P, xo, Po, wout, CORR_CI_GENERAL);
}
