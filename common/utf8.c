/*
 * utf8.c: UTF-8 validation and repair for strings bound for the wire.
 *
 * protobuf requires string fields to hold valid UTF-8, and PowerMTA copies
 * remote servers' replies into dsnDiag verbatim, so anything may arrive.
 * The validator follows RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF.  The ASCII check is separate so the hot path can skip the
 * copy for the overwhelmingly common plain-ASCII field.
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static size_t	utf8_seqlen(const unsigned char *, size_t);

int
utf8_is_plain(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

#ifdef __SSE2__
	/* High bit set or NUL, sixteen bytes at a time. */
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)
		    (p + i));
		if (_mm_movemask_epi8(_mm_or_si128(v,
		    _mm_cmpeq_epi8(v, _mm_setzero_si128()))) != 0)
			return 0;
	}
#endif
	for (; i < n; i++)
		if (p[i] == 0 || p[i] >= 0x80)
			return 0;
	return 1;
}

/* Length of the valid sequence starting at p, or 0 if it is invalid. */
static size_t
utf8_seqlen(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (n >= 2 && (p[1] & 0xc0) == 0x80)
			return 2;
		return 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0;	/* overlong */
		if (c == 0xed && p[1] >= 0xa0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0;	/* overlong */
		if (c == 0xf4 && p[1] >= 0x90)
			return 0;	/* above U+10FFFF */
		return 4;
	}
	return 0;
}

int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;

	while (i < n) {
		if (p[i] == 0 || (len = utf8_seqlen(p + i, n - i)) == 0)
			return 0;
		i += len;
	}
	return 1;
}

size_t
utf8_sanitize(char *dst, size_t max, const char *s, size_t n)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, len;

	while (i < n) {
		if (p[i] == 0) {
			i++;
			continue;
		}
		len = utf8_seqlen(p + i, n - i);
		if (len == 0) {
			if (o + 3 > max)
				break;
			memcpy(dst + o, repl, 3);
			o += 3;
			i++;
			continue;
		}
		if (o + len > max)
			break;
		memcpy(dst + o, p + i, len);
		o += len;
		i += len;
	}
	return o;
}

size_t
utf8_truncate(const char *s, size_t n, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;

	if (n <= max)
		return n;
	n = max;
	/* Step back over continuation bytes to a character boundary. */
	while (n > 0 && (p[n] & 0xc0) == 0x80)
		n--;
	return n;
}
