/*
 * The YAML error machinery config.c and policy.c share: a bounded read,
 * one libyaml walk recording the line and column of every key and value
 * by path, and libcyaml's error log and backtrace turned into one
 * "file:line:column: message" line. See yamlerr.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "yamlerr.h"

/* Open walk frame: a mapping or sequence being read. */
struct yamlerr_open {
	int		 seq;
	char		*path;
	size_t		 first;		/* first pos entry inside it */
	unsigned	 idx;
	long		 pending;	/* key awaiting its value, or -1 */
};

static void	yamlerr_cyaml_log(cyaml_log_t, void *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

/* Record an error at a position; only the first error is kept. */
int
yamlerr_errpos(struct yamlerr *ctx, const yaml_mark_t *m,
    const char *fmt, ...)
{
	char	msg[YAMLERR_ERRLEN], *c;
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
int
yamlerr_errx(struct yamlerr *ctx, const char *fmt, ...)
{
	char	msg[YAMLERR_ERRLEN];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return (yamlerr_errpos(ctx, NULL, "%s", msg));
}

/* The last component of a path, for messages: "port", "sensors[1]". */
const char *
yamlerr_leaf(const char *path)
{
	const char	*p;

	if ((p = strrchr(path, '.')) != NULL)
		return (p + 1);
	return (path);
}

/* Where a container is, for messages: "in 'limits'" or "at top level". */
void
yamlerr_where(const char *path, char *buf, size_t len)
{
	if (path[0] == '\0')
		snprintf(buf, len, "at top level");
	else
		snprintf(buf, len, "in '%s'", path);
}

/* Order positions by path, for bsearch. */
static int
yamlerr_pos_cmp(const void *a, const void *b)
{
	const struct yamlerr_pos	*pa = a, *pb = b;

	return (strcmp(pa->path, pb->path));
}

/*
 * Find what the walk recorded for path; NULL if the file does not set it.
 * Sorts on first use, so only after the walk (which holds indices).
 */
const struct yamlerr_pos *
yamlerr_find(struct yamlerr *ctx, const char *path)
{
	struct yamlerr_pos	key;

	if (!ctx->sorted) {
		qsort(ctx->pos, ctx->npos, sizeof(*ctx->pos), yamlerr_pos_cmp);
		ctx->sorted = 1;
	}
	key.path = (char *)path;
	return (bsearch(&key, ctx->pos, ctx->npos, sizeof(*ctx->pos),
	    yamlerr_pos_cmp));
}

/* Mark of the value at path, or of the nearest enclosing node set. */
const yaml_mark_t *
yamlerr_mark(struct yamlerr *ctx, const char *path)
{
	const struct yamlerr_pos	*p;
	char			 buf[YAMLERR_MSGLEN], *cut;

	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		if ((p = yamlerr_find(ctx, buf)) != NULL)
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
const yaml_mark_t *
yamlerr_keymark(struct yamlerr *ctx, const char *path)
{
	const struct yamlerr_pos	*p;

	if ((p = yamlerr_find(ctx, path)) != NULL)
		return (&p->key);
	return (yamlerr_mark(ctx, path));
}

/* Release everything the walk recorded. */
static void
yamlerr_pos_free(struct yamlerr *ctx)
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
static struct yamlerr_pos *
yamlerr_pos_add(struct yamlerr *ctx, char *path, const yaml_mark_t *key)
{
	struct yamlerr_pos	*np, *p;
	size_t			 ncap;

	if (ctx->npos == ctx->cappos) {
		ncap = ctx->cappos ? ctx->cappos * 2 : 64;
		np = reallocarray(ctx->pos, ncap, sizeof(*np));
		if (np == NULL) {
			free(path);
			yamlerr_errx(ctx, "out of memory");
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
yamlerr_key_valid(const char *k)
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
yamlerr_kind_name(int kind)
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
yamlerr_walk_key(struct yamlerr *ctx, struct yamlerr_open *o,
    const yaml_event_t *ev)
{
	struct yamlerr_pos	*p;
	const char		*k;
	char			*path, where[YAMLERR_MSGLEN];
	size_t			 i;

	yamlerr_where(o->path, where, sizeof(where));
	if (ev->type != YAML_SCALAR_EVENT)
		return (yamlerr_errpos(ctx, &ev->start_mark,
		    "a key %s is %s, expected a name", where,
		    yamlerr_kind_name(ev->type)));
	k = (const char *)ev->data.scalar.value;
	if (!yamlerr_key_valid(k))
		return (yamlerr_errpos(ctx, &ev->start_mark,
		    "unknown key '%s' %s", k, where));
	if (asprintf(&path, "%s%s%s", o->path, o->path[0] ? "." : "", k) == -1)
		return (yamlerr_errx(ctx, "out of memory"));
	for (i = o->first; i < ctx->npos; i++) {
		if (strcmp(ctx->pos[i].path, path) == 0) {
			free(path);
			return (yamlerr_errpos(ctx, &ev->start_mark,
			    "duplicate key '%s' %s (first at line %zu)", k,
			    where, ctx->pos[i].key.line + 1));
		}
	}
	if ((p = yamlerr_pos_add(ctx, path, &ev->start_mark)) == NULL)
		return (-1);
	o->pending = p - ctx->pos;
	return (0);
}

/* A value node: record where it is; returns its path (owned by ctx). */
static const char *
yamlerr_walk_node(struct yamlerr *ctx, struct yamlerr_open *o,
    const yaml_event_t *ev)
{
	struct yamlerr_pos	*p;
	char			*path;

	if (o == NULL) {
		if (ev->type != YAML_MAPPING_START_EVENT) {
			yamlerr_errpos(ctx, &ev->start_mark, "expected a "
			    "mapping of %s keys, got %s", ctx->what,
			    yamlerr_kind_name(ev->type));
			return (NULL);
		}
		if ((path = strdup("")) == NULL ||
		    (p = yamlerr_pos_add(ctx, path, &ev->start_mark)) == NULL)
			goto oom;
	} else if (o->seq) {
		if (asprintf(&path, "%s[%u]", o->path, o->idx++) == -1 ||
		    (p = yamlerr_pos_add(ctx, path, &ev->start_mark)) == NULL)
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
	yamlerr_errx(ctx, "out of memory");
	return (NULL);
}

/* Refuse anchors and aliases: our files have no use for them. */
static int
yamlerr_walk_anchor(struct yamlerr *ctx, const yaml_event_t *ev)
{
	const yaml_char_t	*a = NULL;

	if (ev->type == YAML_ALIAS_EVENT)
		return (yamlerr_errpos(ctx, &ev->start_mark,
		    "YAML aliases are not supported"));
	if (ev->type == YAML_SCALAR_EVENT)
		a = ev->data.scalar.anchor;
	else if (ev->type == YAML_MAPPING_START_EVENT)
		a = ev->data.mapping_start.anchor;
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		a = ev->data.sequence_start.anchor;
	if (a != NULL)
		return (yamlerr_errpos(ctx, &ev->start_mark,
		    "YAML anchors are not supported"));
	return (0);
}

/* Handle one node event (scalar, mapping or sequence start). */
static int
yamlerr_walk_event(struct yamlerr *ctx, struct yamlerr_open *stack,
    unsigned *depth, const yaml_event_t *ev)
{
	struct yamlerr_open	*o = *depth ? &stack[*depth - 1] : NULL;
	const char		*path;

	if (yamlerr_walk_anchor(ctx, ev) == -1)
		return (-1);
	if (o != NULL && !o->seq && o->pending == -1)
		return (yamlerr_walk_key(ctx, o, ev));
	if ((path = yamlerr_walk_node(ctx, o, ev)) == NULL)
		return (-1);
	if (ev->type == YAML_SCALAR_EVENT)
		return (0);
	if (*depth == YAMLERR_MAX_DEPTH)
		return (yamlerr_errpos(ctx, &ev->start_mark,
		    "nested deeper than %d levels", YAMLERR_MAX_DEPTH));
	o = &stack[(*depth)++];
	if ((o->path = strdup(path)) == NULL)
		return (yamlerr_errx(ctx, "out of memory"));
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
yamlerr_walk_syntax(struct yamlerr *ctx, const yaml_parser_t *p,
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
			return (yamlerr_errpos(ctx, &m, "not a YAML text file: "
			    "%s", problem));
		return (yamlerr_errpos(ctx, &m, "not a YAML text file: %s "
		    "(byte 0x%02x)", problem, buf[i]));
	}
	if (p->context != NULL)
		return (yamlerr_errpos(ctx, &m, "YAML syntax error: %s %s "
		    "started at %zu:%zu", problem, p->context,
		    p->context_mark.line + 1, p->context_mark.column + 1));
	return (yamlerr_errpos(ctx, &m, "YAML syntax error: %s", problem));
}

/* Dispatch one parser event; 1 at the end of the stream. */
static int
yamlerr_walk_one(struct yamlerr *ctx, struct yamlerr_open *stack,
    unsigned *depth, unsigned *ndocs, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return (1);
	case YAML_DOCUMENT_START_EVENT:
		if ((*ndocs)++ > 0)
			return (yamlerr_errpos(ctx, &ev->start_mark,
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
		return (yamlerr_walk_event(ctx, stack, depth, ev));
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
int
yamlerr_walk(struct yamlerr *ctx, const unsigned char *buf, size_t len)
{
	yaml_parser_t		 parser;
	yaml_event_t		 ev;
	struct yamlerr_open	 stack[YAMLERR_MAX_DEPTH];
	unsigned		 depth = 0, ndocs = 0;
	int			 rv = 0;

	if (!yaml_parser_initialize(&parser))
		return (yamlerr_errx(ctx, "out of memory"));
	yaml_parser_set_input_string(&parser, buf, len);
	while (rv == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rv = yamlerr_walk_syntax(ctx, &parser, buf, len);
			break;
		}
		rv = yamlerr_walk_one(ctx, stack, &depth, &ndocs, &ev);
		yaml_event_delete(&ev);
	}
	while (depth > 0)
		free(stack[--depth].path);
	yaml_parser_delete(&parser);
	if (rv == -1)
		return (-1);
	if (ctx->npos == 0)
		return (yamlerr_errx(ctx, "empty %s, expected a mapping of "
		    "%s keys", ctx->what, ctx->what));
	return (0);
}

/* Read the whole file, bounded, so the walk and libcyaml see one text. */
int
yamlerr_read(struct yamlerr *ctx, size_t max, unsigned char **bufp,
    size_t *lenp)
{
	struct stat	 st;
	unsigned char	*buf;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(ctx->file, O_RDONLY | O_CLOEXEC)) == -1)
		return (yamlerr_errx(ctx, "cannot open: %s", strerror(errno)));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (yamlerr_errx(ctx, "not a regular file"));
	}
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		return (yamlerr_errx(ctx, "out of memory"));
	}
	while ((n = read(fd, buf + len, max + 1 - len)) > 0 &&
	    len + n <= max)
		len += n;
	close(fd);
	if (n != 0) {
		free(buf);
		if (n > 0)
			return (yamlerr_errx(ctx, "larger than %zu bytes",
			    max));
		return (yamlerr_errx(ctx, "cannot read: %s", strerror(errno)));
	}
	*bufp = buf;
	*lenp = len;
	return (0);
}

/* Parse one libcyaml backtrace line ("  in mapping field 'x' (...)"). */
static void
yamlerr_cyaml_frame(struct yamlerr *ctx, const char *line)
{
	struct yamlerr_frame	*f;

	if (ctx->nframes == YAMLERR_MAX_FRAMES)
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
 * that follows it, to be turned into one message by yamlerr_cyaml_error().
 */
static void
yamlerr_cyaml_log(cyaml_log_t level, void *arg, const char *fmt, va_list ap)
{
	struct yamlerr	*ctx = arg;
	char			 line[YAMLERR_MSGLEN];
	size_t			 n;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '.'))
		line[--n] = '\0';
	if (strncmp(line, "  in ", 5) == 0)
		yamlerr_cyaml_frame(ctx, line);
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
yamlerr_cyaml_path(struct yamlerr *ctx, int drop, char *buf, size_t len)
{
	const struct yamlerr_frame	*f;
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
yamlerr_expect(const struct yamlerr *ctx, const char *msg, const char *leaf)
{
	const struct yamlerr_expect	*x;

	for (x = ctx->expect; x != NULL && x->leaf != NULL; x++)
		if (strcmp(leaf, x->leaf) == 0)
			return (x->want);
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
yamlerr_cyaml_value(struct yamlerr *ctx, const char *path)
{
	const struct yamlerr_pos	*p = yamlerr_find(ctx, path);
	const char		*leaf = yamlerr_leaf(path), *want;
	char			 got[YAMLERR_MSGLEN];

	if ((want = yamlerr_expect(ctx, ctx->cymsg, leaf)) == NULL)
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "'%s': %s",
		    leaf, ctx->cymsg));
	if (p != NULL && p->kind == YAML_SCALAR_EVENT)
		snprintf(got, sizeof(got), "'%s'", p->text);
	else
		snprintf(got, sizeof(got), "%s", p != NULL ?
		    yamlerr_kind_name(p->kind) : "nothing");
	return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
	    "'%s' expects %s, got %s", leaf, want, got));
}

/* Turn what libcyaml logged into one file:line:column message. */
static int
yamlerr_cyaml_error(struct yamlerr *ctx, cyaml_err_t e)
{
	char		 path[YAMLERR_MSGLEN], full[YAMLERR_MSGLEN * 2 + 2];
	char		 where[YAMLERR_MSGLEN + 8];
	const char	*arg = strstr(ctx->cymsg, ": ");
	unsigned	 n = 0;

	arg = arg != NULL ? arg + 2 : "";
	yamlerr_cyaml_path(ctx, e == CYAML_ERR_MAPPING_FIELD_MISSING ||
	    e == CYAML_ERR_SEQUENCE_ENTRIES_MIN ||
	    e == CYAML_ERR_SEQUENCE_ENTRIES_MAX, path, sizeof(path));
	yamlerr_where(path, where, sizeof(where));
	switch (e) {
	case CYAML_ERR_OOM:
		return (yamlerr_errx(ctx, "out of memory"));
	case CYAML_ERR_INVALID_KEY:
		snprintf(full, sizeof(full), "%s%s%s", path,
		    path[0] ? "." : "", arg);
		return (yamlerr_errpos(ctx, yamlerr_keymark(ctx, full),
		    "unknown key '%s' %s", arg, where));
	case CYAML_ERR_MAPPING_FIELD_MISSING:
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "missing required key '%s' %s", arg, where));
	case CYAML_ERR_SEQUENCE_ENTRIES_MIN:
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "'%s' needs at least one entry", yamlerr_leaf(path)));
	case CYAML_ERR_SEQUENCE_ENTRIES_MAX:
		sscanf(ctx->cymsg, "Excessive entries (%u", &n);
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path),
		    "'%s' has more than %u entries", yamlerr_leaf(path), n));
	case CYAML_ERR_INVALID_VALUE:
		return (yamlerr_cyaml_value(ctx, path));
	default:
		return (yamlerr_errpos(ctx, yamlerr_mark(ctx, path), "%s",
		    ctx->cymsg[0] ? ctx->cymsg : cyaml_strerror(e)));
	}
}

/* Load the text against the schema into *rawp (free with cyaml_free). */
int
yamlerr_cyaml_load(struct yamlerr *ctx, const unsigned char *buf,
    size_t len, const cyaml_config_t *cy, const cyaml_schema_value_t *schema,
    void **rawp)
{
	cyaml_err_t	e;

	*rawp = NULL;
	e = cyaml_load_data(buf, len, cy, schema, rawp, NULL);
	if (e != CYAML_OK)
		return (yamlerr_cyaml_error(ctx, e));
	if (*rawp == NULL)
		return (yamlerr_errx(ctx, "empty %s", ctx->what));
	return (0);
}

/*
 * Strict decimal: libcyaml 1.3 reads "64k" as 64, "1.5" as 1 and "010" as
 * octal 8, so every number is checked again on its text.
 */
int
yamlerr_uint_text(const char *s)
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
int
yamlerr_float_text(const char *s, double *v)
{
	char	*end;

	if (s == NULL || *s == '\0' || strspn(s, "0123456789+-.eE") !=
	    strlen(s))
		return (0);
	errno = 0;
	*v = strtod(s, &end);
	return (*end == '\0' && errno == 0 && isfinite(*v));
}

/* Start loading file; errors go to err (first one kept). */
void
yamlerr_init(struct yamlerr *ctx, const char *file, const char *what,
    const struct yamlerr_expect *expect, char *err, size_t errlen)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->file = file;
	ctx->what = what;
	ctx->expect = expect;
	ctx->err = err;
	ctx->errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
}

/* A libcyaml config whose log feeds this context's error message. */
void
yamlerr_cyaml_config(struct yamlerr *ctx, cyaml_config_t *cy)
{
	memset(cy, 0, sizeof(*cy));
	cy->log_fn = yamlerr_cyaml_log;
	cy->log_ctx = ctx;
	cy->mem_fn = cyaml_mem;
	cy->log_level = CYAML_LOG_ERROR;
	cy->flags = CYAML_CFG_NO_ALIAS;
}

/* Release the node map (not the caller's err or dir). */
void
yamlerr_free(struct yamlerr *ctx)
{
	yamlerr_pos_free(ctx);
}
