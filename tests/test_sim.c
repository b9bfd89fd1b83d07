/*
 * test_sim: the simulators' truth, sensors and determinism, through the
 * real tfsim library (scenario.c motion.c sensor.c scale.c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "trackfuse/codec.h"
#include "trackfuse/geo.h"
#include "trackfuse/wire.h"
#include "sim.h"

/* A small scenario: a two-leg route, a follower and a 500 km missile. */
static const char test_small_yaml[] =
    "start: 2026-11-29T00:00:00Z\n"
    "duration_s: 900\n"
    "step_ms: 100\n"
    "objects:\n"
    "  - id: A\n"
    "    category: air\n"
    "    identity: friend\n"
    "    motion:\n"
    "      start_s: 10\n"
    "      route:\n"
    "        - { lat: 37.0, lon: 130.0, alt_m: 8000, speed_mps: 200 }\n"
    "        - { lat: 37.5, lon: 131.0, alt_m: 10000, speed_mps: 250 }\n"
    "        - { lat: 37.0, lon: 132.0, alt_m: 10000, speed_mps: 0 }\n"
    "  - id: W\n"
    "    category: air\n"
    "    identity: friend\n"
    "    motion:\n"
    "      follow: { leader: A, right_m: 300, back_m: 400 }\n"
    "  - id: M\n"
    "    category: ballistic-missile\n"
    "    identity: hostile\n"
    "    motion:\n"
    "      ballistic: { launch_lat: 40.0, launch_lon: 128.0, launch_s: 5,\n"
    "                   target_lat: 40.5, target_lon: 133.5,\n"
    "                   boost_s: 70, boost_accel_mps2: 40 }\n"
    "sensors:\n"
    "  - id: T-RADAR-1\n"
    "    nation: KOR\n"
    "    lat: 38.0\n"
    "    lon: 130.0\n"
    "    alt_m: 25\n"
    "    coverage:\n"
    "      - { category: air, range_m: 400000 }\n"
    "      - { category: surface, range_m: 400000 }\n"
    "      - { category: ballistic-missile, range_m: 1000000 }\n"
    "    pd: 0.9\n"
    "    sigma_h_m: 50\n"
    "    sigma_v_m: 80\n"
    "    period_ms: 2000\n"
    "    classification: secret\n"
    "    releasable_to: [USA, KOR]\n"
    "  - id: T-IR-1\n"
    "    nation: USA\n"
    "    lat: 0\n"
    "    lon: 130\n"
    "    alt_m: 35786000\n"
    "    space_based: true\n"
    "    boost_only: true\n"
    "    coverage:\n"
    "      - { category: ballistic-missile }\n"
    "    pd: 1\n"
    "    sigma_h_m: 1500\n"
    "    sigma_v_m: 2000\n"
    "    period_ms: 1000\n"
    "    classification: secret\n"
    "    releasable_to: [USA]\n";

/* Write text to a fresh temporary file; returns its malloc'd path. */
static char *
test_tmpfile(const char *text)
{
	char	*path = strdup("/tmp/test_sim.XXXXXX");
	int	 fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Load a scenario from text; fails the test on error. */
static struct sim_scenario *
test_load_text(const char *text)
{
	struct sim_scenario	*sc;
	char			 err[SIM_ERRLEN], *path;

	path = test_tmpfile(text);
	sc = scenario_load(path, err, sizeof(err));
	if (sc == NULL)
		fail_msg("scenario_load: %s", err);
	unlink(path);
	free(path);
	return sc;
}

/* Frames collected from a world run, with the sensor of each. */
struct test_frames {
	uint8_t		*buf;
	size_t		 len, cap;
	size_t		*off;		/* start of frame i */
	unsigned	*idx;
	size_t		 n, ncap;
	int64_t		 last_due;
	int		 out_of_order;
};

/* Emit callback: append the framed bytes. */
static void
test_collect(void *arg, unsigned idx, int64_t due_ms, const Envelope *env)
{
	struct test_frames	*f = arg;
	uint8_t			*b;
	size_t			 len;

	b = wire_pack_frame(env, &len);
	assert_non_null(b);
	if (f->len + len > f->cap) {
		f->cap = (f->len + len) * 2;
		f->buf = realloc(f->buf, f->cap);
		assert_non_null(f->buf);
	}
	if (f->n == f->ncap) {
		f->ncap = f->ncap ? f->ncap * 2 : 1024;
		f->off = realloc(f->off, f->ncap * sizeof(*f->off));
		f->idx = realloc(f->idx, f->ncap * sizeof(*f->idx));
		assert_true(f->off != NULL && f->idx != NULL);
	}
	if (due_ms < f->last_due)
		f->out_of_order = 1;
	f->last_due = due_ms;
	f->off[f->n] = f->len;
	f->idx[f->n++] = idx;
	memcpy(f->buf + f->len, b, len);
	f->len += len;
	free(b);
}

/* Free collected frames. */
static void
test_frames_free(struct test_frames *f)
{
	free(f->buf);
	free(f->off);
	free(f->idx);
	memset(f, 0, sizeof(*f));
}

/* Run a world of sc over [0, ms] in uneven slices, collecting frames. */
static void
test_run(const struct sim_scenario *sc, uint64_t seed, const int *sel,
    unsigned nsel, int64_t ms, struct test_frames *f)
{
	struct sensor_world	*w;
	int64_t			 t;

	memset(f, 0, sizeof(*f));
	w = sensor_world_new(sc, seed, sel, nsel);
	assert_non_null(w);
	/* Uneven slices: output must not depend on how time is advanced. */
	for (t = 0; t < ms; t += 777)
		sensor_world_run(w, t, test_collect, f, NULL);
	sensor_world_run(w, ms, test_collect, f, NULL);
	sensor_world_free(w);
}

/* Streams repeat per (seed, name), differ across names, and look normal. */
static void
test_rng(void **state)
{
	struct sensor_rng	a, b, c;
	double			sum = 0.0, sum2 = 0.0, g, u;
	int			i, same = 1, n = 200000;

	(void)state;
	sensor_rng_seed(&a, 1, "sensor/X");
	sensor_rng_seed(&b, 1, "sensor/X");
	sensor_rng_seed(&c, 1, "sensor/Y");
	for (i = 0; i < 100; i++) {
		uint64_t x = sensor_rng_next(&a);

		assert_true(x == sensor_rng_next(&b));
		if (x != sensor_rng_next(&c))
			same = 0;
	}
	assert_false(same);
	for (i = 0; i < n; i++) {
		u = sensor_rng_uniform(&a);
		assert_true(u >= 0.0 && u < 1.0);
		g = sensor_rng_gauss(&b);
		assert_true(isfinite(g));
		sum += g;
		sum2 += g * g;
	}
	/* Mean 0 and variance 1 within a few standard errors. */
	assert_true(fabs(sum / n) < 0.02);
	assert_true(fabs(sum2 / n - 1.0) < 0.02);
}

/* Routes follow great circles to their waypoints; a wingman keeps station. */
static void
test_route(void **state)
{
	struct sim_scenario	*sc = test_load_text(test_small_yaml);
	const struct motion_obj	*mo = &sc->obj[0];
	struct sim_state	 st, w;
	double			 leg1, spd, wp2[3], dd;
	int64_t			 t1;

	(void)state;
	assert_false(motion_state(sc, 0, 9999, &st));	/* not yet started */
	assert_true(motion_state(sc, 0, 10000, &st));
	assert_true(fabs(st.lat - 37.0) < 1e-9 && fabs(st.lon - 130.0) < 1e-9);
	leg1 = geo_surface_dist(37.0, 130.0, 37.5, 131.0);
	assert_true(fabs(mo->leg_t0[1] - (10.0 + leg1 / 200.0)) < 1e-6);
	/* Reaches the second waypoint at the computed time. */
	t1 = (int64_t)floor(mo->leg_t0[1] * 1000.0);
	assert_true(motion_state(sc, 0, t1, &st));
	geo_lla_to_ecef(37.5, 131.0, 10000.0, wp2);
	assert_true(geo_dist(st.ecef, wp2) < 1.0);
	/* Half way along the first leg, half the distance and half the climb. */
	assert_true(motion_state(sc, 0, 10000 + (int64_t)(leg1 / 400.0 * 1000),
	    &st));
	dd = geo_surface_dist(37.0, 130.0, st.lat, st.lon);
	assert_true(fabs(dd - leg1 / 2.0) < 1.0);
	assert_true(fabs(st.alt - 9000.0) < 1.0);
	spd = hypot(st.venu[0], st.venu[1]);
	assert_true(fabs(spd - 200.0) < 1e-6);
	/* Ends at the last waypoint. */
	assert_true(motion_state(sc, 0, (int64_t)(mo->end_s * 1000.0), &st));
	assert_true(geo_surface_dist(st.lat, st.lon, 37.0, 132.0) < 1.0);
	assert_false(motion_state(sc, 0, (int64_t)(mo->end_s * 1000.0) + 1000,
	    &st));
	/* The wingman keeps its 500 m offset and the leader's velocity. */
	assert_true(motion_state(sc, 0, 200000, &st));
	assert_true(motion_state(sc, 1, 200000, &w));
	assert_true(fabs(geo_dist(st.ecef, w.ecef) - 500.0) < 1.0);
	assert_true(fabs(w.venu[0] - st.venu[0]) < 0.5 &&
	    fabs(w.venu[1] - st.venu[1]) < 0.5);
	scenario_free(sc);
}

/* The missile obeys physics: gravity only after boost, lands on target. */
static void
test_ballistic(void **state)
{
	struct sim_scenario	*sc = test_load_text(test_small_yaml);
	const struct motion_obj	*mo = &sc->obj[2];
	struct sim_state	 a, b, st;
	double			 acc, g[3], r, range, apogee = 0.0;
	int64_t			 t, tend;
	int			 i;

	(void)state;
	range = geo_surface_dist(40.0, 128.0, mo->bm_impact_lat,
	    mo->bm_impact_lon);
	assert_true(range > 300000.0 && range < 1000000.0);
	/* Guidance: impact within 1 km of the target. */
	assert_true(geo_surface_dist(40.5, 133.5, mo->bm_impact_lat,
	    mo->bm_impact_lon) < 1000.0);
	tend = (int64_t)(mo->end_s * 1000.0);
	for (t = 5000; t <= tend; t += 1000) {
		assert_true(motion_state(sc, 2, t, &st));
		if (st.alt > apogee)
			apogee = st.alt;
	}
	/* Apogee between the atmosphere's top and an ICBM's. */
	assert_true(apogee > 20000.0 && apogee < 1500000.0);
	assert_true(fabs(apogee - mo->bm_apogee_m) < 1000.0);
	assert_false(motion_state(sc, 2, tend + 200, &st));
	assert_true(motion_state(sc, 2, tend - 100, &st) && st.alt < 1000.0);
	/* After boost the only force is gravity: finite-difference check. */
	t = 5000 + 120000;
	assert_true(motion_state(sc, 2, t, &a) && !a.boost);
	assert_true(motion_state(sc, 2, t + 100, &b));
	r = sqrt(a.ecef[0] * a.ecef[0] + a.ecef[1] * a.ecef[1] +
	    a.ecef[2] * a.ecef[2]);
	for (i = 0; i < 3; i++) {
		g[i] = -GEO_GM * a.ecef[i] / (r * r * r);
		acc = (b.vecef[i] - a.vecef[i]) / 0.1;
		assert_true(fabs(acc - g[i]) < 0.02 * 9.81);
	}
	/* During boost the thrust adds its 40 m/s^2. */
	t = 5000 + 30000;
	assert_true(motion_state(sc, 2, t, &a) && a.boost);
	assert_true(motion_state(sc, 2, t + 100, &b));
	r = sqrt(a.ecef[0] * a.ecef[0] + a.ecef[1] * a.ecef[1] +
	    a.ecef[2] * a.ecef[2]);
	acc = 0.0;
	for (i = 0; i < 3; i++) {
		double d = (b.vecef[i] - a.vecef[i]) / 0.1 +
		    GEO_GM * a.ecef[i] / (r * r * r);

		acc += d * d;
	}
	assert_true(fabs(sqrt(acc) - 40.0) < 0.5);
	scenario_free(sc);
}

/* 1 if the ENU covariance of kf at its position is PSD per the codec. */
static int
test_kf_psd(const struct sensor_kf *kf)
{
	double	lat, lon, alt, enu[36], tri[TF_COV_N];

	geo_ecef_to_lla(kf->x, &lat, &lon, &alt);
	geo_cov_ecef_to_enu(lat, lon, kf->P, enu);
	geo_cov_pack(enu, tri);
	return codec_cov_psd(tri);
}

/* The local Kalman filter converges and its covariance stays PSD. */
static void
test_kf(void **state)
{
	struct sensor_rng	rng;
	struct sensor_kf	kf;
	double			p0[3], v[3], venu[3] = { 200.0, 50.0, 0.0 };
	double			truth[3], z[3], zprev[3], R[9], e[3];
	double			err_meas = 0.0, err_kf = 0.0, var0 = 0.0, var1;
	int			k, i;

	(void)state;
	sensor_rng_seed(&rng, 7, "kf");
	geo_lla_to_ecef(37.0, 131.0, 9000.0, p0);
	geo_enu_to_ecef_vec(37.0, 131.0, venu, v);
	sensor_meas_cov(37.0, 131.0, 50.0, 80.0, R);
	for (k = 0; k < 60; k++) {
		for (i = 0; i < 3; i++)
			truth[i] = p0[i] + v[i] * 2.0 * k;
		geo_enu_to_ecef_vec(37.0, 131.0, (double[3]){
		    50.0 * sensor_rng_gauss(&rng),
		    50.0 * sensor_rng_gauss(&rng),
		    80.0 * sensor_rng_gauss(&rng) }, e);
		for (i = 0; i < 3; i++)
			z[i] = truth[i] + e[i];
		if (k == 1)
			sensor_kf_init(&kf, zprev, z, 2.0, R);
		else if (k > 1) {
			sensor_kf_predict(&kf, 2.0, 1.0, 0);
			sensor_kf_update(&kf, z, R);
		}
		memcpy(zprev, z, sizeof(z));
		if (k == 1)
			var0 = kf.P[0] + kf.P[7] + kf.P[14];
		if (k >= 1)
			assert_true(test_kf_psd(&kf));
		if (k >= 40) {
			err_meas += geo_dist(z, truth);
			err_kf += geo_dist(kf.x, truth);
		}
	}
	var1 = kf.P[0] + kf.P[7] + kf.P[14];
	/* Converged: filtered error well under raw error, covariance shrunk. */
	assert_true(err_kf < 0.7 * err_meas);
	assert_true(var1 < 0.5 * var0);
	for (i = 0; i < 3; i++)
		assert_true(fabs(kf.x[i + 3] - v[i]) < 10.0);
}

/*
 * Radar noise is polar: the stated covariance is tight along the line of
 * sight (range sigma), wide across it (range x angle sigma), and honest:
 * the mean of e^T R^-1 e over many draws is 3 (chi-square, 3 dof).
 */
static void
test_polar(void **state)
{
	struct sim_sensor_cfg	cfg;
	struct sensor_rng	rng;
	double			sens[3], tgt[3], u[3], d[3], R[9], Ri[9];
	double			r, along, cross[3], across, nees = 0.0;
	int			i, k, n = 4000;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.lat = 38.5;
	cfg.lon = 133.5;
	cfg.sigma_range_m = 20.0;
	cfg.sigma_az_mrad = 1.5;
	cfg.sigma_el_mrad = 1.0;
	sensor_rng_seed(&rng, 11, "polar");
	geo_lla_to_ecef(cfg.lat, cfg.lon, 25.0, sens);
	geo_lla_to_ecef(37.0, 131.5, 9000.0, tgt);
	for (r = 0.0, i = 0; i < 3; i++)
		r += (tgt[i] - sens[i]) * (tgt[i] - sens[i]);
	r = sqrt(r);
	for (i = 0; i < 3; i++)
		u[i] = (tgt[i] - sens[i]) / r;
	for (k = 0; k < n; k++) {
		memset(d, 0, sizeof(d));
		sensor_polar_noise(&cfg, sens, tgt, &rng, d, R);
		assert_int_equal(geo_inv3(R, Ri), 0);	/* R is PD */
		for (i = 0; i < 3; i++)
			nees += d[i] * (Ri[i * 3] * d[0] +
			    Ri[i * 3 + 1] * d[1] + Ri[i * 3 + 2] * d[2]);
	}
	nees /= n;
	assert_true(nees > 2.85 && nees < 3.15);
	/* Along the line of sight: range variance; across: far wider. */
	for (along = 0.0, i = 0; i < 3; i++)
		along += u[i] * (R[i * 3] * u[0] + R[i * 3 + 1] * u[1] +
		    R[i * 3 + 2] * u[2]);
	assert_true(fabs(sqrt(along) - 20.0) < 0.5);
	cross[0] = -u[1];		/* horizontal-ish, normal to u */
	cross[1] = u[0];
	cross[2] = 0.0;
	across = sqrt(cross[0] * cross[0] + cross[1] * cross[1]);
	for (i = 0; i < 2; i++)
		cross[i] /= across;
	for (across = 0.0, i = 0; i < 3; i++)
		across += cross[i] * (R[i * 3] * cross[0] + R[i * 3 + 1] *
		    cross[1] + R[i * 3 + 2] * cross[2]);
	assert_true(sqrt(across) > 0.5 * r * 1.0e-3);
	assert_true(sqrt(across) < 2.0 * r * 1.5e-3);
}

/* Range, radar horizon, category and boost-only coverage rules. */
static void
test_coverage(void **state)
{
	struct sim_scenario		*sc = test_load_text(test_small_yaml);
	const struct sim_sensor_cfg	*radar = &sc->cfg->sensors[0];
	const struct sim_sensor_cfg	*ir = &sc->cfg->sensors[1];
	struct sim_state		 st;

	(void)state;
	/* 100 km away: an aircraft at 8 km is seen, a ship is below horizon. */
	memset(&st, 0, sizeof(st));
	geo_destination(38.0, 130.0, 90.0, 100000.0, &st.lat, &st.lon);
	st.alt = 8000.0;
	geo_lla_to_ecef(st.lat, st.lon, st.alt, st.ecef);
	assert_true(sensor_covers(radar, TF_CAT_AIR, &st));
	st.alt = 0.0;
	geo_lla_to_ecef(st.lat, st.lon, st.alt, st.ecef);
	assert_false(sensor_covers(radar, TF_CAT_SURFACE, &st));
	assert_false(sensor_covers(radar, TF_CAT_SUBSURFACE, &st));
	/* The IR satellite sees a missile only while it burns. */
	st.alt = 20000.0;
	geo_lla_to_ecef(st.lat, st.lon, st.alt, st.ecef);
	st.boost = 1;
	assert_true(sensor_covers(ir, TF_CAT_BALLISTIC_MISSILE, &st));
	st.boost = 0;
	assert_false(sensor_covers(ir, TF_CAT_BALLISTIC_MISSILE, &st));
	assert_false(sensor_covers(ir, TF_CAT_AIR, &st));
	scenario_free(sc);
}

/* The shipped scenario loads, with the shared sensor names. */
static void
test_default_scenario(void **state)
{
	static const char *ids[] = { "USA-AEGIS-1", "USA-SBIRS-1", "USA-E2D-1",
	    "KOR-AEGIS-1", "KOR-E7-1", "KOR-P8-1", "JPN-AEGIS-1", "JPN-E767-1",
	    "JPN-P1-1" };
	struct sim_scenario	*sc;
	char			 err[SIM_ERRLEN];
	unsigned		 i, nbm = 0;
	int			 k;

	(void)state;
	sc = scenario_load(TF_TEST_SCENARIO, err, sizeof(err));
	if (sc == NULL)
		fail_msg("%s", err);
	assert_true(sc->nobj >= 25 && sc->nobj <= 30);
	assert_int_equal(sc->cfg->sensors_count, 9);
	assert_int_equal(sc->duration_ms, 600000);
	for (i = 0; i < 9; i++) {
		k = scenario_sensor_index(sc, ids[i]);
		assert_true(k >= 0);
		/* The nation is the id's prefix, as in the shared names. */
		assert_int_equal(strlen(sc->cfg->sensors[k].nation), 3);
		assert_memory_equal(sc->cfg->sensors[k].nation, ids[i], 3);
	}
	for (i = 0; i < sc->nobj; i++) {
		const struct motion_obj *mo = &sc->obj[i];

		if (mo->cfg->motion.ballistic == NULL)
			continue;
		nbm++;
		/* Every missile comes down in the Sea of Japan. */
		assert_true(mo->bm_impact_lat > 35.0 &&
		    mo->bm_impact_lat < 43.0);
		assert_true(mo->bm_impact_lon > 129.5 &&
		    mo->bm_impact_lon < 139.0);
	}
	assert_int_equal(nbm, 3);
	scenario_free(sc);
}

/* Bad scenarios are refused with file:line:column or a reason. */
static void
test_scenario_errors(void **state)
{
	struct sim_scenario	*sc;
	char			 err[SIM_ERRLEN], *path;
	char			*bad;
	size_t			 k;
	int			 line, col;

	(void)state;
	/* A misspelt key: the error names file, line and column. */
	bad = strdup(test_small_yaml);
	assert_non_null(bad);
	memcpy(strstr(bad, "sigma_h_m"), "sigma_x_m", 9);
	path = test_tmpfile(bad);
	sc = scenario_load(path, err, sizeof(err));
	assert_null(sc);
	/*
	 * libcyaml's backtrace names the position it had reached in the
	 * enclosing mapping: the line of the bad key or the one before.
	 */
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_int_equal(sscanf(err + strlen(path), ":%d:%d:", &line, &col), 2);
	assert_true(line == 36 || line == 37);
	assert_true(col > 0);
	assert_non_null(strstr(err, "sigma_x_m"));
	unlink(path);
	free(path);
	free(bad);
	/* A follower of a missing leader. */
	bad = strdup(test_small_yaml);
	assert_non_null(bad);
	memcpy(strstr(bad, "leader: A"), "leader: Q", 9);
	path = test_tmpfile(bad);
	sc = scenario_load(path, err, sizeof(err));
	assert_null(sc);
	assert_non_null(strstr(err, "leader Q"));
	unlink(path);
	free(path);
	free(bad);
	/* A radar range sigma without its angle sigmas. */
	bad = malloc(sizeof(test_small_yaml) + 32);
	assert_non_null(bad);
	k = (size_t)(strstr(test_small_yaml, "    sigma_v_m: 80\n") -
	    test_small_yaml) + strlen("    sigma_v_m: 80\n");
	memcpy(bad, test_small_yaml, k);
	strcpy(bad + k, "    sigma_range_m: 20\n");
	strcat(bad, test_small_yaml + k);
	path = test_tmpfile(bad);
	sc = scenario_load(path, err, sizeof(err));
	assert_null(sc);
	assert_non_null(strstr(err, "sigma_az_mrad"));
	unlink(path);
	free(path);
	free(bad);
}

/* Same seed, same bytes; another seed, other bytes. */
static void
test_determinism(void **state)
{
	struct sim_scenario	*sc;
	struct test_frames	 a, b, c;
	char			 err[SIM_ERRLEN];

	(void)state;
	sc = scenario_load(TF_TEST_SCENARIO, err, sizeof(err));
	assert_non_null(sc);
	test_run(sc, 1, NULL, 0, 180000, &a);
	test_run(sc, 1, NULL, 0, 180000, &b);
	test_run(sc, 2, NULL, 0, 180000, &c);
	assert_true(a.n > 1000);
	assert_false(a.out_of_order);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len);
	assert_true(a.len != c.len || memcmp(a.buf, c.buf, a.len) != 0);
	test_frames_free(&a);
	test_frames_free(&b);
	test_frames_free(&c);
	scenario_free(sc);
}

/* A sensor simulated alone sends exactly its frames of a full run. */
static void
test_single_sensor(void **state)
{
	struct sim_scenario	*sc;
	struct test_frames	 all, one;
	char			 err[SIM_ERRLEN];
	size_t			 i, pos, flen;
	int			 k;

	(void)state;
	sc = scenario_load(TF_TEST_SCENARIO, err, sizeof(err));
	assert_non_null(sc);
	test_run(sc, 5, NULL, 0, 150000, &all);
	for (k = 0; k < (int)sc->cfg->sensors_count; k++) {
		test_run(sc, 5, &k, 1, 150000, &one);
		assert_true(one.n > 100);
		/* one == the subsequence of all's frames from sensor k. */
		for (i = 0, pos = 0; i < all.n; i++) {
			if (all.idx[i] != (unsigned)k)
				continue;
			flen = (i + 1 < all.n ? all.off[i + 1] : all.len) -
			    all.off[i];
			assert_true(pos + flen <= one.len);
			assert_memory_equal(all.buf + all.off[i],
			    one.buf + pos, flen);
			pos += flen;
		}
		assert_int_equal(pos, one.len);
		test_frames_free(&one);
	}
	test_frames_free(&all);
	scenario_free(sc);
}

/* Decode one framed Envelope as the daemon would; counts kinds in n[]. */
static void
test_check_frame(const uint8_t *p, size_t len, unsigned n[4])
{
	Envelope		*env;
	struct tf_report	 r;
	struct tf_drop		 d;
	uint64_t		 blen;
	size_t			 vlen;
	char			 err[CODEC_ERRLEN];

	assert_int_equal(wire_varint_decode(p, len, &blen, &vlen), WIRE_OK);
	assert_int_equal(vlen + blen, len);
	assert_true(blen <= WIRE_DEFAULT_MAX_FRAME);
	env = trackfuse__v1__envelope__unpack(NULL, blen, p + vlen);
	assert_non_null(env);
	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT:
		if (codec_report_decode(env->track_report, &r, err,
		    sizeof(err)) == -1)
			fail_msg("report rejected: %s", err);
		assert_true(r.local_track > 0);
		assert_true(r.ident != TF_IDENT_NONE && r.cat != TF_CAT_NONE);
		n[0]++;
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP:
		if (codec_drop_decode(env->track_drop, &d, err,
		    sizeof(err)) == -1)
			fail_msg("drop rejected: %s", err);
		n[1]++;
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT:
		assert_true(env->heartbeat->time_ns > 0);
		n[2]++;
		break;
	default:
		n[3]++;
		break;
	}
	trackfuse__v1__envelope__free_unpacked(env, NULL);
}

/* Every frame the simulator makes passes the daemon's own decoder. */
static void
test_reports_decode(void **state)
{
	struct sim_scenario	*sc;
	struct test_frames	 all;
	char			 err[SIM_ERRLEN];
	unsigned		 n[4] = { 0, 0, 0, 0 };
	size_t			 i, end;

	(void)state;
	sc = scenario_load(TF_TEST_SCENARIO, err, sizeof(err));
	assert_non_null(sc);
	test_run(sc, 1, NULL, 0, sc->duration_ms, &all);
	for (i = 0; i < all.n; i++) {
		end = i + 1 < all.n ? all.off[i + 1] : all.len;
		test_check_frame(all.buf + all.off[i], end - all.off[i], n);
	}
	assert_true(n[0] > 1000 && n[1] > 0);
	assert_int_equal(n[2], 601 * sc->cfg->sensors_count);
	assert_int_equal(n[3], 0);
	test_frames_free(&all);
	scenario_free(sc);
}

/* The default scenario with n generated objects over duration_s seconds. */
static struct sim_scenario *
test_scale(unsigned n, uint64_t seed, double duration_s)
{
	struct sim_scenario	*sc;
	char			 err[SIM_ERRLEN];

	sc = scenario_load(TF_TEST_SCENARIO, err, sizeof(err));
	assert_non_null(sc);
	sc->duration_ms = (int64_t)(duration_s * 1000.0);
	if (scale_generate(sc, n, seed, err, sizeof(err)) == -1)
		fail_msg("scale_generate: %s", err);
	return sc;
}

/* Is object j covered by any scenario sensor when it appears? */
static int
test_scale_covered(const struct sim_scenario *sc, unsigned j)
{
	const struct sim_object_cfg	*oc = &sc->cfg->objects[j];
	struct sim_state		 st;
	int64_t				 t;
	unsigned			 i;

	t = oc->motion.ballistic != NULL ?
	    (int64_t)(oc->motion.ballistic->launch_s * 1000.0) + 10000 :
	    (int64_t)(oc->motion.start_s * 1000.0);
	if (!motion_state(sc, j, t, &st))
		return 0;
	for (i = 0; i < sc->cfg->sensors_count; i++)
		if (sensor_covers(&sc->cfg->sensors[i], oc->category, &st))
			return 1;
	return 0;
}

/* N objects of the documented mix, valid ids, inside coverage. */
static void
test_scale_objects(void **state)
{
	struct sim_scenario	*sc;
	struct sim_state	 st;
	unsigned		 j, k, ncat[TF_CAT_MAX], covered = 0, civ = 0;
	const char		*id;

	(void)state;
	sc = test_scale(600, 7, 60.0);
	assert_int_equal(sc->nobj, 600);
	assert_int_equal(sc->cfg->objects_count, 600);
	memset(ncat, 0, sizeof(ncat));
	for (j = 0; j < sc->nobj; j++) {
		id = sc->cfg->objects[j].id;
		assert_true(codec_id_valid(id));
		for (k = 0; k < j; k++)
			assert_string_not_equal(sc->cfg->objects[k].id, id);
		ncat[sc->cfg->objects[j].category]++;
		covered += test_scale_covered(sc, j);
		if (strncmp(id, "CIV-", 4) != 0)
			continue;
		civ++;
		assert_true(motion_state(sc, j,
		    (int64_t)(sc->cfg->objects[j].motion.start_s * 1000.0),
		    &st));
		assert_true(st.alt >= 8000.0 && st.alt <= 12000.0);
		assert_true(hypot(st.venu[0], st.venu[1]) >= 200.0 &&
		    hypot(st.venu[0], st.venu[1]) <= 260.0);
	}
	assert_int_equal(ncat[TF_CAT_BALLISTIC_MISSILE], 1);
	assert_int_equal(ncat[TF_CAT_SURFACE], 600 / 12);
	assert_true(civ > 450);
	assert_true(ncat[TF_CAT_AIR] + ncat[TF_CAT_SURFACE] + 1 == 600);
	/* Placed where a sensor sees it (a missile: 10 s into its boost). */
	assert_true(covered >= 600 * 98 / 100);
	scale_free(sc);
	assert_int_equal(sc->cfg->objects_count, 29);
	assert_null(sc->scale);
	scenario_free(sc);
}

/* Formations of 2-4 keep 300-500 m (up to 600 diagonally) apart. */
static void
test_scale_formations(void **state)
{
	struct sim_scenario	*sc;
	struct sim_state	 a, b;
	unsigned		 j, k, lead, nform = 0, nmemb;
	double			 d, dmin;
	int64_t			 t;

	(void)state;
	sc = test_scale(1000, 3, 60.0);
	for (lead = 0; lead < sc->nobj; lead++) {
		if (sc->obj[lead].leader != -1 ||
		    strncmp(sc->cfg->objects[lead].id, "FRM-", 4) != 0)
			continue;
		for (nmemb = 1; lead + nmemb < sc->nobj &&
		    sc->obj[lead + nmemb].leader == (int)lead; nmemb++)
			;
		assert_true(nmemb >= 2 && nmemb <= 4);
		nform++;
		t = (int64_t)(sc->cfg->objects[lead].motion.start_s * 1000.0) +
		    30000;
		for (j = lead; j < lead + nmemb; j++) {
			assert_true(motion_state(sc, j, t, &a));
			dmin = INFINITY;
			for (k = lead; k < lead + nmemb; k++) {
				if (k == j)
					continue;
				assert_true(motion_state(sc, k, t, &b));
				if ((d = geo_dist(a.ecef, b.ecef)) < dmin)
					dmin = d;
			}
			assert_true(dmin >= 300.0 && dmin <= 600.0);
		}
	}
	assert_true(nform >= 5);
	scenario_free(sc);
}

/* Each crossing pair meets over one point, 300 m apart in height. */
static void
test_scale_crossings(void **state)
{
	struct sim_scenario	*sc;
	struct sim_state	 a, b;
	unsigned		 j, npair = 0;
	double			 d, dmin;
	int64_t			 t;

	(void)state;
	sc = test_scale(1000, 3, 60.0);
	for (j = 0; j + 1 < sc->nobj; j++) {
		if (strncmp(sc->cfg->objects[j].id, "XING-", 5) != 0)
			continue;
		dmin = INFINITY;
		for (t = 0; t <= sc->duration_ms; t += 250) {
			assert_true(motion_state(sc, j, t, &a));
			assert_true(motion_state(sc, j + 1, t, &b));
			d = geo_surface_dist(a.lat, a.lon, b.lat, b.lon);
			if (d < dmin)
				dmin = d;
		}
		assert_true(dmin < 200.0);
		assert_true(fabs(b.alt - a.alt - 300.0) < 1.0);
		npair++;
		j++;
	}
	assert_int_equal(npair, 10);
	scenario_free(sc);
}

/* Same seed, same objects and bytes; every frame decodes. */
static void
test_scale_determinism(void **state)
{
	struct sim_scenario	*s1, *s2, *s3;
	struct test_frames	 a, b, c;
	unsigned		 n[4] = { 0, 0, 0, 0 };
	size_t			 i, end;

	(void)state;
	s1 = test_scale(300, 11, 20.0);
	s2 = test_scale(300, 11, 20.0);
	s3 = test_scale(300, 12, 20.0);
	test_run(s1, 11, NULL, 0, s1->duration_ms, &a);
	test_run(s2, 11, NULL, 0, s2->duration_ms, &b);
	test_run(s3, 12, NULL, 0, s3->duration_ms, &c);
	assert_true(a.n > 2500);
	assert_false(a.out_of_order);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len);
	assert_true(a.len != c.len || memcmp(a.buf, c.buf, a.len) != 0);
	for (i = 0; i < a.n; i++) {
		end = i + 1 < a.n ? a.off[i + 1] : a.len;
		test_check_frame(a.buf + a.off[i], end - a.off[i], n);
	}
	assert_true(n[0] > 2000);
	assert_int_equal(n[3], 0);
	test_frames_free(&a);
	test_frames_free(&b);
	test_frames_free(&c);
	scenario_free(s1);
	scenario_free(s2);
	scenario_free(s3);
}

/* Run every test. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_ballistic),
		cmocka_unit_test(test_kf),
		cmocka_unit_test(test_polar),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_default_scenario),
		cmocka_unit_test(test_scenario_errors),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_single_sensor),
		cmocka_unit_test(test_reports_decode),
		cmocka_unit_test(test_scale_objects),
		cmocka_unit_test(test_scale_formations),
		cmocka_unit_test(test_scale_crossings),
		cmocka_unit_test(test_scale_determinism),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
