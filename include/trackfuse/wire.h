/*
 * Framing: a varint length followed by one serialized Envelope, as protobuf's
 * writeDelimitedTo/parseDelimitedFrom.
 */
#ifndef TRACKFUSE_WIRE_H
#define TRACKFUSE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "trackfuse.pb-c.h"

struct evbuffer;

#define WIRE_VARINT_MAX		10
#define WIRE_DEFAULT_MAX_FRAME	65536

typedef Trackfuse__V1__Envelope Envelope;

enum wire_status {
	WIRE_OK = 0,		/* a whole frame is there */
	WIRE_NEED_MORE,		/* not enough bytes yet */
	WIRE_TOO_LARGE,		/* length prefix over the limit */
	WIRE_BAD_VARINT,	/* varint longer than 10 bytes or overflows */
	WIRE_BAD_MESSAGE	/* body does not unpack as an Envelope */
};

/* wire.c */
size_t		 wire_varint_encode(uint64_t, uint8_t out[WIRE_VARINT_MAX]);
enum wire_status wire_varint_decode(const uint8_t *, size_t, uint64_t *,
		    size_t *);
enum wire_status wire_frame_peek(const uint8_t *, size_t, size_t,
		    size_t *, size_t *);
const char	*wire_status_str(enum wire_status);
/*
 * Per-connection unpack arena so that decoding a frame does not touch the
 * heap on the hot path; wire_arena_reset() frees everything unpacked since
 * the last reset (falls back to malloc past its capacity).
 */
struct wire_arena;
struct wire_arena *wire_arena_new(size_t);
void		 wire_arena_reset(struct wire_arena *);
void		 wire_arena_free(struct wire_arena *);
/* Bytes used in the fixed block; chunks malloc'd past it since new. */
size_t		 wire_arena_used(const struct wire_arena *);
size_t		 wire_arena_spilled(const struct wire_arena *);
/*
 * Take one frame off buf. On WIRE_OK *envp points into arena (valid until
 * the next wire_arena_reset()); the frame's bytes are drained. On NEED_MORE
 * nothing is drained. Other results leave buf as it was; the caller closes.
 * An Envelope with no message set is returned as WIRE_OK: the caller judges.
 */
enum wire_status wire_read_envelope(struct evbuffer *, size_t,
		    struct wire_arena *, Envelope **);
/* Append one framed Envelope; returns bytes added or -1. */
int		 wire_write_envelope(struct evbuffer *, const Envelope *);
/* Frame an Envelope into a new malloc'd buffer (for encode-once fan out). */
uint8_t		*wire_pack_frame(const Envelope *, size_t *);
const char	*wire_msg_name(const Envelope *);
const char	*wire_error_name(int);

#endif
