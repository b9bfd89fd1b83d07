/*
 * Owner release policies. Each owning nation writes one YAML file,
 * <policy_dir>/<OWNER>.yaml, governing only its own data. Loading reads
 * the files (through the shared yamlerr machinery, so every fault is
 * file:line:column) and fails an owner closed on any error while the
 * others load. Evaluation is a pure function of the loaded set, a
 * contribution, a recipient, the daemon's nation and event time: no clock,
 * no I/O. docs/policy.md is the reference for the format and the order of
 * the checks.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cyaml/cyaml.h>
#include <openssl/evp.h>

#include "trackfuse/log.h"
#include "trackfuse/policy.h"
#include "yamlerr.h"

#define POLICY_MAX_CATEGORIES	16	/* entries in a rule's list */
#define POLICY_NAME_LEN		64	/* area name incl. NUL */
#define POLICY_NS		((int64_t)1000000000)
#define POLICY_TIMELEN		48	/* a formatted time, any int64 */
#define POLICY_M_PER_DEG	111320.0	/* metres per degree of lat */

/* What libcyaml fills; numbers are re-read strictly from the text. */
struct policy_raw_valid {
	char		*from;
	char		*until;
};

struct policy_raw_area {
	char		*name;		/* polygon: read from the node map */
};

struct policy_raw_select {
	char		**include;
	unsigned	 ninclude;
	char		**exclude;
	unsigned	 nexclude;
};

struct policy_raw_sanitize {
	uint64_t	 coarsen_m;
	uint64_t	 delay_s;
	int		 strip_sensor;
};

struct policy_raw_rule {
	char			*owner;
	char			*to;
	char			*to_identity;
	char			*via;
	char			**categories;
	unsigned		 ncategories;
	struct policy_raw_select areas;
	char			*max_classification;
	struct policy_raw_sanitize sanitize;
};

struct policy_raw {
	char			*owner;
	uint64_t		 version;
	struct policy_raw_valid	 valid;
	struct policy_raw_area	*areas;
	unsigned		 nareas;
	struct policy_raw_rule	*rules;
	unsigned		 nrules;
};

/* A named polygon: lat/lon pairs, not closed (last != first). */
struct policy_area {
	char		*name;
	unsigned	 n;
	double		*pt;		/* lat0, lon0, lat1, lon1, ... */
	double		 box[4];	/* min lat, max lat, min lon, max lon */
	char		 digest[POLICY_SHA256_HEX];	/* of its vertices */
};

struct policy_rule {
	uint32_t		 index;
	char			 to_nation[TF_NATION_LEN];	/* or "" */
	char			*to_identity;			/* or NULL */
	char			 via[TF_NATION_LEN];		/* or "" */
	uint32_t		 cats;		/* bit per enum tf_category */
	enum tf_class		 max;
	const struct policy_area **inc;
	unsigned		 ninc;
	const struct policy_area **exc;
	unsigned		 nexc;
	struct policy_sanitize	 san;
	char			*canon;		/* all but 'to' and index */
};

/* One owner's loaded file; shared between sets by reference count. */
struct policy_owner {
	unsigned		 refs;
	struct policy_owner_info info;
	struct policy_area	*areas;
	unsigned		 nareas;
	struct policy_rule	*rules;
	unsigned		 nrules;
};

struct policy_set {
	struct policy_owner	**owners;	/* sorted by owner */
	unsigned		 nowners;
	char			*dir;		/* NULL: no policy_dir */
};

/* One file being loaded. */
struct policy_ld {
	struct yamlerr		 y;
	const struct config	*cfg;
	int64_t			 now;
	struct policy_owner	*o;
	const struct policy_raw	*r;
};

static const cyaml_strval_t policy_bools[] = {
	{ "true", 1 }, { "false", 0 },
	{ "yes", 1 }, { "no", 0 },
	{ "on", 1 }, { "off", 0 },
};

static const struct yamlerr_expect policy_expects[] = {
	{ "strip_sensor", "'true' or 'false'" },
	{ NULL, NULL }
};

/* Category names as in proto/trackfuse.proto and the scenario files. */
static const char *const policy_cat_names[TF_CAT_MAX] = {
	"none", "air", "surface", "subsurface", "space", "ballistic-missile",
	"land"
};

static const char *const policy_reason_names[POLICY_REASON_MAX] = {
	"allowed", "owner", "no-rule", "label-not-releasable",
	"class-too-high", "category", "area", "via", "owner-failed-closed",
	"validity", "unlabeled", "no-secret"
};

#define POLICY_STR(k, fl, s, m) \
	CYAML_FIELD_STRING_PTR(k, CYAML_FLAG_POINTER | (fl), s, m, \
	    0, CYAML_UNLIMITED)

static const cyaml_schema_value_t policy_string_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t policy_valid_fields[] = {
	POLICY_STR("from", 0, struct policy_raw_valid, from),
	POLICY_STR("until", 0, struct policy_raw_valid, until),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t policy_area_fields[] = {
	POLICY_STR("name", 0, struct policy_raw_area, name),
	CYAML_FIELD_IGNORE("polygon", CYAML_FLAG_OPTIONAL),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t policy_area_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct policy_raw_area,
	    policy_area_fields),
};

static const cyaml_schema_field_t policy_select_fields[] = {
	CYAML_FIELD_SEQUENCE_COUNT("include",
	    CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct policy_raw_select, include, ninclude,
	    &policy_string_entry, 0, POLICY_MAX_AREAS),
	CYAML_FIELD_SEQUENCE_COUNT("exclude",
	    CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct policy_raw_select, exclude, nexclude,
	    &policy_string_entry, 0, POLICY_MAX_AREAS),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t policy_sanitize_fields[] = {
	CYAML_FIELD_UINT("coarsen_m", CYAML_FLAG_OPTIONAL,
	    struct policy_raw_sanitize, coarsen_m),
	CYAML_FIELD_UINT("delay_s", CYAML_FLAG_OPTIONAL,
	    struct policy_raw_sanitize, delay_s),
	CYAML_FIELD_ENUM("strip_sensor", CYAML_FLAG_OPTIONAL |
	    CYAML_FLAG_STRICT | CYAML_FLAG_CASE_INSENSITIVE,
	    struct policy_raw_sanitize, strip_sensor,
	    policy_bools, CYAML_ARRAY_LEN(policy_bools)),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t policy_rule_fields[] = {
	POLICY_STR("owner", CYAML_FLAG_OPTIONAL, struct policy_raw_rule,
	    owner),
	POLICY_STR("to", CYAML_FLAG_OPTIONAL, struct policy_raw_rule, to),
	POLICY_STR("to_identity", CYAML_FLAG_OPTIONAL, struct policy_raw_rule,
	    to_identity),
	POLICY_STR("via", CYAML_FLAG_OPTIONAL, struct policy_raw_rule, via),
	CYAML_FIELD_SEQUENCE_COUNT("categories", CYAML_FLAG_POINTER,
	    struct policy_raw_rule, categories, ncategories,
	    &policy_string_entry, 1, POLICY_MAX_CATEGORIES),
	CYAML_FIELD_MAPPING("areas", CYAML_FLAG_OPTIONAL,
	    struct policy_raw_rule, areas, policy_select_fields),
	POLICY_STR("max_classification", 0, struct policy_raw_rule,
	    max_classification),
	CYAML_FIELD_MAPPING("sanitize", CYAML_FLAG_OPTIONAL,
	    struct policy_raw_rule, sanitize, policy_sanitize_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t policy_rule_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct policy_raw_rule,
	    policy_rule_fields),
};

static const cyaml_schema_field_t policy_fields[] = {
	POLICY_STR("owner", 0, struct policy_raw, owner),
	CYAML_FIELD_UINT("version", 0, struct policy_raw, version),
	CYAML_FIELD_MAPPING("valid", 0, struct policy_raw, valid,
	    policy_valid_fields),
	CYAML_FIELD_SEQUENCE_COUNT("areas",
	    CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct policy_raw, areas, nareas,
	    &policy_area_entry, 0, POLICY_MAX_AREAS),
	CYAML_FIELD_SEQUENCE_COUNT("rules", CYAML_FLAG_POINTER,
	    struct policy_raw, rules, nrules,
	    &policy_rule_entry, 0, POLICY_MAX_RULES),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t policy_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct policy_raw,
	    policy_fields),
};

static const yaml_mark_t *policy_mark(struct policy_ld *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Mark of a path (printf-style) in the file being loaded. */
static const yaml_mark_t *
policy_mark(struct policy_ld *ld, const char *fmt, ...)
{
	char	path[YAMLERR_MSGLEN];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return (yamlerr_mark(&ld->y, path));
}

/* Three upper-case letters. */
static int
policy_nation_valid(const char *s)
{
	return (s != NULL && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' &&
	    s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z');
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static int64_t
policy_days(int64_t y, unsigned m, unsigned d)
{
	int64_t		era;
	unsigned	yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + (int64_t)doe - 719468);
}

/* Strict "YYYY-MM-DDTHH:MM:SSZ" (UTC) to ns since the epoch; 0 or -1. */
static int
policy_time_parse(const char *s, int64_t *ns)
{
	static const unsigned	mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };
	static const char	shape[] = "dddd-dd-ddTdd:dd:ddZ";
	unsigned		y, mo, d, h, mi, se, i;
	int			n = 0;

	if (s == NULL || strlen(s) != 20)
		return (-1);
	for (i = 0; i < 20; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') :
		    s[i] != shape[i])
			return (-1);
	if (sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2uZ%n", &y, &mo, &d, &h, &mi,
	    &se, &n) != 6 || n != 20)
		return (-1);
	if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59)
		return (-1);
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0)))
		return (-1);
	*ns = ((policy_days(y, mo, d) * 86400) + h * 3600 + mi * 60 + se) *
	    POLICY_NS;
	return (0);
}

/* ns since the epoch as "YYYY-MM-DDTHH:MM:SSZ" (buf of POLICY_TIMELEN). */
static void
policy_time_fmt(int64_t ns, char *buf)
{
	int64_t		s = ns / POLICY_NS, z, era;
	unsigned	doe, yoe, doy, mp, d, m;
	int64_t		y, sod;

	if (ns < 0)
		s = 0;
	z = s / 86400 + 719468;
	sod = s % 86400;
	era = z / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	snprintf(buf, POLICY_TIMELEN, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02dZ",
	    y + (m <= 2), m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
	    (int)(sod % 60));
}

/* SHA-256 of bytes as 64 lower-case hex digits. */
static int
policy_sha256(const void *buf, size_t len, char *hex)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned	mdlen = 0, i;

	if (!EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32)
		return (-1);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return (0);
}

/* A number the file gave, re-read strictly (libcyaml accepts "1.5"). */
static int
policy_uint(struct policy_ld *ld, const char *path, uint64_t max,
    uint64_t *out)
{
	const struct yamlerr_pos	*p = yamlerr_find(&ld->y, path);
	unsigned long long		 v;

	*out = 0;
	if (p == NULL)
		return (0);
	if (!yamlerr_uint_text(p->text))
		return (yamlerr_errpos(&ld->y, &p->val, "'%s' expects an "
		    "unsigned integer, got '%s'", yamlerr_leaf(path),
		    p->text != NULL ? p->text : "a collection"));
	errno = 0;
	v = strtoull(p->text, NULL, 10);
	if (errno != 0 || v > max)
		return (yamlerr_errpos(&ld->y, &p->val, "'%s' must be in "
		    "0..%" PRIu64 ", got %s", yamlerr_leaf(path), max,
		    p->text));
	*out = v;
	return (0);
}

/* owner (== the file's name) and version. */
static int
policy_build_owner(struct policy_ld *ld)
{
	const struct policy_raw	*r = ld->r;
	struct policy_owner_info *info = &ld->o->info;
	uint64_t		 v;

	if (!policy_nation_valid(r->owner))
		return (yamlerr_errpos(&ld->y, yamlerr_mark(&ld->y, "owner"),
		    "owner '%s' is not an ISO 3166 alpha-3 code (three "
		    "upper-case letters)", r->owner));
	if (strcmp(r->owner, info->owner) != 0)
		return (yamlerr_errpos(&ld->y, yamlerr_mark(&ld->y, "owner"),
		    "owner '%s' does not match the file name %s.yaml (a file "
		    "governs only its owner's data)", r->owner, info->owner));
	if (policy_uint(ld, "version", UINT32_MAX, &v) == -1)
		return (-1);
	if (v == 0)
		return (yamlerr_errpos(&ld->y, yamlerr_mark(&ld->y, "version"),
		    "'version' must be in 1..%" PRIu32 ", got 0", UINT32_MAX));
	info->version = (uint32_t)v;
	return (0);
}

/* valid: both ends parse, from <= until, and until is not past "now". */
static int
policy_build_valid(struct policy_ld *ld)
{
	const struct policy_raw	*r = ld->r;
	struct policy_owner_info *info = &ld->o->info;
	char			 now[POLICY_TIMELEN];

	if (policy_time_parse(r->valid.from, &info->valid_from_ns) == -1)
		return (yamlerr_errpos(&ld->y, yamlerr_mark(&ld->y,
		    "valid.from"), "'from' must be a UTC time like "
		    "2026-01-01T00:00:00Z, got '%s'", r->valid.from));
	if (policy_time_parse(r->valid.until, &info->valid_until_ns) == -1)
		return (yamlerr_errpos(&ld->y, yamlerr_mark(&ld->y,
		    "valid.until"), "'until' must be a UTC time like "
		    "2027-12-31T23:59:59Z, got '%s'", r->valid.until));
	if (info->valid_from_ns > info->valid_until_ns)
		return (yamlerr_errpos(&ld->y, yamlerr_mark(&ld->y,
		    "valid.until"), "validity window ends (%s) before it "
		    "starts (%s)", r->valid.until, r->valid.from));
	if (info->valid_until_ns < ld->now) {
		policy_time_fmt(ld->now, now);
		return (yamlerr_errpos(&ld->y, yamlerr_mark(&ld->y,
		    "valid.until"), "validity window ended at %s, before the "
		    "load time %s", r->valid.until, now));
	}
	return (0);
}

/* Orientation of r against the line p->q (x = lon, y = lat): sign. */
static int
policy_orient(const double *p, const double *q, const double *r)
{
	double	v;

	v = (q[1] - p[1]) * (r[0] - p[0]) - (q[0] - p[0]) * (r[1] - p[1]);
	return ((v > 0) - (v < 0));
}

/* Is r within the bounding box of segment p-q (r collinear with it)? */
static int
policy_on_seg(const double *p, const double *q, const double *r)
{
	return (r[0] >= fmin(p[0], q[0]) && r[0] <= fmax(p[0], q[0]) &&
	    r[1] >= fmin(p[1], q[1]) && r[1] <= fmax(p[1], q[1]));
}

/*
 * Do segments a-b and c-d meet? proper: only a crossing in both
 * interiors counts (touching and collinear contact do not).
 */
static int
policy_seg_meet(const double *a, const double *b, const double *c,
    const double *d, int proper)
{
	int	o1 = policy_orient(a, b, c), o2 = policy_orient(a, b, d);
	int	o3 = policy_orient(c, d, a), o4 = policy_orient(c, d, b);

	if (o1 * o2 < 0 && o3 * o4 < 0)
		return (1);
	if (proper)
		return (0);
	return ((o1 == 0 && policy_on_seg(a, b, c)) ||
	    (o2 == 0 && policy_on_seg(a, b, d)) ||
	    (o3 == 0 && policy_on_seg(c, d, a)) ||
	    (o4 == 0 && policy_on_seg(c, d, b)));
}

/*
 * A simple polygon: no repeated consecutive vertex, no edge folding back
 * on its neighbour, no two other edges meeting at all. On failure gives
 * the 1-based edges at fault.
 */
static int
policy_polygon_simple(const struct policy_area *a, unsigned *e1,
    unsigned *e2)
{
	const double	*p, *q, *r, *s;
	unsigned	 i, j, n = a->n;

	for (i = 0; i < n; i++) {
		p = &a->pt[2 * i];
		q = &a->pt[2 * ((i + 1) % n)];
		r = &a->pt[2 * ((i + 2) % n)];
		*e1 = i + 1;
		*e2 = (i + 1) % n + 1;
		if (p[0] == q[0] && p[1] == q[1])
			return (0);
		if (policy_orient(p, q, r) == 0 &&
		    (q[0] - p[0]) * (r[0] - q[0]) +
		    (q[1] - p[1]) * (r[1] - q[1]) < 0)
			return (0);
		for (j = i + 2; j < n; j++) {
			if (i == 0 && j == n - 1)
				continue;
			r = &a->pt[2 * j];
			s = &a->pt[2 * ((j + 1) % n)];
			*e2 = j + 1;
			if (policy_seg_meet(p, q, r, s, 0))
				return (0);
		}
	}
	return (1);
}

/* Point in polygon by crossing number, x = lon, y = lat. */
static int
policy_point_in(const struct policy_area *a, double lat, double lon)
{
	const double	*p, *q;
	unsigned	 i, j;
	int		 in = 0;

	if (lat < a->box[0] || lat > a->box[1] || lon < a->box[2] ||
	    lon > a->box[3])
		return (0);
	for (i = 0, j = a->n - 1; i < a->n; j = i++) {
		p = &a->pt[2 * i];
		q = &a->pt[2 * j];
		if ((p[0] > lat) != (q[0] > lat) &&
		    lon < (q[1] - p[1]) * (lat - p[0]) / (q[0] - p[0]) + p[1])
			in = !in;
	}
	return (in);
}

/* Is the point on the polygon's boundary? */
static int
policy_on_boundary(const struct policy_area *a, const double *pt)
{
	const double	*p, *q;
	unsigned	 i;

	for (i = 0; i < a->n; i++) {
		p = &a->pt[2 * i];
		q = &a->pt[2 * ((i + 1) % a->n)];
		if (policy_orient(p, q, pt) == 0 && policy_on_seg(p, q, pt))
			return (1);
	}
	return (0);
}

/* Does some vertex or edge midpoint of a lie strictly inside b? */
static int
policy_some_inside(const struct policy_area *a, const struct policy_area *b)
{
	const double	*p, *q;
	double		 m[2];
	unsigned	 i;

	for (i = 0; i < a->n; i++) {
		p = &a->pt[2 * i];
		q = &a->pt[2 * ((i + 1) % a->n)];
		m[0] = (p[0] + q[0]) / 2;
		m[1] = (p[1] + q[1]) / 2;
		if ((policy_point_in(b, p[0], p[1]) &&
		    !policy_on_boundary(b, p)) ||
		    (policy_point_in(b, m[0], m[1]) &&
		    !policy_on_boundary(b, m)))
			return (1);
	}
	return (0);
}

/*
 * Do two simple polygons overlap? The same vertices, an edge of one
 * properly crossing an edge of the other, or a vertex or edge midpoint of
 * one strictly inside the other. Sharing a border is not overlapping.
 */
static int
policy_overlap(const struct policy_area *a, const struct policy_area *b)
{
	unsigned	i, j;

	if (a->box[1] < b->box[0] || b->box[1] < a->box[0] ||
	    a->box[3] < b->box[2] || b->box[3] < a->box[2])
		return (0);
	if (strcmp(a->digest, b->digest) == 0)
		return (1);
	for (i = 0; i < a->n; i++)
		for (j = 0; j < b->n; j++)
			if (policy_seg_meet(&a->pt[2 * i],
			    &a->pt[2 * ((i + 1) % a->n)], &b->pt[2 * j],
			    &b->pt[2 * ((j + 1) % b->n)], 1))
				return (1);
	return (policy_some_inside(a, b) || policy_some_inside(b, a));
}

/* One vertex "[lat, lon]" of area i. */
static int
policy_vertex(struct policy_ld *ld, unsigned i, unsigned j, double *pt)
{
	const struct yamlerr_pos	*p;
	char				 path[YAMLERR_MSGLEN];
	unsigned			 k;

	snprintf(path, sizeof(path), "areas[%u].polygon[%u]", i, j);
	p = yamlerr_find(&ld->y, path);
	snprintf(path, sizeof(path), "areas[%u].polygon[%u][2]", i, j);
	if (p->kind != YAML_SEQUENCE_START_EVENT ||
	    yamlerr_find(&ld->y, path) != NULL)
		return (yamlerr_errpos(&ld->y, &p->val, "a vertex is "
		    "[lat, lon]: a sequence of two numbers"));
	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "areas[%u].polygon[%u][%u]", i,
		    j, k);
		p = yamlerr_find(&ld->y, path);
		if (p == NULL)
			return (yamlerr_errpos(&ld->y, policy_mark(ld,
			    "areas[%u].polygon[%u]", i, j), "a vertex is "
			    "[lat, lon]: a sequence of two numbers"));
		if (!yamlerr_float_text(p->text, &pt[k]) ||
		    fabs(pt[k]) > (k == 0 ? 90 : 180))
			return (yamlerr_errpos(&ld->y, &p->val, "%s must be a "
			    "number in %s, got '%s'", k == 0 ? "latitude" :
			    "longitude", k == 0 ? "-90..90" : "-180..180",
			    p->text != NULL ? p->text : "a collection"));
	}
	return (0);
}

/* The polygon of area i: vertices, bounding box and digest. */
static int
policy_polygon(struct policy_ld *ld, unsigned i, struct policy_area *a)
{
	const struct yamlerr_pos	*p;
	char				 path[YAMLERR_MSGLEN];
	unsigned			 n, e1, e2;

	snprintf(path, sizeof(path), "areas[%u].polygon", i);
	if ((p = yamlerr_find(&ld->y, path)) == NULL)
		return (yamlerr_errpos(&ld->y, policy_mark(ld, "areas[%u]", i),
		    "area '%s' needs a 'polygon'", a->name));
	for (n = 0; n <= POLICY_MAX_VERTICES; n++) {
		snprintf(path, sizeof(path), "areas[%u].polygon[%u]", i, n);
		if (yamlerr_find(&ld->y, path) == NULL)
			break;
	}
	if (p->kind != YAML_SEQUENCE_START_EVENT || n < 3 ||
	    n > POLICY_MAX_VERTICES)
		return (yamlerr_errpos(&ld->y, &p->val, "polygon of area '%s' "
		    "must be a sequence of 3..%d [lat, lon] vertices", a->name,
		    POLICY_MAX_VERTICES));
	if ((a->pt = calloc(2 * n, sizeof(double))) == NULL)
		return (yamlerr_errx(&ld->y, "out of memory"));
	a->box[0] = a->box[2] = INFINITY;
	a->box[1] = a->box[3] = -INFINITY;
	for (a->n = 0; a->n < n; a->n++) {
		if (policy_vertex(ld, i, a->n, &a->pt[2 * a->n]) == -1)
			return (-1);
		a->box[0] = fmin(a->box[0], a->pt[2 * a->n]);
		a->box[1] = fmax(a->box[1], a->pt[2 * a->n]);
		a->box[2] = fmin(a->box[2], a->pt[2 * a->n + 1]);
		a->box[3] = fmax(a->box[3], a->pt[2 * a->n + 1]);
	}
	if (!policy_polygon_simple(a, &e1, &e2))
		return (yamlerr_errpos(&ld->y, &p->val, "polygon of area '%s' "
		    "is not simple: edges %u and %u meet", a->name, e1, e2));
	if (policy_sha256(a->pt, 2 * n * sizeof(double), a->digest) == -1)
		return (yamlerr_errx(&ld->y, "cannot hash"));
	return (0);
}

/* An area name: 1..63 of a-z 0-9 - _. */
static int
policy_name_valid(const char *s)
{
	size_t	n = strlen(s);

	return (n > 0 && n < POLICY_NAME_LEN &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n);
}

/* All areas: names unique, polygons simple. */
static int
policy_build_areas(struct policy_ld *ld)
{
	const struct policy_raw	*r = ld->r;
	struct policy_owner	*o = ld->o;
	unsigned		 i, j;

	if (r->nareas == 0)
		return (0);
	if ((o->areas = calloc(r->nareas, sizeof(*o->areas))) == NULL)
		return (yamlerr_errx(&ld->y, "out of memory"));
	for (i = 0; i < r->nareas; i++, o->nareas++) {
		if (!policy_name_valid(r->areas[i].name))
			return (yamlerr_errpos(&ld->y, policy_mark(ld,
			    "areas[%u].name", i), "area name '%s' must be "
			    "1..%d characters of a-z 0-9 - _", r->areas[i].name,
			    POLICY_NAME_LEN - 1));
		for (j = 0; j < i; j++)
			if (strcmp(o->areas[j].name, r->areas[i].name) == 0)
				return (yamlerr_errpos(&ld->y, policy_mark(ld,
				    "areas[%u].name", i), "duplicate area "
				    "'%s'", r->areas[i].name));
		if ((o->areas[i].name = strdup(r->areas[i].name)) == NULL)
			return (yamlerr_errx(&ld->y, "out of memory"));
		if (policy_polygon(ld, i, &o->areas[i]) == -1) {
			o->nareas++;
			return (-1);
		}
	}
	return (0);
}

/* to / to_identity / via / owner of rule i. */
static int
policy_rule_target(struct policy_ld *ld, unsigned i,
    const struct policy_raw_rule *rr, struct policy_rule *ru)
{
	const struct config_identity	*id;
	const char			*own = ld->o->info.owner;

	if (rr->owner != NULL && strcmp(rr->owner, own) != 0)
		return (yamlerr_errpos(&ld->y, policy_mark(ld,
		    "rules[%u].owner", i), "rule governs %s data but this "
		    "file is %s's: a file governs only its owner's data",
		    rr->owner, own));
	if ((rr->to == NULL) == (rr->to_identity == NULL))
		return (yamlerr_errpos(&ld->y, policy_mark(ld, "rules[%u]", i),
		    "a rule needs exactly one of 'to' (a nation) and "
		    "'to_identity' (a subscriber)"));
	if (rr->to != NULL) {
		if (!policy_nation_valid(rr->to) ||
		    !config_nation_known(ld->cfg, rr->to))
			return (yamlerr_errpos(&ld->y, policy_mark(ld,
			    "rules[%u].to", i), "unknown nation '%s' (not "
			    "the daemon's, an identity's or in the "
			    "classification table)", rr->to));
		if (strcmp(rr->to, own) == 0)
			return (yamlerr_errpos(&ld->y, policy_mark(ld,
			    "rules[%u].to", i), "a rule cannot address the "
			    "owner %s itself (it always receives its data)",
			    own));
		memcpy(ru->to_nation, rr->to, TF_NATION_LEN);
	} else {
		id = config_identity(ld->cfg, rr->to_identity);
		if (id == NULL || id->role != CONFIG_ROLE_SUBSCRIBER)
			return (yamlerr_errpos(&ld->y, policy_mark(ld,
			    "rules[%u].to_identity", i), "'%s' is not a "
			    "subscriber identity of the configuration",
			    rr->to_identity));
		if (strcmp(id->nation, own) == 0)
			return (yamlerr_errpos(&ld->y, policy_mark(ld,
			    "rules[%u].to_identity", i), "a rule cannot "
			    "address the owner %s itself (it always receives "
			    "its data)", own));
		if ((ru->to_identity = strdup(rr->to_identity)) == NULL)
			return (yamlerr_errx(&ld->y, "out of memory"));
	}
	if (rr->via != NULL && (!policy_nation_valid(rr->via) ||
	    !config_nation_known(ld->cfg, rr->via)))
		return (yamlerr_errpos(&ld->y, policy_mark(ld,
		    "rules[%u].via", i), "unknown nation '%s' (not the "
		    "daemon's, an identity's or in the classification table)",
		    rr->via));
	if (rr->via != NULL)
		memcpy(ru->via, rr->via, TF_NATION_LEN);
	return (0);
}

/* categories of rule i to a bit mask. */
static int
policy_rule_categories(struct policy_ld *ld, unsigned i,
    const struct policy_raw_rule *rr, struct policy_rule *ru)
{
	unsigned	j, c;

	for (j = 0; j < rr->ncategories; j++) {
		for (c = TF_CAT_NONE + 1; c < TF_CAT_MAX; c++)
			if (strcmp(rr->categories[j], policy_cat_names[c]) == 0)
				break;
		if (c == TF_CAT_MAX)
			return (yamlerr_errpos(&ld->y, policy_mark(ld,
			    "rules[%u].categories[%u]", i, j), "unknown "
			    "category '%s' (air, surface, subsurface, space, "
			    "ballistic-missile, land)", rr->categories[j]));
		ru->cats |= 1u << c;
	}
	return (0);
}

/* The areas a list names; areas in one list must not overlap. */
static int
policy_rule_list(struct policy_ld *ld, unsigned i, const char *key,
    char **names, unsigned n, const struct policy_area ***out)
{
	const struct policy_owner	*o = ld->o;
	unsigned			 j, k;

	if (n == 0)
		return (0);
	if ((*out = calloc(n, sizeof(**out))) == NULL)
		return (yamlerr_errx(&ld->y, "out of memory"));
	for (j = 0; j < n; j++) {
		for (k = 0; k < o->nareas; k++)
			if (strcmp(o->areas[k].name, names[j]) == 0)
				break;
		if (k == o->nareas)
			return (yamlerr_errpos(&ld->y, policy_mark(ld,
			    "rules[%u].areas.%s[%u]", i, key, j),
			    "unknown area '%s'", names[j]));
		(*out)[j] = &o->areas[k];
		for (k = 0; k < j; k++)
			if (policy_overlap((*out)[k], (*out)[j]))
				return (yamlerr_errpos(&ld->y, policy_mark(ld,
				    "rules[%u].areas.%s[%u]", i, key, j),
				    "area '%s' overlaps area '%s' "
				    "in the same list", names[j],
				    (*out)[k]->name));
	}
	return (0);
}

/*
 * max_classification: the owner's national level through the config's
 * table first, else a common level name; anything else has no mapping.
 */
static int
policy_rule_class(struct policy_ld *ld, unsigned i,
    const struct policy_raw_rule *rr, struct policy_rule *ru)
{
	const char	*s = rr->max_classification;

	if (config_class_map(ld->cfg, ld->o->info.owner, s, &ru->max) == 0 ||
	    config_class_parse(s, &ru->max) == 0)
		return (0);
	return (yamlerr_errpos(&ld->y, policy_mark(ld,
	    "rules[%u].max_classification", i), "classification '%s' has "
	    "no mapping for %s (not a common level and not in the "
	    "configuration's classifications)", s, ld->o->info.owner));
}

/* sanitize: coarsen_m, delay_s, strip_sensor. */
static int
policy_rule_sanitize(struct policy_ld *ld, unsigned i,
    const struct policy_raw_rule *rr, struct policy_rule *ru)
{
	char		path[YAMLERR_MSGLEN];
	uint64_t	v;

	snprintf(path, sizeof(path), "rules[%u].sanitize.coarsen_m", i);
	if (policy_uint(ld, path, POLICY_MAX_COARSEN_M, &v) == -1)
		return (-1);
	ru->san.coarsen_m = (uint32_t)v;
	snprintf(path, sizeof(path), "rules[%u].sanitize.delay_s", i);
	if (policy_uint(ld, path, POLICY_MAX_DELAY_S, &v) == -1)
		return (-1);
	ru->san.delay_ns = (int64_t)v * POLICY_NS;
	ru->san.strip_sensor = rr->sanitize.strip_sensor;
	return (0);
}

/* Order strings (for sorted canonical lists). */
static int
policy_strcmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* One area list in canonical form: sorted digests. */
static void
policy_canon_list(FILE *fp, const char *tag,
    const struct policy_area **l, unsigned n)
{
	const char	*d[POLICY_MAX_AREAS];
	unsigned	 j;

	for (j = 0; j < n; j++)
		d[j] = l[j]->digest;
	qsort(d, n, sizeof(*d), policy_strcmp);
	fprintf(fp, " %s=", tag);
	for (j = 0; j < n; j++)
		fprintf(fp, "%s%s", j ? "," : "", d[j]);
}

/*
 * Everything of a rule that decides, without its target and index: two
 * rules with the same text decide alike. The class key is built of these.
 */
static int
policy_rule_canon(struct policy_rule *ru)
{
	FILE	*fp;
	size_t	 len;

	if ((fp = open_memstream(&ru->canon, &len)) == NULL)
		return (-1);
	fprintf(fp, "via=%s cats=%" PRIx32 " max=%d", ru->via, ru->cats,
	    (int)ru->max);
	policy_canon_list(fp, "inc", ru->inc, ru->ninc);
	policy_canon_list(fp, "exc", ru->exc, ru->nexc);
	fprintf(fp, " coarsen=%" PRIu32 " delay=%" PRId64 " strip=%d",
	    ru->san.coarsen_m, ru->san.delay_ns, ru->san.strip_sensor);
	return (fclose(fp) == 0 ? 0 : -1);
}

/* Check and build rule i. */
static int
policy_build_rule(struct policy_ld *ld, unsigned i, struct policy_rule *ru)
{
	const struct policy_raw_rule	*rr = &ld->r->rules[i];

	ru->index = i;
	if (policy_rule_target(ld, i, rr, ru) == -1 ||
	    policy_rule_categories(ld, i, rr, ru) == -1 ||
	    policy_rule_list(ld, i, "include",
	    rr->areas.include, rr->areas.ninclude, &ru->inc) == -1)
		return (-1);
	ru->ninc = rr->areas.ninclude;
	if (policy_rule_list(ld, i, "exclude",
	    rr->areas.exclude, rr->areas.nexclude, &ru->exc) == -1)
		return (-1);
	ru->nexc = rr->areas.nexclude;
	if (policy_rule_class(ld, i, rr, ru) == -1 ||
	    policy_rule_sanitize(ld, i, rr, ru) == -1)
		return (-1);
	if (policy_rule_canon(ru) == -1)
		return (yamlerr_errx(&ld->y, "out of memory"));
	return (0);
}

/* Same target (nation or identity)? */
static int
policy_same_target(const struct policy_rule *a, const struct policy_rule *b)
{
	if (a->to_identity != NULL || b->to_identity != NULL)
		return (a->to_identity != NULL && b->to_identity != NULL &&
		    strcmp(a->to_identity, b->to_identity) == 0);
	return (strcmp(a->to_nation, b->to_nation) == 0);
}

/* All rules; at most POLICY_MAX_PER_TARGET address one target. */
static int
policy_build_rules(struct policy_ld *ld)
{
	const struct policy_raw	*r = ld->r;
	struct policy_owner	*o = ld->o;
	unsigned		 i, j, same;

	if (r->nrules == 0)
		return (0);
	if ((o->rules = calloc(r->nrules, sizeof(*o->rules))) == NULL)
		return (yamlerr_errx(&ld->y, "out of memory"));
	for (i = 0; i < r->nrules; i++) {
		o->nrules++;		/* so policy_owner_free frees it */
		if (policy_build_rule(ld, i, &o->rules[i]) == -1)
			return (-1);
		for (same = 1, j = 0; j < i; j++)
			same += policy_same_target(&o->rules[j], &o->rules[i]);
		if (same > POLICY_MAX_PER_TARGET)
			return (yamlerr_errpos(&ld->y, policy_mark(ld,
			    "rules[%u]", i), "more than %d rules address "
			    "the same recipient", POLICY_MAX_PER_TARGET));
	}
	o->info.nrules = o->nrules;
	return (0);
}

/* Free an owner's contents and the owner. */
static void
policy_owner_free(struct policy_owner *o)
{
	unsigned	i;

	for (i = 0; i < o->nareas; i++) {
		free(o->areas[i].name);
		free(o->areas[i].pt);
	}
	free(o->areas);
	for (i = 0; i < o->nrules; i++) {
		free(o->rules[i].to_identity);
		free(o->rules[i].inc);
		free(o->rules[i].exc);
		free(o->rules[i].canon);
	}
	free(o->rules);
	free(o->info.file);
	free(o);
}

/* Drop one reference; the last frees. */
static void
policy_owner_unref(struct policy_owner *o)
{
	if (o != NULL && --o->refs == 0)
		policy_owner_free(o);
}

/* A new owner record in a state; NULL: out of memory. */
static struct policy_owner *
policy_owner_new(const char *owner, enum policy_state state,
    const char *file)
{
	struct policy_owner	*o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return (NULL);
	o->refs = 1;
	snprintf(o->info.owner, sizeof(o->info.owner), "%s", owner);
	o->info.state = state;
	if (file != NULL && (o->info.file = strdup(file)) == NULL) {
		free(o);
		return (NULL);
	}
	return (o);
}

/* Drop whatever a failed load built: a failed owner has no rules. */
static void
policy_owner_strip(struct policy_owner *o)
{
	struct policy_owner	*tmp;

	if ((tmp = calloc(1, sizeof(*tmp))) == NULL)
		return;		/* keep them; state FAILED still denies */
	tmp->refs = 1;
	tmp->areas = o->areas;
	tmp->nareas = o->nareas;
	tmp->rules = o->rules;
	tmp->nrules = o->nrules;
	policy_owner_free(tmp);
	o->areas = NULL;
	o->rules = NULL;
	o->nareas = o->nrules = 0;
	o->info.nrules = 0;
	o->info.version = 0;
}

/* Read, hash, walk, load and check one file into ld->o. */
static int
policy_owner_parse(struct policy_ld *ld)
{
	struct policy_raw	*raw = NULL;
	unsigned char		*buf = NULL;
	size_t			 len = 0;
	cyaml_config_t		 cy;
	int			 rv = -1;

	yamlerr_cyaml_config(&ld->y, &cy);
	if (yamlerr_read(&ld->y, POLICY_MAX_FILE, &buf, &len) == -1)
		return (-1);
	if (policy_sha256(buf, len, ld->o->info.sha256) == -1)
		yamlerr_errx(&ld->y, "cannot hash");
	else if (yamlerr_walk(&ld->y, buf, len) == 0 &&
	    yamlerr_cyaml_load(&ld->y, buf, len, &cy, &policy_schema,
	    (void **)&raw) == 0) {
		ld->r = raw;
		if (policy_build_owner(ld) == 0 &&
		    policy_build_valid(ld) == 0 &&
		    policy_build_areas(ld) == 0 &&
		    policy_build_rules(ld) == 0)
			rv = 0;
	}
	if (raw != NULL)
		cyaml_free(&cy, &policy_schema, raw, 0);
	free(buf);
	return (rv);
}

/* Load the file of one owner; never fails but for memory (NULL). */
static struct policy_owner *
policy_owner_load(const struct config *cfg, const char *dir,
    const char *owner, int64_t now)
{
	struct policy_ld	 ld;
	struct policy_owner	*o;
	char			*path;

	if (dir == NULL)
		return (policy_owner_new(owner, POLICY_OWNER_MISSING, NULL));
	if (asprintf(&path, "%s/%s.yaml", dir, owner) == -1)
		return (NULL);
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		o = policy_owner_new(owner, POLICY_OWNER_MISSING, path);
		if (o != NULL)
			snprintf(o->info.error, sizeof(o->info.error),
			    "%s: no such file", path);
		free(path);
		return (o);
	}
	o = policy_owner_new(owner, POLICY_OWNER_LOADED, path);
	free(path);
	if (o == NULL)
		return (NULL);
	memset(&ld, 0, sizeof(ld));
	yamlerr_init(&ld.y, o->info.file, "policy", policy_expects,
	    o->info.error, sizeof(o->info.error));
	ld.cfg = cfg;
	ld.now = now;
	ld.o = o;
	if (policy_owner_parse(&ld) == -1) {
		o->info.state = POLICY_OWNER_FAILED;
		policy_owner_strip(o);
	}
	yamlerr_free(&ld.y);
	return (o);
}

/* Say what became of an owner: loud when it fails closed. */
static void
policy_owner_log(const struct policy_owner *o)
{
	const struct policy_owner_info	*i = &o->info;

	if (i->state == POLICY_OWNER_LOADED)
		log_info("policy: loaded owner=%s file=%s version=%" PRIu32
		    " rules=%u sha256=%s", i->owner, i->file, i->version,
		    i->nrules, i->sha256);
	else if (i->state == POLICY_OWNER_MISSING)
		log_warnx("policy: owner fails closed owner=%s reason=missing "
		    "file=%s: its data goes to %s recipients only", i->owner,
		    i->file != NULL ? i->file : "none (no policy_dir)",
		    i->owner);
	else
		log_warnx("policy: owner fails closed owner=%s reason=invalid "
		    "error=\"%s\": its data goes to %s recipients only",
		    i->owner, i->error, i->owner);
}

/* Order owners by name. */
static int
policy_owner_cmp(const void *a, const void *b)
{
	const struct policy_owner *const	*oa = a, *const *ob = b;

	return (strcmp((*oa)->info.owner, (*ob)->info.owner));
}

/* The owner record of a set, or NULL. */
static const struct policy_owner *
policy_owner_get(const struct policy_set *set, const char *owner)
{
	unsigned	i;

	for (i = 0; set != NULL && i < set->nowners; i++)
		if (strcmp(set->owners[i]->info.owner, owner) == 0)
			return (set->owners[i]);
	return (NULL);
}

/* Add an owner name to the list if new and if there is room. */
static void
policy_name_add(char (*names)[TF_NATION_LEN], unsigned *n, const char *s)
{
	unsigned	i;

	if (!policy_nation_valid(s) || *n == POLICY_MAX_OWNERS)
		return;
	for (i = 0; i < *n; i++)
		if (strcmp(names[i], s) == 0)
			return;
	memcpy(names[(*n)++], s, TF_NATION_LEN);
}

/* Owners to load: identity nations, then every <AAA>.yaml in dir. */
static unsigned
policy_owner_names(const struct config *cfg, const char *dir,
    char (*names)[TF_NATION_LEN])
{
	DIR		*d;
	struct dirent	*de;
	char		 nation[TF_NATION_LEN];
	unsigned	 i, n = 0;

	for (i = 0; i < cfg->nidentities; i++)
		policy_name_add(names, &n, cfg->identities[i].nation);
	if (dir == NULL || (d = opendir(dir)) == NULL)
		return (n);
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != 8 ||
		    strcmp(de->d_name + 3, ".yaml") != 0)
			continue;
		memcpy(nation, de->d_name, 3);
		nation[3] = '\0';
		policy_name_add(names, &n, nation);
	}
	closedir(d);
	return (n);
}

/* An empty set for dir. */
static struct policy_set *
policy_set_new(const char *dir, unsigned cap)
{
	struct policy_set	*set;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return (NULL);
	if ((set->owners = calloc(cap ? cap : 1, sizeof(*set->owners))) ==
	    NULL || (dir != NULL && (set->dir = strdup(dir)) == NULL)) {
		policy_free(set);
		return (NULL);
	}
	return (set);
}

/* Load every owner of the config and of dir; see policy.h. */
struct policy_set *
policy_load(const struct config *cfg, const char *dir, int64_t now_ns)
{
	struct policy_set	*set;
	char			 names[POLICY_MAX_OWNERS][TF_NATION_LEN];
	unsigned		 i, n;

	n = policy_owner_names(cfg, dir, names);
	if ((set = policy_set_new(dir, n)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		set->owners[i] = policy_owner_load(cfg, dir, names[i], now_ns);
		if (set->owners[i] == NULL) {
			policy_free(set);
			return (NULL);
		}
		set->nowners++;
	}
	qsort(set->owners, set->nowners, sizeof(*set->owners),
	    policy_owner_cmp);
	for (i = 0; i < set->nowners; i++)
		policy_owner_log(set->owners[i]);
	for (i = 0; i < cfg->nidentities; i++)
		if (cfg->identities[i].role == CONFIG_ROLE_SUBSCRIBER &&
		    cfg->identities[i].secret == NULL)
			log_warnx("policy: subscriber has no secret, it gets "
			    "nothing id=%s nation=%s", cfg->identities[i].id,
			    cfg->identities[i].nation);
	return (set);
}

/* policy_load() from the config's policy_dir. */
struct policy_set *
policy_load_dir(const struct config *cfg, int64_t now_ns)
{
	return (policy_load(cfg, cfg->policy_dir, now_ns));
}

/* A new set: owner re-read, every other owner shared with old. */
struct policy_set *
policy_reload_owner(const struct policy_set *old, const struct config *cfg,
    const char *owner, int64_t now_ns)
{
	struct policy_set	*set;
	struct policy_owner	*o;
	unsigned		 i;

	if (!policy_nation_valid(owner) ||
	    (set = policy_set_new(old->dir, old->nowners + 1)) == NULL)
		return (NULL);
	if ((o = policy_owner_load(cfg, old->dir, owner, now_ns)) == NULL) {
		policy_free(set);
		return (NULL);
	}
	for (i = 0; i < old->nowners; i++) {
		if (strcmp(old->owners[i]->info.owner, owner) == 0)
			continue;
		set->owners[set->nowners] = old->owners[i];
		set->owners[set->nowners++]->refs++;
	}
	set->owners[set->nowners++] = o;
	qsort(set->owners, set->nowners, sizeof(*set->owners),
	    policy_owner_cmp);
	policy_owner_log(o);
	return (set);
}

/* Free a set; owners shared with another set live on. NULL is fine. */
void
policy_free(struct policy_set *set)
{
	unsigned	i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nowners; i++)
		policy_owner_unref(set->owners[i]);
	free(set->owners);
	free(set->dir);
	free(set);
}

/* How many owners the set knows. */
unsigned
policy_nowners(const struct policy_set *set)
{
	return (set != NULL ? set->nowners : 0);
}

/* Owner i in name order, or NULL. */
const struct policy_owner_info *
policy_owner_info(const struct policy_set *set, unsigned i)
{
	if (set == NULL || i >= set->nowners)
		return (NULL);
	return (&set->owners[i]->info);
}

/* An owner by nation, or NULL. */
const struct policy_owner_info *
policy_owner_find(const struct policy_set *set, const char *owner)
{
	const struct policy_owner	*o = policy_owner_get(set, owner);

	return (o != NULL ? &o->info : NULL);
}

/* Does the rule address this recipient (its nation or its identity)? */
static int
policy_rule_applies(const struct policy_rule *ru,
    const struct policy_recipient *rcp)
{
	if (ru->to_identity != NULL)
		return (strcmp(ru->to_identity, rcp->id) == 0);
	return (strcmp(ru->to_nation, rcp->nation) == 0);
}

/*
 * One check of one rule: 0 via, 1 category, 2 class, 3 area. Checks run
 * check-major over the applicable rules so the reason of a denial does
 * not depend on the order of the rules in the file.
 */
static enum policy_reason
policy_rule_check(const struct policy_rule *ru, int check,
    const struct policy_contrib *c, const char *daemon_nation)
{
	unsigned	i;
	int		in;

	switch (check) {
	case 0:
		if (ru->via[0] != '\0' && strcmp(daemon_nation, ru->via) != 0 &&
		    !(c->federated && strcmp(c->from_daemon, ru->via) == 0))
			return (POLICY_DENY_VIA);
		return (POLICY_OK);
	case 1:
		if (c->cat <= TF_CAT_NONE || c->cat >= TF_CAT_MAX ||
		    !(ru->cats & (1u << c->cat)))
			return (POLICY_DENY_CATEGORY);
		return (POLICY_OK);
	case 2:
		return (c->label.cls > ru->max ? POLICY_DENY_CLASS : POLICY_OK);
	default:
		for (in = ru->ninc == 0, i = 0; !in && i < ru->ninc; i++)
			in = policy_point_in(ru->inc[i], c->lat_deg,
			    c->lon_deg);
		for (i = 0; in && i < ru->nexc; i++)
			in = !policy_point_in(ru->exc[i], c->lat_deg,
			    c->lon_deg);
		return (in ? POLICY_OK : POLICY_DENY_AREA);
	}
}

/* Set a denial (with the rule at fault, if any); returns 0. */
static int
policy_deny(struct policy_decision *d, enum policy_reason why,
    const struct policy_owner *o, const struct policy_rule *ru)
{
	memset(d, 0, sizeof(*d));
	d->reason = why;
	if (ru != NULL) {
		memcpy(d->rules[0].owner, o->info.owner, TF_NATION_LEN);
		d->rules[0].version = o->info.version;
		d->rules[0].index = ru->index;
		d->nrules = 1;
	}
	return (0);
}

/* Is the recipient's nation on the label's releasable-to list? */
static int
policy_label_allows(const struct tf_label *l, const char *nation)
{
	unsigned	i;

	for (i = 0; i < l->nrel && i < TF_MAX_REL; i++)
		if (strncmp(l->rel[i], nation, TF_NATION_LEN) == 0)
			return (1);
	return (0);
}

/* The owner's rules for this recipient: intersection, max sanitizers. */
static int
policy_evaluate_rules(const struct policy_owner *o,
    const struct policy_contrib *c, const struct policy_recipient *rcp,
    const char *daemon_nation, struct policy_decision *d)
{
	const struct policy_rule	*ru, *match[POLICY_MAX_MATCH];
	enum policy_reason		 why;
	unsigned			 i, n = 0;
	int				 check;

	for (i = 0; i < o->nrules && n < POLICY_MAX_MATCH; i++)
		if (policy_rule_applies(&o->rules[i], rcp))
			match[n++] = &o->rules[i];
	if (n == 0)
		return (policy_deny(d, POLICY_DENY_NO_RULE, NULL, NULL));
	for (check = 0; check < 4; check++)
		for (i = 0; i < n; i++)
			if ((why = policy_rule_check(match[i], check, c,
			    daemon_nation)) != POLICY_OK)
				return (policy_deny(d, why, o, match[i]));
	memset(d, 0, sizeof(*d));
	d->allowed = 1;
	d->reason = POLICY_OK;
	for (i = 0; i < n; i++) {
		ru = match[i];
		if (ru->san.coarsen_m > d->san.coarsen_m)
			d->san.coarsen_m = ru->san.coarsen_m;
		if (ru->san.delay_ns > d->san.delay_ns)
			d->san.delay_ns = ru->san.delay_ns;
		d->san.strip_sensor |= ru->san.strip_sensor;
		memcpy(d->rules[i].owner, o->info.owner, TF_NATION_LEN);
		d->rules[i].version = o->info.version;
		d->rules[i].index = ru->index;
	}
	d->nrules = n;
	return (1);
}

/* Decide one contribution for one recipient; docs/policy.md gives the order. */
int
policy_evaluate(const struct policy_set *set, const struct policy_contrib *c,
    const struct policy_recipient *rcp, const char *daemon_nation,
    struct policy_decision *d)
{
	const struct policy_owner	*o;
	const char			*owner = c->label.owner;

	if (!rcp->has_secret)
		return (policy_deny(d, POLICY_DENY_NO_SECRET, NULL, NULL));
	if (owner[0] == '\0' || c->label.cls == TF_CLASS_NONE) {
		if (owner[0] == '\0')
			owner = c->origin;
		if (owner[0] == '\0' || strcmp(owner, rcp->nation) != 0)
			return (policy_deny(d, POLICY_DENY_UNLABELED, NULL,
			    NULL));
	}
	if (strcmp(owner, rcp->nation) == 0) {
		memset(d, 0, sizeof(*d));
		d->allowed = 1;
		d->reason = POLICY_OK_OWNER;
		return (1);
	}
	o = policy_owner_get(set, owner);
	if (o == NULL || o->info.state != POLICY_OWNER_LOADED)
		return (policy_deny(d, POLICY_DENY_FAILED, NULL, NULL));
	if (c->t_ns < o->info.valid_from_ns || c->t_ns > o->info.valid_until_ns)
		return (policy_deny(d, POLICY_DENY_VALIDITY, NULL, NULL));
	if (!policy_label_allows(&c->label, rcp->nation))
		return (policy_deny(d, POLICY_DENY_LABEL, NULL, NULL));
	return (policy_evaluate_rules(o, c, rcp, daemon_nation, d));
}

/* The recipient view of a config identity. */
struct policy_recipient
policy_recipient(const struct config_identity *id)
{
	struct policy_recipient	r;

	r.id = id->id;
	r.nation = id->nation;
	r.has_secret = id->secret != NULL;
	return (r);
}

/* One owner's part of a class key: what it decides for this recipient. */
static void
policy_class_owner(FILE *fp, const struct policy_owner *o,
    const struct policy_recipient *rcp)
{
	const char	*canon[POLICY_MAX_MATCH];
	unsigned	 i, n = 0;

	fprintf(fp, "owner=%s ", o->info.owner);
	if (strcmp(o->info.owner, rcp->nation) == 0) {
		fprintf(fp, "self\n");
		return;
	}
	if (o->info.state != POLICY_OWNER_LOADED) {
		fprintf(fp, "closed\n");
		return;
	}
	fprintf(fp, "valid=%" PRId64 "..%" PRId64 "\n", o->info.valid_from_ns,
	    o->info.valid_until_ns);
	for (i = 0; i < o->nrules && n < POLICY_MAX_MATCH; i++)
		if (policy_rule_applies(&o->rules[i], rcp))
			canon[n++] = o->rules[i].canon;
	qsort(canon, n, sizeof(*canon), policy_strcmp);
	/* Intersection and max are idempotent: a repeated rule adds nothing. */
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(canon[i], canon[i - 1]) != 0)
			fprintf(fp, " rule %s\n", canon[i]);
}

/*
 * Release class key: SHA-256 of everything policy_evaluate() reads of the
 * recipient, in canonical form: its nation, whether it has a secret, the
 * daemon's nation and, per owner, "self", "closed" or the validity window
 * and the sorted distinct canonical texts of the rules addressing it. Rule
 * ids are not part of it (two identical rules for two identities give one
 * class). Owners outside the set are closed for every non-owner alike.
 */
void
policy_class_key(const struct policy_set *set,
    const struct policy_recipient *rcp, const char *daemon_nation, char *buf)
{
	FILE		*fp;
	char		*text = NULL;
	size_t		 len = 0;
	unsigned	 i;

	if ((fp = open_memstream(&text, &len)) == NULL)
		fatal("%s: open_memstream", __func__);
	fprintf(fp, "class v1 nation=%s secret=%d daemon=%s\n", rcp->nation,
	    rcp->has_secret ? 1 : 0, daemon_nation);
	for (i = 0; rcp->has_secret && set != NULL && i < set->nowners; i++)
		policy_class_owner(fp, set->owners[i], rcp);
	if (fclose(fp) != 0 || policy_sha256(text, len, buf) == -1)
		fatalx("%s: cannot build the class key", __func__);
	free(text);
}

/* Text of an area list for the matrix: "+east-sea,-dmz-buffer". */
static void
policy_print_areas(FILE *fp, const struct policy_rule *ru, int *first)
{
	unsigned	i;

	for (i = 0; i < ru->ninc; i++, *first = 0)
		fprintf(fp, "%s+%s", *first ? " areas=" : ",",
		    ru->inc[i]->name);
	for (i = 0; i < ru->nexc; i++, *first = 0)
		fprintf(fp, "%s-%s", *first ? " areas=" : ",",
		    ru->exc[i]->name);
}

/* The rule-level outcome for owner x recipient x category, one line. */
static void
policy_print_cell(FILE *fp, const struct policy_owner *o,
    const struct policy_recipient *rcp, enum tf_category cat)
{
	const struct policy_rule	*ru, *match[POLICY_MAX_MATCH];
	struct policy_sanitize		 san = { 0, 0, 0 };
	enum tf_class			 max = TF_CLASS_TOP_SECRET;
	char				 id[POLICY_RULE_ID_LEN];
	struct policy_rule_id		 rid;
	unsigned			 i, n = 0;
	int				 first = 1;

	fprintf(fp, "release %s %s/%s %s ", o->info.owner, rcp->id,
	    rcp->nation, policy_cat_names[cat]);
	if (!rcp->has_secret) {
		fprintf(fp, "deny no-secret\n");
		return;
	}
	if (strcmp(o->info.owner, rcp->nation) == 0) {
		fprintf(fp, "allow owner (unsanitized)\n");
		return;
	}
	if (o->info.state != POLICY_OWNER_LOADED) {
		fprintf(fp, "deny owner-failed-closed\n");
		return;
	}
	for (i = 0; i < o->nrules && n < POLICY_MAX_MATCH; i++)
		if (policy_rule_applies(&o->rules[i], rcp))
			match[n++] = &o->rules[i];
	for (i = 0; i < n; i++)
		if (!(match[i]->cats & (1u << cat)))
			break;
	if (n == 0 || i < n) {
		fprintf(fp, "deny %s\n", n == 0 ? "no-rule" : "category");
		return;
	}
	fprintf(fp, "allow");
	for (i = 0; i < n; i++) {
		ru = match[i];
		if (ru->max < max)
			max = ru->max;
		san.coarsen_m = san.coarsen_m > ru->san.coarsen_m ?
		    san.coarsen_m : ru->san.coarsen_m;
		san.delay_ns = san.delay_ns > ru->san.delay_ns ?
		    san.delay_ns : ru->san.delay_ns;
		san.strip_sensor |= ru->san.strip_sensor;
		if (ru->via[0] != '\0')
			fprintf(fp, " via=%s", ru->via);
		policy_print_areas(fp, ru, &first);
	}
	fprintf(fp, " max=%s", config_class_name(max));
	if (san.coarsen_m > 0)
		fprintf(fp, " coarsen_m=%" PRIu32, san.coarsen_m);
	if (san.delay_ns > 0)
		fprintf(fp, " delay_s=%" PRId64, san.delay_ns / POLICY_NS);
	if (san.strip_sensor)
		fprintf(fp, " strip_sensor");
	for (i = 0; i < n; i++) {
		memcpy(rid.owner, o->info.owner, TF_NATION_LEN);
		rid.version = o->info.version;
		rid.index = match[i]->index;
		policy_rule_id_str(&rid, id);
		fprintf(fp, "%s%s", i == 0 ? " rules=" : ",", id);
	}
	fputc('\n', fp);
}

/* One header line per owner: what was loaded, or why it fails closed. */
static void
policy_print_owner(FILE *fp, const struct policy_owner_info *i)
{
	char	from[POLICY_TIMELEN], until[POLICY_TIMELEN];

	if (i->state != POLICY_OWNER_LOADED) {
		fprintf(fp, "policy %s %s fails-closed: %s\n", i->owner,
		    policy_state_name(i->state), i->error[0] != '\0' ?
		    i->error : "no policy_dir in the configuration");
		return;
	}
	policy_time_fmt(i->valid_from_ns, from);
	policy_time_fmt(i->valid_until_ns, until);
	fprintf(fp, "policy %s loaded version=%" PRIu32 " rules=%u valid=%s.."
	    "%s file=%s sha256=%s\n", i->owner, i->version, i->nrules, from,
	    until, i->file, i->sha256);
}

/*
 * The recipient an uplink stands for, as uplink_judge() asks about it:
 * the link's id and its recipient nation; no per-center secret applies.
 */
struct policy_recipient
policy_uplink_recipient(const char *link_id, const char *nation)
{
	struct policy_recipient	r;

	r.id = link_id;
	r.nation = nation;
	r.has_secret = 1;
	return (r);
}

/* One owner's row of cells for one recipient, every category. */
static void
policy_print_row(FILE *fp, const struct policy_owner *o,
    const struct policy_recipient *rcp)
{
	int	c;

	for (c = TF_CAT_NONE + 1; c < TF_CAT_MAX; c++)
		policy_print_cell(fp, o, rcp, (enum tf_category)c);
}

/*
 * The effective release matrix, rule level: what each owner's rules let
 * each subscriber, then each uplink's recipient nation, receive per
 * category, for a contribution whose label allows the recipient. "via=X"
 * when this daemon is not operated by X means only data that reached it
 * from an X daemon.
 */
void
policy_print_matrix(const struct policy_set *set, const struct config *cfg,
    FILE *fp)
{
	struct policy_recipient	 rcp;
	unsigned		 i, j;

	fprintf(fp, "release matrix daemon=%s nation=%s owners=%u "
	    "uplinks=%u\n", cfg->name, cfg->nation, policy_nowners(set),
	    cfg->nuplinks);
	for (i = 0; i < policy_nowners(set); i++)
		policy_print_owner(fp, &set->owners[i]->info);
	for (j = 0; j < cfg->nuplinks; j++)
		fprintf(fp, "uplink %s recipient=%s\n", cfg->uplinks[j].id,
		    cfg->uplinks[j].recipient);
	for (i = 0; i < policy_nowners(set); i++) {
		for (j = 0; j < cfg->nidentities; j++) {
			if (cfg->identities[j].role != CONFIG_ROLE_SUBSCRIBER)
				continue;
			rcp = policy_recipient(&cfg->identities[j]);
			policy_print_row(fp, set->owners[i], &rcp);
		}
		for (j = 0; j < cfg->nuplinks; j++) {
			rcp = policy_uplink_recipient(cfg->uplinks[j].id,
			    cfg->uplinks[j].recipient);
			policy_print_row(fp, set->owners[i], &rcp);
		}
	}
}

/*
 * Snap to a fixed global grid, independent of time and track, so repeated
 * reports of one cell give one value and cannot be averaged away.
 * Latitude bands are grid_m / 111320 degrees tall, counted from the
 * equator; a band's longitude cells divide 360 degrees into the whole
 * number of cells of at least grid_m at the band's centre latitude
 * (at least one). The result is the centre of the cell.
 */
void
policy_coarsen(double lat, double lon, double grid_m, double *lat2,
    double *lon2)
{
	double	dlat, dlon, band, circ;
	long	ncell;

	if (!(grid_m > 0) || !isfinite(lat) || !isfinite(lon)) {
		*lat2 = lat;
		*lon2 = lon;
		return;
	}
	dlat = grid_m / POLICY_M_PER_DEG;
	band = (floor(lat / dlat) + 0.5) * dlat;
	if (band > 90)
		band = 90 - dlat / 2;
	if (band < -90)
		band = -90 + dlat / 2;
	circ = 360 * POLICY_M_PER_DEG * cos(band * M_PI / 180);
	ncell = (long)floor(circ / grid_m);
	if (ncell < 1)
		ncell = 1;
	dlon = 360.0 / (double)ncell;
	lon = fmod(lon + 180, 360);
	if (lon < 0)
		lon += 360;
	*lat2 = band;
	*lon2 = (floor(lon / dlon) + 0.5) * dlon - 180;
}

/* The audit/log spelling of a reason. */
const char *
policy_reason_name(enum policy_reason r)
{
	if (r < 0 || r >= POLICY_REASON_MAX)
		return ("unknown");
	return (policy_reason_names[r]);
}

/* The spelling of an owner state. */
const char *
policy_state_name(enum policy_state s)
{
	switch (s) {
	case POLICY_OWNER_LOADED:
		return ("loaded");
	case POLICY_OWNER_FAILED:
		return ("failed");
	case POLICY_OWNER_MISSING:
		return ("missing");
	}
	return ("unknown");
}

/* The policy (and scenario) spelling of a category. */
const char *
policy_category_name(enum tf_category c)
{
	if (c < 0 || c >= TF_CAT_MAX)
		return ("unknown");
	return (policy_cat_names[c]);
}

/* "KOR/3/1": owner/version/index. */
void
policy_rule_id_str(const struct policy_rule_id *id, char *buf)
{
	snprintf(buf, POLICY_RULE_ID_LEN, "%s/%" PRIu32 "/%" PRIu32,
	    id->owner, id->version, id->index);
}
