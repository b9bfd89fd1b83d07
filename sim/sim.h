/*
 * trackfuse-sim: private interfaces of the sensor simulators.
 *
 * scenario.c loads the YAML scenario, motion.c turns it into ground truth
 * (a pure function of simulated time), sensor.c runs each sensor's
 * coverage, detection, local tracker and report generation and merges all
 * sensors' frames into one event-time ordered stream, simnet.c carries a
 * sensor's frames to the daemon. Nothing below simnet.c sees a socket or
 * the wall clock: the same seed gives the same bytes.
 */
#ifndef TRACKFUSE_SIM_H
#define TRACKFUSE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trackfuse/track.h"
#include "trackfuse/wire.h"

#define SIM_ERRLEN		512
#define SIM_SOFTWARE		"trackfuse-sim " TF_VERSION

/* One waypoint of a route; the leg from it is flown at its speed. */
struct sim_waypoint {
	double		lat;
	double		lon;
	double		alt_m;
	double		speed_mps;
};

/* A ballistic missile: boost toward the target, then free flight. */
struct sim_ballistic {
	double		launch_lat;
	double		launch_lon;
	double		launch_s;
	double		target_lat;
	double		target_lon;
	double		boost_s;
	double		boost_accel_mps2;
	bool		lofted;		/* high branch of the range curve */
};

/* Formation member: the leader's track shifted in the leader's frame. */
struct sim_follow {
	char		*leader;
	double		right_m;
	double		back_m;
	double		up_m;
};

struct sim_motion_cfg {
	double			 start_s;	/* route: appears at this time */
	struct sim_waypoint	*route;
	unsigned		 route_count;
	struct sim_ballistic	*ballistic;
	struct sim_follow	*follow;
};

struct sim_object_cfg {
	char			*id;
	enum tf_category	 category;
	enum tf_identity	 identity;
	struct sim_motion_cfg	 motion;
};

/* A category a sensor sees, out to range_m (0: no range limit). */
struct sim_coverage {
	enum tf_category	 category;
	double			 range_m;
};

struct sim_sensor_cfg {
	char			*id;
	char			*nation;
	double			 lat, lon, alt_m;
	struct sim_coverage	*coverage;
	unsigned		 coverage_count;
	bool			 space_based;	/* no horizon check */
	bool			 boost_only;	/* ballistic missiles in boost only */
	double			 pd;
	double			 sigma_h_m;
	double			 sigma_v_m;
	double			 sigma_range_m;	/* > 0: radar, polar noise */
	double			 sigma_az_mrad;
	double			 sigma_el_mrad;
	double			 bias_east_m;
	double			 bias_north_m;
	double			 bias_up_m;
	unsigned		 period_ms;
	unsigned		 phase_ms;
	unsigned		 latency_ms;
	double			 false_rate;	/* false tracks born per scan */
	unsigned		 drop_misses;	/* default 3 */
	enum tf_class		 classification;
	char			**releasable_to;
	unsigned		 releasable_to_count;
};

struct sim_scenario_cfg {
	char			*start;
	double			 duration_s;
	unsigned		 step_ms;
	struct sim_object_cfg	*objects;
	unsigned		 objects_count;
	struct sim_sensor_cfg	*sensors;
	unsigned		 sensors_count;
};

/* Ground truth of one object at one time. */
struct sim_state {
	double		ecef[3];
	double		vecef[3];
	double		lat, lon, alt;
	double		venu[3];
	int		boost;		/* ballistic missile under thrust */
};

/* Precomputed motion of one object (motion.c). */
struct motion_obj {
	const struct sim_object_cfg *cfg;
	int		 leader;	/* index of the leader or -1 */
	double		*leg_t0;	/* route: leg start times, s */
	double		*leg_len;	/* route: leg lengths, m */
	double		*leg_brg;	/* route: leg initial bearings, deg */
	double		 end_s;		/* object ends at this time */
	double		(*bm)[6];	/* ballistic: ECEF state per step */
	size_t		 bm_n;
	double		 bm_pitch_deg;
	double		 bm_apogee_m;
	double		 bm_impact_lat, bm_impact_lon;
};

struct sim_scenario {
	struct sim_scenario_cfg	*cfg;
	char			*path;
	int64_t			 start_ns;
	int64_t			 duration_ms;
	unsigned		 step_ms;
	struct motion_obj	*obj;
	unsigned		 nobj;
	struct scale_store	*scale;		/* generated objects or NULL */
};

/* scenario.c */
struct sim_scenario *scenario_load(const char *, char *, size_t);
void		 scenario_free(struct sim_scenario *);
int		 scenario_parse_time(const char *, int64_t *);
int		 scenario_sensor_index(const struct sim_scenario *, const char *);
/* The scenario's (and truth file's) spelling of a category and identity. */
const char	*scenario_cat_name(enum tf_category);
const char	*scenario_ident_name(enum tf_identity);

/* scale.c: generated scale scenarios (--objects N). */
#define SCALE_MAX_OBJECTS	1000000
struct scale_store;
int		 scale_generate(struct sim_scenario *, unsigned, uint64_t,
		    char *, size_t);
void		 scale_free(struct sim_scenario *);

/* motion.c */
int		 motion_init(struct sim_scenario *, char *, size_t);
void		 motion_free(struct sim_scenario *);
/* 1 and *st when object i exists at t_ms, else 0. */
int		 motion_state(const struct sim_scenario *, unsigned, int64_t,
		    struct sim_state *);
/* Fly a ballistic missile at pitch (deg); returns the sample count. */
size_t		 motion_bm_fly(const struct sim_ballistic *, double, double,
		    double (**)[6], double *, double *, double *);

/* sensor.c: random numbers (xoshiro256**, seeded through splitmix64). */
struct sensor_rng {
	uint64_t	s[4];
};
void		 sensor_rng_seed(struct sensor_rng *, uint64_t, const char *);
uint64_t	 sensor_rng_next(struct sensor_rng *);
double		 sensor_rng_uniform(struct sensor_rng *);
double		 sensor_rng_gauss(struct sensor_rng *);
uint64_t	 sensor_hash(const char *);

/* sensor.c: a constant-velocity Kalman filter in ECEF. */
struct sensor_kf {
	double		x[6];
	double		P[36];
};
void		 sensor_kf_init(struct sensor_kf *, const double[3],
		    const double[3], double, const double[9]);
void		 sensor_kf_predict(struct sensor_kf *, double, double, int);
void		 sensor_kf_update(struct sensor_kf *, const double[3],
		    const double[9]);
void		 sensor_meas_cov(double, double, double, double, double[9]);
void		 sensor_polar_noise(const struct sim_sensor_cfg *,
		    const double[3], const double[3], struct sensor_rng *,
		    double[3], double[9]);
int		 sensor_covers(const struct sim_sensor_cfg *, enum tf_category,
		    const struct sim_state *);

/* sensor.c: the world, all simulated sensors merged in event-time order. */
enum sensor_frame_kind {
	SENSOR_FRAME_HEARTBEAT,
	SENSOR_FRAME_REPORT,
	SENSOR_FRAME_DROP
};

/* Receives each frame in order; env is valid only during the call. */
typedef void (*sensor_emit_fn)(void *, unsigned, int64_t, const Envelope *);

struct sensor_stats {
	uint64_t	reports;
	uint64_t	drops;
	uint64_t	heartbeats;
	uint64_t	false_tracks;
	uint64_t	frames;
};

struct sensor_world;
/* sel: scenario sensor indices to simulate (NULL: all), in scenario order. */
struct sensor_world *sensor_world_new(const struct sim_scenario *, uint64_t,
		    const int *, unsigned);
void		 sensor_world_free(struct sensor_world *);
/*
 * Emit every frame due at or before until_ms (capped at the scenario's
 * end) and, when truth is not NULL, the truth lines up to then.
 * Returns 1 when the scenario is complete.
 */
int		 sensor_world_run(struct sensor_world *, int64_t,
		    sensor_emit_fn, void *, FILE *);
int64_t		 sensor_world_now(const struct sensor_world *);
unsigned	 sensor_world_count(const struct sensor_world *);
const struct sim_sensor_cfg *sensor_world_sensor(const struct sensor_world *,
		    unsigned);
const struct sensor_stats *sensor_world_stats(const struct sensor_world *,
		    unsigned);

/* simnet.c */
struct simnet_opts {
	const char	*host;
	const char	*port;
	const char	*certs;		/* NULL with plain */
	int		 plain;
	int		 fast;
	FILE		*record;
	FILE		*truth;
};
int		 simnet_run(struct sensor_world *, const struct simnet_opts *);
/* Frames written to out in wire framing; -1 on a write error. */
int		 simnet_record(FILE *, const Envelope *);

#endif
