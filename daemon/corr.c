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
#include "corr_priv.h"

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
void
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
void *
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
 * covariance, Y_i the input's information; the weighted inputs' traces
 * sum to tr(I) = 6): corr_ci_idle tests that, with the tolerance
 * corr_ci_kept allows every input. Here P is t's fused covariance predicted
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
	double			 P[36], Ps[36], x[6];
	size_t			 j = 0;

	if (t->csig == 0 || t->ncontrib < 2 || t->ncontrib > CORR_WARM_MAX ||
	    s->t < t->t)
		return 0;
	SLIST_FOREACH(k, &t->contribs, centry) {
		if (k == s)
			break;
		j++;
	}
	if (t->cw[j] != 0 || !corr_face_same(t, s, was))
		return 0;
	geo_cov_unpack(s->Pt, Ps);
	corr_predict_f(t->cat, (s->t - t->t) * CORR_NS, t->x, t->Pt, x, P);
	return corr_ci_idle(P, Ps);
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
