/* WGS84 geodesy: geodetic <-> ECEF, ENU frames, covariance rotation. */
#ifndef TRACKFUSE_GEO_H
#define TRACKFUSE_GEO_H

#define GEO_A		6378137.0		/* WGS84 semi-major axis, m */
#define GEO_F		(1.0 / 298.257223563)	/* WGS84 flattening */
#define GEO_GM		3.986004418e14		/* m^3/s^2 */
#define GEO_DEG		(3.14159265358979323846 / 180.0)

/* geo.c */
void	geo_lla_to_ecef(double, double, double, double[3]);
void	geo_ecef_to_lla(const double[3], double *, double *, double *);
/* geo_ecef_to_lla and, if not NULL, the ENU basis there (geo_enu_basis). */
void	geo_ecef_to_lla_enu(const double[3], double *, double *, double *,
	    double[3][3]);
/* Rows are the east, north, up unit vectors (in ECEF) at lat, lon (deg). */
void	geo_enu_basis(double, double, double[3][3]);
/* The same from sin lat, cos lat, sin lon, cos lon. */
void	geo_enu_basis_sc(double, double, double, double, double[3][3]);
void	geo_enu_to_ecef_vec(double, double, const double[3], double[3]);
void	geo_ecef_to_enu_vec(double, double, const double[3], double[3]);
/* 6x6 full covariance rotations between ENU at (lat, lon) and ECEF. */
void	geo_cov_enu_to_ecef(double, double, const double[36], double[36]);
void	geo_cov_ecef_to_enu(double, double, const double[36], double[36]);
void	geo_cov_unpack(const double[21], double[36]);
void	geo_cov_pack(const double[36], double[21]);
/* Invert a positive definite 3x3 matrix; -1 when it is not. */
int	geo_inv3(const double[9], double[9]);
/* Distance between two ECEF points, m. */
double	geo_dist(const double[3], const double[3]);
/* Great-circle destination: start (deg), bearing (deg), distance (m). */
void	geo_destination(double, double, double, double, double *, double *);
double	geo_bearing(double, double, double, double);
double	geo_surface_dist(double, double, double, double);

#endif
