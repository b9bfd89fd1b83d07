/*
 * bench_classes: what release classes cost. Reports per second through
 * release + the correlators (one per class) on a recording of the default
 * scenario (trackfuse-sim --offline --record), with 1, 3 and 6 classes
 * (the full-access class counted), median of several runs.
 *
 *   1 class:  the full class alone (no recipients)
 *   3:        full, CC-USA, CC-KOR
 *   6:        full, CC-USA, CC-KOR, CC-JPN, CC-AUS (a nation no owner
 *             releases to) and CC-NOKEY (no secret: gets nothing)
 *
 * The shipped policies (configs/policy) decide. Frames are decoded and
 * authorized up front; only release_report/release_drop/release_advance
 * are timed, with a no-op consumer.
 *
 * usage: bench_classes [-r runs] RECORDING
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trackfuse/codec.h"
#include "trackfuse/config.h"
#include "trackfuse/corr.h"
#include "trackfuse/feed.h"
#include "trackfuse/log.h"
#include "trackfuse/policy.h"
#include "trackfuse/release.h"
#include "trackfuse/wire.h"

#ifndef BENCH_POLICY_DIR
#define BENCH_POLICY_DIR	"configs/policy"
#endif
#define BENCH_MAXRUNS		15

/* One decoded frame. */
struct bench_op {
	int				 kind;	/* 0 report, 1 drop, 2 heartbeat */
	const struct config_identity	*id;
	struct tf_report		 r;
	struct tf_drop			 d;
	int64_t				 t;
};

struct bench {
	struct config	*cfg;
	struct bench_op	*ops;
	size_t		 nops, nrep;
};

/* Fail. */
static void
bench_die(const char *what)
{
	fprintf(stderr, "bench_classes: %s\n", what);
	exit(1);
}

/* No-op consumers of the classes' changes. */
static void
bench_update(void *a, unsigned c, const struct tf_picture_track *pt)
{
	(void)a;
	(void)c;
	(void)pt;
}

/* No-op drop. */
static void
bench_drop(void *a, unsigned c, uint64_t id, int64_t t)
{
	(void)a;
	(void)c;
	(void)id;
	(void)t;
}

/* No-op rebuild begin. */
static void
bench_begin(void *a, unsigned c)
{
	(void)a;
	(void)c;
}

/* No-op rebuild end. */
static void
bench_end(void *a)
{
	(void)a;
}

/* The config with subscribers for n classes, written to a temp file. */
static struct config *
bench_config(int n)
{
	char		 path[] = "/tmp/bench_classes.XXXXXX", err[512];
	const char	*ids[] = { "USA", "KOR", "JPN", "AUS" };
	const char	*sensors[] = { "USA-AEGIS-1", "USA-SBIRS-1",
			    "USA-E2D-1", "KOR-AEGIS-1", "KOR-E7-1", "KOR-P8-1",
			    "JPN-AEGIS-1", "JPN-E767-1", "JPN-P1-1" };
	struct config	*cfg;
	FILE		*f;
	int		 fd, i;

	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		bench_die("mkstemp");
	fprintf(f, "name: bench\nnation: USA\nlisten:\n"
	    "  feeds: { address: 127.0.0.1, port: 7411, tls: off }\n"
	    "  subscribers: { address: 127.0.0.1, port: 7412, tls: off }\n"
	    "identities:\n");
	for (i = 0; i < 9; i++)
		fprintf(f, "  - { id: %s, role: feed, nation: %.3s, sensors: "
		    "[%s] }\n", sensors[i], sensors[i], sensors[i]);
	for (i = 0; i < n - 1 && i < 4; i++)
		fprintf(f, "  - { id: CC-%s, role: subscriber, nation: %s, "
		    "secret: 000102030405060708090a0b0c0d0e%02x }\n", ids[i],
		    ids[i], i);
	if (n >= 6)
		fprintf(f, "  - { id: CC-NOKEY, role: subscriber, nation: KOR }\n");
	fprintf(f, "policy_dir: %s\nclassifications:\n"
	    "  - { nation: KOR, level: \"II\", common: secret }\n"
	    "  - { nation: JPN, level: tokutei-himitsu, common: secret }\n",
	    BENCH_POLICY_DIR);
	fclose(f);
	cfg = config_load(path, err, sizeof(err));
	unlink(path);
	if (cfg == NULL)
		bench_die(err);
	return cfg;
}

/* Decode and authorize one frame into an op; 0 if it is not one. */
static int
bench_op(const struct config *cfg, const Envelope *env, struct bench_op *op)
{
	const char	*sensor = feed_envelope_sensor(env);
	char		 err[256];

	memset(op, 0, sizeof(*op));
	if (sensor == NULL || (op->id = feed_sensor_owner(cfg, sensor)) == NULL)
		return 0;
	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT:
		op->kind = 0;
		return codec_report_decode(env->track_report, &op->r, err,
		    sizeof(err)) == 0 && feed_authorize(op->id, &op->r, err,
		    sizeof(err)) == FEED_OK;
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP:
		op->kind = 1;
		return codec_drop_decode(env->track_drop, &op->d, err,
		    sizeof(err)) == 0;
	case TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT:
		op->kind = 2;
		op->t = env->heartbeat->time_ns;
		return 1;
	default:
		return 0;
	}
}

/* Read and decode the whole recording. */
static void
bench_load(struct bench *b, const char *path)
{
	FILE		*fp;
	uint8_t		*buf;
	Envelope	*env;
	uint64_t	 v;
	size_t		 n, off = 0, hl, cap = 1024;
	long		 sz;

	if ((fp = fopen(path, "rb")) == NULL)
		bench_die(path);
	fseek(fp, 0, SEEK_END);
	sz = ftell(fp);
	rewind(fp);
	if (sz <= 0 || (buf = malloc((size_t)sz)) == NULL ||
	    fread(buf, 1, (size_t)sz, fp) != (size_t)sz)
		bench_die("read");
	fclose(fp);
	n = (size_t)sz;
	if ((b->ops = calloc(cap, sizeof(*b->ops))) == NULL)
		bench_die("calloc");
	while (off < n && wire_varint_decode(buf + off, n - off, &v, &hl) ==
	    WIRE_OK && v <= n - off - hl) {
		if (b->nops == cap && (b->ops = reallocarray(b->ops,
		    cap *= 2, sizeof(*b->ops))) == NULL)
			bench_die("realloc");
		env = trackfuse__v1__envelope__unpack(NULL, v, buf + off + hl);
		if (env != NULL && bench_op(b->cfg, env, &b->ops[b->nops])) {
			b->nrep += b->ops[b->nops].kind == 0;
			b->nops++;
		}
		if (env != NULL)
			trackfuse__v1__envelope__free_unpacked(env, NULL);
		off += hl + v;
	}
	free(buf);
}

/* Monotonic seconds. */
static double
bench_clock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One timed run through release with cfg's classes; seconds. */
static double
bench_run(const struct bench *b, struct config *cfg, unsigned *ncls)
{
	struct release_out	 out = { bench_update, bench_drop, bench_begin,
				    bench_end, NULL };
	struct corr_params	 p;
	struct release		*rel;
	double			 t0;
	size_t			 i;

	corr_params_default(&p);
	rel = release_new(&p, &out);
	if (cfg != NULL)
		release_set_policy(rel, cfg, policy_load_dir(cfg,
		    b->ops[0].r.t_ns > 0 ? b->ops[0].r.t_ns : 1795910400LL *
		    1000000000LL));
	*ncls = release_nclasses(rel);
	t0 = bench_clock();
	for (i = 0; i < b->nops; i++) {
		if (b->ops[i].kind == 0)
			(void)release_report(rel, b->ops[i].id, &b->ops[i].r);
		else if (b->ops[i].kind == 1)
			release_drop(rel, &b->ops[i].d);
		else
			release_advance(rel, b->ops[i].t);
	}
	t0 = bench_clock() - t0;
	release_free(rel);
	return t0;
}

/* Compare doubles for qsort. */
static int
bench_dcmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* bench_classes [-r runs] RECORDING */
int
main(int argc, char *argv[])
{
	struct bench	 b;
	struct config	*cfg;
	double		 secs[BENCH_MAXRUNS];
	const int	 sizes[] = { 1, 3, 6 };
	unsigned	 ncls = 0;
	int		 ch, runs = 5, k, i;

	while ((ch = getopt(argc, argv, "r:")) != -1) {
		if (ch != 'r' || (runs = atoi(optarg)) < 1 ||
		    runs > BENCH_MAXRUNS)
			bench_die("usage: bench_classes [-r runs] RECORDING");
	}
	if (argc - optind != 1)
		bench_die("usage: bench_classes [-r runs] RECORDING");
	log_init(1, 0, NULL);
	memset(&b, 0, sizeof(b));
	b.cfg = bench_config(6);
	bench_load(&b, argv[optind]);
	printf("bench_classes: %s frames=%zu reports=%zu runs=%d\n",
	    argv[optind], b.nops, b.nrep, runs);
	for (k = 0; k < 3; k++) {
		cfg = sizes[k] > 1 ? bench_config(sizes[k]) : NULL;
		for (i = 0; i < runs; i++)
			secs[i] = bench_run(&b, cfg, &ncls);
		qsort(secs, (size_t)runs, sizeof(secs[0]), bench_dcmp);
		printf("classes=%u reports_per_s=%.0f median_s=%.4f\n", ncls,
		    (double)b.nrep / secs[runs / 2], secs[runs / 2]);
		config_free(cfg);
	}
	config_free(b.cfg);
	free(b.ops);
	return 0;
}
