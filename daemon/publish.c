/*
 * Publisher: encode once, fan out, never queue unbounded bytes.
 *
 * Per release class we keep a store: track id -> the packed PictureTrack
 * frame of its latest state, encoded once per update whatever the number
 * of subscribers. Per subscriber we keep one entry per track id it knows of
 * (queued and/or sent) in a hash, and a FIFO of dirty ids threaded through
 * those entries. An id already queued is not queued again: when its turn
 * comes the subscriber gets whatever the store holds then, so a slow
 * subscriber accumulates dirty ids (at most one per track), never bytes.
 *
 * Flushing copies frames into the bufferevent's output while it is under
 * subscriber_buffer bytes, then waits for the write callback (low-watermark
 * at half the limit) to go on.
 *
 * Release classes (issue 4): a class store holds each track's
 * PictureTrack packed ONCE without its track_id (field 1); the id a
 * subscriber sees is scoped to its recipient identity (release_scoped_id)
 * and spliced in front of the packed rest when the frame is written
 * (protobuf fields may come in any order; lengths are recomputed). A
 * subscriber with no recipient table entry (tests, legacy) sees the
 * class-local ids.
 *
 * After a policy swap, a subscriber whose class changed or was rebuilt is
 * resynced: a PictureDrop for every id it holds (retraction, at once,
 * before anything else), then a fresh snapshot of its new picture.
 *
 * A tap (replay --picture-out) is the subscriber that never falls behind:
 * it gets SnapshotBegin/SnapshotEnd of the empty picture when attached,
 * then the very bytes of each stored PictureTrack frame and each
 * PictureDrop the moment they are made, uncoalesced.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "trackfuse/codec.h"
#include "trackfuse/log.h"
#include "trackfuse/publish.h"
#include "trackfuse/release.h"
#include "trackfuse/wire.h"

#define PUBLISH_BUCKETS_MIN	64
#define PUBLISH_HDR_MAX		(3 * WIRE_VARINT_MAX + 2)

/* Entry flags of a subscriber's id table. */
#define PUBLISH_QUEUED	0x01	/* in the dirty FIFO */
#define PUBLISH_SENT	0x02	/* the subscriber holds this track */
#define PUBLISH_SNAP	0x04	/* queued by the snapshot */

/* Intrusive node of a chained hash keyed by track id. */
struct publish_hnode {
	uint64_t		 id;
	struct publish_hnode	*next;
};

struct publish_htab {
	struct publish_hnode	**b;
	size_t			  nb;
	size_t			  n;
};

/* A packed PictureTrack (without track_id) in a class store. */
struct publish_frame {
	struct publish_hnode	 h;	/* first: cast from the node */
	uint8_t			*buf;
	size_t			 len;
	size_t			 cap;
};

/* What one subscriber knows of one (class-local) track id. */
struct publish_ent {
	struct publish_hnode	 h;	/* first: cast from the node */
	uint64_t		 sid;	/* the id the subscriber sees */
	uint8_t			 flags;
	TAILQ_ENTRY(publish_ent) q;
};

TAILQ_HEAD(publish_queue, publish_ent);

struct publish_sub {
	TAILQ_ENTRY(publish_sub) entry;
	struct publish		*pub;
	unsigned		 cls;
	char			 rid[TF_ID_LEN];	/* recipient; "" local ids */
	unsigned char		 key[CONFIG_SECRET_MAX];
	size_t			 keylen;
	struct bufferevent	*bev;
	publish_fault_fn	 fault;
	void			*arg;
	struct publish_htab	 ents;
	struct publish_queue	 queue;
	size_t			 nqueued;
	size_t			 snap_left;	/* snapshot ids not yet flushed */
	int			 snap_pending;	/* SnapshotEnd not yet written */
	int			 dead;
};

struct publish_class {
	struct publish_htab	 store;
	int64_t			 now_ns;	/* class event time */
	int			 rebuilding;	/* store only, no fan out */
	int			 rebuilt;	/* resync its subscribers */
};

struct publish {
	struct publish_class	*classes;
	unsigned		 nclasses;
	TAILQ_HEAD(, publish_sub) subs;
	size_t			 nsubs;
	size_t			 max_tracks;
	size_t			 bufmax;
	int64_t			 now_ns;
	publish_tap_fn		 tap;
	void			*tap_arg;
	unsigned		 tap_cls;
	unsigned char		 tap_key[CONFIG_SECRET_MAX];
	size_t			 tap_keylen;	/* 0: class-local ids */
	struct publish_frame	 tap_frame;	/* scratch for small frames */
	struct release_recipient *rcp;
	unsigned		 nrcp;
	publish_retract_fn	 retract;
	void			*retract_arg;
	const struct release	*rel;		/* recipients' source */
	uint64_t		 retractions;
};

/* Hash of a track id (ids are dense; mix them anyway). */
static size_t
publish_hash(uint64_t id, size_t nb)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)(id & (nb - 1));
}

/* Allocate the buckets of an empty table. */
static void
publish_htab_init(struct publish_htab *t)
{
	t->nb = PUBLISH_BUCKETS_MIN;
	t->n = 0;
	if ((t->b = calloc(t->nb, sizeof(*t->b))) == NULL)
		fatal("%s: calloc", __func__);
}

/* Find id in t; NULL if absent. */
static struct publish_hnode *
publish_htab_get(const struct publish_htab *t, uint64_t id)
{
	struct publish_hnode	*h;

	for (h = t->b[publish_hash(id, t->nb)]; h != NULL; h = h->next)
		if (h->id == id)
			return h;
	return NULL;
}

/* Double the buckets when the chains grow long; keep them if out of memory. */
static void
publish_htab_grow(struct publish_htab *t)
{
	struct publish_hnode	**nb, *h, *next;
	size_t			  i, n = t->nb * 2, k;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < t->nb; i++) {
		for (h = t->b[i]; h != NULL; h = next) {
			next = h->next;
			k = publish_hash(h->id, n);
			h->next = nb[k];
			nb[k] = h;
		}
	}
	free(t->b);
	t->b = nb;
	t->nb = n;
}

/* Link h (with h->id set) into t. */
static void
publish_htab_put(struct publish_htab *t, struct publish_hnode *h)
{
	size_t	k;

	if (t->n >= t->nb * 2)
		publish_htab_grow(t);
	k = publish_hash(h->id, t->nb);
	h->next = t->b[k];
	t->b[k] = h;
	t->n++;
}

/* Unlink h from t. */
static void
publish_htab_del(struct publish_htab *t, struct publish_hnode *h)
{
	struct publish_hnode	**pp;

	for (pp = &t->b[publish_hash(h->id, t->nb)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			t->n--;
			return;
		}
	}
	fatalx("%s: track %llu not in table", __func__,
	    (unsigned long long)h->id);
}

/* Unlink and free every node of t (nodes are malloc'd), then the buckets. */
static void
publish_htab_clear(struct publish_htab *t, void (*freefn)(void *))
{
	struct publish_hnode	*h, *next;
	size_t			 i;

	for (i = 0; i < t->nb; i++) {
		for (h = t->b[i]; h != NULL; h = next) {
			next = h->next;
			freefn(h);
		}
	}
	free(t->b);
	t->b = NULL;
	t->nb = t->n = 0;
}

/* Free a store frame. */
static void
publish_frame_free(void *p)
{
	struct publish_frame	*f = p;

	free(f->buf);
	free(f);
}

/* Create the publisher with nclasses release classes. */
struct publish *
publish_new(unsigned nclasses, size_t max_tracks, size_t subscriber_buffer)
{
	struct publish	*pub;
	unsigned	 i;

	/* One more class than asked: the empty picture of "nothing". */
	if ((pub = calloc(1, sizeof(*pub))) == NULL ||
	    (pub->classes = calloc(nclasses + 1, sizeof(*pub->classes))) == NULL)
		fatal("%s: calloc", __func__);
	pub->nclasses = nclasses;
	for (i = 0; i <= nclasses; i++)
		publish_htab_init(&pub->classes[i].store);
	TAILQ_INIT(&pub->subs);
	publish_set_limits(pub, max_tracks, subscriber_buffer);
	return pub;
}

/* Free the publisher and every subscriber still attached (not their bevs). */
void
publish_free(struct publish *pub)
{
	unsigned	i;

	if (pub == NULL)
		return;
	while (!TAILQ_EMPTY(&pub->subs))
		publish_sub_free(TAILQ_FIRST(&pub->subs));
	for (i = 0; i <= pub->nclasses; i++)
		publish_htab_clear(&pub->classes[i].store, publish_frame_free);
	free(pub->classes);
	free(pub->tap_frame.buf);
	free(pub->rcp);
	free(pub);
}

/* New limits (reload); they apply from the next write. */
void
publish_set_limits(struct publish *pub, size_t max_tracks, size_t bufmax)
{
	struct publish_sub	*s;

	pub->max_tracks = max_tracks;
	pub->bufmax = bufmax > 0 ? bufmax : 1;
	TAILQ_FOREACH(s, &pub->subs, entry)
		bufferevent_setwatermark(s->bev, EV_WRITE, pub->bufmax / 2, 0);
}

/* Move the event-time watermark forward. */
void
publish_set_time(struct publish *pub, int64_t t)
{
	if (t > pub->now_ns)
		pub->now_ns = t;
}

/* The event-time watermark. */
int64_t
publish_time(const struct publish *pub)
{
	return pub->now_ns;
}

/*
 * A subscriber may know of the live tracks plus tracks it was sent that
 * have been dropped since, whose PictureDrop is still queued. Twice the
 * track limit leaves room for a full picture turning over once.
 */
static size_t
publish_sub_cap(const struct publish *pub)
{
	return pub->max_tracks * 2 + 64;
}

/* Append one small framed Envelope to the subscriber's output. */
static void
publish_write(struct publish_sub *s, const Envelope *env)
{
	if (wire_write_envelope(bufferevent_get_output(s->bev), env) == -1)
		log_warnx("publish: write failed msg=%s", wire_msg_name(env));
}

/* Make env a SnapshotBegin{count, t} held in sb. */
static void
publish_env_begin(Envelope *env, Trackfuse__V1__SnapshotBegin *sb,
    uint32_t count, int64_t t)
{
	sb->track_count = count;
	sb->time_ns = t;
	env->msg_case = TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_BEGIN;
	env->snapshot_begin = sb;
}

/* Make env a SnapshotEnd{t} held in end. */
static void
publish_env_end(Envelope *env, Trackfuse__V1__SnapshotEnd *end, int64_t t)
{
	end->time_ns = t;
	env->msg_case = TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_END;
	env->snapshot_end = end;
}

/* Make env a PictureDrop{id, t} held in drop. */
static void
publish_env_drop(Envelope *env, Trackfuse__V1__PictureDrop *drop, uint64_t id,
    int64_t t)
{
	drop->track_id = id;
	drop->time_ns = t;
	env->msg_case = TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_DROP;
	env->picture_drop = drop;
}

/*
 * The event time a subscriber is told: its class's own, never the
 * daemon-wide watermark (that would tell it when data it may not see
 * arrived). Without recipients (tests) the watermark.
 */
static int64_t
publish_sub_now(const struct publish_sub *s)
{
	if (s->rid[0] == '\0')
		return s->pub->now_ns;	/* no recipient table: one picture */
	return s->pub->classes[s->cls].now_ns;
}

/* Write SnapshotEnd{class time}. */
static void
publish_write_end(struct publish_sub *s)
{
	Envelope			 env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__SnapshotEnd	 end = TRACKFUSE__V1__SNAPSHOT_END__INIT;

	publish_env_end(&env, &end, publish_sub_now(s));
	publish_write(s, &env);
}

/* Write PictureDrop{id, class time}. */
static void
publish_write_drop(struct publish_sub *s, uint64_t id)
{
	Envelope			 env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__PictureDrop	 drop = TRACKFUSE__V1__PICTURE_DROP__INIT;

	publish_env_drop(&env, &drop, id, publish_sub_now(s));
	publish_write(s, &env);
}

/* The id a holder of key sees for a class-local id (keylen 0: itself). */
static uint64_t
publish_sid(const unsigned char *key, size_t keylen, uint64_t local)
{
	return keylen > 0 ? release_scoped_id(key, keylen, local) : local;
}

/*
 * Frame header of Envelope{picture_track = {track_id = id, <body>}}:
 * the body is a PictureTrack packed without field 1. Returns its length.
 */
static size_t
publish_splice_hdr(uint64_t id, size_t body, uint8_t *hdr)
{
	uint8_t		idf[1 + WIRE_VARINT_MAX], tmp[WIRE_VARINT_MAX];
	size_t		idl = 0, ptlen, envlen, n = 0;

	if (id != 0) {
		idf[0] = 0x08;		/* field 1, varint */
		idl = 1 + wire_varint_encode(id, idf + 1);
	}
	ptlen = idl + body;
	envlen = 1 + wire_varint_encode(ptlen, tmp) + ptlen;
	n += wire_varint_encode(envlen, hdr);
	hdr[n++] = (10 << 3) | 2;	/* Envelope.picture_track, bytes */
	n += wire_varint_encode(ptlen, hdr + n);
	memcpy(hdr + n, idf, idl);
	return n + idl;
}

/* Forget an entry that is neither queued nor sent. */
static void
publish_ent_release(struct publish_sub *s, struct publish_ent *e)
{
	if (e->flags & (PUBLISH_QUEUED | PUBLISH_SENT))
		return;
	publish_htab_del(&s->ents, &e->h);
	free(e);
}

/* Take e off the dirty FIFO. */
static void
publish_dequeue(struct publish_sub *s, struct publish_ent *e)
{
	TAILQ_REMOVE(&s->queue, e, q);
	s->nqueued--;
	e->flags &= ~PUBLISH_QUEUED;
	if (e->flags & PUBLISH_SNAP) {
		e->flags &= ~PUBLISH_SNAP;
		s->snap_left--;
	}
}

/* Declare the subscriber beyond its bounds; the owner closes it. */
static void
publish_sub_fail(struct publish_sub *s, const char *why)
{
	if (s->dead)
		return;
	s->dead = 1;
	s->fault(s->arg, s, why);
}

/* Queue id for s unless already queued; -1 if the subscriber is over cap. */
static int
publish_enqueue(struct publish_sub *s, uint64_t id, uint8_t extra)
{
	struct publish_hnode	*h;
	struct publish_ent	*e;

	if ((h = publish_htab_get(&s->ents, id)) != NULL) {
		e = (struct publish_ent *)h;
		if (e->flags & PUBLISH_QUEUED)
			return 0;	/* latest value wins at flush time */
	} else {
		if (s->ents.n >= publish_sub_cap(s->pub)) {
			publish_sub_fail(s, "subscriber id table full");
			return -1;
		}
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			publish_sub_fail(s, "out of memory");
			return -1;
		}
		e->h.id = id;
		e->sid = publish_sid(s->key, s->keylen, id);
		publish_htab_put(&s->ents, &e->h);
	}
	e->flags |= PUBLISH_QUEUED | extra;
	TAILQ_INSERT_TAIL(&s->queue, e, q);
	s->nqueued++;
	return 0;
}

/* Write the current state of one dequeued id. */
static void
publish_flush_one(struct publish_sub *s, struct publish_ent *e,
    struct evbuffer *out)
{
	struct publish_hnode	*h;
	struct publish_frame	*f;

	uint8_t			 hdr[PUBLISH_HDR_MAX];
	size_t			 hlen;

	h = publish_htab_get(&s->pub->classes[s->cls].store, e->h.id);
	if (h != NULL) {
		f = (struct publish_frame *)h;
		hlen = publish_splice_hdr(e->sid, f->len, hdr);
		if (evbuffer_add(out, hdr, hlen) == -1 ||
		    evbuffer_add(out, f->buf, f->len) == -1)
			log_warnx("publish: write failed msg=picture_track");
		e->flags |= PUBLISH_SENT;
	} else if (e->flags & PUBLISH_SENT) {
		publish_write_drop(s, e->sid);
		e->flags &= ~PUBLISH_SENT;
	}
	publish_ent_release(s, e);
}

/* Drain the dirty FIFO into the output while it is under the byte limit. */
static void
publish_flush(struct publish_sub *s)
{
	struct evbuffer		*out = bufferevent_get_output(s->bev);
	struct publish_ent	*e;

	if (s->dead)
		return;
	while (evbuffer_get_length(out) < s->pub->bufmax) {
		if (s->snap_pending && s->snap_left == 0) {
			publish_write_end(s);
			s->snap_pending = 0;
			continue;
		}
		if ((e = TAILQ_FIRST(&s->queue)) == NULL)
			break;
		publish_dequeue(s, e);
		publish_flush_one(s, e, out);
	}
}

/* Pack env into f's buffer with its varint length prefix. */
static int
publish_pack(struct publish_frame *f, const Envelope *env)
{
	uint8_t		 hdr[WIRE_VARINT_MAX], *nbuf;
	size_t		 body, hlen, need;

	body = trackfuse__v1__envelope__get_packed_size(env);
	hlen = wire_varint_encode(body, hdr);
	need = hlen + body;
	if (need > f->cap) {
		if ((nbuf = realloc(f->buf, need)) == NULL)
			return -1;
		f->buf = nbuf;
		f->cap = need;
	}
	memcpy(f->buf, hdr, hlen);
	trackfuse__v1__envelope__pack(env, f->buf + hlen);
	f->len = need;
	return 0;
}

/* Pack a PictureTrack (without its id) into f's buffer. */
static int
publish_pack_body(struct publish_frame *f, const Trackfuse__V1__PictureTrack *m)
{
	uint8_t		*nbuf;
	size_t		 need;

	need = trackfuse__v1__picture_track__get_packed_size(m);
	if (need > f->cap || f->buf == NULL) {
		if ((nbuf = realloc(f->buf, need > 0 ? need : 1)) == NULL)
			return -1;
		f->buf = nbuf;
		f->cap = need > 0 ? need : 1;
	}
	trackfuse__v1__picture_track__pack(m, f->buf);
	f->len = need;
	return 0;
}

/* Store pt packed once, without its id, in class c; NULL if out of memory. */
static struct publish_frame *
publish_store(struct publish_class *c, const struct tf_picture_track *pt)
{
	struct codec_picture_msg	 msg;
	struct publish_hnode		*h;
	struct publish_frame		*f;

	if ((h = publish_htab_get(&c->store, pt->track_id)) != NULL)
		f = (struct publish_frame *)h;
	else {
		if ((f = calloc(1, sizeof(*f))) == NULL)
			return NULL;
		f->h.id = pt->track_id;
		publish_htab_put(&c->store, &f->h);
	}
	codec_picture_encode(pt, &msg);
	msg.pic.track_id = 0;		/* proto3: a zero field is not packed */
	if (publish_pack_body(f, &msg.pic) == -1) {
		publish_htab_del(&c->store, &f->h);
		publish_frame_free(f);
		return NULL;
	}
	return f;
}

/* Frame a small Envelope in the scratch frame and hand it to the tap. */
static void
publish_tap_env(struct publish *pub, const Envelope *env)
{
	if (publish_pack(&pub->tap_frame, env) == -1) {
		log_warnx("publish: tap out of memory msg=%s",
		    wire_msg_name(env));
		return;
	}
	pub->tap(pub->tap_arg, pub->tap_frame.buf, pub->tap_frame.len);
}

/* Hand the tap a stored track framed with the tap's id for it. */
static void
publish_tap_track(struct publish *pub, const struct publish_frame *f)
{
	struct publish_frame	*t = &pub->tap_frame;
	uint8_t			 hdr[PUBLISH_HDR_MAX], *nbuf;
	size_t			 hlen, need;

	hlen = publish_splice_hdr(publish_sid(pub->tap_key, pub->tap_keylen,
	    f->h.id), f->len, hdr);
	need = hlen + f->len;
	if (need > t->cap) {
		if ((nbuf = realloc(t->buf, need)) == NULL) {
			log_warnx("publish: tap out of memory msg=picture_track");
			return;
		}
		t->buf = nbuf;
		t->cap = need;
	}
	memcpy(t->buf, hdr, hlen);
	memcpy(t->buf + hlen, f->buf, f->len);
	pub->tap(pub->tap_arg, t->buf, need);
}

/*
 * Attach the tap of class cls: it gets SnapshotBegin{0, t} and
 * SnapshotEnd{t} now, then every frame of the class as it is made.
 * -1 if the class already holds tracks (the tap has no snapshot of them).
 */
int
publish_tap(struct publish *pub, unsigned cls, publish_tap_fn fn, void *arg)
{
	Envelope			 env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__SnapshotBegin	 sb = TRACKFUSE__V1__SNAPSHOT_BEGIN__INIT;
	Trackfuse__V1__SnapshotEnd	 end = TRACKFUSE__V1__SNAPSHOT_END__INIT;

	if (cls >= pub->nclasses || pub->classes[cls].store.n > 0)
		return -1;
	pub->tap = fn;
	pub->tap_arg = arg;
	pub->tap_cls = cls;
	publish_env_begin(&env, &sb, 0, pub->now_ns);
	publish_tap_env(pub, &env);
	publish_env_end(&env, &end, pub->now_ns);
	publish_tap_env(pub, &env);
	return 0;
}

/* A system track of class cls was created or changed. */
void
publish_update(struct publish *pub, unsigned cls,
    const struct tf_picture_track *pt)
{
	struct publish_sub	*s, *next;
	struct publish_frame	*f;

	struct publish_class	*c;

	if (cls >= pub->nclasses)
		fatalx("%s: bad class %u", __func__, cls);
	c = &pub->classes[cls];
	publish_set_time(pub, pt->t_ns);
	if (pt->t_ns > c->now_ns)
		c->now_ns = pt->t_ns;
	if ((f = publish_store(c, pt)) == NULL) {
		log_warnx("publish: out of memory track=%llu",
		    (unsigned long long)pt->track_id);
		return;
	}
	if (pub->tap != NULL && cls == pub->tap_cls)
		publish_tap_track(pub, f);
	if (c->rebuilding)
		return;
	for (s = TAILQ_FIRST(&pub->subs); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->cls != cls || s->dead)
			continue;
		if (publish_enqueue(s, pt->track_id, 0) == 0)
			publish_flush(s);
	}
}

/* Forget a dropped id for s: queue a drop if it was sent, else unqueue. */
static void
publish_sub_drop(struct publish_sub *s, uint64_t id)
{
	struct publish_hnode	*h;
	struct publish_ent	*e;

	if ((h = publish_htab_get(&s->ents, id)) == NULL)
		return;
	e = (struct publish_ent *)h;
	if (e->flags & PUBLISH_SENT) {
		if (publish_enqueue(s, id, 0) == 0)
			publish_flush(s);
		return;
	}
	if (e->flags & PUBLISH_QUEUED)
		publish_dequeue(s, e);
	publish_ent_release(s, e);
	publish_flush(s);	/* may complete a snapshot */
}

/* A system track of class cls left the picture. */
void
publish_drop(struct publish *pub, unsigned cls, uint64_t id, int64_t t)
{
	Envelope			 env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__PictureDrop	 drop = TRACKFUSE__V1__PICTURE_DROP__INIT;
	struct publish_hnode		*h;
	struct publish_sub		*s, *next;

	struct publish_class		*c;

	if (cls >= pub->nclasses)
		fatalx("%s: bad class %u", __func__, cls);
	c = &pub->classes[cls];
	publish_set_time(pub, t);
	if (t > c->now_ns)
		c->now_ns = t;
	if ((h = publish_htab_get(&c->store, id)) == NULL)
		return;
	publish_htab_del(&c->store, h);
	publish_frame_free(h);
	if (pub->tap != NULL && cls == pub->tap_cls) {
		publish_env_drop(&env, &drop, publish_sid(pub->tap_key,
		    pub->tap_keylen, id), c->now_ns);
		publish_tap_env(pub, &env);
	}
	if (c->rebuilding)
		return;
	for (s = TAILQ_FIRST(&pub->subs); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->cls == cls && !s->dead)
			publish_sub_drop(s, id);
	}
}

/* Compare two track ids for qsort. */
static int
publish_idcmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Live ids of class c in ascending order (malloc'd); NULL if none. */
static uint64_t *
publish_live_ids(const struct publish_class *c, size_t *np)
{
	struct publish_hnode	*h;
	uint64_t		*ids;
	size_t			 i, n = 0;

	*np = 0;
	if (c->store.n == 0)
		return NULL;
	if ((ids = calloc(c->store.n, sizeof(*ids))) == NULL)
		return NULL;
	for (i = 0; i < c->store.nb; i++)
		for (h = c->store.b[i]; h != NULL; h = h->next)
			ids[n++] = h->id;
	qsort(ids, n, sizeof(*ids), publish_idcmp);
	*np = n;
	return ids;
}

/* Write SnapshotBegin and queue every live id of the class in order. */
static int
publish_snapshot(struct publish_sub *s)
{
	Envelope			 env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__SnapshotBegin	 sb = TRACKFUSE__V1__SNAPSHOT_BEGIN__INIT;
	uint64_t			*ids;
	size_t				 i, n;

	ids = publish_live_ids(&s->pub->classes[s->cls], &n);
	if (ids == NULL && s->pub->classes[s->cls].store.n > 0)
		return -1;
	publish_env_begin(&env, &sb, (uint32_t)n, publish_sub_now(s));
	publish_write(s, &env);
	s->snap_pending = 1;
	for (i = 0; i < n; i++) {
		if (publish_enqueue(s, ids[i], PUBLISH_SNAP) == -1)
			break;
		s->snap_left++;
	}
	free(ids);
	return 0;
}

/*
 * Point s at its recipient's class and key; a recipient unknown (or
 * without a class) sees the empty picture. 1 if anything changed.
 */
static int
publish_sub_bind(struct publish_sub *s)
{
	const struct release_recipient	*r = NULL;
	unsigned			 i, cls = s->pub->nclasses;
	size_t				 keylen = 0;
	int				 changed;

	for (i = 0; i < s->pub->nrcp; i++)
		if (strcmp(s->pub->rcp[i].id, s->rid) == 0)
			r = &s->pub->rcp[i];
	if (r != NULL && r->secretlen > 0 && r->cls < s->pub->nclasses) {
		cls = r->cls;
		keylen = r->secretlen;
	}
	changed = cls != s->cls || keylen != s->keylen ||
	    (keylen > 0 && memcmp(s->key, r->secret, keylen) != 0);
	s->cls = cls;
	s->keylen = keylen;
	if (keylen > 0)
		memcpy(s->key, r->secret, keylen);
	return changed;
}

/*
 * Attach a subscriber and start its snapshot. With a recipient table
 * (publish_set_recipients), n is the recipient's index and the subscriber
 * gets its class with scoped ids; without one, n is a class slot and ids
 * are class-local (tests).
 */
struct publish_sub *
publish_subscribe(struct publish *pub, unsigned n, struct bufferevent *bev,
    publish_fault_fn fault, void *arg)
{
	struct publish_sub	*s;

	if (pub->nrcp == 0 && n >= pub->nclasses)
		fatalx("%s: bad class %u", __func__, n);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->pub = pub;
	s->cls = n;
	if (pub->nrcp > 0) {
		s->cls = pub->nclasses;
		if (n < pub->nrcp)
			snprintf(s->rid, sizeof(s->rid), "%s", pub->rcp[n].id);
		(void)publish_sub_bind(s);
	}
	s->bev = bev;
	s->fault = fault;
	s->arg = arg;
	publish_htab_init(&s->ents);
	TAILQ_INIT(&s->queue);
	TAILQ_INSERT_TAIL(&pub->subs, s, entry);
	pub->nsubs++;
	bufferevent_setwatermark(bev, EV_WRITE, pub->bufmax / 2, 0);
	if (publish_snapshot(s) == -1) {
		publish_sub_free(s);
		return NULL;
	}
	publish_flush(s);
	return s;
}

/* Detach and free a subscriber; its bufferevent is the caller's. */
void
publish_sub_free(struct publish_sub *s)
{
	if (s == NULL)
		return;
	TAILQ_REMOVE(&s->pub->subs, s, entry);
	s->pub->nsubs--;
	publish_htab_clear(&s->ents, free);
	free(s);
}

/* The output drained below the low-watermark: go on flushing. */
void
publish_sub_writable(struct publish_sub *s)
{
	publish_flush(s);
}

/* Heartbeat{watermark} to every live subscriber with room in its output. */
void
publish_heartbeat(struct publish *pub)
{
	Envelope			 env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__Heartbeat	 hb = TRACKFUSE__V1__HEARTBEAT__INIT;
	struct publish_sub		*s;

	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT;
	env.heartbeat = &hb;
	TAILQ_FOREACH(s, &pub->subs, entry) {
		if (s->dead || s->snap_pending || evbuffer_get_length(
		    bufferevent_get_output(s->bev)) >= pub->bufmax)
			continue;
		hb.time_ns = publish_sub_now(s);
		publish_write(s, &env);
	}
}

/* Number of attached subscribers. */
size_t
publish_subscribers(const struct publish *pub)
{
	return pub->nsubs;
}

/* Live tracks in class cls. */
size_t
publish_tracks(const struct publish *pub, unsigned cls)
{
	return cls <= pub->nclasses ? pub->classes[cls].store.n : 0;
}

/* Sum of the subscribers' output buffer lengths. */
size_t
publish_bytes_queued(const struct publish *pub)
{
	const struct publish_sub	*s;
	size_t				 n = 0;

	TAILQ_FOREACH(s, &pub->subs, entry)
		n += evbuffer_get_length(bufferevent_get_output(s->bev));
	return n;
}

/* Dirty ids waiting in s's FIFO. */
size_t
publish_sub_queued(const struct publish_sub *s)
{
	return s->nqueued;
}

/* Ids s knows of (queued or sent). */
size_t
publish_sub_known(const struct publish_sub *s)
{
	return s->ents.n;
}

/* Frame a tap for recipient r (see publish.h); -1 if its class has tracks. */
int
publish_tap_as(struct publish *pub, const struct release_recipient *r,
    publish_tap_fn fn, void *arg)
{
	unsigned	cls = r->secretlen > 0 && r->cls < pub->nclasses ?
			    r->cls : pub->nclasses;

	if (pub->classes[cls].store.n > 0)
		return -1;
	memcpy(pub->tap_key, r->secret, r->secretlen);
	pub->tap_keylen = r->secretlen;
	if (cls == pub->nclasses) {
		/* Nothing: the empty picture, never updated. */
		if (publish_tap(pub, 0, fn, arg) == -1)
			return -1;
		pub->tap_cls = cls;
		return 0;
	}
	return publish_tap(pub, cls, fn, arg);
}

/* The recipient table (copied): who is in which class, with which key. */
void
publish_set_recipients(struct publish *pub, const struct release_recipient *r,
    unsigned n)
{
	free(pub->rcp);
	pub->rcp = NULL;
	pub->nrcp = 0;
	if (n == 0)
		return;
	if ((pub->rcp = calloc(n, sizeof(*pub->rcp))) == NULL)
		fatal("%s: calloc", __func__);
	memcpy(pub->rcp, r, n * sizeof(*r));
	pub->nrcp = n;
}

/* Who hears of retractions (the audit trail). */
void
publish_set_retract(struct publish *pub, publish_retract_fn fn, void *arg)
{
	pub->retract = fn;
	pub->retract_arg = arg;
}

/* Class slot cls is rebuilt: forget its store, stop fanning out. */
void
publish_rebuild_begin(struct publish *pub, unsigned cls)
{
	struct publish_class	*c;

	if (cls >= pub->nclasses)
		fatalx("%s: bad class %u", __func__, cls);
	c = &pub->classes[cls];
	publish_htab_clear(&c->store, publish_frame_free);
	publish_htab_init(&c->store);
	c->rebuilding = 1;
	c->rebuilt = 1;
	c->now_ns = 0;
}

/*
 * Retract everything s holds (PictureDrop at once, before any further
 * update), forget its queue, and start a fresh snapshot.
 */
static int
publish_sub_resync(struct publish_sub *s)
{
	struct publish_hnode	*h, *next;
	struct publish_ent	*e;
	size_t			 i;

	for (i = 0; i < s->ents.nb; i++) {
		for (h = s->ents.b[i]; h != NULL; h = next) {
			next = h->next;
			e = (struct publish_ent *)h;
			if ((e->flags & PUBLISH_SENT) && s->rid[0] != '\0') {
				publish_write_drop(s, e->sid);
				s->pub->retractions++;
				if (s->pub->retract != NULL)
					s->pub->retract(s->pub->retract_arg,
					    s->rid, e->sid);
			}
		}
	}
	publish_htab_clear(&s->ents, free);
	publish_htab_init(&s->ents);
	TAILQ_INIT(&s->queue);
	s->nqueued = 0;
	s->snap_left = 0;
	s->snap_pending = 0;
	if (publish_snapshot(s) == -1)
		return -1;
	publish_flush(s);
	return 0;
}

/*
 * After a policy swap (the recipient table is set): resync every
 * subscriber whose class, key or class picture changed.
 */
void
publish_rebuild_end(struct publish *pub)
{
	struct publish_sub	*s, *next;
	unsigned		 i;
	int			 changed;

	for (s = TAILQ_FIRST(&pub->subs); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->dead || s->rid[0] == '\0')
			continue;
		changed = publish_sub_bind(s);
		if ((changed || pub->classes[s->cls].rebuilt) &&
		    publish_sub_resync(s) == -1)
			publish_sub_fail(s, "cannot queue the snapshot");
	}
	for (i = 0; i <= pub->nclasses; i++)
		pub->classes[i].rebuilding = pub->classes[i].rebuilt = 0;
}

/* Retractions sent since start. */
uint64_t
publish_retractions(const struct publish *pub)
{
	return pub->retractions;
}

/* Class slot a subscriber is served from. */
unsigned
publish_sub_class(const struct publish_sub *s)
{
	return s->cls;
}

/* release_out: a class's track changed. */
static void
publish_out_update(void *arg, unsigned cls, const struct tf_picture_track *pt)
{
	publish_update(arg, cls, pt);
}

/* release_out: a class's track left its picture. */
static void
publish_out_drop(void *arg, unsigned cls, uint64_t id, int64_t t)
{
	publish_drop(arg, cls, id, t);
}

/* release_out: a class slot is about to be rebuilt. */
static void
publish_out_begin(void *arg, unsigned cls)
{
	publish_rebuild_begin(arg, cls);
}

/* release_out: classes regrouped; take the new table and resync. */
static void
publish_out_end(void *arg)
{
	publish_sync_recipients(arg);
}

/* Callbacks that make pub the consumer of a release stage. */
void
publish_release_out(struct publish *pub, struct release_out *out)
{
	memset(out, 0, sizeof(*out));
	out->update = publish_out_update;
	out->drop = publish_out_drop;
	out->rebuild_begin = publish_out_begin;
	out->rebuild_end = publish_out_end;
	out->arg = pub;
}

/* The release stage whose recipient table publish serves (not owned). */
void
publish_set_release(struct publish *pub, const struct release *rel)
{
	pub->rel = rel;
}

/*
 * Take the recipient table from release (once releases are halted, every
 * recipient's class is "nothing") and resync whoever changed.
 */
void
publish_sync_recipients(struct publish *pub)
{
	struct release_recipient	*v;
	unsigned			 i, n;

	if (pub->rel == NULL)
		return;
	n = release_nrecipients(pub->rel);
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		fatal("%s: calloc", __func__);
	for (i = 0; i < n; i++) {
		v[i] = *release_recipient(pub->rel, i);
		if (release_halted(pub->rel))
			v[i].cls = RELEASE_NONE;
	}
	publish_set_recipients(pub, v, n);
	free(v);
	publish_rebuild_end(pub);
}
