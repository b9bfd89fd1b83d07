/*
 * Framing: a base-128 varint length followed by one serialized Envelope.
 *
 * Reading never trusts the length prefix: it is checked against the
 * configured limit before a single body byte is looked at, and only the
 * frame itself is made contiguous. Unpacked messages live in a
 * per-connection arena so the hot path does not call malloc.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "trackfuse/log.h"
#include "trackfuse/wire.h"

#define WIRE_ALIGN		alignof(max_align_t)
#define WIRE_ARENA_DEFAULT	65536

/* A block malloc'd after the arena's fixed block ran out. */
struct wire_chunk {
	struct wire_chunk	*next;
	max_align_t		 data[];
};

struct wire_arena {
	ProtobufCAllocator	 pa;
	unsigned char		*block;
	size_t			 cap;
	size_t			 used;
	struct wire_chunk	*chunks;
	size_t			 spilled;	/* chunks malloc'd since new */
};

/* Encode v as a varint into out; returns the number of bytes (1..10). */
size_t
wire_varint_encode(uint64_t v, uint8_t out[WIRE_VARINT_MAX])
{
	size_t	n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/*
 * Decode a varint from buf. NEED_MORE when buf ends inside it; BAD_VARINT
 * when it runs past 10 bytes or its value does not fit in 64 bits (the
 * tenth byte may only carry bit 63).
 */
enum wire_status
wire_varint_decode(const uint8_t *buf, size_t len, uint64_t *vp, size_t *np)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < len && i < WIRE_VARINT_MAX; i++) {
		if (i == WIRE_VARINT_MAX - 1 && buf[i] > 1)
			return WIRE_BAD_VARINT;
		v |= (uint64_t)(buf[i] & 0x7f) << (7 * i);
		if ((buf[i] & 0x80) == 0) {
			*vp = v;
			*np = i + 1;
			return WIRE_OK;
		}
	}
	if (i == WIRE_VARINT_MAX)
		return WIRE_BAD_VARINT;
	return WIRE_NEED_MORE;
}

/*
 * Look at the start of buf: is a whole frame of at most max body bytes
 * there? On WIRE_OK *hdrp and *bodyp give the prefix and body lengths;
 * TOO_LARGE is decided from the prefix alone.
 */
enum wire_status
wire_frame_peek(const uint8_t *buf, size_t len, size_t max, size_t *hdrp,
    size_t *bodyp)
{
	enum wire_status	s;
	uint64_t		v;
	size_t			n;

	if ((s = wire_varint_decode(buf, len, &v, &n)) != WIRE_OK)
		return s;
	if (v > max)
		return WIRE_TOO_LARGE;
	*hdrp = n;
	*bodyp = (size_t)v;
	if (len - n < v)
		return WIRE_NEED_MORE;
	return WIRE_OK;
}

/* A short phrase for logs and Error frames. */
const char *
wire_status_str(enum wire_status s)
{
	switch (s) {
	case WIRE_OK:
		return "ok";
	case WIRE_NEED_MORE:
		return "incomplete frame";
	case WIRE_TOO_LARGE:
		return "frame length over limit";
	case WIRE_BAD_VARINT:
		return "varint longer than 10 bytes or over 64 bits";
	case WIRE_BAD_MESSAGE:
		return "frame body is not a valid Envelope";
	}
	return "unknown wire status";
}

/* Round n up to the arena alignment. */
static size_t
wire_align(size_t n)
{
	return (n + WIRE_ALIGN - 1) & ~(WIRE_ALIGN - 1);
}

/*
 * protobuf-c allocation hook: bump inside the fixed block, else a malloc'd
 * chunk on the list that wire_arena_reset() frees.
 */
static void *
wire_arena_alloc(void *data, size_t size)
{
	struct wire_arena	*a = data;
	struct wire_chunk	*c;
	size_t			 sz = wire_align(size ? size : 1);
	void			*p;

	if (sz <= a->cap - a->used) {
		p = a->block + a->used;
		a->used += sz;
		return p;
	}
	if (sz > SIZE_MAX - sizeof(*c) ||
	    (c = malloc(sizeof(*c) + sz)) == NULL)
		return NULL;
	c->next = a->chunks;
	a->chunks = c;
	a->spilled++;
	return c->data;
}

/* protobuf-c free hook: arena memory goes away at reset only. */
static void
wire_arena_release(void *data, void *p)
{
	(void)data;
	(void)p;
}

/* New arena with a fixed block of cap bytes (0: 64 KiB); NULL on failure. */
struct wire_arena *
wire_arena_new(size_t cap)
{
	struct wire_arena	*a;

	if (cap == 0)
		cap = WIRE_ARENA_DEFAULT;
	cap = wire_align(cap);
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if ((a->block = aligned_alloc(WIRE_ALIGN, cap)) == NULL) {
		free(a);
		return NULL;
	}
	a->cap = cap;
	a->pa.alloc = wire_arena_alloc;
	a->pa.free = wire_arena_release;
	a->pa.allocator_data = a;
	return a;
}

/* Forget everything unpacked since the last reset; free spilled chunks. */
void
wire_arena_reset(struct wire_arena *a)
{
	struct wire_chunk	*c;

	if (a == NULL)
		return;
	while ((c = a->chunks) != NULL) {
		a->chunks = c->next;
		free(c);
	}
	a->used = 0;
}

/* Free the arena and all it holds. */
void
wire_arena_free(struct wire_arena *a)
{
	if (a == NULL)
		return;
	wire_arena_reset(a);
	free(a->block);
	free(a);
}

/* Bytes in use in the fixed block (for tests and stats). */
size_t
wire_arena_used(const struct wire_arena *a)
{
	return a->used;
}

/* Chunks malloc'd past the fixed block since the arena was made. */
size_t
wire_arena_spilled(const struct wire_arena *a)
{
	return a->spilled;
}

/*
 * Take one frame off buf into the arena. Only the header is copied out to
 * decide; the frame alone is pulled up, and drained only once it unpacked.
 */
enum wire_status
wire_read_envelope(struct evbuffer *buf, size_t max_frame,
    struct wire_arena *a, Envelope **envp)
{
	uint8_t			 hdr[WIRE_VARINT_MAX];
	enum wire_status	 s;
	ev_ssize_t		 n;
	uint64_t		 v;
	size_t			 hlen, blen;
	unsigned char		*p;
	Envelope		*env;

	*envp = NULL;
	if ((n = evbuffer_copyout(buf, hdr, sizeof(hdr))) <= 0)
		return WIRE_NEED_MORE;
	if ((s = wire_varint_decode(hdr, (size_t)n, &v, &hlen)) != WIRE_OK)
		return s;
	if (v > max_frame)
		return WIRE_TOO_LARGE;
	blen = (size_t)v;
	if (evbuffer_get_length(buf) < hlen + blen)
		return WIRE_NEED_MORE;
	if ((p = evbuffer_pullup(buf, (ev_ssize_t)(hlen + blen))) == NULL)
		fatalx("wire: evbuffer_pullup of %zu bytes failed", hlen + blen);
	env = trackfuse__v1__envelope__unpack(&a->pa, blen, p + hlen);
	if (env == NULL)
		return WIRE_BAD_MESSAGE;
	evbuffer_drain(buf, hlen + blen);
	*envp = env;
	return WIRE_OK;
}

/* Append one framed Envelope, packed in place; bytes added or -1. */
int
wire_write_envelope(struct evbuffer *buf, const Envelope *env)
{
	struct evbuffer_iovec	 v;
	uint8_t			 hdr[WIRE_VARINT_MAX];
	size_t			 size, hlen;

	size = protobuf_c_message_get_packed_size(&env->base);
	hlen = wire_varint_encode(size, hdr);
	if (size > INT32_MAX - WIRE_VARINT_MAX)
		return -1;
	if (evbuffer_reserve_space(buf, (ev_ssize_t)(hlen + size), &v, 1) != 1)
		return -1;
	memcpy(v.iov_base, hdr, hlen);
	protobuf_c_message_pack(&env->base, (uint8_t *)v.iov_base + hlen);
	v.iov_len = hlen + size;
	if (evbuffer_commit_space(buf, &v, 1) == -1)
		return -1;
	return (int)(hlen + size);
}

/* Frame env into a new malloc'd buffer; the caller frees it. NULL on failure. */
uint8_t *
wire_pack_frame(const Envelope *env, size_t *lenp)
{
	uint8_t	hdr[WIRE_VARINT_MAX], *p;
	size_t	size, hlen;

	size = protobuf_c_message_get_packed_size(&env->base);
	hlen = wire_varint_encode(size, hdr);
	if ((p = malloc(hlen + size)) == NULL)
		return NULL;
	memcpy(p, hdr, hlen);
	protobuf_c_message_pack(&env->base, p + hlen);
	*lenp = hlen + size;
	return p;
}

/* Wire name of the message an Envelope carries ("empty" when none). */
const char *
wire_msg_name(const Envelope *env)
{
	static const char *names[] = {
		"empty", "hello", "hello_ack", "error", "track_report",
		"track_drop", "heartbeat", "subscribe", "snapshot_begin",
		"snapshot_end", "picture_track", "picture_drop"
	};
	unsigned	c;

	if (env == NULL)
		return "empty";
	c = (unsigned)env->msg_case;
	if (c >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[c];
}

/* Name of a wire ErrorCode ("ERROR_AUTH"), "ERROR_?" for an unknown one. */
const char *
wire_error_name(int code)
{
	const ProtobufCEnumValue	*v;

	v = protobuf_c_enum_descriptor_get_value(
	    &trackfuse__v1__error_code__descriptor, code);
	return v != NULL ? v->name : "ERROR_?";
}
