/*
 * Publisher: per release class a store of the latest packed PictureTrack
 * frame of every live system track, and per subscriber a bounded queue of
 * dirty track ids (latest value wins) drained into its bufferevent.
 */
#ifndef TRACKFUSE_PUBLISH_H
#define TRACKFUSE_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "trackfuse/track.h"

struct bufferevent;
struct publish;
struct publish_sub;
struct release;
struct release_out;
struct release_recipient;

/*
 * Called when a subscriber can no longer be served within its bounds (its
 * id table is full); the owner closes the connection (ERROR_OVERLOAD). The
 * subscriber must not be used by publish again: the owner frees it.
 */
typedef void (*publish_fault_fn)(void *, struct publish_sub *, const char *);

/*
 * Receives one framed Envelope (varint length + body), valid only during
 * the call: the exact bytes a subscriber of the class would be sent.
 */
typedef void (*publish_tap_fn)(void *, const uint8_t *, size_t);

/* A subscriber was sent a retraction: (arg, recipient id, its track id). */
typedef void (*publish_retract_fn)(void *, const char *, uint64_t);

/* publish.c */
struct publish	*publish_new(unsigned nclasses, size_t max_tracks,
		    size_t subscriber_buffer);
void		 publish_free(struct publish *);
void		 publish_set_limits(struct publish *, size_t, size_t);
/* The event-time watermark, used for snapshot, drop and heartbeat times. */
void		 publish_set_time(struct publish *, int64_t);
int64_t		 publish_time(const struct publish *);
/* Encode once into class cls's store and queue the id for its subscribers. */
void		 publish_update(struct publish *, unsigned,
		    const struct tf_picture_track *);
void		 publish_drop(struct publish *, unsigned, uint64_t, int64_t);
/*
 * Start serving bev (not owned) with class cls: writes SnapshotBegin and
 * queues every live id. Sets a write low-watermark on bev; the owner calls
 * publish_sub_writable() from its write callback.
 */
struct publish_sub *publish_subscribe(struct publish *, unsigned,
		    struct bufferevent *, publish_fault_fn, void *);
void		 publish_sub_free(struct publish_sub *);
void		 publish_sub_writable(struct publish_sub *);
/* Heartbeat{watermark} to every subscriber past its snapshot. */
void		 publish_heartbeat(struct publish *);
size_t		 publish_subscribers(const struct publish *);
size_t		 publish_tracks(const struct publish *, unsigned);
size_t		 publish_bytes_queued(const struct publish *);
size_t		 publish_sub_queued(const struct publish_sub *);
size_t		 publish_sub_known(const struct publish_sub *);
/*
 * The never-coalescing subscriber of replay: attached to an empty class
 * it gets SnapshotBegin{0, t}, SnapshotEnd{t}, then each PictureTrack and
 * PictureDrop frame of class cls as it is made. -1 if cls holds tracks.
 */
int		 publish_tap(struct publish *, unsigned, publish_tap_fn, void *);
/*
 * The tap of one recipient: its class's frames with its scoped ids, the
 * bytes its connection would carry after Subscribe (uncoalesced).
 */
int		 publish_tap_as(struct publish *,
		    const struct release_recipient *, publish_tap_fn, void *);
/*
 * Release classes: the recipient table (copied) maps subscriber identities
 * to class slots and id keys. With it set, publish_subscribe() takes a
 * recipient index (release_class()) instead of a class slot.
 */
void		 publish_set_recipients(struct publish *,
		    const struct release_recipient *, unsigned);
void		 publish_set_retract(struct publish *, publish_retract_fn,
		    void *);
/* A class slot is rebuilt: its store is emptied, its fan-out paused. */
void		 publish_rebuild_begin(struct publish *, unsigned);
/*
 * After a swap: every subscriber whose class, key or picture changed gets
 * a PictureDrop for each id it holds, then a fresh snapshot.
 */
void		 publish_rebuild_end(struct publish *);
uint64_t	 publish_retractions(const struct publish *);
/* Fill out so that a release stage's classes feed pub. */
void		 publish_release_out(struct publish *, struct release_out *);
/* The release stage whose recipients pub serves (not owned). */
void		 publish_set_release(struct publish *, const struct release *);
/* Take release's recipient table (halted: nothing) and resync. */
void		 publish_sync_recipients(struct publish *);
unsigned	 publish_sub_class(const struct publish_sub *);

#endif
