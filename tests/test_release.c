/*
 * release.c driving the real correlator and the real policies: release
 * classes from the shipped policies, owner-only unlabeled data, a broken
 * owner failing closed, a track leaving a released area, coarsening on a
 * stable grid, the minimum delay, retraction and rebuild on a policy
 * change, recipient-scoped ids, and the spliced PictureTrack frame of
 * publish.c decoded back by protobuf-c.
 */
#include <sys/stat.h>

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

#include "trackfuse/codec.h"
#include "trackfuse/config.h"
#include "trackfuse/corr.h"
#include "trackfuse/policy.h"
#include "trackfuse/publish.h"
#include "trackfuse/release.h"
#include "trackfuse/wire.h"

#ifndef TF_TEST_SHIPPED_DIR
#error "TF_TEST_SHIPPED_DIR must name configs/"
#endif

#define NS		((int64_t)1000000000)
#define T0		((int64_t)1795910400 * NS)	/* 2026-11-29 */
#define T_MAXTRK	64

/* What the release stage emitted for one class slot. */
struct t_class {
	struct tf_picture_track	 live[T_MAXTRK];
	unsigned		 nlive;
	unsigned		 updates, drops, rebuilds;
	int64_t			 max_t;		/* latest update time */
};

struct t_cap {
	struct t_class		 c[RELEASE_MAX_CLASSES];
	unsigned		 ends;
};

static struct t_cap	 cap;
static char		 tdir[256];

/* Index of a live track id in class k; -1 if absent. */
static int
t_find(struct t_class *k, uint64_t id)
{
	unsigned	i;

	for (i = 0; i < k->nlive; i++)
		if (k->live[i].track_id == id)
			return (int)i;
	return -1;
}

/* release_out: a track changed. */
static void
t_update(void *arg, unsigned cls, const struct tf_picture_track *pt)
{
	struct t_class	*k = &cap.c[cls];
	int		 i;

	(void)arg;
	if ((i = t_find(k, pt->track_id)) == -1) {
		assert_true(k->nlive < T_MAXTRK);
		i = (int)k->nlive++;
	}
	k->live[i] = *pt;
	k->updates++;
	if (pt->t_ns > k->max_t)
		k->max_t = pt->t_ns;
}

/* release_out: a track left. */
static void
t_drop(void *arg, unsigned cls, uint64_t id, int64_t t)
{
	struct t_class	*k = &cap.c[cls];
	int		 i;

	(void)arg;
	(void)t;
	k->drops++;
	if ((i = t_find(k, id)) == -1)
		return;
	k->live[i] = k->live[--k->nlive];
}

/* release_out: a slot is rebuilt. */
static void
t_begin(void *arg, unsigned cls)
{
	(void)arg;
	cap.c[cls].nlive = 0;
	cap.c[cls].rebuilds++;
}

/* release_out: regrouped. */
static void
t_end(void *arg)
{
	(void)arg;
	cap.ends++;
}

/* Write text to dir/name. */
static void
t_write(const char *name, const char *text)
{
	char	path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", tdir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* Copy a shipped policy file into the test's policy dir. */
static void
t_copy_policy(const char *owner)
{
	char	src[512], dst[512], buf[8192];
	FILE	*in, *out;
	size_t	n;

	snprintf(src, sizeof(src), "%s/policy/%s.yaml", TF_TEST_SHIPPED_DIR,
	    owner);
	snprintf(dst, sizeof(dst), "%s/policy/%s.yaml", tdir, owner);
	assert_non_null(in = fopen(src, "r"));
	assert_non_null(out = fopen(dst, "w"));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

/* A config like the shipped one: 9 feeds, 3 centers, the policies. */
static struct config *
t_config(int no_secret_jpn)
{
	char		 path[512], err[CONFIG_ERRLEN], text[4096];
	struct config	*cfg;

	snprintf(text, sizeof(text),
	    "name: t\nnation: USA\n"
	    "listen:\n"
	    "  feeds: { address: 127.0.0.1, port: 7411, tls: off }\n"
	    "  subscribers: { address: 127.0.0.1, port: 7412, tls: off }\n"
	    "identities:\n"
	    "  - { id: USA-AEGIS-1, role: feed, nation: USA, "
	    "sensors: [USA-AEGIS-1] }\n"
	    "  - { id: KOR-E7-1, role: feed, nation: KOR, "
	    "sensors: [KOR-E7-1] }\n"
	    "  - { id: JPN-AEGIS-1, role: feed, nation: JPN, "
	    "sensors: [JPN-AEGIS-1] }\n"
	    "  - { id: CC-USA, role: subscriber, nation: USA, "
	    "secret: 000102030405060708090a0b0c0d0e0f }\n"
	    "  - { id: CC-KOR, role: subscriber, nation: KOR, "
	    "secret: 101112131415161718191a1b1c1d1e1f }\n"
	    "  - { id: CC-JPN, role: subscriber, nation: JPN%s }\n"
	    "policy_dir: policy\n"
	    "classifications:\n"
	    "  - { nation: KOR, level: \"II\", common: secret }\n"
	    "  - { nation: JPN, level: tokutei-himitsu, common: secret }\n",
	    no_secret_jpn ? "" : ", secret: 202122232425262728292a2b2c2d2e2f");
	t_write("cfg.yaml", text);
	snprintf(path, sizeof(path), "%s/cfg.yaml", tdir);
	if ((cfg = config_load(path, err, sizeof(err))) == NULL)
		fail_msg("config_load: %s", err);
	return cfg;
}

/* Fresh temp dir with the shipped policies. */
static int
t_setup(void **state)
{
	char	p[300];

	(void)state;
	snprintf(tdir, sizeof(tdir), "/tmp/test_release.XXXXXX");
	assert_non_null(mkdtemp(tdir));
	snprintf(p, sizeof(p), "%s/policy", tdir);
	assert_int_equal(mkdir(p, 0700), 0);
	t_copy_policy("USA");
	t_copy_policy("KOR");
	t_copy_policy("JPN");
	memset(&cap, 0, sizeof(cap));
	return 0;
}

/* Remove the temp dir. */
static int
t_teardown(void **state)
{
	char	cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A release stage over cfg with its policies in force. */
static struct release *
t_release(struct config *cfg)
{
	struct corr_params	p;
	struct release_out	out;
	struct policy_set	*set;
	struct release		*rel;

	corr_params_default(&p);
	memset(&out, 0, sizeof(out));
	out.update = t_update;
	out.drop = t_drop;
	out.rebuild_begin = t_begin;
	out.rebuild_end = t_end;
	rel = release_new(&p, &out);
	assert_non_null(set = policy_load_dir(cfg, T0));
	release_set_policy(rel, cfg, set);
	return rel;
}

/* The class slot of recipient id. */
static unsigned
t_slot(struct release *rel, const char *id)
{
	unsigned	r = release_class(rel, id);

	assert_int_not_equal(r, RELEASE_NONE);
	return release_recipient(rel, r)->cls;
}

/* A report of sensor (owner = its first 3 letters) with a label. */
static void
t_report(struct release *rel, const struct config *cfg, const char *sensor,
    uint32_t track, int64_t t, double lat, double lon, const char *rel3)
{
	struct tf_report	r;
	unsigned		i;

	memset(&r, 0, sizeof(r));
	snprintf(r.sensor, sizeof(r.sensor), "%s", sensor);
	r.local_track = track;
	r.t_ns = t;
	r.lat_deg = lat;
	r.lon_deg = lon;
	r.alt_m = 9000;
	r.vel[0] = 200;
	for (i = 0; i < 6; i++)
		r.cov[tf_cov_idx(i, i)] = i < 3 ? 400 : 25;
	r.cat = TF_CAT_AIR;
	r.ident = TF_IDENT_UNKNOWN;
	r.quality = 0.9f;
	memcpy(r.label.owner, sensor, 3);
	if (rel3 != NULL) {
		r.label.cls = TF_CLASS_SECRET;
		for (i = 0; rel3[i * 4] != '\0' && i < TF_MAX_REL; i++) {
			memcpy(r.label.rel[i], rel3 + i * 4, 3);
			r.label.nrel++;
			if (rel3[i * 4 + 3] == '\0')
				break;
		}
	}	/* else unlabeled: class NONE, as feed_authorize leaves it */
	assert_int_equal(release_report(rel, config_identity(cfg, sensor),
	    &r), CORR_OK);
}

/*
 * Reports of one source each second for n seconds, with heartbeats: a
 * core may hold a new track tentative (unpublished) for its first ones.
 */
static void
t_series(struct release *rel, const struct config *cfg, const char *sensor,
    double lat, double lon, const char *rel3, int n)
{
	int	k;

	for (k = 0; k < n; k++) {
		t_report(rel, cfg, sensor, 1, T0 + k * NS, lat,
		    lon + k * 0.002, rel3);
		release_advance(rel, T0 + k * NS);
	}
}

/* Classes of the shipped policies: full + one per center, all distinct. */
static void
test_classes(void **state)
{
	struct config	*cfg = t_config(0);
	struct release	*rel = t_release(cfg);
	unsigned	 u, k, j;

	(void)state;
	assert_int_equal(release_nrecipients(rel), 3);
	assert_int_equal(release_nclasses(rel), 4);
	u = t_slot(rel, "CC-USA");
	k = t_slot(rel, "CC-KOR");
	j = t_slot(rel, "CC-JPN");
	assert_true(u != k && k != j && u != j);
	assert_true(u != RELEASE_CLASS_FULL && k != RELEASE_CLASS_FULL);
	assert_int_equal(cap.c[u].rebuilds, 1);
	assert_int_equal(cap.ends, 1);
	release_free(rel);
	config_free(cfg);
}

/* Unlabeled data reaches only its owner's nation; the full class gets it. */
static void
test_unlabeled(void **state)
{
	struct config	*cfg = t_config(0);
	struct release	*rel = t_release(cfg);

	(void)state;
	t_series(rel, cfg, "USA-AEGIS-1", 38.0, 131.0, NULL, 5);
	t_series(rel, cfg, "JPN-AEGIS-1", 36.0, 134.0, NULL, 5);
	assert_int_equal(cap.c[RELEASE_CLASS_FULL].nlive, 2);
	assert_int_equal(cap.c[t_slot(rel, "CC-USA")].nlive, 1);
	assert_int_equal(cap.c[t_slot(rel, "CC-KOR")].nlive, 0);
	assert_int_equal(cap.c[t_slot(rel, "CC-JPN")].nlive, 1);
	assert_string_equal(cap.c[t_slot(rel, "CC-USA")].live[0].nations[0],
	    "USA");
	release_free(rel);
	config_free(cfg);
}

/* A broken KOR file stops KOR releases only; KOR's center keeps KOR data. */
static void
test_fail_closed(void **state)
{
	struct config	*cfg;
	struct release	*rel;

	(void)state;
	t_write("policy/KOR.yaml", "owner: KOR\nversion: 4\nbogus: 1\n");
	cfg = t_config(0);
	rel = t_release(cfg);
	assert_int_equal(policy_owner_find(release_policy(rel), "KOR")->state,
	    POLICY_OWNER_FAILED);
	t_series(rel, cfg, "KOR-E7-1", 38.5, 131.0, "USA,KOR,JPN", 5);
	t_series(rel, cfg, "USA-AEGIS-1", 30.0, 140.0, "USA,KOR,JPN", 5);
	assert_int_equal(cap.c[t_slot(rel, "CC-KOR")].nlive, 2);
	assert_int_equal(cap.c[t_slot(rel, "CC-USA")].nlive, 1);
	assert_int_equal(cap.c[t_slot(rel, "CC-JPN")].nlive, 1);
	assert_string_equal(cap.c[t_slot(rel, "CC-USA")].live[0].nations[0],
	    "USA");
	release_free(rel);
	config_free(cfg);
}

/*
 * KOR air over the East Sea reaches JPN only 10 s late, coarsened to the
 * 1 km grid, under a pseudonym; leaving the area drops it for JPN alone.
 */
static void
test_area_delay_coarsen(void **state)
{
	struct config	*cfg = t_config(0);
	struct release	*rel = t_release(cfg);
	struct t_class	*j;
	double		 lat, lon;
	int		 k;

	(void)state;
	j = &cap.c[t_slot(rel, "CC-JPN")];
	for (k = 0; k <= 30; k++) {
		t_report(rel, cfg, "KOR-E7-1", 7, T0 + k * NS, 38.5,
		    131.0 + k * 0.0001, "USA,KOR,JPN");
		release_advance(rel, T0 + k * NS);
		/* Never younger than the delay. */
		if (j->updates > 0)
			assert_true(j->max_t <= T0 + k * NS - 10 * NS);
		if (k < 10)
			assert_int_equal(j->updates, 0);
		if (j->nlive == 1) {
			policy_coarsen(j->live[0].lat_deg, j->live[0].lon_deg,
			    1000, &lat, &lon);
			assert_true(fabs(lat - j->live[0].lat_deg) < 1e-9);
			assert_true(fabs(lon - j->live[0].lon_deg) < 1e-9);
		}
	}
	assert_int_equal(j->nlive, 1);
	assert_true(j->updates >= 15);
	/* Sub-cell motion: the released position does not move (stable). */
	policy_coarsen(38.5, 131.0, 1000, &lat, &lon);
	assert_true(fabs(j->live[0].lat_deg - lat) < 1e-9);
	assert_true(fabs(j->live[0].lon_deg - lon) < 1e-9);
	assert_int_equal(cap.c[t_slot(rel, "CC-USA")].nlive, 1);
	/*
	 * South of the East Sea: out of the released area. The class's core
	 * may let the track coast a while (coast_ms) after its drop.
	 */
	for (k = 31; k <= 120; k++) {
		t_report(rel, cfg, "KOR-E7-1", 7, T0 + k * NS, 33.0, 131.0,
		    "USA,KOR,JPN");
		release_advance(rel, T0 + k * NS);
	}
	assert_int_equal(j->nlive, 0);
	assert_true(j->drops >= 1);
	assert_int_equal(cap.c[t_slot(rel, "CC-USA")].nlive, 1);
	assert_int_equal(cap.c[t_slot(rel, "CC-KOR")].nlive, 1);
	release_free(rel);
	config_free(cfg);
}

/*
 * Narrowing KOR's rule for JPN rebuilds JPN's class without KOR data;
 * widening it again brings KOR back; other classes are untouched.
 */
static void
test_revocation(void **state)
{
	struct config	*cfg = t_config(0);
	struct release	*rel = t_release(cfg);
	struct policy_set *set;
	unsigned	 js, i;
	int		 k;

	(void)state;
	for (k = 0; k <= 20; k++) {
		t_report(rel, cfg, "KOR-E7-1", 7, T0 + k * NS, 38.5, 131.0,
		    "USA,KOR,JPN");
		t_report(rel, cfg, "USA-AEGIS-1", 1, T0 + k * NS, 30.0, 140.0,
		    "USA,KOR,JPN");
		release_advance(rel, T0 + k * NS);
	}
	js = t_slot(rel, "CC-JPN");
	assert_int_equal(cap.c[js].nlive, 2);
	t_write("policy/KOR.yaml", "owner: KOR\nversion: 4\nvalid: { from: "
	    "2026-01-01T00:00:00Z, until: 2030-12-31T23:59:59Z }\nrules:\n"
	    "  - to: USA\n    categories: [air, surface, subsurface, space, "
	    "ballistic-missile, land]\n"
	    "    max_classification: \"II\"\n");
	assert_non_null(set = policy_load_dir(cfg, T0));
	release_set_policy(rel, cfg, set);
	js = t_slot(rel, "CC-JPN");
	assert_int_equal(cap.ends, 2);
	/* Rebuilt from the retained reports: nothing of KOR's. */
	for (i = 0; i < cap.c[js].nlive; i++)
		assert_string_equal(cap.c[js].live[i].nations[0], "USA");
	for (k = 21; k <= 25; k++) {
		t_report(rel, cfg, "KOR-E7-1", 7, T0 + k * NS, 38.5, 131.0,
		    "USA,KOR,JPN");
		t_report(rel, cfg, "USA-AEGIS-1", 1, T0 + k * NS, 30.0, 140.0,
		    "USA,KOR,JPN");
		release_advance(rel, T0 + k * NS);
	}
	assert_int_equal(cap.c[js].nlive, 1);
	assert_string_equal(cap.c[js].live[0].nations[0], "USA");
	assert_int_equal(cap.c[js].live[0].nnations, 1);
	assert_int_equal(cap.c[t_slot(rel, "CC-USA")].rebuilds, 1);
	/* Widen: back to the shipped file. */
	t_copy_policy("KOR");
	assert_non_null(set = policy_load_dir(cfg, T0));
	release_set_policy(rel, cfg, set);
	js = t_slot(rel, "CC-JPN");
	for (k = 26; k <= 45; k++) {
		t_report(rel, cfg, "KOR-E7-1", 7, T0 + k * NS, 38.5, 131.0,
		    "USA,KOR,JPN");
		t_report(rel, cfg, "USA-AEGIS-1", 1, T0 + k * NS, 30.0, 140.0,
		    "USA,KOR,JPN");
		release_advance(rel, T0 + k * NS);
	}
	assert_int_equal(cap.c[js].nlive, 2);
	release_free(rel);
	config_free(cfg);
}

/* A center without a secret gets nothing, even its own nation's data. */
static void
test_no_secret(void **state)
{
	struct config	*cfg = t_config(1);
	struct release	*rel = t_release(cfg);

	(void)state;
	t_series(rel, cfg, "JPN-AEGIS-1", 36.0, 134.0, "USA,JPN", 5);
	assert_int_equal(cap.c[t_slot(rel, "CC-JPN")].nlive, 0);
	assert_int_equal(cap.c[t_slot(rel, "CC-USA")].nlive, 1);
	release_free(rel);
	config_free(cfg);
}

/* Scoped ids: keyed, 63 bits, never 0, different per key. */
static void
test_scoped_id(void **state)
{
	const unsigned char	a[16] = "0123456789abcdef";
	const unsigned char	b[16] = "0123456789abcdeg";
	uint64_t		x, y;
	unsigned		i;

	(void)state;
	for (i = 1; i < 100; i++) {
		x = release_scoped_id(a, sizeof(a), i);
		y = release_scoped_id(b, sizeof(b), i);
		assert_true(x != 0 && y != 0);
		assert_true((x >> 63) == 0);
		assert_true(x != y);
		assert_true(x != i);
		assert_true(x == release_scoped_id(a, sizeof(a), i));
	}
}

/* Tap bytes captured by the splice test. */
static uint8_t	t_tapbuf[8192];
static size_t	t_taplen;

/* publish_tap_fn: append. */
static void
t_tap(void *arg, const uint8_t *buf, size_t len)
{
	(void)arg;
	assert_true(t_taplen + len <= sizeof(t_tapbuf));
	memcpy(t_tapbuf + t_taplen, buf, len);
	t_taplen += len;
}

/*
 * The spliced frame (track id in front of a PictureTrack packed without
 * it) is byte-identical to packing the whole message with the scoped id,
 * and protobuf-c decodes it to the right message.
 */
static void
test_splice(void **state)
{
	struct publish			*pub = publish_new(2, 100, 1 << 20);
	struct release_recipient	 r;
	struct tf_picture_track		 pt;
	struct codec_picture_msg	 m;
	Envelope			*e;
	uint8_t				 want[4096], hdr[WIRE_VARINT_MAX];
	size_t				 off = 0, body, hl, n;
	uint64_t			 v;
	int				 k;

	(void)state;
	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "CC-X");
	memcpy(r.secret, "0123456789abcdef", 16);
	r.secretlen = 16;
	r.cls = 1;
	publish_set_recipients(pub, &r, 1);
	t_taplen = 0;
	assert_int_equal(publish_tap_as(pub, &r, t_tap, NULL), 0);
	memset(&pt, 0, sizeof(pt));
	pt.track_id = 42;
	pt.t_ns = T0;
	pt.lat_deg = 37.5;
	pt.lon_deg = 131.25;
	pt.cat = TF_CAT_AIR;
	pt.nnations = 1;
	memcpy(pt.nations[0], "USA", 4);
	memcpy(pt.label.owner, "USA", 4);
	pt.label.cls = TF_CLASS_SECRET;
	pt.cov[0] = 100;
	pt.status = TF_STATUS_FIRM;
	pt.contributors = 1;
	publish_update(pub, 1, &pt);
	/* Skip SnapshotBegin and SnapshotEnd. */
	for (k = 0; k < 2; k++) {
		assert_int_equal(wire_varint_decode(t_tapbuf + off,
		    t_taplen - off, &v, &hl), WIRE_OK);
		off += hl + v;
	}
	assert_int_equal(wire_varint_decode(t_tapbuf + off, t_taplen - off,
	    &v, &hl), WIRE_OK);
	assert_int_equal(off + hl + v, t_taplen);
	assert_non_null(e = trackfuse__v1__envelope__unpack(NULL, v,
	    t_tapbuf + off + hl));
	assert_int_equal(e->msg_case,
	    TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK);
	assert_true(e->picture_track->track_id ==
	    release_scoped_id(r.secret, 16, 42));
	assert_true(e->picture_track->position != NULL);
	assert_true(fabs(e->picture_track->position->lat_deg - 37.5) < 1e-12);
	trackfuse__v1__envelope__free_unpacked(e, NULL);
	/* Byte for byte what protobuf-c packs with that id. */
	pt.track_id = release_scoped_id(r.secret, 16, 42);
	codec_picture_encode(&pt, &m);
	body = trackfuse__v1__envelope__get_packed_size(&m.env);
	n = wire_varint_encode(body, hdr);
	memcpy(want, hdr, n);
	trackfuse__v1__envelope__pack(&m.env, want + n);
	assert_int_equal(n + body, t_taplen - off);
	assert_memory_equal(want, t_tapbuf + off, n + body);
	publish_free(pub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_classes, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_unlabeled, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_fail_closed, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_area_delay_coarsen,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_revocation, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_no_secret, t_setup,
		    t_teardown),
		cmocka_unit_test(test_scoped_id),
		cmocka_unit_test(test_splice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
