/*
 * Unit tests of the correlation core (daemon/corr*.c), linked for real with
 * tfgeo. Expected values come from hand derivations or from independent
 * arithmetic in this file, never from the core's own output.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trackfuse/corr.h"
#include "trackfuse/geo.h"
#include "testrand.h"

#define SEC		1000000000LL
#define T0		(1800000000LL * SEC)
#define Q_AIR		9.0
#define CORR_TEST_FIRM	1	/* one-sensor updates while tentative */

/* Everything the core emitted, in order. */
struct rec {
	size_t			 n, cap;
	enum corr_change	*ch;
	struct tf_picture_track	*pt;
	/* The raw byte stream, for the determinism test. */
	unsigned char		*bytes;
	size_t			 nbytes, capbytes;
	int			 keep_bytes;
};

/* Fail with both values when |a - b| > tol. */
static void
test_near(double a, double b, double tol, const char *what)
{
	if (!(fabs(a - b) <= tol)) {
		print_error("%s: got %.12g want %.12g (tol %g)\n", what, a, b,
		    tol);
		fail();
	}
}

/* Append to a growing buffer; the test aborts when memory is short. */
static void
test_grow(void **p, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return;
	*cap = need * 2;
	*p = realloc(*p, *cap * sz);
	assert_non_null(*p);
}

/* corr_emit_fn recording every change. */
static void
test_emit(void *arg, enum corr_change ch, const struct tf_picture_track *pt)
{
	struct rec	*r = arg;

	if (r->keep_bytes) {
		test_grow((void **)&r->bytes, &r->capbytes,
		    r->nbytes + sizeof(ch) + sizeof(*pt), 1);
		memcpy(r->bytes + r->nbytes, &ch, sizeof(ch));
		memcpy(r->bytes + r->nbytes + sizeof(ch), pt, sizeof(*pt));
		r->nbytes += sizeof(ch) + sizeof(*pt);
		return;
	}
	test_grow((void **)&r->ch, &r->cap, r->n + 1, sizeof(*r->ch));
	r->pt = realloc(r->pt, r->cap * sizeof(*r->pt));
	assert_non_null(r->pt);
	r->ch[r->n] = ch;
	r->pt[r->n] = *pt;
	r->n++;
}

/* Forget what was recorded. */
static void
test_rec_clear(struct rec *r)
{
	free(r->ch);
	free(r->pt);
	free(r->bytes);
	memset(r, 0, sizeof(*r));
}

/* A core with default params (optionally changed by the caller). */
static struct corr *
test_core(struct rec *r, const struct corr_params *p)
{
	struct corr_params	def;
	struct corr		*c;

	memset(r, 0, sizeof(*r));
	corr_params_default(&def);
	def.publish_tentative = 1;
	c = corr_new(p != NULL ? p : &def, test_emit, r);
	assert_non_null(c);
	return c;
}

/*
 * A report at (lat, lon, alt) plus east metres (on the equator, so the
 * longitude offset is east / a exactly enough), ENU velocity, diagonal
 * covariance sigma (position) and sigv (velocity).
 */
static struct tf_report
test_report(const char *sensor, uint32_t local, int64_t t, double lat,
    double lon, double alt, double east, double ve, double sig, double sigv,
    enum tf_category cat)
{
	struct tf_report	r;
	int			i;

	memset(&r, 0, sizeof(r));
	snprintf(r.sensor, sizeof(r.sensor), "%s", sensor);
	r.local_track = local;
	r.t_ns = t;
	r.lat_deg = lat;
	r.lon_deg = lon + east / (GEO_A * cos(lat * GEO_DEG)) / GEO_DEG;
	r.alt_m = alt;
	r.vel[0] = ve;
	for (i = 0; i < 6; i++)
		r.cov[tf_cov_idx(i, i)] = i < 3 ? sig * sig : sigv * sigv;
	r.cat = cat;
	r.ident = TF_IDENT_UNKNOWN;
	r.quality = 0.5f;
	snprintf(r.label.owner, sizeof(r.label.owner), "%.3s", sensor);
	r.label.cls = TF_CLASS_SECRET;
	return r;
}

/* Sensor's drop of its local track at t. */
static void
test_drop(struct corr *c, const char *sensor, uint32_t local, int64_t t)
{
	struct tf_drop	d;

	memset(&d, 0, sizeof(d));
	snprintf(d.sensor, sizeof(d.sensor), "%s", sensor);
	d.local_track = local;
	d.t_ns = t;
	corr_drop(c, &d);
}

/* A simple air report on the equator. */
static struct tf_report
test_air(const char *sensor, uint32_t local, int64_t t, double east)
{
	return test_report(sensor, local, t, 0.0, 130.0, 10000.0, east, 0.0,
	    100.0, 10.0, TF_CAT_AIR);
}

/* Diagonal 6x6. */
static void
test_diag(double P[36], const double d[6])
{
	int	i;

	memset(P, 0, 36 * sizeof(double));
	for (i = 0; i < 6; i++)
		P[i * 7] = d[i];
}

/* C = A B (6x6), the plain way. */
static void
test_mul(const double *A, const double *B, double *C)
{
	int	i, j, k;

	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++) {
			C[i * 6 + j] = 0.0;
			for (k = 0; k < 6; k++)
				C[i * 6 + j] += A[i * 6 + k] * B[k * 6 + j];
		}
}

/* Determinant of a 6x6 by Gaussian elimination with pivoting. */
static double
test_det(const double *M)
{
	double	A[36], d = 1.0, f, t;
	int	i, j, k, p;

	memcpy(A, M, sizeof(A));
	for (k = 0; k < 6; k++) {
		for (p = k, i = k + 1; i < 6; i++)
			if (fabs(A[i * 6 + k]) > fabs(A[p * 6 + k]))
				p = i;
		if (p != k) {
			for (j = 0; j < 6; j++) {
				t = A[k * 6 + j];
				A[k * 6 + j] = A[p * 6 + j];
				A[p * 6 + j] = t;
			}
			d = -d;
		}
		d *= A[k * 6 + k];
		for (i = k + 1; i < 6; i++) {
			f = A[i * 6 + k] / A[k * 6 + k];
			for (j = k; j < 6; j++)
				A[i * 6 + j] -= f * A[k * 6 + j];
		}
	}
	return d;
}

/* Inverse of an SPD 6x6 by Gauss-Jordan (no pivoting needed). */
static void
test_inv(const double *M, double *Mi)
{
	double	A[36], f, p;
	int	r, s, u;

	memcpy(A, M, sizeof(A));
	memset(Mi, 0, 36 * sizeof(double));
	for (r = 0; r < 6; r++)
		Mi[r * 7] = 1.0;
	for (r = 0; r < 6; r++) {
		p = A[r * 7];
		for (s = 0; s < 6; s++) {
			A[r * 6 + s] /= p;
			Mi[r * 6 + s] /= p;
		}
		for (s = 0; s < 6; s++) {
			if (s == r)
				continue;
			f = A[s * 6 + r];
			for (u = 0; u < 6; u++) {
				A[s * 6 + u] -= f * A[r * 6 + u];
				Mi[s * 6 + u] -= f * Mi[r * 6 + u];
			}
		}
	}
}

/*
 * Constant velocity: x' = x + dt v, P' = F P F^T + Q with F built as a
 * matrix here and Q the textbook white-acceleration block.
 */
static void
test_predict_cv(void **state)
{
	double	x[6] = { 7e6, 1e5, -2e5, 100.0, 200.0, -50.0 };
	double	P[36], F[36], FP[36], Ft[36], want[36], xo[6], Po[36];
	double	d[6] = { 400.0, 900.0, 100.0, 4.0, 9.0, 1.0 }, dt = 2.5;
	int	i, j;

	(void)state;
	test_diag(P, d);
	P[0 * 6 + 3] = P[3 * 6 + 0] = 20.0;	/* some x-vx correlation */
	test_diag(F, (double[6]){ 1, 1, 1, 1, 1, 1 });
	for (i = 0; i < 3; i++)
		F[i * 6 + i + 3] = dt;
	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++)
			Ft[i * 6 + j] = F[j * 6 + i];
	test_mul(F, P, FP);
	test_mul(FP, Ft, want);
	for (i = 0; i < 3; i++) {
		want[i * 7] += Q_AIR * dt * dt * dt / 3.0;
		want[i * 6 + i + 3] += Q_AIR * dt * dt / 2.0;
		want[(i + 3) * 6 + i] += Q_AIR * dt * dt / 2.0;
		want[(i + 3) * 7] += Q_AIR * dt;
	}
	corr_predict(TF_CAT_AIR, dt, x, P, xo, Po);
	for (i = 0; i < 3; i++) {
		test_near(xo[i], x[i] + dt * x[i + 3], 1e-6, "cv position");
		test_near(xo[i + 3], x[i + 3], 0.0, "cv velocity");
	}
	for (i = 0; i < 36; i++)
		test_near(Po[i], want[i], 1e-9, "cv covariance");
	/* Hand check of one entry: 400 + 2*2.5*20 + 6.25*4 + 9*15.625/3. */
	test_near(Po[0], 400.0 + 100.0 + 25.0 + 46.875, 1e-9, "P[0][0]");
	/* Backwards the state retreats and the uncertainty still grows. */
	corr_predict(TF_CAT_SURFACE, -4.0, x, P, xo, Po);
	test_near(xo[0], x[0] - 400.0, 1e-6, "back position");
	assert_true(Po[1 * 7] > P[1 * 7]);
	assert_true(Po[4 * 7] > P[4 * 7]);
}

/*
 * Gravity: a ballistic object at rest 100 km up falls 1/2 g t^2 with
 * g = GM / r^2; an air object does not. A satellite on a circular orbit
 * keeps its radius.
 */
static void
test_predict_gravity(void **state)
{
	double	r = GEO_A + 100000.0, g = GEO_GM / (r * r), t = 10.0;
	double	x[6] = { r, 0, 0, 0, 0, 0 }, P[36], xo[6], Po[36], v, ro;

	(void)state;
	test_diag(P, (double[6]){ 1, 1, 1, 1, 1, 1 });
	corr_predict(TF_CAT_BALLISTIC_MISSILE, t, x, P, xo, Po);
	test_near(r - xo[0], 0.5 * g * t * t, 1.0, "fall distance");
	test_near(xo[3], -g * t, 0.05, "fall speed");
	assert_true(Po[0] > 100.0 * t * t * t / 3.0);	/* q ~ 100 */
	corr_predict(TF_CAT_AIR, t, x, P, xo, Po);
	test_near(xo[0], r, 0.0, "air does not fall");

	r = GEO_A + 800000.0;
	v = sqrt(GEO_GM / r);
	memcpy(x, (double[6]){ r, 0, 0, 0, v, 0 }, sizeof(x));
	corr_predict(TF_CAT_SPACE, 60.0, x, P, xo, Po);
	ro = sqrt(xo[0] * xo[0] + xo[1] * xo[1] + xo[2] * xo[2]);
	test_near(ro, r, 5.0, "orbit radius");
	test_near(xo[1], r * sin(v / r * 60.0), 5.0, "orbit arc");
}

/*
 * Gate boundary: two sensors, sigma 100 m each, same velocity, offset d
 * east: S_ee = 2 * 100^2, so d^2 = d^2 / 20000 and the gate 22.46 is at
 * 670 m. 600 m joins (d^2 = 18), 750 m does not (d^2 = 28.1).
 */
static void
test_gate(void **state)
{
	struct tf_report	 a, b;
	struct rec		 rec;
	struct corr		*c;
	double			 d2;

	(void)state;
	c = test_core(&rec, NULL);
	a = test_air("USA-AEGIS-1", 1, T0, 0.0);
	b = test_air("JPN-AEGIS-1", 7, T0, 600.0);
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(corr_count(c), 1);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.ch[1], CORR_UPDATED);
	assert_int_equal(rec.pt[1].track_id, 1);
	assert_int_equal(rec.pt[1].contributors, 2);
	corr_free(c);
	test_rec_clear(&rec);

	c = test_core(&rec, NULL);
	b = test_air("JPN-AEGIS-1", 7, T0, 750.0);
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(corr_count(c), 2);
	assert_int_equal(rec.ch[1], CORR_CREATED);
	assert_int_equal(rec.pt[1].track_id, 2);
	corr_free(c);
	test_rec_clear(&rec);

	/*
	 * Tracks at 0 and 1000 m (apart: d^2 = 50); a report at 600 m gates
	 * both (d^2 18 and 8) and joins the nearer, track 2. CI of equal
	 * covariances keeps the covariance, so track 2 then sits at 800 m.
	 */
	c = test_core(&rec, NULL);
	b = test_air("JPN-AEGIS-1", 7, T0, 1000.0);
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(corr_count(c), 2);
	b = test_air("KOR-AEGIS-1", 2, T0, 600.0);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(rec.pt[2].track_id, 2);
	assert_int_equal(rec.pt[2].contributors, 2);
	/* Track 2 is now at 800 m: 300 m gates 1 (4.5) before 2 (12.5). */
	b = test_air("USA-E2D-1", 2, T0, 300.0);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(rec.pt[3].track_id, 1);
	corr_free(c);
	test_rec_clear(&rec);

	/* The primitive agrees with the hand value. */
	{
		double	x1[6] = { 0 }, x2[6] = { 600, 0, 0, 0, 0, 0 }, P[36];

		test_diag(P, (double[6]){ 1e4, 1e4, 1e4, 100, 100, 100 });
		assert_int_equal(corr_distance(x1, P, x2, P, &d2), 0);
		test_near(d2, 18.0, 1e-9, "d2");
		P[0] = -1.0;
		assert_int_equal(corr_distance(x1, P, x2, P, &d2), -1);
	}
}

/*
 * The factorisation's test of positive definiteness (corr_ldlm, one
 * test at the end of the chain), through corr_distance: a bad pivot in
 * any row (negative, zero, infinite, NaN, or so small that its
 * reciprocal overflows) or an indefinite 2x2 block is refused; a tiny
 * or a huge but representable pivot is not.
 */
static void
test_distance_pd(void **state)
{
	double	x1[6] = { 0 }, x2[6] = { 1, 2, 3, 4, 5, 6 }, P[36], Z[36];
	double	bad[] = { -1.0, 0.0, -0.0, INFINITY, -INFINITY, NAN, 1e-320 };
	double	good[] = { 1e-300, 1e300, 1.5e308 };
	double	d2, e;
	size_t	i, k;

	(void)state;
	memset(Z, 0, sizeof(Z));
	for (i = 0; i < 6; i++) {
		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			test_diag(P, (double[6]){ 4, 4, 4, 1, 1, 1 });
			P[i * 7] = bad[k];
			if (corr_distance(x1, P, x2, Z, &d2) != -1) {
				print_error("row %zu pivot %g taken\n", i,
				    bad[k]);
				fail();
			}
		}
		for (k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
			test_diag(P, (double[6]){ 4, 4, 4, 1, 1, 1 });
			P[i * 7] = good[k];
			if (corr_distance(x1, P, x2, Z, &d2) != 0) {
				print_error("row %zu pivot %g refused\n", i,
				    good[k]);
				fail();
			}
			/* sum (j + 1)^2 / P_jj: 14 / 4 + 77, row i changed */
			e = (double)(i + 1) * (i + 1);
			e = 80.5 - e / (i < 3 ? 4.0 : 1.0) + e / good[k];
			test_near(d2, e, 1e-12 * e, "pd d2");
		}
	}
	/* |correlation| 2 between rows 2 and 3: the pivot of row 3 is -3. */
	test_diag(P, (double[6]){ 1, 1, 1, 1, 1, 1 });
	P[2 * 6 + 3] = P[3 * 6 + 2] = 2.0;
	assert_int_equal(corr_distance(x1, P, x2, Z, &d2), -1);
	P[2 * 6 + 3] = P[3 * 6 + 2] = 0.5;
	assert_int_equal(corr_distance(x1, P, x2, Z, &d2), 0);
}

/* Air and surface never join; ballistic missile and space do. */
static void
test_category(void **state)
{
	struct tf_report	 a, b;
	struct rec		 rec;
	struct corr		*c;

	(void)state;
	c = test_core(&rec, NULL);
	a = test_air("USA-AEGIS-1", 1, T0, 0.0);
	b = test_air("KOR-AEGIS-1", 1, T0, 0.0);
	b.cat = TF_CAT_SURFACE;
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(corr_count(c), 2);
	a = test_report("USA-SBIRS-1", 1, T0, 40.0, 128.0, 300000.0, 0.0,
	    2000.0, 500.0, 50.0, TF_CAT_BALLISTIC_MISSILE);
	b = a;
	snprintf(b.sensor, sizeof(b.sensor), "JPN-AEGIS-1");
	b.cat = TF_CAT_SPACE;
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(corr_count(c), 3);
	assert_int_equal(rec.pt[rec.n - 1].contributors, 2);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * Two local tracks of one sensor, started at the same time on top of each
 * other, stay two system tracks however long they update.
 */
static void
test_same_sensor(void **state)
{
	struct tf_report	 a, b;
	struct rec		 rec;
	struct corr		*c;
	int			 k;

	(void)state;
	c = test_core(&rec, NULL);
	for (k = 0; k < 10; k++) {
		a = test_air("KOR-E7-1", 1, T0 + k * SEC, 0.0);
		b = test_air("KOR-E7-1", 2, T0 + k * SEC, 10.0);
		assert_int_equal(corr_report(c, &a), CORR_OK);
		assert_int_equal(corr_report(c, &b), CORR_OK);
		assert_int_equal(corr_count(c), 2);
		assert_int_equal(rec.pt[rec.n - 1].contributors, 1);
		assert_int_equal(rec.pt[rec.n - 2].contributors, 1);
		assert_int_not_equal(rec.pt[rec.n - 1].track_id,
		    rec.pt[rec.n - 2].track_id);
	}
	corr_free(c);
	test_rec_clear(&rec);
}

/* Two identical estimates fuse to themselves, directly and end to end. */
static void
test_fuse_identical(void **state)
{
	double			 x[2][6], P[2][36], xo[6], Po[36], w[2];
	struct tf_report	 a, b;
	struct rec		 rec;
	struct corr		*c;
	int			 i;

	(void)state;
	for (i = 0; i < 6; i++)
		x[0][i] = x[1][i] = 1000.0 * (i + 1);
	test_diag(P[0], (double[6]){ 1e4, 4e4, 9e4, 1, 4, 9 });
	P[0][1] = P[0][6] = 1e3;
	memcpy(P[1], P[0], sizeof(P[0]));
	assert_int_equal(corr_fuse(2, (const double (*)[6])x,
	    (const double (*)[36])P, xo, Po, w), 0);
	for (i = 0; i < 6; i++)
		test_near(xo[i], x[0][i], 0.0, "identical x");
	for (i = 0; i < 36; i++)
		test_near(Po[i], P[0][i], 1e-9 * fabs(P[0][i]) + 1e-12,
		    "identical P");
	test_near(w[0] + w[1], 1.0, 1e-12, "weights sum");

	c = test_core(&rec, NULL);
	a = test_report("USA-E2D-1", 3, T0, 37.5, 131.0, 9000.0, 0.0, 200.0,
	    300.0, 15.0, TF_CAT_AIR);
	b = a;
	snprintf(b.sensor, sizeof(b.sensor), "JPN-E767-1");
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(rec.pt[1].contributors, 2);
	test_near(rec.pt[1].lat_deg, a.lat_deg, 1e-9, "lat");
	test_near(rec.pt[1].lon_deg, a.lon_deg, 1e-9, "lon");
	test_near(rec.pt[1].alt_m, a.alt_m, 1e-3, "alt");
	/* Sources keep their velocity in float: 7 digits. */
	test_near(rec.pt[1].vel[0], 200.0, 1e-4, "ve");
	for (i = 0; i < TF_COV_N; i++)
		test_near(rec.pt[1].cov[i], a.cov[i],
		    1e-6 * fabs(a.cov[i]) + 1e-6, "cov");
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * CI with diagonal covariances separates by axis. With informations
 * (a, a, a, c, c, c) and (b, b, b, d, d, d) the cost is
 * f(w) = -3 log(b + w (a - b)) - 3 log(d + w (c - d)), and f'(w) = 0 gives
 * w = -((a - b) d + (c - d) b) / (2 (a - b)(c - d)); for a = 4, b = 1,
 * c = 1, d = 2 that is 5/6.
 */
static void
test_fuse_ci(void **state)
{
	double	a = 4, b = 1, cc = 1, d = 2, w, wo[3], x[3][6], P[3][36];
	double	xo[6], Po[36], y1, y2, Yw[36], wt[3], Pi[36];
	int	i, k, j, r;

	(void)state;
	w = -((a - b) * d + (cc - d) * b) / (2.0 * (a - b) * (cc - d));
	test_near(w, 5.0 / 6.0, 1e-15, "closed form");
	test_diag(P[0], (double[6]){ 1 / a, 1 / a, 1 / a, 1 / cc, 1 / cc,
	    1 / cc });
	test_diag(P[1], (double[6]){ 1 / b, 1 / b, 1 / b, 1 / d, 1 / d,
	    1 / d });
	for (i = 0; i < 6; i++) {
		x[0][i] = 10.0 + i;
		x[1][i] = -5.0 + 2 * i;
	}
	assert_int_equal(corr_fuse(2, (const double (*)[6])x,
	    (const double (*)[36])P, xo, Po, wo), 0);
	test_near(wo[0], w, 1e-9, "weight");
	for (i = 0; i < 6; i++) {
		y1 = i < 3 ? a : cc;
		y2 = i < 3 ? b : d;
		test_near(Po[i * 7], 1.0 / (w * y1 + (1 - w) * y2), 1e-9,
		    "fused variance");
		test_near(xo[i], (w * y1 * x[0][i] + (1 - w) * y2 * x[1][i]) /
		    (w * y1 + (1 - w) * y2), 1e-9, "fused state");
	}

	/*
	 * Three correlated estimates: the fused det must not exceed that of
	 * any other point on the simplex we try (vertices, centre, a grid).
	 */
	for (k = 0; k < 3; k++) {
		test_diag(P[k], (double[6]){ 1 + k, 3 - k, 2, 0.5 + k,
		    1, 2 - 0.5 * k });
		P[k][1] = P[k][6] = 0.3 * (k - 1);
		for (i = 0; i < 6; i++)
			x[k][i] = k * 0.1 * i;
	}
	assert_int_equal(corr_fuse(3, (const double (*)[6])x,
	    (const double (*)[36])P, xo, Po, wo), 0);
	for (i = 0; i <= 10; i++)
		for (j = 0; i + j <= 10; j++) {
			wt[0] = i / 10.0;
			wt[1] = j / 10.0;
			wt[2] = 1.0 - wt[0] - wt[1];
			memset(Yw, 0, sizeof(Yw));
			for (k = 0; k < 3; k++) {
				test_inv(P[k], Pi);
				for (r = 0; r < 36; r++)
					Yw[r] += wt[k] * Pi[r];
			}
			/* det P(w) = 1 / det Y(w) */
			assert_true(test_det(Po) <=
			    1.0 / test_det(Yw) * (1.0 + 1e-9));
		}
}

/* Create, update keeps the id, drop drops, stale expiry, OLD, LIMIT. */
static void
test_lifecycle(void **state)
{
	struct corr_params	 p;
	struct tf_report	 a, b;
	struct rec		 rec;
	struct corr		*c;

	(void)state;
	c = test_core(&rec, NULL);
	a = test_air("USA-AEGIS-1", 1, T0, 0.0);
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(rec.ch[0], CORR_CREATED);
	assert_int_equal(rec.pt[0].track_id, 1);
	test_near(rec.pt[0].lat_deg, a.lat_deg, 1e-9, "created lat");
	a.t_ns += SEC;
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(rec.ch[1], CORR_UPDATED);
	assert_int_equal(rec.pt[1].track_id, 1);
	assert_int_equal(rec.pt[1].t_ns, T0 + SEC);
	/* Older than what the source holds: refused, nothing emitted. */
	a.t_ns -= 2 * SEC;
	assert_int_equal(corr_report(c, &a), CORR_OLD);
	assert_int_equal(rec.n, 2);
	test_drop(c, "USA-AEGIS-1", 1, T0 + 2 * SEC);
	assert_int_equal(rec.n, 3);
	assert_int_equal(rec.ch[2], CORR_DROPPED);
	assert_int_equal(rec.pt[2].track_id, 1);
	assert_int_equal(corr_count(c), 0);
	assert_int_equal(corr_sources(c), 0);

	/* Stale: exactly stale_ns old is kept, a nanosecond more is not. */
	a = test_air("USA-AEGIS-1", 2, T0 + 10 * SEC, 0.0);
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(rec.pt[3].track_id, 2);	/* ids never reused */
	corr_advance(c, T0 + 25 * SEC);
	assert_int_equal(rec.n, 4);
	corr_advance(c, T0 + 25 * SEC + 1);
	assert_int_equal(rec.n, 5);
	assert_int_equal(rec.ch[4], CORR_DROPPED);
	assert_int_equal(rec.pt[4].track_id, 2);
	assert_int_equal(corr_count(c), 0);
	/* Older than the watermark by more than stale_ns: refused. */
	a = test_air("JPN-AEGIS-1", 1, T0, 0.0);
	assert_int_equal(corr_report(c, &a), CORR_OLD);
	/* Bad numbers are refused. */
	a = test_air("JPN-AEGIS-1", 1, T0 + 30 * SEC, 0.0);
	a.lat_deg = NAN;
	assert_int_equal(corr_report(c, &a), CORR_INVALID);
	a = test_air("JPN-AEGIS-1", 1, T0 + 30 * SEC, 0.0);
	a.cov[0] = -5.0;
	assert_int_equal(corr_report(c, &a), CORR_INVALID);
	a = test_air("JPN-AEGIS-1", 1, -1, 0.0);
	assert_int_equal(corr_report(c, &a), CORR_INVALID);
	a = test_air("JPN-AEGIS-1", 1, INT64_MAX, 0.0);
	assert_int_equal(corr_report(c, &a), CORR_INVALID);
	corr_advance(c, INT64_MAX);		/* ignored: out of range */
	assert_int_equal(corr_now(c), T0 + 25 * SEC + 1);
	assert_int_equal(rec.n, 5);
	corr_free(c);
	test_rec_clear(&rec);

	/* Limits refuse and change nothing. */
	corr_params_default(&p);
	p.max_sources = 2;
	p.publish_tentative = 1;
	p.max_tracks = 1;
	c = test_core(&rec, &p);
	a = test_air("USA-AEGIS-1", 1, T0, 0.0);
	b = test_air("KOR-AEGIS-1", 1, T0, 1e6);	/* far: a new track */
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_report(c, &b), CORR_LIMIT);
	b = test_air("KOR-AEGIS-1", 1, T0, 50.0);	/* joins: fine */
	assert_int_equal(corr_report(c, &b), CORR_OK);
	b = test_air("JPN-AEGIS-1", 1, T0, 50.0);	/* third source */
	assert_int_equal(corr_report(c, &b), CORR_LIMIT);
	assert_int_equal(corr_count(c), 1);
	assert_int_equal(corr_sources(c), 2);
	assert_int_equal(rec.n, 2);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * Expiry follows event time, not arrival: a late-arriving older report
 * ages out first even though it came in last.
 */
static void
test_expiry_order(void **state)
{
	struct tf_report	 a, b;
	struct rec		 rec;
	struct corr		*c;

	(void)state;
	c = test_core(&rec, NULL);
	a = test_air("USA-AEGIS-1", 1, T0 + 5 * SEC, 0.0);
	b = test_air("KOR-AEGIS-1", 1, T0 + SEC, 1e6);
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	corr_advance(c, T0 + 16 * SEC + 1);
	assert_int_equal(rec.n, 3);
	assert_int_equal(rec.ch[2], CORR_DROPPED);
	assert_int_equal(rec.pt[2].track_id, 2);
	assert_int_equal(corr_count(c), 1);
	corr_advance(c, T0 + 20 * SEC + 1);
	assert_int_equal(rec.pt[3].track_id, 1);
	assert_int_equal(corr_count(c), 0);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * A contribution that drifts away from the rest of its track is detached
 * and starts its own; the rest keeps the number.
 */
static void
test_detach(void **state)
{
	struct tf_report	 a, b;
	struct rec		 rec;
	struct corr		*c;

	(void)state;
	c = test_core(&rec, NULL);
	a = test_air("USA-AEGIS-1", 1, T0, 0.0);
	b = test_air("KOR-AEGIS-1", 4, T0, 100.0);
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(corr_count(c), 1);
	b = test_air("KOR-AEGIS-1", 4, T0 + SEC, 20000.0);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(corr_count(c), 2);
	assert_int_equal(rec.ch[2], CORR_UPDATED);
	assert_int_equal(rec.pt[2].track_id, 1);
	assert_int_equal(rec.pt[2].contributors, 1);
	assert_int_equal(rec.ch[3], CORR_CREATED);
	assert_int_equal(rec.pt[3].track_id, 2);
	/* A lone contribution carries its track wherever it goes. */
	b = test_air("KOR-AEGIS-1", 4, T0 + 2 * SEC, 80000.0);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(rec.pt[4].track_id, 2);
	assert_int_equal(corr_count(c), 2);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * A sensor that renumbers its track (new local number, later time, same
 * place) keeps the system track; the old number's drop changes nothing.
 */
static void
test_renumber(void **state)
{
	struct tf_report	 a, b;
	struct rec		 rec;
	struct corr		*c;
	size_t			 n;
	int			 k;

	(void)state;
	c = test_core(&rec, NULL);
	for (k = 0; k < 3; k++) {
		a = test_air("JPN-P1-1", 11, T0 + k * SEC, 0.0);
		b = test_air("KOR-P8-1", 5, T0 + k * SEC, 30.0);
		assert_int_equal(corr_report(c, &a), CORR_OK);
		assert_int_equal(corr_report(c, &b), CORR_OK);
	}
	a = test_air("JPN-P1-1", 12, T0 + 3 * SEC, 10.0);
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_count(c), 1);
	assert_int_equal(rec.pt[rec.n - 1].track_id, 1);
	assert_int_equal(rec.pt[rec.n - 1].contributors, 2);
	n = rec.n;
	test_drop(c, "JPN-P1-1", 11, T0 + 3 * SEC);
	assert_int_equal(rec.n, n);
	assert_int_equal(corr_sources(c), 2);
	a.t_ns += SEC;
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(rec.pt[rec.n - 1].track_id, 1);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * Renumbering guessed wrong: the sensor's second object appeared a little
 * later within the gate of the first and took its track; when the first
 * local track reports again it reclaims track 1 and the second object
 * gets track 2. After that both keep their numbers (no taking turns).
 */
static void
test_reclaim(void **state)
{
	struct tf_report	 a, b;
	struct corr_stats	 st;
	struct rec		 rec;
	struct corr		*c;
	int			 k;

	(void)state;
	c = test_core(&rec, NULL);
	a = test_air("KOR-P8-1", 1, T0, 0.0);
	b = test_air("KOR-P8-1", 2, T0 + SEC / 10, 150.0);
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(corr_count(c), 1);		/* renumbering guess */
	a.t_ns = T0 + SEC;
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_count(c), 2);
	assert_int_equal(rec.ch[2], CORR_UPDATED);
	assert_int_equal(rec.pt[2].track_id, 1);
	assert_int_equal(rec.ch[3], CORR_CREATED);
	assert_int_equal(rec.pt[3].track_id, 2);
	for (k = 2; k < 8; k++) {
		a.t_ns = T0 + k * SEC;
		b.t_ns = T0 + k * SEC + SEC / 10;
		assert_int_equal(corr_report(c, &a), CORR_OK);
		assert_int_equal(rec.pt[rec.n - 1].track_id, 1);
		assert_int_equal(corr_report(c, &b), CORR_OK);
		assert_int_equal(rec.pt[rec.n - 1].track_id, 2);
		assert_int_equal(corr_count(c), 2);
	}
	corr_get_stats(c, &st);
	assert_int_equal(st.renumbered, 1);
	assert_int_equal(st.reclaimed, 1);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * Nations, label, identity and conflict of a fused track. Nations
 * compare as strncmp does: "U" with different bytes after its NUL is one
 * nation, and sorts before "USA". The label follows each change of the
 * contributions (corr_emit reuses the kept one while nothing changed):
 * one's narrower label, a report that changes nothing, a drop.
 */
static void
test_label(void **state)
{
	struct tf_report	 a, b;
	struct rec		 rec;
	struct corr		*c;
	struct tf_picture_track	*pt;

	(void)state;
	c = test_core(&rec, NULL);
	a = test_air("USA-AEGIS-1", 1, T0, 0.0);
	a.ident = TF_IDENT_HOSTILE;
	a.quality = 0.4f;
	a.label.cls = TF_CLASS_CONFIDENTIAL;
	a.label.nrel = 4;
	memcpy(a.label.rel, (char[4][TF_NATION_LEN]){ "KOR", "USA", "JPN",
	    "U\0X" }, sizeof(char[4][TF_NATION_LEN]));
	b = test_air("KOR-AEGIS-1", 1, T0, 10.0);
	b.ident = TF_IDENT_FRIEND;
	b.quality = 0.9f;
	b.label.cls = TF_CLASS_SECRET;
	b.label.nrel = 3;
	memcpy(b.label.rel, (char[3][TF_NATION_LEN]){ "USA", "U\0Y", "KOR" },
	    sizeof(char[3][TF_NATION_LEN]));
	assert_int_equal(corr_report(c, &a), CORR_OK);
	pt = &rec.pt[0];
	assert_string_equal(pt->label.owner, "USA");
	assert_int_equal(pt->nnations, 1);
	assert_int_equal(pt->ident_conflict, 0);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	pt = &rec.pt[1];
	assert_int_equal(pt->nnations, 2);
	assert_string_equal(pt->nations[0], "KOR");
	assert_string_equal(pt->nations[1], "USA");
	assert_string_equal(pt->label.owner, "");
	assert_int_equal(pt->label.cls, TF_CLASS_SECRET);
	assert_int_equal(pt->label.nrel, 3);
	assert_string_equal(pt->label.rel[0], "KOR");
	assert_string_equal(pt->label.rel[1], "U");
	assert_string_equal(pt->label.rel[2], "USA");
	assert_int_equal(pt->ident, TF_IDENT_FRIEND);
	assert_int_equal(pt->ident_conflict, 1);
	test_near(pt->quality, 0.9, 1e-6, "quality");
	b.t_ns = T0 + SEC;
	b.label.nrel = 1;
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(rec.n, 3);
	assert_int_equal(rec.pt[2].label.nrel, 1);
	assert_string_equal(rec.pt[2].label.rel[0], "USA");
	/* Sharper than b now, so that it is fused (corr_sys_idle). */
	a.t_ns = T0 + SEC;
	a.cov[tf_cov_idx(0, 0)] = a.cov[tf_cov_idx(1, 1)] = 50.0 * 50.0;
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(rec.n, 4);
	assert_int_equal(rec.pt[3].label.nrel, 1);
	assert_int_equal(rec.pt[3].nnations, 2);
	test_drop(c, "KOR-AEGIS-1", 1, T0 + 2 * SEC);
	a.t_ns = T0 + 2 * SEC;
	assert_int_equal(corr_report(c, &a), CORR_OK);
	pt = &rec.pt[rec.n - 1];
	assert_string_equal(pt->label.owner, "USA");
	assert_int_equal(pt->label.cls, TF_CLASS_CONFIDENTIAL);
	assert_int_equal(pt->label.nrel, 4);
	assert_int_equal(pt->nnations, 1);
	corr_free(c);
	test_rec_clear(&rec);
}

/* A random SPD 6x6: M M^T plus a diagonal, axes of mixed scale. */
static void
test_spd(uint64_t *seed, double P[36])
{
	double	M[36], sc[6] = { 300.0, 800.0, 50.0, 10.0, 3.0, 1.0 };
	int	i, j, k;

	for (i = 0; i < 36; i++)
		M[i] = (test_unif(seed) - 0.5) * sc[i / 6] *
		    (1.0 + 20.0 * test_unif(seed));
	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++) {
			P[i * 6 + j] = i == j ? sc[i] * sc[i] * 0.01 : 0.0;
			for (k = 0; k < 6; k++)
				P[i * 6 + j] += M[i * 6 + k] * M[j * 6 + k];
		}
}

/* corr_fuse and corr_fuse_newton agree on n estimates to 1e-9 relative. */
static void
test_fuse_same(size_t n, const double (*x)[6], const double (*P)[36],
    double *w)
{
	double	xa[6], Pa[36], xb[6], Pb[36], wb[CORR_FUSE_MAX], s = 0.0;
	size_t	k;
	int	i;

	assert_int_equal(corr_fuse(n, x, P, xa, Pa, w), 0);
	assert_int_equal(corr_fuse_newton(n, x, P, xb, Pb, wb), 0);
	for (k = 0; k < n; k++) {
		test_near(w[k], wb[k], 1e-9, "weight");
		s += w[k];
	}
	test_near(s, 1.0, 1e-12, "weights sum");
	for (i = 0; i < 6; i++)
		test_near(xa[i], xb[i], 1e-9 * (fabs(xb[i]) +
		    sqrt(Pb[i * 7])), "state");
	for (i = 0; i < 36; i++)
		test_near(Pa[i], Pb[i], 1e-9 * sqrt(Pb[(i / 6) * 7] *
		    Pb[(i % 6) * 7]), "covariance");
}

/*
 * The KKT conditions of min -log det Y(w) on the simplex: with P the
 * fused covariance, tr(P Y_i) is 6 where w_i > 0 (the gradient's common
 * value: sum w_i tr(P Y_i) = tr(I)) and at most 6 where w_i = 0 (raising
 * that weight would not help), both to 5e-3: Newton stops with about 1e-6
 * of log det left. Counts the zero weights in *zeros.
 */
static void
test_fuse_kkt(size_t n, const double (*P)[36], const double *w,
    size_t *zeros)
{
	double	Y[36], Yw[36], Pw[36], M[36], tr;
	size_t	k;
	int	i;

	memset(Yw, 0, sizeof(Yw));
	for (k = 0; k < n; k++) {
		test_inv(P[k], Y);
		for (i = 0; i < 36; i++)
			Yw[i] += w[k] * Y[i];
	}
	test_inv(Yw, Pw);
	for (k = 0; k < n; k++) {
		test_inv(P[k], Y);
		test_mul(Pw, Y, M);
		for (tr = 0.0, i = 0; i < 6; i++)
			tr += M[i * 7];
		if (w[k] > 0.0)
			test_near(tr, 6.0, 5e-3, "active weight gradient");
		else {
			assert_true(tr <= 6.0 + 5e-3);
			(*zeros)++;
		}
	}
}

/*
 * Newton steps in reduced variables (one weight eliminated; for two
 * estimates a problem in one variable) give what the KKT form over all
 * weights gives, to 1e-9 relative, for 2 to 6 random estimates. For two,
 * the weight is also checked optimal: inside (0, 1) the Newton decrement
 * f'^2 / f'', f'(w) = -tr(P(w) D), f'' = tr((P(w) D)^2), D = Y_0 - Y_1, is
 * below 1e-5 (the iteration stops once about 1e-6 is left); at a vertex
 * f' points out of the simplex.
 */
static void
test_fuse_pair(void **state)
{
	double	x[6][6], P[6][36], w[6];
	double	Y0[36], Y1[36], Yw[36], Pw[36], D[36], M[36], MM[36];
	double	g, h;
	uint64_t seed = 12345;
	size_t	n, zeros = 0;
	int	it, i, k, inside = 0;

	(void)state;
	for (it = 0; it < 500; it++) {
		n = 2 + (it < 300 ? 0 : it % 5);
		for (k = 0; k < (int)n; k++) {
			test_spd(&seed, P[k]);
			for (i = 0; i < 6; i++)
				x[k][i] = (test_unif(&seed) - 0.5) * 1e3;
		}
		if (it % 10 == 0)	/* one far better than the other */
			for (i = 0; i < 36; i++)
				P[1][i] *= 1e3;
		test_fuse_same(n, (const double (*)[6])x,
		    (const double (*)[36])P, w);
		test_fuse_kkt(n, (const double (*)[36])P, w, &zeros);
		if (n > 2)
			continue;
		test_inv(P[0], Y0);
		test_inv(P[1], Y1);
		for (i = 0; i < 36; i++) {
			Yw[i] = w[0] * Y0[i] + w[1] * Y1[i];
			D[i] = Y0[i] - Y1[i];
		}
		test_inv(Yw, Pw);
		test_mul(Pw, D, M);
		test_mul(M, M, MM);
		for (g = h = 0.0, i = 0; i < 6; i++) {
			g -= M[i * 7];
			h += MM[i * 7];
		}
		if (w[0] > 0.0 && w[1] > 0.0) {
			inside++;
			assert_true(g * g / h < 1e-5);
		} else
			assert_true(w[0] > 0.0 ? g <= 0.0 : g >= 0.0);
	}
	assert_true(inside > 100);
	assert_true(zeros > 20);
}

/* log det of a 6x6 SPD matrix, by Cholesky. */
static double
test_logdet(const double A[36])
{
	double	L[36], s, ld = 0.0;
	int	i, j, k;

	memset(L, 0, sizeof(L));
	for (j = 0; j < 6; j++) {
		for (s = A[j * 7], k = 0; k < j; k++)
			s -= L[j * 6 + k] * L[j * 6 + k];
		assert_true(s > 0.0);
		L[j * 7] = sqrt(s);
		ld += 2.0 * log(L[j * 7]);
		for (i = j + 1; i < 6; i++) {
			for (s = A[i * 6 + j], k = 0; k < j; k++)
				s -= L[i * 6 + k] * L[j * 6 + k];
			L[i * 6 + j] = s / L[j * 7];
		}
	}
	return ld;
}

/*
 * A warm start (corr_fuse_warm) from weights near the optimum keeps them
 * when they are within 0.05 of the optimal log det P, and otherwise
 * takes Newton steps: either way the result is within 0.05 of the cold
 * optimum, for 2 to 6 random estimates and starts from small
 * perturbations to a vertex.
 */
static void
test_fuse_warm(void **state)
{
	double	x[6][6], P[6][36], w[6], w0[6], xa[6], Pa[36], s;
	uint64_t seed = 777;
	size_t	n, k;
	int	it, i, kept = 0, moved = 0;
	double	gap, amp;

	(void)state;
	for (it = 0; it < 600; it++) {
		n = 2 + it % 5;
		for (k = 0; k < n; k++) {
			test_spd(&seed, P[k]);
			for (i = 0; i < 6; i++)
				x[k][i] = (test_unif(&seed) - 0.5) * 1e3;
		}
		assert_int_equal(corr_fuse(n, (const double (*)[6])x,
		    (const double (*)[36])P, xa, Pa, w), 0);
		amp = it % 3 == 0 ? 1e-3 : it % 3 == 1 ? 0.05 : 5.0;
		for (s = 0.0, k = 0; k < n; k++) {
			w0[k] = w[k] + amp * test_unif(&seed);
			s += w0[k];
		}
		for (k = 0; k < n; k++)
			w[k] = w0[k] /= s;
		assert_int_equal(corr_fuse_warm(n, (const double (*)[6])x,
		    (const double (*)[36])P, xa, Pa, w), 0);
		gap = test_logdet(Pa);
		assert_int_equal(corr_fuse(n, (const double (*)[6])x,
		    (const double (*)[36])P, xa, Pa, NULL), 0);
		gap -= test_logdet(Pa);
		assert_true(gap > -1e-5);	/* cold Newton leaves ~1e-6 */
		assert_true(gap <= 0.05 + 1e-9);
		if (memcmp(w, w0, n * sizeof(double)) == 0)
			kept++;
		else
			moved++;
	}
	print_message("warm starts: %d kept, %d moved\n", kept, moved);
	assert_true(kept > 50);
	assert_true(moved > 50);
}

/*
 * Each element (i, j) of a picture covariance against the reference's,
 * to rel relative to the scale sqrt(m_i m_j), m_i the largest variance
 * of i's block (position, velocity): a rotation spreads the rounding of
 * the largest element over the whole block.
 */
static void
test_cov_near(const double *got, const double *ref, double rel)
{
	double	m[2] = { 0.0, 0.0 };
	int	i, j;

	for (i = 0; i < 6; i++)
		m[i / 3] = fmax(m[i / 3], ref[tf_cov_idx(i, i)]);
	for (i = 0; i < 6; i++)
		for (j = i; j < 6; j++)
			test_near(got[tf_cov_idx(i, j)], ref[tf_cov_idx(i, j)],
			    rel * sqrt(m[i / 3] * m[j / 3]), "cov");
}

/* An air report at (lat, lon) with a random full ENU covariance. */
static struct tf_report
test_report_spd(uint64_t *seed, const char *sensor, int64_t t, double lat,
    double lon, double east)
{
	struct tf_report	r;
	double			P[36];

	r = test_report(sensor, 1, t, lat, lon, 9000.0, east, 200.0, 100.0,
	    10.0, TF_CAT_AIR);
	test_spd(seed, P);
	geo_cov_pack(P, r.cov);
	return r;
}

/*
 * A lone report's covariance comes back in the picture: full (random SPD,
 * correlated axes of mixed scale), at latitudes that mix every ECEF axis
 * into every ENU one. It goes ENU -> ECEF (corr_rotate), to its stored
 * float triangle, and back to ENU in the picture (corr_rotate again, by
 * blocks, upper halves only): an index or a block mixed up would show.
 */
static void
test_cov_stored(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	uint64_t		 seed = 4242;
	int			 it;

	(void)state;
	for (it = 0; it < 40; it++) {
		c = test_core(&rec, NULL);
		r = test_report_spd(&seed, "USA-E2D-1", T0,
		    -80.0 + 4.0 * it, -170.0 + 8.5 * it, 0.0);
		assert_int_equal(corr_report(c, &r), CORR_OK);
		assert_int_equal(rec.n, 1);
		test_cov_near(rec.pt[0].cov, r.cov, 1e-6);
		corr_free(c);
		test_rec_clear(&rec);
	}
}

/*
 * Two sensors' reports of one aircraft, 2 s apart, fuse to what the
 * exported primitives make of them: each converted to ECEF (geo), the
 * older predicted to the newer's time (corr_predict, from a full double
 * matrix), both fused (corr_fuse) and the result turned to ENU. The core
 * predicts from the stored float triangle (corr_predict_f) to gate and to
 * fuse, and fuses from there: agreement to float storage (and to where
 * Newton stops) says that the stored-form kernels read the right
 * elements.
 */
static void
test_fuse_stored(void **state)
{
	struct tf_report	 r[2];
	struct rec		 rec;
	struct corr		*c;
	const struct tf_picture_track *pt;
	double			 x[2][6], P[2][36], Pe[36], xo[6], Po[36];
	double			 ref[TF_COV_N];
	uint64_t		 seed = 99;
	int			 it, k;

	(void)state;
	for (it = 0; it < 20; it++) {
		c = test_core(&rec, NULL);
		r[0] = test_report_spd(&seed, "USA-E2D-1", T0, 35.0 + it,
		    128.0 + it, 0.0);
		r[1] = test_report_spd(&seed, "JPN-E767-1", T0 + 2 * SEC,
		    35.0 + it, 128.0 + it, 400.0);
		for (k = 0; k < 2; k++) {
			assert_int_equal(corr_report(c, &r[k]), CORR_OK);
			geo_lla_to_ecef(r[k].lat_deg, r[k].lon_deg, r[k].alt_m,
			    x[k]);
			geo_enu_to_ecef_vec(r[k].lat_deg, r[k].lon_deg,
			    r[k].vel, x[k] + 3);
			geo_cov_unpack(r[k].cov, Pe);
			geo_cov_enu_to_ecef(r[k].lat_deg, r[k].lon_deg, Pe,
			    P[k]);
		}
		pt = &rec.pt[rec.n - 1];
		assert_int_equal(pt->contributors, 2);
		corr_predict(TF_CAT_AIR, 2.0, x[0], P[0], x[0], P[0]);
		assert_int_equal(corr_fuse(2, (const double (*)[6])x,
		    (const double (*)[36])P, xo, Po, NULL), 0);
		geo_cov_ecef_to_enu(pt->lat_deg, pt->lon_deg, Po, Pe);
		geo_cov_pack(Pe, ref);
		test_cov_near(pt->cov, ref, 1e-4);
		corr_free(c);
		test_rec_clear(&rec);
	}
}

/* Feed n pseudo-random reports (fixed seed) to c. */
static void
test_feed_random(struct corr *c, int n)
{
	static const char	*sensors[] = { "USA-AEGIS-1", "USA-SBIRS-1",
	    "USA-E2D-1", "KOR-AEGIS-1", "KOR-E7-1", "KOR-P8-1",
	    "JPN-AEGIS-1", "JPN-E767-1", "JPN-P1-1" };
	struct tf_report	 r;
	uint64_t		 seed = 0x5eed1234abcdULL;
	int			 i, obj, sn;
	double			 noise;

	for (i = 0; i < n; i++) {
		obj = (int)(test_unif(&seed) * 60);
		sn = (int)(test_unif(&seed) * 9);
		noise = (test_unif(&seed) + test_unif(&seed) - 1.0) * 300.0;
		r = test_report(sensors[sn], obj % 40 + 1,
		    T0 + (int64_t)i * (SEC / 50), 36.0 + (obj % 8) * 0.05,
		    130.0 + (obj / 8) * 0.05, 5000.0 + obj * 10.0,
		    noise + i * 2.0, 100.0, 200.0, 10.0,
		    obj % 5 == 0 ? TF_CAT_SURFACE : TF_CAT_AIR);
		r.quality = (float)test_unif(&seed);
		r.ident = (enum tf_identity)(test_rand(&seed) % TF_IDENT_MAX);
		(void)corr_report(c, &r);
		if (i % 97 == 0) {
			test_drop(c, sensors[i % 9], i % 40 + 1, r.t_ns);
		}
		if (i % 1000 == 999)
			corr_advance(c, r.t_ns + 14 * SEC);
	}
}

/* A wild double: tiny, huge, negative or ordinary. */
static double
test_wild(uint64_t *seed, double scale)
{
	switch (test_rand(seed) % 6) {
	case 0:
		return 0.0;
	case 1:
		return 1e300 * (test_unif(seed) - 0.5);
	case 2:
		return 1e-300 * test_unif(seed);
	default:
		return scale * (test_unif(seed) - 0.3);
	}
}

/* Finite picture fields, or the core let garbage through. */
static void
test_emit_finite(void *arg, enum corr_change ch,
    const struct tf_picture_track *pt)
{
	int	i;

	(*(size_t *)arg)++;
	if (ch == CORR_DROPPED)
		return;
	assert_true(isfinite(pt->lat_deg) && isfinite(pt->lon_deg) &&
	    isfinite(pt->alt_m));
	for (i = 0; i < 3; i++)
		assert_true(isfinite(pt->vel[i]));
	for (i = 0; i < TF_COV_N; i++)
		assert_true(isfinite(pt->cov[i]));
}

/*
 * Wild input (huge, tiny, negative numbers, bad enums, long label lists)
 * is refused or fused without crashing, and nothing non-finite comes out.
 */
static void
test_wild_input(void **state)
{
	struct corr_params	 p;
	struct tf_report	 r;
	struct corr		*c;
	struct corr_stats	 st;
	uint64_t		 seed = 42;
	size_t			 n = 0;
	int			 i, k;

	(void)state;
	corr_params_default(&p);
	c = corr_new(&p, test_emit_finite, &n);
	assert_non_null(c);
	for (i = 0; i < 20000; i++) {
		r = test_air(i % 2 ? "USA-E2D-1" : "KOR-E7-1", i % 500, T0 +
		    i * (SEC / 100), 0.0);
		r.lat_deg = test_wild(&seed, 0.01);
		r.lon_deg = test_wild(&seed, 0.01);
		r.alt_m = test_wild(&seed, 1e6);
		for (k = 0; k < 3; k++)
			r.vel[k] = test_wild(&seed, 1e3);
		for (k = 0; k < 6; k++)
			r.cov[tf_cov_idx(k, k)] = fabs(test_wild(&seed, 1e6));
		r.cov[1] = test_wild(&seed, 1e3);
		r.cat = (enum tf_category)(test_rand(&seed) % 9);
		r.ident = (enum tf_identity)(test_rand(&seed) % 11);
		r.label.nrel = (uint8_t)test_rand(&seed);
		(void)corr_report(c, &r);
	}
	corr_get_stats(c, &st);
	printf("wild: accepted=%llu invalid=%llu emitted=%zu\n",
	    (unsigned long long)st.reports, (unsigned long long)st.invalid, n);
	assert_true(st.reports > 500 && st.invalid > 500);
	corr_free(c);
}

/* The same input gives the same emitted bytes. */
static void
test_determinism(void **state)
{
	struct rec		 r1, r2;
	struct corr		*c1, *c2;
	struct corr_stats	 st;

	(void)state;
	c1 = test_core(&r1, NULL);
	c2 = test_core(&r2, NULL);
	r1.keep_bytes = r2.keep_bytes = 1;
	test_feed_random(c1, 10000);
	test_feed_random(c2, 10000);
	corr_get_stats(c1, &st);
	assert_true(st.created > 10);
	assert_true(st.reports > 9000);
	assert_true(r1.nbytes > 10000 * sizeof(struct tf_picture_track));
	assert_int_equal(r1.nbytes, r2.nbytes);
	assert_memory_equal(r1.bytes, r2.bytes, r1.nbytes);
	assert_int_equal(corr_count(c1), corr_count(c2));
	corr_free(c1);
	corr_free(c2);
	test_rec_clear(&r1);
	test_rec_clear(&r2);
}

/*
 * 1000 tracks 5 degrees apart never gate each other, and a second report
 * near each one looks at exactly that one track: the index finds
 * candidates without scanning the picture.
 */
static void
test_index(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	struct corr_stats	 st;
	char			 name[TF_ID_LEN];
	int			 i, pass;

	(void)state;
	c = test_core(&rec, NULL);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < 1000; i++) {
			snprintf(name, sizeof(name), "%c-%d", 'A' + pass, i);
			r = test_report(name, 1, T0, -60.0 + (i % 25) * 5.0,
			    -180.0 + (i / 25) * 9.0, 10000.0, pass * 200.0,
			    0.0, 1000.0, 20.0, TF_CAT_AIR);
			assert_int_equal(corr_report(c, &r), CORR_OK);
			if (pass == 0) {
				corr_get_stats(c, &st);
				assert_int_equal(st.candidates, 0);
			}
		}
	assert_int_equal(corr_count(c), 1000);
	corr_get_stats(c, &st);
	assert_int_equal(st.candidates, 1000);
	assert_int_equal(st.created, 1000);
	assert_int_equal(rec.n, 2000);
	corr_free(c);
	test_rec_clear(&rec);
}

/* Contributors of the last picture of track id (0 if none). */
static uint32_t
test_contributors(const struct rec *r, uint64_t id)
{
	size_t	i;

	for (i = r->n; i-- > 0;)
		if (r->pt[i].track_id == id)
			return r->pt[i].contributors;
	return 0;
}

/* Longitude of a point east metres east of 130 E at latitude 30 N. */
static double
test_lon30(double east)
{
	return 130.0 + east / (GEO_A * cos(30.0 * GEO_DEG)) / GEO_DEG;
}

/*
 * A report that can change nothing shown is neither fused nor emitted
 * (corr_sys_idle): a coarse sensor beside a precise one carries no CI
 * weight. One that would carry weight (a sharper covariance), a report
 * of the precise sensor, or a change to a shown field (identity, the
 * highest quality) is fused and emitted as ever. The object flies east
 * at 200 m/s.
 */
static void
test_idle(void **state)
{
	struct tf_report	 a, b;
	struct rec		 rec;
	struct corr_stats	 st;
	struct corr		*c;
	size_t			 n;

	(void)state;
	c = test_core(&rec, NULL);
	a = test_report("USA-AEGIS-1", 1, T0, 30.0, 130.0, 10000.0, 0.0,
	    200.0, 20.0, 2.0, TF_CAT_AIR);
	a.ident = TF_IDENT_FRIEND;
	b = test_report("JPN-SAT-1", 7, T0, 30.0, 130.0, 10000.0, 100.0,
	    200.0, 300.0, 30.0, TF_CAT_AIR);
	b.quality = 0.3f;
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(test_contributors(&rec, 1), 2);
	/* The coarse one again, 1 s on, a little better: nothing to show. */
	n = rec.n;
	b.t_ns += SEC;
	b.lon_deg = test_lon30(200.0 + 150.0);
	b.quality = 0.35f;
	assert_int_equal(corr_report(c, &b), CORR_OK);
	corr_get_stats(c, &st);
	assert_int_equal(st.idle, 1);
	assert_int_equal(rec.n, n);
	/* The precise one 2 s on: fused, shown there. */
	a.t_ns += 2 * SEC;
	a.lon_deg = test_lon30(400.0);
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(rec.n, n + 1);
	assert_int_equal(rec.pt[n].t_ns, a.t_ns);
	test_near(rec.pt[n].lon_deg, a.lon_deg, 1e-9, "precise one shown");
	/*
	 * Its correction at the same time: a source with weight is fused
	 * however little its covariance says it adds (here nothing).
	 */
	a.lon_deg = test_lon30(430.0);
	assert_int_equal(corr_report(c, &a), CORR_OK);
	assert_int_equal(rec.n, n + 2);
	test_near(rec.pt[n + 1].lon_deg, a.lon_deg, 1e-9, "correction shown");
	n++;
	/* The coarse one says hostile: a conflict to show. */
	b.t_ns += 2 * SEC;
	b.lon_deg = test_lon30(600.0 - 80.0);
	b.ident = TF_IDENT_HOSTILE;
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(rec.n, n + 2);
	assert_int_equal(rec.pt[n + 1].ident_conflict, 1);
	/* Its quality rises above the precise one's: shown. */
	b.t_ns += SEC;
	b.lon_deg = test_lon30(800.0 + 60.0);
	b.quality = 0.9f;
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(rec.n, n + 3);
	test_near(rec.pt[n + 2].quality, 0.9, 1e-6, "quality shown");
	/* It turns sharper than the precise one: it carries weight, fused. */
	b.t_ns += SEC;
	b.lon_deg = test_lon30(1000.0 + 5.0);
	b.cov[tf_cov_idx(0, 0)] = b.cov[tf_cov_idx(1, 1)] =
	    b.cov[tf_cov_idx(2, 2)] = 5.0 * 5.0;
	assert_int_equal(corr_report(c, &b), CORR_OK);
	assert_int_equal(rec.n, n + 4);
	assert_int_equal(rec.pt[n + 3].t_ns, b.t_ns);
	assert_int_equal(rec.pt[n + 3].contributors, 2);
	corr_get_stats(c, &st);
	assert_int_equal(st.idle, 1);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * The index finds every track that may gate, however far: a track of
 * 60 km sigma gates a report 120 km away (d^2 about 4; with 50 km cells
 * and their 27 neighbours it was never looked at), and so does a precise
 * track a report of 60 km sigma at the edge of the gate. Tracks not updated
 * for longer than the index's horizon (4 s) are still found where they
 * have moved to, both when event time moved on in between (the index
 * refiled them) and when the report itself is the first to move it.
 */
static void
test_index_far(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	int			 i, k;

	(void)state;
	c = test_core(&rec, NULL);
	r = test_report("USA-E2D-1", 1, T0, 20.0, 130.0, 10000.0, 0.0, 0.0,
	    60000.0, 50.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	r = test_report("JPN-AEGIS-1", 1, T0, 20.0, 130.0, 10000.0, 120000.0,
	    0.0, 100.0, 50.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(corr_count(c), 1);
	assert_int_equal(test_contributors(&rec, 1), 2);
	/* Tracks 2 and 3: seven updates, 1 s apart, 250 m/s east. */
	for (i = 0; i < 7; i++)
		for (k = 0; k < 2; k++) {
			r = test_report("USA-E2D-1", 2 + k, T0 + (i + 1) * SEC,
			    30.0 + k * 10.0, 130.0, 10000.0, 250.0 * i, 250.0,
			    100.0, 5.0, TF_CAT_AIR);
			assert_int_equal(corr_report(c, &r), CORR_OK);
		}
	assert_int_equal(corr_count(c), 3);
	/* 8 s on, the watermark still at the last update. */
	r = test_report("JPN-AEGIS-1", 2, T0 + 15 * SEC, 30.0, 130.0, 10000.0,
	    250.0 * 14, 250.0, 100.0, 5.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(test_contributors(&rec, 2), 2);
	/* 9 s on, the watermark moved on first. */
	corr_advance(c, T0 + 15 * SEC + SEC / 2);
	r = test_report("JPN-AEGIS-1", 3, T0 + 16 * SEC, 40.0, 130.0, 10000.0,
	    250.0 * 15, 250.0, 100.0, 5.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(test_contributors(&rec, 3), 2);
	assert_int_equal(corr_count(c), 3);
	/* A report of 60 km sigma at the gate's edge of a precise track. */
	r = test_report("USA-E2D-1", 4, T0 + 16 * SEC, -40.0, 130.0, 10000.0,
	    0.0, 0.0, 100.0, 50.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	r = test_report("JPN-AEGIS-1", 4, T0 + 16 * SEC, -40.0, 130.0,
	    10000.0, sqrt(0.95 * 22.46 * (60000.0 * 60000.0 + 100.0 * 100.0)),
	    0.0, 60000.0, 50.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(test_contributors(&rec, 4), 2);
	assert_int_equal(corr_count(c), 4);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * Tracks all over the globe (cube face edges and poles included), of
 * sigmas from 10 m to 50 km, each far from the others for its sigma; a
 * second sensor reports each object once, up to 3 s later, where it has
 * flown but off by 0.9 x the gate (the far end of where it may be). Every
 * report must find its track: the index may look at more tracks, never
 * fewer.
 */
static void
test_index_all(void **state)
{
	enum { N = 150 };
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	uint64_t		 seed = 0x1dec0de5ULL;
	double			 lat[N], lon[N], sig[N], ve[N], xa[3], xb[3];
	double			 d2, dt, m, q, spp, spv, svv;
	enum tf_category	 cat[N];
	int			 i, j, ok;

	(void)state;
	c = test_core(&rec, NULL);
	for (i = 0; i < N; i++) {
		do {
			lat[i] = -89.0 + 178.0 * test_unif(&seed);
			lon[i] = -180.0 + 360.0 * test_unif(&seed);
			sig[i] = 10.0 * pow(5000.0, test_unif(&seed));
			geo_lla_to_ecef(lat[i], lon[i], 0.0, xa);
			for (ok = 1, j = 0; j < i && ok; j++) {
				geo_lla_to_ecef(lat[j], lon[j], 0.0, xb);
				d2 = (xa[0] - xb[0]) * (xa[0] - xb[0]) +
				    (xa[1] - xb[1]) * (xa[1] - xb[1]) +
				    (xa[2] - xb[2]) * (xa[2] - xb[2]);
				m = 30.0 * (sig[i] + sig[j]) + 20000.0;
				ok = d2 > m * m;
			}
		} while (!ok);
		cat[i] = i % 10 == 0 ? TF_CAT_SPACE : i % 3 == 0 ?
		    TF_CAT_SURFACE : TF_CAT_AIR;
		ve[i] = cat[i] == TF_CAT_AIR ? 300.0 * (test_unif(&seed) -
		    0.5) : 0.0;
		r = test_report("USA-E2D-1", i + 1, T0 + i * (SEC / 100),
		    lat[i], lon[i], 10000.0, 0.0, ve[i], sig[i], 20.0, cat[i]);
		assert_int_equal(corr_report(c, &r), CORR_OK);
	}
	assert_int_equal(corr_count(c), N);
	for (i = 0; i < N; i++) {
		dt = cat[i] == TF_CAT_SPACE ? 0.0 : 3.0 * test_unif(&seed);
		/*
		 * Isotropic sigmas, equal velocities: d^2 = 0.9 x the gate
		 * with S_pp - S_pv^2 / S_vv per axis (the track predicted
		 * over dt, q of its category).
		 */
		q = cat[i] == TF_CAT_AIR ? Q_AIR : 0.05;
		spp = sig[i] * sig[i] + 100.0 * 100.0 + dt * dt * 400.0 +
		    q * dt * dt * dt / 3.0;
		spv = dt * 400.0 + q * dt * dt / 2.0;
		svv = 800.0 + q * dt;
		m = (test_rand(&seed) % 2 ? 1.0 : -1.0) * sqrt(0.9 * 22.46 *
		    (spp - spv * spv / svv));
		r = test_report("JPN-AEGIS-1", i + 1, T0 + i * (SEC / 100) +
		    (int64_t)(dt * SEC), lat[i], lon[i], 10000.0,
		    ve[i] * dt + m, ve[i], 100.0, 20.0, cat[i]);
		assert_int_equal(corr_report(c, &r), CORR_OK);
		assert_int_equal(test_contributors(&rec, i + 1), 2);
	}
	assert_int_equal(corr_count(c), N);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * The reach counts the position-velocity covariance: a track of 1 km
 * sigma east, 10 m across, whose east position and velocity (50 m/s) are
 * 0.99 correlated, is 3 s later where it may be 5.2 km east (d^2 = 0.9 x
 * the gate, for a report of 10 m sigma and no velocity to speak of); its
 * reach without the correlation (4.9 km with the report's) falls short.
 * Event time moved on first, so the query is not widened.
 */
static void
test_index_corr(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	double			 dt = 3.0, cv, spp, spv, svv, m;

	(void)state;
	c = test_core(&rec, NULL);
	cv = 0.99 * 1000.0 * 50.0;
	r = test_report("USA-E2D-1", 1, T0, 20.0, 130.0, 10000.0, 0.0, 0.0,
	    10.0, 1.0, TF_CAT_AIR);
	r.cov[tf_cov_idx(0, 0)] = 1000.0 * 1000.0;
	r.cov[tf_cov_idx(3, 3)] = 50.0 * 50.0;
	r.cov[tf_cov_idx(0, 3)] = cv;
	assert_int_equal(corr_report(c, &r), CORR_OK);
	corr_advance(c, T0 + 2900 * (SEC / 1000));
	/* East axis: S_pp - S_pv^2 / S_vv of track predicted + report. */
	spp = 1000.0 * 1000.0 + 2.0 * dt * cv + dt * dt * 2500.0 +
	    Q_AIR * dt * dt * dt / 3.0 + 10.0 * 10.0;
	spv = cv + dt * 2500.0 + Q_AIR * dt * dt / 2.0;
	svv = 2500.0 + Q_AIR * dt + 1000.0 * 1000.0;
	m = sqrt(0.9 * 22.46 * (spp - spv * spv / svv));
	assert_true(m > 5100.0);
	r = test_report("JPN-AEGIS-1", 1, T0 + 3 * SEC, 20.0, 130.0, 10000.0,
	    m, 0.0, 10.0, 1000.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(corr_count(c), 1);
	assert_int_equal(test_contributors(&rec, 1), 2);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * Crowded cells and a cell table that grows and empties: 400 tracks of
 * 1 km sigma 16 km apart (up to sixteen to a 64 km cell, in blocks of
 * both sizes) are each found by a second sensor's report 0.9 x the gate
 * off; then all go (dropped, coasting, expired) and the next set, 30 km
 * off the first (cells in part the same) and then on a cube face edge,
 * is found the same way.
 */
static void
test_index_crowd(void **state)
{
	enum { N = 400, W = 20 };
	static const double	 at[3][2] = {
		{ 35.0, 130.0 }, { 35.27, 130.33 }, { 0.5, 44.8 }
	};
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	double			 lat, east, m;
	int64_t			 tk;
	int			 i, k, s;

	(void)state;
	c = test_core(&rec, NULL);
	m = sqrt(0.9 * 22.46 * (1000.0 * 1000.0 + 100.0 * 100.0));
	for (k = 0; k < 3; k++) {
		tk = T0 + k * 300 * SEC;
		for (s = 0; s < 2; s++)
			for (i = 0; i < N; i++) {
				lat = at[k][0] + (i / W) * 16000.0 / 111000.0;
				east = (i % W) * 16000.0 + (s ? m : 0.0);
				r = test_report(s ? "JPN-AEGIS-1" : "USA-E2D-1",
				    k * N + i + 1, tk + i * (SEC / 100), lat,
				    at[k][1], 10000.0, east, 0.0,
				    s ? 100.0 : 1000.0, 20.0, TF_CAT_AIR);
				assert_int_equal(corr_report(c, &r), CORR_OK);
				if (s)
					assert_int_equal(test_contributors(
					    &rec, k * N + i + 1), 2);
			}
		assert_int_equal(corr_count(c), N);
		for (s = 0; s < 2; s++)
			for (i = 0; i < N; i++) {
				test_drop(c, s ? "JPN-AEGIS-1" : "USA-E2D-1",
				    k * N + i + 1, tk + 5 * SEC);
			}
		corr_advance(c, tk + 200 * SEC);
		assert_int_equal(corr_count(c), 0);
	}
	corr_free(c);
	test_rec_clear(&rec);
}

/* Bad parameters make no core; foreach visits in ascending id. */
static void
test_params(void **state)
{
	struct corr_params	 p;
	struct rec		 rec;
	struct corr		*c;
	struct tf_report	 r;
	int			 i;

	(void)state;
	corr_params_default(&p);
	test_near(p.gate_chi2, 22.46, 0.0, "gate");
	assert_int_equal(p.stale_ns, 15 * SEC);
	assert_int_equal(p.coast_ns, 30 * SEC);
	assert_int_equal(p.max_tracks, 100000);
	assert_int_equal(p.max_sources, 200000);
	test_near(p.cell_m, 2000.0, 0.0, "cell");
	assert_int_equal(p.publish_tentative, 0);
	p.cell_m = 0.0;
	assert_null(corr_new(&p, test_emit, &rec));
	corr_params_default(&p);
	p.publish_tentative = 1;
	c = test_core(&rec, &p);
	for (i = 0; i < 5; i++) {
		r = test_air("USA-E2D-1", 5 - i, T0, i * 1e5);
		assert_int_equal(corr_report(c, &r), CORR_OK);
	}
	p.cell_m = 20000.0;
	corr_set_params(c, &p);
	r = test_air("JPN-E767-1", 1, T0, 3e5 + 50.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(corr_count(c), 5);	/* reindexed: still found */
	assert_string_equal(corr_change_name(CORR_DROPPED), "dropped");
	assert_string_equal(corr_result_name(CORR_OLD), "old");
	corr_free(c);
	test_rec_clear(&rec);
}

/* Number of the last emitted picture of track id (0 if none). */
static const struct tf_picture_track *
test_last(const struct rec *r, uint64_t id)
{
	size_t	i;

	for (i = r->n; i-- > 0;)
		if (r->pt[i].track_id == id)
			return &r->pt[i];
	return NULL;
}

/*
 * Global nearest neighbour, not greedy: sensor A holds two aircraft 600 m
 * apart (tracks 1 and 2). B's first report, 330 m east, is nearest to
 * track 2, so greedy puts it there; B's second report, 900 m east, then
 * gates only track 2, and greedy must start a third track. The cluster's
 * best assignment is B/1 -> 1, B/2 -> 2 (d^2 10.0 + 8.3 against 6.7 plus
 * a new track at the gate's 22.5): two tracks of two contributions.
 */
static void
test_gnn(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	struct corr_stats	 st;
	const struct tf_picture_track *p1, *p2;

	(void)state;
	c = test_core(&rec, NULL);
	r = test_report("USA-AEGIS-1", 1, T0, 0.0, 130.0, 10000.0, 0.0, 0.0,
	    30.0, 10.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	r = test_report("USA-AEGIS-1", 2, T0, 0.0, 130.0, 10000.0, 600.0,
	    0.0, 30.0, 10.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(corr_count(c), 2);
	r = test_air("KOR-E7-1", 1, T0, 330.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(rec.pt[rec.n - 1].track_id, 2);	/* greedy so far */
	r = test_air("KOR-E7-1", 2, T0, 900.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(corr_count(c), 2);
	p1 = test_last(&rec, 1);
	p2 = test_last(&rec, 2);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_int_equal(p1->contributors, 2);
	assert_int_equal(p2->contributors, 2);
	corr_get_stats(c, &st);
	assert_int_equal(st.swapped, 1);
	assert_int_equal(st.created, 2);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * A chain the 2x2 exchange cannot see: sensor A holds three aircraft
 * 600 m apart in line (tracks 1, 2, 3). B's first two reports, 330 m and
 * 930 m east, are each nearest to the track east of its aircraft (2 and
 * 3). B's third, 1500 m east, gates only track 3, held by B/2, whose only
 * other place is track 2, held by B/1. Moving B/2 alone costs a new
 * track (past the gate); the cluster {B/3, B/2, B/1} moves both, each
 * one track west: three tracks of two contributions each.
 */
static void
test_chain(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	struct corr_stats	 st;
	uint64_t		 id;
	int			 k;

	(void)state;
	c = test_core(&rec, NULL);
	for (k = 0; k < 3; k++) {
		r = test_report("USA-AEGIS-1", k + 1, T0, 0.0, 130.0, 10000.0,
		    600.0 * k, 0.0, 30.0, 10.0, TF_CAT_AIR);
		assert_int_equal(corr_report(c, &r), CORR_OK);
	}
	r = test_air("KOR-E7-1", 1, T0, 330.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(rec.pt[rec.n - 1].track_id, 2);
	r = test_air("KOR-E7-1", 2, T0, 930.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(rec.pt[rec.n - 1].track_id, 3);
	r = test_air("KOR-E7-1", 3, T0, 1500.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(corr_count(c), 3);
	for (id = 1; id <= 3; id++)
		assert_int_equal(test_last(&rec, id)->contributors, 2);
	corr_get_stats(c, &st);
	assert_int_equal(st.swapped, 2);
	assert_int_equal(st.created, 3);
	corr_free(c);
	test_rec_clear(&rec);
}

/* Visitor of corr_foreach_bias: keep two sensors' estimates. */
struct test_bias {
	double		a[3], b[3];
	uint64_t	na, nb;
	int		n;
};

/* corr_foreach_bias callback. */
static void
test_bias_fn(void *arg, const char *id, const double b[3], uint64_t n)
{
	struct test_bias	*tb = arg;

	if (strcmp(id, "USA-AEGIS-1") == 0) {
		memcpy(tb->a, b, sizeof(tb->a));
		tb->na = n;
	} else if (strcmp(id, "KOR-E7-1") == 0) {
		memcpy(tb->b, b, sizeof(tb->b));
		tb->nb = n;
	}
	tb->n++;
}

/*
 * Registration bias: KOR-E7-1 sees everything 200 m east and 60 m north
 * of where USA-AEGIS-1 sees it, with noise. Differences fix only b_B -
 * b_A; the anchor (variance-weighted mean zero, weights 1/50^2 and
 * 1/100^2, so 4:1) gives b_A = -(200, 60)/5 and b_B = 4 (200, 60)/5.
 */
static void
test_bias(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	struct test_bias	 tb;
	uint64_t		 seed = 7;
	int			 i, k;
	double			 e, n;

	(void)state;
	c = test_core(&rec, NULL);
	for (i = 0; i < 60; i++)
		for (k = 0; k < 20; k++) {
			e = (test_unif(&seed) - 0.5) * 100.0;
			n = (test_unif(&seed) - 0.5) * 100.0;
			r = test_report("USA-AEGIS-1", k + 1, T0 + i * SEC,
			    n / GEO_A / GEO_DEG, 130.0 + k * 0.5, 10000.0, e,
			    0.0, 50.0, 10.0, TF_CAT_AIR);
			assert_int_equal(corr_report(c, &r), CORR_OK);
			e = 200.0 + (test_unif(&seed) - 0.5) * 200.0;
			n = 60.0 + (test_unif(&seed) - 0.5) * 200.0;
			r = test_report("KOR-E7-1", k + 1, T0 + i * SEC,
			    n / GEO_A / GEO_DEG, 130.0 + k * 0.5, 10000.0, e,
			    0.0, 100.0, 10.0, TF_CAT_AIR);
			assert_int_equal(corr_report(c, &r), CORR_OK);
		}
	/* One track per object: the bias never split them. */
	assert_int_equal(corr_count(c), 20);
	memset(&tb, 0, sizeof(tb));
	corr_foreach_bias(c, test_bias_fn, &tb);
	assert_int_equal(tb.n, 2);
	assert_true(tb.na > 1000 && tb.nb > 1000);
	test_near(tb.b[0] - tb.a[0], 200.0, 5.0, "relative east");
	test_near(tb.b[1] - tb.a[1], 60.0, 5.0, "relative north");
	test_near(tb.b[2] - tb.a[2], 0.0, 5.0, "relative up");
	test_near(tb.a[0], -40.0, 3.0, "anchored east A");
	test_near(tb.b[0], 160.0, 3.0, "anchored east B");
	test_near(tb.a[1], -12.0, 3.0, "anchored north A");
	corr_free(c);
	test_rec_clear(&rec);
}

/* corr_foreach_bias callback: count the sensors, and those with samples. */
static void
test_bias_count(void *arg, const char *id, const double b[3], uint64_t n)
{
	int	*cnt = arg;

	(void)id;
	(void)b;
	cnt[0]++;
	if (n > 0)
		cnt[1]++;
}

/*
 * A full bias table: 33 sensors (the last has no estimate), whose pairs
 * reach the last pair (30, 31) and a solve over all 96 unknowns; the
 * tables are reserved apart from the core, used from their start.
 */
static void
test_bias_full(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	char			 id[8];
	int			 i, k, cnt[2] = { 0, 0 };
	static const int	 mixed[] = { 0, 15, 16, 31, 32 };

	(void)state;
	c = test_core(&rec, NULL);
	for (i = 0; i < 12; i++) {
		for (k = 0; k < 32; k++) {
			snprintf(id, sizeof(id), "S%02d", k);
			r = test_report(id, 1, T0 + i * SEC, 0.0, 130.0,
			    10000.0, k < 16 ? 0.0 : 1e6, 0.0, 50.0, 10.0,
			    TF_CAT_AIR);
			assert_int_equal(corr_report(c, &r), CORR_OK);
		}
		for (k = 0; k < 5; k++) {
			snprintf(id, sizeof(id), "S%02d", mixed[k]);
			r = test_report(id, 2, T0 + i * SEC, 0.0, 130.0,
			    10000.0, 2e6, 0.0, 50.0, 10.0, TF_CAT_AIR);
			assert_int_equal(corr_report(c, &r), CORR_OK);
		}
	}
	assert_int_equal(corr_count(c), 3);
	corr_foreach_bias(c, test_bias_count, cnt);
	assert_int_equal(cnt[0], 32);
	assert_int_equal(cnt[1], 32);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * Track status: tentative until CORR_FIRM updates (or a second sensor),
 * firm, coasting when its only sensor drops it, found again by the
 * sensor's new number, dropped coast_ns after its last update.
 */
static void
test_status(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	int			 i;

	(void)state;
	c = test_core(&rec, NULL);
	for (i = 0; i < 8; i++) {
		r = test_air("KOR-P8-1", 1, T0 + i * SEC, 0.0);
		assert_int_equal(corr_report(c, &r), CORR_OK);
		assert_int_equal(rec.pt[i].status, i < CORR_TEST_FIRM ?
		    TF_STATUS_TENTATIVE : TF_STATUS_FIRM);
	}
	test_drop(c, "KOR-P8-1", 1, T0 + 8 * SEC);
	assert_int_equal(rec.ch[rec.n - 1], CORR_UPDATED);
	assert_int_equal(rec.pt[rec.n - 1].status, TF_STATUS_COASTING);
	assert_int_equal(rec.pt[rec.n - 1].contributors, 0);
	assert_int_equal(corr_count(c), 1);
	assert_int_equal(corr_sources(c), 0);
	/* The sensor's new number finds the coasting track. */
	r = test_air("KOR-P8-1", 2, T0 + 20 * SEC, 0.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(rec.pt[rec.n - 1].track_id, 1);
	assert_int_equal(rec.pt[rec.n - 1].status, TF_STATUS_FIRM);
	test_drop(c, "KOR-P8-1", 2, T0 + 21 * SEC);
	assert_int_equal(rec.pt[rec.n - 1].status, TF_STATUS_COASTING);
	corr_advance(c, T0 + 50 * SEC);
	assert_int_equal(corr_count(c), 1);
	corr_advance(c, T0 + 50 * SEC + 1);
	assert_int_equal(corr_count(c), 0);
	assert_int_equal(rec.ch[rec.n - 1], CORR_DROPPED);
	assert_int_equal(rec.pt[rec.n - 1].track_id, 1);
	/* Two sensors confirm at once; a short one-sensor track never coasts. */
	r = test_air("USA-AEGIS-1", 1, T0 + 60 * SEC, 0.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(rec.pt[rec.n - 1].status, TF_STATUS_TENTATIVE);
	r = test_air("JPN-AEGIS-1", 1, T0 + 60 * SEC, 50.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(rec.pt[rec.n - 1].status, TF_STATUS_FIRM);
	r = test_air("USA-E2D-1", 9, T0 + 60 * SEC, 1e6);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	test_drop(c, "USA-E2D-1", 9, T0 + 61 * SEC);
	assert_int_equal(rec.ch[rec.n - 1], CORR_DROPPED);
	corr_free(c);
	test_rec_clear(&rec);
}

/* Gaussian-ish noise (sum of uniforms), unit variance. */
static double
test_noise(uint64_t *s)
{
	double	v = 0.0;
	int	i;

	for (i = 0; i < 12; i++)
		v += test_unif(s);
	return v - 6.0;
}

/* Which of the ids (n) holds the picture nearest east metres at time t. */
static uint64_t
test_nearest(const struct rec *r, double east, int64_t t)
{
	const struct tf_picture_track	*p;
	uint64_t			 best = 0;
	double				 d, bd = 1e30, e;
	size_t				 i;

	for (i = r->n; i-- > 0;) {
		p = &r->pt[i];
		if (r->ch[i] == CORR_DROPPED || p->t_ns < t - 3 * SEC ||
		    test_last(r, p->track_id) != p)
			continue;
		e = (p->lon_deg - 130.0) * GEO_DEG * GEO_A +
		    p->vel[0] * (t - p->t_ns) * 1e-9;
		d = fabs(e - east);
		if (d < bd) {
			bd = d;
			best = p->track_id;
		}
	}
	return best;
}

/*
 * A tight formation: four aircraft 335 m apart in line abreast, seen by
 * an accurate radar (50 m) every 2 s and an AEW aircraft (150 m) every
 * 10 s, with noise, for two minutes. They stay four tracks, each fused
 * from both sensors, with the numbers they started with.
 */
static void
test_formation(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	uint64_t		 seed = 99, first[4];
	int			 i, k;
	double			 east;

	(void)state;
	c = test_core(&rec, NULL);
	for (i = 0; i <= 120; i += 2)
		for (k = 0; k < 4; k++) {
			east = k * 335.0 + 250.0 * i;
			r = test_report("KOR-AEGIS-1", k + 1, T0 + i * SEC,
			    0.0, 130.0, 7000.0, east + 50.0 * test_noise(&seed),
			    250.0 + 5.0 * test_noise(&seed), 50.0, 8.0,
			    TF_CAT_AIR);
			assert_int_equal(corr_report(c, &r), CORR_OK);
			if (i % 10 != 0)
				continue;
			r = test_report("USA-E2D-1", 10 + (k * 3) % 4,
			    T0 + i * SEC, 0.0, 130.0, 7000.0,
			    east + 150.0 * test_noise(&seed),
			    250.0 + 10.0 * test_noise(&seed), 150.0, 15.0,
			    TF_CAT_AIR);
			assert_int_equal(corr_report(c, &r), CORR_OK);
		}
	assert_int_equal(corr_count(c), 4);
	for (k = 0; k < 4; k++) {
		first[k] = (uint64_t)k + 1;
		assert_int_equal(test_nearest(&rec, k * 335.0 + 250.0 * 120,
		    T0 + 120 * SEC), first[k]);
		assert_int_equal(test_last(&rec, first[k])->contributors, 2);
	}
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * Two aircraft cross (one flies east, one west, 500 m apart in height),
 * each seen by two radars: after the crossing each keeps its number.
 */
static void
test_crossing(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	uint64_t		 seed = 5;
	int			 i, k;
	double			 east, ve;
	static const char	*sn[2] = { "KOR-AEGIS-1", "JPN-AEGIS-1" };

	(void)state;
	c = test_core(&rec, NULL);
	for (i = 0; i <= 60; i++)
		for (k = 0; k < 4; k++) {
			ve = k % 2 ? -220.0 : 220.0;
			east = ve * (i - 30);
			r = test_report(sn[k / 2], k % 2 + 1, T0 + i * SEC,
			    0.0, 130.0, k % 2 ? 8500.0 : 8000.0,
			    east + 50.0 * test_noise(&seed), ve, 50.0, 8.0,
			    TF_CAT_AIR);
			r.vel[2] = 2.0 * test_noise(&seed);
			assert_int_equal(corr_report(c, &r), CORR_OK);
		}
	assert_int_equal(corr_count(c), 2);
	assert_int_equal(test_nearest(&rec, 220.0 * 30, T0 + 60 * SEC), 1);
	assert_int_equal(test_nearest(&rec, -220.0 * 30, T0 + 60 * SEC), 2);
	corr_free(c);
	test_rec_clear(&rec);
}

/* Heap calls made while counting is on (see corr.cmake), and in all. */
static int	test_counting;
static size_t	test_allocs, test_allocs_all;

void	*__real_malloc(size_t);
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
void	*__wrap_malloc(size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);

/* Counting malloc. */
void *
__wrap_malloc(size_t n)
{
	test_allocs += test_counting;
	test_allocs_all++;
	return __real_malloc(n);
}

/* Counting calloc. */
void *
__wrap_calloc(size_t n, size_t sz)
{
	test_allocs += test_counting;
	test_allocs_all++;
	return __real_calloc(n, sz);
}

/* Counting realloc. */
void *
__wrap_realloc(void *p, size_t n)
{
	test_allocs += test_counting;
	test_allocs_all++;
	return __real_realloc(p, n);
}

/* An emit callback that only counts (the recording one allocates). */
static void
test_emit_count(void *arg, enum corr_change ch,
    const struct tf_picture_track *pt)
{
	(void)ch;
	(void)pt;
	(*(size_t *)arg)++;
}

/* How many tracks were created. */
static int
test_created(const struct rec *r)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < r->n; i++)
		n += r->ch[i] == CORR_CREATED;
	return n;
}

/*
 * Confirmation (default params): a tentative track is never emitted. One
 * sensor confirms on its second update (fourth when they come slowly);
 * a second sensor confirms at once; a track that never showed goes
 * silently.
 */
static void
test_confirm(void **state)
{
	struct corr_params	 p;
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	int			 i;

	(void)state;
	corr_params_default(&p);
	c = test_core(&rec, &p);
	r = test_air("USA-AEGIS-1", 1, T0, 0.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(rec.n, 0);
	assert_int_equal(corr_count(c), 0);	/* not in the picture yet */
	r.t_ns += 2 * SEC;
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.ch[0], CORR_CREATED);
	assert_int_equal(rec.pt[0].status, TF_STATUS_FIRM);
	/* A false track: one report, then its sensor drops it. */
	r = test_air("USA-AEGIS-1", 2, T0 + 2 * SEC, 1e6);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	test_drop(c, "USA-AEGIS-1", 2, T0 + 3 * SEC);
	assert_int_equal(rec.n, 1);
	assert_int_equal(corr_count(c), 1);
	/* A slow sensor (10 s looks) needs a fourth update. */
	for (i = 0; i < 4; i++) {
		r = test_air("USA-E2D-1", 3, T0 + (4 + 10 * i) * SEC, 2e6);
		assert_int_equal(corr_report(c, &r), CORR_OK);
		assert_int_equal(test_created(&rec), i < 3 ? 1 : 2);
	}
	/* Two sensors confirm at once, with both contributions. */
	r = test_air("KOR-AEGIS-1", 1, T0 + 40 * SEC, -1e6);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(test_created(&rec), 2);
	r = test_air("JPN-AEGIS-1", 1, T0 + 40 * SEC, -1e6 + 50.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(test_created(&rec), 3);
	assert_int_equal(rec.ch[rec.n - 1], CORR_CREATED);
	assert_int_equal(rec.pt[rec.n - 1].contributors, 2);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * A slow sensor (10 s looks) that misses one look keeps its contribution
 * (stale after 2.1 of its periods, 21 s, not the default 15 s); past
 * that it goes. A source seen once (no period yet) goes after 15 s.
 */
static void
test_slow_miss(void **state)
{
	struct tf_report	 r, k;
	struct rec		 rec;
	struct corr		*c;
	int			 i;

	(void)state;
	c = test_core(&rec, NULL);
	for (i = 0; i < 8; i++) {
		r = test_air("USA-E2D-1", 1, T0 + 10 * i * SEC, 0.0);
		assert_int_equal(corr_report(c, &r), CORR_OK);
	}
	/* No look at T0 + 80 s; a one-report source elsewhere. */
	k = test_air("KOR-AEGIS-1", 1, T0 + 75 * SEC, 1e6);
	assert_int_equal(corr_report(c, &k), CORR_OK);
	corr_advance(c, T0 + 90 * SEC + 1);
	assert_int_equal(corr_sources(c), 1);	/* the one-report one went */
	assert_int_equal(corr_count(c), 1);
	assert_int_equal(rec.pt[rec.n - 1].track_id, 2);
	assert_int_equal(rec.ch[rec.n - 1], CORR_DROPPED);
	r = test_air("USA-E2D-1", 1, T0 + 90 * SEC, 0.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(rec.pt[rec.n - 1].track_id, 1);
	assert_int_equal(rec.pt[rec.n - 1].contributors, 1);
	assert_int_equal(rec.pt[rec.n - 1].status, TF_STATUS_FIRM);
	/* 21 s is kept, a nanosecond more is not. */
	corr_advance(c, T0 + 111 * SEC);
	assert_int_equal(corr_sources(c), 1);
	corr_advance(c, T0 + 111 * SEC + 1);
	assert_int_equal(corr_sources(c), 0);
	corr_free(c);
	test_rec_clear(&rec);
}

/* The model of test_age_wheel: what corr_src_deadline documents. */
struct age_model {
	int64_t		last[300];
	int64_t		period[300];	/* 10 ms steps, 0: none */
	int		seen[300];
};

/* A model source's deadline under stale. */
static int64_t
test_age_deadline(const struct age_model *m, int i, int64_t stale)
{
	int64_t	p = (int64_t)(2.1 * (double)(m->period[i] * 10000000LL));

	return m->last[i] + (p > stale ? p : stale);
}

/* Sources the model still holds at now; it forgets the others. */
static size_t
test_age_live(struct age_model *m, int64_t now, int64_t stale)
{
	size_t	n = 0;
	int	i;

	for (i = 0; i < 300; i++) {
		if (!m->seen[i])
			continue;
		if (test_age_deadline(m, i, stale) >= now)
			n++;
		else
			m->seen[i] = 0;
	}
	return n;
}

/* Report source i at t into the core and, if taken, the model. */
static void
test_age_report(struct corr *c, struct age_model *m, int i, int64_t t)
{
	struct tf_report	r;
	int64_t			gap;

	r = test_air("USA-AEGIS-1", (uint32_t)i + 1, t, 10000.0 * i);
	if (corr_report(c, &r) != CORR_OK)
		return;
	if (!m->seen[i])
		m->period[i] = 0;	/* a new source */
	gap = (t - m->last[i]) / 10000000LL;
	if (gap > 65535)
		gap = 65535;		/* periods are kept up to 655 s */
	if (m->seen[i] && t > m->last[i] && gap > 0 &&
	    (m->period[i] == 0 || gap < m->period[i]))
		m->period[i] = gap;
	m->last[i] = t;
	m->seen[i] = 1;
}

/*
 * The age wheel against a model: 300 sources reported at random times
 * over about 170 hours (jumps of hours cross every level of the wheel,
 * reports late by about stale_ns land in the tick being expired), twelve
 * of them often (updates that leave a source where it was filed), others
 * again so that they have a period, stale_ns changed to 6 h (past the
 * wheel) and back. After every step the core holds exactly the sources
 * whose deadline is not before the watermark. (The order of expiry is
 * checked by test_stale_reload.)
 */
static void
test_age_wheel(void **state)
{
	static struct age_model	 m;
	struct corr_params	 p;
	struct rec		 rec;
	struct corr		*c;
	int64_t			 now = T0, stale = 15 * SEC;
	struct corr_stats	 st;
	uint64_t		 seed = 12345, x;
	int			 step, i;

	(void)state;
	memset(&m, 0, sizeof(m));
	c = test_core(&rec, NULL);
	corr_params_default(&p);
	p.publish_tentative = 1;
	for (step = 0; step < 3000; step++) {
		x = test_rand(&seed);
		i = (int)((x >> 33) % ((x >> 7) & 1 ? 300 : 12));
		switch ((x >> 20) % 16) {
		case 0:		/* a jump: up to 3 h */
			now += (int64_t)((x >> 40) % 3) * 3600 * SEC +
			    (int64_t)(x % 1000003);
			corr_advance(c, now);
			break;
		case 1:		/* late by about stale_ns */
			test_age_report(c, &m, i, now - stale +
			    (int64_t)((x >> 30) % 2000000));
			break;
		case 2:
			if (step == 1000 || step == 2000) {
				stale = step == 1000 ? 6 * 3600 * SEC : 15 * SEC;
				p.stale_ns = stale;
				corr_set_params(c, &p);
			}
			break;
		default:
			now += (int64_t)((x >> 28) % (3 * SEC));
			test_age_report(c, &m, i, now);
			if ((x >> 50) % 4 == 0)
				corr_advance(c, now + (int64_t)(x % SEC));
			break;
		}
		now = corr_now(c) > now ? corr_now(c) : now;
		assert_int_equal(corr_sources(c), test_age_live(&m, now, stale));
	}
	corr_get_stats(c, &st);
	print_message("age wheel: %llu expired, %zu left, %.0f h\n",
	    (unsigned long long)st.expired, corr_sources(c),
	    (double)(now - T0) / 3600e9);
	assert_true(st.expired > 1000);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * A reload that shortens stale_ns re-sorts the age lists: a source seen
 * once (deadline now + stale_ns) may then go before a slow sensor's
 * established one (deadline + 2.1 periods), though it came after it.
 */
static void
test_stale_reload(void **state)
{
	struct corr_params	 p;
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;

	(void)state;
	c = test_core(&rec, NULL);
	r = test_air("USA-E2D-1", 1, T0, 0.0);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	r.t_ns = T0 + 10 * SEC;				/* deadline T0 + 31 s */
	assert_int_equal(corr_report(c, &r), CORR_OK);
	r = test_air("USA-E2D-1", 2, T0 + 20 * SEC, 1e6); /* T0 + 35 s */
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(corr_sources(c), 2);
	corr_params_default(&p);
	p.publish_tentative = 1;
	p.stale_ns = 5 * SEC;		/* now T0 + 31 s and T0 + 25 s */
	corr_set_params(c, &p);
	corr_advance(c, T0 + 26 * SEC);
	assert_int_equal(corr_sources(c), 1);
	corr_advance(c, T0 + 31 * SEC);
	assert_int_equal(corr_sources(c), 1);
	corr_advance(c, T0 + 31 * SEC + 1);
	assert_int_equal(corr_sources(c), 0);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * KOR-P8-1's track 1 of an aircraft flying east at 200 m/s, reported
 * once a second n times from T0, then dropped at T0 + n s.
 */
static void
test_p8_lost(struct corr *c, int n)
{
	struct tf_report	r;
	int			i;

	for (i = 0; i < n; i++) {
		r = test_report("KOR-P8-1", 1, T0 + i * SEC, 0.0, 130.0,
		    10000.0, 200.0 * i, 200.0, 100.0, 10.0, TF_CAT_AIR);
		assert_int_equal(corr_report(c, &r), CORR_OK);
	}
	test_drop(c, "KOR-P8-1", 1, T0 + n * SEC);
}

/*
 * A coasting track is shown again every 5 s of event time, predicted to
 * the watermark (status coasting, covariance grown), while the track
 * itself stays where it was last fused: its sensor's new number finds it.
 */
static void
test_coast_show(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	size_t			 n;

	(void)state;
	c = test_core(&rec, NULL);
	test_p8_lost(c, 8);
	assert_int_equal(rec.pt[rec.n - 1].status, TF_STATUS_COASTING);
	n = rec.n;
	corr_advance(c, T0 + 17 * SEC);
	assert_int_equal(rec.n, n + 1);
	assert_int_equal(rec.ch[n], CORR_UPDATED);
	assert_int_equal(rec.pt[n].track_id, 1);
	assert_int_equal(rec.pt[n].status, TF_STATUS_COASTING);
	assert_int_equal(rec.pt[n].t_ns, T0 + 17 * SEC);
	/*
	 * 200 m/s east for 10 s since the last update at 1400 m east (to
	 * 5 m: the offsets are surface metres, the flight is at 10 km).
	 */
	test_near(rec.pt[n].lon_deg, test_report("X", 1, 0, 0.0, 130.0, 0.0,
	    3400.0, 0.0, 1.0, 1.0, TF_CAT_AIR).lon_deg, 5e-5, "coast lon");
	assert_true(rec.pt[n].cov[0] > rec.pt[n - 1].cov[0]);
	corr_advance(c, T0 + 19 * SEC);		/* not yet 5 s later */
	assert_int_equal(rec.n, n + 1);
	corr_advance(c, T0 + 22 * SEC);
	assert_int_equal(rec.n, n + 2);
	assert_int_equal(rec.pt[n + 1].t_ns, T0 + 22 * SEC);
	r = test_report("KOR-P8-1", 2, T0 + 23 * SEC, 0.0, 130.0, 10000.0,
	    4400.0, 200.0, 100.0, 10.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(rec.pt[rec.n - 1].track_id, 1);
	assert_int_equal(rec.pt[rec.n - 1].status, TF_STATUS_FIRM);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * A track's update count saturates, it does not wrap: a one-sensor track
 * updated 260 times (the count is a byte) is old enough to coast when
 * its source goes, and it comes back when the sensor finds it again.
 */
static void
test_coast_long(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;

	(void)state;
	c = test_core(&rec, NULL);
	test_p8_lost(c, 260);
	assert_int_equal(rec.ch[rec.n - 1], CORR_UPDATED);
	assert_int_equal(rec.pt[rec.n - 1].status, TF_STATUS_COASTING);
	assert_int_equal(corr_count(c), 1);
	r = test_report("KOR-P8-1", 2, T0 + 262 * SEC, 0.0, 130.0, 10000.0,
	    200.0 * 261, 200.0, 100.0, 10.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	assert_int_equal(rec.pt[rec.n - 1].track_id, 1);
	assert_int_equal(rec.pt[rec.n - 1].status, TF_STATUS_FIRM);
	assert_int_equal(rec.pt[rec.n - 1].contributors, 1);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * A falling ballistic track low down does not coast when its sensors
 * lose it (it landed); high up, it does.
 */
static void
test_landed(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	const char		*sn[2] = { "USA-AEGIS-1", "JPN-AEGIS-1" };
	double			 alt[2] = { 10000.0, 150000.0 };
	int			 k, i, j;

	(void)state;
	c = test_core(&rec, NULL);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 4; i++)
			for (j = 0; j < 2; j++) {
				r = test_report(sn[j], (uint32_t)k + 1, T0 +
				    (10 * k + i) * SEC, 0.0, 130.0 + 2.0 * k,
				    alt[k] - 1000.0 * i, 30.0 * j, 0.0, 200.0,
				    50.0, TF_CAT_BALLISTIC_MISSILE);
				r.vel[2] = -1000.0;
				assert_int_equal(corr_report(c, &r), CORR_OK);
			}
		for (j = 0; j < 2; j++) {
			test_drop(c, sn[j], (uint32_t)k + 1,
			    T0 + (10 * k + 4) * SEC);
		}
		assert_int_equal(rec.ch[rec.n - 1], k == 0 ? CORR_DROPPED :
		    CORR_UPDATED);
		if (k == 1)
			assert_int_equal(rec.pt[rec.n - 1].status,
			    TF_STATUS_COASTING);
	}
	assert_int_equal(corr_count(c), 1);
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * test_bias_oriented away from the equator (40 N, where ECEF mixes all
 * three axes) and with the precise direction tilted off the axes (30
 * degrees north of east for half the objects, 120 for the other half):
 * the whole 3x3 position information a difference is weighed by
 * counts (off-diagonal terms included), and a wrong one lets the
 * kilometre noise in.
 */
static void
test_bias_tilted(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	struct test_bias	 tb;
	uint64_t		 seed = 11;
	double			 off[2] = { -40.0, 60.0 }, th, ct, st, z1, z2;
	double			 e, n;
	int			 i, k, j;

	(void)state;
	c = test_core(&rec, NULL);
	for (i = 0; i < 60; i++)
		for (k = 0; k < 20; k++)
			for (j = 0; j < 2; j++) {
				th = (k % 2 ? 120.0 : 30.0) * GEO_DEG;
				ct = cos(th);
				st = sin(th);
				z1 = 20.0 * test_noise(&seed);
				z2 = 1000.0 * test_noise(&seed);
				e = ct * z1 - st * z2 + j * off[0];
				n = st * z1 + ct * z2 + j * off[1];
				r = test_report(j ? "KOR-E7-1" : "USA-AEGIS-1",
				    k + 1, T0 + i * SEC,
				    40.0 + n / GEO_A / GEO_DEG,
				    130.0 + k * 0.5, 10000.0, e, 0.0, 50.0,
				    10.0, TF_CAT_AIR);
				r.cov[tf_cov_idx(0, 0)] = ct * ct * 400.0 +
				    st * st * 1e6;
				r.cov[tf_cov_idx(1, 1)] = st * st * 400.0 +
				    ct * ct * 1e6;
				r.cov[tf_cov_idx(0, 1)] = ct * st *
				    (400.0 - 1e6);
				assert_int_equal(corr_report(c, &r), CORR_OK);
			}
	memset(&tb, 0, sizeof(tb));
	corr_foreach_bias(c, test_bias_fn, &tb);
	assert_int_equal(corr_count(c), 20);
	assert_int_equal(tb.n, 2);
	test_near(tb.b[0] - tb.a[0], off[0], 6.0, "tilted relative east");
	test_near(tb.b[1] - tb.a[1], off[1], 6.0, "tilted relative north");
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * Bias from oriented covariances: each pair of tracks is precise in one
 * horizontal direction only (30 m; east for half the objects, north for
 * the other half) and a kilometre off across it. Weighing each difference by
 * its information recovers both components; a plain mean would carry the
 * kilometre noise (tens of metres of error).
 */
static void
test_bias_oriented(void **state)
{
	struct tf_report	 r;
	struct rec		 rec;
	struct corr		*c;
	struct test_bias	 tb;
	uint64_t		 seed = 5;
	double			 sg[2], off[2] = { 100.0, 60.0 }, e, n;
	int			 i, k, j, ax;

	(void)state;
	c = test_core(&rec, NULL);
	for (i = 0; i < 60; i++)
		for (k = 0; k < 20; k++)
			for (j = 0; j < 2; j++) {
				ax = k % 2;	/* precise: 0 east, 1 north */
				sg[ax] = 30.0;
				sg[1 - ax] = 1000.0;
				e = sg[0] * test_noise(&seed) + j * off[0];
				n = sg[1] * test_noise(&seed) + j * off[1];
				r = test_report(j ? "KOR-E7-1" : "USA-AEGIS-1",
				    k + 1, T0 + i * SEC, n / GEO_A / GEO_DEG,
				    130.0 + k * 0.5, 10000.0, e, 0.0, 50.0,
				    10.0, TF_CAT_AIR);
				r.cov[tf_cov_idx(0, 0)] = sg[0] * sg[0];
				r.cov[tf_cov_idx(1, 1)] = sg[1] * sg[1];
				assert_int_equal(corr_report(c, &r), CORR_OK);
			}
	assert_int_equal(corr_count(c), 20);
	memset(&tb, 0, sizeof(tb));
	corr_foreach_bias(c, test_bias_fn, &tb);
	assert_int_equal(tb.n, 2);
	test_near(tb.b[0] - tb.a[0], off[0], 6.0, "oriented relative east");
	test_near(tb.b[1] - tb.a[1], off[1], 6.0, "oriented relative north");
	corr_free(c);
	test_rec_clear(&rec);
}

/*
 * No allocation per report: once 200 sources and their tracks exist,
 * thousands more reports (associations, fusions, swaps, bias solves,
 * expiry of the renumbered) allocate nothing.
 */
static void
test_noalloc(void **state)
{
	struct corr_params	 p;
	struct corr_stats	 st;
	struct tf_report	 r;
	struct corr		*c;
	size_t			 n = 0;
	uint64_t		 seed = 3;
	int			 i, k, pass;

	(void)state;
	corr_params_default(&p);
	c = corr_new(&p, test_emit_count, &n);
	assert_non_null(c);
	for (pass = 0; pass < 2; pass++) {
		test_counting = pass;
		for (i = pass * 30; i < pass * 30 + 30; i++)
			for (k = 0; k < 200; k++) {
				r = test_report(k % 2 ? "KOR-E7-1" :
				    "USA-AEGIS-1", k / 2 + 1, T0 + i * SEC, 0.0,
				    130.0 + (k / 2) * 0.3, 9000.0,
				    40.0 * test_noise(&seed), 0.0, 60.0, 8.0,
				    TF_CAT_AIR);
				assert_int_equal(corr_report(c, &r), CORR_OK);
			}
	}
	test_counting = 0;
	/* The wrappers are live (the warm-up allocated) ... */
	assert_true(test_allocs_all > 0);
	/* ... and the warm core did not. */
	assert_int_equal(test_allocs, 0);
	assert_int_equal(corr_count(c), 100);
	/*
	 * Every report shows, but each object's first (tentative) one and
	 * those that could not change the picture (corr_sys_idle: the two
	 * sensors are alike, so one of them carries all the weight).
	 */
	corr_get_stats(c, &st);
	assert_true(n + st.idle >= 12000 - 100);
	assert_true(n >= 12000 / 2);
	corr_free(c);
}

/*
 * Records for the configured limits are reserved by corr_new: a fresh
 * core takes its first tracks and sources without a heap allocation.
 */
static void
test_noalloc_cold(void **state)
{
	struct corr_params	 p;
	struct tf_report	 r;
	struct corr		*c;
	size_t			 n = 0;
	int			 k;

	(void)state;
	corr_params_default(&p);
	p.publish_tentative = 1;
	c = corr_new(&p, test_emit_count, &n);
	assert_non_null(c);
	test_allocs = 0;
	test_counting = 1;
	for (k = 0; k < 600; k++) {
		r = test_report(k % 2 ? "KOR-E7-1" : "USA-AEGIS-1", k + 1,
		    T0, 0.0, 100.0 + k * 0.1, 9000.0, 0.0, 0.0, 60.0, 8.0,
		    TF_CAT_AIR);
		assert_int_equal(corr_report(c, &r), CORR_OK);
	}
	test_counting = 0;
	assert_int_equal(test_allocs, 0);
	assert_int_equal(corr_sources(c), 600);
	assert_int_equal(corr_count(c), 600);
	assert_int_equal(n, 600);
	corr_free(c);
}

/*
 * Limits raised by a reload past what corr_new reserved: the core grows
 * on the heap (slabs) and keeps every track.
 */
static void
test_grow_past_reserve(void **state)
{
	struct corr_params	 p;
	struct tf_report	 r;
	struct corr		*c;
	size_t			 n = 0;
	int			 k;

	(void)state;
	corr_params_default(&p);
	p.publish_tentative = 1;
	p.max_tracks = 2;
	p.max_sources = 2;
	c = corr_new(&p, test_emit_count, &n);
	assert_non_null(c);
	r = test_report("USA-AEGIS-1", 1000, T0, 0.0, 100.0, 9000.0, 0.0,
	    0.0, 60.0, 8.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_OK);
	p.max_tracks = 1000;
	p.max_sources = 1000;
	corr_set_params(c, &p);
	test_allocs = 0;
	test_counting = 1;
	for (k = 0; k < 700; k++) {
		r = test_report("USA-AEGIS-1", k + 1, T0, 10.0,
		    100.0 + k * 0.1, 9000.0, 0.0, 0.0, 60.0, 8.0, TF_CAT_AIR);
		assert_int_equal(corr_report(c, &r), CORR_OK);
	}
	test_counting = 0;
	assert_true(test_allocs > 0);
	assert_int_equal(corr_sources(c), 701);
	assert_int_equal(corr_count(c), 701);
	/* The limit still holds once reached. */
	p.max_tracks = 701;
	corr_set_params(c, &p);
	r = test_report("USA-AEGIS-1", 5000, T0, -10.0, 100.0, 9000.0, 0.0,
	    0.0, 60.0, 8.0, TF_CAT_AIR);
	assert_int_equal(corr_report(c, &r), CORR_LIMIT);
	corr_free(c);
}

/* Run every test of the core. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_predict_cv),
		cmocka_unit_test(test_predict_gravity),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_category),
		cmocka_unit_test(test_same_sensor),
		cmocka_unit_test(test_fuse_identical),
		cmocka_unit_test(test_fuse_ci),
		cmocka_unit_test(test_fuse_pair),
		cmocka_unit_test(test_fuse_warm),
		cmocka_unit_test(test_cov_stored),
		cmocka_unit_test(test_fuse_stored),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_expiry_order),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_renumber),
		cmocka_unit_test(test_reclaim),
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_wild_input),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_index_far),
		cmocka_unit_test(test_index_all),
		cmocka_unit_test(test_index_corr),
		cmocka_unit_test(test_index_crowd),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_gnn),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_bias),
		cmocka_unit_test(test_bias_full),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_confirm),
		cmocka_unit_test(test_slow_miss),
		cmocka_unit_test(test_coast_show),
		cmocka_unit_test(test_coast_long),
		cmocka_unit_test(test_stale_reload),
		cmocka_unit_test(test_age_wheel),
		cmocka_unit_test(test_landed),
		cmocka_unit_test(test_bias_oriented),
		cmocka_unit_test(test_bias_tilted),
		cmocka_unit_test(test_distance_pd),
		cmocka_unit_test(test_formation),
		cmocka_unit_test(test_crossing),
		cmocka_unit_test(test_noalloc),
		cmocka_unit_test(test_noalloc_cold),
		cmocka_unit_test(test_grow_past_reserve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
