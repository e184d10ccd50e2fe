/*
 * validate.h: decode a Batch frame from the network and refuse anything
 * the rest of the collector must not see.
 */
#ifndef MTASCOPE_VALIDATE_H
#define MTASCOPE_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "mtascope.pb-c.h"

/*
 * Returns the decoded batch, every bound checked, or NULL with a one-line
 * reason in why and, when the frame named a plausible one, the sender's
 * host name in host (else "?").  Free the result with validate_free().
 */
Mtascope__V1__Batch	*validate_batch(const uint8_t *, size_t, char *why,
			    size_t whylen, char *host, size_t hostlen);
void			 validate_free(Mtascope__V1__Batch *);

#endif
