/*
 * Connections of both listeners: accept, TLS, Hello, framing, timeouts,
 * dispatch to feed.c / publish.c, and an orderly close.
 *
 * A connection goes PEER_TLS (TLS listeners only) -> PEER_HELLO -> PEER_READY
 * -> PEER_CLOSING. The handshake timer covers TLS and Hello. Closing sends
 * the Error frame if there is one, stops reading, and frees the connection
 * once its output is flushed (or after PEER_CLOSE_MS at the latest); the
 * struct is only ever freed from its own timer or write/event callback.
 *
 * Log lines (stable: the integration tests grep them). ADDR is ip:port of
 * the remote end, ID the identity id or "-" before Hello, KIND "feed" or
 * "subscriber" (the listener the connection came in on):
 *
 *   peer: listening listener=KIND address=A:P tls=on        (debug)
 *   peer: listening listener=KIND address=A:P tls=off: peers are identified
 *       by their Hello only (development use)          (warning, once each)
 *   peer: refused peer=ADDR listener=KIND reason=max_feeds=N reached
 *   peer: tls handshake failed peer=ADDR reason=TEXT
 *   peer: handshake timeout peer=ADDR
 *   peer: unknown identity peer=ADDR cert=CN
 *   peer: hello refused peer=ADDR cert=CN|- claimed=ID reason=TEXT
 *   peer: rejected frame peer=ADDR id=ID fault=<wire_status_str>
 *   peer: protocol error peer=ADDR id=ID reason=TEXT
 *   peer: idle timeout peer=ADDR id=ID idle_ms=N
 *   feed: rejected msg=track_report|track_drop|heartbeat peer=ADDR id=ID
 *       error=invalid|forbidden reason=TEXT
 *   KIND: connected id=ID nation=NAT peer=ADDR
 *   subscriber: subscribed id=ID peer=ADDR class=N tracks=N
 *   KIND: disconnected id=ID peer=ADDR reason=REASON
 *
 * REASON is one of: eof | error TEXT | shutdown | tls: TEXT |
 * peer error code=N message=TEXT | CODE: TEXT, where CODE is the Error code
 * sent (protocol, frame_too_large, auth, forbidden, invalid, timeout,
 * overload, version) and TEXT the Error message, e.g.
 * "reason=forbidden: sensor KOR-E7-1 not allowed for identity USA-AEGIS-1",
 * "reason=auth: identity removed by reload" (or "identity changed by
 * reload"), "reason=timeout: idle timeout", "reason=timeout: handshake
 * timeout". The Error message sent to the peer is the TEXT part.
 *
 * Other daemon lines (main.c, feed.c, stats.c):
 *
 *   trackfused: started name=N nation=NAT feeds=A:P (tls|plain)
 *       subscribers=A:P (tls|plain) identities=N
 *   trackfused: stopping signal=TERM|INT
 *   trackfused: stopped
 *   config: reloaded file=PATH identities=N
 *   config: reload refused: FILE:LINE:COL: TEXT; keeping the running
 *       configuration
 *   config: listener change needs a restart listener=KIND running=A:P (tls)
 *       configured=A:P (tls); keeping the running listener
 *   feed: report dropped over limit sensor=S track=N tracks=N sources=N
 *       total=N                              (the 1st, then every 1000th)
 *   stats: feeds=N subscribers=N reports/s=X.X tracks=N sources=N
 *       rejected=N bytes_queued=N dropped_over_limit=N
 *
 * "-n" prints "configuration OK" on stdout (exit 0) or the error on stderr
 * (exit 1): "FILE:LINE:COL: TEXT" from config_load, "FILE: tls: TEXT" when
 * the certificates or key do not load.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "trackfuse/config.h"
#include "trackfuse/feed.h"
#include "trackfuse/log.h"
#include "trackfuse/peer.h"
#include "trackfuse/publish.h"
#include "trackfuse/release.h"
#include "trackfuse/tls.h"
#include "trackfuse/track.h"
#include "trackfuse/wire.h"

#define PEER_CLOSE_MS		1000	/* longest wait to flush on close */
#define PEER_ARENA_SIZE		16384
#define PEER_ADDRLEN		64
#define PEER_ERRMSG_MAX		256	/* Error.message limit */

enum peer_state {
	PEER_TLS,		/* TLS handshake running */
	PEER_HELLO,		/* waiting for Hello */
	PEER_READY,
	PEER_CLOSING
};

struct peer_listener {
	struct trackfused	*env;
	struct evconnlistener	*lev;
	enum peer_kind		 kind;
	char			*address;
	uint16_t		 port;
	int			 tls;
};

struct peer {
	TAILQ_ENTRY(peer)		 entry;
	struct trackfused		*env;
	enum peer_kind			 kind;
	enum peer_state			 state;
	struct bufferevent		*bev;
	SSL				*ssl;		/* owned by bev */
	int				 tls_ok;	/* handshake done */
	int				 broken;	/* socket unusable */
	struct event			*timer;
	struct wire_arena		*arena;
	struct publish_sub		*sub;
	const struct config_identity	*ident;		/* in env->cfg */
	struct timeval			 last;		/* last frame */
	char				 addr[PEER_ADDRLEN];
	char				 cn[TF_ID_LEN];	/* certificate CN */
	char				 id[TF_ID_LEN];	/* "-" before Hello */
};

static void	peer_close(struct peer *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Name of a fault counter. */
const char *
peer_fault_name(enum peer_fault f)
{
	static const char *names[PEER_FAULT_MAX] = {
		"tls", "timeout", "auth", "version", "frame", "protocol",
		"invalid", "forbidden", "overload", "refused"
	};

	return (unsigned)f < PEER_FAULT_MAX ? names[f] : "?";
}

/* Log subject of a listener kind. */
const char *
peer_kind_name(enum peer_kind k)
{
	return k == PEER_FEED ? "feed" : "subscriber";
}

/* Short name of an Error code for log lines. */
static const char *
peer_code_name(int code)
{
	static const char *names[] = {
		"unspecified", "protocol", "frame_too_large", "auth",
		"forbidden", "invalid", "timeout", "shutdown", "overload",
		"version"
	};

	if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
		return "unspecified";
	return names[code];
}

/* Fault counter of an Error code; -1 for none (shutdown). */
static int
peer_code_fault(int code)
{
	switch (code) {
	case TRACKFUSE__V1__ERROR_CODE__ERROR_PROTOCOL:
		return PEER_FAULT_PROTOCOL;
	case TRACKFUSE__V1__ERROR_CODE__ERROR_FRAME_TOO_LARGE:
		return PEER_FAULT_FRAME;
	case TRACKFUSE__V1__ERROR_CODE__ERROR_AUTH:
		return PEER_FAULT_AUTH;
	case TRACKFUSE__V1__ERROR_CODE__ERROR_FORBIDDEN:
		return PEER_FAULT_FORBIDDEN;
	case TRACKFUSE__V1__ERROR_CODE__ERROR_INVALID:
		return PEER_FAULT_INVALID;
	case TRACKFUSE__V1__ERROR_CODE__ERROR_TIMEOUT:
		return PEER_FAULT_TIMEOUT;
	case TRACKFUSE__V1__ERROR_CODE__ERROR_OVERLOAD:
		return PEER_FAULT_OVERLOAD;
	case TRACKFUSE__V1__ERROR_CODE__ERROR_VERSION:
		return PEER_FAULT_VERSION;
	default:
		return -1;
	}
}

/* Format a socket address as ip:port ([ip]:port for IPv6). */
static void
peer_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char	ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		evutil_inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, len, "unknown");
}

/* Arm the peer's timer for ms milliseconds. */
static void
peer_timer_ms(struct peer *p, uint32_t ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
}

/* Free a connection; only from its timer or its bufferevent's callbacks. */
static void
peer_free(struct peer *p)
{
	struct trackfused	*env = p->env;

	TAILQ_REMOVE(&env->peers, p, entry);
	env->npeers[p->kind]--;
	if (p->sub != NULL)
		publish_sub_free(p->sub);
	if (p->ssl != NULL && p->tls_ok && !p->broken)
		(void)SSL_shutdown(p->ssl);	/* best effort close_notify */
	bufferevent_free(p->bev);		/* closes the socket, frees ssl */
	event_free(p->timer);
	wire_arena_free(p->arena);
	free(p);
	if (env->stopping && TAILQ_EMPTY(&env->peers))
		event_base_loopexit(env->base, NULL);
}

/* Append Error{code, msg} to the output. */
static void
peer_send_error(struct peer *p, int code, const char *msg)
{
	Envelope		 env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__Error	 err = TRACKFUSE__V1__ERROR__INIT;
	char			 m[PEER_ERRMSG_MAX + 1];

	snprintf(m, sizeof(m), "%s", msg);
	err.code = code;
	err.message = m;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_ERROR;
	env.error = &err;
	if (wire_write_envelope(bufferevent_get_output(p->bev), &env) == -1)
		log_warnx("peer: error frame not sent peer=%s", p->addr);
}

/*
 * Close p: log why, count the fault, send Error{code, reason} if code is
 * not 0 and the channel still works, stop reading and free once flushed.
 */
static void
peer_close(struct peer *p, int code, const char *fmt, ...)
{
	char		msg[PEER_ERRMSG_MAX + 1];
	va_list		ap;
	int		fault;
	size_t		left;

	if (p->state == PEER_CLOSING)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (code == TRACKFUSE__V1__ERROR_CODE__ERROR_SHUTDOWN)
		log_info("%s: disconnected id=%s peer=%s reason=shutdown",
		    peer_kind_name(p->kind), p->id, p->addr);
	else if (code == 0)
		log_info("%s: disconnected id=%s peer=%s reason=%s",
		    peer_kind_name(p->kind), p->id, p->addr, msg);
	else
		log_warnx("%s: disconnected id=%s peer=%s reason=%s: %s",
		    peer_kind_name(p->kind), p->id, p->addr,
		    peer_code_name(code), msg);
	if ((fault = peer_code_fault(code)) != -1)
		p->env->stats.faults[fault]++;
	if (code != 0 && !p->broken && (p->ssl == NULL || p->tls_ok))
		peer_send_error(p, code, msg);
	if (p->state == PEER_READY)
		p->env->nready[p->kind]--;
	p->state = PEER_CLOSING;
	if (p->sub != NULL) {
		publish_sub_free(p->sub);
		p->sub = NULL;
	}
	bufferevent_disable(p->bev, EV_READ);
	bufferevent_setwatermark(p->bev, EV_WRITE, 0, 0);
	left = evbuffer_get_length(bufferevent_get_output(p->bev));
	peer_timer_ms(p, (p->broken || left == 0) ? 0 : PEER_CLOSE_MS);
}

/* Refuse a Hello: log what was claimed against what is known, then close. */
static void
peer_hello_refuse(struct peer *p, const char *claimed, int code,
    const char *reason)
{
	log_warnx("peer: hello refused peer=%s cert=%s claimed=%s reason=%s",
	    p->addr, p->ssl != NULL ? p->cn : "-", claimed, reason);
	peer_close(p, code, "%s", reason);
}

/* Wire role of a config role. */
static int
peer_wire_role(enum config_role r)
{
	return r == CONFIG_ROLE_FEED ? TRACKFUSE__V1__ROLE__ROLE_FEED :
	    TRACKFUSE__V1__ROLE__ROLE_SUBSCRIBER;
}

/* Name of a wire role for log lines. */
static const char *
peer_wire_role_name(int role)
{
	switch (role) {
	case TRACKFUSE__V1__ROLE__ROLE_FEED:
		return "feed";
	case TRACKFUSE__V1__ROLE__ROLE_SUBSCRIBER:
		return "subscriber";
	default:
		return "unspecified";
	}
}

/* Check what a Hello claims; the identity or NULL (then p is closing). */
static const struct config_identity *
peer_hello_check(struct peer *p, const Trackfuse__V1__Hello *h)
{
	const struct config_identity	*ident;
	const char			*claimed = h->id != NULL ? h->id : "";
	const char			*nation = h->nation != NULL ? h->nation : "";
	enum config_role		 want;
	char				 why[160];

	want = p->kind == PEER_FEED ? CONFIG_ROLE_FEED : CONFIG_ROLE_SUBSCRIBER;
	if (h->protocol_version != TF_PROTOCOL_VERSION) {
		snprintf(why, sizeof(why), "protocol version %u not supported",
		    h->protocol_version);
		peer_hello_refuse(p, claimed,
		    TRACKFUSE__V1__ERROR_CODE__ERROR_VERSION, why);
		return NULL;
	}
	if (p->ssl != NULL && strcmp(claimed, p->cn) != 0) {
		peer_hello_refuse(p, claimed, TRACKFUSE__V1__ERROR_CODE__ERROR_AUTH,
		    "id does not match the certificate");
		return NULL;
	}
	if ((ident = config_identity(p->env->cfg, claimed)) == NULL) {
		peer_hello_refuse(p, claimed, TRACKFUSE__V1__ERROR_CODE__ERROR_AUTH,
		    "unknown identity");
		return NULL;
	}
	if (ident->role != want || (int)h->role != peer_wire_role(ident->role)) {
		snprintf(why, sizeof(why), "role %s not allowed on the %s "
		    "listener for identity %s (role %s)",
		    peer_wire_role_name((int)h->role), peer_kind_name(p->kind),
		    ident->id, ident->role == CONFIG_ROLE_FEED ? "feed" :
		    "subscriber");
		peer_hello_refuse(p, claimed,
		    TRACKFUSE__V1__ERROR_CODE__ERROR_AUTH, why);
		return NULL;
	}
	if (strcmp(nation, ident->nation) != 0) {
		snprintf(why, sizeof(why), "nation %.8s does not match identity "
		    "nation %s", nation, ident->nation);
		peer_hello_refuse(p, claimed,
		    TRACKFUSE__V1__ERROR_CODE__ERROR_AUTH, why);
		return NULL;
	}
	return ident;
}

/* Accept a Hello: HelloAck, log, and arm the idle timer for feeds. */
static void
peer_hello(struct peer *p, const Trackfuse__V1__Hello *h)
{
	Envelope			 env = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__HelloAck		 ack = TRACKFUSE__V1__HELLO_ACK__INIT;
	const struct config_identity	*ident;

	if ((ident = peer_hello_check(p, h)) == NULL)
		return;
	p->ident = ident;
	snprintf(p->id, sizeof(p->id), "%s", ident->id);
	p->state = PEER_READY;
	p->env->nready[p->kind]++;
	ack.protocol_version = TF_PROTOCOL_VERSION;
	ack.daemon = p->env->cfg->name;
	ack.nation = p->env->cfg->nation;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_HELLO_ACK;
	env.hello_ack = &ack;
	wire_write_envelope(bufferevent_get_output(p->bev), &env);
	log_info("%s: connected id=%s nation=%s peer=%s",
	    peer_kind_name(p->kind), ident->id, ident->nation, p->addr);
	evtimer_del(p->timer);
	if (p->kind == PEER_FEED)
		peer_timer_ms(p, p->env->cfg->limits.idle_timeout_ms);
}

/* A message the role or state does not allow. */
static void
peer_protocol_error(struct peer *p, const char *why)
{
	log_warnx("peer: protocol error peer=%s id=%s reason=%s", p->addr,
	    p->id, why);
	peer_close(p, TRACKFUSE__V1__ERROR_CODE__ERROR_PROTOCOL, "%s", why);
}

/* Turn a feed.c refusal into an Error and close. */
static void
peer_feed_result(struct peer *p, const Envelope *env, enum feed_result res,
    const char *why)
{
	int	code;

	if (res == FEED_OK || res == FEED_DROPPED)
		return;
	code = res == FEED_FORBIDDEN ?
	    TRACKFUSE__V1__ERROR_CODE__ERROR_FORBIDDEN :
	    TRACKFUSE__V1__ERROR_CODE__ERROR_INVALID;
	log_warnx("feed: rejected msg=%s peer=%s id=%s error=%s reason=%s",
	    wire_msg_name(env), p->addr, p->id, peer_code_name(code), why);
	peer_close(p, code, "%s", why);
}

/* Messages a Hello'd feed may send: feed.c judges them. */
static void
peer_dispatch_feed(struct peer *p, const Envelope *env)
{
	char			 why[FEED_ERRLEN];
	enum feed_result	 res;

	why[0] = '\0';
	res = feed_envelope(p->env->feed, p->ident, env, why, sizeof(why));
	if (res == FEED_PROTOCOL)
		peer_protocol_error(p, why);
	else
		peer_feed_result(p, env, res, why);
}

/* Publish could not keep a subscriber within its bounds. */
static void
peer_sub_fault(void *arg, struct publish_sub *sub, const char *why)
{
	struct peer	*p = arg;

	if (p->sub == sub) {
		publish_sub_free(sub);
		p->sub = NULL;
	}
	peer_close(p, TRACKFUSE__V1__ERROR_CODE__ERROR_OVERLOAD, "%s", why);
}

/* A subscriber asks for its picture: snapshot, then live updates. */
static void
peer_subscribe(struct peer *p)
{
	struct trackfused	*env = p->env;
	unsigned		 cls;

	if (p->sub != NULL) {
		peer_protocol_error(p, "second subscribe");
		return;
	}
	cls = release_class(env->release, p->ident->id);
	p->sub = publish_subscribe(env->publish, cls, p->bev, peer_sub_fault, p);
	if (p->sub == NULL) {
		peer_close(p, TRACKFUSE__V1__ERROR_CODE__ERROR_OVERLOAD,
		    "cannot queue the snapshot");
		return;
	}
	log_info("subscriber: subscribed id=%s peer=%s class=%u tracks=%zu",
	    p->id, p->addr, publish_sub_class(p->sub),
	    publish_tracks(env->publish, publish_sub_class(p->sub)));
}

/* Messages a Hello'd subscriber may send. */
static void
peer_dispatch_subscriber(struct peer *p, const Envelope *env)
{
	char	why[96];

	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_SUBSCRIBE:
		peer_subscribe(p);
		return;
	case TRACKFUSE__V1__ENVELOPE__MSG_HEARTBEAT:
		return;		/* liveness only */
	default:
		snprintf(why, sizeof(why), "unexpected %s from a subscriber",
		    wire_msg_name(env));
		peer_protocol_error(p, why);
	}
}

/* One frame, by state and role. */
static void
peer_dispatch(struct peer *p, const Envelope *env)
{
	char	why[96];

	if (env->msg_case == TRACKFUSE__V1__ENVELOPE__MSG_ERROR) {
		peer_close(p, 0, "peer error code=%d message=%.200s",
		    (int)env->error->code, env->error->message != NULL ?
		    env->error->message : "");
		return;
	}
	if (p->state == PEER_HELLO) {
		if (env->msg_case == TRACKFUSE__V1__ENVELOPE__MSG_HELLO)
			peer_hello(p, env->hello);
		else {
			snprintf(why, sizeof(why), "%s before hello",
			    wire_msg_name(env));
			peer_protocol_error(p, why);
		}
		return;
	}
	if (env->msg_case == TRACKFUSE__V1__ENVELOPE__MSG_HELLO)
		peer_protocol_error(p, "second hello");
	else if (env->msg_case == TRACKFUSE__V1__ENVELOPE__MSG__NOT_SET)
		peer_protocol_error(p, "empty envelope");
	else if (p->kind == PEER_FEED)
		peer_dispatch_feed(p, env);
	else
		peer_dispatch_subscriber(p, env);
}

/* A frame that does not parse: log, count, Error, close. */
static void
peer_bad_frame(struct peer *p, enum wire_status st)
{
	int	code;

	log_warnx("peer: rejected frame peer=%s id=%s fault=%s", p->addr,
	    p->id, wire_status_str(st));
	code = st == WIRE_TOO_LARGE ?
	    TRACKFUSE__V1__ERROR_CODE__ERROR_FRAME_TOO_LARGE :
	    TRACKFUSE__V1__ERROR_CODE__ERROR_PROTOCOL;
	peer_close(p, code, "%s", wire_status_str(st));
}

/* Read callback: take every whole frame off the input. */
static void
peer_readcb(struct bufferevent *bev, void *arg)
{
	struct peer		*p = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	Envelope		*env;
	enum wire_status	 st;

	while (p->state == PEER_HELLO || p->state == PEER_READY) {
		st = wire_read_envelope(in, p->env->cfg->limits.max_frame,
		    p->arena, &env);
		if (st == WIRE_NEED_MORE)
			break;
		if (st != WIRE_OK) {
			peer_bad_frame(p, st);
			break;
		}
		event_base_gettimeofday_cached(p->env->base, &p->last);
		peer_dispatch(p, env);
		wire_arena_reset(p->arena);
	}
	wire_arena_reset(p->arena);
}

/* Write callback: a closing peer is freed once flushed; else publish on. */
static void
peer_writecb(struct bufferevent *bev, void *arg)
{
	struct peer	*p = arg;

	if (p->state == PEER_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			peer_free(p);
		return;
	}
	if (p->sub != NULL)
		publish_sub_writable(p->sub);
}

/*
 * The reason a TLS handshake failed, from the errors libevent saved off
 * OpenSSL's queue (first with a reason string wins), plus the certificate
 * verification result when that is what failed.
 */
static void
peer_tls_reason(struct peer *p, char *buf, size_t len)
{
	unsigned long	 e;
	long		 vr;
	const char	*r = NULL;
	char		 any[160] = "";

	while ((e = bufferevent_get_openssl_error(p->bev)) != 0) {
		if (r == NULL)
			r = ERR_reason_error_string(e);
		if (any[0] == '\0')
			ERR_error_string_n(e, any, sizeof(any));
	}
	if (r == NULL && any[0] != '\0')
		r = any;
	vr = SSL_get_verify_result(p->ssl);
	if (r != NULL && vr != X509_V_OK)
		snprintf(buf, len, "%s (%s)", r,
		    X509_verify_cert_error_string(vr));
	else if (r != NULL)
		snprintf(buf, len, "%s", r);
	else if (EVUTIL_SOCKET_ERROR() != 0 &&
	    EVUTIL_SOCKET_ERROR() != EAGAIN)
		snprintf(buf, len, "%s", strerror(EVUTIL_SOCKET_ERROR()));
	else
		snprintf(buf, len, "connection closed during handshake");
}

/* TLS handshake done: find the identity of the certificate. */
static void
peer_tls_done(struct peer *p)
{
	p->tls_ok = 1;
	if (tls_peer_cn(p->ssl, p->cn, sizeof(p->cn)) == -1) {
		log_warnx("peer: tls handshake failed peer=%s reason=no verified "
		    "client certificate", p->addr);
		p->env->stats.faults[PEER_FAULT_TLS]++;
		peer_close(p, 0, "tls: no verified client certificate");
		return;
	}
	if (config_identity(p->env->cfg, p->cn) == NULL) {
		log_warnx("peer: unknown identity peer=%s cert=%s", p->addr,
		    p->cn);
		peer_close(p, TRACKFUSE__V1__ERROR_CODE__ERROR_AUTH,
		    "unknown identity %s", p->cn);
		return;
	}
	p->state = PEER_HELLO;
	log_debug("peer: tls established peer=%s cert=%s", p->addr, p->cn);
}

/* Event callback: handshake done, EOF or error. */
static void
peer_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct peer	*p = arg;
	char		 why[256];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (p->state == PEER_TLS)
			peer_tls_done(p);
		return;
	}
	if (p->state == PEER_CLOSING) {
		peer_free(p);		/* nothing more will be flushed */
		return;
	}
	p->broken = 1;
	if (p->state == PEER_TLS) {
		peer_tls_reason(p, why, sizeof(why));
		log_warnx("peer: tls handshake failed peer=%s reason=%s",
		    p->addr, why);
		p->env->stats.faults[PEER_FAULT_TLS]++;
		peer_close(p, 0, "tls: %s", why);
	} else if (what & BEV_EVENT_EOF)
		peer_close(p, 0, "eof");
	else {
		if (p->ssl != NULL)
			peer_tls_reason(p, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "%s",
			    strerror(EVUTIL_SOCKET_ERROR()));
		peer_close(p, 0, "error %s", why);
	}
}

/* Timer: handshake timeout, idle check, or the end of a close. */
static void
peer_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct peer	*p = arg;
	struct timeval	 now;
	long long	 idle, limit;

	(void)fd;
	(void)what;
	switch (p->state) {
	case PEER_CLOSING:
		peer_free(p);
		return;
	case PEER_TLS:
	case PEER_HELLO:
		log_warnx("peer: handshake timeout peer=%s", p->addr);
		peer_close(p, TRACKFUSE__V1__ERROR_CODE__ERROR_TIMEOUT,
		    "handshake timeout");
		return;
	case PEER_READY:
		break;
	}
	event_base_gettimeofday_cached(p->env->base, &now);
	idle = (now.tv_sec - p->last.tv_sec) * 1000LL +
	    (now.tv_usec - p->last.tv_usec) / 1000;
	limit = p->env->cfg->limits.idle_timeout_ms;
	if (idle < limit) {
		peer_timer_ms(p, (uint32_t)(limit - idle));
		return;
	}
	log_warnx("peer: idle timeout peer=%s id=%s idle_ms=%lld", p->addr,
	    p->id, idle);
	peer_close(p, TRACKFUSE__V1__ERROR_CODE__ERROR_TIMEOUT, "idle timeout");
}

/* Wrap an accepted socket in a (TLS) bufferevent; -1 if that fails. */
static int
peer_wrap(struct peer *p, evutil_socket_t fd, int tls)
{
	struct event_base	*base = p->env->base;

	if (!tls) {
		p->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
		p->state = PEER_HELLO;
		return p->bev == NULL ? -1 : 0;
	}
	if ((p->ssl = SSL_new(p->env->ssl_ctx)) == NULL)
		return -1;
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* A peer closing without close_notify is an EOF, not an error. */
	SSL_set_options(p->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	p->bev = bufferevent_openssl_socket_new(base, fd, p->ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (p->bev == NULL) {
		SSL_free(p->ssl);
		p->ssl = NULL;
		return -1;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(p->bev, 1);
	p->state = PEER_TLS;
	return 0;
}

/* Set up a new connection on an accepted socket; -1 if out of resources. */
static int
peer_new(struct peer_listener *l, evutil_socket_t fd, const char *addr)
{
	struct trackfused	*env = l->env;
	struct peer		*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->env = env;
	p->kind = l->kind;
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	snprintf(p->id, sizeof(p->id), "-");
	if ((p->arena = wire_arena_new(PEER_ARENA_SIZE)) == NULL ||
	    (p->timer = evtimer_new(env->base, peer_timercb, p)) == NULL ||
	    peer_wrap(p, fd, l->tls) == -1) {
		if (p->timer != NULL)
			event_free(p->timer);
		wire_arena_free(p->arena);
		free(p);
		return -1;
	}
	TAILQ_INSERT_TAIL(&env->peers, p, entry);
	env->npeers[p->kind]++;
	env->stats.accepted++;
	bufferevent_setcb(p->bev, peer_readcb, peer_writecb, peer_eventcb, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	peer_timer_ms(p, env->cfg->limits.handshake_timeout_ms);
	log_debug("peer: accepted peer=%s listener=%s tls=%s", p->addr,
	    peer_kind_name(p->kind), l->tls ? "on" : "off");
	return 0;
}

/* Listener callback: enforce the connection limit, then set up a peer. */
static void
peer_acceptcb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct peer_listener	*l = arg;
	struct trackfused	*env = l->env;
	char			 addr[PEER_ADDRLEN];
	uint32_t		 max;

	(void)lev;
	(void)salen;
	peer_addr_str(sa, addr, sizeof(addr));
	max = l->kind == PEER_FEED ? env->cfg->limits.max_feeds :
	    env->cfg->limits.max_subscribers;
	if (env->stopping || env->npeers[l->kind] >= max) {
		log_warnx("peer: refused peer=%s listener=%s reason=%s=%u "
		    "reached", addr, peer_kind_name(l->kind), l->kind ==
		    PEER_FEED ? "max_feeds" : "max_subscribers", max);
		env->stats.faults[PEER_FAULT_REFUSED]++;
		evutil_closesocket(fd);
		return;
	}
	if (peer_new(l, fd, addr) == -1) {
		log_warnx("peer: refused peer=%s listener=%s reason=out of "
		    "resources", addr, peer_kind_name(l->kind));
		env->stats.faults[PEER_FAULT_REFUSED]++;
		evutil_closesocket(fd);
	}
}

/* Listener error (e.g. out of file descriptors): log and go on. */
static void
peer_accept_errorcb(struct evconnlistener *lev, void *arg)
{
	struct peer_listener	*l = arg;

	(void)lev;
	log_warnx("peer: accept failed listener=%s error=%s",
	    peer_kind_name(l->kind), strerror(EVUTIL_SOCKET_ERROR()));
}

/* Parse "address:port" into ss; -1 if it is not a numeric address. */
static int
peer_sockaddr(const char *address, uint16_t port, struct sockaddr_storage *ss,
    int *sslen)
{
	char	buf[128];

	if (strchr(address, ':') != NULL)
		snprintf(buf, sizeof(buf), "[%s]:%u", address, port);
	else
		snprintf(buf, sizeof(buf), "%s:%u", address, port);
	*sslen = sizeof(*ss);
	memset(ss, 0, sizeof(*ss));
	return evutil_parse_sockaddr_port(buf, (struct sockaddr *)ss, sslen);
}

/* Open the listener of kind k from env->cfg; -1 (logged) on failure. */
int
peer_listen(struct trackfused *env, enum peer_kind k)
{
	const struct config_listen	*cl;
	struct peer_listener		*l;
	struct sockaddr_storage		 ss;
	int				 sslen;

	cl = k == PEER_FEED ? &env->cfg->feeds : &env->cfg->subscribers;
	if (peer_sockaddr(cl->address, cl->port, &ss, &sslen) == -1) {
		log_warnx("peer: bad listen address listener=%s address=%s",
		    peer_kind_name(k), cl->address);
		return -1;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->address = strdup(cl->address)) == NULL)
		fatal("%s: calloc", __func__);
	l->env = env;
	l->kind = k;
	l->port = cl->port;
	l->tls = cl->tls;
	l->lev = evconnlistener_new_bind(env->base, peer_acceptcb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    -1, (struct sockaddr *)&ss, sslen);
	if (l->lev == NULL) {
		log_warn("peer: cannot listen listener=%s address=%s:%u",
		    peer_kind_name(k), cl->address, cl->port);
		free(l->address);
		free(l);
		return -1;
	}
	evconnlistener_set_error_cb(l->lev, peer_accept_errorcb);
	env->listeners[k] = l;
	if (l->tls)
		log_debug("peer: listening listener=%s address=%s:%u tls=on",
		    peer_kind_name(k), l->address, l->port);
	else
		log_warnx("peer: listening listener=%s address=%s:%u tls=off: "
		    "peers are identified by their Hello only (development "
		    "use)", peer_kind_name(k), l->address, l->port);
	return 0;
}

/* Stop accepting on every listener. */
void
peer_listen_close(struct trackfused *env)
{
	struct peer_listener	*l;
	int			 k;

	for (k = 0; k < PEER_NKINDS; k++) {
		if ((l = env->listeners[k]) == NULL)
			continue;
		evconnlistener_free(l->lev);
		free(l->address);
		free(l);
		env->listeners[k] = NULL;
	}
}

/* "address:port (tls|plain)" of the running listener of kind k. */
void
peer_listen_str(const struct trackfused *env, enum peer_kind k, char *buf,
    size_t len)
{
	const struct peer_listener	*l = env->listeners[k];

	if (l == NULL)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%s:%u (%s)", l->address, l->port,
		    l->tls ? "tls" : "plain");
}

/* Does cl differ from the running listener of kind k? */
int
peer_listen_changed(const struct trackfused *env, enum peer_kind k,
    const struct config_listen *cl)
{
	const struct peer_listener	*l = env->listeners[k];

	if (l == NULL)
		return 1;
	return strcmp(l->address, cl->address) != 0 || l->port != cl->port ||
	    (l->tls != 0) != (cl->tls != 0);
}

/* Same sensors, in any order? */
static int
peer_same_sensors(const struct config_identity *a,
    const struct config_identity *b)
{
	unsigned	i;

	if (a->nsensors != b->nsensors)
		return 0;
	for (i = 0; i < a->nsensors; i++)
		if (!config_identity_has_sensor(b, a->sensors[i]))
			return 0;
	return 1;
}

/*
 * Called with the new config before it replaces the running one: every
 * connection that passed Hello points at its identity in ncfg, or is closed
 * if that identity is gone or changed.
 */
void
peer_reload(struct trackfused *env, const struct config *ncfg)
{
	const struct config_identity	*ni;
	struct peer			*p;

	TAILQ_FOREACH(p, &env->peers, entry) {
		if (p->ident == NULL)
			continue;
		ni = config_identity(ncfg, p->ident->id);
		if (p->state != PEER_READY) {
			p->ident = ni;
			continue;
		}
		if (ni == NULL)
			peer_close(p, TRACKFUSE__V1__ERROR_CODE__ERROR_AUTH,
			    "identity removed by reload");
		else if (ni->role != p->ident->role ||
		    strcmp(ni->nation, p->ident->nation) != 0 ||
		    !peer_same_sensors(ni, p->ident))
			peer_close(p, TRACKFUSE__V1__ERROR_CODE__ERROR_AUTH,
			    "identity changed by reload");
		p->ident = ni;
	}
}

/* Close every connection with Error{code, msg}. */
void
peer_close_all(struct trackfused *env, int code, const char *msg)
{
	struct peer	*p;

	TAILQ_FOREACH(p, &env->peers, entry)
		peer_close(p, code, "%s", msg);
}

/* Free every connection now, flushed or not (end of shutdown). */
void
peer_free_all(struct trackfused *env)
{
	int	stopping = env->stopping;

	env->stopping = 0;	/* no loopexit from peer_free */
	while (!TAILQ_EMPTY(&env->peers))
		peer_free(TAILQ_FIRST(&env->peers));
	env->stopping = stopping;
}
