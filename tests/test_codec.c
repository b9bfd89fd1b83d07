/*
 * Unit tests for lib/codec.c: encode -> pack -> unpack -> decode round
 * trips, and each kind of bad value refused with a precise reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trackfuse/codec.h"

/* A valid report with a full label and a correlated covariance. */
static void
t_report(struct tf_report *r)
{
	int	i;

	memset(r, 0, sizeof(*r));
	strcpy(r->sensor, "KOR-AEGIS-1");
	r->local_track = 17;
	r->t_ns = 1795000000123456789LL;
	r->lat_deg = 37.55;
	r->lon_deg = 131.1;
	r->alt_m = 9144.0;
	r->vel[0] = 230.5;
	r->vel[1] = -12.25;
	r->vel[2] = 0.5;
	for (i = 0; i < 6; i++)
		r->cov[tf_cov_idx(i, i)] = i < 3 ? 2500.0 : 25.0;
	r->cov[tf_cov_idx(0, 1)] = 1200.0;
	r->cov[tf_cov_idx(0, 3)] = 100.0;
	r->cov[tf_cov_idx(4, 5)] = -5.0;
	r->cat = TF_CAT_AIR;
	r->ident = TF_IDENT_HOSTILE;
	r->quality = 0.875f;
	strcpy(r->label.owner, "KOR");
	r->label.cls = TF_CLASS_SECRET;
	r->label.nrel = 2;
	strcpy(r->label.rel[0], "USA");
	strcpy(r->label.rel[1], "JPN");
}

/* A valid picture track. */
static void
t_picture(struct tf_picture_track *p)
{
	struct tf_report	r;

	t_report(&r);
	memset(p, 0, sizeof(*p));
	p->track_id = UINT64_C(4000000001);
	p->t_ns = r.t_ns;
	p->lat_deg = -12.5;
	p->lon_deg = -179.75;
	p->alt_m = 250000.0;
	memcpy(p->vel, r.vel, sizeof(p->vel));
	memcpy(p->cov, r.cov, sizeof(p->cov));
	p->cat = TF_CAT_BALLISTIC_MISSILE;
	p->ident = TF_IDENT_SUSPECT;
	p->quality = 0.25f;
	p->nnations = 3;
	strcpy(p->nations[0], "JPN");
	strcpy(p->nations[1], "KOR");
	strcpy(p->nations[2], "USA");
	p->label = r.label;
	p->ident_conflict = 1;
	p->contributors = 4;
	p->status = TF_STATUS_COASTING;
}

/* Pack env into a frame and unpack it with the default allocator. */
static Envelope *
t_through_wire(const Envelope *env)
{
	uint8_t		*frame, hdr;
	size_t		 len, h, b;
	Envelope	*out;

	assert_non_null(frame = wire_pack_frame(env, &len));
	assert_int_equal(wire_frame_peek(frame, len, len, &h, &b), WIRE_OK);
	hdr = (uint8_t)h;
	out = trackfuse__v1__envelope__unpack(NULL, b, frame + hdr);
	free(frame);
	assert_non_null(out);
	return out;
}

/* Report: encode, pack, unpack, decode gives the same struct. */
static void
test_report_roundtrip(void **state)
{
	struct codec_report_msg	 m;
	struct tf_report	 r, o;
	Envelope		*e;
	char			 err[CODEC_ERRLEN] = "";

	(void)state;
	t_report(&r);
	codec_report_encode(&r, &m);
	assert_int_equal(m.env.msg_case,
	    TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT);
	e = t_through_wire(&m.env);
	assert_int_equal(e->msg_case, TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT);
	if (codec_report_decode(e->track_report, &o, err, sizeof(err)) != 0)
		fail_msg("decode: %s", err);
	assert_string_equal(o.sensor, r.sensor);
	assert_int_equal(o.local_track, r.local_track);
	assert_int_equal(o.t_ns, r.t_ns);
	assert_memory_equal(o.cov, r.cov, sizeof(r.cov));
	assert_string_equal(o.label.owner, "KOR");
	assert_int_equal(o.label.nrel, 2);
	assert_string_equal(o.label.rel[1], "JPN");
	assert_memory_equal(&o, &r, sizeof(r));
	trackfuse__v1__envelope__free_unpacked(e, NULL);
}

/* Picture: encode, pack, unpack, decode gives the same struct. */
static void
test_picture_roundtrip(void **state)
{
	struct codec_picture_msg	 m;
	struct tf_picture_track		 p, o;
	Envelope			*e;
	char				 err[CODEC_ERRLEN] = "";

	(void)state;
	t_picture(&p);
	codec_picture_encode(&p, &m);
	e = t_through_wire(&m.env);
	assert_int_equal(e->msg_case,
	    TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK);
	if (codec_picture_decode(e->picture_track, &o, err, sizeof(err)) != 0)
		fail_msg("decode: %s", err);
	assert_true(o.track_id == p.track_id);
	assert_int_equal(o.nnations, 3);
	assert_string_equal(o.nations[2], "USA");
	assert_int_equal(o.ident_conflict, 1);
	assert_int_equal(o.contributors, 4);
	assert_int_equal(o.status, TF_STATUS_COASTING);
	assert_memory_equal(&o, &p, sizeof(p));
	trackfuse__v1__envelope__free_unpacked(e, NULL);
}

/* An unlabeled report travels without a label and decodes with owner "". */
static void
test_unlabeled(void **state)
{
	struct codec_report_msg	 m;
	struct tf_report	 r, o;
	Envelope		*e;
	char			 err[CODEC_ERRLEN];

	(void)state;
	t_report(&r);
	memset(&r.label, 0, sizeof(r.label));
	codec_report_encode(&r, &m);
	assert_null(m.rep.label);
	e = t_through_wire(&m.env);
	assert_null(e->track_report->label);
	assert_int_equal(codec_report_decode(e->track_report, &o, err,
	    sizeof(err)), 0);
	assert_string_equal(o.label.owner, "");
	assert_int_equal(o.label.cls, TF_CLASS_NONE);
	assert_int_equal(o.label.nrel, 0);
	trackfuse__v1__envelope__free_unpacked(e, NULL);
}

/* One bad-report case: a mutation of a valid message and the reason. */
struct t_bad {
	const char	*name;
	void		(*mutate)(struct codec_report_msg *);
	const char	*reason;
};

/* Latitude NaN. */
static void
t_lat_nan(struct codec_report_msg *m)
{
	m->pos.lat_deg = NAN;
}

/* Longitude +Inf. */
static void
t_lon_inf(struct codec_report_msg *m)
{
	m->pos.lon_deg = INFINITY;
}

/* Latitude past the pole. */
static void
t_lat_91(struct codec_report_msg *m)
{
	m->pos.lat_deg = 91.0;
}

/* Longitude past the dateline. */
static void
t_lon_m181(struct codec_report_msg *m)
{
	m->pos.lon_deg = -181.0;
}

/* Deeper than any sea. */
static void
t_alt_low(struct codec_report_msg *m)
{
	m->pos.alt_m = -12001.0;
}

/* Beyond 40000 km. */
static void
t_alt_high(struct codec_report_msg *m)
{
	m->pos.alt_m = 4.1e7;
}

/* Faster than 12 km/s. */
static void
t_speed(struct codec_report_msg *m)
{
	m->vel.east_mps = 9000;
	m->vel.north_mps = 9000;
}

/* Velocity NaN. */
static void
t_vel_nan(struct codec_report_msg *m)
{
	m->vel.up_mps = NAN;
}

/* Unknown category. */
static void
t_cat_42(struct codec_report_msg *m)
{
	m->rep.category = 42;
}

/* Unspecified category. */
static void
t_cat_0(struct codec_report_msg *m)
{
	m->rep.category = 0;
}

/* Unknown identity. */
static void
t_ident_99(struct codec_report_msg *m)
{
	m->rep.identity = 99;
}

/* Unknown classification. */
static void
t_class_9(struct codec_report_msg *m)
{
	m->lab.classification = 9;
}

/* One covariance value short. */
static void
t_cov_20(struct codec_report_msg *m)
{
	m->rep.n_covariance = 20;
}

/* Unit diagonal with cov01 = 5. */
static void
t_cov_nonpsd(struct codec_report_msg *m)
{
	int	i;

	memset(m->cov, 0, sizeof(m->cov));
	for (i = 0; i < 6; i++)
		m->cov[tf_cov_idx(i, i)] = 1.0;
	m->cov[tf_cov_idx(0, 1)] = 5.0;
}

/* A negative variance. */
static void
t_cov_negvar(struct codec_report_msg *m)
{
	m->cov[tf_cov_idx(2, 2)] = -1.0;
}

/* An infinite covariance. */
static void
t_cov_inf(struct codec_report_msg *m)
{
	m->cov[tf_cov_idx(1, 4)] = INFINITY;
}

/* Every pairwise correlation is legal, the whole is not. */
static void
t_cov_indef(struct codec_report_msg *m)
{
	int	i;

	memset(m->cov, 0, sizeof(m->cov));
	for (i = 0; i < 6; i++)
		m->cov[tf_cov_idx(i, i)] = 4.0;
	m->cov[tf_cov_idx(0, 1)] = 3.6;
	m->cov[tf_cov_idx(0, 2)] = 3.6;
	m->cov[tf_cov_idx(1, 2)] = -3.6;
}

/* Sensor id with a space and a newline. */
static void
t_sensor_bad(struct codec_report_msg *m)
{
	m->rep.sensor_id = "KOR AEGIS\n1";
}

/* Empty sensor id. */
static void
t_sensor_empty(struct codec_report_msg *m)
{
	m->rep.sensor_id = "";
}

/* Sensor id of 32 bytes. */
static void
t_sensor_long(struct codec_report_msg *m)
{
	m->rep.sensor_id = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
}

/* Owner not three uppercase letters. */
static void
t_owner_ko(struct codec_report_msg *m)
{
	m->lab.owner = "ko";
}

/* A four-letter releasable nation. */
static void
t_rel_bad(struct codec_report_msg *m)
{
	m->rel[1] = "JPNX";
}

/* A releasable nation twice. */
static void
t_rel_dup(struct codec_report_msg *m)
{
	m->rel[1] = "USA";
}

/* Seventeen releasable nations. */
static void
t_rel_17(struct codec_report_msg *m)
{
	m->lab.n_releasable_to = 17;
}

/* Local track 0. */
static void
t_local_0(struct codec_report_msg *m)
{
	m->rep.local_track = 0;
}

/* Time 0. */
static void
t_time_0(struct codec_report_msg *m)
{
	m->rep.time_ns = 0;
}

/* Time at 2^62. */
static void
t_time_big(struct codec_report_msg *m)
{
	m->rep.time_ns = INT64_C(1) << 62;
}

/* No position. */
static void
t_no_pos(struct codec_report_msg *m)
{
	m->rep.position = NULL;
}

/* No velocity. */
static void
t_no_vel(struct codec_report_msg *m)
{
	m->rep.velocity = NULL;
}

/* Quality over 1. */
static void
t_quality(struct codec_report_msg *m)
{
	m->rep.quality = 1.5f;
}

/* Quality NaN. */
static void
t_quality_nan(struct codec_report_msg *m)
{
	m->rep.quality = NAN;
}

static const struct t_bad t_bads[] = {
	{ "lat NaN", t_lat_nan, "latitude nan is not finite" },
	{ "lon Inf", t_lon_inf, "longitude inf is not finite" },
	{ "lat 91", t_lat_91, "latitude 91 out of range [-90, 90]" },
	{ "lon -181", t_lon_m181, "longitude -181 out of range [-180, 180]" },
	{ "alt low", t_alt_low, "altitude -12001 out of range" },
	{ "alt high", t_alt_high, "altitude 4.1e+07 out of range" },
	{ "speed", t_speed, "speed 12727.9 m/s out of range" },
	{ "vel NaN", t_vel_nan, "velocity (230.5, -12.25, nan) is not finite" },
	{ "cat 42", t_cat_42, "unknown category 42" },
	{ "cat 0", t_cat_0, "unknown category 0" },
	{ "ident 99", t_ident_99, "unknown identity 99" },
	{ "class 9", t_class_9, "unknown classification 9" },
	{ "cov 20", t_cov_20, "covariance has 20 values, expected 21" },
	{ "cov non-PSD", t_cov_nonpsd, "covariance not positive semi-definite" },
	{ "cov negative", t_cov_negvar, "covariance has a negative variance" },
	{ "cov Inf", t_cov_inf, "covariance has a value that is not finite" },
	{ "cov indefinite", t_cov_indef,
	    "covariance not positive semi-definite" },
	{ "sensor chars", t_sensor_bad,
	    "sensor id \"KOR AEGIS?1\" has bad characters" },
	{ "sensor empty", t_sensor_empty, "sensor id is empty" },
	{ "sensor long", t_sensor_long, "longer than 31 bytes" },
	{ "owner ko", t_owner_ko,
	    "label owner \"ko\" is not three uppercase letters" },
	{ "rel JPNX", t_rel_bad, "nation \"JPNX\" is not three uppercase" },
	{ "rel dup", t_rel_dup, "lists nation USA twice" },
	{ "rel 17", t_rel_17, "has 17 nations, at most 16" },
	{ "local 0", t_local_0, "local track number is 0" },
	{ "time 0", t_time_0, "time_ns 0 out of range" },
	{ "time 2^62", t_time_big, "time_ns 4611686018427387904 out of range" },
	{ "no position", t_no_pos, "position missing" },
	{ "no velocity", t_no_vel, "velocity missing" },
	{ "quality 1.5", t_quality, "quality 1.5 out of range [0, 1]" },
	{ "quality NaN", t_quality_nan, "quality nan out of range" },
};

/* Each bad value is refused, directly and after a trip over the wire. */
static void
test_report_bad(void **state)
{
	struct codec_report_msg	 m;
	struct tf_report	 r, o;
	char			*rel[17], err[CODEC_ERRLEN];
	Envelope		*e;
	size_t			 i;
	int			 k, rc;

	(void)state;
	for (i = 0; i < sizeof(t_bads) / sizeof(t_bads[0]); i++) {
		t_report(&r);
		codec_report_encode(&r, &m);
		for (k = 0; k < 17; k++)
			rel[k] = k % 2 ? "USA" : "JPN";
		t_bads[i].mutate(&m);
		if (m.lab.n_releasable_to > TF_MAX_REL)
			m.lab.releasable_to = rel;
		for (k = 0; k < 2; k++) {
			strcpy(err, "");
			if (k == 0)
				rc = codec_report_decode(&m.rep, &o, err,
				    sizeof(err));
			else {
				e = t_through_wire(&m.env);
				rc = codec_report_decode(e->track_report, &o,
				    err, sizeof(err));
				trackfuse__v1__envelope__free_unpacked(e, NULL);
			}
			if (rc != -1)
				fail_msg("%s: accepted", t_bads[i].name);
			if (strstr(err, t_bads[i].reason) == NULL)
				fail_msg("%s: reason \"%s\", want \"%s\"",
				    t_bads[i].name, err, t_bads[i].reason);
		}
	}
}

/* Bad picture tracks are refused with a reason. */
static void
test_picture_bad(void **state)
{
	struct codec_picture_msg	m;
	struct tf_picture_track		p, o;
	char				err[CODEC_ERRLEN], *many[17];
	int				i;

	(void)state;
	t_picture(&p);
	p.track_id = 0;
	codec_picture_encode(&p, &m);
	assert_int_equal(codec_picture_decode(&m.pic, &o, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "track id is 0");
	t_picture(&p);
	strcpy(p.nations[1], "ko");
	codec_picture_encode(&p, &m);
	assert_int_equal(codec_picture_decode(&m.pic, &o, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "contributing nation \"ko\""));
	t_picture(&p);
	codec_picture_encode(&p, &m);
	for (i = 0; i < 17; i++)
		many[i] = "USA";
	m.pic.n_contributing_nations = 17;
	m.pic.contributing_nations = many;
	assert_int_equal(codec_picture_decode(&m.pic, &o, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "17 nations, at most 16"));
	t_picture(&p);
	p.lat_deg = -90.5;
	codec_picture_encode(&p, &m);
	assert_int_equal(codec_picture_decode(&m.pic, &o, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "latitude -90.5 out of range [-90, 90]");
}

/* Drops: sensor, local track and time are checked. */
static void
test_drop(void **state)
{
	Trackfuse__V1__TrackDrop	m = TRACKFUSE__V1__TRACK_DROP__INIT;
	struct tf_drop			d;
	char				err[CODEC_ERRLEN];

	(void)state;
	m.sensor_id = "JPN-P1-1";
	m.local_track = 3;
	m.time_ns = 1795000000000000000LL;
	assert_int_equal(codec_drop_decode(&m, &d, err, sizeof(err)), 0);
	assert_string_equal(d.sensor, "JPN-P1-1");
	assert_int_equal(d.local_track, 3);
	assert_int_equal(d.t_ns, m.time_ns);
	m.local_track = 0;
	assert_int_equal(codec_drop_decode(&m, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "local track number is 0");
	m.local_track = 3;
	m.time_ns = -5;
	assert_int_equal(codec_drop_decode(&m, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "time_ns -5 out of range"));
}

/* PSD check: semi-definite and zero-variance matrices pass. */
static void
test_cov_psd(void **state)
{
	double	c[TF_COV_N] = { 0 }, a[6][6];
	int	i, j, k;

	(void)state;
	assert_int_equal(codec_cov_psd(c), 1);	/* all zero */
	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++)
			a[i][j] = cos(1.0 + i * 1.3 + j * 0.41) *
			    (i < 3 ? 300.0 : 4.0);
	for (i = 0; i < 6; i++)
		for (j = i; j < 6; j++) {
			c[tf_cov_idx(i, j)] = 0;
			for (k = 0; k < 6; k++)
				c[tf_cov_idx(i, j)] += a[i][k] * a[j][k];
		}
	assert_int_equal(codec_cov_psd(c), 1);
	/* Rank one: v v^T is PSD but singular. */
	for (i = 0; i < 6; i++)
		for (j = i; j < 6; j++)
			c[tf_cov_idx(i, j)] = (i + 1.0) * (j + 1.0) * 1e4;
	assert_int_equal(codec_cov_psd(c), 1);
	/* A zero variance with zero row, rest positive. */
	memset(c, 0, sizeof(c));
	for (i = 0; i < 6; i++)
		c[tf_cov_idx(i, i)] = i == 2 ? 0.0 : 10.0;
	assert_int_equal(codec_cov_psd(c), 1);
	/* A zero variance with a nonzero covariance is not PSD. */
	c[tf_cov_idx(2, 3)] = 0.5;
	assert_int_equal(codec_cov_psd(c), 0);
	c[tf_cov_idx(2, 3)] = 0.0;
	c[tf_cov_idx(4, 4)] = NAN;
	assert_int_equal(codec_cov_psd(c), 0);
}

/* Ids and nation codes. */
static void
test_ids(void **state)
{
	(void)state;
	assert_int_equal(codec_id_valid("USA-SBIRS-1"), 1);
	assert_int_equal(codec_id_valid("a_b.c-9"), 1);
	assert_int_equal(codec_id_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ01234"), 1);
	assert_int_equal(codec_id_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"), 0);
	assert_int_equal(codec_id_valid(""), 0);
	assert_int_equal(codec_id_valid("a/b"), 0);
	assert_int_equal(codec_id_valid("a b"), 0);
	assert_int_equal(codec_nation_valid("KOR"), 1);
	assert_int_equal(codec_nation_valid("ko"), 0);
	assert_int_equal(codec_nation_valid("KORE"), 0);
	assert_int_equal(codec_nation_valid("KoR"), 0);
	assert_int_equal(codec_nation_valid(""), 0);
}

/* Wire names of the enums. */
static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(codec_category_name(TF_CAT_AIR), "air");
	assert_string_equal(codec_category_name(TF_CAT_BALLISTIC_MISSILE),
	    "ballistic-missile");
	assert_string_equal(codec_category_name(TF_CAT_LAND), "land");
	assert_string_equal(codec_category_name(TF_CAT_NONE), "?");
	assert_string_equal(codec_category_name((enum tf_category)42), "?");
	assert_string_equal(codec_identity_name(TF_IDENT_ASSUMED_FRIEND),
	    "assumed-friend");
	assert_string_equal(codec_identity_name(TF_IDENT_HOSTILE), "hostile");
	assert_string_equal(codec_identity_name(TF_IDENT_MAX), "?");
	assert_string_equal(codec_class_name(TF_CLASS_NONE), "unmarked");
	assert_string_equal(codec_class_name(TF_CLASS_TOP_SECRET),
	    "top-secret");
	assert_string_equal(codec_class_name((enum tf_class)9), "?");
}

/* Run every test of this module. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_roundtrip),
		cmocka_unit_test(test_picture_roundtrip),
		cmocka_unit_test(test_unlabeled),
		cmocka_unit_test(test_report_bad),
		cmocka_unit_test(test_picture_bad),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_cov_psd),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
