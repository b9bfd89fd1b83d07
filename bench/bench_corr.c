/*
 * bench_corr: throughput and first quality numbers of the correlation
 * core on a synthetic scenario with known truth.
 *
 * Air objects fly straight at constant speed; nine sensors (the demo
 * identities, SBIRS left out: it sees no aircraft) each cover a random
 * subset of them and report every period with Gaussian position and
 * velocity noise matching the covariance they state. Only corr_report()
 * and corr_advance() are timed. Every 10 s of event time the picture is
 * matched to the truth (nearest object within 2 km) for completeness,
 * ambiguity, spuriousness, track-number changes and position error.
 *
 * usage: bench_corr [objects [seconds [seed [area_deg]]]]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trackfuse/corr.h"
#include "trackfuse/geo.h"

#define BENCH_TICK	100000000LL	/* ns */
#define BENCH_T0	(1800000000LL * 1000000000LL)
#define BENCH_MATCH	2000.0		/* m, truth association radius */
#define BENCH_NSENS	8
#define BENCH_PI	3.14159265358979323846

struct bench_sensor {
	const char	*id;
	double		 sig;		/* position sigma, m */
	double		 sigv;		/* velocity sigma, m/s */
	int		 period;	/* ticks */
	double		 cover;		/* probability of seeing an object */
};

static const struct bench_sensor bench_sensors[BENCH_NSENS] = {
	{ "USA-AEGIS-1", 50.0, 5.0, 10, 0.5 },
	{ "USA-E2D-1", 150.0, 10.0, 20, 0.6 },
	{ "KOR-AEGIS-1", 50.0, 5.0, 10, 0.5 },
	{ "KOR-E7-1", 150.0, 10.0, 20, 0.6 },
	{ "KOR-P8-1", 300.0, 15.0, 40, 0.3 },
	{ "JPN-AEGIS-1", 50.0, 5.0, 10, 0.5 },
	{ "JPN-E767-1", 150.0, 10.0, 20, 0.6 },
	{ "JPN-P1-1", 300.0, 15.0, 40, 0.3 },
};

struct bench_obj {
	double		 lat0, lon0, alt;
	double		 ve, vn;
	uint8_t		 seen[BENCH_NSENS];
	uint8_t		 phase[BENCH_NSENS];
	uint64_t	 track;		/* last matched system track */
};

struct bench {
	struct bench_obj	*obj;
	int			 nobj;
	double			 area;		/* deg of latitude covered */
	uint64_t		 rng;
	int64_t			 now;
	/* matching state, filled by the foreach callback */
	uint64_t		*match;		/* per object: nearest track */
	double			*matchd;
	long			 ntracks, nspurious, nassigned;
	double			 err2;
	long			 nerr;
	/* single-sensor error, for the comparison */
	double			 serr2[BENCH_NSENS];
	long			 nserr[BENCH_NSENS];
};

/* xorshift64*. */
static uint64_t
bench_rand(struct bench *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 2685821657736338717ULL;
}

/* Uniform in (0, 1). */
static double
bench_unif(struct bench *b)
{
	return ((bench_rand(b) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Standard normal by Box-Muller. */
static double
bench_gauss(struct bench *b)
{
	return sqrt(-2.0 * log(bench_unif(b))) * cos(2.0 * BENCH_PI *
	    bench_unif(b));
}

/* Truth position of object o at t (s since start): flat-earth drift. */
static void
bench_truth(const struct bench_obj *o, double t, double *lat, double *lon)
{
	*lat = o->lat0 + o->vn * t / GEO_A / GEO_DEG;
	*lon = o->lon0 + o->ve * t / (GEO_A * cos(o->lat0 * GEO_DEG)) /
	    GEO_DEG;
}

/* Place the objects and decide who sees whom. */
static void
bench_setup(struct bench *b)
{
	struct bench_obj	*o;
	double			 sp, hd;
	int			 i, s;

	for (i = 0; i < b->nobj; i++) {
		o = &b->obj[i];
		o->lat0 = 30.0 + b->area * bench_unif(b);
		o->lon0 = 125.0 + b->area * 4.0 / 3.0 * bench_unif(b);
		o->alt = 1000.0 + 11000.0 * bench_unif(b);
		sp = 150.0 + 150.0 * bench_unif(b);
		hd = 2.0 * BENCH_PI * bench_unif(b);
		o->ve = sp * sin(hd);
		o->vn = sp * cos(hd);
		for (s = 0; s < BENCH_NSENS; s++) {
			o->seen[s] = bench_unif(b) < bench_sensors[s].cover;
			o->phase[s] = (uint8_t)(bench_rand(b) %
			    (uint64_t)bench_sensors[s].period);
		}
	}
}

/* A noisy report of object i by sensor s at t. */
static void
bench_report(struct bench *b, int i, int s, int64_t t, struct tf_report *r)
{
	const struct bench_sensor	*bs = &bench_sensors[s];
	const struct bench_obj		*o = &b->obj[i];
	double				 lat, lon, de, dn, du;
	int				 k;

	bench_truth(o, (t - BENCH_T0) * 1e-9, &lat, &lon);
	memset(r, 0, sizeof(*r));
	snprintf(r->sensor, sizeof(r->sensor), "%s", bs->id);
	r->local_track = (uint32_t)i + 1;
	r->t_ns = t;
	de = bs->sig * bench_gauss(b);
	dn = bs->sig * bench_gauss(b);
	du = bs->sig * bench_gauss(b);
	b->serr2[s] += de * de + dn * dn + du * du;
	b->nserr[s]++;
	r->lat_deg = lat + dn / GEO_A / GEO_DEG;
	r->lon_deg = lon + de / (GEO_A * cos(lat * GEO_DEG)) / GEO_DEG;
	r->alt_m = o->alt + du;
	r->vel[0] = o->ve + bs->sigv * bench_gauss(b);
	r->vel[1] = o->vn + bs->sigv * bench_gauss(b);
	r->vel[2] = bs->sigv * bench_gauss(b);
	for (k = 0; k < 6; k++)
		r->cov[tf_cov_idx(k, k)] = k < 3 ? bs->sig * bs->sig :
		    bs->sigv * bs->sigv;
	r->cat = TF_CAT_AIR;
	r->ident = TF_IDENT_UNKNOWN;
	r->quality = (float)(50.0 / bs->sig);
	memcpy(r->label.owner, bs->id, 3);
	r->label.cls = TF_CLASS_SECRET;
}

/* The emit callback: the bench only counts. */
static void
bench_emit(void *arg, enum corr_change ch, const struct tf_picture_track *pt)
{
	(void)arg;
	(void)ch;
	(void)pt;
}

/* Match one system track to the nearest truth object. */
static void
bench_match_one(void *arg, const struct tf_picture_track *pt)
{
	struct bench	*b = arg;
	double		 x[3], y[3], lat, lon, d, best = BENCH_MATCH;
	int		 i, bi = -1;

	b->ntracks++;
	geo_lla_to_ecef(pt->lat_deg, pt->lon_deg, pt->alt_m, x);
	for (i = 0; i < b->nobj; i++) {
		if (fabs(b->obj[i].lat0 - pt->lat_deg) > 0.5)
			continue;
		bench_truth(&b->obj[i], (pt->t_ns - BENCH_T0) * 1e-9, &lat,
		    &lon);
		geo_lla_to_ecef(lat, lon, b->obj[i].alt, y);
		if ((d = geo_dist(x, y)) < best) {
			best = d;
			bi = i;
		}
	}
	if (bi == -1) {
		b->nspurious++;
		return;
	}
	b->nassigned++;
	b->err2 += best * best;
	b->nerr++;
	if (b->match[bi] == 0 || best < b->matchd[bi]) {
		b->match[bi] = pt->track_id;
		b->matchd[bi] = best;
	}
}

/* Print the quality of the picture against the truth. */
static void
bench_quality(struct bench *b, struct corr *c, long *changes)
{
	int	i, covered = 0, found = 0;

	memset(b->match, 0, b->nobj * sizeof(*b->match));
	b->ntracks = b->nspurious = b->nassigned = 0;
	corr_foreach(c, bench_match_one, b);
	for (i = 0; i < b->nobj; i++) {
		if (memchr(b->obj[i].seen, 1, BENCH_NSENS) == NULL)
			continue;
		covered++;
		if (b->match[i] != 0) {
			found++;
			if (b->obj[i].track != 0 &&
			    b->obj[i].track != b->match[i])
				(*changes)++;
			b->obj[i].track = b->match[i];
		}
	}
	printf("t=%3llds tracks=%ld completeness=%.4f ambiguity=%.4f "
	    "spuriousness=%.4f track_changes=%ld\n",
	    (long long)((b->now - BENCH_T0) / 1000000000LL), b->ntracks,
	    covered ? (double)found / covered : 0.0,
	    found ? (double)b->nassigned / found : 0.0,
	    b->ntracks ? (double)b->nspurious / b->ntracks : 0.0, *changes);
}

/* Seconds on the monotonic clock. */
static double
bench_clock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Run the scenario and print throughput and error figures. */
static void
bench_run(struct bench *b, struct corr *c, int seconds)
{
	struct tf_report	*buf;
	struct corr_stats	 st;
	double			 busy = 0.0, t0, best;
	long			 n = 0, changes = 0;
	int64_t			 tick;
	int			 i, s, nb, k;

	if ((buf = calloc((size_t)b->nobj * BENCH_NSENS, sizeof(*buf))) ==
	    NULL)
		exit(1);
	for (tick = 0; tick < (int64_t)seconds * 10; tick++) {
		b->now = BENCH_T0 + tick * BENCH_TICK;
		for (nb = 0, s = 0; s < BENCH_NSENS; s++)
			for (i = 0; i < b->nobj; i++)
				if (b->obj[i].seen[s] && (tick +
				    b->obj[i].phase[s]) %
				    bench_sensors[s].period == 0)
					bench_report(b, i, s, b->now,
					    &buf[nb++]);
		t0 = bench_clock();
		for (k = 0; k < nb; k++)
			corr_report(c, &buf[k]);
		corr_advance(c, b->now);
		busy += bench_clock() - t0;
		n += nb;
		if (tick % 100 == 99)
			bench_quality(b, c, &changes);
	}
	corr_get_stats(c, &st);
	for (best = HUGE_VAL, s = 0; s < BENCH_NSENS; s++)
		if (b->nserr[s] && sqrt(b->serr2[s] / b->nserr[s]) < best)
			best = sqrt(b->serr2[s] / b->nserr[s]);
	printf("reports=%ld time=%.3fs rate=%.0f/s created=%llu "
	    "detached=%llu renumbered=%llu candidates/report=%.2f\n",
	    n, busy, n / busy, (unsigned long long)st.created,
	    (unsigned long long)st.detached,
	    (unsigned long long)st.renumbered,
	    (double)st.candidates / (n ? n : 1));
	printf("fused_rms=%.1fm best_sensor_rms=%.1fm ratio=%.3f\n",
	    sqrt(b->err2 / (b->nerr ? b->nerr : 1)), best,
	    sqrt(b->err2 / (b->nerr ? b->nerr : 1)) / best);
	free(buf);
}

/* Set up the scenario from the arguments and run it once. */
int
main(int argc, char *argv[])
{
	struct corr_params	 p;
	struct corr		*c;
	struct bench		 b;
	int			 seconds;

	memset(&b, 0, sizeof(b));
	b.nobj = argc > 1 ? atoi(argv[1]) : 2000;
	seconds = argc > 2 ? atoi(argv[2]) : 60;
	b.rng = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x7f4a7c15ULL;
	b.area = argc > 4 ? atof(argv[4]) : 15.0;
	if (b.nobj < 1 || seconds < 1 || b.rng == 0 || !(b.area > 0.0)) {
		fprintf(stderr, "usage: bench_corr [objects [seconds "
		    "[seed [area_deg]]]]\n");
		return 1;
	}
	b.obj = calloc(b.nobj, sizeof(*b.obj));
	b.match = calloc(b.nobj, sizeof(*b.match));
	b.matchd = calloc(b.nobj, sizeof(*b.matchd));
	corr_params_default(&p);
	if (b.obj == NULL || b.match == NULL || b.matchd == NULL ||
	    (c = corr_new(&p, bench_emit, NULL)) == NULL)
		return 1;
	bench_setup(&b);
	bench_run(&b, c, seconds);
	corr_free(c);
	free(b.obj);
	free(b.match);
	free(b.matchd);
	return 0;
}
