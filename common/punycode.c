/*
 * punycode.c: the decoding half of RFC 3492, for domain labels.
 *
 * Mail logs carry internationalized domains in whichever form the sender
 * used: UTF-8 (SMTPUTF8) or the ASCII-compatible "xn--" form.  Counting
 * them per domain needs one form; the Unicode one is what an operator
 * reads.  Only decoding is needed, and only of short labels (at most 63
 * code points), so the output is built in a small array.  Anything that
 * is not valid Punycode, or decodes to something that is not a Unicode
 * scalar value, is refused and the label kept as written.
 */
#include "punycode.h"

#include <stdint.h>
#include <string.h>

#define BASE		36
#define TMIN		1
#define TMAX		26
#define SKEW		38
#define DAMP		700
#define INITIAL_BIAS	72
#define INITIAL_N	128
#define MAX_POINTS	64

static uint32_t	adapt(uint32_t, uint32_t, int);
static int	digit_of(char);
static size_t	utf8_put(uint32_t, char *);

static uint32_t
adapt(uint32_t delta, uint32_t points, int first)
{
	uint32_t k = 0;

	delta = first ? delta / DAMP : delta / 2;
	delta += delta / points;
	while (delta > ((BASE - TMIN) * TMAX) / 2) {
		delta /= BASE - TMIN;
		k += BASE;
	}
	return k + (BASE - TMIN + 1) * delta / (delta + SKEW);
}

static int
digit_of(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0' + 26;
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	return -1;
}

static size_t
utf8_put(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int
punycode_decode(const char *in, size_t n, char *out, size_t cap)
{
	uint32_t cp[MAX_POINTS], code = INITIAL_N, bias = INITIAL_BIAS;
	uint32_t i = 0, oldi, w, k, t, npts = 0;
	size_t b = 0, j, p, len;
	int d;

	/* Basic code points are those before the last delimiter. */
	for (j = 0; j < n; j++)
		if (in[j] == '-')
			b = j;
	if (b > 0 || (n > 0 && in[0] == '-')) {
		if (b >= MAX_POINTS)
			return -1;
		for (j = 0; j < b; j++) {
			if ((unsigned char)in[j] >= 0x80)
				return -1;
			cp[npts++] = (unsigned char)in[j];
		}
		p = b + 1;
	} else
		p = 0;
	while (p < n) {
		oldi = i;
		for (w = 1, k = BASE;; k += BASE) {
			if (p >= n || (d = digit_of(in[p++])) < 0)
				return -1;
			if ((uint32_t)d > (UINT32_MAX - i) / w)
				return -1;
			i += (uint32_t)d * w;
			t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX :
			    k - bias;
			if ((uint32_t)d < t)
				break;
			if (w > UINT32_MAX / (BASE - t))
				return -1;
			w *= BASE - t;
		}
		if (npts >= MAX_POINTS - 1)
			return -1;
		bias = adapt(i - oldi, npts + 1, oldi == 0);
		if (i / (npts + 1) > 0x10ffff - code)
			return -1;
		code += i / (npts + 1);
		i %= npts + 1;
		if (code < 0x80 || code > 0x10ffff ||
		    (code >= 0xd800 && code <= 0xdfff))
			return -1;
		memmove(cp + i + 1, cp + i, (npts - i) * sizeof(*cp));
		cp[i++] = code;
		npts++;
	}
	if (npts == b)
		return -1;	/* nothing but ASCII: not an A-label */
	for (j = 0, len = 0; j < npts; j++) {
		char tmp[4];
		size_t m = utf8_put(cp[j], tmp);

		if (len + m > cap)
			return -1;
		memcpy(out + len, tmp, m);
		len += m;
	}
	return (int)len;
}

size_t
punycode_domain(const char *s, size_t n, char *out, size_t cap)
{
	const char *label, *dot, *end = s + n;
	size_t o = 0, ln;
	int m;

	for (label = s; label <= end; label = dot + 1) {
		if ((dot = memchr(label, '.', (size_t)(end - label))) == NULL)
			dot = end;
		ln = (size_t)(dot - label);
		if (o > 0 && o < cap)
			out[o++] = '.';
		m = -1;
		if (ln > 4 && (label[0] == 'x' || label[0] == 'X') &&
		    (label[1] == 'n' || label[1] == 'N') && label[2] == '-' &&
		    label[3] == '-')
			m = punycode_decode(label + 4, ln - 4, out + o, cap - o);
		if (m >= 0)
			o += (size_t)m;
		else {
			if (ln > cap - o)
				ln = cap - o;
			memcpy(out + o, label, ln);
			o += ln;
		}
		if (dot == end)
			break;
	}
	return o;
}
