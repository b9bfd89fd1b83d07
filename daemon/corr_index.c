/*
 * The correlation core's spatial index: system tracks filed in ECEF
 * cells by how far they can be within a horizon (their reach), in levels
 * of cell size and wheels of horizons, so that a report finds the tracks
 * that may gate with it without a scan of all of them.
 */
#include "corr_priv.h"

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
void
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
void
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
void
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
void
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
void
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
struct corr_sys *
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
