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
 * Take one frame off buf. On WIRE_OK *envp is an Envelope the caller frees
 * with wire_envelope_free(); the frame's bytes are drained. On NEED_MORE
 * nothing is drained. Other results leave buf as it was; the caller closes.
 */
enum wire_status wire_read_envelope(struct evbuffer *, size_t, Envelope **);
void		 wire_envelope_free(Envelope *);
/* Append one framed Envelope; returns bytes added or -1. */
int		 wire_write_envelope(struct evbuffer *, const Envelope *);
/* Frame an Envelope into a new malloc'd buffer (for encode-once fan out). */
uint8_t		*wire_pack_frame(const Envelope *, size_t *);
const char	*wire_msg_name(const Envelope *);

#endif
