/*
 * Sensors: coverage, detection, noisy measurement, a local Kalman tracker
 * per object, false tracks, and the reports, drops and heartbeats they
 * send. The world merges all simulated sensors into one stream ordered by
 * (due time, sensor, heartbeat before scan), so a sensor simulated alone
 * produces exactly its share of a full run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trackfuse/codec.h"
#include "trackfuse/geo.h"
#include "sim.h"

#define SENSOR_MAX_FALSE	16
#define SENSOR_IDENT_AFTER	3	/* reports before the identity is given */
#define SENSOR_KR		(4.0 / 3.0 * 6371000.0)
#define SENSOR_HB_MS		1000
#define SENSOR_CAND_MS		10000	/* candidate sampling, at least */

enum sensor_trk_state {
	SENSOR_TRK_NONE,
	SENSOR_TRK_TENTATIVE,
	SENSOR_TRK_CONFIRMED
};

/* A local track of one sensor (for a real object or a false one). */
struct sensor_trk {
	enum sensor_trk_state	 state;
	uint32_t		 ltn;
	struct sensor_kf	 kf;
	double			 zprev[3];
	int64_t			 tprev_ms;
	int64_t			 tlast_ms;
	unsigned		 hits, misses, reports;
};

/* A false track: a phantom moving in a straight line for a few scans. */
struct sensor_false {
	double			pos[3], vel[3];
	int			life;
	struct sensor_trk	trk;
};

struct sensor_rt {
	const struct sim_sensor_cfg	*cfg;
	struct sensor_rng		 rng;	/* detection and noise */
	struct sensor_rng		 frng;	/* false tracks */
	double				 ecef[3];
	unsigned			*cand;	/* objects it may ever cover */
	unsigned			 ncand;
	struct sensor_trk		*trk;	/* one per candidate */
	struct sensor_false		 fl[SENSOR_MAX_FALSE];
	unsigned			 nfl;
	uint32_t			 next_ltn;
	int64_t				 next_scan_ms;
	int64_t				 next_hb_ms;
	struct sensor_stats		 st;
};

struct sensor_world {
	const struct sim_scenario	*sc;
	struct sensor_rt		*s;
	unsigned			 n;
	uint64_t			*cover;	/* per object: candidate sensors */
	int64_t				 now_ms;
	int64_t				 next_truth_ms;
};

/* Where a scan's frames go. */
struct sensor_out {
	struct sensor_world	*w;
	unsigned		 idx;
	int64_t			 due_ms;
	sensor_emit_fn		 emit;
	void			*arg;
};

/* splitmix64: seeds xoshiro and mixes names into seeds. */
static uint64_t
sensor_splitmix(uint64_t *x)
{
	uint64_t	z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* FNV-1a 64 of a string: a stable per-name stream selector. */
uint64_t
sensor_hash(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Seed a stream from the run's seed and the stream's name. */
void
sensor_rng_seed(struct sensor_rng *r, uint64_t seed, const char *name)
{
	uint64_t	x = seed;
	int		i;

	x = sensor_splitmix(&x) ^ sensor_hash(name);
	for (i = 0; i < 4; i++)
		r->s[i] = sensor_splitmix(&x);
}

/* xoshiro256** next output. */
uint64_t
sensor_rng_next(struct sensor_rng *r)
{
	uint64_t	*s = r->s, res, t;

	res = s[1] * 5;
	res = ((res << 7) | (res >> 57)) * 9;
	t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return res;
}

/* Uniform in [0, 1) with 53 bits. */
double
sensor_rng_uniform(struct sensor_rng *r)
{
	return (double)(sensor_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal by Box-Muller (one of the pair; simple and repeatable). */
double
sensor_rng_gauss(struct sensor_rng *r)
{
	double	u1, u2;

	u1 = 1.0 - sensor_rng_uniform(r);	/* (0, 1] */
	u2 = sensor_rng_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Measurement covariance in ECEF of ENU sigmas at (lat, lon). */
void
sensor_meas_cov(double lat, double lon, double sh, double sv, double R[9])
{
	double	B[3][3], d[3] = { sh * sh, sh * sh, sv * sv };
	int	i, j, k;

	/* B's rows are e, n, u in ECEF: R = B^T diag(d) B. */
	geo_enu_basis(lat, lon, B);
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			R[i * 3 + j] = 0.0;
			for (k = 0; k < 3; k++)
				R[i * 3 + j] += B[k][i] * d[k] * B[k][j];
		}
}

/* Start a track from two positions dt seconds apart, each with noise R. */
void
sensor_kf_init(struct sensor_kf *kf, const double z1[3], const double z2[3],
    double dt, const double R[9])
{
	int	i, j;

	memset(kf, 0, sizeof(*kf));
	for (i = 0; i < 3; i++) {
		kf->x[i] = z2[i];
		kf->x[i + 3] = (z2[i] - z1[i]) / dt;
	}
	/* Position is z2, velocity the difference: cov(z2, v) = R / dt. */
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			kf->P[i * 6 + j] = R[i * 3 + j];
			kf->P[i * 6 + j + 3] = R[i * 3 + j] / dt;
			kf->P[(i + 3) * 6 + j] = R[i * 3 + j] / dt;
			kf->P[(i + 3) * 6 + j + 3] = 2.0 * R[i * 3 + j] /
			    (dt * dt);
		}
}

/* Force symmetry against rounding drift. */
static void
sensor_kf_sym(double P[36])
{
	int	i, j;

	for (i = 0; i < 6; i++)
		for (j = i + 1; j < 6; j++)
			P[i * 6 + j] = P[j * 6 + i] = 0.5 * (P[i * 6 + j] +
			    P[j * 6 + i]);
}

/*
 * Constant-velocity prediction over dt with white acceleration noise of
 * standard deviation sa per axis; with gravity, the state also falls
 * under inverse-square gravity (ballistic missiles).
 */
void
sensor_kf_predict(struct sensor_kf *kf, double dt, double sa, int gravity)
{
	double	g[3] = { 0.0, 0.0, 0.0 }, P[36], q = sa * sa, rn;
	int	i, j;

	if (gravity) {
		rn = sqrt(kf->x[0] * kf->x[0] + kf->x[1] * kf->x[1] +
		    kf->x[2] * kf->x[2]);
		for (i = 0; i < 3; i++)
			g[i] = -GEO_GM * kf->x[i] / (rn * rn * rn);
	}
	for (i = 0; i < 3; i++) {
		kf->x[i] += kf->x[i + 3] * dt + 0.5 * g[i] * dt * dt;
		kf->x[i + 3] += g[i] * dt;
	}
	memcpy(P, kf->P, sizeof(P));
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			double pp = P[i * 6 + j], pv = P[i * 6 + j + 3];
			double vp = P[(i + 3) * 6 + j];
			double vv = P[(i + 3) * 6 + j + 3];

			kf->P[i * 6 + j] = pp + dt * (pv + vp) + dt * dt * vv;
			kf->P[i * 6 + j + 3] = pv + dt * vv;
			kf->P[(i + 3) * 6 + j] = vp + dt * vv;
		}
	for (i = 0; i < 3; i++) {
		kf->P[i * 6 + i] += q * dt * dt * dt * dt / 4.0;
		kf->P[i * 6 + i + 3] += q * dt * dt * dt / 2.0;
		kf->P[(i + 3) * 6 + i] += q * dt * dt * dt / 2.0;
		kf->P[(i + 3) * 6 + i + 3] += q * dt * dt;
	}
	sensor_kf_sym(kf->P);
}

/* Position update with measurement z of covariance R (Joseph form). */
void
sensor_kf_update(struct sensor_kf *kf, const double z[3], const double R[9])
{
	double	S[9], Si[9], K[18], A[36], AP[36], P[36], y[3];
	int	i, j, k;

	for (i = 0; i < 3; i++) {
		y[i] = z[i] - kf->x[i];
		for (j = 0; j < 3; j++)
			S[i * 3 + j] = kf->P[i * 6 + j] + R[i * 3 + j];
	}
	if (geo_inv3(S, Si) == -1)
		return;
	for (i = 0; i < 6; i++)
		for (j = 0; j < 3; j++) {
			K[i * 3 + j] = 0.0;
			for (k = 0; k < 3; k++)
				K[i * 3 + j] += kf->P[i * 6 + k] * Si[k * 3 + j];
		}
	for (i = 0; i < 6; i++)
		for (j = 0; j < 3; j++)
			kf->x[i] += K[i * 3 + j] * y[j];
	/* A = I - K H, P = A P A^T + K R K^T. */
	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++)
			A[i * 6 + j] = (i == j) - (j < 3 ? K[i * 3 + j] : 0.0);
	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++) {
			AP[i * 6 + j] = 0.0;
			for (k = 0; k < 6; k++)
				AP[i * 6 + j] += A[i * 6 + k] * kf->P[k * 6 + j];
		}
	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++) {
			P[i * 6 + j] = 0.0;
			for (k = 0; k < 6; k++)
				P[i * 6 + j] += AP[i * 6 + k] * A[j * 6 + k];
			for (k = 0; k < 9; k++)
				P[i * 6 + j] += K[i * 3 + k / 3] * R[k] *
				    K[j * 3 + k % 3];
		}
	memcpy(kf->P, P, sizeof(P));
	sensor_kf_sym(kf->P);
}

/* Process noise (acceleration sigma, m/s^2) the tracker assumes per category. */
static double
sensor_accel_sigma(enum tf_category c)
{
	switch (c) {
	case TF_CAT_AIR:
		return 6.0;
	case TF_CAT_SURFACE:
		return 0.5;
	case TF_CAT_SUBSURFACE:
		return 0.2;
	case TF_CAT_BALLISTIC_MISSILE:
		return 30.0;
	case TF_CAT_SPACE:
		return 0.5;
	default:
		return 0.1;
	}
}

/* The sensor's coverage of category c (the last entry naming it), or NULL. */
static const struct sim_coverage *
sensor_coverage(const struct sim_sensor_cfg *s, enum tf_category c)
{
	const struct sim_coverage	*cv = NULL;
	unsigned			 i;

	for (i = 0; i < s->coverage_count; i++)
		if (s->coverage[i].category == c)
			cv = &s->coverage[i];
	return cv;
}

/*
 * Is an object of category c at st inside the coverage of sensor s at
 * ECEF pos? Range, then line of sight over a 4/3-Earth horizon (not for
 * space-based sensors, nor for subsurface contacts, which sonobuoys hold),
 * and SBIRS-like sensors see ballistic missiles only while their motors
 * burn.
 */
static int
sensor_covers_at(const struct sim_sensor_cfg *s, const double pos[3],
    enum tf_category c, const struct sim_state *st)
{
	const struct sim_coverage	*cv;
	double				 d, hs, ht;

	if ((cv = sensor_coverage(s, c)) == NULL)
		return 0;
	if (s->boost_only && c == TF_CAT_BALLISTIC_MISSILE && !st->boost)
		return 0;
	d = geo_dist(pos, st->ecef);
	if (cv->range_m > 0.0 && d > cv->range_m)
		return 0;
	if (s->space_based || c == TF_CAT_SUBSURFACE)
		return 1;
	hs = s->alt_m > 0.0 ? s->alt_m : 0.0;
	ht = st->alt > 0.0 ? st->alt : 0.0;
	if (c == TF_CAT_SURFACE)
		ht += 15.0;	/* a ship's own height above the water */
	return d <= sqrt(2.0 * SENSOR_KR * hs) + sqrt(2.0 * SENSOR_KR * ht);
}

/* The same, for a sensor given by its configuration alone. */
int
sensor_covers(const struct sim_sensor_cfg *s, enum tf_category c,
    const struct sim_state *st)
{
	double	pos[3];

	geo_lla_to_ecef(s->lat, s->lon, s->alt_m, pos);
	return sensor_covers_at(s, pos, c, st);
}

/* Track quality in [0, 1]: grows with age, shrinks with uncertainty. */
static float
sensor_quality(const struct sensor_rt *s, const struct sensor_trk *t)
{
	double	age, sd, ref;

	age = t->hits >= 8 ? 1.0 : t->hits / 8.0;
	sd = sqrt((t->kf.P[0] + t->kf.P[7] + t->kf.P[14]) / 3.0);
	ref = 2.0 * (s->cfg->sigma_h_m > 50.0 ? s->cfg->sigma_h_m : 50.0);
	return (float)(0.1 + 0.9 * age * ref / (ref + sd));
}

/* Emit a TrackReport of track t measured at t_ms. */
static void
sensor_report(struct sensor_out *o, struct sensor_trk *t, int64_t t_ms,
    enum tf_category cat, enum tf_identity ident)
{
	struct sensor_rt	*s = &o->w->s[o->idx];
	struct codec_report_msg	 m;
	struct tf_report	 r;
	double			 Penu[36];
	unsigned		 i;

	memset(&r, 0, sizeof(r));
	snprintf(r.sensor, sizeof(r.sensor), "%s", s->cfg->id);
	r.local_track = t->ltn;
	r.t_ns = o->w->sc->start_ns + t_ms * 1000000LL;
	geo_ecef_to_lla(t->kf.x, &r.lat_deg, &r.lon_deg, &r.alt_m);
	geo_ecef_to_enu_vec(r.lat_deg, r.lon_deg, &t->kf.x[3], r.vel);
	geo_cov_ecef_to_enu(r.lat_deg, r.lon_deg, t->kf.P, Penu);
	geo_cov_pack(Penu, r.cov);
	r.cat = cat;
	r.ident = t->reports < SENSOR_IDENT_AFTER ? TF_IDENT_PENDING : ident;
	r.quality = sensor_quality(s, t);
	snprintf(r.label.owner, sizeof(r.label.owner), "%s", s->cfg->nation);
	r.label.cls = s->cfg->classification;
	for (i = 0; i < s->cfg->releasable_to_count && i < TF_MAX_REL; i++)
		snprintf(r.label.rel[i], TF_NATION_LEN, "%s",
		    s->cfg->releasable_to[i]);
	r.label.nrel = (uint8_t)i;
	t->reports++;
	s->st.reports++;
	s->st.frames++;
	codec_report_encode(&r, &m);
	o->emit(o->arg, o->idx, o->due_ms, &m.env);
}

/* Emit a TrackDrop for local track ltn at t_ms. */
static void
sensor_drop(struct sensor_out *o, uint32_t ltn, int64_t t_ms)
{
	struct sensor_rt		*s = &o->w->s[o->idx];
	Trackfuse__V1__TrackDrop	 d = TRACKFUSE__V1__TRACK_DROP__INIT;
	Envelope			 env = TRACKFUSE__V1__ENVELOPE__INIT;

	d.sensor_id = s->cfg->id;
	d.local_track = ltn;
	d.time_ns = o->w->sc->start_ns + t_ms * 1000000LL;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP;
	env.track_drop = &d;
	s->st.drops++;
	s->st.frames++;
	o->emit(o->arg, o->idx, o->due_ms, &env);
}

/* Emit a Heartbeat at t_ms. */
static void
sensor_heartbeat(struct sensor_out *o, int64_t t_ms)
{
	struct sensor_rt		*s = &o->w->s[o->idx];
	Trackfuse__V1__Heartbeat	 h = TRACKFUSE__V1__HEARTBEAT__INIT;
	Envelope			 env = TRACKFUSE__V1__ENVELOPE__INIT;

	h.time_ns = o->w->sc->start_ns + t_ms * 1000000LL;
	h.sensor_id = s->cfg->id;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT;
	env.heartbeat = &h;
	s->st.heartbeats++;
	s->st.frames++;
	o->emit(o->arg, o->idx, o->due_ms, &env);
}

/*
 * A detection z (noise R) of track t at t_ms: the second one starts a
 * confirmed track with a new local number, later ones update it.
 * Returns 1 when the track is confirmed and should be reported.
 */
static int
sensor_trk_hit(struct sensor_rt *s, struct sensor_trk *t, const double z[3],
    const double R[9], int64_t t_ms, enum tf_category cat)
{
	double	dt;

	switch (t->state) {
	case SENSOR_TRK_NONE:
		memcpy(t->zprev, z, sizeof(t->zprev));
		t->tprev_ms = t_ms;
		t->state = SENSOR_TRK_TENTATIVE;
		return 0;
	case SENSOR_TRK_TENTATIVE:
		dt = (double)(t_ms - t->tprev_ms) / 1000.0;
		sensor_kf_init(&t->kf, t->zprev, z, dt, R);
		t->state = SENSOR_TRK_CONFIRMED;
		t->ltn = s->next_ltn++;
		t->hits = 2;
		t->reports = 0;
		break;
	case SENSOR_TRK_CONFIRMED:
		dt = (double)(t_ms - t->tlast_ms) / 1000.0;
		sensor_kf_predict(&t->kf, dt, sensor_accel_sigma(cat),
		    cat == TF_CAT_BALLISTIC_MISSILE);
		sensor_kf_update(&t->kf, z, R);
		t->hits++;
		break;
	}
	t->misses = 0;
	t->tlast_ms = t_ms;
	return 1;
}

/* A scan without a detection; drops a confirmed track after M misses. */
static void
sensor_trk_miss(struct sensor_out *o, struct sensor_trk *t, int64_t t_ms)
{
	struct sensor_rt	*s = &o->w->s[o->idx];

	if (t->state == SENSOR_TRK_TENTATIVE)
		t->state = SENSOR_TRK_NONE;
	if (t->state != SENSOR_TRK_CONFIRMED)
		return;
	if (++t->misses >= s->cfg->drop_misses) {
		sensor_drop(o, t->ltn, t_ms);
		t->state = SENSOR_TRK_NONE;
	}
}

/*
 * Line-of-sight frame of a radar looking at p: unit vectors along range,
 * azimuth (horizontal, across the line of sight) and elevation, and the
 * cross-range scales r cos(el) and r that turn angle sigmas into metres.
 */
static void
sensor_los(const struct sim_sensor_cfg *cfg, const double sens[3],
    const double p[3], double u[3][3], double scale[3])
{
	double	B[3][3], d[3], r, h;
	int	i;

	geo_enu_basis(cfg->lat, cfg->lon, B);
	for (i = 0; i < 3; i++)
		d[i] = p[i] - sens[i];
	r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
	if (!(r > 1.0))
		r = 1.0;
	for (i = 0; i < 3; i++)
		u[0][i] = d[i] / r;
	/* Azimuth direction: up x range, horizontal at the sensor. */
	u[1][0] = B[2][1] * u[0][2] - B[2][2] * u[0][1];
	u[1][1] = B[2][2] * u[0][0] - B[2][0] * u[0][2];
	u[1][2] = B[2][0] * u[0][1] - B[2][1] * u[0][0];
	h = sqrt(u[1][0] * u[1][0] + u[1][1] * u[1][1] + u[1][2] * u[1][2]);
	if (h < 1e-9)		/* straight overhead: any horizontal axis */
		memcpy(u[1], B[0], sizeof(u[1]));
	else
		for (i = 0; i < 3; i++)
			u[1][i] /= h;
	u[2][0] = u[0][1] * u[1][2] - u[0][2] * u[1][1];
	u[2][1] = u[0][2] * u[1][0] - u[0][0] * u[1][2];
	u[2][2] = u[0][0] * u[1][1] - u[0][1] * u[1][0];
	scale[0] = 1.0;
	scale[1] = r * (h < 1e-9 ? 1.0 : h);
	scale[2] = r;
}

/*
 * Radar noise of sensor cfg (at ECEF sens) measuring truth: Gaussian in
 * range, azimuth and elevation, linearised at the true position (R = J
 * diag(sr^2, sa^2, se^2) J^T), so the error ellipse is long across the
 * line of sight and the stated covariance R is honest about its
 * orientation. The noise is added to d.
 */
void
sensor_polar_noise(const struct sim_sensor_cfg *cfg, const double sens[3],
    const double truth[3], struct sensor_rng *rng, double d[3], double R[9])
{
	double	u[3][3], sc[3], sd[3];
	int	i, j, k;

	sensor_los(cfg, sens, truth, u, sc);
	sd[0] = cfg->sigma_range_m;
	sd[1] = sc[1] * cfg->sigma_az_mrad / 1000.0;
	sd[2] = sc[2] * cfg->sigma_el_mrad / 1000.0;
	for (k = 0; k < 3; k++) {
		double	n = sd[k] * sensor_rng_gauss(rng);

		for (i = 0; i < 3; i++)
			d[i] += n * u[k][i];
	}
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			R[i * 3 + j] = 0.0;
			for (k = 0; k < 3; k++)
				R[i * 3 + j] += u[k][i] * sd[k] * sd[k] *
				    u[k][j];
		}
}

/*
 * Measure a true ECEF position: registration bias plus Gaussian noise,
 * polar for radars (sigma_range_m > 0), isotropic ENU otherwise.
 */
static void
sensor_measure(struct sensor_rt *s, const double truth[3], double lat,
    double lon, double z[3], double R[9])
{
	double	enu[3], d[3];
	int	i;

	enu[0] = s->cfg->bias_east_m;
	enu[1] = s->cfg->bias_north_m;
	enu[2] = s->cfg->bias_up_m;
	if (s->cfg->sigma_range_m > 0.0) {
		geo_enu_to_ecef_vec(lat, lon, enu, d);
		sensor_polar_noise(s->cfg, s->ecef, truth, &s->rng, d, R);
	} else {
		enu[0] += s->cfg->sigma_h_m * sensor_rng_gauss(&s->rng);
		enu[1] += s->cfg->sigma_h_m * sensor_rng_gauss(&s->rng);
		enu[2] += s->cfg->sigma_v_m * sensor_rng_gauss(&s->rng);
		geo_enu_to_ecef_vec(lat, lon, enu, d);
		sensor_meas_cov(lat, lon, s->cfg->sigma_h_m, s->cfg->sigma_v_m,
		    R);
	}
	for (i = 0; i < 3; i++)
		z[i] = truth[i] + d[i];
}

/* Candidate k (object j) in one scan: detect or miss, track, report. */
static void
sensor_scan_object(struct sensor_out *o, unsigned k, int64_t t_ms)
{
	struct sensor_rt		*s = &o->w->s[o->idx];
	unsigned			 j = s->cand[k];
	const struct sim_object_cfg	*oc = &o->w->sc->cfg->objects[j];
	struct sensor_trk		*t = &s->trk[k];
	struct sim_state		 st;
	double				 z[3], R[9];
	int				 cov;

	cov = motion_state(o->w->sc, j, t_ms, &st) &&
	    sensor_covers_at(s->cfg, s->ecef, oc->category, &st);
	if (!cov || sensor_rng_uniform(&s->rng) >= s->cfg->pd) {
		sensor_trk_miss(o, t, t_ms);
		return;
	}
	sensor_measure(s, st.ecef, st.lat, st.lon, z, R);
	if (sensor_trk_hit(s, t, z, R, t_ms, oc->category))
		sensor_report(o, t, t_ms, oc->category, oc->identity);
}

/* Category of a sensor's false tracks: the first one it covers. */
static enum tf_category
sensor_false_cat(const struct sensor_rt *s)
{
	return s->cfg->coverage[0].category;
}

/* Maybe give birth to a false track somewhere in coverage. */
static void
sensor_false_birth(struct sensor_rt *s)
{
	struct sensor_false	*f;
	struct sensor_rng	*r = &s->frng;
	double			 rng, brg, lat, lon, alt, spd, hdg, enu[3];
	enum tf_category	 c = sensor_false_cat(s);

	if (sensor_rng_uniform(r) >= s->cfg->false_rate ||
	    s->nfl >= SENSOR_MAX_FALSE)
		return;
	f = &s->fl[s->nfl++];
	memset(f, 0, sizeof(*f));
	rng = s->cfg->coverage[0].range_m > 0.0 ?
	    s->cfg->coverage[0].range_m : 300000.0;
	rng *= 0.2 + 0.6 * sensor_rng_uniform(r);
	brg = 360.0 * sensor_rng_uniform(r);
	geo_destination(s->cfg->lat, s->cfg->lon, brg, rng, &lat, &lon);
	hdg = 2.0 * M_PI * sensor_rng_uniform(r);
	switch (c) {
	case TF_CAT_AIR:
		alt = 1000.0 + 10000.0 * sensor_rng_uniform(r);
		spd = 120.0 + 200.0 * sensor_rng_uniform(r);
		break;
	case TF_CAT_SUBSURFACE:
		alt = -30.0 - 100.0 * sensor_rng_uniform(r);
		spd = 2.0 + 6.0 * sensor_rng_uniform(r);
		break;
	case TF_CAT_BALLISTIC_MISSILE:
	case TF_CAT_SPACE:
		alt = 50000.0 + 100000.0 * sensor_rng_uniform(r);
		spd = 1500.0 + 1500.0 * sensor_rng_uniform(r);
		break;
	default:
		alt = 0.0;
		spd = 4.0 + 10.0 * sensor_rng_uniform(r);
		break;
	}
	enu[0] = spd * sin(hdg);
	enu[1] = spd * cos(hdg);
	enu[2] = 0.0;
	geo_lla_to_ecef(lat, lon, alt, f->pos);
	geo_enu_to_ecef_vec(lat, lon, enu, f->vel);
	f->life = 3 + (int)(4.0 * sensor_rng_uniform(r));
	s->st.false_tracks++;
}

/* Move, detect, track and retire the false tracks in one scan. */
static void
sensor_scan_false(struct sensor_out *o, int64_t t_ms)
{
	struct sensor_rt	*s = &o->w->s[o->idx];
	struct sensor_false	*f;
	double			 z[3], R[9], lat, lon, alt;
	unsigned		 i, k;
	int			 j;

	for (i = 0, k = 0; i < s->nfl; i++) {
		f = &s->fl[i];
		for (j = 0; j < 3; j++)
			f->pos[j] += f->vel[j] * s->cfg->period_ms / 1000.0;
		if (f->life > 0 && sensor_rng_uniform(&s->frng) < s->cfg->pd) {
			f->life--;
			geo_ecef_to_lla(f->pos, &lat, &lon, &alt);
			sensor_measure(s, f->pos, lat, lon, z, R);
			if (sensor_trk_hit(s, &f->trk, z, R, t_ms,
			    sensor_false_cat(s)))
				sensor_report(o, &f->trk, t_ms,
				    sensor_false_cat(s), TF_IDENT_UNKNOWN);
		} else {
			if (f->life > 0)
				f->life--;
			sensor_trk_miss(o, &f->trk, t_ms);
		}
		if (f->life <= 0 && f->trk.state == SENSOR_TRK_NONE)
			continue;	/* retired */
		if (k != i)
			s->fl[k] = *f;
		k++;
	}
	s->nfl = k;
	sensor_false_birth(s);
}

/* One scan of sensor o->idx, measured at t_ms. */
static void
sensor_scan(struct sensor_out *o, int64_t t_ms)
{
	unsigned	k;

	for (k = 0; k < o->w->s[o->idx].ncand; k++)
		sensor_scan_object(o, k, t_ms);
	sensor_scan_false(o, t_ms);
}

/*
 * Top speed of object j, m/s, plus how far its position can jump (a
 * wingman's offset swings round when the leader turns); -1 when it has
 * no useful bound (ballistic missiles).
 */
static double
sensor_obj_speed(const struct sim_scenario *sc, unsigned j, double *jump)
{
	const struct motion_obj		*mo = &sc->obj[j];
	const struct sim_motion_cfg	*m = &mo->cfg->motion;
	const struct sim_follow		*f = m->follow;
	double				 v = 0.0, vz, dt;
	unsigned			 i;

	*jump = 0.0;
	if (f != NULL && mo->leader >= 0) {
		*jump = 2.0 * (fabs(f->right_m) + fabs(f->back_m) +
		    fabs(f->up_m));
		mo = &sc->obj[mo->leader];
		m = &mo->cfg->motion;
	}
	if (m->route == NULL)
		return -1.0;
	for (i = 0; i + 1 < m->route_count; i++) {
		dt = mo->leg_len[i] / m->route[i].speed_mps;
		vz = dt > 0.0 ? fabs(m->route[i + 1].alt_m -
		    m->route[i].alt_m) / dt : 0.0;
		if (m->route[i].speed_mps + vz > v)
			v = m->route[i].speed_mps + vz;
	}
	return v;
}

/*
 * Which sensors may ever cover object j during the run: its position is
 * sampled every SENSOR_CAND_S seconds, and a sensor whose range (plus
 * what the object can fly between samples) never reaches a sample can
 * never see it, so its scans skip the object. A skipped object would only
 * have been a miss on a track that never existed: the output is the same,
 * only faster for large scenarios.
 */
static uint64_t
sensor_candidates(const struct sensor_world *w, unsigned j)
{
	const struct sim_scenario	*sc = w->sc;
	const struct sim_coverage	*cv;
	struct sim_state		 st;
	enum tf_category		 c = sc->cfg->objects[j].category;
	double				 dmin[64], v, jump, margin, step;
	double				 d;
	int64_t				 t, step_ms;
	uint64_t			 mask = 0;
	unsigned			 i, seen = 0;

	step_ms = sc->duration_ms / 100 > SENSOR_CAND_MS ?
	    sc->duration_ms / 100 : SENSOR_CAND_MS;
	step = (double)step_ms / 1000.0;
	v = sensor_obj_speed(sc, j, &jump);
	margin = 1.5 * (v + 50.0) * step + jump + 2000.0;
	for (i = 0; i < w->n; i++)
		dmin[i] = INFINITY;
	for (t = 0; v >= 0.0 && t < sc->duration_ms + step_ms; t += step_ms) {
		if (!motion_state(sc, j, t, &st))
			continue;
		seen++;
		for (i = 0; i < w->n; i++)
			if ((d = geo_dist(w->s[i].ecef, st.ecef)) < dmin[i])
				dmin[i] = d;
	}
	for (i = 0; i < w->n; i++) {
		if ((cv = sensor_coverage(w->s[i].cfg, c)) == NULL)
			continue;
		if (v < 0.0 || seen == 0 || cv->range_m <= 0.0 ||
		    dmin[i] <= cv->range_m + margin)
			mask |= 1ULL << i;
	}
	return mask;
}

/* Fill every sensor's candidate list; -1 when out of memory. */
static int
sensor_world_cand(struct sensor_world *w)
{
	struct sensor_rt	*s;
	unsigned		 i, j, nobj = w->sc->nobj;

	if ((w->cover = calloc(nobj + 1, sizeof(*w->cover))) == NULL)
		return -1;
	for (j = 0; j < nobj; j++) {
		w->cover[j] = sensor_candidates(w, j);
		for (i = 0; i < w->n; i++)
			w->s[i].ncand += (w->cover[j] >> i) & 1;
	}
	for (i = 0; i < w->n; i++) {
		s = &w->s[i];
		s->cand = calloc(s->ncand + 1, sizeof(*s->cand));
		s->trk = calloc(s->ncand + 1, sizeof(*s->trk));
		if (s->cand == NULL || s->trk == NULL)
			return -1;
		s->ncand = 0;
		for (j = 0; j < nobj; j++)
			if ((w->cover[j] >> i) & 1)
				s->cand[s->ncand++] = j;
	}
	return 0;
}

/* New world simulating the scenario sensors in sel (all when NULL). */
struct sensor_world *
sensor_world_new(const struct sim_scenario *sc, uint64_t seed, const int *sel,
    unsigned nsel)
{
	struct sensor_world	*w;
	struct sensor_rt	*s;
	char			 name[TF_ID_LEN + 16];
	unsigned		 i;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->sc = sc;
	w->n = sel != NULL ? nsel : sc->cfg->sensors_count;
	if ((w->s = calloc(w->n + 1, sizeof(*w->s))) == NULL) {
		free(w);
		return NULL;
	}
	for (i = 0; i < w->n; i++) {
		s = &w->s[i];
		s->cfg = &sc->cfg->sensors[sel != NULL ? (unsigned)sel[i] : i];
		snprintf(name, sizeof(name), "sensor/%s", s->cfg->id);
		sensor_rng_seed(&s->rng, seed, name);
		snprintf(name, sizeof(name), "false/%s", s->cfg->id);
		sensor_rng_seed(&s->frng, seed, name);
		geo_lla_to_ecef(s->cfg->lat, s->cfg->lon, s->cfg->alt_m,
		    s->ecef);
		s->next_ltn = 1;
		s->next_scan_ms = s->cfg->phase_ms;
	}
	if (sensor_world_cand(w) == -1) {
		sensor_world_free(w);
		return NULL;
	}
	return w;
}

/* Free a world. */
void
sensor_world_free(struct sensor_world *w)
{
	unsigned	i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n; i++) {
		free(w->s[i].trk);
		free(w->s[i].cand);
	}
	free(w->s);
	free(w->cover);
	free(w);
}

/* Write one truth line per existing object at t_ms. */
static void
sensor_truth(struct sensor_world *w, int64_t t_ms, FILE *f)
{
	const struct sim_object_cfg	*oc;
	struct sim_state		 st;
	unsigned			 j, i, n;

	for (j = 0; j < w->sc->nobj; j++) {
		if (!motion_state(w->sc, j, t_ms, &st))
			continue;
		oc = &w->sc->cfg->objects[j];
		fprintf(f, "{\"t_ns\":%lld,\"id\":\"%s\",\"category\":\"%s\","
		    "\"identity\":\"%s\",\"lat\":%.9g,\"lon\":%.9g,"
		    "\"alt\":%.3f,\"ve\":%.3f,\"vn\":%.3f,\"vu\":%.3f,"
		    "\"covered_by\":[",
		    (long long)(w->sc->start_ns + t_ms * 1000000LL), oc->id,
		    scenario_cat_name(oc->category),
		    scenario_ident_name(oc->identity), st.lat, st.lon, st.alt,
		    st.venu[0], st.venu[1], st.venu[2]);
		for (i = 0, n = 0; i < w->n; i++)
			if (((w->cover[j] >> i) & 1) && sensor_covers_at(
			    w->s[i].cfg, w->s[i].ecef, oc->category, &st))
				fprintf(f, "%s\"%s\"", n++ ? "," : "",
				    w->s[i].cfg->id);
		fprintf(f, "]}\n");
	}
}

/* The sensor whose next event is due first; *hb says whether a heartbeat. */
static int
sensor_world_next(const struct sensor_world *w, int64_t *due, int *hb)
{
	const struct sensor_rt	*s;
	int			 best = -1;
	unsigned		 i;
	int64_t			 d;

	for (i = 0; i < w->n; i++) {
		s = &w->s[i];
		if (best == -1 || s->next_hb_ms < *due) {
			best = (int)i;
			*due = s->next_hb_ms;
			*hb = 1;
		}
		d = s->next_scan_ms + s->cfg->latency_ms;
		if (d < *due) {
			best = (int)i;
			*due = d;
			*hb = 0;
		}
	}
	return best;
}

/*
 * Run the world up to until_ms: every frame due by then is emitted in
 * order and truth lines are written up to then. Returns 1 when done.
 */
int
sensor_world_run(struct sensor_world *w, int64_t until_ms, sensor_emit_fn emit,
    void *arg, FILE *truth)
{
	struct sensor_out	 o;
	struct sensor_rt	*s;
	int64_t			 due = 0, end = w->sc->duration_ms;
	int			 k, hb = 0;

	if (until_ms > end)
		until_ms = end;
	for (; truth != NULL && w->next_truth_ms <= until_ms;
	    w->next_truth_ms += 1000)
		sensor_truth(w, w->next_truth_ms, truth);
	while ((k = sensor_world_next(w, &due, &hb)) != -1 && due <= until_ms) {
		s = &w->s[k];
		o.w = w;
		o.idx = (unsigned)k;
		o.due_ms = due;
		o.emit = emit;
		o.arg = arg;
		if (hb) {
			sensor_heartbeat(&o, s->next_hb_ms);
			s->next_hb_ms += SENSOR_HB_MS;
		} else {
			sensor_scan(&o, s->next_scan_ms);
			s->next_scan_ms += s->cfg->period_ms;
		}
	}
	if (until_ms > w->now_ms)
		w->now_ms = until_ms;
	return w->now_ms >= end;
}

/* Simulated time reached so far, ms. */
int64_t
sensor_world_now(const struct sensor_world *w)
{
	return w->now_ms;
}

/* Number of simulated sensors. */
unsigned
sensor_world_count(const struct sensor_world *w)
{
	return w->n;
}

/* Configuration of simulated sensor i. */
const struct sim_sensor_cfg *
sensor_world_sensor(const struct sensor_world *w, unsigned i)
{
	return w->s[i].cfg;
}

/* Counters of simulated sensor i. */
const struct sensor_stats *
sensor_world_stats(const struct sensor_world *w, unsigned i)
{
	return &w->s[i].st;
}
