/*
 * Release: fuse per release class, so nothing leaks (issue 4).
 *
 * Filtering a fused track after the fact leaks (its position, covariance,
 * existence and grouping carry what the recipient may not see), so the
 * filter sits in FRONT of correlation: each release class has its own
 * correlator, fed only what its policy admits, sanitized. The correlator
 * stays policy-blind.
 *
 * Noninterference is the design rule: everything a class's correlator
 * sees, including the class's own event time, is a function of what the
 * class may receive plus the heartbeats (which advance time for everyone).
 * A denied contribution changes nothing in the class, except that a source
 * the class held and may no longer see is dropped there (the recipient may
 * know that it lost the source, not why).
 *
 * Minimum delay: a per-class heap ordered by (release time, arrival) holds
 * an admitted contribution until the class's event time reaches t + delay;
 * a class with a delay runs its correlator's clock that much behind.
 *
 * Retention: the latest accepted report of every live source (bounded by
 * the full correlator's max_sources) is kept with a bit per class that
 * holds it, so a policy change can rebuild a class's picture from what
 * the new policy admits, and a source that stops matching is dropped in
 * exactly the classes that held it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "trackfuse/log.h"
#include "trackfuse/policy.h"
#include "trackfuse/release.h"

#define RELEASE_BUCKETS_MIN	1024
#define RELEASE_PSEUDO_PREFIX	"ANON-"

/* A contribution waiting for its class's clock (minimum delay). */
struct release_item {
	int64_t		 rel_t;		/* due when the class time reaches it */
	uint64_t	 seq;		/* arrival order, ties */
	int		 is_drop;
	struct tf_report r;		/* report, or drop in sensor/track/t */
};

struct release_class {
	int		 used;
	unsigned	 slot;
	char		 key[POLICY_KEYLEN];
	uint64_t	 gen;
	struct release	*rel;
	struct corr	*corr;
	unsigned	 rep;		/* a member recipient, for evaluation */
	int64_t		 now;		/* class event time */
	int64_t		 delay_max;	/* longest delay admitted so far */
	struct release_item *heap;
	size_t		 nheap, capheap;
	uint64_t	 seq;
	struct release_count counts[RELEASE_MAX_RULES];
	unsigned	 ncounts;
};

/* A live source track: its latest accepted report, and who holds it. */
struct release_src {
	struct release_src *next;
	struct tf_report r;
	char		 origin[TF_NATION_LEN];
	int		 federated;
	char		 from_daemon[TF_NATION_LEN];
	uint64_t	 mask;		/* classes that hold it */
	uint64_t	 strip;		/* ... under a pseudonym */
};

struct release {
	struct release_out	 out;
	struct corr_params	 params;
	struct policy_set	*set;
	char			 nation[TF_NATION_LEN];
	struct release_class	 cls[RELEASE_MAX_CLASSES];
	struct release_recipient *rcp;
	unsigned		 nrcp;
	struct release_src	**b;
	size_t			 nb, nsrc;
	uint64_t		 gen;
	int			 halted;
	int64_t			 hb;		/* latest heartbeat time */
};

static void	release_class_apply(struct release_class *,
		    const struct release_item *);

/* Copy src into a fixed-size field, truncating. */
static void
release_strlcpy(char *dst, const char *src, size_t len)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* corr_emit_fn of a class: class-local ids out, multi-owner label fixed. */
static void
release_emit(void *arg, enum corr_change ch, const struct tf_picture_track *pt)
{
	struct release_class	*c = arg;
	struct release		*rel = c->rel;
	struct tf_picture_track	 t;
	uint64_t		 id;

	id = (c->gen << RELEASE_GEN_SHIFT) | pt->track_id;
	if (ch == CORR_DROPPED) {
		rel->out.drop(rel->out.arg, c->slot, id, pt->t_ns);
		return;
	}
	t = *pt;
	t.track_id = id;
	/*
	 * A product of several owners: corr leaves the owner empty; it is
	 * this daemon's product (classification max, releasable-to the
	 * intersection, as corr made them).
	 */
	if (t.label.owner[0] == '\0' && t.nnations > 0)
		release_strlcpy(t.label.owner, rel->nation,
		    sizeof(t.label.owner));
	rel->out.update(rel->out.arg, c->slot, &t);
}

/* Start class slot s with key and a fresh correlator. */
static void
release_class_init(struct release *rel, unsigned s, const char *key)
{
	struct release_class	*c = &rel->cls[s];

	memset(c, 0, sizeof(*c));
	c->used = 1;
	c->slot = s;
	c->rel = rel;
	c->gen = s == RELEASE_CLASS_FULL ? 0 : ++rel->gen;
	release_strlcpy(c->key, key, sizeof(c->key));
	if ((c->corr = corr_new(&rel->params, release_emit, c)) == NULL)
		fatalx("%s: corr_new failed", __func__);
}

/* Free class slot s and forget which sources it held. */
static void
release_class_fini(struct release *rel, unsigned s)
{
	struct release_class	*c = &rel->cls[s];
	struct release_src	*src;
	uint64_t		 bit = 1ULL << s;
	size_t			 i;

	if (!c->used)
		return;
	corr_free(c->corr);
	free(c->heap);
	memset(c, 0, sizeof(*c));
	for (i = 0; i < rel->nb; i++)
		for (src = rel->b[i]; src != NULL; src = src->next)
			src->mask &= ~bit, src->strip &= ~bit;
}

/* Create the stage with the full class; out is copied. */
struct release *
release_new(const struct corr_params *params, const struct release_out *out)
{
	struct release	*rel;

	if ((rel = calloc(1, sizeof(*rel))) == NULL ||
	    (rel->b = calloc(RELEASE_BUCKETS_MIN, sizeof(*rel->b))) == NULL)
		fatal("%s: calloc", __func__);
	rel->nb = RELEASE_BUCKETS_MIN;
	rel->out = *out;
	rel->params = *params;
	release_class_init(rel, RELEASE_CLASS_FULL, POLICY_CLASS_FULL);
	return rel;
}

/* Free the stage, its classes, sources and policy set. */
void
release_free(struct release *rel)
{
	struct release_src	*src, *next;
	size_t			 i;

	if (rel == NULL)
		return;
	for (i = 0; i < RELEASE_MAX_CLASSES; i++)
		release_class_fini(rel, i);
	for (i = 0; i < rel->nb; i++)
		for (src = rel->b[i]; src != NULL; src = next) {
			next = src->next;
			free(src);
		}
	free(rel->b);
	free(rel->rcp);
	policy_free(rel->set);
	free(rel);
}

/* Hash of a source (sensor id, local track). */
static size_t
release_src_hash(const char *sensor, uint32_t track, size_t nb)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *sensor != '\0'; sensor++)
		h = (h ^ (uint8_t)*sensor) * 1099511628211ULL;
	h = (h ^ track) * 1099511628211ULL;
	h ^= h >> 29;
	return (size_t)(h & (nb - 1));
}

/* The link pointing at source (sensor, track), or at the chain's end. */
static struct release_src **
release_src_find(struct release *rel, const char *sensor, uint32_t track)
{
	struct release_src	**pp;

	pp = &rel->b[release_src_hash(sensor, track, rel->nb)];
	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->r.local_track == track &&
		    strcmp((*pp)->r.sensor, sensor) == 0)
			break;
	return pp;
}

/* Double the source buckets when chains grow; keep them if out of memory. */
static void
release_src_grow(struct release *rel)
{
	struct release_src	**nb, *src, *next;
	size_t			  i, n = rel->nb * 2, k;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < rel->nb; i++)
		for (src = rel->b[i]; src != NULL; src = next) {
			next = src->next;
			k = release_src_hash(src->r.sensor, src->r.local_track,
			    n);
			src->next = nb[k];
			nb[k] = src;
		}
	free(rel->b);
	rel->b = nb;
	rel->nb = n;
}

/* Retain r as its source's latest report; NULL over the bound. */
static struct release_src *
release_src_put(struct release *rel, const struct config_identity *ident,
    const struct tf_report *r)
{
	struct release_src	**pp, *src;

	pp = release_src_find(rel, r->sensor, r->local_track);
	if ((src = *pp) == NULL) {
		if (rel->nsrc >= rel->params.max_sources)
			return NULL;
		if ((src = calloc(1, sizeof(*src))) == NULL)
			return NULL;
		*pp = src;
		rel->nsrc++;
	}
	src->r = *r;
	release_strlcpy(src->origin, ident->nation, sizeof(src->origin));
	src->federated = ident->federation;
	release_strlcpy(src->from_daemon, ident->peer_daemon_nation,
	    sizeof(src->from_daemon));
	if (rel->nsrc > rel->nb * 2)
		release_src_grow(rel);
	return src;
}

/* The policy view of a retained source. */
static void
release_contrib(const struct release_src *src, struct policy_contrib *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->label = src->r.label;
	memcpy(pc->origin, src->origin, sizeof(pc->origin));
	pc->cat = src->r.cat;
	pc->lat_deg = src->r.lat_deg;
	pc->lon_deg = src->r.lon_deg;
	pc->t_ns = src->r.t_ns;
	pc->federated = src->federated;
	memcpy(pc->from_daemon, src->from_daemon, sizeof(pc->from_daemon));
}

/* Keyed pseudonym of a sensor inside class c: stable, not invertible. */
static void
release_pseudonym(const struct release_class *c, const char *sensor,
    char *out, size_t len)
{
	unsigned char	md[SHA256_DIGEST_LENGTH];
	char		buf[POLICY_KEYLEN + TF_ID_LEN + 2];
	int		n;

	n = snprintf(buf, sizeof(buf), "%s/%s", c->key, sensor);
	SHA256((const unsigned char *)buf, (size_t)n, md);
	snprintf(out, len, RELEASE_PSEUDO_PREFIX "%02x%02x%02x%02x%02x%02x"
	    "%02x%02x", md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7]);
}

/*
 * Apply the owner's sanitizers to a copy of a report: a coarsened
 * position (its covariance widened by the grid's uniform variance, so the
 * core does not trust the snapped position more than it is worth) and a
 * pseudonym for the sensor.
 */
static void
release_sanitize(const struct release_class *c,
    const struct policy_sanitize *san, struct tf_report *r)
{
	double	lat, lon, g;

	if (san->coarsen_m > 0) {
		policy_coarsen(r->lat_deg, r->lon_deg, san->coarsen_m,
		    &lat, &lon);
		r->lat_deg = lat;
		r->lon_deg = lon;
		g = (double)san->coarsen_m;
		r->cov[tf_cov_idx(0, 0)] += g * g / 12.0;
		r->cov[tf_cov_idx(1, 1)] += g * g / 12.0;
	}
	if (san->strip_sensor)
		release_pseudonym(c, r->sensor, r->sensor, sizeof(r->sensor));
}

/* Is heap item a due before b? */
static int
release_item_before(const struct release_item *a, const struct release_item *b)
{
	if (a->rel_t != b->rel_t)
		return a->rel_t < b->rel_t;
	return a->seq < b->seq;
}

/* Swap two heap items. */
static void
release_heap_swap(struct release_item *h, size_t i, size_t j)
{
	struct release_item	t = h[i];

	h[i] = h[j];
	h[j] = t;
}

/* Push an item on c's heap; -1 over the bound or out of memory. */
static int
release_heap_push(struct release_class *c, const struct release_item *it)
{
	struct release_item	*nh;
	size_t			 i, ncap;

	if (c->nheap >= c->rel->params.max_sources)
		return -1;
	if (c->nheap == c->capheap) {
		ncap = c->capheap > 0 ? c->capheap * 2 : 256;
		if ((nh = reallocarray(c->heap, ncap, sizeof(*nh))) == NULL)
			return -1;
		c->heap = nh;
		c->capheap = ncap;
	}
	i = c->nheap++;
	c->heap[i] = *it;
	while (i > 0 &&
	    release_item_before(&c->heap[i], &c->heap[(i - 1) / 2])) {
		release_heap_swap(c->heap, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return 0;
}

/* Pop the earliest item of c's heap into it. */
static void
release_heap_pop(struct release_class *c, struct release_item *it)
{
	size_t	i = 0, l, m;

	*it = c->heap[0];
	c->heap[0] = c->heap[--c->nheap];
	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < c->nheap &&
		    release_item_before(&c->heap[l], &c->heap[m]))
			m = l;
		if (l + 1 < c->nheap &&
		    release_item_before(&c->heap[l + 1], &c->heap[m]))
			m = l + 1;
		if (m == i)
			break;
		release_heap_swap(c->heap, i, m);
		i = m;
	}
}

/* Hand one due contribution to the class's correlator. */
static void
release_class_apply(struct release_class *c, const struct release_item *it)
{
	struct tf_drop	d;

	if (!it->is_drop) {
		(void)corr_report(c->corr, &it->r);
		return;
	}
	memset(&d, 0, sizeof(d));
	memcpy(d.sensor, it->r.sensor, sizeof(d.sensor));
	d.local_track = it->r.local_track;
	d.t_ns = it->r.t_ns;
	corr_drop(c->corr, &d);
}

/* Move class time to t and release every contribution now due. */
static void
release_class_time(struct release_class *c, int64_t t)
{
	struct release_item	it;

	if (t > c->now)
		c->now = t;
	while (c->nheap > 0 && c->heap[0].rel_t <= c->now) {
		release_heap_pop(c, &it);
		release_class_apply(c, &it);
	}
}

/* Queue (or apply at once, if due) a contribution for class c. */
static void
release_class_put(struct release_class *c, struct release_item *it)
{
	release_class_time(c, it->r.t_ns);
	it->seq = c->seq++;
	if (it->rel_t <= c->now) {
		release_class_apply(c, it);
		return;
	}
	if (release_heap_push(c, it) == -1)
		log_warnx("release: delay queue full class=%u sensor=%s "
		    "track=%u; contribution withheld", c->slot, it->r.sensor,
		    it->r.local_track);
}

/* Queue a drop of src for class c (it held the source). */
static void
release_class_drop(struct release_class *c, struct release_src *src,
    int64_t t)
{
	struct release_item	it;
	uint64_t		bit = 1ULL << c->slot;

	memset(&it, 0, sizeof(it));
	it.is_drop = 1;
	if (src->strip & bit)
		release_pseudonym(c, src->r.sensor, it.r.sensor,
		    sizeof(it.r.sensor));
	else
		memcpy(it.r.sensor, src->r.sensor, sizeof(it.r.sensor));
	it.r.local_track = src->r.local_track;
	it.r.t_ns = t;
	/* Never ahead of a delayed report of the same source. */
	it.rel_t = t + c->delay_max;
	src->mask &= ~bit;
	src->strip &= ~bit;
	release_class_put(c, &it);
}

/* Count one decision for the audit, by rule (or OWNER/default-deny). */
static void
release_count(struct release_class *c, const struct policy_decision *d,
    const char *owner)
{
	struct release_count	*k;
	char			 rule[sizeof(k->rule)];
	unsigned		 i;

	if (d->nrules > 0)
		policy_rule_id_str(&d->rules[0], rule);
	else
		snprintf(rule, sizeof(rule), "%s/default-deny",
		    owner[0] != '\0' ? owner : "-");
	for (i = 0; i < c->ncounts; i++)
		if (strcmp(c->counts[i].rule, rule) == 0)
			break;
	if (i == c->ncounts) {
		if (c->ncounts == RELEASE_MAX_RULES)
			i = RELEASE_MAX_RULES - 1;	/* lumped into the last */
		else
			release_strlcpy(c->counts[c->ncounts++].rule, rule,
			    sizeof(c->counts[0].rule));
	}
	k = &c->counts[i];
	if (d->allowed)
		k->released++;
	else
		k->withheld++;
}

/* Decide one source's latest report for class c and act on it. */
static void
release_class_report(struct release *rel, struct release_class *c,
    struct release_src *src)
{
	struct policy_contrib	 pc;
	struct policy_recipient	 pr;
	struct policy_decision	 d;
	struct release_item	 it;
	const struct release_recipient *rr = &rel->rcp[c->rep];
	uint64_t		 bit = 1ULL << c->slot;

	release_contrib(src, &pc);
	pr.id = rr->id;
	pr.nation = rr->nation;
	pr.has_secret = rr->secretlen > 0;
	policy_evaluate(rel->set, &pc, &pr, rel->nation, &d);
	release_count(c, &d, pc.label.owner);
	if (!d.allowed || rel->halted) {
		if (src->mask & bit)
			release_class_drop(c, src, src->r.t_ns);
		return;
	}
	memset(&it, 0, sizeof(it));
	it.r = src->r;
	release_sanitize(c, &d.san, &it.r);
	if (d.san.delay_ns > c->delay_max)
		c->delay_max = d.san.delay_ns;
	it.rel_t = it.r.t_ns + d.san.delay_ns;
	src->mask |= bit;
	if (d.san.strip_sensor)
		src->strip |= bit;
	else
		src->strip &= ~bit;
	release_class_put(c, &it);
}

/* An accepted report: the full class first, then each class that may. */
enum corr_result
release_report(struct release *rel, const struct config_identity *ident,
    const struct tf_report *r)
{
	struct release_src	*src;
	enum corr_result	 res;
	unsigned		 i;

	if ((res = corr_report(rel->cls[RELEASE_CLASS_FULL].corr, r)) !=
	    CORR_OK)
		return res;
	if ((src = release_src_put(rel, ident, r)) == NULL) {
		log_debug("%s: source not retained sensor=%s", __func__,
		    r->sensor);
		return CORR_OK;
	}
	if (rel->set == NULL)
		return CORR_OK;
	for (i = 1; i < RELEASE_MAX_CLASSES; i++)
		if (rel->cls[i].used)
			release_class_report(rel, &rel->cls[i], src);
	return CORR_OK;
}

/* A sensor ended a track: the full class, and each class that held it. */
void
release_drop(struct release *rel, const struct tf_drop *d)
{
	struct release_src	**pp, *src;
	unsigned		 i;

	corr_drop(rel->cls[RELEASE_CLASS_FULL].corr, d);
	pp = release_src_find(rel, d->sensor, d->local_track);
	if ((src = *pp) == NULL)
		return;
	for (i = 1; i < RELEASE_MAX_CLASSES; i++)
		if (rel->cls[i].used && (src->mask & (1ULL << i)))
			release_class_drop(&rel->cls[i], src, d->t_ns);
	*pp = src->next;
	rel->nsrc--;
	free(src);
}

/* Advance class c to t; a delayed class's core runs delay_max behind. */
static void
release_class_advance(struct release_class *c, int64_t t)
{
	release_class_time(c, t);
	if (t - c->delay_max > 0)
		corr_advance(c->corr, t - c->delay_max);
}

/* A heartbeat's event time moves every class. */
void
release_advance(struct release *rel, int64_t t)
{
	unsigned	i;

	if (t > rel->hb)
		rel->hb = t;
	for (i = 0; i < RELEASE_MAX_CLASSES; i++)
		if (rel->cls[i].used)
			release_class_advance(&rel->cls[i], t);
}

/* Fail closed: every recipient class stops receiving. */
void
release_halt(struct release *rel)
{
	rel->halted = 1;
}

/* Has release been halted? */
int
release_halted(const struct release *rel)
{
	return rel->halted;
}

/* Compare two sources for the deterministic rebuild order. */
static int
release_src_cmp(const void *a, const void *b)
{
	const struct release_src	*x, *y;
	int				 c;

	x = *(const struct release_src *const *)a;
	y = *(const struct release_src *const *)b;
	if (x->r.t_ns != y->r.t_ns)
		return x->r.t_ns < y->r.t_ns ? -1 : 1;
	if ((c = strcmp(x->r.sensor, y->r.sensor)) != 0)
		return c;
	return (x->r.local_track > y->r.local_track) -
	    (x->r.local_track < y->r.local_track);
}

/* Feed a new class every retained source, oldest first. */
static void
release_class_fill(struct release *rel, struct release_class *c)
{
	struct release_src	**v, *src;
	size_t			  i, n = 0;

	if (rel->nsrc > 0 &&
	    (v = reallocarray(NULL, rel->nsrc, sizeof(*v))) != NULL) {
		for (i = 0; i < rel->nb; i++)
			for (src = rel->b[i]; src != NULL; src = src->next)
				v[n++] = src;
		qsort(v, n, sizeof(*v), release_src_cmp);
		for (i = 0; i < n; i++)
			release_class_report(rel, c, v[i]);
		free(v);
	}
	release_class_advance(c, rel->hb > c->now ? rel->hb : c->now);
}

/* Copy the config's subscribers into a new recipient table. */
static unsigned
release_recipients(const struct config *cfg, struct release_recipient **out)
{
	struct release_recipient	*v;
	const struct config_identity	*id;
	unsigned			 i, n = 0;

	if ((v = calloc(cfg->nidentities + 1, sizeof(*v))) == NULL)
		fatal("%s: calloc", __func__);
	for (i = 0; i < cfg->nidentities; i++) {
		id = &cfg->identities[i];
		if (id->role != CONFIG_ROLE_SUBSCRIBER)
			continue;
		release_strlcpy(v[n].id, id->id, sizeof(v[n].id));
		release_strlcpy(v[n].nation, id->nation, sizeof(v[n].nation));
		if (id->secret != NULL && id->secretlen <= CONFIG_SECRET_MAX) {
			memcpy(v[n].secret, id->secret, id->secretlen);
			v[n].secretlen = id->secretlen;
		}	/* else it gets nothing; policy_load() said so */
		n++;
	}
	*out = v;
	return n;
}

/* Slot of a used recipient class with key; RELEASE_NONE if none. */
static unsigned
release_slot_of(const struct release *rel, const char *key)
{
	unsigned	i;

	for (i = 1; i < RELEASE_MAX_CLASSES; i++)
		if (rel->cls[i].used && strcmp(rel->cls[i].key, key) == 0)
			return i;
	return RELEASE_NONE;
}

/* A free slot; RELEASE_NONE if all are taken. */
static unsigned
release_slot_free(const struct release *rel)
{
	unsigned	i;

	for (i = 1; i < RELEASE_MAX_CLASSES; i++)
		if (!rel->cls[i].used)
			return i;
	return RELEASE_NONE;
}

/*
 * Assign each recipient its class under the current set: classes whose
 * key survives keep their slot and picture; the others are freed; new
 * keys get new slots, built from the retained sources.
 */
static void
release_regroup(struct release *rel, char (*keys)[POLICY_KEYLEN])
{
	int		 keep[RELEASE_MAX_CLASSES];
	int		 fresh[RELEASE_MAX_CLASSES];
	unsigned	 i, j, s;

	memset(keep, 0, sizeof(keep));
	memset(fresh, 0, sizeof(fresh));
	for (i = 0; i < rel->nrcp; i++)
		if ((s = release_slot_of(rel, keys[i])) != RELEASE_NONE)
			keep[s] = 1;
	for (j = 1; j < RELEASE_MAX_CLASSES; j++)
		if (rel->cls[j].used && !keep[j]) {
			release_class_fini(rel, j);
			rel->out.rebuild_begin(rel->out.arg, j);  /* empty it */
		}
	for (i = 0; i < rel->nrcp; i++) {
		if ((s = release_slot_of(rel, keys[i])) == RELEASE_NONE) {
			if ((s = release_slot_free(rel)) == RELEASE_NONE) {
				log_warnx("release: too many release classes "
				    "id=%s; it gets nothing", rel->rcp[i].id);
				rel->rcp[i].cls = RELEASE_NONE;
				continue;
			}
			release_class_init(rel, s, keys[i]);
			rel->cls[s].rep = i;
			fresh[s] = 1;
		} else if (!fresh[s] && keep[s] == 1) {
			rel->cls[s].rep = i;	/* first member represents */
			keep[s] = 2;
		}
		rel->rcp[i].cls = s;
	}
	for (j = 1; j < RELEASE_MAX_CLASSES; j++)
		if (fresh[j]) {
			rel->out.rebuild_begin(rel->out.arg, j);
			release_class_fill(rel, &rel->cls[j]);
		}
}

/* Swap in a policy set and the config's subscribers (see release.h). */
void
release_set_policy(struct release *rel, const struct config *cfg,
    struct policy_set *set)
{
	struct policy_recipient	 pr;
	char			(*keys)[POLICY_KEYLEN];
	unsigned		 i;

	policy_free(rel->set);
	rel->set = set;
	release_strlcpy(rel->nation, cfg->nation, sizeof(rel->nation));
	free(rel->rcp);
	rel->nrcp = release_recipients(cfg, &rel->rcp);
	if ((keys = calloc(rel->nrcp + 1, sizeof(*keys))) == NULL)
		fatal("%s: calloc", __func__);
	for (i = 0; i < rel->nrcp; i++) {
		pr.id = rel->rcp[i].id;
		pr.nation = rel->rcp[i].nation;
		pr.has_secret = rel->rcp[i].secretlen > 0;
		policy_class_key(set, &pr, rel->nation, keys[i]);
	}
	release_regroup(rel, keys);
	free(keys);
	rel->out.rebuild_end(rel->out.arg);
}

/* The policy set in force; NULL before the first. */
const struct policy_set *
release_policy(const struct release *rel)
{
	return rel->set;
}

/* New correlator parameters for every class (reload). */
void
release_set_params(struct release *rel, const struct corr_params *p)
{
	unsigned	i;

	rel->params = *p;
	for (i = 0; i < RELEASE_MAX_CLASSES; i++)
		if (rel->cls[i].used)
			corr_set_params(rel->cls[i].corr, p);
}

/* The full class's correlator. */
struct corr *
release_full_corr(const struct release *rel)
{
	return rel->cls[RELEASE_CLASS_FULL].corr;
}

/* The correlator of class slot s; NULL if unused. */
struct corr *
release_class_corr(const struct release *rel, unsigned s)
{
	if (s >= RELEASE_MAX_CLASSES || !rel->cls[s].used)
		return NULL;
	return rel->cls[s].corr;
}

/* Recipient index of subscriber id. */
unsigned
release_class(const struct release *rel, const char *id)
{
	unsigned	i;

	for (i = 0; i < rel->nrcp; i++)
		if (strcmp(rel->rcp[i].id, id) == 0)
			return i;
	return RELEASE_NONE;
}

/* Number of recipients. */
unsigned
release_nrecipients(const struct release *rel)
{
	return rel->nrcp;
}

/* Recipient i; NULL past the end. */
const struct release_recipient *
release_recipient(const struct release *rel, unsigned i)
{
	return i < rel->nrcp ? &rel->rcp[i] : NULL;
}

/* Live class slots, the full one included. */
unsigned
release_nclasses(const struct release *rel)
{
	unsigned	i, n = 0;

	for (i = 0; i < RELEASE_MAX_CLASSES; i++)
		n += rel->cls[i].used != 0;
	return n;
}

/* Visit every (recipient, rule) count since the last reset. */
void
release_foreach_count(const struct release *rel,
    void (*fn)(void *, const char *, const struct release_count *), void *arg)
{
	const struct release_class	*c;
	unsigned			 i, k;

	for (i = 0; i < rel->nrcp; i++) {
		if (rel->rcp[i].cls == RELEASE_NONE)
			continue;
		c = &rel->cls[rel->rcp[i].cls];
		for (k = 0; k < c->ncounts; k++)
			fn(arg, rel->rcp[i].id, &c->counts[k]);
	}
}

/* Start a new counting interval. */
void
release_counts_reset(struct release *rel)
{
	unsigned	i;

	for (i = 0; i < RELEASE_MAX_CLASSES; i++)
		rel->cls[i].ncounts = 0;
}

/* Contributions waiting for their delay, over all classes. */
size_t
release_pending(const struct release *rel)
{
	size_t		n = 0;
	unsigned	i;

	for (i = 0; i < RELEASE_MAX_CLASSES; i++)
		n += rel->cls[i].nheap;
	return n;
}

/*
 * A recipient's id of a class-local track: HMAC-SHA256 keyed with the
 * recipient's secret over the big-endian local id, first 63 bits, never
 * 0. Without the secret, two recipients' pictures cannot be cross-matched.
 */
uint64_t
release_scoped_id(const unsigned char *key, size_t keylen, uint64_t local)
{
	unsigned char	msg[8], md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;
	uint64_t	id = 0;
	int		i;

	for (i = 0; i < 8; i++)
		msg[i] = (unsigned char)(local >> (56 - 8 * i));
	if (HMAC(EVP_sha256(), key, (int)keylen, msg, sizeof(msg), md,
	    &mdlen) == NULL)
		fatalx("%s: HMAC failed", __func__);
	for (i = 0; i < 8; i++)
		id = (id << 8) | md[i];
	id &= 0x7fffffffffffffffULL;
	return id != 0 ? id : 1;
}
