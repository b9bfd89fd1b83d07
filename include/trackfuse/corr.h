/*
 * The correlation core: source tracks in, system tracks out.
 *
 * Pure and deterministic: no I/O, no clock, no libevent. Time is the event
 * time carried by the input; corr_advance() moves the core's notion of "now"
 * (the event-time watermark) forward so stale contributions age out. Calling
 * the same sequence of functions with the same arguments yields the same
 * sequence of emitted changes, bit for bit.
 */
#ifndef TRACKFUSE_CORR_H
#define TRACKFUSE_CORR_H

#include <stddef.h>
#include <stdint.h>

#include "trackfuse/track.h"

struct corr;

struct corr_params {
	double		gate_chi2;	/* chi-square gate on 6-dof distance */
	int64_t		stale_ns;	/* contribution dropped when older */
	int64_t		coast_ns;	/* system track dropped after coasting this long */
	size_t		max_tracks;	/* system tracks limit */
	size_t		max_sources;	/* source tracks limit */
	double		cell_m;		/* spatial index cell edge, m */
};

enum corr_change {
	CORR_CREATED,
	CORR_UPDATED,
	CORR_DROPPED
};

enum corr_result {
	CORR_OK = 0,
	CORR_LIMIT,		/* a configured limit refused the input */
	CORR_OLD		/* older than what the core holds for that source */
};

/*
 * Receives every change. For CORR_DROPPED only track_id and t_ns are set.
 * The struct is valid only during the call.
 */
typedef void (*corr_emit_fn)(void *, enum corr_change,
    const struct tf_picture_track *);

/* corr.c */
void		 corr_params_default(struct corr_params *);
struct corr	*corr_new(const struct corr_params *, corr_emit_fn, void *);
void		 corr_free(struct corr *);
void		 corr_set_params(struct corr *, const struct corr_params *);
enum corr_result corr_report(struct corr *, const struct tf_report *);
void		 corr_drop(struct corr *, const struct tf_drop *);
void		 corr_advance(struct corr *, int64_t);
size_t		 corr_count(const struct corr *);
size_t		 corr_sources(const struct corr *);
/* Visit every system track in ascending track_id order. */
void		 corr_foreach(struct corr *, void (*)(void *,
		    const struct tf_picture_track *), void *);
const char	*corr_change_name(enum corr_change);

#endif
