/*
 * Unit tests for lib/wire.c: varints, frame peeking, reading and writing
 * framed Envelopes through an evbuffer, and the unpack arena.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "trackfuse/wire.h"

#define T_MAX	WIRE_DEFAULT_MAX_FRAME

/* Every kind of message, filled with non-default values. */
struct t_msgs {
	Trackfuse__V1__Hello		hello;
	Trackfuse__V1__HelloAck		ack;
	Trackfuse__V1__Error		error;
	Trackfuse__V1__TrackReport	rep;
	Trackfuse__V1__Position		pos;
	Trackfuse__V1__Velocity		vel;
	Trackfuse__V1__SecurityLabel	lab;
	Trackfuse__V1__TrackDrop	drop;
	Trackfuse__V1__Heartbeat	hb;
	Trackfuse__V1__Subscribe	sub;
	Trackfuse__V1__SnapshotBegin	sb;
	Trackfuse__V1__SnapshotEnd	se;
	Trackfuse__V1__PictureTrack	pic;
	Trackfuse__V1__PictureDrop	pd;
	double				cov[21];
	char				*rel[2];
	char				*nations[3];
};

static char t_kor[] = "KOR", t_usa[] = "USA", t_jpn[] = "JPN";

/* Fill the picture track (it shares position, velocity and label). */
static void
t_picture_fill(struct t_msgs *m)
{
	Trackfuse__V1__PictureTrack	pt = TRACKFUSE__V1__PICTURE_TRACK__INIT;

	m->nations[0] = t_jpn;
	m->nations[1] = t_kor;
	m->nations[2] = t_usa;
	m->pic = pt;
	m->pic.track_id = UINT64_C(0x123456789abc);
	m->pic.time_ns = 1790000000000000005LL;
	m->pic.position = &m->pos;
	m->pic.velocity = &m->vel;
	m->pic.n_covariance = 21;
	m->pic.covariance = m->cov;
	m->pic.category = TRACKFUSE__V1__CATEGORY__CATEGORY_BALLISTIC_MISSILE;
	m->pic.identity = TRACKFUSE__V1__IDENTITY__IDENTITY_SUSPECT;
	m->pic.quality = 0.5f;
	m->pic.n_contributing_nations = 3;
	m->pic.contributing_nations = m->nations;
	m->pic.label = &m->lab;
	m->pic.identity_conflict = 1;
	m->pic.contributors = 5;
}

/* Fill every message of m with recognisable values. */
static void
t_msgs_fill(struct t_msgs *m)
{
	Trackfuse__V1__Hello		h = TRACKFUSE__V1__HELLO__INIT;
	Trackfuse__V1__HelloAck		a = TRACKFUSE__V1__HELLO_ACK__INIT;
	Trackfuse__V1__Error		e = TRACKFUSE__V1__ERROR__INIT;
	Trackfuse__V1__TrackReport	r = TRACKFUSE__V1__TRACK_REPORT__INIT;
	Trackfuse__V1__Position		p = TRACKFUSE__V1__POSITION__INIT;
	Trackfuse__V1__Velocity		v = TRACKFUSE__V1__VELOCITY__INIT;
	Trackfuse__V1__SecurityLabel	l = TRACKFUSE__V1__SECURITY_LABEL__INIT;
	Trackfuse__V1__TrackDrop	d = TRACKFUSE__V1__TRACK_DROP__INIT;
	Trackfuse__V1__Heartbeat	hb = TRACKFUSE__V1__HEARTBEAT__INIT;
	Trackfuse__V1__Subscribe	s = TRACKFUSE__V1__SUBSCRIBE__INIT;
	Trackfuse__V1__SnapshotBegin	sb = TRACKFUSE__V1__SNAPSHOT_BEGIN__INIT;
	Trackfuse__V1__SnapshotEnd	se = TRACKFUSE__V1__SNAPSHOT_END__INIT;
	Trackfuse__V1__PictureDrop	pd = TRACKFUSE__V1__PICTURE_DROP__INIT;
	int				i;

	t_picture_fill(m);
	m->hello = h;
	m->hello.protocol_version = 1;
	m->hello.role = TRACKFUSE__V1__ROLE__ROLE_FEED;
	m->hello.id = "KOR-AEGIS-1";
	m->hello.nation = t_kor;
	m->hello.software = "test 0.1";
	m->ack = a;
	m->ack.protocol_version = 1;
	m->ack.daemon = "trackfused";
	m->ack.nation = t_usa;
	m->error = e;
	m->error.code = TRACKFUSE__V1__ERROR_CODE__ERROR_INVALID;
	m->error.message = "latitude 91 out of range";
	m->pos = p;
	m->pos.lat_deg = 37.5;
	m->pos.lon_deg = 131.25;
	m->pos.alt_m = -12.5;
	m->vel = v;
	m->vel.east_mps = 10.5;
	m->vel.north_mps = -3.25;
	m->vel.up_mps = 0.125;
	for (i = 0; i < 21; i++)
		m->cov[i] = 1.0 + i * 0.5;
	m->rel[0] = t_usa;
	m->rel[1] = t_jpn;
	m->lab = l;
	m->lab.owner = t_kor;
	m->lab.classification = TRACKFUSE__V1__CLASSIFICATION__CLASSIFICATION_SECRET;
	m->lab.n_releasable_to = 2;
	m->lab.releasable_to = m->rel;
	m->rep = r;
	m->rep.sensor_id = "KOR-AEGIS-1";
	m->rep.local_track = 42;
	m->rep.time_ns = 1790000000123456789LL;
	m->rep.position = &m->pos;
	m->rep.velocity = &m->vel;
	m->rep.n_covariance = 21;
	m->rep.covariance = m->cov;
	m->rep.category = TRACKFUSE__V1__CATEGORY__CATEGORY_SURFACE;
	m->rep.identity = TRACKFUSE__V1__IDENTITY__IDENTITY_HOSTILE;
	m->rep.quality = 0.75f;
	m->rep.label = &m->lab;
	m->drop = d;
	m->drop.sensor_id = "JPN-P1-1";
	m->drop.local_track = 7;
	m->drop.time_ns = 1790000000000000001LL;
	m->hb = hb;
	m->hb.time_ns = 1790000000000000002LL;
	m->hb.sensor_id = "USA-E2D-1";
	m->sub = s;
	m->sub.snapshot = 1;
	m->sb = sb;
	m->sb.track_count = 12345;
	m->sb.time_ns = 1790000000000000003LL;
	m->se = se;
	m->se.time_ns = 1790000000000000004LL;
	m->pd = pd;
	m->pd.track_id = 99;
	m->pd.time_ns = 1790000000000000006LL;
}

/* Point env at the message of kind c in m. */
static void
t_env_set(Envelope *env, struct t_msgs *m, int c)
{
	Envelope	init = TRACKFUSE__V1__ENVELOPE__INIT;

	*env = init;
	env->msg_case = (Trackfuse__V1__Envelope__MsgCase)c;
	switch (c) {
	case 1: env->hello = &m->hello; break;
	case 2: env->hello_ack = &m->ack; break;
	case 3: env->error = &m->error; break;
	case 4: env->track_report = &m->rep; break;
	case 5: env->track_drop = &m->drop; break;
	case 6: env->heartbeat = &m->hb; break;
	case 7: env->subscribe = &m->sub; break;
	case 8: env->snapshot_begin = &m->sb; break;
	case 9: env->snapshot_end = &m->se; break;
	case 10: env->picture_track = &m->pic; break;
	case 11: env->picture_drop = &m->pd; break;
	default: break;
	}
}

/* Compare a label field by field. */
static void
t_label_equal(const Trackfuse__V1__SecurityLabel *a,
    const Trackfuse__V1__SecurityLabel *b)
{
	size_t	i;

	assert_non_null(b);
	assert_string_equal(a->owner, b->owner);
	assert_int_equal(a->classification, b->classification);
	assert_int_equal(a->n_releasable_to, b->n_releasable_to);
	for (i = 0; i < a->n_releasable_to; i++)
		assert_string_equal(a->releasable_to[i], b->releasable_to[i]);
}

/* Compare position, velocity and covariance bit for bit. */
static void
t_state_equal(const Trackfuse__V1__Position *p, const Trackfuse__V1__Velocity *v,
    size_t ncov, const double *cov, const Trackfuse__V1__Position *p2,
    const Trackfuse__V1__Velocity *v2, size_t ncov2, const double *cov2)
{
	assert_non_null(p2);
	assert_non_null(v2);
	assert_memory_equal(&p->lat_deg, &p2->lat_deg, sizeof(double));
	assert_memory_equal(&p->lon_deg, &p2->lon_deg, sizeof(double));
	assert_memory_equal(&p->alt_m, &p2->alt_m, sizeof(double));
	assert_memory_equal(&v->east_mps, &v2->east_mps, sizeof(double));
	assert_memory_equal(&v->north_mps, &v2->north_mps, sizeof(double));
	assert_memory_equal(&v->up_mps, &v2->up_mps, sizeof(double));
	assert_int_equal(ncov, ncov2);
	assert_memory_equal(cov, cov2, ncov * sizeof(double));
}

/* Compare two track reports field by field. */
static void
t_report_equal(const Trackfuse__V1__TrackReport *p,
    const Trackfuse__V1__TrackReport *q)
{
	assert_string_equal(p->sensor_id, q->sensor_id);
	assert_int_equal(p->local_track, q->local_track);
	assert_int_equal(p->time_ns, q->time_ns);
	t_state_equal(p->position, p->velocity, p->n_covariance, p->covariance,
	    q->position, q->velocity, q->n_covariance, q->covariance);
	assert_int_equal(p->category, q->category);
	assert_int_equal(p->identity, q->identity);
	assert_memory_equal(&p->quality, &q->quality, sizeof(float));
	t_label_equal(p->label, q->label);
}

/* Compare two picture tracks field by field. */
static void
t_picture_equal(const Trackfuse__V1__PictureTrack *p,
    const Trackfuse__V1__PictureTrack *q)
{
	size_t	i;

	assert_int_equal(p->track_id, q->track_id);
	assert_int_equal(p->time_ns, q->time_ns);
	t_state_equal(p->position, p->velocity, p->n_covariance, p->covariance,
	    q->position, q->velocity, q->n_covariance, q->covariance);
	assert_int_equal(p->category, q->category);
	assert_int_equal(p->identity, q->identity);
	assert_memory_equal(&p->quality, &q->quality, sizeof(float));
	assert_int_equal(p->n_contributing_nations, q->n_contributing_nations);
	for (i = 0; i < p->n_contributing_nations; i++)
		assert_string_equal(p->contributing_nations[i],
		    q->contributing_nations[i]);
	t_label_equal(p->label, q->label);
	assert_int_equal(p->identity_conflict, q->identity_conflict);
	assert_int_equal(p->contributors, q->contributors);
}

/* Compare the kind-specific fields of two envelopes. */
static void
t_env_equal(const Envelope *a, const Envelope *b)
{
	assert_int_equal(a->msg_case, b->msg_case);
	switch (a->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_HELLO:
		assert_int_equal(a->hello->protocol_version,
		    b->hello->protocol_version);
		assert_int_equal(a->hello->role, b->hello->role);
		assert_string_equal(a->hello->id, b->hello->id);
		assert_string_equal(a->hello->nation, b->hello->nation);
		assert_string_equal(a->hello->software, b->hello->software);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_HELLO_ACK:
		assert_int_equal(a->hello_ack->protocol_version,
		    b->hello_ack->protocol_version);
		assert_string_equal(a->hello_ack->daemon, b->hello_ack->daemon);
		assert_string_equal(a->hello_ack->nation, b->hello_ack->nation);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_ERROR:
		assert_int_equal(a->error->code, b->error->code);
		assert_string_equal(a->error->message, b->error->message);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT:
		t_report_equal(a->track_report, b->track_report);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP:
		assert_string_equal(a->track_drop->sensor_id,
		    b->track_drop->sensor_id);
		assert_int_equal(a->track_drop->local_track,
		    b->track_drop->local_track);
		assert_int_equal(a->track_drop->time_ns, b->track_drop->time_ns);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT:
		assert_int_equal(a->heartbeat->time_ns, b->heartbeat->time_ns);
		assert_string_equal(a->heartbeat->sensor_id,
		    b->heartbeat->sensor_id);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_SUBSCRIBE:
		assert_int_equal(a->subscribe->snapshot, b->subscribe->snapshot);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_BEGIN:
		assert_int_equal(a->snapshot_begin->track_count,
		    b->snapshot_begin->track_count);
		assert_int_equal(a->snapshot_begin->time_ns,
		    b->snapshot_begin->time_ns);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_END:
		assert_int_equal(a->snapshot_end->time_ns,
		    b->snapshot_end->time_ns);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK:
		t_picture_equal(a->picture_track, b->picture_track);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_DROP:
		assert_int_equal(a->picture_drop->track_id,
		    b->picture_drop->track_id);
		assert_int_equal(a->picture_drop->time_ns,
		    b->picture_drop->time_ns);
		break;
	default:
		break;
	}
}

/* Varints round trip with the expected lengths. */
static void
test_varint_roundtrip(void **state)
{
	static const struct {
		uint64_t	v;
		size_t		len;
	} cases[] = {
		{ 0, 1 }, { 1, 1 }, { 127, 1 }, { 128, 2 }, { 300, 2 },
		{ 16383, 2 }, { 16384, 3 }, { UINT64_C(1) << 32, 5 },
		{ UINT64_C(1) << 63, 10 }, { UINT64_MAX, 10 }
	};
	uint8_t		buf[WIRE_VARINT_MAX];
	uint64_t	v;
	size_t		i, n, used;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = wire_varint_encode(cases[i].v, buf);
		assert_int_equal(n, cases[i].len);
		assert_int_equal(wire_varint_decode(buf, n, &v, &used), WIRE_OK);
		assert_true(v == cases[i].v);
		assert_int_equal(used, n);
		if (n > 1)
			assert_int_equal(wire_varint_decode(buf, n - 1, &v,
			    &used), WIRE_NEED_MORE);
	}
	buf[0] = 0x96;
	buf[1] = 0x01;
	assert_int_equal(wire_varint_decode(buf, 2, &v, &used), WIRE_OK);
	assert_int_equal(v, 150);
}

/* An 11th continuation byte and a value over 64 bits are refused. */
static void
test_varint_bad(void **state)
{
	uint8_t		buf[11];
	uint64_t	v;
	size_t		used;

	(void)state;
	memset(buf, 0xff, sizeof(buf));
	buf[10] = 0x01;
	assert_int_equal(wire_varint_decode(buf, 11, &v, &used),
	    WIRE_BAD_VARINT);
	assert_int_equal(wire_varint_decode(buf, 10, &v, &used),
	    WIRE_BAD_VARINT);
	assert_int_equal(wire_varint_decode(buf, 9, &v, &used),
	    WIRE_NEED_MORE);
	buf[9] = 0x02;		/* bit 64 */
	assert_int_equal(wire_varint_decode(buf, 10, &v, &used),
	    WIRE_BAD_VARINT);
	buf[9] = 0x01;
	assert_int_equal(wire_varint_decode(buf, 10, &v, &used), WIRE_OK);
	assert_true(v == UINT64_MAX);
	assert_int_equal(wire_varint_decode(buf, 0, &v, &used),
	    WIRE_NEED_MORE);
}

/* wire_frame_peek decides from the prefix and the bytes present. */
static void
test_frame_peek(void **state)
{
	uint8_t	buf[16] = { 5, 1, 2, 3, 4, 5, 9 };
	size_t	h, b;

	(void)state;
	assert_int_equal(wire_frame_peek(buf, 6, 100, &h, &b), WIRE_OK);
	assert_int_equal(h, 1);
	assert_int_equal(b, 5);
	assert_int_equal(wire_frame_peek(buf, 7, 100, &h, &b), WIRE_OK);
	assert_int_equal(wire_frame_peek(buf, 5, 100, &h, &b),
	    WIRE_NEED_MORE);
	assert_int_equal(wire_frame_peek(buf, 0, 100, &h, &b),
	    WIRE_NEED_MORE);
	assert_int_equal(wire_frame_peek(buf, 1, 4, &h, &b), WIRE_TOO_LARGE);
	buf[0] = 0;
	assert_int_equal(wire_frame_peek(buf, 1, 4, &h, &b), WIRE_OK);
	assert_int_equal(b, 0);
}

/* Every Envelope kind survives write then read, field for field. */
static void
test_every_kind_roundtrip(void **state)
{
	struct t_msgs		 m;
	struct wire_arena	*a;
	struct evbuffer		*buf;
	Envelope		 env, *out;
	uint8_t			*frame;
	size_t			 flen;
	int			 c, n;

	(void)state;
	t_msgs_fill(&m);
	assert_non_null(a = wire_arena_new(8192));
	assert_non_null(buf = evbuffer_new());
	for (c = 0; c <= 11; c++) {
		t_env_set(&env, &m, c);
		n = wire_write_envelope(buf, &env);
		assert_true(n > 0);
		assert_int_equal((size_t)n, evbuffer_get_length(buf));
		frame = wire_pack_frame(&env, &flen);
		assert_non_null(frame);
		assert_int_equal(flen, (size_t)n);
		assert_memory_equal(frame, evbuffer_pullup(buf, -1), flen);
		free(frame);
		assert_int_equal(wire_read_envelope(buf, T_MAX, a, &out),
		    WIRE_OK);
		assert_non_null(out);
		assert_int_equal(evbuffer_get_length(buf), 0);
		t_env_equal(&env, out);
		assert_string_equal(wire_msg_name(out), wire_msg_name(&env));
		wire_arena_reset(a);
	}
	t_env_set(&env, &m, 0);
	assert_string_equal(wire_msg_name(&env), "empty");
	t_env_set(&env, &m, 4);
	assert_string_equal(wire_msg_name(&env), "track_report");
	t_env_set(&env, &m, 10);
	assert_string_equal(wire_msg_name(&env), "picture_track");
	evbuffer_free(buf);
	wire_arena_free(a);
}

/* A body that is not an Envelope is BAD_MESSAGE and nothing is drained. */
static void
test_garbage(void **state)
{
	static const uint8_t	 bad[] = { 6, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff };
	static const uint8_t	 trunc[] = { 3, 0x22, 0x10, 0x0a };
	struct wire_arena	*a;
	struct evbuffer		*buf;
	Envelope		*out;

	(void)state;
	assert_non_null(a = wire_arena_new(1024));
	assert_non_null(buf = evbuffer_new());
	evbuffer_add(buf, bad, sizeof(bad));
	assert_int_equal(wire_read_envelope(buf, T_MAX, a, &out),
	    WIRE_BAD_MESSAGE);
	assert_null(out);
	assert_int_equal(evbuffer_get_length(buf), sizeof(bad));
	evbuffer_drain(buf, sizeof(bad));
	/* A track_report field claiming 16 bytes inside a 3-byte body. */
	evbuffer_add(buf, trunc, sizeof(trunc));
	assert_int_equal(wire_read_envelope(buf, T_MAX, a, &out),
	    WIRE_BAD_MESSAGE);
	assert_int_equal(evbuffer_get_length(buf), sizeof(trunc));
	evbuffer_free(buf);
	wire_arena_free(a);
}

/* A frame cut short is NEED_MORE, drains nothing, and completes later. */
static void
test_truncated(void **state)
{
	struct t_msgs		 m;
	struct wire_arena	*a;
	struct evbuffer		*buf;
	Envelope		 env, *out;
	uint8_t			*frame;
	size_t			 flen, cut;

	(void)state;
	t_msgs_fill(&m);
	t_env_set(&env, &m, 10);
	assert_non_null(frame = wire_pack_frame(&env, &flen));
	assert_non_null(a = wire_arena_new(4096));
	assert_non_null(buf = evbuffer_new());
	for (cut = 0; cut < flen; cut++) {
		evbuffer_add(buf, frame, cut);
		assert_int_equal(wire_read_envelope(buf, T_MAX, a, &out),
		    WIRE_NEED_MORE);
		assert_int_equal(evbuffer_get_length(buf), cut);
		evbuffer_drain(buf, cut);
	}
	evbuffer_add(buf, frame, flen - 1);
	evbuffer_add(buf, frame + flen - 1, 1);
	assert_int_equal(wire_read_envelope(buf, T_MAX, a, &out), WIRE_OK);
	t_env_equal(&env, out);
	free(frame);
	evbuffer_free(buf);
	wire_arena_free(a);
}

/* A length over the limit is TOO_LARGE before the body arrives. */
static void
test_too_large(void **state)
{
	struct t_msgs		 m;
	struct wire_arena	*a;
	struct evbuffer		*buf;
	Envelope		 env, *out;
	uint8_t			 hdr[WIRE_VARINT_MAX];
	size_t			 n;
	int			 len;

	(void)state;
	t_msgs_fill(&m);
	t_env_set(&env, &m, 4);
	assert_non_null(a = wire_arena_new(4096));
	assert_non_null(buf = evbuffer_new());
	len = wire_write_envelope(buf, &env);
	assert_true(len > 10);
	assert_int_equal(wire_read_envelope(buf, (size_t)len - 10, a, &out),
	    WIRE_TOO_LARGE);
	assert_int_equal(evbuffer_get_length(buf), (size_t)len);
	evbuffer_drain(buf, (size_t)len);
	n = wire_varint_encode((uint64_t)1 << 40, hdr);
	evbuffer_add(buf, hdr, n);
	assert_int_equal(wire_read_envelope(buf, T_MAX, a, &out),
	    WIRE_TOO_LARGE);
	assert_int_equal(evbuffer_get_length(buf), n);
	evbuffer_free(buf);
	wire_arena_free(a);
}

/* An 11-byte varint prefix is BAD_VARINT. */
static void
test_bad_varint_frame(void **state)
{
	uint8_t			 pre[11];
	struct wire_arena	*a;
	struct evbuffer		*buf;
	Envelope		*out;

	(void)state;
	memset(pre, 0x80, sizeof(pre));
	pre[10] = 0x00;
	assert_non_null(a = wire_arena_new(1024));
	assert_non_null(buf = evbuffer_new());
	evbuffer_add(buf, pre, sizeof(pre));
	assert_int_equal(wire_read_envelope(buf, T_MAX, a, &out),
	    WIRE_BAD_VARINT);
	assert_int_equal(evbuffer_get_length(buf), sizeof(pre));
	evbuffer_free(buf);
	wire_arena_free(a);
}

/* Two frames in one buffer are read one after the other. */
static void
test_back_to_back(void **state)
{
	struct t_msgs		 m;
	struct wire_arena	*a;
	struct evbuffer		*buf;
	Envelope		 e1, e2, *o1, *o2;

	(void)state;
	t_msgs_fill(&m);
	t_env_set(&e1, &m, 4);
	t_env_set(&e2, &m, 5);
	assert_non_null(a = wire_arena_new(4096));
	assert_non_null(buf = evbuffer_new());
	assert_true(wire_write_envelope(buf, &e1) > 0);
	assert_true(wire_write_envelope(buf, &e2) > 0);
	assert_int_equal(wire_read_envelope(buf, T_MAX, a, &o1), WIRE_OK);
	assert_int_equal(wire_read_envelope(buf, T_MAX, a, &o2), WIRE_OK);
	/* Both stay valid until the reset. */
	t_env_equal(&e1, o1);
	t_env_equal(&e2, o2);
	assert_int_equal(evbuffer_get_length(buf), 0);
	assert_int_equal(wire_read_envelope(buf, T_MAX, a, &o1),
	    WIRE_NEED_MORE);
	evbuffer_free(buf);
	wire_arena_free(a);
}

/* 10000 frames through one arena with a reset each: no growth, no spill. */
static void
test_arena_reuse(void **state)
{
	struct t_msgs		 m;
	struct wire_arena	*a;
	struct evbuffer		*buf;
	Envelope		 env, *out;
	size_t			 used = 0;
	int			 i;

	(void)state;
	t_msgs_fill(&m);
	t_env_set(&env, &m, 10);
	assert_non_null(a = wire_arena_new(4096));
	assert_non_null(buf = evbuffer_new());
	for (i = 0; i < 10000; i++) {
		m.pic.track_id = (uint64_t)i + 1;
		assert_true(wire_write_envelope(buf, &env) > 0);
		assert_int_equal(wire_read_envelope(buf, T_MAX, a, &out),
		    WIRE_OK);
		assert_int_equal(out->picture_track->track_id, i + 1);
		if (i == 0)
			used = wire_arena_used(a);
		assert_int_equal(wire_arena_used(a), used);
		wire_arena_reset(a);
	}
	assert_true(used > 0);
	assert_int_equal(wire_arena_spilled(a), 0);
	evbuffer_free(buf);
	wire_arena_free(a);
}

/* Past its block the arena falls back to malloc, freed at reset. */
static void
test_arena_spill(void **state)
{
	struct t_msgs		 m;
	struct wire_arena	*a;
	struct evbuffer		*buf;
	Envelope		 env, *out;
	int			 i;

	(void)state;
	t_msgs_fill(&m);
	assert_non_null(a = wire_arena_new(64));
	assert_non_null(buf = evbuffer_new());
	for (i = 0; i < 3; i++) {
		t_env_set(&env, &m, 10);
		assert_true(wire_write_envelope(buf, &env) > 0);
		assert_int_equal(wire_read_envelope(buf, T_MAX, a, &out),
		    WIRE_OK);
		t_env_equal(&env, out);
	}
	assert_true(wire_arena_spilled(a) > 0);
	wire_arena_reset(a);
	assert_int_equal(wire_arena_used(a), 0);
	evbuffer_free(buf);
	wire_arena_free(a);
}

/* Status phrases are distinct and name the fault. */
static void
test_status_str(void **state)
{
	int	i, j;

	(void)state;
	assert_string_equal(wire_status_str(WIRE_TOO_LARGE),
	    "frame length over limit");
	assert_non_null(strstr(wire_status_str(WIRE_BAD_VARINT),
	    "longer than 10 bytes"));
	for (i = WIRE_OK; i <= WIRE_BAD_MESSAGE; i++)
		for (j = i + 1; j <= WIRE_BAD_MESSAGE; j++)
			assert_string_not_equal(wire_status_str(i),
			    wire_status_str(j));
}

/* Run every test of this module. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint_roundtrip),
		cmocka_unit_test(test_varint_bad),
		cmocka_unit_test(test_frame_peek),
		cmocka_unit_test(test_every_kind_roundtrip),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_bad_varint_frame),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_arena_reuse),
		cmocka_unit_test(test_arena_spill),
		cmocka_unit_test(test_status_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
