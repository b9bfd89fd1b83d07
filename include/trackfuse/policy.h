/*
 * Owner release policies (issue 4): one YAML file per owning nation says
 * what of its data goes to whom. This module loads them (files may be
 * read; "now" is the caller's) and evaluates them as pure functions of
 * plain structs and event time: no clock, no sockets, no libevent. The
 * format and the exact evaluation order are in docs/policy.md.
 *
 * Ownership: a struct policy_set is immutable once made. A reload makes a
 * NEW set (sharing unchanged owners by reference count) and the caller
 * swaps it in and frees the old one when no update is judged against it:
 * every update is judged against exactly one set. Not thread-safe (the
 * daemon is one event loop).
 */
#ifndef TRACKFUSE_POLICY_H
#define TRACKFUSE_POLICY_H

#include <stdint.h>
#include <stdio.h>

#include "trackfuse/config.h"
#include "trackfuse/track.h"

#define POLICY_MAX_FILE		(256 * 1024)	/* bytes per policy file */
#define POLICY_MAX_OWNERS	64		/* owner files per set */
#define POLICY_MAX_RULES	256		/* rules per file */
#define POLICY_MAX_AREAS	64		/* areas per file */
#define POLICY_MAX_VERTICES	256		/* per polygon */
#define POLICY_MAX_PER_TARGET	8		/* rules with one same 'to' */
#define POLICY_MAX_MATCH	(2 * POLICY_MAX_PER_TARGET)
#define POLICY_MAX_COARSEN_M	1000000		/* sanitize.coarsen_m */
#define POLICY_MAX_DELAY_S	86400		/* sanitize.delay_s */
#define POLICY_ERRLEN		512
#define POLICY_SHA256_HEX	65		/* 64 hex digits + NUL */
#define POLICY_KEYLEN		65		/* class key: hex SHA-256 + NUL */
#define POLICY_RULE_ID_LEN	32		/* "KOR/3/12" + NUL */

/* The key of the shared full-access picture; no recipient's key equals it. */
#define POLICY_CLASS_FULL	"full"

/* What became of one owner's file. */
enum policy_state {
	POLICY_OWNER_LOADED = 0,
	POLICY_OWNER_FAILED,		/* invalid: error says where and why */
	POLICY_OWNER_MISSING		/* no file (or no policy_dir) */
};

/* Why a decision came out as it did. */
enum policy_reason {
	POLICY_OK = 0,			/* allowed by the owner's rules */
	POLICY_OK_OWNER,		/* allowed: recipient is the owner */
	POLICY_DENY_NO_RULE,		/* no rule addresses the recipient */
	POLICY_DENY_LABEL,		/* label's releasable-to lacks it */
	POLICY_DENY_CLASS,		/* label class above the rule's max */
	POLICY_DENY_CATEGORY,
	POLICY_DENY_AREA,
	POLICY_DENY_VIA,		/* not from a daemon of the hub nation */
	POLICY_DENY_FAILED,		/* owner failed closed */
	POLICY_DENY_VALIDITY,		/* event time outside the window */
	POLICY_DENY_UNLABELED,		/* unlabeled: owner only */
	POLICY_DENY_NO_SECRET,		/* subscriber has no secret */
	POLICY_REASON_MAX
};

/* What the owner demands before its data reaches a recipient. */
struct policy_sanitize {
	uint32_t	coarsen_m;	/* grid edge, 0: exact position */
	int64_t		delay_ns;	/* minimum age at release, 0: none */
	int		strip_sensor;	/* remove sensor/platform identity */
};

/* Stable id of a rule: owner, file version, 0-based index in 'rules'. */
struct policy_rule_id {
	char		owner[TF_NATION_LEN];
	uint32_t	version;
	uint32_t	index;
};

/* One owner's file as loaded, for logs, the audit trail and -n. */
struct policy_owner_info {
	char		 owner[TF_NATION_LEN];
	enum policy_state state;
	char		*file;			/* NULL if missing */
	uint32_t	 version;		/* 0 unless loaded */
	char		 sha256[POLICY_SHA256_HEX];	/* of the file bytes; "" */
	int64_t		 valid_from_ns;
	int64_t		 valid_until_ns;
	unsigned	 nrules;
	char		 error[POLICY_ERRLEN];	/* "file:line:col: why" */
};

/* A contribution as the release filter sees it (plain, from a report). */
struct policy_contrib {
	struct tf_label	 label;
	char		 origin[TF_NATION_LEN];	/* nation of the feed identity */
	enum tf_category cat;
	double		 lat_deg, lon_deg;
	int64_t		 t_ns;			/* event time */
	int		 federated;		/* came over a federation link */
	char		 from_daemon[TF_NATION_LEN];	/* its peer_daemon_nation */
};

/* A recipient: a subscriber identity. */
struct policy_recipient {
	const char	*id;
	const char	*nation;
	int		 has_secret;
};

/*
 * The verdict. On allow, rules[] holds every rule that applied (their
 * sanitizers were combined); on a rule denial, rules[0] is the rule that
 * refused. nrules is 0 for decisions no rule took part in.
 */
struct policy_decision {
	int			allowed;
	enum policy_reason	reason;
	struct policy_sanitize	san;
	unsigned		nrules;
	struct policy_rule_id	rules[POLICY_MAX_MATCH];
};

struct policy_set;

/* policy.c */
/*
 * Load <dir>/<OWNER>.yaml for every nation of the config's identities and
 * every other <AAA>.yaml in dir; dir NULL: every owner is missing. Never
 * NULL except out of memory: a bad file fails its owner closed, logged.
 */
struct policy_set *policy_load(const struct config *, const char *dir,
		    int64_t now_ns);
/* policy_load() with the config's policy_dir. */
struct policy_set *policy_load_dir(const struct config *, int64_t now_ns);
/*
 * A NEW set with owner's file read again, the others shared (the old set
 * stays valid); NULL: out of memory or owner not alpha-3.
 */
struct policy_set *policy_reload_owner(const struct policy_set *,
		    const struct config *, const char *owner, int64_t now_ns);
void		 policy_free(struct policy_set *);
unsigned	 policy_nowners(const struct policy_set *);
/* Owners in name order; NULL past the end. */
const struct policy_owner_info *policy_owner_info(const struct policy_set *,
		    unsigned);
const struct policy_owner_info *policy_owner_find(const struct policy_set *,
		    const char *);

/* Decide one contribution for one recipient; returns decision->allowed. */
int		 policy_evaluate(const struct policy_set *,
		    const struct policy_contrib *,
		    const struct policy_recipient *, const char *daemon_nation,
		    struct policy_decision *);
/*
 * Release class key (POLICY_KEYLEN hex): equal for two recipients iff
 * every contribution gets the same verdict, reason and sanitizers.
 */
void		 policy_class_key(const struct policy_set *,
		    const struct policy_recipient *, const char *daemon_nation,
		    char *);
/*
 * The recipient view of a config identity (id, nation, secret set); its
 * strings point into the identity, valid while that config lives.
 */
struct policy_recipient policy_recipient(const struct config_identity *);
/*
 * The recipient an uplink stands for: its id and recipient nation, no
 * per-center secret (the strings are the caller's).
 */
struct policy_recipient policy_uplink_recipient(const char *link_id,
		    const char *nation);

/* Effective release matrix owner x (subscriber, uplink) x category, for -n. */
void		 policy_print_matrix(const struct policy_set *,
		    const struct config *, FILE *);

/* Snap a position to the fixed global grid of grid_m metres (cell centre). */
void		 policy_coarsen(double lat, double lon, double grid_m,
		    double *lat2, double *lon2);

const char	*policy_reason_name(enum policy_reason);
const char	*policy_state_name(enum policy_state);
const char	*policy_category_name(enum tf_category);
/* "KOR/3/1" into buf of POLICY_RULE_ID_LEN. */
void		 policy_rule_id_str(const struct policy_rule_id *, char *);

#endif
