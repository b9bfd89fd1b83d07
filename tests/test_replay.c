/*
 * Unit tests for daemon/replay.c: the recording reader (frame offsets, a
 * frame that does not unpack, a broken prefix, a truncated tail) and a
 * replay through the real pipeline (feed checks, corr, release, publish):
 * rejections counted, the label rules of live feeds, the picture's frames,
 * and two runs writing the same bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "trackfuse/codec.h"
#include "trackfuse/config.h"
#include "trackfuse/corr.h"
#include "trackfuse/feed.h"
#include "trackfuse/peer.h"
#include "trackfuse/publish.h"
#include "trackfuse/release.h"
#include "trackfuse/replay.h"
#include "trackfuse/wire.h"

#define T_T0	1795910400000000000LL	/* 2026-11-29, ns */
#define T_SEC	1000000000LL

static char	t_dir[] = "/tmp/tf-test-replay.XXXXXX";

/* A path in the scratch directory (static buffer per slot). */
static const char *
t_path(int slot, const char *name)
{
	static char	buf[4][256];

	snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", t_dir, name);
	return buf[slot];
}

/* Append raw bytes to f. */
static void
t_raw(FILE *f, const void *p, size_t n)
{
	assert_int_equal(fwrite(p, 1, n, f), n);
}

/* Append env framed to f; returns the frame's length. */
static size_t
t_put(FILE *f, const Envelope *env)
{
	uint8_t	*buf;
	size_t	 len;

	assert_non_null(buf = wire_pack_frame(env, &len));
	t_raw(f, buf, len);
	free(buf);
	return len;
}

/* Append a Heartbeat{t, sensor} frame; returns its length. */
static size_t
t_heartbeat(FILE *f, int64_t t, const char *sensor)
{
	Envelope			env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__Heartbeat	hb = TRACKFUSE__V1__HEARTBEAT__INIT;

	hb.time_ns = t;
	hb.sensor_id = (char *)sensor;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT;
	env.heartbeat = &hb;
	return t_put(f, &env);
}

/* Append a valid air report of sensor, labeled owner (NULL: unlabeled). */
static size_t
t_report(FILE *f, const char *sensor, uint32_t lt, int64_t t,
    const char *owner, double lon)
{
	struct tf_report	r;
	struct codec_report_msg	m;
	int			i;

	memset(&r, 0, sizeof(r));
	snprintf(r.sensor, sizeof(r.sensor), "%s", sensor);
	r.local_track = lt;
	r.t_ns = t;
	r.lat_deg = 37.5;
	r.lon_deg = lon;
	r.alt_m = 9000.0;
	r.vel[0] = 200.0;
	for (i = 0; i < 6; i++)
		r.cov[tf_cov_idx(i, i)] = i < 3 ? 400.0 : 25.0;
	r.cat = TF_CAT_AIR;
	r.ident = TF_IDENT_UNKNOWN;
	r.quality = 0.8f;
	if (owner != NULL) {
		snprintf(r.label.owner, sizeof(r.label.owner), "%s", owner);
		r.label.cls = TF_CLASS_SECRET;
	}
	codec_report_encode(&r, &m);
	return t_put(f, &m.env);
}

/* Open a scratch file for writing. */
static FILE *
t_create(const char *path)
{
	FILE	*f;

	assert_non_null(f = fopen(path, "wb"));
	return f;
}

/* Scratch directory for the whole run. */
static int
t_group_setup(void **state)
{
	(void)state;
	return mkdtemp(t_dir) == NULL ? -1 : 0;
}

/* Remove the scratch files. */
static int
t_group_teardown(void **state)
{
	const char	*names[] = { "rec", "pic1", "pic2", "cfg.yaml", "bad",
	    "trunc", "big", "empty" };
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(t_path(0, names[i]));
	rmdir(t_dir);
	return 0;
}

/* Frames come back in order with the byte offsets they start at. */
static void
t_reader_offsets(void **state)
{
	struct replay_reader	*rd;
	struct wire_arena	*a;
	Envelope		*env;
	enum wire_status	 ws;
	uint64_t		 off;
	size_t			 l1, l2;
	const uint8_t		 junk[] = { 3, 0xff, 0xff, 0xff };
	char			 err[REPLAY_ERRLEN];
	FILE			*f;

	(void)state;
	f = t_create(t_path(0, "bad"));
	l1 = t_heartbeat(f, T_T0, "USA-AEGIS-1");
	l2 = t_heartbeat(f, T_T0 + T_SEC, "USA-AEGIS-1");
	t_raw(f, junk, sizeof(junk));		/* frames, does not unpack */
	t_heartbeat(f, T_T0 + 2 * T_SEC, "KOR-AEGIS-1");
	t_raw(f, junk, 2);			/* truncated tail */
	fclose(f);

	assert_non_null(a = wire_arena_new(0));
	rd = replay_reader_open(t_path(0, "bad"), 65536, err, sizeof(err));
	assert_non_null(rd);
	assert_int_equal(replay_reader_next(rd, a, &env, &off, &ws),
	    REPLAY_FRAME);
	assert_int_equal(off, 0);
	assert_int_equal(env->heartbeat->time_ns, T_T0);
	assert_int_equal(replay_reader_next(rd, a, &env, &off, &ws),
	    REPLAY_FRAME);
	assert_int_equal(off, l1);
	assert_int_equal(replay_reader_next(rd, a, &env, &off, &ws),
	    REPLAY_SKIPPED);
	assert_int_equal(off, l1 + l2);
	assert_int_equal(ws, WIRE_BAD_MESSAGE);
	assert_int_equal(replay_reader_next(rd, a, &env, &off, &ws),
	    REPLAY_FRAME);
	assert_int_equal(off, l1 + l2 + sizeof(junk));
	assert_string_equal(env->heartbeat->sensor_id, "KOR-AEGIS-1");
	assert_int_equal(replay_reader_next(rd, a, &env, &off, &ws),
	    REPLAY_BROKEN);
	assert_int_equal(ws, WIRE_NEED_MORE);
	replay_reader_close(rd);
	wire_arena_free(a);
}

/* An empty file is a clean end; an oversized prefix breaks the framing. */
static void
t_reader_ends(void **state)
{
	struct replay_reader	*rd;
	struct wire_arena	*a;
	Envelope		*env;
	enum wire_status	 ws;
	uint64_t		 off;
	const uint8_t		 big[] = { 0x80, 0x80, 0x10 };	/* 256 KiB */
	char			 err[REPLAY_ERRLEN];
	FILE			*f;

	(void)state;
	fclose(t_create(t_path(0, "empty")));
	f = t_create(t_path(0, "big"));
	t_raw(f, big, sizeof(big));
	fclose(f);
	assert_non_null(a = wire_arena_new(0));
	rd = replay_reader_open(t_path(0, "empty"), 65536, err, sizeof(err));
	assert_non_null(rd);
	assert_int_equal(replay_reader_next(rd, a, &env, &off, &ws),
	    REPLAY_EOF);
	replay_reader_close(rd);
	rd = replay_reader_open(t_path(0, "big"), 65536, err, sizeof(err));
	assert_non_null(rd);
	assert_int_equal(replay_reader_next(rd, a, &env, &off, &ws),
	    REPLAY_BROKEN);
	assert_int_equal(ws, WIRE_TOO_LARGE);
	replay_reader_close(rd);
	assert_null(replay_reader_open(t_path(0, "absent"), 65536, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "absent"));
	wire_arena_free(a);
}

/* A config with two feeds (USA, KOR) and plain loopback listeners. */
static struct config *
t_config(void)
{
	struct config	*cfg;
	char		 err[CONFIG_ERRLEN];
	FILE		*f;

	f = t_create(t_path(1, "cfg.yaml"));
	fprintf(f, "name: t\nnation: USA\nlisten:\n"
	    "  feeds: { address: 127.0.0.1, port: 7411, tls: off }\n"
	    "  subscribers: { address: 127.0.0.1, port: 7412, tls: off }\n"
	    "identities:\n"
	    "  - { id: USA-AEGIS-1, role: feed, nation: USA, "
	    "sensors: [USA-AEGIS-1] }\n"
	    "  - { id: KOR-FEED, role: feed, nation: KOR, "
	    "sensors: [KOR-AEGIS-1] }\n"
	    "  - { id: CC-USA, role: subscriber, nation: USA }\n");
	fclose(f);
	cfg = config_load(t_path(1, "cfg.yaml"), err, sizeof(err));
	if (cfg == NULL)
		fail_msg("config_load: %s", err);
	return cfg;
}

/* The pipeline main.c builds, over cfg. */
static void
t_pipeline(struct trackfused *env, struct config *cfg)
{
	struct corr_params	p;
	struct release_out	out;

	memset(env, 0, sizeof(*env));
	env->cfg = cfg;
	env->publish = publish_new(RELEASE_MAX_CLASSES, 1000, 1 << 20);
	corr_params_default(&p);
	publish_release_out(env->publish, &out);
	env->release = release_new(&p, &out);
	publish_set_release(env->publish, env->release);
	env->corr = release_full_corr(env->release);
	env->feed = feed_new(env->corr, env->publish);
	feed_set_release(env->feed, env->release);
}

/* Free what t_pipeline built. */
static void
t_pipeline_free(struct trackfused *env)
{
	feed_free(env->feed);
	release_free(env->release);	/* and the full class's corr */
	publish_free(env->publish);
	config_free(env->cfg);
}

/* Longitude step of 200 m/s east at 37.5 N over one second, degrees. */
#define T_DLON	(200.0 / (111320.0 * 0.79335))
#define T_STEPS	5

/*
 * A recording with two good tracks (USA unlabeled, KOR labeled) over
 * T_STEPS seconds, and, after their first reports, a foreign label, an
 * unowned sensor, a subscriber's message and a frame that does not unpack.
 */
static void
t_write_recording(void)
{
	Envelope			env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__Subscribe	sub = TRACKFUSE__V1__SUBSCRIBE__INIT;
	const uint8_t			junk[] = { 2, 0xff, 0xff };
	FILE				*f;

	int				k;

	f = t_create(t_path(1, "rec"));
	t_heartbeat(f, T_T0, "USA-AEGIS-1");
	for (k = 1; k <= T_STEPS; k++) {
		t_report(f, "USA-AEGIS-1", 1, T_T0 + k * T_SEC, NULL,
		    131.0 + k * T_DLON);
		t_report(f, "KOR-AEGIS-1", 7, T_T0 + k * T_SEC, "KOR",
		    134.0 + k * T_DLON);
		if (k != 1)
			continue;
		t_report(f, "KOR-AEGIS-1", 8, T_T0 + k * T_SEC, "USA", 136.0);
		t_report(f, "XXX-AEGIS-1", 1, T_T0 + k * T_SEC, NULL, 138.0);
		env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_SUBSCRIBE;
		env.subscribe = &sub;
		t_put(f, &env);
		t_raw(f, junk, sizeof(junk));
	}
	t_heartbeat(f, T_T0 + (T_STEPS + 1) * T_SEC, "KOR-AEGIS-1");
	fclose(f);
}

/* Read a whole small file into a malloc'd buffer. */
static uint8_t *
t_slurp(const char *path, size_t *lenp)
{
	uint8_t	*buf;
	FILE	*f;
	long	 n;

	assert_non_null(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*lenp = (size_t)n;
	return buf;
}

/* Replay the recording into picture; returns the stats. */
static void
t_replay(const char *picture, struct replay_stats *st)
{
	struct trackfused	env;
	struct replay_opts	o;
	char			err[REPLAY_ERRLEN];

	t_pipeline(&env, t_config());
	memset(&o, 0, sizeof(o));
	o.record = t_path(1, "rec");
	o.picture = picture;
	if (replay_run(&env, &o, st, err, sizeof(err)) == -1)
		fail_msg("replay_run: %s", err);
	t_pipeline_free(&env);
}

/* The next frame of a picture buffer; NULL at its end. */
static Envelope *
t_next(const uint8_t *buf, size_t len, size_t *pos)
{
	size_t		hlen, blen;
	Envelope	*env;

	if (*pos >= len)
		return NULL;
	assert_int_equal(wire_frame_peek(buf + *pos, len - *pos, 65536, &hlen,
	    &blen), WIRE_OK);
	env = trackfuse__v1__envelope__unpack(NULL, blen, buf + *pos + hlen);
	assert_non_null(env);
	*pos += hlen + blen;
	return env;
}

/* Refusals are counted; accepted tracks carry the live label rules. */
static void
t_replay_pipeline(void **state)
{
	struct replay_stats	 st;
	uint8_t			*buf;
	size_t			 len, pos = 0;
	Envelope		*e;
	int			 tracks = 0, usa = 0, kor = 0;

	(void)state;
	t_write_recording();
	t_replay(t_path(2, "pic1"), &st);
	assert_int_equal(st.frames, 2 + 2 * T_STEPS + 4);
	assert_int_equal(st.reports, 2 * T_STEPS);
	assert_int_equal(st.heartbeats, 2);
	/* foreign label, unowned sensor, Subscribe, junk frame */
	assert_int_equal(st.rejected, 4);
	buf = t_slurp(t_path(2, "pic1"), &len);
	assert_int_equal(st.picture_bytes, len);
	e = t_next(buf, len, &pos);
	assert_int_equal(e->msg_case,
	    TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_BEGIN);
	assert_int_equal(e->snapshot_begin->track_count, 0);
	assert_int_equal(e->snapshot_begin->time_ns, 0);
	trackfuse__v1__envelope__free_unpacked(e, NULL);
	e = t_next(buf, len, &pos);
	assert_int_equal(e->msg_case,
	    TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_END);
	assert_int_equal(e->snapshot_end->time_ns, 0);
	trackfuse__v1__envelope__free_unpacked(e, NULL);
	while ((e = t_next(buf, len, &pos)) != NULL) {
		assert_int_equal(e->msg_case,
		    TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK);
		assert_non_null(e->picture_track->label);
		tracks++;
		if (strcmp(e->picture_track->label->owner, "USA") == 0) {
			/* unlabeled input became owner-only USA data */
			assert_int_equal(e->picture_track->label->classification,
			    0);
			usa++;
		} else if (strcmp(e->picture_track->label->owner, "KOR") == 0)
			kor++;
		trackfuse__v1__envelope__free_unpacked(e, NULL);
	}
	/* At most one frame per accepted report; both owners present. */
	assert_int_equal(st.picture_frames, 2 + (uint64_t)tracks);
	assert_true(tracks <= 2 * T_STEPS);
	assert_true(usa >= 1);
	assert_true(kor >= 1);
	assert_int_equal(usa + kor, tracks);
	free(buf);
}

/* Two replays of one recording write the same bytes. */
static void
t_replay_deterministic(void **state)
{
	struct replay_stats	 s1, s2;
	uint8_t			*b1, *b2;
	size_t			 l1, l2;

	(void)state;
	t_write_recording();
	t_replay(t_path(2, "pic1"), &s1);
	t_replay(t_path(2, "pic2"), &s2);
	b1 = t_slurp(t_path(2, "pic1"), &l1);
	b2 = t_slurp(t_path(2, "pic2"), &l2);
	assert_true(l1 > 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	assert_int_equal(s1.rejected, s2.rejected);
	free(b1);
	free(b2);
}

/* An unwritable picture or a missing recording is an error, not a crash. */
static void
t_replay_bad_files(void **state)
{
	struct trackfused	env;
	struct replay_opts	o;
	struct replay_stats	st;
	char			err[REPLAY_ERRLEN];

	(void)state;
	t_pipeline(&env, t_config());
	memset(&o, 0, sizeof(o));
	o.record = t_path(1, "absent");
	o.picture = t_path(2, "pic1");
	assert_int_equal(replay_run(&env, &o, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "absent"));
	o.record = t_path(1, "rec");
	o.picture = "/nonexistent-dir/pic";
	assert_int_equal(replay_run(&env, &o, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nonexistent-dir"));
	t_pipeline_free(&env);
}

/* Run the replay tests. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_reader_offsets),
		cmocka_unit_test(t_reader_ends),
		cmocka_unit_test(t_replay_pipeline),
		cmocka_unit_test(t_replay_deterministic),
		cmocka_unit_test(t_replay_bad_files),
	};

	return cmocka_run_group_tests(tests, t_group_setup, t_group_teardown);
}
