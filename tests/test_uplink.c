/*
 * Unit tests for federation: the "uplinks:" config section, the feed
 * stage's authorization of federation links (any owner, label required
 * and kept, no local sensor ids) and its tap, and uplink_judge(): what a
 * link forwards, to whom, sanitized how, with the label unchanged.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "trackfuse/codec.h"
#include "trackfuse/config.h"
#include "trackfuse/corr.h"
#include "trackfuse/feed.h"
#include "trackfuse/peer.h"
#include "trackfuse/policy.h"
#include "trackfuse/uplink.h"

#define T_T0	1795910400000000000LL	/* 2026-11-29T00:00:00Z, ns */
#define T_SEC	1000000000LL

/* A daemon of KOR with one local sensor, a link from USA's, an uplink. */
static const char t_config[] =
    "name: kor\n"
    "nation: KOR\n"
    "listen:\n"
    "  feeds:\n"
    "    tls: off\n"
    "  subscribers:\n"
    "    tls: off\n"
    "policy_dir: policy\n"
    "identities:\n"
    "  - id: KOR-AEGIS-1\n"
    "    role: feed\n"
    "    nation: KOR\n"
    "    sensors: [KOR-AEGIS-1]\n"
    "  - id: USA-LINK\n"
    "    role: feed\n"
    "    nation: USA\n"
    "    federation: true\n"
    "    peer_daemon_nation: USA\n"
    "  - id: CC-JPN\n"
    "    role: subscriber\n"
    "    nation: JPN\n"
    "  - id: CC-AUS\n"
    "    role: subscriber\n"
    "    nation: AUS\n"
    "uplinks:\n"
    "  - id: KOR-LINK\n"
    "    connect: 127.0.0.1:7501\n"
    "    recipient: USA\n"
    "    tls: off\n"
    "    max_tracks: 500\n"
    "    secret: 00112233445566778899aabbccddeeff\n";

/* KOR: all to USA; air to JPN only via USA; air to AUS sanitized. */
static const char t_policy[] =
    "owner: KOR\n"
    "version: 1\n"
    "valid: { from: 2026-01-01T00:00:00Z, until: 2030-12-31T23:59:59Z }\n"
    "rules:\n"
    "  - to: USA\n"
    "    categories: [air, surface, subsurface, space, ballistic-missile, "
    "land]\n"
    "    max_classification: secret\n"
    "  - to: JPN\n"
    "    via: USA\n"
    "    categories: [air]\n"
    "    max_classification: secret\n"
    "  - to: AUS\n"
    "    categories: [air]\n"
    "    max_classification: secret\n"
    "    sanitize: { coarsen_m: 1000, delay_s: 10, strip_sensor: true }\n";

struct t_env {
	char			 dir[64];
	struct config		*cfg;
	struct policy_set	*ps;
	struct corr		*corr;
	struct feed		*feed;
	int			 tapped;
	struct tf_report	 last;		/* of the tap */
	const char		*last_from;
};

/* Write text to dir/name. */
static void
t_write(const char *dir, const char *name, const char *text)
{
	char	path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Load a config text from a scratch file; NULL with err on error. */
static struct config *
t_load(const char *dir, const char *text, char *err, size_t len)
{
	char	path[256];

	t_write(dir, "c.yaml", text);
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	return config_load(path, err, len);
}

/* corr emit callback: nothing to see. */
static void
t_emit(void *arg, enum corr_change ch, const struct tf_picture_track *pt)
{
	(void)arg;
	(void)ch;
	(void)pt;
}

/* Tap: keep the last report and who sent it. */
static void
t_tap_report(void *arg, const struct config_identity *from,
    const struct tf_report *r)
{
	struct t_env	*e = arg;

	e->tapped++;
	e->last = *r;
	e->last_from = from->id;
}

static const struct feed_tap t_tap = { t_tap_report, NULL, NULL };

/* Config, policies, a real core and a feed stage with the tap. */
static int
t_setup(void **state)
{
	static struct t_env	e;
	struct corr_params	p;
	char			err[CONFIG_ERRLEN], pdir[128];

	memset(&e, 0, sizeof(e));
	snprintf(e.dir, sizeof(e.dir), "/tmp/test_uplink.XXXXXX");
	assert_non_null(mkdtemp(e.dir));
	snprintf(pdir, sizeof(pdir), "%s/policy", e.dir);
	assert_int_equal(mkdir(pdir, 0700), 0);
	t_write(pdir, "KOR.yaml", t_policy);
	e.cfg = t_load(e.dir, t_config, err, sizeof(err));
	if (e.cfg == NULL)
		fail_msg("config: %s", err);
	e.ps = policy_load_dir(e.cfg, T_T0);
	assert_non_null(e.ps);
	assert_int_equal(policy_owner_find(e.ps, "KOR")->state,
	    POLICY_OWNER_LOADED);
	corr_params_default(&p);
	e.corr = corr_new(&p, t_emit, &e);
	assert_non_null(e.corr);
	e.feed = feed_new(e.corr, NULL);
	feed_set_config(e.feed, (const struct config *const *)&e.cfg);
	feed_set_tap(e.feed, &t_tap, &e);
	*state = &e;
	return 0;
}

/* Free everything and the scratch directory. */
static int
t_teardown(void **state)
{
	struct t_env	*e = *state;
	char		 cmd[128];

	feed_free(e->feed);
	corr_free(e->corr);
	policy_free(e->ps);
	config_free(e->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* A valid KOR report, labelled releasable to rel (comma list). */
static void
t_report(struct tf_report *r, const char *sensor, const char *owner,
    const char *rel, int64_t t)
{
	char	buf[64], *s, *save = NULL;
	int	i;

	memset(r, 0, sizeof(*r));
	snprintf(r->sensor, sizeof(r->sensor), "%s", sensor);
	r->local_track = 7;
	r->t_ns = t;
	r->lat_deg = 38.123456;
	r->lon_deg = 131.654321;
	r->alt_m = 9000.0;
	r->vel[0] = 200.0;
	for (i = 0; i < 6; i++)
		r->cov[tf_cov_idx(i, i)] = i < 3 ? 400.0 : 25.0;
	r->cat = TF_CAT_AIR;
	r->ident = TF_IDENT_UNKNOWN;
	r->quality = 0.8f;
	if (owner == NULL)
		return;
	snprintf(r->label.owner, sizeof(r->label.owner), "%s", owner);
	r->label.cls = TF_CLASS_SECRET;
	snprintf(buf, sizeof(buf), "%s", rel);
	for (s = strtok_r(buf, ",", &save); s != NULL;
	    s = strtok_r(NULL, ",", &save))
		snprintf(r->label.rel[r->label.nrel++], TF_NATION_LEN, "%s", s);
}

/* Run r through feed_envelope() as identity id. */
static enum feed_result
t_feed(struct t_env *e, const char *id, const struct tf_report *r,
    char *err, size_t len)
{
	struct codec_report_msg	m;

	codec_report_encode(r, &m);
	err[0] = '\0';
	return feed_envelope(e->feed, config_identity(e->cfg, id), &m.env, err,
	    len);
}

/* The uplinks section as parsed, and -n -v shows it. */
static void
test_config_uplinks(void **state)
{
	struct t_env		*e = *state;
	const struct config_uplink *u;
	char			 buf[4096];
	FILE			*f;

	assert_int_equal(e->cfg->nuplinks, 1);
	u = &e->cfg->uplinks[0];
	assert_string_equal(u->id, "KOR-LINK");
	assert_string_equal(u->address, "127.0.0.1");
	assert_int_equal(u->port, 7501);
	assert_string_equal(u->recipient, "USA");
	assert_int_equal(u->tls, 0);
	assert_null(u->cert);
	assert_int_equal(u->max_tracks, 500);
	assert_int_equal(u->secretlen, 16);
	assert_int_equal(u->secret[0], 0x00);
	assert_int_equal(u->secret[15], 0xff);
	assert_non_null(f = fmemopen(buf, sizeof(buf), "w"));
	config_print(e->cfg, f);
	fclose(f);
	assert_non_null(strstr(buf, "uplink KOR-LINK connect=127.0.0.1:7501 "
	    "recipient=USA tls=off max_tracks=500"));
}

/* Config text with the uplink's lines replaced by tail. */
static void
t_config_with(char *buf, size_t len, const char *tail)
{
	const char	*u = strstr(t_config, "uplinks:\n");

	snprintf(buf, len, "%.*s%s", (int)(u - t_config), t_config, tail);
}

/* Each bad uplink is refused with its line and a clear reason. */
static void
test_config_bad_uplinks(void **state)
{
	struct t_env	*e = *state;
	static const struct {
		const char	*yaml;
		const char	*want;
	} bad[] = {
		{ "uplinks:\n  - id: L\n    connect: 10.0.0.1:7401\n"
		    "    recipient: USA\n    tls: off\n",
		    ":29:10: 'tls: off' is allowed only to a loopback "
		    "address" },
		{ "uplinks:\n  - id: L\n    connect: 127.0.0.1\n"
		    "    recipient: USA\n",
		    ":27:14: 'connect' expects address:port" },
		{ "uplinks:\n  - id: L\n    connect: 127.0.0.1:0\n"
		    "    recipient: USA\n    tls: off\n",
		    ":27:14: 'connect' port must be in 1..65535" },
		{ "uplinks:\n  - id: L\n    connect: host:7401\n"
		    "    recipient: USA\n    tls: off\n",
		    "'connect' address 'host' is not a numeric" },
		{ "uplinks:\n  - id: L\n    connect: 127.0.0.1:7401\n"
		    "    recipient: usa\n    tls: off\n",
		    ":28:16: recipient 'usa' is not an ISO 3166 alpha-3" },
		{ "uplinks:\n  - id: L\n    connect: 127.0.0.1:7401\n"
		    "    recipient: USA\n    tls: off\n    secret: abcz\n",
		    ":30:13: 'secret' must be 32..128 hex digits" },
		{ "uplinks:\n  - id: L\n    connect: 127.0.0.1:7401\n"
		    "    recipient: USA\n",
		    "uplink 'L' has tls on but there is no 'tls' section" },
		{ "uplinks:\n  - id: L\n    connect: 127.0.0.1:7401\n"
		    "    recipient: USA\n    tls: off\n  - id: L\n"
		    "    connect: 127.0.0.1:7402\n    recipient: USA\n"
		    "    tls: off\n", ":30:9: duplicate uplink id 'L'" },
		{ "uplinks:\n  - id: L\n    connect: 127.0.0.1:7401\n"
		    "    recipient: USA\n    tls: off\n    max_tracks: 0\n",
		    "'max_tracks' must be in 1..10000000" },
		{ "uplinks:\n  - id: L\n    connect: 127.0.0.1:7401\n"
		    "    recipient: USA\n    tls: off\n    bogus: 1\n",
		    "bogus" },
	};
	struct config	*cfg;
	char		 text[2048], err[CONFIG_ERRLEN];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t_config_with(text, sizeof(text), bad[i].yaml);
		cfg = t_load(e->dir, text, err, sizeof(err));
		if (cfg != NULL)
			fail_msg("case %zu accepted", i);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err,
			    bad[i].want);
	}
}

/* A link forwards any owner's labelled data, label kept as it came. */
static void
test_feed_federation_any_owner(void **state)
{
	struct t_env		*e = *state;
	struct tf_report	 r;
	char			 err[FEED_ERRLEN];

	t_report(&r, "JPN-AEGIS-1", "JPN", "USA,KOR", T_T0);
	e->tapped = 0;
	assert_int_equal(t_feed(e, "USA-LINK", &r, err, sizeof(err)), FEED_OK);
	assert_int_equal(e->tapped, 1);
	assert_string_equal(e->last_from, "USA-LINK");
	assert_string_equal(e->last.label.owner, "JPN");
	assert_int_equal(e->last.label.nrel, 2);
	assert_string_equal(e->last.label.rel[1], "KOR");
	/* The same from a local feed: its label must be its own nation's. */
	t_report(&r, "KOR-AEGIS-1", "JPN", "USA", T_T0);
	assert_int_equal(t_feed(e, "KOR-AEGIS-1", &r, err, sizeof(err)),
	    FEED_FORBIDDEN);
}

/* Unlabeled data from a link is refused, nothing reaches the tap. */
static void
test_feed_federation_unlabeled(void **state)
{
	struct t_env		*e = *state;
	struct tf_report	 r;
	char			 err[FEED_ERRLEN];

	t_report(&r, "USA-E2D-1", NULL, NULL, T_T0);
	e->tapped = 0;
	assert_int_equal(t_feed(e, "USA-LINK", &r, err, sizeof(err)),
	    FEED_FORBIDDEN);
	assert_non_null(strstr(err, "unlabeled report sensor USA-E2D-1"));
	assert_non_null(strstr(err, "federation link USA-LINK"));
	assert_int_equal(e->tapped, 0);
	/* Unmarked (class none) is owner-only too: refused. */
	t_report(&r, "USA-E2D-1", "USA", "KOR", T_T0);
	r.label.cls = TF_CLASS_NONE;
	assert_int_equal(t_feed(e, "USA-LINK", &r, err, sizeof(err)),
	    FEED_FORBIDDEN);
}

/* A link naming one of the daemon's own sensors is refused. */
static void
test_feed_federation_collision(void **state)
{
	struct t_env		*e = *state;
	struct tf_report	 r;
	char			 err[FEED_ERRLEN];

	t_report(&r, "KOR-AEGIS-1", "KOR", "USA", T_T0);
	e->tapped = 0;
	assert_int_equal(t_feed(e, "USA-LINK", &r, err, sizeof(err)),
	    FEED_FORBIDDEN);
	assert_non_null(strstr(err, "sensor KOR-AEGIS-1 from federation link "
	    "USA-LINK collides with local identity KOR-AEGIS-1"));
	assert_int_equal(e->tapped, 0);
	/* Without the config to check against, a link is refused. */
	feed_set_config(e->feed, NULL);
	t_report(&r, "USA-E2D-1", "USA", "KOR", T_T0);
	assert_int_equal(t_feed(e, "USA-LINK", &r, err, sizeof(err)),
	    FEED_FORBIDDEN);
	feed_set_config(e->feed, (const struct config *const *)&e->cfg);
	assert_int_equal(t_feed(e, "USA-LINK", &r, err, sizeof(err)), FEED_OK);
}

/* The pseudonym key of the test link. */
static const unsigned char t_key[32] = { 0x5e, 0xc2, 0x37, 0x01 };
static const unsigned char t_key2[32] = { 0x5e, 0xc2, 0x37, 0x02 };

/* Judge r from identity id for recipient over KOR-LINK. */
static enum uplink_verdict
t_judge(struct t_env *e, const char *id, const char *recipient,
    const struct tf_report *r, struct tf_report *out, int64_t *delay)
{
	*delay = -1;
	memset(out, 0, sizeof(*out));
	return uplink_judge(e->ps, e->cfg->nation, "KOR-LINK", t_key,
	    sizeof(t_key), recipient,
	    config_identity(e->cfg, id), r, out, delay);
}

/* Third party: the label's releasable-to list decides before any rule. */
static void
test_judge_label(void **state)
{
	struct t_env		*e = *state;
	struct tf_report	 r, out;
	int64_t			 delay;

	t_report(&r, "KOR-AEGIS-1", "KOR", "USA", T_T0);
	assert_int_equal(t_judge(e, "KOR-AEGIS-1", "USA", &r, &out, &delay),
	    UPLINK_FORWARD);
	assert_int_equal(delay, 0);
	assert_memory_equal(&out, &r, sizeof(r));	/* unsanitized, as is */
	assert_int_equal(t_judge(e, "KOR-AEGIS-1", "AUS", &r, &out, &delay),
	    UPLINK_WITHHELD);
	/* Unlabeled local data stays home. */
	t_report(&r, "KOR-AEGIS-1", "KOR", "USA", T_T0);
	r.label.cls = TF_CLASS_NONE;
	assert_int_equal(t_judge(e, "KOR-AEGIS-1", "USA", &r, &out, &delay),
	    UPLINK_WITHHELD);
	/* Outside the owner's validity window: withheld. */
	t_report(&r, "KOR-AEGIS-1", "KOR", "USA", T_T0 + 5LL * 366 * 86400 *
	    T_SEC);
	assert_int_equal(t_judge(e, "KOR-AEGIS-1", "USA", &r, &out, &delay),
	    UPLINK_WITHHELD);
}

/* via USA: not met by this KOR daemon, met for data from USA's daemon. */
static void
test_judge_via(void **state)
{
	struct t_env		*e = *state;
	struct tf_report	 r, out;
	int64_t			 delay;

	t_report(&r, "KOR-AEGIS-1", "KOR", "USA,KOR,JPN", T_T0);
	assert_int_equal(t_judge(e, "KOR-AEGIS-1", "JPN", &r, &out, &delay),
	    UPLINK_WITHHELD);
	t_report(&r, "KOR-E7-9", "KOR", "USA,KOR,JPN", T_T0);
	assert_int_equal(t_judge(e, "USA-LINK", "JPN", &r, &out, &delay),
	    UPLINK_FORWARD);
	/* ...but never back to the daemons it came from. */
	assert_int_equal(t_judge(e, "USA-LINK", "USA", &r, &out, &delay),
	    UPLINK_ECHO);
	r.cat = TF_CAT_SURFACE;		/* the JPN rule is air only */
	assert_int_equal(t_judge(e, "USA-LINK", "JPN", &r, &out, &delay),
	    UPLINK_WITHHELD);
}

/* The owner's sanitizers apply; the label is never changed. */
static void
test_judge_sanitize(void **state)
{
	struct t_env		*e = *state;
	struct tf_report	 r, out;
	char			 anon[TF_ID_LEN], anon2[TF_ID_LEN];
	double			 lat, lon;
	int64_t			 delay;

	t_report(&r, "KOR-AEGIS-1", "KOR", "USA,AUS", T_T0);
	assert_int_equal(t_judge(e, "KOR-AEGIS-1", "AUS", &r, &out, &delay),
	    UPLINK_FORWARD);
	assert_int_equal(delay, 10 * T_SEC);
	policy_coarsen(r.lat_deg, r.lon_deg, 1000, &lat, &lon);
	assert_true(out.lat_deg == lat && out.lon_deg == lon);
	assert_true(out.lat_deg != r.lat_deg);
	assert_memory_equal(&out.label, &r.label, sizeof(r.label));
	assert_int_equal(out.t_ns, r.t_ns);
	assert_int_equal(out.local_track, r.local_track);
	uplink_pseudonym(t_key, sizeof(t_key), "KOR-LINK", "KOR-AEGIS-1", anon);
	assert_string_equal(out.sensor, anon);
	assert_int_equal(strncmp(anon, "ANON-", 5), 0);
	assert_int_equal(strlen(anon), 21);
	/* Stable per link and sensor, distinct across links and sensors. */
	uplink_pseudonym(t_key, sizeof(t_key), "KOR-LINK", "KOR-AEGIS-1", anon2);
	assert_string_equal(anon, anon2);
	uplink_pseudonym(t_key, sizeof(t_key), "KOR-LINK2", "KOR-AEGIS-1", anon2);
	assert_string_not_equal(anon, anon2);
	uplink_pseudonym(t_key, sizeof(t_key), "KOR-LINK", "KOR-E7-1", anon2);
	assert_string_not_equal(anon, anon2);
	/* Keyed: another key gives another pseudonym for the same sensor. */
	uplink_pseudonym(t_key2, sizeof(t_key2), "KOR-LINK", "KOR-AEGIS-1",
	    anon2);
	assert_string_not_equal(anon, anon2);
	assert_string_equal(uplink_verdict_name(UPLINK_ECHO), "echo");
}

/* A loopback listener on a free port (the far daemon's feeds port). */
static int
t_listener(uint16_t *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	assert_int_not_equal(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* The far end: frames read so far, by kind. */
struct t_far {
	int			 fd;
	struct evbuffer		*in;
	struct wire_arena	*arena;
	int			 hello, reports, drops;
	int64_t			 last_t;
	char			 last_sensor[TF_ID_LEN];
};

/* Turn the uplink's loop and read what reached the far end, ~ms long. */
static void
t_far_pump(struct event_base *base, struct t_far *far, int ms)
{
	struct pollfd	 pfd;
	Envelope	*env;
	int		 i;

	for (i = 0; i < ms / 10; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		pfd.fd = far->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 10) == 1 && evbuffer_read(far->in, far->fd,
		    65536) <= 0)
			break;
		while (wire_read_envelope(far->in, 65536, far->arena, &env) ==
		    WIRE_OK) {
			if (env->msg_case == TRACKFUSE__V1__ENVELOPE__MSG_HELLO)
				far->hello++;
			if (env->msg_case ==
			    TRACKFUSE__V1__ENVELOPE__MSG_TRACK_REPORT) {
				far->reports++;
				far->last_t = env->track_report->time_ns;
				snprintf(far->last_sensor, TF_ID_LEN, "%s",
				    env->track_report->sensor_id);
			}
			if (env->msg_case ==
			    TRACKFUSE__V1__ENVELOPE__MSG_TRACK_DROP)
				far->drops++;
			wire_arena_reset(far->arena);
		}
	}
}

/* Send the uplink a HelloAck from the far end. */
static void
t_far_ack(struct t_far *far)
{
	Trackfuse__V1__HelloAck	ack = TRACKFUSE__V1__HELLO_ACK__INIT;
	Envelope		env = TRACKFUSE__V1__ENVELOPE__INIT;
	struct evbuffer		*out = evbuffer_new();

	ack.protocol_version = TF_PROTOCOL_VERSION;
	ack.daemon = (char *)"far";
	ack.nation = (char *)"USA";
	env.msg_case = TRACKFUSE__V1__ENVELOPE__MSG_HELLO_ACK;
	env.hello_ack = &ack;
	assert_int_not_equal(wire_write_envelope(out, &env), -1);
	while (evbuffer_get_length(out) > 0)
		assert_true(evbuffer_write(out, far->fd) > 0);
	evbuffer_free(out);
}

/*
 * A slow or absent link costs only itself: while the far end has not
 * acked, ten reports of one source track and one the label withholds
 * leave as exactly one report, the latest; a drop follows it.
 */
static void
test_uplink_latest_wins(void **state)
{
	struct t_env		*e = *state;
	struct trackfused	 env;
	struct uplink_set	*set;
	struct t_far		 far;
	struct tf_report	 r;
	struct tf_drop		 d;
	char			 text[2048], tail[256], err[CONFIG_ERRLEN];
	uint16_t		 port;
	int			 lfd, i;

	memset(&env, 0, sizeof(env));
	memset(&far, 0, sizeof(far));
	lfd = t_listener(&port);
	snprintf(tail, sizeof(tail), "uplinks:\n  - id: KOR-LINK\n"
	    "    connect: 127.0.0.1:%u\n    recipient: USA\n    tls: off\n",
	    port);
	t_config_with(text, sizeof(text), tail);
	assert_non_null(env.cfg = t_load(e->dir, text, err, sizeof(err)));
	assert_non_null(env.base = event_base_new());
	env.feed = feed_new(e->corr, NULL);
	set = uplink_start(&env);
	uplink_set_policy(set, e->ps);
	for (i = 0; i < 10; i++) {
		t_report(&r, "KOR-AEGIS-1", "KOR", "USA", T_T0 + i * T_SEC);
		uplink_report(set, config_identity(env.cfg, "KOR-AEGIS-1"), &r);
	}
	t_report(&r, "KOR-E7-1", "KOR", "JPN", T_T0 + 10 * T_SEC);
	uplink_report(set, config_identity(env.cfg, "KOR-AEGIS-1"), &r);
	event_base_loop(env.base, EVLOOP_NONBLOCK);
	assert_int_not_equal(far.fd = accept(lfd, NULL, NULL), -1);
	far.in = evbuffer_new();
	far.arena = wire_arena_new(4096);
	t_far_pump(env.base, &far, 300);
	assert_int_equal(far.hello, 1);
	assert_int_equal(far.reports, 0);	/* nothing before HelloAck */
	t_far_ack(&far);
	t_far_pump(env.base, &far, 300);
	assert_int_equal(far.reports, 1);
	assert_int_equal(far.last_t, T_T0 + 9 * T_SEC);
	assert_string_equal(far.last_sensor, "KOR-AEGIS-1");
	memset(&d, 0, sizeof(d));
	snprintf(d.sensor, sizeof(d.sensor), "KOR-AEGIS-1");
	d.local_track = 7;
	d.t_ns = T_T0 + 11 * T_SEC;
	uplink_drop(set, config_identity(env.cfg, "KOR-AEGIS-1"), &d);
	t_far_pump(env.base, &far, 200);
	assert_int_equal(far.drops, 1);
	assert_int_equal(far.reports, 1);
	uplink_stop(set);
	feed_free(env.feed);
	config_free(env.cfg);
	event_base_free(env.base);
	evbuffer_free(far.in);
	wire_arena_free(far.arena);
	close(far.fd);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_uplinks),
		cmocka_unit_test(test_config_bad_uplinks),
		cmocka_unit_test(test_feed_federation_any_owner),
		cmocka_unit_test(test_feed_federation_unlabeled),
		cmocka_unit_test(test_feed_federation_collision),
		cmocka_unit_test(test_judge_label),
		cmocka_unit_test(test_judge_via),
		cmocka_unit_test(test_judge_sanitize),
		cmocka_unit_test(test_uplink_latest_wins),
	};

	return cmocka_run_group_tests(tests, t_setup, t_teardown);
}
