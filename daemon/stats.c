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

/* Log one stats line and start a new rate window. */
void
stats_log(struct trackfused *env)
{
	const struct feed_stats	*fs = feed_stats(env->feed);
	double			 now = stats_now(), dt, rate;
	int			 i;

	dt = now - env->stats.last_time;
	rate = dt > 0 ? (double)(fs->reports - env->stats.last_reports) / dt :
	    0.0;
	log_info("stats: feeds=%u subscribers=%u reports/s=%.1f tracks=%zu "
	    "sources=%zu rejected=%llu bytes_queued=%zu dropped_over_limit=%llu",
	    env->nready[PEER_FEED], env->nready[PEER_SUBSCRIBER], rate,
	    corr_count(env->corr), corr_sources(env->corr),
	    (unsigned long long)stats_rejected(env),
	    publish_bytes_queued(env->publish),
	    (unsigned long long)fs->dropped_over_limit);
	for (i = 0; i < PEER_FAULT_MAX; i++)
		if (env->stats.faults[i] > 0)
			log_debug("stats: fault=%s count=%llu",
			    peer_fault_name(i),
			    (unsigned long long)env->stats.faults[i]);
	env->stats.last_time = now;
	env->stats.last_reports = fs->reports;
}
