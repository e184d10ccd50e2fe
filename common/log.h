/*
 * log.h: diagnostics for mtascope programs, in the OpenSMTPD manner.
 *
 * log_warn() appends strerror(errno); log_warnx() does not.  fatal() and
 * fatalx() are for broken invariants and unrecoverable setup errors only:
 * bad input is reported and survived, never fatal.  Lines go to stderr,
 * or to syslog once log_to_syslog() is called (a pipe started by PowerMTA
 * has no terminal anyone reads).
 */
#ifndef MTASCOPE_LOG_H
#define MTASCOPE_LOG_H

#include <stdarg.h>

void log_init(const char *progname, int verbose);
/* From now on, log to syslog (facility mail) instead of stderr. */
void log_to_syslog(void);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
