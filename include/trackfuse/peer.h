/*
 * Connections of both listeners (feeds and subscribers): accept, TLS,
 * Hello, framing, timeouts and orderly close. Also the daemon-wide state
 * that main.c owns and the other daemon modules share.
 */
#ifndef TRACKFUSE_PEER_H
#define TRACKFUSE_PEER_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "trackfuse/config.h"
#include "trackfuse/wire.h"

struct event;
struct event_base;
struct corr;
struct feed;
struct publish;
struct release;
struct audit;
struct peer;
struct peer_listener;

enum peer_kind {
	PEER_FEED = 0,		/* the feeds listener */
	PEER_SUBSCRIBER,	/* the subscribers listener */
	PEER_NKINDS
};

/* Faults counted by kind; each closes the connection. */
enum peer_fault {
	PEER_FAULT_TLS = 0,
	PEER_FAULT_TIMEOUT,
	PEER_FAULT_AUTH,
	PEER_FAULT_VERSION,
	PEER_FAULT_FRAME,
	PEER_FAULT_PROTOCOL,
	PEER_FAULT_INVALID,
	PEER_FAULT_FORBIDDEN,
	PEER_FAULT_OVERLOAD,
	PEER_FAULT_REFUSED,	/* over max_feeds/max_subscribers at accept */
	PEER_FAULT_MAX
};

struct peer_stats {
	uint64_t	faults[PEER_FAULT_MAX];
	uint64_t	accepted;
	uint64_t	last_reports;	/* feed reports at the last stats line */
	double		last_time;	/* wall clock of the last stats line, s */
	double		last_bias;	/* wall clock of the last bias lines, s */
};

TAILQ_HEAD(peer_head, peer);

/* The running daemon; main.c owns it. */
struct trackfused {
	struct event_base	*base;
	char			*cfgpath;
	struct config		*cfg;
	SSL_CTX			*ssl_ctx;	/* NULL if no listener uses TLS */
	struct corr		*corr;
	struct release		*release;
	struct publish		*publish;
	struct feed		*feed;
	struct uplink_set	*uplinks;	/* federation links out */
	struct peer_listener	*listeners[PEER_NKINDS];
	struct peer_head	 peers;
	unsigned		 npeers[PEER_NKINDS];	/* all connections */
	unsigned		 nready[PEER_NKINDS];	/* past Hello */
	struct peer_stats	 stats;
	struct event		*ev_stats;
	struct event		*ev_heartbeat;
	struct event		*ev_audit;	/* release counts interval */
	struct audit		*audit;		/* NULL: none configured */
	uint64_t		 audit_failures;	/* releases stopped */
	int			 foreground;
	int			 stopping;
};

/* peer.c */
int		 peer_listen(struct trackfused *, enum peer_kind);
void		 peer_listen_close(struct trackfused *);
/* Does the running listener differ from the one l describes? */
int		 peer_listen_changed(const struct trackfused *, enum peer_kind,
		    const struct config_listen *);
void		 peer_listen_str(const struct trackfused *, enum peer_kind,
		    char *, size_t);
/* After a config swap: re-point identities, close removed/changed ones. */
void		 peer_reload(struct trackfused *, const struct config *);
/* Send every peer Error{code, msg} and close it. */
void		 peer_close_all(struct trackfused *, int, const char *);
void		 peer_free_all(struct trackfused *);
const char	*peer_fault_name(enum peer_fault);
const char	*peer_kind_name(enum peer_kind);

/* stats.c */
void		 stats_init(struct trackfused *);
void		 stats_log(struct trackfused *);
uint64_t	 stats_rejected(const struct trackfused *);

#endif
