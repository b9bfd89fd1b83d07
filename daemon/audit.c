/*
 * Release audit trail (include/trackfuse/audit.h, docs/audit.md).
 *
 * A record is built in full into one buffer, its hash computed over the
 * canonical bytes (the line without its hash member), and the whole line
 * handed to the kernel with one write(2) on an O_APPEND fd: a reader never
 * sees half a record unless the disk filled up, and then the chain says so.
 * The module reads no clock; the caller passes wall and event time.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "trackfuse/audit.h"

#define AUDIT_ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"
/* ,"hash":" + 64 hex + "} : the fixed tail of every record line. */
#define AUDIT_HASH_TAIL	(9 + 64 + 2)
#define AUDIT_READ_BUF	(2 * AUDIT_LINE_MAX)

struct audit {
	int		 fd;
	int		 failed;
	int		 dirty;		/* written but not yet fdatasync'd */
	uint64_t	 seq;		/* seq of the last record written */
	char		 last[AUDIT_HASH_HEX];
	char		*path;
};

/* A record line under construction. */
struct audit_buf {
	char		 b[AUDIT_LINE_MAX];
	size_t		 len;
	int		 overflow;
};

static const char *audit_types[] = {
	"audit_open", "policy_load", "policy_reject", "retraction",
	"release_counts", "audit_close", NULL
};

/* Append n raw bytes; remember an overflow instead of writing past the end. */
static void
audit_buf_raw(struct audit_buf *ab, const char *s, size_t n)
{
	if (ab->overflow || n > sizeof(ab->b) - ab->len) {
		ab->overflow = 1;
		return;
	}
	memcpy(ab->b + ab->len, s, n);
	ab->len += n;
}

/* Append printf output. */
static void
__attribute__((format(printf, 2, 3)))
audit_buf_fmt(struct audit_buf *ab, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (ab->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(ab->b + ab->len, sizeof(ab->b) - ab->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(ab->b) - ab->len)
		ab->overflow = 1;
	else
		ab->len += (size_t)n;
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it
 * is not one (overlong forms, surrogates and values above U+10FFFF
 * included), following the table in RFC 3629 section 4.
 */
static size_t
audit_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * Escape one character of s into out (at least 7 bytes); returns the
 * escaped length and sets *used to the input bytes consumed. Quotes and
 * backslashes get a backslash, control bytes and DEL become \u00XX and a
 * byte that does not start valid UTF-8 becomes \ufffd: the output is valid
 * UTF-8 JSON with no raw control character, so a record stays one line.
 */
static size_t
audit_escape_char(const unsigned char *s, size_t n, char *out, size_t *used)
{
	size_t	u;

	*used = 1;
	if (s[0] == '"' || s[0] == '\\') {
		out[0] = '\\';
		out[1] = (char)s[0];
		return 2;
	}
	if (s[0] < 0x20 || s[0] == 0x7f)
		return (size_t)snprintf(out, 7, "\\u%04x", s[0]);
	if ((u = audit_utf8_len(s, n)) == 0) {
		memcpy(out, "\\ufffd", 6);
		return 6;
	}
	memcpy(out, s, u);
	*used = u;
	return u;
}

/*
 * Append ,"key":"value" with value JSON-escaped and cut (at a character
 * boundary) to AUDIT_STR_MAX escaped bytes, so a record has a known bound.
 * A NULL value is written as "".
 */
static void
audit_buf_str(struct audit_buf *ab, const char *key, const char *val)
{
	const unsigned char	*s = (const unsigned char *)(val ? val : "");
	size_t			 n = strlen((const char *)s), used, el, total = 0;
	char			 esc[8];

	audit_buf_fmt(ab, ",\"%s\":\"", key);
	while (n > 0) {
		el = audit_escape_char(s, n, esc, &used);
		if (total + el > AUDIT_STR_MAX)
			break;
		audit_buf_raw(ab, esc, el);
		total += el;
		s += used;
		n -= used;
	}
	audit_buf_raw(ab, "\"", 1);
}

/* Append ,"key":N for an unsigned count. */
static void
audit_buf_uint(struct audit_buf *ab, const char *key, uint64_t v)
{
	audit_buf_fmt(ab, ",\"%s\":%" PRIu64, key, v);
}

/* Lowercase hex of len bytes into out (2 * len + 1 bytes). */
static void
audit_hex(const unsigned char *md, size_t len, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/* SHA-256 of a buffer, as 64 lowercase hex digits. */
void
audit_sha256_hex(const void *data, size_t len, char hex[AUDIT_HASH_HEX])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		memcpy(hex, AUDIT_ZERO_HASH, AUDIT_HASH_HEX);
		return;
	}
	audit_hex(md, mdlen, hex);
}

/* SHA-256 of a whole file (a policy file, say); 0, or -1 with errno set. */
int
audit_sha256_file(const char *path, char hex[AUDIT_HASH_HEX])
{
	EVP_MD_CTX	*ctx;
	unsigned char	 buf[16384], md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	size_t		 n;
	FILE		*f;
	int		 ok;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		fclose(f);
		errno = ENOMEM;
		return -1;
	}
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n) == 1;
	if (ok && ferror(f)) {
		ok = 0;
		errno = EIO;
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(ctx);
	fclose(f);
	if (!ok)
		return -1;
	audit_hex(md, mdlen, hex);
	return 0;
}

/* SHA-256 of the canonical bytes of a line: without its hash member. */
static int
audit_canon_hash(const char *line, size_t len, char hex[AUDIT_HASH_HEX])
{
	EVP_MD_CTX	*ctx;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	int		 ok;

	if (len < AUDIT_HASH_TAIL || (ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, line, len - AUDIT_HASH_TAIL) == 1 &&
	    EVP_DigestUpdate(ctx, "}", 1) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	audit_hex(md, mdlen, hex);
	return 0;
}

/* Format wall ns as 2026-11-29T00:00:05.000Z (UTC, milliseconds). */
static void
audit_wall_str(int64_t ns, char *buf, size_t len)
{
	struct tm	tm;
	time_t		sec;
	int64_t		ms;
	char		day[32];

	if (ns < 0)
		ns = 0;
	sec = (time_t)(ns / 1000000000);
	ms = (ns % 1000000000) / 1000000;
	if (gmtime_r(&sec, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(day, sizeof(day), "1970-01-01T00:00:00");
	snprintf(buf, len, "%s.%03" PRId64 "Z", day, ms);
}

/* Start a record: seq, time, event time and type, in canonical order. */
static void
audit_begin(const struct audit *a, struct audit_buf *ab, int64_t wall_ns,
    int64_t event_ns, const char *type)
{
	char	t[48];

	audit_wall_str(wall_ns, t, sizeof(t));
	ab->len = 0;
	ab->overflow = 0;
	audit_buf_fmt(ab, "{\"seq\":%" PRIu64 ",\"time\":\"%s\","
	    "\"event_time_ns\":%" PRId64 ",\"type\":\"%s\"",
	    a->seq + 1, t, event_ns, type);
}

/* write(2) the whole line once; retried only on EINTR. */
static int
audit_write(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	do {
		n = write(fd, buf, len);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

/* Mark the log failed for good; errno still says why, for the caller. */
static int
audit_fail(struct audit *a)
{
	a->failed = 1;
	return -1;
}

/*
 * Close the record with prev, hash it, add the hash member and append it
 * with one write(2). sync != 0 fdatasyncs before returning (see audit.h).
 */
static int
audit_finish(struct audit *a, struct audit_buf *ab, int sync)
{
	char	hash[AUDIT_HASH_HEX];

	audit_buf_fmt(ab, ",\"prev\":\"%s\"}", a->last);
	if (ab->overflow) {
		errno = EOVERFLOW;
		return audit_fail(a);
	}
	audit_sha256_hex(ab->b, ab->len, hash);
	ab->len--;			/* reopen the object for the hash */
	audit_buf_fmt(ab, ",\"hash\":\"%s\"}\n", hash);
	if (ab->overflow) {
		errno = EOVERFLOW;
		return audit_fail(a);
	}
	if (audit_write(a->fd, ab->b, ab->len) == -1)
		return audit_fail(a);
	a->seq++;
	memcpy(a->last, hash, sizeof(a->last));
	a->dirty = 1;
	if (sync)
		return audit_sync(a);
	return 0;
}

/* Make every record written so far durable (fdatasync); 0 or -1. */
int
audit_sync(struct audit *a)
{
	if (a->failed)
		return -1;
	if (!a->dirty)
		return 0;
	if (fdatasync(a->fd) == -1 && errno != EINVAL && errno != EROFS)
		return audit_fail(a);
	a->dirty = 0;
	return 0;
}

/* Nonzero once a write (or sync) failed: the caller must stop releasing. */
int
audit_failed(const struct audit *a)
{
	return a == NULL || a->failed;
}

/* The seq of the last record written (0 before any). */
uint64_t
audit_seq(const struct audit *a)
{
	return a->seq;
}

/* The hash of the last record written: the chain's current anchor. */
const char *
audit_last_hash(const struct audit *a)
{
	return a->last;
}

/* Record a policy file that was loaded and is now in force. */
int
audit_policy_load(struct audit *a, int64_t wall_ns, int64_t event_ns,
    const char *owner, const char *file, uint64_t version, const char *sha256)
{
	struct audit_buf	ab;

	if (a->failed)
		return -1;
	audit_begin(a, &ab, wall_ns, event_ns, "policy_load");
	audit_buf_str(&ab, "owner", owner);
	audit_buf_str(&ab, "file", file);
	audit_buf_uint(&ab, "version", version);
	audit_buf_str(&ab, "sha256", sha256);
	return audit_finish(a, &ab, 1);
}

/* Record a policy file that was refused (the owner fails closed). */
int
audit_policy_reject(struct audit *a, int64_t wall_ns, int64_t event_ns,
    const char *owner, const char *file, const char *sha256, const char *reason)
{
	struct audit_buf	ab;

	if (a->failed)
		return -1;
	audit_begin(a, &ab, wall_ns, event_ns, "policy_reject");
	audit_buf_str(&ab, "owner", owner);
	audit_buf_str(&ab, "file", file);
	audit_buf_str(&ab, "sha256", sha256);
	audit_buf_str(&ab, "reason", reason);
	return audit_finish(a, &ab, 1);
}

/* Record a track retracted from a recipient's picture, and why. */
int
audit_retraction(struct audit *a, int64_t wall_ns, int64_t event_ns,
    const char *recipient, uint64_t track_id, const char *reason,
    const char *owner, uint64_t policy_version)
{
	struct audit_buf	ab;

	if (a->failed)
		return -1;
	audit_begin(a, &ab, wall_ns, event_ns, "retraction");
	audit_buf_str(&ab, "recipient", recipient);
	audit_buf_uint(&ab, "track_id", track_id);
	audit_buf_str(&ab, "reason", reason);
	audit_buf_str(&ab, "owner", owner);
	audit_buf_uint(&ab, "policy_version", policy_version);
	return audit_finish(a, &ab, 1);
}

/* Record one interval's released/withheld counts of one recipient x rule. */
int
audit_release_counts(struct audit *a, int64_t wall_ns, int64_t event_ns,
    const char *recipient, const char *rule_id, uint64_t released,
    uint64_t withheld)
{
	struct audit_buf	ab;

	if (a->failed)
		return -1;
	audit_begin(a, &ab, wall_ns, event_ns, "release_counts");
	audit_buf_str(&ab, "recipient", recipient);
	audit_buf_str(&ab, "rule", rule_id);
	audit_buf_uint(&ab, "released", released);
	audit_buf_uint(&ab, "withheld", withheld);
	return audit_finish(a, &ab, 0);
}

/* Say in err why opening failed; NULL for the caller to return. */
static struct audit *
__attribute__((format(printf, 3, 4)))
audit_open_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return NULL;
}

/*
 * Read the last line of a regular file (at most AUDIT_LINE_MAX bytes,
 * newline included) into buf; its length without the newline, 0 for an
 * empty file, -1 (err says why) for a read error or a broken tail.
 */
static ssize_t
audit_tail_line(int fd, off_t size, char *buf, char *err, size_t errlen)
{
	off_t	off = size > AUDIT_LINE_MAX ? size - AUDIT_LINE_MAX : 0;
	size_t	len = (size_t)(size - off), start;
	ssize_t	n;

	if (size == 0)
		return 0;
	if ((n = pread(fd, buf, len, off)) != (ssize_t)len) {
		audit_open_err(err, errlen, "cannot read the tail: %s",
		    n == -1 ? strerror(errno) : "short read");
		return -1;
	}
	if (buf[len - 1] != '\n') {
		audit_open_err(err, errlen, "last record is truncated");
		return -1;
	}
	for (start = len - 1; start > 0 && buf[start - 1] != '\n'; start--)
		;
	if (start == 0 && off != 0) {
		audit_open_err(err, errlen, "last record is too long");
		return -1;
	}
	memmove(buf, buf + start, len - start);
	return (ssize_t)(len - start - 1);
}

/*
 * Continue the chain of an existing file: its last record must parse and
 * its hash must match its bytes; seq and anchor come from it. A broken
 * tail refuses the open (the caller fails closed).
 */
static int
audit_resume(struct audit *a, char *err, size_t errlen)
{
	struct audit_record	rec;
	struct stat		st;
	char			buf[AUDIT_LINE_MAX], why[128];
	ssize_t			len;

	if (fstat(a->fd, &st) == -1) {
		audit_open_err(err, errlen, "fstat: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	if ((len = audit_tail_line(a->fd, st.st_size, buf, err, errlen)) <= 0)
		return (int)len;
	if (audit_parse_line(buf, (size_t)len, &rec, why, sizeof(why)) == -1) {
		audit_open_err(err, errlen, "last record is broken: %s", why);
		return -1;
	}
	a->seq = rec.seq;
	memcpy(a->last, rec.hash, sizeof(a->last));
	return 0;
}

/* Write the audit_open record that starts (or continues) the chain. */
static int
audit_open_record(struct audit *a, const struct audit_meta *m)
{
	static const struct audit_meta	none;
	struct audit_buf		ab;

	if (m == NULL)
		m = &none;
	audit_begin(a, &ab, m->wall_ns, m->event_ns, "audit_open");
	audit_buf_str(&ab, "name", m->name);
	audit_buf_str(&ab, "nation", m->nation);
	audit_buf_str(&ab, "version", m->version);
	audit_buf_uint(&ab, "resumed_seq", a->seq);
	return audit_finish(a, &ab, 1);
}

/*
 * Take over fd (open for reading and appending; a regular file is locked
 * against a second writer and its tail checked), then write audit_open.
 * On failure fd is closed, err says why and NULL is returned.
 */
struct audit *
audit_open_fd(int fd, const char *path, const struct audit_meta *m,
    char *err, size_t errlen)
{
	struct audit	*a;
	struct stat	 st;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->path = strdup(path ? path : "-")) == NULL) {
		free(a);
		close(fd);
		return audit_open_err(err, errlen, "out of memory");
	}
	a->fd = fd;
	memcpy(a->last, AUDIT_ZERO_HASH, sizeof(a->last));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    flock(fd, LOCK_EX | LOCK_NB) == -1) {
		audit_open_err(err, errlen, "%s is in use: %s", a->path,
		    strerror(errno));
		goto fail;
	}
	if (audit_resume(a, err, errlen) == -1)
		goto fail;
	if (audit_open_record(a, m) == -1) {
		audit_open_err(err, errlen, "write: %s", strerror(errno));
		goto fail;
	}
	return a;
fail:
	close(a->fd);
	free(a->path);
	free(a);
	return NULL;
}

/* Open (creating it 0640 if need be) the audit log at path; see above. */
struct audit *
audit_open(const char *path, const struct audit_meta *m, char *err,
    size_t errlen)
{
	struct audit	*a;
	char		 why[200];
	int		 fd;

	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return audit_open_err(err, errlen, "%s: %s", path,
		    strerror(errno));
	why[0] = '\0';
	if ((a = audit_open_fd(fd, path, m, why, sizeof(why))) == NULL)
		return audit_open_err(err, errlen, "%s: %s", path, why);
	return a;
}

/*
 * Write audit_close (unless the log has failed), sync, close and free.
 * 0, or -1 when the log had failed or the last write/close failed.
 */
int
audit_close(struct audit *a, int64_t wall_ns, int64_t event_ns)
{
	struct audit_buf	ab;
	int			rv = -1;

	if (a == NULL)
		return 0;
	if (!a->failed) {
		audit_begin(a, &ab, wall_ns, event_ns, "audit_close");
		rv = audit_finish(a, &ab, 1);
	}
	if (close(a->fd) == -1)
		rv = -1;
	free(a->path);
	free(a);
	return rv;
}

/*
 * Parsing and verification. The parser is strict on purpose: it accepts
 * exactly what the writer produces (a flat object of string and integer
 * members, no whitespace, valid UTF-8, no raw control bytes), since any
 * other byte in the file is evidence of tampering or damage.
 */

/* Set a parse error message; -1. */
static int
__attribute__((format(printf, 3, 4)))
audit_perr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Nonzero if c is a lowercase hex digit (writer output only). */
static int
audit_is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Skip a JSON string starting at s[*i] == '"'; 0 and *i past it, or -1. */
static int
audit_parse_string(const char *s, size_t n, size_t *i)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 j = *i + 1, k, l;

	while (j < n && u[j] != '"') {
		if (u[j] < 0x20 || u[j] == 0x7f)
			return -1;
		if (u[j] == '\\') {
			if (++j >= n)
				return -1;
			if (u[j] == 'u') {
				for (k = 1; k <= 4; k++)
					if (j + k >= n || !audit_is_hex(
					    s[j + k]))
						return -1;
				j += 5;
			} else if (u[j] != '\0' && strchr("\"\\/bfnrt", u[j]))
				j++;
			else
				return -1;
			continue;
		}
		if ((l = audit_utf8_len(u + j, n - j)) == 0)
			return -1;
		j += l;
	}
	if (j >= n)
		return -1;
	*i = j + 1;
	return 0;
}

/* Parse -?(0|[1-9][0-9]*) fitting int64 at s[*i]; 0 and *i past it. */
static int
audit_parse_int(const char *s, size_t n, size_t *i, int64_t *v)
{
	size_t		j = *i;
	int		neg = 0;
	uint64_t	acc = 0, lim;

	if (j < n && s[j] == '-') {
		neg = 1;
		j++;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (j >= n || s[j] < '0' || s[j] > '9' ||
	    (s[j] == '0' && j + 1 < n && s[j + 1] >= '0' && s[j + 1] <= '9'))
		return -1;
	for (; j < n && s[j] >= '0' && s[j] <= '9'; j++) {
		if (acc > (lim - (uint64_t)(s[j] - '0')) / 10)
			return -1;
		acc = acc * 10 + (uint64_t)(s[j] - '0');
	}
	*v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	*i = j;
	return 0;
}

/* Parse one "key":value member at s[*i] into f. */
static int
audit_parse_member(const char *s, size_t n, size_t *i, struct audit_field *f)
{
	size_t	st;
	int64_t	v;

	if (*i >= n || s[*i] != '"')
		return -1;
	st = *i;
	if (audit_parse_string(s, n, i) == -1)
		return -1;
	f->key = s + st + 1;
	f->keylen = *i - st - 2;
	if (*i >= n || s[(*i)++] != ':' || *i >= n)
		return -1;
	st = *i;
	if (s[*i] == '"') {
		if (audit_parse_string(s, n, i) == -1)
			return -1;
		f->is_string = 1;
		f->val = s + st + 1;
		f->vallen = *i - st - 2;
		return 0;
	}
	if (audit_parse_int(s, n, i, &v) == -1)
		return -1;
	f->is_string = 0;
	f->val = s + st;
	f->vallen = *i - st;
	return 0;
}

/* Split a line into its members; 0 or -1 (not a flat JSON object). */
static int
audit_parse_object(const char *s, size_t n, struct audit_record *r)
{
	size_t	i = 1;

	r->nf = 0;
	if (n < 2 || s[0] != '{')
		return -1;
	for (;;) {
		if (r->nf == AUDIT_FIELDS ||
		    audit_parse_member(s, n, &i, &r->f[r->nf]) == -1)
			return -1;
		r->nf++;
		if (i < n && s[i] == ',') {
			i++;
			continue;
		}
		return i + 1 == n && s[i] == '}' ? 0 : -1;
	}
}

/* The member named key, or NULL (a duplicate key counts as absent). */
static const struct audit_field *
audit_field_get(const struct audit_record *r, const char *key)
{
	const struct audit_field	*found = NULL;
	size_t				 i, kl = strlen(key);

	for (i = 0; i < r->nf; i++) {
		if (r->f[i].keylen != kl || memcmp(r->f[i].key, key, kl) != 0)
			continue;
		if (found != NULL)
			return NULL;
		found = &r->f[i];
	}
	return found;
}

/* Copy a 64-hex-digit string member into out; 0 or -1. */
static int
audit_field_hash(const struct audit_record *r, const char *key, char *out)
{
	const struct audit_field	*f = audit_field_get(r, key);
	size_t				 i;

	if (f == NULL || !f->is_string || f->vallen != 64)
		return -1;
	for (i = 0; i < 64; i++)
		if (!audit_is_hex(f->val[i]))
			return -1;
	memcpy(out, f->val, 64);
	out[64] = '\0';
	return 0;
}

/* Fill seq, event time, type and the two hashes from the members. */
static int
audit_parse_fixed(struct audit_record *r, char *err, size_t errlen)
{
	const struct audit_field	*f;
	size_t				 i, p = 0;
	int64_t				 v;

	if ((f = audit_field_get(r, "seq")) == NULL || f->is_string ||
	    audit_parse_int(f->val, f->vallen, &p, &v) == -1 || v < 1)
		return audit_perr(err, errlen, "bad or missing seq");
	r->seq = (uint64_t)v;
	p = 0;
	if ((f = audit_field_get(r, "event_time_ns")) == NULL || f->is_string ||
	    audit_parse_int(f->val, f->vallen, &p, &r->event_ns) == -1)
		return audit_perr(err, errlen, "bad or missing event_time_ns");
	if ((f = audit_field_get(r, "time")) == NULL || !f->is_string)
		return audit_perr(err, errlen, "bad or missing time");
	if ((f = audit_field_get(r, "type")) == NULL || !f->is_string)
		return audit_perr(err, errlen, "bad or missing type");
	for (i = 0; audit_types[i] != NULL; i++)
		if (strlen(audit_types[i]) == f->vallen &&
		    memcmp(audit_types[i], f->val, f->vallen) == 0)
			break;
	if (audit_types[i] == NULL)
		return audit_perr(err, errlen, "unknown type");
	snprintf(r->type, sizeof(r->type), "%s", audit_types[i]);
	if (audit_field_hash(r, "prev", r->prev) == -1)
		return audit_perr(err, errlen, "bad or missing prev");
	if (audit_field_hash(r, "hash", r->hash) == -1 ||
	    &r->f[r->nf - 1] != audit_field_get(r, "hash"))
		return audit_perr(err, errlen, "hash is missing or not last");
	return 0;
}

/*
 * Parse one record line (len without the newline) and check its hash
 * against its canonical bytes. 0, or -1 with err naming the fault
 * ("bad json: ..." or "hash mismatch").
 */
int
audit_parse_line(const char *line, size_t len, struct audit_record *r,
    char *err, size_t errlen)
{
	char	why[96], hash[AUDIT_HASH_HEX];

	memset(r, 0, sizeof(*r));
	if (len >= AUDIT_LINE_MAX)
		return audit_perr(err, errlen, "bad json: line too long");
	if (audit_parse_object(line, len, r) == -1)
		return audit_perr(err, errlen, "bad json: not a flat object");
	if (audit_parse_fixed(r, why, sizeof(why)) == -1)
		return audit_perr(err, errlen, "bad json: %s", why);
	if (audit_canon_hash(line, len, hash) == -1)
		return audit_perr(err, errlen, "bad json: no hash member");
	if (strcmp(hash, r->hash) != 0)
		return audit_perr(err, errlen, "hash mismatch");
	return 0;
}

/* The words verify prints for a fault. */
const char *
audit_fault_str(enum audit_fault f)
{
	switch (f) {
	case AUDIT_OK:
		return "ok";
	case AUDIT_BAD_JSON:
		return "bad json";
	case AUDIT_SEQ_GAP:
		return "seq gap";
	case AUDIT_PREV_MISMATCH:
		return "prev mismatch";
	case AUDIT_HASH_MISMATCH:
		return "hash mismatch";
	case AUDIT_TRUNCATED:
		return "truncated";
	case AUDIT_LAST_MISMATCH:
		return "last hash mismatch";
	case AUDIT_IO:
		return "read error";
	}
	return "unknown";
}

/* Record fault f at the current record in res; -1. */
static int
__attribute__((format(printf, 3, 4)))
audit_verify_fault(struct audit_verify_result *res, enum audit_fault f,
    const char *fmt, ...)
{
	va_list	ap;

	res->fault = f;
	res->record = res->records + 1;
	res->line = res->records + 1;
	va_start(ap, fmt);
	vsnprintf(res->what, sizeof(res->what), fmt, ap);
	va_end(ap);
	return -1;
}

/* Check one complete line against the chain so far; 0 or -1 (res set). */
static int
audit_verify_line(const char *line, size_t len,
    struct audit_verify_result *res)
{
	struct audit_record	r;
	char			why[128];

	if (audit_parse_line(line, len, &r, why, sizeof(why)) == -1) {
		if (strncmp(why, "bad json: ", 10) == 0)
			return audit_verify_fault(res, AUDIT_BAD_JSON, "%s",
			    why + 10);
		return audit_verify_fault(res, AUDIT_HASH_MISMATCH,
		    "stored hash is not SHA-256 of the record's bytes");
	}
	if (r.seq != res->records + 1)
		return audit_verify_fault(res, AUDIT_SEQ_GAP,
		    "seq %" PRIu64 " where %" PRIu64 " was due", r.seq,
		    res->records + 1);
	if (strcmp(r.prev, res->last) != 0)
		return audit_verify_fault(res, AUDIT_PREV_MISMATCH,
		    "prev is not the hash of record %" PRIu64, res->records);
	memcpy(res->last, r.hash, sizeof(res->last));
	res->records++;
	return 0;
}

/*
 * Feed the lines of f to audit_verify_line through a bounded buffer, so a
 * huge or newline-free file costs no more memory than one record.
 */
static int
audit_verify_stream(FILE *f, struct audit_verify_result *res)
{
	char		 buf[AUDIT_READ_BUF];
	size_t		 have = 0, n;
	char		*nl;

	for (;;) {
		n = fread(buf + have, 1, sizeof(buf) - have, f);
		if (n == 0 && ferror(f))
			return audit_verify_fault(res, AUDIT_IO, "%s",
			    strerror(errno));
		have += n;
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			if (audit_verify_line(buf, (size_t)(nl - buf), res))
				return -1;
			have -= (size_t)(nl - buf) + 1;
			memmove(buf, nl + 1, have);
		}
		if (have >= AUDIT_LINE_MAX)
			return audit_verify_fault(res, AUDIT_BAD_JSON,
			    "line too long");
		if (n == 0)
			break;
	}
	if (have > 0)
		return audit_verify_fault(res, AUDIT_TRUNCATED,
		    "last line has no newline (%zu bytes)", have);
	return 0;
}

/*
 * Verify the whole chain of the file at path. expect_last, if not NULL,
 * is an anchor kept elsewhere: the last hash must equal it (this is what
 * catches whole records cut off the end). 0 if intact, -1 with res saying
 * which record broke first.
 */
int
audit_verify_file(const char *path, const char *expect_last,
    struct audit_verify_result *res)
{
	FILE	*f;
	int	 rv;

	memset(res, 0, sizeof(*res));
	memcpy(res->last, AUDIT_ZERO_HASH, sizeof(res->last));
	if ((f = fopen(path, "rb")) == NULL)
		return audit_verify_fault(res, AUDIT_IO, "%s", strerror(errno));
	rv = audit_verify_stream(f, res);
	fclose(f);
	if (rv == 0 && expect_last != NULL && strcmp(expect_last, res->last)) {
		rv = audit_verify_fault(res, AUDIT_LAST_MISMATCH,
		    "last hash is not %.64s", expect_last);
		res->record = res->line = res->records;
	}
	return rv;
}
