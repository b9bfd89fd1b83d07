/*
 * Daemon configuration: read the YAML file once into memory, walk it with
 * libyaml to learn where every key and value sits (line and column), load it
 * against a libcyaml schema, then check what a schema cannot say (ranges,
 * loopback-only plain TCP, unique identities and sensors, readable TLS
 * files). Every error names file:line:column and what is wrong.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cyaml/cyaml.h>
#include <yaml.h>

#include "trackfuse/config.h"
#include "yamlerr.h"

#define CONFIG_MSGLEN		256

/* Defaults; docs/config.md and config.h comments say the same. */
#define CONFIG_DEF_ADDRESS	"127.0.0.1"
#define CONFIG_DEF_FEEDS_PORT	7401
#define CONFIG_DEF_SUBS_PORT	7402

/*
 * What libcyaml fills. Numbers are 64-bit here so that libcyaml accepts any
 * unsigned value and our own range checks give one uniform message.
 */
struct config_raw_listen {
	char		*address;
	uint64_t	 port;
	int		 tls;
};

struct config_raw_listens {
	struct config_raw_listen feeds;
	struct config_raw_listen subscribers;
};

struct config_raw_tls {
	char		*ca;
	char		*cert;
	char		*key;
};

struct config_raw_log {
	char		*file;
	uint64_t	 stats_interval_s;
};

struct config_raw_audit {
	char		*file;
	uint64_t	 interval_s;
};

struct config_raw_limits {
	uint64_t	max_frame;
	uint64_t	max_feeds;
	uint64_t	max_subscribers;
	uint64_t	max_tracks;
	uint64_t	max_sources;
	uint64_t	subscriber_buffer;
	uint64_t	handshake_timeout_ms;
	uint64_t	idle_timeout_ms;
};

struct config_raw_correlator {
	double		gate_chi2;
	uint64_t	stale_ms;
	uint64_t	coast_ms;
	double		cell_m;
};

struct config_raw_identity {
	char		*id;
	int		 role;
	char		*nation;
	char		**sensors;
	unsigned	 nsensors;
	char		*secret;
	int		 federation;
	char		*peer_daemon_nation;
};

struct config_raw_class {
	char		*nation;
	char		*level;
	char		*common;
};

struct config_raw_uplink {
	char		*id;
	char		*connect;
	char		*recipient;
	int		 tls;
	char		*cert;
	char		*key;
	uint64_t	 max_tracks;
	char		*secret;
};

struct config_raw {
	char				*name;
	char				*nation;
	struct config_raw_listens	 listen;
	struct config_raw_tls		 tls;
	struct config_raw_log		 log;
	struct config_raw_limits	 limits;
	struct config_raw_correlator	 correlator;
	struct config_raw_identity	*identities;
	unsigned			 nidentities;
	char				*policy_dir;
	struct config_raw_audit		 audit;
	struct config_raw_class		*classifications;
	unsigned			 nclassifications;
	struct config_raw_uplink	*uplinks;
	unsigned			 nuplinks;
};

static const cyaml_strval_t config_onoff[] = {
	{ "on", 1 }, { "off", 0 },
	{ "true", 1 }, { "false", 0 },
	{ "yes", 1 }, { "no", 0 },
};

static const cyaml_strval_t config_roles[] = {
	{ "feed", CONFIG_ROLE_FEED },
	{ "subscriber", CONFIG_ROLE_SUBSCRIBER },
};

#define CONFIG_STR_FIELD(k, fl, s, m) \
	CYAML_FIELD_STRING_PTR(k, CYAML_FLAG_POINTER | (fl), s, m, \
	    0, CYAML_UNLIMITED)

static const cyaml_schema_field_t config_listen_fields[] = {
	CONFIG_STR_FIELD("address", CYAML_FLAG_OPTIONAL,
	    struct config_raw_listen, address),
	CYAML_FIELD_UINT("port", CYAML_FLAG_OPTIONAL,
	    struct config_raw_listen, port),
	CYAML_FIELD_ENUM("tls", CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT |
	    CYAML_FLAG_CASE_INSENSITIVE, struct config_raw_listen, tls,
	    config_onoff, CYAML_ARRAY_LEN(config_onoff)),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t config_listens_fields[] = {
	CYAML_FIELD_MAPPING("feeds", CYAML_FLAG_OPTIONAL,
	    struct config_raw_listens, feeds, config_listen_fields),
	CYAML_FIELD_MAPPING("subscribers", CYAML_FLAG_OPTIONAL,
	    struct config_raw_listens, subscribers, config_listen_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t config_tls_fields[] = {
	CONFIG_STR_FIELD("ca", 0, struct config_raw_tls, ca),
	CONFIG_STR_FIELD("cert", 0, struct config_raw_tls, cert),
	CONFIG_STR_FIELD("key", 0, struct config_raw_tls, key),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t config_audit_fields[] = {
	CONFIG_STR_FIELD("file", CYAML_FLAG_OPTIONAL,
	    struct config_raw_audit, file),
	CYAML_FIELD_UINT("interval_s", CYAML_FLAG_OPTIONAL,
	    struct config_raw_audit, interval_s),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t config_log_fields[] = {
	CONFIG_STR_FIELD("file", CYAML_FLAG_OPTIONAL,
	    struct config_raw_log, file),
	CYAML_FIELD_UINT("stats_interval_s", CYAML_FLAG_OPTIONAL,
	    struct config_raw_log, stats_interval_s),
	CYAML_FIELD_END
};

#define CONFIG_LIMIT_FIELD(m) \
	CYAML_FIELD_UINT(#m, CYAML_FLAG_OPTIONAL, struct config_raw_limits, m)

static const cyaml_schema_field_t config_limits_fields[] = {
	CONFIG_LIMIT_FIELD(max_frame),
	CONFIG_LIMIT_FIELD(max_feeds),
	CONFIG_LIMIT_FIELD(max_subscribers),
	CONFIG_LIMIT_FIELD(max_tracks),
	CONFIG_LIMIT_FIELD(max_sources),
	CONFIG_LIMIT_FIELD(subscriber_buffer),
	CONFIG_LIMIT_FIELD(handshake_timeout_ms),
	CONFIG_LIMIT_FIELD(idle_timeout_ms),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t config_correlator_fields[] = {
	CYAML_FIELD_FLOAT("gate_chi2", CYAML_FLAG_OPTIONAL,
	    struct config_raw_correlator, gate_chi2),
	CYAML_FIELD_UINT("stale_ms", CYAML_FLAG_OPTIONAL,
	    struct config_raw_correlator, stale_ms),
	CYAML_FIELD_UINT("coast_ms", CYAML_FLAG_OPTIONAL,
	    struct config_raw_correlator, coast_ms),
	CYAML_FIELD_FLOAT("cell_m", CYAML_FLAG_OPTIONAL,
	    struct config_raw_correlator, cell_m),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t config_string_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t config_identity_fields[] = {
	CONFIG_STR_FIELD("id", 0, struct config_raw_identity, id),
	CYAML_FIELD_ENUM("role", CYAML_FLAG_STRICT,
	    struct config_raw_identity, role,
	    config_roles, CYAML_ARRAY_LEN(config_roles)),
	CONFIG_STR_FIELD("nation", 0, struct config_raw_identity, nation),
	CYAML_FIELD_SEQUENCE_COUNT("sensors",
	    CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct config_raw_identity, sensors, nsensors,
	    &config_string_entry, 0, CONFIG_MAX_SENSORS),
	CONFIG_STR_FIELD("secret", CYAML_FLAG_OPTIONAL,
	    struct config_raw_identity, secret),
	CYAML_FIELD_ENUM("federation", CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT |
	    CYAML_FLAG_CASE_INSENSITIVE, struct config_raw_identity, federation,
	    config_onoff, CYAML_ARRAY_LEN(config_onoff)),
	CONFIG_STR_FIELD("peer_daemon_nation", CYAML_FLAG_OPTIONAL,
	    struct config_raw_identity, peer_daemon_nation),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t config_identity_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct config_raw_identity,
	    config_identity_fields),
};

static const cyaml_schema_field_t config_class_fields[] = {
	CONFIG_STR_FIELD("nation", 0, struct config_raw_class, nation),
	CONFIG_STR_FIELD("level", 0, struct config_raw_class, level),
	CONFIG_STR_FIELD("common", 0, struct config_raw_class, common),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t config_class_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct config_raw_class,
	    config_class_fields),
};

static const cyaml_schema_field_t config_uplink_fields[] = {
	CONFIG_STR_FIELD("id", 0, struct config_raw_uplink, id),
	CONFIG_STR_FIELD("connect", 0, struct config_raw_uplink, connect),
	CONFIG_STR_FIELD("recipient", 0, struct config_raw_uplink, recipient),
	CYAML_FIELD_ENUM("tls", CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT |
	    CYAML_FLAG_CASE_INSENSITIVE, struct config_raw_uplink, tls,
	    config_onoff, CYAML_ARRAY_LEN(config_onoff)),
	CONFIG_STR_FIELD("cert", CYAML_FLAG_OPTIONAL,
	    struct config_raw_uplink, cert),
	CONFIG_STR_FIELD("key", CYAML_FLAG_OPTIONAL,
	    struct config_raw_uplink, key),
	CYAML_FIELD_UINT("max_tracks", CYAML_FLAG_OPTIONAL,
	    struct config_raw_uplink, max_tracks),
	CONFIG_STR_FIELD("secret", CYAML_FLAG_OPTIONAL,
	    struct config_raw_uplink, secret),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t config_uplink_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct config_raw_uplink,
	    config_uplink_fields),
};

static const cyaml_schema_field_t config_fields[] = {
	CONFIG_STR_FIELD("name", 0, struct config_raw, name),
	CONFIG_STR_FIELD("nation", 0, struct config_raw, nation),
	CYAML_FIELD_MAPPING("listen", CYAML_FLAG_OPTIONAL,
	    struct config_raw, listen, config_listens_fields),
	CYAML_FIELD_MAPPING("tls", CYAML_FLAG_OPTIONAL,
	    struct config_raw, tls, config_tls_fields),
	CYAML_FIELD_MAPPING("log", CYAML_FLAG_OPTIONAL,
	    struct config_raw, log, config_log_fields),
	CYAML_FIELD_MAPPING("limits", CYAML_FLAG_OPTIONAL,
	    struct config_raw, limits, config_limits_fields),
	CYAML_FIELD_MAPPING("correlator", CYAML_FLAG_OPTIONAL,
	    struct config_raw, correlator, config_correlator_fields),
	CYAML_FIELD_SEQUENCE_COUNT("identities", CYAML_FLAG_POINTER,
	    struct config_raw, identities, nidentities,
	    &config_identity_entry, 1, CONFIG_MAX_IDENTITIES),
	CONFIG_STR_FIELD("policy_dir", CYAML_FLAG_OPTIONAL,
	    struct config_raw, policy_dir),
	CYAML_FIELD_MAPPING("audit", CYAML_FLAG_OPTIONAL,
	    struct config_raw, audit, config_audit_fields),
	CYAML_FIELD_SEQUENCE_COUNT("classifications",
	    CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct config_raw, classifications, nclassifications,
	    &config_class_entry, 0, CONFIG_MAX_CLASSIFICATIONS),
	CYAML_FIELD_SEQUENCE_COUNT("uplinks",
	    CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct config_raw, uplinks, nuplinks,
	    &config_uplink_entry, 0, CONFIG_MAX_UPLINKS),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t config_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct config_raw,
	    config_fields),
};

/* An unsigned setting: where it lives, its default and its range. */
struct config_uint_spec {
	const char	*path;
	size_t		 off;		/* in struct config */
	uint32_t	 def;
	uint32_t	 min;
	uint32_t	 max;
};

#define CONFIG_OFF(m)	offsetof(struct config, m)

static const struct config_uint_spec config_uints[] = {
	{ "log.stats_interval_s", CONFIG_OFF(stats_interval_s),
	    10, 1, 3600 },
	{ "audit.interval_s", CONFIG_OFF(audit_interval_s), 10, 1, 3600 },
	{ "limits.max_frame", CONFIG_OFF(limits.max_frame),
	    65536, 256, 16777216 },
	{ "limits.max_feeds", CONFIG_OFF(limits.max_feeds), 64, 1, 4096 },
	{ "limits.max_subscribers", CONFIG_OFF(limits.max_subscribers),
	    32, 1, 4096 },
	{ "limits.max_tracks", CONFIG_OFF(limits.max_tracks),
	    100000, 1, 10000000 },
	{ "limits.max_sources", CONFIG_OFF(limits.max_sources),
	    200000, 1, 100000000 },
	{ "limits.subscriber_buffer", CONFIG_OFF(limits.subscriber_buffer),
	    1048576, 4096, 1073741824 },
	{ "limits.handshake_timeout_ms",
	    CONFIG_OFF(limits.handshake_timeout_ms), 5000, 100, 600000 },
	{ "limits.idle_timeout_ms", CONFIG_OFF(limits.idle_timeout_ms),
	    30000, 100, 600000 },
	{ "correlator.stale_ms", CONFIG_OFF(correlator.stale_ms),
	    15000, 100, 3600000 },
	{ "correlator.coast_ms", CONFIG_OFF(correlator.coast_ms),
	    30000, 100, 3600000 },
};

/* What the enum-like keys take, for "'tls' expects 'on' or 'off'". */
static const struct yamlerr_expect config_expects[] = {
	{ "role", "'feed' or 'subscriber'" },
	{ "tls", "'on' or 'off'" },
	{ "federation", "'true' or 'false'" },
	{ NULL, NULL }
};

/* Apply one unsigned setting: its default, or the file's checked value. */
static int
config_uint(struct yamlerr *ctx, const struct config_uint_spec *u,
    struct config *cfg)
{
	const struct yamlerr_pos	*p = yamlerr_find(ctx, u->path);
	uint32_t		*out = (uint32_t *)((char *)cfg + u->off);
	unsigned long long	 v;

	*out = u->def;
	if (p == NULL)
		return (0);
	if (!yamlerr_uint_text(p->text))
		return (yamlerr_errpos(ctx, &p->val, "'%s' expects an unsigned "
		    "integer, got '%s'", yamlerr_leaf(u->path), p->text));
	errno = 0;
	v = strtoull(p->text, NULL, 10);
	if (errno != 0 || v < u->min || v > u->max)
		return (yamlerr_errpos(ctx, &p->val, "'%s' must be in "
		    "%" PRIu32 "..%" PRIu32 ", got %s", yamlerr_leaf(u->path),
		    u->min, u->max, p->text));
	*out = (uint32_t)v;
	return (0);
}

/* Apply one floating-point setting with its default. */
static int
config_double(struct yamlerr *ctx, const char *path, double def,
    double *out)
{
	const struct yamlerr_pos	*p = yamlerr_find(ctx, path);

	*out = def;
	if (p == NULL)
		return (0);
	if (!yamlerr_float_text(p->text, out))
		return (yamlerr_errpos(ctx, &p->val, "'%s' expects a finite "
		    "number, got '%s'", yamlerr_leaf(path), p->text));
	return (0);
}

/* ISO 3166 alpha-3 as the wire uses it: three upper-case letters. */
static int
config_nation_valid(const char *s)
{
	return (s != NULL && strlen(s) == 3 &&
	    s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
	    s[2] >= 'A' && s[2] <= 'Z');
}

/* An identity or sensor id: 1..31 bytes of A-Z a-z 0-9 '-' '_' '.'. */
static int
config_id_valid(const char *s, size_t max)
{
	size_t	n;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return (0);
	return (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_.") == n);
}

/* Copy a string the caller will own; 0 or -1 (out of memory). */
static int
config_strdup(struct yamlerr *ctx, char **dst, const char *src)
{
	if ((*dst = strdup(src)) == NULL)
		return (yamlerr_errx(ctx, "out of memory"));
	return (0);
}

/* Check and copy name and nation. */
static int
config_build_top(struct yamlerr *ctx, const struct config_raw *r,
    struct config *cfg)
{
	if (!config_id_valid(r->name, CONFIG_NAME_LEN - 1))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, "name"),
		    "name '%s' must be 1..%d characters of A-Z a-z 0-9 - _ .",
		    r->name, CONFIG_NAME_LEN - 1));
	if (!config_nation_valid(r->nation))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, "nation"),
		    "nation '%s' is not an ISO 3166 alpha-3 code "
		    "(three upper-case letters)", r->nation));
	if (config_strdup(ctx, &cfg->name, r->name) == -1 ||
	    config_strdup(ctx, &cfg->nation, r->nation) == -1)
		return (-1);
	return (0);
}

/* 1 if address is numeric loopback: 127.0.0.0/8 or ::1. */
static int
config_loopback(const char *address)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (inet_pton(AF_INET, address, &a4) == 1)
		return ((ntohl(a4.s_addr) >> 24) == 127);
	if (inet_pton(AF_INET6, address, &a6) == 1)
		return (IN6_IS_ADDR_LOOPBACK(&a6));
	return (0);
}

/* Check and copy one listener. */
static int
config_build_listen(struct yamlerr *ctx, const char *name,
    const struct config_raw_listen *r, uint16_t defport,
    struct config_listen *l)
{
	const struct yamlerr_pos	*p;
	unsigned char		 any[sizeof(struct in6_addr)];
	char			 path[64];

	snprintf(path, sizeof(path), "listen.%s.address", name);
	if (config_strdup(ctx, &l->address, r->address != NULL ?
	    r->address : CONFIG_DEF_ADDRESS) == -1)
		return (-1);
	if (inet_pton(AF_INET, l->address, any) != 1 &&
	    inet_pton(AF_INET6, l->address, any) != 1)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "address "
		    "'%s' is not a numeric IPv4 or IPv6 address", l->address));
	snprintf(path, sizeof(path), "listen.%s.port", name);
	l->port = defport;
	if ((p = yamlerr_find(ctx, path)) != NULL) {
		if (!yamlerr_uint_text(p->text))
			return (yamlerr_errpos(ctx, &p->val,
			    "'port' expects an "
			    "unsigned integer, got '%s'", p->text));
		if (r->port < 1 || r->port > 65535)
			return (yamlerr_errpos(ctx, &p->val, "'port' must be "
			    "in 1..65535, got %s", p->text));
		l->port = (uint16_t)r->port;
	}
	snprintf(path, sizeof(path), "listen.%s.tls", name);
	l->tls = yamlerr_find(ctx, path) == NULL ? 1 : r->tls;
	if (!l->tls && !config_loopback(l->address))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "'tls: off' "
		    "is allowed only on a loopback address (127.0.0.0/8 or "
		    "::1), not '%s'", l->address));
	return (0);
}

/* Parse a numeric address; 0 if the address is the wildcard. */
static int
config_addr(const char *address, int *af, unsigned char *bin)
{
	static const unsigned char	zero[sizeof(struct in6_addr)];

	memset(bin, 0, sizeof(struct in6_addr));
	*af = strchr(address, ':') != NULL ? AF_INET6 : AF_INET;
	inet_pton(*af, address, bin);
	return (memcmp(bin, zero, sizeof(zero)) != 0);
}

/*
 * 1 if two listeners would bind the same port on the same address; a
 * wildcard address takes the port on every address of its family.
 */
static int
config_listen_clash(const struct config_listen *a,
    const struct config_listen *b)
{
	unsigned char	aa[sizeof(struct in6_addr)], bb[sizeof(aa)];
	int		afa, afb, sa, sb;

	sa = config_addr(a->address, &afa, aa);
	sb = config_addr(b->address, &afb, bb);
	if (a->port != b->port || afa != afb)
		return (0);
	return (!sa || !sb || memcmp(aa, bb, sizeof(aa)) == 0);
}

/* Both listeners, then the pair. */
static int
config_build_listens(struct yamlerr *ctx, const struct config_raw *r,
    struct config *cfg)
{
	if (config_build_listen(ctx, "feeds", &r->listen.feeds,
	    CONFIG_DEF_FEEDS_PORT, &cfg->feeds) == -1 ||
	    config_build_listen(ctx, "subscribers", &r->listen.subscribers,
	    CONFIG_DEF_SUBS_PORT, &cfg->subscribers) == -1)
		return (-1);
	if (config_listen_clash(&cfg->feeds, &cfg->subscribers))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx,
		    "listen.subscribers.port"), "subscribers listener "
		    "%s port %u clashes with the feeds listener %s port %u",
		    cfg->subscribers.address, cfg->subscribers.port,
		    cfg->feeds.address, cfg->feeds.port));
	return (0);
}

/* Resolve a path against the config file's directory. */
static int
config_resolve(struct yamlerr *ctx, const char *path, char **out)
{
	if (path[0] == '/')
		return (config_strdup(ctx, out, path));
	if (asprintf(out, "%s/%s", ctx->dir, path) == -1) {
		*out = NULL;
		return (yamlerr_errx(ctx, "out of memory"));
	}
	return (0);
}

/* A TLS file must exist and be readable now; the daemon loads it later. */
static int
config_build_tlsfile(struct yamlerr *ctx, const char *key,
    const char *given, char **out)
{
	struct stat	 st;
	const char	*why = NULL;
	char		 path[32];
	int		 fd;

	snprintf(path, sizeof(path), "tls.%s", key);
	if (given[0] == '\0')
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "'%s' must name a file", key));
	if (config_resolve(ctx, given, out) == -1)
		return (-1);
	if ((fd = open(*out, O_RDONLY | O_CLOEXEC)) == -1)
		why = strerror(errno);
	else if (fstat(fd, &st) == -1)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	if (fd != -1)
		close(fd);
	if (why != NULL)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "cannot read tls %s file '%s': %s", key, *out, why));
	return (0);
}

/* The tls section: required when a listener has TLS on. */
static int
config_build_tls(struct yamlerr *ctx, const struct config_raw *r,
    struct config *cfg)
{
	const char	*need = NULL;

	if (cfg->feeds.tls)
		need = "feeds";
	else if (cfg->subscribers.tls)
		need = "subscribers";
	if (yamlerr_find(ctx, "tls") == NULL) {
		if (need == NULL)
			return (0);
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, need[0] == 'f' ?
		    "listen.feeds" : "listen.subscribers"), "listener '%s' "
		    "has tls on but there is no 'tls' section (ca, cert, key)",
		    need));
	}
	if (config_build_tlsfile(ctx, "ca", r->tls.ca, &cfg->ca) == -1 ||
	    config_build_tlsfile(ctx, "cert", r->tls.cert, &cfg->cert) == -1 ||
	    config_build_tlsfile(ctx, "key", r->tls.key, &cfg->key) == -1)
		return (-1);
	return (0);
}

/* log, limits and correlator: defaults, then ranges. */
static int
config_build_tuning(struct yamlerr *ctx, const struct config_raw *r,
    struct config *cfg)
{
	const struct yamlerr_pos	*p;
	size_t			 i;

	if (r->log.file != NULL) {
		if (r->log.file[0] == '\0')
			return (yamlerr_errpos(ctx, yamlerr_mark(ctx,
			    "log.file"), "'file' must name a file"));
		if (config_resolve(ctx, r->log.file, &cfg->log_file) == -1)
			return (-1);
	}
	for (i = 0; i < sizeof(config_uints) / sizeof(config_uints[0]); i++)
		if (config_uint(ctx, &config_uints[i], cfg) == -1)
			return (-1);
	if (cfg->limits.max_sources < cfg->limits.max_tracks) {
		p = yamlerr_find(ctx, "limits.max_sources");
		return (yamlerr_errpos(ctx, p != NULL ? &p->val :
		    yamlerr_mark(ctx, "limits.max_tracks"), "'max_sources' (%"
		    PRIu32 ") must be at least 'max_tracks' (%" PRIu32 ")",
		    cfg->limits.max_sources, cfg->limits.max_tracks));
	}
	if (config_double(ctx, "correlator.gate_chi2", 22.46,
	    &cfg->correlator.gate_chi2) == -1 ||
	    config_double(ctx, "correlator.cell_m", 2000,
	    &cfg->correlator.cell_m) == -1)
		return (-1);
	if (!(cfg->correlator.gate_chi2 > 0 &&
	    cfg->correlator.gate_chi2 <= 1000))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx,
		    "correlator.gate_chi2"), "'gate_chi2' must be in "
		    "(0, 1000], got %g", cfg->correlator.gate_chi2));
	if (!(cfg->correlator.cell_m >= 1000 &&
	    cfg->correlator.cell_m <= 10000000))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx,
		    "correlator.cell_m"), "'cell_m' must be in "
		    "1000..10000000, got %g", cfg->correlator.cell_m));
	return (0);
}

/* Value of one hex digit, or -1. */
static int
config_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Decode a 'secret' at path: 32..128 hex digits, an even count. */
static int
config_hex_secret(struct yamlerr *ctx, const char *path, const char *text,
    unsigned char **out, size_t *outlen)
{
	size_t	n, j;

	n = strlen(text);
	for (j = 0; j < n; j++)
		if (config_hexval(text[j]) == -1)
			break;
	if (j < n || n % 2 != 0 || n < CONFIG_SECRET_MIN * 2 ||
	    n > CONFIG_SECRET_MAX * 2)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "'secret' "
		    "must be %d..%d hex digits, an even count",
		    CONFIG_SECRET_MIN * 2, CONFIG_SECRET_MAX * 2));
	if ((*out = malloc(n / 2)) == NULL)
		return (yamlerr_errx(ctx, "out of memory"));
	for (j = 0; j < n / 2; j++)
		(*out)[j] = (unsigned char)(config_hexval(text[2 * j]) << 4 |
		    config_hexval(text[2 * j + 1]));
	*outlen = n / 2;
	return (0);
}

/*
 * A subscriber's secret, decoded to bytes. Feeds have no use for one, so a
 * feed with a secret is an error.
 */
static int
config_build_secret(struct yamlerr *ctx, unsigned i,
    const struct config_raw_identity *r, struct config_identity *id)
{
	char	path[64];

	if (r->secret == NULL)
		return (0);
	snprintf(path, sizeof(path), "identities[%u].secret", i);
	if (r->role != CONFIG_ROLE_SUBSCRIBER)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "feed "
		    "'%s' must not have 'secret' (subscribers only)", r->id));
	return (config_hex_secret(ctx, path, r->secret, &id->secret,
	    &id->secretlen));
}

/* federation and peer_daemon_nation: feeds only, and only together. */
static int
config_build_federation(struct yamlerr *ctx, unsigned i,
    const struct config_raw_identity *r, struct config_identity *id)
{
	char	path[64];

	snprintf(path, sizeof(path), "identities[%u].federation", i);
	if (r->federation && r->role != CONFIG_ROLE_FEED)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "subscriber '%s' cannot be a federation link (feeds "
		    "only)", r->id));
	if (r->federation && r->peer_daemon_nation == NULL)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "federation "
		    "feed '%s' must name 'peer_daemon_nation'", r->id));
	snprintf(path, sizeof(path), "identities[%u].peer_daemon_nation", i);
	if (!r->federation && r->peer_daemon_nation != NULL)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "'peer_daemon_nation' needs 'federation: true'"));
	if (!r->federation)
		return (0);
	if (!config_nation_valid(r->peer_daemon_nation))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "nation "
		    "'%s' is not an ISO 3166 alpha-3 code (three upper-case "
		    "letters)", r->peer_daemon_nation));
	id->federation = 1;
	return (config_strdup(ctx, &id->peer_daemon_nation,
	    r->peer_daemon_nation));
}

/* Check and copy one identity. */
static int
config_build_identity(struct yamlerr *ctx, unsigned i,
    const struct config_raw_identity *r, struct config_identity *id)
{
	char		path[64];
	unsigned	j;

	snprintf(path, sizeof(path), "identities[%u].id", i);
	if (!config_id_valid(r->id, TF_ID_LEN - 1))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "id '%s' "
		    "must be 1..%d characters of A-Z a-z 0-9 - _ .", r->id,
		    TF_ID_LEN - 1));
	snprintf(path, sizeof(path), "identities[%u].nation", i);
	if (!config_nation_valid(r->nation))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "nation "
		    "'%s' is not an ISO 3166 alpha-3 code (three upper-case "
		    "letters)", r->nation));
	snprintf(path, sizeof(path), "identities[%u].sensors", i);
	if (r->role == CONFIG_ROLE_FEED && r->nsensors == 0 && !r->federation)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "feed '%s' "
		    "must list at least one sensor in 'sensors'", r->id));
	if (r->role == CONFIG_ROLE_SUBSCRIBER &&
	    yamlerr_find(ctx, path) != NULL)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "subscriber "
		    "'%s' must not have 'sensors'", r->id));
	for (j = 0; j < r->nsensors; j++) {
		snprintf(path, sizeof(path), "identities[%u].sensors[%u]",
		    i, j);
		if (!config_id_valid(r->sensors[j], TF_ID_LEN - 1))
			return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
			    "sensor id '%s' must be 1..%d characters of "
			    "A-Z a-z 0-9 - _ .", r->sensors[j], TF_ID_LEN - 1));
	}
	id->role = r->role;
	if (config_strdup(ctx, &id->id, r->id) == -1 ||
	    config_strdup(ctx, &id->nation, r->nation) == -1 ||
	    config_build_secret(ctx, i, r, id) == -1 ||
	    config_build_federation(ctx, i, r, id) == -1)
		return (-1);
	if (r->nsensors == 0)
		return (0);
	if ((id->sensors = calloc(r->nsensors, sizeof(char *))) == NULL)
		return (yamlerr_errx(ctx, "out of memory"));
	for (j = 0; j < r->nsensors; j++, id->nsensors++)
		if (config_strdup(ctx, &id->sensors[j], r->sensors[j]) == -1)
			return (-1);
	return (0);
}

/* A name and where it was declared, to find duplicates by sorting. */
struct config_claim {
	const char	*name;
	unsigned	 ident;		/* identity index */
	unsigned	 sensor;	/* sensor index; UINT_MAX: the id */
};

/* Order claims by name, then by declaration order. */
static int
config_claim_cmp(const void *a, const void *b)
{
	const struct config_claim	*ca = a, *cb = b;
	int				 c;

	if ((c = strcmp(ca->name, cb->name)) != 0)
		return (c);
	if (ca->ident != cb->ident)
		return (ca->ident < cb->ident ? -1 : 1);
	if (ca->sensor != cb->sensor)
		return (ca->sensor < cb->sensor ? -1 : 1);
	return (0);
}

/* Path of a claim's value, for its position. */
static void
config_claim_path(const struct config_claim *c, char *buf, size_t len)
{
	if (c->sensor == UINT_MAX)
		snprintf(buf, len, "identities[%u].id", c->ident);
	else
		snprintf(buf, len, "identities[%u].sensors[%u]", c->ident,
		    c->sensor);
}

/*
 * Sorted by name then declaration order, each run of equal names starts
 * with the first declaration; report the duplicate that comes first in
 * the file.
 */
static int
config_claims_unique(struct yamlerr *ctx, struct config_claim *c,
    size_t n, const struct config *cfg)
{
	const struct config_claim	*dup = NULL, *first = NULL;
	const yaml_mark_t		*m;
	char				 path[64];
	size_t				 i, run = 0, line;

	qsort(c, n, sizeof(*c), config_claim_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(c[i].name, c[run].name) != 0) {
			run = i;
			continue;
		}
		if (dup == NULL || c[i].ident < dup->ident ||
		    (c[i].ident == dup->ident && c[i].sensor < dup->sensor)) {
			dup = &c[i];
			first = &c[run];
		}
	}
	if (dup == NULL)
		return (0);
	config_claim_path(first, path, sizeof(path));
	line = (m = yamlerr_mark(ctx, path)) != NULL ? m->line + 1 : 0;
	config_claim_path(dup, path, sizeof(path));
	if (dup->sensor == UINT_MAX)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "duplicate "
		    "identity id '%s' (first at line %zu)", dup->name, line));
	return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "sensor '%s' is "
	    "already claimed by identity '%s' at line %zu", dup->name,
	    cfg->identities[first->ident].id, line));
}

/* Identity ids unique among identities, sensor ids among sensors. */
static int
config_check_unique(struct yamlerr *ctx, const struct config *cfg)
{
	struct config_claim	*c;
	size_t			 n = 0, i, j;
	int			 rv;

	if ((c = calloc(cfg->nidentities, sizeof(*c))) == NULL)
		return (yamlerr_errx(ctx, "out of memory"));
	for (i = 0; i < cfg->nidentities; i++) {
		c[i].name = cfg->identities[i].id;
		c[i].ident = i;
		c[i].sensor = UINT_MAX;
	}
	rv = config_claims_unique(ctx, c, cfg->nidentities, cfg);
	free(c);
	if (rv == -1)
		return (-1);
	for (i = 0; i < cfg->nidentities; i++)
		n += cfg->identities[i].nsensors;
	if (n == 0)
		return (0);
	if ((c = calloc(n, sizeof(*c))) == NULL)
		return (yamlerr_errx(ctx, "out of memory"));
	for (n = 0, i = 0; i < cfg->nidentities; i++)
		for (j = 0; j < cfg->identities[i].nsensors; j++, n++) {
			c[n].name = cfg->identities[i].sensors[j];
			c[n].ident = i;
			c[n].sensor = j;
		}
	rv = config_claims_unique(ctx, c, n, cfg);
	free(c);
	return (rv);
}

/* All identities, then uniqueness across them. */
static int
config_build_identities(struct yamlerr *ctx, const struct config_raw *r,
    struct config *cfg)
{
	unsigned	i;

	cfg->identities = calloc(r->nidentities, sizeof(*cfg->identities));
	if (cfg->identities == NULL)
		return (yamlerr_errx(ctx, "out of memory"));
	for (i = 0; i < r->nidentities; i++, cfg->nidentities++)
		if (config_build_identity(ctx, i, &r->identities[i],
		    &cfg->identities[i]) == -1) {
			cfg->nidentities++;	/* so config_free frees it */
			return (-1);
		}
	return (config_check_unique(ctx, cfg));
}

/*
 * The policy directory, if it exists now, must be a directory. A missing
 * one is not an error here: policy.c fails every owner closed, loudly,
 * and a copy of a config elsewhere still starts.
 */
static int
config_build_policy_dir(struct yamlerr *ctx, const struct config_raw *r,
    struct config *cfg)
{
	struct stat	st;

	if (r->policy_dir == NULL)
		return (0);
	if (r->policy_dir[0] == '\0')
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, "policy_dir"),
		    "'policy_dir' must name a directory"));
	if (config_resolve(ctx, r->policy_dir, &cfg->policy_dir) == -1)
		return (-1);
	if (stat(cfg->policy_dir, &st) == -1) {
		if (errno == ENOENT)
			return (0);
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, "policy_dir"),
		    "cannot read policy_dir '%s': %s", cfg->policy_dir,
		    strerror(errno)));
	}
	if (!S_ISDIR(st.st_mode))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, "policy_dir"),
		    "policy_dir '%s' is not a directory", cfg->policy_dir));
	return (0);
}

/* Check and copy one row of the classification table. */
static int
config_build_class(struct yamlerr *ctx, unsigned i,
    const struct config_raw_class *r, struct config *cfg)
{
	struct config_classification	*c = &cfg->classifications[i];
	const yaml_mark_t		*m;
	char				 path[64];
	unsigned			 j;

	snprintf(path, sizeof(path), "classifications[%u].nation", i);
	if (!config_nation_valid(r->nation))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "nation "
		    "'%s' is not an ISO 3166 alpha-3 code (three upper-case "
		    "letters)", r->nation));
	snprintf(path, sizeof(path), "classifications[%u].level", i);
	if (r->level[0] == '\0' || strlen(r->level) >= CONFIG_LEVEL_LEN)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "'level' "
		    "must be 1..%d characters", CONFIG_LEVEL_LEN - 1));
	for (j = 0; j < i; j++) {
		if (strcmp(cfg->classifications[j].nation, r->nation) != 0 ||
		    strcmp(cfg->classifications[j].level, r->level) != 0)
			continue;
		snprintf(path, sizeof(path), "classifications[%u]", j);
		m = yamlerr_mark(ctx, path);
		snprintf(path, sizeof(path), "classifications[%u].level", i);
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "duplicate "
		    "level '%s' of %s (first at line %zu)", r->level,
		    r->nation, m != NULL ? m->line + 1 : 0));
	}
	snprintf(path, sizeof(path), "classifications[%u].common", i);
	if (config_class_parse(r->common, &c->cls) == -1)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "common "
		    "level '%s' must be one of unclassified, restricted, "
		    "confidential, secret, top-secret", r->common));
	memcpy(c->nation, r->nation, TF_NATION_LEN);
	return (config_strdup(ctx, &c->level, r->level));
}

/*
 * audit.file, resolved against the config's directory. Releasing under
 * policies needs an audit trail: with policy_dir and no audit.file the
 * trail is "audit.log" next to the config file.
 */
static int
config_build_audit(struct yamlerr *ctx, const struct config_raw *r,
    struct config *cfg)
{
	const char	*f = r->audit.file;

	if (f != NULL && f[0] == '\0')
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, "audit.file"),
		    "'file' must name a file"));
	if (f == NULL && cfg->policy_dir != NULL)
		f = CONFIG_AUDIT_DEFAULT;
	if (f == NULL)
		return (0);
	return (config_resolve(ctx, f, &cfg->audit_file));
}

/* policy_dir and the classification equivalence table. */
static int
config_build_policy(struct yamlerr *ctx, const struct config_raw *r,
    struct config *cfg)
{
	unsigned	i;

	if (config_build_policy_dir(ctx, r, cfg) == -1 ||
	    config_build_audit(ctx, r, cfg) == -1)
		return (-1);
	if (r->nclassifications == 0)
		return (0);
	cfg->classifications = calloc(r->nclassifications,
	    sizeof(*cfg->classifications));
	if (cfg->classifications == NULL)
		return (yamlerr_errx(ctx, "out of memory"));
	for (i = 0; i < r->nclassifications; i++) {
		cfg->nclassifications++;	/* so config_free frees it */
		if (config_build_class(ctx, i, &r->classifications[i],
		    cfg) == -1)
			return (-1);
	}
	return (0);
}

/* An uplink's "connect": address:port ([v6]:port), numeric address. */
static int
config_uplink_connect(struct yamlerr *ctx, unsigned i, const char *s,
    struct config_uplink *u)
{
	const yaml_mark_t	*m;
	unsigned char		 bin[sizeof(struct in6_addr)];
	char			 path[64], host[INET6_ADDRSTRLEN + 2], *end;
	const char		*colon;
	unsigned long		 port;
	size_t			 hl;

	snprintf(path, sizeof(path), "uplinks[%u].connect", i);
	m = yamlerr_mark(ctx, path);
	if ((colon = strrchr(s, ':')) == NULL || (hl = colon - s) == 0 ||
	    hl >= sizeof(host))
		return (yamlerr_errpos(ctx, m, "'connect' expects "
		    "address:port, got '%s'", s));
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if (inet_pton(AF_INET, host, bin) != 1 &&
	    inet_pton(AF_INET6, host, bin) != 1)
		return (yamlerr_errpos(ctx, m, "'connect' address '%s' is not "
		    "a numeric IPv4 or IPv6 address", host));
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    port < 1 || port > 65535)
		return (yamlerr_errpos(ctx, m, "'connect' port must be in "
		    "1..65535, got '%s'", colon + 1));
	u->port = (uint16_t)port;
	return (config_strdup(ctx, &u->address, host));
}

/* An uplink's cert or key: required with TLS, readable now. */
static int
config_uplink_file(struct yamlerr *ctx, unsigned i, const char *key,
    const char *given, char **out)
{
	char	path[64];
	int	fd;

	snprintf(path, sizeof(path), "uplinks[%u].%s", i, key);
	if (given == NULL || given[0] == '\0') {
		snprintf(path, sizeof(path), "uplinks[%u]", i);
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "uplink "
		    "with tls on needs '%s' (a file)", key));
	}
	if (config_resolve(ctx, given, out) == -1)
		return (-1);
	if ((fd = open(*out, O_RDONLY | O_CLOEXEC)) == -1)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "cannot "
		    "read uplink %s file '%s': %s", key, *out,
		    strerror(errno)));
	close(fd);
	return (0);
}

/* An uplink's TLS setting and files, and its track limit. */
static int
config_uplink_tls(struct yamlerr *ctx, unsigned i,
    const struct config_raw_uplink *r, struct config *cfg)
{
	struct config_uplink		*u = &cfg->uplinks[i];
	const struct yamlerr_pos	*p;
	char				 path[64];

	snprintf(path, sizeof(path), "uplinks[%u].tls", i);
	u->tls = yamlerr_find(ctx, path) == NULL ? 1 : r->tls;
	if (!u->tls && !config_loopback(u->address))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "'tls: "
		    "off' is allowed only to a loopback address, not '%s'",
		    u->address));
	if (u->tls && cfg->ca == NULL)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "uplink "
		    "'%s' has tls on but there is no 'tls' section (ca)",
		    u->id));
	if (u->tls && (config_uplink_file(ctx, i, "cert", r->cert,
	    &u->cert) == -1 || config_uplink_file(ctx, i, "key", r->key,
	    &u->key) == -1))
		return (-1);
	u->max_tracks = 100000;
	snprintf(path, sizeof(path), "uplinks[%u].max_tracks", i);
	if ((p = yamlerr_find(ctx, path)) == NULL)
		return (0);
	if (!yamlerr_uint_text(p->text) || r->max_tracks < 1 ||
	    r->max_tracks > 10000000)
		return (yamlerr_errpos(ctx, &p->val, "'max_tracks' must be in "
		    "1..10000000, got '%s'", p->text));
	u->max_tracks = (uint32_t)r->max_tracks;
	return (0);
}

/* Check and copy one uplink (federation link out). */
static int
config_build_uplink(struct yamlerr *ctx, unsigned i,
    const struct config_raw_uplink *r, struct config *cfg)
{
	struct config_uplink	*u = &cfg->uplinks[i];
	char			 path[64];
	unsigned		 j;

	snprintf(path, sizeof(path), "uplinks[%u].id", i);
	if (!config_id_valid(r->id, TF_ID_LEN - 1))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "id '%s' "
		    "must be 1..%d characters of A-Z a-z 0-9 - _ .", r->id,
		    TF_ID_LEN - 1));
	for (j = 0; j < i; j++)
		if (strcmp(cfg->uplinks[j].id, r->id) == 0)
			return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
			    "duplicate uplink id '%s'", r->id));
	snprintf(path, sizeof(path), "uplinks[%u].recipient", i);
	if (!config_nation_valid(r->recipient))
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "recipient '%s' is not an ISO 3166 alpha-3 code (three "
		    "upper-case letters)", r->recipient));
	if (config_strdup(ctx, &u->id, r->id) == -1 ||
	    config_strdup(ctx, &u->recipient, r->recipient) == -1 ||
	    config_uplink_connect(ctx, i, r->connect, u) == -1)
		return (-1);
	snprintf(path, sizeof(path), "uplinks[%u].secret", i);
	if (r->secret != NULL && config_hex_secret(ctx, path, r->secret,
	    &u->secret, &u->secretlen) == -1)
		return (-1);
	return (config_uplink_tls(ctx, i, r, cfg));
}

/* The uplinks section: federation links this daemon opens. */
static int
config_build_uplinks(struct yamlerr *ctx, const struct config_raw *r,
    struct config *cfg)
{
	unsigned	i;

	if (r->nuplinks == 0)
		return (0);
	if ((cfg->uplinks = calloc(r->nuplinks, sizeof(*cfg->uplinks))) ==
	    NULL)
		return (yamlerr_errx(ctx, "out of memory"));
	for (i = 0; i < r->nuplinks; i++) {
		cfg->nuplinks++;	/* so config_free frees it */
		if (config_build_uplink(ctx, i, &r->uplinks[i], cfg) == -1)
			return (-1);
	}
	return (0);
}

/* Build the public struct from what libcyaml read, checking as we go. */
static struct config *
config_build(struct yamlerr *ctx, const struct config_raw *r)
{
	struct config	*cfg;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		yamlerr_errx(ctx, "out of memory");
		return (NULL);
	}
	if (config_strdup(ctx, &cfg->path, ctx->file) == -1 ||
	    config_build_top(ctx, r, cfg) == -1 ||
	    config_build_listens(ctx, r, cfg) == -1 ||
	    config_build_tls(ctx, r, cfg) == -1 ||
	    config_build_tuning(ctx, r, cfg) == -1 ||
	    config_build_identities(ctx, r, cfg) == -1 ||
	    config_build_policy(ctx, r, cfg) == -1 ||
	    config_build_uplinks(ctx, r, cfg) == -1) {
		config_free(cfg);
		return (NULL);
	}
	return (cfg);
}

/* The directory relative paths in the file are resolved against. */
static int
config_dir(struct yamlerr *ctx)
{
	char	*real, *slash;

	if ((real = realpath(ctx->file, NULL)) == NULL)
		return (yamlerr_errx(ctx, "cannot open: %s", strerror(errno)));
	if ((slash = strrchr(real, '/')) != NULL)
		*(slash == real ? slash + 1 : slash) = '\0';
	ctx->dir = real;
	return (0);
}

/* Read, walk, load and check path; see config.h. */
struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct yamlerr		 ctx;
	struct config_raw	*raw = NULL;
	struct config		*cfg = NULL;
	unsigned char		*buf = NULL;
	size_t			 len = 0;
	cyaml_config_t		 cy;

	yamlerr_init(&ctx, path, "configuration", config_expects, err, errlen);
	yamlerr_cyaml_config(&ctx, &cy);
	if (yamlerr_read(&ctx, CONFIG_MAX_FILE, &buf, &len) == 0 &&
	    config_dir(&ctx) == 0 &&
	    yamlerr_walk(&ctx, buf, len) == 0 &&
	    yamlerr_cyaml_load(&ctx, buf, len, &cy, &config_schema,
	    (void **)&raw) == 0)
		cfg = config_build(&ctx, raw);
	if (raw != NULL)
		cyaml_free(&cy, &config_schema, raw, 0);
	free(buf);
	free(ctx.dir);
	yamlerr_free(&ctx);
	return (cfg);
}

/* Free a config and everything it owns; NULL is fine. */
void
config_free(struct config *cfg)
{
	struct config_identity	*id;
	unsigned		 i, j;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nidentities; i++) {
		id = &cfg->identities[i];
		for (j = 0; j < id->nsensors; j++)
			free(id->sensors[j]);
		free(id->sensors);
		free(id->id);
		free(id->nation);
		free(id->secret);
		free(id->peer_daemon_nation);
	}
	free(cfg->identities);
	for (i = 0; i < cfg->nclassifications; i++)
		free(cfg->classifications[i].level);
	free(cfg->classifications);
	for (i = 0; i < cfg->nuplinks; i++) {
		free(cfg->uplinks[i].id);
		free(cfg->uplinks[i].address);
		free(cfg->uplinks[i].recipient);
		free(cfg->uplinks[i].cert);
		free(cfg->uplinks[i].key);
		free(cfg->uplinks[i].secret);
	}
	free(cfg->uplinks);
	free(cfg->policy_dir);
	free(cfg->audit_file);
	free(cfg->feeds.address);
	free(cfg->subscribers.address);
	free(cfg->path);
	free(cfg->name);
	free(cfg->nation);
	free(cfg->ca);
	free(cfg->cert);
	free(cfg->key);
	free(cfg->log_file);
	free(cfg);
}

/* The identity with this id (certificate CN), or NULL. */
const struct config_identity *
config_identity(const struct config *cfg, const char *id)
{
	unsigned	i;

	if (cfg == NULL || id == NULL)
		return (NULL);
	for (i = 0; i < cfg->nidentities; i++)
		if (strcmp(cfg->identities[i].id, id) == 0)
			return (&cfg->identities[i]);
	return (NULL);
}

/* 1 if the identity may report this sensor id. */
int
config_identity_has_sensor(const struct config_identity *id,
    const char *sensor)
{
	unsigned	i;

	if (id == NULL || sensor == NULL)
		return (0);
	for (i = 0; i < id->nsensors; i++)
		if (strcmp(id->sensors[i], sensor) == 0)
			return (1);
	return (0);
}

/* The YAML spelling of a role. */
const char *
config_role_name(enum config_role role)
{
	switch (role) {
	case CONFIG_ROLE_FEED:
		return ("feed");
	case CONFIG_ROLE_SUBSCRIBER:
		return ("subscriber");
	}
	return ("unknown");
}

/* Common level names, indexed by enum tf_class (NONE has none). */
static const char *const config_class_names[TF_CLASS_MAX] = {
	NULL, "unclassified", "restricted", "confidential", "secret",
	"top-secret"
};

/* A common level by name; 0, or -1 if it is not one. */
int
config_class_parse(const char *s, enum tf_class *cls)
{
	int	i;

	for (i = TF_CLASS_UNCLASSIFIED; s != NULL && i < TF_CLASS_MAX; i++)
		if (strcmp(s, config_class_names[i]) == 0) {
			*cls = (enum tf_class)i;
			return (0);
		}
	return (-1);
}

/* The name of a common level; "none" for unmarked. */
const char *
config_class_name(enum tf_class cls)
{
	if (cls <= TF_CLASS_NONE || cls >= TF_CLASS_MAX)
		return ("none");
	return (config_class_names[cls]);
}

/* A nation's national level through the table; -1 if it has no row. */
int
config_class_map(const struct config *cfg, const char *nation,
    const char *level, enum tf_class *cls)
{
	unsigned	i;

	for (i = 0; i < cfg->nclassifications; i++)
		if (strcmp(cfg->classifications[i].nation, nation) == 0 &&
		    strcmp(cfg->classifications[i].level, level) == 0) {
			*cls = cfg->classifications[i].cls;
			return (0);
		}
	return (-1);
}

/* Is this a nation the config speaks of (daemon, identity, table, uplink)? */
int
config_nation_known(const struct config *cfg, const char *nation)
{
	unsigned	i;

	if (nation == NULL)
		return (0);
	if (cfg->nation != NULL && strcmp(cfg->nation, nation) == 0)
		return (1);
	for (i = 0; i < cfg->nidentities; i++)
		if (strcmp(cfg->identities[i].nation, nation) == 0)
			return (1);
	for (i = 0; i < cfg->nclassifications; i++)
		if (strcmp(cfg->classifications[i].nation, nation) == 0)
			return (1);
	for (i = 0; i < cfg->nuplinks; i++)
		if (strcmp(cfg->uplinks[i].recipient, nation) == 0)
			return (1);
	return (0);
}

/* One listener line of the summary. */
static void
config_print_listen(FILE *fp, const char *name, const struct config_listen *l)
{
	fprintf(fp, "listen %s address=%s port=%u tls=%s\n", name,
	    l->address, l->port, l->tls ? "on" : "off");
}

/* Summary for trackfused -n -v: one line per section and identity. */
void
config_print(const struct config *cfg, FILE *fp)
{
	const struct config_identity	*id;
	const struct config_limits	*lim = &cfg->limits;
	unsigned			 i, j;

	fprintf(fp, "config %s\nname=%s nation=%s\n", cfg->path, cfg->name,
	    cfg->nation);
	config_print_listen(fp, "feeds", &cfg->feeds);
	config_print_listen(fp, "subscribers", &cfg->subscribers);
	if (cfg->ca != NULL)
		fprintf(fp, "tls ca=%s cert=%s key=%s\n", cfg->ca, cfg->cert,
		    cfg->key);
	fprintf(fp, "log file=%s stats_interval_s=%" PRIu32 "\n",
	    cfg->log_file != NULL ? cfg->log_file : "stderr",
	    cfg->stats_interval_s);
	fprintf(fp, "limits max_frame=%" PRIu32 " max_feeds=%" PRIu32
	    " max_subscribers=%" PRIu32 " max_tracks=%" PRIu32
	    " max_sources=%" PRIu32 " subscriber_buffer=%" PRIu32
	    " handshake_timeout_ms=%" PRIu32 " idle_timeout_ms=%" PRIu32 "\n",
	    lim->max_frame, lim->max_feeds, lim->max_subscribers,
	    lim->max_tracks, lim->max_sources, lim->subscriber_buffer,
	    lim->handshake_timeout_ms, lim->idle_timeout_ms);
	fprintf(fp, "correlator gate_chi2=%g stale_ms=%" PRIu32 " coast_ms=%"
	    PRIu32 " cell_m=%g\n", cfg->correlator.gate_chi2,
	    cfg->correlator.stale_ms, cfg->correlator.coast_ms,
	    cfg->correlator.cell_m);
	for (i = 0; i < cfg->nidentities; i++) {
		id = &cfg->identities[i];
		fprintf(fp, "identity %s role=%s nation=%s", id->id,
		    config_role_name(id->role), id->nation);
		for (j = 0; j < id->nsensors; j++)
			fprintf(fp, "%s%s", j == 0 ? " sensors=" : ",",
			    id->sensors[j]);
		if (id->role == CONFIG_ROLE_SUBSCRIBER)
			fprintf(fp, " secret=%s", id->secret != NULL ?
			    "set" : "none");
		if (id->federation)
			fprintf(fp, " federation=on peer_daemon_nation=%s",
			    id->peer_daemon_nation);
		fputc('\n', fp);
	}
	fprintf(fp, "policy_dir=%s\n", cfg->policy_dir != NULL ?
	    cfg->policy_dir : "none");
	for (i = 0; i < cfg->nclassifications; i++)
		fprintf(fp, "classification %s level=%s common=%s\n",
		    cfg->classifications[i].nation,
		    cfg->classifications[i].level,
		    config_class_name(cfg->classifications[i].cls));
	for (i = 0; i < cfg->nuplinks; i++)
		fprintf(fp, "uplink %s connect=%s:%u recipient=%s tls=%s "
		    "max_tracks=%" PRIu32 "\n", cfg->uplinks[i].id,
		    cfg->uplinks[i].address, cfg->uplinks[i].port,
		    cfg->uplinks[i].recipient,
		    cfg->uplinks[i].tls ? "on" : "off",
		    cfg->uplinks[i].max_tracks);
}
