/*
 * SIAP scoring of a track picture against ground truth (Votruba et al.,
 * "Single Integrated Air Picture (SIAP) Metrics Implementation", 2001, as
 * implemented in Stone Soup's SIAPMetrics), plus OSPA, fusion gain and
 * NEES. Pure: plain structs in ECEF, no I/O, no clock. docs/scoring.md
 * defines every measure.
 */
#ifndef TRACKFUSE_SIAP_H
#define TRACKFUSE_SIAP_H

#include <stddef.h>
#include <stdint.h>

#define SIAP_DEF_INTERVAL_NS	1000000000LL	/* sample every 1 s */
#define SIAP_DEF_ASSOC_M	5000.0
#define SIAP_DEF_OSPA_C		10000.0
#define SIAP_DEF_OSPA_P		1.0
#define SIAP_DEF_MAX_AGE_NS	30000000000LL	/* a track 30 s stale is gone */
#define SIAP_DEF_SENSOR_AGE	2.0		/* sensor report: 2 periods */

/* One truth sample of one object, ECEF (m, m/s). */
struct siap_truth {
	int64_t		t_ns;
	uint32_t	obj;		/* object index, < nobj */
	uint32_t	ncover;		/* sensors covering it (0: not scored) */
	double		pos[3];
	double		vel[3];
};

/* One state update of a track (or its drop), ECEF; cov is 6x6 row major. */
struct siap_update {
	int64_t		t_ns;
	int		drop;		/* 1: the track ends at t_ns */
	uint32_t	contributors;	/* sensor tracks fused (0: not said) */
	double		pos[3];
	double		vel[3];
	double		cov[36];
};

/* A track: a system track of the picture or one sensor's local track. */
struct siap_track {
	uint64_t		 id;
	uint32_t		 sensor;	/* sensor index (sensor tracks) */
	size_t			 nupd;
	size_t			 cap;
	struct siap_update	*upd;		/* sorted by t_ns, stable */
};

struct siap_params {
	int64_t		interval_ns;
	double		assoc_m;
	double		ospa_c;
	double		ospa_p;
	int64_t		max_age_ns;
	double		sensor_age;	/* sensor report max age, in periods */
};

struct siap_input {
	const struct siap_truth	*truth;		/* sorted by t_ns */
	size_t			 ntruth;
	uint32_t		 nobj;
	const struct siap_track	*trk;		/* the picture */
	size_t			 ntrk;
	const struct siap_track	*sen;		/* sensor tracks, or NULL */
	size_t			 nsen;
	uint32_t		 nsensors;
	const int64_t		*period_ns;	/* per sensor index */
	const uint32_t		*group;		/* object indices, or NULL */
	size_t			 ngroup;
};

/* One track id seen on an object. */
struct siap_objid {
	uint64_t	id;
	size_t		held;		/* samples it was the object's track */
	size_t		last;		/* last sample associated, SIZE_MAX */
	size_t		run;		/* consecutive samples associated */
};

/* Per object continuity, for formation and crossing checks. */
struct siap_object {
	size_t			 covered;	/* samples covered */
	size_t			 tracked;	/* samples with a track */
	size_t			 changes;	/* changes of its track id */
	size_t			 longest;	/* longest association, samples */
	size_t			 nids;		/* distinct ids that held it */
	uint64_t		 main_id;	/* the id that held it most */
	size_t			 main_n;
	double			 nees_sum;	/* NEES of the tracks on it */
	size_t			 nees_n;
	int64_t			*change_t;	/* sample times of changes */
	struct siap_objid	*e;		/* every id associated with it */
	size_t			 ne;
	/* scratch while scoring */
	uint64_t		 last_id;
	size_t			 last_k;	/* its track index */
	size_t			 ecap;
	size_t			 chcap;
};

/* Measures; NaN where undefined (e.g. no tracked truth). */
struct siap_result {
	double			 completeness;
	double			 ambiguity;
	double			 spuriousness;
	double			 pos_acc_m;
	double			 vel_acc_mps;
	double			 change_rate;
	double			 longest_segment;
	double			 ospa_m;
	double			 fusion_gain;
	double			 nees_mean;
	double			 nees_lo;
	double			 nees_hi;
	int			 nees_inside;
	/*
	 * The NEES mean apart for one-sensor updates (contributors 1) and
	 * fused ones (2 or more): where a mean off its band comes from.
	 */
	double			 nees_single_mean, nees_fused_mean;
	size_t			 nees_single_n, nees_fused_n;
	/*
	 * 95% interval of the NEES mean with the samples taken in clusters,
	 * one per object (siap_nees_interval): its errors are correlated
	 * from sample to sample, which the chi-square band ignores.
	 */
	double			 nees_ci_lo, nees_ci_hi;
	double			 fused_rms_m;
	double			 single_rms_m;
	size_t			 samples;
	size_t			 sum_j, sum_jt, sum_n, sum_na;
	size_t			 nees_n, nees_skipped, gain_n;
	/*
	 * The group (a formation): samples at which all its objects are
	 * covered, those with at least one distinct track per object among
	 * the tracks associated with them, and the fewest such tracks.
	 */
	size_t			 group_samples, group_whole, group_min;
	uint32_t		 nobj;
	struct siap_object	*obj;	/* nobj of them, owned */
	size_t			 ntrk;
	size_t			*trk_alive;	/* per picture track: samples alive */
	size_t			*trk_spur;	/* ... and spurious, owned */
};

/* siap.c */
void	siap_params_default(struct siap_params *);
/* Append an update keeping upd sorted by time (ties keep input order). */
void	siap_track_push(struct siap_track *, const struct siap_update *);
void	siap_track_free(struct siap_track *);
/* State at t from the last update at or before t, if alive; 0 or -1. */
int	siap_track_at(const struct siap_track *, int64_t, int64_t,
	    struct siap_update *);
/* Predict u to t with constant velocity (no process noise) into out. */
void	siap_predict(const struct siap_update *, int64_t, struct siap_update *);
/* e^T P^-1 e for the 3x3 position block of a 6x6 cov; -1 if singular. */
double	siap_nees(const double[3], const double[36]);
/* Wilson-Hilferty approximation of the chi-square quantile q, k dof. */
double	siap_chi2inv(double, double);
/* 95% band of the mean of n NEES values of dof each. */
void	siap_nees_band(size_t, int, double *, double *);
/* 95% interval of the mean NEES with samples clustered by object. */
void	siap_nees_interval(const struct siap_object *, uint32_t, double *,
	    double *);
/* OSPA between point sets x (m) and y (n), cut-off c, order p. */
double	siap_ospa(const double (*)[3], size_t, const double (*)[3], size_t,
	    double, double);
/* Smallest positive gap between updates of each sensor's tracks. */
void	siap_periods(const struct siap_track *, size_t, uint32_t, int64_t,
	    int64_t *);
/* Score; 0 or -1 (allocation). r owns memory: siap_result_free(). */
int	siap_score(const struct siap_input *, const struct siap_params *,
	    struct siap_result *);
void	siap_result_free(struct siap_result *);

#endif
