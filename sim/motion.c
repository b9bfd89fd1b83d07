/*
 * Ground truth: every object's position and velocity as a pure function of
 * simulated time. Routes are followed along great circles; ballistic
 * missiles are flown once at load time as point masses under
 * inverse-square gravity and then read back from the stored trajectory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trackfuse/geo.h"
#include "trackfuse/log.h"
#include "sim.h"

#define MOTION_SUBSTEPS		5	/* RK4 steps per truth step */
#define MOTION_MAX_FLIGHT_S	3600.0
#define MOTION_PITCH_MIN	5.0
#define MOTION_PITCH_MAX	88.0
#define MOTION_SOLVE_STEP_S	0.5	/* coarser sampling while aiming */

/* Gravity plus thrust (along dir, while t < boost_s) at position r. */
static void
motion_bm_accel(const struct sim_ballistic *b, const double dir[3], double t,
    const double r[3], double a[3])
{
	double	rn, k;
	int	i;

	rn = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
	k = -GEO_GM / (rn * rn * rn);
	for (i = 0; i < 3; i++) {
		a[i] = k * r[i];
		if (t < b->boost_s)
			a[i] += b->boost_accel_mps2 * dir[i];
	}
}

/* One classic Runge-Kutta step of the state s (r, v) over h seconds. */
static void
motion_bm_rk4(const struct sim_ballistic *b, const double dir[3], double t,
    double h, double s[6])
{
	double	k[4][6], tmp[6], w[4] = { 0.0, 0.5, 0.5, 1.0 };
	int	i, j;

	for (j = 0; j < 4; j++) {
		for (i = 0; i < 6; i++)
			tmp[i] = s[i] + (j ? w[j] * h * k[j - 1][i] : 0.0);
		k[j][0] = tmp[3];
		k[j][1] = tmp[4];
		k[j][2] = tmp[5];
		motion_bm_accel(b, dir, t + w[j] * h, tmp, &k[j][3]);
	}
	for (i = 0; i < 6; i++)
		s[i] += h / 6.0 * (k[0][i] + 2.0 * k[1][i] + 2.0 * k[2][i] +
		    k[3][i]);
}

/* Thrust direction: pitched up from the launch azimuth toward the target. */
static void
motion_bm_dir(const struct sim_ballistic *b, double pitch, double dir[3])
{
	double	az, enu[3];

	az = geo_bearing(b->launch_lat, b->launch_lon, b->target_lat,
	    b->target_lon) * GEO_DEG;
	enu[0] = cos(pitch * GEO_DEG) * sin(az);
	enu[1] = cos(pitch * GEO_DEG) * cos(az);
	enu[2] = sin(pitch * GEO_DEG);
	geo_enu_to_ecef_vec(b->launch_lat, b->launch_lon, enu, dir);
}

/*
 * Fly the missile at pitch (deg), sampling every step_s from launch until
 * the sample after impact. When out is not NULL it receives a malloc'd
 * array of samples (the caller frees it). Returns the sample count.
 */
size_t
motion_bm_fly(const struct sim_ballistic *b, double pitch, double step_s,
    double (**out)[6], double *apogee, double *ilat, double *ilon)
{
	double	(*v)[6] = NULL, s[6], dir[3], h, t = 0.0, lat, lon, alt;
	double	prev_alt = 0.0, prev[6], f, imp[3];
	size_t	n = 0, cap = 0;
	int	i;

	motion_bm_dir(b, pitch, dir);
	geo_lla_to_ecef(b->launch_lat, b->launch_lon, 0.0, s);
	s[3] = s[4] = s[5] = 0.0;
	memcpy(prev, s, sizeof(prev));
	h = step_s / MOTION_SUBSTEPS;
	*apogee = 0.0;
	for (;;) {
		if (out != NULL && n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((v = reallocarray(v, cap, sizeof(*v))) == NULL)
				abort();
		}
		if (out != NULL)
			memcpy(v[n], s, sizeof(s));
		n++;
		geo_ecef_to_lla(s, &lat, &lon, &alt);
		if (alt > *apogee)
			*apogee = alt;
		if ((n > 1 && alt <= 0.0) || t > MOTION_MAX_FLIGHT_S)
			break;
		prev_alt = alt;
		memcpy(prev, s, sizeof(prev));
		for (i = 0; i < MOTION_SUBSTEPS; i++, t += h)
			motion_bm_rk4(b, dir, t, h, s);
	}
	/* Impact between the last two samples, where the height crosses 0. */
	f = n > 1 ? prev_alt / (prev_alt - alt) : 0.0;
	for (i = 0; i < 3; i++)
		imp[i] = n > 1 ? prev[i] + f * (s[i] - prev[i]) : s[i];
	if (out != NULL)
		*out = v;
	geo_ecef_to_lla(imp, ilat, ilon, &alt);
	return n;
}

/* Ground range from the launch point for a flight at pitch. */
static double
motion_bm_range(const struct sim_ballistic *b, double pitch, double step_s)
{
	double	ap, lat, lon;

	motion_bm_fly(b, pitch, step_s, NULL, &ap, &lat, &lon);
	return geo_surface_dist(b->launch_lat, b->launch_lon, lat, lon);
}

/*
 * Guidance: find the pitch whose impact range equals the target's. The
 * range curve rises to a maximum and falls again; the default is the
 * lower, flatter branch (shorter flight), "lofted" takes the upper one.
 */
static double
motion_bm_solve(const struct sim_ballistic *b, double step_s)
{
	double	want, best = MOTION_PITCH_MIN, bestr = -1.0, lo, hi, mid, r;
	double	p;
	int	i, rising;

	want = geo_surface_dist(b->launch_lat, b->launch_lon, b->target_lat,
	    b->target_lon);
	for (p = MOTION_PITCH_MIN; p <= MOTION_PITCH_MAX; p += 2.0)
		if ((r = motion_bm_range(b, p, step_s)) > bestr) {
			bestr = r;
			best = p;
		}
	if (want >= bestr)
		return best;
	rising = !b->lofted;
	lo = rising ? MOTION_PITCH_MIN : best;
	hi = rising ? best : MOTION_PITCH_MAX;
	if (rising && motion_bm_range(b, lo, step_s) >= want)
		return lo;
	if (!rising && motion_bm_range(b, hi, step_s) >= want)
		return hi;
	for (i = 0; i < 30; i++) {
		mid = 0.5 * (lo + hi);
		r = motion_bm_range(b, mid, step_s);
		if ((r < want) == rising)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

/* Precompute a ballistic missile's trajectory. */
static int
motion_init_bm(struct sim_scenario *sc, struct motion_obj *mo)
{
	const struct sim_ballistic	*b = mo->cfg->motion.ballistic;
	double				 step_s = sc->step_ms / 1000.0;
	struct sim_ballistic		 aim = *b;
	double				 ap, lat, lon, a0, a1;
	int				 k;

	/*
	 * Aim in the great-circle plane on a sphere; the ellipsoid's normal
	 * bends the flight a little, so shift the aim point by the miss and
	 * solve again.
	 */
	for (k = 0; k < 3; k++) {
		mo->bm_pitch_deg = motion_bm_solve(&aim, MOTION_SOLVE_STEP_S);
		motion_bm_fly(&aim, mo->bm_pitch_deg, MOTION_SOLVE_STEP_S, NULL,
		    &ap, &lat, &lon);
		aim.target_lat += b->target_lat - lat;
		aim.target_lon += b->target_lon - lon;
	}
	mo->bm_n = motion_bm_fly(&aim, mo->bm_pitch_deg, step_s, &mo->bm,
	    &mo->bm_apogee_m, &mo->bm_impact_lat, &mo->bm_impact_lon);
	/* The last sample is below ground: the object ends between the two. */
	mo->end_s = b->launch_s + (double)(mo->bm_n - 1) * step_s;
	if (mo->bm_n >= 2) {
		geo_ecef_to_lla(mo->bm[mo->bm_n - 2], &lat, &lon, &a0);
		geo_ecef_to_lla(mo->bm[mo->bm_n - 1], &lat, &lon, &a1);
		mo->end_s = b->launch_s + ((double)mo->bm_n - 2.0 +
		    a0 / (a0 - a1)) * step_s;
	}
	log_debug("motion: ballistic id=%s pitch=%.2f apogee_m=%.0f "
	    "impact=%.4f,%.4f miss_m=%.0f flight_s=%.1f", mo->cfg->id,
	    mo->bm_pitch_deg, mo->bm_apogee_m, mo->bm_impact_lat,
	    mo->bm_impact_lon, geo_surface_dist(mo->bm_impact_lat,
	    mo->bm_impact_lon, b->target_lat, b->target_lon),
	    mo->end_s - b->launch_s);
	return 0;
}

/* Precompute the leg start times and lengths of a route. */
static int
motion_init_route(struct motion_obj *mo)
{
	const struct sim_motion_cfg	*m = &mo->cfg->motion;
	unsigned			 i, n = m->route_count;
	double				 t = m->start_s;

	mo->leg_t0 = calloc(n, sizeof(double));
	mo->leg_len = calloc(n, sizeof(double));
	mo->leg_brg = calloc(n, sizeof(double));
	if (mo->leg_t0 == NULL || mo->leg_len == NULL || mo->leg_brg == NULL)
		return -1;
	for (i = 0; i + 1 < n; i++) {
		mo->leg_t0[i] = t;
		mo->leg_len[i] = geo_surface_dist(m->route[i].lat,
		    m->route[i].lon, m->route[i + 1].lat, m->route[i + 1].lon);
		mo->leg_brg[i] = geo_bearing(m->route[i].lat, m->route[i].lon,
		    m->route[i + 1].lat, m->route[i + 1].lon);
		t += mo->leg_len[i] / m->route[i].speed_mps;
	}
	mo->leg_t0[n - 1] = t;
	mo->end_s = t;
	return 0;
}

/* Resolve a formation member's leader (which must itself not follow). */
static int
motion_init_follow(struct sim_scenario *sc, unsigned i, char *err,
    size_t errlen)
{
	struct motion_obj	*mo = &sc->obj[i];
	unsigned		 j, k;

	/*
	 * Look just before i first: generated formations list the leader
	 * right before its wingmen, and a scan of 100,000 objects per
	 * wingman would be quadratic.
	 */
	for (k = 0; k < sc->nobj + 8; k++) {
		j = k < 8 ? (i + sc->nobj - 1 - k) % sc->nobj : k - 8;
		if (strcmp(sc->cfg->objects[j].id,
		    mo->cfg->motion.follow->leader) != 0)
			continue;
		if (j == i || sc->cfg->objects[j].motion.follow != NULL)
			break;
		mo->leader = (int)j;
		return 0;
	}
	snprintf(err, errlen, "%s: object %s: leader %s missing or itself a "
	    "follower", sc->path, mo->cfg->id, mo->cfg->motion.follow->leader);
	return -1;
}

/* Precompute every object's motion; -1 with err on failure. */
int
motion_init(struct sim_scenario *sc, char *err, size_t errlen)
{
	unsigned		 i;
	struct motion_obj	*mo;

	sc->nobj = sc->cfg->objects_count;
	if ((sc->obj = calloc(sc->nobj + 1, sizeof(*sc->obj))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", sc->path);
		return -1;
	}
	for (i = 0; i < sc->nobj; i++) {
		mo = &sc->obj[i];
		mo->cfg = &sc->cfg->objects[i];
		mo->leader = -1;
		if (mo->cfg->motion.route != NULL &&
		    motion_init_route(mo) == -1) {
			snprintf(err, errlen, "%s: out of memory", sc->path);
			return -1;
		}
		if (mo->cfg->motion.ballistic != NULL)
			motion_init_bm(sc, mo);
		if (mo->cfg->motion.follow != NULL &&
		    motion_init_follow(sc, i, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* Free what motion_init() allocated. */
void
motion_free(struct sim_scenario *sc)
{
	unsigned	i;

	if (sc->obj == NULL)
		return;
	for (i = 0; i < sc->nobj; i++) {
		free(sc->obj[i].leg_t0);
		free(sc->obj[i].leg_len);
		free(sc->obj[i].leg_brg);
		free(sc->obj[i].bm);
	}
	free(sc->obj);
	sc->obj = NULL;
}

/* Fill the ECEF and geodetic halves of st from whichever is set. */
static void
motion_from_lla(struct sim_state *st)
{
	geo_lla_to_ecef(st->lat, st->lon, st->alt, st->ecef);
	geo_enu_to_ecef_vec(st->lat, st->lon, st->venu, st->vecef);
}

/* Ditto, from ECEF position and velocity. */
static void
motion_from_ecef(struct sim_state *st)
{
	geo_ecef_to_lla(st->ecef, &st->lat, &st->lon, &st->alt);
	geo_ecef_to_enu_vec(st->lat, st->lon, st->vecef, st->venu);
}

/* Position on a route at t seconds. */
static int
motion_route_state(const struct motion_obj *mo, double t, struct sim_state *st)
{
	const struct sim_motion_cfg	*m = &mo->cfg->motion;
	const struct sim_waypoint	*a, *b;
	unsigned			 i;
	double				 d, brg, frac, dt;

	if (t < m->start_s || t > mo->end_s)
		return 0;
	for (i = 0; i + 2 < m->route_count && t >= mo->leg_t0[i + 1]; i++)
		;
	a = &m->route[i];
	b = &m->route[i + 1];
	d = a->speed_mps * (t - mo->leg_t0[i]);
	if (d > mo->leg_len[i])
		d = mo->leg_len[i];
	frac = mo->leg_len[i] > 0.0 ? d / mo->leg_len[i] : 1.0;
	brg = mo->leg_brg[i];
	geo_destination(a->lat, a->lon, brg, d, &st->lat, &st->lon);
	st->alt = a->alt_m + frac * (b->alt_m - a->alt_m);
	/* Heading along the great circle here; at the very end, its final value. */
	if (mo->leg_len[i] - d > 10.0)
		brg = geo_bearing(st->lat, st->lon, b->lat, b->lon);
	else
		brg = fmod(geo_bearing(b->lat, b->lon, a->lat, a->lon) + 180.0,
		    360.0);
	st->venu[0] = a->speed_mps * sin(brg * GEO_DEG);
	st->venu[1] = a->speed_mps * cos(brg * GEO_DEG);
	dt = mo->leg_len[i] / a->speed_mps;
	st->venu[2] = dt > 0.0 ? (b->alt_m - a->alt_m) / dt : 0.0;
	st->boost = 0;
	motion_from_lla(st);
	return 1;
}

/* Ballistic missile state at t seconds: Hermite between stored samples. */
static int
motion_bm_state(const struct motion_obj *mo, double step_s, double t,
    struct sim_state *st)
{
	const struct sim_ballistic	*b = mo->cfg->motion.ballistic;
	double				 tau, s, h00, h10, h01, h11;
	double				 d00, d10, d01, d11;
	const double			*p, *q;
	size_t				 k;
	int				 i;

	if (t < b->launch_s || t > mo->end_s || mo->bm_n < 2)
		return 0;
	tau = (t - b->launch_s) / step_s;
	k = (size_t)floor(tau);
	if (k >= mo->bm_n - 1)
		k = mo->bm_n - 2;
	s = tau - (double)k;
	p = mo->bm[k];
	q = mo->bm[k + 1];
	h00 = 2 * s * s * s - 3 * s * s + 1;
	h10 = s * s * s - 2 * s * s + s;
	h01 = -2 * s * s * s + 3 * s * s;
	h11 = s * s * s - s * s;
	d00 = 6 * s * s - 6 * s;
	d10 = 3 * s * s - 4 * s + 1;
	d01 = -6 * s * s + 6 * s;
	d11 = 3 * s * s - 2 * s;
	for (i = 0; i < 3; i++) {
		st->ecef[i] = h00 * p[i] + h10 * step_s * p[i + 3] +
		    h01 * q[i] + h11 * step_s * q[i + 3];
		st->vecef[i] = (d00 * p[i] + d01 * q[i]) / step_s +
		    d10 * p[i + 3] + d11 * q[i + 3];
	}
	st->boost = (t - b->launch_s) < b->boost_s;
	motion_from_ecef(st);
	return 1;
}

/* A formation member: the leader's state offset in the leader's frame. */
static int
motion_follow_state(const struct sim_scenario *sc, const struct motion_obj *mo,
    int64_t t_ms, struct sim_state *st)
{
	const struct sim_follow	*f = mo->cfg->motion.follow;
	struct sim_state	 ld;
	double			 h, off[3], d[3];
	int			 i;

	if (!motion_state(sc, (unsigned)mo->leader, t_ms, &ld))
		return 0;
	h = atan2(ld.venu[0], ld.venu[1]);
	off[0] = f->right_m * cos(h) - f->back_m * sin(h);
	off[1] = -f->right_m * sin(h) - f->back_m * cos(h);
	off[2] = f->up_m;
	geo_enu_to_ecef_vec(ld.lat, ld.lon, off, d);
	for (i = 0; i < 3; i++) {
		st->ecef[i] = ld.ecef[i] + d[i];
		st->vecef[i] = ld.vecef[i];
	}
	st->boost = 0;
	motion_from_ecef(st);
	return 1;
}

/* Truth of object i at t_ms of simulated time; 0 when it does not exist. */
int
motion_state(const struct sim_scenario *sc, unsigned i, int64_t t_ms,
    struct sim_state *st)
{
	const struct motion_obj	*mo = &sc->obj[i];
	double			 t = (double)t_ms / 1000.0;

	memset(st, 0, sizeof(*st));
	if (mo->cfg->motion.route != NULL)
		return motion_route_state(mo, t, st);
	if (mo->cfg->motion.ballistic != NULL)
		return motion_bm_state(mo, sc->step_ms / 1000.0, t, st);
	if (mo->cfg->motion.follow != NULL)
		return motion_follow_state(sc, mo, t_ms, st);
	return 0;
}
