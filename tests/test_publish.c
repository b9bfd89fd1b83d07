/*
 * Unit tests for daemon/publish.c. The subscriber is one end of a
 * socketpair wrapped in a bufferevent on a private event_base: while the
 * loop does not run nothing leaves its output buffer, which is exactly a
 * subscriber that does not read. Running the loop and reading the other
 * end drains it; the frames read back are decoded and checked.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "trackfuse/publish.h"
#include "trackfuse/wire.h"

#define T_MAXREC	4096

/* One frame read back from the subscriber's socket. */
struct t_rec {
	int		 type;		/* Envelope msg_case */
	uint64_t	 id;
	double		 lat;
	uint32_t	 count;
	int64_t		 t;
};

struct t_sub {
	struct event_base	*base;
	struct bufferevent	*bev;
	struct publish_sub	*sub;
	int			 fd;		/* the subscriber's end */
	struct evbuffer		*in;
	struct wire_arena	*arena;
	struct t_rec		 rec[T_MAXREC];
	size_t			 nrec;
	int			 faults;
};

/* A picture track with a recognizable latitude. */
static void
t_track(struct tf_picture_track *pt, uint64_t id, double lat, int64_t t)
{
	int	i;

	memset(pt, 0, sizeof(*pt));
	pt->track_id = id;
	pt->t_ns = t;
	pt->lat_deg = lat;
	pt->lon_deg = 131.0;
	pt->alt_m = 9000.0;
	pt->vel[0] = 200.0;
	for (i = 0; i < 6; i++)
		pt->cov[tf_cov_idx(i, i)] = 100.0;
	pt->cat = TF_CAT_AIR;
	pt->ident = TF_IDENT_UNKNOWN;
	pt->quality = 0.5f;
	pt->nnations = 1;
	memcpy(pt->nations[0], "KOR", 4);
	memcpy(pt->label.owner, "KOR", 4);
	pt->label.cls = TF_CLASS_SECRET;
	pt->contributors = 1;
}

/* Update id to latitude lat. */
static void
t_update(struct publish *pub, uint64_t id, double lat)
{
	struct tf_picture_track	pt;

	t_track(&pt, id, lat, 1000 + (int64_t)id);
	publish_update(pub, 0, &pt);
}

/* The bufferevent's write callback, as peer.c has it. */
static void
t_writecb(struct bufferevent *bev, void *arg)
{
	struct t_sub	*s = arg;

	(void)bev;
	if (s->sub != NULL)
		publish_sub_writable(s->sub);
}

/* Fault callback: count it; the test owns the subscriber. */
static void
t_fault(void *arg, struct publish_sub *sub, const char *why)
{
	struct t_sub	*s = arg;

	(void)sub;
	(void)why;
	s->faults++;
}

/* A subscriber on a socketpair, not yet subscribed. */
static struct t_sub *
t_sub_new(void)
{
	struct t_sub	*s;
	int		 sv[2];

	s = calloc(1, sizeof(*s));
	assert_non_null(s);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	s->base = event_base_new();
	assert_non_null(s->base);
	s->bev = bufferevent_socket_new(s->base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(s->bev);
	bufferevent_setcb(s->bev, NULL, t_writecb, NULL, s);
	bufferevent_enable(s->bev, EV_WRITE);
	s->fd = sv[1];
	s->in = evbuffer_new();
	s->arena = wire_arena_new(8192);
	return s;
}

/* Subscribe s to class 0. */
static void
t_subscribe(struct publish *pub, struct t_sub *s)
{
	s->sub = publish_subscribe(pub, 0, s->bev, t_fault, s);
	assert_non_null(s->sub);
}

/* Free s (after its publish_sub). */
static void
t_sub_free(struct t_sub *s)
{
	if (s->sub != NULL)
		publish_sub_free(s->sub);
	bufferevent_free(s->bev);
	close(s->fd);
	evbuffer_free(s->in);
	wire_arena_free(s->arena);
	event_base_free(s->base);
	free(s);
}

/* Record one decoded frame. */
static void
t_record(struct t_sub *s, const Envelope *env)
{
	struct t_rec	*r;

	assert_true(s->nrec < T_MAXREC);
	r = &s->rec[s->nrec++];
	memset(r, 0, sizeof(*r));
	r->type = env->msg_case;
	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK:
		r->id = env->picture_track->track_id;
		r->lat = env->picture_track->position->lat_deg;
		r->t = env->picture_track->time_ns;
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_DROP:
		r->id = env->picture_drop->track_id;
		r->t = env->picture_drop->time_ns;
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_BEGIN:
		r->count = env->snapshot_begin->track_count;
		r->t = env->snapshot_begin->time_ns;
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_END:
		r->t = env->snapshot_end->time_ns;
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT:
		r->t = env->heartbeat->time_ns;
		break;
	default:
		fail_msg("unexpected message %d", env->msg_case);
	}
}

/* Let the loop write and read everything the daemon side queued. */
static void
t_drain(struct t_sub *s)
{
	Envelope		*env;
	enum wire_status	 st;
	char			 buf[65536];
	ssize_t			 n;
	int			 idle = 0, i;

	for (i = 0; i < 100000 && idle < 3; i++) {
		event_base_loop(s->base, EVLOOP_NONBLOCK);
		n = read(s->fd, buf, sizeof(buf));
		if (n > 0) {
			evbuffer_add(s->in, buf, (size_t)n);
			idle = 0;
		} else {
			assert_true(n == -1 && errno == EAGAIN);
			if (evbuffer_get_length(bufferevent_get_output(
			    s->bev)) == 0)
				idle++;
		}
	}
	assert_true(idle >= 3);
	while ((st = wire_read_envelope(s->in, WIRE_DEFAULT_MAX_FRAME,
	    s->arena, &env)) == WIRE_OK) {
		t_record(s, env);
		wire_arena_reset(s->arena);
	}
	assert_int_equal(st, WIRE_NEED_MORE);
	assert_int_equal(evbuffer_get_length(s->in), 0);
}

/* Index of the first record of type after from, or -1. */
static int
t_find(const struct t_sub *s, size_t from, int type, uint64_t id)
{
	size_t	i;

	for (i = from; i < s->nrec; i++)
		if (s->rec[i].type == type && (id == 0 || s->rec[i].id == id))
			return (int)i;
	return -1;
}

/* Number of records of type (for id, or any id if 0). */
static int
t_count(const struct t_sub *s, int type, uint64_t id)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < s->nrec; i++)
		if (s->rec[i].type == type && (id == 0 || s->rec[i].id == id))
			n++;
	return n;
}

/*
 * The snapshot is Begin, every live track in ascending id, End; then live
 * updates. The output is blocked (1 byte limit) so that everything queues.
 */
static void
test_snapshot_order(void **state)
{
	struct publish	*pub = publish_new(1, 100, 1);
	struct t_sub	*s = t_sub_new();

	(void)state;
	publish_set_time(pub, 5000);
	t_update(pub, 9, 9.0);
	t_update(pub, 2, 2.0);
	t_update(pub, 5, 5.0);
	t_update(pub, 5, 5.5);
	assert_int_equal(publish_tracks(pub, 0), 3);
	t_subscribe(pub, s);
	assert_int_equal(publish_sub_queued(s->sub), 3);
	t_update(pub, 2, 2.5);		/* already queued: not queued again */
	t_update(pub, 7, 7.0);		/* a new track during the snapshot */
	assert_int_equal(publish_sub_queued(s->sub), 4);
	t_drain(s);

	assert_int_equal(s->nrec, 6);
	assert_int_equal(s->rec[0].type,
	    TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_BEGIN);
	assert_int_equal(s->rec[0].count, 3);
	assert_int_equal(s->rec[0].t, 5000);
	assert_int_equal(s->rec[1].id, 2);
	assert_true(s->rec[1].lat == 2.5);	/* latest state */
	assert_int_equal(s->rec[2].id, 5);
	assert_true(s->rec[2].lat == 5.5);
	assert_int_equal(s->rec[3].id, 9);
	assert_int_equal(s->rec[4].type,
	    TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_END);
	assert_int_equal(s->rec[5].type,
	    TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK);
	assert_int_equal(s->rec[5].id, 7);
	t_sub_free(s);
	publish_free(pub);
}

/* With room in the output a subscriber gets every update, in order. */
static void
test_live_order(void **state)
{
	struct publish	*pub = publish_new(1, 100, 1 << 20);
	struct t_sub	*s = t_sub_new();

	(void)state;
	t_update(pub, 3, 3.0);
	t_subscribe(pub, s);
	t_update(pub, 3, 3.5);
	t_update(pub, 1, 1.0);
	t_update(pub, 3, 3.75);
	t_drain(s);
	assert_int_equal(s->nrec, 6);
	assert_int_equal(s->rec[1].id, 3);
	assert_true(s->rec[1].lat == 3.0);
	assert_int_equal(s->rec[2].type,
	    TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_END);
	assert_true(s->rec[3].id == 3 && s->rec[3].lat == 3.5);
	assert_true(s->rec[4].id == 1 && s->rec[4].lat == 1.0);
	assert_true(s->rec[5].id == 3 && s->rec[5].lat == 3.75);
	t_sub_free(s);
	publish_free(pub);
}

/* An empty picture still gets Begin{0} and End. */
static void
test_snapshot_empty(void **state)
{
	struct publish	*pub = publish_new(1, 100, 1 << 20);
	struct t_sub	*s = t_sub_new();

	(void)state;
	t_subscribe(pub, s);
	t_drain(s);
	assert_int_equal(s->nrec, 2);
	assert_int_equal(s->rec[0].type,
	    TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_BEGIN);
	assert_int_equal(s->rec[0].count, 0);
	assert_int_equal(s->rec[1].type,
	    TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_END);
	t_sub_free(s);
	publish_free(pub);
}

/* While the output is full only ids queue up; the latest value wins. */
static void
test_latest_wins(void **state)
{
	struct publish	*pub = publish_new(1, 100, 1);	/* 1 byte: blocks */
	struct t_sub	*s = t_sub_new();
	int		 i, first, last;

	(void)state;
	t_subscribe(pub, s);
	for (i = 1; i <= 500; i++) {
		t_update(pub, 1, (double)i / 10.0);
		t_update(pub, 2, -(double)i / 10.0);
		assert_true(publish_sub_queued(s->sub) <= 2);
	}
	t_drain(s);
	/* Never more than a handful of frames for 1000 updates. */
	assert_true(t_count(s, TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK, 1)
	    <= 2);
	assert_true(t_count(s, TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK, 2)
	    <= 2);
	/* The last frame of each track carries its last state. */
	for (last = -1, first = 0; (first = t_find(s, (size_t)first,
	    TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK, 1)) != -1; first++)
		last = first;
	assert_true(last != -1);
	assert_true(s->rec[last].lat == 50.0);
	for (last = -1, first = 0; (first = t_find(s, (size_t)first,
	    TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK, 2)) != -1; first++)
		last = first;
	assert_true(last != -1);
	assert_true(s->rec[last].lat == -50.0);
	t_sub_free(s);
	publish_free(pub);
}

/* A drop reaches a subscriber only for a track it was sent. */
static void
test_drop_only_sent(void **state)
{
	struct publish	*pub = publish_new(1, 100, 1);
	struct t_sub	*s = t_sub_new();

	(void)state;
	t_subscribe(pub, s);
	t_drain(s);				/* Begin, End */
	t_update(pub, 4, 4.0);			/* written: output was empty */
	t_update(pub, 3, 3.0);			/* queued behind it */
	publish_drop(pub, 0, 3, 7777);		/* never sent: just forgotten */
	publish_drop(pub, 0, 4, 8888);		/* sent: PictureDrop */
	publish_drop(pub, 0, 99, 9999);		/* unknown: nothing */
	assert_int_equal(publish_tracks(pub, 0), 0);
	t_drain(s);
	assert_int_equal(t_count(s, TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK,
	    3), 0);
	assert_int_equal(t_count(s, TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_DROP,
	    3), 0);
	assert_int_equal(t_count(s, TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK,
	    4), 1);
	assert_int_equal(t_count(s, TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_DROP,
	    4), 1);
	assert_int_equal(t_count(s, TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_DROP,
	    99), 0);
	assert_true(t_find(s, 0, TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_DROP, 4) >
	    t_find(s, 0, TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK, 4));
	assert_int_equal(publish_sub_known(s->sub), 0);
	t_sub_free(s);
	publish_free(pub);
}

/* Tracks dropped during a snapshot still let the snapshot end. */
static void
test_snapshot_drop(void **state)
{
	struct publish	*pub = publish_new(1, 100, 1);
	struct t_sub	*s = t_sub_new();
	uint64_t	 id;

	(void)state;
	for (id = 1; id <= 10; id++)
		t_update(pub, id, (double)id);
	t_subscribe(pub, s);			/* Begin fills the output */
	for (id = 2; id <= 10; id++)
		publish_drop(pub, 0, id, 100);
	t_drain(s);
	assert_int_equal(s->rec[0].count, 10);
	assert_int_equal(t_count(s, TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK,
	    0), 1);
	assert_int_equal(t_count(s, TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_END,
	    0), 1);
	assert_int_equal(t_count(s, TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_DROP,
	    0), 0);
	t_sub_free(s);
	publish_free(pub);
}

/*
 * Bounds: with a blocked subscriber the queue never holds more ids than
 * there are tracks and the output never grows much past the byte limit;
 * once drained, the subscriber's picture equals the store's.
 */
static void
test_bounds(void **state)
{
	struct publish	*pub = publish_new(1, 50, 2048);
	struct t_sub	*s = t_sub_new();
	struct t_sub	*fast = t_sub_new();
	size_t		 i, out, maxout = 0;
	uint64_t	 id;
	int		 round, k;
	double		 want;

	(void)state;
	t_subscribe(pub, s);
	t_subscribe(pub, fast);
	for (round = 0; round < 200; round++) {
		for (id = 1; id <= 50; id++)
			t_update(pub, id, round + (double)id / 100.0);
		assert_true(publish_sub_queued(s->sub) <= 50);
		out = evbuffer_get_length(bufferevent_get_output(s->bev));
		if (out > maxout)
			maxout = out;
		if (round % 10 == 0)
			t_drain(fast);		/* the fast one keeps up */
	}
	/* One frame at most beyond the limit. */
	assert_true(maxout >= 2048);
	assert_true(maxout < 2048 + 512);
	t_drain(s);
	t_drain(fast);
	for (k = 0; k < 2; k++) {
		struct t_sub	*x = k == 0 ? s : fast;

		for (id = 1; id <= 50; id++) {
			int	last = -1;

			for (i = 0; i < x->nrec; i++)
				if (x->rec[i].type ==
				    TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK &&
				    x->rec[i].id == id)
					last = (int)i;
			assert_true(last != -1);
			want = 199 + (double)id / 100.0;
			assert_true(x->rec[last].lat == want);
		}
	}
	/* The slow one got far fewer frames than the 10000 updates. */
	assert_true(s->nrec < 1000);
	assert_int_equal(s->faults, 0);
	assert_true(publish_bytes_queued(pub) == 0);
	t_sub_free(s);
	t_sub_free(fast);
	publish_free(pub);
}

/* A heartbeat goes only to subscribers past their snapshot. */
static void
test_heartbeat(void **state)
{
	struct publish	*pub = publish_new(1, 100, 1);
	struct t_sub	*a = t_sub_new(), *b = t_sub_new();

	(void)state;
	t_update(pub, 1, 1.0);
	t_update(pub, 2, 2.0);
	t_subscribe(pub, a);
	t_drain(a);			/* a's snapshot is complete */
	t_subscribe(pub, b);		/* b's output is full mid-snapshot */
	publish_set_time(pub, 123456);
	publish_heartbeat(pub);
	t_drain(a);
	t_drain(b);
	assert_int_equal(t_count(a, TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT, 0),
	    1);
	assert_int_equal(a->rec[a->nrec - 1].t, 123456);
	assert_int_equal(t_count(b, TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT, 0),
	    0);
	assert_int_equal(publish_subscribers(pub), 2);
	t_sub_free(a);
	t_sub_free(b);
	assert_int_equal(publish_subscribers(pub), 0);
	publish_free(pub);
}

/* More ids than the subscriber may know of: fault, not unbounded growth. */
static void
test_overflow(void **state)
{
	struct publish	*pub = publish_new(1, 4, 1);
	struct t_sub	*s = t_sub_new();
	uint64_t	 id;

	(void)state;
	t_subscribe(pub, s);
	/* The core would never exceed max_tracks; publish must survive it. */
	for (id = 1; id <= 200 && s->faults == 0; id++)
		t_update(pub, id, 1.0);
	assert_int_equal(s->faults, 1);
	assert_true(publish_sub_known(s->sub) <= 4 * 2 + 64);
	t_update(pub, 1000, 1.0);	/* a failed subscriber is left alone */
	assert_int_equal(s->faults, 1);
	t_sub_free(s);
	publish_free(pub);
}

/* Run every test of this module. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_order),
		cmocka_unit_test(test_snapshot_empty),
		cmocka_unit_test(test_live_order),
		cmocka_unit_test(test_latest_wins),
		cmocka_unit_test(test_drop_only_sent),
		cmocka_unit_test(test_snapshot_drop),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
