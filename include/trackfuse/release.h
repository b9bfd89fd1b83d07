/*
 * Release: the stage between the feeds and the correlation cores that
 * decides which recipient may see what (issue 4, docs/policy.md).
 *
 * Every accepted contribution (report, drop, heartbeat time) enters here.
 * Recipients (all configured subscriber identities) are grouped into
 * release classes by policy_class_key(); each class has its own
 * correlator fed only the contributions its policy admits, after
 * sanitizing (coarsened position, minimum delay, sensor pseudonym). Slot
 * RELEASE_CLASS_FULL is the full-access class: every contribution, no
 * sanitizing, the shared picture.
 *
 * Pure and deterministic: no clock, no sockets, no libevent. The classes'
 * changes leave through the release_out callbacks (publish in the daemon,
 * a capture in tests). Class-local track ids carry the class's generation
 * in their high bits so that a rebuilt class never reuses an id.
 */
#ifndef TRACKFUSE_RELEASE_H
#define TRACKFUSE_RELEASE_H

#include <stddef.h>
#include <stdint.h>

#include "trackfuse/config.h"
#include "trackfuse/corr.h"
#include "trackfuse/policy.h"
#include "trackfuse/track.h"

struct release;

#define RELEASE_CLASS_FULL	0
#define RELEASE_MAX_CLASSES	64	/* class slots, the full one included */
#define RELEASE_NONE		(~0U)	/* no such recipient */
#define RELEASE_GEN_SHIFT	40	/* class-local id = gen << 40 | corr id */
#define RELEASE_MAX_RULES	64	/* audit counters per class */

/* Where a class's changes go; ids are class-local. */
struct release_out {
	void	(*update)(void *, unsigned, const struct tf_picture_track *);
	void	(*drop)(void *, unsigned, uint64_t, int64_t);
	/* A class slot is about to be (re)built: forget its picture. */
	void	(*rebuild_begin)(void *, unsigned);
	/* Recipients changed class or their class was rebuilt: resync. */
	void	(*rebuild_end)(void *);
	void	 *arg;
};

/* A recipient as release knows it: a configured subscriber identity. */
struct release_recipient {
	char		 id[TF_ID_LEN];
	char		 nation[TF_NATION_LEN];
	unsigned char	 secret[CONFIG_SECRET_MAX];
	size_t		 secretlen;	/* 0: no secret, gets nothing */
	unsigned	 cls;		/* class slot */
};

/* Released/withheld counts of one rule for one class (for the audit). */
struct release_count {
	char		 rule[POLICY_RULE_ID_LEN + 16];
	uint64_t	 released;
	uint64_t	 withheld;
};

/* release.c */
/* A release stage with only the full class until release_set_policy(). */
struct release	*release_new(const struct corr_params *,
		    const struct release_out *);
void		 release_free(struct release *);
/*
 * Swap in a policy set (ownership taken; the old one is freed) and the
 * config's subscribers; rebuild every class whose key or membership
 * changed from the retained contributions. Between events only.
 */
void		 release_set_policy(struct release *, const struct config *,
		    struct policy_set *);
const struct policy_set *release_policy(const struct release *);
void		 release_set_params(struct release *, const struct corr_params *);
/*
 * An accepted, authorized report of identity ident; the result is the
 * full class's (anything but CORR_OK: no class saw it).
 */
enum corr_result release_report(struct release *,
		    const struct config_identity *, const struct tf_report *);
void		 release_drop(struct release *, const struct tf_drop *);
/* A heartbeat's event time: every class's time moves. */
void		 release_advance(struct release *, int64_t);
/* Fail closed: from now on no class but the full one gets anything. */
void		 release_halt(struct release *);
int		 release_halted(const struct release *);
/* The full class's correlator (stats, feed limit logs). */
struct corr	*release_full_corr(const struct release *);
struct corr	*release_class_corr(const struct release *, unsigned);
/* Recipient index of subscriber id; RELEASE_NONE if not configured. */
unsigned	 release_class(const struct release *, const char *);
unsigned	 release_nrecipients(const struct release *);
const struct release_recipient *release_recipient(const struct release *,
		    unsigned);
/* Number of live class slots (the full one included). */
unsigned	 release_nclasses(const struct release *);
/* Visit every (recipient, rule) count since the last reset. */
void		 release_foreach_count(const struct release *,
		    void (*)(void *, const char *, const struct release_count *),
		    void *);
void		 release_counts_reset(struct release *);
/* Pending delayed contributions over all classes. */
size_t		 release_pending(const struct release *);
/* Recipient-scoped track id of a class-local id (HMAC-SHA256, 63 bits). */
uint64_t	 release_scoped_id(const unsigned char *, size_t, uint64_t);

#endif
