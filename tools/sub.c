/*
 * trackfuse-sub: a command center's view of the picture.
 *
 * Connects to the daemon's subscriber listener (mutual TLS unless --plain),
 * says Hello, subscribes and prints every change of its picture, one line
 * per update, for a person tailing it (or one JSON object per frame with
 * --json). It keeps the picture (track id -> latest state) so that it can
 * print a summary on exit, and reconnects with backoff when the daemon goes
 * away; every connection starts with a snapshot that replaces the picture.
 *
 * Output on stdout (line buffered):
 *   SNAPSHOT begin tracks=N
 *   2026-11-29T00:00:12.500Z NEW   T17   ballistic-missile hostile ...
 *   2026-11-29T00:00:40.000Z DROP  T17
 *   ERROR code=ERROR_AUTH message=...
 *   summary: tracks=12 air=7 surface=3 ballistic-missile=2
 * Diagnostics (connect, disconnect, retries) go to stderr through log.h.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "trackfuse/addr.h"
#include "trackfuse/codec.h"
#include "trackfuse/log.h"
#include "trackfuse/tls.h"
#include "trackfuse/track.h"
#include "trackfuse/wire.h"

#define SUB_SOFTWARE		"trackfuse-sub " TF_VERSION
#define SUB_MAX_FRAME		(16U * 1024 * 1024)
#define SUB_ARENA		(64U * 1024)
#define SUB_BUCKETS		4096
#define SUB_BACKOFF_MIN_MS	500
#define SUB_BACKOFF_MAX_MS	8000

enum sub_state {
	SUB_IDLE,		/* not connected, maybe waiting to retry */
	SUB_CONNECTING,		/* TCP (and TLS) handshake under way */
	SUB_HELLO,		/* Hello sent, waiting for HelloAck */
	SUB_LIVE		/* subscribed, receiving the picture */
};

/* One track of the picture, chained in a hash bucket. */
struct sub_track {
	struct sub_track	*next;
	struct tf_picture_track	 pt;
};

struct sub_opts {
	char		 host[256];
	char		 port[16];
	const char	*id;
	const char	*nation;
	const char	*certs;
	const char	*record;
	int		 plain;
	int		 json;
	long		 count;
	double		 duration;
	int		 verbose;
};

struct sub {
	struct sub_opts		 o;
	struct event_base	*base;
	SSL_CTX			*ctx;
	struct bufferevent	*bev;
	struct wire_arena	*arena;
	struct event		*retry;
	struct event		*stop;
	struct event		*sigint;
	struct event		*sigterm;
	FILE			*rec;
	enum sub_state		 state;
	int			 backoff_ms;
	long			 frames;	/* picture frames (track + drop) */
	long			 invalid;
	int			 done;		/* --count reached: read no more */
	size_t			 ntracks;
	struct sub_track	*buckets[SUB_BUCKETS];
};

static void	sub_connect(struct sub *);

/* Print the usage text and exit with status. */
static __dead void
sub_usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fprintf(fp,
	    "usage: trackfuse-sub --id ID --nation XXX [--connect HOST:PORT]\n"
	    "                     [--certs DIR | --plain] [--json] [--record FILE]\n"
	    "                     [--count N] [--duration S] [-v] [-V] [--help]\n"
	    "  --connect HOST:PORT  daemon subscriber listener (default 127.0.0.1:7402)\n"
	    "  --id ID              identity (certificate CN), e.g. CC-JPN\n"
	    "  --nation XXX         the identity's nation, e.g. JPN\n"
	    "  --certs DIR          directory with ca.pem and ID.pem/ID.key\n"
	    "  --plain              plain TCP (daemon listener with tls: off)\n"
	    "  --json               one JSON object per received frame\n"
	    "  --record FILE        write every received frame, varint-delimited\n"
	    "  --count N            exit after N picture frames\n"
	    "  --duration S         exit after S seconds\n");
	exit(status);
}

/* Format event time ns as RFC 3339 UTC with milliseconds. */
static const char *
sub_time(int64_t ns, char *buf, size_t len)
{
	time_t		s = (time_t)(ns / 1000000000);
	long		ms = (long)((ns % 1000000000) / 1000000);
	struct tm	tm;
	size_t		n;

	if (ms < 0) {
		ms += 1000;
		s--;
	}
	if (gmtime_r(&s, &tm) == NULL ||
	    (n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(buf, len, "?");
		return buf;
	}
	snprintf(buf + n, len - n, ".%03ldZ", ms);
	return buf;
}

/* The bucket that holds track id. */
static struct sub_track **
sub_bucket(struct sub *s, uint64_t id)
{
	return &s->buckets[(id * 0x9e3779b97f4a7c15ULL) >> 52];
}

/* Find a track of the picture; NULL if absent. */
static struct sub_track *
sub_find(struct sub *s, uint64_t id)
{
	struct sub_track *t;

	for (t = *sub_bucket(s, id); t != NULL; t = t->next)
		if (t->pt.track_id == id)
			return t;
	return NULL;
}

/* Store pt in the picture; returns 1 if the track is new. */
static int
sub_store(struct sub *s, const struct tf_picture_track *pt)
{
	struct sub_track **b, *t;

	if ((t = sub_find(s, pt->track_id)) != NULL) {
		t->pt = *pt;
		return 0;
	}
	if ((t = malloc(sizeof(*t))) == NULL)
		fatal("malloc");
	t->pt = *pt;
	b = sub_bucket(s, pt->track_id);
	t->next = *b;
	*b = t;
	s->ntracks++;
	return 1;
}

/* Remove a track from the picture; returns 1 if it was there. */
static int
sub_remove(struct sub *s, uint64_t id)
{
	struct sub_track **p, *t;

	for (p = sub_bucket(s, id); (t = *p) != NULL; p = &t->next) {
		if (t->pt.track_id == id) {
			*p = t->next;
			free(t);
			s->ntracks--;
			return 1;
		}
	}
	return 0;
}

/* Forget the whole picture (a new snapshot replaces it). */
static void
sub_clear(struct sub *s)
{
	struct sub_track *t, *n;
	size_t i;

	for (i = 0; i < SUB_BUCKETS; i++) {
		for (t = s->buckets[i]; t != NULL; t = n) {
			n = t->next;
			free(t);
		}
		s->buckets[i] = NULL;
	}
	s->ntracks = 0;
}

/* Print the summary of the picture: track count and count per category. */
static void
sub_summary(struct sub *s)
{
	size_t n[TF_CAT_MAX] = { 0 };
	struct sub_track *t;
	int i;

	for (i = 0; i < SUB_BUCKETS; i++)
		for (t = s->buckets[i]; t != NULL; t = t->next)
			if (t->pt.cat < TF_CAT_MAX)
				n[t->pt.cat]++;
	if (s->o.json) {
		printf("{\"type\":\"summary\",\"tracks\":%zu", s->ntracks);
		for (i = 1; i < TF_CAT_MAX; i++)
			printf(",\"%s\":%zu", codec_category_name(i), n[i]);
		printf(",\"frames\":%ld,\"invalid\":%ld}\n", s->frames,
		    s->invalid);
		return;
	}
	printf("summary: tracks=%zu", s->ntracks);
	for (i = 1; i < TF_CAT_MAX; i++)
		if (n[i] > 0)
			printf(" %s=%zu", codec_category_name(i), n[i]);
	printf(" frames=%ld invalid=%ld\n", s->frames, s->invalid);
}

/* Write s as a JSON string literal. */
static void
sub_json_str(const char *str)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)str; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* Write a list of nations as a JSON array. */
static void
sub_json_nations(char (*list)[TF_NATION_LEN], unsigned n)
{
	unsigned i;

	putchar('[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			putchar(',');
		sub_json_str(list[i]);
	}
	putchar(']');
}

/* One PictureTrack as a JSON object. */
static void
sub_json_track(const struct tf_picture_track *pt, int isnew)
{
	printf("{\"type\":\"picture_track\",\"new\":%s,\"track_id\":%" PRIu64
	    ",\"t_ns\":%" PRId64 ",\"lat\":%.7f,\"lon\":%.7f,\"alt\":%.1f"
	    ",\"ve\":%.2f,\"vn\":%.2f,\"vu\":%.2f,\"category\":\"%s\""
	    ",\"identity\":\"%s\",\"quality\":%.3f,\"contributors\":%u"
	    ",\"conflict\":%s,\"nations\":", isnew ? "true" : "false",
	    pt->track_id, pt->t_ns, pt->lat_deg, pt->lon_deg, pt->alt_m,
	    pt->vel[0], pt->vel[1], pt->vel[2], codec_category_name(pt->cat),
	    codec_identity_name(pt->ident), (double)pt->quality,
	    pt->contributors, pt->ident_conflict ? "true" : "false");
	sub_json_nations((char (*)[TF_NATION_LEN])pt->nations, pt->nnations);
	printf(",\"label\":{\"owner\":");
	sub_json_str(pt->label.owner);
	printf(",\"classification\":\"%s\",\"releasable_to\":",
	    codec_class_name(pt->label.cls));
	sub_json_nations((char (*)[TF_NATION_LEN])pt->label.rel,
	    pt->label.nrel);
	printf("}}\n");
}

/* One PictureTrack as a line for a person. */
static void
sub_text_track(const struct tf_picture_track *pt, int isnew)
{
	char	ts[40], nations[TF_MAX_NATIONS * TF_NATION_LEN + 1];
	double	spd, hdg;
	size_t	off = 0;
	int	i;

	spd = sqrt(pt->vel[0] * pt->vel[0] + pt->vel[1] * pt->vel[1] +
	    pt->vel[2] * pt->vel[2]);
	hdg = atan2(pt->vel[0], pt->vel[1]) * 180.0 / M_PI;
	if (hdg < 0)
		hdg += 360.0;
	nations[0] = '\0';
	for (i = 0; i < pt->nnations && off < sizeof(nations); i++)
		off += snprintf(nations + off, sizeof(nations) - off, "%s%s",
		    i ? "," : "", pt->nations[i]);
	printf("%s %-5s T%-4" PRIu64 " %-17s %-14s %7.3f%c %8.3f%c alt %.0fm"
	    " spd %.0fm/s hdg %03.0f q=%.2f n=%u %s %s%s\n",
	    sub_time(pt->t_ns, ts, sizeof(ts)), isnew ? "NEW" : "UPD",
	    pt->track_id, codec_category_name(pt->cat),
	    codec_identity_name(pt->ident), fabs(pt->lat_deg),
	    pt->lat_deg < 0 ? 'S' : 'N', fabs(pt->lon_deg),
	    pt->lon_deg < 0 ? 'W' : 'E', pt->alt_m, spd, hdg,
	    (double)pt->quality, pt->contributors, nations[0] ? nations : "-",
	    codec_class_name(pt->label.cls),
	    pt->ident_conflict ? " conflict" : "");
}

/* A frame counts toward --count; stop the loop when it is reached. */
static void
sub_count(struct sub *s)
{
	s->frames++;
	if (s->o.count > 0 && s->frames >= s->o.count) {
		s->done = 1;
		event_base_loopexit(s->base, NULL);
	}
}

/* PictureTrack: validate, store and print. */
static void
sub_on_track(struct sub *s, const Trackfuse__V1__PictureTrack *msg)
{
	struct tf_picture_track	pt;
	char			err[CODEC_ERRLEN];
	int			isnew;

	if (codec_picture_decode(msg, &pt, err, sizeof(err)) == -1) {
		log_warnx("sub: invalid picture track from daemon track=%"
		    PRIu64 " reason=%s", msg->track_id, err);
		s->invalid++;
		sub_count(s);
		return;
	}
	isnew = sub_store(s, &pt);
	if (s->o.json)
		sub_json_track(&pt, isnew);
	else
		sub_text_track(&pt, isnew);
	sub_count(s);
}

/* PictureDrop: remove and print. */
static void
sub_on_drop(struct sub *s, const Trackfuse__V1__PictureDrop *msg)
{
	char ts[40];
	int had;

	had = sub_remove(s, msg->track_id);
	if (s->o.json)
		printf("{\"type\":\"picture_drop\",\"track_id\":%" PRIu64
		    ",\"t_ns\":%" PRId64 ",\"known\":%s}\n", msg->track_id,
		    msg->time_ns, had ? "true" : "false");
	else
		printf("%s DROP  T%" PRIu64 "%s\n", sub_time(msg->time_ns, ts,
		    sizeof(ts)), msg->track_id, had ? "" : " (unknown)");
	sub_count(s);
}

/* HelloAck: the daemon accepted us; ask for the picture. */
static int
sub_on_hello_ack(struct sub *s, const Trackfuse__V1__HelloAck *msg)
{
	Trackfuse__V1__Subscribe	sb = TRACKFUSE__V1__SUBSCRIBE__INIT;
	Envelope			env = TRACKFUSE__V1__ENVELOPE__INIT;

	if (s->state != SUB_HELLO) {
		log_warnx("sub: unexpected hello_ack from daemon");
		return -1;
	}
	log_info("sub: accepted daemon=%s nation=%s protocol=%u",
	    msg->daemon, msg->nation, msg->protocol_version);
	if (s->o.json) {
		printf("{\"type\":\"hello_ack\",\"daemon\":");
		sub_json_str(msg->daemon);
		printf(",\"nation\":");
		sub_json_str(msg->nation);
		printf("}\n");
	}
	sb.snapshot = 1;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_SUBSCRIBE;
	env.subscribe = &sb;
	if (wire_write_envelope(bufferevent_get_output(s->bev), &env) == -1)
		return -1;
	s->state = SUB_LIVE;
	s->backoff_ms = SUB_BACKOFF_MIN_MS;
	return 0;
}

/* Copy str into buf with control characters replaced, for one-line output. */
static const char *
sub_clean(const char *str, char *buf, size_t len)
{
	size_t i;

	for (i = 0; str[i] != '\0' && i + 1 < len; i++)
		buf[i] = ((unsigned char)str[i] < 0x20 || str[i] == 0x7f) ?
		    '?' : str[i];
	buf[i] = '\0';
	return buf;
}

/* Error: print it; the daemon closes after it. */
static void
sub_on_error(struct sub *s, const Trackfuse__V1__Error *msg)
{
	char clean[512];

	log_warnx("sub: daemon error code=%s message=%s",
	    wire_error_name(msg->code), msg->message);
	if (s->o.json) {
		printf("{\"type\":\"error\",\"code\":\"%s\",\"message\":",
		    wire_error_name(msg->code));
		sub_json_str(msg->message);
		printf("}\n");
	} else
		printf("ERROR code=%s message=%s\n", wire_error_name(msg->code),
		    sub_clean(msg->message, clean, sizeof(clean)));
}

/* SnapshotBegin (a new picture starts) and SnapshotEnd. */
static void
sub_on_snapshot(struct sub *s, const Envelope *env)
{
	if (env->msg_case == TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_BEGIN) {
		sub_clear(s);
		if (s->o.json)
			printf("{\"type\":\"snapshot_begin\",\"track_count\":%u"
			    ",\"t_ns\":%" PRId64 "}\n",
			    env->snapshot_begin->track_count,
			    env->snapshot_begin->time_ns);
		else
			printf("SNAPSHOT begin tracks=%u\n",
			    env->snapshot_begin->track_count);
	} else if (s->o.json)
		printf("{\"type\":\"snapshot_end\",\"t_ns\":%" PRId64
		    ",\"tracks\":%zu}\n", env->snapshot_end->time_ns,
		    s->ntracks);
	else
		printf("SNAPSHOT end tracks=%zu\n", s->ntracks);
}

/* Act on one received envelope; -1 closes the connection. */
static int
sub_dispatch(struct sub *s, const Envelope *env)
{
	if (s->state != SUB_LIVE &&
	    env->msg_case != TRACKFUSE__V1__ENVELOPE__MSG_HELLO_ACK &&
	    env->msg_case != TRACKFUSE__V1__ENVELOPE__MSG_ERROR) {
		log_warnx("sub: unexpected %s before hello_ack",
		    wire_msg_name(env));
		return -1;
	}
	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_HELLO_ACK:
		return sub_on_hello_ack(s, env->hello_ack);
	case TRACKFUSE__V1__ENVELOPE__MSG_ERROR:
		sub_on_error(s, env->error);
		return 0;
	case TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_BEGIN:
	case TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_END:
		sub_on_snapshot(s, env);
		return 0;
	case TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK:
		sub_on_track(s, env->picture_track);
		return 0;
	case TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_DROP:
		sub_on_drop(s, env->picture_drop);
		return 0;
	case TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT:
		if (s->o.json)
			printf("{\"type\":\"heartbeat\",\"t_ns\":%" PRId64 "}\n",
			    env->heartbeat->time_ns);
		log_debug("heartbeat t_ns=%" PRId64, env->heartbeat->time_ns);
		return 0;
	default:
		log_warnx("sub: unexpected %s from daemon", wire_msg_name(env));
		return -1;
	}
}

/*
 * Append the next whole frame at the head of in to the record file, exactly
 * as received. The length prefix is decoded here, not by wire_read_envelope,
 * because that one drains the bytes it reads.
 */
static void
sub_record(struct sub *s, struct evbuffer *in)
{
	uint8_t		hdr[WIRE_VARINT_MAX];
	size_t		n, used;
	uint64_t	len;
	unsigned char	*p;

	n = evbuffer_copyout(in, hdr, sizeof(hdr));
	if (wire_varint_decode(hdr, n, &len, &used) != WIRE_OK ||
	    len > SUB_MAX_FRAME || evbuffer_get_length(in) < used + len)
		return;
	if ((p = evbuffer_pullup(in, used + len)) == NULL)
		return;
	if (fwrite(p, 1, used + len, s->rec) != used + len)
		log_warn("sub: record write");
}

/* Drop the connection and schedule a reconnect with backoff. */
static void
sub_disconnect(struct sub *s, const char *reason)
{
	struct timeval tv;

	if (s->bev != NULL) {
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	s->state = SUB_IDLE;
	if (s->rec != NULL)
		fflush(s->rec);
	log_info("sub: disconnected peer=%s:%s reason=%s retry_ms=%d",
	    s->o.host, s->o.port, reason, s->backoff_ms);
	tv.tv_sec = s->backoff_ms / 1000;
	tv.tv_usec = (s->backoff_ms % 1000) * 1000;
	evtimer_add(s->retry, &tv);
	s->backoff_ms *= 2;
	if (s->backoff_ms > SUB_BACKOFF_MAX_MS)
		s->backoff_ms = SUB_BACKOFF_MAX_MS;
}

/* Read callback: take whole frames off the input and act on them. */
static void
sub_read_cb(struct bufferevent *bev, void *arg)
{
	struct sub		*s = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	Envelope		*env;
	enum wire_status	 st;
	char			 why[96];

	while (!s->done) {
		if (s->rec != NULL)
			sub_record(s, in);
		st = wire_read_envelope(in, SUB_MAX_FRAME, s->arena, &env);
		if (st == WIRE_NEED_MORE)
			break;
		if (st != WIRE_OK) {
			snprintf(why, sizeof(why), "bad frame: %s",
			    wire_status_str(st));
			sub_disconnect(s, why);
			return;
		}
		if (sub_dispatch(s, env) == -1) {
			wire_arena_reset(s->arena);
			sub_disconnect(s, "protocol");
			return;
		}
		wire_arena_reset(s->arena);
		if (s->bev == NULL)
			return;
	}
}

/* Send our Hello once the connection (and TLS handshake) is up. */
static void
sub_send_hello(struct sub *s)
{
	Trackfuse__V1__Hello	h = TRACKFUSE__V1__HELLO__INIT;
	Envelope		env = TRACKFUSE__V1__ENVELOPE__INIT;

	h.protocol_version = TF_PROTOCOL_VERSION;
	h.role = TRACKFUSE__V1__ROLE__ROLE_SUBSCRIBER;
	h.id = (char *)s->o.id;
	h.nation = (char *)s->o.nation;
	h.software = SUB_SOFTWARE;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_HELLO;
	env.hello = &h;
	if (wire_write_envelope(bufferevent_get_output(s->bev), &env) == -1) {
		sub_disconnect(s, "cannot queue hello");
		return;
	}
	s->state = SUB_HELLO;
}

/* The pending socket error of a connection attempt, 0 if none. */
static int
sub_sock_error(struct bufferevent *bev)
{
	evutil_socket_t	fd = bufferevent_getfd(bev);
	socklen_t	len;
	int		err = 0;

	len = sizeof(err);
	if (fd == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return 0;
	return err;
}

/* Describe why a connection failed: socket error, OpenSSL reason or eof. */
static void
sub_event_reason(struct sub *s, struct bufferevent *bev, short what,
    char *buf, size_t len)
{
	unsigned long	e;
	int		err = EVUTIL_SOCKET_ERROR();

	if (s->state == SUB_CONNECTING && (err = sub_sock_error(bev)) != 0) {
		snprintf(buf, len, "connect: %s", strerror(err));
		return;
	}
	while (!s->o.plain && (e = bufferevent_get_openssl_error(bev)) != 0) {
		/* libevent queues bare SSL_get_error() codes (lib 0) too. */
		if (ERR_GET_LIB(e) == 0)
			continue;
		snprintf(buf, len, "tls: ");
		ERR_error_string_n(e, buf + strlen(buf), len - strlen(buf));
		while (bufferevent_get_openssl_error(bev) != 0)
			;
		return;
	}
	if (s->state == SUB_CONNECTING)
		snprintf(buf, len, "connect failed: %s", err ? strerror(err) :
		    "refused or unreachable");
	else if (what & BEV_EVENT_EOF)
		snprintf(buf, len, "eof");
	else
		snprintf(buf, len, "error: %s", err ? strerror(err) : "unknown");
}

/* Event callback: connected, end of stream or error. */
static void
sub_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sub	*s = arg;
	char		 why[256];

	if (what & BEV_EVENT_CONNECTED) {
		log_info("sub: connected id=%s nation=%s peer=%s:%s tls=%s",
		    s->o.id, s->o.nation, s->o.host, s->o.port,
		    s->o.plain ? "off" : "on");
		sub_send_hello(s);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		/* Frames may still sit in the input after an EOF. */
		if (s->state != SUB_CONNECTING)
			sub_read_cb(bev, s);
		if (s->bev == NULL)
			return;
		sub_event_reason(s, bev, what, why, sizeof(why));
		sub_disconnect(s, why);
	}
}

/* A new bufferevent for one connection attempt, TLS unless --plain. */
static struct bufferevent *
sub_bev_new(struct sub *s)
{
	struct bufferevent	*bev;
	SSL			*ssl;
	/* Not deferred: the event callback must still see errno. */
	int			 opts = BEV_OPT_CLOSE_ON_FREE;

	if (s->o.plain)
		return bufferevent_socket_new(s->base, -1, opts);
	if ((ssl = tls_client_ssl(s->ctx, s->o.host)) == NULL) {
		log_warnx("sub: tls setup failed reason=%s", tls_error());
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(s->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, opts);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* Start one connection attempt; failures retry with backoff. */
static void
sub_connect(struct sub *s)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen;
	char			err[256];

	if (addr_resolve(s->o.host, s->o.port, &ss, &sslen, err,
	    sizeof(err)) == -1) {
		log_warnx("sub: %s", err);
		sub_disconnect(s, "resolve");
		return;
	}
	if ((s->bev = sub_bev_new(s)) == NULL) {
		sub_disconnect(s, "setup");
		return;
	}
	bufferevent_setcb(s->bev, sub_read_cb, NULL, sub_event_cb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	s->state = SUB_CONNECTING;
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&ss,
	    (int)sslen) == -1) {
		if (s->bev != NULL)
			sub_disconnect(s, "connect failed");
	}
}

/* Retry timer: try to connect again. */
static void
sub_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sub_connect(arg);
}

/* SIGINT/SIGTERM or the --duration timer: leave the loop. */
static void
sub_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sub *s = arg;

	(void)fd;
	(void)what;
	event_base_loopexit(s->base, NULL);
}

/* Parse the command line into s->o; exits on misuse. */
static void
sub_options(struct sub *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "id", required_argument, NULL, 'i' },
		{ "nation", required_argument, NULL, 'n' },
		{ "certs", required_argument, NULL, 'C' },
		{ "plain", no_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "record", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'N' },
		{ "duration", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char	*end;
	int	 ch;

	while ((ch = getopt_long(argc, argv, "vVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (addr_split(optarg, s->o.host, sizeof(s->o.host),
			    s->o.port, sizeof(s->o.port)) == -1)
				sub_usage(2);
			break;
		case 'i': s->o.id = optarg; break;
		case 'n': s->o.nation = optarg; break;
		case 'C': s->o.certs = optarg; break;
		case 'P': s->o.plain = 1; break;
		case 'j': s->o.json = 1; break;
		case 'r': s->o.record = optarg; break;
		case 'N':
			s->o.count = strtol(optarg, &end, 10);
			if (*end != '\0' || s->o.count <= 0)
				sub_usage(2);
			break;
		case 'D':
			s->o.duration = strtod(optarg, &end);
			if (*end != '\0' || !(s->o.duration > 0))
				sub_usage(2);
			break;
		case 'v': s->o.verbose++; break;
		case 'V':
			printf("%s\n", SUB_SOFTWARE);
			exit(0);
		case 'h': sub_usage(0);
		default: sub_usage(2);
		}
	}
	if (optind != argc || s->o.id == NULL || s->o.nation == NULL)
		sub_usage(2);
	if (!s->o.plain && s->o.certs == NULL) {
		fprintf(stderr, "trackfuse-sub: --certs DIR or --plain is "
		    "required\n");
		exit(2);
	}
}

/* Load our certificate and the CA from the --certs directory. */
static void
sub_tls_init(struct sub *s)
{
	char ca[1024], cert[1024], key[1024], err[256];

	snprintf(ca, sizeof(ca), "%s/ca.pem", s->o.certs);
	snprintf(cert, sizeof(cert), "%s/%s.pem", s->o.certs, s->o.id);
	snprintf(key, sizeof(key), "%s/%s.key", s->o.certs, s->o.id);
	s->ctx = tls_client_ctx(ca, cert, key, err, sizeof(err));
	if (s->ctx == NULL)
		fatalx("sub: tls: %s", err);
}

/* Event base, signals, timers, record file and TLS context. */
static void
sub_init(struct sub *s)
{
	struct timeval tv;

	if (!s->o.plain)
		sub_tls_init(s);
	if (s->o.record != NULL && (s->rec = fopen(s->o.record, "wb")) == NULL)
		fatal("sub: %s", s->o.record);
	if ((s->base = event_base_new()) == NULL ||
	    (s->arena = wire_arena_new(SUB_ARENA)) == NULL)
		fatalx("sub: out of memory");
	s->retry = evtimer_new(s->base, sub_retry_cb, s);
	s->sigint = evsignal_new(s->base, SIGINT, sub_stop_cb, s);
	s->sigterm = evsignal_new(s->base, SIGTERM, sub_stop_cb, s);
	if (s->retry == NULL || s->sigint == NULL || s->sigterm == NULL)
		fatalx("sub: out of memory");
	evsignal_add(s->sigint, NULL);
	evsignal_add(s->sigterm, NULL);
	if (s->o.duration > 0) {
		if ((s->stop = evtimer_new(s->base, sub_stop_cb, s)) == NULL)
			fatalx("sub: out of memory");
		tv.tv_sec = (time_t)s->o.duration;
		tv.tv_usec = (suseconds_t)((s->o.duration - tv.tv_sec) * 1e6);
		evtimer_add(s->stop, &tv);
	}
	s->backoff_ms = SUB_BACKOFF_MIN_MS;
}

/* Free everything (so sanitizers see no leak). */
static void
sub_free(struct sub *s)
{
	SSL *ssl;

	if (s->bev != NULL) {
		/* Say goodbye properly so the daemon logs an eof, not an error. */
		if (!s->o.plain && s->state != SUB_CONNECTING &&
		    (ssl = bufferevent_openssl_get_ssl(s->bev)) != NULL)
			SSL_shutdown(ssl);
		bufferevent_free(s->bev);
	}
	sub_clear(s);
	if (s->stop != NULL)
		event_free(s->stop);
	event_free(s->retry);
	event_free(s->sigint);
	event_free(s->sigterm);
	wire_arena_free(s->arena);
	event_base_free(s->base);
	if (s->ctx != NULL)
		SSL_CTX_free(s->ctx);
	if (s->rec != NULL && fclose(s->rec) != 0)
		log_warn("sub: %s", s->o.record);
}

/* Connect, print the picture until told to stop, then the summary. */
int
main(int argc, char **argv)
{
	static struct sub s;

	snprintf(s.o.host, sizeof(s.o.host), "127.0.0.1");
	snprintf(s.o.port, sizeof(s.o.port), "7402");
	sub_options(&s, argc, argv);
	log_init(1, s.o.verbose, NULL);
	log_setprocname("trackfuse-sub");
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	sub_init(&s);
	sub_connect(&s);
	event_base_dispatch(s.base);
	sub_summary(&s);
	sub_free(&s);
	return 0;
}
