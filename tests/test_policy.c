/*
 * policy.c against its fixtures (tests/policy/): every bad/<case>/KOR.yaml
 * fails KOR closed with exactly the line in bad/<case>.err while the rest
 * loads; evaluation, release class keys, reload, coarsening, the matrix
 * and the shipped policies (configs/policy/ with configs/dev-plain.yaml).
 */
#include <sys/stat.h>

#include <glob.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "trackfuse/config.h"
#include "trackfuse/policy.h"

#ifndef TF_TEST_POLICY_DIR
#error "TF_TEST_POLICY_DIR must name tests/policy"
#endif
#ifndef TF_TEST_SHIPPED_DIR
#error "TF_TEST_SHIPPED_DIR must name configs/"
#endif

#define NS		((int64_t)1000000000)
#define T_2026_01_01	((int64_t)1767225600 * NS)	/* date -d ... +%s */
#define T_2026_06_01	((int64_t)1780272000 * NS)
#define T_2027_12_31_END ((int64_t)1830297599 * NS)	/* 23:59:59Z */
#define T_NOW		((int64_t)1795910400 * NS)	/* 2026-11-29 */

static struct config	*test_cfg;

/* Read a whole small file into a NUL-terminated string, newline cut. */
static char *
test_slurp(const char *path, size_t *lenp)
{
	FILE	*fp;
	char	*buf;
	size_t	 n;

	if ((fp = fopen(path, "r")) == NULL)
		return (NULL);
	buf = calloc(1, 65536);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, fp);
	fclose(fp);
	if (lenp != NULL)
		*lenp = n;
	else
		while (n > 0 && buf[n - 1] == '\n')
			buf[--n] = '\0';
	return (buf);
}

/* A labelled contribution at a position. */
static struct policy_contrib
test_contrib(const char *owner, enum tf_class cls, const char *rel,
    enum tf_category cat, double lat, double lon)
{
	struct policy_contrib	c;
	const char		*p;

	memset(&c, 0, sizeof(c));
	snprintf(c.label.owner, sizeof(c.label.owner), "%s", owner);
	snprintf(c.origin, sizeof(c.origin), "%s", owner);
	c.label.cls = cls;
	for (p = rel; p != NULL && *p != '\0' && c.label.nrel < TF_MAX_REL;
	    p += p[3] == ',' ? 4 : 3) {
		memcpy(c.label.rel[c.label.nrel], p, 3);
		c.label.rel[c.label.nrel++][3] = '\0';
		if (p[3] == '\0')
			break;
	}
	c.cat = cat;
	c.lat_deg = lat;
	c.lon_deg = lon;
	c.t_ns = T_NOW;
	return (c);
}

/* The recipient of a test config identity. */
static struct policy_recipient
test_rcp(const char *id)
{
	const struct config_identity	*ci = config_identity(test_cfg, id);

	assert_non_null(ci);
	return (policy_recipient(ci));
}

/* Evaluate at the USA daemon; returns the decision. */
static struct policy_decision
test_eval(const struct policy_set *set, const struct policy_contrib *c,
    const char *id, const char *daemon)
{
	struct policy_decision		d;
	struct policy_recipient		r = test_rcp(id);
	int				rv;

	memset(&d, 0xa5, sizeof(d));
	rv = policy_evaluate(set, c, &r, daemon, &d);
	assert_int_equal(rv, d.allowed);
	if (!d.allowed) {
		assert_int_equal(d.san.coarsen_m, 0);
		assert_int_equal(d.san.delay_ns, 0);
	}
	return (d);
}

/* Every bad/<case>/KOR.yaml: KOR fails with its golden line. */
static void
test_bad(void **state)
{
	struct policy_set		*set;
	const struct policy_owner_info	*o;
	glob_t				 g;
	char				 dir[PATH_MAX], *want;
	size_t				 i, n;
	int				 failed = 0;

	(void)state;
	assert_int_equal(glob("bad/*.err", 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 25);
	for (i = 0; i < g.gl_pathc; i++) {
		n = strlen(g.gl_pathv[i]) - strlen("bad/") - strlen(".err");
		snprintf(dir, sizeof(dir), "%.*s", (int)n, g.gl_pathv[i] + 4);
		assert_int_equal(chdir("bad"), 0);
		set = policy_load(test_cfg, dir, T_NOW);
		assert_int_equal(chdir(".."), 0);
		assert_non_null(set);
		want = test_slurp(g.gl_pathv[i], NULL);
		assert_non_null(want);
		o = policy_owner_find(set, "KOR");
		assert_non_null(o);
		if (o->state != POLICY_OWNER_FAILED ||
		    strcmp(o->error, want) != 0) {
			print_error("%s:\n  got:  %s %s\n  want: %s\n", dir,
			    policy_state_name(o->state), o->error, want);
			failed++;
		}
		assert_int_equal(o->nrules, 0);
		free(want);
		policy_free(set);
	}
	print_message("%zu bad policies, %d mismatched\n", g.gl_pathc,
	    failed);
	globfree(&g);
	assert_int_equal(failed, 0);
}

/* Every bad case directory has its golden file. */
static void
test_bad_complete(void **state)
{
	glob_t	g;
	char	err[PATH_MAX];
	size_t	i;

	(void)state;
	assert_int_equal(glob("bad/*/KOR.yaml", 0, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++) {
		snprintf(err, sizeof(err), "%.*s.err",
		    (int)(strlen(g.gl_pathv[i]) - strlen("/KOR.yaml")),
		    g.gl_pathv[i]);
		if (access(err, R_OK) != 0)
			fail_msg("%s has no %s", g.gl_pathv[i], err);
	}
	globfree(&g);
}

/* SHA-256 hex of a file, computed here independently of policy.c. */
static void
test_file_sha(const char *path, char *hex)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned	mdlen, i;
	size_t		len;
	char		*buf = test_slurp(path, &len);

	assert_non_null(buf);
	assert_true(EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL));
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	free(buf);
}

/* The good set: every owner loaded with file, version, hash, window. */
static void
test_load_good(void **state)
{
	struct policy_set		*set;
	const struct policy_owner_info	*o;
	char				 sha[POLICY_SHA256_HEX];

	(void)state;
	set = policy_load(test_cfg, "good", T_NOW);
	assert_non_null(set);
	assert_int_equal(policy_nowners(set), 4);	/* GBR has no file */
	assert_string_equal(policy_owner_info(set, 0)->owner, "GBR");
	assert_int_equal(policy_owner_info(set, 0)->state,
	    POLICY_OWNER_MISSING);
	assert_null(policy_owner_info(set, 4));
	o = policy_owner_find(set, "KOR");
	assert_int_equal(o->state, POLICY_OWNER_LOADED);
	assert_string_equal(o->file, "good/KOR.yaml");
	assert_int_equal(o->version, 3);
	assert_int_equal(o->nrules, 3);
	assert_true(o->valid_from_ns == T_2026_01_01);
	assert_true(o->valid_until_ns == T_2027_12_31_END);
	test_file_sha("good/KOR.yaml", sha);
	assert_string_equal(o->sha256, sha);
	assert_string_equal(o->error, "");
	o = policy_owner_find(set, "JPN");
	assert_true(o->valid_from_ns == T_2026_06_01);
	test_file_sha("good/JPN.yaml", sha);
	assert_string_equal(o->sha256, sha);
	assert_null(policy_owner_find(set, "FRA"));
	policy_free(set);
}

/* No rule for a recipient, no policy for an owner: denied. */
static void
test_default_deny(void **state)
{
	struct policy_set	*set = *state;
	struct policy_contrib	 c;
	struct policy_decision	 d;

	c = test_contrib("USA", TF_CLASS_SECRET, "USA,KOR,JPN,GBR",
	    TF_CAT_AIR, 40, 132);
	d = test_eval(set, &c, "CC-GBR", "USA");
	assert_false(d.allowed);
	assert_int_equal(d.reason, POLICY_DENY_NO_RULE);
	assert_int_equal(d.nrules, 0);
	c = test_contrib("GBR", TF_CLASS_SECRET, "USA,KOR,JPN,GBR",
	    TF_CAT_AIR, 40, 132);
	d = test_eval(set, &c, "CC-USA", "USA");
	assert_int_equal(d.reason, POLICY_DENY_FAILED);
	c = test_contrib("FRA", TF_CLASS_SECRET, "USA", TF_CAT_AIR, 40, 132);
	d = test_eval(set, &c, "CC-USA", "USA");
	assert_int_equal(d.reason, POLICY_DENY_FAILED);
	/* The owner's own centers get its data, unsanitized. */
	d = test_eval(set, &c, "CC-GBR", "USA");
	assert_int_equal(d.reason, POLICY_DENY_FAILED);
	c = test_contrib("GBR", TF_CLASS_TOP_SECRET, "", TF_CAT_LAND, 0, 0);
	d = test_eval(set, &c, "CC-GBR", "USA");
	assert_true(d.allowed);
	assert_int_equal(d.reason, POLICY_OK_OWNER);
	assert_int_equal(d.san.coarsen_m, 0);
}

/* KOR to JPN: the nation rule alone, and with CC-JPN-3's own rule. */
static void
test_most_restrictive(void **state)
{
	struct policy_set	*set = *state;
	struct policy_contrib	 c;
	struct policy_decision	 d;
	char			 id[POLICY_RULE_ID_LEN];

	c = test_contrib("KOR", TF_CLASS_SECRET, "USA,KOR,JPN",
	    TF_CAT_BALLISTIC_MISSILE, 40, 132);
	d = test_eval(set, &c, "CC-JPN", "USA");
	assert_true(d.allowed);
	assert_int_equal(d.reason, POLICY_OK);
	assert_int_equal(d.san.coarsen_m, 1000);
	assert_true(d.san.delay_ns == 10 * NS);
	assert_int_equal(d.san.strip_sensor, 1);
	assert_int_equal(d.nrules, 1);
	policy_rule_id_str(&d.rules[0], id);
	assert_string_equal(id, "KOR/3/1");
	/* CC-JPN-3: its rule caps the class at III = confidential. */
	d = test_eval(set, &c, "CC-JPN-3", "USA");
	assert_false(d.allowed);
	assert_int_equal(d.reason, POLICY_DENY_CLASS);
	policy_rule_id_str(&d.rules[0], id);
	assert_string_equal(id, "KOR/3/2");
	c.label.cls = TF_CLASS_CONFIDENTIAL;
	d = test_eval(set, &c, "CC-JPN-3", "USA");
	assert_true(d.allowed);
	assert_int_equal(d.san.coarsen_m, 1000);	/* max(1000, 500) */
	assert_true(d.san.delay_ns == 30 * NS);		/* max(10, 30) */
	assert_int_equal(d.san.strip_sensor, 1);	/* or */
	assert_int_equal(d.nrules, 2);
	/* Air: the nation rule allows it, CC-JPN-3's does not. */
	c.cat = TF_CAT_AIR;
	assert_true(test_eval(set, &c, "CC-JPN", "USA").allowed);
	d = test_eval(set, &c, "CC-JPN-3", "USA");
	assert_int_equal(d.reason, POLICY_DENY_CATEGORY);
}

/* via USA: at a USA daemon, or having come from one over federation. */
static void
test_via(void **state)
{
	struct policy_set	*set = *state;
	struct policy_contrib	 c;
	struct policy_decision	 d;

	c = test_contrib("KOR", TF_CLASS_SECRET, "USA,KOR,JPN", TF_CAT_AIR,
	    40, 132);
	assert_true(test_eval(set, &c, "CC-JPN", "USA").allowed);
	d = test_eval(set, &c, "CC-JPN", "KOR");
	assert_int_equal(d.reason, POLICY_DENY_VIA);
	d = test_eval(set, &c, "CC-JPN", "JPN");
	assert_int_equal(d.reason, POLICY_DENY_VIA);
	c.federated = 1;
	memcpy(c.from_daemon, "USA", 4);
	assert_true(test_eval(set, &c, "CC-JPN", "JPN").allowed);
	memcpy(c.from_daemon, "KOR", 4);
	d = test_eval(set, &c, "CC-JPN", "JPN");
	assert_int_equal(d.reason, POLICY_DENY_VIA);
	/* A rule without via does not care where it is evaluated. */
	assert_true(test_eval(set, &c, "CC-USA", "JPN").allowed);
}

/* Include east-sea or south, exclude dmz-buffer; both sides of edges. */
static void
test_areas(void **state)
{
	static const struct {
		double	lat, lon;
		int	allowed;
	} pts[] = {
		{ 40.0, 132.0, 1 },	/* east-sea */
		{ 36.0, 128.51, 1 },	/* just inside its west edge */
		{ 36.0, 128.49, 0 },	/* just outside */
		{ 41.99, 135.99, 1 },
		{ 42.01, 135.0, 0 },
		{ 38.0, 128.8, 0 },	/* east-sea but in dmz-buffer */
		{ 38.0, 129.01, 1 },	/* just east of the buffer */
		{ 38.71, 128.8, 1 },	/* just north of it */
		{ 34.0, 127.0, 1 },	/* south */
		{ 32.9, 127.0, 0 },
		{ 45.0, 140.0, 0 },	/* nowhere */
		{ -40.0, -132.0, 0 },
	};
	struct policy_set	*set = *state;
	struct policy_contrib	 c;
	struct policy_decision	 d;
	size_t			 i;

	for (i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		c = test_contrib("KOR", TF_CLASS_SECRET, "JPN",
		    TF_CAT_BALLISTIC_MISSILE, pts[i].lat, pts[i].lon);
		d = test_eval(set, &c, "CC-JPN", "USA");
		if (d.allowed != pts[i].allowed)
			fail_msg("(%g, %g): allowed %d, want %d", pts[i].lat,
			    pts[i].lon, d.allowed, pts[i].allowed);
		if (!d.allowed)
			assert_int_equal(d.reason, POLICY_DENY_AREA);
	}
	/* Rules without areas release anywhere. */
	c = test_contrib("KOR", TF_CLASS_SECRET, "USA", TF_CAT_AIR, -40, -132);
	assert_true(test_eval(set, &c, "CC-USA", "USA").allowed);
}

/* Categories, classification and the label's releasable-to list. */
static void
test_label_class_category(void **state)
{
	struct policy_set	*set = *state;
	struct policy_contrib	 c;
	struct policy_decision	 d;

	c = test_contrib("USA", TF_CLASS_CONFIDENTIAL, "USA,JPN", TF_CAT_AIR,
	    0, 0);
	assert_true(test_eval(set, &c, "CC-JPN", "USA").allowed);
	c.cat = TF_CAT_SURFACE;
	assert_int_equal(test_eval(set, &c, "CC-JPN", "USA").reason,
	    POLICY_DENY_CATEGORY);
	c.cat = TF_CAT_NONE;
	assert_int_equal(test_eval(set, &c, "CC-KOR", "USA").reason,
	    POLICY_DENY_LABEL);
	c = test_contrib("USA", TF_CLASS_SECRET, "USA,JPN", TF_CAT_AIR, 0, 0);
	d = test_eval(set, &c, "CC-JPN", "USA");
	assert_int_equal(d.reason, POLICY_DENY_CLASS);
	c.label.cls = TF_CLASS_TOP_SECRET;
	assert_int_equal(test_eval(set, &c, "CC-JPN", "USA").reason,
	    POLICY_DENY_CLASS);
	c.label.cls = TF_CLASS_UNCLASSIFIED;
	assert_true(test_eval(set, &c, "CC-JPN", "USA").allowed);
	/* The rule allows KOR everything; the label does not name KOR. */
	d = test_eval(set, &c, "CC-KOR", "USA");
	assert_int_equal(d.reason, POLICY_DENY_LABEL);
	c = test_contrib("USA", TF_CLASS_SECRET, "JPN,KOR", TF_CAT_LAND, 0, 0);
	assert_true(test_eval(set, &c, "CC-KOR", "USA").allowed);
	/* KOR's national level II = secret caps KOR -> USA at secret. */
	c = test_contrib("KOR", TF_CLASS_TOP_SECRET, "USA", TF_CAT_AIR, 0, 0);
	assert_int_equal(test_eval(set, &c, "CC-USA", "USA").reason,
	    POLICY_DENY_CLASS);
}

/* Unlabeled data (no owner or class NONE) reaches its owner only. */
static void
test_unlabeled(void **state)
{
	struct policy_set	*set = *state;
	struct policy_contrib	 c;
	struct policy_decision	 d;

	c = test_contrib("", TF_CLASS_NONE, "USA,KOR,JPN", TF_CAT_AIR, 40,
	    132);
	memcpy(c.origin, "KOR", 4);
	d = test_eval(set, &c, "CC-KOR", "USA");
	assert_true(d.allowed);
	assert_int_equal(d.reason, POLICY_OK_OWNER);
	assert_int_equal(test_eval(set, &c, "CC-USA", "USA").reason,
	    POLICY_DENY_UNLABELED);
	assert_int_equal(test_eval(set, &c, "CC-JPN", "USA").reason,
	    POLICY_DENY_UNLABELED);
	c = test_contrib("KOR", TF_CLASS_NONE, "USA,KOR,JPN", TF_CAT_AIR, 40,
	    132);
	assert_true(test_eval(set, &c, "CC-KOR", "USA").allowed);
	assert_int_equal(test_eval(set, &c, "CC-USA", "USA").reason,
	    POLICY_DENY_UNLABELED);
	c = test_contrib("", TF_CLASS_SECRET, "USA,KOR,JPN", TF_CAT_AIR, 40,
	    132);
	assert_int_equal(test_eval(set, &c, "CC-USA", "USA").reason,
	    POLICY_DENY_UNLABELED);
}

/* KOR's file is broken: its data only to KOR; USA's carries on. */
static void
test_failed_owner(void **state)
{
	struct policy_set		*set;
	const struct policy_owner_info	*o;
	struct policy_contrib		 c;

	(void)state;
	set = policy_load(test_cfg, "mixed", T_NOW);
	assert_non_null(set);
	o = policy_owner_find(set, "KOR");
	assert_int_equal(o->state, POLICY_OWNER_FAILED);
	assert_string_equal(o->error, "mixed/KOR.yaml:7:32: unknown category "
	    "'submarine' (air, surface, subsurface, space, ballistic-missile, "
	    "land)");
	assert_int_equal(policy_owner_find(set, "USA")->state,
	    POLICY_OWNER_LOADED);
	c = test_contrib("KOR", TF_CLASS_SECRET, "USA,KOR,JPN", TF_CAT_AIR, 40,
	    132);
	assert_int_equal(test_eval(set, &c, "CC-USA", "USA").reason,
	    POLICY_DENY_FAILED);
	assert_int_equal(test_eval(set, &c, "CC-JPN", "USA").reason,
	    POLICY_DENY_FAILED);
	assert_true(test_eval(set, &c, "CC-KOR", "USA").allowed);
	c = test_contrib("USA", TF_CLASS_SECRET, "USA,KOR,JPN", TF_CAT_AIR, 40,
	    132);
	assert_true(test_eval(set, &c, "CC-KOR", "USA").allowed);
	assert_true(test_eval(set, &c, "CC-USA", "USA").allowed);
	policy_free(set);
	/* No policy_dir at all: every owner is missing, owners see theirs. */
	set = policy_load(test_cfg, NULL, T_NOW);
	assert_int_equal(policy_owner_find(set, "USA")->state,
	    POLICY_OWNER_MISSING);
	assert_int_equal(test_eval(set, &c, "CC-KOR", "USA").reason,
	    POLICY_DENY_FAILED);
	assert_true(test_eval(set, &c, "CC-USA", "USA").allowed);
	policy_free(set);
	set = policy_load(test_cfg, "no-such-dir", T_NOW);
	assert_int_equal(policy_nowners(set), 4);
	assert_int_equal(policy_owner_find(set, "KOR")->state,
	    POLICY_OWNER_MISSING);
	assert_string_equal(policy_owner_find(set, "KOR")->error,
	    "no-such-dir/KOR.yaml: no such file");
	policy_free(set);
}

/* JPN's window opens 2026-06-01 and ends 2027-12-31, by event time. */
static void
test_validity(void **state)
{
	struct policy_set	*set = *state;
	struct policy_contrib	 c;

	c = test_contrib("JPN", TF_CLASS_SECRET, "USA,KOR", TF_CAT_AIR, 0, 0);
	c.t_ns = T_2026_06_01 - 1;
	assert_int_equal(test_eval(set, &c, "CC-USA", "USA").reason,
	    POLICY_DENY_VALIDITY);
	c.t_ns = T_2026_06_01;
	assert_true(test_eval(set, &c, "CC-USA", "USA").allowed);
	c.t_ns = T_2027_12_31_END;
	assert_true(test_eval(set, &c, "CC-USA", "USA").allowed);
	c.t_ns = T_2027_12_31_END + 1;
	assert_int_equal(test_eval(set, &c, "CC-USA", "USA").reason,
	    POLICY_DENY_VALIDITY);
	/* The owner's own centers are not bound by its window. */
	assert_true(test_eval(set, &c, "CC-JPN", "USA").allowed);
}

/* A subscriber without a secret gets nothing, not even its own data. */
static void
test_no_secret(void **state)
{
	struct policy_set	*set = *state;
	struct policy_contrib	 c;

	c = test_contrib("USA", TF_CLASS_UNCLASSIFIED, "USA", TF_CAT_AIR, 0,
	    0);
	assert_true(test_eval(set, &c, "CC-USA", "USA").allowed);
	assert_int_equal(test_eval(set, &c, "CC-USA-NOSECRET", "USA").reason,
	    POLICY_DENY_NO_SECRET);
}

/* The class key of a test identity at a daemon. */
static void
test_key(const struct policy_set *set, const char *id, const char *daemon,
    char *key)
{
	struct policy_recipient	r = test_rcp(id);

	memset(key, 'x', POLICY_KEYLEN);
	policy_class_key(set, &r, daemon, key);
	assert_int_equal(strlen(key), POLICY_KEYLEN - 1);
	assert_int_equal(strspn(key, "0123456789abcdef"), POLICY_KEYLEN - 1);
	assert_string_not_equal(key, POLICY_CLASS_FULL);
}

/* 1 if two recipients decide every probe contribution alike. */
static int
test_same_decisions(const struct policy_set *set, const char *a,
    const char *b)
{
	static const char *const owners[] = { "USA", "KOR", "JPN", "GBR" };
	static const char *const rels[] = { "USA,KOR,JPN,GBR", "JPN", "KOR",
					    "USA" };
	static const double	pts[][2] = { { 40, 132 }, { 38, 128.8 },
					    { 34, 127 }, { 0, 0 } };
	struct policy_contrib	c;
	struct policy_decision	da, db;
	unsigned		o, r, p, cat, cls, fed;

	for (o = 0; o < 4; o++)
	for (r = 0; r < 4; r++)
	for (p = 0; p < 4; p++)
	for (cat = 0; cat < TF_CAT_MAX; cat++)
	for (cls = 0; cls < TF_CLASS_MAX; cls++)
	for (fed = 0; fed < 2; fed++) {
		c = test_contrib(owners[o], cls, rels[r], cat, pts[p][0],
		    pts[p][1]);
		c.federated = fed;
		memcpy(c.from_daemon, "USA", 4);
		da = test_eval(set, &c, a, "KOR");
		db = test_eval(set, &c, b, "KOR");
		if (da.allowed != db.allowed || da.reason != db.reason ||
		    memcmp(&da.san, &db.san, sizeof(da.san)) != 0)
			return (0);
	}
	return (1);
}

/* Equal keys for equivalent recipients, different otherwise. */
static void
test_class_keys(void **state)
{
	struct policy_set	*set = *state, *mixed;
	char			 jpn[POLICY_KEYLEN], jpn2[POLICY_KEYLEN];
	char			 jpn3[POLICY_KEYLEN], k[POLICY_KEYLEN];

	test_key(set, "CC-JPN", "USA", jpn);
	test_key(set, "CC-JPN-2", "USA", jpn2);
	test_key(set, "CC-JPN-3", "USA", jpn3);
	assert_string_equal(jpn, jpn2);
	assert_string_not_equal(jpn, jpn3);
	assert_true(test_same_decisions(set, "CC-JPN", "CC-JPN-2"));
	assert_false(test_same_decisions(set, "CC-JPN", "CC-JPN-3"));
	test_key(set, "CC-KOR", "USA", k);
	assert_string_not_equal(jpn, k);
	test_key(set, "CC-USA", "USA", k);
	test_key(set, "CC-USA-NOSECRET", "USA", jpn2);
	assert_string_not_equal(k, jpn2);
	assert_false(test_same_decisions(set, "CC-USA", "CC-USA-NOSECRET"));
	/* The daemon's nation is part of it (via). */
	test_key(set, "CC-JPN", "KOR", k);
	assert_string_not_equal(jpn, k);
	/* A different policy set, a different key for the same recipient. */
	mixed = policy_load(test_cfg, "mixed", T_NOW);
	test_key(mixed, "CC-JPN", "USA", k);
	assert_string_not_equal(jpn, k);
	/* Same set loaded twice: same keys (nothing but content counts). */
	policy_free(mixed);
	mixed = policy_load(test_cfg, "good", T_NOW);
	test_key(mixed, "CC-JPN-3", "USA", k);
	assert_string_equal(jpn3, k);
	policy_free(mixed);
}

/* Write text to path. */
static void
test_write(const char *path, const char *text)
{
	FILE	*fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Reload one owner: a new set, the old one intact, others shared. */
static void
test_reload(void **state)
{
	struct policy_set	*a, *b, *c;
	struct policy_contrib	 k;
	char			 dir[64], path[128], *text;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_policy.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/KOR.yaml", dir);
	text = test_slurp("good/KOR.yaml", NULL);
	test_write(path, text);
	a = policy_load(test_cfg, dir, T_NOW);
	/* Narrow KOR -> JPN to ballistic missiles. */
	*strstr(text, "[ballistic-missile, air]") = '\0';
	test_write(path, "owner: KOR\nversion: 4\nvalid: { from: "
	    "2026-01-01T00:00:00Z, until: 2027-12-31T23:59:59Z }\nrules:\n"
	    "  - { to: JPN, categories: [ballistic-missile], "
	    "max_classification: secret }\n");
	free(text);
	b = policy_reload_owner(a, test_cfg, "KOR", T_NOW);
	assert_non_null(b);
	assert_int_equal(policy_owner_find(a, "KOR")->version, 3);
	assert_int_equal(policy_owner_find(b, "KOR")->version, 4);
	assert_ptr_equal(policy_owner_find(a, "USA"),
	    policy_owner_find(b, "USA"));
	k = test_contrib("KOR", TF_CLASS_SECRET, "JPN", TF_CAT_AIR, 40, 132);
	assert_true(test_eval(a, &k, "CC-JPN", "USA").allowed);
	assert_int_equal(test_eval(b, &k, "CC-JPN", "USA").reason,
	    POLICY_DENY_CATEGORY);
	policy_free(a);
	test_write(path, "owner: KOR\n");
	c = policy_reload_owner(b, test_cfg, "KOR", T_NOW);
	assert_int_equal(policy_owner_find(c, "KOR")->state,
	    POLICY_OWNER_FAILED);
	assert_int_equal(test_eval(c, &k, "CC-JPN", "USA").reason,
	    POLICY_DENY_FAILED);
	assert_null(policy_reload_owner(b, test_cfg, "../x", T_NOW));
	policy_free(b);
	assert_int_equal(policy_owner_find(c, "USA")->state,
	    POLICY_OWNER_MISSING);
	policy_free(c);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Coarsening: on the grid, stable within a cell, idempotent, near. */
static void
test_coarsen(void **state)
{
	static const double	grids[] = { 1000, 500, 25000 };
	static const double	pts[][2] = { { 37.51234, 129.98765 },
				    { -33.9, 151.2 }, { 0.0001, -179.9999 },
				    { 89.9999, 10 }, { 41.0, 179.9999 } };
	double			 la, lo, la2, lo2, g, dlat, k, d;
	size_t			 i, j;
	int			 n;

	(void)state;
	for (i = 0; i < sizeof(grids) / sizeof(grids[0]); i++)
	for (j = 0; j < sizeof(pts) / sizeof(pts[0]); j++) {
		g = grids[i];
		dlat = g / 111320.0;
		policy_coarsen(pts[j][0], pts[j][1], g, &la, &lo);
		k = la / dlat - 0.5;
		assert_true(fabs(k - round(k)) < 1e-6);	/* band centre */
		policy_coarsen(la, lo, g, &la2, &lo2);
		assert_true(la2 == la && lo2 == lo);	/* idempotent */
		assert_true(fabs(la - pts[j][0]) <= dlat / 2 + 1e-12);
		d = fabs(lo - pts[j][1]);
		d = fmin(d, 360 - d) * 111320 * cos(la * M_PI / 180);
		assert_true(d <= g);			/* within one cell */
		/* Points of one cell snap to one value, whatever the order. */
		for (n = -4; n <= 4; n++) {
			policy_coarsen(la + n * dlat / 10, lo, g, &la2, &lo2);
			assert_true(la2 == la && lo2 == lo);
		}
		policy_coarsen(la + dlat, lo, g, &la2, &lo2);
		assert_true(la2 != la);
	}
	policy_coarsen(10.123, 20.456, 0, &la, &lo);
	assert_true(la == 10.123 && lo == 20.456);
}

/* The release matrix of set under test_cfg, as text (the caller frees). */
static char *
test_matrix_text(const struct policy_set *set)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	policy_print_matrix(set, test_cfg, fp);
	fclose(fp);
	return buf;
}

/* The matrix names owners, recipients, categories and sanitizers. */
static void
test_matrix(void **state)
{
	char	*buf = test_matrix_text(*state);

	assert_non_null(strstr(buf, "policy KOR loaded version=3 rules=3 "
	    "valid=2026-01-01T00:00:00Z..2027-12-31T23:59:59Z "
	    "file=good/KOR.yaml sha256="));
	assert_non_null(strstr(buf, "policy GBR missing fails-closed"));
	assert_non_null(strstr(buf, "release KOR CC-JPN/JPN air allow "
	    "via=USA areas=+east-sea,+south,-dmz-buffer max=secret "
	    "coarsen_m=1000 delay_s=10 strip_sensor rules=KOR/3/1\n"));
	assert_non_null(strstr(buf, "release KOR CC-JPN-3/JPN air deny "
	    "category\n"));
	assert_non_null(strstr(buf, "release KOR CC-JPN-3/JPN "
	    "ballistic-missile allow via=USA areas=+east-sea,+south,"
	    "-dmz-buffer max=confidential coarsen_m=1000 delay_s=30 "
	    "strip_sensor rules=KOR/3/1,KOR/3/2\n"));
	assert_non_null(strstr(buf, "release JPN CC-KOR/KOR surface deny "
	    "category\n"));
	assert_non_null(strstr(buf, "release USA CC-GBR/GBR land deny "
	    "no-rule\n"));
	assert_non_null(strstr(buf, "release KOR CC-KOR/KOR space allow "
	    "owner (unsanitized)\n"));
	assert_non_null(strstr(buf, "release USA CC-USA-NOSECRET/USA air "
	    "deny no-secret\n"));
	/* No uplinks configured: none listed, no uplink rows. */
	assert_non_null(strstr(buf, " uplinks=0\n"));
	assert_null(strstr(buf, "\nuplink "));
	free(buf);
}

/*
 * An uplink's recipient gets its rows like a subscriber's, judged as
 * uplink_judge() judges it: by nation, a secret taken as present.
 */
static void
test_matrix_uplink(void **state)
{
	struct config_uplink	 up;
	char			*buf;

	memset(&up, 0, sizeof(up));
	up.id = "TF-KOR-LINK";
	up.recipient = "JPN";
	test_cfg->uplinks = &up;
	test_cfg->nuplinks = 1;
	buf = test_matrix_text(*state);
	test_cfg->uplinks = NULL;
	test_cfg->nuplinks = 0;
	assert_non_null(strstr(buf, " uplinks=1\n"));
	assert_non_null(strstr(buf, "\nuplink TF-KOR-LINK recipient=JPN\n"));
	/* KOR's rules for JPN apply to the link as to CC-JPN. */
	assert_non_null(strstr(buf, "release KOR TF-KOR-LINK/JPN air allow "
	    "via=USA areas=+east-sea,+south,-dmz-buffer max=secret "
	    "coarsen_m=1000 delay_s=10 strip_sensor rules=KOR/3/1\n"));
	assert_non_null(strstr(buf, "release JPN TF-KOR-LINK/JPN surface "
	    "allow owner (unsanitized)\n"));
	assert_null(strstr(buf, "TF-KOR-LINK/JPN air deny no-secret"));
	free(buf);
}

/* Names used in logs, the audit trail and the matrix. */
static void
test_names(void **state)
{
	struct policy_rule_id	id = { "JPN", 12, 3 };
	char			buf[POLICY_RULE_ID_LEN];

	(void)state;
	policy_rule_id_str(&id, buf);
	assert_string_equal(buf, "JPN/12/3");
	assert_string_equal(policy_reason_name(POLICY_DENY_LABEL),
	    "label-not-releasable");
	assert_string_equal(policy_reason_name(POLICY_DENY_FAILED),
	    "owner-failed-closed");
	assert_string_equal(policy_reason_name(POLICY_REASON_MAX), "unknown");
	assert_string_equal(policy_category_name(TF_CAT_BALLISTIC_MISSILE),
	    "ballistic-missile");
	assert_string_equal(policy_state_name(POLICY_OWNER_MISSING),
	    "missing");
}

/*
 * The shipped demo: configs/dev-plain.yaml (no TLS files needed) with
 * configs/policy/. Intent: USA releases all to KOR and JPN; KOR all to
 * USA, to JPN only BM and air in the East Sea via USA, 1 km; JPN all to
 * USA, only BM to KOR.
 */
static void
test_shipped(void **state)
{
	struct config		*cfg, *saved = test_cfg;
	struct policy_set	*set;
	struct policy_contrib	 c;
	struct policy_decision	 d;
	char			 err[CONFIG_ERRLEN], k1[POLICY_KEYLEN];
	char			 k2[POLICY_KEYLEN];
	unsigned		 i;

	(void)state;
	cfg = config_load(TF_TEST_SHIPPED_DIR "/dev-plain.yaml", err,
	    sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	set = policy_load_dir(cfg, T_NOW);
	assert_int_equal(policy_nowners(set), 3);
	for (i = 0; i < 3; i++)
		if (policy_owner_info(set, i)->state != POLICY_OWNER_LOADED)
			fail_msg("%s", policy_owner_info(set, i)->error);
	test_cfg = cfg;
	c = test_contrib("KOR", TF_CLASS_SECRET, "USA,KOR,JPN",
	    TF_CAT_BALLISTIC_MISSILE, 40, 132);
	d = test_eval(set, &c, "CC-JPN", cfg->nation);
	assert_true(d.allowed);
	assert_int_equal(d.san.coarsen_m, 1000);
	c.cat = TF_CAT_SURFACE;
	assert_false(test_eval(set, &c, "CC-JPN", cfg->nation).allowed);
	assert_true(test_eval(set, &c, "CC-USA", cfg->nation).allowed);
	/* A KOR label without JPN (KOR-P8-1's) is denied to JPN by the label. */
	c = test_contrib("KOR", TF_CLASS_SECRET, "USA,KOR",
	    TF_CAT_BALLISTIC_MISSILE, 40, 132);
	assert_int_equal(test_eval(set, &c, "CC-JPN", cfg->nation).reason,
	    POLICY_DENY_LABEL);
	c = test_contrib("JPN", TF_CLASS_SECRET, "USA,KOR,JPN",
	    TF_CAT_BALLISTIC_MISSILE, 40, 132);
	assert_true(test_eval(set, &c, "CC-KOR", cfg->nation).allowed);
	c.cat = TF_CAT_AIR;
	assert_false(test_eval(set, &c, "CC-KOR", cfg->nation).allowed);
	assert_true(test_eval(set, &c, "CC-USA", cfg->nation).allowed);
	c = test_contrib("USA", TF_CLASS_SECRET, "USA,KOR,JPN",
	    TF_CAT_SUBSURFACE, 40, 132);
	assert_true(test_eval(set, &c, "CC-JPN", cfg->nation).allowed);
	assert_true(test_eval(set, &c, "CC-KOR", cfg->nation).allowed);
	/* Three centers, three nations, three classes. */
	test_key(set, "CC-KOR", cfg->nation, k1);
	test_key(set, "CC-JPN", cfg->nation, k2);
	assert_string_not_equal(k1, k2);
	test_cfg = saved;
	policy_free(set);
	config_free(cfg);
}

/* Load the test config and the good set; run from tests/policy. */
static int
test_setup(void **state)
{
	char	err[CONFIG_ERRLEN];

	if (chdir(TF_TEST_POLICY_DIR) == -1)
		return (-1);
	test_cfg = config_load("config.yaml", err, sizeof(err));
	if (test_cfg == NULL) {
		fprintf(stderr, "%s\n", err);
		return (-1);
	}
	*state = policy_load(test_cfg, "good", T_NOW);
	return (*state == NULL ? -1 : 0);
}

/* Free what test_setup made. */
static int
test_teardown(void **state)
{
	policy_free(*state);
	config_free(test_cfg);
	return (0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_bad_complete),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_default_deny),
		cmocka_unit_test(test_most_restrictive),
		cmocka_unit_test(test_via),
		cmocka_unit_test(test_areas),
		cmocka_unit_test(test_label_class_category),
		cmocka_unit_test(test_unlabeled),
		cmocka_unit_test(test_failed_owner),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_no_secret),
		cmocka_unit_test(test_class_keys),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_coarsen),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_matrix_uplink),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_shipped),
	};

	return (cmocka_run_group_tests(tests, test_setup, test_teardown));
}
