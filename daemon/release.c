/*
 * Release: the per-recipient filter between the correlation core and the
 * publisher.
 *
 * INTERIM: until the release filter issue lands there is one release class,
 * RELEASE_CLASS_FULL, the full picture, and every subscriber gets it. This
 * file is already the pipeline stage the filter will live in: the core's
 * changes come in through release_corr_emit() and leave as per-class
 * publish_update()/publish_drop() calls, so the filter replaces only the
 * body of release_corr_emit() and release_class().
 */
#include <stdlib.h>

#include "trackfuse/log.h"
#include "trackfuse/publish.h"
#include "trackfuse/release.h"

struct release {
	struct publish	*pub;
	uint64_t	 changes[3];	/* per enum corr_change */
};

/* Create the release stage feeding pub (not owned). */
struct release *
release_new(struct publish *pub)
{
	struct release	*rel;

	if ((rel = calloc(1, sizeof(*rel))) == NULL)
		fatal("%s: calloc", __func__);
	rel->pub = pub;
	return rel;
}

/* Free the release stage. */
void
release_free(struct release *rel)
{
	free(rel);
}

/* Hand one core change to the publisher for every class that may see it. */
void
release_corr_emit(void *arg, enum corr_change ch,
    const struct tf_picture_track *pt)
{
	struct release	*rel = arg;

	if ((unsigned)ch < 3)
		rel->changes[ch]++;
	switch (ch) {
	case CORR_CREATED:
	case CORR_UPDATED:
		/* Interim: the full picture, unfiltered. */
		publish_update(rel->pub, RELEASE_CLASS_FULL, pt);
		break;
	case CORR_DROPPED:
		publish_drop(rel->pub, RELEASE_CLASS_FULL, pt->track_id,
		    pt->t_ns);
		break;
	default:
		fatalx("%s: unknown change %d", __func__, (int)ch);
	}
}

/* Release class of a recipient nation; interim: everyone gets class 0. */
unsigned
release_class(const struct release *rel, const char *nation)
{
	(void)rel;
	(void)nation;
	return RELEASE_CLASS_FULL;
}
