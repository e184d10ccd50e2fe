/*
 * utf8.h: make untrusted bytes safe to put on the wire as a protobuf string.
 */
#ifndef MTASCOPE_UTF8_H
#define MTASCOPE_UTF8_H

#include <stddef.h>

/* Non-zero when s[0..n) is plain ASCII without NUL: the common case. */
int	utf8_is_plain(const char *s, size_t n);

/*
 * Copy s[0..n) to dst as valid UTF-8 of at most max bytes: NUL bytes are
 * dropped, each invalid sequence becomes U+FFFD, and truncation never
 * splits a character.  dst must hold max bytes.  Returns the length.
 */
size_t	utf8_sanitize(char *dst, size_t max, const char *s, size_t n);

/* Non-zero when s[0..n) is valid UTF-8 without NUL bytes. */
int	utf8_valid(const char *s, size_t n);

/* Length of the longest prefix of s[0..n) of at most max bytes that does
 * not end inside a UTF-8 sequence (s is assumed valid). */
size_t	utf8_truncate(const char *s, size_t n, size_t max);

#endif
