/*
 * trackfused: options, start-up, signals (as events), reload and an
 * orderly stop. The pipeline is feed -> release -> corr (one per release
 * class) -> publish; this file builds it, loads the owners' policies,
 * keeps the audit trail (it needs the wall clock, which the core never
 * sees) and runs the event loop.
 */
#include <sys/queue.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "trackfuse/audit.h"
#include "trackfuse/config.h"
#include "trackfuse/corr.h"
#include "trackfuse/feed.h"
#include "trackfuse/log.h"
#include "trackfuse/peer.h"
#include "trackfuse/policy.h"
#include "trackfuse/publish.h"
#include "trackfuse/release.h"
#include "trackfuse/replay.h"
#include "trackfuse/tls.h"
#include "trackfuse/track.h"
#include "trackfuse/uplink.h"

#ifndef TF_DEFAULT_CONFIG
#define TF_DEFAULT_CONFIG	"/etc/trackfuse/trackfused.yaml"
#endif

#define MAIN_HEARTBEAT_S	5	/* subscriber liveness, wall time */
#define MAIN_STOP_MS		1000	/* flush time on stop */

/* Long options without a short form. */
enum {
	MAIN_OPT_REPLAY = 256,
	MAIN_OPT_PICTURE_OUT,
	MAIN_OPT_AS
};

static struct option main_longopts[] = {
	{ "help",		no_argument,		NULL,	'h' },
	{ "version",		no_argument,		NULL,	'V' },
	{ "replay",		required_argument,	NULL,	MAIN_OPT_REPLAY },
	{ "picture-out",	required_argument,	NULL,
	    MAIN_OPT_PICTURE_OUT },
	{ "as",			required_argument,	NULL,	MAIN_OPT_AS },
	{ NULL,			0,			NULL,	0 }
};

/* Print usage to f. */
static void
main_usage(FILE *f)
{
	fprintf(f, "usage: trackfused [-dhnVv] [-f file]\n"
	    "       trackfused [-v] [-f file] --replay rec --picture-out pic "
	    "[--as id]\n"
	    "  -d       stay in the foreground, log to stderr\n"
	    "  -f file  configuration file (default %s)\n"
	    "  -n       check the configuration, certificates and release\n"
	    "           policies, print the effective release matrix, exit\n"
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
	    "                     to stderr; exit 0, or 1 if a file fails\n"
	    "  --as id            with --replay: write exactly the stream the\n"
	    "                     subscriber identity id would have received\n"
	    "                     (its release class, its scoped track ids)\n"
	    "signals: SIGHUP reloads the configuration and every release\n"
	    "  policy; SIGUSR1 reloads the release policies only; SIGTERM and\n"
	    "  SIGINT stop\n",
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

/* Wall clock, ns since the Unix epoch: for the audit trail only. */
static int64_t
main_wall_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * An audit write failed: fail closed. Release stops feeding every
 * recipient class and each subscriber's picture is retracted.
 */
static void
main_audit_fail(struct trackfused *env, const char *what)
{
	if (release_halted(env->release))
		return;
	env->audit_failures++;
	log_warnx("audit: write failed record=%s file=%s; releases stopped",
	    what, env->cfg->audit_file != NULL ? env->cfg->audit_file : "-");
	release_halt(env->release);
	publish_sync_recipients(env->publish);
}

/* publish_retract_fn: every retraction goes into the audit trail. */
static void
main_retract(void *arg, const char *rid, uint64_t id)
{
	struct trackfused	*env = arg;

	if (env->audit == NULL || release_halted(env->release))
		return;
	if (audit_retraction(env->audit, main_wall_ns(),
	    publish_time(env->publish), rid, id, "policy-change", "*", 0) == -1)
		main_audit_fail(env, "retraction");
}

/* Audit one owner's load or failure; -1 if the write failed. */
static int
main_audit_owner(struct trackfused *env, const struct policy_owner_info *o)
{
	char		sha[AUDIT_HASH_HEX];
	const char	*why;

	if (o->state == POLICY_OWNER_LOADED)
		return audit_policy_load(env->audit, main_wall_ns(),
		    publish_time(env->publish), o->owner, o->file, o->version,
		    o->sha256);
	why = o->state == POLICY_OWNER_MISSING ? "missing" : o->error;
	if (o->file == NULL || audit_sha256_file(o->file, sha) == -1)
		return audit_policy_reject(env->audit, main_wall_ns(),
		    publish_time(env->publish), o->owner,
		    o->file != NULL ? o->file : "-", NULL, why);
	return audit_policy_reject(env->audit, main_wall_ns(),
	    publish_time(env->publish), o->owner, o->file, sha, why);
}

/* Audit every owner of a new policy set. */
static void
main_policy_report(struct trackfused *env, const struct policy_set *set)
{
	const struct policy_owner_info	*o;
	unsigned			 i;

	for (i = 0; (o = policy_owner_info(set, i)) != NULL; i++) {
		/* policy_load() logged it (loudly if it failed). */
		if (env->audit != NULL && main_audit_owner(env, o) == -1) {
			main_audit_fail(env, "policy");
			return;
		}
	}
}

/* Load every owner's policy and swap the set in (start, SIGHUP, SIGUSR1). */
static void
main_policies(struct trackfused *env)
{
	struct policy_set	*set;

	if ((set = policy_load_dir(env->cfg, main_wall_ns())) == NULL)
		fatalx("policy_load: out of memory");
	main_policy_report(env, set);
	release_set_policy(env->release, env->cfg, set);
	log_info("release: policies in force classes=%u recipients=%u",
	    release_nclasses(env->release), release_nrecipients(env->release));
}

/* audit_release_counts for one (recipient, rule); stops on failure. */
static void
main_audit_count(void *arg, const char *rid, const struct release_count *k)
{
	struct trackfused	*env = arg;

	if (release_halted(env->release))
		return;
	if (audit_release_counts(env->audit, main_wall_ns(),
	    publish_time(env->publish), rid, k->rule, k->released,
	    k->withheld) == -1)
		main_audit_fail(env, "release_counts");
}

/* Audit timer: per recipient per rule counts of the interval, synced. */
static void
main_auditcb(evutil_socket_t fd, short what, void *arg)
{
	struct trackfused	*env = arg;

	(void)fd;
	(void)what;
	if (env->audit == NULL || release_halted(env->release))
		return;
	release_foreach_count(env->release, main_audit_count, env);
	release_counts_reset(env->release);
	if (!release_halted(env->release) && audit_sync(env->audit) == -1)
		main_audit_fail(env, "sync");
}

/* Open the audit trail of cfg; without it releases are stopped. */
static void
main_audit_open(struct trackfused *env)
{
	struct audit_meta	meta;
	char			err[256];

	if (env->cfg->audit_file == NULL)
		return;
	memset(&meta, 0, sizeof(meta));
	meta.name = env->cfg->name;
	meta.nation = env->cfg->nation;
	meta.version = TF_VERSION;
	meta.wall_ns = main_wall_ns();
	env->audit = audit_open(env->cfg->audit_file, &meta, err, sizeof(err));
	if (env->audit == NULL) {
		log_warnx("audit: cannot open file=%s: %s", env->cfg->audit_file,
		    err);
		main_audit_fail(env, "open");
		return;
	}
	log_info("audit: opened file=%s seq=%llu", env->cfg->audit_file,
	    (unsigned long long)audit_seq(env->audit));
}

/* (Re)arm the audit counts timer. */
static void
main_audit_timer(struct trackfused *env)
{
	struct timeval	tv;

	if (env->ev_audit == NULL)
		return;
	evtimer_del(env->ev_audit);
	if (env->audit == NULL)
		return;
	tv.tv_sec = env->cfg->audit_interval_s;
	tv.tv_usec = 0;
	evtimer_add(env->ev_audit, &tv);
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
	release_set_params(env->release, &params);
	publish_set_limits(env->publish, ncfg->limits.max_tracks,
	    ncfg->limits.subscriber_buffer);
	main_reload_log(env, ncfg);
	old = env->cfg;
	env->cfg = ncfg;
	if (env->uplinks != NULL)
		uplink_reload(env->uplinks);
	config_free(old);
	if (nctx != NULL) {
		SSL_CTX_free(env->ssl_ctx);	/* live SSLs hold a reference */
		env->ssl_ctx = nctx;
	}
	main_stats_timer(env);
	main_audit_timer(env);
	log_info("config: reloaded file=%s identities=%u", env->cfgpath,
	    env->cfg->nidentities);
	main_policies(env);
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
	case SIGUSR1:
		log_info("policy: reload requested signal=USR1");
		main_policies(env);
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

/*
 * Build the pipeline: feed -> release -> corr per class -> publish, with
 * the policies in force. env->corr is the full class's (release owns it).
 * A live daemon opens its audit trail before the first policy load, so
 * the load is recorded (and a trail that cannot be written stops releases
 * before any happen); replay keeps none.
 */
static void
main_pipeline(struct trackfused *env, int live)
{
	struct corr_params	params;
	struct release_out	out;

	env->publish = publish_new(RELEASE_MAX_CLASSES,
	    env->cfg->limits.max_tracks, env->cfg->limits.subscriber_buffer);
	publish_set_retract(env->publish, main_retract, env);
	publish_release_out(env->publish, &out);
	main_corr_params(env->cfg, &params);
	env->release = release_new(&params, &out);
	publish_set_release(env->publish, env->release);
	env->corr = release_full_corr(env->release);
	env->feed = feed_new(env->corr, env->publish);
	feed_set_release(env->feed, env->release);
	if (live)
		main_audit_open(env);
	main_policies(env);
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
	struct event	*sigs[4];
	struct timeval	 hb = { MAIN_HEARTBEAT_S, 0 };
	char		 f[128], s[128];
	int		 i;

	if ((env->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	TAILQ_INIT(&env->peers);
	main_pipeline(env, 1);
	if (peer_listen(env, PEER_FEED) == -1 ||
	    peer_listen(env, PEER_SUBSCRIBER) == -1)
		fatalx("cannot open the listeners");
	env->uplinks = uplink_start(env);
	sigs[0] = main_event(env, SIGHUP, main_signalcb);
	sigs[1] = main_event(env, SIGTERM, main_signalcb);
	sigs[2] = main_event(env, SIGINT, main_signalcb);
	sigs[3] = main_event(env, SIGUSR1, main_signalcb);
	env->ev_stats = main_event(env, -1, main_statscb);
	env->ev_heartbeat = main_event(env, -1, main_heartbeatcb);
	env->ev_audit = main_event(env, -1, main_auditcb);
	main_stats_timer(env);
	main_audit_timer(env);
	evtimer_add(env->ev_heartbeat, &hb);
	stats_init(env);
	main_listen_str(&env->cfg->feeds, f, sizeof(f));
	main_listen_str(&env->cfg->subscribers, s, sizeof(s));
	log_info("trackfused: started name=%s nation=%s feeds=%s "
	    "subscribers=%s identities=%u", env->cfg->name, env->cfg->nation,
	    f, s, env->cfg->nidentities);

	event_base_dispatch(env->base);
	uplink_stop(env->uplinks);
	env->uplinks = NULL;

	peer_listen_close(env);
	peer_free_all(env);
	for (i = 0; i < 4; i++)
		event_free(sigs[i]);
	event_free(env->ev_stats);
	event_free(env->ev_heartbeat);
	event_free(env->ev_audit);
	env->ev_audit = NULL;
}

/* Free the pipeline and the rest of the daemon state. */
static void
main_teardown(struct trackfused *env)
{
	if (env->audit != NULL && !release_halted(env->release))
		(void)audit_close(env->audit, main_wall_ns(),
		    publish_time(env->publish));
	else if (env->audit != NULL)
		(void)audit_close(env->audit, 0, 0);
	feed_free(env->feed);
	release_free(env->release);	/* env->corr is the full class's */
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
	main_pipeline(env, 0);
	rc = replay_run(env, o, &st, err, sizeof(err));
	if (rc == 0)
		replay_summary(stderr, &st);
	else
		fprintf(stderr, "trackfused: replay: %s\n", err);
	main_teardown(env);
	return rc == 0 ? 0 : 1;
}

/*
 * -n: load the policies as the daemon would, say so, and print the
 * effective release matrix; an owner that fails closed is named loudly.
 */
static void
main_check_policies(struct trackfused *env)
{
	const struct policy_owner_info	*o;
	struct policy_set		*set;
	unsigned			 i;

	if ((set = policy_load_dir(env->cfg, main_wall_ns())) == NULL)
		fatalx("policy_load: out of memory");
	for (i = 0; (o = policy_owner_info(set, i)) != NULL; i++)
		if (o->state != POLICY_OWNER_LOADED)
			fprintf(stderr, "policy: owner %s FAILS CLOSED (%s): %s\n",
			    o->owner, policy_state_name(o->state),
			    o->error[0] != '\0' ? o->error : "no policy file");
	printf("configuration OK\n");
	policy_print_matrix(set, env->cfg, stdout);
	policy_free(set);
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
	main_check_policies(env);
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
		case MAIN_OPT_AS:
			ro.as = optarg;
			break;
		default:
			main_usage(stderr);
			return 1;
		}
	}
	if (optind != argc || (ro.record == NULL) != (ro.picture == NULL) ||
	    (ro.record != NULL && check) || (ro.as != NULL &&
	    ro.record == NULL)) {
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
