/*
 * trackfuse-sim: ship, satellite and aircraft sensor simulators feeding
 * trackfused. Options, the start line, the offline run and the summary.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trackfuse/addr.h"
#include "trackfuse/log.h"
#include "sim.h"

#define SIM_DEFAULT_SCENARIO	"configs/scenarios/default.yaml"
#define SIM_DEFAULT_CONNECT	"127.0.0.1:7401"

struct sim_opts {
	const char	*scenario;
	const char	*sensors[64];
	unsigned	 nsensors;
	uint64_t	 seed;
	int		 fast;
	int		 offline;
	double		 duration_s;	/* < 0: the scenario's */
	unsigned	 objects;	/* > 0: generate a scale scenario */
	char		 host[256];
	char		 port[16];
	const char	*certs;
	int		 plain;
	const char	*record;
	const char	*truth;
	int		 verbose;
};

static const struct option sim_longopts[] = {
	{ "scenario",	required_argument,	NULL, 's' },
	{ "sensor",	required_argument,	NULL, 'S' },
	{ "seed",	required_argument,	NULL, 'r' },
	{ "fast",	no_argument,		NULL, 'f' },
	{ "offline",	no_argument,		NULL, 'o' },
	{ "duration",	required_argument,	NULL, 'd' },
	{ "objects",	required_argument,	NULL, 'n' },
	{ "connect",	required_argument,	NULL, 'c' },
	{ "certs",	required_argument,	NULL, 'C' },
	{ "plain",	no_argument,		NULL, 'p' },
	{ "record",	required_argument,	NULL, 'R' },
	{ "truth",	required_argument,	NULL, 'T' },
	{ "verbose",	no_argument,		NULL, 'v' },
	{ "version",	no_argument,		NULL, 'V' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

/* Print usage to f. */
static void
sim_usage(FILE *f)
{
	fprintf(f,
	    "usage: trackfuse-sim [--scenario FILE] [--sensor ID]... "
	    "[--seed N] [--duration S]\n"
	    "           [--objects N] [--fast | --offline] "
	    "[--connect HOST:PORT]\n"
	    "           [--certs DIR | --plain] [--record FILE] "
	    "[--truth FILE] [-v] [-V] [--help]\n"
	    "  --scenario FILE    scenario YAML (default %s)\n"
	    "  --sensor ID        simulate only this sensor (repeatable)\n"
	    "  --seed N           random seed (default 1)\n"
	    "  --duration S       override the scenario duration, seconds\n"
	    "  --objects N        replace the objects by N generated ones "
	    "(scale)\n"
	    "  --fast             no real-time pacing: as fast as the daemon "
	    "reads\n"
	    "  --offline          no network; needs --record and/or --truth\n"
	    "  --connect H:P      daemon feed listener (default %s)\n"
	    "  --certs DIR        ca.pem and <SENSOR-ID>.pem/.key\n"
	    "  --plain            no TLS (loopback development)\n"
	    "  --record FILE      every frame sent, as framed on the wire\n"
	    "  --truth FILE       ground truth, JSON lines\n",
	    SIM_DEFAULT_SCENARIO, SIM_DEFAULT_CONNECT);
}

/* Parse a number option; exits on garbage. */
static double
sim_number(const char *opt, const char *s, double lo, double hi)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		fprintf(stderr, "trackfuse-sim: --%s: bad value %s\n", opt, s);
		exit(1);
	}
	return v;
}

/* Parse --seed: any unsigned 64-bit number. */
static uint64_t
sim_seed(const char *s)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || *s == '-') {
		fprintf(stderr, "trackfuse-sim: --seed: bad value %s\n", s);
		exit(1);
	}
	return (uint64_t)v;
}

/* Handle one option character. */
static void
sim_option(struct sim_opts *o, int ch)
{
	switch (ch) {
	case 's':
		o->scenario = optarg;
		break;
	case 'S':
		if (o->nsensors == sizeof(o->sensors) / sizeof(o->sensors[0])) {
			fprintf(stderr, "trackfuse-sim: too many --sensor\n");
			exit(1);
		}
		o->sensors[o->nsensors++] = optarg;
		break;
	case 'r':
		o->seed = sim_seed(optarg);
		break;
	case 'f':
		o->fast = 1;
		break;
	case 'o':
		o->offline = 1;
		break;
	case 'd':
		o->duration_s = sim_number("duration", optarg, 0.001, 86400.0);
		break;
	case 'n':
		o->objects = (unsigned)sim_number("objects", optarg, 1.0,
		    SCALE_MAX_OBJECTS);
		break;
	case 'c':
		if (addr_split(optarg, o->host, sizeof(o->host), o->port,
		    sizeof(o->port)) == -1) {
			fprintf(stderr, "trackfuse-sim: --connect: want "
			    "HOST:PORT, got %s\n", optarg);
			exit(1);
		}
		break;
	case 'C':
		o->certs = optarg;
		break;
	case 'p':
		o->plain = 1;
		break;
	case 'R':
		o->record = optarg;
		break;
	case 'T':
		o->truth = optarg;
		break;
	case 'v':
		o->verbose++;
		break;
	case 'V':
		printf("%s\n", SIM_SOFTWARE);
		exit(0);
	case 'h':
		sim_usage(stdout);
		exit(0);
	default:
		sim_usage(stderr);
		exit(1);
	}
}

/* Parse argv into o and check the combinations. */
static void
sim_options(struct sim_opts *o, int argc, char **argv)
{
	int	ch;

	memset(o, 0, sizeof(*o));
	o->scenario = SIM_DEFAULT_SCENARIO;
	o->seed = 1;
	o->duration_s = -1.0;
	(void)addr_split(SIM_DEFAULT_CONNECT, o->host, sizeof(o->host), o->port,
	    sizeof(o->port));
	while ((ch = getopt_long(argc, argv, "vVh", sim_longopts, NULL)) != -1)
		sim_option(o, ch);
	if (optind != argc) {
		sim_usage(stderr);
		exit(1);
	}
	if (o->offline && o->record == NULL && o->truth == NULL) {
		fprintf(stderr, "trackfuse-sim: --offline needs --record "
		    "and/or --truth\n");
		exit(1);
	}
	if (!o->offline && !o->plain && o->certs == NULL) {
		fprintf(stderr, "trackfuse-sim: --certs DIR is required "
		    "(or --plain, or --offline)\n");
		exit(1);
	}
}

/* Scenario indices of the chosen sensors, in scenario order; -1 on error. */
static int
sim_select(const struct sim_scenario *sc, const struct sim_opts *o, int *sel,
    unsigned *nsel)
{
	unsigned	i, j;

	for (j = 0; j < o->nsensors; j++)
		if (scenario_sensor_index(sc, o->sensors[j]) == -1) {
			fprintf(stderr, "trackfuse-sim: no sensor %s in %s\n",
			    o->sensors[j], sc->path);
			return -1;
		}
	*nsel = 0;
	for (i = 0; i < sc->cfg->sensors_count; i++)
		for (j = 0; j < o->nsensors; j++)
			if (strcmp(sc->cfg->sensors[i].id, o->sensors[j]) == 0) {
				sel[(*nsel)++] = (int)i;
				break;
			}
	return 0;
}

/* Offline emit: straight into the record file. */
static void
sim_emit_record(void *arg, unsigned idx, int64_t due_ms, const Envelope *env)
{
	FILE	*f = arg;

	(void)idx;
	(void)due_ms;
	if (f != NULL && simnet_record(f, env) == -1)
		fatal("sim: record");
}

/* Open an output file or exit. */
static FILE *
sim_open(const char *path)
{
	FILE	*f;

	if (path == NULL)
		return NULL;
	if ((f = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "trackfuse-sim: %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	return f;
}

/* Close an output file, reporting a failed write. */
static int
sim_close(FILE *f, const char *path)
{
	if (f == NULL)
		return 0;
	if (fclose(f) != 0) {
		log_warnx("sim: write %s failed: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The end-of-run summary. */
static void
sim_summary(const struct sim_scenario *sc, const struct sensor_world *w)
{
	const struct sensor_stats	*st;
	uint64_t			 frames = 0;
	unsigned			 i;

	for (i = 0; i < sensor_world_count(w); i++) {
		st = sensor_world_stats(w, i);
		frames += st->frames;
		log_info("sim: summary sensor=%s reports=%" PRIu64
		    " drops=%" PRIu64 " heartbeats=%" PRIu64
		    " false_tracks=%" PRIu64, sensor_world_sensor(w, i)->id,
		    st->reports, st->drops, st->heartbeats, st->false_tracks);
	}
	log_info("sim: done objects=%u sensors=%u frames=%" PRIu64
	    " duration=%.1fs", sc->nobj, sensor_world_count(w), frames,
	    (double)sensor_world_now(w) / 1000.0);
}

/* Run online or offline, then report. */
static int
sim_run(const struct sim_opts *o, struct sim_scenario *sc,
    struct sensor_world *w)
{
	struct simnet_opts	 no;
	FILE			*rec, *truth;
	int			 rv = 0;

	rec = sim_open(o->record);
	truth = sim_open(o->truth);
	if (o->offline)
		sensor_world_run(w, sc->duration_ms, sim_emit_record, rec,
		    truth);
	else {
		memset(&no, 0, sizeof(no));
		no.host = o->host;
		no.port = o->port;
		no.certs = o->certs;
		no.plain = o->plain;
		no.fast = o->fast;
		no.record = rec;
		no.truth = truth;
		rv = simnet_run(w, &no);
	}
	if (sim_close(rec, o->record) == -1 ||
	    sim_close(truth, o->truth) == -1)
		rv = -1;
	sim_summary(sc, w);
	return rv;
}

/* Load the scenario, pick the sensors, run, summarize. */
int
main(int argc, char **argv)
{
	struct sim_opts		 o;
	struct sim_scenario	*sc;
	struct sensor_world	*w;
	char			 err[SIM_ERRLEN];
	int			 sel[64];
	unsigned		 nsel = 0;
	int			 rv;

	sim_options(&o, argc, argv);
	log_init(1, o.verbose, NULL);
	log_setprocname("trackfuse-sim");
	signal(SIGPIPE, SIG_IGN);
	if ((sc = scenario_load(o.scenario, err, sizeof(err))) == NULL) {
		fprintf(stderr, "trackfuse-sim: %s\n", err);
		return 1;
	}
	if (o.duration_s > 0.0)
		sc->duration_ms = (int64_t)(o.duration_s * 1000.0 + 0.5);
	if (o.objects > 0 && scale_generate(sc, o.objects, o.seed, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "trackfuse-sim: %s\n", err);
		scenario_free(sc);
		return 1;
	}
	if (sim_select(sc, &o, sel, &nsel) == -1)
		return 1;
	if ((w = sensor_world_new(sc, o.seed, o.nsensors ? sel : NULL,
	    nsel)) == NULL)
		fatalx("sim: out of memory");
	log_info("sim: start scenario=%s objects=%u sensors=%u seed=%" PRIu64
	    " duration=%.1fs mode=%s%s%s%s%s", sc->path, sc->nobj,
	    sensor_world_count(w), o.seed, (double)sc->duration_ms / 1000.0,
	    o.offline ? "offline" : o.fast ? "fast" : "real-time",
	    o.offline ? "" : o.plain ? ",plain peer=" : ",tls peer=",
	    o.offline ? "" : o.host, o.offline ? "" : ":",
	    o.offline ? "" : o.port);
	rv = sim_run(&o, sc, w);
	sensor_world_free(w);
	scenario_free(sc);
	return rv == 0 ? 0 : 1;
}
