/*
 * Plain C track types shared by the wire codec, the correlation core, the
 * release filter and the publisher. Nothing here knows of protobuf, sockets
 * or clocks: the core works on these structs alone.
 */
#ifndef TRACKFUSE_TRACK_H
#define TRACKFUSE_TRACK_H

#include <stddef.h>
#include <stdint.h>

#define TF_VERSION		"0.1.0"
#define TF_PROTOCOL_VERSION	1

#define TF_ID_LEN	32	/* identity/sensor id incl. NUL: at most 31 bytes */
#define TF_NATION_LEN	4	/* ISO 3166 alpha-3 incl. NUL */
#define TF_MAX_REL	16	/* releasable-to nations per label */
#define TF_MAX_NATIONS	16	/* contributing nations per picture track */
#define TF_COV_N	21	/* upper triangle of a 6x6 matrix */

/* Values equal the protobuf enum numbers (proto/trackfuse.proto). */
enum tf_category {
	TF_CAT_NONE = 0,
	TF_CAT_AIR,
	TF_CAT_SURFACE,
	TF_CAT_SUBSURFACE,
	TF_CAT_SPACE,
	TF_CAT_BALLISTIC_MISSILE,
	TF_CAT_LAND,
	TF_CAT_MAX
};

enum tf_identity {
	TF_IDENT_NONE = 0,
	TF_IDENT_PENDING,
	TF_IDENT_UNKNOWN,
	TF_IDENT_ASSUMED_FRIEND,
	TF_IDENT_FRIEND,
	TF_IDENT_NEUTRAL,
	TF_IDENT_SUSPECT,
	TF_IDENT_HOSTILE,
	TF_IDENT_MAX
};

enum tf_class {
	TF_CLASS_NONE = 0,	/* unmarked: owner only */
	TF_CLASS_UNCLASSIFIED,
	TF_CLASS_RESTRICTED,
	TF_CLASS_CONFIDENTIAL,
	TF_CLASS_SECRET,
	TF_CLASS_TOP_SECRET,
	TF_CLASS_MAX
};

/* Life cycle of a system track (values equal the protobuf TrackStatus). */
enum tf_track_status {
	TF_STATUS_NONE = 0,
	TF_STATUS_TENTATIVE,
	TF_STATUS_FIRM,
	TF_STATUS_COASTING,
	TF_STATUS_MAX
};

/* Security label carried end to end with each contribution. */
struct tf_label {
	char		owner[TF_NATION_LEN];	/* "" when unlabeled */
	enum tf_class	cls;
	uint8_t		nrel;
	char		rel[TF_MAX_REL][TF_NATION_LEN];
};

/*
 * One sensor's local track. Position is WGS84, velocity and covariance are
 * in the local east-north-up frame at the position. cov holds the upper
 * triangle of the 6x6 (e, n, u, ve, vn, vu) covariance, row major.
 */
struct tf_report {
	char			sensor[TF_ID_LEN];
	uint32_t		local_track;
	int64_t			t_ns;
	double			lat_deg, lon_deg, alt_m;
	double			vel[3];
	double			cov[TF_COV_N];
	enum tf_category	cat;
	enum tf_identity	ident;
	float			quality;
	struct tf_label		label;
};

/* A sensor ended one of its local tracks. */
struct tf_drop {
	char		sensor[TF_ID_LEN];
	uint32_t	local_track;
	int64_t		t_ns;
};

/* A system track as it leaves the core (and, scoped, as a recipient sees it). */
struct tf_picture_track {
	uint64_t		track_id;
	int64_t			t_ns;
	double			lat_deg, lon_deg, alt_m;
	double			vel[3];
	double			cov[TF_COV_N];
	enum tf_category	cat;
	enum tf_identity	ident;
	float			quality;
	uint8_t			nnations;
	char			nations[TF_MAX_NATIONS][TF_NATION_LEN];
	struct tf_label		label;
	int			ident_conflict;
	uint32_t		contributors;
	enum tf_track_status	status;
};

/* Index of element (i, j), i <= j, of a 6x6 upper triangle stored row major. */
static inline int
tf_cov_idx(int i, int j)
{
	if (i > j) {
		int t = i;
		i = j;
		j = t;
	}
	return i * 6 - i * (i - 1) / 2 + (j - i);
}

#endif
