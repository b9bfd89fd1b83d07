/*
 * Feed: decode, authorize and hand sensor input to the correlation core.
 * Knows nothing of sockets: the caller turns a refusal into an Error frame.
 * Live feeds (peer.c) and replay (replay.c) both enter through
 * feed_envelope(), so a recording is checked exactly as a connection is.
 */
#ifndef TRACKFUSE_FEED_H
#define TRACKFUSE_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "trackfuse/config.h"
#include "trackfuse/corr.h"
#include "trackfuse/track.h"
#include "trackfuse/wire.h"

#define FEED_ERRLEN		256
/* A feed may not run ahead of the watermark by more than this. */
#define FEED_MAX_AHEAD_NS	(60LL * 1000000000LL)

enum feed_result {
	FEED_OK = 0,
	FEED_INVALID,		/* ERROR_INVALID */
	FEED_FORBIDDEN,		/* ERROR_FORBIDDEN */
	FEED_DROPPED,		/* refused by a core limit; keep the connection */
	FEED_PROTOCOL		/* not a feed's message (ERROR_PROTOCOL) */
};

struct feed_stats {
	uint64_t	reports;		/* accepted by the core */
	uint64_t	drops;
	uint64_t	heartbeats;
	uint64_t	dropped_over_limit;
	uint64_t	old;			/* older than the core's copy */
};

struct feed;
struct publish;
struct release;

/*
 * A second consumer of accepted feed input (federation uplinks): each
 * callback sees the input as the core got it (a report's label filled),
 * valid only during the call. The identity is the connection's.
 */
struct feed_tap {
	void	(*report)(void *, const struct config_identity *,
		    const struct tf_report *);
	void	(*drop)(void *, const struct config_identity *,
		    const struct tf_drop *);
	void	(*advance)(void *, int64_t);	/* the watermark moved */
};

/* feed.c */
struct feed	*feed_new(struct corr *, struct publish *);
void		 feed_free(struct feed *);
/* The one entry of live feeds and replay: check and apply one Envelope. */
enum feed_result feed_envelope(struct feed *, const struct config_identity *,
		    const Envelope *, char *, size_t);
/* The sensor id a report, drop or heartbeat names; NULL if none. */
const char	*feed_envelope_sensor(const Envelope *);
/* The feed identity of cfg that owns sensor; NULL if none does. */
const struct config_identity *feed_sensor_owner(const struct config *,
		    const char *);
/* "ok", "invalid", "forbidden", "dropped" or "protocol". */
const char	*feed_result_name(enum feed_result);
/* Check sensor and label of r against ident; fills an absent label. */
enum feed_result feed_authorize(const struct config_identity *,
		    struct tf_report *, char *, size_t);
enum feed_result feed_check_time(const struct feed *, int64_t, char *, size_t);
enum feed_result feed_report(struct feed *, const struct config_identity *,
		    const Trackfuse__V1__TrackReport *, char *, size_t);
enum feed_result feed_drop(struct feed *, const struct config_identity *,
		    const Trackfuse__V1__TrackDrop *, char *, size_t);
enum feed_result feed_heartbeat(struct feed *, const struct config_identity *,
		    const Trackfuse__V1__Heartbeat *, char *, size_t);
int64_t		 feed_watermark(const struct feed *);
/* Federation: the running config (for collisions) and the uplink tap. */
void		 feed_set_config(struct feed *, const struct config *const *);
void		 feed_set_tap(struct feed *, const struct feed_tap *, void *);
const struct feed_stats *feed_stats(const struct feed *);
/* Hand accepted contributions to release (not to corr) from now on. */
void		 feed_set_release(struct feed *, struct release *);

#endif
