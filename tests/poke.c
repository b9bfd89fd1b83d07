/*
 * tf-poke: a test-only raw peer that misbehaves on purpose.
 *
 * It connects to the daemon (mutual TLS with --certs DIR --id ID, TLS with
 * no client certificate with --no-cert, a client certificate of another CA
 * with --ca-dir DIR, or plain TCP with --plain), performs ONE named
 * misbehaviour (--send KIND) and reports on stdout, one line per event,
 * what the daemon did:
 *   tls ok | tls-error reason=...
 *   hello_ack daemon=NAME nation=XXX
 *   sent KIND bytes=N
 *   error code=ERROR_xxx message=...
 *   frame TYPE                      (any other frame)
 *   closed [reason=...]             the daemon closed the connection
 *   open                            still open after --wait ms
 * Judging the reaction is the calling script's job: tf-poke exits 0 when it
 * ran, 2 on misuse and 1 when it could not even connect.
 *
 * It is deliberately blocking and simple: one connection, poll(2) with a
 * deadline, frames built with protobuf-c and the trackfuse codec, and raw
 * bytes for the malformed ones.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "trackfuse/addr.h"
#include "trackfuse/codec.h"
#include "trackfuse/tls.h"
#include "trackfuse/track.h"
#include "trackfuse/wire.h"

#define POKE_SOFTWARE	"tf-poke " TF_VERSION
/* 2026-11-29T00:00:00Z: the default scenario's start. */
#define POKE_T0		1795910400000000000LL

struct poke {
	const char	*host;
	const char	*port;
	const char	*id;
	const char	*nation;
	const char	*claim;		/* id claimed in Hello (hello-mismatch) */
	const char	*certs;
	const char	*cadir;
	const char	*sensor;
	const char	*kind;
	int		 role;
	int		 plain;
	int		 nocert;
	int		 wait_ms;
	int64_t		 t_ns;
	uint32_t	 oversize;
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;
	struct evbuffer	*in;
	struct wire_arena *arena;
	int		 closed;
	int		 got_error;
};

/* Every misbehaviour tf-poke knows. */
static const char *poke_kinds[] = {
	"garbage", "garbage-first", "truncated", "oversize", "varint11",
	"wrong-msg", "report-before-hello", "nan", "inf", "bad-lat",
	"bad-enum", "nonpsd", "foreign-sensor", "foreign-label",
	"hello-mismatch", "version", "silent", "future", "second-hello",
	"good-report", "stall", NULL
};

/* Misbehaviours that happen before (or instead of) a proper Hello. */
static const char *poke_prehello[] = {
	"report-before-hello", "hello-mismatch", "silent", "version",
	"garbage-first", NULL
};

/* Print the usage text and exit. */
static void
poke_usage(void)
{
	fprintf(stderr,
	    "usage: tf-poke --send KIND [--connect HOST:PORT] [--plain]\n"
	    "               [--certs DIR] [--id ID] [--nation XXX]\n"
	    "               [--role feed|subscriber] [--no-cert] [--ca-dir DIR]\n"
	    "               [--claim ID] [--sensor ID] [--time-ns N]\n"
	    "               [--oversize BYTES] [--wait MS]\n"
	    "KIND: garbage truncated oversize varint11 wrong-msg\n"
	    "      report-before-hello nan inf bad-lat bad-enum nonpsd\n"
	    "      foreign-sensor foreign-label hello-mismatch version\n"
	    "      silent future second-hello good-report garbage-first\n"
	    "      stall (subscriber: Subscribe, then read nothing for --wait ms)\n");
	exit(2);
}

/* Milliseconds on a monotonic clock (deadlines only). */
static int64_t
poke_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is readable/writable or the deadline passes; 0 on ready. */
static int
poke_poll(struct poke *p, short ev, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		left;
	int		n;

	for (;;) {
		left = deadline - poke_now_ms();
		if (left <= 0)
			return -1;
		pfd.fd = p->fd;
		pfd.events = ev;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

/* Text of the last OpenSSL error, or the errno text. */
static const char *
poke_ssl_reason(void)
{
	static char	buf[256];
	unsigned long	e;

	if ((e = ERR_get_error()) == 0)
		return errno ? strerror(errno) : "unknown";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/* Print our own address: the daemon's log names us by it. */
static void
poke_print_local(struct poke *p)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	char			host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getsockname(p->fd, (struct sockaddr *)&ss, &len) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv,
	    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		printf("local %s:%s\n", host, serv);
}

/* TCP connect to host:port (blocking; loopback answers at once). */
static int
poke_tcp(struct poke *p)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen;
	char			err[256];
	int			one = 1;

	if (addr_resolve(p->host, p->port, &ss, &sslen, err,
	    sizeof(err)) == -1) {
		printf("connect-error reason=%s\n", err);
		return -1;
	}
	p->fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (p->fd != -1 && strcmp(p->kind, "stall") == 0) {
		/* A small window so that the daemon's side backs up quickly. */
		int small = 4096;
		setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	if (p->fd == -1 || connect(p->fd, (struct sockaddr *)&ss, sslen) == -1) {
		printf("connect-error reason=%s\n", strerror(errno));
		return -1;
	}
	poke_print_local(p);
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* A client context without a certificate (the --no-cert case). */
static SSL_CTX *
poke_ctx_nocert(const char *ca)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Build the client TLS context the options ask for. */
static int
poke_tls_ctx(struct poke *p)
{
	char ca[1024], cert[1024], key[1024], err[256];
	const char *dir = p->cadir != NULL ? p->cadir : p->certs;

	snprintf(ca, sizeof(ca), "%s/ca.pem", p->certs);
	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, p->id);
	snprintf(key, sizeof(key), "%s/%s.key", dir, p->id);
	if (p->nocert)
		p->ctx = poke_ctx_nocert(ca);
	else
		p->ctx = tls_client_ctx(ca, cert, key, err, sizeof(err));
	if (p->ctx == NULL) {
		printf("tls-error reason=%s\n", p->nocert ? poke_ssl_reason() :
		    err);
		return -1;
	}
	return 0;
}

/* TLS handshake over the connected socket, with a deadline. */
static int
poke_tls(struct poke *p)
{
	int64_t	deadline = poke_now_ms() + p->wait_ms;
	int	r, e;

	if (poke_tls_ctx(p) == -1)
		return -1;
	if ((p->ssl = tls_client_ssl(p->ctx, p->host)) == NULL) {
		printf("tls-error reason=%s\n", tls_error());
		return -1;
	}
	SSL_set_fd(p->ssl, p->fd);
	for (;;) {
		ERR_clear_error();
		if ((r = SSL_connect(p->ssl)) == 1)
			break;
		e = SSL_get_error(p->ssl, r);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
		    poke_poll(p, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
		    deadline) == -1) {
			printf("tls-error reason=%s\n", poke_ssl_reason());
			p->closed = 1;
			printf("closed reason=tls\n");
			return -1;
		}
	}
	printf("tls ok\n");
	return 0;
}

/* Send raw bytes (over TLS or plain TCP); -1 if the peer is gone. */
static int
poke_write(struct poke *p, const void *buf, size_t len)
{
	int64_t		deadline = poke_now_ms() + p->wait_ms;
	const uint8_t	*b = buf;
	ssize_t		n;
	int		e;

	while (len > 0) {
		if (p->ssl != NULL) {
			ERR_clear_error();
			n = SSL_write(p->ssl, b, (int)len);
			if (n <= 0) {
				e = SSL_get_error(p->ssl, (int)n);
				if ((e != SSL_ERROR_WANT_READ &&
				    e != SSL_ERROR_WANT_WRITE) ||
				    poke_poll(p, POLLOUT, deadline) == -1)
					return -1;
				continue;
			}
		} else if ((n = write(p->fd, b, len)) == -1) {
			if ((errno != EAGAIN && errno != EINTR) ||
			    poke_poll(p, POLLOUT, deadline) == -1)
				return -1;
			continue;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Frame and send one envelope built by the caller. */
static int
poke_send_env(struct poke *p, const Envelope *env)
{
	uint8_t	*buf;
	size_t	 len;
	int	 r;

	if ((buf = wire_pack_frame(env, &len)) == NULL)
		return -1;
	r = poke_write(p, buf, len);
	free(buf);
	return r;
}

/* Print one received frame the way the tests grep for it. */
static void
poke_print_frame(struct poke *p, const Envelope *env)
{
	const ProtobufCEnumValue *v;

	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_ERROR:
		v = protobuf_c_enum_descriptor_get_value(
		    &trackfuse__v1__error_code__descriptor, env->error->code);
		printf("error code=%s message=%s\n", v ? v->name : "?",
		    env->error->message);
		p->got_error = 1;
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_HELLO_ACK:
		printf("hello_ack daemon=%s nation=%s\n",
		    env->hello_ack->daemon, env->hello_ack->nation);
		break;
	default:
		printf("frame %s\n", wire_msg_name(env));
		break;
	}
}

/* Take whole frames off the input buffer; returns 1 if want was seen. */
static int
poke_frames(struct poke *p, int want)
{
	Envelope		*env;
	enum wire_status	 st;
	int			 seen = 0;

	for (;;) {
		st = wire_read_envelope(p->in, SIZE_MAX / 2, p->arena, &env);
		if (st == WIRE_NEED_MORE)
			break;
		if (st != WIRE_OK) {
			printf("bad-frame-from-daemon fault=%s\n",
			    wire_status_str(st));
			evbuffer_drain(p->in, evbuffer_get_length(p->in));
			break;
		}
		poke_print_frame(p, env);
		if ((int)env->msg_case == want)
			seen = 1;
		wire_arena_reset(p->arena);
	}
	return seen;
}

/* Read once what is there; 1 on data, 0 on nothing yet, -1 on close. */
static int
poke_read_some(struct poke *p)
{
	uint8_t	buf[16384];
	ssize_t	n;
	int	e;

	if (p->ssl != NULL) {
		ERR_clear_error();
		n = SSL_read(p->ssl, buf, sizeof(buf));
		if (n <= 0) {
			e = SSL_get_error(p->ssl, (int)n);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return 0;
			if (e == SSL_ERROR_ZERO_RETURN)
				printf("closed\n");
			else if (e == SSL_ERROR_SYSCALL && n == 0 &&
			    ERR_peek_error() == 0)
				printf("closed reason=eof-without-close-notify\n");
			else
				printf("closed reason=%s\n", e == SSL_ERROR_SSL ?
				    poke_ssl_reason() : strerror(errno));
			return -1;
		}
	} else if ((n = read(p->fd, buf, sizeof(buf))) <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n == 0)
			printf("closed\n");
		else
			printf("closed reason=%s\n", strerror(errno));
		return -1;
	}
	evbuffer_add(p->in, buf, (size_t)n);
	return 1;
}

/*
 * Read frames until the daemon closes, the deadline passes or (want >= 0)
 * a frame of that kind arrives. Returns 1 if want arrived, 0 otherwise.
 */
static int
poke_await(struct poke *p, int want, int ms)
{
	int64_t	deadline = poke_now_ms() + ms;
	int	r;

	while (!p->closed) {
		if ((p->ssl == NULL || SSL_pending(p->ssl) == 0) &&
		    poke_poll(p, POLLIN, deadline) == -1)
			return 0;
		while ((r = poke_read_some(p)) == 1)
			if (poke_frames(p, want) && want >= 0)
				return 1;
		if (r == -1) {
			poke_frames(p, want);
			p->closed = 1;
		}
	}
	return 0;
}

/* Send Hello (claiming --claim if set, protocol version v). */
static int
poke_hello(struct poke *p, uint32_t version)
{
	Trackfuse__V1__Hello	h = TRACKFUSE__V1__HELLO__INIT;
	Envelope		env = TRACKFUSE__V1__ENVELOPE__INIT;

	h.protocol_version = version;
	h.role = p->role;
	h.id = (char *)(p->claim != NULL ? p->claim : p->id);
	h.nation = (char *)p->nation;
	h.software = POKE_SOFTWARE;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_HELLO;
	env.hello = &h;
	return poke_send_env(p, &env);
}

/* A valid report from our sensor: a friendly airliner over the East Sea. */
static void
poke_good_report(struct poke *p, struct tf_report *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	snprintf(r->sensor, sizeof(r->sensor), "%s",
	    p->sensor != NULL ? p->sensor : p->id);
	r->local_track = 4242;
	r->t_ns = p->t_ns;
	r->lat_deg = 37.5;
	r->lon_deg = 131.0;
	r->alt_m = 10000.0;
	r->vel[0] = 200.0;
	r->vel[1] = 50.0;
	for (i = 0; i < 6; i++)
		r->cov[tf_cov_idx(i, i)] = i < 3 ? 2500.0 : 25.0;
	r->cat = TF_CAT_AIR;
	r->ident = TF_IDENT_NEUTRAL;
	r->quality = 0.8f;
	snprintf(r->label.owner, sizeof(r->label.owner), "%s", p->nation);
	r->label.cls = TF_CLASS_SECRET;
	r->label.nrel = 1;
	snprintf(r->label.rel[0], sizeof(r->label.rel[0]), "%s", p->nation);
}

/* Apply the named fault to an encoded report; -1 if kind is not one. */
static int
poke_spoil_report(struct poke *p, struct codec_report_msg *m)
{
	const char *k = p->kind;

	if (strcmp(k, "nan") == 0)
		m->pos.lat_deg = NAN;
	else if (strcmp(k, "inf") == 0)
		m->pos.alt_m = INFINITY;
	else if (strcmp(k, "bad-lat") == 0)
		m->pos.lat_deg = 91.5;
	else if (strcmp(k, "bad-enum") == 0)
		m->rep.category = 42;
	else if (strcmp(k, "nonpsd") == 0)
		m->cov[tf_cov_idx(0, 1)] = 5.0 * sqrt(2500.0 * 2500.0);
	else if (strcmp(k, "foreign-label") == 0)
		m->lab.owner = strcmp(p->nation, "KOR") ? "KOR" : "JPN";
	else if (strcmp(k, "future") == 0)
		m->rep.time_ns = p->t_ns + 3600LL * 1000000000LL;
	else if (strcmp(k, "foreign-sensor") != 0 &&
	    strcmp(k, "good-report") != 0 &&
	    strcmp(k, "report-before-hello") != 0)
		return -1;
	return 0;
}

/* Send one TrackReport, spoiled as --send asks. */
static int
poke_report(struct poke *p)
{
	struct codec_report_msg	m;
	struct tf_report	r;

	poke_good_report(p, &r);
	if (strcmp(p->kind, "foreign-sensor") == 0 && p->sensor == NULL)
		snprintf(r.sensor, sizeof(r.sensor), "%s",
		    strcmp(p->id, "KOR-AEGIS-1") ? "KOR-AEGIS-1" : "JPN-AEGIS-1");
	codec_report_encode(&r, &m);
	if (strcmp(p->kind, "wrong-msg") != 0 && poke_spoil_report(p, &m) == -1)
		return -1;
	if (strcmp(p->kind, "future") == 0) {
		/* A good report first sets the daemon's watermark. */
		m.rep.time_ns = p->t_ns;
		if (poke_send_env(p, &m.env) == -1)
			return -1;
		m.rep.time_ns = p->t_ns + 3600LL * 1000000000LL;
	}
	return poke_send_env(p, &m.env);
}

/* Send a message the role may not send (Subscribe from a feed, etc.). */
static int
poke_wrong_msg(struct poke *p)
{
	Trackfuse__V1__Subscribe	sb = TRACKFUSE__V1__SUBSCRIBE__INIT;
	Envelope			env = TRACKFUSE__V1__ENVELOPE__INIT;

	if (p->role == TRACKFUSE__V1__ROLE__ROLE_SUBSCRIBER)
		return poke_report(p);
	sb.snapshot = 1;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_SUBSCRIBE;
	env.subscribe = &sb;
	return poke_send_env(p, &env);
}

/* Raw malformed bytes: garbage, truncated, oversize, varint11. */
static int
poke_raw(struct poke *p, size_t *sent)
{
	uint8_t	buf[64];
	size_t	n = 0;

	memset(buf, 0, sizeof(buf));
	if (strcmp(p->kind, "garbage") == 0 ||
	    strcmp(p->kind, "garbage-first") == 0) {
		/* A frame of 20 bytes that cannot be an Envelope. */
		buf[0] = 20;
		memset(buf + 1, 0xff, 20);
		n = 21;
	} else if (strcmp(p->kind, "truncated") == 0) {
		/* Announces 100 bytes, sends 10, then goes quiet. */
		buf[0] = 100;
		memset(buf + 1, 0x08, 10);
		n = 11;
	} else if (strcmp(p->kind, "oversize") == 0) {
		n = wire_varint_encode(p->oversize, buf);
		memset(buf + n, 0x08, 8);
		n += 8;
	} else if (strcmp(p->kind, "varint11") == 0) {
		memset(buf, 0x80, 10);
		buf[10] = 0x01;
		n = 11;
	} else
		return -1;
	*sent = n;
	return poke_write(p, buf, n);
}

/* A subscriber that subscribes and then reads nothing for --wait ms. */
static int
poke_stall(struct poke *p)
{
	Trackfuse__V1__Subscribe	sb = TRACKFUSE__V1__SUBSCRIBE__INIT;
	Envelope			env = TRACKFUSE__V1__ENVELOPE__INIT;
	struct timespec			ts;

	sb.snapshot = 1;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_SUBSCRIBE;
	env.subscribe = &sb;
	if (poke_send_env(p, &env) == -1)
		return -1;
	printf("stalling ms=%d\n", p->wait_ms);
	ts.tv_sec = p->wait_ms / 1000;
	ts.tv_nsec = (long)(p->wait_ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	p->closed = 1;	/* we never read again: done */
	printf("stalled\n");
	return 0;
}

/* Perform the misbehaviour after a successful Hello. */
static int
poke_act(struct poke *p)
{
	size_t	n = 0;
	int	r;

	if (strcmp(p->kind, "wrong-msg") == 0)
		r = poke_wrong_msg(p);
	else if (strcmp(p->kind, "stall") == 0)
		return poke_stall(p);
	else if (strcmp(p->kind, "second-hello") == 0)
		r = poke_hello(p, TF_PROTOCOL_VERSION);
	else if ((r = poke_raw(p, &n)) == -1 && n == 0)
		r = poke_report(p);
	if (r == -1) {
		printf("send-failed kind=%s\n", p->kind);
		return -1;
	}
	if (n > 0)
		printf("sent %s bytes=%zu\n", p->kind, n);
	else
		printf("sent %s\n", p->kind);
	return 0;
}

/* 1 if kind is in the NULL-terminated list. */
static int
poke_in(const char **list, const char *kind)
{
	int i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(kind, list[i]) == 0)
			return 1;
	return 0;
}

/* 1 if the kind misbehaves before or instead of a correct Hello. */
static int
poke_is_prehello(const char *kind)
{
	return poke_in(poke_prehello, kind);
}

/* The conversation: Hello (unless the fault is before it), fault, await. */
static void
poke_run(struct poke *p)
{
	size_t n = 0;

	if (strcmp(p->kind, "report-before-hello") == 0)
		poke_report(p);
	else if (strcmp(p->kind, "garbage-first") == 0)
		poke_raw(p, &n);
	else if (strcmp(p->kind, "version") == 0)
		poke_hello(p, TF_PROTOCOL_VERSION + 1);
	else if (strcmp(p->kind, "hello-mismatch") == 0)
		poke_hello(p, TF_PROTOCOL_VERSION);
	else if (!poke_is_prehello(p->kind)) {
		poke_hello(p, TF_PROTOCOL_VERSION);
		if (!poke_await(p, TRACKFUSE__V1__ENVELOPE__MSG_HELLO_ACK,
		    p->wait_ms)) {
			if (!p->closed)
				printf("open\n");
			return;
		}
		if (poke_act(p) == -1) {
			poke_await(p, -1, p->wait_ms);
			return;
		}
	}
	if (poke_is_prehello(p->kind) && strcmp(p->kind, "silent") != 0)
		printf("sent %s\n", p->kind);
	poke_await(p, -1, p->wait_ms);
	if (!p->closed)
		printf("open\n");
}

/* Guess nation and role from an id when not given: CC-XXX, XXX-... */
static void
poke_defaults(struct poke *p)
{
	static char nation[TF_NATION_LEN];

	if (p->nation == NULL) {
		if (strncmp(p->id, "CC-", 3) == 0)
			snprintf(nation, sizeof(nation), "%.3s", p->id + 3);
		else
			snprintf(nation, sizeof(nation), "%.3s", p->id);
		p->nation = nation;
	}
	if (p->role == 0)
		p->role = strncmp(p->id, "CC-", 3) == 0 ?
		    TRACKFUSE__V1__ROLE__ROLE_SUBSCRIBER :
		    TRACKFUSE__V1__ROLE__ROLE_FEED;
}

/* Split HOST:PORT. */
static void
poke_connect_opt(struct poke *p, char *arg)
{
	static char	host[256], port[16];

	if (addr_split(arg, host, sizeof(host), port, sizeof(port)) == -1)
		poke_usage();
	p->host = host;
	p->port = port;
}

/* Parse the command line. */
static void
poke_options(struct poke *p, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "certs", required_argument, NULL, 'C' },
		{ "id", required_argument, NULL, 'i' },
		{ "nation", required_argument, NULL, 'n' },
		{ "role", required_argument, NULL, 'r' },
		{ "plain", no_argument, NULL, 'P' },
		{ "no-cert", no_argument, NULL, 'N' },
		{ "ca-dir", required_argument, NULL, 'A' },
		{ "claim", required_argument, NULL, 'L' },
		{ "sensor", required_argument, NULL, 's' },
		{ "send", required_argument, NULL, 'S' },
		{ "time-ns", required_argument, NULL, 'T' },
		{ "oversize", required_argument, NULL, 'O' },
		{ "wait", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': poke_connect_opt(p, optarg); break;
		case 'C': p->certs = optarg; break;
		case 'i': p->id = optarg; break;
		case 'n': p->nation = optarg; break;
		case 'r':
			p->role = strcmp(optarg, "subscriber") == 0 ?
			    TRACKFUSE__V1__ROLE__ROLE_SUBSCRIBER :
			    TRACKFUSE__V1__ROLE__ROLE_FEED;
			break;
		case 'P': p->plain = 1; break;
		case 'N': p->nocert = 1; break;
		case 'A': p->cadir = optarg; break;
		case 'L': p->claim = optarg; break;
		case 's': p->sensor = optarg; break;
		case 'S': p->kind = optarg; break;
		case 'T': p->t_ns = strtoll(optarg, NULL, 10); break;
		case 'O': p->oversize = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'W': p->wait_ms = atoi(optarg); break;
		default: poke_usage();
		}
	}
	if (optind != argc || p->kind == NULL || p->id == NULL ||
	    (!p->plain && p->certs == NULL) || p->wait_ms <= 0 ||
	    !poke_in(poke_kinds, p->kind))
		poke_usage();
}

/* Connect, misbehave once, print what the daemon did. */
int
main(int argc, char **argv)
{
	static struct poke p;

	p.host = "127.0.0.1";
	p.port = "7401";
	p.id = "USA-AEGIS-1";
	p.wait_ms = 3000;
	p.t_ns = POKE_T0 + 1000000000LL;
	p.oversize = 16 * 1024 * 1024;
	p.fd = -1;
	poke_options(&p, argc, argv);
	poke_defaults(&p);
	if (strcmp(p.kind, "hello-mismatch") == 0 && p.claim == NULL)
		p.claim = strcmp(p.id, "USA-SBIRS-1") ? "USA-SBIRS-1" :
		    "USA-E2D-1";
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if ((p.in = evbuffer_new()) == NULL ||
	    (p.arena = wire_arena_new(65536)) == NULL)
		return 1;
	if (poke_tcp(&p) == -1)
		return 1;
	if (!p.plain && poke_tls(&p) == -1)
		return 0;
	poke_run(&p);
	if (p.ssl != NULL)
		SSL_free(p.ssl);
	if (p.ctx != NULL)
		SSL_CTX_free(p.ctx);
	close(p.fd);
	evbuffer_free(p.in);
	wire_arena_free(p.arena);
	return 0;
}
