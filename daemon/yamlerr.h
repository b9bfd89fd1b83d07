/*
 * Shared YAML error machinery of config.c and policy.c: read a bounded file,
 * walk it once with libyaml to learn where every key and value sits, load it
 * with libcyaml while capturing its backtrace, and turn any fault into one
 * "file:line:column: message" line. Private to the daemon's loaders.
 */
#ifndef TRACKFUSE_YAMLERR_H
#define TRACKFUSE_YAMLERR_H

#include <stdarg.h>
#include <stddef.h>

#include <cyaml/cyaml.h>
#include <yaml.h>

#define YAMLERR_ERRLEN		512
#define YAMLERR_MAX_DEPTH	16	/* nesting of the YAML document */
#define YAMLERR_MAX_FRAMES	16	/* libcyaml backtrace lines kept */
#define YAMLERR_MSGLEN		256

/* Where a key or sequence entry sits in the file, by path. */
struct yamlerr_pos {
	char		*path;		/* "identities[2].id" */
	yaml_mark_t	 key;		/* the key, or the sequence entry */
	yaml_mark_t	 val;		/* the value node */
	char		*text;		/* scalar value, NULL for collections */
	int		 kind;		/* yaml_event_type_t of the value */
};

/* One line of a libcyaml backtrace. */
struct yamlerr_frame {
	int		 kind;		/* 'f' field, 'e' entry, 'm' mapping */
	char		 name[64];
	unsigned	 entry;		/* 1-based, as libcyaml prints it */
};

/* What a value of a key must look like, for enum-like keys. */
struct yamlerr_expect {
	const char	*leaf;		/* key name */
	const char	*want;		/* "'on' or 'off'" */
};

/* One file being loaded: its error buffer and the map of its nodes. */
struct yamlerr {
	const char		*file;		/* as the caller named it */
	const char		*what;		/* "configuration", "policy" */
	const struct yamlerr_expect *expect;	/* NULL-terminated, or NULL */
	char			*err;
	size_t			 errlen;
	int			 failed;
	char			*dir;		/* caller's: dirname(file) */
	struct yamlerr_pos	*pos;
	size_t			 npos;
	size_t			 cappos;
	int			 sorted;
	char			 cymsg[YAMLERR_MSGLEN];
	struct yamlerr_frame	 frames[YAMLERR_MAX_FRAMES];
	unsigned		 nframes;
};

/* yamlerr.c */
void	 yamlerr_init(struct yamlerr *, const char *, const char *,
	    const struct yamlerr_expect *, char *, size_t);
void	 yamlerr_cyaml_config(struct yamlerr *, cyaml_config_t *);
void	 yamlerr_free(struct yamlerr *);
int	 yamlerr_errpos(struct yamlerr *, const yaml_mark_t *,
	    const char *, ...) __attribute__((format(printf, 3, 4)));
int	 yamlerr_errx(struct yamlerr *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 yamlerr_read(struct yamlerr *, size_t, unsigned char **, size_t *);
int	 yamlerr_walk(struct yamlerr *, const unsigned char *, size_t);
int	 yamlerr_cyaml_load(struct yamlerr *, const unsigned char *, size_t,
	    const cyaml_config_t *, const cyaml_schema_value_t *, void **);
const struct yamlerr_pos *yamlerr_find(struct yamlerr *, const char *);
const yaml_mark_t *yamlerr_mark(struct yamlerr *, const char *);
const yaml_mark_t *yamlerr_keymark(struct yamlerr *, const char *);
const char *yamlerr_leaf(const char *);
void	 yamlerr_where(const char *, char *, size_t);
int	 yamlerr_uint_text(const char *);
int	 yamlerr_float_text(const char *, double *);

#endif
