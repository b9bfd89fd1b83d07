/*
 * Conversion between protobuf messages and the plain C track types, with
 * validation of everything a peer could get wrong.
 */
#ifndef TRACKFUSE_CODEC_H
#define TRACKFUSE_CODEC_H

#include <stddef.h>

#include "trackfuse/track.h"
#include "trackfuse/wire.h"

#define CODEC_ERRLEN	160

/* Storage for encoding a report/picture without heap allocation. */
struct codec_report_msg {
	Envelope				env;
	Trackfuse__V1__TrackReport		rep;
	Trackfuse__V1__Position			pos;
	Trackfuse__V1__Velocity			vel;
	Trackfuse__V1__SecurityLabel		lab;
	char					*rel[TF_MAX_REL];
	double					cov[TF_COV_N];
};

struct codec_picture_msg {
	Envelope				env;
	Trackfuse__V1__PictureTrack		pic;
	Trackfuse__V1__Position			pos;
	Trackfuse__V1__Velocity			vel;
	Trackfuse__V1__SecurityLabel		lab;
	char					*rel[TF_MAX_REL];
	char					*nations[TF_MAX_NATIONS];
	double					cov[TF_COV_N];
};

/* codec.c */
/* Fill *m so that &m->env encodes r; m keeps pointers into r. */
void	codec_report_encode(const struct tf_report *, struct codec_report_msg *);
void	codec_picture_encode(const struct tf_picture_track *,
	    struct codec_picture_msg *);
/* Validate and convert; -1 with a reason in err (CODEC_ERRLEN) on bad input. */
int	codec_report_decode(const Trackfuse__V1__TrackReport *,
	    struct tf_report *, char *, size_t);
int	codec_drop_decode(const Trackfuse__V1__TrackDrop *, struct tf_drop *,
	    char *, size_t);
int	codec_picture_decode(const Trackfuse__V1__PictureTrack *,
	    struct tf_picture_track *, char *, size_t);
int	codec_label_decode(const Trackfuse__V1__SecurityLabel *,
	    struct tf_label *, char *, size_t);
int	codec_nation_valid(const char *);
int	codec_id_valid(const char *);
/* 1 if the 21-value upper triangle is a finite symmetric PSD matrix. */
int	codec_cov_psd(const double *);
const char *codec_category_name(enum tf_category);
const char *codec_identity_name(enum tf_identity);
const char *codec_class_name(enum tf_class);

#endif
