/*
 * Replay: run the daemon's pipeline (feed -> corr -> release -> publish)
 * over a recording, as fast as it goes and deterministically, and write
 * the picture one subscriber would have received. No sockets, no TLS, no
 * event loop, no clock in the pipeline.
 */
#ifndef TRACKFUSE_REPLAY_H
#define TRACKFUSE_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trackfuse/wire.h"

struct trackfused;
struct wire_arena;
struct replay_reader;

#define REPLAY_ERRLEN	512

struct replay_opts {
	const char	*record;	/* recording: varint-delimited Envelopes */
	const char	*picture;	/* picture file to write */
	const char	*as;		/* recipient id; NULL: the full picture
					   (set by the release filter's --as) */
};

struct replay_stats {
	uint64_t	frames;		/* frames read, bad ones included */
	uint64_t	reports;	/* accepted by the core */
	uint64_t	drops;
	uint64_t	heartbeats;
	uint64_t	rejected;	/* refused frames and messages */
	uint64_t	over_limit;	/* reports a core limit refused */
	uint64_t	tracks_created;
	uint64_t	tracks_at_end;
	uint64_t	picture_frames;
	uint64_t	picture_bytes;
	double		seconds;	/* elapsed (monotonic), for the summary */
};

/* What replay_reader_next() found. */
enum replay_read {
	REPLAY_FRAME = 0,	/* *envp holds the next Envelope */
	REPLAY_EOF,		/* clean end of the recording */
	REPLAY_SKIPPED,		/* a frame whose body is not an Envelope */
	REPLAY_BROKEN,		/* framing lost (bad prefix, truncated): stop */
	REPLAY_IOERR		/* read(2) failed: stop */
};

/* replay.c */
/*
 * Replay opts->record through env's pipeline (built as for a live daemon:
 * env->cfg, feed, corr, release, publish) and write opts->picture.
 * Bad input is counted in st and logged; -1 with err only when a file
 * cannot be read or written.
 */
int		 replay_run(struct trackfused *, const struct replay_opts *,
		    struct replay_stats *, char *, size_t);
/* The one-line "replay: frames=N ..." summary. */
void		 replay_summary(FILE *, const struct replay_stats *);
/* A recording reader; NULL with err if path cannot be opened. */
struct replay_reader *replay_reader_open(const char *, size_t, char *,
		    size_t);
void		 replay_reader_close(struct replay_reader *);
/*
 * The next frame, unpacked into arena; *offp is its byte offset in the
 * file and *stp the wire status behind SKIPPED/BROKEN (for the log).
 */
enum replay_read replay_reader_next(struct replay_reader *,
		    struct wire_arena *, Envelope **, uint64_t *,
		    enum wire_status *);

#endif
