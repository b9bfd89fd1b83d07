/*
 * tf-picdump: a test-only reader of picture files, as written by
 * trackfused --replay --picture-out or trackfuse-sub --record.
 *
 * It prints what a picture amounts to, so that a script can compare two:
 *   --final   one line per track id ever seen, ascending:
 *             "ID live T_NS CAT CONTRIBUTORS LAT LON ALT" for a track alive
 *             at the end (its last PictureTrack) or "ID dropped" for one
 *             that left
 *   default   a summary line:
 *             "frames=N snapshots=N tracks=N drops=N ids=N live=N other=N
 *             stray=N", stray counting drops of ids never sent before
 * Exit 0 when every frame parsed, 1 on a bad or truncated frame or an
 * unreadable file, 2 on misuse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trackfuse/wire.h"

#define PICDUMP_MAX_FRAME	(1024 * 1024)

/* The last word on one track id. */
struct picdump_track {
	uint64_t	id;
	int		live;
	int64_t		t_ns;
	int		cat;
	uint32_t	contributors;
	double		lat, lon, alt;
};

struct picdump {
	struct picdump_track	*t;
	size_t			 n, cap;
	uint64_t		 frames, snapshots, tracks, drops, other, stray;
};

/* The entry of id; NULL if never seen (ids arrive mostly ascending). */
static struct picdump_track *
picdump_find(struct picdump *p, uint64_t id)
{
	size_t	i;

	for (i = p->n; i > 0; i--)
		if (p->t[i - 1].id == id)
			return &p->t[i - 1];
	return NULL;
}

/* The entry of id, added if new. */
static struct picdump_track *
picdump_get(struct picdump *p, uint64_t id)
{
	struct picdump_track	*t;

	if ((t = picdump_find(p, id)) != NULL)
		return t;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		if ((p->t = realloc(p->t, p->cap * sizeof(*p->t))) == NULL) {
			perror("tf-picdump: realloc");
			exit(1);
		}
	}
	memset(&p->t[p->n], 0, sizeof(p->t[p->n]));
	p->t[p->n].id = id;
	return &p->t[p->n++];
}

/* Account for one frame. */
static void
picdump_frame(struct picdump *p, const Envelope *env)
{
	struct picdump_track	*t;

	p->frames++;
	switch (env->msg_case) {
	case TRACKFUSE__V1__ENVELOPE__MSG_SNAPSHOT_BEGIN:
		p->snapshots++;
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_TRACK:
		p->tracks++;
		t = picdump_get(p, env->picture_track->track_id);
		t->live = 1;
		t->t_ns = env->picture_track->time_ns;
		t->cat = env->picture_track->category;
		t->contributors = env->picture_track->contributors;
		if (env->picture_track->position != NULL) {
			t->lat = env->picture_track->position->lat_deg;
			t->lon = env->picture_track->position->lon_deg;
			t->alt = env->picture_track->position->alt_m;
		}
		break;
	case TRACKFUSE__V1__ENVELOPE__MSG_PICTURE_DROP:
		p->drops++;
		if ((t = picdump_find(p, env->picture_drop->track_id)) == NULL ||
		    !t->live)
			p->stray++;
		picdump_get(p, env->picture_drop->track_id)->live = 0;
		break;
	default:
		p->other++;
	}
}

/* Read every frame of f; -1 on a bad or truncated one. */
static int
picdump_read(struct picdump *p, FILE *f)
{
	uint8_t		*buf, hdr[WIRE_VARINT_MAX];
	uint64_t	 len;
	size_t		 n, hlen;
	Envelope	*env;
	int		 c;

	if ((buf = malloc(PICDUMP_MAX_FRAME)) == NULL)
		return -1;
	for (;;) {
		for (n = 0; n < WIRE_VARINT_MAX; n++) {
			if ((c = getc(f)) == EOF)
				break;
			hdr[n] = (uint8_t)c;
			if ((c & 0x80) == 0) {
				n++;
				break;
			}
		}
		if (n == 0) {
			free(buf);
			return 0;
		}
		if (wire_varint_decode(hdr, n, &len, &hlen) != WIRE_OK ||
		    len > PICDUMP_MAX_FRAME || fread(buf, 1, len, f) != len ||
		    (env = trackfuse__v1__envelope__unpack(NULL, len,
		    buf)) == NULL) {
			fprintf(stderr, "tf-picdump: bad frame %llu\n",
			    (unsigned long long)p->frames);
			free(buf);
			return -1;
		}
		picdump_frame(p, env);
		trackfuse__v1__envelope__free_unpacked(env, NULL);
	}
}

/* Order tracks by id for qsort. */
static int
picdump_cmp(const void *a, const void *b)
{
	uint64_t	x = ((const struct picdump_track *)a)->id;
	uint64_t	y = ((const struct picdump_track *)b)->id;

	return (x > y) - (x < y);
}

/* Print the final state of every id. */
static void
picdump_final(struct picdump *p)
{
	size_t	i;

	qsort(p->t, p->n, sizeof(*p->t), picdump_cmp);
	for (i = 0; i < p->n; i++) {
		if (p->t[i].live)
			printf("%llu live %lld %d %u %.6f %.6f %.1f\n",
			    (unsigned long long)p->t[i].id,
			    (long long)p->t[i].t_ns, p->t[i].cat,
			    p->t[i].contributors, p->t[i].lat, p->t[i].lon,
			    p->t[i].alt);
		else
			printf("%llu dropped\n", (unsigned long long)p->t[i].id);
	}
}

/* tf-picdump [--final] FILE */
int
main(int argc, char *argv[])
{
	struct picdump	 p;
	FILE		*f;
	size_t		 i, live = 0;
	int		 final = 0, rc;

	if (argc == 3 && strcmp(argv[1], "--final") == 0)
		final = 1;
	else if (argc != 2) {
		fprintf(stderr, "usage: tf-picdump [--final] FILE\n");
		return 2;
	}
	if ((f = fopen(argv[argc - 1], "rb")) == NULL) {
		perror(argv[argc - 1]);
		return 1;
	}
	memset(&p, 0, sizeof(p));
	rc = picdump_read(&p, f);
	fclose(f);
	for (i = 0; i < p.n; i++)
		live += p.t[i].live;
	if (final)
		picdump_final(&p);
	else
		printf("frames=%llu snapshots=%llu tracks=%llu drops=%llu "
		    "ids=%zu live=%zu other=%llu stray=%llu\n",
		    (unsigned long long)p.frames,
		    (unsigned long long)p.snapshots,
		    (unsigned long long)p.tracks, (unsigned long long)p.drops,
		    p.n, live, (unsigned long long)p.other,
		    (unsigned long long)p.stray);
	free(p.t);
	return rc == 0 ? 0 : 1;
}
