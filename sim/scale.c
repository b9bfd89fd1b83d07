/*
 * Scale scenarios: replace a scenario's objects by N generated ones over
 * the same sensors, deterministically from the seed. Dense civil air
 * traffic on great-circle routes between the region's airports, a few
 * formations, pairs of crossing aircraft, surface ships and at most three
 * ballistic missiles. Every object is placed where at least one of the
 * scenario's sensors covers it when it appears, so the sensors hold most
 * objects whatever N is; the sensors themselves are left as loaded.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trackfuse/geo.h"
#include "sim.h"

#define SCALE_ID_LEN		16
#define SCALE_TRIES		32	/* placements tried per object */
#define SCALE_JITTER_M		30000.0	/* airport spread of route ends */
#define SCALE_ROUTE_M		2.0e6	/* aircraft leg length */

/* An airport of the region (civil routes run between pairs of them). */
struct scale_airport {
	const char	*code;
	double		 lat, lon;
};

static const struct scale_airport scale_airports[] = {
	{ "ICN", 37.46, 126.44 }, { "GMP", 37.56, 126.80 },
	{ "PUS", 35.18, 128.94 }, { "CJU", 33.51, 126.49 },
	{ "TAE", 35.90, 128.66 }, { "YNY", 38.06, 128.67 },
	{ "FUK", 33.58, 130.45 }, { "KIX", 34.43, 135.24 },
	{ "NRT", 35.77, 140.39 }, { "HND", 35.55, 139.78 },
	{ "NGO", 34.86, 136.81 }, { "KIJ", 37.96, 139.12 },
	{ "CTS", 42.78, 141.69 }, { "SDJ", 38.14, 140.92 },
	{ "KMQ", 36.39, 136.41 }, { "TOY", 36.65, 137.19 },
	{ "AXT", 39.62, 140.22 }, { "HKD", 41.77, 140.82 },
	{ "VVO", 43.40, 132.15 }, { "FNJ", 39.22, 125.67 },
	{ "PEK", 40.08, 116.58 }, { "PVG", 31.14, 121.81 },
	{ "DLC", 38.97, 121.54 }, { "TAO", 36.36, 120.09 },
	{ "SHE", 41.64, 123.48 }, { "KHV", 48.53, 135.19 },
};

#define SCALE_NAIRPORTS	\
	(sizeof(scale_airports) / sizeof(scale_airports[0]))

/* What the generator allocated; the loaded objects come back on free. */
struct scale_store {
	struct sim_object_cfg	*orig;
	unsigned		 orig_count;
	struct sim_object_cfg	*obj;
	struct sim_waypoint	*wp;	/* two per route object */
	struct sim_follow	*fol;
	struct sim_ballistic	*bm;
	char			(*ids)[SCALE_ID_LEN];
	char			(*leaders)[SCALE_ID_LEN];
};

/* The generator's state while it fills the store. */
struct scale_gen {
	struct sim_scenario	*sc;
	struct scale_store	*st;
	struct sensor_rng	 rng;
	double			 duration_s;
	unsigned		 n, nwp, nfol, nbm;
};

/* Uniform in [lo, hi). */
static double
scale_unif(struct scale_gen *g, double lo, double hi)
{
	return lo + (hi - lo) * sensor_rng_uniform(&g->rng);
}

/* Uniform integer in [0, n). */
static unsigned
scale_pick(struct scale_gen *g, unsigned n)
{
	return (unsigned)(sensor_rng_uniform(&g->rng) * n);
}

/* Does any scenario sensor cover category c at (lat, lon, alt)? */
static int
scale_covered(const struct scale_gen *g, enum tf_category c, double lat,
    double lon, double alt)
{
	struct sim_state	st;
	unsigned		i;

	memset(&st, 0, sizeof(st));
	st.lat = lat;
	st.lon = lon;
	st.alt = alt;
	geo_lla_to_ecef(lat, lon, alt, st.ecef);
	for (i = 0; i < g->sc->cfg->sensors_count; i++)
		if (sensor_covers(&g->sc->cfg->sensors[i], c, &st))
			return 1;
	return 0;
}

/* Next object slot, named prefix-number. */
static struct sim_object_cfg *
scale_object(struct scale_gen *g, const char *prefix, enum tf_category c,
    enum tf_identity id)
{
	struct sim_object_cfg	*o = &g->st->obj[g->n];

	snprintf(g->st->ids[g->n], SCALE_ID_LEN, "%s-%u", prefix, g->n + 1);
	o->id = g->st->ids[g->n];
	o->category = c;
	o->identity = id;
	g->n++;
	return o;
}

/* A straight great-circle leg from (lat, lon) on bearing brg at speed v. */
static void
scale_leg(struct scale_gen *g, struct sim_object_cfg *o, double lat,
    double lon, double alt, double brg, double v, double len_m)
{
	struct sim_waypoint	*w = &g->st->wp[g->nwp];

	g->nwp += 2;
	w[0].lat = lat;
	w[0].lon = lon;
	w[0].alt_m = alt;
	w[0].speed_mps = v;
	geo_destination(lat, lon, brg, len_m, &w[1].lat, &w[1].lon);
	w[1].alt_m = alt;
	w[1].speed_mps = 0.0;
	o->motion.route = w;
	o->motion.route_count = 2;
}

/* When an object appears: most at the start, some later (new tracks). */
static double
scale_start(struct scale_gen *g)
{
	if (sensor_rng_uniform(&g->rng) < 0.9)
		return 0.0;
	return floor(scale_unif(g, 0.0, 0.5 * g->duration_s));
}

/*
 * A point en route between two airports (ends jittered so that the
 * traffic spreads over many parallel great circles) where a sensor sees
 * it: *lat, *lon and the bearing on to the destination. 0 if none found.
 */
static int
scale_airway(struct scale_gen *g, double alt, double *lat, double *lon,
    double *brg)
{
	const struct scale_airport	*a, *b;
	double				 alat, alon, blat, blon, d;
	int				 k;

	for (k = 0; k < SCALE_TRIES; k++) {
		a = &scale_airports[scale_pick(g, SCALE_NAIRPORTS)];
		b = &scale_airports[scale_pick(g, SCALE_NAIRPORTS)];
		if (a == b)
			continue;
		geo_destination(a->lat, a->lon, scale_unif(g, 0.0, 360.0),
		    scale_unif(g, 0.0, SCALE_JITTER_M), &alat, &alon);
		geo_destination(b->lat, b->lon, scale_unif(g, 0.0, 360.0),
		    scale_unif(g, 0.0, SCALE_JITTER_M), &blat, &blon);
		d = geo_surface_dist(alat, alon, blat, blon);
		geo_destination(alat, alon, geo_bearing(alat, alon, blat, blon),
		    d * scale_unif(g, 0.05, 0.95), lat, lon);
		if (!scale_covered(g, TF_CAT_AIR, *lat, *lon, alt))
			continue;
		*brg = geo_bearing(*lat, *lon, blat, blon);
		return 1;
	}
	return 0;
}

/* A point of the region where a sensor sees category c; 0 if none found. */
static int
scale_spot(struct scale_gen *g, enum tf_category c, double alt, double *lat,
    double *lon)
{
	int	k;

	for (k = 0; k < SCALE_TRIES; k++) {
		*lat = scale_unif(g, 30.0, 46.0);
		*lon = scale_unif(g, 122.0, 142.0);
		if (scale_covered(g, c, *lat, *lon, alt))
			return 1;
	}
	return 0;
}

/* An airliner somewhere on an airway, flying on to its destination. */
static void
scale_civil(struct scale_gen *g)
{
	struct sim_object_cfg	*o;
	double			 alt, lat, lon, brg, v;

	alt = 8000.0 + 100.0 * floor(scale_unif(g, 0.0, 41.0));
	v = scale_unif(g, 200.0, 260.0);
	if (!scale_airway(g, alt, &lat, &lon, &brg)) {
		scale_spot(g, TF_CAT_AIR, alt, &lat, &lon);
		brg = scale_unif(g, 0.0, 360.0);
	}
	o = scale_object(g, "CIV", TF_CAT_AIR, TF_IDENT_NEUTRAL);
	o->motion.start_s = scale_start(g);
	scale_leg(g, o, lat, lon, alt, brg, v, SCALE_ROUTE_M);
}

/* A formation of size aircraft, 300-500 m apart, behind one leader. */
static void
scale_formation(struct scale_gen *g, unsigned size)
{
	struct sim_object_cfg	*o;
	struct sim_follow	*f;
	double			 alt, lat, lon, brg, v, sp, start;
	unsigned		 m, lead = g->n;

	alt = scale_unif(g, 5000.0, 10000.0);
	v = scale_unif(g, 220.0, 260.0);
	if (!scale_spot(g, TF_CAT_AIR, alt, &lat, &lon)) {
		lat = 38.0;
		lon = 132.0;
	}
	brg = scale_unif(g, 0.0, 360.0);
	sp = scale_unif(g, 300.0, 500.0);
	start = scale_start(g);
	o = scale_object(g, "FRM", TF_CAT_AIR, TF_IDENT_FRIEND);
	o->motion.start_s = start;
	scale_leg(g, o, lat, lon, alt, brg, v, SCALE_ROUTE_M);
	for (m = 1; m < size; m++) {
		f = &g->st->fol[g->nfol++];
		memcpy(g->st->leaders[g->nfol - 1], g->st->ids[lead],
		    SCALE_ID_LEN);
		f->leader = g->st->leaders[g->nfol - 1];
		/* Echelon: alternate sides, each pair a step further back. */
		f->right_m = ((m & 1) ? 1.0 : -1.0) * ((m + 1) / 2) * sp;
		f->back_m = 0.5 * ((m + 1) / 2) * sp;
		o = scale_object(g, "FRM", TF_CAT_AIR, TF_IDENT_FRIEND);
		o->motion.start_s = start;
		o->motion.follow = f;
	}
}

/*
 * Two aircraft whose paths cross at one point at the same moment, at
 * right angles or so and 300 m apart in height: the classic swap test.
 */
static void
scale_crossing(struct scale_gen *g)
{
	struct sim_object_cfg	*o;
	double			 alt, lat, lon, brg, v, tc, la, lo;
	int			 k;

	alt = scale_unif(g, 6000.0, 11000.0);
	if (!scale_spot(g, TF_CAT_AIR, alt, &lat, &lon)) {
		lat = 38.0;
		lon = 131.5;
	}
	tc = scale_unif(g, 0.2, 0.8) * g->duration_s;
	brg = scale_unif(g, 0.0, 360.0);
	for (k = 0; k < 2; k++) {
		v = scale_unif(g, 200.0, 250.0);
		geo_destination(lat, lon, fmod(brg + 180.0, 360.0), v * tc,
		    &la, &lo);
		o = scale_object(g, "XING", TF_CAT_AIR, TF_IDENT_UNKNOWN);
		scale_leg(g, o, la, lo, alt + 300.0 * k, brg, v,
		    SCALE_ROUTE_M);
		brg = fmod(brg + scale_unif(g, 60.0, 120.0), 360.0);
	}
}

/* A ship at sea where a sensor sees it, 4-12 m/s on a random course. */
static void
scale_ship(struct scale_gen *g)
{
	struct sim_object_cfg	*o;
	double			 lat, lon;

	if (!scale_spot(g, TF_CAT_SURFACE, 0.0, &lat, &lon)) {
		lat = 37.5;
		lon = 131.0;
	}
	o = scale_object(g, "SHIP", TF_CAT_SURFACE,
	    sensor_rng_uniform(&g->rng) < 0.8 ? TF_IDENT_NEUTRAL :
	    TF_IDENT_FRIEND);
	o->motion.start_s = scale_start(g);
	scale_leg(g, o, lat, lon, 0.0, scale_unif(g, 0.0, 360.0),
	    scale_unif(g, 4.0, 12.0), SCALE_ROUTE_M / 10.0);
}

/* A missile from the North Korean east coast into the Sea of Japan. */
static void
scale_missile(struct scale_gen *g)
{
	struct sim_object_cfg	*o;
	struct sim_ballistic	*b = &g->st->bm[g->nbm++];

	b->launch_lat = scale_unif(g, 39.0, 40.5);
	b->launch_lon = scale_unif(g, 127.4, 128.3);
	b->launch_s = floor(scale_unif(g, 0.0, 0.5 * g->duration_s));
	b->target_lat = scale_unif(g, 38.5, 41.5);
	b->target_lon = scale_unif(g, 132.0, 136.0);
	b->boost_s = scale_unif(g, 60.0, 70.0);
	b->boost_accel_mps2 = 40.0;
	o = scale_object(g, "BM", TF_CAT_BALLISTIC_MISSILE, TF_IDENT_HOSTILE);
	o->motion.ballistic = b;
}

/* Ballistic missiles for n objects: a few at most. */
static unsigned
scale_nmissiles(unsigned n)
{
	if (n >= 100000)
		return 3;
	if (n >= 10000)
		return 2;
	return n >= 100 ? 1 : 0;
}

/* Allocate the store for n objects; -1 when out of memory. */
static int
scale_alloc(struct scale_store *st, unsigned n)
{
	st->obj = calloc(n + 1, sizeof(*st->obj));
	st->wp = calloc(2 * (size_t)n + 2, sizeof(*st->wp));
	st->fol = calloc(n + 1, sizeof(*st->fol));
	st->bm = calloc(4, sizeof(*st->bm));
	st->ids = calloc(n + 1, sizeof(*st->ids));
	st->leaders = calloc(n + 1, sizeof(*st->leaders));
	if (st->obj == NULL || st->wp == NULL || st->fol == NULL ||
	    st->bm == NULL || st->ids == NULL || st->leaders == NULL)
		return -1;
	return 0;
}

/* Free a store (not the loaded objects it remembers). */
static void
scale_store_free(struct scale_store *st)
{
	if (st == NULL)
		return;
	free(st->obj);
	free(st->wp);
	free(st->fol);
	free(st->bm);
	free(st->ids);
	free(st->leaders);
	free(st);
}

/*
 * Fill the object mix: of n, a few missiles, 8% ships, 2% crossing
 * pairs, about 5% of aircraft in formations of 2-4, the rest airliners.
 */
static void
scale_fill(struct scale_gen *g, unsigned n)
{
	unsigned	i, nships, nxing, size, left;

	for (i = 0; i < scale_nmissiles(n); i++)
		scale_missile(g);
	nships = n / 12;
	for (i = 0; i < nships; i++)
		scale_ship(g);
	nxing = n >= 50 ? n / 100 : 0;
	for (i = 0; i < nxing && g->n + 2 <= n; i++)
		scale_crossing(g);
	while ((left = n - g->n) > 0) {
		size = 2 + scale_pick(g, 3);
		if (left >= size && sensor_rng_uniform(&g->rng) < 0.02)
			scale_formation(g, size);
		else
			scale_civil(g);
	}
}

/*
 * Replace sc's objects by n generated ones (seeded by seed) and
 * precompute their motion; -1 with err on failure. scenario_free()
 * undoes it.
 */
int
scale_generate(struct sim_scenario *sc, unsigned n, uint64_t seed,
    char *err, size_t errlen)
{
	struct scale_gen	 g;
	struct scale_store	*st;

	if (n == 0 || n > SCALE_MAX_OBJECTS || sc->scale != NULL) {
		snprintf(err, errlen, "%s: objects must be in [1, %u]",
		    sc->path, SCALE_MAX_OBJECTS);
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    scale_alloc(st, n) == -1) {
		scale_store_free(st);
		snprintf(err, errlen, "%s: out of memory", sc->path);
		return -1;
	}
	memset(&g, 0, sizeof(g));
	g.sc = sc;
	g.st = st;
	g.duration_s = (double)sc->duration_ms / 1000.0;
	sensor_rng_seed(&g.rng, seed, "scale");
	scale_fill(&g, n);
	motion_free(sc);
	st->orig = sc->cfg->objects;
	st->orig_count = sc->cfg->objects_count;
	sc->cfg->objects = st->obj;
	sc->cfg->objects_count = n;
	sc->scale = st;
	return motion_init(sc, err, errlen);
}

/* Give the loaded objects back and free the generated ones. */
void
scale_free(struct sim_scenario *sc)
{
	struct scale_store	*st = sc->scale;

	if (st == NULL)
		return;
	motion_free(sc);
	sc->cfg->objects = st->orig;
	sc->cfg->objects_count = st->orig_count;
	scale_store_free(st);
	sc->scale = NULL;
}
