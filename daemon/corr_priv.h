/*
 * The correlation core's own definitions, shared by its files and by
 * nobody else (the interface is trackfuse/corr.h):
 *	corr.c		records, system tracks, the picture, association,
 *			life cycle: corr_report and the rest of corr.h
 *	corr_fuse.c	gating distances and covariance intersection
 *	corr_index.c	the spatial index of system tracks
 *	corr_bias.c	registration bias estimation
 * The 6x6 kernels and the motion model are static inline here: every
 * file computes with them, on every report, and they must stay inlined.
 */
#ifndef TF_CORR_PRIV_H
#define TF_CORR_PRIV_H

#include <sys/mman.h>
#include <sys/queue.h>

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trackfuse/corr.h"
#include "trackfuse/geo.h"
#include "trackfuse/lap.h"

#define CORR_SLAB	256		/* records per slab allocation */
#define CORR_ARENA_MAX	(1U << 24)	/* cap on records reserved up front */
#define CORR_HOLD	2.0		/* persistence gate, x gate_chi2 */
#define CORR_FIRM	2		/* updates that confirm a track */
#define CORR_QUICK	6000000000LL	/* ns, a slower update counts less */
#define CORR_SLOW_LOOKS	2		/* more updates to confirm if slow */
#define CORR_COAST	6		/* updates of a one-sensor track to coast */
#define CORR_LANDED	20000.0		/* m, a falling ballistic track below */
#define CORR_SLOW	3		/* coast_ns factor of slow categories */
#define CORR_SWITCH	9.0		/* chi-square gain that moves a held source */
#define CORR_CROWS	8		/* sources of one sensor in a cluster */
#define CORR_CCOLS	32		/* system tracks in a cluster */
#define CORR_INF	1e30		/* cost of a forbidden assignment */
#define CORR_NEWTON	8		/* Newton steps on the CI weights */
/*
 * Newton stops when the predicted decrease of log det P is below this
 * (from the closed-form start it takes two or three steps).
 */
#define CORR_CI_TOL	1e-12
/*
 * f(w) = -log det Y(w) is self-concordant (log det of an affine map), so
 * once the Newton decrement l (l^2 = -slope, the predicted decrease) is
 * small, the next is at most (l / (1 - l))^2 and what is left to gain at
 * most about half its square: after a step that predicted a decrease
 * below 1e-3, the one after would predict about 1e-6 and the optimum is
 * within 1e-6 of log det P (a relative 1e-6 of det P), so the iteration
 * stops there without paying for another derivative.
 */
#define CORR_CI_LAST	1e-3
#define CORR_CI_WARM	1		/* corr_ci: start from given w */
#define CORR_CI_KEEP	0.05		/* log det P a kept warm start may lose */
#define CORR_CI_GENERAL	2		/* corr_ci: KKT form of steps */
#define CORR_SUBSTEP	5.0		/* s, max gravity integration step */
#define CORR_MAXSTEP	64		/* max gravity substeps */
#define CORR_BUCKETS	(1U << 22)	/* cap on hash bucket counts */
#define CORR_HASH0	1024		/* hash buckets used at first */
#define CORR_BQ		0.25		/* m, step of a stored bias */
#define CORR_PROFB	128		/* profile hash buckets (a profile
					   is looked up per new source) */
#define CORR_PRESERVE	16		/* free profiles before a report */
#define CORR_LEVELS	16		/* spatial index levels */
#define CORR_CLASSES	12		/* spatial index horizons */
#define CORR_HORIZON	4000000000LL	/* ns, the shortest horizon */
#define CORR_IBITS	20		/* bits of a cell coordinate */
#define CORR_ICOORD	524288.0	/* 2^(CORR_IBITS - 1) */
#define CORR_IFILL	0.25		/* index reach per cell edge, at most */
#define CORR_IBLK	4		/* entries of a small index block */
#define CORR_IBIG	16		/* entries of a big one */
#define CORR_IBIGAFTER	3		/* full small blocks before big ones */
#define CORR_ITINY	0		/* block classes: a cell's lone entry, */
#define CORR_ISMALL	1		/* CORR_IBLK entries, */
#define CORR_IBIGC	2		/* CORR_IBIG entries */
#define CORR_ICLASSES	3
#define CORR_IRESERVE	4		/* spare index blocks for a report */
#define CORR_ICOARSE	4		/* a coarse cell is 2^this cells square */
#define CORR_IMAPBITS	12		/* coarse cell counters: 2^this */
#define CORR_WHEEL	64		/* index wheel slots ... */
#define CORR_WSLOT	1000000000LL	/* ... of this many ns */
#define CORR_NEAR_AHEAD	16		/* tracks a query finds ahead */
#define CORR_NEAR_CELLS	16		/* cells a query looks up ahead */
#define CORR_IPROBE	2		/* cells per track a query probes,
					   else it scans the level's list */
#define CORR_NS		1e-9
#define CORR_E2		(GEO_F * (2.0 - GEO_F))	/* WGS84 e^2 */
#define CORR_SENSORS	32		/* sensors with a bias estimate */
#define CORR_BIAS_DT	2000000000LL	/* ns, max age gap of a bias pair */
#define CORR_BIAS_MAXD	3000.0		/* m, a larger gap is no bias sample */
#define CORR_BIAS_MIN	30		/* samples before a bias is applied */
#define CORR_BIAS_EVERY	5000000000LL	/* ns of event time between solves */
#define CORR_BIAS_PRIOR	100.0		/* m, prior sigma of a bias */
#define CORR_STALE_LOOKS 2.1		/* periods a source may go unseen */
#define CORR_PERIOD_NS	10000000LL	/* unit of a source's period */
#define CORR_WARM_MAX	12		/* contributions a warm start keeps */
#define CORR_VMAX	1e30		/* m/s, a source's velocity at most */
#define CORR_COAST_EVERY 5000000000LL	/* ns between coasting re-shows */
#define CORR_BIAS_DECOR	20.0		/* reports one independent sample is */
#define CORR_ATICK	20		/* log2 ns of an age wheel tick */
#define CORR_ABITS	8		/* log2 slots of an age wheel level */
#define CORR_ASLOTS	(1 << CORR_ABITS)
#define CORR_ALEVELS	3		/* age wheel levels, then aover */
/*
 * Event times outside [0, CORR_TMAX] are refused, so that no difference
 * or watermark arithmetic can overflow (the year 2262 is INT64_MAX ns).
 */
#define CORR_TMAX	(INT64_MAX / 4)

struct corr_sys;

/*
 * Stored covariances (a source's, a system track's) are float: they are
 * more than half of a record, and float holds their 7 digits of meaning
 * (states stay double: ECEF metres need more). They are unpacked to
 * double for all arithmetic; these overloads let geo_cov_pack and
 * geo_cov_unpack take a stored one.
 */
static inline void corr_cov_unpackf(const float *, double *);
static inline void corr_cov_packf(const double *, float *);
#define geo_cov_unpack(a, b) _Generic((a), float *: corr_cov_unpackf, \
	const float *: corr_cov_unpackf, default: geo_cov_unpack)((a), (b))
#define geo_cov_pack(a, b) _Generic((b), float *: corr_cov_packf, \
	default: geo_cov_pack)((a), (b))

/*
 * A sensor id and a security label, shared by the sources that carry
 * both (all tracks of one sensor usually carry the same label, and a
 * source holding its own copies would spend 108 of its bytes on them);
 * or the label and nations a coasting track keeps showing, shared by the
 * tracks that showed the same. Interned in a hash, counted, freed with
 * the last holder. Unused bytes are zero: entries compare as bytes.
 */
struct corr_prof {
	struct corr_prof	*hnext;		/* hash chain, free list */
	uint32_t		 refs;
	uint32_t		 hash;
	union {
		struct {			/* a source's */
			char		 sensor[TF_ID_LEN];
			struct tf_label	 label;
		};
		struct {			/* a coasting track's */
			struct tf_label	 klabel;
			uint8_t		 nnations;
			char		 nations[TF_MAX_NATIONS][TF_NATION_LEN];
		};
	};
	uint8_t			 kind;		/* which of the two */
};

/* One sensor's local track and its latest estimate. */
struct corr_src {
	union {
		struct corr_src	*hnext;		/* source hash bucket */
		struct corr_src	*fnext;		/* free list */
	};
	LIST_ENTRY(corr_src)	 aentry;	/* age wheel slot */
	/*
	 * While it contributes to sys, the next contribution there; while
	 * it does not, the track it was displaced from (0: none).
	 */
	union {
		SLIST_ENTRY(corr_src) centry;
		uint64_t	 from;
	};
	struct corr_sys		*sys;		/* NULL: not associated */
	struct corr_prof	*prof;		/* sensor and label */
	uint32_t		 replaced_local;	/* took the place of ... */
	uint32_t		 local;
	uint32_t		 aseq;		/* age order among equal t */
	int8_t			 sidx;		/* sensor table index or -1 */
	uint8_t			 replaced;	/* ... replaced_local */
	uint8_t			 cat;		/* enum tf_category */
	uint8_t			 ident;		/* enum tf_identity */
	float			 quality;
	int16_t			 bapp[3];	/* ECEF bias taken off x, in
					   CORR_BQ m (corr_bapp) */
	uint16_t		 period;	/* shortest report gap in
					   CORR_PERIOD_NS, 0: none */
	float			 Pt[TF_COV_N];	/* covariance, upper triangle */
	int64_t			 t;
	double			 p[3];		/* ECEF position, m */
	float			 v[3];		/* ECEF velocity, m/s */
	uint32_t		 atk;		/* age wheel tick filed at,
					   low bits (corr_age_update) */
};

SLIST_HEAD(corr_srcq, corr_src);
LIST_HEAD(corr_srcl, corr_src);

/*
 * The spatial index's cells hold their tracks in blocks of compact
 * entries (position rounded to float, reach rounded up to cover that),
 * so that a query tests a cell's tracks without touching their records.
 */
struct corr_ient {
	float			 x[3];
	float			 reach;		/* m, see corr_reach */
	struct corr_sys		*t;
};

/*
 * A cell's blocks: its first CORR_IBIGAFTER hold CORR_IBLK entries, the
 * others (of the few crowded cells) CORR_IBIG, so that a query walks a
 * short chain there and a sparse picture wastes little room. A cell of
 * one entry, the rule in a sparse picture (most of 1,000 objects have a
 * cell to themselves), has a block of one (CORR_ITINY), which gives way
 * to a small one when a second entry comes: the chain is no longer, and
 * a lone track costs 48 bytes of index instead of 120.
 */
struct corr_iblk {
	struct corr_iblk	*next;		/* the cell's next, free list */
	uint64_t		 key;		/* level, face, cell */
	uint32_t		 n;		/* entries used */
	uint32_t		 cls;		/* CORR_ITINY, CORR_ISMALL, CORR_IBIGC */
	struct corr_ient	 e[];
};

#define CORR_IBCAP(cls)	((cls) == CORR_ITINY ? 1 : \
	(cls) == CORR_ISMALL ? CORR_IBLK : CORR_IBIG)
#define CORR_IBSIZE(cls) (offsetof(struct corr_iblk, e) + \
	CORR_IBCAP(cls) * sizeof(struct corr_ient))

/*
 * A slot of the index's cell table (open addressing, linear probing): a
 * cell's key beside its first block, so that a query probes a cell
 * without touching the blocks of others.
 */
struct corr_icell {
	uint64_t		 key;
	struct corr_iblk	*b;		/* NULL: a free slot */
};

/*
 * A system track: the fusion of its contributions. The fields a gate
 * reads for every candidate the index finds (category, count, time,
 * state) come first, in the first cache lines: corr_far_sys rejects most
 * candidates on these alone.
 */
struct corr_sys {
	struct corr_iblk	*iblk;		/* index cell block */
	uint8_t			 cat;		/* enum tf_category */
	int8_t			 ilevel;	/* index level, -1: global */
	uint8_t			 status;	/* enum tf_track_status */
	uint8_t			 iclass:4;	/* index horizon */
	uint8_t			 multi:1;	/* ever held by two sensors */
	uint8_t			 shown:1;	/* CORR_CREATED emitted */
	uint8_t			 kept_ok:1;	/* kept is the label now, see
						   corr_keep_save */
	uint8_t			 ncontrib;	/* at most CORR_FUSE_MAX */
	uint8_t			 nupd;		/* updates, saturating (only
					   a few are ever counted on) */
	uint8_t			 kident;	/* kept: enum tf_identity */
	uint8_t			 kconflict;	/* kept: ident_conflict */
	int64_t			 t;
	double			 x[6];
	LIST_ENTRY(corr_sys)	 ientry;	/* index wheel slot, global list */
	uint64_t		 id;
	TAILQ_ENTRY(corr_sys)	 entry;		/* all tracks, ascending id */
	struct corr_srcq	 contribs;	/* in the order they came */
	/*
	 * While it coasts: when it is dropped, and its place in the
	 * coasting list (ascending tend). While it has contributions: the
	 * CI weights (x 255) of its last fusion and the signature of those
	 * (corr_gather; 0: none), where the next fusion starts. While it is
	 * free: the free list.
	 */
	union {
		struct {
			int64_t	 tend;
			TAILQ_ENTRY(corr_sys) qentry;
		};
		struct {
			uint32_t csig;
			uint8_t	 cw[CORR_WARM_MAX];
		};
		struct corr_sys	*fnext;
	};
	float			 Pt[TF_COV_N];	/* covariance, upper triangle */
	/*
	 * What a coasting track still shows once its last contribution is
	 * gone, the picture fields that come from the contributions (with
	 * kident and kconflict): saved at each emission while it has them.
	 */
	float			 kquality;
	struct corr_prof	*kept;		/* label, nations; or NULL */
};

/* An estimate to associate: a converted report, or a stored source. */
struct corr_obs {
	const char		*sensor;
	int			 sidx;		/* sensor table index or -1 */
	int64_t			 t;
	enum tf_category	 cat;
	double			 x[6];
	double			 P[36];
	double			 ldP;		/* log det P if known, else -inf */
};

/*
 * A cluster around a report: the sources of its sensor (rows; row 0 is
 * the report) that compete for the system tracks around them (columns).
 * A track may hold one source of a sensor, so a row that wants a column
 * held by another row moves that one: rows join as the tracks they hold
 * turn up among the candidates. Costs are d^2 + log det S (the negative
 * log likelihood); each row may also start a new track (a column of its
 * own after the tracks), and a held row may stay.
 */
struct corr_cl {
	size_t			 nr, nc;
	const struct corr_src	*self;			/* row 0's source */
	struct corr_src		*src[CORR_CROWS];	/* rows 1.. */
	struct corr_obs		 obs[CORR_CROWS];
	int			 own[CORR_CROWS];	/* its track's column */
	double			 ldown[CORR_CROWS];
	struct corr_sys		*sys[CORR_CCOLS];
	int			 holder[CORR_CCOLS];	/* row in it, or -1 */
	struct corr_src		*crep[CORR_CCOLS];	/* row 0 renumbers */
	double			 ldmax;
	double			 cost[CORR_CROWS][CORR_CCOLS + CORR_CROWS];
	double			 mat[CORR_CROWS * (CORR_CCOLS + CORR_CROWS)];
	size_t			 col[CORR_CROWS];
	double			 work[LAP_WORK_BYTES(CORR_CCOLS + CORR_CROWS) /
				    sizeof(double)];
};

/*
 * A sensor's registration bias: its estimate (ENU, m), the samples behind
 * it and its mean stated horizontal variance, which weighs it in the
 * anchor.
 */
struct corr_sensor {
	char			 id[TF_ID_LEN];
	double			 b[3];
	double			 vsum;
	uint64_t		 nv;
	uint64_t		 n;
	int			 comp;		/* connected component, solve */
};

/* Position differences i - j (ENU) of two sensors, i < j, by information. */
struct corr_pair {
	double			 W[9];		/* sum of information, ENU */
	double			 wd[3];		/* sum of information x diff */
	uint64_t		 n;
};

/* Slab header; the records follow it. */
struct corr_slab {
	struct corr_slab	*next;
};

/*
 * Records reserved up front for the configured limits: address space
 * only (the kernel gives a page when a record is first used), so that
 * the picture grows to its limits without a heap allocation, and the
 * memory held stays that of the records in use.
 */
struct corr_arena {
	void			*base;		/* NULL: none (slabs only) */
	size_t			 len;		/* bytes mapped */
	size_t			 n;		/* records */
	size_t			 used;		/* records handed out */
};

LIST_HEAD(corr_sysl, corr_sys);

/* A spatial index query in progress (corr_near_start). */
struct corr_near {
	const struct corr	*c;
	uint64_t		*wbits;		/* c->iwbits, pruned here */
	double			 p[3];		/* where */
	double			 r;		/* m, reach of the estimate */
	double			 f;		/* widening of track reaches */
	int			 list;		/* scan the level's wheel */
	int			 k;		/* ... this slot */
	int			 level;		/* -1: the global list */
	int			 faces;		/* bit mask to look at */
	int			 face;		/* this one */
	int64_t			 lo[2], hi[2], cur[2];
	int64_t			 flo[6][2], fhi[6][2]; /* range per face */
	struct corr_sys		*t;		/* next in the chain */
	struct corr_iblk	*b;		/* block of the cell scan */
	uint32_t		 i;		/* next entry in it */
	struct corr_iblk	*cb[CORR_NEAR_CELLS]; /* first blocks of the
					   cells looked up (corr_near_fill) */
	int			 icb, ncb;	/* next in cb, in cb */
	int			 cdone;		/* the level's cells are in cb */
	struct corr_sys		*buf[CORR_NEAR_AHEAD]; /* found ahead */
	int			 ahead, nahead;	/* next in buf, in buf */
};

struct corr {
	struct corr_params	 p;
	corr_emit_fn		 emit;
	void			*arg;
	struct corr_src		**sbuckets;	/* in sbarena */
	size_t			 smask;		/* grows, see corr_src_grow */
	size_t			 smax;		/* buckets reserved */
	struct corr_arena	 sbarena;
	struct corr_icell	*icells;	/* in cbarena */
	size_t			 cmask;		/* grows, see corr_cell_grow */
	size_t			 cmax;		/* slots reserved (and half as
					   many spare, for corr_cell_grow) */
	size_t			 ncells;	/* cells in use */
	struct corr_arena	 cbarena;
	uint16_t		 icoarse[1 << CORR_IMAPBITS]; /* cells per
					   coarse cell, see corr_cell_map */
	struct corr_srcl	 awheel[CORR_ALEVELS][CORR_ASLOTS]; /* sources
					   by deadline: see corr_age_place */
	struct corr_srcl	 aover;		/* deadlines past the wheel */
	uint64_t		 awbits[CORR_ALEVELS][CORR_ASLOTS / 64];
	int64_t			 atick;		/* first tick not passed */
	int64_t			 asorted;	/* tick whose slot is sorted */
	int64_t			 aomin;		/* <= every tick in aover */
	uint32_t		 aseq;		/* age insertions, wrapping */
	TAILQ_HEAD(, corr_sys)	 tracks;
	TAILQ_HEAD(corr_sysq, corr_sys) coast;
	struct corr_sysl	 iglobal;	/* tracks of unbounded reach */
	struct corr_iblk	*ifree[CORR_ICLASSES]; /* free index blocks,
					   by class */
	struct corr_arena	 iarena[CORR_ICLASSES]; /* index blocks,
					   reserved */
	size_t			 iblocks[CORR_ICLASSES]; /* taken */
	struct corr_sysl	 iwheel[CORR_LEVELS][CORR_WHEEL]; /* by
					   corr_until: see corr_index_age */
	uint64_t		 iwbits[CORR_LEVELS]; /* slots that may
					   hold tracks (corr_near_slot) */
	int64_t			 islot;		/* next wheel slot to pass */
	int64_t			 ilo;		/* <= every track's corr_until */
	size_t			 ilevel_n[CORR_LEVELS]; /* tracks per level */
	double			 iedge[CORR_LEVELS]; /* cell edge per level */
	int64_t			 ihi;		/* newest time filed */
	struct corr_src		*sfree;
	struct corr_prof	*pbuckets[CORR_PROFB];
	struct corr_prof	*pfree;
	size_t			 pfree_n;
	struct corr_arena	 parena;	/* profiles, reserved */
	struct corr_sys		*tfree;
	struct corr_slab	*slabs;
	struct corr_arena	 sarena;	/* source records, reserved */
	struct corr_arena	 tarena;	/* system tracks, reserved */
	size_t			 nsrc;
	size_t			 nsys;
	size_t			 nshown;	/* of them, emitted */
	uint64_t		 next_id;
	int64_t			 now;
	int			 have_now;
	struct corr_stats	 st;
	/*
	 * The bias tables, sized for CORR_SENSORS, are in barena (struct
	 * corr_bias): the parts a few sensors use are a few pages.
	 */
	struct corr_sensor	*sens;		/* [CORR_SENSORS] */
	struct corr_pair	*pair;		/* i < j at j (j - 1) / 2 + i */
	double			*bN;		/* bias solve, n3 x n3 */
	double			*br;		/* ... and its n3 */
	struct corr_arena	 barena;
	int			 nsens;
	int64_t			 next_solve;
	int64_t			 next_coast;	/* coasting tracks re-shown */
	struct corr_cl		 cl;		/* assignment scratch */
	/* Scratch for fusion, kept here to stay off the stack and the heap. */
	double			 fx[CORR_FUSE_MAX][6];
	double			 fP[CORR_FUSE_MAX][36];
};

/*
 * The bias tables (struct corr: sens, pair, bN, br), reserved as address
 * space: a table is used from its start (sensor i, the pairs of sensors
 * below j, the leading n3 x n3 of bN), so the kernel gives pages for the
 * sensors in use only. bN comes first, and fills whole 4 KiB pages: the
 * rest starts a page of its own.
 */
struct corr_bias {
	double			 bN[CORR_SENSORS * 3 * CORR_SENSORS * 3];
	struct corr_sensor	 sens[CORR_SENSORS];
	double			 br[CORR_SENSORS * 3];
	struct corr_pair	 pair[CORR_SENSORS * (CORR_SENSORS - 1) / 2];
};

/* ---- 6x6 linear algebra ------------------------------------------------ */

/*
 * The sizes here are fixed (3 and 6), and at -O2 gcc neither unrolls
 * nor vectorises most of these loops: kept rolled, a 6x6 kernel spends
 * more instructions on loop control and index arithmetic than on
 * arithmetic. The loops are unrolled in full (CORR_UNROLL), so that the
 * triangular bounds become constants and every index a fixed offset;
 * the arithmetic, and its order, is the same.
 */
#define CORR_UNROLL	_Pragma("GCC unroll 8")

/* A stored (float) upper triangle as a full double 6x6. */
static inline void
corr_cov_unpackf(const float *t, double *P)
{
	int	i, j, k = 0;

	CORR_UNROLL
	for (i = 0; i < 6; i++)
		CORR_UNROLL
		for (j = i; j < 6; j++, k++)
			P[i * 6 + j] = P[j * 6 + i] = t[k];
}

/*
 * The upper triangle of a double 6x6, stored as float; absurd values
 * (a sigma beyond 1e19 m) are clamped to the float range, so that what
 * the core shows stays finite. They are rare: the clamping pass runs only
 * when the largest magnitude calls for it (a NaN stays NaN either way).
 */
static inline void
corr_cov_packf(const double *P, float *t)
{
	double	v, m = 0.0;
	int	i, j, k = 0;

	CORR_UNROLL
	for (i = 0; i < 6; i++)
		CORR_UNROLL
		for (j = i; j < 6; j++, k++) {
			v = fabs(P[i * 6 + j]);
			m = v > m ? v : m;
			t[k] = (float)P[i * 6 + j];
		}
	if (!(m > FLT_MAX))
		return;
	for (k = 0, i = 0; i < 6; i++)
		for (j = i; j < 6; j++, k++) {
			v = P[i * 6 + j];
			if (v > FLT_MAX)
				v = FLT_MAX;
			else if (v < -FLT_MAX)
				v = -FLT_MAX;
			t[k] = (float)v;
		}
}

/*
 * The square-root-free factor A = U D^-1 U^T of a symmetric 6x6 A (U
 * lower, row major, only its lower triangle written, with diagonal D) and
 * r = D^-1; -1 if A is not PD: a pivot not positive, not finite, or so
 * small that its reciprocal is not, which is exactly a reciprocal out of
 * (0, DBL_MAX] (+0 for an infinite pivot, NaN for NaN). The rows after a
 * bad pivot are computed all the same, from NaN or infinity, and the
 * test is one branch at the end, not three a row. The chain from row to
 * row holds one division per row and no square root. A finished row is
 * kept scaled as well, M = U D^-1 (unit lower), so that each product
 * U_ik U_jk r_k costs one multiplication, not two (the same product,
 * rounded alike); only its strict lower triangle is written. The pivots
 * make a chain,
 * each waiting on the previous one's division: the last term of a pivot
 * is taken as (U_ik U_ik) r_k, k = i - 1, so that one multiplication,
 * not two, stands between r_k and the next division (-5% time in a
 * fusion, for one multiplication more a row).
 */
static inline int
corr_ldlm(const double *restrict A, double *restrict U, double *restrict M,
    double *restrict r)
{
	double	s;
	int	i, j, k, ok = 1;

	CORR_UNROLL
	for (i = 0; i < 6; i++) {
		CORR_UNROLL
		for (j = 0; j < i; j++) {
			s = A[i * 6 + j];
			CORR_UNROLL
			for (k = 0; k < j; k++)
				s -= U[i * 6 + k] * M[j * 6 + k];
			U[i * 6 + j] = s;
			M[i * 6 + j] = s * r[j];
		}
		s = A[i * 7];
		CORR_UNROLL
		for (k = 0; k + 1 < i; k++)
			s -= U[i * 6 + k] * M[i * 6 + k];
		if (i > 0)
			s -= (U[i * 7 - 1] * U[i * 7 - 1]) * r[i - 1];
		U[i * 7] = s;
		r[i] = 1.0 / s;
		ok &= (r[i] > 0.0) & (r[i] <= DBL_MAX);
	}
	return ok ? 0 : -1;
}

/* corr_ldlm without M. */
static inline int
corr_ldl(const double *restrict A, double *restrict U, double *restrict r)
{
	double	M[36];

	return corr_ldlm(A, U, M, r);
}

/*
 * log det A from the reciprocal pivots r of its corr_ldl: one log of the
 * product while that stays a normal number, else the sum of six.
 */
static inline double
corr_ldl_logdet(const double r[6])
{
	double	p, ld = 0.0;
	int	i;

	p = (r[0] * r[1]) * (r[2] * r[3]) * (r[4] * r[5]);
	if (isnormal(p))
		return -log(p);
	for (i = 0; i < 6; i++)
		ld -= log(r[i]);
	return ld;
}

/*
 * Cholesky factor L (lower, row major) of a symmetric 6x6 A; -1 if not
 * PD. Only the lower triangle of L is written: every user reads only
 * that. It is computed as A = U D^-1 U^T (U lower with diagonal D, the
 * square-root-free form), then L = U D^-1/2: the chain from row to row
 * holds one division per row and no square root (the six roots come
 * after, all at once).
 *
 * The diagonal of L is stored as its reciprocal, 1 / L_ii = D_i^-1/2,
 * which the roots give for free: every user of the factor (the
 * substitutions of corr_lsolve6 and corr_chol_inv, corr_chol_logdet)
 * wants it that way, and so none of them divides.
 */
static inline int
corr_chol(const double *restrict A, double *restrict L)
{
	double	U[36], r[6];
	int	i, j;

	if (corr_ldl(A, U, r) == -1)
		return -1;
	CORR_UNROLL
	for (i = 0; i < 6; i++)
		r[i] = sqrt(r[i]);
	CORR_UNROLL
	for (i = 0; i < 6; i++) {
		CORR_UNROLL
		for (j = 0; j < i; j++)
			L[i * 6 + j] = U[i * 6 + j] * r[j];
		L[i * 7] = r[i];
	}
	return 0;
}

/*
 * Inverse of A = L L^T as L^-T L^-1 (L from corr_chol, reciprocal
 * diagonal): invert the triangle by forward substitution, then multiply;
 * about half the work of six solves, and symmetric by construction. Only
 * the lower triangle of M = L^-1 is read, so only that is written.
 */
static inline void
corr_chol_inv(const double *restrict L, double *restrict Ai)
{
	double	M[36], s;
	int	i, j, k;

	CORR_UNROLL
	for (i = 0; i < 6; i++) {
		M[i * 7] = L[i * 7];
		CORR_UNROLL
		for (j = 0; j < i; j++) {
			s = 0.0;
			CORR_UNROLL
			for (k = j; k < i; k++)
				s += L[i * 6 + k] * M[k * 6 + j];
			M[i * 6 + j] = -s * M[i * 7];
		}
	}
	CORR_UNROLL
	for (i = 0; i < 6; i++)
		CORR_UNROLL
		for (j = 0; j <= i; j++) {
			s = 0.0;
			CORR_UNROLL
			for (k = i; k < 6; k++)
				s += M[k * 6 + i] * M[k * 6 + j];
			Ai[i * 6 + j] = Ai[j * 6 + i] = s;
		}
}

/*
 * log det of A = L L^T (L from corr_chol: its diagonal holds 1 / L_ii):
 * one log of the diagonal's product, or one per element should the
 * product leave the normal range.
 */
static inline double
corr_chol_logdet(const double L[36])
{
	int	i;
	double	s = 0.0, p;

	p = (L[0] * L[7]) * (L[14] * L[21]) * (L[28] * L[35]);
	if (isnormal(p))
		return -2.0 * log(p);
	for (i = 0; i < 6; i++)
		s += log(L[i * 6 + i]);
	return -2.0 * s;
}

/* b = m a m^T for a 3x3 block a; of b only the upper triangle if sym. */
static inline void
corr_rotate_block(const double m[3][3], const double a[3][3], int sym,
    double b[3][3])
{
	double	t[3][3], s;
	int	i, j, k;

	CORR_UNROLL
	for (i = 0; i < 3; i++)			/* t = m a */
		CORR_UNROLL
		for (j = 0; j < 3; j++) {
			s = 0.0;
			CORR_UNROLL
			for (k = 0; k < 3; k++)
				s += m[i][k] * a[k][j];
			t[i][j] = s;
		}
	CORR_UNROLL
	for (i = 0; i < 3; i++)			/* t m^T */
		CORR_UNROLL
		for (j = sym ? i : 0; j < 3; j++) {
			s = 0.0;
			CORR_UNROLL
			for (k = 0; k < 3; k++)
				s += t[i][k] * m[j][k];
			b[i][j] = s;
		}
}

/*
 * out = T P T^T, T = blockdiag(m, m), for a symmetric P, both as upper
 * triangles (tf_cov_idx order, the wire's and the store's), with a basis
 * the caller already has: by 3x3 blocks, m P_IJ m^T (no products with T's
 * zero blocks), and of the diagonal blocks (symmetric) only the upper
 * triangles.
 */
static inline void
corr_rotate(const double m[3][3], const double *p, double *restrict out)
{
	double	a[3][3], b[3][3];
	int	bi, bj, i, j;

	CORR_UNROLL
	for (bi = 0; bi < 6; bi += 3)
		CORR_UNROLL
		for (bj = bi; bj < 6; bj += 3) {
			CORR_UNROLL
			for (i = 0; i < 9; i++)
				a[i / 3][i % 3] =
				    p[tf_cov_idx(bi + i / 3, bj + i % 3)];
			corr_rotate_block(m, (const double (*)[3])a, bi == bj, b);
			CORR_UNROLL
			for (i = 0; i < 3; i++)
				CORR_UNROLL
				for (j = bi == bj ? i : 0; j < 3; j++)
					out[tf_cov_idx(bi + i, bj + j)] = b[i][j];
		}
}

/* ENU vector to ECEF with basis r (geo_enu_to_ecef_vec): out = R^T v. */
static inline void
corr_enu_to_ecef(const double r[3][3], const double v[3], double out[3])
{
	int	i;

	CORR_UNROLL
	for (i = 0; i < 3; i++)
		out[i] = r[0][i] * v[0] + r[1][i] * v[1] + r[2][i] * v[2];
}

/* ---- motion model ------------------------------------------------------ */

/*
 * White-acceleration spectral density q, (m/s^2)^2 per s, by category:
 * aircraft manoeuvre hard, ships and land units barely, satellites follow
 * their orbit. A ballistic missile coasts on gravity but may still be
 * boosting or re-entering, hence its large q.
 */
static inline double
corr_q(enum tf_category cat)
{
	switch (cat) {
	case TF_CAT_SURFACE:
	case TF_CAT_SUBSURFACE:
	case TF_CAT_LAND:
		return 0.05;
	case TF_CAT_SPACE:
		return 0.01;
	case TF_CAT_BALLISTIC_MISSILE:
		return 100.0;
	default:
		return 9.0;
	}
}

/* Whether the category's motion is dominated by gravity. */
static inline int
corr_ballistic(enum tf_category cat)
{
	return cat == TF_CAT_SPACE || cat == TF_CAT_BALLISTIC_MISSILE;
}

/* Point-mass gravity acceleration at r: -GM r / |r|^3. */
static inline void
corr_gravity(const double r[3], double a[3])
{
	double	n, k;
	int	i;

	n = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
	k = n > 1.0 ? -GEO_GM / (n * n * n) : 0.0;
	for (i = 0; i < 3; i++)
		a[i] = k * r[i];
}

/*
 * Move a state dt under gravity with velocity-Verlet substeps (at least
 * two, at most CORR_SUBSTEP s each, capped): symplectic, cheap and exact
 * enough for the few seconds between reports.
 */
static inline void
corr_fly(double x[6], double dt)
{
	double	a[3], h;
	int	i, k, n;

	n = (int)ceil(fabs(dt) / CORR_SUBSTEP);
	if (n < 2)
		n = 2;
	if (n > CORR_MAXSTEP)
		n = CORR_MAXSTEP;
	h = dt / n;
	for (k = 0; k < n; k++) {
		corr_gravity(x, a);
		for (i = 0; i < 3; i++) {
			x[3 + i] += 0.5 * h * a[i];
			x[i] += h * x[3 + i];
		}
		corr_gravity(x, a);
		for (i = 0; i < 3; i++)
			x[3 + i] += 0.5 * h * a[i];
	}
}

/* The state of corr_predict. */
static inline void
corr_predict_x(enum tf_category cat, double dt, const double x[6],
    double xo[6])
{
	int	i;

	memcpy(xo, x, 6 * sizeof(double));
	if (corr_ballistic(cat))
		corr_fly(xo, dt);
	else
		for (i = 0; i < 3; i++)
			xo[i] += dt * x[3 + i];
}

/*
 * Element (i, j) of each 3x3 block of F P F^T, F = [I dt I; 0 I], from
 * the four of P that make it, a = P_ij, b = P_i,j+3, bt = P_i+3,j and
 * cc = P_i+3,j+3 (the same sums as R = F P, then R F^T).
 */
static inline void
corr_predict_el(double dt, double a, double b, double bt, double cc, int i,
    int j, double Po[36])
{
	Po[i * 6 + j] = (a + dt * bt) + dt * (b + dt * cc);
	Po[i * 6 + j + 3] = b + dt * cc;
	Po[(i + 3) * 6 + j] = bt + dt * cc;
	Po[(i + 3) * 6 + j + 3] = cc;
}

/* The process noise Q of corr_predict, added to Po. */
static inline void
corr_predict_q(enum tf_category cat, double dt, double Po[36])
{
	double	q, ad, q3, q2, q1;
	int	i;

	q = corr_q(cat);
	ad = fabs(dt);
	q3 = q * ad * ad * ad / 3.0;	/* once, not once a row */
	q2 = q * dt * ad / 2.0;
	q1 = q * ad;
	CORR_UNROLL
	for (i = 0; i < 3; i++) {
		Po[i * 6 + i] += q3;
		Po[i * 6 + i + 3] += q2;
		Po[(i + 3) * 6 + i] += q2;
		Po[(i + 3) * 6 + i + 3] += q1;
	}
}


/*
 * corr_predict of a stored covariance (a float upper triangle), read in
 * place: no full double copy to make first.
 */
static inline void
corr_predict_f(enum tf_category cat, double dt, const double x[6],
    const float *t, double xo[6], double Po[36])
{
	int	i, j;

	corr_predict_x(cat, dt, x, xo);
	CORR_UNROLL
	for (i = 0; i < 3; i++)
		CORR_UNROLL
		for (j = 0; j < 3; j++)
			corr_predict_el(dt, t[tf_cov_idx(i, j)],
			    t[tf_cov_idx(i, j + 3)], t[tf_cov_idx(j, i + 3)],
			    t[tf_cov_idx(i + 3, j + 3)], i, j, Po);
	corr_predict_q(cat, dt, Po);
}


/* Component i of the bias taken off a source's estimate, m. */
static inline double
corr_bapp(const struct corr_src *s, int i)
{
	return s->bapp[i] * CORR_BQ;
}

/* Index of the lowest bit set in a non-zero m. */
static inline int
corr_ctz64(uint64_t m)
{
#if defined(__GNUC__)
	return __builtin_ctzll(m);
#else
	int	i;

	for (i = 0; !(m & 1); i++)
		m >>= 1;
	return i;
#endif
}

/* corr.c */
void		 corr_arena_drop(struct corr_arena *, void *, size_t);
void		*corr_arena_take(struct corr_arena *, size_t);

/* corr_fuse.c */
int		 corr_mdist(const double [6], const double [36],
		    const double [6], const double [36], double *, double *);
int		 corr_ci_idle(const double [36], const double [36]);
int		 corr_fuse_how(size_t, const double (*)[6],
		    const double (*)[36], double [6], double [36], double *,
		    int);

/* corr_index.c */
void		 corr_index_edges(struct corr *);
void		 corr_unindex(struct corr *, struct corr_sys *);
void		 corr_index(struct corr *, struct corr_sys *, int);
void		 corr_index_age(struct corr *);
void		 corr_near_start(struct corr *, struct corr_near *,
		    const double [3], double, int64_t);
struct corr_sys	*corr_near_next(struct corr_near *);

/* corr_bias.c */
int		 corr_sensor_find(const struct corr *, const char *);
int		 corr_sensor_index(struct corr *, const char *);
void		 corr_bias_ecef(const struct corr *, int, const double [3][3],
		    double [3]);
void		 corr_bias_sample(struct corr *, const struct corr_src *,
		    const double [3][3]);
void		 corr_bias_solve(struct corr *);

#endif	/* TF_CORR_PRIV_H */
