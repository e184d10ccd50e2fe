/*
 * sim_out.c - output buffers and the number and date formatting they need.
 *
 * Every CSV stream and truth file is written through a struct sim_out: a
 * large buffer flushed with write(2), retried on EINTR and short writes, and
 * fatal (with the file name) on any other error, because a silently short
 * stream would make the truth files lie.  Formatting is locale-free and
 * printf-free: decimal digits come two at a time from sim_digits2, dates
 * from Howard Hinnant's civil-calendar arithmetic.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

const char sim_digits2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

void
out_init(struct sim_out *o, size_t cap)
{
	memset(o, 0, sizeof(*o));
	o->buf = sim_alloc(cap, 1);
	o->cap = cap;
	o->fd = -1;
}

void
out_free(struct sim_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

static void
write_all(struct sim_out *o, const char *buf, size_t len)
{
	size_t at = 0;

	while (at < len) {
		ssize_t n = write(o->fd, buf + at, len - at);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			sim_fatal(o->path ? o->path : "write", strerror(errno));
		}
		at += (size_t)n;
	}
}

void
out_flush(struct sim_out *o)
{
	write_all(o, o->buf, o->len);
	o->len = 0;
}

void
out_put(struct sim_out *o, const char *s, size_t n)
{
	o->bytes += n;
	if (o->cap - o->len < n) {
		out_flush(o);
		if (n > o->cap) {
			write_all(o, s, n);
			return;
		}
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

void
out_str(struct sim_out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

static const uint64_t pow10s[20] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
	10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
	100000000000ULL, 1000000000000ULL, 10000000000000ULL,
	100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL,
	10000000000000000000ULL,
};

char *
fmt_u64(char *p, uint64_t v)
{
	/* digits = floor(log10(v)) + 1, from the bit length */
	unsigned t = (unsigned)(64 - __builtin_clzll(v | 1)) * 1233 >> 12;
	char *end = p + t + ((v | 1) >= pow10s[t]), *q = end;

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		q -= 2;
		memcpy(q, sim_digits2 + d, 2);
	}
	if (v >= 10) {
		q -= 2;
		memcpy(q, sim_digits2 + v * 2, 2);
	} else
		*--q = (char)('0' + v);
	return end;
}

void
out_u64(struct sim_out *o, uint64_t v)
{
	char tmp[24];

	out_put(o, tmp, (size_t)(fmt_u64(tmp, v) - tmp));
}

/* Howard Hinnant's civil calendar algorithms, proleptic Gregorian. */
int64_t
days_from_civil(int y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

char *
fmt_date(char *p, int64_t z)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	memcpy(p, sim_digits2 + (y / 100 % 100) * 2, 2);
	memcpy(p + 2, sim_digits2 + (y % 100) * 2, 2);
	p[4] = '-';
	memcpy(p + 5, sim_digits2 + m * 2, 2);
	p[7] = '-';
	memcpy(p + 8, sim_digits2 + d * 2, 2);
	return p + 10;
}

