/*
 * sender.h: deliver spooled batches to mtascoped (disk -> network).
 */
#ifndef MTASCOPE_SENDER_H
#define MTASCOPE_SENDER_H

#include <stdint.h>

#include "spool.h"

#define SENDER_DEFAULT_CONTEXTS	4

struct sender_stats {
	uint64_t	acked;		/* batches acknowledged */
	uint64_t	rejected;	/* refused by the collector for good */
	uint64_t	rejected_records;
	uint64_t	retries;
};

struct sender;

struct sender	*sender_start(const char *url, struct spool *, int contexts);
/* Stop the threads (call spool_shutdown() first); frames in flight are
 * given back to the spool unsent. */
void		 sender_stop(struct sender *);
void		 sender_get_stats(struct sender *, struct sender_stats *);

#endif
