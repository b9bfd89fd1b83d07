/*
 * config.c against its fixtures: good files load with what they say and
 * the documented defaults; every bad-*.yaml fails with exactly the message
 * in its bad-*.err golden file ("@DIR@" stands for the fixtures directory).
 */
#include <sys/stat.h>

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "trackfuse/config.h"

#ifndef TF_TEST_CONFIG_DIR
#error "TF_TEST_CONFIG_DIR must name tests/config"
#endif
#ifndef TF_TEST_SHIPPED_DIR
#error "TF_TEST_SHIPPED_DIR must name configs/"
#endif

static char	test_dir[PATH_MAX];	/* realpath of the fixtures */

/* Read a whole small file into a NUL-terminated string. */
static char *
test_slurp(const char *path)
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
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return (buf);
}

/* Replace every "@DIR@" in golden text with the fixtures directory. */
static void
test_expand(const char *in, char *out, size_t len)
{
	const char	*at;
	size_t		 n = 0;

	out[0] = '\0';
	while ((at = strstr(in, "@DIR@")) != NULL) {
		n += snprintf(out + n, len - n, "%.*s%s", (int)(at - in), in,
		    test_dir);
		in = at + 5;
	}
	snprintf(out + n, len - n, "%s", in);
}

static void	test_fmt(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* snprintf that fails the test rather than truncate. */
static void
test_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < len);
}

/* Write text to dir/name; returns the path (static buffer). */
static const char *
test_write(const char *dir, const char *name, const char *text)
{
	static char	 path[PATH_MAX];
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return (path);
}

/* A fresh private directory under /tmp. */
static void
test_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/test_config.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

/* Remove what test_write and test_tmpdir made (files, then dirs). */
static void
test_rmdir(const char *dir, const char **names)
{
	char	path[PATH_MAX];

	for (; *names != NULL; names++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *names);
		if (unlink(path) == -1)
			assert_int_equal(rmdir(path), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* Load a config given as text from a temporary file. */
static struct config *
test_load_text(const char *text, char *err, size_t errlen)
{
	static const char	*names[] = { "t.yaml", NULL };
	struct config		*cfg;
	char			 dir[64];

	test_tmpdir(dir, sizeof(dir));
	cfg = config_load(test_write(dir, "t.yaml", text), err, errlen);
	test_rmdir(dir, names);
	return (cfg);
}

/* Every key set: everything as written, paths resolved to this dir. */
static void
test_good(void **state)
{
	const struct config_identity	*id;
	struct config			*cfg;
	char				 err[CONFIG_ERRLEN];
	char				 want[PATH_MAX + 32];

	(void)state;
	cfg = config_load("good.yaml", err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_string_equal(cfg->path, "good.yaml");
	assert_string_equal(cfg->name, "trackfuse-kor");
	assert_string_equal(cfg->nation, "KOR");
	assert_string_equal(cfg->feeds.address, "127.0.0.1");
	assert_int_equal(cfg->feeds.port, 17401);
	assert_int_equal(cfg->feeds.tls, 1);
	assert_string_equal(cfg->subscribers.address, "::1");
	assert_int_equal(cfg->subscribers.port, 17402);
	assert_int_equal(cfg->subscribers.tls, 1);
	snprintf(want, sizeof(want), "%s/tls/dummy-ca.pem", test_dir);
	assert_string_equal(cfg->ca, want);
	snprintf(want, sizeof(want), "%s/tls/dummy-key.pem", test_dir);
	assert_string_equal(cfg->key, want);
	snprintf(want, sizeof(want), "%s/out/trackfused.log", test_dir);
	assert_string_equal(cfg->log_file, want);
	assert_int_equal(cfg->stats_interval_s, 5);
	assert_int_equal(cfg->limits.max_frame, 131072);
	assert_int_equal(cfg->limits.max_feeds, 16);
	assert_int_equal(cfg->limits.max_subscribers, 8);
	assert_int_equal(cfg->limits.max_tracks, 5000);
	assert_int_equal(cfg->limits.max_sources, 5000);
	assert_int_equal(cfg->limits.subscriber_buffer, 65536);
	assert_int_equal(cfg->limits.handshake_timeout_ms, 2000);
	assert_int_equal(cfg->limits.idle_timeout_ms, 10000);
	assert_true(cfg->correlator.gate_chi2 == 16.81);
	assert_int_equal(cfg->correlator.stale_ms, 8000);
	assert_int_equal(cfg->correlator.coast_ms, 20000);
	assert_true(cfg->correlator.cell_m == 25000);
	assert_int_equal(cfg->nidentities, 3);

	id = config_identity(cfg, "KOR-P8-1");
	assert_non_null(id);
	assert_ptr_equal(id, &cfg->identities[1]);
	assert_int_equal(id->role, CONFIG_ROLE_FEED);
	assert_string_equal(id->nation, "KOR");
	assert_int_equal(id->nsensors, 2);
	assert_true(config_identity_has_sensor(id, "KOR-P8-1.sonobuoys"));
	assert_false(config_identity_has_sensor(id, "KOR-AEGIS-1"));
	assert_false(config_identity_has_sensor(id, NULL));
	id = config_identity(cfg, "CC-KOR");
	assert_non_null(id);
	assert_int_equal(id->role, CONFIG_ROLE_SUBSCRIBER);
	assert_int_equal(id->nsensors, 0);
	assert_null(config_identity(cfg, "CC-USA"));
	assert_null(config_identity(cfg, "kor-p8-1"));
	config_free(cfg);
}

/* policy_dir, classifications, secret and federation as written. */
static void
test_policy_keys(void **state)
{
	const struct config_identity	*id;
	struct config			*cfg;
	enum tf_class			 cls;
	char				 err[CONFIG_ERRLEN];
	char				 want[PATH_MAX + 32];

	(void)state;
	cfg = config_load("good-policy.yaml", err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	snprintf(want, sizeof(want), "%s/policy-empty", test_dir);
	assert_string_equal(cfg->policy_dir, want);
	assert_int_equal(cfg->nclassifications, 3);
	assert_int_equal(config_class_map(cfg, "KOR", "III", &cls), 0);
	assert_int_equal(cls, TF_CLASS_CONFIDENTIAL);
	assert_int_equal(config_class_map(cfg, "JPN", "tokutei-himitsu",
	    &cls), 0);
	assert_int_equal(cls, TF_CLASS_SECRET);
	assert_int_equal(config_class_map(cfg, "JPN", "II", &cls), -1);
	assert_true(config_nation_known(cfg, "USA"));
	assert_false(config_nation_known(cfg, "FRA"));
	id = config_identity(cfg, "trackfuse-usa");
	assert_non_null(id);
	assert_int_equal(id->federation, 1);
	assert_string_equal(id->peer_daemon_nation, "USA");
	assert_int_equal(id->nsensors, 0);
	id = config_identity(cfg, "JPN-AEGIS-1");
	assert_int_equal(id->federation, 0);
	assert_null(id->peer_daemon_nation);
	id = config_identity(cfg, "CC-JPN");
	assert_int_equal(id->secretlen, 32);
	assert_int_equal(id->secret[0], 0x00);
	assert_int_equal(id->secret[10], 0xaa);
	assert_int_equal(id->secret[31], 0xff);
	assert_null(config_identity(cfg, "CC-KOR")->secret);
	config_free(cfg);
	/* A policy_dir that does not exist (yet) loads: owners fail closed. */
	cfg = test_load_text("name: t\nnation: USA\nlisten:\n  feeds: { tls: "
	    "off }\n  subscribers: { port: 7403, tls: off }\nidentities:\n"
	    "  - { id: CC-USA, role: subscriber, nation: USA }\n"
	    "policy_dir: no-such-dir\n", err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_non_null(strstr(cfg->policy_dir, "/no-such-dir"));
	config_free(cfg);
	assert_int_equal(config_class_parse("top-secret", &cls), 0);
	assert_int_equal(cls, TF_CLASS_TOP_SECRET);
	assert_int_equal(config_class_parse("none", &cls), -1);
	assert_string_equal(config_class_name(TF_CLASS_RESTRICTED),
	    "restricted");
}

/* Only required keys: every default is the documented one. */
static void
test_defaults(void **state)
{
	struct config	*cfg;
	char		 err[CONFIG_ERRLEN];

	(void)state;
	cfg = config_load("good-minimal.yaml", err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_null(cfg->policy_dir);
	assert_int_equal(cfg->nclassifications, 0);
	assert_null(cfg->identities[0].secret);
	assert_string_equal(cfg->feeds.address, "127.0.0.1");
	assert_int_equal(cfg->feeds.port, 7401);
	assert_int_equal(cfg->feeds.tls, 1);
	assert_string_equal(cfg->subscribers.address, "127.0.0.1");
	assert_int_equal(cfg->subscribers.port, 7402);
	assert_int_equal(cfg->subscribers.tls, 1);
	assert_null(cfg->log_file);
	assert_int_equal(cfg->stats_interval_s, 10);
	assert_int_equal(cfg->limits.max_frame, 65536);
	assert_int_equal(cfg->limits.max_feeds, 64);
	assert_int_equal(cfg->limits.max_subscribers, 32);
	assert_int_equal(cfg->limits.max_tracks, 100000);
	assert_int_equal(cfg->limits.max_sources, 200000);
	assert_int_equal(cfg->limits.subscriber_buffer, 1048576);
	assert_int_equal(cfg->limits.handshake_timeout_ms, 5000);
	assert_int_equal(cfg->limits.idle_timeout_ms, 30000);
	assert_true(cfg->correlator.gate_chi2 == 22.46);
	assert_int_equal(cfg->correlator.stale_ms, 15000);
	assert_int_equal(cfg->correlator.coast_ms, 30000);
	assert_true(cfg->correlator.cell_m == 2000);
	assert_int_equal(cfg->nidentities, 1);
	config_free(cfg);
}

/* Plain TCP on loopback: no tls section, the same port on two families. */
static void
test_plain(void **state)
{
	struct config	*cfg;
	char		 err[CONFIG_ERRLEN];

	(void)state;
	cfg = config_load("good-plain.yaml", err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_int_equal(cfg->feeds.tls, 0);
	assert_int_equal(cfg->subscribers.tls, 0);
	assert_string_equal(cfg->feeds.address, "127.0.0.2");
	assert_int_equal(cfg->feeds.port, cfg->subscribers.port);
	assert_null(cfg->ca);
	assert_null(cfg->cert);
	assert_null(cfg->key);
	config_free(cfg);
}

/* One bad fixture against its golden message; 0 if they agree. */
static int
test_bad_one(const char *errfile)
{
	struct config	*cfg;
	char		 yaml[PATH_MAX], want[CONFIG_ERRLEN + PATH_MAX];
	char		 err[CONFIG_ERRLEN], *golden;
	size_t		 n;

	golden = test_slurp(errfile);
	assert_non_null(golden);
	test_expand(golden, want, sizeof(want));
	free(golden);
	n = strlen(errfile) - strlen(".err");
	snprintf(yaml, sizeof(yaml), "%.*s.yaml", (int)n, errfile);
	memset(err, 'x', sizeof(err));
	cfg = config_load(yaml, err, sizeof(err));
	if (cfg != NULL) {
		print_error("%s: loaded, expected: %s\n", yaml, want);
		config_free(cfg);
		return (1);
	}
	if (strcmp(err, want) != 0) {
		print_error("%s:\n  got:  %s\n  want: %s\n", yaml, err, want);
		return (1);
	}
	return (0);
}

/* Every bad-*.err: its bad-*.yaml fails with exactly that text. */
static void
test_bad(void **state)
{
	glob_t	g;
	size_t	i;
	int	failed = 0;

	(void)state;
	assert_int_equal(glob("bad-*.err", 0, NULL, &g), 0);
	/* The brief asks for at least these kinds; keep the count honest. */
	assert_true(g.gl_pathc >= 30);
	for (i = 0; i < g.gl_pathc; i++)
		failed += test_bad_one(g.gl_pathv[i]);
	print_message("%zu bad fixtures, %d mismatched\n", g.gl_pathc,
	    failed);
	globfree(&g);
	assert_int_equal(failed, 0);
}

/* Every bad-*.yaml has its golden file (a fixture without one is lost). */
static void
test_bad_complete(void **state)
{
	glob_t	g;
	char	err[PATH_MAX];
	size_t	i, n;

	(void)state;
	assert_int_equal(glob("bad-*.yaml", 0, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++) {
		n = strlen(g.gl_pathv[i]) - strlen(".yaml");
		snprintf(err, sizeof(err), "%.*s.err", (int)n, g.gl_pathv[i]);
		if (access(err, R_OK) != 0)
			fail_msg("%s has no %s", g.gl_pathv[i], err);
	}
	globfree(&g);
}

/* A small error buffer truncates but stays a string; 0 is allowed. */
static void
test_errlen(void **state)
{
	char	err[12];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_null(config_load("bad-limit.yaml", err, sizeof(err)));
	assert_string_equal(err, "bad-limit.y");
	assert_null(config_load("bad-limit.yaml", NULL, 0));
}

/* Which one? A range: the bounds load, one past them fails. */
struct test_range {
	const char	*section;
	const char	*key;
	unsigned long	 lo;
	unsigned long	 hi;
};

static const struct test_range test_ranges[] = {
	{ "limits", "max_frame", 256, 16777216 },
	{ "limits", "max_feeds", 1, 4096 },
	{ "limits", "max_subscribers", 1, 4096 },
	{ "limits", "max_tracks", 1, 10000000 },
	{ "limits", "subscriber_buffer", 4096, 1073741824 },
	{ "limits", "handshake_timeout_ms", 100, 600000 },
	{ "limits", "idle_timeout_ms", 100, 600000 },
	{ "correlator", "stale_ms", 100, 3600000 },
	{ "correlator", "coast_ms", 100, 3600000 },
	{ "log", "stats_interval_s", 1, 3600 },
};

#define TEST_PLAIN \
	"name: t\nnation: USA\n" \
	"listen:\n" \
	"  feeds: { port: 7411, tls: off }\n" \
	"  subscribers: { port: 7412, tls: off }\n" \
	"identities:\n" \
	"  - { id: CC-USA, role: subscriber, nation: USA }\n"

/* Load TEST_PLAIN with one key set; 0 if it loaded. */
static int
test_try(const char *section, const char *key, const char *value, char *err)
{
	struct config	*cfg;
	char		 text[1024];

	snprintf(text, sizeof(text), "%s%s:\n  %s: %s\n", TEST_PLAIN,
	    section, key, value);
	if (strcmp(key, "max_tracks") == 0)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "  max_sources: %s\n", value);
	cfg = test_load_text(text, err, CONFIG_ERRLEN);
	config_free(cfg);
	return (cfg == NULL);
}

/* Each limit's documented range, at and just past both ends. */
static void
test_ranges_edges(void **state)
{
	const struct test_range	*r;
	char			 v[32], err[CONFIG_ERRLEN];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(test_ranges) / sizeof(test_ranges[0]); i++) {
		r = &test_ranges[i];
		snprintf(v, sizeof(v), "%lu", r->lo);
		if (test_try(r->section, r->key, v, err))
			fail_msg("%s=%s refused: %s", r->key, v, err);
		snprintf(v, sizeof(v), "%lu", r->hi);
		if (test_try(r->section, r->key, v, err))
			fail_msg("%s=%s refused: %s", r->key, v, err);
		snprintf(v, sizeof(v), "%lu", r->hi + 1);
		if (!test_try(r->section, r->key, v, err))
			fail_msg("%s=%s accepted", r->key, v);
		assert_non_null(strstr(err, "must be in"));
		snprintf(v, sizeof(v), "%lu", r->lo - 1);
		if (!test_try(r->section, r->key, v, err))
			fail_msg("%s=%s accepted", r->key, v);
	}
}

/* Numbers libcyaml alone would take by their prefix or as octal. */
static void
test_strict_numbers(void **state)
{
	static const char	*bad[] = { "1.5", "010", "0x400", "+300",
				    "1e3", "3OO", "-1", "", NULL };
	static const char	*badf[] = { "nan", "inf", "1e999", "22.4x",
				    "0x10", NULL };
	char			 err[CONFIG_ERRLEN];
	const char		**v;

	(void)state;
	for (v = bad; *v != NULL; v++)
		if (!test_try("limits", "max_frame", *v, err))
			fail_msg("max_frame: %s accepted", *v);
	for (v = badf; *v != NULL; v++)
		if (!test_try("correlator", "gate_chi2", *v, err))
			fail_msg("gate_chi2: %s accepted", *v);
	assert_int_equal(test_try("correlator", "gate_chi2", "1000", err), 0);
	assert_int_equal(test_try("correlator", "gate_chi2", "1000.01", err),
	    1);
	assert_int_equal(test_try("correlator", "gate_chi2", "1e-3", err), 0);
	assert_int_equal(test_try("correlator", "cell_m", "999.9", err), 1);
	assert_int_equal(test_try("correlator", "cell_m", "1000", err), 0);
}

/* tls takes the YAML spellings of a boolean, and nothing else. */
static void
test_tls_words(void **state)
{
	static const char	*on[] = { "on", "On", "TRUE", "yes", NULL };
	static const char	*off[] = { "off", "OFF", "false", "no", NULL };
	struct config		*cfg;
	const char		**w;
	char			 text[1024], err[CONFIG_ERRLEN];

	(void)state;
	for (w = on; *w != NULL; w++) {
		/* tls on without a tls section fails: that proves "on". */
		snprintf(text, sizeof(text), "name: t\nnation: USA\nlisten:\n"
		    "  feeds: { tls: %s }\n  subscribers: { tls: off }\n"
		    "identities: [{ id: C, role: subscriber, nation: USA }]\n",
		    *w);
		assert_null(test_load_text(text, err, sizeof(err)));
		assert_non_null(strstr(err, "no 'tls' section"));
	}
	for (w = off; *w != NULL; w++) {
		snprintf(text, sizeof(text), "name: t\nnation: USA\nlisten:\n"
		    "  feeds: { tls: %s }\n  subscribers: { tls: off }\n"
		    "identities: [{ id: C, role: subscriber, nation: USA }]\n",
		    *w);
		cfg = test_load_text(text, err, sizeof(err));
		if (cfg == NULL)
			fail_msg("tls: %s: %s", *w, err);
		assert_int_equal(cfg->feeds.tls, 0);
		config_free(cfg);
	}
}

/* Loopback is 127.0.0.0/8 and ::1; wildcards take every address. */
static void
test_addresses(void **state)
{
	char	err[CONFIG_ERRLEN], text[PATH_MAX * 4];
	struct {
		const char	*feeds, *subs;
		int		 ok;
	} *t, tab[] = {
		{ "127.255.0.9", "::1", 1 },
		{ "::ffff:127.0.0.1", "::1", 0 },	/* not ::1 */
		{ "128.0.0.1", "127.0.0.1", 0 },
		{ "0.0.0.0", "127.0.0.1", 0 },
		{ "::", "::1", 0 },
		{ NULL, NULL, 0 },
	};
	struct config	*cfg;
	int		 port;

	(void)state;
	for (t = tab; t->feeds != NULL; t++) {
		snprintf(text, sizeof(text), "name: t\nnation: USA\nlisten:\n"
		    "  feeds: { address: '%s', port: 9, tls: off }\n"
		    "  subscribers: { address: '%s', port: 9, tls: off }\n"
		    "identities: [{ id: C, role: subscriber, nation: USA }]\n",
		    t->feeds, t->subs);
		cfg = test_load_text(text, err, sizeof(err));
		if ((cfg != NULL) != t->ok)
			fail_msg("%s / %s: %s", t->feeds, t->subs,
			    cfg != NULL ? "loaded" : err);
		config_free(cfg);
	}
	/* Same port on two different loopback addresses is fine... */
	cfg = test_load_text("name: t\nnation: USA\nlisten:\n"
	    "  feeds: { address: 127.0.0.1, port: 9, tls: off }\n"
	    "  subscribers: { address: 127.0.0.2, port: 9, tls: off }\n"
	    "identities: [{ id: C, role: subscriber, nation: USA }]\n",
	    err, sizeof(err));
	assert_non_null(cfg);
	config_free(cfg);
	/* ...but a wildcard takes the port on every address. */
	for (port = 9; port >= 8; port--) {
		test_fmt(text, sizeof(text), "name: t\nnation: USA\n"
		    "listen:\n  feeds: { address: 0.0.0.0, port: 9 }\n"
		    "  subscribers: { address: 127.0.0.2, port: %d, "
		    "tls: off }\n"
		    "tls: { ca: %s/tls/dummy-ca.pem, cert: "
		    "%s/tls/dummy-cert.pem, key: %s/tls/dummy-key.pem }\n"
		    "identities: [{ id: C, role: subscriber, nation: USA }]\n",
		    port, test_dir, test_dir, test_dir);
		cfg = test_load_text(text, err, sizeof(err));
		if (port == 9) {
			assert_null(cfg);
			assert_non_null(strstr(err, "clashes with the feeds"));
		} else if (cfg == NULL)
			fail_msg("%s", err);
		config_free(cfg);
	}
}

/* Absolute TLS paths stay as written. */
static void
test_absolute_paths(void **state)
{
	struct config	*cfg;
	char		 text[PATH_MAX * 4], err[CONFIG_ERRLEN];

	(void)state;
	test_fmt(text, sizeof(text), "name: t\nnation: USA\n"
	    "tls: { ca: %s/tls/dummy-ca.pem, cert: %s/tls/dummy-cert.pem, "
	    "key: %s/tls/dummy-key.pem }\nlog: { file: /dev/null }\n"
	    "identities: [{ id: C, role: subscriber, nation: USA }]\n",
	    test_dir, test_dir, test_dir);
	cfg = test_load_text(text, err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_string_equal(cfg->log_file, "/dev/null");
	assert_non_null(strstr(cfg->cert, test_dir));
	assert_ptr_equal(strstr(cfg->cert, test_dir), cfg->cert);
	config_free(cfg);
}

/* Count identities by role. */
static unsigned
test_count_role(const struct config *cfg, enum config_role role)
{
	unsigned	i, n = 0;

	for (i = 0; i < cfg->nidentities; i++)
		if (cfg->identities[i].role == role)
			n++;
	return (n);
}

/* The team's fixed identities, each feed reporting only itself. */
static void
test_shipped_identities(const struct config *cfg)
{
	static const char	*feeds[] = { "USA-AEGIS-1", "USA-SBIRS-1",
				    "USA-E2D-1", "KOR-AEGIS-1", "KOR-E7-1",
				    "KOR-P8-1", "JPN-AEGIS-1", "JPN-E767-1",
				    "JPN-P1-1", NULL };
	static const char	*ccs[] = { "CC-USA", "CC-KOR", "CC-JPN", NULL };
	const struct config_identity	*id;
	const char		**s;

	assert_int_equal(cfg->nidentities, 12);
	assert_int_equal(test_count_role(cfg, CONFIG_ROLE_FEED), 9);
	for (s = feeds; *s != NULL; s++) {
		id = config_identity(cfg, *s);
		assert_non_null(id);
		assert_int_equal(id->role, CONFIG_ROLE_FEED);
		assert_int_equal(id->nsensors, 1);
		assert_true(config_identity_has_sensor(id, *s));
		assert_memory_equal(id->nation, *s, 3);
	}
	for (s = ccs; *s != NULL; s++) {
		id = config_identity(cfg, *s);
		assert_non_null(id);
		assert_int_equal(id->role, CONFIG_ROLE_SUBSCRIBER);
		assert_string_equal(id->nation, *s + 3);
		/* The release filter gives nothing to a center without one. */
		assert_int_equal(id->secretlen, 32);
	}
}

/* configs/dev-plain.yaml loads as it stands. */
static void
test_shipped_plain(void **state)
{
	struct config	*cfg;
	char		 err[CONFIG_ERRLEN];

	(void)state;
	cfg = config_load(TF_TEST_SHIPPED_DIR "/dev-plain.yaml", err,
	    sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_int_equal(cfg->feeds.tls, 0);
	assert_int_equal(cfg->subscribers.tls, 0);
	assert_int_equal(cfg->feeds.port, 7411);
	assert_int_equal(cfg->subscribers.port, 7412);
	assert_null(cfg->ca);
	test_shipped_identities(cfg);
	config_free(cfg);
}

/*
 * configs/trackfused.yaml in a scratch directory beside dummy certs/ (the
 * real ones are generated by the demo scripts, not committed).
 */
static void
test_shipped_tls(void **state)
{
	static const char	*names[] = { "certs/ca.pem",
				    "certs/trackfused.pem",
				    "certs/trackfused.key", "trackfused.yaml",
				    "certs", "policy", NULL };
	static const size_t	 ncerts = 3;
	struct config		*cfg;
	char			 dir[64], sub[128], err[CONFIG_ERRLEN];
	char			*text;
	size_t			 i;

	(void)state;
	text = test_slurp(TF_TEST_SHIPPED_DIR "/trackfused.yaml");
	assert_non_null(text);
	test_tmpdir(dir, sizeof(dir));
	snprintf(sub, sizeof(sub), "%s/certs", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/policy", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	for (i = 0; i < ncerts; i++)
		test_write(dir, names[i], "dummy\n");
	cfg = config_load(test_write(dir, "trackfused.yaml", text), err,
	    sizeof(err));
	free(text);
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_string_equal(cfg->name, "trackfuse-usa");
	assert_string_equal(cfg->nation, "USA");
	assert_int_equal(cfg->feeds.tls, 1);
	assert_int_equal(cfg->subscribers.tls, 1);
	assert_int_equal(cfg->feeds.port, 7401);
	assert_int_equal(cfg->subscribers.port, 7402);
	assert_int_equal(cfg->stats_interval_s, 5);
	assert_null(cfg->log_file);
	assert_non_null(strstr(cfg->key, "/certs/trackfused.key"));
	assert_non_null(strstr(cfg->policy_dir, "/policy"));
	assert_int_equal(cfg->nclassifications, 4);
	test_shipped_identities(cfg);
	config_free(cfg);
	test_rmdir(dir, names);
}

/* The -n -v summary shows listeners, tls, limits and identities. */
static void
test_print(void **state)
{
	struct config	*cfg;
	char		 err[CONFIG_ERRLEN], *buf = NULL;
	size_t		 len = 0;
	FILE		*fp;

	(void)state;
	cfg = config_load("good.yaml", err, sizeof(err));
	assert_non_null(cfg);
	fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	config_print(cfg, fp);
	fclose(fp);
	assert_non_null(strstr(buf, "listen subscribers address=::1 "
	    "port=17402 tls=on\n"));
	assert_non_null(strstr(buf, "/tls/dummy-cert.pem"));
	assert_non_null(strstr(buf, " max_tracks=5000 "));
	assert_non_null(strstr(buf, " gate_chi2=16.81 "));
	assert_non_null(strstr(buf, "identity KOR-P8-1 role=feed nation=KOR "
	    "sensors=KOR-P8-1,KOR-P8-1.sonobuoys\n"));
	assert_non_null(strstr(buf, "identity CC-KOR role=subscriber "
	    "nation=KOR secret=none\n"));
	assert_non_null(strstr(buf, "policy_dir=none\n"));
	free(buf);
	config_free(cfg);
	assert_string_equal(config_role_name(CONFIG_ROLE_SUBSCRIBER),
	    "subscriber");
}

/* A reload reads the file afresh: an edit shows, an error keeps nothing. */
static void
test_reload(void **state)
{
	static const char	*names[] = { "r.yaml", NULL };
	struct config		*a, *b;
	char			 dir[64], err[CONFIG_ERRLEN];
	const char		*path;

	(void)state;
	test_tmpdir(dir, sizeof(dir));
	path = test_write(dir, "r.yaml",
	    TEST_PLAIN "limits: { max_feeds: 3 }\n");
	a = config_load(path, err, sizeof(err));
	assert_non_null(a);
	test_write(dir, "r.yaml", TEST_PLAIN "limits: { max_feeds: 4 }\n");
	b = config_load(path, err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(a->limits.max_feeds, 3);
	assert_int_equal(b->limits.max_feeds, 4);
	config_free(b);
	test_write(dir, "r.yaml", TEST_PLAIN "limits: { max_feeds: 0 }\n");
	assert_null(config_load(path, err, sizeof(err)));
	assert_int_equal(a->limits.max_feeds, 3);
	config_free(a);
	config_free(NULL);
	test_rmdir(dir, names);
}

/* Tests use relative fixture names, so run from the fixtures dir. */
static int
test_setup(void **state)
{
	(void)state;
	if (realpath(TF_TEST_CONFIG_DIR, test_dir) == NULL ||
	    chdir(test_dir) == -1)
		return (-1);
	return (0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_policy_keys),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_bad_complete),
		cmocka_unit_test(test_errlen),
		cmocka_unit_test(test_ranges_edges),
		cmocka_unit_test(test_strict_numbers),
		cmocka_unit_test(test_tls_words),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_absolute_paths),
		cmocka_unit_test(test_shipped_plain),
		cmocka_unit_test(test_shipped_tls),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_reload),
	};

	return (cmocka_run_group_tests(tests, test_setup, NULL));
}
