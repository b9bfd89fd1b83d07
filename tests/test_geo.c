/*
 * Unit tests for lib/geo.c: WGS84 conversions, the ENU frame, covariance
 * rotation and the great-circle helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "trackfuse/geo.h"
#include "trackfuse/track.h"

/* Fail unless |a - b| <= tol. */
static void
t_near(double a, double b, double tol)
{
	if (!(fabs(a - b) <= tol))
		fail_msg("%.12g != %.12g (tol %g)", a, b, tol);
}

/* Longitudes equal modulo 360. */
static void
t_lon_near(double a, double b, double tol)
{
	double	d = fmod(fabs(a - b), 360.0);

	if (d > 180.0)
		d = 360.0 - d;
	if (!(d <= tol))
		fail_msg("lon %.12g != %.12g", a, b);
}

/* Known ECEF points on the ellipsoid. */
static void
test_known_points(void **state)
{
	double	x[3];

	(void)state;
	geo_lla_to_ecef(0, 0, 0, x);
	t_near(x[0], 6378137.0, 1e-6);
	t_near(x[1], 0, 1e-6);
	t_near(x[2], 0, 1e-6);
	geo_lla_to_ecef(0, 90, 0, x);
	t_near(x[0], 0, 1e-6);
	t_near(x[1], 6378137.0, 1e-6);
	geo_lla_to_ecef(90, 0, 0, x);
	t_near(x[0], 0, 1e-6);
	t_near(x[2], GEO_A * (1 - GEO_F), 1e-6);	/* 6356752.314245 */
	t_near(x[2], 6356752.314245, 1e-5);
	geo_lla_to_ecef(0, 180, 1000, x);
	t_near(x[0], -6379137.0, 1e-6);
}

/* LLA -> ECEF -> LLA within 1e-6 deg... and 1 mm, many places and heights. */
static void
test_lla_roundtrip(void **state)
{
	static const double pts[][2] = {
		{ 0, 0 }, { 90, 0 }, { -90, 0 }, { 89.9999, 45 },
		{ -89.99999, -120 }, { 0, 180 }, { 10, -180 }, { 0, 179.9999 },
		{ 36, 130 }, { 37.5, 131.25 }, { -33.9, 151.2 }, { 45, -90 },
		{ 60, 10 }, { 1e-9, -1e-9 }
	};
	static const double alts[] = { -12000, -100, 0, 1000, 10000,
	    1000000, 35786000, 40000000 };
	double		x[3], lat, lon, alt;
	size_t		i, j;

	(void)state;
	for (i = 0; i < sizeof(pts) / sizeof(pts[0]); i++)
		for (j = 0; j < sizeof(alts) / sizeof(alts[0]); j++) {
			geo_lla_to_ecef(pts[i][0], pts[i][1], alts[j], x);
			geo_ecef_to_lla(x, &lat, &lon, &alt);
			t_near(lat, pts[i][0], 1e-9);
			if (fabs(pts[i][0]) < 90)
				t_lon_near(lon, pts[i][1], 1e-9);
			t_near(alt, alts[j], 1e-3);
		}
}

/* A 1 mm move is seen as 1 mm after the round trip (no coarse rounding). */
static void
test_ecef_precision(void **state)
{
	double	x[3], y[3], lat, lon, alt;

	(void)state;
	geo_lla_to_ecef(36, 130, 1000000, x);
	geo_ecef_to_lla(x, &lat, &lon, &alt);
	geo_lla_to_ecef(lat, lon, alt + 0.001, y);
	t_near(geo_dist(x, y), 0.001, 1e-6);
}

/* The ENU basis is orthonormal, right handed, and up is the normal. */
/* The angle form of Bowring's iteration, as geo.c had it: the reference. */
static void
test_lla_ref(const double x[3], double *lat, double *lon, double *alt)
{
	double	f = 1.0 / 298.257223563, a = 6378137.0, b = a * (1.0 - f);
	double	e2 = f * (2.0 - f), ep2 = e2 / ((1.0 - f) * (1.0 - f));
	double	p = hypot(x[0], x[1]), z = x[2], beta, nbeta, phi = 0.0;
	double	sb, cb, sp;
	int	i;

	beta = atan2(z, (1.0 - f) * p);
	for (i = 0; i < 16; i++) {
		sb = sin(beta);
		cb = cos(beta);
		phi = atan2(z + ep2 * b * sb * sb * sb,
		    p - e2 * a * cb * cb * cb);
		nbeta = atan2((1.0 - f) * sin(phi), cos(phi));
		if (fabs(nbeta - beta) < 1e-15)
			break;
		beta = nbeta;
	}
	sp = sin(phi);
	*lat = phi / GEO_DEG;
	*lon = atan2(x[1], x[0]) / GEO_DEG;
	*alt = p * cos(phi) + z * sp - a * sqrt(1.0 - e2 * sp * sp);
}

/* One point: the conversion and its basis against the references. */
static void
test_lla_point(const double x[3])
{
	double	lat, lon, alt, rl, ro, ra, r[3][3], rb[3][3];
	int	i, j;

	geo_ecef_to_lla_enu(x, &lat, &lon, &alt, r);
	test_lla_ref(x, &rl, &ro, &ra);
	t_near(lat, rl, 1e-12);
	t_lon_near(lon, ro, 1e-12);
	t_near(alt, ra, 1e-6);
	geo_ecef_to_lla(x, &rl, &ro, &ra);
	t_near(lat, rl, 0.0);
	t_near(lon, ro, 0.0);
	t_near(alt, ra, 0.0);
	geo_enu_basis(lat, lon, rb);
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			t_near(r[i][j], rb[i][j], 1e-14);
}

/*
 * The trigonometry-free ECEF to geodetic conversion agrees with the angle
 * form everywhere (poles, the axis, deep sea to beyond geostationary
 * orbit, near the earth's centre, absurdly far), and its ENU basis with
 * geo_enu_basis.
 */
static void
test_lla_fast(void **state)
{
	double	alts[] = { -11000.0, 0.0, 9000.0, 4e5, 3.6e7 };
	double	odd[][3] = { { 0.0, 0.0, 6356752.0 }, { 0.0, 0.0, -7e6 },
		    { 1.0, 0.5, 6356752.0 }, { 30.0, -20.0, 6.4e6 },
		    { 1000.0, 2000.0, -3000.0 }, { 6378137.0, 0.0, 0.0 },
		    { -4e6, 1e-3, 4e6 }, { 1e200, -1e200, 1e199 } };
	double	lat, lon, x[3];
	size_t	k;

	(void)state;
	for (lat = -90.0; lat <= 90.0; lat += 2.5)
		for (lon = -180.0; lon < 180.0; lon += 7.3)
			for (k = 0; k < sizeof(alts) / sizeof(alts[0]); k++) {
				geo_lla_to_ecef(lat, lon, alts[k], x);
				test_lla_point(x);
			}
	for (k = 0; k < sizeof(odd) / sizeof(odd[0]); k++)
		test_lla_point(odd[k]);
}

static void
test_enu_basis(void **state)
{
	static const double pts[][2] = { { 0, 0 }, { 36, 130 }, { -45, -170 },
	    { 90, 0 }, { -90, 33 } };
	double	r[3][3], dot, cx;
	size_t	p;
	int	i, j, k;

	(void)state;
	for (p = 0; p < sizeof(pts) / sizeof(pts[0]); p++) {
		geo_enu_basis(pts[p][0], pts[p][1], r);
		for (i = 0; i < 3; i++)
			for (j = 0; j < 3; j++) {
				dot = 0;
				for (k = 0; k < 3; k++)
					dot += r[i][k] * r[j][k];
				t_near(dot, i == j ? 1.0 : 0.0, 1e-12);
			}
		/* east x north == up */
		cx = r[0][1] * r[1][2] - r[0][2] * r[1][1];
		t_near(cx, r[2][0], 1e-12);
		cx = r[0][0] * r[1][1] - r[0][1] * r[1][0];
		t_near(cx, r[2][2], 1e-12);
	}
	geo_enu_basis(0, 0, r);
	t_near(r[2][0], 1, 1e-15);	/* up at (0, 0) is +x */
	t_near(r[0][1], 1, 1e-15);	/* east is +y */
	t_near(r[1][2], 1, 1e-15);	/* north is +z */
}

/* ENU vectors rotate to ECEF and back; "up" matches the height gradient. */
static void
test_vec_roundtrip(void **state)
{
	double	v[3] = { 120.5, -33.25, 7.75 }, e[3], b[3];
	double	x0[3], x1[3], up[3] = { 0, 0, 1 };
	int	i;

	(void)state;
	geo_enu_to_ecef_vec(36, 130, v, e);
	geo_ecef_to_enu_vec(36, 130, e, b);
	for (i = 0; i < 3; i++)
		t_near(b[i], v[i], 1e-9);
	t_near(sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]),
	    sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]), 1e-9);
	geo_lla_to_ecef(36, 130, 0, x0);
	geo_lla_to_ecef(36, 130, 1, x1);
	geo_enu_to_ecef_vec(36, 130, up, e);
	for (i = 0; i < 3; i++)
		t_near(x1[i] - x0[i], e[i], 1e-8);
}

/* A symmetric PSD test covariance, built as A A^T. */
static void
t_cov(double p[36])
{
	double	a[36];
	int	i, j, k;

	for (i = 0; i < 36; i++)
		a[i] = sin(1.0 + i * 0.7) * (i % 6 < 3 ? 100.0 : 3.0);
	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++) {
			p[i * 6 + j] = 0;
			for (k = 0; k < 6; k++)
				p[i * 6 + j] += a[i * 6 + k] * a[j * 6 + k];
		}
}

/* Covariance ENU -> ECEF -> ENU is the identity; the trace is kept. */
static void
test_cov_roundtrip(void **state)
{
	double	p[36], q[36], r[36], tri[TF_COV_N], u[36];
	double	tp = 0, tq = 0;
	int	i;

	(void)state;
	t_cov(p);
	geo_cov_enu_to_ecef(36, 130, p, q);
	geo_cov_ecef_to_enu(36, 130, q, r);
	for (i = 0; i < 36; i++)
		t_near(r[i], p[i], 1e-9 * (1 + fabs(p[i])));
	for (i = 0; i < 6; i++) {
		tp += p[i * 7];
		tq += q[i * 7];
	}
	t_near(tq, tp, 1e-9 * tp);
	/* The rotated matrix stays symmetric. */
	for (i = 0; i < 36; i++)
		t_near(q[i], q[(i % 6) * 6 + i / 6], 1e-9 * (1 + fabs(q[i])));
	geo_cov_pack(p, tri);
	geo_cov_unpack(tri, u);
	for (i = 0; i < 36; i++)
		t_near(u[i], p[i], 1e-12 * (1 + fabs(p[i])));
	t_near(tri[tf_cov_idx(0, 1)], p[1], 0);
	t_near(tri[tf_cov_idx(2, 5)], p[2 * 6 + 5], 1e-12 * fabs(p[17]));
	t_near(tri[20], p[35], 0);
}

/* A pure east variance at (0, 0) becomes a pure y variance in ECEF. */
static void
test_cov_axes(void **state)
{
	double	p[36] = { 0 }, q[36];

	(void)state;
	p[0] = 4.0;		/* east */
	p[5 * 6 + 5] = 9.0;	/* v_up */
	geo_cov_enu_to_ecef(0, 0, p, q);
	t_near(q[1 * 6 + 1], 4.0, 1e-12);	/* y */
	t_near(q[3 * 6 + 3], 9.0, 1e-12);	/* v_x */
	t_near(q[0], 0.0, 1e-12);
}

/* Great-circle destination, bearing and distance agree with each other. */
static void
test_great_circle(void **state)
{
	double	lat, lon, d;

	(void)state;
	t_near(geo_surface_dist(0, 0, 1, 0), GEO_A * GEO_DEG, 1e-6);
	t_near(geo_surface_dist(0, 0, 0, 180), GEO_A * M_PI, 1e-6);
	t_near(geo_bearing(0, 0, 1, 0), 0, 1e-9);
	t_near(geo_bearing(0, 0, 0, 1), 90, 1e-9);
	t_near(geo_bearing(0, 0, -1, 0), 180, 1e-9);
	t_near(geo_bearing(0, 0, 0, -1), 270, 1e-9);
	geo_destination(37, 131, 45, 250000, &lat, &lon);
	d = geo_surface_dist(37, 131, lat, lon);
	t_near(d, 250000, 1e-4);
	t_near(geo_bearing(37, 131, lat, lon), 45, 1e-9);
	/* Across the dateline the longitude wraps. */
	geo_destination(0, 179.5, 90, GEO_A * GEO_DEG, &lat, &lon);
	t_near(lat, 0, 1e-9);
	t_near(lon, -179.5, 1e-9);
}

/*
 * geo_inv3: m r = I for PD matrices of very different scales (down to a
 * subnormal determinant, where 1 / det overflows); -1 for a singular and
 * an indefinite one.
 */
static void
test_inv3(void **state)
{
	static const double sc[] = { 1.0, 1e6, 1e-6, 1e100, 1e-104 };
	double	m[9], r[9], p, e;
	size_t	k;
	int	i, j, a;

	(void)state;
	for (k = 0; k < sizeof(sc) / sizeof(sc[0]); k++) {
		double	b[9] = { 4, 1, 0.5, 1, 3, -0.25, 0.5, -0.25, 2 };

		for (i = 0; i < 9; i++)
			m[i] = b[i] * sc[k];
		assert_int_equal(geo_inv3(m, r), 0);
		for (i = 0; i < 3; i++)
			for (j = 0; j < 3; j++) {
				for (p = 0.0, a = 0; a < 3; a++)
					p += m[i * 3 + a] * r[a * 3 + j];
				e = i == j ? 1.0 : 0.0;
				t_near(p, e, 1e-12);
			}
	}
	memset(m, 0, sizeof(m));
	m[0] = m[4] = 1.0;
	assert_int_equal(geo_inv3(m, r), -1);
	m[8] = -1.0;
	assert_int_equal(geo_inv3(m, r), -1);
}

/* Run every test of this module. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_points),
		cmocka_unit_test(test_lla_roundtrip),
		cmocka_unit_test(test_ecef_precision),
		cmocka_unit_test(test_lla_fast),
		cmocka_unit_test(test_enu_basis),
		cmocka_unit_test(test_vec_roundtrip),
		cmocka_unit_test(test_cov_roundtrip),
		cmocka_unit_test(test_cov_axes),
		cmocka_unit_test(test_great_circle),
		cmocka_unit_test(test_inv3),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
