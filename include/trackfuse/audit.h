/*
 * Release audit trail: an append-only, hash-chained log of what the release
 * path decided, separate from the operator log (see docs/audit.md).
 *
 * One JSON object per line. Every record carries the hash of the previous
 * record ("prev") and its own hash ("hash", the last member): SHA-256 over
 * the record's line without its ",\"hash\":\"...\"" member. The first record
 * of a file has prev = 64 zeros. audit_verify_file() walks the whole chain
 * and names the first broken record.
 *
 * The module never reads a clock: every record call takes the wall time
 * (ns since the Unix epoch, for operators; printed as "time") and the event
 * time (ns, for correlating with the stream). Every call returns 0 or -1; a
 * failed write leaves the log failed for good (audit_failed() != 0) and
 * every later record call returns -1 at once: the caller must stop
 * releasing (fail closed) and say so.
 *
 * Durability: policy_load, policy_reject, retraction, audit_open and
 * audit_close records are fdatasync(2)ed before the call returns;
 * release_counts records are batched: the caller calls audit_sync() after
 * the last counts record of an interval (any synced record also makes the
 * counts before it durable).
 */
#ifndef TRACKFUSE_AUDIT_H
#define TRACKFUSE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_HASH_HEX	65	/* 64 lowercase hex digits + NUL */
#define AUDIT_LINE_MAX	4096	/* longest record line, newline included */
#define AUDIT_STR_MAX	512	/* longest escaped string value, in bytes */
#define AUDIT_FIELDS	16	/* most members of one record */

struct audit;

/* Who writes the log: recorded in the audit_open record. */
struct audit_meta {
	const char	*name;		/* daemon identity, e.g. "trackfused" */
	const char	*nation;	/* nation operating the daemon, "USA" */
	const char	*version;	/* software version, TF_VERSION */
	int64_t		 wall_ns;	/* wall time of the start */
	int64_t		 event_ns;	/* event time of the start (0 if none) */
};

/* What broke first, for audit_verify_file(). */
enum audit_fault {
	AUDIT_OK = 0,
	AUDIT_BAD_JSON,		/* not a well-formed record line */
	AUDIT_SEQ_GAP,		/* seq is not the record number */
	AUDIT_PREV_MISMATCH,	/* prev is not the previous record's hash */
	AUDIT_HASH_MISMATCH,	/* hash is not SHA-256 of the canonical bytes */
	AUDIT_TRUNCATED,	/* the last line has no newline */
	AUDIT_LAST_MISMATCH,	/* the last hash is not the expected anchor */
	AUDIT_IO		/* the file cannot be read */
};

struct audit_verify_result {
	enum audit_fault	 fault;
	uint64_t		 records;	/* good records before the fault */
	uint64_t		 record;	/* 1-based number of the bad one */
	uint64_t		 line;		/* its 1-based line number */
	char			 last[AUDIT_HASH_HEX]; /* hash of last good */
	char			 what[160];	/* one line of detail */
};

/* One member of a parsed record; value points into the line, unescaped. */
struct audit_field {
	const char	*key;
	size_t		 keylen;
	const char	*val;		/* for strings: between the quotes */
	size_t		 vallen;
	int		 is_string;
};

struct audit_record {
	struct audit_field	 f[AUDIT_FIELDS];
	size_t			 nf;
	uint64_t		 seq;
	int64_t			 event_ns;
	char			 type[32];
	char			 prev[AUDIT_HASH_HEX];
	char			 hash[AUDIT_HASH_HEX];
};

/* audit.c */
/*
 * audit_open(path, meta, err, errlen): open or create path (0640), lock it
 * against a second writer, check the last record (its hash must match its
 * bytes) and continue the chain from it, then write audit_open. NULL with
 * err set when the file cannot be opened, is locked, or its tail is broken:
 * the caller must then fail closed (release nothing) and log err.
 */
struct audit	*audit_open(const char *, const struct audit_meta *, char *,
		    size_t);
/* The same on an fd (O_RDWR | O_APPEND) the caller opened; takes it over. */
struct audit	*audit_open_fd(int, const char *, const struct audit_meta *,
		    char *, size_t);
/* (a, wall_ns, event_ns, owner, file, version, sha256hex); synced. */
int		 audit_policy_load(struct audit *, int64_t, int64_t,
		    const char *, const char *, uint64_t, const char *);
/* (a, wall_ns, event_ns, owner, file, sha256hex or NULL, reason); synced. */
int		 audit_policy_reject(struct audit *, int64_t, int64_t,
		    const char *, const char *, const char *, const char *);
/*
 * (a, wall_ns, event_ns, recipient, track_id, reason, owner,
 * policy_version); synced. track_id is the id the recipient saw.
 */
int		 audit_retraction(struct audit *, int64_t, int64_t,
		    const char *, uint64_t, const char *, const char *,
		    uint64_t);
/*
 * (a, wall_ns, event_ns, recipient, rule_id, released, withheld): one
 * interval's counts; event_ns is the interval's end; rule_id names owner
 * and rule, e.g. "KOR/2" (or "KOR/default-deny"). Not synced: call
 * audit_sync() after the interval's last one.
 */
int		 audit_release_counts(struct audit *, int64_t, int64_t,
		    const char *, const char *, uint64_t, uint64_t);
/* fdatasync what was written since the last sync. */
int		 audit_sync(struct audit *);
/* (a, wall_ns, event_ns): write audit_close (unless failed), close, free. */
int		 audit_close(struct audit *, int64_t, int64_t);
/* Nonzero once any write/sync failed (and for a NULL log): fail closed. */
int		 audit_failed(const struct audit *);
uint64_t	 audit_seq(const struct audit *);
const char	*audit_last_hash(const struct audit *);
/*
 * audit_verify_file(path, expect_last or NULL, res): walk the whole chain;
 * 0 if intact (res->records, res->last), -1 with the first broken record.
 */
int		 audit_verify_file(const char *, const char *,
		    struct audit_verify_result *);
const char	*audit_fault_str(enum audit_fault);
/* Parse one line (no newline) and check its own hash; 0 or -1 + err. */
int		 audit_parse_line(const char *, size_t, struct audit_record *,
		    char *, size_t);
/* SHA-256 of a file (e.g. a policy file) as hex; 0 or -1 (errno). */
int		 audit_sha256_file(const char *, char [AUDIT_HASH_HEX]);
void		 audit_sha256_hex(const void *, size_t, char [AUDIT_HASH_HEX]);

#endif
