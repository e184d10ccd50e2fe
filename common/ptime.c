/*
 * ptime.c: timestamp parsing for the accounting stream.
 *
 * PowerMTA writes local time with an explicit offset ("2019-02-08
 * 21:54:05+0000", "... -0700"), older versions UNIX seconds.  Both are
 * parsed by hand: strptime/timegm depend on the locale and TZ environment,
 * and are far slower than the arithmetic (days_from_civil, after Howard
 * Hinnant's public-domain algorithm).  A value that is present but wrong in
 * any field is refused, never guessed.
 */
#include "ptime.h"
#include "bounds.h"

#include <stdio.h>
#include <string.h>

static int	ptime_digits(const char *, size_t, unsigned *);

int64_t
ptime_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
ptime_digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
ptime_mdays(unsigned y, unsigned m)
{
	static const unsigned char mdays[12] =
	    { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return mdays[m - 1];
}

int
ptime_parse(const char *s, size_t n, int64_t *out)
{
	unsigned y, mo, d, h, mi, se, oh, om;
	int64_t t, off;
	size_t i;

	if (n >= 1 && n <= 12 && s[0] != '-') {
		for (i = 0, t = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				break;
			t = t * 10 + (s[i] - '0');
		}
		if (i == n) {
			if (t >= MTA_MAX_TIME)
				return -1;
			*out = t;
			return 0;
		}
	}
	/* "YYYY-MM-DD HH:MM:SS" then "+hhmm" or "+hh:mm" */
	if (n != 24 && n != 25)
		return -1;
	if (s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
	    s[13] != ':' || s[16] != ':' || (s[19] != '+' && s[19] != '-'))
		return -1;
	if (ptime_digits(s, 4, &y) || ptime_digits(s + 5, 2, &mo) ||
	    ptime_digits(s + 8, 2, &d) || ptime_digits(s + 11, 2, &h) ||
	    ptime_digits(s + 14, 2, &mi) || ptime_digits(s + 17, 2, &se) ||
	    ptime_digits(s + 20, 2, &oh))
		return -1;
	if (n == 24) {
		if (ptime_digits(s + 22, 2, &om))
			return -1;
	} else {
		if (s[22] != ':' || ptime_digits(s + 23, 2, &om))
			return -1;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > (unsigned)ptime_mdays(y, mo) || h > 23 || mi > 59 || se > 60 ||
	    oh > 18 || om > 59)
		return -1;
	if (se == 60)
		se = 59;	/* a leap second stays in its minute */
	off = (int64_t)oh * 3600 + (int64_t)om * 60;
	if (s[19] == '-')
		off = -off;
	t = ptime_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 +
	    (int64_t)mi * 60 + se - off;
	if (t < 0 || t >= MTA_MAX_TIME)
		return -1;	/* outside what the collector accepts */
	*out = t;
	return 0;
}

int
ptime_parse_day(const char *s, int64_t *days)
{
	unsigned y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    ptime_digits(s, 4, &y) || ptime_digits(s + 5, 2, &m) ||
	    ptime_digits(s + 8, 2, &d) || y < 1970 || m < 1 || m > 12 ||
	    d < 1 || d > (unsigned)ptime_mdays(y, m))
		return -1;
	*days = ptime_days_from_civil(y, m, d);
	return 0;
}

void
ptime_format_iso(int64_t t, char *buf)
{
	int64_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;

	days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	secs = t - days * 86400;
	/* civil_from_days */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m,
	    (int)d, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}
