/*
 * Feed input: decode and validate a feed's messages, authorize them against
 * the identity of the connection, and hand them to the correlation core.
 *
 * A feed identity may only report its own sensors and may only label data
 * as its own nation's. Unlabeled data is owner-only. Time is event time; a
 * feed may not push the watermark more than FEED_MAX_AHEAD_NS ahead of what
 * everyone else has reported (a lying clock would age out every other
 * feed's tracks).
 *
 * feed_envelope() is the one way in: peer.c calls it for each frame of a
 * Hello'd feed connection, replay.c for each frame of a recording (with the
 * identity that owns the frame's sensor), so both are held to one rule set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trackfuse/codec.h"
#include "trackfuse/corr.h"
#include "trackfuse/feed.h"
#include "trackfuse/log.h"
#include "trackfuse/publish.h"
#include "trackfuse/release.h"
#include "trackfuse/wire.h"

/* Log every this many reports refused by a core limit. */
#define FEED_LIMIT_LOG_EVERY	1000

struct feed {
	struct corr		*corr;
	struct publish		*pub;		/* told of the watermark */
	struct release		*rel;		/* NULL: straight to corr */
	int64_t			 watermark;	/* max event time accepted */
	int			 have_time;
	struct feed_stats	 stats;
	const struct config *const *cfgp;	/* federation: local sensors */
	const struct feed_tap	*tap;		/* federation: uplinks */
	void			*tap_arg;
};

static enum feed_result feed_federation_check(const struct feed *,
		    const struct config_identity *, const Envelope *, char *,
		    size_t);
static void	feed_tap_envelope(struct feed *, const struct config_identity *,
		    const Envelope *);

/* Create the feed stage in front of corr; pub may be NULL (tests). */
struct feed *
feed_new(struct corr *corr, struct publish *pub)
{
	struct feed	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("%s: calloc", __func__);
	f->corr = corr;
	f->pub = pub;
	return f;
}

/* Free the feed stage. */
void
feed_free(struct feed *f)
{
	free(f);
}

/* Copy src into a fixed-size field, truncating. */
static void
feed_strlcpy(char *dst, const char *src, size_t len)
{
	snprintf(dst, len, "%s", src);
}

/*
 * Is sensor one of ident's sensors? Else FEED_FORBIDDEN with a reason. A
 * federation link without a sensor list speaks for any sensor: that it is
 * not one of this daemon's own is checked by feed_federation_check().
 */
static enum feed_result
feed_check_sensor(const struct config_identity *ident, const char *sensor,
    char *err, size_t errlen)
{
	if (config_identity_has_sensor(ident, sensor) ||
	    (ident->federation && ident->nsensors == 0))
		return FEED_OK;
	snprintf(err, errlen, "sensor %s not allowed for identity %s",
	    sensor, ident->id);
	return FEED_FORBIDDEN;
}

/*
 * Third-party rule: a federation link forwards other daemons' contributions
 * of any owner, but only labelled ones, and the label is kept as it came
 * (never filled in or widened here): unlabeled data is its owner's alone
 * and has no business on a link.
 */
static enum feed_result
feed_authorize_federated(const struct config_identity *ident,
    const struct tf_report *r, char *err, size_t errlen)
{
	if (r->label.owner[0] != '\0' && r->label.cls != TF_CLASS_NONE)
		return FEED_OK;
	snprintf(err, errlen, "unlabeled report sensor %s track %u from "
	    "federation link %s: links carry labelled contributions only",
	    r->sensor, r->local_track, ident->id);
	return FEED_FORBIDDEN;
}

/*
 * Authorize a decoded report: its sensor must be one of the identity's and
 * its label's owner the identity's nation. An absent label (owner "") makes
 * the report the identity nation's, unmarked, released to nobody else.
 */
enum feed_result
feed_authorize(const struct config_identity *ident, struct tf_report *r,
    char *err, size_t errlen)
{
	enum feed_result	 res;

	if ((res = feed_check_sensor(ident, r->sensor, err, errlen)) != FEED_OK)
		return res;
	if (ident->federation)
		return feed_authorize_federated(ident, r, err, errlen);
	if (r->label.owner[0] == '\0') {
		memset(&r->label, 0, sizeof(r->label));
		feed_strlcpy(r->label.owner, ident->nation,
		    sizeof(r->label.owner));
		r->label.cls = TF_CLASS_NONE;
		return FEED_OK;
	}
	if (strcmp(r->label.owner, ident->nation) != 0) {
		snprintf(err, errlen, "label owner %s not allowed for identity "
		    "%s (nation %s)", r->label.owner, ident->id, ident->nation);
		return FEED_FORBIDDEN;
	}
	return FEED_OK;
}

/* Refuse an event time too far ahead of the watermark (after the first). */
enum feed_result
feed_check_time(const struct feed *f, int64_t t, char *err, size_t errlen)
{
	if (!f->have_time || t <= f->watermark ||
	    t - f->watermark <= FEED_MAX_AHEAD_NS)
		return FEED_OK;
	snprintf(err, errlen, "time_ns %lld is %.1f s ahead of the watermark "
	    "%lld", (long long)t, (double)(t - f->watermark) / 1e9,
	    (long long)f->watermark);
	return FEED_INVALID;
}

/* Move the watermark to t if it is later. */
static void
feed_advance(struct feed *f, int64_t t)
{
	if (f->have_time && t <= f->watermark)
		return;
	f->watermark = t;
	f->have_time = 1;
	if (f->pub != NULL)
		publish_set_time(f->pub, t);
}

/* Log a report the core refused over a limit, at most every so often. */
static void
feed_limit_log(struct feed *f, const struct tf_report *r)
{
	f->stats.dropped_over_limit++;
	if (f->stats.dropped_over_limit % FEED_LIMIT_LOG_EVERY != 1)
		return;
	log_warnx("feed: report dropped over limit sensor=%s track=%u "
	    "tracks=%zu sources=%zu total=%llu", r->sensor, r->local_track,
	    corr_count(f->corr), corr_sources(f->corr),
	    (unsigned long long)f->stats.dropped_over_limit);
}

/* Decode, authorize and correlate one TrackReport. */
enum feed_result
feed_report(struct feed *f, const struct config_identity *ident,
    const Trackfuse__V1__TrackReport *m, char *err, size_t errlen)
{
	struct tf_report	 r;
	char			 why[CODEC_ERRLEN];
	enum feed_result	 res;

	memset(&r, 0, sizeof(r));
	if (codec_report_decode(m, &r, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "bad report: %s", why);
		return FEED_INVALID;
	}
	if ((res = feed_authorize(ident, &r, err, errlen)) != FEED_OK)
		return res;
	if ((res = feed_check_time(f, r.t_ns, err, errlen)) != FEED_OK)
		return res;
	switch (f->rel != NULL ? release_report(f->rel, ident, &r) :
	    corr_report(f->corr, &r)) {
	case CORR_OK:
		f->stats.reports++;
		feed_advance(f, r.t_ns);
		return FEED_OK;
	case CORR_LIMIT:
		feed_limit_log(f, &r);
		return FEED_DROPPED;
	case CORR_OLD:
		f->stats.old++;
		log_debug("feed: old report sensor=%s track=%u", r.sensor,
		    r.local_track);
		return FEED_OK;
	case CORR_INVALID:
		snprintf(err, errlen, "bad report: refused by the correlator "
		    "(non-finite values or covariance not PSD)");
		return FEED_INVALID;
	}
	return FEED_OK;
}

/* Decode, authorize and apply one TrackDrop. */
enum feed_result
feed_drop(struct feed *f, const struct config_identity *ident,
    const Trackfuse__V1__TrackDrop *m, char *err, size_t errlen)
{
	struct tf_drop		 d;
	char			 why[CODEC_ERRLEN];
	enum feed_result	 res;

	memset(&d, 0, sizeof(d));
	if (codec_drop_decode(m, &d, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "bad drop: %s", why);
		return FEED_INVALID;
	}
	if ((res = feed_check_sensor(ident, d.sensor, err, errlen)) != FEED_OK)
		return res;
	if ((res = feed_check_time(f, d.t_ns, err, errlen)) != FEED_OK)
		return res;
	if (f->rel != NULL)
		release_drop(f->rel, &d);
	else
		corr_drop(f->corr, &d);
	f->stats.drops++;
	feed_advance(f, d.t_ns);
	return FEED_OK;
}

/* A feed's Heartbeat moves event time forward (same future check). */
enum feed_result
feed_heartbeat(struct feed *f, const struct config_identity *ident,
    const Trackfuse__V1__Heartbeat *m, char *err, size_t errlen)
{
	enum feed_result	 res;

	if (m->sensor_id != NULL && m->sensor_id[0] != '\0' &&
	    (res = feed_check_sensor(ident, m->sensor_id, err, errlen)) !=
	    FEED_OK)
		return res;
	if (m->time_ns <= 0) {
		snprintf(err, errlen, "bad heartbeat: time_ns %lld",
		    (long long)m->time_ns);
		return FEED_INVALID;
	}
	if ((res = feed_check_time(f, m->time_ns, err, errlen)) != FEED_OK)
		return res;
	f->stats.heartbeats++;
	feed_advance(f, m->time_ns);
	/* Release moves each class by the heartbeat's own time. */
	if (f->rel != NULL)
		release_advance(f->rel, m->time_ns);
	else
		corr_advance(f->corr, f->watermark);
	return FEED_OK;
}

/*
 * Check and apply one Envelope from identity ident: the single path of live
 * feeds and replay. Anything but a report, drop or heartbeat is
 * FEED_PROTOCOL; err says why whenever the result is not FEED_OK.
 */
enum feed_result
feed_envelope(struct feed *f, const struct config_identity *ident,
    const Envelope *env, char *err, size_t errlen)
{
	enum feed_result	res;

	if (ident->federation &&
	    (res = feed_federation_check(f, ident, env, err, errlen)) !=
	    FEED_OK)
		return res;
	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT:
		res = feed_report(f, ident, env->track_report, err, errlen);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP:
		res = feed_drop(f, ident, env->track_drop, err, errlen);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT:
		res = feed_heartbeat(f, ident, env->heartbeat, err, errlen);
		break;
	default:
		snprintf(err, errlen, "unexpected %s from a feed",
		    wire_msg_name(env));
		return FEED_PROTOCOL;
	}
	if (res == FEED_OK && f->tap != NULL)
		feed_tap_envelope(f, ident, env);
	return res;
}

/*
 * A federation link may speak for any sensor except this daemon's own: a
 * sensor id that a local feed identity claims is a collision (a loop, or
 * a peer impersonating a local sensor) and is refused. Without the
 * configuration (feed_set_config() not called) only a link's listed
 * sensors pass.
 */
static enum feed_result
feed_federation_check(const struct feed *f,
    const struct config_identity *ident, const Envelope *env, char *err,
    size_t errlen)
{
	const struct config_identity	*owner;
	const char			*sensor;

	if ((sensor = feed_envelope_sensor(env)) == NULL ||
	    config_identity_has_sensor(ident, sensor))
		return FEED_OK;
	if (ident->nsensors > 0) {
		snprintf(err, errlen, "sensor %s not allowed for federation "
		    "link %s", sensor, ident->id);
		return FEED_FORBIDDEN;
	}
	if (f->cfgp == NULL || *f->cfgp == NULL) {
		snprintf(err, errlen, "sensor %s from federation link %s "
		    "cannot be checked against local sensors", sensor,
		    ident->id);
		return FEED_FORBIDDEN;
	}
	if ((owner = feed_sensor_owner(*f->cfgp, sensor)) != NULL &&
	    owner != ident) {
		snprintf(err, errlen, "sensor %s from federation link %s "
		    "collides with local identity %s", sensor, ident->id,
		    owner->id);
		return FEED_FORBIDDEN;
	}
	return FEED_OK;
}

/*
 * Hand an accepted Envelope to the tap too. The report is decoded and
 * authorized again (label filled as the core got it) rather than touching
 * the hand-off to the core; this costs only when uplinks are configured.
 */
static void
feed_tap_envelope(struct feed *f, const struct config_identity *ident,
    const Envelope *env)
{
	struct tf_report	r;
	struct tf_drop		d;
	char			why[CODEC_ERRLEN];

	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT:
		memset(&r, 0, sizeof(r));
		if (codec_report_decode(env->track_report, &r, why,
		    sizeof(why)) == 0 &&
		    feed_authorize(ident, &r, why, sizeof(why)) == FEED_OK &&
		    f->tap->report != NULL)
			f->tap->report(f->tap_arg, ident, &r);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP:
		memset(&d, 0, sizeof(d));
		if (codec_drop_decode(env->track_drop, &d, why,
		    sizeof(why)) == 0 && f->tap->drop != NULL)
			f->tap->drop(f->tap_arg, ident, &d);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT:
		if (f->tap->advance != NULL)
			f->tap->advance(f->tap_arg, f->watermark);
		break;
	default:
		break;
	}
}

/*
 * Point the feed at the running configuration (a pointer to the daemon's
 * pointer, so a reload's swap is seen): federation links are checked
 * against the local feed identities' sensors.
 */
void
feed_set_config(struct feed *f, const struct config *const *cfgp)
{
	f->cfgp = cfgp;
}

/* Give every accepted report, drop and heartbeat to tap too (NULL: none). */
void
feed_set_tap(struct feed *f, const struct feed_tap *tap, void *arg)
{
	f->tap = tap;
	f->tap_arg = arg;
}

/* The sensor id a report, drop or heartbeat names; NULL if none. */
const char *
feed_envelope_sensor(const Envelope *env)
{
	const char	*s = NULL;

	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT:
		s = env->track_report->sensor_id;
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP:
		s = env->track_drop->sensor_id;
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT:
		s = env->heartbeat->sensor_id;
		break;
	default:
		break;
	}
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/*
 * The feed identity of cfg that may report sensor. The demo names an
 * identity after its one sensor, so try that first, then scan them all;
 * the first owner in config order wins.
 */
const struct config_identity *
feed_sensor_owner(const struct config *cfg, const char *sensor)
{
	const struct config_identity	*id;
	unsigned			 i;

	id = config_identity(cfg, sensor);
	if (id != NULL && id->role == CONFIG_ROLE_FEED &&
	    config_identity_has_sensor(id, sensor))
		return id;
	for (i = 0; i < cfg->nidentities; i++) {
		id = &cfg->identities[i];
		if (id->role == CONFIG_ROLE_FEED &&
		    config_identity_has_sensor(id, sensor))
			return id;
	}
	return NULL;
}

/* A short name of a verdict, for log lines. */
const char *
feed_result_name(enum feed_result res)
{
	switch (res) {
	case FEED_OK:
		return "ok";
	case FEED_INVALID:
		return "invalid";
	case FEED_FORBIDDEN:
		return "forbidden";
	case FEED_DROPPED:
		return "dropped";
	case FEED_PROTOCOL:
		return "protocol";
	}
	return "unknown";
}

/* The event-time watermark: the latest time any feed got accepted. */
int64_t
feed_watermark(const struct feed *f)
{
	return f->watermark;
}

/* Counters of the feed stage. */
const struct feed_stats *
feed_stats(const struct feed *f)
{
	return &f->stats;
}

/*
 * Route accepted contributions through the release stage (which feeds
 * every class's correlator) instead of straight to the core.
 */
void
feed_set_release(struct feed *f, struct release *rel)
{
	f->rel = rel;
}
