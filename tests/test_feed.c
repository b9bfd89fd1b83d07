/*
 * Unit tests for daemon/feed.c: authorization of sensor ids and labels,
 * the owner-only default for unlabeled input, the future-time check, and
 * that refused input never reaches the real correlation core.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "trackfuse/codec.h"
#include "trackfuse/corr.h"
#include "trackfuse/feed.h"

#define T_T0	1700000000000000000LL	/* 2023-11-14, ns */
#define T_SEC	1000000000LL

static char	 t_s1[] = "KOR-AEGIS-1", t_s2[] = "KOR-AEGIS-1.aux";
static char	*t_sensors[] = { t_s1, t_s2 };
static char	 t_id[] = "KOR-AEGIS-1", t_kor[] = "KOR";
static const struct config_identity t_ident = {
	.id = t_id, .role = CONFIG_ROLE_FEED, .nation = t_kor,
	.sensors = t_sensors, .nsensors = 2
};

struct t_env {
	struct corr	*corr;
	struct feed	*feed;
	int		 emitted;
	struct tf_label	 label;		/* of the last emitted track */
};

/* corr emit callback: count and keep the label. */
static void
t_emit(void *arg, enum corr_change ch, const struct tf_picture_track *pt)
{
	struct t_env	*e = arg;

	e->emitted++;
	if (ch != CORR_DROPPED)
		e->label = pt->label;
}

/* A valid report from sensor at time t. */
static void
t_report(struct tf_report *r, const char *sensor, uint32_t lt, int64_t t)
{
	int	i;

	memset(r, 0, sizeof(*r));
	snprintf(r->sensor, sizeof(r->sensor), "%s", sensor);
	r->local_track = lt;
	r->t_ns = t;
	r->lat_deg = 37.5;
	r->lon_deg = 131.0;
	r->alt_m = 9000.0;
	r->vel[0] = 200.0;
	for (i = 0; i < 6; i++)
		r->cov[tf_cov_idx(i, i)] = i < 3 ? 400.0 : 25.0;
	r->cat = TF_CAT_AIR;
	r->ident = TF_IDENT_UNKNOWN;
	r->quality = 0.8f;
	memcpy(r->label.owner, "KOR", 4);
	r->label.cls = TF_CLASS_SECRET;
	r->label.nrel = 1;
	memcpy(r->label.rel[0], "USA", 4);
}

/* Encode r and run it through feed_report(). */
static enum feed_result
t_feed(struct t_env *e, const struct tf_report *r, char *err, size_t len)
{
	struct codec_report_msg	m;

	codec_report_encode(r, &m);
	return feed_report(e->feed, &t_ident, &m.rep, err, len);
}

/* A real core and a feed stage in front of it. */
static int
t_setup(void **state)
{
	static struct t_env	e;
	struct corr_params	p;

	memset(&e, 0, sizeof(e));
	corr_params_default(&p);
	p.max_tracks = 100;
	p.max_sources = 100;
	e.corr = corr_new(&p, t_emit, &e);
	e.feed = feed_new(e.corr, NULL);
	*state = &e;
	return e.corr == NULL ? -1 : 0;
}

/* Free the core and the feed stage. */
static int
t_teardown(void **state)
{
	struct t_env	*e = *state;

	feed_free(e->feed);
	corr_free(e->corr);
	return 0;
}

/* A sensor the identity does not hold is forbidden, naming both. */
static void
test_sensor_forbidden(void **state)
{
	struct tf_report	r;
	char			err[FEED_ERRLEN] = "";

	(void)state;
	t_report(&r, "USA-AEGIS-1", 1, T_T0);
	assert_int_equal(feed_authorize(&t_ident, &r, err, sizeof(err)),
	    FEED_FORBIDDEN);
	assert_string_equal(err, "sensor USA-AEGIS-1 not allowed for identity "
	    "KOR-AEGIS-1");
	t_report(&r, "KOR-AEGIS-1.aux", 1, T_T0);
	assert_int_equal(feed_authorize(&t_ident, &r, err, sizeof(err)),
	    FEED_OK);
}

/* A label owned by another nation is forbidden; its own passes as is. */
static void
test_label_owner(void **state)
{
	struct tf_report	r;
	char			err[FEED_ERRLEN] = "";

	(void)state;
	t_report(&r, "KOR-AEGIS-1", 1, T_T0);
	memcpy(r.label.owner, "JPN", 4);
	assert_int_equal(feed_authorize(&t_ident, &r, err, sizeof(err)),
	    FEED_FORBIDDEN);
	assert_non_null(strstr(err, "label owner JPN"));
	t_report(&r, "KOR-AEGIS-1", 1, T_T0);
	assert_int_equal(feed_authorize(&t_ident, &r, err, sizeof(err)),
	    FEED_OK);
	assert_string_equal(r.label.owner, "KOR");
	assert_int_equal(r.label.cls, TF_CLASS_SECRET);
	assert_int_equal(r.label.nrel, 1);
	assert_string_equal(r.label.rel[0], "USA");
}

/* No label: the identity's nation owns it, unmarked, released to nobody. */
static void
test_unlabeled(void **state)
{
	struct tf_report	r;
	char			err[FEED_ERRLEN] = "";

	(void)state;
	t_report(&r, "KOR-AEGIS-1", 1, T_T0);
	memset(&r.label, 0, sizeof(r.label));
	assert_int_equal(feed_authorize(&t_ident, &r, err, sizeof(err)),
	    FEED_OK);
	assert_string_equal(r.label.owner, "KOR");
	assert_int_equal(r.label.cls, TF_CLASS_NONE);
	assert_int_equal(r.label.nrel, 0);
}

/* Refused reports never reach the core; good ones do, with their label. */
static void
test_report_path(void **state)
{
	struct t_env		*e = *state;
	struct tf_report	 r;
	char			 err[FEED_ERRLEN] = "";
	int64_t			 i;

	t_report(&r, "USA-E2D-1", 1, T_T0);
	assert_int_equal(t_feed(e, &r, err, sizeof(err)), FEED_FORBIDDEN);
	t_report(&r, "KOR-AEGIS-1", 1, T_T0);
	memcpy(r.label.owner, "USA", 4);
	assert_int_equal(t_feed(e, &r, err, sizeof(err)), FEED_FORBIDDEN);
	t_report(&r, "KOR-AEGIS-1", 0, T_T0);	/* local track 0 */
	assert_int_equal(t_feed(e, &r, err, sizeof(err)), FEED_INVALID);
	assert_non_null(strstr(err, "bad report"));
	assert_int_equal(e->emitted, 0);
	assert_int_equal(corr_sources(e->corr), 0);

	/*
	 * The core shows a one-sensor track once it is confirmed, after a few
	 * updates: feed the unlabeled report until the track appears.
	 */
	for (i = 0; i < 10 && e->emitted == 0; i++) {
		t_report(&r, "KOR-AEGIS-1", 1, T_T0 + i * 2000000000LL);
		memset(&r.label, 0, sizeof(r.label));	/* encodes as absent */
		r.vel[0] = 0.0;				/* holding station */
		assert_int_equal(t_feed(e, &r, err, sizeof(err)), FEED_OK);
		assert_int_equal(corr_sources(e->corr), 1);
	}
	assert_true(e->emitted >= 1);
	assert_string_equal(e->label.owner, "KOR");
	assert_int_equal(e->label.cls, TF_CLASS_NONE);
	assert_int_equal(e->label.nrel, 0);
	assert_int_equal(feed_stats(e->feed)->reports, i);
	assert_true(feed_watermark(e->feed) == T_T0 + (i - 1) * 2000000000LL);
}

/* More than 60 s ahead of the watermark is a lie, after the first report. */
static void
test_future_time(void **state)
{
	struct t_env			*e = *state;
	struct tf_report		 r;
	Trackfuse__V1__Heartbeat	 hb = TRACKFUSE__V1__HEARTBEAT__INIT;
	char				 err[FEED_ERRLEN] = "";

	t_report(&r, "KOR-AEGIS-1", 1, T_T0);
	assert_int_equal(t_feed(e, &r, err, sizeof(err)), FEED_OK);
	t_report(&r, "KOR-AEGIS-1", 2, T_T0 + 61 * T_SEC);
	assert_int_equal(t_feed(e, &r, err, sizeof(err)), FEED_INVALID);
	assert_non_null(strstr(err, "ahead of the watermark"));
	t_report(&r, "KOR-AEGIS-1", 2, T_T0 + 59 * T_SEC);
	assert_int_equal(t_feed(e, &r, err, sizeof(err)), FEED_OK);
	assert_true(feed_watermark(e->feed) == T_T0 + 59 * T_SEC);
	hb.time_ns = T_T0 + 200 * T_SEC;
	assert_int_equal(feed_heartbeat(e->feed, &t_ident, &hb, err,
	    sizeof(err)), FEED_INVALID);
	hb.time_ns = T_T0 + 100 * T_SEC;
	assert_int_equal(feed_heartbeat(e->feed, &t_ident, &hb, err,
	    sizeof(err)), FEED_OK);
	assert_true(feed_watermark(e->feed) == T_T0 + 100 * T_SEC);
	assert_true(corr_now(e->corr) == T_T0 + 100 * T_SEC);
}

/* A drop is authorized like a report. */
static void
test_drop(void **state)
{
	struct t_env			*e = *state;
	Trackfuse__V1__TrackDrop	 d = TRACKFUSE__V1__TRACK_DROP__INIT;
	char				 err[FEED_ERRLEN] = "";
	char				 other[] = "JPN-P1-1", own[] = "KOR-AEGIS-1";

	d.sensor_id = other;
	d.local_track = 1;
	d.time_ns = T_T0;
	assert_int_equal(feed_drop(e->feed, &t_ident, &d, err, sizeof(err)),
	    FEED_FORBIDDEN);
	d.sensor_id = own;
	assert_int_equal(feed_drop(e->feed, &t_ident, &d, err, sizeof(err)),
	    FEED_OK);
	d.local_track = 0;
	assert_int_equal(feed_drop(e->feed, &t_ident, &d, err, sizeof(err)),
	    FEED_INVALID);
}

/* Run every test of this module. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sensor_forbidden),
		cmocka_unit_test(test_label_owner),
		cmocka_unit_test(test_unlabeled),
		cmocka_unit_test_setup_teardown(test_report_path, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_future_time, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_drop, t_setup, t_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
