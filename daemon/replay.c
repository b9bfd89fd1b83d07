/*
 * Replay: a recording through the daemon's own pipeline.
 *
 * The recording is what trackfuse-sim --record writes: varint-delimited
 * Envelopes (TrackReport, TrackDrop, Heartbeat of every sensor) in event
 * time order. Each frame is decoded by the live peers' wire_read_envelope()
 * and judged by the live feeds' feed_envelope(), with the identity that
 * owns the frame's sensor in the configuration standing in for the
 * connection's certificate. The core, the release stage and the publisher
 * are the live daemon's, built by the same code in main.c.
 *
 * The picture written is what a subscriber that subscribed before the first
 * report would receive, uncoalesced: SnapshotBegin{0, 0}, SnapshotEnd{0},
 * then one PictureTrack per created/updated system track and one
 * PictureDrop per dropped one, framed and packed by publish.c (its tap).
 * No clock and no event loop touch the pipeline, so two replays of one
 * recording with one configuration write the same bytes.
 *
 * Bad input is treated as on a live feed: a log line naming the "peer"
 * (here the frame's byte offset, peer=offset:N), a counter, and the frame
 * is refused. A live feed would then be disconnected; a recording mixes
 * all sensors in one stream, so replay refuses that frame only and goes
 * on. A broken frame prefix (or a truncated last frame) loses the framing
 * for good: replay stops reading there, as a live connection would close,
 * and writes the picture made so far.
 *
 * Log lines (the integration test greps them):
 *   peer: rejected frame peer=offset:N id=- fault=TEXT
 *   feed: rejected msg=MSG peer=offset:N id=ID|- error=invalid|forbidden|
 *       protocol reason=TEXT
 *   replay: further rejections are counted, not logged
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "trackfuse/config.h"
#include "trackfuse/corr.h"
#include "trackfuse/feed.h"
#include "trackfuse/log.h"
#include "trackfuse/peer.h"
#include "trackfuse/publish.h"
#include "trackfuse/release.h"
#include "trackfuse/replay.h"
#include "trackfuse/wire.h"

#define REPLAY_CHUNK		(1024 * 1024)	/* bytes read per read(2) */
#define REPLAY_ARENA_SIZE	16384
#define REPLAY_LOG_MAX		100		/* rejections logged in full */
#define REPLAY_OUTBUF		(1024 * 1024)	/* stdio buffer of the picture */

struct replay_reader {
	int		 fd;
	struct evbuffer	*buf;
	uint64_t	 consumed;	/* file offset of the buffer's start */
	size_t		 max_frame;
	int		 eof;
};

/* One replay run: the pipeline, the output and the counters. */
struct replay {
	struct trackfused	*env;
	FILE			*out;
	int			 out_err;	/* a write failed */
	struct replay_stats	*st;
};

/* Open the recording at path, frames of at most max_frame body bytes. */
struct replay_reader *
replay_reader_open(const char *path, size_t max_frame, char *err,
    size_t errlen)
{
	struct replay_reader	*r;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->buf = evbuffer_new()) == NULL)
		fatal("%s: calloc", __func__);
	r->fd = fd;
	r->max_frame = max_frame;
	return r;
}

/* Close the recording. */
void
replay_reader_close(struct replay_reader *r)
{
	if (r == NULL)
		return;
	close(r->fd);
	evbuffer_free(r->buf);
	free(r);
}

/* Read the next chunk of the file; -1 on a read error. */
static int
replay_reader_fill(struct replay_reader *r)
{
	int	n;

	do {
		n = evbuffer_read(r->buf, r->fd, REPLAY_CHUNK);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (n == 0)
		r->eof = 1;
	return 0;
}

/*
 * Drop the frame at the buffer's start whose body did not unpack; its
 * prefix decoded already, so the frame's extent is known.
 */
static void
replay_reader_skip(struct replay_reader *r)
{
	uint8_t		 hdr[WIRE_VARINT_MAX];
	uint64_t	 v;
	size_t		 hlen;
	ev_ssize_t	 n;

	n = evbuffer_copyout(r->buf, hdr, sizeof(hdr));
	if (n <= 0 || wire_varint_decode(hdr, (size_t)n, &v, &hlen) != WIRE_OK)
		fatalx("%s: frame prefix vanished", __func__);
	evbuffer_drain(r->buf, hlen + (size_t)v);
	r->consumed += hlen + v;
}

/* Take the next frame off the recording (see replay.h). */
enum replay_read
replay_reader_next(struct replay_reader *r, struct wire_arena *arena,
    Envelope **envp, uint64_t *offp, enum wire_status *stp)
{
	enum wire_status	st;
	size_t			before;

	*envp = NULL;
	for (;;) {
		*offp = r->consumed;
		before = evbuffer_get_length(r->buf);
		st = wire_read_envelope(r->buf, r->max_frame, arena, envp);
		*stp = st;
		switch (st) {
		case WIRE_OK:
			r->consumed += before - evbuffer_get_length(r->buf);
			return REPLAY_FRAME;
		case WIRE_BAD_MESSAGE:
			replay_reader_skip(r);
			return REPLAY_SKIPPED;
		case WIRE_TOO_LARGE:
		case WIRE_BAD_VARINT:
			return REPLAY_BROKEN;
		case WIRE_NEED_MORE:
			break;
		}
		if (r->eof)
			return before == 0 ? REPLAY_EOF : REPLAY_BROKEN;
		if (replay_reader_fill(r) == -1)
			return REPLAY_IOERR;
	}
}

/* publish_tap_fn: append one picture frame to the picture file. */
static void
replay_tap(void *arg, const uint8_t *buf, size_t len)
{
	struct replay	*rp = arg;

	if (fwrite(buf, 1, len, rp->out) != len)
		rp->out_err = 1;
	rp->st->picture_frames++;
	rp->st->picture_bytes += len;
}

/* Count a rejection; past REPLAY_LOG_MAX, say once that logging stops. */
static void
replay_reject(struct replay *rp)
{
	rp->st->rejected++;
	if (rp->st->rejected == REPLAY_LOG_MAX + 1)
		log_warnx("replay: further rejections are counted, not logged");
}

/* A frame that does not parse. */
static void
replay_bad_frame(struct replay *rp, uint64_t off, enum wire_status st)
{
	replay_reject(rp);
	if (rp->st->rejected <= REPLAY_LOG_MAX)
		log_warnx("peer: rejected frame peer=offset:%llu id=- fault=%s",
		    (unsigned long long)off, wire_status_str(st));
}

/* A message the feed stage refused. */
static void
replay_bad_msg(struct replay *rp, uint64_t off, const Envelope *env,
    const struct config_identity *ident, enum feed_result res,
    const char *why)
{
	replay_reject(rp);
	if (rp->st->rejected <= REPLAY_LOG_MAX)
		log_warnx("feed: rejected msg=%s peer=offset:%llu id=%s error=%s "
		    "reason=%s", wire_msg_name(env), (unsigned long long)off,
		    ident != NULL ? ident->id : "-", feed_result_name(res),
		    why);
}

/* Verdict on a frame no feed identity owns: nobody may send it. */
static enum feed_result
replay_unowned(const Envelope *env, const char *sensor, char *why,
    size_t len)
{
	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT:
	case TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP:
	case TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT:
		if (sensor != NULL)
			snprintf(why, len, "sensor %.64s not allowed for any "
			    "feed identity", sensor);
		else
			snprintf(why, len, "%s names no sensor: no feed "
			    "identity owns it", wire_msg_name(env));
		return FEED_FORBIDDEN;
	case TRACKFUSE__V1__ENVELOPE__MSG__NOT_SET:
		snprintf(why, len, "empty envelope");
		return FEED_PROTOCOL;
	default:
		snprintf(why, len, "unexpected %s from a feed",
		    wire_msg_name(env));
		return FEED_PROTOCOL;
	}
}

/*
 * Judge and apply one frame. The owner of the frame's sensor plays the
 * connection's identity and feed_envelope() decides, as for a live feed;
 * a frame no feed identity owns is refused as a foreign sensor is.
 */
static void
replay_frame(struct replay *rp, uint64_t off, const Envelope *env)
{
	const struct config_identity	*ident = NULL;
	const char			*sensor;
	char				 why[FEED_ERRLEN];
	enum feed_result		 res;

	why[0] = '\0';
	if ((sensor = feed_envelope_sensor(env)) != NULL)
		ident = feed_sensor_owner(rp->env->cfg, sensor);
	if (ident != NULL)
		res = feed_envelope(rp->env->feed, ident, env, why,
		    sizeof(why));
	else
		res = replay_unowned(env, sensor, why, sizeof(why));
	if (res == FEED_DROPPED)
		rp->st->over_limit++;
	else if (res != FEED_OK)
		replay_bad_msg(rp, off, env, ident, res, why);
}

/*
 * Attach the picture tap: without --as the full class with class-local
 * ids; with --as ID exactly what subscriber ID would be sent after
 * Subscribe (its class, its scoped ids).
 */
static int
replay_attach(struct trackfused *env, const struct replay_opts *o,
    struct replay *rp, char *err, size_t errlen)
{
	unsigned	r;
	int		rc;

	if (o->as == NULL)
		rc = publish_tap(env->publish, RELEASE_CLASS_FULL, replay_tap,
		    rp);
	else {
		if ((r = release_class(env->release, o->as)) == RELEASE_NONE) {
			snprintf(err, errlen, "--as %s: not a subscriber "
			    "identity of %s", o->as, env->cfg->path != NULL ?
			    env->cfg->path : "the configuration");
			return -1;
		}
		rc = publish_tap_as(env->publish,
		    release_recipient(env->release, r), replay_tap, rp);
	}
	if (rc == -1)
		fatalx("%s: the picture is not empty before replay", __func__);
	return 0;
}

/* Read every frame of the recording into the pipeline; -1 on a read error. */
static int
replay_loop(struct replay *rp, struct replay_reader *rd, const char *path,
    char *err, size_t errlen)
{
	struct wire_arena	*arena;
	Envelope		*e;
	enum wire_status	 ws;
	enum replay_read	 rr;
	uint64_t		 off;
	int			 rc = 0;

	if ((arena = wire_arena_new(REPLAY_ARENA_SIZE)) == NULL)
		fatal("%s: wire_arena_new", __func__);
	while ((rr = replay_reader_next(rd, arena, &e, &off, &ws)) !=
	    REPLAY_EOF) {
		if (rr == REPLAY_IOERR) {
			snprintf(err, errlen, "%s: read: %s", path,
			    strerror(errno));
			rc = -1;
			break;
		}
		rp->st->frames++;
		if (rr == REPLAY_FRAME)
			replay_frame(rp, off, e);
		else
			replay_bad_frame(rp, off, ws);
		wire_arena_reset(arena);
		if (rr == REPLAY_BROKEN)
			break;
	}
	wire_arena_free(arena);
	return rc;
}

/* Seconds on the monotonic clock (elapsed time for the summary only). */
static double
replay_clock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fill the counters the pipeline keeps. */
static void
replay_collect(struct replay *rp)
{
	const struct feed_stats	*fs = feed_stats(rp->env->feed);
	struct corr_stats	 cs;

	corr_get_stats(rp->env->corr, &cs);
	rp->st->reports = fs->reports;
	rp->st->drops = fs->drops;
	rp->st->heartbeats = fs->heartbeats;
	rp->st->tracks_created = cs.created;
	rp->st->tracks_at_end = corr_count(rp->env->corr);
}

/* Open the picture file with a large buffer; NULL with err. */
static FILE *
replay_open_out(const char *path, char *err, size_t errlen)
{
	FILE	*f;

	if ((f = fopen(path, "wbe")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, REPLAY_OUTBUF);
	return f;
}

/* Replay a recording through env's pipeline (see replay.h). */
int
replay_run(struct trackfused *env, const struct replay_opts *o,
    struct replay_stats *st, char *err, size_t errlen)
{
	struct replay		 rp;
	struct replay_reader	*rd;
	double			 t0 = replay_clock();
	int			 rc;

	memset(st, 0, sizeof(*st));
	memset(&rp, 0, sizeof(rp));
	rp.env = env;
	rp.st = st;
	if (o->as != NULL && release_class(env->release, o->as) ==
	    RELEASE_NONE) {
		snprintf(err, errlen, "--as %s: not a subscriber identity of "
		    "the configuration", o->as);
		return -1;
	}
	if ((rd = replay_reader_open(o->record, env->cfg->limits.max_frame,
	    err, errlen)) == NULL)
		return -1;
	if ((rp.out = replay_open_out(o->picture, err, errlen)) == NULL) {
		replay_reader_close(rd);
		return -1;
	}
	if (replay_attach(env, o, &rp, err, errlen) == -1) {
		replay_reader_close(rd);
		fclose(rp.out);
		return -1;
	}
	rc = replay_loop(&rp, rd, o->record, err, errlen);
	replay_reader_close(rd);
	replay_collect(&rp);
	if ((fclose(rp.out) == EOF || rp.out_err) && rc == 0) {
		snprintf(err, errlen, "%s: write failed", o->picture);
		rc = -1;
	}
	st->seconds = replay_clock() - t0;
	return rc;
}

/* Print the summary line. */
void
replay_summary(FILE *f, const struct replay_stats *st)
{
	double	rate;

	rate = st->seconds > 0 ? (double)st->reports / st->seconds : 0;
	fprintf(f, "replay: frames=%llu reports=%llu drops=%llu heartbeats=%llu "
	    "rejected=%llu tracks_created=%llu tracks_at_end=%llu "
	    "picture_frames=%llu seconds=%.3f reports_per_s=%.0f\n",
	    (unsigned long long)st->frames, (unsigned long long)st->reports,
	    (unsigned long long)st->drops, (unsigned long long)st->heartbeats,
	    (unsigned long long)st->rejected,
	    (unsigned long long)st->tracks_created,
	    (unsigned long long)st->tracks_at_end,
	    (unsigned long long)st->picture_frames, st->seconds, rate);
}
