/*
 * The correlation core: source tracks in, system tracks out.
 *
 * Pure and deterministic: no I/O, no clock, no libevent. Time is the event
 * time carried by the input; corr_advance() moves the core's notion of "now"
 * (the event-time watermark) forward so stale contributions age out. Calling
 * the same sequence of functions with the same arguments yields the same
 * sequence of emitted changes, bit for bit.
 *
 * The watermark is the largest event time seen in corr_report(),
 * corr_drop() and corr_advance(). A contribution not updated for stale_ns
 * (or 2.1 of its own report periods, if longer: a slow sensor may miss a
 * look) is removed. A system track is tentative until confirmed (a
 * second sensor at once; one sensor after two updates, four when they
 * come more than 6 s apart), then firm. A tentative track is not emitted
 * (unless publish_tentative): a sensor's false tracks are one-sensor and
 * die within a few looks, so they never reach a subscriber; the first
 * emission of a confirmed track is its CORR_CREATED, and a track that
 * never showed is dropped silently. Left without contributions, a firm
 * track coasts (status TF_STATUS_COASTING, contributors 0, its last
 * fused state, re-emitted every 5 s of event time predicted to the
 * watermark) until coast_ns after its last update (3 x coast_ns for
 * surface, subsurface and land) and is then dropped; a tentative one, a
 * one-sensor one younger than six updates, or a falling ballistic one
 * below 20 km is dropped at once. A report from the future
 * moves the watermark and may age out
 * everything: bounding clock skew is the feed's job. Event times must lie
 * in [0, INT64_MAX / 4] ns (CORR_INVALID otherwise).
 *
 * Records for the configured limits are reserved by corr_new (address
 * space only: memory is taken as records are first used) and reused from
 * free lists, so a report allocates nothing; past the reserve (limits
 * raised by corr_set_params) slabs are added as needed. Emission happens
 * synchronously from inside corr_report/corr_drop/corr_advance/
 * corr_set_params; the emit callback must not call back into the core.
 */
#ifndef TRACKFUSE_CORR_H
#define TRACKFUSE_CORR_H

#include <stddef.h>
#include <stdint.h>

#include "trackfuse/track.h"

struct corr;

struct corr_params {
	double		gate_chi2;	/* chi-square gate on 6-dof distance */
	int64_t		stale_ns;	/* contribution dropped when older */
	int64_t		coast_ns;	/* coasting track dropped this long after
					   its last update (0: no coasting) */
	size_t		max_tracks;	/* system tracks limit */
	size_t		max_sources;	/* source tracks limit */
	double		cell_m;		/* finest spatial index cell edge, m */
	int		publish_tentative; /* 1: emit tentative tracks too
					   (default 0: only once confirmed) */
};

enum corr_change {
	CORR_CREATED,
	CORR_UPDATED,
	CORR_DROPPED
};

enum corr_result {
	CORR_OK = 0,
	CORR_LIMIT,		/* a configured limit (or memory) refused the input */
	CORR_OLD,		/* older than what the core holds for that source */
	CORR_INVALID		/* non-finite or out-of-range values (lat, lon, time
			   outside [0, INT64_MAX / 4]) or a covariance not PSD */
};

/*
 * At most this many source tracks fuse into one system track (a full track
 * gates nothing more; the newcomer forms its own).
 */
#define CORR_FUSE_MAX	16

/* Counters since corr_new(), for the operator's stats line and for tests. */
struct corr_stats {
	uint64_t	reports;	/* corr_report() calls accepted */
	uint64_t	old;		/* refused CORR_OLD */
	uint64_t	limit;		/* refused CORR_LIMIT */
	uint64_t	invalid;	/* refused CORR_INVALID */
	uint64_t	created;	/* system tracks created (emitted) */
	uint64_t	dropped;	/* system tracks dropped (after emission) */
	uint64_t	detached;	/* contributions detached as inconsistent */
	uint64_t	renumbered;	/* contributions replaced by a sensor's new number */
	uint64_t	reclaimed;	/* renumberings undone: the old number lived on */
	uint64_t	expired;	/* contributions aged out */
	uint64_t	candidates;	/* system tracks examined while gating */
	uint64_t	swapped;	/* sources moved out by an assignment */
	uint64_t	idle;		/* kept reports that could not change
					   their track's picture: not fused,
					   not emitted (corr_sys_idle) */
};

/*
 * Receives every change. For CORR_DROPPED only track_id and t_ns are set.
 * The struct is valid only during the call.
 */
typedef void (*corr_emit_fn)(void *, enum corr_change,
    const struct tf_picture_track *);

/* corr.c */
void		 corr_params_default(struct corr_params *);
/* NULL if the params are unusable (gate, stale, cell <= 0, a zero limit). */
struct corr	*corr_new(const struct corr_params *, corr_emit_fn, void *);
void		 corr_free(struct corr *);
/* Reload: unusable params are ignored; limits apply to new input only. */
void		 corr_set_params(struct corr *, const struct corr_params *);
/* A refused report (any result but CORR_OK) changed nothing. */
enum corr_result corr_report(struct corr *, const struct tf_report *);
void		 corr_drop(struct corr *, const struct tf_drop *);
void		 corr_advance(struct corr *, int64_t);
/* System tracks in the picture: emitted and not dropped. */
size_t		 corr_count(const struct corr *);
size_t		 corr_sources(const struct corr *);
/* Visit every system track in the picture, ascending track_id. */
void		 corr_foreach(struct corr *, void (*)(void *,
		    const struct tf_picture_track *), void *);
const char	*corr_change_name(enum corr_change);
const char	*corr_result_name(enum corr_result);
void		 corr_get_stats(const struct corr *, struct corr_stats *);
/* The core's event-time watermark ("now"); 0 before any input. */
int64_t		 corr_now(const struct corr *);
/*
 * Visit every sensor's registration bias estimate: sensor id, bias east,
 * north, up (m; it is taken off the sensor's reports) and the number of
 * paired samples behind it. Estimates are relative: the weighted mean
 * bias of each group of sensors that share tracks is zero.
 */
void		 corr_foreach_bias(const struct corr *, void (*)(void *,
		    const char *, const double[3], uint64_t), void *);

/*
 * The estimation primitives, exported for tests and benchmarks. States are
 * ECEF (x, y, z, vx, vy, vz), covariances full 6x6 row major.
 */
/* Predict a state dt seconds ahead (or back) under the category's motion model. */
void		 corr_predict(enum tf_category, double, const double[6],
		    const double[36], double[6], double[36]);
/* Squared Mahalanobis distance of two estimates; -1 if S is not PD. */
int		 corr_distance(const double[6], const double[36],
		    const double[6], const double[36], double *);
/*
 * Covariance intersection of n (1..CORR_FUSE_MAX) estimates at one time;
 * weights out if not NULL. Returns -1 if an input is not PD.
 */
int		 corr_fuse(size_t, const double (*)[6], const double (*)[36],
		    double[6], double[36], double *);
/*
 * corr_fuse with each Newton step from the KKT system over all active
 * weights (corr_fuse eliminates one weight): a reference for tests.
 */
int		 corr_fuse_newton(size_t, const double (*)[6],
		    const double (*)[36], double[6], double[36], double *);
/*
 * corr_fuse from the weights w holds (the previous fusion's, as a system
 * track keeps them), kept when they are optimal to within 0.05 in log
 * det P; the weights used are left in w.
 */
int		 corr_fuse_warm(size_t, const double (*)[6],
		    const double (*)[36], double[6], double[36], double *);

#endif
