/*
 * Federation uplinks: the outbound side of a federation link
 * (docs/federation.md).
 *
 * An uplink connects to another daemon's feeds listener with its own
 * certificate (CN = link id), says Hello as a feed and forwards the
 * contributions this daemon's owners release to the link's recipient
 * nation: policy_evaluate() with a recipient of that nation, sanitizers
 * applied, the originator's label unchanged. Contributions, not fused
 * tracks: a fused product of several owners has no single owner whose
 * policy could govern it.
 *
 * Bounded: per link a table of at most max_tracks source tracks holds
 * the latest report of each (latest wins while the link is slow or
 * down) and a FIFO of dirty tracks is drained while the socket takes it;
 * delayed reports wait in a bounded ring. Reconnects with backoff and
 * resends the latest report of every live track.
 *
 * Log lines:
 *   uplink: connected id=ID peer=A:P recipient=NAT
 *   uplink: accepted id=ID daemon=NAME nation=NAT
 *   uplink: connect failed id=ID peer=A:P reason=TEXT retry_in=Ns
 *   uplink: disconnected id=ID peer=A:P reason=TEXT retry_in=Ns
 *   uplink: error from daemon id=ID code=N message=TEXT
 *   uplink: track table full id=ID max_tracks=N dropped=N
 *   uplink: starting id=ID connect=A:P recipient=NAT tls=on|off
 *   uplink: stopped id=ID sent=N withheld=N
 *
 * The policies are the release stage's in force (release_policy()), so a
 * link and the local centers are judged against the same version and a
 * reload (SIGHUP, SIGUSR1) applies to both at once.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "trackfuse/codec.h"
#include "trackfuse/config.h"
#include "trackfuse/feed.h"
#include "trackfuse/log.h"
#include "trackfuse/peer.h"
#include "trackfuse/policy.h"
#include "trackfuse/release.h"
#include "trackfuse/tls.h"
#include "trackfuse/track.h"
#include "trackfuse/uplink.h"
#include "trackfuse/wire.h"

#define UPLINK_BACKOFF_MIN	0.5	/* s */
#define UPLINK_BACKOFF_MAX	30.0
#define UPLINK_HEARTBEAT_MS	1000	/* wall time between heartbeats */
#define UPLINK_SWEEP_S		5	/* stale track sweep */
#define UPLINK_OUTBUF		(256 * 1024)	/* bytes queued in the socket */
#define UPLINK_ARENA_SIZE	4096
#define UPLINK_DELAY_MAX	65536	/* delayed reports held per link */
#define UPLINK_LOG_EVERY	1000
#define UPLINK_STALE_NS		(120LL * 1000000000LL)

enum uplink_state {
	UPLINK_IDLE = 0,	/* waiting to (re)connect */
	UPLINK_CONNECTING,	/* TCP/TLS handshake running */
	UPLINK_HELLO,		/* Hello sent, waiting for HelloAck */
	UPLINK_READY
};

enum uplink_pending {
	UPLINK_NONE = 0,
	UPLINK_SEND_REPORT,
	UPLINK_SEND_DROP
};

/* One source track a link knows of. */
struct uplink_track {
	struct uplink_track		*hnext;
	TAILQ_ENTRY(uplink_track)	 qentry;
	char				 sensor[TF_ID_LEN];	/* as got */
	uint32_t			 local_track;
	uint64_t			 gen;		/* incarnation */
	int64_t				 last_t;	/* latest accepted */
	int64_t				 drop_t;
	int64_t				 delay_ns;	/* owner's, last judged */
	enum uplink_pending		 pending;
	int				 queued;
	int				 has_rep;
	int				 sent;		/* far end holds it */
	struct tf_report		 rep;		/* latest, sanitized */
};

TAILQ_HEAD(uplink_queue, uplink_track);

/* A report (or a drop) waiting out its owner's minimum delay. */
struct uplink_delayed {
	uint64_t		gen;
	int64_t			due;
	int			drop;		/* withdraw at rep.t_ns */
	char			sensor[TF_ID_LEN];	/* as received */
	uint32_t		local_track;
	struct tf_report	rep;
};

struct uplink {
	struct uplink_set	*set;
	char			 id[TF_ID_LEN];
	unsigned char		 key[128];	/* pseudonym key */
	size_t			 keylen;
	int			 has_secret;	/* key is uplinks[].secret */
	char			 recipient[TF_NATION_LEN];
	char			 peer[128];
	char			*conf;		/* settings, see uplink_conf */
	struct sockaddr_storage	 ss;
	int			 sslen;
	int			 tls;
	SSL_CTX			*ctx;
	enum uplink_state	 state;
	struct bufferevent	*bev;
	struct wire_arena	*arena;
	struct event		*retry_ev;
	struct event		*hb_ev;
	double			 backoff_s;
	struct uplink_track	**hash;
	size_t			 nbuckets;
	size_t			 ntracks;
	size_t			 max_tracks;
	struct uplink_queue	 queue;
	uint64_t		 gen;
	struct uplink_delayed	*delayed;	/* ring */
	size_t			 dhead, dcount;
	uint64_t		 sent, withheld, full, delay_lost;
};

struct uplink_set {
	struct trackfused	*env;
	const struct policy_set	*policy;	/* NULL: release's in force */
	char			 nation[TF_NATION_LEN];
	int64_t			 now;		/* event-time watermark */
	struct uplink		**links;
	unsigned		 nlinks;
	struct event		*sweep_ev;
};

static void	uplink_connect(struct uplink *);
static void	uplink_free_link(struct uplink *);
static void	uplink_sync(struct uplink_set *, int);
static void	uplink_flush(struct uplink *);

/* The feed stage's tap: every accepted input comes through here. */
static void	uplink_tap_report(void *, const struct config_identity *,
		    const struct tf_report *);
static void	uplink_tap_drop(void *, const struct config_identity *,
		    const struct tf_drop *);
static void	uplink_tap_advance(void *, int64_t);

static const struct feed_tap uplink_tap = {
	uplink_tap_report, uplink_tap_drop, uplink_tap_advance
};

/* A name of a verdict, for logs and tests. */
const char *
uplink_verdict_name(enum uplink_verdict v)
{
	switch (v) {
	case UPLINK_FORWARD:
		return "forward";
	case UPLINK_WITHHELD:
		return "withheld";
	case UPLINK_ECHO:
		return "echo";
	}
	return "unknown";
}

/*
 * A stripped sensor's stand-in: "ANON-" and 16 hex digits of HMAC-SHA256,
 * keyed with the link's secret, over link id and sensor id. Stable, so the
 * far core still keeps one sensor's tracks apart; distinct per link, so two
 * links do not mix; keyed, because sensor ids are few and guessable and an
 * unkeyed hash of one could be reversed by trying them all.
 */
void
uplink_pseudonym(const unsigned char *key, size_t keylen, const char *link_id,
    const char *sensor, char *out)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;
	char		buf[2 * TF_ID_LEN + 2];
	int		i, n;

	n = snprintf(buf, sizeof(buf), "%s/%s", link_id, sensor);
	if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)buf,
	    (size_t)n, md, &mdlen) == NULL || mdlen < 8)
		fatalx("%s: HMAC failed", __func__);
	memcpy(out, "ANON-", 5);
	for (i = 0; i < 8; i++)
		snprintf(out + 5 + 2 * i, 3, "%02x", md[i]);
}

/* Apply the owner's sanitizers for this link to a copy of the report. */
static void
uplink_sanitize(const struct policy_sanitize *san, const char *link_id,
    const unsigned char *key, size_t keylen, const struct tf_report *in,
    struct tf_report *out)
{
	*out = *in;
	if (san->coarsen_m > 0)
		policy_coarsen(in->lat_deg, in->lon_deg, san->coarsen_m,
		    &out->lat_deg, &out->lon_deg);
	if (san->strip_sensor)
		uplink_pseudonym(key, keylen, link_id, in->sensor,
		    out->sensor);
}

/* See uplink.h: judge one contribution for one link. */
enum uplink_verdict
uplink_judge(const struct policy_set *ps, const char *daemon_nation,
    const char *link_id, const unsigned char *key, size_t keylen,
    const char *recipient,
    const struct config_identity *from, const struct tf_report *in,
    struct tf_report *out, int64_t *delay_ns)
{
	struct policy_contrib	c;
	struct policy_recipient	rcpt;
	struct policy_decision	d;

	/* Never send a link's recipient what its own daemons sent us. */
	if (from->federation && from->peer_daemon_nation != NULL &&
	    strcmp(from->peer_daemon_nation, recipient) == 0)
		return UPLINK_ECHO;
	memset(&c, 0, sizeof(c));
	c.label = in->label;
	snprintf(c.origin, sizeof(c.origin), "%s", from->nation);
	c.cat = in->cat;
	c.lat_deg = in->lat_deg;
	c.lon_deg = in->lon_deg;
	c.t_ns = in->t_ns;
	c.federated = from->federation;
	if (from->federation && from->peer_daemon_nation != NULL)
		snprintf(c.from_daemon, sizeof(c.from_daemon), "%s",
		    from->peer_daemon_nation);
	rcpt = policy_uplink_recipient(link_id, recipient);
	if (ps == NULL || !policy_evaluate(ps, &c, &rcpt, daemon_nation, &d))
		return UPLINK_WITHHELD;
	uplink_sanitize(&d.san, link_id, key, keylen, in, out);
	*delay_ns = d.san.delay_ns;
	return UPLINK_FORWARD;
}

/* Bucket of a source track key (FNV-1a). */
static size_t
uplink_bucket(const struct uplink *l, const char *sensor, uint32_t local)
{
	uint64_t	h = 1469598103934665603ULL;
	int		i;

	for (; *sensor != '\0'; sensor++)
		h = (h ^ (unsigned char)*sensor) * 1099511628211ULL;
	for (i = 0; i < 4; i++, local >>= 8)
		h = (h ^ (local & 0xff)) * 1099511628211ULL;
	return (size_t)(h & (l->nbuckets - 1));
}

/* The link's entry of a source track, or NULL. */
static struct uplink_track *
uplink_find(const struct uplink *l, const char *sensor, uint32_t local)
{
	struct uplink_track	*t;

	for (t = l->hash[uplink_bucket(l, sensor, local)]; t != NULL;
	    t = t->hnext)
		if (t->local_track == local && strcmp(t->sensor, sensor) == 0)
			return t;
	return NULL;
}

/* A new entry, or NULL when the table is full (counted, logged). */
static struct uplink_track *
uplink_track_new(struct uplink *l, const char *sensor, uint32_t local)
{
	struct uplink_track	*t;
	size_t			 b;

	if (l->ntracks >= l->max_tracks) {
		if (l->full++ % UPLINK_LOG_EVERY == 0)
			log_warnx("uplink: track table full id=%s "
			    "max_tracks=%zu dropped=%llu", l->id, l->max_tracks,
			    (unsigned long long)l->full);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal("%s: calloc", __func__);
	snprintf(t->sensor, sizeof(t->sensor), "%s", sensor);
	t->local_track = local;
	t->gen = ++l->gen;
	b = uplink_bucket(l, sensor, local);
	t->hnext = l->hash[b];
	l->hash[b] = t;
	l->ntracks++;
	return t;
}

/* Unlink and free an entry. */
static void
uplink_track_free(struct uplink *l, struct uplink_track *t)
{
	struct uplink_track	**pp;

	pp = &l->hash[uplink_bucket(l, t->sensor, t->local_track)];
	while (*pp != t)
		pp = &(*pp)->hnext;
	*pp = t->hnext;
	if (t->queued)
		TAILQ_REMOVE(&l->queue, t, qentry);
	l->ntracks--;
	free(t);
}

/* Put an entry on the send queue (once). */
static void
uplink_enqueue(struct uplink *l, struct uplink_track *t)
{
	if (t->queued)
		return;
	TAILQ_INSERT_TAIL(&l->queue, t, qentry);
	t->queued = 1;
}

static void	uplink_delay(struct uplink *, const struct uplink_track *,
		    const struct tf_report *, int64_t, int);

/* The far end should no longer hold t: a drop if it has it, else forget. */
static void
uplink_withdraw_now(struct uplink *l, struct uplink_track *t, int64_t when)
{
	t->gen = ++l->gen;		/* delayed reports of it are void */
	if (!t->sent) {
		uplink_track_free(l, t);
		return;
	}
	t->pending = UPLINK_SEND_DROP;
	t->drop_t = when;
	uplink_enqueue(l, t);
}

/*
 * Withdraw t. The end of a track tells its time too: when the owner
 * demands a delay, the drop waits it out like the reports did, so the far
 * end never learns of the end sooner than of the track's last position.
 */
static void
uplink_withdraw(struct uplink *l, struct uplink_track *t, int64_t when)
{
	struct tf_report	marker;

	if (t->delay_ns <= 0) {
		uplink_withdraw_now(l, t, when);
		return;
	}
	memset(&marker, 0, sizeof(marker));
	marker.t_ns = when;
	uplink_delay(l, t, &marker, t->delay_ns, 1);
	t->delay_ns = 0;
}

/* A sanitized report is due: latest wins in the entry, then send. */
static void
uplink_apply(struct uplink *l, struct uplink_track *t,
    const struct tf_report *rep)
{
	if (t->has_rep && rep->t_ns <= t->rep.t_ns)
		return;
	t->rep = *rep;
	t->has_rep = 1;
	t->pending = UPLINK_SEND_REPORT;
	uplink_enqueue(l, t);
}

/* Hold a report until its delay has passed; the ring drops its oldest. */
static void
uplink_delay(struct uplink *l, const struct uplink_track *t,
    const struct tf_report *rep, int64_t delay, int drop)
{
	struct uplink_delayed	*d;

	if (l->delayed == NULL && (l->delayed = calloc(UPLINK_DELAY_MAX,
	    sizeof(*l->delayed))) == NULL)
		fatal("%s: calloc", __func__);
	if (l->dcount == UPLINK_DELAY_MAX) {
		l->dhead = (l->dhead + 1) % UPLINK_DELAY_MAX;
		l->dcount--;
		l->delay_lost++;
	}
	d = &l->delayed[(l->dhead + l->dcount) % UPLINK_DELAY_MAX];
	l->dcount++;
	d->gen = t->gen;
	d->drop = drop;
	d->due = rep->t_ns + delay;
	snprintf(d->sensor, sizeof(d->sensor), "%s", t->sensor);
	d->local_track = t->local_track;
	d->rep = *rep;
}

/* Release every delayed report whose time has come (ring order). */
static void
uplink_release_due(struct uplink *l, int64_t now)
{
	struct uplink_delayed	*d;
	struct uplink_track	*t;

	while (l->dcount > 0) {
		d = &l->delayed[l->dhead];
		if (d->due > now)
			break;
		l->dhead = (l->dhead + 1) % UPLINK_DELAY_MAX;
		l->dcount--;
		t = uplink_find(l, d->sensor, d->local_track);
		if (t == NULL || t->gen != d->gen)
			continue;
		if (d->drop)
			uplink_withdraw_now(l, t, d->rep.t_ns);
		else
			uplink_apply(l, t, &d->rep);
	}
}

/* The policy set judged with: the override, or release's in force. */
static const struct policy_set *
uplink_policy(const struct uplink_set *set)
{
	if (set->policy != NULL)
		return set->policy;
	return set->env->release != NULL ? release_policy(set->env->release) :
	    NULL;
}

/* One accepted report for one link. */
static void
uplink_link_report(struct uplink *l, const struct config_identity *from,
    const struct tf_report *r)
{
	struct uplink_set	*set = l->set;
	struct uplink_track	*t;
	struct tf_report	 out;
	int64_t			 delay = 0;

	t = uplink_find(l, r->sensor, r->local_track);
	if (uplink_judge(uplink_policy(set), set->nation, l->id, l->key,
	    l->keylen, l->recipient,
	    from, r, &out, &delay) != UPLINK_FORWARD) {
		l->withheld++;
		if (t != NULL)
			uplink_withdraw(l, t, r->t_ns);
		return;
	}
	if (t == NULL && (t = uplink_track_new(l, r->sensor,
	    r->local_track)) == NULL)
		return;
	if (r->t_ns <= t->last_t)
		return;
	t->last_t = r->t_ns;
	t->delay_ns = delay;
	if (delay > 0)
		uplink_delay(l, t, &out, delay, 0);
	else
		uplink_apply(l, t, &out);
}

/* Move the event-time watermark and release what is due. */
void
uplink_advance(struct uplink_set *set, int64_t t)
{
	unsigned	i;

	if (t <= set->now)
		return;
	set->now = t;
	for (i = 0; i < set->nlinks; i++) {
		uplink_release_due(set->links[i], t);
		uplink_flush(set->links[i]);
	}
}

/* An accepted report: judge it for every link. */
void
uplink_report(struct uplink_set *set, const struct config_identity *from,
    const struct tf_report *r)
{
	unsigned	i;

	for (i = 0; i < set->nlinks; i++)
		uplink_link_report(set->links[i], from, r);
	uplink_advance(set, r->t_ns);
	for (i = 0; i < set->nlinks; i++)
		uplink_flush(set->links[i]);
}

/* An accepted drop: every link that forwarded the track drops it too. */
void
uplink_drop(struct uplink_set *set, const struct config_identity *from,
    const struct tf_drop *d)
{
	struct uplink_track	*t;
	unsigned		 i;

	(void)from;
	for (i = 0; i < set->nlinks; i++) {
		t = uplink_find(set->links[i], d->sensor, d->local_track);
		if (t != NULL)
			uplink_withdraw(set->links[i], t, d->t_ns);
	}
	uplink_advance(set, d->t_ns);
	for (i = 0; i < set->nlinks; i++)
		uplink_flush(set->links[i]);
}

/* Tap entry: a report. */
static void
uplink_tap_report(void *arg, const struct config_identity *from,
    const struct tf_report *r)
{
	uplink_report(arg, from, r);
}

/* Tap entry: a drop. */
static void
uplink_tap_drop(void *arg, const struct config_identity *from,
    const struct tf_drop *d)
{
	uplink_drop(arg, from, d);
}

/* Tap entry: the watermark moved (a heartbeat). */
static void
uplink_tap_advance(void *arg, int64_t t)
{
	uplink_advance(arg, t);
}

/* Write one queued entry; 0, or -1 if it could not be framed. */
static int
uplink_send_one(struct uplink_track *t, struct evbuffer *out)
{
	struct codec_report_msg		 m;
	Envelope			 env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__TrackDrop	 drop = TRACKFUSE__V1__TRACK_DROP__INIT;

	if (t->pending == UPLINK_SEND_REPORT) {
		codec_report_encode(&t->rep, &m);
		return wire_write_envelope(out, &m.env) == -1 ? -1 : 0;
	}
	drop.sensor_id = t->rep.sensor;
	drop.local_track = t->rep.local_track;
	drop.time_ns = t->drop_t;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP;
	env.track_drop = &drop;
	return wire_write_envelope(out, &env) == -1 ? -1 : 0;
}

/* Drain the send queue into the socket while it takes it. */
static void
uplink_flush(struct uplink *l)
{
	struct evbuffer		*out;
	struct uplink_track	*t;

	if (l->state != UPLINK_READY)
		return;
	out = bufferevent_get_output(l->bev);
	while ((t = TAILQ_FIRST(&l->queue)) != NULL &&
	    evbuffer_get_length(out) < UPLINK_OUTBUF) {
		TAILQ_REMOVE(&l->queue, t, qentry);
		t->queued = 0;
		if (t->pending == UPLINK_NONE)
			continue;
		if (uplink_send_one(t, out) == -1)
			log_warnx("uplink: cannot frame id=%s sensor=%s", l->id,
			    t->sensor);
		if (t->pending == UPLINK_SEND_DROP) {
			uplink_track_free(l, t);
			continue;
		}
		t->pending = UPLINK_NONE;
		t->sent = 1;
		l->sent++;
	}
}

/*
 * After a disconnect the far end may have lost what we sent, or may still
 * hold it until it ages out: every live track is queued again with its
 * latest report, and pending drops stay queued (a drop of a track the far
 * end no longer has is harmless).
 */
static void
uplink_requeue(struct uplink *l)
{
	struct uplink_track	*t;
	size_t			 b;

	for (b = 0; b < l->nbuckets; b++)
		for (t = l->hash[b]; t != NULL; t = t->hnext) {
			if (t->pending != UPLINK_SEND_DROP && !t->has_rep)
				continue;
			if (t->pending != UPLINK_SEND_DROP)
				t->pending = UPLINK_SEND_REPORT;
			uplink_enqueue(l, t);
		}
}

/* Forget tracks far older than the watermark (their feed went quiet). */
static void
uplink_sweep(struct uplink *l, int64_t now)
{
	struct uplink_track	*t, *next;
	size_t			 b;

	for (b = 0; b < l->nbuckets; b++)
		for (t = l->hash[b]; t != NULL; t = next) {
			next = t->hnext;
			if (t->pending != UPLINK_SEND_DROP &&
			    t->last_t < now - UPLINK_STALE_NS)
				uplink_track_free(l, t);
		}
}

/* Close the connection and try again after the backoff. */
static void
uplink_retry(struct uplink *l, const char *why)
{
	struct timeval	tv;

	if (l->bev != NULL) {
		bufferevent_free(l->bev);
		l->bev = NULL;
	}
	evtimer_del(l->hb_ev);
	if (l->state == UPLINK_CONNECTING)
		log_warnx("uplink: connect failed id=%s peer=%s reason=%s "
		    "retry_in=%.1fs", l->id, l->peer, why, l->backoff_s);
	else if (l->state != UPLINK_IDLE)
		log_warnx("uplink: disconnected id=%s peer=%s reason=%s "
		    "retry_in=%.1fs", l->id, l->peer, why, l->backoff_s);
	l->state = UPLINK_IDLE;
	uplink_requeue(l);
	tv.tv_sec = (time_t)l->backoff_s;
	tv.tv_usec = (suseconds_t)((l->backoff_s - (double)tv.tv_sec) * 1e6);
	evtimer_add(l->retry_ev, &tv);
	l->backoff_s *= 2.0;
	if (l->backoff_s > UPLINK_BACKOFF_MAX)
		l->backoff_s = UPLINK_BACKOFF_MAX;
}

/* Send our Hello: the far daemon judges us by our certificate anyway. */
static void
uplink_hello(struct uplink *l)
{
	Trackfuse__V1__Hello	h = TRACKFUSE__V1__HELLO__INIT;
	Envelope		env = TRACKFUSE__V1__ENVELOPE__INIT;

	h.protocol_version = TF_PROTOCOL_VERSION;
	h.role = TRACKFUSE__V1__ROLE__ROLE_FEED;
	h.id = l->id;
	h.nation = l->set->nation;
	h.software = (char *)"trackfused-uplink " TF_VERSION;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_HELLO;
	env.hello = &h;
	if (wire_write_envelope(bufferevent_get_output(l->bev), &env) == -1)
		fatalx("uplink: cannot frame hello");
	l->state = UPLINK_HELLO;
}

/* Arm the heartbeat timer. */
static void
uplink_hb_arm(struct uplink *l)
{
	struct timeval	tv = { UPLINK_HEARTBEAT_MS / 1000,
	    (UPLINK_HEARTBEAT_MS % 1000) * 1000 };

	evtimer_add(l->hb_ev, &tv);
}

/* One frame from the far daemon: HelloAck or Error. */
static int
uplink_message(struct uplink *l, const Envelope *env)
{
	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_HELLO_ACK:
		if (l->state != UPLINK_HELLO)
			return -1;
		log_info("uplink: accepted id=%s daemon=%s nation=%s", l->id,
		    env->hello_ack->daemon, env->hello_ack->nation);
		l->state = UPLINK_READY;
		l->backoff_s = UPLINK_BACKOFF_MIN;
		uplink_hb_arm(l);
		uplink_flush(l);
		return 0;
	case TRACKFUSE__V1__ENVELOPE__MSG_ERROR:
		log_warnx("uplink: error from daemon id=%s code=%d message=%s",
		    l->id, (int)env->error->code, env->error->message != NULL ?
		    env->error->message : "");
		return -1;
	default:
		return 0;
	}
}

/* Read callback: frames from the far daemon. */
static void
uplink_readcb(struct bufferevent *bev, void *arg)
{
	struct uplink		*l = arg;
	Envelope		*env;
	enum wire_status	 st;
	int			 rc;

	for (;;) {
		st = wire_read_envelope(bufferevent_get_input(bev),
		    WIRE_DEFAULT_MAX_FRAME, l->arena, &env);
		if (st == WIRE_NEED_MORE)
			break;
		if (st != WIRE_OK) {
			wire_arena_reset(l->arena);
			uplink_retry(l, wire_status_str(st));
			return;
		}
		rc = uplink_message(l, env);
		wire_arena_reset(l->arena);
		if (rc == -1) {
			uplink_retry(l, "error frame from the far daemon");
			return;
		}
	}
}

/* Write callback: the socket took some; send more. */
static void
uplink_writecb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	uplink_flush(arg);
}

/* Connected, closed or failed. */
static void
uplink_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct uplink	*l = arg;
	unsigned long	 e;
	char		 why[200];

	if (what & BEV_EVENT_CONNECTED) {
		log_info("uplink: connected id=%s peer=%s recipient=%s", l->id,
		    l->peer, l->recipient);
		uplink_hello(l);
		return;
	}
	if (l->state == UPLINK_CONNECTING && EVUTIL_SOCKET_ERROR() != 0)
		snprintf(why, sizeof(why), "%s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "eof");
	else if (l->tls && (e = bufferevent_get_openssl_error(bev)) != 0)
		snprintf(why, sizeof(why), "tls: %s",
		    ERR_reason_error_string(e) != NULL ?
		    ERR_reason_error_string(e) : "unknown");
	else
		snprintf(why, sizeof(why), "error %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	uplink_retry(l, why);
}

/* Open a (TLS) connection to the far daemon's feeds listener. */
static void
uplink_connect(struct uplink *l)
{
	struct event_base	*base = l->set->env->base;
	char			 host[128], *colon;
	SSL			*ssl;

	if (!l->tls)
		l->bev = bufferevent_socket_new(base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	else {
		snprintf(host, sizeof(host), "%s", l->peer);
		if ((colon = strrchr(host, ':')) != NULL)
			*colon = '\0';
		if ((ssl = tls_client_ssl(l->ctx, host[0] == '[' ? host + 1 :
		    host)) == NULL)
			fatalx("uplink: tls_client_ssl: %s", tls_error());
		l->bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (l->bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(l->bev, 1);
	}
	if (l->bev == NULL)
		fatalx("uplink: cannot create bufferevent");
	l->state = UPLINK_CONNECTING;
	bufferevent_setcb(l->bev, uplink_readcb, uplink_writecb,
	    uplink_eventcb, l);
	bufferevent_setwatermark(l->bev, EV_WRITE, UPLINK_OUTBUF / 2, 0);
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(l->bev, (struct sockaddr *)&l->ss,
	    l->sslen) == -1)
		uplink_retry(l, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
}

/* Retry timer. */
static void
uplink_retrycb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	uplink_connect(arg);
}

/* Heartbeat timer: event time to the far end, so its clock moves on. */
static void
uplink_hbcb(evutil_socket_t fd, short what, void *arg)
{
	struct uplink		*l = arg;
	Envelope		 env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__Heartbeat hb = TRACKFUSE__V1__HEARTBEAT__INIT;

	(void)fd;
	(void)what;
	if (l->state != UPLINK_READY)
		return;
	if (l->set->now > 0) {
		hb.time_ns = l->set->now;
		env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT;
		env.heartbeat = &hb;
		wire_write_envelope(bufferevent_get_output(l->bev), &env);
	}
	uplink_hb_arm(l);
}

/* Sweep timer: forget long-quiet tracks. */
static void
uplink_sweepcb(evutil_socket_t fd, short what, void *arg)
{
	struct uplink_set	*set = arg;
	unsigned		 i;

	(void)fd;
	(void)what;
	for (i = 0; i < set->nlinks; i++)
		uplink_sweep(set->links[i], set->now);
}

/*
 * The pseudonym key: uplinks[].secret, or without one a random key for
 * this run (pseudonyms then change at each start, and the far daemon sees
 * stripped sensors as new ones after a restart).
 */
static void
uplink_init_key(struct uplink *l, const struct config_uplink *cu)
{
	if (cu->secret != NULL && cu->secretlen <= sizeof(l->key)) {
		memcpy(l->key, cu->secret, cu->secretlen);
		l->keylen = cu->secretlen;
		l->has_secret = 1;
		return;
	}
	l->keylen = 32;
	if (RAND_bytes(l->key, (int)l->keylen) != 1)
		fatalx("uplink: RAND_bytes failed");
	log_info("uplink: no secret id=%s: stripped sensors get pseudonyms "
	    "keyed for this run only", l->id);
}

/*
 * The settings of a link as one text: a reload keeps a running link
 * whose text (and secret) is unchanged. The CA file is the config's.
 */
static char *
uplink_conf(const struct config *cfg, const struct config_uplink *cu)
{
	char	*s;

	if (asprintf(&s, "connect=%s:%u recipient=%s tls=%d ca=%s cert=%s "
	    "key=%s max_tracks=%u", cu->address, cu->port, cu->recipient,
	    cu->tls, cu->tls && cfg->ca != NULL ? cfg->ca : "-",
	    cu->cert != NULL ? cu->cert : "-", cu->key != NULL ? cu->key : "-",
	    cu->max_tracks) == -1)
		fatal("%s: asprintf", __func__);
	return s;
}

/* Whether running link l (of cu's id) has the settings of cu under cfg. */
static int
uplink_same(const struct uplink *l, const struct config *cfg,
    const struct config_uplink *cu)
{
	char	*s = uplink_conf(cfg, cu);
	int	 same;

	same = strcmp(l->conf, s) == 0 &&
	    (cu->secret == NULL ? !l->has_secret : l->has_secret &&
	    l->keylen == cu->secretlen &&
	    memcmp(l->key, cu->secret, cu->secretlen) == 0);
	free(s);
	return same;
}

/*
 * A link from its config, not yet connected; NULL (why says it) when
 * its TLS context cannot be built, the one thing a config that loaded
 * can still get wrong (a certificate file gone or unreadable).
 */
static struct uplink *
uplink_new(struct uplink_set *set, const struct config_uplink *cu,
    char *why, size_t whylen)
{
	const struct config	*cfg = set->env->cfg;
	struct event_base	*base = set->env->base;
	struct uplink		*l;
	SSL_CTX			*ctx = NULL;
	char			 buf[128];

	if (cu->tls && (ctx = tls_client_ctx(cfg->ca, cu->cert, cu->key,
	    why, whylen)) == NULL)
		return NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal("%s: calloc", __func__);
	l->set = set;
	l->ctx = ctx;
	l->conf = uplink_conf(cfg, cu);
	snprintf(l->id, sizeof(l->id), "%s", cu->id);
	snprintf(l->recipient, sizeof(l->recipient), "%s", cu->recipient);
	uplink_init_key(l, cu);
	if (strchr(cu->address, ':') != NULL)
		snprintf(buf, sizeof(buf), "[%s]:%u", cu->address, cu->port);
	else
		snprintf(buf, sizeof(buf), "%s:%u", cu->address, cu->port);
	snprintf(l->peer, sizeof(l->peer), "%s", buf);
	l->sslen = sizeof(l->ss);
	/* config_load() took only numeric addresses. */
	if (evutil_parse_sockaddr_port(buf, (struct sockaddr *)&l->ss,
	    &l->sslen) == -1)
		fatalx("uplink: bad address id=%s connect=%s", l->id, buf);
	l->tls = cu->tls;
	l->max_tracks = cu->max_tracks;
	for (l->nbuckets = 64; l->nbuckets < l->max_tracks &&
	    l->nbuckets < 65536; l->nbuckets *= 2)
		;
	if ((l->hash = calloc(l->nbuckets, sizeof(*l->hash))) == NULL ||
	    (l->arena = wire_arena_new(UPLINK_ARENA_SIZE)) == NULL)
		fatal("%s: calloc", __func__);
	TAILQ_INIT(&l->queue);
	l->backoff_s = UPLINK_BACKOFF_MIN;
	if ((l->retry_ev = evtimer_new(base, uplink_retrycb, l)) == NULL ||
	    (l->hb_ev = evtimer_new(base, uplink_hbcb, l)) == NULL)
		fatalx("uplink: evtimer_new failed");
	return l;
}

/* Start connecting link l. */
static void
uplink_go(struct uplink *l)
{
	log_info("uplink: starting id=%s connect=%s recipient=%s tls=%s", l->id,
	    l->peer, l->recipient, l->tls ? "on" : "off");
	uplink_connect(l);
}

/*
 * Tap the feed stage and run the sweep timer while there are links (n),
 * neither when there are none.
 */
static void
uplink_wire(struct uplink_set *set, unsigned n)
{
	struct timeval	tv = { UPLINK_SWEEP_S, 0 };

	if (n == 0) {
		feed_set_tap(set->env->feed, NULL, NULL);
		if (set->sweep_ev != NULL)
			event_free(set->sweep_ev);
		set->sweep_ev = NULL;
		return;
	}
	feed_set_tap(set->env->feed, &uplink_tap, set);
	if (set->sweep_ev != NULL)
		return;
	set->sweep_ev = event_new(set->env->base, -1, EV_PERSIST,
	    uplink_sweepcb, set);
	if (set->sweep_ev == NULL)
		fatalx("uplink: event_new failed");
	evtimer_add(set->sweep_ev, &tv);
}

/* See uplink.h. */
struct uplink_set *
uplink_start(struct trackfused *env)
{
	struct uplink_set	*set;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		fatal("%s: calloc", __func__);
	set->env = env;
	snprintf(set->nation, sizeof(set->nation), "%s", env->cfg->nation);
	feed_set_config(env->feed, (const struct config *const *)&env->cfg);
	uplink_sync(set, 1);
	return set;
}

/* The running link of that id, taken out of the set (slot NULL), or NULL. */
static struct uplink *
uplink_take(struct uplink_set *set, const char *id)
{
	struct uplink	*l;
	unsigned	 i;

	for (i = 0; i < set->nlinks; i++)
		if ((l = set->links[i]) != NULL && strcmp(l->id, id) == 0) {
			set->links[i] = NULL;
			return l;
		}
	return NULL;
}

/*
 * Kept link l takes a TLS context built anew from cu (renewed
 * certificates at the same paths), for its next connection; the one
 * running holds its own reference. On failure l keeps the old one.
 */
static void
uplink_renew_tls(struct uplink *l, const struct config_uplink *cu)
{
	SSL_CTX	*ctx;
	char	 why[256];

	if (!l->tls)
		return;
	if ((ctx = tls_client_ctx(l->set->env->cfg->ca, cu->cert, cu->key,
	    why, sizeof(why))) == NULL) {
		log_warnx("uplink: reload id=%s tls: %s; keeping the running "
		    "certificates", l->id, why);
		return;
	}
	SSL_CTX_free(l->ctx);
	l->ctx = ctx;
}

/*
 * The link of cu under the running config: the running one if its
 * settings did not change; else a new one, which replaces a running one
 * of the same id only once it could be built (else that one stays, and
 * the reload says so). At start-up (atstart) a link that cannot be built
 * stops the daemon.
 */
static struct uplink *
uplink_sync_one(struct uplink_set *set, const struct config_uplink *cu,
    int atstart)
{
	struct uplink	*l, *old;
	char		 why[256];

	old = uplink_take(set, cu->id);
	if (old != NULL && uplink_same(old, set->env->cfg, cu)) {
		uplink_renew_tls(old, cu);
		return old;
	}
	if ((l = uplink_new(set, cu, why, sizeof(why))) == NULL) {
		if (atstart)
			fatalx("uplink: id=%s tls: %s", cu->id, why);
		log_warnx("uplink: reload id=%s tls: %s; %s", cu->id, why,
		    old != NULL ? "keeping the running link" : "link not started");
		return old;
	}
	if (old != NULL) {
		log_info("uplink: changed id=%s", cu->id);
		uplink_free_link(old);
	}
	uplink_go(l);
	return l;
}

/*
 * Bring the links in line with the running config's uplinks (atstart:
 * see uplink_sync_one); the links it no longer has close.
 */
static void
uplink_sync(struct uplink_set *set, int atstart)
{
	const struct config	*cfg = set->env->cfg;
	struct uplink		**links;
	unsigned		 i, n = 0;

	if ((links = calloc(cfg->nuplinks + 1, sizeof(*links))) == NULL)
		fatal("%s: calloc", __func__);
	for (i = 0; i < cfg->nuplinks; i++)
		if ((links[n] = uplink_sync_one(set, &cfg->uplinks[i],
		    atstart)) != NULL)
			n++;
	for (i = 0; i < set->nlinks; i++)
		if (set->links[i] != NULL) {
			log_info("uplink: removed id=%s", set->links[i]->id);
			uplink_free_link(set->links[i]);
		}
	free(set->links);
	set->links = links;
	set->nlinks = n;
	uplink_wire(set, n);
}

/* See uplink.h. */
void
uplink_reload(struct uplink_set *set)
{
	uplink_sync(set, 0);
}

/* See uplink.h. */
void
uplink_set_policy(struct uplink_set *set, const struct policy_set *ps)
{
	set->policy = ps;
}

/* Free one link and everything it holds. */
static void
uplink_free_link(struct uplink *l)
{
	struct uplink_track	*t, *next;
	size_t			 b;

	if (l->bev != NULL)
		bufferevent_free(l->bev);
	if (l->retry_ev != NULL)
		event_free(l->retry_ev);
	if (l->hb_ev != NULL)
		event_free(l->hb_ev);
	for (b = 0; b < l->nbuckets; b++)
		for (t = l->hash[b]; t != NULL; t = next) {
			next = t->hnext;
			free(t);
		}
	free(l->hash);
	free(l->delayed);
	wire_arena_free(l->arena);
	SSL_CTX_free(l->ctx);
	log_info("uplink: stopped id=%s sent=%llu withheld=%llu", l->id,
	    (unsigned long long)l->sent, (unsigned long long)l->withheld);
	free(l->conf);
	free(l);
}

/* See uplink.h. */
void
uplink_stop(struct uplink_set *set)
{
	unsigned	i;

	if (set == NULL)
		return;
	feed_set_tap(set->env->feed, NULL, NULL);
	feed_set_config(set->env->feed, NULL);
	for (i = 0; i < set->nlinks; i++)
		uplink_free_link(set->links[i]);
	free(set->links);
	if (set->sweep_ev != NULL)
		event_free(set->sweep_ev);
	free(set);
}
