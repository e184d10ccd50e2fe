/*
 * testutil.h: small helpers shared by the unit tests.
 *
 * A memory source for the CSV reader that can hand out its bytes in chunks
 * of any size and interleave EAGAIN, so every parsing case is exercised
 * across read boundaries; an independent UTF-8 validator (RFC 3629), so the
 * tests do not trust the code they check; and byte-exact comparisons for
 * the (pointer, length) strings the record path hands out.
 */
#ifndef MTASCOPE_TESTUTIL_H
#define MTASCOPE_TESTUTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

/* Length of a string literal, NUL bytes inside it included. */
#define LIT_LEN(s)	(sizeof(s) - 1)

#define CHUNK_WHOLE	((size_t)-1)

struct memsrc {
	const char	*data;
	size_t		 len;
	size_t		 off;
	size_t		 chunk;		/* at most this many bytes per read */
	int		 again;		/* fail before every real read */
	int		 again_errno;	/* with this errno; 0: EAGAIN */
	int		 toggle;
	int		 fail_errno;	/* once the data is gone, fail so */
	unsigned	 reads;
	unsigned	 agains;
};

static inline void
memsrc_init(struct memsrc *m, const char *data, size_t len, size_t chunk,
    int again)
{
	memset(m, 0, sizeof(*m));
	m->data = data;
	m->len = len;
	m->chunk = chunk;
	m->again = again;
}

static inline ssize_t
memsrc_read(void *arg, char *buf, size_t len)
{
	struct memsrc *m = arg;
	size_t n;

	if (m->again && (m->toggle ^= 1)) {
		m->agains++;
		errno = m->again_errno != 0 ? m->again_errno : EAGAIN;
		return -1;
	}
	m->reads++;
	n = m->len - m->off;
	if (n == 0 && m->fail_errno != 0) {
		errno = m->fail_errno;
		return -1;
	}
	if (n > m->chunk)
		n = m->chunk;
	if (n > len)
		n = len;
	memcpy(buf, m->data + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

/*
 * RFC 3629 well-formedness, written independently of common/utf8.c:
 * no overlong forms, no surrogates, nothing above U+10FFFF.  NUL bytes are
 * refused too, since the wire strings must not carry them.
 */
static inline int
test_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, need;
	uint32_t cp, min;

	while (i < n) {
		unsigned char c = p[i];

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			need = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (i + need >= n)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* Show bytes readably in a failure message. */
static inline void
test_show(char *out, size_t cap, const char *p, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

static inline void
test_bytes_eq(const char *got, size_t gotn, const char *want, size_t wantn,
    const char *file, int line)
{
	char g[512], w[512];

	if (gotn == wantn && (wantn == 0 || memcmp(got, want, wantn) == 0))
		return;
	test_show(g, sizeof(g), got, gotn);
	test_show(w, sizeof(w), want, wantn);
	print_error("got \"%s\" (%zu bytes), want \"%s\" (%zu bytes)\n",
	    g, gotn, w, wantn);
	_fail(file, line);
}

/* A (p, n) pair equals a C string, or a literal that may hold NULs. */
#define assert_bytes(p, n, want) \
	test_bytes_eq((p), (n), (want), strlen(want), __FILE__, __LINE__)
#define assert_bytes_lit(p, n, lit) \
	test_bytes_eq((p), (n), (lit), LIT_LEN(lit), __FILE__, __LINE__)
#define assert_slice(s, want)	assert_bytes((s).p, (s).n, (want))

#endif
