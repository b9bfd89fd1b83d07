/*
 * Operator log. Every line is "TIMESTAMP LEVEL message", formatted in full
 * into one buffer and handed to the kernel with a single write(2): lines
 * from several processes appending to the same file never interleave, and
 * an operator running tail -f sees each event the moment it happens.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "trackfuse/log.h"

#define LOG_LINE_MAX	1024

static int		 log_fd = STDERR_FILENO;
static int		 log_verbose;
static char		*log_path;
static const char	*log_procname;
static int		 log_syslog;	/* detached without a log file */

/* Open path for appending; the fd or -1. */
static int
log_open(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/*
 * Direct the log to stderr (foreground), to path, or, for a detached daemon
 * with no log file, to syslog(3): a daemon's stderr goes nowhere once it
 * has detached. -1 (errno set) if path cannot open.
 */
int
log_init(int foreground, int verbose, const char *path)
{
	int	fd;

	log_verbose = verbose;
	if (foreground) {
		log_close();
		return 0;
	}
	if (path == NULL) {
		log_close();
		openlog(log_procname ? log_procname : "trackfuse",
		    LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_syslog = 1;
		return 0;
	}
	if ((fd = log_open(path)) == -1)
		return -1;
	log_close();
	if ((log_path = strdup(path)) == NULL) {
		close(fd);
		return -1;
	}
	log_fd = fd;
	return 0;
}

/* Change the verbosity (debug lines appear at 1 and above). */
void
log_setverbose(int v)
{
	log_verbose = v;
}

/* Current verbosity. */
int
log_getverbose(void)
{
	return log_verbose;
}

/*
 * Reopen the log file after logrotate moved it (SIGHUP). The old fd stays
 * in use if the new open fails, so no line is lost to a bad rotation.
 */
int
log_reopen(void)
{
	int	fd;

	if (log_path == NULL)
		return 0;
	if ((fd = log_open(log_path)) == -1)
		return -1;
	close(log_fd);
	log_fd = fd;
	return 0;
}

/* Go back to stderr, closing a log file if one is open. */
void
log_close(void)
{
	if (log_fd != STDERR_FILENO && log_fd != -1)
		close(log_fd);
	if (log_syslog)
		closelog();
	log_syslog = 0;
	log_fd = STDERR_FILENO;
	free(log_path);
	log_path = NULL;
}

/* Remember the process name (the syslog ident; not part of the line format). */
void
log_setprocname(const char *name)
{
	log_procname = name;
}

/* Write "2026-11-29T01:02:03.456Z " into buf; returns its length. */
static size_t
log_stamp(char *buf, size_t len)
{
	struct timespec	ts;
	struct tm	tm;
	char		day[32];
	int		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(buf, len, "%s.%03ldZ ", day, ts.tv_nsec / 1000000L);
	if (n < 0)
		return 0;
	return (size_t)n >= len ? len - 1 : (size_t)n;
}

/* syslog(3) priority of one of our level names. */
static int
log_priority(const char *level)
{
	switch (level[0]) {
	case 'd':
		return LOG_DEBUG;
	case 'w':
		return LOG_WARNING;
	case 'f':
		return LOG_CRIT;
	default:
		return LOG_INFO;
	}
}

static void log_vline(const char *, const char *, int, const char *,
    va_list) __attribute__((format(printf, 4, 0)));

/*
 * Format one line and write it at once. Peer-supplied strings end up in
 * messages, so any control byte is replaced: a newline from a peer must not
 * forge a second log line. Lines are capped at LOG_LINE_MAX.
 */
static void
log_vline(const char *level, const char *func, int err, const char *fmt,
    va_list ap)
{
	char	buf[LOG_LINE_MAX];
	size_t	len, stamp, i;
	int	n, saved = errno;

	len = stamp = log_stamp(buf, sizeof(buf) - 1);
	n = snprintf(buf + len, sizeof(buf) - 1 - len, "%s %s%s", level,
	    func ? func : "", func ? ": " : "");
	if (n > 0)
		len += (size_t)n;
	if (len < sizeof(buf) - 1) {
		n = vsnprintf(buf + len, sizeof(buf) - 1 - len, fmt, ap);
		if (n > 0)
			len += (size_t)n;
	}
	if (err && len < sizeof(buf) - 1) {
		n = snprintf(buf + len, sizeof(buf) - 1 - len, ": %s",
		    strerror(err));
		if (n > 0)
			len += (size_t)n;
	}
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20)
			buf[i] = '?';
	if (log_syslog) {
		/* syslog stamps the line itself. */
		buf[len] = '\0';
		syslog(log_priority(level), "%s", buf + stamp);
		errno = saved;
		return;
	}
	buf[len++] = '\n';
	if (write(log_fd, buf, len) == -1) {
		/* Nowhere left to report it: drop the line. */
	}
	errno = saved;
}

/* An ordinary event. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline("info", NULL, 0, fmt, ap);
	va_end(ap);
}

/* A problem caused by a failed call: appends strerror(errno). */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	err = errno;

	va_start(ap, fmt);
	log_vline("warn", NULL, err, fmt, ap);
	va_end(ap);
}

/* A problem without an errno (bad peer input, refused config). */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline("warn", NULL, 0, fmt, ap);
	va_end(ap);
}

/* Debug line prefixed by the calling function; only with verbose >= 1. */
void
log_debug_(const char *func, const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_vline("debug", func, 0, fmt, ap);
	va_end(ap);
}

/* Log an impossible failure with strerror(errno) and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	err = errno;

	va_start(ap, fmt);
	log_vline("fatal", NULL, err, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log a broken invariant or start-up failure and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline("fatal", NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
