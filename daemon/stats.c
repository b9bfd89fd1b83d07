/*
 * Periodic health line for operators (tail -f). Wall clock only: nothing
 * here feeds back into the core.
 */
#include <stdint.h>
#include <time.h>

#include "trackfuse/corr.h"
#include "trackfuse/feed.h"
#include "trackfuse/log.h"
#include "trackfuse/peer.h"
#include "trackfuse/publish.h"
#include "trackfuse/release.h"

/* Monotonic seconds. */
static double
stats_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Start the rate window. */
void
stats_init(struct trackfused *env)
{
	env->stats.last_time = stats_now();
	env->stats.last_reports = feed_stats(env->feed)->reports;
}

/* Connections refused or closed for a fault, of every kind. */
uint64_t
stats_rejected(const struct trackfused *env)
{
	uint64_t	n = 0;
	int		i;

	for (i = 0; i < PEER_FAULT_MAX; i++)
		n += env->stats.faults[i];
	return n;
}

/* "27/25/20/22": shown tracks of every live release class, full first. */
static void
stats_classes(const struct trackfused *env, char *buf, size_t len)
{
	struct corr	*c;
	size_t		 n = 0;
	unsigned	 s;

	buf[0] = '\0';
	for (s = 0; s < RELEASE_MAX_CLASSES && n < len; s++) {
		if ((c = release_class_corr(env->release, s)) == NULL)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%zu",
		    n > 0 ? "/" : "", corr_count(c));
	}
}

/* Seconds between the registration bias lines (they change slowly). */
#define STATS_BIAS_INTERVAL	60.0

/* One "corr: bias" line per sensor with an estimate. */
static void
stats_bias_line(void *arg, const char *sensor, const double enu[3],
    uint64_t samples)
{
	(void)arg;
	if (samples == 0)
		return;
	log_info("corr: bias sensor=%s east=%.1fm north=%.1fm up=%.1fm "
	    "samples=%llu", sensor, enu[0], enu[1], enu[2],
	    (unsigned long long)samples);
}

/*
 * The registration bias the shared picture's core estimates for each
 * sensor, as ARTAS reports them: operators see a misaligned radar here.
 */
static void
stats_bias(struct trackfused *env, double now)
{
	if (env->stats.last_bias > 0 &&
	    now - env->stats.last_bias < STATS_BIAS_INTERVAL)
		return;
	env->stats.last_bias = now;
	corr_foreach_bias(env->corr, stats_bias_line, NULL);
}

/* Log one stats line and start a new rate window. */
void
stats_log(struct trackfused *env)
{
	const struct feed_stats	*fs = feed_stats(env->feed);
	double			 now = stats_now(), dt, rate;
	char			 cls[256];
	int			 i;

	dt = now - env->stats.last_time;
	stats_classes(env, cls, sizeof(cls));
	rate = dt > 0 ? (double)(fs->reports - env->stats.last_reports) / dt :
	    0.0;
	/* tracks= is the full-access class's picture (the shared one). */
	log_info("stats: feeds=%u subscribers=%u reports/s=%.1f tracks=%zu "
	    "sources=%zu rejected=%llu bytes_queued=%zu dropped_over_limit=%llu "
	    "classes=%u class_tracks=%s delayed=%zu retractions=%llu "
	    "audit_failures=%llu",
	    env->nready[PEER_FEED], env->nready[PEER_SUBSCRIBER], rate,
	    corr_count(env->corr), corr_sources(env->corr),
	    (unsigned long long)stats_rejected(env),
	    publish_bytes_queued(env->publish),
	    (unsigned long long)fs->dropped_over_limit,
	    release_nclasses(env->release), cls, release_pending(env->release),
	    (unsigned long long)publish_retractions(env->publish),
	    (unsigned long long)env->audit_failures);
	for (i = 0; i < PEER_FAULT_MAX; i++)
		if (env->stats.faults[i] > 0)
			log_debug("stats: fault=%s count=%llu",
			    peer_fault_name(i),
			    (unsigned long long)env->stats.faults[i]);
	stats_bias(env, now);
	env->stats.last_time = now;
	env->stats.last_reports = fs->reports;
}
