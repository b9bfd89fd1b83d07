/*
 * Release: the stage between the correlation core and the publisher that
 * decides which recipient may see what. Deterministic: a function of the
 * core's changes only.
 */
#ifndef TRACKFUSE_RELEASE_H
#define TRACKFUSE_RELEASE_H

#include "trackfuse/corr.h"
#include "trackfuse/track.h"

struct publish;
struct release;

/* The interim single release class: the full picture. */
#define RELEASE_CLASS_FULL	0
#define RELEASE_NCLASSES	1

/* release.c */
struct release	*release_new(struct publish *);
void		 release_free(struct release *);
/* corr_emit_fn: the core's changes enter the release stage here. */
void		 release_corr_emit(void *, enum corr_change,
		    const struct tf_picture_track *);
/* Release class of a subscriber identity (nation). */
unsigned	 release_class(const struct release *, const char *);

#endif
