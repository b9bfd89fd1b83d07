/*
 * Scenario files: YAML read through a libcyaml schema, then checked for
 * what a schema cannot say (ranges, references, one motion per object).
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cyaml/cyaml.h>

#include "trackfuse/codec.h"
#include "sim.h"

static const cyaml_strval_t scenario_cat_strings[] = {
	{ "air", TF_CAT_AIR },
	{ "surface", TF_CAT_SURFACE },
	{ "subsurface", TF_CAT_SUBSURFACE },
	{ "space", TF_CAT_SPACE },
	{ "ballistic-missile", TF_CAT_BALLISTIC_MISSILE },
	{ "land", TF_CAT_LAND },
};

static const cyaml_strval_t scenario_ident_strings[] = {
	{ "pending", TF_IDENT_PENDING },
	{ "unknown", TF_IDENT_UNKNOWN },
	{ "assumed-friend", TF_IDENT_ASSUMED_FRIEND },
	{ "friend", TF_IDENT_FRIEND },
	{ "neutral", TF_IDENT_NEUTRAL },
	{ "suspect", TF_IDENT_SUSPECT },
	{ "hostile", TF_IDENT_HOSTILE },
};

static const cyaml_strval_t scenario_class_strings[] = {
	{ "unclassified", TF_CLASS_UNCLASSIFIED },
	{ "restricted", TF_CLASS_RESTRICTED },
	{ "confidential", TF_CLASS_CONFIDENTIAL },
	{ "secret", TF_CLASS_SECRET },
	{ "top-secret", TF_CLASS_TOP_SECRET },
};

#define NSTR(a)	(sizeof(a) / sizeof((a)[0]))
#define OPT	CYAML_FLAG_OPTIONAL

static const cyaml_schema_field_t scenario_wp_fields[] = {
	CYAML_FIELD_FLOAT("lat", 0, struct sim_waypoint, lat),
	CYAML_FIELD_FLOAT("lon", 0, struct sim_waypoint, lon),
	CYAML_FIELD_FLOAT("alt_m", OPT, struct sim_waypoint, alt_m),
	CYAML_FIELD_FLOAT("speed_mps", 0, struct sim_waypoint, speed_mps),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t scenario_wp_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct sim_waypoint,
	    scenario_wp_fields),
};

static const cyaml_schema_field_t scenario_bm_fields[] = {
	CYAML_FIELD_FLOAT("launch_lat", 0, struct sim_ballistic, launch_lat),
	CYAML_FIELD_FLOAT("launch_lon", 0, struct sim_ballistic, launch_lon),
	CYAML_FIELD_FLOAT("launch_s", 0, struct sim_ballistic, launch_s),
	CYAML_FIELD_FLOAT("target_lat", 0, struct sim_ballistic, target_lat),
	CYAML_FIELD_FLOAT("target_lon", 0, struct sim_ballistic, target_lon),
	CYAML_FIELD_FLOAT("boost_s", 0, struct sim_ballistic, boost_s),
	CYAML_FIELD_FLOAT("boost_accel_mps2", 0, struct sim_ballistic,
	    boost_accel_mps2),
	CYAML_FIELD_BOOL("lofted", OPT, struct sim_ballistic, lofted),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t scenario_follow_fields[] = {
	CYAML_FIELD_STRING_PTR("leader", CYAML_FLAG_POINTER, struct sim_follow,
	    leader, 1, TF_ID_LEN - 1),
	CYAML_FIELD_FLOAT("right_m", OPT, struct sim_follow, right_m),
	CYAML_FIELD_FLOAT("back_m", OPT, struct sim_follow, back_m),
	CYAML_FIELD_FLOAT("up_m", OPT, struct sim_follow, up_m),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t scenario_motion_fields[] = {
	CYAML_FIELD_FLOAT("start_s", OPT, struct sim_motion_cfg, start_s),
	CYAML_FIELD_SEQUENCE("route", CYAML_FLAG_POINTER | OPT,
	    struct sim_motion_cfg, route, &scenario_wp_schema, 2, 64),
	CYAML_FIELD_MAPPING_PTR("ballistic", CYAML_FLAG_POINTER | OPT,
	    struct sim_motion_cfg, ballistic, scenario_bm_fields),
	CYAML_FIELD_MAPPING_PTR("follow", CYAML_FLAG_POINTER | OPT,
	    struct sim_motion_cfg, follow, scenario_follow_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t scenario_obj_fields[] = {
	CYAML_FIELD_STRING_PTR("id", CYAML_FLAG_POINTER, struct sim_object_cfg,
	    id, 1, TF_ID_LEN - 1),
	CYAML_FIELD_ENUM("category", CYAML_FLAG_DEFAULT, struct sim_object_cfg,
	    category, scenario_cat_strings, NSTR(scenario_cat_strings)),
	CYAML_FIELD_ENUM("identity", CYAML_FLAG_DEFAULT, struct sim_object_cfg,
	    identity, scenario_ident_strings, NSTR(scenario_ident_strings)),
	CYAML_FIELD_MAPPING("motion", CYAML_FLAG_DEFAULT, struct sim_object_cfg,
	    motion, scenario_motion_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t scenario_obj_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct sim_object_cfg,
	    scenario_obj_fields),
};

static const cyaml_schema_field_t scenario_cov_fields[] = {
	CYAML_FIELD_ENUM("category", CYAML_FLAG_DEFAULT, struct sim_coverage,
	    category, scenario_cat_strings, NSTR(scenario_cat_strings)),
	CYAML_FIELD_FLOAT("range_m", OPT, struct sim_coverage, range_m),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t scenario_cov_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct sim_coverage,
	    scenario_cov_fields),
};

static const cyaml_schema_value_t scenario_nation_schema = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 3, 3),
};

static const cyaml_schema_field_t scenario_sensor_fields[] = {
	CYAML_FIELD_STRING_PTR("id", CYAML_FLAG_POINTER, struct sim_sensor_cfg,
	    id, 1, TF_ID_LEN - 1),
	CYAML_FIELD_STRING_PTR("nation", CYAML_FLAG_POINTER,
	    struct sim_sensor_cfg, nation, 3, 3),
	CYAML_FIELD_FLOAT("lat", 0, struct sim_sensor_cfg, lat),
	CYAML_FIELD_FLOAT("lon", 0, struct sim_sensor_cfg, lon),
	CYAML_FIELD_FLOAT("alt_m", OPT, struct sim_sensor_cfg, alt_m),
	CYAML_FIELD_SEQUENCE("coverage", CYAML_FLAG_POINTER,
	    struct sim_sensor_cfg, coverage, &scenario_cov_schema, 1, 8),
	CYAML_FIELD_BOOL("space_based", OPT, struct sim_sensor_cfg,
	    space_based),
	CYAML_FIELD_BOOL("boost_only", OPT, struct sim_sensor_cfg, boost_only),
	CYAML_FIELD_FLOAT("pd", 0, struct sim_sensor_cfg, pd),
	CYAML_FIELD_FLOAT("sigma_h_m", 0, struct sim_sensor_cfg, sigma_h_m),
	CYAML_FIELD_FLOAT("sigma_v_m", 0, struct sim_sensor_cfg, sigma_v_m),
	CYAML_FIELD_FLOAT("sigma_range_m", OPT, struct sim_sensor_cfg,
	    sigma_range_m),
	CYAML_FIELD_FLOAT("sigma_az_mrad", OPT, struct sim_sensor_cfg,
	    sigma_az_mrad),
	CYAML_FIELD_FLOAT("sigma_el_mrad", OPT, struct sim_sensor_cfg,
	    sigma_el_mrad),
	CYAML_FIELD_FLOAT("bias_east_m", OPT, struct sim_sensor_cfg,
	    bias_east_m),
	CYAML_FIELD_FLOAT("bias_north_m", OPT, struct sim_sensor_cfg,
	    bias_north_m),
	CYAML_FIELD_FLOAT("bias_up_m", OPT, struct sim_sensor_cfg, bias_up_m),
	CYAML_FIELD_UINT("period_ms", 0, struct sim_sensor_cfg, period_ms),
	CYAML_FIELD_UINT("phase_ms", OPT, struct sim_sensor_cfg, phase_ms),
	CYAML_FIELD_UINT("latency_ms", OPT, struct sim_sensor_cfg, latency_ms),
	CYAML_FIELD_FLOAT("false_rate", OPT, struct sim_sensor_cfg,
	    false_rate),
	CYAML_FIELD_UINT("drop_misses", OPT, struct sim_sensor_cfg,
	    drop_misses),
	CYAML_FIELD_ENUM("classification", CYAML_FLAG_DEFAULT,
	    struct sim_sensor_cfg, classification, scenario_class_strings,
	    NSTR(scenario_class_strings)),
	CYAML_FIELD_SEQUENCE("releasable_to", CYAML_FLAG_POINTER,
	    struct sim_sensor_cfg, releasable_to, &scenario_nation_schema, 1,
	    TF_MAX_REL),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t scenario_sensor_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct sim_sensor_cfg,
	    scenario_sensor_fields),
};

static const cyaml_schema_field_t scenario_fields[] = {
	CYAML_FIELD_STRING_PTR("start", CYAML_FLAG_POINTER,
	    struct sim_scenario_cfg, start, 20, 40),
	CYAML_FIELD_FLOAT("duration_s", 0, struct sim_scenario_cfg,
	    duration_s),
	CYAML_FIELD_UINT("step_ms", OPT, struct sim_scenario_cfg, step_ms),
	CYAML_FIELD_SEQUENCE("objects", CYAML_FLAG_POINTER,
	    struct sim_scenario_cfg, objects, &scenario_obj_schema, 0, 4096),
	CYAML_FIELD_SEQUENCE("sensors", CYAML_FLAG_POINTER,
	    struct sim_scenario_cfg, sensors, &scenario_sensor_schema, 1, 64),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t scenario_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct sim_scenario_cfg,
	    scenario_fields),
};

/* What libcyaml told us while loading: first message and first position. */
struct scenario_log {
	char	msg[512];
	int	line, col;
};

/* Collect libcyaml's error lines; the backtrace carries line and column. */
static void
scenario_cyaml_log(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
{
	struct scenario_log	*sl = ctx;
	char			 buf[512], *p;
	int			 line, col;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	if (sl->line == 0 && (p = strstr(buf, "(line: ")) != NULL &&
	    sscanf(p, "(line: %d, column: %d)", &line, &col) == 2) {
		sl->line = line;
		sl->col = col;
	}
	if (sl->msg[0] == '\0' && strstr(buf, "Backtrace") == NULL &&
	    strstr(buf, "(line: ") == NULL) {
		p = buf;
		if (strncmp(p, "Load: ", 6) == 0)
			p += 6;
		snprintf(sl->msg, sizeof(sl->msg), "%s", p);
	}
}

static const cyaml_config_t scenario_cyaml_base = {
	.log_fn = scenario_cyaml_log,
	.mem_fn = cyaml_mem,
	.log_level = CYAML_LOG_ERROR,
	.flags = CYAML_CFG_DEFAULT,
};

/* Parse RFC 3339 UTC "YYYY-MM-DDTHH:MM:SS[.fff]Z" into ns since the epoch. */
int
scenario_parse_time(const char *s, int64_t *ns)
{
	struct tm	 tm;
	int		 n = 0;
	double		 frac = 0.0;
	const char	*p;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	p = s + n;
	if (*p == '.') {
		char *end;

		frac = strtod(p, &end);
		p = end;
	}
	if (strcmp(p, "Z") != 0)
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*ns = (int64_t)t * 1000000000LL + (int64_t)llround(frac * 1e9);
	return 0;
}

/* Index of the scenario sensor with this id, or -1. */
int
scenario_sensor_index(const struct sim_scenario *sc, const char *id)
{
	unsigned	i;

	for (i = 0; i < sc->cfg->sensors_count; i++)
		if (strcmp(sc->cfg->sensors[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* Look a value up in a libcyaml string table. */
static const char *
scenario_strval(const cyaml_strval_t *t, size_t n, int64_t v)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (t[i].val == v)
			return t[i].str;
	return "none";
}

/* Scenario name of a category ("ballistic-missile"). */
const char *
scenario_cat_name(enum tf_category c)
{
	return scenario_strval(scenario_cat_strings,
	    NSTR(scenario_cat_strings), c);
}

/* Scenario name of an identity ("hostile"). */
const char *
scenario_ident_name(enum tf_identity i)
{
	return scenario_strval(scenario_ident_strings,
	    NSTR(scenario_ident_strings), i);
}

/* Format a "file: what" error. */
static int
scenario_err(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	char	buf[400];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", path, buf);
	return -1;
}

/* Check one object for what the schema cannot express. */
static int
scenario_check_object(const struct sim_scenario_cfg *c, unsigned i,
    const char *path, char *err, size_t errlen)
{
	const struct sim_object_cfg	*o = &c->objects[i];
	const struct sim_motion_cfg	*m = &o->motion;
	unsigned			 j, n;

	if (!codec_id_valid(o->id))
		return scenario_err(err, errlen, path, "object %s: bad id",
		    o->id);
	for (j = 0; j < i; j++)
		if (strcmp(c->objects[j].id, o->id) == 0)
			return scenario_err(err, errlen, path,
			    "object %s: duplicate id", o->id);
	n = (m->route != NULL) + (m->ballistic != NULL) + (m->follow != NULL);
	if (n != 1)
		return scenario_err(err, errlen, path, "object %s: motion needs "
		    "exactly one of route, ballistic, follow", o->id);
	for (j = 0; m->route != NULL && j < m->route_count; j++) {
		const struct sim_waypoint *w = &m->route[j];

		if (fabs(w->lat) > 89.0 || fabs(w->lon) > 180.0 ||
		    w->alt_m < -1000.0 || w->alt_m > 30000.0 ||
		    w->speed_mps < 0.0 || w->speed_mps > 3000.0)
			return scenario_err(err, errlen, path, "object %s: "
			    "waypoint %u out of range", o->id, j + 1);
		if (j + 1 < m->route_count && w->speed_mps <= 0.0)
			return scenario_err(err, errlen, path, "object %s: "
			    "waypoint %u needs a speed", o->id, j + 1);
	}
	if (m->ballistic != NULL && (m->ballistic->boost_s <= 0.0 ||
	    m->ballistic->boost_s > 600.0 ||
	    m->ballistic->boost_accel_mps2 <= 10.0 ||
	    m->ballistic->boost_accel_mps2 > 200.0 ||
	    m->ballistic->launch_s < 0.0))
		return scenario_err(err, errlen, path, "object %s: ballistic "
		    "boost out of range", o->id);
	if (m->start_s < 0.0)
		return scenario_err(err, errlen, path, "object %s: negative "
		    "start_s", o->id);
	return 0;
}

/* Check one sensor for what the schema cannot express. */
static int
scenario_check_sensor(struct sim_scenario_cfg *c, unsigned i,
    const char *path, char *err, size_t errlen)
{
	struct sim_sensor_cfg	*s = &c->sensors[i];
	unsigned		 j;

	if (!codec_id_valid(s->id) || !codec_nation_valid(s->nation))
		return scenario_err(err, errlen, path, "sensor %s: bad id or "
		    "nation", s->id);
	for (j = 0; j < i; j++)
		if (strcmp(c->sensors[j].id, s->id) == 0)
			return scenario_err(err, errlen, path,
			    "sensor %s: duplicate id", s->id);
	if (s->pd < 0.0 || s->pd > 1.0 || s->false_rate < 0.0 ||
	    s->false_rate > 1.0)
		return scenario_err(err, errlen, path, "sensor %s: pd and "
		    "false_rate must be in [0, 1]", s->id);
	if (s->sigma_h_m <= 0.0 || s->sigma_v_m <= 0.0)
		return scenario_err(err, errlen, path, "sensor %s: sigmas "
		    "must be positive", s->id);
	if (s->sigma_range_m < 0.0 || (s->sigma_range_m > 0.0 &&
	    (s->sigma_az_mrad <= 0.0 || s->sigma_el_mrad <= 0.0)))
		return scenario_err(err, errlen, path, "sensor %s: "
		    "sigma_range_m needs positive sigma_az_mrad and "
		    "sigma_el_mrad", s->id);
	if (s->period_ms < 100 || s->period_ms > 600000 ||
	    s->latency_ms > 60000)
		return scenario_err(err, errlen, path, "sensor %s: period_ms "
		    "or latency_ms out of range", s->id);
	for (j = 0; j < s->releasable_to_count; j++)
		if (!codec_nation_valid(s->releasable_to[j]))
			return scenario_err(err, errlen, path, "sensor %s: "
			    "bad nation %s", s->id, s->releasable_to[j]);
	if (s->drop_misses == 0)
		s->drop_misses = 3;
	return 0;
}

/* Check the whole scenario after the schema has accepted it. */
static int
scenario_check(struct sim_scenario *sc, char *err, size_t errlen)
{
	struct sim_scenario_cfg	*c = sc->cfg;
	unsigned		 i;

	if (scenario_parse_time(c->start, &sc->start_ns) == -1)
		return scenario_err(err, errlen, sc->path, "start: not RFC "
		    "3339 UTC (e.g. 2026-11-29T00:00:00Z): %s", c->start);
	if (!(c->duration_s > 0.0 && c->duration_s <= 86400.0))
		return scenario_err(err, errlen, sc->path, "duration_s must "
		    "be in (0, 86400]");
	if (c->step_ms == 0)
		c->step_ms = 100;
	if (c->step_ms < 10 || c->step_ms > 1000)
		return scenario_err(err, errlen, sc->path, "step_ms must be "
		    "in [10, 1000]");
	sc->step_ms = c->step_ms;
	sc->duration_ms = llround(c->duration_s * 1000.0);
	for (i = 0; i < c->objects_count; i++)
		if (scenario_check_object(c, i, sc->path, err, errlen) == -1)
			return -1;
	for (i = 0; i < c->sensors_count; i++)
		if (scenario_check_sensor(c, i, sc->path, err, errlen) == -1)
			return -1;
	return 0;
}

/* Load, validate and precompute a scenario; NULL with err on failure. */
struct sim_scenario *
scenario_load(const char *path, char *err, size_t errlen)
{
	struct sim_scenario	*sc;
	struct scenario_log	 sl;
	cyaml_config_t		 cfg = scenario_cyaml_base;
	cyaml_err_t		 e;

	memset(&sl, 0, sizeof(sl));
	cfg.log_ctx = &sl;
	if ((sc = calloc(1, sizeof(*sc))) == NULL ||
	    (sc->path = strdup(path)) == NULL) {
		free(sc);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	e = cyaml_load_file(path, &cfg, &scenario_schema,
	    (cyaml_data_t **)&sc->cfg, NULL);
	if (e != CYAML_OK || sc->cfg == NULL) {
		if (sl.line > 0)
			snprintf(err, errlen, "%s:%d:%d: %s", path, sl.line,
			    sl.col, sl.msg[0] ? sl.msg : cyaml_strerror(e));
		else
			snprintf(err, errlen, "%s: %s", path, sl.msg[0] ?
			    sl.msg : cyaml_strerror(e));
		scenario_free(sc);
		return NULL;
	}
	if (scenario_check(sc, err, errlen) == -1 ||
	    motion_init(sc, err, errlen) == -1) {
		scenario_free(sc);
		return NULL;
	}
	return sc;
}

/* Free a scenario and everything it owns. */
void
scenario_free(struct sim_scenario *sc)
{
	if (sc == NULL)
		return;
	scale_free(sc);
	motion_free(sc);
	if (sc->cfg != NULL)
		cyaml_free(&scenario_cyaml_base, &scenario_schema, sc->cfg, 0);
	free(sc->path);
	free(sc);
}
