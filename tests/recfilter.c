/*
 * tf-recfilter: rewrite a recording (trackfuse-sim --record) for the
 * noninterference test (test only). Every TrackReport recipient R may not
 * receive, judged by the real policies exactly as the daemon judges it
 * (feed_authorize's label, the owning identity's nation, the daemon's
 * nation), is either deleted or replaced by random values that R may
 * still not receive (same sensor, track and time; random position,
 * velocity, covariance and category within valid ranges).
 *
 * What R may know: heartbeats (they move everyone's time) and drops are
 * kept, and a source R held that stops being releasable to it is a drop
 * for R; so in delete mode the first refused report of a source R held
 * becomes a TrackDrop at its time.
 *
 * usage: tf-recfilter -f CONFIG --as ID --mode delete|random [--seed N]
 *            IN OUT
 * Prints "recfilter: frames=N refused=N changed=N dropped=N" on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trackfuse/codec.h"
#include "trackfuse/config.h"
#include "trackfuse/feed.h"
#include "trackfuse/log.h"
#include "trackfuse/policy.h"
#include "trackfuse/wire.h"

#define RF_MAX_HELD	65536
#define RF_TRIES	64

struct rf_held {
	char		sensor[TF_ID_LEN];
	uint32_t	track;
};

struct rf {
	struct config		*cfg;
	struct policy_set	*set;
	struct policy_recipient	 rcp;
	int			 random;
	uint64_t		 rng;
	FILE			*out;
	struct rf_held		 held[RF_MAX_HELD];
	size_t			 nheld;
	uint64_t		 frames, refused, changed, dropped;
};

/* xorshift64*: seeded, so a test run is reproducible. */
static double
rf_rand(struct rf *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return (double)((f->rng * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

/* Index of a held source; -1 if R does not hold it. */
static int
rf_held_find(const struct rf *f, const char *sensor, uint32_t track)
{
	size_t	i;

	for (i = 0; i < f->nheld; i++)
		if (f->held[i].track == track &&
		    strcmp(f->held[i].sensor, sensor) == 0)
			return (int)i;
	return -1;
}

/* Note that R holds (or no longer holds) a source. */
static void
rf_held_set(struct rf *f, const char *sensor, uint32_t track, int on)
{
	int	i = rf_held_find(f, sensor, track);

	if (on && i == -1 && f->nheld < RF_MAX_HELD) {
		snprintf(f->held[f->nheld].sensor, TF_ID_LEN, "%s", sensor);
		f->held[f->nheld++].track = track;
	} else if (!on && i != -1)
		f->held[i] = f->held[--f->nheld];
}

/* Write one Envelope, framed. */
static void
rf_write_env(struct rf *f, const Envelope *env)
{
	uint8_t		hdr[WIRE_VARINT_MAX], *buf;
	size_t		len = trackfuse__v1__envelope__get_packed_size(env), n;

	n = wire_varint_encode(len, hdr);
	if ((buf = malloc(len + 1)) == NULL)
		fatal("malloc");
	trackfuse__v1__envelope__pack(env, buf);
	if (fwrite(hdr, 1, n, f->out) != n || fwrite(buf, 1, len, f->out) != len)
		fatal("write");
	free(buf);
}

/* Does the policy let R have report r of identity id? */
static int
rf_allowed(struct rf *f, const struct config_identity *id,
    const struct tf_report *r)
{
	struct policy_contrib	pc;
	struct policy_decision	d;

	memset(&pc, 0, sizeof(pc));
	pc.label = r->label;
	snprintf(pc.origin, sizeof(pc.origin), "%s", id->nation);
	pc.cat = r->cat;
	pc.lat_deg = r->lat_deg;
	pc.lon_deg = r->lon_deg;
	pc.t_ns = r->t_ns;
	pc.federated = id->federation;
	if (id->peer_daemon_nation != NULL)
		snprintf(pc.from_daemon, sizeof(pc.from_daemon), "%s",
		    id->peer_daemon_nation);
	return policy_evaluate(f->set, &pc, &f->rcp, f->cfg->nation, &d);
}

/* Random but valid values that R may still not receive; -1 if none. */
static int
rf_randomize(struct rf *f, const struct config_identity *id,
    struct tf_report *r)
{
	int	k, i;

	for (k = 0; k < RF_TRIES; k++) {
		r->lat_deg = 20 + rf_rand(f) * 30;
		r->lon_deg = 120 + rf_rand(f) * 30;
		r->alt_m = rf_rand(f) * 10000;
		for (i = 0; i < 3; i++)
			r->vel[i] = (rf_rand(f) - 0.5) * 400;
		memset(r->cov, 0, sizeof(r->cov));
		for (i = 0; i < 6; i++)
			r->cov[tf_cov_idx(i, i)] = i < 3 ?
			    10 + rf_rand(f) * 1e5 : 1 + rf_rand(f) * 100;
		r->cat = (enum tf_category)(1 + (int)(rf_rand(f) * 6) % 6);
		r->ident = (enum tf_identity)(1 + (int)(rf_rand(f) * 7) % 7);
		r->quality = (float)rf_rand(f);
		if (!rf_allowed(f, id, r))
			return 0;
	}
	return -1;
}

/* Write a TrackDrop of a source R held, at t. */
static void
rf_write_drop(struct rf *f, const char *sensor, uint32_t track, int64_t t)
{
	Envelope			env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__TrackDrop	d = TRACKFUSE__V1__TRACK_DROP__INIT;

	d.sensor_id = (char *)sensor;
	d.local_track = track;
	d.time_ns = t;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP;
	env.track_drop = &d;
	rf_write_env(f, &env);
	f->dropped++;
}

/* Filter one report frame. */
static void
rf_report(struct rf *f, const Envelope *env, const uint8_t *raw, size_t len)
{
	const struct config_identity	*id;
	struct codec_report_msg		 m;
	struct tf_report		 r, orig;
	char				 err[FEED_ERRLEN];

	memset(&r, 0, sizeof(r));
	id = feed_sensor_owner(f->cfg, env->track_report->sensor_id);
	if (id == NULL || codec_report_decode(env->track_report, &r, err,
	    sizeof(err)) == -1)
		goto keep;
	orig = r;
	if (feed_authorize(id, &r, err, sizeof(err)) != FEED_OK)
		goto keep;
	if (rf_allowed(f, id, &r)) {
		rf_held_set(f, r.sensor, r.local_track, 1);
		goto keep;
	}
	f->refused++;
	if (f->random) {
		if (rf_randomize(f, id, &orig) == -1)
			fatalx("no refused random value for sensor %s", r.sensor);
		codec_report_encode(&orig, &m);
		rf_write_env(f, &m.env);
		f->changed++;
		return;
	}
	if (rf_held_find(f, r.sensor, r.local_track) != -1) {
		rf_write_drop(f, r.sensor, r.local_track, r.t_ns);
		rf_held_set(f, r.sensor, r.local_track, 0);
	}
	f->changed++;
	return;
keep:
	if (fwrite(raw, 1, len, f->out) != len)
		fatal("write");
}

/* Filter the whole recording buffer. */
static void
rf_run(struct rf *f, const uint8_t *buf, size_t n)
{
	Envelope	*env;
	uint64_t	 v;
	size_t		 off = 0, hl;

	while (off < n) {
		if (wire_varint_decode(buf + off, n - off, &v, &hl) != WIRE_OK ||
		    v > n - off - hl)
			fatalx("broken frame at offset %zu", off);
		f->frames++;
		env = trackfuse__v1__envelope__unpack(NULL, v, buf + off + hl);
		if (env != NULL && env->msg_case ==
		    TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT)
			rf_report(f, env, buf + off, hl + v);
		else {
			if (env != NULL && env->msg_case ==
			    TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP)
				rf_held_set(f, env->track_drop->sensor_id,
				    env->track_drop->local_track, 0);
			if (fwrite(buf + off, 1, hl + v, f->out) != hl + v)
				fatal("write");
		}
		if (env != NULL)
			trackfuse__v1__envelope__free_unpacked(env, NULL);
		off += hl + v;
	}
}

/* Read a whole file. */
static uint8_t *
rf_slurp(const char *path, size_t *np)
{
	FILE	*fp;
	uint8_t	*buf = NULL;
	size_t	 cap = 0, n = 0, k;

	if ((fp = fopen(path, "rb")) == NULL)
		fatal("%s", path);
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			if ((buf = realloc(buf, cap)) == NULL)
				fatal("realloc");
		}
		if ((k = fread(buf + n, 1, cap - n, fp)) == 0)
			break;
		n += k;
	}
	fclose(fp);
	*np = n;
	return buf;
}

/* tf-recfilter -f CONFIG --as ID --mode delete|random [--seed N] IN OUT */
int
main(int argc, char *argv[])
{
	static struct rf		 f;
	static struct option		 lo[] = {
		{ "as", required_argument, NULL, 'a' },
		{ "mode", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const struct config_identity	*id;
	const char			*cfgpath = NULL, *as = NULL, *mode = NULL;
	char				 err[CONFIG_ERRLEN];
	uint8_t				*buf;
	size_t				 n;
	int				 ch;

	log_init(1, 0, NULL);
	f.rng = 88172645463325252ULL;
	while ((ch = getopt_long(argc, argv, "f:", lo, NULL)) != -1) {
		switch (ch) {
		case 'f':
			cfgpath = optarg;
			break;
		case 'a':
			as = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 's':
			f.rng ^= strtoull(optarg, NULL, 10) *
			    0x9e3779b97f4a7c15ULL;
			break;
		default:
			return 2;
		}
	}
	if (cfgpath == NULL || as == NULL || mode == NULL ||
	    argc - optind != 2 || (strcmp(mode, "delete") != 0 &&
	    strcmp(mode, "random") != 0)) {
		fprintf(stderr, "usage: tf-recfilter -f CONFIG --as ID --mode "
		    "delete|random [--seed N] IN OUT\n");
		return 2;
	}
	f.random = strcmp(mode, "random") == 0;
	if ((f.cfg = config_load(cfgpath, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((id = config_identity(f.cfg, as)) == NULL ||
	    id->role != CONFIG_ROLE_SUBSCRIBER)
		fatalx("%s is not a subscriber of %s", as, cfgpath);
	f.rcp = policy_recipient(id);
	f.set = policy_load_dir(f.cfg, (int64_t)time(NULL) * 1000000000LL);
	buf = rf_slurp(argv[optind], &n);
	if ((f.out = fopen(argv[optind + 1], "wb")) == NULL)
		fatal("%s", argv[optind + 1]);
	rf_run(&f, buf, n);
	if (fclose(f.out) == EOF)
		fatal("%s", argv[optind + 1]);
	fprintf(stderr, "recfilter: frames=%llu refused=%llu changed=%llu "
	    "dropped=%llu\n", (unsigned long long)f.frames,
	    (unsigned long long)f.refused, (unsigned long long)f.changed,
	    (unsigned long long)f.dropped);
	free(buf);
	policy_free(f.set);
	config_free(f.cfg);
	return 0;
}
