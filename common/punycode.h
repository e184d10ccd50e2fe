/*
 * punycode.h: IDNA A-labels ("xn--...") to UTF-8, so that a domain written
 * in either form (bücher.de, xn--bcher-kva.de) is one domain.
 */
#ifndef MTASCOPE_PUNYCODE_H
#define MTASCOPE_PUNYCODE_H

#include <stddef.h>

/*
 * Decode the Punycode of one label (the text after "xn--") into UTF-8 at
 * out (room for cap bytes).  Returns the length, or -1 if the input is
 * not valid Punycode (the caller then keeps the label as written).
 */
int	punycode_decode(const char *in, size_t n, char *out, size_t cap);

/*
 * Copy the domain s[0..n) to out (cap bytes), each "xn--" label decoded.
 * Returns the length written.
 */
size_t	punycode_domain(const char *s, size_t n, char *out, size_t cap);

#endif
