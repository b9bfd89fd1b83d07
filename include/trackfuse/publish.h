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

#endif
