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

#define CONFIG_MAX_DEPTH	16	/* nesting of the YAML document */
#define CONFIG_MAX_FRAMES	16	/* libcyaml backtrace lines kept */
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
};

/* Where a key or sequence entry sits in the file, by path. */
struct config_pos {
	char		*path;		/* "identities[2].id" */
	yaml_mark_t	 key;		/* the key, or the sequence entry */
	yaml_mark_t	 val;		/* the value node */
	char		*text;		/* scalar value, NULL for collections */
	int		 kind;		/* yaml_event_type_t of the value */
};

/* One line of a libcyaml backtrace. */
struct config_frame {
	int		 kind;		/* 'f' field, 'e' entry, 'm' mapping */
	char		 name[64];
	unsigned	 entry;		/* 1-based, as libcyaml prints it */
};

/* Open walk frame: a mapping or sequence being read. */
struct config_open {
	int		 seq;
	char		*path;
	size_t		 first;		/* first pos entry inside it */
	unsigned	 idx;
	long		 pending;	/* key awaiting its value, or -1 */
};

struct config_ctx {
	const char		*file;		/* as the caller named it */
	char			*err;
	size_t			 errlen;
	int			 failed;
	char			*dir;		/* dirname(realpath(file)) */
	struct config_pos	*pos;
	size_t			 npos;
	size_t			 cappos;
	int			 sorted;
	char			 cymsg[CONFIG_MSGLEN];
	struct config_frame	 frames[CONFIG_MAX_FRAMES];
	unsigned		 nframes;
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
	CYAML_FIELD_END
};

static const cyaml_schema_value_t config_identity_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct config_raw_identity,
	    config_identity_fields),
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

static int	config_errpos(struct config_ctx *, const yaml_mark_t *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static int	config_errx(struct config_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	config_cyaml_log(cyaml_log_t, void *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

/* Record an error at a position; only the first error is kept. */
static int
config_errpos(struct config_ctx *ctx, const yaml_mark_t *m,
    const char *fmt, ...)
{
	char	msg[CONFIG_ERRLEN], *c;
	va_list	ap;

	if (ctx->failed)
		return (-1);
	ctx->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Values quoted from the file must not break the log line. */
	for (c = msg; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	if (m != NULL)
		snprintf(ctx->err, ctx->errlen, "%s:%zu:%zu: %s", ctx->file,
		    m->line + 1, m->column + 1, msg);
	else
		snprintf(ctx->err, ctx->errlen, "%s: %s", ctx->file, msg);
	return (-1);
}

/* Record an error about the file as a whole. */
static int
config_errx(struct config_ctx *ctx, const char *fmt, ...)
{
	char	msg[CONFIG_ERRLEN];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return (config_errpos(ctx, NULL, "%s", msg));
}

/* The last component of a path, for messages: "port", "sensors[1]". */
static const char *
config_leaf(const char *path)
{
	const char	*p;

	if ((p = strrchr(path, '.')) != NULL)
		return (p + 1);
	return (path);
}

/* Where a container is, for messages: "in 'limits'" or "at top level". */
static void
config_where(const char *path, char *buf, size_t len)
{
	if (path[0] == '\0')
		snprintf(buf, len, "at top level");
	else
		snprintf(buf, len, "in '%s'", path);
}

/* Order positions by path, for bsearch. */
static int
config_pos_cmp(const void *a, const void *b)
{
	const struct config_pos	*pa = a, *pb = b;

	return (strcmp(pa->path, pb->path));
}

/*
 * Find what the walk recorded for path; NULL if the file does not set it.
 * Sorts on first use, so only after the walk (which holds indices).
 */
static const struct config_pos *
config_pos_find(struct config_ctx *ctx, const char *path)
{
	struct config_pos	key;

	if (!ctx->sorted) {
		qsort(ctx->pos, ctx->npos, sizeof(*ctx->pos), config_pos_cmp);
		ctx->sorted = 1;
	}
	key.path = (char *)path;
	return (bsearch(&key, ctx->pos, ctx->npos, sizeof(*ctx->pos),
	    config_pos_cmp));
}

/* Mark of the value at path, or of the nearest enclosing node set. */
static const yaml_mark_t *
config_mark(struct config_ctx *ctx, const char *path)
{
	const struct config_pos	*p;
	char			 buf[CONFIG_MSGLEN], *cut;

	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		if ((p = config_pos_find(ctx, buf)) != NULL)
			return (&p->val);
		if (buf[0] == '\0')
			return (NULL);
		cut = strrchr(buf, '.');
		if (cut == NULL || (strrchr(buf, '[') > cut))
			cut = strrchr(buf, '[');
		if (cut == NULL)
			cut = buf;
		*cut = '\0';
	}
}

/* Mark of the key at path (for unknown and duplicate keys). */
static const yaml_mark_t *
config_keymark(struct config_ctx *ctx, const char *path)
{
	const struct config_pos	*p;

	if ((p = config_pos_find(ctx, path)) != NULL)
		return (&p->key);
	return (config_mark(ctx, path));
}

/* Release everything the walk recorded. */
static void
config_pos_free(struct config_ctx *ctx)
{
	size_t	i;

	for (i = 0; i < ctx->npos; i++) {
		free(ctx->pos[i].path);
		free(ctx->pos[i].text);
	}
	free(ctx->pos);
	ctx->pos = NULL;
	ctx->npos = ctx->cappos = 0;
}

/* Append a position record; takes ownership of path. */
static struct config_pos *
config_pos_add(struct config_ctx *ctx, char *path, const yaml_mark_t *key)
{
	struct config_pos	*np, *p;
	size_t			 ncap;

	if (ctx->npos == ctx->cappos) {
		ncap = ctx->cappos ? ctx->cappos * 2 : 64;
		np = reallocarray(ctx->pos, ncap, sizeof(*np));
		if (np == NULL) {
			free(path);
			config_errx(ctx, "out of memory");
			return (NULL);
		}
		ctx->pos = np;
		ctx->cappos = ncap;
	}
	p = &ctx->pos[ctx->npos++];
	memset(p, 0, sizeof(*p));
	p->path = path;
	p->key = p->val = *key;
	return (p);
}

/* Keys are lower-case words; anything else cannot be a known key. */
static int
config_key_valid(const char *k)
{
	if (*k == '\0')
		return (0);
	for (; *k != '\0'; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') ||
		    *k == '_'))
			return (0);
	return (1);
}

/* Kind of node for messages. */
static const char *
config_kind_name(int kind)
{
	switch (kind) {
	case YAML_SCALAR_EVENT:
		return ("a scalar");
	case YAML_SEQUENCE_START_EVENT:
		return ("a sequence");
	case YAML_MAPPING_START_EVENT:
		return ("a mapping");
	default:
		return ("nothing");
	}
}

/* A mapping key: check it is new in its mapping and record it. */
static int
config_walk_key(struct config_ctx *ctx, struct config_open *o,
    const yaml_event_t *ev)
{
	struct config_pos	*p;
	const char		*k;
	char			*path, where[CONFIG_MSGLEN];
	size_t			 i;

	config_where(o->path, where, sizeof(where));
	if (ev->type != YAML_SCALAR_EVENT)
		return (config_errpos(ctx, &ev->start_mark,
		    "a key %s is %s, expected a name", where,
		    config_kind_name(ev->type)));
	k = (const char *)ev->data.scalar.value;
	if (!config_key_valid(k))
		return (config_errpos(ctx, &ev->start_mark,
		    "unknown key '%s' %s", k, where));
	if (asprintf(&path, "%s%s%s", o->path, o->path[0] ? "." : "", k) == -1)
		return (config_errx(ctx, "out of memory"));
	for (i = o->first; i < ctx->npos; i++) {
		if (strcmp(ctx->pos[i].path, path) == 0) {
			free(path);
			return (config_errpos(ctx, &ev->start_mark,
			    "duplicate key '%s' %s (first at line %zu)", k,
			    where, ctx->pos[i].key.line + 1));
		}
	}
	if ((p = config_pos_add(ctx, path, &ev->start_mark)) == NULL)
		return (-1);
	o->pending = p - ctx->pos;
	return (0);
}

/* A value node: record where it is; returns its path (owned by ctx). */
static const char *
config_walk_node(struct config_ctx *ctx, struct config_open *o,
    const yaml_event_t *ev)
{
	struct config_pos	*p;
	char			*path;

	if (o == NULL) {
		if (ev->type != YAML_MAPPING_START_EVENT) {
			config_errpos(ctx, &ev->start_mark, "expected a "
			    "mapping of configuration keys, got %s",
			    config_kind_name(ev->type));
			return (NULL);
		}
		if ((path = strdup("")) == NULL ||
		    (p = config_pos_add(ctx, path, &ev->start_mark)) == NULL)
			goto oom;
	} else if (o->seq) {
		if (asprintf(&path, "%s[%u]", o->path, o->idx++) == -1 ||
		    (p = config_pos_add(ctx, path, &ev->start_mark)) == NULL)
			goto oom;
	} else {
		p = &ctx->pos[o->pending];
		p->val = ev->start_mark;
		o->pending = -1;
	}
	p->kind = ev->type;
	if (ev->type == YAML_SCALAR_EVENT &&
	    (p->text = strdup((const char *)ev->data.scalar.value)) == NULL)
		goto oom;
	return (p->path);
oom:
	config_errx(ctx, "out of memory");
	return (NULL);
}

/* Refuse anchors and aliases: a config has no use for them. */
static int
config_walk_anchor(struct config_ctx *ctx, const yaml_event_t *ev)
{
	const yaml_char_t	*a = NULL;

	if (ev->type == YAML_ALIAS_EVENT)
		return (config_errpos(ctx, &ev->start_mark,
		    "YAML aliases are not supported"));
	if (ev->type == YAML_SCALAR_EVENT)
		a = ev->data.scalar.anchor;
	else if (ev->type == YAML_MAPPING_START_EVENT)
		a = ev->data.mapping_start.anchor;
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		a = ev->data.sequence_start.anchor;
	if (a != NULL)
		return (config_errpos(ctx, &ev->start_mark,
		    "YAML anchors are not supported"));
	return (0);
}

/* Handle one node event (scalar, mapping or sequence start). */
static int
config_walk_event(struct config_ctx *ctx, struct config_open *stack,
    unsigned *depth, const yaml_event_t *ev)
{
	struct config_open	*o = *depth ? &stack[*depth - 1] : NULL;
	const char		*path;

	if (config_walk_anchor(ctx, ev) == -1)
		return (-1);
	if (o != NULL && !o->seq && o->pending == -1)
		return (config_walk_key(ctx, o, ev));
	if ((path = config_walk_node(ctx, o, ev)) == NULL)
		return (-1);
	if (ev->type == YAML_SCALAR_EVENT)
		return (0);
	if (*depth == CONFIG_MAX_DEPTH)
		return (config_errpos(ctx, &ev->start_mark,
		    "nested deeper than %d levels", CONFIG_MAX_DEPTH));
	o = &stack[(*depth)++];
	if ((o->path = strdup(path)) == NULL)
		return (config_errx(ctx, "out of memory"));
	o->seq = ev->type == YAML_SEQUENCE_START_EVENT;
	o->first = ctx->npos;
	o->idx = 0;
	o->pending = -1;
	return (0);
}

/*
 * Turn a libyaml parser failure into file:line:column. The reader (bad
 * encoding, control characters) gives only a byte offset: count lines.
 */
static int
config_walk_syntax(struct config_ctx *ctx, const yaml_parser_t *p,
    const unsigned char *buf, size_t len)
{
	const char	*problem = p->problem ? p->problem : "cannot parse";
	yaml_mark_t	 m = p->problem_mark;
	size_t		 i;

	if (p->error == YAML_READER_ERROR) {
		memset(&m, 0, sizeof(m));
		for (i = 0; i < p->problem_offset && i < len; i++) {
			if (buf[i] == '\n') {
				m.line++;
				m.column = 0;
			} else
				m.column++;
		}
		if (i == len)
			return (config_errpos(ctx, &m, "not a YAML text file: "
			    "%s", problem));
		return (config_errpos(ctx, &m, "not a YAML text file: %s "
		    "(byte 0x%02x)", problem, buf[i]));
	}
	if (p->context != NULL)
		return (config_errpos(ctx, &m, "YAML syntax error: %s %s "
		    "started at %zu:%zu", problem, p->context,
		    p->context_mark.line + 1, p->context_mark.column + 1));
	return (config_errpos(ctx, &m, "YAML syntax error: %s", problem));
}

/* Dispatch one parser event; 1 at the end of the stream. */
static int
config_walk_one(struct config_ctx *ctx, struct config_open *stack,
    unsigned *depth, unsigned *ndocs, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return (1);
	case YAML_DOCUMENT_START_EVENT:
		if ((*ndocs)++ > 0)
			return (config_errpos(ctx, &ev->start_mark,
			    "only one YAML document is allowed"));
		return (0);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		free(stack[--(*depth)].path);
		return (0);
	case YAML_SCALAR_EVENT:
	case YAML_ALIAS_EVENT:
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		return (config_walk_event(ctx, stack, depth, ev));
	default:
		return (0);
	}
}

/*
 * Walk the document once with libyaml, recording the start mark of every
 * key and value by path. libcyaml's own backtrace does not say where an
 * unknown key or a semantic fault is, so every later message uses this map.
 * The walk also rejects what libcyaml would take silently: duplicate keys,
 * anchors, several documents, a top level that is not a mapping.
 */
static int
config_walk(struct config_ctx *ctx, const unsigned char *buf, size_t len)
{
	yaml_parser_t		 parser;
	yaml_event_t		 ev;
	struct config_open	 stack[CONFIG_MAX_DEPTH];
	unsigned		 depth = 0, ndocs = 0;
	int			 rv = 0;

	if (!yaml_parser_initialize(&parser))
		return (config_errx(ctx, "out of memory"));
	yaml_parser_set_input_string(&parser, buf, len);
	while (rv == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rv = config_walk_syntax(ctx, &parser, buf, len);
			break;
		}
		rv = config_walk_one(ctx, stack, &depth, &ndocs, &ev);
		yaml_event_delete(&ev);
	}
	while (depth > 0)
		free(stack[--depth].path);
	yaml_parser_delete(&parser);
	if (rv == -1)
		return (-1);
	if (ctx->npos == 0)
		return (config_errx(ctx, "empty configuration, expected a "
		    "mapping of configuration keys"));
	return (0);
}

/* Read the whole file, bounded, so the walk and libcyaml see one text. */
static int
config_read(struct config_ctx *ctx, unsigned char **bufp, size_t *lenp)
{
	struct stat	 st;
	unsigned char	*buf;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(ctx->file, O_RDONLY | O_CLOEXEC)) == -1)
		return (config_errx(ctx, "cannot open: %s", strerror(errno)));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (config_errx(ctx, "not a regular file"));
	}
	if ((buf = malloc(CONFIG_MAX_FILE + 1)) == NULL) {
		close(fd);
		return (config_errx(ctx, "out of memory"));
	}
	while ((n = read(fd, buf + len, CONFIG_MAX_FILE + 1 - len)) > 0 &&
	    len + n <= CONFIG_MAX_FILE)
		len += n;
	close(fd);
	if (n != 0) {
		free(buf);
		if (n > 0)
			return (config_errx(ctx, "larger than %d bytes",
			    CONFIG_MAX_FILE));
		return (config_errx(ctx, "cannot read: %s", strerror(errno)));
	}
	*bufp = buf;
	*lenp = len;
	return (0);
}

/* Parse one libcyaml backtrace line ("  in mapping field 'x' (...)"). */
static void
config_cyaml_frame(struct config_ctx *ctx, const char *line)
{
	struct config_frame	*f;

	if (ctx->nframes == CONFIG_MAX_FRAMES)
		return;
	f = &ctx->frames[ctx->nframes];
	memset(f, 0, sizeof(*f));
	if (sscanf(line, " in mapping field '%63[^']'", f->name) == 1)
		f->kind = 'f';
	else if (sscanf(line, " in sequence entry '%u'", &f->entry) == 1)
		f->kind = 'e';
	else if (strncmp(line, "  in mapping", 12) == 0)
		f->kind = 'm';
	else
		return;
	ctx->nframes++;
}

/*
 * libcyaml log callback: keep the first error message and the backtrace
 * that follows it, to be turned into one message by config_cyaml_error().
 */
static void
config_cyaml_log(cyaml_log_t level, void *arg, const char *fmt, va_list ap)
{
	struct config_ctx	*ctx = arg;
	char			 line[CONFIG_MSGLEN];
	size_t			 n;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '.'))
		line[--n] = '\0';
	if (strncmp(line, "  in ", 5) == 0)
		config_cyaml_frame(ctx, line);
	else if (ctx->cymsg[0] == '\0' && strstr(line, "Backtrace") == NULL)
		snprintf(ctx->cymsg, sizeof(ctx->cymsg), "%s",
		    strncmp(line, "Load: ", 6) == 0 ? line + 6 : line);
}

/*
 * Path of the node libcyaml complained about, from its backtrace (printed
 * innermost first). With drop, leave out the innermost field or entry:
 * that gives the container for "missing key" and "too many entries".
 */
static void
config_cyaml_path(struct config_ctx *ctx, int drop, char *buf, size_t len)
{
	const struct config_frame	*f;
	size_t				 n;
	unsigned			 i, last = 0;

	buf[0] = '\0';
	if (drop && ctx->nframes > 0 && ctx->frames[0].kind != 'm')
		last = 1;
	for (i = ctx->nframes; i > last; i--) {
		f = &ctx->frames[i - 1];
		n = strlen(buf);
		if (f->kind == 'f')
			snprintf(buf + n, len - n, "%s%s", n ? "." : "",
			    f->name);
		else if (f->kind == 'e' && f->entry > 0)
			snprintf(buf + n, len - n, "[%u]", f->entry - 1);
	}
}

/* What a value of this key must look like, for a type error. */
static const char *
config_expect(const char *msg, const char *leaf)
{
	if (strcmp(leaf, "role") == 0)
		return ("'feed' or 'subscriber'");
	if (strcmp(leaf, "tls") == 0)
		return ("'on' or 'off'");
	if (strstr(msg, "Expecting MAPPING") != NULL)
		return ("a mapping");
	if (strstr(msg, "Expecting SEQUENCE") != NULL)
		return ("a sequence");
	if (strstr(msg, "Expecting STRING") != NULL ||
	    strstr(msg, "Expecting SCALAR") != NULL)
		return ("a string");
	if (strstr(msg, "FLOAT") != NULL)
		return ("a number");
	if (strstr(msg, "INT") != NULL || strstr(msg, "int") != NULL)
		return ("an unsigned integer");
	return (NULL);
}

/* A value libcyaml refused: say what the key expects and what it got. */
static int
config_cyaml_value(struct config_ctx *ctx, const char *path)
{
	const struct config_pos	*p = config_pos_find(ctx, path);
	const char		*leaf = config_leaf(path), *want;
	char			 got[CONFIG_MSGLEN];

	if ((want = config_expect(ctx->cymsg, leaf)) == NULL)
		return (config_errpos(ctx, config_mark(ctx, path), "'%s': %s",
		    leaf, ctx->cymsg));
	if (p != NULL && p->kind == YAML_SCALAR_EVENT)
		snprintf(got, sizeof(got), "'%s'", p->text);
	else
		snprintf(got, sizeof(got), "%s", p != NULL ?
		    config_kind_name(p->kind) : "nothing");
	return (config_errpos(ctx, config_mark(ctx, path),
	    "'%s' expects %s, got %s", leaf, want, got));
}

/* Turn what libcyaml logged into one file:line:column message. */
static int
config_cyaml_error(struct config_ctx *ctx, cyaml_err_t e)
{
	char		 path[CONFIG_MSGLEN], full[CONFIG_MSGLEN * 2 + 2];
	char		 where[CONFIG_MSGLEN + 8];
	const char	*arg = strstr(ctx->cymsg, ": ");
	unsigned	 n = 0;

	arg = arg != NULL ? arg + 2 : "";
	config_cyaml_path(ctx, e == CYAML_ERR_MAPPING_FIELD_MISSING ||
	    e == CYAML_ERR_SEQUENCE_ENTRIES_MIN ||
	    e == CYAML_ERR_SEQUENCE_ENTRIES_MAX, path, sizeof(path));
	config_where(path, where, sizeof(where));
	switch (e) {
	case CYAML_ERR_OOM:
		return (config_errx(ctx, "out of memory"));
	case CYAML_ERR_INVALID_KEY:
		snprintf(full, sizeof(full), "%s%s%s", path,
		    path[0] ? "." : "", arg);
		return (config_errpos(ctx, config_keymark(ctx, full),
		    "unknown key '%s' %s", arg, where));
	case CYAML_ERR_MAPPING_FIELD_MISSING:
		return (config_errpos(ctx, config_mark(ctx, path),
		    "missing required key '%s' %s", arg, where));
	case CYAML_ERR_SEQUENCE_ENTRIES_MIN:
		return (config_errpos(ctx, config_mark(ctx, path),
		    "'%s' needs at least one entry", config_leaf(path)));
	case CYAML_ERR_SEQUENCE_ENTRIES_MAX:
		sscanf(ctx->cymsg, "Excessive entries (%u", &n);
		return (config_errpos(ctx, config_mark(ctx, path),
		    "'%s' has more than %u entries", config_leaf(path), n));
	case CYAML_ERR_INVALID_VALUE:
		return (config_cyaml_value(ctx, path));
	default:
		return (config_errpos(ctx, config_mark(ctx, path), "%s",
		    ctx->cymsg[0] ? ctx->cymsg : cyaml_strerror(e)));
	}
}

/* Load the text against the schema into *rawp. */
static int
config_cyaml_load(struct config_ctx *ctx, const unsigned char *buf,
    size_t len, const cyaml_config_t *cy, struct config_raw **rawp)
{
	cyaml_err_t	e;

	*rawp = NULL;
	e = cyaml_load_data(buf, len, cy, &config_schema, (void **)rawp, NULL);
	if (e != CYAML_OK)
		return (config_cyaml_error(ctx, e));
	if (*rawp == NULL)
		return (config_errx(ctx, "empty configuration"));
	return (0);
}

/*
 * Strict decimal: libcyaml 1.3 reads "64k" as 64, "1.5" as 1 and "010" as
 * octal 8, so every number is checked again on its text.
 */
static int
config_uint_text(const char *s)
{
	const char	*p;

	if (s == NULL || *s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return (0);
	for (p = s; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return (0);
	return (1);
}

/* A finite decimal number, nothing after it. */
static int
config_float_text(const char *s, double *v)
{
	char	*end;

	if (s == NULL || *s == '\0' || strspn(s, "0123456789+-.eE") !=
	    strlen(s))
		return (0);
	errno = 0;
	*v = strtod(s, &end);
	return (*end == '\0' && errno == 0 && isfinite(*v));
}

/* Apply one unsigned setting: its default, or the file's checked value. */
static int
config_uint(struct config_ctx *ctx, const struct config_uint_spec *u,
    struct config *cfg)
{
	const struct config_pos	*p = config_pos_find(ctx, u->path);
	uint32_t		*out = (uint32_t *)((char *)cfg + u->off);
	unsigned long long	 v;

	*out = u->def;
	if (p == NULL)
		return (0);
	if (!config_uint_text(p->text))
		return (config_errpos(ctx, &p->val, "'%s' expects an unsigned "
		    "integer, got '%s'", config_leaf(u->path), p->text));
	errno = 0;
	v = strtoull(p->text, NULL, 10);
	if (errno != 0 || v < u->min || v > u->max)
		return (config_errpos(ctx, &p->val, "'%s' must be in "
		    "%" PRIu32 "..%" PRIu32 ", got %s", config_leaf(u->path),
		    u->min, u->max, p->text));
	*out = (uint32_t)v;
	return (0);
}

/* Apply one floating-point setting with its default. */
static int
config_double(struct config_ctx *ctx, const char *path, double def,
    double *out)
{
	const struct config_pos	*p = config_pos_find(ctx, path);

	*out = def;
	if (p == NULL)
		return (0);
	if (!config_float_text(p->text, out))
		return (config_errpos(ctx, &p->val, "'%s' expects a finite "
		    "number, got '%s'", config_leaf(path), p->text));
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
config_strdup(struct config_ctx *ctx, char **dst, const char *src)
{
	if ((*dst = strdup(src)) == NULL)
		return (config_errx(ctx, "out of memory"));
	return (0);
}

/* Check and copy name and nation. */
static int
config_build_top(struct config_ctx *ctx, const struct config_raw *r,
    struct config *cfg)
{
	if (!config_id_valid(r->name, CONFIG_NAME_LEN - 1))
		return (config_errpos(ctx, config_mark(ctx, "name"),
		    "name '%s' must be 1..%d characters of A-Z a-z 0-9 - _ .",
		    r->name, CONFIG_NAME_LEN - 1));
	if (!config_nation_valid(r->nation))
		return (config_errpos(ctx, config_mark(ctx, "nation"),
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
config_build_listen(struct config_ctx *ctx, const char *name,
    const struct config_raw_listen *r, uint16_t defport,
    struct config_listen *l)
{
	const struct config_pos	*p;
	unsigned char		 any[sizeof(struct in6_addr)];
	char			 path[64];

	snprintf(path, sizeof(path), "listen.%s.address", name);
	if (config_strdup(ctx, &l->address, r->address != NULL ?
	    r->address : CONFIG_DEF_ADDRESS) == -1)
		return (-1);
	if (inet_pton(AF_INET, l->address, any) != 1 &&
	    inet_pton(AF_INET6, l->address, any) != 1)
		return (config_errpos(ctx, config_mark(ctx, path), "address "
		    "'%s' is not a numeric IPv4 or IPv6 address", l->address));
	snprintf(path, sizeof(path), "listen.%s.port", name);
	l->port = defport;
	if ((p = config_pos_find(ctx, path)) != NULL) {
		if (!config_uint_text(p->text))
			return (config_errpos(ctx, &p->val, "'port' expects an "
			    "unsigned integer, got '%s'", p->text));
		if (r->port < 1 || r->port > 65535)
			return (config_errpos(ctx, &p->val, "'port' must be "
			    "in 1..65535, got %s", p->text));
		l->port = (uint16_t)r->port;
	}
	snprintf(path, sizeof(path), "listen.%s.tls", name);
	l->tls = config_pos_find(ctx, path) == NULL ? 1 : r->tls;
	if (!l->tls && !config_loopback(l->address))
		return (config_errpos(ctx, config_mark(ctx, path), "'tls: off' "
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
config_build_listens(struct config_ctx *ctx, const struct config_raw *r,
    struct config *cfg)
{
	if (config_build_listen(ctx, "feeds", &r->listen.feeds,
	    CONFIG_DEF_FEEDS_PORT, &cfg->feeds) == -1 ||
	    config_build_listen(ctx, "subscribers", &r->listen.subscribers,
	    CONFIG_DEF_SUBS_PORT, &cfg->subscribers) == -1)
		return (-1);
	if (config_listen_clash(&cfg->feeds, &cfg->subscribers))
		return (config_errpos(ctx, config_mark(ctx,
		    "listen.subscribers.port"), "subscribers listener "
		    "%s port %u clashes with the feeds listener %s port %u",
		    cfg->subscribers.address, cfg->subscribers.port,
		    cfg->feeds.address, cfg->feeds.port));
	return (0);
}

/* Resolve a path against the config file's directory. */
static int
config_resolve(struct config_ctx *ctx, const char *path, char **out)
{
	if (path[0] == '/')
		return (config_strdup(ctx, out, path));
	if (asprintf(out, "%s/%s", ctx->dir, path) == -1) {
		*out = NULL;
		return (config_errx(ctx, "out of memory"));
	}
	return (0);
}

/* A TLS file must exist and be readable now; the daemon loads it later. */
static int
config_build_tlsfile(struct config_ctx *ctx, const char *key,
    const char *given, char **out)
{
	struct stat	 st;
	const char	*why = NULL;
	char		 path[32];
	int		 fd;

	snprintf(path, sizeof(path), "tls.%s", key);
	if (given[0] == '\0')
		return (config_errpos(ctx, config_mark(ctx, path),
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
		return (config_errpos(ctx, config_mark(ctx, path),
		    "cannot read tls %s file '%s': %s", key, *out, why));
	return (0);
}

/* The tls section: required when a listener has TLS on. */
static int
config_build_tls(struct config_ctx *ctx, const struct config_raw *r,
    struct config *cfg)
{
	const char	*need = NULL;

	if (cfg->feeds.tls)
		need = "feeds";
	else if (cfg->subscribers.tls)
		need = "subscribers";
	if (config_pos_find(ctx, "tls") == NULL) {
		if (need == NULL)
			return (0);
		return (config_errpos(ctx, config_mark(ctx, need[0] == 'f' ?
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
config_build_tuning(struct config_ctx *ctx, const struct config_raw *r,
    struct config *cfg)
{
	const struct config_pos	*p;
	size_t			 i;

	if (r->log.file != NULL) {
		if (r->log.file[0] == '\0')
			return (config_errpos(ctx, config_mark(ctx,
			    "log.file"), "'file' must name a file"));
		if (config_resolve(ctx, r->log.file, &cfg->log_file) == -1)
			return (-1);
	}
	for (i = 0; i < sizeof(config_uints) / sizeof(config_uints[0]); i++)
		if (config_uint(ctx, &config_uints[i], cfg) == -1)
			return (-1);
	if (cfg->limits.max_sources < cfg->limits.max_tracks) {
		p = config_pos_find(ctx, "limits.max_sources");
		return (config_errpos(ctx, p != NULL ? &p->val :
		    config_mark(ctx, "limits.max_tracks"), "'max_sources' (%"
		    PRIu32 ") must be at least 'max_tracks' (%" PRIu32 ")",
		    cfg->limits.max_sources, cfg->limits.max_tracks));
	}
	if (config_double(ctx, "correlator.gate_chi2", 22.46,
	    &cfg->correlator.gate_chi2) == -1 ||
	    config_double(ctx, "correlator.cell_m", 50000,
	    &cfg->correlator.cell_m) == -1)
		return (-1);
	if (!(cfg->correlator.gate_chi2 > 0 &&
	    cfg->correlator.gate_chi2 <= 1000))
		return (config_errpos(ctx, config_mark(ctx,
		    "correlator.gate_chi2"), "'gate_chi2' must be in "
		    "(0, 1000], got %g", cfg->correlator.gate_chi2));
	if (!(cfg->correlator.cell_m >= 1000 &&
	    cfg->correlator.cell_m <= 10000000))
		return (config_errpos(ctx, config_mark(ctx,
		    "correlator.cell_m"), "'cell_m' must be in "
		    "1000..10000000, got %g", cfg->correlator.cell_m));
	return (0);
}

/* Check and copy one identity. */
static int
config_build_identity(struct config_ctx *ctx, unsigned i,
    const struct config_raw_identity *r, struct config_identity *id)
{
	char		path[64];
	unsigned	j;

	snprintf(path, sizeof(path), "identities[%u].id", i);
	if (!config_id_valid(r->id, TF_ID_LEN - 1))
		return (config_errpos(ctx, config_mark(ctx, path), "id '%s' "
		    "must be 1..%d characters of A-Z a-z 0-9 - _ .", r->id,
		    TF_ID_LEN - 1));
	snprintf(path, sizeof(path), "identities[%u].nation", i);
	if (!config_nation_valid(r->nation))
		return (config_errpos(ctx, config_mark(ctx, path), "nation "
		    "'%s' is not an ISO 3166 alpha-3 code (three upper-case "
		    "letters)", r->nation));
	snprintf(path, sizeof(path), "identities[%u].sensors", i);
	if (r->role == CONFIG_ROLE_FEED && r->nsensors == 0)
		return (config_errpos(ctx, config_mark(ctx, path), "feed '%s' "
		    "must list at least one sensor in 'sensors'", r->id));
	if (r->role == CONFIG_ROLE_SUBSCRIBER &&
	    config_pos_find(ctx, path) != NULL)
		return (config_errpos(ctx, config_mark(ctx, path), "subscriber "
		    "'%s' must not have 'sensors'", r->id));
	for (j = 0; j < r->nsensors; j++) {
		snprintf(path, sizeof(path), "identities[%u].sensors[%u]",
		    i, j);
		if (!config_id_valid(r->sensors[j], TF_ID_LEN - 1))
			return (config_errpos(ctx, config_mark(ctx, path),
			    "sensor id '%s' must be 1..%d characters of "
			    "A-Z a-z 0-9 - _ .", r->sensors[j], TF_ID_LEN - 1));
	}
	id->role = r->role;
	if (config_strdup(ctx, &id->id, r->id) == -1 ||
	    config_strdup(ctx, &id->nation, r->nation) == -1)
		return (-1);
	if (r->nsensors == 0)
		return (0);
	if ((id->sensors = calloc(r->nsensors, sizeof(char *))) == NULL)
		return (config_errx(ctx, "out of memory"));
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
config_claims_unique(struct config_ctx *ctx, struct config_claim *c,
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
	line = (m = config_mark(ctx, path)) != NULL ? m->line + 1 : 0;
	config_claim_path(dup, path, sizeof(path));
	if (dup->sensor == UINT_MAX)
		return (config_errpos(ctx, config_mark(ctx, path), "duplicate "
		    "identity id '%s' (first at line %zu)", dup->name, line));
	return (config_errpos(ctx, config_mark(ctx, path), "sensor '%s' is "
	    "already claimed by identity '%s' at line %zu", dup->name,
	    cfg->identities[first->ident].id, line));
}

/* Identity ids unique among identities, sensor ids among sensors. */
static int
config_check_unique(struct config_ctx *ctx, const struct config *cfg)
{
	struct config_claim	*c;
	size_t			 n = 0, i, j;
	int			 rv;

	if ((c = calloc(cfg->nidentities, sizeof(*c))) == NULL)
		return (config_errx(ctx, "out of memory"));
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
		return (config_errx(ctx, "out of memory"));
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
config_build_identities(struct config_ctx *ctx, const struct config_raw *r,
    struct config *cfg)
{
	unsigned	i;

	cfg->identities = calloc(r->nidentities, sizeof(*cfg->identities));
	if (cfg->identities == NULL)
		return (config_errx(ctx, "out of memory"));
	for (i = 0; i < r->nidentities; i++, cfg->nidentities++)
		if (config_build_identity(ctx, i, &r->identities[i],
		    &cfg->identities[i]) == -1) {
			cfg->nidentities++;	/* so config_free frees it */
			return (-1);
		}
	return (config_check_unique(ctx, cfg));
}

/* Build the public struct from what libcyaml read, checking as we go. */
static struct config *
config_build(struct config_ctx *ctx, const struct config_raw *r)
{
	struct config	*cfg;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		config_errx(ctx, "out of memory");
		return (NULL);
	}
	if (config_strdup(ctx, &cfg->path, ctx->file) == -1 ||
	    config_build_top(ctx, r, cfg) == -1 ||
	    config_build_listens(ctx, r, cfg) == -1 ||
	    config_build_tls(ctx, r, cfg) == -1 ||
	    config_build_tuning(ctx, r, cfg) == -1 ||
	    config_build_identities(ctx, r, cfg) == -1) {
		config_free(cfg);
		return (NULL);
	}
	return (cfg);
}

/* The directory relative paths in the file are resolved against. */
static int
config_dir(struct config_ctx *ctx)
{
	char	*real, *slash;

	if ((real = realpath(ctx->file, NULL)) == NULL)
		return (config_errx(ctx, "cannot open: %s", strerror(errno)));
	if ((slash = strrchr(real, '/')) != NULL)
		*(slash == real ? slash + 1 : slash) = '\0';
	ctx->dir = real;
	return (0);
}

/* Read, walk, load and check path; see config.h. */
struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct config_ctx	 ctx;
	struct config_raw	*raw = NULL;
	struct config		*cfg = NULL;
	unsigned char		*buf = NULL;
	size_t			 len = 0;
	cyaml_config_t		 cy;

	memset(&ctx, 0, sizeof(ctx));
	ctx.file = path;
	ctx.err = err;
	ctx.errlen = errlen;
	memset(&cy, 0, sizeof(cy));
	cy.log_fn = config_cyaml_log;
	cy.log_ctx = &ctx;
	cy.mem_fn = cyaml_mem;
	cy.log_level = CYAML_LOG_ERROR;
	cy.flags = CYAML_CFG_NO_ALIAS;
	if (errlen > 0)
		err[0] = '\0';
	if (config_read(&ctx, &buf, &len) == 0 &&
	    config_dir(&ctx) == 0 &&
	    config_walk(&ctx, buf, len) == 0 &&
	    config_cyaml_load(&ctx, buf, len, &cy, &raw) == 0)
		cfg = config_build(&ctx, raw);
	if (raw != NULL)
		cyaml_free(&cy, &config_schema, raw, 0);
	free(buf);
	free(ctx.dir);
	config_pos_free(&ctx);
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
	}
	free(cfg->identities);
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
		fputc('\n', fp);
	}
}
