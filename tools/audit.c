/*
 * trackfuse-audit: check and read the release audit trail (docs/audit.md).
 *
 *   trackfuse-audit verify [--last HASH] FILE
 *	audit: FILE ok records=N last=HASH				exit 0
 *	audit: FILE broken at record N (line L): WHAT: DETAIL		exit 1
 *   trackfuse-audit show [-v] FILE
 *	one readable line per record; a broken line says so	exit 1 if any
 *
 * Exit status 2 for a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trackfuse/audit.h"
#include "trackfuse/track.h"

/* Print the usage text and exit with status. */
static void __attribute__((__noreturn__))
audit_usage(int status)
{
	FILE	*fp = status ? stderr : stdout;

	fprintf(fp,
	    "usage: trackfuse-audit verify [--last HASH] FILE\n"
	    "       trackfuse-audit show [-v] FILE\n"
	    "       trackfuse-audit --help | -V\n"
	    "  verify      check the whole hash chain; name the first broken"
	    " record\n"
	    "  --last HASH also require the chain to end at HASH (an anchor"
	    " kept\n"
	    "              elsewhere), which catches records cut off the end\n"
	    "  show        print the records, one readable line each\n"
	    "  -v          show also prints prev and hash\n");
	exit(status);
}

/* verify: one line of verdict, exit status 0 (intact) or 1 (broken). */
static int
audit_cmd_verify(const char *path, const char *last)
{
	struct audit_verify_result	res;

	if (audit_verify_file(path, last, &res) == 0) {
		printf("audit: %s ok records=%" PRIu64 " last=%s\n", path,
		    res.records, res.last);
		return 0;
	}
	if (res.fault == AUDIT_IO) {
		printf("audit: %s unreadable: %s\n", path, res.what);
		return 1;
	}
	printf("audit: %s broken at record %" PRIu64 " (line %" PRIu64
	    "): %s: %s\n", path, res.record, res.line,
	    audit_fault_str(res.fault), res.what);
	return 1;
}

/* Print one parsed record: seq, time, type, then its own members. */
static void
audit_show_record(const struct audit_record *r, int verbose)
{
	const struct audit_field	*f;
	size_t				 i;
	static const char		*fixed[] = { "seq", "time",
	    "event_time_ns", "type", "prev", "hash", NULL };
	int				 skip, k;

	printf("#%" PRIu64 " ", r->seq);
	for (i = 0; i < r->nf; i++)
		if (r->f[i].keylen == 4 && memcmp(r->f[i].key, "time", 4) == 0)
			printf("%.*s ", (int)r->f[i].vallen, r->f[i].val);
	printf("%s event=%" PRId64, r->type, r->event_ns);
	for (i = 0; i < r->nf; i++) {
		f = &r->f[i];
		for (skip = 0, k = 0; fixed[k] != NULL; k++)
			if (strlen(fixed[k]) == f->keylen &&
			    memcmp(fixed[k], f->key, f->keylen) == 0)
				skip = 1;
		if (!skip)
			printf(f->is_string ? " %.*s=\"%.*s\"" : " %.*s=%.*s",
			    (int)f->keylen, f->key, (int)f->vallen, f->val);
	}
	if (verbose)
		printf(" prev=%s hash=%s", r->prev, r->hash);
	printf("\n");
}

/*
 * show: every line parsed on its own (the chain is verify's business);
 * string values stay JSON-escaped, so nothing hostile reaches the terminal.
 */
static int
audit_cmd_show(const char *path, int verbose)
{
	struct audit_record	 r;
	FILE			*f;
	char			*line = NULL, why[128];
	size_t			 cap = 0;
	ssize_t			 n;
	uint64_t		 lineno = 0;
	int			 bad = 0;

	if ((f = fopen(path, "rb")) == NULL) {
		printf("audit: %s unreadable: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] == '\n')
			n--;
		if (audit_parse_line(line, (size_t)n, &r, why,
		    sizeof(why)) == -1) {
			printf("line %" PRIu64 ": broken: %s\n", lineno, why);
			bad = 1;
		} else
			audit_show_record(&r, verbose);
	}
	free(line);
	fclose(f);
	return bad;
}

/* Parse the command line and run the subcommand. */
int
main(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "last", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char			*last = NULL, *cmd;
	int				 c, verbose = 0;

	while ((c = getopt_long(argc, argv, "hl:vV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			audit_usage(0);
		case 'l':
			last = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("trackfuse-audit %s\n", TF_VERSION);
			return 0;
		default:
			audit_usage(2);
		}
	}
	if (argc - optind != 2)
		audit_usage(2);
	cmd = argv[optind];
	if (strcmp(cmd, "verify") == 0)
		return audit_cmd_verify(argv[optind + 1], last);
	if (strcmp(cmd, "show") == 0)
		return audit_cmd_show(argv[optind + 1], verbose);
	audit_usage(2);
}
