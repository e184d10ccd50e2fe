/*
 * ptime.h: timestamps -> UTC seconds and back, without libc's locale or
 * time zone machinery.
 */
#ifndef MTASCOPE_PTIME_H
#define MTASCOPE_PTIME_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse "YYYY-MM-DD HH:MM:SS+hhmm" (any offset; "+hh:mm" accepted too) or
 * UNIX seconds.  Returns 0 and sets *out, or -1 if s[0..n) is neither or
 * falls outside 1970 .. MTA_MAX_TIME (common/bounds.h).
 */
int	ptime_parse(const char *s, size_t n, int64_t *out);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t	ptime_days_from_civil(int64_t y, unsigned m, unsigned d);

/* "YYYY-MM-DD" -> days since 1970-01-01; -1 if malformed. */
int	ptime_parse_day(const char *s, int64_t *days);

/* Format UTC seconds as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 32 bytes). */
void	ptime_format_iso(int64_t t, char *buf);

#endif
