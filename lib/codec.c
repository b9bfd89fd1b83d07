/*
 * Conversion between protobuf-c messages and the plain C track types.
 *
 * Decoding is where a peer's input is judged: every field is checked and
 * the first fault found is described in err precisely enough for an
 * operator to see what the sender got wrong. Peer strings are quoted with
 * anything unprintable replaced, and cut short, before they reach err.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trackfuse/codec.h"

#define CODEC_TIME_MAX		((int64_t)1 << 62)
#define CODEC_ALT_MIN		-12000.0
#define CODEC_ALT_MAX		40000000.0
#define CODEC_SPEED_MAX		12000.0
#define CODEC_QUOTE_MAX		24
/*
 * PSD tolerances, relative: the test runs on the correlation matrix (unit
 * diagonal), so metres and metres per second weigh alike.
 */
#define CODEC_CS_EPS		1e-9
#define CODEC_PIVOT_EPS		1e-10
#define CODEC_SCHUR_EPS		1e-5

static int codec_fail(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Write a reason into err and return -1. */
static int
codec_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Copy at most CODEC_QUOTE_MAX bytes of a peer string, printable only. */
static const char *
codec_quote(const char *s, char buf[CODEC_QUOTE_MAX + 4])
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i < CODEC_QUOTE_MAX; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* 1 if s is a sensor or identity id: 1..31 bytes of [A-Za-z0-9_.-]. */
int
codec_id_valid(const char *s)
{
	size_t	i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= TF_ID_LEN - 1)
			return 0;
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	}
	return 1;
}

/* 1 if s is a nation code: exactly three uppercase letters. */
int
codec_nation_valid(const char *s)
{
	int	i;

	if (s == NULL)
		return 0;
	for (i = 0; i < 3; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return 0;
	return s[3] == '\0';
}

/* Check a sensor id and say what is wrong with it. */
static int
codec_sensor_check(const char *s, char *err, size_t errlen)
{
	char	q[CODEC_QUOTE_MAX + 4];

	if (s == NULL || s[0] == '\0')
		return codec_fail(err, errlen, "sensor id is empty");
	if (strlen(s) > TF_ID_LEN - 1)
		return codec_fail(err, errlen, "sensor id \"%s\" longer than "
		    "%d bytes", codec_quote(s, q), TF_ID_LEN - 1);
	if (!codec_id_valid(s))
		return codec_fail(err, errlen, "sensor id \"%s\" has bad "
		    "characters", codec_quote(s, q));
	return 0;
}

/* Event time must lie in (0, 2^62). */
static int
codec_time_check(int64_t t, char *err, size_t errlen)
{
	if (t <= 0 || t >= CODEC_TIME_MAX)
		return codec_fail(err, errlen, "time_ns %lld out of range "
		    "(0, 2^62)", (long long)t);
	return 0;
}

/* A value must be finite and within [lo, hi]. */
static int
codec_range(const char *what, double v, double lo, double hi, char *err,
    size_t errlen)
{
	if (!isfinite(v))
		return codec_fail(err, errlen, "%s %g is not finite", what, v);
	if (v < lo || v > hi)
		return codec_fail(err, errlen, "%s %g out of range [%g, %g]",
		    what, v, lo, hi);
	return 0;
}

/* Check a WGS84 position and copy it out. */
static int
codec_pos_decode(const Trackfuse__V1__Position *p, double *lat, double *lon,
    double *alt, char *err, size_t errlen)
{
	if (p == NULL)
		return codec_fail(err, errlen, "position missing");
	if (codec_range("latitude", p->lat_deg, -90, 90, err, errlen) == -1 ||
	    codec_range("longitude", p->lon_deg, -180, 180, err,
	    errlen) == -1 ||
	    codec_range("altitude", p->alt_m, CODEC_ALT_MIN, CODEC_ALT_MAX,
	    err, errlen) == -1)
		return -1;
	*lat = p->lat_deg;
	*lon = p->lon_deg;
	*alt = p->alt_m;
	return 0;
}

/* Check an ENU velocity (finite, |v| <= 12000 m/s) and copy it out. */
static int
codec_vel_decode(const Trackfuse__V1__Velocity *v, double out[3], char *err,
    size_t errlen)
{
	double	speed;

	if (v == NULL)
		return codec_fail(err, errlen, "velocity missing");
	if (!isfinite(v->east_mps) || !isfinite(v->north_mps) ||
	    !isfinite(v->up_mps))
		return codec_fail(err, errlen, "velocity (%g, %g, %g) is not "
		    "finite", v->east_mps, v->north_mps, v->up_mps);
	speed = sqrt(v->east_mps * v->east_mps + v->north_mps * v->north_mps +
	    v->up_mps * v->up_mps);
	if (!(speed <= CODEC_SPEED_MAX))
		return codec_fail(err, errlen, "speed %g m/s out of range "
		    "[0, %g]", speed, CODEC_SPEED_MAX);
	out[0] = v->east_mps;
	out[1] = v->north_mps;
	out[2] = v->up_mps;
	return 0;
}

/*
 * LDL^T factorisation of the symmetric n x n matrix a (row major, unit
 * diagonal) that tolerates zero pivots: a pivot within CODEC_PIVOT_EPS of
 * zero is a direction of no variance, and then its whole column in the
 * Schur complement must vanish too, or the matrix is indefinite.
 */
static int
codec_ldl_psd(const double *a, int n)
{
	double	l[6][6] = { { 0 } }, d[6] = { 0 }, v;
	int	i, j, k;

	for (k = 0; k < n; k++) {
		v = a[k * n + k];
		for (j = 0; j < k; j++)
			v -= l[k][j] * l[k][j] * d[j];
		if (v < -CODEC_PIVOT_EPS)
			return 0;
		d[k] = v > CODEC_PIVOT_EPS ? v : 0.0;
		for (i = k + 1; i < n; i++) {
			v = a[i * n + k];
			for (j = 0; j < k; j++)
				v -= l[i][j] * l[k][j] * d[j];
			if (d[k] == 0.0) {
				if (fabs(v) > CODEC_SCHUR_EPS)
					return 0;
				l[i][k] = 0.0;
			} else
				l[i][k] = v / d[k];
		}
	}
	return 1;
}

/*
 * Judge a 21-value upper triangle: finite, no negative variance, every
 * correlation within [-1, 1], then PSD on the correlation matrix of the
 * components that have variance. NULL if fine, else the reason.
 */
static const char *
codec_cov_fault(const double *tri)
{
	double	c[36], s[6];
	int	idx[6], n = 0, i, j;

	for (i = 0; i < TF_COV_N; i++)
		if (!isfinite(tri[i]))
			return "covariance has a value that is not finite";
	for (i = 0; i < 6; i++)
		if (tri[tf_cov_idx(i, i)] < 0.0)
			return "covariance has a negative variance";
	for (i = 0; i < 6; i++)
		for (j = i + 1; j < 6; j++)
			if (fabs(tri[tf_cov_idx(i, j)]) >
			    sqrt(tri[tf_cov_idx(i, i)] * tri[tf_cov_idx(j, j)]) *
			    (1.0 + CODEC_CS_EPS))
				return "covariance not positive semi-definite";
	for (i = 0; i < 6; i++)
		if (tri[tf_cov_idx(i, i)] > 0.0) {
			s[n] = sqrt(tri[tf_cov_idx(i, i)]);
			idx[n++] = i;
		}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			c[i * n + j] = tri[tf_cov_idx(idx[i], idx[j])] /
			    (s[i] * s[j]);
	if (!codec_ldl_psd(c, n))
		return "covariance not positive semi-definite";
	return NULL;
}

/* 1 if the 21-value upper triangle is a finite symmetric PSD matrix. */
int
codec_cov_psd(const double *tri)
{
	return codec_cov_fault(tri) == NULL;
}

/* Check the covariance count and values; copy them out. */
static int
codec_cov_decode(size_t n, const double *v, double out[TF_COV_N], char *err,
    size_t errlen)
{
	const char	*why;

	if (n != TF_COV_N)
		return codec_fail(err, errlen, "covariance has %zu values, "
		    "expected %d", n, TF_COV_N);
	if ((why = codec_cov_fault(v)) != NULL)
		return codec_fail(err, errlen, "%s", why);
	memcpy(out, v, sizeof(double) * TF_COV_N);
	return 0;
}

/* Category, identity and quality shared by reports and picture tracks. */
static int
codec_kind_decode(int cat, int ident, float quality, struct tf_report *r,
    char *err, size_t errlen)
{
	if (cat <= TF_CAT_NONE || cat >= TF_CAT_MAX)
		return codec_fail(err, errlen, "unknown category %d", cat);
	if (ident <= TF_IDENT_NONE || ident >= TF_IDENT_MAX)
		return codec_fail(err, errlen, "unknown identity %d", ident);
	if (!isfinite(quality) || quality < 0.0f || quality > 1.0f)
		return codec_fail(err, errlen, "quality %g out of range [0, 1]",
		    (double)quality);
	r->cat = (enum tf_category)cat;
	r->ident = (enum tf_identity)ident;
	r->quality = quality;
	return 0;
}

/* Check a list of nation codes: at most max, valid, no duplicates. */
static int
codec_nations_decode(const char *what, size_t n, char **v, size_t max,
    char out[][TF_NATION_LEN], char *err, size_t errlen)
{
	char	q[CODEC_QUOTE_MAX + 4];
	size_t	i, j;

	if (n > max)
		return codec_fail(err, errlen, "%s has %zu nations, at most %zu",
		    what, n, max);
	for (i = 0; i < n; i++) {
		if (!codec_nation_valid(v[i]))
			return codec_fail(err, errlen, "%s nation \"%s\" is not "
			    "three uppercase letters", what,
			    codec_quote(v[i], q));
		for (j = 0; j < i; j++)
			if (strcmp(v[i], v[j]) == 0)
				return codec_fail(err, errlen, "%s lists "
				    "nation %s twice", what, v[i]);
		memcpy(out[i], v[i], TF_NATION_LEN);
	}
	return 0;
}

/*
 * Check a security label. An absent label decodes as unlabeled (owner "",
 * TF_CLASS_NONE): the daemon then decides what unlabeled input means.
 */
int
codec_label_decode(const Trackfuse__V1__SecurityLabel *l, struct tf_label *o,
    char *err, size_t errlen)
{
	char	q[CODEC_QUOTE_MAX + 4];
	int	cls;

	memset(o, 0, sizeof(*o));
	if (l == NULL)
		return 0;
	if (!codec_nation_valid(l->owner))
		return codec_fail(err, errlen, "label owner \"%s\" is not three "
		    "uppercase letters", codec_quote(l->owner, q));
	cls = (int)l->classification;
	if (cls < TF_CLASS_NONE || cls >= TF_CLASS_MAX)
		return codec_fail(err, errlen, "unknown classification %d", cls);
	if (codec_nations_decode("label releasable_to", l->n_releasable_to,
	    l->releasable_to, TF_MAX_REL, o->rel, err, errlen) == -1) {
		memset(o, 0, sizeof(*o));
		return -1;
	}
	memcpy(o->owner, l->owner, TF_NATION_LEN);
	o->cls = (enum tf_class)cls;
	o->nrel = (uint8_t)l->n_releasable_to;
	return 0;
}

/* Validate a TrackReport and convert it into r. */
int
codec_report_decode(const Trackfuse__V1__TrackReport *m, struct tf_report *r,
    char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (codec_sensor_check(m->sensor_id, err, errlen) == -1)
		return -1;
	if (m->local_track == 0)
		return codec_fail(err, errlen, "local track number is 0");
	if (codec_time_check(m->time_ns, err, errlen) == -1 ||
	    codec_pos_decode(m->position, &r->lat_deg, &r->lon_deg, &r->alt_m,
	    err, errlen) == -1 ||
	    codec_vel_decode(m->velocity, r->vel, err, errlen) == -1 ||
	    codec_cov_decode(m->n_covariance, m->covariance, r->cov, err,
	    errlen) == -1 ||
	    codec_kind_decode((int)m->category, (int)m->identity, m->quality,
	    r, err, errlen) == -1 ||
	    codec_label_decode(m->label, &r->label, err, errlen) == -1)
		return -1;
	memcpy(r->sensor, m->sensor_id, strlen(m->sensor_id) + 1);
	r->local_track = m->local_track;
	r->t_ns = m->time_ns;
	return 0;
}

/* Validate a TrackDrop and convert it into d. */
int
codec_drop_decode(const Trackfuse__V1__TrackDrop *m, struct tf_drop *d,
    char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	if (codec_sensor_check(m->sensor_id, err, errlen) == -1)
		return -1;
	if (m->local_track == 0)
		return codec_fail(err, errlen, "local track number is 0");
	if (codec_time_check(m->time_ns, err, errlen) == -1)
		return -1;
	memcpy(d->sensor, m->sensor_id, strlen(m->sensor_id) + 1);
	d->local_track = m->local_track;
	d->t_ns = m->time_ns;
	return 0;
}

/* Validate a PictureTrack (as a subscriber receives it) into p. */
int
codec_picture_decode(const Trackfuse__V1__PictureTrack *m,
    struct tf_picture_track *p, char *err, size_t errlen)
{
	struct tf_report	k;

	memset(p, 0, sizeof(*p));
	memset(&k, 0, sizeof(k));
	if (m->track_id == 0)
		return codec_fail(err, errlen, "track id is 0");
	if ((int)m->status < 0 || (int)m->status >= TF_STATUS_MAX)
		return codec_fail(err, errlen, "bad track status");
	if (codec_time_check(m->time_ns, err, errlen) == -1 ||
	    codec_pos_decode(m->position, &p->lat_deg, &p->lon_deg, &p->alt_m,
	    err, errlen) == -1 ||
	    codec_vel_decode(m->velocity, p->vel, err, errlen) == -1 ||
	    codec_cov_decode(m->n_covariance, m->covariance, p->cov, err,
	    errlen) == -1 ||
	    codec_kind_decode((int)m->category, (int)m->identity, m->quality,
	    &k, err, errlen) == -1 ||
	    codec_nations_decode("contributing", m->n_contributing_nations,
	    m->contributing_nations, TF_MAX_NATIONS, p->nations, err,
	    errlen) == -1 ||
	    codec_label_decode(m->label, &p->label, err, errlen) == -1)
		return -1;
	p->track_id = m->track_id;
	p->t_ns = m->time_ns;
	p->cat = k.cat;
	p->ident = k.ident;
	p->quality = k.quality;
	p->nnations = (uint8_t)m->n_contributing_nations;
	p->ident_conflict = m->identity_conflict ? 1 : 0;
	p->contributors = m->contributors;
	p->status = (enum tf_track_status)m->status;
	return 0;
}

/* Point lab at l (NULL when unlabeled): pointers into l, strings in rel. */
static Trackfuse__V1__SecurityLabel *
codec_label_encode(const struct tf_label *l, Trackfuse__V1__SecurityLabel *lab,
    char **rel)
{
	Trackfuse__V1__SecurityLabel	init = TRACKFUSE__V1__SECURITY_LABEL__INIT;
	unsigned			i, n;

	*lab = init;
	if (l->owner[0] == '\0')
		return NULL;
	n = l->nrel > TF_MAX_REL ? TF_MAX_REL : l->nrel;
	for (i = 0; i < n; i++)
		rel[i] = (char *)l->rel[i];
	lab->owner = (char *)l->owner;
	lab->classification = (Trackfuse__V1__Classification)l->cls;
	lab->n_releasable_to = n;
	lab->releasable_to = n ? rel : NULL;
	return lab;
}

/* Fill position and velocity sub-messages. */
static void
codec_state_encode(double lat, double lon, double alt, const double vel[3],
    Trackfuse__V1__Position *pos, Trackfuse__V1__Velocity *v)
{
	Trackfuse__V1__Position	pinit = TRACKFUSE__V1__POSITION__INIT;
	Trackfuse__V1__Velocity	vinit = TRACKFUSE__V1__VELOCITY__INIT;

	*pos = pinit;
	*v = vinit;
	pos->lat_deg = lat;
	pos->lon_deg = lon;
	pos->alt_m = alt;
	v->east_mps = vel[0];
	v->north_mps = vel[1];
	v->up_mps = vel[2];
}

/* Fill *m so that &m->env encodes r; m keeps pointers into r. */
void
codec_report_encode(const struct tf_report *r, struct codec_report_msg *m)
{
	Envelope			einit = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__TrackReport	rinit = TRACKFUSE__V1__TRACK_REPORT__INIT;

	m->env = einit;
	m->rep = rinit;
	codec_state_encode(r->lat_deg, r->lon_deg, r->alt_m, r->vel, &m->pos,
	    &m->vel);
	memcpy(m->cov, r->cov, sizeof(m->cov));
	m->rep.sensor_id = (char *)r->sensor;
	m->rep.local_track = r->local_track;
	m->rep.time_ns = r->t_ns;
	m->rep.position = &m->pos;
	m->rep.velocity = &m->vel;
	m->rep.n_covariance = TF_COV_N;
	m->rep.covariance = m->cov;
	m->rep.category = (Trackfuse__V1__Category)r->cat;
	m->rep.identity = (Trackfuse__V1__Identity)r->ident;
	m->rep.quality = r->quality;
	m->rep.label = codec_label_encode(&r->label, &m->lab, m->rel);
	m->env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT;
	m->env.track_report = &m->rep;
}

/* Fill *m so that &m->env encodes p; m keeps pointers into p. */
void
codec_picture_encode(const struct tf_picture_track *p,
    struct codec_picture_msg *m)
{
	Envelope			einit = TRACKFUSE__V1__ENVELOPE__INIT;
	Trackfuse__V1__PictureTrack	pinit = TRACKFUSE__V1__PICTURE_TRACK__INIT;
	unsigned			i, n;

	m->env = einit;
	m->pic = pinit;
	codec_state_encode(p->lat_deg, p->lon_deg, p->alt_m, p->vel, &m->pos,
	    &m->vel);
	memcpy(m->cov, p->cov, sizeof(m->cov));
	n = p->nnations > TF_MAX_NATIONS ? TF_MAX_NATIONS : p->nnations;
	for (i = 0; i < n; i++)
		m->nations[i] = (char *)p->nations[i];
	m->pic.track_id = p->track_id;
	m->pic.time_ns = p->t_ns;
	m->pic.position = &m->pos;
	m->pic.velocity = &m->vel;
	m->pic.n_covariance = TF_COV_N;
	m->pic.covariance = m->cov;
	m->pic.category = (Trackfuse__V1__Category)p->cat;
	m->pic.identity = (Trackfuse__V1__Identity)p->ident;
	m->pic.quality = p->quality;
	m->pic.n_contributing_nations = n;
	m->pic.contributing_nations = n ? m->nations : NULL;
	m->pic.label = codec_label_encode(&p->label, &m->lab, m->rel);
	m->pic.identity_conflict = p->ident_conflict ? 1 : 0;
	m->pic.contributors = p->contributors;
	m->pic.status = (Trackfuse__V1__TrackStatus)p->status;
	m->env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK;
	m->env.picture_track = &m->pic;
}

/* Wire name of a category; "?" when out of range. */
const char *
codec_category_name(enum tf_category c)
{
	static const char *names[] = { "?", "air", "surface", "subsurface",
	    "space", "ballistic-missile", "land" };

	if ((int)c <= TF_CAT_NONE || c >= TF_CAT_MAX)
		return "?";
	return names[c];
}

/* Wire name of a standard identity; "?" when out of range. */
const char *
codec_identity_name(enum tf_identity i)
{
	static const char *names[] = { "?", "pending", "unknown",
	    "assumed-friend", "friend", "neutral", "suspect", "hostile" };

	if ((int)i <= TF_IDENT_NONE || i >= TF_IDENT_MAX)
		return "?";
	return names[i];
}

/* Wire name of a classification ("unmarked" for none); "?" out of range. */
const char *
codec_class_name(enum tf_class c)
{
	static const char *names[] = { "unmarked", "unclassified",
	    "restricted", "confidential", "secret", "top-secret" };

	if ((int)c < TF_CLASS_NONE || c >= TF_CLASS_MAX)
		return "?";
	return names[c];
}
