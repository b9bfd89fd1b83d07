/*
 * Federation uplinks (docs/federation.md): the outbound side of a
 * federation link. For each configured uplink this daemon connects to
 * another daemon's feeds listener as a feed identity (its certificate CN
 * is the link id), and forwards the contributions its owners' policies
 * release to the link's recipient nation, sanitized, each keeping its
 * originator's label, as TrackReports/TrackDrops plus Heartbeats.
 *
 * The contributions come from the feed stage's tap (feed_set_tap): every
 * accepted report, drop and heartbeat, with the identity it came in on.
 * The judging part (uplink_judge) is a pure function of plain structs.
 */
#ifndef TRACKFUSE_UPLINK_H
#define TRACKFUSE_UPLINK_H

#include <stdint.h>

#include "trackfuse/config.h"
#include "trackfuse/policy.h"
#include "trackfuse/track.h"

struct trackfused;
struct uplink_set;

/* What uplink_judge() decided for one contribution and one link. */
enum uplink_verdict {
	UPLINK_FORWARD = 0,	/* *out is the sanitized report to send */
	UPLINK_WITHHELD,	/* the owner's policy or the label says no */
	UPLINK_ECHO		/* came in from the recipient's own daemons */
};

/* uplink.c */
/*
 * Start federation for the running daemon: point the feed stage at the
 * running config (collision checks of incoming federation links, always)
 * and, if the config has uplinks, tap the feed stage and start
 * connecting. Call after the pipeline and listeners are up; never NULL.
 */
struct uplink_set *uplink_start(struct trackfused *);
/*
 * After a reload (the daemon's cfg swapped): keep each link whose settings
 * did not change (with a TLS context built anew for its next connection),
 * restart the changed ones, start the new ones, close the removed ones.
 * A link whose TLS context cannot be built is not started, and a running
 * one of its id is kept; each case is logged.
 */
void		 uplink_reload(struct uplink_set *);
/* Untap the feed, close every link, free everything; NULL is fine. */
void		 uplink_stop(struct uplink_set *);
/*
 * Judge with this policy set from now on (not owned; the caller keeps it
 * alive until it sets another or stops; NULL: back to the default). By
 * default the uplinks judge with the release stage's set in force
 * (release_policy()), so a reload applies to them at once.
 */
void		 uplink_set_policy(struct uplink_set *,
		    const struct policy_set *);
/* The tap's entries: an accepted report, drop, or a watermark move. */
void		 uplink_report(struct uplink_set *,
		    const struct config_identity *, const struct tf_report *);
void		 uplink_drop(struct uplink_set *,
		    const struct config_identity *, const struct tf_drop *);
void		 uplink_advance(struct uplink_set *, int64_t);
/*
 * Decide whether contribution in, accepted from identity from, goes over
 * link link_id to recipient nation; on UPLINK_FORWARD *out holds it with
 * the owner's sanitizers applied (label unchanged) and *delay_ns the
 * minimum age at release. Pure: no clock, no I/O.
 */
enum uplink_verdict uplink_judge(const struct policy_set *,
		    const char *daemon_nation, const char *link_id,
		    const unsigned char *key, size_t keylen,
		    const char *recipient, const struct config_identity *from,
		    const struct tf_report *in, struct tf_report *out,
		    int64_t *delay_ns);
/* The stable, keyed pseudonym a link gives a stripped sensor ("ANON-..."). */
void		 uplink_pseudonym(const unsigned char *, size_t,
		    const char *link_id, const char *sensor, char *out);
const char	*uplink_verdict_name(enum uplink_verdict);

#endif
