/*
 * Operator log: one line per event, "TIMESTAMP LEVEL subject: facts".
 * Callers write the subject and key=value facts themselves, e.g.
 *   log_info("feed: connected sensor=%s nation=%s peer=%s", ...);
 * Debug lines carry __func__ through log_debug().
 */
#ifndef TRACKFUSE_LOG_H
#define TRACKFUSE_LOG_H

#include <stdarg.h>

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif

/* log.c */
/* foreground != 0 logs to stderr; otherwise to path (append), or stderr if NULL. */
int	log_init(int foreground, int verbose, const char *path);
void	log_setverbose(int);
int	log_getverbose(void);
int	log_reopen(void);
void	log_close(void);
void	log_setprocname(const char *);
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug_(const char *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
__dead void fatal(const char *, ...) __attribute__((format(printf, 1, 2)));
__dead void fatalx(const char *, ...) __attribute__((format(printf, 1, 2)));

#define log_debug(...)	log_debug_(__func__, __VA_ARGS__)

#endif
