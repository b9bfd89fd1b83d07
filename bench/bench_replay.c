/*
 * bench_replay: how fast the correlation core replays a recording, and
 * what it costs in memory and allocations.
 *
 * A recording (varint-delimited Envelopes, as trackfuse-sim --record
 * writes) is read from a file or generated in memory through the tfsim
 * library: the default scenario and scale scenarios of 1k, 10k and 100k
 * objects. All frames are decoded up front into struct tf_report /
 * tf_drop arrays; then only the core is timed: corr_new() with
 * corr_params_default(), corr_report(), corr_drop() and corr_advance()
 * (for heartbeats) in recording order, a no-op emit callback, several
 * runs. A last line per recording times decode plus core, the daemon's
 * replay path without the I/O.
 *
 * usage: bench_replay [-r runs] [-D runs] [-d seconds] [-s seed]
 *            [-n N[,N...]] [-S scenario] [recording...]
 * -r core runs (5), -D decode+core runs (3, 0: none), -d duration of the
 * generated recordings (default: the scenario's own, 120 s for scale
 * ones), -n sizes to generate (0: the scenario as loaded; default
 * 0,1000,10000,100000).
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trackfuse/codec.h"
#include "trackfuse/corr.h"
#include "trackfuse/wire.h"
#include "sim.h"

#define BENCH_MAXSIZES	16
#define BENCH_ARENA	65536	/* one frame's unpacked message */
#define BENCH_SCALE_S	120	/* scale scenarios' default duration */

enum bench_kind {
	BENCH_REPORT,
	BENCH_DROP,
	BENCH_HEARTBEAT
};

/* A recording: framed bytes, and the same frames decoded. */
struct bench_rec {
	char			 name[64];
	unsigned		 objects;	/* 0 when unknown (a file) */
	uint8_t			*buf;
	size_t			 len, cap;
	size_t			 nframes, bad;
	struct tf_report	*rep;
	size_t			 nrep, caprep;
	struct tf_drop		*drop;
	size_t			 ndrop, capdrop;
	int64_t			*hb;
	size_t			 nhb, caphb;
	uint8_t			*kind;
	size_t			 nops, capops;
};

/* What one run of the core measured. */
struct bench_run {
	double		 secs;
	size_t		 max_tracks;
	long		 rss_delta;	/* bytes, measured runs only */
	uint64_t	 allocs_steady;
	struct corr_stats st;
};

/* Live and peak system tracks, counted from the emitted changes. */
struct bench_count {
	size_t		live, peak;
};

struct bench_opts {
	int		 runs;
	int		 druns;		/* decode+core runs */
	double		 duration_s;	/* < 0: the default's */
	uint64_t	 seed;
	const char	*scenario;
	unsigned	 sizes[BENCH_MAXSIZES];
	unsigned	 nsizes;
};

/* Heap calls made through the wrappers (only code linked statically). */
static uint64_t	bench_allocs;

void	*__real_malloc(size_t);
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
void	*__wrap_malloc(size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);

/* Counting malloc (ld --wrap=malloc). */
void *
__wrap_malloc(size_t n)
{
	bench_allocs++;
	return __real_malloc(n);
}

/* Counting calloc (ld --wrap=calloc). */
void *
__wrap_calloc(size_t n, size_t sz)
{
	bench_allocs++;
	return __real_calloc(n, sz);
}

/* Counting realloc (ld --wrap=realloc). */
void *
__wrap_realloc(void *p, size_t n)
{
	bench_allocs++;
	return __real_realloc(p, n);
}

/* Die: a benchmark has no way round a missing resource. */
static void
bench_die(const char *what)
{
	fprintf(stderr, "bench_replay: %s\n", what);
	exit(1);
}

/* Grow an array of size elements to hold one more; dies on failure. */
static void *
bench_grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 4096;
	if ((p = realloc(p, *cap * size)) == NULL)
		bench_die("out of memory");
	return p;
}

/* Monotonic seconds. */
static double
bench_clock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A kB figure from /proc/self/status ("VmRSS", "VmHWM"), in bytes. */
static long
bench_status(const char *key)
{
	FILE	*f;
	char	 line[256];
	long	 kb = -1;
	size_t	 kl = strlen(key);

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			kb = strtol(line + kl + 1, NULL, 10);
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/* Reset the peak RSS to the current RSS (Linux: clear_refs 5). */
static void
bench_reset_hwm(void)
{
	FILE	*f;

	malloc_trim(0);
	if ((f = fopen("/proc/self/clear_refs", "w")) == NULL)
		return;
	fputs("5", f);
	fclose(f);
}

/* Simulator emit: append the frame, varint-delimited, to the recording. */
static void
bench_emit_frame(void *arg, unsigned idx, int64_t due_ms, const Envelope *env)
{
	struct bench_rec	*r = arg;
	uint8_t			 hdr[WIRE_VARINT_MAX];
	size_t			 size, hlen;

	(void)idx;
	(void)due_ms;
	size = protobuf_c_message_get_packed_size(&env->base);
	hlen = wire_varint_encode(size, hdr);
	while (r->len + hlen + size > r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1 << 20;
		if ((r->buf = realloc(r->buf, r->cap)) == NULL)
			bench_die("out of memory");
	}
	memcpy(r->buf + r->len, hdr, hlen);
	protobuf_c_message_pack(&env->base, r->buf + r->len + hlen);
	r->len += hlen + size;
	r->nframes++;
}

/* Generate a recording in memory: the scenario, or n objects over it. */
static void
bench_generate(struct bench_rec *r, const struct bench_opts *o, unsigned n)
{
	struct sim_scenario	*sc;
	struct sensor_world	*w;
	char			 err[SIM_ERRLEN];
	double			 t0 = bench_clock();

	if ((sc = scenario_load(o->scenario, err, sizeof(err))) == NULL)
		bench_die(err);
	if (o->duration_s > 0.0)
		sc->duration_ms = (int64_t)(o->duration_s * 1000.0 + 0.5);
	else if (n > 0)
		sc->duration_ms = BENCH_SCALE_S * 1000;
	if (n > 0 && scale_generate(sc, n, o->seed, err, sizeof(err)) == -1)
		bench_die(err);
	if ((w = sensor_world_new(sc, o->seed, NULL, 0)) == NULL)
		bench_die("out of memory");
	sensor_world_run(w, sc->duration_ms, bench_emit_frame, r, NULL);
	r->objects = sc->nobj;
	snprintf(r->name, sizeof(r->name), "%s", n > 0 ? "scale" : "default");
	fprintf(stderr, "bench_replay: generated %s objects=%u duration=%.0fs "
	    "frames=%zu bytes=%zu in %.1fs\n", r->name, r->objects,
	    (double)sc->duration_ms / 1000.0, r->nframes, r->len,
	    bench_clock() - t0);
	sensor_world_free(w);
	scenario_free(sc);
}

/* Read a recording file whole. */
static void
bench_load(struct bench_rec *r, const char *path)
{
	FILE	*f;
	size_t	 n;

	if ((f = fopen(path, "rb")) == NULL)
		bench_die(strerror(errno));
	for (;;) {
		r->buf = bench_grow(r->buf, &r->cap, r->len + 65536, 1);
		if ((n = fread(r->buf + r->len, 1, r->cap - r->len, f)) == 0)
			break;
		r->len += n;
	}
	fclose(f);
	snprintf(r->name, sizeof(r->name), "%s", path);
}

/* A bump allocator for one frame's unpacked message. */
struct bench_arena {
	size_t		used;
	max_align_t	mem[BENCH_ARENA / sizeof(max_align_t)];
};

/* Arena allocation; falls back to nothing (frames are small). */
static void *
bench_arena_alloc(void *data, size_t n)
{
	struct bench_arena	*a = data;
	size_t			 k = (n + sizeof(max_align_t) - 1) /
				    sizeof(max_align_t);
	void			*p;

	if (a->used + k > sizeof(a->mem) / sizeof(a->mem[0]))
		return NULL;
	p = &a->mem[a->used];
	a->used += k;
	return p;
}

/* Arena free: everything goes at the next frame. */
static void
bench_arena_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

static struct bench_arena	bench_arena;
static ProtobufCAllocator	bench_pa = {
	bench_arena_alloc, bench_arena_free, &bench_arena
};

/*
 * The frame at *off: unpacked into the arena and advanced past, or NULL
 * at the end (or on a broken frame, counted in r->bad).
 */
static Envelope *
bench_next(struct bench_rec *r, size_t *off)
{
	uint64_t	n;
	size_t		used;
	Envelope	*env;

	if (*off >= r->len)
		return NULL;
	if (wire_varint_decode(r->buf + *off, r->len - *off, &n, &used) !=
	    WIRE_OK || n > r->len - *off - used) {
		r->bad++;	/* a truncated tail: stop there */
		*off = r->len;
		return NULL;
	}
	bench_arena.used = 0;
	env = trackfuse__v1__envelope__unpack(&bench_pa, n,
	    r->buf + *off + used);
	*off += used + n;
	if (env == NULL)
		r->bad++;
	return env;
}

/* Decode one report into the arrays; count it as bad if it fails. */
static void
bench_add_report(struct bench_rec *r, const Envelope *env)
{
	char	err[CODEC_ERRLEN];

	r->rep = bench_grow(r->rep, &r->caprep, r->nrep, sizeof(*r->rep));
	memset(&r->rep[r->nrep], 0, sizeof(r->rep[r->nrep]));
	if (codec_report_decode(env->track_report, &r->rep[r->nrep], err,
	    sizeof(err)) == -1) {
		if (r->bad++ == 0)
			fprintf(stderr, "bench_replay: bad report: %s\n", err);
		return;
	}
	r->nrep++;
	r->kind = bench_grow(r->kind, &r->capops, r->nops, 1);
	r->kind[r->nops++] = BENCH_REPORT;
}

/* Decode one drop or heartbeat into the arrays. */
static void
bench_add_other(struct bench_rec *r, const Envelope *env)
{
	char	err[CODEC_ERRLEN];

	if (env->msg_case == TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP) {
		r->drop = bench_grow(r->drop, &r->capdrop, r->ndrop,
		    sizeof(*r->drop));
		if (codec_drop_decode(env->track_drop, &r->drop[r->ndrop], err,
		    sizeof(err)) == -1) {
			r->bad++;
			return;
		}
		r->ndrop++;
	} else if (env->msg_case == TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT) {
		r->hb = bench_grow(r->hb, &r->caphb, r->nhb, sizeof(*r->hb));
		r->hb[r->nhb++] = env->heartbeat->time_ns;
	} else
		return;
	r->kind = bench_grow(r->kind, &r->capops, r->nops, 1);
	r->kind[r->nops++] = env->msg_case ==
	    TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP ? BENCH_DROP :
	    BENCH_HEARTBEAT;
}

/* Decode every frame up front (not timed). */
static void
bench_decode(struct bench_rec *r)
{
	Envelope	*env;
	size_t		 off = 0;

	r->nframes = 0;
	while ((env = bench_next(r, &off)) != NULL || off < r->len) {
		if (env == NULL)
			continue;
		r->nframes++;
		if (env->msg_case == TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT)
			bench_add_report(r, env);
		else
			bench_add_other(r, env);
	}
}

/* Emit callback of the timed runs: nothing. */
static void
bench_emit_nop(void *arg, enum corr_change ch,
    const struct tf_picture_track *pt)
{
	(void)arg;
	(void)ch;
	(void)pt;
}

/* Emit callback of the measured run: live and peak track counts. */
static void
bench_emit_count(void *arg, enum corr_change ch,
    const struct tf_picture_track *pt)
{
	struct bench_count	*c = arg;

	(void)pt;
	if (ch == CORR_CREATED && ++c->live > c->peak)
		c->peak = c->live;
	else if (ch == CORR_DROPPED && c->live > 0)
		c->live--;
}

/*
 * Core parameters: the defaults, with the track and source limits raised
 * when the recording needs more (a refused report would flatter the
 * figures).
 */
static void
bench_params(const struct bench_rec *r, struct corr_params *p)
{
	size_t	need;

	/* A file does not say its object count: reports bound everything. */
	need = r->objects > 0 ? 8 * (size_t)r->objects + 10000 : r->nrep;
	corr_params_default(p);
	if (p->max_tracks < need)
		p->max_tracks = need;
	if (p->max_sources < need)
		p->max_sources = need;
}

/* Feed the pre-decoded ops to the core; counts allocs from half way. */
static void
bench_feed(const struct bench_rec *r, struct corr *c, uint64_t *half)
{
	size_t	i, ir = 0, id = 0, ih = 0, mid = r->nops / 2;

	for (i = 0; i < r->nops; i++) {
		if (i == mid)
			*half = bench_allocs;
		switch (r->kind[i]) {
		case BENCH_REPORT:
			corr_report(c, &r->rep[ir++]);
			break;
		case BENCH_DROP:
			corr_drop(c, &r->drop[id++]);
			break;
		default:
			corr_advance(c, r->hb[ih++]);
			break;
		}
	}
}

/* One run of the core over r; measure adds RSS and peak track counts. */
static void
bench_core(const struct bench_rec *r, int measure, struct bench_run *run)
{
	struct corr_params	 p;
	struct bench_count	 cnt = { 0, 0 };
	struct corr		*c;
	uint64_t		 half = 0;
	long			 rss0 = 0;
	double			 t0;

	memset(run, 0, sizeof(*run));
	bench_params(r, &p);
	if (measure) {
		bench_reset_hwm();
		rss0 = bench_status("VmRSS");
	}
	if ((c = corr_new(&p, measure ? bench_emit_count : bench_emit_nop,
	    &cnt)) == NULL)
		bench_die("corr_new failed");
	t0 = bench_clock();
	bench_feed(r, c, &half);
	run->secs = bench_clock() - t0;
	run->allocs_steady = bench_allocs - half;
	if (measure) {
		run->rss_delta = bench_status("VmHWM") - rss0;
		run->max_tracks = cnt.peak;
	}
	corr_get_stats(c, &run->st);
	corr_free(c);
}

/* Decode and correlate frame by frame, as the daemon's replay does. */
static double
bench_decode_core(struct bench_rec *r)
{
	struct corr_params	 p;
	struct corr		*c;
	struct tf_report	 rep;
	struct tf_drop		 d;
	Envelope		*env;
	char			 err[CODEC_ERRLEN];
	size_t			 off = 0;
	double			 t0;

	bench_params(r, &p);
	if ((c = corr_new(&p, bench_emit_nop, NULL)) == NULL)
		bench_die("corr_new failed");
	t0 = bench_clock();
	while ((env = bench_next(r, &off)) != NULL || off < r->len) {
		if (env == NULL)
			continue;
		switch (env->msg_case) {
		case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT:
			memset(&rep, 0, sizeof(rep));
			if (codec_report_decode(env->track_report, &rep, err,
			    sizeof(err)) == 0)
				corr_report(c, &rep);
			break;
		case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP:
			if (codec_drop_decode(env->track_drop, &d, err,
			    sizeof(err)) == 0)
				corr_drop(c, &d);
			break;
		case TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT:
			corr_advance(c, env->heartbeat->time_ns);
			break;
		default:
			break;
		}
	}
	t0 = bench_clock() - t0;
	corr_free(c);
	return t0;
}

/* qsort order of doubles. */
static int
bench_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of n sorted values. */
static double
bench_median(const double *v, int n)
{
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Run and print one recording's figures. */
static void
bench_one(struct bench_rec *r, int runs, int nd)
{
	struct bench_run	 m, t;
	double			 rate[64], med, dec[64];
	int			 i;

	bench_decode(r);
	for (i = 0; i < runs; i++) {
		bench_core(r, 0, &t);
		rate[i] = (double)r->nrep / t.secs;
	}
	/*
	 * Memory is measured on a run of its own, after the timed ones: by
	 * then the code and the libraries' pages the core touches are
	 * resident, as in a running daemon, and only what the run itself
	 * maps and fills counts (the first scenario of a process otherwise
	 * carried those pages, some 100 bytes a track at 1k objects).
	 */
	bench_core(r, 1, &m);
	qsort(rate, (size_t)runs, sizeof(rate[0]), bench_cmp);
	med = bench_median(rate, runs);
	printf("%-8s objects=%-6u reports=%-8zu median=%.3f Mreports/s "
	    "min=%.3f max=%.3f ns/report=%.0f tracks_peak=%zu "
	    "bytes/track=%.0f allocs_steady=%llu\n", r->name, r->objects,
	    r->nrep, med / 1e6, rate[0] / 1e6, rate[runs - 1] / 1e6,
	    1e9 / med, m.max_tracks, m.max_tracks ? (double)m.rss_delta /
	    (double)m.max_tracks : 0.0, (unsigned long long)m.allocs_steady);
	printf("%-8s   drops=%zu heartbeats=%zu bad_frames=%zu refused: "
	    "old=%llu limit=%llu invalid=%llu created=%llu idle=%llu\n", "",
	    r->ndrop, r->nhb, r->bad, (unsigned long long)m.st.old,
	    (unsigned long long)m.st.limit, (unsigned long long)m.st.invalid,
	    (unsigned long long)m.st.created, (unsigned long long)m.st.idle);
	for (i = 0; i < nd; i++)
		dec[i] = (double)r->nrep / bench_decode_core(r);
	if (nd == 0)
		return;
	qsort(dec, (size_t)nd, sizeof(dec[0]), bench_cmp);
	printf("%-8s   decode+core median=%.3f Mreports/s ns/report=%.0f\n",
	    "", bench_median(dec, nd) / 1e6, 1e9 / bench_median(dec, nd));
	fflush(stdout);
}

/* Free a recording's buffers. */
static void
bench_rec_free(struct bench_rec *r)
{
	free(r->buf);
	free(r->rep);
	free(r->drop);
	free(r->hb);
	free(r->kind);
	memset(r, 0, sizeof(*r));
}

/* Parse -n 0,1000,10000 (0: the scenario as loaded). */
static void
bench_sizes(struct bench_opts *o, const char *s)
{
	char	*end;

	o->nsizes = 0;
	while (*s != '\0' && o->nsizes < BENCH_MAXSIZES) {
		o->sizes[o->nsizes++] = (unsigned)strtoul(s, &end, 10);
		if (end == s || (*end != ',' && *end != '\0'))
			bench_die("-n: want N[,N...]");
		s = *end == ',' ? end + 1 : end;
	}
}

/* Parse the options. */
static void
bench_options(struct bench_opts *o, int argc, char **argv)
{
	int	ch;

	memset(o, 0, sizeof(*o));
	o->runs = 5;
	o->druns = 3;
	o->duration_s = -1.0;
	o->seed = 1;
	o->scenario = BENCH_SCENARIO;
	bench_sizes(o, "0,1000,10000,100000");
	while ((ch = getopt(argc, argv, "D:d:n:r:s:S:")) != -1) {
		switch (ch) {
		case 'D':
			o->druns = atoi(optarg);
			break;
		case 'd':
			o->duration_s = strtod(optarg, NULL);
			break;
		case 'n':
			bench_sizes(o, optarg);
			break;
		case 'r':
			o->runs = atoi(optarg);
			break;
		case 's':
			o->seed = strtoull(optarg, NULL, 0);
			break;
		case 'S':
			o->scenario = optarg;
			break;
		default:
			bench_die("usage: bench_replay [-r runs] [-D runs] "
			    "[-d seconds] [-s seed] [-n N,...] [-S scenario] "
			    "[recording...]");
		}
	}
	if (o->runs < 1 || o->runs > 64 || o->druns < 0 || o->druns > 64 ||
	    o->duration_s == 0.0)
		bench_die("-r wants 1..64, -D 0..64, -d a positive duration");
}

/* Bench the recordings named, or the generated ones. */
int
main(int argc, char **argv)
{
	struct bench_opts	o;
	struct bench_rec	r;
	unsigned		i;
	int			k;

	bench_options(&o, argc, argv);
	printf("bench_replay: cores=%ld runs=%d seed=%llu (figures: median "
	    "of the runs; decode not timed unless said)\n",
	    sysconf(_SC_NPROCESSORS_ONLN), o.runs,
	    (unsigned long long)o.seed);
	for (k = optind; k < argc; k++) {
		memset(&r, 0, sizeof(r));
		bench_load(&r, argv[k]);
		bench_one(&r, o.runs, o.druns);
		bench_rec_free(&r);
	}
	for (i = 0; optind == argc && i < o.nsizes; i++) {
		memset(&r, 0, sizeof(r));
		bench_generate(&r, &o, o.sizes[i]);
		bench_one(&r, o.runs, o.druns);
		bench_rec_free(&r);
	}
	return 0;
}
