/*
 * outbuf.c: buffered output to a file descriptor.
 *
 * A failed write is remembered rather than reported at each call, so a
 * caller checks once, at outbuf_flush(), and names the file it was writing.
 */
#include "outbuf.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void	outbuf_drain(struct outbuf *);

void
outbuf_init(struct outbuf *o, int fd)
{
	o->fd = fd;
	o->failed = 0;
	o->used = 0;
}

static void
outbuf_drain(struct outbuf *o)
{
	size_t off = 0;
	ssize_t n;

	while (off < o->used && !o->failed) {
		n = write(o->fd, o->buf + off, o->used - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			o->failed = 1;
			break;
		}
		off += (size_t)n;
	}
	o->used = 0;
}

void
outbuf_mem(struct outbuf *o, const void *p, size_t n)
{
	const char *s = p;
	size_t k;

	while (n > 0) {
		if (o->used == sizeof(o->buf))
			outbuf_drain(o);
		k = sizeof(o->buf) - o->used;
		if (k > n)
			k = n;
		memcpy(o->buf + o->used, s, k);
		o->used += k;
		s += k;
		n -= k;
	}
}

void
outbuf_str(struct outbuf *o, const char *s)
{
	outbuf_mem(o, s, strlen(s));
}

void
outbuf_char(struct outbuf *o, char c)
{
	if (o->used == sizeof(o->buf))
		outbuf_drain(o);
	o->buf[o->used++] = c;
}

void
outbuf_u64(struct outbuf *o, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	outbuf_mem(o, tmp + i, sizeof(tmp) - i);
}

void
outbuf_i64(struct outbuf *o, int64_t v)
{
	if (v < 0) {
		outbuf_char(o, '-');
		outbuf_u64(o, (uint64_t)0 - (uint64_t)v);
	} else
		outbuf_u64(o, (uint64_t)v);
}

void
outbuf_json_str(struct outbuf *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;
	unsigned char c;
	char esc[6];

	outbuf_char(o, '"');
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		outbuf_mem(o, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':  outbuf_mem(o, "\\\"", 2); break;
		case '\\': outbuf_mem(o, "\\\\", 2); break;
		case '\n': outbuf_mem(o, "\\n", 2); break;
		case '\r': outbuf_mem(o, "\\r", 2); break;
		case '\t': outbuf_mem(o, "\\t", 2); break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			outbuf_mem(o, esc, 6);
		}
	}
	outbuf_mem(o, s + run, n - run);
	outbuf_char(o, '"');
}

int
outbuf_flush(struct outbuf *o)
{
	outbuf_drain(o);
	return o->failed ? -1 : 0;
}
