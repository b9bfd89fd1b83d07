/*
 * Unit tests of the scoring measures (tools/siap.c): tiny hand-made truth
 * and track sets whose answers are worked out by hand in the comments.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "trackfuse/lap.h"
#include "trackfuse/siap.h"
#include "testrand.h"

#define NS	1000000000LL

/* A truth sample at t seconds, at x metres along the ECEF x axis. */
static struct siap_truth
tt(int t, uint32_t obj, uint32_t ncover, double x, double vx)
{
	struct siap_truth	s;

	memset(&s, 0, sizeof(s));
	s.t_ns = t * NS;
	s.obj = obj;
	s.ncover = ncover;
	s.pos[0] = x;
	s.pos[1] = 1000.0 * obj;
	s.vel[0] = vx;
	return s;
}

/* A track update at t seconds, position (x, y), velocity vx, var I. */
static struct siap_update
tu(int t, double x, double y, double vx, double var)
{
	struct siap_update	u;
	int			i;

	memset(&u, 0, sizeof(u));
	u.t_ns = t * NS;
	u.pos[0] = x;
	u.pos[1] = y;
	u.vel[0] = vx;
	for (i = 0; i < 6; i++)
		u.cov[i * 6 + i] = var;
	return u;
}

/* A drop of a track at t seconds. */
static struct siap_update
tdrop(int t)
{
	struct siap_update	u;

	memset(&u, 0, sizeof(u));
	u.t_ns = t * NS;
	u.drop = 1;
	return u;
}

/* Score truth against tracks with the default parameters. */
static void
score(const struct siap_truth *truth, size_t ntruth, uint32_t nobj,
    const struct siap_track *trk, size_t ntrk, struct siap_result *r)
{
	struct siap_input	in;
	struct siap_params	p;

	siap_params_default(&p);
	memset(&in, 0, sizeof(in));
	in.truth = truth;
	in.ntruth = ntruth;
	in.nobj = nobj;
	in.trk = trk;
	in.ntrk = ntrk;
	assert_int_equal(siap_score(&in, &p, r), 0);
}

/*
 * Two objects moving at 100 m/s along x, tracked exactly: each track is
 * updated at t = 0 only and predicted with its velocity to t = 1..4.
 */
static void
test_perfect(void **state)
{
	struct siap_truth	truth[10];
	struct siap_track	trk[2];
	struct siap_update	u;
	struct siap_result	r;
	int			t;

	(void)state;
	for (t = 0; t < 5; t++) {
		truth[2 * t] = tt(t, 0, 1, 100.0 * t, 100.0);
		truth[2 * t + 1] = tt(t, 1, 2, 5000.0 + 100.0 * t, 100.0);
	}
	memset(trk, 0, sizeof(trk));
	trk[0].id = 7;
	trk[1].id = 9;
	u = tu(0, 0.0, 0.0, 100.0, 4.0);
	siap_track_push(&trk[0], &u);
	u = tu(0, 5000.0, 1000.0, 100.0, 4.0);
	siap_track_push(&trk[1], &u);
	score(truth, 10, 2, trk, 2, &r);
	assert_int_equal(r.samples, 5);
	assert_int_equal(r.sum_j, 10);
	assert_float_equal(r.completeness, 1.0, 1e-12);
	assert_float_equal(r.ambiguity, 1.0, 1e-12);
	assert_float_equal(r.spuriousness, 0.0, 1e-12);
	assert_float_equal(r.pos_acc_m, 0.0, 1e-9);
	assert_float_equal(r.vel_acc_mps, 0.0, 1e-9);
	assert_float_equal(r.ospa_m, 0.0, 1e-9);
	assert_float_equal(r.change_rate, 0.0, 1e-12);
	assert_float_equal(r.longest_segment, 1.0, 1e-12);
	assert_int_equal(r.obj[0].main_id, 7);
	assert_int_equal(r.obj[1].main_id, 9);
	assert_int_equal(r.obj[1].nids, 1);
	/* No sensors given: no fusion gain. */
	assert_true(isnan(r.fusion_gain));
	siap_result_free(&r);
	siap_track_free(&trk[0]);
	siap_track_free(&trk[1]);
}

/*
 * A group (objects 0 and 1; object 2 is not in it): track A holds 0 all
 * along, B holds 1 until it is dropped at t = 2, D holds 1 from t = 3, E
 * holds 2. Object 1 is not covered at t = 4, so only t = 0..3 count:
 * two distinct tracks at 0, 1 and 3, one at 2.
 */
static void
test_group(void **state)
{
	struct siap_truth	truth[15];
	struct siap_track	trk[4];
	struct siap_update	u;
	struct siap_result	r;
	struct siap_input	in;
	struct siap_params	p;
	uint32_t		group[2] = { 0, 1 };
	int			t, i;

	(void)state;
	for (t = 0; t < 5; t++)
		for (i = 0; i < 3; i++)
			truth[3 * t + i] = tt(t, (uint32_t)i,
			    i == 1 && t == 4 ? 0 : 1, 0.0, 0.0);
	memset(trk, 0, sizeof(trk));
	for (i = 0; i < 4; i++)
		trk[i].id = (uint64_t)i + 1;
	u = tu(0, 0.0, 0.0, 0.0, 1.0);
	siap_track_push(&trk[0], &u);
	u = tu(0, 0.0, 1000.0, 0.0, 1.0);
	siap_track_push(&trk[1], &u);
	u = tdrop(2);
	siap_track_push(&trk[1], &u);
	u = tu(3, 0.0, 1100.0, 0.0, 1.0);
	siap_track_push(&trk[2], &u);
	u = tu(0, 0.0, 2000.0, 0.0, 1.0);
	siap_track_push(&trk[3], &u);
	siap_params_default(&p);
	memset(&in, 0, sizeof(in));
	in.truth = truth;
	in.ntruth = 15;
	in.nobj = 3;
	in.trk = trk;
	in.ntrk = 4;
	in.group = group;
	in.ngroup = 2;
	assert_int_equal(siap_score(&in, &p, &r), 0);
	assert_int_equal(r.group_samples, 4);
	assert_int_equal(r.group_whole, 3);
	assert_int_equal(r.group_min, 1);
	siap_result_free(&r);
	for (i = 0; i < 4; i++)
		siap_track_free(&trk[i]);
}

/*
 * One truth, three tracks: two on it (10 m and 30 m off), one 100 km
 * away. Ambiguity 2/1, spuriousness 1/3, accuracy (10 + 30) / 2 = 20.
 * OSPA (c 10000, p 1): the truth takes the 10 m track, two tracks are
 * unmatched: (10 + 2 * 10000) / 3.
 */
static void
test_ambiguous_spurious(void **state)
{
	struct siap_truth	truth[1];
	struct siap_track	trk[3];
	struct siap_update	u;
	struct siap_result	r;

	(void)state;
	truth[0] = tt(0, 0, 1, 0.0, 0.0);
	memset(trk, 0, sizeof(trk));
	trk[0].id = 1;
	trk[1].id = 2;
	trk[2].id = 3;
	u = tu(0, 30.0, 0.0, 0.0, 1.0);
	u.contributors = 3;
	siap_track_push(&trk[0], &u);
	u = tu(0, 10.0, 0.0, 0.0, 1.0);
	u.contributors = 1;
	siap_track_push(&trk[1], &u);
	u = tu(0, 100000.0, 0.0, 0.0, 1.0);
	siap_track_push(&trk[2], &u);
	score(truth, 1, 1, trk, 3, &r);
	assert_float_equal(r.completeness, 1.0, 1e-12);
	assert_float_equal(r.ambiguity, 2.0, 1e-12);
	assert_float_equal(r.spuriousness, 1.0 / 3.0, 1e-12);
	assert_float_equal(r.pos_acc_m, 20.0, 1e-9);
	assert_float_equal(r.ospa_m, (10.0 + 20000.0) / 3.0, 1e-6);
	/* Its track is the nearest one. */
	assert_int_equal(r.obj[0].main_id, 2);
	/* NEES with P = I: mean of 30^2 and 10^2. */
	assert_int_equal(r.nees_n, 2);
	assert_float_equal(r.nees_mean, (900.0 + 100.0) / 2.0, 1e-6);
	/* Apart: the fused track's 30^2, the one-sensor track's 10^2. */
	assert_int_equal(r.nees_fused_n, 1);
	assert_float_equal(r.nees_fused_mean, 900.0, 1e-6);
	assert_int_equal(r.nees_single_n, 1);
	assert_float_equal(r.nees_single_mean, 100.0, 1e-6);
	siap_result_free(&r);
	siap_track_free(&trk[0]);
	siap_track_free(&trk[1]);
	siap_track_free(&trk[2]);
}

/*
 * A truth covered at t = 0..5 but not at t = 6 (not counted, its track
 * there is spurious); track 1 holds it at 0..2 and is dropped at 3, track
 * 2 starts at 3. One change in 6 s tracked; longest run 3 of 6 samples.
 */
static void
test_switch(void **state)
{
	struct siap_truth	truth[7];
	struct siap_track	trk[2];
	struct siap_update	u;
	struct siap_result	r;
	int			t;

	(void)state;
	for (t = 0; t < 7; t++)
		truth[t] = tt(t, 0, t < 6 ? 1 : 0, 0.0, 0.0);
	memset(trk, 0, sizeof(trk));
	trk[0].id = 1;
	trk[1].id = 2;
	for (t = 0; t < 3; t++) {
		u = tu(t, 5.0, 0.0, 0.0, 1.0);
		siap_track_push(&trk[0], &u);
	}
	u = tdrop(3);
	siap_track_push(&trk[0], &u);
	u = tu(3, 0.0, 5.0, 0.0, 1.0);
	siap_track_push(&trk[1], &u);
	score(truth, 7, 1, trk, 2, &r);
	assert_int_equal(r.samples, 7);
	assert_int_equal(r.sum_j, 6);
	assert_float_equal(r.completeness, 1.0, 1e-12);
	assert_float_equal(r.ambiguity, 1.0, 1e-12);
	assert_float_equal(r.spuriousness, 1.0 / 7.0, 1e-12);
	assert_int_equal(r.obj[0].changes, 1);
	assert_int_equal(r.obj[0].change_t[0], 3 * NS);
	assert_int_equal(r.obj[0].nids, 2);
	assert_int_equal(r.obj[0].longest, 3);
	assert_float_equal(r.change_rate, 1.0 / 6.0, 1e-12);
	assert_float_equal(r.longest_segment, 0.5, 1e-12);
	siap_result_free(&r);
	siap_track_free(&trk[0]);
	siap_track_free(&trk[1]);
}

/*
 * A duplicate: tracks 1 and 2 both stay on the truth, each nearer every
 * other second. Ambiguity 2, but no change of track number: track 1,
 * nearest at t = 0, holds it while it stays associated.
 */
static void
test_duplicate(void **state)
{
	struct siap_truth	truth[6];
	struct siap_track	trk[2];
	struct siap_update	u;
	struct siap_result	r;
	int			t;

	(void)state;
	memset(trk, 0, sizeof(trk));
	trk[0].id = 1;
	trk[1].id = 2;
	for (t = 0; t < 6; t++) {
		truth[t] = tt(t, 0, 1, 0.0, 0.0);
		u = tu(t, t % 2 ? 30.0 : 10.0, 0.0, 0.0, 1.0);
		siap_track_push(&trk[0], &u);
		u = tu(t, 20.0, 0.0, 0.0, 1.0);
		siap_track_push(&trk[1], &u);
	}
	score(truth, 6, 1, trk, 2, &r);
	assert_float_equal(r.ambiguity, 2.0, 1e-12);
	assert_int_equal(r.obj[0].changes, 0);
	assert_int_equal(r.obj[0].nids, 1);
	assert_int_equal(r.obj[0].main_id, 1);
	assert_int_equal(r.obj[0].longest, 6);
	assert_float_equal(r.pos_acc_m, (3 * 10.0 + 3 * 30.0 + 6 * 20.0) / 12.0,
	    1e-9);
	siap_result_free(&r);
	siap_track_free(&trk[0]);
	siap_track_free(&trk[1]);
}

/*
 * A gap in tracking: the same track id before and after is no change, but
 * it breaks the segment. Also: updates pushed out of order are sorted, and
 * a track older than max_age (30 s) is gone.
 */
static void
test_gap_age(void **state)
{
	struct siap_truth	truth[50];
	struct siap_track	trk[1];
	struct siap_update	u;
	struct siap_result	r;
	int			t;

	(void)state;
	for (t = 0; t < 50; t++)
		truth[t] = tt(t, 0, 1, 0.0, 0.0);
	memset(trk, 0, sizeof(trk));
	trk[0].id = 4;
	/* Updated at 0..9 and 45..49 (pushed first); stale over 40..44. */
	for (t = 45; t < 50; t++) {
		u = tu(t, 1.0, 0.0, 0.0, 1.0);
		siap_track_push(&trk[0], &u);
	}
	for (t = 0; t < 10; t++) {
		u = tu(t, 1.0, 0.0, 0.0, 1.0);
		siap_track_push(&trk[0], &u);
	}
	for (t = 1; t < 15; t++)
		assert_true(trk[0].upd[t - 1].t_ns <= trk[0].upd[t].t_ns);
	score(truth, 50, 1, trk, 1, &r);
	/* Alive at 0..39 (9 + 30 s), gone at 40..44, back at 45..49. */
	assert_int_equal(r.obj[0].tracked, 45);
	assert_int_equal(r.obj[0].changes, 0);
	assert_int_equal(r.obj[0].longest, 40);
	assert_float_equal(r.completeness, 45.0 / 50.0, 1e-12);
	assert_float_equal(r.longest_segment, 40.0 / 50.0, 1e-12);
	siap_result_free(&r);
	siap_track_free(&trk[0]);
}

/*
 * OSPA by hand in one dimension. x = {0, 10}, y = {1, 20, 100}, c = 50:
 * p = 1: (1 + 10 + 50) / 3; p = 2: sqrt((1 + 100 + 2500) / 3).
 * x = {1, 2}, y = {0, 1.5}: greedy nearest would pay 0.5 + 2, the optimal
 * assignment pays 1 + 0.5: OSPA 0.75.
 */
static void
test_ospa(void **state)
{
	double	x[2][3] = { { 0 }, { 10 } };
	double	y[3][3] = { { 1 }, { 20 }, { 100 } };
	double	a[2][3] = { { 1 }, { 2 } };
	double	b[2][3] = { { 0 }, { 1.5 } };

	(void)state;
	assert_float_equal(siap_ospa((const double (*)[3])x, 2,
	    (const double (*)[3])y, 3, 50.0, 1.0), 61.0 / 3.0, 1e-9);
	assert_float_equal(siap_ospa((const double (*)[3])y, 3,
	    (const double (*)[3])x, 2, 50.0, 1.0), 61.0 / 3.0, 1e-9);
	assert_float_equal(siap_ospa((const double (*)[3])x, 2,
	    (const double (*)[3])y, 3, 50.0, 2.0), sqrt(2601.0 / 3.0), 1e-9);
	assert_float_equal(siap_ospa((const double (*)[3])a, 2,
	    (const double (*)[3])b, 2, 10.0, 1.0), 0.75, 1e-9);
	assert_float_equal(siap_ospa(NULL, 0, NULL, 0, 10.0, 1.0), 0.0, 0.0);
	assert_float_equal(siap_ospa((const double (*)[3])a, 2, NULL, 0,
	    10.0, 1.0), 10.0, 0.0);
}

/* OSPA over the full assignment matrix: the reference for test_ospa_parts. */
static double
test_ospa_full(const double (*x)[3], size_t m, const double (*y)[3],
    size_t n, double c, double p)
{
	double	a[60 * 60] = { 0 }, work[LAP_WORK_BYTES(60) / sizeof(double) + 1];
	double	d, cost = 0.0;
	size_t	col[60], i, j, r = m <= n ? m : n, k = m <= n ? n : m;
	int	e;

	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++) {
			for (d = 0.0, e = 0; e < 3; e++)
				d += (x[i][e] - y[j][e]) * (x[i][e] - y[j][e]);
			d = pow(sqrt(d) < c ? sqrt(d) : c, p);
			a[m <= n ? i * k + j : j * k + i] = d;
		}
	assert_int_equal(lap_solve(r, k, a, col, work), 0);
	for (i = 0; i < r; i++)
		cost += a[i * k + col[i]];
	return pow((cost + pow(c, p) * (double)(k - r)) / (double)k, 1.0 / p);
}

/*
 * OSPA solved by components of the pairs nearer than c (siap_ospa) equals
 * the full assignment, on random sets of 1 to 60 points in clusters about
 * as far apart as c (so that components form, touch and merge), p = 1
 * and 2, either set the larger.
 */
static void
test_ospa_parts(void **state)
{
	double		x[60][3], y[60][3], c, p, ctr[6][3];
	uint64_t	s = 99;
	size_t		m, n, i;
	int		it, e;

	(void)state;
	for (it = 0; it < 400; it++) {
		m = 1 + (size_t)(it * 7 % 60);
		n = 1 + (size_t)(it * 13 % 60);
		c = 100.0;
		p = it % 2 ? 2.0 : 1.0;
		for (i = 0; i < 6; i++)
			for (e = 0; e < 3; e++)
				ctr[i][e] = test_unif(&s) * 600.0;
		for (i = 0; i < m + n; i++)
			for (e = 0; e < 3; e++)
				(i < m ? x[i] : y[i - m])[e] = ctr[i % 6][e] +
				    test_unif(&s) * 120.0;
		assert_float_equal(siap_ospa((const double (*)[3])x, m,
		    (const double (*)[3])y, n, c, p),
		    test_ospa_full((const double (*)[3])x, m,
		    (const double (*)[3])y, n, c, p), 1e-9);
	}
}

/*
 * NEES of known errors: diagonal P = diag(1, 4, 9), e = (1, 2, 3) gives 3;
 * P = [2 1 0; 1 2 0; 0 0 1], e = (1, 1, 1) gives 2/3 + 1; a singular P
 * gives -1. Prediction: P = I (6x6), 2 s of constant velocity make the
 * position block (1 + 4) I, so e = (5, 0, 0) gives 5.
 */
static void
test_nees(void **state)
{
	struct siap_update	u, p;
	double			cov[36], e[3] = { 1, 2, 3 };

	(void)state;
	memset(cov, 0, sizeof(cov));
	cov[0] = 1.0;
	cov[7] = 4.0;
	cov[14] = 9.0;
	assert_float_equal(siap_nees(e, cov), 3.0, 1e-12);
	memset(cov, 0, sizeof(cov));
	cov[0] = cov[7] = 2.0;
	cov[1] = cov[6] = 1.0;
	cov[14] = 1.0;
	e[0] = e[1] = e[2] = 1.0;
	assert_float_equal(siap_nees(e, cov), 2.0 / 3.0 + 1.0, 1e-12);
	cov[14] = 0.0;
	assert_true(siap_nees(e, cov) < 0.0);

	u = tu(0, 10.0, 0.0, 3.0, 1.0);
	siap_predict(&u, 2 * NS, &p);
	assert_float_equal(p.pos[0], 16.0, 1e-12);
	assert_float_equal(p.cov[0], 5.0, 1e-12);
	assert_float_equal(p.cov[3], 2.0, 1e-12);	/* Ppv = dt Pvv */
	assert_float_equal(p.cov[35], 1.0, 1e-12);
	e[0] = 5.0;
	e[1] = e[2] = 0.0;
	assert_float_equal(siap_nees(e, p.cov), 5.0, 1e-12);
}

/*
 * The chi-square band of the mean NEES: for n = 100 samples of 3 dof the
 * sum is chi2(300), whose 2.5% and 97.5% points are 253.912 and 349.874
 * (tables), so the band is [2.539, 3.499]. Wilson-Hilferty is within 0.1%.
 */
static void
test_chi2(void **state)
{
	double	lo, hi;

	(void)state;
	assert_float_equal(siap_chi2inv(0.025, 300.0), 253.912, 0.25);
	assert_float_equal(siap_chi2inv(0.975, 300.0), 349.874, 0.35);
	assert_float_equal(siap_chi2inv(0.975, 30.0), 46.979, 0.05);
	assert_float_equal(siap_chi2inv(0.025, 30.0), 16.791, 0.05);
	siap_nees_band(100, 3, &lo, &hi);
	assert_float_equal(lo, 2.53912, 0.003);
	assert_float_equal(hi, 3.49874, 0.003);
	siap_nees_band(0, 3, &lo, &hi);
	assert_true(isnan(lo) && isnan(hi));
}

/*
 * The NEES interval clustered by object. Objects with sums 2 and 4 over
 * one sample each, one with none: mean 3, cluster deviations -1 and +1,
 * variance 2/1 * 2 / 2^2 = 1, so 3 -+ 1.96. An object of ten samples
 * weighs as one cluster, not ten: sums 10 (n 10), 50 (n 10) give mean 3,
 * deviations -20, +20, se sqrt(2 * 800) / 20 = 2. One object: no
 * interval.
 */
static void
test_nees_interval(void **state)
{
	struct siap_object	o[3];
	double			lo, hi;

	(void)state;
	memset(o, 0, sizeof(o));
	o[0].nees_sum = 2.0;
	o[0].nees_n = 1;
	o[2].nees_sum = 4.0;
	o[2].nees_n = 1;
	siap_nees_interval(o, 3, &lo, &hi);
	assert_float_equal(lo, 3.0 - 1.959964, 1e-9);
	assert_float_equal(hi, 3.0 + 1.959964, 1e-9);
	o[0].nees_sum = 10.0;
	o[0].nees_n = 10;
	o[2].nees_sum = 50.0;
	o[2].nees_n = 10;
	siap_nees_interval(o, 3, &lo, &hi);
	assert_float_equal(lo, 3.0 - 1.959964 * 2.0, 1e-9);
	assert_float_equal(hi, 3.0 + 1.959964 * 2.0, 1e-9);
	siap_nees_interval(o, 1, &lo, &hi);
	assert_true(isnan(lo) && isnan(hi));
}

/*
 * Fusion gain: one truth covered by two sensors over t = 0..3; the fused
 * track is 60 m off; sensor 0's track 100 m, sensor 1's 200 m (each
 * reported every second). Best single is 100: gain 0.6. Sensor 1's track
 * stops reporting after t = 1; it stays usable for 2 periods (to t = 3)
 * by default, for 1 period (to t = 2) with sensor_age 1.
 */
static void
test_fusion_gain(void **state)
{
	struct siap_truth	truth[4];
	struct siap_track	trk[1], sen[2];
	struct siap_update	u;
	struct siap_input	in;
	struct siap_params	p;
	struct siap_result	r;
	int64_t			period[2];
	int			t;

	(void)state;
	memset(trk, 0, sizeof(trk));
	memset(sen, 0, sizeof(sen));
	trk[0].id = 1;
	sen[0].id = 1;
	sen[0].sensor = 0;
	sen[1].id = 1;
	sen[1].sensor = 1;
	for (t = 0; t < 4; t++) {
		truth[t] = tt(t, 0, 2, 0.0, 0.0);
		u = tu(t, 60.0, 0.0, 0.0, 1.0);
		siap_track_push(&trk[0], &u);
		u = tu(t, 0.0, 100.0, 0.0, 1.0);
		siap_track_push(&sen[0], &u);
		if (t < 2) {
			u = tu(t, 0.0, 200.0, 0.0, 1.0);
			siap_track_push(&sen[1], &u);
		}
	}
	siap_periods(sen, 2, 2, 30 * NS, period);
	assert_int_equal(period[0], NS);
	assert_int_equal(period[1], NS);
	siap_params_default(&p);
	memset(&in, 0, sizeof(in));
	in.truth = truth;
	in.ntruth = 4;
	in.nobj = 1;
	in.trk = trk;
	in.ntrk = 1;
	in.sen = sen;
	in.nsen = 2;
	in.nsensors = 2;
	in.period_ns = period;
	assert_int_equal(siap_score(&in, &p, &r), 0);
	assert_int_equal(r.gain_n, 4);
	assert_float_equal(r.fused_rms_m, 60.0, 1e-9);
	assert_float_equal(r.single_rms_m, 100.0, 1e-9);
	assert_float_equal(r.fusion_gain, 0.6, 1e-12);
	siap_result_free(&r);
	/* Only the 200 m sensor, alive at t = 0..3 (last report 1, age 2 s). */
	in.sen = &sen[1];
	in.nsen = 1;
	assert_int_equal(siap_score(&in, &p, &r), 0);
	assert_int_equal(r.gain_n, 4);
	assert_float_equal(r.fusion_gain, 0.3, 1e-12);
	siap_result_free(&r);
	/* A shorter age (1 period): gone at t = 3. */
	p.sensor_age = 1.0;
	assert_int_equal(siap_score(&in, &p, &r), 0);
	assert_int_equal(r.gain_n, 3);
	siap_result_free(&r);
	siap_track_free(&trk[0]);
	siap_track_free(&sen[0]);
	siap_track_free(&sen[1]);
}

/* Run every test. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perfect),
		cmocka_unit_test(test_ambiguous_spurious),
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_gap_age),
		cmocka_unit_test(test_ospa),
		cmocka_unit_test(test_ospa_parts),
		cmocka_unit_test(test_nees),
		cmocka_unit_test(test_nees_interval),
		cmocka_unit_test(test_chi2),
		cmocka_unit_test(test_fusion_gain),
		cmocka_unit_test(test_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
