/*
 * trackfused: options, start-up, signals (as events), reload and an
 * orderly stop. The pipeline is feed -> corr -> release -> publish; this
 * file only builds it and runs the event loop.
 */
#include <sys/queue.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "trackfuse/config.h"
#include "trackfuse/corr.h"
#include "trackfuse/feed.h"
#include "trackfuse/log.h"
#include "trackfuse/peer.h"
#include "trackfuse/publish.h"
#include "trackfuse/release.h"
#include "trackfuse/replay.h"
#include "trackfuse/tls.h"
#include "trackfuse/track.h"

#ifndef TF_DEFAULT_CONFIG
#define TF_DEFAULT_CONFIG	"/etc/trackfuse/trackfused.yaml"
#endif

#define MAIN_HEARTBEAT_S	5	/* subscriber liveness, wall time */
#define MAIN_STOP_MS		1000	/* flush time on stop */

/* Long options without a short form. */
enum {
	MAIN_OPT_REPLAY = 256,
	MAIN_OPT_PICTURE_OUT
};

static struct option main_longopts[] = {
	{ "help",		no_argument,		NULL,	'h' },
	{ "version",		no_argument,		NULL,	'V' },
	{ "replay",		required_argument,	NULL,	MAIN_OPT_REPLAY },
	{ "picture-out",	required_argument,	NULL,
	    MAIN_OPT_PICTURE_OUT },
	{ NULL,			0,			NULL,	0 }
};

/* Print usage to f. */
static void
main_usage(FILE *f)
{
	fprintf(f, "usage: trackfused [-dhnVv] [-f file]\n"
	    "       trackfused [-v] [-f file] --replay rec --picture-out pic\n"
	    "  -d       stay in the foreground, log to stderr\n"
	    "  -f file  configuration file (default %s)\n"
	    "  -n       check the configuration and certificates, then exit\n"
	    "  -V       print the version and exit\n"
	    "  -v       more verbose (repeat for debug)\n"
	    "  -h       this help\n"
	    "  --replay rec       run the pipeline (feed checks, correlation,\n"
	    "                     release) over a recording (trackfuse-sim\n"
	    "                     --record) as fast as it goes, deterministically;\n"
	    "                     no listeners, no TLS (nothing is loaded)\n"
	    "  --picture-out pic  with --replay: write the full picture a\n"
	    "                     subscriber would receive (varint-delimited\n"
	    "                     Envelopes, uncoalesced); a summary line goes\n"
	    "                     to stderr; exit 0, or 1 if a file fails\n",
	    TF_DEFAULT_CONFIG);
}

/* Does any listener of cfg use TLS? */
static int
main_uses_tls(const struct config *cfg)
{
	return cfg->feeds.tls || cfg->subscribers.tls;
}

/* Server TLS context of cfg, or NULL with err if TLS is used and fails. */
static int
main_tls_ctx(const struct config *cfg, SSL_CTX **ctxp, char *err, size_t len)
{
	char	why[256];

	*ctxp = NULL;
	if (!main_uses_tls(cfg))
		return 0;
	*ctxp = tls_server_ctx(cfg->ca, cfg->cert, cfg->key, why, sizeof(why));
	if (*ctxp == NULL) {
		snprintf(err, len, "%s: %s", cfg->path != NULL ? cfg->path :
		    "config", why);
		return -1;
	}
	return 0;
}

/* Correlator parameters from the config. */
static void
main_corr_params(const struct config *cfg, struct corr_params *p)
{
	corr_params_default(p);
	p->gate_chi2 = cfg->correlator.gate_chi2;
	p->stale_ns = (int64_t)cfg->correlator.stale_ms * 1000000LL;
	p->coast_ns = (int64_t)cfg->correlator.coast_ms * 1000000LL;
	p->max_tracks = cfg->limits.max_tracks;
	p->max_sources = cfg->limits.max_sources;
	p->cell_m = cfg->correlator.cell_m;
}

/* (Re)arm the persistent stats timer; interval 0 turns it off. */
static void
main_stats_timer(struct trackfused *env)
{
	struct timeval	tv;

	evtimer_del(env->ev_stats);
	if (env->cfg->stats_interval_s == 0)
		return;
	tv.tv_sec = env->cfg->stats_interval_s;
	tv.tv_usec = 0;
	evtimer_add(env->ev_stats, &tv);
}

/* Format a listener for the start-up line. */
static void
main_listen_str(const struct config_listen *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u (%s)", l->address, l->port,
	    l->tls ? "tls" : "plain");
}

/* Log listener changes a reload cannot apply. */
static void
main_reload_listeners(struct trackfused *env, const struct config *ncfg)
{
	const struct config_listen	*cl;
	char				 run[128], want[128];
	int				 k;

	for (k = 0; k < PEER_NKINDS; k++) {
		cl = k == PEER_FEED ? &ncfg->feeds : &ncfg->subscribers;
		if (!peer_listen_changed(env, k, cl))
			continue;
		peer_listen_str(env, k, run, sizeof(run));
		main_listen_str(cl, want, sizeof(want));
		log_warnx("config: listener change needs a restart listener=%s "
		    "running=%s configured=%s; keeping the running listener",
		    peer_kind_name(k), run, want);
	}
}

/* Reopen the log, or open the new file if log.file changed. */
static void
main_reload_log(struct trackfused *env, const struct config *ncfg)
{
	const char	*o = env->cfg->log_file, *n = ncfg->log_file;

	if (env->foreground)
		return;
	if ((o == NULL) != (n == NULL) || (o != NULL && strcmp(o, n) != 0)) {
		if (log_init(0, log_getverbose(), n) == -1)
			log_warn("config: cannot open log file=%s", n);
	} else if (log_reopen() == -1)
		log_warn("config: cannot reopen the log");
}

/* SIGHUP: load the config again and swap it in only if it is valid. */
static void
main_reload(struct trackfused *env)
{
	struct config		*ncfg, *old;
	struct corr_params	 params;
	SSL_CTX			*nctx = NULL;
	char			 err[CONFIG_ERRLEN];

	if ((ncfg = config_load(env->cfgpath, err, sizeof(err))) == NULL ||
	    (env->ssl_ctx != NULL && main_tls_ctx(ncfg, &nctx, err,
	    sizeof(err)) == -1)) {
		log_warnx("config: reload refused: %s; keeping the running "
		    "configuration", err);
		config_free(ncfg);
		return;
	}
	main_reload_listeners(env, ncfg);
	peer_reload(env, ncfg);
	main_corr_params(ncfg, &params);
	corr_set_params(env->corr, &params);
	publish_set_limits(env->publish, ncfg->limits.max_tracks,
	    ncfg->limits.subscriber_buffer);
	main_reload_log(env, ncfg);
	old = env->cfg;
	env->cfg = ncfg;
	config_free(old);
	if (nctx != NULL) {
		SSL_CTX_free(env->ssl_ctx);	/* live SSLs hold a reference */
		env->ssl_ctx = nctx;
	}
	main_stats_timer(env);
	log_info("config: reloaded file=%s identities=%u", env->cfgpath,
	    env->cfg->nidentities);
}

/* SIGTERM/SIGINT: say goodbye to every peer, flush, leave the loop. */
static void
main_stop(struct trackfused *env, const char *sig)
{
	struct timeval	tv = { MAIN_STOP_MS / 1000, (MAIN_STOP_MS % 1000) * 1000 };

	if (env->stopping) {
		event_base_loopbreak(env->base);
		return;
	}
	log_info("trackfused: stopping signal=%s", sig);
	env->stopping = 1;
	peer_listen_close(env);
	evtimer_del(env->ev_stats);
	evtimer_del(env->ev_heartbeat);
	peer_close_all(env, TRACKFUSE__V1__ERROR_CODE__ERROR_SHUTDOWN,
	    "daemon stopping");
	if (TAILQ_EMPTY(&env->peers))
		event_base_loopexit(env->base, NULL);
	else
		event_base_loopexit(env->base, &tv);
}

/* Signal event: never in signal context. */
static void
main_signalcb(evutil_socket_t sig, short what, void *arg)
{
	struct trackfused	*env = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		main_reload(env);
		break;
	case SIGTERM:
		main_stop(env, "TERM");
		break;
	case SIGINT:
		main_stop(env, "INT");
		break;
	}
}

/* Stats timer. */
static void
main_statscb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stats_log(arg);
}

/* Heartbeat timer: subscriber liveness. */
static void
main_heartbeatcb(evutil_socket_t fd, short what, void *arg)
{
	struct trackfused	*env = arg;

	(void)fd;
	(void)what;
	publish_heartbeat(env->publish);
}

/* Build the pipeline: corr -> release -> publish, and feed in front. */
static void
main_pipeline(struct trackfused *env)
{
	struct corr_params	params;

	env->publish = publish_new(RELEASE_NCLASSES,
	    env->cfg->limits.max_tracks, env->cfg->limits.subscriber_buffer);
	env->release = release_new(env->publish);
	main_corr_params(env->cfg, &params);
	if ((env->corr = corr_new(&params, release_corr_emit,
	    env->release)) == NULL)
		fatalx("corr_new failed");
	env->feed = feed_new(env->corr, env->publish);
}

/* Signal and timer events. */
static struct event *
main_event(struct trackfused *env, int sig, event_callback_fn cb)
{
	struct event	*ev;

	if (sig >= 0)
		ev = evsignal_new(env->base, sig, cb, env);
	else
		ev = event_new(env->base, -1, EV_PERSIST, cb, env);
	if (ev == NULL)
		fatalx("event_new failed");
	if (sig >= 0)
		evsignal_add(ev, NULL);
	return ev;
}

/* Event loop set-up, run, and teardown. */
static void
main_run(struct trackfused *env)
{
	struct event	*sigs[3];
	struct timeval	 hb = { MAIN_HEARTBEAT_S, 0 };
	char		 f[128], s[128];
	int		 i;

	if ((env->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	TAILQ_INIT(&env->peers);
	main_pipeline(env);
	if (peer_listen(env, PEER_FEED) == -1 ||
	    peer_listen(env, PEER_SUBSCRIBER) == -1)
		fatalx("cannot open the listeners");
	sigs[0] = main_event(env, SIGHUP, main_signalcb);
	sigs[1] = main_event(env, SIGTERM, main_signalcb);
	sigs[2] = main_event(env, SIGINT, main_signalcb);
	env->ev_stats = main_event(env, -1, main_statscb);
	env->ev_heartbeat = main_event(env, -1, main_heartbeatcb);
	main_stats_timer(env);
	evtimer_add(env->ev_heartbeat, &hb);
	stats_init(env);
	main_listen_str(&env->cfg->feeds, f, sizeof(f));
	main_listen_str(&env->cfg->subscribers, s, sizeof(s));
	log_info("trackfused: started name=%s nation=%s feeds=%s "
	    "subscribers=%s identities=%u", env->cfg->name, env->cfg->nation,
	    f, s, env->cfg->nidentities);

	event_base_dispatch(env->base);

	peer_listen_close(env);
	peer_free_all(env);
	for (i = 0; i < 3; i++)
		event_free(sigs[i]);
	event_free(env->ev_stats);
	event_free(env->ev_heartbeat);
}

/* Free the pipeline and the rest of the daemon state. */
static void
main_teardown(struct trackfused *env)
{
	feed_free(env->feed);
	corr_free(env->corr);
	release_free(env->release);
	publish_free(env->publish);
	SSL_CTX_free(env->ssl_ctx);
	config_free(env->cfg);
	if (env->base != NULL)
		event_base_free(env->base);
	free(env->cfgpath);
}

/*
 * --replay: the configuration alone (identities, limits, correlator; no
 * certificates), the live pipeline, a recording in and a picture out.
 */
static int
main_replay(struct trackfused *env, const struct replay_opts *o)
{
	struct replay_stats	st;
	char			err[CONFIG_ERRLEN];
	int			rc;

	if ((env->cfg = config_load(env->cfgpath, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	main_pipeline(env);
	rc = replay_run(env, o, &st, err, sizeof(err));
	if (rc == 0)
		replay_summary(stderr, &st);
	else
		fprintf(stderr, "trackfused: replay: %s\n", err);
	main_teardown(env);
	return rc == 0 ? 0 : 1;
}

/* Load the config and the certificates; exit 1 with the reason if bad. */
static void
main_load(struct trackfused *env, int check, int verbose)
{
	char	err[CONFIG_ERRLEN];

	if ((env->cfg = config_load(env->cfgpath, err, sizeof(err))) == NULL ||
	    main_tls_ctx(env->cfg, &env->ssl_ctx, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	if (!check)
		return;
	if (verbose)
		config_print(env->cfg, stdout);
	printf("configuration OK\n");
	exit(0);
}

/* trackfused [-dhnVv] [-f file] [--replay rec --picture-out pic] */
int
main(int argc, char *argv[])
{
	struct trackfused	 env;
	struct replay_opts	 ro;
	const char		*path = TF_DEFAULT_CONFIG;
	int			 ch, check = 0, verbose = 0;

	memset(&env, 0, sizeof(env));
	memset(&ro, 0, sizeof(ro));
	while ((ch = getopt_long(argc, argv, "df:hnVv", main_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			env.foreground = 1;
			break;
		case 'f':
			path = optarg;
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("trackfused %s\n", TF_VERSION);
			return 0;
		case 'v':
			verbose++;
			break;
		case MAIN_OPT_REPLAY:
			ro.record = optarg;
			break;
		case MAIN_OPT_PICTURE_OUT:
			ro.picture = optarg;
			break;
		default:
			main_usage(stderr);
			return 1;
		}
	}
	if (optind != argc || (ro.record == NULL) != (ro.picture == NULL) ||
	    (ro.record != NULL && check)) {
		main_usage(stderr);
		return 1;
	}
	/* Absolute, so that a reload still finds it after daemon(3)'s chdir. */
	if ((env.cfgpath = realpath(path, NULL)) == NULL &&
	    (env.cfgpath = strdup(path)) == NULL)
		return 1;
	log_init(1, verbose, NULL);
	log_setprocname("trackfused");
	if (ro.record != NULL)
		return main_replay(&env, &ro);
	main_load(&env, check, verbose);
	if (!env.foreground) {
		if (log_init(0, verbose, env.cfg->log_file) == -1)
			fatal("cannot open log file %s", env.cfg->log_file);
		if (daemon(0, 0) == -1)
			fatal("daemon");
	}
	signal(SIGPIPE, SIG_IGN);
	main_run(&env);
	main_teardown(&env);
	log_info("trackfused: stopped");
	log_close();
	return 0;
}
