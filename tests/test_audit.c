/*
 * Unit tests for daemon/audit.c: the chain verifies, any altered byte
 * breaks it at that record, cut and deleted lines are named, a reopen
 * continues the chain, a broken tail refuses the open, a failed write
 * fails the log for good, hostile strings stay one escaped line, and the
 * same calls give the same bytes (no clock inside).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "trackfuse/audit.h"

#define T_WALL0		1795824000000000000LL	/* 2026-11-28T00:00:00Z */
#define T_SEC		1000000000LL

static char	t_dir[64];
static int	t_syncs;	/* fdatasync calls seen */
static int	t_sync_errno;	/* nonzero: fdatasync fails with it */

int	__wrap_fdatasync(int);
int	__real_fdatasync(int);

/* Count fdatasync calls (linked with -Wl,--wrap=fdatasync); fail on demand. */
int
__wrap_fdatasync(int fd)
{
	t_syncs++;
	if (t_sync_errno != 0) {
		errno = t_sync_errno;
		return -1;
	}
	return __real_fdatasync(fd);
}

static char	t_path[128];
static char	t_copy[128];

/* Fresh directory and paths per test. */
static int
t_setup(void **state)
{
	(void)state;
	strcpy(t_dir, "/tmp/test_audit.XXXXXX");
	if (mkdtemp(t_dir) == NULL)
		return -1;
	snprintf(t_path, sizeof(t_path), "%s/audit.log", t_dir);
	snprintf(t_copy, sizeof(t_copy), "%s/copy.log", t_dir);
	return 0;
}

/* Remove the files. */
static int
t_teardown(void **state)
{
	char	p[160];

	(void)state;
	unlink(t_path);
	unlink(t_copy);
	snprintf(p, sizeof(p), "%s/policy.yaml", t_dir);
	unlink(p);
	rmdir(t_dir);
	return 0;
}

/* The meta of a test daemon starting at wall time w. */
static struct audit_meta
t_meta(int64_t w)
{
	struct audit_meta	m = { "trackfused", "USA", "0.1.0", w, 0 };

	return m;
}

/* Open path or fail the test. */
static struct audit *
t_open(const char *path, int64_t w)
{
	struct audit_meta	 m = t_meta(w);
	struct audit		*a;
	char			 err[256] = "";

	a = audit_open(path, &m, err, sizeof(err));
	if (a == NULL)
		fail_msg("audit_open %s: %s", path, err);
	return a;
}

/* Append n records of every kind, with times derived from i. */
static void
t_records(struct audit *a, int first, int n)
{
	char	rule[32], hex[AUDIT_HASH_HEX];
	int	i;
	int64_t	w, e;

	for (i = first; i < first + n; i++) {
		w = T_WALL0 + i * T_SEC;
		e = T_WALL0 + i * T_SEC / 2;
		snprintf(rule, sizeof(rule), "KOR/%d", i % 4);
		audit_sha256_hex(rule, strlen(rule), hex);
		switch (i % 4) {
		case 0:
			assert_int_equal(audit_policy_load(a, w, e, "KOR",
			    "configs/policy/KOR.yaml", (uint64_t)i, hex), 0);
			break;
		case 1:
			assert_int_equal(audit_policy_reject(a, w, e, "JPN",
			    "configs/policy/JPN.yaml", hex,
			    "JPN.yaml:3:5: unknown key"), 0);
			break;
		case 2:
			assert_int_equal(audit_retraction(a, w, e, "CC-JPN",
			    (uint64_t)(1000 + i), "policy narrowed", "KOR",
			    (uint64_t)i), 0);
			break;
		default:
			assert_int_equal(audit_release_counts(a, w, e, "CC-JPN",
			    rule, (uint64_t)i * 7, (uint64_t)i), 0);
			break;
		}
	}
	assert_int_equal(audit_sync(a), 0);
}

/* Write a chain of exactly n records (open + n-2 + close) to path. */
static void
t_chain_at(const char *path, int n, int64_t w)
{
	struct audit	*a = t_open(path, w);

	t_records(a, 0, n - 2);
	assert_int_equal(audit_seq(a), (uint64_t)n - 1);
	assert_int_equal(audit_close(a, T_WALL0 + n * T_SEC, 0), 0);
}

/* The usual chain of n records, started at T_WALL0. */
static void
t_chain(const char *path, int n)
{
	t_chain_at(path, n, T_WALL0);
}

/* Read a whole file into a malloc'd buffer; *len its size. */
static char *
t_slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*buf;
	long	 n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* Write len bytes to path, replacing it. */
static void
t_spit(const char *path, const char *buf, size_t len)
{
	FILE	*f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Offset of the start of 1-based line k in buf (len bytes). */
static size_t
t_line_off(const char *buf, size_t len, int k)
{
	size_t	off = 0;

	while (--k > 0) {
		const char *nl = memchr(buf + off, '\n', len - off);

		assert_non_null(nl);
		off = (size_t)(nl - buf) + 1;
	}
	return off;
}

/* 100 records verify; the tool's verdict names the count and last hash. */
static void
t_chain_verifies(void **state)
{
	struct audit_verify_result	 res;
	struct audit			*a;
	char				 last[AUDIT_HASH_HEX];
	size_t				 len, i, lines = 0;
	char				*buf;

	(void)state;
	a = t_open(t_path, T_WALL0);
	t_records(a, 0, 98);
	memcpy(last, audit_last_hash(a), sizeof(last));
	assert_int_equal(audit_close(a, T_WALL0 + 100 * T_SEC, 0), 0);
	assert_int_equal(audit_verify_file(t_path, NULL, &res), 0);
	assert_int_equal(res.fault, AUDIT_OK);
	assert_int_equal(res.records, 100);
	/* The anchor before close is not the last any more. */
	assert_int_equal(audit_verify_file(t_path, last, &res), -1);
	assert_int_equal(res.fault, AUDIT_LAST_MISMATCH);
	buf = t_slurp(t_path, &len);
	for (i = 0; i < len; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, 100);
	assert_non_null(strstr(buf, "{\"seq\":1,\"time\":"
	    "\"2026-11-28T00:00:00.000Z\",\"event_time_ns\":0,"
	    "\"type\":\"audit_open\",\"name\":\"trackfused\""));
	assert_non_null(strstr(buf, "\"prev\":\"0000000000000000"));
	free(buf);
}

/*
 * The documented canonical form, recomputed here with EVP directly: the
 * hash is SHA-256 of the line without its ",\"hash\":\"...\"" member, and
 * prev is the previous line's hash.
 */
static void
t_canonical_form(void **state)
{
	unsigned char	 md[32];
	unsigned int	 mdlen;
	char		 hex[AUDIT_HASH_HEX], prev[AUDIT_HASH_HEX], *buf, *line;
	char		*h, *nl;
	size_t		 len, i;

	(void)state;
	t_chain(t_path, 6);
	buf = t_slurp(t_path, &len);
	memset(prev, '0', 64);
	prev[64] = '\0';
	for (line = buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		h = strstr(line, ",\"hash\":\"");
		assert_non_null(h);
		assert_int_equal(strlen(h), 9 + 64 + 2);
		memcpy(h, "}", 2);
		mdlen = 0;
		EVP_Digest(line, strlen(line), md, &mdlen, EVP_sha256(), NULL);
		for (i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		assert_non_null(strstr(line, prev));
		assert_int_equal(strncmp(nl - 66, hex, 64), 0);
		memcpy(prev, hex, sizeof(prev));
	}
	free(buf);
}

/*
 * Every single byte of a middle record, flipped in two ways (and turned
 * into a newline), breaks the chain at exactly that record: never earlier,
 * never later, never unnoticed.
 */
static void
t_every_byte(void **state)
{
	static const unsigned char	 flips[] = { 0x01, 0x80, 0x20 };
	struct audit_verify_result	 res;
	const int			 k = 10;
	size_t				 len, off, end, p, f;
	char				*buf, *mod;
	int				 tried = 0;

	(void)state;
	t_chain(t_path, 20);
	buf = t_slurp(t_path, &len);
	off = t_line_off(buf, len, k);
	end = t_line_off(buf, len, k + 1);
	mod = malloc(len);
	assert_non_null(mod);
	for (p = off; p < end; p++) {
		for (f = 0; f <= sizeof(flips); f++) {
			memcpy(mod, buf, len);
			if (f == sizeof(flips))
				mod[p] = mod[p] == '\n' ? 'x' : '\n';
			else
				mod[p] = (char)(mod[p] ^ flips[f]);
			t_spit(t_copy, mod, len);
			if (audit_verify_file(t_copy, NULL, &res) != -1)
				fail_msg("byte %zu ^ flip %zu verified", p - off,
				    f);
			if (res.record != (uint64_t)k || res.line != (uint64_t)k)
				fail_msg("byte %zu flip %zu: broken at record "
				    "%" PRIu64 " (%s), not %d", p - off, f,
				    res.record, res.what, k);
			tried++;
		}
	}
	assert_true(tried > 4 * 200);
	free(mod);
	free(buf);
}

/* Cutting the last line short, or off, is reported; --last catches both. */
static void
t_truncated(void **state)
{
	struct audit_verify_result	res;
	char				last[AUDIT_HASH_HEX], *buf;
	size_t				len;

	(void)state;
	t_chain(t_path, 12);
	assert_int_equal(audit_verify_file(t_path, NULL, &res), 0);
	memcpy(last, res.last, sizeof(last));
	buf = t_slurp(t_path, &len);
	t_spit(t_copy, buf, len - 10);
	assert_int_equal(audit_verify_file(t_copy, NULL, &res), -1);
	assert_int_equal(res.fault, AUDIT_TRUNCATED);
	assert_int_equal(res.record, 12);
	t_spit(t_copy, buf, len - 1);
	assert_int_equal(audit_verify_file(t_copy, NULL, &res), -1);
	assert_int_equal(res.fault, AUDIT_TRUNCATED);
	assert_int_equal(res.record, 12);
	/* A whole line cut off is a shorter valid chain, but not the anchor. */
	t_spit(t_copy, buf, t_line_off(buf, len, 12));
	assert_int_equal(audit_verify_file(t_copy, NULL, &res), 0);
	assert_int_equal(res.records, 11);
	assert_int_equal(audit_verify_file(t_copy, last, &res), -1);
	assert_int_equal(res.fault, AUDIT_LAST_MISMATCH);
	assert_int_equal(audit_verify_file(t_path, last, &res), 0);
	free(buf);
}

/* Deleting or swapping a middle line is a seq gap at its place. */
static void
t_deleted_line(void **state)
{
	struct audit_verify_result	 res;
	size_t				 len, a, b, c, n;
	char				*buf, *mod;

	(void)state;
	t_chain(t_path, 30);
	buf = t_slurp(t_path, &len);
	mod = malloc(len);
	assert_non_null(mod);
	a = t_line_off(buf, len, 17);
	b = t_line_off(buf, len, 18);
	c = t_line_off(buf, len, 19);
	memcpy(mod, buf, a);
	memcpy(mod + a, buf + b, len - b);
	t_spit(t_copy, mod, len - (b - a));
	assert_int_equal(audit_verify_file(t_copy, NULL, &res), -1);
	assert_int_equal(res.fault, AUDIT_SEQ_GAP);
	assert_int_equal(res.record, 17);
	assert_int_equal(res.line, 17);
	assert_int_equal(res.records, 16);
	/* Lines 18 and 17 swapped. */
	n = 0;
	memcpy(mod, buf, a);
	n = a;
	memcpy(mod + n, buf + b, c - b);
	n += c - b;
	memcpy(mod + n, buf + a, b - a);
	n += b - a;
	memcpy(mod + n, buf + c, len - c);
	t_spit(t_copy, mod, len);
	assert_int_equal(audit_verify_file(t_copy, NULL, &res), -1);
	assert_int_equal(res.fault, AUDIT_SEQ_GAP);
	assert_int_equal(res.record, 17);
	free(mod);
	free(buf);
}

/*
 * Records that are each intact but come from another chain (a splice of
 * two files at the same seq) break at the first foreign one: prev mismatch.
 */
static void
t_spliced(void **state)
{
	struct audit_verify_result	 res;
	size_t				 al, bl, ao, bo;
	char				*a, *b, *mod;

	(void)state;
	t_chain_at(t_path, 10, T_WALL0);
	t_chain_at(t_copy, 10, T_WALL0 + T_SEC);
	a = t_slurp(t_path, &al);
	b = t_slurp(t_copy, &bl);
	ao = t_line_off(a, al, 6);
	bo = t_line_off(b, bl, 6);
	mod = malloc(ao + bl - bo);
	assert_non_null(mod);
	memcpy(mod, a, ao);
	memcpy(mod + ao, b + bo, bl - bo);
	t_spit(t_copy, mod, ao + bl - bo);
	assert_int_equal(audit_verify_file(t_copy, NULL, &res), -1);
	assert_int_equal(res.fault, AUDIT_PREV_MISMATCH);
	assert_int_equal(res.record, 6);
	assert_int_equal(res.records, 5);
	free(mod);
	free(a);
	free(b);
}

/* A reopen continues the chain (seq and prev), and the whole file verifies. */
static void
t_reopen(void **state)
{
	struct audit_verify_result	 res;
	struct audit			*a;
	char				 last[AUDIT_HASH_HEX], *buf;
	size_t				 len;

	(void)state;
	t_chain(t_path, 7);
	assert_int_equal(audit_verify_file(t_path, NULL, &res), 0);
	memcpy(last, res.last, sizeof(last));
	a = t_open(t_path, T_WALL0 + 3600 * T_SEC);
	assert_int_equal(audit_seq(a), 8);
	t_records(a, 100, 5);
	assert_int_equal(audit_close(a, T_WALL0 + 3700 * T_SEC, 0), 0);
	assert_int_equal(audit_verify_file(t_path, NULL, &res), 0);
	assert_int_equal(res.records, 7 + 1 + 5 + 1);
	buf = t_slurp(t_path, &len);
	assert_non_null(strstr(buf + t_line_off(buf, len, 8),
	    "\"type\":\"audit_open\""));
	assert_non_null(strstr(buf + t_line_off(buf, len, 8),
	    "\"resumed_seq\":7"));
	assert_non_null(strstr(buf + t_line_off(buf, len, 8), last));
	free(buf);
}

/* Try to open path; the open must be refused with err containing why. */
static void
t_refused(const char *path, const char *why)
{
	struct audit_meta	m = t_meta(T_WALL0);
	char			err[256] = "";

	assert_null(audit_open(path, &m, err, sizeof(err)));
	if (strstr(err, why) == NULL)
		fail_msg("err '%s' does not say '%s'", err, why);
}

/* A broken tail, or a second writer, refuses the open: fail closed. */
static void
t_reopen_refused(void **state)
{
	struct audit	*a;
	char		*buf;
	size_t		 len;

	(void)state;
	t_chain(t_path, 5);
	buf = t_slurp(t_path, &len);
	t_spit(t_path, buf, len - 3);
	t_refused(t_path, "truncated");
	buf[len - 20] ^= 0x01;
	t_spit(t_path, buf, len);
	t_refused(t_path, "hash mismatch");
	buf[len - 20] ^= 0x01;
	buf[5] = 'x';
	t_spit(t_path, buf, t_line_off(buf, len, 2));
	t_refused(t_path, "bad json");
	buf[5] = '"';
	t_spit(t_path, buf, len);
	a = t_open(t_path, T_WALL0);
	t_refused(t_path, "in use");
	assert_int_equal(audit_close(a, T_WALL0, 0), 0);
	/* The tail reader must not trip over a file of exactly one line. */
	t_spit(t_path, buf, t_line_off(buf, len, 2));
	a = t_open(t_path, T_WALL0);
	assert_int_equal(audit_seq(a), 2);
	assert_int_equal(audit_close(a, T_WALL0, 0), 0);
	free(buf);
}

/*
 * A write that fails (here: the fd is swapped for /dev/full) returns -1,
 * the log stays failed and writes nothing more; what was written before
 * still verifies. Opening on fds that cannot be written fails the open.
 */
static void
t_write_failure(void **state)
{
	struct audit_verify_result	 res;
	struct audit_meta		 m = t_meta(T_WALL0);
	struct audit			*a;
	char				 err[256] = "";
	int				 fd, full;

	(void)state;
	fd = open(t_path, O_RDWR | O_APPEND | O_CREAT, 0640);
	assert_true(fd >= 0);
	a = audit_open_fd(fd, t_path, &m, err, sizeof(err));
	assert_non_null(a);
	t_records(a, 0, 3);
	assert_false(audit_failed(a));
	full = open("/dev/full", O_WRONLY);
	assert_true(full >= 0);
	assert_int_equal(dup2(full, fd), fd);
	close(full);
	assert_int_equal(audit_policy_load(a, T_WALL0, 0, "KOR", "k.yaml", 1,
	    "00"), -1);
	assert_int_equal(errno, ENOSPC);
	assert_true(audit_failed(a));
	assert_int_equal(audit_release_counts(a, T_WALL0, 0, "CC-JPN", "r",
	    1, 1), -1);
	assert_int_equal(audit_retraction(a, T_WALL0, 0, "CC-JPN", 1, "x",
	    "KOR", 1), -1);
	assert_int_equal(audit_sync(a), -1);
	assert_int_equal(audit_close(a, T_WALL0, 0), -1);
	assert_int_equal(audit_verify_file(t_path, NULL, &res), 0);
	assert_int_equal(res.records, 4);
	assert_true(audit_failed(NULL));

	fd = open(t_path, O_RDONLY);
	assert_true(fd >= 0);
	assert_null(audit_open_fd(fd, t_path, &m, err, sizeof(err)));
	assert_non_null(strstr(err, "write"));
	fd = open("/dev/full", O_RDWR | O_APPEND);
	assert_true(fd >= 0);
	assert_null(audit_open_fd(fd, "/dev/full", &m, err, sizeof(err)));
	assert_non_null(strstr(err, "No space"));
}

/*
 * Hostile strings: quotes, backslashes, every control byte, DEL, invalid
 * UTF-8 and an oversized value keep one record per line, escaped, valid
 * UTF-8, and the chain verifies.
 */
static void
t_hostile_strings(void **state)
{
	struct audit_verify_result	 res;
	struct audit			*a;
	char				 ctl[40], big[10000], *buf;
	const unsigned char		*u;
	size_t				 len, i, lines = 0;

	(void)state;
	for (i = 0; i < 31; i++)
		ctl[i] = (char)(i + 1);
	ctl[31] = 0x7f;
	ctl[32] = '\0';
	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	a = t_open(t_path, T_WALL0);
	assert_int_equal(audit_policy_reject(a, T_WALL0, 0, "K\"O\\R",
	    "a\"b\\c\nd", NULL, ctl), 0);
	assert_int_equal(audit_policy_reject(a, T_WALL0, 0,
	    "\xff\xfe", "\xc0\x80|\xed\xa0\x80|\x80|\xe2\x82",
	    "caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x9a\x80", big), 0);
	assert_int_equal(audit_retraction(a, T_WALL0, 0, big, 1, big, big, 2),
	    0);
	assert_int_equal(audit_close(a, T_WALL0, 0), 0);
	assert_int_equal(audit_verify_file(t_path, NULL, &res), 0);
	assert_int_equal(res.records, 5);
	buf = t_slurp(t_path, &len);
	u = (const unsigned char *)buf;
	for (i = 0; i < len; i++) {
		lines += u[i] == '\n';
		assert_false(u[i] < 0x20 && u[i] != '\n');
		assert_false(u[i] == 0x7f || u[i] == 0xff || u[i] == 0xfe ||
		    u[i] == 0xc0);
	}
	assert_int_equal(lines, 5);
	assert_non_null(strstr(buf, "\"owner\":\"K\\\"O\\\\R\""));
	assert_non_null(strstr(buf, "\"file\":\"a\\\"b\\\\c\\u000ad\""));
	assert_non_null(strstr(buf, "\\u0001\\u0002"));
	assert_non_null(strstr(buf, "\\u001f\\u007f\""));
	assert_non_null(strstr(buf, "\"owner\":\"\\ufffd\\ufffd\""));
	assert_non_null(strstr(buf, "\"file\":\"\\ufffd\\ufffd|"
	    "\\ufffd\\ufffd\\ufffd|\\ufffd|\\ufffd\\ufffd\""));
	assert_non_null(strstr(buf, "caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x9a\x80"));
	free(buf);
}

/*
 * The documented durability: audit_open, policy and retraction records are
 * synced before the call returns; counts only by audit_sync(). A failed
 * fdatasync fails the log like a failed write.
 */
static void
t_sync_policy(void **state)
{
	struct audit	*a;
	int		 n;

	(void)state;
	t_syncs = 0;
	a = t_open(t_path, T_WALL0);
	assert_int_equal(t_syncs, 1);
	for (n = 0; n < 3; n++)
		assert_int_equal(audit_release_counts(a, T_WALL0, 0, "CC-KOR",
		    "USA/1", 5, 0), 0);
	assert_int_equal(t_syncs, 1);
	assert_int_equal(audit_sync(a), 0);
	assert_int_equal(audit_sync(a), 0);
	assert_int_equal(t_syncs, 2);
	assert_int_equal(audit_policy_load(a, T_WALL0, 0, "USA", "u.yaml", 2,
	    "ab"), 0);
	assert_int_equal(audit_retraction(a, T_WALL0, 0, "CC-JPN", 9, "area",
	    "USA", 2), 0);
	assert_int_equal(audit_policy_reject(a, T_WALL0, 0, "JPN", "j.yaml",
	    NULL, "expired"), 0);
	assert_int_equal(t_syncs, 5);
	t_sync_errno = EIO;
	assert_int_equal(audit_policy_load(a, T_WALL0, 0, "USA", "u.yaml", 3,
	    "cd"), -1);
	t_sync_errno = 0;
	assert_true(audit_failed(a));
	assert_int_equal(audit_close(a, T_WALL0, 0), -1);
	assert_int_equal(t_syncs, 6);
}

/* Same calls, same bytes: the module reads no clock and no randomness. */
static void
t_deterministic(void **state)
{
	char	*x, *y;
	size_t	 xl, yl;

	(void)state;
	t_chain(t_path, 20);
	t_chain(t_copy, 20);
	x = t_slurp(t_path, &xl);
	y = t_slurp(t_copy, &yl);
	assert_int_equal(xl, yl);
	assert_memory_equal(x, y, xl);
	free(x);
	free(y);
}

/* Files that are not audit logs at all are refused, never crash. */
static void
t_not_a_log(void **state)
{
	struct audit_verify_result	res;
	char				big[3 * AUDIT_LINE_MAX];

	(void)state;
	t_spit(t_copy, "", 0);
	assert_int_equal(audit_verify_file(t_copy, NULL, &res), 0);
	assert_int_equal(res.records, 0);
	t_spit(t_copy, "hello\n", 6);
	assert_int_equal(audit_verify_file(t_copy, NULL, &res), -1);
	assert_int_equal(res.fault, AUDIT_BAD_JSON);
	assert_int_equal(res.record, 1);
	t_spit(t_copy, "{\"seq\":1}\n", 10);
	assert_int_equal(audit_verify_file(t_copy, NULL, &res), -1);
	assert_int_equal(res.fault, AUDIT_BAD_JSON);
	memset(big, 'a', sizeof(big));
	t_spit(t_copy, big, sizeof(big));
	assert_int_equal(audit_verify_file(t_copy, NULL, &res), -1);
	assert_int_equal(res.fault, AUDIT_BAD_JSON);
	assert_int_equal(audit_verify_file("/nonexistent/a.log", NULL, &res),
	    -1);
	assert_int_equal(res.fault, AUDIT_IO);
}

/* audit_sha256_file matches the FIPS 180-2 "abc" vector; -1 if missing. */
static void
t_sha256_file(void **state)
{
	char	p[160], hex[AUDIT_HASH_HEX];

	(void)state;
	snprintf(p, sizeof(p), "%s/policy.yaml", t_dir);
	t_spit(p, "abc", 3);
	assert_int_equal(audit_sha256_file(p, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(audit_sha256_file("/nonexistent/p.yaml", hex), -1);
}

/* Run every test in a fresh directory. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_chain_verifies, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(t_canonical_form, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(t_every_byte, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(t_truncated, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(t_deleted_line, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(t_spliced, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(t_reopen, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(t_reopen_refused, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(t_write_failure, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(t_hostile_strings, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(t_sync_policy, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(t_deterministic, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(t_not_a_log, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(t_sha256_file, t_setup,
		    t_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
