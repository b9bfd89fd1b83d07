/*
 * trackfuse-score: compare a picture with the simulator's ground truth.
 *
 *   trackfuse-score TRUTH PICTURE [--sensors REC] [--interval S]
 *       [--assoc-m M] [--ospa-c M] [--ospa-p P] [--max-age S]
 *       [--group ID,ID...] [--json] [--objects]
 *
 * TRUTH is trackfuse-sim --truth (JSON lines), PICTURE a varint-delimited
 * Envelope stream (trackfuse-sub --record, trackfused --picture-out), REC
 * the simulator's --record (the sensors' own tracks, for the single-sensor
 * baseline of the fusion gain). Everything is turned into ECEF tracks and
 * handed to siap.c; this file only reads, converts and prints.
 * docs/scoring.md defines the measures.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "trackfuse/codec.h"
#include "trackfuse/geo.h"
#include "trackfuse/log.h"
#include "trackfuse/siap.h"
#include "trackfuse/track.h"
#include "trackfuse/wire.h"

#define SCORE_MAX_FRAME		(16U * 1024 * 1024)
#define SCORE_ARENA		(256U * 1024)
#define SCORE_CHUNK		(1 << 20)
#define SCORE_LINE_MAX		65536
#define SCORE_JSON_DEPTH	8
#define SCORE_GROUP_MAX		16	/* objects in a --group */

/* Required keys of a truth line. */
#define SCORE_K_T	0x001
#define SCORE_K_ID	0x002
#define SCORE_K_LAT	0x004
#define SCORE_K_LON	0x008
#define SCORE_K_ALT	0x010
#define SCORE_K_VE	0x020
#define SCORE_K_VN	0x040
#define SCORE_K_VU	0x080
#define SCORE_K_COV	0x100
#define SCORE_K_ALL	0x1ff

/* Names (objects, sensors) with an open-addressing index. */
struct score_names {
	char		(*name)[TF_ID_LEN];
	char		(*cat)[TF_ID_LEN];
	uint32_t	 n, cap;
	uint32_t	*slot;		/* UINT32_MAX: empty */
	uint32_t	 nslot;
};

/* Tracks keyed by a 64-bit id, with an open-addressing index. */
struct score_tracks {
	struct siap_track	*v;
	size_t			 n, cap;
	uint64_t		*key;
	uint32_t		*slot;
	size_t			 nslot;
};

struct score_opts {
	const char		*truth;
	const char		*picture;
	const char		*sensors;
	struct siap_params	 p;
	int			 json;
	int			 objects;
	const char		*group;		/* comma-separated ids */
	uint32_t		 gobj[SCORE_GROUP_MAX];
	size_t			 ngroup;
};

struct score {
	struct score_opts	 o;
	struct score_names	 objs;
	struct score_names	 sens;
	struct siap_truth	*truth;
	size_t			 ntruth, captruth;
	struct score_tracks	 pic;
	struct score_tracks	 sen;
	size_t			 frames, invalid, ignored;
};

/* One truth line being parsed. */
struct score_line {
	const char		*p;
	const char		*err;
	unsigned		 have;
	char			 id[TF_ID_LEN];
	char			 cat[TF_ID_LEN];
	int64_t			 t_ns;
	double			 lat, lon, alt, v[3];
	uint32_t		 ncover;
};

/* Print usage and exit with status. */
static __dead void
score_usage(int status)
{
	FILE	*fp = status ? stderr : stdout;

	fprintf(fp,
	    "usage: trackfuse-score TRUTH PICTURE [--sensors REC] [--interval S]\n"
	    "                       [--assoc-m M] [--ospa-c M] [--ospa-p P]\n"
	    "                       [--max-age S] [--group ID,ID...] [--json]\n"
	    "                       [--objects]\n"
	    "  TRUTH          trackfuse-sim --truth file (JSON lines)\n"
	    "  PICTURE        varint-delimited picture (trackfuse-sub --record,\n"
	    "                 trackfused --picture-out)\n"
	    "  --sensors REC  trackfuse-sim --record: single-sensor baseline\n"
	    "  --interval S   sample interval, multiple of the truth step (1)\n"
	    "  --assoc-m M    track-to-truth association distance (5000)\n"
	    "  --ospa-c M     OSPA cut-off (10000)\n"
	    "  --ospa-p P     OSPA order (1)\n"
	    "  --max-age S    a track not updated for S s is gone (30)\n"
	    "  --group IDS    objects of a formation: how often they have as\n"
	    "                 many distinct tracks as objects\n"
	    "  --json         one JSON object instead of a table\n"
	    "  --objects      per-object continuity details\n");
	exit(status);
}

/* A finite positive number from s, or exit with a usage error. */
static double
score_num(const char *opt, const char *s, double min)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v < min) {
		fprintf(stderr, "trackfuse-score: --%s: bad value %s\n", opt, s);
		score_usage(1);
	}
	return v;
}

/* Parse the command line into s->o. */
static void
score_options(struct score *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sensors",	required_argument,	NULL, 's' },
		{ "interval",	required_argument,	NULL, 'i' },
		{ "assoc-m",	required_argument,	NULL, 'a' },
		{ "ospa-c",	required_argument,	NULL, 'c' },
		{ "ospa-p",	required_argument,	NULL, 'p' },
		{ "max-age",	required_argument,	NULL, 'm' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "objects",	no_argument,		NULL, 'o' },
		{ "group",	required_argument,	NULL, 'g' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	int	ch;

	siap_params_default(&s->o.p);
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			s->o.sensors = optarg;
			break;
		case 'i':
			s->o.p.interval_ns = llround(score_num("interval",
			    optarg, 0.001) * 1e9);
			break;
		case 'a':
			s->o.p.assoc_m = score_num("assoc-m", optarg, 0.0);
			break;
		case 'c':
			s->o.p.ospa_c = score_num("ospa-c", optarg, 1e-9);
			break;
		case 'p':
			s->o.p.ospa_p = score_num("ospa-p", optarg, 1.0);
			break;
		case 'm':
			s->o.p.max_age_ns = llround(score_num("max-age",
			    optarg, 0.0) * 1e9);
			break;
		case 'j':
			s->o.json = 1;
			break;
		case 'o':
			s->o.objects = 1;
			break;
		case 'g':
			s->o.group = optarg;
			break;
		case 'h':
			score_usage(0);
		default:
			score_usage(1);
		}
	}
	if (argc - optind != 2)
		score_usage(1);
	s->o.truth = argv[optind];
	s->o.picture = argv[optind + 1];
}

/* FNV-1a of a string. */
static uint32_t
score_hash_str(const char *p)
{
	uint32_t	h = 2166136261U;

	for (; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619U;
	return h;
}

/* Rebuild the name index at twice the size. */
static void
score_names_grow(struct score_names *nm)
{
	uint32_t	i, h;

	free(nm->slot);
	nm->nslot = nm->nslot ? nm->nslot * 2 : 64;
	if ((nm->slot = malloc(nm->nslot * sizeof(*nm->slot))) == NULL)
		fatal("score: out of memory");
	memset(nm->slot, 0xff, nm->nslot * sizeof(*nm->slot));
	for (i = 0; i < nm->n; i++) {
		h = score_hash_str(nm->name[i]) & (nm->nslot - 1);
		while (nm->slot[h] != UINT32_MAX)
			h = (h + 1) & (nm->nslot - 1);
		nm->slot[h] = i;
	}
}

/* Index of name, added (with category cat) when new. */
static uint32_t
score_names_get(struct score_names *nm, const char *name, const char *cat)
{
	uint32_t	h;

	if ((nm->n + 1) * 2 > nm->nslot)
		score_names_grow(nm);
	h = score_hash_str(name) & (nm->nslot - 1);
	for (; nm->slot[h] != UINT32_MAX; h = (h + 1) & (nm->nslot - 1))
		if (strcmp(nm->name[nm->slot[h]], name) == 0)
			return nm->slot[h];
	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 64;
		nm->name = reallocarray(nm->name, nm->cap, sizeof(*nm->name));
		nm->cat = reallocarray(nm->cat, nm->cap, sizeof(*nm->cat));
		if (nm->name == NULL || nm->cat == NULL)
			fatal("score: out of memory");
	}
	snprintf(nm->name[nm->n], sizeof(nm->name[0]), "%s", name);
	snprintf(nm->cat[nm->n], sizeof(nm->cat[0]), "%s", cat);
	nm->slot[h] = nm->n;
	return nm->n++;
}

/* Index of name, or UINT32_MAX when absent. */
static uint32_t
score_names_find(const struct score_names *nm, const char *name)
{
	uint32_t	h;

	if (nm->nslot == 0)
		return UINT32_MAX;
	h = score_hash_str(name) & (nm->nslot - 1);
	for (; nm->slot[h] != UINT32_MAX; h = (h + 1) & (nm->nslot - 1))
		if (strcmp(nm->name[nm->slot[h]], name) == 0)
			return nm->slot[h];
	return UINT32_MAX;
}

/* Resolve --group against the truth's objects; -1 (said why) on error. */
static int
score_group(struct score *s)
{
	char		 buf[SCORE_GROUP_MAX * TF_ID_LEN], *p, *id;
	uint32_t	 k;

	if (s->o.group == NULL)
		return 0;
	if (strlen(s->o.group) >= sizeof(buf)) {
		fprintf(stderr, "trackfuse-score: --group: too long\n");
		return -1;
	}
	memcpy(buf, s->o.group, strlen(s->o.group) + 1);
	for (p = buf; (id = strsep(&p, ",")) != NULL;) {
		if ((k = score_names_find(&s->objs, id)) == UINT32_MAX) {
			fprintf(stderr, "trackfuse-score: --group: no object "
			    "%s in the truth\n", id);
			return -1;
		}
		if (s->o.ngroup == SCORE_GROUP_MAX) {
			fprintf(stderr, "trackfuse-score: --group: more than "
			    "%d objects\n", SCORE_GROUP_MAX);
			return -1;
		}
		s->o.gobj[s->o.ngroup++] = k;
	}
	return 0;
}

/* Free a name table. */
static void
score_names_free(struct score_names *nm)
{
	free(nm->name);
	free(nm->cat);
	free(nm->slot);
}

/* Slot of a 64-bit key (splitmix64 finaliser as the hash). */
static size_t
score_hash_u64(uint64_t k, size_t mask)
{
	k ^= k >> 30;
	k *= 0xbf58476d1ce4e5b9ULL;
	k ^= k >> 27;
	k *= 0x94d049bb133111ebULL;
	k ^= k >> 31;
	return (size_t)k & mask;
}

/* Rebuild the track index at twice the size. */
static void
score_tracks_grow(struct score_tracks *ts)
{
	size_t	i, h;

	free(ts->slot);
	ts->nslot = ts->nslot ? ts->nslot * 2 : 256;
	if ((ts->slot = malloc(ts->nslot * sizeof(*ts->slot))) == NULL)
		fatal("score: out of memory");
	memset(ts->slot, 0xff, ts->nslot * sizeof(*ts->slot));
	for (i = 0; i < ts->n; i++) {
		h = score_hash_u64(ts->key[i], ts->nslot - 1);
		while (ts->slot[h] != UINT32_MAX)
			h = (h + 1) & (ts->nslot - 1);
		ts->slot[h] = (uint32_t)i;
	}
}

/* The track with key k (id, sensor), created when new. */
static struct siap_track *
score_tracks_get(struct score_tracks *ts, uint64_t k, uint64_t id,
    uint32_t sensor)
{
	size_t	h;

	if ((ts->n + 1) * 2 > ts->nslot)
		score_tracks_grow(ts);
	h = score_hash_u64(k, ts->nslot - 1);
	for (; ts->slot[h] != UINT32_MAX; h = (h + 1) & (ts->nslot - 1))
		if (ts->key[ts->slot[h]] == k)
			return &ts->v[ts->slot[h]];
	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? ts->cap * 2 : 256;
		ts->v = reallocarray(ts->v, ts->cap, sizeof(*ts->v));
		ts->key = reallocarray(ts->key, ts->cap, sizeof(*ts->key));
		if (ts->v == NULL || ts->key == NULL)
			fatal("score: out of memory");
	}
	memset(&ts->v[ts->n], 0, sizeof(ts->v[0]));
	ts->v[ts->n].id = id;
	ts->v[ts->n].sensor = sensor;
	ts->key[ts->n] = k;
	ts->slot[h] = (uint32_t)ts->n;
	return &ts->v[ts->n++];
}

/* Free a track set. */
static void
score_tracks_free(struct score_tracks *ts)
{
	size_t	i;

	for (i = 0; i < ts->n; i++)
		siap_track_free(&ts->v[i]);
	free(ts->v);
	free(ts->key);
	free(ts->slot);
}

/* Skip JSON white space. */
static void
score_ws(struct score_line *l)
{
	while (*l->p == ' ' || *l->p == '\t' || *l->p == '\r')
		l->p++;
}

/* Expect character c; -1 with an error otherwise. */
static int
score_expect(struct score_line *l, char c, const char *err)
{
	score_ws(l);
	if (*l->p != c) {
		l->err = err;
		return -1;
	}
	l->p++;
	return 0;
}

/*
 * A JSON string into out (NULL: skip it). Escapes are kept simple: the
 * truth writer emits ids that need none, so \uXXXX beyond ASCII is refused.
 */
static int
score_jstring(struct score_line *l, char *out, size_t outlen)
{
	size_t	n = 0;
	char	c;

	if (score_expect(l, '"', "expected a string") == -1)
		return -1;
	for (;;) {
		c = *l->p++;
		if (c == '"')
			break;
		if (c == '\0' || (unsigned char)c < 0x20) {
			l->err = "unterminated string";
			return -1;
		}
		if (c == '\\') {
			c = *l->p++;
			if (c != '"' && c != '\\' && c != '/') {
				l->err = "unsupported escape in string";
				return -1;
			}
		}
		if (out != NULL && n + 1 >= outlen) {
			l->err = "string too long";
			return -1;
		}
		if (out != NULL)
			out[n++] = c;
	}
	if (out != NULL)
		out[n] = '\0';
	return 0;
}

/* A finite JSON number into *v. */
static int
score_jnumber(struct score_line *l, double *v)
{
	char	*end;

	score_ws(l);
	if (*l->p != '-' && (*l->p < '0' || *l->p > '9')) {
		l->err = "expected a number";
		return -1;
	}
	errno = 0;
	*v = strtod(l->p, &end);
	if (end == l->p || errno != 0 || !isfinite(*v)) {
		l->err = "bad number";
		return -1;
	}
	l->p = end;
	return 0;
}

/* A JSON integer (no fraction, no exponent) into *v. */
static int
score_jint(struct score_line *l, int64_t *v)
{
	char		*end;
	long long	 x;

	score_ws(l);
	if (*l->p != '-' && (*l->p < '0' || *l->p > '9')) {
		l->err = "expected an integer";
		return -1;
	}
	errno = 0;
	x = strtoll(l->p, &end, 10);
	if (end == l->p || errno != 0 || *end == '.' || *end == 'e' ||
	    *end == 'E') {
		l->err = "bad integer";
		return -1;
	}
	l->p = end;
	*v = x;
	return 0;
}

/* An array of strings; *n gets how many. */
static int
score_jstrings(struct score_line *l, uint32_t *n)
{
	*n = 0;
	if (score_expect(l, '[', "expected an array") == -1)
		return -1;
	score_ws(l);
	if (*l->p == ']') {
		l->p++;
		return 0;
	}
	for (;;) {
		if (score_jstring(l, NULL, 0) == -1)
			return -1;
		(*n)++;
		score_ws(l);
		if (*l->p == ']') {
			l->p++;
			return 0;
		}
		if (score_expect(l, ',', "expected , or ] in array") == -1)
			return -1;
	}
}

/* Skip any JSON value (unknown keys), at most SCORE_JSON_DEPTH deep. */
static int
score_jskip(struct score_line *l, int depth)
{
	double	d;
	char	close;

	score_ws(l);
	if (depth > SCORE_JSON_DEPTH) {
		l->err = "nested too deep";
		return -1;
	}
	if (*l->p == '"')
		return score_jstring(l, NULL, 0);
	if (strncmp(l->p, "true", 4) == 0 || strncmp(l->p, "null", 4) == 0) {
		l->p += 4;
		return 0;
	}
	if (strncmp(l->p, "false", 5) == 0) {
		l->p += 5;
		return 0;
	}
	if (*l->p != '[' && *l->p != '{')
		return score_jnumber(l, &d);
	close = *l->p == '[' ? ']' : '}';
	l->p++;
	score_ws(l);
	if (*l->p == close) {
		l->p++;
		return 0;
	}
	for (;;) {
		if (close == '}' && (score_jstring(l, NULL, 0) == -1 ||
		    score_expect(l, ':', "expected :") == -1))
			return -1;
		if (score_jskip(l, depth + 1) == -1)
			return -1;
		score_ws(l);
		if (*l->p == close) {
			l->p++;
			return 0;
		}
		if (score_expect(l, ',', "expected , in value") == -1)
			return -1;
	}
}

/* The value of key in a truth line. */
static int
score_jvalue(struct score_line *l, const char *key)
{
	static const struct {
		const char	*key;
		unsigned	 bit;
		size_t		 off;
	} nums[] = {
		{ "lat", SCORE_K_LAT, offsetof(struct score_line, lat) },
		{ "lon", SCORE_K_LON, offsetof(struct score_line, lon) },
		{ "alt", SCORE_K_ALT, offsetof(struct score_line, alt) },
		{ "ve", SCORE_K_VE, offsetof(struct score_line, v[0]) },
		{ "vn", SCORE_K_VN, offsetof(struct score_line, v[1]) },
		{ "vu", SCORE_K_VU, offsetof(struct score_line, v[2]) },
	};
	size_t	i;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (strcmp(key, nums[i].key) == 0) {
			l->have |= nums[i].bit;
			return score_jnumber(l, (double *)((char *)l +
			    nums[i].off));
		}
	if (strcmp(key, "t_ns") == 0) {
		l->have |= SCORE_K_T;
		return score_jint(l, &l->t_ns);
	}
	if (strcmp(key, "id") == 0) {
		l->have |= SCORE_K_ID;
		return score_jstring(l, l->id, sizeof(l->id));
	}
	if (strcmp(key, "category") == 0)
		return score_jstring(l, l->cat, sizeof(l->cat));
	if (strcmp(key, "covered_by") == 0) {
		l->have |= SCORE_K_COV;
		return score_jstrings(l, &l->ncover);
	}
	return score_jskip(l, 1);
}

/* Parse one truth line into l; -1 with l->err on a fault. */
static int
score_truth_parse(struct score_line *l)
{
	char	key[64];

	if (score_expect(l, '{', "expected {") == -1)
		return -1;
	for (;;) {
		if (score_jstring(l, key, sizeof(key)) == -1 ||
		    score_expect(l, ':', "expected :") == -1 ||
		    score_jvalue(l, key) == -1)
			return -1;
		score_ws(l);
		if (*l->p == '}')
			break;
		if (score_expect(l, ',', "expected , or }") == -1)
			return -1;
	}
	l->p++;
	score_ws(l);
	if (*l->p != '\0' && *l->p != '\n') {
		l->err = "trailing characters after the object";
		return -1;
	}
	if ((l->have & SCORE_K_ALL) != SCORE_K_ALL) {
		l->err = "missing key (t_ns id lat lon alt ve vn vu covered_by)";
		return -1;
	}
	if (l->lat < -90.0 || l->lat > 90.0 || l->lon < -180.0 ||
	    l->lon > 180.0 || l->id[0] == '\0') {
		l->err = "lat, lon out of range or empty id";
		return -1;
	}
	return 0;
}

/* Add one parsed truth line as a sample in ECEF. */
static void
score_truth_add(struct score *s, const struct score_line *l)
{
	struct siap_truth	*t;

	if (s->ntruth == s->captruth) {
		s->captruth = s->captruth ? s->captruth * 2 : 4096;
		if ((s->truth = reallocarray(s->truth, s->captruth,
		    sizeof(*s->truth))) == NULL)
			fatal("score: out of memory");
	}
	t = &s->truth[s->ntruth++];
	t->t_ns = l->t_ns;
	t->obj = score_names_get(&s->objs, l->id, l->cat);
	t->ncover = l->ncover;
	geo_lla_to_ecef(l->lat, l->lon, l->alt, t->pos);
	geo_enu_to_ecef_vec(l->lat, l->lon, l->v, t->vel);
}

/* Order truth samples by time, then object. */
static int
score_truth_cmp(const void *a, const void *b)
{
	const struct siap_truth	*x = a, *y = b;

	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	return x->obj < y->obj ? -1 : x->obj > y->obj;
}

/* Read the truth file; -1 after logging file:line: reason. */
static int
score_truth_read(struct score *s, const char *path)
{
	struct score_line	 l;
	FILE			*f;
	char			*line = NULL;
	size_t			 cap = 0, no = 0;
	ssize_t			 n;
	int			 rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("score: %s", path);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		no++;
		if (n == 1 && line[0] == '\n')
			continue;
		memset(&l, 0, sizeof(l));
		l.p = line;
		if (n > SCORE_LINE_MAX || strlen(line) != (size_t)n) {
			l.err = n > SCORE_LINE_MAX ? "line too long" :
			    "NUL byte in line";
			rc = -1;
		} else
			rc = score_truth_parse(&l);
		if (rc == -1) {
			log_warnx("score: truth %s:%zu: %s", path, no, l.err);
			break;
		}
		score_truth_add(s, &l);
	}
	if (rc == 0 && ferror(f)) {
		log_warn("score: truth %s", path);
		rc = -1;
	}
	free(line);
	fclose(f);
	if (rc == 0 && s->ntruth == 0) {
		log_warnx("score: truth %s: no samples", path);
		rc = -1;
	}
	if (rc == 0)
		qsort(s->truth, s->ntruth, sizeof(*s->truth), score_truth_cmp);
	return rc;
}

/* An update in ECEF from WGS84 position, ENU velocity and covariance. */
static void
score_update(struct siap_update *u, int64_t t, double lat, double lon,
    double alt, const double vel[3], const double cov[TF_COV_N])
{
	double	c[36];

	memset(u, 0, sizeof(*u));
	u->t_ns = t;
	geo_lla_to_ecef(lat, lon, alt, u->pos);
	geo_enu_to_ecef_vec(lat, lon, vel, u->vel);
	geo_cov_unpack(cov, c);
	geo_cov_enu_to_ecef(lat, lon, c, u->cov);
}

/* Take a picture frame: PictureTrack and PictureDrop, others ignored. */
static void
score_picture_env(struct score *s, const char *path, const Envelope *env)
{
	struct tf_picture_track	 pt;
	struct siap_update	 u;
	char			 err[CODEC_ERRLEN];

	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK:
		if (codec_picture_decode(env->picture_track, &pt, err,
		    sizeof(err)) == -1) {
			log_warnx("score: picture %s frame=%zu: invalid track: %s",
			    path, s->frames, err);
			s->invalid++;
			return;
		}
		score_update(&u, pt.t_ns, pt.lat_deg, pt.lon_deg, pt.alt_m,
		    pt.vel, pt.cov);
		u.contributors = pt.contributors;
		siap_track_push(score_tracks_get(&s->pic, pt.track_id,
		    pt.track_id, 0), &u);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_DROP:
		memset(&u, 0, sizeof(u));
		u.t_ns = env->picture_drop->time_ns;
		u.drop = 1;
		siap_track_push(score_tracks_get(&s->pic,
		    env->picture_drop->track_id, env->picture_drop->track_id,
		    0), &u);
		break;
	default:
		s->ignored++;
		break;
	}
}

/* Take a recording frame: TrackReport and TrackDrop, others ignored. */
static void
score_sensor_env(struct score *s, const char *path, const Envelope *env)
{
	struct tf_report	 r;
	struct tf_drop		 d;
	struct siap_update	 u;
	char			 err[CODEC_ERRLEN];
	uint32_t		 k;

	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT:
		if (codec_report_decode(env->track_report, &r, err,
		    sizeof(err)) == -1) {
			log_warnx("score: sensors %s frame=%zu: invalid report: %s",
			    path, s->frames, err);
			s->invalid++;
			return;
		}
		score_update(&u, r.t_ns, r.lat_deg, r.lon_deg, r.alt_m, r.vel,
		    r.cov);
		k = score_names_get(&s->sens, r.sensor, "");
		siap_track_push(score_tracks_get(&s->sen,
		    ((uint64_t)k << 32) | r.local_track, r.local_track, k), &u);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP:
		if (codec_drop_decode(env->track_drop, &d, err,
		    sizeof(err)) == -1) {
			s->invalid++;
			return;
		}
		memset(&u, 0, sizeof(u));
		u.t_ns = d.t_ns;
		u.drop = 1;
		k = score_names_get(&s->sens, d.sensor, "");
		siap_track_push(score_tracks_get(&s->sen,
		    ((uint64_t)k << 32) | d.local_track, d.local_track, k), &u);
		break;
	default:
		s->ignored++;
		break;
	}
}

/*
 * Read a varint-delimited Envelope file through lib's wire code, calling
 * fn for each frame. A truncated last frame is warned about and ignored
 * (a recorder killed mid-write); any other framing fault is an error.
 */
static int
score_frames_read(struct score *s, const char *path,
    void (*fn)(struct score *, const char *, const Envelope *))
{
	struct evbuffer		*buf;
	struct wire_arena	*a;
	enum wire_status	 ws;
	Envelope		*env;
	int			 fd, n, rc = 0;

	if ((fd = open(path, O_RDONLY)) == -1) {
		log_warn("score: %s", path);
		return -1;
	}
	if ((buf = evbuffer_new()) == NULL ||
	    (a = wire_arena_new(SCORE_ARENA)) == NULL)
		fatal("score: out of memory");
	s->frames = 0;
	for (;;) {
		while ((ws = wire_read_envelope(buf, SCORE_MAX_FRAME, a,
		    &env)) == WIRE_OK) {
			s->frames++;
			fn(s, path, env);
			wire_arena_reset(a);
		}
		if (ws != WIRE_NEED_MORE) {
			log_warnx("score: %s frame=%zu: %s", path,
			    s->frames + 1, wire_status_str(ws));
			rc = -1;
			break;
		}
		if ((n = evbuffer_read(buf, fd, SCORE_CHUNK)) == -1) {
			log_warn("score: %s", path);
			rc = -1;
			break;
		}
		if (n == 0) {
			if (evbuffer_get_length(buf) > 0)
				log_warnx("score: %s: truncated last frame "
				    "ignored bytes=%zu", path,
				    evbuffer_get_length(buf));
			break;
		}
	}
	wire_arena_free(a);
	evbuffer_free(buf);
	close(fd);
	return rc;
}

/* Print "key":v, or null when v is not a number, then sep. */
static void
score_jnum(const char *key, double v, const char *sep)
{
	if (isfinite(v))
		printf("\"%s\":%.6g%s", key, v, sep);
	else
		printf("\"%s\":null%s", key, sep);
}

/* Per-object details as a JSON array value. */
static void
score_json_objects(const struct score *s, const struct siap_result *r)
{
	const struct siap_object	*o;
	uint32_t			 k;
	size_t				 i;

	printf(",\"per_object\":[");
	for (k = 0; k < r->nobj; k++) {
		o = &r->obj[k];
		printf("%s{\"id\":\"%s\",\"category\":\"%s\",\"covered\":%zu,"
		    "\"tracked\":%zu,\"track_ids\":%zu,\"changes\":%zu,"
		    "\"longest\":%zu,\"main_track\":%" PRIu64 ",\"change_t_s\":[",
		    k ? "," : "", s->objs.name[k], s->objs.cat[k], o->covered,
		    o->tracked, o->nids, o->changes, o->longest, o->main_id);
		for (i = 0; i < o->changes; i++)
			printf("%s%.3f", i ? "," : "", (double)(o->change_t[i] -
			    s->truth[0].t_ns) * 1e-9);
		printf("]}");
	}
	printf("],\"spurious_tracks\":[");
	for (i = 0, k = 0; i < r->ntrk; i++)
		if (r->trk_spur[i] > 0)
			printf("%s{\"track\":%" PRIu64 ",\"alive\":%zu,"
			    "\"spurious\":%zu}", k++ ? "," : "", s->pic.v[i].id,
			    r->trk_alive[i], r->trk_spur[i]);
	printf("]");
}

/* The result as one JSON object on one line. */
static void
score_json(const struct score *s, const struct siap_result *r)
{
	printf("{");
	score_jnum("completeness", r->completeness, ",");
	score_jnum("ambiguity", r->ambiguity, ",");
	score_jnum("spuriousness", r->spuriousness, ",");
	score_jnum("positional_accuracy_m", r->pos_acc_m, ",");
	score_jnum("velocity_accuracy_mps", r->vel_acc_mps, ",");
	score_jnum("track_number_change_rate_per_s", r->change_rate, ",");
	score_jnum("longest_track_segment", r->longest_segment, ",");
	score_jnum("ospa_m", r->ospa_m, ",");
	score_jnum("fusion_gain", r->fusion_gain, ",");
	score_jnum("nees_mean", r->nees_mean, ",");
	if (isfinite(r->nees_lo))
		printf("\"nees_band\":[%.6g,%.6g],", r->nees_lo, r->nees_hi);
	else
		printf("\"nees_band\":null,");
	printf("\"nees_inside\":%s,\"nees_samples\":%zu,\"nees_skipped\":%zu,",
	    r->nees_inside ? "true" : "false", r->nees_n, r->nees_skipped);
	if (isfinite(r->nees_ci_lo))
		printf("\"nees_ci_objects\":[%.6g,%.6g],", r->nees_ci_lo,
		    r->nees_ci_hi);
	else
		printf("\"nees_ci_objects\":null,");
	score_jnum("nees_single_mean", r->nees_single_mean, ",");
	score_jnum("nees_fused_mean", r->nees_fused_mean, ",");
	printf("\"nees_single_samples\":%zu,\"nees_fused_samples\":%zu,",
	    r->nees_single_n, r->nees_fused_n);
	score_jnum("fused_rms_m", r->fused_rms_m, ",");
	score_jnum("single_rms_m", r->single_rms_m, ",");
	printf("\"gain_samples\":%zu,\"samples\":%zu,"
	    "\"objects\":%u,\"tracks\":%zu,\"sensor_tracks\":%zu,"
	    "\"invalid_frames\":%zu", r->gain_n, r->samples,
	    r->nobj, s->pic.n, s->sen.n, s->invalid);
	if (s->o.ngroup > 0) {
		printf(",\"group\":{\"samples\":%zu,\"whole\":%zu,"
		    "\"min_tracks\":%zu,", r->group_samples, r->group_whole,
		    r->group_min);
		score_jnum("whole_fraction", r->group_samples ?
		    (double)r->group_whole / (double)r->group_samples : NAN, "}");
	}
	if (s->o.objects)
		score_json_objects(s, r);
	printf("}\n");
}

/* One table row: name, value (or "-"), a note. */
static void
score_row(const char *name, double v, const char *note)
{
	if (isfinite(v))
		printf("%-34s %12.6g  %s\n", name, v, note);
	else
		printf("%-34s %12s  %s\n", name, "-", note);
}

/* The result as a table for people. */
static void
score_table(const struct score *s, const struct siap_result *r)
{
	const struct siap_object	*o;
	uint32_t			 k;
	size_t				 i;

	printf("samples=%zu objects=%u tracks=%zu sensor_tracks=%zu "
	    "invalid_frames=%zu\n", r->samples, r->nobj, s->pic.n, s->sen.n,
	    s->invalid);
	score_row("completeness", r->completeness, "tracked / covered");
	score_row("ambiguity", r->ambiguity, "associated tracks / tracked");
	score_row("spuriousness", r->spuriousness, "unassociated / tracks");
	score_row("positional_accuracy_m", r->pos_acc_m, "mean, m");
	score_row("velocity_accuracy_mps", r->vel_acc_mps, "mean, m/s");
	score_row("track_number_change_rate_per_s", r->change_rate,
	    "changes / s tracked");
	score_row("longest_track_segment", r->longest_segment,
	    "mean fraction of covered time");
	score_row("ospa_m", r->ospa_m, "mean, m");
	score_row("fusion_gain", r->fusion_gain, "fused RMS / best single RMS");
	score_row("nees_mean", r->nees_mean, r->nees_inside ?
	    "inside its 95% band" : "OUTSIDE its 95% band");
	printf("%-34s [%.4g, %.4g] over %zu samples\n", "nees_band",
	    r->nees_lo, r->nees_hi, r->nees_n);
	printf("%-34s [%.4g, %.4g] with samples clustered by object\n",
	    "nees_ci_objects", r->nees_ci_lo, r->nees_ci_hi);
	score_row("nees_single_mean", r->nees_single_mean,
	    "one-sensor updates");
	score_row("nees_fused_mean", r->nees_fused_mean,
	    "updates fusing two or more");
	if (s->o.ngroup > 0)
		printf("%-34s %12zu  of %zu samples with all %zu covered "
		    "(fewest %zu)\n", "group_whole", r->group_whole,
		    r->group_samples, s->o.ngroup, r->group_min);
	if (!s->o.objects)
		return;
	printf("\n%-16s %-18s %7s %7s %5s %7s %7s %s\n", "object", "category",
	    "covered", "tracked", "ids", "changes", "longest", "main_track");
	for (k = 0; k < r->nobj; k++) {
		o = &r->obj[k];
		printf("%-16s %-18s %7zu %7zu %5zu %7zu %7zu %" PRIu64 "\n",
		    s->objs.name[k], s->objs.cat[k], o->covered, o->tracked,
		    o->nids, o->changes, o->longest, o->main_id);
	}
	printf("\nspurious tracks (samples alive, spurious):");
	for (i = 0; i < r->ntrk; i++)
		if (r->trk_spur[i] > 0)
			printf(" %" PRIu64 "(%zu,%zu)", s->pic.v[i].id,
			    r->trk_alive[i], r->trk_spur[i]);
	printf("\n");
}

/* Hand everything read to siap_score and print the result. */
static void
score_run(struct score *s)
{
	struct siap_input	 in;
	struct siap_result	 r;
	int64_t			*period = NULL;

	memset(&in, 0, sizeof(in));
	in.truth = s->truth;
	in.ntruth = s->ntruth;
	in.nobj = s->objs.n;
	in.trk = s->pic.v;
	in.ntrk = s->pic.n;
	if (s->o.sensors != NULL) {
		if ((period = calloc(s->sens.n + 1, sizeof(*period))) == NULL)
			fatal("score: out of memory");
		siap_periods(s->sen.v, s->sen.n, s->sens.n,
		    s->o.p.max_age_ns, period);
		in.sen = s->sen.v;
		in.nsen = s->sen.n;
		in.nsensors = s->sens.n;
		in.period_ns = period;
	}
	in.group = s->o.gobj;
	in.ngroup = s->o.ngroup;
	siap_score(&in, &s->o.p, &r);
	if (s->o.json)
		score_json(s, &r);
	else
		score_table(s, &r);
	siap_result_free(&r);
	free(period);
}

/* Read truth, picture and sensors, score, print; 1 on bad input. */
int
main(int argc, char **argv)
{
	static struct score	s;

	score_options(&s, argc, argv);
	log_init(1, 0, NULL);
	log_setprocname("trackfuse-score");
	if (score_truth_read(&s, s.o.truth) == -1 ||
	    score_frames_read(&s, s.o.picture, score_picture_env) == -1 ||
	    (s.o.sensors != NULL && score_frames_read(&s, s.o.sensors,
	    score_sensor_env) == -1) || score_group(&s) == -1)
		return 1;
	score_run(&s);
	score_names_free(&s.objs);
	score_names_free(&s.sens);
	score_tracks_free(&s.pic);
	score_tracks_free(&s.sen);
	free(s.truth);
	return 0;
}
