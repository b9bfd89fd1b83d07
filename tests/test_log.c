/*
 * Unit tests for lib/log.c: line format, control-character scrubbing, the
 * length cap, debug gating, log_reopen after a rotation, and fatal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "trackfuse/log.h"

static char	t_dir[64];
static char	t_path[128];

/* Fresh directory and log path per test. */
static int
t_setup(void **state)
{
	(void)state;
	strcpy(t_dir, "/tmp/test_log.XXXXXX");
	if (mkdtemp(t_dir) == NULL)
		return -1;
	snprintf(t_path, sizeof(t_path), "%s/trackfused.log", t_dir);
	umask(022);
	return log_init(0, 0, t_path);
}

/* Back to stderr; remove the files. */
static int
t_teardown(void **state)
{
	char	p[160];

	(void)state;
	log_close();
	unlink(t_path);
	snprintf(p, sizeof(p), "%s.1", t_path);
	unlink(p);
	rmdir(t_dir);
	return 0;
}

/* Read the whole file at path into a static buffer. */
static const char *
t_read(const char *path)
{
	static char	buf[16384];
	FILE		*f;
	size_t		 n;

	buf[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Number of newline characters in s. */
static int
t_lines(const char *s)
{
	int	n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* Fail unless s matches the extended regex re. */
static void
t_match(const char *s, const char *re)
{
	regex_t	r;
	int	rc;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	rc = regexec(&r, s, 0, NULL, 0);
	regfree(&r);
	if (rc != 0)
		fail_msg("\"%s\" does not match /%s/", s, re);
}

#define T_STAMP	"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "

/* "TIMESTAMP info subject: facts" on one line, file mode 0640. */
static void
test_format(void **state)
{
	struct stat	st;

	(void)state;
	log_info("feed: connected sensor=%s nation=%s", "KOR-AEGIS-1", "KOR");
	t_match(t_read(t_path), T_STAMP "info feed: connected "
	    "sensor=KOR-AEGIS-1 nation=KOR\n$");
	assert_int_equal(stat(t_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
}

/* Control bytes from peer strings cannot split a line. */
static void
test_control_chars(void **state)
{
	const char	*s;

	(void)state;
	log_warnx("feed: bad sensor=%s", "EVIL\n2026-01-01T00:00:00.000Z info "
	    "forged\r\t\x1b[0m");
	s = t_read(t_path);
	assert_int_equal(t_lines(s), 1);
	t_match(s, T_STAMP "warn feed: bad sensor=EVIL\\?2026-01-01T00:00:00"
	    "\\.000Z info forged\\?\\?\\?\\[0m\n$");
}

/* log_warn appends strerror(errno) and keeps errno. */
static void
test_warn_errno(void **state)
{
	(void)state;
	errno = ENOENT;
	log_warn("config: open %s", "/nonexistent");
	assert_int_equal(errno, ENOENT);
	t_match(t_read(t_path), T_STAMP "warn config: open /nonexistent: "
	    "No such file or directory\n$");
}

/* Debug lines appear only with verbose and carry the function name. */
static void
test_debug(void **state)
{
	(void)state;
	log_debug("hidden %d", 1);
	assert_string_equal(t_read(t_path), "");
	log_setverbose(1);
	assert_int_equal(log_getverbose(), 1);
	log_debug("shown %d", 2);
	log_setverbose(0);
	t_match(t_read(t_path), T_STAMP "debug test_debug: shown 2\n$");
}

/* A huge message is capped but still ends with a newline. */
static void
test_cap(void **state)
{
	char		big[5000];
	const char	*s;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("big: %s", big);
	log_info("next: ok");
	s = t_read(t_path);
	assert_int_equal(t_lines(s), 2);
	assert_true(strchr(s, '\n') - s + 1 <= 1024);
	assert_true(strchr(s, '\n') - s + 1 >= 1000);
	assert_non_null(strstr(s, "info next: ok\n"));
}

/* After a rotation, log_reopen starts a new file at the same path. */
static void
test_reopen(void **state)
{
	char	old[160];

	(void)state;
	snprintf(old, sizeof(old), "%s.1", t_path);
	log_info("rotate: before");
	assert_int_equal(rename(t_path, old), 0);
	log_info("rotate: still old");
	assert_int_equal(log_reopen(), 0);
	log_info("rotate: after");
	assert_int_equal(t_lines(t_read(old)), 2);
	t_match(t_read(t_path), T_STAMP "info rotate: after\n$");
}

/* fatalx logs and exits 1. */
static void
test_fatal(void **state)
{
	pid_t	pid;
	int	status;

	(void)state;
	if ((pid = fork()) == 0)
		fatalx("main: broken invariant n=%d", 3);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	t_match(t_read(t_path), T_STAMP "fatal main: broken invariant n=3\n$");
}

/* Run every test of this module. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_control_chars, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_warn_errno, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_debug, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_cap, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_reopen, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_fatal, t_setup,
		    t_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
