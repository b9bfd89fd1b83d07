/*
 * WGS84 geodesy for the correlation core and the simulators: geodetic <->
 * earth-centred earth-fixed (ECEF) coordinates, the local east-north-up
 * (ENU) frame, rotation of vectors and 6x6 state covariances between the
 * two, and great-circle helpers on a sphere for simulated routes.
 *
 * Everything here is pure arithmetic: deterministic for a given input.
 */
#include <math.h>

#include "trackfuse/geo.h"
#include "trackfuse/track.h"

#define GEO_B		(GEO_A * (1.0 - GEO_F))
#define GEO_E2		(GEO_F * (2.0 - GEO_F))
#define GEO_EP2		(GEO_E2 / ((1.0 - GEO_F) * (1.0 - GEO_F)))
#define GEO_ITER_MAX	16
#define GEO_RAD		(180.0 / 3.14159265358979323846)	/* 1 / GEO_DEG */
/*
 * Bowring's iteration converges quadratically (each change of beta is
 * about 5e-3 times the square of the one before): once a change is below
 * this the latitude computed from it is exact to rounding.
 */
#define GEO_TAN_TOL	1e-11

/* Geodetic lat, lon (deg) and height (m) to ECEF (m). */
void
geo_lla_to_ecef(double lat, double lon, double alt, double out[3])
{
	double	sl = sin(lat * GEO_DEG), cl = cos(lat * GEO_DEG);
	double	n = GEO_A / sqrt(1.0 - GEO_E2 * sl * sl);

	out[0] = (n + alt) * cl * cos(lon * GEO_DEG);
	out[1] = (n + alt) * cl * sin(lon * GEO_DEG);
	out[2] = (n * (1.0 - GEO_E2) + alt) * sl;
}

/*
 * ECEF to geodetic by Bowring's iteration on the parametric latitude,
 * with angles: the fallback of geo_ecef_to_lla_enu for points on or near
 * the polar axis and deep inside the earth. It converges to below a
 * micrometre in two or three rounds for every point from the deep sea to
 * beyond geostationary orbit, and the height formula used stays well
 * conditioned at the poles (no division by cos(lat)).
 */
static void
geo_ecef_to_lla_trig(const double x[3], double *lat, double *lon,
    double *alt)
{
	double	p = hypot(x[0], x[1]), z = x[2];
	double	beta, nbeta, phi = 0.0, sb, cb, sp;
	int	i;

	beta = atan2(z, (1.0 - GEO_F) * p);
	for (i = 0; i < GEO_ITER_MAX; i++) {
		sb = sin(beta);
		cb = cos(beta);
		phi = atan2(z + GEO_EP2 * GEO_B * sb * sb * sb,
		    p - GEO_E2 * GEO_A * cb * cb * cb);
		nbeta = atan2((1.0 - GEO_F) * sin(phi), cos(phi));
		if (fabs(nbeta - beta) < 1e-15)
			break;
		beta = nbeta;
	}
	sp = sin(phi);
	*lat = phi / GEO_DEG;
	*lon = atan2(x[1], x[0]) / GEO_DEG;
	*alt = p * cos(phi) + z * sp - GEO_A * sqrt(1.0 - GEO_E2 * sp * sp);
}

/*
 * ECEF to geodetic, and the ENU basis there (rows east, north, up, as
 * geo_enu_basis) when r is not NULL. The same Bowring iteration as
 * geo_ecef_to_lla_trig, carried on tan(beta) instead of angles: sin and
 * cos of beta and of the latitude are ratios of the iterates, so the loop
 * takes no sine, cosine or arctangent, the basis none either, and the
 * whole costs two arctangents. Near the polar axis (where the tangent
 * blows up), deep inside the earth and far beyond the moon (where the
 * squares overflow) the angle form takes over. Outside the loop, one
 * reciprocal of p and one of the hypotenuse make the divisions
 * multiplications (results move by an ulp or so).
 */
void
geo_ecef_to_lla_enu(const double x[3], double *lat, double *lon,
    double *alt, double r[3][3])
{
	double	p2 = x[0] * x[0] + x[1] * x[1], p = sqrt(p2), z = x[2];
	double	t, nt, cb, sb, num = 0.0, den = 1.0, h, sp, cp, ip;
	int	i;

	if (!(p > 1e-6 * fabs(z)) || !(p2 + z * z > 1e10) ||
	    !(p2 + z * z < 1e30))
		goto trig;
	t = z / ((1.0 - GEO_F) * p);
	for (i = 0; i < GEO_ITER_MAX; i++) {
		cb = 1.0 / sqrt(1.0 + t * t);
		sb = t * cb;
		num = z + GEO_EP2 * GEO_B * sb * sb * sb;
		den = p - GEO_E2 * GEO_A * cb * cb * cb;
		if (!(den > 0.0))
			goto trig;
		nt = (1.0 - GEO_F) * num / den;
		if (fabs(nt - t) * cb * cb < GEO_TAN_TOL)
			break;
		t = nt;
	}
	h = 1.0 / sqrt(num * num + den * den);
	sp = num * h;
	cp = den * h;
	*lat = atan2(num, den) * GEO_RAD;
	*lon = atan2(x[1], x[0]) * GEO_RAD;
	*alt = p * cp + z * sp - GEO_A * sqrt(1.0 - GEO_E2 * sp * sp);
	if (r == NULL)
		return;
	ip = 1.0 / p;
	r[0][0] = -x[1] * ip;
	r[0][1] = x[0] * ip;
	r[0][2] = 0.0;
	r[1][0] = -sp * r[0][1];
	r[1][1] = sp * r[0][0];
	r[1][2] = cp;
	r[2][0] = cp * r[0][1];
	r[2][1] = -cp * r[0][0];
	r[2][2] = sp;
	return;
trig:
	geo_ecef_to_lla_trig(x, lat, lon, alt);
	if (r != NULL)
		geo_enu_basis(*lat, *lon, r);
}

/* ECEF to geodetic lat, lon (deg) and height (m): geo_ecef_to_lla_enu. */
void
geo_ecef_to_lla(const double x[3], double *lat, double *lon, double *alt)
{
	geo_ecef_to_lla_enu(x, lat, lon, alt, NULL);
}

/* Rows are the east, north, up unit vectors (in ECEF) at lat, lon (deg). */
void
geo_enu_basis(double lat, double lon, double r[3][3])
{
	geo_enu_basis_sc(sin(lat * GEO_DEG), cos(lat * GEO_DEG),
	    sin(lon * GEO_DEG), cos(lon * GEO_DEG), r);
}

/* geo_enu_basis from the sine and cosine of the latitude and longitude. */
void
geo_enu_basis_sc(double sl, double cl, double so, double co, double r[3][3])
{
	r[0][0] = -so;
	r[0][1] = co;
	r[0][2] = 0.0;
	r[1][0] = -sl * co;
	r[1][1] = -sl * so;
	r[1][2] = cl;
	r[2][0] = cl * co;
	r[2][1] = cl * so;
	r[2][2] = sl;
}

/* ENU vector at lat, lon to ECEF: out = R^T v. */
void
geo_enu_to_ecef_vec(double lat, double lon, const double v[3], double out[3])
{
	double	r[3][3];
	int	i;

	geo_enu_basis(lat, lon, r);
	for (i = 0; i < 3; i++)
		out[i] = r[0][i] * v[0] + r[1][i] * v[1] + r[2][i] * v[2];
}

/* ECEF vector to ENU at lat, lon: out = R v. */
void
geo_ecef_to_enu_vec(double lat, double lon, const double v[3], double out[3])
{
	double	r[3][3];
	int	i;

	geo_enu_basis(lat, lon, r);
	for (i = 0; i < 3; i++)
		out[i] = r[i][0] * v[0] + r[i][1] * v[1] + r[i][2] * v[2];
}

/*
 * out = T P T^T with T = blockdiag(m, m): position and velocity rotate by
 * the same 3x3 matrix m. out may not alias p.
 */
static void
geo_cov_rotate(const double m[3][3], const double p[36], double out[36])
{
	double	t[6][6] = { { 0 } }, tp[6][6];
	int	i, j, k;

	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			t[i][j] = m[i][j];
			t[i + 3][j + 3] = m[i][j];
		}
	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++) {
			tp[i][j] = 0.0;
			for (k = 0; k < 6; k++)
				tp[i][j] += t[i][k] * p[k * 6 + j];
		}
	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++) {
			out[i * 6 + j] = 0.0;
			for (k = 0; k < 6; k++)
				out[i * 6 + j] += tp[i][k] * t[j][k];
		}
}

/* 6x6 covariance in ENU at lat, lon to ECEF. */
void
geo_cov_enu_to_ecef(double lat, double lon, const double p[36], double out[36])
{
	double	r[3][3], rt[3][3];
	int	i, j;

	geo_enu_basis(lat, lon, r);
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			rt[i][j] = r[j][i];
	geo_cov_rotate(rt, p, out);
}

/* 6x6 covariance in ECEF to ENU at lat, lon. */
void
geo_cov_ecef_to_enu(double lat, double lon, const double p[36], double out[36])
{
	double	r[3][3];

	geo_enu_basis(lat, lon, r);
	geo_cov_rotate(r, p, out);
}

/*
 * Where each element of a full 6x6 lives in the 21-value upper triangle
 * (tf_cov_idx, as a table: the unpack and pack loops run without index
 * arithmetic).
 */
static const unsigned char geo_tri[36] = {
	0, 1, 2, 3, 4, 5,
	1, 6, 7, 8, 9, 10,
	2, 7, 11, 12, 13, 14,
	3, 8, 12, 15, 16, 17,
	4, 9, 13, 16, 18, 19,
	5, 10, 14, 17, 19, 20
};

/* Row major position of each upper-triangle element, and its mirror. */
static const unsigned char geo_upper[TF_COV_N] = {
	0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 14, 15, 16, 17, 21, 22, 23,
	28, 29, 35
};
static const unsigned char geo_lower[TF_COV_N] = {
	0, 6, 12, 18, 24, 30, 7, 13, 19, 25, 31, 14, 20, 26, 32, 21, 27, 33,
	28, 34, 35
};

/*
 * Expand the 21-value upper triangle into a full symmetric 6x6. Unrolled
 * in full, every index is a constant: a load and a store per element.
 */
void
geo_cov_unpack(const double tri[TF_COV_N], double full[36])
{
	int	k;

#pragma GCC unroll 36
	for (k = 0; k < 36; k++)
		full[k] = tri[geo_tri[k]];
}

/*
 * Pack a 6x6 into its upper triangle. Off-diagonal pairs are averaged so
 * that round-off asymmetry from a rotation does not leak into the result.
 */
void
geo_cov_pack(const double full[36], double tri[TF_COV_N])
{
	int	k;

	for (k = 0; k < TF_COV_N; k++)
		tri[k] = 0.5 * (full[geo_upper[k]] + full[geo_lower[k]]);
}

/* Euclidean distance between two ECEF points, m. */
double
geo_dist(const double a[3], const double b[3])
{
	double	dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];

	return sqrt(dx * dx + dy * dy + dz * dz);
}

/* Wrap a longitude into [-180, 180). */
static double
geo_wrap_lon(double lon)
{
	lon = fmod(lon + 180.0, 360.0);
	if (lon < 0.0)
		lon += 360.0;
	return lon - 180.0;
}

/* Point reached from lat, lon (deg) on bearing brg (deg) after dist m. */
void
geo_destination(double lat, double lon, double brg, double dist,
    double *lat2, double *lon2)
{
	double	p1 = lat * GEO_DEG, b = brg * GEO_DEG, d = dist / GEO_A;
	double	p2;

	p2 = asin(sin(p1) * cos(d) + cos(p1) * sin(d) * cos(b));
	*lat2 = p2 / GEO_DEG;
	*lon2 = geo_wrap_lon(lon + atan2(sin(b) * sin(d) * cos(p1),
	    cos(d) - sin(p1) * sin(p2)) / GEO_DEG);
}

/* Initial great-circle bearing from point 1 to point 2, deg in [0, 360). */
double
geo_bearing(double lat1, double lon1, double lat2, double lon2)
{
	double	p1 = lat1 * GEO_DEG, p2 = lat2 * GEO_DEG;
	double	dl = (lon2 - lon1) * GEO_DEG, b;

	b = atan2(sin(dl) * cos(p2),
	    cos(p1) * sin(p2) - sin(p1) * cos(p2) * cos(dl)) / GEO_DEG;
	return b < 0.0 ? b + 360.0 : b;
}

/* Great-circle (haversine) distance on a sphere of radius GEO_A, m. */
double
geo_surface_dist(double lat1, double lon1, double lat2, double lon2)
{
	double	dp = (lat2 - lat1) * GEO_DEG, dl = (lon2 - lon1) * GEO_DEG;
	double	h;

	h = sin(dp / 2) * sin(dp / 2) +
	    cos(lat1 * GEO_DEG) * cos(lat2 * GEO_DEG) * sin(dl / 2) * sin(dl / 2);
	if (h > 1.0)
		h = 1.0;
	return 2.0 * GEO_A * asin(sqrt(h));
}

/*
 * Invert a positive definite 3x3 matrix (row major); -1 when it is not.
 * The adjugate is scaled by one reciprocal of the determinant, not nine
 * divisions, unless that reciprocal overflows (a subnormal determinant).
 */
int
geo_inv3(const double m[9], double r[9])
{
	double	det, id;
	int	i;

	r[0] = m[4] * m[8] - m[5] * m[7];
	r[1] = m[2] * m[7] - m[1] * m[8];
	r[2] = m[1] * m[5] - m[2] * m[4];
	r[3] = m[5] * m[6] - m[3] * m[8];
	r[4] = m[0] * m[8] - m[2] * m[6];
	r[5] = m[2] * m[3] - m[0] * m[5];
	r[6] = m[3] * m[7] - m[4] * m[6];
	r[7] = m[1] * m[6] - m[0] * m[7];
	r[8] = m[0] * m[4] - m[1] * m[3];
	det = m[0] * r[0] + m[1] * r[3] + m[2] * r[6];
	if (!(det > 0.0) || !isfinite(det))
		return -1;
	id = 1.0 / det;
	if (isfinite(id))
		for (i = 0; i < 9; i++)
			r[i] *= id;
	else
		for (i = 0; i < 9; i++)
			r[i] /= det;
	return 0;
}
