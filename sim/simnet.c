/*
 * The simulators' network side: one (mutual TLS) connection per sensor,
 * Hello/HelloAck, a bounded per-sensor queue of framed messages, pacing
 * (real time or as fast as the daemon reads), reconnects with backoff,
 * and a clean close once everything has been written.
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "trackfuse/addr.h"
#include "trackfuse/log.h"
#include "trackfuse/tls.h"
#include "trackfuse/wire.h"
#include "sim.h"

/*
 * Queue policy: frames wait in a per-sensor queue until the daemon has
 * acknowledged the Hello and the socket's output buffer has room. In real
 * time the queue keeps the newest SIMNET_QUEUE_MAX frames (oldest dropped
 * and counted); in --fast mode generation pauses at half of that instead.
 */
#define SIMNET_QUEUE_MAX	8192
#define SIMNET_OUTBUF		(256 * 1024)
#define SIMNET_TICK_MS		20
#define SIMNET_FAST_STEP_MS	1000
#define SIMNET_FAST_BURST	20	/* steps per callback before yielding */
#define SIMNET_BACKOFF_MIN	0.5
#define SIMNET_BACKOFF_MAX	8.0
#define SIMNET_FLUSH_TIMEOUT_MS	30000
#define SIMNET_CLOSE_TIMEOUT_MS	3000
#define SIMNET_ARENA		(64 * 1024)

struct simnet_frame {
	uint8_t		*buf;
	size_t		 len;
};

struct simnet;

struct simnet_conn {
	struct simnet			*net;
	const struct sim_sensor_cfg	*cfg;
	SSL_CTX				*ctx;
	struct bufferevent		*bev;
	struct wire_arena		*arena;
	struct event			*retry_ev;
	double				 backoff_s;
	int				 connected;
	int				 acked;
	int				 closed;	/* finished, for good */
	int				 refused;	/* the daemon said never */
	struct simnet_frame		*q;
	size_t				 qhead, qlen, qcap;
	uint64_t			 dropped;
	uint64_t			 attempts;
};

struct simnet {
	struct event_base		*base;
	struct sensor_world		*w;
	const struct simnet_opts	*o;
	struct sockaddr_storage		 ss;
	int				 sslen;
	char				 peer[128];
	struct simnet_conn		*c;
	unsigned			 n;
	struct event			*tick_ev;
	struct event			*gen_ev;
	struct event			*sig_ev[2];
	int64_t				 t0_ms;
	int				 done;		/* all frames generated */
	int64_t				 done_ms;
	int				 closing;
	int64_t				 closing_ms;
	int				 rc;
};

static void	simnet_connect(struct simnet_conn *);
static void	simnet_check_finish(struct simnet *);

/* Monotonic wall clock in ms: used for pacing only, never for event time. */
static int64_t
simnet_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append one framed Envelope to a record file. */
int
simnet_record(FILE *f, const Envelope *env)
{
	uint8_t	*buf;
	size_t	 len;
	int	 rv = 0;

	if ((buf = wire_pack_frame(env, &len)) == NULL)
		return -1;
	if (fwrite(buf, 1, len, f) != len)
		rv = -1;
	free(buf);
	return rv;
}

/* Append a frame to a connection's queue, dropping the oldest when full. */
static void
simnet_queue_push(struct simnet_conn *c, uint8_t *buf, size_t len)
{
	struct simnet_frame	*nq;
	size_t			 i;

	if (c->refused) {
		free(buf);	/* nobody will take it: recorded only */
		return;
	}
	if (c->qlen >= SIMNET_QUEUE_MAX && !c->net->o->fast) {
		free(c->q[c->qhead].buf);
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
		if (c->dropped++ == 0)
			log_warnx("simnet: queue full sensor=%s policy=drop-"
			    "oldest", c->cfg->id);
	}
	if (c->qlen == c->qcap) {
		size_t ncap = c->qcap ? c->qcap * 2 : 256;

		if ((nq = calloc(ncap, sizeof(*nq))) == NULL)
			fatal("simnet: queue");
		for (i = 0; i < c->qlen; i++)
			nq[i] = c->q[(c->qhead + i) % c->qcap];
		free(c->q);
		c->q = nq;
		c->qcap = ncap;
		c->qhead = 0;
	}
	c->q[(c->qhead + c->qlen) % c->qcap] = (struct simnet_frame){ buf, len };
	c->qlen++;
}

/* Move queued frames into the socket while there is room. */
static void
simnet_flush(struct simnet_conn *c)
{
	struct evbuffer		*out;
	struct simnet_frame	*f;

	if (c->bev == NULL || !c->acked)
		return;
	out = bufferevent_get_output(c->bev);
	while (c->qlen > 0 && evbuffer_get_length(out) < SIMNET_OUTBUF) {
		f = &c->q[c->qhead];
		if (evbuffer_add(out, f->buf, f->len) == -1)
			fatal("simnet: evbuffer_add");
		free(f->buf);
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
	}
}

/* World callback: record the frame and queue it for its sensor. */
static void
simnet_emit(void *arg, unsigned idx, int64_t due_ms, const Envelope *env)
{
	struct simnet	*net = arg;
	uint8_t		*buf;
	size_t		 len;

	(void)due_ms;
	if ((buf = wire_pack_frame(env, &len)) == NULL)
		fatalx("simnet: cannot frame %s", wire_msg_name(env));
	if (net->o->record != NULL &&
	    fwrite(buf, 1, len, net->o->record) != len)
		fatal("simnet: record");
	simnet_queue_push(&net->c[idx], buf, len);
}

/* Drop a connection's socket; frames already handed to it are lost. */
static void
simnet_drop_bev(struct simnet_conn *c)
{
	if (c->bev == NULL)
		return;
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->connected = 0;
	c->acked = 0;
}

/* Schedule the next connection attempt with exponential backoff. */
static void
simnet_retry(struct simnet_conn *c, const char *why)
{
	struct timeval	tv;

	simnet_drop_bev(c);
	if (c->net->closing)
		return;
	log_warnx("simnet: %s sensor=%s peer=%s retry_in=%.1fs", why,
	    c->cfg->id, c->net->peer, c->backoff_s);
	tv.tv_sec = (time_t)c->backoff_s;
	tv.tv_usec = (suseconds_t)((c->backoff_s - (double)tv.tv_sec) * 1e6);
	evtimer_add(c->retry_ev, &tv);
	c->backoff_s *= 2.0;
	if (c->backoff_s > SIMNET_BACKOFF_MAX)
		c->backoff_s = SIMNET_BACKOFF_MAX;
}

/*
 * Whether an error before HelloAck will come back on every attempt: the
 * identity, its sensor or our protocol version is not accepted. Retrying
 * would only stall a --fast run waiting for this sensor forever.
 */
static int
simnet_permanent(int code)
{
	return code == TRACKFUSE__V1__ERROR_CODE__ERROR_AUTH ||
	    code == TRACKFUSE__V1__ERROR_CODE__ERROR_FORBIDDEN ||
	    code == TRACKFUSE__V1__ERROR_CODE__ERROR_VERSION;
}

/*
 * Give a refused sensor up: no more attempts, its queue dropped (the
 * recording keeps its frames), the run ends in failure; the others go on.
 */
static void
simnet_refused(struct simnet_conn *c)
{
	log_warnx("simnet: refused for good sensor=%s peer=%s, not retrying",
	    c->cfg->id, c->net->peer);
	c->refused = 1;
	c->net->rc = 1;
	while (c->qlen > 0) {
		free(c->q[c->qhead].buf);
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
	}
}

/* Send our Hello: the daemon still judges us by our certificate. */
static void
simnet_hello(struct simnet_conn *c)
{
	Trackfuse__V1__Hello	h = TRACKFUSE__V1__HELLO__INIT;
	Envelope		env = TRACKFUSE__V1__ENVELOPE__INIT;

	h.protocol_version = TF_PROTOCOL_VERSION;
	h.role = TRACKFUSE__V1__ROLE__ROLE_FEED;
	h.id = c->cfg->id;
	h.nation = c->cfg->nation;
	h.software = (char *)SIM_SOFTWARE;
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_HELLO;
	env.hello = &h;
	if (wire_write_envelope(bufferevent_get_output(c->bev), &env) == -1)
		fatalx("simnet: cannot frame hello");
}

/* Handle one message from the daemon. */
static void
simnet_message(struct simnet_conn *c, const Envelope *env)
{
	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_HELLO_ACK:
		log_info("simnet: accepted sensor=%s daemon=%s nation=%s",
		    c->cfg->id, env->hello_ack->daemon, env->hello_ack->nation);
		c->acked = 1;
		c->backoff_s = SIMNET_BACKOFF_MIN;
		simnet_flush(c);
		if (c->net->o->fast && !c->net->done)
			event_active(c->net->gen_ev, EV_TIMEOUT, 0);
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_ERROR:
		log_warnx("simnet: error from daemon sensor=%s code=%s "
		    "message=\"%s\"", c->cfg->id,
		    wire_error_name(env->error->code), env->error->message);
		if (!c->acked && simnet_permanent(env->error->code))
			simnet_refused(c);
		break;
	default:
		log_debug("simnet: ignored sensor=%s msg=%s", c->cfg->id,
		    wire_msg_name(env));
		break;
	}
}

/* Read callback: frames from the daemon (HelloAck, Error). */
static void
simnet_read_cb(struct bufferevent *bev, void *arg)
{
	struct simnet_conn	*c = arg;
	Envelope		*env;
	enum wire_status	 ws;

	for (;;) {
		ws = wire_read_envelope(bufferevent_get_input(bev),
		    WIRE_DEFAULT_MAX_FRAME, c->arena, &env);
		if (ws == WIRE_NEED_MORE)
			break;
		if (ws != WIRE_OK) {
			log_warnx("simnet: bad frame from daemon sensor=%s "
			    "reason=%s", c->cfg->id, wire_status_str(ws));
			wire_arena_reset(c->arena);
			simnet_retry(c, "dropped");
			return;
		}
		simnet_message(c, env);
		wire_arena_reset(c->arena);
	}
	if (c->net->closing)
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
}

/* Write callback: the output buffer drained below the low watermark. */
static void
simnet_write_cb(struct bufferevent *bev, void *arg)
{
	struct simnet_conn	*c = arg;

	(void)bev;
	simnet_flush(c);
	if (c->net->o->fast && !c->net->done)
		event_active(c->net->gen_ev, EV_TIMEOUT, 0);
	simnet_check_finish(c->net);
}

/* Connected, end of stream or error. */
static void
simnet_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct simnet_conn	*c = arg;
	char			 why[160];
	unsigned long		 e;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		log_info("simnet: connected sensor=%s nation=%s peer=%s",
		    c->cfg->id, c->cfg->nation, c->net->peer);
		c->connected = 1;
		simnet_hello(c);
		return;
	}
	if (c->net->closing || c->refused) {
		simnet_drop_bev(c);
		c->closed = 1;
		simnet_check_finish(c->net);
		return;
	}
	if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "closed by daemon");
	else if ((e = bufferevent_get_openssl_error(c->bev)) != 0)
		snprintf(why, sizeof(why), "tls error (%s)",
		    ERR_reason_error_string(e) ? ERR_reason_error_string(e) :
		    "unknown");
	else
		snprintf(why, sizeof(why), "connection error (%s)",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	if (!c->connected) {
		log_warnx("simnet: connect failed sensor=%s peer=%s "
		    "reason=\"%s\"", c->cfg->id, c->net->peer, why);
		simnet_retry(c, "will retry");
		return;
	}
	log_warnx("simnet: disconnected sensor=%s peer=%s reason=\"%s\" "
	    "unsent_bytes=%zu", c->cfg->id, c->net->peer, why,
	    evbuffer_get_length(bufferevent_get_output(c->bev)));
	simnet_retry(c, "reconnecting");
}

/* Open a (TLS) connection for one sensor. */
static void
simnet_connect(struct simnet_conn *c)
{
	struct simnet	*net = c->net;
	SSL		*ssl;
	int		 opt = BEV_OPT_CLOSE_ON_FREE;

	c->attempts++;
	log_debug("simnet: connecting sensor=%s peer=%s attempt=%llu",
	    c->cfg->id, net->peer, (unsigned long long)c->attempts);
	if (net->o->plain)
		c->bev = bufferevent_socket_new(net->base, -1, opt);
	else {
		if ((ssl = tls_client_ssl(c->ctx, net->o->host)) == NULL)
			fatalx("simnet: tls_client_ssl: %s", tls_error());
		c->bev = bufferevent_openssl_socket_new(net->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, opt);
		if (c->bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	}
	if (c->bev == NULL)
		fatalx("simnet: cannot create bufferevent");
	bufferevent_setcb(c->bev, simnet_read_cb, simnet_write_cb,
	    simnet_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, SIMNET_OUTBUF / 2, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&net->ss,
	    net->sslen) == -1)
		simnet_retry(c, "connect failed");
}

/* Retry timer. */
static void
simnet_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	simnet_connect(arg);
}

/* Start closing every connection cleanly (close_notify / FIN). */
static void
simnet_close_all(struct simnet *net)
{
	struct simnet_conn	*c;
	SSL			*ssl;
	unsigned		 i;

	net->closing = 1;
	net->closing_ms = simnet_mono_ms();
	for (i = 0; i < net->n; i++) {
		c = &net->c[i];
		evtimer_del(c->retry_ev);
		if (c->bev == NULL) {
			c->closed = 1;
			continue;
		}
		if (!net->o->plain &&
		    (ssl = bufferevent_openssl_get_ssl(c->bev)) != NULL)
			SSL_shutdown(ssl);
		shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	}
	log_info("simnet: closing connections=%u", net->n);
}

/* Everything written and acknowledged? Then close; closed? Then stop. */
static void
simnet_check_finish(struct simnet *net)
{
	struct simnet_conn	*c;
	unsigned		 i, nclosed = 0;

	if (!net->done)
		return;
	if (!net->closing) {
		for (i = 0; i < net->n; i++) {
			c = &net->c[i];
			if (c->refused)
				continue;
			if (c->qlen > 0 || c->bev == NULL || !c->acked ||
			    evbuffer_get_length(bufferevent_get_output(c->bev)))
				return;
		}
		simnet_close_all(net);
	}
	for (i = 0; i < net->n; i++)
		nclosed += net->c[i].closed;
	if (nclosed == net->n)
		event_base_loopexit(net->base, NULL);
}

/* Flush every connection. */
static void
simnet_flush_all(struct simnet *net)
{
	unsigned	i;

	for (i = 0; i < net->n; i++)
		simnet_flush(&net->c[i]);
}

/* Mark generation complete. */
static void
simnet_set_done(struct simnet *net)
{
	net->done = 1;
	net->done_ms = simnet_mono_ms();
	log_info("simnet: all frames generated sim_time=%.1fs",
	    (double)sensor_world_now(net->w) / 1000.0);
}

/* --fast: generate while every queue has room, then wait for writes. */
static void
simnet_gen_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct simnet	*net = arg;
	unsigned	 i, step;

	(void)fd;
	(void)ev;
	for (step = 0; step < SIMNET_FAST_BURST && !net->done; step++) {
		for (i = 0; i < net->n; i++)
			if (net->c[i].qlen >= SIMNET_QUEUE_MAX / 2)
				return;		/* a write callback resumes us */
		if (sensor_world_run(net->w, sensor_world_now(net->w) +
		    SIMNET_FAST_STEP_MS, simnet_emit, net, net->o->truth))
			simnet_set_done(net);
		simnet_flush_all(net);
	}
	if (!net->done)
		event_active(net->gen_ev, EV_TIMEOUT, 0);
	simnet_check_finish(net);
}

/* Periodic tick: real-time pacing, and the give-up timers at the end. */
static void
simnet_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct simnet	*net = arg;
	int64_t		 now = simnet_mono_ms();

	(void)fd;
	(void)ev;
	if (!net->o->fast && !net->done) {
		if (sensor_world_run(net->w, now - net->t0_ms, simnet_emit,
		    net, net->o->truth))
			simnet_set_done(net);
		simnet_flush_all(net);
	}
	if (net->done && !net->closing &&
	    now - net->done_ms > SIMNET_FLUSH_TIMEOUT_MS) {
		log_warnx("simnet: could not deliver everything within %ds, "
		    "giving up", SIMNET_FLUSH_TIMEOUT_MS / 1000);
		net->rc = 1;
		simnet_close_all(net);
	}
	if (net->closing && now - net->closing_ms > SIMNET_CLOSE_TIMEOUT_MS)
		event_base_loopexit(net->base, NULL);
	simnet_check_finish(net);
}

/* SIGINT/SIGTERM: stop now. */
static void
simnet_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct simnet	*net = arg;

	(void)ev;
	log_info("simnet: signal %d, stopping", (int)sig);
	net->rc = 1;
	event_base_loopexit(net->base, NULL);
}

/* Resolve host:port once; every sensor connects to the same daemon. */
static int
simnet_resolve(struct simnet *net)
{
	socklen_t	len;
	char		err[256];

	if (addr_resolve(net->o->host, net->o->port, &net->ss, &len, err,
	    sizeof(err)) == -1) {
		log_warnx("simnet: %s", err);
		return -1;
	}
	net->sslen = (int)len;
	snprintf(net->peer, sizeof(net->peer), "%s:%s", net->o->host,
	    net->o->port);
	return 0;
}

/* Set up one sensor's connection state and TLS context. */
static int
simnet_conn_init(struct simnet *net, unsigned i)
{
	struct simnet_conn	*c = &net->c[i];
	char			 ca[1024], cert[1024], key[1024], err[256];

	c->net = net;
	c->cfg = sensor_world_sensor(net->w, i);
	c->backoff_s = SIMNET_BACKOFF_MIN;
	if ((c->arena = wire_arena_new(SIMNET_ARENA)) == NULL ||
	    (c->retry_ev = evtimer_new(net->base, simnet_retry_cb, c)) == NULL)
		fatalx("simnet: out of memory");
	if (net->o->plain)
		return 0;
	snprintf(ca, sizeof(ca), "%s/ca.pem", net->o->certs);
	snprintf(cert, sizeof(cert), "%s/%s.pem", net->o->certs, c->cfg->id);
	snprintf(key, sizeof(key), "%s/%s.key", net->o->certs, c->cfg->id);
	if ((c->ctx = tls_client_ctx(ca, cert, key, err, sizeof(err))) ==
	    NULL) {
		log_warnx("simnet: tls sensor=%s: %s", c->cfg->id, err);
		return -1;
	}
	return 0;
}

/* Free everything simnet_run() set up. */
static void
simnet_cleanup(struct simnet *net)
{
	struct simnet_conn	*c;
	unsigned		 i;

	for (i = 0; net->c != NULL && i < net->n; i++) {
		c = &net->c[i];
		simnet_drop_bev(c);
		while (c->qlen > 0) {
			free(c->q[c->qhead].buf);
			c->qhead = (c->qhead + 1) % c->qcap;
			c->qlen--;
		}
		free(c->q);
		if (c->retry_ev != NULL)
			event_free(c->retry_ev);
		if (c->arena != NULL)
			wire_arena_free(c->arena);
		if (c->ctx != NULL)
			SSL_CTX_free(c->ctx);
		if (c->dropped > 0)
			log_warnx("simnet: sensor=%s dropped_frames=%llu",
			    c->cfg->id, (unsigned long long)c->dropped);
	}
	free(net->c);
	if (net->tick_ev != NULL)
		event_free(net->tick_ev);
	if (net->gen_ev != NULL)
		event_free(net->gen_ev);
	for (i = 0; i < 2; i++)
		if (net->sig_ev[i] != NULL)
			event_free(net->sig_ev[i]);
	if (net->base != NULL)
		event_base_free(net->base);
}

/* Create the loop's timers and signal events. */
static void
simnet_events(struct simnet *net)
{
	struct timeval	tick = { 0, SIMNET_TICK_MS * 1000 };

	net->tick_ev = event_new(net->base, -1, EV_PERSIST, simnet_tick_cb,
	    net);
	net->gen_ev = event_new(net->base, -1, 0, simnet_gen_cb, net);
	net->sig_ev[0] = evsignal_new(net->base, SIGINT, simnet_signal_cb,
	    net);
	net->sig_ev[1] = evsignal_new(net->base, SIGTERM, simnet_signal_cb,
	    net);
	if (net->tick_ev == NULL || net->gen_ev == NULL ||
	    net->sig_ev[0] == NULL || net->sig_ev[1] == NULL)
		fatalx("simnet: out of memory");
	evtimer_add(net->tick_ev, &tick);
	evsignal_add(net->sig_ev[0], NULL);
	evsignal_add(net->sig_ev[1], NULL);
	if (net->o->fast)
		event_active(net->gen_ev, EV_TIMEOUT, 0);
}

/* Run the world against the daemon; 0 when everything was delivered. */
int
simnet_run(struct sensor_world *w, const struct simnet_opts *o)
{
	struct simnet	net;
	unsigned	i;

	memset(&net, 0, sizeof(net));
	net.w = w;
	net.o = o;
	net.n = sensor_world_count(w);
	if ((net.base = event_base_new()) == NULL ||
	    (net.c = calloc(net.n, sizeof(*net.c))) == NULL)
		fatalx("simnet: out of memory");
	if (simnet_resolve(&net) == -1) {
		simnet_cleanup(&net);
		return -1;
	}
	for (i = 0; i < net.n; i++)
		if (simnet_conn_init(&net, i) == -1) {
			simnet_cleanup(&net);
			return -1;
		}
	simnet_events(&net);
	net.t0_ms = simnet_mono_ms();
	for (i = 0; i < net.n; i++)
		simnet_connect(&net.c[i]);
	event_base_dispatch(net.base);
	if (!net.done || !net.closing)
		net.rc = 1;
	simnet_cleanup(&net);
	return net.rc == 0 ? 0 : -1;
}
