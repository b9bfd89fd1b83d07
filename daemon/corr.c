/*
 * The correlation core: many sensors' tracks of one object become one
 * system track.
 *
 * Source tracks (sensor id + local track number) keep their latest estimate
 * in ECEF, with their sensor's registration bias taken off. Each one
 * contributes to at most one system track; a system track is the
 * covariance intersection (CI) of its contributions predicted to the
 * newest of them, fused once per report.
 *
 * Association, one report at a time, in input order (deterministic, no
 * batching): a report of an associated source first checks that it still
 * agrees with its track (hysteresis, a loose gate). Otherwise, or when
 * the source is not its track's most accurate contribution, it is gated
 * (chi-square on position and velocity, compatible categories) against
 * every system track the spatial index finds within reach of it, and
 * the choice is a global nearest neighbour over the report's cluster:
 * cost d^2 + log det S, and a track already holding a track of the same
 * sensor is a candidate only with that one moved; the sensor's tracks
 * that compete so form the cluster, whose assignment is solved exactly
 * (corr_cluster, lap_solve). A held source moves only when that gains
 * CORR_SWITCH. Life cycle:
 * tentative, firm, coasting, dropped (corr.h).
 *
 * Everything here is a function of the input sequence: no clock, no
 * randomness, no I/O. "Now" is the event-time watermark. Records come from
 * a reserve sized by the limits (then slabs) and free lists, so a report
 * allocates nothing.
 */
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
static void	corr_cov_unpackf(const float *, double *);
static void	corr_cov_packf(const double *, float *);
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
static void
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
static void
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
static int
corr_ldl(const double *restrict A, double *restrict U, double *restrict r)
{
	double	M[36];

	return corr_ldlm(A, U, M, r);
}

/*
 * log det A from the reciprocal pivots r of its corr_ldl: one log of the
 * product while that stays a normal number, else the sum of six.
 */
static double
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
static int
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
static void
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
static double
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
static void
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
static void
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
static double
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
static int
corr_ballistic(enum tf_category cat)
{
	return cat == TF_CAT_SPACE || cat == TF_CAT_BALLISTIC_MISSILE;
}

/* Point-mass gravity acceleration at r: -GM r / |r|^3. */
static void
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
static void
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
static void
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
static void
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
 * Constant velocity (plus gravity for ballistic categories) with white
 * acceleration noise: P' = F P F^T + Q, F = [I dt I; 0 I]. Backward
 * prediction (dt < 0) still adds noise: |dt| in Q, sign in the cross term.
 * The gravity gradient (about 3e-6 s^-2) is left out of F.
 */
void
corr_predict(enum tf_category cat, double dt, const double x[6],
    const double P[36], double xo[6], double Po[36])
{
	int	i, j;

	corr_predict_x(cat, dt, x, xo);
	CORR_UNROLL
	for (i = 0; i < 3; i++)		/* Po may be P */
		CORR_UNROLL
		for (j = 0; j < 3; j++)
			corr_predict_el(dt, P[i * 6 + j], P[i * 6 + j + 3],
			    P[(i + 3) * 6 + j], P[(i + 3) * 6 + j + 3], i, j, Po);
	corr_predict_q(cat, dt, Po);
}

/*
 * corr_predict of a stored covariance (a float upper triangle), read in
 * place: no full double copy to make first.
 */
static void
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

/* ---- gating and fusion ------------------------------------------------- */

/*
 * d^2 = x^T S^-1 x, x = a - b, S = Pa + Pb, and log det S when ld is not
 * NULL; -1 when S is not PD. With S = U D^-1 U^T (corr_ldl), U y = x by
 * forward substitution and d^2 = y^T D y: no square root.
 */
static int
corr_mdist(const double a[6], const double Pa[36], const double b[6],
    const double Pb[36], double *d2, double *ld)
{
	double	S[36], U[36], r[6], y[6], s, p;
	int	i, k;

	CORR_UNROLL
	for (i = 0; i < 6; i++)		/* the lower triangle is enough */
		CORR_UNROLL
		for (k = 0; k <= i; k++)
			S[i * 6 + k] = Pa[i * 6 + k] + Pb[i * 6 + k];
	if (corr_ldl(S, U, r) == -1)
		return -1;
	p = 0.0;
	CORR_UNROLL
	for (i = 0; i < 6; i++) {
		s = a[i] - b[i];
		CORR_UNROLL
		for (k = 0; k < i; k++)
			s -= U[i * 6 + k] * y[k];
		y[i] = s * r[i];
		p += s * y[i];
	}
	*d2 = p;
	if (ld != NULL)
		*ld = corr_ldl_logdet(r);
	return 0;
}

/* d^2 = x^T S^-1 x, x = a - b, S = Pa + Pb; -1 when S is not PD. */
int
corr_distance(const double a[6], const double Pa[36], const double b[6],
    const double Pb[36], double *d2)
{
	return corr_mdist(a, Pa, b, Pb, d2, NULL);
}

/*
 * Y += a X over the lower triangle of symmetric 6x6 matrices (the part
 * that corr_chol reads).
 */
static void
corr_lower_axpy(double a, const double *restrict X, double *restrict Y)
{
	int	i, j;

	CORR_UNROLL
	for (i = 0; i < 6; i++)
		CORR_UNROLL
		for (j = 0; j <= i; j++)
			Y[i * 6 + j] += a * X[i * 6 + j];
}

/*
 * Weighted information sum Y(w) = sum w_i Y_i, its lower triangle only
 * (the upper is not written unless every weight is zero): it is only
 * ever factored (corr_chol).
 */
static void
corr_ysum(size_t n, const double (*Y)[36], const double *w, double Yw[36])
{
	size_t	i, j;
	int	r, c;

	for (i = 0; i < n && !(w[i] > 0.0); i++)
		;
	if (i == n) {
		memset(Yw, 0, 36 * sizeof(double));
		return;
	}
	CORR_UNROLL
	for (r = 0; r < 6; r++)		/* the first term set, not added */
		CORR_UNROLL
		for (c = 0; c <= r; c++)
			Yw[r * 6 + c] = w[i] * Y[i][r * 6 + c];
	for (j = i + 1; j < n; j++)
		if (w[j] > 0.0)
			corr_lower_axpy(w[j], Y[j], Yw);
}

/*
 * f(w) = log det P(w) = -log det Y(w), and the Cholesky factor L of Y(w)
 * (the Newton step that follows reuses it); HUGE_VAL if Y(w) is not PD.
 */
static double
corr_ci_cost(size_t n, const double (*Y)[36], const double *w, double L[36])
{
	double	Yw[36];

	corr_ysum(n, Y, w, Yw);
	if (corr_chol(Yw, L) == -1)
		return HUGE_VAL;
	return -corr_chol_logdet(L);
}

/*
 * Improved fast CI (Franken and Hupper 2005): w_i is proportional to
 * det(Y) - det(Y - Y_i) + det(Y_i), Y the sum of the informations. Every
 * determinant is taken relative to det(Y), in logs, so that 6x6 matrices
 * of m^2 do not overflow.
 */
static void
corr_ci_start(size_t n, const double (*Y)[36], const double *ld, double *w)
{
	double	ones[CORR_FUSE_MAX], Yw[36], Yo[36], L[36], ldY, ldo, sum;
	size_t	i;

	for (i = 0; i < CORR_FUSE_MAX; i++)
		ones[i] = 1.0;
	corr_ysum(n, Y, ones, Yw);
	if (corr_chol(Yw, L) == -1)
		goto uniform;
	ldY = corr_chol_logdet(L);
	for (sum = 0.0, i = 0; i < n; i++) {
		memcpy(Yo, Yw, sizeof(Yo));	/* Y - Y_i */
		corr_lower_axpy(-1.0, Y[i], Yo);
		ldo = corr_chol(Yo, L) == 0 ? corr_chol_logdet(L) : -HUGE_VAL;
		w[i] = 1.0 - exp(ldo - ldY) + exp(ld[i] - ldY);
		if (!(w[i] > 0.0) || !isfinite(w[i]))
			w[i] = 0.0;
		sum += w[i];
	}
	if (sum > 0.0 && isfinite(sum)) {
		for (i = 0; i < n; i++)
			w[i] /= sum;
		return;
	}
uniform:
	for (i = 0; i < n; i++)
		w[i] = 1.0 / n;
}

/*
 * A warm start from the weights of the previous fusion of the same
 * contributions, made to sum to one (uniform if they are unusable). A
 * weight that was 0 stays 0: corr_ci_enter brings it back if it has
 * earned a share since.
 */
static void
corr_ci_warm(size_t n, double *w)
{
	double	s = 0.0;
	size_t	i;

	for (i = 0; i < n; i++) {
		if (!(w[i] >= 0.0) || !isfinite(w[i]))
			w[i] = 0.0;
		s += w[i];
	}
	for (i = 0; i < n; i++)
		w[i] = s > 0.0 ? w[i] / s : 1.0 / n;
}

/*
 * Solve the n x n system held with its right-hand side in A (n rows of
 * n + 1) by Gaussian elimination with partial pivoting, into x; -1 when
 * a pivot is below tol (singular: f flat along some direction, done).
 */
static int
corr_gauss(size_t n, double *A, double tol, double *x)
{
	double	f, t;
	size_t	c = n + 1, i, j, k, piv;

	for (k = 0; k < n; k++) {
		for (piv = k, i = k + 1; i < n; i++)
			if (fabs(A[i * c + k]) > fabs(A[piv * c + k]))
				piv = i;
		if (!(fabs(A[piv * c + k]) > tol))
			return -1;
		for (j = 0; j < c; j++) {
			t = A[k * c + j];
			A[k * c + j] = A[piv * c + j];
			A[piv * c + j] = t;
		}
		for (i = k + 1; i < n; i++) {
			f = A[i * c + k] / A[k * c + k];
			for (j = k; j < c; j++)
				A[i * c + j] -= f * A[k * c + j];
		}
	}
	for (k = n; k-- > 0;) {
		for (t = A[k * c + n], j = k + 1; j < n; j++)
			t -= A[k * c + j] * x[j];
		x[k] = t / A[k * c + k];
	}
	return 0;
}

/*
 * Solve the equality-constrained Newton system over the active weights:
 * [H 1; 1^T 0] [dw; l] = [-g; 0]. Returns -1 when it is singular.
 */
static int
corr_kkt(size_t m, const double *H, const double *g, double *dw)
{
	double	A[(CORR_FUSE_MAX + 1) * (CORR_FUSE_MAX + 2)];
	double	x[CORR_FUSE_MAX + 1];
	size_t	c = m + 2, i, j;

	for (i = 0; i < m; i++) {
		for (j = 0; j < m; j++)
			A[i * c + j] = H[i * m + j];
		A[i * c + m] = 1.0;
		A[i * c + m + 1] = -g[i];
	}
	for (j = 0; j < m; j++)
		A[m * c + j] = 1.0;
	A[m * c + m] = A[m * c + m + 1] = 0.0;
	if (corr_gauss(m + 1, A, 1e-12 * (1.0 + fabs(H[0])), x) == -1)
		return -1;
	for (i = 0; i < m; i++)
		dw[i] = x[i];
	return 0;
}

/*
 * X = L^-1 B for a 6x6 B, L lower triangular with the reciprocals of its
 * diagonal on the diagonal (corr_chol): forward substitution row by row,
 * six columns at a time.
 */
static void
corr_lsolve6(const double *restrict L, const double *restrict B,
    double *restrict X)
{
	double	x[6], l;
	int	r, c, k;

	CORR_UNROLL
	for (r = 0; r < 6; r++) {
		CORR_UNROLL
		for (c = 0; c < 6; c++)
			x[c] = B[r * 6 + c];
		CORR_UNROLL
		for (k = 0; k < r; k++) {
			l = L[r * 6 + k];
			CORR_UNROLL
			for (c = 0; c < 6; c++)
				x[c] -= l * X[k * 6 + c];
		}
		CORR_UNROLL
		for (c = 0; c < 6; c++)
			X[r * 6 + c] = x[c] * L[r * 7];
	}
}

/*
 * A = L^-1 S L^-T for a symmetric S. With P = (L L^T)^-1, P S = L^-T A
 * L^T, so tr(P S) = tr(A) and tr(P S P T) = <A, B> (Frobenius,
 * corr_ci_dot): the CI derivatives without an inverse and without a 6x6
 * product per input. L is corr_chol's (reciprocal diagonal). Both
 * triangular solves run row by row, six columns at a time (the inner
 * loops vectorise).
 */
static void
corr_ci_xform(const double *restrict L, const double *restrict S,
    double *restrict A)
{
	double	X[36], Xt[36];
	int	r, c;

	corr_lsolve6(L, S, X);	/* X = L^-1 S */
	CORR_UNROLL
	for (r = 0; r < 6; r++)
		CORR_UNROLL
		for (c = 0; c < 6; c++)
			Xt[r * 6 + c] = X[c * 6 + r];
	corr_lsolve6(L, Xt, A);	/* A = L^-1 X^T */
}

/*
 * Frobenius product of two symmetric 6x6 matrices, from their lower
 * triangles (the diagonal once, the rest twice): 21 products, not 36.
 * One partial sum per column.
 */
static double
corr_ci_dot(const double a[36], const double b[36])
{
	double	s[6] = { 0 }, d = 0.0;
	int	r, c;

	CORR_UNROLL
	for (r = 0; r < 6; r++) {
		d += a[r * 7] * b[r * 7];
		CORR_UNROLL
		for (c = 0; c < r; c++)
			s[c] += a[r * 6 + c] * b[r * 6 + c];
	}
	return d + 2.0 * ((s[0] + s[1]) + (s[2] + s[3]) + s[4]);
}

/*
 * Gradient and Hessian of f(w) = -log det Y(w) over the active weights,
 * given the Cholesky factor L of Y(w): g_i = -tr(P Y_i), H_ij =
 * tr(P Y_i P Y_j), P = Y(w)^-1, through A_i = L^-1 Y_i L^-T
 * (corr_ci_xform). Returns the number of active weights.
 */
static size_t
corr_ci_derivs(size_t n, const double (*Y)[36], const double *w,
    const double L[36], size_t *act, double *g, double *H)
{
	double	A[CORR_FUSE_MAX][36];
	size_t	i, j, m = 0;

	for (i = 0; i < n; i++)
		if (w[i] > 0.0) {
			act[m] = i;
			corr_ci_xform(L, Y[i], A[m]);
			g[m] = -(A[m][0] + A[m][7] + A[m][14] + A[m][21] +
			    A[m][28] + A[m][35]);
			m++;
		}
	for (i = 0; i < m; i++)
		for (j = 0; j <= i; j++)
			H[i * m + j] = H[j * m + i] = corr_ci_dot(A[i], A[j]);
	return m;
}

/*
 * Solve H v = b (m x m, symmetric) by Gaussian elimination with partial
 * pivoting; -1 when H is singular (f flat along some direction: done).
 */
static int
corr_ci_solve(size_t m, const double *H, const double *b, double *v)
{
	double	A[CORR_FUSE_MAX * (CORR_FUSE_MAX + 1)];
	size_t	c = m + 1, i, j;

	for (i = 0; i < m; i++) {
		for (j = 0; j < m; j++)
			A[i * c + j] = H[i * m + j];
		A[i * c + m] = b[i];
	}
	return corr_gauss(m, A, 1e-12 * (1.0 + fabs(H[0])), v);
}

/*
 * The Newton direction in reduced variables: the active weights but the
 * largest, w_r, which takes up the rest (w_r = 1 - the others' sum).
 * With D_i = Y_i - Y_r and A_i = L^-1 D_i L^-T (corr_ci_xform) the
 * gradient is -tr(A_i) and the Hessian <A_i, A_j>, an unconstrained
 * system one smaller than the KKT one over m weights, and one transform
 * fewer: the same step (tests compare it with corr_ci_dir_kkt). Two
 * estimates make a problem in one variable: dw = -(g / h) (1, -1).
 */
static int
corr_ci_dir(size_t n, const double (*Y)[36], const double *w,
    const double L[36], size_t *act, size_t *m, double *dw, double *slope)
{
	double	A[CORR_FUSE_MAX][36], D[36];
	double	g[CORR_FUSE_MAX], H[CORR_FUSE_MAX * CORR_FUSE_MAX];
	double	v[CORR_FUSE_MAX], b[CORR_FUSE_MAX];
	size_t	i, j, r = n, k = 0;
	int	e;

	for (i = 0; i < n; i++)
		if (w[i] > 0.0 && (r == n || w[i] > w[r]))
			r = i;
	if (r == n)
		return -1;
	for (i = 0; i < n; i++) {
		if (!(w[i] > 0.0) || i == r)
			continue;
		CORR_UNROLL
		for (e = 0; e < 36; e++)
			D[e] = Y[i][e] - Y[r][e];
		corr_ci_xform(L, D, A[k]);
		g[k] = -(A[k][0] + A[k][7] + A[k][14] + A[k][21] +
		    A[k][28] + A[k][35]);
		b[k] = -g[k];
		act[k++] = i;
	}
	if (k == 0)
		return -1;
	for (i = 0; i < k; i++)
		for (j = 0; j <= i; j++)
			H[i * k + j] = H[j * k + i] = corr_ci_dot(A[i], A[j]);
	if (k == 1) {
		if (!(H[0] > 1e-300) || !isfinite(H[0]))
			return -1;
		v[0] = b[0] / H[0];
	} else if (corr_ci_solve(k, H, b, v) == -1)
		return -1;
	act[k] = r;
	dw[k] = 0.0;
	for (*slope = 0.0, i = 0; i < k; i++) {
		dw[i] = v[i];
		dw[k] -= v[i];
		*slope += g[i] * v[i];
	}
	*m = k + 1;
	return 0;
}

/*
 * The Newton direction over all active weights, from the KKT system of
 * the constraint that they sum to one (the reference for corr_ci_dir).
 */
static int
corr_ci_dir_kkt(size_t n, const double (*Y)[36], const double *w,
    const double L[36], size_t *act, size_t *m, double *dw, double *slope)
{
	double	g[CORR_FUSE_MAX], H[CORR_FUSE_MAX * CORR_FUSE_MAX];
	size_t	i;

	if ((*m = corr_ci_derivs(n, Y, w, L, act, g, H)) < 2)
		return -1;
	if (corr_kkt(*m, H, g, dw) == -1)
		return -1;
	for (*slope = 0.0, i = 0; i < *m; i++)
		*slope += g[i] * dw[i];
	return 0;
}

/*
 * One damped Newton step on the simplex from w, whose cost *f and factor
 * L are known (both move with w); kkt: the direction by corr_ci_dir_kkt.
 * The step is cut to stay in w >= 0 (a weight that reaches 0 leaves the
 * active set) and halved until f decreases (Armijo). Returns -1 when
 * there is nothing left to gain, 1 when this step was the last worth
 * taking.
 */
static int
corr_ci_step(size_t n, const double (*Y)[36], int kkt, double *w,
    double *f, double L[36])
{
	double	dw[CORR_FUSE_MAX], wt[CORR_FUSE_MAX], f0, f1, a, slope;
	double	Lt[36];
	size_t	act[CORR_FUSE_MAX], m, i, hit = n;
	int	k;

	if ((kkt ? corr_ci_dir_kkt(n, Y, w, L, act, &m, dw, &slope) :
	    corr_ci_dir(n, Y, w, L, act, &m, dw, &slope)) == -1)
		return -1;
	if (!(slope < -CORR_CI_TOL))
		return -1;
	for (a = 1.0, i = 0; i < m; i++)
		if (dw[i] < 0.0 && w[act[i]] + a * dw[i] < 0.0) {
			a = -w[act[i]] / dw[i];
			hit = act[i];
		}
	f0 = *f;
	for (k = 0; k < 30; k++, a *= 0.5, hit = n) {
		memcpy(wt, w, n * sizeof(double));
		for (i = 0; i < m; i++)
			wt[act[i]] += a * dw[i];
		if (hit < n)
			wt[hit] = 0.0;
		for (i = 0; i < m; i++)
			if (wt[act[i]] < 0.0)
				wt[act[i]] = 0.0;
		f1 = corr_ci_cost(n, Y, wt, Lt);
		if (f1 <= f0 + 1e-4 * a * slope)
			break;
	}
	if (k == 30)
		return -1;
	memcpy(w, wt, n * sizeof(double));
	memcpy(L, Lt, sizeof(Lt));
	*f = f1;
	return slope > -CORR_CI_LAST ? 1 : 0;
}

/*
 * Optimality of the zero weights once Newton has converged over the
 * others (KKT): moving weight from the largest, r, to a zero one, i,
 * changes f at the rate g = tr(P Y_r) - tr(P Y_i), P = (L L^T)^-1 (at
 * the optimum tr(P Y_j) is 6 for every weight in use). Where g < 0 the
 * curvature h = <A, A>, A = L^-1 (Y_i - Y_r) L^-T, tells the gain: the
 * zero weight most worth raising (g^2 / 2h above CORR_CI_TOL) takes the
 * Newton amount along that direction (at most half of w_r) if f then
 * decreases. Returns 1 when w moved (Newton must go on), 0 when w is
 * optimal; P is left in P (for the final covariance) when 0.
 */
static int
corr_ci_enter(size_t n, const double (*Y)[36], double *w, double *f,
    double L[36], double P[36])
{
	double	A[36], D[36], wt[CORR_FUSE_MAX], Lt[36];
	double	g, h, tr, best = 0.0, t = 0.0, f1;
	size_t	i, r = 0, in = n;
	int	e, zero = 0;

	for (i = 0; i < n; i++) {
		if (w[i] > w[r])
			r = i;
		zero |= !(w[i] > 0.0);
	}
	corr_chol_inv(L, P);
	if (!zero)
		return 0;
	tr = corr_ci_dot(P, Y[r]);
	for (i = 0; i < n; i++) {
		if (w[i] > 0.0 || !((g = tr - corr_ci_dot(P, Y[i])) < 0.0))
			continue;
		CORR_UNROLL
		for (e = 0; e < 36; e++)
			D[e] = Y[i][e] - Y[r][e];
		corr_ci_xform(L, D, A);
		h = corr_ci_dot(A, A);
		if (h > 0.0 && isfinite(h) &&
		    g * g / (2.0 * h) > CORR_CI_TOL && g * g / h > best) {
			best = g * g / h;
			t = -g / h;
			in = i;
		}
	}
	if (in == n)
		return 0;
	memcpy(wt, w, n * sizeof(double));
	if (t > 0.5 * wt[r])
		t = 0.5 * wt[r];
	wt[in] = t;
	wt[r] -= t;
	if (!((f1 = corr_ci_cost(n, Y, wt, Lt)) < *f))
		return 0;
	memcpy(w, wt, n * sizeof(double));
	memcpy(L, Lt, sizeof(Lt));
	*f = f1;
	return 1;
}

/*
 * Normalise weights to sum to one, and the factor L of Y(w) and its
 * inverse P (when not NULL) with them: Y(w / s) = Y(w) / s, so L / sqrt(s)
 * is its factor (its stored reciprocal diagonal times sqrt(s)) and s P
 * its inverse (Newton keeps the sum to rounding: s is 1 to within a few
 * ulps).
 */
static void
corr_ci_normalise(size_t n, double *w, double L[36], double *P)
{
	double	s = 0.0, q, r;
	size_t	k;
	int	i, j;

	for (k = 0; k < n; k++)
		s += w[k];
	if (s == 1.0)
		return;
	for (k = 0; k < n; k++)
		w[k] /= s;
	q = sqrt(s);
	r = 1.0 / q;
	for (i = 0; i < 6; i++) {
		for (j = 0; j < i; j++)
			L[i * 6 + j] *= r;
		L[i * 7] *= q;
	}
	if (P != NULL)
		for (i = 0; i < 36; i++)
			P[i] *= s;
}

/*
 * The information Y = P^-1 of a symmetric 6x6 P, and log det Y when ld
 * is not NULL; -1 if P is not PD (the test of corr_chol). From the
 * square-root-free factor of corr_chol, P = M D M^T with M unit lower
 * (corr_ldlm has it), Y = N^T D^-1 N with N = M^-1: no square root, and
 * the unit triangle inverts without a division.
 */
static int
corr_info(const double *restrict P, double *restrict Y, double *ld)
{
	double	U[36], M[36], N[36], r[6], s;
	int	i, j, k;

	if (corr_ldlm(P, U, M, r) == -1)
		return -1;
	CORR_UNROLL
	for (i = 0; i < 6; i++)		/* N = M^-1, unit lower */
		CORR_UNROLL
		for (j = 0; j < i; j++) {
			s = M[i * 6 + j];
			CORR_UNROLL
			for (k = j + 1; k < i; k++)
				s += M[i * 6 + k] * N[k * 6 + j];
			N[i * 6 + j] = -s;
		}
	CORR_UNROLL
	for (i = 0; i < 6; i++)		/* U = D^-1 N, strictly lower */
		CORR_UNROLL
		for (j = 0; j < i; j++)
			U[i * 6 + j] = r[i] * N[i * 6 + j];
	CORR_UNROLL
	for (i = 0; i < 6; i++)		/* Y = N^T D^-1 N */
		CORR_UNROLL
		for (j = 0; j <= i; j++) {
			s = i == j ? r[i] : U[i * 6 + j];
			CORR_UNROLL
			for (k = i + 1; k < 6; k++)
				s += U[k * 6 + i] * N[k * 6 + j];
			Y[i * 6 + j] = Y[j * 6 + i] = s;
		}
	if (ld != NULL)
		*ld = -corr_ldl_logdet(r);
	return 0;
}

/*
 * The informations Y_i = P_i^-1 and, for a cold start, their log
 * determinants; -1 if a P_i is not PD.
 */
static int
corr_ci_info(size_t n, const double (*P)[36], double (*Y)[36], double *ld)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (corr_info(P[i], Y[i], ld != NULL ? &ld[i] : NULL) == -1)
			return -1;
	return 0;
}

/*
 * x = x_0 + P sum w_i Y_i (x_i - x_0) given the factor L of P^-1, and
 * P (unless have says Po holds it already): the sum is taken on the
 * differences to x_0 so that equal states fuse to themselves exactly.
 * P at hand, the product with it costs less than two substitutions.
 */
static void
corr_ci_state(size_t n, const double (*x)[6], const double (*Y)[36],
    const double *w, const double L[36], double xo[6], double Po[36],
    int have)
{
	double	b[6], d[6], dx[6], s;
	size_t	i;
	int	j, k;

	memset(b, 0, sizeof(b));
	for (i = 1; i < n; i++) {
		if (!(w[i] > 0.0))
			continue;
		CORR_UNROLL
		for (j = 0; j < 6; j++)
			d[j] = x[i][j] - x[0][j];
		CORR_UNROLL
		for (j = 0; j < 6; j++) {
			s = 0.0;
			CORR_UNROLL
			for (k = 0; k < 6; k++)
				s += Y[i][j * 6 + k] * d[k];
			b[j] += w[i] * s;
		}
	}
	if (!have)
		corr_chol_inv(L, Po);
	CORR_UNROLL
	for (j = 0; j < 6; j++) {
		s = 0.0;
		CORR_UNROLL
		for (k = 0; k < 6; k++)
			s += Po[j * 6 + k] * b[k];
		dx[j] = s;
	}
	CORR_UNROLL
	for (j = 0; j < 6; j++)
		xo[j] = x[0][j] + dx[j];
}

/*
 * Whether warm weights w are optimal to within CORR_CI_KEEP in log det P.
 * With g_i = tr(P Y_i) (minus the gradient of f = -log det Y(w)) and
 * sum w_i g_i = tr(I) = 6, convexity gives f(w) - f(w*) <= grad f .
 * (w - w*) = sum w*_i g_i - 6 <= max g_i - 6. The check costs P (which
 * the state needs anyway) and a dot product per input, where a Newton
 * step costs two triangular solves per input and a factorisation or two.
 */
static int
corr_ci_kept(size_t n, const double (*Y)[36], const double L[36],
    double P[36])
{
	size_t	i;

	corr_chol_inv(L, P);
	for (i = 0; i < n; i++)
		if (!(corr_ci_dot(P, Y[i]) <= 6.0 + CORR_CI_KEEP))
			return 0;
	return 1;
}

/*
 * Covariance intersection: P = (sum w_i P_i^-1)^-1, x = P sum w_i P_i^-1 x_i
 * with w on the simplex minimising det P, by Newton from the improved
 * fast-CI start, or with CORR_CI_WARM from the weights w holds (those of
 * the previous fusion of the same inputs: they are kept if still good
 * enough, corr_ci_kept, else a step or two is left to take, and the
 * steps stop as soon as corr_ci_kept says the same of where they got:
 * a warm fusion answers to one tolerance, CORR_CI_KEEP, whichever way
 * it goes; a cold one converges fully).
 * CORR_CI_GENERAL takes the steps in their KKT form (tests).
 */
static int
corr_ci(size_t n, const double (*x)[6], const double (*P)[36],
    double xo[6], double Po[36], double *w, int how)
{
	double	Y[CORR_FUSE_MAX][36], ld[CORR_FUSE_MAX];
	double	L[36], Yw[36], f;
	size_t	i;
	int	k, have = 0;

	if (corr_ci_info(n, P, Y, (how & CORR_CI_WARM) ? NULL : ld) == -1)
		return -1;
	if (how & CORR_CI_WARM)
		corr_ci_warm(n, w);
	else
		corr_ci_start(n, (const double (*)[36])Y, ld, w);
	/*
	 * A kept warm start needs the factor but not the cost (a log): that
	 * is taken only when Newton is to start from it.
	 */
	corr_ysum(n, (const double (*)[36])Y, w, Yw);
	f = corr_chol(Yw, L) == -1 ? HUGE_VAL : 0.0;
	if ((how & CORR_CI_WARM) && f < HUGE_VAL &&
	    corr_ci_kept(n, (const double (*)[36])Y, L, Po))
		have = 1;
	else if (f < HUGE_VAL)
		f = -corr_chol_logdet(L);
	for (k = 0; !have && f < HUGE_VAL && k < CORR_NEWTON; k++)
		if (corr_ci_step(n, (const double (*)[36])Y,
		    (how & CORR_CI_GENERAL) != 0, w, &f, L) != 0) {
			if (!corr_ci_enter(n, (const double (*)[36])Y, w, &f,
			    L, Po)) {
				have = 1;
				break;
			}
		} else if ((how & CORR_CI_WARM) &&
		    corr_ci_kept(n, (const double (*)[36])Y, L, Po)) {
			have = 1;
			break;
		}
	corr_ci_normalise(n, w, L, have ? Po : NULL);
	if (!(f < HUGE_VAL)) {
		have = 0;
		corr_ysum(n, (const double (*)[36])Y, w, Yw);
		if (corr_chol(Yw, L) == -1)
			return -1;
	}
	for (i = 0; i < n; i++)
		if (!(w[i] > 0.0))
			w[i] = 0.0;
	corr_ci_state(n, x, (const double (*)[36])Y, w, L, xo, Po, have);
	return 0;
}

/*
 * Fuse n estimates (corr_ci; with CORR_CI_WARM, wout holds the start); a
 * lone one stands as it is.
 */
static int
corr_fuse_how(size_t n, const double (*x)[6], const double (*P)[36],
    double xo[6], double Po[36], double *wout, int how)
{
	double	w[CORR_FUSE_MAX], U[36], r[6];

	if (n < 1 || n > CORR_FUSE_MAX)
		return -1;
	if (n == 1) {
		if (corr_ldl(P[0], U, r) == -1)	/* PD? */
			return -1;
		memcpy(xo, x[0], 6 * sizeof(double));
		memcpy(Po, P[0], 36 * sizeof(double));
		if (wout != NULL)
			wout[0] = 1.0;
		return 0;
	}
	if (wout == NULL)
		how &= ~CORR_CI_WARM;
	if (how & CORR_CI_WARM)
		memcpy(w, wout, n * sizeof(double));
	if (corr_ci(n, x, P, xo, Po, w, how) == -1)
		return -1;
	if (wout != NULL)
		memcpy(wout, w, n * sizeof(double));
	return 0;
}

/*
 * Covariance intersection of n estimates at one time (corr_ci), from the
 * improved fast-CI start.
 */
int
corr_fuse(size_t n, const double (*x)[6], const double (*P)[36],
    double xo[6], double Po[36], double *wout)
{
	return corr_fuse_how(n, x, P, xo, Po, wout, 0);
}

/* corr_fuse from the weights in w (see corr_ci_kept). */
int
corr_fuse_warm(size_t n, const double (*x)[6], const double (*P)[36],
    double xo[6], double Po[36], double *w)
{
	return corr_fuse_how(n, x, P, xo, Po, w, CORR_CI_WARM);
}

/* corr_fuse with the Newton steps in their KKT form (a reference). */
int
corr_fuse_newton(size_t n, const double (*x)[6], const double (*P)[36],
    double xo[6], double Po[36], double *wout)
{
	return corr_fuse_how(n, x, P, xo, Po, wout, CORR_CI_GENERAL);
}

/* ---- records: slabs and free lists ------------------------------------- */

/* Reserve address space for n records of size sz; none if that fails. */
static void
corr_arena_init(struct corr_arena *a, size_t n, size_t sz)
{
	void	*p;

	memset(a, 0, sizeof(*a));
	if (n > CORR_ARENA_MAX)
		n = CORR_ARENA_MAX;
	p = mmap(NULL, n * sz, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return;
	a->base = p;
	a->len = n * sz;
	a->n = n;
}

/* Release an arena's address space. */
static void
corr_arena_free(struct corr_arena *a)
{
	if (a->base != NULL)
		munmap(a->base, a->len);
	memset(a, 0, sizeof(*a));
}

/*
 * Give the whole pages of [p, p + len) inside arena a back to the system;
 * they read as zeros when next touched. Advice only: a failure changes
 * nothing but the memory figure.
 */
static void
corr_arena_drop(struct corr_arena *a, void *p, size_t len)
{
	uintptr_t	pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t	lo = ((uintptr_t)p + pg - 1) & ~(pg - 1);
	uintptr_t	hi = ((uintptr_t)p + len) & ~(pg - 1);

	if (a->base == NULL || hi <= lo)
		return;
	(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* The next unused record of an arena; NULL when it is used up. */
static void *
corr_arena_take(struct corr_arena *a, size_t sz)
{
	if (a->base == NULL || a->used >= a->n)
		return NULL;
	return (char *)a->base + sz * a->used++;
}

/* Allocate a slab of n records of size sz; NULL when out of memory. */
static void *
corr_slab(struct corr *c, size_t n, size_t sz)
{
	struct corr_slab	*sl;
	size_t			 off;

	off = (sizeof(*sl) + 63) & ~(size_t)63;
	if ((sl = calloc(1, off + n * sz)) == NULL)
		return NULL;
	sl->next = c->slabs;
	c->slabs = sl;
	return (char *)sl + off;
}

/*
 * Make sure one source and one system record are free before a report
 * changes anything, so a failed allocation refuses cleanly.
 */
static int
corr_reserve(struct corr *c)
{
	struct corr_src		*s;
	struct corr_sys		*t;
	struct corr_iblk	*b;
	struct corr_prof	*pr;
	char			*p;
	size_t			 i;
	int			 k;

	if (c->sfree == NULL && (s = corr_arena_take(&c->sarena,
	    sizeof(*s))) != NULL) {
		s->fnext = NULL;
		c->sfree = s;
	}
	if (c->tfree == NULL && (t = corr_arena_take(&c->tarena,
	    sizeof(*t))) != NULL) {
		t->fnext = NULL;
		c->tfree = t;
	}
	if (c->sfree == NULL) {
		if ((s = corr_slab(c, CORR_SLAB, sizeof(*s))) == NULL)
			return -1;
		for (i = 0; i < CORR_SLAB; i++) {
			s[i].fnext = c->sfree;
			c->sfree = &s[i];
		}
	}
	if (c->tfree == NULL) {
		if ((t = corr_slab(c, CORR_SLAB, sizeof(*t))) == NULL)
			return -1;
		for (i = 0; i < CORR_SLAB; i++) {
			t[i].fnext = c->tfree;
			c->tfree = &t[i];
		}
	}
	/* A report changes a few profiles and kept pictures at most. */
	if (c->pfree_n + c->parena.n - c->parena.used < CORR_PRESERVE) {
		if ((pr = corr_slab(c, CORR_SLAB, sizeof(*pr))) == NULL)
			return -1;
		for (i = 0; i < CORR_SLAB; i++) {
			pr[i].hnext = c->pfree;
			c->pfree = &pr[i];
		}
		c->pfree_n += CORR_SLAB;
	}
	/*
	 * Index blocks: one per track at most is in use, of any class (and
	 * while a tiny one gives way, a small one more: CORR_IRESERVE).
	 */
	for (k = 0; k < CORR_ICLASSES; k++) {
		if (c->iblocks[k] + c->iarena[k].n - c->iarena[k].used >=
		    c->nsys + CORR_IRESERVE)
			continue;
		if ((p = corr_slab(c, CORR_SLAB, CORR_IBSIZE(k))) == NULL)
			return -1;
		for (i = 0; i < CORR_SLAB; i++) {
			b = (struct corr_iblk *)(p + i * CORR_IBSIZE(k));
			b->next = c->ifree[k];
			c->ifree[k] = b;
		}
		c->iblocks[k] += CORR_SLAB;
	}
	return 0;
}

/*
 * FNV-1a over the sensor id (at most TF_ID_LEN - 1 bytes, as stored) and
 * the local track number.
 */
static uint32_t
corr_src_hash(const char *sensor, uint32_t local)
{
	uint32_t	h = 2166136261U;
	int		i;

	for (i = 0; i < TF_ID_LEN - 1 && sensor[i] != '\0'; i++)
		h = (h ^ (unsigned char)sensor[i]) * 16777619U;
	for (i = 0; i < 4; i++, local >>= 8)
		h = (h ^ (local & 0xff)) * 16777619U;
	return h;
}

/*
 * Ask for the first record of the source bucket of hash h (the bucket
 * array is small enough to be cached; the records are not).
 */
static void
corr_src_prefetch(const struct corr *c, uint32_t h)
{
#if defined(__GNUC__)
	const struct corr_src	*s = c->sbuckets[h & c->smask];

	if (s != NULL) {
		__builtin_prefetch(s);
		__builtin_prefetch(&s->local);
	}
#else
	(void)c;
	(void)h;
#endif
}

/* The source track sensor/local, or NULL. */
static struct corr_src *
corr_src_find(struct corr *c, const char *sensor, uint32_t local,
    uint32_t h)
{
	struct corr_src	*s;

	for (s = c->sbuckets[h & c->smask]; s != NULL; s = s->hnext)
		if (s->local == local &&
		    strncmp(s->prof->sensor, sensor, TF_ID_LEN - 1) == 0)
			return s;
	return NULL;
}

/*
 * The hash tables' buckets are reserved for the limits (address space
 * only) and used from CORR_HASH0 on, doubling as the entries outnumber
 * them: a bucket array sized for the limits from the start would hold a
 * page of memory for every few entries. Doubling splits each bucket i
 * into i and i + n; lookups compare whole keys, so the order in a bucket
 * is moot.
 */
static void
corr_src_grow(struct corr *c)
{
	struct corr_src	**sp, *s;
	size_t		 i, n = c->smask + 1;

	c->smask = 2 * n - 1;
	for (i = 0; i < n; i++)
		for (sp = &c->sbuckets[i]; (s = *sp) != NULL;) {
			if ((corr_src_hash(s->prof->sensor, s->local) &
			    c->smask) == i) {
				sp = &s->hnext;
				continue;
			}
			*sp = s->hnext;
			s->hnext = c->sbuckets[i + n];
			c->sbuckets[i + n] = s;
		}
}

/*
 * strncmp of two nations (TF_NATION_LEN - 1 bytes at most), inline: the
 * picture compares a few per contribution, too short for a libc call.
 */
static int
corr_nation_cmp(const char *a, const char *b)
{
	int	i;

	for (i = 0; i < TF_NATION_LEN - 1; i++) {
		if (a[i] != b[i])
			return (unsigned char)a[i] - (unsigned char)b[i];
		if (a[i] == '\0')
			return 0;
	}
	return 0;
}

/* A label with its strings ended and its unused bytes zero. */
static void
corr_label_norm(const struct tf_label *l, struct tf_label *out)
{
	uint8_t	i;

	memset(out, 0, sizeof(*out));
	memcpy(out->owner, l->owner, TF_NATION_LEN - 1);
	out->cls = l->cls;
	out->nrel = l->nrel > TF_MAX_REL ? TF_MAX_REL : l->nrel;
	for (i = 0; i < out->nrel; i++)
		memcpy(out->rel[i], l->rel[i], TF_NATION_LEN - 1);
}

/* Whether a label (as corr_label_norm made it) is the same as l. */
static int
corr_label_same(const struct tf_label *n, const struct tf_label *l)
{
	uint8_t	i, nrel = l->nrel > TF_MAX_REL ? TF_MAX_REL : l->nrel;

	if (n->cls != l->cls || n->nrel != nrel ||
	    corr_nation_cmp(n->owner, l->owner) != 0)
		return 0;
	for (i = 0; i < nrel; i++)
		if (corr_nation_cmp(n->rel[i], l->rel[i]) != 0)
			return 0;
	return 1;
}

/*
 * The interned twin of key (whose unused bytes are zero), counted once
 * more; a new one comes off the free list or the reserve (corr_reserve
 * keeps CORR_PRESERVE there for a report); NULL when there is none.
 */
static struct corr_prof *
corr_prof_intern(struct corr *c, const struct corr_prof *key)
{
	struct corr_prof	*p, **bp;
	const unsigned char	*k = (const unsigned char *)key;
	size_t			 off, end, i;
	uint64_t		 w, h64 = 0;
	uint32_t		 h;

	/* A multiplicative hash of the bytes, 8 at a time. */
	off = offsetof(struct corr_prof, sensor);
	end = offsetof(struct corr_prof, kind) + 1;
	for (i = off; i < end; i += sizeof(w)) {
		w = 0;
		memcpy(&w, k + i, end - i < sizeof(w) ? end - i : sizeof(w));
		h64 = (h64 ^ w) * 0x9e3779b97f4a7c15ULL;
		h64 ^= h64 >> 29;
	}
	h = (uint32_t)h64;
	bp = &c->pbuckets[h % CORR_PROFB];
	for (p = *bp; p != NULL; p = p->hnext)
		if (p->hash == h && memcmp((unsigned char *)p + off, k + off,
		    end - off) == 0) {
			p->refs++;
			return p;
		}
	if ((p = c->pfree) != NULL) {
		c->pfree = p->hnext;
		c->pfree_n--;
	} else if ((p = corr_arena_take(&c->parena, sizeof(*p))) == NULL)
		return NULL;
	*p = *key;
	p->hash = h;
	p->refs = 1;
	p->hnext = *bp;
	*bp = p;
	return p;
}

/* The profile of sensor and label, counted once more. */
static struct corr_prof *
corr_prof_get(struct corr *c, const char *sensor, const struct tf_label *l)
{
	struct corr_prof	key;

	memset(&key, 0, sizeof(key));
	memcpy(key.sensor, sensor, strnlen(sensor, TF_ID_LEN - 1));
	corr_label_norm(l, &key.label);
	return corr_prof_intern(c, &key);
}

/* Count a profile once less; the last goes back to the free list. */
static void
corr_prof_put(struct corr *c, struct corr_prof *p)
{
	struct corr_prof	**bp;

	if (--p->refs > 0)
		return;
	for (bp = &c->pbuckets[p->hash % CORR_PROFB]; *bp != p;
	    bp = &(*bp)->hnext)
		;
	*bp = p->hnext;
	p->hnext = c->pfree;
	c->pfree = p;
	c->pfree_n++;
}

/* Take a source record off the free list and enter it in the hash. */
static struct corr_src *
corr_src_new(struct corr *c, const struct tf_report *r, uint32_t h)
{
	struct corr_src	*s = c->sfree;

	c->sfree = s->fnext;
	memset(s, 0, sizeof(*s));
	s->prof = corr_prof_get(c, r->sensor, &r->label);
	s->local = r->local_track;
	if (c->nsrc >= 2 * c->smask && c->smask + 1 < c->smax)
		corr_src_grow(c);
	s->hnext = c->sbuckets[h & c->smask];
	c->sbuckets[h & c->smask] = s;
	c->nsrc++;
	return s;
}

static void	corr_age_remove(struct corr *, struct corr_src *);

/*
 * The bias taken off a source's estimate is kept for the bias samples
 * only (they compare raw positions): in steps of CORR_BQ m, half of
 * which is nothing next to the tens of metres of a position, and within
 * +-8 km, past which a difference is no bias sample anyway.
 */
static void
corr_bapp_set(struct corr_src *s, const double b[3])
{
	int	i;

	for (i = 0; i < 3; i++)
		s->bapp[i] = (int16_t)lrint(fmax(-INT16_MAX,
		    fmin(INT16_MAX, b[i] / CORR_BQ)));
}

/* Component i of the bias taken off a source's estimate, m. */
static double
corr_bapp(const struct corr_src *s, int i)
{
	return s->bapp[i] * CORR_BQ;
}

/* The state of source s, ECEF (position, velocity). */
static void
corr_src_x(const struct corr_src *s, double x[6])
{
	int	i;

	for (i = 0; i < 3; i++) {
		x[i] = s->p[i];
		x[3 + i] = s->v[i];
	}
}

/*
 * Keep state x in source s: the position in double (ECEF coordinates
 * are millions of metres), the velocity in float (7 digits of m/s are
 * plenty, and it saves a source 12 bytes); an absurd velocity is held
 * to CORR_VMAX so that it stays finite.
 */
static void
corr_src_setx(struct corr_src *s, const double x[6])
{
	int	i;

	for (i = 0; i < 3; i++) {
		s->p[i] = x[i];
		s->v[i] = (float)fmax(-CORR_VMAX, fmin(CORR_VMAX, x[3 + i]));
	}
}

/* Forget a source (already detached from its system track). */
static void
corr_src_free(struct corr *c, struct corr_src *s)
{
	struct corr_src	**sp;

	sp = &c->sbuckets[corr_src_hash(s->prof->sensor, s->local) & c->smask];
	while (*sp != s)
		sp = &(*sp)->hnext;
	*sp = s->hnext;
	corr_age_remove(c, s);
	corr_prof_put(c, s->prof);
	s->fnext = c->sfree;
	c->sfree = s;
	c->nsrc--;
}

/*
 * When source s goes stale: stale_ns after its last report, or
 * CORR_STALE_LOOKS of its own report period if that is longer. A sensor
 * that revisits every 10 s (an AEW aircraft) and misses one detection is
 * silent for 20 s; with a fixed 15 s its contribution would go, and the
 * object it alone holds would lose its track and wait for a new one to
 * be confirmed. The period is the shortest gap seen, so one long gap
 * does not stretch it (kept in 10 ms steps up to 655 s, which is longer
 * than any sensor's revisit).
 */
static int64_t
corr_src_deadline(const struct corr *c, const struct corr_src *s)
{
	int64_t	d = c->p.stale_ns, p;

	p = (int64_t)(CORR_STALE_LOOKS * (double)(s->period * CORR_PERIOD_NS));
	if (p > d)
		d = p;
	return s->t > CORR_TMAX - d ? CORR_TMAX : s->t + d;
}

/* Note the gap since source s last reported if it is its shortest. */
static void
corr_src_period(struct corr_src *s, int64_t t)
{
	int64_t	gap = (t - s->t) / CORR_PERIOD_NS;

	if (s->t <= 0 || t <= s->t)
		return;
	if (gap > UINT16_MAX)
		gap = UINT16_MAX;
	if (gap > 0 && (s->period == 0 || gap < s->period))
		s->period = (uint16_t)gap;
}

/*
 * The age wheel: every source by its deadline (corr_src_deadline), so that
 * expiry takes the stale ones in ascending order of deadline, ties in the
 * order of the updates (aseq), and an update costs the same however many
 * sources there are. Sorted lists cannot do that: the deadlines of one
 * sensor's sources differ with their periods (a source seen once has
 * none), so an update walked back past every source of a later deadline;
 * at 100k objects a third of the time went there.
 *
 * A hierarchical timing wheel (Varghese and Lauck) of ticks of
 * 2^CORR_ATICK ns: level 0 holds the ticks of the current block of
 * CORR_ASLOTS ticks, a slot each; level 1 the blocks of the current
 * superblock; level 2 the superblocks of the current hyperblock (2^24
 * ticks, 4.9 h); aover the rest. As event time reaches a block
 * (superblock, hyperblock), its slot is spread one level down. Slots are
 * unordered: a tick wholly passed is sorted and expired, and the tick the
 * watermark is in is sorted once and expired from its head up to the
 * watermark, so a deadline holds to the nanosecond. The slots that may
 * hold sources are marked in awbits (a stale mark costs one look), so a
 * jump in event time passes the empty ones fast.
 */

static int	corr_ctz64(uint64_t);
static void	corr_src_remove(struct corr *, struct corr_src *);

/* Whether source a goes stale before b: deadline, then update order. */
static int
corr_age_before(const struct corr *c, const struct corr_src *a,
    const struct corr_src *b)
{
	int64_t	da = corr_src_deadline(c, a), db = corr_src_deadline(c, b);

	return da < db || (da == db && (int32_t)(a->aseq - b->aseq) < 0);
}

/*
 * The slot of tick k (a tick already passed counts as the current one):
 * the lowest level whose span around the current tick holds k; *l = -1
 * for aover.
 */
static struct corr_srcl *
corr_age_slot(struct corr *c, int64_t k, int *l)
{
	int64_t	cur = c->atick;
	int	i;

	if (k < cur)
		k = cur;
	for (*l = 0; *l < CORR_ALEVELS; (*l)++)
		if (k >> (CORR_ABITS * (*l + 1)) ==
		    cur >> (CORR_ABITS * (*l + 1)))
			break;
	if (*l == CORR_ALEVELS) {
		*l = -1;
		if (k < c->aomin)
			c->aomin = k;
		return &c->aover;
	}
	i = (int)(k >> (CORR_ABITS * *l)) & (CORR_ASLOTS - 1);
	c->awbits[*l][i / 64] |= (uint64_t)1 << (i % 64);
	return &c->awheel[*l][i];
}

/*
 * Put s in its slot: at its head, or in order when that is the sorted
 * slot of the current tick (a report late by about stale_ns).
 */
static void
corr_age_place(struct corr *c, struct corr_src *s)
{
	struct corr_srcl	*q;
	struct corr_src		*p, *prev = NULL;
	int64_t			 k = corr_src_deadline(c, s) >> CORR_ATICK;
	int			 l;

	if (k < c->atick)		/* past: the current tick's */
		k = c->atick;
	q = corr_age_slot(c, k, &l);
	s->atk = (uint32_t)k;
	if (l == 0 && c->asorted == k) {
		LIST_FOREACH(p, q, aentry) {
			if (corr_age_before(c, s, p))
				break;
			prev = p;
		}
		if (prev != NULL) {
			LIST_INSERT_AFTER(prev, s, aentry);
			return;
		}
	}
	LIST_INSERT_HEAD(q, s, aentry);
}

/* Enter s, new, in the age wheel. */
static void
corr_age_insert(struct corr *c, struct corr_src *s)
{
	s->aseq = c->aseq++;
	corr_age_place(c, s);
}

/*
 * Source s was updated: its deadline moved. Later (as it does unless its
 * period shrank), s stays where it is filed: when that tick comes it is
 * filed again (corr_age_drain, corr_age_spread), so a source reporting
 * every second moves once a stale_ns instead of at every report, and an
 * update touches no other record. Earlier, or in the sorted slot of the
 * current tick, it moves now. The filed tick is kept in 32 bits (49 days
 * of ticks; stale_ns up to 12 days leaves no doubt which way it moved).
 */
static void
corr_age_update(struct corr *c, struct corr_src *s)
{
	int64_t	k = corr_src_deadline(c, s) >> CORR_ATICK;

	s->aseq = c->aseq++;
	if (c->p.stale_ns < ((int64_t)1 << (CORR_ATICK + 30)) &&
	    (int32_t)((uint32_t)k - s->atk) >= 0 &&
	    s->atk != (uint32_t)c->asorted)
		return;
	LIST_REMOVE(s, aentry);
	corr_age_place(c, s);
}

/* Take s out of the age wheel. */
static void
corr_age_remove(struct corr *c, struct corr_src *s)
{
	(void)c;
	LIST_REMOVE(s, aentry);
}

/* Move every source of q to the head of list to. */
static void
corr_age_move_all(struct corr_srcl *q, struct corr_srcl *to)
{
	struct corr_src	*s;

	while ((s = LIST_FIRST(q)) != NULL) {
		LIST_REMOVE(s, aentry);
		LIST_INSERT_HEAD(to, s, aentry);
	}
}

/* Place again every source of q (which corr_age_place may fill again). */
static void
corr_age_spread(struct corr *c, struct corr_srcl *q)
{
	struct corr_srcl	 tmp;
	struct corr_src		*s;

	LIST_INIT(&tmp);
	corr_age_move_all(q, &tmp);
	while ((s = LIST_FIRST(&tmp)) != NULL) {
		LIST_REMOVE(s, aentry);
		corr_age_place(c, s);
	}
}

/*
 * After stale_ns changed every deadline may have moved: the wheel is
 * filled again (a reload, rarely). Deadlines now past go to the current
 * tick, whose slot is sorted again at the next expiry.
 */
static void
corr_age_resort(struct corr *c)
{
	struct corr_srcl	 all;
	int			 l, i;

	LIST_INIT(&all);
	for (l = 0; l < CORR_ALEVELS; l++) {
		for (i = 0; i < CORR_ASLOTS; i++)
			corr_age_move_all(&c->awheel[l][i], &all);
		memset(c->awbits[l], 0, sizeof(c->awbits[l]));
	}
	corr_age_move_all(&c->aover, &all);
	c->aomin = INT64_MAX;
	c->asorted = -1;
	corr_age_spread(c, &all);
}

/*
 * Sort slot q by deadline, then update order: a merge sort of the list
 * in place (runs of k merged pairwise, k doubling), then the back links.
 */
static void
corr_age_sort(const struct corr *c, struct corr_srcl *q)
{
	struct corr_src	*list = LIST_FIRST(q), *p, *r, *e, *tail, **pp;
	size_t		 k, ps, rs, merges = 2;

	for (k = 1; list != NULL && merges > 1; k *= 2) {
		p = list;
		list = tail = NULL;
		for (merges = 0; p != NULL; merges++, p = r) {
			for (r = p, ps = 0; r != NULL && ps < k; ps++)
				r = LIST_NEXT(r, aentry);
			for (rs = k; ps > 0 || (rs > 0 && r != NULL);) {
				if (ps == 0 || (rs > 0 && r != NULL &&
				    corr_age_before(c, r, p))) {
					e = r;
					r = LIST_NEXT(r, aentry);
					rs--;
				} else {
					e = p;
					p = LIST_NEXT(p, aentry);
					ps--;
				}
				if (tail != NULL)
					tail->aentry.le_next = e;
				else
					list = e;
				tail = e;
			}
		}
		tail->aentry.le_next = NULL;
	}
	q->lh_first = list;
	for (pp = &q->lh_first; (e = *pp) != NULL; pp = &e->aentry.le_next)
		e->aentry.le_prev = pp;
}

/* The first bit set at or after from in a slot mask, or -1. */
static int
corr_age_bit(const uint64_t *bits, int from)
{
	uint64_t	m;
	int		 w;

	for (w = from / 64; w < CORR_ASLOTS / 64; w++, from = w * 64) {
		m = bits[w] & (~(uint64_t)0 << (from % 64));
		if (m != 0)
			return w * 64 + corr_ctz64(m);
	}
	return -1;
}

/*
 * The next tick after the current one, x at most, where the wheel has
 * work: a level 0 slot that may hold sources, or the start of a block
 * (superblock) whose slot must spread; a hyperblock when aover holds
 * sources, not before the earliest of theirs.
 */
static int64_t
corr_age_next(const struct corr *c, int64_t x)
{
	int64_t	cur = c->atick, n, m;
	int	l, i, b;

	for (l = 0; l < CORR_ALEVELS; l++) {
		b = CORR_ABITS * l;
		i = corr_age_bit(c->awbits[l],
		    (int)((cur >> b) & (CORR_ASLOTS - 1)) + 1);
		if (i >= 0) {
			n = (cur >> (b + CORR_ABITS) << (b + CORR_ABITS)) +
			    ((int64_t)i << b);
			return n < x ? n : x;
		}
	}
	if (LIST_EMPTY(&c->aover))
		return x;
	b = CORR_ABITS * CORR_ALEVELS;
	n = ((cur >> b) + 1) << b;
	m = c->aomin >> b << b;
	if (m > n)
		n = m;
	return n < x ? n : x;
}

/*
 * Make tick x the current one: at the start of a hyperblock (superblock,
 * block) the sources filed above it come down.
 */
static void
corr_age_to(struct corr *c, int64_t x)
{
	int	l, i;

	c->atick = x;
	for (l = CORR_ALEVELS; l > 0; l--) {
		if (x & (((int64_t)1 << (CORR_ABITS * l)) - 1))
			continue;
		if (l == CORR_ALEVELS) {
			c->aomin = INT64_MAX;
			corr_age_spread(c, &c->aover);
			continue;
		}
		i = (int)(x >> (CORR_ABITS * l)) & (CORR_ASLOTS - 1);
		c->awbits[l][i / 64] &= ~((uint64_t)1 << (i % 64));
		corr_age_spread(c, &c->awheel[l][i]);
	}
}

/*
 * Expire the sources of the current tick whose deadline is before lim; a
 * source updated since it was filed here is filed again (the sort puts
 * it after those whose deadline is still in this tick).
 */
static void
corr_age_drain(struct corr *c, int64_t lim)
{
	struct corr_srcl	*q;
	struct corr_src		*s;
	int64_t			 d;
	int			 i = (int)(c->atick & (CORR_ASLOTS - 1));

	q = &c->awheel[0][i];
	if (!LIST_EMPTY(q) && c->asorted != c->atick) {
		corr_age_sort(c, q);
		c->asorted = c->atick;
	}
	while ((s = LIST_FIRST(q)) != NULL) {
		d = corr_src_deadline(c, s);
		if (d >> CORR_ATICK > c->atick) {	/* updated since */
			LIST_REMOVE(s, aentry);
			corr_age_place(c, s);
			continue;
		}
		if (d >= lim)
			break;
		c->st.expired++;
		corr_src_remove(c, s);
	}
	if (LIST_EMPTY(q))
		c->awbits[0][i / 64] &= ~((uint64_t)1 << (i % 64));
}

/*
 * Expire every source whose deadline is before the watermark, in order:
 * the ticks wholly passed, then the watermark's own up to it.
 */
static void
corr_age_expire(struct corr *c)
{
	int64_t	x = c->now >> CORR_ATICK;

	while (c->atick < x) {
		corr_age_drain(c, INT64_MAX);
		corr_age_to(c, corr_age_next(c, x));
	}
	corr_age_drain(c, c->now);
}

/* ---- spatial index ----------------------------------------------------- */

/*
 * The index must find every system track that may gate an estimate o,
 * and few others. corr_far_sys rejects t unless
 *
 *	|p_o - p_t - v_t dt| <= sqrt(g (tr Po + tr Pt(dt))),
 *	tr Pt(dt) = A + 2 dt C + dt^2 V + q |dt|^3
 *
 * (A, C, V: position, cross and velocity diagonal sums of t's covariance,
 * dt = o's time - t's time), so every track that gates lies within
 * r_o + R_t(|dt|) of o, with r_o = sqrt(g tr Po) and the track's reach
 * R_t(h) = |v| h + sqrt(g (A + 2 h |C| + h^2 V + q h^3)), |C| the sum of
 * the moduli of C's terms (corr_reach; sqrt(a + b) <= sqrt(a) + sqrt(b)
 * splits o's part off). R_t grows with h, and R_t(s H) <= s^1.5 R_t(H)
 * for s >= 1, term by term.
 *
 * A track is filed with its reach over a horizon H (CORR_HORIZON x
 * 2^class) around its time, at the finest level whose cells (edge cell_m
 * x 2^level) are at least 1 / CORR_IFILL times that reach. Cells are
 * squares on the six faces of a cube around the Earth: a position belongs
 * to the face of its largest ECEF coordinate, and its cell is that of its
 * other two coordinates (a projection, which lengthens no distance). The
 * objects that matter live in a shell a few tens of kilometres thick, so
 * a face's square holds one column of the shell and a query probes few
 * empty cells. A query looks, at each level, at the cells within r_o +
 * the level's largest reach (CORR_IFILL x its edge) of o, times
 * (|dt| / H)^1.5 when o's time lies outside the horizon of some track
 * (corr_near_widen), on every face such a point may belong to, and tests
 * each track's own sphere; a level whose cells there outnumber its
 * tracks (CORR_IPROBE) is scanned whole instead. A cell is found in an
 * open-addressed table (corr_cell_find) and its blocks are its own; a
 * cell of a coarse cell that holds none (corr_cell_map) is not probed,
 * and a level's cells are looked up a few at a time (corr_near_fill).
 * How the cells are kept never changes what a query finds, nor its
 * order: level, face, cell row by row, the cell's blocks newest first.
 *
 * As event time passes a track that is not updated leaves its horizon: a
 * timing wheel per level (slots of CORR_WSLOT ns by the time the reach
 * holds until) moves it to the next class before that happens
 * (corr_index_age). Tracks whose reach has no such bound (ballistic
 * motion, whose prediction follows gravity, or absurd states) are on a
 * global list that every query scans.
 */

/* Cube face of a position: 0..5, the axis of |x| max, then its sign. */
static int
corr_face(const double x[3])
{
	int	m = 0;

	if (fabs(x[1]) > fabs(x[m]))
		m = 1;
	if (fabs(x[2]) > fabs(x[m]))
		m = 2;
	return 2 * m + (x[m] < 0.0);
}

/* Cell coordinate of x at level l into *cell; -1 when out of range. */
static int
corr_cell(const struct corr *c, double x, int l, int64_t *cell)
{
	double	v;

	v = floor(x / c->iedge[l]);
	if (!(v >= -CORR_ICOORD && v < CORR_ICOORD))
		return -1;
	*cell = (int64_t)v;
	return 0;
}

/* Index key of a level, face and cell. */
static uint64_t
corr_cell_key(int l, int face, const int64_t cell[2])
{
	uint64_t	m = ((uint64_t)1 << CORR_IBITS) - 1;

	return (uint64_t)l << (2 * CORR_IBITS + 3) |
	    (uint64_t)face << (2 * CORR_IBITS) |
	    ((uint64_t)cell[0] & m) << CORR_IBITS | ((uint64_t)cell[1] & m);
}

/* Home slot of an index key in the cell table. */
static size_t
corr_cell_home(const struct corr *c, uint64_t key)
{
	uint64_t	h;

	h = key * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	return (size_t)h & c->cmask;
}

/*
 * Counter of the cells in use of cell key's coarse cell (and of those of
 * others that share it). A query skips the cells of a coarse cell whose
 * count is 0 without a look at the table: most of those it would probe
 * at the fine levels, whose few tracks are far apart, are empty. A
 * counter that reached UINT16_MAX stays there.
 */
static size_t
corr_cell_map(uint64_t key)
{
	uint64_t	m = ((uint64_t)1 << CORR_ICOARSE) - 1;

	key &= ~(m << CORR_IBITS | m);
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >>
	    (64 - CORR_IMAPBITS));
}

/*
 * Slot of cell key in the cell table, or the free slot where it would go
 * (there is always one: see corr_cell_add).
 */
static size_t
corr_cell_find(const struct corr *c, uint64_t key)
{
	size_t	i = corr_cell_home(c, key);

	while (c->icells[i].b != NULL && c->icells[i].key != key)
		i = (i + 1) & c->cmask;
	return i;
}

/* The cell edge of each level, from cell_m. */
static void
corr_index_edges(struct corr *c)
{
	int	l;

	for (l = 0; l < CORR_LEVELS; l++)
		c->iedge[l] = ldexp(c->p.cell_m, l);
}

/* Horizon of class k, s. */
static double
corr_horizon(int k)
{
	return (CORR_HORIZON << k) * CORR_NS;
}

/*
 * Reach of t over a horizon of h seconds (see above); HUGE_VAL when it
 * has no bound: ballistic motion or a covariance that is not one.
 */
static double
corr_reach(const struct corr *c, const struct corr_sys *t, double h)
{
	double	A = 0.0, C = 0.0, V = 0.0, v2 = 0.0, r;
	int	i;

	if (corr_ballistic(t->cat))
		return HUGE_VAL;
	for (i = 0; i < 3; i++) {
		A += t->Pt[tf_cov_idx(i, i)];
		C += fabs(t->Pt[tf_cov_idx(i, i + 3)]);
		V += t->Pt[tf_cov_idx(i + 3, i + 3)];
		v2 += t->x[3 + i] * t->x[3 + i];
	}
	if (!(A > 0.0) || !(V >= 0.0) || !(C >= 0.0))
		return HUGE_VAL;
	r = sqrt(v2) * h + sqrt(c->p.gate_chi2 * (A + 2.0 * h * C + h * h * V +
	    corr_q(t->cat) * h * h * h));
	/* Margin for rounding in this bound and in the query's. */
	r = r * (1.0 + 1e-9) + 1.0;
	return isfinite(r) ? r : HUGE_VAL;
}

/*
 * Double the cell table. Its cells (at most a quarter of the slots
 * reserved) go out to the spare slots past cmax and back in, in slot
 * order: the slots past the old size were never used. The spare pages
 * then go back to the system (the table is mapped, corr_new): they would
 * otherwise stay resident for nothing, a tenth of the index's memory in
 * a small picture. (Growth is rare: it doubles.)
 */
static void
corr_cell_grow(struct corr *c)
{
	struct corr_icell	*spare = c->icells + c->cmax;
	size_t			 i, m = 0, n = c->cmask + 1;

	for (i = 0; i < n; i++)
		if (c->icells[i].b != NULL) {
			spare[m++] = c->icells[i];
			c->icells[i].b = NULL;
		}
	c->cmask = 2 * n - 1;
	for (i = 0; i < m; i++)
		c->icells[corr_cell_find(c, spare[i].key)] = spare[i];
	corr_arena_drop(&c->cbarena, spare, m * sizeof(*spare));
}

/*
 * Free slot i of the cell table. The cells after it up to a free slot
 * whose probe passed it move back (deletion without tombstones).
 */
static void
corr_cell_free(struct corr *c, size_t i)
{
	uint16_t	*m = &c->icoarse[corr_cell_map(c->icells[i].key)];
	size_t		 j = i, h;

	if (*m < UINT16_MAX)
		(*m)--;
	for (;;) {
		j = (j + 1) & c->cmask;
		if (c->icells[j].b == NULL)
			break;
		h = corr_cell_home(c, c->icells[j].key);
		/* Slot i lies on the probe from h to j. */
		if (((j - h) & c->cmask) >= ((j - i) & c->cmask)) {
			c->icells[i] = c->icells[j];
			i = j;
		}
	}
	c->icells[i].b = NULL;
	c->ncells--;
}

/*
 * A free index block (corr_reserve keeps enough: one per track at most is
 * in use, and a report adds few tracks).
 */
static struct corr_iblk *
corr_iblk_new(struct corr *c, int cls)
{
	struct corr_iblk	*b;

	if ((b = c->ifree[cls]) != NULL)
		c->ifree[cls] = b->next;
	else if ((b = corr_arena_take(&c->iarena[cls], CORR_IBSIZE(cls))) !=
	    NULL)
		c->iblocks[cls]++;
	if (b != NULL)
		b->cls = cls;
	return b;
}

/* Put block b on its class's free list. */
static void
corr_iblk_free(struct corr *c, struct corr_iblk *b)
{
	b->next = c->ifree[b->cls];
	c->ifree[b->cls] = b;
}

/*
 * The small block that takes the place of cell ce's lone tiny block (its
 * entry moved, the tiny one freed); NULL (nothing changed) without one.
 */
static struct corr_iblk *
corr_iblk_grow(struct corr *c, struct corr_icell *ce)
{
	struct corr_iblk	*b, *tiny = ce->b;

	if ((b = corr_iblk_new(c, CORR_ISMALL)) == NULL)
		return NULL;
	b->key = tiny->key;
	b->n = 1;
	b->e[0] = tiny->e[0];
	b->e[0].t->iblk = b;
	b->next = tiny->next;
	ce->b = b;
	corr_iblk_free(c, tiny);
	return b;
}

/* Until when the reach t is filed with holds (see corr_file). */
static int64_t
corr_until(const struct corr_sys *t)
{
	return t->t + (CORR_HORIZON << t->iclass);
}

/* Where t is in its index block. */
static int
corr_cell_slot(const struct corr_sys *t)
{
	int	i;

	for (i = 0; t->iblk->e[i].t != t; i++)
		;
	return i;
}

/* An index entry for t at reach r. */
static void
corr_ient_set(struct corr_ient *e, struct corr_sys *t, double r)
{
	double	m;
	int	i;

	/* The reach covers the rounding of the position to float. */
	for (m = 1.0, i = 0; i < 3; i++) {
		e->x[i] = (float)t->x[i];
		m += 2.0 * fabs(t->x[i]) * FLT_EPSILON;
	}
	/* Up by more than a float's rounding. */
	e->reach = (float)((r + m) * (1.0 + 1e-6));
	e->t = t;
}

/*
 * Enter t in cell key, at reach r: in the cell's first block with room,
 * else a new one (big once CORR_IBIGAFTER are full) at the head of the
 * cell's chain. -1 without a free block (corr_reserve prevents that) or,
 * the table being as large as it may grow, a free slot to spare for a
 * new cell: the caller then files t on the global list.
 */
static int
corr_cell_add(struct corr *c, struct corr_sys *t, uint64_t key, double r)
{
	struct corr_icell	*ce;
	struct corr_iblk	*b;
	size_t			 i, nb;

	i = corr_cell_find(c, key);
	if (c->icells[i].b == NULL && 2 * (c->ncells + 1) > c->cmask + 1 &&
	    c->cmask + 1 < c->cmax) {
		corr_cell_grow(c);
		i = corr_cell_find(c, key);
	}
	ce = &c->icells[i];
	if (ce->b != NULL && ce->b->cls == CORR_ITINY &&
	    corr_iblk_grow(c, ce) == NULL)
		return -1;
	for (b = ce->b, nb = 0; b != NULL && b->n == CORR_IBCAP(b->cls);
	    b = b->next)
		nb++;
	if (b == NULL) {
		if (ce->b == NULL && c->ncells + 2 > c->cmask + 1)
			return -1;
		if ((b = corr_iblk_new(c, ce->b == NULL ? CORR_ITINY :
		    nb >= CORR_IBIGAFTER ? CORR_IBIGC : CORR_ISMALL)) == NULL)
			return -1;
		if (ce->b == NULL) {
			ce->key = key;
			c->ncells++;
			if (c->icoarse[corr_cell_map(key)] < UINT16_MAX)
				c->icoarse[corr_cell_map(key)]++;
		}
		b->key = key;
		b->n = 0;
		b->next = ce->b;
		ce->b = b;
	}
	corr_ient_set(&b->e[b->n++], t, r);
	t->iblk = b;
	return 0;
}

/* Take t out of its cell; an emptied block, and cell, is freed. */
static void
corr_cell_del(struct corr *c, struct corr_sys *t)
{
	struct corr_iblk	**bp, *b = t->iblk;
	size_t			 i;

	b->e[corr_cell_slot(t)] = b->e[b->n - 1];
	if (--b->n > 0)
		return;
	i = corr_cell_find(c, b->key);
	for (bp = &c->icells[i].b; *bp != b; bp = &(*bp)->next)
		;
	*bp = b->next;
	if (c->icells[i].b == NULL)
		corr_cell_free(c, i);
	corr_iblk_free(c, b);
}

/* Take t out of the index. */
static void
corr_unindex(struct corr *c, struct corr_sys *t)
{
	LIST_REMOVE(t, ientry);
	if (t->ilevel < 0)
		return;
	corr_cell_del(c, t);
	c->ilevel_n[t->ilevel]--;
}

/*
 * Where t goes in the index (after its state changed, or its horizon ran
 * short): the smallest horizon (*k) that lasts CORR_HORIZON / 2 past now,
 * its reach over it (*r), the level of that reach and the cell (*key).
 * Returns the level, or -1 for the global list.
 */
static int
corr_where(const struct corr *c, const struct corr_sys *t, int *k,
    double *r, uint64_t *key)
{
	int64_t	cell[2], until = c->now + CORR_HORIZON / 2;
	int	l, face;

	*r = HUGE_VAL;
	for (*k = 0; *k < CORR_CLASSES; (*k)++)
		if (t->t + (CORR_HORIZON << *k) >= until)
			break;
	if (*k < CORR_CLASSES)
		*r = corr_reach(c, t, corr_horizon(*k));
	if (*r == HUGE_VAL)
		return -1;
	for (l = 0; l < CORR_LEVELS; l++)
		if (*r <= c->iedge[l] * CORR_IFILL)
			break;
	face = corr_face(t->x);
	if (l == CORR_LEVELS ||
	    corr_cell(c, t->x[(face / 2 + 1) % 3], l, &cell[0]) == -1 ||
	    corr_cell(c, t->x[(face / 2 + 2) % 3], l, &cell[1]) == -1)
		return -1;
	*key = corr_cell_key(l, face, cell);
	return l;
}

/* Put t in its horizon's wheel slot. */
static void
corr_wheel(struct corr *c, struct corr_sys *t, int k)
{
	int	slot;

	t->iclass = k;
	if (t->t > c->ihi)
		c->ihi = t->t;
	slot = corr_until(t) / CORR_WSLOT % CORR_WHEEL;
	LIST_INSERT_HEAD(&c->iwheel[t->ilevel][slot], t, ientry);
	c->iwbits[t->ilevel] |= (uint64_t)1 << slot;
}

/* File t in the index (corr_where). */
static void
corr_file(struct corr *c, struct corr_sys *t)
{
	uint64_t	key;
	double		r;
	int		k, l;

	l = corr_where(c, t, &k, &r, &key);
	if (l >= 0 && corr_cell_add(c, t, key, r) == -1)
		l = -1;
	t->ilevel = l;
	if (l < 0) {
		LIST_INSERT_HEAD(&c->iglobal, t, ientry);
		return;
	}
	c->ilevel_n[l]++;
	corr_wheel(c, t, k);
}

/*
 * Enter (or move) a system track in the index after its state changed.
 * Most moves stay in their cell: the entry is updated in place.
 */
static void
corr_index(struct corr *c, struct corr_sys *t, int moved)
{
	uint64_t	key;
	double		r;
	int		k, l;

	if (moved && t->ilevel >= 0) {
		l = corr_where(c, t, &k, &r, &key);
		if (l == t->ilevel && key == t->iblk->key) {
			corr_ient_set(&t->iblk->e[corr_cell_slot(t)], t, r);
			LIST_REMOVE(t, ientry);
			corr_wheel(c, t, k);
			return;
		}
	}
	if (moved)
		corr_unindex(c, t);
	corr_file(c, t);
}

/*
 * Event time moved on: refile the tracks whose reach would no longer hold
 * within CORR_HORIZON / 2 (each moves to a longer horizon). The wheel's
 * slots up to that time are passed (each once, a jump of more than a turn
 * passes all): after it every track's reach holds until c->ilo at least,
 * as a track filed later holds until CORR_HORIZON / 2 past now.
 */
static void
corr_index_age(struct corr *c)
{
	struct corr_sys	*t, *next;
	int64_t		 end, s, n;
	int		 l;

	end = (c->now + CORR_HORIZON / 2) / CORR_WSLOT;
	if (end <= c->islot)
		return;
	n = end - c->islot < CORR_WHEEL ? end - c->islot : CORR_WHEEL;
	for (l = 0; l < CORR_LEVELS; l++) {
		for (s = c->islot; c->ilevel_n[l] > 0 && s < c->islot + n;
		    s++) {
			t = LIST_FIRST(&c->iwheel[l][s % CORR_WHEEL]);
			for (; t != NULL; t = next) {
				next = LIST_NEXT(t, ientry);
				if (corr_until(t) >= end * CORR_WSLOT)
					continue;
				corr_unindex(c, t);
				corr_file(c, t);
			}
		}
	}
	c->islot = end;
	c->ilo = end * CORR_WSLOT;
}

/*
 * How far a query at time tq must widen the levels' reach: every filed
 * track's time lies in [corr_until - H, ihi], with its H at least
 * CORR_HORIZON and its corr_until at least c->ilo, and R(|dt|) <= R(H)
 * (|dt| / H)^1.5 when |dt| > H.
 */
static double
corr_near_widen(const struct corr *c, int64_t tq)
{
	double	f = 1.0, g, h = CORR_HORIZON * CORR_NS;

	if (tq < c->ihi && (g = (c->ihi - tq) * CORR_NS / h) > f)
		f = g;
	if (tq > c->ilo && (g = 1.0 + (tq - c->ilo) * CORR_NS / h) > f)
		f = g;
	return f == 1.0 ? 1.0 : f * sqrt(f);
}

/*
 * Cell range of level l, face it->face, within reach w of the query into
 * it: 0, or -1 if there is none.
 */
static int
corr_near_range(struct corr_near *it, double e, double w)
{
	double	lo, hi, lim = CORR_ICOORD;
	int	i, a;

	for (i = 0; i < 2; i++) {
		a = (it->face / 2 + 1 + i) % 3;
		lo = floor((it->p[a] - w) / e);
		hi = floor((it->p[a] + w) / e);
		if (hi < -lim || lo >= lim)
			return -1;
		it->lo[i] = lo < -lim ? (int64_t)-lim : (int64_t)lo;
		it->hi[i] = hi > lim - 1.0 ? (int64_t)(lim - 1.0) : (int64_t)hi;
	}
	return 0;
}

/*
 * Whether a point within w of the query may belong to face f: its axis
 * coordinate then exceeds the others' moduli.
 */
static int
corr_near_face(const struct corr_near *it, int f, double w)
{
	int	m = f / 2;
	double	v = f % 2 ? -it->p[m] : it->p[m];

	v += 2.0 * w;
	return v >= fabs(it->p[(m + 1) % 3]) && v >= fabs(it->p[(m + 2) % 3]);
}

/*
 * Set the query up for level l: the cells of each face within reach, or
 * (it->list) the whole level when those outnumber its tracks or the
 * query is not finite. 0, or -1 when nothing there can be in reach.
 */
static int
corr_near_level(const struct corr *c, struct corr_near *it, int l)
{
	double	e, w, n = 0.0;
	int	f, any = 0;

	e = c->iedge[l];
	w = it->r + e * CORR_IFILL * it->f;
	it->list = 0;
	it->faces = 0;
	if (!isfinite(w + it->p[0] + it->p[1] + it->p[2])) {
		it->list = 1;
		return 0;
	}
	for (f = 0; f < 6; f++) {
		if (!corr_near_face(it, f, w))
			continue;
		it->face = f;
		if (corr_near_range(it, e, w) == -1)
			continue;
		n += (double)(it->hi[0] - it->lo[0] + 1) *
		    (double)(it->hi[1] - it->lo[1] + 1);
		if (n > CORR_IPROBE * (double)c->ilevel_n[l]) {
			it->list = 1;	/* n only grows: no need to go on */
			return 0;
		}
		memcpy(it->flo[f], it->lo, sizeof(it->lo));
		memcpy(it->fhi[f], it->hi, sizeof(it->hi));
		it->faces |= 1 << f;
		any = 1;
	}
	if (!any)
		return -1;
	it->face = -1;
	return 0;
}

/*
 * Start a query for the tracks that may gate an estimate at x[0..2], of
 * position covariance trace tr, at time tq.
 */
static void
corr_near_start(struct corr *c, struct corr_near *it, const double x[3],
    double tr, int64_t tq)
{
	it->c = c;
	it->wbits = c->iwbits;
	memcpy(it->p, x, sizeof(it->p));
	it->r = sqrt(c->p.gate_chi2 * (tr > 0.0 ? tr : 0.0)) * (1.0 + 1e-9) +
	    1.0;
	it->f = corr_near_widen(c, tq);
	if (!isfinite(it->r) || !isfinite(it->f))
		it->r = it->f = HUGE_VAL;
	it->t = LIST_FIRST(&c->iglobal);
	it->b = NULL;
	it->level = -1;
	it->list = 0;
	it->ahead = it->nahead = 0;
	it->icb = it->ncb = it->cdone = 0;
}

/* Ask for the lines of a system track that a gate reads first. */
static void
corr_prefetch(const struct corr_sys *t)
{
#if defined(__GNUC__)
	__builtin_prefetch(t);
	__builtin_prefetch(&t->contribs);
	__builtin_prefetch(&t->Pt[TF_COV_N - 1]);
#else
	(void)t;
#endif
}

/* Ask for the first lines of the next index block of a cell scan. */
static void
corr_prefetch_blk(const struct corr_iblk *b)
{
#if defined(__GNUC__)
	__builtin_prefetch(b);
	__builtin_prefetch((const char *)b + 64);
	__builtin_prefetch((const char *)b + 128);
#else
	(void)b;
#endif
}

_Static_assert(CORR_WHEEL <= 64, "a level's wheel slots fit a uint64_t");

/* Index of the lowest bit set in a non-zero m. */
static int
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

/*
 * Step a list scan to its next non-empty wheel slot; -1 at the end. Only
 * the slots of the level's bit mask are looked at: a small picture's
 * few tracks leave most of them empty. A bit is set when a track enters
 * its slot and cleared here when the slot is found empty (a stale bit
 * costs one look), so the order of the slots, and of the tracks found,
 * is that of a scan of all.
 */
static int
corr_near_slot(struct corr_near *it)
{
	const struct corr	*c = it->c;
	uint64_t		*bits = &it->wbits[it->level], m;

	for (;;) {
		m = it->k + 1 < CORR_WHEEL ?
		    *bits & (~(uint64_t)0 << (it->k + 1)) : 0;
		if (m == 0) {
			it->k = CORR_WHEEL;
			return -1;
		}
		it->k = corr_ctz64(m);
		if ((it->t = LIST_FIRST(&c->iwheel[it->level][it->k])) !=
		    NULL)
			return 0;
		*bits &= ~((uint64_t)1 << it->k);
	}
}

/* Step a cell scan to its next cell: -1 past the level's last face. */
static int
corr_near_step(struct corr_near *it)
{
	if (it->face >= 0) {
		if (++it->cur[1] <= it->hi[1])
			return 0;
		it->cur[1] = it->lo[1];
		if (++it->cur[0] <= it->hi[0])
			return 0;
	}
	while (++it->face < 6) {
		if (!(it->faces & 1 << it->face))
			continue;
		memcpy(it->lo, it->flo[it->face], sizeof(it->lo));
		memcpy(it->hi, it->fhi[it->face], sizeof(it->hi));
		it->cur[0] = it->lo[0];
		it->cur[1] = it->lo[1];
		return 0;
	}
	return -1;
}

/*
 * Look up the level's next cells that hold tracks, CORR_NEAR_CELLS at
 * most, into it->cb, and ask for their first blocks: in a large picture
 * each cell's slot and block is a cache miss, and these come together
 * instead of one after the other. The order is that of corr_near_step.
 */
static void
corr_near_fill(struct corr_near *it)
{
	const struct corr	*c = it->c;
	struct corr_iblk	*b;
	uint64_t		 key;

	it->icb = it->ncb = 0;
	while (it->ncb < CORR_NEAR_CELLS && !it->cdone) {
		if (corr_near_step(it) == -1) {
			it->cdone = 1;
			break;
		}
		key = corr_cell_key(it->level, it->face, it->cur);
		if (c->icoarse[corr_cell_map(key)] == 0 ||
		    (b = c->icells[corr_cell_find(c, key)].b) == NULL)
			continue;
		corr_prefetch_blk(b);
		it->cb[it->ncb++] = b;
	}
}

/* Step the query to its next cell or slot; -1 when there is none. */
static int
corr_near_cell(struct corr_near *it)
{
	const struct corr	*c = it->c;

	for (;;) {
		if (it->level >= CORR_LEVELS)
			return -1;
		if (it->level >= 0 && it->list) {
			if (corr_near_slot(it) == 0)
				return 0;
		} else if (it->level >= 0) {
			if (it->icb == it->ncb)
				corr_near_fill(it);
			if (it->icb < it->ncb) {
				it->b = it->cb[it->icb++];
				it->i = 0;
				return 0;
			}
		}
		do
			it->level++;
		while (it->level < CORR_LEVELS && (c->ilevel_n[it->level] ==
		    0 || corr_near_level(c, it, it->level) == -1));
		it->k = -1;
		it->icb = it->ncb = it->cdone = 0;
	}
}

static struct corr_sys *corr_near_scan(struct corr_near *);

/*
 * The next track that may gate the query's estimate, or NULL. They are
 * found CORR_NEAR_AHEAD at a time and their records prefetched: each is
 * a cache miss in a large picture, and the gate reads them one by one.
 */
static struct corr_sys *
corr_near_next(struct corr_near *it)
{
	struct corr_sys	*t;

	if (it->ahead == it->nahead) {
		it->ahead = it->nahead = 0;
		while (it->nahead < CORR_NEAR_AHEAD &&
		    (t = corr_near_scan(it)) != NULL) {
			corr_prefetch(t);
			it->buf[it->nahead++] = t;
		}
		if (it->nahead == 0)
			return NULL;
	}
	return it->buf[it->ahead++];
}

/* Whether a track at x, of reach r, is within the query's reach. */
static int
corr_near_in(const struct corr_near *it, const float x[3], double r)
{
	double	d, n2 = 0.0, w;
	int	i;

	for (i = 0; i < 3; i++) {
		d = it->p[i] - x[i];
		n2 += d * d;
	}
	w = it->r + r * it->f;
	return n2 <= w * w || !(n2 == n2);
}

/* Index of the first entry of b from i on within the query's reach. */
static uint32_t
corr_near_blk(const struct corr_near *it, const struct corr_iblk *b,
    uint32_t i)
{
	for (; i < b->n; i++)
		if (corr_near_in(it, b->e[i].x, b->e[i].reach))
			break;
	return i;
}

/*
 * The next track that may gate the query's estimate, or NULL: the global
 * list, then each level's cells (or its wheel), each track within its
 * own reach.
 */
static struct corr_sys *
corr_near_scan(struct corr_near *it)
{
	struct corr_sys		*t;
	struct corr_ient	*e;
	uint32_t		 i;

	for (;;) {
		for (; it->b != NULL; it->b = it->b->next, it->i = 0) {
			if (it->i == 0 && it->b->next != NULL)
				corr_prefetch_blk(it->b->next);
			if ((i = corr_near_blk(it, it->b, it->i)) < it->b->n) {
				it->i = i + 1;
				return it->b->e[i].t;
			}
		}
		while ((t = it->t) != NULL) {
			it->t = LIST_NEXT(t, ientry);
			if (it->level < 0)
				return t;
			e = &t->iblk->e[corr_cell_slot(t)];
			if (corr_near_in(it, e->x, e->reach))
				return t;
		}
		if (corr_near_cell(it) == -1)
			return NULL;
	}
}

/* ---- system tracks ----------------------------------------------------- */

/* Categories that may describe one object. */
static int
corr_compatible(enum tf_category a, enum tf_category b)
{
	return a == b || (corr_ballistic(a) && corr_ballistic(b));
}

/* Whether a is more credible than b: quality, then sensor, then number. */
static int
corr_credible(const struct corr_src *a, const struct corr_src *b)
{
	int	r;

	if (a->quality != b->quality)
		return a->quality > b->quality;
	if ((r = strcmp(a->prof->sensor, b->prof->sensor)) != 0)
		return r < 0;
	return a->local < b->local;
}

/* The most credible contribution of a system track. */
static struct corr_src *
corr_best(const struct corr_sys *t)
{
	struct corr_src	*s, *best = NULL;

	SLIST_FOREACH(s, &t->contribs, centry)
		if (best == NULL || corr_credible(s, best))
			best = s;
	return best;
}

/*
 * Predict the contributions of t, all but skip, to time tt into the
 * scratch arrays; returns how many, and in *sig a signature of which
 * they are, in order (never 0). One of time tt (the report's own, as a
 * rule) is copied: corr_predict over dt = 0 leaves a finite state as it
 * is, bit for bit.
 */
static size_t
corr_gather(struct corr *c, const struct corr_sys *t,
    const struct corr_src *skip, int64_t tt, uint32_t *sig)
{
	struct corr_src	*s;
	double		 x[6];
	uint32_t	 h = 2166136261U;
	size_t		 n = 0;

	SLIST_FOREACH(s, &t->contribs, centry) {
		if (s == skip)
			continue;
		if (s->t == tt) {
			geo_cov_unpack(s->Pt, c->fP[n]);
			corr_src_x(s, c->fx[n]);
		} else {
			corr_src_x(s, x);
			corr_predict_f(s->cat, (tt - s->t) * CORR_NS, x, s->Pt,
			    c->fx[n], c->fP[n]);
		}
		h = (h ^ (s->sidx >= 0 ? (uint32_t)s->sidx :
		    corr_src_hash(s->prof->sensor, 0))) * 16777619U;
		h = (h ^ s->local) * 16777619U;
		n++;
	}
	*sig = h != 0 ? h : 1;
	return n;
}

/*
 * Fuse the contributions of t at the newest contribution time and move t
 * in the index. Should the fusion fail (inputs are checked PD, so only in
 * numerically absurd cases) the most credible contribution stands alone.
 * The CI weights are kept with t: while its contributions stay the same,
 * the next fusion starts from them (the optimum moves little from one
 * report to the next: one or two Newton steps are left to take, where
 * the closed-form start needs two to four).
 */
static void
corr_sys_refresh(struct corr *c, struct corr_sys *t, int moved)
{
	struct corr_src	*s, *best;
	double		 P[36], Pb[36], xb[6], w[CORR_FUSE_MAX];
	uint32_t	 sig;
	size_t		 n, j;
	int		 how = 0;

	t->t = SLIST_FIRST(&t->contribs)->t;
	SLIST_FOREACH(s, &t->contribs, centry)
		if (s->t > t->t)
			t->t = s->t;
	best = corr_best(t);
	t->cat = best->cat;
	n = corr_gather(c, t, NULL, t->t, &sig);
	if (sig == t->csig && n <= CORR_WARM_MAX) {
		for (j = 0; j < n; j++)
			w[j] = t->cw[j] / 255.0;
		how = CORR_CI_WARM;
	}
	t->csig = 0;
	if (corr_fuse_how(n, (const double (*)[6])c->fx,
	    (const double (*)[36])c->fP, t->x, P, w, how) == -1) {
		geo_cov_unpack(best->Pt, Pb);
		corr_src_x(best, xb);
		corr_predict(best->cat, (t->t - best->t) * CORR_NS, xb, Pb,
		    t->x, P);
	} else if (n <= CORR_WARM_MAX) {
		/* The second bound is the first, for gcc -O3 -fsanitize. */
		for (j = 0; j < n && j < sizeof(t->cw); j++)
			t->cw[j] = (uint8_t)lrint(w[j] * 255.0);
		t->csig = sig;
	}
	geo_cov_pack(P, t->Pt);
	corr_index(c, t, moved);
}

/*
 * Count an update of t at time when: a second sensor confirms a tentative
 * track at once; one sensor confirms it after CORR_FIRM updates, one more
 * when it updates slowly (more than CORR_QUICK apart). False tracks are
 * one-sensor and die within a few looks; a slow sensor's (an AEW
 * aircraft's, every 10 s) would otherwise be shown for tens of seconds.
 */
static void
corr_bump(struct corr_sys *t, int64_t when)
{
	uint32_t	need = CORR_FIRM;

	if (t->nupd > 0 && when - t->t > CORR_QUICK)
		need += CORR_SLOW_LOOKS;
	if (t->nupd < UINT8_MAX)
		t->nupd++;
	if (t->status == TF_STATUS_TENTATIVE && (t->nupd >= need || t->multi))
		t->status = TF_STATUS_FIRM;
}

/*
 * Append s to t's contributions. The list is singly linked (a track holds
 * a few, CORR_FUSE_MAX at most, and every source saves a pointer): the
 * walk to its end keeps them in the order they came, which the fusion
 * and the picture follow.
 */
static void
corr_contrib_append(struct corr_sys *t, struct corr_src *s)
{
	struct corr_src	*k, *last = NULL;

	SLIST_FOREACH(k, &t->contribs, centry)
		last = k;
	if (last == NULL)
		SLIST_INSERT_HEAD(&t->contribs, s, centry);
	else
		SLIST_INSERT_AFTER(last, s, centry);
}

/* Attach source s to system track t; a coasting track comes back. */
static void
corr_attach(struct corr *c, struct corr_sys *t, struct corr_src *s)
{
	if (t->status == TF_STATUS_COASTING) {
		TAILQ_REMOVE(&c->coast, t, qentry);
		t->status = TF_STATUS_FIRM;
		t->csig = 0;		/* tend was there */
	}
	corr_contrib_append(t, s);	/* over s->from, moot now */
	t->kept_ok = 0;
	t->ncontrib++;
	if (t->ncontrib > 1)
		t->multi = 1;
	corr_bump(t, s->t);
	s->sys = t;
}

/* Detach source s from its system track; returns that track. */
static struct corr_sys *
corr_detach(struct corr_src *s)
{
	struct corr_sys	*t = s->sys;

	SLIST_REMOVE(&t->contribs, s, corr_src, centry);
	t->kept_ok = 0;
	t->ncontrib--;
	s->sys = NULL;
	s->from = 0;
	s->replaced = 0;
	return t;
}

/* A new, empty system track with the next number. */
static struct corr_sys *
corr_sys_new(struct corr *c)
{
	struct corr_sys	*t = c->tfree;

	c->tfree = t->fnext;
	memset(t, 0, sizeof(*t));
	SLIST_INIT(&t->contribs);
	t->id = c->next_id++;
	t->status = TF_STATUS_TENTATIVE;
	TAILQ_INSERT_TAIL(&c->tracks, t, entry);
	c->nsys++;
	return t;
}

/* Drop an empty system track and tell the world. */
static void
corr_sys_drop(struct corr *c, struct corr_sys *t)
{
	struct tf_picture_track	pt;

	memset(&pt, 0, sizeof(pt));
	pt.track_id = t->id;
	pt.t_ns = c->now;
	if (t->status == TF_STATUS_COASTING)
		TAILQ_REMOVE(&c->coast, t, qentry);
	corr_unindex(c, t);
	if (t->kept != NULL)
		corr_prof_put(c, t->kept);
	TAILQ_REMOVE(&c->tracks, t, entry);
	t->fnext = c->tfree;
	c->tfree = t;
	c->nsys--;
	if (t->shown) {
		c->nshown--;
		c->st.dropped++;
		c->emit(c->arg, CORR_DROPPED, &pt);
	}
}

static void	corr_emit(struct corr *, struct corr_sys *, enum corr_change);
static int	corr_compatible(enum tf_category, enum tf_category);

/*
 * Whether a live track of t's category lies within the gate of t: then a
 * coasting t would only be a duplicate of it (the object's sensors moved
 * on to the other track), so it goes instead.
 */
static int
corr_redundant(struct corr *c, const struct corr_sys *t)
{
	struct corr_sys		*u;
	struct corr_near	 it;
	double			 x[6], P[36], Pu[36], Ptt[36], d2;

	geo_cov_unpack(t->Pt, Ptt);
	corr_near_start(c, &it, t->x, Ptt[0] + Ptt[7] + Ptt[14], t->t);
	while ((u = corr_near_next(&it)) != NULL) {
		if (u == t || u->ncontrib == 0 ||
		    !corr_compatible(u->cat, t->cat))
			continue;
		geo_cov_unpack(u->Pt, Pu);
		corr_predict(u->cat, (t->t - u->t) * CORR_NS, u->x, Pu, x, P);
		if (corr_distance(t->x, Ptt, x, P, &d2) == 0 &&
		    d2 < c->p.gate_chi2)
			return 1;
	}
	return 0;
}

/*
 * How long a track of category cat coasts after its last update. Ships,
 * submarines and land units barely move while their sensors (maritime
 * patrol aircraft, AEW) revisit every 5 to 10 s and lose them for half a
 * minute at a time, so they coast CORR_SLOW times longer: a few hundred
 * metres of drift at most, and the object keeps its number.
 */
static int64_t
corr_coast_ns(const struct corr *c, enum tf_category cat)
{
	if (cat == TF_CAT_SURFACE || cat == TF_CAT_SUBSURFACE ||
	    cat == TF_CAT_LAND)
		return c->p.coast_ns > CORR_TMAX / CORR_SLOW ? CORR_TMAX :
		    c->p.coast_ns * CORR_SLOW;
	return c->p.coast_ns;
}

/*
 * Whether a ballistic track is falling and low: its sensors lost it at
 * the end of its flight, and there is nothing left to coast.
 */
static int
corr_landed(const struct corr_sys *t)
{
	double	lat, lon, alt, up[3];

	if (!corr_ballistic(t->cat))
		return 0;
	geo_ecef_to_lla(t->x, &lat, &lon, &alt);
	geo_ecef_to_enu_vec(lat, lon, t->x + 3, up);
	return alt < CORR_LANDED && up[2] < 0.0;
}

/*
 * A system track lost its last contribution. A firm track coasts on its
 * last fused state (a sensor that lost and re-acquires the object, or
 * renumbers it, finds it again in the gate) until coast_ns after its last
 * update. A tentative one goes at once, and so does a one-sensor track
 * younger than CORR_COAST updates (those are what a sensor's false
 * tracks look like, and coasting them would only add spurious tracks) and
 * a ballistic one that was falling low (it landed).
 */
static void
corr_sys_orphan(struct corr *c, struct corr_sys *t)
{
	struct corr_sys	*p;

	t->tend = t->t + corr_coast_ns(c, t->cat);
	if (t->nupd < CORR_FIRM || (!t->multi && t->nupd < CORR_COAST) ||
	    c->p.coast_ns <= 0 || t->tend < c->now || corr_landed(t) ||
	    corr_redundant(c, t)) {
		corr_sys_drop(c, t);
		return;
	}
	t->status = TF_STATUS_COASTING;
	for (p = TAILQ_LAST(&c->coast, corr_sysq); p != NULL;
	    p = TAILQ_PREV(p, corr_sysq, qentry))
		if (p->tend <= t->tend)
			break;
	if (p == NULL)
		TAILQ_INSERT_HEAD(&c->coast, t, qentry);
	else
		TAILQ_INSERT_AFTER(&c->coast, p, t, qentry);
	corr_emit(c, t, CORR_UPDATED);
}

/* ---- the picture ------------------------------------------------------- */

/* Insert a nation into a sorted unique list of at most max entries. */
static void
corr_nation_add(char (*list)[TF_NATION_LEN], uint8_t *n, size_t max,
    const char *nation)
{
	size_t	i, j;
	int	r;

	if (nation[0] == '\0')
		return;
	for (i = 0; i < *n; i++) {
		if ((r = corr_nation_cmp(list[i], nation)) == 0)
			return;
		if (r > 0)
			break;
	}
	if (*n >= max)
		return;
	for (j = *n; j > i; j--)
		memcpy(list[j], list[j - 1], TF_NATION_LEN);
	memcpy(list[i], nation, TF_NATION_LEN - 1);
	list[i][TF_NATION_LEN - 1] = '\0';
	(*n)++;
}

/* Whether nation is in the label's releasable list. */
static int
corr_rel_has(const struct tf_label *l, const char *nation)
{
	size_t	i;

	for (i = 0; i < l->nrel && i < TF_MAX_REL; i++)
		if (corr_nation_cmp(l->rel[i], nation) == 0)
			return 1;
	return 0;
}

/*
 * Label of the fused product: the highest class, the nations every
 * contribution may be released to, and an owner only when all agree.
 * Whether a recipient sees it is the release module's business.
 */
static void
corr_label(const struct corr_sys *t, struct tf_picture_track *pt)
{
	struct corr_src		*s, *s0 = SLIST_FIRST(&t->contribs);
	const struct tf_label	*first = &s0->prof->label;
	size_t			 i;
	int			 all;

	/* The first contribution's own list has its nations: not asked. */
	for (i = 0; i < first->nrel && i < TF_MAX_REL; i++) {
		all = 1;
		for (s = SLIST_NEXT(s0, centry); s != NULL && all;
		    s = SLIST_NEXT(s, centry))
			if (!corr_rel_has(&s->prof->label, first->rel[i]))
				all = 0;
		if (all)
			corr_nation_add(pt->label.rel, &pt->label.nrel,
			    TF_MAX_REL, first->rel[i]);
	}
	memcpy(pt->label.owner, first->owner, TF_NATION_LEN);
	pt->label.owner[TF_NATION_LEN - 1] = '\0';
	SLIST_FOREACH(s, &t->contribs, centry) {
		if (corr_nation_cmp(s->prof->label.owner,
		    pt->label.owner) != 0)
			memset(pt->label.owner, 0, TF_NATION_LEN);
		if (s->prof->label.cls > pt->label.cls)
			pt->label.cls = s->prof->label.cls;
		corr_nation_add(pt->nations, &pt->nnations, TF_MAX_NATIONS,
		    s->prof->label.owner);
	}
}

/* Friend-like and hostile-like identities. */
static int
corr_ident_side(enum tf_identity id)
{
	if (id == TF_IDENT_FRIEND || id == TF_IDENT_ASSUMED_FRIEND)
		return 1;
	if (id == TF_IDENT_SUSPECT || id == TF_IDENT_HOSTILE)
		return 2;
	return 0;
}

/*
 * The picture fields a coasting track keeps showing; the label and the
 * nations, the bulk of them, interned (they seldom change). Once saved
 * they are also the label of t's next pictures until a contribution
 * comes or goes or changes its label (kept_ok).
 */
static void
corr_keep_save(struct corr *c, struct corr_sys *t,
    const struct tf_picture_track *pt)
{
	struct corr_prof	 key;

	t->kident = pt->ident;
	t->kquality = pt->quality;
	t->kconflict = pt->ident_conflict;
	if (t->kept_ok)
		return;
	t->kept_ok = 1;
	if (t->kept != NULL && t->kept->nnations == pt->nnations &&
	    corr_label_same(&t->kept->klabel, &pt->label) &&
	    memcmp(t->kept->nations, pt->nations,
	    pt->nnations * TF_NATION_LEN) == 0)
		return;
	memset(&key, 0, sizeof(key));
	key.kind = 1;
	corr_label_norm(&pt->label, &key.klabel);
	key.nnations = pt->nnations > TF_MAX_NATIONS ? TF_MAX_NATIONS :
	    pt->nnations;
	memcpy(key.nations, pt->nations, key.nnations * TF_NATION_LEN);
	if (t->kept != NULL && memcmp(&t->kept->klabel, &key.klabel,
	    offsetof(struct corr_prof, kind) + 1 -
	    offsetof(struct corr_prof, klabel)) == 0)
		return;
	if (t->kept != NULL)
		corr_prof_put(c, t->kept);
	t->kept = corr_prof_intern(c, &key);
	t->kept_ok = t->kept != NULL;
}

/* The label and nations t kept (t->kept not NULL) into pt. */
static void
corr_keep_label(const struct corr_sys *t, struct tf_picture_track *pt)
{
	pt->nnations = t->kept->nnations;
	memcpy(pt->nations, t->kept->nations, sizeof(pt->nations));
	pt->label = t->kept->klabel;
}

/* The picture of a coasting track from what it kept. */
static void
corr_keep_load(const struct corr_sys *t, struct tf_picture_track *pt)
{
	pt->cat = t->cat;
	pt->ident = t->kident;
	pt->quality = t->kquality;
	pt->ident_conflict = t->kconflict;
	if (t->kept != NULL)
		corr_keep_label(t, pt);
}

/* Build the picture of system track t. */
static void
corr_picture(const struct corr_sys *t, struct tf_picture_track *pt)
{
	struct corr_src	*s, *best;
	double		 r[3][3], P[TF_COV_N];
	int		 sides = 0, i;

	memset(pt, 0, sizeof(*pt));
	pt->track_id = t->id;
	pt->t_ns = t->t;
	pt->status = t->status;
	geo_ecef_to_lla_enu(t->x, &pt->lat_deg, &pt->lon_deg, &pt->alt_m, r);
	for (i = 0; i < 3; i++)
		pt->vel[i] = r[i][0] * t->x[3] + r[i][1] * t->x[4] +
		    r[i][2] * t->x[5];
	for (i = 0; i < TF_COV_N; i++)
		P[i] = t->Pt[i];
	corr_rotate((const double (*)[3])r, P, pt->cov);
	if (t->ncontrib == 0) {
		corr_keep_load(t, pt);
		return;
	}
	best = corr_best(t);
	pt->cat = best->cat;
	pt->ident = best->ident;
	SLIST_FOREACH(s, &t->contribs, centry) {
		if (s->quality > pt->quality)
			pt->quality = s->quality;
		sides |= corr_ident_side(s->ident);
	}
	pt->ident_conflict = sides == 3;
	pt->contributors = t->ncontrib;
	if (t->kept_ok)
		corr_keep_label(t, pt);
	else
		corr_label(t, pt);
}

/*
 * Tell the world about a created or updated system track. A tentative
 * track is kept to the core: a sensor's false tracks are one-sensor and
 * short-lived, and they die tentative, so nobody ever sees them. The
 * first emission of a confirmed track is its CORR_CREATED, whatever
 * changed; a track never shown is dropped silently (corr_sys_drop).
 */
static void
corr_emit(struct corr *c, struct corr_sys *t, enum corr_change what)
{
	struct tf_picture_track	pt;

	if (t->status == TF_STATUS_TENTATIVE && !c->p.publish_tentative)
		return;
	if (!t->shown) {
		what = CORR_CREATED;
		t->shown = 1;
		c->nshown++;
		c->st.created++;
	}
	corr_picture(t, &pt);
	if (t->ncontrib > 0)
		corr_keep_save(c, t, &pt);
	c->emit(c->arg, what, &pt);
}

/* ---- registration bias --------------------------------------------------- */

/*
 * Each sensor measures with a constant bias b (ENU, tens to hundreds of
 * metres). Where two sensors i and j hold one object, the mean of their
 * raw position difference is b_i - b_j: pairs are accumulated at every
 * report into a fused track, each difference with its information (the
 * inverse of the two position covariances' sum), and the b that best
 * explain them (generalised least squares) are solved for once per
 * second of event time. Radars measure range well and angle coarsely, so
 * a difference says much along some directions and little across them: a plain mean would pour the cross-range noise into
 * the estimate. Two corrections keep the estimate honest: the samples of
 * one pair of tracks are strongly correlated from report to report, so
 * each counts as 1 / CORR_BIAS_DECOR of an independent one; and a prior
 * (zero, CORR_BIAS_PRIOR m each way) holds the directions that no pair
 * observes. Differences fix b only up to a common offset, unobservable
 * without a reference: the constraint chosen is that the variance-weighted
 * mean of the biases of each group of connected sensors is zero, so the
 * picture sits where the most accurate sensors, on average, put it.
 * Estimates are taken off every report before gating once a sensor has
 * CORR_BIAS_MIN samples.
 */

/* Index of sensor id in the bias table, or -1. */
static int
corr_sensor_find(const struct corr *c, const char *id)
{
	int	i;

	for (i = 0; i < c->nsens; i++)
		if (strncmp(c->sens[i].id, id, TF_ID_LEN - 1) == 0)
			return i;
	return -1;
}

/* Index of sensor id in the bias table, adding it; -1 when full. */
static int
corr_sensor_index(struct corr *c, const char *id)
{
	int	i;

	if ((i = corr_sensor_find(c, id)) >= 0)
		return i;
	i = c->nsens;
	if (c->nsens == CORR_SENSORS)
		return -1;
	memcpy(c->sens[i].id, id, TF_ID_LEN - 1);
	c->sens[i].id[TF_ID_LEN - 1] = '\0';
	return c->nsens++;
}

/* Mean stated horizontal variance of sensor i (1 m^2 floor). */
static double
corr_sensor_var(const struct corr *c, int i)
{
	const struct corr_sensor	*se = &c->sens[i];
	double				 v;

	v = se->nv > 0 ? se->vsum / se->nv : 1e6;
	return v > 1.0 ? v : 1.0;
}

/* The bias of a report's sensor in ECEF at (lat, lon), to subtract. */
static void
corr_bias_ecef(const struct corr *c, int i, const double B[3][3],
    double out[3])
{
	const struct corr_sensor	*se;

	memset(out, 0, 3 * sizeof(double));
	if (i < 0)
		return;
	se = &c->sens[i];
	if (se->n >= CORR_BIAS_MIN)
		corr_enu_to_ecef(B, se->b, out);
}

/*
 * Information (ENU at B's place) of a position difference of s and k, k
 * predicted over dt: the inverse of the sum of their position blocks.
 * The loops are unrolled (CORR_UNROLL: the stored triangle's indices
 * become constants), and S and W are symmetric: only their upper
 * triangles are computed (S exactly so: its two sums of cross terms
 * differ only in the order of an addition).
 */
static int
corr_bias_info(const struct corr_src *s, const struct corr_src *k, double dt,
    const double B[3][3], double W[9])
{
	double	S[9], Wi[9], T[3][3];
	int	i, j;

	CORR_UNROLL
	for (i = 0; i < 3; i++)
		CORR_UNROLL
		for (j = i; j < 3; j++)
			S[i * 3 + j] = S[j * 3 + i] = s->Pt[tf_cov_idx(i, j)] +
			    k->Pt[tf_cov_idx(i, j)] +
			    dt * (k->Pt[tf_cov_idx(i, j + 3)] +
			    k->Pt[tf_cov_idx(i + 3, j)]) +
			    dt * dt * k->Pt[tf_cov_idx(i + 3, j + 3)];
	if (geo_inv3(S, Wi) == -1)
		return -1;
	corr_rotate_block(B, (const double (*)[3])Wi, 1, T);	/* B Wi B^T */
	CORR_UNROLL
	for (i = 0; i < 3; i++)
		CORR_UNROLL
		for (j = i; j < 3; j++)
			W[i * 3 + j] = W[j * 3 + i] = T[i][j];
	return 0;
}

/* Where the differences of sensors i and j (i != j) are: once a pair. */
static int
corr_pair_idx(int i, int j)
{
	int	a = i < j ? i : j, b = i < j ? j : i;

	return b * (b - 1) / 2 + a;
}

/* Add one difference e (ENU, of sensor a minus b) of information W. */
static void
corr_pair_add(struct corr_pair *pr, const double e[3], const double W[9],
    double sg)
{
	double	f = 1.0 / CORR_BIAS_DECOR;
	int	i, j;

	CORR_UNROLL
	for (i = 0; i < 3; i++) {
		CORR_UNROLL
		for (j = 0; j < 3; j++) {
			pr->W[i * 3 + j] += W[i * 3 + j] * f;
			pr->wd[i] += sg * W[i * 3 + j] * e[j] * f;
		}
	}
	pr->n++;
}

/*
 * Record the raw position differences of source s against the other
 * sensors' contributions of its track, in ENU at s, with their
 * information. Radars measure range far better than angle, so a
 * difference is informative along some directions only: weighing it by
 * its information (generalised least squares) keeps the coarse
 * cross-range noise out of the bias estimate.
 */
static void
corr_bias_sample(struct corr *c, const struct corr_src *s,
    const double B[3][3])
{
	const struct corr_src	*k;
	double			 d[3], e[3], W[9], dt, n2;
	int			 i, a, b;

	SLIST_FOREACH(k, &s->sys->contribs, centry) {
		if (k == s || k->sidx < 0 || s->sidx < 0 ||
		    k->sidx == s->sidx || s->t - k->t > CORR_BIAS_DT ||
		    k->t - s->t > CORR_BIAS_DT)
			continue;
		dt = (s->t - k->t) * CORR_NS;
		for (n2 = 0.0, i = 0; i < 3; i++) {
			d[i] = (s->p[i] + corr_bapp(s, i)) -
			    (k->p[i] + corr_bapp(k, i) + dt * k->v[i]);
			n2 += d[i] * d[i];
		}
		if (!(n2 < CORR_BIAS_MAXD * CORR_BIAS_MAXD) ||
		    corr_bias_info(s, k, dt, B, W) == -1)
			continue;
		for (i = 0; i < 3; i++)
			e[i] = B[i][0] * d[0] + B[i][1] * d[1] + B[i][2] * d[2];
		a = s->sidx < k->sidx ? s->sidx : k->sidx;
		b = s->sidx < k->sidx ? k->sidx : s->sidx;
		corr_pair_add(&c->pair[corr_pair_idx(a, b)], e, W,
		    a == s->sidx ? 1.0 : -1.0);
		c->sens[a].n++;
		c->sens[b].n++;
	}
}

/* Label the connected components of the pair graph from sensor i. */
static void
corr_bias_comp(struct corr *c, int i, int comp)
{
	int	j;

	c->sens[i].comp = comp;
	for (j = 0; j < c->nsens; j++)
		if (j != i && c->sens[j].comp < 0 &&
		    c->pair[corr_pair_idx(i, j)].n > 0)
			corr_bias_comp(c, j, comp);
}

/* Shift each component's biases so their weighted mean is zero. */
static void
corr_bias_anchor(struct corr *c, int ncomp)
{
	double	m[3], w, ws;
	int	i, k, a;

	for (k = 0; k < ncomp; k++) {
		memset(m, 0, sizeof(m));
		for (ws = 0.0, i = 0; i < c->nsens; i++)
			if (c->sens[i].comp == k) {
				w = 1.0 / corr_sensor_var(c, i);
				for (a = 0; a < 3; a++)
					m[a] += w * c->sens[i].b[a];
				ws += w;
			}
		for (i = 0; i < c->nsens; i++)
			if (c->sens[i].comp == k)
				for (a = 0; a < 3; a++)
					c->sens[i].b[a] -= m[a] / ws;
	}
}

/*
 * Unknowns of the bias solve: 3 per sensor (nsens never leaves
 * [0, CORR_SENSORS]; said here so that gcc sees the bound of the memsets).
 */
static size_t
corr_bias_n3(const struct corr *c)
{
	return (size_t)(c->nsens > 0 && c->nsens <= CORR_SENSORS ?
	    c->nsens : 0) * 3;
}

/*
 * The normal equations N b = r of all biases (3 per sensor): each pair
 * (i, j) adds its information W to blocks ii and jj, subtracts it from
 * ij and ji, and its information-weighted difference to r_i (and its
 * negative to r_j); the prior adds 1 / CORR_BIAS_PRIOR^2 on the diagonal,
 * which keeps N positive definite.
 */
static void
corr_bias_normal(const struct corr *c, double *N, double *r)
{
	const struct corr_pair	*pr;
	size_t			 n3 = corr_bias_n3(c), ia, jk;
	int			 i, j, a, k;

	memset(N, 0, n3 * n3 * sizeof(*N));
	memset(r, 0, n3 * sizeof(*r));
	for (i = 0; i < c->nsens; i++)
		for (j = i + 1; j < c->nsens; j++) {
			if ((pr = &c->pair[corr_pair_idx(i, j)])->n == 0)
				continue;
			for (a = 0; a < 3; a++) {
				r[i * 3 + a] += pr->wd[a];
				r[j * 3 + a] -= pr->wd[a];
				for (k = 0; k < 3; k++) {
					ia = (size_t)(i * 3 + a) * n3;
					jk = (size_t)(j * 3 + a) * n3;
					N[ia + i * 3 + k] += pr->W[a * 3 + k];
					N[jk + j * 3 + k] += pr->W[a * 3 + k];
					N[ia + j * 3 + k] -= pr->W[a * 3 + k];
					N[jk + i * 3 + k] -= pr->W[a * 3 + k];
				}
			}
		}
	for (ia = 0; ia < n3; ia++)
		N[ia * n3 + ia] += 1.0 / (CORR_BIAS_PRIOR * CORR_BIAS_PRIOR);
}

/*
 * Solve N x = r in place (x in r) by Cholesky, N symmetric n x n; -1
 * (r untouched) if N is not positive definite.
 */
static int
corr_bias_chol(size_t n, double *N, double *r)
{
	double	s;
	size_t	i, j, k;

	for (j = 0; j < n; j++) {
		for (s = N[j * n + j], k = 0; k < j; k++)
			s -= N[j * n + k] * N[j * n + k];
		if (!(s > 0.0))
			return -1;
		N[j * n + j] = sqrt(s);
		for (i = j + 1; i < n; i++) {
			for (s = N[i * n + j], k = 0; k < j; k++)
				s -= N[i * n + k] * N[j * n + k];
			N[i * n + j] = s / N[j * n + j];
		}
	}
	for (i = 0; i < n; i++) {
		for (s = r[i], k = 0; k < i; k++)
			s -= N[i * n + k] * r[k];
		r[i] = s / N[i * n + i];
	}
	for (i = n; i-- > 0;) {
		for (s = r[i], k = i + 1; k < n; k++)
			s -= N[k * n + i] * r[k];
		r[i] = s / N[i * n + i];
	}
	return 0;
}

/*
 * Solve for all biases from the pair means at once (a few dozen
 * unknowns, every CORR_BIAS_EVERY of event time: a direct solve is exact
 * and cheaper than iterating, which crawls along the weakly held
 * directions), then anchor each group of connected sensors. Biases are
 * constant or drift over minutes; a solve every 5 s rather than every
 * second changes the quality figures in their fourth digit, and a replay
 * that runs 20 reports a second of event time (the default scenario)
 * through at a million a second no longer spends a tenth of its time here.
 */
static void
corr_bias_solve(struct corr *c)
{
	size_t	n3 = corr_bias_n3(c);
	int	i, a, ncomp = 0;

	if (c->nsens == 0)
		return;
	for (i = 0; i < c->nsens; i++)
		c->sens[i].comp = -1;
	for (i = 0; i < c->nsens; i++)
		if (c->sens[i].comp < 0)
			corr_bias_comp(c, i, ncomp++);
	corr_bias_normal(c, c->bN, c->br);
	if (corr_bias_chol(n3, c->bN, c->br) == -1)
		return;		/* numerically absurd: keep the last */
	for (i = 0; i < c->nsens; i++)
		for (a = 0; a < 3; a++)
			c->sens[i].b[a] = c->br[i * 3 + a];
	corr_bias_anchor(c, ncomp);
}

/* Visit every sensor's bias estimate, in first-seen order. */
void
corr_foreach_bias(const struct corr *c, void (*fn)(void *, const char *,
    const double[3], uint64_t), void *arg)
{
	int	i;

	for (i = 0; i < c->nsens; i++)
		fn(arg, c->sens[i].id, c->sens[i].b, c->sens[i].n);
}

/* ---- association ------------------------------------------------------- */

/*
 * Whether a contribution k of track t from the sensor of o may give way
 * to o. A sensor never contributes two tracks to one system track, except
 * when it renumbers one: a source seen for the first time (self NULL) may
 * replace its sensor's contribution if that one is older than the report.
 * That guess can be wrong (two objects of one sensor within one gate, the
 * second first reported a little later): if the displaced source reports
 * again it is alive, so it reclaims its track and the newcomer re-gates.
 * Nothing else replaces, so two local tracks never take turns.
 */
static int
corr_may_replace(const struct corr *c, const struct corr_sys *t,
    const struct corr_src *k, const struct corr_obs *o,
    const struct corr_src *self)
{
	if (self == NULL)
		return k->t < o->t;
	return self->sys == NULL && self->from == t->id && k->replaced &&
	    k->replaced_local == self->local && c->nsys < c->p.max_tracks;
}

/*
 * Cheap pre-test: d^2 >= |dp|^2 / trace(S_pos), so a position gap beyond
 * gate x trace cannot gate and needs no factorisation.
 */
static int
corr_far(const struct corr *c, const double a[6], const double Pa[36],
    const double b[6], const double Pb[36])
{
	double	d, n2 = 0.0, tr;
	int	i;

	for (i = 0; i < 3; i++) {
		d = a[i] - b[i];
		n2 += d * d;
	}
	tr = Pa[0] + Pa[7] + Pa[14] + Pb[0] + Pb[7] + Pb[14];
	return n2 > c->p.gate_chi2 * tr;
}

/*
 * Distance of a stored source to system track t predicted to its time,
 * and log det of the innovation covariance.
 */
static int
corr_src_distance(const struct corr_src *k, const struct corr_sys *t,
    double *d2, double *ld)
{
	double	x[6], xk[6], P[36], Pk[36];

	geo_cov_unpack(k->Pt, Pk);
	corr_predict_f(t->cat, (k->t - t->t) * CORR_NS, t->x, t->Pt, x, P);
	corr_src_x(k, xk);
	return corr_mdist(xk, Pk, x, P, d2, ld);
}

/* Whether contribution k comes from o's sensor. */
static int
corr_same_sensor(const struct corr_src *k, const struct corr_obs *o)
{
	if (k->sidx >= 0 && o->sidx >= 0)
		return k->sidx == o->sidx;
	return strncmp(k->prof->sensor, o->sensor, TF_ID_LEN - 1) == 0;
}

/*
 * Cheaper still, before any prediction: the position of t moved on to
 * o's time and the trace of its predicted position covariance (exact for
 * constant velocity; ballistic tracks skip the test).
 */
static int
corr_far_sys(const struct corr *c, const struct corr_sys *t,
    const struct corr_obs *o)
{
	double	dt, d, n2 = 0.0, tr;
	int	i;

	if (corr_ballistic(t->cat))
		return 0;
	dt = (o->t - t->t) * CORR_NS;
	tr = corr_q(t->cat) * fabs(dt * dt * dt);
	for (i = 0; i < 3; i++) {
		d = o->x[i] - t->x[i] - dt * t->x[3 + i];
		n2 += d * d;
		tr += o->P[i * 7] + t->Pt[tf_cov_idx(i, i)] +
		    2.0 * dt * t->Pt[tf_cov_idx(i, i + 3)] +
		    dt * dt * t->Pt[tf_cov_idx(i + 3, i + 3)];
	}
	return n2 > c->p.gate_chi2 * tr;
}

/*
 * Whether estimate o may join system track t, and its distance. A
 * contribution of o's sensor that may give way is *rep; one that may not
 * is *blk (o then joins only if that one moves: see corr_cluster); both
 * are set only when o gates, the contributions (a cache miss each in a
 * large picture) being looked at only then.
 */
static int
corr_gate_one(struct corr *c, struct corr_sys *t, const struct corr_obs *o,
    const struct corr_src *self, double *d2, double *ld,
    struct corr_src **rep, struct corr_src **blk)
{
	struct corr_src	*s;
	double		 x[6], P[36];

	if (!corr_compatible(t->cat, o->cat) ||
	    t->ncontrib >= CORR_FUSE_MAX || corr_far_sys(c, t, o))
		return 0;
	corr_predict_f(t->cat, (o->t - t->t) * CORR_NS, t->x, t->Pt, x, P);
	if (corr_far(c, o->x, o->P, x, P) ||
	    corr_mdist(o->x, o->P, x, P, d2, ld) == -1 ||
	    !(*d2 < c->p.gate_chi2))
		return 0;
	*rep = *blk = NULL;
	SLIST_FOREACH(s, &t->contribs, centry) {
		if (s == self || !corr_same_sensor(s, o))
			continue;
		if (corr_may_replace(c, t, s, o, self))
			*rep = s;
		else
			*blk = s;
	}
	if (*blk != NULL)
		*rep = NULL;
	return 1;
}

/*
 * Where the association of a report goes, and what that costs: the
 * report joins t (NULL: a new track), and the sources of its sensor in
 * the way move along a chain, mv[i] to mto[i] (NULL: a new track).
 */
struct corr_choice {
	struct corr_sys		*t;
	struct corr_src		*rep;		/* renumbered away */
	size_t			 nmv;
	struct corr_src		*mv[CORR_CROWS];
	struct corr_sys		*mto[CORR_CROWS];
	double			 cost;
};

/* A stored source as an estimate to associate. */
static void
corr_src_obs(const struct corr_src *k, struct corr_obs *o)
{
	o->sensor = k->prof->sensor;
	o->sidx = k->sidx;
	o->t = k->t;
	o->cat = k->cat;
	corr_src_x(k, o->x);
	geo_cov_unpack(k->Pt, o->P);
	o->ldP = -HUGE_VAL;
}

/*
 * The best place for estimate o among the system tracks the index finds
 * around it, other than self's own track: in the gate (d^2), least cost
 * d^2 + log det S (ties: lowest id), leaving out the tracks that hold
 * another track of o's sensor (corr_cluster weighs those). Returns 0
 * when nothing gates.
 */
static int
corr_gate(struct corr *c, const struct corr_obs *o,
    const struct corr_src *self, struct corr_choice *ch)
{
	struct corr_sys		*t;
	struct corr_src		*r, *blk;
	struct corr_near	 it;
	double			 d2, ld;

	memset(ch, 0, sizeof(*ch));
	corr_near_start(c, &it, o->x, o->P[0] + o->P[7] + o->P[14], o->t);
	while ((t = corr_near_next(&it)) != NULL) {
		if (self != NULL && t == self->sys)
			continue;
		c->st.candidates++;
		if (!corr_gate_one(c, t, o, self, &d2, &ld, &r, &blk) ||
		    blk != NULL)
			continue;
		d2 += ld;
		if (ch->t == NULL || d2 < ch->cost ||
		    (d2 == ch->cost && t->id < ch->t->id)) {
			ch->t = t;
			ch->cost = d2;
			ch->rep = r;
		}
	}
	return ch->t != NULL;
}

/* Forbid every column to row r, for a start. */
static void
corr_cl_clear(struct corr_cl *cl, size_t r)
{
	size_t	j;

	for (j = 0; j < CORR_CCOLS + CORR_CROWS; j++)
		cl->cost[r][j] = CORR_INF;
}

/* Column of track t in the cluster, added if new; -1 when full. */
static int
corr_cl_col(struct corr_cl *cl, struct corr_sys *t)
{
	size_t	j;

	for (j = 0; j < cl->nc; j++)
		if (cl->sys[j] == t)
			return (int)j;
	if (cl->nc == CORR_CCOLS)
		return -1;
	for (j = 0; j < cl->nr; j++)
		cl->cost[j][cl->nc] = CORR_INF;
	cl->sys[cl->nc] = t;
	cl->holder[cl->nc] = -1;
	cl->crep[cl->nc] = NULL;
	return (int)cl->nc++;
}

/*
 * Row of source k (held by its track, of the cluster's sensor), added
 * with the cost of staying where it is if new; -1 when full.
 */
static int
corr_cl_row(struct corr_cl *cl, struct corr_src *k)
{
	double	d2, ld;
	size_t	r;
	int	j;

	if (k == cl->self)
		return 0;
	for (r = 1; r < cl->nr; r++)
		if (cl->src[r] == k)
			return (int)r;
	if (cl->nr == CORR_CROWS || (j = corr_cl_col(cl, k->sys)) == -1)
		return -1;
	corr_cl_clear(cl, cl->nr);
	r = cl->nr++;
	cl->src[r] = k;
	corr_src_obs(k, &cl->obs[r]);
	cl->own[r] = j;
	cl->holder[j] = (int)r;
	if (corr_src_distance(k, k->sys, &d2, &ld) == -1)
		d2 = ld = 0.0;		/* numerically absurd: it stays */
	cl->cost[r][j] = d2 + ld;
	cl->ldown[r] = ld;
	return (int)r;
}

/*
 * Whether row r may join track t, and who holds it: the contributions
 * of r's sensor in t must be rows (they move) or, for row 0, one it may
 * replace (a renumbering, *rep); and t must keep a contribution of
 * another sensor (or be coasting), or its number would pass from one of
 * the sensor's objects to another.
 */
static int
corr_cl_open(struct corr *c, struct corr_cl *cl, size_t r,
    struct corr_sys *t, int *holder, struct corr_src **rep)
{
	struct corr_src	*k;
	int		 other = t->ncontrib == 0, h;

	*holder = -1;
	*rep = NULL;
	SLIST_FOREACH(k, &t->contribs, centry) {
		if (!corr_same_sensor(k, &cl->obs[r])) {
			other = 1;
			continue;
		}
		if (r == 0 && corr_may_replace(c, t, k, &cl->obs[0],
		    cl->self))
			*rep = k;
		else if ((h = corr_cl_row(cl, k)) == -1)
			return 0;
		else
			*holder = h;
	}
	if (*holder != -1)
		*rep = NULL;
	return other || *rep != NULL;
}

/* Cost of row r in the tracks around it (its own track aside). */
static void
corr_cl_scan(struct corr *c, struct corr_cl *cl, size_t r)
{
	const struct corr_obs	*o = &cl->obs[r];
	const struct corr_src	*me = r == 0 ? cl->self : cl->src[r];
	struct corr_sys		*t;
	struct corr_src		*rep, *r1, *b1;
	struct corr_near	 it;
	double			 d2, ld;
	int			 j, h;

	corr_near_start(c, &it, o->x, o->P[0] + o->P[7] + o->P[14], o->t);
	while ((t = corr_near_next(&it)) != NULL) {
		if (me != NULL && t == me->sys)
			continue;
		c->st.candidates++;
		if (!corr_gate_one(c, t, o, me, &d2, &ld, &r1, &b1) ||
		    !corr_cl_open(c, cl, r, t, &h, &rep) ||
		    (j = corr_cl_col(cl, t)) == -1 ||
		    (r > 0 && cl->crep[j] != NULL))
			continue;
		if (h != -1)
			cl->holder[j] = h;
		if (r == 0) {
			cl->crep[j] = rep;
			if (ld > cl->ldmax)
				cl->ldmax = ld;
		}
		cl->cost[r][j] = d2 + ld;
	}
}

/*
 * The choice of row 0 in the solved cluster: its column, and the chain
 * of rows that make room (each moves to its column, the next one holds
 * that). Rows off the chain stay, whatever the solution says: they are
 * weighed again when they report.
 */
static int
corr_cl_chain(const struct corr_cl *cl, struct corr_choice *ch)
{
	size_t	j = cl->col[0], jj;
	int	h;

	ch->t = cl->sys[j];
	ch->rep = cl->crep[j];
	ch->cost = cl->cost[0][j];
	for (h = cl->holder[j]; h > 0 && ch->nmv < CORR_CROWS;
	    h = jj < cl->nc ? cl->holder[jj] : -1) {
		jj = cl->col[h];
		ch->mv[ch->nmv] = cl->src[h];
		ch->mto[ch->nmv++] = jj < cl->nc ? cl->sys[jj] : NULL;
		ch->cost += (jj < cl->nc ? cl->cost[h][jj] :
		    cl->cost[h][cl->nc + (size_t)h]) - cl->cost[h][cl->own[h]];
	}
	return 1;
}

/*
 * A cluster of the report alone (no other source of its sensor in the
 * way): its assignment is its cheapest track (ties: the lowest number),
 * every one of which beats a new track.
 */
static int
corr_cl_alone(const struct corr_cl *cl, struct corr_choice *ch)
{
	size_t	j, best = 0;

	if (cl->nc == 0)
		return 0;
	for (j = 1; j < cl->nc; j++)
		if (cl->cost[0][j] < cl->cost[0][best] ||
		    (cl->cost[0][j] == cl->cost[0][best] &&
		    cl->sys[j]->id < cl->sys[best]->id))
			best = j;
	ch->t = cl->sys[best];
	ch->rep = cl->crep[best];
	ch->cost = cl->cost[0][best];
	return 1;
}

/*
 * Solve the cluster of estimate o (source self, NULL if new) and return
 * in ch where o goes, other than self's own track, and the chain of
 * moves that makes room; ch->cost is o's cost there plus what the moves
 * add. Returns 0 when o is best on a new track.
 */
static int
corr_cluster(struct corr *c, const struct corr_obs *o,
    const struct corr_src *self, struct corr_choice *ch)
{
	struct corr_cl	*cl = &c->cl;
	size_t		 r, j, m;

	memset(ch, 0, sizeof(*ch));
	cl->nr = 1;
	cl->nc = 0;
	cl->self = self;
	cl->obs[0] = *o;
	cl->own[0] = -1;
	cl->ldmax = -HUGE_VAL;
	corr_cl_clear(cl, 0);
	for (r = 0; r < cl->nr; r++)
		corr_cl_scan(c, cl, r);
	if (cl->nr == 1)
		return corr_cl_alone(cl, ch);
	m = cl->nc + cl->nr;
	for (r = 0; r < cl->nr; r++) {
		cl->cost[r][cl->nc + r] = c->p.gate_chi2 + (r == 0 ?
		    (cl->ldmax > -HUGE_VAL ? cl->ldmax : 0.0) : cl->ldown[r]);
		if (r > 0 && c->nsys >= c->p.max_tracks)
			cl->cost[r][cl->nc + r] = CORR_INF;
		for (j = 0; j < m; j++)
			cl->mat[r * m + j] = j < cl->nc || j == cl->nc + r ?
			    cl->cost[r][j] : CORR_INF;
	}
	if (lap_solve(cl->nr, m, cl->mat, cl->col, cl->work) == -1 ||
	    cl->col[0] >= cl->nc)
		return 0;
	return corr_cl_chain(cl, ch);
}

/*
 * Hysteresis: an associated source stays while it agrees, within the
 * looser CORR_HOLD x gate, with its system track predicted to the report
 * time (*cost: d^2 + log det S, as corr_gate). The track still holds the
 * source's previous estimate, which pulls the test toward keeping; the
 * looser gate is meant to keep anyway, and it saves a second fusion per
 * report. A lone contribution always stays (the track follows it).
 */
static int
corr_hold(struct corr *c, const struct corr_src *s, const struct corr_obs *o,
    double *cost)
{
	struct corr_src	*k;
	double		 x[6], P[36], d2, ld;

	*cost = 0.0;
	if (s->sys->ncontrib < 2)
		return 1;
	SLIST_FOREACH(k, &s->sys->contribs, centry)
		if (k != s && !corr_compatible(k->cat, o->cat))
			return 0;
	corr_predict_f(s->sys->cat, (o->t - s->sys->t) * CORR_NS, s->sys->x,
	    s->sys->Pt, x, P);
	if (corr_mdist(o->x, o->P, x, P, &d2, &ld) == -1)
		return 0;
	*cost = d2 + ld;
	return d2 < CORR_HOLD * c->p.gate_chi2;
}

/* Remove source s, detaching it first; an emptied track is dropped. */
static void
corr_src_remove(struct corr *c, struct corr_src *s)
{
	struct corr_sys	*t;

	if (s->sys != NULL) {
		t = corr_detach(s);
		if (t->ncontrib == 0)
			corr_sys_orphan(c, t);
		else {
			corr_sys_refresh(c, t, 1);
			corr_emit(c, t, CORR_UPDATED);
		}
	}
	corr_src_free(c, s);
}

/*
 * Show coasting track t where it is now: its last fused state predicted
 * to the watermark, covariance grown by the process noise. The track
 * itself keeps its last fused state (gating predicts from there).
 */
static void
corr_coast_show(struct corr *c, const struct corr_sys *t)
{
	struct corr_sys		tmp = *t;
	struct tf_picture_track	pt;
	double			Pp[36];

	corr_predict_f(t->cat, (c->now - t->t) * CORR_NS, t->x, t->Pt, tmp.x,
	    Pp);
	geo_cov_pack(Pp, tmp.Pt);
	tmp.t = c->now;
	corr_picture(&tmp, &pt);
	c->emit(c->arg, CORR_UPDATED, &pt);
}

/*
 * Every CORR_COAST_EVERY of event time, re-show the coasting tracks: a
 * dead-reckoned track that nobody updates is still in the picture, and
 * its consumers should see where it is expected, not where it was last.
 */
static void
corr_coast_all(struct corr *c)
{
	struct corr_sys	*t;

	if (c->now < c->next_coast)
		return;
	c->next_coast = c->now > CORR_TMAX - CORR_COAST_EVERY ? CORR_TMAX :
	    c->now + CORR_COAST_EVERY;
	TAILQ_FOREACH(t, &c->coast, qentry)
		if (t->shown && t->t < c->now)
			corr_coast_show(c, t);
}

/* Age out contributions past their deadline, earliest first. */
static void
corr_expire(struct corr *c)
{
	struct corr_sys	*t;

	corr_age_expire(c);
	while ((t = TAILQ_FIRST(&c->coast)) != NULL && t->tend < c->now)
		corr_sys_drop(c, t);
	corr_coast_all(c);
}

/* Move the watermark forward; times out of range do not count. */
static void
corr_watermark(struct corr *c, int64_t t)
{
	if (t < 0 || t > CORR_TMAX)
		return;
	if (!c->have_now || t > c->now) {
		c->now = t;
		c->have_now = 1;
		corr_index_age(c);
	}
}

/*
 * geo_lla_to_ecef and geo_enu_basis at once (the same arithmetic), with
 * one sine and cosine of each angle instead of two.
 */
static void
corr_lla_frame(double lat, double lon, double alt, double x[3],
    double B[3][3])
{
	double	sl, cl, so, co, n;

	sl = sin(lat * GEO_DEG);
	cl = cos(lat * GEO_DEG);
	so = sin(lon * GEO_DEG);
	co = cos(lon * GEO_DEG);
	n = GEO_A / sqrt(1.0 - CORR_E2 * sl * sl);
	x[0] = (n + alt) * cl * co;
	x[1] = (n + alt) * cl * so;
	x[2] = (n * (1.0 - CORR_E2) + alt) * sl;
	geo_enu_basis_sc(sl, cl, so, co, B);
}

/*
 * Check a report (time range, finite numbers) and convert it to ECEF. A
 * covariance that is PSD but singular (a sensor that states zero variance
 * somewhere) gets a tiny diagonal jitter so that it can be factored; one
 * that is not PSD is refused. *ldP is log det P (the factor gives it).
 */
static int
corr_convert(const struct tf_report *r, double x[6], double P[36],
    double B[3][3], double *ldP)
{
	double		 Pe[36], U[36], d[6], Bt[3][3], Pt[TF_COV_N];
	const double	*cov = r->cov;
	int		 i, j;

	if (r->t_ns < 0 || r->t_ns > CORR_TMAX)
		return -1;
	if (!isfinite(r->lat_deg) || !isfinite(r->lon_deg) ||
	    !isfinite(r->alt_m) || fabs(r->lat_deg) > 90.0 ||
	    fabs(r->lon_deg) > 180.0)
		return -1;
	for (i = 0; i < 3; i++)
		if (!isfinite(r->vel[i]))
			return -1;
	for (i = 0; i < TF_COV_N; i++)
		if (!isfinite(r->cov[i]))
			return -1;
	geo_cov_unpack(r->cov, Pe);
	if (corr_ldl(Pe, U, d) == -1) {
		for (i = 0; i < 6; i++)
			Pe[i * 7] += 1e-9 * fabs(Pe[i * 7]) + 1e-6;
		if (corr_ldl(Pe, U, d) == -1)
			return -1;
		geo_cov_pack(Pe, Pt);
		cov = Pt;
	}
	*ldP = corr_ldl_logdet(d);
	corr_lla_frame(r->lat_deg, r->lon_deg, r->alt_m, x, B);
	corr_enu_to_ecef((const double (*)[3])B, r->vel, x + 3);
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			Bt[i][j] = B[j][i];
	corr_rotate((const double (*)[3])Bt, cov, Pt);
	geo_cov_unpack(Pt, P);
	return 0;
}

/* Store a converted report in its source. */
static void
corr_src_set(struct corr *c, struct corr_src *s, const struct tf_report *r,
    const struct corr_obs *o)
{
	struct corr_prof	*p;

	corr_src_period(s, r->t_ns);
	s->t = r->t_ns;
	corr_src_setx(s, o->x);
	geo_cov_pack(o->P, s->Pt);
	s->cat = r->cat;
	s->ident = r->ident;
	s->quality = r->quality;
	if (!corr_label_same(&s->prof->label, &r->label)) {
		p = corr_prof_get(c, s->prof->sensor, &r->label);
		corr_prof_put(c, s->prof);
		s->prof = p;
		if (s->sys != NULL)
			s->sys->kept_ok = 0;
	}
}

static int	corr_displace(struct corr *, struct corr_src *,
		    struct corr_sys *, struct corr_src *);
static void	corr_regate(struct corr *, struct corr_src *);

/*
 * Put source s (state already set) into system track t, or a new one when
 * t is NULL, leaving its previous track and displacing rep.
 */
static void
corr_place(struct corr *c, struct corr_src *s, struct corr_sys *t,
    struct corr_src *rep)
{
	struct corr_sys	*old;

	if (s->sys != NULL) {
		old = corr_detach(s);
		c->st.detached++;
		if (old->ncontrib == 0)
			corr_sys_orphan(c, old);
		else {
			corr_sys_refresh(c, old, 1);
			corr_emit(c, old, CORR_UPDATED);
		}
	}
	if (rep != NULL && corr_displace(c, s, t, rep)) {
		corr_attach(c, t, s);
		corr_sys_refresh(c, t, 1);
		corr_emit(c, t, CORR_UPDATED);
		corr_regate(c, rep);
		return;
	}
	if (t == NULL) {
		t = corr_sys_new(c);
		corr_attach(c, t, s);
		corr_sys_refresh(c, t, 0);
		corr_emit(c, t, CORR_CREATED);
		return;
	}
	corr_attach(c, t, s);
	corr_sys_refresh(c, t, 1);
	corr_emit(c, t, CORR_UPDATED);
}

/*
 * Source rep gives way to s in track t (see corr_may_replace): a
 * renumbering, remembered on both sides, or a reclaim, which undoes one.
 * Returns 1 for a reclaim: rep must then find a new place.
 */
static int
corr_displace(struct corr *c, struct corr_src *s, struct corr_sys *t,
    struct corr_src *rep)
{
	int	reclaim;

	reclaim = s->from == t->id && rep->replaced &&
	    rep->replaced_local == s->local;
	corr_detach(rep);
	if (reclaim) {
		c->st.reclaimed++;
		return 1;
	}
	s->replaced = 1;
	s->replaced_local = rep->local;
	rep->from = t->id;
	c->st.renumbered++;
	return 0;
}

/* Associate a stored, unassociated source afresh. */
static void
corr_regate(struct corr *c, struct corr_src *s)
{
	struct corr_obs		o;
	struct corr_choice	ch;

	corr_src_obs(s, &o);
	corr_gate(c, &o, s, &ch);
	corr_place(c, s, ch.t, NULL);
}

/*
 * Whether s is the most accurate contribution of its track (smallest
 * position variance): the track is where s says, so s anchors it.
 */
static int
corr_anchor(const struct corr_src *s)
{
	const struct corr_src	*k;
	double			 v;

	v = s->Pt[0] + s->Pt[tf_cov_idx(1, 1)] + s->Pt[tf_cov_idx(2, 2)];
	SLIST_FOREACH(k, &s->sys->contribs, centry)
		if (k != s && k->Pt[0] + k->Pt[tf_cov_idx(1, 1)] +
		    k->Pt[tf_cov_idx(2, 2)] < v)
			return 0;
	return 1;
}

/*
 * Decide where report o of source s (NULL: new) goes, changing nothing.
 * Returns 1 to keep s in its track. An associated source that holds
 * (hysteresis) still moves when the cluster's assignment is better by
 * CORR_SWITCH elsewhere: two tracks of a formation that one sensor's
 * report first put in the wrong place get sorted out, and numbers do not
 * flicker over small differences. The anchor of a track never moves that
 * way: moving it would carry the object's number to its neighbour; the
 * less accurate contributions around it move instead. No other place can
 * cost o less than log det P_o (S = P_o + P_t, d^2 >= 0), so when staying
 * costs less than that plus CORR_SWITCH the cluster is not even built:
 * that skips most reports' search. (A chain could still lower the cost
 * of the sources it moves; those find it when they report themselves.)
 */
static int
corr_choose(struct corr *c, const struct corr_obs *o, struct corr_src *s,
    struct corr_choice *ch)
{
	double	dh;

	if (s != NULL && s->sys != NULL && corr_hold(c, s, o, &dh)) {
		if (s->sys->ncontrib < 2 || corr_anchor(s) ||
		    dh - CORR_SWITCH <= o->ldP ||
		    !corr_cluster(c, o, s, ch))
			return 1;
		return !(ch->cost + CORR_SWITCH < dh);
	}
	corr_cluster(c, o, s, ch);
	return 0;
}

/*
 * Carry out a choice: s joins ch->t (or a new track); the sources of the
 * same sensor in the way leave their tracks first, then each takes its
 * place along the chain (each track left is the next one's to take).
 */
static void
corr_apply(struct corr *c, struct corr_src *s, const struct corr_choice *ch)
{
	size_t	i;

	if (ch->nmv == 0) {
		corr_place(c, s, ch->t, ch->rep);
		return;
	}
	c->st.swapped += ch->nmv;
	for (i = 0; i < ch->nmv; i++)
		corr_detach(ch->mv[i]);
	corr_place(c, s, ch->t, NULL);
	for (i = 0; i < ch->nmv; i++)
		corr_place(c, ch->mv[i], ch->mto[i], NULL);
}

/* Count a refusal and return it. */
static enum corr_result
corr_refuse(struct corr *c, enum corr_result res)
{
	if (res == CORR_OLD)
		c->st.old++;
	else if (res == CORR_LIMIT)
		c->st.limit++;
	else
		c->st.invalid++;
	return res;
}

/*
 * What a source gives the picture of its track besides its estimate
 * (corr_picture): corr_sys_idle compares it before and after a report.
 */
struct corr_face {
	const struct corr_prof	*prof;
	float			 quality;
	uint8_t			 cat;
	uint8_t			 ident;
};

/* The picture fields of s, its estimate aside. */
static void
corr_face_get(const struct corr_src *s, struct corr_face *f)
{
	f->prof = s->prof;
	f->quality = s->quality;
	f->cat = s->cat;
	f->ident = s->ident;
}

/*
 * Whether the fields of s that the picture of t shows are as they were
 * (was): the same category, identity and label, and a quality that
 * stays below another contribution's, or the same (the picture shows
 * the highest quality, and the category and identity of the most
 * credible contribution, which quality ranks first).
 */
static int
corr_face_same(const struct corr_sys *t, const struct corr_src *s,
    const struct corr_face *was)
{
	const struct corr_src	*k;
	float			 q = -HUGE_VALF;

	if (s->prof != was->prof || s->cat != was->cat ||
	    s->ident != was->ident)
		return 0;
	if (s->quality == was->quality)
		return 1;
	SLIST_FOREACH(k, &t->contribs, centry)
		if (k != s && k->quality > q)
			q = k->quality;
	return s->quality < q && was->quality < q;
}

/*
 * Whether a report of s, kept in t, can leave t's picture as it is (no
 * fusion, no emission): s carried no weight in t's last fusion, and its
 * new estimate would carry none either. Covariance intersection gives an
 * input no weight when tr(P Y_i) <= 6 at the optimum (P the fused
 * covariance, Y_i the input's information; the six active inputs'
 * traces sum to tr(I) = 6), the condition corr_ci_kept tests with the
 * same tolerance, CORR_CI_KEEP. Here P is t's fused covariance predicted
 * to the report's time, exactly the fusion of the other inputs there
 * when one of them carries all the weight, and within the tolerance's
 * reach when more do. The weights depend on covariances alone, so the
 * report's state, whatever it is, moves nothing; nor do the others,
 * which did not report. The track keeps its last fused state and time,
 * predicted by whoever reads it, as a coasting track's is.
 *
 * A poor sensor (a satellite's or a distant radar's track beside an
 * AEGIS radar's) reports into many multi-sensor tracks it never shapes:
 * those reports cost one factorisation here instead of a fusion of
 * every contribution and an emission.
 */
static int
corr_sys_idle(const struct corr_sys *t, const struct corr_src *s,
    const struct corr_face *was)
{
	const struct corr_src	*k;
	double			 P[36], Ps[36], L[36], Y[36], x[6];
	size_t			 j = 0;

	if (t->csig == 0 || t->ncontrib < 2 || t->ncontrib > CORR_WARM_MAX ||
	    s->t < t->t || !corr_face_same(t, s, was))
		return 0;
	SLIST_FOREACH(k, &t->contribs, centry) {
		if (k == s)
			break;
		j++;
	}
	if (t->cw[j] != 0)
		return 0;
	geo_cov_unpack(s->Pt, Ps);
	if (corr_chol(Ps, L) == -1)
		return 0;
	corr_chol_inv(L, Y);
	corr_predict_f(t->cat, (s->t - t->t) * CORR_NS, t->x, t->Pt, x, P);
	return corr_ci_dot(P, Y) <= 6.0 + CORR_CI_KEEP;
}

/*
 * Source s, kept in its track, reported: count the update, then fuse and
 * show the track unless nothing it shows can change (corr_sys_idle).
 */
static void
corr_keep(struct corr *c, struct corr_src *s, const struct corr_face *was)
{
	struct corr_sys	*t = s->sys;
	uint8_t		 status = t->status;

	corr_bump(t, s->t);
	if (t->status == status && corr_sys_idle(t, s, was)) {
		c->st.idle++;
		return;
	}
	corr_sys_refresh(c, t, 1);
	corr_emit(c, t, CORR_UPDATED);
}

/*
 * One sensor report. Every decision (and every refusal) is taken before
 * anything changes, so a refused report leaves the core as it was.
 */
enum corr_result
corr_report(struct corr *c, const struct tf_report *r)
{
	struct corr_obs		 o;
	struct corr_choice	 ch;
	struct corr_face	 was = { 0 };
	struct corr_src		*s;
	uint32_t		 h;
	int			 keep, sidx, i, fresh;
	double			 bapp[3], B[3][3];

	o.sensor = r->sensor;
	o.t = r->t_ns;
	o.cat = r->cat;
	/*
	 * In a large picture the source's bucket and record are cache
	 * misses: they are asked for first, and the conversion's arithmetic
	 * runs while they come.
	 */
	h = corr_src_hash(r->sensor, r->local_track);
	corr_src_prefetch(c, h);
	if (corr_convert(r, o.x, o.P, B, &o.ldP) == -1)
		return corr_refuse(c, CORR_INVALID);
	s = corr_src_find(c, r->sensor, r->local_track, h);
	sidx = s != NULL ? s->sidx : corr_sensor_find(c, r->sensor);
	o.sidx = sidx;
	corr_bias_ecef(c, sidx, (const double (*)[3])B, bapp);
	for (i = 0; i < 3; i++)
		o.x[i] -= bapp[i];
	if ((s != NULL && r->t_ns < s->t) ||
	    (c->have_now && r->t_ns < c->now - c->p.stale_ns))
		return corr_refuse(c, CORR_OLD);
	if ((s == NULL && c->nsrc >= c->p.max_sources) ||
	    corr_reserve(c) == -1)
		return corr_refuse(c, CORR_LIMIT);
	keep = corr_choose(c, &o, s, &ch);
	if (!keep && ch.t == NULL && c->nsys >= c->p.max_tracks)
		return corr_refuse(c, CORR_LIMIT);
	corr_watermark(c, r->t_ns);
	if ((fresh = s == NULL)) {
		s = corr_src_new(c, r, h);
		if (sidx < 0)
			sidx = corr_sensor_index(c, r->sensor);
	} else
		corr_face_get(s, &was);
	corr_src_set(c, s, r, &o);
	s->sidx = sidx;
	corr_bapp_set(s, bapp);
	if (sidx >= 0) {
		c->sens[sidx].vsum += r->cov[tf_cov_idx(0, 0)] +
		    r->cov[tf_cov_idx(1, 1)];
		c->sens[sidx].nv++;
	}
	if (fresh)
		corr_age_insert(c, s);
	else
		corr_age_update(c, s);
	if (keep)
		corr_keep(c, s, &was);
	else
		corr_apply(c, s, &ch);
	c->st.reports++;
	if (s->sys != NULL)
		corr_bias_sample(c, s, (const double (*)[3])B);
	if (r->t_ns >= c->next_solve) {
		corr_bias_solve(c);
		c->next_solve = r->t_ns + CORR_BIAS_EVERY;
	}
	corr_expire(c);
	return CORR_OK;
}

/* A sensor ended a local track: its contribution goes. */
void
corr_drop(struct corr *c, const struct tf_drop *d)
{
	struct corr_src	*s;
	uint32_t	 h;

	corr_watermark(c, d->t_ns);
	h = corr_src_hash(d->sensor, d->local_track);
	if ((s = corr_src_find(c, d->sensor, d->local_track, h)) != NULL)
		corr_src_remove(c, s);
	corr_expire(c);
}

/* Event time moved on (heartbeat, idle feed): age out what went stale. */
void
corr_advance(struct corr *c, int64_t t)
{
	corr_watermark(c, t);
	corr_expire(c);
}

/* ---- life cycle and queries -------------------------------------------- */

/* The defaults: 6-dof gate at p = 0.999, 15 s stale, 2 km finest cells. */
void
corr_params_default(struct corr_params *p)
{
	memset(p, 0, sizeof(*p));
	p->gate_chi2 = 22.46;
	p->stale_ns = 15LL * 1000000000LL;
	p->coast_ns = 30LL * 1000000000LL;
	p->max_tracks = 100000;
	p->max_sources = 200000;
	p->cell_m = 2000.0;
}

/* Whether params can run a core. */
static int
corr_params_ok(const struct corr_params *p)
{
	return p->gate_chi2 > 0.0 && isfinite(p->gate_chi2) &&
	    p->stale_ns > 0 && p->stale_ns <= CORR_TMAX &&
	    p->coast_ns >= 0 && p->coast_ns <= CORR_TMAX &&
	    p->cell_m >= 1.0 && isfinite(p->cell_m) &&
	    p->max_tracks > 0 && p->max_sources > 0;
}

/* Smallest power of two >= n, at least 16, capped at CORR_BUCKETS. */
static size_t
corr_pow2(size_t n)
{
	size_t	v = 16;

	while (v < n && v < CORR_BUCKETS)
		v <<= 1;
	return v;
}

/* A new core; NULL if params are unusable or memory is short. */
struct corr *
corr_new(const struct corr_params *p, corr_emit_fn emit, void *arg)
{
	struct corr		*c;
	struct corr_bias	*b;
	size_t			 ns, nc;
	int			 i;

	if (emit == NULL || !corr_params_ok(p))
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->p = *p;
	corr_index_edges(c);
	c->emit = emit;
	c->arg = arg;
	ns = corr_pow2(p->max_sources);
	nc = corr_pow2(p->max_tracks);
	corr_arena_init(&c->sbarena, ns, sizeof(*c->sbuckets));
	corr_arena_init(&c->cbarena, nc + nc / 2, sizeof(*c->icells));
	corr_arena_init(&c->barena, 1, sizeof(struct corr_bias));
	if (c->sbarena.base == NULL || c->cbarena.base == NULL ||
	    (b = corr_arena_take(&c->barena, sizeof(*b))) == NULL) {
		corr_free(c);
		return NULL;
	}
	c->sens = b->sens;
	c->pair = b->pair;
	c->bN = b->bN;
	c->br = b->br;
	c->sbuckets = c->sbarena.base;
	c->icells = c->cbarena.base;
	c->smax = c->sbarena.n;
	c->cmax = c->cbarena.n / 3 * 2;
	c->smask = (c->smax < CORR_HASH0 ? c->smax : CORR_HASH0) - 1;
	c->cmask = (c->cmax < CORR_HASH0 ? c->cmax : CORR_HASH0) - 1;
	/* One more than the limits: a report may need a record to refuse. */
	corr_arena_init(&c->sarena, p->max_sources + 1,
	    sizeof(struct corr_src));
	corr_arena_init(&c->tarena, p->max_tracks + 1, sizeof(struct corr_sys));
	for (i = 0; i < CORR_ICLASSES; i++)
		corr_arena_init(&c->iarena[i], p->max_tracks + CORR_IRESERVE,
		    CORR_IBSIZE(i));
	corr_arena_init(&c->parena, p->max_sources + p->max_tracks +
	    CORR_PRESERVE, sizeof(struct corr_prof));
	/*
	 * The wheels' list heads (awheel, iwheel) are empty as calloc left
	 * them (LIST_INIT is a NULL): a page of them is touched when a slot
	 * is first used, not here.
	 */
	LIST_INIT(&c->aover);
	c->aomin = INT64_MAX;
	c->asorted = -1;
	TAILQ_INIT(&c->tracks);
	TAILQ_INIT(&c->coast);
	LIST_INIT(&c->iglobal);
	c->next_id = 1;
	return c;
}

/* Free the core and everything in it; emits nothing. */
void
corr_free(struct corr *c)
{
	struct corr_slab	*sl, *next;
	int			 i;

	if (c == NULL)
		return;
	for (sl = c->slabs; sl != NULL; sl = next) {
		next = sl->next;
		free(sl);
	}
	corr_arena_free(&c->sarena);
	corr_arena_free(&c->tarena);
	for (i = 0; i < CORR_ICLASSES; i++)
		corr_arena_free(&c->iarena[i]);
	corr_arena_free(&c->parena);
	corr_arena_free(&c->sbarena);
	corr_arena_free(&c->cbarena);
	corr_arena_free(&c->barena);
	free(c);
}

/*
 * New parameters (config reload). Unusable ones are ignored. The hash
 * tables keep the size they got at corr_new(): longer chains, same
 * answers (a cell the index's full table has no room for puts its
 * tracks on the global list). A new cell size re-files every track in
 * the index.
 */
void
corr_set_params(struct corr *c, const struct corr_params *p)
{
	struct corr_sys	*t;
	double		 old = c->p.cell_m, gate = c->p.gate_chi2;
	int64_t		 stale = c->p.stale_ns;

	if (!corr_params_ok(p))
		return;
	c->p = *p;
	if (p->stale_ns != stale)
		corr_age_resort(c);
	corr_index_edges(c);
	if (p->cell_m != old || p->gate_chi2 != gate)
		TAILQ_FOREACH(t, &c->tracks, entry)
			corr_index(c, t, 1);
	corr_expire(c);
}

/* Number of system tracks in the picture (emitted, not yet dropped). */
size_t
corr_count(const struct corr *c)
{
	return c->nshown;
}

/* Number of source tracks. */
size_t
corr_sources(const struct corr *c)
{
	return c->nsrc;
}

/* Visit every system track in the picture, ascending track_id. */
void
corr_foreach(struct corr *c, void (*fn)(void *,
    const struct tf_picture_track *), void *arg)
{
	struct corr_sys		*t;
	struct tf_picture_track	 pt;

	TAILQ_FOREACH(t, &c->tracks, entry) {
		if (!t->shown)
			continue;
		corr_picture(t, &pt);
		fn(arg, &pt);
	}
}

/* Name of a change, for logs. */
const char *
corr_change_name(enum corr_change ch)
{
	switch (ch) {
	case CORR_CREATED:
		return "created";
	case CORR_UPDATED:
		return "updated";
	case CORR_DROPPED:
		return "dropped";
	}
	return "unknown";
}

/* Name of a result, for logs. */
const char *
corr_result_name(enum corr_result res)
{
	switch (res) {
	case CORR_OK:
		return "ok";
	case CORR_LIMIT:
		return "limit";
	case CORR_OLD:
		return "old";
	case CORR_INVALID:
		return "invalid";
	}
	return "unknown";
}

/* Counters since corr_new(). */
void
corr_get_stats(const struct corr *c, struct corr_stats *st)
{
	*st = c->st;
}

/* The event-time watermark. */
int64_t
corr_now(const struct corr *c)
{
	return c->have_now ? c->now : 0;
}
